// cmd_to_test.cpp - `vmafuzz to-test FILE --name NAME`: keep a finding as a
// regression scenario, tests/sched/regressions/NAME.sched.
//
// The file is canonical .sched text (docs/FORMATS.md) with a header comment
// that explains the finding (oracle, detail, invariant, where, the
// operations, how it was found), and expect lines that pin it down: the
// finding's verdict and signature under the bug that produced it (`expect
// with BUG ...`) and `expect verdict pass` on the correct model. A finding the
// correct model does not pass is not the regression of a bug and is refused.
// The bug comes from --inject / VMAFUZZ_INJECT, else the input's sidecar
// (repro/sidecar.h). ctest runs every file of tests/sched/regressions/
// (sched_scenarios_test, and `vmafuzz run --check` over them).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "fuzz/execution.h"
#include "fuzz/finding.h"
#include "fuzz/scenario.h"
#include "fuzz/sched_check.h"
#include "fuzz/sched_text.h"
#include "repro/cli.h"
#include "repro/minimize.h"
#include "repro/scenario_io.h"
#include "repro/sidecar.h"

namespace vmafuzz::repro {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDefaultDir = "tests/sched/regressions";

struct ToTestArgs {
  std::string input;
  std::string name;
  InjectArgs inject;
  uint64_t max_steps = fuzz::kDefaultMaxSteps;
  const CLI::Option* max_steps_option = nullptr;
  std::string from;
  std::string out_dir;   // --out DIR
  std::string out_file;  // -o FILE
  bool force = false;
};

bool valid_name(const std::string& name) {
  return !name.empty() && name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
                              std::string::npos;
}

// The one call site of the minimizer. `vmafuzz minimize` (repro/minimize.*)
// is built in parallel with this command; until it is merged the scenario is
// kept as found.
// The finding, minimized (repro/minimize.h) with its bug injected, keeping
// its oracle and site; the caller checks the result still fails with the bug
// and passes on the correct model. Bounded like `vmafuzz minimize`'s default.
fuzz::Scenario minimize_for_test(const fuzz::Scenario& sc, core::Bug bug, uint64_t max_steps, bool* minimized) {
  MinimizeOptions options;
  options.run.inject = core::BugSet::of(bug);
  options.run.max_steps = max_steps;
  options.fork_each = minimize_forks_by_default();
  const MinimizeResult r = minimize(sc, options);
  *minimized = !r.key.empty() && !r.key.starts_with("error:") && !r.key.starts_with("child died");
  return *minimized ? r.scenario : sc;
}

// render_finding's text as comment lines, without the machine lines.
std::string finding_comment(const fuzz::Finding& f) {
  std::istringstream in(fuzz::render_finding(f, ""));
  std::string out;
  std::string line;
  constexpr std::string_view kPrefix = "==vmafuzz== ";
  while (std::getline(in, line)) {
    if (!line.starts_with(kPrefix)) continue;  // DEDUP_TOKEN
    line = line.substr(kPrefix.size());
    if (line.starts_with("SIGNATURE: ")) continue;  // an expect line states it
    out += "#   " + line + "\n";
  }
  return out;
}

std::string header(const ToTestArgs& args, const ReplaySettings& settings, core::Bug bug, const fuzz::Scenario& sc,
                   const fuzz::Finding& finding, uint64_t steps_correct, bool minimized) {
  const std::string bug_name(core::bug_info(bug).name);
  std::string h = fmt::format("# {}: a finding kept as a regression scenario by `vmafuzz to-test`.\n", args.name);
  h += fmt::format("# From: {} ({})\n", printable(args.input),
                   settings.sidecar && !settings.sidecar->found_by.empty()
                       ? "found by " + printable(settings.sidecar->found_by, 1000)
                       : std::string("how it was found is not recorded: no sidecar"));
  h += fmt::format("# With --inject {} ({}: {}):\n", bug_name, core::bug_info(bug).origin, core::bug_info(bug).summary);
  h += finding_comment(finding);
  h += fmt::format("# On the correct model it passes ({} steps).\n", steps_correct);
  h += "# Operations:\n";
  for (size_t t = 0; t < sc.tasks.size(); ++t) {
    std::string ops;
    for (const fuzz::Op& op : sc.tasks[t].ops) ops += (ops.empty() ? "" : ", ") + fuzz::op_text(op);
    h += fmt::format("#   T{} (mm {}): {}\n", t, sc.tasks[t].mm, ops);
  }
  h += minimized ? "# Minimized.\n" : "# Not minimized.\n";
  return h;
}

int to_test(const ToTestArgs& args, Io& io) {
  const auto usage = [&io](const std::string& msg) {
    io.err << "vmafuzz to-test: error: " << msg << "\n";
    return static_cast<int>(kExitUsage);
  };
  if (!valid_name(args.name)) {
    return usage(fmt::format("--name must be letters, digits, '_' and '-' (it names the file), not '{}'",
                             printable(args.name, 80)));
  }
  if (!args.out_dir.empty() && !args.out_file.empty()) return usage("give --out DIR or -o FILE, not both");
  std::string out_path;
  if (!args.out_file.empty()) {
    out_path = args.out_file;
  } else {
    const std::string dir = args.out_dir.empty() ? std::string(kDefaultDir) : args.out_dir;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      return usage(fmt::format("no directory {}{}", printable(dir),
                               args.out_dir.empty() ? " here: run from the source tree, or give --out DIR or -o FILE"
                                                    : ""));
    }
    out_path = (fs::path(dir) / (args.name + ".sched")).string();
  }
  std::error_code ec;
  if (fs::exists(out_path, ec) && !args.force) {
    return usage(fmt::format("{} exists; --force overwrites it", printable(out_path)));
  }
  if (const std::optional<InputError> e = check_writable(out_path)) {
    io.err << e->text << "\n";
    return kExitUsage;
  }

