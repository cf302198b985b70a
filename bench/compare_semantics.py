#!/usr/bin/env python3
"""bench/compare_semantics.py: every shipped input's verdict under two builds of `vmafuzz`.

Runs `vmafuzz run` with the OLD and the NEW binary on every shipped scenario
(tests/sched/**/*.sched, tests/fuzz/crashes/*.bin, corpus/sched/*.sched,
corpus/fuzz_vma_lock/*, bench/peers/*.sched, bench/explore/*.sched, and any
--extra directory), once on the model as shipped (a crash file's sidecar
applies) and once with each catalogued bug injected (`--inject BUG`), and
`vmafuzz diff` on the fuzz_nfc seeds; then compares each input's report:
the scenario, every operation's outcome, the verdict and the finding (oracle,
message, position, signature). The step count and the trace hash are left
out of the comparison and counted apart: a change of scheduling semantics
that only removes scheduling points at the end of a run (docs/SCHEDULER.md,
"Alone at exit") changes them by design and nothing else.

Usage: bench/compare_semantics.py --old BIN [--new BIN] [--extra DIR]...
  --old BIN    the old `vmafuzz` (e.g. the release build of the main branch)
  --new BIN    the new one (default: build/release/repro/vmafuzz)
  --extra DIR  also every file of DIR (binary inputs), e.g. /tmp/randin
  --no-bugs    only the model as shipped (no --inject runs)

Prints one line per difference and a summary. Exit codes: 0 every report
the same, 1 some report differs (or a run failed), 64 bad command line.
"""
import argparse
import pathlib
import re
import subprocess
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent


def shipped_inputs(extra):
    globs = ["tests/sched/*.sched", "tests/sched/regressions/*.sched", "tests/fuzz/crashes/*.bin",
             "corpus/sched/*.sched", "corpus/fuzz_vma_lock/*.bin", "bench/peers/*.sched", "bench/explore/*.sched"]
    files = []
    for g in globs:
        files += sorted(str(p.relative_to(SRC)) for p in SRC.glob(g))
    for d in extra:
        files += sorted(str(p) for p in pathlib.Path(d).iterdir() if p.is_file())
    return files


def reports(cmd, files):
    """{input: (compared lines, steps, trace)} of one `vmafuzz run`/`diff` over files."""
    out = {}
    chunk = 1 if cmd[1] == "diff" else 200  # diff takes one input; keep command lines short
    for i in range(0, len(files), chunk):
        p = subprocess.run(cmd + files[i:i + chunk], cwd=SRC, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        if p.returncode not in (0, 1, 2) or (p.returncode == 2 and ": error:" not in p.stdout):
            print(f"compare_semantics: {' '.join(cmd)} ... exited {p.returncode}:\n{p.stdout[-2000:]}",
                  file=sys.stderr)
            sys.exit(1)
        name, lines, steps, trace = None, [], [], []
        for line in p.stdout.splitlines() + ["input: <end>"]:
            if line.startswith("input:") or ": error: " in line:  # an unreadable input is its own report
                if name is not None:
                    out[name] = ("\n".join(lines), tuple(steps), tuple(trace))
                name = line.split()[1] if line.startswith("input:") else line.split(": error: ")[0]
                lines, steps, trace = [line], [], []
            elif re.match(r"\s*(steps|events):", line):  # diff's event count includes the alone-at-exit mark
                steps.append(line.split()[-1])
            elif re.match(r"\s*trace( hash)?:", line):
                trace.append(line.split()[-1])
            elif name is not None and not line.startswith(("inputs:", "summary:")):
                lines.append(line)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", default=str(SRC / "build" / "release" / "repro" / "vmafuzz"))
    ap.add_argument("--extra", action="append", default=[])
    ap.add_argument("--no-bugs", action="store_true")
    a = ap.parse_args()
    for b in (a.old, a.new):
        if not pathlib.Path(b).is_file():
            print(f"compare_semantics: no such binary: {b}", file=sys.stderr)
            return 64
    files = shipped_inputs(a.extra)
    bugs = [] if a.no_bugs else [l.split()[0] for l in subprocess.run(
        [a.new, "list-bugs"], stdout=subprocess.PIPE, text=True, check=True).stdout.splitlines() if l.strip()]
    nfc = sorted(str(p.relative_to(SRC)) for p in (SRC / "corpus" / "fuzz_nfc").glob("*.bin"))
    modes = [("as shipped", ["run"], files)] + [(f"--inject {b}", ["run", "--inject", b], files) for b in bugs]
    modes.append(("diff pre,post", ["diff", "--versions", "pre_series,post_series"], nfc))
    total = same = steps_same = trace_same = 0
    differ = []
    for label, args, inputs in modes:
        old = reports([a.old] + args, inputs)
        new = reports([a.new] + args, inputs)
        for name in sorted(set(old) | set(new)):
            total += 1
            o, n = old.get(name), new.get(name)
            if o is None or n is None or o[0] != n[0]:
                differ.append((label, name, o, n))
                continue
            same += 1
            steps_same += o[1] == n[1]
            trace_same += o[2] == n[2]
    for label, name, o, n in differ:
        print(f"DIFFERS ({label}) {name}")
        print("  old: " + (o[0].replace("\n", "\n       ") if o else "<missing>"))
        print("  new: " + (n[0].replace("\n", "\n       ") if n else "<missing>"))
    print(f"compare_semantics: {total} reports ({len(files)} inputs x {1 + len(bugs)} models, "
          f"{len(nfc)} diff inputs): {same} the same, {len(differ)} differ; "
          f"of the same, {steps_same} with the same step count and {trace_same} with the same trace hash")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
