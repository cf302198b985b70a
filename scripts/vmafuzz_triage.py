#!/usr/bin/env python3
"""scripts/vmafuzz_triage.py: the triage of a scripts/fuzz campaign. It owns
fuzz-out/OUTDIR/triage.json (docs/FUZZING.md, "Triage state") and every file
triage writes, each written atomically (a temporary file, then a rename), so a
campaign killed at any moment loses nothing it had written.

Steps, each a subcommand that scripts/fuzz runs in this order:
  begin    recover from a killed run (an unfinished merge or temporary files),
           record the campaign, replay the seed directories' files once (the
           campaign's replay driver, and the ThreadSanitizer one) to learn the
           signatures that seeds reproduce as they are, and make the seed view
           the engine reads: the seeds less those that fail on this model
           (a failing seed would stop libFuzzer while it loads its corpus).
  triage   replay the crash files not triaged yet and group them by
           signature; replay under ThreadSanitizer the working corpus entries
           and crash files not replayed yet, deduplicating as it goes;
           minimize each new finding once; label findings new / known / seed.
  merge    shrink the working corpus: libFuzzer -merge=1 into a fresh
           directory, then swapped in by renames (afl-cmin for AFL++'s queues).
  summary  print the campaign's summary; its exit status is scripts/fuzz's.
exit codes: those of the summary (0, 3, 4, 1: scripts/fuzz --help), 2 bad
command line or state.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCHEMA = 1
REPLAY_TIMEOUT = 120  # s per replay of one input
BATCH = 500  # inputs per replay process (one TSan start-up each)
NOISE = ("does not reproduce", "hang:", "crash without a report", "differs between builds")


def log(msg):
    print(f"fuzz: {msg}", file=sys.stderr, flush=True)


# ---- atomic files ---------------------------------------------------------------
def write_atomic(path, data):
    """Write bytes or text to PATH through a temporary file in the same
    directory and a rename: a reader (or a run after a kill) sees the old
    file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path, obj):
    write_atomic(path, json.dumps(obj, indent=2) + "\n")


def copy_atomic(src, dst):
    write_atomic(dst, Path(src).read_bytes())


def remove_temporaries(root):
    """Temporary files of writes a kill interrupted (write_atomic's names)."""
    for p in Path(root).rglob(".*.tmp"):
        if p.is_file():
            p.unlink(missing_ok=True)


def sha1_file(path):
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def key_of(sig):
    return hashlib.sha1(sig.encode()).hexdigest()[:12]


# ---- signatures ---------------------------------------------------------------------
_FRAME_ARGS = re.compile(r"\([^()]*\)( const)?$")


def _strip_args(fn):
    return _FRAME_ARGS.sub("", fn)


def signature_of(text):
    """A finding's dedup key from a replay's output: the vmafuzz SIGNATURE
    line; else, for a data race, "ThreadSanitizer: data race:" and the two
    racing functions (sorted: either order of the accesses gives one key);
    else the sanitizer's SUMMARY kind and function; else the first
    DEDUP_TOKEN; "" if the output has none of these."""
    lines = text.splitlines()
    for line in lines:
        if line.startswith("==vmafuzz== SIGNATURE: "):
            return line[len("==vmafuzz== SIGNATURE: "):]
    start = next((i for i, l in enumerate(lines) if l.startswith("WARNING: ThreadSanitizer: data race")), None)
    if start is not None:
        fns, want = [], False
        for line in lines[start:]:
            if re.match(r"^  (Previous )?([Aa]tomic )?([Rr]ead|[Ww]rite) of size", line):
                want = True
            elif want and line.startswith("    #0 "):
                fns.append(_strip_args(re.sub(r" /.*$", "", line[len("    #0 "):])))
                want = False
                if len(fns) == 2:
                    break
        return "ThreadSanitizer: data race: " + " / ".join(sorted(set(fns)))
    for line in lines:
        m = re.match(r"^SUMMARY: ([A-Za-z]+Sanitizer): ([a-z][a-z -]*[a-z])(.*)$", line)
        if m:
            fn = re.search(r" in (.*)$", m.group(3))
            return f"{m.group(1)}: {m.group(2)}" + (f" in {_strip_args(fn.group(1))}" if fn else "")
    for line in lines:
        if line.startswith("DEDUP_TOKEN: "):
            return line[len("DEDUP_TOKEN: "):]
    return ""


def site_of(sig):
    """oracle|detail of a full vmafuzz signature oracle|detail|op|others."""
    parts = sig.split("|")
    return "|".join(parts[:2]) if len(parts) >= 4 else sig


def is_tsan_report(text):
    return "WARNING: ThreadSanitizer" in text


# ---- replays --------------------------------------------------------------------------
def run(cmd, env=None, timeout=REPLAY_TIMEOUT):
    """(exit status, output) of CMD; 124 if it ran out of time. From here,
    not from bash, so a crashing replay is not announced on the terminal."""
    try:
        # In the campaign's process group: killing the campaign kills it too.
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return 124, (e.stdout or b"").decode(errors="replace")


