// sched_expect.cpp - the `expect` lines of a .sched file, parsed and printed
// (see sched_expect.h).
#include "fuzz/sched_expect.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "core/vma.h"

namespace vmafuzz::fuzz {
namespace {

constexpr std::array<std::string_view, static_cast<size_t>(core::SharedWordKind::kMaxValue) + 1> kWordKinds = {
    "vm_refcnt",   "vm_lock_seq",  "mm_lock_seq", "rcuwait_task", "task_state", "signal",
    "rwsem_count", "rwsem_waiter", "mm_count",    "mm_tree",      "spinlock",   "other",
};
static_assert(!kWordKinds.back().empty(), "a SharedWordKind has no name in kWordKinds");

std::string format_value(core::SharedWordKind word, uint64_t v) {
  constexpr uint64_t kFlag = core::VM_REFCNT_EXCLUDE_READERS_FLAG;
  if (word == core::SharedWordKind::kVmRefcnt && v >= kFlag && v < 2 * kFlag) {
    return v == kFlag ? "FLAG" : "FLAG+" + std::to_string(v - kFlag);
  }
  if (static_cast<int64_t>(v) < 0) return std::to_string(static_cast<int64_t>(v));
  return std::to_string(v);
}

// One `expect` line, on the lexer's next line.
class ExpectationParser {
 public:
  ExpectationParser(SchedLexer& in, const Scenario& sc) : in_(in), sc_(sc) {}

  Expectation parse() {
    const SchedLine& l = in_.top("expect", "'expect' or end of file");
    Expectation e;
    e.line = l.number;
    size_t tok = 1;
    if (tok < l.tokens.size() && l.tokens[tok].text == "with") {
      e.inject = in_.name_lookup<core::Bug>(
          l, tok + 1, static_cast<int>(core::Bug::kCount),
          [](int i) { return core::bug_info(static_cast<core::Bug>(i)).name; },
          "a bug name (vmafuzz list-bugs lists them)");
      tok += 2;
    }
    const std::string_view head = tok < l.tokens.size() ? l.tokens[tok].text : "";
    if (head == "verdict") {
      e.kind = Expectation::Kind::kVerdict;
      e.verdict = in_.name_lookup<Verdict>(
          l, tok + 1, static_cast<int>(Verdict::kMaxValue) + 1,
          [](int i) { return verdict_name(static_cast<Verdict>(i)); }, "a verdict");
      in_.expect_end(l, tok + 2);
    } else if (head == "report") {
      e.kind = Expectation::Kind::kReport;
      e.site = in_.name_lookup<core::ReportSite>(
          l, tok + 1, static_cast<int>(core::ReportSite::kCount),
          [](int i) { return core::report_site_info(static_cast<core::ReportSite>(i)).name; }, "a report site name");
      in_.expect_end(l, tok + 2);
    } else if (head == "finding") {
      e.kind = Expectation::Kind::kFinding;
      e.oracle = in_.name_lookup<OracleId>(
          l, tok + 1, static_cast<int>(OracleId::kCount),
          [](int i) { return oracle_info(static_cast<OracleId>(i)).name; }, "an oracle name");
      in_.expect_end(l, tok + 2);
    } else if (head == "signature") {
      e.kind = Expectation::Kind::kSignature;
      e.signature = parse_signature(l, tok + 1);
    } else if (head.size() >= 2 && head[0] == 'T') {
      parse_task_fact(l, tok, &e);
    } else {
      in_.fail_at(l, tok, "'verdict', 'report', 'finding', 'signature', 'with', T<k> parks or T<k>.<op>");
    }
    return e;
  }

 private:
  // <oracle>|<detail>|<operation>|<others> (Finding::signature()): the rest of
  // the line from token `tok`, verbatim, since a detail may hold blanks. The
  // detail is free text (it may even hold '|': the operation and the others
  // are the last two fields); the other fields must be names a Finding can
  // carry, so a misspelt expectation fails here and not only when it runs.
  std::string parse_signature(const SchedLine& l, size_t tok) const {
    const std::string what = "a signature <oracle>|<detail>|<operation>|<others>";
    if (tok >= l.tokens.size()) in_.fail_at(l, tok, what);
    const int column = l.tokens[tok].column;
    const std::string_view sig =
        l.text.substr(static_cast<size_t>(column - 1), static_cast<size_t>(l.end_column - column));
    constexpr size_t npos = std::string_view::npos;
    const size_t first = sig.find('|');
    const size_t last = sig.rfind('|');
    const size_t second_last = last == npos || last == 0 ? npos : sig.rfind('|', last - 1);
    if (first == npos || second_last == npos || second_last <= first) {
      in_.fail(l.number, column, "expected " + what + " (three '|'), found '" + std::string(sig) + "'");
    }
    const std::string_view oracle = sig.substr(0, first);
    bool known = false;
    for (int i = 0; i < static_cast<int>(OracleId::kCount); ++i) {
      known |= oracle_info(static_cast<OracleId>(i)).name == oracle;
    }
    if (!known) {
      in_.fail(l.number, column,
           "expected an oracle name at the start of the signature, found '" + std::string(oracle) + "'");
    }
    const auto is_op = [](std::string_view name) {
      OpKind kind;
      return op_kind_from_name(name, &kind);
    };
    const std::string_view operation = sig.substr(second_last + 1, last - second_last - 1);
    if (operation != "-" && !is_op(operation)) {
      in_.fail(l.number, column + static_cast<int>(second_last) + 1,
           "expected an operation name or '-' as the signature's operation, found '" + std::string(operation) + "'");
    }
    // The others: empty, or operation names separated by commas.
    const std::string_view others = sig.substr(last + 1);
    for (size_t start = 0; !others.empty();) {
      const size_t comma = std::min(others.find(',', start), others.size());
      const std::string_view name = others.substr(start, comma - start);
      if (!is_op(name)) {
        in_.fail(l.number, column + static_cast<int>(last + 1 + start),
             "expected the other tasks' operation names (comma-separated, or nothing), found '" + std::string(name) +
                 "'");
      }
      if (comma == others.size()) break;
      start = comma + 1;
    }
    return std::string(sig);
  }

