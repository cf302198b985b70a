#!/usr/bin/env python3
"""bench/run_bug_bench.py: the bug-finding benchmark.

For every catalogued bug (`vmafuzz list-bugs`) and every approach, N trials
with a fixed time cap; reports the detection rate and the median time to the
first report, as a Markdown table (docs/BENCHMARKS.md quotes it).
"""

import argparse
import concurrent.futures
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent
SEEDS = SRC / "corpus" / "fuzz_vma_lock"
DICT = SRC / "corpus" / "fuzz_vma_lock.dict"
LOGS = SRC / "build" / "logs"

# name -> column heading, in table order.
APPROACHES = {
    "campaign": "default campaign (shipped seeds)",
    "campaign-bytes": "campaign, byte mutations only",
    "campaign-entropic0": "campaign, -entropic=0",
    "campaign-alt": "campaign, --alt-build",
    "campaign-flags": "campaign, --alt-flags",
    "libfuzzer": "libFuzzer, features + coverage",
    "coverage": "libFuzzer, coverage only",
    "afl": "AFL++",
    "afl-campaign": "AFL++ campaign (shipped seeds, schedule mutator)",
    "afl-campaign-bytes": "AFL++ campaign, byte mutations only",
    "afl-campaign-only": "AFL++ campaign, schedule mutator only",
    "random": "scheduler alone, random",
    "pct": "scheduler alone, PCT",
    "native": "real threads + TSan",
}

LIBFUZZER_APPROACHES = ("campaign", "campaign-bytes", "campaign-entropic0", "campaign-alt", "campaign-flags",
                        "libfuzzer", "coverage")
AFL_APPROACHES = ("afl", "afl-campaign", "afl-campaign-bytes", "afl-campaign-only")

QUICK = dict(trials=2, cap=10)
FULL = dict(trials=10, cap=300)

HELP_EPILOG = f"""
approaches (--approaches, default all):
  campaign   the default campaign (scripts/fuzz with no options): preset
             libfuzzer (ASan + UBSan, coverage and interleaving features),
             its flags (-dict, -timeout=30, -use_counters=0,
             -max_total_time=CAP, -seed=T), from the shipped seeds (see
             below); the other libFuzzer approaches share these flags
  campaign-bytes
             the same with VMAFUZZ_SCHEDULE_MUTATOR=0: libFuzzer's byte
             mutations only, without the schedule mutator (the A/B of
             fuzz/schedule_mutator.h)
  campaign-entropic0
             the campaign with -entropic=0 added (the A/B of that flag:
             more executions per second, a different choice of inputs)
  campaign-alt
             the campaign with the fuzz_vma_lock of another build tree
             (--alt-build DIR, built beforehand, e.g. a copy of preset
             libfuzzer with other CMake options): the A/B of a build change
  campaign-flags
             the campaign with the libFuzzer flags of --alt-flags added
             after its own, which they override (--alt-flags="-use_counters=1":
             the campaign with hit counts): the A/B of a flag change
  libfuzzer  the same from an empty corpus: what the features and coverage
             find on their own, with no hand-written interleavings
  coverage   the same with VMAFUZZ_FEATURES=0: code coverage only, empty corpus
  afl        preset afl: afl-fuzz -V CAP -s T -x DICT, AFL_BENCH_UNTIL_CRASH=1,
             from one empty seed (afl-fuzz needs one)
  afl-campaign
             scripts/fuzz --engine afl: the same flags from the shipped seeds
             (see below), with the schedule mutator library
             (AFL_CUSTOM_MUTATOR_LIBRARY=vmafuzz_afl_mutator.so) beside
             AFL++'s own mutations
  afl-campaign-bytes
             the same without the library: AFL++'s byte mutations only
  afl-campaign-only
             the same with AFL_CUSTOM_MUTATOR_ONLY=1: schedule mutations only
  random     `vmafuzz hunt --strategy random` (release build): random legal
             scenarios under uniformly random schedules, no fuzzer
  pct        `vmafuzz hunt --strategy pct` (PCT depth 3), no fuzzer
  native     stress/native_hammer under ThreadSanitizer: real threads running
             the stress workload, a hung-task watchdog, payload checks
Bugs that only ThreadSanitizer sees (their summary says so) run the libFuzzer
approaches on preset tsan-libfuzzer and `vmafuzz hunt` on preset tsan; AFL++
has no ThreadSanitizer build here, so it is n/a for them. Since the
happens-before race oracle (race.payload) no catalogued bug is one: B06 and
B08 run on the plain builds like the rest.

The campaign starts from the shipped seeds minus the catalog's own regression
inputs (corpus/fuzz_vma_lock/B*, M*: each of those triggers its bug at once);
the seeds left are the spec's interleavings (S*) and a few random programs, and
with some bugs injected a seed already reports. Every other approach starts
from nothing.
Time to first report is wall-clock time of the whole process (start-up, seed
loading, AFL++ calibration included). The median counts a missed trial as
longer than the cap, so a median shows only when at least half the trials
found the bug. On the correct model no approach reports anything (the fuzz
checks in scripts/test and the hunt/native tests), so a report with a bug
injected is that bug.

modes: --quick (default): {QUICK['trials']} trials, {QUICK['cap']} s cap.
       --full: {FULL['trials']} trials, {FULL['cap']} s cap (hours).
       --trials and --cap override either.
exit codes: 0 ok (whatever was found), 1 a build or run failed, 2 bad command line.
"""


