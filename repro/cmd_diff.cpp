// cmd_diff.cpp - `vmafuzz diff FILE --versions A,B`: one input, the same
// schedule, two versions of the exclusive-lock code (core/lock_versions.inc),
// compared as fuzz_nfc compares them (fuzz/nfc.h); prints the first divergence
// with both runs side by side.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "core/lock_version.h"
#include "fuzz/execution.h"
#include "fuzz/nfc.h"
#include "repro/cli.h"
#include "repro/scenario_io.h"
#include "repro/sidecar.h"

namespace vmafuzz::repro {
namespace {

struct DiffArgs {
  std::string input;
  std::string versions = "pre_series,post_series";
  InjectArgs inject;
  uint64_t max_steps = fuzz::kDefaultMaxSteps;
  const CLI::Option* max_steps_option = nullptr;
  std::string from;
};

int diff(const DiffArgs& args, Io& io) {
  std::string error;
  const auto versions = fuzz::parse_version_pair(args.versions, &error);
  if (!versions) {
    io.err << fmt::format("--versions: {}\n", printable(error));
    return kExitUsage;
  }
  const std::optional<ReplayInput> in =
      read_replay_input(args.input, args.from, args.inject, args.max_steps_option, args.max_steps, io);
  if (!in) return kExitUsage;
  const Input& input = in->input;
  const Format format = in->format;
  const ReplaySettings* settings = &in->settings;
  fuzz::RunOptions options;
  options.max_steps = settings->max_steps;
  options.inject = settings->bugs;
  fuzz::Execution exec;
  const fuzz::NfcComparison c =
      fuzz::compare_versions(exec, input.file.scenario, versions->first, versions->second, options);

  std::ostream& out = io.out;
  out << fmt::format("input:    {} ({}, {} bytes)\n", printable(args.input), format_name(format), input.bytes.size());
  out << inject_line(*settings);
  out << fmt::format("versions: {} / {}\n", core::lock_version_info(versions->first).name,
                     core::lock_version_info(versions->second).name);
  out << fmt::format("events:   {} / {} compared\n", c.a.events.size(), c.b.events.size());
  out << fuzz::render_side_by_side(c);
  if (!c.divergence) {
    out << "result:   same (no divergence)\n";
    return kExitOk;
  }
  out << fmt::format("result:   diverged: {}\n", c.divergence->detail);
  out << fmt::format("SIGNATURE: {}\n", c.divergence->signature());
  return kExitFinding;
}

}  // namespace

CommandAction setup_diff(CLI::App& cmd) {
  auto args = std::make_shared<DiffArgs>();
  cmd.add_option("FILE", args->input, "the scenario (.sched text or binary)")->required()->type_name("");
  cmd.add_option("--versions", args->versions,
                 "the two versions of the lock code to compare, A,B (core/lock_versions.inc; default "
                 "pre_series,post_series)")
      ->type_name("A,B");
  add_flag(cmd, Flag::kInject, &args->inject);
  args->max_steps_option = add_flag(cmd, Flag::kMaxSteps, &args->max_steps);
  add_flag(cmd, Flag::kFrom, &args->from)->check(CLI::IsMember({"sched", "bin"}));
  std::string known;
  for (int v = 0; v < static_cast<int>(core::LockVersion::kCount); ++v) {
    const core::LockVersionInfo& info = core::lock_version_info(static_cast<core::LockVersion>(v));
    known += fmt::format("  {:<22} {}\n", info.name, info.summary);
  }
  cmd.footer(
      "Runs the input on version A and on version B under the same schedule (an\n"
      "access only one version makes is no scheduling point: docs/SCHEDULER.md,\n"
      "\"Two versions, one schedule\") and compares the shared accesses with their\n"
      "values, sleeps, wake-ups and operation outcomes, then the verdict, then the\n"
      "final state. Prints both runs side by side around the first divergence.\n"
      "Allowed differences are declared in fuzz/nfc_allowlist.inc. Versions:\n" +
      known +
      "\n"
      "Example:\n"
      "  vmafuzz diff corpus/fuzz_vma_lock/S2c_transient_reader_vs_detach_put_during_wait.bin \\\n"
      "      --versions post_series,test_wake_write_only");
  return [args](Io& io) { return diff(*args, io); };
}

}  // namespace vmafuzz::repro
