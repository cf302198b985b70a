// cmd_run.cpp - `vmafuzz run FILE...`: replay scenarios deterministically.
//
// Each input (binary or .sched; a directory stands for its files in name
// order) runs once on the model under the deterministic scheduler, exactly as
// the fuzz target runs the same bytes (fuzz/fuzz_vma_lock.cpp): same decoder,
// same RunOptions but for the engine's feature map, which no decision reads.
// So the verdict and the finding's signature are those the fuzzer saw.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include "core/inject.h"
#include "core/report.h"
#include "fuzz/execution.h"
#include "fuzz/finding.h"
#include "fuzz/scenario.h"
#include "repro/cli.h"
#include "repro/scenario_io.h"

namespace vmafuzz::repro {
namespace {

namespace fs = std::filesystem;

struct RunArgs {
  std::vector<std::string> inputs;
  InjectArgs inject;  // bug names (--inject, VMAFUZZ_INJECT)
  uint64_t max_steps = fuzz::kDefaultMaxSteps;
  std::string from;  // "", "sched" or "bin"
};

std::string scenario_summary(const fuzz::Scenario& sc) {
  std::string s = fmt::format("{} tasks, {} mm{}, {}", sc.tasks.size(), sc.mms.size(), sc.mms.size() == 1 ? "" : "s",
                              fuzz::strategy_name(sc.strategy));
  if (sc.strategy == fuzz::StrategyKind::kPct) s += fmt::format(" depth {}", sc.pct_depth);
  s += fmt::format(", {} choice byte{}", sc.choices.size(), sc.choices.size() == 1 ? "" : "s");
  return s;
}

// The files an argument stands for: itself, or a directory's regular files
// in name order.
std::vector<std::string> expand(const std::string& arg) {
  std::error_code ec;
  if (!fs::is_directory(arg, ec)) return {arg};
  std::vector<std::string> files;
  for (const fs::directory_entry& e : fs::directory_iterator(arg, ec)) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Runs one input and prints its report; returns its exit code.
int run_one(fuzz::Execution& exec, const fuzz::RunOptions& options, const RunArgs& args, const std::string& path,
            Io& io) {
  const Format format = args.from.empty() ? format_of_path(path) : *format_from_name(args.from);
  auto read = read_input(path, format);
  if (const auto* e = std::get_if<InputError>(&read)) {
    io.err << e->text << "\n";
    return kExitUsage;
  }
  const Input& input = std::get<Input>(read);
  if (format == Format::kBin && looks_like_sched_text(input.bytes)) {
    io.err << fmt::format(
        "{}: warning: this looks like .sched text but is read as binary (the name does not end in .sched); "
        "use --from sched\n",
        path);
  }
  const fuzz::Scenario& sc = input.file.scenario;
  const fuzz::ExecutionResult r = exec.run(sc, options);
  // Operations that began and did not end: the run stopped inside them.
  std::vector<std::vector<bool>> in_flight(sc.tasks.size());
  for (size_t t = 0; t < sc.tasks.size(); ++t) in_flight[t].resize(sc.tasks[t].ops.size());
  for (const fuzz::TraceEvent& e : exec.trace().events()) {
    if (e.kind != fuzz::TraceEventKind::kOpBegin && e.kind != fuzz::TraceEventKind::kOpEnd) continue;
    const auto t = static_cast<size_t>(e.task);
    if (t < in_flight.size() && e.arg < in_flight[t].size()) {
      in_flight[t][e.arg] = e.kind == fuzz::TraceEventKind::kOpBegin;
    }
  }

  std::ostream& out = io.out;
  out << fmt::format("input:    {} ({}, {} bytes)\n", path, format_name(format), input.bytes.size());
  out << fmt::format("scenario: {}\n", scenario_summary(sc));
  if (const std::vector<std::string> injected = args.inject.names(); !injected.empty()) {
    std::string bugs;
    for (const std::string& b : injected) bugs += (bugs.empty() ? "" : " ") + b;
    out << fmt::format("inject:   {}\n", bugs);
  }
  size_t width = 0;
  for (const fuzz::TaskProgram& p : sc.tasks) {
    for (const fuzz::Op& op : p.ops) width = std::max(width, fuzz::op_text(op).size());
  }
  for (size_t t = 0; t < sc.tasks.size(); ++t) {
    const fuzz::TaskProgram& p = sc.tasks[t];
    for (size_t i = 0; i < p.ops.size(); ++i) {
      const fuzz::OpOutcome o = t < r.outcomes.size() && i < r.outcomes[t].size() ? r.outcomes[t][i]
                                                                                   : fuzz::OpOutcome::kNotRun;
      out << fmt::format("  T{}.{}  mm {}  {:<{}}  {}{}\n", t, i, p.mm, fuzz::op_text(p.ops[i]), width,
                         fuzz::op_outcome_name(o), in_flight[t][i] ? " (the run stopped inside it)" : "");
    }
  }
  out << fmt::format("steps:    {}\n", r.steps);
  out << fmt::format("trace:    {:#018x}\n", r.trace_hash);
  out << fmt::format("verdict:  {}\n", fuzz::verdict_name(r.verdict));
  for (const core::CoreReport& rep : r.reports) {
    const core::ReportSiteInfo& info = core::report_site_info(rep.site);
    out << fmt::format("report:   {} ({}): {}\n", info.name, core::report_class_name(info.report_class),
                       info.message);
  }
  for (const fuzz::BlockedTask& b : r.blocked) {
    out << fmt::format("blocked:  T{} in {}, condition {}\n", b.task, b.wait_site,
                       b.condition_holds ? "holds" : "false");
  }
  if (!input.file.expectations.empty()) {
    out << fmt::format(
        "expect:   {} expect line{} in the file, not checked here (tests/fuzz/sched_scenarios_test.cpp checks "
        "tests/sched/)\n",
        input.file.expectations.size(), input.file.expectations.size() == 1 ? "" : "s");
  }
  if (r.verdict == fuzz::Verdict::kPass) return kExitOk;
  if (!r.finding) {
    // execution.h promises a Finding with every verdict but kPass.
    io.err << fmt::format("{}: error: verdict {} without a finding (a harness bug)\n", path,
                          fuzz::verdict_name(r.verdict));
    return kExitFinding;
  }
  out << fuzz::render_finding(*r.finding, replay_command(args.inject.names(), args.max_steps, path, format));
  return kExitFinding;
}

int run(const RunArgs& args, Io& io) {
  fuzz::RunOptions options;
  options.max_steps = args.max_steps;
  options.keep_trace = true;  // to tell operations in flight from those never started
  options.inject = args.inject.bugs();

  fuzz::Execution exec;
  size_t total = 0;
  size_t passed = 0;
  size_t findings = 0;
  size_t errors = 0;
  for (const std::string& arg : args.inputs) {
    const std::vector<std::string> files = expand(arg);
    if (files.empty()) {
      io.err << fmt::format("{}: error: directory holds no files\n", arg);
      ++errors;
      continue;
    }
    for (const std::string& path : files) {
      if (total > 0) io.out << "\n";
      ++total;
      switch (run_one(exec, options, args, path, io)) {
        case kExitOk: ++passed; break;
        case kExitFinding: ++findings; break;
        default: ++errors; break;
      }
    }
  }
  if (total > 1) {
    io.out << fmt::format("\n{} input{}: {} passed, {} with a finding, {} error{}\n", total,
                          total == 1 ? "" : "s", passed, findings, errors, errors == 1 ? "" : "s");
  }
  if (errors > 0) return kExitUsage;
  return findings > 0 ? kExitFinding : kExitOk;
}

}  // namespace

CommandAction setup_run(CLI::App& cmd) {
  auto args = std::make_shared<RunArgs>();
  cmd.add_option("FILE", args->inputs, "scenario files (.sched text or binary); a directory: its files, in name order")
      ->required()
      ->type_name("");
  add_flag(cmd, Flag::kInject, &args->inject);
  add_flag(cmd, Flag::kMaxSteps, &args->max_steps);
  add_flag(cmd, Flag::kFrom, &args->from)->check(CLI::IsMember({"sched", "bin"}));
  cmd.footer(
      "Runs each input once on the model under the deterministic scheduler, as\n"
      "the fuzz target runs the same bytes, and prints the scenario, each\n"
      "operation's outcome (T<task>.<op>, as in .sched expect lines), the step\n"
      "count, the trace hash and the verdict; for a finding also the core\n"
      "reports, the blocked tasks and the finding's report with its signature and\n"
      "the command that replays it. The expect lines of a .sched file are\n"
      "counted, not checked. With several inputs a summary line ends the output;\n"
      "an unreadable or malformed input is reported and the others still run,\n"
      "and then the exit code is 2 even if some input had a finding.");
  return [args](Io& io) { return run(*args, io); };
}

}  // namespace vmafuzz::repro
