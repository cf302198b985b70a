// explore.cpp - depth-first, preemption-bounded exploration with sleep sets.
#include "fuzz/explore.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <vector>

#include "core/report.h"

namespace vmafuzz::fuzz {
namespace {

using Kind = Decision::Kind;
constexpr TaskSet bit(int t) { return TaskSet{1} << t; }

// Continue, a switch to each other task, a wake of each, a kill of each.
constexpr int kMaxAlternatives = 1 + 3 * kMaxTasks;

// An access whose transition may touch words its announced access does not
// name, so it is dependent with everything: a spinlock acquisition (the
// whole rwsem wait_lock section: count, the waiter list and flags, the
// wake-ups), an rcuwait access (rcuwait_wake_up() wakes the task it loads), a
// signal store (send_sigkill() wakes the target), a word of no known kind,
// and an unknown next access (a task not started or resumed in schedule()).
bool touches_unnamed_words(const PendingAccess& a) {
  if (!a.known) return true;
  switch (a.kind) {
    case core::SharedWordKind::kSpinlock:
    case core::SharedWordKind::kRcuwaitTask:
    case core::SharedWordKind::kOther: return true;
    case core::SharedWordKind::kSignal: return a.access != core::AccessKind::kLoad;
    default: return false;
  }
}

// Two tasks' next transitions commute: different words, or both loads.
bool independent(const PendingAccess& a, const PendingAccess& b) {
  if (touches_unnamed_words(a) || touches_unnamed_words(b)) return false;
  return a.word != b.word || (a.access == core::AccessKind::kLoad && b.access == core::AccessKind::kLoad);
}

// One decision point of the current path.
struct Node {
  bool forced = false;  // the previous task parked or finished: switch-list's pick, no choice
  int current = -1;
  TaskSet runnable = 0;
  TaskSet live = 0;     // not finished
  TaskSet sleep = 0;    // tasks whose next transition would only repeat an explored schedule
  int used = 0;         // actions spent before this point
  TaskSet killed = 0;   // tasks SIGKILLed before this point
  std::array<Decision, kMaxAlternatives> alts{};
  int num_alts = 0;
  int chosen = 0;
  // The continue branch (explored first) reached a non-forced point next: the
  // current task's transition neither parked nor finished it.
  bool continue_kept_running = false;
  std::array<PendingAccess, kMaxTasks> pending{};
};

int cost(const Node& n, int i) { return n.forced || n.alts[static_cast<size_t>(i)].kind == Kind::kContinue ? 0 : 1; }

class ExploreStrategy final : public Strategy {
 public:
  ExploreStrategy(const ExploreOptions& options, TaskSet killable) : options_(options), killable_(killable) {}

  struct Logged {
    int current;
    Decision decision;
  };

  void begin(int num_tasks, int /*total_ops*/, ChoiceSource& /*choices*/) override {
    num_tasks_ = num_tasks;
    depth_ = 0;
    last_ = -1;
    log_.clear();
    predicted_ = 0;
  }

  Decision decide(const SchedulerView& v, ChoiceSource& /*choices*/) override {
    if (v.current >= 0 && (predicted_ & bit(v.current))) {
      // The platform's prediction of this task's access (strategy.h) must hold.
      const PendingAccess& p = v.pending[v.current];
      if (p.kind != predicted_kind_[static_cast<size_t>(v.current)] ||
          p.access != predicted_access_[static_cast<size_t>(v.current)]) {
        core::harness_bug("explore: a task's predicted next access was not its next access");
      }
      predicted_ &= ~bit(v.current);
    }
    for (int t = 0; t < num_tasks_; ++t) {
      if (t != v.current && v.pending[t].known && v.pending[t].word >= kOwnWordId && v.pending[t].word < 2 * kOwnWordId) {
        predicted_ |= bit(t);
        predicted_kind_[static_cast<size_t>(t)] = v.pending[t].kind;
        predicted_access_[static_cast<size_t>(t)] = v.pending[t].access;
      }
    }
    if (depth_ == path_.size()) push_node(v);
    const Node& node = path_[depth_];
    // Re-execution must retrace the path: the engine is deterministic.
    if (node.forced != (v.current < 0) || node.current != v.current || node.runnable != v.runnable) {
      core::harness_bug("explore: a re-executed run left its recorded path");
    }
    const Decision d = node.alts[static_cast<size_t>(node.chosen)];
    if (v.current >= 0) {
      last_ = v.current;
      log_.push_back(Logged{v.current, d});
    }
    ++depth_;
    return d;
  }