def judge(binary, path, env):
    """Replay one input: (signature or a note, exit status, output)."""
    rc, out = run([binary, str(path)], env)
    sig = signature_of(out)
    if not sig:
        if rc == 0:
            sig = f"does not reproduce in {Path(binary).name}"
        elif rc == 124:
            sig = f"hang: replay took over {REPLAY_TIMEOUT} s"
        else:
            sig = f"crash without a report (exit {rc})"
    return sig, rc, out


_REPLAYING = re.compile(r"^replay: (.*) \([0-9]+ bytes\)$", re.M)


def failing_inputs(binary, files, env):
    """Replay FILES in batches (one process each); yield (file, output) for
    each input that fails: the replay driver names each input before running
    it, a failure ends the batch and the next batch starts after it.
    Yields (None, output) if a batch fails without naming an input."""
    pending = [str(f) for f in files]
    while pending:
        batch = pending[:BATCH]
        rc, out = run([binary] + batch, env, timeout=600)
        if rc == 0:
            pending = pending[len(batch):]
            continue
        named = _REPLAYING.findall(out)
        if not named or named[-1] not in batch:
            yield None, out
            return
        idx = batch.index(named[-1])
        pending = pending[idx + 1:]
        yield named[-1], out[out.rfind(f"replay: {named[-1]} ("):]


# ---- state ------------------------------------------------------------------------------
class Triage:
    """triage.json of one OUTDIR and the operations on it."""

    def __init__(self, out, root=None):
        self.out = Path(out).resolve()
        self.root = Path(root).resolve() if root else Path(__file__).resolve().parent.parent
        self.path = self.out / "triage.json"
        if self.path.exists():
            self.state = json.loads(self.path.read_text())
            if self.state.get("schema") != SCHEMA:
                raise SystemExit(f"fuzz: {self.path}: unknown schema {self.state.get('schema')!r}")
        else:
            self.state = {"schema": SCHEMA, "campaign": {}, "findings": []}
        self.state.setdefault("seeds", [])
        self.state.setdefault("tsan_replayed", [])

    # paths: relative to OUTDIR in the state, to the repository root for people
    def rel_out(self, p):
        return os.path.relpath(Path(p).resolve(), self.out)

    def rel_root(self, p):
        p = Path(p)
        p = p if p.is_absolute() else self.out / p
        try:
            return str(p.resolve().relative_to(self.root))
        except ValueError:
            return str(p)

    def save(self):
        write_json_atomic(self.path, self.state)

    @property
    def campaign(self):
        return self.state["campaign"]

    def finding(self, sig):
        return next((f for f in self.state["findings"] if f["signature"] == sig), None)

    def triaged_files(self):
        return {c for f in self.state["findings"] for c in f["crash_files"]}

    def env(self):
        env = dict(os.environ)
        inject = ",".join(self.campaign.get("inject", []))
        if inject:
            env["VMAFUZZ_INJECT"] = inject
        else:
            env.pop("VMAFUZZ_INJECT", None)
        return env

    # -- findings
    def add(self, sig, path, source, report_text, now):
        """Count crash file PATH (relative to OUTDIR) under SIG; a new finding
        is labelled seed (a seed reproduces it as it is) or new."""
        f = self.finding(sig)
        if f is None:
            key = key_of(sig)
            seed = self.seed_for(sig)
            f = {"key": key, "signature": sig,
                 "oracle": None if source == "tsan-replay" or not re.match(r"^[a-z_]+\.[a-z_]+\|", sig)
                 else sig.split("|")[0],
                 "source": source, "status": "seed" if seed else "new", "seed": seed,
                 "crash_files": [], "report": None, "minimized": None, "minimized_sched": None,
                 "explain_html": None, "replay": "", "first_seen": now}
            self.state["findings"].append(f)
        if path is not None and path not in f["crash_files"]:
            f["crash_files"].append(path)
            # the smallest file represents its finding
            f["crash_files"].sort(key=lambda c: (self.size(c), c))
        report = self.out / "findings" / f"{f['key']}.report"
        if not report.exists() and report_text:
            write_atomic(report, report_text)
        if report.exists():
            f["report"] = self.rel_out(report)
        f["replay"] = self.replay_command(f)
        return f

    def size(self, rel):
        p = self.out / rel
        return p.stat().st_size if p.exists() else 1 << 62

    def seed_for(self, sig):
        """The seed that reproduces SIG as it is: the same signature, else the
        same oracle and site (the other tasks' operations may differ)."""
        seeds = self.state["seeds"]
        return next((s["file"] for s in seeds if s["signature"] == sig), None) or next(
            (s["file"] for s in seeds if "|" in sig and site_of(s["signature"]) == site_of(sig)), None)

    def replay_command(self, f):
        inject = ",".join(self.campaign.get("inject", []))
        prefix = f"VMAFUZZ_INJECT={inject} " if inject else ""
        if f.get("minimized"):
            inp = self.rel_root(f["minimized"])
        elif f["crash_files"]:
            inp = self.rel_root(f["crash_files"][0])
        else:
            inp = f["seed"] or "?"
        b = self.campaign.get("binaries", {})
        if f["source"] == "tsan-replay":
            return f"{prefix}{b.get('tsan_replay', '?')} {inp}"
        if self.campaign.get("target") == "fuzz_nfc":  # a divergence: both versions, one schedule
            return f"{prefix}{b.get('cli', '?')} diff {inp} --versions {nfc_versions(os.environ)}"
        return f"{prefix}{b.get('cli', '?')} run {inp}"

    def write_sidecar(self, path, sig, how=""):
        side = Path(str(path) + ".json")
        if side.exists():
            return
        c = self.campaign
        inject = c.get("inject", [])
        found_by = (f"{c['engine']} campaign: scripts/fuzz --engine {c['engine']}"
                    + (f" --inject {','.join(inject)}" if inject else "")
                    + f", {self.rel_root(path)}{how}, triaged {time.strftime('%Y%m%d-%H%M%S')}")
        write_json_atomic(side, {"vmafuzz_sidecar": 1, "target": c["target"], "inject": inject,
                                 "max_steps": c.get("max_steps", 50000), "found_by": found_by,
                                 "signature": "" if sig.startswith(NOISE) else sig})


