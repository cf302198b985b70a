// lockdep_test.cpp - lockdep-lite (held locks, mmap_lock -> vm_lock order, balance) and the RCU read side (docs/MODEL.md §8, I8, I12).
#include <gtest/gtest.h>

#include "core/lockdep.h"
#include "core/mmap_lock.h"
#include "core/rcu.h"
#include "tests/core/core_fixture.h"

namespace vmafuzz::core {
namespace {

using Lockdep = testing::CoreTest;

TEST_F(Lockdep, AcquireRecordsTheHeldLockAndReleaseRemovesIt) {
  int a = 0, b = 0;
  lock_acquire(&a, LockClass::kMmapLock, LockMode::kExclusive, false);
  lock_acquire(&b, LockClass::kVmLock, LockMode::kShared, true);
  EXPECT_TRUE(lock_is_held(&a));
  EXPECT_TRUE(task_holds_lock(main_task(), &a, LockMode::kExclusive));
  EXPECT_FALSE(task_holds_lock(main_task(), &a, LockMode::kShared));
  EXPECT_TRUE(task_holds_lock(main_task(), &b, LockMode::kShared));
  EXPECT_EQ(task_held_lock_count(main_task(), LockClass::kMmapLock), 1);
  EXPECT_EQ(task_held_lock_count(main_task(), LockClass::kVmLock), 1);
  lock_release(&a);  // out of order is fine
  EXPECT_FALSE(lock_is_held(&a));
  EXPECT_TRUE(lock_is_held(&b));
  lock_release(&b);
  EXPECT_EQ(main_task()->lockdep.depth, 0);
}

TEST_F(Lockdep, ReleaseOfALockNotHeldReports) {
  int a = 0, b = 0;
  lock_acquire(&a, LockClass::kVmLock, LockMode::kShared, true);
  lock_release(&b);
  const std::vector<CoreReport> reports = take_reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].site, ReportSite::lockdep_release_not_held);
  EXPECT_EQ(reports[0].object, &b);
  EXPECT_EQ(main_task()->lockdep.depth, 1);  // a is still held
  lock_release(&a);
}

TEST_F(Lockdep, ReleaseOfAnotherTasksLockReports) {
  int a = 0;
  task_struct* owner = new_task("owner");
  as_task(owner, [&] { lock_acquire(&a, LockClass::kVmLock, LockMode::kShared, true); });
  EXPECT_FALSE(lock_is_held(&a));
  EXPECT_TRUE(task_holds_lock(owner, &a, LockMode::kShared));
  lock_release(&a);
  expect_reports({ReportSite::lockdep_release_not_held});
  EXPECT_TRUE(task_holds_lock(owner, &a, LockMode::kShared));
}

TEST_F(Lockdep, DowngradeMakesAnExclusiveHoldSharedAndReportsWhenNotHeld) {
  int a = 0, b = 0;
  lock_acquire(&a, LockClass::kMmapLock, LockMode::kExclusive, false);
  lock_downgrade(&a);
  EXPECT_TRUE(task_holds_lock(main_task(), &a, LockMode::kShared));
  expect_no_reports();
  lock_downgrade(&b);
  expect_reports({ReportSite::lockdep_release_not_held});
  lock_release(&a);
}

TEST_F(Lockdep, BlockingAcquisitionOfAClassAlreadyHeldReportsRecursiveLocking) {
  mm_struct* a = mm_alloc();
  mm_struct* b = mm_alloc();
  mmap_read_lock(a);
  mmap_read_lock(b);  // same lock class, no nesting annotation
  expect_reports({ReportSite::lockdep_recursive_lock});
  EXPECT_TRUE(mmap_read_trylock(a));  // a trylock never reports
  expect_no_reports();
  mmap_read_unlock(a);
  mmap_read_unlock(b);
  mmap_read_unlock(a);
  EXPECT_EQ(main_task()->lockdep.depth, 0);
}

TEST_F(Lockdep, TooManyHeldLocksReportsAndDropsTheAcquisition) {
  int locks[kMaxLockDepth + 1];
  for (int i = 0; i < kMaxLockDepth; ++i) lock_acquire(&locks[i], LockClass::kVmLock, LockMode::kShared, true);
  expect_no_reports();
  lock_acquire(&locks[kMaxLockDepth], LockClass::kVmLock, LockMode::kShared, true);
  expect_reports({ReportSite::lockdep_held_lock_overflow});
  EXPECT_EQ(main_task()->lockdep.depth, kMaxLockDepth);
  EXPECT_FALSE(lock_is_held(&locks[kMaxLockDepth]));
  for (int i = 0; i < kMaxLockDepth; ++i) lock_release(&locks[i]);
  EXPECT_EQ(main_task()->lockdep.depth, 0);
}

