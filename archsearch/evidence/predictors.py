"""The predictors a table is judged with, as a registry (name, what it reads, the function), in the manner
of timm's model registry: ``bench eval``, ``bench contrast``, ``verify`` and the table report all score
layouts through :func:`predictor_scores`, so a predictor means the same everywhere.

A predictor gives one score per layout, higher = predicted better. The priors read the task (its
partitions and needs); the task-blind rules (:mod:`~archsearch.evidence.baselines`) read the widths alone;
the training-free peers (NASWOT, SynFlow, MeCo) build a torch network per layout at initialisation (seed 0)
and, except SynFlow, look at training images; ``random`` is a seeded floor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from archsearch.errors import InputError

if TYPE_CHECKING:
    from archsearch.core.layout import Layout

__all__ = ["PEERS", "PREDICTORS", "Predictor", "ScoringInput", "applicable", "predictor_scores", "register_predictor"]


@dataclass(frozen=True)
class ScoringInput:
    """What a predictor may read: the layouts, the task and space, the table's images (``data``, None
    unless a predictor that needs them is asked for), the model kind, and the seed (``random``)."""

    layouts: list[Layout]
    task: Any
    space: Any
    data: Any = None
    model: str = "convnet"
    seed: int = 0


@dataclass(frozen=True)
class Predictor:
    """A named predictor: ``score(inputs)`` gives one score per layout; ``needs_data``: it reads training
    images (and so torch); ``needs_torch``: it builds networks; ``blocks``: it scores block layouts too."""

    name: str
    help: str
    needs_data: bool
    needs_torch: bool
    score: Callable[[ScoringInput], np.ndarray]
    blocks: bool = True

    def applies(self, blocks: bool, has_data: bool) -> bool:
        """Whether it can score a table of block (or layer) layouts, with (or without) the table's images."""
        return (self.blocks or not blocks) and (has_data or not self.needs_data)


#: every predictor, in the order reported
PREDICTORS: dict[str, Predictor] = {}


def register_predictor(name: str, help: str, needs_data: bool = False, needs_torch: bool = False,
                       blocks: bool = True) -> Callable[[Callable[[ScoringInput], np.ndarray]], Callable]:
    """Decorator: add a predictor to :data:`PREDICTORS` under ``name``."""
    def add(score: Callable[[ScoringInput], np.ndarray]) -> Callable[[ScoringInput], np.ndarray]:
        PREDICTORS[name] = Predictor(name, help, needs_data, needs_torch, score, blocks)
        return score
    return add


def applicable(names: Sequence[str] | None, blocks: bool, has_data: bool) -> list[str]:
    """The predictors to score a table with: ``names`` (each checked to apply, else one line saying why),
    or every registered one that applies to its layouts (block or layer) and data (the table's images, or
    none)."""
    if names is None:
        return [n for n, p in PREDICTORS.items() if p.applies(blocks, has_data)]
    for n in names:
        p = PREDICTORS.get(n)
        if p is None:
            raise InputError(f"unknown predictor '{n}' (choose from {', '.join(PREDICTORS)})", field="--predictors")
        if not p.applies(blocks, has_data):
            why = ("scores layer layouts only" if blocks and not
                   p.blocks else "reads the table's images, and its task has no data section")
            raise InputError(f"predictor '{n}' {why}", field="--predictors")
    return list(names)


