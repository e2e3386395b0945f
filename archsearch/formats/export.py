"""Best layouts out of a study: layout YAML (what ``archsearch score`` reads), JSON, or a Python file
that builds the torch module."""

from __future__ import annotations

import json
import pprint
from pathlib import Path
from typing import Any

import yaml
from optuna.trial import FrozenTrial

__all__ = ["FORMATS", "export_trials"]

FORMATS = ("yaml", "json", "torch")


def _summary(trial: FrozenTrial, rank: int, study_name: str, model: str) -> dict[str, Any]:
    u = trial.user_attrs
    return {
        "study": study_name, "rank": rank, "trial": trial.number,
        "value": trial.value if len(trial.values or []) == 1 else trial.values,
        "prior_score": u.get("prior_score"), "params": u.get("params"),
        "accuracy": u.get("accuracy"), "log2_mincut": u.get("log2_mincut"), "model": model,
    }


def _yaml_text(layout: dict[str, Any], info: dict[str, Any]) -> str:
    lines = [f"# archsearch export: study {info['study']}, rank {info['rank']}, trial {info['trial']}",
             f"# value {info['value']}  prior_score {info['prior_score']}  params {info['params']}"]
    if info.get("accuracy") is not None:
        lines.append(f"# test accuracy {info['accuracy']}")
    for name, v in (info.get("log2_mincut") or {}).items():
        lines.append(f"#   log2 min-cut {name}: {v:.4g}")
    return "\n".join(lines) + "\n" + yaml.safe_dump(layout, sort_keys=False, default_flow_style=None)


def _torch_text(layout: dict[str, Any], info: dict[str, Any]) -> str:
    return f'''"""Channel layout exported by archsearch (study {info['study']}, rank {info['rank']},
trial {info['trial']}).

value {info['value']}, prior score {info['prior_score']}, {info['params']} parameters.
"""

from archsearch import build_model, layout_from_dict

LAYOUT = {pprint.pformat(layout, sort_dicts=False)}
MODEL = {info['model']!r}


def build():
    """The torch module for this layout."""
    return build_model(layout_from_dict(LAYOUT), MODEL)


if __name__ == "__main__":
    model = build()
    print(model)
    print(sum(p.numel() for p in model.parameters()), "parameters")
'''


def export_trials(
    trials: list[FrozenTrial], out: str | Path, study_name: str, fmt: str = "yaml", model: str = "convnet"
) -> list[Path]:
    """Write one file per trial, best first (``01-trial-00042.yaml``); returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ext = {"yaml": "yaml", "json": "json", "torch": "py"}[fmt]
    paths = []
    for rank, t in enumerate(trials, start=1):
        layout = t.user_attrs["layout"]
        info = _summary(t, rank, study_name, model)
        path = out / f"{rank:02d}-trial-{t.number:05d}.{ext}"
        if fmt == "yaml":
            text = _yaml_text(layout, info)
        elif fmt == "json":
            text = json.dumps({"layout": layout, **info}, indent=2) + "\n"
        else:
            text = _torch_text(layout, info)
        path.write_text(text)
        paths.append(path)
    return paths
