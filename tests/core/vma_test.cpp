// vma_test.cpp - the VMA object and vm_refcnt: every value of the spec's table, attach/detach, exclusion, vma_start_read results (docs/MODEL.md).
#include <gtest/gtest.h>

#include <vector>

#include "core/lockdep.h"
#include "core/mmap_lock.h"
#include "core/rcu.h"
#include "tests/core/core_fixture.h"

namespace vmafuzz::core {
namespace {

using testing::kFlag;
using testing::kLimit;
using testing::kSaturated;

// The shared one-VMA fixture (core_fixture.h) plus helpers of this file.
class VmaTest : public testing::OneVmaTest {
 protected:
  // vma_start_read() as task t, entered under RCU as its contract says.
  vm_area_struct* start_read_as(task_struct* t, mm_struct* m, vm_area_struct* v) {
    vm_area_struct* got = nullptr;
    as_task(t, [&] {
      rcu_read_lock();
      got = vma_start_read(m, v);
    });
    return got;
  }
  bool holds_no_vma_lock(task_struct* t) { return task_held_lock_count(t, LockClass::kVmLock) == 0; }
};

// ---- vm_refcnt: every value of docs/MODEL.md -----------------------------------

using VmRefcnt = VmaTest;

TEST_F(VmRefcnt, ZeroMeansDetached) {
  vm_area_struct* fresh = vm_area_alloc(mm);
  EXPECT_EQ(refcnt(fresh), 0u);
  EXPECT_FALSE(vma_is_attached(fresh));
  vm_area_free(fresh);

  unmap_vma(mm, vma);
  EXPECT_EQ(refcnt(vma), 0u);
  EXPECT_FALSE(vma_is_attached(vma));
}

TEST_F(VmRefcnt, OneMeansAttachedWhetherUnlockedOrWriteLocked) {
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_TRUE(vma_is_attached(vma));
  mmap_write_lock(mm);
  EXPECT_FALSE(__is_vma_write_locked(vma));
  vma_start_write(vma);
  EXPECT_TRUE(__is_vma_write_locked(vma));
  EXPECT_EQ(refcnt(vma), 1u);  // which of the two is decided by vm_lock_seq alone
  mmap_write_unlock(mm);
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{kFlag + 1, 1u}));
}

TEST_F(VmRefcnt, EachReadLockAddsOne) {
  task_struct* reader2 = new_task("reader-2");
  ASSERT_EQ(read_lock_as(reader), vma);
  EXPECT_EQ(refcnt(vma), 2u);
  ASSERT_EQ(read_lock_as(reader2), vma);
  EXPECT_EQ(refcnt(vma), 3u);
  ASSERT_EQ(read_lock_as(reader2, kEnd - 1), vma);  // the same task may hold several
  EXPECT_EQ(refcnt(vma), 4u);
  read_unlock_as(reader2, vma);
  read_unlock_as(reader2, vma);
  read_unlock_as(reader, vma);
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{2u, 3u, 4u, 3u, 2u, 1u}));
}

// 2 .. LIMIT: readers; the increment that would reach FLAG fails.
TEST_F(VmRefcnt, ReadersRaiseTheCountUpToLimitAndNoFurther) {
  refcount_set(&vma->vm_refcnt, VM_REFCNT_LIMIT - 1);  // as if LIMIT - 2 readers held it
  ASSERT_EQ(read_lock_as(reader), vma);
  EXPECT_EQ(refcnt(vma), kLimit);
  task_struct* late = new_task("late-reader");
  EXPECT_EQ(read_lock_as(late), nullptr);
  EXPECT_EQ(refcnt(vma), kLimit);
  EXPECT_TRUE(holds_no_vma_lock(late));
  read_unlock_as(reader, vma);
  EXPECT_EQ(refcnt(vma), kLimit - 1);
  refcount_set(&vma->vm_refcnt, 1);
}

