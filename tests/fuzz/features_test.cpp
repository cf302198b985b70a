// features_test.cpp - the interleaving features a run exports (fuzz/features.h):
// each kind shows up where the interleaving has it, the foreign-VMA refcount
// transitions only when an object was recycled into another mm, and features
// are a function of the input that changes nothing else about the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "fuzz/execution.h"
#include "fuzz/features.h"
#include "fuzz/scenario.h"
#include "tests/fuzz/sched_dir.h"


namespace vmafuzz::fuzz {
namespace {

class RecordingSink final : public FeatureSink {
 public:
  void add(uint32_t feature) override { features.push_back(feature); }
  std::vector<uint32_t> features;
};

Scenario load(const std::string& name) { return load_sched_scenario(name); }

struct FeatureRun {
  ExecutionResult result;
  std::vector<uint32_t> features;
};

FeatureRun run_with_features(const Scenario& sc) {
  Execution exec;
  RecordingSink sink;
  RunOptions options;
  options.features = &sink;
  FeatureRun r{exec.run(sc, options), {}};
  r.features = std::move(sink.features);
  return r;
}

bool has_kind(const std::vector<uint32_t>& fs, FeatureKind kind) {
  return std::any_of(fs.begin(), fs.end(), [kind](uint32_t f) { return f >> 24 == static_cast<uint32_t>(kind); });
}

uint32_t transition(uint32_t from, uint32_t to, OpKind op, bool foreign) {
  return make_feature(FeatureKind::kRefcntTransition, from, to, static_cast<uint32_t>(op) | (foreign ? kForeignVma : 0));
}

// Every refcount transition feature with the foreign bit.
std::set<uint32_t> all_foreign_transitions() {
  std::set<uint32_t> s;
  for (uint32_t from = 0; from < 8; ++from) {
    for (uint32_t to = 0; to < 8; ++to) {
      for (int op = 0; op < kNumOpKinds; ++op) s.insert(transition(from, to, static_cast<OpKind>(op), true));
    }
  }
  return s;
}

size_t count_foreign(const std::vector<uint32_t>& fs) {
  const std::set<uint32_t> foreign = all_foreign_transitions();
  return static_cast<size_t>(std::count_if(fs.begin(), fs.end(), [&](uint32_t f) { return foreign.count(f) > 0; }));
}

TEST(Features, RecycledVmaGivesForeignTransitionsOfTheReader) {
  // S5: T0's lock_vma_under_rcu takes a reference (1 -> 2) on the object
  // after it was unmapped from mm 0 and mapped again in mm 1.
  const FeatureRun r = run_with_features(load("S5_recycled_vma.sched"));
  ASSERT_EQ(r.result.verdict, Verdict::kPass);
  const auto has = [&](uint32_t f) { return std::count(r.features.begin(), r.features.end(), f) > 0; };
  EXPECT_TRUE(has(transition(1, 2, OpKind::kLockVmaUnderRcu, true)));
  EXPECT_FALSE(has(transition(1, 2, OpKind::kLockVmaUnderRcu, false)));
  // T1's munmap and T2's mmap work on their own mm's VMA: never foreign.
  int own = 0;
  for (uint32_t from = 0; from < 8; ++from) {
    for (uint32_t to = 0; to < 8; ++to) {
      for (const OpKind op : {OpKind::kMunmap, OpKind::kMmap}) {
        EXPECT_FALSE(has(transition(from, to, op, true))) << from << "->" << to;
        own += has(transition(from, to, op, false));
      }
    }
  }
  EXPECT_GT(own, 0);
}

TEST(Features, NoForeignTransitionsWithoutRecyclingOrFork) {
  // S2b: one mm, a transient reader against a detach: no object changes mm.
  const FeatureRun r = run_with_features(load("S2b_transient_reader_vs_detach_put_before_wait.sched"));
  ASSERT_FALSE(r.features.empty());
  EXPECT_EQ(count_foreign(r.features), 0u);
}

TEST(Features, EachKindAppearsWhereTheInterleavingHasIt) {
  // S2c: the reader's put wakes the detaching writer; both read words the
  // other wrote.
  const FeatureRun r = run_with_features(load("S2c_transient_reader_vs_detach_put_during_wait.sched"));
  EXPECT_TRUE(has_kind(r.features, FeatureKind::kRefcntTransition));
  EXPECT_TRUE(has_kind(r.features, FeatureKind::kReadsFrom));
  EXPECT_TRUE(has_kind(r.features, FeatureKind::kWaitWake));
}

TEST(Features, AreAFunctionOfTheInputAndChangeNothingElse) {
  for (const char* name : {"S5_recycled_vma.sched", "S4b_killable_write_lock_signal_and_last_reader.sched"}) {
    const Scenario sc = load(name);
    const FeatureRun a = run_with_features(sc);
    const FeatureRun b = run_with_features(sc);
    EXPECT_EQ(a.features, b.features) << name;
    Execution exec;
    const ExecutionResult without = exec.run(sc);
    EXPECT_EQ(without.trace_hash, a.result.trace_hash) << name;
    EXPECT_EQ(without.verdict, a.result.verdict) << name;
    EXPECT_EQ(without.steps, a.result.steps) << name;
  }
}

}  // namespace
}  // namespace vmafuzz::fuzz
