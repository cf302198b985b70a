// strategy_pct.cpp - Probabilistic Concurrency Testing.
//
// Burckhardt, Kothari, Musuvathi, Nagarakatte: "A Randomized Scheduler with
// Probabilistic Guarantees of Finding Bugs", ASPLOS 2010. Each task gets a
// distinct initial priority > d; the highest-priority runnable task always
// runs; at d - 1 change points (step numbers) the running task's priority drops
// to i (1 <= i < d). A bug of depth d is found with probability >= 1/(n k^(d-1)).
// Departures: priorities and change points come from the ChoiceSource (so the
// fuzzer, not a PRNG, chooses them), and k - the step horizon change points are
// drawn from - is estimated from the program length (pct_horizon():
// kPctStepsPerOp per operation) rather than measured in a previous run.
//
// Choices: n - 1 Fisher-Yates bytes, then d - 1 change points of 2 bytes
// (little-endian). In .sched text "pct depth <d>", the tasks by priority
// ("priorities", highest first) and the change points; its mutations shift a
// change point or redraw the permutation.
#include <algorithm>
#include <array>
#include <memory>
#include <string>

#include "fuzz/sched_lexer.h"
#include "fuzz/strategy_pct.h"
#include "fuzz/strategy_registry.h"

namespace vmafuzz::fuzz {

pct_detail::PctDraw pct_detail::draw(int num_tasks, int depth, int horizon, ChoiceSource& choices) {
  PctDraw d;
  for (int i = 0; i < num_tasks; ++i) d.priority[i] = depth + 1 + i;
  for (int i = num_tasks - 1; i > 0; --i) std::swap(d.priority[i], d.priority[choices.next_byte() % (i + 1)]);
  for (int i = 0; i < depth - 1; ++i) d.change_points[i] = 1 + static_cast<int>(choices.next_bytes(2) % horizon);
  return d;
}

namespace {

using namespace pct_detail;

// ---- the canonical reading ------------------------------------------------

struct PctParams {
  std::vector<int> order;          // tasks by initial priority, highest first
  std::vector<int> change_points;  // depth - 1 steps, in reading order, each in [1, horizon]
};

PctParams read_params(const Scenario& sc) {
  const int n = static_cast<int>(sc.tasks.size());
  ChoiceSource cs(sc.choices);
  const PctDraw d = draw(n, sc.pct_depth, pct_horizon(total_ops(sc)), cs);
  PctParams p;
  for (int i = 0; i < n; ++i) p.order.push_back(i);
  std::sort(p.order.begin(), p.order.end(), [&](int a, int b) { return d.priority[a] > d.priority[b]; });
  p.change_points.assign(d.change_points.begin(),
                         d.change_points.begin() + std::clamp(sc.pct_depth - 1, 0, kMaxDepth - 1));
  return p;
}

// Inverts read_params(): Fisher-Yates has exactly one swap sequence per
// permutation (step i fixes position i for good, and only one j <= i holds
// the value it must get).
std::vector<uint8_t> write_params(const PctParams& p, int depth) {
  const int n = static_cast<int>(p.order.size());
  std::vector<int> want(static_cast<size_t>(n));  // the final priority of each task
  for (int pos = 0; pos < n; ++pos) want[static_cast<size_t>(p.order[static_cast<size_t>(pos)])] = depth + n - pos;
  std::vector<int> a(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) a[static_cast<size_t>(i)] = depth + 1 + i;
  std::vector<uint8_t> out;
  for (int i = n - 1; i > 0; --i) {
    const auto j = std::find(a.begin(), a.begin() + i + 1, want[static_cast<size_t>(i)]) - a.begin();
    out.push_back(static_cast<uint8_t>(j));
    std::swap(a[static_cast<size_t>(i)], a[static_cast<size_t>(j)]);
  }
  for (int cp : p.change_points) {
    out.push_back(static_cast<uint8_t>((cp - 1) & 0xff));
    out.push_back(static_cast<uint8_t>((cp - 1) >> 8));
  }
  return out;
}

// ---- mutations: permutation bytes, then 2-byte change points ---------------

ScheduleMutation mutate_params(Scenario& sc, SplitMix64& rng) {
  std::vector<uint8_t>& c = sc.choices;
  const size_t perm_bytes = sc.tasks.size() - 1;
  const size_t change_points = static_cast<size_t>(sc.pct_depth - 1);
  // Exhausted reads are 0: padding to the full layout changes nothing.
  if (c.size() < perm_bytes + 2 * change_points) c.resize(perm_bytes + 2 * change_points, 0);
  if (change_points == 0 || rng.below(4) == 0) {
    for (size_t i = 0; i < perm_bytes; ++i) c[i] = rng.byte();
    return ScheduleMutation::kRedrawPriorities;
  }
  const int horizon = pct_horizon(total_ops(sc));
  const size_t at = perm_bytes + 2 * rng.below(change_points);
  const int point = 1 + (c[at] | c[at + 1] << 8) % horizon;  // as draw() reads it
  const int shifted = shift_within(point, small_delta(rng), 1, horizon) - 1;
  c[at] = static_cast<uint8_t>(shifted);
  c[at + 1] = static_cast<uint8_t>(shifted >> 8);
  return ScheduleMutation::kShiftChangePoint;
}

// ---- the strategy object ------------------------------------------------------

class PctType final : public StrategyType {
 public:
  StrategyKind kind() const override { return StrategyKind::kPct; }
  std::string_view name() const override { return "pct"; }
  bool reads_depth() const override { return true; }
  std::unique_ptr<Strategy> make(int pct_depth) const override { return std::make_unique<PctStrategy>(pct_depth); }

