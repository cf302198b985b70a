// refcount.h - refcount_t with the kernel's semantics
// (models include/linux/refcount.h and lib/refcount.c refcount_warn_saturate()).
//
// An atomic int. Misuse (addition on 0, underflow, overflow) saturates the
// counter at REFCOUNT_SATURATED and reports; it never aborts. Note that
// REFCOUNT_SATURATED (0xC0000000) has bit 30 set, so to the VMA lock a
// saturated vm_refcnt looks like an excluding writer.
#pragma once

#include <climits>

#include "core/shared_word.h"

namespace vmafuzz::core {

inline constexpr int REFCOUNT_MAX = INT_MAX;
inline constexpr int REFCOUNT_SATURATED = INT_MIN / 2;

enum refcount_saturation_type {
  REFCOUNT_ADD_NOT_ZERO_OVF,
  REFCOUNT_ADD_OVF,
  REFCOUNT_ADD_UAF,
  REFCOUNT_SUB_UAF,
  REFCOUNT_DEC_LEAK,  // only via refcount_warn_saturate(): the model has no refcount_dec()
};

struct refcount_t {
  explicit refcount_t(SharedWordKind kind = SharedWordKind::kOther) : refs(kind, 0) {}
  shared_word<int> refs;
};

// refcount_warn_saturate(): store REFCOUNT_SATURATED, then report by type.
void refcount_warn_saturate(refcount_t* r, refcount_saturation_type t);

// refcount_read(): relaxed load, as unsigned. Scheduling point.
unsigned int refcount_read(const refcount_t* r);
// The writer's wait condition reads with acquire (the kernel relies on a control
// dependency, which C++ lacks; see docs/MODEL.md). Scheduling point.
unsigned int refcount_read_acquire(const refcount_t* r);

// refcount_set() (relaxed) / refcount_set_release() (release). Scheduling point.
void refcount_set(refcount_t* r, int n);
void refcount_set_release(refcount_t* r, int n);

// __refcount_add_not_zero(): relaxed CAS loop (the model loads with acquire so
// that a caller that sees 0 and then reuses the object is ordered after the
// final decrement; docs/MODEL.md). Return: old != 0; *oldp = old. Reports
// refcount_add_not_zero_ovf if old < 0 or old + i < 0.
[[nodiscard]] bool __refcount_add_not_zero(int i, refcount_t* r, int* oldp);
[[nodiscard]] bool refcount_add_not_zero(int i, refcount_t* r);

// __refcount_add_not_zero_limited_acquire(): fails on 0 (*oldp = 0) or if the
// result would exceed `limit` (no store, *oldp = old); otherwise CAS with
// acquire on success. Same saturation check as above.
[[nodiscard]] bool __refcount_add_not_zero_limited_acquire(int i, refcount_t* r, int* oldp, int limit);
[[nodiscard]] bool __refcount_inc_not_zero_limited_acquire(refcount_t* r, int* oldp, int limit);

// refcount_inc()/refcount_add(): unconditional, reports addition on 0 and overflow.
void refcount_add(int i, refcount_t* r);
void refcount_inc(refcount_t* r);

// __refcount_sub_and_test(): fetch_sub with release, acquire when the result is
// zero (the model uses acq_rel: ThreadSanitizer ignores standalone fences).
// Return: true iff old == i > 0. Reports refcount_sub_uaf if old <= 0 or old < i.
[[nodiscard]] bool __refcount_sub_and_test(int i, refcount_t* r, int* oldp);
[[nodiscard]] bool refcount_sub_and_test(int i, refcount_t* r);
[[nodiscard]] bool __refcount_dec_and_test(refcount_t* r, int* oldp);
[[nodiscard]] bool refcount_dec_and_test(refcount_t* r);

namespace detail {
// Two's-complement addition: the kernel marks these helpers __signed_wrap.
__attribute__((no_sanitize("integer"))) constexpr int wrapping_add(int a, int b) {
  return static_cast<int>(static_cast<unsigned>(a) + static_cast<unsigned>(b));
}
}  // namespace detail

}  // namespace vmafuzz::core
