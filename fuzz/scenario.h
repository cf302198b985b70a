// scenario.h - what one execution runs: mms, tasks, their operation programs,
// and the interleaving strategy with its choices.
//
// A Scenario is always legal: every program keeps the lock rules that kernel
// callers keep (no blocking mmap_lock while a VMA read lock is held, locks
// released in order, write-side operations only under the mmap write lock),
// so a report on the correct core is a harness bug. The decoder
// (scenario_codec.h) builds only such programs; the runner re-checks them.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/callers.h"

namespace vmafuzz::fuzz {

inline constexpr int kMinTasks = 2;
inline constexpr int kMaxTasks = 4;
inline constexpr int kMaxMms = 2;
using core::kSlots;                      // page-sized address slots per mm (core/callers.h)
inline constexpr int kMaxOpsPerTask = 8;

// X-macro table of operations: (enumerator, text name, level, argument).
//   level: kCaller - a whole kernel path, takes and drops its own locks;
//          kPrimitive - one lock operation, for precise schedules.
//   argument: kNone, kSlot (an address slot of the task's mm), kTask (a task index).
#define VMAFUZZ_OPS(X)                                                         \
  X(kFault, "fault", kCaller, kSlot)              /* lock_vma_under_rcu, else mmap_read_lock */ \
  X(kMprotect, "mprotect", kCaller, kSlot)        /* write-lock VMA, modify payload */           \
  X(kMprotectKillable, "mprotect-killable", kCaller, kSlot) /* killable mmap + VMA write lock */ \
  X(kMunmap, "munmap", kCaller, kSlot)            /* write-lock, erase, detach, free */          \
  X(kMmap, "mmap", kCaller, kSlot)                /* alloc, write-lock, attach, insert */        \
  X(kFork, "fork", kCaller, kNone)                /* dup_mmap into a child mm, child exits */    \
  X(kDowngrade, "downgrade", kCaller, kSlot)      /* modify, mmap_write_downgrade, read */       \
  X(kKill, "kill", kCaller, kTask)                /* SIGKILL another task */                     \
  X(kMmapReadLock, "mmap_read_lock", kPrimitive, kNone)                                          \
  X(kMmapReadUnlock, "mmap_read_unlock", kPrimitive, kNone)                                      \
  X(kMmapWriteLock, "mmap_write_lock", kPrimitive, kNone)                                        \
  X(kMmapWriteUnlock, "mmap_write_unlock", kPrimitive, kNone)                                    \
  X(kMmapWriteDowngrade, "mmap_write_downgrade", kPrimitive, kNone)                              \
  X(kVmaStartWrite, "vma_start_write", kPrimitive, kSlot)                                        \
  X(kVmaStartWriteKillable, "vma_start_write_killable", kPrimitive, kSlot)                       \
  X(kVmaModify, "vma_modify", kPrimitive, kSlot)  /* payload write if write-locked */            \
  X(kLockVmaUnderRcu, "lock_vma_under_rcu", kPrimitive, kSlot) /* keeps the read lock */         \
  X(kVmaEndRead, "vma_end_read", kPrimitive, kNone)

enum class OpKind : uint8_t {
#define VMAFUZZ_OP_ENUM(e, name, level, arg) e,
  VMAFUZZ_OPS(VMAFUZZ_OP_ENUM)
#undef VMAFUZZ_OP_ENUM
  kMaxValue = kVmaEndRead,
};
inline constexpr int kNumOpKinds = static_cast<int>(OpKind::kMaxValue) + 1;

enum class OpLevel : uint8_t { kCaller, kPrimitive };
enum class OpArg : uint8_t { kNone, kSlot, kTask };

struct OpInfo {
  std::string_view name;
  OpLevel level;
  OpArg arg;
};
const OpInfo& op_info(OpKind kind);
// Parse a text name; returns false if unknown.
bool op_kind_from_name(std::string_view name, OpKind* out);

struct Op {
  OpKind kind;
  uint8_t arg = 0;  // slot (0..kSlots-1), task index, or 0
  friend bool operator==(const Op&, const Op&) = default;
};

struct TaskProgram {
  uint8_t mm = 0;  // index into Scenario::mms
  std::vector<Op> ops;
  friend bool operator==(const TaskProgram&, const TaskProgram&) = default;
};

struct MmSetup {
  uint8_t initial_vmas = 0;  // bit i: slot i is mapped before the tasks start
  friend bool operator==(const MmSetup&, const MmSetup&) = default;
};

// One per line of fuzz/strategy_list.inc, in its order (the registry; each
// strategy's file says what its choices mean): kSwitchList ((run length,
// action) pairs: few preemptions are cheap), kPct (PCT: random task
// priorities plus `pct_depth - 1` change points), kRandom (a uniformly random
// runnable task at every scheduling point).
enum class StrategyKind : uint8_t {
#define VMAFUZZ_STRATEGY(e, type) e,
#include "fuzz/strategy_list.inc"
#undef VMAFUZZ_STRATEGY
  kMaxValue = -1  // the last one: -1, plus one per line
#define VMAFUZZ_STRATEGY(e, type) +1
#include "fuzz/strategy_list.inc"
#undef VMAFUZZ_STRATEGY
};
// Defined by the registry (strategy_registry.cpp).
std::string_view strategy_name(StrategyKind kind);
bool strategy_from_name(std::string_view name, StrategyKind* out);

struct Scenario {
  std::vector<MmSetup> mms;          // 1..kMaxMms
  std::vector<TaskProgram> tasks;    // kMinTasks..kMaxTasks
  StrategyKind strategy = StrategyKind::kSwitchList;
  uint8_t pct_depth = 3;             // PCT bug depth d (1..4)
  // The scheduling choice stream, in consumption order (the strategy reads it).
  std::vector<uint8_t> choices;
  friend bool operator==(const Scenario&, const Scenario&) = default;
};

// Operations over all tasks' programs (PCT's horizon is derived from it).
int total_ops(const Scenario& sc);

// What an operation observed, for tests and explanations.
enum class OpOutcome : uint8_t {
  kNotRun,      // the task died or the run stopped first
  kDone,        // completed (caller ops without a more specific outcome)
  kSkipped,     // a runtime precondition did not hold (e.g. the slot was empty)
  kVmaLocked,   // fault / lock_vma_under_rcu: got the VMA read lock
  kFallback,    // fault: fell back to mmap_read_lock
  kNull,        // lock_vma_under_rcu returned NULL
  kInterrupted, // a killable lock returned -EINTR
  kMaxValue = kInterrupted,
};
std::string_view op_outcome_name(OpOutcome outcome);

}  // namespace vmafuzz::fuzz
