// ops.cpp - operation implementations: kernel caller shapes and primitives.
#include "fuzz/ops.h"

#include "core/kernel.h"
#include "core/inject.h"
#include "core/lockdep.h"
#include "core/mmap_lock.h"
#include "core/report.h"
#include "fuzz/harness_section.h"
#include "fuzz/oracles.h"

namespace vmafuzz::fuzz {

using namespace vmafuzz::core;

namespace {

unsigned long slot_address(int slot) { return static_cast<unsigned long>(slot) * kPageSize; }

// Read the payload a page fault would use. The volatile sink keeps the reads.
void read_payload(const vm_area_struct* vma) {
  volatile uintptr_t sink = vma->vm_start ^ vma->vm_end ^ vma->vm_flags ^ vma->anon_vma ^ vma->vm_policy;
  (void)sink;
}

// mprotect()-style change: only under the VMA write lock.
void modify_payload(vm_area_struct* vma) {
  vma->vm_flags = (vma->vm_flags + 1) & 0xff;
  vma->anon_vma = expected_anon_vma(vma);
}

OpOutcome fault(OpContext& ctx, int slot) {
  const unsigned long addr = slot_address(slot) + kPageSize / 2;
  if (vm_area_struct* vma = lock_vma_under_rcu(ctx.mm, addr)) {
    ctx.locks.vma_read = vma;  // ghost: read-held until vma_end_read()
    read_payload(vma);
    ctx.locks.vma_read = nullptr;
    vma_end_read(vma);
    return OpOutcome::kVmaLocked;
  }
  mmap_read_lock(ctx.mm);
  if (vm_area_struct* vma = vma_lookup(ctx.mm, addr)) read_payload(vma);
  mmap_read_unlock(ctx.mm);
  return OpOutcome::kFallback;
}


OpOutcome mprotect(OpContext& ctx, int slot, bool killable) {
  if (killable) {
    if (mmap_write_lock_killable(ctx.mm)) return OpOutcome::kInterrupted;
  } else {
    mmap_write_lock(ctx.mm);
  }
  OpOutcome outcome = OpOutcome::kSkipped;
  if (vm_area_struct* vma = vma_lookup(ctx.mm, slot_address(slot))) {
    if (killable && vma_start_write_killable(vma)) {
      outcome = OpOutcome::kInterrupted;
    } else {
      // BUG (B08) when injected: the caller forgets vma_start_write().
      if (!killable && !bug_injected(Bug::mprotect_without_vma_write_lock)) vma_start_write(vma);
      modify_payload(vma);
      outcome = OpOutcome::kDone;
    }
  }
  mmap_write_unlock(ctx.mm);
  return outcome;
}

OpOutcome munmap(OpContext& ctx, int slot) {
  mmap_write_lock(ctx.mm);
  vm_area_struct* vma = vma_lookup(ctx.mm, slot_address(slot));
  if (vma) unmap_vma(ctx, ctx.mm, vma);
  mmap_write_unlock(ctx.mm);
  return vma ? OpOutcome::kDone : OpOutcome::kSkipped;
}

OpOutcome mmap(OpContext& ctx, int slot) {
  mmap_write_lock(ctx.mm);
  vm_area_struct* vma = map_slot(ctx.mm, slot);
  mmap_write_unlock(ctx.mm);
  return vma ? OpOutcome::kDone : OpOutcome::kSkipped;
}

// dup_mmap(): write-lock each parent VMA (the B03 fix), copy it into a child
// mm, then the child exits at once, so its copies are freed and recycled.
OpOutcome fork(OpContext& ctx) {
  mm_struct* parent = ctx.mm;
  mmap_write_lock(parent);
  mm_struct* child = mm_alloc();
  mmap_write_lock_nested(child, SINGLE_DEPTH_NESTING);
  const maple_node* node = vma_tree_peek(parent);  // stable: we hold the parent's write lock
  for (int i = 0; i < node->nr_entries; ++i) {
    vm_area_struct* orig = node->entries[static_cast<size_t>(i)].vma;
    vma_start_write(orig);
    vm_area_struct* copy = vm_area_dup(orig);
    copy->vm_mm = child;
    vma_start_write(copy);
    vma_mark_attached(copy);
    if (vma_tree_insert(child, copy, copy->vm_start, copy->vm_end)) harness_bug("fork: child lookup full");
  }
  mmap_write_unlock(child);
  mmap_write_unlock(parent);
  exit_mm(ctx, child);
  return OpOutcome::kDone;
}

OpOutcome downgrade(OpContext& ctx, int slot) {
  mmap_write_lock(ctx.mm);
  vm_area_struct* vma = vma_lookup(ctx.mm, slot_address(slot));
  if (vma) {
    vma_start_write(vma);
    modify_payload(vma);
  }
  // Every VMA write lock ends here; we may only read from now on.
  mmap_write_downgrade(ctx.mm);
  if (vma) read_payload(vma);
  mmap_read_unlock(ctx.mm);
  return vma ? OpOutcome::kDone : OpOutcome::kSkipped;
}

// Primitives -------------------------------------------------------------

vm_area_struct* locked_slot_vma(OpContext& ctx, int slot) {
  if (ctx.locks.mmap != TaskLocks::Mmap::kWrite) harness_bug("write-side primitive without the mmap write lock");
  return vma_lookup(ctx.mm, slot_address(slot));
}

}  // namespace

uintptr_t expected_anon_vma(const vm_area_struct* vma) { return vma->vm_flags * 3 + vma->vm_start; }

vm_area_struct* map_slot(mm_struct* mm, int slot) {
  if (vma_lookup(mm, slot_address(slot))) return nullptr;
  vm_area_struct* vma = vm_area_alloc(mm);
  vma->vm_start = slot_address(slot);
  vma->vm_end = vma->vm_start + kPageSize;
  vma->vm_flags = VM_READ | VM_WRITE;
  vma->anon_vma = expected_anon_vma(vma);
  vma_start_write(vma);  // detached: no wait; attached write-locked
  vma_mark_attached(vma);
  if (vma_tree_insert(mm, vma, vma->vm_start, vma->vm_end)) harness_bug("map_slot: lookup full");
  return vma;
}

void unmap_vma(OpContext& ctx, mm_struct* mm, vm_area_struct* vma) {
  vma_start_write(vma);
  vma_tree_erase(mm, vma);
  vma_mark_detached(vma);
  if (ctx.oracles) {
    HarnessSection harness;  // the oracle reads other tasks' ghost state
    ctx.oracles->on_detached(ctx.task, vma);
  }
  vm_area_free(vma);
}

void exit_mm(OpContext& ctx, mm_struct* mm) {
  mmap_write_lock(mm);
  for (;;) {
    const maple_node* node = vma_tree_peek(mm);
    if (node->nr_entries == 0) break;
    unmap_vma(ctx, mm, node->entries[0].vma);
  }
  mmap_write_unlock(mm);
  mmdrop(mm);
}

OpOutcome run_op(OpContext& ctx, const Op& op) {
  const int slot = op.arg % kSlots;
  switch (op.kind) {
    case OpKind::kFault: return fault(ctx, slot);
    case OpKind::kMprotect: return mprotect(ctx, slot, false);
    case OpKind::kMprotectKillable: return mprotect(ctx, slot, true);
    case OpKind::kMunmap: return munmap(ctx, slot);
    case OpKind::kMmap: return mmap(ctx, slot);
    case OpKind::kFork: return fork(ctx);
    case OpKind::kDowngrade: return downgrade(ctx, slot);
    case OpKind::kKill:
      send_sigkill((*ctx.tasks)[op.arg % ctx.tasks->size()]);
      return OpOutcome::kDone;

    case OpKind::kMmapReadLock:
      if (ctx.locks.mmap != TaskLocks::Mmap::kNone || ctx.locks.vma_read) harness_bug("illegal mmap_read_lock");
      mmap_read_lock(ctx.mm);
      ctx.locks.mmap = TaskLocks::Mmap::kRead;
      return OpOutcome::kDone;
    case OpKind::kMmapReadUnlock:
      if (ctx.locks.mmap != TaskLocks::Mmap::kRead) harness_bug("illegal mmap_read_unlock");
      mmap_read_unlock(ctx.mm);
      ctx.locks.mmap = TaskLocks::Mmap::kNone;
      return OpOutcome::kDone;
    case OpKind::kMmapWriteLock:
      if (ctx.locks.mmap != TaskLocks::Mmap::kNone || ctx.locks.vma_read) harness_bug("illegal mmap_write_lock");
      mmap_write_lock(ctx.mm);
      ctx.locks.mmap = TaskLocks::Mmap::kWrite;
      return OpOutcome::kDone;
    case OpKind::kMmapWriteUnlock:
      if (ctx.locks.mmap != TaskLocks::Mmap::kWrite) harness_bug("illegal mmap_write_unlock");
      mmap_write_unlock(ctx.mm);
      ctx.locks.mmap = TaskLocks::Mmap::kNone;
      return OpOutcome::kDone;
    case OpKind::kMmapWriteDowngrade:
      if (ctx.locks.mmap != TaskLocks::Mmap::kWrite) harness_bug("illegal mmap_write_downgrade");
      mmap_write_downgrade(ctx.mm);
      ctx.locks.mmap = TaskLocks::Mmap::kRead;
      return OpOutcome::kDone;
    case OpKind::kVmaStartWrite: {
      vm_area_struct* vma = locked_slot_vma(ctx, slot);
      if (!vma) return OpOutcome::kSkipped;
      vma_start_write(vma);
      return OpOutcome::kDone;
    }
    case OpKind::kVmaStartWriteKillable: {
      vm_area_struct* vma = locked_slot_vma(ctx, slot);
      if (!vma) return OpOutcome::kSkipped;
      return vma_start_write_killable(vma) ? OpOutcome::kInterrupted : OpOutcome::kDone;
    }
    case OpKind::kVmaModify: {
      vm_area_struct* vma = locked_slot_vma(ctx, slot);
      if (!vma || !__is_vma_write_locked(vma)) return OpOutcome::kSkipped;
      modify_payload(vma);
      return OpOutcome::kDone;
    }
    case OpKind::kLockVmaUnderRcu: {
      if (ctx.locks.vma_read || ctx.locks.mmap == TaskLocks::Mmap::kWrite) harness_bug("illegal lock_vma_under_rcu");
      vm_area_struct* vma = lock_vma_under_rcu(ctx.mm, slot_address(slot) + kPageSize / 2);
      if (!vma) return OpOutcome::kNull;
      ctx.locks.vma_read = vma;
      read_payload(vma);
      return OpOutcome::kVmaLocked;
    }
    case OpKind::kVmaEndRead: {
      vm_area_struct* vma = ctx.locks.vma_read;
      if (!vma) return OpOutcome::kSkipped;
      ctx.locks.vma_read = nullptr;
      vma_end_read(vma);
      return OpOutcome::kDone;
    }
  }
  harness_bug("run_op: unknown operation");
}

void release_held_locks(OpContext& ctx) {
  if (vm_area_struct* vma = ctx.locks.vma_read) {
    ctx.locks.vma_read = nullptr;
    vma_end_read(vma);
  }
  switch (ctx.locks.mmap) {
    case TaskLocks::Mmap::kNone: break;
    case TaskLocks::Mmap::kRead: mmap_read_unlock(ctx.mm); break;
    case TaskLocks::Mmap::kWrite: mmap_write_unlock(ctx.mm); break;
  }
  ctx.locks.mmap = TaskLocks::Mmap::kNone;
}

}  // namespace vmafuzz::fuzz
