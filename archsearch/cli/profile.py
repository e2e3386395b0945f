"""``archsearch profile``: measure, from a task's training data, how much it correlates across every
partition at every scale, and write the task back with those needs."""

from __future__ import annotations

import argparse
from pathlib import Path

from archsearch.cli.args import emit, float_above_zero, int_in, plot_path, shipped_or_path, writable_dir
from archsearch.errors import InputError
from archsearch.formats.files import write_atomic


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


def cmd_profile(args: argparse.Namespace) -> int:
    from archsearch import __version__
    from archsearch.formats.space import load_space
    from archsearch.formats.task import load_task
    from archsearch.formats.yamlio import read_yaml
    from archsearch.prior.profiled import check_meets_space, check_pool, profile_task, profiled_text
    from archsearch.train.data import load_data

    task = load_task(args.task)
    if task.data is None:
        raise InputError("profiling measures the task's data: it needs a 'data' section", args.task, "data")
    pool: int | list[int] = 2 if args.pool is None else args.pool[0] if len(args.pool) == 1 else args.pool
    _check_outputs(args)
    space = check_meets_space(load_space(args.space), task, args.space) if args.space is not None else None
    check_pool(task, pool, space)
    from archsearch.cli.args import stage_printer

    say = stage_printer("profile") or (lambda _step: None)  # on a terminal: what it does, and since when
    say("the task's images (built once, then read from the cache)")
    data = load_data(task.data, task.input_shape, args.runs_dir / ".cache")
    say("entanglement entropy and the correlation surrogate of every window")
    result = profile_task(task, data.train.x, data.train.y, pool, space, samples=args.samples, windows=args.windows,
                          theta=args.theta, seed=args.seed)
    if args.plot is not None:  # first: a picture that cannot be made leaves no task file behind
        from archsearch.evidence.plots import plot_profile

        plot_profile(result.to_dict(), args.plot)
    if args.out is not None:
        text = profiled_text(read_yaml(args.task)[0], result, args.needs, __version__,
                             [p.name for p in task.partitions if p.kind != "canonical"],
                             Path(args.space).name if args.space else "")
        load_task(args.out, text)  # what is written reads back as a valid task
        write_atomic(args.out, text)
    emit(args, result.to_dict(), lambda: _print_profile(result, args))
    return 0


def _check_outputs(args: argparse.Namespace) -> None:
    """--out and --plot: refused before any work when they would overwrite (the task itself, or a file
    without --force), or when --needs meets has no --space to state needs for."""
    from archsearch.evidence.outputs import refuse_overwrite

    if args.out is not None and args.needs == "meets" and args.space is None:
        raise InputError("--needs meets writes needs for a budget: give --space SPACE.yaml (or --needs share)",
                         field="--space")
    if args.out is not None:
        refuse_overwrite(args.out, args.force, "--out")
        if Path(args.out).resolve() == Path(args.task).resolve():
            raise InputError("--out would overwrite the task itself; give another file", field="--out")
    if args.plot is not None:
        refuse_overwrite(args.plot, args.force, "--plot")


def _print_profile(result, args: argparse.Namespace) -> None:
    prof, needs, weights = result.profile, result.meet_needs, result.weights
    print(f"task {result.task}: {prof.samples} training images, theta {prof.theta}, pooling windows "
          f"{'x'.join(map(str, prof.pool))}")
    print(f"{'partition':24} {'windows':>7} {'entropy (nats)':>14} {'need (bits)':>11} {'surrogate':>10}")
    for r in prof.rows:
        name = f"canonical level {r.level}" if r.level is not None else r.name
        print(f"{name:24} {r.windows:>7} {r.entropy:>14.3f} {r.need_bits:>11.3f} {r.surrogate:>10.1f}")
    if prof.meets:
        print("where correlations meet: each level-k window's children against each other")
        need_head = "" if needs is None else f" {'need (bits)':>11}"
        print(f"{'level':24} {'windows':>7} {'entropy (nats)':>14} {'bits':>11} {'|corr|/pair':>11} "
              f"{'sum |corr|':>10} {'weight':>7}{need_head}")
        for i, r in enumerate(prof.meets):
            need = "" if needs is None else f" {needs[i]:>11.2f}"
            print(f"{'meet level ' + str(r.level):24} {r.windows:>7} {r.entropy:>14.3f} {r.need_bits:>11.3f} "
                  f"{r.surrogate:>11.3f} {r.surrogate_total:>10.1f} {weights[i]:>7.2f}{need}")
    if args.out is not None:  # (emit says where the picture went)
        print(f"wrote profiled task {args.out}")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="measure the correlation a task's data carries across each partition",
                       description="Measure, from the task's training images, the entanglement entropy of the "
                                   "empirical data tensor (and the summed |correlation| surrogate) across every "
                                   "canonical level of the pooling tree and each of the task's partitions, and "
                                   "where correlations meet at every level; optionally (--space, --out) write the task "
                                   "back with needs for the space's budget.")
    p.add_argument("task", type=shipped_or_path("tasks"), help="task spec (YAML, or a shipped task's name) with a "
                   "data section")
    p.add_argument("--out", type=_out_path, metavar="TASK-profiled.yaml", help="write the task with measured needs")
    p.add_argument("--space", metavar="SPACE.yaml", type=shipped_or_path("search_spaces"),
                   help="the search space (or a shipped one's name) whose budget the needs are for (its reference "
                        "layout); --out needs it with --needs meets")
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
                   help="embedding angle, a fraction of pi")
    p.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0, help="seed of the sample and the windows")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--plot", type=plot_path, metavar="FILE", help="bar chart of the needs per level (.png, .pdf, .svg)")
    p.add_argument("--force", action="store_true", help="overwrite existing --out / --plot files")
    p.add_argument("--runs-dir", type=writable_dir, default=Path("runs"), help="where the data cache goes")
    p.set_defaults(func=cmd_profile)


__all__ = ["add_commands", "cmd_profile"]
