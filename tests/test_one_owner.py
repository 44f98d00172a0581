"""One owner per transaction: nothing in the application commits or rolls back except the unit of
work in blueprints/core/transaction.py (services flush; the outermost block commits once)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OWNER = ROOT / "blueprints" / "core" / "transaction.py"
FORBIDDEN = {
    "a commit": re.compile(r"\.commit\(\)"),
    "a rollback": re.compile(r"\.rollback\(\)"),
    "commit_or_refuse": re.compile(r"\bcommit_or_refuse\b"),
    "begin_write": re.compile(r"\bbegin_write\b"),
    "a commit= flag": re.compile(r"\bcommit\s*[:=]\s*(bool|True|False)\b"),
    "a hand-made SQLite BEGIN": re.compile(r"sqlite_begin"),
}
ALLOWED = {
    # The engine hook that emits the BEGIN the unit of work asks for.
    ("blueprints/core/web.py", "a hand-made SQLite BEGIN"),
}


def _application_files():
    yield ROOT / "app.py"
    yield from sorted((ROOT / "blueprints").rglob("*.py"))


@pytest.mark.parametrize("what", sorted(FORBIDDEN))
def test_nothing_but_the_unit_of_work_ends_a_transaction(what):
    pattern, offenders = FORBIDDEN[what], []
    for path in _application_files():
        relative = str(path.relative_to(ROOT))
        if path == OWNER or (relative, what) in ALLOWED:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, f"{what} outside core/transaction.py:\n" + "\n".join(offenders)
