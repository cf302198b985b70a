#!/usr/bin/env bash
# bench/peers/run_peer_bench.sh: vmafuzz against Relacy on the same program
# (issue 13), side by side in one run.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bench/peers/run_peer_bench.sh [--repetitions N] [--iterations N] [--inputs N]
                                     [--runs N] [--full-time S] [--context-bound K]
                                     [--work DIR] [--replay BIN] [--vmafuzz BIN]
                                     [--libfuzzer BIN] [--callgrind] [--help]

One writer write-locks a VMA while two readers take and drop its read lock:
bench/peers/three_tasks.sched for vmafuzz, bench/peers/relacy_vma_lock.cpp
for Relacy (Debian relacy-dev; scripts/setup installs it when missing).
Builds (configuring a build directory only if it has no build tree yet):
  relacy     WORK/relacy_vma_lock, clang++ -O2 -DNDEBUG
  replay     build/release/fuzz/fuzz_vma_lock_replay (preset release; and
             build/release/repro/vmafuzz, which makes the inputs)
  libfuzzer  build/bench-libfuzzer-plain/fuzz/fuzz_vma_lock (libFuzzer,
             no sanitizer, -O2 -g: the plain build of bench/run_fuzz_bench.sh)
Then makes --inputs binary inputs (default 2000): the .sched program under
the random strategy with seeds 1..N (vmafuzz convert; kept in WORK), and
each repetition r (1..N, default 5) measures, one after the other:
  relacy     --iterations random schedules (default 200000)
  relacy --extras  the same with the accesses ours makes besides the
             protocol (the fatal-signal load before each operation, the
             maple-tree load of each lookup, the mm's teardown): the same
             accesses per schedule as ours
  replay     fuzz_vma_lock_replay -runs=ceil(runs/inputs) over the inputs,
             for --runs runs (default 40000): each input read once and run
             that many times in a row, as libFuzzer does below (which reads
             the file again for every run)
  libfuzzer  the plain build running the same files, -runs=ceil(runs/inputs)
Rates are runs (schedules) / wall-clock seconds of the whole process.
Prints the medians (and min, max) as a Markdown table with the machine,
date, commit and load; the scheduling points per run (ours: vmafuzz run's
steps, averaged over the inputs; Relacy: the model's atomic accesses per
schedule) and the cost per point; the ratio lines
  ratio standalone/relacy: R.RRx (goal >= 1.0x)
  ratio libfuzzer-plain/relacy: R.RRx (goal >= 0.5x)
  ratio standalone/relacy-extras: R.RRx (the same accesses on both)
and the schedules of Relacy's systematic schedulers: the full search for
--full-time seconds (default 10; 0 skips; it does not exhaust this program,
so the line gives the count and Relacy's estimate of the total) and the
context-bound scheduler at bound --context-bound (default 2; 0 skips).

--callgrind also counts instructions (valgrind --tool=callgrind; repeatable
where wall-clock time is noisy): per Relacy schedule (with and without
--extras), the difference between 12000 and 2000 schedules / 10000; per standalone run of ours, between
-runs=3 and -runs=1 over the inputs / (2 x inputs). So start-up is not counted.
(valgrind cannot read the libFuzzer build's DWARF 5, so that build is left out.)

--work DIR (default build/bench-peers) holds the Relacy binary and inputs.
--replay, --vmafuzz, --libfuzzer use the given binaries instead of building
them (the ctest smoke test passes its own build's).

Exit codes: 0 ok, 1 a build or run failed (or Relacy found a failure),
64 bad command line.
USAGE
}

reps=5 iterations=200000 ninputs=2000 runs=40000 full_time=10 bound=2
work="" replay="" vmafuzz="" libfuzzer="" do_callgrind=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --callgrind) do_callgrind=1; shift ;;
    --repetitions|--iterations|--inputs|--runs)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || { echo "run_peer_bench: $1 needs N >= 1" >&2; exit 64; }
      case "$1" in
        --repetitions) reps=$2 ;; --iterations) iterations=$2 ;; --inputs) ninputs=$2 ;; --runs) runs=$2 ;;
      esac
      shift 2 ;;
    --full-time|--context-bound)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || { echo "run_peer_bench: $1 needs N >= 0" >&2; exit 64; }
      if [[ "$1" == --full-time ]]; then full_time=$2; else bound=$2; fi
      shift 2 ;;
    --work|--replay|--vmafuzz|--libfuzzer)
      [[ $# -ge 2 && -n "$2" ]] || { echo "run_peer_bench: $1 needs a path" >&2; exit 64; }
      case "$1" in
        --work) work=$2 ;; --replay) replay=$2 ;; --vmafuzz) vmafuzz=$2 ;; --libfuzzer) libfuzzer=$2 ;;
      esac
      shift 2 ;;
    *) echo "run_peer_bench: unknown argument: $1 (try --help)" >&2; exit 64 ;;
  esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"
