"""Optuna objectives, thin on purpose: suggest a layout, call the pure scorer or the trainer, store what
was found as user attributes (optuna-dashboard shows them).

Layouts outside the budget are kept but marked infeasible (Optuna's constraint API: ``max_params`` and
``min_params`` > 0) and never exported; a trained search prunes them untrained.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import Trial, TrialState

from archsearch.core.layout import Layout
from archsearch.formats.space import Space
from archsearch.formats.task import Task
from archsearch.prior.score import Prior, PriorResult
from archsearch.search.dashboard import mark_constraints
from archsearch.train.config import TrainConfig

if TYPE_CHECKING:
    from archsearch.train.data import Dataset

__all__ = [
    "TrainedSettings", "bench_objective", "layout_params", "params_layout", "prior_objective", "record_layout",
    "suggest_layout",
    "trained_objective",
]


def suggest_layout(trial: Trial, space: Space) -> Layout:
    """Ask ``trial`` for a schedule, an M and one channel count per layer."""
    sched = trial.suggest_categorical("schedule", list(range(len(space.schedules)))) if len(space.schedules) > 1 else 0
    m = trial.suggest_categorical("M", list(space.M)) if len(space.M) > 1 else space.M[0]
    channels = []
    for l in range(len(space.schedules[sched])):
        if space.channel_choices is not None:
            channels.append(trial.suggest_categorical(f"r{l}", list(space.channel_choices)))
        else:
            low, high, log = space.channel_range
            channels.append(trial.suggest_int(f"r{l}", low, high, log=log))
    return space.layout(sched, m, channels)


def layout_params(space: Space, schedule: int, M: int, channels: Sequence[int]) -> dict[str, Any]:
    """The trial parameters :func:`suggest_layout` would read back as this layout."""
    params: dict[str, Any] = {}
    if len(space.schedules) > 1:
        params["schedule"] = int(schedule)
    if len(space.M) > 1:
        params["M"] = int(M)
    params.update({f"r{l}": int(c) for l, c in enumerate(channels)})
    return params


def params_layout(space: Space, params: dict[str, Any]) -> Layout:
    """The layout :func:`suggest_layout` reads from these trial parameters (the inverse of
    :func:`layout_params`)."""
    sched = int(params.get("schedule", 0))
    return space.layout(sched, int(params.get("M", space.M[0])),
                        [int(params[f"r{l}"]) for l in range(len(space.schedules[sched]))])


def record_layout(trial: Trial, layout: Layout, space: Space, prior: Prior, task: Task) -> PriorResult:
    """Score ``layout`` with the prior and store it, its size and its cuts on ``trial``."""
    res = prior(layout)
    params = res.params
    trial.set_user_attr("layout", layout.to_dict())
    trial.set_user_attr("channels", list(layout.channels))
    trial.set_user_attr("params", params)
    trial.set_user_attr("prior_score", res.score)
    trial.set_user_attr("log2_mincut", {n: float(v) for n, v in zip(task.names, res.log2_mincut, strict=True)})
    trial.set_user_attr("feasible", space.fits(params))
    # Optuna's constraint API: feasible when every value is <= 0 (TPE and NSGA-II read it; written in the
    # form optuna-dashboard reads too)
    mark_constraints(trial, {"max_params": params - space.max_params, "min_params": space.min_params - params})
    return res


def prior_objective(task: Task, space: Space, prior: Prior, pareto: bool = False) -> Callable[[Trial], Any]:
    """Objective maximising the prior score (or, with ``pareto``, each partition's ratio)."""

    def objective(trial: Trial) -> float | list[float]:
        res = record_layout(trial, suggest_layout(trial, space), space, prior, task)
        return [float(r) for r in res.ratios] if pareto else res.score

    return objective


@dataclass(frozen=True)
class TrainedSettings:
    """How a trained search trains each trial: the training itself (``train``; trial k trains with seed
    ``train.seed + k``), and what the search adds around it."""

    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=5))
    floor: float = float("-inf")  #: layouts the prior scores below this are pruned untrained
    metrics_dir: Path | None = None  #: per-epoch metrics, one jsonl file per trial
    warm_start: int = 0  #: trials numbered below this are the prior's picks
    artifacts: Path | None = None  #: where each trained trial's layout picture goes (an Optuna artifact store)


