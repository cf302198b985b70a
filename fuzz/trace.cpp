// trace.cpp - trace hashing and canonical ids.
#include "fuzz/trace.h"

#include "core/report.h"

namespace vmafuzz::fuzz {
// id_of()'s slow path: a new word, or a collision at the first probe.
uint32_t CanonicalIds::probe(const void* p, size_t i) {
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

}  // namespace vmafuzz::fuzz
