// target_options.cpp - the sanitizer defaults of every fuzz target and
// replay driver. A source of each executable (fuzz/CMakeLists.txt), not of a
// library: a target that calls nothing of a library's file (the parser
// targets call nothing of target_support.cpp) would not link the hook.
#include "core/sanitizer_hooks.h"

#if defined(VMAFUZZ_TSAN)
// ThreadSanitizer builds (the tsan preset's replay binaries, and the
// tsan-libfuzzer preset, which fuzzes under TSan directly). See
// docs/FUZZING.md, "ThreadSanitizer". __tsan_on_report (print the run
// position, then ignore the reporting fiber so that libFuzzer's death
// callback can write the crash file) and the engine counters' benign-race
// annotation are in fuzz/sanitizer_context.cpp, which every program running
// the sim links.
extern "C" {
// A TSan report must end the run, or the crash file is never written and the
// fiber stays ignored; TSAN_OPTIONS still overrides these. No sleep at exit:
// the replay binary runs once per corpus file in scripts.
// report_signal_unsafe=0: these programs install no signal handler; the only
// ones are libFuzzer's (crash, timeout, interrupt), which malloc by design,
// and TSan runs abort()'s SIGABRT handler as a signal handler. A finding's
// abort then reported "signal-unsafe call" (TSan's own stack unwinder in
// libFuzzer's crash handler), whose Die() ran libFuzzer's death callback,
// whose malloc reported again under the first report's lock: a hang, no
// crash file (docs/FUZZING.md, "ThreadSanitizer", item 4).
VMAFUZZ_SANITIZER_HOOK const char* __tsan_default_options() {
  return "halt_on_error=1:atexit_sleep_ms=0:report_signal_unsafe=0";
}
}  // extern "C"
#endif
