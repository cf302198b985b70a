// ops.cpp - operations: the kernel callers of core/callers.h, and primitives.
#include "fuzz/ops.h"

#include "core/mm.h"
#include "core/mmap_lock.h"
#include "core/report.h"
#include "core/vma.h"

namespace vmafuzz::fuzz {

using namespace vmafuzz::core;

namespace {

OpOutcome op_outcome(CallerOutcome outcome) {
  switch (outcome) {
    case CallerOutcome::kDone: return OpOutcome::kDone;
    case CallerOutcome::kSkipped: return OpOutcome::kSkipped;
    case CallerOutcome::kVmaLocked: return OpOutcome::kVmaLocked;
    case CallerOutcome::kFallback: return OpOutcome::kFallback;
    case CallerOutcome::kInterrupted: return OpOutcome::kInterrupted;
  }
  harness_bug("op_outcome: unknown caller outcome");
}

vm_area_struct* locked_slot_vma(OpContext& ctx, int slot) {
  if (ctx.locks.mmap != TaskLocks::Mmap::kWrite) harness_bug("write-side primitive without the mmap write lock");
  return vma_lookup(ctx.mm, slot_address(slot));
}

}  // namespace

OpOutcome run_op(OpContext& ctx, const Op& op) {
  const int slot = op.arg % kSlots;
  switch (op.kind) {
    case OpKind::kFault: return op_outcome(core::fault(ctx, slot));
    case OpKind::kMprotect: return op_outcome(core::mprotect(ctx, slot, WriteLockWait::kUninterruptible));
    case OpKind::kMprotectKillable: return op_outcome(core::mprotect(ctx, slot, WriteLockWait::kKillable));
    case OpKind::kMunmap: return op_outcome(core::munmap(ctx, slot));
    case OpKind::kMmap: return op_outcome(core::mmap(ctx, slot));
    case OpKind::kFork: return op_outcome(core::fork(ctx));
    case OpKind::kDowngrade: return op_outcome(core::downgrade(ctx, slot));
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
      if (ctx.observer) ctx.observer->after_vma_start_write(vma, 0);
      return OpOutcome::kDone;
    }
    case OpKind::kVmaStartWriteKillable: {
      vm_area_struct* vma = locked_slot_vma(ctx, slot);
      if (!vma) return OpOutcome::kSkipped;
      const int err = vma_start_write_killable(vma);
      if (ctx.observer) ctx.observer->after_vma_start_write(vma, err);
      return err ? OpOutcome::kInterrupted : OpOutcome::kDone;
    }
    case OpKind::kVmaModify: {
      vm_area_struct* vma = locked_slot_vma(ctx, slot);
      if (!vma || !__is_vma_write_locked(vma)) return OpOutcome::kSkipped;
      modify_payload(vma);
      return OpOutcome::kDone;
    }
    case OpKind::kLockVmaUnderRcu: {
      if (ctx.locks.vma_read || ctx.locks.mmap == TaskLocks::Mmap::kWrite) harness_bug("illegal lock_vma_under_rcu");
      const unsigned long address = slot_address(slot) + kPageSize / 2;
      vm_area_struct* vma = lock_vma_under_rcu(ctx.mm, address);
      if (ctx.observer) ctx.observer->after_lock_vma_under_rcu(address, vma);
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
