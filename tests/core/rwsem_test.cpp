// rwsem_test.cpp - rw_semaphore (mmap_lock): trylock and killable semantics, hand-off to sleepers, downgrade, lockdep records (docs/MODEL.md).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/lockdep.h"
#include "core/rwsem.h"
#include "tests/core/core_fixture.h"

namespace vmafuzz::core {
namespace {

const held_lock* find_held(const task_struct* t, const void* instance) {
  for (int i = 0; i < t->lockdep.depth; ++i) {
    if (t->lockdep.held[i].instance == instance) return &t->lockdep.held[i];
  }
  return nullptr;
}

class Rwsem : public testing::CoreTest {
 protected:
  rw_semaphore sem;
  long count() const { return sem.count.peek(); }
};

TEST_F(Rwsem, ReadersAddOneBiasEachAndUpReadRemovesIt) {
  task_struct* other = new_task("other");
  down_read(&sem);
  as_task(other, [&] { down_read(&sem); });
  EXPECT_EQ(count(), 2 * RWSEM_READER_BIAS);
  EXPECT_TRUE(rwsem_is_locked(&sem));
  up_read(&sem);
  as_task(other, [&] { up_read(&sem); });
  EXPECT_EQ(count(), 0);
  EXPECT_FALSE(rwsem_is_locked(&sem));
}

TEST_F(Rwsem, WriterSetsWriterLockedAndUpWriteClearsIt) {
  down_write(&sem);
  EXPECT_EQ(count(), RWSEM_WRITER_LOCKED);
  EXPECT_TRUE(rwsem_is_locked(&sem));
  up_write(&sem);
  EXPECT_EQ(count(), 0);
}

TEST_F(Rwsem, ReadTrylockFailsWhileWriteHeld) {
  task_struct* reader = new_task("reader");
  down_write(&sem);
  as_task(reader, [&] {
    EXPECT_EQ(down_read_trylock(&sem), 0);
    EXPECT_EQ(task_held_lock_count(reader, LockClass::kMmapLock), 0);
  });
  EXPECT_EQ(count(), RWSEM_WRITER_LOCKED);
  up_write(&sem);
}

TEST_F(Rwsem, ReadTrylockSucceedsWhileOtherReadersHold) {
  task_struct* reader = new_task("reader");
  down_read(&sem);
  as_task(reader, [&] {
    EXPECT_EQ(down_read_trylock(&sem), 1);
    EXPECT_TRUE(task_holds_lock(reader, &sem, LockMode::kShared));
  });
  EXPECT_EQ(count(), 2 * RWSEM_READER_BIAS);
  as_task(reader, [&] { up_read(&sem); });
  up_read(&sem);
  EXPECT_EQ(count(), 0);
}

TEST_F(Rwsem, WriteTrylockFailsWhileReadOrWriteHeldAndSucceedsWhenFree) {
  task_struct* other = new_task("other");
  as_task(other, [&] { down_read(&sem); });
  EXPECT_EQ(down_write_trylock(&sem), 0);
  as_task(other, [&] {
    up_read(&sem);
    down_write(&sem);
  });
  EXPECT_EQ(down_write_trylock(&sem), 0);
  EXPECT_EQ(task_held_lock_count(main_task(), LockClass::kMmapLock), 0);
  as_task(other, [&] { up_write(&sem); });
  EXPECT_EQ(down_write_trylock(&sem), 1);
  EXPECT_TRUE(task_holds_lock(main_task(), &sem, LockMode::kExclusive));
  up_write(&sem);
}

// The fast path runs before any signal check.
TEST_F(Rwsem, KillableAcquisitionsWithPendingSignalSucceedOnFreeLock) {
  send_sigkill(main_task());
  EXPECT_EQ(down_write_killable(&sem), 0);
  EXPECT_EQ(count(), RWSEM_WRITER_LOCKED);
  up_write(&sem);
  EXPECT_EQ(down_read_killable(&sem), 0);
  EXPECT_EQ(count(), RWSEM_READER_BIAS);
  up_read(&sem);
  EXPECT_EQ(probe().schedule_calls(), 0);
}

TEST_F(Rwsem, KillableWriterWithPendingSignalGivesUpWhenLockIsHeld) {
  task_struct* reader = new_task("reader");
  as_task(reader, [&] { down_read(&sem); });
  send_sigkill(main_task());
  EXPECT_EQ(down_write_killable(&sem), -EINTR);
  EXPECT_EQ(probe().schedule_calls(), 0);
  EXPECT_EQ(count(), RWSEM_READER_BIAS);  // dequeued: no writer bit, no waiters flag
  EXPECT_EQ(sem.wait_head, nullptr);
  EXPECT_EQ(task_held_lock_count(main_task(), LockClass::kMmapLock), 0);
  as_task(reader, [&] { up_read(&sem); });
  EXPECT_EQ(count(), 0);
}

TEST_F(Rwsem, KillableReaderWithPendingSignalGivesUpWhenWriteHeld) {
  task_struct* writer = new_task("writer");
  as_task(writer, [&] { down_write(&sem); });
  send_sigkill(main_task());
  EXPECT_EQ(down_read_killable(&sem), -EINTR);
  EXPECT_EQ(count(), RWSEM_WRITER_LOCKED);
  EXPECT_EQ(task_held_lock_count(main_task(), LockClass::kMmapLock), 0);
  as_task(writer, [&] { up_write(&sem); });
}

TEST_F(Rwsem, SleepingWriterIsHandedTheLockByTheLastReader) {
  task_struct* reader = new_task("reader");
  task_struct* late = new_task("late-reader");
  as_task(reader, [&] { down_read(&sem); });
  probe().on_schedule([&] {
    EXPECT_EQ(count(), RWSEM_READER_BIAS | RWSEM_FLAG_WAITERS);
    // A queued waiter blocks the read fast path.
    as_task(late, [&] { EXPECT_EQ(down_read_trylock(&sem), 0); });
    as_task(reader, [&] { up_read(&sem); });
    EXPECT_EQ(main_task()->__state.peek(), TASK_RUNNING);  // woken by the hand-off
  });
  down_write(&sem);
  EXPECT_EQ(probe().schedule_calls(), 1);
  EXPECT_EQ(count(), RWSEM_WRITER_LOCKED);
  EXPECT_TRUE(task_holds_lock(main_task(), &sem, LockMode::kExclusive));
  up_write(&sem);
  EXPECT_EQ(count(), 0);
}

TEST_F(Rwsem, SleepingReaderIsHandedTheLockByTheWriter) {
  task_struct* writer = new_task("writer");
  as_task(writer, [&] { down_write(&sem); });
  probe().on_schedule([&] {
    EXPECT_EQ(count(), RWSEM_WRITER_LOCKED | RWSEM_FLAG_WAITERS);
    as_task(writer, [&] { up_write(&sem); });
  });
  down_read(&sem);
  EXPECT_EQ(count(), RWSEM_READER_BIAS);
  up_read(&sem);
}

TEST_F(Rwsem, KillableSleeperIsInterruptedByFatalSignalAndDequeued) {
  task_struct* writer = new_task("writer");
  as_task(writer, [&] { down_write(&sem); });
  probe().on_schedule([&] { as_task(writer, [&] { send_sigkill(main_task()); }); });
  EXPECT_EQ(down_read_killable(&sem), -EINTR);
  EXPECT_EQ(count(), RWSEM_WRITER_LOCKED);
  EXPECT_EQ(sem.wait_head, nullptr);
  EXPECT_EQ(task_held_lock_count(main_task(), LockClass::kMmapLock), 0);
  as_task(writer, [&] { up_write(&sem); });
  EXPECT_EQ(count(), 0);
}

TEST_F(Rwsem, DowngradeTurnsTheWriterIntoAReaderAndLetsReadTrylockSucceed) {
  task_struct* reader = new_task("reader");
  down_write(&sem);
  as_task(reader, [&] { EXPECT_EQ(down_read_trylock(&sem), 0); });
  downgrade_write(&sem);
  EXPECT_EQ(count(), RWSEM_READER_BIAS);
  EXPECT_TRUE(task_holds_lock(main_task(), &sem, LockMode::kShared));
  EXPECT_FALSE(task_holds_lock(main_task(), &sem, LockMode::kExclusive));
  as_task(reader, [&] { EXPECT_EQ(down_read_trylock(&sem), 1); });
  EXPECT_EQ(count(), 2 * RWSEM_READER_BIAS);
  EXPECT_EQ(down_write_trylock(&sem), 0);
  as_task(reader, [&] { up_read(&sem); });
  up_read(&sem);
  EXPECT_EQ(count(), 0);
}

TEST_F(Rwsem, LockdepRecordsModeAndTrylockOfEachAcquisition) {
  down_read(&sem);
  const held_lock* h = find_held(main_task(), &sem);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->lock_class, LockClass::kMmapLock);
  EXPECT_EQ(h->mode, LockMode::kShared);
  EXPECT_FALSE(h->trylock);
  up_read(&sem);
  EXPECT_EQ(find_held(main_task(), &sem), nullptr);

