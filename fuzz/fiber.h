// fiber.h - user-space fibers on one OS thread, for the deterministic scheduler.
//
// A context switch is boost.context's fcontext jump (a few nanoseconds; never
// glibc swapcontext, which makes a sigprocmask syscall per switch). Fibers are
// pooled: a fiber runs a loop "wait for work, run it, report done", so one
// fiber (its stack and, under ThreadSanitizer, its TSan fiber) serves many
// executions and is never destroyed while a run is in flight.
//
// Sanitizers:
//  - ThreadSanitizer: each fiber is a TSan fiber. switch_to() passes
//    __tsan_switch_to_fiber_no_sync, so a switch creates no happens-before
//    edge: only the model's own synchronisation orders tasks. Switches that
//    start a work item and that report it done DO synchronise with the main
//    context, so consecutive executions (which reuse memory) are ordered.
//    "Start" means: a work item is ordered after everything the main context
//    did before the item first ran. Switched in from main, that is the switch
//    itself (flags 0); switched in from another fiber, that switch stays
//    no_sync (the two tasks are concurrent) and the item instead acquires the
//    main context's state as of main's last switch away.
//    The runtime's own bookkeeping is invisible to TSan; a caller's state
//    shared between fibers (e.g. a scheduler's) is not, and races unless it
//    is atomic or otherwise ordered.
//  - AddressSanitizer: __sanitizer_start/finish_switch_fiber around each jump.
// The code between the sanitizer call and the jump is not instrumented.
//
// Thread-compatible, not thread-safe: one FiberRuntime per OS thread, used
// only from that thread.
#pragma once

#include <cstddef>
#include <memory>

namespace vmafuzz::fuzz {

class FiberRuntime;

// A unit of work for a fiber: fn(arg) runs on the fiber's stack.
using FiberFn = void (*)(void* arg);

class Fiber;  // opaque; owned by the FiberRuntime

class FiberRuntime {
 public:
  static constexpr size_t kDefaultStackSize = 256 * 1024;

  // Every fiber gets stack_size usable bytes (rounded up to whole pages, at
  // least 16 KiB) above a PROT_NONE guard page; stacks live as long as the
  // runtime. The main context is the thread that constructs the runtime.
  explicit FiberRuntime(size_t stack_size = kDefaultStackSize);
  ~FiberRuntime();  // Context: called from the main context with no work in flight.
  FiberRuntime(const FiberRuntime&) = delete;
  FiberRuntime& operator=(const FiberRuntime&) = delete;

  // Take an idle fiber from the pool (creating one if none is idle) and give
  // it fn(arg) to run. It does not start until someone switches to it.
  // fn must not throw (an escaping exception terminates the process).
  // Context: main context.
  Fiber* start(FiberFn fn, void* arg);

  // Switch from the running context (main or a fiber) to `to`, which must be
  // started and not finished. Returns when someone switches back.
  // Never synchronises for ThreadSanitizer (see the banner) - except the very
  // first switch into a freshly started work item, which does (with the main
  // context; see the banner for a switch from another fiber).
  void switch_to(Fiber* to);

  // Switch from the running fiber to the main context. Not synchronising.
  void switch_to_main();

  // Is a fiber running (as opposed to the main context)?
  bool in_fiber() const;
  Fiber* current() const;  // nullptr in the main context

  // Has `f`'s work item returned? A finished fiber has switched to the main
  // context (synchronising) and went back to the pool by itself.
  static bool finished(const Fiber* f);

  // Name `f` for ThreadSanitizer's reports ("thread T3 'NAME'"; the runtime
  // copies it, up to 63 characters). A no-op in any other build. Context: any.
  static void set_name(Fiber* f, const char* name);

  // Fibers the pool holds, busy or idle; never shrinks. It is the largest
  // number of work items that were in flight at once.
  size_t pooled_fibers() const;

 private:
  struct Impl;
  // Owned (deleted by the destructor). A raw pointer, not a unique_ptr: it is
  // read on every fiber, and under ThreadSanitizer those reads must not go
  // through (instrumented) unique_ptr accessors - see fiber.cpp.
  Impl* const impl_;
};

}  // namespace vmafuzz::fuzz
