// trace_replay.cpp - the guide strategy and its switch-list encoding.
#include "fuzz/trace_replay.h"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>

#include "fuzz/strategy.h"

namespace vmafuzz::fuzz {
namespace {

constexpr size_t kLookahead = 16;  // access marks searched for a replayed access
constexpr uint64_t kNoMark = std::numeric_limits<uint64_t>::max();

// Follows a run's trace as it grows and aligns it with the marks.
class Aligner {
 public:
  Aligner(const Scenario& sc, const std::vector<GuideMark>& marks) : marks_(marks) {
    const int n = static_cast<int>(sc.tasks.size());
    for (size_t i = 0; i < marks.size(); ++i) {
      has_access_marks_ |= marks[i].kind == GuideMark::Kind::kAccess;
      if (marks[i].task >= 0 && marks[i].task < n) of_task_[static_cast<size_t>(marks[i].task)].push_back(i);
    }
    match_.marks = static_cast<int>(marks.size());
  }

  // Consume the trace events added since the last call.
  void sync(const std::vector<TraceEvent>& events) {
    for (; seen_ < events.size(); ++seen_) on_event(events[seen_]);
  }
  // The run ended: flush, and count what is left as dropped.
  void finish() {
    for (int t = 0; t < kMaxTasks; ++t) flush_spin(t);
    for (int t = 0; t < kMaxTasks; ++t) {
      while (cursor_[t] < of_task_[t].size()) drop(t);
    }
  }

  uint64_t key(int t) const {
    const size_t c = cursor_[static_cast<size_t>(t)];
    return c < of_task_[static_cast<size_t>(t)].size() ? marks_[of_task_[static_cast<size_t>(t)][c]].order : kNoMark;
  }
  int& streak(int t) { return streak_[static_cast<size_t>(t)]; }
  const ReplayMatch& match() const { return match_; }
  std::vector<ReplayedAccess>& replayed() { return replayed_; }

 private:
  const GuideMark* next(int t) const {
    const size_t c = cursor_[static_cast<size_t>(t)];
    return c < of_task_[static_cast<size_t>(t)].size() ? &marks_[of_task_[static_cast<size_t>(t)][c]] : nullptr;
  }
  void drop(int t) {
    ++match_.dropped;
    ++cursor_[static_cast<size_t>(t)];
  }
  void consume(int t) {
    const GuideMark& m = marks_[of_task_[static_cast<size_t>(t)][cursor_[static_cast<size_t>(t)]]];
    if (match_.consumed > 0 && m.order < last_order_) ++match_.out_of_order;
    last_order_ = m.order;
    ++match_.consumed;
    ++cursor_[static_cast<size_t>(t)];
    streak_[static_cast<size_t>(t)] = 0;
  }
  // The task is now in operation `op`: marks of earlier operations are left behind.
  void enter_op(int t, int op) {
    op_[static_cast<size_t>(t)] = op;
    while (const GuideMark* m = next(t)) {
      if (m->op >= op) break;
      drop(t);
    }
  }
  void flush_spin(int t) {
    if (auto& p = pending_spin_[static_cast<size_t>(t)]) {
      const core::AccessKind a = *p;
      p.reset();
      on_access(t, core::SharedWordKind::kSpinlock, a);
    }
  }

  void on_access(int t, core::SharedWordKind kind, core::AccessKind access) {
    ++match_.accesses;
    const int op = op_[static_cast<size_t>(t)];
    ReplayedAccess r{t, op, kind, access};
    if (const GuideMark* m = next(t); m && m->kind == GuideMark::Kind::kBegin && m->op == op) consume(t);
    const GuideMark* m = next(t);
    if (m && m->kind == GuideMark::Kind::kAccess && m->op == op) {
      const auto& mine = of_task_[static_cast<size_t>(t)];
      const size_t c = cursor_[static_cast<size_t>(t)];
      size_t found = mine.size();
      for (size_t i = c; i < mine.size() && i < c + kLookahead; ++i) {
        const GuideMark& x = marks_[mine[i]];
        if (x.kind != GuideMark::Kind::kAccess || x.op != op) break;
        if (x.word_kind == kind && x.access == access) {
          found = i;
          break;
        }
      }
      if (found < mine.size()) {
        while (cursor_[static_cast<size_t>(t)] < found) drop(t);
        r.mark = static_cast<int64_t>(mine[found]);
        consume(t);
      } else {
        ++match_.extra;
      }
    } else if (has_access_marks_) {
      ++match_.extra;
    }
    replayed_.push_back(r);
  }

