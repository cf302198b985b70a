// hb_tracker_test.cpp - each synchronisation kind the race oracle models makes
// its happens-before edge, and without it the same accesses are a race.
#include "fuzz/hb_tracker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/sanitizer_hooks.h"
#include "fuzz/execution.h"
#include "fuzz/scenario_codec.h"
#include "tests/fuzz/sched_dir.h"
#include "tests/tsan_races.h"

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

// Every case with the tracker eager and lazy (the sim's SC mode: the events
// are applied only when a check needs the clocks).
class HbTrackerTest : public testing::TestWithParam<bool> {
 protected:
  void SetUp() override { restart(); }
  void restart() { hb.begin(kMaxTasks, true, /*lazy=*/GetParam()); }
  // T0 writes vm_flags of object 0 (step 1).
  void writer_writes() { ASSERT_EQ(hb.on_plain(0, 1, "mprotect", 0, PlainField::kVmFlags, PlainOp::kWrite), nullptr); }
  // T1 reads it: whether that is a race.
  bool reader_races() { return hb.on_plain(1, 99, "fault", 0, PlainField::kVmFlags, PlainOp::kRead) != nullptr; }
  HbTracker hb;
};

TEST_P(HbTrackerTest, UnorderedWriteAndReadAreARaceWithAStableDetailAndAnExplanation) {
  writer_writes();
  const HbRace* r = hb.on_plain(1, 9, "fault", 0, PlainField::kVmFlags, PlainOp::kRead);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->detail, "vm_flags: fault read / mprotect write");
  EXPECT_NE(r->message.find("T0's write in mprotect (step 1)"), std::string::npos) << r->message;
}

TEST_P(HbTrackerTest, ReleaseStoreAcquireLoadOrders) {
  writer_writes();
  hb.on_access(0, 2, acc(&g_word_a, AccessKind::kStore, kRelease));
  hb.on_access(1, 3, acc(&g_word_a, AccessKind::kLoad, kAcquire));
  EXPECT_FALSE(reader_races());
}