  const std::optional<ReplayInput> replay =
      read_replay_input(args.input, args.from, args.inject, args.max_steps_option, args.max_steps, io);
  if (!replay) return kExitUsage;
  const Input& input = replay->input;
  const ReplaySettings* settings = &replay->settings;
  const std::string in = printable(args.input);
  if (settings->inject.empty()) {
    return usage(fmt::format(
        "{}: no bug to keep it under: give --inject BUG (a regression scenario states the finding under the bug "
        "that produced it, and a pass on the correct model), or keep the input's sidecar {} beside it",
        in, printable(sidecar_path(args.input))));
  }
  if (settings->inject.size() > 1) {
    return usage(fmt::format("{}: it was found with several bugs injected; an `expect with` line names one: give "
                             "--inject with the one it is a regression of",
                             in));
  }
  const core::Bug bug = core::bug_from_name(settings->inject.front()).value();
  if (settings->inject_from_sidecar) {
    io.err << fmt::format("{}: note: using --inject {} from {}\n", in, settings->inject.front(),
                          printable(settings->sidecar->path));
  }

  fuzz::Execution exec;
  fuzz::RunOptions with_bug;
  with_bug.max_steps = settings->max_steps;
  with_bug.inject.add(bug);
  fuzz::RunOptions correct;
  correct.max_steps = settings->max_steps;

  bool minimized = false;
  const fuzz::Scenario sc =
      fuzz::canonical_form(minimize_for_test(input.file.scenario, bug, settings->max_steps, &minimized));
  const fuzz::ExecutionResult found = exec.run(sc, with_bug);
  if (!found.finding) {
    return usage(fmt::format("{}: passes with --inject {} too: there is no finding to keep", in,
                             settings->inject.front()));
  }
  const fuzz::ExecutionResult plain = exec.run(sc, correct);
  if (plain.verdict != fuzz::Verdict::kPass) {
    return usage(fmt::format(
        "{}: the correct model does not pass it either (verdict {}, {}): it is not a regression of {} but a "
        "finding on the model itself; `vmafuzz run --inject '' {}` shows it",
        in, fuzz::verdict_name(plain.verdict), plain.finding ? plain.finding->signature() : "no finding",
        settings->inject.front(), shell_quote(args.input)));
  }

