// oracles.h - harness oracles over the model's ghost state (oracle_table.inc,
// group "harness oracles").
//
// The core reports what the kernel itself would WARN about; the scheduler
// reports hangs. These oracles check the invariants nobody in the kernel
// checks at run time (docs/MODEL.md section 8): reader increments past LIMIT,
// two writers on one rcuwait, detach leaving a count or a reader behind, a
// read lock coexisting with a write lock, mm_lock_seq parity, a reader keeping
// a VMA of another mm, RCU or locks held across an operation boundary.
//
// "Read-held" is ghost ownership: a task read-holds a VMA from the moment
// lock_vma_under_rcu()/vma_start_read() returns it to the caller until the
// caller's vma_end_read() (core::TaskLocks::vma_read). A transient
// reader inside vma_start_read() does not read-hold anything.
//
// Every check only peeks (no scheduling point) and runs inside a
// HarnessSection. The first hit is kept; the run stops there. The callers
// (core/callers.h) tell of detaches through observer(task), which opens it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/callers.h"
#include "core/mm.h"
#include "core/platform.h"
#include "core/task.h"
#include "fuzz/finding.h"
#include "fuzz/scenario.h"

namespace vmafuzz::fuzz {

// What the oracles may look at: the run's tasks and mms. Filled by Execution.
struct OracleView {
  int num_tasks = 0;
  std::vector<core::task_struct*> tasks;       // by task index
  std::vector<const core::CallerContext*> contexts;  // by task index (mm, ghost read-held VMA, mmap lock)
  std::vector<core::mm_struct*> mms;           // the scenario's mms
};

// A hit: which oracle, about which task and VMA, and what was seen.
struct OracleHit {
  OracleId oracle;
  int task;
  const core::vm_area_struct* vma;  // may be null
  std::string detail;
};

class Oracles {
 public:
  Oracles();
  Oracles(const Oracles&) = delete;  // its observers point back at it
  Oracles& operator=(const Oracles&) = delete;

  void begin(const OracleView* view);

  // A task's access to a word of VMA `vma` (nullptr: not a VMA word), before
  // on_access. Feeds the touched-after-put check.
  // Inline (as on_access and on_step): they run at every access or step, and
  // most of the time there is nothing to look at.
  // The checks' own preconditions are tested here: out of line only a VMA
  // the task released, or a -1 on a vm_refcnt (a reader's put).
  void on_vma_access(int task, const core::vm_area_struct* vma, const core::SharedAccess& a, uint64_t before,
                     uint64_t after) {
    if (!vma) {
      if (a.kind == core::SharedWordKind::kMmTree) {
        released_[static_cast<size_t>(task)] = nullptr;  // a new lookup may legitimately find the object again
      }
      return;
    }
    if (released_[static_cast<size_t>(task)] == vma || is_refcnt_decrement(a, before, after)) {
      vma_access_checks(task, vma, a, before, after);
    }
  }
  // A -1 on a vm_refcnt: a reader's put, or the detaching writer's decrement.
  static bool is_refcnt_decrement(const core::SharedAccess& a, uint64_t before, uint64_t after) {
    return a.kind == core::SharedWordKind::kVmRefcnt && a.access == core::AccessKind::kRmw &&
           static_cast<uint32_t>(after) == static_cast<uint32_t>(before) - 1;
  }

