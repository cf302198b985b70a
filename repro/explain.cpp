// explain.cpp - the timeline of one run and its two renderers (explain.h).
#include "repro/explain.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "core/platform.h"
#include "core/report.h"
#include "fuzz/finding.h"
#include "fuzz/sched_expect.h"

namespace vmafuzz::repro {
namespace {

using fuzz::TraceEvent;
using fuzz::TraceEventKind;
using core::SharedWordKind;

constexpr uint32_t kStackWordIds = 0x80000000u;  // sim_platform.cpp: a task's rwsem waiter flag

std::string access_name(core::AccessKind a, SharedWordKind w) {
  if (w == SharedWordKind::kSpinlock) return "lock";
  switch (a) {
    case core::AccessKind::kLoad: return "load";
    case core::AccessKind::kStore: return "store";
    case core::AccessKind::kRmw: return "rmw";
    case core::AccessKind::kCmpxchg: return "cmpxchg";
  }
  return "?";
}

std::string task_state_name(uint64_t v) {
  switch (v) {
    case core::TASK_RUNNING: return "RUNNING";
    case core::TASK_INTERRUPTIBLE: return "INTERRUPTIBLE";
    case core::TASK_UNINTERRUPTIBLE: return "UNINTERRUPTIBLE";
    case core::TASK_KILLABLE: return "KILLABLE";
    default: return fmt::format("{:#x}", v);
  }
}

// Values as people read them: vm_refcnt as expect lines write it, task
// states by name, the rcuwait task pointer as the task (traced as pid + 1;
// pid 0 is init, task k has pid k + 1).
std::string value_text(SharedWordKind w, uint64_t v) {
  switch (w) {
    case SharedWordKind::kTaskState: return task_state_name(v);
    case SharedWordKind::kSignal: return v ? "SIGKILL" : "none";
    case SharedWordKind::kRcuwaitTask: return v == 0 ? "NULL" : v >= 2 ? fmt::format("T{}", v - 2) : "init";
    case SharedWordKind::kMmTree: return v == 0 ? "NULL" : fmt::format("node#{}", v);
    case SharedWordKind::kVmLockSeq:
      if (v == UINT32_MAX) return "UINT_MAX";
      break;
    default: break;
  }
  return fuzz::format_word_value(w, v);
}

std::string word_text(const TraceEvent& e) {
  const std::string kind(fuzz::word_kind_name(e.word_kind));
  switch (e.word_kind) {
    case SharedWordKind::kVmRefcnt:
    case SharedWordKind::kVmLockSeq:
      if (e.owner >= 0) return fmt::format("{}[vma {}]", kind, e.owner);
      break;
    case SharedWordKind::kMmLockSeq:
    case SharedWordKind::kRwsemCount:
    case SharedWordKind::kRcuwaitTask:
    case SharedWordKind::kMmCount:
    case SharedWordKind::kMmTree:
      if (e.owner >= 0) return fmt::format("{}[mm {}]", kind, e.owner);
      break;
    case SharedWordKind::kTaskState:
    case SharedWordKind::kSignal:
    case SharedWordKind::kRwsemWaiter:
      if (e.owner >= 0) return fmt::format("{}[T{}]", kind, e.owner);
      break;
    default: break;
  }
  if (e.word_id >= kStackWordIds) return fmt::format("{}[T{}]", kind, e.word_id - kStackWordIds);
  return fmt::format("{}#{}", kind, e.word_id);
}

struct Builder {
  const fuzz::Scenario& sc;
  const fuzz::ExecutionResult& r;
  const fuzz::Trace& trace;
  Timeline t;
  std::vector<int> op_of;             // per task: operation in flight
  std::vector<bool> parked, done;     // per task
  std::vector<std::optional<TraceEvent>> pending;  // per task: access decided, not yet performed
  std::map<uint32_t, long> last_write_row;          // word id -> row of the last write
  std::map<std::pair<int, uint32_t>, long> seen;    // (task, word) -> last write row it read
  int current = -1;

  Builder(const fuzz::Scenario& s, const fuzz::ExecutionResult& res, const fuzz::Trace& tr)
      : sc(s), r(res), trace(tr) {}

