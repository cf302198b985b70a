// judge_test.cpp - the judge on its own: which oracle a core report is, how
// quiescence is classified, what a Finding names, and that the first finding
// wins. The run is a stand-in RunView (no scheduler, no fibers); scenario-level
// verdicts are in execution_test.cpp and tests/sched/.
#include "fuzz/judge.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/kernel.h"
#include "core/native_platform.h"
#include "core/vma.h"
#include "fuzz/ops.h"

namespace vmafuzz::fuzz {
namespace {

using core::ReportClass;
using core::ReportSite;

// A run of up to four tasks, each in an operation ("" between operations),
// finished, or asleep on a task_struct.
struct FakeRun final : RunView {
  int tasks = 0;
  int running = -1;
  uint64_t steps = 0;
  std::array<std::string_view, 4> ops{};
  std::array<bool, 4> done{};
  std::array<const core::task_struct*, 4> asleep{};

  int num_tasks() const override { return tasks; }
  int current() const override { return running; }
  uint64_t step() const override { return steps; }
  std::string_view operation(int t) const override { return ops[static_cast<size_t>(t)]; }
  bool finished(int t) const override { return done[static_cast<size_t>(t)]; }
  const core::task_struct* sleeper(int t) const override { return asleep[static_cast<size_t>(t)]; }
};

bool flag_is_set(const void* obj, uintptr_t /*arg*/) { return *static_cast<const bool*>(obj); }

class JudgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int t = 0; t < 4; ++t) {
      task_structs_.push_back(std::make_unique<core::task_struct>(t, "T" + std::to_string(t)));
      contexts_.push_back(OpContext{{nullptr, core::TaskLocks{}, nullptr}, nullptr});
    }
    begin(RunOptions{});
  }

  // Start judging a run of run_.tasks tasks (the oracles see them idle).
  void begin(const RunOptions& options) {
    result_ = ExecutionResult{};
    judge_.begin(result_, options, run_);
    oracle_view_ = OracleView{};
    oracle_view_.num_tasks = run_.tasks;
    for (int t = 0; t < run_.tasks; ++t) {
      oracle_view_.tasks.push_back(task_structs_[static_cast<size_t>(t)].get());
      oracle_view_.contexts.push_back(&contexts_[static_cast<size_t>(t)]);
    }
    judge_.watch(&oracle_view_);
  }

  // Task t sleeps on `what` (with __state `state`); its condition is `*holds`.
  void sleep(int t, const char* what, const bool* holds, unsigned state = core::TASK_UNINTERRUPTIBLE) {
    core::task_struct& ts = *task_structs_[static_cast<size_t>(t)];
    ts.__state.raw_store(state, std::memory_order_relaxed);
    ts.waiting_for = core::wait_site{what, &flag_is_set, holds, 0};
    run_.asleep[static_cast<size_t>(t)] = &ts;
  }

  std::vector<std::unique_ptr<core::task_struct>> task_structs_;
  std::vector<OpContext> contexts_;
  FakeRun run_;
  Judge judge_;
  ExecutionResult result_;
  OracleView oracle_view_;
};

TEST(JudgeOracleOf, EveryReportSiteMapsByItsClassOntoACoreReportOracle) {
  for (int i = 0; i < static_cast<int>(ReportSite::kCount); ++i) {
    const auto site = static_cast<ReportSite>(i);
    const core::ReportSiteInfo& info = core::report_site_info(site);
    OracleId expected = OracleId::kCoreWarn;
    switch (info.report_class) {
      case ReportClass::kWarn:
      case ReportClass::kBug: expected = OracleId::kCoreWarn; break;
      case ReportClass::kRefcount: expected = OracleId::kRefcountSaturation; break;
      case ReportClass::kLockdep: expected = OracleId::kLockdep; break;
      case ReportClass::kRcu: expected = OracleId::kRcu; break;
      case ReportClass::kLifetime: expected = OracleId::kLifetime; break;
    }
    if (site == ReportSite::refcount_sub_uaf) expected = OracleId::kRefcountUnderflow;
    if (site == ReportSite::refcount_add_uaf) expected = OracleId::kRefcountIncrementFromZero;
    EXPECT_EQ(oracle_of(site), expected) << info.name;
    EXPECT_EQ(verdict_of(oracle_of(site)), Verdict::kCoreReport) << info.name;
  }
}

TEST(JudgeOracleOf, EveryReportClassHasASite) {
  // So that the test above covers each class that sites use (kBug has none yet).
  std::array<bool, 6> seen{};
  for (int i = 0; i < static_cast<int>(ReportSite::kCount); ++i) {
    seen[static_cast<size_t>(core::report_site_info(static_cast<ReportSite>(i)).report_class)] = true;
  }
  for (ReportClass c : {ReportClass::kWarn, ReportClass::kRefcount, ReportClass::kLockdep, ReportClass::kRcu,
                        ReportClass::kLifetime}) {
    EXPECT_TRUE(seen[static_cast<size_t>(c)]) << core::report_class_name(c);
  }
}

