// sanitizer_context.cpp - where in the run a sanitizer report happened.
//
// Each sanitizer runtime calls a hook when it reports: ASan __asan_on_error
// (before its report), UBSan __ubsan_on_report (each diagnostic), TSan
// __tsan_on_report (after printing, before dying). Each prints one line
//   ==vmafuzz== <sanitizer> report at step N, task Tk in <op> (<model functions>)
// naming the scheduling step, the task (as .sched names it) and its
// operation, so that the report can be read against `vmafuzz explain`'s
// timeline of the same input. Under TSan the task fibers are also named
// "T<k> <op>#<i>" (SimPlatform::name_fiber), so both accesses of a race name
// their tasks. Linked wherever the sim platform is: sim_platform.cpp reads
// g_running_sim, defined here.
#include <cstdio>
#include <string_view>

#include "core/sanitizer_hooks.h"
#include "fuzz/sim_platform.h"

namespace vmafuzz::fuzz {

namespace detail {
const SimPlatform* g_running_sim = nullptr;
}  // namespace detail
using detail::g_running_sim;

void SimPlatform::describe_running_position(char* buf, size_t size) {
  const SimPlatform* p = g_running_sim;
  if (!p || p->current_ < 0 || p->setup_mode_) {
    std::snprintf(buf, size, "%s", p ? "in the scheduler (no task running)" : "outside a run");
    return;
  }
  const SimTask& t = p->tasks_[p->current_];
  const std::string_view op = p->operation(p->current_);
  char fns[256] = "";
  size_t used = 0;
  const int named = t.fn_stack.depth < core::ModelFnStack::kMax ? t.fn_stack.depth : core::ModelFnStack::kMax;
  for (int i = 0; i < named && used < sizeof fns; ++i) {
    const int n = std::snprintf(fns + used, sizeof fns - used, "%s%s", i ? " > " : "", t.fn_stack.fn[i]);
    if (n < 0) break;
    used += static_cast<size_t>(n);
  }
  if (op.empty()) {
    std::snprintf(buf, size, "step %llu, task T%d between operations%s%s%s", static_cast<unsigned long long>(p->step_),
                  t.index, named ? " (" : "", fns, named ? ")" : "");
  } else {
    std::snprintf(buf, size, "step %llu, task T%d in %.*s%s%s%s", static_cast<unsigned long long>(p->step_),
                  t.index, static_cast<int>(op.size()), op.data(), named ? " (" : "", fns, named ? ")" : "");
  }
}

namespace {

VMAFUZZ_SANITIZER_HOOK void print_context(const char* sanitizer) {
  char where[512];
  SimPlatform::describe_running_position(where, sizeof where);
  // "... report at step N, task Tk in OP", or "... report outside a run".
  const bool at_step = std::string_view(where).starts_with("step ");
  std::fprintf(stderr, "==vmafuzz== %s report %s%s\n", sanitizer, at_step ? "at " : "", where);
  std::fflush(stderr);
}

}  // namespace
}  // namespace vmafuzz::fuzz

extern "C" {

// Weak in their runtimes; in a build without that sanitizer nothing calls them.
VMAFUZZ_SANITIZER_HOOK void __asan_on_error() { vmafuzz::fuzz::print_context("AddressSanitizer"); }
VMAFUZZ_SANITIZER_HOOK void __ubsan_on_report() { vmafuzz::fuzz::print_context("UndefinedBehaviorSanitizer"); }

#if defined(VMAFUZZ_TSAN)
// After printing the report: the context line, then (as the fuzz targets
// need, docs/FUZZING.md "ThreadSanitizer") the reporting fiber's accesses
// are ignored from here on. Dying runs libFuzzer's death callback (it writes
// the crash-* file) on the reporting fiber; without this, the callback's own
// instrumented code races with the main context's, TSan reports again from
// inside its report and deadlocks.
VMAFUZZ_SANITIZER_HOOK void __tsan_on_report(const void*) {
  vmafuzz::fuzz::print_context("ThreadSanitizer");
  __tsan_ignore_thread_begin();
}
#endif

}  // extern "C"

#if defined(VMAFUZZ_TSAN)
namespace {
// Here, not in target_support.cpp: this file is linked into every program
// that runs the sim (sim_platform.cpp needs it), every fuzz target included.
// libFuzzer's inline 8-bit counters and the coverage stack-depth word (a TLS
// word of the OS thread, so every fiber writes the same one) are engine
// bookkeeping, written by every instrumented function on every fiber with no
// synchronisation, so clang 14's TSan (which instruments these stores) would
// report each of them as a race.
__attribute__((constructor)) void annotate_engine_counters() {
  uint8_t* const start = __start___sancov_cntrs;
  uint8_t* const stop = __stop___sancov_cntrs;
  if (start && stop > start) {
    AnnotateBenignRaceSized(__FILE__, __LINE__, start, static_cast<size_t>(stop - start),
                            "libFuzzer inline 8-bit counters");
  }
  AnnotateBenignRaceSized(__FILE__, __LINE__, &__sancov_lowest_stack, sizeof __sancov_lowest_stack,
                          "sanitizer coverage stack depth");
}
}  // namespace
#endif