  // Exactly n-1 shuffle bytes and depth-1 change points (2 bytes each), reduced.
  std::vector<uint8_t> canonical_choices(const Scenario& sc) const override {
    return write_params(read_params(sc), sc.pct_depth);
  }

  std::string print_schedule(const Scenario& sc) const override {
    const PctParams p = read_params(sc);
    std::string out = " depth " + std::to_string(sc.pct_depth) + "\n  priorities";
    for (int t : p.order) out += " " + task_name(t);
    out += "\n";
    if (!p.change_points.empty()) {
      out += "  change-points";
      for (int cp : p.change_points) out += " " + std::to_string(cp);
      out += "\n";
    }
    return out;
  }

  void parse_schedule(SchedLexer& in, const SchedLine& l, Scenario& sc) const override {
    const int n = static_cast<int>(sc.tasks.size());
    in.expect_word(l, 2, "depth");
    sc.pct_depth = static_cast<uint8_t>(in.number(l, 3, 1, kMaxDepth, "a PCT depth 1 to 4"));
    in.expect_end(l, 4);
    PctParams p;
    const SchedLine& pl = in.body("priorities", "an indented 'priorities' line");
    std::array<bool, kMaxTasks> listed{};
    for (size_t tok = 1; tok <= static_cast<size_t>(n); ++tok) {
      if (tok >= pl.tokens.size()) {
        in.fail_at(pl, tok, "every task once, highest priority first (" + std::to_string(n) + " names)");
      }
      const int t = in.task_ref(pl, tok, n);
      if (listed[static_cast<size_t>(t)]) {
        in.fail(pl.number, pl.tokens[tok].column, "task " + task_name(t) + " is listed twice");
      }
      listed[static_cast<size_t>(t)] = true;
      p.order.push_back(t);
    }
    in.expect_end(pl, static_cast<size_t>(n) + 1);
    const int count = sc.pct_depth - 1;
    if (count > 0) {
      const std::string depth = "depth " + std::to_string(sc.pct_depth);
      const SchedLine& cl = in.body(
          "change-points", "an indented 'change-points' line (" + std::to_string(count) + " for " + depth + ")");
      const int horizon = pct_horizon(total_ops(sc));
      for (size_t tok = 1; tok <= static_cast<size_t>(count); ++tok) {
        p.change_points.push_back(in.number(cl, tok, 1, horizon,
                                            "a change point 1 to " + std::to_string(horizon) + " (" +
                                                std::to_string(kPctStepsPerOp) + " steps per operation)"));
      }
      in.expect_end(cl, static_cast<size_t>(count) + 1,
                    "end of line (" + depth + " has " + std::to_string(count) + " change points)");
    }
    sc.choices = write_params(p, sc.pct_depth);
  }

  ScheduleMutation mutate(Scenario& sc, SplitMix64& rng) const override { return mutate_params(sc, rng); }

  std::string_view hunt_help() const override { return "PCT priorities with depth-1 change points"; }

  std::vector<DictHeader> dict_headers() const override { return {{2, 1, 2}, {3, 1, 3}, {3, 2, 3}}; }
};

}  // namespace

const StrategyType& pct_strategy_type() {
  static const PctType type;
  return type;
}

}  // namespace vmafuzz::fuzz
