// target_support.cpp - environment options, engine feature maps, report-then-abort.
#include "fuzz/target_support.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/inject.h"

#if defined(__AFL_COMPILER)
// AFL++'s compiler runtime (afl-compiler-rt, which afl-clang-fast++ links into
// every binary) owns the shared map. We do not name its map pointer
// (__afl_area_ptr): afl-clang-fast's pass creates that global in every module
// it instruments, and a declaration of ours in the same module makes LLVM
// rename the pass's copy to an undefined __afl_area_ptr.N. Instead we use the
// runtime's two trace-pc-guard entry points: guard_init numbers a block of
// guards of our own as map slots after the code edges (so features never
// collide with code coverage, and the map size afl-fuzz learns includes
// them), and trace_pc_guard bumps the slot a guard names.
extern "C" void __sanitizer_cov_trace_pc_guard_init(uint32_t* start, uint32_t* stop);
extern "C" void __sanitizer_cov_trace_pc_guard(uint32_t* guard);
#endif

namespace vmafuzz::fuzz {
namespace {

// libFuzzer treats this section as extra coverage counters (one byte each).
constexpr size_t kExtraCounters = 1 << 16;
__attribute__((section("__libfuzzer_extra_counters"), used)) uint8_t g_extra_counters[kExtraCounters];

class LibFuzzerCounters final : public FeatureSink {
 public:
  void add(uint32_t feature) override {
    uint8_t& c = g_extra_counters[(feature ^ feature >> 16) % kExtraCounters];
    if (c != 255) ++c;
  }
};

#if defined(__AFL_COMPILER)
// One guard per feature slot. They must be numbered before the runtime reports
// its map size: with AFL_DUMP_MAP_SIZE that happens in its constructor of
// priority 5 (the forkserver handshake comes later, from the driver's main),
// hence a constructor priority below 5 (0-100 is reserved for runtimes, which
// is what this is).
constexpr size_t kAflFeatureSlots = 1 << 16;
uint32_t g_afl_guards[kAflFeatureSlots];

__attribute__((constructor(4))) void reserve_afl_feature_slots() {
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
  // outside afl-fuzz); slot 0 stays 0 only if AFL_INST_RATIO dropped it.
  static AflMap afl;
  if (g_afl_guards[0] != 0) return &afl;
#endif
  static LibFuzzerCounters libfuzzer;
  return &libfuzzer;
}

RunOptions options_from_environment(std::string_view target) {
  RunOptions options;
  if (const char* inject = std::getenv("VMAFUZZ_INJECT"); inject && *inject) {
    std::string_view rest(inject);
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view name = rest.substr(0, comma);
      const std::optional<core::Bug> bug = core::bug_from_name(name);
      if (!bug) {
        std::fprintf(stderr, "%.*s: VMAFUZZ_INJECT: unknown bug '%.*s' (vmafuzz list-bugs lists them)\n",
                     static_cast<int>(target.size()), target.data(), static_cast<int>(name.size()), name.data());
        std::exit(2);
      }
      options.inject.add(*bug);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  const char* features = std::getenv("VMAFUZZ_FEATURES");
  if (!(features && std::string_view(features) == "0")) options.features = engine_feature_sink();
  return options;
}

void report_and_abort(const Finding& finding, std::string_view replay) {
  const std::string report = render_finding(finding, replay);
  std::fputs(report.c_str(), stderr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace vmafuzz::fuzz