@dataclass
class Bug:
    name: str
    origin: str
    summary: str

    @property
    def tsan_only(self):
        return "ThreadSanitizer" in self.summary


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def build(name, builddir, target, configure):
    """Configure `builddir` if it has no build tree yet, then build `target`
    (bench/lib.sh's bench_build, which the shell benchmarks share; logs in
    build/logs/bugbench-NAME-*.log)."""
    r = subprocess.run(["bash", str(SRC / "bench" / "lib.sh"), "bench_build", f"bugbench-{name}", builddir, target]
                       + [str(c) for c in configure], cwd=SRC)
    if r.returncode != 0:
        sys.exit(f"run_bug_bench: building {target} in {builddir} failed")
    return SRC / builddir


def builds_for(approaches, tsan_bugs):
    """The binaries the approaches need; the TSan builds only if `tsan_bugs`."""
    b = {}
    if approaches & set(LIBFUZZER_APPROACHES):
        b["libfuzzer"] = build("libfuzzer", "build/libfuzzer", "fuzz_vma_lock",
                               ["cmake", "--preset", "libfuzzer"]) / "fuzz" / "fuzz_vma_lock"
        if tsan_bugs:
            b["tsan-libfuzzer"] = build("tsan-libfuzzer", "build/tsan-libfuzzer", "fuzz_vma_lock",
                                        ["cmake", "--preset", "tsan-libfuzzer"]) / "fuzz" / "fuzz_vma_lock"
    if approaches & set(AFL_APPROACHES):
        if not shutil.which("afl-fuzz"):
            sys.exit("run_bug_bench: afl-fuzz not found (scripts/setup installs afl++)")
        b["afl"] = build("afl", "build/afl", "fuzz_vma_lock",
                         ["cmake", "--preset", "afl"]) / "fuzz" / "fuzz_vma_lock"
        b["afl-mutator"] = build("afl", "build/afl", "vmafuzz_afl_mutator",
                                 ["cmake", "--preset", "afl"]) / "fuzz" / "vmafuzz_afl_mutator.so"
    if approaches & {"random", "pct"} and tsan_bugs:
        b["vmafuzz-tsan"] = build("tsan", "build/tsan", "vmafuzz",
                                  ["cmake", "--preset", "tsan"]) / "repro" / "vmafuzz"
    if "native" in approaches:
        d = "build/bench-native-tsan"
        b["native"] = build("native-tsan", d, "native_hammer", [
            "cmake", "-S", ".", "-B", d, "-G", "Ninja", "-DCMAKE_C_COMPILER=clang", "-DCMAKE_CXX_COMPILER=clang++",
            "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g",
            "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g", "-DVMAFUZZ_SANITIZE=thread", "-DVMAFUZZ_BUILD_TESTS=OFF",
            "-DVMAFUZZ_BUILD_BENCH=ON"]) / "stress" / "native_hammer"
    return b


def catalog(vmafuzz):
    out = subprocess.run([vmafuzz, "list-bugs"], capture_output=True, text=True, check=True).stdout
    bugs = []
    for line in out.splitlines():
        name, origin, summary = line.split(None, 2)
        bugs.append(Bug(name, origin, summary))
    return bugs


