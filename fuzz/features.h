// features.h - interleaving features: what changed about the concurrency,
// exported to the fuzzing engine as extra coverage.
//
// Code coverage says little about interleavings: the same lines run in every
// order. A run also reports, as 32-bit feature ids:
//   - lock-state transitions: a vm_refcnt access moving the count from one
//     class to another (detached, attached, readers, FLAG, FLAG+1, waiting,
//     saturated), keyed by the operation of the task that made it and by
//     whether the VMA belongs to another mm (a recycled object);
//   - cross-task reads-from pairs: a task loading a shared word last written
//     by another task, keyed by the word kind and both tasks' operations;
//   - wait/wake pairs: which operation woke which waiting operation.
// The engine maps ids onto its own map (libFuzzer extra counters, AFL++'s
// shared map). Ids are stable across builds (no addresses in them).
#pragma once

#include <cstdint>

namespace vmafuzz::fuzz {

class FeatureSink {
 public:
  virtual ~FeatureSink() = default;
  virtual void add(uint32_t feature) = 0;
};

enum class FeatureKind : uint8_t { kRefcntTransition = 1, kReadsFrom = 2, kWaitWake = 3 };

// Pack a feature: kind in the top byte, the rest hashed into 24 bits.
inline uint32_t make_feature(FeatureKind kind, uint32_t a, uint32_t b, uint32_t c) {
  uint32_t h = a * 0x9e3779b1u ^ b * 0x85ebca77u ^ c * 0xc2b2ae3du;
  h ^= h >> 15;
  return static_cast<uint32_t>(kind) << 24 | (h & 0xffffffu);
}

// A kRefcntTransition's third part: the operation's OpKind, or'd with this
// when the VMA belongs to another mm than the task's.
inline constexpr uint32_t kForeignVma = 1u << 8;

// The vm_refcnt class of a value, for transitions (0..7).
inline uint32_t refcnt_class(uint64_t value) {
  const auto v = static_cast<int32_t>(static_cast<uint32_t>(value));
  constexpr int32_t kFlag = 1 << 30;
  if (v < 0) return 7;  // saturated / underflowed
  if (v == 0) return 0;
  if (v == 1) return 1;
  if (v < kFlag) return 2;
  if (v == kFlag) return 3;
  if (v == kFlag + 1) return 4;
  return 5;
}

}  // namespace vmafuzz::fuzz
