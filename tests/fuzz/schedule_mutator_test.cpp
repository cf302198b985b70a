// schedule_mutator_test.cpp - the fuzz target's structure-aware schedule
// mutations (fuzz/schedule_mutator.h): they change only the interleaving, each
// does what its name says, small shifts of every preemption are likely, and a
// schedule that just misses a race is one mutation from winning it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "fuzz/execution.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/schedule_mutator.h"
#include "fuzz/strategy.h"
#include "tests/fuzz/sched_dir.h"


namespace vmafuzz::fuzz {
namespace {

constexpr uint64_t kSeeds = 4096;

Scenario load(const std::string& name) { return load_sched_scenario(name); }

// S5's program and switch-list schedule: 3 tasks, 2 mms, 6 (run, action) pairs.
Scenario s5() { return load("S5_recycled_vma.sched"); }

Scenario with_strategy(Scenario sc, StrategyKind kind, std::vector<uint8_t> choices) {
  sc.strategy = kind;
  sc.pct_depth = 3;
  sc.choices = std::move(choices);
  return sc;
}

bool same_program(const Scenario& a, const Scenario& b) {
  return a.mms == b.mms && a.tasks == b.tasks && a.strategy == b.strategy && a.pct_depth == b.pct_depth;
}

bool is_reads_mutation(ScheduleMutation m) {
  return m == ScheduleMutation::kShiftStaleRead || m == ScheduleMutation::kChangeReadDepth ||
         m == ScheduleMutation::kFlipMemoryModel;
}

Scenario c11(Scenario sc, std::vector<uint8_t> reads) {
  sc.memory_model = MemoryModel::kC11;
  sc.reads = std::move(reads);
  return sc;
}

int run_of(uint8_t len_byte) { return 1 + len_byte % kSwitchListMaxRun; }

TEST(ScheduleMutator, NeverChangesTheProgramAndAlwaysChangesTheSchedule) {
  const Scenario inputs[] = {s5(), with_strategy(s5(), StrategyKind::kPct, {1, 0, 40, 0, 7, 1}),
                             with_strategy(s5(), StrategyKind::kRandom, {1, 2, 3}),
                             with_strategy(s5(), StrategyKind::kSwitchList, {}), c11(s5(), {0, 2, 0, 1}),
                             c11(with_strategy(s5(), StrategyKind::kRandom, {1, 2, 3}), {})};
  for (const Scenario& in : inputs) {
    for (uint64_t seed = 0; seed < kSeeds; ++seed) {
      Scenario out = in;
      const ScheduleMutation m = mutate_schedule(out, seed);
      ASSERT_TRUE(same_program(in, out)) << schedule_mutation_name(m);
      if (is_reads_mutation(m)) {
        EXPECT_EQ(out.choices, in.choices);
        EXPECT_NE(out, in) << schedule_mutation_name(m) << " seed " << seed;
        continue;
      }
      // A redrawn byte may come out equal by chance; every other mutation changes
      // the run (padding with exhausted-equivalent zeros does not count).
      if (m != ScheduleMutation::kRedrawPriorities && m != ScheduleMutation::kRedrawSeed &&
          m != ScheduleMutation::kSwapPreemptions) {
        std::vector<uint8_t> padded = in.choices;
        padded.resize(std::max(padded.size(), out.choices.size()), 0);
        EXPECT_NE(padded, out.choices) << schedule_mutation_name(m) << " seed " << seed;
      }
    }
  }
}

TEST(ScheduleMutator, IsAFunctionOfInputAndSeed) {
  std::map<std::vector<uint8_t>, int> distinct;
  for (uint64_t seed = 0; seed < 256; ++seed) {
    Scenario a = s5(), b = s5();
    EXPECT_EQ(mutate_schedule(a, seed), mutate_schedule(b, seed));
    EXPECT_EQ(a, b);
    ++distinct[a.choices];
  }
  EXPECT_GT(distinct.size(), 100u);  // seeds reach many schedules
}

TEST(ScheduleMutator, ShiftMovesExactlyOnePreemptionByOneToEightPoints) {
  const Scenario in = s5();
  int shifts = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    Scenario out = in;
    if (mutate_schedule(out, seed) != ScheduleMutation::kShiftPreemption) continue;
    ++shifts;
    ASSERT_EQ(out.choices.size(), in.choices.size());
    int changed = 0;
    for (size_t i = 0; i < in.choices.size(); ++i) {
      if (i % 2) {
        EXPECT_EQ(out.choices[i], in.choices[i]) << "an action byte changed";
      } else if (run_of(out.choices[i]) != run_of(in.choices[i])) {
        ++changed;
        const int delta = std::abs(run_of(out.choices[i]) - run_of(in.choices[i]));
        EXPECT_GE(delta, 1);
        EXPECT_LE(delta, 8);
      }
    }
    EXPECT_EQ(changed, 1) << "seed " << seed;
  }
  // Half of the switch-list mutations are shifts.
  EXPECT_GT(shifts, static_cast<int>(kSeeds) * 2 / 5);
  EXPECT_LT(shifts, static_cast<int>(kSeeds) * 3 / 5);
}

// The mutation the fuzzer needs most must be cheap: each preemption moved one
// point either way. P = 1/2 (shift) * 1/6 (pair) * 3/4 (magnitude 1) * 1/2
// (direction) = 1/32, so about 128 of 4096 seeds each.
TEST(ScheduleMutator, EveryOnePointShiftOfEveryPreemptionIsLikely) {
  const Scenario in = s5();
  const size_t pairs = in.choices.size() / 2;
  ASSERT_EQ(pairs, 6u);
  std::map<std::pair<size_t, int>, int> seen;  // (pair, run delta) -> seeds
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    Scenario out = in;
    if (mutate_schedule(out, seed) != ScheduleMutation::kShiftPreemption) continue;
    for (size_t p = 0; p < pairs; ++p) {
      const int delta = run_of(out.choices[2 * p]) - run_of(in.choices[2 * p]);
      if (delta) ++seen[{p, delta}];
    }
  }
  for (size_t p = 0; p < pairs; ++p) {
    const int run = run_of(in.choices[2 * p]);
    for (int delta : {-1, +1}) {
      if (run + delta < 1 || run + delta > kSwitchListMaxRun) continue;
      EXPECT_GE((seen[{p, delta}]), 40) << "pair " << p << " run " << run << " shifted by " << delta;
    }
  }
}

