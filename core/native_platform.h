// native_platform.h - the Platform for real threads.
//
// Shared words are plain std::atomic operations (scheduling points cost
// nothing); a task is an OS thread bound to a task_struct; schedule() parks
// on the task's mutex/condvar until wake_up_state() sets TASK_RUNNING or, for
// TASK_WAKEKILL sleeps, a fatal signal is pending. Used by unit tests (one
// thread), the real-thread stress test and trace recording.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "core/platform.h"

namespace vmafuzz::core {

// Sees every scheduling point of a NativePlatform, on the accessing thread,
// just before the access (trace recording: repro/trace_record.h). Must be
// thread-safe; it must not access shared words itself.
class AccessRecorder {
 public:
  virtual void on_scheduling_point(task_struct* current, const SharedAccess& access) = 0;

 protected:
  ~AccessRecorder() = default;
};

class NativePlatform final : public Platform {
 public:
  NativePlatform();
  ~NativePlatform() override;

  void scheduling_point(const SharedAccess& a) override {
    if (AccessRecorder* r = recorder_.load(std::memory_order_relaxed)) r->on_scheduling_point(current_or_null(), a);
  }
  // Install (or, with nullptr, remove) the recorder. Context: no task running.
  void set_recorder(AccessRecorder* r) { recorder_.store(r, std::memory_order_relaxed); }
  // The calling thread's task. A thread that was never bound gets a new task
  // of the running Kernel on first use (so single-threaded tests just work).
  task_struct* current_or_null() override;
  void schedule() override;
  bool wake_up_state(task_struct* p, unsigned state) override;

  // Bind the calling thread to `t` (a task of the running Kernel).
  void bind_current_thread(task_struct* t);

 private:
  struct Parking {
    std::mutex mu;
    std::condition_variable cv;
  };
  Parking* parking_of(task_struct* t);

  std::atomic<AccessRecorder*> recorder_{nullptr};
  const unsigned long instance_id_;  // tells this platform's thread bindings from a previous one's
  std::mutex parkings_lock_;
  std::deque<Parking> parkings_;
};

}  // namespace vmafuzz::core
