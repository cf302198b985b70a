// rwsem.h - rw_semaphore for mmap_lock (models kernel/locking/rwsem.c, reduced).
//
// count: RWSEM_WRITER_LOCKED | RWSEM_FLAG_WAITERS | readers * RWSEM_READER_BIAS.
// Fast paths are CAS on count. Slow paths queue a waiter on a FIFO list under
// wait_lock and sleep with the kernel protocol until a releaser hands the lock
// over (sets waiter.granted, then wakes). No waiter is ever left queued on a
// free lock: whoever makes the lock free with FLAG_WAITERS set, or enqueues,
// runs rwsem_mark_wake() under wait_lock.
//
// Model simplification: wait_lock is a raw spinlock whose critical section
// contains no scheduling point, so the sim treats it as one atomic step (it
// is still a real mutex, which gives ThreadSanitizer the same release/acquire
// edges as the kernel's raw_spin_lock). There is no optimistic spinning and no
// hand-off bit: FIFO hand-off already prevents starvation.
#pragma once

#include <mutex>

#include "core/shared_word.h"

namespace vmafuzz::core {

struct task_struct;

inline constexpr long RWSEM_WRITER_LOCKED = 1L << 0;
inline constexpr long RWSEM_FLAG_WAITERS = 1L << 1;
inline constexpr long RWSEM_READER_SHIFT = 8;
inline constexpr long RWSEM_READER_BIAS = 1L << RWSEM_READER_SHIFT;
inline constexpr long RWSEM_READER_MASK = ~(RWSEM_READER_BIAS - 1);

struct rwsem_waiter;

struct rw_semaphore {
  shared_word<long> count{SharedWordKind::kRwsemCount, 0};
  std::mutex wait_lock;
  rwsem_waiter* wait_head = nullptr;  // guarded by wait_lock
  rwsem_waiter* wait_tail = nullptr;  // guarded by wait_lock
};

// Every acquisition records itself with lockdep-lite (class kMmapLock), before
// it blocks, as the kernel's rwsem_acquire*() do.
// Context for all: a task; scheduling points; the blocking forms may sleep.
void down_read(rw_semaphore* sem);
[[nodiscard]] int down_read_killable(rw_semaphore* sem);  // 0 or -EINTR
[[nodiscard]] int down_read_trylock(rw_semaphore* sem);   // 1 on success
void up_read(rw_semaphore* sem);

void down_write(rw_semaphore* sem);
// down_write_nested(): down_write with a lockdep subclass (a second mm's lock).
void down_write_nested(rw_semaphore* sem, int subclass);
[[nodiscard]] int down_write_killable(rw_semaphore* sem);  // 0 or -EINTR
[[nodiscard]] int down_write_trylock(rw_semaphore* sem);   // 1 on success
void up_write(rw_semaphore* sem);
// downgrade_write(): the writer becomes a reader, queued readers may enter.
void downgrade_write(rw_semaphore* sem);

// rwsem_is_locked(): count != 0 - held by anyone in any mode, or waited for.
// Scheduling point.
bool rwsem_is_locked(rw_semaphore* sem);

}  // namespace vmafuzz::core
