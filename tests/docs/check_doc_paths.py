#!/usr/bin/env python3
"""tests/docs/check_doc_paths.py: the docs point only at files that exist.

Which files: README.md, every docs/*.md and every other README.md in the
repository (e.g. repro/README.md).

Which text is a path (the rule):
  - the whole of an inline code span (`...`, outside fenced ``` blocks), or
    the target of a Markdown link [text](target) that is not a URL or an
    #anchor (a link is resolved from the directory of the file it is in);
  - made only of letters, digits and . _ - / (so `fuzz/fuzz_*.cpp`,
    `build/<preset>/` and command lines with spaces are not paths);
  - containing a '/', and either ending in '/' (a directory) or with an
    extension on its last component (`core/vma.h`, `bench/run_bug_bench.py`);
  - whose first component is a top-level entry of the repository
    (core/, fuzz/, docs/, README.md, .clusterfuzzlite/, ...): that is what
    keeps the kernel's `mm/mmap_lock.c` and `include/linux/mmap_lock.h` out.
    A path starting with ../ leaves the repository and is always an error.
  Excluded: paths under build/ or fuzz-out/ (build and fuzzing outputs, made
  by running things).
  A last component whose name (before the extension) is a placeholder word
  in capitals - NAME, BUG, FILE, TARGET, PRESET - stands for any file: then
  only its directory must exist (`corpus/sched/NAME.sched` needs corpus/sched/).

Planned files: a doc may list paths that do not exist yet between the lines
  <!-- BEGIN pending paths -->
  <!-- END pending paths -->
(one `path` per list item). Such a path may be missing, in that doc only;
once it exists the check fails until it is taken off the list, so the list
stays the set of names still to check.

Usage: tests/docs/check_doc_paths.py [ROOT]   (default: this repository)
Exit 0 when every path exists, 1 otherwise (each missing path is named with
its file and line). ctest: docs_name_only_existing_paths.
"""

import re
import sys
from pathlib import Path

ROOT = (Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]).resolve()
EXCLUDED_TOP = {"build", "fuzz-out", ".git"}
PLACEHOLDERS = {"NAME", "BUG", "FILE", "TARGET", "PRESET"}
PATH_CHARS = re.compile(r"^[A-Za-z0-9_.\-/]+$")
CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def docs():
    files = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
    files += sorted(p for p in ROOT.rglob("README.md")
                    if p != ROOT / "README.md" and not (set(p.relative_to(ROOT).parts) & EXCLUDED_TOP))
    return [f for f in files if f.exists()]


def top_level():
    return {p.name for p in ROOT.iterdir()} - EXCLUDED_TOP


def looks_like_path(text):
    if not PATH_CHARS.match(text) or "/" not in text:
        return False
    last = text.rstrip("/").rsplit("/", 1)[-1]
    return text.endswith("/") or re.search(r"\.[A-Za-z0-9]+$", last) is not None


def pending_paths(lines):
    out, inside = set(), False
    for line in lines:
        if line.strip() == "<!-- BEGIN pending paths -->":
            inside = True
        elif line.strip() == "<!-- END pending paths -->":
            inside = False
        elif inside:
            out.update(CODE_SPAN.findall(line))
    return out


def main():
    tops = top_level()
    problems, checked = [], 0
    for doc in docs():
        rel_doc = doc.relative_to(ROOT)
        lines = doc.read_text().splitlines()
        pending = pending_paths(lines)
        fenced = False
        for n, line in enumerate(lines, 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            if fenced:
                continue
            candidates = [(c, ROOT) for c in CODE_SPAN.findall(line)]
            candidates += [(t.split("#")[0], doc.parent) for t in LINK.findall(line)
                           if "://" not in t and not t.startswith(("#", "mailto:"))]
            for text, base in candidates:
                text = text.strip()
                if not text:
                    continue
                if text.startswith("../") and base == ROOT:
                    problems.append(f"{rel_doc}:{n}: `{text}` points outside the repository")
                    continue
                if not looks_like_path(text) and base == ROOT:
                    continue
                target = (base / text).resolve()
                try:
                    rel = target.relative_to(ROOT)
                except ValueError:
                    problems.append(f"{rel_doc}:{n}: `{text}` points outside the repository")
                    continue
                if not rel.parts or rel.parts[0] in EXCLUDED_TOP:
                    continue
                if base == ROOT and rel.parts[0] not in tops and not (text in pending):
                    continue  # not a repository path (the kernel's mm/..., include/linux/...)
                checked += 1
                exists = target.exists()
                stem = rel.name.split(".")[0]
                if not exists and stem in PLACEHOLDERS and not text.endswith("/"):
                    exists = target.parent.is_dir()
                if text in pending:
                    if exists:
                        problems.append(f"{rel_doc}:{n}: `{text}` exists now: take it off the pending paths list")
                    continue
                if not exists:
                    problems.append(f"{rel_doc}:{n}: `{text}` does not exist")
    for p in sorted(set(problems)):
        print(f"check_doc_paths: {p}")
    if problems:
        print(f"check_doc_paths: {len(set(problems))} problem(s)")
        return 1
    print(f"check_doc_paths: {checked} path mentions checked, all exist")
    return 0


if __name__ == "__main__":
    sys.exit(main())
