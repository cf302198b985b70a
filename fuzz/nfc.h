// nfc.h - "no functional change": one input, two versions of the
// exclusive-lock code (core/lock_versions.inc), compared.
//
// Both runs use the same scenario and the same choice stream with
// RunOptions::align_versions, so an access only one version makes
// (core::VersionOnlyAccess) is no scheduling point and the two runs take
// their decisions at the same accesses: the same interleaving
// (docs/SCHEDULER.md, "Two versions, one schedule"). Compared, in order:
// the event sequence (every shared access with its canonical word id and
// values, switches, sleeps, wake-ups, kills, operation begins and ends with
// their outcomes), then the verdict with its oracle and detail, then the
// final state. Version-only accesses declared in fuzz/nfc_allowlist.inc are
// left out of the comparison; nothing else is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/lock_version.h"
#include "fuzz/execution.h"
#include "fuzz/finding.h"
#include "fuzz/scenario.h"
#include "fuzz/trace.h"

namespace vmafuzz::fuzz {

// One side of a comparison: its version, its result and its compared events
// (allowlisted version-only accesses removed), each with its function path.
struct NfcSide {
  core::LockVersion version{};
  ExecutionResult result;
  std::vector<TraceEvent> events;
  std::vector<std::string> fn_paths;  // per event
  int forgiven = 0;                   // allowlisted accesses left out
};

struct NfcComparison {
  NfcSide a, b;
  // The first difference, as a finding of oracle nfc.divergence (detail:
  // what differs, schedule-insensitive), or none.
  std::optional<Finding> divergence;
  // Index into a.events / b.events of the first differing event (the
  // shorter length when one is a prefix of the other), for an event divergence.
  size_t first_event = 0;
  bool events_differ = false;
};

// Run `scenario` on versions a and b (base's other options for both) and compare.
NfcComparison compare_versions(Execution& exec, const Scenario& scenario, core::LockVersion a, core::LockVersion b,
                               RunOptions base = {});

// "a,b" -> the two versions; nullopt (and *error says why) otherwise.
std::optional<std::pair<core::LockVersion, core::LockVersion>> parse_version_pair(std::string_view text,
                                                                                   std::string* error);

// Both runs side by side around the first divergence (`context` events
// before it), then verdicts, outcomes and final states. Empty-diff
// comparisons print the verdicts only.
std::string render_side_by_side(const NfcComparison& c, size_t context = 12);

// One event as the side-by-side prints it ("T1 rmw vm_refcnt#3 2->1").
std::string describe_event(const TraceEvent& e);

// Whether the allowlist forgives the version-only access `e` made in fn_path
// (by whichever version runs that code).
bool nfc_allowed(const TraceEvent& e, std::string_view fn_path);

}  // namespace vmafuzz::fuzz
