#!/usr/bin/env python3
"""crash_state.py: do different oracles give different ClusterFuzz crash states?

ClusterFuzz (OSS-Fuzz, ClusterFuzzLite) groups crashes into bugs by crash
state: the crash type and the top three stack frames, after skipping frames
it ignores (abort, libc, sanitizer runtimes, libFuzzer, LLVMFuzzerTestOneInput,
main...: the subset of its STACK_FRAME_IGNORE_REGEXES below that can appear in
these stacks). Every regression input of the bug catalog (corpus/NAME/B*.bin,
M_*.bin) is run by a fuzz target built with ASan, with ASAN_OPTIONS as
ClusterFuzz sets them (handle_abort=1, so ASan prints the abort's stack); the
state is computed from the first stack ASan prints. Checks: the top frame is
the finding's oracle's abort function (fuzz/target_support.cpp), inputs of one
oracle share a state, and inputs of different oracles never do.

Usage: crash_state.py --target BIN --vmafuzz VMAFUZZ [--corpus DIR]
BIN is a fuzz target (libFuzzer build) or its replay driver; VMAFUZZ the
same build's `vmafuzz` (for `list-bugs`). An input that passes must be of a
bug only ThreadSanitizer sees (list-bugs says so). Exit 0 when every check
holds, 1 otherwise.
"""
import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

IGNORE = [re.compile(r) for r in (
    r"^abort", r"^raise$", r"^gsignal", r"^pthread_kill$", r"^__pthread_kill", r"^tgkill$", r"^exit$",
    r"^__GI_", r"^__libc_", r"^_start", r"^main", r"^__asan", r"^__sanitizer", r"^__ubsan", r"^__interceptor_",
    r"^fuzzer::", r"^LLVMFuzzerTestOneInput", r"^std::__terminate", r".*assert", r".*libc\.so", r".*libpthread",
    r"^<unknown>$", r".*/libc\+\+",
)]
# "    #3 0x5591f174d41f in vmafuzz::fuzz::oracle_fired::kX() /path/file.inc:25:1"
# "    #10 0x5591f1681600 in _start (/path/binary+0x69600) (BuildId: ...)"
FRAME = re.compile(r"^\s*#\d+ 0x[0-9a-f]+ in (.+)$")
MODULE = re.compile(r" \([^ ()]+\+0x[0-9a-f]+\).*$")
LOCATION = re.compile(r" \S+:\d+(:\d+)?$")


def function_name(text):
    """The function as ClusterFuzz writes it in a state: without parameters."""
    text = text.strip()
    # Drop the parameter list: the last balanced (...) at the end.
    depth, cut = 0, len(text)
    for i in range(len(text) - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            depth -= 1
            if depth == 0:
                cut = i
                break
    return text[:cut] if text.endswith(")") and cut > 0 else text


def crash_state(output):
    """(crash type, [up to three frames]) of the first sanitizer stack."""
    m = re.search(r"ERROR: AddressSanitizer: (\w+)", output) or re.search(r"ERROR: libFuzzer: (deadly signal)", output)
    if not m:
        return None
    kind = {"ABRT": "Abrt", "deadly signal": "Abrt"}.get(m.group(1), m.group(1))
    frames = []
    for line in output[m.end():].splitlines():
        f = FRAME.match(line)
        if not f:
            if frames or line.startswith("SUMMARY"):
                break
            continue
        name = function_name(LOCATION.sub("", MODULE.sub("", f.group(1))))
        if any(r.match(name) for r in IGNORE):
            continue
        frames.append(name)
        if len(frames) == 3:
            break
    return kind, frames


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True, help="the fuzz target or its replay driver (ASan build)")
    ap.add_argument("--vmafuzz", required=True, help="vmafuzz of the same build (list-bugs)")
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus" / "fuzz_vma_lock",
                    help="where the regression inputs B*.bin, M_*.bin are (default: %(default)s)")
    args = ap.parse_args()

    tsan_only = set()
    for line in subprocess.run([args.vmafuzz, "list-bugs"], capture_output=True, text=True, check=True).stdout.splitlines():
        name, _origin, summary = line.split(None, 2)
        if "ThreadSanitizer" in summary:
            tsan_only.add(name)

    inputs = sorted(p for p in args.corpus.iterdir() if re.match(r"^(B\d+|M)_.+\.bin$", p.name))
    if len(inputs) < 2:
        sys.exit(f"crash_state: fewer than two regression inputs in {args.corpus}")
    env = dict(os.environ)
    # ClusterFuzz's ASAN_OPTIONS for libFuzzer jobs include these two; the
    # rest of its options do not change the stack.
    env["ASAN_OPTIONS"] = "handle_abort=1:symbolize=1:detect_leaks=0"
    states = {}  # oracle -> {state: [inputs]}
    failures = []
    for path in inputs:
        bug = re.sub(r"^(B\d+|M)_", "", path.stem)
        env["VMAFUZZ_INJECT"] = bug
        p = subprocess.run([args.target, str(path)], env=env, capture_output=True, text=True, errors="replace",
                           timeout=120)
        out = p.stdout + p.stderr
        sig = re.search(r"SIGNATURE: ([^|\n]+)", out)
        if p.returncode == 0:
            if bug not in tsan_only:
                failures.append(f"{path.name}: passed with --inject {bug}, which is not a ThreadSanitizer-only bug")
            print(f"{path.name}: no finding in this build ({bug} is ThreadSanitizer-only)")
            continue
        state = crash_state(out)
        if not sig or not state:
            failures.append(f"{path.name}: exit {p.returncode} without a SIGNATURE line and an ASan stack:\n{out[-3000:]}")
            continue
        oracle = sig.group(1)
        kind, frames = state
        print(f"{path.name}: oracle {oracle}: {kind} / {' / '.join(frames)}")
        if not frames or "oracle_fired::" not in frames[0]:
            failures.append(f"{path.name}: the top frame is not an oracle's abort function: {frames}")
        states.setdefault(oracle, {}).setdefault((kind, tuple(frames)), []).append(path.name)

    for oracle, by_state in states.items():
        if len(by_state) > 1:
            failures.append(f"oracle {oracle} has {len(by_state)} crash states: {by_state}")
    seen = {}
    for oracle, by_state in states.items():
        for state in by_state:
            if state in seen and seen[state] != oracle:
                failures.append(f"oracles {seen[state]} and {oracle} share the crash state {state}")
            seen[state] = oracle
    if len(states) < 2:
        failures.append(f"only {len(states)} oracle(s) reported; the check needs at least two")
    for f in failures:
        print("FAIL:", f)
    print(f"crash_state: {len(states)} oracles, {len(seen)} crash states, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
