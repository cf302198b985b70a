// minimize_test.cpp - `vmafuzz minimize`: schedule-aware delta debugging.
//
// A hunt finding (random schedule, many operations) shrinks to no more than
// the hand-written regression scenario of its bug and keeps its key; the
// result is deterministic, bounded by --runs, written in OUT's form and
// replays; the input is never overwritten; a passing input is refused. A C11
// finding keeps only the stale reads it needs (none, and SC, if it needs
// none); a divergence between two lock versions (--versions) shrinks while
// it diverges alike, and an input that does not diverge is refused.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "core/sanitizer_hooks.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/sched_text.h"
#include "repro/minimize.h"
#include "tests/repro/repro_test_support.h"

namespace vmafuzz::repro::test {
namespace {

using MinimizeCommand = CliTest;

constexpr const char* kBug = "detach_no_wait";

fuzz::SchedFile parse_file(const fs::path& p) {
  auto parsed = fuzz::parse_sched(read_text(p), p.string());
  if (const auto* e = std::get_if<fuzz::SchedError>(&parsed)) ADD_FAILURE() << e->to_string();
  return std::holds_alternative<fuzz::SchedFile>(parsed) ? std::get<fuzz::SchedFile>(parsed) : fuzz::SchedFile{};
}

int run_lines(const fs::path& sched) {
  int n = 0;
  std::istringstream in(read_text(sched));
  for (std::string line; std::getline(in, line);) n += line.starts_with("  run ");
  return n;
}

// (--time 0: no time limit, so that slow builds reach the same fixpoint.)
// A hunt finding of detach_no_wait: what `vmafuzz hunt --inject
// detach_no_wait --seed 1` saves (48 bytes: 2 tasks, 14 operations, a random
// schedule with 27 decisions), kept here because hunting for it takes
// seconds in a Debug build and minutes under the sanitizers.
const std::vector<uint8_t> kHuntFinding = {
    0x50, 0x1f, 0x05, 0x08, 0x00, 0x00, 0x00, 0x03, 0x03, 0x00, 0x03, 0x00, 0x07, 0x07, 0x00, 0x07,
    0x09, 0x00, 0x03, 0x05, 0x04, 0x05, 0x03, 0x05, 0x04, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03,
    0x58, 0xb2, 0x19, 0x6f, 0x0c, 0xf3, 0x60, 0x33, 0x39, 0x73, 0x26, 0xf3, 0xcb, 0xe0, 0x68, 0xf3};

class MinimizeHunt : public MinimizeCommand {
 protected:
  void SetUp() override {
    MinimizeCommand::SetUp();
    found_ = path("hunt.bin");
    write_file(found_, kHuntFinding);
    const CliResult r = cli({"run", "--inject", kBug, found_});
    ASSERT_EQ(r.code, kExitFinding) << r.out << r.err;
  }
  std::string found_;
};

TEST_F(MinimizeHunt, ShrinksToAtMostTheRegressionScenarioAndKeepsTheOracle) {
  const CliResult r = cli({"minimize", "--inject", kBug, "--time", "0", found_, "-o", path("min.sched")});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("minimize: key detach.count_not_zero|"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the random schedule became switch-list"), std::string::npos) << r.out;
  const fuzz::SchedFile got = parse_file(path("min.sched"));
  const fuzz::SchedFile hand = parse_file(sched_dir() / "B09_detach_no_wait.sched");
  EXPECT_EQ(got.scenario.strategy, fuzz::StrategyKind::kSwitchList);
  EXPECT_LE(fuzz::total_ops(got.scenario), fuzz::total_ops(hand.scenario)) << read_text(path("min.sched"));
  EXPECT_LE(run_lines(path("min.sched")), run_lines(sched_dir() / "B09_detach_no_wait.sched"))
      << read_text(path("min.sched"));
  // It replays (its own expect lines say so) to the same oracle.
  const CliResult replay = cli({"run", "--inject", kBug, path("min.sched")});
  EXPECT_EQ(replay.code, kExitFinding) << replay.out << replay.err;
  EXPECT_EQ(line_after(replay.out, "==vmafuzz== FINDING: "), "detach.count_not_zero") << replay.out;
  // The header comment says what made it.
  EXPECT_TRUE(read_text(path("min.sched")).starts_with("# Minimized by `vmafuzz minimize --inject detach_no_wait "));
}

TEST_F(MinimizeHunt, IsDeterministicAndWritesBinaryForOtherNames) {
  ASSERT_EQ(cli({"minimize", "--inject", kBug, "--time", "0", found_, "-o", path("a.bin")}).code, kExitOk);
  ASSERT_EQ(cli({"minimize", "--inject", kBug, "--time", "0", found_, "-o", path("b.bin")}).code, kExitOk);
  EXPECT_EQ(read_bytes(path("a.bin")), read_bytes(path("b.bin")));
  EXPECT_LT(read_bytes(path("a.bin")).size(), read_bytes(found_).size());
  const CliResult replay = cli({"run", "--inject", kBug, path("a.bin")});
  EXPECT_EQ(replay.code, kExitFinding) << replay.out;
}

TEST_F(MinimizeHunt, RunsBoundIsRespected) {
  const CliResult r = cli({"minimize", "--inject", kBug, "--runs", "5", found_, "-o", path("few.bin")});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  // Runs counted include each placement run; the bound stops the search at
  // the first candidate past it.
  const std::string summary = line_after(r.out, "minimize: ");
  EXPECT_NE(r.out.find("stopped by the --time/--runs budget"), std::string::npos) << r.out;
  std::optional<fuzz::Finding> f;
  MinimizeOptions o;
  o.run.inject.add(core::Bug::detach_no_wait);
  const std::vector<uint8_t> bytes = read_bytes(path("few.bin"));
  EXPECT_EQ(minimization_key(fuzz::decode_scenario(bytes.data(), bytes.size()), o, &f), "detach.count_not_zero|");
  MinimizeOptions bounded = o;
  bounded.max_runs = 7;
  const std::vector<uint8_t> in = read_bytes(found_);
  const MinimizeResult m = minimize(fuzz::decode_scenario(in.data(), in.size()), bounded);
  EXPECT_FALSE(m.fixpoint);
  // A candidate in flight may finish its placement runs (at most one per decision).
  EXPECT_LE(m.runs, 7u + 2 + static_cast<uint64_t>(m.before.preemptions) + 1);
}

TEST_F(MinimizeHunt, NeverOverwritesItsInput) {
  const std::vector<uint8_t> before = read_bytes(found_);
  CliResult r = cli({"minimize", "--inject", kBug, found_, "-o", found_});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("never overwrites its input"), std::string::npos) << r.err;
  // Another spelling of the same file.
  r = cli({"minimize", "--inject", kBug, found_, "-o", (dir() / "." / "hunt.bin").string()});
  EXPECT_EQ(r.code, kExitUsage) << r.err;
  EXPECT_EQ(read_bytes(found_), before);
}

TEST_F(MinimizeCommand, PassingInputIsAUsageError) {
  // B09's file passes on the correct model: nothing to minimize without --inject.
  const fs::path in = sched_dir() / "B09_detach_no_wait.sched";
  const CliResult r = cli({"minimize", in.string(), "-o", path("out.sched")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("the input passes"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--inject"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("out.sched")));
}

TEST_F(MinimizeCommand, PctInputBecomesSwitchList) {
  const fs::path found = dir() / "pct.bin";
  const CliResult h = cli({"hunt", "--strategy", "pct", "--inject", "rcu_held_on_empty_lookup", "--seed", "5", "--runs",
                           "20000", "--time", "600", "--save", found.string()});
  ASSERT_EQ(h.code, kExitFinding) << h.out << h.err;
  const CliResult r =
      cli({"minimize", "--inject", "rcu_held_on_empty_lookup", found.string(), "-o", path("pct.min.sched")});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("(pct)"), std::string::npos) << r.out;
  const fuzz::SchedFile got = parse_file(path("pct.min.sched"));
  EXPECT_EQ(got.scenario.strategy, fuzz::StrategyKind::kSwitchList) << read_text(path("pct.min.sched"));
  EXPECT_EQ(cli({"run", "--inject", "rcu_held_on_empty_lookup", path("pct.min.sched")}).code, kExitFinding);
}

TEST_F(MinimizeCommand, RegressionScenarioDoesNotGrowAndTheProgramAgrees) {
  // Already minimal: B09's own file with its bug stays as small, as the built program.
  const fs::path in = sched_dir() / "B09_detach_no_wait.sched";
  const CliResult r = vmafuzz({"minimize", "--inject", kBug, in.string(), "-o", path("b09.sched")});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  const fuzz::SchedFile got = parse_file(path("b09.sched"));
  const fuzz::SchedFile hand = parse_file(in);
  EXPECT_LE(fuzz::total_ops(got.scenario), fuzz::total_ops(hand.scenario));
  EXPECT_LE(run_lines(path("b09.sched")), run_lines(in));
  EXPECT_EQ(vmafuzz({"run", "--inject", kBug, path("b09.sched")}).code, kExitFinding);
}

// A regression scenario with its program and schedule, and `reads` in place
// of its own (expect lines dropped: they name the original reads).
std::string with_reads(const fs::path& sched, const std::string& reads) {
  std::string out;
  std::istringstream in(read_text(sched));
  bool had = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("expect ")) continue;
    if (line.starts_with("memory-model ")) {
      line = "memory-model c11 reads " + reads;
      had = true;
    } else if (line.starts_with("schedule ") && !had) {
      out += "memory-model c11 reads " + reads + "\n";
    }
    out += line + "\n";
  }
  return out;
}

// B10 needs one stale read, the third read choice (its file: reads 0 0 1).
// Given 5 0 5 1 6 7 2 3 (three stale reads taken, the needed one 5: as many
// stores back as 1 there, modulo its candidates), the minimized file has
// that one only, as 1. (--runs: the reads go first; bounded under TSan's
// forked candidates too.)
TEST_F(MinimizeCommand, WeakMemoryFindingKeepsOnlyTheStaleReadsItNeeds) {
  const std::string bug = "reader_inc_without_acquire";
  write_file(path("b10.sched"), with_reads(sched_dir() / "B10_reader_inc_without_acquire.sched", "5 0 5 1 6 7 2 3"));
  ASSERT_EQ(cli({"run", "--inject", bug, path("b10.sched")}).code, kExitFinding);
  const CliResult r = cli({"minimize", "--inject", bug, "--runs", "300", path("b10.sched"), "-o", path("min.sched")});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("minimize: weak memory: 3 stale reads before, 1 after (read choices: 7 nonzero before, 1 "
                       "after)"),
            std::string::npos)
      << r.out;
  const fuzz::SchedFile got = parse_file(path("min.sched"));
  EXPECT_EQ(got.scenario.memory_model, fuzz::MemoryModel::kC11);
  EXPECT_EQ(got.scenario.reads, (std::vector<uint8_t>{0, 0, 1})) << read_text(path("min.sched"));
  // It replays (its expect lines included) to the same finding, which needs
  // that stale read: under SC it passes.
  const CliResult replay = cli({"run", "--inject", bug, path("min.sched")});
  EXPECT_EQ(replay.code, kExitFinding) << replay.out << replay.err;
  EXPECT_EQ(line_after(replay.out, "==vmafuzz== FINDING: "), "exclusion.read_and_write_locked") << replay.out;
  EXPECT_EQ(cli({"run", "--inject", bug, "--memory-model", "sc", path("min.sched")}).code, kExitOk);
}

// B09 (detach_no_wait) is no weak-memory bug: recorded in C11 mode with a
// stale read it takes, it minimizes to SC, and says so.
TEST_F(MinimizeCommand, FindingThatHoldsUnderScMinimizesToSc) {
  write_file(path("b09.sched"), with_reads(sched_dir() / "B09_detach_no_wait.sched", "2 3 3"));
  MinimizeOptions o;
  o.run.inject.add(core::Bug::detach_no_wait);
  const fuzz::Scenario in = parse_file(path("b09.sched")).scenario;
  ASSERT_EQ(in.memory_model, fuzz::MemoryModel::kC11);
  ASSERT_EQ(minimization_key(in, o), "detach.count_not_zero|");
  ASSERT_GT(scenario_size(in, o).stale_reads, 0) << "the input must take a stale read";
  const CliResult r = cli({"minimize", "--inject", kBug, "--runs", "300", path("b09.sched"), "-o", path("sc.sched")});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("the finding holds under SC: not a weak-memory bug"), std::string::npos) << r.out;
  const std::string text = read_text(path("sc.sched"));
  EXPECT_NE(text.find("# the finding holds under SC"), std::string::npos) << text;
  const fuzz::SchedFile got = parse_file(path("sc.sched"));
  EXPECT_EQ(got.scenario.memory_model, fuzz::MemoryModel::kSC) << text;
  EXPECT_TRUE(got.scenario.reads.empty()) << text;
  EXPECT_EQ(text.find("memory-model"), std::string::npos) << text;
  EXPECT_EQ(cli({"run", "--inject", kBug, path("sc.sched")}).code, kExitFinding);
}

