// explore.h - systematic exploration of one program: every switch-list
// schedule with at most K actions, depth-first, by re-execution.
//
// Stateless, as CHESS: each schedule is one fresh run of the program under an
// explorer strategy (RunOptions::strategy) that replays a prefix of decisions
// and then continues; after the run the deepest decision with an untried
// alternative moves to it. The decisions are those a switch-list schedule
// makes at a scheduling point of the running task: continue (free), switch to
// another runnable task, wake a parked task spuriously, or SIGKILL a task
// with a killable operation (each action costs one against the bound). Forced
// picks (the running task parked or finished) follow switch-list's own rule,
// so every explored schedule is a switch-list schedule and a finding replays
// with `vmafuzz run`. Bounded DPOR and sleep sets over the tasks' pending
// shared-word accesses skip schedules equivalent to explored ones;
// docs/SCHEDULER.md ("Systematic exploration") gives the argument and where
// it rests on the outcome-set comparisons of the tests instead.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/execution.h"
#include "fuzz/scenario.h"

namespace vmafuzz::fuzz {

// kDpor: bounded dynamic partial-order reduction (backtrack points only at
// races, plus the conservative points the bound needs) on top of sleep sets.
enum class Reduction : uint8_t { kNone, kSleepSets, kDpor };

// Where a depth-first search stands between two schedules: the counts so far
// and, per decision point of the next schedule's path, the decision to take
// and what the search has recorded there. Resuming from it continues the same
// order, so the final counts equal an uninterrupted search's.
struct ExploreCheckpoint {
  struct Point {
    int chosen = 0;
    uint16_t done = 0;       // alternatives explored or ruled out
    uint32_t backtrack = 0;  // DPOR: tasks asked for here
    bool continue_kept_running = false;
  };
  uint64_t schedules = 0;
  uint64_t pruned = 0;
  uint64_t max_depth = 0;
  std::vector<Point> path;
};

// One line of counts, then one line per point; parse_checkpoint() reads it
// back (nullopt: malformed).
std::string checkpoint_text(const ExploreCheckpoint& c);
std::optional<ExploreCheckpoint> parse_checkpoint(std::string_view text);

struct ExploreOptions {
  int preemptions = 2;         // actions (switch, wake, kill) per schedule
  double time_limit = 0;       // seconds; 0: none
  uint64_t max_schedules = 0;  // 0: none
  Reduction reduction = Reduction::kDpor;
  RunOptions run;              // inject, max_steps (strategy and features are the explorer's)
  // Called after every schedule with the count so far; returns false to stop.
  std::function<bool(uint64_t schedules)> keep_going;
  // Called with every schedule's result (tests compare what the reduction keeps).
  std::function<void(const ExecutionResult&)> on_schedule;
  // Start where this checkpoint stands (the same program and options).
  const ExploreCheckpoint* resume = nullptr;
  // Called every `checkpoint_every` seconds between schedules, and once when
  // the search stops before exhausting its space without a finding.
  double checkpoint_every = 10;
  std::function<void(const ExploreCheckpoint&)> on_checkpoint;
};

struct ExploreResult {
  uint64_t schedules = 0;  // runs executed (each a distinct schedule)
  bool exhausted = false;  // every schedule within the bound was covered
  uint64_t pruned = 0;     // alternatives skipped by sleep sets or as no race's reversal (each a subtree)
  size_t max_depth = 0;    // decisions in the longest run
  // The first finding: its run's result and the program with that run's
  // schedule as switch-list choices.
  std::optional<ExecutionResult> finding;
  std::optional<Scenario> finding_schedule;
  bool bad_checkpoint = false;  // ExploreOptions::resume is not a path of this search (nothing explored)
};

// Explore `program` (its tasks and mms; its schedule is ignored).
ExploreResult explore(const Scenario& program, const ExploreOptions& options);

// The tasks of `program` with a killable operation: the only ones a SIGKILL
// choice is offered for (elsewhere a kill only ends a task at its next
// operation, which the program's own `kill` operation covers).
TaskSet killable_tasks(const Scenario& program);

}  // namespace vmafuzz::fuzz
