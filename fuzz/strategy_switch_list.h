// strategy_switch_list.h - the switch-list strategy's run-time object and
// how it reads its choice bytes (its StrategyType, the canonical reading and
// the .sched text are in strategy_switch_list.cpp).
//
// In a header so that SimPlatform can keep one as a member and call its
// decide() directly, inlined, at every scheduling point (docs/BENCHMARKS.md,
// "Strategy reuse and devirtualisation").
#pragma once

#include <cstdint>

#include "fuzz/choice_source.h"
#include "fuzz/strategy.h"

namespace vmafuzz::fuzz {
namespace switch_list_detail {

// About one operation's worth of scheduling points: a preemption anywhere
// inside the next operation costs one choice pair; longer runs chain pairs
// (a switch to the running task is a continue).
inline constexpr int kMaxRun = kSwitchListMaxRun;

// The run length a run byte means.
inline int run_length(uint8_t byte) { return 1 + byte % kMaxRun; }

// action = group * n + k: groups 0-5 switch to task k (the next runnable one
// from k), group 6 wakes k spuriously, group 7 sends k SIGKILL.
inline constexpr int kGroupSwitch = 0;  // the canonical switch group (1-5 also switch)
inline constexpr int kGroupWake = 6;
inline constexpr int kGroupKill = 7;

struct Action {
  int group;  // kGroupSwitch, kGroupWake or kGroupKill
  int task;
};

inline Action decode_action(uint8_t action, int n) {
  const int group = (action / n) % 8;
  return {group == kGroupWake || group == kGroupKill ? group : kGroupSwitch, action % n};
}

}  // namespace switch_list_detail

class SwitchListStrategy final : public Strategy {
 public:
  void begin(int num_tasks, int /*total_ops*/, ChoiceSource& choices) override {
    num_tasks_ = num_tasks;
    load_next(choices);
  }

  // Always inlined where the type is known (SimPlatform): GCC would not.
  __attribute__((always_inline)) Decision decide(const SchedulerView& v, ChoiceSource& choices) override {
    if (v.current < 0) return {Decision::Kind::kSwitch, next_in_set(v.runnable, last_ + 1, num_tasks_)};
    last_ = v.current;
    if (!armed_ || --countdown_ > 0) return {Decision::Kind::kContinue};
    const switch_list_detail::Action a = switch_list_detail::decode_action(action_, num_tasks_);
    load_next(choices);
    if (a.group == switch_list_detail::kGroupWake) return {Decision::Kind::kSpuriousWake, a.task};
    if (a.group == switch_list_detail::kGroupKill) return {Decision::Kind::kKill, a.task};
    const int target = next_in_set(v.runnable, a.task, num_tasks_);
    return {target == v.current ? Decision::Kind::kContinue : Decision::Kind::kSwitch, target};
  }

 private:
  void load_next(ChoiceSource& choices) {
    armed_ = !choices.exhausted();
    countdown_ = switch_list_detail::run_length(choices.next_byte());
    action_ = choices.next_byte();
  }

  int num_tasks_ = 0;
  int last_ = -1;
  bool armed_ = false;
  int countdown_ = 0;
  uint8_t action_ = 0;
};

}  // namespace vmafuzz::fuzz
