// oracles_test.cpp - each harness oracle fires on the state it guards against,
// and stays silent on the correct counterpart of that state.
//
// The states are built directly on a native-platform Kernel (one thread, no
// scheduler) where no legal scenario can reach them: a reader past LIMIT needs
// 2^30 readers, two rcuwait waiters need two mmap write lock holders.
// Scenario-level tests of the same oracles, with catalogued bugs, are the
// tests/sched/B*.sched files.
#include "fuzz/oracles.h"

#include <gtest/gtest.h>

#include <climits>
#include <optional>
#include <set>
#include <string>

#include "core/callers.h"
#include "core/kernel.h"
#include "core/mmap_lock.h"
#include "core/native_platform.h"

namespace vmafuzz::fuzz {
namespace {

using namespace vmafuzz::core;

class OraclesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scope_.emplace(kernel_);
    for (int t = 0; t < 2; ++t) {
      tasks_.push_back(kernel_.task_create("T" + std::to_string(t)));
      contexts_.push_back(CallerContext{});
    }
    platform_.bind_current_thread(tasks_[0]);
    mm_ = mm_alloc();
    mmap_write_lock(mm_);
    vma_ = map_slot(mm_, 0);
    mmap_write_unlock(mm_);
    for (CallerContext& c : contexts_) c.mm = mm_;
    view_.num_tasks = 2;
    view_.tasks = tasks_;
    for (CallerContext& c : contexts_) view_.contexts.push_back(&c);
    view_.mms = {mm_};
    oracles_.begin(&view_);
  }

  void TearDown() override { scope_.reset(); }

  std::string fired() const {
    return oracles_.hit() ? std::string(oracle_info(oracles_.hit()->oracle).name) : "none";
  }

  static SharedAccess access(const void* word, SharedWordKind kind, AccessKind a) { return {word, kind, a}; }

  // Make task t read-hold vma_ as far as the ghost and lockdep are concerned.
  void ghost_read_hold(int t) {
    platform_.bind_current_thread(tasks_[static_cast<size_t>(t)]);
    lock_acquire(vma_, LockClass::kVmLock, LockMode::kShared, true);
    platform_.bind_current_thread(tasks_[0]);
    contexts_[static_cast<size_t>(t)].locks.vma_read = vma_;
  }

  NativePlatform platform_;
  Kernel kernel_{platform_};
  std::optional<KernelScope> scope_;
  std::vector<task_struct*> tasks_;
  std::vector<CallerContext> contexts_;
  mm_struct* mm_ = nullptr;
  vm_area_struct* vma_ = nullptr;
  OracleView view_;
  Oracles oracles_;
};

constexpr uint64_t kFlag = VM_REFCNT_EXCLUDE_READERS_FLAG;

TEST_F(OraclesTest, ReaderIncrementIntoTheFlagIsReaderPastLimit) {
  const SharedAccess a = access(&vma_->vm_refcnt.refs, SharedWordKind::kVmRefcnt, AccessKind::kCmpxchg);
  oracles_.on_access(0, a, VM_REFCNT_LIMIT - 1, VM_REFCNT_LIMIT);  // the last legal reader
  EXPECT_EQ(fired(), "none");
  oracles_.on_access(0, a, 1, kFlag + 1);  // a writer adding FLAG is no reader
  EXPECT_EQ(fired(), "none");
  oracles_.on_access(0, a, VM_REFCNT_LIMIT, kFlag);
  EXPECT_EQ(fired(), "refcount.reader_past_limit");
}

TEST_F(OraclesTest, PublishingOverAnotherWaiterIsTwoWaiters) {
  const SharedAccess a = access(&mm_->vma_writer_wait.task, SharedWordKind::kRcuwaitTask, AccessKind::kStore);
  const auto t0 = reinterpret_cast<uint64_t>(tasks_[0]);
  const auto t1 = reinterpret_cast<uint64_t>(tasks_[1]);
  oracles_.on_access(0, a, 0, t0);  // publish
  oracles_.on_access(0, a, t0, 0);  // finish
  oracles_.on_access(0, a, t0, t0);  // the same waiter again (its wait loop)
  EXPECT_EQ(fired(), "none");
  oracles_.on_access(1, a, t0, t1);
  EXPECT_EQ(fired(), "sleep.two_waiters");
}

TEST_F(OraclesTest, DetachLeavingACountIsDetachCountNotZero) {
  refcount_set(&vma_->vm_refcnt, 0);
  oracles_.on_detached(0, vma_);
  EXPECT_EQ(fired(), "none");
  refcount_set(&vma_->vm_refcnt, 1);
  oracles_.on_detached(0, vma_);
  EXPECT_EQ(fired(), "detach.count_not_zero");
}

