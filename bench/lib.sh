# bench/lib.sh: what the benchmark scripts share. The shell scripts source it;
# bench/run_bug_bench.py runs it as a command:
#   bash bench/lib.sh bench_build NAME DIR TARGET [CONFIGURE-COMMAND...]
#
# bench_build NAME DIR TARGET [CONFIGURE-COMMAND...]
#   Configures build tree DIR with CONFIGURE-COMMAND when DIR has no build tree
#   yet (no DIR/build.ninja; with no command, DIR must exist already), then
#   builds TARGET in it with 2 jobs. Relative paths are relative to the
#   repository (the command runs there). Output goes to
#   build/logs/NAME-configure.log and build/logs/NAME-build.log; on failure
#   one line on stderr names the log, and the status is 1. Progress goes to
#   stderr, so stdout stays the caller's.
#
# bench_o2_configure SRC DIR SANITIZE
#   The configure command of the -O2 benchmark trees (build/bench-release,
#   build/bench-tsan) of source tree SRC: clang, Release with -O2 -DNDEBUG,
#   benchmarks on, tests off, no engine, VMAFUZZ_SANITIZE=SANITIZE. Use it as
#   bench_build's CONFIGURE-COMMAND.
#
# bench_libfuzzer_plain_configure SRC DIR [CMAKE-ARGS...]
#   The configure command of build/bench-libfuzzer-plain: fuzz_vma_lock with
#   libFuzzer (coverage only), no sanitizer, -O2 -g, tests off. Shared by
#   bench/run_fuzz_bench.sh and bench/peers/run_peer_bench.sh.

#
# bench_export_rev REV DIR
#   Exports git revision REV of this repository (git archive) into DIR,
#   unless DIR already holds that revision; prints REV's full hash.

bench_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

bench_build() {
  local name=$1 dir=$2 target=$3
  shift 3
  local logs=$bench_root/build/logs
  mkdir -p "$logs"
  echo "== $name: build $target ($dir)" >&2
  (
    cd "$bench_root" || exit 1
    if [[ ! -f "$dir/build.ninja" ]]; then
      if [[ $# -eq 0 ]]; then
        echo "bench: $dir is not configured and no configure command was given" >&2
        exit 1
      fi
      "$@" >"$logs/$name-configure.log" 2>&1 \
        || { echo "bench: configure of $name failed, see build/logs/$name-configure.log" >&2; exit 1; }
    fi
    cmake --build "$dir" --target "$target" -j 2 >"$logs/$name-build.log" 2>&1 \
      || { echo "bench: build of $name failed, see build/logs/$name-build.log" >&2; exit 1; }
  )
}

bench_o2_configure() {
  local src=$1 dir=$2 sanitize=$3
  cmake -S "$src" -B "$dir" -G Ninja \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DVMAFUZZ_BUILD_TESTS=OFF -DVMAFUZZ_BUILD_BENCH=ON \
    -DVMAFUZZ_SANITIZE="$sanitize" -DVMAFUZZ_ENGINE=none
}

bench_libfuzzer_plain_configure() {
  local src=$1 dir=$2
  cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g" \
    -DVMAFUZZ_ENGINE=libfuzzer -DVMAFUZZ_SANITIZE= -DVMAFUZZ_BUILD_TESTS=OFF "${@:3}"
}

# Run as a command: bash bench/lib.sh FUNCTION ARGS...
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1-}" in
    bench_build|bench_o2_configure|bench_libfuzzer_plain_configure) "$@" ;;
    *) echo "usage: bash bench/lib.sh bench_build NAME DIR TARGET [CONFIGURE-COMMAND...]" >&2; exit 64 ;;
  esac
fi

bench_export_rev() {
  local rev dir=$2
  rev=$(git -C "$bench_root" rev-parse --verify "$1^{commit}") || { echo "bench: no such revision: $1" >&2; return 1; }
  if [[ "$(cat "$dir/.rev" 2>/dev/null)" != "$rev" ]]; then
    rm -rf "$dir"; mkdir -p "$dir"
    git -C "$bench_root" archive "$rev" | tar -x -C "$dir" && echo "$rev" >"$dir/.rev" || return 1
  fi
  echo "$rev"
}
