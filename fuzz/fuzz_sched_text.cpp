// fuzz_sched_text.cpp - fuzz target: the .sched text parser (sched_text.h).
//
// Any text: parse_sched() returns a file or a positioned error, never
// crashes; a parsed file prints canonically and parses back to itself
// (docs/FORMATS.md, section 3), else abort.
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "fuzz/sched_text.h"

using namespace vmafuzz::fuzz;

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_sched(text, "input");
  if (std::holds_alternative<SchedError>(parsed)) return 0;
  const SchedFile& f = std::get<SchedFile>(parsed);
  const std::string printed = print_sched(f);
  auto again = parse_sched(printed, "printed");
  if (!std::holds_alternative<SchedFile>(again) || !(std::get<SchedFile>(again) == f) ||
      print_sched(std::get<SchedFile>(again)) != printed) {
    std::fprintf(stderr, "fuzz_sched_text: a parsed file does not print and parse back to itself\n");
    std::abort();
  }
  return 0;
}
