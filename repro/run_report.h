// run_report.h - `vmafuzz run`'s report of one input, for the commands that
// end by showing a finding as run shows it (explore).
#pragma once

#include <cstdint>
#include <string>

#include "core/inject_option.h"
#include "repro/cli.h"

namespace vmafuzz::repro {

// Runs the input at `path` as `vmafuzz run PATH --max-steps MAX_STEPS` with
// `inject` (its sidecar's bugs when none is given) and prints run's report to
// io; returns run's exit code.
int run_and_report(const InjectArgs& inject, uint64_t max_steps, const std::string& path, Io& io);

}  // namespace vmafuzz::repro
