// fuzz_nfc.cpp - the "no functional change" differential target: decode the
// input into a Scenario (the fuzz_vma_lock format and corpus), run it on two
// versions of the exclusive-lock code under the same schedule, and compare
// (fuzz/nfc.h). A divergence prints one report (oracle nfc.divergence, both
// runs side by side) and aborts; a finding both versions make alike is not
// this target's business (fuzz_vma_lock's) and passes.
// Environment (read once, at start-up):
//   VMAFUZZ_NFC_VERSIONS=A,B       the versions (core/lock_versions.inc;
//                                  default pre_series,post_series)
//   VMAFUZZ_INJECT=name[,name...]  inject catalogued bugs into both runs
//   VMAFUZZ_FEATURES=0             do not export interleaving features
//   VMAFUZZ_SCHEDULE_MUTATOR=0     libFuzzer's byte mutations only
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/nfc.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/target_support.h"

namespace {

using namespace vmafuzz::fuzz;

Execution* g_execution = nullptr;
RunOptions g_options;
vmafuzz::core::LockVersion g_a = vmafuzz::core::LockVersion::pre_series;
vmafuzz::core::LockVersion g_b = vmafuzz::core::LockVersion::post_series;
std::string g_replay;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  g_execution = new Execution();
  g_options = options_from_environment("fuzz_nfc");
  std::string versions = "pre_series,post_series";
  if (const char* v = std::getenv("VMAFUZZ_NFC_VERSIONS"); v && *v) versions = v;
  std::string error;
  const auto pair = parse_version_pair(versions, &error);
  if (!pair) {
    std::fprintf(stderr, "fuzz_nfc: VMAFUZZ_NFC_VERSIONS: %s\n", error.c_str());
    std::exit(2);
  }
  g_a = pair->first;
  g_b = pair->second;
  const char* inject = std::getenv("VMAFUZZ_INJECT");
  g_replay = (inject && *inject ? "VMAFUZZ_INJECT=" + std::string(inject) + " " : std::string()) +
             "vmafuzz diff <the crash file> --versions " + versions;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!g_execution) LLVMFuzzerInitialize(nullptr, nullptr);
  static Scenario scenario;  // its storage serves every input, as in fuzz_vma_lock
  decode_scenario_into(data, size, scenario);
  const NfcComparison c = compare_versions(*g_execution, scenario, g_a, g_b, g_options);
  if (c.divergence) {
    std::fputs(render_side_by_side(c).c_str(), stderr);
    report_and_abort(*c.divergence, g_replay);
  }
  return 0;
}

// The schedule-aware mutator (fuzz/target_support.h).
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  return mutate_scenario_bytes(data, size, max_size, seed);
}
