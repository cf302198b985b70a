// list_bugs_test.cpp - `vmafuzz list-bugs`: the whole catalog, one bug per
// line, name first.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "core/inject.h"
#include "tests/repro/repro_test_support.h"

namespace vmafuzz::repro::test {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

using ListBugsCommand = CliTest;

TEST_F(ListBugsCommand, ListsEveryCatalogEntryInOrderOnePerLineNameOriginSummary) {
  const CliResult r = cli({"list-bugs"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.err, "");
  const std::vector<std::string> lines = lines_of(r.out);
  constexpr int kBugs = static_cast<int>(core::Bug::kCount);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kBugs)) << r.out;
  for (int i = 0; i < kBugs; ++i) {
    const core::BugInfo& b = core::bug_info(static_cast<core::Bug>(i));
    std::istringstream words(lines[static_cast<size_t>(i)]);
    std::string name, origin;
    words >> name >> origin;
    EXPECT_EQ(name, b.name) << lines[static_cast<size_t>(i)];
    EXPECT_EQ(origin, b.origin) << lines[static_cast<size_t>(i)];
    EXPECT_TRUE(lines[static_cast<size_t>(i)].ends_with("  " + std::string(b.summary))) << lines[static_cast<size_t>(i)];
    // The name is what --inject takes.
    EXPECT_EQ(core::bug_from_name(name), static_cast<core::Bug>(i));
  }
}

TEST_F(ListBugsCommand, SummariesStartInOneColumn) {
  const std::vector<std::string> lines = lines_of(cli({"list-bugs"}).out);
  ASSERT_FALSE(lines.empty());
  const core::BugInfo& first = core::bug_info(static_cast<core::Bug>(0));
  const size_t column = lines[0].rfind(first.summary);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].find(core::bug_info(static_cast<core::Bug>(i)).summary), column) << lines[i];
  }
}

TEST_F(ListBugsCommand, ExtraArgumentIsAUsageError) {
  const CliResult r = cli({"list-bugs", "extra"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.out, "");
}

TEST_F(ListBugsCommand, BuiltProgramListsTheSameAndExits0) {
  const CliResult r = vmafuzz({"list-bugs"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, cli({"list-bugs"}).out);
}

}  // namespace
}  // namespace vmafuzz::repro::test