TEST_P(HbTrackerTest, RelaxedStoreIsARaceAndTheExplanationNamesThePair) {
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

TEST_P(HbTrackerTest, RelaxedLoadIsARace) {
  writer_writes();
  hb.on_access(0, 2, acc(&g_word_a, AccessKind::kStore, kRelease));
  hb.on_access(1, 3, acc(&g_word_a, AccessKind::kLoad, kRelaxed));
  EXPECT_TRUE(reader_races());
}

TEST_P(HbTrackerTest, AnotherTasksRmwContinuesTheReleaseSequence) {
  writer_writes();
  hb.on_access(0, 2, acc(&g_word_a, AccessKind::kStore, kRelease));
  hb.on_access(2, 3, acc(&g_word_a, AccessKind::kRmw, kRelaxed));  // T2's relaxed RMW
  hb.on_access(1, 4, acc(&g_word_a, AccessKind::kLoad, kAcquire));  // reads the RMW
  EXPECT_FALSE(reader_races());
}

TEST_P(HbTrackerTest, AnUnorderedTasksPlainStoreEndsTheReleaseSequence) {
  writer_writes();
  hb.on_access(0, 2, acc(&g_word_a, AccessKind::kStore, kRelease));
  hb.on_access(2, 3, acc(&g_word_a, AccessKind::kStore, kRelaxed));  // T2 never synchronised with T0
  hb.on_access(1, 4, acc(&g_word_a, AccessKind::kLoad, kAcquire));
  EXPECT_TRUE(reader_races());
}

TEST_P(HbTrackerTest, FailedCmpxchgIsALoadWithItsFailureOrder) {
  writer_writes();
  hb.on_access(0, 2, acc(&g_word_a, AccessKind::kStore, kRelease));
  SharedAccess failed = acc(&g_word_a, AccessKind::kCmpxchg, kAcquire);
  failed.order = static_cast<uint8_t>(mo(kRelaxed) | core::kCmpxchgFailed);
  hb.on_access(1, 3, failed);
  EXPECT_TRUE(reader_races());
}

TEST_P(HbTrackerTest, ReleaseFenceThenRelaxedStoreAndRelaxedLoadThenAcquireFenceOrder) {
  writer_writes();
  hb.on_fence(0, 2, mo(kRelease));
  hb.on_access(0, 3, acc(&g_word_a, AccessKind::kStore, kRelaxed));
  hb.on_access(1, 4, acc(&g_word_a, AccessKind::kLoad, kRelaxed));
  EXPECT_TRUE(hb.on_plain(1, 5, "fault", 0, PlainField::kVmEnd, PlainOp::kWrite) == nullptr);  // another field
  hb.on_fence(1, 5, mo(kAcquire));
  EXPECT_FALSE(reader_races());
}

TEST_P(HbTrackerTest, WithoutTheAcquireFenceTheRelaxedLoadDoesNotOrder) {
  writer_writes();
  hb.on_fence(0, 2, mo(kRelease));
  hb.on_access(0, 3, acc(&g_word_a, AccessKind::kStore, kRelaxed));
  hb.on_access(1, 4, acc(&g_word_a, AccessKind::kLoad, kRelaxed));
  EXPECT_TRUE(reader_races());
}

TEST_P(HbTrackerTest, AReleaseFenceReleasesOnlyWhatPrecedesIt) {
  hb.on_fence(0, 1, mo(kRelease));
  writer_writes();  // after the fence
  hb.on_access(0, 3, acc(&g_word_a, AccessKind::kStore, kRelaxed));
  hb.on_access(1, 4, acc(&g_word_a, AccessKind::kLoad, kAcquire));
  EXPECT_TRUE(reader_races());
}

TEST_P(HbTrackerTest, SeqCstOperationsAndFencesActAsAcqRel) {
  writer_writes();
  hb.on_access(0, 2, acc(&g_word_a, AccessKind::kRmw, kSeqCst));
  hb.on_access(1, 3, acc(&g_word_a, AccessKind::kLoad, kSeqCst));
  EXPECT_FALSE(reader_races());
  restart();
  writer_writes();
  hb.on_fence(0, 2, mo(kSeqCst));
  hb.on_access(0, 3, acc(&g_word_b, AccessKind::kStore, kRelaxed));
  hb.on_access(1, 4, acc(&g_word_b, AccessKind::kLoad, kRelaxed));
  hb.on_fence(1, 5, mo(kSeqCst));
  EXPECT_FALSE(reader_races());
}

TEST_P(HbTrackerTest, WakeUpOrdersTheWakersAccessesBeforeTheWakeesReturnFromSchedule) {
  writer_writes();
  hb.on_wake(0, 1);
  EXPECT_TRUE(hb.on_plain(1, 2, "fault", 0, PlainField::kVmFlags, PlainOp::kRead) != nullptr);  // not yet returned
  restart();
  writer_writes();
  hb.on_wake(0, 1);
  hb.on_schedule_return(1);
  EXPECT_FALSE(reader_races());
}

// rwsem hand-off as rwsem.cpp makes it: the releaser's fetch_sub(release) on
// count, the waker's raw_fetch_add(acquire) under wait_lock, its
// raw_store(release) of the waiter's granted flag, the waiter's acquire load.
TEST_P(HbTrackerTest, RwsemHandOffOrdersTheReleaserBeforeTheWaiter) {
  for (const bool with_acquire : {true, false}) {
    restart();
    writer_writes();
    hb.on_access(0, 2, acc(&g_word_a, AccessKind::kRmw, kRelease));  // T0 up_write
    hb.on_access(2, 3, acc(&g_word_a, AccessKind::kRmw, with_acquire ? kAcquire : kRelaxed));  // T2 marks the waiter
    hb.on_access(2, 3, acc(&g_word_b, AccessKind::kStore, kRelease));  // granted
    hb.on_access(1, 4, acc(&g_word_b, AccessKind::kLoad, kAcquire));   // T1 sees granted
    EXPECT_EQ(reader_races(), !with_acquire);
  }
}

// The spinlock as rwsem.cpp reports it: acquisition an acquire RMW, release a release store.
TEST_P(HbTrackerTest, SpinlockReleaseOrdersTheNextAcquisition) {
  for (const bool released : {true, false}) {
    restart();
    hb.on_access(0, 1, acc(&g_word_a, AccessKind::kRmw, kAcquire));
    writer_writes();
    if (released) hb.on_access(0, 2, acc(&g_word_a, AccessKind::kStore, kRelease));
    hb.on_access(1, 3, acc(&g_word_a, AccessKind::kRmw, kAcquire));
    EXPECT_EQ(reader_races(), !released);
  }
}

TEST_P(HbTrackerTest, TheLastUserOfAnMmIsOrderedAfterEveryEarlierUser) {
  writer_writes();
  hb.on_mm_put(0, 0, false);
  hb.on_mm_put(1, 1, true);  // another mm's teardown: no edge
  EXPECT_TRUE(hb.on_plain(1, 5, "exit", 0, PlainField::kVmFlags, PlainOp::kWrite) != nullptr);
  restart();
  writer_writes();
  hb.on_mm_put(0, 0, false);
  hb.on_mm_put(1, 0, true);
  EXPECT_FALSE(reader_races());
}

TEST_P(HbTrackerTest, AllocationEndsTheObjectsHistory) {
  writer_writes();
  EXPECT_EQ(hb.on_plain(1, 2, "mmap", 0, PlainField::kVmStart, PlainOp::kAlloc), nullptr);
  EXPECT_FALSE(reader_races());
}

TEST_P(HbTrackerTest, ReadsOfTwoTasksDoNotRaceButAnUnorderedWriteAfterThemDoes) {
  ASSERT_EQ(hb.on_plain(0, 1, "fault", 0, PlainField::kVmFlags, PlainOp::kRead), nullptr);
  ASSERT_EQ(hb.on_plain(1, 2, "fault", 0, PlainField::kVmFlags, PlainOp::kRead), nullptr);
  const HbRace* r = hb.on_plain(2, 3, "mprotect", 0, PlainField::kVmFlags, PlainOp::kWrite);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->detail, "vm_flags: fault read / mprotect write");
}

