// hb_tracker_test.cpp - each synchronisation kind the race oracle models makes
// its happens-before edge, and without it the same accesses are a race.
#include "fuzz/hb_tracker.h"

#include <gtest/gtest.h>

#include <atomic>

#include "core/sanitizer_hooks.h"
#include "fuzz/execution.h"
#include "tests/fuzz/sched_dir.h"

namespace vmafuzz::fuzz {
namespace {

using core::AccessKind;
using core::PlainField;
using core::PlainOp;
using core::SharedAccess;
using core::SharedWordKind;

constexpr uint8_t mo(std::memory_order o) { return static_cast<uint8_t>(o); }
constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kAcquire = std::memory_order_acquire;
constexpr auto kRelease = std::memory_order_release;
constexpr auto kSeqCst = std::memory_order_seq_cst;

int g_word_a, g_word_b;  // addresses only

SharedAccess acc(const void* w, AccessKind k, std::memory_order o) {
  return SharedAccess{w, SharedWordKind::kOther, k, mo(o)};
}

class HbTrackerTest : public testing::Test {
 protected:
  void SetUp() override { hb.begin(kMaxTasks, true); }
  // T0 writes vm_flags of object 0 (step 1).
  void writer_writes() { ASSERT_EQ(hb.on_plain(0, 1, "mprotect", 0, PlainField::kVmFlags, PlainOp::kWrite), nullptr); }
  // T1 reads it: whether that is a race.
  bool reader_races() { return hb.on_plain(1, 99, "fault", 0, PlainField::kVmFlags, PlainOp::kRead) != nullptr; }
  HbTracker hb;
};

TEST_F(HbTrackerTest, UnorderedWriteAndReadAreARaceWithAStableDetailAndAnExplanation) {
  writer_writes();
  const HbRace* r = hb.on_plain(1, 9, "fault", 0, PlainField::kVmFlags, PlainOp::kRead);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->detail, "vm_flags: fault read / mprotect write");
  EXPECT_NE(r->message.find("T0's write in mprotect (step 1)"), std::string::npos) << r->message;
}

TEST_F(HbTrackerTest, ReleaseStoreAcquireLoadOrders) {
  writer_writes();
  hb.on_access(0, 2, acc(&g_word_a, AccessKind::kStore, kRelease));
  hb.on_access(1, 3, acc(&g_word_a, AccessKind::kLoad, kAcquire));
  EXPECT_FALSE(reader_races());
}

TEST_F(HbTrackerTest, RelaxedStoreIsARaceAndTheExplanationNamesThePair) {
  writer_writes();
  hb.on_access(0, 2, acc(&g_word_a, AccessKind::kStore, kRelaxed));
  hb.on_access(1, 3, acc(&g_word_a, AccessKind::kLoad, kAcquire));
  const HbRace* r = hb.on_plain(1, 4, "fault", 0, PlainField::kVmFlags, PlainOp::kRead);
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->message.find("T1's acquire load of other at step 3 read T0's relaxed store at step 2, but the store was "
                            "not a release"),
            std::string::npos)
      << r->message;
}

TEST_F(HbTrackerTest, RelaxedLoadIsARace) {
  writer_writes();
  hb.on_access(0, 2, acc(&g_word_a, AccessKind::kStore, kRelease));
  hb.on_access(1, 3, acc(&g_word_a, AccessKind::kLoad, kRelaxed));
  EXPECT_TRUE(reader_races());
}

TEST_F(HbTrackerTest, AnotherTasksRmwContinuesTheReleaseSequence) {
  writer_writes();
  hb.on_access(0, 2, acc(&g_word_a, AccessKind::kStore, kRelease));
  hb.on_access(2, 3, acc(&g_word_a, AccessKind::kRmw, kRelaxed));  // T2's relaxed RMW
  hb.on_access(1, 4, acc(&g_word_a, AccessKind::kLoad, kAcquire));  // reads the RMW
  EXPECT_FALSE(reader_races());
}

TEST_F(HbTrackerTest, AnUnorderedTasksPlainStoreEndsTheReleaseSequence) {
  writer_writes();
  hb.on_access(0, 2, acc(&g_word_a, AccessKind::kStore, kRelease));
  hb.on_access(2, 3, acc(&g_word_a, AccessKind::kStore, kRelaxed));  // T2 never synchronised with T0
  hb.on_access(1, 4, acc(&g_word_a, AccessKind::kLoad, kAcquire));
  EXPECT_TRUE(reader_races());
}

