// explore.cpp - depth-first, preemption-bounded exploration with sleep sets
// and bounded DPOR.
#include "fuzz/explore.h"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <sstream>
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
  uint16_t done = 0;      // alternatives explored or ruled out (bit per alternative)
  TaskSet backtrack = 0;  // DPOR: tasks a race asks to run here
  // The transition the chosen decision starts: its task, and whether it may
  // touch any word (an event decision, or an access touches_unnamed_words()).
  int runner = -1;
  bool global = false;
  bool load = false;   // its access (when not global)
  uint32_t word = 0;
  std::array<uint32_t, kMaxTasks> clock{};  // its vector clock over dependent transitions
  std::array<int, kMaxTasks> last_of{};     // each task's last transition before this point; -1: none
};
static_assert(kMaxAlternatives <= 16, "Node::done is 16 bits");

int cost(const Node& n, int i) { return n.forced || n.alts[static_cast<size_t>(i)].kind == Kind::kContinue ? 0 : 1; }

class ExploreStrategy final : public Strategy {
 public:
  ExploreStrategy(const ExploreOptions& options, TaskSet killable) : options_(options), killable_(killable) {}

  struct Logged {
    int current;
    Decision decision;
  };

  // The search's position between two schedules (after advance()).
  ExploreCheckpoint checkpoint() const {
    ExploreCheckpoint c;
    c.pruned = pruned_;
    for (const Node& n : path_) {
      c.path.push_back(ExploreCheckpoint::Point{n.chosen, n.done, n.backtrack, n.continue_kept_running});
    }
    return c;
  }

  // Resume: the next run retraces `c`'s path, its points taking the recorded
  // state as they are reached; DPOR rechecks the whole path (its races on the
  // retraced prefix were recorded already, so this adds nothing new).
  void restore(const ExploreCheckpoint& c) {
    restore_ = c.path;
    pruned_ = c.pruned;
    fresh_ = 0;
  }

