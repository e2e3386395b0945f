"""``archsearch profile``: measure, from a task's training data, how much it correlates across every
partition at every scale, and write the task back with those needs."""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from archsearch.cli.args import float_above_zero, int_in, plot_path, writable_dir
from archsearch.errors import InputError
from archsearch.formats.files import write_atomic

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


def _pool(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int or h,w, got {text[:40]!r}") from None
    if not 1 <= len(values) <= 2 or not all(2 <= v <= 64 for v in values):
        raise argparse.ArgumentTypeError(f"expected one or two window sizes in 2..64, got {text[:40]!r}")
    return values


def _out_path(text: str) -> Path:
    path = Path(text)
    if path.suffix not in (".yaml", ".yml"):
        raise argparse.ArgumentTypeError(f"the profiled task is a .yaml file, got {text!r}")
    writable_dir(str(path.parent) or ".")
    return path


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


def meets_task(raw: dict[str, Any], levels: list[int], pool: int, needs: np.ndarray | None = None,
               weights: np.ndarray | None = None) -> dict[str, Any]:
    """The task file's mapping with one partition per meet level (``kind: tiles`` of the level's children,
    its weight (default 1) and its need in bits, if given) after the task's own partitions; a name the
    task already uses is prefixed."""
    out = copy.deepcopy(raw)
    taken = {str(e.get("name")) for e in out["partitions"]}
    for i, k in enumerate(levels):
        name = f"meet-{k}" if f"meet-{k}" not in taken else f"profiled-meet-{k}"
        entry = {"name": name, "kind": "tiles", "size": int(pool) ** (k - 1),
                 "weight": 1.0 if weights is None else round(float(weights[i]), 3)}
        if needs is not None:
            entry["need"] = round(float(needs[i]), 3)
        out["partitions"].append(entry)
    return out


def _space_for_meets(space_path: str, task: Any, pool: int | list[int]) -> Any:
    """The search space whose budget the meet needs are for, checked before any data is read: same input
    shape, and a first schedule that pools by ``pool`` at every layer (the tree the meets are measured in)."""
    from archsearch.formats.space import load_space

    space = load_space(space_path)
    if tuple(space.input_shape) != tuple(task.input_shape):
        raise InputError(f"input_shape {list(space.input_shape)} does not match the task's {list(task.input_shape)}",
                         space_path, "input_shape")
    win = tuple([pool] * len(task.input_shape) if isinstance(pool, int) else pool)
    if len(set(win)) > 1:
        raise InputError("needs where correlations meet take one pooling window for every axis", field="--pool")
    if any(tuple(w) != win for w in space.schedules[0]):
        raise InputError(f"the needs are where correlations meet in the space's pooling tree: its first schedule "
                         f"must pool by {list(win)} at every layer (--pool)", space_path, "schedules")
    return space


def _meet_needs(space: Any, task: Any, prof: Any) -> np.ndarray:
    """Needs per meet level for the budget of ``space`` (see :func:`archsearch.prior.profile.meet_needs`)."""
    from archsearch.core.partitions import tiles
    from archsearch.prior.profile import meet_needs
    from archsearch.prior.score import Prior

    masks = np.stack([tiles(tuple(task.input_shape), prof.pool[0] ** (r.level - 1)) for r in prof.meets])
    reference = Prior.for_space(masks, np.ones(len(masks)), space).reference_log2
    return meet_needs([r.surrogate_total for r in prof.meets], reference)


def cmd_profile(args: argparse.Namespace) -> int:
    from archsearch import __version__
    from archsearch.evidence.outputs import json_text, refuse_overwrite
    from archsearch.formats.task import load_task
    from archsearch.formats.yamlio import read_yaml
    from archsearch.prior.profile import measure_profile, meet_weights
    from archsearch.train.data import load_data

    task = load_task(args.task)
    if task.data is None:
        raise InputError("profiling measures the task's data: it needs a 'data' section", args.task, "data")
    pool: int | list[int] = 2 if args.pool is None else args.pool[0] if len(args.pool) == 1 else args.pool
    if isinstance(pool, list) and len(pool) != len(task.input_shape):
        raise InputError(f"--pool gives {len(pool)} sizes for a {len(task.input_shape)}D input", field="--pool")
    if args.out is not None and args.needs == "meets" and args.space is None:
        raise InputError("--needs meets writes needs for a budget: give --space SPACE.yaml (or --needs share)",
                         field="--space")
    if args.out is not None:
        refuse_overwrite(args.out, args.force, "--out")
        if Path(args.out).resolve() == Path(args.task).resolve():
            raise InputError("--out would overwrite the task itself; give another file", field="--out")
    if args.plot is not None:
        refuse_overwrite(args.plot, args.force, "--plot")
    from archsearch.core.partitions import PartitionError, canonical_levels

    try:
        levels = canonical_levels(task.input_shape, pool)
        if not levels:
            raise InputError(f"pooling by {pool} has no canonical level on {list(task.input_shape)}", field="--pool")
    except PartitionError as exc:
        raise InputError(str(exc), field="--pool") from None
    win = [pool] * len(task.input_shape) if isinstance(pool, int) else list(pool)
    top = [w ** (levels[-1] + 1) for w in win]
    if top != list(task.input_shape):  # the levels stop short of the whole grid: never drop one silently
        left = [g // (w ** levels[-1]) for g, w in zip(task.input_shape, win, strict=True)]
        raise InputError(f"pooling by {pool} at every level does not reach the whole {list(task.input_shape)} grid "
                         f"(its top level would pool {left}, another window); profile measures one window at every "
                         "level, so that level would be left out: give a grid that is a power of --pool",
                         field="--pool")
    space = _space_for_meets(args.space, task, pool) if args.space is not None else None
    data = load_data(task.data, task.input_shape, args.runs_dir / ".cache")
    own = [p for p in task.partitions if p.kind != "canonical"]
    masks = np.stack([p.mask for p in own]) if own else np.zeros((0, *task.input_shape), bool)
    from threadpoolctl import threadpool_limits

    # one BLAS thread: these small matrices gain little from more, and with another busy process on the
    # machine a threaded BLAS ran 40 times slower here (175 s against 4 s for digits-local-32)
    with threadpool_limits(limits=1):
        prof = measure_profile(data.train.x, data.train.y, task.input_shape, masks, [p.name for p in own],
                               pool=pool, samples=args.samples, windows=args.windows, theta=args.theta,
                               seed=args.seed)
    meet_needs = _meet_needs(space, task, prof) if space is not None else None
    weights = meet_weights([r.surrogate_total for r in prof.meets]) if prof.meets else np.zeros(0)
    report = {
        "task": task.name, "samples": prof.samples, "theta": prof.theta, "pool": list(prof.pool),
        "levels": [{"level": r.level, "windows": r.windows, "entropy_nats": r.entropy, "need_bits": r.need_bits,
                    "surrogate": r.surrogate} for r in prof.rows if r.level is not None],
        "partitions": [{"name": r.name, "entropy_nats": r.entropy, "need_bits": r.need_bits,
                        "surrogate": r.surrogate} for r in prof.rows if r.level is None],
        "meets": [{"level": r.level, "windows": r.windows, "entropy_nats": r.entropy, "bits": r.need_bits,
                   "surrogate_per_pair": r.surrogate, "pairs": r.pairs, "surrogate_total": r.surrogate_total,
                   "weight": float(weights[i]), **({} if meet_needs is None else {"need_bits": float(meet_needs[i])})}
                  for i, r in enumerate(prof.meets)],
    }
    if args.plot is not None:  # first: a picture that cannot be made leaves no task file behind
        from archsearch.evidence.plots import plot_profile

        plot_profile(report, args.plot)
    if args.out is not None:
        raw, _ = read_yaml(args.task)
        if args.needs == "meets":
            text = _MEETS.format(version=__version__, samples=prof.samples, space=Path(args.space).name)
            out = meets_task(raw, [r.level for r in prof.meets], prof.pool[0], needs=meet_needs)
        elif args.needs == "share":
            text = _SHARE.format(version=__version__, samples=prof.samples)
            out = meets_task(raw, [r.level for r in prof.meets], prof.pool[0], weights=weights)
        else:
            text = _SCALE.format(version=__version__, samples=prof.samples, theta=prof.theta,
                                 pool="x".join(map(str, prof.pool)))
            out = profiled_task(raw, prof, [p.name for p in own])
        text += yaml.safe_dump(out, sort_keys=False, width=110)
        load_task(args.out, text)  # what is written reads back as a valid task
        write_atomic(args.out, text)
    if args.json:
        print(json_text(report))
        return 0
    print(f"task {task.name}: {prof.samples} training images, theta {prof.theta}, pooling windows "
          f"{'x'.join(map(str, prof.pool))}")
    print(f"{'partition':24} {'windows':>7} {'entropy (nats)':>14} {'need (bits)':>11} {'surrogate':>10}")
    for r in prof.rows:
        name = f"canonical level {r.level}" if r.level is not None else r.name
        print(f"{name:24} {r.windows:>7} {r.entropy:>14.3f} {r.need_bits:>11.3f} {r.surrogate:>10.1f}")
    if prof.meets:
        print("where correlations meet: each level-k window's children against each other")
        need_head = "" if meet_needs is None else f" {'need (bits)':>11}"
        print(f"{'level':24} {'windows':>7} {'entropy (nats)':>14} {'bits':>11} {'|corr|/pair':>11} "
              f"{'sum |corr|':>10} {'weight':>7}{need_head}")
        for i, r in enumerate(prof.meets):
            need = "" if meet_needs is None else f" {meet_needs[i]:>11.2f}"
            print(f"{'meet level ' + str(r.level):24} {r.windows:>7} {r.entropy:>14.3f} {r.need_bits:>11.3f} "
                  f"{r.surrogate:>11.3f} {r.surrogate_total:>10.1f} {weights[i]:>7.2f}{need}")
    for what, path in (("profiled task", args.out), ("picture", args.plot)):
        if path is not None:
            print(f"wrote {what} {path}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="measure the correlation a task's data carries across each partition",
                       description="Measure, from the task's training images, the entanglement entropy of the "
                                   "empirical data tensor (and the summed |correlation| surrogate) across every "
                                   "canonical level of the pooling tree and each of the task's partitions, and "
                                   "where correlations meet at every level; optionally (--space, --out) write the task "
                                   "back with needs for the space's budget.")
    p.add_argument("task", help="task spec (YAML) with a data section")
    p.add_argument("--out", type=_out_path, metavar="TASK-profiled.yaml", help="write the task with measured needs")
    p.add_argument("--space", metavar="SPACE.yaml",
                   help="the search space whose budget the needs are for (its reference layout); --out needs it "
                        "with --needs meets")
    p.add_argument("--needs", choices=("share", "meets", "entropy"), default="share",
                   help="what --out writes: share (default): one partition per level where correlations meet, "
                        "weighted by its share of the summed |corr|, no need stated (the reference's capacity); "
                        "meets: the same partitions with needs from the summed |corr| meeting there, scaled to "
                        "the space's reference; entropy: each partition's and canonical level's entropy in bits")
    p.add_argument("--samples", type=int_in(8, 4096), default=256,
                   help="training images in the sample (the entropy is at most ln of this)")
    p.add_argument("--windows", type=int_in(1, 4096), default=16, help="windows averaged per canonical and meet level")
    p.add_argument("--pool", type=_pool, help="pooling window per axis, as the layouts pool (default: 2)")
    p.add_argument("--theta", type=float_above_zero(0.5), default=0.085,
                   help="embedding angle, a fraction of pi (default 0.085)")
    p.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0, help="seed of the sample and the windows")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--plot", type=plot_path, metavar="FILE", help="bar chart of the needs per level (.png, .pdf, .svg)")
    p.add_argument("--force", action="store_true", help="overwrite existing --out / --plot files")
    p.add_argument("--runs-dir", type=writable_dir, default=Path("runs"), help="where the data cache goes")
    p.set_defaults(func=cmd_profile)


__all__ = ["add_commands", "cmd_profile", "meets_task", "profiled_task"]
