// kernel_test.cpp - Kernel::reset(): a reused Kernel is a new one that keeps its pools' storage.
#include <gtest/gtest.h>

#include "core/kernel.h"
#include "core/native_platform.h"

namespace vmafuzz::core {
namespace {

TEST(KernelReset, LeavesNothingOfTheLastRunButItsStorage) {
  NativePlatform platform;
  Kernel k(platform);
  k.set_injected_bugs(BugSet::of(Bug{}));
  ASSERT_FALSE(k.injected_bugs().empty());
  task_struct* t = k.task_create("T0");
  mm_struct* mm = k.mm_cache_alloc();
  vm_area_struct* a = k.vm_area_cache_alloc();
  vm_area_struct* b = k.vm_area_cache_alloc();
  k.vm_area_cache_free(a);
  (void)k.maple_node_alloc();
  ASSERT_EQ(b->generation, 1u);

  k.reset();
  EXPECT_EQ(k.task_count(), 0);
  EXPECT_EQ(k.mm_count(), 0);
  EXPECT_EQ(k.vm_area_cache_size(), 0);
  EXPECT_TRUE(k.injected_bugs().empty());
  EXPECT_EQ(k.stats().reports.load(), 0u);

  // Pids, mm ids and VMA object ids start again at 0, in the same storage,
  // and the objects are new: a freed VMA is not handed out again and no
  // allocation count carries over.
  task_struct* t2 = k.task_create("T0");
  EXPECT_EQ(t2, t);
  EXPECT_EQ(t2->pid, 0);
  EXPECT_EQ(k.mm_cache_alloc(), mm);
  vm_area_struct* a2 = k.vm_area_cache_alloc();
  EXPECT_EQ(a2, a);
  EXPECT_EQ(a2->obj_id, 0);
  EXPECT_EQ(a2->generation, 1u);
  EXPECT_FALSE(a2->cache_free.load());
  vm_area_struct* b2 = k.vm_area_cache_alloc();
  EXPECT_EQ(b2, b);
  EXPECT_EQ(b2->obj_id, 1);
}

// restore_state(): the saved objects get their fields back, the ones
// allocated since are gone, and the free list and counters are as saved.
TEST(KernelRestoreState, PutsTheSavedStateBack) {
  NativePlatform platform;
  Kernel k(platform);
  task_struct* t = k.task_create("init");
  mm_struct* mm = k.mm_cache_alloc();
  vm_area_struct* a = k.vm_area_cache_alloc();
  vm_area_struct* b = k.vm_area_cache_alloc();
  k.vm_area_cache_free(b);
  maple_node* n = k.maple_node_alloc();
  KernelState saved;
  k.save_state(saved);

  t->__state.restore(TASK_UNINTERRUPTIBLE);
  t->platform_data = &saved;
  mm->mm_count.restore(7);
  a->vm_start = 0x1000;
  k.vm_area_cache_free(a);
  vm_area_struct* reused = k.vm_area_cache_alloc();  // a, one generation on
  ASSERT_EQ(reused, a);
  (void)k.vm_area_cache_alloc();  // b
  (void)k.vm_area_cache_alloc();  // a new object
  n->nr_entries = 1;
  (void)k.task_create("T0");
  (void)k.mm_cache_alloc();
  (void)k.maple_node_alloc();
  k.stats().reports = 3;

  k.restore_state(saved);
  KernelState now;
  k.save_state(now);
  EXPECT_EQ(now, saved);
  EXPECT_EQ(k.task_count(), 1);
  EXPECT_EQ(k.mm_count(), 1);
  EXPECT_EQ(k.vm_area_cache_size(), 2);
  EXPECT_EQ(a->generation, 1u);
  EXPECT_EQ(a->vm_start, 0u);
  EXPECT_EQ(t->platform_data, nullptr);
  // The free list is as saved: b is handed out again, then a new object.
  EXPECT_EQ(k.vm_area_cache_alloc(), b);
  EXPECT_EQ(k.vm_area_cache_alloc()->obj_id, 2);
}

}  // namespace
}  // namespace vmafuzz::core
