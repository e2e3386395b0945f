"""The benchmark table file (``archsearch-bench-table/1``): its schema, checked by every reader before use.

A table is plain JSON (README, "The file"). :func:`read_table` reads it bounded (at most
:data:`MAX_TABLE_BYTES`, never from a device), refuses NaN and Infinity, nesting bombs and anything the
schema does not hold, and checks what a schema alone cannot: layout ids unique and in order, each layout's
depth that of its schedule, each run naming a layout and at most once per seed. A table that fails is one
:class:`~archsearch.formats.yamlio.InputError` naming the file and the field. The same schema checks a
table study's recipe (:class:`BenchSettingsFile`, :class:`LayoutEntry`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from archsearch.core.layout import MAX_CHANNELS, MAX_INPUTS, MAX_LAYERS, MAX_M
from archsearch.errors import InputError
from archsearch.formats.validate import Count, Ctx, Seed, Strict, validate

__all__ = ["FORMAT", "MAX_TABLE_BYTES", "MAX_TABLE_LAYOUTS", "BenchSettingsFile", "LayoutEntry", "check_table",
           "check_table_space", "read_table"]

FORMAT = "archsearch-bench-table/1"
#: largest table file read (the shipped ones are 0.1 to 1 MB; 20,000 layouts x 3 seeds of 30 epochs fit)
MAX_TABLE_BYTES = 128 << 20
#: most layouts in one table (``bench build --layouts`` and a complete grid stay below it)
MAX_TABLE_LAYOUTS = 20_000

Acc = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Loss = Annotated[float, Field(ge=0.0, le=1e9, allow_inf_nan=False)]
Text = Annotated[str, Field(max_length=4096)]
Window = Annotated[list[Annotated[int, Field(ge=1, le=256)]], Field(min_length=1, max_length=2)]


class TaskEntry(Strict):
    name: Text
    file: Text
    input_shape: Annotated[list[Annotated[int, Field(ge=1, le=MAX_INPUTS)]], Field(min_length=1, max_length=2)]


class SpaceEntry(Strict):
    name: Text
    file: Text
    schedules: Annotated[list[Annotated[list[Window], Field(min_length=1, max_length=MAX_LAYERS)]],
                         Field(max_length=1000)]
    max_params: Annotated[int, Field(ge=1, le=10**10)]
    band: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
    complete_grid: bool
    kind: Literal["layers", "blocks"] = "layers"  #: blocks: a block space's layouts (no schedules, no M)

    @model_validator(mode="after")
    def _schedules(self) -> SpaceEntry:
        if self.kind == "layers" and not self.schedules:
            raise ValueError("a space of layers lists at least one schedule")
        return self


class BenchSettingsFile(Strict):
    """A table's settings, bounded as ``bench build``'s options are."""

    epochs: Annotated[int, Field(ge=1, le=10_000)]
    seeds: Annotated[int, Field(ge=1, le=100)]
    noise_layouts: Annotated[int, Field(ge=0, le=100_000)]
    seed_layouts: Annotated[int, Field(ge=0, le=MAX_TABLE_LAYOUTS)] = 0
    band: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
    layouts: Annotated[int, Field(ge=1, le=100_000)]
    train: Count
    val: Count
    test: Count
    data_seed: Seed
    sample_seed: Seed
    model: Literal["convnet", "convac", "blocks"]


class LayoutEntry(Strict):
    id: Annotated[int, Field(ge=0, lt=MAX_TABLE_LAYOUTS)]
    label: Annotated[str, Field(max_length=200)]  #: grid, sample, wide-base, wide-tip, uniform; verify's own
    schedule: Annotated[int, Field(ge=0, lt=1000)] = 0
    M: Annotated[int, Field(ge=1, le=MAX_M)] | None = None  #: a layer layout's; a block layout has none
    channels: Annotated[list[Annotated[int, Field(ge=1, le=MAX_CHANNELS)]], Field(min_length=1, max_length=MAX_LAYERS)]
    params: Annotated[int, Field(ge=1, le=10**12)]


Curve = Annotated[list[Acc], Field(max_length=10_000)]


class RunRow(Strict):
    layout: Annotated[int, Field(ge=0, lt=MAX_TABLE_LAYOUTS)]
    seed: Seed
    val_accuracy: Acc | None = None
    test_accuracy: Acc | None = None
    val_curve: Curve | None = None
    test_curve: Curve | None = None
    loss_curve: Annotated[list[Loss], Field(max_length=10_000)] | None = None
    seconds: Annotated[float, Field(ge=0.0, le=1e9, allow_inf_nan=False)] | None = None  #: wall time
    cpu_seconds: Annotated[float, Field(ge=0.0, le=1e9, allow_inf_nan=False)] | None = None  #: CPU time
    device: Text | None = None
    failed: Text | None = None

    @model_validator(mode="after")
    def _finished_or_failed(self) -> RunRow:
        if self.failed is None and (self.val_accuracy is None or self.test_accuracy is None):
            raise ValueError("a run holds val_accuracy and test_accuracy, or says why it 'failed'")
        return self


class SourceEntry(Strict):
    """Where an imported table's runs come from (``bench import``): a benchmark trained elsewhere."""

    name: Text
    file: Text
    url: Text = ""
    note: Text = ""


