// refcount.cpp - refcount_t operations (include/linux/refcount.h, lib/refcount.c).
#include "core/refcount.h"
#include "core/inject.h"
#include "core/model_fn.h"

#include "core/report.h"

namespace vmafuzz::core {

using detail::wrapping_add;

void refcount_warn_saturate(refcount_t* r, refcount_saturation_type t) {
  VMAFUZZ_MODEL_FN();
  r->refs.store(REFCOUNT_SATURATED, std::memory_order_relaxed);
  switch (t) {
    case REFCOUNT_ADD_NOT_ZERO_OVF: core_report(ReportSite::refcount_add_not_zero_ovf, r); break;
    case REFCOUNT_ADD_OVF: core_report(ReportSite::refcount_add_ovf, r); break;
    case REFCOUNT_ADD_UAF: core_report(ReportSite::refcount_add_uaf, r); break;
    case REFCOUNT_SUB_UAF: core_report(ReportSite::refcount_sub_uaf, r); break;
    case REFCOUNT_DEC_LEAK: core_report(ReportSite::refcount_dec_leak, r); break;
  }
}

unsigned int refcount_read(const refcount_t* r) {
  VMAFUZZ_MODEL_FN();
  return static_cast<unsigned>(r->refs.load(std::memory_order_relaxed));
}

unsigned int refcount_read_acquire(const refcount_t* r) {
  VMAFUZZ_MODEL_FN();
  return static_cast<unsigned>(r->refs.load(std::memory_order_acquire));
}

void refcount_set(refcount_t* r, int n) { r->refs.store(n, std::memory_order_relaxed); }

void refcount_set_release(refcount_t* r, int n) { r->refs.store(n, std::memory_order_release); }

bool __refcount_add_not_zero(int i, refcount_t* r, int* oldp) {
  VMAFUZZ_MODEL_FN();
  int old = r->refs.load(std::memory_order_acquire);
  do {
    if (!old) break;
  } while (!r->refs.try_cmpxchg(old, wrapping_add(old, i), std::memory_order_relaxed,
                                std::memory_order_acquire));
  if (oldp) *oldp = old;
  if (old < 0 || wrapping_add(old, i) < 0) refcount_warn_saturate(r, REFCOUNT_ADD_NOT_ZERO_OVF);
  return old != 0;
}

bool refcount_add_not_zero(int i, refcount_t* r) { return __refcount_add_not_zero(i, r, nullptr); }

bool __refcount_add_not_zero_limited_acquire(int i, refcount_t* r, int* oldp, int limit) {
  VMAFUZZ_MODEL_FN();
  int old = r->refs.load(std::memory_order_relaxed);
  do {
    if (!old) break;
    // limit - old cannot overflow for limit >= 0 and old >= REFCOUNT_SATURATED.
    if (i > wrapping_add(limit, -old)) {
      if (oldp) *oldp = old;
      return false;
    }
    // BUG (B10, weak memory): the increment without its acquire.
  } while (!r->refs.try_cmpxchg(old, wrapping_add(old, i),
                                bug_injected(Bug::reader_inc_without_acquire) ? std::memory_order_relaxed
                                                                               : std::memory_order_acquire,
                                std::memory_order_relaxed));
  if (oldp) *oldp = old;
  if (old < 0 || wrapping_add(old, i) < 0) refcount_warn_saturate(r, REFCOUNT_ADD_NOT_ZERO_OVF);
  return old != 0;
}

bool __refcount_inc_not_zero_limited_acquire(refcount_t* r, int* oldp, int limit) {
  VMAFUZZ_MODEL_FN();
  return __refcount_add_not_zero_limited_acquire(1, r, oldp, limit);
}

void refcount_add(int i, refcount_t* r) {
  VMAFUZZ_MODEL_FN();
  int old = r->refs.fetch_add(i, std::memory_order_relaxed);
  if (!old) {
    refcount_warn_saturate(r, REFCOUNT_ADD_UAF);
  } else if (old < 0 || wrapping_add(old, i) < 0) {
    refcount_warn_saturate(r, REFCOUNT_ADD_OVF);
  }
}

void refcount_inc(refcount_t* r) { refcount_add(1, r); }

bool __refcount_sub_and_test(int i, refcount_t* r, int* oldp) {
  VMAFUZZ_MODEL_FN();
  int old = r->refs.fetch_sub(i, std::memory_order_acq_rel);
  if (oldp) *oldp = old;
  if (old > 0 && old == i) return true;
  if (old <= 0 || wrapping_add(old, -i) < 0) refcount_warn_saturate(r, REFCOUNT_SUB_UAF);
  return false;
}

bool refcount_sub_and_test(int i, refcount_t* r) { return __refcount_sub_and_test(i, r, nullptr); }
bool __refcount_dec_and_test(refcount_t* r, int* oldp) { return __refcount_sub_and_test(1, r, oldp); }
bool refcount_dec_and_test(refcount_t* r) { return __refcount_sub_and_test(1, r, nullptr); }

}  // namespace vmafuzz::core
