// shared_word.h - an atomic word of the model whose every access is a scheduling point.
//
// The model's shared words (vm_refcnt, vm_lock_seq, mm_lock_seq, the rcuwait
// task pointer, task state, the rwsem count) are shared_word<T>. Each operation
// first calls Platform::scheduling_point(), then performs the std::atomic
// operation with the memory order the caller names, then reports
// the values to the platform if it asked for them. The same code therefore runs
// on real threads (native) and on fibers (sim), and ThreadSanitizer sees the
// real memory orders in both.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "core/platform.h"
#include "core/sanitizer_hooks.h"

namespace vmafuzz::core {

namespace detail {
// The running Kernel's platform (set by KernelScope, see kernel.h).
extern Platform* g_running_platform;
// A model entry point ran outside a KernelScope: a harness bug (kernel.cpp).
// Checked by kernel(), current() and bug_injected() in builds with asserts.
[[noreturn]] void no_running_kernel();

template <class T>
uint64_t word_bits(T v) {
  if constexpr (std::is_pointer_v<T>) {
    return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(v));
  } else if constexpr (std::is_signed_v<T>) {
    return static_cast<uint64_t>(static_cast<int64_t>(v));
  } else {
    return static_cast<uint64_t>(v);
  }
}

// The model's reads of the harness's state at every access (the running
// platform, its flags, its vtable) go through these. Under ThreadSanitizer
// they are out of line and unchecked: every write to that state is made
// before the task fibers start or inside an ignored section, so their checks
// could never report, and cost about 4% of a tsan-libfuzzer run
// (docs/FUZZING.md, "Fuzzing under TSan directly"). Noinline: inlined, TSan's
// pass would check them in the caller. Elsewhere they inline to the same code.
#if defined(VMAFUZZ_TSAN) && __has_attribute(disable_sanitizer_instrumentation)
#define VMAFUZZ_HARNESS_READS __attribute__((disable_sanitizer_instrumentation, noinline))
// By value: by reference, the caller's copy would be a checked stack write.
using AccessArg = SharedAccess;
#else
#define VMAFUZZ_HARNESS_READS
using AccessArg = const SharedAccess&;
#endif
VMAFUZZ_HARNESS_READS inline void platform_scheduling_point(AccessArg a) { g_running_platform->scheduling_point(a); }
VMAFUZZ_HARNESS_READS inline bool platform_access_values() { return g_running_platform->access_values; }
VMAFUZZ_HARNESS_READS inline void platform_access_done(AccessArg a, uint64_t before, uint64_t after) {
  if (Platform* p = g_running_platform; p->access_values) p->access_done(a, before, after);
}
VMAFUZZ_HARNESS_READS inline bool platform_weak_loads() { return g_running_platform->weak_loads; }
VMAFUZZ_HARNESS_READS inline uint64_t platform_weak_load(AccessArg a, uint64_t latest) {
  return g_running_platform->weak_load(a, latest);
}
VMAFUZZ_HARNESS_READS inline void platform_raw_access(AccessArg a) {
  if (Platform* p = g_running_platform) p->raw_access(a);
}
VMAFUZZ_HARNESS_READS inline void platform_fence(uint8_t mo) { g_running_platform->fence(mo); }

// The inverse of word_bits().
template <class T>
T from_word_bits(uint64_t bits) {
  if constexpr (std::is_pointer_v<T>) {
    return reinterpret_cast<T>(static_cast<uintptr_t>(bits));
  } else if constexpr (std::is_same_v<T, bool>) {
    return bits != 0;
  } else {
    return static_cast<T>(bits);
  }
}
// a + b with two's-complement wrap-around, as std::atomic arithmetic does.
template <class T>
__attribute__((no_sanitize("integer"))) T wrapped_sum(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}
// a - b, likewise.
template <class T>
__attribute__((no_sanitize("integer"))) T wrapped_difference(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
}
}  // namespace detail

template <class T>
class shared_word {
  static_assert(std::atomic<T>::is_always_lock_free);

 public:
  constexpr explicit shared_word(SharedWordKind kind, T init = T{}) : value_(init), kind_(kind) {}
  shared_word(const shared_word&) = delete;
  shared_word& operator=(const shared_word&) = delete;

