// hb_tracker.h - the happens-before race oracle's vector clocks (docs/SCHEDULER.md,
// "Happens-before race oracle").
//
// The sim runs one task at a time, so every run is sequentially consistent
// and a missing release or acquire changes no value any task sees. This
// tracker follows the C++20 happens-before relation alongside: one vector
// clock per task, a release clock per shared word (its release sequence),
// per-task fence clocks, and the kernel's other edges (wake-up, spinlock,
// mm teardown). Each plain access to a VMA payload field is checked against
// the field's last write and reads: two accesses, one a write, from
// different tasks and unordered by happens-before are a data race.
//
// Fixed-size state (kMaxTasks clocks, a fixed word table); a new VMA object
// is the only thing that grows it. Context: the sim platform calls it from
// inside its HarnessSections, for the running task only.
//
// Lazy (SC mode): the clocks are read only when a plain access meets another
// task's conflicting one, which most runs never do. So the events are logged
// and applied ("caught up") only then; a plain access's epoch, its task's own
// clock component, is counted as the events are logged. C11 mode reads the
// clocks at every access and stays eager.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/platform.h"
#include "fuzz/scenario.h"

namespace vmafuzz::fuzz {

using VectorClock = std::array<uint32_t, kMaxTasks>;

namespace hb_detail {
inline bool is_acquire(uint8_t o) {
  const auto mo = static_cast<std::memory_order>(o & core::kOrderMask);
  return mo == std::memory_order_acquire || mo == std::memory_order_consume || mo == std::memory_order_acq_rel ||
         mo == std::memory_order_seq_cst;
}
inline bool is_release(uint8_t o) {
  const auto mo = static_cast<std::memory_order>(o & core::kOrderMask);
  return mo == std::memory_order_release || mo == std::memory_order_acq_rel || mo == std::memory_order_seq_cst;
}
// A clock as one 128-bit vector (SSE2: an unsigned compare and a blend), not
// four scalar compares: join() runs at most reads and every release.
using ClockLanes = uint32_t __attribute__((vector_size(sizeof(VectorClock))));
static_assert(sizeof(VectorClock) == 16, "ClockLanes is one SSE register: kMaxTasks 4");
inline ClockLanes lanes(const VectorClock& c) {
  ClockLanes v;
  std::memcpy(&v, c.data(), sizeof v);
  return v;
}
inline bool covers(const VectorClock& c, const VectorClock& rel) {
  const ClockLanes later = reinterpret_cast<ClockLanes>(lanes(rel) > lanes(c));  // all ones where rel[i] > c[i]
  uint64_t half[2];
  std::memcpy(half, &later, sizeof half);
  return (half[0] | half[1]) == 0;
}
inline void join(VectorClock& into, const VectorClock& from) {
  const ClockLanes a = lanes(into);
  const ClockLanes b = lanes(from);
  const ClockLanes take = reinterpret_cast<ClockLanes>(b > a);  // all ones where from[i] > into[i]
  const ClockLanes m = (a & ~take) | (b & take);
  std::memcpy(into.data(), &m, sizeof m);
}
}  // namespace hb_detail

// A race found at a plain access: the signature-stable detail (field and the
// two accesses' operations, sorted) and the explanation with steps.
struct HbRace {
  std::string detail;
  std::string message;
};

class HbTracker {
 public:
  // Start a run of `num_tasks` tasks; `enabled` false turns every call into a
  // no-op. `lazy`: log the events until a check needs the clocks (above).
  void begin(int num_tasks, bool enabled, bool lazy = false);
  bool enabled() const { return enabled_; }
  // Every later call is a no-op until the next begin() (the alone-at-exit
  // suffix in SC mode, which reaches no race check: sim_platform.cpp).
  void stop() { enabled_ = false; }

