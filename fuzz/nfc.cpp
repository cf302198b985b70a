// nfc.cpp - two versions, one input, one schedule: compare.
#include "fuzz/nfc.h"

#include <fmt/format.h>

#include <algorithm>

#include "fuzz/recorded_trace.h"
#include "fuzz/sched_expect.h"

namespace vmafuzz::fuzz {

namespace {

struct AllowEntry {
  core::LockVersion version;
  std::string_view fn_path;
  core::SharedWordKind word;
  core::AccessKind access;
};
constexpr AllowEntry kAllowlist[] = {
#define VMAFUZZ_NFC_ALLOW(version, fn_path, word, access, why) \
  {core::LockVersion::version, fn_path, core::SharedWordKind::word, core::AccessKind::access},
#include "fuzz/nfc_allowlist.inc"
#undef VMAFUZZ_NFC_ALLOW
};

// The events a comparison looks at: an access's completion (values), not its
// scheduling-point half, and every scheduling event.
bool compared_kind(const TraceEvent& e) {
  return e.kind == TraceEventKind::kAccess ? is_access_done(e) : true;
}

bool same_event(const TraceEvent& x, const TraceEvent& y) {
  return x.kind == y.kind && x.task == y.task && x.word_kind == y.word_kind && x.access == y.access &&
         x.word_id == y.word_id && x.arg == y.arg && x.value_before == y.value_before &&
         x.value_after == y.value_after;
}

NfcSide run_side(Execution& exec, const Scenario& sc, core::LockVersion v, RunOptions opt) {
  opt.lock_version = v;
  opt.align_versions = true;
  opt.keep_trace = true;
  NfcSide side;
  side.version = v;
  side.result = exec.run(sc, opt);
  const Trace& trace = exec.trace();
  bool version_only = false;  // the previous event began a version-only access
  for (TraceEvent e : trace.events()) {
    if (e.kind == TraceEventKind::kAccess && e.arg == kVersionOnlyAccess) {
      version_only = true;
      continue;
    }
    if (!compared_kind(e)) continue;
    if (version_only && e.kind == TraceEventKind::kAccess) e.arg |= kVersionOnlyAccess;  // its completion
    version_only = false;
    const std::string& fn = trace.fn_path(e.fn_path);
    if (e.kind == TraceEventKind::kAccess && (e.arg & kVersionOnlyAccess) && nfc_allowed(e, fn)) {
      ++side.forgiven;
      continue;
    }
    side.events.push_back(e);
    side.fn_paths.push_back(fn);
  }
  return side;
}

std::string verdict_text(const ExecutionResult& r) {
  if (!r.finding) return std::string(verdict_name(r.verdict));
  const Finding& f = *r.finding;
  return fmt::format("{} {}{}", verdict_name(r.verdict), oracle_info(f.oracle).name,
                     f.detail.empty() ? "" : "|" + f.detail);
}

// The operation task t was in at events[0..end) (from its begin/end events).
std::string operation_at(const Scenario& sc, const std::vector<TraceEvent>& events, size_t end, int t) {
  int op = -1;
  for (size_t i = 0; i < end && i < events.size(); ++i) {
    const TraceEvent& e = events[i];
    if (e.task != t) continue;
    if (e.kind == TraceEventKind::kOpBegin) op = static_cast<int>(e.arg);
    if (e.kind == TraceEventKind::kOpEnd) op = -1;
  }
  if (t < 0 || op < 0 || static_cast<size_t>(t) >= sc.tasks.size()) return "-";
  const auto& ops = sc.tasks[static_cast<size_t>(t)].ops;
  return static_cast<size_t>(op) < ops.size() ? std::string(op_info(ops[static_cast<size_t>(op)].kind).name) : "-";
}

// The last model function of a path ("a > b" -> "b").
std::string_view leaf(std::string_view path) {
  const size_t at = path.rfind(" > ");
  return at == std::string_view::npos ? path : path.substr(at + 3);
}

// Schedule-insensitive: the kind of event and where, not its values or step.
std::string event_signature(const NfcSide& s, size_t i) {
  if (i >= s.events.size()) return "end";
  const TraceEvent& e = s.events[i];
  if (e.kind == TraceEventKind::kAccess) {
    return fmt::format("{} {} in {}", access_kind_name(e.access), word_kind_name(e.word_kind),
                       s.fn_paths[i].empty() ? "-" : leaf(s.fn_paths[i]));
  }
  return describe_event(e);
}

}  // namespace

bool nfc_allowed(const TraceEvent& e, std::string_view fn_path) {
  for (const AllowEntry& a : kAllowlist) {
    if (a.word == e.word_kind && a.access == e.access && fn_path.size() >= a.fn_path.size() &&
        fn_path.substr(fn_path.size() - a.fn_path.size()) == a.fn_path) {
      return true;
    }
  }
  return false;
}

std::string describe_event(const TraceEvent& e) {
  switch (e.kind) {
    case TraceEventKind::kAccess:
      return fmt::format("T{} {} {}#{} {}->{}{}", e.task, access_kind_name(e.access), word_kind_name(e.word_kind),
                         e.word_id, static_cast<int64_t>(e.value_before), static_cast<int64_t>(e.value_after),
                         e.arg & kVersionOnlyAccess ? " (version-only)" : "");
    case TraceEventKind::kSwitch: return fmt::format("switch to T{}", e.task);
    case TraceEventKind::kPark: return fmt::format("T{} sleeps", e.task);
    case TraceEventKind::kWake:
      return e.arg ? fmt::format("T{} wakes T{}", e.arg - 1, e.task) : fmt::format("T{} woken", e.task);
    case TraceEventKind::kSpuriousWake: return fmt::format("spurious wake of T{}", e.task);
    case TraceEventKind::kKill: return fmt::format("SIGKILL to T{}", e.task);
    case TraceEventKind::kOpBegin: return fmt::format("T{} begins op {}", e.task, e.arg);
    case TraceEventKind::kAloneAtExit: return fmt::format("T{} exits alone", e.task);
    case TraceEventKind::kOpEnd:
      return fmt::format("T{} ends op {}: {}", e.task, e.arg,
                         op_outcome_name(static_cast<OpOutcome>(e.value_after)));
  }
  return "?";
}

NfcComparison compare_versions(Execution& exec, const Scenario& sc, core::LockVersion a, core::LockVersion b,
                               RunOptions base) {
  NfcComparison c;
  c.a = run_side(exec, sc, a, base);
  base.features = nullptr;  // the engine's features come from the first run only
  c.b = run_side(exec, sc, b, base);

  const std::string_view an = core::lock_version_info(a).name;
  const std::string_view bn = core::lock_version_info(b).name;
  Finding f{};
  f.oracle = OracleId::kNfcDivergence;
  const size_t n = std::min(c.a.events.size(), c.b.events.size());
  size_t i = 0;
  while (i < n && same_event(c.a.events[i], c.b.events[i])) ++i;
  if (i < n || c.a.events.size() != c.b.events.size()) {
    c.events_differ = true;
    c.first_event = i;
    const TraceEvent* ea = i < c.a.events.size() ? &c.a.events[i] : nullptr;
    const TraceEvent* eb = i < c.b.events.size() ? &c.b.events[i] : nullptr;
    f.task = ea ? ea->task : eb ? eb->task : -1;
    f.step = ea ? ea->step : eb ? eb->step : 0;
    f.detail = fmt::format("events: {}: {} / {}: {}", an, event_signature(c.a, i), bn, event_signature(c.b, i));
    f.operation = operation_at(sc, ea ? c.a.events : c.b.events, i, f.task);
    f.message = fmt::format("{} and {} part at event {} of the same schedule", an, bn, i);
  } else if (verdict_text(c.a.result) != verdict_text(c.b.result)) {
    f.task = c.a.result.finding ? c.a.result.finding->task : c.b.result.finding ? c.b.result.finding->task : -1;
    f.detail = fmt::format("verdict: {}: {} / {}: {}", an, verdict_text(c.a.result), bn, verdict_text(c.b.result));
    f.message = "the same events, different verdicts";
  } else if (c.a.result.outcomes != c.b.result.outcomes) {
    f.detail = "outcomes";
    f.message = "the same events, different operation outcomes";
  } else if (c.a.result.final_state.mm_freed != c.b.result.final_state.mm_freed ||
             c.a.result.final_state.vm_refcnt != c.b.result.final_state.vm_refcnt ||
             c.a.result.final_state.vma_free != c.b.result.final_state.vma_free) {
    f.detail = "final state";
    f.message = "the same events, different final states";
  } else {
    return c;
  }
  if (f.operation.empty()) f.operation = "-";
  c.divergence = std::move(f);
  return c;
}

std::optional<std::pair<core::LockVersion, core::LockVersion>> parse_version_pair(std::string_view text,
                                                                                   std::string* error) {
  const size_t comma = text.find(',');
  if (comma == std::string_view::npos || text.find(',', comma + 1) != std::string_view::npos) {
    *error = fmt::format("'{}': expected two versions, A,B", text);
    return std::nullopt;
  }
  const auto a = core::lock_version_from_name(text.substr(0, comma));
  const auto b = core::lock_version_from_name(text.substr(comma + 1));
  if (!a || !b) {
    std::string known;
    for (int v = 0; v < static_cast<int>(core::LockVersion::kCount); ++v) {
      known += (known.empty() ? "" : ", ") + std::string(core::lock_version_info(static_cast<core::LockVersion>(v)).name);
    }
    *error = fmt::format("unknown version '{}' (known: {})", !a ? text.substr(0, comma) : text.substr(comma + 1), known);
    return std::nullopt;
  }
  return std::pair{*a, *b};
}

std::string render_side_by_side(const NfcComparison& c, size_t context) {
  const std::string_view an = core::lock_version_info(c.a.version).name;
  const std::string_view bn = core::lock_version_info(c.b.version).name;
  std::string out;
  constexpr int kWidth = 44;
  if (c.events_differ) {
    out += fmt::format("first divergence at event {} (compared events; {} / {} left out as allowlisted)\n",
                       c.first_event, c.a.forgiven, c.b.forgiven);
    out += fmt::format("  {:>5}  {:<{}} {:<{}}\n", "event", an, kWidth, bn, kWidth);
    const size_t from = c.first_event > context ? c.first_event - context : 0;
    const size_t to = std::min(std::max(c.a.events.size(), c.b.events.size()), c.first_event + context / 2 + 1);
    for (size_t i = from; i < to; ++i) {
      const std::string x = i < c.a.events.size() ? describe_event(c.a.events[i]) : "(end)";
      const std::string y = i < c.b.events.size() ? describe_event(c.b.events[i]) : "(end)";
      out += fmt::format("{} {:>5}  {:<{}} {:<{}}\n", i == c.first_event ? '>' : ' ', i, x, kWidth, y, kWidth);
      if (i == c.first_event) {
        const std::string fx = i < c.a.fn_paths.size() ? c.a.fn_paths[i] : "";
        const std::string fy = i < c.b.fn_paths.size() ? c.b.fn_paths[i] : "";
        if (!fx.empty() || !fy.empty()) out += fmt::format("  {:>5}  {:<{}} {:<{}}\n", "in", fx, kWidth, fy, kWidth);
      }
    }
  }
  out += fmt::format("verdict: {}: {} / {}: {}\n", an, verdict_text(c.a.result), bn, verdict_text(c.b.result));
  for (size_t t = 0; t < c.a.result.outcomes.size() && t < c.b.result.outcomes.size(); ++t) {
    std::string x, y;
    for (OpOutcome o : c.a.result.outcomes[t]) x += std::string(x.empty() ? "" : " ") + std::string(op_outcome_name(o));
    for (OpOutcome o : c.b.result.outcomes[t]) y += std::string(y.empty() ? "" : " ") + std::string(op_outcome_name(o));
    out += fmt::format("outcomes T{}: {}: {}{}\n", t, an, x, x == y ? " (same)" : fmt::format(" / {}: {}", bn, y));
  }
  const auto& fa = c.a.result.final_state;
  const auto& fb = c.b.result.final_state;
  out += fmt::format("final vm_refcnt: {}: {} / {}: {}\n", an, fmt::join(fa.vm_refcnt, ","), bn,
                     fmt::join(fb.vm_refcnt, ","));
  return out;
}

}  // namespace vmafuzz::fuzz
