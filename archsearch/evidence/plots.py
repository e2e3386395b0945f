"""Pictures: where each min cut runs on the input grid. matplotlib is imported only here."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from archsearch.core.layout import Layout
from archsearch.core.mincut import explain_mincut

if TYPE_CHECKING:
    from archsearch.formats.task import Task


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    # every text in a picture is plain: a task or partition named `$\\foo$` is drawn as written, never parsed
    # as mathtext (which fails on it)
    matplotlib.rcParams["text.parse_math"] = False
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: str | Path) -> Path:
    """Save the figure whole or not at all (a failure leaves no file), then close it."""
    from archsearch.formats.files import atomic_path

    path = Path(path)
    try:
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".").lower() or "png")
    finally:
        plt.close(fig)
    return path


def _cut_panels(axes: list, task: Task, layout: Layout, plt) -> None:
    """Draw each partition of ``task`` on its axis: side A / side B on the grid, and the receptive field
    of every bond the min cut crosses, outlined in its layer's colour."""
    from matplotlib.patches import Rectangle

    ex = explain_mincut(layout, task.masks)
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, layout.depth + 1))
    field = [np.ones(len(layout.input_shape), int)]
    for pool in layout.pools:
        field.append(field[-1] * np.array(pool))
    for i, (part, ax) in enumerate(zip(task.partitions, axes, strict=False)):
        mask = part.mask if part.mask.ndim == 2 else part.mask[None, :]
        ax.imshow(mask, cmap="Pastel1", vmin=0, vmax=8, interpolation="nearest", aspect="auto")
        for k, win in enumerate(ex.cut_windows):
            cut = win[i] if win[i].ndim == 2 else win[i][None, :]
            fh, fw = (field[k] if len(field[k]) == 2 else (1, field[k][0]))
            for r, c in zip(*np.nonzero(cut), strict=True):
                ax.add_patch(Rectangle((c * fw - 0.5, r * fh - 0.5), fw, fh, fill=False, lw=1.5,
                                       ec=colours[k]))
        ax.set_title(f"{part.name}: log2 W = {ex.log2_mincut[i]:.1f}\n{ex.describe(i)}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])


def _grid(plt, n: int, cols: int, w: float, h: float):
    cols = max(1, min(n, cols))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(w * cols, h * rows), squeeze=False)
    flat = [axes[j // cols][j % cols] for j in range(rows * cols)]
    for ax in flat[n:]:
        ax.axis("off")
    return fig, flat[:n]


def plot_cuts(task: Task, layout: Layout, path: str | Path) -> Path:
    """One panel per partition: side A / side B on the grid, and the receptive field of every bond the
    min cut crosses, outlined in its layer's colour."""
    plt = _plt()
    fig, axes = _grid(plt, len(task.partitions), 3, 4.2, 4.6)
    _cut_panels(axes, task, layout, plt)
    fig.suptitle(f"{task.name}: min cuts of {layout.describe()}\n(outlines: receptive fields of cut bonds, "
                 "darker = lower layer)", fontsize=9)
    return _save(plt, fig, path)


def _width_bars(ax, layouts: list[Layout], labels: list[str]) -> None:
    """Channel widths per layer (M first), one group of bars per layout."""
    n = len(layouts)
    for k, (lay, label) in enumerate(zip(layouts, labels, strict=True)):
        widths = [lay.M, *lay.channels]
        x = np.arange(len(widths)) + (k - (n - 1) / 2) * 0.8 / max(n, 1)
        ax.bar(x, widths, width=0.8 / max(n, 1), label=label, alpha=0.85)
    depth = max(lay.depth for lay in layouts)
    ax.set_xticks(range(depth + 1), ["M"] + [f"r{l}" for l in range(depth)], fontsize=7)
    ax.set_ylabel("channels", fontsize=7)
    ax.set_yscale("log", base=2)
    ax.set_ylim(bottom=1)
    if n > 1:
        ax.legend(fontsize=6, ncol=2)


def plot_layout_card(task: Task, layout: Layout, path: str | Path, title: str = "") -> Path:
    """One layout at a glance: its widths per layer, and where its min cut runs across each of the task's
    partitions (the picture each trained trial carries in optuna-dashboard)."""
    plt = _plt()
    fig, axes = _grid(plt, len(task.partitions) + 1, 4, 3.2, 3.4)
    _width_bars(axes[0], [layout], [layout.describe()])
    axes[0].set_title(f"widths per layer\n{layout.param_count()} parameters", fontsize=8)
    _cut_panels(axes[1:], task, layout, plt)
    fig.suptitle(f"{title + ': ' if title else ''}{layout.describe()} on {task.name}", fontsize=9)
    return _save(plt, fig, path)


def plot_widths(layouts: list[Layout], labels: list[str], path: str | Path, title: str = "") -> Path:
    """The channel widths per layer of several layouts (a study's best, say), side by side."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5.0, 1.0 + 0.9 * (max(lay.depth for lay in layouts) + 1)), 3.6))
    _width_bars(ax, layouts, labels)
    ax.set_title(title, fontsize=9)
    return _save(plt, fig, path)


def plot_verify(report: dict, path: str | Path) -> Path:
    """Prior score against measured accuracy (mean and spread over seeds), one point per layout."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for lay in report["layouts"]:
        acc = np.array(lay["val_accuracy"], float)
        colour = "C3" if lay["label"].startswith("wide") else "C0"
        ax.errorbar(lay["prior_score"], np.nanmean(acc), yerr=np.nanstd(acc), fmt="o", color=colour, capsize=3)
        ax.annotate(lay["label"] if lay["label"].startswith("wide") else str(lay["channels"]),
                    (lay["prior_score"], np.nanmean(acc)), fontsize=6, xytext=(4, 3), textcoords="offset points")
    taus = ", ".join(f"{k} {v['kendall_tau']:+.2f}" for k, v in report["predictors"].items())
    ax.set_xlabel("prior score")
    ax.set_ylabel(f"validation accuracy ({len(report['seeds'])} seeds, {report['epochs']} epochs)")
    ax.set_title(f"{report['task']}: Kendall tau prior {report['kendall_tau']:+.2f} "
                 f"[{report['kendall_tau_ci95'][0]:+.2f}, {report['kendall_tau_ci95'][1]:+.2f}]\n{taus}",
                 fontsize=8)
    return _save(plt, fig, path)


def plot_paper(report: dict, path: str | Path) -> Path:
    """Wide-base against wide-tip per task and width: bars of mean accuracy, dots per seed."""
    plt = _plt()
    groups = sorted({(row["task"], row["r"]) for row in report["rows"]}, key=lambda g: (g[0], g[1]))
    fig, ax = plt.subplots(figsize=(1.8 + 2.2 * len(groups), 4.2))
    for gi, (task, r) in enumerate(groups):
        for li, name in enumerate(("wide-base", "wide-tip")):
            row = next(x for x in report["rows"] if x["task"] == task and x["r"] == r and x["layout"] == name)
            xpos = gi + (li - 0.5) * 0.38
            ax.bar(xpos, row["mean"], width=0.36, color=f"C{li}", alpha=0.7, label=name if gi == 0 else None)
            ax.plot([xpos] * len(row["accuracy"]), row["accuracy"], "k.", ms=4)
            ax.annotate(f"prior {row['prior_score']:.2f}", (xpos, row["mean"]), ha="center", fontsize=6,
                        xytext=(0, 3), textcoords="offset points")
    ax.set_xticks(range(len(groups)), [f"{t}\nr={r}" for t, r in groups], fontsize=7)
    ax.set_ylabel("test accuracy")
    lows = [min(x["accuracy"]) for x in report["rows"] if x["accuracy"]]
    ax.set_ylim(max(0.0, min(lows) - 0.1) if lows else 0, 1.0)
    ax.legend(fontsize=7)
    ax.set_title(f"wide-base vs wide-tip: {report.get('model', 'convnet')}, {report['scale']} scale, "
                 f"{len(report['seeds'])} seeds, {report['epochs']} epochs, {report['device']}", fontsize=8)
    return _save(plt, fig, path)


def plot_table(table: dict, rows: list[dict], path: str | Path) -> Path:
    """A benchmark table: validation against test accuracy per layout (does validation pick what test
    confirms?), and validation accuracy against size within the band; the paper's pair marked."""
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.2))
    colour = {"wide-base": "C3", "wide-tip": "C1", "uniform": "C2"}
    for r in rows:
        c = colour.get(r["label"], "C0")
        a.plot(r["val_accuracy"], r["test_accuracy"], "o", ms=3 if c == "C0" else 7, color=c, alpha=0.7)
        b.plot(r["params"], r["val_accuracy"], "o", ms=3 if c == "C0" else 7, color=c, alpha=0.7)
    for name, c in colour.items():
        if any(r["label"] == name for r in rows):
            b.plot([], [], "o", color=c, label=name)
    if rows:
        lo = min(min(r["val_accuracy"], r["test_accuracy"]) for r in rows)
        a.plot([lo, 1], [lo, 1], "k:", lw=0.8)
    a.set_xlabel("validation accuracy")
    a.set_ylabel("test accuracy")
    b.set_xlabel("parameters")
    b.set_ylabel("validation accuracy")
    if b.get_legend_handles_labels()[0]:
        b.legend(fontsize=7)
    s = table["settings"]
    fig.suptitle(f"{table['task']['name']} on {table['space']['name']}: {len(rows)} layouts trained, "
                 f"{s['epochs']} epochs, {s['train']} training images", fontsize=9)
    return _save(plt, fig, path)


