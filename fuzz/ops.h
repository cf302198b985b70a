// ops.h - the operations a task's program is made of (see scenario.h's table).
//
// Caller operations are shaped like the kernel paths that use the lock and
// take and drop their own locks. Primitives perform one lock operation and
// leave the task holding what it took; TaskLocks tracks that at run time so a
// task that dies, or ends its program, releases everything (as exit would).
// Runtime preconditions the decoder cannot know (is the slot mapped? did the
// read lock succeed?) make an operation kSkipped rather than illegal.
#pragma once

#include <vector>

#include "core/mm.h"
#include "core/task.h"
#include "core/vma.h"
#include "fuzz/scenario.h"

namespace vmafuzz::fuzz {

class Oracles;

struct TaskLocks {
  enum class Mmap : uint8_t { kNone, kRead, kWrite };
  Mmap mmap = Mmap::kNone;
  // The VMA this task read-holds (ghost ownership): set from the moment
  // lock_vma_under_rcu() returns it until just before vma_end_read().
  core::vm_area_struct* vma_read = nullptr;
};

struct OpContext {
  core::mm_struct* mm;                           // the task's mm
  TaskLocks locks;
  const std::vector<core::task_struct*>* tasks;  // kill targets, by task index
  Oracles* oracles = nullptr;                    // told when a detach completes (may be null)
  int task = -1;                                 // this task's index
};

// Run one operation as the current task. Context: a task of the running Kernel.
OpOutcome run_op(OpContext& ctx, const Op& op);
// Release whatever the task still holds (end of program, or death).
void release_held_locks(OpContext& ctx);

// Map slot `slot` of mm: allocate, write-lock, attach, insert.
// Context: mmap write lock of mm held. Return: the VMA, or nullptr if mapped.
core::vm_area_struct* map_slot(core::mm_struct* mm, int slot);
// Unmap one VMA of mm: write-lock, erase, detach, free. Context: mmap write lock held.
void unmap_vma(OpContext& ctx, core::mm_struct* mm, core::vm_area_struct* vma);
// exit_mmap() + mmdrop(): the last user of mm tears it down.
void exit_mm(OpContext& ctx, core::mm_struct* mm);

// The payload invariant writers keep under the VMA write lock (readers that
// see it broken saw a half-done modification).
uintptr_t expected_anon_vma(const core::vm_area_struct* vma);

}  // namespace vmafuzz::fuzz