TEST(ScheduleMutator, InsertDeleteSwapAndActionChangesKeepPairsWhole) {
  const Scenario in = s5();
  std::map<ScheduleMutation, int> count;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    Scenario out = in;
    const ScheduleMutation m = mutate_schedule(out, seed);
    ++count[m];
    switch (m) {
      case ScheduleMutation::kInsertPreemption: EXPECT_EQ(out.choices.size(), in.choices.size() + 2); break;
      case ScheduleMutation::kDeletePreemption: EXPECT_EQ(out.choices.size() + 2, in.choices.size()); break;
      case ScheduleMutation::kSwapPreemptions:
      case ScheduleMutation::kChangeAction: {
        ASSERT_EQ(out.choices.size(), in.choices.size());
        std::vector<uint8_t> a = in.choices, b = out.choices;
        if (m == ScheduleMutation::kChangeAction) {
          // Only one odd (action) byte differs.
          int diffs = 0;
          for (size_t i = 0; i < a.size(); ++i) diffs += a[i] != b[i] ? (i % 2 ? 1 : 100) : 0;
          EXPECT_EQ(diffs, 1);
        } else {
          // The same pairs, in another order.
          std::vector<std::pair<uint8_t, uint8_t>> pa, pb;
          for (size_t i = 0; i < a.size(); i += 2) pa.emplace_back(a[i], a[i + 1]), pb.emplace_back(b[i], b[i + 1]);
          std::sort(pa.begin(), pa.end());
          std::sort(pb.begin(), pb.end());
          EXPECT_EQ(pa, pb);
        }
        break;
      }
      case ScheduleMutation::kShiftPreemption: break;
      case ScheduleMutation::kFlipMemoryModel: EXPECT_EQ(out.choices, in.choices); break;
      default: ADD_FAILURE() << "not a switch-list mutation: " << schedule_mutation_name(m);
    }
  }
  for (ScheduleMutation m : {ScheduleMutation::kChangeAction, ScheduleMutation::kInsertPreemption,
                             ScheduleMutation::kDeletePreemption, ScheduleMutation::kSwapPreemptions}) {
    EXPECT_GT(count[m], static_cast<int>(kSeeds) / 20) << schedule_mutation_name(m);
  }
  // An empty schedule can only grow (or try C11).
  Scenario empty = with_strategy(s5(), StrategyKind::kSwitchList, {});
  const ScheduleMutation grown = mutate_schedule(empty, 7);
  if (grown != ScheduleMutation::kFlipMemoryModel) {
    EXPECT_EQ(grown, ScheduleMutation::kInsertPreemption);
    EXPECT_EQ(empty.choices.size(), 2u);
  }
}

