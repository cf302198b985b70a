// rwsem.cpp - rw_semaphore (kernel/locking/rwsem.c, reduced: FIFO hand-off, no spinning).
#include "core/rwsem.h"
#include "core/model_fn.h"

#include <array>

#include "core/errno.h"
#include "core/kernel.h"
#include "core/lockdep.h"
#include "core/task.h"

namespace vmafuzz::core {

struct rwsem_waiter {
  task_struct* task;
  bool is_writer;
  // Set (release) by the waker under wait_lock once the lock is ours.
  shared_word<bool> granted{SharedWordKind::kRwsemWaiter, false};
  rwsem_waiter* next = nullptr;
};

namespace {

constexpr int kMaxWakeups = 64;

// Tasks to wake after wait_lock is dropped (the kernel's wake_q).
struct wake_queue {
  std::array<task_struct*, kMaxWakeups> tasks{};
  int n = 0;
  void wake_all() {
    for (int i = 0; i < n; ++i) wake_up_process(tasks[i]);
  }
};

// The acquisition (an acquire RMW) and the release (a release store) of
// wait_lock, told to the sim's happens-before tracker.
void wait_lock_sync(rw_semaphore* sem, AccessKind access, std::memory_order mo) {
  kernel().platform().raw_access(SharedAccess{&sem->wait_lock, SharedWordKind::kSpinlock, access, static_cast<uint8_t>(mo)});
}

void wait_lock_acquire(rw_semaphore* sem) {
  VMAFUZZ_MODEL_FN();
  kernel().platform().scheduling_point(SharedAccess{&sem->wait_lock, SharedWordKind::kSpinlock, AccessKind::kRmw});
  sem->wait_lock.lock();
  wait_lock_sync(sem, AccessKind::kRmw, std::memory_order_acquire);
}

void wait_lock_release(rw_semaphore* sem) {
  wait_lock_sync(sem, AccessKind::kStore, std::memory_order_release);
  sem->wait_lock.unlock();
}

// Under wait_lock: hand the lock to the waiters at the head that can have it.
// Never touches a waiter after setting its `granted` flag: the waiter may
// return at once (native threads) and its rwsem_waiter lives on its stack.
void rwsem_mark_wake(rw_semaphore* sem, wake_queue* wq) {
  VMAFUZZ_MODEL_FN();
  while (rwsem_waiter* w = sem->wait_head) {
    const long c = sem->count.peek(std::memory_order_relaxed);
    if (w->is_writer) {
      if (c & (RWSEM_WRITER_LOCKED | RWSEM_READER_MASK)) break;
      sem->count.raw_fetch_add(RWSEM_WRITER_LOCKED, std::memory_order_acquire);
    } else {
      if (c & RWSEM_WRITER_LOCKED) break;
      sem->count.raw_fetch_add(RWSEM_READER_BIAS, std::memory_order_acquire);
    }
    sem->wait_head = w->next;
    if (!sem->wait_head) sem->wait_tail = nullptr;
    const bool was_writer = w->is_writer;
    wq->tasks[wq->n++] = w->task;
    w->granted.raw_store(true, std::memory_order_release);
    if (was_writer || wq->n == kMaxWakeups) break;
  }
  if (!sem->wait_head && (sem->count.peek(std::memory_order_relaxed) & RWSEM_FLAG_WAITERS)) {
    sem->count.raw_fetch_add(-RWSEM_FLAG_WAITERS, std::memory_order_relaxed);
  }
}

void rwsem_wake(rw_semaphore* sem) {
  VMAFUZZ_MODEL_FN();
  wake_queue wq;
  wait_lock_acquire(sem);
  rwsem_mark_wake(sem, &wq);
  wait_lock_release(sem);
  wq.wake_all();
}

bool read_trylock_fast(rw_semaphore* sem) {
  VMAFUZZ_MODEL_FN();
  long c = sem->count.load(std::memory_order_relaxed);
  while (!(c & (RWSEM_WRITER_LOCKED | RWSEM_FLAG_WAITERS))) {
    if (sem->count.try_cmpxchg(c, c + RWSEM_READER_BIAS, std::memory_order_acquire, std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

bool write_trylock_fast(rw_semaphore* sem) {
  VMAFUZZ_MODEL_FN();
  long c = 0;
  return sem->count.try_cmpxchg(c, RWSEM_WRITER_LOCKED, std::memory_order_acquire, std::memory_order_relaxed);
}

// Queue behind earlier waiters and sleep in `state` until granted.
// Return: 0, or -EINTR (the waiter is dequeued, nothing is held).
int rwsem_down_slowpath(rw_semaphore* sem, bool is_writer, unsigned state) {
  VMAFUZZ_MODEL_FN();
  rwsem_waiter waiter{current(), is_writer};
  wake_queue wq;
  wait_lock_acquire(sem);
  if (sem->wait_tail) {
    sem->wait_tail->next = &waiter;
  } else {
    sem->wait_head = &waiter;
  }
  sem->wait_tail = &waiter;
  if (!(sem->count.peek(std::memory_order_relaxed) & RWSEM_FLAG_WAITERS)) {
    sem->count.raw_fetch_add(RWSEM_FLAG_WAITERS, std::memory_order_relaxed);
  }
  // The lock may have been released before FLAG_WAITERS was visible.
  rwsem_mark_wake(sem, &wq);
  wait_lock_release(sem);
  wq.wake_all();

  current()->waiting_for = wait_site{
      .what = is_writer ? "mmap_lock (write)" : "mmap_lock (read)",
      .condition_holds = [](const void* granted, uintptr_t) {
        return static_cast<const shared_word<bool>*>(granted)->peek(std::memory_order_acquire);
      },
      .obj = &waiter.granted,
  };
  for (;;) {
    set_current_state(state);
    if (waiter.granted.load(std::memory_order_acquire)) break;
    if (signal_pending_state(state, current())) {
      wait_lock_acquire(sem);
      if (waiter.granted.peek(std::memory_order_acquire)) {
        wait_lock_release(sem);
        break;  // granted meanwhile: the lock is ours after all
      }
      rwsem_waiter** link = &sem->wait_head;
      rwsem_waiter* prev = nullptr;
      while (*link != &waiter) {
        prev = *link;
        link = &(*link)->next;
      }
      *link = waiter.next;
      if (sem->wait_tail == &waiter) sem->wait_tail = prev;
      wake_queue wq2;
      rwsem_mark_wake(sem, &wq2);  // readers queued behind a departing writer
      wait_lock_release(sem);
      wq2.wake_all();
      __set_current_state(TASK_RUNNING);
      current()->waiting_for = wait_site{};
      return -EINTR;
    }
    schedule();
  }
  __set_current_state(TASK_RUNNING);
  current()->waiting_for = wait_site{};
  return 0;
}

int down_common(rw_semaphore* sem, bool is_writer, unsigned state, int subclass = 0) {
  VMAFUZZ_MODEL_FN();
  lock_acquire(sem, LockClass::kMmapLock, is_writer ? LockMode::kExclusive : LockMode::kShared, false, subclass);
  if (is_writer ? write_trylock_fast(sem) : read_trylock_fast(sem)) return 0;
  const int err = rwsem_down_slowpath(sem, is_writer, state);
  if (err) lock_release(sem);
  return err;
}

}  // namespace

void down_read(rw_semaphore* sem) { (void)down_common(sem, false, TASK_UNINTERRUPTIBLE); }
int down_read_killable(rw_semaphore* sem) { return down_common(sem, false, TASK_KILLABLE); }
void down_write(rw_semaphore* sem) { (void)down_common(sem, true, TASK_UNINTERRUPTIBLE); }
void down_write_nested(rw_semaphore* sem, int subclass) {
  VMAFUZZ_MODEL_FN();
  (void)down_common(sem, true, TASK_UNINTERRUPTIBLE, subclass);
}
int down_write_killable(rw_semaphore* sem) { return down_common(sem, true, TASK_KILLABLE); }

int down_read_trylock(rw_semaphore* sem) {
  VMAFUZZ_MODEL_FN();
  if (!read_trylock_fast(sem)) return 0;
  lock_acquire(sem, LockClass::kMmapLock, LockMode::kShared, true);
  return 1;
}

int down_write_trylock(rw_semaphore* sem) {
  VMAFUZZ_MODEL_FN();
  if (!write_trylock_fast(sem)) return 0;
  lock_acquire(sem, LockClass::kMmapLock, LockMode::kExclusive, true);
  return 1;
}

void up_read(rw_semaphore* sem) {
  VMAFUZZ_MODEL_FN();
  lock_release(sem);
  const long c = sem->count.fetch_sub(RWSEM_READER_BIAS, std::memory_order_release) - RWSEM_READER_BIAS;
  if (!(c & (RWSEM_READER_MASK | RWSEM_WRITER_LOCKED)) && (c & RWSEM_FLAG_WAITERS)) rwsem_wake(sem);
}

void up_write(rw_semaphore* sem) {
  VMAFUZZ_MODEL_FN();
  lock_release(sem);
  const long c = sem->count.fetch_sub(RWSEM_WRITER_LOCKED, std::memory_order_release) - RWSEM_WRITER_LOCKED;
  if (c & RWSEM_FLAG_WAITERS) rwsem_wake(sem);
}

void downgrade_write(rw_semaphore* sem) {
  VMAFUZZ_MODEL_FN();
  lock_downgrade(sem);
  const long c = sem->count.fetch_add(RWSEM_READER_BIAS - RWSEM_WRITER_LOCKED, std::memory_order_release);
  if (c & RWSEM_FLAG_WAITERS) rwsem_wake(sem);
}

bool rwsem_is_locked(rw_semaphore* sem) {
  VMAFUZZ_MODEL_FN();
  // As the kernel: any bit counts, the waiters flag included.
  return sem->count.load(std::memory_order_relaxed) != 0;
}

}  // namespace vmafuzz::core
