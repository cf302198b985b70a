#!/usr/bin/env python3
"""tests/docs/check_bug_catalog.py: the docs agree with core/bug_catalog.inc.

core/bug_catalog.inc, VMAFUZZ_BUG(name, "origin", "summary"), is the source.
The docs copy parts of it, and this check fails, naming the row, when a copy
disagrees:

 1. docs/ORACLES.md, "Which catalogued bug each oracle catches": every
    catalogued bug has a row (a cell may list several, comma-separated, as
    `name (B06), name (B08)`); every bug named there is catalogued; a bug's
    parenthesised id is its origin, and a "mutant" has none; and every
    backquoted oracle name in the "found as" column (the part before a `|`
    detail) is an oracle of fuzz/oracle_table.inc.
 2. docs/MODEL.md, section 1's table of bug ids: every origin other than
    "mutant" has a row there (bug_catalog.inc says the origin is "a bug id of
    docs/MODEL.md").
 3. Anywhere in docs/*.md and README.md, a table row whose first cell is a
    catalogued bug's name and whose second cell is an id (B01.. or mutant),
    as in the benchmark tables: the id is that bug's origin. (Rows are not
    required to be complete there: a benchmark measured on an older catalog
    lists fewer bugs.)

Usage: tests/docs/check_bug_catalog.py [ROOT]   (default: this repository)
Exit 0 when everything agrees, 1 otherwise. ctest: doc_bug_catalog_matches_code.
"""

import re
import sys
from pathlib import Path

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]

BUG_RE = re.compile(r'^VMAFUZZ_BUG\(\s*(\w+)\s*,\s*"([^"]*)"\s*,\s*"((?:[^"\\]|\\.)*)"\s*\)\s*$')
ORACLE_RE = re.compile(r'^VMAFUZZ_ORACLE\(\s*\w+\s*,\s*"([^"]*)"')

problems = []


def bugs():
    out = {}
    path = ROOT / "core/bug_catalog.inc"
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("VMAFUZZ_BUG"):
            m = BUG_RE.match(line)
            if not m:
                problems.append(f"core/bug_catalog.inc:{n}: cannot parse: {line}")
                continue
            out[m.group(1)] = m.group(2)
    if not out:
        problems.append("core/bug_catalog.inc: no VMAFUZZ_BUG lines")
    return out


def oracles():
    path = ROOT / "fuzz/oracle_table.inc"
    return {m.group(1) for line in path.read_text().splitlines() if (m := ORACLE_RE.match(line))}


def cells(line):
    s = line.strip()
    if not (s.startswith("|") and s.endswith("|")) or s.startswith("|---"):
        return None
    return [c.strip() for c in re.split(r"(?<!\\)\|", s[1:-1])]


def table_after(path, heading):
    """The table rows (cell lists, header excluded) of the first table after `heading`."""
    lines = path.read_text().splitlines()
    try:
        i = next(i for i, l in enumerate(lines) if l.strip() == heading)
    except StopIteration:
        problems.append(f"{path.relative_to(ROOT)}: no heading '{heading}'")
        return []
    rows, started = [], False
    for line in lines[i + 1:]:
        c = cells(line)
        if line.strip().startswith("|"):
            started = True
            if c is not None:
                rows.append(c)
        elif started or line.startswith("#"):
            break
    return rows[1:]


def check_oracles_md(catalog, oracle_names):
    doc = "docs/ORACLES.md"
    rows = table_after(ROOT / doc, "## Which catalogued bug each oracle catches")
    seen = {}
    for row in rows:
        if len(row) != 2:
            problems.append(f"{doc}: catalog table row with {len(row)} cells: {' | '.join(row)}")
            continue
        for entry in [e.strip() for e in row[0].split(",")]:
            m = re.fullmatch(r"(\w+)(?: \((B\d\d)\))?", entry)
            if not m:
                problems.append(f"{doc}: catalog row '{row[0]}': cannot read '{entry}' (want `name` or `name (Bnn)`)")
                continue
            name, origin = m.group(1), m.group(2) or "mutant"
            if name not in catalog:
                problems.append(f"{doc}: catalog row '{name}': no such bug in core/bug_catalog.inc")
                continue
            if name in seen:
                problems.append(f"{doc}: catalog row '{name}': listed twice")
            seen[name] = True
            if origin != catalog[name]:
                problems.append(f"{doc}: catalog row '{name}': origin is '{origin}' in the doc, "
                                f"'{catalog[name]}' in core/bug_catalog.inc")
        for found in re.findall(r"`([^`]+)`", row[1]):
            oracle = found.replace("\\|", "|").split("|")[0]
            if oracle not in oracle_names:
                problems.append(f"{doc}: catalog row '{row[0]}': found as `{found}`, but '{oracle}' is not "
                                f"an oracle of fuzz/oracle_table.inc")
    for name in catalog:
        if name not in seen:
            problems.append(f"{doc}: catalogued bug '{name}' has no row in 'Which catalogued bug each oracle catches'")


def check_model_md(catalog):
    doc = "docs/MODEL.md"
    ids = set()
    for line in (ROOT / doc).read_text().splitlines():
        c = cells(line)
        if c and re.fullmatch(r"B\d\d", c[0]):
            ids.add(c[0])
    for name, origin in catalog.items():
        if origin != "mutant" and origin not in ids:
            problems.append(f"{doc}: bug '{name}' has origin {origin}, which the bug id table does not list")


def check_other_tables(catalog):
    for path in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            c = cells(line)
            if not c or len(c) < 2:
                continue
            name = c[0].strip("`")
            if name in catalog and re.fullmatch(r"B\d\d|mutant", c[1]) and c[1] != catalog[name]:
                problems.append(f"{path.relative_to(ROOT)}:{n}: row '{name}': origin is '{c[1]}', "
                                f"'{catalog[name]}' in core/bug_catalog.inc")
            m = re.fullmatch(r"(B\d\d) `(\w+)`", c[0])
            if m and m.group(2) in catalog and catalog[m.group(2)] != m.group(1):
                problems.append(f"{path.relative_to(ROOT)}:{n}: row '{c[0]}': "
                                f"'{m.group(2)}' has origin '{catalog[m.group(2)]}' in core/bug_catalog.inc")


def main():
    catalog = bugs()
    check_oracles_md(catalog, oracles())
    check_model_md(catalog)
    check_other_tables(catalog)
    for p in problems:
        print(f"check_bug_catalog: {p}")
    if problems:
        print(f"check_bug_catalog: {len(problems)} disagreement(s) with core/bug_catalog.inc")
        return 1
    print(f"check_bug_catalog: {len(catalog)} catalogued bugs, the docs agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
