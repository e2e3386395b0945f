"""``archsearch quickstart``: the tutorial's three jobs in one command, in under a minute on a CPU.

It profiles a shipped task from its data, runs a prior-only search over a shipped space with the profiled
task, exports the best layouts as torch files and loads the first, and draws the pictures on the way (the
profile, the best layouts' cards, the cuts of the best layout), all into a new folder of its own. Each step
is a command the tutorial shows (its outputs placed in that folder), printed before it runs, so what
quickstart does a user can do by hand.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from archsearch.cli.args import int_in, shipped_or_path

__all__ = ["add_commands", "cmd_quickstart", "quickstart_steps"]


def quickstart_steps(task: str, space: str, out: Path, trials: int, top: int) -> list[tuple[str, list[str]]]:
    """The steps as (what, the command's arguments), each a command the tutorial shows, writing under
    ``out``."""
    profiled = out / "task-profiled.yaml"
    runs = str(out / "runs")
    return [
        ("profile the task from its data", ["profile", task, "--space", space, "--out", str(profiled),
                                            "--plot", str(out / "profile.png"), "--runs-dir", runs]),
        ("a prior-only search, guided by the profiled task", [
            "search", str(profiled), space, "--prior-only", "--trials", str(trials), "--study-name", "quickstart",
            "--runs-dir", runs, "--no-progress"]),
        ("export the best layouts as torch files", ["export", "--study-name", "quickstart", "--runs-dir", runs,
                                                    "--top", str(top), "--format", "torch", "--out",
                                                    str(out / "best")]),
        ("... and as layout files", ["export", "--study-name", "quickstart", "--runs-dir", runs, "--top", str(top),
                                     "--out", str(out / "best-yaml")]),
    ]


def cmd_quickstart(args: argparse.Namespace) -> int:
    from archsearch.cli.main import main
    from archsearch.errors import InputError
    from archsearch.evidence.outputs import new_run_dir
    from archsearch.formats.task_space import load_task_space

    task, _ = load_task_space(args.task, args.space)  # both checked, and on one grid, before a folder is made
    if task.data is None:
        raise InputError("quickstart profiles the task from its data: it needs a 'data' section", args.task, "data")
    out = new_run_dir(Path(args.runs_dir) / "quickstart")
    t0 = time.perf_counter()
    print(f"quickstart: the three jobs on {Path(args.task).stem} over {Path(args.space).stem}, into {out}")
    steps = quickstart_steps(args.task, args.space, out, args.trials, args.top)
    for k, (what, argv) in enumerate(steps, 1):
        print(f"\n[{k}/{len(steps) + 2}] {what}: archsearch {' '.join(argv)}", flush=True)
        status = main(argv)
        if status:  # the step said why, in its one line
            return status
    best = sorted((out / "best-yaml").glob("*.yaml"))
    print(f"\n[{len(steps) + 1}/{len(steps) + 2}] the best layout's cuts against the task's needs: "
          f"archsearch score {out / 'task-profiled.yaml'} {best[0]} --plot {out / 'cuts.png'}", flush=True)
    status = main(["score", str(out / "task-profiled.yaml"), str(best[0]), "--plot", str(out / "cuts.png")])
    if status:
        return status
    module_file = sorted((out / "best").glob("*.py"))[0]
    print(f"\n[{len(steps) + 2}/{len(steps) + 2}] load the best layout's torch module: "
          f"runpy.run_path('{module_file}')['build']()", flush=True)
    import runpy

    try:
        module = runpy.run_path(str(module_file))["build"]()
    except Exception as exc:  # noqa: BLE001 - the exported file must load; say why in one line if not
        raise InputError(f"the exported module did not build: {type(exc).__name__}: {exc}", module_file) from None
    n = sum(p.numel() for p in module.parameters())
    print(f"{type(module).__name__} with {n} parameters, ready to train:\n{module}")
    print(f"\nquickstart done in {time.perf_counter() - t0:.0f} s. In {out}: profile.png (the task's needs per "
          "level), task-profiled.yaml, runs/quickstart/ (the study and its best layouts' cards), best/ (torch "
          "files), best-yaml/ (layout files), cuts.png (the best layout's cuts). Next: the same search with "
          "training (drop --prior-only), or `archsearch paper` (docs/tutorial.md).")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    q = sub.add_parser("quickstart", help="the three jobs in a minute: profile, prior-only search, export",
                       description="Profile a task from its data, search its space with the prior alone, export "
                                   "the best layouts as torch files and load one, drawing the pictures on the "
                                   "way; each step is the tutorial's command, printed before it runs. Writes a "
                                   "new folder RUNS_DIR/quickstart/STAMP/.")
    q.add_argument("--task", type=shipped_or_path("tasks"), default="digits-global-32",
                   help="task spec with a data section (YAML, or a shipped task's name)")
    q.add_argument("--space", type=shipped_or_path("search_spaces"), default="cpu-32x32-grid",
                   help="search space (YAML, or a shipped one's name)")
    q.add_argument("--trials", type=int_in(1, 100_000), default=60, help="prior-only trials")
    q.add_argument("--top", type=int_in(1, 100), default=3, help="layouts exported")
    q.add_argument("--runs-dir", default="runs", help="where the new folder goes")
    q.set_defaults(func=cmd_quickstart)
