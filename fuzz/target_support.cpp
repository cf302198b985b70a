// target_support.cpp - environment options, engine feature maps, report-then-abort.
#include "fuzz/target_support.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/inject.h"

// AFL++'s compiler runtime (afl-clang-fast) exports its shared map.
extern "C" {
__attribute__((weak)) extern uint8_t* __afl_area_ptr;
__attribute__((weak)) extern uint32_t __afl_map_size;
}

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

class AflMap final : public FeatureSink {
 public:
  void add(uint32_t feature) override {
    const uint32_t size = &__afl_map_size && __afl_map_size ? __afl_map_size : (1u << 16);
    ++__afl_area_ptr[(feature ^ feature >> 16) % size];
  }
};

}  // namespace

FeatureSink* engine_feature_sink() {
#if defined(__AFL_COMPILER)
  static AflMap afl;
  if (&__afl_area_ptr && __afl_area_ptr) return &afl;
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