work=$(realpath -m "${work:-$src/build/bench-peers}")
mkdir -p "$work" "$src/build/logs"
source "$src/bench/lib.sh"

# ---- builds ----

if [[ ! -f /usr/include/relacy/relacy.hpp ]]; then
  echo "run_peer_bench: Relacy's headers (relacy-dev) are missing; running scripts/setup" >&2
  "$src/scripts/setup" >&2 || { echo "run_peer_bench: scripts/setup failed: relacy-dev is needed" >&2; exit 1; }
  [[ -f /usr/include/relacy/relacy.hpp ]] || { echo "run_peer_bench: relacy-dev still missing" >&2; exit 1; }
fi
relacy=$work/relacy_vma_lock
if [[ ! -x "$relacy" || "$here/relacy_vma_lock.cpp" -nt "$relacy" ]]; then
  echo "== relacy: build $relacy" >&2
  clang++ -std=c++20 -O2 -DNDEBUG -Wall -Wextra "$here/relacy_vma_lock.cpp" -o "$relacy" \
    >"$src/build/logs/peers-relacy-build.log" 2>&1 \
    || { echo "run_peer_bench: Relacy model build failed, see build/logs/peers-relacy-build.log" >&2; exit 1; }
fi
if [[ -z "$replay" || -z "$vmafuzz" ]]; then
  bench_build peers-release build/release fuzz_vma_lock_replay cmake --preset release || exit 1
  bench_build peers-release build/release vmafuzz cmake --preset release || exit 1
  replay=${replay:-$src/build/release/fuzz/fuzz_vma_lock_replay}
  vmafuzz=${vmafuzz:-$src/build/release/repro/vmafuzz}
fi
if [[ -z "$libfuzzer" ]]; then
  bench_build bench-plain build/bench-libfuzzer-plain fuzz_vma_lock \
    bench_libfuzzer_plain_configure "$src" build/bench-libfuzzer-plain || exit 1
  libfuzzer=$src/build/bench-libfuzzer-plain/fuzz/fuzz_vma_lock
fi
for b in "$replay" "$vmafuzz" "$libfuzzer"; do
  [[ -x "$b" ]] || { echo "run_peer_bench: not an executable: $b" >&2; exit 1; }
done

# ---- the inputs: the program under seeds 1..N, remade when the program changes ----

sched=$here/three_tasks.sched
inputs=$work/inputs-$ninputs
stamp=$(sha256sum "$sched" | cut -d' ' -f1)
# The stamp sits beside the directory: the replay tools run every file in it.
if [[ "$(cat "$inputs.stamp" 2>/dev/null)" != "$stamp" ]]; then
  echo "== inputs: $ninputs random schedules of $(basename "$sched") ($inputs)" >&2
  rm -rf "$inputs" "$inputs.stamp"; mkdir -p "$inputs"
  for ((i = 1; i <= ninputs; i++)); do
    sed -E "s/^schedule random seed .*/schedule random seed $(printf '0x%016x' "$i")/" "$sched" >"$work/seed.sched"
    "$vmafuzz" convert "$work/seed.sched" "$inputs/$(printf 'seed-%05d' "$i")" >/dev/null \
      || { echo "run_peer_bench: vmafuzz convert failed on seed $i" >&2; exit 1; }
  done
  rm -f "$work/seed.sched"
  echo "$stamp" >"$inputs.stamp"
fi
# Every input passes, and its scheduling points ("steps:") per run.
"$vmafuzz" run "$inputs" >"$work/run.log" 2>&1 \
  || { tail -n 30 "$work/run.log" >&2; echo "run_peer_bench: vmafuzz run failed on the inputs" >&2; exit 1; }
