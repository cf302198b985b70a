// oracles.cpp - the harness oracles (see oracles.h).
#include "fuzz/oracles.h"

#include <algorithm>

#include "core/lockdep.h"
#include "core/rcu.h"
#include "core/report.h"
#include "core/rwsem.h"
#include "core/vma.h"
#include "fuzz/harness_section.h"

namespace vmafuzz::fuzz {

using core::LockClass;
using core::LockMode;
using core::VM_REFCNT_EXCLUDE_READERS_FLAG;

Oracles::Oracles() {
  for (int t = 0; t < kMaxTasks; ++t) {
    observers_[static_cast<size_t>(t)].oracles = this;
    observers_[static_cast<size_t>(t)].task = t;
  }
}

core::CallerObserver* Oracles::observer(int task) { return &observers_.at(static_cast<size_t>(task)); }

void Oracles::TaskObserver::on_detached(const core::vm_area_struct* vma) {
  HarnessSection harness;  // the oracle reads other tasks' ghost state
  oracles->on_detached(task, vma);
}

void Oracles::TaskObserver::after_vma_start_write(const core::vm_area_struct* vma, int ret) {
  HarnessSection harness;
  oracles->after_vma_start_write(task, vma, ret);
}

void Oracles::TaskObserver::after_lock_vma_under_rcu(unsigned long address, const core::vm_area_struct* vma) {
  HarnessSection harness;
  oracles->after_lock_vma_under_rcu(task, address, vma);
}

void Oracles::begin(const OracleView* view) {
  view_ = view;
  if (view->num_tasks > kMaxTasks || view->contexts.size() < static_cast<size_t>(view->num_tasks)) {
    core::harness_bug("oracle view out of bounds");
  }
  for (size_t t = 0; t < kMaxTasks; ++t) {
    vma_read_[t] = t < static_cast<size_t>(view->num_tasks) ? &view->contexts[t]->locks.vma_read : &kNoVma;
  }
  hit_.reset();
  released_.assign(static_cast<size_t>(view->num_tasks), nullptr);
}

// Called by on_vma_access() for a VMA's word when the task released that VMA
// or the access is a -1 on its vm_refcnt (on_vma_access tests both inline).
void Oracles::vma_access_checks(int task, const core::vm_area_struct* vma, const core::SharedAccess& a,
                                uint64_t before, uint64_t after) {
  const core::vm_area_struct*& released = released_[static_cast<size_t>(task)];
  // Under its mm's mmap_lock the VMA cannot go away: a task holding it may touch it.
  const core::task_struct* ts = view_->tasks[static_cast<size_t>(task)];
  if (released == vma && !core::lock_is_held_by(ts, &vma->vm_mm->mmap_lock)) {
    fire(OracleId::kTouchedAfterPut, task, vma, std::string(a.kind == core::SharedWordKind::kVmRefcnt ? "vm_refcnt" : "vm_lock_seq"));
    return;
  }
  // A reader's put: -1 on vm_refcnt by a task that does not hold the mmap write
  // lock (the detaching writer's decrement is followed by legal accesses).
  if (is_refcnt_decrement(a, before, after) && !core::task_holds_lock(ts, &vma->vm_mm->mmap_lock, LockMode::kExclusive)) {
    released = vma;
  }
}

void Oracles::fire(OracleId oracle, int task, const core::vm_area_struct* vma, std::string detail) {
  if (!hit_ && !(disabled_ >> static_cast<unsigned>(oracle) & 1)) hit_ = OracleHit{oracle, task, vma, std::move(detail)};
}

bool Oracles::mm_write_held(const core::mm_struct* mm) const {
  for (core::task_struct* t : view_->tasks) {
    if (core::task_holds_lock(t, &mm->mmap_lock, LockMode::kExclusive)) return true;
  }
  return false;
}

void Oracles::access_checks(int task, const core::SharedAccess& a, uint64_t before, uint64_t after) {
  switch (a.kind) {
    case core::SharedWordKind::kVmRefcnt: {
      // A +1 that sets the flag bit can only be a reader going past LIMIT
      // (writers add the whole flag; the limited increment refuses this).
      const auto b = static_cast<uint32_t>(before);
      const auto n = static_cast<uint32_t>(after);
      if (!(b & VM_REFCNT_EXCLUDE_READERS_FLAG) && n == b + 1 && (n & VM_REFCNT_EXCLUDE_READERS_FLAG)) {
        fire(OracleId::kReaderPastLimit, task, nullptr, "");
      }
      break;
    }
    case core::SharedWordKind::kMmLockSeq:
    case core::SharedWordKind::kRwsemCount:
      // The sequence becomes odd only after down_write and even before
      // up_write: checked when either word changes.
      if (before != after) check_seq_parity();
      break;
    case core::SharedWordKind::kRcuwaitTask:
      // Publishing a waiter over another one: the rcuwait holds a single task.
      if (a.access == core::AccessKind::kStore && before != 0 && after != 0 && before != after) {
        fire(OracleId::kTwoWaiters, task, nullptr, "");
      }
      break;
    default: break;
  }
}

// The invariants of a VMA that task t read-holds (I5, I7, I11, I18).
void Oracles::check_read_held_vma(int t) {
  const core::vm_area_struct* v = view_->contexts[static_cast<size_t>(t)]->locks.vma_read;
  if (!v) return;
  const core::mm_struct* mm = view_->contexts[static_cast<size_t>(t)]->mm;
  if (v->cache_free.load(std::memory_order_relaxed) || v->vm_refcnt.refs.peek() == 0) {
    fire(OracleId::kDetachReaderStillLocked, t, v, v->cache_free.load() ? "freed" : "vm_refcnt 0");
  } else if (v->vm_mm != mm) {
    fire(OracleId::kForeignVma, t, v, "");
  } else {
    const unsigned seq = mm->mm_lock_seq.sequence.peek();
    if ((seq & 1) && v->vm_lock_seq.peek() == seq) fire(OracleId::kReadAndWriteLocked, t, v, "");
    check_assert_helpers(t, v);
  }
}

// What the assert helpers would decide for task t, which read-holds v,
// evaluated on the same state without running them (they are scheduling
// points). Each must pass. Their documented false negatives - the
// non-lockdep forms passing for a task that holds nothing - are not checked:
// the ghost never asks about a VMA the task does not hold.
void Oracles::check_assert_helpers(int t, const core::vm_area_struct* v) {
  core::task_struct* ts = view_->tasks[static_cast<size_t>(t)];
  // vma_assert_locked() with lockdep: current holds vmlock_dep_map.
  // Held in either mode (LockMode has two): one search of the held-lock stack.
  const bool lockdep_held = core::lock_is_held_by(ts, v);
  if (!lockdep_held) fire(OracleId::kAssertFiresWhileLocked, t, v, "vma_assert_locked");
  // Without lockdep: vm_refcnt > 1 passes; 1 would demand a write lock; 0 WARNs.
  if (static_cast<unsigned>(v->vm_refcnt.refs.peek()) <= 1) {
    fire(OracleId::kAssertFiresWhileLocked, t, v, "vma_assert_locked_nolockdep");
  }
  // vma_assert_stabilised() passes on the mmap lock, else as vma_assert_locked().
  const core::mm_struct* mm = v->vm_mm;
  if (!lockdep_held && !core::lock_is_held_by(ts, &mm->mmap_lock)) fire(OracleId::kAssertFiresWhileLocked, t, v, "vma_assert_stabilised");
}

void Oracles::check_seq_parity() {
  for (const core::mm_struct* mm : view_->mms) {
    if (!mm->freed.load(std::memory_order_relaxed) && (mm->mm_lock_seq.sequence.peek() & 1) && !mm_write_held(mm)) {
      fire(OracleId::kSeqParity, -1, nullptr, "odd with no writer");
    }
  }
}

// on_op_end()'s checks, each behind its own precondition as before.
void Oracles::op_end_checks(int task) {
  // The operation's postcondition on what it returned: lock_vma_under_rcu()
  // hands back a VMA of the caller's mm. on_step() checks the same at every
  // scheduling point, but a task's last operation may have none after it:
  // its exit releases the lock before the next one.
  check_read_held_vma(task);
  core::task_struct* ts = view_->tasks[static_cast<size_t>(task)];
  if (core::rcu_read_lock_depth(ts) != 0) fire(OracleId::kRcuHeldAtOpEnd, task, nullptr, "");
  const core::CallerContext* ctx = view_->contexts[static_cast<size_t>(task)];
  // Between operations a holder is outside mmap_write_lock()/unlock().
  if (ctx->locks.mmap == core::TaskLocks::Mmap::kWrite && !(ctx->mm->mm_lock_seq.sequence.peek() & 1)) {
    fire(OracleId::kSeqParity, task, nullptr, "even while the task holds the mmap write lock");
  }
}

// on_task_exit()'s checks, each behind its own precondition as before.
void Oracles::task_exit_checks(int task) {
  core::task_struct* ts = view_->tasks[static_cast<size_t>(task)];
  if (ts->lockdep.depth != 0) {
    const core::held_lock& h = ts->lockdep.held[static_cast<size_t>(ts->lockdep.depth - 1)];
    fire(OracleId::kLockHeldAtExit, task, nullptr, h.lock_class == LockClass::kVmLock ? "vm_lock" : "mmap_lock");
  }
  if (core::rcu_read_lock_depth(ts) != 0) fire(OracleId::kRcuHeldAtOpEnd, task, nullptr, "at exit");
}

void Oracles::on_detached(int task, const core::vm_area_struct* vma) {
  if (vma->vm_refcnt.refs.peek() != 0) fire(OracleId::kDetachCountNotZero, task, vma, "");
  for (int t = 0; t < view_->num_tasks; ++t) {
    if (view_->contexts[static_cast<size_t>(t)]->locks.vma_read == vma) {
      fire(OracleId::kDetachReaderStillLocked, t, vma, "at detach");
    }
  }
}

}  // namespace vmafuzz::fuzz
