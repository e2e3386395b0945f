"""Training throughput of ``archsearch.train.loop`` against a bare torch loop on the same tensors, same model,
same optimiser and schedule, in one run (target: within 5%, the per-epoch evaluation included).

    python benchmarks/bench_train.py [--epochs 1] [--train 16000] [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from dataclasses import replace

import torch
from torch import nn

from archsearch.core.layout import paper_pair
from archsearch.formats.task import load_task
from archsearch.train.data import load_data
from archsearch.train.loop import TrainConfig, train
from archsearch.train.memory import keep_freed_memory
from archsearch.train.models import build_model


def bare_loop(model, x, y, epochs, batch, lr, wd, evals=()):
    """The least a training loop can do: shuffled slices, forward, backward, step; and after every epoch the
    accuracy on each of ``evals`` (the same work as the tool's loop, which reports validation and test)."""
    model = model.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
    evals = [(ex.contiguous(memory_format=torch.channels_last), ey) for ex, ey in evals]
    steps = math.ceil(len(x) / batch)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for s in range(steps):
            idx = order[s * batch:(s + 1) * batch]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            for ex, ey in evals:
                sum(int((model(ex[i:i + 128]).argmax(1) == ey[i:i + 128]).sum()) for i in range(0, len(ex), 128))
        model.train()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--train", type=int, default=16000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: as a table's training processes)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    keep_freed_memory()  # as train() does on CPU: both loops on the same allocator settings from the start
    task = load_task("tasks/digits-local-32.yaml")
    data = load_data(replace(task.data, train=args.train, test=500), task.input_shape)
    wb, _ = paper_pair((32, 32), 10, 8, [2] * 5)
    cfg = TrainConfig(epochs=args.epochs, device="cpu")
    x, y = torch.from_numpy(data.train.x), torch.from_numpy(data.train.y)
    evals = [(torch.from_numpy(s.x), torch.from_numpy(s.y)) for s in (data.val, data.test)]
    best = {"bare": float("inf"), "bare+eval": float("inf"), "archsearch": float("inf")}
    ratios, plain = [], []
    for _ in range(args.repeats):  # interleaved, best of each: the machine's noise hits all alike
        t0 = time.perf_counter()
        bare_loop(build_model(wb, seed=0), x, y, cfg.epochs, cfg.batch_size, cfg.lr, cfg.weight_decay)
        last_plain = time.perf_counter() - t0
        best["bare"] = min(best["bare"], last_plain)
        t0 = time.perf_counter()
        bare_loop(build_model(wb, seed=0), x, y, cfg.epochs, cfg.batch_size, cfg.lr, cfg.weight_decay, evals)
        last_bare = time.perf_counter() - t0
        best["bare+eval"] = min(best["bare+eval"], last_bare)
        t0 = time.perf_counter()
        out = train(build_model(wb, seed=0), data, cfg)  # it evaluates validation and test after every epoch
        took = time.perf_counter() - t0
        best["archsearch"] = min(best["archsearch"], took)
        ratios.append(took / last_bare)
        plain.append(took / last_plain)
    n = args.epochs * len(x)
    print(f"machine: {platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"model {wb.describe()} on 32x32, {len(x)} images x {args.epochs} epochs, batch {cfg.batch_size}; "
          f"evaluation of {sum(len(e[1]) for e in evals)} images after every epoch")
    for k, v in best.items():
        print(f"{k:10} {v:7.2f} s  {n / v:8.0f} images/s")
    print(f"archsearch.train.loop / bare loop with the same evaluation, best times: "
          f"{best['archsearch'] / best['bare+eval']:.3f}x; median of the {len(ratios)} side-by-side runs: "
          f"{sorted(ratios)[len(ratios) // 2]:.3f}x   (target <= 1.05x)")
    print(f"against a bare loop that evaluates nothing: {sorted(plain)[len(plain) // 2]:.3f}x (median; the "
          "evaluation's own cost)")
    print(f"per pair: {', '.join(f'{r:.2f}' for r in ratios)}; final test accuracy {out['test_accuracy']:.3f}")


if __name__ == "__main__":
    main()