TEST_F(OraclesTest, TheCallersObserverOfATaskTellsItsDetaches) {
  refcount_set(&vma_->vm_refcnt, 1);
  oracles_.observer(1)->on_detached(vma_);
  ASSERT_EQ(fired(), "detach.count_not_zero");
  EXPECT_EQ(oracles_.hit()->task, 1);
  EXPECT_EQ(oracles_.hit()->vma, vma_);
}

TEST_F(OraclesTest, DetachUnderAReadHolderIsReaderStillLocked) {
  refcount_set(&vma_->vm_refcnt, 0);
  contexts_[1].locks.vma_read = vma_;
  oracles_.on_detached(0, vma_);
  EXPECT_EQ(fired(), "detach.reader_still_locked");
}

TEST_F(OraclesTest, ReadHoldingADetachedVmaIsReaderStillLocked) {
  ghost_read_hold(1);
  refcount_set(&vma_->vm_refcnt, 2);  // attached + our reference: fine
  oracles_.on_step();
  EXPECT_EQ(fired(), "none");
  refcount_set(&vma_->vm_refcnt, 0);
  oracles_.on_step();
  EXPECT_EQ(fired(), "detach.reader_still_locked");
}

TEST_F(OraclesTest, ReadHoldingAWriteLockedVmaIsReadAndWriteLocked) {
  ghost_read_hold(1);
  refcount_set(&vma_->vm_refcnt, 2);
  mmap_write_lock(mm_);  // seq odd, held by T0: not yet write-locked
  oracles_.on_step();
  EXPECT_EQ(fired(), "none");
  vma_->vm_lock_seq.raw_store(mm_->mm_lock_seq.sequence.peek(), std::memory_order_relaxed);
  oracles_.on_step();
  EXPECT_EQ(fired(), "exclusion.read_and_write_locked");
  vma_->vm_lock_seq.raw_store(UINT_MAX, std::memory_order_relaxed);
  mmap_write_unlock(mm_);
}

TEST_F(OraclesTest, AssertHelpersMustPassForAReadHolder) {
  // A real read lock: lockdep records it and vm_refcnt counts it.
  ASSERT_EQ(lock_vma_under_rcu(mm_, 0), vma_);
  contexts_[0].locks.vma_read = vma_;
  oracles_.on_step();
  EXPECT_EQ(fired(), "none");
  // Lockdep lost the hold (an unbalanced annotation): vma_assert_locked() would fire.
  lock_release(vma_);
  oracles_.on_step();
  ASSERT_EQ(fired(), "assert.fires_while_locked");
  EXPECT_EQ(oracles_.hit()->detail, "vma_assert_locked");
  lock_acquire(vma_, LockClass::kVmLock, LockMode::kShared, true);
  contexts_[0].locks.vma_read = nullptr;
  vma_end_read(vma_);
}

TEST_F(OraclesTest, ANonLockdepAssertWouldFireOnACountOfOne) {
  contexts_[0].locks.vma_read = vma_;
  lock_acquire(vma_, LockClass::kVmLock, LockMode::kShared, true);
  oracles_.on_step();  // vm_refcnt 1: the reader's reference is missing
  ASSERT_EQ(fired(), "assert.fires_while_locked");
  EXPECT_EQ(oracles_.hit()->detail, "vma_assert_locked_nolockdep");
  lock_release(vma_);
}

TEST_F(OraclesTest, TouchingAVmaAfterTheReadersOwnPutIsTouchedAfterPut) {
  const SharedAccess refcnt = access(&vma_->vm_refcnt.refs, SharedWordKind::kVmRefcnt, AccessKind::kRmw);
  const SharedAccess seq = access(&vma_->vm_lock_seq, SharedWordKind::kVmLockSeq, AccessKind::kLoad);
  const SharedAccess lookup = access(&mm_->mm_mt, SharedWordKind::kMmTree, AccessKind::kLoad);
  // Put, then a new lookup, then the early check: how a stale reader comes back. Fine.
  oracles_.on_vma_access(1, vma_, refcnt, 2, 1);
  oracles_.on_vma_access(1, nullptr, lookup, 0, 0);
  oracles_.on_vma_access(1, vma_, seq, 0, 0);
  EXPECT_EQ(fired(), "none");
  // Put, then touching the VMA again in the same path (B01's shape).
  oracles_.on_vma_access(1, vma_, refcnt, 2, 1);
  oracles_.on_vma_access(1, vma_, seq, 0, 0);
  ASSERT_EQ(fired(), "lifetime.vma_touched_after_put");
  EXPECT_EQ(oracles_.hit()->detail, "vm_lock_seq");
}

