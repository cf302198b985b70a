// fuzz_vma_lock.cpp - the fuzz target: decode the input into a Scenario, run
// it on the model under the deterministic scheduler, and judge it.
//
// A finding prints one report (fuzz/finding.h: oracle, signature, DEDUP_TOKEN
// line) and aborts, so libFuzzer, AFL++ and the replay driver all see a crash.
// Environment (read once, at start-up):
//   VMAFUZZ_INJECT=name[,name...]  inject catalogued bugs (core/bug_catalog.inc)
//   VMAFUZZ_FEATURES=0             do not export interleaving features
//   VMAFUZZ_SCHEDULE_MUTATOR=0     libFuzzer's byte mutations only (for A/B
//                                  benchmarks of the custom mutator below)
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/execution.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/target_support.h"

namespace {

using namespace vmafuzz::fuzz;

// The one Execution of this process: its fiber pool serves every input.
// (libFuzzer calls the entry point from one thread.)
Execution* g_execution = nullptr;
RunOptions g_options;
std::string g_replay;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  g_execution = new Execution();
  g_options = options_from_environment("fuzz_vma_lock");
  // `vmafuzz run` replays a crash file deterministically and explains it; it
  // reads VMAFUZZ_INJECT too, so the line carries the injection.
  const char* inject = std::getenv("VMAFUZZ_INJECT");
  g_replay = (inject && *inject ? "VMAFUZZ_INJECT=" + std::string(inject) + " " : std::string()) +
             "vmafuzz run <the crash file>";
  begin_engine_work();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!g_execution) LLVMFuzzerInitialize(nullptr, nullptr);
  end_engine_work();
  static Scenario scenario;       // their storage serves every input
  static ExecutionResult result;
  decode_scenario_into(data, size, scenario);
  g_execution->run_into(scenario, g_options, result);
  if (result.verdict != Verdict::kPass) report_and_abort(*result.finding, g_replay);
  begin_engine_work();
  return 0;
}

// The schedule-aware mutator (fuzz/target_support.h).
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  return mutate_scenario_bytes(data, size, max_size, seed);
}
