// store_history_test.cpp - the C11 mode's store histories on litmus tests:
// every outcome the model can produce, over every reads-from choice, is one
// C++20 allows (and the classic weak ones appear where C++ allows them).
// Then C11 mode end to end: the correct model passes the regression
// scenarios and random C11 scenarios, and the format round-trips.
#include "fuzz/store_history.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "fuzz/execution.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/sched_text.h"

namespace vmafuzz::fuzz {
namespace {

using core::AccessKind;
using core::SharedAccess;
using core::SharedWordKind;
constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kAcquire = std::memory_order_acquire;
constexpr auto kRelease = std::memory_order_release;
constexpr auto kSeqCst = std::memory_order_seq_cst;

int x, y;  // addresses only

// The two trackers wired as the sim platform wires them (sim_platform.cpp),
// over a memory of word values; tasks act in the order the test calls them.
class Litmus {
 public:
  explicit Litmus(std::vector<uint8_t> reads) : reads_(std::move(reads)), choices_(reads_) {
    hb_.begin(kMaxTasks, true);
    history_.begin(true);
  }
  void store(int t, const int* w, uint64_t v, std::memory_order o) { write(t, w, v, o, AccessKind::kStore); }
  uint64_t rmw_add(int t, const int* w, uint64_t d, std::memory_order o) {
    const uint64_t old = mem_[w];
    write(t, w, old + d, o, AccessKind::kRmw);
    return old;
  }
  uint64_t load(int t, const int* w, std::memory_order o) {
    const SharedAccess a = access(w, AccessKind::kLoad, o);
    const StoreHistory::Read r = history_.on_load(t, a, mem_[w], hb_.clock(t), choices_);
    if (r.back > 0) {
      ++stale_;
      hb_.read_older_store(r.store->has_rel ? &r.store->rel : nullptr);
    }
    hb_.on_access(t, ++step_, a);
    return r.value;
  }
  // A version-only load (SimPlatform::version_only_weak_load): the latest, no draw.
  uint64_t load_latest(int t, const int* w, std::memory_order o) {
    const SharedAccess a = access(w, AccessKind::kLoad, o);
    history_.on_latest_load(t, a, mem_[w], hb_.clock(t));
    hb_.on_access(t, ++step_, a);
    return mem_[w];
  }
  void fence(int t, std::memory_order o) {
    hb_.on_fence(t, ++step_, static_cast<uint8_t>(o));
    history_.on_fence(t, static_cast<uint8_t>(o));
  }
  int stale_reads() const { return stale_; }

 private:
  static SharedAccess access(const int* w, AccessKind k, std::memory_order o) {
    return SharedAccess{w, SharedWordKind::kVmRefcnt, k, static_cast<uint8_t>(o)};
  }
  void write(int t, const int* w, uint64_t v, std::memory_order o, AccessKind k) {
    const SharedAccess a = access(w, k, o);
    const uint32_t epoch = hb_.clock(t)[static_cast<size_t>(t)];
    hb_.on_access(t, ++step_, a);
    history_.on_store(t, a, mem_[w], v, epoch, hb_.release_clock(w, a.kind), step_);
    mem_[w] = v;
  }

