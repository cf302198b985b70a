// report.cpp - report site table and the hand-off to the Kernel's sink.
#include "core/report.h"

#include <array>

#include "core/kernel.h"
#include "core/task.h"

namespace vmafuzz::core {
namespace {

constexpr std::array<ReportSiteInfo, static_cast<size_t>(ReportSite::kCount)> kSites = {{
#define VMAFUZZ_REPORT_SITE(name, cls, msg) {#name, ReportClass::cls, msg},
#include "core/report_sites.inc"
#undef VMAFUZZ_REPORT_SITE
}};

}  // namespace

const ReportSiteInfo& report_site_info(ReportSite site) {
  return kSites[static_cast<size_t>(site)];
}

std::string_view report_class_name(ReportClass c) {
  switch (c) {
    case ReportClass::kWarn: return "WARN";
    case ReportClass::kBug: return "BUG";
    case ReportClass::kRefcount: return "refcount";
    case ReportClass::kLockdep: return "lockdep";
    case ReportClass::kRcu: return "rcu";
    case ReportClass::kLifetime: return "lifetime";
  }
  return "?";
}

void core_report(ReportSite site, const void* object) {
  Kernel& k = kernel();
  task_struct* t = k.platform().current_or_null();
  k.report(CoreReport{site, t ? t->pid : -1, object});
}

}  // namespace vmafuzz::core
