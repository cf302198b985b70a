// execution.cpp - the sim platform and the deterministic scheduler of one run.
#include "fuzz/execution.h"

#include <algorithm>
#include <cstddef>
#include <array>
#include <optional>
#include <string>

#include "core/kernel.h"
#include "core/mmap_lock.h"
#include "fuzz/choice_source.h"
#include "fuzz/fiber.h"
#include "fuzz/harness_section.h"
#include "fuzz/ops.h"
#include "fuzz/oracles.h"
#include "fuzz/strategy.h"

namespace vmafuzz::fuzz {

using core::SharedAccess;
using core::task_struct;

namespace {

// Thrown on a task's own fiber when the run stops; caught at the task's entry.
struct ExecutionAborted {};

}  // namespace

struct Execution::Impl final : core::Platform, core::ReportSink {
  struct SimTask {
    Impl* exec = nullptr;
    int index = 0;
    task_struct* ts = nullptr;
    Fiber* fiber = nullptr;
    const TaskProgram* program = nullptr;
    OpContext ctx{};
    int op = -1;  // index of the operation in flight, -1 between operations
    bool parked = false;
    bool finished = false;
  };

  FiberRuntime fibers;
  Trace trace;
  Oracles oracles;
  OracleView oracle_view;

  // Interleaving features: the last writer of each canonical word id.
  struct LastWriter {
    int8_t task = -1;
    uint8_t op = 0;
  };
  std::vector<LastWriter> last_writer;
  // The canonical id computed at the running access's scheduling point, for its
  // access_done(). Restored after a switch at that point (other tasks set it).
  uint32_t pending_word_id = 0;

  // Per run.
  const Scenario* scenario = nullptr;
  RunOptions options;
  ExecutionResult* result = nullptr;
  std::unique_ptr<Strategy> strategy;
  std::optional<ChoiceSource> choices;
  std::array<SimTask, kMaxTasks> tasks{};
  int num_tasks = 0;
  std::vector<task_struct*> task_structs;
  std::array<int, kMaxMms> mm_users{};
  std::vector<core::mm_struct*> mms;
  task_struct* init_task = nullptr;
  int current = -1;
  bool setup_mode = false;
  bool aborting = false;
  uint64_t step = 0;

  // ---- core::Platform -------------------------------------------------

  void scheduling_point(const SharedAccess& a) override {
    HarnessSection harness;
    if (setup_mode) return;
    if (current < 0) core::harness_bug("scheduling point outside a task");
    if (aborting) throw ExecutionAborted{};
    ++step;
    pending_word_id = canonical_word_id(a);
    // Hashed here only when no completion event follows (a spinlock acquisition).
    trace.add(TraceEvent{step, TraceEventKind::kAccess, static_cast<int8_t>(current), a.kind, a.access,
                         pending_word_id},
              a.kind == core::SharedWordKind::kSpinlock);
    if (step > options.max_steps) {
      stop_with(OracleId::kLivelock, current, "", nullptr);
      throw ExecutionAborted{};
    }
    oracles.on_step();
    if (check_oracles()) throw ExecutionAborted{};
    const Decision d = strategy->decide(view(current), *choices);
    switch (d.kind) {
      case Decision::Kind::kContinue: return;
      case Decision::Kind::kSwitch:
        if (d.task >= 0 && d.task < num_tasks && d.task != current && is_runnable(d.task)) {
          const uint32_t id = pending_word_id;
          switch_task(d.task);
          pending_word_id = id;  // the other tasks' scheduling points overwrote it
        }
        return;
      case Decision::Kind::kSpuriousWake:
        if (d.task >= 0 && d.task < num_tasks && tasks[d.task].parked) {
          trace.add(TraceEvent{step, TraceEventKind::kSpuriousWake, static_cast<int8_t>(d.task)});
          wake_up_state(tasks[d.task].ts, ~0u);
        }
        return;
      case Decision::Kind::kKill:
        if (d.task >= 0 && d.task < num_tasks && !tasks[d.task].finished) {
          trace.add(TraceEvent{step, TraceEventKind::kKill, static_cast<int8_t>(d.task)});
          // send_sigkill() without its scheduling points: this is an event, not a task's op.
          tasks[d.task].ts->fatal_signal.raw_store(true, std::memory_order_seq_cst);
          wake_up_state(tasks[d.task].ts, core::TASK_WAKEKILL | core::TASK_INTERRUPTIBLE);
        }
        return;
    }
  }

  bool wants_access_values() const override { return !setup_mode; }

