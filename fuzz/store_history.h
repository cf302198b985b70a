// store_history.h - the C11 memory model's store histories (docs/SCHEDULER.md,
// "Weak memory (--memory-model c11)").
//
// In C11 mode a relaxed, consume or acquire load of a tracked shared word may
// read an older store than the latest: any of the word's last kDepth stores
// that happens-before, coherence and the seq_cst fences do not hide from the
// loading task (as Relacy's store history, with the hb tracker's vector
// clocks). RMWs, failed cmpxchgs and seq_cst loads read the latest store.
// Which store a load reads is a choice drawn from the run's choice stream
// (0, and an exhausted stream, read the latest: the SC run), bounded by
// kStaleBudget stale reads per task per run, so spin loops end.
//
// Per word it keeps the last kDepth stores (value, modification-order index,
// storing task and its clock epoch, release clock, seq_cst position) and, per
// task, its recent accesses as (epoch, highest modification-order index):
// a task must read at least what any access that happens before its load
// wrote or read (write-read and read-read coherence, per task and across
// happens-before). The seq_cst fences and stores form the total order S: a
// store followed in its task by a seq_cst fence (or itself seq_cst) before
// the loading task's last seq_cst fence in S is visible to it.
// Context: the sim platform, inside HarnessSections, for the running task.
#pragma once

#include <array>
#include <cstdint>

#include "core/platform.h"
#include "fuzz/choice_source.h"
#include "fuzz/hb_tracker.h"
#include "fuzz/scenario.h"

namespace vmafuzz::fuzz {

class StoreHistory {
 public:
  static constexpr int kDepth = 4;         // stores kept per word
  static constexpr int kStaleBudget = 8;   // stale reads per task per run
  static constexpr int kEpochRing = 8;     // recent accesses kept per word and task

  struct Store {
    uint64_t value = 0;
    uint32_t mo = 0;          // index in the word's modification order
    int8_t task = -1;         // -1: the value before the run's first recorded access (visible to all)
    uint32_t epoch = 0;       // task's own clock component at the store
    uint64_t sc_pos = 0;      // position in S if seq_cst, else 0
    uint32_t fence_count = 0; // task's seq_cst fences before the store
    bool has_rel = false;     // rel: the release clock a load reading this store acquires
    VectorClock rel{};
    uint64_t step = 0;
  };
  // What a load read: `back` stores before the latest (0: the latest).
  struct Read {
    uint64_t value;
    int back;
    const Store* store;  // valid until the next call
  };

  // The word kinds whose loads may be stale: the sleep/wake handshake's and the
  // VMA lock's words. Other words (rwsem, signal, maple tree...) read the latest.
  static bool tracked(core::SharedWordKind kind);

  void begin(bool enabled);
  bool enabled() const { return enabled_; }

  // t's store or RMW (successful cmpxchg) of `after` over `before`, at its
  // epoch; `rel` the word's release clock after it (null: none).
  void on_store(int t, const core::SharedAccess& a, uint64_t before, uint64_t after, uint32_t epoch,
                const VectorClock* rel, uint64_t step);
  // t's load of a word whose latest value is `latest`, with t's clock; draws
  // the store it reads from `choices` when more than one is allowed.
  Read on_load(int t, const core::SharedAccess& a, uint64_t latest, const VectorClock& clock, ChoiceSource& choices) {
    return read(t, a, latest, clock, &choices);
  }
  // t's load that reads the latest store and draws nothing (a version-only
  // access, fuzz/nfc.h: both versions must read the same choices). Still
  // noted, so that t's later loads of the word cannot read an older store.
  void on_latest_load(int t, const core::SharedAccess& a, uint64_t latest, const VectorClock& clock) {
    read(t, a, latest, clock, nullptr);
  }
  void on_fence(int t, uint8_t order);
  // An unrecorded write of the word (raw_store, a new object): its history ends.
  void forget(const void* word);

 private:
  struct Epochs {
    std::array<uint32_t, kEpochRing> epoch{};
    std::array<uint32_t, kEpochRing> mo{};
    int count = 0;  // total recorded (ring index: % kEpochRing)
  };
  struct Word {
    const void* word = nullptr;
    uint32_t generation = 0;
    uint32_t next_mo = 0;
    std::array<Store, kDepth> stores{};  // ring by mo % kDepth
    std::array<Epochs, kMaxTasks> seen{};
  };
  static constexpr int kWords = 512;  // power of two; a run tracks a few dozen

  // on_load(); null `choices`: the latest store, no draw.
  Read read(int t, const core::SharedAccess& a, uint64_t latest, const VectorClock& clock, ChoiceSource* choices);
  Word* find(const void* w, bool create);
  void reset(Word& w, uint64_t value);
  void append(Word& w, const Store& s);
  void note(Word& w, int t, uint32_t epoch, uint32_t mo);
  // The lowest mo t may read: the coherence and happens-before bound.
  uint32_t hb_bound(const Word& w, int t, const VectorClock& clock) const;
  // When the store is ordered before every later seq_cst fence and store in S.
  uint64_t fenced_at(const Store& s) const;
  const Store& latest(const Word& w) const { return w.stores[(w.next_mo - 1) % kDepth]; }

  bool enabled_ = false;
  uint32_t generation_ = 0;
  uint64_t sc_clock_ = 0;
  std::array<uint32_t, kMaxTasks> stale_left_{};
  std::array<uint32_t, kMaxTasks> fences_{};      // seq_cst fences per task
  std::array<uint64_t, kMaxTasks> last_fence_{};  // position in S of the last one (0: none)
  // Position in S of each task's fence number k (kept for the last kFenceLog).
  static constexpr int kFenceLog = 64;
  std::array<std::array<uint64_t, kFenceLog>, kMaxTasks> fence_pos_{};
  std::array<Word, kWords> words_{};
};

}  // namespace vmafuzz::fuzz
