"""What a study is for, stored in the study itself, so that a worker on any machine can join it.

``archsearch search`` (and ``bench build --storage``) writes a :class:`Recipe` into the study's user
attributes: the task and search-space files *as text* (a worker needs no copy of them, only the data
they name), the mode, the trial count and the training settings. ``archsearch worker`` reads it back and
works on the same study with exactly the same objective. Devices, threads and folders are the worker's
own: they belong to the machine, not to the study.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, model_validator

from archsearch.errors import InputError
from archsearch.formats.table import MAX_TABLE_LAYOUTS, BenchSettingsFile, LayoutEntry
from archsearch.formats.validate import Count, Ctx, Seed, Strict, validate
from archsearch.formats.yamlio import MAX_FILE_BYTES

if TYPE_CHECKING:
    import optuna

    from archsearch.formats.space import Space
    from archsearch.formats.task import Task

__all__ = ["MAX_TRIALS", "RECIPE_KEY", "Recipe", "RecipeFile"]

#: the study user attribute that holds the recipe (JSON)
RECIPE_KEY = "archsearch:recipe"
RECIPE_FORMAT = 1
#: bounds shared with the command line (``--trials``, ``--max-failures``, ``--epochs``)
MAX_TRIALS, MAX_FAILURES, MAX_EPOCHS = 10**7, 10**6, 10_000
#: largest recipe read from a study (two YAML files at their limit, and a table's layouts)
MAX_RECIPE_CHARS = 4 * MAX_FILE_BYTES

Path_ = Annotated[str, Field(min_length=1, max_length=4096)]
Text = Annotated[str, Field(max_length=MAX_FILE_BYTES)]


class BenchPart(Strict):
    """A table study's own part: the table's settings, its layouts, and the table file's path."""

    settings: BenchSettingsFile
    layouts: Annotated[list[LayoutEntry], Field(min_length=1, max_length=MAX_TABLE_LAYOUTS)]
    out: Path_


class RecipeFile(Strict):
    """A stored recipe, checked with the command line's bounds before a worker acts on any of it: anyone
    who can write to a shared storage can write a recipe."""

    kind: Literal["search", "bench"]
    task_path: Path_
    task_text: Text
    space_path: Path_
    space_text: Text
    mode: Literal["trained", "prior-only", "pareto", "bench"]
    trials: Annotated[int, Field(ge=1, le=MAX_TRIALS)]
    prior: Literal["needs", "ratio", "maximin", "narrowest", "soft-leximin"] = "needs"
    sampler: Literal["tpe", "random", "exhaustive"] = "tpe"
    guide: Literal["none", "guided", "warm-floor"] = "none"
    epochs: Annotated[int, Field(ge=1, le=MAX_EPOCHS)] = 5
    train: Count | None = None
    val: Count | None = None
    test: Count | None = None
    seed: Seed = 0
    max_failures: Annotated[int, Field(ge=1, le=MAX_FAILURES)] = 100
    bench: BenchPart | Annotated[dict, Field(max_length=0)] = {}
    format: Literal[1] = 1

    @model_validator(mode="after")
    def _consistent(self) -> RecipeFile:
        if (self.kind == "bench") != (self.mode == "bench"):
            raise ValueError(f"mode '{self.mode}' does not go with kind '{self.kind}'")
        if (self.kind == "bench") != isinstance(self.bench, BenchPart):
            raise ValueError("a bench recipe holds its table's settings, layouts and out; a search's holds none")
        if self.sampler == "exhaustive" and self.mode != "prior-only":
            raise ValueError("sampler 'exhaustive' goes with mode 'prior-only'")
        if self.guide != "none" and self.mode != "trained":
            raise ValueError(f"guide '{self.guide}' goes with mode 'trained'")
        return self


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
        """A recipe holding the two files' text (read once, bounded; what was validated is what is stored)."""
        from archsearch.formats.yamlio import read_text

        texts = [read_text(p) for p in (task_path, space_path)]
        return cls(task_path=str(Path(task_path).resolve()), task_text=texts[0],
                   space_path=str(Path(space_path).resolve()), space_text=texts[1], **kw)

    def load(self) -> tuple[Task, Space]:
        """The task and space, validated from the stored text (data paths resolve beside the task's path), on
        one input grid."""
        from archsearch.formats.task_space import load_task_space

        return load_task_space(self.task_path, self.space_path, self.task_text, self.space_text)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str = "study") -> Recipe:
        """The recipe in ``text``, checked against :class:`RecipeFile`; else one line naming ``where`` (the
        study) and the field."""
        if len(text) > MAX_RECIPE_CHARS:
            raise InputError(f"more than {MAX_RECIPE_CHARS} characters, over the limit", f"{where}: recipe")
        try:
            raw = json.loads(text, parse_constant=lambda c: float("nan"))
        except (ValueError, RecursionError):
            raise InputError("not JSON; was it made by another archsearch version, or written by hand?",
                             f"{where}: recipe") from None
        if not isinstance(raw, dict) or raw.get("format") != RECIPE_FORMAT:
            raise InputError(f"not an archsearch recipe of format {RECIPE_FORMAT}; was it made by another "
                             "archsearch version?", f"{where}: recipe", "format")
        checked = validate(RecipeFile, raw, Ctx(f"{where}: recipe", {}))
        return cls(**{**checked.model_dump(), "bench": raw["bench"]})

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
        return cls.from_json(text, f"study '{study.study_name}'")
