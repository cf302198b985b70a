// trace.cpp - trace hashing and canonical ids.
#include "fuzz/trace.h"

#include "core/report.h"

namespace vmafuzz::fuzz {
namespace {

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
  fn_paths_.resize(1);
  fn_path_ids_.clear();
}

uint16_t Trace::intern_fn_path(const core::ModelFnStack& stack) {
  if (stack.depth <= 0) return 0;
  const int named = stack.depth < core::ModelFnStack::kMax ? stack.depth : core::ModelFnStack::kMax;
  std::vector<const char*> key(stack.fn, stack.fn + named);
  if (stack.depth > named) key.push_back(nullptr);  // "> ..." for frames too deep to name
  const auto [it, inserted] = fn_path_ids_.try_emplace(std::move(key), static_cast<uint16_t>(fn_paths_.size()));
  if (inserted) {
    if (fn_paths_.size() == UINT16_MAX) return 0;
    std::string text;
    for (const char* fn : it->first) text += (text.empty() ? "" : " > ") + std::string(fn ? fn : "...");
    fn_paths_.push_back(std::move(text));
  }
  return it->second;
}

void Trace::add(const TraceEvent& e, bool hash) {
  if (keep_events_) events_.push_back(e);
  if (!hash) return;
  // Two words per event keep the serial multiply chain short (this runs twice
  // per scheduling point); the second word is computed off the chain.
  const uint64_t head = static_cast<uint64_t>(e.kind) | static_cast<uint64_t>(static_cast<uint8_t>(e.task)) << 8 |
                        static_cast<uint64_t>(e.word_kind) << 16 | static_cast<uint64_t>(e.access) << 24 |
                        static_cast<uint64_t>(e.word_id) << 32;
  const uint64_t body = e.value_before * 0xc2b2ae3d27d4eb4fULL ^ (e.value_after + e.arg * 0x165667b19e3779f9ULL);
  uint64_t h = (hash_ ^ head) * 0x9e3779b97f4a7c15ULL;
  h = (h ^ h >> 32 ^ body) * 0xff51afd7ed558ccdULL;
  hash_ = h ^ h >> 29;
}

}  // namespace vmafuzz::fuzz
