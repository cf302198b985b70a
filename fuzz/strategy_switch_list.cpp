// strategy_switch_list.cpp - explicit preemptions: (run length, action) pairs.
//
// Each choice pair says "let the current task run `len` (1..kMaxRun) more
// scheduling points, then do `action`": switch to task k, spuriously wake task k, or send
// task k SIGKILL. This is an explicit choice at every scheduling point biased
// to "continue" (a preemption costs two bytes, a run of continues costs none),
// so schedules with few preemptions - where most bugs are - are cheap to find
// and mutate. Exhausted choices mean: never preempt again; forced picks take
// the next runnable task in pid order.
//
// In .sched text one line per pair, "run <len> then switch|wake|kill T<k>";
// its mutations shift, change, insert, delete and swap pairs.
#include <map>
#include <memory>
#include <string>

#include "fuzz/sched_lexer.h"
#include "fuzz/strategy_registry.h"
#include "fuzz/strategy_switch_list.h"

namespace vmafuzz::fuzz {
namespace {

using namespace switch_list_detail;

// The word for each action group in .sched text (and in dictionary comments).
constexpr std::pair<int, std::string_view> kActionWords[] = {
    {kGroupSwitch, "switch"}, {kGroupWake, "wake"}, {kGroupKill, "kill"}};

std::string_view action_word(int group) {
  for (const auto& [g, word] : kActionWords) {
    if (g == group) return word;
  }
  return "switch";
}

// ---- the canonical reading: pairs as the strategy reads them --------------

struct SwitchPair {
  int run;  // 1..kMaxRun scheduling points
  Action action;
};

std::vector<SwitchPair> read_pairs(const Scenario& sc) {
  const int n = static_cast<int>(sc.tasks.size());
  ChoiceSource cs(sc.choices);
  std::vector<SwitchPair> pairs;
  // As load_next(): a pair is armed iff a byte remains; its action may be the 0
  // of an exhausted source (a trailing odd byte).
  while (!cs.exhausted()) {
    const int run = run_length(cs.next_byte());
    pairs.push_back(SwitchPair{run, decode_action(cs.next_byte(), n)});
  }
  return pairs;
}

std::vector<uint8_t> write_pairs(const std::vector<SwitchPair>& pairs, int n) {
  std::vector<uint8_t> out;
  for (const SwitchPair& p : pairs) {
    out.push_back(static_cast<uint8_t>(p.run - 1));
    out.push_back(static_cast<uint8_t>(p.action.group * n + p.action.task));
  }
  return out;
}

std::string pair_line(const SwitchPair& p) {
  return "  run " + std::to_string(p.run) + " then " + std::string(action_word(p.action.group)) + " " +
         task_name(p.action.task) + "\n";
}

// ---- mutations --------------------------------------------------------------

ScheduleMutation mutate_pairs(std::vector<uint8_t>& c, SplitMix64& rng) {
  // A lone trailing run byte reads its action as 0 (exhausted): padding with
  // 0 keeps the schedule and makes every pair whole.
  if (c.size() % 2) c.push_back(0);
  const size_t pairs = c.size() / 2;
  const size_t roll = rng.below(100);
  ScheduleMutation m = roll < 50   ? ScheduleMutation::kShiftPreemption
                       : roll < 65 ? ScheduleMutation::kChangeAction
                       : roll < 80 ? ScheduleMutation::kInsertPreemption
                       : roll < 90 ? ScheduleMutation::kDeletePreemption
                                   : ScheduleMutation::kSwapPreemptions;
  if (pairs == 0 || (m == ScheduleMutation::kSwapPreemptions && pairs < 2)) m = ScheduleMutation::kInsertPreemption;
  switch (m) {
    case ScheduleMutation::kShiftPreemption: {
      // Write the canonical byte of the shifted run.
      uint8_t& len = c[2 * rng.below(pairs)];
      len = static_cast<uint8_t>(shift_within(run_length(len), small_delta(rng), 1, kMaxRun) - 1);
      break;
    }
    case ScheduleMutation::kChangeAction: {
      uint8_t& action = c[2 * rng.below(pairs) + 1];
      action = static_cast<uint8_t>(action + 1 + rng.below(255));  // never the same byte
      break;
    }
    case ScheduleMutation::kInsertPreemption: {
      const size_t at = 2 * rng.below(pairs + 1);
      const uint8_t pair[2] = {static_cast<uint8_t>(rng.below(kMaxRun)), rng.byte()};
      c.insert(c.begin() + static_cast<std::ptrdiff_t>(at), pair, pair + 2);
      break;
    }
    case ScheduleMutation::kDeletePreemption: {
      const auto at = c.begin() + static_cast<std::ptrdiff_t>(2 * rng.below(pairs));
      c.erase(at, at + 2);
      break;
    }
    case ScheduleMutation::kSwapPreemptions: {
      const size_t i = rng.below(pairs - 1);
      std::swap(c[2 * i], c[2 * i + 2]);
      std::swap(c[2 * i + 1], c[2 * i + 3]);
      break;
    }
    default: break;
  }
  return m;
}

// ---- the strategy object ------------------------------------------------------

class SwitchListType final : public StrategyType {
 public:
  StrategyKind kind() const override { return StrategyKind::kSwitchList; }
  std::string_view name() const override { return "switch-list"; }
  std::unique_ptr<Strategy> make(int /*pct_depth*/) const override { return std::make_unique<SwitchListStrategy>(); }

