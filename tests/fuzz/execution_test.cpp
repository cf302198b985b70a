// execution_test.cpp - the deterministic scheduler: verdicts, determinism, no false positives.
#include "fuzz/execution.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <cstdio>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/kernel.h"
#include "core/sanitizer_hooks.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/sched_text.h"
#include "tests/tsan_races.h"

namespace vmafuzz::fuzz {
namespace {

using core::Bug;
using core::BugSet;

std::vector<uint8_t> random_bytes(std::mt19937& rng, size_t max_len) {
  std::vector<uint8_t> v(rng() % (max_len + 1));
  for (uint8_t& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

Scenario two_tasks(std::vector<Op> t0, std::vector<Op> t1, uint8_t vmas = 1) {
  Scenario sc;
  sc.mms = {MmSetup{vmas}};
  sc.tasks = {TaskProgram{0, std::move(t0)}, TaskProgram{0, std::move(t1)}};
  return sc;
}

// Runs `base` with many random choice streams; returns the first non-pass result.
std::optional<ExecutionResult> first_finding(Execution& ex, Scenario base, StrategyKind strategy, BugSet inject,
                                             int tries, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  base.strategy = strategy;
  for (int i = 0; i < tries; ++i) {
    base.choices = random_bytes(rng, 32);
    ExecutionResult r = ex.run(base, RunOptions{.inject = inject});
    if (r.verdict != Verdict::kPass) return r;
  }
  return std::nullopt;
}

// Setup snapshots: an Execution builds a setup's Kernel state once and
// restores it for the next runs with the same setup. After a restore the
// Kernel is, field for field, the one that setup built (the observer sees
// it at the end of setup) - after runs that left their pools dirty: more
// VMAs, nodes and mms, freed and reused VMAs, locks held by stopped tasks,
// bugs injected, other lock versions. And each run's result is the result
// of a fresh setup (a second Execution without snapshots). Under TSan the
// bugs that race on the payload by design are left out.
TEST(Execution, ARestoredSetupIsTheFreshOne) {
  Execution snap;
  Execution fresh;
  fresh.set_setup_snapshots(false);
  core::KernelState seen;
  bool restored = false;
  snap.set_setup_observer([&](const core::Kernel& k, bool r) {
    k.save_state(seen);
    restored = r;
  });
  int restores = 0;
  std::mt19937 rng(2026120713);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> in = random_bytes(rng, 120);
    if (in.size() >= 4 && rng() % 3 == 0) {  // a version-2 file, C11 half the time
      in[0] |= kHeaderVersionBit;
      in[1] = 2;
      in[2] = 2 ^ kVersionCheck;
    }
    const uint8_t none = 0;
    Scenario sc = decode_scenario(in.empty() ? &none : in.data(), in.size());
    RunOptions opt;
    if (rng() % 2) {
      const auto bug = static_cast<Bug>(rng() % static_cast<unsigned>(Bug::kCount));
#ifdef VMAFUZZ_TSAN
      // It races on the payload by design: TSan's report would end the
      // process (tests/tsan_races.h; tsan_catalog_test replays it).
      if (!test::races_under_tsan(bug)) opt.inject = BugSet::of(bug);
#else
      opt.inject = BugSet::of(bug);
#endif
    }
    if (rng() % 3 == 0) {
      opt.lock_version = static_cast<core::LockVersion>(rng() % static_cast<unsigned>(core::LockVersion::kCount));
    }
    snap.set_setup_snapshots(true);  // drops the saved state: the first two runs build it, the second saves it
    core::KernelState built;
    for (int k = 0; k < 5; ++k) {
      if (k > 0) sc.choices = random_bytes(rng, 48);
      const ExecutionResult a = snap.run(sc, opt);
      if (k == 0) {
        built = seen;
      } else {
        ASSERT_EQ(seen, built) << "input " << i << ", run " << k;
      }
      if (k < 2) ASSERT_FALSE(restored) << "input " << i << ", run " << k;
      restores += restored;
      const ExecutionResult b = fresh.run(sc, opt);
      ASSERT_EQ(a.verdict, b.verdict) << "input " << i << ", run " << k;
      ASSERT_EQ(a.steps, b.steps) << "input " << i << ", run " << k;
      ASSERT_EQ(a.trace_hash, b.trace_hash) << "input " << i << ", run " << k;
      ASSERT_EQ(a.outcomes, b.outcomes) << "input " << i << ", run " << k;
      ASSERT_EQ(a.reports.size(), b.reports.size()) << "input " << i << ", run " << k;
      ASSERT_EQ(a.final_state.vm_refcnt, b.final_state.vm_refcnt) << "input " << i << ", run " << k;
      ASSERT_EQ(a.final_state.vma_free, b.final_state.vma_free) << "input " << i << ", run " << k;
      ASSERT_EQ(a.final_state.mm_freed, b.final_state.mm_freed) << "input " << i << ", run " << k;
      ASSERT_EQ(a.finding.has_value(), b.finding.has_value()) << "input " << i << ", run " << k;
      if (a.finding) ASSERT_EQ(a.finding->signature(), b.finding->signature()) << "input " << i << ", run " << k;
    }
  }
  // Only a setup that reported is not saved (none on these inputs).
  EXPECT_EQ(restores, 2000 * 3);
}

TEST(Execution, CorrectCoreNeverReportsOnRandomScenarios) {
  Execution ex;
  std::mt19937 rng(20261123);
  int runs_with_blocking = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::vector<uint8_t> in = random_bytes(rng, 160);
    const Scenario sc = decode_scenario(in.data(), in.size());
    const ExecutionResult r = ex.run(sc, RunOptions{.keep_trace = true});
    ASSERT_EQ(r.verdict, Verdict::kPass) << "input " << i << ": " << verdict_name(r.verdict);
    ASSERT_TRUE(r.reports.empty());
    for (const TraceEvent& e : ex.trace().events()) {
      if (e.kind == TraceEventKind::kPark) {
        ++runs_with_blocking;
        break;
      }
    }
  }
  // The sweep must reach the sleeping paths, or it proves little.
  EXPECT_GT(runs_with_blocking, 100);
}

TEST(Execution, SameBytesGiveTheSameTrace) {
  Execution a;
  Execution b;  // a second engine: fiber pools must not leak state between runs
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const std::vector<uint8_t> in = random_bytes(rng, 160);
    const Scenario sc = decode_scenario(in.data(), in.size());
    const ExecutionResult r1 = a.run(sc);
    const ExecutionResult r2 = a.run(sc);
    const ExecutionResult r3 = b.run(decode_scenario(in.data(), in.size()));
    ASSERT_EQ(r1.trace_hash, r2.trace_hash) << "input " << i;
    ASSERT_EQ(r1.trace_hash, r3.trace_hash) << "input " << i;
    ASSERT_EQ(r1.steps, r3.steps);
    ASSERT_EQ(r1.outcomes, r3.outcomes);
  }
}

// An Execution reuses its Kernel (reset, pools kept) and fiber pool: a run
// after other runs must be the run of a new engine, down to the final state
// (a pool that kept an object would show as one more VMA in the cache).
// Two runs of input number `i` gave the same result, field by field.
void expect_same_run(const ExecutionResult& a, const ExecutionResult& b, int i) {
  ASSERT_EQ(a.trace_hash, b.trace_hash) << "input " << i;
  ASSERT_EQ(a.steps, b.steps) << "input " << i;
  ASSERT_EQ(a.verdict, b.verdict) << "input " << i;
  ASSERT_EQ(a.outcomes, b.outcomes) << "input " << i;
  ASSERT_EQ(a.reports.size(), b.reports.size()) << "input " << i;
  ASSERT_EQ(a.blocked.size(), b.blocked.size()) << "input " << i;
  ASSERT_EQ(a.finding.has_value(), b.finding.has_value()) << "input " << i;
  if (a.finding) ASSERT_EQ(a.finding->signature(), b.finding->signature()) << "input " << i;
  ASSERT_EQ(a.final_state.vm_refcnt, b.final_state.vm_refcnt) << "input " << i;
  ASSERT_EQ(a.final_state.vma_free, b.final_state.vma_free) << "input " << i;
  ASSERT_EQ(a.final_state.mm_freed, b.final_state.mm_freed) << "input " << i;
}

TEST(Execution, AReusedEngineRunsAsANewOne) {
  Execution reused;
  std::mt19937 rng(11);
  for (int i = 0; i < 300; ++i) {
    const std::vector<uint8_t> in = random_bytes(rng, 160);
    const Scenario sc = decode_scenario(in.data(), in.size());
    const ExecutionResult r = reused.run(sc);
    Execution fresh;
    const ExecutionResult f = fresh.run(sc);
    ASSERT_NO_FATAL_FAILURE(expect_same_run(r, f, i));
  }
}

// run_into() with one result for every input (as the fuzz target does) gives
// what a fresh run() gives, findings included: no field leaks from the last run.
TEST(Execution, AReusedResultIsFilledAsANewOne) {
  Execution ex;
  ExecutionResult reused;
  std::mt19937 rng(12);
  int findings = 0;
  for (int i = 0; i < 400; ++i) {
    const std::vector<uint8_t> in = random_bytes(rng, 160);
    const Scenario sc = decode_scenario(in.data(), in.size());
    const RunOptions opt{.inject = i % 2 ? BugSet::of(Bug::rcu_held_on_empty_lookup) : BugSet{}};
    ex.run_into(sc, opt, reused);
    const ExecutionResult f = ex.run(sc, opt);
    findings += f.verdict != Verdict::kPass;
    ASSERT_NO_FATAL_FAILURE(expect_same_run(reused, f, i));
  }
  EXPECT_GT(findings, 0) << "no input found the injected bug: the test checks only passes";
}

// One hash over the traces of 500 fixed inputs. The value is the same in the
// dev, asan and tsan builds (each preset runs this test), which is what "same
// bytes, same trace on every build" means. It changes only when the model,
// the decoder or the scheduler change behaviour on purpose: then update it to
// the value this test prints, and say why in the commit.
// Last changed: a task alone at exit (every other task finished) runs its
// teardown unscheduled, and those accesses are not hashed (docs/SCHEDULER.md,
// "Alone at exit"); every step before it, and every verdict, is unchanged.
constexpr uint64_t kGoldenTraceHash = 0xcb1011c407ae73a1;

TEST(Execution, TraceHashesAreTheSameOnEveryBuild) {
  Execution ex;
  std::mt19937 rng(424242);
  uint64_t combined = 0;
  for (int i = 0; i < 500; ++i) {
    const std::vector<uint8_t> in = random_bytes(rng, 160);
    const Scenario sc = decode_scenario(in.data(), in.size());
    combined = combined * 0x100000001b3ULL ^ ex.run(sc).trace_hash;
  }
  EXPECT_EQ(combined, kGoldenTraceHash) << std::hex << "combined trace hash is 0x" << combined;
}

TEST(Execution, DifferentChoicesGiveDifferentInterleavings) {
  Execution ex;
  Scenario sc = two_tasks({{OpKind::kFault, 0}}, {{OpKind::kMprotect, 0}});
  std::set<uint64_t> hashes;
  for (uint8_t run = 0; run < 20; ++run) {
    sc.choices = {run, 1};  // preempt T0 after run + 1 steps, switch to T1
    hashes.insert(ex.run(sc).trace_hash);
  }
  // A fault has about ten scheduling points: preempting at each gives a new trace.
  EXPECT_GE(hashes.size(), 8u);
}

TEST(ScenarioCodec, DecodedScenariosAreCanonicalAndRoundTrip) {
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i) {
    const std::vector<uint8_t> in = random_bytes(rng, 200);
    const Scenario sc = decode_scenario(in.data(), in.size());
    const char* why = nullptr;
    ASSERT_TRUE(is_canonical_scenario(sc, &why)) << why;
    const std::vector<uint8_t> bytes = encode_scenario(sc);
    ASSERT_EQ(decode_scenario(bytes.data(), bytes.size()), sc) << "input " << i;
  }
}

