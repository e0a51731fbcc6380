"""Architecture audit (results/architecture_audit.md): the choices Table 1 leaves open,
counted for every plausible reading, beside the paper's Table 2/4 figures."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable

import torchvision.models as tvm
from tabulate import tabulate
from torch import nn

from pokernet.models import create_model
from pokernet.models.pokernet import PokerNet, scale
from pokernet.paper import allowed_deviation, row_setting, table, within_tolerance
from pokernet.provenance import provenance_markdown

from .counting import complexity

# Head readings: GhostNet keeps 1280 at every width; "scaled" narrows it with α;
# 1024 is a value fitted after the fact to the 0.5x Params (shown, never adopted).
HEADS: dict[str, Callable[[float], int]] = {
    "1280 (as GhostNet)": lambda width: 1280,
    "1280·α": lambda width: scale(1280, width),
    "1024 (post-hoc fit)": lambda width: 1024,
}
DW_PLANS = {"3": "all 3×3", "ghostnet": "GhostNet's (5×5 in the 40- and 160-channel stages)", "5": "all 5×5"}
ADOPTED = {"dw_kernels": "3", "head": "1280 (as GhostNet)", "se_ratio": 0.25}


@dataclass(frozen=True)
class Target:
    width: float
    se: bool
    column: str  # params | madds
    paper: float
    rel: float
    precision: float


def targets() -> list[Target]:
    """Table 4 figures the adopted definition must reproduce (issue 'Model zoo', §6)."""
    tbl = table("table4")
    found = []
    for row in tbl["rows"]:
        width = 0.5 if row["model"] == "pokernet_050" else 1.0
        for column in ("params", "madds"):
            found.append(Target(width, row["se"], column, row[column],
                                row_setting(row, tbl, "tolerance", column),
                                row_setting(row, tbl, "precision", column)))
    return found


def _millions(model: nn.Module) -> dict[str, float]:
    result = complexity(model)
    return {"params": result.params / 1e6, "madds": result.madds / 1e6}


def pokernet_readings() -> list[dict[str, Any]]:
    rows = []
    for (plan, head), width, se in itertools.product(
            itertools.product(DW_PLANS, HEADS), (0.5, 1.0), (True, False)):
        counts = _millions(PokerNet(width, se=se, dw_kernels=plan, head_chs=HEADS[head](width)))
        rows.append({"dw_kernels": plan, "head": head, "width": width, "se": se, **counts})
    return rows


def _mark(value: float, target: Target) -> str:
    ok = within_tolerance(value, target.paper, target.rel, target.precision)
    return f"{value:.3g} {'✓' if ok else '✗'}" if target.column == "madds" else f"{value:.3f} {'✓' if ok else '✗'}"


def readings_table(rows: list[dict[str, Any]]) -> tuple[str, dict[tuple[str, str], tuple[bool, float]]]:
    all_targets = targets()
    lookup = {(r["dw_kernels"], r["head"], r["width"], r["se"]): r for r in rows}
    body, meets = [], {}
    for plan, head in itertools.product(DW_PLANS, HEADS):
        cells, required_ok, deviations = [], True, []
        for t in all_targets:
            value = lookup[(plan, head, t.width, t.se)][t.column]
            cells.append(_mark(value, t))
            deviations.append(abs(value - t.paper) / t.paper)
            required = t.width == 1.0 or t.column == "madds"  # the required figures
            required_ok &= (not required) or within_tolerance(value, t.paper, t.rel, t.precision)
        mean_deviation = 100 * sum(deviations) / len(deviations)
        meets[(plan, head)] = (required_ok, mean_deviation)
        body.append([DW_PLANS[plan], head, *cells, "yes" if required_ok else "no", f"{mean_deviation:.1f}%"])
    headers = ["stride-2/shortcut dw kernel", "head"] + [
        f"{t.width}× {'SE' if t.se else 'no SE'} {t.column} (paper {t.paper})" for t in all_targets
    ] + ["meets all required figures", "mean |deviation|, all 8 figures"]
    return tabulate(body, headers=headers, tablefmt="github"), meets


def se_table() -> str:
    """Which SE reduction and MAdds convention the Params/MAdds gaps of Table 4 imply."""
    tbl = {(r["model"], r["se"]): r for r in table("table4")["rows"]}
    body = []
    for width, name in ((0.5, "pokernet_050"), (1.0, "pokernet_100")):
        without = _millions(PokerNet(width, se=False))
        for ratio in (0.25, 0.125, 1 / 16):
            with_se = _millions(PokerNet(width, se=True, se_ratio=ratio))
            body.append([f"{width}×", f"1/{round(1 / ratio)}",
                         f"{with_se['params'] - without['params']:.3f}",
                         f"{tbl[(name, True)]['params'] - tbl[(name, False)]['params']:.2f}",
                         f"{with_se['madds'] - without['madds']:.2f}",
                         f"{tbl[(name, True)]['madds'] - tbl[(name, False)]['madds']:.1f}"])
    return tabulate(body, headers=["width", "SE reduction", "SE Params (M), ours", "paper (Table 4 gap)",
                                   "SE MAdds (M), ours", "paper (Table 4 gap)"], tablefmt="github")


# Library definitions of the rows that deviate, to show where the paper's figure could come from.
BASELINE_ALTERNATIVES: dict[str, dict[str, Callable[[], nn.Module]]] = {
    "mobilenetv2_060": {f"torchvision width 0.6, channels rounded to {r}":
                        (lambda r=r: tvm.mobilenet_v2(width_mult=0.6, round_nearest=r)) for r in (8, 4, 1)},
    "mobilenetv2_035": {f"torchvision width 0.35, channels rounded to {r}":
                        (lambda r=r: tvm.mobilenet_v2(width_mult=0.35, round_nearest=r)) for r in (8, 4, 1)},
    "mobilenetv3_small_075": {"torchvision mobilenet_v3_small(width_mult=0.75) (narrows the head)":
                              lambda: tvm.mobilenet_v3_small(width_mult=0.75)},
}


def baseline_rows() -> list[dict[str, Any]]:
    tbl = table("table2")
    rows = []
    for row in tbl["rows"]:
        ours = _millions(create_model(row["model"]))
        entry = {"model": row["model"], "label": row["label"], "known_deviation": row.get("known_deviation")}
        for column in ("params", "madds"):
            rel, precision = row_setting(row, tbl, "tolerance", column), row_setting(row, tbl, "precision", column)
            entry[column] = ours[column]
            entry[f"paper_{column}"] = row[column]
            entry[f"{column}_diff_pct"] = 100 * (ours[column] - row[column]) / row[column]
            entry[f"{column}_ok"] = within_tolerance(ours[column], row[column], rel, precision)
            entry[f"{column}_allowed"] = allowed_deviation(row[column], rel, precision)
        rows.append(entry)
    return rows


def render(command: str) -> str:
    readings = pokernet_readings()
    table_md, meets = readings_table(readings)
    adopted_key = (ADOPTED["dw_kernels"], ADOPTED["head"])
    passing = sorted((dev, f"{DW_PLANS[p]} / head {h}") for (p, h), (ok, dev) in meets.items() if ok)
    adopted_ok, adopted_dev = meets[adopted_key]
    closest = passing[0][1] if passing else "none"
    baselines = baseline_rows()
    lines = [
        "# Architecture audit",
        "",
        f"Generated by `{command}`; do not edit by hand. Params = trainable parameters; MAdds = "
        "multiply-accumulates of conv and linear layers for one 3×224×224 image (ptflops aten "
        "backend, cross-checked with torch.utils.flop_counter in the tests).",
        "",
        provenance_markdown(),
        "",
        "## 1. PokerNet: the readings of Table 1",
        "",
        "Table 1 does not give the kernel of the stride-2 depthwise conv and of the shortcut "
        "depthwise conv, nor the head width at 0.5×. Every combination below is counted at "
        "0.5× and 1.0×, with and without SE in the Poker modules, against Table 4. A cell is ✓ "
        "when |ours − paper| ≤ max(tolerance × paper, half the last printed digit) with the "
        "tolerances of `pokernet/data/paper.yaml` (Params 1%, MAdds 3%). The required figures "
        "are all of 1.0× and the MAdds of 0.5×; the 0.5× Params are reported, not required.",
        "",
        table_md,
        "",
        "Readings that meet every required figure, closest first (mean |deviation| over all 8 "
        f"figures): {'; '.join(f'{name} ({dev:.1f}%)' for dev, name in passing) or 'none'}.",
        "",
        "**Adopted:** depthwise kernels all 3×3, a 1280-wide head at every width (as GhostNet), SE "
        "with reduction 1/4 (rounded to a multiple of 4, hard-sigmoid gate, as GhostNet) counted "
        f"in MAdds. It {'meets' if adopted_ok else 'does NOT meet'} every required figure, with a mean "
        f"deviation of {adopted_dev:.1f}% over all 8 figures; the closest reading that meets them is "
        f"{closest}. Why this one: it is the plain reading of a table that lists no kernel sizes "
        "(d = 3 as in Eq. 2) and keeps GhostNet's head, which PokerNet says it follows (§3.3). "
        "GhostNet's 5×5 kernels match 1.0× a little more closely but, with GhostNet's head, put "
        "0.5× MAdds above the paper's tolerance. Choose another with `--dw-kernels` / `--head-chs`.",
        "",
        "**The 0.5× Params are not reproduced.** With the adopted definition PokerNet-0.5× has "
        f"{_find(readings, '3', ADOPTED['head'], 0.5, True):.2f}M / "
        f"{_find(readings, '3', ADOPTED['head'], 0.5, False):.2f}M (with / without SE) against the "
        "paper's 2.39M / 1.81M. Narrowing the head with α undershoots "
        f"({_find(readings, '3', '1280·α', 0.5, True):.2f}M / {_find(readings, '3', '1280·α', 0.5, False):.2f}M); "
        "only a head width fitted after the fact (1024) comes near "
        f"({_find(readings, '3', '1024 (post-hoc fit)', 0.5, True):.2f}M / "
        f"{_find(readings, '3', '1024 (post-hoc fit)', 0.5, False):.2f}M), and nothing in the paper "
        "supports it. The SE share of Params does match (table below), so the gap is outside the "
        "Poker modules, most likely in the head/classifier of the 0.5× model, whose layout the "
        "paper defers to supplementary material.",
        "",
        "## 2. SE: reduction ratio and whether it counts in MAdds",
        "",
        "The Params gap between the SE and no-SE rows of Table 4 fixes the SE reduction; the "
        "MAdds gap shows SE is counted in MAdds (were it not, both rows would have equal MAdds).",
        "",
        se_table(),
        "",
        "The SE of the two G-bnecks that Table 1 marks with SE is kept in the no-SE ablation "
        "(Table 4 ablates the SE of the Poker module); it is 0.03M Params at 1.0×, below what "
        "Table 4's rounding can tell apart.",
        "",
        "## 3. Baselines of Table 2",
        "",
        tabulate([[b["label"], b["model"], f"{b['params']:.3f}", b["paper_params"], f"{b['params_diff_pct']:+.1f}%",
                   "✓" if b["params_ok"] else "✗", f"{b['madds']:.1f}", b["paper_madds"],
                   f"{b['madds_diff_pct']:+.1f}%", "✓" if b["madds_ok"] else "✗"] for b in baselines],
                 headers=["Table 2 row", "registry name", "Params (M)", "paper", "diff", "",
                          "MAdds (M)", "paper", "diff", ""], tablefmt="github"),
        "",
        "Deviations above 2%, with their cause:",
        "",
    ]
    for b in baselines:
        big = [c for c in ("params", "madds") if abs(b[f"{c}_diff_pct"]) > 2]
        if not big:
            continue
        causes = b["known_deviation"] or {}
        for column in big:
            cause = causes.get(column, "within the precision Table 2 prints (0.1M / 1M).")
            lines.append(f"- **{b['label']}**, {column} {b[f'{column}_diff_pct']:+.1f}%: {cause}")
        for label, build in BASELINE_ALTERNATIVES.get(b["model"], {}).items():
            alt = _millions(build())
            lines.append(f"  - {label}: {alt['params']:.3f}M Params, {alt['madds']:.1f}M MAdds")
    return "\n".join(lines) + "\n"


def _find(rows: list[dict[str, Any]], plan: str, head: str, width: float, se: bool) -> float:
    return next(r["params"] for r in rows
                if (r["dw_kernels"], r["head"], r["width"], r["se"]) == (plan, head, width, se))