// ---- the VMA lock's annotations (docs/MODEL.md) ----------------------------------

class VmaLockdep : public testing::CoreTest {
 protected:
  mm_struct* mm = nullptr;
  vm_area_struct* vma = nullptr;
  void SetUp() override {
    mm = mm_alloc();
    vma = map_vma(mm, 0x1000, 0x3000);
  }
};

TEST_F(VmaLockdep, ReadLockIsASharedVmLockHoldUntilVmaEndRead) {
  vm_area_struct* locked = lock_vma_under_rcu(mm, 0x1000);
  ASSERT_EQ(locked, vma);
  EXPECT_TRUE(task_holds_lock(main_task(), vma, LockMode::kShared));
  EXPECT_EQ(task_held_lock_count(main_task(), LockClass::kVmLock), 1);
  vma_end_read(vma);
  EXPECT_FALSE(lock_is_held(vma));
  EXPECT_EQ(main_task()->lockdep.depth, 0);
}

TEST_F(VmaLockdep, ReadLockTakenUnderMmapLockIsRecordedToo) {
  mmap_read_lock(mm);
  ASSERT_TRUE(vma_start_read_locked(vma));
  mmap_read_unlock(mm);
  EXPECT_TRUE(task_holds_lock(main_task(), vma, LockMode::kShared));
  vma_end_read(vma);
  EXPECT_EQ(main_task()->lockdep.depth, 0);
  expect_no_reports();
}

// Lockdep sees a writer's exclusive hold only inside the exclusion window.
TEST_F(VmaLockdep, WriterHoldsTheVmLockExclusivelyOnlyWhileExcludingReaders) {
  mmap_write_lock(mm);
  vma_exclude_readers_state ves = {.vma = vma, .state = TASK_UNINTERRUPTIBLE, .detaching = false};
  ASSERT_EQ(__vma_start_exclude_readers(&ves), 0);
  EXPECT_TRUE(ves.exclusive);
  EXPECT_TRUE(task_holds_lock(main_task(), vma, LockMode::kExclusive));
  __vma_end_exclude_readers(&ves);
  EXPECT_FALSE(lock_is_held(vma));

  vma_start_write(vma);
  EXPECT_TRUE(__is_vma_write_locked(vma));
  EXPECT_FALSE(lock_is_held(vma));
  EXPECT_EQ(task_held_lock_count(main_task(), LockClass::kVmLock), 0);
  mmap_write_unlock(mm);
}

TEST_F(VmaLockdep, BlockingMmapReadLockWhileHoldingVmaReadLockReports) {
  ASSERT_EQ(lock_vma_under_rcu(mm, 0x2000), vma);
  mmap_read_lock(mm);
  const std::vector<CoreReport> reports = take_reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].site, ReportSite::lockdep_mmap_lock_under_vma_lock);
  EXPECT_EQ(reports[0].object, &mm->mmap_lock);
  mmap_read_unlock(mm);
  vma_end_read(vma);
}

TEST_F(VmaLockdep, BlockingMmapWriteLockWhileHoldingVmaReadLockReports) {
  ASSERT_EQ(lock_vma_under_rcu(mm, 0x2000), vma);
  ASSERT_EQ(mmap_write_lock_killable(mm), 0);
  expect_reports({ReportSite::lockdep_mmap_lock_under_vma_lock});
  mmap_write_unlock(mm);
  vma_end_read(vma);
}

TEST_F(VmaLockdep, MmapReadTrylockWhileHoldingVmaReadLockReportsNothing) {
  ASSERT_EQ(lock_vma_under_rcu(mm, 0x2000), vma);
  ASSERT_TRUE(mmap_read_trylock(mm));
  expect_no_reports();
  mmap_read_unlock(mm);
  vma_end_read(vma);
}

// The fallback order is fine: mmap_lock first, then the VMA read lock.
TEST_F(VmaLockdep, VmaReadLockTakenUnderMmapReadLockReportsNothing) {
  mmap_read_lock(mm);
  ASSERT_TRUE(vma_start_read_locked(vma));
  expect_no_reports();
  vma_end_read(vma);
  mmap_read_unlock(mm);
}