def list_inputs(*dirs):
    """The input files under DIRS, sorted: no dotfiles, README.txt or sidecars."""
    files = []
    for d in dirs:
        d = Path(d)
        if d.is_dir():
            files += [p for p in d.rglob("*") if p.is_file() and not p.name.startswith(".")
                      and p.name != "README.txt" and not p.name.endswith(".json")]
    return sorted(files)


def crash_files(out):
    """Crash files: libFuzzer's, and afl-fuzz's as imported by import_afl_crashes()."""
    return list_inputs(out / "crashes")


def import_afl_crashes(out):
    """Copy afl-fuzz's crash files into crashes/ as afl-SHA1: the merge
    removes afl-fuzz's output directory once its queue is in corpus/."""
    for p in sorted(out.glob("afl/*/crashes/id:*")):
        dst = out / "crashes" / f"afl-{sha1_file(p)}"
        if not dst.exists():
            copy_atomic(p, dst)


def corpus_files(out):
    return list_inputs(out / "corpus") + sorted(
        p for d in sorted((out / "afl").glob("*/queue")) for p in d.glob("id:*") if p.is_file())


# ---- begin ------------------------------------------------------------------------------
def recover_corpus(out, t=None):
    """Finish or undo a merge a kill interrupted: corpus.merging/ is an
    unfinished merge (the corpus is intact), corpus.merged/ a finished one
    not yet swapped in, corpus.old/ the corpus it replaced. The merge record
    in triage.json (`t`'s, or the file's) is written before the commit point,
    the rename of corpus.merging/ to corpus.merged/, with `ended` null: after
    a kill it is completed here if the merge got past that point, dropped if
    not, so a corpus never shrinks without a merge on record."""
    corpus, merging, merged, old = (out / n for n in ("corpus", "corpus.merging", "corpus.merged", "corpus.old"))
    committed = not merging.exists()
    if merging.exists():
        shutil.rmtree(merging)
    shutil.rmtree(out / "corpus.cmin-input", ignore_errors=True)  # afl-cmin's input
    if merged.exists():
        if corpus.exists() and not old.exists():
            os.rename(corpus, old)
        if not corpus.exists():
            os.rename(merged, corpus)
        else:
            shutil.rmtree(merged)
    if old.exists():
        if corpus.exists():
            shutil.rmtree(old)
        else:
            os.rename(old, corpus)
    if t is None:
        if not (out / "triage.json").exists():
            return
        t = Triage(out)
    m = t.campaign.get("merge")
    if m and m.get("ended") is None:
        if committed:
            m.update(after=len(list_inputs(corpus)), ended=time.time(), completed_after_a_kill=True)
        else:
            t.campaign["merge"] = None
        t.save()


def drop_torn_engine_files(out):
    """libFuzzer names corpus entries and crash files by their content's SHA-1
    and writes them in place: a kill during the write leaves a file whose
    content is not its name's. Such a file is no input; remove it."""
    for p in list_inputs(out / "corpus", out / "crashes"):
        m = re.fullmatch(r"(?:[a-z-]+-)?([0-9a-f]{40})", p.name)
        if m and sha1_file(p) != m.group(1):
            log(f"removing {p}: written only in part (the run that wrote it was killed)")
            p.unlink()


