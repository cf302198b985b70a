// strategy_pct.h - the PCT strategy's run-time object (its StrategyType, the
// canonical reading and the .sched text are in strategy_pct.cpp).
//
// In a header so that SimPlatform can keep one as a member and call its
// decide() directly, inlined, at every scheduling point (docs/BENCHMARKS.md,
// "Strategy reuse and devirtualisation").
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "fuzz/choice_source.h"
#include "fuzz/scenario.h"
#include "fuzz/strategy.h"

namespace vmafuzz::fuzz {
namespace pct_detail {

inline constexpr int kMaxDepth = 4;

// What begin() reads, in its order: a random permutation of d+1 .. d+n by
// Fisher-Yates over choice bytes, then d - 1 change points in [1, horizon].
struct PctDraw {
  std::array<int, kMaxTasks> priority{};       // per task
  std::array<int, kMaxDepth> change_points{};  // depth - 1 used
};

PctDraw draw(int num_tasks, int depth, int horizon, ChoiceSource& choices);

}  // namespace pct_detail

class PctStrategy final : public Strategy {
 public:
  explicit PctStrategy(int depth) : depth_(std::clamp(depth, 1, pct_detail::kMaxDepth)) {}

  void begin(int num_tasks, int total_ops, ChoiceSource& choices) override {
    // invariant: change points 0 .. depth_ - 2 are in [1, horizon].
    d_ = pct_detail::draw(num_tasks, depth_, pct_horizon(total_ops), choices);
  }

  Decision decide(const SchedulerView& v, ChoiceSource&) override {
    if (v.current >= 0) {
      for (int i = 0; i < depth_ - 1; ++i) {
        // Lower than every initial priority.
        if (static_cast<uint64_t>(d_.change_points[i]) == v.step) d_.priority[v.current] = i + 1;
      }
    }
    int best = -1;
    for (int t = 0; t < v.num_tasks; ++t) {
      if ((v.runnable >> t & 1) && (best < 0 || d_.priority[t] > d_.priority[best])) best = t;
    }
    if (best == v.current) return {Decision::Kind::kContinue};
    return {Decision::Kind::kSwitch, best};
  }

 private:
  int depth_;  // not const: SimPlatform assigns a fresh one per run
  pct_detail::PctDraw d_;
};

}  // namespace vmafuzz::fuzz
