// sched_lexer.cpp - lines, tokens and error helpers of the .sched text (see sched_lexer.h).
#include "fuzz/sched_lexer.h"

#include <charconv>
#include <utility>

namespace vmafuzz::fuzz {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

std::string SchedError::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

std::string task_name(int t) { return "T" + std::to_string(t); }

SchedLexer::SchedLexer(std::string_view text, std::string_view file) : file_(file) {
  int number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view body = text.substr(start, end - start);
    body = body.substr(0, body.find('#'));
    SchedLine line{++number, !body.empty() && is_blank(body[0]), {}, 1, body};
    for (size_t i = 0; i < body.size();) {
      if (is_blank(body[i])) {
        ++i;
        continue;
      }
      const size_t tok = i;
      while (i < body.size() && !is_blank(body[i])) ++i;
      line.tokens.push_back(SchedToken{body.substr(tok, i - tok), static_cast<int>(tok) + 1});
      line.end_column = static_cast<int>(i) + 1;
    }
    if (!line.tokens.empty()) {
      if (lines_.empty()) preamble_ = std::string(text.substr(0, start));
      lines_.push_back(std::move(line));
    }
    start = end + 1;
  }
  eof_line_ = number + 1;
}

void SchedLexer::fail(int line, int column, std::string message) const {
  throw ParseFailure{SchedError{std::string(file_), line, column, std::move(message)}};
}

void SchedLexer::fail_at(const SchedLine& l, size_t tok, const std::string& what) const {
  if (tok < l.tokens.size()) {
    fail(l.number, l.tokens[tok].column, "expected " + what + ", found '" + std::string(l.tokens[tok].text) + "'");
  }
  fail(l.number, l.end_column, "expected " + what + ", found end of line");
}

void SchedLexer::fail_next(const std::string& what) const {
  if (at_end()) fail(eof_line_, 1, "expected " + what + ", found end of file");
  const SchedLine& l = peek();
  fail(l.number, l.tokens[0].column,
       "expected " + what + ", found " + (l.indented ? "indented '" : "'") + std::string(l.tokens[0].text) + "'");
}

const SchedLine& SchedLexer::top(std::string_view keyword, const std::string& what) {
  if (!at_top(keyword)) fail_next(what);
  return next();
}

const SchedLine& SchedLexer::body(std::string_view keyword, const std::string& what) {
  if (!at_body()) fail_next(what);
  const SchedLine& l = next();
  expect_word(l, 0, keyword);
  return l;
}

void SchedLexer::expect_end(const SchedLine& l, size_t count, const std::string& what) const {
  if (l.tokens.size() > count) fail_at(l, count, what);
}

void SchedLexer::expect_word(const SchedLine& l, size_t tok, std::string_view word) const {
  if (tok >= l.tokens.size() || l.tokens[tok].text != word) fail_at(l, tok, "'" + std::string(word) + "'");
}

int SchedLexer::number(const SchedLine& l, size_t tok, int lo, int hi, const std::string& what) const {
  if (tok >= l.tokens.size()) fail_at(l, tok, what);
  const std::string_view s = l.tokens[tok].text;
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s[0] == '-' || v < lo || v > hi) fail_at(l, tok, what);
  return v;
}

int SchedLexer::task_ref(const SchedLine& l, size_t tok, int n, const std::string& what) const {
  if (tok >= l.tokens.size()) fail_at(l, tok, what);
  const std::string_view s = l.tokens[tok].text;
  if (s.size() != 2 || s[0] != 'T' || s[1] < '0' || s[1] >= '0' + n) fail_at(l, tok, what);
  return s[1] - '0';
}

}  // namespace vmafuzz::fuzz
