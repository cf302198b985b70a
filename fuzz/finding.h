// finding.h - what a run found: one Finding, data only, and its one renderer.
//
// Every way a run can fail is an oracle with a stable name (oracle_table.inc).
// A Finding carries that oracle, a detail (the core's report site, the wait
// site...), where it happened, and a schedule-insensitive signature: oracle,
// detail, the operation the reporting task was in, and the operations the
// other tasks were in (sorted). Two interleavings of the same bug share the
// signature, so libFuzzer's -minimize_crash, crash dedup and triage keep them
// together; the renderer prints it as a DEDUP_TOKEN line, which libFuzzer
// reads, and on a line of its own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vmafuzz::fuzz {

// The coarse class of a run's end. Not a second record of what was found:
// each oracle belongs to exactly one class (oracle_table.inc), and a run's
// verdict is verdict_of() its finding's oracle, or kPass without one.
enum class Verdict : uint8_t {
  kPass,
  kCoreReport,  // the core's WARN/BUG/refcount/lockdep/RCU/lifetime hook fired
  kLostWakeup,  // quiescent; a sleeper's condition holds but nobody woke it
  kDeadlock,    // quiescent; every sleeper's condition is false
  kLivelock,    // the step bound was reached
  kOracle,      // a harness oracle over ghost state fired (fuzz/oracles.h)
  kMaxValue = kOracle,
};
std::string_view verdict_name(Verdict v);

enum class OracleId : uint8_t {
#define VMAFUZZ_ORACLE(e, name, verdict, invariant, what) e,
#include "fuzz/oracle_table.inc"
#undef VMAFUZZ_ORACLE
  kCount,
};

static_assert(static_cast<unsigned>(OracleId::kCount) <= 64, "RunOptions::disabled_oracles has a bit per oracle");

struct OracleInfo {
  std::string_view name;
  Verdict verdict;
  std::string_view invariant;
  std::string_view what;
};
const OracleInfo& oracle_info(OracleId id);
inline Verdict verdict_of(OracleId id) { return oracle_info(id).verdict; }

struct Finding {
  OracleId oracle;
  std::string detail;      // the report site, wait site, or what was seen; may be empty
  int task = -1;           // the task that hit it, -1 for a whole-run finding
  int vma = -1;            // VMA object id (cache order), -1 if none
  uint64_t step = 0;       // scheduling point at which it was seen
  std::string operation;   // the reporting task's operation ("munmap"), or "-"
  std::string others;      // the other tasks' operations in flight, sorted, comma-separated
  std::string message;     // one line for people

  // oracle|detail|operation|others: stable across interleavings of one bug.
  std::string signature() const;
};

// The report printed before a fuzz target aborts. `replay` is the command
// that replays the input (printed last).
std::string render_finding(const Finding& f, std::string_view replay);

}  // namespace vmafuzz::fuzz
