// feature_recorder.h - the interleaving features of one run (features.h) into a FeatureSink.
//
// The sim platform reports each traced access and each wake-up of a parked
// task; the recorder turns them into feature ids: vm_refcnt class
// transitions (with the foreign-VMA bit), cross-task reads-from pairs (the
// last writer of each canonical word id) and wait/wake pairs. It only
// observes: with or without a sink, the run is the same.
//
// Operations are named by their OpKind; kNoOp for a task between operations,
// kNoWaker for a wake-up from the main context.
#pragma once

#include <cstdint>
#include <vector>

#include "core/mm.h"
#include "core/platform.h"
#include "core/vma.h"
#include "fuzz/features.h"

namespace vmafuzz::fuzz {

class FeatureRecorder {
 public:
  static constexpr uint32_t kNoOp = 0xff;
  static constexpr uint32_t kNoWaker = 0xfe;

  // Start a run; null: record nothing.
  void begin(FeatureSink* sink) {
    sink_ = sink;
    // Zeroed (no writer) up front for the ids a run usually names: growing
    // the vector one id at a time was a call per new word.
    last_writer_.assign(kPresized, LastWriter{});
  }
  bool enabled() const { return sink_ != nullptr; }

  // Context: enabled(). Task `task` in operation `op` (its mm `task_mm`) made
  // access `a` to the word with canonical id `word_id` (the VMA `vma` it
  // belongs to, or null), changing it from `before` to `after`. Inline (below):
  // it runs at every access.
  void on_access(int task, uint32_t op, const core::mm_struct* task_mm, const core::vm_area_struct* vma,
                 const core::SharedAccess& a, uint32_t word_id, uint64_t before, uint64_t after);
  // Context: enabled(). A parked task in operation `sleeper_op` was woken by one in `waker_op`.
  void on_wake(uint32_t sleeper_op, uint32_t waker_op) {
    sink_->add(make_feature(FeatureKind::kWaitWake, sleeper_op, waker_op, 0));
  }

 private:
  // The last task that changed a word (by canonical id), and its operation.
  // task_plus1 0: none (so that a cleared entry is all zero bytes).
  struct LastWriter {
    uint8_t task_plus1 = 0;
    uint8_t op = 0;
  };
  static constexpr size_t kPresized = 64;

  FeatureSink* sink_ = nullptr;
  std::vector<LastWriter> last_writer_;
};

[[gnu::always_inline]] inline void FeatureRecorder::on_access(int task, uint32_t op, const core::mm_struct* task_mm,
                                       const core::vm_area_struct* vma, const core::SharedAccess& a,
                                       uint32_t word_id, uint64_t before, uint64_t after) {
  FeatureSink& f = *sink_;
  if (a.kind == core::SharedWordKind::kVmRefcnt && before != after) {
    // A transition on a VMA of another mm - a recycled object in a reader's
    // hands, or fork's writes to the child - is its own feature: the
    // recycling races (B12, B13) are chains of such steps, and the fuzzer
    // keeps an input that reaches one more link.
    const uint32_t foreign = vma->vm_mm != task_mm ? kForeignVma : 0;
    f.add(make_feature(FeatureKind::kRefcntTransition, refcnt_class(before), refcnt_class(after), op | foreign));
  }
  if (a.kind == core::SharedWordKind::kRwsemWaiter) return;  // stack words have no stable id
  if (word_id >= last_writer_.size()) last_writer_.resize(word_id + 1);
  LastWriter& w = last_writer_[word_id];
  if (w.task_plus1 != 0 && w.task_plus1 != task + 1) {
    f.add(make_feature(FeatureKind::kReadsFrom, static_cast<uint32_t>(a.kind) << 8 | static_cast<uint32_t>(a.access),
                       w.op, op));
  }
  if (a.access != core::AccessKind::kLoad && before != after) {
    w = LastWriter{static_cast<uint8_t>(task + 1), static_cast<uint8_t>(op)};
  }
}

}  // namespace vmafuzz::fuzz
