// task.h - task_struct, task state, schedule() and fatal signals
// (models include/linux/sched.h, include/linux/sched/signal.h, kernel/sched/core.c).
//
// A task is a thread (native) or a fiber (sim). Its __state and its fatal
// signal flag are shared words: the waker and the signal sender write them.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/lockdep.h"
#include "core/platform.h"
#include "core/shared_word.h"

namespace vmafuzz::core {

// Model ghost state: what a task sleeping in schedule() waits for, so that a
// deterministic scheduler can tell a lost wake-up (the condition holds but
// nobody woke the task) from a deadlock when no task can run. Set by the
// sleeper for the duration of its wait loop; the kernel has no such field.
struct wait_site {
  const char* what = nullptr;  // e.g. "vma_writer_wait"
  // Side-effect free (peeks; no scheduling point).
  bool (*condition_holds)(const void* obj, uintptr_t arg) = nullptr;
  const void* obj = nullptr;
  uintptr_t arg = 0;
  friend bool operator==(const wait_site&, const wait_site&) = default;
};

struct task_struct {
  explicit task_struct(int pid_, std::string_view comm_) : pid(pid_), comm(comm_) {}
  task_struct(const task_struct&) = delete;
  task_struct& operator=(const task_struct&) = delete;

  const int pid;          // 0, 1, 2... in creation order (stable across runs)
  const std::string comm;

  shared_word<unsigned> __state{SharedWordKind::kTaskState, TASK_RUNNING};
  // SIGKILL delivered and not yet handled (__fatal_signal_pending()).
  shared_word<bool> fatal_signal{SharedWordKind::kSignal, false};

  // RCU read-side nesting (task-local in the kernel; atomic only so that the
  // grace-period bookkeeping may read it from another thread, never a
  // scheduling point).
  std::atomic<int> rcu_read_lock_nesting{0};

  lockdep_task_state lockdep;  // held locks (ghost ownership)
  wait_site waiting_for;       // valid while in a wait loop (ghost)

  void* platform_data = nullptr;  // owned by the Platform that runs this task
};

// The running task (the kernel's `current`). Context: inside a task.
// Inline, through the running platform pointer (as shared_word reaches it):
// the model asks at nearly every step. Checked as kernel() is.
// A task's fields as Kernel::save_state() keeps them and restore_state()
// puts them back. pid and comm are const: a restore checks (asserting builds)
// that the object is the task saved. Only the held locks below the depth are
// kept: only they are ever read (lockdep_task_state).
struct task_saved {
  int pid = -1;
  std::string comm;
  unsigned state = 0;
  bool fatal_signal = false;
  int rcu_read_lock_nesting = 0;
  int lockdep_depth = 0;
  std::array<held_lock, kMaxLockDepth> held{};
  wait_site waiting_for;
  void* platform_data = nullptr;
  friend bool operator==(const task_saved&, const task_saved&) = default;
};
void task_save(const task_struct& t, task_saved& s);
void task_restore(task_struct& t, const task_saved& s);

inline task_struct* current() {
#ifndef NDEBUG
  if (!detail::g_running_platform) detail::no_running_kernel();
#endif
  Platform& p = *detail::g_running_platform;
  return p.current_known ? p.current_task : p.current_or_null();
}

// set_current_state(): state store plus a full barrier (smp_store_mb).
// Scheduling point.
void set_current_state(unsigned state);
// __set_current_state(): plain store, no barrier. Scheduling point.
void __set_current_state(unsigned state);

// schedule(): sleep per current->__state; see Platform::schedule().
void schedule();

// wake_up_process()/wake_up_state(): wake p if its state matches.
// Return: true if p was woken. Context: any; not a scheduling point.
bool wake_up_process(task_struct* p);
bool wake_up_state(task_struct* p, unsigned state);

// __fatal_signal_pending(p). Scheduling point.
bool fatal_signal_pending(task_struct* p);
// signal_pending_state(): does `state` let a pending signal of p end the sleep?
// Only fatal signals exist in the model. Scheduling point.
bool signal_pending_state(unsigned state, task_struct* p);

// Deliver SIGKILL to p (send_sig(SIGKILL, p, 1)): mark it pending, then wake
// p if it sleeps killably (signal_wake_up). Scheduling point.
void send_sigkill(task_struct* p);

}  // namespace vmafuzz::core
