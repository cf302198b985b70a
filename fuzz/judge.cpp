// judge.cpp - every verdict of one run: core reports, oracle hits, step bound, quiescence.
#include "fuzz/judge.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "core/kernel.h"
#include "core/vma.h"
#include "fuzz/harness_section.h"

namespace vmafuzz::fuzz {
namespace {

// The VMA object (cache index) that `object` points into, or -1.
int vma_object_of(const void* object) {
  if (!object) return -1;
  core::Kernel& k = core::kernel();
  const auto* p = static_cast<const char*>(object);
  for (int i = 0; i < k.vm_area_cache_size(); ++i) {
    const auto* v = reinterpret_cast<const char*>(k.vm_area_cache_object(i));
    if (p >= v && p < v + sizeof(core::vm_area_struct)) return i;
  }
  return -1;
}

std::string operation_or_dash(std::string_view op) { return op.empty() ? "-" : std::string(op); }

}  // namespace

OracleId oracle_of(core::ReportSite site) {
  using core::ReportSite;
  switch (site) {
    case ReportSite::refcount_sub_uaf: return OracleId::kRefcountUnderflow;
    case ReportSite::refcount_add_uaf: return OracleId::kRefcountIncrementFromZero;
    default: break;
  }
  switch (core::report_site_info(site).report_class) {
    case core::ReportClass::kRefcount: return OracleId::kRefcountSaturation;
    case core::ReportClass::kWarn:
    case core::ReportClass::kBug: return OracleId::kCoreWarn;
    case core::ReportClass::kLockdep: return OracleId::kLockdep;
    case core::ReportClass::kRcu: return OracleId::kRcu;
    case core::ReportClass::kLifetime: return OracleId::kLifetime;
  }
  return OracleId::kCoreWarn;
}

void Judge::begin(ExecutionResult& result, const RunOptions& options, const RunView& view) {
  result_ = &result;
  view_ = &view;
  max_steps_ = options.max_steps;
  ghost_oracles_ = options.ghost_oracles;
  oracles_.set_disabled(options.disabled_oracles);
  stopped_ = false;
}

bool Judge::stop_on_livelock(int task) {
  stop_with(OracleId::kLivelock, task, "", nullptr);
  return true;
}

void Judge::on_quiescence() {
  bool lost = false;
  for (int t = 0; t < view_->num_tasks(); ++t) {
    const core::task_struct* ts = view_->sleeper(t);
    if (!ts) continue;
    const core::wait_site& w = ts->waiting_for;
    const bool holds = w.condition_holds && w.condition_holds(w.obj, w.arg);
    lost |= holds;
    result_->blocked.push_back(
        BlockedTask{t, w.what ? w.what : "schedule() without a wait site", ts->__state.peek(), holds});
  }
  // The finding names the first sleeper whose condition holds (lost), or
  // every wait site (deadlock), in task order.
  int task = -1;
  std::string detail;
  for (const BlockedTask& b : result_->blocked) {
    if (lost && b.condition_holds && task < 0) {
      task = b.task;
      detail = b.wait_site;
    }
    if (!lost) detail += (detail.empty() ? "" : "; ") + b.wait_site;
  }
  stop_with(lost ? OracleId::kLostWakeup : OracleId::kDeadlock, task, detail, nullptr);
}

void Judge::on_report(const core::CoreReport& r) {
  HarnessSection harness;
  result_->reports.push_back(r);
  const core::ReportSiteInfo& info = core::report_site_info(r.site);
  stop_with(oracle_of(r.site), view_->current(), std::string(info.name), r.object);
}

bool Judge::stop_on_oracle_hit() {
  const std::optional<OracleHit>& h = oracles_.hit();
  if (result_->finding) return false;
  stop_with(h->oracle, h->task, h->detail, h->vma);
  return true;
}

void Judge::stop_with(OracleId oracle, int task, std::string detail, const void* object, std::string message) {
  if (!result_->finding) {
    Finding f;
    f.oracle = oracle;
    f.detail = std::move(detail);
    f.message = std::move(message);
    f.task = task;
    f.vma = vma_object_of(object);
    f.step = view_->step();
    f.operation = task >= 0 ? operation_or_dash(view_->operation(task)) : "-";
    std::vector<std::string> others;
    for (int t = 0; t < view_->num_tasks(); ++t) {
      if (t == task || view_->finished(t)) continue;
      if (const std::string_view op = view_->operation(t); !op.empty()) others.emplace_back(op);
    }
    std::sort(others.begin(), others.end());
    for (const std::string& o : others) f.others += (f.others.empty() ? "" : ",") + o;
    result_->finding = std::move(f);
  }
  // The verdict is the first finding's class.
  if (result_->verdict == Verdict::kPass) result_->verdict = verdict_of(oracle);
  stopped_ = true;
}

}  // namespace vmafuzz::fuzz
