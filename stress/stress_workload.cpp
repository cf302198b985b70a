// stress_workload.cpp - the readers, writers and killer of one stress round.
#include "stress/stress_workload.h"

#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/callers.h"
#include "core/mmap_lock.h"
#include "core/rcu.h"
#include "core/refcount.h"
#include "core/task.h"

namespace vmafuzz::stress {

using namespace vmafuzz::core;

namespace {

void bump(Shared& s) {
  if (s.progress) s.progress->fetch_add(1, std::memory_order_relaxed);
}

void check_payload(Shared& s, mm_struct* mm, vm_area_struct* vma, unsigned long addr) {
  if (vma->vm_mm != mm) s.wrong_mm.fetch_add(1);
  if (addr < vma->vm_start || addr >= vma->vm_end) s.wrong_range.fetch_add(1);
  if (vma->anon_vma != expected_anon_vma(vma)) s.torn_reads.fetch_add(1);
}

// A checking page fault. Not core/callers.h's fault(): the same two paths, but
// at any address of a slot, with the assert helpers and the payload checks
// inside the read-side sections, RCU checked after each path, and sometimes a
// VMA read lock taken under the mmap read lock (lock_next_vma).
void reader(NativePlatform& platform, Shared& s, int mm_index, uint32_t seed, const StressConfig& cfg) {
  platform.bind_current_thread(kernel().task_create("reader-" + std::to_string(seed)));
  mm_struct* mm = s.mm[mm_index];
  std::mt19937 rng(seed);
  // Warm-up before any writer runs, so both paths are taken on every run:
  // slot 0 is mapped and unlocked (VMA lock), the last slot is not (fallback).
  for (int i = 0; i < cfg.faults_per_reader; ++i) {
    const unsigned long addr = i == 0   ? 0
                               : i == 1 ? slot_address(kSlots - 1)
                                        : slot_address(static_cast<int>(rng() % kSlots)) + (rng() % kPageSize);
    if (i == 2) {
      s.readers_warm.fetch_add(1);
      while (s.readers_warm.load() < kReaders) std::this_thread::yield();
    }
    bump(s);
    if (vm_area_struct* vma = lock_vma_under_rcu(mm, addr)) {
      vma_assert_locked(vma);
      check_payload(s, mm, vma, addr);
      vma_end_read(vma);
      if (rcu_read_lock_held()) s.rcu_held_after_fault.fetch_add(1);
      s.faults_locked.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    // lock_vma_under_rcu() returned NULL: it must have left RCU too.
    if (rcu_read_lock_held()) {
      s.rcu_held_after_fault.fetch_add(1);
      rcu_read_unlock();  // so that the fallback's mmap_read_lock() may sleep
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

// refcnt_after_detach: the workload's own check of each detach.
class DetachCheck final : public CallerObserver {
 public:
  explicit DetachCheck(Shared& s) : s_(s) {}
  void on_detached(const vm_area_struct* vma) override {
    if (refcount_read(&vma->vm_refcnt) != 0) s_.refcnt_after_detach.fetch_add(1);
  }

 private:
  Shared& s_;
};

// The mm's writer: the only task that changes its VMAs. Unlike the scenario
// operations (core/callers.h's whole callers), it takes the mmap write lock
// once per step, killably (as the kernel's mmap, munmap, mprotect and fork
// do), and runs the chosen caller's locked part under it.
class Writer {
 public:
  Writer(Shared& s, int mm_index, uint32_t seed, const StressConfig& cfg)
      : s_(s), cfg_(cfg), mm_(s.mm[mm_index]), rng_(seed), detach_check_(s) {}

  // Returns false once the task is dying: a killable lock reported -EINTR, or
  // (like a return to user space) a fatal signal is pending.
  bool step() {
    if (fatal_signal_pending(current())) return false;
    if (mmap_write_lock_killable(mm_)) {
      s_.eintr_mmap_lock.fetch_add(1);
      return false;
    }
    const int slot = static_cast<int>(rng_() % kSlots);
    vm_area_struct* vma = vma_lookup(mm_, slot_address(slot));
    bool alive = true;
    mm_struct* child = nullptr;
    switch (rng_() % 5) {
      case 0:
      case 1:
        if (vma) {
          alive = mprotect_like(vma);
        } else {
          mmap_like(slot);
        }
        break;
      case 2:
        if (vma) {
          unmap_vma(mm_, vma, &detach_check_);
        } else {
          mmap_like(slot);
        }
        break;
      case 3: child = dup_mmap(mm_); break;
      case 4:
        // Downgrade: every VMA write lock ends; we may only read from now on.
        // A check of every VMA, not core/callers.h's downgrade(), which
        // modifies one VMA first.
        mmap_write_downgrade(mm_);
        const maple_node* node = vma_tree_peek(mm_);
        for (int i = 0; i < node->nr_entries; ++i) {
          const vm_area_struct* v = node->entries[static_cast<size_t>(i)].vma;
          if (v->anon_vma != expected_anon_vma(v)) s_.torn_at_downgrade.fetch_add(1);
        }
        mmap_read_unlock(mm_);
        return true;
    }
    mmap_write_unlock(mm_);
    // fork(): the child exits at once, so its copies are freed and recycled
    // into the parents.
    if (child) exit_mm(child, &detach_check_);
    return alive;
  }

  // exit_mmap() without the mmdrop: the round's checks still look at the mm.
  void teardown() {
    mmap_write_lock(mm_);
    unmap_all(mm_, &detach_check_);
    mmap_write_unlock(mm_);
  }

 private:
  bool mprotect_like(vm_area_struct* vma) {
    // The VMA write lock is killable; B08 applies only if cfg_.caller_bugs.
    if (mprotect_vma(vma, WriteLockWait::kKillable, cfg_.caller_bugs)) {  // killed: nothing changed
      s_.eintr_vma_write.fetch_add(1);
      return false;
    }
    return true;
  }

  void mmap_like(int slot) { map_slot(mm_, slot, rng_() & 0xff); }

  Shared& s_;
  const StressConfig& cfg_;
  mm_struct* mm_;
  std::mt19937 rng_;
  DetachCheck detach_check_;
};

void writer(NativePlatform& platform, Shared& s, int mm_index, uint32_t seed, const StressConfig& cfg,
            int* ops_done) {
  task_struct* me = kernel().task_create("writer-" + std::to_string(mm_index));
  platform.bind_current_thread(me);
  while (s.readers_warm.load() < kReaders) std::this_thread::yield();
  Writer w(s, mm_index, seed, cfg);
  const int max_ops = mm_index == 0 ? cfg.ops_per_writer : kMaxKilledWriterOps;
  int ops = 0;
  while (ops < max_ops && w.step()) {
    ++ops;
    bump(s);
    if (mm_index == 1) s.writer1_ops.store(ops, std::memory_order_relaxed);
  }
  *ops_done = ops;
  // A killed task still tears its mm down (exit_mmap uses non-killable locks).
  w.teardown();
}

}  // namespace

void setup_mms(Shared& s) {
  s.mm[0] = mm_alloc();
  s.mm[1] = mm_alloc();
  for (mm_struct* mm : s.mm) {
    mmap_write_lock(mm);
    for (int slot = 0; slot < kSlots - 1; ++slot) map_slot(mm, slot, 0);
    mmap_write_unlock(mm);
  }
}

RoundResult run_round(NativePlatform& platform, Shared& s, const StressConfig& cfg, const StressSeeds& seeds) {
  RoundResult r;
  std::vector<std::thread> threads;
  threads.emplace_back(writer, std::ref(platform), std::ref(s), 0, seeds.writer[0], std::cref(cfg), &r.writer_ops[0]);
  threads.emplace_back(writer, std::ref(platform), std::ref(s), 1, seeds.writer[1], std::cref(cfg), &r.writer_ops[1]);
  threads.emplace_back(reader, std::ref(platform), std::ref(s), 0, seeds.reader[0], std::cref(cfg));
  threads.emplace_back(reader, std::ref(platform), std::ref(s), 0, seeds.reader[1], std::cref(cfg));
  threads.emplace_back(reader, std::ref(platform), std::ref(s), 1, seeds.reader[2], std::cref(cfg));
  // The killer: SIGKILL for writer 1 once it has started.
  threads.emplace_back([&] {
    platform.bind_current_thread(kernel().task_create("killer"));
    while (s.writer1_ops.load(std::memory_order_relaxed) < cfg.kill_writer_after_ops) std::this_thread::yield();
    for (int pid = 0; pid < kernel().task_count(); ++pid) {
      if (kernel().task(pid)->comm == "writer-1") send_sigkill(kernel().task(pid));
    }
  });
  for (std::thread& t : threads) t.join();
  return r;
}

std::string payload_failure(const Shared& s) {
  const auto failed = [](int n, const char* what) { return std::to_string(n) + " " + what; };
  if (const int n = s.torn_reads.load())
    return "torn read: " + failed(n, "faults saw anon_vma != vm_flags * 3 + vm_start");
  if (const int n = s.wrong_mm.load()) return "wrong mm: " + failed(n, "faults got a VMA of another mm");
  if (const int n = s.wrong_range.load())
    return "wrong range: " + failed(n, "faults got a VMA not covering the address");
  if (const int n = s.torn_at_downgrade.load())
    return "downgrade check: " + failed(n, "VMAs torn after mmap_write_downgrade()");
  if (const int n = s.rcu_held_after_fault.load())
    return "lock held when returning to user space: " + failed(n, "faults returned inside rcu_read_lock()");
  if (const int n = s.refcnt_after_detach.load())
    return "detach check: " + failed(n, "VMAs had vm_refcnt != 0 after vma_mark_detached()");
  return "";
}

std::string teardown_failure(Kernel& k, const Shared& s, const StressConfig& cfg, const RoundResult& r) {
  using std::to_string;
  if (r.writer_ops[0] != cfg.ops_per_writer)
    return "writer 0 stopped after " + to_string(r.writer_ops[0]) + " of " + to_string(cfg.ops_per_writer) + " ops";
  if (r.writer_ops[1] < cfg.kill_writer_after_ops)
    return "writer 1 stopped after " + to_string(r.writer_ops[1]) + " ops, before its SIGKILL";
  if (r.writer_ops[1] >= kMaxKilledWriterOps) return "writer 1 never noticed its SIGKILL";
  // Both mms were torn down: every VMA object is back in the cache, detached.
  for (int i = 0; i < k.vm_area_cache_size(); ++i) {
    vm_area_struct* vma = k.vm_area_cache_object(i);
    if (!vma->cache_free.load()) return "VMA object " + to_string(i) + " leaked";
    if (const int refs = vma->vm_refcnt.refs.peek(); refs != 0)
      return "VMA object " + to_string(i) + " freed with vm_refcnt " + to_string(refs);
  }
  for (int m = 0; m < 2; ++m) {
    if (vma_tree_peek(s.mm[m])->nr_entries != 0) return "mm " + to_string(m) + " still maps VMAs";
    if (s.mm[m]->mm_lock_seq.sequence.peek() % 2 != 0)
      return "mm " + to_string(m) + " left write-locked (mm_lock_seq odd)";
    if (s.mm[m]->mmap_lock.count.peek() != 0) return "mm " + to_string(m) + " mmap_lock left held";
  }
  // The warm-up guarantees both paths; the totals must add up.
  const uint64_t locked = s.faults_locked.load(), fallback = s.faults_fallback.load();
  if (locked < kReaders || fallback < kReaders)
    return "warm-up missed a path: " + to_string(locked) + " locked, " + to_string(fallback) + " fallbacks";
  if (locked + fallback != static_cast<uint64_t>(kReaders) * static_cast<uint64_t>(cfg.faults_per_reader))
    return "fault totals do not add up: " + to_string(locked + fallback);
  return "";
}

}  // namespace vmafuzz::stress