  void on_event(const TraceEvent& e) {
    const int t = e.task;
    if (t < 0 || t >= kMaxTasks) return;
    switch (e.kind) {
      case TraceEventKind::kAccess:
        flush_spin(t);
        if (is_access_done(e)) {
          on_access(t, e.word_kind, e.access);
        } else if (e.word_kind == core::SharedWordKind::kSpinlock) {
          pending_spin_[static_cast<size_t>(t)] = e.access;  // granted when the task next does anything
        }
        return;
      case TraceEventKind::kPark: flush_spin(t); return;
      case TraceEventKind::kOpBegin:
        flush_spin(t);
        enter_op(t, static_cast<int>(e.arg));
        return;
      case TraceEventKind::kOpEnd: {
        flush_spin(t);
        const int op = static_cast<int>(e.arg);
        if (const GuideMark* m = next(t); m && m->kind == GuideMark::Kind::kBegin && m->op == op) consume(t);
        if (const GuideMark* m = next(t); m && m->kind == GuideMark::Kind::kEnd && m->op == op) consume(t);
        enter_op(t, op + 1);
        return;
      }
      default: return;  // switches, wakes, kills: logged by another task
    }
  }

  const std::vector<GuideMark>& marks_;
  bool has_access_marks_ = false;
  std::array<std::vector<size_t>, kMaxTasks> of_task_{};
  std::array<size_t, kMaxTasks> cursor_{};
  std::array<int, kMaxTasks> op_{};
  std::array<int, kMaxTasks> streak_{};
  std::array<std::optional<core::AccessKind>, kMaxTasks> pending_spin_{};
  size_t seen_ = 0;
  uint64_t last_order_ = 0;
  ReplayMatch match_;
  std::vector<ReplayedAccess> replayed_;
};

// Decides by the marks; what it decides is written as switch-list pairs that
// the switch-list strategy reads back to the same decisions.
class GuideStrategy final : public Strategy {
 public:
  GuideStrategy(Aligner& aligner, const Trace& trace) : aligner_(aligner), trace_(trace) {}

  void begin(int num_tasks, int /*total_ops*/, ChoiceSource& /*choices*/) override { n_ = num_tasks; }

  Decision decide(const SchedulerView& v, ChoiceSource& /*choices*/) override {
    aligner_.sync(trace_.events());
    // Forced picks: exactly the switch-list's.
    auto rank = [&](int t) {
      return std::pair<int, uint64_t>(aligner_.streak(t) >= kStarveBound ? 1 : 0, aligner_.key(t));
    };
    auto best_from = [&](int best) {
      for (int t = 0; t < n_; ++t) {
        if ((v.runnable >> t & 1) && rank(t) < rank(best)) best = t;
      }
      return best;
    };
    if (v.current < 0) {
      const int pick = next_in_set(v.runnable, last_ + 1, n_);
      if (aligner_.key(pick) != aligner_.key(best_from(pick))) ++forced_divergences_;
      return {Decision::Kind::kSwitch, pick};
    }
    last_ = v.current;
    ++since_;
    ++aligner_.streak(v.current);
    const int best = best_from(v.current);
    if (best != v.current) {
      emit(best);
      ++preemptions_;
      pairs_end_ = choices_.size();
      return {Decision::Kind::kSwitch, best};
    }
    if (since_ == kSwitchListMaxRun) emit(v.current);  // a continue: the run goes on
    return {Decision::Kind::kContinue};
  }