def predictor_scores(layouts: list[Layout], task: Any, space: Any, data: Any = None, model: str = "convnet",
                     seed: int = 0, names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """One score per layout for each predictor in ``names`` (default all), in the registry's order."""
    names = list(PREDICTORS) if names is None else list(names)
    unknown = [n for n in names if n not in PREDICTORS]
    if unknown:
        raise InputError(f"unknown predictor '{unknown[0]}' (choose from {', '.join(PREDICTORS)})",
                         field="--predictors")
    if data is None and any(PREDICTORS[n].needs_data for n in names):
        raise ValueError(f"{', '.join(n for n in names if PREDICTORS[n].needs_data)} need the table's images")
    inputs = ScoringInput(list(layouts), task, space, data, model, seed)
    return {name: np.asarray(p.score(inputs), dtype=float) for name, p in PREDICTORS.items() if name in names}


def _prior(kind: str, **options: Any) -> Callable[[ScoringInput], np.ndarray]:
    def score(x: ScoringInput) -> np.ndarray:
        from archsearch.prior.score import Prior

        if getattr(x.space, "model", None) == "blocks":  # block layouts: the block rule's cuts, one pass
            from archsearch.prior.blocks import BlockPrior

            return BlockPrior.for_task(x.task, x.space, kind, **options).score_many(x.layouts)[0]
        prior = (Prior.for_task(x.task, x.space, kind) if not options else
                 Prior.for_space(x.task.masks, x.task.weights, x.space, **options, **Prior.task_options(x.task)))
        return np.array([prior(lay).score for lay in x.layouts])
    return score


def _register_priors() -> None:
    """``prior`` (the default variant), ``prior-no-output`` (the design before 0.5), then ``prior-NAME`` for
    every other variant of the prior's registry (:data:`~archsearch.prior.score.VARIANTS`)."""
    from archsearch.prior.score import PRIORS, VARIANTS

    register_predictor("prior", f"the shipped prior: {VARIANTS[PRIORS[0]].help}")(_prior(PRIORS[0]))
    register_predictor("prior-no-output", "the prior without the output term (the design before 0.5)")(
        _prior(PRIORS[0], output=False))
    for name in PRIORS[1:]:
        register_predictor(f"prior-{name}", VARIANTS[name].help)(_prior(name))


_register_priors()


def _task_blind(name: str) -> Callable[[ScoringInput], np.ndarray]:
    def score(x: ScoringInput) -> np.ndarray:
        from archsearch.evidence import baselines

        return baselines.SCORES[name](x.layouts)
    return score


register_predictor("params", "parameter count (task-blind)")(_task_blind("params"))
register_predictor("min-width", "log2 of the narrowest hidden layer (task-blind)")(_task_blind("min-width"))
register_predictor("balance", "minus the spread of log2 widths (task-blind)")(_task_blind("balance"))
register_predictor("balanced", "the balanced rule's order as a score (task-blind)")(_task_blind("balanced"))
register_predictor("bottleneck", "the bottleneck rule's order: narrowest widest, then fewest that narrow (task-blind)")(
    _task_blind("bottleneck"))
register_predictor("leximin", "the leximin rule's order: narrowest widest, then the second-narrowest, ... "
                   "(task-blind)")(_task_blind("leximin"))
register_predictor("flops", "multiply-accumulates of one forward pass (task-blind)")(_task_blind("flops"))


@register_predictor("naswot", "NASWOT at initialisation, on 128 training images", needs_data=True, needs_torch=True)
def _naswot(x: ScoringInput) -> np.ndarray:
    from archsearch.train.models import build_model
    from archsearch.train.peers import naswot

    batch = x.data.train.x[:128]
    return np.array([naswot(build_model(lay, x.model, seed=0), batch) for lay in x.layouts])


@register_predictor("synflow", "SynFlow at initialisation (data-free)", needs_torch=True)
def _synflow(x: ScoringInput) -> np.ndarray:
    from archsearch.train.models import build_model
    from archsearch.train.peers import synflow

    return np.array([synflow(build_model(lay, x.model, seed=0), lay.input_shape, lay.in_channels)
                     for lay in x.layouts])


@register_predictor("meco", "MeCo at initialisation, on 128 training images", needs_data=True, needs_torch=True)
def _meco(x: ScoringInput) -> np.ndarray:
    from archsearch.train.models import build_model
    from archsearch.train.peers import meco

    batch = x.data.train.x[:128]
    return np.array([meco(build_model(lay, x.model, seed=0), batch) for lay in x.layouts])


@register_predictor("random", "a seeded random floor")
def _random(x: ScoringInput) -> np.ndarray:
    return np.random.default_rng(x.seed).random(len(x.layouts))


#: the predictors that read the table's images (the data-dependent peers)
PEERS = tuple(name for name, p in PREDICTORS.items() if p.needs_data or p.needs_torch)
