// report.h - the core's WARN/BUG hook (models include/asm-generic/bug.h's WARN_ON_ONCE).
//
// The core never aborts. Every kernel WARN/BUG, refcount_warn_saturate(),
// lockdep-lite splat and model lifetime check becomes a CoreReport handed to the
// report sink of the running Kernel; the harness decides what is fatal.
#pragma once

#include <cstdint>
#include <string_view>

namespace vmafuzz::core {

struct task_struct;

enum class ReportClass : uint8_t { kWarn, kBug, kRefcount, kLockdep, kRcu, kLifetime };

enum class ReportSite : uint16_t {
#define VMAFUZZ_REPORT_SITE(name, cls, msg) name,
#include "core/report_sites.inc"
#undef VMAFUZZ_REPORT_SITE
  kCount,
};

struct ReportSiteInfo {
  std::string_view name;     // stable identifier, e.g. "refcount_sub_uaf"
  ReportClass report_class;
  std::string_view message;  // what the kernel would print
};

const ReportSiteInfo& report_site_info(ReportSite site);
std::string_view report_class_name(ReportClass c);

// One finding of the core: data only, printed by the harness.
struct CoreReport {
  ReportSite site;
  int pid;             // task that hit it, -1 if none
  const void* object;  // VMA, mm, refcount or lock involved (may be null)
};

// Receives every CoreReport. Implementations must not switch tasks.
class ReportSink {
 public:
  virtual ~ReportSink() = default;
  virtual void on_report(const CoreReport& report) = 0;
};

// Hand a report to the running Kernel's sink. Context: any; not a scheduling point.
void core_report(ReportSite site, const void* object = nullptr);

// WARN_ON_ONCE-style helper: reports when `condition` holds and returns it.
// (The kernel reports once per site; the model reports every time and lets the
// harness deduplicate, so that a repeat after a reset is not hidden.)
inline bool WARN_ON_ONCE(bool condition, ReportSite site, const void* object = nullptr) {
  if (condition) core_report(site, object);
  return condition;
}

// A broken invariant of the model or harness itself (never a finding): print
// "harness bug: <what>" and abort, so harness defects never look like reports.
[[noreturn]] void harness_bug(std::string_view what);

}  // namespace vmafuzz::core
