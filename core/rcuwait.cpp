// rcuwait.cpp - rcuwait (include/linux/rcuwait.h, kernel/exit.c rcuwait_wake_up()).
#include "core/rcuwait.h"
#include "core/inject.h"
#include "core/model_fn.h"

#include "core/rcu.h"

namespace vmafuzz::core {

// rcu_assign_pointer(): a release store.
void prepare_to_rcuwait(rcuwait* w) { w->task.store(current(), std::memory_order_release); }

void finish_rcuwait(rcuwait* w) {
  VMAFUZZ_MODEL_FN();
  w->task.store(nullptr, std::memory_order_release);
  __set_current_state(TASK_RUNNING);
}

bool rcuwait_wake_up(rcuwait* w) {
  VMAFUZZ_MODEL_FN();
  bool woken = false;
  rcu_read_lock();
  // Barrier B: orders the caller's condition change (its refcount RMW) before
  // the load of w->task; pairs with barrier A in set_current_state().
  if (!bug_injected(Bug::rcuwait_wake_up_no_mb)) core_fence(std::memory_order_seq_cst);  // BUG (mutant): no B
  // rcu_dereference(): consume, modelled as acquire.
  if (task_struct* t = w->task.load(std::memory_order_acquire)) woken = wake_up_process(t);
  rcu_read_unlock();
  return woken;
}

}  // namespace vmafuzz::core
