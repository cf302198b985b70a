// finding.cpp - oracle names and the one renderer of a Finding (no logic beyond formatting).
#include "fuzz/finding.h"

#include <array>
#include <cstdio>

namespace vmafuzz::fuzz {
namespace {

constexpr std::array<OracleInfo, static_cast<size_t>(OracleId::kCount)> kOracles = {{
#define VMAFUZZ_ORACLE(e, name, verdict, invariant, what) {name, Verdict::verdict, invariant, what},
#include "fuzz/oracle_table.inc"
#undef VMAFUZZ_ORACLE
}};

}  // namespace

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kCoreReport: return "core-report";
    case Verdict::kLostWakeup: return "lost-wakeup";
    case Verdict::kDeadlock: return "deadlock";
    case Verdict::kLivelock: return "livelock";
    case Verdict::kOracle: return "oracle";
  }
  return "?";
}

const OracleInfo& oracle_info(OracleId id) { return kOracles[static_cast<size_t>(id)]; }

std::string Finding::signature() const {
  std::string s(oracle_info(oracle).name);
  s += '|';
  s += detail;
  s += '|';
  s += operation;
  s += '|';
  s += others;
  return s;
}

std::string render_finding(const Finding& f, std::string_view replay) {
  const OracleInfo& info = oracle_info(f.oracle);
  std::string out = "==vmafuzz== FINDING: ";
  out += info.name;
  if (!f.detail.empty()) out += " (" + f.detail + ")";
  out += "\n==vmafuzz== " + std::string(info.what) + " [invariant " + std::string(info.invariant) + "]\n";
  if (!f.message.empty()) out += "==vmafuzz== " + f.message + "\n";
  char where[160];
  std::snprintf(where, sizeof where, "==vmafuzz== at step %llu, task T%d in %s; other tasks in: %s; VMA object %d\n",
                static_cast<unsigned long long>(f.step), f.task, f.operation.c_str(),
                f.others.empty() ? "-" : f.others.c_str(), f.vma);
  out += where;
  out += "==vmafuzz== SIGNATURE: " + f.signature() + "\n";
  out += "DEDUP_TOKEN: " + f.signature() + "\n";
  if (!replay.empty()) out += "==vmafuzz== replay: " + std::string(replay) + "\n";
  return out;
}

}  // namespace vmafuzz::fuzz
