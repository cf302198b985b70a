// relacy_vma_lock.cpp - the peer benchmark's model for Relacy (issue 13).
//
// The same protocol as bench/peers/three_tasks.sched runs on vmafuzz's model
// (core/mmap_lock.cpp, core/refcount.cpp, core/rcuwait.cpp), with the same
// memory orders, written for Relacy (Debian relacy-dev, header-only):
//   T0: mmap_write_lock, vma_start_write, mmap_write_unlock
//   T1, T2: lock_vma_under_rcu, then vma_end_read if it got the lock.
// Every shared word of ours is an rl::atomic here (mmap_lock's count,
// mm_lock_seq, vm_lock_seq, vm_refcnt, the rcuwait task pointer, the
// writer's task state), so each access is one Relacy scheduling point, as
// each shared_word access is one of ours. What ours does besides (the
// fatal-signal check before each operation, the maple-tree load of each VMA
// lookup, the mm's teardown after the last operation) has no counterpart
// unless --extras adds it (docs/BENCHMARKS.md, "Peer benchmark: Relacy").
//
// Sleeping: the writer's __state is an atomic written by set_current_state()
// (relaxed store + seq_cst fence, as ours), and the Relacy futex wait set of
// that atomic parks the writer. Whether the writer is asleep is decided, as
// our scheduler decides it (SimPlatform::schedule/wake_up_state), on the
// state as last written, read without a scheduling point: the kernel reads
// p->__state under p->pi_lock, which this model does not have. A wake-up
// synchronizes the waker with the wakee (try_to_wake_up() implies a full
// barrier); without that, Relacy reports lost wake-ups the kernel cannot have.
//
// Checked on every schedule: no reader holds the VMA read lock while the
// writer has it write-locked; refcount sanity (no increment from 0, no
// underflow, FLAG added and dropped once); the end state (vm_refcnt 1, the
// writer's seq in vm_lock_seq, mm_lock_seq even); and, by Relacy itself,
// deadlock (a lost wake-up leaves the writer parked forever) and livelock.
#include <relacy/relacy.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>

namespace {

constexpr int kFlag = 1 << 30;           // VM_REFCNT_EXCLUDE_READERS_FLAG
constexpr int kRefcntLimit = kFlag - 1;  // VM_REFCNT_LIMIT
constexpr long kWriterLocked = 1;        // RWSEM_WRITER_LOCKED
constexpr unsigned kRunning = 0;         // TASK_RUNNING
constexpr unsigned kUninterruptible = 2; // TASK_UNINTERRUPTIBLE
constexpr int kWriter = 0;

// Shared-memory accesses made in all schedules so far (each one is a Relacy
// scheduling point): the "steps" of the benchmark.
uint64_t g_accesses = 0;
// Schedules run (Relacy constructs the test and calls before() once per schedule).
uint64_t g_schedules = 0;

// --mutant: a broken protocol, to show that the checks can fail.
enum class Mutant { kNone, kNoWake, kSeqCheckBeforeIncrement, kNoWakeFence, kNoStateFence };
Mutant g_mutant = Mutant::kNone;

// --extras: also make the accesses of ours that the protocol does not need,
// so that both checkers run the same accesses per schedule (about 69).
bool g_extras = false;

// --time: the systematic schedulers stop at this deadline, unexhausted.
using Clock = std::chrono::steady_clock;
Clock::time_point g_start, g_deadline = Clock::time_point::max();
void deadline_reached();

template <class T>
T ld(const rl::atomic<T>& a, rl::memory_order mo, rl::debug_info_param info) {
  ++g_accesses;
  return a.load(mo, info);
}
template <class T>
void st(rl::atomic<T>& a, T v, rl::memory_order mo, rl::debug_info_param info) {
  ++g_accesses;
  a.store(v, mo, info);
}
template <class T>
T fetch_sub(rl::atomic<T>& a, T v, rl::memory_order mo, rl::debug_info_param info) {
  ++g_accesses;
  return a.fetch_sub(v, mo, info);
}
// The kernel's try_cmpxchg(): on failure `expected` gets the value seen.
template <class T>
bool cmpxchg(rl::atomic<T>& a, T& expected, T desired, rl::memory_order ok, rl::memory_order fail,
             rl::debug_info_param info) {
  ++g_accesses;
  return a.compare_exchange_strong(expected, desired, ok, info, fail, info);
}

struct VmaLockTest : rl::test_suite<VmaLockTest, 3> {
  rl::atomic<long> mmap_lock_count;  // mm->mmap_lock.count
  rl::atomic<unsigned> mm_lock_seq;  // mm->mm_lock_seq.sequence
  rl::atomic<unsigned> vm_lock_seq;  // vma->vm_lock_seq
  rl::atomic<int> vm_refcnt;         // vma->vm_refcnt
  rl::atomic<int> rcuwait_task;      // mm->vma_writer_wait.task: 0 or the waiter's index + 1
  rl::atomic<unsigned> writer_state; // the writer's __state; its wait set parks the writer
  // --extras only:
  rl::atomic<int> fatal_signal[3];   // each task's SIGKILL word (never set here)
  rl::atomic<int> mm_tree;           // mm->mm_mt's root: a lookup's maple-tree load
  rl::atomic<int> mm_count;          // mm->mm_count, the teardown's last reference

