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

// Under TSan: no __tsan_func_entry/exit for a platform callback the model
// calls at every access (a few % of a tsan-libfuzzer run). Only for
// callbacks never on a report's stack whose whole body runs in a
// HarnessSection and has no atomic: the attribute drops all of TSan's
// instrumentation of the function and of what is inlined into it
// (docs/FUZZING.md, "Fuzzing under TSan directly").
#if defined(VMAFUZZ_TSAN) && __has_attribute(disable_sanitizer_instrumentation)
#define VMAFUZZ_TSAN_NO_FRAME __attribute__((disable_sanitizer_instrumentation))
#else
#define VMAFUZZ_TSAN_NO_FRAME
#endif

namespace vmafuzz::fuzz {

class HarnessSection {
 public:
#ifdef VMAFUZZ_TSAN
  // Not __tsan_ignore_thread_begin(): clang 14's runtime stores the caller's
  // whole stack in its stack depot on every begin (ThreadIgnoreBegin with a
  // pc, for the "thread finished with ignores enabled" diagnostic), about 10%
  // of a tsan-libfuzzer run (docs/BENCHMARKS.md, "TSan against plain: the
  // harness sections' stack depot").
  // __tsan_mutex_post_divert begins ignoring accesses and synchronisation
  // with no pc (no depot); the sync ignore is ended at once, before anything
  // can synchronise, so the net effect is exactly __tsan_ignore_thread_begin's:
  // accesses ignored, synchronisation (fiber switches, acquire/release, the
  // model's atomics) still processed. The end needs no pc. (Both calls are
  // annotations: TSAN_OPTIONS=enable_annotations=0 would break this, as it
  // breaks the coverage counters' benign-race annotation already.)
  HarnessSection() {
    __tsan_mutex_post_divert(nullptr, 0);
    AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
  }
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
