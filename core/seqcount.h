// seqcount.h - seqcount_t as mm->mm_lock_seq uses it (models include/linux/seqlock.h).
//
// Only the mmap write lock holder writes the sequence: begin makes it odd
// (write-locked mm), end makes it even and thereby releases every VMA write
// lock of the mm at once.
#pragma once

#include "core/shared_word.h"

namespace vmafuzz::core {

struct seqcount_t {
  shared_word<unsigned int> sequence{SharedWordKind::kMmLockSeq, 0};
};

// do_raw_write_seqcount_begin(): sequence++, then smp_wmb (store-store). The
// model stores relaxed and issues a release fence. Scheduling points.
// The 32-bit sequence wraps by design (a reused value can only give a false
// "locked"): the increments are exempt from UBSan's unsigned-overflow check.
__attribute__((no_sanitize("integer"))) inline void do_raw_write_seqcount_begin(seqcount_t* s) {
  const unsigned int v = s->sequence.load(std::memory_order_relaxed);
  s->sequence.store(v + 1, std::memory_order_relaxed);
  core_fence(std::memory_order_release);
}

// do_raw_write_seqcount_end(): smp_wmb, then sequence++. A release store:
// pairs with the acquire in raw_read_seqcount() (the B06 fix).
__attribute__((no_sanitize("integer"))) inline void do_raw_write_seqcount_end(seqcount_t* s) {
  const unsigned int v = s->sequence.load(std::memory_order_relaxed);
  s->sequence.store(v + 1, std::memory_order_release);
}

// raw_read_seqcount(): smp_load_acquire of the sequence. Scheduling point.
inline unsigned int raw_read_seqcount(const seqcount_t* s) { return s->sequence.load(std::memory_order_acquire); }

}  // namespace vmafuzz::core
