#!/usr/bin/env python3
"""bench/c11_execs_to_find.py: libFuzzer executions to the first report of a
bug, from the shipped seeds without that bug's own regression seeds.

Usage: bench/c11_execs_to_find.py [--trials N] [--cap S] [--bugs A,B]
                                   LABEL=FUZZ_VMA_LOCK [LABEL=FUZZ_VMA_LOCK ...]

Each FUZZ_VMA_LOCK is a libFuzzer build of fuzz/fuzz_vma_lock.cpp (e.g. the
`libfuzzer` preset's, or one built the same way from `git archive` of a base
commit). Trials run one after the other, the binaries interleaved (trial t of
every binary before trial t+1), each with VMAFUZZ_INJECT=BUG, -seed=t, the
dictionary and -max_total_time=CAP, starting from corpus/fuzz_vma_lock minus
the files whose name holds one of the bugs measured (their regression
seeds: the two store-buffer mutants share one program and schedule). Executions are
libFuzzer's stat::number_of_executed_units (-print_final_stats=1), exact for
a given seed and build: the measure that machine load does not change.
Prints a Markdown table of medians (min-max; a missed trial counts as above
the cap). Exit codes: 0 ok, 1 a run failed to start, 2 bad command line.
Defaults: 11 trials, 120 s cap, the two store-buffer mutants.
"""
import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent


def trial(binary, bug, t, cap, seeds, work):
    corp = work / "corp"
    corp.mkdir()
    r = subprocess.run([binary, f"-dict={SRC / 'corpus' / 'fuzz_vma_lock.dict'}", "-timeout=30",
                        f"-max_total_time={cap}", f"-seed={t}", "-print_final_stats=1",
                        f"-artifact_prefix={work}/", str(corp), str(seeds)],
                       env={"VMAFUZZ_INJECT": bug, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                       errors="replace")
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", r.stderr)
    if not m:
        sys.exit(f"c11_execs_to_find: {binary} printed no final stats:\n{r.stderr[-2000:]}")
    found = any(work.glob("crash-*"))
    return int(m.group(1)), found


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=11)
    ap.add_argument("--cap", type=int, default=120, help="seconds per trial")
    ap.add_argument("--bugs", default="rcuwait_wake_up_no_mb,set_current_state_no_mb")
    ap.add_argument("binaries", nargs="+", metavar="LABEL=FUZZ_VMA_LOCK")
    a = ap.parse_args()
    bins = []
    for spec in a.binaries:
        label, sep, path = spec.partition("=")
        if not sep or not Path(path).is_file():
            ap.error(f"not LABEL=an existing binary: {spec}")
        bins.append((label, path))
    results = {}
    with tempfile.TemporaryDirectory(prefix="c11ttf-") as tmp:
        tmp = Path(tmp)
        bugs = a.bugs.split(",")
        seeds = tmp / "seeds"
        seeds.mkdir()
        for f in (SRC / "corpus" / "fuzz_vma_lock").iterdir():
            if not any(bug in f.name for bug in bugs):
                shutil.copy(f, seeds)
        for bug in bugs:
            for t in range(1, a.trials + 1):
                for label, path in bins:
                    work = tmp / f"{bug}-{label}-{t}"
                    work.mkdir()
                    ex, found = trial(path, bug, t, a.cap, seeds, work)
                    results.setdefault((bug, label), []).append(ex if found else float("inf"))
                    print(f"# {bug} {label} trial {t}: {ex} executions, {'found' if found else 'missed'}",
                          file=sys.stderr)
    print("| bug | " + " | ".join(f"{label}: executions, median (min-max)" for label, _ in bins) + " |")
    print("|---|" + "---|" * len(bins))
    for bug in a.bugs.split(","):
        cells = []
        for label, _ in bins:
            v = results[(bug, label)]
            found = sum(x != float("inf") for x in v)
            cells.append(f"{statistics.median(v):.0f} ({min(v):.0f}-{max(v):.0f}), {found}/{len(v)}")
        print(f"| {bug} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
