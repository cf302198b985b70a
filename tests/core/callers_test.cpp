// callers_test.cpp - the kernel callers (core/callers.h): each caller's outcome
// on mapped and empty slots, the locks it leaves (none), the observer told of
// every detach, and B08 forgetting the VMA write lock in mprotect alone.
#include "core/callers.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/inject.h"
#include "core/lockdep.h"
#include "core/mmap_lock.h"
#include "core/rcu.h"
#include "tests/core/core_fixture.h"

namespace vmafuzz::core {
namespace {

using testing::kFlag;

// What the observer saw of a VMA at its detach (the object is recycled after).
struct Detach {
  const vm_area_struct* vma;
  unsigned long start;
  const mm_struct* mm;
  int refs;
};

class RecordingObserver final : public CallerObserver {
 public:
  void on_detached(const vm_area_struct* vma) override {
    detached.push_back(Detach{vma, vma->vm_start, vma->vm_mm, vma->vm_refcnt.refs.peek()});
  }
  std::vector<Detach> detached;
};

class CallersTest : public testing::CoreTest {
 protected:
  void SetUp() override {
    mm = mm_alloc();
    ctx.mm = mm;
    ctx.observer = &observer;
    ASSERT_EQ(core::mmap(ctx, 0), CallerOutcome::kDone);
    vma = lookup(0);
    probe().clear_trace();
  }

  vm_area_struct* lookup(int slot) {
    mmap_read_lock(mm);
    vm_area_struct* v = vma_lookup(mm, slot_address(slot));
    mmap_read_unlock(mm);
    return v;
  }

  // Between callers the task holds nothing, and mm is not write-locked.
  void expect_nothing_held() {
    EXPECT_EQ(task_held_lock_count(main_task(), LockClass::kVmLock), 0);
    EXPECT_EQ(task_held_lock_count(main_task(), LockClass::kMmapLock), 0);
    EXPECT_EQ(rcu_read_lock_depth(main_task()), 0);
    EXPECT_EQ(seq(mm) % 2, 0u);
    EXPECT_EQ(ctx.locks.vma_read, nullptr);
  }

  mm_struct* mm = nullptr;
  vm_area_struct* vma = nullptr;  // slot 0
  RecordingObserver observer;
  CallerContext ctx;
};

TEST_F(CallersTest, MapSlotMapsAnEmptySlotWriteLockedAndAttachedWithAnIntactPayload) {
  mmap_write_lock(mm);
  vm_area_struct* v = map_slot(mm, 2);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->vm_start, slot_address(2));
  EXPECT_EQ(v->vm_end, slot_address(3));
  EXPECT_EQ(v->vm_mm, mm);
  EXPECT_EQ(v->vm_flags, VM_READ | VM_WRITE);
  EXPECT_EQ(v->anon_vma, expected_anon_vma(v));
  EXPECT_TRUE(__is_vma_write_locked(v));
  EXPECT_EQ(refcnt(v), 1u);
  EXPECT_EQ(vma_lookup(mm, slot_address(2) + kPageSize - 1), v);
  EXPECT_EQ(map_slot(mm, 2), nullptr);  // mapped already
  EXPECT_EQ(map_slot(mm, 3, VM_EXEC)->vm_flags, VM_EXEC);
  mmap_write_unlock(mm);
  expect_nothing_held();
}

TEST_F(CallersTest, MmapAndMunmapReportWhetherTheSlotWasMappedAndMunmapTellsTheObserver) {
  EXPECT_EQ(core::mmap(ctx, 0), CallerOutcome::kSkipped);
  EXPECT_EQ(core::mmap(ctx, 1), CallerOutcome::kDone);
  vm_area_struct* v = lookup(1);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(core::munmap(ctx, 1), CallerOutcome::kDone);
  ASSERT_EQ(observer.detached.size(), 1u);
  EXPECT_EQ(observer.detached[0].vma, v);
  EXPECT_EQ(observer.detached[0].refs, 0);  // told after vma_mark_detached()
  EXPECT_EQ(lookup(1), nullptr);
  EXPECT_TRUE(v->cache_free.load());
  EXPECT_EQ(core::munmap(ctx, 1), CallerOutcome::kSkipped);
  EXPECT_EQ(observer.detached.size(), 1u);
  expect_nothing_held();
}

TEST_F(CallersTest, FaultTakesTheVmaLockOnAMappedSlotAndFallsBackOnAnEmptyOne) {
  // The ghost read hold ends before vma_end_read()'s put (the reader's only RMW).
  probe().on_access(nth_access(refcnt_word(vma), AccessKind::kRmw, main_task()),
                    [&] { EXPECT_EQ(ctx.locks.vma_read, nullptr); });
  EXPECT_EQ(core::fault(ctx, 0), CallerOutcome::kVmaLocked);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{2u, 1u}));
  expect_nothing_held();
  EXPECT_EQ(core::fault(ctx, 5), CallerOutcome::kFallback);
  expect_nothing_held();
}

