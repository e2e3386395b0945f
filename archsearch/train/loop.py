"""Training and evaluation, on CUDA, Apple MPS or CPU. ``train(model, data, cfg) -> metrics``.

Short and linear on purpose. The whole data set sits on the device as tensors and batches are slices of
a shuffled index: no DataLoader workers, so small images train at the speed of the model.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict

import numpy as np
import torch
from torch import nn

from archsearch.train.config import TrainConfig
from archsearch.train.data import Dataset
from archsearch.train.memory import keep_freed_memory

__all__ = ["TrainConfig", "TrainingFailed", "pick_device", "resolve_device", "seed_everything", "train"]


class TrainingFailed(RuntimeError):
    """A run that cannot go on (loss turned NaN, out of memory); the message says which."""



def pick_device(name: str = "auto") -> torch.device:
    """CUDA, then Apple MPS, then CPU; or the device named."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"unknown device '{name}': {exc}") from None
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"'{name}' is not a device to train on (cpu, cuda, cuda:N or mps)")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"'{name}' asked for, but this torch build sees no CUDA device")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"'{name}' asked for, but torch sees {torch.cuda.device_count()} CUDA device(s)")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) is not None
                                  and torch.backends.mps.is_available()):
        raise ValueError(f"'{name}' asked for, but this torch build has no MPS device")
    return dev


def resolve_device(name: str = "auto") -> str:
    """:func:`pick_device` for a command: the device's name, or a one-line input error naming ``--device``."""
    from archsearch.errors import InputError

    try:
        return str(pick_device(name))
    except ValueError as exc:
        raise InputError(str(exc), field="--device") from None


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


#: evaluation batch per device type: large on a GPU; on a CPU small enough that a batch's activations stay in
#: cache and are reused, not freshly allocated (batch 1024 allocated about 130 MB per call here: page faults)
EVAL_BATCH = {"cuda": 1024, "mps": 1024, "cpu": 128}


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int | None = None) -> float:
    """Accuracy on (x, y), counted on the device: one host sync at the end."""
    batch = batch or EVAL_BATCH.get(x.device.type, 128)
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    for i in range(0, len(x), batch):
        with _autocast(x.device):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum()
    return int(correct) / max(len(x), 1)


def _autocast(device: torch.device):
    # bf16 autocast on CUDA: tensor cores, no loss scaling needed; full precision elsewhere
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast(
        device.type, enabled=False)


def train(model: nn.Module, data: Dataset, cfg: TrainConfig,
          on_epoch: Callable[[dict], None] | None = None, every_epoch: bool = True) -> dict:
    """AdamW with a one-cycle schedule; returns the final validation accuracy (what ranks and selects),
    the final test accuracy (what is reported) and the per-epoch history of both.

    ``on_epoch(row)`` is called after every epoch (the caller's progress bar, metrics file, pruning).
    ``every_epoch`` False: the two splits are evaluated once, after the last epoch (the history then holds
    the loss alone): the same final accuracies without the per-epoch evaluations, for a caller that reads
    only the end (``paper``)."""
    seed_everything(cfg.seed)
    device = pick_device(cfg.device)
    if device.type == "cpu":  # wide layers' activations reused, not faulted in again every step
        keep_freed_memory()
    # channels-last makes the 1x1 convs plain matrix products: about 3x faster on CPU for these nets
    fmt = torch.channels_last if data.train.x.ndim == 4 else torch.contiguous_format
    model = model.to(device, memory_format=fmt)
    xtr, ytr = _on(data.train, device, fmt)
    evals = {name: _on(getattr(data, name), device, fmt) for name in ("val", "test")}
    steps = math.ceil(len(xtr) / cfg.batch_size)
    # fused AdamW on CUDA: one kernel per step instead of one per parameter tensor
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                            **({"fused": True} if device.type == "cuda" else {}))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    history = []
    t0 = time.perf_counter()
    for epoch in range(cfg.epochs):
        model.train()
        order = torch.randperm(len(xtr), generator=gen).to(device, non_blocking=True)
        # the loss is summed on the device and read once per epoch: no host sync per step, so a GPU
        # runs ahead of Python (a NaN anywhere makes the sum NaN, caught at the epoch's end)
        total = torch.zeros((), dtype=torch.float32, device=device)
        for s in range(steps):
            idx = order[s * cfg.batch_size:(s + 1) * cfg.batch_size]
            with _autocast(device):
                loss = loss_fn(model(xtr[idx]), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.detach().float()
        mean = float(total) / steps
        if not math.isfinite(mean):
            raise TrainingFailed(f"loss turned {mean} at epoch {epoch}")
        row = {"epoch": epoch, "loss": mean,
               **({f"{name}_accuracy": evaluate(model, x, y) for name, (x, y) in evals.items()} if every_epoch
                  else {}),
               "seconds": time.perf_counter() - t0}
        history.append(row)
        if on_epoch is not None:
            on_epoch(row)
    last = history[-1] if history and every_epoch else {
        f"{n}_accuracy": evaluate(model, x, y) for n, (x, y) in evals.items()}
    return {"val_accuracy": last["val_accuracy"], "test_accuracy": last["test_accuracy"],
            "history": history, "device": str(device), "config": asdict(cfg)}


def _on(split, device: torch.device, fmt: torch.memory_format) -> tuple[torch.Tensor, torch.Tensor]:
    """A split's arrays as tensors on ``device`` (images in ``fmt``)."""
    return (torch.from_numpy(split.x).to(device).contiguous(memory_format=fmt),
            torch.from_numpy(split.y).to(device))
