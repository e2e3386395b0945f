"""``bench eval``, ``contrast`` and ``replay`` give the JSON they gave before the evidence became a library
(the golden files were printed by archsearch 0.5.0 at commit 0f84a9d on the shipped tables): the same keys,
the same figures (to 1e-9: the bootstrap is seeded; only floating-point summation order may differ)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

GOLDEN = Path(__file__).parent / "golden"
#: top-level keys added to a command's JSON after the golden files were printed (readers ignore new keys)
ADDED = {"eval-digits-local-32": ("position",), "contrast-mnist1d-32": ("held_out_seed",),
         "replay-mnist1d-32": ("table_runs",)}
TABLES = "benchmarks/tables"


def same(a, b, where: str = "") -> None:
    """Equal JSON values, floats to 1e-9 (null for null); the first difference named."""
    if isinstance(b, dict):
        assert isinstance(a, dict) and a.keys() == b.keys(), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for k in b:
            same(a[k], b[k], f"{where}.{k}")
    elif isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b), f"{where}: {a} != {b}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(b, float) and not isinstance(a, bool):
        assert isinstance(a, int | float) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@pytest.mark.parametrize("name, argv", [
    ("eval-digits-local-32", ["bench", "eval", f"{TABLES}/digits-local-32.json", "--predictors", "prior",
                              "min-width", "--json"]),
    ("contrast-mnist1d-32", ["bench", "contrast", f"{TABLES}/mnist1d-32.json", f"{TABLES}/mnist1d-32-scrambled.json",
                             "--predictors", "prior", "min-width", "--top", "5", "--json"]),
    ("replay-mnist1d-32", ["bench", "replay", f"{TABLES}/mnist1d-32.json", "--repeats", "2", "--budget-trials", "10",
                           "--strategies", "random", "balanced", "prior-top", "--json", "--no-progress"]),
])
def test_the_json_is_what_it_was(name, argv, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert run_cli(argv) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ADDED.get(name, ()):  # keys added since: present, and checked by their own tests
        assert key in out, key
        del out[key]
    same(out, json.loads((GOLDEN / f"{name}.json").read_text()), name)


def test_the_comparison_can_fail():
    with pytest.raises(AssertionError, match=r"\.a\[1\]"):
        same({"a": [1.0, 2.0]}, {"a": [1.0, 2.0 + 1e-6]})
    with pytest.raises(AssertionError, match="keys"):
        same({"a": 1}, {"b": 1})
