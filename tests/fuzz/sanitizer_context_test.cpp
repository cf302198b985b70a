// sanitizer_context_test.cpp - an AddressSanitizer or UBSan report made while
// a task runs is tied to the run: the hooks of fuzz/sanitizer_context.cpp
// print "==vmafuzz== <sanitizer> report at step N, task Tk in <op> (...)"
// (ThreadSanitizer's is checked by tsan_catalog_test on real races).
//
// The model has no memory error or UB to find on purpose, so the error is
// made by a feature sink: FeatureSink::add() is called from inside a task's
// access (the feature recorder), exactly where a sanitizer would stop the
// model. Only the asan preset (ASan + UBSan, no recovery) builds this test.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>

#include "core/sanitizer_hooks.h"
#include "fuzz/execution.h"
#include "fuzz/features.h"
#include "tests/fuzz/sched_dir.h"

#if !defined(VMAFUZZ_ASAN)
#error "sanitizer_context_test needs the asan preset (AddressSanitizer + UBSan)"
#endif

namespace vmafuzz::fuzz {
namespace {

// Misbehaves at the sink's n-th feature, inside a task's access.
class MisbehavingSink final : public FeatureSink {
 public:
  enum class Kind { kHeapOverflow, kSignedOverflow };
  MisbehavingSink(Kind kind, int n) : kind_(kind), n_(n) {}
  void add(uint32_t feature) override {
    if (++calls_ != n_) return;
    if (kind_ == Kind::kHeapOverflow) {
      volatile char* p = new char[4];
      sink_ = p[4 + (feature & 0)];  // one past the end
      delete[] p;
    } else {
      volatile int big = INT_MAX;
      sink_ = static_cast<char>(big + 1);  // signed overflow
    }
  }

 private:
  Kind kind_;
  int n_;
  int calls_ = 0;
  volatile char sink_ = 0;
};

void run_misbehaving(MisbehavingSink::Kind kind) {
  const Scenario sc = load_sched_scenario("B09_detach_no_wait.sched");
  MisbehavingSink sink(kind, 5);
  RunOptions options;
  options.features = &sink;
  Execution().run(sc, options);
}


TEST(SanitizerContextDeathTest, AddressSanitizerReportNamesStepTaskAndOperation) {
  EXPECT_DEATH(run_misbehaving(MisbehavingSink::Kind::kHeapOverflow),
               "==vmafuzz== AddressSanitizer report at step [0-9]+, task T[0-9] in [a-z_-]+");
}

TEST(SanitizerContextDeathTest, UndefinedBehaviorSanitizerReportNamesStepTaskAndOperation) {
  EXPECT_DEATH(run_misbehaving(MisbehavingSink::Kind::kSignedOverflow),
               "==vmafuzz== UndefinedBehaviorSanitizer report at step [0-9]+, task T[0-9] in [a-z_-]+");
}

// Outside a run the hooks say so instead of naming a stale task.
TEST(SanitizerContextDeathTest, AReportOutsideARunSaysSo) {
  EXPECT_DEATH(
      {
        volatile char* p = new char[4];
        volatile char c = p[4];
        (void)c;
      },
      "==vmafuzz== AddressSanitizer report outside a run");
}

}  // namespace
}  // namespace vmafuzz::fuzz
