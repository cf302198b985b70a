// trace.h - what a run did, as a hash and (optionally) as a list of events.
//
// Determinism is checked on the hash: the same bytes must give the same hash
// on every build. Addresses differ between builds and runs, so words and
// pointer values are named by canonical ids (the order in which the run first
// touched them), and tasks by pid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/model_fn.h"
#include "core/platform.h"

namespace vmafuzz::fuzz {

enum class TraceEventKind : uint8_t {
  kAccess,        // a shared access (scheduling point) by `task`
  kSwitch,        // the scheduler switched to `task`
  kPark,          // `task` slept in schedule()
  kWake,          // `task` was woken (arg: waker pid + 1, or 0 for the scheduler)
  kSpuriousWake,  // a scheduling event woke `task`
  kKill,          // a scheduling event sent `task` SIGKILL
  kOpBegin,       // `task` starts operation number `arg`
  kOpEnd,         // `task` ends operation number `arg` (value_after: OpOutcome)
  // `task` is alone at exit: its operations are done and every other task has
  // finished, so the rest of the run (releasing its locks, mmput) has no
  // scheduling point. Not hashed; the accesses after it are recorded (with
  // keep_events, for explain and the two-version comparison) but not hashed
  // (docs/SCHEDULER.md, "Alone at exit").
  kAloneAtExit,
  kMaxValue = kAloneAtExit,
};

// An access is traced as two kAccess events: at its scheduling point (arg 0,
// no values) and after it (arg 1, value_before/value_after, the same word_id).
// Other tasks may run between the two. Only the second is hashed. In C11
// mode (store_history.h) a load that read an older store than the latest
// has arg 1 + k on its completion: it read the k-th store before the latest.
// An access under core::VersionOnlyAccess while two versions are compared
// was no scheduling point: its first event has arg kVersionOnlyAccess (the
// top bit, so it never meets a completion's 1 + k) instead of 0, and its
// completion event follows it directly (nothing can run in between). The
// completion event is unmarked, so that access_done() costs nothing more on
// the default path (fuzz/nfc.cpp pairs them).
inline constexpr uint32_t kVersionOnlyAccess = uint32_t{1} << 31;
struct TraceEvent {
  uint64_t step;
  TraceEventKind kind;
  int8_t task;
  core::SharedWordKind word_kind = core::SharedWordKind::kOther;
  core::AccessKind access = core::AccessKind::kLoad;
  uint32_t word_id = 0;  // canonical id of the word
  uint32_t arg = 0;
  uint64_t value_before = 0;
  uint64_t value_after = 0;
  // Metadata for `vmafuzz explain`, recorded only with keep_events and never
  // hashed: the object the word belongs to (VMA object id for vm_refcnt and
  // vm_lock_seq, mm id for the mm's words, task index for a task's words;
  // -1 unknown; for a kSwitch 1 means the task is switched to only to be
  // unwound after the run stopped) and the model function path the task was in
  // (Trace::fn_path(), 0: none).
  int16_t owner = -1;
  uint16_t fn_path = 0;
};

// The completion event of an access, and how many stores before the latest it read.
inline bool is_access_done(const TraceEvent& e) {
  return e.kind == TraceEventKind::kAccess && (e.arg & ~kVersionOnlyAccess) != 0;
}
inline int stale_back(const TraceEvent& e) {
  return is_access_done(e) ? static_cast<int>(e.arg & ~kVersionOnlyAccess) - 1 : 0;
}

// Maps addresses to small ids in order of first appearance. Reset per run.
class CanonicalIds {
 public:
  // Inline: two or three per scheduling point, nearly always a hit at the
  // first probe.
  uint32_t id_of(const void* p) {
    if (!p) return 0;
    const size_t i = (reinterpret_cast<uintptr_t>(p) >> 3) * 0x9e3779b97f4a7c15ULL % kCapacity;
    const Slot& s = slots_[i];
    if (s.epoch == epoch_ && s.key == p) return s.id;
    return probe(p, i);
  }
  void reset();

 private:
  uint32_t probe(const void* p, size_t i);
  static constexpr size_t kCapacity = 4096;  // open addressing; rehash-free: runs touch far fewer
  struct Slot {
    const void* key;
    uint32_t id;
    uint32_t epoch;
  };
  std::vector<Slot> slots_ = std::vector<Slot>(kCapacity, Slot{nullptr, 0, 0});
  uint32_t epoch_ = 1;
  uint32_t next_id_ = 1;
};

class Trace {
 public:
  void reset(bool keep_events);
  // Record e (with keep_events) and mix it into the hash. An access's
  // scheduling-point event is recorded but not hashed (hash = false): its
  // completion event, which carries the same word id, is.
  // Inline: it runs twice per scheduling point, and without keep_events an
  // unhashed add is nothing.
  void add(const TraceEvent& e, bool hash = true) {
    if (keep_events_) events_.push_back(e);
    if (hash) mix(e);
  }
  uint64_t hash() const { return hash_; }
  bool keeps_events() const { return keep_events_; }
  // The id of a model function path (outermost first; names from __func__,
  // core/model_fn.h), interned per run; 0 is the empty path.
  uint16_t intern_fn_path(const core::ModelFnStack& stack);
  // "vma_mark_detached > __vma_exclude_readers_for_detach" for an id.
  const std::string& fn_path(uint16_t id) const { return fn_paths_[id < fn_paths_.size() ? id : 0]; }
  const std::vector<TraceEvent>& events() const { return events_; }
  CanonicalIds& ids() { return ids_; }

 private:
  void mix(const TraceEvent& e) {
    // Two words per event keep the serial multiply chain short; the second
    // word is computed off the chain.
    const uint64_t head = static_cast<uint64_t>(e.kind) | static_cast<uint64_t>(static_cast<uint8_t>(e.task)) << 8 |
                          static_cast<uint64_t>(e.word_kind) << 16 | static_cast<uint64_t>(e.access) << 24 |
                          static_cast<uint64_t>(e.word_id) << 32;
    const uint64_t body = e.value_before * 0xc2b2ae3d27d4eb4fULL ^ (e.value_after + e.arg * 0x165667b19e3779f9ULL);
    uint64_t h = (hash_ ^ head) * 0x9e3779b97f4a7c15ULL;
    h = (h ^ h >> 32 ^ body) * 0xff51afd7ed558ccdULL;
    hash_ = h ^ h >> 29;
  }

  uint64_t hash_ = 0;
  bool keep_events_ = false;
  std::vector<TraceEvent> events_;
  CanonicalIds ids_;
  std::vector<std::string> fn_paths_ = {""};
  std::map<std::vector<const char*>, uint16_t> fn_path_ids_;
};

}  // namespace vmafuzz::fuzz
