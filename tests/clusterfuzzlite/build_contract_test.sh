#!/usr/bin/env bash
# build_contract_test.sh: .clusterfuzzlite/build.sh run as OSS-Fuzz's
# base-builder runs it (the ClusterFuzzLite build_fuzzers action does the
# same), then the build contract checked and every target run on its seeds.
#
# Usage: tests/clusterfuzzlite/build_contract_test.sh [--work DIR] [--vmafuzz BIN] [--help]
#   --work DIR     $SRC and $WORK live here (default build/cflite-contract);
#                  kept between runs so that ccache hits (its hash includes
#                  the paths). $OUT is a new temporary directory every time.
#   --vmafuzz BIN  a vmafuzz build (its list-bugs) for the crash-state check;
#                  without it that check is not run (and the test says so).
# Environment as the base-builder sets it for `compile` with
# SANITIZER=address FUZZING_ENGINE=libfuzzer ARCHITECTURE=x86_64:
#   CC, CXX           clang, clang++ (Debian's clang 14; OSS-Fuzz brings its own)
#   CFLAGS, CXXFLAGS  -O1 -fno-omit-frame-pointer -gline-tables-only
#                     -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#                     -fsanitize=address -fsanitize-address-use-after-scope
#                     -fsanitize=fuzzer-no-link (CXXFLAGS: also -stdlib=libc++,
#                     OSS-Fuzz's CXXFLAGS_EXTRA, where this clang's libFuzzer
#                     links with libc++; Debian's does not)
#   LIB_FUZZING_ENGINE -fsanitize=fuzzer
#   SRC, OUT, WORK    a copy of the checkout is $SRC/vmafuzz, build.sh is
#                     $SRC/build.sh (the Dockerfile's COPY lines), run from
#                     $SRC/vmafuzz
# Checks, per fuzz/fuzz_*.cpp NAME:
#   $OUT/NAME                  an executable with LLVMFuzzerTestOneInput,
#                              ASan and libFuzzer linked in
#   $OUT/NAME_seed_corpus.zip  flat, exactly the files of corpus/NAME/
#   $OUT/NAME.dict             corpus/NAME.dict, byte for byte
#   $OUT/NAME.options          .clusterfuzzlite/NAME.options: an INI file with a
#                              [libfuzzer] section whose dict names NAME.dict
#   run                        NAME -runs=0 with its options' flags over the
#                              unzipped seeds, ASAN_OPTIONS as ClusterFuzz sets
#                              them: exit 0, every seed read
# and nothing else in $OUT. Then tests/fuzz/crash_state.py on $OUT/fuzz_vma_lock
# (the libFuzzer build): one crash state per oracle.
# Exit: 0 all checks passed, 1 a check failed, 2 a tool is missing, 64 usage.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work_dir=$root/build/cflite-contract
vmafuzz=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --work) work_dir=${2:?--work needs a directory}; shift 2 ;;
    --vmafuzz) vmafuzz=${2:?--vmafuzz needs a program}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build_contract_test: unknown argument '$1' (--help)" >&2; exit 64 ;;
  esac
done

for tool in clang clang++ zip python3 cmake ninja git; do
  command -v "$tool" >/dev/null || { echo "build_contract_test: $tool not found (scripts/setup installs it)" >&2; exit 2; }
done

fail=0
bad() { echo "FAIL: $*"; fail=1; }

# $SRC as the Dockerfile lays it out: a copy of the checkout (COPY . \$SRC/vmafuzz:
# the files git knows of and new ones it does not ignore, timestamps kept so
# that the build in \$WORK stays incremental) and build.sh beside it.
mkdir -p "$work_dir"
work_dir=$(cd "$work_dir" && pwd)
export SRC=$work_dir/src WORK=$work_dir/work
rm -rf "$SRC"; mkdir -p "$SRC/vmafuzz" "$WORK"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp -a --parents -t "$SRC/vmafuzz" 2>/dev/null) \
  || { echo "build_contract_test: copying the checkout into \$SRC failed" >&2; exit 2; }
cp "$SRC/vmafuzz/.clusterfuzzlite/build.sh" "$SRC/build.sh"
OUT=$(mktemp -d "${TMPDIR:-/tmp}/cflite-out.XXXXXX")
export OUT
trap 'rm -rf "$OUT"' EXIT

export CC=clang CXX=clang++ SANITIZER=address FUZZING_ENGINE=libfuzzer ARCHITECTURE=x86_64
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS=$CFLAGS
# OSS-Fuzz adds -stdlib=libc++ (its clang's libFuzzer keeps its own C++
# library inside). Debian's libFuzzer is built against libstdc++ and does not
# link with libc++, so here that holds only where a libc++ fuzzer links.
probe=$(mktemp -d)
printf '#include <vector>\n#include <cstdint>\n#include <cstddef>\nextern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { std::vector<int> v(1); return v[0]; }\n' >"$probe/p.cpp"
if clang++ -stdlib=libc++ -fsanitize=fuzzer "$probe/p.cpp" -o "$probe/p" >/dev/null 2>&1; then
  CXXFLAGS="$CXXFLAGS -stdlib=libc++"
  stdlib=libc++
else
  stdlib="libstdc++ (this clang's libFuzzer does not link with libc++)"
fi
rm -rf "$probe"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
# Not the base-builder's, but it keeps this extra build cheap: ccache when
# installed (CMake reads these variables; the project's own builds use it too).
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache} CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
fi
echo "build_contract_test: SRC=$SRC WORK=$WORK OUT=$OUT, C++ library $stdlib"

