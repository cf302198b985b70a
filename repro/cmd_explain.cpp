// cmd_explain.cpp - `vmafuzz explain FILE [--html OUT.html] [--all]`: the
// interleaving of one run, step by step (repro/explain.h builds it).
//
// The input runs exactly as `vmafuzz run` runs it (same reader, same
// RunOptions, keep_trace on), so the verdict, steps and trace hash agree.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <variant>

#include "core/lock_version.h"
#include "fuzz/execution.h"
#include "repro/cli.h"
#include "repro/explain.h"
#include "repro/scenario_io.h"
#include "repro/sidecar.h"

namespace vmafuzz::repro {
namespace {

namespace fs = std::filesystem;

struct ExplainArgs {
  std::string input;
  std::string html;  // "" none
  bool all = false;
  InjectArgs inject;
  uint64_t max_steps = fuzz::kDefaultMaxSteps;
  const CLI::Option* max_steps_option = nullptr;  // given? (else the sidecar's)
  std::string from;
  std::string memory_model;  // "" : the input's
  std::string lock_version;  // "" the default; else as `vmafuzz diff` runs it
};

int explain(const ExplainArgs& args, Io& io) {
  const Format format = input_format(args.input, args.from);
  auto read = read_input(args.input, format);
  if (const auto* e = std::get_if<InputError>(&read)) {
    io.err << e->text << "\n";
    return kExitUsage;
  }
  const Input& input = std::get<Input>(read);
  if (!args.html.empty()) {
    std::error_code ec;
    if (args.html == "-" || fs::equivalent(args.html, args.input, ec)) {
      io.err << fmt::format("{}: error: --html must name a new output file, not {}\n", args.html,
                            args.html == "-" ? "standard output" : "the input");
      return kExitUsage;
    }
  }
  // The bugs and step bound: the command line's, else the input's sidecar
  // (FILE.json, docs/FORMATS.md section 4), as `vmafuzz run` takes them.
  const std::optional<ReplaySettings> settings =
      replay_settings(args.inject, args.max_steps_option, args.max_steps, args.input, io);
  if (!settings) return kExitUsage;
  fuzz::RunOptions options;
  options.max_steps = settings->max_steps;
  options.keep_trace = true;
  options.inject = settings->bugs;
  fuzz::MemoryModel model{};
  if (fuzz::memory_model_from_name(args.memory_model, &model)) options.memory_model = model;
  if (!args.lock_version.empty()) {
    const std::optional<core::LockVersion> v = core::lock_version_from_name(args.lock_version);
    if (!v) {
      io.err << fmt::format("--lock-version: unknown version '{}' (`vmafuzz diff --help` lists them)\n",
                            printable(args.lock_version));
      return kExitUsage;
    }
    // One side of `vmafuzz diff`, step for step (docs/SCHEDULER.md, "Two versions, one schedule").
    options.lock_version = *v;
    options.align_versions = true;
  }
  fuzz::Execution exec;
  const fuzz::ExecutionResult r = exec.run(input.file.scenario, options);
  const Timeline t = build_timeline(input.file.scenario, r, exec.trace(), ExplainOptions{args.all});

  std::ostream& out = io.out;
  out << fmt::format("input:    {} ({}, {} bytes)\n", printable(args.input), format_name(format), input.bytes.size());
  out << inject_line(*settings);
  if (const std::string note = sidecar_note(*settings, r.verdict == fuzz::Verdict::kPass); !note.empty()) {
    out << fmt::format("note:     {}\n", printable(note, 1000));
  }
  if (args.html.empty()) {
    out << render_text(t);
  } else {
    if (auto e = write_output(args.html, render_html(t, args.input), out)) {
      io.err << e->text << "\n";
      return kExitUsage;
    }
    out << summary(t);
    out << fmt::format("html:     {} ({} rows, {} tasks)\n", args.html, t.rows.size(), t.tasks.size());
  }
  return r.verdict == fuzz::Verdict::kPass ? kExitOk : kExitFinding;
}

}  // namespace

CommandAction setup_explain(CLI::App& cmd) {
  auto args = std::make_shared<ExplainArgs>();
  cmd.add_option("FILE", args->input, "the scenario (.sched text or binary)")->required()->type_name("");
  cmd.add_option("--html", args->html, "write the timeline as one self-contained HTML page to OUT (not the input)")
      ->type_name("OUT");
  cmd.add_flag("--all", args->all, "show every step (no folding of steps where nothing of interest happens)");
  add_flag(cmd, Flag::kInject, &args->inject);
  args->max_steps_option = add_flag(cmd, Flag::kMaxSteps, &args->max_steps);
  add_flag(cmd, Flag::kFrom, &args->from)->check(CLI::IsMember({"sched", "bin"}));
  add_flag(cmd, Flag::kMemoryModel, &args->memory_model)->check(CLI::IsMember({"sc", "c11"}));
  cmd.add_option("--lock-version", args->lock_version,
                 "run this version of the lock code (core/lock_versions.inc) under the schedule `vmafuzz diff` "
                 "gives it, to follow one side of a divergence step by step")
      ->type_name("NAME");
  cmd.footer(
      "Runs the input once, as `vmafuzz run` does, and prints its interleaving:\n"
      "one row per step, one lane column per task ('*' acts, '>' is pointed at,\n"
      "'|' can run, ':' sleeps, '!' the finding): operations, the model function\n"
      "(kernel names), each shared word with its value before and after,\n"
      "preemptions, sleeps, who woke whom, spurious wake-ups and SIGKILLs, where a\n"
      "task reads another's write; then the finding, its invariant\n"
      "(docs/MODEL.md) and the blocked tasks with their wait sites. Runs of\n"
      "accesses that change nothing and read nothing new are folded into one\n"
      "row; --all shows them. docs/EXPLAIN.md describes the rows.\n"
      "\n"
      "Example:\n"
      "  vmafuzz explain --inject detach_no_wait tests/sched/B09_detach_no_wait.sched\n"
      "  vmafuzz explain --inject detach_no_wait tests/sched/B09_detach_no_wait.sched --html b09.html");
  return [args](Io& io) { return explain(*args, io); };
}

}  // namespace vmafuzz::repro