  // Instrumentation, not shared memory of the model (no scheduling points).
  unsigned writer_state_now;  // __state as last written (see the header)
  bool writer_parked;
  bool vma_write_locked;  // from the end of the writer's wait to mmap_write_unlock
  int readers_inside;     // readers holding the VMA read lock
  unsigned writer_seq;    // the seq the writer stored in vm_lock_seq
  int tasks_done;         // --extras: the last task to finish tears the mm down

  // The state after set-up in ours: VMA attached (vm_refcnt 1), written once
  // while mapped (vm_lock_seq 1), the mm's two write locks ended (seq 2).
  void before() {
    // Between two schedules: every one counted so far has passed.
    if (g_schedules && (g_schedules & 1023) == 0 && Clock::now() > g_deadline) deadline_reached();
    ++g_schedules;
    mmap_lock_count.store(0, rl::mo_relaxed, RL_INFO);
    mm_lock_seq.store(2, rl::mo_relaxed, RL_INFO);
    vm_lock_seq.store(1, rl::mo_relaxed, RL_INFO);
    vm_refcnt.store(1, rl::mo_relaxed, RL_INFO);
    rcuwait_task.store(0, rl::mo_relaxed, RL_INFO);
    writer_state.store(kRunning, rl::mo_relaxed, RL_INFO);
    for (auto& s : fatal_signal) s.store(0, rl::mo_relaxed, RL_INFO);
    mm_tree.store(1, rl::mo_relaxed, RL_INFO);
    mm_count.store(1, rl::mo_relaxed, RL_INFO);
    tasks_done = 0;
    writer_state_now = kRunning;
    writer_parked = false;
    vma_write_locked = false;
    readers_inside = 0;
    writer_seq = 0;
  }

  void after() {
    RL_ASSERT(readers_inside == 0);
    RL_ASSERT(!vma_write_locked);
    // The teardown (--extras) write-locks the VMA once more, seq 5, and detaches it.
    RL_ASSERT(vm_refcnt.load(rl::mo_relaxed, RL_INFO) == (g_extras ? 0 : 1));
    RL_ASSERT(mm_lock_seq.load(rl::mo_relaxed, RL_INFO) == (g_extras ? 6u : 4u));
    RL_ASSERT(vm_lock_seq.load(rl::mo_relaxed, RL_INFO) == writer_seq);
    RL_ASSERT(writer_seq == (g_extras ? 5u : 3u));
  }

  // ---- task state and the rcuwait (core/task.cpp, core/rcuwait.cpp) ----

  // set_current_state(): smp_store_mb(), the barrier A of the rcuwait handshake.
  void set_current_state(unsigned state) {
    st(writer_state, state, rl::mo_relaxed, RL_INFO);  // WRITE_ONCE
    writer_state_now = state;
    if (g_mutant != Mutant::kNoStateFence) rl::atomic_thread_fence(rl::mo_seq_cst, RL_INFO);  // smp_mb
  }

