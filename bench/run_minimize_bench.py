#!/usr/bin/env python3
"""Minimization benchmark: for every catalogued bug, a crash found from an
empty corpus, minimized three ways (`vmafuzz minimize`, libFuzzer's
-minimize_crash, afl-tmin), against the hand-written regression scenario.

For each bug (`vmafuzz list-bugs`):
  1. find a crash: libFuzzer (preset libfuzzer; tsan-libfuzzer for the bugs
     only ThreadSanitizer sees) from an empty corpus with the dictionary,
     -max_total_time=CAP, -seed=1; if none, `vmafuzz hunt --strategy random`
     for CAP seconds; if none, libFuzzer from the shipped seeds minus the
     catalog's own regression inputs (B*, M_*). The table says which.
  2. its size: `vmafuzz minimize --runs 1` prints tasks, ops, preemptions
     (switch-list pairs; for pct and random the decisions the run took) and
     bytes without minimizing.
  3. `vmafuzz minimize` (release build; build/tsan's for TSan-only bugs),
     default budget (10 s);
     libFuzzer: the same binary with -minimize_crash=1 -runs=RUNS
     -max_total_time=60;
     afl-tmin (preset afl's fuzz_vma_lock, AFL_MAP_SIZE=65536), not for
     TSan-only bugs (no TSan AFL build).
     Each result is measured as in 2, and checked: "kept" if its run still
     has the crash's key (oracle|detail, or the TSan race's functions).
  4. the hand-written tests/sched/<origin>_<bug>.sched: ops and preemptions
     (run lines), bytes through `vmafuzz convert`.

Prints a Markdown table (docs/BENCHMARKS.md, "Minimization") and, with
--results, writes every measurement tab-separated.
exit codes: 0 ok, 1 a build failed, 2 bad command line.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_bug_bench as bb  # noqa: E402  (build(), catalog(), SRC, DICT, SEEDS)

SRC = bb.SRC
ROW = re.compile(r"^\s+(before|after)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\(([a-z-]+)\)")
KEY = re.compile(r"^minimize: key (.*)$", re.M)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def clean_env(bug=None):
    env = dict(os.environ)
    for k in ("VMAFUZZ_INJECT", "VMAFUZZ_FEATURES", "VMAFUZZ_SCHEDULE_MUTATOR", "ASAN_OPTIONS", "UBSAN_OPTIONS",
              "TSAN_OPTIONS"):
        env.pop(k, None)
    env["ASAN_OPTIONS"] = "detect_leaks=0"
    env["TSAN_OPTIONS"] = "atexit_sleep_ms=0"
    if bug:
        env["VMAFUZZ_INJECT"] = bug
    return env


def measure(vmafuzz, bug, path):
    """(key, sizes dict) of `path` with `bug`, or (None, None) if it passes."""
    out = Path(tempfile.mktemp(suffix=".bin"))
    p = subprocess.run([vmafuzz, "minimize", "--inject", bug, "--runs", "1", path, "-o", out],
                       capture_output=True, text=True, env=clean_env())
    out.unlink(missing_ok=True)
    if p.returncode != 0:
        return None, None
    key = KEY.search(p.stdout).group(1)
    for line in p.stdout.splitlines():
        m = ROW.match(line)
        if m and m.group(1) == "before":
            return key, dict(tasks=int(m.group(2)), ops=int(m.group(3)), pre=int(m.group(4)), bytes=int(m.group(5)),
                             strategy=m.group(6))
    return key, None


def find_crash(bug, builds, cap, work):
    """(path, how) of a crash of `bug`, or (None, why)."""
    fuzzer = builds["tsan-libfuzzer" if bug.tsan_only else "libfuzzer"]
    vmafuzz = builds["vmafuzz-tsan" if bug.tsan_only else "vmafuzz"]
    for how, dirs in (("libFuzzer, empty corpus", []), ("hunt", None), ("libFuzzer, shipped seeds", ["seeds"])):
        d = work / ("find-" + how.split(",")[0].replace(" ", "") + str(len(dirs or [])))
        d.mkdir()
        t0 = time.monotonic()
        if dirs is None:
            subprocess.run([vmafuzz, "hunt", "--strategy", "random", "--inject", bug.name, "--seed", "1", "--time",
                            str(cap), "--save", d / "crash-hunt"], cwd=d, env=clean_env(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            (d / "corpus").mkdir()
            extra = [bb.benchmark_seeds(d)] if dirs else []
            subprocess.run([fuzzer, "-timeout=30", "-rss_limit_mb=4096", f"-max_total_time={cap}", "-seed=1",
                            f"-dict={bb.DICT}", f"-artifact_prefix={d}/", d / "corpus"] + extra, cwd=d,
                           env=clean_env(bug.name), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=cap + 120)
        crashes = sorted(d.glob("crash-*"))
        if crashes:
            return crashes[0], f"{how} ({time.monotonic() - t0:.0f} s)"
    return None, f"not found in {cap} s by any of the three"


def timed(argv, env, cwd, limit):
    t0 = time.monotonic()
    try:
        subprocess.run([str(a) for a in argv], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=limit)
    except subprocess.TimeoutExpired:
        pass
    return time.monotonic() - t0


def hand_written(vmafuzz, bug, work):
    files = sorted((SRC / "tests" / "sched").glob(f"*_{bug.name}.sched"))
    if not files:
        return None
    text = files[0].read_text()
    ops = pre = 0
    section = None
    for line in text.splitlines():
        if line.startswith("task "):
            section = "task"
        elif line.startswith("schedule"):
            section = "schedule"
        elif not line.startswith((" ", "\t")):
            section = None
        elif line.strip() and not line.strip().startswith("#"):
            if section == "task":
                ops += 1
            elif section == "schedule" and line.strip().startswith("run "):
                pre += 1
    out = work / "hand.bin"
    subprocess.run([vmafuzz, "convert", files[0], out], capture_output=True, check=True)
    return dict(file=files[0].name, ops=ops, pre=pre, bytes=out.stat().st_size)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cap", type=int, default=60, help="seconds to find each crash (default 60)")
    ap.add_argument("--runs", type=int, default=10000, help="libFuzzer -minimize_crash's -runs (default 10000)")
    ap.add_argument("--bugs", help="comma-separated bug names (default: the whole catalog)")
    ap.add_argument("--results", type=Path, help="also write every measurement, tab-separated, to this file")
    ap.add_argument("--crashes", type=Path,
                    help="keep each crash found as CRASHES/<bug>.crash (with its origin in <bug>.how); "
                         "a crash already there is reused instead of searching again")
    args = ap.parse_args()

    vmafuzz = bb.build("release", "build/release", "vmafuzz", ["cmake", "--preset", "release"]) / "repro" / "vmafuzz"
    bugs = bb.catalog(vmafuzz)
    if args.bugs:
        names = args.bugs.split(",")
        bugs = [b for b in bugs if b.name in names]
    builds = {"vmafuzz": vmafuzz}
    builds["libfuzzer"] = bb.build("libfuzzer", "build/libfuzzer", "fuzz_vma_lock",
                                   ["cmake", "--preset", "libfuzzer"]) / "fuzz" / "fuzz_vma_lock"
    have_afl = shutil.which("afl-tmin") is not None
    if have_afl:
        builds["afl"] = bb.build("afl", "build/afl", "fuzz_vma_lock", ["cmake", "--preset", "afl"]) / "fuzz" / \
            "fuzz_vma_lock"
    if any(b.tsan_only for b in bugs):
        builds["tsan-libfuzzer"] = bb.build("tsan-libfuzzer", "build/tsan-libfuzzer", "fuzz_vma_lock",
                                            ["cmake", "--preset", "tsan-libfuzzer"]) / "fuzz" / "fuzz_vma_lock"
        builds["vmafuzz-tsan"] = bb.build("tsan", "build/tsan", "vmafuzz",
                                          ["cmake", "--preset", "tsan"]) / "repro" / "vmafuzz"

    rows = []
    scratch = Path(tempfile.mkdtemp(prefix="vmafuzz-minbench-"))
    try:
        for bug in bugs:
            work = scratch / bug.name
            work.mkdir()
            cli = builds["vmafuzz-tsan" if bug.tsan_only else "vmafuzz"]
            fuzzer = builds["tsan-libfuzzer" if bug.tsan_only else "libfuzzer"]
            log(f"== {bug.name}: finding a crash (cap {args.cap} s)")
            kept = args.crashes / f"{bug.name}.crash" if args.crashes else None
            if kept and kept.exists():
                crash, how = kept, (args.crashes / f"{bug.name}.how").read_text().strip()
            else:
                crash, how = find_crash(bug, builds, args.cap, work)
                if kept and crash is not None:
                    args.crashes.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(crash, kept)
                    (args.crashes / f"{bug.name}.how").write_text(how + "\n")
            row = dict(bug=bug.name, how=how, hand=hand_written(vmafuzz, bug, work))
            if crash is None:
                rows.append(row)
                continue
            key, row["found"] = measure(cli, bug.name, crash)
            row["key"] = key
            results = {}
            # vmafuzz minimize
            out = work / "vmafuzz.min"
            secs = timed([cli, "minimize", "--inject", bug.name, crash, "-o", out], clean_env(), work, 120)
            results["vmafuzz minimize"] = (out, secs)
            # libFuzzer -minimize_crash
            out = work / "libfuzzer.min"
            secs = timed([fuzzer, "-minimize_crash=1", f"-runs={args.runs}", "-max_total_time=60",
                          f"-exact_artifact_path={out}", crash], clean_env(bug.name), work, 180)
            results["libFuzzer -minimize_crash"] = (out, secs)
            # afl-tmin
            if have_afl and not bug.tsan_only:
                out = work / "afl.min"
                env = clean_env(bug.name)
                env["AFL_MAP_SIZE"] = "65536"
                env.pop("ASAN_OPTIONS")
                secs = timed(["afl-tmin", "-i", crash, "-o", out, "--", builds["afl"]], env, work, 300)
                results["afl-tmin"] = (out, secs)
            for tool, (out, secs) in results.items():
                if out.exists() and (out.stat().st_size > 0 or row["found"]["bytes"] == 0):  # an empty crash stays empty
                    k, size = measure(cli, bug.name, out)
                    results[tool] = dict(size=size, secs=secs, kept=(k == key), key=k)
                else:
                    results[tool] = dict(size=None, secs=secs, kept=False, key=None)
            row["results"] = results
            rows.append(row)
            log(f"   {row}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    def cell(size):
        if not size:
            return "-"
        pre = f"{size['pre']}" + ("" if size["strategy"] == "switch-list" else f" ({size['strategy']})")
        return f"{size['ops']} / {pre} / {size['bytes']}"

    print("| bug | crash found by | crash: ops / preemptions / bytes | vmafuzz minimize | time | "
          "libFuzzer -minimize_crash | time | afl-tmin | time | hand-written .sched |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    tsv = []
    for r in rows:
        hand = r["hand"]
        hand_cell = f"{hand['ops']} / {hand['pre']} / {hand['bytes']}" if hand else "-"
        if "results" not in r:
            print(f"| {r['bug']} | {r['how']} | - | - | | - | | - | | {hand_cell} |")
            continue
        cells = []
        for tool in ("vmafuzz minimize", "libFuzzer -minimize_crash", "afl-tmin"):
            x = r["results"].get(tool)
            if x is None:
                cells += ["n/a", ""]
                continue
            c = cell(x["size"]) + ("" if x["kept"] else " (key lost)" if x["size"] else " (no output)")
            cells += [c, f"{x['secs']:.1f} s"]
            tsv.append("\t".join(str(v) for v in (r["bug"], tool, x["size"], x["secs"], x["kept"], x["key"])))
        print(f"| {r['bug']} | {r['how']} | {cell(r['found'])} | " + " | ".join(cells) + f" | {hand_cell} |")
    if args.results:
        args.results.write_text("\n".join(tsv) + "\n")


if __name__ == "__main__":
    main()
