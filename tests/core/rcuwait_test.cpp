// rcuwait_test.cpp - rcuwait: the waiter/waker handshake, condition-before-signal, wake-ups that must not be lost (docs/MODEL.md §8, I9).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/rcu.h"
#include "core/rcuwait.h"
#include "tests/core/core_fixture.h"

namespace vmafuzz::core {
namespace {

class Rcuwait : public testing::CoreTest {
 protected:
  rcuwait w;
  bool cond = false;
  int evaluations = 0;

  void SetUp() override { rcuwait_init(&w); }

  int wait(unsigned state) {
    return rcuwait_wait_event(
        &w,
        [this] {
          ++evaluations;
          return cond;
        },
        state);
  }
};

TEST_F(Rcuwait, WaitReturnsAtOnceWhenConditionIsAlreadyTrue) {
  cond = true;
  EXPECT_EQ(wait(TASK_UNINTERRUPTIBLE), 0);
  EXPECT_EQ(evaluations, 1);
  EXPECT_EQ(probe().schedule_calls(), 0);
  EXPECT_EQ(w.task.peek(), nullptr);
  EXPECT_EQ(main_task()->__state.peek(), TASK_RUNNING);
}

TEST_F(Rcuwait, WaiterIsPublishedWhileItSleeps) {
  task_struct* waker = new_task("waker");
  probe().on_schedule([&] {
    EXPECT_EQ(w.task.peek(), main_task());
    EXPECT_EQ(main_task()->__state.peek(), TASK_UNINTERRUPTIBLE);
    as_task(waker, [&] {
      cond = true;
      EXPECT_TRUE(rcuwait_wake_up(&w));
    });
  });
  EXPECT_EQ(wait(TASK_UNINTERRUPTIBLE), 0);
  EXPECT_EQ(w.task.peek(), nullptr);
  EXPECT_EQ(main_task()->__state.peek(), TASK_RUNNING);
}

// The classic lost-wake-up window: the waker changes the condition and wakes
// after the waiter tested the condition but before it parks. The wake-up sets
// the waiter RUNNING, so schedule() returns at once and the re-test sees it.
TEST_F(Rcuwait, WakeBeforeSleepIsNotLost) {
  task_struct* waker = new_task("waker");
  probe().on_schedule([&] {
    as_task(waker, [&] {
      cond = true;
      EXPECT_TRUE(rcuwait_wake_up(&w));
    });
    EXPECT_EQ(main_task()->__state.peek(), TASK_RUNNING);
  });
  EXPECT_EQ(wait(TASK_UNINTERRUPTIBLE), 0);
  EXPECT_EQ(probe().schedule_calls(), 1);
  EXPECT_EQ(evaluations, 2);
}

// The store-buffer handshake: the waker runs after the waiter published
// itself but before it set its state. The waker sees the waiter but finds it
// running (no wake needed); the waiter then sees the new condition.
TEST_F(Rcuwait, WakeBetweenPublishAndSetStateFindsWaiterRunningAndWaiterSeesCondition) {
  task_struct* waker = new_task("waker");
  bool woken = true;
  probe().on_access(nth_access(&main_task()->__state, AccessKind::kStore, main_task()), [&] {
    EXPECT_EQ(w.task.peek(), main_task());
    as_task(waker, [&] {
      cond = true;
      woken = rcuwait_wake_up(&w);
    });
  });
  EXPECT_EQ(wait(TASK_UNINTERRUPTIBLE), 0);
  EXPECT_FALSE(woken);
  EXPECT_EQ(probe().schedule_calls(), 0);
  EXPECT_EQ(evaluations, 1);
}

TEST_F(Rcuwait, SpuriousWakeUpRetestsTheConditionAndSleepsAgain) {
  task_struct* waker = new_task("waker");
  probe().on_schedule([&] { as_task(waker, [&] { EXPECT_TRUE(rcuwait_wake_up(&w)); }); });
  probe().on_schedule([&] {
    EXPECT_EQ(main_task()->__state.peek(), TASK_UNINTERRUPTIBLE);  // back to sleep
    as_task(waker, [&] {
      cond = true;
      EXPECT_TRUE(rcuwait_wake_up(&w));
    });
  });
  EXPECT_EQ(wait(TASK_UNINTERRUPTIBLE), 0);
  EXPECT_EQ(probe().schedule_calls(), 2);
  EXPECT_EQ(evaluations, 3);
}

TEST_F(Rcuwait, UninterruptibleWaitNeverReturnsEintrWithTrueCondition) {
  send_sigkill(main_task());
  cond = true;
  EXPECT_EQ(wait(TASK_UNINTERRUPTIBLE), 0);
}

// TASK_UNINTERRUPTIBLE ignores a pending fatal signal: the waiter parks, the
// signal does not wake it, only the waker does.
TEST_F(Rcuwait, UninterruptibleSleepIsNotEndedByFatalSignal) {
  task_struct* waker = new_task("waker");
  send_sigkill(main_task());
  probe().on_schedule([&] {
    as_task(waker, [&] { send_sigkill(main_task()); });
    EXPECT_EQ(main_task()->__state.peek(), TASK_UNINTERRUPTIBLE);
    as_task(waker, [&] {
      cond = true;
      EXPECT_TRUE(rcuwait_wake_up(&w));
    });
  });
  EXPECT_EQ(wait(TASK_UNINTERRUPTIBLE), 0);
  EXPECT_EQ(probe().schedule_calls(), 1);
}

TEST_F(Rcuwait, KillableWaitWithPendingSignalAndFalseConditionReturnsEintr) {
  send_sigkill(main_task());
  EXPECT_EQ(wait(TASK_KILLABLE), -EINTR);
  EXPECT_EQ(evaluations, 1);
  EXPECT_EQ(probe().schedule_calls(), 0);
  EXPECT_EQ(w.task.peek(), nullptr);
  EXPECT_EQ(main_task()->__state.peek(), TASK_RUNNING);
}

TEST_F(Rcuwait, KillableWaitTestsConditionBeforeSignal) {
  send_sigkill(main_task());
  cond = true;
  EXPECT_EQ(wait(TASK_KILLABLE), 0);
  EXPECT_EQ(w.task.peek(), nullptr);
}

TEST_F(Rcuwait, KillableSleeperIsWokenByFatalSignalAndReturnsEintr) {
  task_struct* killer = new_task("killer");
  probe().on_schedule([&] {
    EXPECT_EQ(main_task()->__state.peek(), TASK_KILLABLE);
    as_task(killer, [&] { send_sigkill(main_task()); });
    EXPECT_EQ(main_task()->__state.peek(), TASK_RUNNING);
  });
  EXPECT_EQ(wait(TASK_KILLABLE), -EINTR);
  EXPECT_EQ(probe().schedule_calls(), 1);
  EXPECT_EQ(w.task.peek(), nullptr);
}

// Killed and woken by the condition together: the condition wins (docs/MODEL.md).
TEST_F(Rcuwait, KillableSleeperWokenWithTrueConditionAndSignalReturnsZero) {
  task_struct* waker = new_task("waker");
  probe().on_schedule([&] {
    as_task(waker, [&] {
      cond = true;
      send_sigkill(main_task());
      EXPECT_FALSE(rcuwait_wake_up(&w));  // the signal already woke it
    });
  });
  EXPECT_EQ(wait(TASK_KILLABLE), 0);
}

TEST_F(Rcuwait, WakeUpWithNoWaiterReturnsFalse) {
  EXPECT_FALSE(rcuwait_wake_up(&w));
  EXPECT_EQ(rcu_read_lock_depth(main_task()), 0);
}

TEST_F(Rcuwait, WakeUpOfRunningWaiterReturnsFalse) {
  task_struct* other = new_task("other");
  w.task.raw_store(other, std::memory_order_relaxed);
  EXPECT_FALSE(rcuwait_wake_up(&w));
  EXPECT_EQ(other->__state.peek(), TASK_RUNNING);
}

TEST_F(Rcuwait, WakeUpTakesAndDropsRcu) {
  rcu_read_lock();
  EXPECT_FALSE(rcuwait_wake_up(&w));
  EXPECT_EQ(rcu_read_lock_depth(main_task()), 1);
  rcu_read_unlock();
  EXPECT_EQ(rcu_read_lock_depth(main_task()), 0);
}

using RcuwaitThreads = testing::CoreThreadsTest;

// A real second thread parks in rcuwait_wait_event(); the main thread makes
// the condition true and wakes it.
TEST_F(RcuwaitThreads, SleepingWaiterThreadIsWokenByConditionChangeAndWakeUp) {
  rcuwait w;
  rcuwait_init(&w);
  std::atomic<bool> cond{false};
  std::atomic<int> ret{-1};
  task_struct* waiter = new_task("waiter");
  std::thread t([&] {
    bind_thread(waiter);
    ret.store(rcuwait_wait_event(&w, [&] { return cond.load(); }, TASK_UNINTERRUPTIBLE));
  });
  while (w.task.peek(std::memory_order_acquire) == nullptr) std::this_thread::yield();
  EXPECT_EQ(w.task.peek(), waiter);
  cond.store(true);
  (void)rcuwait_wake_up(&w);  // false if the waiter had not parked yet: it then sees cond
  t.join();
  EXPECT_EQ(ret.load(), 0);
  EXPECT_EQ(w.task.peek(), nullptr);
  EXPECT_EQ(waiter->__state.peek(), TASK_RUNNING);
}

}  // namespace
}  // namespace vmafuzz::core
