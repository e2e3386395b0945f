"""Reports a person looks at: one HTML page (pictures embedded, so the file travels alone) and a Markdown
twin (pictures beside it) for a study or a benchmark table.

A study's report: what it was (task, space, settings), its best layouts (widths per layer, where each
min cut runs on the input grid), the best layout's capacity against the task's needs at every scale,
the optimisation history, the Pareto front (``--pareto`` studies) and, for trained studies, the prior
against the measured accuracy. A table's report: the table, every predictor against it (``bench
eval``), and the same pictures for the table's best layout.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from archsearch.formats.escape import for_html, for_markdown

if TYPE_CHECKING:
    import optuna

    from archsearch.core.layout import Layout
    from archsearch.formats.task import Task
    from archsearch.prior.score import Prior

__all__ = ["Section", "render", "study_report", "table_report"]


@dataclass
class Section:
    """A heading, paragraphs (plain text), a table (rows of cells, the first the header) and pictures."""

    title: str
    text: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)  #: (file name in the report folder, caption)


_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:left}th{background:#f3f3f3}figure{margin:.8em 0}img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.8em;color:#555}code{background:#f5f5f5;padding:0 .2em}"""


def render(title: str, sections: list[Section], out: Path) -> list[Path]:
    """Write ``report.html`` (pictures as data URIs) and ``report.md`` (pictures linked) into ``out``,
    where the pictures already are; returns both paths."""
    h_ = for_html  # control characters written as escapes, then HTML's entities
    md_ = for_markdown  # every text, stored names included, escaped for each medium where it is written
    body = [f"<h1>{h_(title)}</h1>"]
    md = [f"# {md_(title)}", ""]
    for sec in sections:
        body.append(f"<h2>{h_(sec.title)}</h2>")
        md += [f"## {md_(sec.title)}", ""]
        for para in sec.text:
            body.append(f"<p>{h_(para)}</p>")
            md += [md_(para), ""]
        if sec.rows:
            head, *rest = sec.rows
            body.append("<table><tr>" + "".join(f"<th>{h_(c)}</th>" for c in head) + "</tr>"
                        + "".join("<tr>" + "".join(f"<td>{h_(c)}</td>" for c in r) + "</tr>" for r in rest)
                        + "</table>")
            md += ["| " + " | ".join(map(md_, head)) + " |", "|" + " --- |" * len(head)]
            md += ["| " + " | ".join(map(md_, r)) + " |" for r in rest] + [""]
        for name, caption in sec.images:
            data = base64.b64encode((out / name).read_bytes()).decode()
            body.append(f'<figure><img src="data:image/png;base64,{data}" alt="{h_(caption)}">'
                        f"<figcaption>{h_(caption)}</figcaption></figure>")
            md += [f"![{md_(caption)}]({name})", "", f"*{md_(caption)}*", ""]
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{h_(title)}</title>'
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    from archsearch.formats.files import write_atomic

    write_atomic(out / "report.html", page)
    write_atomic(out / "report.md", "\n".join(md))
    return [out / "report.html", out / "report.md"]


def _layout_sections(task: Task, prior: Prior, layouts: list[Layout], labels: list[str], out: Path) -> list[Section]:
    """Where the best layout's cuts run, the top layouts' widths, and the best's capacity against the
    needs at every scale."""
    from archsearch.core.mincut import explain_mincut
    from archsearch.evidence.plots import plot_cuts, plot_needs, plot_widths

    best = layouts[0]
    plot_cuts(task, best, out / "cuts.png")
    plot_widths(layouts, labels, out / "widths.png", title="channel widths per layer of the best layouts")
    res = prior(best)
    names = [p.name for p in task.partitions] + [f"canonical level {k + 1}" for k in range(len(res.canonical_log2))]
    capacity = [float(v) for v in res.log2_mincut] + [float(v) for v in res.canonical_log2]
    need = [float(v) for v in res.needs] + [float(v) for v in res.canonical_needs]
    if not np.isnan(res.output_log2):
        names, capacity, need = [*names, "output"], [*capacity, res.output_log2], [*need, res.output_need]
    plot_needs(names, capacity, need, out / "needs.png",
               title=f"{labels[0]}: capacity against the needs (prior {prior.kind} score {res.score:.3f})")
    ex = explain_mincut(best, task.masks)
    rows = [["partition", "weight", "log2 min cut", "need (bits)", "cut runs through"]]
    rows += [[p.name, f"{p.weight:g}", f"{ex.log2_mincut[i]:.2f}", f"{res.needs[i]:.2f}", ex.describe(i)]
             for i, p in enumerate(task.partitions)]
    return [
        Section("Where the best layout's cuts run", [f"{labels[0]}: {best.describe()}, {best.param_count()} "
                                                     "parameters. Outlines on the grid: the receptive fields of "
                                                     "the bonds its minimal cut crosses, darker = lower layer."],
                rows, [("cuts.png", "the task's partitions on the input grid, with the cut bonds")]),
        Section("Widths of the best layouts", [], [], [("widths.png", "channels per layer (M first), best first")]),
        Section("Needs against capacity", ["Per partition and per canonical level of the pooling tree: the need "
                                           "the prior scores against, and the best layout's log2 min cut."],
                [], [("needs.png", "need and capacity per partition (red: a deficit)")]),
    ]


