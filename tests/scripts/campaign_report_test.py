#!/usr/bin/python3
"""Tests of scripts/campaign_status.py and scripts/campaign_report.py.

Unit (fixtures in tests/scripts/fixtures/, real engine output trimmed):
libFuzzer's status lines in one process and -fork mode, AFL++'s
fuzzer_stats/plot_data over two instances, the status line on a terminal (a
pty) and not, stats.jsonl, and the report (JSON, plots, explain pages) as
headless Chromium renders it.
EndToEnd: a real 6-second scripts/fuzz campaign (--jobs 2, a bug injected)
into a temporary directory, its status lines and its report in Chromium.

  tests/scripts/campaign_report_test.py Unit       # about 10 s
  tests/scripts/campaign_report_test.py EndToEnd   # builds build/libfuzzer if needed
Chromium (Debian's `chromium`) and python3-matplotlib are required, not
optional: scripts/setup installs them, and a missing one fails the test.
"""

import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unittest
from html.parser import HTMLParser
from pathlib import Path

SRC = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
STATUS = SRC / "scripts" / "campaign_status.py"
REPORT = SRC / "scripts" / "campaign_report.py"
sys.path.insert(0, str(SRC / "scripts"))
import campaign_status as cs  # noqa: E402

FINAL_FORK_LINE = "execs 17,826 (2,228/s)  corpus 748  cov 7,185 ft 10,776"


def wait_until(done, limit=60.0):
    """Polls done() until it holds; fails after `limit` seconds (a hang, not a slow machine)."""
    end = time.monotonic() + limit
    while not done():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in %.0f s" % limit)
        time.sleep(0.05)


def lines_until(stream, done, limit=60.0) -> list[str]:
    """Reads lines from a pipe until one satisfies done(); returns them all."""
    end = time.monotonic() + limit
    got = []
    while time.monotonic() < end:
        line = stream.readline().decode()
        if not line:
            raise AssertionError("output ended before the expected line: %r" % got)
        got.append(line)
        if done(line):
            return got
    raise AssertionError("expected line not printed in %.0f s: %r" % (limit, got))


def pty_until(master, done=None, limit=60.0) -> str:
    """Reads a pty until done(text so far) holds; with done None, to the end of the output
    (EIO once the other side has closed)."""
    end = time.monotonic() + limit
    text = ""
    while done is None or not done(text):
        if time.monotonic() > end:
            raise AssertionError("expected output not seen in %.0f s: %r" % (limit, text))
        if not select.select([master], [], [], 0.5)[0]:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            chunk = b""
        if not chunk:
            if done is None:
                return text
            raise AssertionError("output ended before the expected text: %r" % text)
        text += chunk.decode()
    return text


class Dom(HTMLParser):
    """What the tests read from Chromium's DOM: the plots, the findings rows and their links."""

    def __init__(self, text):
        super().__init__()
        self.imgs, self.rows, self.body = [], [], {}
        self._row = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a)
        elif tag == "body":
            self.body = a
        elif tag == "tr" and "finding" in (a.get("class") or "").split():
            self._row = {"attrs": a, "links": [], "text": ""}
            self.rows.append(self._row)
        elif tag == "tr":
            self._row = None
        elif tag == "a" and self._row is not None:
            self._row["links"].append(a.get("href"))

    def handle_data(self, data):
        if self._row is not None:
            self._row["text"] += data


def chromium_dom(page: Path, scratch: Path) -> Dom:
    """The page's DOM after its scripts ran, as headless Chromium has it."""
    exe = shutil.which("chromium")
    if exe is None:
        raise AssertionError("chromium is not installed (scripts/setup installs it); the HTML test cannot run")
    r = subprocess.run([exe, "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={scratch}/chromium",
                        "--allow-file-access-from-files", "--dump-dom", page.as_uri()],
                       capture_output=True, text=True, timeout=120, check=False)
    if r.returncode != 0:
        raise AssertionError(f"chromium failed ({r.returncode}): {r.stderr[-2000:]}")
    return Dom(r.stdout)