TEST_P(HbTrackerTest, DisabledTrackerReportsNothing) {
  hb.begin(kMaxTasks, false, GetParam());
  EXPECT_FALSE(hb.enabled());
}

// A read recorded with no conflicting access (a lazy tracker does not catch
// up there) keeps its task's epoch of that moment: before T1's release it is
// ordered before T0's write through it, after it not.
TEST_P(HbTrackerTest, AnUncheckedReadKeepsTheEpochOfItsMoment) {
  for (const bool read_first : {true, false}) {
    restart();
    if (!read_first) hb.on_access(1, 1, acc(&g_word_a, AccessKind::kStore, kRelease));
    ASSERT_EQ(hb.on_plain(1, 2, "fault", 0, PlainField::kVmFlags, PlainOp::kRead), nullptr);
    if (read_first) hb.on_access(1, 3, acc(&g_word_a, AccessKind::kStore, kRelease));
    hb.on_access(0, 4, acc(&g_word_a, AccessKind::kLoad, kAcquire));
    const HbRace* r = hb.on_plain(0, 5, "mprotect", 0, PlainField::kVmFlags, PlainOp::kWrite);
    EXPECT_EQ(r != nullptr, !read_first);
  }
}

// More events than a lazy tracker's log holds before the check: it catches
// up as the log fills, with the same verdict.
TEST_P(HbTrackerTest, ALongRunBeforeTheCheckIsJudgedTheSame) {
  for (const bool synchronised : {true, false}) {
    restart();
    writer_writes();
    for (uint64_t i = 0; i < 5000; ++i) {
      hb.on_access(static_cast<int>(i % 3), 2 + i, acc(i % 2 ? &g_word_a : &g_word_b, AccessKind::kRmw, kRelaxed));
      hb.on_schedule_return(static_cast<int>(i % 3));
    }
    if (synchronised) hb.on_access(0, 9000, acc(&g_word_b, AccessKind::kStore, kRelease));
    hb.on_access(1, 9001, acc(&g_word_b, AccessKind::kLoad, kAcquire));
    EXPECT_EQ(reader_races(), !synchronised);
  }
}