// FLAG + 1, case (a): a writer has excluded all readers and not yet ended.
TEST_F(VmRefcnt, FlagPlusOneWhileAWriterHasExcludedAllReaders) {
  mmap_write_lock(mm);
  vma_exclude_readers_state ves = {.vma = vma, .state = TASK_UNINTERRUPTIBLE, .detaching = false};
  EXPECT_EQ(get_target_refcnt(&ves), kFlag + 1);
  ASSERT_EQ(__vma_start_exclude_readers(&ves), 0);
  EXPECT_TRUE(ves.exclusive);
  EXPECT_FALSE(ves.detached);
  EXPECT_EQ(refcnt(vma), kFlag + 1);
  EXPECT_TRUE(__vma_are_readers_excluded(static_cast<int>(refcnt(vma))));
  EXPECT_EQ(start_read_as(reader, mm, vma), nullptr);  // FLAG set: NULL, not -EAGAIN
  EXPECT_EQ(refcnt(vma), kFlag + 1);
  __vma_end_exclude_readers(&ves);
  EXPECT_FALSE(ves.detached);
  EXPECT_EQ(refcnt(vma), 1u);
  mmap_write_unlock(mm);
  EXPECT_EQ(probe().schedule_calls(), 0);
}

// FLAG + 1, case (b), then FLAG: a detach waits for the last transient reader;
// once it has left, FLAG alone remains until __vma_end_exclude_readers() takes
// it to 0. Driven step by step: the attach reference is dropped as
// vma_mark_detached()'s fast path does, then the slow path's exclusion.
TEST_F(VmRefcnt, FlagMeansDetachInProgressWithNoReadersLeft) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  vma_tree_erase(mm, vma);
  as_task(reader, [&] { ASSERT_TRUE(take_transient_read_ref(vma)); });
  EXPECT_EQ(refcnt(vma), 2u);
  EXPECT_EQ(__vma_refcount_put_return(vma), 1u);  // the attach reference: one reader left

  vma_exclude_readers_state ves = {.vma = vma, .state = TASK_UNINTERRUPTIBLE, .detaching = true};
  EXPECT_EQ(get_target_refcnt(&ves), kFlag);
  probe().on_access(wait_condition_load(vma, main_task()), [&] {
    EXPECT_EQ(refcnt(vma), kFlag + 1);  // detach waiting for one last reader
    as_task(reader, [&] { vma_refcount_put(vma); });  // the transient reader backs off
    EXPECT_EQ(main_task()->__state.peek(), TASK_RUNNING);  // FLAG is a wake-up value
  });
  ASSERT_EQ(__vma_start_exclude_readers(&ves), 0);
  EXPECT_TRUE(ves.exclusive);
  EXPECT_EQ(refcnt(vma), kFlag);
  EXPECT_TRUE(__vma_are_readers_excluded(static_cast<int>(refcnt(vma))));
  task_struct* late = new_task("late-reader");
  as_task(late, [&] { EXPECT_FALSE(take_transient_read_ref(vma)); });  // FLAG keeps readers out
  EXPECT_EQ(refcnt(vma), kFlag);

  __vma_end_exclude_readers(&ves);
  EXPECT_TRUE(ves.detached);
  EXPECT_EQ(refcnt(vma), 0u);
  EXPECT_TRUE(holds_no_vma_lock(main_task()));
  EXPECT_TRUE(holds_no_vma_lock(reader));
  vm_area_free(vma);
  mmap_write_unlock(mm);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{kFlag + 1, 1u, 2u, 1u, kFlag + 1, kFlag, 0u}));
}

// > FLAG + 1: a writer waits while readers remain; each leaving reader takes
// one off, and only the one reaching FLAG + 1 wakes the writer.
TEST_F(VmRefcnt, AboveFlagPlusOneWhileAWriterWaitsForReaders) {
  task_struct* reader2 = new_task("reader-2");
  ASSERT_EQ(read_lock_as(reader), vma);
  ASSERT_EQ(read_lock_as(reader2), vma);
  mmap_write_lock(mm);
  probe().on_access(wait_condition_load(vma, main_task()), [&] {
    EXPECT_EQ(refcnt(vma), kFlag + 3);
    EXPECT_FALSE(__vma_are_readers_excluded(static_cast<int>(refcnt(vma))));
    read_unlock_as(reader, vma);
    EXPECT_EQ(refcnt(vma), kFlag + 2);
    EXPECT_EQ(main_task()->__state.peek(), TASK_UNINTERRUPTIBLE);  // no wake at FLAG + 2
    read_unlock_as(reader2, vma);
    EXPECT_EQ(refcnt(vma), kFlag + 1);
    EXPECT_EQ(main_task()->__state.peek(), TASK_RUNNING);  // woken at FLAG + 1
  });
  vma_start_write(vma);
  EXPECT_TRUE(__is_vma_write_locked(vma));
  EXPECT_EQ(refcnt(vma), 1u);
  mmap_write_unlock(mm);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{2u, 3u, kFlag + 3, kFlag + 2, kFlag + 1, 1u}));
}

