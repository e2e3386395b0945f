"""How one network is trained: the one settings record every training embeds (a trained search's
:class:`~archsearch.search.objectives.TrainedSettings`, a table's runs, ``verify`` and ``paper``). No torch here,
so that the search's settings can name it without loading torch."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """Epochs, batch size, AdamW's learning rate and weight decay, the seed, and the device (``auto``:
    CUDA, then MPS, then CPU)."""

    epochs: int = 15
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    seed: int = 0
    device: str = "auto"
