#!/usr/bin/env bash
# bench/peers/smoke_test.sh: the peer benchmark end to end with tiny counts,
# so that it cannot rot (ctest peer_bench_smoke; tests/CMakeLists.txt).
#
# Usage: bench/peers/smoke_test.sh WORK VMAFUZZ REPLAY LIBFUZZER
#   WORK       scratch directory (emptied)
#   VMAFUZZ    a vmafuzz binary; REPLAY a fuzz_vma_lock_replay; LIBFUZZER a
#              fuzz_vma_lock linked with libFuzzer (any build: only the
#              script's plumbing is tested, not the numbers)
# Checks that run_peer_bench.sh builds the Relacy model, runs all three (and
# Relacy --extras) and prints the table, the ratio lines and the systematic schedulers' lines
# (Relacy passes every schedule it runs); and that the model's checks fail
# on each of its mutants (--mutant), each with the failure it must give.
# Exit codes: 0 ok, 1 a check failed, 64 bad command line.
set -uo pipefail

[[ $# -eq 4 ]] || { echo "usage: smoke_test.sh WORK VMAFUZZ REPLAY LIBFUZZER" >&2; exit 64; }
work=$1 vmafuzz=$2 replay=$3 libfuzzer=$4
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rm -rf "$work" && mkdir -p "$work"

fail() { echo "FAIL: $*"; exit 1; }

out=$("$here/run_peer_bench.sh" --repetitions 1 --iterations 500 --inputs 20 --runs 40 \
  --full-time 1 --context-bound 1 --work "$work" --replay "$replay" --vmafuzz "$vmafuzz" \
  --libfuzzer "$libfuzzer" 2>&1)
rc=$?
printf '%s\n' "$out"
[[ $rc -eq 0 ]] || fail "run_peer_bench.sh exited $rc"
expect() {
  grep -qE -- "$1" <<<"$out" || fail "no line matching: $1"
}
expect '^\| Relacy, random scheduler \(-O2\) \| [0-9,]+ schedules/s \|'
expect '^\| vmafuzz, fuzz_vma_lock_replay \(standalone\) \| [0-9,]+ runs/s \|'
expect '^\| vmafuzz, fuzz_vma_lock under libFuzzer, running the files \| [0-9,]+ runs/s \|'
expect '^ratio standalone/relacy: [0-9]+\.[0-9]{2}x \(goal >= 1\.0x\)$'
expect '^ratio libfuzzer-plain/relacy: [0-9]+\.[0-9]{2}x \(goal >= 0\.5x\)$'
expect '^\| Relacy --extras \(ours. accesses besides the protocol too\) \| [0-9,]+ schedules/s \|'
expect '^ratio standalone/relacy-extras: [0-9]+\.[0-9]{2}x \(the same accesses on both\)$'
expect '^relacy full search: [0-9,]+ schedules in [0-9.]+ s, '
# Bound 1 is small enough to exhaust in well under a second.
expect '^relacy context bound 1: [0-9,]+ schedules in [0-9.]+ s, exhausted$'
expect 'Per measurement: Relacy 500 random schedules; ours 40 runs \(20 inputs x 2\)'

# The checks can fail: each mutant fails, with its own failure.
relacy=$work/relacy_vma_lock
mutant() {
  local name=$1 want=$2 log=$work/mutant-$1.log
  "$relacy" --mutant "$name" --iterations 100000 >"$log" 2>&1
  local rc=$?
  [[ $rc -eq 1 ]] || { cat "$log"; fail "--mutant $name: exit $rc, expected 1"; }
  grep -qF -- "FAILED ($want)" "$log" || { cat "$log"; fail "--mutant $name: no 'FAILED ($want)'"; }
  echo "ok: --mutant $name fails with $want"
}
mutant no_wake DEADLOCK
mutant no_wake_fence DEADLOCK
mutant no_state_fence DEADLOCK
mutant seq_check_before_increment "USER ASSERT FAILED"
# --extras adds ours' other accesses (the teardown too) and keeps the checks.
mutant_extras() {
  local log=$work/mutant-extras-$1.log
  "$relacy" --extras --mutant "$1" --iterations 100000 >"$log" 2>&1
  local rc=$?
  [[ $rc -eq 1 ]] && grep -qF -- "FAILED ($2)" "$log" || { cat "$log"; fail "--extras --mutant $1: exit $rc, no 'FAILED ($2)'"; }
  echo "ok: --extras --mutant $1 fails with $2"
}
mutant_extras no_wake DEADLOCK
mutant_extras seq_check_before_increment "USER ASSERT FAILED"
echo "peer bench smoke test: ok"