TEST_F(JudgeTest, NothingFoundIsAPass) {
  EXPECT_FALSE(judge_.stopped());
  EXPECT_EQ(result_.verdict, Verdict::kPass);
  EXPECT_FALSE(result_.finding);
}

TEST_F(JudgeTest, QuiescenceWithASleeperWhoseConditionHoldsIsALostWakeup) {
  run_.tasks = 3;
  begin(RunOptions{});
  const bool no = false, yes = true;
  sleep(0, "vma_writer_wait (vm_refcnt == 1)", &no);
  sleep(2, "mmap_lock (write)", &yes, core::TASK_KILLABLE);
  run_.ops = {"munmap", "page_fault", "mmap"};
  judge_.on_quiescence();

  ASSERT_TRUE(judge_.stopped());
  EXPECT_EQ(result_.verdict, Verdict::kLostWakeup);
  ASSERT_TRUE(result_.finding);
  EXPECT_EQ(result_.finding->oracle, OracleId::kLostWakeup);
  EXPECT_EQ(result_.finding->task, 2);
  EXPECT_EQ(result_.finding->detail, "mmap_lock (write)");
  EXPECT_EQ(result_.finding->operation, "mmap");
  EXPECT_EQ(result_.finding->others, "munmap,page_fault");
  ASSERT_EQ(result_.blocked.size(), 2u);
  EXPECT_EQ(result_.blocked[0].task, 0);
  EXPECT_FALSE(result_.blocked[0].condition_holds);
  EXPECT_EQ(result_.blocked[0].state, core::TASK_UNINTERRUPTIBLE);
  EXPECT_EQ(result_.blocked[1].task, 2);
  EXPECT_TRUE(result_.blocked[1].condition_holds);
  EXPECT_EQ(result_.blocked[1].state, core::TASK_KILLABLE);
}

TEST_F(JudgeTest, QuiescenceWithNoConditionHoldingIsADeadlockNamingEveryWaitSite) {
  run_.tasks = 2;
  begin(RunOptions{});
  const bool no = false;
  sleep(0, "vma_writer_wait (vm_refcnt == 1)", &no);
  sleep(1, "mmap_lock (read)", &no);
  judge_.on_quiescence();

  EXPECT_EQ(result_.verdict, Verdict::kDeadlock);
  ASSERT_TRUE(result_.finding);
  EXPECT_EQ(result_.finding->oracle, OracleId::kDeadlock);
  EXPECT_EQ(result_.finding->task, -1);
  EXPECT_EQ(result_.finding->operation, "-");
  EXPECT_EQ(result_.finding->detail, "vma_writer_wait (vm_refcnt == 1); mmap_lock (read)");
  EXPECT_EQ(result_.blocked.size(), 2u);
}

TEST_F(JudgeTest, ASleeperWithoutAWaitSiteIsADeadlock) {
  run_.tasks = 1;
  begin(RunOptions{});
  task_structs_[0]->__state.raw_store(core::TASK_UNINTERRUPTIBLE, std::memory_order_relaxed);
  run_.asleep[0] = task_structs_[0].get();
  judge_.on_quiescence();
  EXPECT_EQ(result_.verdict, Verdict::kDeadlock);
  ASSERT_EQ(result_.blocked.size(), 1u);
  EXPECT_EQ(result_.blocked[0].wait_site, "schedule() without a wait site");
  EXPECT_FALSE(result_.blocked[0].condition_holds);
}

TEST_F(JudgeTest, TheFirstFindingWins) {
  run_.tasks = 1;
  judge_.stop_with(OracleId::kDeadlock, -1, "first", nullptr);
  judge_.stop_with(OracleId::kCoreWarn, 0, "second", nullptr);
  judge_.on_report(core::CoreReport{ReportSite::refcount_sub_uaf, 0, nullptr});
  EXPECT_TRUE(judge_.stopped());
  EXPECT_EQ(result_.verdict, Verdict::kDeadlock);
  ASSERT_TRUE(result_.finding);
  EXPECT_EQ(result_.finding->oracle, OracleId::kDeadlock);
  EXPECT_EQ(result_.finding->detail, "first");
  // A later core report is still recorded, but decides nothing.
  EXPECT_EQ(result_.reports.size(), 1u);
}

TEST_F(JudgeTest, AFindingNamesTheTaskItsOperationAndTheOthersInFlightSorted) {
  run_.tasks = 4;
  run_.steps = 17;
  run_.ops = {"page_fault", "munmap", "", "mmap"};  // T2 is between operations
  run_.done[3] = true;                              // and T3 has finished
  begin(RunOptions{});
  judge_.stop_with(OracleId::kCoreWarn, 1, "vma_assert_attached", nullptr);
  ASSERT_TRUE(result_.finding);
  const Finding& f = *result_.finding;
  EXPECT_EQ(f.task, 1);
  EXPECT_EQ(f.step, 17u);
  EXPECT_EQ(f.operation, "munmap");
  EXPECT_EQ(f.others, "page_fault");
  EXPECT_EQ(f.vma, -1);
  EXPECT_EQ(f.signature(), "warn|vma_assert_attached|munmap|page_fault");
}

