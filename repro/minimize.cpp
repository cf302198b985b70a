// minimize.cpp - schedule-aware delta debugging of a finding (minimize.h).
#include "repro/minimize.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "core/sanitizer_hooks.h"
#include "fuzz/nfc.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/sched_text.h"
#include "fuzz/store_history.h"
#include "fuzz/strategy.h"
#include "fuzz/trace.h"

#if defined(VMAFUZZ_TSAN)
#include <sanitizer/common_interface_defs.h>
#endif

namespace vmafuzz::repro {

using fuzz::Scenario;

bool minimize_forks_by_default() {
#if defined(VMAFUZZ_TSAN)
  return true;
#else
  return false;
#endif
}

namespace {

constexpr int kMaxRun = fuzz::kSwitchListMaxRun;
constexpr std::string_view kProbeTag = "==vmafuzz-minimize== PROBE ";

std::string key_of(const fuzz::Finding& f, MinimizeKey key) {
  if (key == MinimizeKey::kSignature) return f.signature();
  return std::string(fuzz::oracle_info(f.oracle).name) + "|" + f.detail;
}

// ---- switch-list pairs (the canonical reading: [run - 1][group * n + k]) ----

struct Pair {
  int run;    // 1..kMaxRun
  int group;  // 0 switch, 6 wake, 7 kill
  int task;
};

std::vector<Pair> pairs_of(const Scenario& sc) {
  const int n = static_cast<int>(sc.tasks.size());
  std::vector<Pair> out;
  for (size_t i = 0; i + 1 < sc.choices.size(); i += 2) {
    const int a = sc.choices[i + 1];
    out.push_back(Pair{1 + sc.choices[i] % kMaxRun, (a / n) % 8, a % n});
  }
  return out;
}

std::vector<uint8_t> bytes_of(const std::vector<Pair>& pairs, int n) {
  std::vector<uint8_t> out;
  for (const Pair& p : pairs) {
    out.push_back(static_cast<uint8_t>(p.run - 1));
    out.push_back(static_cast<uint8_t>(p.group * n + p.task));
  }
  return out;
}

// ---- decisions and anchors ------------------------------------------------------
//
// A decision (a voluntary switch, a spurious wake-up or a kill) is anchored to
// where the running task is: its segment (2i: before operation i, at its
// fatal-signal check; 2i + 1: inside operation i; 2n: exiting) and its k-th
// scheduling point in that segment. Anchors survive edits of the programs
// (an operation dropped before the anchor renumbers it; one the decision was
// inside drops it), so a candidate keeps "the same schedule" where run
// lengths, which count global scheduling points, would not.

struct Anchor {
  int task;
  int seg;
  int k;
  int group;  // 0 switch, 6 wake, 7 kill
  int target;
};

struct Point {
  int task = -1;
  int seg = 0;
  int k = 0;
};

// Every scheduling point of a run (by step), from its trace.
std::vector<Point> points_of(const fuzz::Trace& trace) {
  using K = fuzz::TraceEventKind;
  std::vector<Point> at(1);
  int seg[fuzz::kMaxTasks] = {0, 0, 0, 0};
  int cnt[fuzz::kMaxTasks] = {0, 0, 0, 0};
  for (const fuzz::TraceEvent& e : trace.events()) {
    if (e.task < 0 || e.task >= fuzz::kMaxTasks) continue;
    if (e.kind == K::kOpBegin) {
      seg[e.task] = 2 * static_cast<int>(e.arg) + 1;
      cnt[e.task] = 0;
    } else if (e.kind == K::kOpEnd) {
      seg[e.task] = 2 * static_cast<int>(e.arg) + 2;
      cnt[e.task] = 0;
    } else if (e.kind == K::kAccess && e.arg == 0) {
      if (at.size() <= e.step) at.resize(e.step + 1);
      at[e.step] = Point{e.task, seg[e.task], ++cnt[e.task]};
    }
  }
  return at;
}

// The decisions a run took: every switch made at a scheduling point (a
// kSwitch right after that point's kAccess event; the others are forced
// picks, and so are the unwinding switches after a finding), every spurious
// wake-up and kill, with their steps.
struct Taken {
  uint64_t step;
  int group;
  int target;
};
std::vector<Taken> decisions_of(const fuzz::Trace& trace) {
  using K = fuzz::TraceEventKind;
  const std::vector<fuzz::TraceEvent>& ev = trace.events();
  // After a finding the run unwinds every unfinished task (a kSwitch each,
  // maybe right after the point where it stopped): no access follows those.
  size_t last_access = 0;
  for (size_t i = 0; i < ev.size(); ++i) {
    if (ev[i].kind == K::kAccess) last_access = i;
  }
  std::vector<Taken> out;
  for (size_t i = 0; i < ev.size(); ++i) {
    const fuzz::TraceEvent& e = ev[i];
    int group;
    if (e.kind == K::kSwitch && i > 0 && i < last_access && ev[i - 1].kind == K::kAccess && ev[i - 1].arg == 0 &&
        ev[i - 1].step == e.step) {
      group = 0;
    } else if (e.kind == K::kSpuriousWake) {
      group = 6;
    } else if (e.kind == K::kKill) {
      group = 7;
    } else {
      continue;
    }
    if (!out.empty() && out.back().step >= e.step) continue;  // one decision per point
    out.push_back(Taken{e.step, group, e.task});
  }
  return out;
}

// The forced picks of a run (a task parked or finished and the strategy
// picked the next one), as switches at the step of that task's last
// scheduling point; `all` false: only those where switch-list's rule (the
// next runnable task after the one that stopped) would pick another task.
// Unwinding after a finding and the first pick are left out.
std::vector<Taken> forced_picks_of(const fuzz::Trace& trace, int n, bool all) {
  using K = fuzz::TraceEventKind;
  const std::vector<fuzz::TraceEvent>& ev = trace.events();
  size_t first_access = ev.size(), last_access = 0;
  for (size_t i = 0; i < ev.size(); ++i) {
    if (ev[i].kind != K::kAccess) continue;
    first_access = std::min(first_access, i);
    last_access = i;
  }
  std::vector<Taken> out;
  bool parked[fuzz::kMaxTasks] = {false, false, false, false};
  bool finished[fuzz::kMaxTasks] = {false, false, false, false};
  int cur = -1;
  for (size_t i = 0; i < ev.size(); ++i) {
    const fuzz::TraceEvent& e = ev[i];
    if (e.task < 0 || e.task >= fuzz::kMaxTasks) continue;
    if (e.kind == K::kPark) parked[e.task] = true;
    if (e.kind == K::kWake) parked[e.task] = false;
    if (e.kind != K::kSwitch) continue;
    const bool voluntary = i > 0 && ev[i - 1].kind == K::kAccess && ev[i - 1].arg == 0 && ev[i - 1].step == e.step;
    if (!voluntary && cur >= 0 && i > first_access && i < last_access) {
      if (!parked[cur]) finished[cur] = true;
      fuzz::TaskSet runnable = 0;
      for (int t = 0; t < n && t < fuzz::kMaxTasks; ++t) {
        if (!parked[t] && !finished[t]) runnable |= static_cast<fuzz::TaskSet>(1) << t;
      }
      const int expected = runnable ? fuzz::next_in_set(runnable, cur + 1, n) : -1;
      if (all || expected != e.task) out.push_back(Taken{e.step, 0, e.task});
    }
    cur = e.task;
  }
  return out;
}

// Append the pairs that take decision `d` at step `to`, `last` being the
// step of the previous one; runs over kMaxRun are chained through pairs that
// "switch" to the running task (a continue).
void append_pairs(std::vector<Pair>& pairs, uint64_t& last, uint64_t to, int group, int target,
                  const std::vector<Point>& pts) {
  while (to - last > static_cast<uint64_t>(kMaxRun)) {
    last += kMaxRun;
    pairs.push_back(Pair{kMaxRun, 0, last < pts.size() && pts[last].task >= 0 ? pts[last].task : 0});
  }
  pairs.push_back(Pair{static_cast<int>(to - last), group, target});
  last = to;
}

// ---- one evaluation: in process, or in a forked child ---------------------------

struct Outcome {
  std::string key;  // empty: pass
  std::optional<fuzz::Finding> finding;
  uint64_t hash = 0;
  std::vector<uint8_t> choices;  // as switch-list pairs: the decisions the final run took
  std::vector<uint8_t> ran;      // the choice stream the final run ran with
  std::vector<Anchor> anchors;   // of the final run
  // The same with the forced picks as switches at the last point before
  // them: those switch-list would make otherwise, and all (in process only).
  std::vector<Anchor> forced_other, forced_all;
  int decisions = 0;
  int stale = 0;  // loads of the final run that read an older store (C11)
  uint64_t runs = 0;
  std::string tsan;  // the ThreadSanitizer report's WARNING line, if any
};

using TryHook = std::function<void(const std::vector<uint8_t>&)>;

// One run of `sc`; with o.versions, both versions under the same schedule,
// the result version B's with their divergence as its finding (and B's
// trace left in `exec`).
fuzz::ExecutionResult run_one(fuzz::Execution& exec, const Scenario& sc, const fuzz::RunOptions& run,
                              const MinimizeOptions& o) {
  if (!o.versions) return exec.run(sc, run);
  fuzz::NfcComparison c = fuzz::compare_versions(exec, sc, o.versions->first, o.versions->second, run);
  fuzz::ExecutionResult r = std::move(c.b.result);
  r.finding = std::move(c.divergence);
  return r;
}

int stale_reads_of(const fuzz::Trace& trace) {
  int n = 0;
  for (const fuzz::TraceEvent& e : trace.events()) n += fuzz::stale_back(e) > 0;
  return n;
}

// Run `sc` once (anchors == nullptr) or place `anchors` on sc's programs
// under switch-list: run with the decisions placed so far, find where the next
// anchor is reached in that run, add its pair, run again; an anchor the run
// never reaches is left out. `on_try` sees every choice stream before it runs.
Outcome evaluate_here(fuzz::Execution& exec, Scenario sc, const std::vector<Anchor>* anchors,
                      const MinimizeOptions& o, const TryHook& on_try) {
  fuzz::RunOptions run = o.run;
  run.keep_trace = true;
  run.features = nullptr;
  const int n = static_cast<int>(sc.tasks.size());
  Outcome out;
  std::vector<Pair> pairs;
  uint64_t last = 0;
  size_t next = 0;
  if (anchors) {
    sc.strategy = fuzz::StrategyKind::kSwitchList;
    sc.pct_depth = Scenario{}.pct_depth;
  }
  for (;;) {
    if (anchors) sc.choices = bytes_of(pairs, n);
    if (on_try) on_try(sc.choices);
    const fuzz::ExecutionResult r = run_one(exec, sc, run, o);
    ++out.runs;
    const std::vector<Point> pts = points_of(exec.trace());
    bool placed = false;
    while (anchors && next < anchors->size() && !placed) {
      const Anchor& a = (*anchors)[next++];
      if (a.target >= n || a.task >= n) continue;
      for (uint64_t s = last + 1; s < pts.size(); ++s) {
        const Point& p = pts[s];
        if (p.task == a.task && p.seg == a.seg && p.k == a.k) {
          append_pairs(pairs, last, s, a.group, a.target, pts);
          placed = true;
          break;
        }
      }
    }
    if (placed) continue;
    out.hash = r.trace_hash;
    out.stale = stale_reads_of(exec.trace());
    if (r.finding) {
      out.finding = r.finding;
      out.key = key_of(*r.finding, o.key);
    }
    std::vector<Pair> taken;
    uint64_t at = 0;
    bool handover = false;
    // Under pct or random the first task may be another than T0; switch-list
    // starts T0, whose first scheduling point (its fatal-signal check, before
    // any access) is then where it hands over: the same interleaving. (The
    // plain pairs below keep the original steps and start in T0.)
    for (const fuzz::TraceEvent& e : exec.trace().events()) {
      if (e.kind != fuzz::TraceEventKind::kSwitch) continue;
      if (e.task > 0 && pts.size() > 1) {
        out.anchors.push_back(Anchor{0, 0, 1, 0, e.task});
        handover = true;
      }
      break;
    }
    for (const Taken& d : decisions_of(exec.trace())) {
      if (d.step < pts.size() && pts[d.step].task >= 0) {
        const Point& p = pts[d.step];
        out.anchors.push_back(Anchor{p.task, p.seg, p.k, d.group, d.target});
      }
      append_pairs(taken, at, d.step, d.group, d.target, pts);
      ++out.decisions;
    }
    out.choices = bytes_of(taken, n);
    out.ran = sc.choices;
    if (!anchors) {
      for (const bool all : {false, true}) {
        std::vector<Taken> merged = decisions_of(exec.trace());
        const size_t plain = merged.size();
        for (const Taken& f : forced_picks_of(exec.trace(), n, all)) {
          bool clash = false;
          for (size_t i = 0; i < plain; ++i) clash |= merged[i].step == f.step;
          if (!clash) merged.push_back(f);
        }
        if (merged.size() == plain) continue;
        std::stable_sort(merged.begin(), merged.end(), [](const Taken& a, const Taken& b) { return a.step < b.step; });
        std::vector<Anchor>& dst = all ? out.forced_all : out.forced_other;
        // The start (a hand-over from T0's first point), as in out.anchors.
        if (handover) dst.push_back(out.anchors[0]);
        for (const Taken& d : merged) {
          if (d.step < pts.size() && pts[d.step].task >= 0) {
            const Point& p = pts[d.step];
            dst.push_back(Anchor{p.task, p.seg, p.k, d.group, d.target});
          }
        }
      }
    }
    return out;
  }
}

std::string hex(const std::vector<uint8_t>& b) {
  std::string s;
  for (const uint8_t c : b) s += fmt::format("{:02x}", c);
  return s.empty() ? "-" : s;
}

std::vector<uint8_t> unhex(std::string_view s) {
  std::vector<uint8_t> out;
  if (s == "-") return out;
  for (size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t from = 0;
  for (;;) {
    const size_t at = s.find(sep, from);
    out.push_back(s.substr(from, at == std::string::npos ? std::string::npos : at - from));
    if (at == std::string::npos) return out;
    from = at + 1;
  }
}

// The key of a ThreadSanitizer report: for a data race the two racing
// functions (the #0 frame of each access), sorted, as scripts/fuzz's
// signature_of() writes it; otherwise the WARNING line's kind.
std::string tsan_key(const std::string& out, std::string* warning) {
  std::istringstream in(out);
  std::string line;
  bool on = false, want = false;
  std::set<std::string> fns;
  while (std::getline(in, line)) {
    if (!on) {
      const size_t at = line.find("WARNING: ThreadSanitizer: ");
      if (at == std::string::npos) continue;
      on = true;
      *warning = line.substr(at);
      if (line.find("data race") == std::string::npos) {
        std::string kind = line.substr(at + 9);
        if (const size_t p = kind.find(" (pid="); p != std::string::npos) kind.resize(p);
        return kind;
      }
      continue;
    }
    const std::string_view l = line;
    if (l.find_first_not_of(' ') == 2 && l.find(" of size ") != std::string_view::npos) {
      want = true;
      continue;
    }
    if (want && l.starts_with("    #0 ")) {
      std::string fn(l.substr(7));
      if (const size_t p = fn.find(" /"); p != std::string::npos) fn.resize(p);
      if (fn.ends_with(" const")) fn.resize(fn.size() - 6);
      if (!fn.empty() && fn.back() == ')') {  // drop the parameter list
        int depth = 0;
        for (size_t i = fn.size(); i-- > 0;) {
          if (fn[i] == ')') ++depth;
          if (fn[i] == '(' && --depth == 0) {
            fn.resize(i);
            break;
          }
        }
      }
      fns.insert(fn);
      want = false;
      if (fns.size() == 2) break;
    }
  }
  if (!on) return "";
  std::string key = "ThreadSanitizer: data race:";
  bool first = true;
  for (const std::string& f : fns) {
    key += (first ? " " : " / ") + f;
    first = false;
  }
  return key;
}

void write_all(int fd, const std::string& s) {
  for (size_t done = 0; done < s.size();) {
    const ssize_t w = write(fd, s.data() + done, s.size() - done);
    if (w <= 0) return;
    done += static_cast<size_t>(w);
  }
}

// The same in a forked child, whose stderr the parent reads: the child
// writes "TRY <choices>" before each run and a RESULT line at the end; a
// ThreadSanitizer report ends it (a TSan build) and is the key, and the
// choices of the run it ended are the last TRY's.
Outcome evaluate_forked(const Scenario& sc, const std::vector<Anchor>* anchors, const MinimizeOptions& o) {
#if defined(VMAFUZZ_TSAN)
  // Start the runtime's symbolizer (llvm-symbolizer) here, once: the children
  // inherit it instead of each starting its own for its report.
  static const bool symbolizer_started = [] {
    char buf[256];
    __sanitizer_symbolize_pc(__builtin_return_address(0), "%f", buf, sizeof buf);
    return true;
  }();
  (void)symbolizer_started;
#endif
  Outcome res;
  int fds[2];
  if (pipe(fds) != 0) {
    res.key = "error: pipe failed";
    return res;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    res.key = "error: fork failed";
    return res;
  }
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 2);
    close(fds[1]);
    fuzz::Execution exec;
    const TryHook hook = [](const std::vector<uint8_t>& c) {
      write_all(2, std::string("\n") + std::string(kProbeTag) + "TRY " + hex(c) + "\n");
    };
    const Outcome here = evaluate_here(exec, sc, anchors, o, hook);
    std::string line = std::string("\n") + std::string(kProbeTag) +
                       fmt::format("RESULT {:x} {} {} {} {} {} ", here.hash, here.decisions, here.stale, here.runs,
                                   hex(here.choices), hex(here.ran));
    std::string anchors_text;
    for (const Anchor& a : here.anchors) {
      anchors_text += fmt::format("{}{},{},{},{},{}", anchors_text.empty() ? "" : ";", a.task, a.seg, a.k, a.group,
                                  a.target);
    }
    line += (anchors_text.empty() ? "-" : anchors_text) + " ";
    if (here.finding) {
      const fuzz::Finding& f = *here.finding;
      line += fmt::format("{}\t{}\t{}\t{}\t{}", static_cast<int>(f.oracle), f.detail, f.operation, f.others, f.task);
    } else {
      line += "-";
    }
    write_all(2, line + "\n");
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t r = read(fds[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // Walk the tagged lines: TRYs, then RESULT (unless the child died first).
  std::istringstream in(out);
  std::string line, last_try;
  std::string result;
  for (std::string l; std::getline(in, l);) {
    if (!l.starts_with(kProbeTag)) continue;
    const std::string rest = l.substr(kProbeTag.size());
    if (rest.starts_with("TRY ")) {
      last_try = rest.substr(4);
      ++res.runs;
    } else if (rest.starts_with("RESULT ")) {
      result = rest.substr(7);
    }
  }
  // A ThreadSanitizer report is the key. With halt_on_error=0 (the default
  // of `vmafuzz`) the run went on to its RESULT, which still gives the
  // decisions; otherwise the choices of the run TSan ended are the last TRY's.
  const std::string race = tsan_key(out, &res.tsan);
  if (!race.empty() && result.empty()) {
    res.key = race;
    res.choices = unhex(last_try);
    res.decisions = static_cast<int>(res.choices.size() / 2);
    return res;
  }
  if (result.empty()) {
    res.key = fmt::format("child died without a result (status {:#x})", status);
    return res;
  }
  std::istringstream rin(result);
  std::string hash, decisions, stale, runs, choices, ran, anchors_text;
  rin >> hash >> decisions >> stale >> runs >> choices >> ran >> anchors_text;
  res.hash = std::stoull(hash, nullptr, 16);
  res.decisions = std::stoi(decisions);
  res.stale = std::stoi(stale);
  res.runs = std::stoull(runs);
  res.choices = unhex(choices);
  res.ran = unhex(ran);
  if (anchors_text != "-") {
    for (const std::string& a : split(anchors_text, ';')) {
      const std::vector<std::string> f = split(a, ',');
      if (f.size() == 5) {
        res.anchors.push_back(
            Anchor{std::stoi(f[0]), std::stoi(f[1]), std::stoi(f[2]), std::stoi(f[3]), std::stoi(f[4])});
      }
    }
  }
  std::string finding;
  rin.get();
  std::getline(rin, finding);
  if (finding != "-") {
    const std::vector<std::string> f = split(finding, '\t');
    if (f.size() == 5) {
      fuzz::Finding fi;
      fi.oracle = static_cast<fuzz::OracleId>(std::stoi(f[0]));
      fi.detail = f[1];
      fi.operation = f[2];
      fi.others = f[3];
      fi.task = std::stoi(f[4]);
      res.key = key_of(fi, o.key);
      res.finding = std::move(fi);
    }
  }
  if (!race.empty()) res.key = race;
  return res;
}

// ---- candidates ----------------------------------------------------------------

// Drop every operation that is no longer legal where it now stands (so
// dropping mmap_write_lock drops its unlock and write-side primitives too).
// Each operation carries its index in the program it came from.
using IndexedOps = std::vector<std::pair<int, fuzz::Op>>;
IndexedOps repair(const IndexedOps& ops) {
  fuzz::DecodeLockState st;
  IndexedOps kept;
  for (const auto& [i, op] : ops) {
    const std::vector<fuzz::OpKind> legal = fuzz::legal_ops(st);
    if (std::find(legal.begin(), legal.end(), op.kind) == legal.end()) continue;
    kept.emplace_back(i, op);
    st = fuzz::next_lock_state(st, op.kind);
  }
  return kept;
}

// For each old operation index (and old_ops, the exit): its index in `kept`,
// or -1 if it was dropped.
std::vector<int> new_op_indices(const IndexedOps& kept, int old_ops) {
  std::vector<int> new_index(static_cast<size_t>(old_ops) + 1, -1);
  for (size_t j = 0; j < kept.size(); ++j) new_index[static_cast<size_t>(kept[j].first)] = static_cast<int>(j);
  new_index[static_cast<size_t>(old_ops)] = static_cast<int>(kept.size());  // exit
  return new_index;
}

// What becomes of an anchor inside an operation that was dropped.
enum class DroppedAnchor { kDrop, kMoveToNext };

// Task `t`'s program is now `kept` (old indices): renumber the anchors in it.
// One before a dropped operation (its fatal-signal check) moves to the next
// kept one's; one inside a dropped operation is dropped (kDrop) or moves to
// the nearest surviving point of its task after it, the fatal-signal check of
// the next kept operation or the exit (kMoveToNext).
std::vector<Anchor> remap_anchors(const std::vector<Anchor>& anchors, int t, const IndexedOps& kept, int old_ops,
                                  DroppedAnchor dropped) {
  const std::vector<int> new_index = new_op_indices(kept, old_ops);
  std::vector<Anchor> out;
  for (Anchor a : anchors) {
    if (a.task == t) {
      const int i = std::min(a.seg / 2, old_ops);
      const bool inside = a.seg % 2;
      if (inside && i < old_ops && new_index[static_cast<size_t>(i)] >= 0) {
        a.seg = 2 * new_index[static_cast<size_t>(i)] + 1;
      } else if (inside && dropped == DroppedAnchor::kDrop) {
        continue;
      } else {
        int j = std::min(inside ? i + 1 : i, old_ops);
        while (new_index[static_cast<size_t>(j)] < 0) ++j;
        if (inside) a.k = 1;
        a.seg = 2 * new_index[static_cast<size_t>(j)];
      }
    }
    out.push_back(a);
  }
  return out;
}

// An mm no task uses is dropped (the other takes index 0).
void compact_mms(Scenario& sc) {
  if (sc.mms.size() < 2) return;
  bool used[2] = {false, false};
  for (const fuzz::TaskProgram& t : sc.tasks) used[t.mm & 1] = true;
  if (used[0] && used[1]) return;
  const int keep = used[1] ? 1 : 0;
  sc.mms = {sc.mms[static_cast<size_t>(keep)]};
  for (fuzz::TaskProgram& t : sc.tasks) t.mm = 0;
}

// Without task `victim`: kills of it and decisions by or about it dropped,
// the later tasks renumbered.
std::optional<std::pair<Scenario, std::vector<Anchor>>> drop_task(const Scenario& sc, const std::vector<Anchor>& anchors,
                                                                  int victim) {
  if (static_cast<int>(sc.tasks.size()) <= fuzz::kMinTasks) return std::nullopt;
  Scenario c = sc;
  c.tasks.erase(c.tasks.begin() + victim);
  for (fuzz::TaskProgram& t : c.tasks) {
    std::vector<fuzz::Op> ops;
    for (fuzz::Op op : t.ops) {
      if (fuzz::op_info(op.kind).arg == fuzz::OpArg::kTask) {
        if (op.arg == victim) continue;
        if (op.arg > victim) --op.arg;
      }
      ops.push_back(op);
    }
    t.ops = std::move(ops);
    if (t.ops.empty()) return std::nullopt;
  }
  compact_mms(c);
  std::vector<Anchor> out;
  for (Anchor a : anchors) {
    if (a.task == victim || a.target == victim) continue;
    if (a.task > victim) --a.task;
    if (a.target > victim) --a.target;
    out.push_back(a);
  }
  return std::make_pair(std::move(c), std::move(out));
}

// What a scenario's size is without running it (for pct and random, the
// preemptions are the run's decisions: the caller's).
ScenarioSize size_without_run(const Scenario& sc) {
  ScenarioSize s;
  s.tasks = static_cast<int>(sc.tasks.size());
  s.ops = fuzz::total_ops(sc);
  s.strategy = sc.strategy;
  s.memory_model = sc.memory_model;
  s.preemptions = sc.strategy == fuzz::StrategyKind::kSwitchList ? static_cast<int>(pairs_of(sc).size()) : 0;
  s.bytes = fuzz::encode_scenario(sc).size();
  for (const uint8_t r : sc.reads) s.read_choices += r != 0;
  return s;
}

std::string anchors_key(const std::vector<Anchor>& anchors) {
  std::string s;
  for (const Anchor& a : anchors) s += fmt::format("{},{},{},{},{};", a.task, a.seg, a.k, a.group, a.target);
  return s;
}

class Minimizer {
 public:
  explicit Minimizer(const MinimizeOptions& o) : o_(o), start_(Clock::now()) {}

  Outcome evaluate(const Scenario& sc, const std::vector<Anchor>* anchors) {
    Outcome r = o_.fork_each ? evaluate_forked(sc, anchors, o_) : evaluate_here(exec_, sc, anchors, o_, nullptr);
    runs_ += std::max<uint64_t>(r.runs, 1);
    if (o_.fork_each && anchors) {
      // The placing runs ran one after another in one child, where TSan's
      // state from the earlier runs can hide a race in the later ones: the
      // verdict is that of the placed schedule in a fresh child.
      Scenario c = sc;
      c.strategy = fuzz::StrategyKind::kSwitchList;
      c.pct_depth = Scenario{}.pct_depth;
      c.choices = r.choices;
      r = evaluate_forked(c, nullptr, o_);
      runs_ += std::max<uint64_t>(r.runs, 1);
    }
    return r;
  }

  bool budget_left() const {
    if (o_.max_runs && runs_ >= o_.max_runs) return false;
    if (o_.time_limit > 0 && seconds() >= o_.time_limit) return false;
    return true;
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  // Keep `cand` if it is legal, new, and its run ends in the key. With
  // `anchors` the schedule is those anchors placed on cand's programs
  // (switch-list); without, cand's own choices.
  static std::array<size_t, 10> measure(const Scenario& sc) {
    size_t vmas = 0, runs = 0, read_choices = 0, read_sum = 0;
    for (const uint8_t r : sc.reads) read_choices += r != 0, read_sum += r;
    for (const fuzz::MmSetup& m : sc.mms) vmas += static_cast<size_t>(__builtin_popcount(m.initial_vmas));
    const bool sl = sc.strategy == fuzz::StrategyKind::kSwitchList;
    if (sl) {
      for (const Pair& p : pairs_of(sc)) runs += static_cast<size_t>(p.run);
    }
    // The reads after the bytes: a stale read set to the latest keeps the
    // size, and a schedule may take longer runs for fewer stale reads.
    return {sc.tasks.size(),
            static_cast<size_t>(fuzz::total_ops(sc)),
            sl ? pairs_of(sc).size() : 0,
            fuzz::encode_scenario(sc).size(),
            static_cast<size_t>(sc.memory_model),
            read_choices,
            read_sum,
            sc.mms.size(),
            vmas,
            runs};
  }

  // The decisions run `r` of switch-list `sc` took, as its choices. With two
  // versions they are version B's, and where A diverged (a switch B did not
  // make) they may not replay A's run: kept only if they still give the key,
  // else the stream that ran.
  std::vector<uint8_t> replayable_choices(Scenario sc, const Outcome& r) {
    if (!o_.versions || r.choices == r.ran) return r.choices;
    sc.choices = r.choices;
    return evaluate(fuzz::canonical_form(sc), nullptr).key == key_ ? r.choices : r.ran;
  }

  bool attempt(Scenario cand, const std::vector<Anchor>* anchors, bool force = false) {
    if (anchors) {
      cand.strategy = fuzz::StrategyKind::kSwitchList;
      cand.pct_depth = Scenario{}.pct_depth;
      cand.choices.clear();
    }
    const char* why = nullptr;
    if (!fuzz::is_canonical_scenario(cand, &why)) return false;
    cand = fuzz::canonical_form(cand);
    std::vector<uint8_t> bytes = fuzz::encode_scenario(cand);
    std::string id(bytes.begin(), bytes.end());
    id += anchors ? "|A" + anchors_key(*anchors) : "|C";
    if (!tried_.insert(id).second) return false;
    if (!budget_left()) {
      stopped_ = true;
      return false;
    }
    Outcome r = evaluate(cand, anchors);
    if (r.key != key_) return false;
    if (cand.strategy == fuzz::StrategyKind::kSwitchList) cand.choices = replayable_choices(cand, r);
    cand = fuzz::canonical_form(cand);
    // Only strictly smaller (tasks, ops, pairs, bytes, mapped VMAs, run
    // lengths): no cycles, and no sideways step into a worse local minimum.
    if (!force && !(measure(cand) < measure(best_))) return false;
    best_ = std::move(cand);
    anchors_ = r.anchors;
    finding_ = std::move(r.finding);
    return true;
  }

  MinimizeResult run(const Scenario& input) {
    MinimizeResult res;
    best_ = fuzz::canonical_form(input);
    Outcome first = evaluate(best_, nullptr);
    res.before = size_of(best_, first);
    res.key = key_ = first.key;
    finding_ = first.finding;
    anchors_ = first.anchors;
    if (key_.empty() || key_.starts_with("error:") || key_.starts_with("child died")) {
      res.scenario = best_;
      res.after = res.before;
      res.runs = runs_;
      res.seconds = seconds();
      return res;
    }
    if (best_.strategy == fuzz::StrategyKind::kSwitchList) {
      // The decisions the run took, without the pairs it never used.
      if (first.tsan.empty()) best_.choices = replayable_choices(best_, first);
    } else if (budget_left()) {
      // 0. a random or PCT schedule as the switch-list of its decisions.
      const uint64_t hash = first.hash;
      Scenario plain = best_;
      plain.strategy = fuzz::StrategyKind::kSwitchList;
      plain.pct_depth = Scenario{}.pct_depth;
      plain.choices = first.choices;  // the same decisions at the same steps
      if (attempt(best_, &anchors_, true) || attempt(plain, nullptr, true) || convert_permuted() ||
          convert_forced(first)) {
        res.converted = true;
        res.same_interleaving = !o_.fork_each ? evaluate(best_, nullptr).hash == hash : false;
      }
    }
    bool changed = true;
    while (changed && !stopped_) {
      changed = false;
      if (!switch_list() && budget_left() &&
          (attempt(best_, &anchors_, true) || convert_permuted() || convert_forced(evaluate(best_, nullptr)))) {
        // The programs reduced under the original schedule convert now.
        res.converted = true;
        changed = true;
      }
      changed |= pass_reads();
      changed |= pass_tasks();
      changed |= pass_vmas();
      changed |= pass_ops();
      if (switch_list()) changed |= pass_pairs();
      if (switch_list()) changed |= pass_swap();
      if (!changed && !stopped_ && pass_shift()) changed = true;
      if (!changed && !stopped_ && pass_search()) {
        res.converted |= switch_list();
        changed = true;
      }
    }
    res.fixpoint = !stopped_;
    res.scenario = best_;
    const Outcome last = evaluate(best_, nullptr);
    res.finding = last.finding;
    res.after = size_of(best_, last);
    res.became_sc = became_sc_;
    res.runs = runs_;
    res.seconds = seconds();
    return res;
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool switch_list() const { return best_.strategy == fuzz::StrategyKind::kSwitchList; }

  ScenarioSize size_of(const Scenario& sc, const Outcome& run) const {
    ScenarioSize s = size_without_run(sc);
    if (sc.strategy != fuzz::StrategyKind::kSwitchList) s.preemptions = run.decisions;
    s.stale_reads = run.stale;
    return s;
  }

  bool attempt_programs(const Scenario& cand, const std::vector<Anchor>& anchors) {
    return switch_list() ? attempt(cand, &anchors) : attempt(cand, nullptr);
  }

  // ---- R. weak memory ---------------------------------------------------------
  //
  // A C11 candidate keeps its schedule: its own choices, else (switch-list)
  // the decisions anchored where they were (a stale read less can change a
  // spin's length and so the scheduling points).
  bool attempt_reads(const Scenario& c, bool force = false) {
    return attempt(c, nullptr, force) || (switch_list() && attempt(c, &anchors_, force));
  }

  bool pass_reads() {
    if (best_.memory_model != fuzz::MemoryModel::kC11 || stopped_) return false;
    {
      Scenario c = best_;
      c.memory_model = fuzz::MemoryModel::kSC;
      c.reads.clear();
      if (attempt_reads(c, true)) {  // forced: SC is the answer even if a run grows
        became_sc_ = true;
        return true;
      }
    }
    bool any = false;
    // Stale reads to the latest: chunks of the nonzero bytes (half of them
    // down to one), from the last back.
    const auto nonzero = [this] {
      std::vector<size_t> at;
      for (size_t i = 0; i < best_.reads.size(); ++i) {
        if (best_.reads[i] != 0) at.push_back(i);
      }
      return at;
    };
    for (size_t chunk = std::max<size_t>(nonzero().size() / 2, 1); chunk >= 1 && !stopped_;) {
      const std::vector<size_t> nz = nonzero();
      bool removed = false;
      for (size_t end = nz.size(); end >= chunk && end > 0 && !stopped_; --end) {
        Scenario c = best_;
        for (size_t j = end - chunk; j < end; ++j) c.reads[nz[j]] = 0;
        if (attempt_reads(c)) {
          removed = any = true;
          break;
        }
      }
      if (removed) {
        chunk = std::min(chunk, std::max<size_t>(nonzero().size(), 1));
        continue;
      }
      chunk = chunk > 2 ? chunk / 2 : chunk - 1;
    }
    // Each remaining one as shallow as it can be (byte % candidates stores
    // back, at most kDepth - 1).
    for (size_t i = 0; i < best_.reads.size() && !stopped_; ++i) {
      for (int v = 1; v < std::min<int>(best_.reads[i], fuzz::StoreHistory::kDepth) && !stopped_; ++v) {
        Scenario c = best_;
        c.reads[i] = static_cast<uint8_t>(v);
        if (attempt_reads(c)) {
          any = true;
          break;
        }
      }
    }
    return any;
  }

  bool pass_tasks() {
    bool any = false;
    if (Scenario c = best_; c.mms.size() > 1) {  // an mm no task uses
      compact_mms(c);
      if (c.mms.size() < best_.mms.size()) any |= attempt_programs(c, anchors_);
    }
    for (int t = static_cast<int>(best_.tasks.size()) - 1; t >= 0 && !stopped_; --t) {
      if (t >= static_cast<int>(best_.tasks.size())) continue;
      if (auto c = drop_task(best_, anchors_, t); c && attempt_programs(c->first, c->second)) any = true;
    }
    return any;
  }

  // Tasks renumbered: new index pos[t] for task t (kill arguments and
  // decisions follow). The run's first task stays first: T0 hands over to it
  // at its first scheduling point if it is not T0.
  static std::pair<Scenario, std::vector<Anchor>> permuted(const Scenario& sc, const std::vector<Anchor>& anchors,
                                                           const std::vector<int>& pos) {
    Scenario c = sc;
    for (size_t t = 0; t < sc.tasks.size(); ++t) c.tasks[static_cast<size_t>(pos[t])] = sc.tasks[t];
    for (fuzz::TaskProgram& prog : c.tasks) {
      for (fuzz::Op& op : prog.ops) {
        if (fuzz::op_info(op.kind).arg == fuzz::OpArg::kTask) op.arg = static_cast<uint8_t>(pos[op.arg]);
      }
    }
    int first = 0;
    size_t from = 0;
    if (!anchors.empty() && anchors[0].task == 0 && anchors[0].seg == 0 && anchors[0].k == 1 && anchors[0].group == 0) {
      first = anchors[0].target;
      from = 1;
    }
    std::vector<Anchor> a;
    if (pos[static_cast<size_t>(first)] != 0) a.push_back(Anchor{0, 0, 1, 0, pos[static_cast<size_t>(first)]});
    for (size_t i = from; i < anchors.size(); ++i) {
      Anchor x = anchors[i];
      x.task = pos[static_cast<size_t>(x.task)];
      x.target = pos[static_cast<size_t>(x.target)];
      a.push_back(x);
    }
    return {std::move(c), std::move(a)};
  }

  // Conversion of a random or PCT schedule whose forced picks (after a park
  // or a finish) chose otherwise than switch-list's "next task in pid order":
  // the same tasks numbered otherwise may agree with them.
  bool convert_permuted() {
    std::vector<int> pos(best_.tasks.size());
    for (size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<int>(i);
    while (std::next_permutation(pos.begin(), pos.end()) && !stopped_) {
      auto [c, a] = permuted(best_, anchors_, pos);
      if (attempt(c, &a, true)) return true;
    }
    return false;
  }

  // Conversion with explicit switches for the forced picks switch-list
  // would make otherwise (then for all of them): each a switch to the task
  // the run picked, at the last scheduling point of the task that parked or
  // finished (which then takes that step later). Not the same interleaving;
  // kept if the key holds.
  bool convert_forced(const Outcome& r) {
    if (o_.fork_each) return false;
    std::vector<int> pos(best_.tasks.size());
    for (size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<int>(i);
    do {
      for (const std::vector<Anchor>* f : {&r.forced_other, &r.forced_all}) {
        if (stopped_) return false;
        if (f->empty() || (f == &r.forced_all && f->size() == r.forced_other.size())) continue;
        auto [c, a] = permuted(best_, *f, pos);
        if (attempt(c, &a, true)) return true;
      }
    } while (std::next_permutation(pos.begin(), pos.end()));
    return false;
  }

  // Task t as T0 (swapped with T0): the run starts in T0, so the task that
  // must run first saves a preemption there.
  bool pass_swap() {
    bool any = false;
    for (int t = 1; t < static_cast<int>(best_.tasks.size()) && !stopped_; ++t) {
      Scenario c = best_;
      std::swap(c.tasks[0], c.tasks[static_cast<size_t>(t)]);
      const auto swapped = [t](int x) { return x == 0 ? t : x == t ? 0 : x; };
      for (fuzz::TaskProgram& prog : c.tasks) {
        for (fuzz::Op& op : prog.ops) {
          if (fuzz::op_info(op.kind).arg == fuzz::OpArg::kTask) op.arg = static_cast<uint8_t>(swapped(op.arg));
        }
      }
      std::vector<Anchor> a = anchors_;
      for (Anchor& x : a) x.task = swapped(x.task), x.target = swapped(x.target);
      // The switch from the old T0's first point to task t is now the start.
      if (!a.empty() && a[0].task == t && a[0].seg == 0 && a[0].k == 1 && a[0].group == 0 && a[0].target == 0) {
        a.erase(a.begin());
      }
      any |= attempt_programs(c, a);
    }
    return any;
  }

  bool pass_vmas() {
    bool any = false;
    for (size_t m = 0; m < best_.mms.size() && !stopped_; ++m) {
      for (int slot = 0; slot < fuzz::kSlots && !stopped_; ++slot) {
        if (!(best_.mms[m].initial_vmas & (1u << slot))) continue;
        Scenario c = best_;
        c.mms[m].initial_vmas = static_cast<uint8_t>(c.mms[m].initial_vmas & ~(1u << slot));
        any |= attempt_programs(c, anchors_);
      }
    }
    return any;
  }

  // Per task, remove chunks of operations: the largest first (the shortest
  // remaining programs are tried first), then smaller ones, from the end.
  bool pass_ops() {
    bool any = false;
    for (size_t t = 0; t < best_.tasks.size() && !stopped_; ++t) {
      size_t chunk = best_.tasks[t].ops.size();
      while (chunk >= 1 && !stopped_) {
        bool removed = false;
        const size_t len = best_.tasks[t].ops.size();
        if (chunk <= len) {
          for (size_t at = len - chunk + 1; at-- > 0 && !stopped_;) {
            IndexedOps ops;
            for (size_t i = 0; i < len; ++i) {
              if (i < at || i >= at + chunk) ops.emplace_back(static_cast<int>(i), best_.tasks[t].ops[i]);
            }
            ops = repair(ops);
            if (ops.empty()) continue;
            Scenario c = best_;
            c.tasks[t].ops.clear();
            for (const auto& [i, op] : ops) c.tasks[t].ops.push_back(op);
            if (attempt_programs(c, remap_anchors(anchors_, static_cast<int>(t), ops, static_cast<int>(len), DroppedAnchor::kDrop))) {
              removed = true;
              break;
            }
          }
        }
        if (removed) {
          any = true;
          chunk = std::min(chunk, best_.tasks[t].ops.size());
          continue;
        }
        --chunk;
      }
    }
    return any;
  }

  // ---- 4a. local re-anchoring ------------------------------------------------
  //
  // Dropping one operation shifts the scheduling points of its task, and a
  // kept decision may then land a few points off the window the bug needs.
  // Here the decisions stay (those inside the dropped operation move to the
  // nearest surviving point of their task) and each is shifted by -3..+3
  // points within its segment: one at a time, then two at once (for at most
  // kShiftPairsMax decisions). Bounded by kSearchPassRuns a pass; not in
  // fork_each.
  // Anchor i and the later ones of its task in the same segment move by d
  // (the window moved); false if one would leave the segment's start.
  static bool shift_anchor(std::vector<Anchor>& b, size_t i, int d) {
    const Anchor a = b[i];
    for (size_t j = i; j < b.size(); ++j) {
      if (b[j].task != a.task || b[j].seg != a.seg) continue;
      b[j].k += d;
      if (b[j].k < 1) return false;
    }
    return true;
  }

  bool try_shifted(const Scenario& c, const std::vector<Anchor>& a, uint64_t until) {
    if (attempt(c, &a)) return true;
    for (int m = 1; m <= kShiftWide; ++m) {
      for (size_t i = 0; i < a.size(); ++i) {
        for (const int d : {-m, m}) {
          if (stopped_ || runs_ >= until) return false;
          std::vector<Anchor> b = a;
          if (shift_anchor(b, i, d) && attempt(c, &b)) return true;
        }
      }
    }
    if (a.size() > kShiftPairsMax) return false;
    static constexpr std::array<int, 6> kDeltas = {-1, 1, -2, 2, -3, 3};
    for (size_t i = 0; i < a.size(); ++i) {
      for (size_t j = i + 1; j < a.size(); ++j) {
        for (const int di : kDeltas) {
          for (const int dj : kDeltas) {
            if (stopped_ || runs_ >= until) return false;
            std::vector<Anchor> b = a;
            if (shift_anchor(b, i, di) && shift_anchor(b, j, dj) && attempt(c, &b)) return true;
          }
        }
      }
    }
    return false;
  }

  // best_ less operation i of task t, repaired: the kept operations with
  // their old indices in `ops`, the scenario in `c`; false if nothing is left.
  bool without_op(size_t t, size_t i, IndexedOps& ops, Scenario& c) const {
    const size_t len = best_.tasks[t].ops.size();
    ops.clear();
    for (size_t j = 0; j < len; ++j) {
      if (j != i) ops.emplace_back(static_cast<int>(j), best_.tasks[t].ops[j]);
    }
    ops = repair(ops);
    if (ops.empty()) return false;
    c = best_;
    c.tasks[t].ops.clear();
    for (const auto& [j, op] : ops) c.tasks[t].ops.push_back(op);
    return true;
  }

  bool pass_shift() {
    if (o_.fork_each || !switch_list() || anchors_.empty()) return false;
    const uint64_t until = runs_ + kSearchPassRuns;
    for (size_t t = 0; t < best_.tasks.size() && !stopped_ && runs_ < until; ++t) {
      const size_t len = best_.tasks[t].ops.size();
      for (size_t i = len; i-- > 0 && !stopped_ && runs_ < until;) {
        IndexedOps ops;
        Scenario c;
        if (!without_op(t, i, ops, c)) continue;
        if (try_shifted(c, remap_anchors(anchors_, static_cast<int>(t), ops, static_cast<int>(len), DroppedAnchor::kMoveToNext), until)) return true;
      }
    }
    // One decision fewer, the others shifted likewise.
    for (size_t i = anchors_.size(); i-- > 0 && !stopped_ && runs_ < until;) {
      std::vector<Anchor> fewer = anchors_;
      fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(i));
      if (try_shifted(best_, fewer, until)) return true;
    }
    if (!budget_left()) stopped_ = true;
    return false;
  }

  // ---- 4. bounded-preemption schedule search ----------------------------------
  //
  // Dropping an operation moves every scheduling point after it, and the
  // decisions kept by anchor or by step may then miss the window the bug
  // needs; a random schedule whose forced picks switch-list cannot make does
  // not convert at all. Here the schedule is searched from scratch instead:
  // every switch-list schedule of at most `depth` pairs on cand's programs,
  // each pair a switch (then, if the budget allows, a kill or a spurious
  // wake-up) at a scheduling point of the run so far, by iterative deepening.
  // Deterministic (the points come from the runs), bounded by `budget` runs.
  std::optional<std::vector<uint8_t>> search_schedule(Scenario c, int max_depth, uint64_t budget) {
    c.strategy = fuzz::StrategyKind::kSwitchList;
    c.pct_depth = Scenario{}.pct_depth;
    const char* why = nullptr;
    c.choices.clear();
    if (!fuzz::is_canonical_scenario(c, &why)) return std::nullopt;
    fuzz::RunOptions run = o_.run;
    run.keep_trace = true;
    run.features = nullptr;
    const int n = static_cast<int>(c.tasks.size());
    uint64_t used = 0;
    std::optional<std::vector<uint8_t>> found;
    std::vector<Pair> pairs;
    // A decision that changed nothing (a switch to a parked or finished
    // task) leaves the parent's run: its subtree is the parent's, pruned.
    std::function<bool(uint64_t, int, bool, uint64_t)> dfs = [&](uint64_t last, int depth, bool others,
                                                                  uint64_t parent) -> bool {
      if (used >= budget || !budget_left()) return false;
      c.choices = bytes_of(pairs, n);
      const fuzz::ExecutionResult r = run_one(exec_, c, run, o_);
      ++used;
      ++runs_;
      if (r.finding && key_of(*r.finding, o_.key) == key_) {
        found = c.choices;
        return true;
      }
      if (depth == 0 || r.trace_hash == parent) return false;
      const std::vector<Point> pts = points_of(exec_.trace());
      for (uint64_t s = last + 1; s < pts.size(); ++s) {
        const int running = pts[s].task;
        if (running < 0) continue;
        for (int group : {0, 7, 6}) {
          if (group != 0 && !others) continue;
          for (int t = 0; t < n; ++t) {
            if (t == running && group == 0) continue;
            const size_t keep = pairs.size();
            uint64_t at = last;
            append_pairs(pairs, at, s, group, t, pts);
            const bool hit = dfs(s, depth - 1, others, r.trace_hash);
            pairs.resize(keep);
            if (hit) return true;
            if (used >= budget) return false;
          }
        }
      }
      return false;
    };
    for (int d = 0; d <= max_depth && !found && used < budget; ++d) {
      for (bool others : {false, true}) {
        pairs.clear();
        if (dfs(0, d, others, 0) || d == 0) break;
      }
    }
    return found;
  }

  // Candidate programs, smallest first: one operation per task (legal
  // alone), then the current programs less one operation; each with a
  // searched schedule of fewer preemptions than the best has (at most 3
  // for a random or PCT best that did not convert).
  bool pass_search() {
    if (o_.fork_each) return false;
    const std::string here = hex(fuzz::encode_scenario(best_));
    if (!searched_.insert(here).second) return false;
    const int n = static_cast<int>(best_.tasks.size());
    const int pairs_now = switch_list() ? static_cast<int>(pairs_of(best_).size()) : 4;
    const int ops_now = fuzz::total_ops(best_);
    std::vector<Scenario> cands;
    // Fewer tasks (every subset of at least two), each with one operation
    // per task.
    std::vector<Scenario> subsets;
    for (unsigned mask = 1; mask < (1u << n); ++mask) {
      if (__builtin_popcount(mask) < fuzz::kMinTasks) continue;
      std::optional<Scenario> c = best_;
      std::vector<Anchor> none;
      for (int t = n - 1; t >= 0 && c; --t) {
        if (mask & (1u << t)) continue;
        auto d = drop_task(*c, none, t);
        c = d ? std::optional<Scenario>(d->first) : std::nullopt;
      }
      if (!c) continue;
      if (static_cast<int>(c->tasks.size()) < n) subsets.push_back(*c);
      const int m = static_cast<int>(c->tasks.size());
      std::vector<size_t> idx(static_cast<size_t>(m), 0);
      for (int guard = 0; guard < 64; ++guard) {
        Scenario one = *c;
        bool ok = true;
        for (int t = 0; t < m && ok; ++t) {
          const fuzz::Op op = c->tasks[static_cast<size_t>(t)].ops[idx[static_cast<size_t>(t)]];
          ok = !repair(IndexedOps{{0, op}}).empty() && fuzz::op_info(op.kind).arg != fuzz::OpArg::kTask;
          one.tasks[static_cast<size_t>(t)].ops = {op};
        }
        if (ok && m < fuzz::total_ops(*c)) cands.push_back(one);
        int t = 0;
        while (t < m && ++idx[static_cast<size_t>(t)] >= c->tasks[static_cast<size_t>(t)].ops.size()) {
          idx[static_cast<size_t>(t)] = 0;
          ++t;
        }
        if (t == m) break;
      }
    }
    cands.insert(cands.end(), subsets.begin(), subsets.end());
    // Each with another task as T0 (the run starts in T0: the task that must
    // run first saves a preemption there).
    for (size_t i = 0, e = cands.size(); i < e; ++i) {
      for (size_t t = 1; t < cands[i].tasks.size(); ++t) {
        std::vector<int> pos(cands[i].tasks.size());
        for (size_t j = 0; j < pos.size(); ++j) pos[j] = static_cast<int>(j);
        std::swap(pos[0], pos[t]);
        cands.push_back(permuted(cands[i], {}, pos).first);
      }
    }
    // Less one operation (repaired).
    for (size_t t = 0; t < best_.tasks.size(); ++t) {
      const size_t len = best_.tasks[t].ops.size();
      for (size_t i = 0; i < len; ++i) {
        IndexedOps ops;
        Scenario c;
        if (!without_op(t, i, ops, c)) continue;
        cands.push_back(c);
      }
    }
    std::stable_sort(cands.begin(), cands.end(), [](const Scenario& a, const Scenario& b) {
      return std::make_pair(a.tasks.size(), fuzz::total_ops(a)) < std::make_pair(b.tasks.size(), fuzz::total_ops(b));
    });
    // The same programs with fewer preemptions (or, for a random or PCT
    // schedule, as a switch-list), last.
    if (!switch_list() || pairs_now > 1) {
      cands.push_back(best_);
      for (size_t t = 1; t < best_.tasks.size(); ++t) {
        std::vector<int> pos(best_.tasks.size());
        for (size_t j = 0; j < pos.size(); ++j) pos[j] = static_cast<int>(j);
        std::swap(pos[0], pos[t]);
        cands.push_back(permuted(best_, {}, pos).first);
      }
    }
    const uint64_t until = runs_ + kSearchPassRuns;
    for (const Scenario& c : cands) {
      if (!budget_left()) stopped_ = true;
      if (stopped_ || runs_ >= until) break;
      const bool same = fuzz::total_ops(c) == ops_now && c.tasks.size() == best_.tasks.size();
      if (same && switch_list() && pairs_now <= 1) continue;
      const int depth = std::min(same && switch_list() ? pairs_now - 1 : switch_list() ? pairs_now : 3, 3);
      if (depth < 0) continue;
      if (auto choices = search_schedule(c, depth, std::min(kSearchRuns, until - runs_))) {
        Scenario k = c;
        k.strategy = fuzz::StrategyKind::kSwitchList;
        k.pct_depth = Scenario{}.pct_depth;
        k.choices = *choices;
        if (attempt(k, nullptr, !switch_list())) return true;
      }
    }
    return false;
  }

  bool try_pairs(const std::vector<Pair>& pairs) {
    Scenario c = best_;
    c.choices = bytes_of(pairs, static_cast<int>(c.tasks.size()));
    return attempt(c, nullptr);
  }

  bool pass_pairs() {
    bool any = false;
    // Drop decisions, the others staying where they are in their tasks:
    // chunks of consecutive decisions (ddmin: half of them, a quarter, ...,
    // two - a switch away and the switch back - and one), from the last back.
    for (size_t chunk = std::max<size_t>(anchors_.size() / 2, 1); chunk >= 1 && !stopped_;) {
      bool removed = false;
      for (size_t end = anchors_.size(); end >= chunk && !stopped_; --end) {
        std::vector<Anchor> fewer = anchors_;
        fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(end - chunk),
                    fewer.begin() + static_cast<std::ptrdiff_t>(end));
        if (attempt(best_, &fewer)) {
          removed = any = true;
          break;
        }
      }
      if (removed) {
        chunk = std::min(chunk, std::max<size_t>(anchors_.size(), 1));
        continue;
      }
      chunk = chunk > 2 ? chunk / 2 : chunk - 1;
    }
    // Then as plain pairs (later decisions keep their step).
    for (size_t i = pairs_of(best_).size(); i-- > 0 && !stopped_;) {
      std::vector<Pair> p = pairs_of(best_);
      if (i >= p.size()) continue;
      std::vector<Pair> plain = p;
      plain.erase(plain.begin() + static_cast<std::ptrdiff_t>(i));
      if (try_pairs(plain)) {
        any = true;
        continue;
      }
      if (i + 1 < p.size() && p[i].run + p[i + 1].run <= kMaxRun) {
        std::vector<Pair> merged = p;
        merged[i + 1].run += p[i].run;
        merged.erase(merged.begin() + static_cast<std::ptrdiff_t>(i));
        if (try_pairs(merged)) any = true;
      }
    }
    // Shorten and shift runs: to 1, halved, minus one; plain, or with the
    // next pair taking the difference (its decision keeps its step).
    for (size_t i = 0; i < pairs_of(best_).size() && !stopped_; ++i) {
      for (int variant = 0; variant < 3 && !stopped_; ++variant) {
        const std::vector<Pair> p = pairs_of(best_);
        if (i >= p.size()) break;
        const int run = p[i].run;
        const int to = variant == 0 ? 1 : variant == 1 ? run / 2 : run - 1;
        if (to < 1 || to >= run) continue;
        std::vector<Pair> plain = p;
        plain[i].run = to;
        if (try_pairs(plain)) {
          any = true;
          continue;
        }
        if (i + 1 < p.size() && p[i + 1].run + (run - to) <= kMaxRun) {
          std::vector<Pair> shifted = p;
          shifted[i].run = to;
          shifted[i + 1].run += run - to;
          if (try_pairs(shifted)) any = true;
        }
      }
    }
    return any;
  }

  MinimizeOptions o_;
  Clock::time_point start_;
  fuzz::Execution exec_;
  uint64_t runs_ = 0;
  bool stopped_ = false;
  std::string key_;
  Scenario best_;
  std::vector<Anchor> anchors_;
  std::optional<fuzz::Finding> finding_;
  std::set<std::string> tried_;
  std::set<std::string> searched_;
  bool became_sc_ = false;
  // Runs for one candidate's search, and for one pass over the candidates.
  static constexpr uint64_t kSearchRuns = 40000;
  static constexpr uint64_t kSearchPassRuns = 100000;
  // Decisions up to which pass_shift also shifts two at once.
  static constexpr size_t kShiftPairsMax = 12;
  // How far pass_shift moves one decision (and the later ones of its task
  // in the same segment) alone.
  static constexpr int kShiftWide = 24;
};

Outcome evaluate_once(const Scenario& sc, const MinimizeOptions& options) {
  if (options.fork_each) return evaluate_forked(sc, nullptr, options);
  fuzz::Execution exec;
  return evaluate_here(exec, sc, nullptr, options, nullptr);
}

}  // namespace

std::string minimization_key(const Scenario& sc, const MinimizeOptions& options, std::optional<fuzz::Finding>* finding) {
  Outcome r = evaluate_once(sc, options);
  if (finding) *finding = r.finding;
  return r.key;
}

MinimizeResult minimize(const Scenario& input, const MinimizeOptions& options) {
  Minimizer m(options);
  return m.run(input);
}

ScenarioSize scenario_size(const Scenario& sc, const MinimizeOptions& options) {
  const Scenario c = fuzz::canonical_form(sc);
  ScenarioSize s = size_without_run(c);
  const Outcome run = evaluate_once(c, options);
  if (c.strategy != fuzz::StrategyKind::kSwitchList) s.preemptions = run.decisions;
  s.stale_reads = run.stale;
  return s;
}

}  // namespace vmafuzz::repro
