// inject.cpp - the bug catalog table and the injection query.
#include "core/inject.h"

#include <array>
#include <utility>

#include "core/kernel.h"

namespace vmafuzz::core {
namespace {

constexpr std::array<BugInfo, static_cast<size_t>(Bug::kCount)> kBugs = {{
#define VMAFUZZ_BUG(name, origin, summary) {#name, origin, summary},
#include "core/bug_catalog.inc"
#undef VMAFUZZ_BUG
}};

constexpr std::array<std::pair<std::string_view, std::string_view>, static_cast<size_t>(ContractMutant::kCount)>
    kMutants = {{
#define VMAFUZZ_CONTRACT_MUTANT(name, summary) {#name, summary},
#include "core/contract_mutants.inc"
#undef VMAFUZZ_CONTRACT_MUTANT
    }};

}  // namespace

const BugInfo& bug_info(Bug bug) { return kBugs[static_cast<size_t>(bug)]; }

std::optional<Bug> bug_from_name(std::string_view name) {
  for (size_t i = 0; i < kBugs.size(); ++i) {
    if (kBugs[i].name == name) return static_cast<Bug>(i);
  }
  return std::nullopt;
}

std::optional<BugSet> bugs_from_lists(const std::vector<std::string>& lists, std::string* unknown) {
  BugSet bugs;
  for (const std::string& list : lists) {
    std::string_view rest(list);
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view name = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (name.empty()) continue;
      const std::optional<Bug> bug = bug_from_name(name);
      if (!bug) {
        *unknown = std::string(name);
        return std::nullopt;
      }
      bugs.add(*bug);
    }
  }
  return bugs;
}

bool mutant_injected(ContractMutant mutant) { return kernel().injected_bugs().contains(mutant); }

std::string_view mutant_name(ContractMutant mutant) { return kMutants[static_cast<size_t>(mutant)].first; }
std::string_view mutant_summary(ContractMutant mutant) { return kMutants[static_cast<size_t>(mutant)].second; }

}  // namespace vmafuzz::core
