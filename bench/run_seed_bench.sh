#!/usr/bin/env bash
# bench/run_seed_bench.sh: what trace seeds bring. libFuzzer's fuzz_vma_lock
# (libfuzzer preset) runs a fixed number of executions with -seed=1 from
# (a) the shipped corpus (corpus/fuzz_vma_lock/), (b) trace seeds only,
# (c) both, and prints libFuzzer's final cov: and ft: (features include the
# interleaving extra counters) as a Markdown table for docs/BENCHMARKS.md.
#
# Trace seeds: the sample ftrace files of corpus/traces/ plus N recordings
# made here (vmafuzz record --seed 1), imported with vmafuzz import-trace
# (every scenario, no merge, so that (b) is what the traces give).
#
# Usage: bench/run_seed_bench.sh [RUNS [RECORDINGS]]   (default 20000 200)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runs=${1:-20000}
recordings=${2:-200}
root=$bench_root
bench_build seed-bench "build/libfuzzer" fuzz_vma_lock cmake --preset libfuzzer
bench_build seed-bench-cli "build/libfuzzer" vmafuzz
bin=$root/build/libfuzzer/fuzz/fuzz_vma_lock
vmafuzz=$root/build/libfuzzer/repro/vmafuzz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$vmafuzz" record -o "$work/rec" --seed 1 --runs "$recordings" --time 120 >&2
"$vmafuzz" import-trace -q -o "$work/trace-seeds" "$root"/corpus/traces/*.txt "$work"/rec/*.trace >&2
nseeds=$(find "$work/trace-seeds" -name '*.bin' | wc -l)

run() {  # NAME DIRS...: final cov and ft after $runs executions
  local name=$1; shift
  mkdir -p "$work/$name"
  (cd "$work" && env -u VMAFUZZ_INJECT "$bin" -runs="$runs" -seed=1 -timeout=30 -rss_limit_mb=4096 \
     -dict="$root/corpus/fuzz_vma_lock.dict" "$work/$name" "$@") >"$work/$name.log" 2>&1 || true
  local last
  last=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$work/$name.log" | tail -n 1)
  local cov ft corp
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.*corp: ([0-9]+).*/\1/p' <<<"$last")
  local inited
  inited=$(grep -E 'INITED' "$work/$name.log" | tail -n 1 | sed -nE 's/.*cov: ([0-9]+) ft: ([0-9]+).*/\1 \/ \2/p')
  echo "| $name | ${inited:-?} | $cov | $ft | $corp |"
}

echo "$runs executions, -seed=1; trace seeds: $nseeds scenarios (corpus/traces/*.txt and $recordings recordings)"
echo
echo "| seeds | cov / ft at start | cov | ft | corpus |"
echo "|---|---|---|---|---|"
run "(a) shipped corpus" "$root/corpus/fuzz_vma_lock"
run "(b) trace seeds" "$work/trace-seeds"
run "(c) both" "$root/corpus/fuzz_vma_lock" "$work/trace-seeds"
