// core_fixture.h - shared GoogleTest fixture of the core unit tests: a Kernel on the native platform, a recording report sink, and probes for single-threaded interleavings.
//
// CoreTest owns a NativePlatform, a RecordingSink, a Kernel and the KernelScope
// that makes it the running one. The test thread is bound to the task "main".
//
// Reports never go unnoticed: every CoreReport is recorded, a test consumes
// the ones it provokes with expect_reports({...}) (exact sites, in order) or
// take_reports(), and TearDown fails the test if any report is left over.
//
// Single-threaded tests (the default, Mode::kSingleThread) run the Kernel on a
// ProbePlatform that forwards everything to the owned NativePlatform and adds:
//   - a trace of every shared-word access with its before/after values, so a
//     test can check which values vm_refcnt actually took (written_values());
//   - one-shot hooks: on_access(pred, action) runs `action` at the scheduling
//     point of the first access matching `pred`, before the access; and
//     on_schedule(action) runs `action` when the current task calls schedule(),
//     before it would park. An action usually plays another task (as_task()):
//     that is how one OS thread schedules "the reader leaves while the writer
//     waits" deterministically;
//   - a sleep nobody can end (schedule() with no hook, state not RUNNING, no
//     fatal signal that ends a killable sleep) fails the test and throws
//     WouldSleepForever instead of hanging the test binary.
// Tests with real threads use Mode::kThreads: the Kernel then runs directly on
// the NativePlatform and threads bind themselves with bind_thread().
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/kernel.h"
#include "core/lockdep.h"
#include "core/mmap_lock.h"
#include "core/native_platform.h"
#include "core/rcu.h"
#include "core/report.h"
#include "core/task.h"

namespace vmafuzz::core {

// gtest printers: report sites and lists of them print by name.
inline void PrintTo(ReportSite site, std::ostream* os) { *os << report_site_info(site).name; }
inline void PrintTo(const CoreReport& r, std::ostream* os) {
  *os << report_site_info(r.site).name << " (pid " << r.pid << ", object " << r.object << ")";
}

namespace testing {

// Collects every CoreReport. Thread-safe (helper threads may report).
class RecordingSink final : public ReportSink {
 public:
  void on_report(const CoreReport& report) override {
    std::lock_guard<std::mutex> g(mu_);
    reports_.push_back(report);
  }
  std::vector<CoreReport> take() {
    std::lock_guard<std::mutex> g(mu_);
    return std::exchange(reports_, {});
  }

 private:
  std::mutex mu_;
  std::vector<CoreReport> reports_;
};

// Thrown by ProbePlatform::schedule() when a single-threaded test would park
// the only thread for good.
struct WouldSleepForever : std::runtime_error {
  WouldSleepForever() : std::runtime_error("single-threaded test would sleep forever") {}
};

// One traced shared-word access.
struct TracedAccess {
  const void* word;
  SharedWordKind kind;
  AccessKind access;
  uint64_t before;
  uint64_t after;
  int pid;  // task that made it
};

// A Platform for single-threaded tests: the native platform plus a trace and
// hooks (see the banner). Not thread-safe: one OS thread only.
class ProbePlatform final : public Platform {
 public:
  using AccessPredicate = std::function<bool(const SharedAccess&)>;
  using Action = std::function<void()>;

  explicit ProbePlatform(NativePlatform& native) : native_(native) { access_values = true; }

  void scheduling_point(const SharedAccess& a) override {
    native_.scheduling_point(a);
    if (in_hook_ || !access_action_ || !access_pred_(a)) return;
    Action action = std::exchange(access_action_, nullptr);
    access_pred_ = nullptr;
    in_hook_ = true;
    action();
    in_hook_ = false;
    ++access_hooks_fired_;
  }

  void access_done(const SharedAccess& a, uint64_t before, uint64_t after) override {
    task_struct* t = native_.current_or_null();
    trace_.push_back(TracedAccess{a.word, a.kind, a.access, before, after, t ? t->pid : -1});
  }

  task_struct* current_or_null() override { return native_.current_or_null(); }

  void schedule() override {
    ++schedule_calls_;
    task_struct* t = native_.current_or_null();
    if (!schedule_actions_.empty()) {
      Action action = std::move(schedule_actions_.front());
      schedule_actions_.erase(schedule_actions_.begin());
      action();
    }
    const unsigned state = t->__state.peek(std::memory_order_seq_cst);
    const bool killed = (state & TASK_WAKEKILL) && t->fatal_signal.peek(std::memory_order_seq_cst);
    if (state != TASK_RUNNING && !killed) {
      ADD_FAILURE() << "task " << t->comm << " would sleep forever (state " << state
                    << ") and no other thread can wake it";
      throw WouldSleepForever();
    }
    native_.schedule();
  }

  bool wake_up_state(task_struct* p, unsigned state) override { return native_.wake_up_state(p, state); }

