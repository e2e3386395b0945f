"""What a study is for, stored in the study itself, so that a worker on any machine can join it.

``archsearch search`` (and ``bench build --storage``) writes a :class:`Recipe` into the study's user
attributes: the task and search-space files *as text* (a worker needs no copy of them, only the data
they name), the mode, the trial count and the training settings. ``archsearch worker`` reads it back and
works on the same study with exactly the same objective. Devices, threads and folders are the worker's
own: they belong to the machine, not to the study.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archsearch.formats.yamlio import InputError

if TYPE_CHECKING:
    import optuna

    from archsearch.formats.space import Space
    from archsearch.formats.task import Task

__all__ = ["RECIPE_KEY", "Recipe"]

#: the study user attribute that holds the recipe (JSON)
RECIPE_KEY = "archsearch:recipe"
RECIPE_FORMAT = 1


@dataclass(frozen=True)
class Recipe:
    """A study's recipe: ``kind`` ``search`` (``mode`` trained, prior-only or pareto) or ``bench`` (a
    benchmark table's runs, ``bench`` holding its settings and layouts); the task and space files
    (absolute path and text); the target number of COMPLETE ``trials``; the prior's variant; the
    sampler (resolved: tpe, random or exhaustive) and the prior's guidance (guided, warm-floor, none);
    and the training settings (``train``/``val``/``test`` None: the task's)."""

    kind: str
    task_path: str
    task_text: str
    space_path: str
    space_text: str
    mode: str
    trials: int
    prior: str = "needs"
    sampler: str = "tpe"
    guide: str = "none"
    epochs: int = 5
    train: int | None = None
    val: int | None = None
    test: int | None = None
    seed: int = 0
    max_failures: int = 100
    bench: dict[str, Any] = field(default_factory=dict)
    format: int = RECIPE_FORMAT

    @classmethod
    def from_files(cls, task_path: str | Path, space_path: str | Path, **kw: Any) -> Recipe:
        """A recipe holding the two files' text (read once; what was validated is what is stored)."""
        texts = []
        for p in (task_path, space_path):
            try:
                texts.append(Path(p).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read: {exc}".splitlines()[0], p) from None
        return cls(task_path=str(Path(task_path).resolve()), task_text=texts[0],
                   space_path=str(Path(space_path).resolve()), space_text=texts[1], **kw)

    def load(self) -> tuple[Task, Space]:
        """The task and space, validated from the stored text (data paths resolve beside the task's path)."""
        from archsearch.formats.space import load_space
        from archsearch.formats.task import load_task

        return load_task(self.task_path, self.task_text), load_space(self.space_path, self.space_text)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str = "study") -> Recipe:
        try:
            raw = json.loads(text)
            known = {f.name for f in fields(cls)}
            if not isinstance(raw, dict) or raw.get("format") != RECIPE_FORMAT or not known >= set(raw):
                raise ValueError("unknown recipe format")
            return cls(**raw)
        except (TypeError, ValueError) as exc:
            raise InputError(f"the study's recipe cannot be read ({exc}); was it made by another archsearch "
                             "version?", field=where) from None

    def store(self, study: optuna.Study) -> None:
        study.set_user_attr(RECIPE_KEY, self.to_json())

    @classmethod
    def of_search(cls, study: optuna.Study) -> Recipe:
        """:meth:`of`, refusing a benchmark table's study (its trials are runs, not layouts to rank: the
        table file is what to look at)."""
        recipe = cls.of(study)
        if recipe.kind == "bench":
            raise InputError(f"study '{study.study_name}' builds the table {recipe.bench.get('out')}: look at the "
                             "table instead (bench show, bench eval, report --table)", field="--study-name")
        return recipe

    @classmethod
    def of(cls, study: optuna.Study) -> Recipe:
        """The recipe stored in ``study``, or a one-line error for a study made otherwise."""
        text = study.user_attrs.get(RECIPE_KEY)
        if not isinstance(text, str):
            raise InputError(f"study '{study.study_name}' holds no archsearch recipe: it was not made by "
                             "`archsearch search` or `archsearch bench build --storage` (0.4.0 or later)",
                             field="--study-name")
        return cls.from_json(text, "--study-name")
