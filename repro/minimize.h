// minimize.h - schedule-aware delta debugging of a finding (`vmafuzz minimize`).
//
// libFuzzer's -minimize_crash and afl-tmin cut bytes blindly and keep a
// candidate only if it crashes with the same DEDUP_TOKEN (the full
// signature, which names the operations the other tasks had in flight), so
// they stop early and keep operations that never run. This minimizer works on
// the Scenario instead (fuzz/scenario.h), keeps every candidate legal
// (is_canonical_scenario), and keeps a candidate when its run ends in the
// same *minimization key*:
//
//   site (default)  oracle|detail of the Finding (fuzz/finding.h): the oracle
//                   and where it fired (report site, wait site, what the
//                   oracle saw), without the operations in flight;
//   signature       the full signature oracle|detail|operation|others;
//   ThreadSanitizer a build with -fsanitize=thread runs every candidate in a
//                   forked child (with halt_on_error=1 a report ends it) and
//                   reads its stderr; a data race's key is
//                   "ThreadSanitizer: data race: F1 / F2", the two racing
//                   functions sorted (scripts/fuzz's signature), which takes
//                   precedence over the model's finding. With halt_on_error=0
//                   (vmafuzz's default) the run goes on after the report and
//                   still yields its decisions.
//
// Algorithm (each step keeps a candidate only if the key holds; the whole
// repeats until nothing changes, --time or --runs):
//   0. a random or PCT schedule is run once with its trace and re-encoded as
//      the switch-list pairs of the decisions it took (its voluntary
//      switches, spurious wake-ups and kills, chained for runs over 48); the
//      conversion is kept if the key holds (the trace hash says whether it is
//      the same interleaving: forced picks may differ); failing that, every
//      renumbering of the tasks; then the forced picks switch-list would make
//      otherwise (then all of them) as explicit switches at the last
//      scheduling point of the task that parked or finished, under every
//      renumbering;
//   1. drop whole tasks (down to 2), remapping kill targets and the choice
//      pairs that name them; drop an mm no task uses; unmap initial VMAs;
//   2. drop operations, per task, chunks from a whole program down to single
//      operations (shortest programs first); a candidate whose program became
//      illegal is repaired by also dropping every operation that is no longer
//      legal (so dropping mmap_write_lock drops its unlock and write-side
//      primitives with it);
//   3. drop choice pairs (plain, and with the run merged into the next pair
//      so later decisions keep their step), then shorten and shift runs
//      (to 1, halved, minus one); wake and kill pairs are pairs like any other.
//   4a. when nothing else changes: local re-anchoring: one operation (or one
//      decision) dropped, the decisions inside a dropped operation moved to
//      the next surviving point of their task, then each decision (with the
//      later ones of its task in the same segment) shifted by up to 24
//      points, then two at once by up to 3 (at most 12 decisions);
//   4. when that fails too: a bounded-preemption schedule search (up to
//      3 switch-list pairs, iterative deepening) on smaller programs (task
//      subsets with one operation each, one operation less, every task as
//      T0), then on the same programs with fewer pairs; not in fork_each.
//   R. weak memory (a C11 input, Scenario::reads), in every round: the
//      scenario under SC (C11 flag and reads dropped: then the bug is no
//      weak-memory bug); else the stale reads set to the latest (0), halves
//      of them down to one at a time (ddmin), then each remaining one
//      lowered (1, 2, 3 stores back; more than kDepth - 1 never helps).
//
// Divergences (MinimizeOptions::versions, `vmafuzz minimize --versions A,B`):
// every candidate runs on both versions under the same schedule, as fuzz_nfc
// and `vmafuzz diff` compare them (fuzz/nfc.h), and its finding is their
// divergence (oracle nfc.divergence; its detail names the first differing
// event of each version, schedule-insensitively), so the key is the
// divergence's site or signature; a model finding both versions make alike
// is no divergence. Decisions are read off version B's run (aligned
// versions take their decisions at the same accesses).
// Deterministic: the same input and options give the same output, unless the
// time budget ends the search (--runs bounds it deterministically).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "core/inject.h"
#include "core/lock_version.h"
#include "fuzz/execution.h"
#include "fuzz/finding.h"
#include "fuzz/scenario.h"

namespace vmafuzz::repro {

enum class MinimizeKey { kSite, kSignature };

struct MinimizeOptions {
  fuzz::RunOptions run;  // inject, max_steps (keep_trace and features are managed here)
  MinimizeKey key = MinimizeKey::kSite;
  double time_limit = 10;  // seconds; <= 0: none
  uint64_t max_runs = 0;   // 0: no limit but time_limit
  // Run each candidate in a forked child and read ThreadSanitizer reports
  // (the default in a TSan build: a report ends the process).
  bool fork_each = false;
  // Set: minimize a divergence between these two versions of the lock code.
  std::optional<std::pair<core::LockVersion, core::LockVersion>> versions;
};

// Whether fork_each is the default of this build (built with TSan).
bool minimize_forks_by_default();

// The sizes the minimizer reports, before and after.
struct ScenarioSize {
  int tasks = 0;
  int ops = 0;
  // switch-list: choice pairs (the .sched "run" lines); pct and random: the
  // decisions the run took (voluntary switches, spurious wake-ups, kills).
  int preemptions = 0;
  size_t bytes = 0;  // encode_scenario()
  fuzz::StrategyKind strategy = fuzz::StrategyKind::kSwitchList;
  fuzz::MemoryModel memory_model = fuzz::MemoryModel::kSC;
  // C11: the loads of the run that read an older store than the latest
  // (the trace's stale reads), and the nonzero bytes of Scenario::reads.
  int stale_reads = 0;
  int read_choices = 0;
};

struct MinimizeResult {
  // The input's key; empty when the input's run passes (nothing to minimize).
  std::string key;
  std::optional<fuzz::Finding> finding;  // the minimized scenario's model finding, if any
  fuzz::Scenario scenario;               // canonical
  ScenarioSize before, after;
  uint64_t runs = 0;
  double seconds = 0;
  bool fixpoint = false;           // false: --time or --runs ended the search
  bool converted = false;          // a random/PCT schedule became switch-list
  bool same_interleaving = false;  // ... and the conversion had the same trace hash
  bool became_sc = false;          // a C11 input whose finding holds under SC
};

// The key of one run of `sc` (empty: it passes). For tests and the command.
std::string minimization_key(const fuzz::Scenario& sc, const MinimizeOptions& options,
                             std::optional<fuzz::Finding>* finding = nullptr);

// Minimize `input` (any scenario decode_scenario() can produce).
MinimizeResult minimize(const fuzz::Scenario& input, const MinimizeOptions& options);

// The size of a canonical scenario (one run for pct and random).
ScenarioSize scenario_size(const fuzz::Scenario& sc, const MinimizeOptions& options);

}  // namespace vmafuzz::repro