// The clocks a reader asks for (C11 mode's store history) are the applied
// ones, lazy or not: a lazy tracker catches up before it answers.
TEST_P(HbTrackerTest, ClocksAreCurrentWhenRead) {
  hb.on_access(0, 1, acc(&g_word_a, AccessKind::kStore, kRelease));
  hb.on_access(1, 2, acc(&g_word_a, AccessKind::kLoad, kAcquire));
  const VectorClock* rel = hb.release_clock(&g_word_a, SharedWordKind::kOther);
  ASSERT_NE(rel, nullptr);
  EXPECT_EQ((*rel)[0], 1u);  // T0's clock at its release store
  const VectorClock t1 = hb.clock(1);
  EXPECT_EQ(t1[0], 1u);      // T1 acquired it
  EXPECT_EQ(hb.clock(0)[0], 2u);  // the release began T0's next epoch
}

INSTANTIATE_TEST_SUITE_P(EagerAndLazy, HbTrackerTest, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& p) { return p.param ? "Lazy" : "Eager"; });

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

// The lazy tracker (SC mode's default) against the eager one
// (RunOptions::lazy_race_tracking off): on random inputs and the catalogue's
// payload-race scenarios, with every catalogued bug in turn, the same
// verdict, trace hash and finding, race details and explanations included.
// Under TSan the bugs that race on the payload by design are left out (their
// report ends the process; tests/tsan_races.h, tsan_catalog_test replays them).
TEST(HbOracle, ALazyTrackerJudgesAsAnEagerOne) {
  std::mt19937 rng(20261207);
  const auto random_bytes = [&rng](size_t max_len) {
    std::vector<uint8_t> v(rng() % (max_len + 1));
    for (uint8_t& byte : v) byte = static_cast<uint8_t>(rng());
    return v;
  };
  std::vector<Scenario> scenarios;
  for (const char* race : {"B06_seq_end_without_release.sched", "B08_mprotect_without_vma_write_lock.sched"}) {
    scenarios.push_back(load_sched_scenario(race));
    for (int i = 0; i < 50; ++i) {  // under other schedules, the race checked at other points
      Scenario sc = scenarios.back();
      sc.strategy = StrategyKind::kRandom;
      sc.choices = random_bytes(32);
      scenarios.push_back(std::move(sc));
    }
  }
  for (int i = 0; i < 200; ++i) {
    const std::vector<uint8_t> in = random_bytes(160);
    scenarios.push_back(decode_scenario(in.data(), in.size()));
  }
  Execution ex;
  int races = 0;
  for (size_t i = 0; i < scenarios.size(); ++i) {
    for (unsigned b = 0; b <= static_cast<unsigned>(core::Bug::kCount); ++b) {
#ifdef VMAFUZZ_TSAN
      if (b < static_cast<unsigned>(core::Bug::kCount) && test::races_under_tsan(static_cast<core::Bug>(b))) continue;
#endif
      RunOptions lazy{.memory_model = MemoryModel::kSC};
      if (b < static_cast<unsigned>(core::Bug::kCount)) lazy.inject = core::BugSet::of(static_cast<core::Bug>(b));
      RunOptions eager = lazy;
      eager.lazy_race_tracking = false;
      const ExecutionResult l = ex.run(scenarios[i], lazy);
      const ExecutionResult e = ex.run(scenarios[i], eager);
      ASSERT_EQ(l.verdict, e.verdict) << "scenario " << i << ", bug " << b;
      EXPECT_EQ(l.trace_hash, e.trace_hash) << "scenario " << i << ", bug " << b;
      EXPECT_EQ(l.steps, e.steps);
      EXPECT_EQ(l.outcomes, e.outcomes);
      ASSERT_EQ(l.finding.has_value(), e.finding.has_value());
      if (!l.finding) continue;
      races += l.finding->oracle == OracleId::kDataRace;
      EXPECT_EQ(l.finding->signature(), e.finding->signature()) << "scenario " << i << ", bug " << b;
      EXPECT_EQ(l.finding->detail, e.finding->detail);
      EXPECT_EQ(l.finding->message, e.finding->message);
      EXPECT_EQ(l.finding->step, e.finding->step);
      EXPECT_EQ(l.finding->task, e.finding->task);
      EXPECT_EQ(l.finding->vma, e.finding->vma);
    }
  }
  std::printf("note: %d of the runs found a data race\n", races);
#ifndef VMAFUZZ_TSAN
  EXPECT_GE(races, 20) << "the race scenarios must be found";
#endif
}

}  // namespace
}  // namespace vmafuzz::fuzz
