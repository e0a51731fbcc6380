"""The models: PokerNet (``layers``, ``pokernet``, registered in ``zoo``) and the Table 2
baselines (``baselines``), all in one registry (``registry``, a leaf). Importing this package
imports every model file, so every builder is registered."""

# Register the builders; the order (PokerNet first) is the order of list_models().
from . import zoo  # noqa: F401  isort: skip
from . import baselines  # noqa: F401  isort: skip
from .layers import PokerBottleneck, PokerModule
from .pokernet import ACT_SCHEMES, TABLE1_BLOCKS, BlockConfig, PokerNet
from .registry import create_model, get_entry, list_models, model_options

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