// Negative: a put without a read lock takes 1 to 0 (detaching an attached VMA
// behind the writer's back), the next one underflows and saturates.
TEST_F(VmRefcnt, DoublePutUnderflowsToSaturated) {
  vma_end_read(vma);
  expect_reports({ReportSite::lockdep_release_not_held});
  EXPECT_EQ(refcnt(vma), 0u);
  vma_end_read(vma);
  const std::vector<CoreReport> reports = take_reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].site, ReportSite::lockdep_release_not_held);
  EXPECT_EQ(reports[1].site, ReportSite::refcount_sub_uaf);
  EXPECT_EQ(reports[1].object, &vma->vm_refcnt);
  EXPECT_EQ(refcnt(vma), kSaturated);
  EXPECT_LT(static_cast<int>(refcnt(vma)), 0);
  EXPECT_TRUE(vma_is_attached(vma));  // non-zero: looks attached
}

// docs/MODEL.md: nothing in the VMA code checks for saturation; a reader still
// "succeeds" on a saturated counter. Only the refcount reports tell.
TEST_F(VmRefcnt, SaturatedCountStillAdmitsReadersAndReportsEveryUse) {
  refcount_set(&vma->vm_refcnt, REFCOUNT_SATURATED);
  EXPECT_EQ(read_lock_as(reader), vma);
  expect_reports({ReportSite::refcount_add_not_zero_ovf});
  EXPECT_EQ(refcnt(vma), kSaturated);
  read_unlock_as(reader, vma);
  expect_reports({ReportSite::refcount_sub_uaf});
  EXPECT_EQ(refcnt(vma), kSaturated);
}

TEST_F(VmRefcnt, ReadersAreExcludedExactlyAtFlagAndFlagPlusOne) {
  for (unsigned v : {1u, 2u, kLimit, kFlag + 2, kFlag + 100}) {
    EXPECT_FALSE(__vma_are_readers_excluded(static_cast<int>(v))) << v;
  }
  EXPECT_TRUE(__vma_are_readers_excluded(static_cast<int>(kFlag)));
  EXPECT_TRUE(__vma_are_readers_excluded(static_cast<int>(kFlag + 1)));
}

// ---- attach and detach (docs/MODEL.md) ------------------------------------

using VmaAttach = VmaTest;

TEST_F(VmaAttach, MarkAttachedTakesAWriteLockedDetachedVmaToOne) {
  mmap_write_lock(mm);
  vm_area_struct* v = vm_area_alloc(mm);
  vma_start_write(v);  // detached: vm_lock_seq alone, no exclusion
  EXPECT_TRUE(__is_vma_write_locked(v));
  EXPECT_EQ(v->vm_lock_seq.peek(), seq(mm));
  vma_mark_attached(v);
  EXPECT_EQ(refcnt(v), 1u);
  EXPECT_EQ(refcnt_values(v), (std::vector<unsigned>{1u}));  // FLAG was never added
  EXPECT_TRUE(vma_is_attached(v));
  mmap_write_unlock(mm);
}

TEST_F(VmaAttach, AttachOfAnAttachedVmaReportsAssertDetached) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  vma_mark_attached(vma);
  const std::vector<CoreReport> reports = take_reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].site, ReportSite::vma_assert_detached);
  EXPECT_EQ(reports[0].object, vma);
  EXPECT_EQ(refcnt(vma), 1u);
  mmap_write_unlock(mm);
}

TEST_F(VmaAttach, AttachWithoutTheVmaWriteLockReportsAssertWriteLocked) {
  mmap_write_lock(mm);
  vm_area_struct* v = vm_area_alloc(mm);
  vma_mark_attached(v);
  expect_reports({ReportSite::vma_assert_write_locked});
  EXPECT_EQ(refcnt(v), 1u);
  mmap_write_unlock(mm);
}

TEST_F(VmaAttach, AttachWithoutTheMmapWriteLockReportsBothAssertions) {
  vm_area_struct* v = vm_area_alloc(mm);
  vma_mark_attached(v);
  expect_reports({ReportSite::mmap_assert_write_locked, ReportSite::vma_assert_write_locked});
}