def benchmark_seeds(scratch, pattern="*"):
    """The shipped seeds without the catalog's regression inputs (those whose
    name matches `pattern`, a glob)."""
    d = scratch / "seeds"
    d.mkdir()
    for f in sorted(SEEDS.glob(pattern)):
        if f.is_file() and not f.name.startswith(("B", "M_")):
            shutil.copy(f, d / f.name)
    if not any(d.iterdir()):
        sys.exit(f"run_bug_bench: no seed in {SEEDS} matches {pattern!r}")
    return d


@dataclass
class Trial:
    bug: Bug
    approach: str
    index: int  # first..first+trials-1 (--first-trial); also the engine's seed


def command(t, builds, cap, seeds, work):
    """The command line and environment of one trial; None if not applicable."""
    env = dict(os.environ)
    for k in ("VMAFUZZ_INJECT", "VMAFUZZ_FEATURES", "VMAFUZZ_SCHEDULE_MUTATOR", "ASAN_OPTIONS", "UBSAN_OPTIONS",
              "TSAN_OPTIONS"):
        env.pop(k, None)
    env["VMAFUZZ_INJECT"] = t.bug.name
    a = t.approach
    if a in LIBFUZZER_APPROACHES:
        binary = builds["tsan-libfuzzer" if t.bug.tsan_only else "libfuzzer"]
        if a == "campaign-alt":
            binary = builds["alt"]
        env["ASAN_OPTIONS"] = "detect_leaks=0"
        if a == "coverage":
            env["VMAFUZZ_FEATURES"] = "0"
        if a == "campaign-bytes":
            env["VMAFUZZ_SCHEDULE_MUTATOR"] = "0"
        (work / "corpus").mkdir()
        dirs = [work / "corpus"] + ([seeds] if a.startswith("campaign") else [])
        # scripts/fuzz's default (docs/FUZZING.md); --alt-flags come later, and libFuzzer's last flag wins.
        flags = ["-use_counters=0"] + (["-entropic=0"] if a == "campaign-entropic0" else [])
        if a == "campaign-flags":
            flags += builds["alt-flags"]
        return [binary, "-timeout=30", "-rss_limit_mb=4096", f"-max_total_time={cap}", f"-seed={t.index}",
                f"-dict={DICT}", f"-artifact_prefix={work}/"] + flags + dirs, env
    if a in AFL_APPROACHES:
        if t.bug.tsan_only:
            return None
        for k in ("AFL_CUSTOM_MUTATOR_LIBRARY", "AFL_CUSTOM_MUTATOR_ONLY"):
            env.pop(k, None)
        env.update(AFL_NO_UI="1", AFL_SKIP_CPUFREQ="1", AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES="1",
                   AFL_NO_AFFINITY="1", AFL_BENCH_UNTIL_CRASH="1")
        if a == "afl":
            seed_dir = work / "in"
            seed_dir.mkdir()
            (seed_dir / "empty").write_bytes(b"\0")
        else:
            seed_dir = seeds
            if a != "afl-campaign-bytes":
                env["AFL_CUSTOM_MUTATOR_LIBRARY"] = str(builds["afl-mutator"])
            if a == "afl-campaign-only":
                env["AFL_CUSTOM_MUTATOR_ONLY"] = "1"
        return ["afl-fuzz", "-i", seed_dir, "-o", work / "out", "-x", DICT, "-V", str(cap), "-s", str(t.index),
                "-t", "10000", "--", builds["afl"]], env
    if a in ("random", "pct"):
        binary = builds["vmafuzz-tsan" if t.bug.tsan_only else "vmafuzz"]
        env["TSAN_OPTIONS"] = "halt_on_error=1:exitcode=66:atexit_sleep_ms=0"
        env.pop("VMAFUZZ_INJECT")
        return [binary, "hunt", "--strategy", a, "--inject", t.bug.name, "--seed", str(t.index), "--time", str(cap),
                "--save", work / "finding.bin"], env
    if a == "native":
        env.pop("VMAFUZZ_INJECT")
        return [builds["native"], "--inject", t.bug.name, "--seed", str(t.index), "--time", str(cap)], env
    raise ValueError(a)


