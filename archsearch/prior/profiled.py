"""The profiled task: what ``archsearch profile`` measures from a task's data, and the task file it writes
back (a task's mapping with measured needs or weights, under a header that says how they were measured).
Pure: the caller reads the data and writes the file.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archsearch.errors import InputError
from archsearch.prior.profile import measure_profile, meet_needs, meet_weights

if TYPE_CHECKING:
    from archsearch.formats.space import Space
    from archsearch.formats.task import Task

__all__ = ["NEEDS", "TaskProfile", "check_meets_space", "check_pool", "meet_needs_for", "meets_task", "profile_task",
           "profiled_task", "profiled_text"]

#: what ``profile --out`` writes: share (weights per meet level), meets (needs per meet level for a budget),
#: entropy (each partition's and canonical level's entropy in bits)
NEEDS = ("share", "meets", "entropy")

_SCALE = (
    "# Needs measured by `archsearch profile` (archsearch {version}): entanglement entropy of the empirical\n"
    "# data tensor (Alexander et al., NeurIPS 2023) over {samples} training images, theta = {theta}, pooling\n"
    "# windows {pool}; 1 bit = log2 of the separation rank. The task's partitions keep their weights; each\n"
    "# canonical level has weight 1.\n"
)
_MEETS = (
    "# Needs measured by `archsearch profile` (archsearch {version}) for the budget of {space}: one partition\n"
    "# per level where the data's correlations meet (each level-k window split into its children, kind tiles),\n"
    "# weight 1, need n_k = C_k / mean_j(C_j / c_ref_j): C_k the summed |correlation| of the pairs of inputs\n"
    "# meeting at level k ({samples} training images), c_ref_k the reference layout's capacity across it (bits).\n"
    "# The task's own partitions are as written.\n"
)
_SHARE = (
    "# Weights measured by `archsearch profile` (archsearch {version}): one partition per level where the data's\n"
    "# correlations meet (each level-k window split into its children, kind tiles), weight w_k = C_k / mean_j C_j:\n"
    "# C_k the summed |correlation| of the pairs of inputs meeting at level k ({samples} training images). No need\n"
    "# is stated: the prior's is the reference layout's capacity for the search's budget. The task's own\n"
    "# partitions are as written.\n"
)



def profiled_task(raw: dict[str, Any], profile: Any, names: list[str]) -> dict[str, Any]:
    """The task file's mapping with each of its partitions' measured need, and one canonical partition
    per measured level (replacing any canonical entries the task had)."""
    out = copy.deepcopy(raw)
    by_name = {r.name: r for r in profile.rows if r.level is None}
    kept = []
    for entry in out["partitions"]:
        if entry.get("kind") == "canonical":
            continue
        if entry["name"] in by_name:
            entry["need"] = round(by_name[entry["name"]].need_bits, 3)
        kept.append(entry)
    pool = list(profile.pool) if len(set(profile.pool)) > 1 else profile.pool[0]
    kept += [{"name": r.name, "kind": "canonical", "level": r.level, "pool": pool, "weight": 1.0,
              "need": round(r.need_bits, 3)} for r in profile.rows if r.level is not None]
    out["partitions"] = kept
    taken = set(names)
    for entry in kept:
        if entry.get("kind") == "canonical" and entry["name"] in taken:
            entry["name"] = f"canonical-{entry['name']}"
    return out


def meets_task(raw: dict[str, Any], levels: list[int], sizes: list[int], needs: np.ndarray | None = None,
               weights: np.ndarray | None = None) -> dict[str, Any]:
    """The task file's mapping with one partition per meet level (``kind: tiles`` of the level's children,
    ``sizes`` their side, one per level; its weight (default 1) and its need in bits, if given) after the
    task's own partitions; a name the task already uses is prefixed."""
    out = copy.deepcopy(raw)
    taken = {str(e.get("name")) for e in out["partitions"]}
    for i, (k, size) in enumerate(zip(levels, sizes, strict=True)):
        name = f"meet-{k}" if f"meet-{k}" not in taken else f"profiled-meet-{k}"
        entry = {"name": name, "kind": "tiles", "size": int(size),
                 "weight": 1.0 if weights is None else round(float(weights[i]), 3)}
        if needs is not None:
            entry["need"] = round(float(needs[i]), 3)
        out["partitions"].append(entry)
    return out