def plot_eval(report: dict, acc: np.ndarray, scores: dict[str, np.ndarray], path: str | Path) -> Path:
    """One panel per predictor: its score against the trained validation accuracy of every layout."""
    plt = _plt()
    fig, axes = _grid(plt, len(scores), 3, 3.8, 3.3)
    for ax, (name, score) in zip(axes, scores.items(), strict=True):
        ax.plot(score, acc, "o", ms=3, alpha=0.6)
        st = report["predictors"][name]
        ax.set_title(f"{name}: tau {st['kendall_tau']:+.2f} [{st['tau_ci'][0]:+.2f}, {st['tau_ci'][1]:+.2f}]",
                     fontsize=8)
        ax.set_xlabel(name, fontsize=7)
        ax.set_ylabel("validation accuracy", fontsize=7)
    fig.suptitle(f"{report['task']}: {report['layouts']} layouts; noise ceiling tau "
                 f"{report['noise_ceiling_tau']:+.2f}", fontsize=9)
    return _save(plt, fig, path)


def plot_contrast(report: dict, acc_a: np.ndarray, acc_b: np.ndarray, scores_a: dict[str, np.ndarray],
                  scores_b: dict[str, np.ndarray], path: str | Path) -> Path:
    """First panel: each layout's accuracy percentile on A against on B (how training reorders); then one
    panel per predictor: its change of percentile (B minus A) against training's; last, how each one's
    preferred group moves, layer by layer (when the layouts share one depth)."""
    from archsearch.evidence.contrast import change, percentiles

    plt = _plt()
    shift = report["training"].get("preferred_shift")
    fig, axes = _grid(plt, 1 + len(scores_a) + (shift is not None), 3, 3.8, 3.3)
    if shift is not None:
        _preferred_panel(axes.pop(), report, ["training", *scores_a])
    ax = axes[0]
    ax.plot(percentiles(acc_a), percentiles(acc_b), "o", ms=3, alpha=0.6, color="tab:gray")
    ax.set_title(f"training: tau {report['training']['between_tau']:+.2f} between the tasks", fontsize=8)
    ax.set_xlabel(f"percentile on {report['task_a']}", fontsize=7)
    ax.set_ylabel(f"percentile on {report['task_b']}", fontsize=7)
    trained = change(acc_a, acc_b)
    for ax, name in zip(axes[1:], scores_a, strict=True):
        ax.plot(change(scores_a[name], scores_b[name]), trained, "o", ms=3, alpha=0.6)
        st = report["predictors"][name]
        ax.set_title(f"{name}: change tau {st['change_tau']:+.2f}" if np.isfinite(st["change_tau"])
                     else f"{name}: scores unchanged", fontsize=8)
        ax.set_xlabel(f"{name}: change of percentile", fontsize=7)
        ax.set_ylabel("training: change of percentile", fontsize=7)
    fig.suptitle(f"{report['task_a']} -> {report['task_b']}: {report['layouts']} layouts; noise ceiling of the "
                 f"change {report['change_ceiling']['kendall_tau']:+.2f}", fontsize=9)
    return _save(plt, fig, path)


