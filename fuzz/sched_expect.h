// sched_expect.h - the `expect` lines of a .sched file: facts about a run of
// its scenario, checked by the regression tests in tests/sched/
// (docs/FORMATS.md, section 2). The layer above the scenario text
// (sched_text.h), on the same lexer (sched_lexer.h). Knows the names of
// verdicts, oracles and report sites (fuzz/finding.h, core/report.h), not the
// engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/inject.h"
#include "core/platform.h"
#include "core/report.h"
#include "fuzz/finding.h"
#include "fuzz/scenario.h"
#include "fuzz/sched_lexer.h"

namespace vmafuzz::fuzz {

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

// Parses the next line, which must be an `expect` line about scenario `sc`
// (task and operation numbers are checked against it). Throws ParseFailure.
Expectation parse_expectation(SchedLexer& in, const Scenario& sc);

// One expectation as its canonical line ("expect ...", no newline).
std::string print_expectation(const Expectation& e);

// Names used by the format (also in messages).
std::string_view word_kind_name(core::SharedWordKind kind);
// A word's value as expect lines write it: vm_refcnt relative to the
// exclude-readers flag (FLAG, FLAG+1), negative numbers signed.
std::string format_word_value(core::SharedWordKind word, uint64_t value);

}  // namespace vmafuzz::fuzz
