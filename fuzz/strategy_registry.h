// strategy_registry.h - every scheduling strategy as one object, and the
// registry that everything else iterates.
//
// A strategy's choice bytes mean what its run-time Strategy (strategy.h) does
// with them. Everything else that needs that meaning asks the strategy's
// StrategyType, defined in the same file (strategy_<name>.cpp), next to the
// code that reads the bytes:
//   - its name (.sched text, the CLI, messages) and its factory;
//   - the canonical reading of its choice stream (sched_text.h's canonical_form);
//   - its schedule in .sched text, printed and parsed (sched_text.cpp);
//   - its structure-aware mutations (schedule_mutator.cpp);
//   - whether `vmafuzz hunt` offers it (repro/cmd_hunt.cpp);
//   - its entries in the fuzzing dictionary (repro/make_dict.cpp).
//
// Adding a strategy: one new file fuzz/strategy_<name>.cpp that defines its
// Strategy and `const StrategyType& <name>_strategy_type()`, plus one line in
// fuzz/strategy_list.inc (which also gives it its StrategyKind enumerator);
// and the file in fuzz/CMakeLists.txt's source list. tests/fuzz/
// strategy_registry_test.cpp then checks its text round trip and mutations.
// It runs through make_strategy() and a virtual decide() per point; the three
// built-in kinds are also SimPlatform members called without one (their
// classes in fuzz/strategy_<name>.h; docs/BENCHMARKS.md, "Strategy reuse and
// devirtualisation"): add a new kind there too if its per-point cost matters.
// Mind the binary format: the header's 2-bit strategy field is taken mod the
// number of strategies, so a fourth strategy takes over the inputs whose field
// is 3 (read as switch-list today) and a fifth needs a new header layout.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/scenario.h"
#include "fuzz/schedule_mutator.h"
#include "fuzz/splitmix64.h"
#include "fuzz/strategy.h"

namespace vmafuzz::fuzz {

class SchedLexer;
struct SchedLine;

// A program start the dictionary offers for a strategy: a header byte for
// `tasks` tasks and `mms` mms (repro/make_dict.cpp builds and checks it).
struct DictHeader {
  int tasks;
  int mms;
  int depth = Scenario{}.pct_depth;  // only if the strategy reads_depth()
};

// A dictionary entry for the choice stream (the back of the input, which the
// decoder reads last byte first: `bytes` are in file order).
struct DictChoiceEntry {
  std::string name;
  std::vector<uint8_t> bytes;
  std::string comment;
  // vmafuzz_make_dict's checks: the bytes at the end of an input of `first`
  // tasks (one mm) under this strategy print as a schedule that holds the
  // line `second` (with its newline).
  std::vector<std::pair<int, std::string>> checks;
};
struct DictChoices {
  std::string title;  // the section's title in the dictionary; empty: no section
  std::vector<DictChoiceEntry> entries;
};

class StrategyType {
 public:
  virtual ~StrategyType() = default;

  virtual StrategyKind kind() const = 0;
  // In .sched text ("schedule <name>"), on the command line, in messages.
  virtual std::string_view name() const = 0;
  // Whether Scenario::pct_depth means anything to it (otherwise the canonical
  // form resets it to Scenario{}.pct_depth).
  virtual bool reads_depth() const { return false; }
  virtual std::unique_ptr<Strategy> make(int pct_depth) const = 0;

  // The canonical reading: the choice bytes rewritten so that the strategy
  // makes the same decision at every scheduling point, and bytes it never
  // reads (or never distinguishes) are gone. Missing bytes become the 0 an
  // exhausted ChoiceSource returns. Precondition: sc.strategy is this one.
  virtual std::vector<uint8_t> canonical_choices(const Scenario& sc) const = 0;

  // The .sched text of the schedule after "schedule <name>": the rest of that
  // line (with its newline) and the indented body lines, as the canonical
  // reading interprets the choices.
  virtual std::string print_schedule(const Scenario& sc) const = 0;
  // The inverse: `head` is the "schedule <name> ..." line; reads the body
  // lines that belong to it from `in` and sets sc.choices (canonical) and, if
  // it reads_depth(), sc.pct_depth. The mms and tasks are parsed already.
  // Errors throw ParseFailure through `in`'s helpers.
  virtual void parse_schedule(SchedLexer& in, const SchedLine& head, Scenario& sc) const = 0;

  // One structure-aware mutation of sc.choices (only they change), every
  // random draw from `rng` (schedule_mutator.h).
  virtual ScheduleMutation mutate(Scenario& sc, SplitMix64& rng) const = 0;

  // `vmafuzz hunt --strategy` help for it, or empty if hunt does not offer it
  // (hunt draws the choice bytes uniformly at random).
  virtual std::string_view hunt_help() const { return {}; }

  // Dictionary entries: program starts (header bytes) and choice-stream entries.
  virtual std::vector<DictHeader> dict_headers() const = 0;
  virtual DictChoices dict_choices() const { return {}; }
};

// Every strategy, in StrategyKind order (fuzz/strategy_list.inc).
std::span<const StrategyType* const> strategy_types();
const StrategyType& strategy_type(StrategyKind kind);
// The strategy named `name`, or nullptr.
const StrategyType* strategy_type_named(std::string_view name);

// "a, b or c": the names of `types`.
std::string strategy_name_list(std::span<const StrategyType* const> types);

}  // namespace vmafuzz::fuzz