def _preferred_panel(ax, report: dict, names: list[str]) -> None:
    """Grouped bars per layer: the mean log2 width of each one's top group on B minus on A."""
    width = 0.8 / len(names)
    for j, name in enumerate(names):
        st = report["training"] if name == "training" else report["predictors"][name]
        r = st["preferred_r"]
        label = name if name == "training" or r is None or not np.isfinite(r) else f"{name} (r {r:+.2f})"
        x = np.arange(len(st["preferred_shift"])) + (j - (len(names) - 1) / 2) * width
        ax.bar(x, st["preferred_shift"], width, label=label)
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xticks(range(len(report["training"]["preferred_shift"])),
                  [f"layer {i + 1}" for i in range(len(report["training"]["preferred_shift"]))], fontsize=7)
    ax.set_ylabel("top group's mean log2 width, B minus A", fontsize=7)
    ax.set_title(f"how the preferred layouts (top {report['prefer']:.0%}) move", fontsize=8)
    ax.legend(fontsize=6)


def plot_profile(report: dict, path: str | Path) -> Path:
    """The measured needs: bits per canonical level (fine to coarse), then per task partition, with the
    surrogate beside them on its own axis; below, where correlations meet (bits and |corr| per pair by
    level), when the report has meet levels."""
    plt = _plt()
    levels, parts, meets = report["levels"], report["partitions"], report.get("meets", [])
    names = [f"level {r['level']}" for r in levels] + [r["name"] for r in parts]
    bits = [r["need_bits"] for r in levels + parts]
    sur = [r["surrogate"] for r in levels + parts]
    colours = ["tab:blue"] * len(levels) + ["tab:orange"] * len(parts)
    rows = 2 if meets else 1
    fig, axes = plt.subplots(rows, 2, figsize=(max(7.0, 0.9 * len(names) * 2), 3.8 * rows), squeeze=False)
    ax, bx = axes[0]
    ax.bar(range(len(names)), bits, color=colours)
    ax.set_ylabel("need (bits = entropy / ln 2)")
    bx.bar(range(len(names)), sur, color=colours)
    bx.set_ylabel("surrogate: sum |corr| across the cut")
    for a in (ax, bx):
        a.set_xticks(range(len(names)), names, rotation=45, ha="right")
    if meets:
        cx, dx = axes[1]
        k = [r["level"] for r in meets]
        cx.bar(k, [r["bits"] for r in meets], color="tab:green")
        cx.set_ylabel("bits across a window's children")
        dx.bar(k, [r["surrogate_per_pair"] for r in meets], color="tab:green")
        dx.set_ylabel("mean |corr| of pairs meeting there")
        for a in (cx, dx):
            a.set_xticks(k, [f"meet {v}" for v in k])
            a.set_xlabel("level (fine to coarse)")
    fig.suptitle(f"{report['task']}: {report['samples']} images, theta {report['theta']} "
                 "(blue: canonical levels, orange: the task's partitions, green: where correlations meet)",
                 fontsize=9)
    return _save(plt, fig, path)


