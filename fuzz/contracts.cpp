// contracts.cpp - the contract table, and the contract.* checks (see contracts.h).
//
// Each check runs when the lock function has returned to its caller, before
// the caller's next scheduling point, and only peeks. It judges what the
// returning task's own locks keep stable - the mmap write lock for the
// write-lock state, its read reference for the VMA's range - so it holds in
// every interleaving of the correct model.
#include "fuzz/contracts.h"

#include <array>

#include "core/mm.h"
#include "core/vma.h"
#include "fuzz/oracles.h"

namespace vmafuzz::fuzz {
namespace {

constexpr std::array<ContractInfo, static_cast<size_t>(ContractClause::kCount)> kContracts = {{
#define VMAFUZZ_CONTRACT(id, section, operation, clause, checked_by, note) \
  {#id, section, operation, clause, checked_by, note},
#include "fuzz/contract_table.inc"
#undef VMAFUZZ_CONTRACT
}};

std::string detail(ContractClause c) { return std::string(contract_info(c).id); }

// vm_lock_seq == seq(vm_mm): the write-lock state, as the holder of the mmap
// write lock sees it (__is_vma_write_locked(), without its assert).
bool write_locked(const core::vm_area_struct* vma) {
  return vma->vm_lock_seq.peek() == vma->vm_mm->mm_lock_seq.sequence.peek();
}

}  // namespace

const ContractInfo& contract_info(ContractClause c) { return kContracts[static_cast<size_t>(c)]; }

void Oracles::after_vma_start_write(int task, const core::vm_area_struct* vma, int ret) {
  if (ret == 0 && !write_locked(vma)) {
    fire(OracleId::kContractVmaStartWrite, task, vma, detail(ContractClause::not_write_locked));
  } else if (ret != 0 && write_locked(vma)) {
    fire(OracleId::kContractVmaStartWrite, task, vma, detail(ContractClause::eintr_but_write_locked));
  }
}

void Oracles::after_lock_vma_under_rcu(int task, unsigned long address, const core::vm_area_struct* vma) {
  if (vma && (address < vma->vm_start || address >= vma->vm_end)) {
    fire(OracleId::kContractLockVmaUnderRcu, task, vma, detail(ContractClause::address_outside));
  }
}

}  // namespace vmafuzz::fuzz
