#!/usr/bin/env python3
"""Schedules to the first store-buffer lost wake-up: vmafuzz's C11 mode
against Relacy, on the peer benchmark's protocol (bench/peers/three_tasks.sched
and bench/peers/relacy_vma_lock.cpp), side by side in one run.

Ours: the program in C11 mode under the random strategy, each run a fresh
random seed and 16 random reads-from choices, until `vmafuzz run` reports a
finding with the mutant injected; --trials trials (Python's random.Random(t)
draws trial t's runs), the median and range of runs to the first finding.
Relacy: its random scheduler (deterministic: one count) and its context-bound
scheduler (bound 2) with the matching --mutant.

Mutants: rcuwait_wake_up_no_mb / no_wake_fence (barrier B),
set_current_state_no_mb / no_state_fence (barrier A).

Usage: bench/peers/sb_first_failure.py --vmafuzz BIN --relacy BIN
         [--trials N] [--max-runs N] [--work DIR]
Exit codes: 0 ok, 1 a trial found nothing within --max-runs or a tool
failed, 2 bad command line (argparse).
"""
import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile

MUTANTS = [("rcuwait_wake_up_no_mb", "no_wake_fence"), ("set_current_state_no_mb", "no_state_fence")]


def program_body(path):
    with open(path) as f:
        lines = [l for l in f.read().splitlines() if not l.startswith("#")]
    return "\n".join(l for l in lines if not l.startswith(("schedule", "expect"))) + "\n"


def runs_to_finding(vmafuzz, body, bug, trial, max_runs, work):
    rng = random.Random(trial)
    path = os.path.join(work, "sb.sched")
    for run in range(1, max_runs + 1):
        reads = " ".join(str(rng.randrange(256)) for _ in range(16))
        with open(path, "w") as f:
            f.write(body + f"memory-model c11 reads {reads}\nschedule random seed 0x{rng.getrandbits(64):016x}\n")
        rc = subprocess.run([vmafuzz, "run", "--inject", bug, path], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode
        if rc == 1:
            return run
        if rc != 0:
            sys.exit(f"sb_first_failure: vmafuzz run exit {rc} on {path}")
    return None


def relacy_count(relacy, mutant, *args):
    out = subprocess.run([relacy, "--mutant", mutant, *args], capture_output=True, text=True)
    m = re.search(r"FAILED \(DEADLOCK\) at schedule (\d+)", out.stdout + out.stderr)
    return int(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vmafuzz", required=True)
    ap.add_argument("--relacy", required=True)
    ap.add_argument("--trials", type=int, default=21)
    ap.add_argument("--max-runs", type=int, default=2000)
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    body = program_body(os.path.join(here, "three_tasks.sched"))
    work = a.work or tempfile.mkdtemp(prefix="sb-bench-")
    ok = True
    print("| mutant | ours: runs to first lost wake-up, median (min-max) over trials | Relacy random | Relacy context bound 2 |")
    print("|---|---|---|---|")
    for bug, mutant in MUTANTS:
        counts = [runs_to_finding(a.vmafuzz, body, bug, t, a.max_runs, work) for t in range(1, a.trials + 1)]
        found = [c for c in counts if c is not None]
        ok &= len(found) == len(counts)
        ours = (f"{statistics.median(found):g} ({min(found)}-{max(found)}), {len(found)}/{len(counts)} trials"
                if found else f"none in {a.max_runs}")
        print(f"| {bug} / {mutant} | {ours} | {relacy_count(a.relacy, mutant, '--iterations', '1000000')} | "
              f"{relacy_count(a.relacy, mutant, '--scheduler', 'bound', '--context-bound', '2', '--time', '60')} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
