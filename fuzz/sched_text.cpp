// sched_text.cpp - the .sched text form: parser, canonical printer, and the
// canonical reading of each strategy's choice stream (docs/FORMATS.md).
#include "fuzz/sched_text.h"

#include "fuzz/strategy.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <utility>

#include "core/vma.h"
#include "fuzz/choice_source.h"
#include "fuzz/scenario_codec.h"

namespace vmafuzz::fuzz {
namespace {

// ---- the canonical reading of the choice stream ---------------------------
// Each strategy's reads, replayed on a ChoiceSource exactly as the strategy
// does them (strategy_*.cpp), so the text shows what the strategy will decide.

constexpr int kMaxRun = kSwitchListMaxRun;
constexpr int kGroupSwitch = 0;  // switch-list action groups (group 1-5 also switch)
constexpr int kGroupWake = 6;
constexpr int kGroupKill = 7;

struct SwitchPair {
  int run;    // 1..kMaxRun scheduling points
  int group;  // kGroupSwitch, kGroupWake or kGroupKill
  int task;
};

std::vector<SwitchPair> read_switch_pairs(const Scenario& sc) {
  const int n = static_cast<int>(sc.tasks.size());
  ChoiceSource cs(sc.choices);
  std::vector<SwitchPair> pairs;
  // As load_next(): a pair is armed iff a byte remains; its action may be the 0
  // of an exhausted source (a trailing odd byte).
  while (!cs.exhausted()) {
    const int run = 1 + cs.next_byte() % kMaxRun;
    const int action = cs.next_byte();
    int group = (action / n) % 8;
    if (group != kGroupWake && group != kGroupKill) group = kGroupSwitch;
    pairs.push_back(SwitchPair{run, group, action % n});
  }
  return pairs;
}

std::vector<uint8_t> write_switch_pairs(const std::vector<SwitchPair>& pairs, int n) {
  std::vector<uint8_t> out;
  for (const SwitchPair& p : pairs) {
    out.push_back(static_cast<uint8_t>(p.run - 1));
    out.push_back(static_cast<uint8_t>(p.group * n + p.task));
  }
  return out;
}

struct PctParams {
  std::vector<int> order;          // tasks by initial priority, highest first
  std::vector<int> change_points;  // depth - 1 steps, in reading order, each in [1, horizon]
};

PctParams read_pct(const Scenario& sc) {
  const int n = static_cast<int>(sc.tasks.size());
  const int d = sc.pct_depth;
  const int horizon = pct_horizon(total_ops(sc));
  ChoiceSource cs(sc.choices);
  std::vector<int> priority(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) priority[static_cast<size_t>(i)] = d + 1 + i;
  for (int i = n - 1; i > 0; --i) {
    std::swap(priority[static_cast<size_t>(i)], priority[cs.next_byte() % static_cast<size_t>(i + 1)]);
  }
  PctParams p;
  for (int i = 0; i < n; ++i) p.order.push_back(i);
  std::sort(p.order.begin(), p.order.end(),
            [&](int a, int b) { return priority[static_cast<size_t>(a)] > priority[static_cast<size_t>(b)]; });
  for (int i = 0; i < d - 1; ++i) p.change_points.push_back(1 + static_cast<int>(cs.next_bytes(2) % horizon));
  return p;
}

// Inverts read_pct(): Fisher-Yates has exactly one swap sequence per
// permutation (step i fixes position i for good, and only one j <= i holds
// the value it must get).
std::vector<uint8_t> write_pct(const PctParams& p, int depth) {
  const int n = static_cast<int>(p.order.size());
  std::vector<int> want(static_cast<size_t>(n));  // the final priority of each task
  for (int pos = 0; pos < n; ++pos) want[static_cast<size_t>(p.order[static_cast<size_t>(pos)])] = depth + n - pos;
  std::vector<int> a(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) a[static_cast<size_t>(i)] = depth + 1 + i;
  std::vector<uint8_t> out;
  for (int i = n - 1; i > 0; --i) {
    const auto j = std::find(a.begin(), a.begin() + i + 1, want[static_cast<size_t>(i)]) - a.begin();
    out.push_back(static_cast<uint8_t>(j));
    std::swap(a[static_cast<size_t>(i)], a[static_cast<size_t>(j)]);
  }
  for (int cp : p.change_points) {
    out.push_back(static_cast<uint8_t>((cp - 1) & 0xff));
    out.push_back(static_cast<uint8_t>((cp - 1) >> 8));
  }
  return out;
}

uint64_t read_seed(const Scenario& sc) {
  ChoiceSource cs(sc.choices);
  const uint64_t lo = cs.next_bytes(4);  // strategy_random.cpp: low word first
  return lo | static_cast<uint64_t>(cs.next_bytes(4)) << 32;
}

std::vector<uint8_t> write_seed(uint64_t seed) {
  std::vector<uint8_t> out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(seed >> (8 * i)));
  return out;
}

// ---- names ----------------------------------------------------------------

constexpr std::array<std::string_view, static_cast<size_t>(core::SharedWordKind::kMaxValue) + 1> kWordKinds = {
    "vm_refcnt",   "vm_lock_seq",  "mm_lock_seq", "rcuwait_task", "task_state", "signal",
    "rwsem_count", "rwsem_waiter", "mm_count",    "mm_tree",      "spinlock",   "other",
};
static_assert(!kWordKinds.back().empty(), "a SharedWordKind has no name in kWordKinds");

std::string task_name(int t) { return "T" + std::to_string(t); }

std::string format_value(core::SharedWordKind word, uint64_t v) {
  constexpr uint64_t kFlag = core::VM_REFCNT_EXCLUDE_READERS_FLAG;
  if (word == core::SharedWordKind::kVmRefcnt && v >= kFlag && v < 2 * kFlag) {
    return v == kFlag ? "FLAG" : "FLAG+" + std::to_string(v - kFlag);
  }
  if (static_cast<int64_t>(v) < 0) return std::to_string(static_cast<int64_t>(v));
  return std::to_string(v);
}

// ---- parser -----------------------------------------------------------------

struct Token {
  std::string_view text;
  int column;  // 1-based
};

struct Line {
  int number;                 // 1-based
  bool indented;              // starts with a blank: a body line of the task/schedule above
  std::vector<Token> tokens;  // never empty (blank and comment lines are dropped)
  int end_column;             // just past the last token: where "end of line" is reported
  std::string_view text;      // the line up to its comment (for fields that hold blanks)
};

// Thrown inside the Parser only; parse_sched() turns it into its result.
struct ParseFailure {
  SchedError error;
};

// One pass over the lines, section by section (FORMATS.md, section 2). Each
// parse_* consumes its lines or throws the first error.
class Parser {
 public:
  Parser(std::string_view text, std::string_view file) : file_(file) { split(text); }