def cmd_begin(a):
    t = Triage(a.out)
    out = t.out
    for d in ("corpus", "crashes", "tsan", "findings", "logs"):
        (out / d).mkdir(parents=True, exist_ok=True)
    recover_corpus(out, t)
    remove_temporaries(out)
    drop_torn_engine_files(out)
    now = time.time()
    # Findings of earlier campaigns are known now.
    for f in t.state["findings"]:
        if f["status"] == "new":
            f["status"] = "known"
    t.state["campaign"] = {"target": a.target, "engine": a.engine, "inject": [n for n in a.inject.split(",") if n],
                           "seed_dirs": [str(d) for d in a.seed_dir], "started": now, "ended": None,
                           "time_limit": a.time_limit, "runs": a.runs, "jobs": a.jobs, "max_steps": a.max_steps,
                           "corpus_before": len(corpus_files(out)), "crash_files_before": len(crash_files(out)),
                           "new_crash_files": 0, "tsan": None, "merge": None, "log": a.log,
                           "binaries": {"replay": t.rel_root(a.replay), "cli": t.rel_root(a.cli),
                                        "tsan_replay": t.rel_root(a.tsan_replay) if a.tsan_replay else None}}
    t.save()
    # The seeds, replayed once: which signatures they reproduce as they are.
    seeds = list_inputs(*a.seed_dir)
    env = t.env()
    found = []
    for binary in [b for b in (a.replay, a.tsan_replay) if b]:
        for path, text in failing_inputs(binary, seeds, env):
            if path is None:
                log(f"warning: the seed replay with {t.rel_root(binary)} failed without naming an input")
                break
            sig = signature_of(text) or "crash without a report"
            if binary == a.tsan_replay and not is_tsan_report(text):
                continue  # a model finding: the campaign's build says so already
            found.append({"file": t.rel_root(path), "signature": sig, "report": text,
                          "source": "tsan-replay" if binary == a.tsan_replay else "engine"})
    t.state["seeds"] = [{"file": s["file"], "signature": s["signature"]} for s in found]
    # Seed findings the seeds no longer reproduce (and the engine never hit) go.
    t.state["findings"] = [f for f in t.state["findings"] if f["crash_files"] or t.seed_for(f["signature"])]
    for f in t.state["findings"]:  # a seed may reproduce an old finding too
        seed = t.seed_for(f["signature"])
        if seed:
            f["status"], f["seed"] = "seed", seed
    for s in found:  # a seed's finding is listed whether or not the engine hits it
        if not t.finding(s["signature"]):
            t.add(s["signature"], None, s["source"], s["report"], now)
    t.save()
    # The view of the seeds the engine reads: all of a directory when none of
    # its files fails, else links to the files that pass.
    # (Only the seeds the campaign's own build fails on: a data race does not
    # stop the engine, and the TSan replay is where such a seed's offspring
    # show their race.)
    failing = {str((t.root / s["file"]).resolve()) for s in found if s["source"] == "engine"}
    view = out / "seeds"
    if view.exists():
        shutil.rmtree(view)
    dirs = []
    for i, d in enumerate(a.seed_dir, 1):
        files = list_inputs(d)
        keep = [p for p in files if str(p.resolve()) not in failing]
        if not keep:
            continue
        if len(keep) == len(files):
            dirs.append(str(Path(d).resolve()))
            continue
        sub = view / f"{i}"
        sub.mkdir(parents=True)
        for p in keep:
            os.symlink(p.resolve(), sub / p.name)
        dirs.append(str(sub))
    for s in found:
        kept = "kept out of the campaign" if s["source"] == "engine" else "the engine's build does not see it"
        log(f"seed {s['file']} reproduces {s['signature']} on this model ({kept}): a regression input")
    for d in dirs:
        print(d)


# ---- triage -----------------------------------------------------------------------------
def cmd_triage(a):
    t = Triage(a.out)
    c = t.campaign
    out, env, now = t.out, t.env(), time.time()
    logpath = Path(c.get("log") or "")
    logtext = logpath.read_text(errors="replace") if logpath.is_file() else ""
    # The engine's numbers, before the merge removes afl-fuzz's statistics.
    c["stats"] = dict(zip(("execs", "rate", "coverage"), engine_stats(t, c["engine"], logtext)))
    c["stats"]["stopped_at_crash"] = bool(re.search(r"^(Test unit written to|==\d+== ERROR: libFuzzer)",
                                                    logtext, re.M))
    import_afl_crashes(out)
    done = t.triaged_files()
    todo = [p for p in crash_files(out) if t.rel_out(p) not in done]
    if todo:
        log(f"replaying {len(todo)} new crash file(s) with {t.rel_root(a.replay)}")
    for p in todo:
        sig, _, text = judge(a.replay, p, env)
        t.write_sidecar(p, sig)
        t.add(sig, t.rel_out(p), "engine", text, now)
        c["new_crash_files"] += 1
        t.save()
    # Crash files removed by hand take their findings with them.
    t.state["findings"] = [f for f in t.state["findings"] if not f["crash_files"] and f["status"] == "seed"
                           or any((out / x).exists() for x in f["crash_files"])]
    for f in t.state["findings"]:
        f["crash_files"] = [x for x in f["crash_files"] if (out / x).exists()]
    t.save()
    if a.tsan_replay:
        tsan_step(t, a, env, now)
    if a.minimize:
        for f in t.state["findings"]:
            if f["status"] == "seed" or f["signature"].startswith(NOISE) or f["minimized"] or not f["crash_files"]:
                continue
            minimize(t, f, a, env)
            t.save()
    c["ended"] = time.time()
    t.save()


