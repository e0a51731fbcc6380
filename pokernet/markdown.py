"""Markdown for results/*.md, shared by every writer (the report, the architecture audit): unpadded
tables and prose soft-wrapped, so that a reader in an 80-column terminal can read the files."""

from __future__ import annotations

import textwrap
from typing import Any


def github(rows: list[list[Any]], headers: list[str]) -> str:
    """A GitHub-flavoured markdown table, unpadded (tabulate pads every cell to its column's widest, which
    made rows of several hundred characters); a "|" inside a cell is escaped so it cannot split it."""

    def line(cells: list[Any]) -> str:
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(headers), "|" + "|".join("---" for _ in headers) + "|"] + [line(row) for row in rows])


MAX_LINE = 120  # results/*.md: prose and bullets wrap here (characters; awk counts bytes, up to 3 per symbol)


def wrap_markdown(markdown: str, width: int = MAX_LINE) -> str:
    """Soft-wrap long prose, bullet and quote lines (markdown renders them unchanged); tables and headings
    are left as they are."""
    out = []
    for line in markdown.split("\n"):
        if len(line) <= width or line.lstrip().startswith(("|", "#", "```")):
            out.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip())]
        marker = next((m for m in ("- ", "> ", "* ") if line.lstrip().startswith(m)), "")
        if not marker and line.lstrip()[:1].isdigit() and ". " in line.lstrip()[:5]:
            marker = line.lstrip()[: line.lstrip().index(". ") + 2]
        indent = lead + ("> " if marker == "> " else " " * len(marker))
        out += textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
    return "\n".join(out)
