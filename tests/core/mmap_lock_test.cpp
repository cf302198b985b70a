// mmap_lock_test.cpp - mmap_lock wrappers and mm_lock_seq, VMA write-locking (killable too), lock_vma_under_rcu, the lock assertions, mm and maple-state lifetime (docs/MODEL.md).
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "core/lockdep.h"
#include "core/mm.h"
#include "core/mmap_lock.h"
#include "core/rcu.h"
#include "tests/core/core_fixture.h"

namespace vmafuzz::core {
namespace {

using testing::kFlag;

// The shared one-VMA fixture (core_fixture.h) plus helpers of this file.
class MmapLockTest : public testing::OneVmaTest {
 protected:
  static int vm_locks_held(task_struct* t) { return task_held_lock_count(t, LockClass::kVmLock); }
  uint64_t stat_success() { return kern().stats().vma_lock_success.load(); }
  uint64_t stat_abort() { return kern().stats().vma_lock_abort.load(); }
  uint64_t stat_miss() { return kern().stats().vma_lock_miss.load(); }
};

// ---- mmap_lock wrappers and mm_lock_seq (docs/MODEL.md §8, I14) ----------------

using MmapLock = MmapLockTest;

TEST_F(MmapLock, WriteLockMakesTheSequenceOddAndUnlockMakesItEven) {
  const unsigned s = seq(mm);
  EXPECT_EQ(s % 2, 0u);
  mmap_write_lock(mm);
  EXPECT_EQ(seq(mm), s + 1);
  mmap_write_unlock(mm);
  EXPECT_EQ(seq(mm), s + 2);
  ASSERT_TRUE(mmap_write_trylock(mm));
  EXPECT_EQ(seq(mm), s + 3);
  mmap_write_unlock(mm);
  EXPECT_EQ(seq(mm), s + 4);
  ASSERT_EQ(mmap_write_lock_killable(mm), 0);
  EXPECT_EQ(seq(mm), s + 5);
  mmap_write_downgrade(mm);
  EXPECT_EQ(seq(mm), s + 6);
  mmap_read_unlock(mm);
  EXPECT_EQ(seq(mm), s + 6);
}

TEST_F(MmapLock, ReadLockLeavesTheSequenceAlone) {
  const unsigned s = seq(mm);
  mmap_read_lock(mm);
  ASSERT_TRUE(mmap_read_trylock(mm));
  mmap_read_unlock(mm);
  mmap_read_unlock(mm);
  ASSERT_EQ(mmap_read_lock_killable(mm), 0);
  mmap_read_unlock(mm);
  EXPECT_EQ(seq(mm), s);
}

TEST_F(MmapLock, FailedWriteLockAttemptsLeaveTheSequenceAlone) {
  const unsigned s = seq(mm);
  as_task(reader, [&] { mmap_read_lock(mm); });
  EXPECT_FALSE(mmap_write_trylock(mm));
  send_sigkill(main_task());
  EXPECT_EQ(mmap_write_lock_killable(mm), -EINTR);
  EXPECT_EQ(seq(mm), s);
  EXPECT_FALSE(lock_is_held(&mm->mmap_lock));
  as_task(reader, [&] { mmap_read_unlock(mm); });
}

// docs/MODEL.md: the 32-bit sequence may wrap. A reused value can only make a VMA
// look write-locked (a fresh VMA's UINT_MAX), never unlocked.
TEST_F(MmapLock, SequenceWrapsAroundAndOnlyEverGivesAFalseLocked) {
  mm->mm_lock_seq.sequence.raw_store(UINT_MAX - 1, std::memory_order_relaxed);
  mmap_write_lock(mm);
  EXPECT_EQ(seq(mm), UINT_MAX);  // odd: write-locked
  vm_area_struct* fresh = vm_area_alloc(mm);
  EXPECT_TRUE(__is_vma_write_locked(fresh));  // false "locked": vm_lock_seq starts at UINT_MAX
  vm_area_free(fresh);
  vma_start_write(vma);
  mmap_write_unlock(mm);
  EXPECT_EQ(seq(mm), 0u);  // wrapped, even: unlocked
  EXPECT_EQ(read_lock_as(reader), vma);
  read_unlock_as(reader, vma);
}

TEST_F(MmapLock, VmaEndWriteAllReleasesEveryVmaWriteLockAtOnce) {
  vm_area_struct* b = map_vma(mm, 0x4000, 0x5000);
  vm_area_struct* c = map_vma(mm, 0x6000, 0x7000);
  mmap_write_lock(mm);
  for (vm_area_struct* v : {vma, b, c}) vma_start_write(v);
  for (vm_area_struct* v : {vma, b, c}) EXPECT_TRUE(__is_vma_write_locked(v));
  vma_end_write_all(mm);
  EXPECT_EQ(seq(mm) % 2, 0u);
  for (vm_area_struct* v : {vma, b, c}) EXPECT_FALSE(__is_vma_write_locked(v));
  // Readers get in again although the mmap write lock is still held.
  EXPECT_EQ(read_lock_as(reader, 0x4000), b);
  read_unlock_as(reader, b);
  up_write(&mm->mmap_lock);  // not mmap_write_unlock(): that would end the sequence again
  EXPECT_EQ(seq(mm) % 2, 0u);
}

TEST_F(MmapLock, MmapWriteUnlockReleasesTheVmaWriteLocks) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  EXPECT_EQ(read_lock_as(reader), nullptr);
  mmap_write_unlock(mm);
  EXPECT_EQ(read_lock_as(reader), vma);
  read_unlock_as(reader, vma);
  mmap_write_lock(mm);
  EXPECT_FALSE(__is_vma_write_locked(vma));  // a new epoch: nothing carried over
  mmap_write_unlock(mm);
}

// docs/MODEL.md §8, S7: after the downgrade the writer holds the read lock, no VMA is
// write-locked any more and readers may lock the VMA.
TEST_F(MmapLock, WriteDowngradeEndsVmaWriteLocksAndLeavesTheReadLockHeld) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  vma->vm_flags |= VM_EXEC;
  mmap_write_downgrade(mm);
  EXPECT_EQ(seq(mm) % 2, 0u);
  EXPECT_TRUE(task_holds_lock(main_task(), &mm->mmap_lock, LockMode::kShared));
  EXPECT_EQ(mm->mmap_lock.count.peek(), RWSEM_READER_BIAS);
  vm_area_struct* got = read_lock_as(reader);
  ASSERT_EQ(got, vma);
  EXPECT_TRUE(got->vm_flags & VM_EXEC);
  as_task(reader, [&] {
    EXPECT_FALSE(mmap_write_trylock(mm));
    EXPECT_TRUE(mmap_read_trylock(mm));
    mmap_read_unlock(mm);
  });
  read_unlock_as(reader, vma);
  mmap_read_unlock(mm);
  EXPECT_EQ(mm->mmap_lock.count.peek(), 0);
}