// A divergence between post_series and the test-only test_wake_write_only
// (S2c's, the one scripts/test's fuzz_nfc check finds), inside a larger
// scenario: a third task and operations before and after.
constexpr const char* kBigDivergence = R"(vmafuzz-sched 1
mm 0 vmas 0 2 3
task T0 mm 0
  lock_vma_under_rcu 0
  vma_end_read
  fault 3
  mprotect 2
task T1 mm 0
  munmap 0
  fault 2
  mmap 4
task T2 mm 0
  fault 3
  mprotect 2
schedule switch-list
  run 5 then switch T1
  run 18 then switch T0
  run 4 then switch T1
  run 30 then switch T2
  run 7 then switch T0
)";
constexpr const char* kTestVersions = "post_series,test_wake_write_only";

TEST_F(MinimizeCommand, DivergenceShrinksAndStillDivergesWithTheSameSignature) {
  write_file(path("big.sched"), std::string_view(kBigDivergence));
  const CliResult before = cli({"diff", path("big.sched"), "--versions", kTestVersions});
  ASSERT_EQ(before.code, kExitFinding) << before.out;
  const std::string signature = line_after(before.out, "SIGNATURE: ");
  ASSERT_TRUE(signature.starts_with("nfc.divergence|events: post_series: load rcuwait_task")) << signature;
  // `vmafuzz run` sees nothing: without --versions there is nothing to minimize.
  EXPECT_EQ(cli({"minimize", path("big.sched"), "-o", path("none.sched")}).code, kExitUsage);
  const CliResult r =
      cli({"minimize", "--versions", kTestVersions, "--runs", "300", path("big.sched"), "-o", path("min.sched")});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("minimize: key nfc.divergence|events: post_series: load rcuwait_task"), std::string::npos)
      << r.out;
  const fuzz::SchedFile got = parse_file(path("min.sched"));
  const fuzz::SchedFile in = parse_file(path("big.sched"));
  EXPECT_LT(fuzz::total_ops(got.scenario), fuzz::total_ops(in.scenario)) << read_text(path("min.sched"));
  EXPECT_LT(got.scenario.tasks.size(), in.scenario.tasks.size());
  const std::string text = read_text(path("min.sched"));
  EXPECT_NE(text.find("# replay: vmafuzz diff FILE --versions post_series,test_wake_write_only"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("\nexpect "), std::string::npos) << "`vmafuzz run` cannot check a divergence";
  const CliResult after = cli({"diff", path("min.sched"), "--versions", kTestVersions});
  EXPECT_EQ(after.code, kExitFinding) << after.out;
  EXPECT_EQ(line_after(after.out, "SIGNATURE: "), signature);
}

