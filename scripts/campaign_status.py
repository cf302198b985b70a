#!/usr/bin/python3
"""scripts/campaign_status.py: the live status line of a scripts/fuzz campaign.

scripts/fuzz starts it in the background beside the engine (whose own output
goes to the log only) and stops it with SIGTERM when the engine ends. It reads
the engine's statistics (libFuzzer's log lines, the afl-fuzz instances'
fuzzer_stats and plot_data), prints one status line, appends a sample to
OUT/stats.jsonl and, during long campaigns, rewrites OUT/report.json and
OUT/report.html through scripts/campaign_report.py. docs/FUZZING.md, "Watching
a campaign", describes the line and the samples.

Python standard library only: this runs wherever scripts/fuzz runs.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

# libFuzzer, one process: "#30544	REDUCE cov: 1899 ft: 10887 corp: 1107/81Kb lim: 4096 exec/s: 5090 rss: ..."
SINGLE_RE = re.compile(
    r"^#(\d+)\s+(?:INITED|NEW|REDUCE|pulse|DONE|RELOAD)\s+cov: (\d+) ft: (\d+) corp: (\d+)/\S+.*?exec/s: (\d+)")
# libFuzzer -fork parent: "#4640: cov: 7096 ft: 8040 corp: 197 exec/s 3737 oom/timeout/crash: 0/0/2 time: 2s job: 2 ..."
FORK_RE = re.compile(r"^#(\d+): cov: (\d+) ft: (\d+) corp: (\d+) exec/s:? (\d+).*? time: (\d+)s")
# -print_final_stats=1 at the end (also after ^C, which prints no DONE line).
FINAL_RE = re.compile(r"^stat::(number_of_executed_units|average_exec_per_sec): *(\d+)")
# Files in a crash directory that are not crash files.
NOT_CRASH = re.compile(r"^(\..*|README\.txt|.*\.json)$")


@dataclass
class Stats:
    """One reading of the engine's counters; None where the engine says nothing (yet)."""
    execs: int | None = None
    exec_per_sec: float | None = None
    corpus: int | None = None
    cov: int | None = None
    ft: int | None = None
    engine_time: int | None = None  # seconds, as the engine counts them (-fork, AFL++)


@dataclass
class LogTail:
    """Reads a growing log from where it stopped last time; keeps the last status line's numbers."""
    path: Path
    offset: int = 0
    partial: str = ""
    stats: Stats = field(default_factory=Stats)

    def poll(self) -> Stats:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return self.stats
        self.offset += len(chunk)
        text = self.partial + chunk.decode("utf-8", "replace")
        lines = text.split("\n")
        self.partial = lines.pop()  # an unfinished line waits for its end
        for line in lines:
            parse_libfuzzer_line(line, self.stats)
        return self.stats


def parse_libfuzzer_line(line: str, stats: Stats) -> bool:
    """Updates stats from one libFuzzer status line (one process or -fork parent); True if it was one."""
    m = SINGLE_RE.match(line)
    if m:
        stats.execs, stats.cov, stats.ft, stats.corpus = (int(m[i]) for i in (1, 2, 3, 4))
        stats.exec_per_sec = float(m[5])
        return True
    m = FORK_RE.match(line)
    if m:
        stats.execs, stats.cov, stats.ft, stats.corpus = (int(m[i]) for i in (1, 2, 3, 4))
        stats.engine_time = int(m[6])
        # The parent's exec/s is the last job's; the campaign's rate is executions over time.
        stats.exec_per_sec = stats.execs / stats.engine_time if stats.engine_time > 0 else float(m[5])
        return True
    m = FINAL_RE.match(line)
    if m and stats.engine_time is None:  # a -fork job's own totals are not the campaign's
        if m[1] == "number_of_executed_units":
            stats.execs = int(m[2])
        else:
            stats.exec_per_sec = float(m[2])
        return True
    return False