  // Move the deepest decision with an untried allowed alternative to it,
  // dropping the points below; false when none is left (exhausted).
  bool advance() {
    while (!path_.empty()) {
      Node& n = path_.back();
      for (int i = n.chosen + 1; i < n.num_alts; ++i) {
        if (allowed(n, i)) {
          n.chosen = i;
          return true;
        }
      }
      path_.pop_back();
    }
    return false;
  }

  size_t depth() const { return depth_; }
  uint64_t pruned() const { return pruned_; }
  const std::vector<Logged>& log() const { return log_; }

 private:
  bool allowed(const Node& n, int i) {
    if (n.used + cost(n, i) > options_.preemptions) return false;
    const Decision& d = n.alts[static_cast<size_t>(i)];
    if (d.kind == Kind::kSwitch && (n.sleep & bit(d.task))) {
      ++pruned_;
      return false;
    }
    return true;
  }

  // The sleep set after `parent`'s chosen transition: the tasks asleep there,
  // plus its current task once its continue branch is explored, that are
  // independent of the transition. Empty after an event or a forced pick.
  TaskSet child_sleep(const Node& parent, bool child_forced) const {
    if (!options_.reduction || child_forced || parent.forced) return 0;
    const Decision& d = parent.alts[static_cast<size_t>(parent.chosen)];
    if (d.kind == Kind::kSpuriousWake || d.kind == Kind::kKill) return 0;
    const int runner = d.kind == Kind::kContinue ? parent.current : d.task;
    TaskSet candidates = parent.sleep;
    if (parent.chosen > 0 && parent.continue_kept_running) candidates |= bit(parent.current);
    candidates &= ~bit(runner);
    TaskSet out = 0;
    for (int y = 0; y < num_tasks_; ++y) {
      if ((candidates & bit(y)) && independent(parent.pending[static_cast<size_t>(y)],
                                               parent.pending[static_cast<size_t>(runner)])) {
        out |= bit(y);
      }
    }
    return out;
  }

  void push_node(const SchedulerView& v) {
    Node n;
    n.forced = v.current < 0;
    n.current = v.current;
    n.runnable = v.runnable;
    n.live = v.runnable | v.parked;
    for (int t = 0; t < num_tasks_; ++t) n.pending[static_cast<size_t>(t)] = v.pending[t];
    if (!path_.empty()) {
      Node& parent = path_.back();
      const Decision& d = parent.alts[static_cast<size_t>(parent.chosen)];
      n.used = parent.used + cost(parent, parent.chosen);
      n.killed = parent.killed | (d.kind == Kind::kKill ? bit(d.task) : 0);
      if (!parent.forced && parent.chosen == 0 && !n.forced) parent.continue_kept_running = true;
      n.sleep = child_sleep(parent, n.forced);
    }
    auto add = [&n](Kind kind, int task) { n.alts[static_cast<size_t>(n.num_alts++)] = Decision{kind, task}; };
    if (n.forced) {
      add(Kind::kSwitch, next_in_set(v.runnable, last_ + 1, num_tasks_));  // switch-list's forced pick
    } else {
      add(Kind::kContinue, v.current);
      for (int t = 0; t < num_tasks_; ++t) {
        if (t != v.current && (v.runnable & bit(t))) add(Kind::kSwitch, t);
      }
      for (int t = 0; t < num_tasks_; ++t) {
        if (v.parked & bit(t)) add(Kind::kSpuriousWake, t);
      }
      for (int t = 0; t < num_tasks_; ++t) {
        if ((killable_ & n.live & ~n.killed) & bit(t)) add(Kind::kKill, t);
      }
    }
    path_.push_back(n);
  }