our_steps=$(awk '/^steps: / {s += $2; n++} END {if (n) printf "%.2f", s / n}' "$work/run.log")
[[ -n "$our_steps" ]] || { echo "run_peer_bench: no 'steps:' lines in vmafuzz run's output" >&2; exit 1; }
files=("$inputs"/seed-*)
passes=$(((runs + ninputs - 1) / ninputs))
our_runs=$((passes * ninputs))

# ---- measurements, interleaved ----

# rate COUNT CMD...: COUNT / wall-clock seconds of CMD (its output to $work/last.log).
rate() {
  local count=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  "$@" >"$work/last.log" 2>&1 || { tail -n 30 "$work/last.log" >&2; return 1; }
  t1=$(date +%s.%N)
  python3 -c "print(round($count / ($t1 - $t0)))"
}

relacy_rates="" extras_rates="" replay_rates="" libfuzzer_rates="" relacy_steps="" extras_steps=""
for ((r = 1; r <= reps; r++)); do
  v=$(rate "$iterations" "$relacy" --scheduler random --iterations "$iterations") \
    || { echo "run_peer_bench: Relacy run $r failed" >&2; exit 1; }
  relacy_rates+="$v "
  relacy_steps=$(sed -nE 's/.* accesses_per_schedule=([0-9.]+) .*/\1/p' "$work/last.log")
  echo "== repetition $r/$reps: relacy $v schedules/s" >&2
  v=$(rate "$iterations" "$relacy" --extras --scheduler random --iterations "$iterations") \
    || { echo "run_peer_bench: Relacy --extras run $r failed" >&2; exit 1; }
  extras_rates+="$v "
  extras_steps=$(sed -nE 's/.* accesses_per_schedule=([0-9.]+) .*/\1/p' "$work/last.log")
  echo "== repetition $r/$reps: relacy --extras $v schedules/s" >&2
  v=$(rate "$our_runs" "$replay" -runs="$passes" "$inputs") || { echo "run_peer_bench: replay run $r failed" >&2; exit 1; }
  replay_rates+="$v "
  echo "== repetition $r/$reps: replay $v runs/s" >&2
  v=$(rate "$our_runs" env -u VMAFUZZ_INJECT "$libfuzzer" -runs="$passes" "${files[@]}") \
    || { echo "run_peer_bench: libFuzzer run $r failed" >&2; exit 1; }
  libfuzzer_rates+="$v "
  echo "== repetition $r/$reps: libfuzzer $v runs/s" >&2
done

full_line="" bound_line=""
if [[ $full_time -gt 0 ]]; then
  "$relacy" --scheduler full --time "$full_time" >"$work/full.log" 2>&1 \
    || { tail -n 30 "$work/full.log" >&2; echo "run_peer_bench: Relacy full search failed" >&2; exit 1; }
  full_line=$(cat "$work/full.log")
fi
if [[ $bound -gt 0 ]]; then
  "$relacy" --scheduler bound --context-bound "$bound" --time "$((full_time > 0 ? full_time : 10))" >"$work/bound.log" 2>&1 \
    || { tail -n 30 "$work/bound.log" >&2; echo "run_peer_bench: Relacy context-bound search failed" >&2; exit 1; }
  bound_line=$(cat "$work/bound.log")
fi

callgrind_line=""
if [[ $do_callgrind -eq 1 ]]; then
  command -v valgrind >/dev/null || { echo "run_peer_bench: --callgrind needs valgrind" >&2; exit 1; }
  # instructions CMD...: instructions callgrind counts in CMD.
  instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null \
      | sed -nE 's/^==[0-9]+== Collected : ([0-9]+)$/\1/p'
  }
  echo "== callgrind: Relacy and the replay driver" >&2
  r1=$(instructions "$relacy" --iterations 2000) r2=$(instructions "$relacy" --iterations 12000)
  e1=$(instructions "$relacy" --extras --iterations 2000) e2=$(instructions "$relacy" --extras --iterations 12000)
  o1=$(instructions "$replay" "$inputs") o2=$(instructions "$replay" -runs=3 "$inputs")
  [[ -n "$r1" && -n "$r2" && -n "$e1" && -n "$e2" && -n "$o1" && -n "$o2" ]] \
    || { echo "run_peer_bench: callgrind gave no count" >&2; exit 1; }
  callgrind_line="$(((r2 - r1) / 10000)) $(((o2 - o1) / (2 * ninputs))) $(((e2 - e1) / 10000))"
