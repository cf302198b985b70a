// scenario_codec.h - the binary scenario format: any bytes -> a legal Scenario.
//
// Format (version 1). Program bytes are read from the FRONT of the input,
// scheduling choices from the BACK, both through LLVM's FuzzedDataProvider
// (ConsumeData takes from the front, ConsumeIntegral from the back), so a
// mutation of one part rarely shifts the other, and truncation shortens the
// choice stream first. Every read past the end yields 0.
//
//   front:
//     header   1 byte: bits 0-1 tasks - 2 (taken mod 3: 2..4 tasks)
//                      bit  2   two mms (else one)
//                      bits 3-4 strategy (mod 3: switch-list, pct, random)
//                      bits 5-6 PCT depth - 1 (1..4)
//                      bit  7   reserved (0)
//     vmas     1 byte per mm: bit i maps slot i before the tasks start
//     task mm  1 byte if two mms: bit t puts task t on mm 1
//     per task:
//       count  1 byte: ops = 1 + count % kMaxOpsPerTask
//       op     2 bytes each: [selector][argument]
//                selector picks among the operations LEGAL in the task's
//                lock state at that point (legal_ops()): kind = legal[sel % n];
//                argument: slot = arg % kSlots, task = arg % tasks, else 0.
//   back (read last byte first): the choice stream, every remaining byte.
//
// Legality: a task's program starts and ends holding nothing (the runner also
// releases leftovers), never takes a blocking mmap_lock while it may hold a VMA
// read lock, does write-side primitives only under its mmap write lock, and
// holds at most one VMA read lock. encode_scenario() is the inverse of
// decode_scenario() on every Scenario it can produce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz/scenario.h"

namespace vmafuzz::fuzz {

inline constexpr int kFormatVersion = 1;

// The lock state the decoder tracks per task ("may hold").
struct DecodeLockState {
  enum class Mmap : uint8_t { kNone, kRead, kWrite };
  Mmap mmap = Mmap::kNone;
  bool vma_read = false;
};

// Operations legal in `state`, in a fixed order (the selector indexes it).
std::vector<OpKind> legal_ops(const DecodeLockState& state);
// The state after `kind` (conservative: lock_vma_under_rcu "may" hold).
DecodeLockState next_lock_state(const DecodeLockState& state, OpKind kind);

// Total: never fails, for any bytes.
Scenario decode_scenario(const uint8_t* data, size_t size);
// Canonical bytes for a scenario. Precondition: the scenario is one that
// decode_scenario() can produce (is_canonical_scenario()).
std::vector<uint8_t> encode_scenario(const Scenario& scenario);
// Does `scenario` respect the format's bounds and the legality rules?
// On false, *why says what is wrong (for the text parser's errors).
bool is_canonical_scenario(const Scenario& scenario, const char** why);

}  // namespace vmafuzz::fuzz