TEST_F(VmaAttach, DetachFastPathTakesOneToZeroWithoutWaiting) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  vma_tree_erase(mm, vma);
  probe().clear_trace();
  vma_mark_detached(vma);
  EXPECT_EQ(refcnt(vma), 0u);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{0u}));
  EXPECT_EQ(accesses_to(&mm->vma_writer_wait.task, AccessKind::kStore), 0);  // never waited
  EXPECT_EQ(probe().schedule_calls(), 0);
  EXPECT_TRUE(holds_no_vma_lock(main_task()));
  vm_area_free(vma);
  mmap_write_unlock(mm);
}

TEST_F(VmaAttach, DetachWithoutTheVmaWriteLockReportsAssertWriteLocked) {
  mmap_write_lock(mm);
  vma_tree_erase(mm, vma);
  vma_mark_detached(vma);
  expect_reports({ReportSite::vma_assert_write_locked});
  EXPECT_EQ(refcnt(vma), 0u);
  mmap_write_unlock(mm);
}

// docs/MODEL.md §8, S2 (reader leaves during the wait): the detacher adds FLAG, sleeps
// until the transient reader's put reaches FLAG and wakes it, then ends at 0.
TEST_F(VmaAttach, DetachWaitsForATransientReaderThenEndsAtZero) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  vma_tree_erase(mm, vma);
  as_task(reader, [&] { ASSERT_TRUE(take_transient_read_ref(vma)); });
  probe().clear_trace();
  probe().on_schedule([&] {
    EXPECT_EQ(refcnt(vma), kFlag + 1);
    EXPECT_EQ(mm->vma_writer_wait.task.peek(), main_task());
    as_task(reader, [&] { vma_refcount_put(vma); });
  });
  vma_mark_detached(vma);
  EXPECT_EQ(probe().schedule_calls(), 1);
  EXPECT_EQ(refcnt(vma), 0u);
  EXPECT_EQ(mm->vma_writer_wait.task.peek(), nullptr);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{1u, kFlag + 1, kFlag, 0u}));
  EXPECT_TRUE(holds_no_vma_lock(main_task()));
  EXPECT_TRUE(holds_no_vma_lock(reader));
  vm_area_free(vma);
  mmap_write_unlock(mm);
}

// docs/MODEL.md §8, S2 (reader leaves before the FLAG add): the reader's put is the
// final 1 -> 0 and the detacher finds the VMA detached without waiting.
TEST_F(VmaAttach, DetachNeedsNoWaitWhenTheTransientReaderLeavesBeforeTheFlagAdd) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  vma_tree_erase(mm, vma);
  as_task(reader, [&] { ASSERT_TRUE(take_transient_read_ref(vma)); });
  probe().clear_trace();
  // Load 1: vma_assert_attached(); load 2: the slow path's add_not_zero.
  probe().on_access(nth_access(refcnt_word(vma), AccessKind::kLoad, main_task(), 2), [&] {
    EXPECT_EQ(refcnt(vma), 1u);
    as_task(reader, [&] { vma_refcount_put(vma); });
  });
  vma_mark_detached(vma);
  EXPECT_EQ(refcnt(vma), 0u);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{1u, 0u}));  // FLAG never added
  EXPECT_EQ(probe().schedule_calls(), 0);
  EXPECT_EQ(accesses_to(&mm->vma_writer_wait.task, AccessKind::kStore), 0);
  EXPECT_TRUE(holds_no_vma_lock(main_task()));
  vm_area_free(vma);
  mmap_write_unlock(mm);
}

