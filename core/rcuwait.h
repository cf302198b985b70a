// rcuwait.h - a single-waiter wait object (models include/linux/rcuwait.h and
// rcuwait_wake_up() in kernel/exit.c).
//
// The waiter publishes itself, then loops: set state (full barrier), test the
// condition, test for a signal, schedule(). The waker changes the condition,
// issues a full barrier and wakes whatever task it then sees published. This is
// the store-buffer handshake (docs/MODEL.md): either the waiter sees the new
// condition or the waker sees the waiter. Both fences are kept.
#pragma once

#include "core/errno.h"
#include "core/model_fn.h"
#include "core/task.h"

namespace vmafuzz::core {

struct rcuwait {
  shared_word<task_struct*> task{SharedWordKind::kRcuwaitTask, nullptr};
};

// rcuwait_init(). Not a scheduling point (the object is not yet shared).
inline void rcuwait_init(rcuwait* w) { w->task.raw_store(nullptr, std::memory_order_relaxed); }

// prepare_to_rcuwait(): rcu_assign_pointer(w->task, current). Scheduling point.
void prepare_to_rcuwait(rcuwait* w);
// finish_rcuwait(): w->task = NULL; __set_current_state(TASK_RUNNING).
void finish_rcuwait(rcuwait* w);

// rcuwait_wake_up(): rcu_read_lock; smp_mb; wake w->task if set.
// Return: whether a task was woken. Context: any task; scheduling points.
bool rcuwait_wake_up(rcuwait* w);

// rcuwait_wait_event(w, condition, state): sleep in `state` until condition()
// holds. The condition is tested before the signal, so a condition that became
// true together with a fatal signal gives 0.
// Return: 0, or -EINTR if state allows a pending fatal signal to end the wait.
template <class Condition>
[[nodiscard]] int rcuwait_wait_event(rcuwait* w, Condition condition, unsigned state) {
  VMAFUZZ_MODEL_FN();
  int ret = 0;
  prepare_to_rcuwait(w);
  for (;;) {
    set_current_state(state);  // barrier A: pairs with the smp_mb in rcuwait_wake_up()
    if (condition()) break;
    if (signal_pending_state(state, current())) {
      ret = -EINTR;
      break;
    }
    schedule();
  }
  finish_rcuwait(w);
  return ret;
}

}  // namespace vmafuzz::core