  void access_done(const SharedAccess& a, uint64_t before, uint64_t after) override {
    HarnessSection harness;
    // Pointer-valued words are named canonically: addresses differ between builds.
    if (a.kind == core::SharedWordKind::kRcuwaitTask) {
      before = pid_value(before);
      after = pid_value(after);
    } else if (a.kind == core::SharedWordKind::kMmTree) {
      before = trace.ids().id_of(reinterpret_cast<const void*>(before));
      after = trace.ids().id_of(reinterpret_cast<const void*>(after));
    }
    trace.add(TraceEvent{step, TraceEventKind::kAccess, static_cast<int8_t>(current), a.kind, a.access,
                         pending_word_id, 1, before, after});
    if (options.features) add_access_features(a, before, after);
    oracles.on_vma_access(current, vma_of_word(a), a, before, after);
    oracles.on_access(current, a, before, after);
    check_oracles();
  }

  task_struct* current_or_null() override {
    HarnessSection harness;
    if (setup_mode) return init_task;
    return current >= 0 ? tasks[current].ts : nullptr;
  }

  void schedule() override {
    HarnessSection harness;
    SimTask& me = tasks[current];
    const unsigned state = me.ts->__state.peek(std::memory_order_relaxed);
    if (state == core::TASK_RUNNING) return;
    if ((state & core::TASK_WAKEKILL) && me.ts->fatal_signal.peek(std::memory_order_relaxed)) {
      me.ts->__state.raw_store(core::TASK_RUNNING, std::memory_order_relaxed);
      return;
    }
    me.parked = true;
    trace.add(TraceEvent{step, TraceEventKind::kPark, static_cast<int8_t>(me.index), core::SharedWordKind::kOther,
                         core::AccessKind::kLoad, 0, state});
    if (runnable_set() == 0) {
      current = -1;
      fibers.switch_to_main();  // quiescent: the main context classifies it
    } else {
      const Decision d = strategy->decide(view(-1), *choices);
      switch_task(d.task);
    }
    current = me.index;
    if (aborting) throw ExecutionAborted{};
    // invariant: a parked task is resumed only once woken, or to be unwound.
    if (me.parked) core::harness_bug("parked task resumed without a wake-up");
  }

  bool wake_up_state(task_struct* p, unsigned state) override {
    HarnessSection harness;
    if (!(p->__state.peek(std::memory_order_relaxed) & state)) return false;
    p->__state.raw_store(core::TASK_RUNNING, std::memory_order_relaxed);
    if (auto* t = static_cast<SimTask*>(p->platform_data); t && t->parked) {
      t->parked = false;
      if (options.features) {
        options.features->add(make_feature(FeatureKind::kWaitWake, op_kind_of(t->index),
                                           current >= 0 ? op_kind_of(current) : 0xfe, 0));
      }
      trace.add(TraceEvent{step, TraceEventKind::kWake, static_cast<int8_t>(t->index), core::SharedWordKind::kOther,
                           core::AccessKind::kLoad, 0, static_cast<uint32_t>(current + 1)});
    }
    return true;
  }

  // ---- core::ReportSink -----------------------------------------------

  void on_report(const core::CoreReport& r) override {
    HarnessSection harness;
    result->reports.push_back(r);
    const core::ReportSiteInfo& info = core::report_site_info(r.site);
    stop_with(oracle_of(r.site), setup_mode ? -1 : current, std::string(info.name),
              r.object);
  }

  static OracleId oracle_of(core::ReportSite site) {
    using core::ReportSite;
    switch (site) {
      case ReportSite::refcount_sub_uaf: return OracleId::kRefcountUnderflow;
      case ReportSite::refcount_add_uaf: return OracleId::kRefcountIncrementFromZero;
      default: break;
    }
    switch (core::report_site_info(site).report_class) {
      case core::ReportClass::kRefcount: return OracleId::kRefcountSaturation;
      case core::ReportClass::kWarn:
      case core::ReportClass::kBug: return OracleId::kCoreWarn;
      case core::ReportClass::kLockdep: return OracleId::kLockdep;
      case core::ReportClass::kRcu: return OracleId::kRcu;
      case core::ReportClass::kLifetime: return OracleId::kLifetime;
    }
    return OracleId::kCoreWarn;
  }

  // A harness oracle fired: stop the run with its finding. Returns whether it did.
  bool check_oracles() {
    if (!options.ghost_oracles) return false;
    const std::optional<OracleHit>& h = oracles.hit();
    if (!h || result->finding) return false;
    stop_with(h->oracle, h->task, h->detail, h->vma);
    return true;
  }

