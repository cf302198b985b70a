// convert_test.cpp - `vmafuzz convert`: .sched <-> binary through files,
// canonical output, and errors that say where the input is wrong.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <variant>
#include <vector>

#include "fuzz/scenario_codec.h"
#include "fuzz/sched_text.h"
#include "tests/repro/repro_test_support.h"

namespace vmafuzz::repro::test {
namespace {

// A canonical .sched file without what has no binary form: the header comment
// before the magic line and the expect lines at the end.
std::string scenario_part(const std::string& text) {
  const size_t magic = text.find(std::string(fuzz::kSchedMagic) + " ");
  size_t end = text.find("\nexpect ", magic);
  end = end == std::string::npos ? text.size() : end + 1;
  return text.substr(magic, end - magic);
}

class ConvertSchedFile : public CliTest, public testing::WithParamInterface<std::string> {};

TEST_P(ConvertSchedFile, TextToBinaryToTextThroughFilesGivesTheSameTextBack) {
  const fs::path original = sched_dir() / GetParam();
  const std::string bin = path("scenario.bin");
  const std::string back = path("back.sched");
  const CliResult to_bin = cli({"convert", original.string(), bin});
  ASSERT_EQ(to_bin.code, kExitOk) << to_bin.err;
  EXPECT_EQ(to_bin.err, "");
  const CliResult to_text = cli({"convert", bin, back});
  ASSERT_EQ(to_text.code, kExitOk) << to_text.err;
  EXPECT_EQ(to_text.err, "") << "the binary that convert wrote is not canonical";
  EXPECT_EQ(read_text(back), scenario_part(read_text(original)));
}

TEST_P(ConvertSchedFile, BinaryIsTheEncodingOfTheParsedScenario) {
  const fs::path original = sched_dir() / GetParam();
  ASSERT_EQ(cli({"convert", original.string(), path("s.bin")}).code, kExitOk);
  auto parsed = fuzz::parse_sched(read_text(original), GetParam());
  ASSERT_TRUE(std::holds_alternative<fuzz::SchedFile>(parsed));
  EXPECT_EQ(read_bytes(path("s.bin")), fuzz::encode_scenario(std::get<fuzz::SchedFile>(parsed).scenario));
}

TEST_P(ConvertSchedFile, TextToTextKeepsACanonicalFileAsItIs) {
  const fs::path original = sched_dir() / GetParam();
  ASSERT_EQ(cli({"convert", original.string(), path("same.sched")}).code, kExitOk);
  EXPECT_EQ(read_text(path("same.sched")), read_text(original));
}

INSTANTIATE_TEST_SUITE_P(Files, ConvertSchedFile, testing::ValuesIn(sched_files()),
                         [](const testing::TestParamInfo<std::string>& info) { return param_name(info.param); });

using ConvertCommand = CliTest;

TEST_F(ConvertCommand, TestsSchedHoldsFilesToConvert) { EXPECT_FALSE(sched_files().empty()) << sched_dir(); }

TEST_F(ConvertCommand, AnyBytesConvertToTextThatConvertsBackToTheirCanonicalEncoding) {
  std::mt19937 rng(5150);
  for (int i = 0; i < 200; ++i) {
    std::vector<uint8_t> bytes(rng() % 64);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    write_file(path("in"), bytes);
    ASSERT_EQ(cli({"convert", path("in"), path("t.sched")}).code, kExitOk);
    ASSERT_EQ(cli({"convert", path("t.sched"), path("out.bin")}).code, kExitOk);
    static const uint8_t kNone = 0;
    const fuzz::Scenario decoded = fuzz::decode_scenario(bytes.empty() ? &kNone : bytes.data(), bytes.size());
    EXPECT_EQ(read_bytes(path("out.bin")), fuzz::encode_scenario(fuzz::canonical_form(decoded))) << "input " << i;
  }
}

TEST_F(ConvertCommand, BinaryToBinaryWritesTheCanonicalForm) {
  // Header bit 7 is reserved, switch-list reads no PCT depth, and the
  // selector 11 reduces to 0 (fault): none of it is in the canonical encoding.
  const std::vector<uint8_t> bytes{0x80, 0x01, 0x00, 11, 0x00, 0x00, 0x00, 0x00};
  write_file(path("in"), bytes);
  const CliResult r = cli({"convert", path("in"), path("out")});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const std::vector<uint8_t> out = read_bytes(path("out"));
  const fuzz::Scenario decoded = fuzz::decode_scenario(bytes.data(), bytes.size());
  EXPECT_EQ(out, fuzz::encode_scenario(fuzz::canonical_form(decoded)));
  EXPECT_NE(out, bytes);
  EXPECT_EQ(fuzz::decode_scenario(out.data(), out.size()), fuzz::canonical_form(decoded));
}

TEST_F(ConvertCommand, NonCanonicalBinaryGetsANoteWithTheFirstDifferingOffset) {
  // A canonical switch-list header (PCT depth bits at the default, 3) and
  // at offset 3 the selector 11, canonically 0.
  write_file(path("in"), std::vector<uint8_t>{0x40, 0x01, 0x00, 11, 0x00, 0x00, 0x00, 0x00});
  const CliResult r = cli({"convert", path("in"), path("out.sched")});
  ASSERT_EQ(r.code, kExitOk);
  EXPECT_NE(r.err.find(path("in") + ": note: not in canonical form"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("from offset 3"), std::string::npos) << r.err;
}

TEST_F(ConvertCommand, BinaryOfAFormatVersionThisBuildDoesNotReadIsRefused) {
  write_file(path("v99"), std::vector<uint8_t>{0xc0, 99, 99 ^ fuzz::kVersionCheck, 0x01, 0x00, 0x00, 0x00, 0x00});
  const CliResult r = cli({"convert", path("v99"), path("out.sched")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(r.err.starts_with(path("v99") + ": error: byte 1: binary format version 99")) << r.err;
  EXPECT_FALSE(fs::exists(path("out.sched")));
}

TEST_F(ConvertCommand, CanonicalBinaryConvertsWithoutANote) {
  ASSERT_EQ(cli({"convert", (sched_dir() / sched_files().at(0)).string(), path("s.bin")}).code, kExitOk);
  const CliResult r = cli({"convert", path("s.bin"), path("s.sched")});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.err, "");
}

TEST_F(ConvertCommand, ToOverridesTheOutputExtension) {
  const std::string s1 = (sched_dir() / sched_files().at(0)).string();
  ASSERT_EQ(cli({"convert", "--to", "sched", s1, path("text.bin")}).code, kExitOk);
  EXPECT_EQ(read_text(path("text.bin")), read_text(s1));
  ASSERT_EQ(cli({"convert", "--to", "bin", s1, path("bytes.sched")}).code, kExitOk);
  ASSERT_EQ(cli({"convert", s1, path("bytes.bin")}).code, kExitOk);
  EXPECT_EQ(read_bytes(path("bytes.sched")), read_bytes(path("bytes.bin")));
}

TEST_F(ConvertCommand, FromReadsAFileWhateverItsExtension) {
  const std::string s1 = (sched_dir() / sched_files().at(0)).string();
  write_file(path("text.txt"), read_text(s1));
  const CliResult r = cli({"convert", "--from", "sched", path("text.txt"), path("out.sched")});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(read_text(path("out.sched")), read_text(s1));
}

TEST_F(ConvertCommand, TextWithoutTheSchedExtensionIsReadAsBinaryWithAWarning) {
  write_file(path("text.txt"), read_text(sched_dir() / sched_files().at(0)));
  const CliResult r = cli({"convert", path("text.txt"), path("out.sched")});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.err.find(path("text.txt") + ": warning: this looks like .sched text"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--from sched"), std::string::npos) << r.err;
}

TEST_F(ConvertCommand, DashWritesTextToStandardOutput) {
  const std::string s1 = (sched_dir() / sched_files().at(0)).string();
  const CliResult r = cli({"convert", s1, "-"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, read_text(s1));
}

TEST_F(ConvertCommand, ParseErrorNamesFileLineAndColumnAndExits2) {
  write_file(path("bad.sched"),
             "# a typo in T0's operation\n"
             "vmafuzz-sched 1\n"
             "mm 0 vmas 0\n"
             "task T0 mm 0\n"
             "  mprotectt 0\n"
             "task T1 mm 0\n"
             "  fault 0\n"
             "schedule switch-list\n");
  const CliResult r = cli({"convert", path("bad.sched"), path("out.bin")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, path("bad.sched") + ":5:3: error: expected an operation name, found 'mprotectt'\n");
  EXPECT_FALSE(fs::exists(path("out.bin"))) << "no output for bad input";
}

TEST_F(ConvertCommand, ScheduleErrorNamesItsColumn) {
  write_file(path("bad.sched"),
             "vmafuzz-sched 1\n"
             "mm 0 vmas 0\n"
             "task T0 mm 0\n"
             "  fault 0\n"
             "task T1 mm 0\n"
             "  fault 0\n"
             "schedule switch-list\n"
             "  run 49 then switch T1\n");
  const CliResult r = cli({"convert", path("bad.sched"), path("out.bin")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, path("bad.sched") + ":8:7: error: expected a run length 1 to 48, found '49'\n");
}

TEST_F(ConvertCommand, BinaryReadAsTextFailsAtLineOneColumnOne) {
  write_file(path("crash"), std::vector<uint8_t>{0x00, 0x01, 0x00, 0x00});
  const CliResult r = cli({"convert", "--from", "sched", path("crash"), path("out.sched")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(r.err.starts_with(path("crash") + ":1:1: error: expected 'vmafuzz-sched 1'")) << r.err;
}

TEST_F(ConvertCommand, MissingInputNamesTheFileAndExits2) {
  const CliResult r = cli({"convert", path("missing.sched"), path("out.bin")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, path("missing.sched") + ": error: cannot read: No such file or directory\n");
}

TEST_F(ConvertCommand, DirectoryAsInputIsAnError) {
  const CliResult r = cli({"convert", dir().string(), path("out.bin")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, dir().string() + ": error: is a directory\n");
}

TEST_F(ConvertCommand, UnwritableOutputNamesTheFileAndExits2) {
  const std::string out = path("no/such/dir/out.bin");
  const CliResult r = cli({"convert", (sched_dir() / sched_files().at(0)).string(), out});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(r.err.starts_with(out + ": error: cannot write")) << r.err;
}

TEST_F(ConvertCommand, UnknownFormatNameIsAUsageError) {
  const CliResult r = cli({"convert", "--to", "json", (sched_dir() / sched_files().at(0)).string(), path("o")});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("--to"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("o")));
}

TEST_F(ConvertCommand, MissingOperandIsAUsageError) {
  const CliResult r = cli({"convert", (sched_dir() / sched_files().at(0)).string()});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("OUT is required"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vmafuzz::repro::test