TEST(ScenarioCodec, EmptyInputDecodesToALegalScenario) {
  const Scenario sc = decode_scenario(nullptr, 0);
  EXPECT_EQ(sc.tasks.size(), 2u);
  EXPECT_EQ(sc.mms.size(), 1u);
  EXPECT_TRUE(sc.choices.empty());
  EXPECT_TRUE(is_canonical_scenario(sc, nullptr));
  Execution ex;
  EXPECT_EQ(ex.run(sc).verdict, Verdict::kPass);
}

TEST(ScenarioCodec, NeverTakesABlockingMmapLockWhileAVmaReadLockMayBeHeld) {
  DecodeLockState s;
  s = next_lock_state(s, OpKind::kLockVmaUnderRcu);
  for (OpKind k : legal_ops(s)) {
    EXPECT_NE(k, OpKind::kMmapReadLock);
    EXPECT_NE(k, OpKind::kMmapWriteLock);
    EXPECT_NE(op_info(k).level, OpLevel::kCaller) << op_info(k).name;
  }
}

TEST(Execution, BrokenWakeupIsALostWakeupNotADeadlock) {
  // Injected: readers wake the writer only at FLAG + 1, so a detach waiting
  // for FLAG is never woken although its condition holds.
  Execution ex;
  const Scenario sc = two_tasks({{OpKind::kFault, 0}, {OpKind::kFault, 0}}, {{OpKind::kMprotect, 0}, {OpKind::kMunmap, 0}});
  const auto found = first_finding(ex, sc, StrategyKind::kSwitchList, BugSet::of(Bug::wake_only_write_target), 20000);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->verdict, Verdict::kLostWakeup);
  // The detaching writer (T1) sleeps with its condition true; the reader may
  // sleep too, on the mmap_lock the writer holds.
  const BlockedTask* writer = nullptr;
  for (const BlockedTask& b : found->blocked) {
    if (b.task == 1) writer = &b;
  }
  ASSERT_NE(writer, nullptr);
  EXPECT_TRUE(writer->condition_holds);
  EXPECT_NE(writer->wait_site.find("detach"), std::string::npos) << writer->wait_site;
  ASSERT_TRUE(found->finding.has_value());
  EXPECT_EQ(found->finding->oracle, OracleId::kLostWakeup);
  EXPECT_EQ(found->finding->task, 1);
  // The same interleaving on the correct core passes.
  EXPECT_FALSE(first_finding(ex, sc, StrategyKind::kSwitchList, BugSet{}, 20000).has_value());
}

