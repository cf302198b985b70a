// sim_platform.h - the sim platform: every task a fiber, one running at a time.
//
// Implements core::Platform for the Kernel of one run. At every scheduling
// point (each shared-word access) it asks the scenario's Strategy whether to
// keep running, switch, or inject a spurious wake-up or SIGKILL; schedule()
// parks a fiber until a wake-up and never re-checks a sleeper's condition, so
// a lost wake-up stays lost. It traces every event (trace.h), and reports
// what happened through narrow calls: steps, accesses, operation ends and
// quiescence to the Judge (which may stop the run), accesses and wake-ups to
// the FeatureRecorder. When the judge stops the run, every unfinished task is
// unwound on its own fiber (ExecutionAborted, thrown where the task was
// suspended and caught at its entry; none crosses a switch).
//
// Scheduler state is shared between the task fibers by design: every piece of
// bookkeeping runs inside a HarnessSection, model code (ops, exit) outside.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/platform.h"
#include "core/report.h"
#include "core/task.h"
#include "fuzz/choice_source.h"
#include "fuzz/feature_recorder.h"
#include "fuzz/hb_tracker.h"
#include "fuzz/fiber.h"
#include "fuzz/judge.h"
#include "fuzz/ops.h"
#include "fuzz/scenario.h"
#include "fuzz/store_history.h"
#include "fuzz/strategy.h"
#include "fuzz/strategy_pct.h"
#include "fuzz/strategy_random.h"
#include "fuzz/strategy_switch_list.h"
#include "fuzz/trace.h"

namespace vmafuzz::fuzz {

class SimPlatform final : public core::Platform, public RunView {
 public:
  // `trace`, `judge` and `features` outlive the platform; the fiber pool is
  // reused across runs.
  SimPlatform(Trace& trace, Judge& judge, FeatureRecorder& features);
  ~SimPlatform() override;
  SimPlatform(const SimPlatform&) = delete;
  SimPlatform& operator=(const SimPlatform&) = delete;

  // Start a run of `scenario` (no tasks yet, step 0, its strategy and choice
  // stream). Op outcomes go to (*outcomes)[task][op]. `strategy_override`, if
  // set, decides instead of the scenario's strategy (RunOptions::strategy).
  // Context: main, no Kernel running.
  void begin(const Scenario& scenario, std::vector<std::vector<OpOutcome>>* outcomes,
             Strategy* strategy_override = nullptr);
  // Setup runs model code unpreempted as `init`: scheduling points are ignored
  // and current_or_null() is init (null until set_init_task). The model's
  // accesses go to setup_platform_ until end_setup(). Context: main, with
  // this platform's Kernel running.
  void begin_setup();
  // The happens-before race oracle (hb_tracker.h) for the next begin()s (RunOptions::race_oracle).
  void set_race_oracle(bool on) { race_oracle_ = on; }
  // Its SC-mode laziness (hb_tracker.h; RunOptions::lazy_race_tracking).
  void set_lazy_race_tracking(bool on) { lazy_race_tracking_ = on; }
  // The memory model of the next begin()s (store_history.h for kC11).
  void set_memory_model(MemoryModel m) { memory_model_ = m; }
  void set_init_task(core::task_struct* init) {
    init_task_ = init;
    update_current_task();
  }
  void end_setup();
  // Add the next task (index num_tasks()) running `program` as `ts` on `ctx`.
  void add_task(const TaskProgram& program, core::task_struct* ts, const OpContext& ctx);
  const OpContext& context(int t) const { return tasks_[t].ctx; }

  // Run the tasks until all finish or the judge stops the run (then unwind
  // them). Context: main, after setup, with the run's Kernel running.
  void drive();

  // ---- core::Platform
  void scheduling_point(const core::SharedAccess& a) override;
  void access_done(const core::SharedAccess& a, uint64_t before, uint64_t after) override;
  core::task_struct* current_or_null() override;
  void schedule() override;
  bool wake_up_state(core::task_struct* p, unsigned state) override;
  void fence(uint8_t order) override;
  void raw_access(const core::SharedAccess& a) override;
  void plain_access(const void* object, core::PlainField f, core::PlainOp op) override;
  void plain_access_all(const void* object, core::PlainOp op) override;
  uint64_t weak_load(const core::SharedAccess& a, uint64_t latest) override;

