"""``archsearch layout from-torch`` (a block layout file from a torch module of your own) and ``archsearch
shipped`` (the shipped tasks, spaces and layouts, by name)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from archsearch.cli.args import int_in
from archsearch.errors import InputError

__all__ = ["add_commands", "cmd_from_torch", "cmd_shipped"]


def _function(spec: str):
    """``FILE.py:FUNCTION``: the function, from the file run as a module (your code: it is executed)."""
    path, _, name = spec.rpartition(":")
    if not path or not name.isidentifier():
        raise InputError(f"expected FILE.py:FUNCTION, got {spec[:80]!r}", field="SOURCE")
    file = Path(path)
    if not file.is_file() or file.suffix != ".py":
        raise InputError("no such Python file", file)
    mod_spec = importlib.util.spec_from_file_location(f"_archsearch_user_{file.stem}", file)
    module = importlib.util.module_from_spec(mod_spec)
    sys.path.insert(0, str(file.parent.resolve()))
    try:
        mod_spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's file failed to run: say how, in one line
        first = str(exc).splitlines()[0][:160] if str(exc) else ""
        raise InputError(f"running it raised {type(exc).__name__}: {first}", file) from None
    finally:
        sys.path.pop(0)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise InputError(f"no function '{name}' in it", file)
    return fn, file


def cmd_from_torch(args: argparse.Namespace) -> int:
    import torch

    from archsearch.evidence.outputs import refuse_overwrite
    from archsearch.formats.files import write_atomic
    from archsearch.train.from_torch import layout_from_module

    refuse_overwrite(args.out, args.force, "--out")
    fn, file = _function(args.source)
    module = fn()
    if not isinstance(module, torch.nn.Module):
        raise InputError(f"{args.source.rpartition(':')[2]}() returned a {type(module).__name__}, not a torch "
                         "module", file)
    try:
        layout = layout_from_module(module, tuple(args.input_shape))
    except InputError as exc:  # named by the function that made the module
        raise InputError(exc.message, args.source, exc.field) from None
    import yaml

    text = (f"# read from {args.source} by `archsearch layout from-torch`\n"
            + yaml.safe_dump(layout.to_dict(), sort_keys=False, width=110))
    write_atomic(args.out, text)
    print(f"wrote {args.out}: {layout.describe()}, {layout.param_count()} parameters, {layout.mac_count()} MACs")
    return 0


def cmd_shipped(args: argparse.Namespace) -> int:
    """The task specs, search spaces and layouts shipped with archsearch: each command takes their names."""
    from archsearch.shipped import KINDS, names, shipped_path

    kinds = [args.kind] if args.kind else list(KINDS)
    for kind in kinds:
        found = names(kind)
        print(f"{kind} ({len(found)}): {', '.join(found)}")
        if args.paths:
            for n in found:
                print(f"  {shipped_path(kind, n + '.yaml')}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    sh = sub.add_parser("shipped", help="list the shipped tasks, search spaces and layouts (commands take their names)",
                        description="List the task specs, search spaces and layouts shipped with archsearch. Every "
                                    "command that reads one takes its name (`archsearch score digits-local "
                                    "wide-base-64x64-r8`) as well as a path.")
    sh.add_argument("kind", nargs="?", choices=["tasks", "search_spaces", "layouts"], help="only these")
    sh.add_argument("--paths", action="store_true", help="print where each file is")
    sh.set_defaults(func=cmd_shipped)

    lay = sub.add_parser("layout", help="layout files from elsewhere: from-torch",
                         description="Write layout files from other sources.")
    cmds = lay.add_subparsers(dest="layout_command", required=True, metavar="ACTION",
                              help="from-torch: a block layout from a torch module")
    f = cmds.add_parser("from-torch", help="a block layout from a torch module (traced with torch.fx)",
                        description="Trace the module FUNCTION() returns with torch.fx and write its block layout "
                                    "(conv, ResNet basic and MobileNet inverted-residual blocks, global average "
                                    "pooling, one Linear); anything else is refused in one line naming the node. "
                                    "FILE.py is run (it is your code).")
    f.add_argument("source", metavar="FILE.py:FUNCTION", help="a function of no arguments that returns the module")
    f.add_argument("--input-shape", type=int_in(1, 4096), nargs=3, required=True, metavar=("C", "H", "W"),
                   help="the input the module takes: channels, height, width")
    f.add_argument("--out", required=True, help="the block layout file to write (.yaml)")
    f.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    f.set_defaults(func=cmd_from_torch)
