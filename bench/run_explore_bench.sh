#!/usr/bin/env bash
# bench/run_explore_bench.sh: `vmafuzz explore` schedules to exhaustion under
# each reduction (bounded DPOR with sleep sets, sleep sets alone, none), for
# every tests/sched program and the issue-13 three-task program, at bounds 1
# and 2.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bench/run_explore_bench.sh [--bounds "1 2"] [--peer-bounds "2 3 4"] [--vmafuzz PATH]
                                  [--relacy PATH] [--b13] [--help]

Builds `vmafuzz` in the release preset (build/release, configured only if it
has no build tree yet) and runs `vmafuzz explore --quiet` on every
tests/sched/*.sched and tests/sched/regressions/*.sched program (their own
schedules ignored) and bench/explore/peer_three_tasks.sched (issue 13's
writer and two readers, the Relacy peer's protocol), on the correct model,
at each bound, once with each --reduction (dpor, sleep, none). Prints a
Markdown table: schedules to exhaustion each way, the ratios to none, and
the seconds of each run, then totals per bound, the machine, date and
commit. Schedule counts are deterministic; times are wall clock on a shared
machine.

Then the peer program alone at --peer-bounds (default "2 3 4") next to
Relacy's searches of the same protocol (bench/peers/relacy_vma_lock.cpp): its
context-bound scheduler at bound 2 and its full search for 10 s, with the
Relacy binary at --relacy PATH (default build/bench-peers/relacy_vma_lock,
which bench/peers/run_peer_bench.sh builds; skipped with a note if absent).

--b13 runs only B13's program (tests/sched/B13_no_mmgrab_foreign_mm.sched)
with its bug injected, under dpor and sleep sets: bound 4 (exhausts with no
finding) and bound 5 (finds it), with the schedules and CPU seconds of each
(several minutes).

--vmafuzz PATH uses that built program instead (no build), e.g. a Debug one.

Exit codes: 0 ok, 1 a build or an exploration failed (or did not exhaust),
64 bad command line.
USAGE
}

bounds="1 2"
peer_bounds="2 3 4"
vmafuzz=""
relacy=build/bench-peers/relacy_vma_lock
b13=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --bounds) bounds=${2:?--bounds needs a value}; shift 2 ;;
    --vmafuzz) vmafuzz=$(realpath "${2:?--vmafuzz needs a path}"); shift 2 ;;
    --peer-bounds) peer_bounds=${2:?--peer-bounds needs a value}; shift 2 ;;
    --relacy) relacy=$(realpath "${2:?--relacy needs a path}"); shift 2 ;;
    --b13) b13=1; shift ;;
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

# explore PROGRAM BOUND REDUCTION -> "schedules seconds rate"
explore() {
  local out
  out=$("$vmafuzz" explore --quiet "$1" --preemptions "$2" --reduction "$3" --out "$scratch/finding.sched") || {
    echo "bench: vmafuzz explore $1 --preemptions $2 --reduction $3 exited $?" >&2; return 1; }
  grep -q '^exhausted: yes' <<<"$out" || { echo "bench: $1 at bound $2 --reduction $3 did not exhaust" >&2; return 1; }
  local schedules seconds rate
  schedules=$(sed -n 's/^schedules: \([0-9]*\).*/\1/p' <<<"$out")
  seconds=$(sed -n 's/^time: *\([0-9.]*\)s.*/\1/p' <<<"$out")
  rate=$(sed -n 's/^time: .*, \([0-9]*\) schedules\/s/\1/p' <<<"$out")
  echo "$schedules $seconds $rate"
}

if [[ $b13 == 1 ]]; then
  echo "| search | bound | schedules | result | CPU s | wall s |"
  echo "|---|---:|---:|---|---:|---:|"
  status=0
  for red in dpor sleep; do
    for bound in 4 5; do
      start=$(date +%s.%N)
      out=$( { /usr/bin/time -f 'cpu %U' "$vmafuzz" explore --quiet tests/sched/B13_no_mmgrab_foreign_mm.sched \
               --inject no_mmgrab_foreign_mm --reduction "$red" --preemptions "$bound" \
               --out "$scratch/b13.sched"; } 2>&1) && rc=0 || rc=$?
      wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
      result=$(case $rc in 0) echo "exhausted, no finding" ;; 1) echo "found" ;; *) echo "error $rc" ;; esac)
      [[ $rc -le 1 ]] || status=1
      echo "| --reduction $red | $bound | $(sed -n 's/^schedules: \([0-9]*\).*/\1/p' <<<"$out") | $result |" \
           "$(sed -n 's/^cpu //p' <<<"$out") | $wall |"
    done
  done
  echo
  echo "Machine: $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  exit $status
fi

echo "| program | bound | schedules (DPOR) | schedules (sleep sets) | schedules (none) | DPOR/none | sleep/none | s (DPOR) | s (sleep) | s (none) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
status=0
declare -A total
for program in tests/sched/*.sched tests/sched/regressions/*.sched bench/explore/peer_three_tasks.sched; do
  for bound in $bounds; do
    if ! d=$(explore "$program" "$bound" dpor) || ! s=$(explore "$program" "$bound" sleep) ||
       ! n=$(explore "$program" "$bound" none); then
      status=1
      continue
    fi
    read -r s2 t2 _ <<<"$d"
    read -r s1 t1 _ <<<"$s"
    read -r s0 t0 _ <<<"$n"
    for k in "dpor $s2 $t2" "sleep $s1 $t1" "none $s0 $t0"; do
      read -r name count secs <<<"$k"
      total[$bound,$name]=$(awk -v a="${total[$bound,$name]:-0}" -v b="$count" 'BEGIN { print a + b }')
      total[$bound,$name,s]=$(awk -v a="${total[$bound,$name,s]:-0}" -v b="$secs" 'BEGIN { print a + b }')
    done
    ratios=$(awk -v a="$s2" -v b="$s1" -v c="$s0" 'BEGIN { printf "%.2f | %.2f", a / c, b / c }')
    echo "| $(basename "$program" .sched) | $bound | $s2 | $s1 | $s0 | $ratios | $t2 | $t1 | $t0 |"
  done
done
echo
for bound in $bounds; do
  echo "Bound $bound totals: DPOR ${total[$bound,dpor]} schedules (${total[$bound,dpor,s]} s), sleep sets ${total[$bound,sleep]} (${total[$bound,sleep,s]} s), none ${total[$bound,none]} (${total[$bound,none,s]} s)"
done
echo
echo "The peer program (issue 13's writer and two readers) and Relacy on the same protocol:"
echo
echo "| search | bound | schedules | exhausted | seconds |"
echo "|---|---:|---:|---|---:|"
for bound in $peer_bounds; do
  for red in dpor sleep none; do
    if r=$(explore bench/explore/peer_three_tasks.sched "$bound" "$red"); then
      read -r n t _ <<<"$r"
      echo "| vmafuzz explore --reduction $red | $bound | $n | yes | $t |"
    else
      status=1
    fi
  done
done
if [[ -x $relacy ]]; then
  for args in "bound --context-bound 2 --time 60" "full --time 10"; do
    # shellcheck disable=SC2086
    line=$("$relacy" --scheduler $args 2>&1 | grep '^relacy scheduler=') || { status=1; continue; }
    get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    echo "| Relacy $(get scheduler) | $( [[ $args == bound* ]] && echo 2 || echo - ) | $(get schedules) | $(get exhausted) | $(get seconds) |"
  done
else
  echo "(Relacy skipped: no $relacy; bench/peers/run_peer_bench.sh builds it)"
fi
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); program $vmafuzz"
exit $status
