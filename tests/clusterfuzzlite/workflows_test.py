#!/usr/bin/env python3
"""workflows_test.py: the ClusterFuzzLite GitHub Actions workflows are sound.

.github/workflows/cflite_pr.yml and cflite_batch.yml must parse as YAML and
be what ClusterFuzzLite's actions need: triggered by pull requests (PR) and by
a cron schedule (batch); each job builds with
google/clusterfuzzlite/actions/build_fuzzers@v1 and runs
google/clusterfuzzlite/actions/run_fuzzers@v1 in mode code-change (PR) or
batch, over a sanitizer matrix equal to .clusterfuzzlite/project.yaml's
sanitizers, with project.yaml's language; the build integration the actions
read (.clusterfuzzlite/Dockerfile, build.sh, project.yaml) exists; and every
repository path a workflow names exists.
Exit 0 when all hold, 1 otherwise (each failure printed).
"""
import re
import sys
from pathlib import Path

try:
    import yaml
except ImportError:
    sys.exit("workflows_test: python3-yaml is missing (scripts/setup installs it)")

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = {"cflite_pr.yml": "code-change", "cflite_batch.yml": "batch"}
BUILD = "google/clusterfuzzlite/actions/build_fuzzers@v1"
RUN = "google/clusterfuzzlite/actions/run_fuzzers@v1"

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def main():
    cfl = ROOT / ".clusterfuzzlite"
    for f in ("Dockerfile", "build.sh", "project.yaml"):
        if not (cfl / f).is_file():
            fail(f".clusterfuzzlite/{f} is missing")
    project = yaml.safe_load((cfl / "project.yaml").read_text())
    sanitizers = project.get("sanitizers")
    language = project.get("language")

    for name, mode in WORKFLOWS.items():
        path = ROOT / ".github" / "workflows" / name
        before = len(failures)
        if not path.is_file():
            fail(f"{path.relative_to(ROOT)} is missing")
            continue
        text = path.read_text()
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            fail(f"{name}: not YAML: {e}")
            continue
        # YAML 1.1 (PyYAML) reads the key `on` as True.
        on = doc.get("on", doc.get(True))
        if mode == "code-change" and not (isinstance(on, dict) and "pull_request" in on):
            fail(f"{name}: not triggered by pull_request")
        if mode == "batch":
            crons = [c.get("cron", "") for c in (on or {}).get("schedule", [])] if isinstance(on, dict) else []
            if not crons or any(len(c.split()) != 5 for c in crons):
                fail(f"{name}: no cron schedule of five fields: {crons}")
        jobs = doc.get("jobs") or {}
        if not jobs:
            fail(f"{name}: no jobs")
        for job_name, job in jobs.items():
            matrix = ((job.get("strategy") or {}).get("matrix") or {}).get("sanitizer")
            if matrix != sanitizers:
                fail(f"{name}: job {job_name}: sanitizer matrix {matrix} is not project.yaml's {sanitizers}")
            steps = job.get("steps") or []
            uses = [s.get("uses") for s in steps]
            if uses != [BUILD, RUN]:
                fail(f"{name}: job {job_name}: steps use {uses}, expected [{BUILD}, {RUN}]")
                continue
            build, run = steps[0].get("with") or {}, steps[1].get("with") or {}
            if build.get("language") != language:
                fail(f"{name}: build language {build.get('language')} is not project.yaml's {language}")
            if run.get("mode") != mode:
                fail(f"{name}: run_fuzzers mode {run.get('mode')!r}, expected {mode!r}")
            for step in (build, run):
                if step.get("sanitizer") != "${{ matrix.sanitizer }}":
                    fail(f"{name}: a step does not take the matrix's sanitizer")
            if not isinstance(run.get("fuzz-seconds"), int) or run["fuzz-seconds"] <= 0:
                fail(f"{name}: fuzz-seconds is not a positive number")
        # Repository paths named in the file (comments included).
        for p in sorted(set(re.findall(r"(?<![\w./-])((?:\.clusterfuzzlite|\.github|docs|fuzz|corpus|scripts)/[\w./-]*\w)",
                                       text))):
            if not (ROOT / p).exists():
                fail(f"{name}: names {p}, which does not exist")
        if len(failures) == before:
            print(f"ok: {name}: mode {mode}, sanitizers {sanitizers}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
