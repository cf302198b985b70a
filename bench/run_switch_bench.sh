#!/usr/bin/env bash
# bench/run_switch_bench.sh: context-switch cost, fcontext (FiberRuntime) vs
# glibc swapcontext, in a plain -O2 build and a -O2 ThreadSanitizer build.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/run_switch_bench.sh [--source DIR] [--repetitions N] [--help]

Configures and builds bench/switch_bench twice, in scratch build trees
  build/bench-release  -O2 -DNDEBUG
  build/bench-tsan     -O2 -DNDEBUG -fsanitize=thread
runs each with --benchmark_repetitions=N --benchmark_report_aggregates_only=true
(JSON kept next to the binary as switch_bench.json) and prints the medians side
by side: ns per switch (CPU time per iteration / 2; one iteration is
main -> fiber -> main), the ratio swapcontext/fcontext and the ratio TSan/plain.
Wall-clock medians are printed too: on a loaded machine they exceed CPU time.

Options:
  --source DIR     source tree to configure (default: this repository). Its
                   top-level CMakeLists.txt must add_subdirectory(bench).
  --repetitions N  benchmark repetitions (default 10)
  -h, --help       show this help

Needs clang, cmake, ninja, libbenchmark-dev, libboost-context-dev, python3.
Exit codes: 0 ok, 1 a configure/build/run failed, 64 bad command line.
EOF
}

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reps=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --source) [[ $# -ge 2 ]] || { echo "run_switch_bench: --source needs DIR" >&2; exit 64; }
              src="$(cd "$2" && pwd)"; shift 2 ;;
    --repetitions) [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || { echo "run_switch_bench: --repetitions needs N >= 1" >&2; exit 64; }
              reps="$2"; shift 2 ;;
    *) echo "run_switch_bench: unknown argument: $1 (try --help)" >&2; exit 64 ;;
  esac
done

if ! grep -Eq '^[[:space:]]*add_subdirectory\(bench\)' "$src/CMakeLists.txt"; then
  echo "run_switch_bench: $src/CMakeLists.txt does not add_subdirectory(bench); add" >&2
  echo "  if(VMAFUZZ_BUILD_BENCH)  add_subdirectory(bench)  endif()" >&2
  exit 1
fi
command -v python3 >/dev/null || { echo "run_switch_bench: python3 is needed to read the JSON results" >&2; exit 1; }

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# build_and_run NAME SANITIZE: configure build/bench-NAME, build, run; JSON path on stdout.
build_and_run() {
  local name=$1 sanitize=$2 dir="$src/build/bench-$1"
  bench_build "switchbench-$name" "$dir" switch_bench bench_o2_configure "$src" "$dir" "$sanitize" || return 1
  echo "== $name: run ($reps repetitions)" >&2
  # halt_on_error: a TSan report fails the run instead of scrolling by.
  TSAN_OPTIONS="halt_on_error=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}" \
    "$dir/bench/switch_bench" --benchmark_repetitions="$reps" \
    --benchmark_report_aggregates_only=true \
    --benchmark_out="$dir/switch_bench.json" --benchmark_out_format=json >&2 \
    || { echo "run_switch_bench: $name run failed" >&2; return 1; }
  echo "$dir/switch_bench.json"
}

mkdir -p "$src/build"
plain_json=$(build_and_run release "")
tsan_json=$(build_and_run tsan "thread")

python3 - "$plain_json" "$tsan_json" <<'EOF'
import json, sys

def medians(path):
    with open(path) as f:
        doc = json.load(f)
    out = {}
    for b in doc["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        out[b["run_name"]] = {
            "cpu": b["cpu_time"] * scale / 2,   # ns per switch
            "real": b["real_time"] * scale / 2,
        }
    return out, doc.get("context", {})

plain, ctx = medians(sys.argv[1])
tsan, _ = medians(sys.argv[2])
names = ["BM_FcontextSwitch", "BM_SwapcontextSwitch"]
for n in names:
    if n not in plain or n not in tsan:
        sys.exit(f"run_switch_bench: no median for {n}")

print()
print(f"host: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs @ {ctx.get('mhz_per_cpu', '?')} MHz, "
      f"load avg {ctx.get('load_avg', '?')}")
print("median ns per switch (one iteration = 2 switches), CPU time [wall time]")
print(f"{'benchmark':<22} {'plain -O2':>18} {'TSan -O2':>18} {'TSan/plain':>11}")
for n in names:
    p, t = plain[n], tsan[n]
    print(f"{n:<22} {p['cpu']:>8.1f} [{p['real']:>7.1f}] {t['cpu']:>8.1f} [{t['real']:>7.1f}] {t['cpu'] / p['cpu']:>10.2f}x")
f, s = "BM_FcontextSwitch", "BM_SwapcontextSwitch"
print(f"{'swapcontext/fcontext':<22} {plain[s]['cpu'] / plain[f]['cpu']:>17.2f}x {tsan[s]['cpu'] / tsan[f]['cpu']:>17.2f}x")
EOF
