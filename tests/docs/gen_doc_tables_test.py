#!/usr/bin/env python3
"""scripts/gen-doc-tables on a copy of the tables it reads: --check passes on
the repository's, names the row of a changed contract clause and exits 1,
a rewrite brings the doc back in line, and a malformed row is an error."""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen-doc-tables"
FILES = ["fuzz/oracle_table.inc", "fuzz/contract_table.inc", "docs/ORACLES.md"]


def run(root, *args):
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root), *args],
                          capture_output=True, text=True)


def main():
    failures = []

    def expect(cond, what):
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for f in FILES:
            (root / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / f, root / f)
        r = run(root, "--check")
        expect(r.returncode == 0, f"--check on the repository's tables: exit {r.returncode}\n{r.stdout}{r.stderr}")

        table = root / "fuzz/contract_table.inc"
        text = table.read_text()
        old = '"the VMA contains the address: vm_start <= address < vm_end"'
        expect(old in text, "the address_outside clause is not in the table any more: update this test")
        table.write_text(text.replace(old, '"the VMA covers the address"'))
        r = run(root, "--check")
        expect(r.returncode == 1, f"--check after a clause changed: exit {r.returncode}")
        expect("address_outside" in r.stdout and "table 'contracts'" in r.stdout,
               f"--check does not name the changed row:\n{r.stdout}")
        r = run(root)
        expect(r.returncode == 0, f"rewrite: exit {r.returncode}\n{r.stderr}")
        expect("the VMA covers the address" in (root / "docs/ORACLES.md").read_text(), "rewrite did not copy the clause")
        expect(run(root, "--check").returncode == 0, "--check after the rewrite fails")

        table.write_text(table.read_text() + 'VMAFUZZ_CONTRACT(broken, "4.1", "x")\n')
        r = run(root, "--check")
        expect(r.returncode == 1 and "cannot parse" in r.stderr, f"a malformed row: exit {r.returncode}, {r.stderr}")

    for f in failures:
        print(f"FAIL: {f}")
    print(f"gen_doc_tables_test: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
