// sched_scenarios_test.cpp - runs every tests/sched/*.sched and
// tests/sched/regressions/*.sched regression scenario and checks each of its
// `expect` lines (docs/FORMATS.md) with the checker `vmafuzz run --check`
// uses (fuzz/sched_check.h).
//
// Every bug of core/bug_catalog.inc has a regression scenario,
// <origin>_<name>.sched (M_ for a mutant): its schedule passes on the
// correct model and, with the bug injected, ends in the bug's finding
// (verdict, oracle and signature), so the catalog cannot rot. The two bugs
// only ThreadSanitizer sees pass either way on the model.
//
// Under ThreadSanitizer the runs with B06, B08 or B10 injected race by design
// (B06 and B08 only show as races; B10's reader reads the payload its writer
// changed), which halt_on_error would turn into the end of this binary. A
// TSan build therefore skips those runs, saying so, and tsan_catalog_test
// replays them in child processes and expects the race; their `expect with`
// facts are the same on every build (runs are deterministic) and checked by
// the builds without TSan. Any other injected run that races fails here.
//
// VMAFUZZ_SCHED_DIR (a compile definition) names the directory. A missing
// directory or one without .sched files fails: a regression suite that
// silently runs nothing proves nothing. Each file must also be canonical text
// (print_sched(parse_sched(file)) == file) and survive the binary round trip,
// so the files double as examples of the format.
//
// The S files are named after the interleavings of the per-VMA lock worth
// scheduling explicitly, S1 to S10 (variants a, b, c), the B and M files after
// the catalogued bug they catch (above); each file's header says
// which interleaving it forces, where each preemption lands, and which of its
// expectations show that the interleaving really happened. S8 (vm_refcnt at
// LIMIT) has no file: it needs about 2^30 concurrent readers, which no
// scenario of at most 4 tasks can build; tests/core/vma_test.cpp preloads the
// count instead (VmRefcnt.ReadersRaiseTheCountUpToLimitAndNoFurther,
// VmaStartRead.ReturnsNullAtLimitLeavingTheCountUnchanged and
// VmaStartReadLocked.ReturnsFalseAtLimitLeavingTheCountUnchanged).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "core/inject.h"
#include "fuzz/execution.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/sched_check.h"
#include "tests/tsan_races.h"
#include "core/sanitizer_hooks.h"
#include "fuzz/sched_text.h"

#ifndef VMAFUZZ_SCHED_DIR
#error "VMAFUZZ_SCHED_DIR must name the directory of the .sched regression scenarios"
#endif