// S3's divergence is a switch post_series makes where the test version ends
// its operation: re-encoded from version B's decisions, the schedule would
// diverge elsewhere (a different site). The result keeps S3's signature.
TEST_F(MinimizeCommand, DivergenceAtASwitchOnlyOneVersionMakesKeepsItsSignature) {
  const std::string seed = (source_dir() / "corpus" / "fuzz_vma_lock" / "S3_spurious_wake_in_detach.bin").string();
  const CliResult before = cli({"diff", seed, "--versions", kTestVersions});
  ASSERT_EQ(before.code, kExitFinding) << before.out;
  const std::string signature = line_after(before.out, "SIGNATURE: ");
  ASSERT_NE(signature.find("post_series: switch to T2"), std::string::npos) << signature;
  const CliResult r = cli({"minimize", "--versions", kTestVersions, "--runs", "100", seed, "-o", path("s3.sched")});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  const CliResult after = cli({"diff", path("s3.sched"), "--versions", kTestVersions});
  EXPECT_EQ(after.code, kExitFinding) << after.out;
  EXPECT_EQ(line_after(after.out, "SIGNATURE: "), signature) << read_text(path("s3.sched"));
}

TEST_F(MinimizeCommand, InputThatDoesNotDivergeIsRefused) {
  const std::string seed =
      (source_dir() / "corpus" / "fuzz_vma_lock" / "S1_transient_reader_vs_write_lock.bin").string();
  CliResult r = cli({"minimize", "--versions", "pre_series,post_series", seed, "-o", path("out.sched")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("does not diverge between pre_series and post_series"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("out.sched")));
  r = cli({"minimize", "--versions", "pre_series,v7", seed, "-o", path("out.sched")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("unknown version 'v7'"), std::string::npos) << r.err;
}

// Two libFuzzer crashes (bench/run_minimize_bench.py --crashes), minimized
// with a run bound (deterministic in any build).
MinimizeResult minimize_bytes(const std::vector<uint8_t>& in, core::Bug bug) {
  MinimizeOptions o;
  o.run.inject.add(bug);
  o.time_limit = 0;
  o.max_runs = 5000;
  return minimize(fuzz::decode_scenario(in.data(), in.size()), o);
}

// no_mmgrab_foreign_mm (B13): 3 tasks, 4 operations, 6 pairs. Dropping T2's
// mprotect moves its exit's scheduling points: the kept decisions are
// re-anchored and shifted (pass_shift), the pair count stays.
TEST(MinimizeLocal, DroppedOperationReanchorsAndShiftsTheDecisions) {
  const std::vector<uint8_t> crash = {0x45, 0x01, 0x00, 0x04, 0x00, 0x0a, 0x00, 0x00, 0x03, 0x00, 0x01, 0x04, 0x00, 0x01,
                                      0x00, 0x02, 0x00, 0x00, 0x03, 0x02, 0x02, 0x00, 0x08, 0x02, 0x2f, 0x01, 0x03};
  const MinimizeResult a = minimize_bytes(crash, core::Bug::no_mmgrab_foreign_mm);
  EXPECT_EQ(a.key, "lifetime|mm_use_after_free");
  EXPECT_EQ(a.before.ops, 4);
  EXPECT_EQ(a.after.ops, 3);
  EXPECT_LE(a.after.preemptions, 6);
  MinimizeOptions o;
  o.run.inject.add(core::Bug::no_mmgrab_foreign_mm);
  EXPECT_EQ(minimization_key(a.scenario, o), a.key);
  const MinimizeResult b = minimize_bytes(crash, core::Bug::no_mmgrab_foreign_mm);
  EXPECT_EQ(fuzz::encode_scenario(a.scenario), fuzz::encode_scenario(b.scenario));
}

// detach_waits_for_write_target: a random schedule whose forced picks
// switch-list makes otherwise under every numbering of the tasks; it
// converts with explicit switches before those picks.
TEST(MinimizeLocal, RandomScheduleConvertsWithExplicitForcedPicks) {
  const std::vector<uint8_t> crash = {0x51, 0x82, 0x06, 0x03, 0x07, 0x05, 0x00, 0x07, 0x00, 0x04, 0x04, 0x03,
                                      0x01, 0x07, 0x00, 0x01, 0x05, 0x00, 0x08, 0x00, 0x03, 0x00, 0x07, 0x06,
                                      0x05, 0x07, 0x01, 0x09, 0x00, 0xec, 0xe3, 0x7b, 0x7e, 0x07, 0x58, 0x84,
                                      0x48, 0xf4, 0x97, 0x67, 0x65, 0xb0, 0xaf, 0x9f, 0x63};
  const MinimizeResult a = minimize_bytes(crash, core::Bug::detach_waits_for_write_target);
  EXPECT_EQ(a.key.rfind("sleep.deadlock|", 0), 0u) << a.key;
  EXPECT_EQ(a.before.strategy, fuzz::StrategyKind::kRandom);
  EXPECT_EQ(a.after.strategy, fuzz::StrategyKind::kSwitchList);
  EXPECT_TRUE(a.converted);
  EXPECT_LE(a.after.ops, 3);
  EXPECT_LT(a.after.preemptions, a.before.preemptions);
  MinimizeOptions o;
  o.run.inject.add(core::Bug::detach_waits_for_write_target);
  EXPECT_EQ(minimization_key(a.scenario, o), a.key);
}

#if defined(VMAFUZZ_TSAN)
// B06 is seen only by ThreadSanitizer: each candidate runs in a forked child
// and the key is the data race's two functions.
TEST_F(MinimizeCommand, TsanFindingKeepsItsReportAndDoesNotGrow) {
  const fs::path in = sched_dir() / "B06_seq_end_without_release.sched";
  const CliResult r =
      cli({"minimize", "--inject", "seq_end_without_release", in.string(), "-o", path("b06.sched")});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("minimize: key ThreadSanitizer: data race:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("modify_payload"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("read_payload"), std::string::npos) << r.out;
  const fuzz::SchedFile got = parse_file(path("b06.sched"));
  EXPECT_LE(fuzz::total_ops(got.scenario), fuzz::total_ops(parse_file(in).scenario));
  EXPECT_LE(run_lines(path("b06.sched")), run_lines(in));
  MinimizeOptions o;
  o.fork_each = true;
  o.run.inject.add(core::Bug::seq_end_without_release);
  EXPECT_EQ(minimization_key(got.scenario, o).rfind("ThreadSanitizer: data race:", 0), 0u);
}
#endif

}  // namespace
}  // namespace vmafuzz::repro::test