def tsan_step(t, a, env, now):
    """The working corpus entries and crash files not replayed under TSan yet,
    in batches; a report ends a batch and the replay goes on after it. Stops
    after --tsan-max unique signatures (0: never)."""
    out = t.out
    replayed = set(t.state["tsan_replayed"])
    corpus = [p for p in corpus_files(out) if sha1_file(p) not in replayed]
    crashes = [p for p in crash_files(out) if sha1_file(p) not in replayed]
    pending = corpus + crashes
    log(f"replaying {len(corpus)} corpus entr{'y' if len(corpus) == 1 else 'ies'} and {len(crashes)} crash file(s)"
        f" under ThreadSanitizer ({t.rel_root(a.tsan_replay)})")
    stats = {"replayed": 0, "reports": 0, "unique": [], "note": ""}
    crash_set = {str(p) for p in crashes}

    def mark(paths):
        for p in paths:
            replayed.add(sha1_file(p))
        stats["replayed"] += len(paths)
        t.state["tsan_replayed"] = sorted(replayed)
        t.save()

    while pending:
        if a.tsan_max and len(stats["unique"]) >= a.tsan_max:
            stats["note"] = (f"stopped after {len(stats['unique'])} unique signature(s) (--tsan-max {a.tsan_max}),"
                             f" {len(pending)} input(s) not replayed")
            break
        gen = failing_inputs(a.tsan_replay, pending[:BATCH], env)
        bad, text = next(gen, (False, ""))
        if bad is False:  # the whole batch passed
            mark(pending[:BATCH])
            pending = pending[BATCH:]
            continue
        if bad is None:
            logf = out / "logs" / f"tsan-replay-{int(now)}.log"
            write_atomic(logf, text)
            stats["note"] = f"the TSan replay failed without naming an input; see {t.rel_root(logf)}"
            break
        idx = [str(p) for p in pending].index(bad)
        mark(pending[:idx])
        bad_path = pending[idx]
        pending = pending[idx + 1:]
        if not is_tsan_report(text):
            # A model finding: crash files fail with theirs, and afl-fuzz keeps
            # crashing seeds with AFL_SKIP_CRASHES. News only if the campaign's
            # own build does not agree.
            sig = signature_of(text)
            if bad in crash_set or (sig and judge(a.replay, bad_path, env)[0] == sig):
                mark([bad_path])
                continue
            sig = f"differs between builds: {sig or 'crash without a report'} under TSan"
        else:
            sig = signature_of(text)  # text is this input's output alone
        stats["reports"] += 1
        f = t.finding(sig)
        if f is None or not f["crash_files"]:
            saved = out / "tsan" / f"tsan-{sha1_file(bad_path)}"
            copy_atomic(bad_path, saved)
            origin = "a crash file" if bad in crash_set else "a corpus entry"
            t.write_sidecar(saved, sig, f" (the ThreadSanitizer replay of {origin})")
            f = t.add(sig, t.rel_out(saved), "tsan-replay", text, now)
        if sig not in stats["unique"]:
            stats["unique"].append(sig)
        mark([bad_path])
    t.campaign["tsan"] = {"replayed": stats["replayed"], "reports": stats["reports"],
                          "unique": len(stats["unique"]), "max": a.tsan_max, "note": stats["note"]}
    t.save()


def nfc_versions(env):
    """The two lock versions fuzz_nfc compares (its VMAFUZZ_NFC_VERSIONS)."""
    return env.get("VMAFUZZ_NFC_VERSIONS") or "pre_series,post_series"


