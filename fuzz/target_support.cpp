// target_support.cpp - environment options, engine feature maps, report-then-abort.
#include "fuzz/target_support.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/inject.h"
#include "core/sanitizer_hooks.h"
#include "fuzz/schedule_mutator.h"

// libFuzzer's own mutations, when the engine is libFuzzer (weak: AFL++'s
// driver and the replay driver do not define it, and never call the custom
// mutator either).
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size) __attribute__((weak));

#if defined(__AFL_COMPILER)
// AFL++'s compiler runtime (afl-compiler-rt, which afl-clang-fast++ links into
// every binary) owns the shared map. We do not name its map pointer
// (__afl_area_ptr): afl-clang-fast's pass creates that global in every module
// it instruments, and a declaration of ours in the same module makes LLVM
// rename the pass's copy to an undefined __afl_area_ptr.N. Instead we use the
// runtime's two trace-pc-guard entry points: guard_init numbers a block of
// guards of our own as map slots apart from the code edges' (so features
// never collide with code coverage, and the map size afl-fuzz learns includes
// them), and trace_pc_guard bumps the slot a guard names (both declared in
// core/sanitizer_hooks.h).
#endif

namespace vmafuzz::fuzz {
namespace {

// libFuzzer treats this section as extra coverage counters (one byte each).
// It clears and scans all of them after every execution, so they are sized
// to what a campaign reaches (a few thousand slots) with room against
// collisions, not to the hash range.
#ifndef VMAFUZZ_EXTRA_COUNTERS
#define VMAFUZZ_EXTRA_COUNTERS 16384
#endif
constexpr size_t kExtraCounters = VMAFUZZ_EXTRA_COUNTERS;
static_assert((kExtraCounters & (kExtraCounters - 1)) == 0, "a power of two: the slot is a mask, not a division");
__attribute__((section("__libfuzzer_extra_counters"), used)) uint8_t g_extra_counters[kExtraCounters];

class LibFuzzerCounters final : public FeatureSink {
 public:
  void add(uint32_t feature) override {
    uint8_t& c = g_extra_counters[(feature ^ feature >> 16) % kExtraCounters];
    if (c != 255) ++c;
  }
};

#if defined(__AFL_COMPILER)
// One guard per feature slot. They must be numbered before the runtime tells
// anyone its map size: afl-fuzz and afl-showmap ask with AFL_DUMP_MAP_SIZE,
// which the runtime answers (and exits) from its constructors, at priorities
// 2 (the instrumented module's guard init) to 5. Hence priority 1 (0-100 is
// reserved for runtimes, which is what this is): our slots are numbered
// first, the code edges after them. 32768 slots: a long campaign fills about
// two thousand, and slots plus code edges stay under 65536, the map size
// afl-showmap, afl-cmin and afl-tmin assume unless AFL_MAP_SIZE is set.
constexpr size_t kAflFeatureSlots = 1 << 15;
uint32_t g_afl_guards[kAflFeatureSlots];

__attribute__((constructor(1))) void reserve_afl_feature_slots() {
  __sanitizer_cov_trace_pc_guard_init(g_afl_guards, g_afl_guards + kAflFeatureSlots);
}

class AflMap final : public FeatureSink {
 public:
  // The runtime's increment wraps at 256 like its own edge counters.
  void add(uint32_t feature) override {
    __sanitizer_cov_trace_pc_guard(&g_afl_guards[(feature ^ feature >> 16) % kAflFeatureSlots]);
  }
};
#endif

}  // namespace

FeatureSink* engine_feature_sink() {
#if defined(__AFL_COMPILER)
  // The runtime is always linked and its map always valid (a private one
  // outside afl-fuzz); a numbered first guard says our constructor ran.
  static AflMap afl;
  if (g_afl_guards[0] != 0) return &afl;
#endif
  static LibFuzzerCounters libfuzzer;
  return &libfuzzer;
}

RunOptions options_from_environment(std::string_view target) {
  RunOptions options;
  if (const char* inject = std::getenv("VMAFUZZ_INJECT"); inject && *inject) {
    std::string unknown;
    const std::optional<core::BugSet> bugs = core::bugs_from_lists({inject}, &unknown);
    if (!bugs) {
      std::fprintf(stderr, "%.*s: VMAFUZZ_INJECT: unknown bug '%s' (vmafuzz list-bugs lists them)\n",
                   static_cast<int>(target.size()), target.data(), unknown.c_str());
      std::exit(2);
    }
    options.inject = *bugs;
  }
  const char* features = std::getenv("VMAFUZZ_FEATURES");
  if (!(features && std::string_view(features) == "0")) options.features = engine_feature_sink();
  return options;
}

#if defined(VMAFUZZ_TSAN)
namespace {
bool g_engine_work = false;  // main thread only
bool g_exit_registered = false;
}  // namespace

// As HarnessSection begins and ends: no pc, so nothing goes to TSan's stack
// depot (fuzz/harness_section.h).
void begin_engine_work() {
  if (g_engine_work) return;
  g_engine_work = true;
  if (!g_exit_registered) {
    g_exit_registered = true;
    std::atexit(end_engine_work);  // runs before TSan's exit check (registered at its start)
  }
  __tsan_mutex_post_divert(nullptr, 0);
  AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
}

void end_engine_work() {
  if (!g_engine_work) return;
  g_engine_work = false;
  __tsan_ignore_thread_end();
}
#else
void begin_engine_work() {}
void end_engine_work() {}
#endif

size_t mutate_scenario_bytes(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  static const bool schedule_mutator = [] {
    const char* v = std::getenv("VMAFUZZ_SCHEDULE_MUTATOR");
    return !(v && std::string_view(v) == "0");
  }();
  const bool engine_mutation = LLVMFuzzerMutate && (!schedule_mutator || seed % 4 == 0);
  if (!engine_mutation) {
    if (const size_t n = mutate_schedule_bytes(data, size, max_size, seed / 2)) return n;
  }
  return LLVMFuzzerMutate ? LLVMFuzzerMutate(data, size, max_size) : size;
}

// One abort function per oracle, so that a finding's stack names its oracle:
// ClusterFuzz (and OSS-Fuzz, ClusterFuzzLite) tells crashes apart by their
// type and top three frames, skipping abort, libc, sanitizer and libFuzzer
// frames and LLVMFuzzerTestOneInput; with one shared abort every vmafuzz
// finding would be one bug. Each stores its own number before aborting, so
// no two bodies are identical (identical code folding would merge them), is
// noinline, and makes no tail call (a jump to abort would drop the frame).
// tests/fuzz/crash_state_test.sh checks the frames as ASan prints them.
namespace oracle_fired {
namespace {
volatile int g_oracle = -1;  // for a debugger: which oracle fired
}  // namespace
#define VMAFUZZ_ORACLE(e, name, verdict, invariant, what)                        \
  [[noreturn]] __attribute__((noinline, disable_tail_calls)) void e() {          \
    g_oracle = static_cast<int>(OracleId::e);                                    \
    std::abort();                                                                \
  }
#include "fuzz/oracle_table.inc"
#undef VMAFUZZ_ORACLE
}  // namespace oracle_fired

__attribute__((disable_tail_calls)) void report_and_abort(const Finding& finding, std::string_view replay) {
  const std::string report = render_finding(finding, replay);
  std::fputs(report.c_str(), stderr);
  std::fflush(stderr);
  switch (finding.oracle) {
#define VMAFUZZ_ORACLE(e, name, verdict, invariant, what) \
  case OracleId::e: oracle_fired::e();
#include "fuzz/oracle_table.inc"
#undef VMAFUZZ_ORACLE
    case OracleId::kCount: break;
  }
  std::abort();
}

}  // namespace vmafuzz::fuzz
