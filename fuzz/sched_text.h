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
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/inject.h"
#include "core/platform.h"
#include "core/report.h"
#include "fuzz/finding.h"
#include "fuzz/scenario.h"

namespace vmafuzz::fuzz {

inline constexpr std::string_view kSchedMagic = "vmafuzz-sched";
inline constexpr int kSchedVersion = 1;

// One `expect` line: a fact about a run of the file's scenario.
struct Expectation {
  enum class Kind : uint8_t {
    kVerdict,   // expect verdict <verdict>
    kReport,    // expect report <site>         the first core report's site
    kFinding,   // expect finding <oracle>      the run's Finding's oracle (fuzz/finding.h)
    kSignature, // expect signature <oracle>|<detail>|<operation>|<others>
                //   the run's Finding::signature(), the rest of the line verbatim
    kOutcome,   // expect T<k>.<i> <outcome>    op i of task k
    kParks,     // expect T<k> parks <n>        times task k slept in schedule()
    kChanges,   // expect T<k>.<i> <word> <a>-><b> ... | -
                //   exactly the value changes task k made to words of that
                //   kind during op i, in order ("-": none)
    kAccesses,  // expect T<k>.<i> <word> accesses <n>
                //   scheduling points (shared accesses) of task k on words of
                //   that kind during op i
    kReads,     // expect T<k>.<i> <word> reads <v> ... | reads -
                //   exactly the values task k's plain loads of words of that
                //   kind returned during op i, in order
  };
  struct Change {
    uint64_t before = 0;
    uint64_t after = 0;
    friend bool operator==(const Change&, const Change&) = default;
  };

  Kind kind = Kind::kVerdict;
  // "expect with <bug> ...": checked on a second run with that catalogued bug
  // injected (RunOptions::inject); nullopt: the correct model.
  std::optional<core::Bug> inject;
  Verdict verdict = Verdict::kPass;                          // kVerdict
  core::ReportSite site = core::ReportSite::kCount;          // kReport
  OracleId oracle = OracleId::kCount;                        // kFinding (kCount: none)
  std::string signature;                                     // kSignature (empty: no finding)
  int task = 0;                                              // all but kVerdict, kReport
  int op = 0;                                                // kOutcome and the word kinds
  OpOutcome outcome = OpOutcome::kNotRun;                    // kOutcome
  uint64_t count = 0;                                        // kParks, kAccesses
  core::SharedWordKind word = core::SharedWordKind::kOther;  // kChanges, kAccesses, kReads
  std::vector<Change> changes;                               // kChanges
  std::vector<uint64_t> values;                              // kReads
  int line = 0;  // where it was parsed (1-based; 0 if built in code). Not compared.

  friend bool operator==(const Expectation& a, const Expectation& b);
};

struct SchedFile {
  // Everything before the magic line (comment and blank lines), verbatim, so
  // a file's header comment survives a round trip. Other comments are dropped.
  std::string preamble;
  Scenario scenario;
  std::vector<Expectation> expectations;
  friend bool operator==(const SchedFile&, const SchedFile&) = default;
};

struct SchedError {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based, at the offending token (or where one was expected)
  std::string message;
  // "file:line:column: message"
  std::string to_string() const;
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

// One expectation as its canonical line ("expect ...", no newline).
std::string print_expectation(const Expectation& e);

// The scenario that parse_sched(print_sched(sc)) yields: same mms and tasks;
// for switch-list and random the PCT depth reset to Scenario{}.pct_depth
// (unread); the choice stream rewritten to canonical bytes that every strategy
// decodes to the same decisions: switch-list pairs with the run byte reduced
// mod 48 and the action to group 0 (switch), 6 (wake) or 7 (kill), a trailing
// odd byte completed to a pair with action 0; PCT exactly n-1 shuffle bytes
// and depth-1 change points (2 bytes each), reduced; random exactly the 8 seed
// bytes. Missing bytes become the 0 an exhausted ChoiceSource returns, bytes a
// strategy never reads are dropped. Precondition: is_canonical_scenario(sc).
Scenario canonical_form(const Scenario& sc);


// Names used by the format (also in messages).
std::string_view word_kind_name(core::SharedWordKind kind);

}  // namespace vmafuzz::fuzz
