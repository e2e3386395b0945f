"""NASWOT's kernel two ways, in one run (issue 26): the definition in float64 (two products, K = c c^T +
(1-c)(1-c)^T) against archsearch's (one float32 product of exact integer counts, K = 2 c c^T - s - s^T + N),
on the ReLU codes of 128 images through a 32x32 ConvNet; the same log-determinant from both.

    python benchmarks/bench_naswot.py [--images 128] [--repeats 5]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from archsearch.core.layout import Layout
from archsearch.train.models import build_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    lay = Layout.uniform((32, 32), M=10, channels=32, pools=[2] * 5)
    model = build_model(lay, "convnet", seed=0).train()
    codes = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: codes.append((out.flatten(1) > 0).float()))
             for m in model.modules() if isinstance(m, torch.nn.ReLU)]
    with torch.no_grad():
        model(torch.from_numpy(np.random.default_rng(0).standard_normal((args.images, 1, 32, 32)).astype(np.float32)))
    for h in hooks:
        h.remove()
    c = torch.cat(codes, dim=1)
    best = {"definition (float64)": np.inf, "archsearch (float32)": np.inf}
    for _ in range(args.repeats):  # interleaved, best of each
        t = time.perf_counter()
        d = c.double()
        ref = float(torch.linalg.slogdet(d @ d.T + (1 - d) @ (1 - d).T)[1])
        best["definition (float64)"] = min(best["definition (float64)"], time.perf_counter() - t)
        t = time.perf_counter()
        s = c.sum(dim=1, dtype=torch.float64)
        new = float(torch.linalg.slogdet(2 * (c @ c.T).double() - s[:, None] - s[None, :] + c.shape[1])[1])
        best["archsearch (float32)"] = min(best["archsearch (float32)"], time.perf_counter() - t)
    print(f"machine: {platform.machine()}; {args.images} images x {c.shape[1]} ReLU units, best of {args.repeats}, "
          "one thread")
    for k, v in best.items():
        print(f"{k:22} {v * 1e3:8.1f} ms")
    print(f"speed-up {best['definition (float64)'] / best['archsearch (float32)']:.1f}x; log det {ref:.6f} and "
          f"{new:.6f} (difference {abs(ref - new):.1e})")


if __name__ == "__main__":
    main()
