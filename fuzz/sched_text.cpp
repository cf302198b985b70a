// sched_text.cpp - the .sched text form of a scenario: the parser of its
// magic, mms, tasks and schedule line, the canonical printer, and the
// canonical form (docs/FORMATS.md). Lines and errors are the lexer's
// (sched_lexer.h), a schedule's body its strategy's (strategy_registry.h),
// the `expect` lines sched_expect.cpp's.
#include "fuzz/sched_text.h"

#include <algorithm>
#include <array>
#include <utility>

#include "core/report.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/strategy_registry.h"

namespace vmafuzz::fuzz {
namespace {

// One pass over the lines, section by section (FORMATS.md, section 2). Each
// parse_* consumes its lines or throws the first error.
class Parser {
 public:
  Parser(std::string_view text, std::string_view file) : in_(text, file) {}

  SchedFile parse() {
    parse_magic();
    parse_mms();
    parse_tasks();
    parse_memory_model();
    parse_schedule();
    SchedFile out{in_.preamble(), sc_, {}};
    while (!in_.at_end()) out.expectations.push_back(parse_expectation(in_, sc_));
    // invariant: the checks above are the codec's legality rules.
    const char* why = nullptr;
    if (!is_canonical_scenario(out.scenario, &why)) core::harness_bug(std::string("parse_sched: ") + why);
    return out;
  }

 private:
  // ---- header: magic and mms ----

  void parse_magic() {
    const std::string magic = std::string(kSchedMagic) + " " + std::to_string(kSchedVersion);
    if (in_.at_end()) in_.fail_next("'" + magic + "'");
    const SchedLine& l = in_.top(kSchedMagic, "'" + magic + "' (magic and format version)");
    if (l.tokens.size() < 2 || l.tokens[1].text != std::to_string(kSchedVersion)) {
      in_.fail_at(l, 1, "format version " + std::to_string(kSchedVersion));
    }
    in_.expect_end(l, 2);
  }

  void parse_mms() {
    std::array<int, kMaxMms> defined_at{};
    std::vector<MmSetup>& mms = sc_.mms;
    while (mms.empty() || in_.at_top("mm")) {
      if (mms.size() == kMaxMms) in_.fail_next("'task' (at most 2 mms)");
      const SchedLine& l = in_.top("mm", "'mm'");
      const int next = static_cast<int>(mms.size());
      const int id = in_.number(l, 1, 0, kMaxMms - 1, "an mm number " + std::to_string(next));
      if (id < next) {
        in_.fail(l.number, l.tokens[1].column,
             "mm " + std::to_string(id) + " is defined twice (first at line " + std::to_string(defined_at[id]) + ")");
      }
      if (id != next) in_.fail_at(l, 1, "mm " + std::to_string(next) + " (mms are numbered in order)");
      defined_at[static_cast<size_t>(id)] = l.number;
      in_.expect_word(l, 2, "vmas");
      if (l.tokens.size() <= 3) in_.fail_at(l, 3, "a slot number 0 to 7 or '-' (no VMAs)");
      MmSetup mm;
      if (l.tokens[3].text == "-") {
        in_.expect_end(l, 4);
      } else {
        for (size_t t = 3; t < l.tokens.size(); ++t) {
          const int slot = in_.number(l, t, 0, kSlots - 1, "a slot number 0 to 7");
          if (mm.initial_vmas >> slot & 1) {
            in_.fail(l.number, l.tokens[t].column, "slot " + std::to_string(slot) + " is listed twice");
          }
          mm.initial_vmas |= static_cast<uint8_t>(1u << slot);
        }
      }
      mms.push_back(mm);
    }
  }

  // ---- tasks ----

  struct KillTarget {  // checked once the number of tasks is known
    int line;
    int column;
    int task;
  };

