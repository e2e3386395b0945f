"""The one error type for bad user input (a file, a field, an option): the CLI prints it as one line and
exits 2. Every layer raises it; it depends on nothing."""

from __future__ import annotations

from pathlib import Path

__all__ = ["InputError"]


class InputError(Exception):
    """Bad user input: one line that names the file, and the line and field where known."""

    def __init__(self, message: str, file: str | Path | None = None, field: str = "", line: int | None = None):
        self.message, self.file, self.field, self.line = message, file, field, line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.file) if self.file is not None else ""
        if where and self.line is not None:
            where += f":{self.line}"
        head = ": ".join(x for x in (where, self.field) if x)
        text = f"{head}: {self.message}" if head else self.message
        return " ".join(text.split("\n"))  # one line, whatever the message quotes
