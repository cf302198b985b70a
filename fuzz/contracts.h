// contracts.h - the operations' contracts (fuzz/contract_table.inc): every
// return value and postcondition of the lock's operations, with the check
// that judges it. The checks of the contract.* oracles are Oracles'
// after_*() members (fuzz/contracts.cpp), run when the callers tell of a
// return (core::CallerObserver); a clause another oracle already finds names
// that oracle; some cannot be checked, and say why.
#pragma once

#include <cstdint>
#include <string_view>

namespace vmafuzz::fuzz {

enum class ContractClause : uint8_t {
#define VMAFUZZ_CONTRACT(id, section, operation, clause, checked_by, note) id,
#include "fuzz/contract_table.inc"
#undef VMAFUZZ_CONTRACT
  kCount,
};

struct ContractInfo {
  std::string_view id;  // the detail of a contract.* finding
  std::string_view section;
  std::string_view operation;
  std::string_view clause;
  std::string_view checked_by;
  std::string_view note;
};
const ContractInfo& contract_info(ContractClause c);

}  // namespace vmafuzz::fuzz
