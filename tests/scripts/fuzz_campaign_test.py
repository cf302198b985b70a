#!/usr/bin/env python3
"""End-to-end tests of scripts/fuzz with short campaigns (needs the
libfuzzer and tsan presets' builds, which scripts/fuzz makes; scripts/test
runs this in the libfuzzer preset's fuzz checks).

  honest    `scripts/fuzz --inject detach_no_wait`: the finding is reproduced
            by seed B09_detach_no_wait.bin (regression input), exit 4, no NEW,
            no bash job-control noise, libFuzzer gets -use_counters=0; the
            rerun (with the user's -use_counters=1, which replaces the
            default) resumes and reports it known.
  kill      a campaign is killed with SIGKILL (the whole process group) 20
            times at seeded random moments, in rotation just after it starts,
            during the engine, during triage (the replays), during a
            minimization and during the merge; after each
            kill (and the recovery the next run does first) no corpus entry,
            crash file, triage.json finding or minimized file written before
            is lost or half-written; then a run without a kill finishes.
usage: fuzz_campaign_test.py [honest|kill]... (default: both)
exit codes: 0 pass, 1 a check failed.
"""
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import vmafuzz_triage as vt  # noqa: E402

FUZZ = str(ROOT / "scripts" / "fuzz")
B09 = "corpus/fuzz_vma_lock/B09_detach_no_wait.bin"


def check(cond, msg):
    if not cond:
        print(f"FAIL: {msg}", flush=True)
        sys.exit(1)


def env():
    e = dict(os.environ)
    for k in ("VMAFUZZ_INJECT", "ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"):
        e.pop(k, None)
    return e


