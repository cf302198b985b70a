// keep_test.cpp - keeping a finding: `vmafuzz run --check` (expect lines
// checked by the library checker the gtest uses), the sidecar FILE.json that
// says which model made a crash file, and `vmafuzz to-test`.
#include <gtest/gtest.h>

#include <cstdio>

#include <string>
#include <variant>
#include <vector>

#include "fuzz/sched_check.h"
#include "fuzz/sched_text.h"
#include "repro/sidecar.h"
#include "core/sanitizer_hooks.h"
#include "tests/repro/repro_test_support.h"
#include "tests/tsan_races.h"

namespace vmafuzz::repro::test {
namespace {

const std::string kS1 = "S1_transient_reader_vs_write_lock.sched";
const std::string kB09 = "B09_detach_no_wait.sched";
const fs::path kCrash = source_dir() / "tests" / "fuzz" / "crashes" / "detach_no_wait.bin";

std::string sched(const std::string& name) { return (sched_dir() / name).string(); }

// ---- run --check ---------------------------------------------------------------

using RunCheck = CliTest;

// Under ThreadSanitizer a file whose expect lines inject a bug that races by
// design (tests/tsan_races.h) would end this process with the report it is
// meant to give: tsan_catalog_test checks those in child processes.
bool races_under_this_build(const std::string& file) {
#ifdef VMAFUZZ_TSAN
  const std::string text = read_text(file);
  for (const core::Bug bug : ::vmafuzz::test::kRacesUnderTsan) {
    if (text.find("expect with " + std::string(core::bug_info(bug).name) + " ") != std::string::npos) return true;
  }
#endif
  (void)file;
  return false;
}

TEST_F(RunCheck, EveryTestsSchedFileHoldsUnderRunCheck) {
  for (const std::string& f : sched_files()) {
    if (races_under_this_build(sched(f))) {
      std::printf("note: %s races by design under ThreadSanitizer: tsan_catalog_test replays it\n", f.c_str());
      continue;
    }
    const CliResult r = cli({"run", "--check", sched(f)});
    EXPECT_EQ(r.code, kExitOk) << f << "\n" << r.out << r.err;
    EXPECT_TRUE(line_after(r.out, "expect:   ").ends_with("checked: all hold")) << f << "\n" << r.out;
  }
}

TEST_F(RunCheck, MismatchPrintsFileLineExpectedAndGotAndExits1) {
  std::string text = read_text(sched(kB09));
  // One plain line and one `with` line made false.
  const size_t pos = text.find("expect with detach_no_wait verdict oracle");
  ASSERT_NE(pos, std::string::npos) << text;
  text.replace(pos, std::string("expect with detach_no_wait verdict oracle").size(),
               "expect with detach_no_wait verdict deadlock");
  text += "expect verdict livelock\n";
  const std::string file = path("bad.sched");
  write_file(file, text);
  int with_line = 1;
  for (size_t i = 0; i < pos; ++i) with_line += text[i] == '\n';
  int last_line = 0;
  for (const char c : text) last_line += c == '\n';

  const CliResult r = cli({"run", "--check", file});
  EXPECT_EQ(r.code, kExitFinding) << r.out << r.err;
  EXPECT_NE(r.err.find(file + ":" + std::to_string(with_line) +
                       ": expect with detach_no_wait verdict deadlock: got verdict oracle"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(file + ":" + std::to_string(last_line) + ": expect verdict livelock: got verdict pass"),
            std::string::npos)
      << r.err;
  EXPECT_NE(line_after(r.out, "expect:   ").find("2 do not hold"), std::string::npos) << r.out;
  // Without --check the lines are counted only, and the verdict decides.
  EXPECT_EQ(cli({"run", file}).code, kExitOk);
}

TEST_F(RunCheck, TheGtestCheckerAndRunCheckAgree) {
  // The same library call: a file's mismatches are what run --check prints.
  const std::string text = read_text(sched(kS1)) + "expect T0.0 vma-locked\n";
  write_file(path("s1.sched"), text);
  auto parsed = fuzz::parse_sched(text, path("s1.sched"));
  ASSERT_TRUE(std::holds_alternative<fuzz::SchedFile>(parsed));
  const fuzz::CheckResult c = fuzz::check_expectations(std::get<fuzz::SchedFile>(parsed));
  ASSERT_EQ(c.mismatches.size(), 1u);
  const CliResult r = cli({"run", "--check", path("s1.sched")});
  EXPECT_NE(r.err.find(c.mismatches[0].to_string(path("s1.sched"))), std::string::npos) << r.err;
  EXPECT_NE(c.mismatches[0].to_string("f").find(": expect T0.0 vma-locked: got T0.0 null"), std::string::npos)
      << c.mismatches[0].to_string("f");
}

TEST_F(RunCheck, InputWithoutExpectLinesGetsANoteAndItsVerdictDecides) {
  ASSERT_EQ(cli({"convert", sched(kS1), path("s1.bin")}).code, kExitOk);
  const CliResult r = cli({"run", "--check", path("s1.bin")});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.err.find("no expect lines"), std::string::npos) << r.err;
  const CliResult f = cli({"run", "--check", "--inject", "detach_no_wait", "--inject", "", kCrash.string()});
  EXPECT_EQ(f.code, kExitFinding) << f.out << f.err;
}

// ---- sidecar -------------------------------------------------------------------

using SidecarTest = CliTest;

TEST_F(SidecarTest, TextRoundTripsAndNamesTheVersion) {
  Sidecar s;
  s.inject = {"detach_no_wait"};
  s.max_steps = 1234;
  s.found_by = "vmafuzz hunt --seed 3";
  s.signature = "a|b \"quoted\"|c|d";
  const std::string text = sidecar_text(s);
  EXPECT_TRUE(text.starts_with("{\n  \"vmafuzz_sidecar\": 1,")) << text;
  auto back = parse_sidecar(text, "x.json");
  ASSERT_TRUE(std::holds_alternative<Sidecar>(back)) << std::get<InputError>(back).text;
  const Sidecar& b = std::get<Sidecar>(back);
  EXPECT_EQ(b.inject, s.inject);
  EXPECT_EQ(b.max_steps, s.max_steps);
  EXPECT_EQ(b.found_by, s.found_by);
  EXPECT_EQ(b.signature, s.signature);
  EXPECT_EQ(b.target, "fuzz_vma_lock");
}

TEST_F(SidecarTest, MalformedSidecarIsAnErrorWithFileLineColumnAndExit2) {
  const struct {
    std::string text;
    std::string want;
  } cases[] = {
      {"{\"vmafuzz_sidecar\": 1,\n \"inject\": [}", "x.json.json:2:13: error: not a vmafuzz sidecar: invalid JSON"},
      {"{}", "expected the key \"vmafuzz_sidecar\""},
      {"{\"vmafuzz_sidecar\": 2}", "sidecar version 2, which this build does not read (it reads version 1)"},
      {"{\"vmafuzz_sidecar\": 1, \"inject\": [\"nope\"]}", "unknown bug 'nope'"},
      {"{\"vmafuzz_sidecar\": 1, \"inject\": \"detach_no_wait\"}", "expected \"inject\" to be an array"},
      {"{\"vmafuzz_sidecar\": 1, \"max_steps\": 0}", "expected \"max_steps\" to be a number from 1 to 1000000000"},
      {"\x01\xff", "invalid JSON"},
  };
  fs::copy_file(kCrash, path("x.json"));  // an input whose name ends in .json
  for (const auto& c : cases) {
    write_file(path("x.json.json"), c.text);
    const CliResult r = cli({"run", path("x.json")});
    EXPECT_EQ(r.code, kExitUsage) << c.text;
    EXPECT_NE(r.err.find(c.want), std::string::npos) << r.err;
    for (const char ch : r.err) EXPECT_TRUE(ch == '\n' || (ch >= 0x20 && ch < 0x7f)) << r.err;
  }
}

TEST_F(SidecarTest, RunUsesTheSidecarsInjectionAndSaysSo) {
  // tests/fuzz/crashes/detach_no_wait.bin has its sidecar.
  const CliResult r = cli({"run", kCrash.string()});
  EXPECT_EQ(r.code, kExitFinding) << r.out << r.err;
  EXPECT_EQ(line_after(r.out, "inject:   "), "detach_no_wait (from " + kCrash.string() + ".json)");
  EXPECT_EQ(line_after(r.out, "note:     "), "using --inject detach_no_wait from " + kCrash.string() + ".json");
  EXPECT_TRUE(line_after(r.out, "==vmafuzz== SIGNATURE: ").starts_with("detach.count_not_zero")) << r.out;
  EXPECT_EQ(vmafuzz({"run", kCrash.string()}).code, kExitFinding);
}

TEST_F(SidecarTest, ExplicitCorrectModelPassesAndNamesHowItWasFound) {
  for (const CliResult& r : {cli({"run", "--inject", "", kCrash.string()}),
                             vmafuzz({"run", kCrash.string()}, {"VMAFUZZ_INJECT="})}) {
    EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
    const std::string note = line_after(r.out, "note:     ");
    EXPECT_TRUE(note.starts_with("passes on this model (no bug injected); it was found with --inject detach_no_wait (" +
                                 kCrash.string() + ".json: libFuzzer campaign"))
        << r.out;
  }
  // Another bug given explicitly: also not the model that found it.
  const CliResult other = cli({"run", "--inject", "wake_only_write_target", kCrash.string()});
  EXPECT_NE(line_after(other.out, "note:     ").find("it was found with --inject detach_no_wait"), std::string::npos)
      << other.out;
}

TEST_F(SidecarTest, HuntWritesASidecarThatRunReads) {
  const std::string saved = path("h.bin");
  const CliResult h = cli({"hunt", "--inject", "rcu_held_on_empty_lookup", "--runs", "20000", "--save", saved});
  ASSERT_EQ(h.code, kExitFinding) << h.out << h.err;
  auto read = read_sidecar(saved);
  ASSERT_TRUE(std::holds_alternative<std::optional<Sidecar>>(read));
  const std::optional<Sidecar>& s = std::get<std::optional<Sidecar>>(read);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->inject, std::vector<std::string>{"rcu_held_on_empty_lookup"});
  EXPECT_TRUE(s->found_by.starts_with("vmafuzz hunt --strategy random --seed 1 --inject rcu_held_on_empty_lookup"))
      << s->found_by;
  EXPECT_EQ(s->signature, line_after(h.out, "==vmafuzz== SIGNATURE: "));
  const CliResult r = cli({"run", saved});
  EXPECT_EQ(r.code, kExitFinding) << r.out << r.err;
  EXPECT_EQ(line_after(r.out, "==vmafuzz== SIGNATURE: "), s->signature);
}

TEST_F(SidecarTest, DirectoryRunsSkipSidecars) {
  const fs::path crashes = dir() / "crashes";
  fs::create_directories(crashes);
  fs::copy_file(kCrash, crashes / "crash-1");
  fs::copy_file(fs::path(kCrash.string() + ".json"), crashes / "crash-1.json");
  const CliResult r = cli({"run", crashes.string()});
  EXPECT_EQ(r.out.find("crash-1.json ("), std::string::npos) << r.out;
  EXPECT_EQ(r.code, kExitFinding) << r.out << r.err;
  const CliResult d = replay({crashes.string()}, {"VMAFUZZ_INJECT="});
  EXPECT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.err.find("replay: 1 inputs, no findings"), std::string::npos) << d.err;
}

