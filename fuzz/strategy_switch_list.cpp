// strategy_switch_list.cpp - explicit preemptions: (run length, action) pairs.
//
// Each choice pair says "let the current task run `len` (1..kMaxRun) more
// scheduling points, then do `action`": switch to task k, spuriously wake task k, or send
// task k SIGKILL. This is an explicit choice at every scheduling point biased
// to "continue" (a preemption costs two bytes, a run of continues costs none),
// so schedules with few preemptions - where most bugs are - are cheap to find
// and mutate. Exhausted choices mean: never preempt again; forced picks take
// the next runnable task in pid order.
#include "fuzz/strategy.h"

namespace vmafuzz::fuzz {
namespace {

// About one operation's worth of scheduling points: a preemption anywhere
// inside the next operation costs one choice pair; longer runs chain pairs
// (a switch to the running task is a continue).
constexpr int kMaxRun = kSwitchListMaxRun;

class SwitchListStrategy final : public Strategy {
 public:
  void begin(int num_tasks, int /*total_ops*/, ChoiceSource& choices) override {
    num_tasks_ = num_tasks;
    load_next(choices);
  }

  Decision decide(const SchedulerView& v, ChoiceSource& choices) override {
    if (v.current < 0) return {Decision::Kind::kSwitch, next_in_set(v.runnable, last_ + 1, num_tasks_)};
    last_ = v.current;
    if (!armed_ || --countdown_ > 0) return {Decision::Kind::kContinue};
    const uint8_t action = action_;
    load_next(choices);
    // action = group * n + k: groups 0-5 switch to task k (the next runnable
    // one from k), group 6 wakes k spuriously, group 7 sends k SIGKILL.
    const int n = num_tasks_;
    const int k = action % n;
    const int group = (action / n) % 8;
    if (group == 6) return {Decision::Kind::kSpuriousWake, k};
    if (group == 7) return {Decision::Kind::kKill, k};
    const int target = next_in_set(v.runnable, k, n);
    return {target == v.current ? Decision::Kind::kContinue : Decision::Kind::kSwitch, target};
  }

 private:
  void load_next(ChoiceSource& choices) {
    armed_ = !choices.exhausted();
    countdown_ = 1 + choices.next_byte() % kMaxRun;
    action_ = choices.next_byte();
  }

  int num_tasks_ = 0;
  int last_ = -1;
  bool armed_ = false;
  int countdown_ = 0;
  uint8_t action_ = 0;
};

}  // namespace

std::unique_ptr<Strategy> make_switch_list_strategy() { return std::make_unique<SwitchListStrategy>(); }

}  // namespace vmafuzz::fuzz