  // schedule(): sleep unless a wake-up came since set_current_state().
  void schedule() {
    if (writer_state_now == kRunning) {
      // Woken before it slept: seeing TASK_RUNNING (under the runqueue lock
      // in the kernel) orders it after the waker's full barrier.
      synchronize_with_waker();
      return;
    }
    writer_parked = true;
    // The futex wait set synchronizes with the waker itself.
    writer_state.wait(rl::ctx(), /*is_timed=*/false, /*allow_spurious_wakeup=*/false, RL_INFO);
    RL_ASSERT(!writer_parked);
  }

  // wake_up_process(): TASK_NORMAL sleepers only; not a scheduling point.
  // A successful wake-up implies a full barrier (try_to_wake_up()).
  void wake_up_process() {
    if (writer_state_now == kRunning) return;
    writer_state_now = kRunning;
    synchronize_with_waker();
    if (writer_parked) {
      writer_parked = false;
      writer_state.wake(rl::ctx(), 1, RL_INFO);
    }
  }

  // The waker's release and the wakee's acquire of the wake-up, as an RMW on
  // the state word (an RMW reads the latest value), with no scheduling point:
  // our scheduler wakes and checks for a wake-up atomically too.
  void synchronize_with_waker() {
    rl::preemption_disabler no_switch(rl::ctx());
    writer_state.fetch_add(0, rl::mo_acq_rel, RL_INFO);
  }

  // rcuwait_wake_up(): barrier B, then wake whoever is published.
  void rcuwait_wake_up() {
    if (g_mutant == Mutant::kNoWake) return;
    if (g_mutant != Mutant::kNoWakeFence) rl::atomic_thread_fence(rl::mo_seq_cst, RL_INFO);
    if (ld(rcuwait_task, rl::mo_acquire, RL_INFO) != 0) wake_up_process();  // rcu_dereference
  }

  // ---- the writer ----

  void mmap_write_lock() {
    long c = 0;  // write_trylock_fast(): nobody else takes mmap_lock here
    RL_ASSERT(cmpxchg(mmap_lock_count, c, kWriterLocked, rl::mo_acquire, rl::mo_relaxed, RL_INFO));
    const unsigned v = ld(mm_lock_seq, rl::mo_relaxed, RL_INFO);  // do_raw_write_seqcount_begin()
    st(mm_lock_seq, v + 1, rl::mo_relaxed, RL_INFO);
    rl::atomic_thread_fence(rl::mo_release, RL_INFO);
  }

  void vma_start_write() {
    // __is_vma_write_locked(): not yet.
    const unsigned seq = ld(mm_lock_seq, rl::mo_relaxed, RL_INFO);
    if (ld(vm_lock_seq, rl::mo_relaxed, RL_INFO) == seq) return;
    // __vma_start_write(): the seq, read before any waiting.
    const unsigned mm_seq = ld(mm_lock_seq, rl::mo_relaxed, RL_INFO);
    // __vma_start_exclude_readers(): refcount_add_not_zero(FLAG).
    int old = ld(vm_refcnt, rl::mo_acquire, RL_INFO);
    do {
      RL_ASSERT(old != 0);  // attached, and only we detach
    } while (!cmpxchg(vm_refcnt, old, old + kFlag, rl::mo_relaxed, rl::mo_acquire, RL_INFO));
    RL_ASSERT(old > 0 && old < kFlag);
    // rcuwait_wait_event(vm_refcnt == FLAG + 1), TASK_UNINTERRUPTIBLE.
    st(rcuwait_task, kWriter + 1, rl::mo_release, RL_INFO);  // prepare_to_rcuwait(): rcu_assign_pointer
    for (;;) {
      set_current_state(kUninterruptible);
      if (ld(vm_refcnt, rl::mo_acquire, RL_INFO) == kFlag + 1) break;
      schedule();
    }
    st(rcuwait_task, 0, rl::mo_release, RL_INFO);  // finish_rcuwait()
    st(writer_state, kRunning, rl::mo_relaxed, RL_INFO);
    writer_state_now = kRunning;
    RL_ASSERT(readers_inside == 0);
    vma_write_locked = true;
    writer_seq = mm_seq;
    st(vm_lock_seq, mm_seq, rl::mo_relaxed, RL_INFO);
    // __vma_end_exclude_readers(): refcount_sub_and_test(FLAG).
    RL_ASSERT(fetch_sub(vm_refcnt, kFlag, rl::mo_acq_rel, RL_INFO) == kFlag + 1);
  }

