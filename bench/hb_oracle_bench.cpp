// hb_oracle_bench.cpp - the happens-before race oracle's cost, for callgrind.
//
// Runs the same 1000 fixed inputs as scenario_bench (a seeded mt19937, the
// same on every machine) through decode + Execution::run once, with the race
// oracle on (default) or off (--no-race-oracle), or in C11 mode (--c11), and prints the runs and the
// scheduling points. bench/run_hb_bench.sh runs both under callgrind and
// divides the instruction counts by them.
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "fuzz/execution.h"
#include "fuzz/scenario_codec.h"

int main(int argc, char** argv) {
  bool race_oracle = true, c11 = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-race-oracle") == 0) {
      race_oracle = false;
    } else if (std::strcmp(argv[i], "--c11") == 0) {
      c11 = true;
    } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf(
          "Usage: hb_oracle_bench [--no-race-oracle] [--c11]\nRuns 1000 fixed inputs once; prints runs and steps.\n"
          "--c11: in the C11 memory model, without reads-from choices (every load reads the latest store, as in\n"
          "SC, so the runs are the same): the store histories' bookkeeping cost.\n");
      return 0;
    } else {
      std::fprintf(stderr, "hb_oracle_bench: unknown argument: %s (try --help)\n", argv[i]);
      return 64;
    }
  }
  std::mt19937 rng(20261123);
  vmafuzz::fuzz::Execution ex;
  vmafuzz::fuzz::RunOptions options;
  options.race_oracle = race_oracle;
  if (c11) options.memory_model = vmafuzz::fuzz::MemoryModel::kC11;
  uint64_t steps = 0;
  int runs = 0, findings = 0;
  for (int i = 0; i < 1000; ++i) {
    std::vector<uint8_t> in(rng() % 128);
    for (uint8_t& b : in) b = static_cast<uint8_t>(rng());
    const auto r = ex.run(vmafuzz::fuzz::decode_scenario(in.data(), in.size()), options);
    steps += r.steps;
    ++runs;
    findings += r.finding.has_value();
  }
  std::printf("runs %d steps %llu findings %d\n", runs, static_cast<unsigned long long>(steps), findings);
  return findings == 0 ? 0 : 1;
}