TEST_F(HbTrackerTest, FailedCmpxchgIsALoadWithItsFailureOrder) {
  writer_writes();
  hb.on_access(0, 2, acc(&g_word_a, AccessKind::kStore, kRelease));
  SharedAccess failed = acc(&g_word_a, AccessKind::kCmpxchg, kAcquire);
  failed.order = static_cast<uint8_t>(mo(kRelaxed) | core::kCmpxchgFailed);
  hb.on_access(1, 3, failed);
  EXPECT_TRUE(reader_races());
}

TEST_F(HbTrackerTest, ReleaseFenceThenRelaxedStoreAndRelaxedLoadThenAcquireFenceOrder) {
  writer_writes();
  hb.on_fence(0, 2, mo(kRelease));
  hb.on_access(0, 3, acc(&g_word_a, AccessKind::kStore, kRelaxed));
  hb.on_access(1, 4, acc(&g_word_a, AccessKind::kLoad, kRelaxed));
  EXPECT_TRUE(hb.on_plain(1, 5, "fault", 0, PlainField::kVmEnd, PlainOp::kWrite) == nullptr);  // another field
  hb.on_fence(1, 5, mo(kAcquire));
  EXPECT_FALSE(reader_races());
}

TEST_F(HbTrackerTest, WithoutTheAcquireFenceTheRelaxedLoadDoesNotOrder) {
  writer_writes();
  hb.on_fence(0, 2, mo(kRelease));
  hb.on_access(0, 3, acc(&g_word_a, AccessKind::kStore, kRelaxed));
  hb.on_access(1, 4, acc(&g_word_a, AccessKind::kLoad, kRelaxed));
  EXPECT_TRUE(reader_races());
}

TEST_F(HbTrackerTest, AReleaseFenceReleasesOnlyWhatPrecedesIt) {
  hb.on_fence(0, 1, mo(kRelease));
  writer_writes();  // after the fence
  hb.on_access(0, 3, acc(&g_word_a, AccessKind::kStore, kRelaxed));
  hb.on_access(1, 4, acc(&g_word_a, AccessKind::kLoad, kAcquire));
  EXPECT_TRUE(reader_races());
}

TEST_F(HbTrackerTest, SeqCstOperationsAndFencesActAsAcqRel) {
  writer_writes();
  hb.on_access(0, 2, acc(&g_word_a, AccessKind::kRmw, kSeqCst));
  hb.on_access(1, 3, acc(&g_word_a, AccessKind::kLoad, kSeqCst));
  EXPECT_FALSE(reader_races());
  hb.begin(kMaxTasks, true);
  writer_writes();
  hb.on_fence(0, 2, mo(kSeqCst));
  hb.on_access(0, 3, acc(&g_word_b, AccessKind::kStore, kRelaxed));
  hb.on_access(1, 4, acc(&g_word_b, AccessKind::kLoad, kRelaxed));
  hb.on_fence(1, 5, mo(kSeqCst));
  EXPECT_FALSE(reader_races());
}

TEST_F(HbTrackerTest, WakeUpOrdersTheWakersAccessesBeforeTheWakeesReturnFromSchedule) {
  writer_writes();
  hb.on_wake(0, 1);
  EXPECT_TRUE(hb.on_plain(1, 2, "fault", 0, PlainField::kVmFlags, PlainOp::kRead) != nullptr);  // not yet returned
  hb.begin(kMaxTasks, true);
  writer_writes();
  hb.on_wake(0, 1);
  hb.on_schedule_return(1);
  EXPECT_FALSE(reader_races());
}

// rwsem hand-off as rwsem.cpp makes it: the releaser's fetch_sub(release) on
// count, the waker's raw_fetch_add(acquire) under wait_lock, its
// raw_store(release) of the waiter's granted flag, the waiter's acquire load.
TEST_F(HbTrackerTest, RwsemHandOffOrdersTheReleaserBeforeTheWaiter) {
  for (const bool with_acquire : {true, false}) {
    hb.begin(kMaxTasks, true);
    writer_writes();
    hb.on_access(0, 2, acc(&g_word_a, AccessKind::kRmw, kRelease));  // T0 up_write
    hb.on_access(2, 3, acc(&g_word_a, AccessKind::kRmw, with_acquire ? kAcquire : kRelaxed));  // T2 marks the waiter
    hb.on_access(2, 3, acc(&g_word_b, AccessKind::kStore, kRelease));  // granted
    hb.on_access(1, 4, acc(&g_word_b, AccessKind::kLoad, kAcquire));   // T1 sees granted
    EXPECT_EQ(reader_races(), !with_acquire);
  }
}