  T load(std::memory_order mo) const {
    const SharedAccess a = before(AccessKind::kLoad, mo);
    T v = value_.load(mo);
    // C11 mode: the platform may have the load read an older store.
    if (detail::platform_weak_loads()) {
      v = detail::from_word_bits<T>(detail::platform_weak_load(a, detail::word_bits(v)));
    }
    after(a, v, v);
    return v;
  }

  void store(T v, std::memory_order mo) {
    const SharedAccess a = before(AccessKind::kStore, mo);
    T old = traced() ? value_.load(std::memory_order_relaxed) : T{};
    value_.store(v, mo);
    after(a, old, v);
  }

  T exchange(T v, std::memory_order mo) {
    const SharedAccess a = before(AccessKind::kRmw, mo);
    T old = value_.exchange(v, mo);
    after(a, old, v);
    return old;
  }

  T fetch_add(T delta, std::memory_order mo) requires std::is_integral_v<T> {
    const SharedAccess a = before(AccessKind::kRmw, mo);
    T old = value_.fetch_add(delta, mo);
    after(a, old, detail::wrapped_sum(old, delta));
    return old;
  }

  T fetch_sub(T delta, std::memory_order mo) requires std::is_integral_v<T> {
    const SharedAccess a = before(AccessKind::kRmw, mo);
    T old = value_.fetch_sub(delta, mo);
    after(a, old, detail::wrapped_difference(old, delta));
    return old;
  }

  // The kernel's try_cmpxchg(): on failure `expected` is updated to the value seen.
  bool try_cmpxchg(T& expected, T desired, std::memory_order success, std::memory_order failure) {
    SharedAccess a = before(AccessKind::kCmpxchg, success);
    const T seen = expected;
    const bool ok = value_.compare_exchange_strong(expected, desired, success, failure);
    if (!ok) a.order = static_cast<uint8_t>(static_cast<uint8_t>(failure) | kCmpxchgFailed);
    after(a, ok ? seen : expected, ok ? desired : expected);
    return ok;
  }

  // Not a scheduling point. For the harness (oracles, traces, tests) and for
  // code inside a raw spinlock critical section, which the model treats as one
  // atomic step (see rwsem.h).
  T peek(std::memory_order mo = std::memory_order_relaxed) const { return value_.load(mo); }
  // The raw_* writes are reported to the platform (its happens-before
  // tracker) without being scheduling points, before the access: after a
  // release store the word may be gone (an rwsem waiter's flag on its stack).
  void raw_store(T v, std::memory_order mo) {
    raw_access(AccessKind::kStore, mo);
    value_.store(v, mo);
  }
  T raw_fetch_add(T delta, std::memory_order mo) requires std::is_integral_v<T> {
    raw_access(AccessKind::kRmw, mo);
    return value_.fetch_add(delta, mo);
  }

  SharedWordKind kind() const { return kind_; }

  // Puts a saved value back (Kernel::restore_state, between runs): no
  // access of the model, so nothing is told to any platform.
  void restore(T v) { value_.store(v, std::memory_order_relaxed); }

 private:
  SharedAccess before(AccessKind access, std::memory_order mo) const {
    const SharedAccess a{this, kind_, access, static_cast<uint8_t>(mo)};
    detail::platform_scheduling_point(a);
    return a;
  }
  void raw_access(AccessKind access, std::memory_order mo) const {
    detail::platform_raw_access(SharedAccess{this, kind_, access, static_cast<uint8_t>(mo)});
  }
  static bool traced() { return detail::platform_access_values(); }
  static void after(const SharedAccess& a, T before, T after) {
    detail::platform_access_done(a, detail::word_bits(before), detail::word_bits(after));
  }

  std::atomic<T> value_;
  const SharedWordKind kind_;
};

// std::atomic_thread_fence(mo), told to the running platform (the sim's
// happens-before tracker models it).
inline void core_fence(std::memory_order mo) {
  std::atomic_thread_fence(mo);
  detail::platform_fence(static_cast<uint8_t>(mo));
}

}  // namespace vmafuzz::core