def minimize(t, f, a, env):
    """`vmafuzz minimize` of the build that saw it; kept only if its replay
    has the same site (oracle|detail), or the same data race."""
    out = t.out
    tsan = f["source"] == "tsan-replay"
    cli = a.tsan_cli if tsan and a.tsan_cli else a.cli
    binary = a.tsan_replay if tsan else a.replay
    src = out / f["crash_files"][0]
    key = f["key"]
    text_out, bin_out = out / "findings" / f"{key}.min.sched", out / "findings" / f"{key}.min"
    tmp_text, tmp_bin = out / "findings" / f".{key}.min.sched.tmp", out / "findings" / f".{key}.min.tmp"
    mlog = out / "logs" / f"minimize-{key}.log"
    log(f"minimizing {t.rel_root(src)} ({f['signature']})")
    menv = dict(env)
    # halt_on_error=0: under TSan a candidate's run goes on after the report
    # and still gives the decisions the minimizer keeps.
    menv["TSAN_OPTIONS"] = env.get("TSAN_OPTIONS", "") + ":halt_on_error=0"
    # fuzz_nfc's findings are divergences: minimized on both versions.
    versions = ["--versions", nfc_versions(env)] if t.campaign.get("target") == "fuzz_nfc" else []
    _, mout = run([cli, "minimize", *versions, "--time", str(a.minimize_time), str(src), "-o", str(tmp_text)], menv)
    info = None
    if tmp_text.exists() and tmp_text.stat().st_size:
        rc, cout = run([cli, "convert", str(tmp_text), str(tmp_bin)], env)
        mout += cout
        if rc == 0 and tmp_bin.exists():
            sig, _, _ = judge(binary, tmp_bin, env)
            if site_of(sig) == site_of(f["signature"]):
                os.replace(tmp_text, text_out)
                os.replace(tmp_bin, bin_out)
                m = re.search(r"^\s*after\s+(\d+)\s+(\d+)\s+(\d+)", mout, re.M)
                info = f"{m.group(1)} tasks, {m.group(2)} ops, {m.group(3)} preemptions" if m else "see its header"
    write_atomic(mlog, mout)
    for p in (tmp_text, tmp_bin):
        p.unlink(missing_ok=True)
    if info is None:
        copy_atomic(src, bin_out)  # nothing smaller with the same site: keep the original
        info = f"not smaller (see {t.rel_root(mlog)})"
    f["minimized"] = t.rel_out(bin_out)
    f["minimized_sched"] = t.rel_out(text_out) if text_out.exists() else None
    f["minimize_info"] = info
    f["replay"] = t.replay_command(f)


# ---- merge ------------------------------------------------------------------------------
def cmd_merge(a):
    t = Triage(a.out)
    out = t.out
    corpus, merging, merged = out / "corpus", out / "corpus.merging", out / "corpus.merged"
    recover_corpus(out, t)
    before = len(corpus_files(out))
    log(f"merging the working corpus ({before} inputs)")
    if a.engine == "afl":
        queues = sorted(out.glob("afl/*/queue"))
        if not queues or not shutil.which("afl-cmin"):
            return
        # afl-cmin reads one directory of files: the queues and the working corpus.
        union = out / "corpus.cmin-input"
        shutil.rmtree(union, ignore_errors=True)
        union.mkdir()
        for i, p in enumerate(corpus_files(out)):
            shutil.copyfile(p, union / f"{i:06d}")
        # AFL_ALLOW_TMP: these directories are ours, even under /tmp (tests).
        env = dict(t.env(), AFL_NO_AFFINITY="1", AFL_SKIP_CPUFREQ="1", AFL_MAP_SIZE="65536", AFL_ALLOW_TMP="1")
        env.pop("ASAN_OPTIONS", None)
        rc, text = run(["afl-cmin", "-i", str(union), "-o", str(merging), "-t", "10000", "--", a.binary],
                       env, timeout=3600)
        shutil.rmtree(union, ignore_errors=True)
        # afl-cmin copies: the kept files are content-named like libFuzzer's.
        if rc == 0 and merging.exists():
            for p in list(merging.iterdir()):
                if p.is_file() and not p.name.startswith("."):
                    os.rename(p, merging / sha1_file(p))
                elif p.is_dir():
                    shutil.rmtree(p)
    else:
        merging.mkdir()
        # The campaign's feature flags (-use_counters=0, -use_value_profile=1) decide
        # what counts as new coverage: the merge keeps inputs by the same rule.
        rc, text = run([a.binary, "-merge=1", f"-artifact_prefix={out / 'crashes'}/", "-timeout=30",
                        "-rss_limit_mb=4096", *a.engine_flag, str(merging), str(corpus)], t.env(), timeout=3600)
    write_atomic(out / "logs" / f"merge-{time.strftime('%Y%m%d-%H%M%S')}.log", text)
    if rc != 0 or not any(merging.iterdir()) and before:
        shutil.rmtree(merging, ignore_errors=True)
        log(f"warning: the corpus merge failed (exit {rc}); the corpus stays as it was")
        return
    # On record before the commit point (the rename to corpus.merged/), then
    # swap by renames; recover_corpus() finishes or drops both after a kill.
    t.campaign["merge"] = {"before": before, "after": len(list_inputs(merging)), "ended": None}
    t.save()
    os.rename(merging, merged)
    os.rename(corpus, out / "corpus.old")
    os.rename(merged, corpus)
    shutil.rmtree(out / "corpus.old")
    if a.engine == "afl":
        # Its queue is in corpus/ and its crash files in crashes/: the next
        # campaign starts afl-fuzz afresh from the seeds and corpus/.
        shutil.rmtree(out / "afl")
    after = len(list_inputs(corpus))
    # The TSan replay's record keeps only inputs that still exist (bounded).
    present = {sha1_file(p) for p in corpus_files(out) + crash_files(out)}
    t.state["tsan_replayed"] = [h for h in t.state["tsan_replayed"] if h in present]
    t.campaign["merge"] = {"before": before, "after": after, "ended": time.time()}
    t.save()
    log(f"merged the working corpus: {before} -> {after} inputs")


