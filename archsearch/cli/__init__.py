"""The ``archsearch`` command: one module per command group, each thin (parse, validate, call, print)."""

from archsearch.cli.main import entry, main

__all__ = ["entry", "main"]
