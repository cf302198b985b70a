// callers.cpp - the kernel caller shapes (see callers.h).
#include "core/callers.h"

#include "core/errno.h"
#include "core/inject.h"
#include "core/lockdep.h"
#include "core/mm.h"
#include "core/mmap_lock.h"
#include "core/report.h"
#include "core/vma.h"

namespace vmafuzz::core {

static_assert(kSlotVmFlags == (VM_READ | VM_WRITE));
static_assert(kSlots <= kMaxVmasPerMm, "a parent's slots fit a child's lookup");

uintptr_t expected_anon_vma(const vm_area_struct* vma) { return vma->vm_flags * 3 + vma->vm_start; }

// The volatile sink keeps the reads.
void read_payload(const vm_area_struct* vma) {
  payload_access_all(vma, PlainOp::kRead);
  volatile uintptr_t sink = vma->vm_start ^ vma->vm_end ^ vma->vm_flags ^ vma->anon_vma ^ vma->vm_policy;
  (void)sink;
}

void modify_payload(vm_area_struct* vma) {
  payload_read(vma, PlainField::kVmFlags);
  payload_write(vma, PlainField::kVmFlags);
  payload_read(vma, PlainField::kVmStart);
  payload_write(vma, PlainField::kAnonVma);
  vma->vm_flags = (vma->vm_flags + 1) & 0xff;
  vma->anon_vma = expected_anon_vma(vma);
}

// ---- under the mmap write lock ----------------------------------------------

namespace {

// vma_start_write(), then its contract point.
void start_write(vm_area_struct* vma, CallerObserver* observer) {
  vma_start_write(vma);
  if (observer) observer->after_vma_start_write(vma, 0);
}

}  // namespace

vm_area_struct* map_slot(mm_struct* mm, int slot, unsigned long vm_flags, CallerObserver* observer) {
  if (vma_lookup(mm, slot_address(slot))) return nullptr;
  vm_area_struct* vma = vm_area_alloc(mm);
  payload_write(vma, PlainField::kVmStart);
  payload_write(vma, PlainField::kVmEnd);
  payload_write(vma, PlainField::kVmFlags);
  payload_write(vma, PlainField::kAnonVma);
  vma->vm_start = slot_address(slot);
  vma->vm_end = vma->vm_start + kPageSize;
  vma->vm_flags = vm_flags;
  vma->anon_vma = expected_anon_vma(vma);
  start_write(vma, observer);  // detached: no wait; attached write-locked
  vma_mark_attached(vma);
  if (vma_tree_insert(mm, vma, vma->vm_start, vma->vm_end)) harness_bug("map_slot: lookup full");
  return vma;
}

void unmap_vma(mm_struct* mm, vm_area_struct* vma, CallerObserver* observer) {
  start_write(vma, observer);
  vma_tree_erase(mm, vma);
  vma_mark_detached(vma);
  if (observer) observer->on_detached(vma);
  vm_area_free(vma);
}

void unmap_all(mm_struct* mm, CallerObserver* observer) {
  for (;;) {
    const maple_node* node = vma_tree_peek(mm);
    if (node->nr_entries == 0) break;
    unmap_vma(mm, node->entries[0].vma, observer);
  }
}

int mprotect_vma(vm_area_struct* vma, WriteLockWait wait, bool caller_bugs, CallerObserver* observer) {
  // BUG (B08) when injected: the caller forgets vma_start_write() and changes
  // the payload under the mmap write lock alone.
  if (!(caller_bugs && bug_injected(Bug::mprotect_without_vma_write_lock))) {
    if (wait == WriteLockWait::kUninterruptible) {
      start_write(vma, observer);
    } else {
      const int err = vma_start_write_killable(vma);
      if (observer) observer->after_vma_start_write(vma, err);
      if (err) return err;  // killed: nothing changed
    }
  }
  modify_payload(vma);
  return 0;
}

mm_struct* dup_mmap(mm_struct* parent, CallerObserver* observer) {
  mm_struct* child = mm_alloc();
  mmap_write_lock_nested(child, SINGLE_DEPTH_NESTING);
  const maple_node* node = vma_tree_peek(parent);  // stable: we hold the parent's write lock
  for (int i = 0; i < node->nr_entries; ++i) {
    vm_area_struct* orig = node->entries[static_cast<size_t>(i)].vma;
    start_write(orig, observer);
    vm_area_struct* copy = vm_area_dup(orig);
    copy->vm_mm = child;
    start_write(copy, observer);
    vma_mark_attached(copy);
    if (vma_tree_insert(child, copy, copy->vm_start, copy->vm_end)) harness_bug("fork: child lookup full");
  }
  mmap_write_unlock(child);
  return child;
}

// ---- whole callers -----------------------------------------------------------

CallerOutcome fault(CallerContext& ctx, int slot) {
  const unsigned long addr = slot_address(slot) + kPageSize / 2;
  vm_area_struct* vma = lock_vma_under_rcu(ctx.mm, addr);
  if (ctx.observer) ctx.observer->after_lock_vma_under_rcu(addr, vma);
  if (vma) {
    ctx.locks.vma_read = vma;  // ghost: read-held until vma_end_read()
    read_payload(vma);
    ctx.locks.vma_read = nullptr;
    vma_end_read(vma);
    return CallerOutcome::kVmaLocked;
  }
  mmap_read_lock(ctx.mm);
  vma = vma_lookup(ctx.mm, addr);
  if (vma) read_payload(vma);
  mmap_read_unlock(ctx.mm);
  return CallerOutcome::kFallback;
}

CallerOutcome mprotect(CallerContext& ctx, int slot, WriteLockWait wait) {
  if (wait == WriteLockWait::kKillable) {
    if (mmap_write_lock_killable(ctx.mm)) return CallerOutcome::kInterrupted;
  } else {
    mmap_write_lock(ctx.mm);
  }
  CallerOutcome outcome = CallerOutcome::kSkipped;
  if (vm_area_struct* vma = vma_lookup(ctx.mm, slot_address(slot))) {
    outcome = mprotect_vma(vma, wait, true, ctx.observer) ? CallerOutcome::kInterrupted : CallerOutcome::kDone;
  }
  mmap_write_unlock(ctx.mm);
  return outcome;
}

CallerOutcome mmap(CallerContext& ctx, int slot) {
  mmap_write_lock(ctx.mm);
  vm_area_struct* vma = map_slot(ctx.mm, slot, kSlotVmFlags, ctx.observer);
  mmap_write_unlock(ctx.mm);
  return vma ? CallerOutcome::kDone : CallerOutcome::kSkipped;
}

CallerOutcome munmap(CallerContext& ctx, int slot) {
  mmap_write_lock(ctx.mm);
  vm_area_struct* vma = vma_lookup(ctx.mm, slot_address(slot));
  if (vma) unmap_vma(ctx.mm, vma, ctx.observer);
  mmap_write_unlock(ctx.mm);
  return vma ? CallerOutcome::kDone : CallerOutcome::kSkipped;
}

CallerOutcome fork(CallerContext& ctx) {
  mmap_write_lock(ctx.mm);
  mm_struct* child = dup_mmap(ctx.mm, ctx.observer);
  mmap_write_unlock(ctx.mm);
  exit_mm(child, ctx.observer);
  return CallerOutcome::kDone;
}

CallerOutcome downgrade(CallerContext& ctx, int slot) {
  mmap_write_lock(ctx.mm);
  vm_area_struct* vma = vma_lookup(ctx.mm, slot_address(slot));
  if (vma) {
    start_write(vma, ctx.observer);
    modify_payload(vma);
  }
  // Every VMA write lock ends here; we may only read from now on.
  mmap_write_downgrade(ctx.mm);
  if (vma) read_payload(vma);
  mmap_read_unlock(ctx.mm);
  return vma ? CallerOutcome::kDone : CallerOutcome::kSkipped;
}

void exit_mm(mm_struct* mm, CallerObserver* observer) {
  mmap_write_lock(mm);
  unmap_all(mm, observer);
  mmap_write_unlock(mm);
  mmdrop(mm);
}

}  // namespace vmafuzz::core