  // Pairs with the run byte reduced mod 48 and the action to group 0 (switch),
  // 6 (wake) or 7 (kill); a trailing odd byte completed to a pair with action 0.
  std::vector<uint8_t> canonical_choices(const Scenario& sc) const override {
    return write_pairs(read_pairs(sc), static_cast<int>(sc.tasks.size()));
  }

  std::string print_schedule(const Scenario& sc) const override {
    std::string out = "\n";
    for (const SwitchPair& p : read_pairs(sc)) out += pair_line(p);
    return out;
  }

  void parse_schedule(SchedLexer& in, const SchedLine& head, Scenario& sc) const override {
    in.expect_end(head, 2);
    const int n = static_cast<int>(sc.tasks.size());
    std::vector<SwitchPair> pairs;
    while (in.at_body()) {
      const SchedLine& b = in.body("run", "");
      SwitchPair p{};
      p.run = in.number(b, 1, 1, kMaxRun, "a run length 1 to 48");
      in.expect_word(b, 2, "then");
      const std::string_view word = b.tokens.size() > 3 ? b.tokens[3].text : "";
      bool known = false;
      for (const auto& [group, w] : kActionWords) {
        if (w == word) p.action.group = group, known = true;
      }
      if (!known) in.fail_at(b, 3, "an action (switch, wake or kill)");
      p.action.task = in.task_ref(b, 4, n);
      in.expect_end(b, 5);
      pairs.push_back(p);
    }
    sc.choices = write_pairs(pairs, n);
  }

  ScheduleMutation mutate(Scenario& sc, SplitMix64& rng) const override { return mutate_pairs(sc.choices, rng); }

  std::vector<DictHeader> dict_headers() const override { return {{2, 1}, {3, 1}, {4, 1}, {2, 2}, {3, 2}}; }

  // Pairs as they appear in the file: the back is read last byte first, so a
  // pair (run, action) is stored as [action][run - 1]. A switch to T<k> is the
  // same pair for every number of tasks.
  DictChoices dict_choices() const override {
    DictChoices d{"Switch-list choice pairs (back, read last byte first): [action][run - 1]", {}};
    std::map<std::vector<uint8_t>, size_t> switches;  // bytes -> entry
    for (const int n : {2, 3}) {
      for (const int run : {1, 4, 5, 18, kMaxRun}) {
        for (const auto& [group, verb] : kActionWords) {
          for (int k = 0; k < n; ++k) {
            const SwitchPair p{run, {group, k}};
            const std::vector<uint8_t> pair = write_pairs({p}, n);
            const std::vector<uint8_t> bytes{pair[1], pair[0]};
            const std::pair<int, std::string> check{n, pair_line(p)};
            if (group == kGroupSwitch) {
              const auto [it, added] = switches.emplace(bytes, d.entries.size());
              if (!added) {
                d.entries[it->second].checks.push_back(check);
                continue;
              }
            }
            const std::string what = "run " + std::to_string(run) + " then " + std::string(verb) + " " + task_name(k);
            const std::string run_verb_task =
                "run" + std::to_string(run) + "_" + std::string(verb) + "_" + task_name(k);
            d.entries.push_back(DictChoiceEntry{
                group == kGroupSwitch ? "pair_" + run_verb_task : "pair_" + std::to_string(n) + "t_" + run_verb_task,
                bytes,
                "switch-list pair: " + what + " (" +
                    (group == kGroupSwitch ? std::string("any number of tasks") : std::to_string(n) + " tasks") + ")",
                {check}});
          }
        }
      }
    }
    return d;
  }
};

}  // namespace

std::vector<uint8_t> switch_list_choices(const std::vector<SwitchListPair>& pairs, int num_tasks) {
  std::vector<SwitchPair> out;
  for (const SwitchListPair& p : pairs) {
    const int group = p.action == Decision::Kind::kSpuriousWake ? kGroupWake
                      : p.action == Decision::Kind::kKill       ? kGroupKill
                                                                : kGroupSwitch;
    out.push_back(SwitchPair{p.run, Action{group, p.task}});
  }
  return write_pairs(out, num_tasks);
}

const StrategyType& switch_list_strategy_type() {
  static const SwitchListType type;
  return type;
}

}  // namespace vmafuzz::fuzz
