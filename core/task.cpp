// task.cpp - task state, schedule() and fatal signals (kernel/sched/core.c, kernel/signal.c).
#include "core/task.h"

#include "core/inject.h"
#include "core/kernel.h"

namespace vmafuzz::core {

namespace {
// task_struct's members, in order: a member added to task_struct changes its
// size, and this assert then asks for it to be saved and restored too.
struct task_struct_members {
  int pid;
  std::string comm;
  shared_word<unsigned> state;
  shared_word<bool> fatal_signal;
  std::atomic<int> rcu_read_lock_nesting;
  lockdep_task_state lockdep;
  wait_site waiting_for;
  void* platform_data;
};
static_assert(sizeof(task_struct) == sizeof(task_struct_members), "a new task_struct member: add it to task_saved");
}  // namespace

void task_save(const task_struct& t, task_saved& s) {
  s.pid = t.pid;
  s.comm = t.comm;
  s.state = t.__state.peek();
  s.fatal_signal = t.fatal_signal.peek();
  s.rcu_read_lock_nesting = t.rcu_read_lock_nesting.load(std::memory_order_relaxed);
  s.lockdep_depth = t.lockdep.depth;
  s.held = {};
  for (int i = 0; i < t.lockdep.depth; ++i) s.held[static_cast<size_t>(i)] = t.lockdep.held[static_cast<size_t>(i)];
  s.waiting_for = t.waiting_for;
  s.platform_data = t.platform_data;
}

void task_restore(task_struct& t, const task_saved& s) {
#ifndef NDEBUG
  if (t.pid != s.pid || t.comm != s.comm) harness_bug("task_restore: not the task saved");
#endif
  t.__state.restore(s.state);
  t.fatal_signal.restore(s.fatal_signal);
  t.rcu_read_lock_nesting.store(s.rcu_read_lock_nesting, std::memory_order_relaxed);
  t.lockdep.depth = s.lockdep_depth;
  for (int i = 0; i < s.lockdep_depth; ++i) t.lockdep.held[static_cast<size_t>(i)] = s.held[static_cast<size_t>(i)];
  t.waiting_for = s.waiting_for;
  t.platform_data = s.platform_data;
}

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
