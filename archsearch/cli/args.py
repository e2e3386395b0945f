"""Shared command-line pieces: a parser whose errors are one line, option types that validate values
before any command runs (so nothing is opened or written for a bad value), and option groups that
several commands share."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

from archsearch.formats.validate import MAX_IMAGES, MAX_SEED, NAME_PATTERN

__all__ = [
    "DEVICE_PATTERN", "PLOT_SUFFIXES", "STORAGE_HELP", "OneLineParser", "RunsBar", "add_threads_option",
    "add_training_options", "device", "float_above_zero", "int_in", "plot_path", "storage_url", "study_name",
    "writable_dir",
]

#: what ``--device`` accepts; availability is checked by the command (it needs torch)
DEVICE_PATTERN = r"^(auto|cpu|mps|cuda(:\d{1,2})?)$"
PLOT_SUFFIXES = (".png", ".pdf", ".svg")
MAX_EPOCHS = 10_000


class _DefaultsShown(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default, unless it has none worth showing (None, or off for a flag)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


class OneLineParser(argparse.ArgumentParser):
    """argparse, with every usage error as one line (exit status 2) and defaults shown in ``--help``."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _DefaultsShown)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        print(f"archsearch: error: {self.prog}: {message} (see '{self.prog} --help')", file=sys.stderr)
        sys.exit(2)


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in ``low..high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text[:40]!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must lie in {low}..{high}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def float_above_zero(high: float) -> Callable[[str], float]:
    """An argparse type: a number in ``(0, high]``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text[:40]!r}") from None
        if not 0.0 < value <= high:  # NaN fails too
            raise argparse.ArgumentTypeError(f"must lie in (0, {high:g}], got {value}")
        return value

    return parse


def study_name(text: str) -> str:
    if not re.match(NAME_PATTERN, text):
        raise argparse.ArgumentTypeError(
            f"must be 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit; got {text[:40]!r}"
            + ("..." if len(text) > 40 else ""))
    return text


def device(text: str) -> str:
    if not re.match(DEVICE_PATTERN, text):
        raise argparse.ArgumentTypeError(f"expected auto, cpu, cuda, cuda:N or mps, got {text[:40]!r}")
    return text


def _writable_parent(path: Path) -> None:
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise argparse.ArgumentTypeError(f"cannot create {str(path)!r}: {str(probe)!r} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot create {str(path)!r}: {str(probe)!r} is not writable")


def writable_dir(text: str) -> Path:
    """A folder that exists or can be created (nothing is created here)."""
    path = Path(text)
    if not text:
        raise argparse.ArgumentTypeError("expected a folder, got ''")
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    _writable_parent(path)
    return path


def plot_path(text: str) -> Path:
    """A picture file to write: .png, .pdf or .svg, in a folder that exists or can be created."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name ending in "
                                         f"{', '.join(PLOT_SUFFIXES)}")
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise argparse.ArgumentTypeError(f"unknown picture format {path.suffix or '(none)'!r} in {text!r}; "
                                         f"use {', '.join(PLOT_SUFFIXES)}")
    _writable_parent(path.parent)
    return path


#: the storages ``--storage`` takes
STORAGE_HELP = ("Optuna storage: an RDB URL (sqlite:///FILE, postgresql+psycopg://USER@HOST/DB for workers on "
                "many machines, mysql://...) or journal:FILE (Optuna's journal file, for many processes on one "
                "machine or a shared file system); default: sqlite:///RUNS_DIR/NAME/study.db")
_STORAGE_PATTERN = r"^(sqlite:///.+|(postgresql|mysql)(\+\w+)?://.+|journal:.+)$"


def storage_url(text: str) -> str:
    """An Optuna storage this tool opens: RDB URL or ``journal:FILE`` (opened, and checked, by the command)."""
    if not re.match(_STORAGE_PATTERN, text) or len(text) > 4096:
        raise argparse.ArgumentTypeError(
            f"expected sqlite:///FILE, postgresql+psycopg://..., mysql://... or journal:FILE, got {text[:60]!r}")
    return text


def add_threads_option(p: argparse.ArgumentParser) -> None:
    """``--threads``: torch threads per training process on CPU."""
    p.add_argument("--threads", type=int_in(1, 1024),
                   help="torch threads per training process on CPU (default 1: a single-threaded process holds its "
                        "speed when the machine is shared; more processes, not threads, add throughput)")