  std::vector<uint8_t> reads_;
  ChoiceSource choices_;
  HbTracker hb_;
  StoreHistory history_;
  std::map<const int*, uint64_t> mem_;
  uint64_t step_ = 0;
  int stale_ = 0;
};

using Outcome = std::vector<uint64_t>;

// Every outcome of `body` over all reads-from choices 0..3 for its first
// `loads` loads.
std::set<Outcome> outcomes(int loads, const std::function<Outcome(Litmus&)>& body) {
  std::set<Outcome> out;
  int combos = 1;
  for (int i = 0; i < loads; ++i) combos *= 4;
  for (int c = 0; c < combos; ++c) {
    std::vector<uint8_t> reads;
    for (int i = 0, v = c; i < loads; ++i, v /= 4) reads.push_back(static_cast<uint8_t>(v % 4));
    Litmus l(reads);
    out.insert(body(l));
  }
  return out;
}

// SB: x = 1; r0 = y  ||  y = 1; r1 = x. Both zero is the store-buffer outcome.
std::set<Outcome> store_buffer(bool fence0, bool fence1) {
  return outcomes(2, [&](Litmus& l) {
    l.store(0, &x, 1, kRelaxed);
    l.store(1, &y, 1, kRelaxed);
    if (fence0) l.fence(0, kSeqCst);
    if (fence1) l.fence(1, kSeqCst);
    return Outcome{l.load(0, &y, kRelaxed), l.load(1, &x, kRelaxed)};
  });
}

TEST(StoreHistory, StoreBufferingWithoutFencesReadsBothStale) {
  EXPECT_TRUE(store_buffer(false, false).contains(Outcome({0, 0})));
  // One fence is not enough: the pairing needs both.
  EXPECT_TRUE(store_buffer(true, false).contains(Outcome({0, 0})));
  EXPECT_TRUE(store_buffer(false, true).contains(Outcome({0, 0})));
}

TEST(StoreHistory, StoreBufferingWithBothSeqCstFencesNeverReadsBothStale) {
  const std::set<Outcome> o = store_buffer(true, true);
  EXPECT_FALSE(o.contains(Outcome({0, 0})));
  EXPECT_TRUE(o.contains(Outcome({0, 1})));  // the earlier fence's task may still miss the later store
  EXPECT_TRUE(o.contains(Outcome({1, 1})));
}

// MP: data = 1; flag = 1 (release?)  ||  r0 = flag (acquire?); r1 = data.
std::set<Outcome> message_passing(std::memory_order store_flag, std::memory_order load_flag) {
  return outcomes(2, [&](Litmus& l) {
    l.store(0, &x, 1, kRelaxed);
    l.store(0, &y, 1, store_flag);
    const uint64_t flag = l.load(1, &y, load_flag);
    return Outcome{flag, l.load(1, &x, kRelaxed)};
  });
}

TEST(StoreHistory, MessagePassingWithReleaseAcquireSeesTheData) {
  const std::set<Outcome> o = message_passing(kRelease, kAcquire);
  EXPECT_FALSE(o.contains(Outcome({1, 0})));
  EXPECT_TRUE(o.contains(Outcome({0, 0})));  // the flag itself may be read stale
  EXPECT_TRUE(o.contains(Outcome({1, 1})));
}

TEST(StoreHistory, MessagePassingWithoutReleaseOrAcquireMaySeeStaleData) {
  EXPECT_TRUE(message_passing(kRelaxed, kAcquire).contains(Outcome({1, 0})));
  EXPECT_TRUE(message_passing(kRelease, kRelaxed).contains(Outcome({1, 0})));
}

TEST(StoreHistory, MessagePassingWithFencesSeesTheData) {
  const std::set<Outcome> o = outcomes(2, [](Litmus& l) {
    l.store(0, &x, 1, kRelaxed);
    l.fence(0, kRelease);
    l.store(0, &y, 1, kRelaxed);
    const uint64_t flag = l.load(1, &y, kRelaxed);
    l.fence(1, kAcquire);
    return Outcome{flag, l.load(1, &x, kRelaxed)};
  });
  EXPECT_FALSE(o.contains(Outcome({1, 0})));
  EXPECT_TRUE(o.contains(Outcome({1, 1})));
}

TEST(StoreHistory, ReadReadCoherenceNeverGoesBack) {
  // CoRR: x = 1; x = 2  ||  r0 = x; r1 = x: r1 is never older than r0.
  const std::set<Outcome> o = outcomes(2, [](Litmus& l) {
    l.store(0, &x, 1, kRelaxed);
    l.store(0, &x, 2, kRelaxed);
    const uint64_t r0 = l.load(1, &x, kRelaxed);
    return Outcome{r0, l.load(1, &x, kRelaxed)};
  });
  for (const Outcome& v : o) EXPECT_LE(v[0], v[1]) << v[0] << " then " << v[1];
  EXPECT_TRUE(o.contains(Outcome({0, 2})));  // and stale reads do happen
}

TEST(StoreHistory, ALoadAfterAVersionOnlyLoadNeverGoesBack) {
  // x = 1; x = 2  ||  r0 = x (version-only: the latest); r1 = x: r1 is 2 in
  // every outcome, and the version-only load drew no choice (r1's draw is
  // the first byte, which is all `outcomes(1, ...)` varies).
  const auto run = [](bool version_only_first) {
    return outcomes(1, [&](Litmus& l) {
      l.store(0, &x, 1, kRelaxed);
      l.store(0, &x, 2, kRelaxed);
      Outcome v;
      if (version_only_first) v.push_back(l.load_latest(1, &x, kRelaxed));
      v.push_back(l.load(1, &x, kRelaxed));
      return v;
    });
  };
  EXPECT_EQ(run(true), std::set<Outcome>({{2, 2}}));
  // Without it the same choices read stale: the bound above is the note's.
  EXPECT_TRUE(run(false).contains(Outcome({0})));
}

TEST(StoreHistory, CoherenceCarriesAcrossHappensBefore) {
  // T1 reads x = 2, then releases to T2: T2 reads x = 2 too (CoRR across hb).
  const std::set<Outcome> o = outcomes(3, [](Litmus& l) {
    l.store(0, &x, 1, kRelaxed);
    l.store(0, &x, 2, kRelaxed);
    const uint64_t r1 = l.load(1, &x, kRelaxed);
    l.store(1, &y, 1, kRelease);
    const uint64_t flag = l.load(2, &y, kAcquire);
    return Outcome{r1, flag, l.load(2, &x, kRelaxed)};
  });
  for (const Outcome& v : o) {
    if (v[1] == 1) EXPECT_LE(v[0], v[2]) << "T2 read x " << v[2] << " after T1 read " << v[0];
  }
}

TEST(StoreHistory, OwnStoresAreAlwaysSeen) {
  const std::set<Outcome> o = outcomes(1, [](Litmus& l) {
    l.store(1, &x, 1, kRelaxed);
    l.store(0, &x, 2, kRelaxed);
    return Outcome{l.load(0, &x, kRelaxed)};
  });
  EXPECT_EQ(o, std::set<Outcome>({{2}}));
}

TEST(StoreHistory, RmwReadsTheLatestStore) {
  const std::set<Outcome> o = outcomes(1, [](Litmus& l) {
    l.store(0, &x, 5, kRelaxed);
    const uint64_t loaded = l.load(1, &x, kRelaxed);
    return Outcome{loaded, l.rmw_add(1, &x, 1, kRelaxed)};
  });
  EXPECT_TRUE(o.contains(Outcome({0, 5})));  // the load may be stale, the RMW never
  for (const Outcome& v : o) EXPECT_EQ(v[1], 5u);
}

TEST(StoreHistory, SeqCstLoadReadsTheLatestStore) {
  const std::set<Outcome> o = outcomes(1, [](Litmus& l) {
    l.store(0, &x, 1, kRelaxed);
    return Outcome{l.load(1, &x, kSeqCst)};
  });
  EXPECT_EQ(o, std::set<Outcome>({{1}}));
}

TEST(StoreHistory, StaleReadsAreBoundedPerTask) {
  // A task spinning on a stale value sees the latest after its budget.
  Litmus l(std::vector<uint8_t>(100, 1));
  l.store(0, &x, 1, kRelaxed);
  int spins = 0;
  while (l.load(1, &x, kRelaxed) != 1) ++spins;
  EXPECT_EQ(spins, StoreHistory::kStaleBudget);
  Litmus m(std::vector<uint8_t>(100, 1));
  for (int i = 0; i < 3 * StoreHistory::kStaleBudget; ++i) {
    m.store(0, &x, static_cast<uint64_t>(i + 1), kRelaxed);
    m.load(1, &x, kRelaxed);
  }
  EXPECT_EQ(m.stale_reads(), StoreHistory::kStaleBudget);
}

// ---- C11 mode end to end ---------------------------------------------------

Scenario c11_scenario() {
  Scenario sc;
  sc.mms = {MmSetup{1}};
  sc.tasks = {TaskProgram{0, {Op{OpKind::kLockVmaUnderRcu, 0}}}, TaskProgram{0, {Op{OpKind::kMunmap, 0}}}};
  sc.memory_model = MemoryModel::kC11;
  sc.reads = {0, 3, 1};
  sc.choices = {4, 1, 17, 0};
  return sc;
}

TEST(StoreHistory, C11ScenariosRoundTripThroughBothFormats) {
  const Scenario sc = c11_scenario();
  const std::vector<uint8_t> bytes = encode_scenario(sc);
  EXPECT_EQ(read_format_version(bytes.data(), bytes.size()).version, 2);
  EXPECT_EQ(decode_scenario(bytes.data(), bytes.size()), sc);
  const auto parsed = parse_sched(print_sched(sc), "c11.sched");
  ASSERT_TRUE(std::holds_alternative<SchedFile>(parsed));
  EXPECT_EQ(std::get<SchedFile>(parsed).scenario, sc);
  // SC scenarios keep their version 1 bytes.
  Scenario sc_run = sc;
  sc_run.memory_model = MemoryModel::kSC;
  sc_run.reads.clear();
  EXPECT_EQ(read_format_version(encode_scenario(sc_run).data(), encode_scenario(sc_run).size()).version, 1);
}

TEST(StoreHistory, C11WithoutReadsIsTheScRun) {
  Scenario sc = c11_scenario();
  sc.reads.clear();
  Execution exec;
  const uint64_t c11 = exec.run(sc).trace_hash;
  sc.memory_model = MemoryModel::kSC;
  EXPECT_EQ(exec.run(sc).trace_hash, c11);
}

TEST(StoreHistory, CorrectModelNeverReportsOnRandomC11Scenarios) {
  // Random programs, schedules and reads-from choices: C11 mode's
  // no-false-positive check over two thousand runs (the long campaign is
  // docs/BENCHMARKS.md's).
  std::mt19937_64 rng(15);
  Execution exec;
  int stale = 0;
  for (int run = 0; run < 2000; ++run) {
    Scenario sc = random_program(rng);
    sc.memory_model = MemoryModel::kC11;
    sc.choices.resize(2 + rng() % 24);
    for (uint8_t& b : sc.choices) b = static_cast<uint8_t>(rng());
    sc.reads.resize(rng() % 16);
    for (uint8_t& b : sc.reads) b = static_cast<uint8_t>(rng());
    RunOptions opt;
    opt.keep_trace = run % 4 == 0;
    const ExecutionResult r = exec.run(sc, opt);
    ASSERT_FALSE(r.finding) << "run " << run << ": " << r.finding->signature() << "\n" << print_sched(sc);
    if (opt.keep_trace) {
      for (const TraceEvent& e : exec.trace().events()) stale += stale_back(e) > 0;
    }
  }
  EXPECT_GT(stale, 10);  // the mode did read stale values
}

}  // namespace
}  // namespace vmafuzz::fuzz