# ---- summary ----------------------------------------------------------------------------
def engine_stats(t, engine, logtext):
    out = t.out
    if engine == "afl":
        execs = rate = 0
        for s in sorted(out.glob("afl/*/fuzzer_stats")):
            kv = dict(re.findall(r"^(\w+)\s*:\s*(\S+)", s.read_text(), re.M))
            execs += int(kv.get("execs_done", 0))
            rate += int(float(kv.get("execs_per_sec", 0)))
        main = out / "afl" / "main" / "fuzzer_stats"
        kv = dict(re.findall(r"^(\w+)\s*:\s*(\S+)", main.read_text(), re.M)) if main.exists() else {}
        cov = (f"coverage:  {kv.get('edges_found', '?')} of {kv.get('total_edges', '?')} map entries"
               " (code edges and interleaving-feature slots)")
        return execs, rate, cov
    execs = re.findall(r"^stat::number_of_executed_units: *(\d+)", logtext, re.M)
    rate = re.findall(r"^stat::average_exec_per_sec: *(\d+)", logtext, re.M)
    status = re.findall(r"^#(\d+)[\s:].*cov: (\d+) ft: (\d+)", logtext, re.M)
    execs = int(execs[-1]) if execs else (int(status[-1][0]) if status else None)
    rate = int(rate[-1]) if rate else None
    cov = (f"coverage:  {status[-1][1] if status else '?'} PCs, {status[-1][2] if status else '?'} features"
           " (code edges and counters, and interleaving features)")
    return execs, rate, cov


def cmd_summary(a):
    t = Triage(a.out)
    c, out = t.campaign, t.out
    logpath = Path(c.get("log") or "")
    logtext = logpath.read_text(errors="replace") if logpath.is_file() else ""
    stats = c.get("stats") or {}
    execs, rate, cov = stats.get("execs"), stats.get("rate"), stats.get("coverage", "coverage:  ?")
    if rate is None and execs is not None and a.elapsed > 0:
        rate = execs // a.elapsed
    findings = t.state["findings"]
    new = [f for f in findings if f["status"] == "new"]
    seed = [f for f in findings if f["status"] == "seed"]
    corpus_now = len(corpus_files(out))
    inject = ",".join(c["inject"])
    p = print
    p()
    p("==== fuzz summary ====")
    p(f"target:    {c['target']}, engine {c['engine']} ({a.binary_rel})")
    p(f"model:     with injected bug(s): VMAFUZZ_INJECT={inject}" if inject else "model:     correct (no injected bug)")
    limit = f"{c['runs']} runs" if c.get("runs") else f"{c['time_limit']}s limit"
    p(f"campaign:  {a.elapsed}s, {c['jobs']} job(s), {limit}{', interrupted' if a.interrupted else ''}")
    p(f"execs:     {execs if execs is not None else 'unknown'} ({rate if rate is not None else '?'}/s)")
    merge = c.get("merge")
    merged = f"; merged {merge['before']} -> {merge['after']}" if merge else ""
    seed_files = sum(len(list_inputs(d)) for d in c["seed_dirs"])
    dirs = " ".join(t.rel_root(d) for d in c["seed_dirs"]) or "no directory"
    p(f"corpus:    {corpus_now} inputs in {t.rel_root(out / 'corpus')} "
      f"({max(0, corpus_now - c['corpus_before'])} new{merged}); seeds: {seed_files} in {dirs} (read only)")
    if t.state["seeds"]:
        p(f"           {len(t.state['seeds'])} seed(s) reproduce a finding on this model (regression inputs;"
          " those the engine's build fails on are kept out of its corpus)")
    p(cov)
    ts = c.get("tsan")
    if ts:
        p(f"tsan:      {ts['replayed']} input(s) replayed under ThreadSanitizer: {ts['reports']} report(s), "
          f"{ts['unique']} unique signature(s)" + (f"; {ts['note']}" if ts["note"] else ""))
    elif c["engine"] == "tsan-libfuzzer":
        p("tsan:      every execution ran under ThreadSanitizer")
    else:
        p("tsan:      skipped (--no-tsan)")
    p(f"log:       {t.rel_root(logpath) if logtext else '(none)'}")
    p(f"findings:  {len(findings)} unique ({len(new)} new in this campaign, {len(seed)} reproduced by a seed, "
      f"{len(findings) - len(new) - len(seed)} known from earlier campaigns; {c['new_crash_files']} new crash file(s))")
    for n, f in enumerate(findings, 1):
        earlier = "known; " if f["first_seen"] < c["started"] else ""
        label = {"new": "  (NEW)", "known": "  (known: found by an earlier campaign)",
                 "seed": f"  ({earlier}reproduced by seed {f['seed']} (regression input))"}[f["status"]]
        p(f"  [{n}] {f['signature']}{label}")
        if f["crash_files"]:
            first = out / f["crash_files"][0]
            p(f"      input:     {t.rel_root(first)} ({first.stat().st_size} bytes; "
              f"{len(f['crash_files'])} file(s) with this signature)")
        elif f["seed"]:
            p(f"      input:     {f['seed']} (the seed; the campaign did not hit it)")
        if f.get("minimized_sched"):
            mb = out / f["minimized"]
            p(f"      minimized: {t.rel_root(out / f['minimized_sched'])} ({f.get('minimize_info') or 'see its header'};"
              f" binary {t.rel_root(mb)}, {mb.stat().st_size} bytes)")
        elif f.get("minimized"):
            mb = out / f["minimized"]
            p(f"      minimized: {t.rel_root(mb)} ({mb.stat().st_size} bytes; {f.get('minimize_info') or ''})")
        if f["report"]:
            p(f"      report:    {t.rel_root(out / f['report'])}")
        p(f"      replay:    {f['replay']}")
        if f["source"] == "engine" and " run " in f["replay"]:  # also with the fuzz target's own driver
            prefix, inp = f["replay"].split(" run ", 1)
            p(f"                 {prefix.rsplit(' ', 1)[0] + ' ' if ' ' in prefix else ''}"
              f"{c['binaries']['replay']} {inp}")
    # The engine stopped at a finding (libFuzzer names the crash input it
    # wrote) or at a seed that fails: not an engine failure.
    stopped_at_finding = stats.get("stopped_at_crash") or c["new_crash_files"] > 0
    if new:
        p(f"status:    FOUND: {len(new)} new finding(s) ({c['new_crash_files']} new crash file(s),"
          f" {sum(1 for f in new if f['source'] == 'tsan-replay')} from the ThreadSanitizer replay)")
        return 3
    if a.engine_rc not in (0, None) and not a.interrupted and not stopped_at_finding:
        p(f"status:    the engine exited with {a.engine_rc} without a crash file; see {t.rel_root(logpath)}")
        return 1
    if seed:
        p(f"status:    nothing new; {len(seed)} finding(s) reproduced by seeds (regression inputs) on this model")
        return 4
    p("status:    ok, nothing new found" + (f" ({len(findings)} known finding(s))" if findings else ""))
    return 0


