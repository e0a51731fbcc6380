"""Params and MAdds (``counting``) and the architecture audit (``audit``); ``cli`` holds
``pokernet complexity`` and ``pokernet audit``."""

from .counting import Complexity, bias_madds, complexity, count_madds, count_madds_flop_counter, count_params

__all__ = ["Complexity", "bias_madds", "complexity", "count_madds", "count_madds_flop_counter", "count_params"]
