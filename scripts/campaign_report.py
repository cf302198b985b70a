#!/usr/bin/python3
"""scripts/campaign_report.py: a campaign's report.json and report.html.

Reads fuzz-out/OUTDIR/stats.jsonl (the samples scripts/campaign_status.py
records) and fuzz-out/OUTDIR/triage.json (the findings; may be absent or
empty) and writes, each atomically (temp file + rename):
  report.json           the campaign, its counters, the samples and every unique finding
  report.html           the same as a page, with the plots and a findings table
  report-plots/*.png    exec/s, coverage, features and corpus size over time (matplotlib),
                        the findings as marks at the time their first crash file was written
  findings/KEY.html     each finding's `vmafuzz explain --html` page, when missing (needs --cli)
docs/FUZZING.md, "The campaign report", documents report.json.

Runs under Debian's python3 (/usr/bin/python3) with Debian's python3-matplotlib
(scripts/setup installs it).
"""

import argparse
import html
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from campaign_status import crash_files  # noqa: E402  (one definition of what a crash file is)

SCHEMA = 1
PLOTS_DIR = "report-plots"
# name -> (sample field, title, y label)
PLOTS = {
    "exec_per_sec": ("exec_per_sec", "Executions per second", "exec/s"),
    "coverage": ("cov", "Coverage", "PCs"),
    "features": ("ft", "Features", "features"),
    "corpus": ("corpus", "Corpus size", "inputs"),
}
EXPLAIN_TIMEOUT = 60


