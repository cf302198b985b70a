// scenario_bench.cpp - scenarios per second through the deterministic scheduler.
//
// Replays a fixed set of inputs (1000 byte strings from a seeded mt19937, the
// same on every machine) through decode + Execution::run, without a fuzzer:
// the ceiling for the fuzz target. Counters: runs/s and scheduling points/s.
// BM_DecodeOnly isolates the decoder's share.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "fuzz/execution.h"
#include "fuzz/scenario_codec.h"

namespace {

using vmafuzz::fuzz::decode_scenario;
using vmafuzz::fuzz::Execution;
using vmafuzz::fuzz::Scenario;

const std::vector<std::vector<uint8_t>>& fixed_inputs() {
  static const std::vector<std::vector<uint8_t>> inputs = [] {
    std::mt19937 rng(20261123);
    std::vector<std::vector<uint8_t>> v(1000);
    for (std::vector<uint8_t>& in : v) {
      in.resize(rng() % 128);
      for (uint8_t& b : in) b = static_cast<uint8_t>(rng());
    }
    return v;
  }();
  return inputs;
}

void BM_DecodeAndRun(benchmark::State& state) {
  Execution ex;
  const auto& inputs = fixed_inputs();
  size_t i = 0;
  uint64_t steps = 0;
  for (auto _ : state) {
    const std::vector<uint8_t>& in = inputs[i++ % inputs.size()];
    const Scenario sc = decode_scenario(in.data(), in.size());
    steps += ex.run(sc).steps;
  }
  state.counters["runs_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
  state.counters["steps_per_run"] = static_cast<double>(steps) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_DecodeAndRun);

void BM_DecodeOnly(benchmark::State& state) {
  const auto& inputs = fixed_inputs();
  size_t i = 0;
  for (auto _ : state) {
    const std::vector<uint8_t>& in = inputs[i++ % inputs.size()];
    benchmark::DoNotOptimize(decode_scenario(in.data(), in.size()));
  }
  state.counters["runs_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeOnly);

}  // namespace

BENCHMARK_MAIN();