  SchedFile parse() {
    parse_magic();
    parse_mms();
    parse_tasks();
    parse_schedule();
    while (!at_end()) parse_expectation();
    // invariant: the checks above are the codec's legality rules.
    const char* why = nullptr;
    if (!is_canonical_scenario(out_.scenario, &why)) core::harness_bug(std::string("parse_sched: ") + why);
    return std::move(out_);
  }

 private:
  // ---- lines, tokens, errors ----

  void split(std::string_view text) {
    int number = 0;
    for (size_t start = 0; start < text.size();) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view body = text.substr(start, end - start);
      body = body.substr(0, body.find('#'));
      Line line{++number, !body.empty() && is_blank(body[0]), {}, 1, body};
      for (size_t i = 0; i < body.size();) {
        if (is_blank(body[i])) {
          ++i;
          continue;
        }
        const size_t tok = i;
        while (i < body.size() && !is_blank(body[i])) ++i;
        line.tokens.push_back(Token{body.substr(tok, i - tok), static_cast<int>(tok) + 1});
        line.end_column = static_cast<int>(i) + 1;
      }
      if (!line.tokens.empty()) {
        if (lines_.empty()) out_.preamble = std::string(text.substr(0, start));
        lines_.push_back(std::move(line));
      }
      start = end + 1;
    }
    eof_line_ = number + 1;
  }

  static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

  [[noreturn]] void fail(int line, int column, std::string message) const {
    throw ParseFailure{SchedError{std::string(file_), line, column, std::move(message)}};
  }
  // "expected <what>, found '<token tok>'" (or "end of line").
  [[noreturn]] void fail_at(const Line& l, size_t tok, const std::string& what) const {
    if (tok < l.tokens.size()) {
      fail(l.number, l.tokens[tok].column, "expected " + what + ", found '" + std::string(l.tokens[tok].text) + "'");
    }
    fail(l.number, l.end_column, "expected " + what + ", found end of line");
  }
  // The next line is not what must come here (or there is none).
  [[noreturn]] void fail_next(const std::string& what) const {
    if (at_end()) fail(eof_line_, 1, "expected " + what + ", found end of file");
    const Line& l = peek();
    fail(l.number, l.tokens[0].column,
         "expected " + what + ", found " + (l.indented ? "indented '" : "'") + std::string(l.tokens[0].text) + "'");
  }