def parse_libfuzzer_log(text: str) -> Stats:
    stats = Stats()
    for line in text.splitlines():
        parse_libfuzzer_line(line, stats)
    return stats


def read_key_values(path: Path) -> dict[str, str]:
    """afl-fuzz's fuzzer_stats: "key   : value" lines."""
    out = {}
    try:
        for line in path.read_text(errors="replace").splitlines():
            key, sep, value = line.partition(":")
            if sep:
                out[key.strip()] = value.strip()
    except FileNotFoundError:
        pass
    return out


def last_plot_row(path: Path) -> dict[str, str]:
    """The last row of afl-fuzz's plot_data, by the names of its header ("# relative_time, ...")."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return {}
    if not lines or not lines[0].startswith("#"):
        return {}
    names = [n.strip() for n in lines[0].lstrip("#").split(",")]
    rows = [l for l in lines[1:] if l.strip() and not l.startswith("#")]
    if not rows:
        return {}
    values = [v.strip() for v in rows[-1].split(",")]
    return dict(zip(names, values)) if len(values) == len(names) else {}


def number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.rstrip("%"))
    except ValueError:
        return None


def afl_instance_stats(inst: Path) -> Stats:
    """One afl-fuzz instance: fuzzer_stats, or plot_data when it is newer (written more often)."""
    st = read_key_values(inst / "fuzzer_stats")
    row = last_plot_row(inst / "plot_data")
    s = Stats()
    s.execs = int(number(st.get("execs_done")) or 0) if st else None
    s.exec_per_sec = number(st.get("execs_per_sec"))
    s.corpus = int(number(st.get("corpus_count")) or 0) if st else None
    s.cov = int(number(st.get("edges_found")) or 0) if st else None
    s.engine_time = int(number(st.get("run_time")) or 0) if st else None
    plot_execs = number(row.get("total_execs"))
    if plot_execs is not None and (s.execs is None or plot_execs > s.execs):
        s.execs = int(plot_execs)
        s.exec_per_sec = number(row.get("execs_per_sec"))
        s.corpus = int(number(row.get("corpus_count")) or 0)
        s.cov = int(number(row.get("edges_found")) or 0)
        t = number(row.get("relative_time"))
        s.engine_time = int(t) if t is not None else s.engine_time
    # The queue is current even when afl-fuzz has not rewritten its statistics for a while.
    queue = inst / "queue"
    if queue.is_dir():
        s.corpus = max(s.corpus or 0, sum(1 for p in queue.iterdir() if p.name.startswith("id:")))
    return s


def afl_stats(afl_dir: Path) -> Stats:
    """All afl-fuzz instances: executions and rates add up; corpus and coverage are
    shared through the sync, so the largest instance's count stands for the campaign.
    AFL++'s map holds code edges and interleaving features together: no separate ft."""
    total = Stats()
    for inst in sorted(p for p in afl_dir.glob("*") if p.is_dir()):
        s = afl_instance_stats(inst)
        if s.execs is None:
            continue
        total.execs = (total.execs or 0) + s.execs
        total.exec_per_sec = (total.exec_per_sec or 0.0) + (s.exec_per_sec or 0.0)
        total.corpus = max(total.corpus or 0, s.corpus or 0)
        total.cov = max(total.cov or 0, s.cov or 0)
        total.engine_time = max(total.engine_time or 0, s.engine_time or 0)
    return total


def sum_logs(parts: list[Stats]) -> Stats:
    """Several libFuzzer logs (one per process): executions and rates add up, the rest is the largest."""
    total = Stats()
    for s in parts:
        if s.execs is None:
            continue
        total.execs = (total.execs or 0) + s.execs
        total.exec_per_sec = (total.exec_per_sec or 0.0) + (s.exec_per_sec or 0.0)
        for name in ("corpus", "cov", "ft", "engine_time"):
            v = getattr(s, name)
            if v is not None:
                setattr(total, name, max(getattr(total, name) or 0, v))
    return total