// docs/MODEL.md: an exclusive vm_lock acquisition while holding a shared one (same
// class) is possible recursive locking.
TEST_F(VmaLockdep, WriteLockingWhileHoldingAnotherVmasReadLockReportsRecursiveLocking) {
  vm_area_struct* other = map_vma(mm, 0x5000, 0x6000);
  ASSERT_EQ(lock_vma_under_rcu(mm, 0x5000), other);
  ASSERT_TRUE(mmap_write_trylock(mm));  // a trylock: no mmap_lock-under-vm_lock report
  expect_no_reports();
  vma_start_write(vma);
  expect_reports({ReportSite::lockdep_recursive_lock});
  EXPECT_TRUE(__is_vma_write_locked(vma));
  mmap_write_unlock(mm);
  vma_end_read(other);
}

// ... and it really deadlocks when the reader the writer waits for is itself:
// the writer parks waiting for its own read reference to go.
TEST_F(VmaLockdep, WriteLockingAVmaTheTaskHoldsReadLockedWaitsForItself) {
  ASSERT_EQ(lock_vma_under_rcu(mm, 0x1000), vma);
  ASSERT_TRUE(mmap_write_trylock(mm));
  probe().on_schedule([&] {
    EXPECT_EQ(refcnt(vma), testing::kFlag + 2);  // waiting for FLAG + 1: our own reference
    // Held twice: shared (the read lock) and, on top, exclusive (the writer).
    EXPECT_EQ(task_held_lock_count(main_task(), LockClass::kVmLock), 2);
    EXPECT_TRUE(task_holds_lock(main_task(), vma, LockMode::kExclusive));
    send_sigkill(main_task());  // the only way out
  });
  EXPECT_EQ(vma_start_write_killable(vma), -EINTR);
  expect_reports({ReportSite::lockdep_recursive_lock});
  EXPECT_EQ(refcnt(vma), 2u);
  EXPECT_TRUE(task_holds_lock(main_task(), vma, LockMode::kShared));  // the read lock is intact
  mmap_write_unlock(mm);
  vma_end_read(vma);
}

// ---- RCU read side -----------------------------------------------------------

using RcuReadSide = testing::CoreTest;

TEST_F(RcuReadSide, NestingIsCountedPerTask) {
  task_struct* other = new_task("other");
  EXPECT_FALSE(rcu_read_lock_held());
  rcu_read_lock();
  rcu_read_lock();
  EXPECT_TRUE(rcu_read_lock_held());
  EXPECT_EQ(rcu_read_lock_depth(main_task()), 2);
  as_task(other, [&] { EXPECT_FALSE(rcu_read_lock_held()); });
  rcu_read_unlock();
  EXPECT_TRUE(rcu_read_lock_held());
  rcu_read_unlock();
  EXPECT_FALSE(rcu_read_lock_held());
}

TEST_F(RcuReadSide, UnbalancedUnlockReportsAndLeavesDepthZero) {
  rcu_read_unlock();
  const std::vector<CoreReport> reports = take_reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].site, ReportSite::rcu_read_unlock_unbalanced);
  EXPECT_EQ(reports[0].pid, main_task()->pid);
  EXPECT_EQ(rcu_read_lock_depth(main_task()), 0);
}

TEST_F(RcuReadSide, RetiredObjectIsFreedAfterEveryPreexistingReaderLeaves) {
  task_struct* r1 = new_task("reader-1");
  task_struct* r2 = new_task("reader-2");
  rcu_head head;
  as_task(r1, [] { rcu_read_lock(); });
  as_task(r2, [] { rcu_read_lock(); });
  call_rcu_free(&head);
  EXPECT_FALSE(rcu_head_freed(&head));
  rcu_read_lock();  // a reader that started after the retire does not delay it
  as_task(r1, [] { rcu_read_unlock(); });
  EXPECT_FALSE(rcu_head_freed(&head));
  as_task(r2, [] { rcu_read_unlock(); });
  EXPECT_TRUE(rcu_head_freed(&head));
  rcu_read_unlock();
}

TEST_F(RcuReadSide, ObjectRetiredOutsideAnyReadSectionIsFreedAtOnce) {
  rcu_head head;
  call_rcu_free(&head);
  EXPECT_TRUE(head.retired);
  EXPECT_TRUE(rcu_head_freed(&head));
}

}  // namespace
}  // namespace vmafuzz::core
