// finding.cpp - oracle names and the one renderer of a Finding (no logic beyond formatting).
#include "fuzz/finding.h"

#include <array>
#include <string>

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
  // No sentinels in the text: an oracle without an invariant ("-"), a
  // whole-run finding (task -1), no VMA (-1) and no operation ("-") are left
  // out or said in words.
  out += "\n==vmafuzz== " + std::string(info.what);
  if (!info.invariant.empty() && info.invariant != "-") out += " [invariant " + std::string(info.invariant) + "]";
  out += "\n";
  if (!f.message.empty()) out += "==vmafuzz== " + f.message + "\n";
  out += "==vmafuzz== at step " + std::to_string(f.step);
  const std::string others = f.others.empty() ? "none" : f.others;
  if (f.task >= 0) {
    out += ", task T" + std::to_string(f.task) + " " +
           (f.operation.empty() || f.operation == "-" ? std::string("between operations") : "in " + f.operation);
    out += "; other tasks in: " + others;
  } else {
    out += " (the whole run); tasks in: " + others;
  }
  if (f.vma >= 0) out += "; VMA object " + std::to_string(f.vma);
  out += "\n";
  out += "==vmafuzz== SIGNATURE: " + f.signature() + "\n";
  out += "DEDUP_TOKEN: " + f.signature() + "\n";
  if (!replay.empty()) out += "==vmafuzz== replay: " + std::string(replay) + "\n";
  return out;
}

}  // namespace vmafuzz::fuzz
