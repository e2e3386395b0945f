"""The prior-guided trained search: Optuna proposes, the prior steers, torch trains.

How the prior guides (``archsearch search`` without ``--prior-only``):

1. **Warm start.** Before the first trial, a prior-only TPE search (300 trials, in memory, milliseconds
   each) finds the layouts the prior likes best; the top ``WARM_START`` distinct ones are enqueued, so the
   first layouts trained are the prior's picks.
2. **Skipping.** A proposed layout whose prior score is below the median score of random layouts of the
   space within the budget is pruned without training (state PRUNED, reason stored): the trainer's time
   goes to the upper half of the space as the prior sees it. Layouts over budget are pruned too.

``--no-prior`` turns both off: plain TPE or random search, the baseline.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from archsearch.formats.space import Space
from archsearch.formats.task import Task
from archsearch.formats.yamlio import InputError
from archsearch.prior.score import Prior
from archsearch.search.study import interrupt_requested, make_sampler, prior_objective, record_layout, suggest_layout

__all__ = ["WARM_START", "prior_floor", "trained_objective", "warm_start"]

WARM_START = 3


def prior_floor(space: Space, prior: Prior, n: int = 400, seed: int = 0) -> float:
    """Median prior score of random layouts within the budget."""
    scores = [prior(lay).score for lay in space.random_layouts(n, seed)]
    return float(np.median(scores)) if scores else -np.inf


def warm_start(study: optuna.Study, task: Task, space: Space, prior: Prior, k: int = WARM_START,
               trials: int = 300, seed: int = 0) -> list[dict[str, Any]]:
    """Enqueue the prior's ``k`` best distinct layouts (found by an in-memory prior-only search)."""
    pre = optuna.create_study(direction="maximize", sampler=make_sampler("tpe", seed))
    pre.optimize(prior_objective(task, space, prior), n_trials=trials)
    seen, picks = set(), []
    for t in sorted((t for t in pre.trials if t.user_attrs["feasible"]), key=lambda t: -t.value):
        key = tuple(sorted(t.params.items()))
        if key in seen:
            continue
        seen.add(key)
        picks.append(dict(t.params))
        study.enqueue_trial(dict(t.params), user_attrs={"warm_start": True})
        if len(picks) == k:
            break
    return picks


def trained_objective(task: Task, space: Space, prior: Prior, args: argparse.Namespace):
    """Objective that trains each proposed layout and returns its test accuracy."""
    import torch

    from archsearch.train.data import load_data
    from archsearch.train.loop import TrainConfig, TrainingFailed, pick_device, train
    from archsearch.train.models import build_model

    try:
        device = pick_device(args.device)
    except ValueError as exc:
        raise InputError(str(exc), field="--device") from None
    if args.epochs < 1:
        raise InputError(f"--epochs must be >= 1, got {args.epochs}", field="--epochs")
    data = load_data(task.data, task.input_shape, cache_dir=Path(args.runs_dir) / ".cache")
    run_dir = Path(args.runs_dir) / args.study_name / "trials"
    run_dir.mkdir(parents=True, exist_ok=True)
    floor = -np.inf if args.no_prior else prior_floor(space, prior, seed=args.seed)

    def objective(trial: optuna.Trial) -> float:
        layout = suggest_layout(trial, space)
        res = record_layout(trial, layout, space, prior, task)
        if not space.fits(res.params):
            trial.set_user_attr("skipped", "over budget")
            raise optuna.TrialPruned("over budget")
        if res.score < floor:
            trial.set_user_attr("skipped", f"prior score {res.score:.4f} below the floor {floor:.4f}")
            raise optuna.TrialPruned("prior score below the floor")
        for done in trial.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            if done.user_attrs.get("layout") == layout.to_dict():  # proposed again: reuse, don't retrain
                trial.set_user_attr("duplicate_of", done.number)
                trial.set_user_attr("accuracy", done.value)
                return float(done.value)
        cfg = TrainConfig(epochs=args.epochs, seed=args.seed + trial.number, device=str(device))
        metrics = run_dir / f"{trial.number:05d}.jsonl"

        def log_epoch(row: dict) -> None:
            with metrics.open("a") as f:
                f.write(json.dumps(row) + "\n")
            trial.report(row["test_accuracy"], row["epoch"])
            if interrupt_requested():  # Ctrl-C: give up this trial between epochs, cleanly
                raise KeyboardInterrupt

        try:
            out = train(build_model(layout, space.model, seed=cfg.seed), data, cfg, on_epoch=log_epoch,
                        progress=not args.no_progress)
        except torch.OutOfMemoryError as exc:
            trial.set_user_attr("fail_reason", f"out of memory: {exc}".splitlines()[0])
            raise TrainingFailed(f"out of memory: {exc}".splitlines()[0]) from None
        except TrainingFailed as exc:  # the trial is marked FAIL with its reason; the search goes on
            trial.set_user_attr("fail_reason", str(exc))
            raise
        finally:
            if device.type == "cuda":
                torch.cuda.empty_cache()
        trial.set_user_attr("accuracy", out["accuracy"])
        trial.set_user_attr("device", out["device"])
        return out["accuracy"]

    return objective, (TrainingFailed,)
