// robustness_test.cpp - bad input as a new user gives it: read errors, paths
// that cannot be written, garbage bytes, out-of-range numbers, sentinels in
// reports. Each is a clear message and exit 2 (or a finding kept), never an
// abort, never raw bytes on the terminal.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fuzz/finding.h"
#include "tests/repro/repro_test_support.h"

namespace vmafuzz::repro::test {
namespace {

using Robustness = CliTest;

bool all_printable(const std::string& s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u != '\n' && (u < 0x20 || u >= 0x7f)) return false;
  }
  return true;
}

// /proc/self/mem opens but every read at offset 0 fails (EIO), even for
// root, which chmod 000 does not stop.
TEST_F(Robustness, ReadErrorIsAClearErrorAndExit2InRunAndTheReplayDriver) {
  for (const CliResult& r : {cli({"run", "/proc/self/mem"}), vmafuzz({"run", "/proc/self/mem"}),
                             cli({"convert", "/proc/self/mem", path("o.sched")})}) {
    EXPECT_EQ(r.code, kExitUsage) << r.err;
    EXPECT_NE(r.err.find("/proc/self/mem: error: read failed after 0 bytes: "), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(path("o.sched")));
  const CliResult d = replay({"/proc/self/mem"});
  EXPECT_EQ(d.code, 2) << d.err;
  EXPECT_NE(d.err.find("replay: error: /proc/self/mem: read failed after 0 bytes: "), std::string::npos) << d.err;
}

TEST_F(Robustness, DirectoryAndMissingFileAreErrorsInTheReplayDriver) {
  const CliResult missing = replay({path("nope")});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("replay: error: " + path("nope") + ": cannot read: No such file or directory"), std::string::npos)
      << missing.err;
  const CliResult run_dir = cli({"convert", dir().string(), path("x.bin")});
  EXPECT_EQ(run_dir.code, kExitUsage);
}

TEST_F(Robustness, HuntChecksSaveBeforeHunting) {
  for (const std::string& bad : {std::string("/nonexistent/x.bin"), dir().string()}) {
    const CliResult r = cli({"hunt", "--inject", "rcu_held_on_empty_lookup", "--save", bad});
    EXPECT_EQ(r.code, kExitUsage) << bad;
    EXPECT_NE(r.err.find(bad + ": error: cannot write: "), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << "hunted although the finding could not be saved";
  }
}

// A write that fails after the check (here: /dev/full, which opens but has no
// space): the finding is printed with its bytes in hex, not lost.
TEST_F(Robustness, HuntPrintsTheBytesWhenTheSaveFailsAfterAFinding) {
  const CliResult r = cli({"hunt", "--inject", "rcu_held_on_empty_lookup", "--save", "/dev/full"});
  EXPECT_EQ(r.code, kExitFinding) << r.out << r.err;
  EXPECT_NE(r.err.find("/dev/full: error: write failed"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("could NOT be saved to /dev/full"), std::string::npos) << r.out;
  const std::string hex = line_after(r.out, "hunt: its ");
  ASSERT_NE(hex, "") << r.out;
  // The hex line after it decodes to the scenario, which replays to the finding.
  const size_t at = r.out.find("(restore with: xxd -r -p > FILE):\n");
  ASSERT_NE(at, std::string::npos);
  std::string digits = r.out.substr(at + std::string("(restore with: xxd -r -p > FILE):\n").size());
  digits = digits.substr(0, digits.find("==vmafuzz=="));
  std::vector<uint8_t> bytes;
  std::string clean;
  for (const char c : digits) {
    if (c != '\n') clean += c;
  }
  for (size_t i = 0; i + 1 < clean.size(); i += 2) bytes.push_back(static_cast<uint8_t>(std::stoi(clean.substr(i, 2), nullptr, 16)));
  write_file(path("restored.bin"), bytes);
  const CliResult replayed = cli({"run", "--inject", "rcu_held_on_empty_lookup", path("restored.bin")});
  EXPECT_EQ(line_after(replayed.out, "==vmafuzz== SIGNATURE: "), line_after(r.out, "==vmafuzz== SIGNATURE: "));
}

TEST_F(Robustness, GarbageBytesAreEscapedInErrorMessages) {
  std::string garbage = "vmafuzz-sched 1\nmm 0 vmas \x01\x1b[31m\xff\xfe\n";
  write_file(path("g.sched"), garbage);
  const CliResult r = cli({"run", path("g.sched")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("g.sched:2:11: error: expected a slot number 0 to 7, found '\\x01\\x1b[31m\\xff\\xfe'"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(all_printable(r.err)) << r.err;
  // A whole binary file read as text, and a file name with control bytes.
  std::string bin(300, '\0');
  for (size_t i = 0; i < bin.size(); ++i) bin[i] = static_cast<char>(i * 7);
  write_file(path("b\x07.sched"), bin);
  const CliResult b = cli({"run", path("b\x07.sched")});
  EXPECT_EQ(b.code, kExitUsage);
  EXPECT_TRUE(all_printable(b.err)) << b.err;
  EXPECT_NE(b.err.find("b\\x07.sched:"), std::string::npos) << b.err;
  EXPECT_EQ(printable("a\tb\n\x7f\x80"), "a\\tb\\n\\x7f\\x80");
  EXPECT_EQ(printable(std::string(10, 'x'), 4), "xxxx...");
}

TEST_F(Robustness, HuntTimeHasPlainBounds) {
  for (const char* bad : {"0", "-1", "604801", "1e400", "nan", "ten"}) {
    const CliResult r = cli({"hunt", "--time", bad});
    EXPECT_EQ(r.code, kExitUsage) << bad;
    EXPECT_NE(r.err.find("--time: must be a number of seconds above 0 and at most 604800 (a week)"), std::string::npos)
        << r.err;
    EXPECT_LT(r.err.size(), 300u) << r.err;
  }
}

TEST_F(Robustness, FindingReportsPrintNoSentinels) {
  fuzz::Finding f;
  f.oracle = fuzz::OracleId::kLivelock;  // invariant "-"
  f.task = -1;
  f.vma = -1;
  f.operation = "-";
  f.step = 50000;
  const std::string whole = fuzz::render_finding(f, "");
  EXPECT_EQ(whole.find("[invariant -]"), std::string::npos) << whole;
  EXPECT_EQ(whole.find("VMA object -1"), std::string::npos) << whole;
  EXPECT_EQ(whole.find("T-1"), std::string::npos) << whole;
  EXPECT_NE(whole.find("at step 50000 (the whole run); tasks in: none"), std::string::npos) << whole;
  f.task = 1;
  const std::string between = fuzz::render_finding(f, "");
  EXPECT_NE(between.find("task T1 between operations; other tasks in: none\n"), std::string::npos) << between;
  f.vma = 2;
  f.operation = "munmap";
  EXPECT_NE(fuzz::render_finding(f, "").find("task T1 in munmap; other tasks in: none; VMA object 2\n"),
            std::string::npos);
}

TEST_F(Robustness, ReadmeUsageNamesEveryCommand) {
  const std::string readme = read_text(source_dir() / "repro" / "README.md");
  const std::string usage = readme.substr(0, readme.find("| Exit |"));
#define VMAFUZZ_COMMAND(id, name, summary, exit0, exit1, exit2) \
  EXPECT_NE(usage.find("vmafuzz " name " "), std::string::npos) << name << " missing from repro/README.md's usage";
#include "repro/commands.inc"
#undef VMAFUZZ_COMMAND
}

}  // namespace
}  // namespace vmafuzz::repro::test
