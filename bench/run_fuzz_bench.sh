#!/usr/bin/env bash
# bench/run_fuzz_bench.sh: executions per second of fuzz_vma_lock in each
# fuzzing build, side by side, on the shipped seed corpus.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bench/run_fuzz_bench.sh [--repetitions N] [--runs N] [--builds LIST] [--libfuzzer-flags FLAGS]
                               [--baseline REV] [--compare CMAKE-ARGS] [--compare-flags FLAGS]
                               [--perf] [--help]

Builds fuzz_vma_lock four ways (configuring a build directory only if it has no
build tree yet) and fuzzes with each for a fixed number of executions:
  plain   build/bench-libfuzzer-plain  libFuzzer, coverage only, no sanitizer, -O2 -g
  asan    build/libfuzzer              preset libfuzzer: -O2 -g, ASan + UBSan
  tsan    build/tsan-libfuzzer         preset tsan-libfuzzer: -O1 -g, TSan (direct)
  afl     build/afl                    preset afl: afl-clang-fast++ -O2 -g, persistent mode
Each repetition r (1..N, default 5) runs every build once, from the shipped
seeds (corpus/fuzz_vma_lock/ and its dictionary) into a fresh scratch corpus,
for --runs executions (default 50000) with seed r: libFuzzer -runs -seed,
afl-fuzz -E -s. Executions per second = runs / wall-clock seconds of the whole
process (start-up, seed loading and AFL++'s calibration included), on the
correct model, and runs / CPU seconds (user + system, children included): on
a shared, loaded machine the second is the steadier figure. Prints the median, minimum and maximum per build and the
ratio to plain, as a Markdown table, with the machine, date, commit and load.

--builds LIST measures (and builds) only those, comma-separated, e.g.
"plain,asan,tsan" (default all four; the ratio column needs plain).
--libfuzzer-flags FLAGS appends FLAGS (one word each, e.g. "-entropic=0
-reduce_inputs=0") to every libFuzzer command line: how scripts/fuzz's
default flags were chosen (docs/FUZZING.md). Without it libFuzzer runs with
its own defaults; the campaign's rate (scripts/fuzz adds -use_counters=0) is
--libfuzzer-flags -use_counters=0.
--baseline REV adds the builds of git revision REV (exported to
build/bench-baseline-src), measured in the same repetitions: "old", its plain
build (build/bench-baseline-libfuzzer-plain), and, when asan is measured,
"old-asan", its preset libfuzzer (build/bench-baseline-libfuzzer), when tsan
is, "old-tsan", its preset tsan-libfuzzer (build/bench-baseline-tsan-libfuzzer).
--compare CMAKE-ARGS adds, for each of plain, asan and tsan in --builds, a
copy of that build configured with CMAKE-ARGS as well (build/bench-cmp-BUILD,
e.g. "-DVMAFUZZ_COVERAGE_IGNORELIST= -DVMAFUZZ_EXTRA_COUNTERS=4096"; a tree
configured earlier gets the arguments again, and keeps cache values they do
not name: name every option that differs), measured right after it in
each repetition; its row ("BUILD*") also gives BUILD* / BUILD. How the
instrumentation scope and the extra-counter size were chosen (docs/FUZZING.md).
--compare-flags FLAGS adds, for each of plain, asan and tsan in --builds, a
run of the same binary with FLAGS appended (one word each), right after it
in each repetition; its row ("BUILD+") also gives BUILD+ / BUILD. How
scripts/fuzz's libFuzzer flags were chosen (docs/FUZZING.md).

--perf also records the plain build with `perf record -g` for one repetition
and prints where its time goes (libFuzzer's comparison callbacks, its corpus
bookkeeping, the scheduler and model, ...).

Exit codes: 0 ok, 1 a configure/build/run failed, 64 bad command line.
USAGE
}

reps=5
runs=50000
do_perf=0
builds_arg=plain,asan,tsan,afl
lf_flags=()
baseline=""
base_rev=""
compare=()
cmp_flags=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --repetitions|--runs)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || { echo "run_fuzz_bench: $1 needs N >= 1" >&2; exit 64; }
      if [[ "$1" == --runs ]]; then runs=$2; else reps=$2; fi
      shift 2 ;;
    --builds)
      [[ $# -ge 2 && "$2" =~ ^(plain|asan|tsan|afl)(,(plain|asan|tsan|afl))*$ && "$2" == *plain* ]] || {
        echo "run_fuzz_bench: --builds needs a comma-separated list of plain, asan, tsan, afl including plain" >&2; exit 64; }
      builds_arg=$2; shift 2 ;;
    --libfuzzer-flags)
      [[ $# -ge 2 ]] || { echo "run_fuzz_bench: --libfuzzer-flags needs an argument" >&2; exit 64; }
      read -r -a lf_flags <<<"$2"; shift 2 ;;
    --baseline)
      [[ $# -ge 2 && -n "$2" ]] || { echo "run_fuzz_bench: --baseline needs a git revision" >&2; exit 64; }
      baseline=$2; shift 2 ;;
    --compare)
      [[ $# -ge 2 && -n "$2" ]] || { echo "run_fuzz_bench: --compare needs CMake arguments" >&2; exit 64; }
      read -r -a compare <<<"$2"; shift 2 ;;
    --compare-flags)
      [[ $# -ge 2 && -n "$2" ]] || { echo "run_fuzz_bench: --compare-flags needs libFuzzer flags" >&2; exit 64; }
      read -r -a cmp_flags <<<"$2"; shift 2 ;;
    --perf) do_perf=1; shift ;;
    *) echo "run_fuzz_bench: unknown argument: $1 (try --help)" >&2; exit 64 ;;
  esac
done

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$src"
seeds=$src/corpus/fuzz_vma_lock
dict=$src/corpus/fuzz_vma_lock.dict
[[ -d "$seeds" ]] || { echo "run_fuzz_bench: no seed corpus in corpus/fuzz_vma_lock" >&2; exit 1; }
mkdir -p build/logs

source "$src/bench/lib.sh"
# configure_and_build NAME DIR CONFIGURE-COMMAND...: fuzz_vma_lock in DIR
# (configured only if it has no build tree yet; bench/lib.sh).
configure_and_build() {
  local name=$1 dir=$2; shift 2
  bench_build "bench-$name" "$dir" fuzz_vma_lock "$@"
}

IFS=, read -r -a builds <<<"$builds_arg"
want() { [[ ",$builds_arg," == *",$1,"* ]]; }

configure_and_build plain build/bench-libfuzzer-plain bench_libfuzzer_plain_configure . build/bench-libfuzzer-plain
if [[ -n "$baseline" ]]; then
  base_rev=$(bench_export_rev "$baseline" build/bench-baseline-src) || exit 64
  configure_and_build old build/bench-baseline-libfuzzer-plain \
    bench_libfuzzer_plain_configure build/bench-baseline-src build/bench-baseline-libfuzzer-plain
  builds+=(old)
  if want asan; then
    configure_and_build old-asan build/bench-baseline-libfuzzer \
      cmake -S build/bench-baseline-src --preset libfuzzer -B build/bench-baseline-libfuzzer
    builds+=(old-asan)
  fi
  if want tsan; then
    configure_and_build old-tsan build/bench-baseline-tsan-libfuzzer \
      cmake -S build/bench-baseline-src --preset tsan-libfuzzer -B build/bench-baseline-tsan-libfuzzer
    builds+=(old-tsan)
  fi
fi
if want asan; then configure_and_build asan build/libfuzzer cmake --preset libfuzzer; fi
if want tsan; then configure_and_build tsan build/tsan-libfuzzer cmake --preset tsan-libfuzzer; fi
if want afl; then configure_and_build afl build/afl cmake --preset afl; fi
# The --compare copies: the same configure command plus CMAKE-ARGS, run again
# on every call so that a reused tree has exactly these arguments.
cmp_builds=()
if [[ ${#compare[@]} -gt 0 ]]; then
  for b in plain asan tsan; do
    want "$b" || continue
    d=build/bench-cmp-$b
    case $b in
      plain) bench_libfuzzer_plain_configure . "$d" "${compare[@]}" >build/logs/bench-cmp-$b-configure.log 2>&1 ;;
      asan) cmake --preset libfuzzer -B "$d" "${compare[@]}" >build/logs/bench-cmp-$b-configure.log 2>&1 ;;
      tsan) cmake --preset tsan-libfuzzer -B "$d" "${compare[@]}" >build/logs/bench-cmp-$b-configure.log 2>&1 ;;
    esac || { echo "run_fuzz_bench: configure of $d failed, see build/logs/bench-cmp-$b-configure.log" >&2; exit 1; }
    configure_and_build "cmp-$b" "$d"
    cmp_builds+=("$b")
  done
fi

declare -A bin=(
  [plain]=$src/build/bench-libfuzzer-plain/fuzz/fuzz_vma_lock
  [asan]=$src/build/libfuzzer/fuzz/fuzz_vma_lock
  [tsan]=$src/build/tsan-libfuzzer/fuzz/fuzz_vma_lock
  [afl]=$src/build/afl/fuzz/fuzz_vma_lock
  [old]=$src/build/bench-baseline-libfuzzer-plain/fuzz/fuzz_vma_lock
  [old-asan]=$src/build/bench-baseline-libfuzzer/fuzz/fuzz_vma_lock
  [old-tsan]=$src/build/bench-baseline-tsan-libfuzzer/fuzz/fuzz_vma_lock
)
for b in "${cmp_builds[@]}"; do bin[$b*]=$src/build/bench-cmp-$b/fuzz/fuzz_vma_lock; done
# Each --compare copy, and each --compare-flags run, right after its build, in every repetition.
order=()
for b in "${builds[@]}"; do
  order+=("$b")
  [[ " ${cmp_builds[*]} " == *" $b "* ]] && order+=("$b*")
  [[ ${#cmp_flags[@]} -gt 0 && " plain asan tsan " == *" $b "* ]] && { order+=("$b+"); bin[$b+]=${bin[$b]}; }
done
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# one_run BUILD SEED: prints executions per second of one run, by wall clock
# and by CPU time ("WALL/CPU"; CPU = user + system of the fuzzer and its
# children, which a loaded machine inflates far less than wall-clock time).
one_run() {
  local b=$1 seed=$2 work=$scratch/${1/\*/-cmp}-$2 t0 t1 TIMEFORMAT='%3U %3S' more=()
  work=${work/+/-flags}
  [[ "$b" == *+ ]] && more=("${cmp_flags[@]}")
  rm -rf "$work"; mkdir -p "$work/corpus"
  t0=$(date +%s.%N)
  if [[ "$b" == afl ]]; then
    { time env -u VMAFUZZ_INJECT -u ASAN_OPTIONS -u UBSAN_OPTIONS AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 \
      AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
      afl-fuzz -i "$seeds" -o "$work/out" -x "$dict" -E "$runs" -s "$seed" -t 10000 -- "${bin[$b]}" \
      >"$work/log" 2>&1; } 2>"$work/cpu" || { cat "$work/log" >&2; return 1; }
  else
    { time (cd "$work" && env -u VMAFUZZ_INJECT ASAN_OPTIONS=detect_leaks=0 "${bin[$b]}" -runs="$runs" -seed="$seed" \
      -dict="$dict" "${lf_flags[@]}" "${more[@]}" "$work/corpus" "$seeds" >"$work/log" 2>&1); } 2>"$work/cpu" \
      || { tail -n 30 "$work/log" >&2; return 1; }
  fi
  t1=$(date +%s.%N)
  python3 -c "u, s = map(float, open('$work/cpu').read().split()); print(f'{round($runs / ($t1 - $t0))}/{round($runs / (u + s))}')"
}

declare -A results=() cpu_results=()
for ((r = 1; r <= reps; r++)); do
  for b in "${order[@]}"; do
    v=$(one_run "$b" "$r") || { echo "run_fuzz_bench: $b run $r failed" >&2; exit 1; }
    results[$b]+="${v%/*} "
    cpu_results[$b]+="${v#*/} "
    echo "== repetition $r/$reps: $b ${v%/*} execs/s wall clock, ${v#*/} per CPU second" >&2
  done
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit + uncommitted changes"
cpu=$(sed -nE 's/^model name\s*: (.*)/\1/p' /proc/cpuinfo | head -n 1)
echo
echo "Machine: $(nproc) CPUs ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), $(clang --version | head -n 1)"
echo "Date: $(date -u +%Y-%m-%d), commit $commit, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "Runs per measurement: $runs, repetitions: $reps${lf_flags[*]:+, libFuzzer flags: ${lf_flags[*]}}"
echo
labels=("plain=libFuzzer, no sanitizer (-O2)" "asan=libFuzzer + ASan + UBSan (-O2)" "tsan=libFuzzer + TSan (-O1)"
        "afl=AFL++ persistent (-O2)" "old=libFuzzer, no sanitizer (-O2), baseline ${base_rev:0:7}"
        "old-asan=libFuzzer + ASan + UBSan, baseline ${base_rev:0:7}"
        "old-tsan=libFuzzer + TSan, baseline ${base_rev:0:7}")
[[ ${#compare[@]} -gt 0 ]] && echo "BUILD* = BUILD configured with ${compare[*]}" && echo
[[ ${#cmp_flags[@]} -gt 0 ]] && echo "BUILD+ = BUILD run with ${cmp_flags[*]}" && echo
rows=()
for b in "${order[@]}"; do
  label=""
  for l in "${labels[@]}"; do [[ "${l%%=*}" == "${b%[*+]}" ]] && label=${l#*=}; done
  [[ "$b" == *[*+] ]] && label="$label, $b"
  rows+=("$b|$label|${results[$b]}|${cpu_results[$b]}")
done
python3 - "${rows[@]}" <<'PY'
import statistics, sys
rows = {}
for arg in sys.argv[1:]:
    key, label, wall, cpu = arg.split("|")
    rows[key] = (label, [int(x) for x in wall.split()], [int(x) for x in cpu.split()])
plain, plain_cpu = statistics.median(rows["plain"][1]), statistics.median(rows["plain"][2])
cmp = any(k.endswith(("*", "+")) for k in rows)
print("| build | median execs/s | min | max | plain / build | median execs per CPU-second | plain / build (CPU) |"
      + (" BUILD* or BUILD+ / BUILD (CPU) |" if cmp else ""))
print("|---|---|---|---|---|---|---|" + ("---|" if cmp else ""))
for key, (label, xs, cs) in rows.items():
    m, c = statistics.median(xs), statistics.median(cs)
    row = f"| {label} | {m:,.0f} | {min(xs):,} | {max(xs):,} | {plain / m:.1f}x | {c:,.0f} | {plain_cpu / c:.1f}x |"
    if cmp:
        row += f" {c / statistics.median(rows[key[:-1]][2]):.2f} |" if key.endswith(("*", "+")) else " |"
    print(row)
PY

if [[ $do_perf -eq 1 ]]; then
  command -v perf >/dev/null || { echo "run_fuzz_bench: perf not found" >&2; exit 1; }
  work=$scratch/perf; rm -rf "$work"; mkdir -p "$work/corpus"
  (cd "$work" && perf record -g -o "$work/perf.data" "${bin[plain]}" -runs="$runs" -seed=1 -dict="$dict" \
     "$work/corpus" "$seeds" >"$work/log" 2>&1)
  echo
  echo "Where the plain build's time goes (perf record, self time by symbol, grouped):"
  perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null \
    | awk '/^ +[0-9.]+%/ {
        p = $1; sub(/%/, "", p); line = $0
        if (line ~ /\[k\]/) c = "kernel (libFuzzer writing new corpus files, page faults)"
        else if (line ~ /__sanitizer_cov_trace/) c = "libFuzzer: comparison / switch / indirect-call callbacks (trace-cmp)"
        else if (line ~ /CollectFeatures|ForEachNonZeroByte|RunOne|ExtraCounters|TracePC/) c = "libFuzzer: collecting features from the counters"
        else if (line ~ /InputCorpus|InputInfo|Entropic/) c = "libFuzzer: corpus bookkeeping (entropic schedule)"
        else if (line ~ /fuzzer::|MutationDispatcher/) c = "libFuzzer: mutation and the rest of its loop"
        else if (line ~ /vmafuzz::|jump_fcontext|ontop_fcontext/) c = "vmafuzz: scheduler, oracles, features and the model"
        else if (line ~ /libc\.so|libstdc\+\+|libm\.so/) c = "libc / libstdc++ / libm (malloc, memcpy, log)"
        else c = "other"
        t[c] += p } END { for (c in t) printf "  %5.1f%%  %s\n", t[c], c }' | sort -rn
  echo
  echo "Top symbols:"
  perf report -i "$work/perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null \
    | awk '/^ +[0-9.]+%/' | head -n 15 | sed -E 's/ {2,}-? *-? *$//' | cut -c1-110
fi
