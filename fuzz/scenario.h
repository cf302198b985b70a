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
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/callers.h"

namespace vmafuzz::fuzz {

inline constexpr int kMinTasks = 2;
inline constexpr int kMaxTasks = 4;
inline constexpr int kMaxMms = 2;
using core::kSlots;                      // page-sized address slots per mm (core/callers.h)
inline constexpr int kMaxOpsPerTask = 8;

// The lock state of a task as the binary decoder tracks it: what it MAY hold
// (lock_vma_under_rcu counts as holding a VMA read lock whether or not it
// succeeds). These five are the only reachable ones.
enum class LockState : uint8_t {
  kNone,             // nothing
  kMmapRead,         // the mmap read lock
  kMmapWrite,        // the mmap write lock
  kVmaRead,          // a VMA read lock
  kVmaReadMmapRead,  // a VMA read lock and the mmap read lock
  kMaxValue = kVmaReadMmapRead,
};
inline constexpr int kNumLockStates = static_cast<int>(LockState::kMaxValue) + 1;

// What an operation does to its task's LockState.
enum class LockEffect : uint8_t {
  kKeep,        // nothing (caller operations take and drop their own locks)
  kMmapRead,    // now holds the mmap read lock (mmap_read_lock, mmap_write_downgrade)
  kMmapWrite,   // now holds the mmap write lock
  kMmapNone,    // released the mmap lock
  kVmaRead,     // may now hold a VMA read lock
  kVmaNone,     // released the VMA read lock
};

// X-macro table of operations, the one place an operation is defined:
//   X(enumerator, text name, level, argument, since, legal, effect)
//   level: kCaller - a whole kernel path, takes and drops its own locks;
//          kPrimitive - one lock operation, for precise schedules.
//   argument: kNone, kSlot (an address slot of the task's mm), kTask (a task index).
//   since: the binary format version that introduced the operation
//          (scenario_codec.h); version N's legal lists hold only operations
//          with since <= N, so a new operation never changes an old file.
//   legal: where a task may run it - one character per LockState, in enum
//          order (nothing, mmap read, mmap write, VMA read, VMA read + mmap
//          read): '-' not there, else its place in that state's list of legal
//          operations ('0'-'9', then 'a'-'z'). The binary selector indexes
//          that list (legal[sel % n]), so a place never changes; a new
//          operation takes a place after every existing one. While a VMA
//          read lock may be held only non-blocking steps are legal (lockdep's
//          mmap_lock -> vm_lock order: a writer holding mmap_lock may wait for
//          that reader); write-side primitives only under the mmap write lock.
//   effect: what it does to the task's lock state (LockEffect).
// Enumerator order is the OpKind value (trace features record it): append.
#define VMAFUZZ_OPS(X)                                                                                    \
  X(kFault, "fault", kCaller, kSlot, 1, "0----", kKeep)      /* lock_vma_under_rcu, else mmap_read_lock */ \
  X(kMprotect, "mprotect", kCaller, kSlot, 1, "1----", kKeep) /* write-lock VMA, modify payload */         \
  X(kMprotectKillable, "mprotect-killable", kCaller, kSlot, 1, "2----", kKeep) /* killable mmap + VMA write lock */ \
  X(kMunmap, "munmap", kCaller, kSlot, 1, "3----", kKeep)    /* write-lock, erase, detach, free */         \
  X(kMmap, "mmap", kCaller, kSlot, 1, "4----", kKeep)        /* alloc, write-lock, attach, insert */       \
  X(kFork, "fork", kCaller, kNone, 1, "5----", kKeep)        /* dup_mmap into a child mm, child exits */   \
  X(kDowngrade, "downgrade", kCaller, kSlot, 1, "6----", kKeep) /* modify, mmap_write_downgrade, read */   \
  X(kKill, "kill", kCaller, kTask, 1, "7----", kKeep)        /* SIGKILL another task */                    \
  X(kMmapReadLock, "mmap_read_lock", kPrimitive, kNone, 1, "8----", kMmapRead)                              \
  X(kMmapReadUnlock, "mmap_read_unlock", kPrimitive, kNone, 1, "-0--1", kMmapNone)                          \
  X(kMmapWriteLock, "mmap_write_lock", kPrimitive, kNone, 1, "9----", kMmapWrite)                           \
  X(kMmapWriteUnlock, "mmap_write_unlock", kPrimitive, kNone, 1, "--0--", kMmapNone)                        \
  X(kMmapWriteDowngrade, "mmap_write_downgrade", kPrimitive, kNone, 1, "--1--", kMmapRead)                  \
  X(kVmaStartWrite, "vma_start_write", kPrimitive, kSlot, 1, "--2--", kKeep)                                \
  X(kVmaStartWriteKillable, "vma_start_write_killable", kPrimitive, kSlot, 1, "--3--", kKeep)               \
  X(kVmaModify, "vma_modify", kPrimitive, kSlot, 1, "--4--", kKeep) /* payload write if write-locked */     \
  X(kLockVmaUnderRcu, "lock_vma_under_rcu", kPrimitive, kSlot, 1, "a1---", kVmaRead) /* keeps the lock */  \
  X(kVmaEndRead, "vma_end_read", kPrimitive, kNone, 1, "---00", kVmaNone)

enum class OpKind : uint8_t {
#define VMAFUZZ_OP_ENUM(e, name, level, arg, since, legal, effect) e,
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
  uint8_t since;           // binary format version that introduced it
  std::string_view legal;  // kNumLockStates places or '-' (see VMAFUZZ_OPS)
  LockEffect effect;
};
const OpInfo& op_info(OpKind kind);
// The whole table, indexed by OpKind.
std::span<const OpInfo> op_table();
// `info`'s place in the legal list of `state`, or -1 where it is not legal.
int legal_place(const OpInfo& info, LockState state);
// Parse a text name; returns false if unknown.
bool op_kind_from_name(std::string_view name, OpKind* out);

struct Op {
  OpKind kind;
  uint8_t arg = 0;  // slot (0..kSlots-1), task index, or 0
  friend bool operator==(const Op&, const Op&) = default;
};
// An operation as text, as .sched writes it: "munmap 3", "kill T1", "vma_end_read".
std::string op_text(const Op& op);

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

// Which loads a run's tasks may see: kSC the latest store (one task at a
// time is sequentially consistent), kC11 any store the C++ memory model
// allows within the store-history bounds (fuzz/store_history.h).
enum class MemoryModel : uint8_t { kSC, kC11, kMaxValue = kC11 };
std::string_view memory_model_name(MemoryModel m);
bool memory_model_from_name(std::string_view name, MemoryModel* out);

struct Scenario {
  std::vector<MmSetup> mms;          // 1..kMaxMms
  std::vector<TaskProgram> tasks;    // kMinTasks..kMaxTasks
  StrategyKind strategy = StrategyKind::kSwitchList;
  uint8_t pct_depth = 3;             // PCT bug depth d (1..4)
  // The scheduling choice stream, in consumption order (the strategy reads it).
  std::vector<uint8_t> choices;
  // kC11: format version 2's flags bit (scenario_codec.h), with any strategy.
  MemoryModel memory_model = MemoryModel::kSC;
  // C11 mode's reads-from choices, in consumption order: one byte per load
  // that may read more than one store (byte % candidates stores before the
  // latest; exhausted: the latest). Apart from `choices`, so that the
  // strategy's schedule reads the same with and without them.
  std::vector<uint8_t> reads;
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