  // The platform core::VersionOnlyAccess scopes make their accesses through
  // when two versions are compared: this one, but an access is no
  // scheduling point (version_only_access()).
  core::Platform& version_only_platform() { return version_only_; }

  // ---- RunView (what the judge reads)
  int num_tasks() const override { return num_tasks_; }
  int current() const override { return setup_mode_ ? -1 : current_; }
  uint64_t step() const override { return step_; }
  std::string_view operation(int t) const override;
  bool finished(int t) const override { return tasks_[t].finished; }
  const core::task_struct* sleeper(int t) const override;

 private:
  struct SimTask {  // add_task() sets every field: keep it in step
    SimPlatform* platform = nullptr;
    int index = 0;
    core::task_struct* ts = nullptr;
    Fiber* fiber = nullptr;
    const TaskProgram* program = nullptr;
    OpContext ctx{};
    int op = -1;  // index of the operation in flight, -1 between operations
    uint32_t op_kind = FeatureRecorder::kNoOp;  // its OpKind (op_kind_of(), read at every access)
    int last_op = -1;  // the last operation that ended (TSan's fiber name)
    bool parked = false;
    bool finished = false;
    bool exiting = false;  // its operations are done: releasing its locks, mmput
    core::ModelFnStack fn_stack;  // the model functions it is in (core/model_fn.h)
  };

  // wake_up_state(); `waker` -1: the scheduler's own (spurious wake-up,
  // SIGKILL), which orders nothing.
  bool wake(core::task_struct* p, unsigned state, int waker);
  // The running task is outside setup: the tracker follows it.
  bool hb_tracking() const { return hb_.enabled() && !setup_mode_ && current_ >= 0; }
  static void task_entry(void* arg);
  void run_program(SimTask& t);
  void switch_task(int t);
  void run_from_main(int t, bool unwind = false);

  bool is_runnable(int t) const { return runnable_ >> t & 1; }
  TaskSet runnable_set() const { return runnable_; }
  TaskSet parked_set() const { return parked_; }
  // The only writers of SimTask::parked/finished: they keep the two sets in step.
  void mark_parked(SimTask& t);
  void mark_woken(SimTask& t);
  void mark_finished(SimTask& t);
  SchedulerView view(int cur) const { return SchedulerView{num_tasks_, runnable_, parked_, cur, step_, pending_access_.data()}; }
  // Inlined into the scheduling point (out of line it is a second call per
  // point for the other strategies).
  __attribute__((always_inline)) Decision decide(int cur) {
    switch (direct_) {
      case Direct::kSwitchList: return switch_list_.decide(view(cur), *choices_);
      case Direct::kPct: return pct_.decide(view(cur), *choices_);
      case Direct::kRandom: return random_.decide(view(cur), *choices_);
      case Direct::kOther: break;
    }
    return active_strategy_->decide(view(cur), *choices_);
  }
  uint32_t canonical_word_id(const core::SharedAccess& a);
  // Alone at exit (docs/SCHEDULER.md): the running task has done its
  // operations and every other task has finished, so nothing can interleave
  // with the rest of the run. Its accesses are made and checked (judge, hb
  // tracker, C11 history, parking) but are no scheduling points and are not
  // traced.
  bool alone_at_exit() const {
    return tasks_[current_].exiting && runnable_ == TaskSet{1} << current_ && parked_ == 0;
  }
  [[gnu::noinline]] void scheduled_point(const core::SharedAccess& a);
  [[gnu::noinline]] void scheduled_access_done(const core::SharedAccess& a, uint64_t before, uint64_t after);
  void unscheduled_point(const core::SharedAccess& a);
  [[gnu::noinline]] void unscheduled_point_slow(const core::SharedAccess& a);
  // The values of an access as traced and judged (pids, canonical ids).
  void canonical_values(const core::SharedAccess& a, uint64_t& before, uint64_t& after);
  void unscheduled_access_done(const core::SharedAccess& a, uint64_t before, uint64_t after);
  [[gnu::noinline]] void unscheduled_access_done_full(const core::SharedAccess& a, uint64_t before, uint64_t after);
  // scheduling_point() of a core::VersionOnlyAccess: traced, nothing else.
  void version_only_access(const core::SharedAccess& a);
  uint64_t version_only_weak_load(const core::SharedAccess& a, uint64_t latest);

