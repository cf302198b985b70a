// scenario_bench.cpp - scenarios per second through the deterministic scheduler.
//
// Replays a fixed set of inputs (1000 byte strings from a seeded mt19937, the
// same on every machine) through decode + Execution::run, without a fuzzer:
// the ceiling for the fuzz target. Counters: runs/s and scheduling points/s.
// Variants: with the fuzz target's feature map, without the ghost oracles;
// BM_DecodeOnly isolates the decoder's share. BM_ThreeTask is issue 13's
// small program under 2000 random schedules. Every run benchmark also reports
// ns_per_step: CPU time per scheduling point.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "fuzz/execution.h"
#include "fuzz/features.h"
#include "fuzz/scenario_codec.h"

namespace {

using vmafuzz::fuzz::decode_scenario;
using vmafuzz::fuzz::Execution;
using vmafuzz::fuzz::RunOptions;
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

// A feature map like the fuzz target's (libFuzzer's 16 Ki extra counters).
class CounterMap final : public vmafuzz::fuzz::FeatureSink {
 public:
  void add(uint32_t feature) override {
    uint8_t& c = counters_[(feature ^ feature >> 16) % counters_.size()];
    if (c != 255) ++c;
  }
  std::array<uint8_t, 1 << 14> counters_{};
};

// Decode and run every input with `options`: what one fuzz target execution
// costs without the engine.
void decode_and_run(benchmark::State& state, const RunOptions& options) {
  Execution ex;
  const auto& inputs = fixed_inputs();
  size_t i = 0;
  uint64_t steps = 0;
  for (auto _ : state) {
    const std::vector<uint8_t>& in = inputs[i++ % inputs.size()];
    const Scenario sc = decode_scenario(in.data(), in.size());
    steps += ex.run(sc, options).steps;
  }
  state.counters["runs_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
  state.counters["steps_per_run"] = static_cast<double>(steps) / static_cast<double>(state.iterations());
  // 1 / rate: seconds per step, printed with an SI prefix ("95n").
  state.counters["ns_per_step"] =
      benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// As the replay tools run: ghost oracles on, no feature map.
void BM_DecodeAndRun(benchmark::State& state) { decode_and_run(state, RunOptions{}); }
BENCHMARK(BM_DecodeAndRun);

// As the fuzz target runs: the same plus interleaving features into a map.
void BM_DecodeAndRunWithFeatures(benchmark::State& state) {
  CounterMap map;
  RunOptions options;
  options.features = &map;
  decode_and_run(state, options);
  benchmark::DoNotOptimize(map.counters_.data());
}
BENCHMARK(BM_DecodeAndRunWithFeatures);

// Without the ghost oracles: what they cost.
void BM_DecodeAndRunNoOracles(benchmark::State& state) {
  RunOptions options;
  options.ghost_oracles = false;
  decode_and_run(state, options);
}
BENCHMARK(BM_DecodeAndRunNoOracles);

// Issue 13's three-task program - T0: mmap_write_lock, vma_start_write 0,
// mmap_write_unlock; T1, T2: lock_vma_under_rcu 0, vma_end_read; slot 0
// mapped - under 2000 random-strategy seeds (the peer benchmark's scenario).
void BM_ThreeTask(benchmark::State& state) {
  using vmafuzz::fuzz::Op;
  using vmafuzz::fuzz::OpKind;
  Scenario base;
  base.mms = {vmafuzz::fuzz::MmSetup{1}};
  base.tasks = {{0, {Op{OpKind::kMmapWriteLock}, Op{OpKind::kVmaStartWrite, 0}, Op{OpKind::kMmapWriteUnlock}}},
                {0, {Op{OpKind::kLockVmaUnderRcu, 0}, Op{OpKind::kVmaEndRead}}},
                {0, {Op{OpKind::kLockVmaUnderRcu, 0}, Op{OpKind::kVmaEndRead}}}};
  base.strategy = vmafuzz::fuzz::StrategyKind::kRandom;
  std::vector<Scenario> scenarios(2000, base);
  std::mt19937 rng(20261206);
  for (Scenario& sc : scenarios) {
    sc.choices.resize(8);  // the random strategy's seed
    for (uint8_t& b : sc.choices) b = static_cast<uint8_t>(rng());
  }
  Execution ex;
  size_t i = 0;
  uint64_t steps = 0;
  for (auto _ : state) steps += ex.run(scenarios[i++ % scenarios.size()], RunOptions{}).steps;
  state.counters["runs_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["steps_per_run"] = static_cast<double>(steps) / static_cast<double>(state.iterations());
  state.counters["ns_per_step"] =
      benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ThreeTask);

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
