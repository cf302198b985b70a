// sched_check.h - checking the `expect` lines of a .sched file against runs of
// its scenario (docs/FORMATS.md, section 2, "Expectations").
//
// The one checker: tests/fuzz/sched_scenarios_test.cpp (every tests/sched and
// tests/sched/regressions file) and `vmafuzz run --check` both call it, so
// the two can never disagree. The scenario runs once on the correct model
// for the plain lines and once per distinct `expect with BUG` bug, with that
// bug injected; each line is compared with what its run did.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/inject.h"
#include "fuzz/execution.h"
#include "fuzz/sched_text.h"

namespace vmafuzz::fuzz {

// One expect line that does not hold.
struct ExpectMismatch {
  int line = 0;          // the expect line's line in its file (1-based)
  std::string expected;  // the line, canonical ("expect with B verdict oracle")
  std::string got;       // what the run gave, the same kind of fact ("verdict pass", "no report")
  std::string run;       // the run in one line: verdict, reports, blocked tasks

  // "FILE:LINE: expect ...: got ... (run: ...)"
  std::string to_string(const std::string& file) const;
};

struct CheckOptions {
  uint64_t max_steps = kDefaultMaxSteps;
  // Runs with this bug injected are not made (their lines are neither checked
  // nor reported as mismatches); the bug's name goes to CheckResult::not_run.
  // sched_scenarios_test uses it under ThreadSanitizer for the runs that race
  // by design.
  std::function<bool(core::Bug)> skip;
};

struct CheckResult {
  size_t checked = 0;                     // expect lines compared with a run
  std::vector<ExpectMismatch> mismatches; // in the order of the file's lines, per run
  std::vector<std::string> not_run;       // bugs whose run was skipped
};

CheckResult check_expectations(const SchedFile& file, const CheckOptions& options = {});

}  // namespace vmafuzz::fuzz
