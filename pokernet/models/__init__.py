"""The models: PokerNet (``layers``, ``pokernet``, registered in ``zoo``) and the Table 2
baselines (``baselines``), all in one registry (``registry``, a leaf without torch; the names
and their data: ``catalog``). Importing this package imports no model file: a builder's file
is imported when the builder is first asked for, and ``PokerNet``, ``PokerModule`` and the
other layer names below on first use.
"""

import importlib

from .catalog import TABLE1_BLOCKS, BlockConfig
from .registry import create_model, get_entry, list_models, model_options

_LAZY = {
    "ACT_SCHEMES": "pokernet.models.pokernet",
    "PokerNet": "pokernet.models.pokernet",
    "PokerBottleneck": "pokernet.models.layers",
    "PokerModule": "pokernet.models.layers",
}

__all__ = [
    "ACT_SCHEMES",
    "TABLE1_BLOCKS",
    "BlockConfig",
    "PokerBottleneck",
    "PokerModule",
    "PokerNet",
    "create_model",
    "get_entry",
    "list_models",
    "model_options",
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pokernet.models' has no attribute {name!r}")
