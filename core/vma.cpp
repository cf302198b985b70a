// vma.cpp - VMA allocation, duplication and free (mm/vma_init.c).
#include "core/vma.h"

#include "core/kernel.h"
#include "core/mmap_lock.h"

namespace vmafuzz::core {

namespace {
// vm_area_struct's members, in order (see task_struct_members in task.cpp).
struct alignas(64) vm_area_struct_members {
  unsigned long vm_start;
  unsigned long vm_end;
  mm_struct* vm_mm;
  unsigned long vm_flags;
  uintptr_t anon_vma;
  uintptr_t vm_policy;
  shared_word<unsigned int> vm_lock_seq;
  alignas(64) refcount_t vm_refcnt;
  int obj_id;
  std::atomic<bool> cache_free;
  unsigned generation;
};
static_assert(sizeof(vm_area_struct) == sizeof(vm_area_struct_members), "a new vm_area_struct member: add it to vma_saved");
static_assert(sizeof(refcount_t) == sizeof(shared_word<int>), "a new refcount_t member: add it to vma_saved");
}  // namespace

void vma_save(const vm_area_struct& v, vma_saved& s) {
  s.vm_start = v.vm_start;
  s.vm_end = v.vm_end;
  s.vm_mm = v.vm_mm;
  s.vm_flags = v.vm_flags;
  s.anon_vma = v.anon_vma;
  s.vm_policy = v.vm_policy;
  s.vm_lock_seq = v.vm_lock_seq.peek();
  s.vm_refcnt = v.vm_refcnt.refs.peek();
  s.obj_id = v.obj_id;
  s.cache_free = v.cache_free.load(std::memory_order_relaxed);
  s.generation = v.generation;
}

void vma_restore(vm_area_struct& v, const vma_saved& s) {
  v.vm_start = s.vm_start;
  v.vm_end = s.vm_end;
  v.vm_mm = s.vm_mm;
  v.vm_flags = s.vm_flags;
  v.anon_vma = s.anon_vma;
  v.vm_policy = s.vm_policy;
  v.vm_lock_seq.restore(s.vm_lock_seq);
  v.vm_refcnt.refs.restore(s.vm_refcnt);
  v.obj_id = s.obj_id;
  v.cache_free.store(s.cache_free, std::memory_order_relaxed);
  v.generation = s.generation;
}

// Unchecked under TSan, as payload_access() (vma.h).
VMAFUZZ_HARNESS_READS void payload_access_all(const vm_area_struct* vma, PlainOp op) {
  detail::g_running_platform->plain_access_all(vma, op);
}

void vma_lock_init(vm_area_struct* vma, bool reset_refcnt) {
  // lockdep_init_map(): lockdep-lite keys held locks by the VMA itself.
  if (reset_refcnt) refcount_set(&vma->vm_refcnt, 0);
  vma->vm_lock_seq.store(UINT_MAX, std::memory_order_relaxed);
}

void vma_init(vm_area_struct* vma, mm_struct* mm) {
  // memset(vma, 0, sizeof(*vma)) zeroes vm_refcnt too; stale RCU readers can
  // only observe 0 there (the object was freed detached), so they fail.
  payload_access_all(vma, PlainOp::kWrite);
  vma->vm_start = 0;
  vma->vm_end = 0;
  vma->vm_flags = 0;
  vma->anon_vma = 0;
  vma->vm_policy = 0;
  refcount_set(&vma->vm_refcnt, 0);
  vma->vm_mm = mm;
  vma_lock_init(vma, false);
}

vm_area_struct* vm_area_alloc(mm_struct* mm) {
  vm_area_struct* vma = kernel().vm_area_cache_alloc();
  vma_init(vma, mm);
  return vma;
}

vm_area_struct* vm_area_dup(vm_area_struct* orig) {
  vm_area_struct* vma = kernel().vm_area_cache_alloc();
  // vm_area_init_from(): selected fields, vm_mm included; no zeroing.
  payload_access_all(orig, PlainOp::kRead);
  payload_access_all(vma, PlainOp::kWrite);
  vma->vm_mm = orig->vm_mm;
  vma->vm_start = orig->vm_start;
  vma->vm_end = orig->vm_end;
  vma->vm_flags = orig->vm_flags;
  vma->anon_vma = orig->anon_vma;
  vma->vm_policy = orig->vm_policy;
  vma_lock_init(vma, true);
  return vma;
}

void vm_area_free(vm_area_struct* vma) {
  vma_assert_detached(vma);
  kernel().vm_area_cache_free(vma);
}

bool vma_is_attached(vm_area_struct* vma) { return refcount_read(&vma->vm_refcnt) != 0; }

}  // namespace vmafuzz::core
