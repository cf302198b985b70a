// schedule_mutator.cpp - structure-aware mutations of the choice stream (see
// schedule_mutator.h): the dispatch to each strategy's own mutations
// (StrategyType::mutate) and the helpers they share.
#include "fuzz/schedule_mutator.h"

#include <algorithm>
#include <cstring>

#include "fuzz/scenario_codec.h"
#include "fuzz/strategy_registry.h"

namespace vmafuzz::fuzz {

int small_delta(SplitMix64& rng) {
  const size_t r = rng.below(8);
  const int magnitude = r < 6 ? 1 : r == 6 ? 2 : 3 + static_cast<int>(rng.below(6));
  return rng.below(2) ? magnitude : -magnitude;
}

int shift_within(int value, int delta, int lo, int hi) {
  int v = value + delta;
  if (v < lo || v > hi) v = value - delta;
  return std::clamp(v, lo, hi);
}

std::string_view schedule_mutation_name(ScheduleMutation m) {
  switch (m) {
    case ScheduleMutation::kShiftPreemption: return "shift-preemption";
    case ScheduleMutation::kChangeAction: return "change-action";
    case ScheduleMutation::kInsertPreemption: return "insert-preemption";
    case ScheduleMutation::kDeletePreemption: return "delete-preemption";
    case ScheduleMutation::kSwapPreemptions: return "swap-preemptions";
    case ScheduleMutation::kShiftChangePoint: return "shift-change-point";
    case ScheduleMutation::kRedrawPriorities: return "redraw-priorities";
    case ScheduleMutation::kRedrawSeed: return "redraw-seed";
  }
  return "?";
}

ScheduleMutation mutate_schedule(Scenario& sc, uint64_t seed) {
  SplitMix64 rng(seed);
  return strategy_type(sc.strategy).mutate(sc, rng);
}

std::vector<uint8_t> mutate_schedule_encoded(const uint8_t* data, size_t size, uint64_t seed,
                                             ScheduleMutation* done) {
  Scenario sc = decode_scenario(data, size);
  const ScheduleMutation m = mutate_schedule(sc, seed);
  if (done) *done = m;
  return encode_scenario(sc);
}

size_t mutate_schedule_bytes(uint8_t* data, size_t size, size_t max_size, uint64_t seed) {
  const std::vector<uint8_t> out = mutate_schedule_encoded(data, size, seed);
  if (out.size() > max_size) return 0;
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

}  // namespace vmafuzz::fuzz
