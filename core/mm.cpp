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

namespace {
// The types' members, in order (see task_struct_members in task.cpp).
struct rw_semaphore_members {
  shared_word<long> count;
  std::mutex wait_lock;
  rwsem_waiter* wait_head;
  rwsem_waiter* wait_tail;
};
struct mm_struct_members {
  rw_semaphore mmap_lock;
  seqcount_t mm_lock_seq;
  rcuwait vma_writer_wait;
  shared_word<int> mm_count;
  shared_word<maple_node*> mm_mt;
  int id;
  std::atomic<bool> freed;
};
struct rcu_head_members {
  bool retired;
  bool freed;
  uint64_t readers_left_to_quiesce;
};
struct maple_node_members {
  rcu_head rcu;
  int nr_entries;
  std::array<vma_tree_entry, kMaxVmasPerMm> entries;
};
static_assert(sizeof(rw_semaphore) == sizeof(rw_semaphore_members), "a new rw_semaphore member: add it to mm_saved");
static_assert(sizeof(seqcount_t) == sizeof(shared_word<unsigned int>), "a new seqcount_t member: add it to mm_saved");
static_assert(sizeof(rcuwait) == sizeof(shared_word<task_struct*>), "a new rcuwait member: add it to mm_saved");
static_assert(sizeof(mm_struct) == sizeof(mm_struct_members), "a new mm_struct member: add it to mm_saved");
static_assert(sizeof(rcu_head) == sizeof(rcu_head_members), "a new rcu_head member: add it to maple_node_saved");
static_assert(sizeof(maple_node) == sizeof(maple_node_members), "a new maple_node member: add it to maple_node_saved");
}  // namespace

void mm_save(const mm_struct& mm, mm_saved& s) {
  s.mmap_lock_count = mm.mmap_lock.count.peek();
  s.wait_head = mm.mmap_lock.wait_head;
  s.wait_tail = mm.mmap_lock.wait_tail;
  s.mm_lock_seq = mm.mm_lock_seq.sequence.peek();
  s.vma_writer_wait = mm.vma_writer_wait.task.peek();
  s.mm_count = mm.mm_count.peek();
  s.mm_mt = mm.mm_mt.peek();
  s.id = mm.id;
  s.freed = mm.freed.load(std::memory_order_relaxed);
}

void mm_restore(mm_struct& mm, const mm_saved& s) {
  mm.mmap_lock.count.restore(s.mmap_lock_count);
  mm.mmap_lock.wait_head = s.wait_head;
  mm.mmap_lock.wait_tail = s.wait_tail;
  mm.mm_lock_seq.sequence.restore(s.mm_lock_seq);
  mm.vma_writer_wait.task.restore(s.vma_writer_wait);
  mm.mm_count.restore(s.mm_count);
  mm.mm_mt.restore(s.mm_mt);
  mm.id = s.id;
  mm.freed.store(s.freed, std::memory_order_relaxed);
}

void maple_node_save(const maple_node& n, maple_node_saved& s) {
  s.retired = n.rcu.retired;
  s.freed = n.rcu.freed;
  s.readers_left_to_quiesce = n.rcu.readers_left_to_quiesce;
  s.nr_entries = n.nr_entries;
  s.entries = n.entries;
}

void maple_node_restore(maple_node& n, const maple_node_saved& s) {
  n.rcu.retired = s.retired;
  n.rcu.freed = s.freed;
  n.rcu.readers_left_to_quiesce = s.readers_left_to_quiesce;
  n.nr_entries = s.nr_entries;
  // The entries from nr_entries on are as saved: a node is written only
  // before it is published (vma_tree_insert, vma_tree_erase), never after.
  for (int i = 0; i < s.nr_entries; ++i) n.entries[static_cast<size_t>(i)] = s.entries[static_cast<size_t>(i)];
}

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
