// trace_replay.h - turn a recorded order of events into a switch-list schedule.
//
// A *target* is a scenario's set-up (mms, programs) plus *marks*: events of
// its tasks in the order they were observed - shared accesses (a recorded
// real-thread run, recorded_trace.h) or operation begins and ends (kernel
// ftrace, ftrace_import.h). import_schedule() runs the scenario under a guide
// strategy that, at every scheduling point, lets run the runnable task whose
// next unconsumed mark comes first, and writes its decisions as switch-list
// (run, action) pairs; then it replays the scenario with those choices under
// the ordinary switch-list strategy and checks that the run is the same (same
// trace hash) and passes. docs/FORMATS.md, section 5.3, states the alignment:
//
//   - a replayed access consumes the task's next access mark of the same
//     operation, word kind and access kind; access marks of the same
//     operation skipped on the way are *dropped* (the real thread spun more
//     often than the model), a replayed access with no such mark is *extra*
//     (the model spun more often); when the task moves to a later operation,
//     the marks left in earlier ones are dropped;
//   - a begin mark is consumed by the task's first access in that operation
//     (the first point where the scheduler can stop it there), an end mark by
//     the operation's end;
//   - a task parked or finished in the model is passed over: the next task in
//     mark order that can run runs; a task that made kStarveBound scheduling
//     points without consuming a mark (a spin the recording did not have)
//     yields to the others;
//   - forced picks (after a park or a task's end) are the switch-list's own:
//     the next runnable task after the last one that reached a scheduling
//     point, in task order; the guide re-decides at that task's next point.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/platform.h"
#include "fuzz/execution.h"
#include "fuzz/recorded_trace.h"
#include "fuzz/scenario.h"

namespace vmafuzz::fuzz {

inline constexpr int kStarveBound = 32;

struct GuideMark {
  enum class Kind : uint8_t { kAccess, kBegin, kEnd };
  Kind kind = Kind::kAccess;
  int task = 0;
  int op = 0;  // operation index; the program's length for the exit path
  core::SharedWordKind word_kind = core::SharedWordKind::kOther;  // kAccess
  core::AccessKind access = core::AccessKind::kLoad;              // kAccess
  uint64_t order = 0;  // increasing along the target (a clock, a line number)
};

// One replayed access, in the order the model made it.
struct ReplayedAccess {
  int task;
  int op;
  core::SharedWordKind word_kind;
  core::AccessKind access;
  int64_t mark = -1;  // index of the access mark it consumed, or -1 (extra)
};

struct ReplayMatch {
  int marks = 0;         // marks of the target
  int consumed = 0;      // marks consumed
  int dropped = 0;       // marks never consumed
  int accesses = 0;      // accesses the replay made
  int extra = 0;         // replayed accesses that consumed no access mark (only counted when the task had one pending)
  int out_of_order = 0;  // consumed marks whose order is below the previous consumed mark's
  // The replayed order equals the marked one: every mark consumed, in order,
  // and (with access marks) no access without its mark.
  bool exact() const { return consumed == marks && out_of_order == 0 && extra == 0; }
};

struct ImportedSchedule {
  Scenario scenario;  // the set-up with strategy switch-list and the guide's choices
  ReplayMatch match;
  // Forced picks (after a park or a task's end) that went to another task than
  // the one whose mark came first: the switch-list cannot say otherwise, and a
  // task resumed at a scheduling point makes its pending access at once.
  int forced_divergences = 0;
  int parks = 0;        // times a task slept in schedule() in the replay
  int preemptions = 0;  // switch pairs written (continues for runs over 48 not counted)
  bool fallback = false;  // the guided run did not pass: the schedule was dropped (no choices)
  std::string note;       // why, when fallback
  bool passes = true;     // the scenario passes on the correct model (false: not even without a schedule)
  std::vector<ReplayedAccess> replayed;  // the accesses of the replay, in order
};

// The access marks of a recorded trace, in clock order.
std::vector<GuideMark> recorded_marks(const RecordedTrace& trace);

// The accesses of one run of `scenario` (under its own strategy) as a
// recorded trace: what a recording with no timing ambiguity would hold. Its
// import must replay exactly (tests/repro/trace_import_test.cpp).
RecordedTrace trace_of_run(const Scenario& scenario, Execution& exec);

// Guide `setup` (any strategy and choices are replaced) along `marks` (sorted
// by order). The result always decodes and, on the correct model, passes:
// when the guided run does not, the schedule is dropped (fallback). Context:
// the main context, no Kernel running.
ImportedSchedule import_schedule(const Scenario& setup, const std::vector<GuideMark>& marks, Execution& exec);

}  // namespace vmafuzz::fuzz
