// explore_test.cpp - systematic exploration (fuzz/explore.h) on the
// regression programs of tests/sched: on the correct model each exhausts
// its space at bound 2 with no finding, and each reduction (sleep sets;
// bounded DPOR with sleep sets) keeps every outcome the full bounded search
// reaches.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
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

Explored run(const Scenario& sc, int bound, Reduction reduction) {
  Explored e;
  ExploreOptions o;
  o.preemptions = bound;
  o.reduction = reduction;
  o.on_schedule = [&e](const ExecutionResult& r) { e.outcomes.insert(outcome_of(r)); };
  e.result = explore(sc, o);
  return e;
}

TEST(Explore, EveryRegressionProgramExhaustsAtBound2WithNoFindingAndTheReductionsKeepEveryOutcome) {
  uint64_t dpor = 0;
  uint64_t sleep = 0;
  uint64_t full = 0;
  for (const std::string& name : programs()) {
    const Scenario sc = load_sched_scenario(name);
    const Explored without = run(sc, 2, Reduction::kNone);
    EXPECT_TRUE(without.result.exhausted) << name;
    EXPECT_FALSE(without.result.finding) << name << ": " << without.result.finding->finding->signature();
    EXPECT_EQ(without.result.pruned, 0u) << name;
    full += without.result.schedules;
    for (const Reduction red : {Reduction::kSleepSets, Reduction::kDpor}) {
      const Explored with = run(sc, 2, red);
      EXPECT_TRUE(with.result.exhausted) << name;
      EXPECT_LE(with.result.schedules, without.result.schedules) << name;
      EXPECT_EQ(with.outcomes, without.outcomes)
          << name << ": reduction " << static_cast<int>(red) << " lost or invented an outcome";
      (red == Reduction::kDpor ? dpor : sleep) += with.result.schedules;
    }
  }
  // Each reduction does something on this set, DPOR more than sleep sets.
  EXPECT_LT(sleep, full);
  EXPECT_LT(dpor, sleep);
}

// A three-task program at bound 3 (S3: spurious wake-ups in a detach): the same
// outcomes, fewer schedules.
TEST(Explore, ReductionKeepsEveryOutcomeOfAThreeTaskProgramAtBound3) {
  const Scenario sc = load_sched_scenario("S3_spurious_wake_in_detach.sched");
  ASSERT_EQ(sc.tasks.size(), 3u);
  const Explored without = run(sc, 3, Reduction::kNone);
  ASSERT_TRUE(without.result.exhausted);
  for (const Reduction red : {Reduction::kSleepSets, Reduction::kDpor}) {
    const Explored with = run(sc, 3, red);
    ASSERT_TRUE(with.result.exhausted);
    EXPECT_GT(with.result.pruned, 0u);
    EXPECT_LT(with.result.schedules, without.result.schedules);
    EXPECT_EQ(with.outcomes, without.outcomes) << "reduction " << static_cast<int>(red);
  }
}

TEST(Explore, BoundZeroIsTheOneScheduleWithoutPreemptions) {
  const Explored e = run(load_sched_scenario("S1_transient_reader_vs_write_lock.sched"), 0, Reduction::kDpor);
  EXPECT_EQ(e.result.schedules, 1u);
  EXPECT_TRUE(e.result.exhausted);
}

// Stopping and resuming, repeatedly, explores the same schedules in the same
// order as one uninterrupted search: the same counts and outcomes.
TEST(Explore, ResumingFromCheckpointsEqualsAnUninterruptedSearch) {
  const Scenario sc = load_sched_scenario("S3_spurious_wake_in_detach.sched");
  for (const Reduction red : {Reduction::kSleepSets, Reduction::kDpor}) {
    std::vector<uint64_t> hashes;
    ExploreOptions whole;
    whole.reduction = red;
    whole.on_schedule = [&hashes](const ExecutionResult& r) { hashes.push_back(r.trace_hash); };
    const ExploreResult all = explore(sc, whole);
    ASSERT_TRUE(all.exhausted);

    std::vector<uint64_t> resumed_hashes;
    std::optional<ExploreCheckpoint> saved;
    ExploreResult part;
    int sessions = 0;
    do {
      ExploreOptions o;
      o.reduction = red;
      o.max_schedules = (saved ? saved->schedules : 0) + 97;  // a stop in the middle of a subtree
      o.resume = saved ? &*saved : nullptr;
      o.on_schedule = [&resumed_hashes](const ExecutionResult& r) { resumed_hashes.push_back(r.trace_hash); };
      std::optional<ExploreCheckpoint> next;
      // Through the text form, as the CLI saves it.
      o.on_checkpoint = [&next](const ExploreCheckpoint& c) { next = parse_checkpoint(checkpoint_text(c)); };
      part = explore(sc, o);
      ASSERT_TRUE(next) << "every session ends with a checkpoint";
      saved = next;
      ++sessions;
    } while (!part.exhausted && sessions < 1000);
    EXPECT_GT(sessions, 2);
    EXPECT_EQ(part.schedules, all.schedules);
    EXPECT_EQ(part.pruned, all.pruned);
    EXPECT_EQ(part.max_depth, all.max_depth);
    EXPECT_EQ(resumed_hashes, hashes);
    // A checkpoint saved after the last schedule resumes as exhausted.
    ExploreOptions done;
    done.reduction = red;
    done.resume = &*saved;
    const ExploreResult again = explore(sc, done);
    EXPECT_TRUE(again.exhausted);
    EXPECT_EQ(again.schedules, all.schedules);
  }
  EXPECT_FALSE(parse_checkpoint("schedules 1 pruned 0 max_depth 1 points 2\n0 0 0 0\n"));
  EXPECT_FALSE(parse_checkpoint("not a checkpoint"));
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