TEST_F(MmapLock, AssertLockedFiresUnlessTheCurrentTaskHoldsTheLock) {
  mmap_assert_locked(mm);
  expect_reports({ReportSite::mmap_assert_locked});
  as_task(reader, [&] { mmap_read_lock(mm); });
  mmap_assert_locked(mm);  // another task's hold does not count
  expect_reports({ReportSite::mmap_assert_locked});
  as_task(reader, [&] { mmap_read_unlock(mm); });
  mmap_read_lock(mm);
  mmap_assert_locked(mm);
  expect_no_reports();
  mmap_assert_write_locked(mm);
  expect_reports({ReportSite::mmap_assert_write_locked});
  mmap_read_unlock(mm);
  mmap_write_lock(mm);
  mmap_assert_locked(mm);
  mmap_assert_write_locked(mm);
  expect_no_reports();
  mmap_write_unlock(mm);
}

// ---- VMA write-locking (docs/MODEL.md §8, I6, I13) --------------------------------

using VmaStartWrite = MmapLockTest;

TEST_F(VmaStartWrite, WriteLocksAnAttachedVmaWithoutReadersAtOnce) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  EXPECT_TRUE(__is_vma_write_locked(vma));
  EXPECT_EQ(vma->vm_lock_seq.peek(), seq(mm));
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{kFlag + 1, 1u}));
  EXPECT_EQ(vm_locks_held(main_task()), 0);
  EXPECT_EQ(probe().schedule_calls(), 0);
  mmap_write_unlock(mm);
}

