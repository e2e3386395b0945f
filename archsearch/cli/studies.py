"""``archsearch studies``, ``show``, ``dashboard`` and ``report``: looking at studies and tables."""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path
from typing import Any

from archsearch.cli.args import STORAGE_HELP, emit, int_in, storage_url, study_name, writable_dir
from archsearch.errors import InputError
from archsearch.formats.escape import figure_for_terminal, for_terminal


def _storages(args: argparse.Namespace) -> list[str]:
    """The storage given, else every study database under the runs folder (one SQLite file per study) and
    every journal file there or one folder down (``--storage journal:runs/NAME.log``, as the docs write it)."""
    from archsearch.search.storages import is_journal

    if args.storage:
        return [args.storage]
    runs = Path(args.runs_dir)
    journals = [f for f in sorted([*runs.glob("*.log"), *runs.glob("*/*.log")]) if f.is_file() and is_journal(f)]
    return [f"sqlite:///{db}" for db in sorted(runs.glob("*/study.db"))] + [f"journal:{f}" for f in journals]


def cmd_studies(args: argparse.Namespace) -> int:
    from archsearch.search.summary import study_rows

    if args.repair:
        _repair(args.storage)
    rows = []
    for url in _storages(args):
        rows += study_rows(url)
    if args.json:
        emit(args, {"studies": rows}, lambda: None)
        return 0
    if not rows:
        where = args.storage or f"{args.runs_dir}/*/study.db or a journal in {args.runs_dir}"
        print(f"no studies in {where}", file=sys.stderr)
        return 0
    head = ["study", "task", "mode", "complete", "of", "running", "pruned", "failed", "best (feasible)", "storage"]
    table = [head] + [[r["study"], r["task"] or "-", r["mode"] or "-", str(r["complete"]),
                       "-" if r["target"] is None else str(r["target"]), str(r["running"]), str(r["pruned"]),
                       str(r["failed"]), "-" if r["best_value"] is None else f"{r['best_value']:.4f}", r["storage"]]
                      for r in rows]
    table = [[for_terminal(cell) for cell in row] for row in table]  # stored text shown, never obeyed
    widths = [max(len(row[k]) for row in table) for k in range(len(head))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _repair(storage: str | None) -> None:
    from archsearch.search.storages import repair_journal, storage_file

    found = storage_file(storage or "")
    if found is None or found[0] != "journal":
        raise InputError("--repair mends a journal file: give --storage journal:FILE", field="--repair")
    path = found[1]
    if not path.is_file():
        raise InputError(f"no such journal file {path}", field="--storage")
    try:
        kept, moved, torn = repair_journal(path)
    except OSError as exc:
        raise InputError(f"cannot repair {path}: {exc.strerror or exc}", field="--storage") from None
    if torn is None:
        print(f"{path}: all {kept} record(s) complete; nothing to repair", file=sys.stderr)
    else:
        print(f"{path}: kept {kept} complete record(s); moved {moved} byte(s) after them to {torn}", file=sys.stderr)


def cmd_show(args: argparse.Namespace) -> int:
    from archsearch.cli.search import _default_storage_of
    from archsearch.search import study as search
    from archsearch.search.summary import best_layouts

    storage = args.storage or _default_storage_of(args.study_name, args.runs_dir)
    study = search.open_study(args.study_name, storage, read_only=True)
    rep = best_layouts(study, args.top)
    if args.json:
        emit(args, rep, lambda: None)
        return 0
    t, num = for_terminal, figure_for_terminal  # stored text is shown, never obeyed (escape sequences)
    print(f"study {args.study_name}: task {t(rep['task'])}, mode {t(rep['mode'])}, {rep['complete']} complete "
          f"({rep['feasible']} within the budget)")
    if not rep["layouts"]:
        print("  no finished layout within the budget yet")
    width = max((len(t(p["name"])) for lay in rep["layouts"] for p in lay["partitions"]), default=0)
    for k, lay in enumerate(rep["layouts"], 1):
        test = f", test {num(lay['test_accuracy'])}" if lay.get("test_accuracy") is not None else ""
        print(f"#{k} trial {lay['trial']}: value {_values(lay['value'])}{test}, prior {num(lay['prior_score'])}, "
              f"{t(lay['params'])} parameters, {t(lay['layout'])}")
        for p in lay["partitions"]:
            print(f"    {t(p['name']):>{width}}: log2 min cut {p['log2_mincut']:7.2f}   "
                  f"cut runs through {t(p['explanation'])}")
    return 0


def _values(v: Any) -> str:
    return ", ".join(map(figure_for_terminal, v)) if isinstance(v, list) else figure_for_terminal(v)


def cmd_dashboard(args: argparse.Namespace) -> int:
    from archsearch.cli.search import _default_storage_of
    from archsearch.search.dashboard import dashboard_app

    storage = args.storage or _default_storage_of(args.study_name, args.runs_dir)
    artifacts = args.artifacts or Path(args.runs_dir) / args.study_name / "artifacts"
    app = dashboard_app(storage, artifacts, args.study_name)
    from wsgiref.simple_server import make_server

    try:
        server = make_server(args.host, args.port, app)
    except OSError as exc:  # a port in use, a host that does not resolve or is not this machine's
        raise InputError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
                         field="--port" if exc.errno == errno.EADDRINUSE else "--host") from None
    with server:
        print(f"optuna-dashboard on http://{args.host}:{args.port}/dashboard/ (study {args.study_name}; "
              "Ctrl-C stops it)", file=sys.stderr)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            return 0
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from archsearch.evidence.outputs import refuse_overwrite
    from archsearch.evidence.report import study_report, table_report

    if bool(args.study_name) == bool(args.table):
        raise InputError("give --study-name NAME (a study) or --table TABLE.json (a benchmark table), one of them",
                         field="--study-name")
    name = args.study_name or Path(args.table).stem
    out = args.out or Path(args.runs_dir) / "reports" / name
    refuse_overwrite(out / "report.html", args.force, "--out")
    from archsearch.cli.args import stage_printer
    from archsearch.formats.files import atomic_dir

    with atomic_dir(out) as tmp:  # a report that fails leaves nothing, not even its folder
        if args.table:
            paths = table_report(args.table, tmp, runs_dir=args.runs_dir, progress=stage_printer("report"))
        else:
            from archsearch.cli.search import _default_storage_of
            from archsearch.search import study as search

            storage = args.storage or _default_storage_of(args.study_name, args.runs_dir)
            paths = study_report(search.open_study(args.study_name, storage, read_only=True), tmp,
                                 progress=stage_printer("report"))
    for p in paths:
        print(out / p.name)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("studies", help="list the studies of a storage (or of the runs folder)",
                       description="List studies with their task, mode, trial counts and best feasible value.")
    s.add_argument("--storage", type=storage_url, help=STORAGE_HELP.split("; default")[0] +
                   " (default: every RUNS_DIR/*/study.db)")
    s.add_argument("--runs-dir", type=writable_dir, default=Path("runs"), help="where the default storages live")
    s.add_argument("--json", action="store_true", help="one JSON object on stdout")
    s.add_argument("--repair", action="store_true",
                   help="with --storage journal:FILE whose last record is torn (a crash, a full disk): keep every "
                        "complete record, move the rest to FILE.torn, then list the studies")
    s.set_defaults(func=cmd_studies)

    h = sub.add_parser("show", help="the best layouts of a study and where their cuts run",
                       description="Print a study's best distinct feasible layouts, best first, with each "
                                   "partition's min cut and the layers it runs through.")
    h.add_argument("--study-name", type=study_name, required=True, help="the study")
    h.add_argument("--storage", type=storage_url, help=STORAGE_HELP)
    h.add_argument("--runs-dir", type=writable_dir, default=Path("runs"), help="where the default storage lives")
    h.add_argument("--top", type=int_in(1, 1000), default=3, help="how many layouts")
    h.add_argument("--json", action="store_true", help="one JSON object on stdout")
    h.set_defaults(func=cmd_show)

    d = sub.add_parser("dashboard", help="optuna-dashboard on a study, feasibility shown truthfully",
                       description="Serve optuna-dashboard (the 'dashboard' extra) on a study's storage: the best "
                                   "trial it names is the best within the budget, trials over it show as "
                                   "infeasible, and each trained trial's layout picture is an artifact.")
    d.add_argument("--study-name", type=study_name, required=True, help="the study (its artifacts folder)")
    d.add_argument("--storage", type=storage_url, help=STORAGE_HELP)
    d.add_argument("--runs-dir", type=writable_dir, default=Path("runs"), help="where the default storage lives")
    d.add_argument("--artifacts", type=writable_dir, help="the artifact folder (default: RUNS_DIR/NAME/artifacts)")
    d.add_argument("--host", default="127.0.0.1", help="address to listen on")
    d.add_argument("--port", type=int_in(1, 65535), default=8080, help="port to listen on")
    d.set_defaults(func=cmd_dashboard)

    r = sub.add_parser("report", help="an HTML page (and a Markdown twin) for a study or a benchmark table",
                       description="Write a self-contained HTML report (pictures embedded) and a Markdown twin "
                                   "(pictures beside it) for a study or a benchmark table.")
    r.add_argument("--study-name", type=study_name, help="the study to report on")
    r.add_argument("--table", help="or: the benchmark table (.json) to report on")
    r.add_argument("--storage", type=storage_url, help=STORAGE_HELP)
    r.add_argument("--runs-dir", type=writable_dir, default=Path("runs"), help="where the default storage lives")
    r.add_argument("--out", type=writable_dir, help="folder to write into (default: RUNS_DIR/reports/NAME)")
    r.add_argument("--force", action="store_true", help="overwrite an earlier report in --out")
    r.set_defaults(func=cmd_report)
