// fiber.cpp - pooled user-space fibers on boost.context's fcontext.
//
// Layout of one switch (jump() below, never instrumented):
//
//     __sanitizer_start_switch_fiber(&save, to)   [ASan]  (never both: the
//     __tsan_switch_to_fiber(to, flags)           [TSan]   sanitizers exclude
//     t = jump_fcontext(to->fctx, from)                     each other)
//     -- we are gone --
//     ... someone jumps back to us ...
//     __sanitizer_finish_switch_fiber(save, &prev) [ASan]
//     prev->fctx = t.fctx                          (who jumped to us resumes there)
//
// The data passed through jump_fcontext is always the Ctx of the context that
// jumped, so the landing side can store where it may later be resumed. A fresh
// fiber's first landing is in fiber_entry(), which does the same bookkeeping
// and then enters the fiber's endless work loop.
//
// ThreadSanitizer sees no access of the runtime's own bookkeeping (current,
// the idle list, a fiber's work item and flags): those are shared between
// fibers whose switches deliberately do not synchronise, so every function
// touching them is no_sanitize("thread") and the switch itself is
// disable_sanitizer_instrumentation. Only the user's fn(arg) is observed.
// FiberRuntime::impl_ is a raw pointer for the same reason: LLVM never inlines
// an instrumented function (unique_ptr::operator->) into a no_sanitize one,
// so every fiber's read of a unique_ptr would have been visible to TSan.
#include "fuzz/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/detail/fcontext.hpp>
#include <cassert>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/sanitizer_hooks.h"

// The switch: not a single instrumented instruction between the sanitizer
// call and the jump, and none right after landing before finish_switch_fiber.
// Under a sanitizer it is a real call (an instrumented caller must not inline
// it); without one it inlines into switch_to()/switch_to_main().
// clang 14's disable_sanitizer_instrumentation keeps TSan out entirely (no
// __tsan_func_entry/exit either) but NOT ASan or UBSan: those still instrument
// (ASan even puts the frame on a fake stack before finish_switch_fiber), so
// the no_sanitize list is needed as well. Checked with objdump -dr.
#define VMAFUZZ_NO_SANITIZE_LIST no_sanitize("address", "thread", "undefined")
#if defined(__clang__) && __clang_major__ >= 14
#define VMAFUZZ_UNINSTRUMENTED __attribute__((disable_sanitizer_instrumentation, VMAFUZZ_NO_SANITIZE_LIST))
#else
#define VMAFUZZ_UNINSTRUMENTED __attribute__((VMAFUZZ_NO_SANITIZE_LIST))
#endif
#if defined(VMAFUZZ_TSAN) || defined(VMAFUZZ_ASAN)
#define VMAFUZZ_SWITCH_INLINE __attribute__((noinline))
#else
#define VMAFUZZ_SWITCH_INLINE inline __attribute__((always_inline))
#endif
// Bookkeeping shared between fibers: invisible to ThreadSanitizer (see top).
#define VMAFUZZ_NO_TSAN __attribute__((no_sanitize("thread")))

