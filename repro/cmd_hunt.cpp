// cmd_hunt.cpp - `vmafuzz hunt`: the scheduler alone, no fuzzer.
//
// Random testing the way loom's and Shuttle's random/PCT modes do it: every
// run draws a fresh program from a seeded PRNG (random bytes through the same
// decoder the fuzzer uses, so it is always legal) and runs it under a
// uniformly random or a PCT schedule, until a finding or a budget. No
// feedback: this is the baseline the fuzzer's coverage and interleaving
// features must beat (bench/run_bug_bench.py), and a quick check that needs
// no fuzzing engine.
//
// Determinism: the PRNG is std::mt19937_64, whose output the standard fixes,
// and bytes are taken from it without <random>'s distributions (whose
// results are implementation-defined); so one seed gives the same runs, and
// the same finding, on every build.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "fuzz/execution.h"
#include "fuzz/finding.h"
#include "fuzz/scenario.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/strategy_registry.h"
#include "repro/cli.h"
#include "repro/scenario_io.h"
#include "repro/sidecar.h"

namespace vmafuzz::repro {
namespace {

// Choice bytes drawn per run, for every strategy hunt offers (those with a
// StrategyType::hunt_help()): enough for the random strategy's 8-byte seed and
// PCT's priority permutation and two bytes per change point. Fixed, so that
// a seed's runs do not depend on which strategies exist.
constexpr size_t kChoiceBytes = 16;
// --time's bound: one week.
constexpr long kMaxHuntSeconds = 7L * 24 * 3600;

// The strategies hunt offers, in registry order.
std::vector<const fuzz::StrategyType*> hunt_strategies() {
  std::vector<const fuzz::StrategyType*> out;
  for (const fuzz::StrategyType* t : fuzz::strategy_types()) {
    if (!t->hunt_help().empty()) out.push_back(t);
  }
  return out;
}

struct HuntArgs {
  std::string strategy = "random";
  uint64_t pct_depth = 3;
  InjectArgs inject;
  uint64_t seed = 1;
  double time = 10;
  uint64_t runs = 0;  // 0: no limit but --time
  uint64_t max_steps = fuzz::kDefaultMaxSteps;
  std::string save;  // where a finding's scenario goes ("" : hunt-<strategy>-<seed>.bin)
  std::string memory_model = "sc";
};

// " --inject A --inject B" for the names, "" for none.
std::string inject_text(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += " --inject " + n;
  return s;
}

// One random legal scenario from `rng`.
fuzz::Scenario random_scenario(std::mt19937_64& rng, fuzz::StrategyKind strategy, int pct_depth, bool c11) {
  fuzz::Scenario sc = fuzz::random_program(rng);
  sc.strategy = strategy;
  sc.pct_depth = static_cast<uint8_t>(pct_depth);
  sc.choices.resize(kChoiceBytes);
  for (uint8_t& b : sc.choices) b = static_cast<uint8_t>(rng());
  if (c11) {
    // Drawn after the rest: a run's program and schedule are those of the
    // SC hunt's run with the same generator state.
    sc.memory_model = fuzz::MemoryModel::kC11;
    sc.reads.resize(kChoiceBytes);
    for (uint8_t& b : sc.reads) b = static_cast<uint8_t>(rng());
  }
  return sc;
}

int hunt(const HuntArgs& args, Io& io) {
  const fuzz::StrategyType* type = fuzz::strategy_type_named(args.strategy);
  if (!type || type->hunt_help().empty()) {
    io.err << fmt::format("vmafuzz hunt: error: --strategy must be {}, not '{}'\n",
                          fuzz::strategy_name_list(hunt_strategies()), args.strategy);
    return kExitUsage;
  }
  const fuzz::StrategyKind strategy = type->kind();
  const std::string path = args.save.empty() ? fmt::format("hunt-{}-{}.bin", args.strategy, args.seed) : args.save;
  // Before hunting: a finding must not be lost on a path that cannot be written.
  if (const std::optional<InputError> e = check_writable(path)) {
    io.err << e->text << " (--save)\n";
    return kExitUsage;
  }
  fuzz::RunOptions options;
  options.max_steps = args.max_steps;
  options.inject = args.inject.bugs();

  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const auto elapsed = [&start] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  std::mt19937_64 rng(args.seed);
  fuzz::Execution exec;
  double next_progress = 10;
  for (uint64_t run = 1; args.runs == 0 || run <= args.runs; ++run) {
    const fuzz::Scenario sc =
        random_scenario(rng, strategy, static_cast<int>(args.pct_depth), args.memory_model == "c11");
    const fuzz::ExecutionResult r = exec.run(sc, options);
    if (r.finding) {
      const double seconds = elapsed();
      const std::vector<uint8_t> bytes = fuzz::encode_scenario(sc);
      const std::string replay = replay_command(args.inject.names(), args.max_steps, path, Format::kBin);
      if (const std::optional<InputError> e =
              write_output(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), io.out)) {
        // Checked before hunting, yet failed (disk full, removed directory):
        // the finding is printed with its bytes, so it is not lost.
        io.err << e->text << "\n";
        io.out << fmt::format(
            "hunt: finding in run {} after {:.2f}s ({} strategy, seed {}); the scenario could NOT be saved to {}.\n"
            "hunt: its {} bytes in hex (restore with: xxd -r -p > FILE):\n{}",
            run, seconds, args.strategy, args.seed, printable(path), bytes.size(), hex_lines(bytes));
        io.out << fuzz::render_finding(*r.finding, replay);
        return kExitFinding;
      }
      // The sidecar says which model found it (repro/sidecar.h); `vmafuzz run
      // FILE` then injects the same bugs by itself.
      Sidecar sidecar;
      sidecar.inject = args.inject.names();
      sidecar.max_steps = args.max_steps;
      sidecar.found_by = fmt::format("vmafuzz hunt --strategy {}{}{} --seed {}{} (run {})", args.strategy,
                                     args.memory_model == "c11" ? " --memory-model c11" : "",
                                     strategy == fuzz::StrategyKind::kPct ? fmt::format(" --pct-depth {}", args.pct_depth) : "",
                                     args.seed, inject_text(args.inject.names()), run);
      sidecar.signature = r.finding->signature();
      const bool sidecar_written = path != "-" && !write_sidecar(path, sidecar);
      io.out << fmt::format("hunt: finding in run {} after {:.2f}s ({} strategy, seed {}); scenario saved to {}{}\n", run,
                            seconds, args.strategy, args.seed, printable(path),
                            sidecar_written ? fmt::format(" (model in {})", printable(sidecar_path(path))) : "");
      io.out << fuzz::render_finding(*r.finding, replay);
      return kExitFinding;
    }
    if ((run & 255) == 0) {
      const double seconds = elapsed();
      if (seconds >= args.time) break;
      if (seconds >= next_progress) {
        io.err << fmt::format("hunt: {} runs, {:.0f} runs/s, no finding yet\n", run, run / seconds);
        next_progress += 10;
      }
    }
  }
  io.out << fmt::format("hunt: no finding ({} strategy, seed {}, {:.1f}s)\n", args.strategy, args.seed, elapsed());
  return kExitOk;
}

}  // namespace

