"""results/fig5.png (Ghost/Poker module cost, Eq. 1-3) and results/fig6.png/.svg (MAdds vs Top-1).

Eq. 3 as printed, 2/k·(m + k·d²)/(m + d²), is the reciprocal of the C_g/C_p that its left
side names and that Eqs. 1 and 2 give: C_g/C_p = k/2·(m + d²)/(m + k·d²). Only the latter
matches the text ("less than 1 only for k = 2 and small m, k"; "1.5× to 3× fewer" = k/2
for k = 3..6 as m ≫ d²) and the counted modules, so Fig. 5 plots it and says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
# Re-rendering unchanged numbers changes no byte (issue 26): fixed SVG ids; no date in any format.
matplotlib.rcParams["svg.hashsalt"] = "pokernet"
NO_DATE = {".svg": {"Date": None}, ".pdf": {"CreationDate": None}, ".png": {}}
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from pokernet.complexity.claims import KERNEL  # noqa: E402
from pokernet.fileio import write_all  # noqa: E402
from pokernet.models import get_entry  # noqa: E402
from pokernet.paper import load_paper, table  # noqa: E402

from .inputs import Complexity, Run, VariantKey, describe_variant, variant_key  # noqa: E402
from .tables import RunSet  # noqa: E402

K_VALUES = (2, 3, 4, 5, 6)
MEASURED_M = (8, 16, 32, 64, 128, 256)
FEATURE_SIZE = 14  # h = w of the counted modules; Eq. 3 does not depend on it
M_RANGE = (4, 1024)


def ghost_to_poker_ratio(m: float, k: int, d: int = KERNEL) -> float:
    """C_g / C_p from Eqs. 1 and 2: k/2 · (m + d²) / (m + k·d²)."""
    return k / 2 * (m + d * d) / (m + k * d * d)


def measured_ratio(m: int, k: int, size: int = FEATURE_SIZE) -> float:
    """MAdds of a real timm GhostModule(m, km) over our PokerModule(m, km, no SE), counted by
    ptflops (conv/linear MACs only: BN and activations excluded, as Eqs. 1-2 exclude them)."""
    from timm.models.ghostnet import GhostModule

    from pokernet.complexity.counting import count_madds
    from pokernet.models.layers import PokerModule

    ghost = count_madds(GhostModule(m, k * m, dw_size=KERNEL), size, in_chans=m)
    poker = count_madds(PokerModule(m, k * m, dw_kernel=KERNEL, use_se=False), size, in_chans=m)
    return ghost / poker


@cache
def measured_points(
    ms: tuple[int, ...] = MEASURED_M, ks: tuple[int, ...] = K_VALUES
) -> tuple[tuple[int, int, float], ...]:
    """(m, k, counted C_g / C_p) for every m and k."""
    return tuple((m, k, measured_ratio(m, k)) for k in ks for m in ms)


def table1_poker_modules() -> list[tuple[int, int]]:
    """(m, k) of every Poker module of Table 1 (m = the block's input channels)."""
    return [(block[1], block[2] // block[1]) for block in load_paper()["table1"]["blocks"] if block[0] == "P"]


def save_figure(fig: plt.Figure, paths: Iterable[str | Path]) -> list[Path]:
    """Every format of the figure, all-or-nothing (fileio.write_all: no reader sees a half-written
    figure, and a failure leaves no output)."""

    def render(target: Path) -> Any:
        return lambda handle: fig.savefig(
            handle,
            format=target.suffix.lstrip("."),
            dpi=150,
            bbox_inches="tight",
            metadata=NO_DATE[target.suffix],
        )

    try:
        return write_all({Path(p): render(Path(p)) for p in paths})
    finally:
        plt.close(fig)


# --- Fig. 5 ---------------------------------------------------------------------------


def fig5(out: str | Path) -> list[Path]:
    claim = next(c for c in load_paper()["claims"] if c["id"] == "module_cost_ratio")
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    m_axis = np.geomspace(*M_RANGE, 400)
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(K_VALUES)))
    points = measured_points()
    for k, color in zip(K_VALUES, colors):
        ax.plot(m_axis, ghost_to_poker_ratio(m_axis, k), color=color, label=f"k = {k} (Eqs. 1–2)")
        ms = [m for m, kk, _ in points if kk == k]
        ax.scatter(ms, [r for _, kk, r in points if kk == k], color=color, edgecolor="black", zorder=3, s=28)
    shapes = table1_poker_modules()
    ax.scatter(
        [m for m, _ in shapes],
        [ghost_to_poker_ratio(m, k) for m, k in shapes],
        marker="x",
        color="crimson",
        s=60,
        zorder=4,
        label="Poker modules of PokerNet-1.0× (Table 1)",
    )
    ax.scatter([], [], color="white", edgecolor="black", label=f"counted (ptflops, {FEATURE_SIZE}×{FEATURE_SIZE})")
    ax.axhline(1, color="gray", linestyle="--", linewidth=1)
    ax.axhspan(
        claim["low"],
        claim["high"],
        color="orange",
        alpha=0.12,
        label=f"claimed range {claim['low']:g}×–{claim['high']:g}×",
    )
    ax.set_xscale("log")
    ax.set_xlim(*M_RANGE)
    ax.set_xlabel("m (input channels of the module)")
    ax.set_ylabel("C_g / C_p  (Ghost cost / Poker cost)")
    ax.set_title(f"Fig. 5: Ghost vs Poker module cost, d = {KERNEL}, n = k·m", fontsize=11)
    fig.text(
        0.01,
        -0.04,
        "Curves: C_g/C_p = k/2·(m+d²)/(m+k·d²) from Eqs. 1–2; "
        "Eq. 3 as printed is its reciprocal.\n"
        "Points: MACs of timm GhostModule(m, km) / PokerModule(m, km, no SE), BN and activations excluded.",
        fontsize=7.5,
        va="top",
    )
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    return save_figure(fig, [out])


# --- Fig. 6 ---------------------------------------------------------------------------

# Label positions tried in turn (points from the marker): beside it (or centred above/below: a label
# wider than the room on either side), then ever farther above/below.
LABEL_OFFSETS = tuple(
    (dx, dy) for step in range(12) for dy in (4 + 8 * step, -11 - 8 * step) for dx in (6, -6, 24, -24, 0)
)
Point = tuple[float, float, str, float]  # x, y, label, half-height of its error bar (0: none)


def _marker_boxes(ax: plt.Axes, points: list[Point], pad: float = 7.0) -> list[Bbox]:
    """Display-space boxes around each marker and its error bar: labels must avoid them too."""
    boxes = []
    for x, y, _, err in points:
        (x0, y0), (_, y1) = ax.transData.transform([(x, y - err), (x, y + err)])
        boxes.append(Bbox.from_extents(x0 - pad, min(y0, y1) - pad, x0 + pad, max(y0, y1) + pad))
    return boxes


def _inside(ax: plt.Axes, box: Bbox, pad: float = 2.0) -> bool:
    frame = ax.get_window_extent()
    return (
        frame.x0 + pad <= box.x0 and box.x1 <= frame.x1 - pad and frame.y0 + pad <= box.y0 and box.y1 <= frame.y1 - pad
    )


def _label_cost(ax: plt.Axes, box: Bbox, placed: list[Bbox]) -> tuple[bool, int]:
    """(outside the axes, how many placed boxes it overlaps): (False, 0) is a free spot."""
    return not _inside(ax, box), sum(box.overlaps(other) for other in placed)


def _place_labels(ax: plt.Axes, points: list[Point]) -> None:
    """Label each point at the first of LABEL_OFFSETS where its text stays inside the axes and overlaps
    no marker, no error bar and no label placed before it (display coordinates), so coinciding points
    keep readable labels and no label reaches a neighbouring panel or the tick labels; where no offset
    is free, the one inside the axes with the fewest overlaps."""
    renderer = ax.figure.canvas.get_renderer()
    placed = _marker_boxes(ax, points)
    leader = {"arrowstyle": "-", "lw": 0.4, "color": "0.55", "shrinkA": 0, "shrinkB": 3}
    for x, y, text, _ in sorted(points, key=lambda p: -p[1]):
        best = None
        for offset in LABEL_OFFSETS:
            label = ax.annotate(
                text,
                (x, y),
                textcoords="offset points",
                xytext=offset,
                fontsize=6.5,
                ha="left" if offset[0] > 0 else "right" if offset[0] < 0 else "center",
                arrowprops=leader,
            )
            label.update_positions(renderer)
            box = Text.get_window_extent(label, renderer).expanded(1.04, 1.1)  # the text, not its leader
            cost = _label_cost(ax, box, placed)
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, label, box)
            else:
                label.remove()
            if cost == (False, 0):
                break
        placed.append(best[2])


