// target_support.h - what every fuzz target shares: options from the
// environment, the engine's feature map, and report-then-abort.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/execution.h"
#include "fuzz/finding.h"

namespace vmafuzz::fuzz {

// RunOptions for a target: bugs from VMAFUZZ_INJECT (an unknown name is a
// usage error: message and exit 2), and interleaving features into the
// engine's map unless VMAFUZZ_FEATURES=0. `target` names the caller in messages.
RunOptions options_from_environment(std::string_view target);

// The engine's feature map as a FeatureSink: libFuzzer's extra counters, or
// AFL++'s shared map when built with afl-clang-fast. Null if neither exists.
FeatureSink* engine_feature_sink();

// The custom mutator of the scenario targets (fuzz_vma_lock, fuzz_nfc): a
// quarter of the mutations are libFuzzer's (program bytes, dictionary,
// crossover of byte ranges), three quarters shift or reshape the
// interleaving knowing what its bytes mean (fuzz/schedule_mutator.h); all of
// them libFuzzer's with VMAFUZZ_SCHEDULE_MUTATOR=0 (read once). `seed` is
// libFuzzer's, so -seed=N runs stay reproducible.
size_t mutate_scenario_bytes(uint8_t* data, size_t size, size_t max_size, unsigned int seed);

// TSan builds (no-ops otherwise): libFuzzer's own work, from the end of
// LLVMFuzzerInitialize to the first input and from each input's return to
// the next one, with the main thread's accesses ignored. Its set-up
// constructs the corpus's per-feature tables (16 MiB, set through TSan's
// memset interceptor, which writes their shadow), and it clears its counter
// and value-profile maps before every input the same way: about a tenth of
// a 20,000-run campaign's CPU time under TSan (docs/BENCHMARKS.md, "TSan
// against plain, round 8"). No model code runs there and no fiber exists
// outside an input. end_engine_work() at an input's start, or exit (a
// merge's parent runs no input), ends it: TSan kills a thread that ends
// while ignoring.
void begin_engine_work();
void end_engine_work();

// Print the finding's report to stderr, then abort() through a function of
// the finding's oracle (oracle_fired::kDetachCountNotZero...), so that crash
// stacks differ per oracle.
[[noreturn]] void report_and_abort(const Finding& finding, std::string_view replay);

}  // namespace vmafuzz::fuzz