  // The VMA a vm_refcnt or vm_lock_seq word belongs to, or nullptr.
  static const core::vm_area_struct* vma_of_word(const SharedAccess& a) {
    const auto* w = static_cast<const char*>(a.word);
    switch (a.kind) {
      case core::SharedWordKind::kVmRefcnt:
        return reinterpret_cast<const core::vm_area_struct*>(w - offsetof(core::vm_area_struct, vm_refcnt));
      case core::SharedWordKind::kVmLockSeq:
        return reinterpret_cast<const core::vm_area_struct*>(w - offsetof(core::vm_area_struct, vm_lock_seq));
      default: return nullptr;
    }
  }

  // The VMA object (cache index) that `object` points into, or -1.
  int vma_object_of(const void* object) const {
    if (!object) return -1;
    core::Kernel& k = core::kernel();
    const auto* p = static_cast<const char*>(object);
    for (int i = 0; i < k.vm_area_cache_size(); ++i) {
      const auto* v = reinterpret_cast<const char*>(k.vm_area_cache_object(i));
      if (p >= v && p < v + sizeof(core::vm_area_struct)) return i;
    }
    return -1;
  }

  // Record the run's one Finding (the first stop wins) and stop.
  void stop_with(OracleId oracle, int task, std::string detail, const void* object) {
    if (!result->finding) {
      Finding f;
      f.oracle = oracle;
      f.detail = std::move(detail);
      f.task = task;
      f.vma = vma_object_of(object);
      f.step = step;
      f.operation = task >= 0 ? op_name_of(task) : "-";
      std::vector<std::string> others;
      for (int t = 0; t < num_tasks; ++t) {
        if (t != task && !tasks[t].finished && tasks[t].op >= 0) others.push_back(op_name_of(t));
      }
      std::sort(others.begin(), others.end());
      for (const std::string& o : others) f.others += (f.others.empty() ? "" : ",") + o;
      result->finding = std::move(f);
    }
    stop(verdict_of(oracle));
  }

  std::string op_name_of(int t) const {
    if (tasks[t].op < 0) return "-";
    return std::string(op_info(tasks[t].program->ops[static_cast<size_t>(tasks[t].op)].kind).name);
  }

  // ---- scheduling -----------------------------------------------------

  void stop(Verdict v) {
    if (result->verdict == Verdict::kPass) result->verdict = v;
    aborting = true;
  }

  // Words are named by first appearance - except words on a task's stack (an
  // rwsem waiter's hand-off flag), whose address depends on the build (ASan's
  // fake stacks) and on which wait came first. Only their owner traces them.
  static constexpr uint32_t kStackWordIds = 0x80000000u;
  uint32_t canonical_word_id(const SharedAccess& a) {
    if (a.kind == core::SharedWordKind::kRwsemWaiter) return kStackWordIds + static_cast<uint32_t>(current);
    return trace.ids().id_of(a.word);
  }

  uint32_t op_kind_of(int t) const {
    return tasks[t].op < 0 ? 0xff : static_cast<uint32_t>(tasks[t].program->ops[static_cast<size_t>(tasks[t].op)].kind);
  }

  void add_access_features(const SharedAccess& a, uint64_t before, uint64_t after) {
    FeatureSink& f = *options.features;
    const uint32_t op = op_kind_of(current);
    if (a.kind == core::SharedWordKind::kVmRefcnt && before != after) {
      // A transition on a VMA of another mm - a recycled object in a reader's
      // hands, or fork's writes to the child - is its own feature: the
      // recycling races (B12, B13) are chains of such steps, and the fuzzer
      // keeps an input that reaches one more link.
      const core::vm_area_struct* vma = vma_of_word(a);
      const uint32_t foreign = vma->vm_mm != tasks[current].ctx.mm ? kForeignVma : 0;
      f.add(make_feature(FeatureKind::kRefcntTransition, refcnt_class(before), refcnt_class(after), op | foreign));
    }
    if (a.kind == core::SharedWordKind::kRwsemWaiter) return;  // stack words have no stable id
    const uint32_t id = pending_word_id;
    if (id >= last_writer.size()) last_writer.resize(id + 1);
    LastWriter& w = last_writer[id];
    if (w.task >= 0 && w.task != current) {
      f.add(make_feature(FeatureKind::kReadsFrom, static_cast<uint32_t>(a.kind) << 8 | static_cast<uint32_t>(a.access),
                         w.op, op));
    }
    if (a.access != core::AccessKind::kLoad && before != after) w = LastWriter{static_cast<int8_t>(current), static_cast<uint8_t>(op)};
  }

  uint64_t pid_value(uint64_t task_ptr) const {
    const auto* t = reinterpret_cast<const task_struct*>(task_ptr);
    return t ? static_cast<uint64_t>(t->pid) + 1 : 0;
  }

