// trace.cpp - trace hashing and canonical ids.
#include "fuzz/trace.h"

#include "core/report.h"

namespace vmafuzz::fuzz {
namespace {

// FNV-1a over 64-bit words (position-dependent, cheap, stable across builds).
inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v;
  h *= 0x100000001b3ULL;
  h ^= h >> 29;
  return h;
}

}  // namespace

uint32_t CanonicalIds::id_of(const void* p) {
  if (!p) return 0;
  size_t i = (reinterpret_cast<uintptr_t>(p) >> 3) * 0x9e3779b97f4a7c15ULL % kCapacity;
  for (size_t probes = 0; probes < kCapacity; ++probes, i = (i + 1) % kCapacity) {
    Slot& s = slots_[i];
    if (s.epoch != epoch_) {
      s = Slot{p, next_id_++, epoch_};
      return s.id;
    }
    if (s.key == p) return s.id;
  }
  core::harness_bug("CanonicalIds: more than 4096 distinct words in one run");
}

void CanonicalIds::reset() {
  ++epoch_;
  next_id_ = 1;
}

void Trace::reset(bool keep_events) {
  hash_ = 0xcbf29ce484222325ULL;
  keep_events_ = keep_events;
  events_.clear();
  ids_.reset();
}

void Trace::add(const TraceEvent& e) {
  uint64_t h = hash_;
  h = mix(h, static_cast<uint64_t>(e.kind) | static_cast<uint64_t>(static_cast<uint8_t>(e.task)) << 8 |
                 static_cast<uint64_t>(e.word_kind) << 16 | static_cast<uint64_t>(e.access) << 24 |
                 static_cast<uint64_t>(e.word_id) << 32);
  h = mix(h, e.arg);
  h = mix(h, e.value_before);
  h = mix(h, e.value_after);
  hash_ = h;
  if (keep_events_) events_.push_back(e);
}

}  // namespace vmafuzz::fuzz