def found(t, rc, work, output):
    """Did the trial report? Raises if the tool itself failed."""
    a = t.approach
    if a in LIBFUZZER_APPROACHES:
        if any(work.glob("crash-*")) or any(work.glob("timeout-*")):
            return True
        if rc == 0:
            return False
    elif a in AFL_APPROACHES:
        if any((work / "out" / "default" / "crashes").glob("id:*")):
            return True
        if "crashed with one of the test cases" in output or "results in a crash" in output:
            return True  # a seed already triggers it
        if rc == 0:
            return False
    elif a in ("random", "pct"):
        if rc in (1, 66):
            return True
        if rc == 0:
            return False
    elif a == "native":
        if rc in (3, 66):
            return True
        if rc == 0:
            return False
    raise RuntimeError(f"exit code {rc}:\n{output[-3000:]}")


def run_trial(t, builds, cap, seeds, scratch):
    work = scratch / f"{t.bug.name}-{t.approach}-{t.index}"
    work.mkdir()
    cmd = command(t, builds, cap, seeds, work)
    if cmd is None:
        return t, None, None
    argv, env = cmd
    t0 = time.monotonic()
    # A hard limit well past the cap: a tool that ignores its own is a failure.
    try:
        p = subprocess.run([str(x) for x in argv], env=env, cwd=work, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace", timeout=cap + 60)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{t.approach} on {t.bug.name} ran past its cap + 60 s")
    seconds = time.monotonic() - t0
    hit = found(t, p.returncode, work, p.stdout)
    # Keep the output of a hit for the log; drop the working files.
    (LOGS / "bugbench").mkdir(parents=True, exist_ok=True)
    (LOGS / "bugbench" / f"{work.name}.log").write_text(p.stdout[-20000:])
    shutil.rmtree(work, ignore_errors=True)
    return t, hit, min(seconds, cap) if hit else None


def fmt_seconds(s):
    return f"{s:.1f} s" if s < 100 else f"{s:.0f} s"


def median_time(times, trials):
    """Median with misses counted as infinitely long; None if half or more missed."""
    xs = sorted(times) + [float("inf")] * (trials - len(times))
    m = statistics.median(xs)
    return None if m == float("inf") else m