  bool is_runnable(int t) const { return !tasks[t].finished && !tasks[t].parked; }

  TaskSet runnable_set() const {
    TaskSet s = 0;
    for (int t = 0; t < num_tasks; ++t) s |= static_cast<TaskSet>(is_runnable(t)) << t;
    return s;
  }

  TaskSet parked_set() const {
    TaskSet s = 0;
    for (int t = 0; t < num_tasks; ++t) s |= static_cast<TaskSet>(tasks[t].parked && !tasks[t].finished) << t;
    return s;
  }

  SchedulerView view(int cur) const { return SchedulerView{num_tasks, runnable_set(), parked_set(), cur, step}; }

  // From a task: run task t until someone switches back to us.
  void switch_task(int t) {
    if (t < 0 || !is_runnable(t)) core::harness_bug("strategy picked a task that cannot run");
    const int me = current;
    trace.add(TraceEvent{step, TraceEventKind::kSwitch, static_cast<int8_t>(t)});
    current = t;
    fibers.switch_to(tasks[t].fiber);
    current = me;
    if (aborting) throw ExecutionAborted{};
  }

  // From the main context: run task t until it finishes or the run is quiescent.
  void run_from_main(int t) {
    trace.add(TraceEvent{step, TraceEventKind::kSwitch, static_cast<int8_t>(t)});
    current = t;
    fibers.switch_to(tasks[t].fiber);
    current = -1;
  }

  static void task_entry(void* arg) {
    SimTask& t = *static_cast<SimTask*>(arg);
    bool aborting;
    {
      HarnessSection harness;
      aborting = t.exec->aborting;
    }
    try {
      if (!aborting) t.exec->run_program(t);
    } catch (const ExecutionAborted&) {
    }
    HarnessSection harness;
    t.finished = true;
  }