# ---- command line -----------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--out", required=True, help="the campaign directory, fuzz-out/OUTDIR")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("begin", help="recover, record the campaign, replay the seeds; prints the seed view")
    b.add_argument("--target", required=True)
    b.add_argument("--engine", required=True)
    b.add_argument("--inject", default="")
    b.add_argument("--seed-dir", action="append", default=[], help="a seed directory (repeatable)")
    b.add_argument("--time-limit", type=int)
    b.add_argument("--runs", type=int)
    b.add_argument("--jobs", type=int, default=1)
    b.add_argument("--max-steps", type=int, default=50000)
    b.add_argument("--log", default="")
    b.add_argument("--replay", required=True, help="the campaign build's TARGET_replay")
    b.add_argument("--tsan-replay", default="", help="build/tsan's TARGET_replay ('' for none)")
    b.add_argument("--cli", required=True, help="the campaign build's vmafuzz")
    tr = sub.add_parser("triage", help="replay, group, label, TSan-replay and minimize")
    tr.add_argument("--replay", required=True)
    tr.add_argument("--tsan-replay", default="", help="'' skips the ThreadSanitizer replay")
    tr.add_argument("--cli", required=True, help="the campaign build's vmafuzz")
    tr.add_argument("--tsan-cli", default="", help="build/tsan's vmafuzz, which minimizes TSan findings")
    tr.add_argument("--tsan-max", type=int, default=10, help="stop after N unique TSan signatures (0: never)")
    tr.add_argument("--no-minimize", dest="minimize", action="store_false")
    tr.add_argument("--minimize-time", type=int, default=10)
    m = sub.add_parser("merge", help="shrink the working corpus (libFuzzer -merge=1, afl-cmin)")
    m.add_argument("--engine", required=True)
    m.add_argument("--binary", required=True, help="the engine build of the fuzz target")
    m.add_argument("--engine-flag", action="append", default=[], metavar="FLAG",
                   help="a libFuzzer flag of the campaign that changes what a feature is "
                        "(-use_counters=, -use_value_profile=), passed to -merge=1 too (repeatable)")
    s = sub.add_parser("summary", help="print the summary; exit with scripts/fuzz's status")
    s.add_argument("--elapsed", type=int, default=0)
    s.add_argument("--interrupted", type=int, default=0)
    s.add_argument("--engine-rc", type=int, default=0)
    s.add_argument("--binary-rel", default="")
    a = ap.parse_args(argv)
    a.out = Path(a.out)
    if a.cmd != "begin" and not (a.out / "triage.json").exists():
        print(f"fuzz: no {a.out / 'triage.json'}: run begin first", file=sys.stderr)
        return 2
    try:
        return {"begin": cmd_begin, "triage": cmd_triage, "merge": cmd_merge, "summary": cmd_summary}[a.cmd](a) or 0
    except KeyboardInterrupt:
        # Every file is written atomically: the next run goes on from here.
        print(f"fuzz: {a.cmd} interrupted; what it wrote is kept and the next run goes on", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