class TableFile(Strict):
    format: Literal["archsearch-bench-table/1"]
    archsearch_version: Text
    created: Text
    task: TaskEntry
    space: SpaceEntry
    settings: BenchSettingsFile
    device: Text
    layouts: Annotated[list[LayoutEntry], Field(max_length=MAX_TABLE_LAYOUTS)]
    runs: Annotated[list[RunRow], Field(max_length=MAX_TABLE_LAYOUTS * 100 + 100_000)]
    source: SourceEntry | None = None  #: an imported table's origin


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a table may hold")


def read_table(path: str | Path) -> dict[str, Any]:
    """The table at ``path`` as a dict, every part checked (module docstring); else one InputError."""
    path = Path(path)
    from archsearch.formats.files import read_bounded

    raw = read_bounded(path, MAX_TABLE_BYTES, "a table")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise InputError(f"not a table: not UTF-8 text (byte {exc.start})", path) from None
    except json.JSONDecodeError as exc:  # its message names a position, never the content
        raise InputError(f"not a table: malformed JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})",
                         path) from None
    except ValueError as exc:
        raise InputError(f"not a table: {exc}", path) from None
    except RecursionError:
        raise InputError("not a table: nested too deeply to read", path) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"not an archsearch table (expected \"format\": \"{FORMAT}\")", path, "format")
    ctx = Ctx(path, {})
    validate(TableFile, data, ctx)
    check_table(data, path)
    return data


def check_table(data: dict[str, Any], path: str | Path) -> None:
    """What the schema cannot say: ids 0..n-1 in order, depth that of the schedule, runs that name a
    layout, one run per (layout, seed)."""
    schedules = data["space"]["schedules"]
    layers = data["space"].get("kind", "layers") == "layers"
    for i, e in enumerate(data["layouts"]):
        if e["id"] != i:
            raise InputError(f"layout ids must be 0, 1, 2, ... in order; entry {i} has id {e['id']}"
                             + (" (a duplicate)" if e["id"] < i else ""), path, f"layouts[{i}].id")
        if not layers:
            continue
        if e.get("M") is None:
            raise InputError("missing required key 'M'", path, f"layouts[{i}]")
        if e.get("schedule", 0) >= len(schedules):
            raise InputError(f"schedule {e['schedule']}, but the table's space has {len(schedules)}", path,
                             f"layouts[{i}].schedule")
        if len(e["channels"]) != len(schedules[e.get("schedule", 0)]):
            raise InputError(f"{len(e['channels'])} widths for a schedule of {len(schedules[e.get('schedule', 0)])} "
                             "layers", path, f"layouts[{i}].channels")
    n, seen = len(data["layouts"]), set()
    for k, r in enumerate(data["runs"]):
        if r["layout"] >= n:
            raise InputError(f"names layout {r['layout']}, but the table has {n} layouts", path, f"runs[{k}].layout")
        key = (r["layout"], r["seed"])
        if key in seen:
            raise InputError(f"a second run of layout {key[0]} with seed {key[1]}", path, f"runs[{k}]")
        seen.add(key)


def check_table_space(data: dict[str, Any], space: Any, path: str | Path) -> None:
    """The table's layouts are ones ``space`` holds (a :class:`~archsearch.formats.space.Space`: its
    schedules, M choices and widths; a block space: a choice of every width slot); each layout's parameter
    count as stored."""
    if getattr(space, "model", None) == "blocks" or data["space"].get("kind") == "blocks":
        return _check_block_space(data, space, path)
    stored = [[list(w) for w in s] for s in data["space"]["schedules"]]
    own = [[list(w) for w in s] for s in space.schedules]
    if stored != own:
        raise InputError(f"the table's schedules are not those of the space {space.source or space.name}", path,
                         "space.schedules")
    if data["task"]["input_shape"] != list(space.input_shape):
        raise InputError(f"input_shape {data['task']['input_shape']} is not the space's {list(space.input_shape)}",
                         path, "task.input_shape")
    for i, e in enumerate(data["layouts"]):
        if e["M"] not in space.M:
            raise InputError(f"M {e['M']} is not one of the space's {list(space.M)}", path, f"layouts[{i}].M")
        try:
            lay = space.layout(e["schedule"], e["M"], e["channels"])
        except Exception as exc:  # noqa: BLE001 - any layout the space cannot build
            raise InputError(f"the space cannot hold this layout ({exc})", path, f"layouts[{i}]") from None
        if lay.param_count() != e["params"]:
            raise InputError(f"params {e['params']}, but the layout has {lay.param_count()}", path,
                             f"layouts[{i}].params")


def _check_block_space(data: dict[str, Any], space: Any, path: str | Path) -> None:
    if getattr(space, "model", None) != "blocks" or data["space"].get("kind") != "blocks":
        raise InputError(f"a table of {data['space'].get('kind', 'layers')} read with a space of "
                         f"{'blocks' if getattr(space, 'model', None) == 'blocks' else 'layers'} "
                         f"({space.source or space.name})", path, "space.kind")
    if list(data["task"]["input_shape"]) != list(space.input_shape):
        raise InputError(f"input_shape {data['task']['input_shape']} is not the space's {list(space.input_shape)}",
                         path, "task.input_shape")
    for i, e in enumerate(data["layouts"]):
        if not space.holds(list(e["channels"])):
            raise InputError(f"widths {e['channels']} are no choice of the space's slots "
                             f"({', '.join(space.slots)})", path, f"layouts[{i}].channels")
        params = space.layout(e["channels"]).param_count()
        if params != e["params"]:
            raise InputError(f"params {e['params']}, but the layout has {params}", path, f"layouts[{i}].params")