  void parse_tasks() {
    std::array<int, kMaxTasks> defined_at{};
    std::vector<KillTarget> kill_targets;
    std::vector<TaskProgram>& tasks = sc_.tasks;
    while (tasks.size() < kMinTasks || in_.at_top("task")) {
      const int next = static_cast<int>(tasks.size());
      if (next == kMaxTasks) in_.fail_next("'schedule' (at most 4 tasks)");
      const SchedLine& l = in_.top("task", next == 0 ? "'task'" : "'task' (at least 2 tasks)");
      const int t = in_.task_ref(l, 1, kMaxTasks);
      if (t < next) {
        in_.fail(l.number, l.tokens[1].column,
             "task " + task_name(t) + " is defined twice (first at line " + std::to_string(defined_at[t]) + ")");
      }
      if (t != next) in_.fail_at(l, 1, "task " + task_name(next) + " (tasks are numbered in order)");
      defined_at[static_cast<size_t>(t)] = l.number;
      in_.expect_word(l, 2, "mm");
      const int num_mms = static_cast<int>(sc_.mms.size());
      TaskProgram prog;
      prog.mm =
          static_cast<uint8_t>(in_.number(l, 3, 0, num_mms - 1, num_mms == 1 ? "mm number 0" : "an mm number 0 or 1"));
      in_.expect_end(l, 4);
      DecodeLockState state;
      while (in_.at_body()) {
        const SchedLine& ol = in_.next();
        if (prog.ops.size() == kMaxOpsPerTask) {
          in_.fail(ol.number, ol.tokens[0].column, "too many operations in task " + task_name(t) + ": at most 8");
        }
        prog.ops.push_back(parse_op(ol, t, state, kill_targets));
        state = next_lock_state(state, prog.ops.back().kind);
      }
      if (prog.ops.empty()) in_.fail_next("an indented operation of task " + task_name(t) + " (1 to 8)");
      tasks.push_back(std::move(prog));
    }
    for (const KillTarget& k : kill_targets) {
      if (k.task >= static_cast<int>(tasks.size())) {
        in_.fail(k.line, k.column,
             "expected a task name " + SchedLexer::task_range(static_cast<int>(tasks.size())) + ", found '" + task_name(k.task) +
                 "'");
      }
    }
  }

  static std::string holding(const DecodeLockState& s) {
    using M = DecodeLockState::Mmap;
    const std::string mmap = s.mmap == M::kRead    ? "the mmap read lock"
                             : s.mmap == M::kWrite ? "the mmap write lock"
                                                   : "";
    if (s.vma_read) return mmap.empty() ? "maybe a VMA read lock" : mmap + " and maybe a VMA read lock";
    return mmap.empty() ? "nothing" : mmap;
  }

  Op parse_op(const SchedLine& l, int task, const DecodeLockState& state, std::vector<KillTarget>& kill_targets) const {
    OpKind kind;
    if (!op_kind_from_name(l.tokens[0].text, &kind)) in_.fail_at(l, 0, "an operation name");
    const std::vector<OpKind> legal = legal_ops(state);
    if (std::find(legal.begin(), legal.end(), kind) == legal.end()) {
      const std::string names =
          SchedLexer::name_list(static_cast<int>(legal.size()), [&](int i) { return op_info(legal[i]).name; });
      in_.fail_at(l, 0,
              "an operation allowed while task " + task_name(task) + " holds " + holding(state) + " (" + names + ")");
    }
    Op op{kind, 0};
    size_t tokens = 1;
    switch (op_info(kind).arg) {
      case OpArg::kNone: break;
      case OpArg::kSlot:
        op.arg = static_cast<uint8_t>(in_.number(l, tokens++, 0, kSlots - 1, "a slot number 0 to 7"));
        break;
      case OpArg::kTask:
        // Any T<digit> for now: the number of tasks is known after the last one.
        op.arg = static_cast<uint8_t>(in_.task_ref(l, tokens++, 10, "a task name"));
        kill_targets.push_back(KillTarget{l.number, l.tokens[1].column, op.arg});
        break;
    }
    in_.expect_end(l, tokens);
    return op;
  }

  // ---- memory-model c11 (optional; sc is the default and is not written) ----