TEST(Execution, LeakedExcludeFlagIsCaughtWhenTheWriterExits) {
  // Injected (B16): a killed writer's -EINTR path leaves FLAG set and keeps
  // lockdep's exclusive hold; the balance oracle sees the hold at its exit.
  Execution ex;
  Scenario sc = two_tasks({{OpKind::kFault, 0}, {OpKind::kFault, 0}}, {{OpKind::kMprotectKillable, 0}});
  sc.tasks.push_back(TaskProgram{0, {{OpKind::kMprotect, 0}}});
  const auto found = first_finding(ex, sc, StrategyKind::kSwitchList, BugSet::of(Bug::eintr_keeps_flag), 20000);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->verdict, Verdict::kOracle);
  ASSERT_TRUE(found->finding.has_value());
  EXPECT_EQ(found->finding->signature(), "balance.lock_held_at_exit|vm_lock|-|fault");
  EXPECT_EQ(found->finding->task, 1);
  EXPECT_FALSE(first_finding(ex, sc, StrategyKind::kSwitchList, BugSet{}, 20000).has_value());
}

TEST(Execution, LeakedReadReferenceIsCaughtAtExitAndIsADeadlockWithoutOracles) {
  // Injected: a reader that fails lock_vma_under_rcu()'s range check keeps its
  // reference. The object must be recycled to another slot of the same mm
  // under the reader. The balance oracle sees the leaked read lock when T0
  // exits; without the ghost oracles the next writer of that VMA waits for a
  // count that never comes: a deadlock.
  Execution ex;
  const Scenario sc = two_tasks({{OpKind::kLockVmaUnderRcu, 0}},
                                {{OpKind::kMunmap, 0}, {OpKind::kMmap, 3}, {OpKind::kMprotect, 3}});
  const BugSet bug = BugSet::of(Bug::range_check_leaks_read_lock);
  const auto found = first_finding(ex, sc, StrategyKind::kSwitchList, bug, 50000);
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->finding.has_value());
  EXPECT_EQ(found->finding->oracle, OracleId::kLockHeldAtExit);
  EXPECT_EQ(found->finding->detail, "vm_lock");

  std::mt19937 rng(1);
  Scenario base = sc;
  std::optional<ExecutionResult> deadlock;
  for (int i = 0; i < 50000 && !deadlock; ++i) {
    base.choices = random_bytes(rng, 32);
    ExecutionResult r = ex.run(base, RunOptions{.inject = bug, .ghost_oracles = false});
    if (r.verdict == Verdict::kDeadlock) deadlock = std::move(r);
  }
  ASSERT_TRUE(deadlock.has_value());
  ASSERT_EQ(deadlock->blocked.size(), 1u);
  EXPECT_EQ(deadlock->blocked[0].task, 1);
  EXPECT_FALSE(deadlock->blocked[0].condition_holds);
  EXPECT_NE(deadlock->blocked[0].wait_site.find("FLAG + 1"), std::string::npos) << deadlock->blocked[0].wait_site;
  EXPECT_EQ(deadlock->finding->oracle, OracleId::kDeadlock);
  EXPECT_FALSE(first_finding(ex, sc, StrategyKind::kSwitchList, BugSet{}, 50000).has_value());
}

