from __future__ import annotations

import numpy as np
import pytest
import torch

from archsearch.core.layout import Layout
from archsearch.train.data import Dataset, Split
from archsearch.train.loop import TrainConfig, TrainingFailed, pick_device, train
from archsearch.train.models import build_model


@pytest.fixture
def toy() -> Dataset:
    """Class 1 has a bright left half over the noise: learnable in a few epochs."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    x = (0.5 * rng.random((500, 1, 8, 8))).astype(np.float32)
    x[y == 1, 0, :, :4] += 0.5
    return Dataset(Split(x[:300], y[:300]), Split(x[300:400], y[300:400]), Split(x[400:], y[400:]), 2)


def _lay():
    return Layout.uniform((8, 8), M=4, channels=8, pools=[2, 2, 2], classes=2)


def test_training_learns_and_is_deterministic(toy):
    cfg = TrainConfig(epochs=8, batch_size=32, lr=1e-2, seed=3, device="cpu")
    a = train(build_model(_lay(), seed=3), toy, cfg)
    b = train(build_model(_lay(), seed=3), toy, cfg)
    assert len(a["history"]) == 8 and a["device"] == "cpu"
    assert a["val_accuracy"] > 0.7 and a["test_accuracy"] > 0.7  # chance is about 0.5
    assert a["val_accuracy"] == b["val_accuracy"] and a["history"][-1]["loss"] == b["history"][-1]["loss"]
    assert [set(row) for row in a["history"]] == [{"epoch", "loss", "val_accuracy", "test_accuracy", "seconds"}] * 8
    assert a["history"][-1]["val_accuracy"] == a["val_accuracy"] and a["history"][-1]["test_accuracy"] == a[
        "test_accuracy"]


def test_evaluating_only_at_the_end_changes_nothing_but_the_history(toy):
    """``every_epoch=False`` (paper): the same final accuracies and losses, the history without accuracies."""
    cfg = TrainConfig(epochs=4, batch_size=32, lr=1e-2, seed=1, device="cpu")
    a = train(build_model(_lay(), seed=1), toy, cfg)
    b = train(build_model(_lay(), seed=1), toy, cfg, every_epoch=False)
    assert (a["val_accuracy"], a["test_accuracy"]) == (b["val_accuracy"], b["test_accuracy"])
    assert [r["loss"] for r in a["history"]] == [r["loss"] for r in b["history"]]
    assert [set(row) for row in b["history"]] == [{"epoch", "loss", "seconds"}] * 4


def test_nan_loss_fails_with_its_reason(toy):
    class Bad(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, x):
            return torch.full((len(x), 2), float("nan")) * self.w

    with pytest.raises(TrainingFailed, match="loss turned nan at epoch 0"):
        train(Bad(), toy, TrainConfig(epochs=1, device="cpu"))


def test_device_choice():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="sees no CUDA device"):
            pick_device("cuda")


def test_no_host_sync_per_step(toy, monkeypatch):
    """The loop reads the loss once per epoch, not once per step: on a GPU, Python runs ahead of the device
    (a read of a tensor's value is a host sync; counted here on CPU, where the code path is the same)."""
    import sys

    from archsearch.train import loop

    reads = []
    for name in ("item", "__float__", "__int__", "__bool__"):
        real = getattr(torch.Tensor, name)

        def counted(self, *a, _real=real, **k):
            if sys._getframe(1).f_code.co_filename == loop.__file__:  # the loop's own reads (not the optimiser's
                reads.append(1)  # CPU-side step counters, which never wait for a GPU)
            return _real(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, counted)
    cfg = TrainConfig(epochs=3, batch_size=16, device="cpu")  # 300 images: 19 steps an epoch
    train(build_model(_lay(), seed=0), toy, cfg)
    assert len(reads) <= 3 * 4  # per epoch: the loss, and one count per evaluated split (val, test), not per step
