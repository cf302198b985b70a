// strategy_registry.cpp - the registry of strategies (fuzz/strategy_list.inc)
// and what is looked up in it: names and the factory.
#include "fuzz/strategy_registry.h"

#include <array>

#include "core/report.h"

namespace vmafuzz::fuzz {

#define VMAFUZZ_STRATEGY(e, type) const StrategyType& type();
#include "fuzz/strategy_list.inc"
#undef VMAFUZZ_STRATEGY

namespace {

constexpr size_t kNumStrategies = static_cast<size_t>(StrategyKind::kMaxValue) + 1;

std::array<const StrategyType*, kNumStrategies> make_registry() {
  std::array<const StrategyType*, kNumStrategies> types = {
#define VMAFUZZ_STRATEGY(e, type) &type(),
#include "fuzz/strategy_list.inc"
#undef VMAFUZZ_STRATEGY
  };
  for (size_t i = 0; i < types.size(); ++i) {
    if (types[i]->kind() != static_cast<StrategyKind>(i)) {
      core::harness_bug("strategy_list.inc: " + std::string(types[i]->name()) + " is not in its kind's place");
    }
  }
  return types;
}

}  // namespace

std::span<const StrategyType* const> strategy_types() {
  static const std::array<const StrategyType*, kNumStrategies> types = make_registry();
  return types;
}

const StrategyType& strategy_type(StrategyKind kind) { return *strategy_types()[static_cast<size_t>(kind)]; }

const StrategyType* strategy_type_named(std::string_view name) {
  for (const StrategyType* t : strategy_types()) {
    if (t->name() == name) return t;
  }
  return nullptr;
}

std::string strategy_name_list(std::span<const StrategyType* const> types) {
  std::string names;
  for (size_t i = 0; i < types.size(); ++i) {
    names += (i == 0 ? "" : i + 1 == types.size() ? " or " : ", ") + std::string(types[i]->name());
  }
  return names;
}

std::string_view strategy_name(StrategyKind kind) { return strategy_type(kind).name(); }

bool strategy_from_name(std::string_view name, StrategyKind* out) {
  const StrategyType* t = strategy_type_named(name);
  if (t) *out = t->kind();
  return t != nullptr;
}

std::unique_ptr<Strategy> make_strategy(StrategyKind kind, int pct_depth) {
  return strategy_type(kind).make(pct_depth);
}

}  // namespace vmafuzz::fuzz