// docs/MODEL.md §8, S3: two transient readers. The first put (FLAG + 2 -> FLAG + 1)
// wakes the detacher spuriously - FLAG + 1 is a write-lock target - and it
// sleeps again until the second put reaches FLAG.
TEST_F(VmaAttach, DetachIsWokenSpuriouslyByTheFirstOfTwoReadersAndWaitsForTheSecond) {
  task_struct* reader2 = new_task("reader-2");
  mmap_write_lock(mm);
  vma_start_write(vma);
  vma_tree_erase(mm, vma);
  as_task(reader, [&] { ASSERT_TRUE(take_transient_read_ref(vma)); });
  as_task(reader2, [&] { ASSERT_TRUE(take_transient_read_ref(vma)); });
  probe().clear_trace();
  probe().on_schedule([&] {
    as_task(reader, [&] { vma_refcount_put(vma); });
    EXPECT_EQ(refcnt(vma), kFlag + 1);
    EXPECT_EQ(main_task()->__state.peek(), TASK_RUNNING);  // the spurious wake-up
  });
  probe().on_schedule([&] {
    EXPECT_EQ(main_task()->__state.peek(), TASK_UNINTERRUPTIBLE);  // re-checked, asleep again
    as_task(reader2, [&] { vma_refcount_put(vma); });
  });
  vma_mark_detached(vma);
  EXPECT_EQ(probe().schedule_calls(), 2);
  EXPECT_EQ(refcnt(vma), 0u);
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{2u, kFlag + 2, kFlag + 1, kFlag, 0u}));
  vm_area_free(vma);
  mmap_write_unlock(mm);
}

// Detaching twice: vma_assert_attached fires, the put underflows and
// saturates, and the saturated count sends the detacher into a wait that
// nothing can end (docs/MODEL.md: "writers will wait on it forever"). The test
// checks that it would park with the count saturated, then ends the wait by
// hand so that the run can finish.
TEST_F(VmaAttach, DoubleDetachReportsAndTheSaturatedCountWouldParkTheDetacherForever) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  vma_tree_erase(mm, vma);
  vma_mark_detached(vma);
  expect_no_reports();
  probe().on_schedule([&] {
    EXPECT_EQ(refcnt(vma), kSaturated);
    EXPECT_EQ(main_task()->__state.peek(), TASK_UNINTERRUPTIBLE);
    refcount_set(&vma->vm_refcnt, VM_REFCNT_EXCLUDE_READERS_FLAG);  // by hand: no task ever would
    wake_up_process(main_task());
  });
  vma_mark_detached(vma);
  expect_reports({ReportSite::vma_assert_attached, ReportSite::refcount_sub_uaf,
                  ReportSite::refcount_add_not_zero_ovf});
  EXPECT_EQ(refcnt(vma), 0u);
  EXPECT_TRUE(holds_no_vma_lock(main_task()));
  vm_area_free(vma);
  mmap_write_unlock(mm);
}

// ---- vma_start_read (docs/MODEL.md) ---------------------------------------------

using VmaStartRead = VmaTest;

TEST_F(VmaStartRead, SucceedsWithRcuStillHeldAndOneReferenceOwned) {
  ASSERT_EQ(start_read_as(reader, mm, vma), vma);
  EXPECT_EQ(rcu_read_lock_depth(reader), 1);
  EXPECT_EQ(refcnt(vma), 2u);
  EXPECT_TRUE(task_holds_lock(reader, vma, LockMode::kShared));
  as_task(reader, [&] {
    rcu_read_unlock();
    vma_end_read(vma);
  });
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_TRUE(holds_no_vma_lock(reader));
}

TEST_F(VmaStartRead, ReturnsEagainOnADetachedVmaAndDropsRcu) {
  unmap_vma(mm, vma);  // vma is now a stale pointer to a free, detached object
  vm_area_struct* got = start_read_as(reader, mm, vma);
  ASSERT_TRUE(IS_ERR(got));
  EXPECT_EQ(PTR_ERR(got), -EAGAIN);
  EXPECT_EQ(rcu_read_lock_depth(reader), 0);
  EXPECT_EQ(refcnt(vma), 0u);
  EXPECT_TRUE(holds_no_vma_lock(reader));

  vm_area_struct* fresh = vm_area_alloc(mm);  // a new, never attached incarnation
  got = start_read_as(reader, mm, fresh);
  EXPECT_EQ(PTR_ERR(got), -EAGAIN);
  EXPECT_EQ(rcu_read_lock_depth(reader), 0);
}

TEST_F(VmaStartRead, ReturnsNullOnAWriteLockedVmaAndDropsRcu) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  probe().clear_trace();
  EXPECT_EQ(start_read_as(reader, mm, vma), nullptr);
  EXPECT_EQ(rcu_read_lock_depth(reader), 0);
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_TRUE(refcnt_values(vma).empty());  // the early check bailed out before any increment
  EXPECT_TRUE(holds_no_vma_lock(reader));
  mmap_write_unlock(mm);
}

