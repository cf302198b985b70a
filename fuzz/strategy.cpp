// strategy.cpp - the strategy factory and task-set helpers.
#include "fuzz/strategy.h"

namespace vmafuzz::fuzz {

std::unique_ptr<Strategy> make_switch_list_strategy();
std::unique_ptr<Strategy> make_pct_strategy(int depth);
std::unique_ptr<Strategy> make_random_strategy();

std::unique_ptr<Strategy> make_strategy(StrategyKind kind, int pct_depth) {
  switch (kind) {
    case StrategyKind::kSwitchList: return make_switch_list_strategy();
    case StrategyKind::kPct: return make_pct_strategy(pct_depth);
    case StrategyKind::kRandom: return make_random_strategy();
  }
  return make_switch_list_strategy();
}

int next_in_set(TaskSet set, int from, int num_tasks) {
  for (int i = 0; i < num_tasks; ++i) {
    const int t = (from + i) % num_tasks;
    if (set >> t & 1) return t;
  }
  return -1;
}

}  // namespace vmafuzz::fuzz