def trained_objective(task: Task, space: Space, prior: Prior, data: Dataset, settings: TrainedSettings,
                      on_epoch: Callable[[Trial, dict], None] | None = None) -> tuple[Callable[[Trial], float], tuple]:
    """Objective that trains each proposed layout and returns its **validation** accuracy (the search
    selects on it; the test accuracy is stored as ``test_accuracy``, never optimised); with the exceptions
    that mark a trial FAIL while the search goes on."""
    import torch

    from archsearch.search.study import interrupt_requested
    from archsearch.train.loop import TrainingFailed, pick_device, train
    from archsearch.train.models import build_model

    device = pick_device(settings.train.device)
    if settings.metrics_dir is not None:
        settings.metrics_dir.mkdir(parents=True, exist_ok=True)

    def objective(trial: Trial) -> float:
        if trial.number < settings.warm_start and "retry_of" not in trial.user_attrs:
            trial.set_user_attr("warm_start", True)
        layout = suggest_layout(trial, space)
        res = record_layout(trial, layout, space, prior, task)
        if not space.fits(res.params):
            trial.set_user_attr("skipped", "over budget")
            raise optuna.TrialPruned("over budget")
        if res.score < settings.floor:
            trial.set_user_attr("skipped", f"prior score {res.score:.4f} below the floor {settings.floor:.4f}")
            raise optuna.TrialPruned("prior score below the floor")
        for done in trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            if done.user_attrs.get("layout") == layout.to_dict():  # proposed again: reuse, don't retrain
                trial.set_user_attr("duplicate_of", done.number)
                for key in ("val_accuracy", "test_accuracy"):
                    trial.set_user_attr(key, done.user_attrs.get(key))
                return float(done.value)
        cfg = replace(settings.train, seed=settings.train.seed + trial.number, device=str(device))
        metrics = settings.metrics_dir / f"{trial.number:05d}.jsonl" if settings.metrics_dir else None

        def log_epoch(row: dict) -> None:
            if metrics is not None:
                with metrics.open("a") as f:
                    f.write(json.dumps(row) + "\n")
            trial.report(row["val_accuracy"], row["epoch"])
            if on_epoch is not None:
                on_epoch(trial, row)
            if interrupt_requested():  # Ctrl-C or SIGTERM: give up this trial between epochs, cleanly
                trial.set_user_attr("interrupted", True)
                raise KeyboardInterrupt

        try:
            out = train(build_model(layout, space.model, seed=cfg.seed), data, cfg, on_epoch=log_epoch)
        except torch.OutOfMemoryError as exc:
            trial.set_user_attr("fail_reason", f"out of memory: {exc}".splitlines()[0])
            raise TrainingFailed(f"out of memory: {exc}".splitlines()[0]) from None
        except TrainingFailed as exc:  # the trial is marked FAIL with its reason; the search goes on
            trial.set_user_attr("fail_reason", str(exc))
            raise
        finally:
            if device.type == "cuda":
                torch.cuda.empty_cache()
        trial.set_user_attr("val_accuracy", out["val_accuracy"])
        trial.set_user_attr("test_accuracy", out["test_accuracy"])
        trial.set_user_attr("device", out["device"])
        if settings.artifacts is not None:
            _picture(trial, task, layout, settings.artifacts)
        return out["val_accuracy"]

    return objective, (TrainingFailed,)


def _picture(trial: Trial, task: Task, layout: Layout, folder: Path) -> None:
    """The trial's layout picture as an Optuna artifact; a picture that cannot be made costs the trial
    nothing (the reason is kept)."""
    from archsearch.search.dashboard import artifact_store, attach_layout_picture

    try:
        attach_layout_picture(trial, task, layout, artifact_store(folder))
    except Exception as exc:  # noqa: BLE001
        trial.set_user_attr("layout_picture_error", " ".join(f"{type(exc).__name__}: {exc}".split())[:300])


def bench_objective(recipe: Any, task: Task, space: Space, device: str, cache_dir: str | Path):
    """The objective of a table's study: a trial is one enqueued run (``layout``, ``seed``), trained with
    the table's settings; its row is the user attribute ``run`` and its value the validation accuracy
    (0 for a run whose training failed: the row says why, as in a table built without a study)."""
    import optuna

    from archsearch.train.data import load_task_data
    from archsearch.train.runs import train_run

    s, layouts = recipe.bench["settings"], recipe.bench["layouts"]
    data = load_task_data(task, space.classes, space.in_channels, s["train"], s["test"], cache_dir, val=s["val"])
    by_id = {e["id"]: space.layout(e["schedule"], e["M"], e["channels"]).to_dict() for e in layouts}

    def objective(trial: optuna.Trial) -> float:
        fixed = trial.storage.get_trial(trial._trial_id).system_attrs.get("fixed_params", {})
        if not {"layout", "seed"} <= fixed.keys():  # not a planned run (whole): never train what nobody planned
            trial.set_user_attr("skipped", "no planned run left to take")
            raise optuna.TrialPruned("no planned run left")
        i = trial.suggest_int("layout", 0, max(len(layouts) - 1, 0))
        seed = trial.suggest_int("seed", 0, 10_000)
        row = train_run(i, seed, by_id[i], s, data, device)
        trial.set_user_attr("run", row)
        return float(row.get("val_accuracy", 0.0))

    return objective