  std::string op_name(int task) const {
    if (task < 0 || op_of[task] < 0) return "";
    return std::string(fuzz::op_info(sc.tasks[task].ops[op_of[task]].kind).name);
  }
  std::string who(int task) const {
    if (task < 0) return "the scheduler";
    return op_of[task] < 0 ? fmt::format("T{}", task) : fmt::format("T{}.{} {}", task, op_of[task], op_name(task));
  }
  TimelineRow row(RowKind k, uint64_t step, int task) {
    TimelineRow row;
    row.kind = k;
    row.step = step;
    row.task = task;
    if (task >= 0) {
      row.op = op_of[task];
      row.op_name = op_name(task);
    }
    return row;
  }

  void access(const TraceEvent& e, bool performed) {
    TimelineRow row = this->row(RowKind::kAccess, e.step, e.task);
    row.fn = trace.fn_path(e.fn_path);
    row.word = word_text(e);
    row.access = access_name(e.access, e.word_kind);
    row.performed = performed;
    const long index = static_cast<long>(t.rows.size());
    if (performed && e.word_kind != SharedWordKind::kSpinlock) {
      row.before = value_text(e.word_kind, e.value_before);
      row.after = value_text(e.word_kind, e.value_after);
      row.changed = e.value_before != e.value_after;
      const bool reads = e.access != core::AccessKind::kStore;
      const bool writes = row.changed || e.access == core::AccessKind::kStore;
      if (reads && !fuzz::stale_back(e)) {  // a stale read is named below
        const auto w = last_write_row.find(e.word_id);
        if (w != last_write_row.end() && t.rows[static_cast<size_t>(w->second)].task != e.task) {
          long& s = seen[{e.task, e.word_id}];
          if (s != w->second + 1) {  // a write it has not read before
            row.from_row = w->second;
            row.other = t.rows[static_cast<size_t>(w->second)].task;
            s = w->second + 1;
          }
        }
      }
      if (writes) last_write_row[e.word_id] = index;
    }
    std::string what;
    if (!performed) {
      what = e.word_kind == SharedWordKind::kSpinlock ? fmt::format("lock {}", row.word)
                                                      : fmt::format("{} {} (not performed: the run stopped here)",
                                                                    row.access, row.word);
    } else if (row.changed) {
      what = fmt::format("{} {} {} -> {}", row.access, row.word, row.before, row.after);
    } else {
      what = fmt::format("{} {} {}", row.access, row.word, row.before);
    }
    // C11 mode: a load that read an older store than the latest.
    if (const int back = fuzz::stale_back(e)) {
      what += fmt::format("  (weak memory: reads the store {} before the latest)", back);
    }
    if (row.from_row >= 0) {
      what += fmt::format("  (reads T{}'s write of step {})", row.other, t.rows[static_cast<size_t>(row.from_row)].step);
    }
    row.text = fmt::format("{}: {}{}", who(e.task), row.fn.empty() ? "" : row.fn + ": ", what);
    ++t.access_rows;
    t.rows.push_back(std::move(row));
  }

