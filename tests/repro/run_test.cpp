// run_test.cpp - `vmafuzz run`: what it prints, its exit codes, bugs injected
// by option or environment, and agreement with the fuzz target's replay
// driver on the same bytes.
#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "core/inject.h"
#include "fuzz/execution.h"
#include "core/sanitizer_hooks.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/sched_text.h"
#include "tests/repro/repro_test_support.h"

namespace vmafuzz::repro::test {
namespace {

// S1 passes on the correct model; S2b finds detach.count_not_zero with the
// detach that does not wait (its `expect with detach_no_wait` lines).
const std::string kS1 = "S1_transient_reader_vs_write_lock.sched";
const std::string kS2b = "S2b_transient_reader_vs_detach_put_before_wait.sched";
const std::string kS2bSignature = "detach.count_not_zero||munmap|lock_vma_under_rcu";

std::string sched(const std::string& name) { return (sched_dir() / name).string(); }

fuzz::SchedFile parse_file(const std::string& path) {
  auto parsed = fuzz::parse_sched(read_text(path), path);
  if (const auto* e = std::get_if<fuzz::SchedError>(&parsed)) {
    ADD_FAILURE() << e->to_string();
    return {};
  }
  return std::get<fuzz::SchedFile>(std::move(parsed));
}

// The signature a report carries, or "" for none.
std::string signature_in(const std::string& report) { return line_after(report, "==vmafuzz== SIGNATURE: "); }

using RunCommand = CliTest;

TEST_F(RunCommand, PassingInputPrintsVerdictOutcomesStepsAndTraceHashAndExits0) {
  const CliResult r = cli({"run", sched(kS1)});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  // The same run, directly.
  const fuzz::SchedFile f = parse_file(sched(kS1));
  fuzz::Execution exec;
  const fuzz::ExecutionResult want = exec.run(f.scenario);
  EXPECT_EQ(line_after(r.out, "input:    "), sched(kS1) + fmt::format(" (sched, {} bytes)", read_text(sched(kS1)).size()));
  EXPECT_EQ(line_after(r.out, "verdict:  "), "pass");
  EXPECT_EQ(line_after(r.out, "steps:    "), std::to_string(want.steps));
  EXPECT_EQ(line_after(r.out, "trace:    "), fmt::format("{:#018x}", want.trace_hash));
  // One line per operation, T<task>.<op> as in expect lines, with its outcome.
  EXPECT_EQ(line_after(r.out, "  T0.0  "), "mm 0  lock_vma_under_rcu 0  null");
  EXPECT_EQ(line_after(r.out, "  T0.1  "), "mm 0  vma_end_read          skipped");
  EXPECT_EQ(line_after(r.out, "  T1.0  "), "mm 0  mprotect 0            done");
  EXPECT_EQ(r.out.find("FINDING"), std::string::npos);
}

TEST_F(RunCommand, ReportsThatExpectLinesExistWithoutCheckingThem) {
  const CliResult r = cli({"run", sched(kS1)});
  const size_t n = parse_file(sched(kS1)).expectations.size();
  ASSERT_GT(n, 0u);
  EXPECT_TRUE(line_after(r.out, "expect:   ").starts_with(fmt::format("{} expect lines in the file, not checked", n)))
      << r.out;
  // A binary input has none to mention.
  ASSERT_EQ(cli({"convert", sched(kS1), path("s1")}).code, kExitOk);
  EXPECT_EQ(line_after(cli({"run", path("s1")}).out, "expect:"), "");
}

TEST_F(RunCommand, InjectedBugFindingExits1WithTheRenderedFindingAndItsReplayCommand) {
  const CliResult r = cli({"run", "--inject", "detach_no_wait", sched(kS2b)});
  EXPECT_EQ(r.code, kExitFinding) << r.out << r.err;
  EXPECT_EQ(line_after(r.out, "verdict:  "), "oracle");
  EXPECT_EQ(line_after(r.out, "inject:   "), "detach_no_wait");
  EXPECT_EQ(line_after(r.out, "==vmafuzz== FINDING: "), "detach.count_not_zero");
  EXPECT_EQ(signature_in(r.out), kS2bSignature);
  EXPECT_EQ(line_after(r.out, "DEDUP_TOKEN: "), kS2bSignature);
  EXPECT_EQ(line_after(r.out, "==vmafuzz== replay: "), "vmafuzz run --inject detach_no_wait " + sched(kS2b));
  // The operations the run stopped in are marked as such.
  EXPECT_EQ(line_after(r.out, "  T1.0  "), "mm 0  munmap 0              not-run (the run stopped inside it)");
}

TEST_F(RunCommand, FindingIsTheOneTheExecutionReports) {
  const fuzz::SchedFile f = parse_file(sched(kS2b));
  fuzz::Execution exec;
  fuzz::RunOptions options;
  options.inject.add(core::Bug::detach_no_wait);
  const fuzz::ExecutionResult want = exec.run(f.scenario, options);
  ASSERT_TRUE(want.finding);
  const CliResult r = cli({"run", "--inject", "detach_no_wait", sched(kS2b)});
  const std::string replay = "vmafuzz run --inject detach_no_wait " + sched(kS2b);
  EXPECT_NE(r.out.find(fuzz::render_finding(*want.finding, replay)), std::string::npos) << r.out;
  EXPECT_EQ(line_after(r.out, "trace:    "), fmt::format("{:#018x}", want.trace_hash));
}

TEST_F(RunCommand, MaxStepsBoundsTheRunAsALivelockAndAppearsInTheReplayCommand) {
  const CliResult r = cli({"run", "--max-steps", "5", sched(kS1)});
  EXPECT_EQ(r.code, kExitFinding) << r.out << r.err;
  EXPECT_EQ(line_after(r.out, "verdict:  "), "livelock");
  EXPECT_EQ(line_after(r.out, "==vmafuzz== FINDING: "), "sleep.livelock");
  EXPECT_EQ(line_after(r.out, "==vmafuzz== replay: "), "vmafuzz run --max-steps 5 " + sched(kS1));
}

TEST_F(RunCommand, BinaryAndTextFormsOfAScenarioRunIdentically) {
  for (const std::string& name : sched_files()) {
    ASSERT_EQ(cli({"convert", sched(name), path("s.bin")}).code, kExitOk);
    const CliResult text = cli({"run", sched(name)});
    const CliResult bin = cli({"run", path("s.bin")});
    EXPECT_EQ(text.code, bin.code) << name;
    for (const char* key : {"verdict:  ", "steps:    ", "trace:    ", "==vmafuzz== SIGNATURE: "}) {
      EXPECT_EQ(line_after(text.out, key), line_after(bin.out, key)) << name << ": " << key;
    }
  }
}

TEST_F(RunCommand, UnknownBugNameIsAUsageErrorNamingIt) {
  const CliResult r = cli({"run", "--inject", "no_such_bug", sched(kS1)});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("unknown bug 'no_such_bug'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("vmafuzz list-bugs"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "") << "nothing runs";
}

TEST_F(RunCommand, SeveralInputsRunInOrderAndEndWithASummary) {
  const CliResult r = cli({"run", "--inject", "detach_no_wait", sched(kS1), sched(kS2b)});
  EXPECT_EQ(r.code, kExitFinding);
  const size_t s1 = r.out.find("input:    " + sched(kS1));
  const size_t s2b = r.out.find("input:    " + sched(kS2b));
  EXPECT_LT(s1, s2b);
  EXPECT_NE(s2b, std::string::npos);
  EXPECT_NE(r.out.find("\n2 inputs: 1 passed, 1 with a finding, 0 errors\n"), std::string::npos) << r.out;
}

TEST_F(RunCommand, UnreadableInputIsReportedTheOthersStillRunAndTheExitIs2) {
  const CliResult r = cli({"run", "--inject", "detach_no_wait", path("missing"), sched(kS2b)});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, path("missing") + ": error: cannot read: No such file or directory\n");
  EXPECT_EQ(signature_in(r.out), kS2bSignature) << "the readable input still ran";
  EXPECT_NE(r.out.find("2 inputs: 0 passed, 1 with a finding, 1 error\n"), std::string::npos) << r.out;
}

TEST_F(RunCommand, MalformedSchedIsAnErrorWithLineAndColumn) {
  write_file(path("bad.sched"), "vmafuzz-sched 1\nmm 0 vmas 9\n");
  const CliResult r = cli({"run", path("bad.sched")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(r.err.starts_with(path("bad.sched") + ":2:11: error: ")) << r.err;
}

TEST_F(RunCommand, BinaryOfAFormatVersionThisBuildDoesNotReadIsRefusedWithExit2) {
  // Header bit 7 and the checked version marker [99][99 ^ check].
  write_file(path("v99.bin"), std::vector<uint8_t>{0x40 | fuzz::kHeaderVersionBit, 99, 99 ^ fuzz::kVersionCheck, 0x01,
                                                   0x00, 0x00, 0x00, 0x00});
  const CliResult r = cli({"run", path("v99.bin"), sched(kS1)});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, path("v99.bin") +
                       ": error: byte 1: binary format version 99, which this build does not read (it reads versions "
                       "1 to 2); the header's bit 7 and a checked version byte mark the version (docs/FORMATS.md)\n");
  EXPECT_NE(r.out.find("2 inputs: 1 passed, 0 with a finding, 1 error\n"), std::string::npos) << r.out;
}

TEST_F(RunCommand, DirectoryRunsItsFilesInNameOrder) {
  ASSERT_EQ(cli({"convert", sched(kS2b), path("b.bin")}).code, kExitOk);
  ASSERT_EQ(cli({"convert", sched(kS1), path("a.bin")}).code, kExitOk);
  const CliResult r = cli({"run", dir().string()});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  const size_t a = r.out.find("input:    " + path("a.bin"));
  const size_t b = r.out.find("input:    " + path("b.bin"));
  EXPECT_NE(a, std::string::npos);
  EXPECT_NE(b, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_NE(r.out.find("2 inputs: 2 passed, 0 with a finding, 0 errors"), std::string::npos) << r.out;
}

TEST_F(RunCommand, NoInputIsAUsageError) {
  const CliResult r = cli({"run"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("FILE is required"), std::string::npos) << r.err;
}

// ---- the built program: exit codes and the environment ---------------------

TEST_F(RunCommand, BuiltProgramExits0OnAPassingInput) {
  const CliResult r = vmafuzz({"run", sched(kS1)});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(line_after(r.out, "verdict:  "), "pass");
}

TEST_F(RunCommand, BuiltProgramExits1OnAFindingFromInject) {
  const CliResult r = vmafuzz({"run", "--inject", "detach_no_wait", sched(kS2b)});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(signature_in(r.out), kS2bSignature);
}

TEST_F(RunCommand, VmafuzzInjectInTheEnvironmentInjectsLikeTheOption) {
  const CliResult r = vmafuzz({"run", sched(kS2b)}, {"VMAFUZZ_INJECT=detach_no_wait"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(signature_in(r.out), kS2bSignature);
  // Several names, comma-separated, as the fuzz target takes them.
  const CliResult two = vmafuzz({"run", sched(kS2b)}, {"VMAFUZZ_INJECT=wake_only_write_target,detach_no_wait"});
  EXPECT_EQ(two.code, 1) << two.out << two.err;
  EXPECT_EQ(line_after(two.out, "inject:   "), "wake_only_write_target detach_no_wait");
}

TEST_F(RunCommand, EmptyNamesInVmafuzzInjectAreIgnoredByTheCliAndTheFuzzTargetAlike) {
  ASSERT_EQ(cli({"convert", sched(kS2b), path("s2b.bin")}).code, kExitOk);
  const CliResult ours = vmafuzz({"run", path("s2b.bin")}, {"VMAFUZZ_INJECT=,detach_no_wait,,"});
  const CliResult theirs = replay({path("s2b.bin")}, {"VMAFUZZ_INJECT=,detach_no_wait,,"});
  EXPECT_EQ(ours.code, 1) << ours.out << ours.err;
  EXPECT_EQ(signature_in(ours.out), kS2bSignature);
  EXPECT_NE(theirs.code, 0) << theirs.err;
  EXPECT_EQ(signature_in(theirs.err), kS2bSignature) << theirs.err;
}

TEST_F(RunCommand, InjectOnTheCommandLineTakesPrecedenceOverTheEnvironment) {
  const CliResult r = vmafuzz({"run", "--inject", "detach_no_wait", sched(kS2b)}, {"VMAFUZZ_INJECT=no_such_bug"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(line_after(r.out, "inject:   "), "detach_no_wait");
}

TEST_F(RunCommand, UnknownBugInTheEnvironmentExits2) {
  const CliResult r = vmafuzz({"run", sched(kS1)}, {"VMAFUZZ_INJECT=no_such_bug"});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("unknown bug 'no_such_bug' (from --inject or VMAFUZZ_INJECT)"), std::string::npos) << r.err;
}

// --inject is checked while parsing (core/inject_option.h), but only for
// the command that runs: CLI11 reads every subcommand's variable.
TEST_F(RunCommand, UnknownBugInTheEnvironmentDoesNotConcernCommandsWithoutInject) {
  const CliResult r = vmafuzz({"convert", sched(kS1), path("s1.bin")}, {"VMAFUZZ_INJECT=no_such_bug"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  const CliResult hunt = vmafuzz({"hunt", "--runs", "1"}, {"VMAFUZZ_INJECT=no_such_bug"});
  EXPECT_EQ(hunt.code, 2) << hunt.out << hunt.err;
  EXPECT_NE(hunt.err.find("vmafuzz hunt: error: --inject: unknown bug 'no_such_bug'"), std::string::npos) << hunt.err;
}

TEST_F(RunCommand, BuiltProgramExits2OnAMissingFile) {
  const CliResult r = vmafuzz({"run", path("missing")});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, path("missing") + ": error: cannot read: No such file or directory\n");
}

TEST_F(RunCommand, ReplayCommandInTheReportReproducesTheFinding) {
  const CliResult first = vmafuzz({"run", "--inject", "detach_no_wait", "--max-steps", "40000", sched(kS2b)});
  ASSERT_EQ(first.code, 1);
  const std::string replay = line_after(first.out, "==vmafuzz== replay: ");
  ASSERT_TRUE(replay.starts_with("vmafuzz ")) << replay;
  const std::string cmd = "env -u VMAFUZZ_INJECT " + shell_quote(VMAFUZZ_CLI) + replay.substr(7) + " >" +
                          shell_quote(path("again.out")) + " 2>&1";
  const int status = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << cmd;
  EXPECT_EQ(signature_in(read_text(path("again.out"))), kS2bSignature);
}

// ---- agreement with the fuzz target -----------------------------------------

// Some catalogued bugs are data races (B06, B08: tests/fuzz/tsan_catalog_test.cpp),
// which ThreadSanitizer reports, by design, as soon as they run. Under TSan
// the comparison is therefore made on the correct model only; the dev and
// asan builds compare every bug.
#ifdef VMAFUZZ_TSAN
constexpr bool kInjectBugs = false;
#else
constexpr bool kInjectBugs = true;
#endif

class RunAgreesWithFuzzTarget : public CliTest {
 protected:
  // `vmafuzz run` and fuzz_vma_lock_replay, given the same bytes and bugs,
  // agree on whether there is a finding and on its signature.
  void expect_agreement(const std::string& bin, const std::vector<std::string>& bugs, const std::string& what) {
    std::vector<std::string> args = {"run", bin};
    std::string names;
    for (const std::string& b : bugs) {
      names += (names.empty() ? "" : ",") + b;
      args.insert(args.end() - 1, {"--inject", b});
    }
    const CliResult ours = cli(args);
    const CliResult theirs = replay({bin}, bugs.empty() ? std::vector<std::string>{} : std::vector{"VMAFUZZ_INJECT=" + names});
    ASSERT_TRUE(ours.code == kExitOk || ours.code == kExitFinding) << what << "\n" << ours.err;
    EXPECT_EQ(ours.code == kExitFinding, theirs.code != 0) << what << "\nreplay said:\n" << theirs.err;
    EXPECT_EQ(signature_in(ours.out), signature_in(theirs.err)) << what;
    ++compared_;
    findings_ += ours.code == kExitFinding;
  }
  int compared_ = 0;
  int findings_ = 0;
};

TEST_F(RunAgreesWithFuzzTarget, OnEverySchedFileWithoutBugsAndWithEachBugItsExpectLinesName) {
  for (const std::string& name : sched_files()) {
    const fuzz::SchedFile f = parse_file(sched(name));
    ASSERT_EQ(cli({"convert", sched(name), path("s.bin")}).code, kExitOk);
    std::set<std::string> bugs;
    for (const fuzz::Expectation& e : f.expectations) {
      if (e.inject) bugs.insert(std::string(core::bug_info(*e.inject).name));
    }
    expect_agreement(path("s.bin"), {}, name);
    if (!kInjectBugs) continue;
    for (const std::string& bug : bugs) expect_agreement(path("s.bin"), {bug}, name + " with " + bug);
  }
  if (kInjectBugs) EXPECT_GT(findings_, 0) << "no input had a finding: the comparison of signatures proved little";
}

TEST_F(RunAgreesWithFuzzTarget, OnRandomBytesWithEachCatalogedBug) {
  std::mt19937 rng(777);
  constexpr int kBugs = static_cast<int>(core::Bug::kCount);
  for (int i = 0; i < 3 * (kBugs + 1); ++i) {
    std::vector<uint8_t> bytes(8 + rng() % 56);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    write_file(path("r.bin"), bytes);
    std::vector<std::string> bugs;
    if (kInjectBugs && i % (kBugs + 1) < kBugs) bugs.emplace_back(core::bug_info(static_cast<core::Bug>(i % (kBugs + 1))).name);
    expect_agreement(path("r.bin"), bugs, fmt::format("random input {} with [{}]", i, bugs.empty() ? "" : bugs[0]));
  }
}

}  // namespace
}  // namespace vmafuzz::repro::test
