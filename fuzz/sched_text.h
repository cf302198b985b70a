// sched_text.h - the .sched text form of a Scenario, parsed and printed.
//
// A .sched file is a Scenario a person can write and review, plus optional
// expectations about its run (used by the regression tests in tests/sched/).
// docs/FORMATS.md describes the format in full; in short:
//
//   # S1: a transient reader backs off from a write-locked VMA.
//   vmafuzz-sched 1                    # magic and format version
//   mm 0 vmas 0 3                      # mms in order; slots mapped at start ("-": none)
//   task T0 mm 0                       # tasks T0..T(n-1) in order, 2 to 4
//     lock_vma_under_rcu 0             # operations, indented: name [slot | task]
//     vma_end_read
//   task T1 mm 0
//     mprotect 0
//   schedule switch-list               # or: pct depth D / random seed 0x...
//     run 3 then switch T1             # switch-list: one line per choice pair
//   expect verdict pass                # expectations (not part of the Scenario)
//   expect T0.0 null
//
// Conversion: print_sched() is canonical and parse_sched() inverts it; a
// Scenario round-trips through text to canonical_form() of itself, which
// behaves identically (same decisions at every scheduling point) and differs
// only in choice bytes no strategy reads or distinguishes (docs/FORMATS.md,
// section 3).
//
// The layers (sched_lexer.h lists them): this file is the scenario - magic,
// mms, tasks and the schedule line, whose body each strategy prints and
// parses itself (strategy_registry.h) - and SchedFile, which adds the
// `expect` lines (sched_expect.h).
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz/scenario.h"
#include "fuzz/sched_expect.h"  // Expectation, print_expectation, word_kind_name
#include "fuzz/sched_lexer.h"   // SchedError

namespace vmafuzz::fuzz {

inline constexpr std::string_view kSchedMagic = "vmafuzz-sched";
inline constexpr int kSchedVersion = 1;

struct SchedFile {
  // Everything before the magic line (comment and blank lines), verbatim, so
  // a file's header comment survives a round trip. Other comments are dropped.
  std::string preamble;
  Scenario scenario;
  std::vector<Expectation> expectations;
  friend bool operator==(const SchedFile&, const SchedFile&) = default;
};

// Parse a .sched text. Never fails silently: on any error returns the first
// one, with what was expected and what was found. `file_name` is only used in
// errors. A parsed scenario always satisfies is_canonical_scenario() and is a
// fixed point of canonical_form().
std::variant<SchedFile, SchedError> parse_sched(std::string_view text, std::string_view file_name);

// The canonical text. Precondition: is_canonical_scenario(file.scenario).
// Choices are printed as canonical_form() interprets them.
std::string print_sched(const SchedFile& file);
std::string print_sched(const Scenario& scenario);

// The scenario that parse_sched(print_sched(sc)) yields: same mms and tasks;
// for strategies other than PCT the PCT depth reset to Scenario{}.pct_depth
// (unread); the choice stream rewritten to canonical bytes that the strategy
// decodes to the same decisions (StrategyType::canonical_choices): switch-list
// pairs with the run byte reduced mod 48 and the action to group 0 (switch),
// 6 (wake) or 7 (kill), a trailing odd byte completed to a pair with action 0;
// PCT exactly n-1 shuffle bytes and depth-1 change points (2 bytes each),
// reduced; random exactly the 8 seed bytes. Missing bytes become the 0 an
// exhausted ChoiceSource returns, bytes a strategy never reads are dropped.
// Precondition: is_canonical_scenario(sc).
Scenario canonical_form(const Scenario& sc);

}  // namespace vmafuzz::fuzz
