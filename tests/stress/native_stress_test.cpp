// native_stress_test.cpp - real threads hammering the per-VMA lock on the native platform.
//
// Readers fault through lock_vma_under_rcu() (falling back to mmap_read_lock),
// writers of two mms write-lock, modify, detach, free, allocate and attach
// VMAs - recycled objects cross between the mms through the LIFO cache - and
// fork-like duplicate them; one writer is killed part way through and must
// leave through its killable paths. Bounded by operation counts, never by
// time. Under the tsan preset this is the "kernel developer's baseline": it
// must finish with zero ThreadSanitizer reports and zero core reports.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/kernel.h"
#include "core/mmap_lock.h"
#include "core/native_platform.h"

namespace vmafuzz::core {
namespace {

constexpr unsigned long kPage = 0x1000;
constexpr int kSlots = 8;  // each mm maps at most one VMA per page-sized slot

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

// Payload invariant the writers keep under the VMA write lock; a reader that
// sees it broken saw a half-done modification.
uintptr_t expected_anon_vma(const vm_area_struct* vma) { return vma->vm_flags * 3 + vma->vm_start; }

struct StressConfig {
  int faults_per_reader;
  int ops_per_writer;         // writer 0; writer 1 runs until killed (at most kMaxKilledWriterOps)
  int kill_writer_after_ops;  // SIGKILL writer 1 once it has done this many ops
};

constexpr int kMaxKilledWriterOps = 1000000;
constexpr int kReaders = 3;

struct Shared {
  mm_struct* mm[2];
  std::atomic<int> torn_reads{0};
  std::atomic<int> wrong_range{0};
  std::atomic<int> wrong_mm{0};
  std::atomic<uint64_t> faults_locked{0};
  std::atomic<uint64_t> faults_fallback{0};
  std::atomic<int> readers_warm{0};  // writers start once every reader has warmed up
  std::atomic<int> writer1_ops{0};
  std::atomic<int> eintr_mmap_lock{0};
  std::atomic<int> eintr_vma_write{0};
};

void check_payload(Shared& s, mm_struct* mm, vm_area_struct* vma, unsigned long addr) {
  if (vma->vm_mm != mm) s.wrong_mm.fetch_add(1);
  if (addr < vma->vm_start || addr >= vma->vm_end) s.wrong_range.fetch_add(1);
  if (vma->anon_vma != expected_anon_vma(vma)) s.torn_reads.fetch_add(1);
}

void reader(NativePlatform& platform, Shared& s, int mm_index, uint32_t seed, const StressConfig& cfg) {
  platform.bind_current_thread(kernel().task_create("reader-" + std::to_string(seed)));
  mm_struct* mm = s.mm[mm_index];
  std::mt19937 rng(seed);
  // Warm-up before any writer runs, so both paths are taken on every run:
  // slot 0 is mapped and unlocked (VMA lock), the last slot is not (fallback).
  for (int i = 0; i < cfg.faults_per_reader; ++i) {
    const unsigned long addr = i == 0   ? 0
                               : i == 1 ? (kSlots - 1) * kPage
                                        : (rng() % kSlots) * kPage + (rng() % kPage);
    if (i == 2) {
      s.readers_warm.fetch_add(1);
      while (s.readers_warm.load() < kReaders) std::this_thread::yield();
    }
    if (vm_area_struct* vma = lock_vma_under_rcu(mm, addr)) {
      vma_assert_locked(vma);
      check_payload(s, mm, vma, addr);
      vma_end_read(vma);
      s.faults_locked.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    // Fallback, as the page-fault handler does: the mmap read lock.
    mmap_read_lock(mm);
    if (vm_area_struct* vma = vma_lookup(mm, addr)) {
      vma_assert_stabilised(vma);
      check_payload(s, mm, vma, addr);
      // Some callers take a VMA read lock under the mmap lock (lock_next_vma).
      if (rng() % 4 == 0 && vma_start_read_locked(vma)) {
        vma_assert_locked(vma);
        vma_end_read(vma);
      }
    }
    mmap_read_unlock(mm);
    s.faults_fallback.fetch_add(1, std::memory_order_relaxed);
  }
}

// The mm's writer: the only task that changes its VMAs. `slots` mirrors its tree.
class Writer {
 public:
  // Adopts the VMAs already mapped in the mm.
  Writer(Shared& s, int mm_index, uint32_t seed) : s_(s), mm_(s.mm[mm_index]), rng_(seed) {
    slots_.fill(nullptr);
    const maple_node* node = vma_tree_peek(mm_);
    for (int i = 0; i < node->nr_entries; ++i) {
      const vma_tree_entry& e = node->entries[static_cast<size_t>(i)];
      slots_[e.start / kPage] = e.vma;
    }
  }

  // Returns false once the task is dying: a killable lock reported -EINTR, or
  // (like a return to user space) a fatal signal is pending.
  bool step() {
    if (fatal_signal_pending(current())) return false;
    if (mmap_write_lock_killable(mm_)) {
      s_.eintr_mmap_lock.fetch_add(1);
      return false;
    }
    const int slot = static_cast<int>(rng_() % kSlots);
    bool alive = true;
    switch (rng_() % 5) {
      case 0:
      case 1: alive = slots_[slot] ? mprotect_like(slot) : mmap_like(slot); break;
      case 2: if (slots_[slot]) munmap_like(slot); else alive = mmap_like(slot); break;
      case 3: fork_like(); break;
      case 4:
        // Downgrade: every VMA write lock ends; we may only read from now on.
        mmap_write_downgrade(mm_);
        for (vm_area_struct* vma : slots_) {
          if (vma) EXPECT_EQ(vma->anon_vma, expected_anon_vma(vma));
        }
        mmap_read_unlock(mm_);
        return true;
    }
    mmap_write_unlock(mm_);
    return alive;
  }

  void teardown() {
    mmap_write_lock(mm_);
    for (int slot = 0; slot < kSlots; ++slot) {
      if (slots_[slot]) munmap_like(slot);
    }
    mmap_write_unlock(mm_);
  }

 private:
  bool mprotect_like(int slot) {
    vm_area_struct* vma = slots_[slot];
    if (vma_start_write_killable(vma)) {  // killed: nothing changed
      s_.eintr_vma_write.fetch_add(1);
      return false;
    }
    vma->vm_flags = (vma->vm_flags + 1) & 0xff;
    vma->anon_vma = expected_anon_vma(vma);
    return true;
  }

  bool mmap_like(int slot) {
    vm_area_struct* vma = vm_area_alloc(mm_);
    vma->vm_start = static_cast<unsigned long>(slot) * kPage;
    vma->vm_end = vma->vm_start + kPage;
    vma->vm_flags = rng_() & 0xff;
    vma->anon_vma = expected_anon_vma(vma);
    vma_start_write(vma);  // detached: no wait
    vma_mark_attached(vma);
    EXPECT_EQ(vma_tree_insert(mm_, vma, vma->vm_start, vma->vm_end), 0);
    slots_[slot] = vma;
    return true;
  }

  void munmap_like(int slot) {
    vm_area_struct* vma = slots_[slot];
    vma_start_write(vma);
    vma_tree_erase(mm_, vma);
    vma_mark_detached(vma);
    EXPECT_EQ(refcount_read(&vma->vm_refcnt), 0u);
    vm_area_free(vma);
    slots_[slot] = nullptr;
  }

  // dup_mmap(): write-lock every parent VMA (B03), copy into a child mm, then
  // let the child exit. The freed copies are recycled into the parents.
  void fork_like() {
    mm_struct* child = mm_alloc();
    mmap_write_lock_nested(child, SINGLE_DEPTH_NESTING);
    std::array<vm_area_struct*, kSlots> copies{};
    for (int slot = 0; slot < kSlots; ++slot) {
      vm_area_struct* parent_vma = slots_[slot];
      if (!parent_vma) continue;
      vma_start_write(parent_vma);
      vm_area_struct* copy = vm_area_dup(parent_vma);
      copy->vm_mm = child;
      vma_start_write(copy);
      vma_mark_attached(copy);
      EXPECT_EQ(vma_tree_insert(child, copy, copy->vm_start, copy->vm_end), 0);
      copies[slot] = copy;
    }
    for (vm_area_struct* copy : copies) {
      if (!copy) continue;
      vma_tree_erase(child, copy);
      vma_mark_detached(copy);
      vm_area_free(copy);
    }
    mmap_write_unlock(child);
    mmdrop(child);
  }

  Shared& s_;
  mm_struct* mm_;
  std::mt19937 rng_;
  std::array<vm_area_struct*, kSlots> slots_;
};

void writer(NativePlatform& platform, Shared& s, int mm_index, uint32_t seed, const StressConfig& cfg,
            int* ops_done) {
  task_struct* me = kernel().task_create("writer-" + std::to_string(mm_index));
  platform.bind_current_thread(me);
  while (s.readers_warm.load() < kReaders) std::this_thread::yield();
  Writer w(s, mm_index, seed);
  const int max_ops = mm_index == 0 ? cfg.ops_per_writer : kMaxKilledWriterOps;
  int ops = 0;
  while (ops < max_ops && w.step()) {
    ++ops;
    if (mm_index == 1) s.writer1_ops.store(ops, std::memory_order_relaxed);
  }
  *ops_done = ops;
  // A killed task still tears its mm down (exit_mmap uses non-killable locks).
  w.teardown();
}

void run_stress(const StressConfig& cfg) {
  NativePlatform platform;
  CollectingSink sink;
  Kernel k(platform, &sink);
  KernelScope scope(k);
  Shared s;
  s.mm[0] = mm_alloc();
  s.mm[1] = mm_alloc();
  // Slots 0 .. kSlots-2 start mapped; the last one starts empty.
  for (mm_struct* mm : s.mm) {
    mmap_write_lock(mm);
    for (int slot = 0; slot < kSlots - 1; ++slot) {
      vm_area_struct* vma = vm_area_alloc(mm);
      vma->vm_start = static_cast<unsigned long>(slot) * kPage;
      vma->vm_end = vma->vm_start + kPage;
      vma->anon_vma = expected_anon_vma(vma);
      vma_start_write(vma);
      vma_mark_attached(vma);
      EXPECT_EQ(vma_tree_insert(mm, vma, vma->vm_start, vma->vm_end), 0);
    }
    mmap_write_unlock(mm);
  }

  int writer_ops[2] = {0, 0};
  std::vector<std::thread> threads;
  threads.emplace_back(writer, std::ref(platform), std::ref(s), 0, 101u, std::cref(cfg), &writer_ops[0]);
  threads.emplace_back(writer, std::ref(platform), std::ref(s), 1, 202u, std::cref(cfg), &writer_ops[1]);
  threads.emplace_back(reader, std::ref(platform), std::ref(s), 0, 1u, std::cref(cfg));
  threads.emplace_back(reader, std::ref(platform), std::ref(s), 0, 2u, std::cref(cfg));
  threads.emplace_back(reader, std::ref(platform), std::ref(s), 1, 3u, std::cref(cfg));
  // The killer: SIGKILL for writer 1 once it has started.
  threads.emplace_back([&] {
    platform.bind_current_thread(kernel().task_create("killer"));
    while (s.writer1_ops.load(std::memory_order_relaxed) < cfg.kill_writer_after_ops) std::this_thread::yield();
    for (int pid = 0; pid < kernel().task_count(); ++pid) {
      if (kernel().task(pid)->comm == "writer-1") send_sigkill(kernel().task(pid));
    }
  });
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(s.torn_reads.load(), 0);
  EXPECT_EQ(s.wrong_range.load(), 0);
  EXPECT_EQ(s.wrong_mm.load(), 0);
  EXPECT_EQ(writer_ops[0], cfg.ops_per_writer);
  EXPECT_GE(writer_ops[1], cfg.kill_writer_after_ops);
  EXPECT_LT(writer_ops[1], kMaxKilledWriterOps) << "writer 1 never noticed its SIGKILL";
  for (const CoreReport& r : sink.reports()) {
    ADD_FAILURE() << "core report: " << report_site_info(r.site).name << " (pid " << r.pid << ")";
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