def crash_files(out: Path) -> list[Path]:
    """libFuzzer's crashes/ and every afl-fuzz instance's crashes/ (not sidecars, not README.txt)."""
    found = []
    for d in [out / "crashes", *sorted(out.glob("afl/*/crashes"))]:
        if d.is_dir():
            found += [p for p in d.iterdir() if p.is_file() and not NOT_CRASH.match(p.name)]
    return found


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def count(n: float | None, unit: str = "") -> str:
    return "?" if n is None else f"{int(n):,}{unit}"


def status_line(elapsed: float, limit: str, stats: Stats, findings: int, jobs: int) -> str:
    """The one line: elapsed / limit, executions and rate, corpus, coverage and features, findings."""
    parts = [f"fuzz: {clock(elapsed)} / {limit}",
             f"execs {count(stats.execs)} ({count(stats.exec_per_sec, '/s')})",
             f"corpus {count(stats.corpus)}",
             f"cov {count(stats.cov)}" + ("" if stats.ft is None else f" ft {count(stats.ft)}"),
             f"findings {findings} crash file{'' if findings == 1 else 's'}"]
    if jobs > 1:
        parts.append(f"{jobs} jobs")
    return "  ".join(parts)


class Display:
    """A terminal gets one line rewritten in place; anything else a plain line every `every` seconds."""

    def __init__(self, stream, tty: bool, every: float):
        self.stream, self.tty, self.every = stream, tty, every
        self.last_plain = None
        self.shown = False

    def show(self, line: str, now: float, final: bool = False):
        if self.tty:
            width = shutil.get_terminal_size((100, 24)).columns
            # Longer than the terminal would wrap, and \r would rewrite only the last row.
            self.stream.write("\r" + line[: max(width - 1, 20)] + "\x1b[K" + ("\n" if final else ""))
            self.shown = not final
        elif final or self.last_plain is None or now - self.last_plain >= self.every:
            self.stream.write(line + "\n")
            self.last_plain = now
        self.stream.flush()


def append_jsonl(path: Path, record: dict):
    # One write of one line: a reader sees whole lines (at most the last one cut by a kill).
    with open(path, "a") as f:
        f.write(json.dumps(record, separators=(",", ":")) + "\n")