TEST(ScheduleMutator, PctShiftsOneChangePointOrRedrawsThePriorities) {
  // 3 tasks: 2 permutation bytes; depth 3: 2 change points of 2 bytes.
  const Scenario in = with_strategy(s5(), StrategyKind::kPct, {1, 0, 40, 0, 7, 1});
  const int horizon = pct_horizon(total_ops(in));
  auto point = [&](const std::vector<uint8_t>& c, size_t i) { return 1 + (c[2 + 2 * i] | c[3 + 2 * i] << 8) % horizon; };
  int shifts = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    Scenario out = in;
    const ScheduleMutation m = mutate_schedule(out, seed);
    ASSERT_EQ(out.choices.size(), in.choices.size());
    if (m == ScheduleMutation::kShiftChangePoint) {
      ++shifts;
      EXPECT_EQ(out.choices[0], in.choices[0]);
      EXPECT_EQ(out.choices[1], in.choices[1]);
      const int d0 = std::abs(point(out.choices, 0) - point(in.choices, 0));
      const int d1 = std::abs(point(out.choices, 1) - point(in.choices, 1));
      EXPECT_TRUE((d0 == 0) != (d1 == 0)) << "exactly one change point moves";
      EXPECT_LE(d0 + d1, 8);
    } else if (m != ScheduleMutation::kFlipMemoryModel) {
      ASSERT_EQ(m, ScheduleMutation::kRedrawPriorities);
      EXPECT_TRUE(std::equal(out.choices.begin() + 2, out.choices.end(), in.choices.begin() + 2));
    }
  }
  EXPECT_GT(shifts, static_cast<int>(kSeeds) * 2 / 3);
  // Depth 1 has no change points: the priorities are all there is.
  Scenario depth1 = in;
  depth1.pct_depth = 1;
  const ScheduleMutation m1 = mutate_schedule(depth1, 3);
  EXPECT_TRUE(m1 == ScheduleMutation::kRedrawPriorities || m1 == ScheduleMutation::kFlipMemoryModel);
}