namespace vmafuzz::fuzz {

namespace ctx = boost::context::detail;

namespace {

// One execution context: the main context or a fiber.
struct Ctx {
  ctx::fcontext_t fctx = nullptr;  // where to jump to resume it (valid while it is not running)
  FiberRuntime* rt = nullptr;
  void* tsan = nullptr;                // TSan fiber (main: the thread's own)
  const void* stack_bottom = nullptr;  // ASan: lowest usable address (main: learnt on landing)
  size_t stack_size = 0;
  void* asan_fake_stack = nullptr;  // ASan: this context's fake stack while it is switched away
};

constexpr unsigned kTsanNoSync =
#if defined(VMAFUZZ_TSAN)
    __tsan_switch_to_fiber_no_sync;
#else
    1;
#endif
constexpr unsigned kTsanSync = 0;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "vmafuzz fiber: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

// Bookkeeping on landing in `self` after a jump made by t.data's context.
VMAFUZZ_UNINSTRUMENTED inline __attribute__((always_inline)) void landed(ctx::transfer_t t, void* own_fake_stack) {
#if defined(VMAFUZZ_ASAN)
  const void* prev_bottom = nullptr;
  size_t prev_size = 0;
  __sanitizer_finish_switch_fiber(own_fake_stack, &prev_bottom, &prev_size);
#endif
  Ctx* prev = static_cast<Ctx*>(t.data);
  prev->fctx = t.fctx;
#if defined(VMAFUZZ_ASAN)
  // For a fiber these are its own, known bounds; for the main context this
  // is how we learn them (the first landing ever comes from main).
  prev->stack_bottom = prev_bottom;
  prev->stack_size = prev_size;
#else
  (void)own_fake_stack;
#endif
}

// Switch from `from` (the running context) to `to`. Returns when someone
// switches back to `from`. from_resumes=false: `from` is abandoned for good
// (ASan then frees its fake stack) and the call does not return.
VMAFUZZ_UNINSTRUMENTED VMAFUZZ_SWITCH_INLINE void jump(Ctx* from, Ctx* to, unsigned tsan_flags,
                                                       bool from_resumes = true) {
  ctx::fcontext_t target = to->fctx;
#if defined(VMAFUZZ_ASAN)
  __sanitizer_start_switch_fiber(from_resumes ? &from->asan_fake_stack : nullptr, to->stack_bottom,
                                 to->stack_size);
#else
  (void)from_resumes;
#endif
#if defined(VMAFUZZ_TSAN)
  __tsan_switch_to_fiber(to->tsan, tsan_flags);
#else
  (void)tsan_flags;
#endif
  ctx::transfer_t t = ctx::jump_fcontext(target, from);
  landed(t, from->asan_fake_stack);
}

}  // namespace

class Fiber {
 public:
  Ctx ctx;
  FiberFn fn = nullptr;
  void* arg = nullptr;
  bool finished = false;  // work item returned; the fiber is idle (in the pool)
  bool fresh = false;     // started, not yet switched to
  bool retire = false;    // destructor (ASan only): leave the loop for good
  Fiber* next_idle = nullptr;
  void* map_base = nullptr;  // guard page + stack
  size_t map_size = 0;
  std::string name;
};

struct FiberRuntime::Impl {
  size_t stack_size = 0;  // usable bytes per fiber, page multiple
  size_t page_size = 0;
  Ctx main;
  Fiber* current = nullptr;  // nullptr: the main context runs
  Fiber* idle = nullptr;     // LIFO of idle fibers (their work item finished)
  std::vector<Fiber*> all;   // every fiber, for the destructor; main context only
  size_t fiber_count = 0;    // all.size(), readable from any context
  size_t fresh_count = 0;    // started work items not yet switched to
  // TSan: while fresh work items exist, the main context releases its clock
  // here whenever it switches away; a work item acquires it before fn(arg).
  char main_token = 0;

