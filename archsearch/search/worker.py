"""One process's share of a study: the objective and sampler rebuilt from the study's recipe, then
:func:`~archsearch.search.study.run_study` until the study holds its trials.

``archsearch search`` creates the study, stores its :class:`~archsearch.search.recipe.Recipe` and works
on it; ``archsearch worker`` joins a study on any machine that reaches the storage and does the same;
``search --workers W`` starts W - 1 such workers on this machine beside itself (:func:`spawn_workers`),
which is also how one GPU runs several of these small trainings at once. Everything here is validated
and the data built before any storage is touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archsearch.errors import InputError
from archsearch.search.recipe import Recipe

if TYPE_CHECKING:
    import optuna

    from archsearch.formats.space import Space
    from archsearch.formats.task import Task
    from archsearch.prior.score import Prior

__all__ = ["Work", "cpu_threads", "create_search_study", "prepare", "sampler_for", "set_cpu_threads",
           "spawn_workers", "stop_workers", "work_on", "work_with_helpers"]


@dataclass
class Work:
    """What a process needs to work on a study: the recipe, what it builds, and the objective."""

    recipe: Recipe
    task: Task
    space: Space
    prior: Prior
    objective: Callable[[Any], Any]
    catch: tuple[type[BaseException], ...]
    fingerprint: str
    directions: list[str]
    device: str = "cpu"


def cpu_threads(threads: int | None = None) -> int:
    """torch threads per training process on CPU: ``threads`` when given, else 1. Measured on 2 cores
    (``benchmarks/bench_build.py``): one single-threaded process trains at 0.91x the speed of one with
    torch's default threads on an idle machine, but holds 0.85x of its own idle speed beside a busy
    process, where the default-threads one falls to 0.33x. More throughput comes from more processes
    (``--workers``), not threads."""
    return 1 if threads is None else threads


def set_cpu_threads(device: str, threads: int | None = None) -> None:
    """On CPU, this process trains with :func:`cpu_threads` torch threads."""
    import torch

    if device == "cpu":
        torch.set_num_threads(cpu_threads(threads))


def prepare(recipe: Recipe, study_name: str, *, device: str = "auto", runs_dir: str | Path = "runs",
            threads: int | None = None, on_epoch: Callable[[Any, dict], None] | None = None,
            loaded: tuple[Task, Space] | None = None) -> Work:
    """Validate the recipe's files, build the prior, and for training load the data and pick the device
    (``threads``: torch threads on CPU, see :func:`cpu_threads`); no storage is opened. ``loaded``: the task
    and space the caller already parsed from the recipe's own text (so they are not parsed twice)."""
    from archsearch.prior.score import Prior
    from archsearch.search.study import fingerprint

    task, space = loaded if loaded is not None else recipe.load()
    runs_dir = Path(runs_dir)
    prior = Prior.for_task(task, space, recipe.prior)
    directions = ["maximize"] * (len(task.partitions) if recipe.mode == "pareto" else 1)
    fp = fingerprint(task, space, recipe.mode, recipe.prior)
    if recipe.kind == "bench":  # a table's study is also bound to its settings and layouts
        import json

        from archsearch.search.objectives import bench_objective
        from archsearch.train.loop import resolve_device

        fp = fingerprint(task, space, "bench:" + json.dumps(recipe.bench, sort_keys=True), recipe.prior)
        dev = resolve_device(device)
        set_cpu_threads(dev, threads)
        objective = bench_objective(recipe, task, space, dev, runs_dir / ".cache")
        return Work(recipe, task, space, prior, objective, (), fp, directions, dev)
    if recipe.mode != "trained":
        from archsearch.search.objectives import prior_objective

        return Work(recipe, task, space, prior, prior_objective(task, space, prior, pareto=recipe.mode == "pareto"),
                    (), fp, directions)
    if task.data is None:
        raise InputError("a trained search needs a 'data' section in the task", recipe.task_path, "data")
    from archsearch.search.objectives import TrainedSettings, trained_objective
    from archsearch.search.warm_floor import WARM_START, prior_floor
    from archsearch.train.config import TrainConfig
    from archsearch.train.data import load_task_data
    from archsearch.train.loop import resolve_device

    dev = resolve_device(device)
    set_cpu_threads(dev, threads)
    data = load_task_data(task, space.classes, space.in_channels, recipe.train, recipe.test,
                          cache_dir=runs_dir / ".cache", val=recipe.val)
    warm = recipe.guide == "warm-floor"
    settings = TrainedSettings(
        TrainConfig(epochs=recipe.epochs, seed=recipe.seed, device=dev),
        floor=prior_floor(space, prior, seed=recipe.seed) if warm else float("-inf"),
        metrics_dir=runs_dir / study_name / "trials", warm_start=WARM_START if warm else 0,
        artifacts=runs_dir / study_name / "artifacts")
    objective, catch = trained_objective(task, space, prior, data, settings, on_epoch=on_epoch)
    return Work(recipe, task, space, prior, objective, catch, fp, directions, dev)


