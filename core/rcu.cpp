// rcu.cpp - RCU read side and grace-period bookkeeping (kernel/rcu, reduced).
#include "core/rcu.h"

#include <algorithm>

#include "core/kernel.h"
#include "core/report.h"
#include "core/task.h"

namespace vmafuzz::core {

void rcu_read_lock() { current()->rcu_read_lock_nesting.fetch_add(1, std::memory_order_relaxed); }

void rcu_read_unlock() {
  task_struct* t = current();
  const int depth = t->rcu_read_lock_nesting.load(std::memory_order_relaxed);
  if (depth <= 0) {
    core_report(ReportSite::rcu_read_unlock_unbalanced);
    return;
  }
  t->rcu_read_lock_nesting.store(depth - 1, std::memory_order_relaxed);
  if (depth == 1) kernel().rcu_quiescent_state(t);
}

bool rcu_read_lock_held() { return current()->rcu_read_lock_nesting.load(std::memory_order_relaxed) > 0; }

int rcu_read_lock_depth(const task_struct* t) { return t->rcu_read_lock_nesting.load(std::memory_order_relaxed); }

void call_rcu_free(rcu_head* head) { kernel().rcu_retire(head); }

bool rcu_head_freed(const rcu_head* head) { return kernel().rcu_is_freed(head); }

}  // namespace vmafuzz::core
