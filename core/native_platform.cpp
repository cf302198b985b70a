// native_platform.cpp - real threads, std::atomic, mutex/condvar parking.
#include "core/native_platform.h"

#include <atomic>
#include <string>

#include "core/kernel.h"
#include "core/task.h"

namespace vmafuzz::core {
namespace {

std::atomic<unsigned long> g_next_instance_id{1};

struct ThreadBinding {
  unsigned long platform_id = 0;
  task_struct* task = nullptr;
};
thread_local ThreadBinding t_binding;

}  // namespace

NativePlatform::NativePlatform() : instance_id_(g_next_instance_id.fetch_add(1)) {}

NativePlatform::~NativePlatform() = default;

void NativePlatform::bind_current_thread(task_struct* t) {
  {
    std::lock_guard<std::mutex> g(parkings_lock_);
    if (!t->platform_data) t->platform_data = &parkings_.emplace_back();
  }
  t_binding = ThreadBinding{instance_id_, t};
}

task_struct* NativePlatform::current_or_null() {
  if (t_binding.platform_id != instance_id_) {
    bind_current_thread(kernel().task_create("thread-" + std::to_string(kernel().task_count())));
  }
  return t_binding.task;
}

NativePlatform::Parking* NativePlatform::parking_of(task_struct* t) {
  std::lock_guard<std::mutex> g(parkings_lock_);
  if (!t->platform_data) t->platform_data = &parkings_.emplace_back();
  return static_cast<Parking*>(t->platform_data);
}

void NativePlatform::schedule() {
  task_struct* t = current_or_null();
  Parking* p = parking_of(t);
  std::unique_lock<std::mutex> lk(p->mu);
  for (;;) {
    const unsigned state = t->__state.peek(std::memory_order_seq_cst);
    if (state == TASK_RUNNING) break;
    if ((state & TASK_WAKEKILL) && t->fatal_signal.peek(std::memory_order_seq_cst)) break;
    p->cv.wait(lk);
  }
  t->__state.raw_store(TASK_RUNNING, std::memory_order_seq_cst);
}

bool NativePlatform::wake_up_state(task_struct* p, unsigned state) {
  Parking* pk = parking_of(p);
  std::lock_guard<std::mutex> lk(pk->mu);
  if (!(p->__state.peek(std::memory_order_seq_cst) & state)) return false;
  p->__state.raw_store(TASK_RUNNING, std::memory_order_seq_cst);
  pk->cv.notify_one();
  return true;
}

}  // namespace vmafuzz::core