  // Forwards every hook to the sim (weak_load() aside: Platform's own); the
  // sim's other running platforms below override what they do differently.
  class ForwardingPlatform : public core::Platform {
   public:
    explicit ForwardingPlatform(SimPlatform& sim) : sim_(sim) {}
    void scheduling_point(const core::SharedAccess& a) override { sim_.scheduling_point(a); }
    void access_done(const core::SharedAccess& a, uint64_t before, uint64_t after) override {
      sim_.access_done(a, before, after);
    }
    void fence(uint8_t order) override { sim_.fence(order); }
    void raw_access(const core::SharedAccess& a) override { sim_.raw_access(a); }
    void plain_access(const void* object, core::PlainField f, core::PlainOp op) override {
      sim_.plain_access(object, f, op);
    }
    void plain_access_all(const void* object, core::PlainOp op) override { sim_.plain_access_all(object, op); }
    core::task_struct* current_or_null() override { return sim_.current_or_null(); }
    void schedule() override { sim_.schedule(); }
    bool wake_up_state(core::task_struct* p, unsigned state) override { return sim_.wake_up_state(p, state); }

   protected:
    SimPlatform& sim_;
  };

  // Forwards to the sim, but for scheduling_point().
  class VersionOnlyPlatform final : public ForwardingPlatform {
   public:
    using ForwardingPlatform::ForwardingPlatform;
    void scheduling_point(const core::SharedAccess& a) override { sim_.version_only_access(a); }
    // The latest store, no draw, but noted in the C11 history (weak_loads
    // is set as the sim's is).
    uint64_t weak_load(const core::SharedAccess& a, uint64_t latest) override {
      return sim_.version_only_weak_load(a, latest);
    }
  };
  VersionOnlyPlatform version_only_{*this};

  // The running platform from begin_setup() to end_setup(). In setup mode the
  // sim's hooks do nothing (no scheduling point; no access is traced, judged,
  // featured or race-tracked, and the fresh C11 history holds no word to
  // forget), so these do nothing either, without the sim's checks: about 400
  // instructions of a three-task run's setup.
  class SetupPlatform final : public core::Platform {
   public:
    explicit SetupPlatform(SimPlatform& sim) : sim_(sim) {}
    void scheduling_point(const core::SharedAccess& /*a*/) override {}
    void fence(uint8_t /*order*/) override {}
    void raw_access(const core::SharedAccess& /*a*/) override {}
    void plain_access(const void* /*object*/, core::PlainField /*f*/, core::PlainOp /*op*/) override {}
    void plain_access_all(const void* /*object*/, core::PlainOp /*op*/) override {}
    core::task_struct* current_or_null() override { return sim_.current_or_null(); }
    void schedule() override { core::harness_bug("schedule() in setup"); }
    bool wake_up_state(core::task_struct* p, unsigned state) override { return sim_.wake_up_state(p, state); }

   private:
    SimPlatform& sim_;
  };
  SetupPlatform setup_platform_{*this};