  // The running task t's access at `step` (after it): a scheduling-point
  // access (access_done) or a raw one inside a spinlock section. Inline
  // (below, with the word lookup): it runs at every access.
  void on_access(int t, uint64_t step, const core::SharedAccess& a);
  // C11 mode (store_history.h): the next read on_access() reads an older
  // store, whose release clock is `rel` (null: none), not the word's latest.
  void read_older_store(const VectorClock* rel) {
    read_older_ = true;
    older_rel_ = rel;
  }
  // t's clock, and the release clock of the word's last store (null: none).
  // C11 mode reads them at every access, so it is never lazy; a lazy
  // tracker catches up first, so a reader never sees clocks that lag behind.
  const VectorClock& clock(int t) {
    if (lazy_ && log_size_ != 0) [[unlikely]] catch_up();
    return tasks_[t].clock;
  }
  const VectorClock* release_clock(const void* w, core::SharedWordKind kind) {
    if (lazy_ && log_size_ != 0) [[unlikely]] catch_up();
    const WordState& s = word(w, kind);
    return s.has_rel ? &s.rel : nullptr;
  }
  void on_fence(int t, uint64_t step, uint8_t order) {
    if (!lazy_) {
      apply_fence(t, step, order);
      return;
    }
    log(Event{nullptr, {}, {}, order, EventKind::kFence, task8(t), 0, step}, hb_detail::is_release(order));
  }
  // waker woke `wakee` (try_to_wake_up set it running): the waker's accesses
  // so far happen before the wakee's return from schedule().
  void on_wake(int waker, int wakee) {
    if (!lazy_) {
      apply_wake(waker, wakee);
      return;
    }
    log(Event{nullptr, {}, {}, 0, EventKind::kWake, task8(waker), task8(wakee), 0}, true);
  }
  // t returns from schedule().
  void on_schedule_return(int t) {
    if (!lazy_) {
      apply_schedule_return(t);
      return;
    }
    log(Event{nullptr, {}, {}, 0, EventKind::kScheduleReturn, task8(t), 0, 0}, false);
  }
  // t leaves mm `mm` (mmput); the last user then tears it down after every
  // earlier user's accesses (atomic_dec_and_test is a full barrier).
  void on_mm_put(int t, int mm, bool last_user) {
    if (!lazy_) {
      apply_mm_put(t, mm, last_user);
      return;
    }
    log(Event{nullptr, {}, {}, 0, last_user ? EventKind::kMmPutLast : EventKind::kMmPut, task8(t), task8(mm), 0},
        !last_user);
  }

  // t's plain access to a field of VMA object `obj_id` in operation `op`.
  // Return: the race, or null.
  const HbRace* on_plain(int t, uint64_t step, std::string_view op, int obj_id, core::PlainField f,
                         core::PlainOp kind);

 private:
  struct WordState {
    const void* word = nullptr;
    uint32_t generation = 0;  // valid in the run of this generation
    bool has_rel = false;     // rel is the clock of the release sequence of the last store
    VectorClock rel{};
    core::SharedWordKind kind = core::SharedWordKind::kOther;
    int8_t store_task = -1;   // the last store (or RMW): who, when, how
    uint8_t store_order = 0;
    bool store_released = false;
    uint64_t store_step = 0;
    uint64_t fence_step = 0;  // the store released through a release fence at this step (0: by its own order)
  };
  // A load of t that read another task's store without synchronising with it.
  struct UnsyncedRead {
    core::SharedWordKind kind;
    uint64_t step;
    uint8_t order;
    int8_t store_task;
    uint64_t store_step;
    uint8_t store_order;
    bool store_released;
    uint64_t fence_step;
  };
  static constexpr int kReadHistory = 8;
  struct TaskState {  // begin() resets each field but unsynced: keep it in step
    VectorClock clock{};
    VectorClock fence_rel{};   // the clock at t's last release fence
    bool has_fence_rel = false;
    uint64_t fence_step = 0;
    VectorClock acq_pending{};  // release clocks read by relaxed loads, for an acquire fence
    VectorClock wake{};         // waker clocks for the next return from schedule()
    std::array<UnsyncedRead, kReadHistory> unsynced{};
    int num_unsynced = 0;       // total recorded (ring index: % kReadHistory)
  };
  struct Access {
    uint32_t epoch = 0;  // 0: none
    uint64_t step = 0;
    std::string_view op;
  };
  struct FieldState {
    int8_t write_task = -1;
    uint8_t readers = 0;  // bit u: reads[u] is set
    Access write;
    std::array<Access, kMaxTasks> reads{};
  };
  static constexpr int kFields = static_cast<int>(core::PlainField::kMaxValue) + 1;
  using ObjectState = std::array<FieldState, kFields>;
  static constexpr int kWords = 4096;  // power of two; a run touches far fewer
  // A call a lazy tracker logged.
  enum class EventKind : uint8_t { kAccess, kFence, kWake, kScheduleReturn, kMmPut, kMmPutLast };
  struct Event {
    const void* word;  // kAccess: the access
    core::SharedWordKind word_kind;
    core::AccessKind access;
    uint8_t order;  // kAccess, kFence
    EventKind kind;
    int8_t t;
    int8_t other;   // kWake: the wakee; kMmPut*: the mm
    uint64_t step;  // kAccess, kFence
  };
  // A default input's run logs about 260; a full log is caught up.
  static constexpr size_t kLogCapacity = 1024;