TEST_F(VmaStartWrite, IsANoOpWhenAlreadyWriteLocked) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  probe().clear_trace();
  vma_start_write(vma);
  send_sigkill(main_task());
  EXPECT_EQ(vma_start_write_killable(vma), 0);
  EXPECT_TRUE(refcnt_values(vma).empty());
  EXPECT_TRUE(__is_vma_write_locked(vma));
  mmap_write_unlock(mm);
}

TEST_F(VmaStartWrite, ParksUntilTheLastReaderLeavesThenWriteLocks) {
  ASSERT_EQ(read_lock_as(reader), vma);
  mmap_write_lock(mm);
  probe().clear_trace();
  probe().on_schedule([&] {
    EXPECT_EQ(refcnt(vma), kFlag + 2);
    EXPECT_EQ(mm->vma_writer_wait.task.peek(), main_task());
    EXPECT_TRUE(task_holds_lock(main_task(), vma, LockMode::kExclusive));
    EXPECT_NE(vma->vm_lock_seq.peek(), seq(mm));  // not write-locked while waiting
    read_unlock_as(reader, vma);
  });
  vma_start_write(vma);
  EXPECT_EQ(probe().schedule_calls(), 1);
  EXPECT_TRUE(__is_vma_write_locked(vma));
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{kFlag + 2, kFlag + 1, 1u}));
  EXPECT_EQ(vm_locks_held(main_task()), 0);
  EXPECT_EQ(mm->vma_writer_wait.task.peek(), nullptr);
  mmap_write_unlock(mm);
}

// invariant I13, interleaving S4: readers present and a fatal signal pending. The condition
// is false, the signal ends the wait at once: -EINTR with FLAG removed again,
// vm_lock_seq unchanged, the readers' references intact and lockdep balanced.
TEST_F(VmaStartWrite, KillableReturnsEintrWithReadersPresentAndASignalPending) {
  ASSERT_EQ(read_lock_as(reader), vma);
  ASSERT_EQ(read_lock_as(reader, kStart + 0x10), vma);
  mmap_write_lock(mm);
  const unsigned old_lock_seq = vma->vm_lock_seq.peek();
  probe().clear_trace();
  send_sigkill(main_task());
  EXPECT_EQ(vma_start_write_killable(vma), -EINTR);
  EXPECT_EQ(probe().schedule_calls(), 0);
  EXPECT_EQ(refcnt(vma), 3u);  // 1 + readers
  EXPECT_EQ(refcnt(vma) & kFlag, 0u);
  EXPECT_EQ(vma->vm_lock_seq.peek(), old_lock_seq);
  EXPECT_FALSE(__is_vma_write_locked(vma));
  EXPECT_TRUE(vma_is_attached(vma));
  EXPECT_EQ(vm_locks_held(main_task()), 0);
  EXPECT_TRUE(task_holds_lock(main_task(), &mm->mmap_lock, LockMode::kExclusive));
  EXPECT_EQ(mm->vma_writer_wait.task.peek(), nullptr);
  // The count went above FLAG + 1 (a writer that would wait) and came back.
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{kFlag + 3, 3u}));
  mmap_write_unlock(mm);
  read_unlock_as(reader, vma);
  read_unlock_as(reader, vma);
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_EQ(read_lock_as(reader), vma);  // no FLAG leaked: readers still get in
  read_unlock_as(reader, vma);
}

// The condition is tested before the signal: no readers, so it holds at once.
TEST_F(VmaStartWrite, KillableWithASignalPendingButNoReadersSucceeds) {
  mmap_write_lock(mm);
  send_sigkill(main_task());
  EXPECT_EQ(vma_start_write_killable(vma), 0);
  EXPECT_TRUE(__is_vma_write_locked(vma));
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{kFlag + 1, 1u}));
  mmap_write_unlock(mm);
}

