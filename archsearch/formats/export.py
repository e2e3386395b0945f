"""Best layouts out of a study: layout YAML (what ``archsearch score`` reads), JSON, or a Python file that
builds the torch module.

Nothing stored in a study can become code, or break out of a comment, in what is written: a shared
storage may hold anything anyone with access wrote. The layout is rebuilt from the stored dict and
validated (only integers reach the file); the figures are turned into plain numbers (floats, ints or
``None``); names go through ``json.dumps`` in YAML comments and ``repr`` in Python, which escape every
quote and newline; the generated module's docstring is fixed text.
"""

from __future__ import annotations

import json
import math
import pprint
import re
from pathlib import Path
from typing import Any

import yaml
from optuna.trial import FrozenTrial

from archsearch.errors import InputError
from archsearch.formats.layout_file import layout_from_dict
from archsearch.formats.validate import check_name

__all__ = ["FORMATS", "MODELS", "export_trials", "prepare_out"]

FORMATS = ("yaml", "json", "torch")
MODELS = ("convnet", "convac")
_EXT = {"yaml": "yaml", "json": "json", "torch": "py"}
_EXPORTED = re.compile(r"^\d{2,}-trial-\d{5,}\.(yaml|json|py)$")


def prepare_out(out: str | Path, force: bool) -> Path:
    """The export folder, checked before anything is opened: new or empty, or with ``force`` any folder
    (an earlier export's files there are replaced by :func:`export_trials`, only once the new ones are
    ready; other files are left alone)."""
    out = Path(out)
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(f"{out} is not empty ({sum(1 for _ in out.iterdir())} file(s)); give --force to replace "
                         "an earlier export there, or another folder", field="--out")
    return out


def _number(v: Any) -> float | int | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _summary(trial: FrozenTrial, rank: int, study_name: str, model: str) -> dict[str, Any]:
    """Plain numbers and validated names only, whatever the storage holds."""
    u = trial.user_attrs
    cuts = u.get("log2_mincut")
    values = [_number(v) for v in (trial.values or [])]
    return {
        "study": study_name, "rank": rank, "trial": int(trial.number),
        "value": values[0] if len(values) == 1 else values,
        "prior_score": _number(u.get("prior_score")), "params": _number(u.get("params")),
        "val_accuracy": _number(u.get("val_accuracy")), "test_accuracy": _number(u.get("test_accuracy")),
        "log2_mincut": {str(k)[:100]: _number(v) for k, v in cuts.items()} if isinstance(cuts, dict) else {},
        "model": model,
    }


def _yaml_text(layout: dict[str, Any], info: dict[str, Any]) -> str:
    j = json.dumps  # escapes quotes and newlines: a value cannot leave its comment line
    lines = [f"# archsearch export: study {j(info['study'])}, rank {info['rank']}, trial {info['trial']}",
             f"# value {j(info['value'])}  prior_score {j(info['prior_score'])}  params {j(info['params'])}"]
    if info.get("val_accuracy") is not None:
        lines.append(f"# validation accuracy {j(info['val_accuracy'])}  test accuracy {j(info['test_accuracy'])}")
    for name, v in info["log2_mincut"].items():
        lines.append(f"#   log2 min-cut {j(name)}: {j(v)}")
    return "\n".join(lines) + "\n" + yaml.safe_dump(layout, sort_keys=False, default_flow_style=None)


_TORCH_TEMPLATE = '''"""A channel layout exported by archsearch: build() returns its torch module.

INFO says where it came from (study, rank, trial, scores). It builds the module with archsearch's model
code, so archsearch (and torch) must be installed where it runs: pip install archsearch.
"""

from archsearch import build_model, layout_from_dict

LAYOUT = {layout}
MODEL = {model}
INFO = {info}


def build():
    """The torch module for this layout."""
    return build_model(layout_from_dict(LAYOUT), MODEL)


if __name__ == "__main__":
    model = build()
    print(model)
    print(sum(p.numel() for p in model.parameters()), "parameters")
'''


def _torch_text(layout: dict[str, Any], info: dict[str, Any]) -> str:
    # pformat of plain dicts, lists, ints, floats, None and str: Python literals, strings repr-escaped
    return _TORCH_TEMPLATE.format(layout=pprint.pformat(layout, sort_dicts=False), model=repr(info["model"]),
                                  info=pprint.pformat(info, sort_dicts=False))


def export_trials(
    trials: list[FrozenTrial], out: str | Path, study_name: str, fmt: str = "yaml", model: str = "convnet"
) -> list[Path]:
    """Write one file per trial, best first (``01-trial-00042.yaml``); returns the paths.

    Every stored layout is validated again before anything is written; a damaged one is refused.
    """
    check_name(study_name, "a study name", field="--study-name")
    if fmt not in FORMATS:
        raise InputError(f"unknown format '{fmt}' (choose {', '.join(FORMATS)})", field="--format")
    if model not in MODELS:
        raise InputError(f"the study names an unknown model {str(model)[:40]!r} (expected one of "
                         f"{', '.join(MODELS)})", field="--study-name")
    texts = []
    for rank, t in enumerate(trials, start=1):
        try:
            layout = layout_from_dict(t.user_attrs.get("layout"), f"trial {t.number}").to_dict()
        except InputError as exc:
            raise InputError(f"stored layout is not valid, nothing written: {exc}", field="--study-name") from None
        info = _summary(t, rank, study_name, model)
        if fmt == "yaml":
            text = _yaml_text(layout, info)
        elif fmt == "json":
            text = json.dumps({"layout": layout, **info}, indent=2) + "\n"
        else:
            text = _torch_text(layout, info)
        texts.append((Path(out) / f"{rank:02d}-trial-{t.number:05d}.{_EXT[fmt]}", text))
    from archsearch.formats.files import write_atomic

    try:
        Path(out).mkdir(parents=True, exist_ok=True)
        for p in Path(out).iterdir():  # an earlier export goes only now, with its replacement ready
            if _EXPORTED.match(p.name):
                p.unlink()
        for path, text in texts:
            write_atomic(path, text)
    except OSError as exc:  # a folder that cannot hold files (/proc, a full disk): one line
        raise InputError(f"cannot write into {out}: {exc.strerror or exc}", field="--out") from None
    return [p for p, _ in texts]
