// kernel.h - one instance of the modelled kernel: its platform, allocators,
// tasks, RCU grace-period bookkeeping and report sink.
//
// The running Kernel is the core's one global (like the kernel's own globals:
// vm_area_cachep, the task list). A KernelScope installs it for a run; the
// fuzz harness installs one per execution, tests one per test. Everything a
// run allocates lives in pools owned by the Kernel (type-stable, so stale
// pointers never become invalid C++ objects) and is released with it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "core/inject.h"
#include "core/lock_version.h"
#include "core/mm.h"
#include "core/platform.h"
#include "core/report.h"
#include "core/stable_pool.h"
#include "core/task.h"
#include "core/vma.h"

namespace vmafuzz::core {

// Event counters (the kernel's vm_event VMA_LOCK_* counters; the model counts
// VMA_LOCK_SUCCESS in lock_vma_under_rcu() rather than in the fault handlers).
struct KernelStats {
  std::atomic<uint64_t> vma_lock_success{0};
  std::atomic<uint64_t> vma_lock_abort{0};
  std::atomic<uint64_t> vma_lock_miss{0};
  std::atomic<uint64_t> reports{0};
};

// A Kernel's state as save_state() kept it: every pool object's fields and
// the pools' sizes, the VMA free list, the pending RCU callbacks and the
// counters. Meaningful only to the Kernel that saved it, with the objects it
// saved still in its pools (their addresses are in it).
struct KernelState {
  std::vector<task_saved> tasks;
  std::vector<vma_saved> vmas;
  std::vector<mm_saved> mms;
  std::vector<maple_node_saved> maple_nodes;
  std::vector<vm_area_struct*> vma_free_list;
  std::vector<rcu_head*> rcu_pending;
  int rcu_pending_count = 0;
  uint64_t vma_lock_success = 0;
  uint64_t vma_lock_abort = 0;
  uint64_t vma_lock_miss = 0;
  uint64_t reports = 0;
  friend bool operator==(const KernelState&, const KernelState&) = default;
};

class Kernel {
 public:
  // `sink` may be null: reports are then printed to stderr.
  explicit Kernel(Platform& platform, ReportSink* sink = nullptr);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // Back to the state of a new Kernel on the same platform and sink (no
  // tasks, objects, reports or injected bugs), keeping the pools' storage:
  // the sim harness reuses one Kernel for every run. Not while running.
  void reset();
  // The fuzz harness builds a run's post-setup state once and restores it
  // for the next runs of the same setup (fuzz/execution.cpp): save_state()
  // keeps this Kernel's state (vectors keep their storage), restore_state()
  // puts a saved state back - the objects saved get their fields back, the
  // ones allocated since are destroyed - and leaves the injected bugs and the
  // lock version as reset() does. restore_state: not while running, and the
  // pools must hold every object saved (no reset() since).
  void save_state(KernelState& s) const;
  void restore_state(const KernelState& s);

  Platform& platform() { return *platform_; }
  // Bugs injected into this kernel (the correct model by default).
  void set_injected_bugs(BugSet bugs) { injected_ = bugs; }
  BugSet injected_bugs() const { return injected_; }
  const BugSet* injected_bugs_ptr() const { return &injected_; }  // KernelScope's
  // The version of the exclusive-lock code this kernel runs (lock_version.h;
  // post_series by default), and, only when two versions are compared
  // (fuzz_nfc, vmafuzz diff), the platform VersionOnlyAccess scopes use.
  void set_lock_version(LockVersion v, Platform* version_only = nullptr);
  LockVersion lock_version() const { return lock_version_; }
  Platform* version_only_platform() const { return version_only_; }
  void set_report_sink(ReportSink* sink) { sink_ = sink; }
  void report(const CoreReport& r);
  KernelStats& stats() { return stats_; }

  // Tasks. pid = creation index. Thread-safe; not a scheduling point.
  task_struct* task_create(std::string_view comm);
  int task_count() const;
  task_struct* task(int pid);

  // kmem_cache_alloc(vm_area_cachep): the most recently freed object, or a
  // new one. No constructor runs (callers vma_init or copy). Not a scheduling point.
  vm_area_struct* vm_area_cache_alloc();
  void vm_area_cache_free(vm_area_struct* vma);
  int vm_area_cache_size() const;
  vm_area_struct* vm_area_cache_object(int obj_id);

  mm_struct* mm_cache_alloc();
  int mm_count() const;
  mm_struct* mm(int id);

  maple_node* maple_node_alloc();

  // RCU grace periods (see rcu.h).
  void rcu_retire(rcu_head* head);
  bool rcu_is_freed(const rcu_head* head);
  void rcu_quiescent_state(task_struct* t);

 private:
  // std::lock_guard, but no lock on a one_thread platform (a lock and an
  // unlock per allocation, for nothing, on the fuzzing path).
  class Guard {
   public:
    Guard(std::mutex& m, const Platform& p) : m_(p.one_thread ? nullptr : &m) {
      if (m_) m_->lock();
    }
    ~Guard() {
      if (m_) m_->unlock();
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    std::mutex* m_;
  };

  Platform* platform_;
  ReportSink* sink_;
  BugSet injected_;
  LockVersion lock_version_ = LockVersion{};
  Platform* version_only_ = nullptr;
  KernelStats stats_;

  mutable std::mutex alloc_lock_;  // model-internal; never held across a scheduling point
  StablePool<task_struct> tasks_;
  StablePool<vm_area_struct> vmas_;
  std::vector<vm_area_struct*> vma_free_list_;  // LIFO: reuse the newest free object first
  StablePool<mm_struct> mms_;
  StablePool<maple_node> maple_nodes_;

  std::mutex rcu_lock_;
  std::vector<rcu_head*> rcu_pending_;
  std::atomic<int> rcu_pending_count_{0};
};

namespace detail {
extern Kernel* g_running_kernel;
}  // namespace detail

// The running Kernel. Context: inside a KernelScope. Inline: the model asks
// for it at most accesses (bug_injected()). A missing scope is a harness bug
// of structure, not of input: builds with asserts (dev, asan, tsan, whose
// tests run every path) report it, NDEBUG builds spare the test (about 0.6%
// of the engine's instructions), as shared_word's platform pointer does.
inline Kernel& kernel() {
#ifndef NDEBUG
  if (!detail::g_running_kernel) detail::no_running_kernel();
#endif
  return *detail::g_running_kernel;
}

// Installs a Kernel as the running one for the scope's lifetime (nesting is a
// harness bug and aborts).
class KernelScope {
 public:
  explicit KernelScope(Kernel& k);
  ~KernelScope();
  KernelScope(const KernelScope&) = delete;
  KernelScope& operator=(const KernelScope&) = delete;
};

}  // namespace vmafuzz::core
