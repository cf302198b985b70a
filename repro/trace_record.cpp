// trace_record.cpp - real threads, one global logical clock, per-thread buffers.
#include "repro/trace_record.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "core/callers.h"
#include "core/kernel.h"
#include "core/mmap_lock.h"
#include "core/native_platform.h"
#include "core/report.h"
#include "core/task.h"
#include "fuzz/ops.h"
#include "fuzz/scenario_codec.h"

namespace vmafuzz::repro {
namespace {

using fuzz::RecordedEvent;

struct RawEvent {
  RecordedEvent e;
  const void* word = nullptr;
};

// The task index and buffer of the recording thread.
struct ThreadState {
  int task = -1;
  int op = 0;
  std::vector<RawEvent>* buffer = nullptr;
  std::minstd_rand rng;
  int jitter = 0;
};
thread_local ThreadState t_state;

class Recorder final : public core::AccessRecorder {
 public:
  void on_scheduling_point(core::task_struct* /*current*/, const core::SharedAccess& a) override {
    ThreadState& ts = t_state;
    if (ts.task < 0) return;  // set-up and teardown by the main thread
    if (ts.jitter > 0 && ts.rng() % static_cast<unsigned>(ts.jitter) == 0) std::this_thread::yield();
    RawEvent r;
    r.e.clock = tick();
    r.e.kind = RecordedEvent::Kind::kAccess;
    r.e.task = ts.task;
    r.e.op = ts.op;
    r.e.word_kind = a.kind;
    r.e.access = a.access;
    r.word = a.word;
    ts.buffer->push_back(r);
  }
  uint64_t tick() { return clock_.fetch_add(1, std::memory_order_seq_cst) + 1; }

 private:
  std::atomic<uint64_t> clock_{0};
};

class Reports final : public core::ReportSink {
 public:
  void on_report(const core::CoreReport& r) override {
    std::lock_guard<std::mutex> g(mu_);
    reports.push_back("core report at site " + std::to_string(static_cast<int>(r.site)) + " by pid " +
                      std::to_string(r.pid));
  }
  std::mutex mu_;
  std::vector<std::string> reports;
};

}  // namespace

fuzz::Scenario random_setup(uint64_t seed) {
  // The program `vmafuzz hunt --seed SEED` draws first.
  std::mt19937_64 rng(seed);
  return fuzz::random_program(rng);
}

Recording record_run(const fuzz::Scenario& setup, const RecordOptions& options) {
  Recording out;
  out.trace.setup = setup;
  out.trace.setup.strategy = fuzz::StrategyKind::kSwitchList;
  out.trace.setup.pct_depth = fuzz::Scenario{}.pct_depth;
  out.trace.setup.choices.clear();
  const int n = static_cast<int>(setup.tasks.size());

  core::NativePlatform platform;
  Reports reports;
  Recorder recorder;
  std::vector<std::vector<RawEvent>> buffers(static_cast<size_t>(n));
  {
    core::Kernel kernel(platform, &reports);
    core::KernelScope scope(kernel);
    // Set-up as fuzz/execution.cpp does it, by this (unrecorded) thread.
    std::vector<core::mm_struct*> mms;
    for (const fuzz::MmSetup& m : setup.mms) {
      core::mm_struct* mm = core::mm_alloc();
      mms.push_back(mm);
      core::mmap_write_lock(mm);
      for (int slot = 0; slot < fuzz::kSlots; ++slot) {
        if (m.initial_vmas >> slot & 1) core::map_slot(mm, slot);
      }
      core::mmap_write_unlock(mm);
    }
    std::vector<core::task_struct*> tasks;
    for (int t = 0; t < n; ++t) tasks.push_back(kernel.task_create("T" + std::to_string(t)));
    std::vector<std::atomic<int>> mm_users(mms.size());
    for (const fuzz::TaskProgram& p : setup.tasks) mm_users[p.mm].fetch_add(1);
    platform.set_recorder(&recorder);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([&, t] {
        const fuzz::TaskProgram& p = setup.tasks[static_cast<size_t>(t)];
        platform.bind_current_thread(tasks[static_cast<size_t>(t)]);
        fuzz::OpContext ctx{{mms[p.mm], core::TaskLocks{}, nullptr}, &tasks};
        t_state = ThreadState{t, 0, &buffers[static_cast<size_t>(t)],
                              std::minstd_rand(static_cast<uint32_t>(options.seed * 8 + static_cast<uint64_t>(t) + 1)),
                              options.jitter};
        auto mark = [&](RecordedEvent::Kind kind, int op, fuzz::OpOutcome outcome) {
          RawEvent r;
          r.e.clock = recorder.tick();
          r.e.kind = kind;
          r.e.task = t;
          r.e.op = op;
          r.e.outcome = outcome;
          t_state.buffer->push_back(r);
        };
        // All threads start together: the interleavings come from the hardware.
        ready.fetch_add(1);
        while (ready.load() < n) std::this_thread::yield();
        for (size_t i = 0; i < p.ops.size(); ++i) {
          // As the sim's task loop: a task with SIGKILL pending dies here.
          if (core::fatal_signal_pending(tasks[static_cast<size_t>(t)])) break;
          mark(RecordedEvent::Kind::kBegin, static_cast<int>(i), fuzz::OpOutcome::kDone);
          const fuzz::OpOutcome o = fuzz::run_op(ctx, p.ops[i]);
          mark(RecordedEvent::Kind::kEnd, static_cast<int>(i), o);
          t_state.op = static_cast<int>(i) + 1;
        }
        fuzz::release_held_locks(ctx);
        if (mm_users[p.mm].fetch_sub(1) == 1) core::exit_mm(ctx.mm, nullptr);
        t_state = ThreadState{};
      });
    }
    for (std::thread& th : threads) th.join();
    platform.set_recorder(nullptr);
  }
  out.reports = reports.reports;

  // Merge by clock; name words by first appearance (stack words by task).
  std::vector<RawEvent> all;
  for (auto& b : buffers) all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end(), [](const RawEvent& a, const RawEvent& b) { return a.e.clock < b.e.clock; });
  std::map<const void*, uint32_t> ids;
  for (RawEvent& r : all) {
    if (r.e.kind == RecordedEvent::Kind::kAccess) {
      if (r.e.word_kind == core::SharedWordKind::kRwsemWaiter) {
        r.e.word = fuzz::kTraceStackWord | static_cast<uint32_t>(r.e.task);
      } else {
        auto [it, fresh] = ids.emplace(r.word, static_cast<uint32_t>(ids.size() + 1));
        r.e.word = it->second;
      }
    }
    out.trace.events.push_back(r.e);
  }
  return out;
}

}  // namespace vmafuzz::repro
