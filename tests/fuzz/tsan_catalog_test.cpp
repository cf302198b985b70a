// tsan_catalog_test.cpp - the catalogued bugs ThreadSanitizer sees.
//
// B06 (seq_end_without_release) and B08 (mprotect_without_vma_write_lock)
// change no value any task reads: the model's ghost oracles and the
// scheduler pass both, and only the happens-before race oracle
// (race.payload, fuzz/hb_tracker.h) reports them in other builds. What they
// remove is a happens-before edge between the writer's change of the VMA
// payload (modify_payload) and a reader's read of it (read_payload). Task
// fibers switch without synchronising (fuzz/fiber.h), so under TSan only the
// model's own atomics order them, and the missing edge is a data race.
//
// B10 (reader_checks_seq_before_increment) is found by an oracle
// (exclusion.read_and_write_locked), but the invariant it breaks, I7, is one
// TSan checks on the payload too: in its scenario the reader reads the
// payload its writer changed under the write lock it missed. Its file is
// replayed here as well, so each invariant's TSan check is shown once.
//
// Each test replays one of those files in a child process (the death-test
// machinery re-executes this binary), once with the bug, where TSan must
// report the race between those two functions, and once without, where it
// must report nothing. TSan's halt_on_error (tests/sanitizer_options.cpp)
// ends the child at its first report.
//
// Built and registered only when the build uses -fsanitize=thread
// (tests/CMakeLists.txt); anywhere else it would prove nothing, so it refuses
// to compile rather than pass without testing anything.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <variant>

#include "core/inject.h"
#include "fuzz/execution.h"
#include "core/sanitizer_hooks.h"
#include "fuzz/sched_text.h"

#ifndef VMAFUZZ_TSAN
#error "tsan_catalog_test needs -fsanitize=thread (tests/CMakeLists.txt builds it only with VMAFUZZ_SANITIZE thread)"
#endif

#ifndef VMAFUZZ_SCHED_DIR
#error "VMAFUZZ_SCHED_DIR must name the directory of the .sched regression scenarios"
#endif

namespace vmafuzz::fuzz {
namespace {

namespace fs = std::filesystem;

// Exit codes of the child besides TSan's own (66 by default, or the abort of
// halt_on_error): the file did not load, or the run did not pass.
constexpr int kNoFile = 3;
constexpr int kNotPass = 4;

// In the child: run the file's scenario, with `bug` injected if given, and
// exit 0 if the run passed. TSan ends the child first if it reports a race.
[[noreturn]] void replay(const std::string& file, std::optional<core::Bug> bug) {
  std::ifstream in(fs::path(VMAFUZZ_SCHED_DIR) / file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = parse_sched(text.str(), file);
  if (!in || std::holds_alternative<SchedError>(parsed)) std::exit(kNoFile);
  RunOptions options;
  if (bug) options.inject.add(*bug);
  Execution exec;
  const ExecutionResult r = exec.run(std::get<SchedFile>(parsed).scenario, options);
  std::exit(r.verdict == Verdict::kPass ? 0 : kNotPass);
}

// stderr holds every one of the strings / none of them.
class StderrHas : public testing::MatcherInterface<const std::string&> {
 public:
  StderrHas(std::vector<std::string> all, bool present) : all_(std::move(all)), present_(present) {}
  bool MatchAndExplain(const std::string& out, testing::MatchResultListener* listener) const override {
    for (const std::string& s : all_) {
      if ((out.find(s) != std::string::npos) != present_) {
        *listener << (present_ ? "lacks \"" : "contains \"") << s << '"';
        return false;
      }
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << (present_ ? "contains each of" : "contains none of");
    for (const std::string& s : all_) *os << " \"" << s << '"';
  }

 private:
  std::vector<std::string> all_;
  bool present_;
};

// The race: the writer's payload change against the reader's payload read.
// Both accesses name their task as .sched does, with its operation (the
// fibers' TSan names: "T<k> <op>#<i>" in an operation, "T<k> after
// <op>#<i>" once it ended, as the name is printed as it is at the report),
// and the ==vmafuzz== line ties the report to the step and the reporting
// task (fuzz/sanitizer_context.cpp). In every file T1 writes in mprotect and
// T0 reads in lock_vma_under_rcu (in B08 the write is the second access).
testing::Matcher<const std::string&> PayloadRace() {
  return testing::MakeMatcher(new StderrHas({"ThreadSanitizer: data race", "modify_payload", "read_payload",
                                             "mprotect#0' (tid=", "'T1 ", "lock_vma_under_rcu#0' (tid=", "'T0 ",
                                             "==vmafuzz== ThreadSanitizer report at step "},
                                            true));
}
testing::Matcher<const std::string&> NoTsanReport() {
  return testing::MakeMatcher(new StderrHas({"ThreadSanitizer", "vmafuzz fiber"}, false));
}

bool ExitedNonZero(int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }

class TsanCatalogTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(TsanCatalogTest, SeqEndWithoutReleaseIsADataRaceOnThePayload) {
  EXPECT_EXIT(replay("B06_seq_end_without_release.sched", core::Bug::seq_end_without_release), ExitedNonZero,
              PayloadRace());
}

TEST_F(TsanCatalogTest, SeqEndWithReleaseOrdersThePayload) {
  EXPECT_EXIT(replay("B06_seq_end_without_release.sched", std::nullopt), testing::ExitedWithCode(0), NoTsanReport());
}

TEST_F(TsanCatalogTest, MprotectWithoutVmaWriteLockIsADataRaceOnThePayload) {
  EXPECT_EXIT(replay("B08_mprotect_without_vma_write_lock.sched", core::Bug::mprotect_without_vma_write_lock),
              ExitedNonZero, PayloadRace());
}

TEST_F(TsanCatalogTest, MprotectWithVmaWriteLockOrdersThePayload) {
  EXPECT_EXIT(replay("B08_mprotect_without_vma_write_lock.sched", std::nullopt), testing::ExitedWithCode(0),
              NoTsanReport());
}

TEST_F(TsanCatalogTest, ReaderCheckingSeqBeforeIncrementIsADataRaceOnThePayload) {
  EXPECT_EXIT(replay("B10_reader_checks_seq_before_increment.sched", core::Bug::reader_checks_seq_before_increment),
              ExitedNonZero, PayloadRace());
}

TEST_F(TsanCatalogTest, ReaderCheckingSeqUnderItsReferenceOrdersThePayload) {
  EXPECT_EXIT(replay("B10_reader_checks_seq_before_increment.sched", std::nullopt), testing::ExitedWithCode(0),
              NoTsanReport());
}

}  // namespace
}  // namespace vmafuzz::fuzz