def fuzz(args):
    p = subprocess.run([FUZZ, *args], env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode(errors="replace")


def engine_line(text):
    """scripts/fuzz's echo of the engine's command line (with a trailing space to match flags whole)."""
    lines = [l for l in text.splitlines() if l.startswith("fuzz: ") and " -timeout=30 " in l]
    check(len(lines) == 1, f"expected one engine command line, got {lines}")
    return lines[0] + " "


def test_honest(tmp):
    out = Path(tmp) / "honest"
    args = ["--inject", "detach_no_wait", "--runs", "3000", "--out", str(out), "--minimize-time", "2", "--", "-seed=1"]
    rc, text = fuzz(args)
    print(text[-3000:])
    check(rc == 4, f"expected exit 4 (only seed-reproduced findings), got {rc}")
    check(f"(reproduced by seed {B09} (regression input))" in text, "B09's finding not reported as its seed's")
    check("(NEW)" not in text, "a finding called NEW")
    check(not re.search(r"line \d+: +\d+ ", text), "bash job-control noise in the output")
    seeds = sum(1 for f in (ROOT / "corpus/fuzz_vma_lock").iterdir() if f.is_file())
    check(f"seeds: {seeds} in corpus/fuzz_vma_lock (read only)" in text, "the summary does not list the seed directory")
    check(" -use_counters=0 " in engine_line(text), "libFuzzer did not get the default -use_counters=0")
    # The user's own -use_counters= replaces the default (and still resumes the campaign).
    args = args + ["-use_counters=1"]
    rc, text = fuzz(args)
    line = engine_line(text)
    check(" -use_counters=1 " in line and "-use_counters=0" not in line, f"the user's -use_counters=1 not passed alone: {line}")
    print(text[-3000:])
    check(rc == 4, f"the rerun: expected exit 4, got {rc}")
    check(f"(known; reproduced by seed {B09} (regression input))" in text, "the rerun does not call it known")
    check("without a crash file" not in text, "the rerun failed the engine")


def snapshot(out):
    """What a run has written: corpus and crash files with their contents'
    SHA-1, and per finding its files."""
    s = {"corpus": {}, "crashes": {}, "findings": {}, "merge": None}
    for p in vt.list_inputs(out / "corpus"):
        s["corpus"][p.name] = vt.sha1_file(p)
    for p in vt.crash_files(out):
        s["crashes"][vt.Triage(out).rel_out(p) if (out / "triage.json").exists() else p.name] = vt.sha1_file(p)
    if (out / "triage.json").exists():
        st = json.loads((out / "triage.json").read_text())  # whole JSON or the test fails here
        s["merge"] = st["campaign"].get("merge")
        for f in st["findings"]:
            files = [x for x in (f["crash_files"] + [f["report"], f["minimized"], f["minimized_sched"]]) if x]
            s["findings"][f["signature"]] = {x: vt.sha1_file(out / x) for x in files}
    return s


def whole(out):
    """Every libFuzzer file is its content's SHA-1; every sidecar parses."""
    for p in vt.list_inputs(out / "corpus", out / "crashes"):
        m = re.fullmatch(r"(?:[a-z-]+-)?([0-9a-f]{40})", p.name)
        check(not m or vt.sha1_file(p) == m.group(1), f"{p} is written only in part")
    for p in (out / "crashes").glob("*.json"):
        json.loads(p.read_text())
    for p in (out / "tsan").glob("*.json"):
        json.loads(p.read_text())


def test_kill(tmp, kills=20, seed=16):
    fuzz(["--runs", "1", "--out", str(Path(tmp) / "build")])  # the builds, before the clock
    out = Path(tmp) / "kill"
    rng = random.Random(seed)
    # The shipped seeds less those that fail under the bug: the campaign's
    # findings are then new and minimized (a kill may hit that); two jobs
    # (-fork=2 -ignore_crashes=1) go on after a crash, so the corpus grows and
    # the merge has work.
    seeds = Path(tmp) / "seeds"
    seeds.mkdir()
    replay = ROOT / "build" / "libfuzzer" / "fuzz" / "fuzz_vma_lock_replay"
    failing = []  # the others go in as crash files, one before each "minimize" kill
    for p in vt.list_inputs(ROOT / "corpus" / "fuzz_vma_lock"):
        if subprocess.run([replay, p], env=dict(env(), VMAFUZZ_INJECT="detach_no_wait"),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            (seeds / p.name).write_bytes(p.read_bytes())
        else:
            failing.append(p)
    check(len(failing) >= 4, f"expected at least 4 seeds that fail under detach_no_wait, got {len(failing)}")
    base = ["--inject", "detach_no_wait", "--jobs", "2", "--time", "2", "--out", str(out), "--no-default-seeds",
            "--seeds", str(seeds), "--minimize-time", "2"]
    phases = {"start": None, "engine": "fuzz: log in", "triage": "fuzz: replaying", "minimize": "fuzz: minimizing",
              "merge": "fuzz: merging"}
    prev = None
    hit = []
    for i in range(kills):
        phase = list(phases)[i % len(phases)]
        if phase == "minimize":  # a new finding to minimize (2 s)
            crash = failing.pop(0).read_bytes()
            (out / "crashes").mkdir(parents=True, exist_ok=True)
            (out / "crashes" / f"crash-{hashlib.sha1(crash).hexdigest()}").write_bytes(crash)
        logf = Path(tmp) / f"kill-{i}.log"
        with open(logf, "wb") as lf:
            p = subprocess.Popen([FUZZ, *base, "--", f"-seed={i + 1}"], env=env(), stdout=lf, stderr=subprocess.STDOUT,
                                 start_new_session=True)
            t0 = time.time()
            marker = phases[phase]
            while marker and p.poll() is None and marker not in logf.read_text(errors="replace"):
                time.sleep(0.02)
                check(time.time() - t0 < 120, f"kill {i}: no '{marker}' within 120 s")
            time.sleep(rng.uniform(0, {"start": 2.0, "merge": 1.5, "minimize": 1.5}.get(phase, 0.4)))
            finished = p.poll() is not None
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:  # it finished (and its group is gone)
                finished = True
            p.wait()
        text = logf.read_text(errors="replace")
        last = [l for l in text.splitlines() if l.startswith("fuzz: ")][-1:] or ["(nothing yet)"]
        hit.append(phase if not finished else "finished")
        print(f"kill {i + 1:2d}: {phase:6s} -> {'finished first' if finished else 'killed after: ' + last[0][:90]}",
              flush=True)
        vt.recover_corpus(out) if out.exists() else None  # what the next run does first
        whole(out) if out.exists() else None
        now = snapshot(out) if out.exists() else None
        if prev and now:
            for k, v in prev["crashes"].items():
                check(now["crashes"].get(k) == v, f"kill {i + 1}: crash file {k} lost or changed")
            for sig, files in prev["findings"].items():
                check(sig in now["findings"], f"kill {i + 1}: finding {sig} lost from triage.json")
                for x, h in files.items():
                    check(now["findings"][sig].get(x) == h, f"kill {i + 1}: {x} of {sig} lost or changed")
            gone = set(prev["corpus"]) - set(now["corpus"])
            if gone:  # only a finished merge removes entries
                check(now["merge"] and now["merge"] != prev["merge"],
                      f"kill {i + 1}: {len(gone)} corpus entries lost without a merge")
        prev = now or prev
    for ph in ("engine", "triage", "minimize", "merge"):
        check(ph in hit, f"no kill landed during {ph}")
    rc, text = fuzz([*base, "--", "-seed=99"])
    print(text[-1500:])
    check(rc in (0, 3), f"the run after the kills: exit {rc}")
    whole(out)
    final = snapshot(out)
    for sig in prev["findings"]:
        check(sig in final["findings"], f"finding {sig} lost by the last run")


def main():
    which = sys.argv[1:] or ["honest", "kill"]
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="vmafuzz-campaign-") as tmp:
        for w in which:
            {"honest": test_honest, "kill": test_kill}[w](tmp)
            print(f"PASS: {w} ({time.time() - t0:.0f} s so far)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
