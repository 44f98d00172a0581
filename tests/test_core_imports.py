"""Core knows no area (issue 13 §5): nothing in blueprints/core imports an area or the registry.
Areas register with core what it needs of them (core/areas.py); the public site composes them."""
from __future__ import annotations

import ast
from pathlib import Path

BLUEPRINTS = Path(__file__).resolve().parent.parent / "blueprints"
AREAS = sorted(p.name for p in BLUEPRINTS.iterdir() if p.is_dir() and (p / "__init__.py").exists()
               and p.name != "core")


def _imported_areas(path: Path) -> set[str]:
    """The blueprint packages other than core that a module imports (absolute or relative)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level >= 2:  # from ..registry import x  /  from .. import registry
                names = [node.module] if node.module else [alias.name for alias in node.names]
            elif node.level == 0 and node.module:
                names = [node.module]
                if node.module == "blueprints":
                    names = [f"blueprints.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "blueprints":
                parts = parts[1:]
            if parts and parts[0] in AREAS:
                found.add(parts[0])
    return found


def test_the_areas_are_found():
    assert {"registry", "noticeboard", "site", "stations", "duties", "ballots", "suggestions", "kiosk"} <= set(AREAS)


def test_core_imports_no_area():
    offenders = {str(path.relative_to(BLUEPRINTS)): sorted(areas)
                 for path in sorted((BLUEPRINTS / "core").rglob("*.py"))
                 if (areas := _imported_areas(path))}
    assert offenders == {}


def test_the_check_sees_every_form_of_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from ..registry.models import Deputy\nimport blueprints.duties\n"
                      "from blueprints import ballots\nfrom .. import noticeboard\nfrom .models import User\n"
                      "def f():\n    from ..stations.calendar import upcoming_days\n", encoding="utf-8")
    assert _imported_areas(sample) == {"registry", "duties", "ballots", "noticeboard", "stations"}


def test_noticeboard_imports_neither_stations_nor_duties():
    for path in (BLUEPRINTS / "noticeboard").rglob("*.py"):
        assert _imported_areas(path) & {"stations", "duties", "site"} == set(), path.name
