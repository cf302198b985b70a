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
    last_writer_.clear();
  }
  bool enabled() const { return sink_ != nullptr; }

  // Context: enabled(). Task `task` in operation `op` (its mm `task_mm`) made
  // access `a` to the word with canonical id `word_id` (the VMA `vma` it
  // belongs to, or null), changing it from `before` to `after`.
  void on_access(int task, uint32_t op, const core::mm_struct* task_mm, const core::vm_area_struct* vma,
                 const core::SharedAccess& a, uint32_t word_id, uint64_t before, uint64_t after);
  // Context: enabled(). A parked task in operation `sleeper_op` was woken by one in `waker_op`.
  void on_wake(uint32_t sleeper_op, uint32_t waker_op) {
    sink_->add(make_feature(FeatureKind::kWaitWake, sleeper_op, waker_op, 0));
  }

 private:
  // The last task that changed a word (by canonical id), and its operation.
  struct LastWriter {
    int8_t task = -1;
    uint8_t op = 0;
  };

  FeatureSink* sink_ = nullptr;
  std::vector<LastWriter> last_writer_;
};

}  // namespace vmafuzz::fuzz
