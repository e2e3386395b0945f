"""Bad command lines, table-driven: each is refused in one line that names the flag, with exit status 2,
before anything is stored or written."""

from __future__ import annotations

import pytest

from archsearch import __version__
from archsearch.cli.main import build_parser
from tests.conftest import ROOT, run_cli

T32 = str(ROOT / "tasks" / "digits-local-32.yaml")
S32 = str(ROOT / "search_spaces" / "cpu-32x32.yaml")
T64 = str(ROOT / "tasks" / "digits-global.yaml")
WB64 = str(ROOT / "layouts" / "wide-base-64x64-r8.yaml")
MN32 = str(ROOT / "benchmarks" / "tables" / "mnist1d-32.json")
MN32S = str(ROOT / "benchmarks" / "tables" / "mnist1d-32-scrambled.json")
PAYLOAD = 'x"""+__import__("os").system("touch pwned")+"""'

# (argv, what the one line must say); {tmp} is a fresh folder, {file} a plain file in it
CASES = [
    (["search", T32, S32, "--prior-only", "--study-name", "s", "--seed", "-1"], "argument --seed: must lie in 0.."),
    (["search", T32, S32, "--prior-only", "--study-name", "s" * 300], "argument --study-name: must be 1 to 100"),
    (["search", T32, S32, "--prior-only", "--study-name", PAYLOAD], "argument --study-name"),
    (["search", T32, S32, "--prior-only", "--study-name", "a/b"], "argument --study-name"),
    (["search", T32, S32, "--prior-only", "--study-name", "s", "--trials", "0"], "argument --trials: must lie in"),
    (["search", T32, S32, "--prior-only", "--study-name", "s", "--trials", "ten"], "expected an integer"),
    (["search", T32, S32, "--prior-only", "--study-name", "s", "--runs-dir", "{file}"], "is a file, not a folder"),
    (["search", T32, S32, "--prior-only", "--study-name", "s", "--runs-dir", "{file}/sub"], "is a file"),
    (["search", T32, S32, "--prior-only", "--study-name", "s", "--max-failures", "0"], "--max-failures"),
    (["search", T32, S32, "--study-name", "s", "--device", "meta"], "argument --device: expected auto, cpu"),
    (["search", T32, S32, "--study-name", "s", "--device", "mps"], "--device: 'mps' asked for, but this torch"),
    (["search", T32, S32, "--study-name", "s", "--device", "cuda:3"], "--device: 'cuda:3' asked for"),
    (["search", T32, S32, "--study-name", "s", "--train", "0"], "argument --train: must lie in 1.."),
    (["search", T32, S32, "--study-name", "s", "--pareto"], "--pareto goes with --prior-only"),
    (["search", T32, str(ROOT / "search_spaces" / "paper-64x64.yaml"), "--prior-only", "--study-name", "s"],
     "does not match the task's [32, 32]"),
    (["score", T64, WB64, "--budget", "-5"], "argument --budget: must lie in 1.."),
    (["score", T64, WB64, "--plot", "{tmp}/cuts.gif"], "unknown picture format '.gif'"),
    (["score", T64, WB64, "--plot", "{tmp}"], "is a folder"),
    (["score", T64, WB64, "--plot", "{tmp}/old.png"], "old.png already exists; give --force"),
    (["score", T64, WB64, "--budget", "100", "--space", S32], "give --budget or --space, not both"),
    (["score", T64, WB64, "--space", S32], "does not match the layout's [64, 64]"),
    (["score", T64, WB64, "--nope"], "unrecognized arguments: --nope"),
    (["bound", T64, WB64, "--max-entries", "0"], "argument --max-entries: must lie in 1.."),
    (["bound", T64, WB64, "--max-entries", str(2**40)], "argument --max-entries: must lie in 1.."),
    (["bound", T64, WB64], "over the limit"),
    (["paper", "--r", "0"], "argument --r: must lie in 1.."),
    (["paper", "--scale", "huge"], "argument --scale: invalid choice"),
    (["paper", "--local", "{tmp}/missing.yaml"], "missing.yaml: no such file"),
    (["verify", T32, S32, "--layouts", "1"], "argument --layouts: must lie in 2.."),
    (["verify", T32, S32, "--plot", "{tmp}/v.txt"], "unknown picture format '.txt'"),
    (["export", "--study-name", "nope", "--out", "{tmp}/o", "--runs-dir", "{tmp}"], "no study 'nope'"),
    (["export", "--study-name", "s", "--out", "{file}"], "argument --out: '"),
    (["export", "--study-name", "s", "--out", "{tmp}/o", "--top", "0"], "argument --top: must lie in 1.."),
    (["export", "--study-name", "s", "--out", "{tmp}/o", "--format", "exe"], "argument --format: invalid choice"),
    (["bench", "contrast", MN32, MN32S, "--top", "0"], "argument --top: must lie in 1.."),
    (["bench", "contrast", MN32, MN32S, "--prefer", "0"], "argument --prefer: must lie in (0, 1]"),
    (["bench", "contrast", MN32, MN32S, "--predictors", "oracle"], "argument --predictors: invalid choice"),
    (["bench", "contrast", MN32, MN32S, "--plot", "{tmp}/old.png"], "old.png already exists; give --force"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize("argv,expect", CASES, ids=[" ".join(a[:1] + a[-2:])[:60] for a, _ in CASES])
def test_bad_command_line_is_one_line(argv, expect, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default runs/ folder would land here
    (tmp_path / "file").write_text("x")
    (tmp_path / "old.png").write_bytes(b"\x89PNG earlier results")
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{file}", str(tmp_path / "file")) for a in argv]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert run_cli(argv) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("archsearch: error: "), err
    assert expect in err, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing created: no runs/, no study
    assert not (tmp_path / "pwned").exists()
    assert (tmp_path / "old.png").read_bytes() == b"\x89PNG earlier results"


def test_large_M_bound_is_one_line(tmp_path, capsys):
    """M^N with thousands of digits: refused by size, not by a failure to print the number."""
    lay = tmp_path / "l.yaml"
    lay.write_text("input_shape: [64, 64]\nM: 1000\nlayers:\n" + "  - {channels: 4, pool: [2, 2]}\n" * 6)
    assert run_cli(["bound", T64, str(lay)]) == 2
    err = capsys.readouterr().err
    assert "over the limit" in err and "10^12288" in err and err.count("\n") == 1


def test_version(capsys):
    assert run_cli(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"archsearch {__version__}"


def _subparsers(parser):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            return action.choices
    return {}


def test_every_argument_has_help_and_defaults_show():
    commands = _subparsers(build_parser())
    assert set(commands) >= {"score", "bound", "check", "search", "export", "verify", "paper"}
    for name, sub in commands.items():
        text = sub.format_help()
        for action in sub._actions:
            if action.dest == "help":
                continue
            assert action.help, f"{name}: {action.dest} has no help"
            if action.default not in (None, False) and action.help:
                assert "(default:" in text, f"{name}: defaults are not shown"
    assert "(default: 15)" in commands["paper"].format_help()  # --epochs differs per command: shown
    assert "(default: 5)" in commands["search"].format_help()


def test_internal_errors_are_one_line(monkeypatch, capsys):
    from archsearch.cli import prior

    def boom(args):
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(prior, "cmd_check", boom)
    monkeypatch.delenv("ARCHSEARCH_DEBUG", raising=False)
    assert run_cli(["check", T32]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: ZeroDivisionError: division by zero second line" in err
    assert "ARCHSEARCH_DEBUG=1" in err and "Traceback" not in err
    monkeypatch.setenv("ARCHSEARCH_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        run_cli(["check", T32])


def test_a_closed_pipe_is_not_an_error(tmp_path):
    import json
    import subprocess
    import sys

    table = tmp_path / "t.json"  # a table big enough that printing it outlasts `head`
    from dataclasses import asdict

    from archsearch.evidence.bench import BenchSettings

    table.write_text(json.dumps({
        "format": "archsearch-bench-table/1", "archsearch_version": "test", "created": "now", "device": "cpu",
        "task": {"name": "t", "file": "t.yaml", "input_shape": [4]},
        "space": {"name": "s", "file": "s.yaml", "complete_grid": True, "schedules": [[[4]]], "max_params": 10**6,
                  "band": 0.5},
        "settings": asdict(BenchSettings()),
        "layouts": [{"id": i, "label": "grid", "schedule": 0, "M": 2, "channels": [i + 1], "params": i + 1}
                    for i in range(3000)],
        "runs": [{"layout": i, "seed": 0, "val_accuracy": 0.5, "test_accuracy": 0.5, "seconds": 1.0}
                 for i in range(3000)]}))
    res = subprocess.run(f"{sys.executable} -m archsearch bench show {table} --top 3000 | head -1",
                         shell=True, capture_output=True, text=True, timeout=60)
    assert res.stdout.startswith(str(table)) and res.stdout.count("\n") == 1
    assert res.stderr == "", res.stderr


@pytest.mark.parametrize("argv, command, hint", [
    (["bench", "eval", "t.json", "--jsn"], "archsearch bench eval", "--jsn: did you mean --json?"),
    (["search", "t.yaml", "s.yaml", "--study-name", "x", "--trails", "5"], "archsearch search",
     "--trails: did you mean --trials?"),
    (["score", "t.yaml", "l.yaml", "--zzz"], "archsearch score", None),
])
def test_a_mistyped_option_is_refused_by_its_own_command_with_the_nearest_one(argv, command, hint, capsys):
    assert run_cli(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"archsearch: error: {command}: unrecognized arguments")
    assert err.endswith(f"(see '{command} --help')")
    assert (hint in err) if hint else "did you mean" not in err


def test_swapped_files_say_the_order(capsys):
    layout, task = ROOT / "layouts" / "wide-base-64x64-r8.yaml", ROOT / "tasks" / "digits-local.yaml"
    assert run_cli(["score", str(layout), str(task)]) == 2
    assert "this is a layout file, not a task: the order is TASK.yaml LAYOUT.yaml" in capsys.readouterr().err
    assert run_cli(["bound", str(ROOT / "search_spaces" / "cpu-32x32-grid.yaml"), "x.yaml"]) == 2
    assert "this is a search space file, not a task" in capsys.readouterr().err


def test_shipped_files_are_listed_and_named_without_a_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no checkout here: the names resolve to the installed (or source) copies
    assert run_cli(["shipped", "tasks"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("tasks (") and "digits-local-32" in out and "natural-images-32" in out
    assert run_cli(["score", "digits-local", "wide-base-64x64-r8", "--json"]) == 0
    assert '"task": "digits-local"' in capsys.readouterr().out
    assert run_cli(["check", "digits-local-32", "cpu-32x32-grid.yaml", "cbm-resnet"]) == 0
    assert capsys.readouterr().out.count(": ok: ") == 3
    assert run_cli(["score", "digits-lokal", "wide-base-64x64-r8"]) == 2
    assert "digits-lokal: no such file" in capsys.readouterr().err
    (tmp_path / "digits-local").write_text("name: mine\\n")  # a file of that name here is the one meant
    assert run_cli(["check", "digits-local"]) == 2
