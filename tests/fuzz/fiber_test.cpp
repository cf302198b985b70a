// fiber_test.cpp - the fiber layer: switching, pooling, stacks, and what
// ThreadSanitizer is (and is not) told about the switches.
//
// Under ThreadSanitizer every memory location touched by two fibers between
// non-synchronising switches is a race by design, so anything the tests
// observe across such switches is an atomic (EventLog) or is read only after
// the work item finished (a synchronising switch).
#include "fuzz/fiber.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/sanitizer_hooks.h"

// TSan's options (atexit_sleep_ms=0 spares the FiberTsanTest children a 1 s
// sleep at exit) come from tests/sanitizer_options.cpp.

namespace vmafuzz::fuzz {
namespace {

// Append-only event log, usable from any fiber without TSan reports.
class EventLog {
 public:
  void add(int e) {
    size_t i = n_.fetch_add(1, std::memory_order_relaxed);
    ASSERT_LT(i, kCap);
    ev_[i].store(e, std::memory_order_relaxed);
  }
  std::vector<int> events() const {
    std::vector<int> out;
    size_t n = n_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < n && i < kCap; ++i) out.push_back(ev_[i].load(std::memory_order_relaxed));
    return out;
  }

 private:
  static constexpr size_t kCap = 4096;
  std::array<std::atomic<int>, kCap> ev_{};
  std::atomic<size_t> n_{0};
};

// ---------------------------------------------------------------------------
// Switching preserves locals and runs exactly the target.

struct PingArgs {
  FiberRuntime* rt;
  int id;
  int rounds;
  EventLog* log;
  bool locals_ok = true;  // read by main only after the item finished
};

void ping(void* p) {
  auto* a = static_cast<PingArgs*>(p);
  // Locals of several kinds, all live across every switch.
  volatile int counter = 0;
  double acc = a->id + 0.5;
  std::array<int, 64> buf;
  buf.fill(a->id * 7);
  std::string name = "fiber-" + std::to_string(a->id) + std::string(40, 'x');  // heap-allocated
  for (int r = 0; r < a->rounds; ++r) {
    a->log->add(a->id * 1000 + r);
    counter = counter + 1;
    acc = acc * 1.5 + a->id;
    double expect_acc = acc;
    a->rt->switch_to_main();
    if (counter != r + 1 || acc != expect_acc) a->locals_ok = false;
    for (int v : buf)
      if (v != a->id * 7) a->locals_ok = false;
    if (name != "fiber-" + std::to_string(a->id) + std::string(40, 'x')) a->locals_ok = false;
  }
}

TEST(FiberRuntime, SwitchingBackAndForthPreservesEachFibersLocalsAndOrder) {
  FiberRuntime rt;
  EventLog log;
  constexpr int kFibers = 3, kRounds = 50;
  std::vector<PingArgs> args;
  for (int i = 0; i < kFibers; ++i) args.push_back(PingArgs{&rt, i + 1, kRounds, &log});
  std::vector<Fiber*> f;
  for (auto& a : args) f.push_back(rt.start(&ping, &a));

  std::vector<int> expected;
  // Round robin; the (kRounds+1)-th switch lets each fiber return.
  for (int r = 0; r <= kRounds; ++r) {
    for (int i = 0; i < kFibers; ++i) {
      ASSERT_FALSE(FiberRuntime::finished(f[i]));
      rt.switch_to(f[i]);
      if (r < kRounds) expected.push_back((i + 1) * 1000 + r);
    }
  }
  EXPECT_EQ(log.events(), expected);
  for (int i = 0; i < kFibers; ++i) {
    EXPECT_TRUE(FiberRuntime::finished(f[i]));
    EXPECT_TRUE(args[i].locals_ok) << "fiber " << i;
  }
}

struct StepArgs {
  FiberRuntime* rt;
  int id;
  int steps;
  EventLog* log;
};

void stepper(void* p) {
  auto* a = static_cast<StepArgs*>(p);
  for (int s = 0; s < a->steps; ++s) {
    a->log->add(a->id * 1000 + s);
    if (s + 1 < a->steps) a->rt->switch_to_main();
  }
}

TEST(FiberRuntime, EachSwitchRunsExactlyTheTargetUntilItSwitchesBack) {
  FiberRuntime rt;
  EventLog log;
  constexpr int kFibers = 5;
  std::vector<StepArgs> args;
  for (int i = 0; i < kFibers; ++i) args.push_back(StepArgs{&rt, i, 20 + 7 * i, &log});
  std::vector<Fiber*> f;
  for (auto& a : args) f.push_back(rt.start(&stepper, &a));

  std::mt19937 rng(12345);
  std::vector<int> done(kFibers, 0), expected;
  for (;;) {
    std::vector<int> live;
    for (int i = 0; i < kFibers; ++i)
      if (done[i] < args[i].steps) live.push_back(i);
    if (live.empty()) break;
    int i = live[std::uniform_int_distribution<size_t>(0, live.size() - 1)(rng)];
    rt.switch_to(f[i]);
    expected.push_back(i * 1000 + done[i]++);
    EXPECT_EQ(FiberRuntime::finished(f[i]), done[i] == args[i].steps);
  }
  EXPECT_EQ(log.events(), expected);
}

// ---------------------------------------------------------------------------
// Pooling.

void noop(void*) {}

TEST(FiberRuntime, AFinishedFiberIsReusedByTheNextStart) {
  FiberRuntime rt;
  Fiber* first = rt.start(&noop, nullptr);
  rt.switch_to(first);
  ASSERT_TRUE(FiberRuntime::finished(first));
  for (int i = 0; i < 10000; ++i) {
    Fiber* f = rt.start(&noop, nullptr);
    ASSERT_EQ(f, first) << "cycle " << i;
    ASSERT_FALSE(FiberRuntime::finished(f));
    rt.switch_to(f);
    ASSERT_TRUE(FiberRuntime::finished(f));
  }
  EXPECT_EQ(rt.pooled_fibers(), 1u);
}

void yield_once(void* p) { static_cast<FiberRuntime*>(p)->switch_to_main(); }

TEST(FiberRuntime, PooledFibersStayBoundedByTheWorkItemsInFlightOver10000Cycles) {
  FiberRuntime rt;
  constexpr int kInFlight = 3;
  for (int cycle = 0; cycle < 10000; ++cycle) {
    std::array<Fiber*, kInFlight> f;
    for (auto& x : f) x = rt.start(&yield_once, &rt);
    for (auto* x : f) rt.switch_to(x);  // each parks in switch_to_main()
    for (auto* x : f) {
      ASSERT_FALSE(FiberRuntime::finished(x));
      rt.switch_to(x);  // ...and now returns
      ASSERT_TRUE(FiberRuntime::finished(x));
    }
    ASSERT_EQ(rt.pooled_fibers(), static_cast<size_t>(kInFlight)) << "cycle " << cycle;
  }
}

// ---------------------------------------------------------------------------
// Nested switches: fiber to fiber, and back through main.

struct NestArgs {
  FiberRuntime* rt;
  EventLog* log;
  Fiber* a = nullptr;  // set by main after start(), before anything runs
  Fiber* b = nullptr;
};

void nest_a(void* p) {
  auto* n = static_cast<NestArgs*>(p);
  n->log->add(1);
  n->rt->switch_to(n->b);  // B's first entry, from a fiber
  n->log->add(4);
  n->rt->switch_to(n->b);
  n->log->add(7);
}

void nest_b(void* p) {
  auto* n = static_cast<NestArgs*>(p);
  n->log->add(2);
  n->rt->switch_to_main();  // not back to A: to main
  n->log->add(5);
  // Returning reports done to main, although A switched us in.
}

TEST(FiberRuntime, NestedSwitchesFiberToFiberToMainResumeWhereEachLeftOff) {
  FiberRuntime rt;
  EventLog log;
  NestArgs n{&rt, &log};
  n.a = rt.start(&nest_a, &n);
  n.b = rt.start(&nest_b, &n);

  rt.switch_to(n.a);  // A: 1, -> B: 2, -> main
  log.add(3);
  EXPECT_FALSE(FiberRuntime::finished(n.a));
  EXPECT_FALSE(FiberRuntime::finished(n.b));
  rt.switch_to(n.a);  // A resumes after its switch_to(B): 4, -> B: 5, returns -> main
  log.add(6);
  EXPECT_FALSE(FiberRuntime::finished(n.a));
  EXPECT_TRUE(FiberRuntime::finished(n.b));
  rt.switch_to(n.a);  // A resumes after its second switch_to(B): 7, returns
  log.add(8);
  EXPECT_TRUE(FiberRuntime::finished(n.a));
  EXPECT_EQ(log.events(), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
}

struct RingArgs {
  FiberRuntime* rt;
  EventLog* log;
  std::array<Fiber*, 3> f{};
  int laps;
};

template <int kId>
void ring_member(void* p) {
  auto* r = static_cast<RingArgs*>(p);
  for (int lap = 0; lap < r->laps; ++lap) {
    r->log->add(kId * 100 + lap);
    if (kId == 2)
      r->rt->switch_to_main();  // the last of the ring hands back to main
    else
      r->rt->switch_to(r->f[kId + 1]);
  }
}

TEST(FiberRuntime, ARingOfFibersHandingOverDirectlyKeepsEveryFibersPlace) {
  FiberRuntime rt;
  EventLog log;
  RingArgs r{&rt, &log, {}, 10};
  r.f[0] = rt.start(&ring_member<0>, &r);
  r.f[1] = rt.start(&ring_member<1>, &r);
  r.f[2] = rt.start(&ring_member<2>, &r);
  std::vector<int> expected;
  for (int lap = 0; lap < r.laps; ++lap) {
    rt.switch_to(r.f[0]);  // 0 -> 1 -> 2 -> main
    for (int id = 0; id < 3; ++id) expected.push_back(id * 100 + lap);
  }
  EXPECT_EQ(log.events(), expected);
  // Let them return: 0 finishes first, then 1, then 2 (each from main).
  for (int id = 0; id < 3; ++id) {
    EXPECT_FALSE(FiberRuntime::finished(r.f[id]));
    rt.switch_to(r.f[id]);
    EXPECT_TRUE(FiberRuntime::finished(r.f[id]));
  }
}

// ---------------------------------------------------------------------------
// current() and in_fiber().

struct WhoArgs {
  FiberRuntime* rt;
  Fiber* a = nullptr;
  Fiber* b = nullptr;
};

void who_a(void* p) {
  auto* w = static_cast<WhoArgs*>(p);
  EXPECT_TRUE(w->rt->in_fiber());
  EXPECT_EQ(w->rt->current(), w->a);
  w->rt->switch_to(w->b);
  EXPECT_TRUE(w->rt->in_fiber());  // B switched back to us
  EXPECT_EQ(w->rt->current(), w->a);
  w->rt->switch_to_main();
  EXPECT_TRUE(w->rt->in_fiber());
  EXPECT_EQ(w->rt->current(), w->a);
}

void who_b(void* p) {
  auto* w = static_cast<WhoArgs*>(p);
  EXPECT_TRUE(w->rt->in_fiber());
  EXPECT_EQ(w->rt->current(), w->b);
  w->rt->switch_to(w->a);
  EXPECT_TRUE(w->rt->in_fiber());  // main switched back to us
  EXPECT_EQ(w->rt->current(), w->b);
}

TEST(FiberRuntime, CurrentAndInFiberAreRightInEveryContext) {
  FiberRuntime rt;
  WhoArgs w{&rt};
  EXPECT_FALSE(rt.in_fiber());
  EXPECT_EQ(rt.current(), nullptr);
  w.a = rt.start(&who_a, &w);
  w.b = rt.start(&who_b, &w);
  EXPECT_FALSE(rt.in_fiber());  // started, not running
  EXPECT_EQ(rt.current(), nullptr);
  rt.switch_to(w.a);  // A -> B -> A -> main
  EXPECT_FALSE(rt.in_fiber());
  EXPECT_EQ(rt.current(), nullptr);
  rt.switch_to(w.b);  // B resumes, returns
  EXPECT_TRUE(FiberRuntime::finished(w.b));
  EXPECT_FALSE(rt.in_fiber());
  EXPECT_EQ(rt.current(), nullptr);
  rt.switch_to(w.a);  // A resumes, returns
  EXPECT_TRUE(FiberRuntime::finished(w.a));
  EXPECT_FALSE(rt.in_fiber());
  EXPECT_EQ(rt.current(), nullptr);
}

// ---------------------------------------------------------------------------
// Stacks.

struct DeepArgs {
  FiberRuntime* rt;
  uintptr_t top = 0;      // frame address of the work item's entry
  size_t target = 0;      // recurse until this many bytes of stack are in use
  size_t used = 0;        // reached
  int max_depth = 0;
  bool frames_ok = true;
  int frames_returned = 0;
};

__attribute__((noinline)) int recurse(DeepArgs* a, int depth) {
  volatile char buf[512];
  for (size_t i = 0; i < sizeof buf; ++i) buf[i] = static_cast<char>(depth * 31 + i);
  auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  int below;
  if (a->top - here < a->target) {
    below = recurse(a, depth + 1);
  } else {
    a->used = a->top - here;
    a->max_depth = depth;
    a->rt->switch_to_main();  // suspend at the deepest point
    below = 0;
  }
  for (size_t i = 0; i < sizeof buf; ++i)
    if (buf[i] != static_cast<char>(depth * 31 + i)) a->frames_ok = false;
  return below + 1;
}

void deep(void* p) {
  auto* a = static_cast<DeepArgs*>(p);
  a->top = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  a->frames_returned = recurse(a, 0);
}

TEST(FiberRuntime, DeepRecursionWithinTheStackSizeWorksAndSurvivesASwitch) {
  constexpr size_t kStack = 1024 * 1024;
  FiberRuntime rt(kStack);
  DeepArgs a{&rt};
  a.target = kStack * 3 / 4;
  Fiber* f = rt.start(&deep, &a);
  rt.switch_to(f);  // parks at the deepest frame
  ASSERT_FALSE(FiberRuntime::finished(f));
  rt.switch_to(f);  // unwinds, checking every frame
  ASSERT_TRUE(FiberRuntime::finished(f));
  EXPECT_GE(a.used, a.target);
  EXPECT_LT(a.used, kStack);
  EXPECT_GT(a.max_depth, 100);
  EXPECT_EQ(a.frames_returned, a.max_depth + 1);
  EXPECT_TRUE(a.frames_ok);
}

volatile bool g_keep_recursing = true;

__attribute__((noinline)) int overflow(int depth) {
  volatile char buf[1024];
  buf[0] = static_cast<char>(depth);
  int r = g_keep_recursing ? overflow(depth + 1) : 0;
  return r + buf[0];
}

void overflow_fiber(void*) { overflow(0); }

void run_overflow() {
  FiberRuntime rt(64 * 1024);
  rt.switch_to(rt.start(&overflow_fiber, nullptr));
}

TEST(FiberRuntimeDeathTest, OverflowingAFiberStackFaultsOnTheGuardPage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
#if defined(VMAFUZZ_ASAN) || defined(VMAFUZZ_TSAN)
  // The sanitizer's SEGV handler recognises a fault just below the stack
  // pointer; under ASan that also needs the fiber's stack bounds.
  EXPECT_DEATH(run_overflow(), "stack-overflow");
#else
  EXPECT_EXIT(run_overflow(), testing::KilledBySignal(SIGSEGV), "");
#endif
}

TEST(FiberRuntime, DestroyingARuntimeWithIdleAndNeverRunFibersIsClean) {
  for (int i = 0; i < 50; ++i) {
    FiberRuntime rt(64 * 1024);
    Fiber* ran = rt.start(&noop, nullptr);
    rt.switch_to(ran);
    rt.start(&noop, nullptr);  // reuses `ran`, never switched to
    rt.start(&noop, nullptr);  // a second fiber, never entered
    EXPECT_EQ(rt.pooled_fibers(), 2u);
  }
}

struct ThrowArgs {
  FiberRuntime* rt;
  int caught = 0;
};

__attribute__((noinline)) void throw_from_depth(FiberRuntime* rt, int depth) {
  volatile char buf[256];
  buf[0] = static_cast<char>(depth);
  if (depth == 0) {
    rt->switch_to_main();  // suspended with the frames below live
    throw std::runtime_error("deep");
  }
  throw_from_depth(rt, depth - 1);
  buf[1] = buf[0];
}

void throw_and_catch(void* p) {
  auto* t = static_cast<ThrowArgs*>(p);
  for (int i = 0; i < 3; ++i) {
    try {
      throw_from_depth(t->rt, 20);
    } catch (const std::runtime_error&) {
      ++t->caught;
    }
  }
}

TEST(FiberRuntime, AnExceptionThrownAndCaughtOnAFiberStaysOnThatFiber) {
  FiberRuntime rt;
  ThrowArgs t{&rt};
  Fiber* f = rt.start(&throw_and_catch, &t);
  int switches = 0;
  while (!FiberRuntime::finished(f)) {
    rt.switch_to(f);
    ++switches;
  }
  EXPECT_EQ(switches, 4);
  EXPECT_EQ(t.caught, 3);
}

// ---------------------------------------------------------------------------
// One runtime per OS thread.

struct CountArgs {
  FiberRuntime* rt;
  long n = 0;
};

void count_forever(void* p) {
  auto* c = static_cast<CountArgs*>(p);
  for (int i = 0; i < 1000; ++i) {
    ++c->n;  // only this fiber writes; main reads after the finish
    c->rt->switch_to_main();
  }
}

TEST(FiberRuntime, RuntimesOnDifferentThreadsAreIndependent) {
  std::array<long, 2> counted{};
  std::array<std::thread, 2> threads;
  for (int t = 0; t < 2; ++t) {
    threads[t] = std::thread([t, &counted] {
      FiberRuntime rt(64 * 1024);
      std::array<CountArgs, 3> c{CountArgs{&rt}, CountArgs{&rt}, CountArgs{&rt}};
      std::array<Fiber*, 3> f;
      for (int i = 0; i < 3; ++i) f[i] = rt.start(&count_forever, &c[i]);
      for (bool any = true; any;) {
        any = false;
        for (int i = 0; i < 3; ++i)
          if (!FiberRuntime::finished(f[i])) {
            rt.switch_to(f[i]);
            any = true;
          }
      }
      counted[t] = c[0].n + c[1].n + c[2].n;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(counted[0], 3000);
  EXPECT_EQ(counted[1], 3000);
}

// ---------------------------------------------------------------------------
// ThreadSanitizer (compiled under the tsan preset only): the annotations do
// what fiber.h's banner says. Each scenario runs in a child process (the
// death-test machinery re-executing this binary) and ends with exit(0); TSan
// turns that into exit code 66 (or dies earlier under halt_on_error=1) if it
// reported anything.

#if defined(VMAFUZZ_TSAN)

class StderrLacks : public testing::MatcherInterface<const std::string&> {
 public:
  explicit StderrLacks(std::string s) : s_(std::move(s)) {}
  bool MatchAndExplain(const std::string& out, testing::MatchResultListener*) const override {
    return out.find(s_) == std::string::npos;
  }
  void DescribeTo(std::ostream* os) const override { *os << "does not contain \"" << s_ << '"'; }

 private:
  std::string s_;
};

testing::Matcher<const std::string&> NoTsanReport() {
  return testing::MakeMatcher(new StderrLacks("ThreadSanitizer"));
}

bool ExitedNonZero(int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }

int* g_plain;  // a plain, unsynchronised int (heap, so TSan tracks it exactly)

struct RaceArgs {
  FiberRuntime* rt;
  Fiber* other = nullptr;
};

// Entered once (parks), then writes and hands over to `other` without sync.
void write_after_park_then_switch(void* p) {
  auto* r = static_cast<RaceArgs*>(p);
  r->rt->switch_to_main();
  *g_plain = 1;
  r->rt->switch_to(r->other);
}

void write_after_park(void* p) {
  auto* r = static_cast<RaceArgs*>(p);
  r->rt->switch_to_main();
  *g_plain = 2;
}

[[noreturn]] void RaceBetweenTwoRunningFibers() {
  g_plain = new int(0);
  FiberRuntime rt;
  RaceArgs ra{&rt}, rb{&rt};
  Fiber* a = rt.start(&write_after_park_then_switch, &ra);
  Fiber* b = rt.start(&write_after_park, &rb);
  ra.other = b;
  rt.switch_to(a);  // both are now running work items, parked in switch_to_main()
  rt.switch_to(b);
  rt.switch_to(a);  // A writes, switches (no_sync) to B, B writes: a race
  rt.switch_to(a);
  std::exit(0);
}

TEST(FiberTsanTest, UnsynchronisedSwitchesBetweenFibersLetTsanReportARace) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(RaceBetweenTwoRunningFibers(), ExitedNonZero, "ThreadSanitizer: data race");
}

void write_and_park(void* p) {
  *g_plain = 1;
  static_cast<FiberRuntime*>(p)->switch_to_main();
}

[[noreturn]] void RaceBetweenFiberAndMain() {
  g_plain = new int(0);
  FiberRuntime rt;
  Fiber* a = rt.start(&write_and_park, &rt);
  rt.switch_to(a);  // A writes, switches to main without sync
  *g_plain = 2;     // a race
  rt.switch_to(a);
  std::exit(0);
}

TEST(FiberTsanTest, SwitchToMainDoesNotSynchronise) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(RaceBetweenFiberAndMain(), ExitedNonZero, "ThreadSanitizer: data race");
}

struct SeqArgs {
  FiberRuntime* rt;
  Fiber* writer = nullptr;
  int touched = 0;
};

void seq_write(void*) { *g_plain = 1; }

void seq_touch_unless_on_writers_fiber(void* p) {
  auto* s = static_cast<SeqArgs*>(p);
  if (s->rt->current() == s->writer) return;  // same TSan fiber would prove nothing
  *g_plain = *g_plain + 1;
  ++s->touched;
}

[[noreturn]] void ConsecutiveWorkItemsOnDifferentFibers() {
  g_plain = new int(0);
  FiberRuntime rt;
  SeqArgs s{&rt};
  s.writer = rt.start(&seq_write, nullptr);
  rt.switch_to(s.writer);  // writes, finishes -> main (synchronising)
  if (!FiberRuntime::finished(s.writer)) std::exit(3);
  // Two new items: whatever the pool hands out, at least one is on another
  // fiber than the writer's.
  Fiber* r1 = rt.start(&seq_touch_unless_on_writers_fiber, &s);
  Fiber* r2 = rt.start(&seq_touch_unless_on_writers_fiber, &s);
  rt.switch_to(r1);
  rt.switch_to(r2);
  if (s.touched < 1 || *g_plain != 1 + s.touched) std::exit(4);
  std::exit(0);
}

TEST(FiberTsanTest, ConsecutiveWorkItemsOnDifferentFibersAreOrderedThroughMain) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(ConsecutiveWorkItemsOnDifferentFibers(), testing::ExitedWithCode(0), NoTsanReport());
}

// A fiber switching a fresh work item in does not order its own past before it.
void write_then_start_other(void* p) {
  auto* r = static_cast<RaceArgs*>(p);
  *g_plain = 1;
  r->rt->switch_to(r->other);  // `other`'s first entry, from this fiber
}

void write_plain(void*) { *g_plain = 2; }

[[noreturn]] void FreshItemEnteredFromAFiberRacesWithThatFiber() {
  g_plain = new int(0);
  FiberRuntime rt;
  RaceArgs ra{&rt};
  Fiber* a = rt.start(&write_then_start_other, &ra);
  ra.other = rt.start(&write_plain, nullptr);
  rt.switch_to(a);  // A writes, switches into fresh B, B writes: a race
  rt.switch_to(a);
  std::exit(0);
}

TEST(FiberTsanTest, FirstEntryFromAnotherFiberDoesNotOrderThatFibersPast) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(FreshItemEnteredFromAFiberRacesWithThatFiber(), ExitedNonZero, "ThreadSanitizer: data race");
}

// ...but it does order main's set-up (even after start()) before the item.
struct SetupArgs {
  FiberRuntime* rt;
  // Written by main after A already runs, read by A: atomic (nothing orders it).
  std::atomic<Fiber*> other{nullptr};
  int* setup = nullptr;  // plain; written by main after start(B), read by B
};

void park_then_start_other(void* p) {
  auto* s = static_cast<SetupArgs*>(p);
  s->rt->switch_to_main();
  s->rt->switch_to(s->other);
}

void read_setup(void* p) {
  auto* s = static_cast<SetupArgs*>(p);
  *s->setup = *s->setup + 1;
}

[[noreturn]] void FreshItemEnteredFromAFiberSeesMainsSetup() {
  FiberRuntime rt;
  SetupArgs s;
  s.rt = &rt;
  Fiber* a = rt.start(&park_then_start_other, &s);
  rt.switch_to(a);  // A is running, parked
  s.other = rt.start(&read_setup, &s);
  s.setup = new int(41);  // main's set-up after start(B)
  rt.switch_to(a);        // not synchronising; A switches B in; B reads the set-up
  if (!FiberRuntime::finished(s.other) || *s.setup != 42) std::exit(3);
  rt.switch_to(a);
  std::exit(0);
}

TEST(FiberTsanTest, FirstEntryFromAnotherFiberIsOrderedAfterMainsSetup) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(FreshItemEnteredFromAFiberSeesMainsSetup(), testing::ExitedWithCode(0), NoTsanReport());
}

#endif  // VMAFUZZ_TSAN: elsewhere these tests are not compiled (not even as skips)

}  // namespace
}  // namespace vmafuzz::fuzz
