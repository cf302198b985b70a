// refcount_test.cpp - refcount_t: the kernel's results, saturation and refcount_warn_saturate() reports (docs/MODEL.md, invariant I1).
#include <gtest/gtest.h>

#include <climits>
#include <vector>

#include "core/refcount.h"
#include "core/vma.h"
#include "tests/core/core_fixture.h"

namespace vmafuzz::core {
namespace {

using testing::kFlag;
using testing::kLimit;
using testing::kSaturated;

class Refcount : public testing::CoreTest {
 protected:
  refcount_t r;
  int value() const { return r.refs.peek(); }
};

TEST_F(Refcount, ReadReturnsTheValueAsUnsigned) {
  refcount_set(&r, 7);
  EXPECT_EQ(refcount_read(&r), 7u);
  refcount_set_release(&r, 9);
  EXPECT_EQ(refcount_read_acquire(&r), 9u);
  refcount_set(&r, REFCOUNT_SATURATED);
  EXPECT_EQ(refcount_read(&r), 0xC0000000u);
  EXPECT_EQ(kSaturated, 0xC0000000u);
}

TEST_F(Refcount, AddNotZeroFailsOnZeroWithoutStoring) {
  int old = -1;
  EXPECT_FALSE(__refcount_add_not_zero(1, &r, &old));
  EXPECT_EQ(old, 0);
  EXPECT_EQ(value(), 0);
  EXPECT_FALSE(refcount_add_not_zero(VM_REFCNT_EXCLUDE_READERS_FLAG, &r));
  EXPECT_EQ(value(), 0);
}

TEST_F(Refcount, AddNotZeroAddsAndReturnsTheOldValue) {
  refcount_set(&r, 3);
  int old = -1;
  EXPECT_TRUE(__refcount_add_not_zero(VM_REFCNT_EXCLUDE_READERS_FLAG, &r, &old));
  EXPECT_EQ(old, 3);
  EXPECT_EQ(refcount_read(&r), kFlag + 3);
}

TEST_F(Refcount, AddNotZeroPastIntMaxSaturatesAndReports) {
  refcount_set(&r, INT_MAX);
  int old = 0;
  EXPECT_TRUE(__refcount_add_not_zero(1, &r, &old));
  EXPECT_EQ(old, INT_MAX);
  EXPECT_EQ(value(), REFCOUNT_SATURATED);
  const std::vector<CoreReport> reports = take_reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].site, ReportSite::refcount_add_not_zero_ovf);
  EXPECT_EQ(reports[0].object, &r);
  EXPECT_EQ(reports[0].pid, main_task()->pid);
}

// A writer adding FLAG to a saturated vm_refcnt wraps it to 0 before the
// saturation check restores REFCOUNT_SATURATED: the add "succeeds".
TEST_F(Refcount, AddNotZeroOnSaturatedCounterReportsAndStaysSaturated) {
  refcount_set(&r, REFCOUNT_SATURATED);
  EXPECT_TRUE(refcount_add_not_zero(VM_REFCNT_EXCLUDE_READERS_FLAG, &r));
  EXPECT_EQ(value(), REFCOUNT_SATURATED);
  expect_reports({ReportSite::refcount_add_not_zero_ovf});
}

TEST_F(Refcount, LimitedAcquireFailsOnZeroWithOldZero) {
  int old = -1;
  EXPECT_FALSE(__refcount_inc_not_zero_limited_acquire(&r, &old, VM_REFCNT_LIMIT));
  EXPECT_EQ(old, 0);
  EXPECT_EQ(value(), 0);
}

TEST_F(Refcount, LimitedAcquireIncrementsUpToTheLimitAndNoFurther) {
  refcount_set(&r, VM_REFCNT_LIMIT - 1);
  int old = 0;
  EXPECT_TRUE(__refcount_inc_not_zero_limited_acquire(&r, &old, VM_REFCNT_LIMIT));
  EXPECT_EQ(old, VM_REFCNT_LIMIT - 1);
  EXPECT_EQ(refcount_read(&r), kLimit);

  old = 0;
  EXPECT_FALSE(__refcount_inc_not_zero_limited_acquire(&r, &old, VM_REFCNT_LIMIT));
  EXPECT_EQ(old, VM_REFCNT_LIMIT);        // non-zero: not "detached"
  EXPECT_EQ(refcount_read(&r), kLimit);  // no store
}

TEST_F(Refcount, LimitedAcquireRefusesAnAdditionThatWouldPassTheLimit) {
  refcount_set(&r, 10);
  int old = 0;
  EXPECT_FALSE(__refcount_add_not_zero_limited_acquire(5, &r, &old, 14));
  EXPECT_EQ(old, 10);
  EXPECT_EQ(value(), 10);
  EXPECT_TRUE(__refcount_add_not_zero_limited_acquire(4, &r, &old, 14));
  EXPECT_EQ(value(), 14);
}

// docs/MODEL.md: "FLAG set => readers fail", with a non-zero old value.
TEST_F(Refcount, LimitedAcquireFailsWheneverTheExcludeReadersFlagIsSet) {
  for (unsigned v : {kFlag, kFlag + 1, kFlag + 2, kFlag + 1000}) {
    refcount_set(&r, static_cast<int>(v));
    int old = 0;
    EXPECT_FALSE(__refcount_inc_not_zero_limited_acquire(&r, &old, VM_REFCNT_LIMIT)) << v;
    EXPECT_EQ(static_cast<unsigned>(old), v);
    EXPECT_EQ(refcount_read(&r), v);
  }
}