TEST_F(VmaStartWrite, KillableWriterParkedForAReaderIsInterruptedBySigkill) {
  task_struct* killer = new_task("killer");
  ASSERT_EQ(read_lock_as(reader), vma);
  mmap_write_lock(mm);
  const unsigned old_lock_seq = vma->vm_lock_seq.peek();
  probe().on_schedule([&] {
    EXPECT_EQ(main_task()->__state.peek(), TASK_KILLABLE);
    as_task(killer, [&] { send_sigkill(main_task()); });
  });
  EXPECT_EQ(vma_start_write_killable(vma), -EINTR);
  EXPECT_EQ(probe().schedule_calls(), 1);
  EXPECT_EQ(refcnt(vma), 2u);
  EXPECT_EQ(vma->vm_lock_seq.peek(), old_lock_seq);
  EXPECT_FALSE(__is_vma_write_locked(vma));
  EXPECT_EQ(vm_locks_held(main_task()), 0);
  mmap_write_unlock(mm);
  read_unlock_as(reader, vma);
}

// docs/MODEL.md §8, S4 variant: the last reader leaves (and wakes the writer) at the
// same moment as the fatal signal arrives. The condition wins: 0.
TEST_F(VmaStartWrite, KillableSucceedsWhenTheLastReaderLeavesTogetherWithTheSignal) {
  task_struct* killer = new_task("killer");
  ASSERT_EQ(read_lock_as(reader), vma);
  mmap_write_lock(mm);
  probe().on_schedule([&] {
    read_unlock_as(reader, vma);
    as_task(killer, [&] { send_sigkill(main_task()); });
  });
  EXPECT_EQ(vma_start_write_killable(vma), 0);
  EXPECT_TRUE(__is_vma_write_locked(vma));
  EXPECT_EQ(refcnt(vma), 1u);
  mmap_write_unlock(mm);
}

// "Always succeeds if the vma is detached because it bails out before calling
// rcuwait_wait_event" (docs/MODEL.md).
TEST_F(VmaStartWrite, KillableOnADetachedVmaAlwaysSucceeds) {
  mmap_write_lock(mm);
  vm_area_struct* v = vm_area_alloc(mm);
  probe().clear_trace();
  send_sigkill(main_task());
  EXPECT_EQ(vma_start_write_killable(v), 0);
  EXPECT_TRUE(__is_vma_write_locked(v));
  EXPECT_EQ(refcnt(v), 0u);
  EXPECT_TRUE(refcnt_values(v).empty());  // no FLAG added
  EXPECT_EQ(accesses_to(&mm->vma_writer_wait.task, AccessKind::kStore), 0);
  EXPECT_EQ(vm_locks_held(main_task()), 0);
  vma_mark_attached(v);
  EXPECT_EQ(refcnt(v), 1u);
  mmap_write_unlock(mm);
}

TEST_F(VmaStartWrite, WithoutTheMmapWriteLockReportsMmapAssertWriteLocked) {
  vma_start_write(vma);
  // __is_vma_write_locked(), __vma_start_write() and __vma_start_exclude_readers()
  // each assert it, as in the kernel.
  expect_reports({ReportSite::mmap_assert_write_locked, ReportSite::mmap_assert_write_locked,
                  ReportSite::mmap_assert_write_locked});
  EXPECT_EQ(refcnt(vma), 1u);
}

// ---- lock_vma_under_rcu (docs/MODEL.md §8, I12) -------------------------------------

using LockVmaUnderRcu = MmapLockTest;