def main():
    ap = argparse.ArgumentParser(description=__doc__, epilog=HELP_EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="few trials, short cap (the default)")
    mode.add_argument("--full", action="store_true", help="the full benchmark")
    ap.add_argument("--trials", type=int, help="trials per bug and approach")
    ap.add_argument("--cap", type=int, help="seconds per trial")
    ap.add_argument("--first-trial", type=int, default=1,
                    help="number the trials (and their engine seeds) from this one (default 1): more trials of "
                         "an earlier run without repeating its seeds")
    ap.add_argument("--bugs", help="comma-separated bug names (default: the whole catalog)")
    ap.add_argument("--approaches", help="comma-separated approaches (default: all; see below)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="trials run at once, one core each (default: the CPUs)")
    ap.add_argument("--alt-build", type=Path,
                    help="approach campaign-alt: a build tree whose fuzz/fuzz_vma_lock it runs (built beforehand)")
    ap.add_argument("--alt-flags", default="",
                    help="approach campaign-flags: libFuzzer flags added to the campaign's, space-separated "
                         "(with =, since they start with a dash: --alt-flags=\"-use_counters=1 -reduce_inputs=0\")")
    ap.add_argument("--results", type=Path, help="also write every trial, tab-separated, to this file")
    ap.add_argument("--seed-glob", default="*",
                    help="the campaigns start from the shipped seeds matching this glob (default: all; "
                         "e.g. 'S5_*' for one seed)")
    args = ap.parse_args()
    m = FULL if args.full else QUICK
    trials = args.trials or m["trials"]
    cap = args.cap or m["cap"]
    if trials < 1 or cap < 1 or args.jobs < 1 or args.first_trial < 1:
        ap.error("--trials, --cap, --jobs and --first-trial must be at least 1")
    approaches = list(APPROACHES) if not args.approaches else args.approaches.split(",")
    unknown = [a for a in approaches if a not in APPROACHES]
    if unknown:
        ap.error(f"unknown approach {unknown[0]!r} (approaches: {', '.join(APPROACHES)})")

    # The release build's vmafuzz: the catalog, and the scheduler-alone runs.
    vmafuzz = build("release", "build/release", "vmafuzz", ["cmake", "--preset", "release"]) / "repro" / "vmafuzz"
    bugs = catalog(vmafuzz)
    if args.bugs:
        names = args.bugs.split(",")
        known = {b.name for b in bugs}
        bad = [n for n in names if n not in known]
        if bad:
            ap.error(f"unknown bug {bad[0]!r} (vmafuzz list-bugs lists them)")
        bugs = [b for b in bugs if b.name in names]
    builds = builds_for(set(approaches), any(b.tsan_only for b in bugs))
    builds["vmafuzz"] = vmafuzz
    if "campaign-alt" in approaches:
        if not args.alt_build or not (args.alt_build / "fuzz" / "fuzz_vma_lock").is_file():
            ap.error("campaign-alt needs --alt-build DIR with a built fuzz/fuzz_vma_lock")
        builds["alt"] = args.alt_build.resolve() / "fuzz" / "fuzz_vma_lock"
    if "campaign-flags" in approaches and not args.alt_flags.split():
        ap.error("campaign-flags needs --alt-flags FLAGS")
    builds["alt-flags"] = args.alt_flags.split()

    scratch = Path(tempfile.mkdtemp(prefix="vmafuzz-bugbench-"))
    try:
        seeds = benchmark_seeds(scratch, args.seed_glob)
        indices = range(args.first_trial, args.first_trial + trials)
        todo = [Trial(b, a, i) for i in indices for b in bugs for a in approaches]
        log(f"== {len(todo)} trials ({len(bugs)} bugs x {len(approaches)} approaches x {trials}), cap {cap} s, "
            f"{args.jobs} at once; worst case {len(todo) * cap / args.jobs / 60:.0f} min")
        results = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(run_trial, t, builds, cap, seeds, scratch) for t in todo]
            for n, f in enumerate(concurrent.futures.as_completed(futures), 1):
                t, hit, seconds = f.result()
                results[(t.bug.name, t.approach, t.index)] = (hit, seconds)
                what = "n/a" if hit is None else (f"found in {seconds:.1f} s" if hit else "not found")
                log(f"[{n}/{len(todo)}] {t.bug.name} / {t.approach} / trial {t.index}: {what}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    if args.results:
        with open(args.results, "w") as out:
            out.write("bug\tapproach\ttrial\tfound\tseconds\n")
            for (b, a, i), (hit, s) in sorted(results.items()):
                out.write(f"{b}\t{a}\t{i}\t{'na' if hit is None else int(hit)}\t{'' if s is None else f'{s:.2f}'}\n")

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=SRC, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=SRC).returncode != 0
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"Machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}")
    print(f"Date: {time.strftime('%Y-%m-%d', time.gmtime())}, commit {commit}{' + uncommitted changes' if dirty else ''}, "
          f"load average {' '.join(open('/proc/loadavg').read().split()[:3])} at the end")
    print(f"Trials: {trials} per cell, cap {cap} s, {args.jobs} trials at once")
    if "campaign-flags" in approaches:
        print(f"campaign-flags: {' '.join(builds['alt-flags'])}")
    print()
    print("Each cell: trials that found the bug / trials, and the median time to the first report.")
    print()
    cols = [APPROACHES[a] for a in approaches]
    ratio = "campaign" in approaches and "native" in approaches
    print("| bug | origin | " + " | ".join(cols) + (" | real threads / campaign |" if ratio else " |"))
    print("|---|---|" + "---|" * (len(cols) + ratio))
    medians = {}
    for b in bugs:
        cells = []
        for a in approaches:
            rs = [results[(b.name, a, i)] for i in indices]
            if all(hit is None for hit, _ in rs):
                cells.append("n/a")
                continue
            times = [s for hit, s in rs if hit]
            med = median_time(times, trials)
            medians[(b.name, a)] = med
            cells.append(f"{len(times)}/{trials}, " + (fmt_seconds(med) if med is not None else f"> {cap} s"))
        row = f"| {b.name} | {b.origin} | " + " | ".join(cells) + " |"
        if ratio:
            fz, nt = medians.get((b.name, "campaign")), medians.get((b.name, "native"))
            if fz is None:
                r = "-"
            elif nt is None:
                r = f"> {cap / max(fz, 0.1):.0f}x"
            else:
                r = f"{nt / max(fz, 0.1):.2g}x"
            row += f" {r} |"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