  void parse_memory_model() {
    if (!in_.at_top("memory-model")) return;
    const SchedLine& l = in_.top("memory-model", "'memory-model'");
    if (l.tokens.size() < 2 || !memory_model_from_name(l.tokens[1].text, &sc_.memory_model)) {
      in_.fail_at(l, 1, "a memory model (sc, c11)");
    }
    if (sc_.memory_model != MemoryModel::kC11 || l.tokens.size() == 2) return in_.expect_end(l, 2);
    // "reads K..." : the reads-from choices, each 0..255.
    in_.expect_word(l, 2, "reads");
    for (size_t t = 3; t < l.tokens.size(); ++t) {
      if (sc_.reads.size() == 255) in_.fail_at(l, t, "end of line (at most 255 reads-from choices)");
      sc_.reads.push_back(static_cast<uint8_t>(in_.number(l, t, 0, 255, "a reads-from choice 0 to 255")));
    }
  }

  // ---- schedule: the line here, the body by the strategy ----

  void parse_schedule() {
    const SchedLine& l =
        in_.top("schedule", sc_.tasks.size() < kMaxTasks ? "'task' or 'schedule'" : "'schedule' (at most 4 tasks)");
    const StrategyType* type = l.tokens.size() < 2 ? nullptr : strategy_type_named(l.tokens[1].text);
    if (!type) in_.fail_at(l, 1, "a strategy (" + strategy_name_list(strategy_types()) + ")");
    sc_.strategy = type->kind();
    sc_.pct_depth = Scenario{}.pct_depth;  // unless the strategy reads it
    type->parse_schedule(in_, l, sc_);
    if (in_.at_body()) in_.fail_next("'expect' or end of file (the schedule is complete)");
  }

  SchedLexer in_;
  Scenario sc_;
};

}  // namespace

std::variant<SchedFile, SchedError> parse_sched(std::string_view text, std::string_view file_name) {
  try {
    return Parser(text, file_name).parse();
  } catch (const ParseFailure& f) {
    return f.error;
  }
}

Scenario canonical_form(const Scenario& sc) {
  const StrategyType& type = strategy_type(sc.strategy);
  Scenario out = sc;
  if (!type.reads_depth()) out.pct_depth = Scenario{}.pct_depth;
  out.choices = type.canonical_choices(sc);
  // Trailing zeros read the latest store, as an exhausted list does.
  while (!out.reads.empty() && out.reads.back() == 0) out.reads.pop_back();
  return out;
}

std::string print_sched(const SchedFile& file) {
  const Scenario& sc = file.scenario;
  const int n = static_cast<int>(sc.tasks.size());
  std::string out = file.preamble;
  out += std::string(kSchedMagic) + " " + std::to_string(kSchedVersion) + "\n";
  for (size_t m = 0; m < sc.mms.size(); ++m) {
    out += "mm " + std::to_string(m) + " vmas";
    if (sc.mms[m].initial_vmas == 0) out += " -";
    for (int slot = 0; slot < kSlots; ++slot) {
      if (sc.mms[m].initial_vmas >> slot & 1) out += " " + std::to_string(slot);
    }
    out += "\n";
  }
  for (int t = 0; t < n; ++t) {
    const TaskProgram& p = sc.tasks[static_cast<size_t>(t)];
    out += "task " + task_name(t) + " mm " + std::to_string(p.mm) + "\n";
    for (const Op& op : p.ops) {
      out += "  " + op_text(op) + "\n";
    }
  }
  if (sc.memory_model != MemoryModel::kSC) {
    out += "memory-model " + std::string(memory_model_name(sc.memory_model));
    if (!sc.reads.empty()) out += " reads";
    for (const uint8_t r : sc.reads) out += " " + std::to_string(r);
    out += "\n";
  }
  out += "schedule " + std::string(strategy_name(sc.strategy)) + strategy_type(sc.strategy).print_schedule(sc);
  for (const Expectation& e : file.expectations) out += print_expectation(e) + "\n";
  return out;
}

std::string print_sched(const Scenario& scenario) { return print_sched(SchedFile{{}, scenario, {}}); }

}  // namespace vmafuzz::fuzz
