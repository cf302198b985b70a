#!/usr/bin/env bash
# bench/run_scenario_bench.sh: scenarios per second through the deterministic
# scheduler (decode + run, no fuzzer), in a plain -O2 build and a -O2
# ThreadSanitizer build, side by side.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bench/run_scenario_bench.sh [--repetitions N] [--help]

Builds bench/scenario_bench in build/bench-release (-O2) and build/bench-tsan
(-O2 -fsanitize=thread), runs each with --benchmark_repetitions=N (default 10)
and prints the medians: runs per second and scheduling points per second for
BM_DecodeAndRun (1000 fixed inputs; ghost oracles on, as the replay tools
run), runs per second with the fuzz target's feature map
(BM_DecodeAndRunWithFeatures) and without the ghost oracles
(BM_DecodeAndRunNoOracles), runs per second for BM_DecodeOnly, and the
plain/TSan ratio.
Exit codes: 0 ok, 1 a configure/build/run failed, 64 bad command line.
USAGE
}

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reps=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --repetitions) [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || { echo "run_scenario_bench: --repetitions needs N >= 1" >&2; exit 64; }
                   reps="$2"; shift 2 ;;
    *) echo "run_scenario_bench: unknown argument: $1 (try --help)" >&2; exit 64 ;;
  esac
done

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# build_and_run NAME SANITIZE: configure build/bench-NAME, build, run; JSON path on stdout.
build_and_run() {
  local name=$1 sanitize=$2 dir="$src/build/bench-$1"
  bench_build "scenariobench-$name" "$dir" scenario_bench bench_o2_configure "$src" "$dir" "$sanitize" || return 1
  echo "== $name: run ($reps repetitions)" >&2
  TSAN_OPTIONS="halt_on_error=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}" "$dir/bench/scenario_bench" \
    --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
    --benchmark_out="$dir/scenario_bench.json" --benchmark_out_format=json >&2 \
    || { echo "run_scenario_bench: $name run failed" >&2; return 1; }
  echo "$dir/scenario_bench.json"
}

mkdir -p "$src/build"
plain_json=$(build_and_run release "")
tsan_json=$(build_and_run tsan "thread")

python3 - "$plain_json" "$tsan_json" <<'PY'
import json, sys

def medians(path):
    doc = json.load(open(path))
    return {b["run_name"]: b for b in doc["benchmarks"] if b.get("aggregate_name") == "median"}, doc.get("context", {})

plain, ctx = medians(sys.argv[1])
tsan, _ = medians(sys.argv[2])
print()
print(f"host: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs, load avg {ctx.get('load_avg', '?')}")
print(f"{'median':<40} {'plain -O2':>12} {'TSan -O2':>12} {'plain/TSan':>11}")
for name, key in [("BM_DecodeAndRun", "runs_per_s"), ("BM_DecodeAndRun", "steps_per_s"),
                  ("BM_DecodeAndRunWithFeatures", "runs_per_s"), ("BM_DecodeAndRunNoOracles", "runs_per_s"),
                  ("BM_DecodeOnly", "runs_per_s")]:
    p, t = plain[name][key], tsan[name][key]
    print(f"{name + ' ' + key:<40} {p:>12.0f} {t:>12.0f} {p / t:>10.2f}x")
print(f"{'BM_DecodeAndRun steps_per_run':<40} {plain['BM_DecodeAndRun']['steps_per_run']:>12.1f}")
PY