def plot_replay(report: dict, path: str | Path) -> Path:
    """Median validation regret against trained trials per strategy, with its interquartile band; each
    strategy its own line style and width, so that curves lying on one another can be told apart."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    styles = ["-", "-", "--", "-", ":"]  # curves that coincide (often at 0) stay visible
    for i, (name, f) in enumerate(report["strategies"].items()):
        x = np.arange(1, len(f["regret_curve"]) + 1)
        line, = ax.plot(x, f["regret_curve"], label=name, ls=styles[i % len(styles)], lw=max(1.0, 2.6 - 0.4 * i))
        ax.fill_between(x, f["regret_q25"], f["regret_q75"], color=line.get_color(), alpha=0.15)
    ax.axhline(0.01, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("trained trials")
    ax.set_ylabel("validation regret (table best - best found)")
    ax.set_yscale("symlog", linthresh=0.01)
    inverted = " inverted" if report.get("prior_inverted") else ""
    ax.set_title(f"{Path(report['table']).name}: {report['repeats']} repeats, prior{inverted} of {report['task']}",
                 fontsize=9)
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_needs(names: list[str], capacity: list[float], need: list[float], path: str | Path, title: str = "") -> Path:
    """Per partition (the task's, then the canonical levels): the layout's capacity (log2 min cut) beside
    the need it is scored against; a capacity below its need is a deficit (red)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5.5, 0.75 * len(names) + 2), 3.8))
    x = np.arange(len(names))
    short = [c < n - 1e-9 for c, n in zip(capacity, need, strict=True)]
    ax.bar(x - 0.2, need, width=0.4, color="0.75", label="need (bits)")
    ax.bar(x + 0.2, capacity, width=0.4, color=["C3" if s else "C0" for s in short], label="capacity: log2 min cut")
    ax.set_xticks(x, names, rotation=40, ha="right", fontsize=7)
    ax.set_ylabel("bits (log scale)")
    ax.set_yscale("log", base=2)
    ax.set_ylim(bottom=0.5)
    ax.legend(fontsize=7)
    ax.set_title(title or "needs against capacity (red: a deficit)", fontsize=9)
    return _save(plt, fig, path)