TEST(ScheduleMutator, RandomRedrawsTheSeedBytesOnly) {
  const Scenario in = with_strategy(s5(), StrategyKind::kRandom, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  Scenario out = in;
  uint64_t seed = 11;
  while (mutate_schedule(out, seed) != ScheduleMutation::kRedrawSeed) out = in, ++seed;
  ASSERT_EQ(out.choices.size(), in.choices.size());
  EXPECT_NE(std::vector<uint8_t>(out.choices.begin(), out.choices.begin() + 8),
            std::vector<uint8_t>(in.choices.begin(), in.choices.begin() + 8));
  EXPECT_EQ(out.choices[8], 9);
  EXPECT_EQ(out.choices[9], 10);
}

TEST(ScheduleMutator, BytesDecodeToTheMutatedScenarioAndRespectMaxSize) {
  const Scenario in = s5();
  const std::vector<uint8_t> bytes = encode_scenario(in);
  for (uint64_t seed = 0; seed < 512; ++seed) {
    std::vector<uint8_t> buf = bytes;
    buf.resize(bytes.size() + 64);
    const size_t n = mutate_schedule_bytes(buf.data(), bytes.size(), buf.size(), seed);
    ASSERT_GT(n, 0u);
    Scenario expected = in;
    mutate_schedule(expected, seed);
    EXPECT_EQ(decode_scenario(buf.data(), n), expected) << "seed " << seed;
  }
  // No room to grow: 0, and the input is untouched. Find a seed that inserts.
  for (uint64_t seed = 0;; ++seed) {
    Scenario probe = in;
    if (mutate_schedule(probe, seed) != ScheduleMutation::kInsertPreemption) continue;
    std::vector<uint8_t> buf = bytes;
    EXPECT_EQ(mutate_schedule_bytes(buf.data(), buf.size(), buf.size(), seed), 0u);
    EXPECT_EQ(buf, bytes);
    break;
  }
  // A non-canonical input (program bytes exhausted, zeros implied) comes back
  // canonical: appending choices no longer shifts them into the program.
  const uint8_t short_input[] = {0x04};
  std::vector<uint8_t> buf(short_input, short_input + 1);
  buf.resize(256);
  const size_t n = mutate_schedule_bytes(buf.data(), 1, buf.size(), 5);
  ASSERT_GT(n, 1u);
  Scenario expected = decode_scenario(short_input, 1);
  mutate_schedule(expected, 5);
  EXPECT_EQ(decode_scenario(buf.data(), n), expected);
}

// S5 is B13's interleaving for the correct code, which has one more
// scheduling point (the mmgrab) than the bug: under B13 it misses the race
// by one access. One shift mutation wins it.
TEST(ScheduleMutator, OneShiftTurnsS5IntoB13sUseAfterFree) {
  const Scenario in = s5();
  Execution exec;
  RunOptions options;
  options.inject = core::BugSet::of(core::Bug::no_mmgrab_foreign_mm);
  ASSERT_EQ(exec.run(in, options).verdict, Verdict::kPass);
  int finding_seeds = 0;
  for (uint64_t seed = 0; seed < 512; ++seed) {
    Scenario out = in;
    if (mutate_schedule(out, seed) != ScheduleMutation::kShiftPreemption) continue;
    const ExecutionResult r = exec.run(out, options);
    if (r.verdict == Verdict::kPass) continue;
    ASSERT_TRUE(r.finding);
    EXPECT_EQ(r.finding->signature(), "lifetime|mm_use_after_free|lock_vma_under_rcu|");
    ++finding_seeds;
  }
  // About 512/32 seeds make the one shift (the fourth pair: run 3 -> 2).
  EXPECT_GE(finding_seeds, 4);
}

// The C11 reads-from choices: what share of the mutations touch them, and
// that each does what its name says and leaves a canonical list.
TEST(ScheduleMutator, ReadsMutationsShiftRedrawOrFlipTheMemoryModel) {
  const Scenario sc_in = s5();
  const Scenario c11_in = c11(s5(), {0, 0, 5, 0, 1});
  std::map<ScheduleMutation, int> count;
  int to_c11 = 0;
  auto stale_of = [](const std::vector<uint8_t>& r) {
    std::vector<std::pair<size_t, uint8_t>> s;
    for (size_t i = 0; i < r.size(); ++i) {
      if (r[i]) s.emplace_back(i, r[i]);
    }
    return s;
  };
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    Scenario out = sc_in;
    ScheduleMutation m = mutate_schedule(out, seed);
    if (m == ScheduleMutation::kFlipMemoryModel) {
      ++to_c11;
      EXPECT_EQ(out.memory_model, MemoryModel::kC11);
      EXPECT_EQ(out.choices, sc_in.choices);
      ASSERT_EQ(stale_of(out.reads).size(), 1u) << "one stale read";
      EXPECT_NE(out.reads.back(), 0);  // canonical: no trailing zeros
      EXPECT_LE(out.reads.size(), 8u);
    } else {
      EXPECT_FALSE(is_reads_mutation(m)) << "an SC input has no reads to shift";
    }
    out = c11_in;
    m = mutate_schedule(out, seed);
    ++count[m];
    if (!is_reads_mutation(m)) {
      EXPECT_EQ(out.reads, c11_in.reads);
      continue;
    }
    EXPECT_EQ(out.choices, c11_in.choices);
    ASSERT_TRUE(out.reads.empty() || out.reads.back() != 0) << "seed " << seed;
    EXPECT_TRUE(is_canonical_scenario(out, nullptr));
    EXPECT_EQ(decode_scenario(encode_scenario(out).data(), encode_scenario(out).size()), out);
    const auto before = stale_of(c11_in.reads), after = stale_of(out.reads);
    switch (m) {
      case ScheduleMutation::kFlipMemoryModel:
        EXPECT_EQ(out.memory_model, MemoryModel::kSC);
        EXPECT_TRUE(out.reads.empty());
        break;
      case ScheduleMutation::kShiftStaleRead: {
        // The same depths; one of them 1..8 loads away (or two exchanged).
        ASSERT_EQ(after.size(), before.size()) << "seed " << seed;
        int moved = 0;
        for (size_t k = 0; k < before.size(); ++k) {
          const int d = std::abs(static_cast<int>(after[k].first) - static_cast<int>(before[k].first));
          EXPECT_LE(d, 8);
          moved += d != 0 || after[k].second != before[k].second;
        }
        EXPECT_GE(moved, 1);
        break;
      }
      case ScheduleMutation::kChangeReadDepth: {
        std::vector<uint8_t> a = c11_in.reads, b = out.reads;
        a.resize(std::max(a.size(), b.size()), 0);
        b.resize(a.size(), 0);
        int diffs = 0;
        for (size_t i = 0; i < a.size(); ++i) diffs += a[i] != b[i];
        EXPECT_EQ(diffs, 1) << "seed " << seed;
        break;
      }
      default: ADD_FAILURE() << schedule_mutation_name(m);
    }
  }
  // SC: 1 in 16 flips. C11: 1/4 of the mutations are of reads, 1/8 of those flip
  // back, the rest half shift, half redraw.
  EXPECT_NEAR(to_c11, static_cast<int>(kSeeds) / 16, kSeeds / 64);
  EXPECT_NEAR(count[ScheduleMutation::kFlipMemoryModel], static_cast<int>(kSeeds) / 32, kSeeds / 64);
  EXPECT_GT(count[ScheduleMutation::kShiftStaleRead], static_cast<int>(kSeeds) / 12);
  EXPECT_GT(count[ScheduleMutation::kChangeReadDepth], static_cast<int>(kSeeds) / 12);
}