def add_prior_option(p: argparse.ArgumentParser) -> None:
    """``--prior NAME``: which variant of the prior scores (README, "The prior score"), from the registry."""
    from archsearch.prior.score import PRIORS, VARIANTS

    p.add_argument("--prior", choices=PRIORS, default=PRIORS[0],
                   help="the prior's variant: " + "; ".join(f"{v.name} ({v.help})" for v in VARIANTS.values()))


def add_training_options(p: argparse.ArgumentParser, epochs: int) -> None:
    """What every training command takes: epochs, data sizes, device, seed, folders, progress."""
    p.add_argument("--epochs", type=int_in(1, MAX_EPOCHS), default=epochs, help="training epochs per run")
    p.add_argument("--train", type=int_in(1, MAX_IMAGES), help="training images (default: the task's data.train)")
    p.add_argument("--val", type=int_in(1, MAX_IMAGES), help="validation images, what ranks and selects (default: "
                   "the task's data.val)")
    p.add_argument("--test", type=int_in(1, MAX_IMAGES), help="test images, reported only (default: the task's "
                   "data.test)")
    p.add_argument("--device", type=device, default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, "
                   "cuda:N or mps")
    p.add_argument("--seed", type=int_in(0, MAX_SEED), default=0,
                   help="first training seed and the sampler's seed (verify: seeds the layouts it picks and the "
                        "bootstrap; its runs use seeds 0..S-1, as a table's do)")
    p.add_argument("--runs-dir", type=writable_dir, default=Path("runs"), help="where studies, caches and results go")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


class Stopped(KeyboardInterrupt):
    """SIGTERM (or SIGINT) turned into an exception, so that ``with`` blocks clean up (a pool of training
    processes is terminated, not orphaned) and the command exits with 128 + the signal in one line."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def signals_stop() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise :class:`Stopped` (restored afterwards)."""
    def on_signal(signum: int, frame: object) -> None:
        raise Stopped(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class RunsBar:
    """One progress bar over the runs of a table build (``build_table``'s ``on_run``), made at the first
    finished run, when the total is known; ``describe(run)`` says what just trained."""

    def __init__(self, desc: str, enabled: bool, describe: Callable[[dict], str]) -> None:
        self.desc, self.enabled, self.describe, self.bar = desc, enabled, describe, None

    def __call__(self, run: dict, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=done - 1, desc=self.desc, unit="run", dynamic_ncols=True)
        self.bar.set_postfix_str(self.describe(run))
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def add_output_options(p: argparse.ArgumentParser, plot_help: str) -> None:
    """``--json`` (one JSON object on stdout), ``--plot FILE`` and ``--force`` (overwrite it)."""
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--plot", type=plot_path, metavar="FILE", help=plot_help)
    p.add_argument("--force", action="store_true", help="overwrite an existing --plot file")


def add_runs_dir_option(p: argparse.ArgumentParser, help: str = "where the data cache is") -> None:
    """``--runs-dir``: where studies, caches and results go."""
    p.add_argument("--runs-dir", type=writable_dir, default=Path("runs"), help=help)


def check_plot(args: argparse.Namespace) -> None:
    """Refuse an existing ``--plot`` file without ``--force``, before any work."""
    if getattr(args, "plot", None):
        from archsearch.evidence.outputs import refuse_overwrite

        refuse_overwrite(args.plot, args.force, "--plot")


def stage_printer(command: str) -> Callable[[str], None] | None:
    """For a long command on a terminal: a function that says on stderr what it does now and how long it
    has run (``bench eval: 12 s: rank statistics ...``); None when stderr is not a terminal (pipes, tests)."""
    import time

    if not sys.stderr.isatty():
        return None
    start = time.monotonic()

    def say(step: str) -> None:
        print(f"{command}: {time.monotonic() - start:.0f} s: {step} ...", file=sys.stderr, flush=True)
    return say


def emit(args: argparse.Namespace, report: Any, text: Callable[[], None]) -> None:
    """The command's answer: ``report`` as strict JSON with ``--json``, else ``text()`` prints it for a
    person (then says where ``--plot`` went)."""
    if getattr(args, "json", False):
        from archsearch.evidence.outputs import json_text

        print(json_text(report))
        return
    text()
    if getattr(args, "plot", None):
        print(f"wrote {args.plot}")


def shipped_or_path(kind: str) -> Callable[[str], str]:
    """A file argument that also takes the name of a shipped file of ``kind`` (``archsearch shipped`` lists
    them): a path that exists is used as given."""
    def parse(text: str) -> str:
        from archsearch.shipped import resolve

        return resolve(text, kind)
    parse.__name__ = f"{kind} file"
    return parse
