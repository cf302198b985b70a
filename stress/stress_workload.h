// stress_workload.h - real threads hammering the per-VMA lock on the native platform.
//
// Readers fault through lock_vma_under_rcu() (falling back to mmap_read_lock),
// writers of two mms write-lock, modify, detach, free, allocate and attach
// VMAs - recycled objects cross between the mms through the LIFO cache - and
// fork-like duplicate them; one writer is killed part way through and must
// leave through its killable paths. The writers run the kernel callers of
// core/callers.h (the ones the fuzz scenarios run), each step under one
// killable mmap write lock; the readers are the workload's own, checking
// faults. Bounded by operation counts, never by time. Shared by
// tests/stress/native_stress_test.cpp (the gtest) and stress/native_hammer.cpp
// (the same rounds until a finding); no gtest here: failed checks are
// counters in Shared, judged by the caller.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/kernel.h"
#include "core/mm.h"
#include "core/native_platform.h"
#include "core/vma.h"

namespace vmafuzz::stress {

constexpr int kReaders = 3;
constexpr int kMaxKilledWriterOps = 1000000;

struct StressConfig {
  int faults_per_reader;
  int ops_per_writer;         // writer 0; writer 1 runs until killed (at most kMaxKilledWriterOps)
  int kill_writer_after_ops;  // SIGKILL writer 1 once it has done this many ops
  // Honour injected bugs whose injection point is a kernel caller
  // (core/callers.h), not the lock: B08, mprotect_without_vma_write_lock,
  // passed to mprotect_vma(). Off, the writers stay correct callers whatever
  // the Kernel has injected (the lock's own bugs always apply).
  bool caller_bugs = false;
};

// Per-thread RNG seeds (the gtest's fixed ones by default).
struct StressSeeds {
  uint32_t writer[2] = {101, 202};
  uint32_t reader[kReaders] = {1, 2, 3};
};

struct Shared {
  core::mm_struct* mm[2] = {nullptr, nullptr};
  // Payload checks: each counts failures; the correct model keeps them at 0.
  std::atomic<int> torn_reads{0};
  std::atomic<int> wrong_range{0};
  std::atomic<int> wrong_mm{0};
  std::atomic<int> torn_at_downgrade{0};   // the writer's own read after mmap_write_downgrade()
  std::atomic<int> refcnt_after_detach{0};  // vm_refcnt not 0 after vma_mark_detached() (a CallerObserver)
  // A fault returned to "user space" inside an RCU read-side section: what
  // lockdep_sys_exit() ("lock held when returning to user space!") reports.
  std::atomic<int> rcu_held_after_fault{0};

  std::atomic<uint64_t> faults_locked{0};
  std::atomic<uint64_t> faults_fallback{0};
  std::atomic<int> readers_warm{0};  // writers start once every reader has warmed up
  std::atomic<int> writer1_ops{0};
  std::atomic<int> eintr_mmap_lock{0};
  std::atomic<int> eintr_vma_write{0};
  // Bumped per fault and per writer op when set: a watchdog's heartbeat.
  std::atomic<uint64_t>* progress = nullptr;
};

// Allocate both mms; slots 0 .. core::kSlots-2 start mapped, the last one empty.
// Context: inside a KernelScope, no other task running yet.
void setup_mms(Shared& s);

struct RoundResult {
  int writer_ops[2] = {0, 0};
};

// One round: two writers (writer 1 SIGKILLed after cfg.kill_writer_after_ops),
// kReaders readers and the killer, all joined before returning. Every task
// tears its mm's VMAs down, so the caller can check the pools afterwards.
RoundResult run_round(core::NativePlatform& platform, Shared& s, const StressConfig& cfg,
                      const StressSeeds& seeds = {});

// The first failed payload check as text, or "" (safe while a round runs).
std::string payload_failure(const Shared& s);

// The first broken end-of-round expectation (op counts, leaked VMA objects,
// locks left held, fault totals) as text, or "". Context: after run_round(),
// in the round's KernelScope.
std::string teardown_failure(core::Kernel& k, const Shared& s, const StressConfig& cfg, const RoundResult& r);

}  // namespace vmafuzz::stress
