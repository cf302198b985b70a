// fuzz_ftrace.cpp - fuzz target: the mmap_lock ftrace importer (ftrace_import.h).
//
// Any text: parse_ftrace() and build_ftrace_windows() never crash; every
// warning names the input and a line; every window is a legal scenario whose
// imported schedule passes on the correct model (else abort: a bug).
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz/execution.h"
#include "fuzz/ftrace_import.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/trace_replay.h"

using namespace vmafuzz::fuzz;

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Execution* exec = new Execution();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const FtraceParse parse = parse_ftrace(text, "input");
  for (const std::string& w : parse.warnings) {
    if (!w.starts_with("input:")) {
      std::fprintf(stderr, "fuzz_ftrace: a warning without file and line: %s\n", w.c_str());
      std::abort();
    }
  }
  const FtraceImport imp = build_ftrace_windows(parse);
  size_t runs = 0;
  for (const FtraceWindow& w : imp.windows) {
    if (++runs > 2) break;  // bounded work per input
    const char* why = "";
    if (!is_canonical_scenario(w.setup, &why)) {
      std::fprintf(stderr, "fuzz_ftrace: a window is not a legal scenario: %s\n", why);
      std::abort();
    }
    if (!import_schedule(w.setup, w.marks, *exec).passes) {
      std::fprintf(stderr, "fuzz_ftrace: an imported window does not pass on the correct model\n");
      std::abort();
    }
  }
  return 0;
}
