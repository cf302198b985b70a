// mmap_lock.cpp - the per-VMA lock (mm/mmap_lock.c and the static inlines of
// include/linux/mmap_lock.h, post "vma_assert_stabilised" series).
#include "core/mmap_lock.h"
#include "core/mmap_lock_internal.h"
#include "core/model_fn.h"

#include "core/inject.h"
#include "core/kernel.h"
#include "core/lock_version.h"
#include "core/lockdep.h"
#include "core/report.h"

namespace vmafuzz::core {

// ---- lockdep annotations --------------------------------------

namespace {

// __vma_lockdep_acquire_read(): lock_acquire_shared(map, 0, trylock=1).
void __vma_lockdep_acquire_read(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  lock_acquire(vma, LockClass::kVmLock, LockMode::kShared, /*trylock=*/true);
}
// __vma_lockdep_release_read() / __vma_lockdep_release_exclusive(): lock_release().
void __vma_lockdep_release(vm_area_struct* vma) { lock_release(vma); }
// __vma_lockdep_acquire_exclusive(): lock_acquire_exclusive(map, 0, trylock=0).
void __vma_lockdep_acquire_exclusive(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  lock_acquire(vma, LockClass::kVmLock, LockMode::kExclusive, /*trylock=*/false);
}

void mm_lock_seqcount_begin(mm_struct* mm) { do_raw_write_seqcount_begin(&mm->mm_lock_seq); }
void mm_lock_seqcount_end(mm_struct* mm) { do_raw_write_seqcount_end(&mm->mm_lock_seq); }

}  // namespace

// ---- mmap_lock wrappers ------------------------------------------------

void mmap_write_lock(mm_struct* mm) {
  VMAFUZZ_MODEL_FN();
  down_write(&mm->mmap_lock);
  mm_lock_seqcount_begin(mm);
}

void mmap_write_lock_nested(mm_struct* mm, int subclass) {
  VMAFUZZ_MODEL_FN();
  down_write_nested(&mm->mmap_lock, subclass);
  mm_lock_seqcount_begin(mm);
}

int mmap_write_lock_killable(mm_struct* mm) {
  VMAFUZZ_MODEL_FN();
  const int ret = down_write_killable(&mm->mmap_lock);
  if (!ret) mm_lock_seqcount_begin(mm);
  return ret;
}

bool mmap_write_trylock(mm_struct* mm) {
  VMAFUZZ_MODEL_FN();
  const bool ok = down_write_trylock(&mm->mmap_lock) != 0;
  if (ok) mm_lock_seqcount_begin(mm);
  return ok;
}

void mmap_write_unlock(mm_struct* mm) {
  VMAFUZZ_MODEL_FN();
  vma_end_write_all(mm);
  up_write(&mm->mmap_lock);
}

void mmap_write_downgrade(mm_struct* mm) {
  VMAFUZZ_MODEL_FN();
  if (!bug_injected(Bug::downgrade_keeps_write_locks)) vma_end_write_all(mm);  // BUG (mutant): seq stays odd
  downgrade_write(&mm->mmap_lock);
}

void mmap_read_lock(mm_struct* mm) { down_read(&mm->mmap_lock); }
int mmap_read_lock_killable(mm_struct* mm) { return down_read_killable(&mm->mmap_lock); }
bool mmap_read_trylock(mm_struct* mm) { return down_read_trylock(&mm->mmap_lock) != 0; }
void mmap_read_unlock(mm_struct* mm) { up_read(&mm->mmap_lock); }

void mmap_assert_locked(mm_struct* mm) {
  VMAFUZZ_MODEL_FN();
  WARN_ON_ONCE(!lock_is_held(&mm->mmap_lock), ReportSite::mmap_assert_locked, mm);
}

void mmap_assert_write_locked(mm_struct* mm) {
  VMAFUZZ_MODEL_FN();
  WARN_ON_ONCE(!task_holds_lock(current(), &mm->mmap_lock, LockMode::kExclusive),
               ReportSite::mmap_assert_write_locked, mm);
}

__attribute__((no_sanitize("integer"))) void vma_end_write_all(mm_struct* mm) {
  VMAFUZZ_MODEL_FN();
  mmap_assert_write_locked(mm);
  if (bug_injected(Bug::seq_end_without_release)) {  // BUG (B06): the end is not a release
    const unsigned int v = mm->mm_lock_seq.sequence.load(std::memory_order_relaxed);
    mm->mm_lock_seq.sequence.store(v + 1, std::memory_order_relaxed);
    return;
  }
  mm_lock_seqcount_end(mm);
}

// ---- write-lock state --------------------------------------------------

unsigned int __vma_raw_mm_seqnum(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  mm_struct* mm = vma->vm_mm;
  mmap_assert_write_locked(mm);
  // The holder of the mmap write lock is the only writer: a plain read.
  return mm->mm_lock_seq.sequence.load(std::memory_order_relaxed);
}

bool __is_vma_write_locked(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  const unsigned int mm_lock_seq = __vma_raw_mm_seqnum(vma);
  return vma->vm_lock_seq.load(std::memory_order_relaxed) == mm_lock_seq;
}

// ---- excluding readers -------------------------------------------------

int vma_writer_wait_event(vm_area_struct* vma, unsigned int tgt_refcnt, int state) {
  task_struct* me = current();
  me->waiting_for = wait_site{
      .what = tgt_refcnt == VM_REFCNT_EXCLUDE_READERS_FLAG ? "vma_writer_wait (detach: vm_refcnt == FLAG)"
                                                           : "vma_writer_wait (vm_refcnt == FLAG + 1)",
      .condition_holds = [](const void* v, uintptr_t tgt) {
        return static_cast<uintptr_t>(static_cast<const vm_area_struct*>(v)->vm_refcnt.refs.peek()) == tgt;
      },
      .obj = vma,
      .arg = tgt_refcnt,
  };
  // The acquire load pairs with the release decrement of the last reader in
  // vma_refcount_put(): its reads of the VMA happen before our changes.
  const int err = rcuwait_wait_event(
      &vma->vm_mm->vma_writer_wait,
      [vma, tgt_refcnt] { return refcount_read_acquire(&vma->vm_refcnt) == tgt_refcnt; }, state);
  me->waiting_for = wait_site{};
  return err;
}

unsigned int get_target_refcnt(const vma_exclude_readers_state* ves) {
  VMAFUZZ_MODEL_FN();
  const unsigned int tgt = VM_REFCNT_EXCLUDE_READERS_FLAG;
  if (bug_injected(Bug::detach_waits_for_write_target)) return tgt + 1;  // BUG (mutant): detach target
  return ves->detaching ? tgt : tgt + 1;
}

int __vma_start_exclude_readers(vma_exclude_readers_state* ves) {
  VMAFUZZ_MODEL_FN();
  vm_area_struct* vma = ves->vma;
  const unsigned int tgt_refcnt = get_target_refcnt(ves);

  mmap_assert_write_locked(vma->vm_mm);

  // A detached VMA can only be attached again by vma_mark_attached(), which
  // needs the mmap write lock that we hold: 0 stays 0.
  if (!refcount_add_not_zero(VM_REFCNT_EXCLUDE_READERS_FLAG, &vma->vm_refcnt)) {
    ves->detached = true;
    return 0;
  }

  __vma_lockdep_acquire_exclusive(vma);
  const int err = vma_writer_wait_event(vma, tgt_refcnt, ves->state);
  if (err) {
    if (bug_injected(Bug::eintr_keeps_flag)) return err;  // BUG (B16): FLAG and lockdep hold leak
    __vma_end_exclude_readers(ves);
    return err;
  }
  // __vma_lockdep_stat_mark_acquired(): lock statistics only.
  ves->exclusive = true;
  return 0;
}

void __vma_end_exclude_readers(vma_exclude_readers_state* ves) {
  VMAFUZZ_MODEL_FN();
  vm_area_struct* vma = ves->vma;
  WARN_ON_ONCE(ves->detached, ReportSite::vma_end_exclude_readers_after_detached, vma);
  ves->detached = refcount_sub_and_test(VM_REFCNT_EXCLUDE_READERS_FLAG, &vma->vm_refcnt);
  __vma_lockdep_release(vma);
}

// ---- write-locking -----------------------------------------------------

int __vma_start_write(vm_area_struct* vma, int state) {
  VMAFUZZ_MODEL_FN();
  // Read before any waiting: it cannot change while we hold the mmap write lock.
  // (pre_series passed in the value __is_vma_write_locked() had read: this
  // second load is post-series only, fuzz/nfc_allowlist.inc.)
  unsigned int mm_lock_seq;
  {
    const VersionOnlyAccess post_series_only;
    mm_lock_seq = __vma_raw_mm_seqnum(vma);
  }
  vma_exclude_readers_state ves = {
      .vma = vma,
      .state = state,
      .detaching = false,
  };
  const int err = __vma_start_exclude_readers(&ves);
  if (err) {
    // Detaching needs the mmap write lock we hold: this cannot be.
    WARN_ON_ONCE(ves.detached, ReportSite::vma_start_write_error_but_detached, vma);
    return err;
  }
  // WRITE_ONCE: races only with the early check in vma_start_read().
  vma->vm_lock_seq.store(mm_lock_seq, std::memory_order_relaxed);
  if (ves.exclusive) {
    // The wait ended at FLAG + 1 and FLAG kept new readers out: back to 1.
    __vma_end_exclude_readers(&ves);
    WARN_ON_ONCE(ves.detached, ReportSite::vma_start_write_detached_after_exclusive, vma);
  }
  return 0;
}

void vma_start_write(vm_area_struct* vma) {
  if (const auto op = VMAFUZZ_LOCK_VERSION_OP(vma_start_write)) return op(vma);
  VMAFUZZ_MODEL_FN();
  if (__is_vma_write_locked(vma)) return;
  (void)__vma_start_write(vma, TASK_UNINTERRUPTIBLE);
}

int vma_start_write_killable(vm_area_struct* vma) {
  if (const auto op = VMAFUZZ_LOCK_VERSION_OP(vma_start_write_killable)) return op(vma);
  VMAFUZZ_MODEL_FN();
  if (__is_vma_write_locked(vma)) return 0;
  // MUTANT (contract): "no reader holds it, nothing to exclude" taken for "done".
  if (mutant_injected(ContractMutant::killable_skips_idle_vma) && refcount_read(&vma->vm_refcnt) == 1) return 0;
  const int err = __vma_start_write(vma, TASK_KILLABLE);
  // MUTANT (contract): a signal that arrived after the wait succeeded still reported
  // (rcuwait_wait_event() tests the condition first).
  if (!err && mutant_injected(ContractMutant::killable_signal_after_success) && fatal_signal_pending(current())) {
    return -EINTR;
  }
  return err;
}

// ---- attach / detach ---------------------------------------------------

void vma_mark_attached(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  vma_assert_write_locked(vma);
  vma_assert_detached(vma);
  // Publishes the initialisation (range, vm_mm, vm_lock_seq) to any reader
  // whose acquire increment reads this 1 (B18).
  refcount_set_release(&vma->vm_refcnt, 1);
}

unsigned int __vma_refcount_put_return(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  int oldcnt;
  if (__refcount_dec_and_test(&vma->vm_refcnt, &oldcnt)) return 0;
  return static_cast<unsigned int>(detail::wrapping_add(oldcnt, -1));
}

void vma_mark_detached(vm_area_struct* vma) {
  if (const auto op = VMAFUZZ_LOCK_VERSION_OP(vma_mark_detached)) return op(vma);
  VMAFUZZ_MODEL_FN();
  vma_assert_write_locked(vma);
  vma_assert_attached(vma);
  // Usually no transient reader holds a reference and this is the last one.
  if (__vma_refcount_put_return(vma) == 0) return;
  if (bug_injected(Bug::detach_no_wait)) return;  // BUG (B09): "the reader will drop it"
  __vma_exclude_readers_for_detach(vma);
}

void __vma_exclude_readers_for_detach(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  vma_exclude_readers_state ves = {
      .vma = vma,
      .state = TASK_UNINTERRUPTIBLE,
      .detaching = true,
  };
  // Transient readers raised vm_refcnt after seeing the VMA unlocked; wait
  // for them. If they all left before our add, ves.detached is already set.
  const int err = __vma_start_exclude_readers(&ves);
  if (!err && ves.exclusive) __vma_end_exclude_readers(&ves);
  // "An error arose but we're detached" counts as success.
  WARN_ON_ONCE(!ves.detached, ReportSite::vma_exclude_readers_for_detach_not_detached, vma);
}

// ---- read side ---------------------------------------------------------

bool __vma_are_readers_excluded(int refcnt) {
  VMAFUZZ_MODEL_FN();
  if (bug_injected(Bug::wake_only_write_target)) return refcnt == VM_REFCNT_EXCLUDE_READERS_FLAG + 1;  // BUG (mutant)
  return (refcnt & VM_REFCNT_EXCLUDE_READERS_FLAG) && refcnt <= VM_REFCNT_EXCLUDE_READERS_FLAG + 1;
}

void vma_refcount_put(vm_area_struct* vma) {
  if (const auto op = VMAFUZZ_LOCK_VERSION_OP(vma_refcount_put)) return op(vma);
  VMAFUZZ_MODEL_FN();
  // Copy vm_mm first: once our reference is gone the VMA may be freed and
  // reused (B01).
  mm_struct* mm = vma->vm_mm;
  __vma_lockdep_release(vma);
  const unsigned int newcnt = __vma_refcount_put_return(vma);
  if (newcnt && __vma_are_readers_excluded(static_cast<int>(newcnt))) {
    rcuwait_wake_up(&mm->vma_writer_wait);
    // Model check (CVE-2025-38554, B13): was mm freed before the wake-up's load
    // of mm->vma_writer_wait.task? That load is the wake-up's last scheduling
    // point, so checking here catches a free anywhere before it and never one
    // after it.
    mm_check_alive(mm);
  }
}

// post_series replaces nothing: it is this file (lock_versions.inc).
extern const LockVersionOps lock_version_ops_post_series;
const LockVersionOps lock_version_ops_post_series{};

vm_area_struct* vma_start_read(mm_struct* mm, vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  WARN_ON_ONCE(!rcu_read_lock_held(), ReportSite::vma_start_read_without_rcu, vma);

  // Cheap pessimistic check; both values may be stale. A false "unlocked"
  // is caught by the check under the reference below.
  if (vma->vm_lock_seq.load(std::memory_order_relaxed) ==
      mm->mm_lock_seq.sequence.load(std::memory_order_relaxed)) {
    rcu_read_unlock();
    return nullptr;
  }
  // BUG (B10): the check under the reference, hoisted above the increment.
  const bool seq_checked_early = bug_injected(Bug::reader_checks_seq_before_increment);
  if (seq_checked_early && vma->vm_lock_seq.load(std::memory_order_relaxed) == raw_read_seqcount(&mm->mm_lock_seq)) {
    rcu_read_unlock();
    return nullptr;
  }

  // The acquire pairs with the release in vma_mark_attached() and with the
  // writer's release of FLAG, so the checks below see their stores (B10, B18).
  int oldcnt;
  if (!__refcount_inc_not_zero_limited_acquire(&vma->vm_refcnt, &oldcnt, VM_REFCNT_LIMIT)) {
    rcu_read_unlock();
    // 0: detached under us (possibly freed and being reused).
    return oldcnt ? nullptr : ERR_PTR<vm_area_struct>(-EAGAIN);
  }
  __vma_lockdep_acquire_read(vma);

  if (vma->vm_mm != mm && !bug_injected(Bug::no_foreign_mm_check)) {  // BUG (B12) skips it
    // Recycled into another mm (SLAB_TYPESAFE_BY_RCU). Our put may let that
    // mm's writer finish and the mm exit: pin it across the put (B13).
    mm_struct* other_mm = vma->vm_mm;
    rcu_read_unlock();
    const bool pin = !bug_injected(Bug::no_mmgrab_foreign_mm);  // BUG (B13): no pin
    if (pin) mmgrab(other_mm);
    vma_refcount_put(vma);
    if (pin) mmdrop(other_mm);
    return nullptr;
  }

  // Under the reference no writer is inside its write window, and the acquire
  // read pairs with the release in vma_end_write_all() (B06).
  if (!seq_checked_early &&
      vma->vm_lock_seq.load(std::memory_order_relaxed) == raw_read_seqcount(&mm->mm_lock_seq)) {
    vma_refcount_put(vma);
    rcu_read_unlock();
    return nullptr;
  }
  return vma;
}

bool vma_start_read_locked_nested(vm_area_struct* vma, int /*subclass*/) {
  VMAFUZZ_MODEL_FN();
  // subclass is not forwarded to lockdep in the kernel versions modelled.
  mmap_assert_locked(vma->vm_mm);
  int oldcnt;
  if (!__refcount_inc_not_zero_limited_acquire(&vma->vm_refcnt, &oldcnt, VM_REFCNT_LIMIT)) return false;
  __vma_lockdep_acquire_read(vma);
  return true;
}

bool vma_start_read_locked(vm_area_struct* vma) { return vma_start_read_locked_nested(vma, 0); }

void vma_end_read(vm_area_struct* vma) { vma_refcount_put(vma); }

vm_area_struct* lock_vma_under_rcu(mm_struct* mm, unsigned long address) {
  VMAFUZZ_MODEL_FN();
  KernelStats& stats = kernel().stats();
  ma_state mas{mm, address};
  vm_area_struct* vma;
retry:
  rcu_read_lock();
  vma = mas_walk(&mas);
  if (!vma) {
    if (!bug_injected(Bug::rcu_held_on_empty_lookup)) rcu_read_unlock();  // BUG (B14): RCU left held
    goto inval;
  }
  vma = vma_start_read(mm, vma);  // drops RCU on failure
  if (IS_ERR_OR_NULL(vma)) {
    if (PTR_ERR(vma) == -EAGAIN) {
      stats.vma_lock_miss.fetch_add(1, std::memory_order_relaxed);
      // The old maple state may point at nodes freed since RCU was dropped.
      if (!bug_injected(Bug::no_mas_reset_on_retry)) mas_set(&mas, address);  // BUG (B15): stale state
      goto retry;
    }
    goto inval;
  }
  rcu_read_unlock();
  // Checked under the lock: the VMA may have moved, shrunk or been recycled.
  // MUTANT (contract) no_range_check skips it.
  if ((address < vma->vm_start || address >= vma->vm_end) && !mutant_injected(ContractMutant::no_range_check)) {
    if (!bug_injected(Bug::range_check_leaks_read_lock)) vma_end_read(vma);  // BUG (mutant): leak
    goto inval;
  }
  stats.vma_lock_success.fetch_add(1, std::memory_order_relaxed);
  return vma;
inval:
  stats.vma_lock_abort.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

// ---- assertions --------------------------------------------------------

void vma_assert_attached(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  WARN_ON_ONCE(!vma_is_attached(vma), ReportSite::vma_assert_attached, vma);
}

void vma_assert_detached(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  WARN_ON_ONCE(vma_is_attached(vma), ReportSite::vma_assert_detached, vma);
}

void vma_assert_write_locked(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  WARN_ON_ONCE(!__is_vma_write_locked(vma), ReportSite::vma_assert_write_locked, vma);
}

void vma_assert_locked(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  // A writer no longer holds the lockdep map once vma_start_write() returns:
  // writers are checked through vm_lock_seq.
  if (lock_is_held(vma)) return;
  vma_assert_write_locked(vma);
}

void vma_assert_locked_nolockdep(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  const unsigned int refcnt = refcount_read(&vma->vm_refcnt);
  // Read-locked, write-locked with transient readers, or being excluded.
  if (refcnt > 1) return;
  WARN_ON_ONCE(refcnt == 0, ReportSite::vma_assert_locked_detached, vma);
  vma_assert_write_locked(vma);
}

void vma_assert_stabilised(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  if (lock_is_held(&vma->vm_mm->mmap_lock)) return;
  vma_assert_locked(vma);
}

void vma_assert_stabilised_nolockdep(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  if (rwsem_is_locked(&vma->vm_mm->mmap_lock)) return;
  vma_assert_locked_nolockdep(vma);
}

}  // namespace vmafuzz::core
