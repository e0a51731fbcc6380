from .layers import PokerBottleneck, PokerModule
from .pokernet import ACT_SCHEMES, TABLE1_BLOCKS, BlockConfig, PokerNet
from .registry import create_model, get_entry, list_models, model_options

__all__ = ["ACT_SCHEMES", "TABLE1_BLOCKS", "BlockConfig", "PokerBottleneck", "PokerModule",
           "PokerNet", "create_model", "get_entry", "list_models", "model_options"]
