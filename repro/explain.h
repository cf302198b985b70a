// explain.h - one run as a timeline: who touched which word, with which
// values, who slept and who woke whom, and the finding (`vmafuzz explain`).
//
// build_timeline() is a pure function of the scenario, the run's result and
// its trace (RunOptions::keep_trace); the renderers only lay it out, so the
// terminal view, the HTML page and any other user (a future `vmafuzz diff`,
// a minimizer's header comment: summary()) show the same data.
// docs/EXPLAIN.md describes the rows and the folding rule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/execution.h"
#include "fuzz/scenario.h"
#include "fuzz/trace.h"

namespace vmafuzz::repro {

enum class RowKind : uint8_t {
  kAccess,        // a shared-word access (its row is where it was performed)
  kSwitch,        // the scheduler switched tasks (a preemption if the old one could run)
  kPark,          // a task slept in schedule()
  kWake,          // a task woke another (or the scheduler woke it: other = -1)
  kSpuriousWake,  // the schedule woke a sleeper spuriously
  kKill,          // the schedule sent a task SIGKILL
  kOpBegin,       // a task starts an operation
  kOpEnd,         // and ends it, with its outcome
  kAloneAtExit,   // the task's teardown runs from here without scheduling points
  kFold,          // `folded` access rows of one task where nothing of interest happened
  kFinding,       // the oracle that fired (the last row of a run with a finding)
};
std::string_view row_kind_name(RowKind k);

struct TimelineRow {
  RowKind kind = RowKind::kAccess;
  uint64_t step = 0;  // the scheduling point (an access: where it was decided)
  int task = -1;      // the lane: the task acting (-1: the scheduler)
  int other = -1;     // the other task: read from (access), switched to, woken, killed
  int op = -1;        // the operation the task is in (index in its program), -1 between
  std::string op_name;  // "munmap", "" between operations
  std::string fn;       // model function path "vma_mark_detached > __vma_exclude_readers_for_detach"
  // kAccess
  std::string word;    // "vm_refcnt[vma 0]"
  std::string access;  // "load", "store", "rmw", "cmpxchg", "lock"
  std::string before;  // formatted as expect lines do (FLAG+1)
  std::string after;
  bool changed = false;
  bool performed = true;  // false: the run stopped at its scheduling point
  long from_row = -1;     // reads-from: the row of the write read (another task's), -1 none
  size_t folded = 0;      // kFold: how many access rows it stands for
  bool finding = false;   // the finding fired here
  std::string text;       // one line, the same in every renderer
};

struct TimelineTask {
  std::string name;  // "T0", as .sched names it
  int mm = 0;
  std::vector<std::string> ops;       // op_text of each operation
  std::vector<std::string> outcomes;  // op_outcome_name of each
};

struct TimelineBlocked {
  int task;
  std::string wait_site;
  std::string fn;  // where it parked (model function path)
  bool condition_holds;
};

struct Timeline {
  std::vector<TimelineTask> tasks;
  std::vector<TimelineRow> rows;
  size_t access_rows = 0;   // accesses before folding
  size_t folded_rows = 0;   // accesses folded away
  uint64_t steps = 0;
  uint64_t trace_hash = 0;
  std::string verdict;
  // The finding (has_finding false on a pass).
  bool has_finding = false;
  std::string oracle;     // "detach.count_not_zero"
  std::string invariant;  // "I5" (docs/MODEL.md section 8), or "-"
  std::string what;       // the oracle's one-line description
  std::string detail;
  std::string message;
  std::string signature;
  int finding_task = -1;
  uint64_t finding_step = 0;
  std::string finding_op;
  std::vector<std::string> reports;  // core reports: "name (class): message"
  std::vector<TimelineBlocked> blocked;
};

struct ExplainOptions {
  bool all = false;  // no folding
};

// The timeline of a run kept with RunOptions::keep_trace.
Timeline build_timeline(const fuzz::Scenario& sc, const fuzz::ExecutionResult& r, const fuzz::Trace& trace,
                        const ExplainOptions& options = {});

// The finding in a few lines (verdict, oracle and invariant, where, the last
// value changes of the finding's task, the blocked tasks): for headers.
std::string summary(const Timeline& t);

// Terminal view: one row per line, one lane column per task, then the finding.
std::string render_text(const Timeline& t);

// One self-contained HTML page (inline SVG, CSS and JS; the timeline embedded
// as JSON): swimlanes on a time axis, arrows for wake-ups and reads-from.
std::string render_html(const Timeline& t, std::string_view title);

}  // namespace vmafuzz::repro