TEST_F(CallersTest, MprotectChangesThePayloadUnderTheVmaWriteLock) {
  const unsigned long flags = vma->vm_flags;
  EXPECT_EQ(core::mprotect(ctx, 0, WriteLockWait::kUninterruptible), CallerOutcome::kDone);
  EXPECT_EQ(vma->vm_flags, flags + 1);
  EXPECT_EQ(vma->anon_vma, expected_anon_vma(vma));
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{kFlag + 1, 1u}));
  EXPECT_EQ(core::mprotect(ctx, 0, WriteLockWait::kKillable), CallerOutcome::kDone);
  EXPECT_EQ(vma->vm_flags, flags + 2);
  EXPECT_EQ(core::mprotect(ctx, 4, WriteLockWait::kUninterruptible), CallerOutcome::kSkipped);
  EXPECT_EQ(core::mprotect(ctx, 4, WriteLockWait::kKillable), CallerOutcome::kSkipped);
  expect_nothing_held();
}

TEST_F(CallersTest, KillableMprotectIsInterruptedByAFatalSignalWhileAReaderHoldsTheVma) {
  task_struct* reader = new_task("reader");
  as_task(reader, [&] { ASSERT_EQ(lock_vma_under_rcu(mm, slot_address(0)), vma); });
  const unsigned long flags = vma->vm_flags;
  send_sigkill(main_task());
  EXPECT_EQ(core::mprotect(ctx, 0, WriteLockWait::kKillable), CallerOutcome::kInterrupted);
  EXPECT_EQ(vma->vm_flags, flags);  // nothing changed
  EXPECT_EQ(refcnt(vma), 2u);       // the reader's reference intact
  expect_nothing_held();
  as_task(reader, [&] { vma_end_read(vma); });
}

TEST_F(CallersTest, DowngradeModifiesUnderTheVmaWriteLockAndEndsIt) {
  const unsigned long flags = vma->vm_flags;
  EXPECT_EQ(core::downgrade(ctx, 0), CallerOutcome::kDone);
  EXPECT_EQ(vma->vm_flags, flags + 1);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{kFlag + 1, 1u}));
  EXPECT_NE(vma->vm_lock_seq.peek(), seq(mm));  // no longer write-locked
  EXPECT_EQ(core::downgrade(ctx, 6), CallerOutcome::kSkipped);
  expect_nothing_held();
}

TEST_F(CallersTest, ForkWriteLocksTheParentsVmasAndItsChildExitsTellingTheObserverOfEachCopy) {
  ASSERT_EQ(core::mmap(ctx, 2), CallerOutcome::kDone);
  vm_area_struct* second = lookup(2);
  probe().clear_trace();
  EXPECT_EQ(core::fork(ctx), CallerOutcome::kDone);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{kFlag + 1, 1u}));  // vma_start_write() (B03)
  EXPECT_EQ(refcnt_values(second), (std::vector<unsigned>{kFlag + 1, 1u}));
  ASSERT_EQ(observer.detached.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_NE(observer.detached[i].vma, vma);
    EXPECT_NE(observer.detached[i].vma, second);
    EXPECT_NE(observer.detached[i].mm, mm);
    EXPECT_EQ(observer.detached[i].refs, 0);
  }
  EXPECT_EQ(observer.detached[0].start, slot_address(0));
  EXPECT_EQ(observer.detached[1].start, slot_address(2));
  EXPECT_TRUE(const_cast<mm_struct*>(observer.detached[0].mm)->freed.load());  // the child exited
  EXPECT_EQ(lookup(0), vma);
  EXPECT_EQ(lookup(2), second);
  expect_nothing_held();
}

