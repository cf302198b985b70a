// ftrace_import.h - kernel ftrace text of the mmap_lock tracepoints -> scenarios.
//
// Reads what /sys/kernel/tracing/trace, trace_pipe and `trace-cmd report`
// print for the tracepoints mmap_lock_start_locking,
// mmap_lock_acquire_returned and mmap_lock_released (and, when present, the
// x86 page_fault_user event), possibly mixed with any other events and
// function-tracer lines, and makes scenarios of them: each traced (task, mm)
// a scenario task, its events operations, the event order a schedule
// (trace_replay.h). docs/FORMATS.md, section 6, states the line grammar, the
// mapping, the reconciliation rules and how windows are cut.
//
// Never crashes on any input: a malformed line is a warning with file:line,
// an unknown event is counted and skipped.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/scenario.h"
#include "fuzz/trace_replay.h"

namespace vmafuzz::fuzz {

struct FtraceEvent {
  enum class Type : uint8_t { kStartLocking, kAcquireReturned, kReleased, kPageFault };
  Type type = Type::kStartLocking;
  int line = 0;         // 1-based line in the file
  uint64_t ts = 0;      // nanoseconds (global clock: seconds.fraction) or counter ticks
  int pid = 0;
  int cpu = 0;
  std::string comm;
  std::string mm;       // the mm= value as printed ("" for page faults)
  bool write = false;
  bool success = true;  // acquire_returned only
  uint64_t address = 0; // page faults only
};

struct FtraceCounts {
  int lines = 0;
  int comments = 0;         // '#' lines and the trace-cmd header (cpus=, version =, CPU n is empty)
  int events = 0;           // mmap_lock and page-fault events parsed
  int other_events = 0;     // any other tracepoint (skipped)
  int function_lines = 0;   // function-tracer lines (skipped)
  int malformed = 0;        // lines that are none of these (warned, skipped)
  int out_of_order = 0;     // lines whose timestamp is below the previous line's (sorted back)
  std::map<std::string, int> skipped_by_event;  // other events by name
};

struct FtraceParse {
  std::vector<FtraceEvent> events;  // in timestamp order (stable for equal timestamps)
  FtraceCounts counts;
  std::vector<std::string> warnings;  // "file:line: message"
  bool counter_clock = false;         // timestamps are counter ticks, not seconds
};

// Does the text look like ftrace output (an mmap_lock event line, or the
// "# tracer:" header)?
bool looks_like_ftrace(std::string_view text);

FtraceParse parse_ftrace(std::string_view text, std::string_view file_name);

// One scenario's worth of the trace.
struct FtraceWindow {
  Scenario setup;                 // mms, programs (switch-list, no choices yet)
  std::vector<GuideMark> marks;   // operation begins and ends, in trace order
  int first_line = 0, last_line = 0;
  std::vector<std::string> tasks;  // per scenario task: "comm-pid mm=..."
  int events_used = 0;
};

struct FtraceImport {
  std::vector<FtraceWindow> windows;
  int events_used = 0;            // events that became (part of) an operation
  int events_dropped = 0;         // events that could not (counted in `adjusted` too)
  std::map<std::string, int> adjusted;  // reconciliation rule -> times applied
  int single_task_windows = 0;    // windows with one task (no interleaving): not emitted
  int tasks = 0;                  // distinct (pid, mm) tasks in the trace
  std::vector<std::string> notes;
};

FtraceImport build_ftrace_windows(const FtraceParse& parse);

}  // namespace vmafuzz::fuzz
