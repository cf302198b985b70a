// strategy.cpp - task-set helpers (the factory is the registry's: strategy_registry.cpp).
#include "fuzz/strategy.h"

namespace vmafuzz::fuzz {

int next_in_set(TaskSet set, int from, int num_tasks) {
  for (int i = 0; i < num_tasks; ++i) {
    const int t = (from + i) % num_tasks;
    if (set >> t & 1) return t;
  }
  return -1;
}

}  // namespace vmafuzz::fuzz
