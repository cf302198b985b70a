// ftrace_import.cpp - parse ftrace text; map, reconcile and window its events.
#include "fuzz/ftrace_import.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

#include "fuzz/scenario_codec.h"

namespace vmafuzz::fuzz {
namespace {

std::string_view trim(std::string_view s) {
  const size_t a = s.find_first_not_of(" \t");
  if (a == std::string_view::npos) return {};
  const size_t b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool parse_uint(std::string_view s, uint64_t* out, int base = 10) {
  if (s.empty() || s.size() > (base == 16 ? 16u : 19u)) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && p == s.data() + s.size();
}

// "1234.567890" -> ns (global clocks), "123456789" -> ticks (counter clocks).
bool parse_timestamp(std::string_view s, uint64_t* ns, bool* counter) {
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos) {
    *counter = true;
    return parse_uint(s, ns);
  }
  *counter = false;
  uint64_t sec = 0;
  std::string_view frac = s.substr(dot + 1);
  if (!all_digits(s.substr(0, dot)) || !all_digits(frac) || !parse_uint(s.substr(0, dot), &sec) || sec > 10000000000ull) {
    return false;
  }
  std::string f(frac.substr(0, 9));
  f.resize(9, '0');
  uint64_t fr = 0;
  parse_uint(f, &fr);
  *ns = sec * 1000000000ull + fr;
  return true;
}

// key=value fields; values may be "quoted" (with \" escapes) or bare.
std::map<std::string, std::string, std::less<>> parse_fields(std::string_view s) {
  std::map<std::string, std::string, std::less<>> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    const size_t k = i;
    while (i < s.size() && s[i] != '=' && s[i] != ' ' && s[i] != '\t') ++i;
    std::string key(s.substr(k, i - k));
    if (i >= s.size() || s[i] != '=') {
      continue;  // a bare word: not a field
    }
    ++i;
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        value += s[i++];
      }
      if (i < s.size()) ++i;
    } else {
      const size_t v = i;
      while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
      value = std::string(s.substr(v, i - v));
    }
    if (!key.empty()) out.emplace(std::move(key), std::move(value));
  }
  return out;
}

std::optional<bool> parse_bool(std::string_view v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return std::nullopt;
}

bool is_header_line(std::string_view t) {
  return t.starts_with("cpus=") || t.starts_with("version =") || t.starts_with("version=") ||
         (t.starts_with("CPU ") && t.ends_with(" is empty")) || t.starts_with("CPU:") ||
         t.find("[LOST ") != std::string_view::npos;
}

}  // namespace

bool looks_like_ftrace(std::string_view text) {
  return text.find("# tracer:") != std::string_view::npos || text.find("mmap_lock_") != std::string_view::npos ||
         text.find("cpus=") == 0;
}

