// mmap_lock_internal.h - model helpers that every version of the
// exclusive-lock code shares (core/lock_versions.inc); not kernel functions.
#pragma once

#include "core/vma.h"

namespace vmafuzz::core {

// The writer's sleep of __vma_start_exclude_readers() (and of the
// pre-series __vma_enter_locked()): rcuwait_wait_event() on
// vma->vm_mm->vma_writer_wait until vm_refcnt == tgt_refcnt (acquire load),
// with current->waiting_for naming the wait for the judge.
// Return: 0, or -EINTR (killable `state` and a fatal signal).
[[nodiscard]] int vma_writer_wait_event(vm_area_struct* vma, unsigned int tgt_refcnt, int state);

}  // namespace vmafuzz::core