def plot_history(numbers: list[int], values: list[float], feasible: list[bool], path: str | Path,
                 ylabel: str = "value", maximize: bool = True) -> Path:
    """The optimisation history: every finished trial's value (grey: over the budget) and the best
    feasible value so far."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 3.8))
    num, val, ok = np.array(numbers), np.array(values, float), np.array(feasible, bool)
    ax.plot(num[ok], val[ok], "o", ms=3, color="C0", label="trial (within the budget)")
    if (~ok).any():
        ax.plot(num[~ok], val[~ok], "o", ms=3, color="0.7", label="over the budget (infeasible)")
    if ok.any():
        order = np.argsort(num[ok])
        run = (np.maximum if maximize else np.minimum).accumulate(val[ok][order])
        ax.step(num[ok][order], run, where="post", color="C3", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    return _save(plt, fig, path)


def plot_pareto(values: np.ndarray, front: np.ndarray, names: list[str], path: str | Path) -> Path:
    """The first two objectives of every feasible trial, the Pareto front highlighted."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    ax.plot(values[~front, 0], values[~front, 1], "o", ms=3, color="0.6", label="dominated")
    ax.plot(values[front, 0], values[front, 1], "o", ms=5, color="C3", label="Pareto front")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1] if len(names) > 1 else "")
    ax.legend(fontsize=7)
    ax.set_title(f"{int(front.sum())} of {len(values)} feasible trials on the front"
                 + (f" (first 2 of {len(names)} objectives)" if len(names) > 2 else ""), fontsize=9)
    return _save(plt, fig, path)


def plot_prior_accuracy(prior: list[float], acc: list[float], tau: float, path: str | Path) -> Path:
    """Prior score against validation accuracy, one point per trained layout."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    ax.plot(prior, acc, "o", ms=4, alpha=0.7)
    ax.set_xlabel("prior score")
    ax.set_ylabel("validation accuracy")
    ax.set_title(f"{len(prior)} trained layouts; Kendall tau {tau:+.2f}", fontsize=9)
    return _save(plt, fig, path)
