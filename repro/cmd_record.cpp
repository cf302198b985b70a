// cmd_record.cpp - `vmafuzz record`: record real-thread runs as traces.
//
// Draws random legal scenarios (repro/trace_record.h), runs each one's tasks
// on OS threads on the native platform for a bounded number of runs or time,
// and writes each run as a recorded trace (docs/FORMATS.md, section 5):
// DIR/rec-SEED-N.trace. `vmafuzz import-trace DIR/*.trace -o OUT` turns them
// into seeds.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>

#include "fuzz/recorded_trace.h"
#include "repro/cli.h"
#include "repro/trace_record.h"

namespace vmafuzz::repro {
namespace {

struct RecordArgs {
  std::string out = "traces";
  uint64_t seed = 1;
  uint64_t runs = 20;
  double time = 10;
  uint64_t jitter = 8;
};

int record(const RecordArgs& args, Io& io) {
  std::error_code ec;
  std::filesystem::create_directories(args.out, ec);
  if (ec) {
    io.err << fmt::format("vmafuzz record: error: cannot create {}: {}\n", args.out, ec.message());
    return kExitUsage;
  }
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  uint64_t written = 0, events = 0;
  for (uint64_t run = 0; run < args.runs; ++run) {
    if (std::chrono::duration<double>(Clock::now() - start).count() >= args.time) break;
    const uint64_t seed = args.seed + run;
    RecordOptions options;
    options.jitter = static_cast<int>(args.jitter);
    options.seed = seed;
    Recording rec = record_run(random_setup(seed), options);
    rec.trace.preamble = fmt::format("# vmafuzz record --seed {} (run {}): scenario drawn from seed {}, jitter {}\n",
                                     args.seed, run, seed, args.jitter);
    for (const std::string& r : rec.reports) io.err << fmt::format("vmafuzz record: seed {}: {}\n", seed, r);
    const std::string path = (std::filesystem::path(args.out) / fmt::format("rec-{}.trace", seed)).string();
    std::ofstream f(path, std::ios::binary);
    f << fuzz::print_recorded_trace(rec.trace);
    if (!f) {
      io.err << fmt::format("vmafuzz record: error: cannot write {}\n", path);
      return kExitUsage;
    }
    ++written;
    events += rec.trace.events.size();
  }
  io.out << fmt::format("record: {} trace(s), {} events, in {}\n", written, events, args.out);
  return kExitOk;
}

}  // namespace

CommandAction setup_record(CLI::App& cmd) {
  auto args = std::make_shared<RecordArgs>();
  cmd.add_option("-o,--out", args->out, "directory the traces are written to")->capture_default_str()->type_name("DIR");
  cmd.add_option("--seed", args->seed, "first scenario seed (run i records the scenario of seed + i)")
      ->capture_default_str();
  cmd.add_option("--runs", args->runs, "record at most this many runs")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd.add_option("--time", args->time, "stop after this many seconds")->capture_default_str()->check(CLI::PositiveNumber);
  cmd.add_option("--jitter", args->jitter, "yield at a scheduling point with probability 1/N (0: never)")
      ->capture_default_str();
  cmd.footer(
      "Runs random legal scenarios (as `vmafuzz hunt` draws them) on real threads,\n"
      "the native platform, and writes each run as a recorded trace\n"
      "(docs/FORMATS.md, section 5): the set-up and programs, and every\n"
      "scheduling point in the order of one global logical clock.\n"
      "`vmafuzz import-trace DIR/*.trace -o SEEDS` makes seeds of them.");
  return [args](Io& io) { return record(*args, io); };
}

}  // namespace vmafuzz::repro