  void event(const TraceEvent& e) {
    const int task = e.task;
    switch (e.kind) {
      case TraceEventKind::kAccess:
        // A version-only access (--lock-version) was no scheduling point:
        // its completion, next, is its row.
        if (e.arg == fuzz::kVersionOnlyAccess) return;
        if (e.arg == 0) {
          if (e.word_kind == SharedWordKind::kSpinlock) {
            access(e, false);
            t.rows.back().performed = true;
          } else {
            pending[task] = e;
          }
        } else {
          pending[task].reset();
          access(e, true);
        }
        return;
      case TraceEventKind::kSwitch: {
        // After the finding the tasks are switched to only to be unwound.
        if (e.owner == 1) return;
        const int from = current;
        TimelineRow row = this->row(RowKind::kSwitch, e.step, from);
        row.other = task;
        if (from >= 0 && !parked[from] && !done[from]) {
          std::string at;
          if (pending[from]) at = fmt::format(" at its {} of {}", access_name(pending[from]->access, pending[from]->word_kind), word_text(*pending[from]));
          row.text = fmt::format("preempted: {}{} -> T{} runs", who(from), at, task);
        } else {
          row.text = fmt::format("T{} runs", task);
        }
        current = task;
        t.rows.push_back(std::move(row));
        return;
      }
      case TraceEventKind::kPark: {
        parked[task] = true;
        TimelineRow row = this->row(RowKind::kPark, e.step, task);
        row.fn = trace.fn_path(e.fn_path);
        row.text = fmt::format("{}: sleeps ({}){}", who(task), task_state_name(e.arg),
                               row.fn.empty() ? "" : " in " + row.fn);
        t.rows.push_back(std::move(row));
        return;
      }
      case TraceEventKind::kWake: {
        parked[task] = false;
        const int waker = static_cast<int>(e.arg) - 1;
        TimelineRow row = this->row(RowKind::kWake, e.step, waker);
        row.other = task;
        row.fn = trace.fn_path(e.fn_path);
        row.text = waker >= 0 ? fmt::format("{}: wakes T{}{}", who(waker), task, row.fn.empty() ? "" : " in " + row.fn)
                              : fmt::format("the scheduler wakes T{}", task);
        t.rows.push_back(std::move(row));
        return;
      }
      case TraceEventKind::kSpuriousWake: {
        TimelineRow row = this->row(RowKind::kSpuriousWake, e.step, task);
        row.text = fmt::format("spurious wake-up of {} (a schedule event)", who(task));
        t.rows.push_back(std::move(row));
        return;
      }
      case TraceEventKind::kKill: {
        TimelineRow row = this->row(RowKind::kKill, e.step, task);
        row.text = fmt::format("SIGKILL to {} (a schedule event)", who(task));
        t.rows.push_back(std::move(row));
        return;
      }
      case TraceEventKind::kOpBegin: {
        op_of[task] = static_cast<int>(e.arg);
        TimelineRow row = this->row(RowKind::kOpBegin, e.step, task);
        row.text = fmt::format("T{}.{} {} begins", task, e.arg, fuzz::op_text(sc.tasks[task].ops[e.arg]));
        t.rows.push_back(std::move(row));
        return;
      }
      case TraceEventKind::kOpEnd: {
        TimelineRow row = this->row(RowKind::kOpEnd, e.step, task);
        row.text = fmt::format("T{}.{} {} ends: {}", task, e.arg, fuzz::op_text(sc.tasks[task].ops[e.arg]),
                               fuzz::op_outcome_name(static_cast<fuzz::OpOutcome>(e.value_after)));
        op_of[task] = -1;
        t.rows.push_back(std::move(row));
        return;
      }
      case TraceEventKind::kAloneAtExit: {
        TimelineRow row = this->row(RowKind::kAloneAtExit, e.step, task);
        row.text = fmt::format("{} exits alone: every other task has finished, so its teardown (releasing its "
                               "locks, mmput) runs without scheduling points",
                               who(task));
        t.rows.push_back(std::move(row));
        return;
      }
    }
  }
};

// Rows of interest: everything but an access that changes nothing, reads
// nothing new from another task and is not where the run stopped.
bool foldable(const TimelineRow& r) {
  return r.kind == RowKind::kAccess && r.performed && !r.changed && r.from_row < 0 && !r.finding;
}

void fold(Timeline& t) {
  std::vector<TimelineRow> out;
  std::vector<long> new_index(t.rows.size(), -1);
  for (size_t i = 0; i < t.rows.size();) {
    size_t j = i;
    while (j < t.rows.size() && foldable(t.rows[j]) && t.rows[j].task == t.rows[i].task && t.rows[j].op == t.rows[i].op) ++j;
    if (j - i >= 2) {
      TimelineRow f = t.rows[i];
      f.kind = RowKind::kFold;
      f.folded = j - i;
      f.word.clear();
      f.access.clear();
      f.before.clear();
      f.after.clear();
      std::vector<std::string> fns;
      for (size_t k = i; k < j; ++k) {
        const std::string& fn = t.rows[k].fn;
        if (fn.empty()) continue;
        const std::string inner = fn.substr(fn.rfind("> ") == std::string::npos ? 0 : fn.rfind("> ") + 2);
        if (std::find(fns.begin(), fns.end(), inner) == fns.end()) fns.push_back(inner);
      }
      std::string where;
      for (size_t k = 0; k < fns.size() && k < 3; ++k) where += (k ? ", " : "") + fns[k];
      if (fns.size() > 3) where += ", ...";
      f.fn = where;
      f.text = fmt::format("... {} steps of T{}{} in {} (no changes)", j - i, f.task,
                           f.op >= 0 ? fmt::format(".{} {}", f.op, f.op_name) : "", where.empty() ? "?" : where);
      t.folded_rows += j - i;
      for (size_t k = i; k < j; ++k) new_index[k] = static_cast<long>(out.size());
      out.push_back(std::move(f));
      i = j;
      continue;
    }
    new_index[i] = static_cast<long>(out.size());
    out.push_back(std::move(t.rows[i]));
    ++i;
  }
  for (TimelineRow& r : out) {
    if (r.from_row >= 0) r.from_row = new_index[static_cast<size_t>(r.from_row)];
  }
  t.rows = std::move(out);
}

}  // namespace

std::string_view row_kind_name(RowKind k) {
  switch (k) {
    case RowKind::kAccess: return "access";
    case RowKind::kSwitch: return "switch";
    case RowKind::kPark: return "park";
    case RowKind::kWake: return "wake";
    case RowKind::kSpuriousWake: return "spurious-wake";
    case RowKind::kKill: return "kill";
    case RowKind::kOpBegin: return "op-begin";
    case RowKind::kOpEnd: return "op-end";
    case RowKind::kAloneAtExit: return "alone-at-exit";
    case RowKind::kFold: return "fold";
    case RowKind::kFinding: return "finding";
  }
  return "?";
}

Timeline build_timeline(const fuzz::Scenario& sc, const fuzz::ExecutionResult& r, const fuzz::Trace& trace,
                        const ExplainOptions& options) {
  Builder b(sc, r, trace);
  const size_t n = sc.tasks.size();
  b.op_of.assign(n, -1);
  b.parked.assign(n, false);
  b.done.assign(n, false);
  b.pending.assign(n, std::nullopt);
  Timeline& t = b.t;
  for (size_t i = 0; i < n; ++i) {
    TimelineTask task;
    task.name = fmt::format("T{}", i);
    task.mm = sc.tasks[i].mm;
    for (size_t o = 0; o < sc.tasks[i].ops.size(); ++o) {
      task.ops.push_back(fuzz::op_text(sc.tasks[i].ops[o]));
      const fuzz::OpOutcome out = i < r.outcomes.size() && o < r.outcomes[i].size() ? r.outcomes[i][o]
                                                                                      : fuzz::OpOutcome::kNotRun;
      task.outcomes.emplace_back(fuzz::op_outcome_name(out));
    }
    t.tasks.push_back(std::move(task));
  }
  for (const TraceEvent& e : trace.events()) {
    if (e.task >= static_cast<int>(n) && e.kind != TraceEventKind::kSwitch) continue;
    b.event(e);
  }
  // Operations that began and did not end: the run stopped inside them.
  for (size_t i = 0; i < n; ++i) {
    if (b.op_of[i] >= 0) t.tasks[i].outcomes[static_cast<size_t>(b.op_of[i])] = "in flight when the run stopped";
  }
  // Accesses decided and never performed: the run stopped at them.
  for (size_t i = 0; i < n; ++i) {
    if (b.pending[i]) b.access(*b.pending[i], false);
  }
  t.steps = r.steps;
  t.trace_hash = r.trace_hash;
  t.verdict = std::string(fuzz::verdict_name(r.verdict));
  for (const core::CoreReport& rep : r.reports) {
    const core::ReportSiteInfo& info = core::report_site_info(rep.site);
    t.reports.push_back(fmt::format("{} ({}): {}", info.name, core::report_class_name(info.report_class), info.message));
  }
  for (const fuzz::BlockedTask& bt : r.blocked) {
    std::string fn;
    for (const TimelineRow& row : t.rows) {
      if (row.kind == RowKind::kPark && row.task == bt.task) fn = row.fn;
    }
    t.blocked.push_back(TimelineBlocked{bt.task, bt.wait_site, fn, bt.condition_holds});
  }
  if (r.finding) {
    const fuzz::Finding& f = *r.finding;
    const fuzz::OracleInfo& info = fuzz::oracle_info(f.oracle);
    t.has_finding = true;
    t.oracle = std::string(info.name);
    t.invariant = std::string(info.invariant);  // "-": none
    t.what = std::string(info.what);
    t.detail = f.detail;
    t.message = f.message;
    t.signature = f.signature();
    t.finding_task = f.task;
    t.finding_step = f.step;
    t.finding_op = f.operation;
    // The finding's own row: at quiescence the sleep of each task it names
    // (a deadlock names no task: every sleeper's), otherwise the finding
    // task's last access at or before its step.
    const bool quiescent = r.verdict == fuzz::Verdict::kLostWakeup || r.verdict == fuzz::Verdict::kDeadlock;
    for (const fuzz::BlockedTask& bt : quiescent ? r.blocked : std::vector<fuzz::BlockedTask>{}) {
      if (f.task >= 0 && bt.task != f.task) continue;
      for (size_t i = t.rows.size(); i-- > 0;) {
        if (t.rows[i].kind == RowKind::kPark && t.rows[i].task == bt.task) {
          t.rows[i].finding = true;
          break;
        }
      }
    }
    for (size_t i = t.rows.size(); !quiescent && i-- > 0;) {
      TimelineRow& row = t.rows[i];
      if (row.kind == RowKind::kAccess && row.task == f.task && row.step <= f.step) {
        row.finding = true;
        break;
      }
    }
    TimelineRow row;
    row.kind = RowKind::kFinding;
    row.step = f.step;
    row.task = f.task;
    row.finding = true;
    row.op_name = f.operation == "-" ? "" : f.operation;
    row.text = fmt::format("FINDING {} ({}){}{}", t.oracle, t.verdict, f.detail.empty() ? "" : ": " + f.detail,
                           f.task >= 0 ? fmt::format(" in T{} {}", f.task, f.operation) : "");
    t.rows.push_back(std::move(row));
  }
  if (!options.all) fold(t);
  return std::move(b.t);
}

std::string summary(const Timeline& t) {
  std::string s = fmt::format("verdict {} after {} steps", t.verdict, t.steps);
  if (!t.has_finding) return s + "\n";
  // Oracles without a docs/MODEL.md invariant (the step bound) name none.
  s += t.invariant == "-" ? fmt::format(": {} ({})\n", t.oracle, t.what)
                          : fmt::format(": {} (invariant {}: {})\n", t.oracle, t.invariant, t.what);
  if (t.finding_task >= 0) {
    s += fmt::format("at step {}, task T{} in {}{}\n", t.finding_step, t.finding_task, t.finding_op,
                     t.detail.empty() ? "" : " (" + t.detail + ")");
    // The finding task's last value changes.
    std::vector<std::string> changes;
    for (const TimelineRow& r : t.rows) {
      if (r.kind == RowKind::kAccess && r.task == t.finding_task && r.changed) {
        changes.push_back(fmt::format("{} {}->{}", r.word, r.before, r.after));
      }
    }
    if (!changes.empty()) {
      const size_t first = changes.size() > 4 ? changes.size() - 4 : 0;
      std::string last;
      for (size_t i = first; i < changes.size(); ++i) last += (last.empty() ? "" : ", ") + changes[i];
      s += fmt::format("T{}'s last changes: {}\n", t.finding_task, last);
    }
  }
  for (const TimelineBlocked& b : t.blocked) {
    s += fmt::format("blocked: T{} in {}{}, condition {}\n", b.task, b.wait_site, b.fn.empty() ? "" : " (" + b.fn + ")",
                     b.condition_holds ? "holds" : "false");
  }
  // The oracle's own explanation (race.payload: the pair that would have ordered the race).
  if (!t.message.empty()) s += t.message + "\n";
  s += fmt::format("signature {}\n", t.signature);
  return s;
}

std::string render_text(const Timeline& t) {
  // Lane glyphs: '*' the acting task, '>' the task a switch, wake or
  // reads-from points at, '|' a task that can run, ':' a sleeper, ' ' before
  // its first and after its last step.
  const size_t n = t.tasks.size();
  std::vector<bool> started(n, false), ended(n, false), asleep(n, false);
  std::vector<size_t> last_row(n, 0);
  for (size_t i = 0; i < t.rows.size(); ++i) {
    if (t.rows[i].task >= 0 && static_cast<size_t>(t.rows[i].task) < n) last_row[t.rows[i].task] = i;
    if (t.rows[i].other >= 0 && static_cast<size_t>(t.rows[i].other) < n) last_row[t.rows[i].other] = i;
  }
  std::string s;
  s += "tasks:\n";
  for (size_t i = 0; i < n; ++i) {
    std::string ops;
    for (size_t o = 0; o < t.tasks[i].ops.size(); ++o) {
      ops += fmt::format("{}{}.{} {} ({})", o ? ", " : "", t.tasks[i].name, o, t.tasks[i].ops[o], t.tasks[i].outcomes[o]);
    }
    s += fmt::format("  {}  mm {}  {}\n", t.tasks[i].name, t.tasks[i].mm, ops);
  }
  s += "\n  step  ";
  for (size_t i = 0; i < n; ++i) s += fmt::format("{:<4}", t.tasks[i].name);
  s += "\n";
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const TimelineRow& r = t.rows[i];
    if (r.task >= 0 && static_cast<size_t>(r.task) < n) started[r.task] = true;
    if (r.other >= 0 && static_cast<size_t>(r.other) < n) started[r.other] = true;
    if (r.kind == RowKind::kPark) asleep[r.task] = true;
    if ((r.kind == RowKind::kWake || r.kind == RowKind::kSpuriousWake) && r.other >= 0) asleep[r.other] = false;
    if (r.kind == RowKind::kSpuriousWake) asleep[r.task] = false;
    std::string lanes;
    for (size_t k = 0; k < n; ++k) {
      char g = ' ';
      if (started[k] && !ended[k]) g = asleep[k] ? ':' : '|';
      if (static_cast<int>(k) == r.other) g = '>';
      if (static_cast<int>(k) == r.task) g = r.finding ? '!' : '*';
      lanes += fmt::format("{:<4}", g);
    }
    s += fmt::format("{:>6}  {}{}\n", r.step, lanes, r.text);
    for (size_t k = 0; k < n; ++k) {
      if (started[k] && last_row[k] == i && !asleep[k]) ended[k] = true;
    }
  }
  s += fmt::format("\nrows: {} ({} accesses, {} of them folded into {} rows; --all shows every step)\n", t.rows.size(),
                   t.access_rows, t.folded_rows,
                   std::count_if(t.rows.begin(), t.rows.end(), [](const TimelineRow& r) { return r.kind == RowKind::kFold; }));
  s += fmt::format("steps: {}\ntrace: {:#018x}\n", t.steps, t.trace_hash);
  for (const std::string& rep : t.reports) s += "report: " + rep + "\n";
  s += summary(t);
  return s;
}