FtraceParse parse_ftrace(std::string_view text, std::string_view file_name) {
  FtraceParse out;
  FtraceCounts& c = out.counts;
  auto warn = [&](int line, const std::string& msg) {
    ++c.malformed;
    if (out.warnings.size() < 100) out.warnings.push_back(std::string(file_name) + ":" + std::to_string(line) + ": " + msg);
  };
  bool seen_counter = false, seen_global = false;
  uint64_t last_ts = 0;
  bool have_last = false;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    const bool last_line = end == std::string_view::npos;
    if (last_line) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    ++c.lines;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view t = trim(line);
    if (t.empty() || t[0] == '#' || is_header_line(t)) {
      ++c.comments;
      continue;
    }
    // TASK-PID [(TGID)] [CPU] [FLAGS] TIMESTAMP: EVENT: FIELDS
    size_t cpu_open = std::string_view::npos;
    for (size_t i = t.find(" ["); i != std::string_view::npos; i = t.find(" [", i + 1)) {
      const size_t close = t.find(']', i + 2);
      if (close != std::string_view::npos && all_digits(t.substr(i + 2, close - i - 2))) {
        cpu_open = i + 1;
        break;
      }
    }
    if (cpu_open == std::string_view::npos) {
      warn(line_no, last_line ? "truncated line (no CPU field)" : "not an event line: no [CPU] field");
      continue;
    }
    FtraceEvent e;
    e.line = line_no;
    std::string_view who = trim(t.substr(0, cpu_open));
    if (!who.empty() && who.back() == ')') {
      const size_t p = who.rfind('(');
      if (p != std::string_view::npos) who = trim(who.substr(0, p));
    }
    const size_t dash = who.rfind('-');
    uint64_t pid = 0;
    if (dash == std::string_view::npos || !parse_uint(who.substr(dash + 1), &pid) || pid > 0x7fffffff) {
      warn(line_no, "expected TASK-PID before the CPU field, found '" + std::string(who) + "'");
      continue;
    }
    e.pid = static_cast<int>(pid);
    e.comm = std::string(who.substr(0, dash));
    const size_t cpu_close = t.find(']', cpu_open);
    uint64_t cpu = 0;
    parse_uint(t.substr(cpu_open + 1, cpu_close - cpu_open - 1), &cpu);
    e.cpu = static_cast<int>(cpu % 100000);
    std::string_view rest = trim(t.substr(cpu_close + 1));
    // Optional flags column, then the timestamp with its colon.
    auto take = [&rest]() {
      const size_t sp = rest.find_first_of(" \t");
      std::string_view tok = rest.substr(0, sp);
      rest = sp == std::string_view::npos ? std::string_view() : trim(rest.substr(sp));
      return tok;
    };
    std::string_view tok = take();
    if (tok.empty() || tok.back() != ':') tok = take();
    bool counter = false;
    if (tok.size() < 2 || tok.back() != ':' || !parse_timestamp(tok.substr(0, tok.size() - 1), &e.ts, &counter)) {
      warn(line_no, last_line && rest.empty() ? "truncated line (no timestamp)" : "expected a timestamp 'SECONDS.FRACTION:' or 'COUNTER:', found '" + std::string(tok) + "'");
      continue;
    }
    (counter ? seen_counter : seen_global) = true;
    std::string_view ev = take();
    if (ev.empty()) {
      warn(line_no, "truncated line (no event)");
      continue;
    }
    if (ev.back() != ':') {
      if (rest.starts_with("<-")) {
        ++c.function_lines;  // function tracer: "func <-caller"
      } else {
        warn(line_no, last_line ? "truncated line (event name cut off)"
                                : "expected 'EVENT:' or a function-tracer 'FUNC <-CALLER', found '" + std::string(ev) + "'");
      }
      continue;
    }
    ev.remove_suffix(1);
    const auto fields = parse_fields(rest);
    auto field = [&](std::string_view k) -> const std::string* {
      const auto it = fields.find(k);
      return it == fields.end() ? nullptr : &it->second;
    };
    if (ev == "mmap_lock_start_locking" || ev == "mmap_lock_acquire_returned" || ev == "mmap_lock_released") {
      e.type = ev == "mmap_lock_start_locking"      ? FtraceEvent::Type::kStartLocking
               : ev == "mmap_lock_acquire_returned" ? FtraceEvent::Type::kAcquireReturned
                                                    : FtraceEvent::Type::kReleased;
      const std::string* mm = field("mm");
      const std::string* w = field("write");
      std::optional<bool> wb = w ? parse_bool(*w) : std::nullopt;
      if (!mm || mm->empty() || !wb) {
        warn(line_no, last_line ? "truncated " + std::string(ev) + " line (no mm= or write=)"
                                : std::string(ev) + ": expected mm=<pointer> and write=true|false");
        continue;
      }
      e.mm = *mm;
      e.write = *wb;
      if (e.type == FtraceEvent::Type::kAcquireReturned) {
        const std::string* s = field("success");
        std::optional<bool> sb = s ? parse_bool(*s) : std::nullopt;
        if (!sb) {
          warn(line_no, last_line ? "truncated mmap_lock_acquire_returned line (no success=)"
                                  : "mmap_lock_acquire_returned: expected success=true|false");
          continue;
        }
        e.success = *sb;
      }
    } else if (ev == "page_fault_user") {
      e.type = FtraceEvent::Type::kPageFault;
      const std::string* a = field("address");
      std::string_view av = a ? std::string_view(*a) : std::string_view();
      if (av.starts_with("0x")) av.remove_prefix(2);
      if (!parse_uint(av, &e.address, 16)) {
        warn(line_no, "page_fault_user: expected address=0x<hex>");
        continue;
      }
    } else {
      ++c.other_events;
      if (c.skipped_by_event.size() < 64 || c.skipped_by_event.count(std::string(ev))) ++c.skipped_by_event[std::string(ev)];
      continue;
    }
    if (have_last && e.ts < last_ts) ++c.out_of_order;
    last_ts = e.ts;
    have_last = true;
    ++c.events;
    out.events.push_back(std::move(e));
  }
  if (seen_counter && seen_global) {
    out.warnings.push_back(std::string(file_name) + ": both counter and seconds timestamps: ordered by value as printed");
  }
  out.counter_clock = seen_counter && !seen_global;
  // Per-CPU buffers are merged by timestamp; equal timestamps keep file order.
  std::stable_sort(out.events.begin(), out.events.end(),
                   [](const FtraceEvent& a, const FtraceEvent& b) { return a.ts < b.ts; });
  return out;
}

