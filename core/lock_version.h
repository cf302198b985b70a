// lock_version.h - which version of the exclusive-lock code a Kernel runs.
//
// The model's default is the post-series code in core/mmap_lock.cpp. A
// version (core/lock_versions.inc) replaces only the functions its patch
// changes, through a LockVersionOps: each entry point below checks for the
// running version's replacement first (one load and a branch when there is
// none) and otherwise runs the post-series code. A null entry means "as in
// post_series". Everything else in core/ is shared. The differential target
// fuzz_nfc and `vmafuzz diff` run one input on two versions and compare.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/platform.h"
#include "core/sanitizer_hooks.h"

namespace vmafuzz::core {

struct vm_area_struct;

// The functions a version may replace (each the kernel function of its name).
struct LockVersionOps {
  void (*vma_start_write)(vm_area_struct* vma) = nullptr;
  int (*vma_start_write_killable)(vm_area_struct* vma) = nullptr;
  void (*vma_mark_detached)(vm_area_struct* vma) = nullptr;
  void (*vma_refcount_put)(vm_area_struct* vma) = nullptr;
};

enum class LockVersion : uint8_t {
#define VMAFUZZ_LOCK_VERSION(id, summary) id,
#include "core/lock_versions.inc"
#undef VMAFUZZ_LOCK_VERSION
  kCount,
};

struct LockVersionInfo {
  std::string_view name;
  std::string_view summary;
  // lock_version_ops_<id>, defined in the version's file (all null for
  // post_series: core/mmap_lock.cpp as it is).
  const LockVersionOps* ops;
};

const LockVersionInfo& lock_version_info(LockVersion v);
std::optional<LockVersion> lock_version_from_name(std::string_view name);

namespace detail {
// The running Kernel's version's replacements, or null (post_series). Set by
// KernelScope and Kernel::set_lock_version, like g_running_platform.
extern const LockVersionOps* g_lock_version_ops;
// When two versions are compared: the platform a VersionOnlyAccess makes its
// accesses through (the sim's, fuzz/sim_platform.h); null otherwise.
extern Platform* g_version_only_platform;
// The running platform (shared_word.h).
extern Platform* g_running_platform;
}  // namespace detail

// Make v the running version, with version_only the platform of
// VersionOnlyAccess (or null). KernelScope and Kernel::set_lock_version call it.
void install_lock_version(LockVersion v, Platform* version_only);

// The running version's replacement of `fn`, or null.
#define VMAFUZZ_LOCK_VERSION_OP(fn) \
  (::vmafuzz::core::detail::g_lock_version_ops ? ::vmafuzz::core::detail::g_lock_version_ops->fn : nullptr)

// Marks an access that one version makes and the versions it is compared
// with do not (declared in fuzz/nfc_allowlist.inc). When two versions are
// compared (Kernel::set_lock_version with a version-only platform) the sim
// performs and traces such an access but does not make it a scheduling
// point: no step, no decision, so both versions consume the same choice
// stream at the same accesses (docs/SCHEDULER.md, "Two versions, one
// schedule"). Otherwise it does nothing.
class VersionOnlyAccess {
 public:
  // The accesses in the scope go to the version-only platform instead of the
  // running one: nothing is checked per access on the default path.
  VersionOnlyAccess() : saved_(detail::g_version_only_platform ? detail::g_running_platform : nullptr) {
    if (saved_) set_running(detail::g_version_only_platform);
  }
  ~VersionOnlyAccess() {
    if (saved_) set_running(saved_);
  }
  VersionOnlyAccess(const VersionOnlyAccess&) = delete;
  VersionOnlyAccess& operator=(const VersionOnlyAccess&) = delete;

 private:
  // The running platform is the harness's, shared by the task fibers, which
  // switch without synchronising (fuzz/fiber.h): hidden from ThreadSanitizer
  // as fuzz/harness_section.h hides the scheduler's state, or every task's
  // next access would race with this task's swap.
  static void set_running(Platform* p) {
#ifdef VMAFUZZ_TSAN
    __tsan_ignore_thread_begin();
#endif
    detail::g_running_platform = p;
#ifdef VMAFUZZ_TSAN
    __tsan_ignore_thread_end();
#endif
  }

  Platform* const saved_;
};

}  // namespace vmafuzz::core
