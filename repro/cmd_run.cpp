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
#include "repro/run_report.h"
#include "fuzz/sched_check.h"
#include "repro/scenario_io.h"
#include "repro/sidecar.h"

namespace vmafuzz::repro {
namespace {

namespace fs = std::filesystem;

struct RunArgs {
  std::vector<std::string> inputs;
  InjectArgs inject;  // bug names (--inject, VMAFUZZ_INJECT); else the input's sidecar
  uint64_t max_steps = fuzz::kDefaultMaxSteps;
  const CLI::Option* max_steps_option = nullptr;  // given? (else the sidecar's)
  std::string from;  // "", "sched" or "bin"
  bool check = false;  // --check: check a .sched file's expect lines
  std::string memory_model;  // "" : the input's
};

std::string scenario_summary(const fuzz::Scenario& sc) {
  std::string s = fmt::format("{} tasks, {} mm{}, {}", sc.tasks.size(), sc.mms.size(), sc.mms.size() == 1 ? "" : "s",
                              fuzz::strategy_name(sc.strategy));
  if (sc.strategy == fuzz::StrategyKind::kPct) s += fmt::format(" depth {}", sc.pct_depth);
  s += fmt::format(", {} choice byte{}", sc.choices.size(), sc.choices.size() == 1 ? "" : "s");
  if (sc.memory_model == fuzz::MemoryModel::kC11) {
    s += fmt::format(", memory model c11 ({} reads-from choice{})", sc.reads.size(), sc.reads.size() == 1 ? "" : "s");
  }
  return s;
}

// The files an argument stands for: itself, or a directory's regular files
// in name order, without the sidecars of files beside them (FILE.json).
std::vector<std::string> expand(const std::string& arg) {
  std::error_code ec;
  if (!fs::is_directory(arg, ec)) return {arg};
  std::vector<std::string> files;
  for (const fs::directory_entry& e : fs::directory_iterator(arg, ec)) {
    if (e.is_regular_file() && !is_sidecar_of_existing_file(e.path().string())) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// --check: the expect lines of `input` against their runs (fuzz/sched_check.h),
// each mismatch as FILE:LINE: expect ...: got ... on io.err. Returns whether
// all hold; nullopt when the file has none (the exit code is then the
// verdict's).
std::optional<bool> check_expect_lines(const Input& input, uint64_t max_steps, Io& io) {
  const std::vector<fuzz::Expectation>& expectations = input.file.expectations;
  if (expectations.empty()) {
    io.err << fmt::format("{}: note: --check: no expect lines in this {} to check; its verdict decides\n",
                          printable(input.path), input.format == Format::kSched ? "file" : "binary input");
    return std::nullopt;
  }
  fuzz::CheckOptions options;
  options.max_steps = max_steps;
  const fuzz::CheckResult result = fuzz::check_expectations(input.file, options);
  for (const fuzz::ExpectMismatch& m : result.mismatches) io.err << m.to_string(printable(input.path)) << "\n";
  const size_t bad = result.mismatches.size();
  io.out << fmt::format("expect:   {} expect line{} checked: {}\n", result.checked, result.checked == 1 ? "" : "s",
                        bad == 0 ? std::string("all hold") : fmt::format("{} do{} not hold", bad, bad == 1 ? "es" : ""));
  return bad == 0;
}

// Runs one input and prints its report; returns its exit code.
int run_one(fuzz::Execution& exec, const RunArgs& args, const std::string& path, Io& io) {
  const Format format = input_format(path, args.from);
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
        printable(path));
  }
  // The model: --inject / VMAFUZZ_INJECT, else the input's sidecar (FILE.json).
  const std::optional<ReplaySettings> settings =
      args.max_steps_option ? replay_settings(args.inject, args.max_steps_option, args.max_steps, path, io)
                            : replay_settings(args.inject, std::optional<uint64_t>(args.max_steps), path, io);
  if (!settings) return kExitUsage;
  fuzz::RunOptions options;
  options.max_steps = settings->max_steps;
  options.keep_trace = true;  // to tell operations in flight from those never started
  options.inject = settings->bugs;
  fuzz::MemoryModel model{};
  if (fuzz::memory_model_from_name(args.memory_model, &model)) options.memory_model = model;
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
  out << fmt::format("input:    {} ({}, {} bytes)\n", printable(path), format_name(format), input.bytes.size());
  out << fmt::format("scenario: {}\n", scenario_summary(sc));
  out << inject_line(*settings);
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
  if (const std::string note = sidecar_note(*settings, r.verdict == fuzz::Verdict::kPass); !note.empty()) {
    out << fmt::format("note:     {}\n", printable(note, 1000));
  }
  std::optional<bool> expect_held;
  if (args.check) {
    expect_held = check_expect_lines(input, settings->max_steps, io);
  } else if (!input.file.expectations.empty()) {
    out << fmt::format("expect:   {} expect line{} in the file, not checked (--check checks them)\n",
                       input.file.expectations.size(), input.file.expectations.size() == 1 ? "" : "s");
  }
  // With --check, a file's expect lines decide (they may expect a finding).
  const auto exit_code = [&expect_held](int by_verdict) {
    if (!expect_held) return by_verdict;
    return *expect_held ? static_cast<int>(kExitOk) : static_cast<int>(kExitFinding);
  };
  if (r.verdict == fuzz::Verdict::kPass) return exit_code(kExitOk);
  if (!r.finding) {
    // execution.h promises a Finding with every verdict but kPass.
    io.err << fmt::format("{}: error: verdict {} without a finding (a harness bug)\n", path,
                          fuzz::verdict_name(r.verdict));
    return kExitFinding;
  }
  out << fuzz::render_finding(*r.finding, replay_command(settings->inject, settings->max_steps, path, format));
  return exit_code(kExitFinding);
}

int run(const RunArgs& args, Io& io) {
  fuzz::Execution exec;
  size_t total = 0;
  size_t passed = 0;
  size_t findings = 0;
  size_t errors = 0;
  for (const std::string& arg : args.inputs) {
    const std::vector<std::string> files = expand(arg);
    if (files.empty()) {
      io.err << fmt::format("{}: error: directory holds no files\n", printable(arg));
      ++errors;
      continue;
    }
    for (const std::string& path : files) {
      if (total > 0) io.out << "\n";
      ++total;
      switch (run_one(exec, args, path, io)) {
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

int run_and_report(const InjectArgs& inject, uint64_t max_steps, const std::string& path, Io& io) {
  RunArgs args;
  args.inject = inject;
  args.max_steps = max_steps;
  fuzz::Execution exec;
  return run_one(exec, args, path, io);
}

CommandAction setup_run(CLI::App& cmd) {
  auto args = std::make_shared<RunArgs>();
  cmd.add_option("FILE", args->inputs, "scenario files (.sched text or binary); a directory: its files, in name order")
      ->required()
      ->type_name("");
  add_flag(cmd, Flag::kInject, &args->inject);
  args->max_steps_option = add_flag(cmd, Flag::kMaxSteps, &args->max_steps);
  add_flag(cmd, Flag::kFrom, &args->from)->check(CLI::IsMember({"sched", "bin"}));
  add_flag(cmd, Flag::kMemoryModel, &args->memory_model)->check(CLI::IsMember({"sc", "c11"}));
  cmd.add_flag("--check", args->check,
               "check a .sched file's expect lines (each on its own run: plain lines on the correct model, "
               "`expect with BUG` lines with BUG); a mismatch prints FILE:LINE: expect ...: got ... and exits 1");
  cmd.footer(
      "Runs each input once on the model under the deterministic scheduler, as\n"
      "the fuzz target runs the same bytes, and prints the scenario, each\n"
      "operation's outcome (T<task>.<op>, as in .sched expect lines), the step\n"
      "count, the trace hash and the verdict; for a finding also the core\n"
      "reports, the blocked tasks and the finding's report with its signature and\n"
      "the command that replays it. The expect lines of a .sched file are\n"
      "counted, or with --check checked: then a file with expect lines exits by\n"
      "them (0 all hold, 1 some do not), one without (a binary input) by its\n"
      "verdict, with a note. Without --inject or VMAFUZZ_INJECT, an input with\n"
      "a sidecar FILE.json (written by scripts/fuzz and hunt beside a finding)\n"
      "runs with the sidecar's bugs and step bound, saying so; `--inject ''` or\n"
      "VMAFUZZ_INJECT= runs the correct model, and a note says when the input\n"
      "passes on it but was found with a bug. With several inputs a summary\n"
      "line ends the output; an unreadable or malformed input (or sidecar) is\n"
      "reported and the others still run, and then the exit code is 2 even if\n"
      "some input had a finding.");
  return [args](Io& io) { return run(*args, io); };
}

}  // namespace vmafuzz::repro