TEST(Execution, DetachThatDoesNotWaitLeavesTheCountNonZero) {
  Execution ex;
  const Scenario sc = two_tasks({{OpKind::kFault, 0}}, {{OpKind::kMunmap, 0}});
  const auto found = first_finding(ex, sc, StrategyKind::kRandom, BugSet::of(Bug::detach_no_wait), 20000);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->verdict, Verdict::kOracle);
  EXPECT_EQ(found->finding->signature(), "detach.count_not_zero||munmap|fault");
  EXPECT_GE(found->finding->vma, 0);
  // Without the ghost oracles the core's own WARN catches it when the VMA is freed.
  std::mt19937 rng(1);
  Scenario base = sc;
  base.strategy = StrategyKind::kRandom;
  std::optional<ExecutionResult> core_only;
  for (int i = 0; i < 20000 && !core_only; ++i) {
    base.choices = random_bytes(rng, 32);
    ExecutionResult r = ex.run(base, RunOptions{.inject = BugSet::of(Bug::detach_no_wait), .ghost_oracles = false});
    if (r.verdict != Verdict::kPass) core_only = std::move(r);
  }
  ASSERT_TRUE(core_only.has_value());
  EXPECT_EQ(core_only->finding->signature(), "warn|vma_assert_detached|munmap|fault");
  EXPECT_FALSE(first_finding(ex, sc, StrategyKind::kRandom, BugSet{}, 20000).has_value());
}

