#!/usr/bin/env python3
"""Tests of scripts/vmafuzz_triage.py with fake replay drivers (no build):
signatures, grouping, labels (new / known / seed), the deduplicating
ThreadSanitizer replay, atomic writes and the merge's recovery after a kill.
Run: python3 tests/scripts/triage_test.py (ctest: triage_program)."""
import json
import os
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import vmafuzz_triage as vt  # noqa: E402

# A replay driver like TARGET_replay: names each input, then fails on the
# first input whose content starts with "sig:X" (SIGNATURE X) or "race:A:B"
# (a TSan data race between A and B); "pass" inputs pass.
FAKE_REPLAY = r'''#!/bin/sh
# (sh, not Python: a replay per input, and the tests run in three presets)
for f in "$@"; do
  data=$(cat "$f")
  echo "replay: $f (${#data} bytes)"
  word=${data%% *}
  case "$data" in
    sig:*) echo "==vmafuzz== SIGNATURE: ${word#sig:}"; exit 1 ;;
    race:*)
      ab=${word#race:}; a=${ab%%:*}; b=${ab#*:}
      echo "WARNING: ThreadSanitizer: data race (pid=1)"
      echo "  Write of size 8 at 0x1 by thread T1:"
      echo "    #0 $a(int) /src/x.cpp:1:2 (bin+0x1)"
      echo "  Previous read of size 8 at 0x1 by main thread:"
      echo "    #0 $b() /src/x.cpp:3:4 (bin+0x2)"
      echo "SUMMARY: ThreadSanitizer: data race /src/x.cpp:1:2 in $a(int)"
      exit 66 ;;
  esac
done
'''


class SignatureTest(unittest.TestCase):
    def test_vmafuzz_signature_line_wins(self):
        text = "junk\n==vmafuzz== SIGNATURE: detach.count_not_zero||munmap|fault\nSUMMARY: AddressSanitizer: x"
        self.assertEqual(vt.signature_of(text), "detach.count_not_zero||munmap|fault")

    def test_data_race_functions_sorted(self):
        a = "WARNING: ThreadSanitizer: data race\n  Write of size 1 at 0 by T1:\n    #0 zeta(int) /a.cpp:1\n" \
            "  Previous read of size 1 at 0 by T2:\n    #0 alpha() const /b.cpp:2\n"
        b = a.replace("zeta", "TMP").replace("alpha", "zeta").replace("TMP", "alpha")
        self.assertEqual(vt.signature_of(a), "ThreadSanitizer: data race: alpha / zeta")
        self.assertEqual(vt.signature_of(b), vt.signature_of(a))

    def test_sanitizer_summary_and_nothing(self):
        self.assertEqual(vt.signature_of("SUMMARY: AddressSanitizer: heap-use-after-free /x.cpp:3 in f(int)"),
                         "AddressSanitizer: heap-use-after-free in f")
        self.assertEqual(vt.signature_of("all fine"), "")

    def test_site(self):
        self.assertEqual(vt.site_of("o.x|d|munmap|fault"), "o.x|d")
        self.assertEqual(vt.site_of("ThreadSanitizer: data race: a / b"), "ThreadSanitizer: data race: a / b")


