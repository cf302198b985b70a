// afl_mutator_test.cpp - the AFL++ custom mutator library
// (fuzz/afl_mutator.cpp) as afl-fuzz uses it: dlopen()ed, its afl_custom_*
// entry points looked up by name. Every output decodes to the input's program
// with a mutated schedule, is the schedule mutator's own result for the seed
// stream afl_custom_init's seed starts, and one seed gives one sequence.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "fuzz/scenario_codec.h"
#include "fuzz/schedule_mutator.h"
#include "fuzz/splitmix64.h"
#include "fuzz/strategy.h"
#include "tests/fuzz/sched_dir.h"

namespace vmafuzz::fuzz {
namespace {

using InitFn = void* (*)(void*, unsigned int);
using FuzzFn = size_t (*)(void*, uint8_t*, size_t, uint8_t**, uint8_t*, size_t, size_t);
using DescribeFn = const char* (*)(void*, size_t);
using DeinitFn = void (*)(void*);
using FuzzCountFn = unsigned (*)(void*, const uint8_t*, size_t);

class AflMutatorLibrary : public ::testing::Test {
 protected:
  void SetUp() override {
    handle_ = dlopen(VMAFUZZ_AFL_MUTATOR, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
    init_ = reinterpret_cast<InitFn>(dlsym(handle_, "afl_custom_init"));
    fuzz_ = reinterpret_cast<FuzzFn>(dlsym(handle_, "afl_custom_fuzz"));
    describe_ = reinterpret_cast<DescribeFn>(dlsym(handle_, "afl_custom_describe"));
    deinit_ = reinterpret_cast<DeinitFn>(dlsym(handle_, "afl_custom_deinit"));
    fuzz_count_ = reinterpret_cast<FuzzCountFn>(dlsym(handle_, "afl_custom_fuzz_count"));
    ASSERT_TRUE(init_ && fuzz_ && describe_ && deinit_ && fuzz_count_) << "an afl_custom_* symbol is not exported";
  }
  void TearDown() override {
    if (handle_) dlclose(handle_);
  }

  struct Output {
    std::vector<uint8_t> bytes;
    std::string description;
  };
  // n mutations of `input` by one mutator instance seeded with `seed`.
  std::vector<Output> mutations(const std::vector<uint8_t>& input, unsigned seed, int n,
                                size_t max_size = 1 << 20) {
    void* m = init_(nullptr, seed);
    EXPECT_NE(m, nullptr);
    std::vector<Output> outs;
    for (int i = 0; i < n; ++i) {
      std::vector<uint8_t> buf = input;  // afl-fuzz hands over a writable copy
      uint8_t* out = nullptr;
      const size_t size = fuzz_(m, buf.data(), buf.size(), &out, nullptr, 0, max_size);
      EXPECT_NE(out, nullptr);
      outs.push_back({std::vector<uint8_t>(out, out + size), describe_(m, 64)});
    }
    deinit_(m);
    return outs;
  }

  void* handle_ = nullptr;
  InitFn init_ = nullptr;
  FuzzFn fuzz_ = nullptr;
  DescribeFn describe_ = nullptr;
  DeinitFn deinit_ = nullptr;
  FuzzCountFn fuzz_count_ = nullptr;
};

bool same_program(const Scenario& a, const Scenario& b) {
  return a.mms == b.mms && a.tasks == b.tasks && a.strategy == b.strategy && a.pct_depth == b.pct_depth;
}

Scenario with_strategy(Scenario sc, StrategyKind kind, std::vector<uint8_t> choices) {
  sc.strategy = kind;
  sc.pct_depth = 3;
  sc.choices = std::move(choices);
  return sc;
}

TEST_F(AflMutatorLibrary, OutputsDecodeToTheProgramWithTheScheduleMutatorsSchedule) {
  // S5's program under each strategy: switch-list (its own schedule), PCT, random.
  const Scenario s5 = load_sched_scenario("S5_recycled_vma.sched");
  Scenario s5_c11 = s5;
  s5_c11.memory_model = MemoryModel::kC11;
  s5_c11.reads = {0, 0, 1};
  const Scenario inputs[] = {s5, with_strategy(s5, StrategyKind::kPct, {1, 0, 40, 0, 7, 1}),
                             with_strategy(s5, StrategyKind::kRandom, {1, 2, 3, 4, 5, 6, 7, 8}), s5_c11};
  std::set<std::string> kinds;
  for (const Scenario& in : inputs) {
    const std::vector<uint8_t> input = encode_scenario(in);
    const unsigned seed = 42;
    const std::vector<Output> outs = mutations(input, seed, 500);
    SplitMix64 seeds(seed);
    int changed = 0;
    for (const Output& o : outs) {
      const Scenario out = decode_scenario(o.bytes.data(), o.bytes.size());
      ASSERT_TRUE(same_program(in, out));
      // Canonical: encoding what it decodes to gives the same bytes back.
      ASSERT_EQ(encode_scenario(out), o.bytes);
      // Exactly mutate_schedule_encoded() on the seed stream: the same
      // function as the libFuzzer hook, not a copy.
      ScheduleMutation what{};
      ASSERT_EQ(mutate_schedule_encoded(input.data(), input.size(), seeds.next(), &what), o.bytes);
      EXPECT_EQ(o.description, "vmafuzz-" + std::string(schedule_mutation_name(what)));
      changed += out != in;
      kinds.insert(o.description);
    }
    // A redraw or swap may give the same bytes back; not nine times in ten.
    EXPECT_GT(changed, 450) << strategy_name(in.strategy);
  }
  // Every mutation the three strategies and the C11 reads have (schedule_mutator.h).
  EXPECT_EQ(kinds.size(), static_cast<size_t>(ScheduleMutation::kMaxValue) + 1);
}

// The custom stage takes a share of each entry's executions, not all of them:
// fewer than havoc's 256 (AFL++'s HAVOC_CYCLES), enough for a one-in-forty shift.
TEST_F(AflMutatorLibrary, TheCustomStageIsShorterThanHavoc) {
  const std::vector<uint8_t> input = encode_scenario(load_sched_scenario("S5_recycled_vma.sched"));
  void* m = init_(nullptr, 1);
  const unsigned n = fuzz_count_(m, input.data(), input.size());
  deinit_(m);
  EXPECT_GE(n, 16u);
  EXPECT_LT(n, 256u);
}

TEST_F(AflMutatorLibrary, OneSeedOneSequence) {
  const std::vector<uint8_t> input = encode_scenario(load_sched_scenario("S5_recycled_vma.sched"));
  const auto bytes = [](const std::vector<Output>& outs) {
    std::vector<std::vector<uint8_t>> v;
    for (const Output& o : outs) v.push_back(o.bytes);
    return v;
  };
  EXPECT_EQ(bytes(mutations(input, 7, 200)), bytes(mutations(input, 7, 200)));
  EXPECT_NE(bytes(mutations(input, 7, 200)), bytes(mutations(input, 8, 200)));
}

TEST_F(AflMutatorLibrary, AnOutputOverMaxSizeIsTheInputUnchanged) {
  const std::vector<uint8_t> input = encode_scenario(load_sched_scenario("S5_recycled_vma.sched"));
  int unchanged = 0;
  for (const Output& o : mutations(input, 1, 200, input.size())) {
    if (o.description == "vmafuzz-unchanged") {
      EXPECT_EQ(o.bytes, input);
      ++unchanged;
    } else {
      EXPECT_LE(o.bytes.size(), input.size());
    }
  }
  EXPECT_GT(unchanged, 0);  // an inserted pair makes the encoding longer
}

}  // namespace
}  // namespace vmafuzz::fuzz