  const ExploreOptions& options_;
  const TaskSet killable_;
  std::vector<Node> path_;
  size_t depth_ = 0;
  int num_tasks_ = 0;
  int last_ = -1;  // the task at the last non-forced point (switch-list's forced-pick rule)
  uint64_t pruned_ = 0;
  std::vector<Logged> log_;
  // Tasks whose pending access is the platform's prediction, and what it said.
  TaskSet predicted_ = 0;
  std::array<core::SharedWordKind, kMaxTasks> predicted_kind_{};
  std::array<core::AccessKind, kMaxTasks> predicted_access_{};
};

// The run's decisions as switch-list pairs: a pair per action, its run the
// scheduling points since the previous one; a stretch of more than
// kSwitchListMaxRun continues is chained by switching to the running task.
std::vector<SwitchListPair> pairs_of(const std::vector<ExploreStrategy::Logged>& log) {
  std::vector<SwitchListPair> pairs;
  size_t real = 0;  // pairs up to the last action
  int run = 0;
  for (const ExploreStrategy::Logged& e : log) {
    ++run;
    if (e.decision.kind == Kind::kContinue) {
      if (run == kSwitchListMaxRun) {
        pairs.push_back(SwitchListPair{run, Kind::kSwitch, e.current});
        run = 0;
      }
      continue;
    }
    pairs.push_back(SwitchListPair{run, e.decision.kind, e.decision.task});
    real = pairs.size();
    run = 0;
  }
  pairs.resize(real);  // an exhausted switch-list stream continues
  return pairs;
}

}  // namespace

TaskSet killable_tasks(const Scenario& program) {
  TaskSet out = 0;
  for (size_t t = 0; t < program.tasks.size(); ++t) {
    for (const Op& op : program.tasks[t].ops) {
      if (op.kind == OpKind::kMprotectKillable || op.kind == OpKind::kVmaStartWriteKillable) {
        out |= bit(static_cast<int>(t));
      }
    }
  }
  return out;
}

ExploreResult explore(const Scenario& program, const ExploreOptions& options) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  ExploreStrategy strategy(options, killable_tasks(program));
  RunOptions run = options.run;
  run.strategy = &strategy;
  run.features = nullptr;
  Execution exec;
  ExploreResult out;
  for (;;) {
    ExecutionResult r = exec.run(program, run);
    ++out.schedules;
    out.max_depth = std::max(out.max_depth, strategy.depth());
    if (options.on_schedule) options.on_schedule(r);
    if (r.finding) {
      Scenario sc = program;
      sc.strategy = StrategyKind::kSwitchList;
      sc.choices = switch_list_choices(pairs_of(strategy.log()), static_cast<int>(program.tasks.size()));
      // The written schedule must be the explored run: the same trace.
      RunOptions replay = options.run;
      replay.strategy = nullptr;
      replay.features = nullptr;
      if (exec.run(sc, replay).trace_hash != r.trace_hash) {
        core::harness_bug("explore: the finding's switch-list schedule does not replay its run");
      }
      out.finding = std::move(r);
      out.finding_schedule = std::move(sc);
      break;
    }
    if (!strategy.advance()) {
      out.exhausted = true;
      break;
    }
    if (options.max_schedules && out.schedules >= options.max_schedules) break;
    if (options.time_limit > 0 &&
        std::chrono::duration<double>(Clock::now() - start).count() >= options.time_limit) {
      break;
    }
    if (options.keep_going && !options.keep_going(out.schedules)) break;
  }
  out.pruned = strategy.pruned();
  return out;
}

}  // namespace vmafuzz::fuzz