  // The running platform in the alone-at-exit suffix of an SC run without a
  // kept trace when no task read-holds a VMA (unscheduled_point_slow()):
  // what the sim's own hooks do there, without their tests of setup mode,
  // the suffix and the trace (about 17 instructions an access, 26 accesses a
  // three-task run). The sim is the running platform again when the task
  // parks (schedule()) or finishes (task_entry()).
  class SuffixPlatform final : public ForwardingPlatform {
   public:
    using ForwardingPlatform::ForwardingPlatform;
    void scheduling_point(const core::SharedAccess& /*a*/) override { sim_.suffix_point(); }
    void access_done(const core::SharedAccess& a, uint64_t before, uint64_t after) override {
      sim_.suffix_access_done(a, before, after);
    }
    void schedule() override {
      sim_.leave_suffix_platform();
      sim_.schedule();
    }
  };
  SuffixPlatform suffix_platform_{*this};
  void suffix_point();
  void suffix_access_done(const core::SharedAccess& a, uint64_t before, uint64_t after);
  void enter_suffix_platform();
  void leave_suffix_platform();
  core::Platform* platform_before_setup_ = nullptr;
  // Outside setup both platforms want the values of accesses (access_values).
  void set_setup_mode(bool on) {
    setup_mode_ = on;
    access_values = version_only_.access_values = !on;
    update_current_task();
  }
  // Platform::current_task: what current_or_null() returns.
  void update_current_task() {
    current_task = setup_mode_ ? init_task_ : current_ >= 0 ? tasks_[current_].ts : nullptr;
    setup_platform_.current_task = current_task;
  }
  // current_ = t, and the model function stack that markers push on is t's.
  void set_current(int t);
  bool plain_tracking() const;
  void track_plain(const void* object, core::PlainField f, core::PlainOp op, std::string_view name);
  // The object a word belongs to (TraceEvent::owner), and the running task's
  // function path id: explain's metadata, computed only when traced.
  int16_t owner_of(const core::SharedAccess& a) const;
  uint16_t fn_path_of_current();
  // ThreadSanitizer names the task's fiber "T<k> <op>#<i>" (no-op elsewhere).
  void name_fiber(const SimTask& t) const;

 public:
  // "step N, task Tk in <op> (<model function path>)" of the running
  // Kernel's sim platform (or "outside a run"), for the sanitizer hooks'
  // ==vmafuzz== line (fuzz/sanitizer_context.cpp). Async-signal-tolerant:
  // no allocation, writes into buf.
  static void describe_running_position(char* buf, size_t size);

 private:
  uint32_t op_kind_of(int t) const { return tasks_[t].op_kind; }
  template <bool kC11, bool kScheduled>
  [[gnu::always_inline]] void access_done_impl(const core::SharedAccess& a, uint64_t before, uint64_t after);

  FiberRuntime fibers_;
  Trace& trace_;
  Judge& judge_;
  FeatureRecorder& features_;
  HbTracker hb_;
  bool race_oracle_ = true;
  bool lazy_race_tracking_ = true;
  MemoryModel memory_model_ = MemoryModel::kSC;
  StoreHistory history_;  // enabled in C11 mode
  int pending_back_ = 0;  // the running load read this many stores before the latest

  // Per run.
  const Scenario* scenario_ = nullptr;
  std::vector<std::vector<OpOutcome>>* outcomes_ = nullptr;
  std::unique_ptr<Strategy> strategy_;
  Strategy* active_strategy_ = nullptr;  // strategy_, a member below or the override
  // The three strategies are members, called directly (no allocation per run,
  // no virtual call per point); direct_ says which one active_strategy_ is
  // (kOther: strategy_ or the override, called through the vtable).
  enum class Direct : uint8_t { kOther, kSwitchList, kPct, kRandom };
  Direct direct_ = Direct::kOther;
  SwitchListStrategy switch_list_;
  PctStrategy pct_{1};
  RandomStrategy random_;
  std::optional<ChoiceSource> choices_;
  std::optional<ChoiceSource> reads_;  // Scenario::reads (C11 mode)
  std::array<SimTask, kMaxTasks> tasks_{};
  std::array<PendingAccess, kMaxTasks> pending_access_{};  // SchedulerView::pending
  int num_tasks_ = 0;
  // Tasks neither finished nor parked / parked and not finished, by index:
  // kept incrementally, the strategy reads them at every scheduling point.
  TaskSet runnable_ = 0;
  TaskSet parked_ = 0;
  std::array<int, kMaxMms> mm_users_{};
  core::task_struct* init_task_ = nullptr;
  int current_ = -1;
  bool setup_mode_ = false;
  bool unscheduled_ = false;  // the run is in its alone-at-exit suffix
  bool suffix_read_held_ = false;  // a task read-held a VMA when it began
  uint64_t step_ = 0;
  // The canonical id computed at the running access's scheduling point, for its
  // access_done(). Restored after a switch at that point (other tasks set it).
  uint32_t pending_word_id_ = 0;
  uint16_t pending_fn_path_ = 0;
  int16_t pending_owner_ = -1;
  bool track_fns_ = false;  // point core's g_model_fn_stack at the running task
};

}  // namespace vmafuzz::fuzz
