// scenario_codec.h - the binary scenario format: any bytes -> a legal Scenario.
//
// Format (versions 1 and 2; docs/FORMATS.md, section 1). Program bytes are read from
// the FRONT of the input, scheduling choices from the BACK, both through
// LLVM's FuzzedDataProvider (ConsumeData takes from the front, ConsumeIntegral
// from the back), so a mutation of one part rarely shifts the other, and
// truncation shortens the choice stream first. Every read past the end yields 0.
//
//   front:
//     header   1 byte: bits 0-1 tasks - 2 (taken mod 3: 2..4 tasks)
//                      bit  2   two mms (else one)
//                      bits 3-4 strategy (mod 3: switch-list, pct, random)
//                      bits 5-6 PCT depth - 1 (1..4)
//                      bit  7   a version marker follows (versions >= 2 only)
//     [marker  2 bytes, only with bit 7 and only in versions >= 2:
//              [version][version ^ kVersionCheck]]
//     [flags   1 byte, versions >= 2: bit 0 (kFlagC11) the C11 memory
//              model (Scenario::memory_model); the others reserved, ignored]
//     vmas     1 byte per mm: bit i maps slot i before the tasks start
//     task mm  1 byte if two mms: bit t puts task t on mm 1
//     per task:
//       count  1 byte: ops = 1 + count % kMaxOpsPerTask
//       op     2 bytes each: [selector][argument]
//                selector picks among the operations LEGAL in the task's
//                lock state at that point, in the file's version
//                (legal_ops()): kind = legal[sel % n];
//                argument: slot = arg % kSlots, task = arg % tasks, else 0.
//   back (read last byte first): in C11 mode first a count
//            byte and that many reads-from choices (Scenario::reads); then
//            the choice stream, every remaining byte.
//
// Versions. Version 1 is every file whose header has bit 7 clear, and every
// file without a valid marker: before versions existed bit 7 was reserved and
// ignored, and raw fuzzer inputs (crash files) have it set half the time, so
// bit 7 alone cannot mean "versioned". A marker is valid when its check byte
// matches and it names a version from 2 up; the check makes a raw input that
// happens to look versioned rare (1 in 256 of those with bit 7). Legality is
// per version: an operation's `since` column (VMAFUZZ_OPS, scenario.h) is the
// version that introduced it, and version N's legal lists hold only the
// operations with since <= N, in their fixed places, so adding an operation
// (and version N+1) never changes what an older file means.
//   decode_scenario() is total: a marker naming a version this build does not
// know is ignored (the file is read as version 1 and the marker bytes as the
// data that follows the header), as every build before versions did. The file
// readers (repro/scenario_io.cpp) are strict instead: check_format_version()
// refuses a file whose valid marker names a version this build does not read.
// encode_scenario() writes the lowest version that has every operation of the
// scenario and its memory model (version 1, unmarked, for every SC scenario
// today; version 2, with its flags byte, for C11 ones).
//
// Legality: a task's program starts and ends holding nothing (the runner also
// releases leftovers), never takes a blocking mmap_lock while it may hold a VMA
// read lock, does write-side primitives only under its mmap write lock, and
// holds at most one VMA read lock. The rules are the `legal` and `effect`
// columns of VMAFUZZ_OPS. encode_scenario() is the inverse of
// decode_scenario() on every Scenario it can produce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "fuzz/scenario.h"