  bool at_end() const { return pos_ >= lines_.size(); }
  const Line& peek() const { return lines_[pos_]; }
  bool at_top(std::string_view keyword) const {
    return !at_end() && !peek().indented && peek().tokens[0].text == keyword;
  }
  bool at_body() const { return !at_end() && peek().indented; }
  // The next line, which must be a top-level `keyword` line.
  const Line& top(std::string_view keyword, const std::string& what) {
    if (!at_top(keyword)) fail_next(what);
    return lines_[pos_++];
  }
  // The next line, which must be a body line starting with `keyword`.
  const Line& body(std::string_view keyword, const std::string& what) {
    if (!at_body()) fail_next(what);
    const Line& l = lines_[pos_++];
    expect_word(l, 0, keyword);
    return l;
  }

  // Anything after `count` tokens is garbage.
  void expect_end(const Line& l, size_t count, const std::string& what = "end of line") const {
    if (l.tokens.size() > count) fail_at(l, count, what);
  }
  void expect_word(const Line& l, size_t tok, std::string_view word) const {
    if (tok >= l.tokens.size() || l.tokens[tok].text != word) fail_at(l, tok, "'" + std::string(word) + "'");
  }

  // An unsigned decimal in [lo, hi].
  int number(const Line& l, size_t tok, int lo, int hi, const std::string& what) const {
    if (tok >= l.tokens.size()) fail_at(l, tok, what);
    const std::string_view s = l.tokens[tok].text;
    int v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s[0] == '-' || v < lo || v > hi) fail_at(l, tok, what);
    return v;
  }

  static std::string task_range(int n) { return "T0 to " + task_name(n - 1); }

  // "T<k>" with k < n.
  int task_ref(const Line& l, size_t tok, int n, const std::string& what) const {
    if (tok >= l.tokens.size()) fail_at(l, tok, what);
    const std::string_view s = l.tokens[tok].text;
    if (s.size() != 2 || s[0] != 'T' || s[1] < '0' || s[1] >= '0' + n) fail_at(l, tok, what);
    return s[1] - '0';
  }
  int task_ref(const Line& l, size_t tok, int n) const { return task_ref(l, tok, n, "a task name " + task_range(n)); }

  // One of `count` names, name_of(i) for i in [0, count).
  template <class Enum, class NameOf>
  Enum name_lookup(const Line& l, size_t tok, int count, NameOf name_of, const std::string& what) const {
    for (int i = 0; tok < l.tokens.size() && i < count; ++i) {
      if (name_of(i) == l.tokens[tok].text) return static_cast<Enum>(i);
    }
    fail_at(l, tok, what + (count <= 8 ? " (" + name_list(count, name_of) + ")" : ""));
  }
  template <class NameOf>
  static std::string name_list(int count, NameOf name_of) {
    std::string names;
    for (int i = 0; i < count; ++i) names += (i ? ", " : "") + std::string(name_of(i));
    return names;
  }

  // ---- header: magic and mms ----

  void parse_magic() {
    const std::string magic = std::string(kSchedMagic) + " " + std::to_string(kSchedVersion);
    if (at_end()) fail_next("'" + magic + "'");
    const Line& l = top(kSchedMagic, "'" + magic + "' (magic and format version)");
    if (l.tokens.size() < 2 || l.tokens[1].text != std::to_string(kSchedVersion)) {
      fail_at(l, 1, "format version " + std::to_string(kSchedVersion));
    }
    expect_end(l, 2);
  }

  void parse_mms() {
    std::array<int, kMaxMms> defined_at{};
    std::vector<MmSetup>& mms = out_.scenario.mms;
    while (mms.empty() || at_top("mm")) {
      if (mms.size() == kMaxMms) fail_next("'task' (at most 2 mms)");
      const Line& l = top("mm", "'mm'");
      const int next = static_cast<int>(mms.size());
      const int id = number(l, 1, 0, kMaxMms - 1, "an mm number " + std::to_string(next));
      if (id < next) {
        fail(l.number, l.tokens[1].column,
             "mm " + std::to_string(id) + " is defined twice (first at line " + std::to_string(defined_at[id]) + ")");
      }
      if (id != next) fail_at(l, 1, "mm " + std::to_string(next) + " (mms are numbered in order)");
      defined_at[static_cast<size_t>(id)] = l.number;
      expect_word(l, 2, "vmas");
      if (l.tokens.size() <= 3) fail_at(l, 3, "a slot number 0 to 7 or '-' (no VMAs)");
      MmSetup mm;
      if (l.tokens[3].text == "-") {
        expect_end(l, 4);
      } else {
        for (size_t t = 3; t < l.tokens.size(); ++t) {
          const int slot = number(l, t, 0, kSlots - 1, "a slot number 0 to 7");
          if (mm.initial_vmas >> slot & 1) {
            fail(l.number, l.tokens[t].column, "slot " + std::to_string(slot) + " is listed twice");
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
    std::vector<TaskProgram>& tasks = out_.scenario.tasks;
    while (tasks.size() < kMinTasks || at_top("task")) {
      const int next = static_cast<int>(tasks.size());
      if (next == kMaxTasks) fail_next("'schedule' (at most 4 tasks)");
      const Line& l = top("task", next == 0 ? "'task'" : "'task' (at least 2 tasks)");
      const int t = task_ref(l, 1, kMaxTasks);
      if (t < next) {
        fail(l.number, l.tokens[1].column,
             "task " + task_name(t) + " is defined twice (first at line " + std::to_string(defined_at[t]) + ")");
      }
      if (t != next) fail_at(l, 1, "task " + task_name(next) + " (tasks are numbered in order)");
      defined_at[static_cast<size_t>(t)] = l.number;
      expect_word(l, 2, "mm");
      const int num_mms = static_cast<int>(out_.scenario.mms.size());
      TaskProgram prog;
      prog.mm =
          static_cast<uint8_t>(number(l, 3, 0, num_mms - 1, num_mms == 1 ? "mm number 0" : "an mm number 0 or 1"));
      expect_end(l, 4);
      DecodeLockState state;
      while (at_body()) {
        const Line& ol = lines_[pos_++];
        if (prog.ops.size() == kMaxOpsPerTask) {
          fail(ol.number, ol.tokens[0].column, "too many operations in task " + task_name(t) + ": at most 8");
        }
        prog.ops.push_back(parse_op(ol, t, state, kill_targets));
        state = next_lock_state(state, prog.ops.back().kind);
      }
      if (prog.ops.empty()) fail_next("an indented operation of task " + task_name(t) + " (1 to 8)");
      tasks.push_back(std::move(prog));
    }
    for (const KillTarget& k : kill_targets) {
      if (k.task >= static_cast<int>(tasks.size())) {
        fail(k.line, k.column,
             "expected a task name " + task_range(static_cast<int>(tasks.size())) + ", found '" + task_name(k.task) +
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

  Op parse_op(const Line& l, int task, const DecodeLockState& state, std::vector<KillTarget>& kill_targets) const {
    OpKind kind;
    if (!op_kind_from_name(l.tokens[0].text, &kind)) fail_at(l, 0, "an operation name");
    const std::vector<OpKind> legal = legal_ops(state);
    if (std::find(legal.begin(), legal.end(), kind) == legal.end()) {
      const std::string names =
          name_list(static_cast<int>(legal.size()), [&](int i) { return op_info(legal[i]).name; });
      fail_at(l, 0,
              "an operation allowed while task " + task_name(task) + " holds " + holding(state) + " (" + names + ")");
    }
    Op op{kind, 0};
    size_t tokens = 1;
    switch (op_info(kind).arg) {
      case OpArg::kNone: break;
      case OpArg::kSlot:
        op.arg = static_cast<uint8_t>(number(l, tokens++, 0, kSlots - 1, "a slot number 0 to 7"));
        break;
      case OpArg::kTask:
        // Any T<digit> for now: the number of tasks is known after the last one.
        op.arg = static_cast<uint8_t>(task_ref(l, tokens++, 10, "a task name"));
        kill_targets.push_back(KillTarget{l.number, l.tokens[1].column, op.arg});
        break;
    }
    expect_end(l, tokens);
    return op;
  }

  // ---- schedule ----

  void parse_schedule() {
    Scenario& sc = out_.scenario;
    const Line& l =
        top("schedule", sc.tasks.size() < kMaxTasks ? "'task' or 'schedule'" : "'schedule' (at most 4 tasks)");
    if (l.tokens.size() < 2 || !strategy_from_name(l.tokens[1].text, &sc.strategy)) {
      fail_at(l, 1, "a strategy (switch-list, pct or random)");
    }
    sc.pct_depth = Scenario{}.pct_depth;  // read by PCT only
    switch (sc.strategy) {
      case StrategyKind::kSwitchList: parse_switch_list(l); return;
      case StrategyKind::kPct: parse_pct(l); break;
      case StrategyKind::kRandom: parse_random(l); break;
    }
    if (at_body()) fail_next("'expect' or end of file (the schedule is complete)");
  }

  void parse_switch_list(const Line& l) {
    expect_end(l, 2);
    const int n = static_cast<int>(out_.scenario.tasks.size());
    std::vector<SwitchPair> pairs;
    while (at_body()) {
      const Line& b = body("run", "");
      SwitchPair p{};
      p.run = number(b, 1, 1, kMaxRun, "a run length 1 to 48");
      expect_word(b, 2, "then");
      const std::string_view action = b.tokens.size() > 3 ? b.tokens[3].text : "";
      if (action == "switch") {
        p.group = kGroupSwitch;
      } else if (action == "wake") {
        p.group = kGroupWake;
      } else if (action == "kill") {
        p.group = kGroupKill;
      } else {
        fail_at(b, 3, "an action (switch, wake or kill)");
      }
      p.task = task_ref(b, 4, n);
      expect_end(b, 5);
      pairs.push_back(p);
    }
    out_.scenario.choices = write_switch_pairs(pairs, n);
  }

  void parse_pct(const Line& l) {
    Scenario& sc = out_.scenario;
    const int n = static_cast<int>(sc.tasks.size());
    expect_word(l, 2, "depth");
    sc.pct_depth = static_cast<uint8_t>(number(l, 3, 1, 4, "a PCT depth 1 to 4"));
    expect_end(l, 4);
    PctParams p;
    const Line& pl = body("priorities", "an indented 'priorities' line");
    std::array<bool, kMaxTasks> listed{};
    for (size_t tok = 1; tok <= static_cast<size_t>(n); ++tok) {
      if (tok >= pl.tokens.size()) {
        fail_at(pl, tok, "every task once, highest priority first (" + std::to_string(n) + " names)");
      }
      const int t = task_ref(pl, tok, n);
      if (listed[static_cast<size_t>(t)])
        fail(pl.number, pl.tokens[tok].column, "task " + task_name(t) + " is listed twice");
      listed[static_cast<size_t>(t)] = true;
      p.order.push_back(t);
    }
    expect_end(pl, static_cast<size_t>(n) + 1);
    const int count = sc.pct_depth - 1;
    if (count > 0) {
      const std::string depth = "depth " + std::to_string(sc.pct_depth);
      const Line& cl =
          body("change-points", "an indented 'change-points' line (" + std::to_string(count) + " for " + depth + ")");
      const int horizon = pct_horizon(total_ops(sc));
      for (size_t tok = 1; tok <= static_cast<size_t>(count); ++tok) {
        p.change_points.push_back(number(cl, tok, 1, horizon,
                                         "a change point 1 to " + std::to_string(horizon) + " (" +
                                             std::to_string(kPctStepsPerOp) + " steps per operation)"));
      }
      expect_end(cl, static_cast<size_t>(count) + 1,
                 "end of line (" + depth + " has " + std::to_string(count) + " change points)");
    }
    sc.choices = write_pct(p, sc.pct_depth);
  }

  void parse_random(const Line& l) {
    expect_word(l, 2, "seed");
    const std::string what = "a seed of '0x' and 1 to 16 hex digits";
    if (l.tokens.size() < 4) fail_at(l, 3, what);
    const std::string_view s = l.tokens[3].text;
    uint64_t seed = 0;
    if (s.size() < 3 || s.size() > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) fail_at(l, 3, what);
    const auto [end, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), seed, 16);
    if (ec != std::errc() || end != s.data() + s.size()) fail_at(l, 3, what);
    expect_end(l, 4);
    out_.scenario.choices = write_seed(seed);
  }

  // ---- expectations ----

  void parse_expectation() {
    const Line& l = top("expect", "'expect' or end of file");
    Expectation e;
    e.line = l.number;
    size_t tok = 1;
    if (tok < l.tokens.size() && l.tokens[tok].text == "with") {
      e.inject = name_lookup<core::Bug>(
          l, tok + 1, static_cast<int>(core::Bug::kCount),
          [](int i) { return core::bug_info(static_cast<core::Bug>(i)).name; },
          "a bug name (vmafuzz list-bugs lists them)");
      tok += 2;
    }
    const std::string_view head = tok < l.tokens.size() ? l.tokens[tok].text : "";
    if (head == "verdict") {
      e.kind = Expectation::Kind::kVerdict;
      e.verdict = name_lookup<Verdict>(
          l, tok + 1, static_cast<int>(Verdict::kMaxValue) + 1,
          [](int i) { return verdict_name(static_cast<Verdict>(i)); }, "a verdict");
      expect_end(l, tok + 2);
    } else if (head == "report") {
      e.kind = Expectation::Kind::kReport;
      e.site = name_lookup<core::ReportSite>(
          l, tok + 1, static_cast<int>(core::ReportSite::kCount),
          [](int i) { return core::report_site_info(static_cast<core::ReportSite>(i)).name; }, "a report site name");
      expect_end(l, tok + 2);
    } else if (head == "finding") {
      e.kind = Expectation::Kind::kFinding;
      e.oracle = name_lookup<OracleId>(
          l, tok + 1, static_cast<int>(OracleId::kCount),
          [](int i) { return oracle_info(static_cast<OracleId>(i)).name; }, "an oracle name");
      expect_end(l, tok + 2);
    } else if (head == "signature") {
      e.kind = Expectation::Kind::kSignature;
      e.signature = parse_signature(l, tok + 1);
    } else if (head.size() >= 2 && head[0] == 'T') {
      parse_task_fact(l, tok, &e);
    } else {
      fail_at(l, tok, "'verdict', 'report', 'finding', 'signature', 'with', T<k> parks or T<k>.<op>");
    }
    out_.expectations.push_back(std::move(e));
  }

  // <oracle>|<detail>|<operation>|<others> (Finding::signature()): the rest of
  // the line from token `tok`, verbatim, since a detail may hold blanks. The
  // detail is free text (it may even hold '|': the operation and the others
  // are the last two fields); the other fields must be names a Finding can
  // carry, so a misspelt expectation fails here and not only when it runs.
  std::string parse_signature(const Line& l, size_t tok) const {
    const std::string what = "a signature <oracle>|<detail>|<operation>|<others>";
    if (tok >= l.tokens.size()) fail_at(l, tok, what);
    const int column = l.tokens[tok].column;
    const std::string_view sig =
        l.text.substr(static_cast<size_t>(column - 1), static_cast<size_t>(l.end_column - column));
    constexpr size_t npos = std::string_view::npos;
    const size_t first = sig.find('|');
    const size_t last = sig.rfind('|');
    const size_t second_last = last == npos || last == 0 ? npos : sig.rfind('|', last - 1);
    if (first == npos || second_last == npos || second_last <= first) {
      fail(l.number, column, "expected " + what + " (three '|'), found '" + std::string(sig) + "'");
    }
    const std::string_view oracle = sig.substr(0, first);
    bool known = false;
    for (int i = 0; i < static_cast<int>(OracleId::kCount); ++i) {
      known |= oracle_info(static_cast<OracleId>(i)).name == oracle;
    }
    if (!known) {
      fail(l.number, column,
           "expected an oracle name at the start of the signature, found '" + std::string(oracle) + "'");
    }
    const auto is_op = [](std::string_view name) {
      OpKind kind;
      return op_kind_from_name(name, &kind);
    };
    const std::string_view operation = sig.substr(second_last + 1, last - second_last - 1);
    if (operation != "-" && !is_op(operation)) {
      fail(l.number, column + static_cast<int>(second_last) + 1,
           "expected an operation name or '-' as the signature's operation, found '" + std::string(operation) + "'");
    }
    // The others: empty, or operation names separated by commas.
    const std::string_view others = sig.substr(last + 1);
    for (size_t start = 0; !others.empty();) {
      const size_t comma = std::min(others.find(',', start), others.size());
      const std::string_view name = others.substr(start, comma - start);
      if (!is_op(name)) {
        fail(l.number, column + static_cast<int>(last + 1 + start),
             "expected the other tasks' operation names (comma-separated, or nothing), found '" + std::string(name) +
                 "'");
      }
      if (comma == others.size()) break;
      start = comma + 1;
    }
    return std::string(sig);
  }

  // T<k> parks <n> | T<k>.<i> <outcome> | T<k>.<i> <word> (accesses <n> | reads <v>... | <a>-><b>... | -)
  void parse_task_fact(const Line& l, size_t tok, Expectation* e) const {
    const Scenario& sc = out_.scenario;
    const int n = static_cast<int>(sc.tasks.size());
    const std::string_view head = l.tokens[tok].text;
    const size_t dot = head.find('.');
    const std::string_view name = head.substr(0, dot);
    if (name.size() != 2 || name[1] < '0' || name[1] >= '0' + n) {
      fail_at(l, tok, "a task name " + task_range(n) + " (T<k> or T<k>.<op>)");
    }
    e->task = name[1] - '0';
    if (dot == std::string_view::npos) {
      e->kind = Expectation::Kind::kParks;
      expect_word(l, tok + 1, "parks");
      e->count = static_cast<uint64_t>(number(l, tok + 2, 0, 1 << 30, "a count"));
      expect_end(l, tok + 3);
      return;
    }
    const int ops = static_cast<int>(sc.tasks[static_cast<size_t>(e->task)].ops.size());
    const std::string_view index = head.substr(dot + 1);
    const auto [end, ec] = std::from_chars(index.data(), index.data() + index.size(), e->op);
    if (index.empty() || ec != std::errc() || end != index.data() + index.size() || e->op < 0 || e->op >= ops) {
      fail(l.number, l.tokens[tok].column + static_cast<int>(dot) + 1,
           "expected an operation index 0 to " + std::to_string(ops - 1) + " of " + task_name(e->task) + ", found '" +
               std::string(index) + "'");
    }
    ++tok;
    const int outcomes = static_cast<int>(OpOutcome::kMaxValue) + 1;
    const auto outcome_name = [](int i) { return op_outcome_name(static_cast<OpOutcome>(i)); };
    for (int i = 0; tok < l.tokens.size() && i < outcomes; ++i) {
      if (outcome_name(i) == l.tokens[tok].text) {
        e->kind = Expectation::Kind::kOutcome;
        e->outcome = static_cast<OpOutcome>(i);
        expect_end(l, tok + 1);
        return;
      }
    }
    e->word = name_lookup<core::SharedWordKind>(
        l, tok, static_cast<int>(kWordKinds.size()), [](int i) { return kWordKinds[static_cast<size_t>(i)]; },
        "an outcome (" + name_list(outcomes, outcome_name) + ") or a word kind (vm_refcnt, mm_count, ...)");
    ++tok;
    const std::string_view what = tok < l.tokens.size() ? l.tokens[tok].text : "";
    if (what == "accesses") {
      e->kind = Expectation::Kind::kAccesses;
      e->count = static_cast<uint64_t>(number(l, tok + 1, 0, 1 << 30, "a count"));
      expect_end(l, tok + 2);
    } else if (what == "reads") {
      e->kind = Expectation::Kind::kReads;
      if (++tok < l.tokens.size() && l.tokens[tok].text == "-") return expect_end(l, tok + 1);
      if (tok >= l.tokens.size()) fail_at(l, tok, "'-' (no loads) or the values loaded (e.g. 1, FLAG+1)");
      for (; tok < l.tokens.size(); ++tok) {
        uint64_t v = 0;
        if (!parse_value(l.tokens[tok].text, &v)) fail_at(l, tok, "a value (e.g. 1, -1, FLAG, FLAG+1)");
        e->values.push_back(v);
      }
    } else {
      e->kind = Expectation::Kind::kChanges;
      if (what == "-") return expect_end(l, tok + 1);
      const std::string change = "value changes <before>-><after> (e.g. 1->2, FLAG+1->FLAG)";
      if (tok >= l.tokens.size() || what.find("->") == std::string_view::npos) {
        fail_at(l, tok, "'accesses', 'reads', '-' (no changes) or " + change);
      }
      for (; tok < l.tokens.size(); ++tok) {
        const std::string_view s = l.tokens[tok].text;
        const size_t arrow = s.find("->", 1);
        Expectation::Change c;
        if (arrow == std::string_view::npos || !parse_value(s.substr(0, arrow), &c.before) ||
            !parse_value(s.substr(arrow + 2), &c.after)) {
          fail_at(l, tok, "a value change <before>-><after>");
        }
        e->changes.push_back(c);
      }
    }
  }

  // A value: decimal, -decimal, FLAG or FLAG+decimal.
  static bool parse_value(std::string_view s, uint64_t* out) {
    uint64_t base = 0;
    bool negative = false;
    if (s.substr(0, 4) == "FLAG") {
      base = core::VM_REFCNT_EXCLUDE_READERS_FLAG;
      s.remove_prefix(4);
      if (s.empty()) {
        *out = base;
        return true;
      }
      if (s[0] != '+') return false;
      s.remove_prefix(1);
    } else if (!s.empty() && s[0] == '-') {
      negative = true;
      s.remove_prefix(1);
    }
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return false;
    *out = negative ? 0 - v : base + v;
    return true;
  }

  std::string_view file_;
  std::vector<Line> lines_;
  size_t pos_ = 0;
  int eof_line_ = 1;
  SchedFile out_;
};

}  // namespace

// ---- public API -------------------------------------------------------------

bool operator==(const Expectation& a, const Expectation& b) {
  return a.kind == b.kind && a.inject == b.inject && a.verdict == b.verdict && a.site == b.site &&
         a.oracle == b.oracle && a.signature == b.signature && a.task == b.task &&
         a.op == b.op && a.outcome == b.outcome && a.count == b.count && a.word == b.word && a.changes == b.changes &&
         a.values == b.values;
}

std::string SchedError::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}


std::string_view word_kind_name(core::SharedWordKind kind) { return kWordKinds[static_cast<size_t>(kind)]; }

std::variant<SchedFile, SchedError> parse_sched(std::string_view text, std::string_view file_name) {
  try {
    return Parser(text, file_name).parse();
  } catch (const ParseFailure& f) {
    return f.error;
  }
}

Scenario canonical_form(const Scenario& sc) {
  Scenario out = sc;
  const int n = static_cast<int>(sc.tasks.size());
  switch (sc.strategy) {
    case StrategyKind::kSwitchList:
      out.pct_depth = Scenario{}.pct_depth;
      out.choices = write_switch_pairs(read_switch_pairs(sc), n);
      break;
    case StrategyKind::kPct: out.choices = write_pct(read_pct(sc), sc.pct_depth); break;
    case StrategyKind::kRandom:
      out.pct_depth = Scenario{}.pct_depth;
      out.choices = write_seed(read_seed(sc));
      break;
  }
  return out;
}

std::string print_expectation(const Expectation& e) {
  std::string s = "expect ";
  if (e.inject) s += "with " + std::string(core::bug_info(*e.inject).name) + " ";
  const std::string op = task_name(e.task) + "." + std::to_string(e.op);
  switch (e.kind) {
    case Expectation::Kind::kVerdict: return s + "verdict " + std::string(verdict_name(e.verdict));
    case Expectation::Kind::kReport: return s + "report " + std::string(core::report_site_info(e.site).name);
    case Expectation::Kind::kFinding:
      return s + "finding " + (e.oracle == OracleId::kCount ? "none" : std::string(oracle_info(e.oracle).name));
    case Expectation::Kind::kSignature: return s + "signature " + (e.signature.empty() ? "none" : e.signature);
    case Expectation::Kind::kOutcome: return s + op + " " + std::string(op_outcome_name(e.outcome));
    case Expectation::Kind::kParks: return s + task_name(e.task) + " parks " + std::to_string(e.count);
    case Expectation::Kind::kAccesses:
      return s + op + " " + std::string(word_kind_name(e.word)) + " accesses " + std::to_string(e.count);
    case Expectation::Kind::kReads: {
      s += op + " " + std::string(word_kind_name(e.word)) + " reads";
      if (e.values.empty()) return s + " -";
      for (uint64_t v : e.values) s += " " + format_value(e.word, v);
      return s;
    }
    case Expectation::Kind::kChanges: {
      s += op + " " + std::string(word_kind_name(e.word));
      if (e.changes.empty()) return s + " -";
      for (const Expectation::Change& c : e.changes) {
        s += " " + format_value(e.word, c.before) + "->" + format_value(e.word, c.after);
      }
      return s;
    }
  }
  return s;
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
  out += "schedule " + std::string(strategy_name(sc.strategy));
  switch (sc.strategy) {
    case StrategyKind::kSwitchList: {
      out += "\n";
      for (const SwitchPair& p : read_switch_pairs(sc)) {
        const char* action = p.group == kGroupWake ? "wake" : p.group == kGroupKill ? "kill" : "switch";
        out += "  run " + std::to_string(p.run) + " then " + action + " " + task_name(p.task) + "\n";
      }
      break;
    }
    case StrategyKind::kPct: {
      const PctParams p = read_pct(sc);
      out += " depth " + std::to_string(sc.pct_depth) + "\n  priorities";
      for (int t : p.order) out += " " + task_name(t);
      out += "\n";
      if (!p.change_points.empty()) {
        out += "  change-points";
        for (int cp : p.change_points) out += " " + std::to_string(cp);
        out += "\n";
      }
      break;
    }
    case StrategyKind::kRandom: {
      char buf[32];
      std::snprintf(buf, sizeof buf, " seed 0x%016llx\n", static_cast<unsigned long long>(read_seed(sc)));
      out += buf;
      break;
    }
  }
  for (const Expectation& e : file.expectations) out += print_expectation(e) + "\n";
  return out;
}

std::string print_sched(const Scenario& scenario) { return print_sched(SchedFile{{}, scenario, {}}); }

}  // namespace vmafuzz::fuzz
