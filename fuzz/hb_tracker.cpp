// hb_tracker.cpp - vector clocks, release sequences, fences and the payload race check.
#include "fuzz/hb_tracker.h"

#include <algorithm>
#include <atomic>

#include "fuzz/sched_expect.h"

namespace vmafuzz::fuzz {
namespace {

using core::PlainField;
using core::PlainOp;
using hb_detail::covers;
using hb_detail::is_acquire;
using hb_detail::is_release;
using hb_detail::join;


std::string_view field_name(PlainField f) {
  switch (f) {
    case PlainField::kVmStart: return "vm_start";
    case PlainField::kVmEnd: return "vm_end";
    case PlainField::kVmFlags: return "vm_flags";
    case PlainField::kAnonVma: return "anon_vma";
    case PlainField::kVmPolicy: return "vm_policy";
  }
  return "?";
}
std::string_view order_name(uint8_t o) {
  switch (static_cast<std::memory_order>(o & core::kOrderMask)) {
    case std::memory_order_relaxed: return "relaxed";
    case std::memory_order_consume: return "consume";
    case std::memory_order_acquire: return "acquire";
    case std::memory_order_release: return "release";
    case std::memory_order_acq_rel: return "acq_rel";
    case std::memory_order_seq_cst: return "seq_cst";
  }
  return "?";
}
std::string op_or_exit(std::string_view op) { return std::string(op.empty() ? "exit" : op); }
std::string str(std::string_view s) { return std::string(s); }
std::string num(uint64_t n) { return std::to_string(n); }
std::string task(int t) { return "T" + std::to_string(t); }

}  // namespace

void HbTracker::begin(int num_tasks, bool enabled, bool lazy) {
  enabled_ = enabled;
  if (!enabled) return;
  lazy_ = lazy;
  log_size_ = 0;
  own_epoch_.fill(1);
  num_tasks_ = num_tasks;
  // Setup (init) happens before every task: the tracker starts after it, so
  // nothing it did is recorded and every clock starts at the task's own 1.
  // Every field but the unsynced-read ring, which is read only below
  // num_unsynced: `TaskState{}` cleared its 384 bytes per task and run.
  for (int t = 0; t < kMaxTasks; ++t) {
    TaskState& ts = tasks_[t];
    ts.clock = {};
    ts.clock[t] = 1;
    ts.fence_rel = {};
    ts.has_fence_rel = false;
    ts.fence_step = 0;
    ts.acq_pending = {};
    ts.wake = {};
    ts.num_unsynced = 0;
  }
  mm_exit_ = {};
  // A new generation invalidates every word entry (on wrap-around, clear them).
  if (++generation_ == 0) {
    words_.fill(WordState{});
    generation_ = 1;
  }
  objects_live_ = 0;  // cleared as on_plain() reaches them: a run touches few of the objects earlier runs did
}

void HbTracker::catch_up() {
  for (size_t i = 0; i < log_size_ && enabled_; ++i) {
    const Event& e = log_[i];
    switch (e.kind) {
      case EventKind::kAccess:
        apply_access(e.t, e.step, core::SharedAccess{e.word, e.word_kind, e.access, e.order});
        break;
      case EventKind::kFence: apply_fence(e.t, e.step, e.order); break;
      case EventKind::kWake: apply_wake(e.t, e.other); break;
      case EventKind::kScheduleReturn: apply_schedule_return(e.t); break;
      case EventKind::kMmPut: apply_mm_put(e.t, e.other, false); break;
      case EventKind::kMmPutLast: apply_mm_put(e.t, e.other, true); break;
    }
  }
  log_size_ = 0;
  // invariant: the epochs counted as the events were logged are the clocks' own components.
  for (int t = 0; t < kMaxTasks && enabled_; ++t) {
    if (tasks_[t].clock[t] != own_epoch_[t]) core::harness_bug("race tracker: a lazy epoch differs from its clock");
  }
}

void HbTracker::apply_fence(int t, uint64_t step, uint8_t order) {
  TaskState& ts = tasks_[t];
  // seq_cst is acq_rel here: the single total order of a one-at-a-time run
  // already orders seq_cst operations; what it adds is not a happens-before edge.
  if (is_acquire(order)) join(ts.clock, ts.acq_pending);
  if (is_release(order)) {
    ts.fence_rel = ts.clock;
    ts.has_fence_rel = true;
    ts.fence_step = step;
    ++ts.clock[t];
  }
}

void HbTracker::apply_wake(int waker, int wakee) { release_into(tasks_[wakee].wake, waker); }

void HbTracker::apply_schedule_return(int t) {
  TaskState& ts = tasks_[t];
  join(ts.clock, ts.wake);
  ts.wake = VectorClock{};
}

void HbTracker::apply_mm_put(int t, int mm, bool last_user) {
  if (last_user) {
    join(tasks_[t].clock, mm_exit_[mm]);
  } else {
    release_into(mm_exit_[mm], t);
  }
}

// The run's first plain access to object `id` (or a later one): clear the
// stale states up to it. Out of line: on_plain() runs at every payload access.
void HbTracker::reach_object(size_t id) {
  if (id >= objects_.size()) objects_.resize(id + 1);
  static const ObjectState kCleared{};  // copied (a memcpy), not built field by field
  for (size_t i = objects_live_; i <= id; ++i) objects_[i] = kCleared;
  objects_live_ = id + 1;
}

const HbRace* HbTracker::on_plain(int t, uint64_t step, std::string_view op, int obj_id, PlainField f, PlainOp kind) {
  if (obj_id < 0) return nullptr;
  if (static_cast<size_t>(obj_id) >= objects_live_) [[unlikely]] reach_object(static_cast<size_t>(obj_id));
  ObjectState& obj = objects_[static_cast<size_t>(obj_id)];
  if (kind == PlainOp::kAlloc) {
    // The allocator orders the previous owner's accesses before ours.
    obj = ObjectState{};
    return nullptr;
  }
  FieldState& fs = obj[static_cast<size_t>(f)];
  // Only another task's access that conflicts with ours can race with it;
  // without one, no clock is read (so a lazy tracker need not catch up).
  const bool other_wrote = fs.write_task >= 0 && fs.write_task != t;
  const bool others_read = kind == PlainOp::kWrite && (fs.readers & ~(1u << t));
  if (other_wrote || others_read) {
    if (lazy_) {
      catch_up();
      if (!enabled_) return nullptr;  // the word table overflowed (word())
    }
    const VectorClock& c = tasks_[t].clock;
    // Write-read and write-write: the last write must happen before us.
    if (other_wrote && fs.write.epoch > c[fs.write_task]) {
      return report(t, step, op, kind, fs.write_task, fs.write, true, f);
    }
    // Read-write: every other task's last read must happen before us.
    for (int u = 0; u < num_tasks_ && others_read; ++u) {
      const Access& r = fs.reads[static_cast<size_t>(u)];
      if (u != t && r.epoch > c[u]) return report(t, step, op, kind, u, r, false, f);
    }
  }
  const Access now{lazy_ ? own_epoch_[t] : tasks_[t].clock[t], step, op};
  if (kind == PlainOp::kRead) {
    fs.reads[static_cast<size_t>(t)] = now;
    fs.readers |= static_cast<uint8_t>(1u << t);
    return nullptr;
  }
  fs.write_task = static_cast<int8_t>(t);
  fs.write = now;
  fs.reads = {};
  fs.readers = 0;
  return nullptr;
}

const HbRace* HbTracker::report(int t, uint64_t step, std::string_view op, PlainOp kind, int u, const Access& prior,
                                bool prior_write, PlainField f) {
  const std::string_view mine = kind == PlainOp::kWrite ? "write" : "read";
  const std::string_view theirs = prior_write ? "write" : "read";
  // Schedule-free: which of the two came first is not part of the detail.
  std::string a = op_or_exit(op) + " " + str(mine);
  std::string b = op_or_exit(prior.op) + " " + str(theirs);
  if (b < a) std::swap(a, b);
  race_.detail = str(field_name(f)) + ": " + a + " / " + b;
  // The explanation: t's latest load that read a store u made after its
  // access, without synchronising with it.
  std::string why;
  const TaskState& ts = tasks_[t];
  // Prefer a pair that lacks only one side (the release or the acquire).
  for (int pass = 0; pass < 2 && why.empty(); ++pass) {
    for (int k = 0; k < std::min(ts.num_unsynced, kReadHistory) && why.empty(); ++k) {
      const UnsyncedRead& r = ts.unsynced[static_cast<size_t>((ts.num_unsynced - 1 - k) % kReadHistory)];
      if (r.store_task != u || r.store_step < prior.step) continue;
      const bool load_acquires = is_acquire(r.order);
      const bool by_old_fence = load_acquires && r.store_released && r.fence_step != 0 && r.fence_step < prior.step;
      if (pass == 0 && !by_old_fence && load_acquires == r.store_released) continue;
      why = task(t) + "'s " + str(order_name(r.order)) + " load of " + str(word_kind_name(r.kind)) + " at step " +
            num(r.step) + " read " + task(u) + "'s " + str(order_name(r.store_order)) + " store at step " +
            num(r.store_step) + ", but " +
            (by_old_fence ? "the store was relaxed: it released only what preceded " + task(u) +
                                "'s release fence at step " + num(r.fence_step)
             : load_acquires    ? std::string("the store was not a release")
             : r.store_released ? std::string("the load was not an acquire")
                                : std::string("neither was a release/acquire"));
    }
  }
  if (why.empty()) {
    why = task(t) + " read no word that " + task(u) + " wrote after step " + num(prior.step) +
          ": no release/acquire pair, lock, wake-up or mm teardown orders them";
  }
  race_.message = "data race on " + str(field_name(f)) + ": " + task(u) + "'s " + str(theirs) + " in " +
                  op_or_exit(prior.op) + " (step " + num(prior.step) + ") and " + task(t) + "'s " + str(mine) + " in " +
                  op_or_exit(op) + " (step " + num(step) + ") are not ordered by happens-before; " + why;
  return &race_;
}

}  // namespace vmafuzz::fuzz