TEST_F(LockVmaUnderRcu, ReturnsTheReadLockedVmaForAnAddressInside) {
  for (unsigned long addr : {kStart, kStart + 0x800, kEnd - 1}) {
    EXPECT_EQ(read_lock_as(reader, addr), vma) << std::hex << addr;
    EXPECT_EQ(rcu_read_lock_depth(reader), 0);
    EXPECT_EQ(refcnt(vma), 2u);
    EXPECT_TRUE(task_holds_lock(reader, vma, LockMode::kShared));
    read_unlock_as(reader, vma);
  }
  EXPECT_EQ(stat_success(), 3u);
  EXPECT_EQ(stat_abort(), 0u);
}

TEST_F(LockVmaUnderRcu, ReturnsNullForAnAddressOutsideEveryVma) {
  for (unsigned long addr : {0ul, kStart - 1, kEnd, 0x100000ul}) {
    EXPECT_EQ(read_lock_as(reader, addr), nullptr) << std::hex << addr;
    EXPECT_EQ(rcu_read_lock_depth(reader), 0);
  }
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_EQ(vm_locks_held(reader), 0);
  EXPECT_EQ(stat_abort(), 4u);
}

TEST_F(LockVmaUnderRcu, ReturnsNullWhenTheVmaIsWriteLocked) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  EXPECT_EQ(read_lock_as(reader), nullptr);
  EXPECT_EQ(rcu_read_lock_depth(reader), 0);
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_EQ(vm_locks_held(reader), 0);
  EXPECT_EQ(stat_abort(), 1u);
  mmap_write_unlock(mm);
}

TEST_F(LockVmaUnderRcu, ReturnsNullWhileAWriterExcludesReaders) {
  mmap_write_lock(mm);
  vma_exclude_readers_state ves = {.vma = vma, .state = TASK_UNINTERRUPTIBLE, .detaching = false};
  ASSERT_EQ(__vma_start_exclude_readers(&ves), 0);
  EXPECT_EQ(read_lock_as(reader), nullptr);
  EXPECT_EQ(rcu_read_lock_depth(reader), 0);
  EXPECT_EQ(stat_miss(), 0u);  // NULL, not -EAGAIN: no retry
  __vma_end_exclude_readers(&ves);
  mmap_write_unlock(mm);
}

// docs/MODEL.md §8, S6 / B15: the VMA found is detached before the reader's increment
// (-EAGAIN, RCU dropped, the old maple nodes freed). The retry must walk from
// a reset maple state: it finds the replacement and reports nothing.
TEST_F(LockVmaUnderRcu, RetriesWithAFreshMapleStateAfterTheVmaIsDetached) {
  const maple_node* old_root = vma_tree_peek(mm);
  vm_area_struct* replacement = nullptr;
  probe().on_access(nth_access(refcnt_word(vma), AccessKind::kLoad, reader), [&] {
    as_task(main_task(), [&] {
      mmap_write_lock(mm);
      vma_start_write(vma);
      vma_tree_erase(mm, vma);
      vma_mark_detached(vma);
      replacement = vm_area_alloc(mm);  // vma is not freed yet: a different object
      replacement->vm_start = kStart;
      replacement->vm_end = kEnd;
      vma_start_write(replacement);
      vma_mark_attached(replacement);
      ASSERT_EQ(vma_tree_insert(mm, replacement, kStart, kEnd), 0);
      mmap_write_unlock(mm);
    });
    EXPECT_FALSE(rcu_head_freed(&old_root->rcu));  // the reader is still inside RCU
    // A retry that reaches the detached VMA again walked the stale maple state
    // and would retry forever: stop it.
    probe().on_access(nth_access(refcnt_word(vma), AccessKind::kLoad, reader), [] {
      throw std::runtime_error("lock_vma_under_rcu() retried on the detached VMA: stale maple state");
    });
  });
  vm_area_struct* got = read_lock_as(reader, kStart + 0x100);
  probe().cancel_access_hook();
  ASSERT_NE(replacement, nullptr);
  EXPECT_NE(replacement, vma);
  EXPECT_EQ(got, replacement);
  EXPECT_TRUE(rcu_head_freed(&old_root->rcu));
  EXPECT_EQ(stat_miss(), 1u);
  EXPECT_EQ(stat_success(), 1u);
  EXPECT_EQ(rcu_read_lock_depth(reader), 0);
  EXPECT_EQ(refcnt(replacement), 2u);
  EXPECT_EQ(refcnt(vma), 0u);
  read_unlock_as(reader, replacement);
  vm_area_free(vma);
}

