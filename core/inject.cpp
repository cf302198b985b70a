// inject.cpp - the bug catalog table and the injection query.
#include "core/inject.h"

#include <array>

#include "core/kernel.h"

namespace vmafuzz::core {
namespace {

constexpr std::array<BugInfo, static_cast<size_t>(Bug::kCount)> kBugs = {{
#define VMAFUZZ_BUG(name, origin, summary) {#name, origin, summary},
#include "core/bug_catalog.inc"
#undef VMAFUZZ_BUG
}};

}  // namespace

const BugInfo& bug_info(Bug bug) { return kBugs[static_cast<size_t>(bug)]; }

std::optional<Bug> bug_from_name(std::string_view name) {
  for (size_t i = 0; i < kBugs.size(); ++i) {
    if (kBugs[i].name == name) return static_cast<Bug>(i);
  }
  return std::nullopt;
}

bool bug_injected(Bug bug) { return kernel().injected_bugs().contains(bug); }

}  // namespace vmafuzz::core