// The catalog's store-buffer lost wake-up with its stale read one load too
// late: it passes under the bug, and one shift of that read finds it; the
// SC form of the input finds it by a flip to C11.
TEST(ScheduleMutator, OneStaleReadShiftFindsTheStoreBufferLostWakeUp) {
  Scenario in = load("M_rcuwait_wake_up_no_mb.sched");
  ASSERT_EQ(in.memory_model, MemoryModel::kC11);
  ASSERT_EQ(in.reads, (std::vector<uint8_t>{0, 0, 0, 1}));
  in.reads = {0, 0, 0, 0, 1};
  Execution exec;
  RunOptions options;
  options.inject = core::BugSet::of(core::Bug::rcuwait_wake_up_no_mb);
  ASSERT_EQ(exec.run(in, options).verdict, Verdict::kPass);
  Scenario sc_form = in;
  sc_form.memory_model = MemoryModel::kSC;
  sc_form.reads.clear();
  ASSERT_EQ(exec.run(sc_form, options).verdict, Verdict::kPass);
  int shift_finds = 0, flip_finds = 0;
  for (uint64_t seed = 0; seed < 1024; ++seed) {
    for (const Scenario* from : {&in, &sc_form}) {
      Scenario out = *from;
      const ScheduleMutation m = mutate_schedule(out, seed);
      if (m != ScheduleMutation::kShiftStaleRead && m != ScheduleMutation::kFlipMemoryModel) continue;
      if (exec.run(out, options).verdict == Verdict::kPass) continue;
      EXPECT_EQ(exec.run(out, options).finding->signature(),
                "sleep.lost_wakeup|vma_writer_wait (detach: vm_refcnt == FLAG)|munmap|");
      ++(m == ScheduleMutation::kShiftStaleRead ? shift_finds : flip_finds);
    }
  }
  // Shift by -1: 1024 * 1/4 * 7/8 * 1/2 * 3/8 = about 37 seeds.
  EXPECT_GE(shift_finds, 10);
  EXPECT_GE(flip_finds, 1);
}

}  // namespace
}  // namespace vmafuzz::fuzz