  // T<k> parks <n> | T<k>.<i> <outcome> | T<k>.<i> <word> (accesses <n> | reads <v>... | <a>-><b>... | -)
  void parse_task_fact(const SchedLine& l, size_t tok, Expectation* e) const {
    const Scenario& sc = sc_;
    const int n = static_cast<int>(sc.tasks.size());
    const std::string_view head = l.tokens[tok].text;
    const size_t dot = head.find('.');
    const std::string_view name = head.substr(0, dot);
    if (name.size() != 2 || name[1] < '0' || name[1] >= '0' + n) {
      in_.fail_at(l, tok, "a task name " + SchedLexer::task_range(n) + " (T<k> or T<k>.<op>)");
    }
    e->task = name[1] - '0';
    if (dot == std::string_view::npos) {
      e->kind = Expectation::Kind::kParks;
      in_.expect_word(l, tok + 1, "parks");
      e->count = static_cast<uint64_t>(in_.number(l, tok + 2, 0, 1 << 30, "a count"));
      in_.expect_end(l, tok + 3);
      return;
    }
    const int ops = static_cast<int>(sc.tasks[static_cast<size_t>(e->task)].ops.size());
    const std::string_view index = head.substr(dot + 1);
    const auto [end, ec] = std::from_chars(index.data(), index.data() + index.size(), e->op);
    if (index.empty() || ec != std::errc() || end != index.data() + index.size() || e->op < 0 || e->op >= ops) {
      in_.fail(l.number, l.tokens[tok].column + static_cast<int>(dot) + 1,
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
        in_.expect_end(l, tok + 1);
        return;
      }
    }
    e->word = in_.name_lookup<core::SharedWordKind>(
        l, tok, static_cast<int>(kWordKinds.size()), [](int i) { return kWordKinds[static_cast<size_t>(i)]; },
        "an outcome (" + SchedLexer::name_list(outcomes, outcome_name) + ") or a word kind (vm_refcnt, mm_count, ...)");
    ++tok;
    const std::string_view what = tok < l.tokens.size() ? l.tokens[tok].text : "";
    if (what == "accesses") {
      e->kind = Expectation::Kind::kAccesses;
      e->count = static_cast<uint64_t>(in_.number(l, tok + 1, 0, 1 << 30, "a count"));
      in_.expect_end(l, tok + 2);
    } else if (what == "reads") {
      e->kind = Expectation::Kind::kReads;
      if (++tok < l.tokens.size() && l.tokens[tok].text == "-") return in_.expect_end(l, tok + 1);
      if (tok >= l.tokens.size()) in_.fail_at(l, tok, "'-' (no loads) or the values loaded (e.g. 1, FLAG+1)");
      for (; tok < l.tokens.size(); ++tok) {
        uint64_t v = 0;
        if (!parse_value(l.tokens[tok].text, &v)) in_.fail_at(l, tok, "a value (e.g. 1, -1, FLAG, FLAG+1)");
        e->values.push_back(v);
      }
    } else {
      e->kind = Expectation::Kind::kChanges;
      if (what == "-") return in_.expect_end(l, tok + 1);
      const std::string change = "value changes <before>-><after> (e.g. 1->2, FLAG+1->FLAG)";
      if (tok >= l.tokens.size() || what.find("->") == std::string_view::npos) {
        in_.fail_at(l, tok, "'accesses', 'reads', '-' (no changes) or " + change);
      }
      for (; tok < l.tokens.size(); ++tok) {
        const std::string_view s = l.tokens[tok].text;
        const size_t arrow = s.find("->", 1);
        Expectation::Change c;
        if (arrow == std::string_view::npos || !parse_value(s.substr(0, arrow), &c.before) ||
            !parse_value(s.substr(arrow + 2), &c.after)) {
          in_.fail_at(l, tok, "a value change <before>-><after>");
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

  SchedLexer& in_;
  const Scenario& sc_;
};

}  // namespace

bool operator==(const Expectation& a, const Expectation& b) {
  return a.kind == b.kind && a.inject == b.inject && a.verdict == b.verdict && a.site == b.site &&
         a.oracle == b.oracle && a.signature == b.signature && a.task == b.task &&
         a.op == b.op && a.outcome == b.outcome && a.count == b.count && a.word == b.word && a.changes == b.changes &&
         a.values == b.values;
}

std::string_view word_kind_name(core::SharedWordKind kind) { return kWordKinds[static_cast<size_t>(kind)]; }

std::string format_word_value(core::SharedWordKind word, uint64_t value) { return format_value(word, value); }

Expectation parse_expectation(SchedLexer& in, const Scenario& sc) { return ExpectationParser(in, sc).parse(); }

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

}  // namespace vmafuzz::fuzz