// The object is freed and recycled in the same mm at another address between
// the reader's walk and its increment: the lock succeeds on the new
// incarnation, the range check after it fails, and the reference goes back.
TEST_F(LockVmaUnderRcu, RejectsARecycledVmaThatNoLongerCoversTheAddress) {
  probe().on_access(nth_access(refcnt_word(vma), AccessKind::kLoad, reader), [&] {
    as_task(main_task(), [&] {
      unmap_vma(mm, vma);
      EXPECT_EQ(map_vma(mm, 0x8000, 0x9000), vma);  // LIFO: the same object
    });
  });
  EXPECT_EQ(read_lock_as(reader, kStart), nullptr);
  EXPECT_EQ(rcu_read_lock_depth(reader), 0);
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_EQ(vm_locks_held(reader), 0);
  EXPECT_EQ(stat_abort(), 1u);
  EXPECT_EQ(stat_success(), 0u);
  EXPECT_EQ(refcnt_values(vma).back(), 1u);
  EXPECT_EQ(read_lock_as(reader, 0x8000), vma);
  read_unlock_as(reader, vma);
}

// ---- assertions (docs/MODEL.md §8, I18) ----------------------------------------------

using VmaAssert = MmapLockTest;

TEST_F(VmaAssert, LockedPassesForTheCurrentTasksReadLock) {
  ASSERT_EQ(read_lock_as(main_task()), vma);
  vma_assert_locked(vma);
  vma_assert_locked_nolockdep(vma);
  vma_assert_stabilised(vma);
  vma_assert_stabilised_nolockdep(vma);
  expect_no_reports();
  vma_end_read(vma);
}

TEST_F(VmaAssert, LockedPassesForAWriteLockedVma) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  vma_assert_locked(vma);
  vma_assert_locked_nolockdep(vma);
  vma_assert_write_locked(vma);
  expect_no_reports();
  mmap_write_unlock(mm);
}

TEST_F(VmaAssert, LockedFiresUnderTheMmapWriteLockWhenTheVmaIsNotWriteLocked) {
  mmap_write_lock(mm);
  vma_assert_locked(vma);
  expect_reports({ReportSite::vma_assert_write_locked});
  vma_assert_locked_nolockdep(vma);  // count 1: must be write-locked
  expect_reports({ReportSite::vma_assert_write_locked});
  mmap_write_unlock(mm);
}

// The lockdep form is exact per task: another task's read lock does not help.
TEST_F(VmaAssert, LockedFiresWhenOnlyAnotherTaskHoldsAReadLock) {
  ASSERT_EQ(read_lock_as(reader), vma);
  vma_assert_locked(vma);
  expect_reports({ReportSite::mmap_assert_write_locked, ReportSite::vma_assert_write_locked});
  read_unlock_as(reader, vma);
}

// The documented false negative of the non-lockdep form: vm_refcnt > 1
// passes although the current task holds nothing.
TEST_F(VmaAssert, LockedNolockdepPassesOnAnotherTasksReadReference) {
  ASSERT_EQ(read_lock_as(reader), vma);
  EXPECT_EQ(vm_locks_held(main_task()), 0);
  vma_assert_locked_nolockdep(vma);
  expect_no_reports();
  read_unlock_as(reader, vma);
  vma_assert_locked_nolockdep(vma);  // count 1, nothing held: now it fires
  expect_reports({ReportSite::mmap_assert_write_locked, ReportSite::vma_assert_write_locked});
}

TEST_F(VmaAssert, LockedNolockdepWarnsOnADetachedVma) {
  mmap_write_lock(mm);
  vm_area_struct* v = vm_area_alloc(mm);
  vma_start_write(v);  // write-locked, so only the detached WARN fires
  vma_assert_locked_nolockdep(v);
  expect_reports({ReportSite::vma_assert_locked_detached});
  vm_area_struct* w = vm_area_alloc(mm);  // neither attached nor write-locked
  vma_assert_locked_nolockdep(w);
  expect_reports({ReportSite::vma_assert_locked_detached, ReportSite::vma_assert_write_locked});
  mmap_write_unlock(mm);
}