std::string render_html(const Timeline& t, std::string_view title) {
  using nlohmann::json;
  json data;
  data["title"] = std::string(title);
  data["steps"] = t.steps;
  data["trace_hash"] = fmt::format("{:#018x}", t.trace_hash);
  data["verdict"] = t.verdict;
  data["summary"] = summary(t);
  json tasks = json::array();
  for (const TimelineTask& task : t.tasks) {
    tasks.push_back({{"name", task.name}, {"mm", task.mm}, {"ops", task.ops}, {"outcomes", task.outcomes}});
  }
  data["tasks"] = tasks;
  json rows = json::array();
  for (const TimelineRow& r : t.rows) {
    rows.push_back({{"kind", std::string(row_kind_name(r.kind))},
                    {"step", r.step},
                    {"task", r.task},
                    {"other", r.other},
                    {"op", r.op},
                    {"op_name", r.op_name},
                    {"fn", r.fn},
                    {"word", r.word},
                    {"access", r.access},
                    {"before", r.before},
                    {"after", r.after},
                    {"changed", r.changed},
                    {"from_row", r.from_row},
                    {"folded", r.folded},
                    {"finding", r.finding},
                    {"text", r.text}});
  }
  data["rows"] = rows;
  if (t.has_finding) {
    data["finding"] = {{"oracle", t.oracle},       {"invariant", t.invariant}, {"what", t.what},
                       {"detail", t.detail},       {"message", t.message},     {"signature", t.signature},
                       {"task", t.finding_task},   {"step", t.finding_step},   {"operation", t.finding_op}};
  }
  json blocked = json::array();
  for (const TimelineBlocked& b : t.blocked) {
    blocked.push_back({{"task", b.task}, {"wait_site", b.wait_site}, {"fn", b.fn}, {"condition_holds", b.condition_holds}});
  }
  data["blocked"] = blocked;
  data["reports"] = t.reports;
  std::string embedded = data.dump();
  // Inside <script>, "</" could end the element early.
  for (size_t p = 0; (p = embedded.find("</", p)) != std::string::npos; p += 3) embedded.replace(p, 2, "<\\/");
  std::string html = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>vmafuzz explain</title>
<style>
body { font: 13px/1.4 monospace; margin: 1em; color: #222; }
h1 { font-size: 16px; }
#summary { white-space: pre-wrap; background: #f4f4f4; padding: .5em; border-left: 4px solid #888; }
#summary.has-finding { border-left-color: #c00; }
svg text { font: 12px monospace; }
.lane-head { font-weight: bold; }
.lane-line { stroke: #bbb; stroke-width: 1; }
.row:hover rect.bg { fill: #eef; }
.row rect.bg { fill: transparent; }
.row.finding rect.bg { fill: #fdd; }
.row.finding text { fill: #a00; font-weight: bold; }
.dot { fill: #36c; }
.kind-park .dot { fill: #999; }
.kind-wake .dot, .kind-spurious-wake .dot { fill: #3a3; }
.kind-kill .dot { fill: #c00; }
.kind-switch .dot { fill: #c80; }
.kind-fold .dot { fill: #ccc; }
.kind-fold text { fill: #888; }
.kind-finding .dot { fill: #c00; }
.changed text.val { fill: #06c; }
.arrow-wake { stroke: #3a3; fill: none; marker-end: url(#head-wake); }
.arrow-rf { stroke: #c0c; fill: none; stroke-dasharray: 3 2; marker-end: url(#head-rf); }
.arrow-switch { stroke: #c80; fill: none; marker-end: url(#head-switch); }
#tip { position: fixed; display: none; background: #ffc; border: 1px solid #999; padding: .3em; white-space: pre; pointer-events: none; }
</style></head><body>
<h1 id="title"></h1>
<div id="summary"></div>
<p>Time runs down; one lane per task. Green arrows: wake-ups. Dashed: reads-from (a task reads another's write). Orange: switches. Hover a row for details.</p>
<div id="timeline"></div>
<div id="tip"></div>
<script type="application/json" id="vmafuzz-data">)HTML";
  html += embedded;
  html += R"HTML(</script>
<script>
(function () {
  const data = JSON.parse(document.getElementById('vmafuzz-data').textContent);
  const NS = 'http://www.w3.org/2000/svg';  // the SVG namespace name (never fetched)
  const laneW = 230, rowH = 20, top = 40, left = 60;
  const n = data.tasks.length;
  // An access's value label, beside its dot.
  const valText = (r) => r.word + ' ' + (r.changed ? r.before + '\u2192' + r.after : r.before);
  // The text column starts past the last lane's longest value label (about
  // 7.5 px a character in the page's monospace font).
  const lastLabel = data.rows.reduce(
      (m, r) => (r.kind === 'access' && r.task === n - 1 ? Math.max(m, valText(r).length) : m), 0);
  const textX = Math.max(left + n * laneW + 20, left + (n - 1) * laneW + laneW / 2 + 8 + 7.5 * lastLabel + 24);
  const longest = data.rows.reduce((m, r) => Math.max(m, r.text.length), 0);
  const width = textX + 8 * longest + 20, height = top + data.rows.length * rowH + 20;
  document.getElementById('title').textContent = 'vmafuzz explain: ' + data.title;
  const sum = document.getElementById('summary');
  sum.textContent = data.summary;
  if (data.finding) sum.classList.add('has-finding');
  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  const svg = el('svg', {width: width, height: height, id: 'lanes'});
  const defs = el('defs', {}, svg);
  for (const [id, color] of [['wake', '#3a3'], ['rf', '#c0c'], ['switch', '#c80']]) {
    const m = el('marker', {id: 'head-' + id, markerWidth: 8, markerHeight: 8, refX: 7, refY: 4, orient: 'auto'}, defs);
    el('path', {d: 'M0,0 L8,4 L0,8 z', fill: color}, m);
  }
  const laneX = (t) => left + t * laneW + laneW / 2;
  const rowY = (i) => top + i * rowH + rowH / 2;
  data.tasks.forEach((t, i) => {
    const g = el('g', {class: 'lane', 'data-task': t.name}, svg);
    const head = el('text', {x: laneX(i), y: 20, 'text-anchor': 'middle', class: 'lane-head'}, g);
    head.textContent = t.name + ' ' + t.ops.join(', ');
    el('line', {x1: laneX(i), y1: top - 10, x2: laneX(i), y2: height - 10, class: 'lane-line'}, g);
  });
  const arrows = el('g', {class: 'arrows'}, svg);
  const tip = document.getElementById('tip');
  data.rows.forEach((r, i) => {
    const cls = ['row', 'kind-' + r.kind];
    if (r.finding) cls.push('finding');
    if (r.changed) cls.push('changed');
    const g = el('g', {class: cls.join(' '), 'data-step': r.step, 'data-kind': r.kind, 'data-task': r.task}, svg);
    el('rect', {class: 'bg', x: 0, y: top + i * rowH, width: width, height: rowH}, g);
    const step = el('text', {x: 4, y: rowY(i) + 4}, g);
    step.textContent = r.step;
    const x = r.task >= 0 ? laneX(r.task) : left / 2;
    el('circle', {class: 'dot', cx: x, cy: rowY(i), r: r.kind === 'access' ? 4 : 6}, g);
    if (r.kind === 'access') {
      const v = el('text', {class: 'val', x: x + 8, y: rowY(i) + 4}, g);
      v.textContent = valText(r);
    }
    const label = el('text', {x: textX, y: rowY(i) + 4}, g);
    label.textContent = r.text;
    const title = el('title', {}, g);
    title.textContent = r.text + (r.fn ? '\nin ' + r.fn : '') + '\nstep ' + r.step + ' (' + r.kind + ')';
    g.addEventListener('mousemove', (ev) => {
      tip.style.display = 'block';
      tip.style.left = (ev.clientX + 12) + 'px';
      tip.style.top = (ev.clientY + 12) + 'px';
      tip.textContent = title.textContent;
    });
    g.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
    if ((r.kind === 'wake' || r.kind === 'switch') && r.other >= 0 && r.task >= 0 && r.task !== r.other) {
      el('path', {class: 'arrow-' + r.kind, d: 'M' + laneX(r.task) + ',' + rowY(i) + ' L' + laneX(r.other) + ',' + rowY(i)}, arrows);
    }
    if (r.from_row >= 0) {
      const w = data.rows[r.from_row];
      el('path', {class: 'arrow-rf', d: 'M' + laneX(w.task) + ',' + rowY(r.from_row) + ' C' + (laneX(w.task) + 40) + ',' + rowY(r.from_row) + ' ' + (x - 40) + ',' + rowY(i) + ' ' + x + ',' + rowY(i)}, arrows);
    }
  });
  document.getElementById('timeline').appendChild(svg);
  const foot = document.createElement('pre');
  foot.id = 'blocked';
  foot.textContent = data.blocked.map((b) => 'blocked: T' + b.task + ' in ' + b.wait_site + (b.fn ? ' (' + b.fn + ')' : '') + ', condition ' + (b.condition_holds ? 'holds' : 'false')).join('\n');
  document.body.appendChild(foot);
})();
</script>
</body></html>
)HTML";
  return html;
}

}  // namespace vmafuzz::repro
