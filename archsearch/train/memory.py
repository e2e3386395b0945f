"""Freed memory kept in a CPU training process. glibc's malloc serves every block over its mmap threshold
(at most 32 MB) with a fresh mapping and unmaps it when freed, so each training step faults a wide layer's
activations in again, page by page, in the kernel: 2.6x the wall time of a 64-wide layout on 48x48 inputs
(``python benchmarks/bench_malloc.py``). Told to keep what is freed, malloc reuses it; no number changes.

No torch here: :func:`keep_freed_memory` runs before the first tensor where it matters (``train``).
"""

from __future__ import annotations

import ctypes
import os
import platform
from collections.abc import Mapping

from archsearch.errors import InputError

__all__ = ["KEEP_FREED_ENV", "KEEP_FREED_VALUES", "MALLOC_ENV", "check_keep_freed_env", "keep_freed_memory",
           "why_not_kept"]

#: ``ARCHSEARCH_MALLOC=system`` leaves malloc as it is (a memory-tight machine: the kept heap's peak was up to
#: 29% higher in the benchmark); ``keep`` (or unset) keeps freed memory
KEEP_FREED_ENV = "ARCHSEARCH_MALLOC"
KEEP_FREED_VALUES = ("keep", "system")
#: environment variables through which a user tunes glibc's malloc: with any of them set, it is left alone
MALLOC_ENV = ("MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
              "GLIBC_TUNABLES")
#: mallopt's parameters (malloc.h): no mmap-served blocks; the heap's free top returned only past 2 GB
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_TRIM_BYTES = 2**31 - 1

_state: dict[str, bool] = {}


def check_keep_freed_env(environ: Mapping[str, str] | None = None) -> str:
    """``ARCHSEARCH_MALLOC`` as given, trimmed and lower-cased ("" when unset); any value other than ``keep`` or
    ``system`` is refused (a typo would otherwise keep freed memory silently). The command line checks it
    before any command runs."""
    env = os.environ if environ is None else environ
    value = env.get(KEEP_FREED_ENV, "").strip().lower()
    if value and value not in KEEP_FREED_VALUES:
        raise InputError(f"{env[KEEP_FREED_ENV]!r} is not one of {', '.join(KEEP_FREED_VALUES)}",
                         field=f"environment variable {KEEP_FREED_ENV}")
    return value


def why_not_kept(environ: Mapping[str, str] | None = None) -> str:
    """Why this process leaves malloc alone ("" when it need not): asked to, tuned by the user through the
    environment, or not glibc. An unknown ``ARCHSEARCH_MALLOC`` raises :class:`InputError`."""
    env = os.environ if environ is None else environ
    if check_keep_freed_env(env) == "system":
        return f"{KEEP_FREED_ENV}=system"
    tuned = [name for name in MALLOC_ENV if name in env]
    if tuned:
        return f"malloc tuned through the environment ({', '.join(tuned)})"
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return "not glibc"
    return ""


def keep_freed_memory() -> bool:
    """Once per process: tell glibc's malloc to keep freed memory (no mmap-served blocks, the heap trimmed only
    past 2 GB free). Returns whether it is in force; nothing is done where :func:`why_not_kept` says so."""
    if "kept" not in _state:
        kept = False
        if not why_not_kept():
            mallopt = ctypes.CDLL(None).mallopt
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            kept = mallopt(_M_MMAP_MAX, 0) == 1 and mallopt(_M_TRIM_THRESHOLD, _TRIM_BYTES) == 1
        _state["kept"] = kept
    return _state["kept"]