namespace vmafuzz::fuzz {
namespace {

namespace fs = std::filesystem;

// The .sched files of `sub` (relative to VMAFUZZ_SCHED_DIR, "" for itself),
// as paths relative to VMAFUZZ_SCHED_DIR, sorted.
std::vector<std::string> sched_files(const std::string& sub = "") {
  std::vector<std::string> files;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(fs::path(VMAFUZZ_SCHED_DIR) / sub, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".sched") {
      files.push_back((fs::path(sub) / e.path().filename()).string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// tests/sched/regressions/: findings kept with `vmafuzz to-test` (its
// README). They run through the same tests as the scenarios above them.
const std::string kRegressions = "regressions";

std::vector<std::string> all_sched_files() {
  std::vector<std::string> files = sched_files();
  for (std::string& f : sched_files(kRegressions)) files.push_back(std::move(f));
  return files;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- the bug catalog ----------------------------------------------------------

// The injected runs of tests/sched that ThreadSanitizer reports:
// tests/tsan_races.h (tests/fuzz/tsan_catalog_test.cpp checks exactly these).
using test::kRacesUnderTsan;

// <origin>_<name>.sched, origin "mutant" written M.
std::string catalog_file_name(core::Bug bug) {
  const core::BugInfo& info = core::bug_info(bug);
  return (info.origin == "mutant" ? std::string("M") : std::string(info.origin)) + "_" + std::string(info.name) +
         ".sched";
}

// ---- the checker ------------------------------------------------------------

// Every expect line that does not hold, one message each, from the library's
// checker (fuzz/sched_check.h, which `vmafuzz run --check` uses too). Under
// TSan the runs with a bug of kRacesUnderTsan are not made (see the top of
// this file): their bug names go to `not_run`.
std::vector<std::string> check_expectations(const SchedFile& f, const std::string& name,
                                            std::vector<std::string>* not_run = nullptr) {
  CheckOptions options;
#ifdef VMAFUZZ_TSAN
  options.skip = [](core::Bug bug) {
    return std::find(kRacesUnderTsan.begin(), kRacesUnderTsan.end(), bug) != kRacesUnderTsan.end();
  };
#endif
  CheckResult result = fuzz::check_expectations(f, options);
  if (not_run) *not_run = std::move(result.not_run);
  std::vector<std::string> failures;
  for (const ExpectMismatch& m : result.mismatches) failures.push_back(m.to_string(name));
  return failures;
}

// ---- tests --------------------------------------------------------------------

TEST(SchedScenarios, DirectoryHoldsScenarioFiles) {
  ASSERT_TRUE(fs::is_directory(VMAFUZZ_SCHED_DIR)) << "missing directory " << VMAFUZZ_SCHED_DIR;
  EXPECT_FALSE(sched_files().empty()) << "no .sched files in " << VMAFUZZ_SCHED_DIR;
}

// For each catalogued bug: its file exists, the correct model passes it, and
// the injected run is stated - ending in a finding named by verdict, oracle
// and signature, or, for the TSan-only bugs, passing (tsan_catalog_test).
TEST(SchedScenarios, RegressionsDirectoryHoldsScenarioFiles) {
  EXPECT_FALSE(sched_files(kRegressions).empty()) << "no .sched files in " << VMAFUZZ_SCHED_DIR << "/" << kRegressions;
}

TEST(SchedScenarios, EveryCatalogBugHasARegressionScenario) {
  for (int i = 0; i < static_cast<int>(core::Bug::kCount); ++i) {
    const auto bug = static_cast<core::Bug>(i);
    const std::string name = catalog_file_name(bug);
    SCOPED_TRACE(name);
    const fs::path path = fs::path(VMAFUZZ_SCHED_DIR) / name;
    if (!fs::is_regular_file(path)) {
      ADD_FAILURE() << "bug " << core::bug_info(bug).name << " has no regression scenario " << path;
      continue;
    }
    auto parsed = parse_sched(read_file(path), name);
    if (const auto* err = std::get_if<SchedError>(&parsed)) {
      ADD_FAILURE() << err->to_string();
      continue;
    }
    const SchedFile& f = std::get<SchedFile>(parsed);
    const auto stated = [&](std::optional<core::Bug> inject, Expectation::Kind kind) -> const Expectation* {
      for (const Expectation& e : f.expectations) {
        if (e.inject == inject && e.kind == kind) return &e;
      }
      return nullptr;
    };
    const Expectation* correct = stated(std::nullopt, Expectation::Kind::kVerdict);
    EXPECT_TRUE(correct && correct->verdict == Verdict::kPass) << "expect verdict pass";
    const Expectation* injected = stated(bug, Expectation::Kind::kVerdict);
    if (!injected) {
      ADD_FAILURE() << "no 'expect with " << core::bug_info(bug).name << " verdict ...'";
      continue;
    }
    // Every bug is found in every build (B06 and B08 by the race oracle).
    EXPECT_NE(injected->verdict, Verdict::kPass);
    EXPECT_NE(stated(bug, Expectation::Kind::kFinding), nullptr) << "expect with ... finding <oracle>";
    EXPECT_NE(stated(bug, Expectation::Kind::kSignature), nullptr) << "expect with ... signature <signature>";
  }
}

// bench/run_bug_bench.py runs a bug whose summary names ThreadSanitizer on
// the TSan builds only; since the race oracle, none needs them.
TEST(SchedScenarios, NoCatalogBugIsLeftToThreadSanitizerAlone) {
  for (int i = 0; i < static_cast<int>(core::Bug::kCount); ++i) {
    const auto bug = static_cast<core::Bug>(i);
    EXPECT_EQ(core::bug_info(bug).summary.find("ThreadSanitizer"), std::string_view::npos)
        << core::bug_info(bug).name << ": " << core::bug_info(bug).summary;
  }
}

class SchedScenario : public testing::TestWithParam<std::string> {
 protected:
  // Parses the file; on error fails the test and returns nullopt.
  std::optional<SchedFile> load(std::string* text = nullptr) {
    const std::string t = read_file(fs::path(VMAFUZZ_SCHED_DIR) / GetParam());
    if (text) *text = t;
    auto parsed = parse_sched(t, GetParam());
    if (const auto* err = std::get_if<SchedError>(&parsed)) {
      ADD_FAILURE() << err->to_string();
      return std::nullopt;
    }
    return std::get<SchedFile>(std::move(parsed));
  }
};

TEST_P(SchedScenario, EveryExpectationHolds) {
  const std::optional<SchedFile> f = load();
  if (!f) return;
  const bool has_verdict = std::any_of(f->expectations.begin(), f->expectations.end(), [](const Expectation& e) {
    return e.kind == Expectation::Kind::kVerdict && !e.inject;
  });
  EXPECT_TRUE(has_verdict) << GetParam() << ": a regression scenario must state its verdict (expect verdict ...)";
  std::vector<std::string> not_run;
  for (const std::string& failure : check_expectations(*f, GetParam(), &not_run)) ADD_FAILURE() << failure;
  for (const std::string& bug : not_run) {
    RecordProperty("not_run_under_tsan", bug);
    std::printf("note: %s: the run with %s races by design under ThreadSanitizer: tsan_catalog_test replays it, "
                "builds without TSan check its 'expect with' lines\n",
                GetParam().c_str(), bug.c_str());
  }
}

TEST_P(SchedScenario, FileIsCanonicalText) {
  std::string text;
  const std::optional<SchedFile> f = load(&text);
  if (!f) return;
  EXPECT_EQ(print_sched(*f), text) << GetParam() << " is not in canonical form";
}

TEST_P(SchedScenario, SurvivesTheBinaryRoundTrip) {
  const std::optional<SchedFile> f = load();
  if (!f) return;
  const std::vector<uint8_t> bytes = encode_scenario(f->scenario);
  EXPECT_EQ(decode_scenario(bytes.data(), bytes.size()), f->scenario);
}

INSTANTIATE_TEST_SUITE_P(Files, SchedScenario, testing::ValuesIn(all_sched_files()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.rfind('.'));
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SchedScenario);

}  // namespace
}  // namespace vmafuzz::fuzz