// The platform keeps the three strategies as members and calls them directly
// (docs/BENCHMARKS.md, "Strategy reuse and devirtualisation"): each run must
// decide exactly as a fresh object from the registry's factory, called through
// the vtable, and nothing may carry over from the previous run of one engine.
TEST(Execution, MemberStrategiesDecideAsTheFactorysObjects) {
  Execution direct;
  Execution factory;
  std::mt19937 rng(20261207);
  std::set<StrategyKind> seen;
  for (int i = 0; i < 1500; ++i) {
    const std::vector<uint8_t> in = random_bytes(rng, 160);
    const Scenario sc = decode_scenario(in.data(), in.size());
    seen.insert(sc.strategy);
    const std::unique_ptr<Strategy> made = make_strategy(sc.strategy, sc.pct_depth);
    const ExecutionResult a = direct.run(sc);
    const ExecutionResult b = factory.run(sc, RunOptions{.strategy = made.get()});
    ASSERT_EQ(a.trace_hash, b.trace_hash) << "input " << i;
    ASSERT_EQ(a.steps, b.steps) << "input " << i;
    ASSERT_EQ(a.verdict, b.verdict) << "input " << i;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(StrategyKind::kMaxValue) + 1);
}

TEST(Execution, StepBoundTurnsALongRunIntoLivelockAndTheEngineRecovers) {
  Execution ex;
  const Scenario sc = two_tasks({{OpKind::kFault, 0}, {OpKind::kMunmap, 0}}, {{OpKind::kMmap, 1}, {OpKind::kFork, 0}});
  const ExecutionResult cut = ex.run(sc, RunOptions{.max_steps = 10});
  EXPECT_EQ(cut.verdict, Verdict::kLivelock);
  EXPECT_EQ(cut.steps, 11u);
  // The aborted run's fibers were unwound and pooled: the same engine runs on.
  const ExecutionResult full = ex.run(sc);
  EXPECT_EQ(full.verdict, Verdict::kPass);
  EXPECT_GT(full.steps, 10u);
  EXPECT_EQ(full.outcomes[1][0], OpOutcome::kDone);
}

