// inject.h - run-time selection of catalogued bugs (bug_catalog.inc).
//
// The correct model is the default. A Kernel may be created with a set of
// injected bugs; each injection point in core/ is a visible
// `if (bug_injected(Bug::x))` next to the correct code it replaces.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmafuzz::core {

enum class Bug : uint8_t {
#define VMAFUZZ_BUG(name, origin, summary) name,
#include "core/bug_catalog.inc"
#undef VMAFUZZ_BUG
  kCount,
};

// Test-only contract mutants (contract_mutants.inc): not catalogued bugs.
enum class ContractMutant : uint8_t {
#define VMAFUZZ_CONTRACT_MUTANT(name, summary) name,
#include "core/contract_mutants.inc"
#undef VMAFUZZ_CONTRACT_MUTANT
  kCount,
};
static_assert(static_cast<unsigned>(Bug::kCount) <= 64, "BugSet holds at most 64 catalogued bugs");
static_assert(static_cast<unsigned>(ContractMutant::kCount) <= 64, "BugSet holds at most 64 contract mutants");

struct BugInfo {
  std::string_view name;
  std::string_view origin;
  std::string_view summary;
};

const BugInfo& bug_info(Bug bug);
std::optional<Bug> bug_from_name(std::string_view name);

// A set of bugs (bit per Bug) and of contract mutants (their own word).
class BugSet {
 public:
  BugSet() = default;
  static BugSet of(Bug b) { return BugSet(uint64_t{1} << static_cast<unsigned>(b), 0); }
  static BugSet of(ContractMutant m) { return BugSet(0, uint64_t{1} << static_cast<unsigned>(m)); }
  bool contains(Bug b) const { return bits_ >> static_cast<unsigned>(b) & 1; }
  bool contains(ContractMutant m) const { return mutants_ >> static_cast<unsigned>(m) & 1; }
  void add(Bug b) { bits_ |= uint64_t{1} << static_cast<unsigned>(b); }
  bool empty() const { return bits_ == 0 && mutants_ == 0; }
  friend bool operator==(const BugSet&, const BugSet&) = default;

 private:
  BugSet(uint64_t bits, uint64_t mutants) : bits_(bits), mutants_(mutants) {}
  uint64_t bits_ = 0;
  uint64_t mutants_ = 0;
};

// The bugs named by `lists`, each "NAME[,NAME...]" (--inject values,
// VMAFUZZ_INJECT). Empty names ("a,,b", a trailing comma) name no bug. On an
// unknown name returns nothing and sets *unknown to it.
std::optional<BugSet> bugs_from_lists(const std::vector<std::string>& lists, std::string* unknown);

namespace detail {
// The running Kernel's injected bugs: set by KernelScope (kernel.cpp), as the
// running platform pointer is; null outside a scope.
extern const BugSet* g_running_bugs;
[[noreturn]] void no_running_kernel();  // as shared_word.h (inject.h includes no model header)
}  // namespace detail

// Is `bug` injected into the running Kernel? Not a scheduling point.
// Inline (a load and a bit test): the model asks at most of its steps.
// Checked as kernel() is (builds with asserts).
inline bool bug_injected(Bug bug) {
#ifndef NDEBUG
  if (!detail::g_running_bugs) detail::no_running_kernel();
#endif
  return detail::g_running_bugs->contains(bug);
}
// Is the contract mutant injected into the running Kernel? Not a scheduling point.
bool mutant_injected(ContractMutant mutant);
// Its name and summary (contract_mutants.inc).
std::string_view mutant_name(ContractMutant mutant);
std::string_view mutant_summary(ContractMutant mutant);

}  // namespace vmafuzz::core
