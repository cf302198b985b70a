// platform.h - the seam between the model and what runs it.
//
// Every access to a shared word of the model and every sleep goes through a
// Platform. Two implementations exist:
//   - native (core/native_platform.h): real threads, std::atomic with the
//     kernel's memory orders (strengthened where docs/MODEL.md says), parking on a per-task mutex/condvar;
//   - sim (fuzz/): one fiber per task on one OS thread; every shared access
//     first yields to the deterministic scheduler, and schedule() parks the
//     fiber until wake_up_state() (or a fatal signal, for a killable sleep).
// The core never decides scheduling itself, and never sees bytes or clocks.
#pragma once

#include <cstdint>

namespace vmafuzz::core {

struct task_struct;

// Which shared word an access touches (for traces and interleaving features).
enum class SharedWordKind : uint8_t {
  kVmRefcnt,      // vma->vm_refcnt
  kVmLockSeq,     // vma->vm_lock_seq
  kMmLockSeq,     // mm->mm_lock_seq.sequence
  kRcuwaitTask,   // mm->vma_writer_wait.task
  kTaskState,     // task->__state
  kSignal,        // task->fatal_signal_pending
  kRwsemCount,    // mm->mmap_lock.count
  kRwsemWaiter,   // an rwsem waiter's hand-off flag
  kMmCount,       // mm->mm_count
  kMmTree,        // mm->mm_mt root (the per-mm VMA lookup)
  kSpinlock,      // a raw spinlock acquisition
  kOther,
  kMaxValue = kOther,
};

enum class AccessKind : uint8_t { kLoad, kStore, kRmw, kCmpxchg, kMaxValue = kCmpxchg };

// The C++ memory order of an access (std::memory_order's value, 0..5), and
// for a cmpxchg whether it failed (then it was a load with its failure order).
inline constexpr uint8_t kOrderMask = 0x7;
inline constexpr uint8_t kCmpxchgFailed = 0x8;

// Describes one shared access at its scheduling point.
struct SharedAccess {
  const void* word;
  SharedWordKind kind;
  AccessKind access;
  uint8_t order = 0;  // for the sim's happens-before tracker (fuzz/hb_tracker.h); native ignores it
};

// Plain (non-atomic) shared data the happens-before tracker checks for races:
// the VMA payload fields.
enum class PlainField : uint8_t { kVmStart, kVmEnd, kVmFlags, kAnonVma, kVmPolicy, kMaxValue = kVmPolicy };
// kAlloc: the object was just taken from its cache (kmem_cache_alloc orders
// the previous owner's accesses before the new owner's); its history ends.
enum class PlainOp : uint8_t { kRead, kWrite, kAlloc };

// Task states (include/linux/sched.h). TASK_KILLABLE wakes on fatal signals.
inline constexpr unsigned TASK_RUNNING = 0x0000;
inline constexpr unsigned TASK_INTERRUPTIBLE = 0x0001;
inline constexpr unsigned TASK_UNINTERRUPTIBLE = 0x0002;
inline constexpr unsigned TASK_WAKEKILL = 0x0100;
inline constexpr unsigned TASK_KILLABLE = TASK_WAKEKILL | TASK_UNINTERRUPTIBLE;
inline constexpr unsigned TASK_NORMAL = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;

class Platform {
 public:
  virtual ~Platform() = default;

  // A scheduling point: called before every access to a shared word. The sim
  // may switch to another task here; the native platform does nothing.
  virtual void scheduling_point(const SharedAccess& access) = 0;

  // Called after the access with the word's value before and after it, when
  // access_values is set (traces, reads-from features). A member, not a
  // virtual call, as weak_loads below: it is read at every access.
  bool access_values = false;
  virtual void access_done(const SharedAccess& /*access*/, uint64_t /*before*/, uint64_t /*after*/) {}

  // Not scheduling points; for the sim's happens-before race oracle only:
  // a std::atomic_thread_fence of the running task (core_fence(), shared_word.h);
  virtual void fence(uint8_t /*order*/) {}
  // an atomic access made inside a raw spinlock section (shared_word::raw_*);
  virtual void raw_access(const SharedAccess& /*access*/) {}
  // a plain access to a VMA payload field (or kAlloc of the whole object).
  virtual void plain_access(const void* /*object*/, PlainField /*field*/, PlainOp /*op*/) {}
  // plain_access() of every payload field in order (payload_access_all()):
  // one call, so that the sim does its per-call work once.
  virtual void plain_access_all(const void* object, PlainOp op) {
    for (int f = 0; f <= static_cast<int>(PlainField::kMaxValue); ++f) plain_access(object, static_cast<PlainField>(f), op);
  }

  // C11 mode (the sim's --memory-model c11, fuzz/store_history.h): when
  // weak_loads is set, shared_word::load() returns weak_load(), the value of
  // the store the load reads (`latest`: the word's value now). A member, not
  // a virtual call, so that SC runs pay one test per load.
  bool weak_loads = false;

  // Every task runs on one OS thread (the sim's fibers): the Kernel's own
  // mutexes (allocation, RCU bookkeeping) guard nothing and are not taken.
  bool one_thread = false;
  virtual uint64_t weak_load(const SharedAccess& /*access*/, uint64_t latest) { return latest; }

  // The running task (the kernel's `current`). Never null inside a task.
  virtual task_struct* current_or_null() = 0;
  // A platform that sets current_known keeps current_or_null()'s answer in
  // current_task, and core::current() reads it without a virtual call.
  bool current_known = false;
  task_struct* current_task = nullptr;

  // Sleep according to current->__state (kernel/sched/core.c __schedule):
  // return at once if the state is TASK_RUNNING, or if it has TASK_WAKEKILL and
  // a fatal signal is pending; otherwise park until wake_up_state() sets it to
  // TASK_RUNNING. The sim may also return spuriously. On return the state is
  // TASK_RUNNING.
  virtual void schedule() = 0;

  // try_to_wake_up(): if p->__state & state, set it to TASK_RUNNING and make p
  // runnable; returns whether p was woken. Not a scheduling point.
  virtual bool wake_up_state(task_struct* p, unsigned state) = 0;
};

}  // namespace vmafuzz::core