TEST(Execution, KillEventStopsTheTaskAtItsNextOperation) {
  Execution ex;
  Scenario sc = two_tasks({{OpKind::kFault, 0}, {OpKind::kFault, 0}, {OpKind::kFault, 0}}, {{OpKind::kFault, 0}});
  const uint8_t n = 2;
  sc.choices = {4, static_cast<uint8_t>(7 * n + 0)};  // after 5 steps (inside op 0): SIGKILL T0
  const ExecutionResult r = ex.run(sc);
  EXPECT_EQ(r.verdict, Verdict::kPass);
  EXPECT_NE(r.outcomes[0][0], OpOutcome::kNotRun);  // the op in flight completes
  EXPECT_EQ(r.outcomes[0][1], OpOutcome::kNotRun);  // then the task dies
  EXPECT_EQ(r.outcomes[0][2], OpOutcome::kNotRun);
  EXPECT_NE(r.outcomes[1][0], OpOutcome::kNotRun);
}

TEST(Execution, MmExitsWhenItsLastTaskEnds) {
  // T0 unmaps; T1 maps two slots; when both end, the mm is torn down.
  Execution ex;
  const Scenario sc = two_tasks({{OpKind::kMunmap, 0}}, {{OpKind::kMmap, 1}, {OpKind::kMmap, 2}});
  const ExecutionResult r = ex.run(sc, RunOptions{.keep_trace = true});
  ASSERT_EQ(r.verdict, Verdict::kPass);
  EXPECT_EQ(r.outcomes[0][0], OpOutcome::kDone);
  EXPECT_EQ(r.outcomes[1][0], OpOutcome::kDone);
  EXPECT_EQ(r.outcomes[1][1], OpOutcome::kDone);
  EXPECT_EQ(r.final_state.mm_freed, std::vector<bool>{true});
  ASSERT_FALSE(r.final_state.vma_free.empty());
  for (size_t i = 0; i < r.final_state.vma_free.size(); ++i) {
    EXPECT_TRUE(r.final_state.vma_free[i]) << "VMA object " << i;
    EXPECT_EQ(r.final_state.vm_refcnt[i], 0) << "VMA object " << i;
  }
}


// ---- alone at exit (docs/SCHEDULER.md) ----------------------------------

std::string fmt_hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

Scenario parse_or_fail(const std::string& text) {
  auto parsed = parse_sched(text, "test");
  if (auto* e = std::get_if<SchedError>(&parsed)) ADD_FAILURE() << e->message;
  return std::get<SchedFile>(parsed).scenario;
}

