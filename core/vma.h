// vma.h - vm_area_struct and its SLAB_TYPESAFE_BY_RCU cache
// (models include/linux/mm_types.h and mm/vma_init.c).
//
// Lock state (vm_refcnt, vm_lock_seq) are shared words. Payload fields are
// plain members: writers change them only while the VMA is write-locked or
// detached, readers read them only under a read lock, so a missing
// happens-before edge shows up as a ThreadSanitizer race .
//
// Objects are type-stable: vm_area_free() returns the object to the cache,
// and the next vm_area_alloc()/vm_area_dup() - in any mm - hands the same
// object out again at once (LIFO). Stale RCU readers may still be looking at
// it, exactly as with SLAB_TYPESAFE_BY_RCU.
#pragma once

#include <climits>
#include <cstdint>

#include "core/refcount.h"

namespace vmafuzz::core {

struct mm_struct;

// vm_refcnt constants.
inline constexpr int VM_REFCNT_EXCLUDE_READERS_BIT = 30;
inline constexpr int VM_REFCNT_EXCLUDE_READERS_FLAG = 1 << VM_REFCNT_EXCLUDE_READERS_BIT;
inline constexpr int VM_REFCNT_LIMIT = VM_REFCNT_EXCLUDE_READERS_FLAG - 1;

// Payload flag bits the model uses (a subset of the kernel's VM_*).
inline constexpr unsigned long VM_READ = 0x1;
inline constexpr unsigned long VM_WRITE = 0x2;
inline constexpr unsigned long VM_EXEC = 0x4;

struct alignas(64) vm_area_struct {
  // Payload (plain; see the banner).
  unsigned long vm_start = 0;
  unsigned long vm_end = 0;
  mm_struct* vm_mm = nullptr;  // set at alloc/dup; unstable RCU readers may read it
  unsigned long vm_flags = 0;
  uintptr_t anon_vma = 0;      // anon_vma-like pointer (0: none yet)
  uintptr_t vm_policy = 0;     // mempolicy-like pointer

  // Written only by the mmap write lock holder; the early check in
  // vma_start_read() reads it without any lock, so it must be atomic.
  shared_word<unsigned int> vm_lock_seq{SharedWordKind::kVmLockSeq, UINT_MAX};

  // Attached state, reader count and the exclude-readers flag.
  // ____cacheline_aligned_in_smp in the kernel.
  alignas(64) refcount_t vm_refcnt{SharedWordKind::kVmRefcnt};

  // Model bookkeeping, not kernel fields.
  int obj_id = -1;              // index in the VMA cache (stable across runs)
  std::atomic<bool> cache_free{false};  // currently free in the cache
  unsigned generation = 0;      // incremented on every allocation of this object
};

// A VMA object's fields as Kernel::save_state() keeps them and
// restore_state() puts them back.
struct vma_saved {
  unsigned long vm_start = 0;
  unsigned long vm_end = 0;
  mm_struct* vm_mm = nullptr;
  unsigned long vm_flags = 0;
  uintptr_t anon_vma = 0;
  uintptr_t vm_policy = 0;
  unsigned int vm_lock_seq = 0;
  int vm_refcnt = 0;
  int obj_id = -1;
  bool cache_free = false;
  unsigned generation = 0;
  friend bool operator==(const vma_saved&, const vma_saved&) = default;
};
void vma_save(const vm_area_struct& v, vma_saved& s);
void vma_restore(vm_area_struct& v, const vma_saved& s);

// Tell the running platform of plain accesses to payload fields (the sim's
// happens-before race oracle); not scheduling points. Unchecked under TSan,
// as shared_word's reads of the platform (shared_word.h).
VMAFUZZ_HARNESS_READS inline void payload_access(const vm_area_struct* vma, PlainField f, PlainOp op) {
  detail::g_running_platform->plain_access(vma, f, op);
}
inline void payload_read(const vm_area_struct* vma, PlainField f) { payload_access(vma, f, PlainOp::kRead); }
inline void payload_write(const vm_area_struct* vma, PlainField f) { payload_access(vma, f, PlainOp::kWrite); }
// Every payload field (vm_start .. vm_policy), read or written.
void payload_access_all(const vm_area_struct* vma, PlainOp op);

// vma_lock_init(): reset vm_refcnt to 0 if asked, vm_lock_seq to UINT_MAX.
void vma_lock_init(vm_area_struct* vma, bool reset_refcnt);
// vma_init(): zero the object (payload and vm_refcnt), set vm_mm, vma_lock_init(false).
void vma_init(vm_area_struct* vma, mm_struct* mm);

// vm_area_alloc(): take an object from the cache and vma_init() it. Detached.
vm_area_struct* vm_area_alloc(mm_struct* mm);
// vm_area_dup(): take an object, copy orig's payload and vm_mm (no zeroing),
// vma_lock_init(new, true). Context: orig stable (caller holds mmap_lock and
// has write-locked orig, as dup_mmap() does).
vm_area_struct* vm_area_dup(vm_area_struct* orig);
// vm_area_free(): vma_assert_detached(), then return the object to the cache.
void vm_area_free(vm_area_struct* vma);

// vma_is_attached(): refcount_read(&vma->vm_refcnt) != 0. Scheduling point.
bool vma_is_attached(vm_area_struct* vma);

}  // namespace vmafuzz::core
