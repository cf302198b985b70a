// lock_version_test_wake_write_only.cpp - TEST ONLY, deliberately not
// equivalent to post_series: vma_refcount_put() wakes the writer only when
// vm_refcnt drops to FLAG + 1 (a write-lock's target), never at FLAG (a
// detach's). A vma_mark_detached() that waits for its last transient reader
// then sleeps for ever. The differential (fuzz_nfc, vmafuzz diff) must tell
// this version from post_series (tests/fuzz/nfc_test.cpp, scripts/test).
#include "core/kernel.h"
#include "core/lock_version.h"
#include "core/lockdep.h"
#include "core/mmap_lock.h"
#include "core/model_fn.h"

namespace vmafuzz::core {
namespace test_wake_write_only {
namespace {

void vma_refcount_put(vm_area_struct* vma) {
  VMAFUZZ_MODEL_FN();
  mm_struct* mm = vma->vm_mm;
  lock_release(vma);
  const unsigned int newcnt = __vma_refcount_put_return(vma);
  if (newcnt == VM_REFCNT_EXCLUDE_READERS_FLAG + 1) {  // the changed wake rule
    rcuwait_wake_up(&mm->vma_writer_wait);
    mm_check_alive(mm);
  }
}

}  // namespace
}  // namespace test_wake_write_only

extern const LockVersionOps lock_version_ops_test_wake_write_only;
const LockVersionOps lock_version_ops_test_wake_write_only{
    .vma_refcount_put = test_wake_write_only::vma_refcount_put,
};

}  // namespace vmafuzz::core