// Issue 13's three-task program: the last task to finish tears the mm down
// alone. From its alone-at-exit mark on no step is taken and nothing else
// happens, but the teardown's accesses are made (recorded with keep_trace,
// at the last step) and the mm is freed; the trace hash does not depend on
// keep_trace.
TEST(AloneAtExit, TheLastTaskTearsDownWithoutSchedulingPoints) {
  std::mt19937_64 rng(20261207);
  Execution ex;
  for (int i = 0; i < 40; ++i) {
    const Scenario sc = parse_or_fail(
        "vmafuzz-sched 1\nmm 0 vmas 0\ntask T0 mm 0\n  mmap_write_lock\n  vma_start_write 0\n  mmap_write_unlock\n"
        "task T1 mm 0\n  lock_vma_under_rcu 0\n  vma_end_read\ntask T2 mm 0\n  lock_vma_under_rcu 0\n  vma_end_read\n"
        "schedule random seed 0x" + fmt_hex(rng()) + "\n");
    const uint64_t hash = ex.run(sc).trace_hash;
    const ExecutionResult r = ex.run(sc, RunOptions{.keep_trace = true});
    ASSERT_EQ(r.verdict, Verdict::kPass);
    EXPECT_EQ(r.trace_hash, hash);
    EXPECT_TRUE(r.final_state.mm_freed[0]);
    const std::vector<TraceEvent>& ev = ex.trace().events();
    const auto mark = std::find_if(ev.begin(), ev.end(), [](const TraceEvent& e) { return e.kind == TraceEventKind::kAloneAtExit; });
    ASSERT_NE(mark, ev.end()) << "run " << i << ": nobody exited alone";
    EXPECT_EQ(std::count_if(ev.begin(), ev.end(), [](const TraceEvent& e) { return e.kind == TraceEventKind::kAloneAtExit; }), 1);
    uint64_t last_step = 0;
    for (auto it = ev.begin(); it != mark; ++it) last_step = std::max(last_step, it->step);
    EXPECT_EQ(last_step, r.steps) << "the mark comes after the last scheduling point";
    int teardown_rmws = 0;
    for (auto it = mark + 1; it != ev.end(); ++it) {
      ASSERT_EQ(it->kind, TraceEventKind::kAccess) << "run " << i << ": only the teardown's accesses follow the mark";
      EXPECT_EQ(it->task, mark->task);
      EXPECT_EQ(it->step, r.steps);
      teardown_rmws += it->arg != 0 && it->word_kind == core::SharedWordKind::kMmCount;
    }
    EXPECT_EQ(teardown_rmws, 1) << "run " << i << ": mmdrop() was made after the mark";
  }
}

// A teardown that sleeps still parks, and the run is judged at quiescence:
// T0's lookup leaks a read reference (the mutant) and finishes (the exit
// balance check that reports the leak is off), T1 recycled the VMA to slot
// 1 and finishes; the last one's exit_mm() waits for the leaked reader.
TEST(AloneAtExit, ATeardownThatSleepsParksAndIsJudged) {
  Scenario sc = parse_or_fail(
      "vmafuzz-sched 1\nmm 0 vmas 0\ntask T0 mm 0\n  lock_vma_under_rcu 0\ntask T1 mm 0\n  munmap 0\n  mmap 1\n"
      "schedule switch-list\n  run 3 then switch T1\n  run 48 then switch T0\n");
  Execution ex;
  const RunOptions o{.inject = BugSet::of(Bug::range_check_leaks_read_lock),
                     .disabled_oracles = uint64_t{1} << static_cast<int>(OracleId::kLockHeldAtExit)};
  const ExecutionResult untraced = ex.run(sc, o);  // the suffix's short paths (sim_platform.cpp)
  RunOptions kept = o;
  kept.keep_trace = true;
  const ExecutionResult r = ex.run(sc, kept);
  EXPECT_EQ(untraced.verdict, r.verdict);
  ASSERT_TRUE(untraced.finding && r.finding);
  EXPECT_EQ(untraced.finding->signature(), r.finding->signature());
  EXPECT_EQ(untraced.blocked.size(), r.blocked.size());
  const std::vector<TraceEvent>& ev = ex.trace().events();
  const auto mark = std::find_if(ev.begin(), ev.end(), [](const TraceEvent& e) { return e.kind == TraceEventKind::kAloneAtExit; });
  ASSERT_NE(mark, ev.end()) << "no alone exit; verdict " << verdict_name(r.verdict);
  EXPECT_TRUE(std::any_of(mark, ev.end(), [&](const TraceEvent& e) { return e.kind == TraceEventKind::kPark && e.task == mark->task; }))
      << "the teardown slept";
  EXPECT_EQ(r.verdict, Verdict::kDeadlock);
  ASSERT_EQ(r.blocked.size(), 1u);
}