TEST_F(VmaAssert, LockedNolockdepPassesWhileAWriterExcludesReaders) {
  mmap_write_lock(mm);
  vma_exclude_readers_state ves = {.vma = vma, .state = TASK_UNINTERRUPTIBLE, .detaching = false};
  ASSERT_EQ(__vma_start_exclude_readers(&ves), 0);
  vma_assert_locked_nolockdep(vma);  // FLAG + 1 > 1
  vma_assert_locked(vma);            // lockdep: the writer holds the map exclusively
  expect_no_reports();
  __vma_end_exclude_readers(&ves);
  mmap_write_unlock(mm);
}

TEST_F(VmaAssert, StabilisedPassesWithTheCurrentTasksMmapLockInAnyMode) {
  mmap_read_lock(mm);
  vma_assert_stabilised(vma);
  vma_assert_stabilised_nolockdep(vma);
  mmap_read_unlock(mm);
  mmap_write_lock(mm);
  vma_assert_stabilised(vma);
  mmap_write_unlock(mm);
  expect_no_reports();
}

TEST_F(VmaAssert, StabilisedFiresWhenAnotherTaskHoldsTheMmapLockAndTheCurrentTaskNothing) {
  as_task(reader, [&] { mmap_read_lock(mm); });
  vma_assert_stabilised(vma);
  expect_reports({ReportSite::mmap_assert_write_locked, ReportSite::vma_assert_write_locked});
  as_task(reader, [&] { mmap_read_unlock(mm); });
}

// The documented false negative: without lockdep, anyone's mmap_lock counts.
TEST_F(VmaAssert, StabilisedNolockdepPassesWhenAnotherTaskHoldsTheMmapLock) {
  as_task(reader, [&] { mmap_read_lock(mm); });
  vma_assert_stabilised_nolockdep(vma);
  expect_no_reports();
  as_task(reader, [&] { mmap_read_unlock(mm); });
}

TEST_F(VmaAssert, StabilisedNolockdepFallsBackToTheRefcountForm) {
  ASSERT_EQ(read_lock_as(reader), vma);
  vma_assert_stabilised_nolockdep(vma);  // another task's read reference: passes
  expect_no_reports();
  read_unlock_as(reader, vma);
  vma_assert_stabilised_nolockdep(vma);
  expect_reports({ReportSite::mmap_assert_write_locked, ReportSite::vma_assert_write_locked});
}

TEST_F(VmaAssert, AttachedAndDetachedAssertionsFollowTheRefcount) {
  vma_assert_attached(vma);
  expect_no_reports();
  vma_assert_detached(vma);
  expect_reports({ReportSite::vma_assert_detached});
  vm_area_struct* v = vm_area_alloc(mm);
  vma_assert_detached(v);
  expect_no_reports();
  vma_assert_attached(v);
  expect_reports({ReportSite::vma_assert_attached});
}

// ---- mm lifetime (invariant I11) ---------------------------------------------------

using MmLifetime = MmapLockTest;

TEST_F(MmLifetime, MmgrabPinsTheMmUntilTheLastMmdrop) {
  mm_struct* m = mm_alloc();
  EXPECT_EQ(m->mm_count.peek(), 1);
  mmgrab(m);
  EXPECT_EQ(m->mm_count.peek(), 2);
  mmdrop(m);
  EXPECT_FALSE(m->freed.load());
  mmdrop(m);
  EXPECT_TRUE(m->freed.load());
  expect_no_reports();
}

TEST_F(MmLifetime, MmgrabAfterTheFinalMmdropReportsUseAfterFree) {
  mm_struct* m = mm_alloc();
  mmdrop(m);
  mmgrab(m);
  const std::vector<CoreReport> reports = take_reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].site, ReportSite::mm_use_after_free);
  EXPECT_EQ(reports[0].object, m);
}

