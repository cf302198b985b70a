// make_dict.cpp - writes corpus/fuzz_vma_lock.dict, the libFuzzer / AFL++
// dictionary of fuzz_vma_lock's binary scenario format (docs/FORMATS.md,
// section 1).
//
// Usage: vmafuzz_make_dict [OUT]   (default: standard output)
// scripts/regen-corpus runs it; its ctest check compares the output with the
// committed file, so the dictionary follows the codec when the format changes.
//
// Every entry is computed from the codec's own tables (legal_ops(),
// next_lock_state(), op_info()) and then checked by decoding it in context
// with decode_scenario() (and, for choice-stream entries, by printing the
// decoded scenario as .sched text): a wrong entry stops the program with
// exit 1. What each strategy contributes (header configurations, choice
// entries) is its StrategyType's (fuzz/strategy_registry.h).
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "fuzz/scenario.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/sched_text.h"
#include "fuzz/strategy_registry.h"

namespace {

using namespace vmafuzz::fuzz;
using Bytes = std::vector<uint8_t>;

struct Entry {
  std::string name;
  Bytes bytes;
  std::string comment;
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "vmafuzz_make_dict: entry check failed: %s\n", what.c_str());
  std::exit(1);
}

Scenario decode(const Bytes& b) { return decode_scenario(b.data(), b.size()); }

// The codec's own header encoder, bit 7 clear (add_c11_headers() sets it).
uint8_t header_byte(int tasks, int mms, StrategyKind strategy, int depth) {
  return encode_header({tasks, mms, strategy, depth});
}

// C11 program starts (format version 2, its marker and flags byte): one per
// strategy, 2 tasks and 1 mm, so that mutations reach the C11 mode from any
// SC seed by splicing a dictionary entry.
void add_c11_headers(std::vector<Entry>& out) {
  for (const StrategyType* type : strategy_types()) {
    const Bytes b{static_cast<uint8_t>(header_byte(2, 1, type->kind(), 3) | kHeaderVersionBit), 2, 2 ^ kVersionCheck,
                  kFlagC11, 0x01};
    const Scenario sc = decode(b);
    if (sc.memory_model != MemoryModel::kC11 || sc.strategy != type->kind() || sc.tasks.size() != 2 ||
        sc.mms[0].initial_vmas != 1) {
      fail("c11 header " + std::string(type->name()));
    }
    std::string name = fmt::format("header_2t_1mm_{}_c11", type->name());
    for (char& ch : name) {
      if (ch == '-') ch = '_';
    }
    out.push_back({name, b, fmt::format("header: 2 tasks, 1 mm, {}, C11 memory model (version 2); mm 0 maps slot 0",
                                        type->name())});
  }
}

// Program starts: the header and the mm bytes (mm 0 maps slot 0; with two
// mms, mm 1 maps nothing and the last task runs on it), the configurations
// each strategy offers (StrategyType::dict_headers()).
void add_headers(std::vector<Entry>& out) {
  for (const StrategyType* type : strategy_types()) {
    for (const DictHeader& c : type->dict_headers()) {
      Bytes b{header_byte(c.tasks, c.mms, type->kind(), c.depth), 0x01};
      if (c.mms == 2) {
        b.push_back(0x00);
        b.push_back(static_cast<uint8_t>(1u << (c.tasks - 1)));
      }
      const Scenario sc = decode(b);
      if (static_cast<int>(sc.tasks.size()) != c.tasks || static_cast<int>(sc.mms.size()) != c.mms ||
          sc.strategy != type->kind() || (type->reads_depth() && sc.pct_depth != c.depth) ||
          sc.mms[0].initial_vmas != 1 || (c.mms == 2 && sc.tasks.back().mm != 1)) {
        fail("header " + std::to_string(b[0]));
      }
      std::string strategy(type->name());
      if (type->reads_depth()) strategy += fmt::format(" depth {}", c.depth);
      std::string name = fmt::format("header_{}t_{}mm_{}", c.tasks, c.mms, type->name());
      if (type->reads_depth()) name += fmt::format("_d{}", c.depth);
      for (char& ch : name) {
        if (ch == '-') ch = '_';
      }
      out.push_back({name, b,
                     c.mms == 1 ? fmt::format("header: {} tasks, 1 mm, {}; mm 0 maps slot 0", c.tasks, strategy)
                                : fmt::format("header: {} tasks, 2 mms, {}; mm 0 maps slot 0, mm 1 nothing; T{} on mm 1",
                                              c.tasks, strategy, c.tasks - 1)});
    }
  }
}

