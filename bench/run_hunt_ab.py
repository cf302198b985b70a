#!/usr/bin/env python3
"""bench/run_hunt_ab.py: time to find each catalogued bug with `vmafuzz hunt`, old build against new.

For every bug of the catalog that an oracle reports (the ThreadSanitizer-only
ones need a TSan build and are left out) and each of `hunt`'s strategies
(random, pct), runs `vmafuzz hunt --inject BUG --strategy S --seed N --runs
CAP` with the release build of git revision OLD and of the working tree,
alternately, and prints for each: the run in which the bug was found (the
same in both builds when the engine change keeps the schedules: same seed,
same scenarios, same interleavings) and the CPU seconds (user + system) each
build took to get there. CPU time, not wall clock, so that a loaded machine
compares the builds fairly. The reduced, deterministic form of
bench/run_bug_bench.py's "scheduler alone" approaches.

Exit codes: 0 ok (the table printed), 1 a build or run failed, or the two
builds found a bug in different runs (a schedule changed), 64 bad command line.
"""
import argparse
import pathlib
import resource
import subprocess
import sys
import tempfile

SRC = pathlib.Path(__file__).resolve().parent.parent
TSAN_ONLY = {"seq_end_without_release", "mprotect_without_vma_write_lock"}


def build(name, srcdir):
    """The release vmafuzz of source tree srcdir (bench/lib.sh's bench_build)."""
    builddir = pathlib.Path(srcdir) / "build" / "release"
    r = subprocess.run(["bash", str(SRC / "bench" / "lib.sh"), "bench_build", f"huntab-{name}", str(builddir),
                        "vmafuzz", "bash", "-c", 'cd "$0" && cmake --preset release', str(srcdir)], cwd=SRC)
    if r.returncode != 0:
        sys.exit(1)
    return builddir / "repro" / "vmafuzz"


def hunt(vmafuzz, bug, strategy, seed, cap, work):
    """(run of the finding or None, CPU seconds) of one hunt."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run([str(vmafuzz), "hunt", "--inject", bug, "--strategy", strategy, "--seed", str(seed),
                        "--runs", str(cap), "--time", "100000", "--save", str(work / "finding.bin")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode == 0:
        return None, cpu
    if p.returncode != 1:
        print(f"run_hunt_ab: {vmafuzz} hunt failed ({p.returncode}): {p.stderr.strip()}", file=sys.stderr)
        sys.exit(1)
    for word in (p.stdout + p.stderr).split("finding in run ")[1:]:
        return int(word.split()[0]), cpu
    print(f"run_hunt_ab: no 'finding in run N' in hunt's output for {bug}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", required=True, help="git revision of the old build")
    ap.add_argument("--seed", type=int, default=1, help="hunt's --seed (default 1)")
    ap.add_argument("--cap", type=int, default=50000, help="hunt's --runs: runs before giving up (default 50000)")
    ap.add_argument("--bugs", help="comma-separated bug names (default: the catalog minus the TSan-only ones)")
    args = ap.parse_args()
    if args.cap < 1:
        ap.error("--cap must be >= 1")

    export = subprocess.run(["bash", "-c", 'source bench/lib.sh && bench_export_rev "$1" build/bench-baseline-src',
                             "-", args.baseline], cwd=SRC, stdout=subprocess.PIPE, text=True)
    if export.returncode != 0:
        sys.exit(64)
    old_rev = export.stdout.strip()[:7]
    old = build("old", SRC / "build" / "bench-baseline-src")
    new = build("new", SRC)
    if args.bugs:
        bugs = args.bugs.split(",")
    else:
        listing = subprocess.run([str(new), "list-bugs"], stdout=subprocess.PIPE, text=True, check=True).stdout
        bugs = [line.split()[0] for line in listing.splitlines() if line.strip() and not line.startswith(" ")]
        bugs = [b for b in bugs if b not in TSAN_ONLY]
    new_rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=SRC, stdout=subprocess.PIPE,
                             text=True).stdout.strip()

    print(f"`vmafuzz hunt --seed {args.seed} --runs {args.cap}`; old {old_rev}, new {new_rev}; CPU seconds")
    print()
    print("| bug | strategy | found in run (old / new) | CPU s old | CPU s new | new / old |")
    print("|---|---|---|---|---|---|")
    changed = False
    total_old = total_new = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        for bug in bugs:
            for strategy in ("random", "pct"):
                run_old, cpu_old = hunt(old, bug, strategy, args.seed, args.cap, work)
                run_new, cpu_new = hunt(new, bug, strategy, args.seed, args.cap, work)
                changed |= run_old != run_new
                total_old += cpu_old
                total_new += cpu_new
                runs = f"{run_old or f'> {args.cap}'} / {run_new or f'> {args.cap}'}"
                print(f"| {bug} | {strategy} | {runs} | {cpu_old:.2f} | {cpu_new:.2f} | "
                      f"{cpu_new / cpu_old if cpu_old else 0:.2f} |", flush=True)
    print(f"| all | | | {total_old:.2f} | {total_new:.2f} | {total_new / total_old if total_old else 0:.2f} |")
    if changed:
        print("run_hunt_ab: a bug was found in a different run: the schedules changed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