// ---- to-test -------------------------------------------------------------------

using ToTest = CliTest;

TEST_F(ToTest, WritesARegressionThatHoldsWithHeaderAndExpectLines) {
  const CliResult r = cli({"to-test", kCrash.string(), "--name", "kept", "--out", dir().string()});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  const std::string text = read_text(path("kept.sched"));
  EXPECT_TRUE(text.starts_with("# kept: a finding kept as a regression scenario")) << text;
  EXPECT_NE(text.find("# From: " + kCrash.string() + " (found by libFuzzer campaign"), std::string::npos) << text;
  EXPECT_NE(text.find("#   FINDING: detach.count_not_zero"), std::string::npos) << text;
  EXPECT_NE(text.find("[invariant I5]"), std::string::npos) << text;
  EXPECT_NE(text.find("# Operations:\n#   T0 (mm 0): "), std::string::npos) << text;
  EXPECT_NE(text.find("expect with detach_no_wait verdict oracle\n"), std::string::npos) << text;
  EXPECT_NE(text.find("expect with detach_no_wait finding detach.count_not_zero\n"), std::string::npos) << text;
  EXPECT_NE(text.find("expect with detach_no_wait signature detach.count_not_zero|"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("expect verdict pass\n")) << text;
  // It is canonical and holds.
  auto parsed = fuzz::parse_sched(text, "kept.sched");
  ASSERT_TRUE(std::holds_alternative<fuzz::SchedFile>(parsed));
  EXPECT_EQ(fuzz::print_sched(std::get<fuzz::SchedFile>(parsed)), text);
  EXPECT_EQ(cli({"run", "--check", path("kept.sched")}).code, kExitOk);
  // -o FILE names the file itself.
  EXPECT_EQ(cli({"to-test", kCrash.string(), "--name", "x", "-o", path("other.sched")}).code, kExitOk);
  EXPECT_TRUE(fs::exists(path("other.sched")));
}

TEST_F(ToTest, RefusesToOverwriteWithoutForce) {
  write_file(path("kept.sched"), std::string("mine\n"));
  const CliResult r = cli({"to-test", kCrash.string(), "--name", "kept", "--out", dir().string()});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("kept.sched exists; --force overwrites it"), std::string::npos) << r.err;
  EXPECT_EQ(read_text(path("kept.sched")), "mine\n");
  EXPECT_EQ(cli({"to-test", kCrash.string(), "--name", "kept", "--out", dir().string(), "--force"}).code, kExitOk);
  EXPECT_NE(read_text(path("kept.sched")), "mine\n");
}