// The spinlock as rwsem.cpp reports it: acquisition an acquire RMW, release a release store.
TEST_F(HbTrackerTest, SpinlockReleaseOrdersTheNextAcquisition) {
  for (const bool released : {true, false}) {
    hb.begin(kMaxTasks, true);
    hb.on_access(0, 1, acc(&g_word_a, AccessKind::kRmw, kAcquire));
    writer_writes();
    if (released) hb.on_access(0, 2, acc(&g_word_a, AccessKind::kStore, kRelease));
    hb.on_access(1, 3, acc(&g_word_a, AccessKind::kRmw, kAcquire));
    EXPECT_EQ(reader_races(), !released);
  }
}

TEST_F(HbTrackerTest, TheLastUserOfAnMmIsOrderedAfterEveryEarlierUser) {
  writer_writes();
  hb.on_mm_put(0, 0, false);
  hb.on_mm_put(1, 1, true);  // another mm's teardown: no edge
  EXPECT_TRUE(hb.on_plain(1, 5, "exit", 0, PlainField::kVmFlags, PlainOp::kWrite) != nullptr);
  hb.begin(kMaxTasks, true);
  writer_writes();
  hb.on_mm_put(0, 0, false);
  hb.on_mm_put(1, 0, true);
  EXPECT_FALSE(reader_races());
}

TEST_F(HbTrackerTest, AllocationEndsTheObjectsHistory) {
  writer_writes();
  EXPECT_EQ(hb.on_plain(1, 2, "mmap", 0, PlainField::kVmStart, PlainOp::kAlloc), nullptr);
  EXPECT_FALSE(reader_races());
}

TEST_F(HbTrackerTest, ReadsOfTwoTasksDoNotRaceButAnUnorderedWriteAfterThemDoes) {
  ASSERT_EQ(hb.on_plain(0, 1, "fault", 0, PlainField::kVmFlags, PlainOp::kRead), nullptr);
  ASSERT_EQ(hb.on_plain(1, 2, "fault", 0, PlainField::kVmFlags, PlainOp::kRead), nullptr);
  const HbRace* r = hb.on_plain(2, 3, "mprotect", 0, PlainField::kVmFlags, PlainOp::kWrite);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->detail, "vm_flags: fault read / mprotect write");
}

TEST_F(HbTrackerTest, DisabledTrackerReportsNothing) {
  hb.begin(kMaxTasks, false);
  EXPECT_FALSE(hb.enabled());
}

// Through the sim: B06's scenario is a race with the explanation naming the
// relaxed end of the seqcount, and with the oracle off (RunOptions::race_oracle)
// it passes, as it did before the oracle.
TEST(HbOracle, SeqEndWithoutReleaseIsFoundAndExplainedAndTheSwitchTurnsItOff) {
  const Scenario sc = load_sched_scenario("B06_seq_end_without_release.sched");
  Execution ex;
#if defined(VMAFUZZ_TSAN)
  // The injected runs race under TSan, which would end this process
  // (tests/tsan_races.h); tests/fuzz/tsan_catalog_test.cpp runs them in children.
  EXPECT_EQ(ex.run(sc, RunOptions{}).verdict, Verdict::kPass);
#else
  const ExecutionResult r = ex.run(sc, RunOptions{.inject = core::BugSet::of(core::Bug::seq_end_without_release)});
  ASSERT_TRUE(r.finding.has_value());
  EXPECT_EQ(r.finding->oracle, OracleId::kDataRace);
  EXPECT_NE(r.finding->message.find("acquire load of mm_lock_seq"), std::string::npos) << r.finding->message;
  EXPECT_NE(r.finding->message.find("but the store was relaxed"), std::string::npos) << r.finding->message;
  RunOptions off{.inject = core::BugSet::of(core::Bug::seq_end_without_release)};
  off.race_oracle = false;
  EXPECT_EQ(ex.run(sc, off).verdict, Verdict::kPass);
  EXPECT_EQ(ex.run(sc, RunOptions{}).verdict, Verdict::kPass);
#endif
}

}  // namespace
}  // namespace vmafuzz::fuzz
