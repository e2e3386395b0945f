"""archsearch: neural architecture search driven by entanglement priors (Levine et al., ICLR 2018).

The public API: layouts, their min cuts and the prior. Torch-dependent names (``build_model``) are
imported on first use, so that the prior answers without loading torch.
"""

from __future__ import annotations

from typing import Any

from archsearch.core.layout import Layer, Layout, LayoutError, param_count
from archsearch.core.mincut import explain_mincut, log2_mincut, log2_mincut_flow
from archsearch.core.partitions import family_mask
from archsearch.errors import InputError
from archsearch.formats.layout_file import layout_from_dict, load_layout
from archsearch.formats.space import load_space
from archsearch.formats.task import load_task
from archsearch.prior.score import Prior, uniform_at_budget

__all__ = [
    "InputError", "Layer", "Layout", "LayoutError", "Prior", "build_model", "explain_mincut", "family_mask",
    "layout_from_dict", "load_layout", "load_space", "load_task", "log2_mincut", "log2_mincut_flow",
    "param_count", "separation_rank", "uniform_at_budget",
]
__version__ = "0.5.0"


def __getattr__(name: str) -> Any:
    if name == "build_model":
        from archsearch.train.models import build_model

        return build_model
    if name == "separation_rank":
        from archsearch.core.rank import separation_rank

        return separation_rank
    raise AttributeError(f"module 'archsearch' has no attribute {name!r}")
