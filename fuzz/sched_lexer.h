// sched_lexer.h - the lines and tokens of a .sched text, and its errors.
//
// The layers of the text format, each on the one below:
//   sched_lexer.h    lines, tokens, "expected X, found Y" errors, numbers,
//                    task names (this file);
//   strategy_*.cpp   each strategy's schedule body (print and parse), through
//                    the registry (strategy_registry.h);
//   sched_text.h     the scenario: magic, mms, tasks, the schedule line;
//   sched_expect.h   the `expect` lines.
// A parse error is thrown as ParseFailure inside the parser and returned by
// parse_sched() as a SchedError; nothing else sees the exception.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vmafuzz::fuzz {

struct SchedError {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based, at the offending token (or where one was expected)
  std::string message;
  // "file:line:column: message"
  std::string to_string() const;
};

// Thrown by SchedLexer's fail*(); parse_sched() turns it into its result.
struct ParseFailure {
  SchedError error;
};

struct SchedToken {
  std::string_view text;
  int column;  // 1-based
};

struct SchedLine {
  int number;                      // 1-based
  bool indented;                   // starts with a blank: a body line of the task/schedule above
  std::vector<SchedToken> tokens;  // never empty (blank and comment lines are dropped)
  int end_column;                  // just past the last token: where "end of line" is reported
  std::string_view text;           // the line up to its comment (for fields that hold blanks)
};

// "T<k>", the name of task k in the format (and in messages).
std::string task_name(int t);

// The non-blank lines of a text, consumed in order, and the error helpers
// every part of the parser words its messages with. Views into the text: it
// must outlive the lexer.
class SchedLexer {
 public:
  SchedLexer(std::string_view text, std::string_view file);

  // Everything before the first non-blank line (comments and blank lines), verbatim.
  const std::string& preamble() const { return preamble_; }

  // ---- errors (all throw ParseFailure) ----
  [[noreturn]] void fail(int line, int column, std::string message) const;
  // "expected <what>, found '<token tok>'" (or "end of line").
  [[noreturn]] void fail_at(const SchedLine& l, size_t tok, const std::string& what) const;
  // The next line is not what must come here (or there is none).
  [[noreturn]] void fail_next(const std::string& what) const;

  // ---- lines ----
  bool at_end() const { return pos_ >= lines_.size(); }
  const SchedLine& peek() const { return lines_[pos_]; }
  // The next line, whatever it is. Precondition: !at_end().
  const SchedLine& next() { return lines_[pos_++]; }
  bool at_top(std::string_view keyword) const {
    return !at_end() && !peek().indented && peek().tokens[0].text == keyword;
  }
  bool at_body() const { return !at_end() && peek().indented; }
  // The next line, which must be a top-level `keyword` line.
  const SchedLine& top(std::string_view keyword, const std::string& what);
  // The next line, which must be a body line starting with `keyword`.
  const SchedLine& body(std::string_view keyword, const std::string& what);

  // ---- tokens ----
  // Anything after `count` tokens is garbage.
  void expect_end(const SchedLine& l, size_t count, const std::string& what = "end of line") const;
  void expect_word(const SchedLine& l, size_t tok, std::string_view word) const;
  // An unsigned decimal in [lo, hi].
  int number(const SchedLine& l, size_t tok, int lo, int hi, const std::string& what) const;
  // "T<k>" with k < n.
  int task_ref(const SchedLine& l, size_t tok, int n, const std::string& what) const;
  int task_ref(const SchedLine& l, size_t tok, int n) const {
    return task_ref(l, tok, n, "a task name " + task_range(n));
  }
  static std::string task_range(int n) { return "T0 to " + task_name(n - 1); }

  // One of `count` names, name_of(i) for i in [0, count).
  template <class Enum, class NameOf>
  Enum name_lookup(const SchedLine& l, size_t tok, int count, NameOf name_of, const std::string& what) const {
    for (int i = 0; tok < l.tokens.size() && i < count; ++i) {
      if (name_of(i) == l.tokens[tok].text) return static_cast<Enum>(i);
    }
    fail_at(l, tok, what + (count <= 8 ? " (" + name_list(count, name_of) + ")" : ""));
  }
  // "a, b, c": the `count` names name_of(i).
  template <class NameOf>
  static std::string name_list(int count, NameOf name_of) {
    std::string names;
    for (int i = 0; i < count; ++i) names += (i ? ", " : "") + std::string(name_of(i));
    return names;
  }

 private:
  std::string_view file_;
  std::string preamble_;
  std::vector<SchedLine> lines_;
  size_t pos_ = 0;
  int eof_line_ = 1;
};

}  // namespace vmafuzz::fuzz
