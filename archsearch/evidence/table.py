"""The benchmark table as a type: :class:`Table`, whose parts are the file format's schema
(:mod:`archsearch.formats.table`: ``task``, ``space``, ``layouts``, ``runs``) and whose settings are
:class:`BenchSettings`. Every reader of a table goes through it; nothing reads a table by string key.

>>> t = Table.load("benchmarks/tables/digits-local-32.json")          # doctest: +SKIP
>>> t.task.name, len(t.layouts), t.rows()[0].val_accuracy              # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archsearch.errors import InputError
from archsearch.formats.table import LayoutEntry, RunRow, SourceEntry, SpaceEntry, TaskEntry, read_table

if TYPE_CHECKING:
    from archsearch.core.layout import Layout
    from archsearch.formats.space import Space
    from archsearch.formats.task import Task
    from archsearch.train.data import Dataset

__all__ = ["BenchSettings", "Row", "Table", "locate_file"]


@dataclass(frozen=True)
class BenchSettings:
    """What a table's runs are: the training settings and how layouts and seeds are chosen. A resumed
    build must have the same, so that every run of a table is comparable."""

    epochs: int = 12
    seeds: int = 1
    noise_layouts: int = 40  #: with one seed, this many layouts (a seeded subset) get a second seed
    #: with several seeds: 0, every layout gets every seed; N, only a seeded subset of N layouts (holding the
    #: ``noise_layouts`` subset, so a table grown from one seed keeps its second-seed runs) gets seeds 1..S-1
    seed_layouts: int = 0
    band: float = 0.85
    layouts: int = 300  #: sample size when the space is no small finite grid
    train: int = 8000
    val: int = 2000
    test: int = 2000
    data_seed: int = 0
    sample_seed: int = 0
    model: str = "convnet"


@dataclass(frozen=True)
class Row:
    """One trained layout of a table: its entry, and its mean validation and test accuracy over the seeds
    that finished (``seeds``)."""

    id: int
    label: str
    schedule: int
    M: int | None  #: None for a block layout
    channels: list[int]
    params: int
    val_accuracy: float
    test_accuracy: float
    seeds: list[int]

    @property
    def key(self) -> tuple[int, int, tuple[int, ...]]:
        """(schedule, M, widths): the same layout in any table of the same space."""
        return self.schedule, self.M, tuple(self.channels)


@dataclass
class Table:
    """A benchmark table (README, "The file"): what was trained (``layouts``), how (``settings``,
    ``device``), on what (``task``, ``space``) and what came of it (``runs``, one per layout and seed).
    ``path``: where it was read from or is written to (not part of the file)."""

    format: str
    archsearch_version: str
    created: str
    task: TaskEntry
    space: SpaceEntry
    settings: BenchSettings
    device: str
    layouts: list[LayoutEntry]
    runs: list[RunRow]
    path: Path | None = field(default=None, compare=False)
    source: SourceEntry | None = None  #: an imported table's origin (``bench import``)
    #: a table written before ``seed_layouts`` existed is written back without it (reading adds nothing)
    legacy_settings: bool = field(default=False, compare=False, repr=False)

    # -- the file --------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path, locate: bool = True) -> Table:
        """The table at ``path``, checked whole against its schema (one line naming the field otherwise).
        ``locate``: the task and space files it names are found wherever the command runs
        (:func:`locate_file`); a build that writes the table back reads it with ``locate=False``."""
        path = Path(path)
        table = cls.from_dict(read_table(path), path)
        if locate:
            table.task = table.task.model_copy(update={"file": locate_file(table.task.file, path)})
            table.space = table.space.model_copy(update={"file": locate_file(table.space.file, path)})
        return table

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: str | Path | None = None) -> Table:
        """A table from its JSON object, already checked (:func:`~archsearch.formats.table.read_table`)."""
        return cls(format=data["format"], archsearch_version=data["archsearch_version"], created=data["created"],
                   task=TaskEntry.model_validate(data["task"]), space=SpaceEntry.model_validate(data["space"]),
                   settings=BenchSettings(**{"seed_layouts": 0, **data["settings"]}), device=data["device"],
                   layouts=[LayoutEntry.model_validate(e) for e in data["layouts"]],
                   runs=[RunRow.model_validate(r) for r in data["runs"]],
                   path=Path(path) if path is not None else None,
                   source=SourceEntry.model_validate(data["source"]) if data.get("source") else None,
                   legacy_settings="seed_layouts" not in data["settings"])

    def to_dict(self) -> dict[str, Any]:
        """The file's JSON object (a run lists only the fields it has)."""
        settings = asdict(self.settings)
        if self.legacy_settings and self.settings.seed_layouts == 0:
            del settings["seed_layouts"]
        space = self.space.model_dump()
        if space["kind"] == "layers":  # the default: written only for a table of block layouts
            del space["kind"]
        return {"format": self.format, "archsearch_version": self.archsearch_version, "created": self.created,
                "task": self.task.model_dump(), "space": space, "settings": settings,
                "device": self.device, "layouts": [e.model_dump(exclude_none=True) for e in self.layouts],
                "runs": [r.model_dump(exclude_none=True) for r in self.runs],
                **({"source": self.source.model_dump()} if self.source is not None else {})}

    def save(self, path: str | Path | None = None) -> Path:
        """Write the table whole or not at all (a temporary name, then a rename): a reader or a kill never
        meets half a table. ``path`` defaults to where it was read from."""
        from archsearch.formats.files import write_atomic

        path = Path(path) if path is not None else self.path
        if path is None:
            raise ValueError("a table read from no file needs a path to be saved")
        write_atomic(path, json.dumps(self.to_dict(), separators=(",", ":")) + "\n")
        self.path = path
        return path

    def add_run(self, run: dict[str, Any] | RunRow) -> RunRow:
        """Append one run (a row as :func:`~archsearch.train.runs.train_run` returns it), checked."""
        row = run if isinstance(run, RunRow) else RunRow.model_validate(run)
        self.runs.append(row)
        return row

    # -- what it holds ---------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The file's stem, or the task's name for a table read from no file."""
        return self.path.stem if self.path is not None else self.task.name

    def finished(self) -> list[RunRow]:
        """The runs that trained (a failed run says why, and holds no accuracy)."""
        return [r for r in self.runs if r.failed is None]

    def seed_accuracies(self) -> dict[int, dict[int, float]]:
        """Per layout id, the validation accuracy of each seed that finished."""
        by: dict[int, dict[int, float]] = {}
        for r in self.finished():
            by.setdefault(r.layout, {})[r.seed] = r.val_accuracy
        return by

    def with_full_seeds(self) -> Table:
        """A copy holding only the runs of the layouts trained with the most seeds any layout has (a table
        grown to k seeds on a seeded subset: that subset, each layout a mean of k runs)."""
        from archsearch.evidence.position import full_seeds

        acc = self.seed_accuracies()
        ids = list(acc)
        keep = {ids[i] for i in full_seeds([acc[i] for i in ids])[1]}
        return replace(self, runs=[r for r in self.runs if r.layout in keep])

    def rows(self) -> list[Row]:
        """Per trained layout (in id order): its entry with the mean validation and test accuracy over its
        runs, and the runs' seeds (layouts without a finished run are left out)."""
        by_layout: dict[int, list[RunRow]] = {}
        for r in self.finished():
            by_layout.setdefault(r.layout, []).append(r)
        out = []
        for e in self.layouts:
            runs = by_layout.get(e.id)
            if runs:
                out.append(Row(id=e.id, label=e.label, schedule=e.schedule, M=e.M, channels=list(e.channels),
                               params=e.params, val_accuracy=float(np.mean([r.val_accuracy for r in runs])),
                               test_accuracy=float(np.mean([r.test_accuracy for r in runs])),
                               seeds=sorted(r.seed for r in runs)))
        return out

    def entry_key(self, e: LayoutEntry) -> tuple[int, int, tuple[int, ...]]:
        """(schedule, M, widths) of a layout entry: the same layout in any table of the same space."""
        return e.schedule, e.M, tuple(e.channels)

    # -- its task, space and data ----------------------------------------------------------------------
    def task_space(self, task_path: str | None = None, space_path: str | None = None) -> tuple[Task, Space]:
        """The task (``task_path``, else the table's) and space (``space_path``, else the table's), checked
        to match each other, and the space to hold every layout of the table (errors name the table)."""
        from archsearch.formats.task_space import load_task_space

        task, space = load_task_space(task_path or self.task.file, space_path or self.space.file,
                                      blocks=self.space.kind == "blocks")
        self.check_space(space)
        return task, space

    def check_space(self, space: Space) -> None:
        """Refuse a space that does not hold every layout of the table (its schedules, M choices, widths and
        parameter counts), in one line naming the table."""
        from archsearch.formats.table import check_table_space

        check_table_space({"task": {"input_shape": list(self.task.input_shape)},
                           "space": {"schedules": self.space.schedules, "kind": self.space.kind},
                           "layouts": [e.model_dump() for e in self.layouts]}, space, self.path or self.name)

    def layouts_of(self, rows: list[Row], space: Space) -> list[Layout]:
        """The layouts of ``rows`` built in ``space`` (a layer space or a block space)."""
        return [space.layout_of(r) for r in rows]

    def data(self, space: Space, runs_dir: str | Path = "runs") -> Dataset:
        """The images the table was trained on (its own task's, cached under ``runs_dir``): what the
        data-dependent peers look at, whatever task the priors read."""
        from archsearch.formats.task import load_task
        from archsearch.train.data import load_task_data

        s = self.settings
        return load_task_data(load_task(self.task.file), space.classes, space.in_channels, s.train, s.test,
                              Path(runs_dir) / ".cache", val=s.val)

    def describe(self) -> str:
        """One line: task, space, how many layouts and runs, how trained."""
        s = self.settings
        return (f"task {self.task.name}, space {self.space.name}, {len(self.layouts)} layouts "
                f"({'complete grid' if self.space.complete_grid else 'sample'}), {len(self.runs)} runs on "
                f"{self.device}; {s.epochs} epochs, {s.train} / {s.val} / {s.test} images; archsearch "
                f"{self.archsearch_version}")


def locate_file(stored: str, table_path: str | Path) -> str:
    """A file a table names, as stored when it was built (relative to the folder it was built from, e.g.
    ``tasks/x.yaml``): as is if absolute or found from the working directory, else from the table's folder
    or the nearest folder above it that has it (a checkout's root, for the shipped tables), else the
    installed package's copy of a shipped file (``tasks/NAME``, ``search_spaces/NAME``), else as stored (the
    reader then says "no such file")."""
    if Path(stored).is_absolute() or Path(stored).exists():
        return stored
    for folder in Path(table_path).resolve().parents:
        if (folder / stored).exists():
            return str(folder / stored)
    parts = Path(stored).parts
    if len(parts) == 2:  # a shipped file, named as the shipped tables name theirs: the installed copy
        from archsearch.shipped import KINDS, shipped_path

        if parts[0] in KINDS:
            try:
                return str(shipped_path(parts[0], parts[1]))
            except InputError:
                pass
    return stored
