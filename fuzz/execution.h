// execution.h - one deterministic run of a Scenario on the model.
//
// An Execution owns the fiber pool and a core::Kernel on the sim platform,
// both reused across runs (the Kernel reset to new at each run's start, or
// restored to a saved setup, its pools keeping their storage): every task is a fiber on this OS thread,
// one runs at a time, and at every scheduling point (each shared-word access)
// the scenario's Strategy decides whether to keep running, switch, or inject a
// spurious wake-up or SIGKILL. schedule() parks a fiber until a wake-up; the
// scheduler never re-checks a sleeper's condition for it, so a lost wake-up
// stays lost. When no task can run but some sleep, the run is quiescent: a
// sleeper whose condition already holds is a lost wake-up, otherwise it is a
// deadlock. A step bound turns livelock into a verdict. Nothing can hang.
//
// A run stops at its first finding: the tasks are unwound (an exception
// thrown on each task's own fiber and caught at its entry; none crosses a
// switch) and the Kernel's objects are left for the next run's reset.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/inject.h"
#include "core/lock_version.h"
#include "core/report.h"
#include "fuzz/features.h"
#include "fuzz/finding.h"
#include "fuzz/scenario.h"
#include "fuzz/strategy.h"
#include "fuzz/trace.h"

namespace vmafuzz::core {
class Kernel;
}  // namespace vmafuzz::core

namespace vmafuzz::fuzz {

inline constexpr uint64_t kDefaultMaxSteps = 50000;

struct BlockedTask {
  int task;
  std::string wait_site;  // what it sleeps on ("vma_writer_wait (...)", "mmap_lock (write)", ...)
  unsigned state;         // its __state (TASK_UNINTERRUPTIBLE, TASK_KILLABLE)
  bool condition_holds;   // the sleeper's own condition, evaluated without side effects
};

// The model's state when the run ended (after every task's mm exit on a pass).
struct FinalState {
  std::vector<bool> mm_freed;     // per scenario mm: freed by its last mmdrop()
  std::vector<int> vm_refcnt;     // per VMA object of the cache (obj_id order): vm_refcnt
  std::vector<bool> vma_free;     // per VMA object: back in the cache
};

// Execution::run_into() resets every field for reuse: a new field needs its reset there.
struct ExecutionResult {
  Verdict verdict = Verdict::kPass;               // verdict_of(finding->oracle), or kPass
  std::vector<core::CoreReport> reports;          // in order; the first one stopped the run
  std::vector<BlockedTask> blocked;               // at quiescence
  std::vector<std::vector<OpOutcome>> outcomes;   // [task][op]
  uint64_t steps = 0;                             // scheduling points executed
  uint64_t trace_hash = 0;
  FinalState final_state;
  // Every verdict but kPass comes with exactly one Finding: what the fuzz
  // target prints, and what triage deduplicates by (its signature).
  std::optional<Finding> finding;
};

struct RunOptions {
  uint64_t max_steps = kDefaultMaxSteps;
  bool keep_trace = false;  // record every TraceEvent (explain, tests), not only the hash
  core::BugSet inject;      // catalogued bugs to inject (none: the correct model)
  // The exclusive-lock code to run (core/lock_versions.inc), and whether the
  // run is one side of a two-version comparison (fuzz/nfc.h): then an access
  // only this version makes is no scheduling point (docs/SCHEDULER.md).
  core::LockVersion lock_version{};
  bool align_versions = false;
  // The harness oracles over ghost state (fuzz/oracles.h). Off only to test
  // what the core and the scheduler find on their own.
  bool ghost_oracles = true;
  // Harness oracles that never fire (bit per OracleId; oracles.h set_disabled).
  // Tests only: a contract mutant is found by its own check alone.
  uint64_t disabled_oracles = 0;
  // The happens-before race oracle (fuzz/hb_tracker.h). Off only to measure its cost.
  bool race_oracle = true;
  // In SC mode the race tracker applies its events only when a check needs
  // its clocks (hb_tracker.h). Off only for the tests comparing it with the
  // eager tracker.
  bool lazy_race_tracking = true;
  // Overrides the scenario's memory model (--memory-model); C11 mode also
  // runs the happens-before tracker, whose clocks it needs.
  std::optional<MemoryModel> memory_model;
  // Receives interleaving features (features.h); null: none computed.
  FeatureSink* features = nullptr;
  // Decides instead of the scenario's strategy (it still reads the scenario's
  // choice stream). For the trace importer's guide (fuzz/trace_replay.h),
  // which turns its decisions into a switch-list stream; null: the scenario's.
  Strategy* strategy = nullptr;
};

class Execution {
 public:
  Execution();
  ~Execution();
  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;

  // Run the scenario to its verdict. Context: the main context of this thread,
  // with no Kernel running.
  ExecutionResult run(const Scenario& scenario, const RunOptions& options = {});
  // The same into `result`, whose vectors keep their storage: a fuzz target
  // reusing one result allocates nothing for it per input.
  void run_into(const Scenario& scenario, const RunOptions& options, ExecutionResult& result);

  // The trace of the last run (events only with keep_trace).
  const Trace& trace() const;

  // When a run's setup key (the scenario's mms and number of tasks, the
  // injected bugs, the lock version) is the last run's, setup saves the
  // Kernel's state it built, and the next runs with that key restore it
  // instead of building it (on by default; off: every run builds it, and
  // what was saved is dropped). For tests, which compare the two.
  void set_setup_snapshots(bool on);
  // Called at the end of every run's setup with the run's Kernel, and
  // whether its state was restored (tests).
  void set_setup_observer(std::function<void(const core::Kernel&, bool restored)> observer);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmafuzz::fuzz
