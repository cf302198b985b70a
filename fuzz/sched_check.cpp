// sched_check.cpp - the expect-line checker (sched_check.h): one run per
// distinct `with` bug, each line's observed counterpart compared with it.
#include "fuzz/sched_check.h"

#include <algorithm>
#include <optional>

#include "core/report.h"
#include "fuzz/trace.h"

namespace vmafuzz::fuzz {
namespace {

// ---- trace facts (the Expectation kinds that look at the trace) ------------

uint64_t count_parks(const std::vector<TraceEvent>& events, int task) {
  return static_cast<uint64_t>(std::count_if(events.begin(), events.end(), [task](const TraceEvent& e) {
    return e.kind == TraceEventKind::kPark && e.task == task;
  }));
}

// A shared access is traced as two kAccess events (fuzz/execution.cpp): the
// scheduling point before it (arg 0, with the canonical word id) and, once
// the access has run, its values (arg 1, value_before/value_after).
bool is_value_event(const TraceEvent& e) { return is_access_done(e); }
bool is_scheduling_point(const TraceEvent& e) { return e.kind == TraceEventKind::kAccess && e.arg == 0; }

// Calls f(event) for each access event of `task` while it runs operation `op`
// (from its kOpBegin to its kOpEnd).
template <class F>
void for_op_accesses(const std::vector<TraceEvent>& events, int task, int op, F f) {
  bool inside = false;
  for (const TraceEvent& e : events) {
    if (e.task != task) continue;
    if (e.kind == TraceEventKind::kOpBegin) inside = static_cast<int>(e.arg) == op;
    if (e.kind == TraceEventKind::kOpEnd) inside = false;
    if (inside && e.kind == TraceEventKind::kAccess) f(e);
  }
}

std::vector<Expectation::Change> value_changes(const std::vector<TraceEvent>& events, int task, int op,
                                               core::SharedWordKind word) {
  std::vector<Expectation::Change> out;
  for_op_accesses(events, task, op, [&](const TraceEvent& e) {
    if (is_value_event(e) && e.word_kind == word && e.value_before != e.value_after) {
      out.push_back(Expectation::Change{e.value_before, e.value_after});
    }
  });
  return out;
}

std::vector<uint64_t> loaded_values(const std::vector<TraceEvent>& events, int task, int op,
                                    core::SharedWordKind word) {
  std::vector<uint64_t> out;
  for_op_accesses(events, task, op, [&](const TraceEvent& e) {
    if (is_value_event(e) && e.word_kind == word && e.access == core::AccessKind::kLoad) out.push_back(e.value_after);
  });
  return out;
}

uint64_t count_accesses(const std::vector<TraceEvent>& events, int task, int op, core::SharedWordKind word) {
  uint64_t n = 0;
  for_op_accesses(events, task, op, [&](const TraceEvent& e) { n += is_scheduling_point(e) && e.word_kind == word; });
  return n;
}

// The observed counterpart of `e` (same kind, task, op and word).
Expectation observe(const Expectation& e, const ExecutionResult& r, const std::vector<TraceEvent>& events) {
  Expectation got = e;
  switch (e.kind) {
    case Expectation::Kind::kVerdict: got.verdict = r.verdict; break;
    case Expectation::Kind::kReport:
      got.site = r.reports.empty() ? core::ReportSite::kCount : r.reports.front().site;
      break;
    case Expectation::Kind::kFinding: got.oracle = r.finding ? r.finding->oracle : OracleId::kCount; break;
    case Expectation::Kind::kSignature: got.signature = r.finding ? r.finding->signature() : ""; break;
    case Expectation::Kind::kOutcome:
      got.outcome = r.outcomes[static_cast<size_t>(e.task)][static_cast<size_t>(e.op)];
      break;
    case Expectation::Kind::kParks: got.count = count_parks(events, e.task); break;
    case Expectation::Kind::kChanges: got.changes = value_changes(events, e.task, e.op, e.word); break;
    case Expectation::Kind::kAccesses: got.count = count_accesses(events, e.task, e.op, e.word); break;
    case Expectation::Kind::kReads: got.values = loaded_values(events, e.task, e.op, e.word); break;
  }
  return got;
}

std::string describe_run(const ExecutionResult& r) {
  std::string s = "verdict " + std::string(verdict_name(r.verdict));
  for (const core::CoreReport& rep : r.reports) s += ", report " + std::string(core::report_site_info(rep.site).name);
  for (const BlockedTask& b : r.blocked) s += ", T" + std::to_string(b.task) + " blocked in " + b.wait_site;
  return s;
}

// What the run gave, as the fact part of an expect line ("verdict pass").
std::string describe_got(const Expectation& got) {
  if (got.kind == Expectation::Kind::kReport && got.site == core::ReportSite::kCount) return "no report";
  Expectation plain = got;
  plain.inject.reset();
  const std::string line = print_expectation(plain);
  constexpr std::string_view kPrefix = "expect ";
  return line.starts_with(kPrefix) ? line.substr(kPrefix.size()) : line;
}

}  // namespace

std::string ExpectMismatch::to_string(const std::string& file) const {
  return file + ":" + std::to_string(line) + ": " + expected + ": got " + got + " (run: " + run + ")";
}

CheckResult check_expectations(const SchedFile& f, const CheckOptions& options) {
  std::vector<std::optional<core::Bug>> runs;
  for (const Expectation& e : f.expectations) {
    if (std::find(runs.begin(), runs.end(), e.inject) == runs.end()) runs.push_back(e.inject);
  }
  CheckResult result;
  Execution exec;
  for (const std::optional<core::Bug>& bug : runs) {
    if (bug && options.skip && options.skip(*bug)) {
      result.not_run.emplace_back(core::bug_info(*bug).name);
      continue;
    }
    RunOptions run_options;
    run_options.keep_trace = true;
    run_options.max_steps = options.max_steps;
    if (bug) run_options.inject.add(*bug);
    const ExecutionResult r = exec.run(f.scenario, run_options);
    for (const Expectation& e : f.expectations) {
      if (e.inject != bug) continue;
      ++result.checked;
      const Expectation got = observe(e, r, exec.trace().events());
      if (got == e) continue;
      result.mismatches.push_back(ExpectMismatch{e.line, print_expectation(e), describe_got(got), describe_run(r)});
    }
  }
  std::stable_sort(result.mismatches.begin(), result.mismatches.end(),
                   [](const ExpectMismatch& a, const ExpectMismatch& b) { return a.line < b.line; });
  return result;
}

}  // namespace vmafuzz::fuzz
