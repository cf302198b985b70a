// switch_bench.cpp - cost of one context switch: FiberRuntime (boost.context
// fcontext) against glibc swapcontext, ping-ponging main <-> one fiber.
//
// One iteration is two switches (main -> fiber -> main); the "ns_per_switch"
// counter is the time per iteration / 2. swapcontext saves and restores the
// signal mask with a rt_sigprocmask syscall per switch; fcontext does not.
#include <benchmark/benchmark.h>
#include <ucontext.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fuzz/fiber.h"

#include "core/sanitizer_hooks.h"

namespace {

// The stop flags are written by main and polled by the fiber across
// non-synchronising switches: a race by TSan's rules, so read them unobserved
// (and without an atomic's interceptor cost inside the measured loop).
__attribute__((no_sanitize("thread"))) bool read_flag(const volatile bool* flag) { return *flag; }
__attribute__((no_sanitize("thread"))) void write_flag(volatile bool* flag) { *flag = true; }

using vmafuzz::fuzz::Fiber;
using vmafuzz::fuzz::FiberRuntime;

void set_counters(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations() * 2);  // items = switches
  // Per-iteration time / 2, in the benchmark's time unit (ns).
  state.counters["ns_per_switch"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 2,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// --- fcontext via FiberRuntime ----------------------------------------------

struct PingPong {
  FiberRuntime* rt;
  volatile bool stop = false;
};

void fiber_pong(void* p) {
  auto* pp = static_cast<PingPong*>(p);
  while (!read_flag(&pp->stop)) pp->rt->switch_to_main();
}

void BM_FcontextSwitch(benchmark::State& state) {
  FiberRuntime rt;
  PingPong pp{&rt};
  Fiber* f = rt.start(&fiber_pong, &pp);
  rt.switch_to(f);  // first entry (synchronising under TSan): not measured
  for (auto _ : state) rt.switch_to(f);  // main -> fiber -> main
  write_flag(&pp.stop);
  rt.switch_to(f);
  if (!FiberRuntime::finished(f)) state.SkipWithError("fiber did not finish");
  set_counters(state);
}
BENCHMARK(BM_FcontextSwitch);

// --- glibc ucontext ------------------------------------------------------------
// Under TSan annotated like FiberRuntime (a TSan fiber, no_sync switches), so
// the TSan/plain ratios of the two compare like with like.

ucontext_t g_main_uc, g_fiber_uc;
volatile bool g_uc_stop = false;
#if defined(VMAFUZZ_TSAN)
void* g_tsan_main = nullptr;
void* g_tsan_fiber = nullptr;
#endif

inline void uc_switch(ucontext_t* from, ucontext_t* to, bool to_fiber, bool sync = false) {
#if defined(VMAFUZZ_TSAN)
  __tsan_switch_to_fiber(to_fiber ? g_tsan_fiber : g_tsan_main, sync ? 0 : __tsan_switch_to_fiber_no_sync);
#else
  (void)to_fiber;
  (void)sync;
#endif
  swapcontext(from, to);
}

void uc_pong() {
  while (!read_flag(&g_uc_stop)) uc_switch(&g_fiber_uc, &g_main_uc, false);
  // Leave for good (never resumed; returning through uc_link would pop this
  // frame off main's TSan shadow stack).
  uc_switch(&g_fiber_uc, &g_main_uc, false, /*sync=*/true);
  std::abort();
}

void BM_SwapcontextSwitch(benchmark::State& state) {
  std::vector<char> stack(FiberRuntime::kDefaultStackSize);
  if (getcontext(&g_fiber_uc) != 0) std::abort();
  g_fiber_uc.uc_stack.ss_sp = stack.data();
  g_fiber_uc.uc_stack.ss_size = stack.size();
  g_fiber_uc.uc_link = nullptr;  // uc_pong never returns
  makecontext(&g_fiber_uc, &uc_pong, 0);
  g_uc_stop = false;
#if defined(VMAFUZZ_TSAN)
  g_tsan_main = __tsan_get_current_fiber();
  g_tsan_fiber = __tsan_create_fiber(0);
#endif
  uc_switch(&g_main_uc, &g_fiber_uc, true, /*sync=*/true);  // first entry: not measured
  for (auto _ : state) uc_switch(&g_main_uc, &g_fiber_uc, true);
  write_flag(&g_uc_stop);
  uc_switch(&g_main_uc, &g_fiber_uc, true);  // uc_pong leaves for good
#if defined(VMAFUZZ_TSAN)
  __tsan_destroy_fiber(g_tsan_fiber);
#endif
  set_counters(state);
}
BENCHMARK(BM_SwapcontextSwitch);

}  // namespace

BENCHMARK_MAIN();