  // After the first run of a resumed search: false if it did not retrace the
  // checkpoint's path (the file was not saved by this search).
  bool end_restore() {
    const bool ok = !restore_failed_ && depth_ >= restore_.size();
    restore_.clear();
    return ok;
  }

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
    if (depth_ == path_.size()) {
      push_node(v);
      if (depth_ < restore_.size()) {
        const ExploreCheckpoint::Point& p = restore_[depth_];
        Node& n = path_.back();
        if (p.chosen >= n.num_alts) {  // an edited file: not this search's path
          restore_failed_ = true;
          restore_.clear();
        } else {
          n.chosen = p.chosen;
          n.done = p.done;
          n.backtrack = p.backtrack;
          n.continue_kept_running = p.continue_kept_running;
        }
      }
    }
    const Node& node = path_[depth_];
    // Re-execution must retrace the path: the engine is deterministic.
    if (node.forced != (v.current < 0) || node.current != v.current || node.runnable != v.runnable) {
      core::harness_bug("explore: a re-executed run left its recorded path");
    }
    const Decision d = node.alts[static_cast<size_t>(node.chosen)];
    Node& mut = path_[depth_];
    const bool event = d.kind == Kind::kSpuriousWake || d.kind == Kind::kKill;
    mut.runner = d.kind == Kind::kSwitch ? d.task : v.current;
    const PendingAccess& access = mut.pending[static_cast<size_t>(mut.runner)];
    mut.global = event || touches_unnamed_words(access);
    mut.word = access.word;
    mut.load = access.access == core::AccessKind::kLoad;
    if (v.current >= 0) {
      last_ = v.current;
      log_.push_back(Logged{v.current, d});
    }
    ++depth_;
    return d;
  }

  // The running task went on alone at exit (docs/SCHEDULER.md): its
  // transition from the last decision runs to the end of the run through
  // accesses it did not announce, so it is dependent with everything.
  void on_unscheduled_suffix(int task) override {
    if (depth_ == 0 || path_[depth_ - 1].runner != task) {
      core::harness_bug("explore: a task exited alone outside the transition it was given");
    }
    path_[depth_ - 1].global = true;
  }

  // Move the deepest decision with an untried wanted and allowed alternative
  // to it (the lowest such), dropping the points below; false when none is
  // left (exhausted).
  bool advance() {
    while (!path_.empty()) {
      Node& n = path_.back();
      n.done |= static_cast<uint16_t>(1u << n.chosen);
      for (int i = 0; i < n.num_alts; ++i) {
        if ((n.done >> i) & 1u || !wanted(n, i)) continue;
        if (!allowed(n, i)) {
          n.done |= static_cast<uint16_t>(1u << i);
          continue;
        }
        n.chosen = i;
        fresh_ = path_.size() - 1;
        return true;
      }
      for (int i = 0; i < n.num_alts; ++i) {
        if (!((n.done >> i) & 1u) && n.used + cost(n, i) <= options_.preemptions) ++pruned_;  // no race asked
      }
      path_.pop_back();
    }
    return false;
  }

  // DPOR (Flanagan and Godefroid, POPL 2005) with the conservative points of
  // bounded POR (Coons, Musuvathi and McKinley, OOPSLA 2013), after a run:
  // for each point new in this run, its transition's vector clock, and for
  // each live task's next transition there the last earlier transition of
  // another task that it depends on and that does not happen before the
  // task's own previous one (a race): the task is to run instead at that
  // point, and at the point where that point's running task was switched in
  // (the bound makes reaching the race cost a preemption otherwise).
  void after_run() {
    if (options_.reduction != Reduction::kDpor) return;
    if (path_.size() != depth_) core::harness_bug("explore: a run stopped short of its recorded path");
    for (size_t k = fresh_; k < path_.size(); ++k) {
      const Node& node = path_[k];
      for (int p = 0; p < num_tasks_; ++p) {
        if (!(node.live & bit(p)) || p == node.runner) continue;  // the runner's race: with its clock below
        const PendingAccess& a = node.pending[static_cast<size_t>(p)];
        const bool global = p == node.runner ? node.global : touches_unnamed_words(a);
        const std::array<uint32_t, kMaxTasks> cp = clock_before(node, p);
        // The same next transition as at the previous point (the task did not
        // run there): only that point's transition is new to check against.
        const bool same = k > 0 && path_[k - 1].runner != p && (path_[k - 1].live & bit(p)) &&
                          same_access(path_[k - 1].pending[static_cast<size_t>(p)], a);
        const size_t stop = same ? k - 1 : 0;
        // Tasks whose transitions from here down all happen before p's previous one.
        TaskSet ordered = bit(p) | ~ran_before(node);
        for (size_t i = k; i-- > stop && ordered != ~TaskSet{0};) {
          const Node& e = path_[i];
          const size_t r = static_cast<size_t>(e.runner);
          if (ordered & bit(e.runner)) continue;
          if (cp[r] >= e.clock[r]) {  // e (and its task's earlier ones) happen before p's previous transition
            ordered |= bit(e.runner);
            continue;
          }
          if (!dependent(e, a, global)) continue;
          add_backtrack(i, p);
          break;
        }
      }
      // The transition's clock: its task's previous one joined with every
      // earlier dependent transition of another task. The first one joined
      // (the latest) is its race, if any: until then c is its task's clock.
      Node& n = path_[k];
      bool raced = false;
      const size_t r = static_cast<size_t>(n.runner);
      std::array<uint32_t, kMaxTasks> c = clock_before(n, n.runner);
      c[r] += 1;
      // Per task, only its last dependent transition matters (program order
      // orders its earlier ones before it).
      TaskSet ordered = bit(n.runner) | ~ran_before(n);
      for (size_t i = k; i-- > 0 && ordered != ~TaskSet{0};) {
        const Node& e = path_[i];
        const size_t u = static_cast<size_t>(e.runner);
        if (ordered & bit(e.runner)) continue;
        if (c[u] >= e.clock[u]) {
          ordered |= bit(e.runner);
          continue;
        }
        if (!dependent(e, n.pending[r], n.global)) continue;
        if (!raced) add_backtrack(i, n.runner);
        raced = true;
        for (size_t t = 0; t < kMaxTasks; ++t) c[t] = std::max(c[t], e.clock[t]);
        ordered |= bit(e.runner);
      }
      n.clock = c;
    }
  }

  size_t depth() const { return depth_; }
  uint64_t pruned() const { return pruned_; }
  const std::vector<Logged>& log() const { return log_; }

 private:
  bool wanted(const Node& n, int i) const {
    const Decision& d = n.alts[static_cast<size_t>(i)];
    // Events are always explored: they change what is enabled.
    return options_.reduction != Reduction::kDpor || d.kind != Kind::kSwitch || n.forced || (n.backtrack & bit(d.task));
  }

  static bool dependent(const Node& e, const PendingAccess& a, bool a_global) {
    return e.global || a_global || (e.word == a.word && !(e.load && a.access == core::AccessKind::kLoad));
  }

  static TaskSet ran_before(const Node& n) {
    TaskSet out = 0;
    for (int t = 0; t < kMaxTasks; ++t) out |= n.last_of[static_cast<size_t>(t)] >= 0 ? bit(t) : 0;
    return out;
  }

  static bool same_access(const PendingAccess& a, const PendingAccess& b) {
    return a.known == b.known && a.word == b.word && a.kind == b.kind && a.access == b.access;
  }

  std::array<uint32_t, kMaxTasks> clock_before(const Node& n, int task) const {
    const int last = n.last_of[static_cast<size_t>(task)];
    return last < 0 ? std::array<uint32_t, kMaxTasks>{} : path_[static_cast<size_t>(last)].clock;
  }

  // Ask for `task` at point i, or, at a forced pick (no choice there), at the
  // previous point with a choice; every runnable task where it cannot run.
  // Then the same where that point's running task was switched in.
  void add_backtrack(size_t i, int task) {
    const int h = choice_point_at_or_before(static_cast<int>(i));
    if (h < 0) return;
    want(path_[static_cast<size_t>(h)], task);
    const int c = path_[static_cast<size_t>(h)].current;
    int b = h - 1;
    while (b >= 0 && !path_[static_cast<size_t>(b)].forced && path_[static_cast<size_t>(b)].current == c &&
           path_[static_cast<size_t>(b)].runner == c) {
      --b;
    }
    if (b >= 0 && path_[static_cast<size_t>(b)].runner == c) {
      const int b2 = choice_point_at_or_before(b);
      if (b2 >= 0) want(path_[static_cast<size_t>(b2)], task);
    }
  }

  int choice_point_at_or_before(int i) const {
    while (i >= 0 && path_[static_cast<size_t>(i)].forced) --i;
    return i;
  }

  static void want(Node& n, int task) { n.backtrack |= (n.runnable & bit(task)) ? bit(task) : n.runnable; }

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
    if (options_.reduction == Reduction::kNone || child_forced || parent.forced) return 0;
    const Decision& d = parent.alts[static_cast<size_t>(parent.chosen)];
    if (d.kind == Kind::kSpuriousWake || d.kind == Kind::kKill) return 0;
    const int runner = d.kind == Kind::kContinue ? parent.current : d.task;
    TaskSet candidates = parent.sleep;
    // With a third live task a forced pick after the task's next step could
    // go elsewhere in the equivalent explored schedule (docs/SCHEDULER.md).
    if (parent.chosen > 0 && parent.continue_kept_running && std::popcount(parent.live) <= 2) {
      candidates |= bit(parent.current);
    }
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
    n.last_of.fill(-1);
    if (!path_.empty()) {
      Node& parent = path_.back();
      n.last_of = parent.last_of;
      n.last_of[static_cast<size_t>(parent.runner)] = static_cast<int>(path_.size() - 1);
      const Decision& d = parent.alts[static_cast<size_t>(parent.chosen)];
      n.used = parent.used + cost(parent, parent.chosen);
      n.killed = parent.killed | (d.kind == Kind::kKill ? bit(d.task) : 0);
      if (!parent.forced && parent.chosen == 0 && !n.forced) parent.continue_kept_running = true;
      n.sleep = child_sleep(parent, n.forced);
    }
    // An event here is the same schedule as that event one point earlier
    // when the running task only continued since with a step that cannot
    // touch the target (not dependent with everything: wake-ups and signal
    // stores are) - both cost one, and the decision here is then a continue.
    TaskSet earlier_wake = 0;
    TaskSet earlier_kill = 0;
    if (options_.reduction != Reduction::kNone && !path_.empty() && !n.forced) {
      const Node& p = path_.back();
      if (!p.forced && p.chosen == 0 && p.current == v.current && !p.global) {
        earlier_wake = p.live & ~p.runnable;
        earlier_kill = killable_ & p.live & ~p.killed;
      }
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
        if (v.parked & ~earlier_wake & bit(t)) add(Kind::kSpuriousWake, t);
      }
      for (int t = 0; t < num_tasks_; ++t) {
        if ((killable_ & n.live & ~n.killed & ~earlier_kill) & bit(t)) add(Kind::kKill, t);
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
  size_t fresh_ = 0;  // the first point whose transition is new in this run
  std::vector<ExploreCheckpoint::Point> restore_;  // a resumed path's points, until the first run is done
  bool restore_failed_ = false;
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
  const auto seconds = [&start] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  ExploreStrategy strategy(options, killable_tasks(program));
  RunOptions run = options.run;
  run.strategy = &strategy;
  run.features = nullptr;
  Execution exec;
  ExploreResult out;
  if (options.resume) {
    out.schedules = options.resume->schedules;
    out.max_depth = options.resume->max_depth;
    if (options.resume->path.empty()) {  // saved after the last schedule
      out.exhausted = true;
      out.pruned = options.resume->pruned;
      return out;
    }
    strategy.restore(*options.resume);
  }
  const auto checkpoint = [&] {
    ExploreCheckpoint c = strategy.checkpoint();
    c.schedules = out.schedules;
    c.max_depth = out.max_depth;
    return c;
  };
  double next_checkpoint = options.checkpoint_every;
  for (;;) {
    ExecutionResult r = exec.run(program, run);
    ++out.schedules;
    out.max_depth = std::max(out.max_depth, strategy.depth());
    if (options.on_schedule) options.on_schedule(r);
    if (!strategy.end_restore()) {
      out.bad_checkpoint = true;
      return out;
    }
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
    strategy.after_run();
    if (!strategy.advance()) {
      out.exhausted = true;
      break;
    }
    const bool stop = (options.max_schedules && out.schedules >= options.max_schedules) ||
                      (options.time_limit > 0 && seconds() >= options.time_limit) ||
                      (options.keep_going && !options.keep_going(out.schedules));
    if (options.on_checkpoint && (stop || (options.checkpoint_every > 0 && seconds() >= next_checkpoint))) {
      options.on_checkpoint(checkpoint());
      next_checkpoint = seconds() + options.checkpoint_every;
    }
    if (stop) break;
  }
  if (out.exhausted && options.on_checkpoint) options.on_checkpoint(checkpoint());  // an empty path
  out.pruned = strategy.pruned();
  return out;
}

