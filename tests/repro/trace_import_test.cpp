// trace_import_test.cpp - vmafuzz record / import-trace: the recorded format,
// the guide's replay of recorded orders, and every messy-ftrace case of
// corpus/traces/ (corpus/traces/README.md says what each file exercises).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <variant>

#include "fuzz/execution.h"
#include "fuzz/ftrace_import.h"
#include "fuzz/recorded_trace.h"
#include "fuzz/scenario_codec.h"
#include "fuzz/trace_replay.h"
#include "repro/trace_record.h"
#include "tests/repro/repro_test_support.h"

namespace vmafuzz::repro::test {
namespace {

using namespace vmafuzz::fuzz;

fs::path traces_dir() { return source_dir() / "corpus" / "traces"; }

// Every output of an import decodes to itself and passes on the correct model.
void expect_legal(const Scenario& sc, Execution& exec) {
  const std::vector<uint8_t> bytes = encode_scenario(sc);
  const Scenario back = decode_scenario(bytes.data(), bytes.size());
  EXPECT_EQ(back, sc);
  EXPECT_EQ(exec.run(back).verdict, Verdict::kPass);
}

// ---- the recorded format ------------------------------------------------------

TEST(RecordedTrace, RecordingPrintsAndParsesBack) {
  const Recording rec = record_run(random_setup(7));
  EXPECT_TRUE(rec.reports.empty());
  const std::string text = print_recorded_trace(rec.trace);
  ASSERT_TRUE(looks_like_recorded_trace(text));
  auto parsed = parse_recorded_trace(text, "rec.trace");
  ASSERT_TRUE(std::holds_alternative<RecordedTrace>(parsed)) << std::get<SchedError>(parsed).to_string();
  EXPECT_EQ(std::get<RecordedTrace>(parsed), rec.trace);
}

TEST(RecordedTrace, BadLinesGiveFileLineColumn) {
  const std::string head = "vmafuzz-trace 1\nmm 0 vmas 0\ntask T0 mm 0\n  fault 0\ntask T1 mm 0\n  fault 0\nevents\n";
  const std::pair<std::string, std::string> cases[] = {
      {"  1 T0 0 vm_refcnt load w1\n  1 T1 0 vm_refcnt load w1\n", "t:9:3: clock 1 is not after"},
      {"  1 T2 0 vm_refcnt load w1\n", "t:8:5: expected a task T0..T1"},
      {"  1 T0 3 vm_refcnt load w1\n", "t:8:8: expected an operation index 0..0 of T0"},
      {"  1 T0 0 refcount load w1\n", "t:8:10: expected a word kind"},
      {"  1 T0 0 vm_refcnt peek w1\n", "t:8:20: expected an access kind"},
      {"  1 T0 0 vm_refcnt load x1\n", "t:8:25: expected a word"},
      {"  1 T0 end 0 maybe\n", "t:8:14: expected an outcome"},
      {"  1 T0 0 vm_refcnt load w1 junk\n", "t:8:28: expected end of line"},
  };
  for (const auto& [events, want] : cases) {
    auto parsed = parse_recorded_trace(head + events, "t");
    ASSERT_TRUE(std::holds_alternative<SchedError>(parsed)) << events;
    EXPECT_TRUE(std::get<SchedError>(parsed).to_string().starts_with(want)) << std::get<SchedError>(parsed).to_string();
  }
  // The set-up is checked as .sched is, with the trace's line numbers.
  auto bad = parse_recorded_trace("vmafuzz-trace 1\nmm 0 vmas 0\ntask T0 mm 0\n  vma_end_read\nevents\n", "t");
  ASSERT_TRUE(std::holds_alternative<SchedError>(bad));
  EXPECT_TRUE(std::get<SchedError>(bad).to_string().starts_with("t:4:3:")) << std::get<SchedError>(bad).to_string();
  auto no_events = parse_recorded_trace("vmafuzz-trace 1\nmm 0 vmas 0\n", "t");
  ASSERT_TRUE(std::holds_alternative<SchedError>(no_events));
}

// ---- the guide ----------------------------------------------------------------

// A recording without timing ambiguity - the accesses of a scheduler run, in
// the order it made them - replays exactly: the promise of FORMATS 5.3.
TEST(TraceReplay, SchedulerRunsReplayExactly) {
  Execution exec;
  std::mt19937_64 rng(11);
  int exact = 0, total = 0;
  for (int i = 0; i < 300; ++i) {
    Scenario sc = random_setup(rng());
    sc.strategy = StrategyKind::kPct;
    sc.choices.assign(16, 0);
    for (uint8_t& b : sc.choices) b = static_cast<uint8_t>(rng());
    if (exec.run(sc).verdict != Verdict::kPass) continue;
    const RecordedTrace tr = trace_of_run(sc, exec);
    const ImportedSchedule imp = import_schedule(tr.setup, recorded_marks(tr), exec);
    ASSERT_FALSE(imp.fallback) << imp.note;
    expect_legal(imp.scenario, exec);
    ++total;
    exact += imp.match.exact();
    // Exact unless a forced pick (after a park or a task's end) went to
    // another task than the recorded next one (FORMATS 5.3).
    if (imp.forced_divergences == 0) EXPECT_TRUE(imp.match.exact()) << "run " << i << ": " << imp.match.consumed << "/" << imp.match.marks << " consumed, "
                                   << imp.match.out_of_order << " out of order, " << imp.match.extra << " extra";
    // The replayed order is the recorded one, access by access.
    if (imp.match.exact()) {
      ASSERT_EQ(imp.replayed.size(), tr.events.size());
      for (size_t k = 0; k < imp.replayed.size(); ++k) {
        EXPECT_EQ(imp.replayed[k].task, tr.events[k].task);
        EXPECT_EQ(imp.replayed[k].word_kind, tr.events[k].word_kind);
      }
    }
  }
  EXPECT_GT(total, 200);
  EXPECT_GE(exact * 10, total * 7);
  std::printf("scheduler runs replayed exactly: %d/%d\n", exact, total);
}

// Real-thread recordings made here: every import is legal, and the replay
// follows the recording closely. Exactness is not promised (FORMATS 5.3: the
// clock is taken before the access; the model parks and spins differently).
TEST(TraceReplay, RealThreadRecordingsReplay) {
  Execution exec;
  int exact = 0, consumed = 0, marks = 0;
  constexpr int kRuns = 40;
  for (int i = 0; i < kRuns; ++i) {
    const Recording rec = record_run(random_setup(1000 + static_cast<uint64_t>(i)));
    ASSERT_TRUE(rec.reports.empty());
    const ImportedSchedule imp = import_schedule(rec.trace.setup, recorded_marks(rec.trace), exec);
    ASSERT_TRUE(imp.passes);
    expect_legal(imp.scenario, exec);
    exact += imp.match.exact();
    consumed += imp.match.consumed;
    marks += imp.match.marks;
  }
  std::printf("real-thread recordings: %d/%d exact, %d/%d accesses matched\n", exact, kRuns, consumed, marks);
  EXPECT_GE(exact, kRuns / 3);
  EXPECT_GE(consumed * 10, marks * 8);
}

// ---- ftrace -------------------------------------------------------------------

struct Imported {
  FtraceParse parse;
  FtraceImport imp;
};

Imported import_file(const std::string& name) {
  Imported r;
  r.parse = parse_ftrace(read_text(traces_dir() / name), name);
  r.imp = build_ftrace_windows(r.parse);
  Execution exec;
  for (const FtraceWindow& w : r.imp.windows) {
    const ImportedSchedule s = import_schedule(w.setup, w.marks, exec);
    EXPECT_TRUE(s.passes);
    EXPECT_FALSE(s.fallback) << s.note;
    expect_legal(s.scenario, exec);
  }
  return r;
}

int adjusted(const FtraceImport& imp, std::string_view rule_start) {
  int n = 0;
  for (const auto& [rule, k] : imp.adjusted) n += rule.starts_with(rule_start) ? k : 0;
  return n;
}

TEST(FtraceImport, NewerMemcgIdWithOtherEventsAndFunctionLines) {
  const Imported r = import_file("trace_newer_memcg_id.txt");
  EXPECT_EQ(r.parse.counts.events, 13);
  EXPECT_EQ(r.parse.counts.other_events, 2);
  EXPECT_EQ(r.parse.counts.function_lines, 2);
  EXPECT_EQ(r.parse.counts.comments, 12);
  EXPECT_EQ(r.parse.counts.malformed, 0);
  EXPECT_EQ(r.imp.tasks, 3);
  EXPECT_EQ(r.imp.events_used, 13);
  ASSERT_EQ(r.imp.windows.size(), 1u);
  // bash: write lock, unlock, write lock, downgrade, read unlock.
  const std::vector<Op> bash = {{OpKind::kMmapWriteLock}, {OpKind::kMmapWriteUnlock}, {OpKind::kMmapWriteLock},
                                {OpKind::kMmapWriteDowngrade}, {OpKind::kMmapReadUnlock}};
  EXPECT_EQ(r.imp.windows[0].setup.tasks[0].ops, bash);
  EXPECT_TRUE(r.imp.adjusted.empty());
}

TEST(FtraceImport, OlderMemcgPathQuotedEmptyAndUnknownFields) {
  const Imported r = import_file("trace_pipe_older_memcg_path.txt");
  EXPECT_EQ(r.parse.counts.events, 9);
  EXPECT_EQ(r.parse.counts.malformed, 0);
  EXPECT_EQ(r.imp.tasks, 3);
  EXPECT_EQ(r.imp.events_used, 9);
  EXPECT_TRUE(r.imp.adjusted.empty());
  ASSERT_EQ(r.imp.windows.size(), 1u);
  EXPECT_EQ(r.imp.windows[0].tasks[0], "java-2001 mm=00000000deadbeef");
}

TEST(FtraceImport, CounterClockEqualTimestampsOutOfOrderCrlfTruncated) {
  const Imported r = import_file("counter_clock_crlf_truncated.txt");
  EXPECT_TRUE(r.parse.counter_clock);
  EXPECT_EQ(r.parse.counts.events, 9);
  EXPECT_EQ(r.parse.counts.out_of_order, 1);
  EXPECT_EQ(r.parse.counts.malformed, 1);
  ASSERT_EQ(r.parse.warnings.size(), 1u);
  EXPECT_EQ(r.parse.warnings[0], "counter_clock_crlf_truncated.txt:12: truncated line (event name cut off)");
  // Sorted by timestamp; equal timestamps keep file order.
  for (size_t i = 1; i < r.parse.events.size(); ++i) EXPECT_LE(r.parse.events[i - 1].ts, r.parse.events[i].ts);
  EXPECT_EQ(r.imp.tasks, 3);
  ASSERT_EQ(r.imp.windows.size(), 1u);
  EXPECT_EQ(r.imp.windows[0].setup.tasks.size(), 3u);
}

TEST(FtraceImport, ImpossibleOrdersAreReconciled) {
  const Imported r = import_file("impossible_orders.txt");
  EXPECT_EQ(r.parse.counts.events, 13);
  EXPECT_EQ(adjusted(r.imp, "release without a held lock"), 1);
  EXPECT_EQ(adjusted(r.imp, "acquired while another task held"), 1);
  EXPECT_EQ(adjusted(r.imp, "lock taken while already holding"), 1);
  EXPECT_EQ(adjusted(r.imp, "release printed before its acquire_returned"), 1);
  EXPECT_EQ(adjusted(r.imp, "failed acquisition"), 1);
  EXPECT_EQ(adjusted(r.imp, "release write= differs"), 1);
  EXPECT_EQ(r.imp.events_dropped, 2);
  EXPECT_EQ(r.imp.events_used, 11);
}

TEST(FtraceImport, MoreTasksAndMmsThanAScenarioMakeWindows) {
  const Imported r = import_file("many_tasks_mms.txt");
  EXPECT_EQ(r.imp.tasks, 6);
  EXPECT_EQ(r.imp.windows.size(), 6u);
  for (const FtraceWindow& w : r.imp.windows) {
    EXPECT_LE(w.setup.tasks.size(), static_cast<size_t>(kMaxTasks));
    EXPECT_LE(w.setup.mms.size(), static_cast<size_t>(kMaxMms));
  }
  EXPECT_EQ(r.imp.windows[0].first_line, 1);
  EXPECT_EQ(r.imp.windows[0].last_line, 6);
}

TEST(FtraceImport, TraceCmdReportWithPageFaults) {
  const Imported r = import_file("trace_cmd_report_faults.txt");
  EXPECT_EQ(r.parse.counts.comments, 3);  // version =, cpus=, CPU 1 is empty
  EXPECT_EQ(r.parse.counts.skipped_by_event.at("page_fault_kernel"), 1);
  ASSERT_EQ(r.imp.windows.size(), 1u);
  // The fault's mmap_read_lock fallback is part of the fault operation.
  const std::vector<Op> sh = {{OpKind::kFault, 2}, {OpKind::kFault, 5}};
  EXPECT_EQ(r.imp.windows[0].setup.tasks[0].ops, sh);
  EXPECT_EQ(r.imp.windows[0].setup.mms[0].initial_vmas, 0x25);
}

TEST(FtraceImport, GarbageNeverCrashesAndWarnsWithLines) {
  std::mt19937_64 rng(3);
  const std::string base = read_text(traces_dir() / "trace_newer_memcg_id.txt");
  for (int i = 0; i < 2000; ++i) {
    std::string s = base;
    for (int k = 0; k < 8; ++k) s[rng() % s.size()] = static_cast<char>(rng());
    const FtraceParse p = parse_ftrace(s, "g");
    for (const std::string& w : p.warnings) EXPECT_TRUE(w.starts_with("g:")) << w;
    build_ftrace_windows(p);
  }
}

// ---- the commands ---------------------------------------------------------------

class TraceCliTest : public CliTest {};

TEST_F(TraceCliTest, RecordThenImport) {
  const fs::path rec = dir() / "rec", out = dir() / "out";
  CliResult r = cli({"record", "-o", rec.string(), "--runs", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = cli({"import-trace", (rec / "rec-1.trace").string(), (rec / "rec-2.trace").string(), "-o", out.string(), "--sched"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out / "rec-1.bin"));
  EXPECT_TRUE(fs::exists(out / "rec-2.sched"));
  EXPECT_NE(r.out.find("2 scenario(s) written"), std::string::npos) << r.out;
}

TEST_F(TraceCliTest, ImportsEveryCorpusTraceAndCounts) {
  std::vector<std::string> args = {"import-trace"};
  for (const auto& e : fs::directory_iterator(traces_dir())) {
    if (e.path().extension() == ".txt" || e.path().extension() == ".trace") args.push_back(e.path().string());
  }
  args.insert(args.end(), {"-o", (dir() / "out").string()});
  const CliResult r = cli(args);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("impossible_orders.txt: ftrace (global clock), 14 lines: 13 mmap_lock/fault events, 11 used, "
                       "2 dropped"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("counter_clock_crlf_truncated.txt:12: warning: truncated line"), std::string::npos) << r.err;
}

TEST_F(TraceCliTest, BadInputExitsTwo) {
  write_file(dir() / "bad.trace", std::string("vmafuzz-trace 1\nmm 0 vmas 0\ntask T0 mm 0\n  fault 0\ntask T1 mm 0\n"
                                              "  fault 0\nevents\n  1 T7 0 vm_refcnt load w1\n"));
  CliResult r = cli({"import-trace", (dir() / "bad.trace").string(), "-o", (dir() / "out").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad.trace:8:5: expected a task"), std::string::npos) << r.err;
  write_file(dir() / "neither.txt", std::string("hello\n"));
  r = cli({"import-trace", (dir() / "neither.txt").string(), "-o", (dir() / "out").string()});
  EXPECT_EQ(r.code, 2);
  r = cli({"import-trace", (dir() / "missing.txt").string(), "-o", (dir() / "out").string()});
  EXPECT_EQ(r.code, 2);
  r = cli({"import-trace", "-o", (dir() / "out").string()});
  EXPECT_EQ(r.code, 2);
  // Forced to ftrace, any text imports (nothing usable: no windows), exit 0.
  r = cli({"import-trace", "--format", "ftrace", (dir() / "neither.txt").string(), "-o", (dir() / "out").string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("neither.txt:1: warning: not an event line"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vmafuzz::repro::test
