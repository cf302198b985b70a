// feature_recorder.cpp - refcount transitions, reads-from and wait/wake features.
#include "fuzz/feature_recorder.h"

namespace vmafuzz::fuzz {

void FeatureRecorder::on_access(int task, uint32_t op, const core::mm_struct* task_mm,
                                const core::vm_area_struct* vma, const core::SharedAccess& a, uint32_t word_id,
                                uint64_t before, uint64_t after) {
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
  if (w.task >= 0 && w.task != task) {
    f.add(make_feature(FeatureKind::kReadsFrom, static_cast<uint32_t>(a.kind) << 8 | static_cast<uint32_t>(a.access),
                       w.op, op));
  }
  if (a.access != core::AccessKind::kLoad && before != after) {
    w = LastWriter{static_cast<int8_t>(task), static_cast<uint8_t>(op)};
  }
}

}  // namespace vmafuzz::fuzz