  void mmap_write_unlock() {
    const unsigned v = ld(mm_lock_seq, rl::mo_relaxed, RL_INFO);  // vma_end_write_all()
    vma_write_locked = false;
    st(mm_lock_seq, v + 1, rl::mo_release, RL_INFO);
    // up_write(): no waiters.
    RL_ASSERT(fetch_sub(mmap_lock_count, kWriterLocked, rl::mo_release, RL_INFO) == kWriterLocked);
  }

  // ---- --extras: what ours does besides the protocol ----

  // fatal_signal_pending() before each operation (fuzz/sim_platform.cpp run_program()).
  void signal_check(unsigned index) {
    if (g_extras) (void)ld(fatal_signal[index], rl::mo_seq_cst, RL_INFO);
  }

  // The VMA's lookup in the mm's maple tree (rcu_dereference of the root).
  void tree_lookup() {
    if (g_extras) (void)ld(mm_tree, rl::mo_acquire, RL_INFO);
  }

  // exit_mmap() by the last task to finish, as ours: write-lock the mm and
  // the VMA, erase it from the tree, detach it (the last reference), unlock,
  // drop mm_count. Its 26 accesses are scheduling points here; ours makes
  // them without any ("Alone at exit", docs/SCHEDULER.md).
  void exit_mmap() {
    mmap_write_lock();
    vma_start_write();
    const int root = ld(mm_tree, rl::mo_acquire, RL_INFO);
    st(mm_tree, root + 1, rl::mo_release, RL_INFO);  // the tree without the VMA
    // vma_mark_detached(): vma_assert_write_locked(), vma_assert_attached(), the last put.
    RL_ASSERT(ld(vm_lock_seq, rl::mo_relaxed, RL_INFO) == ld(mm_lock_seq, rl::mo_relaxed, RL_INFO));
    RL_ASSERT(ld(vm_refcnt, rl::mo_relaxed, RL_INFO) == 1);
    RL_ASSERT(fetch_sub(vm_refcnt, 1, rl::mo_acq_rel, RL_INFO) == 1);
    RL_ASSERT(ld(vm_refcnt, rl::mo_relaxed, RL_INFO) == 0);  // vma_assert_detached()
    mmap_write_unlock();
    RL_ASSERT(fetch_sub(mm_count, 1, rl::mo_acq_rel, RL_INFO) == 1);
  }

  // ---- a reader ----

  // vma_refcount_put(): the last reader before the writer's target wakes it.
  void vma_refcount_put() {
    const int old = fetch_sub(vm_refcnt, 1, rl::mo_acq_rel, RL_INFO);
    RL_ASSERT(old > 1);  // never the last reference: nobody detaches
    const int newcnt = old - 1;
    // __vma_are_readers_excluded()
    if ((newcnt & kFlag) && newcnt <= kFlag + 1) rcuwait_wake_up();
  }

