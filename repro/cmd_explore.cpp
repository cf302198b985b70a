// cmd_explore.cpp - `vmafuzz explore FILE`: every schedule of one program
// with at most K preemptions (fuzz/explore.h), depth-first, with bounded DPOR
// and sleep sets; resumable from a checkpoint.
//
// The program's own schedule is ignored. A finding's schedule is written as a
// switch-list .sched file with a sidecar naming the bugs, and then replayed
// and reported exactly as `vmafuzz run OUT` does; so the report is run's own
// and the file is known to replay. Same file and options, same exploration
// order and output, apart from the timing line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>
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
  std::string checkpoint;  // "" : none
  std::string resume;      // "" : a fresh search
  double checkpoint_every = 10;
};

// Set by SIGINT: the search stops after the current schedule (and saves).
volatile std::sig_atomic_t interrupted = 0;

constexpr std::string_view kCheckpointMagic = "vmafuzz-explore-checkpoint 1";

// What a checkpoint is valid for: the program (without its schedule) and
// every option that shapes the search, as one line.
std::string search_identity(const fuzz::Scenario& program, const ExploreArgs& args,
                            const fuzz::ExploreOptions& options) {
  fuzz::Scenario bare = program;
  bare.strategy = fuzz::StrategyKind::kSwitchList;
  bare.choices.clear();
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over the canonical text
  for (const char c : fuzz::print_sched(bare)) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return fmt::format("program {:016x} preemptions {} reduction {} max_steps {} inject {}", h, args.preemptions,
                     static_cast<int>(options.reduction), args.max_steps,
                     args.inject.names().empty() ? "-" : fmt::format("{}", fmt::join(args.inject.names(), ",")));
}

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

  if (!args.checkpoint.empty()) {
    if (const std::optional<InputError> e = check_writable(args.checkpoint)) {
      io.err << e->text << " (--checkpoint)\n";
      return kExitUsage;
    }
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
  const std::string identity = search_identity(program, args, options);
  std::optional<fuzz::ExploreCheckpoint> resumed;
  if (!args.resume.empty()) {
    std::ifstream in(args.resume, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string magic, line;
    if (!in || !std::getline(text, magic) || magic != kCheckpointMagic || !std::getline(text, line)) {
      io.err << fmt::format("{}: error: not a vmafuzz explore checkpoint (--resume)\n", printable(args.resume));
      return kExitUsage;
    }
    if (line != identity) {
      io.err << fmt::format(
          "{}: error: the checkpoint is of another search ({}); this one is {} (--resume)\n", printable(args.resume),
          line, identity);
      return kExitUsage;
    }
    resumed = fuzz::parse_checkpoint(text.str().substr(static_cast<size_t>(text.tellg())));
    if (!resumed) {
      io.err << fmt::format("{}: error: malformed checkpoint (--resume)\n", printable(args.resume));
      return kExitUsage;
    }
    options.resume = &*resumed;
  }
  std::optional<InputError> checkpoint_error;
  if (!args.checkpoint.empty()) {
    options.checkpoint_every = args.checkpoint_every;
    options.on_checkpoint = [&](const fuzz::ExploreCheckpoint& c) {
      const std::string text = fmt::format("{}\n{}\n{}", kCheckpointMagic, identity, fuzz::checkpoint_text(c));
      if (std::optional<InputError> e = write_atomically(args.checkpoint, text, io.out)) checkpoint_error = e;
    };
  }
  interrupted = 0;
  const auto previous_handler = std::signal(SIGINT, [](int) { interrupted = 1; });
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const auto elapsed = [&start] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  double next_progress = kProgressEvery;
  options.keep_going = [&](uint64_t schedules) {
    if (!args.quiet && (schedules & 1023) == 0 && elapsed() >= next_progress) {
      io.err << fmt::format("explore: {} schedules, {:.0f}/s, no finding yet\n", schedules, schedules / elapsed());
      next_progress += kProgressEvery;
    }
    return interrupted == 0;
  };

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
  std::signal(SIGINT, previous_handler);
  const double seconds = elapsed();
  if (r.bad_checkpoint) {
    io.err << fmt::format("{}: error: the checkpoint's path does not fit this program (--resume)\n",
                          printable(args.resume));
    return kExitUsage;
  }
  if (checkpoint_error) {
    io.err << checkpoint_error->text << " (--checkpoint)\n";
    return kExitUsage;
  }
  io.out << fmt::format("schedules: {} ({} alternatives pruned, longest run {} decisions)\n",
                        r.schedules, r.pruned, r.max_depth);
  io.out << fmt::format("exhausted: {}\n",
                        r.exhausted   ? "yes"
                        : r.finding   ? "no (stopped at the first finding)"
                        : interrupted ? "no (stopped by SIGINT)"
                                      : "no (stopped by --time or --max-schedules)");
  if (!args.checkpoint.empty() && !r.finding) {
    io.out << fmt::format("checkpoint: {}{}\n", printable(args.checkpoint),
                          r.exhausted ? " (the search is complete)" : " (continue with --resume)");
  }
  const uint64_t this_run = r.schedules - (resumed ? resumed->schedules : 0);
  io.out << fmt::format("time:      {:.2f}s, {:.0f} schedules/s{}\n", seconds, this_run / (seconds > 0 ? seconds : 1e-9),
                        resumed ? fmt::format(" ({} schedules in this run)", this_run) : "");
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
  cmd.add_option("--checkpoint", args->checkpoint,
                 "save where the search stands to FILE (atomically) every --checkpoint-every seconds and when it "
                 "stops by --time, --max-schedules or SIGINT")
      ->type_name("FILE");
  cmd.add_option("--checkpoint-every", args->checkpoint_every, "seconds between checkpoints")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 24.0 * 3600));
  cmd.add_option("--resume", args->resume,
                 "continue the search saved in FILE (same program and options); counts include the earlier "
                 "schedules, and the end result equals an uninterrupted search's")
      ->type_name("FILE");
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
      "The same file and options give the same output but for the time line.\n"
      "--checkpoint saves the search's position; --resume continues it in the\n"
      "same order (the final counts equal an uninterrupted search's).");
  return [args](Io& io) { return explore(*args, io); };
}

}  // namespace vmafuzz::repro