std::string checkpoint_text(const ExploreCheckpoint& c) {
  std::ostringstream s;
  s << "schedules " << c.schedules << " pruned " << c.pruned << " max_depth " << c.max_depth << " points "
    << c.path.size() << "\n";
  for (const ExploreCheckpoint::Point& p : c.path) {
    s << p.chosen << ' ' << p.done << ' ' << p.backtrack << ' ' << (p.continue_kept_running ? 1 : 0) << "\n";
  }
  return s.str();
}

std::optional<ExploreCheckpoint> parse_checkpoint(std::string_view text) {
  std::istringstream in{std::string(text)};
  ExploreCheckpoint c;
  std::string w1, w2, w3, w4;
  size_t points = 0;
  if (!(in >> w1 >> c.schedules >> w2 >> c.pruned >> w3 >> c.max_depth >> w4 >> points) || w1 != "schedules" ||
      w2 != "pruned" || w3 != "max_depth" || w4 != "points" || points > (size_t{1} << 24)) {
    return std::nullopt;
  }
  for (size_t i = 0; i < points; ++i) {
    ExploreCheckpoint::Point p;
    unsigned done = 0;
    int kept = 0;
    if (!(in >> p.chosen >> done >> p.backtrack >> kept) || p.chosen < 0 || p.chosen >= kMaxAlternatives ||
        done >= (1u << kMaxAlternatives) || (kept != 0 && kept != 1)) {
      return std::nullopt;
    }
    p.done = static_cast<uint16_t>(done);
    p.continue_kept_running = kept == 1;
    c.path.push_back(p);
  }
  std::string rest;
  if (in >> rest) return std::nullopt;
  return c;
}

}  // namespace vmafuzz::fuzz
