// store_history.cpp - which stores a C11 load may read, and the choice among them.
#include "fuzz/store_history.h"

#include <algorithm>
#include <atomic>
#include <limits>

namespace vmafuzz::fuzz {
namespace {

constexpr uint64_t kNotFenced = std::numeric_limits<uint64_t>::max();

bool is_seq_cst(uint8_t order) {
  return static_cast<std::memory_order>(order & core::kOrderMask) == std::memory_order_seq_cst;
}

}  // namespace

bool StoreHistory::tracked(core::SharedWordKind kind) {
  switch (kind) {
    case core::SharedWordKind::kVmRefcnt:
    case core::SharedWordKind::kVmLockSeq:
    case core::SharedWordKind::kMmLockSeq:
    case core::SharedWordKind::kRcuwaitTask: return true;
    default: return false;
  }
}

void StoreHistory::begin(bool enabled) {
  enabled_ = enabled;
  if (!enabled) return;
  if (++generation_ == 0) {
    words_.fill(Word{});
    generation_ = 1;
  }
  sc_clock_ = 0;
  stale_left_.fill(kStaleBudget);
  fences_.fill(0);
  last_fence_.fill(0);
}

StoreHistory::Word* StoreHistory::find(const void* w, bool create) {
  size_t i = (reinterpret_cast<uintptr_t>(w) >> 3) * 0x9E3779B97F4A7C15ull >> 56 & (kWords - 1);
  for (int probe = 0; probe < kWords; ++probe, i = (i + 1) & (kWords - 1)) {
    Word& s = words_[i];
    if (s.generation != generation_) {
      if (!create) return nullptr;
      s.word = w;
      s.generation = generation_;
      s.next_mo = 0;
      return &s;
    }
    if (s.word == w) return &s;
  }
  return nullptr;  // full (never seen): the word reads the latest
}

// The word's history restarts at `value`, visible to every task (it may have
// been written by no recorded store: treating it as ordered before all loads
// only removes behaviours).
void StoreHistory::reset(Word& w, uint64_t value) {
  w.next_mo = 0;
  w.seen = {};
  Store init;
  init.value = value;
  append(w, init);
}

void StoreHistory::append(Word& w, const Store& s) {
  Store& slot = w.stores[w.next_mo % kDepth];
  slot = s;
  slot.mo = w.next_mo++;
}

void StoreHistory::note(Word& w, int t, uint32_t epoch, uint32_t mo) {
  Epochs& e = w.seen[static_cast<size_t>(t)];
  if (e.count > 0) {
    const size_t last = static_cast<size_t>((e.count - 1) % kEpochRing);
    if (e.epoch[last] == epoch) {
      e.mo[last] = std::max(e.mo[last], mo);
      return;
    }
  }
  const size_t i = static_cast<size_t>(e.count++ % kEpochRing);
  e.epoch[i] = epoch;
  e.mo[i] = mo;
}

uint32_t StoreHistory::hb_bound(const Word& w, int t, const VectorClock& clock) const {
  (void)t;
  uint32_t bound = 0;
  for (int u = 0; u < kMaxTasks; ++u) {
    const Epochs& e = w.seen[static_cast<size_t>(u)];
    if (e.count == 0) continue;
    const int kept = std::min(e.count, kEpochRing);
    uint32_t mo = 0;
    bool found = false;
    for (int k = 0; k < kept; ++k) {  // newest first
      const size_t i = static_cast<size_t>((e.count - 1 - k) % kEpochRing);
      if (e.epoch[i] <= clock[static_cast<size_t>(u)]) {
        mo = e.mo[i];
        found = true;
        break;
      }
    }
    // Older accesses fell off the ring: assume the oldest kept one (stricter).
    if (!found && e.count > kEpochRing) mo = e.mo[static_cast<size_t>((e.count - kept) % kEpochRing)];
    bound = std::max(bound, mo);
  }
  return bound;
}

uint64_t StoreHistory::fenced_at(const Store& s) const {
  if (s.task < 0) return 0;
  uint64_t at = s.sc_pos ? s.sc_pos : kNotFenced;
  const auto t = static_cast<size_t>(s.task);
  if (fences_[t] > s.fence_count) {
    // The task's first seq_cst fence after the store; if its position was
    // dropped from the log, assume the earliest (stricter).
    const uint64_t f =
        fences_[t] - s.fence_count <= kFenceLog ? fence_pos_[t][s.fence_count % kFenceLog] : uint64_t{1};
    at = std::min(at, f);
  }
  return at;
}

void StoreHistory::on_store(int t, const core::SharedAccess& a, uint64_t before, uint64_t after, uint32_t epoch,
                            const VectorClock* rel, uint64_t step) {
  if (!enabled_ || !tracked(a.kind)) return;
  Word* w = find(a.word, true);
  if (!w) return;
  if (w->next_mo == 0 || latest(*w).value != before) reset(*w, before);
  Store s;
  s.value = after;
  s.task = static_cast<int8_t>(t);
  s.epoch = epoch;
  s.sc_pos = is_seq_cst(a.order) ? ++sc_clock_ : 0;
  s.fence_count = fences_[static_cast<size_t>(t)];
  s.has_rel = rel != nullptr;
  if (rel) s.rel = *rel;
  s.step = step;
  append(*w, s);
  note(*w, t, epoch, w->next_mo - 1);
}

StoreHistory::Read StoreHistory::read(int t, const core::SharedAccess& a, uint64_t value, const VectorClock& clock,
                                      ChoiceSource* choices) {
  if (!enabled_ || !tracked(a.kind)) return {value, 0, nullptr};
  Word* w = find(a.word, true);
  if (!w) return {value, 0, nullptr};
  if (w->next_mo == 0 || latest(*w).value != value) reset(*w, value);
  const uint32_t newest = w->next_mo - 1;
  uint32_t lo = std::max(hb_bound(*w, t, clock), w->next_mo > kDepth ? w->next_mo - kDepth : 0u);
  // seq_cst: the last store fenced before t's last seq_cst fence in S.
  if (const uint64_t f = last_fence_[static_cast<size_t>(t)]) {
    for (uint32_t mo = newest + 1; mo-- > lo;) {
      if (fenced_at(w->stores[mo % kDepth]) < f) {
        lo = mo;
        break;
      }
    }
  }
  const bool may_be_stale = !is_seq_cst(a.order) && a.access == core::AccessKind::kLoad;
  int back = 0;
  const auto ti = static_cast<size_t>(t);
  if (choices && may_be_stale && lo < newest && stale_left_[ti] > 0) {
    back = static_cast<int>(choices->next_byte() % (newest - lo + 1));
    if (back > 0) --stale_left_[ti];
  }
  const Store& s = w->stores[(newest - static_cast<uint32_t>(back)) % kDepth];
  note(*w, t, clock[ti], s.mo);
  return {s.value, back, &s};
}

void StoreHistory::on_fence(int t, uint8_t order) {
  if (!enabled_ || !is_seq_cst(order)) return;
  const auto ti = static_cast<size_t>(t);
  last_fence_[ti] = ++sc_clock_;
  fence_pos_[ti][fences_[ti] % kFenceLog] = sc_clock_;
  ++fences_[ti];
}

void StoreHistory::forget(const void* word) {
  if (!enabled_) return;
  if (Word* w = find(word, false)) w->next_mo = 0;
}

}  // namespace vmafuzz::fuzz
