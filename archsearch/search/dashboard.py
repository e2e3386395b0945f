"""What optuna-dashboard shows of a study, made truthful and useful.

* **Feasibility.** Optuna 5's ``Trial.set_constraint`` stores one system attribute per constraint
  (``constraints:NAME``); optuna-dashboard 0.21 reads only the list Optuna 4 stored (``constraints``).
  :func:`mark_constraints` writes both, so the dashboard greys out layouts over the budget.
* **The best trial.** optuna-dashboard takes a study's best trial from ``storage.get_best_trial``, which
  ignores constraints. :func:`feasible_best` wraps a storage so that it returns the best *feasible* trial,
  and ``archsearch dashboard`` serves the study through it.
* **A note and pictures.** The study's note says what task, space and settings it was made with
  (:func:`describe_study`); trained trials carry their layout picture (cuts on the input grid, widths per
  layer) as an Optuna artifact (:func:`attach_layout_picture`).

optuna-dashboard is an optional extra (``pip install 'archsearch[dashboard]'``); without it the note is
kept in the study's user attributes only, and everything else works.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.storages import BaseStorage
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from archsearch.core.layout import Layout
    from archsearch.formats.space import Space
    from archsearch.formats.task import Task
    from archsearch.search.recipe import Recipe

__all__ = ["LEGACY_CONSTRAINTS_KEY", "artifact_store", "attach_layout_picture", "describe_study", "feasible_best",
           "is_feasible", "mark_constraints", "picture_best", "study_note"]

#: where Optuna 4 kept a trial's constraint values, and optuna-dashboard 0.21 still looks
LEGACY_CONSTRAINTS_KEY = "constraints"


def mark_constraints(trial: optuna.Trial, values: dict[str, float]) -> None:
    """Set each constraint through Optuna's API, and the list optuna-dashboard reads (same values)."""
    for name, value in values.items():
        trial.set_constraint(name, float(value))
    trial.storage.set_trial_system_attr(trial._trial_id, LEGACY_CONSTRAINTS_KEY,
                                        [float(v) for v in values.values()])


def is_feasible(trial: FrozenTrial) -> bool:
    """All constraint values <= 0 (Optuna's rule), as either format stores them."""
    return all(v <= 0 for v in trial.constraints.values())


def _best_feasible(storage: BaseStorage, study_id: int) -> FrozenTrial:
    trials = [t for t in storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.COMPLETE,))
              if is_feasible(t)]
    if not trials:  # nothing feasible yet: the plain best (the dashboard shows its constraints)
        return storage.get_best_trial(study_id)
    sign = 1 if storage.get_study_directions(study_id)[0] == StudyDirection.MAXIMIZE else -1
    return max(trials, key=lambda t: (sign * t.value, -t.number))


def _delegate(name: str):
    def method(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._inner, name)(*args, **kwargs)

    method.__name__ = name
    return method


def _get_best_trial(self, study_id: int) -> FrozenTrial:
    return _best_feasible(self._inner, study_id)


#: a storage that answers like the one it wraps, except that its best trial is the best feasible one
FeasibleBestStorage = type("FeasibleBestStorage", (BaseStorage,), {
    "__doc__": "A storage wrapper whose ``get_best_trial`` returns the best trial within the constraints.",
    "__init__": lambda self, inner: setattr(self, "_inner", inner),
    "__getattr__": lambda self, name: getattr(self.__dict__["_inner"], name),
    **{name: _delegate(name) for name in BaseStorage.__abstractmethods__},
    "get_best_trial": _get_best_trial,
})


def feasible_best(storage: BaseStorage) -> BaseStorage:
    """``storage``, answering ``get_best_trial`` with the best feasible trial (for optuna-dashboard)."""
    return FeasibleBestStorage(storage)


def study_note(recipe: Recipe, task: Task, space: Space) -> str:
    """Markdown: what the study is (task, partitions and needs, space, budget, mode, settings)."""
    lines = [f"## archsearch study: {task.name} on {space.name or Path(recipe.space_path).name}", "",
             f"- **mode**: {recipe.mode}" + (f", {recipe.trials} trials" if recipe.kind == "search" else ""),
             f"- **task**: `{recipe.task_path}`" + (f": {task.description.strip()}" if task.description.strip()
                                                    else ""),
             f"- **space**: `{recipe.space_path}`: input {list(space.input_shape)}, M {list(space.M)}, "
             f"{len(space.schedules)} pooling schedule(s), channels "
             + (f"{list(space.channel_choices)}" if space.channel_choices is not None
                else f"{space.channel_range[0]}..{space.channel_range[1]}")
             + f", budget {space.min_params}..{space.max_params} parameters",
             f"- **prior**: {recipe.prior}; sampler {recipe.sampler}; guide {recipe.guide}"]
    if recipe.mode == "trained" or recipe.kind == "bench":
        lines.append(f"- **training**: {recipe.epochs} epochs, model {space.model}, seed {recipe.seed}; the value is "
                     "the validation accuracy (test accuracy is a user attribute, never optimised)")
    lines += ["", "| partition | weight | need (bits) |", "| --- | --- | --- |"]
    for p in task.partitions:
        lines.append(f"| {p.name} | {p.weight:g} | {'-' if p.need is None else f'{p.need:g}'} |")
    lines += ["", "Trials over the budget are infeasible (constraints `max_params`, `min_params`); "
              "`archsearch dashboard` shows the best feasible trial as the best."]
    return "\n".join(lines)


