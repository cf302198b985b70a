#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build contract: build every fuzz target
# (fuzz/fuzz_*.cpp) with the environment's compiler, flags and engine, and put
# each in $OUT with its seed corpus, dictionary and options:
#   $OUT/NAME                  the fuzz target (instrumentation from $CXXFLAGS,
#                              engine linked from $LIB_FUZZING_ENGINE)
#   $OUT/NAME_seed_corpus.zip  corpus/NAME/*
#   $OUT/NAME.dict             corpus/NAME.dict
#   $OUT/NAME.options          .clusterfuzzlite/NAME.options
# Inputs: CC CXX CFLAGS CXXFLAGS LIB_FUZZING_ENGINE OUT (required), WORK (build
# tree; default a temporary directory), SRC (the checkout is $SRC/vmafuzz unless
# this script sits in the checkout's .clusterfuzzlite/).
# Locally, e.g.:
#   CC=clang CXX=clang++ CFLAGS="-O1 -fsanitize=address,fuzzer-no-link" \
#   CXXFLAGS="-O1 -fsanitize=address,fuzzer-no-link" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
#   OUT=/tmp/out .clusterfuzzlite/build.sh

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -f "$here/../CMakeLists.txt" && -d "$here/../fuzz" ]]; then
  src=$(cd "$here/.." && pwd)
else
  src=${SRC:?SRC is not set}/vmafuzz
fi
: "${CC:?}" "${CXX:?}" "${CFLAGS?}" "${CXXFLAGS?}" "${LIB_FUZZING_ENGINE:?}" "${OUT:?}"
work=${WORK:-$(mktemp -d)}
build=$work/vmafuzz-build
mkdir -p "$OUT"

targets=()
for f in "$src"/fuzz/fuzz_*.cpp; do
  name=$(basename "$f" .cpp)
  targets+=("$name")
done
[[ ${#targets[@]} -gt 0 ]] || { echo "build.sh: no fuzz/fuzz_*.cpp in $src" >&2; exit 1; }

# No build type: the flags are exactly $CFLAGS/$CXXFLAGS, and asserts stay on.
# VMAFUZZ_ENGINE=external: fuzz/CMakeLists.txt links each target with
# $LIB_FUZZING_ENGINE. Boost.Context statically: the runner image has no Boost.
cmake -S "$src" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DCMAKE_BUILD_TYPE= \
  -DVMAFUZZ_ENGINE=external -DVMAFUZZ_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
  -DVMAFUZZ_SANITIZE= -DVMAFUZZ_BUILD_TESTS=OFF -DVMAFUZZ_BUILD_BENCH=OFF \
  -DBoost_USE_STATIC_LIBS=ON
cmake --build "$build" --parallel "$(nproc)" --target "${targets[@]}"

for name in "${targets[@]}"; do
  cp "$build/fuzz/$name" "$OUT/$name"
  if [[ -d "$src/corpus/$name" ]]; then
    rm -f "$OUT/${name}_seed_corpus.zip"
    (cd "$src/corpus/$name" && zip -q -X -j "$OUT/${name}_seed_corpus.zip" ./*)
  fi
  [[ -f "$src/corpus/$name.dict" ]] && cp "$src/corpus/$name.dict" "$OUT/$name.dict"
  [[ -f "$src/.clusterfuzzlite/$name.options" ]] && cp "$src/.clusterfuzzlite/$name.options" "$OUT/$name.options"
  echo "build.sh: $OUT/$name"
done
