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

}  // namespace
}  // namespace vmafuzz::core
