// recorded_trace.h - the recorded-trace text format (vmafuzz-trace 1).
//
// What `vmafuzz record` writes (repro/trace_record.h): the scenario set-up a
// real-thread run started from (mms, the tasks' programs, in .sched syntax),
// then every scheduling point the run made in the order of one global logical
// clock (an atomic counter every thread increments at each shared access and
// at each operation's begin and end). docs/FORMATS.md, section 5, has the
// grammar; in short:
//
//   vmafuzz-trace 1
//   mm 0 vmas 0 1 2
//   task T0 mm 0
//     fault 1
//   task T1 mm 0
//     munmap 1
//   events
//     1 T0 begin 0
//     2 T0 0 vm_refcnt cmpxchg w1      # clock, task, op index, word kind, access, word
//     3 T1 begin 0
//     ...
//     9 T0 end 0 vma-locked
//     12 T1 exit rwsem_count rmw w2    # after the program: lock release, mm exit
//
// The importer (trace_replay.h) turns such a trace into a switch-list
// scenario that replays the recorded order under the deterministic scheduler.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/platform.h"
#include "fuzz/scenario.h"
#include "fuzz/sched_lexer.h"  // SchedError

namespace vmafuzz::fuzz {

inline constexpr std::string_view kTraceMagic = "vmafuzz-trace";
inline constexpr int kTraceVersion = 1;
// Word ids of words on a task's stack (an rwsem waiter's hand-off flag): the
// task index is added; printed `s<k>`.
inline constexpr uint32_t kTraceStackWord = 0x80000000u;

struct RecordedEvent {
  enum class Kind : uint8_t { kAccess, kBegin, kEnd };
  uint64_t clock = 0;
  Kind kind = Kind::kAccess;
  int task = 0;
  int op = 0;  // operation index; the program's length for the exit path
  core::SharedWordKind word_kind = core::SharedWordKind::kOther;
  core::AccessKind access = core::AccessKind::kLoad;
  uint32_t word = 0;                     // canonical id (first appearance in clock order)
  OpOutcome outcome = OpOutcome::kDone;  // kEnd only
  friend bool operator==(const RecordedEvent&, const RecordedEvent&) = default;
};

struct RecordedTrace {
  std::string preamble;  // comment lines before the magic, verbatim
  Scenario setup;        // mms and tasks; strategy switch-list, no choices
  std::vector<RecordedEvent> events;  // increasing clocks
  friend bool operator==(const RecordedTrace&, const RecordedTrace&) = default;
};

// Does `text` look like a recorded trace (its first non-comment line is the magic)?
bool looks_like_recorded_trace(std::string_view text);

// Parse; never crashes. The set-up is checked as .sched checks it (legal
// programs, bounds); events must have increasing clocks, existing tasks, op
// indices within the task's program (or `exit`). Errors: file:line:column.
std::variant<RecordedTrace, SchedError> parse_recorded_trace(std::string_view text, std::string_view file_name);

std::string print_recorded_trace(const RecordedTrace& trace);

std::string_view access_kind_name(core::AccessKind access);

}  // namespace vmafuzz::fuzz
