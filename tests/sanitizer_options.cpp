// sanitizer_options.cpp - default sanitizer options for every test binary.
//
// Linked into each test so the options hold however a test is started (ctest,
// by hand, in a debugger); *SAN_OPTIONS in the environment still override them.
// halt_on_error: a report fails the test instead of scrolling by.
#include "core/sanitizer_hooks.h"

extern "C" {

VMAFUZZ_SANITIZER_HOOK const char* __asan_default_options() {
  return "halt_on_error=1:print_stacktrace=1:detect_leaks=1:strict_init_order=1";
}

VMAFUZZ_SANITIZER_HOOK const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }

// atexit_sleep_ms=0: TSan otherwise sleeps a second at every exit, which the
// tests that run child processes pay many times over.
VMAFUZZ_SANITIZER_HOOK const char* __tsan_default_options() {
  return "halt_on_error=1:second_deadlock_stack=1:atexit_sleep_ms=0";
}

}  // extern "C"