TEST_F(OraclesTest, AWriterOrAnMmapLockHolderMayTouchTheVmaAfterADecrement) {
  const SharedAccess refcnt = access(&vma_->vm_refcnt.refs, SharedWordKind::kVmRefcnt, AccessKind::kRmw);
  const SharedAccess seq = access(&vma_->vm_lock_seq, SharedWordKind::kVmLockSeq, AccessKind::kLoad);
  mmap_write_lock(mm_);  // T0: the detaching writer's decrement
  oracles_.on_vma_access(0, vma_, refcnt, 1, 0);
  oracles_.on_vma_access(0, vma_, seq, 0, 0);
  mmap_write_unlock(mm_);
  mmap_read_lock(mm_);  // a reader's put, then the VMA under the mmap read lock
  oracles_.on_vma_access(0, vma_, refcnt, 2, 1);
  oracles_.on_vma_access(0, vma_, seq, 0, 0);
  mmap_read_unlock(mm_);
  oracles_.on_vma_access(1, vma_, refcnt, 2, 1);  // and an operation boundary ends the window
  oracles_.on_op_end(1);
  oracles_.on_vma_access(1, vma_, seq, 0, 0);
  EXPECT_EQ(fired(), "none");
}

TEST_F(OraclesTest, ReadHoldingAVmaOfAnotherMmIsForeignVma) {
  mm_struct* other = mm_alloc();
  ghost_read_hold(1);
  refcount_set(&vma_->vm_refcnt, 2);
  vma_->vm_mm = other;
  oracles_.on_step();
  EXPECT_EQ(fired(), "recycling.reader_holds_foreign_vma");
  vma_->vm_mm = mm_;
}

// Checked whenever mm_lock_seq or the mmap_lock count changes.
TEST_F(OraclesTest, OddSequenceWithoutAWriterIsSeqParity) {
  const SharedAccess seq = access(&mm_->mm_lock_seq.sequence, SharedWordKind::kMmLockSeq, AccessKind::kStore);
  mmap_write_lock(mm_);
  const unsigned odd = mm_->mm_lock_seq.sequence.peek();
  oracles_.on_access(0, seq, odd - 1, odd);
  EXPECT_EQ(fired(), "none");
  mmap_write_unlock(mm_);
  mm_->mm_lock_seq.sequence.raw_store(odd + 2, std::memory_order_relaxed);  // odd again, no writer
  oracles_.on_access(0, seq, odd + 1, odd + 2);
  EXPECT_EQ(fired(), "exclusion.seq_parity");
}

TEST_F(OraclesTest, EvenSequenceAtAHoldersOpEndIsSeqParity) {
  mmap_write_lock(mm_);
  contexts_[0].locks.mmap = TaskLocks::Mmap::kWrite;
  oracles_.on_op_end(0);
  EXPECT_EQ(fired(), "none");
  mm_->mm_lock_seq.sequence.raw_store(mm_->mm_lock_seq.sequence.peek() + 1, std::memory_order_relaxed);
  oracles_.on_op_end(0);
  EXPECT_EQ(fired(), "exclusion.seq_parity");
  mm_->mm_lock_seq.sequence.raw_store(mm_->mm_lock_seq.sequence.peek() - 1, std::memory_order_relaxed);
  mmap_write_unlock(mm_);
}

TEST_F(OraclesTest, RcuHeldAtOpEndAndLocksHeldAtExitAreBalance) {
  oracles_.on_op_end(0);
  oracles_.on_task_exit(0);
  EXPECT_EQ(fired(), "none");
  rcu_read_lock();
  oracles_.on_op_end(0);
  EXPECT_EQ(fired(), "balance.rcu_held");
  rcu_read_unlock();

  Oracles fresh;
  fresh.begin(&view_);
  mmap_read_lock(mm_);
  fresh.on_task_exit(0);
  ASSERT_TRUE(fresh.hit().has_value());
  EXPECT_EQ(oracle_info(fresh.hit()->oracle).name, "balance.lock_held_at_exit");
  EXPECT_EQ(fresh.hit()->detail, "mmap_lock");
  mmap_read_unlock(mm_);
}

TEST(OracleTable, NamesAreUniqueAndEveryOracleNamesAnInvariant) {
  std::set<std::string_view> names;
  for (int i = 0; i < static_cast<int>(OracleId::kCount); ++i) {
    const OracleInfo& info = oracle_info(static_cast<OracleId>(i));
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_FALSE(info.invariant.empty()) << info.name;
    EXPECT_FALSE(info.what.empty()) << info.name;
  }
}

TEST(FindingRender, PrintsTheSignatureAsADedupTokenAndTheReplayCommandLast) {
  Finding f{OracleId::kDetachCountNotZero, "", 1, 0, 42, "munmap", "fault", "vm_refcnt 1 after detach"};
  EXPECT_EQ(f.signature(), "detach.count_not_zero||munmap|fault");
  const std::string out = render_finding(f, "vmafuzz run crash-1");
  EXPECT_NE(out.find("\nDEDUP_TOKEN: detach.count_not_zero||munmap|fault\n"), std::string::npos) << out;
  EXPECT_NE(out.find("==vmafuzz== SIGNATURE: detach.count_not_zero||munmap|fault\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.rfind("==vmafuzz== ")), "==vmafuzz== replay: vmafuzz run crash-1\n");
}

}  // namespace
}  // namespace vmafuzz::fuzz
