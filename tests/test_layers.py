"""The package's layers, read from its source with ``ast``: every import runs down, never up. A module
imports only from its own subpackage and the layers below it (lazy imports inside functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

import archsearch

PACKAGE = Path(archsearch.__file__).parent

#: each top-level part of the package and the parts it may import (its own excepted)
ALLOWED = {
    "errors": set(),
    "shipped": {"errors"},
    "core": {"errors"},
    "formats": {"errors", "core"},
    "prior": {"errors", "core", "formats"},
    "pictures": {"errors", "core", "formats"},
    "train": {"errors", "core", "formats", "prior"},
    "search": {"errors", "core", "formats", "prior", "pictures", "train", "shipped"},
    "samplers": {"search"},
    "evidence": {"errors", "core", "formats", "prior", "pictures", "train", "search", "shipped", "(root)"},
    "cli": {"errors", "core", "formats", "prior", "pictures", "train", "search", "evidence", "shipped", "(root)"},
    "__main__": {"cli"},
    "__init__": {"errors", "core", "formats", "prior", "train", "search", "evidence"},
}


def imports_of(path: Path) -> list[tuple[str, int]]:
    """The archsearch parts ``path`` imports (``(root)`` for ``archsearch`` itself), with their lines."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "archsearch":
                out.append((parts[1] if len(parts) > 1 else "(root)", node.lineno))
    return out


def part_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("").parts
    return rel[0]


def test_every_import_runs_down_the_layers():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = part_of(path)
        assert part in ALLOWED, f"{path}: a part of the package the layer map does not know; add it to ALLOWED"
        for target, line in imports_of(path):
            if target != part and target not in ALLOWED[part]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports archsearch.{target}")
    assert not wrong, "\n".join(wrong)


def test_search_never_imports_evidence_and_nothing_below_cli_imports_it():
    for path in PACKAGE.rglob("*.py"):
        part = part_of(path)
        targets = {t for t, _ in imports_of(path)}
        if part == "search":
            assert "evidence" not in targets, path
        if part not in ("cli", "__main__"):
            assert "cli" not in targets, path


def test_the_checker_sees_a_lazy_import_running_up(tmp_path):
    """The check itself can fail: an import inside a function is found."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from archsearch.evidence.bench import load_table\n    return load_table\n")
    assert imports_of(bad) == [("evidence", 2)]