class CampaignDir(unittest.TestCase):
    """A fake OUTDIR, seed directory and replay drivers."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        self.out = self.dir / "out"
        self.seeds = self.dir / "seeds"
        self.seeds.mkdir()
        self.replay = self.dir / "replay"
        self.replay.write_text(FAKE_REPLAY)
        self.replay.chmod(0o755)
        self.cli = self.dir / "vmafuzz"  # not run: --no-minimize
        os.environ.pop("VMAFUZZ_INJECT", None)

    def tearDown(self):
        self.tmp.cleanup()

    def put(self, rel, content):
        p = self.dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
        return p

    def begin(self, *extra):
        with mock.patch("sys.stdout"):
            vt.main(["--out", str(self.out), "begin", "--target", "t", "--engine", "libfuzzer",
                     "--seed-dir", str(self.seeds), "--replay", str(self.replay), "--cli", str(self.cli), *extra])

    def triage(self, *extra):
        return vt.main(["--out", str(self.out), "triage", "--replay", str(self.replay), "--cli", str(self.cli),
                        "--no-minimize", *extra])

    def state(self):
        return json.loads((self.out / "triage.json").read_text())

    def by_sig(self):
        return {f["signature"]: f for f in self.state()["findings"]}


class GroupingAndLabelsTest(CampaignDir):
    def test_grouping_sidecars_and_reports(self):
        self.put("seeds/s1", "pass")
        self.begin()
        self.put("out/crashes/crash-1", "sig:a.b||x|y padding")
        self.put("out/crashes/crash-2", "sig:a.b||x|y")
        self.put("out/crashes/crash-3", "sig:c.d||x|y")
        self.put("out/crashes/crash-4", "pass")
        self.triage()
        f = self.by_sig()
        self.assertEqual(set(f), {"a.b||x|y", "c.d||x|y", "does not reproduce in replay"})
        self.assertEqual(f["a.b||x|y"]["crash_files"], ["crashes/crash-2", "crashes/crash-1"])  # smallest first
        self.assertEqual(f["a.b||x|y"]["status"], "new")
        self.assertEqual(f["a.b||x|y"]["oracle"], "a.b")
        side = json.loads((self.out / "crashes/crash-1.json").read_text())
        self.assertEqual((side["vmafuzz_sidecar"], side["signature"]), (1, "a.b||x|y"))
        self.assertEqual(json.loads((self.out / "crashes/crash-4.json").read_text())["signature"], "")
        self.assertIn("SIGNATURE: c.d||x|y", (self.out / f["c.d||x|y"]["report"]).read_text())
        self.assertEqual(self.state()["campaign"]["new_crash_files"], 4)

    def test_seed_known_new_and_exit_codes(self):
        self.put("seeds/s1", "pass")
        self.put("seeds/B09", "sig:bug.x||munmap|fault")
        self.begin()
        view = sorted(p.name for p in (self.out / "seeds").rglob("*"))
        self.assertEqual(view, ["1", "s1"], "the failing seed is kept out of the engine's view")
        self.put("out/crashes/crash-1", "sig:bug.x||munmap|other")  # the same site: the seed's bug
        self.put("out/crashes/crash-2", "sig:new.y||a|b")
        self.triage()
        f = self.by_sig()
        self.assertEqual(f["bug.x||munmap|fault"]["status"], "seed")
        self.assertEqual(f["bug.x||munmap|fault"]["seed"], str(self.seeds / "B09"))
        self.assertEqual(f["bug.x||munmap|other"]["status"], "seed")
        self.assertEqual(f["new.y||a|b"]["status"], "new")
        with mock.patch("sys.stdout"):
            self.assertEqual(vt.main(["--out", str(self.out), "summary"]), 3)
        # The next campaign: the new finding is known, nothing new.
        self.begin()
        self.triage()
        f = self.by_sig()
        self.assertEqual(f["new.y||a|b"]["status"], "known")
        self.assertEqual(self.state()["campaign"]["new_crash_files"], 0)
        with mock.patch("sys.stdout"):
            self.assertEqual(vt.main(["--out", str(self.out), "summary"]), 4)
        (self.seeds / "B09").unlink()
        (self.out / "crashes/crash-1").unlink()
        self.begin()
        self.triage()
        self.assertEqual(set(self.by_sig()), {"new.y||a|b"})
        with mock.patch("sys.stdout"):
            self.assertEqual(vt.main(["--out", str(self.out), "summary"]), 0)

    def test_engine_failure_without_finding_is_exit_1(self):
        log = self.put("engine.log", "INFO: Seed: 1\n")
        self.begin("--log", str(log))
        self.triage()
        with mock.patch("sys.stdout"):
            self.assertEqual(vt.main(["--out", str(self.out), "summary", "--engine-rc", "77"]), 1)
        # libFuzzer stopped at a crash whose file an earlier campaign wrote
        # (the same input, the same name): not an engine failure.
        log.write_text("==1== ERROR: libFuzzer: deadly signal\nTest unit written to ./crash-1\n")
        self.begin("--log", str(log))
        self.triage()
        with mock.patch("sys.stdout"):
            self.assertEqual(vt.main(["--out", str(self.out), "summary", "--engine-rc", "77"]), 0)


class TsanReplayTest(CampaignDir):
    def test_dedups_and_goes_on(self):
        self.begin()
        for i in range(30):  # thirty reports of one race, then a second race
            self.put(f"out/corpus/r{i:02d}", f"race:f:g {i}")
        self.put("out/corpus/z-race2", "race:h:k")
        self.put("out/corpus/z-pass", "pass")
        self.triage("--tsan-replay", str(self.replay), "--tsan-max", "0")
        t = self.state()["campaign"]["tsan"]
        self.assertEqual((t["replayed"], t["reports"], t["unique"], t["note"]), (32, 31, 2, ""))
        f = self.by_sig()
        self.assertEqual(len(f["ThreadSanitizer: data race: f / g"]["crash_files"]), 1, "one file per race")
        self.assertEqual(len(list((self.out / "tsan").glob("tsan-*[0-9a-f]"))), 2)
        self.assertEqual(f["ThreadSanitizer: data race: h / k"]["source"], "tsan-replay")
        # Everything was replayed: a second triage replays nothing.
        self.triage("--tsan-replay", str(self.replay))
        self.assertEqual(self.state()["campaign"]["tsan"]["replayed"], 0)

    def test_stops_after_n_unique(self):
        self.begin()
        for i in range(5):
            self.put(f"out/corpus/a{i}", f"race:f:g {i}")
        self.put("out/corpus/b", "race:h:k")
        self.put("out/corpus/c", "race:m:n")
        self.triage("--tsan-replay", str(self.replay), "--tsan-max", "2")
        t = self.state()["campaign"]["tsan"]
        self.assertEqual(t["unique"], 2)
        self.assertIn("stopped after 2 unique signature(s)", t["note"])
        self.assertIn("1 input(s) not replayed", t["note"])


# libFuzzer's -merge=1 DST SRC as far as the merge step sees it: copies the
# SRC files whose name does not start with "x" into DST; FAIL=1 fails.
FAKE_MERGER = r'''#!/bin/sh
[ -n "$FAIL" ] && exit 1
[ -n "$ARGV_LOG" ] && printf '%s\n' "$@" > "$ARGV_LOG"
dst=$(for a in "$@"; do case "$a" in -*) ;; *) echo "$a" ;; esac; done | sed -n 1p)
src=$(for a in "$@"; do case "$a" in -*) ;; *) echo "$a" ;; esac; done | sed -n 2p)
for f in "$src"/*; do case "${f##*/}" in x*) ;; *) cp "$f" "$dst/" ;; esac; done
'''


class MergeTest(CampaignDir):
    def merge(self, fail=False, flags=(), env=None):
        merger = self.dir / "merger"
        merger.write_text(FAKE_MERGER)
        merger.chmod(0o755)
        with mock.patch.dict(os.environ, dict({"FAIL": "1"} if fail else {}, **(env or {}))):
            vt.main(["--out", str(self.out), "merge", "--engine", "libfuzzer", "--binary", str(merger),
                     *[f"--engine-flag={f}" for f in flags]])

    def test_merge_counts_features_with_the_campaigns_flags(self):
        self.begin()
        for n in ("a", "x1"):
            self.put(f"out/corpus/{n}", f"pass {n}")
        argv = self.dir / "argv"
        self.merge(flags=["-use_counters=0"], env={"ARGV_LOG": str(argv)})
        args = argv.read_text().splitlines()
        self.assertIn("-merge=1", args)
        self.assertIn("-use_counters=0", args)
        # Flags come before the directories: libFuzzer reads every "-" argument as a flag.
        self.assertLess(args.index("-use_counters=0"), args.index(str(self.out / "corpus.merging")))
        self.assertEqual(sorted(os.listdir(self.out / "corpus")), ["a"])

    def test_merge_swaps_in_the_smaller_corpus(self):
        self.begin()
        for n in ("a", "b", "x1", "x2"):
            self.put(f"out/corpus/{n}", f"pass {n}")
        self.triage("--tsan-replay", str(self.replay))
        self.assertEqual(len(self.state()["tsan_replayed"]), 4)
        self.merge(fail=True)  # a failed merge leaves the corpus as it was
        self.assertEqual(sorted(os.listdir(self.out / "corpus")), ["a", "b", "x1", "x2"])
        self.assertIsNone(self.state()["campaign"]["merge"])
        self.merge()
        self.assertEqual(sorted(os.listdir(self.out / "corpus")), ["a", "b"])
        self.assertEqual({k: v for k, v in self.state()["campaign"]["merge"].items() if k != "ended"},
                         {"before": 4, "after": 2})
        self.assertEqual(len(self.state()["tsan_replayed"]), 2, "merged-away inputs leave the TSan record")
        self.assertEqual([p.name for p in self.out.iterdir() if p.name.startswith("corpus")], ["corpus"])


class AtomicTest(unittest.TestCase):
    def test_failed_write_keeps_the_old_file_and_no_temporary(self):
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "triage.json"
            vt.write_json_atomic(p, {"a": 1})
            with mock.patch("os.replace", side_effect=OSError("killed")):
                with self.assertRaises(OSError):
                    vt.write_json_atomic(p, {"a": 2})
            self.assertEqual(json.loads(p.read_text()), {"a": 1})
            self.assertEqual(os.listdir(d), ["triage.json"])

    def test_leftover_temporaries_are_removed(self):
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "findings").mkdir()
            (Path(d) / "findings" / ".x.report.abc.tmp").write_text("half")
            (Path(d) / "findings" / "x.report").write_text("whole")
            vt.remove_temporaries(d)
            self.assertEqual(os.listdir(Path(d) / "findings"), ["x.report"])

    def test_merge_recovery_at_every_step(self):
        """A kill between any two steps of the corpus swap leaves one whole
        corpus: the old one before the merged one is complete, else the new."""
        names = ("corpus", "corpus.merging", "corpus.merged", "corpus.old")
        cases = [  # directories present at the kill -> the corpus recovery keeps
            ({"corpus": "old", "corpus.merging": "half"}, "old"),
            ({"corpus": "old", "corpus.merged": "new"}, "new"),
            ({"corpus.old": "old", "corpus.merged": "new"}, "new"),
            ({"corpus.old": "old", "corpus": "new"}, "new"),
            ({"corpus": "new"}, "new"),
        ]
        for present, want in cases:
            with tempfile.TemporaryDirectory() as d:
                for n, tag in present.items():
                    (Path(d) / n).mkdir()
                    (Path(d) / n / "f").write_text(tag)
                vt.recover_corpus(Path(d))
                self.assertEqual((Path(d) / "corpus" / "f").read_text(), want, present)
                self.assertEqual([n for n in names if (Path(d) / n).exists()], ["corpus"], present)

    def test_merge_on_record_whenever_the_corpus_shrank(self):
        """The merge is on record (ended null) before its commit point: after a
        kill, recovery completes the record if the merged corpus won, and drops
        it if the old one stayed, so no corpus shrinks without a merge on record."""
        cases = [  # directories at the kill -> the record after recovery
            ({"corpus": "old", "corpus.merging": "half"}, None),
            ({"corpus": "old", "corpus.merged": "new"}, "completed"),
            ({"corpus.old": "old", "corpus.merged": "new"}, "completed"),
            ({"corpus.old": "old", "corpus": "new"}, "completed"),
            ({"corpus": "new"}, "completed"),  # killed after corpus.old/ was removed
        ]
        for present, want in cases:
            with tempfile.TemporaryDirectory() as d:
                for n, tag in present.items():
                    (Path(d) / n).mkdir()
                    (Path(d) / n / ("f" + tag)).write_text(tag)
                pending = {"before": 2, "after": 1, "ended": None}
                vt.write_json_atomic(Path(d) / "triage.json",
                                     {"schema": vt.SCHEMA, "campaign": {"merge": pending}, "findings": []})
                vt.recover_corpus(Path(d))
                merge = json.loads((Path(d) / "triage.json").read_text())["campaign"]["merge"]
                if want is None:
                    self.assertIsNone(merge, present)
                else:
                    self.assertIsNotNone(merge["ended"], present)
                    self.assertTrue(merge["completed_after_a_kill"], present)
                    self.assertEqual(merge["after"], 1, present)


# A vmafuzz that logs its arguments; `minimize` writes "sig:X" plus "min" to
# its -o, `convert` copies.
FAKE_CLI = r"""#!/bin/sh
echo "$*" >> "$0.log"
case "$1" in
  minimize) for last; do :; done; printf 'sig:nfc.divergence|d|op| min' > "$last" ;;
  convert) cp "$2" "$3" ;;
