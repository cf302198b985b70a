#!/usr/bin/env bash
# bench/run_scenario_bench.sh: scenarios per second through the deterministic
# scheduler (decode + run, no fuzzer), in a plain -O2 build and a -O2
# ThreadSanitizer build, side by side.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bench/run_scenario_bench.sh [--repetitions N] [--baseline REV] [--help]

Builds bench/scenario_bench in build/bench-release (-O2) and build/bench-tsan
(-O2 -fsanitize=thread), runs each with --benchmark_repetitions=N (default 10)
and prints the medians: runs per second and scheduling points per second for
BM_DecodeAndRun (1000 fixed inputs; ghost oracles on, as the replay tools
run), runs per second with the fuzz target's feature map
(BM_DecodeAndRunWithFeatures) and without the ghost oracles
(BM_DecodeAndRunNoOracles), runs per second for BM_DecodeOnly, and the
plain/TSan ratio; and ns per scheduling point (CPU time / steps) for
BM_DecodeAndRun, BM_DecodeAndRunWithFeatures and BM_ThreeTask (issue 13's
three-task program under 2000 random seeds), with its runs per second.

--baseline REV compares the engine with git revision REV instead of TSan:
REV's sources are exported (git archive) to build/bench-baseline-src and
built in build/bench-baseline; then the two -O2 builds run alternately, one
repetition each, N times, and the medians are printed side by side with the
new/old ratio. REV needs a scenario_bench with the same benchmarks (rows it
lacks print "-").
Exit codes: 0 ok, 1 a configure/build/run failed, 64 bad command line.
USAGE
}

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reps=10
baseline=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --repetitions) [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || { echo "run_scenario_bench: --repetitions needs N >= 1" >&2; exit 64; }
                   reps="$2"; shift 2 ;;
    --baseline) [[ $# -ge 2 && -n "$2" ]] || { echo "run_scenario_bench: --baseline needs a git revision" >&2; exit 64; }
                baseline="$2"; shift 2 ;;
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

if [[ -n "$baseline" ]]; then
  base_src=$src/build/bench-baseline-src base_dir=$src/build/bench-baseline new_dir=$src/build/bench-release
  rev=$(bench_export_rev "$baseline" "$base_src") || exit 64
  bench_build scenariobench-baseline "$base_dir" scenario_bench bench_o2_configure "$base_src" "$base_dir" "" || exit 1
  bench_build scenariobench-release "$new_dir" scenario_bench bench_o2_configure "$src" "$new_dir" "" || exit 1
  out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
  for ((r = 1; r <= reps; r++)); do
    for side in new old; do
      if [[ $side == new ]]; then bin=$new_dir/bench/scenario_bench; else bin=$base_dir/bench/scenario_bench; fi
      echo "== repetition $r/$reps: $side" >&2
      "$bin" --benchmark_filter='BM_DecodeAndRun$|BM_DecodeAndRunWithFeatures|BM_ThreeTask' \
        --benchmark_out="$out/$side-$r.json" --benchmark_out_format=json >/dev/null \
        || { echo "run_scenario_bench: $side run failed" >&2; exit 1; }
    done
  done
  python3 - "$out" "$reps" "$(git -C "$src" rev-parse --short HEAD)" "$(git -C "$src" rev-parse --short "$rev")" <<'PY'
import json, statistics, sys
out, reps, new_rev, old_rev = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def values(side):
    v = {}
    for r in range(1, reps + 1):
        doc = json.load(open(f"{out}/{side}-{r}.json"))
        for b in doc["benchmarks"]:
            for key in ("runs_per_s", "ns_per_step", "steps_per_run"):
                v.setdefault((b["run_name"], key), []).append(b[key] * (1e9 if key == "ns_per_step" else 1))
    return v, doc.get("context", {})
new, ctx = values("new")
old, _ = values("old")
print()
print(f"host: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs, load avg {ctx.get('load_avg', '?')}; "
      f"{reps} alternating runs each, medians")
print(f"| median | old ({old_rev}) | new ({new_rev}) | new/old |")
print("|---|---|---|---|")
for name in ("BM_DecodeAndRun", "BM_DecodeAndRunWithFeatures", "BM_ThreeTask"):
    for key in ("runs_per_s", "ns_per_step", "steps_per_run"):
        n = statistics.median(new[(name, key)])
        o = statistics.median(old[(name, key)]) if (name, key) in old else None
        fmt = (lambda x: f"{x:,.0f}") if key == "runs_per_s" else (lambda x: f"{x:.1f}")
        print(f"| {name} {key} | {fmt(o) if o else '-'} | {fmt(n)} | {f'{n / o:.2f}' if o else '-'} |")
PY
  exit 0
fi

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
print(f"{'BM_ThreeTask runs_per_s':<40} {plain['BM_ThreeTask']['runs_per_s']:>12.0f} {tsan['BM_ThreeTask']['runs_per_s']:>12.0f}")
for name in ("BM_DecodeAndRun", "BM_DecodeAndRunWithFeatures", "BM_ThreeTask"):
    p, t = plain[name]["ns_per_step"] * 1e9, tsan[name]["ns_per_step"] * 1e9
    print(f"{name + ' ns_per_step':<40} {p:>12.1f} {t:>12.1f}")
PY