  WordState& word(const void* w, core::SharedWordKind kind);
  void release_into(VectorClock& into, int t);
  void apply_access(int t, uint64_t step, const core::SharedAccess& a);
  void apply_fence(int t, uint64_t step, uint8_t order);
  void apply_wake(int waker, int wakee);
  void apply_schedule_return(int t);
  void apply_mm_put(int t, int mm, bool last_user);
  static int8_t task8(int t) { return static_cast<int8_t>(t); }
  // `releases`: e starts a new epoch of its task (release_into(), a release fence).
  void log(const Event& e, bool releases) {
    if (log_size_ == kLogCapacity) [[unlikely]] catch_up();
    log_[log_size_++] = e;
    own_epoch_[static_cast<size_t>(e.t)] += releases;
  }
  [[gnu::noinline]] void catch_up();
  [[gnu::noinline]] void reach_object(size_t id);
  const HbRace* report(int t, uint64_t step, std::string_view op, core::PlainOp kind, int u, const Access& prior,
                       bool prior_write, core::PlainField f);

  bool enabled_ = false;
  bool lazy_ = false;
  int num_tasks_ = 0;
  uint32_t generation_ = 0;
  std::array<TaskState, kMaxTasks> tasks_{};
  std::array<WordState, kWords> words_{};
  std::array<VectorClock, kMaxMms> mm_exit_{};
  std::vector<ObjectState> objects_;
  size_t objects_live_ = 0;  // objects_[0, objects_live_) are this run's (the rest: stale)
  HbRace race_;
  bool read_older_ = false;
  const VectorClock* older_rel_ = nullptr;
  // Lazy: the events not yet applied, and each task's own clock component
  // (1 + its releases) as of the last event logged.
  std::array<Event, kLogCapacity> log_{};
  size_t log_size_ = 0;
  std::array<uint32_t, kMaxTasks> own_epoch_{};
};


// ---- inline: the per-access path

inline HbTracker::WordState& HbTracker::word(const void* w, core::SharedWordKind kind) {
  // Open addressing, linear probing; stale generations are free slots.
  size_t i = (reinterpret_cast<uintptr_t>(w) >> 3) * 0x9E3779B97F4A7C15ull >> 56 & (kWords - 1);
  for (int probe = 0; probe < kWords; ++probe, i = (i + 1) & (kWords - 1)) {
    WordState& s = words_[i];
    if (s.generation != generation_) {
      s = WordState{};
      s.word = w;
      s.generation = generation_;
      s.kind = kind;
      return s;
    }
    if (s.word == w) return s;
  }
  // Full (never seen: a run touches a few dozen words). Dropping a word's
  // release clock could report a false race, so the run goes unchecked.
  enabled_ = false;
  return words_[0];
}

// t releases: `into` gets t's clock, and t's later accesses are a new epoch.
inline void HbTracker::release_into(VectorClock& into, int t) {
  hb_detail::join(into, tasks_[t].clock);
  ++tasks_[t].clock[t];
}

[[gnu::always_inline]] inline void HbTracker::on_access(int t, uint64_t step, const core::SharedAccess& a) {
  if (!lazy_) {
    apply_access(t, step, a);
    return;
  }
  // A release write starts a new epoch (apply_access()); a failed cmpxchg's
  // order, with kCmpxchgFailed, is above seq_cst.
  constexpr auto kRelease = static_cast<uint8_t>(std::memory_order_release);
  constexpr auto kSeqCst = static_cast<uint8_t>(std::memory_order_seq_cst);
  static_assert(static_cast<uint8_t>(std::memory_order_acq_rel) == kRelease + 1 && kSeqCst == kRelease + 2 &&
                kSeqCst < core::kCmpxchgFailed);
  const bool releases = a.access != core::AccessKind::kLoad && a.order >= kRelease && a.order <= kSeqCst;
  log(Event{a.word, a.kind, a.access, a.order, EventKind::kAccess, task8(t), 0, step}, releases);
}

[[gnu::always_inline]] inline void HbTracker::apply_access(int t, uint64_t step, const core::SharedAccess& a) {
  TaskState& ts = tasks_[t];
  WordState& w = word(a.word, a.kind);
  const bool failed_cas = a.order & core::kCmpxchgFailed;
  const bool reads = a.access != core::AccessKind::kStore;
  const bool writes = a.access != core::AccessKind::kLoad && !failed_cas;
  if (reads && read_older_) {
    read_older_ = false;
    if (older_rel_) hb_detail::join(hb_detail::is_acquire(a.order) ? ts.clock : ts.acq_pending, *older_rel_);
  } else if (reads) {
    // Reads the last store in the (sequentially consistent) run order.
    if (w.has_rel) hb_detail::join(hb_detail::is_acquire(a.order) ? ts.clock : ts.acq_pending, w.rel);
    // Kept for explanations: reads that did not synchronise, or only with a
    // release fence's older clock.
    const bool synced = hb_detail::is_acquire(a.order) && w.store_released && w.fence_step == 0;
    if (w.store_task >= 0 && w.store_task != t && !synced) {
      ts.unsynced[static_cast<size_t>(ts.num_unsynced++ % kReadHistory)] = UnsyncedRead{
          a.kind, step, a.order, w.store_task, w.store_step, w.store_order, w.store_released, w.fence_step};
    }
  }
  if (!writes) return;
  // A store starts a new release sequence; an RMW continues the one it read.
  // So does a store of a task already ordered after everything the sequence
  // releases (C++11's same-thread release sequence, which C++20 dropped,
  // widened to stores that happen after its head, as ThreadSanitizer keeps
  // a relaxed store's clock): the kernel relies on it, e.g. a reader's
  // acquire of mm_lock_seq that reads the next writer's seqcount begin
  // (docs/SCHEDULER.md, "Happens-before race oracle").
  if (a.access == core::AccessKind::kStore && !(w.has_rel && hb_detail::covers(ts.clock, w.rel))) {
    w.has_rel = false;
    w.rel = VectorClock{};
  }
  bool released = false;
  w.fence_step = 0;
  if (hb_detail::is_release(a.order)) {
    release_into(w.rel, t);
    w.has_rel = released = true;
  } else if (ts.has_fence_rel) {
    // A release fence before a relaxed store makes it synchronise ([atomics.fences]).
    hb_detail::join(w.rel, ts.fence_rel);
    w.has_rel = released = true;
    w.fence_step = ts.fence_step;
  }
  w.store_task = static_cast<int8_t>(t);
  w.store_step = step;
  w.store_order = a.order;
  w.store_released = released || w.has_rel;
}

}  // namespace vmafuzz::fuzz