  ASSERT_EQ(down_write_trylock(&sem), 1);
  h = find_held(main_task(), &sem);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->mode, LockMode::kExclusive);
  EXPECT_TRUE(h->trylock);
  downgrade_write(&sem);
  EXPECT_EQ(find_held(main_task(), &sem)->mode, LockMode::kShared);
  up_read(&sem);
  EXPECT_EQ(main_task()->lockdep.depth, 0);
}

TEST_F(Rwsem, SecondBlockingReadAcquisitionReportsRecursiveLockingButTrylockDoesNot) {
  down_read(&sem);
  ASSERT_EQ(down_read_trylock(&sem), 1);
  expect_no_reports();
  down_read(&sem);
  expect_reports({ReportSite::lockdep_recursive_lock});
  EXPECT_EQ(count(), 3 * RWSEM_READER_BIAS);
  up_read(&sem);
  up_read(&sem);
  up_read(&sem);
  EXPECT_EQ(count(), 0);
}

TEST_F(Rwsem, UpReadByANonOwnerReportsReleaseOfALockNotHeld) {
  task_struct* owner = new_task("owner");
  as_task(owner, [&] { down_read(&sem); });
  up_read(&sem);
  expect_reports({ReportSite::lockdep_release_not_held});
  EXPECT_EQ(count(), 0);
  EXPECT_TRUE(task_holds_lock(owner, &sem, LockMode::kShared));  // lockdep still charges the owner
}