  // Run `action` once, at the scheduling point of the first access matching
  // `pred` (before the access itself). Accesses made by the action do not
  // trigger hooks. An action may arm the next hook.
  void on_access(AccessPredicate pred, Action action) {
    access_pred_ = std::move(pred);
    access_action_ = std::move(action);
  }
  void cancel_access_hook() {
    access_pred_ = nullptr;
    access_action_ = nullptr;
  }
  bool access_hook_pending() const { return static_cast<bool>(access_action_); }
  int access_hooks_fired() const { return access_hooks_fired_; }

  // Queue `action` for the next schedule() call (one action per call, FIFO).
  void on_schedule(Action action) { schedule_actions_.push_back(std::move(action)); }
  int schedule_actions_pending() const { return static_cast<int>(schedule_actions_.size()); }
  int schedule_calls() const { return schedule_calls_; }

  const std::vector<TracedAccess>& trace() const { return trace_; }
  void clear_trace() { trace_.clear(); }

 private:
  NativePlatform& native_;
  AccessPredicate access_pred_;
  Action access_action_;
  bool in_hook_ = false;
  int access_hooks_fired_ = 0;
  std::vector<Action> schedule_actions_;
  int schedule_calls_ = 0;
  std::vector<TracedAccess> trace_;
};

// The fixture. See the banner.
class CoreTest : public ::testing::Test {
 protected:
  enum class Mode { kSingleThread, kThreads };

  explicit CoreTest(Mode mode = Mode::kSingleThread)
      : mode_(mode),
        probe_(native_),
        kernel_(mode == Mode::kSingleThread ? static_cast<Platform&>(probe_) : static_cast<Platform&>(native_),
                &sink_),
        scope_(kernel_) {
    main_ = kernel_.task_create("main");
    native_.bind_current_thread(main_);
  }

  void TearDown() override {
    const std::vector<CoreReport> left = sink_.take();
    if (!left.empty()) {
      ADD_FAILURE() << "the test left " << left.size()
                    << " unexpected core report(s): " << ::testing::PrintToString(left);
    }
    if (mode_ == Mode::kSingleThread) {
      EXPECT_FALSE(probe_.access_hook_pending()) << "an on_access hook never fired";
      EXPECT_EQ(probe_.schedule_actions_pending(), 0) << "an on_schedule action never ran";
    }
  }

  // ---- reports -----------------------------------------------------------

  // Consume every report recorded so far.
  std::vector<CoreReport> take_reports() { return sink_.take(); }

  // Consume the reports recorded so far and expect exactly these sites, in order.
  void expect_reports(std::initializer_list<ReportSite> expected) {
    std::vector<ReportSite> sites;
    for (const CoreReport& r : sink_.take()) sites.push_back(r.site);
    EXPECT_EQ(sites, std::vector<ReportSite>(expected));
  }
  void expect_no_reports() { expect_reports({}); }

  // ---- tasks -------------------------------------------------------------

  Kernel& kern() { return kernel_; }
  task_struct* main_task() { return main_; }
  task_struct* new_task(const std::string& comm) { return kernel_.task_create(comm); }

  // Run f() as task t on this OS thread (the kernel's `current` is t meanwhile).
  template <class F>
  void as_task(task_struct* t, F&& f) {
    task_struct* prev = native_.current_or_null();
    native_.bind_current_thread(t);
    std::forward<F>(f)();
    native_.bind_current_thread(prev);
  }

  // For helper threads of Mode::kThreads tests: bind the calling thread.
  void bind_thread(task_struct* t) { native_.bind_current_thread(t); }

  // ---- probes (Mode::kSingleThread only) ------------------------------------

  ProbePlatform& probe() {
    if (mode_ != Mode::kSingleThread) ADD_FAILURE() << "probe() needs Mode::kSingleThread";
    return probe_;
  }

  // Matches the n-th (1-based) access of kind `access` to `word` by task t,
  // counted from when the predicate is installed.
  static ProbePlatform::AccessPredicate nth_access(const void* word, AccessKind access, task_struct* t, int n = 1) {
    auto seen = std::make_shared<int>(0);
    return [=](const SharedAccess& a) {
      if (a.word != word || a.access != access || current() != t) return false;
      return ++*seen == n;
    };
  }

  // Matches the first evaluation of a writer's wait condition on vma: a load
  // of vm_refcnt by t after set_current_state() (t's state is not RUNNING).
  static ProbePlatform::AccessPredicate wait_condition_load(vm_area_struct* vma, task_struct* t) {
    return [=](const SharedAccess& a) {
      return a.word == refcnt_word(vma) && a.access == AccessKind::kLoad && current() == t &&
             t->__state.peek(std::memory_order_relaxed) != TASK_RUNNING;
    };
  }

