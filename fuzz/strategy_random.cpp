// strategy_random.cpp - a uniformly random runnable task at every scheduling point.
//
// The seed (8 choice bytes) drives a splitmix64 generator, so the whole run is
// a function of the input. Used as the "scheduler alone, random schedules"
// baseline; fuzzing favours the switch list.
#include "fuzz/strategy.h"

namespace vmafuzz::fuzz {
namespace {

class RandomStrategy final : public Strategy {
 public:
  void begin(int num_tasks, int /*total_ops*/, ChoiceSource& choices) override {
    num_tasks_ = num_tasks;
    state_ = static_cast<uint64_t>(choices.next_bytes(4)) | static_cast<uint64_t>(choices.next_bytes(4)) << 32;
  }

  Decision decide(const SchedulerView& v, ChoiceSource&) override {
    int n = 0;
    for (int t = 0; t < v.num_tasks; ++t) n += v.runnable >> t & 1;
    int pick = static_cast<int>(next() % static_cast<uint64_t>(n));
    for (int t = 0; t < v.num_tasks; ++t) {
      if (!(v.runnable >> t & 1)) continue;
      if (pick-- == 0) return {t == v.current ? Decision::Kind::kContinue : Decision::Kind::kSwitch, t};
    }
    return {Decision::Kind::kContinue};
  }

 private:
  uint64_t next() {  // splitmix64
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  int num_tasks_ = 0;
  uint64_t state_ = 0;
};

}  // namespace

std::unique_ptr<Strategy> make_random_strategy() { return std::make_unique<RandomStrategy>(); }

}  // namespace vmafuzz::fuzz
