// recorded_trace.cpp - parse and print the recorded-trace text format.
#include "fuzz/recorded_trace.h"

#include <charconv>
#include <string>

#include "fuzz/sched_expect.h"
#include "fuzz/sched_text.h"

namespace vmafuzz::fuzz {
namespace {

constexpr std::string_view kAccessNames[] = {"load", "store", "rmw", "cmpxchg"};

bool parse_u64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool word_kind_from_name(std::string_view name, core::SharedWordKind* out) {
  for (int k = 0; k <= static_cast<int>(core::SharedWordKind::kMaxValue); ++k) {
    if (word_kind_name(static_cast<core::SharedWordKind>(k)) == name) {
      *out = static_cast<core::SharedWordKind>(k);
      return true;
    }
  }
  return false;
}

bool outcome_from_name(std::string_view name, OpOutcome* out) {
  for (int k = 0; k <= static_cast<int>(OpOutcome::kMaxValue); ++k) {
    if (op_outcome_name(static_cast<OpOutcome>(k)) == name) {
      *out = static_cast<OpOutcome>(k);
      return true;
    }
  }
  return false;
}

std::string word_text(uint32_t word) {
  return word & kTraceStackWord ? "s" + std::to_string(word & ~kTraceStackWord) : "w" + std::to_string(word);
}

void parse_events(SchedLexer& lex, RecordedTrace& tr) {
  const int n = static_cast<int>(tr.setup.tasks.size());
  uint64_t last_clock = 0;
  while (lex.at_body()) {
    const SchedLine& l = lex.next();
    RecordedEvent e;
    if (!parse_u64(l.tokens[0].text, &e.clock) || e.clock == 0) lex.fail_at(l, 0, "a clock value from 1");
    if (e.clock <= last_clock) {
      lex.fail(l.number, l.tokens[0].column,
               "clock " + std::string(l.tokens[0].text) + " is not after the previous event's " +
                   std::to_string(last_clock));
    }
    last_clock = e.clock;
    if (l.tokens.size() < 2) lex.fail_at(l, 1, "a task T0..T" + std::to_string(n - 1));
    const std::string_view tn = l.tokens[1].text;
    uint64_t t = 0;
    if (tn.size() < 2 || tn[0] != 'T' || !parse_u64(tn.substr(1), &t) || t >= static_cast<uint64_t>(n)) {
      lex.fail_at(l, 1, "a task T0..T" + std::to_string(n - 1));
    }
    e.task = static_cast<int>(t);
    const int ops = static_cast<int>(tr.setup.tasks[t].ops.size());
    if (l.tokens.size() < 3) lex.fail_at(l, 2, "an operation index, 'exit', 'begin' or 'end'");
    const std::string_view what = l.tokens[2].text;
    auto op_index = [&](size_t tok) {
      uint64_t i = 0;
      if (tok >= l.tokens.size() || !parse_u64(l.tokens[tok].text, &i) || i >= static_cast<uint64_t>(ops)) {
        lex.fail_at(l, tok, "an operation index 0.." + std::to_string(ops - 1) + " of " + task_name(e.task));
      }
      return static_cast<int>(i);
    };
    size_t expect_tokens;
    if (what == "begin" || what == "end") {
      e.kind = what == "begin" ? RecordedEvent::Kind::kBegin : RecordedEvent::Kind::kEnd;
      e.op = op_index(3);
      expect_tokens = 4;
      if (e.kind == RecordedEvent::Kind::kEnd) {
        if (l.tokens.size() < 5 || !outcome_from_name(l.tokens[4].text, &e.outcome)) {
          lex.fail_at(l, 4, "an outcome (done, skipped, vma-locked, fallback, null, interrupted)");
        }
        expect_tokens = 5;
      }
    } else {
      e.kind = RecordedEvent::Kind::kAccess;
      e.op = what == "exit" ? ops : op_index(2);
      if (l.tokens.size() < 4 || !word_kind_from_name(l.tokens[3].text, &e.word_kind)) {
        lex.fail_at(l, 3, "a word kind (vm_refcnt, vm_lock_seq, ..., other)");
      }
      bool ok = false;
      if (l.tokens.size() >= 5) {
        for (int a = 0; a < 4; ++a) {
          if (kAccessNames[a] == l.tokens[4].text) {
            e.access = static_cast<core::AccessKind>(a);
            ok = true;
          }
        }
      }
      if (!ok) lex.fail_at(l, 4, "an access kind (load, store, rmw, cmpxchg)");
      uint64_t w = 0;
      const std::string_view wt = l.tokens.size() >= 6 ? l.tokens[5].text : std::string_view();
      if (wt.size() < 2 || (wt[0] != 'w' && wt[0] != 's') || !parse_u64(wt.substr(1), &w) ||
          w >= (wt[0] == 's' ? static_cast<uint64_t>(kMaxTasks) : static_cast<uint64_t>(kTraceStackWord))) {
        lex.fail_at(l, 5, "a word: w<id>, or s<task> for a stack word");
      }
      e.word = static_cast<uint32_t>(w) | (wt[0] == 's' ? kTraceStackWord : 0);
      expect_tokens = 6;
    }
    if (l.tokens.size() > expect_tokens) lex.fail_at(l, expect_tokens, "end of line");
    tr.events.push_back(e);
  }
}

}  // namespace

std::string_view access_kind_name(core::AccessKind access) {
  return kAccessNames[static_cast<int>(access) & 3];
}

bool looks_like_recorded_trace(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    return line.substr(first).starts_with(kTraceMagic);
  }
  return false;
}

