// callers.h - kernel callers of the lock: the page fault, mprotect, mmap,
// munmap, fork (dup_mmap), mmap_write_downgrade and exit_mmap shapes that the
// fuzz scenarios (fuzz/ops.cpp) and the stress workload (stress/) both run.
//
// They stand in for the code above the lock (handle_mm_fault, mm/mprotect.c,
// mm/vma.c, kernel/fork.c, mm/mmap.c), reduced to what the lock sees: which
// locks are taken in which order, and a payload that is read under a read
// lock (read_payload) and changed only under the VMA write lock
// (modify_payload), so a missing happens-before edge is a ThreadSanitizer
// race on it and a torn change breaks expected_anon_vma().
//
// An mm's address space is kSlots page-sized slots; each maps at most one VMA.
//
// Two layers:
//   - the parts that run under the mmap write lock (map_slot, unmap_vma,
//     unmap_all, mprotect_vma, dup_mmap): the stress writer takes that lock
//     once per step, killably, and then runs one of them;
//   - whole callers that take and drop their own locks (fault, mprotect,
//     mmap, munmap, fork, downgrade, exit_mm): the scenario operations.
//
// Callers that are injection points of a catalogued bug (B08 in mprotect_vma)
// take whether caller bugs apply; the rest of the catalog is in the lock itself.
#pragma once

#include <cstdint>

namespace vmafuzz::core {

struct mm_struct;
struct vm_area_struct;

inline constexpr int kSlots = 8;  // page-sized address slots per mm
inline constexpr unsigned long kPageSize = 0x1000;
constexpr unsigned long slot_address(int slot) { return static_cast<unsigned long>(slot) * kPageSize; }
// map_slot()'s default vm_flags: VM_READ | VM_WRITE (this header stays free of vma.h).
inline constexpr unsigned long kSlotVmFlags = 0x3;

// The payload invariant writers keep under the VMA write lock (readers that
// see it broken saw a half-done modification).
uintptr_t expected_anon_vma(const vm_area_struct* vma);
// Read the payload a page fault would use. Context: vma read-locked or mmap_lock held.
void read_payload(const vm_area_struct* vma);
// An mprotect()-style change of the payload. Context: vma write-locked (or detached).
void modify_payload(vm_area_struct* vma);

// Told of events of the callers that the harness checks but the kernel does
// not (the fuzz oracles, the stress workload's counters); observer parameters
// may be null. Called on the
// calling task, in model code: an implementation that keeps harness state
// hides it from ThreadSanitizer itself (fuzz/harness_section.h).
class CallerObserver {
 public:
  // vma_mark_detached(vma) just returned in unmap_vma(); vma is not freed yet.
  virtual void on_detached(const vm_area_struct* vma) = 0;
  // Contract points: the lock function just returned `ret` to its caller
  // (the harness checks its postconditions, docs/ORACLES.md "Operation
  // contracts"). vma_start_write(): ret 0. The defaults ignore them.
  virtual void after_vma_start_write(const vm_area_struct* /*vma*/, int /*ret*/) {}
  virtual void after_lock_vma_under_rcu(unsigned long /*address*/, const vm_area_struct* /*ret*/) {}

 protected:
  ~CallerObserver() = default;
};

// What a task holds between the steps of its program. vma_read is ghost
// ownership: set from the moment lock_vma_under_rcu() returns the VMA to the
// caller until just before its vma_end_read() (docs/ORACLES.md).
struct TaskLocks {
  enum class Mmap : uint8_t { kNone, kRead, kWrite };
  Mmap mmap = Mmap::kNone;
  vm_area_struct* vma_read = nullptr;
};

// The task a whole caller runs as: its mm, what it holds, who is told.
struct CallerContext {
  mm_struct* mm = nullptr;
  TaskLocks locks;
  CallerObserver* observer = nullptr;  // may be null
};

// What a whole caller observed.
enum class CallerOutcome : uint8_t {
  kDone,         // completed
  kSkipped,      // the slot was not mapped (mprotect, munmap, downgrade) or was (mmap)
  kVmaLocked,    // fault: got the VMA read lock
  kFallback,     // fault: fell back to mmap_read_lock
  kInterrupted,  // mprotect, killable: a killable lock returned -EINTR
};

// How mprotect waits for the VMA write lock (and, in mprotect(), the mmap lock).
enum class WriteLockWait : uint8_t { kUninterruptible, kKillable };

// ---- under the mmap write lock of mm (Context: held by the current task) ----

// mmap_region(): allocate a VMA for `slot`, write-lock it (detached: no wait),
// attach it, insert it. Return: the VMA, or nullptr if the slot is mapped.
vm_area_struct* map_slot(mm_struct* mm, int slot, unsigned long vm_flags = kSlotVmFlags,
                         CallerObserver* observer = nullptr);
// Unmap one VMA: write-lock, erase, detach, tell the observer, free.
void unmap_vma(mm_struct* mm, vm_area_struct* vma, CallerObserver* observer);
// unmap_vma() every VMA of mm, lowest address first.
void unmap_all(mm_struct* mm, CallerObserver* observer);
// mprotect_fixup(): write-lock vma, then modify_payload(). Return: 0, or
// -EINTR (kKillable only) with nothing changed.
// BUG (B08, mprotect_without_vma_write_lock) when injected and caller_bugs:
// the VMA write lock is forgotten, in either wait mode.
[[nodiscard]] int mprotect_vma(vm_area_struct* vma, WriteLockWait wait, bool caller_bugs = true,
                               CallerObserver* observer = nullptr);
// dup_mmap(): a new mm holding a copy of each VMA of parent, each parent VMA
// write-locked first (the B03 fix). Return: the child mm, unlocked, mm_count 1.
mm_struct* dup_mmap(mm_struct* parent, CallerObserver* observer = nullptr);

// ---- whole callers (Context: a task holding no lock of ctx.mm) ----

// A page fault in `slot`: lock_vma_under_rcu() (kVmaLocked), else the mmap
// read lock (kFallback); reads the payload either way.
CallerOutcome fault(CallerContext& ctx, int slot);
// mprotect() of `slot`: mmap write lock, then mprotect_vma() (caller bugs apply).
CallerOutcome mprotect(CallerContext& ctx, int slot, WriteLockWait wait);
// mmap() of `slot` (map_slot under the mmap write lock).
CallerOutcome mmap(CallerContext& ctx, int slot);
// munmap() of `slot` (unmap_vma under the mmap write lock).
CallerOutcome munmap(CallerContext& ctx, int slot);
// fork(): dup_mmap() under the parent's mmap write lock, then the child exits
// at once (exit_mm), so its copies are freed and recycled.
CallerOutcome fork(CallerContext& ctx);
// Write-lock and modify `slot`'s VMA, mmap_write_downgrade(), read it again.
CallerOutcome downgrade(CallerContext& ctx, int slot);
// exit_mmap() + mmdrop(): the last user of mm tears it down.
void exit_mm(mm_struct* mm, CallerObserver* observer);

}  // namespace vmafuzz::core