  fuzz::SchedFile file;
  file.preamble = header(args, *settings, bug, sc, *found.finding, plain.steps, minimized);
  file.scenario = sc;
  fuzz::Expectation e;
  e.inject = bug;
  e.kind = fuzz::Expectation::Kind::kVerdict;
  e.verdict = found.verdict;
  file.expectations.push_back(e);
  e.kind = fuzz::Expectation::Kind::kFinding;
  e.oracle = found.finding->oracle;
  file.expectations.push_back(e);
  e.kind = fuzz::Expectation::Kind::kSignature;
  e.signature = found.finding->signature();
  file.expectations.push_back(e);
  fuzz::Expectation pass;
  pass.kind = fuzz::Expectation::Kind::kVerdict;
  pass.verdict = fuzz::Verdict::kPass;
  file.expectations.push_back(pass);
  const std::string text = fuzz::print_sched(file);

  // What is written must parse back and hold: the file checks itself.
  auto parsed = fuzz::parse_sched(text, out_path);
  if (const auto* err = std::get_if<fuzz::SchedError>(&parsed)) {
    io.err << fmt::format("vmafuzz to-test: error: the file made does not parse (a bug): {}\n", err->to_string());
    return kExitUsage;
  }
  // Checked as ctest checks it: with the default step bound (a .sched file has no other).
  const fuzz::CheckResult held = fuzz::check_expectations(std::get<fuzz::SchedFile>(parsed));
  if (!held.mismatches.empty()) {
    io.err << fmt::format("vmafuzz to-test: error: {}the file would not hold: {}\n",
                          settings->max_steps != fuzz::kDefaultMaxSteps
                              ? fmt::format("it was found with --max-steps {}, and with the default {} ",
                                            settings->max_steps, fuzz::kDefaultMaxSteps)
                              : "",
                          held.mismatches.front().to_string(printable(out_path)));
    return kExitUsage;
  }
  if (const std::optional<InputError> err = write_output(out_path, text, io.out)) {
    io.err << err->text << "\n";
    return kExitUsage;
  }
  io.out << fmt::format("wrote {} ({}; {} expect lines: with {} {}, and a pass on the correct model)\n",
                        printable(out_path), minimized ? "minimized" : "not minimized", file.expectations.size(),
                        settings->inject.front(), found.finding->signature());
  io.out << fmt::format("check it: vmafuzz run --check {}\n", shell_quote(out_path));
  return kExitOk;
}

}  // namespace

CommandAction setup_to_test(CLI::App& cmd) {
  auto args = std::make_shared<ToTestArgs>();
  cmd.add_option("FILE", args->input, "the finding: a crash file, a hunt scenario or a .sched file")
      ->required()
      ->type_name("");
  cmd.add_option("--name", args->name, "the regression's name: letters, digits, '_' and '-'; the file is NAME.sched")
      ->required()
      ->type_name("NAME");
  add_flag(cmd, Flag::kInject, &args->inject);
  args->max_steps_option = add_flag(cmd, Flag::kMaxSteps, &args->max_steps);
  add_flag(cmd, Flag::kFrom, &args->from)->check(CLI::IsMember({"sched", "bin"}));
  cmd.add_option("--out", args->out_dir, "the directory to write NAME.sched in (default tests/sched/regressions)")
      ->type_name("DIR");
  cmd.add_option("-o", args->out_file, "the file to write, instead of DIR/NAME.sched")->type_name("FILE");
  cmd.add_flag("--force", args->force, "overwrite an existing file");
  cmd.footer(
      "Writes a finding as a regression scenario: canonical .sched text whose\n"
      "header comment explains the finding (oracle, detail, invariant, where,\n"
      "the operations, how it was found) and whose expect lines state its\n"
      "verdict, oracle and signature under the bug that produced it (`expect\n"
      "with BUG ...`) and `expect verdict pass` on the correct model. The bug is\n"
      "--inject's (or VMAFUZZ_INJECT's), else the one the input's sidecar\n"
      "FILE.json names. An input the correct model does not pass, or that\n"
      "passes with the bug, is refused: it is not the regression of a bug. An\n"
      "existing file is never overwritten without --force. ctest runs every\n"
      "file of tests/sched/regressions/ (tests/sched/regressions/README.md).");
  return [args](Io& io) { return to_test(*args, io); };
}

}  // namespace vmafuzz::repro
