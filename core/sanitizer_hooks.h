// sanitizer_hooks.h - the sanitizer runtimes' entry points and hooks, declared
// once: which sanitizer a translation unit is built with, and the extern "C"
// functions and symbols of the runtimes (and of the coverage engines) that the
// fibers, the harness, the fuzz target, the tests, the native hammer and the
// switch benchmark call or define. Declarations only: what each of them calls
// is unchanged.
//
//   VMAFUZZ_TSAN  defined (1) when built with ThreadSanitizer
//   VMAFUZZ_ASAN  defined (1) when built with AddressSanitizer
// (clang's __has_feature, or GCC's __SANITIZE_THREAD__ / __SANITIZE_ADDRESS__).
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VMAFUZZ_TSAN 1
#endif
#if __has_feature(address_sanitizer)
#define VMAFUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(VMAFUZZ_TSAN)
#define VMAFUZZ_TSAN 1
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(VMAFUZZ_ASAN)
#define VMAFUZZ_ASAN 1
#endif

// A hook the runtime looks up by name (the *_default_options functions,
// __tsan_on_report): exported, kept, and itself never instrumented.
#define VMAFUZZ_SANITIZER_HOOK \
  __attribute__((visibility("default"), used, no_sanitize("address", "thread", "undefined")))

// Hooks a program may define; the runtime of its sanitizer calls them (in any
// other build they are plain, unused functions).
extern "C" {
const char* __asan_default_options();
const char* __ubsan_default_options();
const char* __tsan_default_options();
}

#if defined(VMAFUZZ_TSAN)
// Fibers (__tsan_create_fiber, __tsan_switch_to_fiber, ...), __tsan_acquire/release.
#include <sanitizer/tsan_interface.h>
extern "C" {
// Not in clang 14's public headers:
// per-thread (per-fiber) ignoring of memory accesses (tsan_interface_ann.cpp),
void __tsan_ignore_thread_begin();
void __tsan_ignore_thread_end();
// the end of an AnnotateIgnoreSyncBegin (fuzz/harness_section.h pairs it with
// __tsan_mutex_post_divert, which is in the public header),
void AnnotateIgnoreSyncEnd(const char* file, int line);
void AnnotateBenignRaceSized(const char* file, int line, const volatile void* mem, size_t size, const char* desc);
// the debugging interface (tsan_debugging.cpp): a report's kind,
int __tsan_get_report_data(void* report, const char** description, int* count, int* stack_count, int* mop_count,
                           int* loc_count, int* mutex_count, int* thread_count, int* unique_tid_count,
                           void** sleep_trace, uintptr_t trace_size);
// and the hook TSan calls after printing a report, before it dies.
void __tsan_on_report(const void* report);

// libFuzzer's inline 8-bit counters (one section for the whole binary; the
// linker defines these bounds, hence weak: absent without the engine) and the
// stack-depth word the coverage instrumentation updates at function entry (a
// TLS word of the OS thread, defined by the TSan runtime or libFuzzer).
__attribute__((weak)) extern uint8_t __start___sancov_cntrs[];
__attribute__((weak)) extern uint8_t __stop___sancov_cntrs[];
extern __thread uintptr_t __sancov_lowest_stack;
}
#endif

#if defined(VMAFUZZ_ASAN)
// Fibers: __sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber.
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__AFL_COMPILER)
// AFL++'s compiler runtime: its trace-pc-guard entry points (fuzz/target_support.cpp).
extern "C" void __sanitizer_cov_trace_pc_guard_init(uint32_t* start, uint32_t* stop);
extern "C" void __sanitizer_cov_trace_pc_guard(uint32_t* guard);
#endif
