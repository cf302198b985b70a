// strategy_pct.cpp - Probabilistic Concurrency Testing.
//
// Burckhardt, Kothari, Musuvathi, Nagarakatte: "A Randomized Scheduler with
// Probabilistic Guarantees of Finding Bugs", ASPLOS 2010. Each task gets a
// distinct initial priority > d; the highest-priority runnable task always
// runs; at d - 1 change points (step numbers) the running task's priority drops
// to i (1 <= i < d). A bug of depth d is found with probability >= 1/(n k^(d-1)).
// Departures: priorities and change points come from the ChoiceSource (so the
// fuzzer, not a PRNG, chooses them), and k - the step horizon change points are
// drawn from - is estimated from the program length (pct_horizon():
// kPctStepsPerOp per operation) rather than measured in a previous run.
#include <algorithm>
#include <array>

#include "fuzz/strategy.h"

namespace vmafuzz::fuzz {
namespace {

constexpr int kMaxDepth = 4;

class PctStrategy final : public Strategy {
 public:
  explicit PctStrategy(int depth) : depth_(std::clamp(depth, 1, kMaxDepth)) {}

  void begin(int num_tasks, int total_ops, ChoiceSource& choices) override {
    num_tasks_ = num_tasks;
    const int horizon = pct_horizon(total_ops);
    // A random permutation of d+1 .. d+n by Fisher-Yates over choice bytes.
    for (int i = 0; i < num_tasks; ++i) priority_[i] = depth_ + 1 + i;
    for (int i = num_tasks - 1; i > 0; --i) std::swap(priority_[i], priority_[choices.next_byte() % (i + 1)]);
    // invariant: change_points_ has depth_ - 1 entries, each in [1, horizon].
    for (int i = 0; i < depth_ - 1; ++i) change_points_[i] = 1 + choices.next_bytes(2) % horizon;
  }

  Decision decide(const SchedulerView& v, ChoiceSource&) override {
    if (v.current >= 0) {
      for (int i = 0; i < depth_ - 1; ++i) {
        if (change_points_[i] == v.step) priority_[v.current] = i + 1;  // lower than every initial priority
      }
    }
    int best = -1;
    for (int t = 0; t < v.num_tasks; ++t) {
      if ((v.runnable >> t & 1) && (best < 0 || priority_[t] > priority_[best])) best = t;
    }
    if (best == v.current) return {Decision::Kind::kContinue};
    return {Decision::Kind::kSwitch, best};
  }

 private:
  const int depth_;
  int num_tasks_ = 0;
  std::array<int, kMaxTasks> priority_{};
  std::array<uint64_t, kMaxDepth> change_points_{};
};

}  // namespace

std::unique_ptr<Strategy> make_pct_strategy(int depth) { return std::make_unique<PctStrategy>(depth); }

}  // namespace vmafuzz::fuzz
