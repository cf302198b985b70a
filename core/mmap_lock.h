// mmap_lock.h - the mmap_lock wrappers and the per-VMA lock
// (models include/linux/mmap_lock.h and mm/mmap_lock.c after the 2026
// "vma_assert_stabilised" series; docs/MODEL.md maps every function).
//
// Fast paths and small helpers are declared here like the kernel's static
// inlines; the slow paths live in mmap_lock.cpp. Kernel names are kept exactly,
// `__` prefixes included, so a reviewer can grep the model and the kernel for
// the same identifier (the C++ reserved-identifier rule is knowingly waived).
//
// Every function below is a scheduling point unless it says otherwise.
#pragma once

#include "core/errno.h"
#include "core/mm.h"
#include "core/vma.h"

namespace vmafuzz::core {

// ---- mmap_lock wrappers -------------------------------------

// mmap_write_lock(): down_write, then mm_lock_seqcount_begin (seq becomes odd).
// Context: may sleep; must not hold a VMA lock.
void mmap_write_lock(mm_struct* mm);
// mmap_write_lock_nested(): as above with a lockdep subclass; dup_mmap() takes
// the child's lock with SINGLE_DEPTH_NESTING while holding the parent's.
void mmap_write_lock_nested(mm_struct* mm, int subclass);
// Return: 0, or -EINTR on a fatal signal (no seq begin then). Context: may sleep.
[[nodiscard]] int mmap_write_lock_killable(mm_struct* mm);
// Return: true if taken.
[[nodiscard]] bool mmap_write_trylock(mm_struct* mm);
// vma_end_write_all() (every VMA write lock of mm ends), then up_write.
void mmap_write_unlock(mm_struct* mm);
// vma_end_write_all(), then downgrade_write: the caller holds the read lock.
void mmap_write_downgrade(mm_struct* mm);

void mmap_read_lock(mm_struct* mm);
[[nodiscard]] int mmap_read_lock_killable(mm_struct* mm);
[[nodiscard]] bool mmap_read_trylock(mm_struct* mm);
void mmap_read_unlock(mm_struct* mm);

// Does current hold mm->mmap_lock (any mode / for write)? WARN if not.
// Not scheduling points (lockdep-lite is task-local).
void mmap_assert_locked(mm_struct* mm);
void mmap_assert_write_locked(mm_struct* mm);

// vma_end_write_all(): seq end (release; seq becomes even). Releases every
// VMA write lock of mm. Context: mmap write lock held.
void vma_end_write_all(mm_struct* mm);

// ---- write-lock state ---------------------------------------

// __vma_raw_mm_seqnum(): mm_lock_seq of vma->vm_mm, read plainly.
// Context: mmap write lock held (asserted).
unsigned int __vma_raw_mm_seqnum(vm_area_struct* vma);
// __is_vma_write_locked(): vma->vm_lock_seq == __vma_raw_mm_seqnum(vma).
// Context: mmap write lock held (asserted); meaningless otherwise.
bool __is_vma_write_locked(vm_area_struct* vma);

// ---- excluding readers --------------------------------

// State of one exclude-readers operation, on the caller's stack.
struct vma_exclude_readers_state {
  /* Input parameters. */
  vm_area_struct* vma;
  int state;       /* TASK_KILLABLE or TASK_UNINTERRUPTIBLE. */
  bool detaching;  /* Target FLAG (detach) rather than FLAG + 1 (write-lock). */

