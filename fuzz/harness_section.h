// harness_section.h - hide harness code running on task fibers from ThreadSanitizer.
//
// Task fibers switch without synchronising (fiber.h), so that only the model's
// own memory orders create happens-before edges. The scheduler's state (the
// current task, the step count, the trace, op outcomes) is shared between
// those fibers by design; TSan would report every access to it. A
// HarnessSection makes the current fiber ignore its own reads and writes (TSan
// keeps this per fiber, and still processes synchronisation) until it ends.
// Model code - core/ and fuzz/ops.cpp - must never run inside one.
// Outside ThreadSanitizer builds this is empty.
#pragma once

#include "core/sanitizer_hooks.h"

namespace vmafuzz::fuzz {

class HarnessSection {
 public:
#ifdef VMAFUZZ_TSAN
  HarnessSection() { __tsan_ignore_thread_begin(); }
  ~HarnessSection() { __tsan_ignore_thread_end(); }
#else
  // User-provided, so that `HarnessSection harness;` is not an unused variable.
  HarnessSection() {}
  ~HarnessSection() {}
#endif
  HarnessSection(const HarnessSection&) = delete;
  HarnessSection& operator=(const HarnessSection&) = delete;
};

}  // namespace vmafuzz::fuzz
