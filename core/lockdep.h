// lockdep.h - lockdep-lite: per-task held locks and the mmap_lock -> vm_lock order
// (models the parts of kernel/locking/lockdep.c that the VMA lock relies on).
//
// Tracks, per task, which lock instances it holds and in which mode, exactly
// where the kernel calls lock_acquire()/lock_release() (docs/MODEL.md, "Lockdep annotations"). This is
// also the model's ghost ownership of VMA read locks: "task t holds a read lock
// on vma v" is "t holds v's vm_lock map in shared mode".
#pragma once

#include <array>
#include <cstdint>

namespace vmafuzz::core {

struct task_struct;

enum class LockClass : uint8_t { kMmapLock, kVmLock };
enum class LockMode : uint8_t { kShared, kExclusive };

struct held_lock {
  const void* instance;  // &mm->mmap_lock, or the VMA (its vmlock_dep_map)
  LockClass lock_class;
  LockMode mode;
  bool trylock;
  int subclass;  // lockdep nesting annotation (e.g. SINGLE_DEPTH_NESTING)
  friend bool operator==(const held_lock&, const held_lock&) = default;
};

inline constexpr int SINGLE_DEPTH_NESTING = 1;

inline constexpr int kMaxLockDepth = 16;

struct lockdep_task_state {
  // Only held[0, depth) is ever read: left uninitialised, a new task (one
  // per program and run) does not clear 384 bytes it never reads.
  std::array<held_lock, kMaxLockDepth> held;
  int depth = 0;
};

// lock_acquire(): record that current takes `instance`. Reports
//  - lockdep_mmap_lock_under_vma_lock for a blocking mmap_lock acquisition while
//    a vm_lock is held (a writer holding mmap_lock may be waiting for us: ABBA);
//  - lockdep_recursive_lock for a non-trylock acquisition of a class already held
//    in the same subclass (the kernel's "possible recursive locking detected").
// Context: current task; not a scheduling point.
void lock_acquire(const void* instance, LockClass lock_class, LockMode mode, bool trylock, int subclass = 0);

// lock_release(): reports lockdep_release_not_held if current does not hold it.
void lock_release(const void* instance);

// Change the mode of a held lock (downgrade_write()).
void lock_downgrade(const void* instance);

// lock_is_held(): does current hold `instance` (any mode)?
bool lock_is_held(const void* instance);
// Does task `t` hold `instance` in any mode? (Harness/oracle query.)
bool lock_is_held_by(const task_struct* t, const void* instance);
// Does task `t` hold `instance` in `mode`? (Harness/oracle query.)
bool task_holds_lock(const task_struct* t, const void* instance, LockMode mode);
// Number of locks `t` holds of `lock_class`.
int task_held_lock_count(const task_struct* t, LockClass lock_class);

}  // namespace vmafuzz::core