TEST_F(CallersTest, ExitMmUnmapsEveryVmaInAddressOrderAndDropsTheMm) {
  ASSERT_EQ(core::mmap(ctx, 3), CallerOutcome::kDone);
  ASSERT_EQ(core::mmap(ctx, 1), CallerOutcome::kDone);
  exit_mm(mm, &observer);
  ASSERT_EQ(observer.detached.size(), 3u);
  EXPECT_EQ(observer.detached[0].start, slot_address(0));
  EXPECT_EQ(observer.detached[1].start, slot_address(1));
  EXPECT_EQ(observer.detached[2].start, slot_address(3));
  EXPECT_TRUE(mm->freed.load());
  EXPECT_EQ(task_held_lock_count(main_task(), LockClass::kMmapLock), 0);
}

TEST_F(CallersTest, MprotectVmaReturnsEintrWithNothingChangedWhenKilledWaiting) {
  task_struct* reader = new_task("reader");
  as_task(reader, [&] { ASSERT_EQ(lock_vma_under_rcu(mm, slot_address(0)), vma); });
  const unsigned long flags = vma->vm_flags;
  mmap_write_lock(mm);
  send_sigkill(main_task());
  EXPECT_EQ(mprotect_vma(vma, WriteLockWait::kKillable), -EINTR);
  EXPECT_EQ(vma->vm_flags, flags);
  mmap_write_unlock(mm);
  as_task(reader, [&] { vma_end_read(vma); });
}

// B08: mprotect changes the payload without vma_start_write(), in either wait
// mode - so a reader holding the VMA does not hold it off - and only there.
TEST_F(CallersTest, InjectedB08SkipsTheVmaWriteLockInMprotectOnly) {
  kern().set_injected_bugs(BugSet::of(Bug::mprotect_without_vma_write_lock));
  task_struct* reader = new_task("reader");
  as_task(reader, [&] { ASSERT_EQ(lock_vma_under_rcu(mm, slot_address(0)), vma); });
  probe().clear_trace();
  const unsigned long flags = vma->vm_flags;
  const unsigned lock_seq = vma->vm_lock_seq.peek();
  EXPECT_EQ(core::mprotect(ctx, 0, WriteLockWait::kUninterruptible), CallerOutcome::kDone);
  EXPECT_EQ(core::mprotect(ctx, 0, WriteLockWait::kKillable), CallerOutcome::kDone);
  EXPECT_EQ(vma->vm_flags, flags + 2);  // under the reader's feet
  EXPECT_EQ(accesses_to(refcnt_word(vma), AccessKind::kRmw) + accesses_to(refcnt_word(vma), AccessKind::kCmpxchg),
            0);
  EXPECT_EQ(vma->vm_lock_seq.peek(), lock_seq);
  EXPECT_EQ(probe().schedule_calls(), 0);
  as_task(reader, [&] { vma_end_read(vma); });

  // A caller that does not honour caller bugs (the stress workload's
  // StressConfig::caller_bugs off) write-locks as the correct one does.
  mmap_write_lock(mm);
  EXPECT_EQ(mprotect_vma(vma, WriteLockWait::kUninterruptible, /*caller_bugs=*/false), 0);
  EXPECT_TRUE(__is_vma_write_locked(vma));
  mmap_write_unlock(mm);

  // The other writers keep their VMA write locks.
  probe().clear_trace();
  EXPECT_EQ(core::downgrade(ctx, 0), CallerOutcome::kDone);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{kFlag + 1, 1u}));
  probe().clear_trace();
  EXPECT_EQ(core::fork(ctx), CallerOutcome::kDone);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{kFlag + 1, 1u}));
  probe().clear_trace();
  EXPECT_EQ(core::munmap(ctx, 0), CallerOutcome::kDone);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{kFlag + 1, 1u, 0u}));
  expect_nothing_held();
}

}  // namespace
}  // namespace vmafuzz::core