// Checks that `op_bytes`, as T0's program of `count` operations (4 tasks, one
// mm mapping slot 0), decodes to `ops`.
void check_program(const Bytes& op_bytes, const std::vector<Op>& ops, const std::string& what) {
  Bytes b{header_byte(4, 1, StrategyKind::kSwitchList, 1), 0x01, static_cast<uint8_t>(ops.size() - 1)};
  b.insert(b.end(), op_bytes.begin(), op_bytes.end());
  const Scenario sc = decode(b);
  if (sc.tasks[0].ops != ops) fail(what);
}

// One operation in the "nothing held" state, as (selector, argument).
void add_first_ops(std::vector<Entry>& out) {
  const std::vector<OpKind> legal = legal_ops(DecodeLockState{});
  for (size_t sel = 0; sel < legal.size(); ++sel) {
    const OpKind kind = legal[sel];
    const OpInfo& info = op_info(kind);
    std::vector<uint8_t> args;
    switch (info.arg) {
      case OpArg::kNone: args = {0}; break;
      case OpArg::kSlot: args = {0, 1, 2}; break;
      case OpArg::kTask: args = {0, 1, 2, 3}; break;
    }
    for (const uint8_t arg : args) {
      const Op op{kind, arg};
      const Bytes b{static_cast<uint8_t>(sel), arg};
      check_program(b, {op}, "op " + op_text(op));
      std::string name = fmt::format("op_{}", info.name);
      if (info.arg == OpArg::kSlot) name += fmt::format("_slot{}", arg);
      if (info.arg == OpArg::kTask) name += fmt::format("_T{}", arg);
      for (char& ch : name) {
        if (ch == '-') ch = '_';
      }
      out.push_back({name, b,
                     fmt::format("op with nothing held: {} ({}; selector {} of {})", op_text(op),
                                 info.level == OpLevel::kCaller ? "caller" : "primitive", sel, legal.size())});
    }
  }
}

// Whole task programs of primitives that end holding nothing: the count byte
// and the operations.
void add_programs(std::vector<Entry>& out) {
  struct Program {
    const char* name;
    std::vector<Op> ops;
  };
  const Program programs[] = {
      {"prog_vma_read", {{OpKind::kLockVmaUnderRcu, 0}, {OpKind::kVmaEndRead, 0}}},
      {"prog_mmap_read_vma_read",
       {{OpKind::kMmapReadLock, 0},
        {OpKind::kLockVmaUnderRcu, 0},
        {OpKind::kVmaEndRead, 0},
        {OpKind::kMmapReadUnlock, 0}}},
      {"prog_vma_write",
       {{OpKind::kMmapWriteLock, 0},
        {OpKind::kVmaStartWrite, 0},
        {OpKind::kVmaModify, 0},
        {OpKind::kMmapWriteUnlock, 0}}},
      {"prog_vma_write_killable_downgrade",
       {{OpKind::kMmapWriteLock, 0},
        {OpKind::kVmaStartWriteKillable, 0},
        {OpKind::kMmapWriteDowngrade, 0},
        {OpKind::kMmapReadUnlock, 0}}},
  };
  for (const Program& p : programs) {
    Bytes ops_bytes;
    DecodeLockState state;
    std::string text;
    for (const Op& op : p.ops) {
      const std::vector<OpKind> legal = legal_ops(state);
      size_t sel = 0;
      while (sel < legal.size() && legal[sel] != op.kind) ++sel;
      if (sel == legal.size()) fail(std::string("program ") + p.name + ": illegal op");
      ops_bytes.push_back(static_cast<uint8_t>(sel));
      ops_bytes.push_back(op.arg);
      state = next_lock_state(state, op.kind);
      text += (text.empty() ? "" : "; ") + op_text(op);
    }
    check_program(ops_bytes, p.ops, p.name);
    Bytes b{static_cast<uint8_t>(p.ops.size() - 1)};
    b.insert(b.end(), ops_bytes.begin(), ops_bytes.end());
    out.push_back({p.name, b, fmt::format("task program ({} ops, count byte first): {}", p.ops.size(), text)});
  }
}