esac
"""


class MinimizeTest(CampaignDir):
    def test_fuzz_nfc_findings_are_minimized_as_divergences(self):
        self.cli.write_text(FAKE_CLI)
        self.cli.chmod(0o755)
        self.put("seeds/s1", "pass")
        with mock.patch("sys.stdout"):
            vt.main(["--out", str(self.out), "begin", "--target", "fuzz_nfc", "--engine", "libfuzzer",
                     "--seed-dir", str(self.seeds), "--replay", str(self.replay), "--cli", str(self.cli)])
        self.put("out/crashes/crash-1", "sig:nfc.divergence|d|op| a longer crash file")
        with mock.patch.dict(os.environ, {"VMAFUZZ_NFC_VERSIONS": "post_series,test_wake_write_only"}):
            vt.main(["--out", str(self.out), "triage", "--replay", str(self.replay), "--cli", str(self.cli)])
            f = self.by_sig()["nfc.divergence|d|op|"]
            self.assertIn("diff", f["replay"])
            self.assertIn("--versions post_series,test_wake_write_only", f["replay"])
        calls = Path(str(self.cli) + ".log").read_text().splitlines()
        self.assertTrue(calls[0].startswith("minimize --versions post_series,test_wake_write_only --time "), calls)
        self.assertEqual((self.out / f["minimized"]).read_text(), "sig:nfc.divergence|d|op| min")


if __name__ == "__main__":
    unittest.main()