  static void fiber_entry(ctx::transfer_t t);
  [[noreturn]] static void fiber_loop(Fiber* self) noexcept;
  Fiber* create_fiber();
  void destroy_fiber(Fiber* f);
};

namespace {
constexpr size_t kMinStackSize = 16 * 1024;
}

FiberRuntime::FiberRuntime(size_t stack_size) : impl_(new Impl) {
  long page = ::sysconf(_SC_PAGESIZE);
  impl_->page_size = page > 0 ? static_cast<size_t>(page) : 4096;
  if (stack_size < kMinStackSize) stack_size = kMinStackSize;
  impl_->stack_size = (stack_size + impl_->page_size - 1) / impl_->page_size * impl_->page_size;
  impl_->main.rt = this;
#if defined(VMAFUZZ_TSAN)
  impl_->main.tsan = __tsan_get_current_fiber();
#endif
}

VMAFUZZ_NO_TSAN FiberRuntime::~FiberRuntime() {
  Impl& rt = *impl_;
  if (rt.current != nullptr) {
    // Freeing the stack we run on cannot end well.
    std::fprintf(stderr, "vmafuzz fiber: FiberRuntime destroyed from a fiber\n");
    std::abort();
  }
  for (Fiber* f : rt.all) rt.destroy_fiber(f);
  delete impl_;
}

// Context: main. Creates a fiber (stack, fcontext, TSan fiber); it is not
// entered until its first work item is switched to.
VMAFUZZ_NO_TSAN Fiber* FiberRuntime::Impl::create_fiber() {
  auto* f = new Fiber;
  f->map_size = page_size + stack_size;
  void* base = ::mmap(nullptr, f->map_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) die("mmap of a fiber stack failed");
  // Guard page below the stack (stacks grow down): an overflow faults.
  if (::mprotect(base, page_size, PROT_NONE) != 0) die("mprotect of a fiber guard page failed");
  f->map_base = base;
  char* bottom = static_cast<char*>(base) + page_size;
  f->ctx.rt = main.rt;
  f->ctx.stack_bottom = bottom;
  f->ctx.stack_size = stack_size;
  f->ctx.fctx = ctx::make_fcontext(bottom + stack_size, stack_size, &Impl::fiber_entry);
  f->name = "vmafuzz fiber " + std::to_string(all.size());
#if defined(VMAFUZZ_TSAN)
  f->ctx.tsan = __tsan_create_fiber(0);
  __tsan_set_fiber_name(f->ctx.tsan, f->name.c_str());
#endif
  all.push_back(f);
  fiber_count = all.size();
  return f;
}

VMAFUZZ_NO_TSAN void FiberRuntime::Impl::destroy_fiber(Fiber* f) {
#if defined(VMAFUZZ_ASAN)
  // An idle fiber that ran is parked in fiber_loop(): let it leave with a
  // never-resuming switch so ASan frees its fake stack (if it has one, i.e.
  // detect_stack_use_after_return=1). Fibers still in the middle of a work
  // item (a contract violation) or never entered are just dropped.
  if (f->finished) {
    f->retire = true;
    current = f;
    jump(&main, &f->ctx, kTsanNoSync);
    current = nullptr;
  }
  // Frames of a fiber abandoned mid-work leave poisoned redzones behind;
  // the next mapping at this address must not inherit them.
  ASAN_UNPOISON_MEMORY_REGION(f->map_base, f->map_size);
#endif
#if defined(VMAFUZZ_TSAN)
  __tsan_destroy_fiber(f->ctx.tsan);  // never the current one: we run on main
#endif
  if (::munmap(f->map_base, f->map_size) != 0) die("munmap of a fiber stack failed");
  delete f;
}

// First landing on a fiber's stack. Nothing here may be instrumented before
// finish_switch_fiber (inside landed()).
VMAFUZZ_UNINSTRUMENTED void FiberRuntime::Impl::fiber_entry(ctx::transfer_t t) {
  landed(t, nullptr);  // no fake stack yet
  FiberRuntime* rt = static_cast<Ctx*>(t.data)->rt;
  fiber_loop(rt->impl_->current);  // the switcher made us current
}

VMAFUZZ_NO_TSAN void FiberRuntime::Impl::fiber_loop(Fiber* self) noexcept {
  Impl& rt = *self->ctx.rt->impl_;
  for (;;) {
    // Ordered after everything the main context did before we first ran,
    // whoever switched us in (switch_to()).
#if defined(VMAFUZZ_TSAN)
    __tsan_acquire(&rt.main_token);
#endif
    self->fn(self->arg);
    self->finished = true;
    self->next_idle = rt.idle;
    rt.idle = self;
    rt.current = nullptr;
    // Report done, synchronising: the next execution reusing this memory
    // (started later by main) is ordered after this one.
    jump(&self->ctx, &rt.main, kTsanSync);
    if (self->retire) jump(&self->ctx, &rt.main, kTsanNoSync, /*from_resumes=*/false);
  }
}

VMAFUZZ_NO_TSAN Fiber* FiberRuntime::start(FiberFn fn, void* arg) {
  Impl& rt = *impl_;
  assert(rt.current == nullptr && "start() is for the main context");
  assert(fn != nullptr);
  Fiber* f = rt.idle;
  if (f != nullptr) {
    rt.idle = f->next_idle;
    f->next_idle = nullptr;
  } else {
    f = rt.create_fiber();
  }
  f->fn = fn;
  f->arg = arg;
  f->finished = false;
  f->fresh = true;
  ++rt.fresh_count;
  return f;
}

VMAFUZZ_NO_TSAN void FiberRuntime::set_name(Fiber* f, const char* name) {
#if defined(VMAFUZZ_TSAN)
  __tsan_set_fiber_name(f->ctx.tsan, name);
#else
  (void)f;
  (void)name;
#endif
}

VMAFUZZ_NO_TSAN void FiberRuntime::switch_to(Fiber* to) {
  Impl& rt = *impl_;
  assert(to != nullptr && to->ctx.rt == this);
  assert(!to->finished && "switch_to() a finished fiber");
  assert(to != rt.current && "switch_to() the running fiber");
  Ctx* from = rt.current != nullptr ? &rt.current->ctx : &rt.main;
  unsigned flags = kTsanNoSync;
#if defined(VMAFUZZ_TSAN)
  // A work item that has not run yet must see all of main's set-up, even if
  // another fiber switches it in: publish main's clock (fiber_loop acquires).
  if (rt.current == nullptr && rt.fresh_count > 0) __tsan_release(&rt.main_token);
#endif
  if (to->fresh) {
    to->fresh = false;
    --rt.fresh_count;
    // From main: a synchronising switch. From another fiber: no edge from
    // that fiber (a concurrent task) - the work item acquires main's clock
    // as of main's last switch away instead (above and fiber_loop()).
    if (rt.current == nullptr) flags = kTsanSync;
  }
  rt.current = to;
  jump(from, &to->ctx, flags);
}

VMAFUZZ_NO_TSAN void FiberRuntime::switch_to_main() {
  Impl& rt = *impl_;
  Fiber* self = rt.current;
  assert(self != nullptr && "switch_to_main() from the main context");
  rt.current = nullptr;
  jump(&self->ctx, &rt.main, kTsanNoSync);
}

VMAFUZZ_NO_TSAN bool FiberRuntime::in_fiber() const { return impl_->current != nullptr; }

VMAFUZZ_NO_TSAN Fiber* FiberRuntime::current() const { return impl_->current; }

VMAFUZZ_NO_TSAN bool FiberRuntime::finished(const Fiber* f) { return f->finished; }

VMAFUZZ_NO_TSAN size_t FiberRuntime::pooled_fibers() const { return impl_->fiber_count; }

}  // namespace vmafuzz::fuzz
