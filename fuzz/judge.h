// judge.h - every verdict of one run, and the one Finding it ends with.
//
// The sim platform (sim_platform.h) runs the tasks; the judge decides what
// they did wrong. It receives the core's reports (it is the Kernel's
// core::ReportSink), feeds the harness oracles (oracles.h) and turns their
// first hit into a finding, applies the step bound (livelock) and classifies
// quiescence: a sleeper whose own condition already holds is a lost wake-up,
// otherwise every sleeper waits for nothing and it is a deadlock. Every
// finding goes through stop_with(): the first one wins (later ones are
// dropped), and any finding requests the stop, which the platform honours by
// unwinding the tasks.
//
// Every entry point runs inside a HarnessSection (the platform's, or its own
// for on_report), and none is a scheduling point.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/report.h"
#include "core/task.h"
#include "fuzz/execution.h"
#include "fuzz/finding.h"
#include "fuzz/oracles.h"

namespace vmafuzz::fuzz {

// The oracle a core report site maps onto (oracle_table.inc, first group).
OracleId oracle_of(core::ReportSite site);

// What the judge reads about the run's tasks to name a finding. The sim
// platform implements it; only read when a finding is made or at quiescence.
class RunView {
 public:
  virtual int num_tasks() const = 0;
  // The running task, -1 on the main context and during setup.
  virtual int current() const = 0;
  // Scheduling points executed so far.
  virtual uint64_t step() const = 0;
  // The operation task t is in ("munmap"), or "" between operations.
  virtual std::string_view operation(int t) const = 0;
  virtual bool finished(int t) const = 0;
  // Task t's task_struct if it is parked in schedule() (and not finished), else null.
  virtual const core::task_struct* sleeper(int t) const = 0;

 protected:
  ~RunView() = default;
};

class Judge final : public core::ReportSink {
 public:
  // Start judging a run: verdict, reports, blocked tasks and finding go to
  // `result`; `view` names the tasks. Both outlive the run.
  void begin(ExecutionResult& result, const RunOptions& options, const RunView& view);
  // Let the harness oracles look at the run's tasks and mms (after setup).
  void watch(const OracleView* view) { oracles_.begin(view); }
  // What operations report ghost events to (OpContext::oracles).
  Oracles* oracles() { return &oracles_; }

  // Whether a finding was made: the run is stopping (tasks are unwound).
  bool stopped() const { return stopped_; }

  // ---- events from the sim platform; each returns whether it stopped the run.

  // A scheduling point of the running task `task`, the step-th of the run:
  // the step bound, then the whole-state oracles.
  // Always inlined: out of line it is a call per point.
  [[gnu::always_inline]] bool on_step(int task, uint64_t step) {
    if (step > max_steps_) return stop_on_livelock(task);
    oracles_.on_step();
    return check_oracles();
  }
  // A point of the alone-at-exit suffix (sim_platform.cpp), which keeps the
  // step number the bound was checked at: the whole-state oracles, which
  // look only at read-held VMAs (`read_held`: a task may read-hold one).
  [[gnu::always_inline]] bool on_unscheduled_step(bool read_held) {
    if (read_held) oracles_.on_step();
    return check_oracles();
  }
  // Whether some task read-holds a VMA (what on_step() checks).
  bool any_read_held() const { return oracles_.any_read_held(); }
  // After a task's shared access (values canonicalised as traced); `vma` is
  // the VMA the word belongs to (vm_refcnt, vm_lock_seq), or null.
  // Inline (always: the oracles' inline filters made it big enough for the
  // compiler to call it): it runs at every access, and the common case is "no hit".
  [[gnu::always_inline]] bool on_access(int task, const core::vm_area_struct* vma, const core::SharedAccess& a, uint64_t before,
                 uint64_t after) {
    oracles_.on_vma_access(task, vma, a, before, after);
    oracles_.on_access(task, a, before, after);
    return check_oracles();
  }
  // Task finished an operation (the finding, if any, names it) / its program.
  bool on_op_end(int task) {  // inline: oracles_.on_op_end's common case is three tests
    oracles_.on_op_end(task);
    return check_oracles();
  }
  bool on_task_exit(int task) {
    oracles_.on_task_exit(task);
    return check_oracles();
  }
  // No task can run and some sleep: a lost wake-up or a deadlock. Always stops.
  void on_quiescence();

  // core::ReportSink: a core report stops the run with oracle_of(site).
  void on_report(const core::CoreReport& r) override;

  // Record the run's one Finding (unless there is one already) and stop.
  // `task` -1: a whole-run finding. `object`: a pointer into a VMA object of
  // the running Kernel's cache, or null.
  // `message`: Finding::message (an explanation for people), may be empty.
  void stop_with(OracleId oracle, int task, std::string detail, const void* object, std::string message = {});

 private:
  // A harness oracle fired: stop the run with its finding. Returns whether it did.
  // The hit first: it is the one test of the common case (no hit, oracles on).
  bool check_oracles() { return oracles_.hit() && ghost_oracles_ && stop_on_oracle_hit(); }
  // check_oracles()'s rare part: the first hit becomes the finding.
  bool stop_on_oracle_hit();
  bool stop_on_livelock(int task);

  Oracles oracles_;
  ExecutionResult* result_ = nullptr;
  const RunView* view_ = nullptr;
  uint64_t max_steps_ = kDefaultMaxSteps;
  bool ghost_oracles_ = true;
  bool stopped_ = false;
};

}  // namespace vmafuzz::fuzz