  // Values written to `word` (stores and RMWs that changed it), in order.
  std::vector<uint64_t> written_values(const void* word) {
    std::vector<uint64_t> v;
    for (const TracedAccess& a : probe_.trace()) {
      if (a.word == word && a.access != AccessKind::kLoad && a.after != a.before) v.push_back(a.after);
    }
    return v;
  }
  // Values vm_refcnt took, as the unsigned refcount_read() would return them.
  std::vector<unsigned> refcnt_values(vm_area_struct* vma) {
    std::vector<unsigned> v;
    for (uint64_t x : written_values(refcnt_word(vma))) v.push_back(static_cast<unsigned>(x));
    return v;
  }
  int accesses_to(const void* word, AccessKind access) {
    int n = 0;
    for (const TracedAccess& a : probe_.trace()) n += a.word == word && a.access == access;
    return n;
  }

  // ---- mm and VMA set-up ---------------------------------------------------

  static const void* refcnt_word(vm_area_struct* vma) { return &vma->vm_refcnt.refs; }

  // vm_refcnt without a scheduling point.
  static unsigned refcnt(vm_area_struct* vma) {
    return static_cast<unsigned>(vma->vm_refcnt.refs.peek(std::memory_order_relaxed));
  }
  static unsigned seq(mm_struct* mm) { return mm->mm_lock_seq.sequence.peek(std::memory_order_relaxed); }

  // Map a new VMA [start, end) in mm the way mmap_region() does: write-lock
  // it while detached, attach it, insert it into the lookup.
  vm_area_struct* map_vma(mm_struct* mm, unsigned long start, unsigned long end) {
    mmap_write_lock(mm);
    vm_area_struct* vma = vm_area_alloc(mm);
    vma->vm_start = start;
    vma->vm_end = end;
    vma->vm_flags = VM_READ | VM_WRITE;
    vma_start_write(vma);
    vma_mark_attached(vma);
    EXPECT_EQ(vma_tree_insert(mm, vma, start, end), 0);
    mmap_write_unlock(mm);
    return vma;
  }

  // Unmap a VMA: write-lock, remove from the lookup, detach, free.
  void unmap_vma(mm_struct* mm, vm_area_struct* vma) {
    mmap_write_lock(mm);
    vma_start_write(vma);
    vma_tree_erase(mm, vma);
    vma_mark_detached(vma);
    vm_area_free(vma);
    mmap_write_unlock(mm);
  }

  // A reader's vma_start_read() steps 2 and 3 alone: the limited acquire
  // increment and the lockdep acquisition, without the early vm_lock_seq
  // check. This is the reference a transient reader holds when it passed the
  // early check before the writer set vm_lock_seq (docs/MODEL.md §8, S1/S2): one OS
  // thread cannot suspend vma_start_read() between those steps while the
  // writer runs, so tests take it this way. The reader gives it back with
  // vma_refcount_put(), as vma_start_read()'s step 5 does.
  static bool take_transient_read_ref(vm_area_struct* vma) {
    int old = 0;
    if (!__refcount_inc_not_zero_limited_acquire(&vma->vm_refcnt, &old, VM_REFCNT_LIMIT)) return false;
    lock_acquire(vma, LockClass::kVmLock, LockMode::kShared, /*trylock=*/true);
    return true;
  }

 private:
  const Mode mode_;
  NativePlatform native_;
  ProbePlatform probe_;
  RecordingSink sink_;
  Kernel kernel_;
  KernelScope scope_;
  task_struct* main_ = nullptr;
};

// Fixture for tests that run real threads.
class CoreThreadsTest : public CoreTest {
 protected:
  CoreThreadsTest() : CoreTest(Mode::kThreads) {}
};

inline constexpr unsigned kFlag = VM_REFCNT_EXCLUDE_READERS_FLAG;
inline constexpr unsigned kLimit = VM_REFCNT_LIMIT;
inline constexpr unsigned kSaturated = static_cast<unsigned>(REFCOUNT_SATURATED);

// An mm with one attached, unlocked VMA [0x1000, 0x3000) and a reader task,
// for tests of the VMA lock operations (vma_test.cpp, mmap_lock_test.cpp).
class OneVmaTest : public CoreTest {
 protected:
  static constexpr unsigned long kStart = 0x1000;
  static constexpr unsigned long kEnd = 0x3000;

  mm_struct* mm = nullptr;
  vm_area_struct* vma = nullptr;
  task_struct* reader = nullptr;

  void SetUp() override {
    mm = mm_alloc();
    vma = map_vma(mm, kStart, kEnd);
    reader = new_task("reader");
    probe().clear_trace();
  }

  // lock_vma_under_rcu() as task t.
  vm_area_struct* read_lock_as(task_struct* t, unsigned long addr = kStart) {
    vm_area_struct* got = nullptr;
    as_task(t, [&] { got = lock_vma_under_rcu(mm, addr); });
    return got;
  }
  void read_unlock_as(task_struct* t, vm_area_struct* v) {
    as_task(t, [&] { vma_end_read(v); });
  }
};

}  // namespace testing
}  // namespace vmafuzz::core