TEST_F(MmLifetime, MmdropBelowZeroReportsUseAfterFreeAndUnderflow) {
  mm_struct* m = mm_alloc();
  mmdrop(m);
  mmdrop(m);
  expect_reports({ReportSite::mm_use_after_free, ReportSite::mmdrop_underflow});
}

// ---- maple-lite lookup and the maple state (invariant I12, B15) -----------------

using MapleState = MmapLockTest;

TEST_F(MapleState, StaleStateWalkedAfterItsNodesGracePeriodReportsUseAfterFree) {
  ma_state mas{mm, kStart};
  rcu_read_lock();
  EXPECT_EQ(mas_walk(&mas), vma);
  const maple_node* walked = mas.node;
  rcu_read_unlock();
  map_vma(mm, 0x5000, 0x6000);  // publishes a new root, retires the walked one
  EXPECT_TRUE(rcu_head_freed(&walked->rcu));
  rcu_read_lock();
  mas_walk(&mas);
  rcu_read_unlock();
  const std::vector<CoreReport> reports = take_reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].site, ReportSite::maple_state_use_after_free);
  EXPECT_EQ(reports[0].object, walked);
}

TEST_F(MapleState, NodeRetiredDuringAReadSectionStaysValidUntilTheReaderLeaves) {
  ma_state mas{mm, kStart};
  as_task(reader, [&] {
    rcu_read_lock();
    EXPECT_EQ(mas_walk(&mas), vma);
  });
  const maple_node* walked = mas.node;
  map_vma(mm, 0x5000, 0x6000);
  EXPECT_FALSE(rcu_head_freed(&walked->rcu));
  as_task(reader, [&] {
    EXPECT_EQ(mas_walk(&mas), vma);  // same read section: still valid
    rcu_read_unlock();
  });
  expect_no_reports();
  EXPECT_TRUE(rcu_head_freed(&walked->rcu));
}

TEST_F(MapleState, MasSetRestartsTheWalkFromTheCurrentRoot) {
  ma_state mas{mm, 0x5000};
  rcu_read_lock();
  EXPECT_EQ(mas_walk(&mas), nullptr);
  rcu_read_unlock();
  vm_area_struct* added = map_vma(mm, 0x5000, 0x6000);
  mas_set(&mas, 0x5000);
  rcu_read_lock();
  EXPECT_EQ(mas_walk(&mas), added);
  rcu_read_unlock();
  expect_no_reports();
}

TEST_F(MapleState, TreeHoldsAtMostItsCapacityOfVmas) {
  mmap_write_lock(mm);
  for (int i = 1; i < kMaxVmasPerMm; ++i) {
    vm_area_struct* v = vm_area_alloc(mm);
    const unsigned long start = 0x10000ul * static_cast<unsigned long>(i + 1);
    ASSERT_EQ(vma_tree_insert(mm, v, start, start + 0x1000), 0) << i;
  }
  vm_area_struct* extra = vm_area_alloc(mm);
  EXPECT_EQ(vma_tree_insert(mm, extra, 0x900000, 0x901000), -ENOMEM);
  EXPECT_EQ(vma_tree_peek(mm)->nr_entries, kMaxVmasPerMm);
  EXPECT_EQ(vma_lookup(mm, kStart), vma);
  mmap_write_unlock(mm);
}

TEST_F(MapleState, LookupAndTreeChangesAssertTheMmapLock) {
  EXPECT_EQ(vma_lookup(mm, kStart), vma);
  expect_reports({ReportSite::mmap_assert_locked});
  vm_area_struct* v = vm_area_alloc(mm);
  EXPECT_EQ(vma_tree_insert(mm, v, 0x5000, 0x6000), 0);
  expect_reports({ReportSite::mmap_assert_write_locked});
  mmap_read_lock(mm);
  vma_tree_erase(mm, v);
  expect_reports({ReportSite::mmap_assert_write_locked});
  mmap_read_unlock(mm);
}

}  // namespace
}  // namespace vmafuzz::core