start=$SECONDS
(cd "$SRC/vmafuzz" && bash -eu "$SRC/build.sh") >"$work_dir/build.log" 2>&1 || {
  tail -40 "$work_dir/build.log"; echo "FAIL: build.sh failed (log: $work_dir/build.log)"; exit 1; }
echo "build_contract_test: build.sh took $((SECONDS - start)) s"

export ASAN_OPTIONS="alloc_dealloc_mismatch=0:allocator_may_return_null=1:allocator_release_to_os_interval_ms=500:check_malloc_usable_size=0:detect_container_overflow=1:detect_odr_violation=0:detect_leaks=1:detect_stack_use_after_return=1:fast_unwind_on_fatal=0:handle_abort=1:handle_segv=1:handle_sigill=1:max_uar_stack_size_log=16:print_scariness=1:quarantine_size_mb=10:strict_memcmp=1:symbolize=1:use_sigaltstack=1:dedup_token_length=3"
unset VMAFUZZ_INJECT

expected=()
for f in "$root"/fuzz/fuzz_*.cpp; do expected+=("$(basename "$f" .cpp)"); done
for name in "${expected[@]}"; do
  bin=$OUT/$name
  [[ -x "$bin" ]] || { bad "$name: no executable \$OUT/$name"; continue; }
  syms=$(nm "$bin" 2>/dev/null || true)
  grep -q ' T LLVMFuzzerTestOneInput$' <<<"$syms" || bad "$name: no LLVMFuzzerTestOneInput"
  grep -q '__asan_init' <<<"$syms" || bad "$name: not built with AddressSanitizer"
  grep -q 'LLVMFuzzerRunDriver' <<<"$syms" || bad "$name: libFuzzer (\$LIB_FUZZING_ENGINE) not linked"

  seeds=$work_dir/seeds/$name
  rm -rf "$seeds"; mkdir -p "$seeds"
  if [[ -d "$root/corpus/$name" ]]; then
    zip=$OUT/${name}_seed_corpus.zip
    if [[ ! -f "$zip" ]]; then
      bad "$name: no ${name}_seed_corpus.zip"
    else
      python3 -m zipfile -e "$zip" "$seeds"
      diff -r -q "$root/corpus/$name" "$seeds" >/dev/null || bad "$name: the seed zip is not corpus/$name/ (flat)"
    fi
  fi
  if [[ -f "$root/corpus/$name.dict" ]]; then
    cmp -s "$root/corpus/$name.dict" "$OUT/$name.dict" || bad "$name: \$OUT/$name.dict is not corpus/$name.dict"
  fi
  opts=$OUT/$name.options
  flags=()
  if [[ ! -f "$opts" ]]; then
    bad "$name: no $name.options"
  else
    # ClusterFuzz passes each key of [libfuzzer] as -key=value; a dict is
    # relative to the target's directory.
    if ! mapfile -t flags < <(python3 - "$opts" "$OUT" <<'PY'
import configparser, os, sys
c = configparser.ConfigParser()
c.read(sys.argv[1])
if not c.has_section("libfuzzer"):
    sys.exit(f"{sys.argv[1]}: no [libfuzzer] section")
for k, v in c.items("libfuzzer"):
    if k == "dict":
        v = os.path.join(sys.argv[2], v)
        if not os.path.isfile(v):
            sys.exit(f"{sys.argv[1]}: dict {v} is not in $OUT")
    print(f"-{k}={v}")
PY
    ); then bad "$name: $name.options"; fi
    [[ " ${flags[*]} " == *" -dict=$OUT/$name.dict "* ]] || bad "$name: its options do not name $name.dict"
    [[ " ${flags[*]} " == *" -use_counters=0 "* ]] || bad "$name: its options do not set use_counters = 0 (scripts/fuzz's default)"
  fi
  n_seeds=$(find "$seeds" -type f | wc -l)
  rc=0
  out=$(cd "$work_dir" && "$bin" "${flags[@]}" -runs=0 "$seeds" 2>&1) || rc=$?
  read_inputs=$(sed -nE 's/^INFO: +seed corpus: files: ([0-9]+).*/\1/p' <<<"$out" | head -1)
  if [[ $rc -ne 0 ]]; then
    bad "$name: -runs=0 over its $n_seeds seeds exited $rc:"; tail -30 <<<"$out"
  elif ! grep -q 'INITED' <<<"$out" || [[ "${read_inputs:-0}" -ne "$n_seeds" ]]; then
    bad "$name: libFuzzer read ${read_inputs:-no} of its $n_seeds seeds"; tail -10 <<<"$out"
  else
    echo "ok: $name: ${flags[*]} -runs=0: $n_seeds seeds, exit 0"
  fi
done
extra=$(cd "$OUT" && ls | grep -v -x -F -f <(for n in "${expected[@]}"; do printf '%s\n%s\n%s\n%s\n' \
  "$n" "${n}_seed_corpus.zip" "$n.dict" "$n.options"; done) || true)
[[ -z "$extra" ]] || bad "unexpected files in \$OUT: $extra"

if [[ -n "$vmafuzz" ]]; then
  python3 "$root/tests/fuzz/crash_state.py" --target "$OUT/fuzz_vma_lock" --vmafuzz "$vmafuzz" || bad "crash states (above)"
else
  echo "build_contract_test: no --vmafuzz: the crash-state check did not run"
fi
[[ $fail -eq 0 ]] && echo "build_contract_test: ${#expected[@]} targets, contract ok" || echo "build_contract_test: FAILED"
exit $fail
