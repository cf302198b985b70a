#!/usr/bin/env bash
# bench/run_explore_bench.sh: `vmafuzz explore` schedules to exhaustion, with
# and without the sleep-set reduction, for every tests/sched program and the
# issue-13 three-task program, at bounds 1 and 2.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bench/run_explore_bench.sh [--bounds "1 2"] [--vmafuzz PATH] [--help]

Builds `vmafuzz` in the release preset (build/release, configured only if it
has no build tree yet) and runs `vmafuzz explore --quiet` on every
tests/sched/*.sched and tests/sched/regressions/*.sched program (their own
schedules ignored) and bench/explore/peer_three_tasks.sched (issue 13's
writer and two readers, the Relacy peer's protocol), on the correct model,
at each bound, once with sleep sets and once with --no-reduction. Prints a
Markdown table: schedules to exhaustion each way, their ratio, and the
seconds and schedules/s of each run, then the machine, date and commit.
Schedule counts are deterministic; times are wall clock on a shared machine.

--vmafuzz PATH uses that built program instead (no build), e.g. a Debug one.

Exit codes: 0 ok, 1 a build or an exploration failed (or did not exhaust),
64 bad command line.
USAGE
}

bounds="1 2"
vmafuzz=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --bounds) bounds=${2:?--bounds needs a value}; shift 2 ;;
    --vmafuzz) vmafuzz=$(realpath "${2:?--vmafuzz needs a path}"); shift 2 ;;
    --help|-h) usage; exit 0 ;;
    *) echo "run_explore_bench.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
  esac
done

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$bench_root"
if [[ -z $vmafuzz ]]; then
  bench_build release build/release vmafuzz cmake --preset release || exit 1
  vmafuzz=build/release/repro/vmafuzz
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# explore PROGRAM BOUND [--no-reduction] -> "schedules seconds rate"
explore() {
  local out
  out=$("$vmafuzz" explore --quiet "$1" --preemptions "$2" ${3:-} --out "$scratch/finding.sched") || {
    echo "bench: vmafuzz explore $1 --preemptions $2 ${3:-} exited $?" >&2; return 1; }
  grep -q '^exhausted: yes' <<<"$out" || { echo "bench: $1 at bound $2 ${3:-} did not exhaust" >&2; return 1; }
  local schedules seconds rate
  schedules=$(sed -n 's/^schedules: \([0-9]*\).*/\1/p' <<<"$out")
  seconds=$(sed -n 's/^time: *\([0-9.]*\)s.*/\1/p' <<<"$out")
  rate=$(sed -n 's/^time: .*, \([0-9]*\) schedules\/s/\1/p' <<<"$out")
  echo "$schedules $seconds $rate"
}

echo "| program | bound | schedules (sleep sets) | schedules (none) | ratio | s (sleep sets) | s (none) | schedules/s (none) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
status=0
for program in tests/sched/*.sched tests/sched/regressions/*.sched bench/explore/peer_three_tasks.sched; do
  for bound in $bounds; do
    if ! with=$(explore "$program" "$bound") || ! without=$(explore "$program" "$bound" --no-reduction); then
      status=1
      continue
    fi
    read -r s1 t1 _ <<<"$with"
    read -r s0 t0 r0 <<<"$without"
    ratio=$(awk -v a="$s1" -v b="$s0" 'BEGIN { printf "%.2f", a / b }')
    echo "| $(basename "$program" .sched) | $bound | $s1 | $s0 | $ratio | $t1 | $t0 | $r0 |"
  done
done
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); program $vmafuzz"
exit $status
