// schedule_mutator.cpp - structure-aware mutations of the choice stream (see
// schedule_mutator.h).
#include "fuzz/schedule_mutator.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "fuzz/scenario_codec.h"
#include "fuzz/strategy.h"

namespace vmafuzz::fuzz {
namespace {

// splitmix64: a tiny PRNG whose output is the same on every platform and
// build (<random>'s distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0 (the modulo bias is irrelevant here).
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  uint8_t byte() { return static_cast<uint8_t>(next()); }

 private:
  uint64_t state_;
};

// A shift of 1 is the commonest (three times in four), then 2, then 3..8.
int small_delta(Rng& rng) {
  const size_t r = rng.below(8);
  const int magnitude = r < 6 ? 1 : r == 6 ? 2 : 3 + static_cast<int>(rng.below(6));
  return rng.below(2) ? magnitude : -magnitude;
}

// value + delta within [lo, hi]; if that leaves the range, value - delta
// (so the result differs from value whenever the range has room).
int shift_within(int value, int delta, int lo, int hi) {
  int v = value + delta;
  if (v < lo || v > hi) v = value - delta;
  return std::clamp(v, lo, hi);
}

// ---- switch-list: (run length, action) pairs ------------------------------

ScheduleMutation mutate_switch_list(std::vector<uint8_t>& c, Rng& rng) {
  // A lone trailing run byte reads its action as 0 (exhausted): padding with
  // 0 keeps the schedule and makes every pair whole.
  if (c.size() % 2) c.push_back(0);
  const size_t pairs = c.size() / 2;
  const size_t roll = rng.below(100);
  ScheduleMutation m = roll < 50   ? ScheduleMutation::kShiftPreemption
                       : roll < 65 ? ScheduleMutation::kChangeAction
                       : roll < 80 ? ScheduleMutation::kInsertPreemption
                       : roll < 90 ? ScheduleMutation::kDeletePreemption
                                   : ScheduleMutation::kSwapPreemptions;
  if (pairs == 0 || (m == ScheduleMutation::kSwapPreemptions && pairs < 2)) m = ScheduleMutation::kInsertPreemption;
  switch (m) {
    case ScheduleMutation::kShiftPreemption: {
      // The strategy's run is 1 + byte % kMaxRun; write the canonical byte.
      uint8_t& len = c[2 * rng.below(pairs)];
      const int run = 1 + len % kSwitchListMaxRun;
      len = static_cast<uint8_t>(shift_within(run, small_delta(rng), 1, kSwitchListMaxRun) - 1);
      break;
    }
    case ScheduleMutation::kChangeAction: {
      uint8_t& action = c[2 * rng.below(pairs) + 1];
      action = static_cast<uint8_t>(action + 1 + rng.below(255));  // never the same byte
      break;
    }
    case ScheduleMutation::kInsertPreemption: {
      const size_t at = 2 * rng.below(pairs + 1);
      const uint8_t pair[2] = {static_cast<uint8_t>(rng.below(kSwitchListMaxRun)), rng.byte()};
      c.insert(c.begin() + static_cast<std::ptrdiff_t>(at), pair, pair + 2);
      break;
    }
    case ScheduleMutation::kDeletePreemption: {
      const auto at = c.begin() + static_cast<std::ptrdiff_t>(2 * rng.below(pairs));
      c.erase(at, at + 2);
      break;
    }
    case ScheduleMutation::kSwapPreemptions: {
      const size_t i = rng.below(pairs - 1);
      std::swap(c[2 * i], c[2 * i + 2]);
      std::swap(c[2 * i + 1], c[2 * i + 3]);
      break;
    }
    default: break;
  }
  return m;
}

// ---- PCT: permutation bytes, then 2-byte change points ---------------------

ScheduleMutation mutate_pct(Scenario& sc, Rng& rng) {
  std::vector<uint8_t>& c = sc.choices;
  const size_t perm_bytes = sc.tasks.size() - 1;
  const size_t change_points = static_cast<size_t>(sc.pct_depth - 1);
  // Exhausted reads are 0: padding to the full layout changes nothing.
  if (c.size() < perm_bytes + 2 * change_points) c.resize(perm_bytes + 2 * change_points, 0);
  if (change_points == 0 || rng.below(4) == 0) {
    for (size_t i = 0; i < perm_bytes; ++i) c[i] = rng.byte();
    return ScheduleMutation::kRedrawPriorities;
  }
  const int horizon = pct_horizon(total_ops(sc));
  const size_t at = perm_bytes + 2 * rng.below(change_points);
  const int point = 1 + (c[at] | c[at + 1] << 8) % horizon;  // as strategy_pct.cpp reads it
  const int shifted = shift_within(point, small_delta(rng), 1, horizon) - 1;
  c[at] = static_cast<uint8_t>(shifted);
  c[at + 1] = static_cast<uint8_t>(shifted >> 8);
  return ScheduleMutation::kShiftChangePoint;
}

}  // namespace

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
  Rng rng(seed);
  switch (sc.strategy) {
    case StrategyKind::kSwitchList: return mutate_switch_list(sc.choices, rng);
    case StrategyKind::kPct: return mutate_pct(sc, rng);
    case StrategyKind::kRandom:
      // strategy_random.cpp seeds its PRNG from the first 8 choice bytes.
      if (sc.choices.size() < 8) sc.choices.resize(8, 0);
      for (size_t i = 0; i < 8; ++i) sc.choices[i] = rng.byte();
      return ScheduleMutation::kRedrawSeed;
  }
  return ScheduleMutation::kRedrawSeed;
}

size_t mutate_schedule_bytes(uint8_t* data, size_t size, size_t max_size, uint64_t seed) {
  Scenario sc = decode_scenario(data, size);
  mutate_schedule(sc, seed);
  const std::vector<uint8_t> out = encode_scenario(sc);
  if (out.size() > max_size) return 0;
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

}  // namespace vmafuzz::fuzz
