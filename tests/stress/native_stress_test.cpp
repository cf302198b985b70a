// native_stress_test.cpp - real threads hammering the per-VMA lock on the native platform.
//
// The workload (stress/stress_workload.h): readers fault, writers of
// two mms modify, detach, recycle and fork-like duplicate VMAs, and one
// writer is killed part way through. Bounded by operation counts, never by
// time. Under the tsan preset this is the "kernel developer's baseline": it
// must finish with zero ThreadSanitizer reports and zero core reports
// (bench/native_hammer runs the same rounds until a finding).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <vector>

#include "core/kernel.h"
#include "core/mmap_lock.h"
#include "core/native_platform.h"
#include "stress/stress_workload.h"

namespace vmafuzz::core {
namespace {

using stress::kMaxKilledWriterOps;
using stress::kReaders;
using stress::StressConfig;

class CollectingSink final : public ReportSink {
 public:
  void on_report(const CoreReport& r) override {
    std::lock_guard<std::mutex> g(mu_);
    reports_.push_back(r);
  }
  std::vector<CoreReport> reports() {
    std::lock_guard<std::mutex> g(mu_);
    return reports_;
  }

 private:
  std::mutex mu_;
  std::vector<CoreReport> reports_;
};

void run_stress(const StressConfig& cfg) {
  NativePlatform platform;
  CollectingSink sink;
  Kernel k(platform, &sink);
  KernelScope scope(k);
  stress::Shared s;
  stress::setup_mms(s);
  const stress::RoundResult r = stress::run_round(platform, s, cfg);
  const int* writer_ops = r.writer_ops;

  // The workload's own checks (payload invariants, detach).
  EXPECT_EQ(s.torn_reads.load(), 0);
  EXPECT_EQ(s.wrong_range.load(), 0);
  EXPECT_EQ(s.wrong_mm.load(), 0);
  EXPECT_EQ(s.torn_at_downgrade.load(), 0);
  EXPECT_EQ(s.refcnt_after_detach.load(), 0);
  EXPECT_EQ(s.rcu_held_after_fault.load(), 0);
  EXPECT_EQ(writer_ops[0], cfg.ops_per_writer);
  EXPECT_GE(writer_ops[1], cfg.kill_writer_after_ops);
  EXPECT_LT(writer_ops[1], kMaxKilledWriterOps) << "writer 1 never noticed its SIGKILL";
  for (const CoreReport& rep : sink.reports()) {
    ADD_FAILURE() << "core report: " << report_site_info(rep.site).name << " (pid " << rep.pid << ")";
  }
  // Both mms were torn down: every VMA object is back in the cache, detached.
  for (int i = 0; i < k.vm_area_cache_size(); ++i) {
    vm_area_struct* vma = k.vm_area_cache_object(i);
    EXPECT_TRUE(vma->cache_free.load()) << "VMA object " << i << " leaked";
    EXPECT_EQ(vma->vm_refcnt.refs.peek(), 0) << "VMA object " << i;
  }
  for (int m = 0; m < 2; ++m) {
    EXPECT_EQ(vma_tree_peek(s.mm[m])->nr_entries, 0);
    EXPECT_EQ(s.mm[m]->mm_lock_seq.sequence.peek() % 2, 0u) << "mm " << m << " left write-locked";
    EXPECT_EQ(s.mm[m]->mmap_lock.count.peek(), 0) << "mm " << m << " mmap_lock left held";
  }
  // The warm-up guarantees both paths; the totals must add up.
  EXPECT_GE(s.faults_locked.load(), static_cast<uint64_t>(kReaders));
  EXPECT_GE(s.faults_fallback.load(), static_cast<uint64_t>(kReaders));
  EXPECT_EQ(s.faults_locked.load() + s.faults_fallback.load(), static_cast<uint64_t>(kReaders) * cfg.faults_per_reader);
  // The hammer's summaries of the same checks agree.
  EXPECT_EQ(stress::payload_failure(s), "");
  EXPECT_EQ(stress::teardown_failure(k, s, cfg, r), "");
  std::printf("stress: %llu faults under VMA locks, %llu fallbacks; writer ops %d and %d (killed; -EINTR from "
              "mmap_write_lock_killable %d, vma_start_write_killable %d)\n",
              static_cast<unsigned long long>(s.faults_locked.load()),
              static_cast<unsigned long long>(s.faults_fallback.load()), writer_ops[0], writer_ops[1],
              s.eintr_mmap_lock.load(), s.eintr_vma_write.load());
}

TEST(NativeStress, RealThreadsFaultWriteDetachRecycleWithoutReports) {
  run_stress(StressConfig{.faults_per_reader = 20000, .ops_per_writer = 3000, .kill_writer_after_ops = 2000});
}

TEST(NativeStress, KilledWriterLeavesThroughKillablePathsEarly) {
  run_stress(StressConfig{.faults_per_reader = 5000, .ops_per_writer = 3000, .kill_writer_after_ops = 10});
}

}  // namespace
}  // namespace vmafuzz::core
