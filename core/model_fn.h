// model_fn.h - which model function a task is in: a ghost call stack.
//
// VMAFUZZ_MODEL_FN() at the top of a model function (core/mmap_lock.cpp,
// refcount.cpp, rwsem.cpp, rcuwait.cpp) pushes its kernel name (__func__) on
// the running task's ModelFnStack for the function's duration. A platform
// that wants the names (the sim, when it records a trace for `vmafuzz
// explain`) points g_model_fn_stack at the running task's stack at every
// switch; otherwise it stays null and a marker costs one load and a branch.
// Nothing here is a scheduling point, and the names are metadata: no hash,
// no decision reads them (pointer values differ between builds).
#pragma once

#include <cstdint>

namespace vmafuzz::core {

struct ModelFnStack {
  static constexpr int kMax = 8;  // deeper frames are counted, not named
  const char* fn[kMax] = {};
  int depth = 0;
};

namespace detail {
// The running task's stack, or null (native platform, untraced sim runs).
extern ModelFnStack* g_model_fn_stack;
}  // namespace detail

class ModelFnScope {
 public:
  // The stack is written by its own task only and read by the platform
  // between switches: bookkeeping, invisible to ThreadSanitizer like the
  // rest of the harness's (fibers switch without synchronising).
  __attribute__((no_sanitize("thread"))) explicit ModelFnScope(const char* fn)
      : stack_(detail::g_model_fn_stack) {
    if (!stack_) return;
    if (stack_->depth < ModelFnStack::kMax) stack_->fn[stack_->depth] = fn;
    ++stack_->depth;
  }
  __attribute__((no_sanitize("thread"))) ~ModelFnScope() {
    if (stack_) --stack_->depth;
  }
  ModelFnScope(const ModelFnScope&) = delete;
  ModelFnScope& operator=(const ModelFnScope&) = delete;

 private:
  ModelFnStack* const stack_;
};

}  // namespace vmafuzz::core

#define VMAFUZZ_MODEL_FN() const ::vmafuzz::core::ModelFnScope vmafuzz_model_fn_scope_(__func__)
