"""Params and MAdds (``counting``) and the architecture audit (``audit``); ``cli`` holds
``pokernet complexity`` and ``pokernet audit``. Nothing is imported here, so that the command
line's parser does not import torch (issue 26): import from ``pokernet.complexity.counting``."""
