"""A fresh virtualenv has only requirements.txt: every module must import there, and every
third-party name the code imports (also inside functions) must be pinned there: for the app's own code
(app.py, blueprints/) pinned itself, not only brought along by another pin (a package Flask stops
depending on would vanish from under it); for tests and migrations at least brought along."""
from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCAL = {"app", "blueprints", "tests", "migrations"}


def _requirement_names() -> set[str]:
    names = set()
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            assert "==" in line, f"requirement not pinned exactly: {line}"
            names.add(re.split(r"[\[=<>!~; ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def _with_dependencies(names: set[str]) -> set[str]:
    """What the pinned packages bring with them (Flask brings werkzeug, jinja2, click, ...)."""
    def norm(text):
        return re.split(r"[\[<>=!~; (]", text.strip(), maxsplit=1)[0].lower().replace("_", "-")

    seen, todo = set(names), list(names)
    while todo:
        try:
            requires = metadata.requires(todo.pop()) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            if "extra ==" not in requirement and norm(requirement) not in seen:
                seen.add(norm(requirement))
                todo.append(norm(requirement))
    return seen


def _source_files(folders=("blueprints", "migrations", "tests")):
    yield ROOT / "app.py"
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _third_party_imports(paths):
    """(top-level module, the distributions that provide it, file) for every third-party import."""
    owners = metadata.packages_distributions()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in LOCAL:
                    continue
                yield top, [d.lower().replace("_", "-") for d in owners.get(top, [top])], path


def test_every_import_is_pinned_in_requirements():
    pinned = _with_dependencies(_requirement_names())
    missing = {f"{top} ({path.relative_to(ROOT)})" for top, dists, path in _third_party_imports(_source_files())
               if not any(d in pinned for d in dists)}
    assert not missing, f"imported but not in requirements.txt: {sorted(missing)}"


def test_every_import_of_the_app_is_pinned_directly():
    """app.py and blueprints/: each third-party module maps (importlib.metadata.packages_distributions)
    to a distribution named in requirements.txt itself."""
    pinned = _requirement_names()
    missing = {f"{top} → {'/'.join(dists)} ({path.relative_to(ROOT)})"
               for top, dists, path in _third_party_imports(_source_files(("blueprints",)))
               if not any(d in pinned for d in dists)}
    assert not missing, f"imported by the app but not pinned directly in requirements.txt: {sorted(missing)}"


def _all_modules():
    import blueprints

    return sorted(info.name for info in pkgutil.walk_packages(blueprints.__path__, "blueprints."))


@pytest.mark.parametrize("name", _all_modules())
def test_every_module_imports(name):
    importlib.import_module(name)