  /* Output parameters. */
  bool detached = false;   /* vm_refcnt was, or reached, 0. */
  bool exclusive = false;  /* Readers excluded: __vma_end_exclude_readers() owed. */
};

// FLAG | (detaching ? 0 : 1).
unsigned int get_target_refcnt(const vma_exclude_readers_state* ves);

// Add FLAG (unless vm_refcnt is 0: then ves->detached, no wait) and sleep on
// mm->vma_writer_wait until vm_refcnt == target.
// Context: mmap write lock held; may sleep in ves->state.
// Return: 0; or -EINTR (TASK_KILLABLE only), with FLAG removed again and
// lockdep's exclusive hold released. On 0 with ves->exclusive, the caller
// must call __vma_end_exclude_readers() exactly once.
[[nodiscard]] int __vma_start_exclude_readers(vma_exclude_readers_state* ves);
// Subtract FLAG; ves->detached := the result is 0. Releases lockdep's hold.
void __vma_end_exclude_readers(vma_exclude_readers_state* ves);

// ---- write-locking ------------------------------------------

// Write-lock vma: exclude readers, set vm_lock_seq, readmit readers (who
// then back off until the mmap write lock is dropped).
// Context: mmap write lock held; may sleep in `state`.
// Return: 0, or -EINTR (TASK_KILLABLE): vm_lock_seq unchanged, not write-locked.
[[nodiscard]] int __vma_start_write(vm_area_struct* vma, int state);
// No-op if already write-locked. Context: mmap write lock held; may sleep.
void vma_start_write(vm_area_struct* vma);
// Return: 0 (also when already write-locked or detached), or -EINTR.
[[nodiscard]] int vma_start_write_killable(vm_area_struct* vma);

// ---- attach / detach -----------------------------------

// Context: vma write-locked and detached. vm_refcnt := 1 (release).
void vma_mark_attached(vm_area_struct* vma);
// Drop the attach reference and return the new value (0 if it reached zero).
unsigned int __vma_refcount_put_return(vm_area_struct* vma);
// Context: vma write-locked and attached; may sleep (waits for transient
// readers). On return vm_refcnt == 0 and no reader holds or can get it.
void vma_mark_detached(vm_area_struct* vma);
// The slow path: exclude readers with target FLAG, then FLAG -> 0.
void __vma_exclude_readers_for_detach(vm_area_struct* vma);

// ---- read side --------------------------------------

// (refcnt & FLAG) && refcnt <= FLAG + 1: a writer waits for exactly this value.
// Not a scheduling point.
bool __vma_are_readers_excluded(int refcnt);

// Drop a read reference; wake the mm's writer if it now waits for this
// value. Reads vma->vm_mm before the decrement and never touches vma after it.
void vma_refcount_put(vm_area_struct* vma);

// Try to read-lock a VMA found under RCU in mm's lookup.
// Context: RCU read lock held (reported if not). On failure RCU is RELEASED.
// Return: vma with RCU still held and one read reference owned; nullptr
// (write-locked, readers excluded, LIMIT reached, or recycled into another mm);
// or ERR_PTR(-EAGAIN) (detached: freed or being reused).
vm_area_struct* vma_start_read(mm_struct* mm, vm_area_struct* vma);

// Read-lock under the mmap lock: no vm_lock_seq check needed.
// Context: mmap lock held (any mode). Return: false only if LIMIT is reached.
[[nodiscard]] bool vma_start_read_locked_nested(vm_area_struct* vma, int subclass);
[[nodiscard]] bool vma_start_read_locked(vm_area_struct* vma);

// vma_end_read(): vma_refcount_put().
void vma_end_read(vm_area_struct* vma);

// The page-fault entry: find and read-lock the VMA covering address without
// the mmap lock. Retries while the VMA found is detached (-EAGAIN), resetting
// the maple state each time (B15).
// Context: no RCU held on entry or exit. Return: a read-locked VMA containing
// address, or nullptr (fall back to mmap_read_lock).
vm_area_struct* lock_vma_under_rcu(mm_struct* mm, unsigned long address);

// ---- assertions --------------------------------------

void vma_assert_attached(vm_area_struct* vma);
void vma_assert_detached(vm_area_struct* vma);
// WARN unless __is_vma_write_locked(vma) (implies the mmap write lock).
void vma_assert_write_locked(vm_area_struct* vma);
// Lockdep form: pass if current holds vma's lockdep map, else
// vma_assert_write_locked(). Exact per task.
void vma_assert_locked(vm_area_struct* vma);
// Non-lockdep form: vm_refcnt > 1 passes (even if another task holds the
// reference: a documented false negative), 0 WARNs, 1 asserts write-locked.
void vma_assert_locked_nolockdep(vm_area_struct* vma);
// Lockdep form: pass if current holds vm_mm->mmap_lock, else vma_assert_locked().
void vma_assert_stabilised(vm_area_struct* vma);
// Non-lockdep form: pass if anyone holds vm_mm->mmap_lock (false negative by
// design), else vma_assert_locked_nolockdep().
void vma_assert_stabilised_nolockdep(vm_area_struct* vma);

}  // namespace vmafuzz::core