def check_meets_space(space: Space, task: Task, space_path: str | Path) -> Space:
    """The search space whose pooling tree the meets follow (its first schedule) and whose budget the meet
    needs are for, checked before any data is read: same input shape, and a first schedule that pools by
    one window on every axis at each layer (a meet's children are written as square tiles) and reaches the
    whole grid (no level left out)."""
    from archsearch.prior.profile import meet_sides

    if tuple(space.input_shape) != tuple(task.input_shape):
        raise InputError(f"input_shape {list(space.input_shape)} does not match the task's {list(task.input_shape)}",
                         space_path, "input_shape")
    schedule = [tuple(int(p) for p in level) for level in space.schedules[0]]
    if any(len(set(level)) > 1 for level in schedule):
        raise InputError("needs where correlations meet take one pooling window for every axis at each layer: "
                         f"the first schedule pools by {[list(level) for level in schedule]}", space_path, "schedules")
    try:
        sides = meet_sides(task.input_shape, schedule=schedule)
    except ValueError as exc:
        raise InputError(f"the first schedule's windows do not tile the grid: {exc}", space_path, "schedules") from None
    if not sides or sides[-1] != tuple(task.input_shape):
        raise InputError(f"the first schedule pools {list(sides[-1]) if sides else []} at its top, not the whole "
                         f"{list(task.input_shape)} grid: a level where inputs meet would be left out", space_path,
                         "schedules")
    return space


def meet_needs_for(space: Space, task: Task, prof: Any) -> np.ndarray:
    """Needs per meet level for the budget of ``space`` (see :func:`archsearch.prior.profile.meet_needs`)."""
    from archsearch.core.partitions import tiles
    from archsearch.prior.score import Prior

    masks = np.stack([tiles(tuple(task.input_shape), r.child[0]) for r in prof.meets])
    reference = Prior.for_space(masks, np.ones(len(masks)), space).reference_log2
    return meet_needs([r.surrogate_total for r in prof.meets], reference)




