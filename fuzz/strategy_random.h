// strategy_random.h - the random strategy's run-time object (its StrategyType
// is in strategy_random.cpp).
//
// In a header so that SimPlatform can keep one as a member and call its
// decide() directly, inlined, at every scheduling point (docs/BENCHMARKS.md,
// "Strategy reuse and devirtualisation").
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "fuzz/choice_source.h"
#include "fuzz/scenario.h"
#include "fuzz/splitmix64.h"
#include "fuzz/strategy.h"

namespace vmafuzz::fuzz {

// std::popcount of a task set. Without -mpopcnt std::popcount is a dozen
// instructions; a set of kMaxTasks (4) tasks is a table lookup.
inline size_t random_task_count(TaskSet s) {
  static_assert(kMaxTasks <= 4);
  static constexpr uint8_t kCount[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
  return s < 16 ? kCount[s] : static_cast<size_t>(std::popcount(s));
}

// The index of the k-th (from 0) task of a set of kMaxTasks (4) tasks, k <
// its count: a table lookup, where clearing the lowest bit k times was a
// loop the compiler unrolled, and a bit scan.
inline int random_kth_task(TaskSet s, size_t k) {
  static_assert(kMaxTasks <= 4);
  static constexpr auto kTask = [] {
    std::array<std::array<int8_t, 4>, 16> table{};
    for (uint32_t set = 0; set < 16; ++set) {
      int k = 0;
      for (int8_t t = 0; t < 4; ++t) {
        if (set >> t & 1) table[set][static_cast<size_t>(k++)] = t;
      }
    }
    return table;
  }();
  return kTask[s][k];
}

// What begin() reads: the low word first.
inline uint64_t read_random_seed(ChoiceSource& choices) {
  const uint64_t lo = choices.next_bytes(4);
  return lo | static_cast<uint64_t>(choices.next_bytes(4)) << 32;
}

class RandomStrategy final : public Strategy {
 public:
  void begin(int /*num_tasks*/, int /*total_ops*/, ChoiceSource& choices) override {
    rng_ = SplitMix64(read_random_seed(choices));
  }

  Decision decide(const SchedulerView& v, ChoiceSource&) override {
    // The pick-th runnable task in index order (runnable has no bit at or
    // above num_tasks).
    const TaskSet r = v.runnable;
    if (r == 0) return {Decision::Kind::kContinue};
    const int t = random_kth_task(r, rng_.below(random_task_count(r)));
    return {t == v.current ? Decision::Kind::kContinue : Decision::Kind::kSwitch, t};
  }

 private:
  SplitMix64 rng_;
};

}  // namespace vmafuzz::fuzz