def _rows(level: str | None) -> list[dict[str, Any]]:
    return [r for r in table("table2")["rows"] if level is None or r["level"] == level]


def _paper_points(ax: plt.Axes, filled: bool = True, level: str | None = None) -> list[Point]:
    rows = _rows(level)
    for row in rows:
        poker = row["model"].startswith("pokernet")
        ax.scatter(
            row["madds"],
            row["top1"],
            marker="*" if poker else "o",
            s=120 if poker else 36,
            facecolor=("crimson" if poker else "tab:blue") if filled else "none",
            edgecolor="crimson" if poker else "tab:blue",
            zorder=3,
        )
    return [(r["madds"], r["top1"], r["label"], 0.0) for r in rows]


def _our_points(
    ax: plt.Axes, complexity: Complexity, runset: RunSet, beside_paper: bool, level: str | None = None
) -> tuple[list[Point], dict[int, int]]:
    """Our means with ± sample std bars over the seeds; the labels and how many models have n seeds."""
    labels, counts = [], {}
    for row in _rows(level):
        top1 = runset.accuracy(variant_key(row["model"], {}), "top1")
        if top1 is None:
            continue
        madds = complexity.get(row["model"]).madds_m
        poker = row["model"].startswith("pokernet")
        ax.errorbar(
            madds,
            top1.mean,
            yerr=None if top1.n < 2 else top1.std,
            fmt="*" if poker else "o",
            markersize=11 if poker else 6,
            color="crimson" if poker else "tab:green",
            capsize=3,
            zorder=4,
        )
        labels.append(
            (
                madds,
                top1.mean,
                f"{row['label']}{' (ours)' if beside_paper else ''} n={top1.n}",
                0.0 if top1.n < 2 else top1.std,
            )
        )
        counts[top1.n] = counts.get(top1.n, 0) + 1
    return labels, counts


