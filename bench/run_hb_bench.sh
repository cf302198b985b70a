#!/usr/bin/env bash
# bench/run_hb_bench.sh: the happens-before race oracle's cost in callgrind
# instructions, per run and per scheduling point, with and without it.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bench/run_hb_bench.sh [--help]

Builds bench/hb_oracle_bench in build/bench-release (-O2), runs it under
valgrind --tool=callgrind once with the race oracle (RunOptions::race_oracle,
the default) and once with --no-race-oracle, on the same 1000 fixed inputs
as scenario_bench, and prints instructions per run and per scheduling point
for both and their ratio. Instruction counts repeat exactly, so one run each
is enough.
Exit codes: 0 ok, 1 a build or run failed, 64 bad command line.
USAGE
}

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") ;;
  *) echo "run_hb_bench: unknown argument: $1 (try --help)" >&2; exit 64 ;;
esac

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/lib.sh
source "$src/bench/lib.sh"
command -v valgrind >/dev/null || { echo "run_hb_bench: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
bench_build hb-bench build/bench-release hb_oracle_bench bench_o2_configure "$src" build/bench-release "" || exit 1
bin="$src/build/bench-release/bench/hb_oracle_bench"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

measure() {  # label, args... -> "label Ir runs steps"
  local label=$1
  shift
  local out
  out="$(valgrind --tool=callgrind --callgrind-out-file="$tmp/$label.out" "$bin" "$@" 2>"$tmp/$label.err")" \
    || { echo "run_hb_bench: $label run failed:" >&2; cat "$tmp/$label.err" >&2; exit 1; }
  local ir
  ir="$(grep -E '^(summary|totals):' "$tmp/$label.out" | head -1 | awk '{print $2}')"
  echo "$label $ir $(echo "$out" | awk '{print $2, $4}')"
}

on="$(measure on)"
off="$(measure off --no-race-oracle)"
echo "$on" "$off" | awk '{
  printf "%-10s %14s %10s %12s %14s %12s\n", "oracle", "instructions", "runs", "steps", "Ir/run", "Ir/step"
  printf "%-10s %14d %10d %12d %14.0f %12.1f\n", "on", $2, $3, $4, $2 / $3, $2 / $4
  printf "%-10s %14d %10d %12d %14.0f %12.1f\n", "off", $6, $7, $8, $6 / $7, $6 / $8
  printf "on/off: %.3f (per run), steps equal: %s\n", $2 / $6, ($4 == $8 ? "yes" : "no")
}'
