"""PokerNet reproducibility suite: models, complexity, training, latency, tables."""

from .models import PokerNet, create_model, list_models

__version__ = "0.1.0"
__all__ = ["PokerNet", "create_model", "list_models", "__version__"]