  // After every shared access (values as the platform reported them).
  // Every check of access_checks() is of a change: an access that leaves
  // its word as it was (most of them, the loads) is not passed on.
  void on_access(int task, const core::SharedAccess& a, uint64_t before, uint64_t after) {
    if (before == after) return;
    switch (a.kind) {
      case core::SharedWordKind::kVmRefcnt:
      case core::SharedWordKind::kMmLockSeq:
      case core::SharedWordKind::kRwsemCount:
      case core::SharedWordKind::kRcuwaitTask: access_checks(task, a, before, after); break;
      default: break;
    }
  }
  // At every scheduling point: the whole-state checks, on the VMAs tasks read-hold.
  // A fixed kMaxTasks slots, unrolled (tasks past the run's read a null):
  // no loop bound or context to load at every step.
  [[gnu::always_inline]] void on_step() {
    for (size_t t = 0; t < kMaxTasks; ++t) {
      if (*vma_read_[t]) check_read_held_vma(static_cast<int>(t));
    }
  }
  bool any_read_held() const {
    for (size_t t = 0; t < kMaxTasks; ++t) {
      if (*vma_read_[t]) return true;
    }
    return false;
  }
  // A task finished an operation / its program (after releasing its locks).
  // on_op_end() inline: out of line only when the task read-holds a VMA,
  // holds RCU or the mmap write lock (the checks' preconditions).
  void on_op_end(int task) {
    released_[static_cast<size_t>(task)] = nullptr;  // the put's window ends with its operation
    const core::TaskLocks& locks = view_->contexts[static_cast<size_t>(task)]->locks;
    if (locks.vma_read || locks.mmap == core::TaskLocks::Mmap::kWrite ||
        view_->tasks[static_cast<size_t>(task)]->rcu_read_lock_nesting.load(std::memory_order_relaxed) != 0) {
      op_end_checks(task);
    }
  }
  // Inline too: out of line only when the task still holds a lock or RCU.
  void on_task_exit(int task) {
    const core::task_struct* ts = view_->tasks[static_cast<size_t>(task)];
    if (ts->lockdep.depth != 0 || ts->rcu_read_lock_nesting.load(std::memory_order_relaxed) != 0) {
      task_exit_checks(task);
    }
  }
  // vma_mark_detached() just returned in task's operation.
  void on_detached(int task, const core::vm_area_struct* vma);
  // Contract points (fuzz/contracts.cpp): the function just returned `ret`
  // to task's caller; its postconditions (fuzz/contract_table.inc).
  void after_vma_start_write(int task, const core::vm_area_struct* vma, int ret);
  void after_lock_vma_under_rcu(int task, unsigned long address, const core::vm_area_struct* vma);
  // Harness oracles that never fire in this run (bit per OracleId): a test
  // shows a mutant is found by one check alone by turning that one off.
  void set_disabled(uint64_t oracles) { disabled_ = oracles; }
  // The caller observer of task `task` (< kMaxTasks): its on_detached() runs
  // on_detached(task, vma) inside a HarnessSection.
  core::CallerObserver* observer(int task);

  const std::optional<OracleHit>& hit() const { return hit_; }

 private:
  class TaskObserver final : public core::CallerObserver {
   public:
    void on_detached(const core::vm_area_struct* vma) override;
    void after_vma_start_write(const core::vm_area_struct* vma, int ret) override;
    void after_lock_vma_under_rcu(unsigned long address, const core::vm_area_struct* vma) override;
    Oracles* oracles = nullptr;
    int task = -1;
  };

  void vma_access_checks(int task, const core::vm_area_struct* vma, const core::SharedAccess& a, uint64_t before,
                         uint64_t after);
  void access_checks(int task, const core::SharedAccess& a, uint64_t before, uint64_t after);
  void fire(OracleId oracle, int task, const core::vm_area_struct* vma, std::string detail);
  bool mm_write_held(const core::mm_struct* mm) const;
  void check_seq_parity();
  void check_read_held_vma(int task);
  void check_assert_helpers(int task, const core::vm_area_struct* vma);
  void op_end_checks(int task);
  void task_exit_checks(int task);

  const OracleView* view_ = nullptr;
  // For on_step(), set at begin(): &contexts[t]->locks.vma_read of each
  // task, and of the tasks past the run's a null (kNoVma).
  static constexpr core::vm_area_struct* kNoVma = nullptr;
  static_assert(kMaxTasks == 4, "vma_read_'s initialiser names kMaxTasks slots");
  std::array<core::vm_area_struct* const*, kMaxTasks> vma_read_ = {&kNoVma, &kNoVma, &kNoVma, &kNoVma};
  // Per task: the VMA whose reference it dropped as a reader, until its next
  // lookup or the end of its operation (invariant I11's window).
  std::vector<const core::vm_area_struct*> released_;
  std::optional<OracleHit> hit_;
  uint64_t disabled_ = 0;
  std::array<TaskObserver, kMaxTasks> observers_;
};

}  // namespace vmafuzz::fuzz