// docs/MODEL.md §8, S1: the reader's early check passes, the writer write-locks, the
// reader's increment succeeds and its check under the reference backs off.
TEST_F(VmaStartRead, TransientReaderBacksOffWhenWriteLockedAfterItsEarlyCheck) {
  probe().on_access(nth_access(refcnt_word(vma), AccessKind::kLoad, reader), [&] {
    as_task(main_task(), [&] {
      mmap_write_lock(mm);
      vma_start_write(vma);
    });
  });
  EXPECT_EQ(start_read_as(reader, mm, vma), nullptr);
  EXPECT_EQ(rcu_read_lock_depth(reader), 0);
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_TRUE(holds_no_vma_lock(reader));
  EXPECT_EQ(refcnt_values(vma), (std::vector<unsigned>{kFlag + 1, 1u, 2u, 1u}));
  EXPECT_TRUE(__is_vma_write_locked(vma));
  mmap_write_unlock(mm);
}

TEST_F(VmaStartRead, ReturnsNullAtLimitLeavingTheCountUnchanged) {
  refcount_set(&vma->vm_refcnt, VM_REFCNT_LIMIT);
  probe().clear_trace();
  EXPECT_EQ(start_read_as(reader, mm, vma), nullptr);  // NULL, not -EAGAIN
  EXPECT_EQ(refcnt(vma), kLimit);
  EXPECT_TRUE(refcnt_values(vma).empty());
  EXPECT_EQ(rcu_read_lock_depth(reader), 0);
  EXPECT_TRUE(holds_no_vma_lock(reader));
  refcount_set(&vma->vm_refcnt, 1);
}

// docs/MODEL.md §8, S5 / B13: the object was freed in mm A and recycled into mm B. The
// reader's increment succeeds on B's VMA; it must pin B across its put.
TEST_F(VmaStartRead, ReturnsNullForAVmaRecycledIntoAnotherMmAndPinsThatMmAcrossThePut) {
  mm_struct* other = mm_alloc();
  unmap_vma(mm, vma);
  vm_area_struct* recycled = map_vma(other, 0x7000, 0x9000);
  ASSERT_EQ(recycled, vma);  // LIFO cache: same object, now in the other mm
  const int other_count = other->mm_count.peek();
  int count_during_put = -1;
  // The reader's first RMW of vm_refcnt is its put (the increment is a cmpxchg).
  probe().on_access(nth_access(refcnt_word(vma), AccessKind::kRmw, reader),
                    [&] { count_during_put = other->mm_count.peek(); });
  EXPECT_EQ(start_read_as(reader, mm, vma), nullptr);
  EXPECT_EQ(count_during_put, other_count + 1);
  EXPECT_EQ(other->mm_count.peek(), other_count);
  EXPECT_EQ(refcnt(vma), 1u);
  EXPECT_EQ(rcu_read_lock_depth(reader), 0);
  EXPECT_TRUE(holds_no_vma_lock(reader));
}

TEST_F(VmaStartRead, WarnsWhenCalledWithoutRcu) {
  EXPECT_EQ(vma_start_read(mm, vma), vma);
  const std::vector<CoreReport> reports = take_reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].site, ReportSite::vma_start_read_without_rcu);
  EXPECT_EQ(reports[0].object, vma);
  vma_end_read(vma);
}

// ---- vma_start_read_locked (docs/MODEL.md) --------------------------------------

using VmaStartReadLocked = VmaTest;

TEST_F(VmaStartReadLocked, SucceedsUnderTheMmapReadLock) {
  mmap_read_lock(mm);
  EXPECT_TRUE(vma_start_read_locked(vma));
  EXPECT_TRUE(vma_start_read_locked_nested(vma, 1));
  mmap_read_unlock(mm);
  EXPECT_EQ(refcnt(vma), 3u);
  EXPECT_EQ(task_held_lock_count(main_task(), LockClass::kVmLock), 2);
  vma_end_read(vma);
  vma_end_read(vma);
  EXPECT_EQ(refcnt(vma), 1u);
}

