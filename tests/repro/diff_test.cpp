// diff_test.cpp - `vmafuzz diff FILE --versions A,B`: exit 0 when the two
// versions run the schedule alike, 1 with the first divergence printed, 2 on
// usage errors.
#include <gtest/gtest.h>

#include <string>

#include "tests/repro/repro_test_support.h"

namespace vmafuzz::repro::test {
namespace {

using DiffCommand = CliTest;

std::string seed(const std::string& name) { return (source_dir() / "corpus" / "fuzz_vma_lock" / name).string(); }

TEST_F(DiffCommand, PreAndPostSeriesRunTheWriteLockSeedAlike) {
  const CliResult r = cli({"diff", seed("S1_transient_reader_vs_write_lock.bin"), "--versions", "pre_series,post_series"});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("versions: pre_series / post_series"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result:   same (no divergence)"), std::string::npos) << r.out;
}

TEST_F(DiffCommand, TheDefaultVersionsArePreAgainstPostSeries) {
  const CliResult r = cli({"diff", seed("S2c_transient_reader_vs_detach_put_during_wait.bin")});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("versions: pre_series / post_series"), std::string::npos) << r.out;
}

TEST_F(DiffCommand, PrintsTheFirstDivergenceSideBySideAndExitsOne) {
  const CliResult r = cli({"diff", seed("S2c_transient_reader_vs_detach_put_during_wait.bin"), "--versions",
                           "post_series,test_wake_write_only"});
  EXPECT_EQ(r.code, kExitFinding) << r.out << r.err;
  EXPECT_NE(r.out.find("first divergence at event"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result:   diverged: events: post_series: load rcuwait_task in rcuwait_wake_up"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("SIGNATURE: nfc.divergence|"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdict: post_series: pass / test_wake_write_only: lost-wakeup"), std::string::npos) << r.out;
}

TEST_F(DiffCommand, ExplainFollowsEachSideWithLockVersion) {
  const std::string file = seed("S2c_transient_reader_vs_detach_put_during_wait.bin");
  CliResult r = cli({"explain", file, "--lock-version", "test_wake_write_only"});
  EXPECT_EQ(r.code, kExitFinding) << r.out << r.err;
  EXPECT_NE(r.out.find("sleep.lost_wakeup"), std::string::npos) << r.out;
  r = cli({"explain", file, "--lock-version", "post_series"});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  r = cli({"explain", file, "--lock-version", "v7"});
  EXPECT_EQ(r.code, kExitUsage);
}

TEST_F(DiffCommand, UnknownVersionsMissingFilesAndBadPairsAreUsageErrors) {
  CliResult r = cli({"diff", seed("S1_transient_reader_vs_write_lock.bin"), "--versions", "pre_series,v7"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("unknown version 'v7'"), std::string::npos) << r.err;
  r = cli({"diff", seed("S1_transient_reader_vs_write_lock.bin"), "--versions", "pre_series"});
  EXPECT_EQ(r.code, kExitUsage);
  r = cli({"diff", path("missing.bin")});
  EXPECT_EQ(r.code, kExitUsage);
  r = cli({"diff"});
  EXPECT_EQ(r.code, kExitUsage);
}

TEST_F(DiffCommand, HelpNamesTheVersionsAndTheExitCodes) {
  const CliResult r = cli({"diff", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("--versions"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test_wake_write_only"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the runs diverged"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vmafuzz::repro::test