class Campaign:
    def __init__(self, args):
        self.args = args
        self.out = Path(args.out)
        self.tails = [LogTail(Path(p)) for p in args.log]
        self.start = time.time()
        self.crash_before = {p.name for p in crash_files(self.out)}
        self.stats_path = self.out / "stats.jsonl"
        self.last_sample = None
        self.last_report = self.start
        self.report_proc = None

    def read(self) -> tuple[Stats, int, int]:
        if self.args.engine == "afl":
            stats = afl_stats(self.out / "afl")
        else:
            stats = sum_logs([t.poll() for t in self.tails])
        files = crash_files(self.out)
        new = sum(1 for p in files if p.name not in self.crash_before)
        return stats, new, len(files)

    def sample(self, now: float, stats: Stats, new: int, total: int, event: str = "sample"):
        append_jsonl(self.stats_path, {
            "event": event, "run": self.start, "t": round(now, 3), "elapsed": round(now - self.start, 3),
            "execs": stats.execs, "exec_per_sec": None if stats.exec_per_sec is None else round(stats.exec_per_sec, 1),
            "corpus": stats.corpus, "cov": stats.cov, "ft": stats.ft,
            "findings": new, "crash_files": total})
        self.last_sample = now

    def start_record(self):
        a = self.args
        append_jsonl(self.stats_path, {
            "event": "start", "run": self.start, "t": round(self.start, 3), "target": a.target,
            "engine": a.engine, "inject": [n for n in a.inject.split(",") if n], "jobs": a.jobs,
            "time_limit": a.time_limit, "runs": a.runs,
            "logs": [os.path.relpath(p, self.out) for p in a.log]})

    def report(self):
        """Rewrites the report in the background (plots take a second or two), one at a time."""
        if self.report_proc is not None and self.report_proc.poll() is None:
            return
        cmd = [str(HERE / "campaign_report.py"), "--out", str(self.out), "--quiet", "--partial"]
        if self.args.cli:
            cmd += ["--cli", self.args.cli]
        # A report that fails must not stop the status line; the end-of-campaign report says why.
        self.report_proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait_report(self):
        # scripts/fuzz writes the final report after we exit: no partial one may land after it.
        if self.report_proc is not None:
            self.report_proc.wait()


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="campaign_status.py",
        description="Shows a running scripts/fuzz campaign's status line and records its statistics "
                    "(OUT/stats.jsonl). Runs until SIGTERM or SIGINT, or until --pid exits; then it "
                    "prints the last line and a final sample.",
        epilog="Exit codes: 0 stopped normally; 64 bad command line.")
    p.add_argument("--out", required=True, help="the campaign's directory, fuzz-out/OUTDIR")
    p.add_argument("--engine", required=True, choices=["libfuzzer", "tsan-libfuzzer", "afl"])
    p.add_argument("--log", action="append", default=[],
                   help="a libFuzzer log to follow (repeatable; their executions add up)")
    p.add_argument("--target", default="fuzz_vma_lock")
    p.add_argument("--inject", default="", help="the injected bugs, NAME[,NAME...] (recorded only)")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--time-limit", type=int, default=None, help="the campaign's --time, seconds")
    p.add_argument("--runs", type=int, default=None, help="the campaign's --runs instead")
    p.add_argument("--mode", choices=["auto", "tty", "plain", "off"], default="auto",
                   help="tty: one line rewritten in place; plain: a line every --interval seconds; "
                        "off: only the samples; auto (default): tty when stdout is a terminal")
    p.add_argument("--interval", type=float, default=10.0,
                   help="seconds between plain lines (default 10)")
    p.add_argument("--sample-every", type=float, default=5.0,
                   help="seconds between samples in stats.jsonl after the first two minutes, which "
                        "get one a second (short campaigns still get a curve; default 5)")
    p.add_argument("--report-every", type=float, default=60.0,
                   help="rewrite report.json/report.html this often, seconds (default 60; 0: never)")
    p.add_argument("--cli", default=None, help="the vmafuzz program, for the report's explain pages")
    p.add_argument("--pid", type=int, default=None, help="also stop when this process has exited")
    return p.parse_args(argv)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.engine != "afl" and not args.log:
        print("campaign_status.py: libFuzzer engines need --log", file=sys.stderr)
        return 64
    Path(args.out).mkdir(parents=True, exist_ok=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    # ^C is the engine's to handle (scripts/fuzz then stops us): keep the line until then.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    mode = args.mode
    if mode == "auto":
        mode = "tty" if sys.stdout.isatty() else "plain"
    display = Display(sys.stdout, mode == "tty", args.interval) if mode != "off" else None
    limit = f"{args.runs:,} runs" if args.runs else (clock(args.time_limit) if args.time_limit else "?")

    c = Campaign(args)
    c.start_record()
    tick = min(0.5 if mode == "tty" else 1.0, args.interval, args.sample_every)
    while True:
        now = time.time()
        final = bool(stop) or (args.pid is not None and not alive(args.pid))
        stats, new, total = c.read()
        if display:
            display.show(status_line(now - c.start, limit, stats, new, args.jobs), now, final)
        if final:
            c.sample(now, stats, new, total, event="end")
            c.wait_report()
            break
        every = 1.0 if now - c.start < 120 else args.sample_every
        if c.last_sample is None or now - c.last_sample >= min(every, args.sample_every):
            c.sample(now, stats, new, total)
        if args.report_every > 0 and now - c.last_report >= args.report_every:
            c.report()
            c.last_report = now
        # SIGTERM interrupts the sleep (PEP 475 resumes it; a short tick keeps the end prompt).
        time.sleep(tick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
