// sim_platform.cpp - scheduling points, parking and waking, task fibers and their unwinding.
#include "fuzz/sim_platform.h"

#include <algorithm>
#include <cstddef>

#include <fmt/format.h>

#include "core/kernel.h"
#include "core/mm.h"
#include "core/model_fn.h"
#include "core/sanitizer_hooks.h"
#include "core/vma.h"
#include "fuzz/harness_section.h"

namespace vmafuzz::fuzz {

namespace detail {
// The platform of the running Kernel, for the sanitizer hooks' context line
// (defined with them, in fuzz/sanitizer_context.cpp, so they are linked
// wherever the sim is).
extern const SimPlatform* g_running_sim;
}  // namespace detail
using detail::g_running_sim;

using core::SharedAccess;
using core::task_struct;

namespace {

// Thrown on a task's own fiber when the run stops; caught at the task's entry.
struct ExecutionAborted {};

// The VMA a vm_refcnt or vm_lock_seq word belongs to, or nullptr.
const core::vm_area_struct* vma_of_word(const SharedAccess& a) {
  const auto* w = static_cast<const char*>(a.word);
  switch (a.kind) {
    case core::SharedWordKind::kVmRefcnt:
      return reinterpret_cast<const core::vm_area_struct*>(w - offsetof(core::vm_area_struct, vm_refcnt));
    case core::SharedWordKind::kVmLockSeq:
      return reinterpret_cast<const core::vm_area_struct*>(w - offsetof(core::vm_area_struct, vm_lock_seq));
    default: return nullptr;
  }
}

uint64_t pid_value(uint64_t task_ptr) {
  const auto* t = reinterpret_cast<const task_struct*>(task_ptr);
  return t ? static_cast<uint64_t>(t->pid) + 1 : 0;
}

// Words are named by first appearance - except words on a task's stack (an
// rwsem waiter's hand-off flag), whose address depends on the build (ASan's
// fake stacks) and on which wait came first. Only their owner traces them.
constexpr uint32_t kStackWordIds = 0x80000000u;


// The mm a word of kind `kind` at `w` would belong to (not dereferenced).
const core::mm_struct* mm_of_word(const SharedAccess& a) {
  const auto* w = static_cast<const char*>(a.word);
  switch (a.kind) {
    case core::SharedWordKind::kMmLockSeq:
      return reinterpret_cast<const core::mm_struct*>(w - offsetof(core::mm_struct, mm_lock_seq) -
                                                      offsetof(core::seqcount_t, sequence));
    case core::SharedWordKind::kRwsemCount:
      return reinterpret_cast<const core::mm_struct*>(w - offsetof(core::mm_struct, mmap_lock) -
                                                      offsetof(core::rw_semaphore, count));
    case core::SharedWordKind::kRcuwaitTask:
      return reinterpret_cast<const core::mm_struct*>(w - offsetof(core::mm_struct, vma_writer_wait) -
                                                      offsetof(core::rcuwait, task));
    case core::SharedWordKind::kMmCount:
      return reinterpret_cast<const core::mm_struct*>(w - offsetof(core::mm_struct, mm_count));
    case core::SharedWordKind::kMmTree:
      return reinterpret_cast<const core::mm_struct*>(w - offsetof(core::mm_struct, mm_mt));
    default: return nullptr;
  }
}

}  // namespace

SimPlatform::SimPlatform(Trace& trace, Judge& judge, FeatureRecorder& features)
    : trace_(trace), judge_(judge), features_(features) {
  set_setup_mode(false);
#if !defined(VMAFUZZ_TSAN)
  // Under ThreadSanitizer the Kernel's mutexes stay: the task fibers switch
  // without synchronising (fiber.h), and its pools are shared between them.
  one_thread = true;
  // current_task is written by the scheduler (in HarnessSections) and read
  // by model code on other fibers: TSan builds keep the virtual call.
  current_known = true;
#endif
  setup_platform_.one_thread = one_thread;
  setup_platform_.current_known = current_known;
}

SimPlatform::~SimPlatform() {
  if (g_running_sim == this) g_running_sim = nullptr;
  if (track_fns_) core::detail::g_model_fn_stack = nullptr;
}

void SimPlatform::begin(const Scenario& scenario, std::vector<std::vector<OpOutcome>>* outcomes,
                        Strategy* strategy_override) {
  scenario_ = &scenario;
  outcomes_ = outcomes;
  num_tasks_ = 0;
  runnable_ = 0;
  parked_ = 0;
  step_ = 0;
  unscheduled_ = false;
  // The function names are for explain's trace and the sanitizer hooks'
  // context line; otherwise the markers find a null stack.
#if defined(VMAFUZZ_TSAN) || defined(VMAFUZZ_ASAN)
  track_fns_ = true;
#else
  track_fns_ = trace_.keeps_events();
#endif
  set_current(-1);
  g_running_sim = this;
  mm_users_.fill(0);
  init_task_ = nullptr;
  // A fresh strategy object per run, as make_strategy() would make it.
  direct_ = Direct::kOther;
  if (strategy_override) {
    active_strategy_ = strategy_override;
  } else if (scenario.strategy == StrategyKind::kSwitchList) {
    switch_list_ = SwitchListStrategy{};
    active_strategy_ = &switch_list_;
    direct_ = Direct::kSwitchList;
  } else if (scenario.strategy == StrategyKind::kPct) {
    pct_ = PctStrategy(scenario.pct_depth);
    active_strategy_ = &pct_;
    direct_ = Direct::kPct;
  } else if (scenario.strategy == StrategyKind::kRandom) {
    random_ = RandomStrategy{};
    active_strategy_ = &random_;
    direct_ = Direct::kRandom;
  } else {
    strategy_ = make_strategy(scenario.strategy, scenario.pct_depth);
    active_strategy_ = strategy_.get();
  }
  choices_.emplace(scenario.choices);
  reads_.emplace(scenario.reads);
  const bool c11 = memory_model_ == MemoryModel::kC11;
  hb_.begin(kMaxTasks, race_oracle_ || c11, lazy_race_tracking_ && !c11);  // C11 mode reads the clocks at every access
  history_.begin(c11);
  weak_loads = version_only_.weak_loads = c11;
  pending_back_ = 0;
}

void SimPlatform::add_task(const TaskProgram& program, task_struct* ts, const OpContext& ctx) {
  // Field by field, not `st = SimTask{}`: a temporary built and copied was
  // about 60 instructions a task on every run. The model-function stack is
  // read only below its depth.
  SimTask& st = tasks_[num_tasks_];
  st.platform = this;
  st.index = num_tasks_;
  st.ts = ts;
  st.fiber = nullptr;
  st.program = &program;
  st.ctx = ctx;
  st.op = -1;
  st.op_kind = FeatureRecorder::kNoOp;
  st.last_op = -1;
  st.parked = false;
  st.finished = false;
  st.exiting = false;
  st.fn_stack.depth = 0;
  st.ts->platform_data = &st;
  pending_access_[num_tasks_] =
      program.ops.empty() ? PendingAccess{}
                          : PendingAccess{kOwnWordId + static_cast<uint32_t>(num_tasks_), core::SharedWordKind::kSignal,
                                          core::AccessKind::kLoad, true};
  ++mm_users_[program.mm];
  runnable_ |= TaskSet{1} << num_tasks_;
  ++num_tasks_;
}

void SimPlatform::begin_setup() {
  set_setup_mode(true);
  platform_before_setup_ = core::detail::g_running_platform;
  core::detail::g_running_platform = &setup_platform_;
}

void SimPlatform::end_setup() {
  core::detail::g_running_platform = platform_before_setup_;
  platform_before_setup_ = nullptr;
  set_setup_mode(false);
}

// ---- core::Platform ---------------------------------------------------

VMAFUZZ_TSAN_NO_FRAME void SimPlatform::scheduling_point(const SharedAccess& a) {
  HarnessSection harness;
  if (setup_mode_) return;
  if (current_ < 0) core::harness_bug("scheduling point outside a task");
  if (judge_.stopped()) throw ExecutionAborted{};
  if (unscheduled_ || alone_at_exit()) [[unlikely]] {
    unscheduled_point(a);
    return;
  }
  scheduled_point(a);
}

// The scheduling point proper, out of line: scheduling_point() itself then
// saves no registers before its early returns and the alone-at-exit suffix
// (a tail call each), where this one saves six.
void SimPlatform::scheduled_point(const SharedAccess& a) {
  ++step_;
  pending_word_id_ = canonical_word_id(a);
  pending_access_[current_] = PendingAccess{pending_word_id_, a.kind, a.access, true};
  pending_fn_path_ = fn_path_of_current();
  pending_owner_ = trace_.keeps_events() ? owner_of(a) : -1;
  // Hashed here only when no completion event follows (a spinlock
  // acquisition); otherwise only a kept trace records it (the test spares
  // building the event at every point).
  if (const bool hash = a.kind == core::SharedWordKind::kSpinlock; hash || trace_.keeps_events()) {
    trace_.add(TraceEvent{step_, TraceEventKind::kAccess, static_cast<int8_t>(current_), a.kind, a.access,
                          pending_word_id_, 0, 0, 0, pending_owner_, pending_fn_path_},
               hash);
  }
  if (judge_.on_step(current_, step_)) throw ExecutionAborted{};
  const Decision d = decide(current_);
  switch (d.kind) {
    case Decision::Kind::kContinue: return;
    case Decision::Kind::kSwitch:
      if (d.task >= 0 && d.task < num_tasks_ && d.task != current_ && is_runnable(d.task)) {
        const uint32_t id = pending_word_id_;
        const uint16_t fn_path = pending_fn_path_;
        const int16_t owner = pending_owner_;
        switch_task(d.task);
        // the other tasks' scheduling points overwrote them
        pending_word_id_ = id;
        pending_fn_path_ = fn_path;
        pending_owner_ = owner;
      }
      return;
    case Decision::Kind::kSpuriousWake:
      if (d.task >= 0 && d.task < num_tasks_ && tasks_[d.task].parked) {
        trace_.add(TraceEvent{step_, TraceEventKind::kSpuriousWake, static_cast<int8_t>(d.task)});
        wake(tasks_[d.task].ts, ~0u, -1);
      }
      return;
    case Decision::Kind::kKill:
      if (d.task >= 0 && d.task < num_tasks_ && !tasks_[d.task].finished) {
        trace_.add(TraceEvent{step_, TraceEventKind::kKill, static_cast<int8_t>(d.task)});
        // send_sigkill() without its scheduling points: this is an event, not a task's op.
        tasks_[d.task].ts->fatal_signal.raw_store(true, std::memory_order_seq_cst);
        wake(tasks_[d.task].ts, core::TASK_WAKEKILL | core::TASK_INTERRUPTIBLE, -1);
      }
      return;
  }
}

// An access only one of two compared versions makes (core/lock_version.h),
// through version_only_platform(): traced, but no step and no decision, so
// both versions read the choice stream at the same accesses (docs/SCHEDULER.md).
void SimPlatform::version_only_access(const SharedAccess& a) {
  HarnessSection harness;
  if (setup_mode_) return;
  if (current_ < 0) core::harness_bug("scheduling point outside a task");
  if (judge_.stopped()) throw ExecutionAborted{};
  pending_word_id_ = canonical_word_id(a);
  pending_fn_path_ = fn_path_of_current();
  pending_owner_ = trace_.keeps_events() ? owner_of(a) : -1;
  trace_.add(TraceEvent{step_, TraceEventKind::kAccess, static_cast<int8_t>(current_), a.kind, a.access,
                        pending_word_id_, kVersionOnlyAccess, 0, 0, pending_owner_, pending_fn_path_},
             false);
}

VMAFUZZ_TSAN_NO_FRAME void SimPlatform::access_done(const SharedAccess& a, uint64_t before, uint64_t after) {
  HarnessSection harness;
  if (unscheduled_) [[unlikely]] {
    unscheduled_access_done(a, before, after);
    return;
  }
  scheduled_access_done(a, before, after);
}

// Out of line, as scheduled_point(): access_done() is a test and a tail call.
VMAFUZZ_TSAN_NO_FRAME void SimPlatform::scheduled_access_done(const SharedAccess& a, uint64_t before, uint64_t after) {
  // Two instantiations, so that the SC path has none of C11 mode's work.
  if (history_.enabled()) {
    access_done_impl<true, true>(a, before, after);
  } else {
    access_done_impl<false, true>(a, before, after);
  }
}

// Pointer-valued words are named canonically: addresses differ between builds.
// Inlined: it runs at every access (out of line it cost 2% of the engine).
inline __attribute__((always_inline)) void SimPlatform::canonical_values(const SharedAccess& a, uint64_t& before, uint64_t& after) {
  if (a.kind == core::SharedWordKind::kRcuwaitTask) {
    before = pid_value(before);
    after = pid_value(after);
  } else if (a.kind == core::SharedWordKind::kMmTree) {
    before = trace_.ids().id_of(reinterpret_cast<const void*>(before));
    after = trace_.ids().id_of(reinterpret_cast<const void*>(after));
  }
}

// kScheduled: a scheduling point's completion, hashed and fed to the features;
// otherwise one in the alone-at-exit suffix, checked but recorded only in a
// kept trace (unscheduled_point()).
template <bool kC11, bool kScheduled>
void SimPlatform::access_done_impl(const SharedAccess& a, uint64_t before, uint64_t after) {
  // arg 1 + k: the load read the k-th store before the latest (C11 mode).
  const auto arg = kC11 ? static_cast<uint32_t>(1 + pending_back_) : 1u;
  pending_back_ = 0;
  const bool writes = kC11 && a.access != core::AccessKind::kLoad && !(a.order & core::kCmpxchgFailed);
  uint32_t epoch = 0;
  if constexpr (kC11) {
    if (writes) {
      epoch = hb_.clock(current_)[static_cast<size_t>(current_)];
    } else if (a.access == core::AccessKind::kCmpxchg) {
      history_.on_load(current_, a, before, hb_.clock(current_), *reads_);  // reads the latest
    }
  }
  const uint64_t raw_before = before;
  const uint64_t raw_after = after;
  canonical_values(a, before, after);
  if (kScheduled || trace_.keeps_events()) {
    trace_.add(TraceEvent{step_, TraceEventKind::kAccess, static_cast<int8_t>(current_), a.kind, a.access,
                          pending_word_id_, arg, before, after, pending_owner_, pending_fn_path_},
               kScheduled);
  }
  if (hb_.enabled()) hb_.on_access(current_, step_, a);
  if (kC11 && writes && hb_.enabled()) {
    history_.on_store(current_, a, raw_before, raw_after, epoch, hb_.release_clock(a.word, a.kind), step_);
  }
  const core::vm_area_struct* vma = vma_of_word(a);
  if (kScheduled && features_.enabled()) {
    features_.on_access(current_, op_kind_of(current_), tasks_[current_].ctx.mm, vma, a, pending_word_id_, before,
                        after);
  }
  // A finding stops the task at its next scheduling point.
  judge_.on_access(current_, vma, a, before, after);
}

// The suffix is a fixed sequence: no other task can run, be woken or be
// killed in any way that matters (a SIGKILL would only set the signal word of
// a task whose teardown takes no killable wait and checks no signal). So no
// step and no decision. The judge's per-step checks still run where they can
// fire: step_ stays, and the last scheduled point checked it against the
// bound; a finding an observer made in the model code since the last access
// stops the task here, before its access, as at a scheduled point.
void SimPlatform::unscheduled_point(const SharedAccess& a) {
  if (!unscheduled_ || trace_.keeps_events() || suffix_read_held_) [[unlikely]] {
    unscheduled_point_slow(a);  // a tail call: no register saves here
    return;
  }
  if (judge_.on_unscheduled_step(false)) throw ExecutionAborted{};
}

// The suffix's first point, every point of a kept trace, and every point
// while a task read-holds a VMA.
void SimPlatform::unscheduled_point_slow(const SharedAccess& a) {
  if (!unscheduled_) {
    unscheduled_ = true;
    active_strategy_->on_unscheduled_suffix(current_);
    trace_.add(TraceEvent{step_, TraceEventKind::kAloneAtExit, static_cast<int8_t>(current_)}, false);
    // The race tracker reports only at a plain access, and the suffix makes
    // none (the teardown frees VMAs without touching their payload;
    // plain_access() refuses one), so in SC mode what it would record from
    // here on is read by nothing. C11 mode keeps it: the store history reads
    // its clocks to choose what the suffix's loads may read.
    if (!history_.enabled()) hb_.stop();
    // Only an operation makes a task read-hold a VMA: none runs from here
    // on, so if no task read-holds one now, the read-held checks have
    // nothing to look at for the rest of the run.
    suffix_read_held_ = judge_.any_read_held();
    if (!history_.enabled() && !trace_.keeps_events() && !suffix_read_held_) enter_suffix_platform();
  }
  if (trace_.keeps_events()) {  // explain's timeline and the two-version comparison
    pending_word_id_ = canonical_word_id(a);
    pending_fn_path_ = fn_path_of_current();
    pending_owner_ = owner_of(a);
    trace_.add(TraceEvent{step_, TraceEventKind::kAccess, static_cast<int8_t>(current_), a.kind, a.access,
                          pending_word_id_, 0, 0, 0, pending_owner_, pending_fn_path_},
               false);
  }
  if (judge_.on_unscheduled_step(suffix_read_held_)) throw ExecutionAborted{};
}

// The running platform's hooks are the suffix platform's from here on (for
// this task's accesses) when the sim's would take unscheduled_point()'s and
// unscheduled_access_done()'s fast paths at every access: SC, no kept trace,
// no read-held VMA. Only when the sim is the running platform (not inside a
// version-only access, not a test calling the hook directly).
void SimPlatform::enter_suffix_platform() {
  if (core::detail::g_running_platform != this) return;
  suffix_platform_.access_values = access_values;
  suffix_platform_.weak_loads = weak_loads;
  suffix_platform_.one_thread = one_thread;
  suffix_platform_.current_known = current_known;
  suffix_platform_.current_task = current_task;
  core::detail::g_running_platform = &suffix_platform_;
}

void SimPlatform::leave_suffix_platform() {
  HarnessSection harness;
  if (core::detail::g_running_platform == &suffix_platform_) core::detail::g_running_platform = this;
}

// scheduling_point() -> unscheduled_point() in that suffix: current_ is the
// exiting task, not setup mode, and unscheduled_point()'s slow conditions are false.
void SimPlatform::suffix_point() {
  HarnessSection harness;
  if (judge_.stopped()) throw ExecutionAborted{};
  if (judge_.on_unscheduled_step(false)) throw ExecutionAborted{};
}

// access_done() -> unscheduled_access_done() in that suffix.
void SimPlatform::suffix_access_done(const SharedAccess& a, uint64_t before, uint64_t after) {
  HarnessSection harness;
  judge_.on_access(current_, vma_of_word(a), a, before, after);
}

// The alone-at-exit suffix's completions: out of line, the hot access_done() stays small.
// SC and untraced (the common case): the race tracker is stopped
// (unscheduled_point_slow()), so only the judge's checks, on raw values. The
// oracles read an mm-tree word's values not at all and an rcuwait's only for
// zero and equality, which pid_value() keeps.
void SimPlatform::unscheduled_access_done(const SharedAccess& a, uint64_t before, uint64_t after) {
  if (history_.enabled() || trace_.keeps_events()) [[unlikely]] {
    unscheduled_access_done_full(a, before, after);  // a tail call: no register saves here
    return;
  }
  judge_.on_access(current_, vma_of_word(a), a, before, after);
}

void SimPlatform::unscheduled_access_done_full(const SharedAccess& a, uint64_t before, uint64_t after) {
  if (history_.enabled()) {
    access_done_impl<true, false>(a, before, after);
  } else {
    access_done_impl<false, false>(a, before, after);
  }
}

task_struct* SimPlatform::current_or_null() {
  HarnessSection harness;
  if (setup_mode_) return init_task_;
  return current_ >= 0 ? tasks_[current_].ts : nullptr;
}

void SimPlatform::schedule() {
  HarnessSection harness;
  SimTask& me = tasks_[current_];
  // Every return orders the wakers' accesses before the wakee's (hb_tracker.h).
  if (hb_.enabled()) hb_.on_schedule_return(me.index);
  const unsigned state = me.ts->__state.peek(std::memory_order_relaxed);
  if (state == core::TASK_RUNNING) return;
  if ((state & core::TASK_WAKEKILL) && me.ts->fatal_signal.peek(std::memory_order_relaxed)) {
    me.ts->__state.raw_store(core::TASK_RUNNING, std::memory_order_relaxed);
    return;
  }
  mark_parked(me);
  pending_access_[me.index] = PendingAccess{kOwnWordId + static_cast<uint32_t>(me.index),
                                            core::SharedWordKind::kTaskState, core::AccessKind::kStore, true};
  trace_.add(TraceEvent{step_, TraceEventKind::kPark, static_cast<int8_t>(me.index), core::SharedWordKind::kOther,
                        core::AccessKind::kLoad, 0, state, 0, 0, -1, fn_path_of_current()});
  if (runnable_set() == 0) {
    set_current(-1);
    fibers_.switch_to_main();  // quiescent: the main context has it judged
  } else {
    const Decision d = decide(-1);
    switch_task(d.task);
  }
  set_current(me.index);
  if (judge_.stopped()) throw ExecutionAborted{};
  // invariant: a parked task is resumed only once woken, or to be unwound.
  if (me.parked) core::harness_bug("parked task resumed without a wake-up");
  if (hb_.enabled()) hb_.on_schedule_return(me.index);
}

bool SimPlatform::wake_up_state(task_struct* p, unsigned state) {
  HarnessSection harness;
  return wake(p, state, setup_mode_ ? -1 : current_);
}

void SimPlatform::fence(uint8_t order) {
  HarnessSection harness;
  if (hb_tracking()) hb_.on_fence(current_, step_, order);
  if (history_.enabled() && hb_tracking()) history_.on_fence(current_, order);
}

uint64_t SimPlatform::weak_load(const SharedAccess& a, uint64_t latest) {
  HarnessSection harness;
  if (!hb_tracking() || !history_.enabled()) return latest;
  const StoreHistory::Read r = history_.on_load(current_, a, latest, hb_.clock(current_), *reads_);
  pending_back_ = r.back;
  if (r.back > 0) hb_.read_older_store(r.store->has_rel ? &r.store->rel : nullptr);
  return r.value;
}

// A version-only load reads the latest store, as a version without it
// would not read at all, so both versions draw the same reads; noting it
// keeps the task's later loads of the word coherent with it.
uint64_t SimPlatform::version_only_weak_load(const SharedAccess& a, uint64_t latest) {
  HarnessSection harness;
  if (hb_tracking() && history_.enabled()) history_.on_latest_load(current_, a, latest, hb_.clock(current_));
  return latest;
}

void SimPlatform::raw_access(const SharedAccess& a) {
  HarnessSection harness;
  if (history_.enabled()) history_.forget(a.word);  // a write the history does not see
  // The scheduler's own raw stores (wake-ups, SIGKILL) are no task's accesses.
  if (a.kind == core::SharedWordKind::kTaskState || a.kind == core::SharedWordKind::kSignal) return;
  if (hb_tracking()) hb_.on_access(current_, step_, a);
}

// Whether plain accesses are race-tracked now. The tracker is off in setup,
// without a task, when the race oracle is off, and once a full word table
// stopped it; never in the alone-at-exit suffix, which it was stopped for on
// the premise of no plain access there.
[[gnu::always_inline]] inline bool SimPlatform::plain_tracking() const {
  if (hb_tracking()) return true;
  if (unscheduled_) core::harness_bug("plain access in the alone-at-exit suffix");
  return false;
}

// One payload field's plain access by the running task (`name` its operation).
[[gnu::always_inline]] inline void SimPlatform::track_plain(const void* object, core::PlainField f, core::PlainOp op, std::string_view name) {
  const auto* vma = static_cast<const core::vm_area_struct*>(object);
  if (op == core::PlainOp::kAlloc && history_.enabled()) {  // a new VMA: its words' old stores are gone
    history_.forget(&vma->vm_refcnt.refs);
    history_.forget(&vma->vm_lock_seq);
  }
  if (const HbRace* race = hb_.on_plain(current_, step_, name, vma->obj_id, f, op)) {
    // The task stops at its next scheduling point, as after a core report.
    judge_.stop_with(OracleId::kDataRace, current_, race->detail, object, race->message);
  }
}

VMAFUZZ_TSAN_NO_FRAME void SimPlatform::plain_access(const void* object, core::PlainField f, core::PlainOp op) {
  HarnessSection harness;
  if (plain_tracking()) track_plain(object, f, op, operation(current_));
}

// plain_access() of each field in order, with the HarnessSection and the
// running operation's name (which cannot change here) taken once.
VMAFUZZ_TSAN_NO_FRAME void SimPlatform::plain_access_all(const void* object, core::PlainOp op) {
  HarnessSection harness;
  if (!plain_tracking()) return;
  const std::string_view name = operation(current_);
  for (int i = 0; i <= static_cast<int>(core::PlainField::kMaxValue); ++i) {
    // Tested at each field, as plain_access() does: a full word table stops the tracker.
    if (i > 0 && !plain_tracking()) return;
    track_plain(object, static_cast<core::PlainField>(i), op, name);
  }
}

bool SimPlatform::wake(task_struct* p, unsigned state, int waker) {
  if (!(p->__state.peek(std::memory_order_relaxed) & state)) return false;
  if (waker >= 0 && hb_.enabled()) {
    if (auto* t = static_cast<SimTask*>(p->platform_data)) hb_.on_wake(waker, t->index);
  }
  p->__state.raw_store(core::TASK_RUNNING, std::memory_order_relaxed);
  if (auto* t = static_cast<SimTask*>(p->platform_data); t && t->parked) {
    mark_woken(*t);
    if (features_.enabled()) {
      features_.on_wake(op_kind_of(t->index), current_ >= 0 ? op_kind_of(current_) : FeatureRecorder::kNoWaker);
    }
    // fn_path: where the waker is.
    trace_.add(TraceEvent{step_, TraceEventKind::kWake, static_cast<int8_t>(t->index), core::SharedWordKind::kOther,
                          core::AccessKind::kLoad, 0, static_cast<uint32_t>(current_ + 1), 0, 0, -1,
                          current_ >= 0 ? fn_path_of_current() : uint16_t{0}});
  }
  return true;
}

// ---- RunView ----------------------------------------------------------

std::string_view SimPlatform::operation(int t) const {
  const SimTask& st = tasks_[t];
  if (st.op < 0) return {};
  return op_info(st.program->ops[static_cast<size_t>(st.op)].kind).name;
}

const task_struct* SimPlatform::sleeper(int t) const {
  return parked_ >> t & 1 ? tasks_[t].ts : nullptr;
}

// ---- scheduling -------------------------------------------------------

uint32_t SimPlatform::canonical_word_id(const SharedAccess& a) {
  if (a.kind == core::SharedWordKind::kRwsemWaiter) return kStackWordIds + static_cast<uint32_t>(current_);
  return trace_.ids().id_of(a.word);
}

void SimPlatform::set_current(int t) {
  current_ = t;
  update_current_task();
  if (track_fns_) core::detail::g_model_fn_stack = t >= 0 ? &tasks_[t].fn_stack : nullptr;
}

int16_t SimPlatform::owner_of(const SharedAccess& a) const {
  if (const core::vm_area_struct* vma = vma_of_word(a)) return static_cast<int16_t>(vma->obj_id);
  if (const core::mm_struct* mm = mm_of_word(a)) {
    // Compared, not dereferenced, until it is known to be a run's mm.
    for (int t = 0; t < num_tasks_; ++t) {
      if (tasks_[t].ctx.mm == mm) return static_cast<int16_t>(mm->id);
    }
    return -1;
  }
  if (a.kind == core::SharedWordKind::kTaskState || a.kind == core::SharedWordKind::kSignal) {
    for (int t = 0; t < num_tasks_; ++t) {
      if (a.word == &tasks_[t].ts->__state || a.word == &tasks_[t].ts->fatal_signal) return static_cast<int16_t>(t);
    }
  }
  if (a.kind == core::SharedWordKind::kRwsemWaiter) return static_cast<int16_t>(current_);
  return -1;
}

uint16_t SimPlatform::fn_path_of_current() {
  if (!trace_.keeps_events() || current_ < 0) return 0;
  return trace_.intern_fn_path(tasks_[current_].fn_stack);
}

void SimPlatform::name_fiber(const SimTask& t) const {
#if defined(VMAFUZZ_TSAN)
  // The task's name as .sched writes it, and its operation: a report's
  // "thread T3 'T2 munmap#1'" is task T2 in its operation 1 (munmap).
  // TSan prints a fiber's name as it is at the report, so between operations
  // (and after the last) the name keeps the last one: an earlier access of
  // the race was most likely made there ("T2 after munmap#1").
  // fmt, truncated as snprintf would: snprintf through TSan's interceptor and
  // a std::string were about 3% of a tsan-libfuzzer campaign (twice per
  // operation; docs/BENCHMARKS.md, "TSan against plain, round 8").
  char name[64];
  const int op = t.op >= 0 ? t.op : t.last_op;
  const size_t n =
      op >= 0 ? fmt::format_to_n(name, sizeof name - 1, "T{} {}{}#{}", t.index, t.op >= 0 ? "" : "after ",
                                 op_info(t.program->ops[static_cast<size_t>(op)].kind).name, op)
                    .size
              : fmt::format_to_n(name, sizeof name - 1, "T{}", t.index).size;
  name[std::min(n, sizeof name - 1)] = '\0';
  if (t.fiber) FiberRuntime::set_name(t.fiber, name);
#else
  (void)t;
#endif
}

void SimPlatform::mark_parked(SimTask& t) {
  t.parked = true;
  runnable_ &= ~(TaskSet{1} << t.index);
  if (!t.finished) parked_ |= TaskSet{1} << t.index;
}

void SimPlatform::mark_woken(SimTask& t) {
  t.parked = false;
  parked_ &= ~(TaskSet{1} << t.index);
  if (!t.finished) runnable_ |= TaskSet{1} << t.index;
}

void SimPlatform::mark_finished(SimTask& t) {
  t.finished = true;
  runnable_ &= ~(TaskSet{1} << t.index);
  parked_ &= ~(TaskSet{1} << t.index);
}

// From a task: run task t until someone switches back to us.
void SimPlatform::switch_task(int t) {
  if (t < 0 || !is_runnable(t)) core::harness_bug("strategy picked a task that cannot run");
  [[maybe_unused]] const int me = current_;
  trace_.add(TraceEvent{step_, TraceEventKind::kSwitch, static_cast<int8_t>(t)});
  // set_current(t) without its tests: there is no switch in setup mode, t >= 0,
  // and the setup platform's current_task is set when setup mode begins.
  current_ = t;
  current_task = tasks_[t].ts;
  if (track_fns_) core::detail::g_model_fn_stack = &tasks_[t].fn_stack;
  fibers_.switch_to(tasks_[t].fiber);
  // Whoever switched back to this task made it current first (switch_task(),
  // run_from_main()): no set_current(me) here, about 12 instructions a switch.
#ifndef NDEBUG
  if (current_ != me) core::harness_bug("a task resumed without being made current");
#endif
  if (judge_.stopped()) throw ExecutionAborted{};
}

// From the main context: run task t until it finishes or the run is quiescent.
void SimPlatform::run_from_main(int t, bool unwind) {
  // owner (metadata, not hashed) 1: switched to only to be unwound.
  trace_.add(TraceEvent{step_, TraceEventKind::kSwitch, static_cast<int8_t>(t), core::SharedWordKind::kOther,
                        core::AccessKind::kLoad, 0, 0, 0, 0, static_cast<int16_t>(unwind ? 1 : -1)});
  set_current(t);
  fibers_.switch_to(tasks_[t].fiber);
  set_current(-1);
}

void SimPlatform::task_entry(void* arg) {
  SimTask& t = *static_cast<SimTask*>(arg);
  bool stopped;
  {
    HarnessSection harness;
    stopped = t.platform->judge_.stopped();
  }
  try {
    if (!stopped) t.platform->run_program(t);
  } catch (const ExecutionAborted&) {
  }
  t.platform->leave_suffix_platform();
  HarnessSection harness;
  t.platform->mark_finished(t);
}

// Model code (ops, exit) runs outside HarnessSections; the bookkeeping around
// it runs inside them.
void SimPlatform::run_program(SimTask& t) {
  size_t num_ops;
  {
    HarnessSection harness;
    num_ops = t.program->ops.size();
  }
  for (size_t i = 0; i < num_ops; ++i) {
    // A task with SIGKILL pending dies at its next return to user space.
    if (core::fatal_signal_pending(t.ts)) break;
    Op op;
    {
      HarnessSection harness;
      op = t.program->ops[i];
      t.op = static_cast<int>(i);
      t.op_kind = static_cast<uint32_t>(op.kind);
      name_fiber(t);
      trace_.add(TraceEvent{step_, TraceEventKind::kOpBegin, static_cast<int8_t>(t.index),
                            core::SharedWordKind::kOther, core::AccessKind::kLoad, 0, static_cast<uint32_t>(i)});
    }
    const OpOutcome outcome = run_op(t.ctx, op);
    HarnessSection harness;
    (*outcomes_)[static_cast<size_t>(t.index)][i] = outcome;
    if (judge_.on_op_end(t.index)) throw ExecutionAborted{};  // the finding names this operation
    t.last_op = t.op;
    t.op = -1;
    t.op_kind = FeatureRecorder::kNoOp;
    name_fiber(t);
    trace_.add(TraceEvent{step_, TraceEventKind::kOpEnd, static_cast<int8_t>(t.index), core::SharedWordKind::kOther,
                          core::AccessKind::kLoad, 0, static_cast<uint32_t>(i), 0, static_cast<uint64_t>(outcome)});
  }
  {
    HarnessSection harness;
    t.exiting = true;
  }
  release_held_locks(t.ctx);
  // mmput(): the last task of an mm tears it down (exit_mmap) and drops it.
  bool last_user;
  {
    HarnessSection harness;
    if (judge_.on_task_exit(t.index)) throw ExecutionAborted{};
    last_user = --mm_users_[t.program->mm] == 0;
    if (hb_.enabled()) hb_.on_mm_put(t.index, static_cast<int>(t.program->mm), last_user);
  }
  if (last_user) exit_mm(t.ctx.mm, t.ctx.observer);
}

void SimPlatform::drive() {
  active_strategy_->begin(num_tasks_, total_ops(*scenario_), *choices_);
  for (int t = 0; t < num_tasks_; ++t) {
    tasks_[t].fiber = fibers_.start(&task_entry, &tasks_[t]);
    name_fiber(tasks_[t]);
  }
  for (;;) {
    if (judge_.stopped()) {
      // Unwind every unfinished task on its own fiber.
      for (int t = 0; t < num_tasks_; ++t) {
        if (!tasks_[t].finished) run_from_main(t, /*unwind=*/true);
      }
      g_running_sim = nullptr;
      return;
    }
    const TaskSet runnable = runnable_set();
    if (!runnable) {
      bool all_finished = true;
      for (int t = 0; t < num_tasks_; ++t) all_finished &= tasks_[t].finished;
      if (all_finished) {
        g_running_sim = nullptr;
        return;
      }
      judge_.on_quiescence();
      continue;
    }
    const Decision d = decide(-1);
    run_from_main(d.kind == Decision::Kind::kSwitch && d.task >= 0 && d.task < num_tasks_ && is_runnable(d.task)
                      ? d.task
                      : next_in_set(runnable, 0, num_tasks_));
  }
}

}  // namespace vmafuzz::fuzz