def sampler_for(work: Work, seed: int) -> optuna.samplers.BaseSampler:
    """The recipe's sampler, seeded with ``seed``; the prior's guidance (picks, draws) is seeded by the
    recipe alone, so that every worker agrees on it."""
    import optuna

    from archsearch.search.strategies import make_sampler

    r = work.recipe
    if r.kind == "bench":  # every trial is an enqueued run; nothing is sampled
        return optuna.samplers.RandomSampler(seed=seed)
    if r.sampler == "exhaustive":  # trial k is the prior's k-th best layout: the same in every worker
        return make_sampler("prior-top", work.space, work.prior, seed, r.trials)
    strategy = r.sampler if r.guide == "none" else r.guide
    return make_sampler(strategy, work.space, work.prior, seed, r.trials, base=r.sampler, task=work.task,
                        guide_seed=r.seed)


def create_search_study(work: Work, name: str, storage: str, space_label: str = "") -> optuna.Study:
    """The study of a search ``archsearch search`` starts (or resumes): created on ``storage`` if new
    (refused when the same name holds another task's study), its sampler seeded by the trials already
    there, the recipe and the attributes ``studies`` lists stored, and its note written."""
    from archsearch.search import study as search
    from archsearch.search.dashboard import describe_study

    probe = search.open_study(name, storage, fp=work.fingerprint, directions=work.directions, create=True)
    sampler = sampler_for(work, worker_seed(work.recipe, len(probe.trials), joined=False))
    study = search.open_study(name, storage, fp=work.fingerprint, sampler=sampler)
    task, space = work.task, work.space
    for key, value in {"fingerprint": work.fingerprint, "task": task.name, "space": space.name or space_label,
                       "mode": work.recipe.mode, "partitions": task.names, "model": space.model}.items():
        study.set_user_attr(key, value)
    work.recipe.store(study)
    describe_study(study, work.recipe, task, space)
    return study


def worker_seed(recipe: Recipe, trials_so_far: int, joined: bool) -> int:
    """The base sampler's seed: the recipe's seed plus the trials already stored (a resumed search draws
    fresh proposals); a joining worker adds its host and pid, so workers started together differ."""
    seed = recipe.seed + trials_so_far
    if joined:
        import socket

        seed += zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode()) % 1_000_003
    return seed % 2**31


def work_on(study: optuna.Study, work: Work, *, progress: bool = True, bar: Any = None, batched: bool = False):
    """Reap what dead workers left, then run until the study holds the recipe's trials; ``batched``: a
    prior-only search's trials run in memory and are stored in batches (:mod:`archsearch.search.batched`)."""
    from archsearch.search import study as search

    reaped = search.reap_dead_trials(study)
    if reaped:
        print(f"{reaped} trial(s) left RUNNING by a dead process: marked FAIL and queued again", file=sys.stderr)
    if batched and work.recipe.mode != "trained":
        from archsearch.search.batched import run_batched

        return run_batched(study, work.objective, work.recipe.trials, progress=progress, catch=work.catch,
                           max_failures=work.recipe.max_failures, bar=bar)
    return search.run_study(study, work.objective, work.recipe.trials, progress=progress, catch=work.catch,
                            max_failures=work.recipe.max_failures, bar=bar)


def spawn_workers(n: int, study_name: str, storage: str, *, device: str, runs_dir: str | Path,
                  threads: int | None) -> list[subprocess.Popen]:
    """Start ``n`` ``archsearch worker`` processes on this machine for the study (their progress bars off,
    their one-line messages on this stderr)."""
    cmd = [sys.executable, "-m", "archsearch", "worker", "--study-name", study_name, "--storage", storage,
           "--device", device, "--runs-dir", str(runs_dir), "--no-progress"]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    return [subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL) for _ in range(n)]


def stop_workers(procs: list[subprocess.Popen], signum: int | None = None, timeout: float = 600.0) -> list[int]:
    """Wait for the spawned workers (after passing them ``signum``, if given); their exit statuses."""
    import signal as _signal

    for p in procs:
        if signum is not None and p.poll() is None:
            p.send_signal(signum if signum in (_signal.SIGINT, _signal.SIGTERM) else _signal.SIGTERM)
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            p.kill()
            codes.append(p.wait())
    return codes


def work_with_helpers(study: optuna.Study, work: Work, storage: str, *, workers: int = 1,
                      runs_dir: str | Path = "runs", threads: int | None = None, progress: bool = True,
                      bar: Any = None, batched: bool = False):
    """:func:`work_on` here, beside ``workers - 1`` ``archsearch worker`` processes on this machine (a
    Ctrl-C or SIGTERM reaches them too; they are waited for); the bar is closed at the end."""
    helpers = spawn_workers(workers - 1, study.study_name, storage, device=work.device, runs_dir=runs_dir,
                            threads=threads) if workers > 1 else []
    signum = None
    try:
        return work_on(study, work, progress=progress, bar=bar, batched=batched and workers <= 1)
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", 2)
        raise
    finally:
        if bar is not None:
            bar.close()
        if helpers:
            stop_workers(helpers, signum)
