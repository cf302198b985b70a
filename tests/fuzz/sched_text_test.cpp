// sched_text_test.cpp - the .sched text form (fuzz/sched_text.h): round trips
// with the binary form, canonical printing, and every kind of parse error.
#include "fuzz/sched_text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "fuzz/execution.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/strategy.h"
#include "fuzz/trace.h"

namespace vmafuzz::fuzz {
namespace {

std::vector<uint8_t> random_bytes(std::mt19937& rng) {
  // Mostly short inputs (the interesting sizes for the front/back split),
  // sometimes long ones (many ops, long choice streams).
  const size_t size = rng() % 4 == 0 ? rng() % 160 : rng() % 48;
  std::vector<uint8_t> bytes(size);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

// An empty vector's data() may be null, which FuzzedDataProvider hands to
// memcpy (undefined even for 0 bytes; UBSan reports it): pass a valid pointer.
Scenario decode(const std::vector<uint8_t>& bytes) {
  static const uint8_t kNone = 0;
  return decode_scenario(bytes.empty() ? &kNone : bytes.data(), bytes.size());
}

// Parses text that must be valid.
SchedFile parse_ok(const std::string& text) {
  auto r = parse_sched(text, "test.sched");
  if (const auto* e = std::get_if<SchedError>(&r)) {
    ADD_FAILURE() << e->to_string() << "\nin:\n" << text;
    return {};
  }
  return std::get<SchedFile>(std::move(r));
}

// The error a text must produce, as "file:line:column: message".
std::string parse_error(const std::string& text) {
  auto r = parse_sched(text, "t.sched");
  if (const auto* e = std::get_if<SchedError>(&r)) return e->to_string();
  return "(parsed)";
}

// ---- round trips ----------------------------------------------------------

constexpr int kRandomScenarios = 20000;

TEST(SchedText, EveryDecodedScenarioPrintsAndParsesBackToItsCanonicalForm) {
  std::mt19937 rng(20240611);
  for (int i = 0; i < kRandomScenarios; ++i) {
    const Scenario sc = decode(random_bytes(rng));
    const std::string text = print_sched(sc);
    auto parsed = parse_sched(text, "random.sched");
    const auto* err = std::get_if<SchedError>(&parsed);
    ASSERT_EQ(err, nullptr) << err->to_string() << "\n" << text;
    const SchedFile& f = std::get<SchedFile>(parsed);
    ASSERT_EQ(f.scenario, canonical_form(sc)) << text;
    ASSERT_EQ(print_sched(f), text);
  }
}

TEST(SchedText, CanonicalFormIsAFixedPointAndSurvivesTheBinaryFormat) {
  std::mt19937 rng(7);
  for (int i = 0; i < kRandomScenarios; ++i) {
    const Scenario c = canonical_form(decode(random_bytes(rng)));
    ASSERT_EQ(canonical_form(c), c);
    const std::vector<uint8_t> bytes = encode_scenario(c);
    ASSERT_EQ(decode(bytes), c) << print_sched(c);
  }
}

// "Modulo unread choice bytes" made precise: the canonical form makes the same
// decision at every scheduling point, so the runs are identical.
TEST(SchedText, CanonicalFormRunsExactlyLikeTheOriginal) {
  std::mt19937 rng(99);
  Execution exec;
  int per_strategy[3] = {0, 0, 0};
  for (int i = 0; i < 1500; ++i) {
    const Scenario sc = decode(random_bytes(rng));
    const Scenario c = canonical_form(sc);
    if (c.choices == sc.choices && c.pct_depth == sc.pct_depth) continue;  // nothing to compare
    ++per_strategy[static_cast<int>(sc.strategy)];
    const ExecutionResult a = exec.run(sc);
    const ExecutionResult b = exec.run(c);
    ASSERT_EQ(a.trace_hash, b.trace_hash) << print_sched(sc);
    ASSERT_EQ(a.verdict, b.verdict);
    ASSERT_EQ(a.outcomes, b.outcomes);
  }
  for (int n : per_strategy) EXPECT_GT(n, 50);  // every strategy's rewriting was exercised
}

TEST(SchedText, CanonicalTextIsAFixedPointOfPrintAfterParse) {
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    SchedFile f{"# a header comment\n\n", decode(random_bytes(rng)), {}};
    f.scenario = canonical_form(f.scenario);
    const std::string text = print_sched(f);
    EXPECT_EQ(print_sched(parse_ok(text)), text);
  }
}

// Two tasks on an mm without VMAs; no preemption.
const std::string kSignatureHead =
    "vmafuzz-sched 1\n"
    "mm 0 vmas -\n"
    "task T0 mm 0\n"
    "  fault 0\n"
    "task T1 mm 0\n"
    "  fault 0\n"
    "schedule switch-list\n";

// Hand-written canonical texts, one per feature of the format.
const char* const kCanonicalTexts[] = {
    // Switch-list with every action, primitives and a kill op; expectations of every kind.
    "# header\n"
    "#   kept verbatim\n"
    "\n"
    "vmafuzz-sched 1\n"
    "mm 0 vmas 0 3 7\n"
    "task T0 mm 0\n"
    "  lock_vma_under_rcu 3\n"
    "  vma_end_read\n"
    "  kill T2\n"
    "task T1 mm 0\n"
    "  mmap_write_lock\n"
    "  vma_start_write_killable 0\n"
    "  vma_modify 0\n"
    "  mmap_write_downgrade\n"
    "  lock_vma_under_rcu 7\n"
    "  mmap_read_unlock\n"
    "  vma_end_read\n"
    "task T2 mm 0\n"
    "  fork\n"
    "schedule switch-list\n"
    "  run 1 then switch T1\n"
    "  run 48 then wake T2\n"
    "  run 7 then kill T0\n"
    "expect verdict pass\n"
    "expect report vma_assert_detached\n"
    "expect T0.0 vma-locked\n"
    "expect T1 parks 0\n"
    "expect T0.1 vm_refcnt 2->1 FLAG+2->FLAG+1 FLAG->0 -1->0\n"
    "expect T0.1 vm_refcnt -\n"
    "expect T1.2 mm_tree accesses 2\n"
    "expect T1.0 mm_lock_seq reads 4 5\n"
    "expect T1.0 vm_lock_seq reads -\n"
    "expect with detach_no_wait verdict core-report\n"
    "expect finding sleep.lost_wakeup\n"
    "expect signature sleep.lost_wakeup|vma_writer_wait (detach: vm_refcnt == FLAG)|munmap|\n"
    "expect with detach_no_wait signature detach.count_not_zero||munmap|lock_vma_under_rcu,mprotect\n",
    // Two mms, no VMAs in one, no choices.
    "vmafuzz-sched 1\n"
    "mm 0 vmas -\n"
    "mm 1 vmas 1\n"
    "task T0 mm 1\n"
    "  munmap 1\n"
    "task T1 mm 0\n"
    "  mmap 1\n"
    "task T2 mm 1\n"
    "  downgrade 1\n"
    "task T3 mm 0\n"
    "  mprotect-killable 1\n"
    "schedule switch-list\n",
    // PCT, depth 1 (no change points) and depth 4.
    "vmafuzz-sched 1\n"
    "mm 0 vmas 0\n"
    "task T0 mm 0\n"
    "  fault 0\n"
    "task T1 mm 0\n"
    "  mprotect 0\n"
    "schedule pct depth 1\n"
    "  priorities T1 T0\n",
    "vmafuzz-sched 1\n"
    "mm 0 vmas 0\n"
    "task T0 mm 0\n"
    "  fault 0\n"
    "task T1 mm 0\n"
    "  mprotect 0\n"
    "task T2 mm 0\n"
    "  munmap 0\n"
    "schedule pct depth 4\n"
    "  priorities T2 T0 T1\n"
    "  change-points 96 1 40\n",
    // Random.
    "vmafuzz-sched 1\n"
    "mm 0 vmas 0\n"
    "task T0 mm 0\n"
    "  fault 0\n"
    "task T1 mm 0\n"
    "  mprotect 0\n"
    "schedule random seed 0x0123456789abcdef\n",
};

TEST(SchedText, HandWrittenTextsSurviveParsePrintAndTheBinaryFormat) {
  for (const char* text : kCanonicalTexts) {
    const SchedFile f = parse_ok(text);
    EXPECT_EQ(print_sched(f), text);
    const std::vector<uint8_t> bytes = encode_scenario(f.scenario);
    const SchedFile back{f.preamble, decode(bytes), f.expectations};
    EXPECT_EQ(print_sched(back), text);
  }
}

TEST(SchedText, NonCanonicalSpellingParsesToTheSameScenario) {
  const SchedFile a = parse_ok(
      "# comments and blank lines anywhere\n"
      "vmafuzz-sched 1   # magic\n"
      "\n"
      "mm 0 vmas 3 0\t# any order\n"
      "task T0 mm 0\n"
      "\tfault 00\n"
      "task T1 mm 0\n"
      "      mprotect 3   # any indentation\n"
      "schedule random seed 0xABC\n");
  EXPECT_EQ(print_sched(a),
            "# comments and blank lines anywhere\n"  // the preamble is kept verbatim
            "vmafuzz-sched 1\n"
            "mm 0 vmas 0 3\n"
            "task T0 mm 0\n"
            "  fault 0\n"
            "task T1 mm 0\n"
            "  mprotect 3\n"
            "schedule random seed 0x0000000000000abc\n");
}

// `expect signature`: the rest of the line is the signature, blanks and all
// (a detail may hold them); comments still end it.
TEST(SchedText, SignatureExpectationIsTheRestOfTheLine) {
  const SchedFile f = parse_ok(kSignatureHead +
                               "expect with wake_only_write_target signature sleep.lost_wakeup|vma_writer_wait "
                               "(detach: vm_refcnt == FLAG)|munmap|   # the detail has blanks\n"
                               "expect signature warn|a|b|munmap|fault,lock_vma_under_rcu\n"
                               "expect signature balance.rcu_held||-|\n");
  ASSERT_EQ(f.expectations.size(), 3u);
  const Expectation& lost = f.expectations[0];
  EXPECT_EQ(lost.kind, Expectation::Kind::kSignature);
  EXPECT_EQ(lost.inject, core::Bug::wake_only_write_target);
  EXPECT_EQ(lost.signature, "sleep.lost_wakeup|vma_writer_wait (detach: vm_refcnt == FLAG)|munmap|");
  EXPECT_EQ(lost.line, 8);
  // The operation and the others are the last two fields: a detail may hold '|'.
  EXPECT_EQ(f.expectations[1].signature, "warn|a|b|munmap|fault,lock_vma_under_rcu");
  EXPECT_FALSE(f.expectations[1].inject);
  EXPECT_EQ(f.expectations[2].signature, "balance.rcu_held||-|");
  EXPECT_EQ(print_expectation(lost),
            "expect with wake_only_write_target signature sleep.lost_wakeup|vma_writer_wait (detach: vm_refcnt == "
            "FLAG)|munmap|");
  // Compared whole: another signature is another expectation.
  Expectation other = lost;
  other.signature = "sleep.lost_wakeup|vma_writer_wait (detach: vm_refcnt == FLAG)|munmap|fault";
  EXPECT_FALSE(other == lost);
  // A run without a finding prints as "none" (only in failure messages; not parsed).
  other.signature.clear();
  EXPECT_EQ(print_expectation(other), "expect with wake_only_write_target signature none");
}

// The signature a run's Finding carries is what the expectation holds.
TEST(SchedText, SignatureExpectationMatchesTheFindingOfARun) {
  const SchedFile f =
      parse_ok(kSignatureHead + "expect with rcu_held_on_empty_lookup signature balance.rcu_held||fault|\n");
  RunOptions options;
  options.inject.add(core::Bug::rcu_held_on_empty_lookup);
  Execution exec;
  const ExecutionResult r = exec.run(f.scenario, options);
  ASSERT_TRUE(r.finding);
  EXPECT_EQ(r.finding->signature(), f.expectations[0].signature);
}

// ---- the strategies' choice streams ----------------------------------------

Scenario two_task_scenario(StrategyKind strategy, std::vector<uint8_t> choices) {
  Scenario sc;
  sc.mms = {MmSetup{1}};
  sc.tasks = {TaskProgram{0, {Op{OpKind::kFault, 0}}}, TaskProgram{0, {Op{OpKind::kMprotect, 0}}}};
  sc.strategy = strategy;
  sc.choices = std::move(choices);
  return sc;
}

TEST(SchedText, SwitchListPairsPrintAsRunAndAction) {
  // run byte 50 -> 1 + 50 % 48 = 3; action 13 = group 6 * 2 + 1: wake T1;
  // action 3 = group 1 (a switch) * 2 + 1; action 200 = group 100 % 8 = 4 (switch) T0;
  // action 15 = group 7: kill T1; a trailing odd byte 4: run 5, action 0.
  const Scenario sc = two_task_scenario(StrategyKind::kSwitchList, {50, 13, 0, 3, 47, 200, 1, 15, 4});
  EXPECT_EQ(print_sched(sc),
            "vmafuzz-sched 1\n"
            "mm 0 vmas 0\n"
            "task T0 mm 0\n"
            "  fault 0\n"
            "task T1 mm 0\n"
            "  mprotect 0\n"
            "schedule switch-list\n"
            "  run 3 then wake T1\n"
            "  run 1 then switch T1\n"
            "  run 48 then switch T0\n"
            "  run 2 then kill T1\n"
            "  run 5 then switch T0\n");
  EXPECT_EQ(canonical_form(sc).choices, (std::vector<uint8_t>{2, 13, 0, 1, 47, 0, 1, 15, 4, 0}));
}

TEST(SchedText, RandomSeedIsTheFirstEightChoiceBytesLittleEndian) {
  const SchedFile f = parse_ok(
      "vmafuzz-sched 1\nmm 0 vmas 0\ntask T0 mm 0\n  fault 0\ntask T1 mm 0\n  mprotect 0\n"
      "schedule random seed 0x0123456789abcdef\n");
  EXPECT_EQ(f.scenario.choices, (std::vector<uint8_t>{0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01}));
  // Short streams read as zero-filled; extra bytes are never read and dropped.
  EXPECT_EQ(canonical_form(two_task_scenario(StrategyKind::kRandom, {1, 2})).choices,
            (std::vector<uint8_t>{1, 2, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(canonical_form(two_task_scenario(StrategyKind::kRandom, {1, 2, 3, 4, 5, 6, 7, 8, 9})).choices,
            (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

std::string pct_text(const std::vector<int>& order, int depth, const std::string& change_points) {
  std::string t = "vmafuzz-sched 1\nmm 0 vmas 0\n";
  for (size_t i = 0; i < order.size(); ++i) t += "task T" + std::to_string(i) + " mm 0\n  fault 0\n";
  t += "schedule pct depth " + std::to_string(depth) + "\n  priorities";
  for (int k : order) t += " T" + std::to_string(k);
  t += "\n" + change_points;
  return t;
}

TEST(SchedText, EveryPctPriorityOrderRoundTripsThroughTheShuffleBytes) {
  for (int n = kMinTasks; n <= kMaxTasks; ++n) {
    std::vector<int> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    do {
      for (int depth = 1; depth <= 4; ++depth) {
        std::string cps;
        if (depth > 1) {
          cps = "  change-points";
          for (int i = 1; i < depth; ++i) cps += " " + std::to_string(i * 7 % (32 * n) + 1);
          cps += "\n";
        }
        const std::string text = pct_text(order, depth, cps);
        const SchedFile f = parse_ok(text);
        EXPECT_EQ(f.scenario.choices.size(), static_cast<size_t>(n - 1 + 2 * (depth - 1)));
        EXPECT_EQ(print_sched(f), text);
      }
    } while (std::next_permutation(order.begin(), order.end()));
  }
}

// The printed order is what PCT does: with no change points the highest
// priority runnable task runs, so the first task scheduled is the first named.
TEST(SchedText, PctPrioritiesAreListedHighestFirst) {
  std::vector<int> order = {0, 1, 2};
  Execution exec;
  do {
    const SchedFile f = parse_ok(pct_text(order, 1, ""));
    RunOptions options;
    options.keep_trace = true;
    exec.run(f.scenario, options);
    const auto& events = exec.trace().events();
    const auto first = std::find_if(events.begin(), events.end(),
                                    [](const TraceEvent& e) { return e.kind == TraceEventKind::kSwitch; });
    ASSERT_NE(first, events.end());
    EXPECT_EQ(first->task, order[0]);
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST(SchedText, PctChangePointsAreReducedIntoTheHorizon) {
  // Two one-op tasks: horizon 64. Shuffle byte 1: swap(p[1], p[1 % 2]) keeps
  // T1 highest. Change point bytes (lo, hi) = (100, 1): 1 + 356 % 64 = 37.
  Scenario sc = two_task_scenario(StrategyKind::kPct, {1, 100, 1, 0xff});
  sc.pct_depth = 2;
  EXPECT_EQ(pct_horizon(2), 64);
  const std::string text = print_sched(sc);
  EXPECT_NE(text.find("  priorities T1 T0\n  change-points 37\n"), std::string::npos) << text;
  EXPECT_EQ(canonical_form(sc).choices, (std::vector<uint8_t>{1, 36, 0}));
}

TEST(SchedText, PctDepthIsOnlyKeptForPct) {
  Scenario sc = two_task_scenario(StrategyKind::kSwitchList, {});
  sc.pct_depth = 1;
  EXPECT_EQ(canonical_form(sc).pct_depth, Scenario{}.pct_depth);
  sc.strategy = StrategyKind::kPct;
  EXPECT_EQ(canonical_form(sc).pct_depth, 1);
}

// ---- never crash on any text -----------------------------------------------

TEST(SchedText, MutatedTextsParseOrFailWithAPositionAndNeverCrash) {
  std::mt19937 rng(11);
  const std::string alphabet = " \n\t#-.>0123456789TFLAGxmrunthenkillwakeswitch";
  int errors = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = kCanonicalTexts[rng() % std::size(kCanonicalTexts)];
    for (int m = 1 + static_cast<int>(rng() % 4); m > 0; --m) {
      const size_t pos = text.empty() ? 0 : rng() % text.size();
      switch (rng() % 3) {
        case 0: text.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
        case 1:
          if (!text.empty()) text.erase(pos, 1 + rng() % 8);
          break;
        case 2:
          if (!text.empty()) text[pos] = alphabet[rng() % alphabet.size()];
          break;
      }
    }
    auto r = parse_sched(text, "m.sched");
    if (const auto* e = std::get_if<SchedError>(&r)) {
      ++errors;
      EXPECT_GE(e->line, 1);
      EXPECT_GE(e->column, 1);
      continue;
    }
    const SchedFile& f = std::get<SchedFile>(r);
    const char* why = nullptr;
    ASSERT_TRUE(is_canonical_scenario(f.scenario, &why)) << why;
    EXPECT_EQ(parse_ok(print_sched(f)), f);
  }
  EXPECT_GT(errors, 1000);
}

// ---- errors: line:column and exact messages --------------------------------

const std::string kHead = "vmafuzz-sched 1\nmm 0 vmas 0\n";
const std::string kT0 = "task T0 mm 0\n  fault 0\n";
const std::string kT1 = "task T1 mm 0\n  mprotect 0\n";
const std::string kTwoTasks = kHead + kT0 + kT1;

// Every error case as {group, text, the error}, "file:line:column: message".
// The group names what the cases have in common (and the test).
struct ErrorCase {
  const char* group;
  std::string text;
  std::string error;
};

const std::string kSchedule = kTwoTasks + "schedule switch-list\n";

std::string five_tasks() {
  std::string five = kHead;
  for (int t = 0; t < 5; ++t) five += "task T" + std::to_string(t) + " mm 0\n  fault 0\n";
  return five;
}

std::string nine_ops() {
  std::string nine = kHead + "task T0 mm 0\n";
  for (int i = 0; i < 9; ++i) nine += "  fault 0\n";
  return nine;
}

const ErrorCase kErrorCases[] = {
    {"MissingOrBadMagicAndVersion", "", "t.sched:1:1: expected 'vmafuzz-sched 1', found end of file"},
    {"MissingOrBadMagicAndVersion", "# only a comment\n\n",
     "t.sched:3:1: expected 'vmafuzz-sched 1', found end of file"},
    {"MissingOrBadMagicAndVersion", "mm 0 vmas 0\n",
     "t.sched:1:1: expected 'vmafuzz-sched 1' (magic and format version), found 'mm'"},
    {"MissingOrBadMagicAndVersion", "# c\nvmafuzz-sched 2\n", "t.sched:2:15: expected format version 1, found '2'"},
    {"MissingOrBadMagicAndVersion", "vmafuzz-sched\n", "t.sched:1:14: expected format version 1, found end of line"},
    {"MissingOrBadMagicAndVersion", "vmafuzz-sched 1 x\n", "t.sched:1:17: expected end of line, found 'x'"},
    // The example of docs/FORMATS.md.
    {"UnknownOperation", kHead + kT0 + "task T1 mm 0\n  fault 0\n  mprotectt 0\nschedule switch-list\n",
     "t.sched:7:3: expected an operation name, found 'mprotectt'"},
    {"BadSlotAndMissingArgument", kHead + "task T0 mm 0\n  mprotect 8\n",
     "t.sched:4:12: expected a slot number 0 to 7, found '8'"},
    {"BadSlotAndMissingArgument", kHead + "task T0 mm 0\n  mprotect\n",
     "t.sched:4:11: expected a slot number 0 to 7, found end of line"},
    {"BadSlotAndMissingArgument", kHead + "task T0 mm 0\n  mprotect -1\n",
     "t.sched:4:12: expected a slot number 0 to 7, found '-1'"},
    {"BadSlotAndMissingArgument", "vmafuzz-sched 1\nmm 0 vmas 0 9\n",
     "t.sched:2:13: expected a slot number 0 to 7, found '9'"},
    {"BadSlotAndMissingArgument", "vmafuzz-sched 1\nmm 0 vmas 1 1\n", "t.sched:2:13: slot 1 is listed twice"},
    {"BadSlotAndMissingArgument", "vmafuzz-sched 1\nmm 0 vmas\n",
     "t.sched:2:10: expected a slot number 0 to 7 or '-' (no VMAs), found end of line"},
    {"UnknownTask", kHead + "task T0 mm 0\n  kill T2\n" + kT1 + "schedule switch-list\n",
     "t.sched:4:8: expected a task name T0 to T1, found 'T2'"},
    {"UnknownTask", kHead + "task T0 mm 0\n  kill bob\n", "t.sched:4:8: expected a task name, found 'bob'"},
    {"UnknownTask", kTwoTasks + "schedule switch-list\n  run 3 then switch T2\n",
     "t.sched:8:21: expected a task name T0 to T1, found 'T2'"},
    {"UnknownTask", kTwoTasks + "schedule switch-list\nexpect T2.0 done\n",
     "t.sched:8:8: expected a task name T0 to T1 (T<k> or T<k>.<op>), found 'T2.0'"},
    {"OperationNotAllowedInTheTasksLockState", kHead + "task T0 mm 0\n  lock_vma_under_rcu 0\n  mmap_read_lock\n",
     "t.sched:5:3: expected an operation allowed while task T0 holds maybe a VMA read lock (vma_end_read), "
     "found 'mmap_read_lock'"},
    {"OperationNotAllowedInTheTasksLockState", kHead + "task T0 mm 0\n  vma_modify 0\n",
     "t.sched:4:3: expected an operation allowed while task T0 holds nothing (fault, mprotect, "
     "mprotect-killable, munmap, mmap, fork, downgrade, kill, mmap_read_lock, mmap_write_lock, "
     "lock_vma_under_rcu), found 'vma_modify'"},
    {"OperationNotAllowedInTheTasksLockState",
     kHead + "task T0 mm 0\n  mmap_read_lock\n  lock_vma_under_rcu 1\n  fault 1\n",
     "t.sched:6:3: expected an operation allowed while task T0 holds the mmap read lock and maybe a VMA read "
     "lock (vma_end_read, mmap_read_unlock), found 'fault'"},
    {"TooManyOrTooFewTasksAndOperations", kHead + kT0 + "schedule switch-list\n",
     "t.sched:5:1: expected 'task' (at least 2 tasks), found 'schedule'"},
    {"TooManyOrTooFewTasksAndOperations", kHead + "schedule switch-list\n",
     "t.sched:3:1: expected 'task', found 'schedule'"},
    {"TooManyOrTooFewTasksAndOperations", five_tasks(),
     "t.sched:11:1: expected 'schedule' (at most 4 tasks), found 'task'"},
    {"TooManyOrTooFewTasksAndOperations", nine_ops(), "t.sched:12:3: too many operations in task T0: at most 8"},
    {"TooManyOrTooFewTasksAndOperations", kHead + "task T0 mm 0\n" + kT1,
     "t.sched:4:1: expected an indented operation of task T0 (1 to 8), found 'task'"},
    {"TooManyOrTooFewTasksAndOperations", kHead + "task T0 mm 0\n",
     "t.sched:4:1: expected an indented operation of task T0 (1 to 8), found end of file"},
    {"TooManyOrTooFewTasksAndOperations", kHead + "  fault 0\n",
     "t.sched:3:3: expected 'task', found indented 'fault'"},
    {"DuplicateOrMisnumberedMmAndTask", "vmafuzz-sched 1\nmm 0 vmas 0\nmm 0 vmas 1\n",
     "t.sched:3:4: mm 0 is defined twice (first at line 2)"},
    {"DuplicateOrMisnumberedMmAndTask", "vmafuzz-sched 1\nmm 1 vmas 0\n",
     "t.sched:2:4: expected mm 0 (mms are numbered in order), found '1'"},
    {"DuplicateOrMisnumberedMmAndTask", "vmafuzz-sched 1\nmm 0 vmas 0\nmm 1 vmas 0\nmm 1 vmas 0\n",
     "t.sched:4:1: expected 'task' (at most 2 mms), found 'mm'"},
    {"DuplicateOrMisnumberedMmAndTask", kHead + kT0 + "task T0 mm 0\n  fault 0\n",
     "t.sched:5:6: task T0 is defined twice (first at line 3)"},
    {"DuplicateOrMisnumberedMmAndTask", kHead + "task T1 mm 0\n",
     "t.sched:3:6: expected task T0 (tasks are numbered in order), found 'T1'"},
    {"DuplicateOrMisnumberedMmAndTask", kHead + "task T0 mm 1\n", "t.sched:3:12: expected mm number 0, found '1'"},
    {"BadScheduleLines", kTwoTasks, "t.sched:7:1: expected 'task' or 'schedule', found end of file"},
    {"BadScheduleLines", kTwoTasks + "mm 1 vmas 0\n", "t.sched:7:1: expected 'task' or 'schedule', found 'mm'"},
    {"BadScheduleLines", kTwoTasks + "schedule roundrobin\n",
     "t.sched:7:10: expected a strategy (switch-list, pct or random), found 'roundrobin'"},
    {"BadScheduleLines", kTwoTasks + "schedule switch-list\n  go 3\n", "t.sched:8:3: expected 'run', found 'go'"},
    {"BadScheduleLines", kTwoTasks + "schedule switch-list\n  run 3 than switch T1\n",
     "t.sched:8:9: expected 'then', found 'than'"},
    {"BadScheduleLines", kTwoTasks + "schedule switch-list\n  run 3 then jump T1\n",
     "t.sched:8:14: expected an action (switch, wake or kill), found 'jump'"},
    {"BadScheduleLines", kTwoTasks + "schedule switch-list\n  run 3 then switch T1 now\n",
     "t.sched:8:24: expected end of line, found 'now'"},
    {"BadScheduleLines", kTwoTasks + "schedule random seed 0x1\n  run 3 then switch T1\n",
     "t.sched:8:3: expected 'expect' or end of file (the schedule is complete), found indented 'run'"},
    {"RunLengthOutOfRange", kTwoTasks + "schedule switch-list\n  run 0 then switch T1\n",
     "t.sched:8:7: expected a run length 1 to 48, found '0'"},
    {"RunLengthOutOfRange", kTwoTasks + "schedule switch-list\n  run 49 then switch T1\n",
     "t.sched:8:7: expected a run length 1 to 48, found '49'"},
    {"BadPctSchedule", kTwoTasks + "schedule pct depth 5\n", "t.sched:7:20: expected a PCT depth 1 to 4, found '5'"},
    {"BadPctSchedule", kTwoTasks + "schedule pct depth 2\n",
     "t.sched:8:1: expected an indented 'priorities' line, found end of file"},
    {"BadPctSchedule", kTwoTasks + "schedule pct depth 2\n  priorities T0 T0\n",
     "t.sched:8:17: task T0 is listed twice"},
    {"BadPctSchedule", kTwoTasks + "schedule pct depth 2\n  priorities T0\n",
     "t.sched:8:16: expected every task once, highest priority first (2 names), found end of line"},
    {"BadPctSchedule", kTwoTasks + "schedule pct depth 2\n  priorities T1 T0\n",
     "t.sched:9:1: expected an indented 'change-points' line (1 for depth 2), found end of file"},
    {"BadPctSchedule", kTwoTasks + "schedule pct depth 2\n  priorities T1 T0\n  change-points 65\n",
     "t.sched:9:17: expected a change point 1 to 64 (32 steps per operation), found '65'"},
    {"BadPctSchedule", kTwoTasks + "schedule pct depth 2\n  priorities T1 T0\n  change-points 3 4\n",
     "t.sched:9:19: expected end of line (depth 2 has 1 change points), found '4'"},
    {"BadPctSchedule", kTwoTasks + "schedule pct depth 1\n  priorities T1 T0\n  change-points 3\n",
     "t.sched:9:3: expected 'expect' or end of file (the schedule is complete), found indented 'change-points'"},
    {"BadHexSeed", kTwoTasks + "schedule random seed 0x12g4\n",
     "t.sched:7:22: expected a seed of '0x' and 1 to 16 hex digits, found '0x12g4'"},
    {"BadHexSeed", kTwoTasks + "schedule random seed 1234\n",
     "t.sched:7:22: expected a seed of '0x' and 1 to 16 hex digits, found '1234'"},
    {"BadHexSeed", kTwoTasks + "schedule random seed 0x00000000000000001\n",
     "t.sched:7:22: expected a seed of '0x' and 1 to 16 hex digits, found '0x00000000000000001'"},
    {"BadHexSeed", kTwoTasks + "schedule random\n", "t.sched:7:16: expected 'seed', found end of line"},
    {"TrailingGarbage", kHead + "task T0 mm 0\n  lock_vma_under_rcu 0\n  vma_end_read 3\n",
     "t.sched:5:16: expected end of line, found '3'"},
    {"TrailingGarbage", kHead + "task T0 mm 0\n  mmap_read_lock now\n",
     "t.sched:4:18: expected end of line, found 'now'"},
    {"TrailingGarbage", kHead + "task T0 mm 0\n  mprotect 0 1\n", "t.sched:4:14: expected end of line, found '1'"},
    {"TrailingGarbage", kTwoTasks + "schedule switch-list\nhello\n",
     "t.sched:8:1: expected 'expect' or end of file, found 'hello'"},
    {"TrailingGarbage", kTwoTasks + "schedule switch-list\nexpect verdict pass please\n",
     "t.sched:8:21: expected end of line, found 'please'"},
    {"BadExpectations", kSchedule + "expect verdict ok\n",
     "t.sched:8:16: expected a verdict (pass, core-report, lost-wakeup, deadlock, livelock, oracle), found 'ok'"},
    {"BadExpectations", kSchedule + "expect report nothing_here\n",
     "t.sched:8:15: expected a report site name, found 'nothing_here'"},
    {"BadExpectations", kSchedule + "expect T0.1 done\n",
     "t.sched:8:11: expected an operation index 0 to 0 of T0, found '1'"},
    {"BadExpectations", kSchedule + "expect T0.0 finished\n",
     "t.sched:8:13: expected an outcome (not-run, done, skipped, vma-locked, fallback, null, interrupted) or a "
     "word kind (vm_refcnt, mm_count, ...), found 'finished'"},
    {"BadExpectations", kSchedule + "expect T0.0 vm_refcnt 1-2\n",
     "t.sched:8:23: expected 'accesses', 'reads', '-' (no changes) or value changes <before>-><after> (e.g. "
     "1->2, FLAG+1->FLAG), found '1-2'"},
    {"BadExpectations", kSchedule + "expect T0.0 vm_refcnt 1->2 2->FLAG+\n",
     "t.sched:8:28: expected a value change <before>-><after>, found '2->FLAG+'"},
    {"BadExpectations", kSchedule + "expect T1 parks\n", "t.sched:8:16: expected a count, found end of line"},
    // The catalog is too long to list in the message: it says where to look.
    {"BadExpectations", kSchedule + "expect with no_such_bug verdict pass\n",
     "t.sched:8:13: expected a bug name (vmafuzz list-bugs lists them), found 'no_such_bug'"},
    {"BadExpectations", kSchedule + "expect everything\n",
     "t.sched:8:8: expected 'verdict', 'report', 'finding', 'signature', 'with', T<k> parks or T<k>.<op>, "
     "found 'everything'"},
    {"BadExpectations", kSchedule + "expect finding refcount.overflow\n",
     "t.sched:8:16: expected an oracle name, found 'refcount.overflow'"},
    {"BadSignatures", kSchedule + "expect signature\n",
     "t.sched:8:17: expected a signature <oracle>|<detail>|<operation>|<others>, found end of line"},
    {"BadSignatures", kSchedule + "expect with detach_no_wait signature   # nothing but a comment\n",
     "t.sched:8:37: expected a signature <oracle>|<detail>|<operation>|<others>, found end of line"},
    // Three '|' are needed: the operation and the others may not be left out.
    {"BadSignatures", kSchedule + "expect signature warn|vma_assert_attached|munmap\n",
     "t.sched:8:18: expected a signature <oracle>|<detail>|<operation>|<others> (three '|'), found "
     "'warn|vma_assert_attached|munmap'"},
    {"BadSignatures", kSchedule + "expect signature detach.count_not_zero\n",
     "t.sched:8:18: expected a signature <oracle>|<detail>|<operation>|<others> (three '|'), found "
     "'detach.count_not_zero'"},
    {"BadSignatures", kSchedule + "expect signature refcount.overflow||munmap|\n",
     "t.sched:8:18: expected an oracle name at the start of the signature, found 'refcount.overflow'"},
    {"BadSignatures", kSchedule + "expect signature ||munmap|\n",
     "t.sched:8:18: expected an oracle name at the start of the signature, found ''"},
    // The column points at the field.
    {"BadSignatures", kSchedule + "expect signature lifetime|mm_use_after_free|unmap|\n",
     "t.sched:8:45: expected an operation name or '-' as the signature's operation, found 'unmap'"},
    {"BadSignatures", kSchedule + "expect signature lifetime|mm_use_after_free||\n",
     "t.sched:8:45: expected an operation name or '-' as the signature's operation, found ''"},
    {"BadSignatures", kSchedule + "expect signature warn|x|munmap|fault,mmapp\n",
     "t.sched:8:38: expected the other tasks' operation names (comma-separated, or nothing), "
     "found 'mmapp'"},
    {"BadSignatures", kSchedule + "expect signature warn|x|munmap|fault,\n",
     "t.sched:8:38: expected the other tasks' operation names (comma-separated, or nothing), found ''"},
    {"BadSignatures", kSchedule + "expect signature warn|x|munmap|-\n",
     "t.sched:8:32: expected the other tasks' operation names (comma-separated, or nothing), found '-'"},
};

class SchedTextErrors : public testing::TestWithParam<ErrorCase> {};

TEST_P(SchedTextErrors, ReportsLineColumnAndMessage) {
  EXPECT_EQ(parse_error(GetParam().text), GetParam().error) << "in:\n" << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(Cases, SchedTextErrors, testing::ValuesIn(kErrorCases),
                         [](const testing::TestParamInfo<ErrorCase>& info) {
                           return std::string(info.param.group) + "_" + std::to_string(info.index);
                         });

}  // namespace
}  // namespace vmafuzz::fuzz