def write_atomic(path: Path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_jsonl(path: Path) -> list[dict]:
    """stats.jsonl's records; a line cut short by a kill is skipped."""
    out = []
    try:
        for line in path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    except FileNotFoundError:
        pass
    return out


def read_triage(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def latest_run(records: list[dict]) -> tuple[dict, list[dict]]:
    """The last campaign in stats.jsonl (its start record) and its samples, in time order."""
    starts = [r for r in records if r.get("event") == "start"]
    if not starts:
        return {}, []
    start = starts[-1]
    samples = [r for r in records if r.get("event") in ("sample", "end") and r.get("run") == start.get("run")]
    return start, sorted(samples, key=lambda r: r.get("t", 0))


def last_value(samples: list[dict], name: str):
    for s in reversed(samples):
        if s.get(name) is not None:
            return s[name]
    return None


def found_at(out: Path, finding: dict, run_start: float | None, run_end: float) -> float | None:
    """Seconds into this campaign when the finding's first crash file was written; None if before it."""
    times = []
    for rel in finding.get("crash_files") or []:
        try:
            times.append((out / rel).stat().st_mtime)
        except OSError:
            pass
    t = min(times) if times else finding.get("first_seen")
    if run_start is None or t is None or not (run_start - 1 <= t <= run_end + 1):
        return None
    return max(0.0, t - run_start)


def explain_page(out: Path, finding: dict, cli: str | None, inject: list[str]) -> str | None:
    """findings/KEY.html, made with `vmafuzz explain --html` if it is missing; None if there is none."""
    key = finding.get("key")
    if not key:
        return None
    rel = finding.get("explain_html") or f"findings/{key}.html"
    page = out / rel
    if page.is_file():
        return rel
    # A ThreadSanitizer finding's data race shows only in the tsan build: the
    # campaign's vmafuzz would explain a passing run.
    if not cli or finding.get("source") == "tsan-replay":
        return None
    inputs = [finding.get(k) for k in ("minimized_sched", "minimized")] + list(finding.get("crash_files") or [])
    src = next((out / p for p in inputs if p and (out / p).is_file()), None)
    if src is None and finding.get("seed") and Path(finding["seed"]).is_file():
        src = Path(finding["seed"])
    if src is None:
        return None
    tmp = page.with_name("." + page.name + f".{os.getpid()}.tmp")
    page.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, VMAFUZZ_INJECT=",".join(inject))
    try:
        rc = subprocess.run([cli, "explain", str(src), "--html", str(tmp)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=EXPLAIN_TIMEOUT, check=False).returncode
    except (OSError, subprocess.TimeoutExpired):
        rc = -1
    # 0: the run passed, 1: it ended with the finding; both print the page.
    if rc in (0, 1) and tmp.is_file() and tmp.stat().st_size > 0:
        os.replace(tmp, page)
        return rel
    tmp.unlink(missing_ok=True)
    return None


def build_report(out: Path, cli: str | None, partial: bool) -> dict:
    records = read_jsonl(out / "stats.jsonl")
    start, samples = latest_run(records)
    triage = read_triage(out / "triage.json")
    tc = (triage or {}).get("campaign") or {}
    now = time.time()
    run_start = start.get("run") or tc.get("started")
    ended = None if partial else (samples[-1]["t"] if samples else tc.get("ended") or now)
    last_t = samples[-1]["t"] if samples else now
    inject = start.get("inject", tc.get("inject", []))
    campaign = {
        "target": start.get("target", tc.get("target")),
        "engine": start.get("engine", tc.get("engine")),
        "inject": inject,
        "jobs": start.get("jobs", tc.get("jobs")),
        "time_limit": start.get("time_limit", tc.get("time_limit")),
        "runs": start.get("runs"),
        "seed_dirs": tc.get("seed_dirs", []),
        "started": run_start,
        "ended": ended,
        "elapsed": None if run_start is None else round(last_t - run_start, 3),
        "logs": start.get("logs", []),
    }
    findings = []
    for f in (triage or {}).get("findings") or []:
        item = {k: f.get(k) for k in ("key", "signature", "oracle", "source", "status", "seed", "crash_files",
                                      "report", "minimized", "minimized_sched", "replay", "first_seen")}
        item["crash_files"] = item["crash_files"] or []
        item["explain_html"] = explain_page(out, f, cli, inject)
        item["found_at"] = found_at(out, f, run_start, last_t)
        findings.append(item)
    # Without triage (yet): this campaign's crash files are the marks.
    crash_marks = []
    if not findings and run_start is not None:
        for p in crash_files(out):
            t = p.stat().st_mtime
            if run_start - 1 <= t <= last_t + 1:
                crash_marks.append(round(max(0.0, t - run_start), 3))
    rate = last_value(samples, "exec_per_sec")
    return {
        "schema": SCHEMA,
        "generated": round(now, 3),
        "partial": partial,
        "campaign": campaign,
        "executions": last_value(samples, "execs"),
        "exec_per_sec": rate,
        "corpus": last_value(samples, "corpus"),
        "coverage": last_value(samples, "cov"),
        "features": last_value(samples, "ft"),
        "crash_files": len(crash_files(out)),
        "new_crash_files": last_value(samples, "findings") or 0,
        "triage": "triage.json" if triage is not None else None,
        "samples": [{k: s.get(k) for k in ("elapsed", "t", "execs", "exec_per_sec", "corpus", "cov", "ft", "findings")}
                    for s in samples],
        "crash_marks": sorted(crash_marks),
        "findings": findings,
        "plots": {},
    }


def write_plots(out: Path, report: dict) -> dict[str, str]:
    """One PNG per counter over the campaign's time; the findings as dashed vertical marks."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = report["samples"]
    xs_all = [s["elapsed"] for s in samples]
    minutes = bool(xs_all) and xs_all[-1] > 600
    scale = 60.0 if minutes else 1.0
    marks = [(i + 1, f["found_at"]) for i, f in enumerate(report["findings"]) if f["found_at"] is not None]
    marks += [(None, t) for t in report["crash_marks"]]
    written = {}
    for name, (fld, title, ylabel) in PLOTS.items():
        pts = [(s["elapsed"] / scale, s[fld]) for s in samples if s.get(fld) is not None and s.get("elapsed") is not None]
        fig, ax = plt.subplots(figsize=(6.4, 3.0), dpi=100)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="." if len(pts) < 40 else None,
                    color="#1f77b4", linewidth=1.5)
        else:
            ax.text(0.5, 0.5, "no data (the engine did not report it)", ha="center", va="center",
                    transform=ax.transAxes, color="#888")
        for label, t in marks:
            ax.axvline(t / scale, color="#d62728", linestyle="--", linewidth=1)
            if label is not None:
                ax.annotate(f"[{label}]", (t / scale, 1.0), xycoords=("data", "axes fraction"),
                            color="#d62728", fontsize=8, ha="left", va="top")
        ax.set_title(title)
        ax.set_xlabel("minutes" if minutes else "seconds")
        afl = report["campaign"].get("engine") == "afl"
        ax.set_ylabel("map entries (edges and interleaving features)" if afl and fld == "cov" else ylabel, fontsize=8)
        ax.set_xlim(left=0)
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        rel = f"{PLOTS_DIR}/{name}.png"
        tmp = out / PLOTS_DIR / f".{name}.{os.getpid()}.tmp"
        tmp.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(tmp, format="png")
        plt.close(fig)
        os.replace(tmp, out / rel)
        written[name] = rel
    return written


def fmt(v, unit="") -> str:
    if v is None:
        return "?"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.1f}{unit}"
    return f"{int(v):,}{unit}"


def render_html(report: dict) -> str:
    e = html.escape
    c = report["campaign"]
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(c["started"])) if c.get("started") else "?"
    limit = f"{c['runs']:,} runs" if c.get("runs") else (f"{c['time_limit']} s" if c.get("time_limit") else "?")
    state = "running (this page is rewritten every minute)" if report["partial"] else "finished"
    rows = [("target", c.get("target")), ("engine", f"{c.get('engine')}, {c.get('jobs')} job(s)"),
            ("model", ("with injected bug(s): " + ",".join(c["inject"])) if c.get("inject") else "correct (no injected bug)"),
            ("started", started), ("elapsed", f"{fmt(c.get('elapsed'))} s of {limit}; {state}"),
            ("executions", f"{fmt(report['executions'])} ({fmt(report['exec_per_sec'], '/s')})"),
            ("corpus", fmt(report["corpus"])), ("coverage", fmt(report["coverage"])),
            ("features", fmt(report["features"])),
            ("crash files", f"{report['crash_files']} ({report['new_crash_files']} new in this campaign)"),
            ("findings", f"{len(report['findings'])} unique" if report["triage"]
             else "not triaged yet (no triage.json)")]
    if c.get("seed_dirs"):
        rows.insert(3, ("seeds", ", ".join(c["seed_dirs"])))
    summary = "\n".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in rows)
    plots = "\n".join(
        f'<figure><img class="plot" id="plot-{e(n)}" src="{e(p)}" alt="{e(PLOTS[n][1])} over time"></figure>'
        for n, p in report["plots"].items())
    if not plots:
        plots = '<p class="missing">No plots: matplotlib is missing (scripts/setup installs python3-matplotlib).</p>'
    frows = []
    for i, f in enumerate(report["findings"], 1):
        files = [f"<a href=\"{e(p)}\">{e(p)}</a>" for p in f["crash_files"][:3]]
        if len(f["crash_files"]) > 3:
            files.append(f"and {len(f['crash_files']) - 3} more")
        for label, k in (("minimized", "minimized_sched"), ("report", "report")):
            if f.get(k):
                files.append(f'{label}: <a href="{e(f[k])}">{e(f[k])}</a>')
        if f.get("seed"):
            files.append(f"reproduced by seed {e(f['seed'])} (regression input)")
        explain = f'<a class="explain" href="{e(f["explain_html"])}">explain</a>' if f["explain_html"] else "-"
        at = f"{fmt(f['found_at'])} s" if f["found_at"] is not None else "earlier campaign"
        frows.append(
            f'<tr class="finding status-{e(str(f.get("status")))}" data-key="{e(str(f.get("key")))}">'
            f"<td>[{i}]</td><td>{e(str(f.get('status')))}</td><td><code>{e(str(f.get('signature')))}</code></td>"
            f"<td>{e(str(f.get('oracle') or f.get('source') or ''))}</td><td>{at}</td>"
            f"<td>{'<br>'.join(files)}</td><td><code>{e(str(f.get('replay') or ''))}</code></td><td>{explain}</td></tr>")
    if not frows:
        frows.append('<tr class="none"><td colspan="8">' +
                     ("no findings" if report["triage"] else "not triaged yet: no triage.json") + "</td></tr>")
    refresh = '<meta http-equiv="refresh" content="60">' if report["partial"] else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">{refresh}
<title>vmafuzz campaign: {e(str(c.get('target')))}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ text-align: left; vertical-align: top; padding: 0.2em 0.6em; border-bottom: 1px solid #ddd; }}
#plots {{ display: flex; flex-wrap: wrap; gap: 0.5em; }}
figure {{ margin: 0; }}
code {{ font-size: 0.9em; word-break: break-all; }}
#findings td:nth-child(3), #findings td:nth-child(7) {{ max-width: 28em; }}
.missing {{ color: #b00; }}
tr.status-new td:nth-child(2) {{ color: #b00; font-weight: bold; }}
</style></head>
<body>
<h1>Campaign {e(str(c.get('target')))}</h1>
<table id="summary">
{summary}
</table>
<h2>Over time</h2>
<p>Dashed red lines: findings ([N] as in the table), at the time their first crash file was written.</p>
<div id="plots">
{plots}
</div>
<h2>Findings</h2>
<table id="findings">
<tr><th>#</th><th>status</th><th>signature</th><th>oracle</th><th>found at</th><th>files</th><th>replay</th><th>explain</th></tr>
{chr(10).join(frows)}
</table>
<script>
// A plot that did not load says so on the page (and records its size for tests).
window.addEventListener("load", () => {{
  for (const img of document.querySelectorAll("img.plot")) {{
    img.dataset.naturalWidth = img.naturalWidth;
    img.dataset.naturalHeight = img.naturalHeight;
    if (!img.complete || img.naturalWidth === 0) {{
      img.classList.add("missing");
      img.insertAdjacentHTML("afterend", '<p class="missing">plot missing: ' + img.getAttribute("src") + "</p>");
    }}
  }}
  document.body.dataset.rendered = "1";
}});
</script>
</body></html>
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="campaign_report.py",
        description="Writes OUT/report.json, OUT/report.html and OUT/report-plots/*.png from OUT/stats.jsonl "
                    "and OUT/triage.json (either may be missing), and each finding's explain page "
                    "OUT/findings/KEY.html when missing.",
        epilog="Exit codes: 0 written; 1 written without plots (matplotlib missing) or an I/O error; "
               "64 bad command line.")
    p.add_argument("--out", required=True, help="the campaign's directory, fuzz-out/OUTDIR")
    p.add_argument("--cli", default=None, help="the vmafuzz program, for the explain pages (none: only existing ones)")
    p.add_argument("--partial", action="store_true", help="the campaign is still running")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = p.parse_args(argv)
    out = Path(args.out)
    if not out.is_dir():
        print(f"campaign_report.py: no directory {out}", file=sys.stderr)
        return 64
    report = build_report(out, args.cli, args.partial)
    rc = 0
    try:
        report["plots"] = write_plots(out, report)
    except ImportError as err:
        print(f"campaign_report.py: no plots: {err} (scripts/setup installs python3-matplotlib for "
              f"/usr/bin/python3; this is {sys.executable})", file=sys.stderr)
        rc = 1
    try:
        write_atomic(out / "report.json", (json.dumps(report, indent=2) + "\n").encode())
        write_atomic(out / "report.html", render_html(report).encode())
    except OSError as err:
        print(f"campaign_report.py: {err}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"report: {out / 'report.html'} ({len(report['findings'])} finding(s), {len(report['samples'])} samples)")
    return rc


if __name__ == "__main__":
    sys.exit(main())