def assert_plots_rendered(t: unittest.TestCase, dom: Dom, missing: str | None = None):
    """Every plot loaded with a real size, but `missing`, which must show as missing."""
    plots = {i.get("id"): i for i in dom.imgs if "plot" in (i.get("class") or "").split()}
    t.assertEqual(sorted(plots), ["plot-corpus", "plot-coverage", "plot-exec_per_sec", "plot-features"])
    for name, img in plots.items():
        if name == missing:
            t.assertEqual((img.get("data-natural-width"), img.get("class")), ("0", "plot missing"), name)
            continue
        t.assertGreater(int(img.get("data-natural-width", 0)), 100, name)
        t.assertGreater(int(img.get("data-natural-height", 0)), 100, name)
    t.assertEqual(dom.body.get("data-rendered"), "1")


def write_stats(out: Path, run: float, n: int = 11, **start):
    """A stats.jsonl as the status program writes it: a start record, one sample a second, an end."""
    recs = [dict(event="start", run=run, t=run, target="fuzz_vma_lock", engine="libfuzzer",
                 inject=["detach_no_wait"], jobs=2, time_limit=10, runs=None, logs=["logs/x.log"], **start)]
    for i in range(n):
        recs.append(dict(event="sample" if i < n - 1 else "end", run=run, t=run + i, elapsed=float(i),
                         execs=1000 * i, exec_per_sec=100.0 + 10 * i, corpus=20 + i, cov=5000 + 50 * i,
                         ft=6000 + 300 * i, findings=min(i, 2), crash_files=min(i, 2)))
    # An older campaign's records first: the report must show the latest one only.
    old = dict(recs[1], run=run - 1000, t=run - 1000, execs=99)
    (out / "stats.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [old] + recs) + '{"event": "sam')


def touch(path: Path, when: float, data: bytes = b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (when, when))


class Unit(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="campaign-report-test."))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- parsing ---------------------------------------------------------------
    def test_libfuzzer_single_process_log(self):
        s = cs.parse_libfuzzer_log((FIXTURES / "libfuzzer-single.log").read_text())
        self.assertEqual((s.execs, s.cov, s.ft, s.corpus, s.exec_per_sec), (30903, 1899, 10892, 1111, 4414.0))
        self.assertIsNone(s.engine_time)

    def test_libfuzzer_fork_parent_log(self):
        s = cs.parse_libfuzzer_log((FIXTURES / "libfuzzer-fork.log").read_text())
        self.assertEqual((s.execs, s.cov, s.ft, s.corpus, s.engine_time), (17826, 7185, 10776, 748, 8))
        # The parent's own exec/s field (2040) is the last job's; the campaign's is execs / time.
        self.assertAlmostEqual(s.exec_per_sec, 17826 / 8)

    def test_log_tail_waits_for_a_whole_line(self):
        log = self.tmp / "log"
        log.write_text("#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 33Mb\n#7\tNEW    cov: 12 ft: 1")
        tail = cs.LogTail(log)
        self.assertEqual((tail.poll().execs, tail.stats.ft), (2, 11))
        with open(log, "a") as f:
            f.write("5 corp: 2/9b lim: 4096 exec/s: 7 rss: 34Mb\nINFO: junk\n")
        self.assertEqual((tail.poll().execs, tail.stats.ft, tail.stats.corpus, tail.stats.exec_per_sec), (7, 15, 2, 7.0))
        # Interrupted: no DONE line, the final statistics have the last count.
        with open(log, "a") as f:
            f.write("==1== libFuzzer: run interrupted; exiting\nstat::number_of_executed_units: 9\n"
                    "stat::average_exec_per_sec:     3\nstat::new_units_added:          1\n")
        self.assertEqual((tail.poll().execs, tail.stats.exec_per_sec, tail.stats.ft), (9, 3.0, 15))

    def test_afl_instances_add_up(self):
        s = cs.afl_stats(FIXTURES / "afl")
        # main: fuzzer_stats (75054, newest); s1: plot_data's last row (60000) is newer than fuzzer_stats (50000).
        self.assertEqual(s.execs, 75054 + 60000)
        self.assertAlmostEqual(s.exec_per_sec, 7497.15 + 6000.0)
        self.assertEqual((s.corpus, s.cov, s.ft), (789, 2264, None))
        # The queue's entries count when there are more than the last statistics say.
        shutil.copytree(FIXTURES / "afl", self.tmp / "afl")
        for i in range(795):
            touch(self.tmp / "afl" / "s1" / "queue" / f"id:{i:06d},time:0", 0)
        (self.tmp / "afl" / "s1" / "queue" / ".state").mkdir()
        self.assertEqual(cs.afl_stats(self.tmp / "afl").corpus, 795)

    def test_several_libfuzzer_logs_add_executions(self):
        a, b = cs.Stats(100, 10.0, 5, 50, 60), cs.Stats(300, 30.0, 7, 40, 70)
        s = cs.sum_logs([a, b, cs.Stats()])
        self.assertEqual((s.execs, s.exec_per_sec, s.corpus, s.cov, s.ft), (400, 40.0, 7, 50, 70))

    def test_status_line(self):
        line = cs.status_line(75, "1:00", cs.Stats(12345, 678.9, 42, 1899, 10892), 3, 2)
        self.assertEqual(line, "fuzz: 1:15 / 1:00  execs 12,345 (678/s)  corpus 42  cov 1,899 ft 10,892  "
                               "findings 3 crash files  2 jobs")
        self.assertEqual(cs.status_line(3700, "2:00:00", cs.Stats(), 1, 1),
                         "fuzz: 1:01:40 / 2:00:00  execs ? (?)  corpus ?  cov ?  findings 1 crash file")

    # ---- the status program ----------------------------------------------------
    def start_status(self, out: Path, log: Path, *extra, stdout=subprocess.PIPE, env=None):
        return subprocess.Popen([str(STATUS), "--out", str(out), "--engine", "libfuzzer", "--log", str(log),
                                 "--jobs", "2", "--time-limit", "60", *extra],
                                stdout=stdout, stderr=subprocess.PIPE, env=env)

    def fork_log_in_two_parts(self, out: Path) -> tuple[Path, list[str]]:
        lines = (FIXTURES / "libfuzzer-fork.log").read_text().splitlines(keepends=True)
        first = next(i for i, l in enumerate(lines) if l.startswith("#774:")) + 1
        log = out / "logs" / "libfuzzer.log"
        log.parent.mkdir(parents=True)
        log.write_text("".join(lines[:first]))
        touch(out / "crashes" / "crash-old", time.time() - 100)
        touch(out / "crashes" / "crash-old.json", time.time() - 100)
        return log, lines[first:]

    def test_plain_lines_when_not_a_terminal_and_samples(self):
        out = self.tmp / "out"
        log, rest = self.fork_log_in_two_parts(out)
        p = self.start_status(out, log, "--interval", "1", "--report-every", "1")
        # Each step waits for what the program printed or wrote, not for a fixed
        # time: a loaded machine can take seconds to start Python.
        first = lines_until(p.stdout, lambda l: True)
        with open(log, "a") as f:
            f.write("".join(rest))
        touch(out / "crashes" / "crash-new", time.time())
        later = lines_until(p.stdout, lambda l: FINAL_FORK_LINE + "  findings 1 crash file" in l)
        wait_until(lambda: sum('"event":"sample"' in l
                               for l in (out / "stats.jsonl").read_text().splitlines()) >= 3)
        p.send_signal(signal.SIGINT)  # ignored: ^C is the engine's
        time.sleep(0.3)
        self.assertIsNone(p.poll())
        p.terminate()
        stdout, stderr = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, stderr)
        text = "".join(first + later) + stdout.decode()
        self.assertNotIn("\r", text)
        lines = text.splitlines()
        self.assertGreaterEqual(len(lines), 3, text)  # the first, at least one a second, the last
        self.assertLessEqual(len(lines), 8, text)
        for l in lines:
            self.assertRegex(l, r"^fuzz: 0:0\d / 1:00  execs ")
            self.assertTrue(l.endswith("2 jobs"), l)
        self.assertIn("execs 774 (", lines[0])
        self.assertIn("findings 0 crash files", lines[0])  # crash-old was there before
        self.assertIn(FINAL_FORK_LINE + "  findings 1 crash file  2 jobs", lines[-1])

        recs = [json.loads(l) for l in (out / "stats.jsonl").read_text().splitlines()]
        self.assertEqual(recs[0]["event"], "start")
        self.assertEqual((recs[0]["jobs"], recs[0]["time_limit"], recs[0]["logs"]), (2, 60, ["logs/libfuzzer.log"]))
        self.assertEqual(recs[-1]["event"], "end")
        self.assertEqual((recs[-1]["execs"], recs[-1]["corpus"], recs[-1]["cov"], recs[-1]["ft"]), (17826, 748, 7185, 10776))
        self.assertEqual((recs[-1]["findings"], recs[-1]["crash_files"]), (1, 2))
        self.assertGreaterEqual(sum(r["event"] == "sample" for r in recs), 3)  # one a second at first
        # --report-every 1: the report was rewritten while running (and says so).
        self.assertTrue(json.loads((out / "report.json").read_text())["partial"])

    def test_one_line_rewritten_in_place_on_a_terminal(self):
        out = self.tmp / "out"
        log, rest = self.fork_log_in_two_parts(out)
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
        env = dict(os.environ)
        env.pop("COLUMNS", None)
        p = self.start_status(out, log, "--report-every", "0", stdout=slave, env=env)
        os.close(slave)
        text = pty_until(master, lambda t: "execs 774 (" in t)
        with open(log, "a") as f:
            f.write("".join(rest))
        text += pty_until(master, lambda t: FINAL_FORK_LINE in t)
        p.terminate()
        p.wait(timeout=30)
        p.stderr.close()
        text += pty_until(master)  # the rest, to the end of the output
        os.close(master)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(text.count("\n"), 1, repr(text))  # only the last line ends the line
        self.assertTrue(text.endswith("\x1b[K\r\n") or text.endswith("\x1b[K\n"), repr(text[-40:]))
        frames = [f for f in text.replace("\r\n", "\n").split("\r") if f]
        self.assertGreaterEqual(len(frames), 3, repr(text))  # two a second
        for f in frames:
            self.assertRegex(f, r"^fuzz: 0:0\d / 1:00  execs .*\x1b\[K\n?$")
        self.assertIn("execs 774 (", frames[0])
        self.assertIn(FINAL_FORK_LINE, frames[-1])

    def test_terminal_line_is_cut_to_the_width(self):
        out = self.tmp / "out"
        log, _ = self.fork_log_in_two_parts(out)
        master, slave = pty.openpty()
        env = dict(os.environ, COLUMNS="40")
        p = self.start_status(out, log, "--report-every", "0", stdout=slave, env=env)
        os.close(slave)
        text = pty_until(master, lambda t: "\x1b[K" in t)  # a first frame
        p.terminate()
        p.wait(timeout=30)
        p.stderr.close()
        text += pty_until(master)
        os.close(master)
        frames = [f for f in text.split("\r") if f.strip()]
        self.assertTrue(frames)
        for f in frames:
            self.assertEqual(len(f.split("\x1b[K")[0]), 39, repr(f))

    def test_afl_status(self):
        out = self.tmp / "out"
        shutil.copytree(FIXTURES / "afl", out / "afl")
        touch(out / "afl" / "s1" / "crashes" / "README.txt", time.time())
        p = subprocess.Popen([str(STATUS), "--out", str(out), "--engine", "afl", "--jobs", "2", "--runs", "500000",
                              "--report-every", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines_until(p.stdout, lambda l: True)  # running: the crash file is new to it
        touch(out / "afl" / "s1" / "crashes" / "id:000000,sig:06", time.time())
        p.terminate()
        stdout, stderr = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, stderr)
        last = stdout.decode().splitlines()[-1]
        self.assertRegex(last, r"^fuzz: 0:0\d / 500,000 runs  execs 135,054 \(13,497/s\)  corpus 789  cov 2,264  "
                               r"findings 1 crash file  2 jobs$")

    def test_bad_command_line(self):
        r = subprocess.run([str(STATUS), "--out", str(self.tmp), "--engine", "libfuzzer"], capture_output=True)
        self.assertEqual(r.returncode, 64)
        r = subprocess.run([str(STATUS), "--engine", "nope"], capture_output=True)
        self.assertNotEqual(r.returncode, 0)
        r = subprocess.run([str(REPORT), "--out", str(self.tmp / "missing")], capture_output=True)
        self.assertEqual(r.returncode, 64)

    # ---- the report ------------------------------------------------------------
    def stub_cli(self) -> Path:
        """A `vmafuzz` that writes an explain page and records how it was called."""
        cli = self.tmp / "vmafuzz"
        cli.write_text('#!/bin/sh\necho "$VMAFUZZ_INJECT $*" >> "$(dirname "$0")/cli-calls"\n'
                       'while [ $# -gt 0 ]; do [ "$1" = --html ] && echo "<html>explained</html>" > "$2"; shift; done\n'
                       'exit 1\n')
        cli.chmod(0o755)
        return cli

    def test_report_with_findings_in_chromium(self):
        out = self.tmp / "out"
        out.mkdir()
        run = time.time() - 30
        write_stats(out, run)
        shutil.copy(FIXTURES / "triage.json", out / "triage.json")
        touch(out / "crashes" / "crash-b952fe0978180095cb5d8e7969079f0343cecad6", run + 3.0)
        touch(out / "crashes" / "crash-43b2efdc9bab1ab3a217a9eeef4dff2430d0ca59", run + 5.0)
        touch(out / "tsan" / "tsan-0123456789abcdef0123456789abcdef01234567", run - 500)
        cli = self.stub_cli()
        r = subprocess.run([str(REPORT), "--out", str(out), "--cli", str(cli)], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("2 finding(s), 11 samples", r.stdout)

        rep = json.loads((out / "report.json").read_text())
        self.assertEqual(rep["schema"], 1)
        self.assertFalse(rep["partial"])
        self.assertEqual((rep["executions"], rep["exec_per_sec"], rep["corpus"], rep["coverage"], rep["features"]),
                         (10000, 200.0, 30, 5500, 9000))
        self.assertEqual(rep["campaign"]["inject"], ["detach_no_wait"])
        self.assertEqual(rep["campaign"]["seed_dirs"], ["corpus/fuzz_vma_lock"])  # from triage.json
        self.assertEqual(rep["campaign"]["started"], run)
        self.assertEqual([s["elapsed"] for s in rep["samples"]], [float(i) for i in range(11)])
        self.assertEqual(rep["triage"], "triage.json")
        f1, f2 = rep["findings"]
        self.assertEqual((f1["key"], f1["status"], f1["signature"]),
                         ("089e490d4dd9", "new", "detach.count_not_zero||munmap|lock_vma_under_rcu"))
        self.assertAlmostEqual(f1["found_at"], 3.0, places=2)  # its first crash file's time
        self.assertEqual(f1["explain_html"], "findings/089e490d4dd9.html")
        self.assertTrue(f1["replay"].startswith("VMAFUZZ_INJECT=detach_no_wait "))
        self.assertIsNone(f2["found_at"])  # an earlier campaign's
        self.assertIsNone(f2["explain_html"])  # a TSan race: the campaign's vmafuzz cannot show it
        calls = (self.tmp / "cli-calls").read_text().splitlines()
        self.assertEqual(len(calls), 1)
        self.assertRegex(calls[0], r"^detach_no_wait explain \S+/crashes/crash-b952fe\w+ --html \S+$")
        for name in ("exec_per_sec", "coverage", "features", "corpus"):
            self.assertEqual((out / rep["plots"][name]).read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(list(out.glob("**/.*tmp")), [])  # no temp file left over

        dom = chromium_dom(out / "report.html", self.tmp)
        assert_plots_rendered(self, dom)
        self.assertEqual([r["attrs"].get("data-key") for r in dom.rows], ["089e490d4dd9", "5c1e2d3f4a5b"])
        self.assertIn("findings/089e490d4dd9.html", dom.rows[0]["links"])
        self.assertIn("crashes/crash-b952fe0978180095cb5d8e7969079f0343cecad6", dom.rows[0]["links"])
        self.assertIn("3 s", dom.rows[0]["text"])
        self.assertIn("earlier campaign", dom.rows[1]["text"])
        self.assertIn("ThreadSanitizer: data race", dom.rows[1]["text"])


    def test_report_without_triage(self):
        out = self.tmp / "out"
        out.mkdir()
        run = time.time() - 30
        write_stats(out, run, n=3)
        touch(out / "crashes" / "crash-1", run + 1.5)
        touch(out / "crashes" / "crash-1.json", run + 1.5)
        touch(out / "crashes" / "crash-before", run - 100)
        r = subprocess.run([str(REPORT), "--out", str(out), "--partial", "--quiet"], capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)
        rep = json.loads((out / "report.json").read_text())
        self.assertTrue(rep["partial"])
        self.assertIsNone(rep["campaign"]["ended"])
        self.assertEqual((rep["triage"], rep["findings"], rep["crash_files"]), (None, [], 2))
        self.assertEqual(rep["crash_marks"], [1.5])
        page = (out / "report.html").read_text()
        self.assertIn('http-equiv="refresh"', page)
        # The check can fail: a plot that did not load has no size, and the page says so.
        (out / "report-plots" / "corpus.png").unlink()
        dom = chromium_dom(out / "report.html", self.tmp)
        assert_plots_rendered(self, dom, missing="plot-corpus")
        self.assertEqual(dom.rows, [])
        self.assertIn("not triaged yet: no triage.json", page)

    def test_report_of_an_empty_directory(self):
        # The status program has not written a sample yet: still a page, with empty plots.
        r = subprocess.run([str(REPORT), "--out", str(self.tmp), "--quiet"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        rep = json.loads((self.tmp / "report.json").read_text())
        self.assertEqual((rep["samples"], rep["executions"], rep["findings"]), ([], None, []))
        self.assertEqual(len(rep["plots"]), 4)


class EndToEnd(unittest.TestCase):
    """A real campaign through scripts/fuzz: status lines, then the report in Chromium."""

    def test_short_campaign(self):
        tmp = Path(tempfile.mkdtemp(prefix="campaign-e2e."))
        try:
            env = dict(os.environ, VMAFUZZ_FUZZ_OUT=str(tmp / "fuzz-out"))
            # B14 (rcu_held_on_empty_lookup) fails on the empty input, which libFuzzer
            # always runs first: every campaign writes a crash file, although triage
            # keeps the failing seeds (its regression inputs) out of the engine's corpus.
            r = subprocess.run([str(SRC / "scripts" / "fuzz"), "--inject", "rcu_held_on_empty_lookup", "--jobs", "2",
                                "--time", "6", "--no-tsan", "--no-minimize", "--status-interval", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               stdin=subprocess.DEVNULL, timeout=1800)
            out_text = r.stdout
            # 4: nothing new but shipped seeds (B14's own) reproduce the injected bug; 3: also something new.
            self.assertIn(r.returncode, (3, 4), out_text[-4000:])
            status = [l for l in out_text.splitlines() if re.match(r"^fuzz: \d+:\d\d / 0:06  execs ", l)]
            self.assertGreaterEqual(len(status), 3, out_text[-4000:])
            self.assertRegex(status[-1], r"execs [1-9][\d,]* \([\d,]+/s\)  corpus [1-9][\d,]*  cov [1-9][\d,]* "
                                         r"ft [1-9][\d,]*  findings [1-9]\d* crash files?  2 jobs$")
            # libFuzzer's own lines went to the log only.
            self.assertFalse([l for l in out_text.splitlines() if re.match(r"^(#\d+|INFO: )", l)])
            out = tmp / "fuzz-out" / "fuzz_vma_lock-inject-rcu_held_on_empty_lookup"
            self.assertIn(f"report:    {out / 'report.html'}", out_text)
            logs = list((out / "logs").glob("libfuzzer-*.log"))
            self.assertEqual(len(logs), 1)
            self.assertIn("cov: ", logs[0].read_text())

            rep = json.loads((out / "report.json").read_text())
            self.assertFalse(rep["partial"])
            self.assertEqual((rep["campaign"]["jobs"], rep["campaign"]["engine"]), (2, "libfuzzer"))
            self.assertGreater(rep["executions"], 0)
            self.assertGreaterEqual(len(rep["samples"]), 4)  # one a second
            crashes = len([p for p in (out / "crashes").glob("crash-*") if p.suffix != ".json"])
            self.assertEqual(rep["crash_files"], crashes)
            self.assertGreater(crashes, 0)
            triage = json.loads((out / "triage.json").read_text()) if (out / "triage.json").exists() else None
            dom = chromium_dom(out / "report.html", tmp)
            assert_plots_rendered(self, dom)
            if triage is None:
                self.assertEqual(len(rep["crash_marks"]), crashes)
                self.assertEqual(dom.rows, [])
            else:
                keys = [f["key"] for f in triage["findings"]]
                self.assertEqual([r["attrs"].get("data-key") for r in dom.rows], keys)
                self.assertGreater(len(keys), 0)
                for f in rep["findings"]:
                    if f["source"] == "engine":
                        self.assertTrue((out / f["explain_html"]).is_file(), f)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
