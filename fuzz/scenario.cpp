// scenario.cpp - name tables for operations and outcomes (strategies: strategy_registry.cpp).
#include "fuzz/scenario.h"

#include <array>

namespace vmafuzz::fuzz {
namespace {

constexpr std::array<OpInfo, kNumOpKinds> kOps = {{
#define VMAFUZZ_OP_INFO(e, name, level, arg) {name, OpLevel::level, OpArg::arg},
    VMAFUZZ_OPS(VMAFUZZ_OP_INFO)
#undef VMAFUZZ_OP_INFO
}};

}  // namespace

const OpInfo& op_info(OpKind kind) { return kOps[static_cast<size_t>(kind)]; }

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