TEST_F(JudgeTest, ATaskBetweenOperationsIsInDash) {
  run_.tasks = 2;
  run_.ops = {"", "mmap"};
  begin(RunOptions{});
  judge_.stop_with(OracleId::kCoreWarn, 0, "", nullptr);
  EXPECT_EQ(result_.finding->operation, "-");
  EXPECT_EQ(result_.finding->others, "mmap");
}

TEST_F(JudgeTest, ACoreReportStopsWithItsSiteAsDetailForTheRunningTask) {
  run_.tasks = 2;
  run_.running = 1;
  run_.ops = {"mmap", "page_fault"};
  begin(RunOptions{});
  judge_.on_report(core::CoreReport{ReportSite::rcu_read_unlock_unbalanced, 1, nullptr});
  EXPECT_TRUE(judge_.stopped());
  EXPECT_EQ(result_.verdict, Verdict::kCoreReport);
  ASSERT_EQ(result_.reports.size(), 1u);
  EXPECT_EQ(result_.reports[0].site, ReportSite::rcu_read_unlock_unbalanced);
  ASSERT_TRUE(result_.finding);
  EXPECT_EQ(result_.finding->oracle, OracleId::kRcu);
  EXPECT_EQ(result_.finding->detail, "rcu_read_unlock_unbalanced");
  EXPECT_EQ(result_.finding->task, 1);
  EXPECT_EQ(result_.finding->operation, "page_fault");
  EXPECT_EQ(result_.finding->others, "mmap");
}

TEST_F(JudgeTest, AFindingNamesTheVmaObjectItsObjectPointsInto) {
  core::NativePlatform platform;
  core::Kernel kernel(platform);
  core::KernelScope scope(kernel);
  core::vm_area_struct* first = kernel.vm_area_cache_alloc();
  core::vm_area_struct* second = kernel.vm_area_cache_alloc();
  ASSERT_NE(first, second);
  judge_.stop_with(OracleId::kRefcountUnderflow, -1, "refcount_sub_uaf", &second->vm_refcnt);
  ASSERT_TRUE(result_.finding);
  EXPECT_EQ(result_.finding->vma, 1);
}

TEST_F(JudgeTest, TheStepBoundIsALivelockOfTheRunningTask) {
  run_.tasks = 1;
  run_.ops = {"page_fault"};
  begin(RunOptions{.max_steps = 5});
  EXPECT_FALSE(judge_.on_step(0, 5));
  EXPECT_FALSE(judge_.stopped());
  EXPECT_TRUE(judge_.on_step(0, 6));
  EXPECT_EQ(result_.verdict, Verdict::kLivelock);
  ASSERT_TRUE(result_.finding);
  EXPECT_EQ(result_.finding->oracle, OracleId::kLivelock);
  EXPECT_EQ(result_.finding->task, 0);
  EXPECT_EQ(result_.finding->operation, "page_fault");
}

// A reader's +1 that carries vm_refcnt into the exclude-readers flag: the
// reader_past_limit oracle fires on it.
core::SharedAccess refcnt_rmw() {
  static int word;
  return core::SharedAccess{&word, core::SharedWordKind::kVmRefcnt, core::AccessKind::kRmw};
}
constexpr uint64_t kLimit = core::VM_REFCNT_EXCLUDE_READERS_FLAG - 1;

TEST_F(JudgeTest, AHarnessOracleHitStopsWithItsOracle) {
  run_.tasks = 1;
  run_.ops = {"page_fault"};
  begin(RunOptions{});
  EXPECT_FALSE(judge_.on_access(0, nullptr, refcnt_rmw(), 1, 2));
  EXPECT_TRUE(judge_.on_access(0, nullptr, refcnt_rmw(), kLimit, kLimit + 1));
  EXPECT_TRUE(judge_.stopped());
  EXPECT_EQ(result_.verdict, Verdict::kOracle);
  ASSERT_TRUE(result_.finding);
  EXPECT_EQ(result_.finding->oracle, OracleId::kReaderPastLimit);
  EXPECT_EQ(result_.finding->task, 0);
  // The hit is reported once: later checks do not stop the run again.
  EXPECT_FALSE(judge_.on_op_end(0));
}

TEST_F(JudgeTest, WithoutGhostOraclesAHitDecidesNothing) {
  run_.tasks = 1;
  begin(RunOptions{.ghost_oracles = false});
  EXPECT_FALSE(judge_.on_access(0, nullptr, refcnt_rmw(), kLimit, kLimit + 1));
  EXPECT_FALSE(judge_.stopped());
  EXPECT_EQ(result_.verdict, Verdict::kPass);
  EXPECT_FALSE(result_.finding);
}

TEST_F(JudgeTest, BeginStartsAFreshRun) {
  judge_.stop_with(OracleId::kDeadlock, -1, "", nullptr);
  ASSERT_TRUE(judge_.stopped());
  begin(RunOptions{});
  EXPECT_FALSE(judge_.stopped());
  EXPECT_EQ(result_.verdict, Verdict::kPass);
}

}  // namespace
}  // namespace vmafuzz::fuzz