def diverged_line(runset: RunSet) -> str:
    """The models whose runs diverged: named in the figure, never plotted."""
    labels = {variant_key(row["model"], {}): row["label"] for row in table("table2")["rows"]}
    names = sorted({labels.get(r.key, r.key[0]) for r in runset.diverged})
    return f"left out (diverged): {', '.join(names)}" if names else ""


def _seeds_title(counts: dict[int, int]) -> str:
    parts = [
        f"n={n} seeds: {count} model{'s' if count > 1 else ''}" for n, count in sorted(counts.items(), reverse=True)
    ]
    return "; ".join(parts) + " (bars: ± sample std over the seeds, none where n=1)"


def _level_axes(panel: Any, ylabel: str, madds_label: str) -> dict[str, plt.Axes]:
    """One axes per cost level of Table 2, side by side on one Top-1 scale: the MAdds axis is broken
    between the levels, so that models a few MAdds apart inside a level (PokerNet and GhostNet 0.5×:
    39.6 and 42.3) are drawn apart instead of on top of each other."""
    levels = list(dict.fromkeys(r["level"] for r in table("table2")["rows"]))
    axes = panel.subplots(1, len(levels), sharey=True, gridspec_kw={"wspace": 0.08})
    for i, (level, ax) in enumerate(zip(levels, axes)):
        ax.set_xlabel(f"{level} level", fontsize=8)
        ax.grid(alpha=0.3)
        ax.spines["right" if i == 0 else "left"].set_visible(i == len(levels) - 1 and i == 0)
        ax.tick_params(axis="y", left=i == 0, labelleft=i == 0)
    axes[0].set_ylabel(ylabel)
    panel.supxlabel(f"{madds_label} (axis broken between the cost levels)", fontsize=9)
    return dict(zip(levels, axes))


