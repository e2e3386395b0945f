"""Pictures of the evidence: tables, evaluations, contrasts, replays, profiles, studies. The layout pictures
(cuts on the input grid, widths) live in :mod:`archsearch.pictures`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from archsearch.pictures import (  # noqa: F401  (plot_cuts, plot_layout_card, plot_widths: the names callers know)
    draw_cuts,
    draw_widths,
    panel_grid,
    plain_log_ticks,
    plot_cuts,
    plot_layout_card,
    plot_widths,
    pyplot,
    save_figure,
)

if TYPE_CHECKING:
    from archsearch.evidence.table import Row, Table


def plot_verify(report: dict, path: str | Path) -> Path:
    """Prior score against measured accuracy (mean and spread over seeds), one point per layout."""
    plt = pyplot()
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
    return save_figure(plt, fig, path)


def plot_paper(report: dict, path: str | Path) -> Path:
    """Wide-base against wide-tip per task and width: bars of mean accuracy, dots per seed."""
    plt = pyplot()
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
    return save_figure(plt, fig, path)


def plot_table(table: Table, rows: list[Row], path: str | Path) -> Path:
    """A benchmark table: validation against test accuracy per layout (does validation pick what test
    confirms?), and validation accuracy against size within the band; the paper's pair marked."""
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.2))
    colour = {"wide-base": "C3", "wide-tip": "C1", "uniform": "C2"}
    for r in rows:
        c = colour.get(r.label, "C0")
        a.plot(r.val_accuracy, r.test_accuracy, "o", ms=3 if c == "C0" else 7, color=c, alpha=0.7)
        b.plot(r.params, r.val_accuracy, "o", ms=3 if c == "C0" else 7, color=c, alpha=0.7)
    for name, c in colour.items():
        if any(r.label == name for r in rows):
            b.plot([], [], "o", color=c, label=name)
    if rows:
        lo = min(min(r.val_accuracy, r.test_accuracy) for r in rows)
        a.plot([lo, 1], [lo, 1], "k:", lw=0.8)
    a.set_xlabel("validation accuracy")
    a.set_ylabel("test accuracy")
    b.set_xlabel("parameters")
    b.set_ylabel("validation accuracy")
    if b.get_legend_handles_labels()[0]:
        b.legend(fontsize=7)
    s = table.settings
    fig.suptitle(f"{table.task.name} on {table.space.name}: {len(rows)} layouts trained, "
                 f"{s.epochs} epochs, {s.train} training images", fontsize=9)
    return save_figure(plt, fig, path)


def plot_eval(report: dict, acc: np.ndarray, scores: dict[str, np.ndarray], path: str | Path) -> Path:
    """One panel per predictor: its score against the trained validation accuracy of every layout."""
    plt = pyplot()
    fig, axes = panel_grid(plt, len(scores), 3, 3.8, 3.3)
    for ax, (name, score) in zip(axes, scores.items(), strict=True):
        ax.plot(score, acc, "o", ms=3, alpha=0.6)
        st = report["predictors"][name]
        ax.set_title(f"{name}: tau {st['kendall_tau']:+.2f} [{st['tau_ci'][0]:+.2f}, {st['tau_ci'][1]:+.2f}]",
                     fontsize=8)
        ax.set_xlabel(name, fontsize=7)
        ax.set_ylabel("validation accuracy", fontsize=7)
    fig.suptitle(f"{report['task']}: {report['layouts']} layouts; noise ceiling tau "
                 f"{report['noise_ceiling_tau']:+.2f}", fontsize=9)
    return save_figure(plt, fig, path)


def plot_contrast(report: dict, acc_a: np.ndarray, acc_b: np.ndarray, scores_a: dict[str, np.ndarray],
                  scores_b: dict[str, np.ndarray], path: str | Path) -> Path:
    """First panel: each layout's accuracy percentile on A against on B (how training reorders); then one
    panel per predictor: its change of percentile (B minus A) against training's; last, how each one's
    preferred group moves, layer by layer (when the layouts share one depth)."""
    from archsearch.evidence.contrast import change, percentiles

    plt = pyplot()
    shift = report["training"].get("preferred_shift")
    fig, axes = panel_grid(plt, 1 + len(scores_a) + (shift is not None), 3, 3.8, 3.3)
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
    return save_figure(plt, fig, path)


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
    plt = pyplot()
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
    return save_figure(plt, fig, path)


def plot_replay(report: dict, path: str | Path) -> Path:
    """Median validation regret against trained trials per strategy, with its interquartile band; each
    strategy its own line style and width, so that curves lying on one another can be told apart."""
    plt = pyplot()
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
    plain_log_ticks(ax.yaxis)
    inverted = " inverted" if report.get("prior_inverted") else ""
    ax.set_title(f"{Path(report['table']).name}: {report['repeats']} repeats, prior{inverted} of {report['task']}",
                 fontsize=9)
    ax.legend(fontsize=8)
    return save_figure(plt, fig, path)


def plot_needs(names: list[str], capacity: list[float], need: list[float], path: str | Path, title: str = "") -> Path:
    """Per partition (the task's, then the canonical levels): the layout's capacity (log2 min cut) beside
    the need it is scored against; a capacity below its need is a deficit (red)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(5.5, 0.75 * len(names) + 2), 3.8))
    x = np.arange(len(names))
    short = [c < n - 1e-9 for c, n in zip(capacity, need, strict=True)]
    ax.bar(x - 0.2, need, width=0.4, color="0.75", label="need (bits)")
    ax.bar(x + 0.2, capacity, width=0.4, color=["C3" if s else "C0" for s in short], label="capacity: log2 min cut")
    ax.set_xticks(x, names, rotation=40, ha="right", fontsize=7)
    ax.set_ylabel("bits (log scale)")
    ax.set_yscale("log", base=2)
    plain_log_ticks(ax.yaxis)
    ax.set_ylim(bottom=0.5)
    ax.legend(fontsize=7)
    ax.set_title(title or "needs against capacity (red: a deficit)", fontsize=9)
    return save_figure(plt, fig, path)


def plot_history(numbers: list[int], values: list[float], feasible: list[bool], path: str | Path,
                 ylabel: str = "value", maximize: bool = True) -> Path:
    """The optimisation history: every finished trial's value (grey: over the budget) and the best
    feasible value so far."""
    plt = pyplot()
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
    return save_figure(plt, fig, path)


def plot_pareto(values: np.ndarray, front: np.ndarray, names: list[str], path: str | Path) -> Path:
    """The first two objectives of every feasible trial, the Pareto front highlighted."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    ax.plot(values[~front, 0], values[~front, 1], "o", ms=3, color="0.6", label="dominated")
    ax.plot(values[front, 0], values[front, 1], "o", ms=5, color="C3", label="Pareto front")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1] if len(names) > 1 else "")
    ax.legend(fontsize=7)
    ax.set_title(f"{int(front.sum())} of {len(values)} feasible trials on the front"
                 + (f" (first 2 of {len(names)} objectives)" if len(names) > 2 else ""), fontsize=9)
    return save_figure(plt, fig, path)


def plot_prior_accuracy(prior: list[float], acc: list[float], tau: float, path: str | Path) -> Path:
    """Prior score against validation accuracy, one point per trained layout."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    ax.plot(prior, acc, "o", ms=4, alpha=0.7)
    ax.set_xlabel("prior score")
    ax.set_ylabel("validation accuracy")
    ax.set_title(f"{len(prior)} trained layouts; Kendall tau {tau:+.2f}", fontsize=9)
    return save_figure(plt, fig, path)