// The untraced suffix is judged by its own short path (no race tracker, raw
// values; sim_platform.cpp), the traced one by the full completion: on random
// inputs, with every catalogued bug in turn, both give the same verdict,
// finding and trace hash, also with the exit balance check off (a lock a bug
// leaks then reaches the teardown). A finding made in the suffix itself is
// rare here; ATeardownThatSleepsParksAndIsJudged has one. Under TSan the
// bugs that race on the payload by design are left out (their report ends
// the process; tests/tsan_races.h, tsan_catalog_test replays them).
TEST(AloneAtExit, AnUntracedTeardownIsJudgedAsATracedOne) {
  Execution ex;
  std::mt19937 rng(20261207);
  for (int i = 0; i < 150; ++i) {
    const std::vector<uint8_t> in = random_bytes(rng, 160);
    const Scenario sc = decode_scenario(in.data(), in.size());
    for (unsigned b = 0; b <= static_cast<unsigned>(Bug::kCount); ++b) {
#ifdef VMAFUZZ_TSAN
      if (b < static_cast<unsigned>(Bug::kCount) && test::races_under_tsan(static_cast<Bug>(b))) {
        if (i == 0) {
          const std::string name(core::bug_info(static_cast<Bug>(b)).name);
          RecordProperty("not_run_under_tsan", name);
          std::printf("note: %s races by design under ThreadSanitizer: not run here, tsan_catalog_test replays it\n",
                      name.c_str());
        }
        continue;
      }
#endif
      const BugSet inject = b < static_cast<unsigned>(Bug::kCount) ? BugSet::of(static_cast<Bug>(b)) : BugSet{};
      for (const uint64_t disabled : {uint64_t{0}, uint64_t{1} << static_cast<int>(OracleId::kLockHeldAtExit)}) {
        for (const MemoryModel mm : {MemoryModel::kSC, MemoryModel::kC11}) {
          const RunOptions o{.inject = inject, .disabled_oracles = disabled, .memory_model = mm};
          RunOptions kept = o;
          kept.keep_trace = true;
          const ExecutionResult plain = ex.run(sc, o);
          const ExecutionResult traced = ex.run(sc, kept);
          ASSERT_EQ(plain.verdict, traced.verdict) << "input " << i << ", bug " << b;
          EXPECT_EQ(plain.trace_hash, traced.trace_hash) << "input " << i << ", bug " << b;
          EXPECT_EQ(plain.outcomes, traced.outcomes) << "input " << i << ", bug " << b;
          ASSERT_EQ(plain.finding.has_value(), traced.finding.has_value());
          if (!plain.finding) continue;
          EXPECT_EQ(plain.finding->signature(), traced.finding->signature()) << "input " << i << ", bug " << b;
          EXPECT_EQ(plain.finding->step, traced.finding->step);
          EXPECT_EQ(plain.finding->task, traced.finding->task);
          EXPECT_EQ(plain.finding->vma, traced.finding->vma);
        }
      }
    }
  }
}

}  // namespace
}  // namespace vmafuzz::fuzz
