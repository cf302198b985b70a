// harness_bug.cpp - harness_bug() (report.h), alone in its file: code that
// uses nothing else of the core (the AFL++ mutator library, fuzz/CMakeLists.txt)
// links it without the Kernel.
#include <cstdio>
#include <cstdlib>

#include "core/report.h"

namespace vmafuzz::core {

void harness_bug(std::string_view what) {
  std::fprintf(stderr, "harness bug: %.*s\n", static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace vmafuzz::core