// ---- real threads ----------------------------------------------------------

class RwsemThreads : public testing::CoreThreadsTest {
 protected:
  rw_semaphore sem;
  long count() const { return sem.count.peek(std::memory_order_acquire); }
  void wait_until_queued() {
    while (!(count() & RWSEM_FLAG_WAITERS)) std::this_thread::yield();
  }
  static void wait_until_sleeping(task_struct* t, unsigned state) {
    while (t->__state.peek(std::memory_order_acquire) != state) std::this_thread::yield();
  }
};

TEST_F(RwsemThreads, WriterThreadBlockedByReaderAcquiresAfterMainUnlocks) {
  task_struct* writer = new_task("writer");
  std::atomic<bool> acquired{false};
  std::atomic<long> count_seen{-1};
  down_read(&sem);
  std::thread t([&] {
    bind_thread(writer);
    down_write(&sem);
    acquired.store(true);
    count_seen.store(sem.count.peek());
    up_write(&sem);
  });
  wait_until_queued();
  EXPECT_FALSE(acquired.load());
  if (down_read_trylock(&sem)) {  // the queued writer must block new readers
    ADD_FAILURE() << "read trylock succeeded past a queued writer";
    up_read(&sem);
  }
  up_read(&sem);
  t.join();
  EXPECT_TRUE(acquired.load());
  EXPECT_EQ(count_seen.load(), RWSEM_WRITER_LOCKED);
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(writer->lockdep.depth, 0);
}

TEST_F(RwsemThreads, QueuedReaderThreadsAllAcquireWhenTheWriterReleases) {
  task_struct* r1 = new_task("reader-1");
  task_struct* r2 = new_task("reader-2");
  std::atomic<int> inside{0};
  std::atomic<bool> release{false};
  down_write(&sem);
  auto reader = [&](task_struct* me) {
    bind_thread(me);
    down_read(&sem);
    inside.fetch_add(1);
    while (!release.load()) std::this_thread::yield();
    up_read(&sem);
  };
  std::thread t1(reader, r1);
  std::thread t2(reader, r2);
  wait_until_sleeping(r1, TASK_UNINTERRUPTIBLE);
  wait_until_sleeping(r2, TASK_UNINTERRUPTIBLE);
  EXPECT_EQ(inside.load(), 0);
  up_write(&sem);
  while (inside.load() != 2) std::this_thread::yield();
  EXPECT_EQ(count(), 2 * RWSEM_READER_BIAS);  // both in together, waiters flag gone
  release.store(true);
  t1.join();
  t2.join();
  EXPECT_EQ(count(), 0);
}

TEST_F(RwsemThreads, DowngradeLetsAQueuedReaderThreadIn) {
  task_struct* r = new_task("reader");
  std::atomic<bool> inside{false};
  std::atomic<long> count_seen{-1};
  down_write(&sem);
  std::thread t([&] {
    bind_thread(r);
    down_read(&sem);
    count_seen.store(sem.count.peek());
    inside.store(true);
    up_read(&sem);
  });
  wait_until_sleeping(r, TASK_UNINTERRUPTIBLE);
  downgrade_write(&sem);
  t.join();
  EXPECT_TRUE(inside.load());
  EXPECT_EQ(count_seen.load(), 2 * RWSEM_READER_BIAS);  // main still held its read lock
  up_read(&sem);
  EXPECT_EQ(count(), 0);
}

TEST_F(RwsemThreads, KillableWriterThreadQueuedBehindReaderIsInterruptedBySigkill) {
  task_struct* writer = new_task("writer");
  std::atomic<int> ret{1};
  down_read(&sem);
  std::thread t([&] {
    bind_thread(writer);
    ret.store(down_write_killable(&sem));
  });
  wait_until_queued();
  send_sigkill(writer);
  t.join();
  EXPECT_EQ(ret.load(), -EINTR);
  EXPECT_EQ(count(), RWSEM_READER_BIAS);  // dequeued, waiters flag cleared
  EXPECT_EQ(writer->lockdep.depth, 0);
  up_read(&sem);
  EXPECT_EQ(count(), 0);
}

}  // namespace
}  // namespace vmafuzz::core