def describe_study(study: optuna.Study, recipe: Recipe, task: Task, space: Space) -> None:
    """Store the study's note (user attribute ``note``; optuna-dashboard's note too, when installed) and name
    its objectives."""
    note = study_note(recipe, task, space)
    study.set_user_attr("note", note)
    if recipe.kind == "search":
        names = task.names if recipe.mode == "pareto" else (
            ["val_accuracy"] if recipe.mode == "trained" else ["prior_score"])
        if len(names) == len(study.directions):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.set_metric_names(names)
    try:
        from optuna_dashboard import save_note
    except ImportError:
        return
    save_note(study, note)


def artifact_store(folder: str | Path):
    """Optuna's file-system artifact store in ``folder`` (made if missing)."""
    from optuna.artifacts import FileSystemArtifactStore

    Path(folder).mkdir(parents=True, exist_ok=True)
    return FileSystemArtifactStore(str(folder))


def attach_layout_picture(trial: optuna.Trial, task: Task, layout: Layout, store: Any) -> str:
    """Draw ``layout`` (its cuts on the task's grid, its widths per layer) and upload it as the running
    trial's artifact; returns the artifact id (also the trial's ``layout_picture`` user attribute)."""
    art = _upload_picture(trial, task, layout, store, f"trial-{trial.number}", f"trial {trial.number}")
    trial.set_user_attr("layout_picture", art)
    return art


def picture_best(study: optuna.Study, task: Task, folder: str | Path, k: int = 5,
                 source: optuna.Study | None = None) -> int:
    """Attach pictures of the ``k`` best distinct feasible layouts to the study (a prior-only search, whose
    trials take milliseconds, draws only these; a finished trial takes no artifact), replacing earlier
    ones; returns how many were drawn. ``source``: a study holding the same trials, to rank them from
    (a batched search's in-memory copy: :attr:`~archsearch.search.study.RunOutcome.view`)."""
    from archsearch.formats.layout_file import layout_from_dict
    from archsearch.search.study import distinct_ranked

    best = distinct_ranked(source or study)[:k]
    if not best:
        return 0
    store = artifact_store(folder)
    ids = []
    for t in best:
        layout = layout_from_dict(t.user_attrs["layout"])
        ids.append(_upload_picture(study, task, layout, store, f"best-{len(ids) + 1}-trial-{t.number}",
                                   f"#{len(ids) + 1}, trial {t.number}"))
    study.set_user_attr("best_layout_pictures", ids)
    return len(ids)


def _upload_picture(target: Any, task: Task, layout: Layout, store: Any, stem: str, title: str) -> str:
    from archsearch.pictures import plot_layout_card

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"layout-{stem}.png"
        plot_layout_card(task, layout, path, title=title)
        return optuna.artifacts.upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=target,
                                                mimetype="image/png")


def dashboard_app(storage: str, artifacts: str | Path | None = None, study_name: str | None = None):
    """optuna-dashboard's WSGI application on ``storage``, its best trials the best feasible ones, with the
    artifact folder; the study's note written first where it lacks one (a study made without the extra)."""
    try:
        import optuna_dashboard
    except ImportError:
        from archsearch.errors import InputError

        raise InputError("optuna-dashboard is not installed: pip install 'archsearch[dashboard]'",
                         field="dashboard") from None
    from archsearch.search.study import _storage, no_study

    st = _storage(storage, "read")
    if study_name is not None:
        names = [s.study_name for s in optuna.get_all_study_summaries(st, include_best_trial=False)]
        if study_name not in names:
            raise no_study(study_name, storage, names)
        study = optuna.load_study(study_name=study_name, storage=st)
        note = study.user_attrs.get("note")
        if isinstance(note, str) and not optuna_dashboard.get_note(study):
            try:
                optuna_dashboard.save_note(study, note)
            except Exception:  # noqa: BLE001 - a read-only storage: the dashboard shows it without the note
                pass
    store = artifact_store(artifacts) if artifacts is not None else None
    return optuna_dashboard.wsgi(feasible_best(st), artifact_store=store)
