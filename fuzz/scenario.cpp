// scenario.cpp - the operation table and the outcome names (strategies: strategy_registry.cpp).
#include "fuzz/scenario.h"

#include <array>
#include <string>

namespace vmafuzz::fuzz {
namespace {

constexpr std::array<OpInfo, kNumOpKinds> kOps = {{
#define VMAFUZZ_OP_INFO(e, name, level, arg, since, legal, effect) \
  {name, OpLevel::level, OpArg::arg, since, legal, LockEffect::effect},
    VMAFUZZ_OPS(VMAFUZZ_OP_INFO)
#undef VMAFUZZ_OP_INFO
}};

constexpr int place_of(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return 10 + (c - 'a');
  return -1;
}

// The legality column is well formed: one character per lock state, each a
// place or '-', and no two operations share a place in one state's list.
constexpr bool legality_column_is_well_formed() {
  for (const OpInfo& op : kOps) {
    if (op.legal.size() != static_cast<size_t>(kNumLockStates) || op.since < 1) return false;
    for (const char c : op.legal) {
      if (c != '-' && place_of(c) < 0) return false;
    }
  }
  for (int state = 0; state < kNumLockStates; ++state) {
    for (size_t i = 0; i < kOps.size(); ++i) {
      for (size_t j = i + 1; j < kOps.size(); ++j) {
        const char a = kOps[i].legal[static_cast<size_t>(state)];
        if (a != '-' && a == kOps[j].legal[static_cast<size_t>(state)]) return false;
      }
    }
  }
  return true;
}
static_assert(legality_column_is_well_formed(),
              "VMAFUZZ_OPS: every legal column has one place or '-' per lock state, places unique per state");

}  // namespace

const OpInfo& op_info(OpKind kind) { return kOps[static_cast<size_t>(kind)]; }

std::span<const OpInfo> op_table() { return kOps; }

std::string_view memory_model_name(MemoryModel m) { return m == MemoryModel::kC11 ? "c11" : "sc"; }

bool memory_model_from_name(std::string_view name, MemoryModel* out) {
  if (name == "sc") {
    *out = MemoryModel::kSC;
  } else if (name == "c11") {
    *out = MemoryModel::kC11;
  } else {
    return false;
  }
  return true;
}

int legal_place(const OpInfo& info, LockState state) {
  const size_t s = static_cast<size_t>(state);
  return s < info.legal.size() ? place_of(info.legal[s]) : -1;
}

std::string op_text(const Op& op) {
  const OpInfo& info = op_info(op.kind);
  switch (info.arg) {
    case OpArg::kNone: break;
    case OpArg::kSlot: return std::string(info.name) + " " + std::to_string(op.arg);
    case OpArg::kTask: return std::string(info.name) + " T" + std::to_string(op.arg);
  }
  return std::string(info.name);
}

bool op_kind_from_name(std::string_view name, OpKind* out) {
  for (size_t i = 0; i < kOps.size(); ++i) {
    if (kOps[i].name == name) {
      *out = static_cast<OpKind>(i);
      return true;
    }
  }
  return false;
}

int total_ops(const Scenario& sc) {
  int total = 0;
  for (const TaskProgram& p : sc.tasks) total += static_cast<int>(p.ops.size());
  return total;
}

std::string_view op_outcome_name(OpOutcome outcome) {
  switch (outcome) {
    case OpOutcome::kNotRun: return "not-run";
    case OpOutcome::kDone: return "done";
    case OpOutcome::kSkipped: return "skipped";
    case OpOutcome::kVmaLocked: return "vma-locked";
    case OpOutcome::kFallback: return "fallback";
    case OpOutcome::kNull: return "null";
    case OpOutcome::kInterrupted: return "interrupted";
  }
  return "?";
}

}  // namespace vmafuzz::fuzz
