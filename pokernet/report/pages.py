"""The report's pages (``results/html/*.html``): Snakemake's report shows an HTML file inline and
offers any other text file (a table's .md) only as a download, so each result that is read as a
page (the summary, Tables 2-5, the architecture audit) and each narrative file
(``workflow/report/*.rst``) is rendered to one standalone HTML page: markdown by python-markdown,
reStructuredText by docutils (a docutils warning is an error, named with its line)."""

from __future__ import annotations

import html
from pathlib import Path

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; color: #222; max-width: 76rem; margin: 1.5rem auto; padding: 0 1rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
tr:nth-child(even) td { background: #fafafa; }
code { background: #f3f3f3; padding: 0 0.2rem; }
pre { background: #f6f6f6; padding: 0.5rem; overflow-x: auto; }
"""


def _markdown(text: str) -> tuple[str, str]:
    import markdown

    title = next((line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#")), "")
    return title, markdown.markdown(text, extensions=["tables", "fenced_code"])


def _rst(text: str, source: Path) -> tuple[str, str]:
    from docutils.core import publish_parts
    from docutils.utils import SystemMessage

    settings = {"halt_level": 2, "report_level": 2, "doctitle_xform": False, "input_encoding": "utf-8"}
    try:
        parts = publish_parts(text, source_path=str(source), writer_name="html5", settings_overrides=settings)
    except SystemMessage as error:
        raise ValueError(f"{source}: {str(error).splitlines()[0]}") from None
    title = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return title, parts["body"]


def page(source: Path) -> str:
    """``source`` (.md or .rst) as one HTML page."""
    if source.suffix not in (".md", ".rst"):
        raise ValueError(f"{source}: a page is rendered from a .md or .rst file")
    text = source.read_text(encoding="utf-8")
    title, body = _markdown(text) if source.suffix == ".md" else _rst(text, source)
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
        f"<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