std::variant<RecordedTrace, SchedError> parse_recorded_trace(std::string_view text, std::string_view file_name) {
  try {
    SchedLexer lex(text, file_name);
    RecordedTrace tr;
    tr.preamble = lex.preamble();
    if (lex.at_end()) lex.fail_next("'vmafuzz-trace 1'");
    const SchedLine& magic = lex.next();
    if (magic.indented || magic.tokens[0].text != kTraceMagic) lex.fail_at(magic, 0, "'vmafuzz-trace'");
    if (magic.tokens.size() < 2 || magic.tokens[1].text != "1") lex.fail_at(magic, 1, "format version 1");
    if (magic.tokens.size() > 2) lex.fail_at(magic, 2, "end of line");
    // The set-up is .sched syntax: hand the lines up to `events` to parse_sched,
    // as a .sched text with the same line numbers.
    while (!lex.at_end() && !lex.at_top("events")) lex.next();
    if (lex.at_end()) lex.fail_next("an 'events' line");
    const SchedLine& ev = lex.next();
    if (ev.tokens.size() > 1) lex.fail_at(ev, 1, "end of line");
    const size_t magic_at = static_cast<size_t>(magic.text.data() - text.data());
    const size_t events_at = static_cast<size_t>(ev.text.data() - text.data());
    std::string sched(text.substr(0, events_at));
    sched.replace(magic_at + (magic.tokens[0].text.data() - magic.text.data()), kTraceMagic.size(), "vmafuzz-sched");
    sched += "schedule switch-list\n";
    auto parsed = parse_sched(sched, file_name);
    if (auto* err = std::get_if<SchedError>(&parsed)) return *err;
    tr.setup = std::get<SchedFile>(parsed).scenario;
    tr.setup.choices.clear();
    parse_events(lex, tr);
    if (!lex.at_end()) lex.fail_at(lex.peek(), 0, "an indented event line or the end of the file");
    return tr;
  } catch (const ParseFailure& f) {
    return f.error;
  }
}

std::string print_recorded_trace(const RecordedTrace& tr) {
  std::string out = tr.preamble;
  std::string sched = print_sched(tr.setup);
  // Drop the magic and the schedule lines of the .sched text.
  const size_t body = sched.find('\n') + 1;
  const size_t schedule = sched.find("\nschedule ");
  out += std::string(kTraceMagic) + " " + std::to_string(kTraceVersion) + "\n";
  out += sched.substr(body, schedule + 1 - body);
  out += "events\n";
  for (const RecordedEvent& e : tr.events) {
    out += "  " + std::to_string(e.clock) + " " + task_name(e.task) + " ";
    switch (e.kind) {
      case RecordedEvent::Kind::kBegin: out += "begin " + std::to_string(e.op); break;
      case RecordedEvent::Kind::kEnd:
        out += "end " + std::to_string(e.op) + " " + std::string(op_outcome_name(e.outcome));
        break;
      case RecordedEvent::Kind::kAccess: {
        const bool exit = e.op >= static_cast<int>(tr.setup.tasks[static_cast<size_t>(e.task)].ops.size());
        out += (exit ? std::string("exit") : std::to_string(e.op)) + " " + std::string(word_kind_name(e.word_kind)) +
               " " + std::string(access_kind_name(e.access)) + " " + word_text(e.word);
        break;
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace vmafuzz::fuzz