fi

# ---- report ----

commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$src" diff --quiet HEAD 2>/dev/null || commit="$commit + uncommitted changes"
cpu=$(sed -nE 's/^model name\s*: (.*)/\1/p' /proc/cpuinfo | head -n 1)
echo
echo "Machine: $(nproc) CPUs ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), $(clang --version | head -n 1)"
echo "Date: $(date -u +%Y-%m-%d), commit $commit, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "Per measurement: Relacy $iterations random schedules; ours $our_runs runs ($ninputs inputs x $passes); repetitions: $reps"
echo "Binaries: ${relacy#"$src"/}, ${replay#"$src"/}, ${libfuzzer#"$src"/}"
echo
python3 - "$relacy_steps" "$our_steps" "$relacy_rates" "$replay_rates" "$libfuzzer_rates" \
  "$full_line" "$bound_line" "$bound" "$callgrind_line" "$extras_steps" "$extras_rates" <<'PY'
import re, statistics, sys
relacy_steps, our_steps, extras_steps = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[10])
rows = [("Relacy, random scheduler (-O2)", "schedules/s", relacy_steps),
        ("vmafuzz, fuzz_vma_lock_replay (standalone)", "runs/s", our_steps),
        ("vmafuzz, fuzz_vma_lock under libFuzzer, running the files", "runs/s", our_steps),
        ("Relacy --extras (ours' accesses besides the protocol too)", "schedules/s", extras_steps)]
data = [[int(x) for x in a.split()] for a in sys.argv[3:6] + [sys.argv[11]]]
med = [statistics.median(xs) for xs in data]
print("| what | median | min | max | points per run | ns per point |")
print("|---|---|---|---|---|---|")
for (name, unit, steps), xs, m in zip(rows, data, med):
    print(f"| {name} | {m:,.0f} {unit} | {min(xs):,} | {max(xs):,} | {steps:.1f} | {1e9 / (m * steps):.0f} |")
print()
print(f"ratio standalone/relacy: {med[1] / med[0]:.2f}x (goal >= 1.0x)")
print(f"ratio libfuzzer-plain/relacy: {med[2] / med[0]:.2f}x (goal >= 0.5x)")
print(f"ratio standalone/relacy-extras: {med[1] / med[3]:.2f}x (the same accesses on both)")
print(f"ratio per point, standalone/relacy: {med[1] * our_steps / (med[0] * relacy_steps):.2f}x")
print(f"ratio per point, libfuzzer-plain/relacy: {med[2] * our_steps / (med[0] * relacy_steps):.2f}x")
def field(line, key):
    m = re.search(rf"\b{key}=(\S+)", line)
    return m.group(1) if m else "?"
if sys.argv[6]:
    l = sys.argv[6]
    tail = "exhausted" if field(l, "exhausted") == "yes" else f"not exhausted, Relacy's estimate of the total {field(l, 'relacy_estimate')}"
    print(f"relacy full search: {int(field(l, 'schedules')):,} schedules in {field(l, 'seconds')} s, {tail}")
if sys.argv[7]:
    l = sys.argv[7]
    tail = "exhausted" if field(l, "exhausted") == "yes" else "not exhausted"
    print(f"relacy context bound {sys.argv[8]}: {int(field(l, 'schedules')):,} schedules in {field(l, 'seconds')} s, {tail}")
if sys.argv[9]:
    ri, oi, ei = (int(x) for x in sys.argv[9].split())
    print(f"instructions per run (callgrind): Relacy {ri:,} ({ri / relacy_steps:.0f} per point), "
          f"Relacy --extras {ei:,} ({ei / extras_steps:.0f} per point), "
          f"standalone {oi:,} ({oi / our_steps:.0f} per point)")
    # Like the ratio lines above: above 1 means ours needs fewer.
    print(f"ratio by instructions, standalone/relacy: {ri / oi:.2f}x per run, "
          f"{ri * our_steps / (oi * relacy_steps):.2f}x per point")
    print(f"ratio by instructions, standalone/relacy-extras: {ei / oi:.2f}x per run")
PY