  // The choice stream, without trailing continues (an exhausted stream continues).
  std::vector<uint8_t> choices() const { return {choices_.begin(), choices_.begin() + static_cast<long>(pairs_end_)}; }
  int preemptions() const { return preemptions_; }
  int forced_divergences() const { return forced_divergences_; }

 private:
  void emit(int task) {
    choices_.push_back(static_cast<uint8_t>(since_ - 1));
    choices_.push_back(static_cast<uint8_t>(task));  // group 0: switch
    since_ = 0;
  }

  Aligner& aligner_;
  const Trace& trace_;
  int n_ = 0;
  int last_ = -1;
  int since_ = 0;
  int preemptions_ = 0;
  int forced_divergences_ = 0;
  size_t pairs_end_ = 0;
  std::vector<uint8_t> choices_;
};

}  // namespace

std::vector<GuideMark> recorded_marks(const RecordedTrace& trace) {
  std::vector<GuideMark> marks;
  for (const RecordedEvent& e : trace.events) {
    if (e.kind != RecordedEvent::Kind::kAccess) continue;
    marks.push_back(GuideMark{GuideMark::Kind::kAccess, e.task, e.op, e.word_kind, e.access, e.clock});
  }
  return marks;
}

RecordedTrace trace_of_run(const Scenario& scenario, Execution& exec) {
  RecordedTrace tr;
  tr.setup = scenario;
  tr.setup.strategy = StrategyKind::kSwitchList;
  tr.setup.pct_depth = Scenario{}.pct_depth;
  tr.setup.choices.clear();
  RunOptions opt;
  opt.keep_trace = true;
  exec.run(scenario, opt);
  const std::vector<GuideMark> none;
  Aligner a(scenario, none);
  a.sync(exec.trace().events());
  a.finish();
  uint64_t clock = 0;
  for (const ReplayedAccess& r : a.replayed()) {
    RecordedEvent e;
    e.clock = ++clock;
    e.task = r.task;
    e.op = r.op;
    e.word_kind = r.word_kind;
    e.access = r.access;
    tr.events.push_back(e);
  }
  return tr;
}

ImportedSchedule import_schedule(const Scenario& setup, const std::vector<GuideMark>& marks, Execution& exec) {
  ImportedSchedule out;
  out.scenario = setup;
  out.scenario.strategy = StrategyKind::kSwitchList;
  out.scenario.pct_depth = Scenario{}.pct_depth;
  out.scenario.choices.clear();

  Aligner aligner(out.scenario, marks);
  GuideStrategy guide(aligner, exec.trace());
  RunOptions guided;
  guided.keep_trace = true;
  guided.strategy = &guide;
  const ExecutionResult g = exec.run(out.scenario, guided);
  aligner.sync(exec.trace().events());
  aligner.finish();
  out.match = aligner.match();
  out.replayed = std::move(aligner.replayed());
  out.preemptions = guide.preemptions();
  out.forced_divergences = guide.forced_divergences();
  for (const TraceEvent& e : exec.trace().events()) out.parks += e.kind == TraceEventKind::kPark;
  out.scenario.choices = guide.choices();

  RunOptions plain;
  const ExecutionResult r = exec.run(out.scenario, plain);
  if (g.verdict != Verdict::kPass || r.verdict != Verdict::kPass || r.trace_hash != g.trace_hash) {
    out.fallback = true;
    out.note = g.verdict != Verdict::kPass ? "the guided run ended in " + std::string(verdict_name(g.verdict))
               : r.verdict != Verdict::kPass ? "the encoded schedule ended in " + std::string(verdict_name(r.verdict))
                                             : std::string("the encoded schedule diverged from the guided run");
    out.scenario.choices.clear();
    out.preemptions = 0;
    out.passes = exec.run(out.scenario, plain).verdict == Verdict::kPass;
  }
  return out;
}

}  // namespace vmafuzz::fuzz
