// lock_version.cpp - the table of lock-code versions and the running one.
#include "core/lock_version.h"

#include <iterator>

#include "core/report.h"

namespace vmafuzz::core {

namespace detail {
const LockVersionOps* g_lock_version_ops = nullptr;
Platform* g_version_only_platform = nullptr;
}  // namespace detail

// Each version's file defines its replacements.
#define VMAFUZZ_LOCK_VERSION(id, summary) extern const LockVersionOps lock_version_ops_##id;
#include "core/lock_versions.inc"
#undef VMAFUZZ_LOCK_VERSION

namespace {
constexpr LockVersionInfo kVersions[] = {
#define VMAFUZZ_LOCK_VERSION(id, summary) {#id, summary, &lock_version_ops_##id},
#include "core/lock_versions.inc"
#undef VMAFUZZ_LOCK_VERSION
};
static_assert(std::size(kVersions) == static_cast<size_t>(LockVersion::kCount));
}  // namespace

const LockVersionInfo& lock_version_info(LockVersion v) {
  if (v >= LockVersion::kCount) harness_bug("lock version out of range");
  return kVersions[static_cast<size_t>(v)];
}

std::optional<LockVersion> lock_version_from_name(std::string_view name) {
  for (size_t i = 0; i < std::size(kVersions); ++i) {
    if (kVersions[i].name == name) return static_cast<LockVersion>(i);
  }
  return std::nullopt;
}

void install_lock_version(LockVersion v, Platform* version_only) {
  // The default runs mmap_lock.cpp unchanged: no table to consult at all.
  detail::g_lock_version_ops = v == LockVersion{} ? nullptr : lock_version_info(v).ops;
  detail::g_version_only_platform = version_only;
}

}  // namespace vmafuzz::core
