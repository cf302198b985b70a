// cli_test.cpp - the `vmafuzz` program as a whole: help, version, usage errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/repro/repro_test_support.h"

namespace vmafuzz::repro::test {
namespace {

struct CommandName {
  std::string name;
  std::string exits;
};

const std::vector<CommandName> kCommandNames = {
#define VMAFUZZ_COMMAND(id, name, summary, exit0, exit1, exit2) \
  {name, std::string(sizeof(exit0) > 1 ? "0" : "") + (sizeof(exit1) > 1 ? "1" : "") + (sizeof(exit2) > 1 ? "2" : "")},
#include "repro/commands.inc"
#undef VMAFUZZ_COMMAND
};

using Cli = CliTest;

TEST_F(Cli, HelpListsEveryCommandTheEnvironmentAndTheExitCodes) {
  const CliResult r = cli({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.err, "");
  for (const CommandName& c : kCommandNames) EXPECT_NE(r.out.find("\n  " + c.name + " "), std::string::npos) << c.name;
  EXPECT_NE(r.out.find("VMAFUZZ_INJECT=NAME[,NAME...]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("as --inject NAME (run, hunt"), std::string::npos) << r.out;
  for (const int code : {kExitOk, kExitFinding, kExitUsage}) {
    EXPECT_NE(r.out.find("  " + std::to_string(code) + "  " + std::string(exit_code_meaning(code))), std::string::npos)
        << code;
  }
}

TEST_F(Cli, EveryCommandHasHelpWithItsExitCodes) {
  for (const CommandName& c : kCommandNames) {
    const CliResult r = cli({c.name, "--help"});
    EXPECT_EQ(r.code, kExitOk) << c.name;
    EXPECT_NE(r.out.find("Usage: vmafuzz " + c.name), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Exit codes:"), std::string::npos) << r.out;
    for (const int code : {kExitOk, kExitFinding, kExitUsage}) {
      const bool listed =
          r.out.find("  " + std::to_string(code) + "  " + std::string(exit_code_meaning(code, c.name))) !=
          std::string::npos;
      EXPECT_EQ(listed, c.exits.find(static_cast<char>('0' + code)) != std::string::npos) << c.name << " " << code;
    }
  }
}

// Each command's help lists its own exit codes with its own meanings: no
// command's text talks about another command.
TEST_F(Cli, ExitCodeListsInHelpAreTheCommandsOwn) {
  for (const CommandName& c : kCommandNames) {
    const CliResult r = cli({c.name, "--help"});
    const std::string list = r.out.substr(r.out.find("Exit codes:"));
    for (const CommandName& other : kCommandNames) {
      if (other.name == c.name) continue;
      EXPECT_EQ(list.find(" " + other.name + ":"), std::string::npos) << c.name << " --help:\n" << list;
    }
  }
  const CliResult convert = cli({"convert", "--help"});
  EXPECT_NE(convert.out.find("  0  converted\n"), std::string::npos) << convert.out;
  EXPECT_EQ(convert.out.find("  1  "), std::string::npos) << convert.out;
  const CliResult list_bugs = cli({"list-bugs", "--help"});
  EXPECT_NE(list_bugs.out.find("  0  listed\n  2  bad command line\n"), std::string::npos) << list_bugs.out;
}

TEST_F(Cli, SharedOptionsShowTheirEnvironmentVariableInHelp) {
  const CliResult r = cli({"run", "--help"});
  EXPECT_NE(r.out.find("--inject NAME"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(Env:VMAFUZZ_INJECT)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--max-steps N=50000"), std::string::npos) << r.out;
}

TEST_F(Cli, VersionPrintsTheProjectAndFormatVersions) {
  const CliResult r = cli({"--version"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, version_line() + "\n");
  EXPECT_TRUE(r.out.starts_with("vmafuzz 0.")) << r.out;
  EXPECT_NE(r.out.find("binary 2, .sched 1"), std::string::npos) << r.out;
}

TEST_F(Cli, NoCommandIsAUsageErrorThatShowsTheHelp) {
  const CliResult r = cli({});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("Usage: vmafuzz"), std::string::npos) << r.err;
}

TEST_F(Cli, UnknownCommandIsAUsageErrorNamingIt) {
  const CliResult r = cli({"frobnicate", "x"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos) << r.err;
}

TEST_F(Cli, UnknownOptionIsAUsageErrorPointingAtTheCommandsHelp) {
  const CliResult r = cli({"run", "--frobnicate", "x"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("vmafuzz run: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--frobnicate"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Run 'vmafuzz run --help'"), std::string::npos) << r.err;
}

TEST_F(Cli, MaxStepsMustBeAPositiveNumber) {
  for (const char* bad : {"0", "-3", "ten"}) {
    const CliResult r = cli({"run", "--max-steps", bad, "x"});
    EXPECT_EQ(r.code, kExitUsage) << bad;
    EXPECT_NE(r.err.find("--max-steps"), std::string::npos) << r.err;
  }
}

// 2^64 used to be taken silently; the bound is printed in plain numbers.
TEST_F(Cli, MaxStepsHasABoundInPlainNumbers) {
  for (const char* bad : {"18446744073709551616", "1000000001", "99999999999999999999999"}) {
    const CliResult r = cli({"run", "--max-steps", bad, "x"});
    EXPECT_EQ(r.code, kExitUsage) << bad;
    EXPECT_NE(r.err.find("--max-steps: must be a number from 1 to 1000000000, not " + std::string(bad)),
              std::string::npos)
        << r.err;
  }
  EXPECT_EQ(cli({"run", "--max-steps", "1000000000", (sched_dir() / sched_files().at(0)).string()}).code, kExitOk);
}

TEST_F(Cli, BuiltProgramHelpAndVersionExit0AndBadUsageExits2) {
  EXPECT_EQ(vmafuzz({"--help"}).code, 0);
  EXPECT_EQ(vmafuzz({"--version"}).out, version_line() + "\n");
  EXPECT_EQ(vmafuzz({}).code, 2);
  EXPECT_EQ(vmafuzz({"nonsense"}).code, 2);
}

}  // namespace
}  // namespace vmafuzz::repro::test
