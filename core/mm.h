// mm.h - mm_struct, its lifetime and the per-mm VMA lookup
// (models include/linux/mm_types.h, kernel/fork.c mmgrab/mmdrop, and the part of
// lib/maple_tree.c that lock_vma_under_rcu() relies on).
//
// The lookup ("maple-lite") is an immutable node of sorted [start, end) -> VMA
// entries. Writers (mmap write lock held) publish a new node with a release
// store and retire the old one with call_rcu; readers load the root with
// acquire under RCU. An ma_state caches the node it walked: reusing it after
// the node's grace period is the use-after-free of B15, which the model
// reports (maple_state_use_after_free) instead of corrupting memory.
#pragma once

#include <array>
#include <atomic>

#include "core/rcu.h"
#include "core/rcuwait.h"
#include "core/rwsem.h"
#include "core/seqcount.h"

namespace vmafuzz::core {

struct vm_area_struct;

inline constexpr int kMaxVmasPerMm = 16;

struct vma_tree_entry {
  unsigned long start;  // inclusive
  unsigned long end;    // exclusive
  vm_area_struct* vma;
  friend bool operator==(const vma_tree_entry&, const vma_tree_entry&) = default;
};

// One published version of an mm's VMA lookup. Immutable once published.
struct maple_node {
  rcu_head rcu;
  int nr_entries = 0;
  std::array<vma_tree_entry, kMaxVmasPerMm> entries{};  // sorted by start, disjoint
};

struct mm_struct {
  rw_semaphore mmap_lock;
  seqcount_t mm_lock_seq;
  rcuwait vma_writer_wait;
  shared_word<int> mm_count{SharedWordKind::kMmCount, 0};  // mmgrab()/mmdrop()
  shared_word<maple_node*> mm_mt{SharedWordKind::kMmTree, nullptr};

  // Model bookkeeping, not kernel fields.
  int id = -1;                   // index in the Kernel's mm pool (stable across runs)
  std::atomic<bool> freed{false};  // set by __mmdrop(); checked at wake-ups
};

// An mm's and a lookup node's fields as Kernel::save_state() keeps them and
// restore_state() puts them back. The rwsem's wait_lock is not kept: it is
// held only inside a raw spinlock section, which has no scheduling point, so
// it is free whenever a run ends.
struct mm_saved {
  long mmap_lock_count = 0;
  rwsem_waiter* wait_head = nullptr;
  rwsem_waiter* wait_tail = nullptr;
  unsigned int mm_lock_seq = 0;
  task_struct* vma_writer_wait = nullptr;
  int mm_count = 0;
  maple_node* mm_mt = nullptr;
  int id = -1;
  bool freed = false;
  friend bool operator==(const mm_saved&, const mm_saved&) = default;
};
void mm_save(const mm_struct& mm, mm_saved& s);
void mm_restore(mm_struct& mm, const mm_saved& s);

struct maple_node_saved {
  bool retired = false;
  bool freed = false;
  uint64_t readers_left_to_quiesce = 0;
  int nr_entries = 0;
  std::array<vma_tree_entry, kMaxVmasPerMm> entries{};
  friend bool operator==(const maple_node_saved&, const maple_node_saved&) = default;
};
void maple_node_save(const maple_node& n, maple_node_saved& s);
void maple_node_restore(maple_node& n, const maple_node_saved& s);

// mm_alloc(): a new mm with mm_count 1, an empty lookup and an unlocked
// mmap_lock (mmap_init_lock). Context: any task.
mm_struct* mm_alloc();
// mmgrab()/mmdrop(): pin/unpin the mm_struct itself. The last mmdrop frees it.
void mmgrab(mm_struct* mm);
void mmdrop(mm_struct* mm);
// Model check: report mm_use_after_free if mm has been freed. Not a scheduling point.
void mm_check_alive(const mm_struct* mm);

// MA_STATE(mas, mm->mm_mt, index, index).
struct ma_state {
  mm_struct* mm;
  unsigned long index;
  maple_node* node = nullptr;  // nullptr: MAS_START, walk from the root
};

// mas_set(): reset to MAS_START at `index`.
inline void mas_set(ma_state* mas, unsigned long index) {
  mas->index = index;
  mas->node = nullptr;
}

// mas_walk(): the VMA containing mas->index, or nullptr. From MAS_START it
// loads the root (acquire; scheduling point); otherwise it reuses the cached
// node, reporting maple_state_use_after_free if that node has been freed.
// Context: RCU read side or mmap_lock held.
vm_area_struct* mas_walk(ma_state* mas);

// vma_lookup(): mas_walk from a fresh state. Context: mmap_lock held.
vm_area_struct* vma_lookup(mm_struct* mm, unsigned long addr);

// Writers: publish a new lookup version. Context: mmap write lock held; the
// range must not overlap an existing entry (insert) / the VMA must be present
// (erase). Return: 0, or -ENOMEM when the mm already has kMaxVmasPerMm VMAs.
[[nodiscard]] int vma_tree_insert(mm_struct* mm, vm_area_struct* vma, unsigned long start, unsigned long end);
void vma_tree_erase(mm_struct* mm, vm_area_struct* vma);
// The current entries (a snapshot pointer; harness use). Not a scheduling point.
const maple_node* vma_tree_peek(const mm_struct* mm);

}  // namespace vmafuzz::core
