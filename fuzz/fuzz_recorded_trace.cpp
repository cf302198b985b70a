// fuzz_recorded_trace.cpp - fuzz target: the recorded-trace parser
// (recorded_trace.h) and the importer's guide (trace_replay.h).
//
// Any text: parse_recorded_trace() returns a trace or a positioned error,
// never crashes. A parsed trace prints and parses back to itself, and its
// import decodes and passes on the correct model (else abort: a bug).
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "fuzz/execution.h"
#include "fuzz/recorded_trace.h"
#include "fuzz/trace_replay.h"

using namespace vmafuzz::fuzz;

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Execution* exec = new Execution();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_recorded_trace(text, "input");
  if (std::holds_alternative<SchedError>(parsed)) return 0;
  const RecordedTrace& tr = std::get<RecordedTrace>(parsed);
  auto again = parse_recorded_trace(print_recorded_trace(tr), "printed");
  if (!std::holds_alternative<RecordedTrace>(again) || !(std::get<RecordedTrace>(again) == tr)) {
    std::fprintf(stderr, "fuzz_recorded_trace: a parsed trace does not print and parse back to itself\n");
    std::abort();
  }
  if (tr.events.size() > 4096) return 0;  // bounded work per input
  const ImportedSchedule imp = import_schedule(tr.setup, recorded_marks(tr), *exec);
  if (!imp.passes) {
    std::fprintf(stderr, "fuzz_recorded_trace: an imported scenario does not pass on the correct model\n");
    std::abort();
  }
  return 0;
}
