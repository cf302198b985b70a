// scenario_codec.cpp - decode any bytes into a legal Scenario, and back.
#include "fuzz/scenario_codec.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>

namespace vmafuzz::fuzz {
namespace {

constexpr OpKind kCallerOps[] = {OpKind::kFault,  OpKind::kMprotect, OpKind::kMprotectKillable, OpKind::kMunmap,
                                 OpKind::kMmap,   OpKind::kFork,     OpKind::kDowngrade,        OpKind::kKill};

uint8_t front_byte(FuzzedDataProvider& fdp) {
  uint8_t b = 0;
  // ConsumeData() would memcpy from a null pointer when the input is empty.
  if (fdp.remaining_bytes() > 0) fdp.ConsumeData(&b, 1);
  return b;
}

uint8_t canonical_arg(const Op& op, int num_tasks) {
  switch (op_info(op.kind).arg) {
    case OpArg::kNone: return 0;
    case OpArg::kSlot: return static_cast<uint8_t>(op.arg % kSlots);
    case OpArg::kTask: return static_cast<uint8_t>(op.arg % num_tasks);
  }
  return 0;
}

}  // namespace

std::vector<OpKind> legal_ops(const DecodeLockState& s) {
  using M = DecodeLockState::Mmap;
  if (s.vma_read) {
    // Only non-blocking steps while a VMA read lock may be held (lockdep's
    // mmap_lock -> vm_lock order: a writer holding mmap_lock may wait for us).
    if (s.mmap == M::kRead) return {OpKind::kVmaEndRead, OpKind::kMmapReadUnlock};
    return {OpKind::kVmaEndRead};
  }
  switch (s.mmap) {
    case M::kNone: {
      std::vector<OpKind> ops(std::begin(kCallerOps), std::end(kCallerOps));
      ops.insert(ops.end(), {OpKind::kMmapReadLock, OpKind::kMmapWriteLock, OpKind::kLockVmaUnderRcu});
      return ops;
    }
    case M::kRead: return {OpKind::kMmapReadUnlock, OpKind::kLockVmaUnderRcu};
    case M::kWrite:
      return {OpKind::kMmapWriteUnlock, OpKind::kMmapWriteDowngrade, OpKind::kVmaStartWrite,
              OpKind::kVmaStartWriteKillable, OpKind::kVmaModify};
  }
  return {};
}

DecodeLockState next_lock_state(const DecodeLockState& s, OpKind kind) {
  using M = DecodeLockState::Mmap;
  DecodeLockState n = s;
  switch (kind) {
    case OpKind::kMmapReadLock: n.mmap = M::kRead; break;
    case OpKind::kMmapReadUnlock: n.mmap = M::kNone; break;
    case OpKind::kMmapWriteLock: n.mmap = M::kWrite; break;
    case OpKind::kMmapWriteUnlock: n.mmap = M::kNone; break;
    case OpKind::kMmapWriteDowngrade: n.mmap = M::kRead; break;
    case OpKind::kLockVmaUnderRcu: n.vma_read = true; break;
    case OpKind::kVmaEndRead: n.vma_read = false; break;
    default: break;
  }
  return n;
}

Scenario decode_scenario(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  Scenario sc;
  const uint8_t header = front_byte(fdp);
  const int num_tasks = kMinTasks + (header & 3) % (kMaxTasks - kMinTasks + 1);
  const bool two_mms = header >> 2 & 1;
  sc.strategy = static_cast<StrategyKind>((header >> 3 & 3) % (static_cast<int>(StrategyKind::kMaxValue) + 1));
  sc.pct_depth = static_cast<uint8_t>(1 + (header >> 5 & 3));
  sc.mms.resize(two_mms ? 2 : 1);
  for (MmSetup& m : sc.mms) m.initial_vmas = front_byte(fdp);
  const uint8_t task_mm = two_mms ? front_byte(fdp) : 0;
  sc.tasks.resize(static_cast<size_t>(num_tasks));
  for (int t = 0; t < num_tasks; ++t) {
    TaskProgram& p = sc.tasks[static_cast<size_t>(t)];
    p.mm = static_cast<uint8_t>(task_mm >> t & 1);
    const int count = 1 + front_byte(fdp) % kMaxOpsPerTask;
    DecodeLockState state;
    for (int i = 0; i < count; ++i) {
      const std::vector<OpKind> legal = legal_ops(state);
      const uint8_t selector = front_byte(fdp);
      Op op{legal[selector % legal.size()], front_byte(fdp)};
      op.arg = canonical_arg(op, num_tasks);
      p.ops.push_back(op);
      state = next_lock_state(state, op.kind);
    }
  }
  while (fdp.remaining_bytes() > 0) sc.choices.push_back(fdp.ConsumeIntegral<uint8_t>());
  return sc;
}

bool is_canonical_scenario(const Scenario& sc, const char** why) {
  auto fail = [why](const char* w) {
    if (why) *why = w;
    return false;
  };
  const int n = static_cast<int>(sc.tasks.size());
  if (n < kMinTasks || n > kMaxTasks) return fail("2 to 4 tasks");
  if (sc.mms.empty() || sc.mms.size() > kMaxMms) return fail("1 or 2 mms");
  if (sc.pct_depth < 1 || sc.pct_depth > 4) return fail("PCT depth 1 to 4");
  for (const TaskProgram& p : sc.tasks) {
    if (p.mm >= sc.mms.size()) return fail("a task's mm does not exist");
    if (p.ops.empty() || p.ops.size() > static_cast<size_t>(kMaxOpsPerTask)) return fail("1 to 8 operations per task");
    DecodeLockState state;
    for (const Op& op : p.ops) {
      const std::vector<OpKind> legal = legal_ops(state);
      if (std::find(legal.begin(), legal.end(), op.kind) == legal.end()) {
        return fail("operation not allowed in the task's lock state at that point");
      }
      if (op.arg != canonical_arg(op, n)) return fail("operation argument out of range");
      state = next_lock_state(state, op.kind);
    }
  }
  return true;
}

std::vector<uint8_t> encode_scenario(const Scenario& sc) {
  std::vector<uint8_t> out;
  const int n = static_cast<int>(sc.tasks.size());
  const bool two_mms = sc.mms.size() == 2;
  out.push_back(static_cast<uint8_t>((n - kMinTasks) | (two_mms ? 1 << 2 : 0) |
                                     static_cast<int>(sc.strategy) << 3 | (sc.pct_depth - 1) << 5));
  for (const MmSetup& m : sc.mms) out.push_back(m.initial_vmas);
  if (two_mms) {
    uint8_t task_mm = 0;
    for (int t = 0; t < n; ++t) task_mm |= static_cast<uint8_t>((sc.tasks[static_cast<size_t>(t)].mm & 1) << t);
    out.push_back(task_mm);
  }
  for (const TaskProgram& p : sc.tasks) {
    out.push_back(static_cast<uint8_t>(p.ops.size() - 1));
    DecodeLockState state;
    for (const Op& op : p.ops) {
      const std::vector<OpKind> legal = legal_ops(state);
      out.push_back(static_cast<uint8_t>(std::find(legal.begin(), legal.end(), op.kind) - legal.begin()));
      out.push_back(op.arg);
      state = next_lock_state(state, op.kind);
    }
  }
  // The back is read last byte first.
  out.insert(out.end(), sc.choices.rbegin(), sc.choices.rend());
  return out;
}

}  // namespace vmafuzz::fuzz
