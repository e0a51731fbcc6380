"""The paper's published numbers (pokernet/data/paper.yaml) and the tolerance rule."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@lru_cache(maxsize=1)
def load_paper() -> dict[str, Any]:
    return yaml.safe_load(resources.files("pokernet").joinpath("data/paper.yaml").read_text("utf-8"))


def table(name: str) -> dict[str, Any]:
    return load_paper()[name]


def row_setting(row: dict[str, Any], tbl: dict[str, Any], key: str, column: str) -> float:
    """A row's precision/tolerance for a column, falling back to the table's."""
    return row.get(key, {}).get(column, tbl.get(key, {}).get(column, 0.0))


def allowed_deviation(paper_value: float, rel: float, precision: float) -> float:
    """max(rel * paper, half a unit of the last printed digit): see paper.yaml's header."""
    return max(abs(paper_value) * rel, precision / 2)


def within_tolerance(ours: float, paper_value: float, rel: float, precision: float) -> bool:
    # A tiny epsilon so a value exactly at the rounding edge is not lost to float error.
    return abs(ours - paper_value) <= allowed_deviation(paper_value, rel, precision) + 1e-9


@dataclass(frozen=True)
class OrderConflict:
    """A row of the paper's own Table 2 that a claim's subject does not beat."""

    subject: str
    other: str
    column: str
    subject_value: float
    other_value: float


def paper_order_conflicts(claim: dict[str, Any]) -> list[OrderConflict]:
    """Checks an accuracy claim (``subjects`` beat every other row of their level in ``column``)
    against the paper's own Table 2 numbers: the rows where the paper contradicts itself."""
    rows = table("table2")["rows"]
    by_model = {row["model"]: row for row in rows}
    column = claim["column"]
    conflicts = []
    for subject in claim["subjects"]:
        mine = by_model[subject]
        for row in rows:
            if (
                row["model"] != subject
                and row["level"] == mine["level"]
                and row[column] is not None
                and not mine[column] > row[column]
            ):
                conflicts.append(OrderConflict(subject, row["model"], column, mine[column], row[column]))
    return conflicts


def equivalence_margins() -> dict[tuple[str, str], float]:
    """(subject, compared_with) -> ± margin (pp) of every claim worded "comparable" (``comparable: true``);
    such a claim without a positive ``equivalence_margin_pp`` is an error naming it."""
    margins = {}
    for claim in load_paper()["claims"]:
        if not claim.get("comparable"):
            continue
        margin = claim.get("equivalence_margin_pp")
        if (
            isinstance(margin, bool)
            or not isinstance(margin, (int, float))
            or not margin > 0
            or not (claim.get("subjects") and claim.get("compared_with"))
        ):
            raise ValueError(
                f"pokernet/data/paper.yaml: claim {claim.get('id')!r} is marked comparable but lacks "
                f"equivalence_margin_pp > 0 (got {margin!r}), subjects or compared_with: the "
                f"equivalence test needs all three"
            )
        margins.update({(subject, claim["compared_with"]): float(margin) for subject in claim["subjects"]})
    return margins