namespace vmafuzz::fuzz {

// The newest binary format version this build reads and writes; it reads
// every version from 1 to this one.
inline constexpr int kFormatVersion = 2;

// Header bit 7: a version marker [version][version ^ kVersionCheck] follows.
inline constexpr uint8_t kHeaderVersionBit = 0x80;
inline constexpr uint8_t kVersionCheck = 0xa5;

// The header byte's fields (bit 7 aside).
struct ScenarioHeader {
  int tasks = kMinTasks;  // kMinTasks..kMaxTasks
  int mms = 1;            // 1 or 2
  StrategyKind strategy = StrategyKind::kSwitchList;
  int pct_depth = 3;      // 1..4
};
// Version 2's flags byte: the C11 memory model. Version 2 is the first with a
// flags byte; encode_scenario() writes it only for C11 scenarios, so every
// SC scenario keeps its version 1 bytes.
inline constexpr uint8_t kFlagC11 = 0x01;
// The header byte (bit 7 clear), as encode_scenario() writes it.
uint8_t encode_header(const ScenarioHeader& header);

// The lock state the decoder tracks per task ("may hold").
struct DecodeLockState {
  enum class Mmap : uint8_t { kNone, kRead, kWrite };
  Mmap mmap = Mmap::kNone;
  bool vma_read = false;
};
LockState lock_state_of(const DecodeLockState& state);

// Operations legal in `state` in format `version`, in selector order (the
// places of VMAFUZZ_OPS's legal column; the selector indexes this list).
std::vector<OpKind> legal_ops(const DecodeLockState& state, int version = kFormatVersion);
// The same list without a copy (valid for the process); `version` 1..kFormatVersion.
std::span<const OpKind> legal_ops_view(const DecodeLockState& state, int version = kFormatVersion);
// The same rule over any operation table indexed by OpKind (tests use a
// made-up one with a later version's operation).
std::vector<OpKind> legal_ops(std::span<const OpInfo> table, const DecodeLockState& state, int version);
// The state after `kind` (conservative: lock_vma_under_rcu "may" hold).
DecodeLockState next_lock_state(const DecodeLockState& state, OpKind kind);

// Enough front bytes for the largest program the decoder builds: header, two
// mm set-ups, the task-to-mm byte, and per task a count plus two bytes per
// operation. Fewer are fine (the decoder reads zeros past the end).
inline constexpr size_t kMaxProgramBytes = 4 + kMaxTasks * (1 + 2 * kMaxOpsPerTask);

// Total: never fails, for any bytes.
Scenario decode_scenario(const uint8_t* data, size_t size);
// The same into `sc`, whose vectors keep their storage: a fuzz target reusing
// one Scenario allocates nothing for it per input once it has grown.
void decode_scenario_into(const uint8_t* data, size_t size, Scenario& sc);

// A random legal program: kMaxProgramBytes bytes from `rng` (each the low
// byte of one call) through the decoder, switch-list, no choices. What
// `vmafuzz hunt` and `vmafuzz record` run; `rng` is e.g. std::mt19937_64,
// whose output the standard fixes, so a seed draws the same program on every
// build.
template <class Rng>
Scenario random_program(Rng& rng) {
  std::vector<uint8_t> program(kMaxProgramBytes);
  for (uint8_t& b : program) b = static_cast<uint8_t>(rng());
  Scenario sc = decode_scenario(program.data(), program.size());
  sc.strategy = StrategyKind::kSwitchList;
  sc.pct_depth = Scenario{}.pct_depth;
  sc.choices.clear();
  return sc;
}
// Canonical bytes for a scenario, in format `version`, 0 for the lowest that
// has all of its operations (format_version_needed()). Precondition: the
// scenario is one that decode_scenario() can produce (is_canonical_scenario())
// and `version` is 0 or from format_version_needed() to kFormatVersion.
std::vector<uint8_t> encode_scenario(const Scenario& scenario, int version = 0);
// The lowest format version that has every operation of `scenario`.
int format_version_needed(const Scenario& scenario);

// The format version decode_scenario() reads `data` in, and how many marker
// bytes follow the header (0 or 2).
struct FormatVersionRead {
  int version = 1;
  size_t marker_bytes = 0;
};
FormatVersionRead read_format_version(const uint8_t* data, size_t size);

// The file readers' strict check: a file whose valid version marker names a
// version this build does not read (a newer one, or one that does not exist)
// must not be decoded, since decode_scenario() would silently read it as
// version 1. Returns the offending version and its byte offset, or nothing.
struct FormatVersionError {
  size_t offset = 0;
  int version = 0;
};
std::optional<FormatVersionError> check_format_version(const uint8_t* data, size_t size);
// Does `scenario` respect the format's bounds and the legality rules?
// On false, *why says what is wrong (for the text parser's errors).
bool is_canonical_scenario(const Scenario& scenario, const char** why);

}  // namespace vmafuzz::fuzz
