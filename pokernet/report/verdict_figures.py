"""results/calibration.png and results/verdicts.png (each with an .svg beside it).

- calibration: our proxy top-1 against the paper's ImageNet top-1 over Table 2's models, the OLS fit and
  its 95% band (statsmodels), with the slope's CI, the residual sd, Spearman's ρ and the width-effect
  ratio: the yardsticks that map the paper's gaps onto the proxy (stats.Calibration).
- verdicts: one forest plot of every accuracy comparison of summary.csv: our Δ with its 95% CI, the
  paper's gap mapped onto the proxy with its interval, the unscaled paper gap, the detectable gap and
  the mapped margin; the other claims as status marks. Drawn from summary.csv, so it cannot disagree.

Deterministic: a fixed SVG hash salt and no date, so a re-render with unchanged numbers changes no byte.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm

from .figures import save_figure
from .rows import TableRows
from .stats import Calibration
from .summary import calibration, status_word

SVG_SALT = "pokernet"  # matplotlib's svg.hashsalt: fixed ids in the .svg


def _save(fig: plt.Figure, out: str | Path) -> list[Path]:
    out = Path(out)
    with plt.rc_context({"svg.hashsalt": SVG_SALT}):
        return save_figure(fig, [out, out.with_suffix(".svg")])


def calibration_figure(cal: Calibration) -> plt.Figure:
    """Proxy vs paper top-1 per model, the fit and its 95% confidence band."""
    x, y = np.array(cal.paper), np.array(cal.proxy)
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    grid = np.linspace(x.min() - 0.5, x.max() + 0.5, 100)
    band = fit.get_prediction(sm.add_constant(grid)).conf_int(alpha=0.05)
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    ax.fill_between(grid, band[:, 0], band[:, 1], color="tab:blue", alpha=0.15, label="95% band of the fit")
    ax.plot(grid, fit.params[0] + fit.params[1] * grid, color="tab:blue", label="OLS fit")
    ax.scatter(x, y, color="black", zorder=3, s=18, label="model (our mean over its seeds)")
    placed: list[tuple[float, float]] = []
    for px, py, label in sorted(zip(x, y, cal.labels)):
        crowded = any(abs(px - qx) < 2.5 and abs(py - qy) < 0.4 for qx, qy in placed)  # a label there already
        ax.annotate(label, (px, py), xytext=(4, -10 if crowded else 3), textcoords="offset points", fontsize=7)
        placed.append((px, py))
    ax.set_xlabel("paper: ImageNet top-1 (%)")
    ax.set_ylabel("ours: proxy top-1 (%)")
    ax.set_title("How the proxy maps ImageNet (Table 2's models)", fontsize=10)
    ax.text(0.0, -0.12, _calibration_caption(cal), transform=ax.transAxes, fontsize=7, va="top")  # under the axes
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    return fig


def _calibration_caption(cal: Calibration) -> str:
    return "\n".join(textwrap.wrap(cal.text(), 105))  # the summary's own sentence


def calibration_plot(rows: TableRows, out: str | Path) -> list[Path]:
    cal = calibration(rows)
    if cal is None:
        raise ValueError(f"{rows.source or 'table2 rows'}: fewer than 3 trained models or no width pair to calibrate")
    return _save(calibration_figure(cal), out)


# --- the verdict figure ------------------------------------------------------------------------


def _comparisons(frame: pd.DataFrame) -> pd.DataFrame:
    found = frame.dropna(subset=["comparison"]).drop_duplicates("comparison")
    return found.iloc[::-1].reset_index(drop=True)  # the first comparison on top


def _number(row: pd.Series, column: str) -> float:
    value = row.get(column)
    return math.nan if value is None or pd.isna(value) else float(value)


def _forest(ax: plt.Axes, rows: pd.DataFrame) -> None:
    for i, row in rows.iterrows():
        descriptive = str(row["verdict"]).startswith("descriptive")
        detectable = _number(row, "detectable_gap")
        if math.isfinite(detectable):
            ax.fill_betweenx([i - 0.35, i + 0.35], -detectable, detectable, color="0.9", zorder=0)
        margin = _number(row, "margin_mapped")
        if math.isfinite(margin):
            ax.plot([-margin, -margin, margin, margin], [i - 0.4, i + 0.4, i + 0.4, i - 0.4], color="tab:green", lw=1)
        low, high = _number(row, "paper_gap_mapped_low"), _number(row, "paper_gap_mapped_high")
        if math.isfinite(low):
            ax.plot([low, high], [i + 0.18] * 2, color="tab:orange", lw=2.5, alpha=0.7)
            ax.plot(_number(row, "paper_gap_mapped"), i + 0.18, "D", color="tab:orange", ms=4)
        ax.plot(_number(row, "paper_gap"), i + 0.18, "x", color="tab:red", ms=4)
        ci = (_number(row, "ci95_low"), _number(row, "ci95_high"))
        ax.plot(ci, [i] * 2, color="black", lw=1.2)
        ax.plot(row["mean_difference"], i, "o", color="black", mfc="white" if descriptive else "black", ms=5)
    ax.axvline(0, color="0.4", lw=0.8)
    labels = [f"{row['comparison']}  ({row['verdict']})" for _, row in rows.iterrows()]
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.set_xlabel("top-1 difference A − B (pp, on the proxy)")
    ax.set_xlim(-4, 9)  # the widest CIs (n = 2) run off: their ends are in summary.md
    ax.grid(axis="x", alpha=0.3)


LEGEND = (
    "● ours: Δ (mean over paired seeds) with its 95% CI (○ descriptive, n < 5: no verdict)   "
    "◆ paper's gap mapped onto the proxy, with its interval   × paper's ImageNet gap, unscaled\n"
    "grey: ± the detectable gap (80% power)   green: ± the mapped equivalence margin   "
    "order verdicts use Holm-adjusted p over the family (summary.md)"
)


MARKS = {"holds": "✓", "does not hold": "✗", "partly": "◐", "open": "○"}


def verdict_figure(frame: pd.DataFrame) -> plt.Figure:
    """The forest plot of the accuracy comparisons and, beside it, every claim's status."""
    rows = _comparisons(frame)
    others = frame.drop_duplicates("claim_id")
    fig, (ax, marks) = plt.subplots(1, 2, figsize=(13, 0.32 * max(len(rows), len(others)) + 2.2), width_ratios=[3, 1.3])
    if len(rows):
        _forest(ax, rows)
    else:
        ax.text(0.5, 0.5, "no accuracy comparison", ha="center", transform=ax.transAxes)
    ax.set_title("Accuracy claims on the proxy: every comparison", fontsize=10)
    marks.axis("off")
    marks.set_title("Every claim (status; in full in summary.md)", fontsize=10)
    for i, (_, row) in enumerate(others.iterrows()):
        word = status_word(str(row["claim_status"]))
        marks.text(0, 1 - (i + 0.5) / max(len(others), 1), f"{MARKS.get(word, '·')} {row['claim_id']}: {word}",
                   fontsize=7, transform=marks.transAxes, va="center")  # fmt: skip
    fig.text(0.01, 0.005, LEGEND, fontsize=7, va="bottom")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def verdict_plot(summary_csv: str | Path, out: str | Path) -> list[Path]:
    try:
        frame = pd.read_csv(summary_csv)
    except (OSError, pd.errors.ParserError) as error:
        raise ValueError(f"{summary_csv}: not a summary.csv ({error})") from None
    missing = {"claim_id", "claim_status", "comparison", "mean_difference", "verdict"} - set(frame.columns)
    if missing:
        raise ValueError(
            f"{summary_csv}: not a summary.csv of `pokernet report summary` (no {', '.join(sorted(missing))})"
        )
    return _save(verdict_figure(frame), out)
