// mm.cpp - mm_struct lifetime and the maple-lite VMA lookup.
#include "core/mm.h"

#include <cerrno>

#include "core/kernel.h"
#include "core/mmap_lock.h"
#include "core/report.h"

namespace vmafuzz::core {

mm_struct* mm_alloc() {
  mm_struct* mm = kernel().mm_cache_alloc();
  // Not yet shared: initialise without scheduling points (mm_init/mmap_init_lock).
  mm->mm_count.raw_store(1, std::memory_order_relaxed);
  mm->mm_lock_seq.sequence.raw_store(0, std::memory_order_relaxed);
  rcuwait_init(&mm->vma_writer_wait);
  mm->mm_mt.raw_store(kernel().maple_node_alloc(), std::memory_order_release);
  return mm;
}

void mmgrab(mm_struct* mm) {
  mm_check_alive(mm);
  mm->mm_count.fetch_add(1, std::memory_order_relaxed);
}

void mmdrop(mm_struct* mm) {
  mm_check_alive(mm);
  const int old = mm->mm_count.fetch_sub(1, std::memory_order_acq_rel);
  if (old <= 0) {
    core_report(ReportSite::mmdrop_underflow, mm);
    return;
  }
  if (old == 1) mm->freed.store(true, std::memory_order_release);  // __mmdrop()
}

void mm_check_alive(const mm_struct* mm) {
  if (mm->freed.load(std::memory_order_acquire)) core_report(ReportSite::mm_use_after_free, mm);
}

namespace {

vm_area_struct* node_lookup(const maple_node* node, unsigned long index) {
  for (int i = 0; i < node->nr_entries; ++i) {
    const vma_tree_entry& e = node->entries[static_cast<size_t>(i)];
    if (index >= e.start && index < e.end) return e.vma;
  }
  return nullptr;
}

void publish(mm_struct* mm, maple_node* old_node, maple_node* new_node) {
  mm->mm_mt.store(new_node, std::memory_order_release);  // rcu_assign_pointer
  call_rcu_free(&old_node->rcu);
}

}  // namespace

vm_area_struct* mas_walk(ma_state* mas) {
  if (!mas->node) {
    mas->node = mas->mm->mm_mt.load(std::memory_order_acquire);  // rcu_dereference
  } else if (rcu_head_freed(&mas->node->rcu)) {
    core_report(ReportSite::maple_state_use_after_free, mas->node);
  }
  return node_lookup(mas->node, mas->index);
}

vm_area_struct* vma_lookup(mm_struct* mm, unsigned long addr) {
  mmap_assert_locked(mm);
  ma_state mas{mm, addr};
  return mas_walk(&mas);
}

int vma_tree_insert(mm_struct* mm, vm_area_struct* vma, unsigned long start, unsigned long end) {
  mmap_assert_write_locked(mm);
  maple_node* old_node = mm->mm_mt.load(std::memory_order_relaxed);
  if (old_node->nr_entries == kMaxVmasPerMm) return -ENOMEM;
  maple_node* n = kernel().maple_node_alloc();
  int j = 0;
  bool placed = false;
  for (int i = 0; i < old_node->nr_entries; ++i) {
    const vma_tree_entry& e = old_node->entries[static_cast<size_t>(i)];
    if (!placed && start < e.start) {
      n->entries[static_cast<size_t>(j++)] = {start, end, vma};
      placed = true;
    }
    n->entries[static_cast<size_t>(j++)] = e;
  }
  if (!placed) n->entries[static_cast<size_t>(j++)] = {start, end, vma};
  n->nr_entries = j;
  publish(mm, old_node, n);
  return 0;
}

void vma_tree_erase(mm_struct* mm, vm_area_struct* vma) {
  mmap_assert_write_locked(mm);
  maple_node* old_node = mm->mm_mt.load(std::memory_order_relaxed);
  maple_node* n = kernel().maple_node_alloc();
  int j = 0;
  for (int i = 0; i < old_node->nr_entries; ++i) {
    const vma_tree_entry& e = old_node->entries[static_cast<size_t>(i)];
    if (e.vma != vma) n->entries[static_cast<size_t>(j++)] = e;
  }
  n->nr_entries = j;
  publish(mm, old_node, n);
}

const maple_node* vma_tree_peek(const mm_struct* mm) { return mm->mm_mt.peek(std::memory_order_acquire); }

}  // namespace vmafuzz::core
