// cmd_explore.cpp - `vmafuzz explore FILE`: every schedule of one program
// with at most K preemptions (fuzz/explore.h), depth-first, with sleep sets.
//
// The program's own schedule is ignored. A finding's schedule is written as a
// switch-list .sched file with a sidecar naming the bugs, and then replayed
// and reported exactly as `vmafuzz run OUT` does; so the report is run's own
// and the file is known to replay. Same file and options, same exploration
// order and output, apart from the timing line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "fuzz/execution.h"
#include "fuzz/explore.h"
#include "fuzz/sched_text.h"
#include "repro/cli.h"
#include "repro/run_report.h"
#include "repro/scenario_io.h"
#include "repro/sidecar.h"

namespace vmafuzz::repro {
namespace {

struct ExploreArgs {
  std::string input;
  int preemptions = 2;
  double time = 0;             // 0: no limit
  uint64_t max_schedules = 0;  // 0: no limit
  bool no_reduction = false;
  std::string reduction = "dpor";
  InjectArgs inject;
  uint64_t max_steps = fuzz::kDefaultMaxSteps;
  std::string out;  // "" : explore-<stem>.sched
  bool quiet = false;
};

// Seconds between progress lines on stderr.
constexpr double kProgressEvery = 10;

int explore(const ExploreArgs& args, Io& io) {
  auto read = read_input(args.input, format_of_path(args.input));
  if (const auto* e = std::get_if<InputError>(&read)) {
    io.err << e->text << "\n";
    return kExitUsage;
  }
  const fuzz::Scenario& program = std::get<Input>(read).file.scenario;
  const std::string out_path =
      args.out.empty() ? fmt::format("explore-{}.sched", std::filesystem::path(args.input).stem().string()) : args.out;
  // Before exploring: a finding must not be lost on a path that cannot be written.
  if (const std::optional<InputError> e = check_writable(out_path)) {
    io.err << e->text << " (--out)\n";
    return kExitUsage;
  }

  fuzz::ExploreOptions options;
  options.preemptions = args.preemptions;
  options.time_limit = args.time;
  options.max_schedules = args.max_schedules;
  options.reduction = args.no_reduction          ? fuzz::Reduction::kNone
                      : args.reduction == "none"  ? fuzz::Reduction::kNone
                      : args.reduction == "sleep" ? fuzz::Reduction::kSleepSets
                                                  : fuzz::Reduction::kDpor;
  options.run.max_steps = args.max_steps;
  options.run.inject = args.inject.bugs();
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const auto elapsed = [&start] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  double next_progress = kProgressEvery;
  if (!args.quiet) {
    options.keep_going = [&](uint64_t schedules) {
      if ((schedules & 1023) == 0 && elapsed() >= next_progress) {
        io.err << fmt::format("explore: {} schedules, {:.0f}/s, no finding yet\n", schedules, schedules / elapsed());
        next_progress += kProgressEvery;
      }
      return true;
    };
  }

  std::string killable;
  const fuzz::TaskSet k = fuzz::killable_tasks(program);
  for (size_t t = 0; t < program.tasks.size(); ++t) {
    if (k & (fuzz::TaskSet{1} << t)) killable += fmt::format("{}T{}", killable.empty() ? "" : " ", t);
  }
  io.out << fmt::format("explore:   {} ({} tasks, {} mm{}), at most {} preemption{}\n", printable(args.input),
                        program.tasks.size(), program.mms.size(), program.mms.size() == 1 ? "" : "s",
                        args.preemptions, args.preemptions == 1 ? "" : "s");
  io.out << fmt::format("choices:   switch, spurious wake of a parked task, SIGKILL of {} (each 1 preemption)\n",
                        killable.empty() ? "none (no killable operation)" : killable);
  io.out << fmt::format("reduction: {}\n", options.reduction == fuzz::Reduction::kNone        ? "none"
                                           : options.reduction == fuzz::Reduction::kSleepSets ? "sleep sets"
                                                                                              : "bounded DPOR and sleep sets");
  if (!options.run.inject.empty()) io.out << fmt::format("inject:    {}\n", fmt::join(args.inject.names(), " "));

  const fuzz::ExploreResult r = fuzz::explore(program, options);
  const double seconds = elapsed();
  io.out << fmt::format("schedules: {} ({} alternatives pruned, longest run {} decisions)\n",
                        r.schedules, r.pruned, r.max_depth);
  io.out << fmt::format("exhausted: {}\n",
                        r.exhausted ? "yes"
                        : r.finding ? "no (stopped at the first finding)"
                                    : "no (stopped by --time or --max-schedules)");
  io.out << fmt::format("time:      {:.2f}s, {:.0f} schedules/s\n", seconds, r.schedules / (seconds > 0 ? seconds : 1e-9));
  if (!r.finding) {
    io.out << "finding:   none\n";
    return kExitOk;
  }

  std::string text = fmt::format(
      "# Found by vmafuzz explore {} --preemptions {}{} (schedule {} of the search).\n", args.input,
      args.preemptions, args.inject.names().empty() ? "" : " --inject " + fmt::format("{}", fmt::join(args.inject.names(), ",")),
      r.schedules);
  text += fuzz::print_sched(*r.finding_schedule);
  if (const std::optional<InputError> e = write_output(out_path, text, io.out)) {
    io.err << e->text << "\n";
    io.out << "finding:   its schedule could NOT be written; here it is:\n" << text;
    return kExitFinding;
  }
  Sidecar sidecar;
  sidecar.inject = args.inject.names();
  sidecar.max_steps = args.max_steps;
  sidecar.found_by = fmt::format("vmafuzz explore --preemptions {} (schedule {})", args.preemptions, r.schedules);
  sidecar.signature = r.finding->finding->signature();
  const bool sidecar_written = out_path != "-" && !write_sidecar(out_path, sidecar);
  io.out << fmt::format("finding:   in schedule {}; written to {}{}\n\n", r.schedules, printable(out_path),
                        sidecar_written ? fmt::format(" (model in {})", printable(sidecar_path(out_path))) : "");
  if (out_path == "-") return kExitFinding;
  // run's own report of the written file: the replay is the proof.
  const int replayed = run_and_report(args.inject, args.max_steps, out_path, io);
  if (replayed != kExitFinding) {
    io.err << fmt::format("{}: error: the written schedule does not replay to the finding (a harness bug)\n",
                          printable(out_path));
    return kExitUsage;
  }
  return kExitFinding;
}

}  // namespace

CommandAction setup_explore(CLI::App& cmd) {
  auto args = std::make_shared<ExploreArgs>();
  cmd.add_option("FILE", args->input, "the program (.sched text or binary); its schedule is ignored")
      ->required()
      ->type_name("");
  cmd.add_option("--preemptions", args->preemptions,
                 "at most K preemptions per schedule (a switch away from a runnable task, a spurious wake-up or a "
                 "SIGKILL each count one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 8));
  cmd.add_option("--time", args->time, "stop after this many seconds (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 7.0 * 24 * 3600));
  cmd.add_option("--max-schedules", args->max_schedules, "stop after N schedules (0: no limit)")->capture_default_str();
  cmd.add_option("--reduction", args->reduction,
                 "dpor: bounded DPOR over the announced accesses plus sleep sets; sleep: sleep sets only; none: "
                 "every schedule within the bound (for comparison)")
      ->capture_default_str()
      ->check(CLI::IsMember({"dpor", "sleep", "none"}));
  cmd.add_flag("--no-reduction", args->no_reduction, "the same as --reduction none");
  add_flag(cmd, Flag::kInject, &args->inject);
  add_flag(cmd, Flag::kMaxSteps, &args->max_steps);
  cmd.add_option("--out", args->out, "where a finding's schedule is written (.sched; default explore-STEM.sched)")
      ->type_name("FILE.sched");
  cmd.add_flag("--quiet", args->quiet, "no progress lines on stderr (otherwise one every 10 seconds)");
  cmd.footer(
      "Runs FILE's program under every switch-list schedule with at most K\n"
      "preemptions, depth-first, each as a fresh deterministic run (CHESS's\n"
      "iterative preemption bounding by re-execution). At each scheduling point\n"
      "the running task may continue (free), or be preempted: a switch to\n"
      "another runnable task, a spurious wake-up of a parked task, or SIGKILL to\n"
      "a task with a killable operation. A task that parks or finishes hands\n"
      "over by switch-list's rule, at no cost. Bounded DPOR and sleep sets skip\n"
      "schedules that only reorder independent shared-word accesses of explored\n"
      "ones (docs/SCHEDULER.md, \"Systematic exploration\"). Prints the schedules\n"
      "explored, whether the bounded space was exhausted, the time and\n"
      "schedules/s; at the first finding writes its schedule to --out with a\n"
      "sidecar naming the bugs, and prints `vmafuzz run`'s report of that file.\n"
      "The same file and options give the same output but for the time line.");
  return [args](Io& io) { return explore(*args, io); };
}

}  // namespace vmafuzz::repro
