// execution.cpp - one run: per-run reset, the Kernel, setup, drive, final snapshot.
#include "fuzz/execution.h"

#include <array>
#include <functional>
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
  // One for every run, reset (or restored to a saved setup) at its start:
  // its pools keep their storage.
  core::Kernel kernel{platform, &judge};

  // Per run: what the tasks and the oracles see (its tasks are the kill
  // targets, its mms the tasks' mms: filled in place, no copies).
  OracleView oracle_view;

  // A table, not "T" + std::to_string(t): two strings built per task and run.
  static constexpr std::array<std::string_view, kMaxTasks> kTaskNames = {"T0", "T1", "T2", "T3"};
  static_assert(kMaxTasks == 4, "kTaskNames names kMaxTasks tasks");

  // What setup's Kernel state depends on. Two runs with the same key build
  // the same state (the Kernel reset to new before each), so the state saved
  // after one setup is restored for the next runs instead of built again.
  struct SetupKey {
    std::array<MmSetup, kMaxMms> mms{};
    size_t num_mms = 0;
    size_t num_tasks = 0;
    core::BugSet inject;  // setup's model code may test a bug
    core::LockVersion lock_version{};  // setup runs the version's vma_start_write
    bool align_versions = false;
    friend bool operator==(const SetupKey&, const SetupKey&) = default;
  };
  static SetupKey setup_key(const Scenario& sc, const RunOptions& opt) {
    SetupKey key;
    for (size_t i = 0; i < sc.mms.size(); ++i) key.mms[i] = sc.mms[i];
    key.num_mms = sc.mms.size();
    key.num_tasks = sc.tasks.size();
    key.inject = opt.inject;
    key.lock_version = opt.lock_version;
    key.align_versions = opt.align_versions;
    return key;
  }
  bool snapshots = true;
  bool have_saved = false;
  SetupKey saved_key;
  // The last run's key: a setup is saved when it repeats, so that inputs
  // that each set up something new (fuzzing, a directory of random inputs)
  // do not pay for a save they never restore.
  SetupKey last_key;
  core::KernelState saved;
  // Where setup found the saved state's init task, mms and tasks.
  core::task_struct* saved_init = nullptr;
  std::vector<core::mm_struct*> saved_mms;
  std::vector<core::task_struct*> saved_tasks;
  std::function<void(const core::Kernel&, bool restored)> setup_observer;  // tests

  // The scenario's mms and tasks, created unpreempted by the init task, or
  // (`restored`) found in the state restored: init is pid 0, mm i is
  // sc.mms[i], task t is pid t + 1, as the creation below makes them.
  void setup(core::Kernel& k, const Scenario& sc, bool restored, bool save, const SetupKey& key) {
    platform.begin_setup();
    std::vector<core::mm_struct*>& mms = oracle_view.mms;
    const int num_tasks = static_cast<int>(sc.tasks.size());
    std::vector<core::task_struct*>& task_structs = oracle_view.tasks;
    if (restored) {
      platform.set_init_task(saved_init);
      mms = saved_mms;
      task_structs = saved_tasks;
    } else {
      mms.clear();
      task_structs.assign(static_cast<size_t>(num_tasks), nullptr);
      platform.set_init_task(k.task_create("init"));
      for (const MmSetup& m : sc.mms) {
        core::mm_struct* mm = core::mm_alloc();
        mms.push_back(mm);
        core::mmap_write_lock(mm);
        for (int slot = 0; slot < kSlots; ++slot) {
          if (m.initial_vmas >> slot & 1) map_slot(mm, slot);
        }
        core::mmap_write_unlock(mm);
      }
      for (int t = 0; t < num_tasks; ++t) task_structs[static_cast<size_t>(t)] = k.task_create(kTaskNames[static_cast<size_t>(t)]);
      // Not saved after a report: it reached the judge, a restore would not.
      if (save && k.stats().reports.load(std::memory_order_relaxed) == 0 && !judge.stopped()) {
        have_saved = true;
        k.save_state(saved);
        saved_key = key;
        saved_init = k.task(0);
        saved_mms = mms;
        saved_tasks = task_structs;
      }
    }
    oracle_view.contexts.clear();
    for (int t = 0; t < num_tasks; ++t) {
      const TaskProgram& p = sc.tasks[static_cast<size_t>(t)];
      if (p.mm >= mms.size()) core::harness_bug("task on a nonexistent mm");
      core::task_struct* ts = task_structs[static_cast<size_t>(t)];
      platform.add_task(p, ts, OpContext{{mms[p.mm], core::TaskLocks{}, judge.oracles()->observer(t)}, &task_structs});
      oracle_view.contexts.push_back(&platform.context(t));
    }
    oracle_view.num_tasks = num_tasks;
    if (setup_observer) setup_observer(k, restored);
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

    const SetupKey key = setup_key(sc, opt);
    const bool restore = snapshots && have_saved && key == saved_key;
    const bool save = snapshots && !restore && key == last_key;
    last_key = key;
    if (restore) {
      kernel.restore_state(saved);
    } else {
      kernel.reset();  // the saved state's objects are gone
      have_saved = false;
    }
    kernel.set_injected_bugs(opt.inject);
    kernel.set_lock_version(opt.lock_version, opt.align_versions ? &platform.version_only_platform() : nullptr);
    core::KernelScope scope(kernel);
    setup(kernel, sc, restore, save, key);
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

void Execution::set_setup_snapshots(bool on) {
  impl_->snapshots = on;
  impl_->have_saved = false;
  impl_->last_key = Impl::SetupKey{};
}

void Execution::set_setup_observer(std::function<void(const core::Kernel&, bool restored)> observer) {
  impl_->setup_observer = std::move(observer);
}

}  // namespace vmafuzz::fuzz
