// native_hammer.cpp - the "kernel developer's baseline" of the bug-finding
// benchmark: real threads run the stress workload (stress_workload.h) on the
// native platform, round after round with catalogued bugs injected, until the
// first finding or a time cap. Meant for a -fsanitize=thread build
// (bench/run_bug_bench.py builds build/bench-native-tsan), so the findings
// are what such a developer would see: a ThreadSanitizer report (exit 66 from
// the runtime), a WARN (core report), a payload or lockdep-style check
// failing, or the hung-task detector firing (exit 3).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/inject.h"
#include "core/kernel.h"
#include "core/native_platform.h"
#include "core/report.h"
#include "core/task.h"
#include "core/sanitizer_hooks.h"
#include "core/inject_option.h"
#include "stress/stress_workload.h"

namespace {

using namespace vmafuzz;
using Clock = std::chrono::steady_clock;

constexpr int kExitFinding = 3;
constexpr int kExitUsage = 64;  // EX_USAGE

// Set before any other thread starts; read by the watchdog, the report sink
// and the TSan report hook.
Clock::time_point g_start;
std::atomic<int> g_round{0};
std::atomic<uint64_t> g_progress{0};  // the workload's heartbeat

double elapsed() { return std::chrono::duration<double>(Clock::now() - g_start).count(); }

// One finding ends the process at once, because the other threads may be
// stuck or still hammering; a second finder waits on the lock until then.
// exit_group rather than _exit: TSan intercepts _exit and would report the
// round's finished but unjoined threads as a thread leak (a second finding,
// exit 66).
std::mutex g_finding_lock;
[[noreturn]] void finding(std::string_view kind, std::string_view detail) {
  g_finding_lock.lock();
  fmt::print(stderr, "native_hammer: FINDING {}: {} after {:.1f}s, round {}\n", kind, detail, elapsed(),
             g_round.load());
  std::fflush(stderr);
  syscall(SYS_exit_group, kExitFinding);
  __builtin_unreachable();
}

// panic_on_warn: the first core report is the finding (after a WARN the
// round may well hang, which would hide it). Must not call back into the
// Kernel: the report may come from under its allocator lock.
class PanicSink final : public core::ReportSink {
 public:
  void on_report(const core::CoreReport& r) override {
    const core::ReportSiteInfo& info = core::report_site_info(r.site);
    finding("core report", fmt::format("{} ({}: {}) in pid {}", info.name, core::report_class_name(info.report_class),
                                       info.message, r.pid));
  }
};

// What the watchdog may look at: the running round's Kernel and Shared,
// published by the main thread for the round's duration.
struct Monitor {
  std::mutex mu;
  core::Kernel* kernel = nullptr;
  const stress::Shared* shared = nullptr;
};
Monitor g_monitor;

// The hung-task detector's report: the tasks asleep in schedule().
// Context: g_monitor.mu held.
std::string blocked_tasks(double hang_seconds) {
  std::string who;
  if (core::Kernel* k = g_monitor.kernel) {
    for (int pid = 0; pid < k->task_count(); ++pid) {
      const core::task_struct* t = k->task(pid);
      const unsigned state = t->__state.peek(std::memory_order_seq_cst);
      if (state == core::TASK_RUNNING) continue;
      who += fmt::format("{}{}:{} ({})", who.empty() ? "" : ", ", t->comm, pid,
                         state == core::TASK_KILLABLE ? "TASK_KILLABLE" : "TASK_UNINTERRUPTIBLE");
    }
  }
  return fmt::format("no progress for {}s; {}", hang_seconds,
                     who.empty() ? "no task asleep (busy wait or livelock)" : "blocked: " + who);
}

// No progress for hang_seconds is a hung task: under real threads a lost
// wake-up or a deadlock looks like this. It also polls the payload checks, so
// a torn read is reported even if the round then hangs.
void watchdog(double hang_seconds, const std::atomic<bool>& done) {
  uint64_t last = g_progress.load();
  Clock::time_point last_change = Clock::now();
  while (!done.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    {
      std::lock_guard<std::mutex> g(g_monitor.mu);
      if (g_monitor.shared) {
        if (const std::string f = stress::payload_failure(*g_monitor.shared); !f.empty()) finding("payload check", f);
      }
    }
    const uint64_t now = g_progress.load();
    if (now != last) {
      last = now;
      last_change = Clock::now();
      continue;
    }
    if (std::chrono::duration<double>(Clock::now() - last_change).count() >= hang_seconds) {
      std::lock_guard<std::mutex> g(g_monitor.mu);
      finding("hung task", blocked_tasks(hang_seconds));
    }
  }
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

// The gtest's two rounds, alternately: writer 1 killed late, then early.
stress::StressConfig round_config(int round) {
  stress::StressConfig cfg = round % 2 == 0
                                 ? stress::StressConfig{.faults_per_reader = 20000, .ops_per_writer = 3000,
                                                        .kill_writer_after_ops = 2000}
                                 : stress::StressConfig{.faults_per_reader = 5000, .ops_per_writer = 3000,
                                                        .kill_writer_after_ops = 10};
  cfg.caller_bugs = true;  // B08 too: injected in a caller (core/callers.cpp), not in the lock
  return cfg;
}

stress::StressSeeds round_seeds(uint64_t seed, int round) {
  uint64_t x = splitmix64(seed) ^ static_cast<uint64_t>(round);
  stress::StressSeeds seeds;
  for (uint32_t& w : seeds.writer) w = static_cast<uint32_t>(x = splitmix64(x));
  for (uint32_t& r : seeds.reader) r = static_cast<uint32_t>(x = splitmix64(x));
  return seeds;
}

// One round on a fresh Kernel; returns its faults. Findings do not return.
uint64_t run_one_round(core::BugSet bugs, uint64_t seed, int round) {
  core::NativePlatform platform;
  PanicSink sink;
  core::Kernel k(platform, &sink);
  k.set_injected_bugs(bugs);
  core::KernelScope scope(k);
  stress::Shared s;
  s.progress = &g_progress;
  stress::setup_mms(s);
  const stress::StressConfig cfg = round_config(round);
  {
    std::lock_guard<std::mutex> g(g_monitor.mu);
    g_monitor.kernel = &k;
    g_monitor.shared = &s;
  }
  const stress::RoundResult r = stress::run_round(platform, s, cfg, round_seeds(seed, round));
  {
    std::lock_guard<std::mutex> g(g_monitor.mu);
    g_monitor.kernel = nullptr;
    g_monitor.shared = nullptr;
  }
  if (const std::string f = stress::payload_failure(s); !f.empty()) finding("payload check", f);
  if (const std::string f = stress::teardown_failure(k, s, cfg, r); !f.empty()) finding("round-end check", f);
  return s.faults_locked.load() + s.faults_fallback.load();
}

std::string known_bugs() {
  std::string names;
  for (int i = 0; i < static_cast<int>(core::Bug::kCount); ++i) {
    names += fmt::format("{}{}", names.empty() ? "" : ", ", core::bug_info(static_cast<core::Bug>(i)).name);
  }
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  vmafuzz::InjectArgs inject;
  uint64_t seed = 1;
  double time_cap = 10;
  double hang_seconds = 2;
  bool quiet = false;

  CLI::App app(
      "native_hammer: real threads hammer the per-VMA lock (the stress workload) on the native platform, with "
      "catalogued bugs injected, until the first finding or --time. Build it with -fsanitize=thread.",
      "native_hammer");
  add_inject_option(app, inject,
                    {"inject catalogued bugs (repeatable)", "NAME[,NAME...]", "", fmt::format(" (known: {})", known_bugs())});
  // Plain messages: CLI11's PositiveNumber prints a double's range, and its
  // unsigned conversion wraps "-3" around.
  const CLI::Validator number([](std::string& v) -> std::string {
    return v.empty() || v.find_first_not_of("0123456789") != std::string::npos ? "must be a number" : "";
  }, "");
  const CLI::Validator positive([](std::string& v) -> std::string {
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    return end == v.c_str() || *end != '\0' || !(d > 0) ? "must be a positive number of seconds" : "";
  }, "");
  app.add_option("--seed", seed, "base of every round's thread seeds")
      ->type_name("N")
      ->capture_default_str()
      ->check(number);
  app.add_option("--time", time_cap, "stop without a finding after this long (checked between rounds)")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->check(positive);
  app.add_option("--hang-seconds", hang_seconds, "no progress for this long is a hung task")
      ->type_name("S")
      ->capture_default_str()
      ->check(positive);
  app.add_flag("--quiet", quiet, "only the final line (or the finding)");
  app.footer(fmt::format(
      "Bugs: {}\n\nExit codes:\n  0   no finding before --time\n  3   finding (one 'FINDING' line on stderr)\n"
      "  64  bad command line\n  66  ThreadSanitizer report (TSan builds; its report is on stderr)",
      known_bugs()));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    fmt::print(stderr, "native_hammer: error: {}\nRun 'native_hammer --help' for usage.\n", e.what());
    return kExitUsage;
  }

  const core::BugSet bugs = inject.bugs();

  g_start = Clock::now();
  if (!quiet) {
    fmt::print("native_hammer: injecting {}; seed {}; up to {}s, hung task after {}s\n",
               inject.names().empty() ? "nothing (correct model)" : fmt::format("{}", fmt::join(inject.names(), ",")), seed, time_cap,
               hang_seconds);
    std::fflush(stdout);
  }
  std::atomic<bool> done{false};
  std::thread dog(watchdog, hang_seconds, std::cref(done));
  uint64_t faults = 0;
  int rounds = 0;
  double next_line = 1;  // a progress line a second (a round is a fraction of one)
  while (elapsed() < time_cap) {
    g_round.store(rounds);
    faults += run_one_round(bugs, seed, rounds);
    g_progress.fetch_add(1);
    ++rounds;
    if (!quiet && elapsed() >= next_line) {
      fmt::print("native_hammer: {:.1f}s: {} rounds, {} faults\n", elapsed(), rounds, faults);
      std::fflush(stdout);
      next_line = elapsed() + 1;
    }
  }
  done.store(true);
  dog.join();
  fmt::print("native_hammer: no finding in {:.1f}s ({} rounds, {} faults)\n", elapsed(), rounds, faults);
  return 0;
}

#if defined(VMAFUZZ_TSAN)
extern "C" {
// The first report ends the run with a code of its own (the benchmark tells
// a TSan finding from the hammer's by it); no sleep at exit.
VMAFUZZ_SANITIZER_HOOK const char* __tsan_default_options() { return "halt_on_error=1:exitcode=66:atexit_sleep_ms=0"; }

// Called after TSan printed its report, before it dies: add the hammer's
// FINDING line (when and in which round). Ignore this thread's accesses from
// here on, or the line's own code could race and report again from inside
// the report. Plain snprintf and write: no allocation, no locks.
void __tsan_on_report(const void* report) {
  __tsan_ignore_thread_begin();
  const char* description = "report";
  int count = 0, stacks = 0, mops = 0, locs = 0, mutexes = 0, threads = 0, tids = 0;
  void* sleep_trace = nullptr;
  __tsan_get_report_data(const_cast<void*>(report), &description, &count, &stacks, &mops, &locs, &mutexes, &threads,
                         &tids, &sleep_trace, 0);
  char line[256];
  const int n = std::snprintf(line, sizeof line, "native_hammer: FINDING ThreadSanitizer: %s after %.1fs, round %d\n",
                              description, elapsed(), g_round.load());
  if (n > 0) (void)!write(2, line, static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1);
}
}  // extern "C"
#endif