// Each strategy's choice-stream entries (StrategyType::dict_choices()), each
// checked: at the end of an input of that strategy, it prints as intended.
void add_choices(const StrategyType& type, const DictChoices& choices, std::vector<Entry>& out) {
  for (const DictChoiceEntry& e : choices.entries) {
    for (const auto& [tasks, line] : e.checks) {
      Bytes input{header_byte(tasks, 1, type.kind(), 1), 0x01};
      for (int t = 0; t < tasks; ++t) input.insert(input.end(), {0x00, 0x00, 0x00});
      input.insert(input.end(), e.bytes.begin(), e.bytes.end());
      const std::string text = print_sched(decode(input));
      if (text.find(line) == std::string::npos) fail(e.name + ": expected '" + line + "' in\n" + text);
    }
    out.push_back({e.name, e.bytes, e.comment});
  }
}

std::string quoted(const Bytes& b) {
  std::string s = "\"";
  for (const uint8_t c : b) s += fmt::format("\\x{:02x}", c);
  return s + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h"))) {
    std::fprintf(stderr, "usage: %s [OUT]\nWrites the fuzz_vma_lock dictionary to OUT (default: standard output).\n",
                 argv[0]);
    return argc > 2 ? 2 : 0;
  }
  std::vector<Entry> headers, ops, programs;
  add_headers(headers);
  add_c11_headers(headers);
  add_first_ops(ops);
  add_programs(programs);

  std::string text =
      "# fuzz_vma_lock.dict - libFuzzer / AFL++ dictionary for fuzz_vma_lock's binary\n"
      "# scenario format (docs/FORMATS.md, section 1). Use: fuzz_vma_lock -dict=THIS.\n"
      "#\n"
      "# GENERATED by vmafuzz_make_dict (repro/make_dict.cpp) from the codec's own\n"
      "# tables, each entry checked by decoding it; scripts/regen-corpus rewrites it\n"
      "# and its ctest check fails if this file differs. Do not edit by hand.\n";
  const auto section = [&text](const std::string& title, const std::vector<Entry>& entries) {
    text += fmt::format("\n# ---- {}\n", title);
    for (const Entry& e : entries) text += fmt::format("# {}\n{}={}\n", e.comment, e.name, quoted(e.bytes));
  };
  section("Program starts (front): header byte, then one byte per mm (and the task-mm byte)", headers);
  section("Operations (front): [selector][argument] in the state 'nothing held', where every task starts", ops);
  section("Task programs (front): [count - 1] then the operations; each ends holding nothing", programs);
  for (const StrategyType* type : strategy_types()) {
    const DictChoices choices = type->dict_choices();
    if (choices.title.empty()) continue;
    std::vector<Entry> entries;
    add_choices(*type, choices, entries);
    section(choices.title, entries);
  }

  if (argc == 2) {
    std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::fprintf(stderr, "vmafuzz_make_dict: cannot write %s\n", argv[1]);
      return 2;
    }
  } else {
    std::cout << text;
  }
  return 0;
}
