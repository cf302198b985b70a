// trace_record.h - record a scenario's programs run on real threads.
//
// `vmafuzz record` (repro/cmd_record.cpp) draws random legal scenarios (as
// `vmafuzz hunt` does: random bytes through the fuzzer's decoder), runs each
// one's tasks on OS threads on the native platform (core/native_platform.h)
// with the same operations (fuzz/ops.h: the core/callers.h shapes the
// scheduler runs), and records every scheduling point with a global logical
// clock: the order in which the threads really reached their shared
// accesses. The result is a fuzz::RecordedTrace (fuzz/recorded_trace.h,
// docs/FORMATS.md section 5), which `vmafuzz import-trace` turns into a
// switch-list scenario replaying that order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/recorded_trace.h"
#include "fuzz/scenario.h"

namespace vmafuzz::repro {

struct RecordOptions {
  // At a scheduling point, yield the thread with probability 1/jitter (0:
  // never): more interleavings from runs this short.
  int jitter = 8;
  uint64_t seed = 1;  // the jitter's PRNG seed (per thread: seed + task)
};

struct Recording {
  fuzz::RecordedTrace trace;
  std::vector<std::string> reports;  // core reports (none on the correct model)
};

// Run `setup`'s tasks on real threads, all released at once, and record.
// Context: no Kernel running on this thread.
Recording record_run(const fuzz::Scenario& setup, const RecordOptions& options = {});

// A random legal scenario (hunt's draw: program bytes through the decoder).
fuzz::Scenario random_setup(uint64_t seed);

}  // namespace vmafuzz::repro