  // lock_vma_under_rcu() -> vma_start_read(): whether it got the read lock.
  bool lock_vma_under_rcu() {
    tree_lookup();
    // The cheap early check; both values may be stale.
    if (ld(vm_lock_seq, rl::mo_relaxed, RL_INFO) == ld(mm_lock_seq, rl::mo_relaxed, RL_INFO)) return false;
    // The B10 mutant: the check under the reference, hoisted above the increment.
    const bool early = g_mutant == Mutant::kSeqCheckBeforeIncrement;
    if (early && ld(vm_lock_seq, rl::mo_relaxed, RL_INFO) == ld(mm_lock_seq, rl::mo_acquire, RL_INFO)) return false;
    // __refcount_inc_not_zero_limited_acquire(limit VM_REFCNT_LIMIT).
    int old = ld(vm_refcnt, rl::mo_relaxed, RL_INFO);
    do {
      RL_ASSERT(old != 0);  // never detached here
      if (1 > kRefcntLimit - old) return false;  // a writer excludes readers
    } while (!cmpxchg(vm_refcnt, old, old + 1, rl::mo_acquire, rl::mo_relaxed, RL_INFO));
    RL_ASSERT(old > 0);
    // The check under the reference: write-locked means back out.
    if (!early && ld(vm_lock_seq, rl::mo_relaxed, RL_INFO) == ld(mm_lock_seq, rl::mo_acquire, RL_INFO)) {
      vma_refcount_put();
      return false;
    }
    RL_ASSERT(!vma_write_locked);
    ++readers_inside;
    return true;
  }

  void vma_end_read() {
    --readers_inside;
    vma_refcount_put();
  }

  void thread(unsigned index) {
    if (index == kWriter) {
      signal_check(index);
      mmap_write_lock();
      signal_check(index);
      tree_lookup();
      vma_start_write();
      signal_check(index);
      mmap_write_unlock();
    } else {
      signal_check(index);
      const bool locked = lock_vma_under_rcu();
      signal_check(index);  // ours runs vma_end_read as a skipped operation when unlocked
      if (locked) vma_end_read();
    }
    if (g_extras && ++tasks_done == 3) exit_mmap();
  }
};

void usage(FILE* out) {
  std::fputs(
      "Usage: relacy_vma_lock [--scheduler random|full|bound] [--iterations N]\n"
      "                       [--context-bound K] [--time S] [--mutant NAME] [--extras]\n"
      "                       [--help]\n"
      "\n"
      "Runs the peer benchmark's Relacy model of the per-VMA lock (one writer,\n"
      "two readers; bench/peers/three_tasks.sched is vmafuzz's form) under one\n"
      "of Relacy's schedulers and checks every schedule.\n"
      "  --scheduler random   N random schedules (default; --iterations N, default 100000)\n"
      "  --scheduler full     every schedule (Relacy's full search), until exhausted\n"
      "                       or --time S seconds (default 10) have passed\n"
      "  --scheduler bound    every schedule with at most K preemptions (Relacy's\n"
      "                       context-bound scheduler; --context-bound K, default 2),\n"
      "                       until exhausted or --time S\n"
      "  --mutant NAME        break the protocol: no_wake (the last reader never wakes\n"
      "                       the writer: a deadlock), seq_check_before_increment (B10:\n"
      "                       a reader inside while the VMA is write-locked), no_wake_fence\n"
      "                       (rcuwait_wake_up() without its smp_mb: a lost wake-up),\n"
      "                       no_state_fence (set_current_state() without its smp_mb: one too)\n"
      "  --extras             also the accesses vmafuzz's model makes besides the protocol:\n"
      "                       the fatal-signal load before each operation, the maple-tree\n"
      "                       load of each VMA lookup and the mm's teardown by the last\n"
      "                       task to finish, so both run the same accesses per schedule\n"
      "Prints one line:\n"
      "  relacy scheduler=S schedules=N seconds=T schedules_per_s=R\n"
      "         accesses_per_schedule=A exhausted=yes|no|- relacy_estimate=E result=ok\n"
      "accesses: the model's atomic loads, stores and RMWs, each a Relacy scheduling\n"
      "point; exhausted: whether a systematic scheduler explored its whole space ('-'\n"
      "for random); relacy_estimate: Relacy's own estimate of that space's size when\n"
      "it stopped unexhausted, else '-'. On a failure Relacy's report and the\n"
      "failing schedule's history go to stderr.\n"
      "\n"
      "Exit codes: 0 every schedule run passed, 1 a schedule failed a check,\n"
      "64 bad command line.\n",
      out);
}

// A decimal count 1..max. (Relacy's headers redefine errno, so no strtoull.)
bool parse_count(const char* s, unsigned long long max, unsigned long long* out) {
  if (!s || !*s) return false;
  unsigned long long v = 0;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9') return false;
    v = v * 10 + static_cast<unsigned>(*s - '0');
    if (v > max) return false;
  }
  if (v < 1) return false;
  *out = v;
  return true;
}

