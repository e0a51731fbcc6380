"""PokerNet reproducibility suite: models, complexity, training, latency, tables.

``PokerNet``, ``create_model`` and ``list_models`` are loaded on first use, so that importing a
torch-free part of the package (the command line's parser, the workflow's parse) does not
import torch (issue 26).
"""

import importlib

__version__ = "0.1.0"
__all__ = ["PokerNet", "create_model", "list_models", "__version__"]


def __getattr__(name: str):
    if name in ("PokerNet", "create_model", "list_models"):
        return getattr(importlib.import_module("pokernet.models"), name)
    raise AttributeError(f"module 'pokernet' has no attribute {name!r}")
