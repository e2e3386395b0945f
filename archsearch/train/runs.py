"""One run of a benchmark table: a layout (as a dict) trained with the table's settings, returned as the
table's row. Used by a table's own pool of workers and by its Optuna study's objective alike."""

from __future__ import annotations

from typing import Any

__all__ = ["start_worker", "train_run", "watch_parent"]


def start_worker(device: str, threads: int | None, parent: int) -> None:
    """What every spawned training worker does first (``bench build``'s, ``paper``'s): watch its parent
    (:func:`watch_parent`), and on CPU train with ``threads`` torch threads (W single-threaded processes
    hold up when the machine is shared)."""
    import threading

    import torch

    threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()
    if device == "cpu" and threads is not None:
        torch.set_num_threads(threads)


def watch_parent(parent: int) -> None:
    """Run in a daemon thread of a training worker: when its parent dies (kill -9 of a build or a paper
    run), the worker stops too, instead of training on for nobody."""
    import os
    import time

    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(1.0)


def train_run(layout_id: int, seed: int, layout: dict[str, Any], s: dict[str, Any], data: Any,
              device: str) -> dict[str, Any]:
    """One run of a table: the layout (as a dict) trained with the table's settings ``s``; its row. ``seconds``
    is wall time, ``cpu_seconds`` the process's CPU time (all its threads), which a paused process (SIGSTOP,
    a machine shared with other work) does not add to."""
    import time

    from archsearch.formats.layout_file import layout_from_dict
    from archsearch.train.loop import TrainConfig, TrainingFailed, train
    from archsearch.train.models import build_model

    cfg = TrainConfig(epochs=s["epochs"], seed=seed, device=device)
    t0, c0 = time.perf_counter(), time.process_time()
    row: dict[str, Any] = {"layout": layout_id, "seed": seed}
    try:
        out = train(build_model(layout_from_dict(layout), s["model"], seed=seed), data, cfg)
    except TrainingFailed as exc:
        return {**row, "failed": str(exc), "seconds": round(time.perf_counter() - t0, 2),
                "cpu_seconds": round(time.process_time() - c0, 2), "device": device}
    h = out["history"]
    return {**row, "val_accuracy": out["val_accuracy"], "test_accuracy": out["test_accuracy"],
            "val_curve": [round(r["val_accuracy"], 5) for r in h],
            "test_curve": [round(r["test_accuracy"], 5) for r in h],
            "loss_curve": [round(r["loss"], 5) for r in h],
            "seconds": round(time.perf_counter() - t0, 2), "cpu_seconds": round(time.process_time() - c0, 2),
            "device": out["device"]}