std::string g_sched = "random";
std::ostringstream g_progress;  // Relacy's progress lines: "P% (done/estimated total)"

void print_result(const char* exhausted, const std::string& estimate) {
  const double secs = std::chrono::duration<double>(Clock::now() - g_start).count();
  const double n = static_cast<double>(g_schedules);
  std::printf(
      "relacy scheduler=%s schedules=%llu seconds=%.3f schedules_per_s=%.0f accesses_per_schedule=%.2f "
      "exhausted=%s relacy_estimate=%s result=ok\n",
      g_sched.c_str(), static_cast<unsigned long long>(g_schedules), secs, n / secs,
      static_cast<double>(g_accesses) / n, exhausted, estimate.c_str());
  std::fflush(stdout);
}

// Called between two schedules, all of which passed: report them and stop
// (Relacy's simulate() has no time limit).
void deadline_reached() {
  const std::string p = g_progress.str();
  std::string estimate = "-";
  const size_t slash = p.rfind('/'), close = p.rfind(')');
  if (slash != std::string::npos && close != std::string::npos && close > slash)
    estimate = p.substr(slash + 1, close - slash - 1);
  print_result("no", estimate);
  std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  unsigned long long iterations = 100000, bound = 2, seconds = 10;
  for (int i = 1; i < argc; i += 2) {  // every option but --help and --extras takes one value
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    }
    if (a == "--extras") {
      g_extras = true;
      --i;
      continue;
    }
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    const std::string vs = v ? v : "";
    if (a == "--scheduler" && (vs == "random" || vs == "full" || vs == "bound")) {
      g_sched = vs;
    } else if (a == "--iterations" && parse_count(v, 1ull << 40, &iterations)) {
    } else if (a == "--context-bound" && parse_count(v, 64, &bound)) {
    } else if (a == "--time" && parse_count(v, 1u << 30, &seconds)) {
    } else if (a == "--mutant" && vs == "no_wake") {
      g_mutant = Mutant::kNoWake;
    } else if (a == "--mutant" && vs == "seq_check_before_increment") {
      g_mutant = Mutant::kSeqCheckBeforeIncrement;
    } else if (a == "--mutant" && vs == "no_wake_fence") {
      g_mutant = Mutant::kNoWakeFence;
    } else if (a == "--mutant" && vs == "no_state_fence") {
      g_mutant = Mutant::kNoStateFence;
    } else {
      std::fprintf(stderr, "relacy_vma_lock: bad or missing value for '%s' (try --help)\n", a.c_str());
      return 64;
    }
  }

  rl::test_params p;
  std::ostringstream log;
  p.output_stream = &log;  // shown only on a failure
  p.progress_stream = &g_progress;
  if (g_sched == "random") {
    p.search_type = rl::sched_random;
    p.iteration_count = iterations;
  } else {
    p.search_type = g_sched == "full" ? rl::sched_full : rl::sched_bound;
    p.context_bound = static_cast<unsigned>(bound);
  }
  g_start = Clock::now();
  if (g_sched != "random") g_deadline = g_start + std::chrono::seconds(seconds);
  const bool ok = rl::simulate<VmaLockTest>(p);
  if (!ok) {
    std::fputs(log.str().c_str(), stderr);
    std::fprintf(stderr, "relacy_vma_lock: FAILED (%s) at schedule %llu\n", rl::test_result_str(p.test_result),
                 static_cast<unsigned long long>(p.stop_iteration));
    return 1;
  }
  print_result(g_sched == "random" ? "-" : "yes", "-");
  return 0;
}