def _finish(axes: dict[str, plt.Axes], points: dict[str, list[Point]]) -> None:
    """Margins from each level's own points, then the labels (once the limits are final)."""
    for ax in axes.values():
        ax.margins(x=0.35, y=0.12)
    axes[next(iter(axes))].figure.canvas.draw()
    for level, ax in axes.items():
        _place_labels(ax, points[level])


def _proxy_panels(complexity: Complexity, runset: RunSet, madds_label: str) -> plt.Figure:
    fig = plt.figure(figsize=(13, 5.6))
    paper_panel, ours_panel = fig.subfigures(1, 2, wspace=0.04)
    paper_axes = _level_axes(paper_panel, "Top-1 (%), ImageNet", madds_label)
    ours_axes = _level_axes(ours_panel, f"Top-1 (%), {runset.setting.dataset}", madds_label + ", as in Table 2")
    paper_points = {level: _paper_points(ax, level=level) for level, ax in paper_axes.items()}
    our_points, counts = {}, {}
    for level, ax in ours_axes.items():
        our_points[level], found = _our_points(ax, complexity, runset, beside_paper=False, level=level)
        counts = {n: counts.get(n, 0) + found.get(n, 0) for n in counts | found}
    paper_panel.suptitle("Paper: ImageNet (Table 2)", fontsize=10)
    left_out = diverged_line(runset)
    ours_panel.suptitle(
        f"Ours (proxy): {runset.setting.describe()}\n{_seeds_title(counts)}" + (f"\n{left_out}" if left_out else ""),
        fontsize=9,
    )
    fig.suptitle(
        "Fig. 6: MAdds vs Top-1. Proxy accuracies are not comparable in absolute value with "
        "ImageNet; compare the order.",
        fontsize=10,
        y=1.06,
    )
    _finish(paper_axes, paper_points)
    _finish(ours_axes, our_points)
    return fig


def _imagenet_figure(complexity: Complexity, runset: RunSet, madds_label: str) -> plt.Figure:
    """Ours on the paper's axes (hollow paper points, filled ours) when the runs are comparable."""
    fig = plt.figure(figsize=(8.5, 5.2))
    axes = _level_axes(fig, "Top-1 (%), ImageNet", madds_label)
    points, counts = {}, {}
    for level, ax in axes.items():
        paper = _paper_points(ax, filled=runset.setting is None, level=level)
        ours, found = _our_points(ax, complexity, runset, beside_paper=True, level=level)
        points[level] = paper + ours
        counts = {n: counts.get(n, 0) + found.get(n, 0) for n in counts | found}
    fig.suptitle(
        "Fig. 6: MAdds vs ImageNet Top-1 — paper (hollow) and ours (filled)\n"
        + _seeds_title(counts)
        + (f"; {diverged_line(runset)}" if runset.diverged else "")
        if counts
        else "Fig. 6: MAdds vs ImageNet Top-1 (paper; no runs of ours given)",
        fontsize=9,
    )
    _finish(axes, points)
    return fig


def fig6_figure(complexity: Complexity, runs: list[Run]) -> plt.Figure:
    """Paper's ImageNet points; ours beside them (same axes on ImageNet, own panel on a proxy)."""
    keys = [variant_key(row["model"], {}) for row in table("table2")["rows"]]
    runset = RunSet.select(runs, keys)
    for row in table("table2")["rows"]:  # fail before drawing if a needed count is missing
        if runset.accuracy(variant_key(row["model"], {}), "top1") is not None:
            complexity.get(row["model"])
    madds_label = "MAdds (M), 3×224×224"
    if runset.setting is not None and not runset.comparable:
        return _proxy_panels(complexity, runset, madds_label)
    return _imagenet_figure(complexity, runset, madds_label)


