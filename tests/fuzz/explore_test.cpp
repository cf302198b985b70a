// explore_test.cpp - systematic exploration (fuzz/explore.h) on the
// regression programs of tests/sched: on the correct model each exhausts
// its space at bound 2 with no finding, and the sleep-set reduction keeps
// every outcome the full bounded search reaches.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "fuzz/explore.h"
#include "fuzz/finding.h"
#include "tests/fuzz/sched_dir.h"

namespace vmafuzz::fuzz {
namespace {

namespace fs = std::filesystem;

// Every tests/sched program (and the kept regressions), as a path relative
// to VMAFUZZ_SCHED_DIR, in name order.
std::vector<std::string> programs() {
  std::vector<std::string> out;
  for (const fs::path& dir : {fs::path(VMAFUZZ_SCHED_DIR), fs::path(VMAFUZZ_SCHED_DIR) / "regressions"}) {
    for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".sched") out.push_back(fs::relative(e.path(), VMAFUZZ_SCHED_DIR).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What a schedule ends in: verdict, every operation's outcome, the final
// state (VMA reference counts, freed objects and mms) and the finding.
using Outcome = std::tuple<int, std::vector<std::vector<OpOutcome>>, std::vector<int>, std::vector<bool>,
                           std::vector<bool>, std::string>;

Outcome outcome_of(const ExecutionResult& r) {
  return {static_cast<int>(r.verdict), r.outcomes, r.final_state.vm_refcnt, r.final_state.vma_free,
          r.final_state.mm_freed, r.finding ? r.finding->signature() : std::string()};
}

struct Explored {
  ExploreResult result;
  std::set<Outcome> outcomes;
};

Explored run(const Scenario& sc, int bound, bool reduction) {
  Explored e;
  ExploreOptions o;
  o.preemptions = bound;
  o.reduction = reduction;
  o.on_schedule = [&e](const ExecutionResult& r) { e.outcomes.insert(outcome_of(r)); };
  e.result = explore(sc, o);
  return e;
}

TEST(Explore, EveryRegressionProgramExhaustsAtBound2WithNoFindingAndTheReductionKeepsEveryOutcome) {
  uint64_t reduced = 0;
  uint64_t full = 0;
  for (const std::string& name : programs()) {
    const Scenario sc = load_sched_scenario(name);
    const Explored with = run(sc, 2, true);
    EXPECT_TRUE(with.result.exhausted) << name;
    EXPECT_FALSE(with.result.finding) << name << ": " << with.result.finding->finding->signature();
    const Explored without = run(sc, 2, false);
    EXPECT_TRUE(without.result.exhausted) << name;
    EXPECT_LE(with.result.schedules, without.result.schedules) << name;
    EXPECT_EQ(without.result.pruned, 0u) << name;
    EXPECT_EQ(with.outcomes, without.outcomes) << name << ": the reduction lost or invented an outcome";
    reduced += with.result.schedules;
    full += without.result.schedules;
  }
  // The reduction does something on this set (it prunes at the first switch
  // to a task whose first access is independent of the preempted one's).
  EXPECT_LT(reduced, full);
}

// A three-task program at bound 3 (S3: spurious wake-ups in a detach): the same
// outcomes, fewer schedules.
TEST(Explore, ReductionKeepsEveryOutcomeOfAThreeTaskProgramAtBound3) {
  const Scenario sc = load_sched_scenario("S3_spurious_wake_in_detach.sched");
  ASSERT_EQ(sc.tasks.size(), 3u);
  const Explored with = run(sc, 3, true);
  const Explored without = run(sc, 3, false);
  ASSERT_TRUE(with.result.exhausted);
  ASSERT_TRUE(without.result.exhausted);
  EXPECT_GT(with.result.pruned, 0u);
  EXPECT_LT(with.result.schedules, without.result.schedules);
  EXPECT_EQ(with.outcomes, without.outcomes);
}

TEST(Explore, BoundZeroIsTheOneScheduleWithoutPreemptions) {
  const Explored e = run(load_sched_scenario("S1_transient_reader_vs_write_lock.sched"), 0, true);
  EXPECT_EQ(e.result.schedules, 1u);
  EXPECT_TRUE(e.result.exhausted);
}

TEST(Explore, MaxSchedulesStopsBeforeExhaustion) {
  ExploreOptions o;
  o.max_schedules = 5;
  const ExploreResult r = explore(load_sched_scenario("S9_no_detach_while_read_locked.sched"), o);
  EXPECT_EQ(r.schedules, 5u);
  EXPECT_FALSE(r.exhausted);
}

}  // namespace
}  // namespace vmafuzz::fuzz
