// explain_test.cpp - `vmafuzz explain`: the timeline's rows, lanes, values,
// model functions, folding, the finding and blocked tasks, usage errors, and
// the HTML page as headless Chromium renders it.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "fuzz/execution.h"
#include "fuzz/sched_text.h"
#include "repro/explain.h"
#include "tests/repro/repro_test_support.h"

namespace vmafuzz::repro::test {
namespace {

const std::string kB09 = "B09_detach_no_wait.sched";
const std::string kLost = "M_wake_only_write_target.sched";

std::string sched(const std::string& name) { return (sched_dir() / name).string(); }

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

// The timeline lines: between the lane header and the blank line after it.
std::vector<std::string> timeline_lines(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  std::string line;
  bool in_rows = false;
  while (std::getline(in, line)) {
    if (line.starts_with("  step  ")) {
      in_rows = true;
      continue;
    }
    if (in_rows && line.empty()) break;
    if (in_rows) lines.push_back(line);
  }
  return lines;
}

size_t rows_reported(const std::string& out) { return std::stoul(line_after(out, "rows: ")); }

Timeline timeline_of(const std::string& file, const std::vector<core::Bug>& bugs, bool all) {
  auto parsed = fuzz::parse_sched(read_text(sched(file)), file);
  EXPECT_TRUE(std::holds_alternative<fuzz::SchedFile>(parsed));
  const fuzz::Scenario sc = std::get<fuzz::SchedFile>(parsed).scenario;
  fuzz::RunOptions options;
  options.keep_trace = true;
  for (core::Bug b : bugs) options.inject.add(b);
  fuzz::Execution exec;
  const fuzz::ExecutionResult r = exec.run(sc, options);
  return build_timeline(sc, r, exec.trace(), ExplainOptions{all});
}

using ExplainCommand = CliTest;

TEST_F(ExplainCommand, B09WithTheBugShowsLanesValuesModelFunctionsAndTheFinding) {
  const CliResult r = cli({"explain", "--inject", "detach_no_wait", sched(kB09)});
  EXPECT_EQ(r.code, kExitFinding) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  // One lane column per task.
  EXPECT_NE(r.out.find("\n  step  T0  T1  \n"), std::string::npos) << r.out;
  const std::vector<std::string> rows = timeline_lines(r.out);
  EXPECT_EQ(rows.size(), rows_reported(r.out));
  // The writer's detach: its model functions, vm_refcnt with values.
  EXPECT_NE(r.out.find("T1.0 munmap: vma_mark_detached > __vma_refcount_put_return > __refcount_sub_and_test: "
                       "rmw vm_refcnt[vma 0] 2 -> 1"),
            std::string::npos)
      << r.out;
  // Its write lock, which waits for readers (in the kernel's function names).
  EXPECT_NE(r.out.find("__vma_start_exclude_readers > __refcount_add_not_zero: cmpxchg vm_refcnt[vma 0] 1 -> FLAG+1"),
            std::string::npos);
  EXPECT_NE(r.out.find("__vma_start_exclude_readers > rcuwait_wait_event"), std::string::npos);
  // The reader's increment reads the writer's write: a reads-from edge, and
  // the preemptions of the schedule.
  EXPECT_NE(r.out.find("cmpxchg vm_refcnt[vma 0] 1 -> 2"), std::string::npos);
  EXPECT_NE(r.out.find("(reads T1's write of step 22)"), std::string::npos);
  EXPECT_EQ(count(r.out, "preempted: "), 3u) << r.out;
  // The finding, its invariant, and its row marked in T1's lane.
  EXPECT_NE(r.out.find("FINDING detach.count_not_zero (oracle) in T1 munmap"), std::string::npos);
  EXPECT_NE(r.out.find("invariant I5: vma_mark_detached() returned with vm_refcnt != 0"), std::string::npos);
  EXPECT_NE(r.out.find("signature detach.count_not_zero||munmap|lock_vma_under_rcu"), std::string::npos);
  bool marked = false;
  for (const std::string& row : rows) marked |= row.substr(8, 8) == "    !   ";
  EXPECT_TRUE(marked) << r.out;
}

TEST_F(ExplainCommand, B09OnTheCorrectModelShowsTheDetachWaitAndWhoWokeIt) {
  const CliResult r = cli({"explain", sched(kB09)});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_NE(r.out.find("T1.0 munmap: sleeps (UNINTERRUPTIBLE) in vma_mark_detached > "
                       "__vma_exclude_readers_for_detach > __vma_start_exclude_readers > rcuwait_wait_event"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("T0.0 lock_vma_under_rcu: wakes T1 in lock_vma_under_rcu > vma_start_read > vma_refcount_put > "
                       "rcuwait_wake_up"),
            std::string::npos);
  EXPECT_NE(r.out.find("rmw vm_refcnt[vma 0] FLAG+1 -> FLAG"), std::string::npos);
  EXPECT_NE(r.out.find("verdict pass"), std::string::npos);
}

TEST_F(ExplainCommand, FoldingHidesOnlyAccessesOfNoInterestAndAllShowsEveryStep) {
  const CliResult folded = cli({"explain", "--inject", "detach_no_wait", sched(kB09)});
  const CliResult all = cli({"explain", "--all", "--inject", "detach_no_wait", sched(kB09)});
  ASSERT_EQ(all.code, kExitFinding);
  const Timeline tf = timeline_of(kB09, {core::Bug::detach_no_wait}, false);
  const Timeline ta = timeline_of(kB09, {core::Bug::detach_no_wait}, true);
  EXPECT_EQ(rows_reported(folded.out), tf.rows.size());
  EXPECT_EQ(rows_reported(all.out), ta.rows.size());
  EXPECT_EQ(timeline_lines(all.out).size(), ta.rows.size());
  EXPECT_EQ(count(all.out, " (no changes)"), 0u);
  EXPECT_GT(tf.folded_rows, 0u);
  size_t folds = 0;
  for (const TimelineRow& row : tf.rows) {
    if (row.kind != RowKind::kFold) continue;
    ++folds;
    EXPECT_GE(row.folded, 2u);
  }
  EXPECT_EQ(count(folded.out, " (no changes)"), folds);
  // Every access is either a row or folded; folding removes folded - folds rows.
  EXPECT_EQ(ta.rows.size() - tf.rows.size(), tf.folded_rows - folds);
  // No row that changes a value or reads another task's write is folded.
  for (const TimelineRow& row : ta.rows) {
    if (row.kind == RowKind::kAccess && (row.changed || row.from_row >= 0)) {
      EXPECT_NE(folded.out.find(row.text), std::string::npos) << row.text;
    }
  }
}

TEST_F(ExplainCommand, LostWakeupListsTheBlockedTaskWithItsWaitSite) {
  const CliResult r = cli({"explain", "--inject", "wake_only_write_target", sched(kLost)});
  EXPECT_EQ(r.code, kExitFinding) << r.out << r.err;
  EXPECT_NE(r.out.find("FINDING sleep.lost_wakeup (lost-wakeup): vma_writer_wait (detach: vm_refcnt == FLAG)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("blocked: T1 in vma_writer_wait (detach: vm_refcnt == FLAG) (vma_mark_detached > "
                       "__vma_exclude_readers_for_detach > __vma_start_exclude_readers > rcuwait_wait_event), "
                       "condition holds"),
            std::string::npos);
  // The sleep is the finding's row; T1's lane shows it asleep afterwards.
  bool marked_sleep = false;
  for (const std::string& row : timeline_lines(r.out)) {
    marked_sleep |= row.find("!   T1.0 munmap: sleeps") != std::string::npos;
  }
  EXPECT_TRUE(marked_sleep) << r.out;
  EXPECT_NE(r.out.find("invariant I9"), std::string::npos);
}

// A deadlock (kept by `vmafuzz to-test` in tests/sched/regressions/): every
// sleeper with its wait site, the function it sleeps in, and a false condition.
TEST_F(ExplainCommand, DeadlockListsEveryBlockedTaskWithItsWaitSite) {
  const std::string file = sched("regressions/detach_waits_for_write_target_deadlock.sched");
  const CliResult r = cli({"explain", "--inject", "detach_waits_for_write_target", file});
  EXPECT_EQ(r.code, kExitFinding) << r.out << r.err;
  EXPECT_NE(r.out.find("FINDING sleep.deadlock (deadlock): "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sleep.deadlock (invariant I9: quiescent, and no sleeper's condition holds)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("blocked: T0 in vma_writer_wait (vm_refcnt == FLAG + 1) (vma_mark_detached > "
                       "__vma_exclude_readers_for_detach > __vma_start_exclude_readers > rcuwait_wait_event), "
                       "condition false"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(count(r.out, "blocked: "), 3u) << r.out;
  EXPECT_EQ(count(r.out, ", condition holds"), 0u) << r.out;
}

// The step bound: a livelock names the task and operation it stopped in, and
// no invariant (none is stated for it).
TEST_F(ExplainCommand, LivelockAtTheStepBoundNamesWhereItStopped) {
  const CliResult r = cli({"explain", "--max-steps", "10", sched("S1_transient_reader_vs_write_lock.sched")});
  EXPECT_EQ(r.code, kExitFinding) << r.out << r.err;
  EXPECT_NE(r.out.find("verdict livelock after 11 steps: sleep.livelock (the run reached its step bound)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("at step 11, task T1 in mprotect"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("invariant -"), std::string::npos) << r.out;
}

TEST_F(ExplainCommand, UsageErrorsNameTheFileAndWhatWasExpected) {
  const CliResult missing = cli({"explain", path("nope.sched")});
  EXPECT_EQ(missing.code, kExitUsage);
  EXPECT_NE(missing.err.find(path("nope.sched")), std::string::npos) << missing.err;
  write_file(dir() / "bad.sched", std::string("vmafuzz-sched 1\nmm 0 vmas 0\ntask T0 mm 0\n  frobnicate 0\n"));
  const CliResult bad = cli({"explain", path("bad.sched")});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_TRUE(bad.err.starts_with(path("bad.sched") + ":4:")) << bad.err;
  // --html never names the input (nor stdout), and the input is untouched.
  const std::string text = read_text(sched(kB09));
  write_file(dir() / "in.sched", text);
  const CliResult same = cli({"explain", path("in.sched"), "--html", path("in.sched")});
  EXPECT_EQ(same.code, kExitUsage);
  EXPECT_EQ(read_text(dir() / "in.sched"), text);
  EXPECT_EQ(cli({"explain", path("in.sched"), "--html", "-"}).code, kExitUsage);
  const CliResult help = cli({"explain", "--help"});
  EXPECT_EQ(help.code, kExitOk);
  EXPECT_NE(help.out.find("Example:"), std::string::npos);
}

TEST_F(ExplainCommand, RunsTheInputAsRunDoes) {
  for (const std::vector<std::string>& inject : {std::vector<std::string>{}, {"--inject", "detach_no_wait"}}) {
    std::vector<std::string> run = {"run"}, explain = {"explain"};
    run.insert(run.end(), inject.begin(), inject.end());
    explain.insert(explain.end(), inject.begin(), inject.end());
    run.push_back(sched(kB09));
    explain.push_back(sched(kB09));
    const CliResult a = cli(run);
    const CliResult b = cli(explain);
    EXPECT_EQ(a.code, b.code);
    EXPECT_EQ(line_after(a.out, "steps:    "), line_after(b.out, "steps: "));
    EXPECT_EQ(line_after(a.out, "trace:    "), line_after(b.out, "trace: "));
  }
}

TEST_F(ExplainCommand, BuiltProgramExitsAsRun) {
  EXPECT_EQ(vmafuzz({"explain", sched(kB09)}).code, kExitOk);
  EXPECT_EQ(vmafuzz({"explain", sched(kB09)}, {"VMAFUZZ_INJECT=detach_no_wait"}).code, kExitFinding);
  EXPECT_EQ(vmafuzz({"explain", path("nope")}).code, kExitUsage);
}

// Headless Chromium (scripts/setup installs Debian's `chromium`) renders the
// page; its DOM after the scripts ran must hold one lane per task, one row
// element per timeline row, and the finding highlighted. A missing Chromium
// fails: this is the only check of the page as a browser shows it.
TEST_F(ExplainCommand, HtmlPageRendersLanesRowsAndTheFindingInHeadlessChromium) {
  const std::string html = path("b09.html");
  const CliResult r = vmafuzz({"explain", "--inject", "detach_no_wait", sched(kB09), "--html", html});
  ASSERT_EQ(r.code, kExitFinding) << r.out << r.err;
  const Timeline t = timeline_of(kB09, {core::Bug::detach_no_wait}, false);
  EXPECT_NE(r.out.find(fmt::format("({} rows, 2 tasks)", t.rows.size())), std::string::npos) << r.out;
  const std::string page = read_text(html);
  // Self-contained: no URL but the SVG namespace name (never fetched).
  std::string rest = page;
  for (size_t p; (p = rest.find("http://www.w3.org/2000/svg")) != std::string::npos;) rest.erase(p, 26);
  EXPECT_EQ(rest.find("http://"), std::string::npos);
  EXPECT_EQ(rest.find("https://"), std::string::npos);
  EXPECT_EQ(rest.find(" src="), std::string::npos);

  ASSERT_EQ(std::system("command -v chromium >/dev/null 2>&1"), 0)
      << "chromium is not installed (scripts/setup installs it); the HTML test cannot run";
  const CliResult dom = spawn("chromium",
                              {"--headless", "--disable-gpu", "--no-sandbox", "--user-data-dir=" + path("chromium"),
                               "--dump-dom", "file://" + html},
                              {}, dir());
  ASSERT_EQ(dom.code, 0) << dom.err;
  EXPECT_EQ(count(dom.out, "<g class=\"lane\""), 2u) << dom.out.substr(0, 2000);
  EXPECT_NE(dom.out.find("data-task=\"T0\""), std::string::npos);
  EXPECT_NE(dom.out.find("data-task=\"T1\""), std::string::npos);
  EXPECT_EQ(count(dom.out, "<g class=\"row "), t.rows.size());
  EXPECT_EQ(count(dom.out, "<g class=\"row kind-finding finding\""), 1u);
  EXPECT_GE(count(dom.out, " finding\""), 2u);  // the finding row and the access where it fired
  EXPECT_NE(dom.out.find("detach.count_not_zero"), std::string::npos);
  EXPECT_NE(dom.out.find("class=\"arrow-rf\""), std::string::npos);
  EXPECT_NE(dom.out.find("id=\"summary\" class=\"has-finding\""), std::string::npos);
}

}  // namespace
}  // namespace vmafuzz::repro::test
