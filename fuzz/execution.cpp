// execution.cpp - one run: per-run reset, the Kernel, setup, drive, final snapshot.
#include "fuzz/execution.h"

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/kernel.h"
#include "core/mmap_lock.h"
#include "fuzz/feature_recorder.h"
#include "fuzz/harness_section.h"
#include "fuzz/judge.h"
#include "fuzz/ops.h"
#include "fuzz/oracles.h"
#include "fuzz/sim_platform.h"

namespace vmafuzz::fuzz {

// One run: a Kernel on the sim platform, reset to new, set up, driven to its
// end and snapshotted. The platform runs the tasks, the judge decides, the recorder
// keeps the interleaving features; this only wires them together per run.
struct Execution::Impl {
  Trace trace;
  Judge judge;
  FeatureRecorder features;
  SimPlatform platform{trace, judge, features};
  // One for every run, reset at its start: its pools keep their storage.
  core::Kernel kernel{platform, &judge};

  // Per run: what the tasks and the oracles see (its tasks are the kill
  // targets, its mms the tasks' mms: filled in place, no copies).
  OracleView oracle_view;

  // A table, not "T" + std::to_string(t): two strings built per task and run.
  static constexpr std::array<std::string_view, kMaxTasks> kTaskNames = {"T0", "T1", "T2", "T3"};
  static_assert(kMaxTasks == 4, "kTaskNames names kMaxTasks tasks");

  // The scenario's mms and tasks, created unpreempted by the init task.
  void setup(core::Kernel& k, const Scenario& sc) {
    platform.begin_setup();
    platform.set_init_task(k.task_create("init"));
    std::vector<core::mm_struct*>& mms = oracle_view.mms;
    mms.clear();
    for (const MmSetup& m : sc.mms) {
      core::mm_struct* mm = core::mm_alloc();
      mms.push_back(mm);
      core::mmap_write_lock(mm);
      for (int slot = 0; slot < kSlots; ++slot) {
        if (m.initial_vmas >> slot & 1) map_slot(mm, slot);
      }
      core::mmap_write_unlock(mm);
    }
    const int num_tasks = static_cast<int>(sc.tasks.size());
    std::vector<core::task_struct*>& task_structs = oracle_view.tasks;
    task_structs.assign(static_cast<size_t>(num_tasks), nullptr);
    oracle_view.contexts.clear();
    for (int t = 0; t < num_tasks; ++t) {
      const TaskProgram& p = sc.tasks[static_cast<size_t>(t)];
      if (p.mm >= mms.size()) core::harness_bug("task on a nonexistent mm");
      core::task_struct* ts = k.task_create(kTaskNames[static_cast<size_t>(t)]);
      task_structs[static_cast<size_t>(t)] = ts;
      platform.add_task(p, ts, OpContext{{mms[p.mm], core::TaskLocks{}, judge.oracles()->observer(t)}, &task_structs});
      oracle_view.contexts.push_back(&platform.context(t));
    }
    oracle_view.num_tasks = num_tasks;
    judge.watch(&oracle_view);
    platform.end_setup();
  }

  void run(const Scenario& sc, const RunOptions& opt, ExecutionResult& res) {
    // The main context touches the same scheduler state as the task fibers.
    // Setup and the final snapshot run model code as the init task; that is
    // ordered with the tasks by the synchronising first/last switches.
    HarnessSection harness;
    if (sc.tasks.size() < 1 || sc.tasks.size() > kMaxTasks || sc.mms.empty() || sc.mms.size() > kMaxMms) {
      core::harness_bug("scenario out of bounds");
    }
    // Every field is set afresh; clear() and assign() keep the storage.
    res.verdict = Verdict::kPass;
    res.reports.clear();
    res.blocked.clear();
    res.finding.reset();
    res.final_state.mm_freed.clear();
    res.final_state.vm_refcnt.clear();
    res.final_state.vma_free.clear();
    res.outcomes.resize(sc.tasks.size());
    for (size_t t = 0; t < sc.tasks.size(); ++t) res.outcomes[t].assign(sc.tasks[t].ops.size(), OpOutcome::kNotRun);
    trace.reset(opt.keep_trace);
    features.begin(opt.features);
    platform.set_race_oracle(opt.race_oracle);
    platform.set_lazy_race_tracking(opt.lazy_race_tracking);
    platform.set_memory_model(opt.memory_model.value_or(sc.memory_model));
    platform.begin(sc, &res.outcomes, opt.strategy);
    judge.begin(res, opt, platform);

    kernel.reset();
    kernel.set_injected_bugs(opt.inject);
    kernel.set_lock_version(opt.lock_version, opt.align_versions ? &platform.version_only_platform() : nullptr);
    core::KernelScope scope(kernel);
    setup(kernel, sc);
    if (!judge.stopped()) platform.drive();
    for (core::mm_struct* mm : oracle_view.mms) res.final_state.mm_freed.push_back(mm->freed.load());
    for (int i = 0; i < kernel.vm_area_cache_size(); ++i) {
      core::vm_area_struct* vma = kernel.vm_area_cache_object(i);
      res.final_state.vm_refcnt.push_back(vma->vm_refcnt.refs.peek());
      res.final_state.vma_free.push_back(vma->cache_free.load());
    }
    res.steps = platform.step();
    res.trace_hash = trace.hash();
  }
};

Execution::Execution() : impl_(std::make_unique<Impl>()) {}
Execution::~Execution() = default;

ExecutionResult Execution::run(const Scenario& scenario, const RunOptions& options) {
  ExecutionResult result;
  impl_->run(scenario, options, result);
  return result;
}

void Execution::run_into(const Scenario& scenario, const RunOptions& options, ExecutionResult& result) {
  impl_->run(scenario, options, result);
}

const Trace& Execution::trace() const { return impl_->trace; }

}  // namespace vmafuzz::fuzz
