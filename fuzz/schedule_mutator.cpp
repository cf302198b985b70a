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
    case ScheduleMutation::kShiftStaleRead: return "shift-stale-read";
    case ScheduleMutation::kChangeReadDepth: return "change-read-depth";
    case ScheduleMutation::kFlipMemoryModel: return "flip-memory-model";
  }
  return "?";
}

namespace {

// 12 = lcm(2, 3, 4): a byte drawn below it reads each of a load's 2 to
// StoreHistory::kDepth candidates equally often.
constexpr int kReadValues = 12;
// A new stale read goes to one of the first loads that take a byte: the
// handshakes' racy loads come early (the catalog's C11 inputs read stale at
// the fourth).
constexpr int kFirstLoads = 8;

uint8_t stale_value(SplitMix64& rng) { return static_cast<uint8_t>(1 + rng.below(kReadValues - 1)); }

void trim(std::vector<uint8_t>& reads) {
  while (!reads.empty() && reads.back() == 0) reads.pop_back();
  if (reads.size() > 255) reads.resize(255);
}

ScheduleMutation mutate_reads(Scenario& sc, SplitMix64& rng) {
  std::vector<uint8_t>& r = sc.reads;
  if (sc.memory_model != MemoryModel::kC11 || rng.below(8) == 0) {
    if (sc.memory_model == MemoryModel::kC11) {
      sc.memory_model = MemoryModel::kSC;
      r.clear();
    } else {
      sc.memory_model = MemoryModel::kC11;
      r.assign(rng.below(kFirstLoads) + 1, 0);
      r.back() = stale_value(rng);
    }
    return ScheduleMutation::kFlipMemoryModel;
  }
  std::vector<size_t> stale;
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i]) stale.push_back(i);
  }
  if (!stale.empty() && rng.below(2)) {
    // The same store depth, one load earlier or later (further, less often):
    // the other load of a store-buffer pair, or the same load one loop later.
    const size_t from = stale[rng.below(stale.size())];
    const int to = shift_within(static_cast<int>(from), small_delta(rng), 0, 254);
    if (static_cast<size_t>(to) >= r.size()) r.resize(static_cast<size_t>(to) + 1, 0);
    std::swap(r[from], r[static_cast<size_t>(to)]);
    trim(r);
    return ScheduleMutation::kShiftStaleRead;
  }
  // One load's choice redrawn: a stale one (most often) or a new one among the
  // first loads past the list.
  const size_t at = !stale.empty() && rng.below(2) ? stale[rng.below(stale.size())]
                                                   : rng.below(std::min<size_t>(r.size() + kFirstLoads, 255));
  if (at >= r.size()) r.resize(at + 1, 0);
  const uint8_t old = r[at];
  uint8_t v = static_cast<uint8_t>(rng.below(kReadValues - 1));
  if (v >= old % kReadValues) ++v;  // another value than the old one's class
  r[at] = v;
  trim(r);
  return ScheduleMutation::kChangeReadDepth;
}

}  // namespace

ScheduleMutation mutate_schedule(Scenario& sc, uint64_t seed) {
  SplitMix64 rng(seed);
  // A quarter of a C11 input's mutations are of its reads; one in sixteen of
  // an SC input's tries C11.
  const size_t roll = rng.below(16);
  if (sc.memory_model == MemoryModel::kC11 ? roll < 4 : roll == 0) return mutate_reads(sc, rng);
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
