// contracts_test.cpp - the operation-contract checks (fuzz/contracts.cpp) and
// their table (fuzz/contract_table.inc).
//
// Each contract mutant (core/contract_mutants.inc) breaks one postcondition:
// with it injected the run ends with exactly its check's finding; with that
// one check turned off (RunOptions::disabled_oracles) every other oracle lets
// the same interleaving pass, so nothing else would have caught it; the
// correct model passes the interleaving too.
#include "fuzz/contracts.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <variant>

#include "core/inject.h"
#include "fuzz/execution.h"
#include "fuzz/sched_text.h"

namespace vmafuzz::fuzz {
namespace {

using core::BugSet;
using core::ContractMutant;

struct MutantCase {
  ContractMutant mutant;
  OracleId oracle;
  ContractClause clause;
  std::string sched;  // the interleaving, as .sched text
  // T0's first operation: how the correct model and the mutant end it.
  OpOutcome correct_t0;
  OpOutcome mutant_t0;
};

// A killable mprotect of slot 0, and a fault of the unmapped slot 1 after it
// (T1 never touches the VMA); the schedule's list of switches follows.
const std::string kKillableWriter =
    "vmafuzz-sched 1\n"
    "mm 0 vmas 0\n"
    "task T0 mm 0\n"
    "  mprotect-killable 0\n"
    "task T1 mm 0\n"
    "  fault 1\n"
    "schedule switch-list\n";

const MutantCase kCases[] = {
    // A killable writer that no reader meets: the mutant's shortcut skips
    // the write lock and mprotect changes the payload without it. No reader
    // races with it, and the teardown's vma_start_write() is correct.
    {ContractMutant::killable_skips_idle_vma, OracleId::kContractVmaStartWrite, ContractClause::not_write_locked,
     kKillableWriter, OpOutcome::kDone, OpOutcome::kDone},
    // SIGKILL reaches the killable writer after its wait condition held
    // (step 13 loads FLAG + 1, the kill comes at 14, as in S4b):
    // rcuwait returns 0 and the VMA is write-locked, but the mutant reports
    // -EINTR; mprotect skips its change and unlocks (all write locks end).
    {ContractMutant::killable_signal_after_success, OracleId::kContractVmaStartWrite,
     ContractClause::eintr_but_write_locked,
     kKillableWriter + "  run 14 then kill T0\n", OpOutcome::kDone, OpOutcome::kInterrupted},
    // The reader walks to V at slot 0 and stops; T1 unmaps slot 0 (V freed)
    // and maps slot 1, which reuses V's object (SLAB_TYPESAFE_BY_RCU). The
    // reader's reference and checks succeed on V (same mm, not write-locked
    // any more), and only the range check says V no longer covers slot 0.
    {ContractMutant::no_range_check, OracleId::kContractLockVmaUnderRcu, ContractClause::address_outside,
     "vmafuzz-sched 1\n"
     "mm 0 vmas 0\n"
     "task T0 mm 0\n"
     "  lock_vma_under_rcu 0\n"
     "task T1 mm 0\n"
     "  munmap 0\n"
     "  mmap 1\n"
     "schedule switch-list\n"
     "  run 3 then switch T1\n", OpOutcome::kNull, OpOutcome::kVmaLocked},
};

Scenario scenario_of(const MutantCase& c) {
  auto parsed = parse_sched(c.sched, "contract mutant");
  if (const SchedError* e = std::get_if<SchedError>(&parsed)) {
    ADD_FAILURE() << e->to_string();
    return {};
  }
  return std::get<SchedFile>(parsed).scenario;
}

std::string name_of(const std::optional<Finding>& f) {
  return f ? std::string(oracle_info(f->oracle).name) + "|" + f->detail : "none";
}

TEST(ContractMutants, EachIsFoundByItsCheckAndNothingElse) {
  Execution ex;
  for (const MutantCase& c : kCases) {
    SCOPED_TRACE(std::string(core::mutant_name(c.mutant)) + ": " + std::string(core::mutant_summary(c.mutant)));
    const Scenario sc = scenario_of(c);
    if (sc.tasks.empty()) continue;
    const ExecutionResult correct = ex.run(sc);
    EXPECT_EQ(name_of(correct.finding), "none");
    const ExecutionResult found = ex.run(sc, RunOptions{.inject = BugSet::of(c.mutant)});
    EXPECT_EQ(name_of(found.finding),
              std::string(oracle_info(c.oracle).name) + "|" + std::string(contract_info(c.clause).id));
    const ExecutionResult without =
        ex.run(sc, RunOptions{.inject = BugSet::of(c.mutant),
                              .disabled_oracles = uint64_t{1} << static_cast<unsigned>(c.oracle)});
    EXPECT_EQ(name_of(without.finding), "none");
    // The mutant did change the run: without the check it still ran its deviation.
    EXPECT_NE(without.trace_hash, correct.trace_hash);
    EXPECT_EQ(correct.outcomes[0][0], c.correct_t0);
    EXPECT_EQ(without.outcomes[0][0], c.mutant_t0);
  }
}

TEST(ContractMutants, EveryMutantHasACaseAndEveryCheckAMutant) {
  std::set<int> mutants;
  std::set<std::string> caught;
  for (const MutantCase& c : kCases) {
    mutants.insert(static_cast<int>(c.mutant));
    caught.insert(std::string(contract_info(c.clause).checked_by));
  }
  EXPECT_EQ(mutants.size(), static_cast<size_t>(ContractMutant::kCount)) << "a contract mutant without a case";
  for (int i = 0; i < static_cast<int>(ContractClause::kCount); ++i) {
    const ContractInfo& ci = contract_info(static_cast<ContractClause>(i));
    if (!ci.checked_by.starts_with("contract.")) continue;
    EXPECT_TRUE(caught.contains(std::string(ci.checked_by))) << ci.id << ": a check no mutant shows";
  }
}

// A row checked by a contract.* oracle names that oracle and its own id (the
// finding's detail); every contract.* oracle checks some row; the rest name
// an oracle that exists, or "-" with a reason.
TEST(ContractTable, RowsNameRealOraclesAndContractRowsTheirOwnDetail) {
  std::map<std::string, OracleId> oracles;
  for (int i = 0; i < static_cast<int>(OracleId::kCount); ++i) {
    oracles.emplace(std::string(oracle_info(static_cast<OracleId>(i)).name), static_cast<OracleId>(i));
  }
  std::set<std::string> ids;
  std::set<std::string> contract_oracles_used;
  for (int i = 0; i < static_cast<int>(ContractClause::kCount); ++i) {
    const ContractInfo& ci = contract_info(static_cast<ContractClause>(i));
    SCOPED_TRACE(std::string(ci.id));
    EXPECT_TRUE(ids.insert(std::string(ci.id)).second) << "duplicate id";
    EXPECT_FALSE(ci.section.empty() || ci.operation.empty() || ci.clause.empty());
    if (ci.checked_by == "-") {
      EXPECT_FALSE(ci.note.empty()) << "unchecked without a reason";
      continue;
    }
    if (ci.checked_by.starts_with("contract.")) {
      const size_t bar = ci.checked_by.find('|');
      ASSERT_NE(bar, std::string_view::npos);
      const std::string oracle(ci.checked_by.substr(0, bar));
      EXPECT_TRUE(oracles.contains(oracle)) << oracle;
      EXPECT_EQ(ci.checked_by.substr(bar + 1), ci.id);
      contract_oracles_used.insert(oracle);
      continue;
    }
    // "name, name|detail, ...": each name is an oracle of the table.
    std::string_view rest = ci.checked_by;
    while (!rest.empty()) {
      const size_t comma = rest.find(", ");
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
      const std::string name(item.substr(0, item.find('|')));
      EXPECT_TRUE(oracles.contains(name)) << name;
    }
  }
  for (const auto& [name, id] : oracles) {
    if (name.starts_with("contract.")) EXPECT_TRUE(contract_oracles_used.contains(name)) << name << " checks no row";
  }
}

}  // namespace
}  // namespace vmafuzz::fuzz
