// nfc_test.cpp - the "no functional change" differential (fuzz/nfc.h): the
// schedule mapping between versions, the allowlist, and what it finds on the
// shipped seeds (nothing between equivalent versions, the test-only
// non-equivalent version at once).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/lock_version.h"
#include "fuzz/execution.h"
#include "fuzz/nfc.h"
#include "fuzz/scenario_codec.h"

#ifndef VMAFUZZ_CORPUS_DIR
#error "VMAFUZZ_CORPUS_DIR must be defined (tests/CMakeLists.txt)"
#endif

namespace vmafuzz::fuzz {
namespace {

namespace fs = std::filesystem;
using core::LockVersion;

std::vector<fs::path> seeds() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(VMAFUZZ_CORPUS_DIR)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

Scenario load(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
  return decode_scenario(bytes.data(), bytes.size());
}

int count_version_only(const Trace& t) {
  return static_cast<int>(std::count_if(t.events().begin(), t.events().end(), [](const TraceEvent& e) {
    return e.kind == TraceEventKind::kAccess && e.arg == kVersionOnlyAccess;
  }));
}

// The marked accesses before a task exits alone: after that no access is a
// scheduling point in either mode (docs/SCHEDULER.md, "Alone at exit").
int count_version_only_scheduled(const Trace& t) {
  const auto alone = std::find_if(t.events().begin(), t.events().end(),
                                  [](const TraceEvent& e) { return e.kind == TraceEventKind::kAloneAtExit; });
  return static_cast<int>(std::count_if(t.events().begin(), alone, [](const TraceEvent& e) {
    return e.kind == TraceEventKind::kAccess && e.arg == kVersionOnlyAccess;
  }));
}

// S1: a write-lock against a transient reader; vma_start_write() runs
// __vma_start_write(), whose second mm_lock_seq load is post-series only.
const char* const kWriteLockSeed = "S1_transient_reader_vs_write_lock.bin";
// S2c: the last transient reader leaves while the detach waits: the wake at FLAG.
const char* const kDetachWaitSeed = "S2c_transient_reader_vs_detach_put_during_wait.bin";

TEST(NfcMapping, AVersionOnlyAccessIsNoSchedulingPointOnlyWhenVersionsAreCompared) {
  ASSERT_TRUE(fs::exists(fs::path(VMAFUZZ_CORPUS_DIR) / kWriteLockSeed));
  const Scenario sc = load(fs::path(VMAFUZZ_CORPUS_DIR) / kWriteLockSeed);
  Execution exec;
  RunOptions opt;
  opt.keep_trace = true;
  opt.lock_version = LockVersion::post_series;
  const ExecutionResult post_plain = exec.run(sc, opt);
  EXPECT_EQ(count_version_only(exec.trace()), 0) << "marked only when comparing";
  opt.align_versions = true;
  const ExecutionResult post_aligned = exec.run(sc, opt);
  const int marked = count_version_only_scheduled(exec.trace());
  EXPECT_GE(marked, 1) << "__vma_start_write's second mm_lock_seq load";
  opt.lock_version = LockVersion::pre_series;
  const ExecutionResult pre_aligned = exec.run(sc, opt);
  EXPECT_EQ(count_version_only(exec.trace()), 0);
  // Aligned, both versions take the same number of scheduling points (the
  // same decisions from the same choice stream); unaligned, post-series has
  // one more per marked load.
  EXPECT_EQ(post_aligned.steps, pre_aligned.steps);
  EXPECT_EQ(post_plain.steps, post_aligned.steps + static_cast<uint64_t>(marked));
  EXPECT_EQ(post_plain.verdict, Verdict::kPass);
}

TEST(NfcMapping, WithoutTheMappingTheSameChoiceStreamIsADifferentInterleaving) {
  // The evidence that the mapping is needed: some seed's schedule shifts
  // when the extra load takes a decision (unaligned post-series), and it does
  // not when it does not (aligned), against pre-series.
  int shifted = 0;
  for (const fs::path& p : seeds()) {
    const Scenario sc = load(p);
    Execution exec;
    RunOptions opt;
    opt.keep_trace = true;
    opt.lock_version = LockVersion::pre_series;
    opt.align_versions = true;
    exec.run(sc, opt);
    std::vector<std::pair<int, uint32_t>> pre;  // (task, word) of each access
    for (const TraceEvent& e : exec.trace().events()) {
      if (e.kind == TraceEventKind::kAccess && e.arg == 1) pre.emplace_back(e.task, e.word_id);
    }
    opt.lock_version = LockVersion::post_series;
    opt.align_versions = false;
    exec.run(sc, opt);
    std::vector<std::pair<int, uint32_t>> post;
    int extra = 0;  // the extra loads, found by function path
    for (const TraceEvent& e : exec.trace().events()) {
      if (e.kind != TraceEventKind::kAccess || e.arg != 1) continue;
      if (nfc_allowed(e, exec.trace().fn_path(e.fn_path))) {
        ++extra;
        continue;
      }
      post.emplace_back(e.task, e.word_id);
    }
    if (extra > 0 && post != pre) ++shifted;
  }
  EXPECT_GE(shifted, 1);
}

TEST(NfcCompare, EquivalentVersionsGiveNoDivergenceOnAnyShippedSeed) {
  Execution exec;
  const std::pair<LockVersion, LockVersion> pairs[] = {
      {LockVersion::post_series, LockVersion::post_series},
      {LockVersion::pre_series, LockVersion::post_series},
      {LockVersion::post_series, LockVersion::pre_series},
  };
  int forgiven = 0;
  for (const fs::path& p : seeds()) {
    const Scenario sc = load(p);
    for (const auto& [a, b] : pairs) {
      const NfcComparison c = compare_versions(exec, sc, a, b);
      EXPECT_FALSE(c.divergence) << p.filename() << ": " << c.divergence->detail << "\n" << render_side_by_side(c);
      EXPECT_FALSE(c.a.events.empty());
      forgiven += c.a.forgiven + c.b.forgiven;
    }
  }
  EXPECT_GT(forgiven, 0) << "the allowlisted load was never made: the comparison did not look";
}

TEST(NfcCompare, TheNonEquivalentTestVersionIsFoundWithBothRunsShown) {
  Execution exec;
  const Scenario sc = load(fs::path(VMAFUZZ_CORPUS_DIR) / kDetachWaitSeed);
  const NfcComparison c = compare_versions(exec, sc, LockVersion::post_series, LockVersion::test_wake_write_only);
  ASSERT_TRUE(c.divergence);
  EXPECT_EQ(c.divergence->oracle, OracleId::kNfcDivergence);
  EXPECT_EQ(c.a.result.verdict, Verdict::kPass);
  EXPECT_EQ(c.b.result.verdict, Verdict::kLostWakeup);
  ASSERT_TRUE(c.events_differ);
  // The first difference is post-series' wake-up (its rcuwait load), where
  // the test version goes straight on.
  ASSERT_LT(c.first_event, c.a.events.size());
  EXPECT_EQ(c.a.events[c.first_event].word_kind, core::SharedWordKind::kRcuwaitTask);
  EXPECT_EQ(c.divergence->signature(),
            "nfc.divergence|events: post_series: load rcuwait_task in rcuwait_wake_up / test_wake_write_only: T0 "
            "ends op 0: null|lock_vma_under_rcu|");
  const std::string report = render_side_by_side(c);
  EXPECT_NE(report.find("post_series"), std::string::npos);
  EXPECT_NE(report.find("test_wake_write_only"), std::string::npos);
  EXPECT_NE(report.find("T0 wakes T1"), std::string::npos) << report;
  EXPECT_NE(report.find("sleep.lost_wakeup"), std::string::npos) << report;
}

TEST(NfcCompare, InjectedBugsApplyToPostSeriesOnlyWhereTheirPointIsInAReplacedFunction) {
  // docs/MODEL.md, section 9: B09's point is in vma_mark_detached(), which
  // pre_series replaces, so only post_series has the bug and the two differ;
  // B12's is in vma_start_read(), shared, so both find it alike: no divergence.
  Execution exec;
  RunOptions opt;
  opt.inject = core::BugSet::of(core::Bug::detach_no_wait);
  NfcComparison c = compare_versions(exec, load(fs::path(VMAFUZZ_CORPUS_DIR) / "B09_detach_no_wait.bin"),
                                     LockVersion::pre_series, LockVersion::post_series, opt);
  ASSERT_TRUE(c.divergence);
  EXPECT_EQ(c.a.result.verdict, Verdict::kPass);
  EXPECT_NE(c.b.result.verdict, Verdict::kPass);
  opt.inject = core::BugSet::of(core::Bug::no_foreign_mm_check);
  c = compare_versions(exec, load(fs::path(VMAFUZZ_CORPUS_DIR) / "B12_no_foreign_mm_check.bin"),
                       LockVersion::pre_series, LockVersion::post_series, opt);
  EXPECT_FALSE(c.divergence) << c.divergence->detail;
  EXPECT_NE(c.a.result.verdict, Verdict::kPass) << "both versions find B12";
  EXPECT_EQ(c.a.result.finding->signature(), c.b.result.finding->signature());
}

TEST(NfcAllowlist, ForgivesOnlyTheDeclaredAccessInTheDeclaredFunction) {
  TraceEvent e{};
  e.kind = TraceEventKind::kAccess;
  e.arg = 1 | kVersionOnlyAccess;
  e.word_kind = core::SharedWordKind::kMmLockSeq;
  e.access = core::AccessKind::kLoad;
  EXPECT_TRUE(nfc_allowed(e, "vma_start_write > __vma_start_write > __vma_raw_mm_seqnum"));
  EXPECT_TRUE(nfc_allowed(e, "vma_start_write_killable > __vma_start_write > __vma_raw_mm_seqnum"));
  EXPECT_FALSE(nfc_allowed(e, "vma_start_write > __is_vma_write_locked > __vma_raw_mm_seqnum"));
  e.access = core::AccessKind::kStore;
  EXPECT_FALSE(nfc_allowed(e, "vma_start_write > __vma_start_write > __vma_raw_mm_seqnum"));
}

TEST(NfcVersions, PairsParseAndUnknownNamesSayWhatIsKnown) {
  std::string error;
  const auto p = parse_version_pair("pre_series,post_series", &error);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->first, LockVersion::pre_series);
  EXPECT_EQ(p->second, LockVersion::post_series);
  EXPECT_FALSE(parse_version_pair("pre_series", &error));
  EXPECT_NE(error.find("A,B"), std::string::npos);
  EXPECT_FALSE(parse_version_pair("pre_series,nope", &error));
  EXPECT_NE(error.find("'nope'"), std::string::npos);
  EXPECT_NE(error.find("test_wake_write_only"), std::string::npos);
  EXPECT_FALSE(parse_version_pair("a,b,c", &error));
  EXPECT_EQ(core::lock_version_info(LockVersion{}).name, "post_series") << "the default is the first row";
}

}  // namespace
}  // namespace vmafuzz::fuzz