  // Model code (ops, exit) runs outside HarnessSections; the bookkeeping around
  // it runs inside them.
  void run_program(SimTask& t) {
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
        trace.add(TraceEvent{step, TraceEventKind::kOpBegin, static_cast<int8_t>(t.index),
                             core::SharedWordKind::kOther, core::AccessKind::kLoad, 0, static_cast<uint32_t>(i)});
      }
      const OpOutcome outcome = run_op(t.ctx, op);
      HarnessSection harness;
      result->outcomes[static_cast<size_t>(t.index)][i] = outcome;
      oracles.on_op_end(t.index);
      if (check_oracles()) throw ExecutionAborted{};  // the finding names this operation
      t.op = -1;
      trace.add(TraceEvent{step, TraceEventKind::kOpEnd, static_cast<int8_t>(t.index), core::SharedWordKind::kOther,
                           core::AccessKind::kLoad, 0, static_cast<uint32_t>(i), 0, static_cast<uint64_t>(outcome)});
    }
    release_held_locks(t.ctx);
    // mmput(): the last task of an mm tears it down (exit_mmap) and drops it.
    bool last_user;
    {
      HarnessSection harness;
      oracles.on_task_exit(t.index);
      if (check_oracles()) throw ExecutionAborted{};
      last_user = --mm_users[t.program->mm] == 0;
    }
    if (last_user) exit_mm(t.ctx.mm, t.ctx.observer);
  }

  void classify_quiescence() {
    bool lost = false;
    for (int t = 0; t < num_tasks; ++t) {
      if (!tasks[t].parked || tasks[t].finished) continue;
      const core::wait_site& w = tasks[t].ts->waiting_for;
      const bool holds = w.condition_holds && w.condition_holds(w.obj, w.arg);
      lost |= holds;
      result->blocked.push_back(BlockedTask{t, w.what ? w.what : "schedule() without a wait site",
                                            tasks[t].ts->__state.peek(), holds});
    }
    // The finding names the first sleeper whose condition holds (lost), or
    // every wait site (deadlock), in task order.
    int task = -1;
    std::string detail;
    for (const BlockedTask& b : result->blocked) {
      if (lost && b.condition_holds && task < 0) {
        task = b.task;
        detail = b.wait_site;
      }
      if (!lost) detail += (detail.empty() ? "" : "; ") + b.wait_site;
    }
    stop_with(lost ? OracleId::kLostWakeup : OracleId::kDeadlock,
              task, detail, nullptr);
  }

  void drive() {
    for (;;) {
      if (aborting) {
        // Unwind every unfinished task on its own fiber.
        for (int t = 0; t < num_tasks; ++t) {
          if (!tasks[t].finished) run_from_main(t);
        }
        return;
      }
      const TaskSet runnable = runnable_set();
      if (!runnable) {
        bool all_finished = true;
        for (int t = 0; t < num_tasks; ++t) all_finished &= tasks[t].finished;
        if (all_finished) return;
        classify_quiescence();
        continue;
      }
      const Decision d = strategy->decide(view(-1), *choices);
      run_from_main(d.kind == Decision::Kind::kSwitch && d.task >= 0 && d.task < num_tasks && is_runnable(d.task)
                        ? d.task
                        : next_in_set(runnable, 0, num_tasks));
    }
  }

  void setup(core::Kernel& k) {
    setup_mode = true;
    init_task = k.task_create("init");
    mms.clear();
    for (const MmSetup& m : scenario->mms) {
      core::mm_struct* mm = core::mm_alloc();
      mms.push_back(mm);
      core::mmap_write_lock(mm);
      for (int slot = 0; slot < kSlots; ++slot) {
        if (m.initial_vmas >> slot & 1) map_slot(mm, slot);
      }
      core::mmap_write_unlock(mm);
    }
    num_tasks = static_cast<int>(scenario->tasks.size());
    task_structs.assign(static_cast<size_t>(num_tasks), nullptr);
    mm_users.fill(0);
    for (int t = 0; t < num_tasks; ++t) {
      const TaskProgram& p = scenario->tasks[static_cast<size_t>(t)];
      if (p.mm >= mms.size()) core::harness_bug("task on a nonexistent mm");
      SimTask& st = tasks[t];
      st = SimTask{};
      st.exec = this;
      st.index = t;
      st.program = &p;
      st.ts = k.task_create("T" + std::to_string(t));
      st.ts->platform_data = &st;
      task_structs[static_cast<size_t>(t)] = st.ts;
      st.ctx = OpContext{{mms[p.mm], core::TaskLocks{}, oracles.observer(t)}, &task_structs};
      ++mm_users[p.mm];
    }
    oracle_view.num_tasks = num_tasks;
    oracle_view.tasks = task_structs;
    oracle_view.contexts.clear();
    for (int t = 0; t < num_tasks; ++t) oracle_view.contexts.push_back(&tasks[t].ctx);
    oracle_view.mms = mms;
    oracles.begin(&oracle_view);
    setup_mode = false;
  }

  ExecutionResult run(const Scenario& sc, const RunOptions& opt) {
    // The main context touches the same scheduler state as the task fibers.
    // Setup and the final snapshot run model code as the init task; that is
    // ordered with the tasks by the synchronising first/last switches.
    HarnessSection harness;
    if (sc.tasks.size() < 1 || sc.tasks.size() > kMaxTasks || sc.mms.empty() || sc.mms.size() > kMaxMms) {
      core::harness_bug("scenario out of bounds");
    }
    ExecutionResult res;
    res.outcomes.resize(sc.tasks.size());
    for (size_t t = 0; t < sc.tasks.size(); ++t) res.outcomes[t].assign(sc.tasks[t].ops.size(), OpOutcome::kNotRun);
    scenario = &sc;
    options = opt;
    result = &res;
    current = -1;
    num_tasks = 0;
    aborting = false;
    step = 0;
    trace.reset(opt.keep_trace);
    last_writer.clear();
    strategy = make_strategy(sc.strategy, sc.pct_depth);
    choices.emplace(sc.choices);

    core::Kernel kernel(*this, this);
    kernel.set_injected_bugs(opt.inject);
    core::KernelScope scope(kernel);
    setup(kernel);
    if (!aborting) {
      strategy->begin(num_tasks, total_ops(sc), *choices);
      for (int t = 0; t < num_tasks; ++t) tasks[t].fiber = fibers.start(&task_entry, &tasks[t]);
      drive();
    }
    for (core::mm_struct* mm : mms) res.final_state.mm_freed.push_back(mm->freed.load());
    for (int i = 0; i < kernel.vm_area_cache_size(); ++i) {
      core::vm_area_struct* vma = kernel.vm_area_cache_object(i);
      res.final_state.vm_refcnt.push_back(vma->vm_refcnt.refs.peek());
      res.final_state.vma_free.push_back(vma->cache_free.load());
    }
    res.steps = step;
    res.trace_hash = trace.hash();
    result = nullptr;
    return res;
  }
};

Execution::Execution() : impl_(std::make_unique<Impl>()) {}
Execution::~Execution() = default;

ExecutionResult Execution::run(const Scenario& scenario, const RunOptions& options) {
  return impl_->run(scenario, options);
}

const Trace& Execution::trace() const { return impl_->trace; }

}  // namespace vmafuzz::fuzz