// ---- mapping and reconciliation ---------------------------------------------

namespace {

struct OpRec {
  int task;  // index into tasks
  OpKind kind;
  uint8_t slot = 0;
  uint64_t begin = 0;
  std::optional<uint64_t> end;
  int line = 0;
  bool dropped = false;
};

struct TaskRec {
  std::string name;
  std::string mm;
  int holds = 0;  // 0 none, 1 read, 2 write (as printed)
  int pending = -1;  // op awaiting its acquire_returned
  bool after_fault = false;
  bool absorbing = false;
};

constexpr int kRead = 1, kWrite = 2;

OpKind lock_op(int kind) { return kind == kWrite ? OpKind::kMmapWriteLock : OpKind::kMmapReadLock; }
OpKind unlock_op(int kind) { return kind == kWrite ? OpKind::kMmapWriteUnlock : OpKind::kMmapReadUnlock; }

}  // namespace

FtraceImport build_ftrace_windows(const FtraceParse& parse) {
  FtraceImport out;
  std::vector<TaskRec> tasks;
  std::map<std::pair<int, std::string>, int> task_of;
  std::map<int, std::string> mm_of_pid;  // the pid's last mm (for page faults)
  for (const FtraceEvent& e : parse.events) {
    if (e.type != FtraceEvent::Type::kPageFault && !mm_of_pid.count(e.pid)) mm_of_pid[e.pid] = e.mm;
  }
  std::vector<OpRec> ops;
  // Per mm, who holds the lock as printed: writer task, reader tasks.
  struct MmHold {
    int writer = -1;
    std::set<int> readers;
    std::vector<int> deferred;  // ops whose acquisition waits for a release
  };
  std::map<std::string, MmHold> holds;
  auto adjust = [&](const std::string& rule) { ++out.adjusted[rule]; };

  auto take = [&](int t, int kind) {
    MmHold& h = holds[tasks[t].mm];
    if (kind == kWrite) h.writer = t;
    else h.readers.insert(t);
    tasks[t].holds = kind;
  };
  auto give = [&](int t, uint64_t order) {
    MmHold& h = holds[tasks[t].mm];
    if (h.writer == t) h.writer = -1;
    h.readers.erase(t);
    tasks[t].holds = 0;
    // Acquisitions printed while this task held the lock complete after its release.
    for (int o : h.deferred) {
      if (!ops[o].dropped) ops[o].end = order + 1;
    }
    h.deferred.clear();
  };
  auto conflicts = [&](int t, int kind) {
    const MmHold& h = holds[tasks[t].mm];
    if (h.writer >= 0 && h.writer != t) return true;
    if (kind == kWrite) {
      for (int r : h.readers) {
        if (r != t) return true;
      }
    }
    return false;
  };
  auto acquired = [&](int t, int op, int kind) {
    if (conflicts(t, kind)) {
      adjust("acquired while another task held the lock as printed (tracepoints fire outside the lock): "
             "acquisition placed after that task's release");
      holds[tasks[t].mm].deferred.push_back(op);
    }
    take(t, kind);
  };

  for (size_t i = 0; i < parse.events.size(); ++i) {
    const FtraceEvent& e = parse.events[i];
    const uint64_t order = i * 4;
    const std::string mm = e.type == FtraceEvent::Type::kPageFault
                               ? (mm_of_pid.count(e.pid) ? mm_of_pid[e.pid] : std::string("(no mm traced)"))
                               : e.mm;
    if (e.type != FtraceEvent::Type::kPageFault) mm_of_pid[e.pid] = e.mm;
    auto [it, fresh] = task_of.emplace(std::make_pair(e.pid, mm), static_cast<int>(tasks.size()));
    if (fresh) tasks.push_back(TaskRec{e.comm + "-" + std::to_string(e.pid) + " mm=" + mm, mm});
    const int t = it->second;
    TaskRec& tr = tasks[t];
    const bool after_fault = tr.after_fault;
    tr.after_fault = false;
    auto push = [&](OpKind k, uint64_t b, std::optional<uint64_t> en) {
      ops.push_back(OpRec{t, k, 0, b, en, e.line});
      return static_cast<int>(ops.size()) - 1;
    };
    // A lock taken while the task holds one as printed: its release was not traced.
    auto release_untraced = [&] {
      if (!tr.holds) return;
      push(unlock_op(tr.holds), order, order);
      give(t, order);
      adjust("lock taken while already holding it as printed (release not traced): release inserted");
    };
    auto drop_event = [&](const std::string& rule) {
      adjust(rule);
      ++out.events_dropped;
    };
    switch (e.type) {
      case FtraceEvent::Type::kPageFault: {
        if (tr.holds || tr.pending >= 0) {
          drop_event("page fault while the task holds or takes mmap_lock: dropped (a scenario fault starts holding nothing)");
          break;
        }
        const int o = push(OpKind::kFault, order, order + 2);
        ops[o].slot = static_cast<uint8_t>((e.address >> 12) % kSlots);
        tr.after_fault = true;
        ++out.events_used;
        break;
      }
      case FtraceEvent::Type::kStartLocking:
        if (after_fault && !e.write && !tr.holds && tr.pending < 0) {
          tr.absorbing = true;  // the fault's mmap_read_lock fallback: part of the fault operation
          tr.after_fault = true;
          ++out.events_used;
          break;
        }
        if (tr.pending >= 0) {
          ops[tr.pending].dropped = true;
          tr.pending = -1;
          drop_event("start_locking without acquire_returned before the next start_locking: the first dropped");
        }
        release_untraced();
        tr.pending = push(lock_op(e.write ? kWrite : kRead), order, std::nullopt);
        ++out.events_used;
        break;
      case FtraceEvent::Type::kAcquireReturned: {
        if (tr.absorbing) {
          tr.after_fault = true;
          ++out.events_used;
          break;
        }
        const int kind = e.write ? kWrite : kRead;
        if (tr.pending < 0 && tr.holds == kWrite && !e.write && e.success) {
          push(OpKind::kMmapWriteDowngrade, order, order + 2);  // mmap_write_downgrade() traces this
          give(t, order);
          take(t, kRead);
          ++out.events_used;
          break;
        }
        if (!e.success) {
          if (tr.pending >= 0) {
            ops[tr.pending].dropped = true;
            tr.pending = -1;
          }
          drop_event("failed acquisition (trylock, or killable lock interrupted): dropped");
          break;
        }
        int o = tr.pending;
        if (o >= 0) {
          if (ops[o].kind != lock_op(kind)) {
            ops[o].kind = lock_op(kind);
            adjust("acquire_returned write= differs from its start_locking: acquire_returned's kept");
          }
          ops[o].end = order;
          tr.pending = -1;
        } else {
          release_untraced();
          o = push(lock_op(kind), order, order + 2);  // a trylock: no start_locking
        }
        acquired(t, o, kind);
        ++out.events_used;
        break;
      }
      case FtraceEvent::Type::kReleased: {
        if (tr.absorbing) {
          tr.absorbing = false;
          ++out.events_used;
          break;
        }
        if (tr.pending >= 0 && !tr.holds) {
          // Printed before its acquire_returned (equal timestamps, merged CPUs).
          ops[tr.pending].end = order;
          acquired(t, tr.pending, ops[tr.pending].kind == OpKind::kMmapWriteLock ? kWrite : kRead);
          tr.pending = -1;
          adjust("release printed before its acquire_returned: acquisition completed first");
        }
        if (!tr.holds) {
          drop_event("release without a held lock (taken before the trace started): dropped");
          break;
        }
        if (tr.holds != (e.write ? kWrite : kRead)) {
          adjust("release write= differs from the held lock: the held lock released");
        }
        push(unlock_op(tr.holds), order + 2, order + 2);
        give(t, order + 2);
        ++out.events_used;
        break;
      }
    }
  }
  out.tasks = static_cast<int>(tasks.size());

  // ---- windows: consecutive operations, at most kMaxTasks tasks, kMaxMms
  // mms and kMaxOpsPerTask operations per task each.
  std::vector<std::vector<int>> windows;
  {
    std::vector<int> cur;
    std::map<int, int> per_task;
    std::set<std::string> mms;
    for (int o = 0; o < static_cast<int>(ops.size()); ++o) {
      if (ops[o].dropped) continue;
      const int t = ops[o].task;
      const bool new_task = !per_task.count(t);
      const bool new_mm = !mms.count(tasks[t].mm);
      if ((new_task && per_task.size() >= kMaxTasks) || (new_mm && mms.size() >= kMaxMms) ||
          per_task[t] >= kMaxOpsPerTask) {
        windows.push_back(cur);
        cur.clear();
        per_task.clear();
        mms.clear();
      }
      cur.push_back(o);
      ++per_task[t];
      mms.insert(tasks[t].mm);
    }
    if (!cur.empty()) windows.push_back(cur);
  }
  if (windows.size() > 1) {
    out.notes.push_back(std::to_string(windows.size()) +
                        " windows: each holds consecutive operations of at most 4 tasks, 2 mms and 8 operations "
                        "per task; a window closes before the operation that would exceed one of these");
  }

  for (const std::vector<int>& w : windows) {
    FtraceWindow win;
    std::map<int, int> idx;  // trace task -> scenario task
    std::map<std::string, int> mm_idx;
    std::vector<DecodeLockState> state;
    std::vector<std::vector<int>> kept;  // per scenario task: op indices
    for (int o : w) {
      const int t = ops[o].task;
      auto [ti, fresh] = idx.emplace(t, static_cast<int>(idx.size()));
      if (fresh) {
        auto [mi, mfresh] = mm_idx.emplace(tasks[t].mm, static_cast<int>(mm_idx.size()));
        if (mfresh) win.setup.mms.push_back(MmSetup{1});
        win.setup.tasks.push_back(TaskProgram{static_cast<uint8_t>(mi->second), {}});
        win.tasks.push_back(tasks[t].name);
        state.emplace_back();
        kept.emplace_back();
      }
      const int st = ti->second;
      // Legality in the window (each task starts holding nothing).
      const std::vector<OpKind> legal = legal_ops(state[static_cast<size_t>(st)]);
      if (std::find(legal.begin(), legal.end(), ops[o].kind) == legal.end()) {
        adjust("window starts after the lock was taken (or the operation is not legal in the task's lock state): "
               "operation dropped");
        continue;
      }
      state[static_cast<size_t>(st)] = next_lock_state(state[static_cast<size_t>(st)], ops[o].kind);
      TaskProgram& p = win.setup.tasks[static_cast<size_t>(st)];
      if (ops[o].kind == OpKind::kFault) {
        win.setup.mms[p.mm].initial_vmas |= static_cast<uint8_t>(1u << ops[o].slot);
      }
      const int op_index = static_cast<int>(p.ops.size());
      p.ops.push_back(Op{ops[o].kind, ops[o].slot});
      kept[static_cast<size_t>(st)].push_back(o);
      win.marks.push_back(GuideMark{GuideMark::Kind::kBegin, st, op_index, {}, {}, ops[o].begin});
      if (ops[o].end) win.marks.push_back(GuideMark{GuideMark::Kind::kEnd, st, op_index, {}, {}, *ops[o].end});
      if (win.first_line == 0 || ops[o].line < win.first_line) win.first_line = ops[o].line;
      win.last_line = std::max(win.last_line, ops[o].line);
      ++win.events_used;
    }
    // Drop tasks left without operations (renumbering marks).
    std::vector<int> renum(win.setup.tasks.size(), -1);
    Scenario sc;
    sc.mms = win.setup.mms;
    std::vector<std::string> names;
    for (size_t t = 0; t < win.setup.tasks.size(); ++t) {
      if (win.setup.tasks[t].ops.empty()) continue;
      renum[t] = static_cast<int>(sc.tasks.size());
      sc.tasks.push_back(win.setup.tasks[t]);
      names.push_back(win.tasks[t]);
    }
    if (sc.tasks.size() < static_cast<size_t>(kMinTasks)) {
      ++out.single_task_windows;
      continue;
    }
    // An mm no task uses any more: keep the numbering simple by keeping it.
    std::vector<GuideMark> marks;
    for (GuideMark m : win.marks) {
      if (renum[static_cast<size_t>(m.task)] < 0) continue;
      m.task = renum[static_cast<size_t>(m.task)];
      marks.push_back(m);
    }
    std::stable_sort(marks.begin(), marks.end(), [](const GuideMark& a, const GuideMark& b) { return a.order < b.order; });
    win.setup = sc;
    win.marks = std::move(marks);
    win.tasks = std::move(names);
    out.windows.push_back(std::move(win));
  }
  return out;
}

}  // namespace vmafuzz::fuzz