def study_report(study: optuna.Study, out: str | Path, top: int = 5,
                 progress: Callable[[str], None] | None = None) -> list[Path]:
    """The report of a study (see the module docstring) into the folder ``out``; ``progress(step)`` is told
    of each stage (the command's stage printer on a terminal)."""
    from optuna.trial import TrialState

    from archsearch.evidence.plots import plot_history, plot_pareto, plot_prior_accuracy
    from archsearch.formats.layout_file import layout_from_dict
    from archsearch.prior.score import Prior
    from archsearch.search import study as search
    from archsearch.search.dashboard import is_feasible
    from archsearch.search.recipe import Recipe

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    recipe = Recipe.of_search(study)
    task, space = recipe.load()
    prior = Prior.for_task(task, space, recipe.prior)
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    ranked = search.distinct_ranked(study)[:top]
    counts = {s.name.lower(): sum(t.state == s for t in study.get_trials(deepcopy=False)) for s in TrialState}
    sections = [Section("The study", [
        f"Task {task.name} ({recipe.task_path}), space {space.name} ({recipe.space_path}); mode {recipe.mode}, "
        f"prior {recipe.prior}, sampler {recipe.sampler}, guide {recipe.guide}."
        + (f" Training: {recipe.epochs} epochs; the value is the validation accuracy, test is reported only."
           if recipe.mode == "trained" else ""),
        "Trials: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v) + f" (target {recipe.trials} complete).",
    ])]
    if not ranked:
        sections.append(Section("No result yet", ["The study holds no finished layout within the budget."]))
        return render(f"archsearch study {study.study_name}", sections, out)
    single = len(study.directions) == 1
    rows = [["#", "trial", "value", "test accuracy", "prior", "parameters", "channels"]]
    for k, t in enumerate(ranked, 1):
        u = t.user_attrs
        value = f"{t.value:.4f}" if single else ", ".join(f"{v:.3f}" for v in t.values)
        rows.append([str(k), str(t.number), value, "-" if u.get("test_accuracy") is None else
                     f"{u['test_accuracy']:.4f}", f"{u['prior_score']:.4f}", str(u["params"]), str(u["channels"])])
    sections.append(Section("The best layouts", ["Distinct layouts within the budget, best first"
                                                 + (" (by validation accuracy)." if recipe.mode == "trained" else ".")],
                            rows))
    layouts = [layout_from_dict(t.user_attrs["layout"], f"trial {t.number}") for t in ranked]
    say = progress or (lambda _step: None)
    say(f"the {len(layouts)} best layouts' cuts and cards")
    sections += _layout_sections(task, prior, layouts, [f"trial {t.number}" for t in ranked], out)
    say("the history of the study, and the page")
    names = study.metric_names or [f"objective {i}" for i in range(len(study.directions))]
    if single:
        plot_history([t.number for t in done], [t.value for t in done], [is_feasible(t) for t in done],
                     out / "history.png", ylabel=names[0], maximize=study.direction.name == "MAXIMIZE")
        sections.append(Section("Optimisation history", [], [], [("history.png", "value per trial, best so far")]))
    else:
        feasible = [t for t in done if is_feasible(t)]
        front_ids = {t.number for t in study.best_trials}
        values = np.array([t.values for t in feasible])
        front = np.array([t.number in front_ids for t in feasible])
        plot_pareto(values, front, names, out / "pareto.png")
        sections.append(Section("Pareto front", [f"{int(front.sum())} trials on the front."], [],
                                [("pareto.png", "the first two objectives, front highlighted")]))
    if recipe.mode == "trained":
        from archsearch.evidence.evaluate import rank_stats

        trained = [t for t in done if "duplicate_of" not in t.user_attrs and is_feasible(t)]
        if len(trained) >= 3:
            p = [t.user_attrs["prior_score"] for t in trained]
            a = [t.value for t in trained]
            tau, ci, _, _ = rank_stats(np.array(p), np.array(a), resamples=500)
            plot_prior_accuracy(p, a, tau, out / "prior.png")
            sections.append(Section("Prior against accuracy", [
                f"Kendall tau {tau:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}] over {len(trained)} trained layouts "
                "(a search's trials are not a random sample: the sampler chose them)."], [],
                [("prior.png", "prior score against validation accuracy")]))
    return render(f"archsearch study {study.study_name}", sections, out)


