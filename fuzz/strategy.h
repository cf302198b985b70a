// strategy.h - how a run picks the next task at each scheduling point.
//
// One strategy per file (strategy_switch_list.cpp, strategy_pct.cpp,
// strategy_random.cpp). A strategy sees the runnable set and the step count,
// draws every decision from the ChoiceSource, and returns a Decision; it never
// touches tasks itself. Spurious wake-ups and fatal signals are decisions too.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/platform.h"
#include "fuzz/choice_source.h"
#include "fuzz/scenario.h"

namespace vmafuzz::fuzz {

// switch-list: the longest run one choice pair can give (strategy_switch_list.cpp).
inline constexpr int kSwitchListMaxRun = 48;
// PCT: estimated scheduling points per operation; the change-point horizon is
// kPctStepsPerOp * total operations (strategy_pct.cpp).
inline constexpr int kPctStepsPerOp = 32;
// PCT's change-point horizon for a program of `total_ops` operations (change
// points lie in [1, horizon]).
constexpr int pct_horizon(int total_ops) { return kPctStepsPerOp * (total_ops > 0 ? total_ops : 1); }

// Bit i set: task i is runnable (or, for `parked`, sleeping in schedule()).
using TaskSet = uint32_t;

// A task's next shared access, as its scheduling point announced it: what the
// explorer's partial-order reduction compares (fuzz/explore.h). A task not yet
// started or parked in schedule() has not announced it; for those the
// platform predicts it (the explorer checks the prediction when the task
// gets there): a task's first access is the load of its own fatal-signal
// word (run_program's check before each operation), and after schedule()
// both wait loops (rcuwait, rwsem) store their own __state first. Those words
// have no canonical id yet, so the prediction names them kOwnWordId + task.
inline constexpr uint32_t kOwnWordId = 0x40000000u;
struct PendingAccess {
  uint32_t word = 0;  // canonical word id (trace.h)
  core::SharedWordKind kind = core::SharedWordKind::kOther;
  core::AccessKind access = core::AccessKind::kLoad;
  bool known = false;
};

struct SchedulerView {
  int num_tasks;
  TaskSet runnable;   // never empty when a strategy is asked
  TaskSet parked;
  int current;        // the task at its scheduling point, or -1 for a forced pick
  uint64_t step;      // scheduling points so far in this run
  const PendingAccess* pending;  // [num_tasks]: each task's next access (the platform's array)
};

struct Decision {
  enum class Kind : uint8_t { kContinue, kSwitch, kSpuriousWake, kKill };
  Kind kind;
  int task = -1;  // kSwitch: a runnable task; kSpuriousWake/kKill: any task
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Start a run of `total_ops` operations over `num_tasks` tasks. The strategy
  // may draw its parameters (PCT priorities, a seed) from `choices`.
  virtual void begin(int num_tasks, int total_ops, ChoiceSource& choices) = 0;
  // At a scheduling point of view.current (which is runnable): continue, switch,
  // or an event. For a forced pick (view.current == -1, the previous task parked
  // or finished) it must return kSwitch to a runnable task.
  virtual Decision decide(const SchedulerView& view, ChoiceSource& choices) = 0;
  // `task` is alone at exit (docs/SCHEDULER.md, "Alone at exit"): the rest of
  // the run is its teardown, with no further decide(). The explorer makes the
  // transition in progress dependent with everything (it makes unannounced
  // accesses).
  virtual void on_unscheduled_suffix(int /*task*/) {}
};

std::unique_ptr<Strategy> make_strategy(StrategyKind kind, int pct_depth);

// One switch-list pair: after `run` (1..kSwitchListMaxRun) scheduling points
// of the running task, `action` (kSwitch, kSpuriousWake or kKill) on `task`.
struct SwitchListPair {
  int run;
  Decision::Kind action;
  int task;
};
// The canonical switch-list choice bytes of `pairs` for `num_tasks` tasks
// (strategy_switch_list.cpp); how the explorer writes its schedules.
std::vector<uint8_t> switch_list_choices(const std::vector<SwitchListPair>& pairs, int num_tasks);

// The lowest-numbered task of `set` at or after `from` (cyclically); -1 if empty.
int next_in_set(TaskSet set, int from, int num_tasks);

}  // namespace vmafuzz::fuzz
