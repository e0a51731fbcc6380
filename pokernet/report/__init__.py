"""Renderers of the results artifacts (results/table2.md ... table5.md, fig5/fig6, summary.md).

``inputs`` loads and validates what the other commands produce (complexity JSON, training
runs' metrics.json, latency JSON); ``compare`` holds the verdict rules; ``tables``,
``figures`` and ``summary`` render; ``cli`` is ``pokernet report``.
"""
