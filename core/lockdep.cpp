// lockdep.cpp - lockdep-lite (kernel/locking/lockdep.c, reduced to what the VMA lock needs).
#include "core/lockdep.h"

#include "core/report.h"
#include "core/task.h"

namespace vmafuzz::core {
namespace {

const held_lock* find_held(const task_struct* t, const void* instance) {
  for (int i = t->lockdep.depth - 1; i >= 0; --i) {
    if (t->lockdep.held[i].instance == instance) return &t->lockdep.held[i];
  }
  return nullptr;
}

}  // namespace

void lock_acquire(const void* instance, LockClass lock_class, LockMode mode, bool trylock, int subclass) {
  task_struct* t = current();
  lockdep_task_state& ld = t->lockdep;
  if (!trylock) {
    for (int i = 0; i < ld.depth; ++i) {
      const held_lock& h = ld.held[i];
      if (lock_class == LockClass::kMmapLock && h.lock_class == LockClass::kVmLock) {
        core_report(ReportSite::lockdep_mmap_lock_under_vma_lock, instance);
        break;
      }
      if (h.lock_class == lock_class && h.subclass == subclass) {
        core_report(ReportSite::lockdep_recursive_lock, instance);
        break;
      }
    }
  }
  if (ld.depth == kMaxLockDepth) {
    core_report(ReportSite::lockdep_held_lock_overflow, instance);
    return;
  }
  ld.held[ld.depth++] = held_lock{instance, lock_class, mode, trylock, subclass};
}

void lock_release(const void* instance) {
  lockdep_task_state& ld = current()->lockdep;
  for (int i = ld.depth - 1; i >= 0; --i) {
    if (ld.held[i].instance != instance) continue;
    for (int j = i; j + 1 < ld.depth; ++j) ld.held[j] = ld.held[j + 1];
    --ld.depth;
    return;
  }
  core_report(ReportSite::lockdep_release_not_held, instance);
}

void lock_downgrade(const void* instance) {
  lockdep_task_state& ld = current()->lockdep;
  for (int i = ld.depth - 1; i >= 0; --i) {
    if (ld.held[i].instance == instance) {
      ld.held[i].mode = LockMode::kShared;
      return;
    }
  }
  core_report(ReportSite::lockdep_release_not_held, instance);
}

bool lock_is_held(const void* instance) { return find_held(current(), instance) != nullptr; }

bool lock_is_held_by(const task_struct* t, const void* instance) { return find_held(t, instance) != nullptr; }

bool task_holds_lock(const task_struct* t, const void* instance, LockMode mode) {
  const held_lock* h = find_held(t, instance);
  return h != nullptr && h->mode == mode;
}

int task_held_lock_count(const task_struct* t, LockClass lock_class) {
  int n = 0;
  for (int i = 0; i < t->lockdep.depth; ++i) n += t->lockdep.held[i].lock_class == lock_class;
  return n;
}

}  // namespace vmafuzz::core