def table_report(table_path: str | Path, out: str | Path, runs_dir: str | Path = "runs", top: int = 5,
                 progress: Callable[[str], None] | None = None) -> list[Path]:
    """The report of a benchmark table (see the module docstring) into the folder ``out``: the same
    evaluation as ``bench eval`` (:func:`~archsearch.evidence.evaluate.evaluate_table`)."""
    from archsearch.errors import InputError
    from archsearch.evidence.evaluate import evaluate_table
    from archsearch.evidence.plots import plot_eval, plot_table
    from archsearch.evidence.table import Table
    from archsearch.prior.score import Prior

    out = Path(out)
    table = Table.load(table_path)
    task, space = table.task_space()
    rows = table.rows()
    if len(rows) < 3:
        raise InputError(f"only {len(rows)} layout(s) trained so far; a report needs at least 3", table_path, "runs")
    s = table.settings
    plot_table(table, rows, out / "table.png")
    sections = [Section("The table", [
        f"{table.task.name} on {table.space.name}: {len(rows)} of {len(table.layouts)} layouts "
        f"trained ({'the complete grid' if table.space.complete_grid else 'a seeded sample'}), "
        f"{len(table.runs)} runs; {s.epochs} epochs on {s.train} training images, {s.val} validation, "
        f"{s.test} test; built with archsearch {table.archsearch_version} on {table.device}."],
        [], [("table.png", "validation against test accuracy, and validation accuracy against size")])]
    ev = evaluate_table(table, task, space, runs_dir=runs_dir, progress=progress)
    plot_eval(ev.to_dict(), ev.acc, ev.scores, out / "eval.png")
    prow = [["predictor", "Kendall tau [95% CI]", "Spearman", "top-1 regret", "top-5 regret", "tau within"]]
    for name, st in sorted(ev.predictors.items(), key=lambda kv: -np.nan_to_num(kv[1].kendall_tau, nan=-9)):
        prow.append([name, f"{st.kendall_tau:+.3f} [{st.tau_ci[0]:+.3f}, {st.tau_ci[1]:+.3f}]", f"{st.spearman:+.3f}",
                     f"{st.top1_regret:.4f}", f"{st.top5_regret:.4f}", f"{st.within_group_tau:+.3f}"])
    ceiling = ev.noise_ceiling
    text = [f"Against mean validation accuracy; noise ceiling (seed 0 against seed 1 on {ceiling['layouts']} layouts): "
            f"Kendall tau {ceiling['kendall_tau']:+.3f}. Tau within: Kendall tau within groups of equal narrowest "
            "width (what a predictor knows beyond never starving a layer)."]
    if ev.added_value is not None:
        d = ev.added_value
        text.append(f"The prior against the best task-blind predictor ({d['best_task_blind']}): tau difference "
                    f"{d['tau_difference']:+.3f} [{d['tau_difference_ci'][0]:+.3f}, {d['tau_difference_ci'][1]:+.3f}].")
    if ev.position is not None:
        from archsearch.evidence.position import describe

        text += [line[0].upper() + line[1:] + "." for line in describe(ev.position)]
    sections.append(Section("Every predictor against the table (bench eval)", text, prow,
                            [("eval.png", "each predictor's score against accuracy")]))
    best = sorted(rows, key=lambda r: -r.val_accuracy)[:top]
    layouts = table.layouts_of(best, space)
    sections += _layout_sections(task, Prior.for_task(task, space), layouts,
                                 [f"val {r.val_accuracy:.3f}" for r in best], out)
    return render(f"archsearch table {Path(table_path).stem}", sections, out)
