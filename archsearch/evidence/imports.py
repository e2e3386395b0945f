"""Benchmark tables trained elsewhere, imported into the project's table format (``bench import``).

**Channel-Bench-Macro** (Su et al., CVPR 2021 and TPAMI 2022; github.com/xiusu/Channel-Bench-Macro):
16,384 MobileNet-space and 16,384 ResNet-space networks trained on CIFAR-10 three times each. Its
``Results_MobileNet.json`` / ``Results_ResNet.json`` map an architecture string of seven digits (slot i at
digit/4 of its largest width) to ``acc`` (three test accuracies, in percent), ``mean``, ``std``, ``params``
and ``flops``. Each network becomes a layout of the shipped block space (``search_spaces/cbm-*.yaml``),
its three accuracies three seeds; the file has no validation split, so each run's ``val_accuracy`` is its
test accuracy (what the file measured; the table's ``source`` says so). Every network's parameter and FLOP
counts are checked equal to the space's before anything is written. The data has no licence file: it is
read for measurement and never shipped.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from archsearch import __version__
from archsearch.errors import InputError
from archsearch.evidence.table import BenchSettings, Table
from archsearch.formats.table import FORMAT, LayoutEntry, RunRow, SourceEntry, SpaceEntry, TaskEntry

__all__ = ["CBM_SPACES", "import_channel_bench_macro"]

#: ``--space`` -> the shipped block space file
CBM_SPACES = {"mobilenet": "cbm-mobilenet.yaml", "resnet": "cbm-resnet.yaml"}
#: the largest results file read (the real ones are 2.8 MB)
MAX_BYTES = 64 << 20
_NOTE = ("Channel-Bench-Macro's CIFAR-10 results (three trainings per network, 60 epochs by its train.py). "
         "The file holds test accuracies only: each run's val_accuracy is its test accuracy.")


def _read(path: Path) -> dict[str, Any]:
    from archsearch.formats.files import read_bounded

    raw = read_bounded(path, MAX_BYTES, "a results file")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"not Channel-Bench-Macro's results: malformed JSON ({str(exc)[:80]})", path) from None
    if not isinstance(data, dict) or not data:
        raise InputError("not Channel-Bench-Macro's results: expected an object of architectures", path)
    return data


def _accuracies(entry: Any, arch: str, path: Path) -> list[float]:
    acc = entry.get("acc") if isinstance(entry, dict) else None
    if not isinstance(acc, list) or not acc or len(acc) > 100 or not all(
            isinstance(a, int | float) and not isinstance(a, bool) and 0 <= a <= 100 for a in acc):
        raise InputError("expected 'acc': a list of test accuracies in percent (0..100)", path, f"{arch}.acc")
    return [float(a) / 100 for a in acc]


def import_channel_bench_macro(path: str | Path, space_name: str, task_path: str | Path | None = None) -> Table:
    """The table of Channel-Bench-Macro's results file at ``path`` for ``space_name`` (``mobilenet`` or
    ``resnet``), on the task at ``task_path`` (default: the shipped ``natural-images-32``). One line naming
    the file and the architecture for anything that does not fit (module docstring)."""
    from archsearch.formats.blocks_file import load_block_space
    from archsearch.formats.task import load_task
    from archsearch.shipped import shipped_path

    path = Path(path)
    if space_name not in CBM_SPACES:
        raise InputError(f"unknown space '{space_name}' (choose {' or '.join(CBM_SPACES)})", field="--space")
    space_file = shipped_path("search_spaces", CBM_SPACES[space_name])
    space = load_block_space(space_file)
    task_file = Path(task_path) if task_path is not None else shipped_path("tasks", "natural-images-32.yaml")
    task = load_task(task_file)
    if tuple(task.input_shape) != tuple(space.input_shape):
        raise InputError(f"input_shape {list(task.input_shape)} is not the space's {list(space.input_shape)}",
                         task_file, "input_shape")
    data = _read(path)
    choices = list(space.slots.values())
    layouts: list[LayoutEntry] = []
    runs: list[RunRow] = []
    seeds = 0
    for i, (arch, entry) in enumerate(sorted(data.items())):
        if not (isinstance(arch, str) and len(arch) == len(choices) and all(c in "1234" for c in arch)):
            raise InputError(f"architecture {arch[:20]!r}: expected {len(choices)} digits 1..4 (a width per slot)",
                             path)
        widths = [choices[k][int(d) - 1] for k, d in enumerate(arch)]
        lay = space.layout(widths)
        for key, mine in (("params", lay.param_count()), ("flops", lay.mac_count())):
            theirs = entry.get(key) if isinstance(entry, dict) else None
            if theirs != mine:
                raise InputError(f"{key} {theirs}, but {space.name} counts {mine} for this network: not "
                                 f"{space_name}'s results?", path, f"{arch}.{key}")
        layouts.append(LayoutEntry(id=i, label=arch, schedule=0, channels=widths, params=lay.param_count()))
        accs = _accuracies(entry, arch, path)
        seeds = max(seeds, len(accs))
        runs += [RunRow(layout=i, seed=s, val_accuracy=a, test_accuracy=a) for s, a in enumerate(accs)]
    band = min(e.params for e in layouts) / space.max_params
    return Table(
        format=FORMAT, archsearch_version=__version__, created=datetime.datetime.now().isoformat(timespec="seconds"),
        task=TaskEntry(name=task.name, file=_stored(task_file, "tasks"), input_shape=list(task.input_shape)),
        space=SpaceEntry(name=space.name, file=_stored(space_file, "search_spaces"), schedules=[],
                         max_params=space.max_params, band=band, complete_grid=len(layouts) == space.size,
                         kind="blocks"),
        settings=BenchSettings(epochs=60, seeds=seeds, noise_layouts=0, band=band, layouts=len(layouts),
                               train=50000, val=10000, test=10000, model="blocks"),
        device="elsewhere", layouts=layouts, runs=runs,
        source=SourceEntry(name="Channel-Bench-Macro", file=path.name,
                           url="https://github.com/xiusu/Channel-Bench-Macro", note=_NOTE))


def _stored(path: Path, kind: str) -> str:
    """How a table names a file: a shipped one as ``kind/NAME`` (found again from a checkout, or from the
    installed package), any other as given."""
    from archsearch.shipped import shipped_path

    try:
        if shipped_path(kind, path.name).resolve() == path.resolve():
            return f"{kind}/{path.name}"
    except InputError:
        pass
    return str(path)