CommandAction setup_hunt(CLI::App& cmd) {
  auto args = std::make_shared<HuntArgs>();
  std::string help;
  std::vector<std::string> names;
  for (const fuzz::StrategyType* t : hunt_strategies()) {
    help += fmt::format("{}{}: {}", help.empty() ? "" : "; ", t->name(), t->hunt_help());
    names.emplace_back(t->name());
  }
  cmd.add_option("--strategy", args->strategy, help)->capture_default_str()->check(CLI::IsMember(names));
  cmd.add_option("--pct-depth", args->pct_depth, "PCT's bug depth d (d-1 priority change points)")
      ->capture_default_str()
      ->check(CLI::Range(1, 4));
  add_flag(cmd, Flag::kInject, &args->inject);
  cmd.add_option("--seed", args->seed, "PRNG seed: the same seed gives the same runs")->capture_default_str();
  // Plain-number bounds (CLI::PositiveNumber would print a double's range).
  const CLI::Validator time_bound(
      [](std::string& v) -> std::string {
        const std::string range = fmt::format("must be a number of seconds above 0 and at most {} (a week)", kMaxHuntSeconds);
        char* end = nullptr;
        const double t = std::strtod(v.c_str(), &end);
        if (v.empty() || end != v.c_str() + v.size() || !(t > 0) || t > kMaxHuntSeconds) {
          return range + ", not '" + printable(v, 40) + "'";
        }
        return "";
      },
      "");
  cmd.add_option("--time", args->time, "stop after this many seconds without a finding")
      ->capture_default_str()
      ->check(time_bound);
  cmd.add_option("--runs", args->runs, "stop after this many runs (0: only --time limits)")->capture_default_str();
  add_flag(cmd, Flag::kMaxSteps, &args->max_steps);
  add_flag(cmd, Flag::kMemoryModel, &args->memory_model)->capture_default_str()->check(CLI::IsMember({"sc", "c11"}));
  cmd.add_option("--save", args->save, "where the finding's scenario is written (binary; default hunt-STRATEGY-SEED.bin)")
      ->type_name("FILE");
  cmd.footer(
      "Runs random legal scenarios (random bytes through the fuzzer's decoder)\n"
      "under random or PCT schedules, with no fuzzing engine and no feedback,\n"
      "until the first finding, --time seconds or --runs runs. A finding is\n"
      "printed as `vmafuzz run` prints it and its scenario saved with a sidecar\n"
      "FILE.json naming the bugs injected (docs/FORMATS.md), so `vmafuzz run\n"
      "FILE` replays it on the same model. --save's file is checked before the\n"
      "hunt starts; should the write still fail, the scenario's bytes are\n"
      "printed in hex. Progress goes to stderr every 10 seconds.");
  return [args](Io& io) { return hunt(*args, io); };
}

}  // namespace vmafuzz::repro
