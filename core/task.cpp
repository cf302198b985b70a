// task.cpp - task state, schedule() and fatal signals (kernel/sched/core.c, kernel/signal.c).
#include "core/task.h"

#include "core/inject.h"
#include "core/kernel.h"

namespace vmafuzz::core {

void set_current_state(unsigned state) {
  // smp_store_mb(): WRITE_ONCE, then smp_mb(), which orders the waiter's
  // earlier stores (prepare_to_rcuwait()'s task pointer) before the condition
  // check that follows (barrier A of the store-buffer handshake).
  current()->__state.store(state, std::memory_order_relaxed);
  if (!bug_injected(Bug::set_current_state_no_mb)) core_fence(std::memory_order_seq_cst);  // BUG (mutant): no A
}

void __set_current_state(unsigned state) { current()->__state.store(state, std::memory_order_relaxed); }

void schedule() { kernel().platform().schedule(); }

bool wake_up_process(task_struct* p) { return wake_up_state(p, TASK_NORMAL); }

bool wake_up_state(task_struct* p, unsigned state) { return kernel().platform().wake_up_state(p, state); }

bool fatal_signal_pending(task_struct* p) { return p->fatal_signal.load(std::memory_order_seq_cst); }

bool signal_pending_state(unsigned state, task_struct* p) {
  if (!(state & (TASK_INTERRUPTIBLE | TASK_WAKEKILL))) return false;
  return fatal_signal_pending(p);
}

void send_sigkill(task_struct* p) {
  p->fatal_signal.store(true, std::memory_order_seq_cst);
  // signal_wake_up(p, 1): a fatal signal wakes TASK_WAKEKILL sleepers.
  wake_up_state(p, TASK_WAKEKILL | TASK_INTERRUPTIBLE);
}

}  // namespace vmafuzz::core