def fig6(complexity: Complexity, runs: list[Run], out: str | Path) -> list[Path]:
    out = Path(out)
    return save_figure(fig6_figure(complexity, runs), [out, out.with_suffix(".svg")])


# --- Learning curves -----------------------------------------------------------------

# (history key, axis label) of each row of panels; validation is evaluated on some epochs only.
CURVES = (("train_loss", "train loss"), ("train_top1", "train top-1 (%)"), ("val_top1", "val top-1 (%)"))
PAIRED_FAMILIES = ("pokernet", "ghostnet")


def _curve_group(key: VariantKey) -> str:
    model, options = key
    if options:
        return "Tables 4–5: ablations"
    return "Table 2: PokerNet, GhostNet" if get_entry(model).family in PAIRED_FAMILIES else "Table 2: the others"


def _seed_curves(runs: list[Run], metric: str) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Epochs with a value in every seed, and the values (seeds × epochs); None when there are none."""
    by_seed = [{h["epoch"]: h[metric] for h in run.history if h.get(metric) is not None} for run in runs]
    epochs = sorted(set.intersection(*(set(s) for s in by_seed))) if by_seed else []
    if not epochs:
        return None
    return np.array(epochs), np.array([[s[e] for e in epochs] for s in by_seed]), len(runs)


def _draw_curves(ax: plt.Axes, arms: dict[VariantKey, list[Run]], metric: str) -> None:
    for index, (key, runs) in enumerate(sorted(arms.items(), key=lambda item: describe_variant(item[0]))):
        curves = _seed_curves(runs, metric)
        if curves is None:
            continue
        epochs, values, n = curves
        color = plt.get_cmap("tab10")(index % 10)
        style = "o-" if len(epochs) < 4 else "-"
        ax.plot(epochs, values.mean(axis=0), style, color=color, lw=1.2, ms=3, label=f"{describe_variant(key)} (n={n})")
        if n > 1:
            ax.fill_between(epochs, values.min(axis=0), values.max(axis=0), color=color, alpha=0.15, lw=0)


def learning_curves_figure(runs: list[Run]) -> plt.Figure:
    """Every arm's per-epoch history (metrics.json): the mean over its seeds, shaded from the lowest to
    the highest seed; one column per group of arms, one row per measure. Diverged runs are left out."""
    used = [run for run in runs if run.history and not run.diverged]
    groups: dict[str, dict[VariantKey, list[Run]]] = {}
    for run in used:
        groups.setdefault(_curve_group(run.key), {}).setdefault(run.key, []).append(run)
    names = sorted(groups)
    if not names:
        raise ValueError("no run with a per-epoch history (metrics.json 'history') to draw")
    fig, axes = plt.subplots(len(CURVES), len(names), figsize=(5.2 * len(names), 9), squeeze=False, sharex=True)
    for column, name in enumerate(names):
        axes[0][column].set_title(name, fontsize=10)
        for row, (metric, label) in enumerate(CURVES):
            _draw_curves(axes[row][column], groups[name], metric)
            axes[row][0].set_ylabel(label)
            axes[row][column].grid(alpha=0.3)
        axes[-1][column].set_xlabel("epoch")
        axes[0][column].legend(fontsize=6.5, loc="upper right")
    left_out = len([run for run in runs if run.diverged])
    fig.suptitle(
        "Learning curves: mean over seeds (line), lowest to highest seed (band); validation only on the "
        f"epochs it ran{f'; {left_out} diverged run(s) left out' if left_out else ''}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def learning_curves(runs: list[Run], out: str | Path) -> list[Path]:
    """results/learning_curves.png and the .svg beside it."""
    out = Path(out)
    return save_figure(learning_curves_figure(runs), [out, out.with_suffix(".svg")])