TEST_F(ToTest, ValidatesTheName) {
  for (const std::string bad : {"a/b", "", "x.sched", "../up", "sp ace"}) {
    const CliResult r = cli({"to-test", kCrash.string(), "--name", bad, "--out", dir().string()});
    EXPECT_EQ(r.code, kExitUsage) << bad;
    EXPECT_NE(r.err.find("--name must be letters, digits"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(fs::is_empty(dir()));
}

TEST_F(ToTest, RefusesWhatIsNotTheRegressionOfABug) {
  // No bug at all: no sidecar, no --inject.
  fs::copy_file(kCrash, path("bare.bin"));
  CliResult r = cli({"to-test", path("bare.bin"), "--name", "n", "--out", dir().string()});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("no bug to keep it under"), std::string::npos) << r.err;
  // The bug given does not find anything here.
  r = cli({"to-test", path("bare.bin"), "--name", "n", "--out", dir().string(), "--inject", "eintr_keeps_flag"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("passes with --inject eintr_keeps_flag too"), std::string::npos) << r.err;
  // The correct model does not pass it: a livelock at a tiny step bound.
  r = cli({"to-test", sched(kS1), "--name", "n", "--out", dir().string(), "--inject", "detach_no_wait",
           "--max-steps", "3"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("the correct model does not pass it either"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("n.sched")));
}

TEST_F(ToTest, DefaultDirectoryMustExist) {
  // The tests run in the build tree, which has no tests/sched/regressions.
  const fs::path cwd = fs::current_path();
  fs::current_path(dir());
  const CliResult r = cli({"to-test", kCrash.string(), "--name", "n"});
  fs::current_path(cwd);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("no directory tests/sched/regressions here"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vmafuzz::repro::test
