// lock_version_pre_series.cpp - the exclusive-lock code before the Jan 2026
// "vma_assert_stabilised" series (v6.19, after "mm: add
// vma_start_write_killable()"), for the "no functional change" differential
// (docs/MODEL.md, "Checking your refactor").
//
// Only what the series changed is here: __vma_enter_locked() returning
// 0/1/-EINTR with its own "the wait failed but the last reader went away"
// branch, __vma_exit_locked(vma, &detached), __vma_start_write(vma,
// mm_lock_seq, state) fed by __is_vma_write_locked(vma, &mm_lock_seq),
// vma_mark_detached() in one piece, and vma_refcount_put() open-coding the
// decrement with is_vma_writer_only(). Everything else is the shared model.
// The series' lockdep rename (rwsem_acquire() on vmlock_dep_map ->
// __vma_lockdep_acquire_exclusive()) is the same lock_acquire() call here.
// Catalogued bugs are not injected in these functions (docs/MODEL.md).
#include "core/kernel.h"
#include "core/lock_version.h"
#include "core/lockdep.h"
#include "core/mmap_lock.h"
#include "core/mmap_lock_internal.h"
#include "core/model_fn.h"
#include "core/report.h"

namespace vmafuzz::core {
namespace pre_series {
namespace {

// With a writer and no readers, refcnt is FLAG if the vma is detached and
// FLAG + 1 if it is attached.
bool is_vma_writer_only(int refcnt) {
  VMAFUZZ_MODEL_FN();
  return (refcnt & VM_REFCNT_EXCLUDE_READERS_FLAG) && refcnt <= VM_REFCNT_EXCLUDE_READERS_FLAG + 1;
}

// Reads mm_lock_seq once and hands it to __vma_start_write().
bool __is_vma_write_locked(vm_area_struct* vma, unsigned int* mm_lock_seq) {
  VMAFUZZ_MODEL_FN();
  mmap_assert_write_locked(vma->vm_mm);
  *mm_lock_seq = vma->vm_mm->mm_lock_seq.sequence.load(std::memory_order_relaxed);
  return vma->vm_lock_seq.load(std::memory_order_relaxed) == *mm_lock_seq;
}

void __vma_exit_locked(vm_area_struct* vma, bool* detached) {
  VMAFUZZ_MODEL_FN();
  *detached = refcount_sub_and_test(VM_REFCNT_EXCLUDE_READERS_FLAG, &vma->vm_refcnt);
  lock_release(vma);  // rwsem_release(&vma->vmlock_dep_map)
}

// Returns 0 at once if the vma is detached, otherwise waits for the readers
// to leave and returns 1; -EINTR on a fatal signal (TASK_KILLABLE). No
// mmap_assert_write_locked() here (the series added it).
int __vma_enter_locked(vm_area_struct* vma, bool detaching, int state) {
  VMAFUZZ_MODEL_FN();
  unsigned int tgt_refcnt = VM_REFCNT_EXCLUDE_READERS_FLAG;
  /* Additional refcnt if the vma is attached. */
  if (!detaching) tgt_refcnt++;
  // If vma is detached then only vma_mark_attached() can raise the vm_refcnt.
  // mmap_write_lock prevents racing with vma_mark_attached().
  if (!refcount_add_not_zero(VM_REFCNT_EXCLUDE_READERS_FLAG, &vma->vm_refcnt)) return 0;

  lock_acquire(vma, LockClass::kVmLock, LockMode::kExclusive, /*trylock=*/false);  // rwsem_acquire()
  int err = vma_writer_wait_event(vma, tgt_refcnt, state);
  if (err) {
    if (refcount_sub_and_test(VM_REFCNT_EXCLUDE_READERS_FLAG, &vma->vm_refcnt)) {
      // The wait failed, but the last reader went away as well. Tell the
      // caller the VMA is detached. (The series turned this into a WARN in
      // __vma_start_write() that returns -EINTR; this returns 0 and the
      // caller write-locks the detached VMA. Same site: reachable only if
      // someone detaches without the mmap write lock we hold.)
      WARN_ON_ONCE(!detaching, ReportSite::vma_start_write_error_but_detached, vma);
      err = 0;
    }
    lock_release(vma);
    return err;
  }
  // lock_acquired(): lock statistics only.
  return 1;
}

int __vma_start_write(vm_area_struct* vma, unsigned int mm_lock_seq, int state) {
  VMAFUZZ_MODEL_FN();
  const int locked = __vma_enter_locked(vma, false, state);
  if (locked < 0) return locked;
  // WRITE_ONCE: races only with the early check in vma_start_read().
  vma->vm_lock_seq.store(mm_lock_seq, std::memory_order_relaxed);
  if (locked) {
    bool detached;
    __vma_exit_locked(vma, &detached);
    WARN_ON_ONCE(detached, ReportSite::vma_start_write_detached_after_exclusive, vma);  // vma should remain attached
  }
  return 0;
}

void vma_start_write(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  unsigned int mm_lock_seq;
  if (__is_vma_write_locked(vma, &mm_lock_seq)) return;
  (void)__vma_start_write(vma, mm_lock_seq, TASK_UNINTERRUPTIBLE);
}

int vma_start_write_killable(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  unsigned int mm_lock_seq;
  if (__is_vma_write_locked(vma, &mm_lock_seq)) return 0;
  return __vma_start_write(vma, mm_lock_seq, TASK_KILLABLE);
}

void vma_mark_detached(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  vma_assert_write_locked(vma);
  vma_assert_attached(vma);
  // We are the only writer, so no need to use vma_refcount_put(). Readers
  // raise vm_refcnt only briefly before seeing the write lock.
  if (!refcount_dec_and_test(&vma->vm_refcnt)) {
    /* Wait until vma is detached with no readers. */
    if (__vma_enter_locked(vma, true, TASK_UNINTERRUPTIBLE)) {
      bool detached;
      __vma_exit_locked(vma, &detached);
      WARN_ON_ONCE(!detached, ReportSite::vma_exclude_readers_for_detach_not_detached, vma);
    }
  }
}

void vma_refcount_put(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  /* Use a copy of vm_mm in case vma is freed after we drop vm_refcnt */
  mm_struct* mm = vma->vm_mm;
  int oldcnt;
  lock_release(vma);  // rwsem_release(&vma->vmlock_dep_map)
  if (!__refcount_dec_and_test(&vma->vm_refcnt, &oldcnt)) {
    if (is_vma_writer_only(detail::wrapping_add(oldcnt, -1))) {
      rcuwait_wake_up(&mm->vma_writer_wait);
      mm_check_alive(mm);  // the model's B13 check, as in mmap_lock.cpp
    }
  }
}

}  // namespace
}  // namespace pre_series

extern const LockVersionOps lock_version_ops_pre_series;
const LockVersionOps lock_version_ops_pre_series{
    .vma_start_write = pre_series::vma_start_write,
    .vma_start_write_killable = pre_series::vma_start_write_killable,
    .vma_mark_detached = pre_series::vma_mark_detached,
    .vma_refcount_put = pre_series::vma_refcount_put,
};

}  // namespace vmafuzz::core
