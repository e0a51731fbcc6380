"""The three claims of the text that are verdicts on counts (paper.yaml ``pointwise_share``,
``width_exponent``, ``selection_criterion``), from the JSON of ``pokernet claims``.

The file holds only raw counts; every share, exponent and choice is derived here by the functions
of :mod:`pokernet.complexity.claims`, so a number has one definition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pokernet import schemas
from pokernet.complexity.claims import CostShares, SelectionRow, WidthFit, fit_exponent
from pokernet.paper import table

from .tables import model_labels

COMMAND = "pokernet claims"
FAMILY_LABELS = {"pokernet": "PokerNet", "ghostnet": "GhostNet"}


@dataclass(frozen=True)
class ClaimCounts:
    source: str
    resolution: int
    shares: tuple[CostShares, ...]
    fits: tuple[WidthFit, ...]
    selection: tuple[SelectionRow, ...]


def load_claim_counts(path: str | Path) -> ClaimCounts:
    content = schemas.read(path, "claims")
    known = {field.name for field in fields(SelectionRow)}
    return ClaimCounts(
        str(path),
        content["resolution"],
        tuple(CostShares(entry["model"], entry["macs"]) for entry in content["pointwise_share"]),
        tuple(
            WidthFit(entry["family"], tuple(entry["widths"]), tuple(entry["madds"]))
            for entry in content["width_exponent"]
        ),
        tuple(SelectionRow(**{key: row[key] for key in known}) for row in content["selection_criterion"]),
    )


@dataclass(frozen=True)
class CountedVerdict:
    ours: str
    status: str


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def pointwise_share(claim: dict[str, Any], counts: ClaimCounts) -> CountedVerdict:
    """ "Usually more than 90%": > value% in more than half of the competitors of Table 2."""
    labels = model_labels()
    competitors = [s for s in counts.shares if not s.model.startswith("pokernet")]
    above = [s for s in competitors if 100 * s.pointwise_share > claim["value"]]
    ours = (
        f"share of 1×1 convs in the MAdds at {counts.resolution}² (by layer type; `{COMMAND}`): "
        + ", ".join(f"{labels.get(s.model, s.model)} {_pct(s.pointwise_share)}" for s in counts.shares)
        + f". Above {claim['value']}% in {len(above)} of the {len(competitors)} competitors. "
        f"Rule: 'usually' = in more than half of the competitors"
    )
    return CountedVerdict(ours, "✓ holds" if 2 * len(above) > len(competitors) else "✗ does not hold")


def _paper_exponent(model_050: str, model_100: str) -> float:
    """The exponent between the paper's own 0.5× and 1.0× MAdds (Table 4's rows with SE, the more
    precise, for PokerNet; Table 2 otherwise)."""
    rows = (
        [row for row in table("table4")["rows"] if row["se"]]
        if model_050.startswith("pokernet")
        else table("table2")["rows"]
    )
    madds = {row["model"]: row["madds"] for row in rows}
    return math.log(madds[model_100] / madds[model_050]) / math.log(2)


def width_exponent(claim: dict[str, Any], counts: ClaimCounts) -> CountedVerdict:
    tolerance = claim["tolerance"]
    parts = []
    for fit in counts.fits:
        madds = dict(zip(fit.widths, fit.madds))
        pair = (
            f"; 0.5×→1.0×: {fit_exponent([0.5, 1.0], [madds[0.5], madds[1.0]]):.2f}, "
            f"paper's {_paper_exponent(f'{fit.family}_050', f'{fit.family}_100'):.2f}"
            if 0.5 in madds and 1.0 in madds
            else ""
        )
        parts.append(
            f"{FAMILY_LABELS.get(fit.family, fit.family)}: e = {fit.exponent:.2f} "
            f"({madds[min(madds)] / 1e6:.1f}M at α = {min(madds):g} … "
            f"{madds[max(madds)] / 1e6:.1f}M at α = {max(madds):g}){pair}"
        )
    subject = next(fit for fit in counts.fits if fit.family == "pokernet")
    ours = (
        f"MAdds ∝ α^e fitted over α = {', '.join(f'{w:g}' for w in subject.widths)} at {counts.resolution}² "
        f"(`{COMMAND}`): "
        + "; ".join(parts)
        + f". Rule: PokerNet's e within {claim['value']} ± {tolerance} (paper.yaml gives why)"
    )
    holds = abs(subject.exponent - claim["value"]) <= tolerance
    return CountedVerdict(ours, "✓ holds" if holds else "✗ does not hold")


def _block_text(row: SelectionRow) -> str:
    return (
        f"block {row.block} ({row.kind}-bneck, m = {row.m}, k = {row.k:g}, {row.size}²: "
        f"C_g/C_p = {row.ghost_eq / row.poker_eq:.2f}; counted G {row.ghost_counted / 1e6:.2f}M vs "
        f"P {row.poker_counted / 1e6:.2f}M)"
    )


def selection_criterion(claim: dict[str, Any], counts: ClaimCounts) -> CountedVerdict:
    rows = counts.selection
    by_eqs = [row for row in rows if row.kind != row.cheaper_by_eqs]
    counted = [row for row in rows if row.kind != row.cheaper_counted]
    printed = [row for row in rows if row.kind != row.cheaper_by_printed_eq3]
    saving = sum(abs(row.ghost_counted - row.poker_counted) for row in counted)
    ours = (
        f"Eqs. 1–2 at each of Table 1's {len(rows)} rows (m = #in, k = #exp/#in; `{COMMAND}`): "
        f"Table 1's choice contradicts them at {len(by_eqs)}: "
        + ("; ".join(_block_text(row) for row in by_eqs) or "none")
        + f". Counted bottlenecks (real modules, SE as Table 1's row) contradict it at "
        f"{', '.join(str(row.block) for row in counted) or 'none'}"
        + (f"; following the criterion there would save {saving / 1e6:.2f}M MAdds" if counted else "")
        + f". Eq. 3 as printed, read as C_g/C_p, would contradict {len(printed)} of {len(rows)}"
    )
    return CountedVerdict(ours, "✗ does not hold" if by_eqs or counted else "✓ holds")


COUNTED_CLAIMS = {
    "pointwise_share": pointwise_share,
    "width_exponent": width_exponent,
    "selection_criterion": selection_criterion,
}