def check_pool(task: Task, pool: int | list[int], space: Space | None = None) -> list[int]:
    """The canonical levels of ``task``'s grid when every level pools by ``pool``; refused in one line when
    there is none, or when the levels stop short of the whole grid (a level where inputs meet would be left
    out silently), unless ``space`` is given: the meets then follow its first schedule
    (:func:`check_meets_space`), which may pool by 2 and then by 3."""
    from archsearch.core.partitions import PartitionError, canonical_levels

    if isinstance(pool, list) and len(pool) != len(task.input_shape):
        raise InputError(f"--pool gives {len(pool)} sizes for a {len(task.input_shape)}D input", field="--pool")
    try:
        levels = canonical_levels(task.input_shape, pool)
    except PartitionError as exc:
        raise InputError(str(exc), field="--pool") from None
    if not levels:
        raise InputError(f"pooling by {pool} has no canonical level on {list(task.input_shape)}", field="--pool")
    win = [pool] * len(task.input_shape) if isinstance(pool, int) else list(pool)
    if space is None and [w ** (levels[-1] + 1) for w in win] != list(task.input_shape):
        left = [g // (w ** levels[-1]) for g, w in zip(task.input_shape, win, strict=True)]
        raise InputError(f"pooling by {pool} at every level does not reach the whole {list(task.input_shape)} grid "
                         f"(its top level would pool {left}, another window); profile measures one window at every "
                         "level, so that level would be left out: give a grid that is a power of --pool, or "
                         "--space with a schedule that reaches the whole grid", field="--pool")
    return levels


@dataclass(frozen=True)
class TaskProfile:
    """What ``profile`` measured: the profile itself (:func:`~archsearch.prior.profile.measure_profile`), the
    needs per meet level for a space's budget (None without a space), the weights per meet level, and the
    JSON report (:meth:`to_dict`)."""

    task: str
    profile: Any
    meet_needs: np.ndarray | None
    weights: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        prof, needs, weights = self.profile, self.meet_needs, self.weights
        return {
            "task": self.task, "samples": prof.samples, "theta": prof.theta, "pool": list(prof.pool),
            "levels": [{"level": r.level, "windows": r.windows, "entropy_nats": r.entropy, "need_bits": r.need_bits,
                        "surrogate": r.surrogate} for r in prof.rows if r.level is not None],
            "partitions": [{"name": r.name, "entropy_nats": r.entropy, "need_bits": r.need_bits,
                            "surrogate": r.surrogate} for r in prof.rows if r.level is None],
            "meets": [{"level": r.level, "windows": r.windows, "entropy_nats": r.entropy, "bits": r.need_bits,
                       "surrogate_per_pair": r.surrogate, "pairs": r.pairs, "surrogate_total": r.surrogate_total,
                       "weight": float(weights[i]), **({} if needs is None else {"need_bits": float(needs[i])})}
                      for i, r in enumerate(prof.meets)],
        }


def profile_task(task: Task, x: np.ndarray, y: np.ndarray, pool: int | list[int], space: Space | None = None, *,
                 samples: int = 256, windows: int = 16, theta: float = 0.085, seed: int = 0) -> TaskProfile:
    """Measure ``task``'s profile on its training images ``x`` (labels ``y``): every canonical level, each
    of its own partitions, and where correlations meet; with ``space``, the meet needs for its budget."""
    from threadpoolctl import threadpool_limits

    own = [p for p in task.partitions if p.kind != "canonical"]
    masks = np.stack([p.mask for p in own]) if own else np.zeros((0, *task.input_shape), bool)
    # one BLAS thread: these small matrices gain little from more, and with another busy process on the
    # machine a threaded BLAS ran 40 times slower here (175 s against 4 s for digits-local-32)
    with threadpool_limits(limits=1):
        prof = measure_profile(x, y, task.input_shape, masks, [p.name for p in own], pool=pool, samples=samples,
                               windows=windows, theta=theta, seed=seed,
                               schedule=None if space is None else space.schedules[0])
    needs = meet_needs_for(space, task, prof) if space is not None else None
    weights = meet_weights([r.surrogate_total for r in prof.meets]) if prof.meets else np.zeros(0)
    return TaskProfile(task.name, prof, needs, weights)


def profiled_text(raw: dict[str, Any], result: TaskProfile, needs: str, version: str, own_names: list[str],
                  space_name: str = "") -> str:
    """The profiled task file: the header saying how its needs were measured, then the task's mapping
    ``raw`` with them (``needs``: one of :data:`NEEDS`)."""
    import yaml

    prof = result.profile
    levels = [r.level for r in prof.meets]
    if needs == "meets":
        text = _MEETS.format(version=version, samples=prof.samples, space=space_name)
        out = meets_task(raw, levels, [r.child[0] for r in prof.meets], needs=result.meet_needs)
    elif needs == "share":
        text = _SHARE.format(version=version, samples=prof.samples)
        out = meets_task(raw, levels, [r.child[0] for r in prof.meets], weights=result.weights)
    else:
        text = _SCALE.format(version=version, samples=prof.samples, theta=prof.theta,
                             pool="x".join(map(str, prof.pool)))
        out = profiled_task(raw, prof, own_names)
    name = str(out.get("name", ""))
    if name and not name.endswith("-profiled"):  # a task of its own: a study of the original keeps its name
        out["name"] = f"{name}-profiled"
    return text + yaml.safe_dump(out, sort_keys=False, width=110)