// docs/MODEL.md: nothing in the VMA code checks for saturation, so a reader's
// limited increment on a saturated counter "succeeds" (and reports).
TEST_F(Refcount, LimitedAcquireOnSaturatedCounterSucceedsAndReports) {
  refcount_set(&r, REFCOUNT_SATURATED);
  int old = 0;
  EXPECT_TRUE(__refcount_inc_not_zero_limited_acquire(&r, &old, VM_REFCNT_LIMIT));
  EXPECT_EQ(old, REFCOUNT_SATURATED);
  EXPECT_EQ(value(), REFCOUNT_SATURATED);
  expect_reports({ReportSite::refcount_add_not_zero_ovf});
}

TEST_F(Refcount, IncOnZeroReportsAdditionOnZeroAndSaturates) {
  refcount_inc(&r);
  EXPECT_EQ(value(), REFCOUNT_SATURATED);
  expect_reports({ReportSite::refcount_add_uaf});
}

TEST_F(Refcount, IncAddsOneOnANonZeroCount) {
  refcount_set(&r, 1);
  refcount_inc(&r);
  refcount_add(3, &r);
  EXPECT_EQ(value(), 5);
}

TEST_F(Refcount, AddPastIntMaxReportsOverflowAndSaturates) {
  refcount_set(&r, INT_MAX - 1);
  refcount_add(2, &r);
  EXPECT_EQ(value(), REFCOUNT_SATURATED);
  expect_reports({ReportSite::refcount_add_ovf});
}

TEST_F(Refcount, IncOnSaturatedCounterReportsOverflowAndStaysSaturated) {
  refcount_set(&r, REFCOUNT_SATURATED);
  refcount_inc(&r);
  EXPECT_EQ(value(), REFCOUNT_SATURATED);
  expect_reports({ReportSite::refcount_add_ovf});
}

TEST_F(Refcount, SubAndTestIsTrueOnlyWhenTheCountReachesZero) {
  refcount_set(&r, 3);
  int old = 0;
  EXPECT_FALSE(__refcount_sub_and_test(1, &r, &old));
  EXPECT_EQ(old, 3);
  EXPECT_EQ(value(), 2);
  EXPECT_TRUE(__refcount_sub_and_test(2, &r, &old));
  EXPECT_EQ(old, 2);
  EXPECT_EQ(value(), 0);
  refcount_set(&r, 1);
  EXPECT_TRUE(refcount_dec_and_test(&r));
  EXPECT_EQ(value(), 0);
}

TEST_F(Refcount, DecAndTestOnZeroReportsUnderflowAndSaturates) {
  int old = -1;
  EXPECT_FALSE(__refcount_dec_and_test(&r, &old));
  EXPECT_EQ(old, 0);
  EXPECT_EQ(value(), REFCOUNT_SATURATED);
  expect_reports({ReportSite::refcount_sub_uaf});
}

TEST_F(Refcount, SubtractingMoreThanHeldReportsUnderflowAndSaturates) {
  refcount_set(&r, 2);
  EXPECT_FALSE(refcount_sub_and_test(3, &r));
  EXPECT_EQ(value(), REFCOUNT_SATURATED);
  expect_reports({ReportSite::refcount_sub_uaf});
}

TEST_F(Refcount, DecrementOfSaturatedCounterReportsUnderflowAndStaysSaturated) {
  refcount_set(&r, REFCOUNT_SATURATED);
  EXPECT_FALSE(refcount_dec_and_test(&r));
  EXPECT_EQ(value(), REFCOUNT_SATURATED);
  expect_reports({ReportSite::refcount_sub_uaf});
}

TEST_F(Refcount, WarnSaturateStoresSaturatedAndReportsTheSiteOfEachType) {
  const std::pair<refcount_saturation_type, ReportSite> cases[] = {
      {REFCOUNT_ADD_NOT_ZERO_OVF, ReportSite::refcount_add_not_zero_ovf},
      {REFCOUNT_ADD_OVF, ReportSite::refcount_add_ovf},
      {REFCOUNT_ADD_UAF, ReportSite::refcount_add_uaf},
      {REFCOUNT_SUB_UAF, ReportSite::refcount_sub_uaf},
      {REFCOUNT_DEC_LEAK, ReportSite::refcount_dec_leak},
  };
  for (const auto& [type, site] : cases) {
    refcount_set(&r, 42);
    refcount_warn_saturate(&r, type);
    EXPECT_EQ(value(), REFCOUNT_SATURATED);
    const std::vector<CoreReport> reports = take_reports();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].site, site);
    EXPECT_EQ(reports[0].object, &r);
    EXPECT_EQ(report_site_info(site).report_class, ReportClass::kRefcount);
  }
}

// docs/MODEL.md: REFCOUNT_SATURATED has bit 30 set, so to the VMA lock a
// saturated vm_refcnt looks like an excluding writer.
TEST_F(Refcount, SaturatedValueCarriesTheExcludeReadersFlag) {
  EXPECT_NE(kSaturated & kFlag, 0u);
  EXPECT_EQ(kFlag, 0x40000000u);
  EXPECT_EQ(kLimit, 0x3FFFFFFFu);
  EXPECT_EQ(REFCOUNT_MAX, INT_MAX);
}

}  // namespace
}  // namespace vmafuzz::core