TEST_F(VmaStartReadLocked, ReturnsFalseAtLimitLeavingTheCountUnchanged) {
  refcount_set(&vma->vm_refcnt, VM_REFCNT_LIMIT);
  mmap_read_lock(mm);
  EXPECT_FALSE(vma_start_read_locked(vma));
  mmap_read_unlock(mm);
  EXPECT_EQ(refcnt(vma), kLimit);
  EXPECT_TRUE(holds_no_vma_lock(main_task()));
  refcount_set(&vma->vm_refcnt, 1);
}

TEST_F(VmaStartReadLocked, WithoutTheMmapLockReportsMmapAssertLocked) {
  EXPECT_TRUE(vma_start_read_locked(vma));
  expect_reports({ReportSite::mmap_assert_locked});
  vma_end_read(vma);
}

// ---- allocation, duplication and free (docs/MODEL.md) ----------------------------

using VmaCache = VmaTest;

TEST_F(VmaCache, AllocReturnsTheMostRecentlyFreedObjectFirst) {
  vm_area_struct* a = vm_area_alloc(mm);
  vm_area_struct* b = vm_area_alloc(mm);
  const unsigned gen_a = a->generation;
  vm_area_free(a);
  vm_area_free(b);
  EXPECT_EQ(vm_area_alloc(mm), b);
  vm_area_struct* again = vm_area_alloc(mm);
  EXPECT_EQ(again, a);
  EXPECT_EQ(a->generation, gen_a + 1);
}

TEST_F(VmaCache, AllocInitialisesARecycledObject) {
  mm_struct* other = mm_alloc();
  unmap_vma(mm, vma);
  vm_area_struct* v = vm_area_alloc(other);
  ASSERT_EQ(v, vma);
  EXPECT_EQ(v->vm_mm, other);
  EXPECT_EQ(v->vm_start, 0u);
  EXPECT_EQ(v->vm_end, 0u);
  EXPECT_EQ(v->vm_flags, 0u);
  EXPECT_EQ(v->vm_lock_seq.peek(), UINT_MAX);
  EXPECT_EQ(refcnt(v), 0u);
}

TEST_F(VmaCache, DupCopiesThePayloadAndVmMmButStartsDetachedAndUnlocked) {
  mmap_write_lock(mm);
  vma_start_write(vma);
  vma->anon_vma = 0x1234;
  vm_area_struct* d = vm_area_dup(vma);
  EXPECT_NE(d, vma);
  EXPECT_EQ(d->vm_mm, mm);
  EXPECT_EQ(d->vm_start, kStart);
  EXPECT_EQ(d->vm_end, kEnd);
  EXPECT_EQ(d->vm_flags, vma->vm_flags);
  EXPECT_EQ(d->anon_vma, 0x1234u);
  EXPECT_EQ(refcnt(d), 0u);
  EXPECT_EQ(d->vm_lock_seq.peek(), UINT_MAX);
  EXPECT_FALSE(__is_vma_write_locked(d));
  vm_area_free(d);
  mmap_write_unlock(mm);
}

TEST_F(VmaCache, DupOfADirtyRecycledObjectResetsItsRefcount) {
  vm_area_struct* junk = vm_area_alloc(mm);
  refcount_set(&junk->vm_refcnt, 5);  // freed in a broken state (reported)
  vm_area_free(junk);
  expect_reports({ReportSite::vma_assert_detached});
  mmap_write_lock(mm);
  vma_start_write(vma);
  vm_area_struct* d = vm_area_dup(vma);
  ASSERT_EQ(d, junk);
  EXPECT_EQ(refcnt(d), 0u);
  vm_area_free(d);
  mmap_write_unlock(mm);
}

TEST_F(VmaCache, FreeOfAnAttachedVmaReportsAssertDetached) {
  vm_area_free(vma);
  const std::vector<CoreReport> reports = take_reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].site, ReportSite::vma_assert_detached);
  EXPECT_EQ(reports[0].object, vma);
  EXPECT_TRUE(vma->cache_free.load());  // freed all the same
}

TEST_F(VmaCache, DoubleFreeReports) {
  vm_area_struct* v = vm_area_alloc(mm);
  vm_area_free(v);
  expect_no_reports();
  vm_area_free(v);
  expect_reports({ReportSite::vm_area_double_free});
  EXPECT_EQ(vm_area_alloc(mm), v);  // on the free list once only
  EXPECT_NE(vm_area_alloc(mm), v);
}

}  // namespace
}  // namespace vmafuzz::core
