"""results/table2.md, table4.md, table5.md: each row of the paper's table, our value beside it,
the difference and a verdict, plus the accuracy claims the table supports as comparisons paired
by seed (pokernet.report.stats).

Every builder returns a :class:`TableResult` (the markdown, the computed rows, the comparison
objects and a CSV frame), so the summary reuses the same objects instead of parsing markdown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from pokernet.markdown import github
from pokernet.paper import allowed_deviation, equivalence_margins, load_paper, row_setting, table
from pokernet.provenance import provenance_markdown

from .compare import ACCURACY_TOLERANCE_PP, NOT_COMPARABLE, Stat, accuracy_ok, mark, value_ok
from .feature_maps import stages_line
from .inputs import (
    DATA_OPTIONS,
    Complexity,
    LatencyReport,
    Run,
    Setting,
    VariantKey,
    common_setting,
    describe_variant,
    variant_key,
)
from .proxy_notes import proxy_note_lines
from .stats import MIN_SEEDS, Arm, Comparison, compare, format_p

ACT_LABELS = {"relu": "ReLU", "relu6": "ReLU6", "relu6_hs": "ReLU6+HS"}
AUDIT_FILE = "architecture_audit.md"


@dataclass
class RunSet:
    """The runs a table uses, grouped by variant, and the one setting they share."""

    groups: dict[VariantKey, list[Run]]
    setting: Setting | None
    given: int
    diverged: list[Run] = field(default_factory=list)  # never a result: left out of every number and figure

    @classmethod
    def select(cls, runs: list[Run], keys: list[VariantKey]) -> RunSet:
        wanted = dict.fromkeys(keys)
        chosen = sorted((r for r in runs if r.key in wanted), key=lambda r: r.seed)
        groups = {key: [r for r in chosen if r.key == key and r.diverged is None] for key in wanted}
        return cls(
            {key: found for key, found in groups.items() if found},
            common_setting(chosen),
            len(runs),
            [r for r in chosen if r.diverged is not None],
        )

    def diverged_seeds(self, key: VariantKey) -> list[int]:
        return [r.seed for r in self.diverged if r.key == key]

    @property
    def used(self) -> list[Run]:
        return [r for found in self.groups.values() for r in found]

    @property
    def comparable(self) -> bool:
        return self.setting is not None and self.setting.comparable_with_paper

    def frame(self) -> pd.DataFrame:
        """One row per run: variant, seed and the metrics."""
        return pd.DataFrame(
            [
                {"key": r.key, "variant": describe_variant(r.key), "seed": r.seed, "top1": r.top1, "top5": r.top5}
                for r in self.used
            ],
            columns=["key", "variant", "seed", "top1", "top5"],
        )

    def accuracy(self, key: VariantKey, column: str) -> Stat | None:
        """Mean, sample std and n over the seeds (pandas' groupby aggregation)."""
        frame = self.frame()
        values = frame.loc[frame["key"].map(lambda k: k == key), column]
        if values.empty:
            return None
        return Stat(float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else math.nan, len(values))

    def arm(self, key: VariantKey, label: str) -> Arm | None:
        found = self.groups.get(key)
        if not found:
            return None
        decays = {r.weight_decay for r in found}
        return Arm(label, {r.seed: r.top1 for r in found}, decays.pop() if len(decays) == 1 else None)


@dataclass
class TableResult:
    markdown: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    untestable: list[str] = field(default_factory=list)  # claims with an arm without runs
    setting: Setting | None = None
    used: list[Run] = field(default_factory=list)
    csv: pd.DataFrame | None = None  # the numbers of the table, written beside the markdown
    confounds: list[str] = field(default_factory=list)  # paper.yaml's confounds of these comparisons


# --- formatting ----------------------------------------------------------------------


@cache
def _caveats() -> dict[str, dict[str, Any]]:
    text = resources.files("pokernet").joinpath("data/run_caveats.yaml").read_text("utf-8")
    return {str(commit): entry for commit, entry in (yaml.safe_load(text).get("caveats") or {}).items()}


def caveat_texts(runs: list[Run]) -> list[str]:
    """The known defects of these runs (run_caveats.yaml, by the commit that trained them)."""
    commits = sorted({str(r.git_commit) for r in runs} & set(_caveats()))
    return [" ".join(str(_caveats()[c]["text"]).split()) for c in commits]


def independent_seeds(runs: list[Run]) -> bool:
    return all(_caveats().get(str(r.git_commit), {}).get("independent_seeds", True) for r in runs)


def decimals(precision: float) -> int:
    return max(0, -math.floor(math.log10(precision) + 1e-9))


def number(value: float | None, digits: int) -> str:
    return NOT_COMPARABLE if value is None else f"{value:.{digits}f}"


def _unique(values) -> str:
    found = sorted({str(v) for v in values if v is not None})
    return ", ".join(f"`{v}`" for v in found) or "unknown"


def _hashes(runs: list[Run], shown: int = 4) -> str:
    """A run's hash covers its seed, so there is one per run: list a few, count the rest."""
    found = sorted({r.config_hash for r in runs})
    if len(found) <= shown:
        return _unique(found)
    return f"{len(found)} distinct (one per run; each listed under *Inputs*)"


def _test_split(runs: list[Run]) -> str:
    sizes = sorted({r.val_size for r in runs if r.val_size is not None})
    if not sizes:
        return "- test split: size not recorded by the runs"
    listed = " / ".join(f"{size:,}" for size in sizes)
    declared = any(r.setting is not None and r.setting.imagenet_subset for r in runs)
    split = "the declared ImageNet subset's val/" if declared else "the whole official test split"
    return f"- test split: {listed} images per evaluation (the runs' val_size; {split})"


def accuracy_header(runset: RunSet) -> list[str]:
    """Provenance fields of the runs and the plain statement of what the accuracy means."""
    if runset.setting is None:
        return ["- accuracy: no training runs given, so the Top-1/Top-5 columns are empty"]
    used = runset.used
    counts = sorted({len(found) for found in runset.groups.values()})
    lines = [
        f"- accuracy measured on: {runset.setting.describe()}",
        _test_split(used),
        stages_line(runset.setting.resolution),
        f"- seeds: {sorted({r.seed for r in used})}; n per variant: "
        + (str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}")
        + " (mean ± sample std over the seeds)",
        f"- runs used: {len(used)} of {runset.given} given",
        f"- config hash(es) of the runs: {_hashes(used)}",
        f"- runs' git commit(s): {_unique(r.git_commit for r in used)}; device(s): {_unique(r.device for r in used)}; "
        f"torch: {_unique(r.torch_version for r in used)}",
    ]
    lines += [f"- **caveat** (pokernet/data/run_caveats.yaml): {text}" for text in caveat_texts(used)]
    if any(str(r.git_commit).endswith("-dirty") for r in used):
        lines.append(
            "- `-dirty`: the code that trained those runs differed from that commit (uncommitted changes to "
            "pokernet/, workflow/ or the recipes), so git cannot give it back exactly"
        )
    if runset.comparable:
        lines.append(
            f"- accuracy verdict: ✓ when |ours − paper| ≤ {ACCURACY_TOLERANCE_PP} percentage points "
            "(ACCURACY_TOLERANCE_PP in pokernet/report/compare.py; paper.yaml records no accuracy tolerance)"
        )
    return lines


def proxy_sentence(runset: RunSet) -> list[str]:
    if runset.setting is None or runset.comparable:
        return []
    return [
        f"**Proxy accuracy.** The accuracies are measured on {runset.setting.describe()}, not on "
        "ImageNet at 224×224: they are not comparable in absolute value with the paper's, so their "
        "verdict is —. The claim checked on a proxy is the order (which model or setting wins), as a "
        "comparison paired by seed in the section *Accuracy claims* below.",
        "",
    ]


def header(title: str, command: str, runset: RunSet | None, extra_lines: list[str] | None = None) -> list[str]:
    lines = [f"# {title}", "", f"Generated by `{command}`; do not edit by hand.", "", provenance_markdown()]
    if runset is not None:
        lines += accuracy_header(runset)
    lines += (extra_lines or []) + [""]
    if runset is not None:
        lines += proxy_sentence(runset)
    return lines


def tolerance_sentence(tbl: dict[str, Any]) -> str:
    tolerances = ", ".join(f"{column} {100 * rel:g}%" for column, rel in tbl.get("tolerance", {}).items())
    return (
        "Verdicts: ✓ reproduces within the recorded tolerance, ✗ does not, — not comparable. Params and "
        "MAdds (paper's convention, 3×224×224) match when |ours − paper| ≤ max(tolerance × paper, half the "
        f"last digit the paper prints), with pokernet/data/paper.yaml's tolerances ({tolerances}). "
        "Δ is (ours − paper) / paper for Params/MAdds and ours − paper (percentage points) for accuracy."
    )


def inputs_footer(
    complexity: Complexity | None, runset: RunSet | None, latency: LatencyReport | None = None
) -> list[str]:
    lines = ["", "## Inputs", ""]
    if complexity is not None:
        lines += [f"- complexity: {', '.join(f'`{p}`' for p in complexity.files)}"]
    if latency is not None:
        lines += [f"- latency: `{latency.source}`"]
    if runset is not None:
        lines += [
            f"- run: `{r.source}` ({describe_variant(r.key)}, seed {r.seed}, config `{r.config_hash}`)"
            for r in runset.used
        ]
    return lines


# --- the shared paper-vs-ours rows of Tables 2, 4, 5 ---------------------------------


@dataclass(frozen=True)
class RowSpec:
    """A paper row, the model options it stands for and its leading label cells."""

    paper: dict[str, Any]
    options: dict[str, Any]
    labels: list[str]

    @property
    def run_key(self) -> VariantKey:
        return variant_key(self.paper["model"], self.options, DATA_OPTIONS)


def _count_cells(
    spec: RowSpec, tbl: dict[str, Any], complexity: Complexity, result: dict[str, Any], notes: list[str]
) -> list[str]:
    """Params and MAdds: paper, ours, Δ, verdict (a known deviation says so)."""
    row = spec.paper
    entry = complexity.get(row["model"], spec.options)
    cells = []
    for column, ours in (("params", entry.params_m), ("madds", entry.madds_m)):
        rel, precision = row_setting(row, tbl, "tolerance", column), row_setting(row, tbl, "precision", column)
        paper = row[column]
        ok = value_ok(ours, paper, rel, precision)
        verdict = mark(ok)
        cause = row.get("known_deviation", {}).get(column)
        if cause and not ok:
            notes.append(f"{' '.join(spec.labels)}, {column}: {cause}")
            verdict += f" (note {len(notes)})"
        cells += [
            number(paper, decimals(precision)),
            number(ours, decimals(precision) + 1),
            f"{100 * (ours - paper) / paper:+.1f}%",
            verdict,
        ]
        result[column] = {"ours": ours, "paper": paper, "ok": ok, "allowed": allowed_deviation(paper, rel, precision)}
    return cells


def _compare_rows(
    tbl: dict[str, Any], specs: list[RowSpec], complexity: Complexity, runset: RunSet
) -> tuple[list[list[str]], list[dict[str, Any]], list[str]]:
    body, computed, notes = [], [], []
    for spec in specs:
        result: dict[str, Any] = {"model": spec.paper["model"], "options": spec.options, "key": spec.run_key}
        cells = list(spec.labels) + _count_cells(spec, tbl, complexity, result, notes)
        for column in ("top1", "top5"):
            paper, ours = spec.paper.get(column), runset.accuracy(spec.run_key, column)
            ok = accuracy_ok(ours, paper, runset.comparable)
            diff = f"{ours.mean - paper:+.2f}" if ok is not None else NOT_COMPARABLE
            cells += [number(paper, 1), ours.text() if ours else _no_result(runset, spec.run_key)]
            cells += [diff, mark(ok)] if runset.comparable or runset.setting is None else []
            result[column] = {"ours": ours, "paper": paper, "ok": ok}
        body.append(cells)
        computed.append(result)
    return body, computed, notes


def _no_result(runset: RunSet, key: VariantKey) -> str:
    seeds = runset.diverged_seeds(key)
    return f"diverged (seed {', '.join(map(str, seeds))})" if seeds else "— (no runs)"


def diverged_section(runset: RunSet) -> list[str]:
    """Each diverged run and the reason (pokernet.train.divergence): shown, never scored."""
    if not runset.diverged:
        return []
    return [
        "",
        "## Diverged runs (not results)",
        "",
        "A diverged run is left out of every mean, comparison, count and figure (rule and its justification: "
        "pokernet/train/divergence.py; the run's own `diverged` field when it records one):",
        "",
    ] + [f"- {describe_variant(r.key)}, seed {r.seed} (`{r.source}`): {r.diverged}" for r in runset.diverged]


def rows_frame(rows: list[dict[str, Any]], labels: list[list[str]]) -> pd.DataFrame:
    """The CSV beside a table: one line per row, plain numbers."""
    records = []
    for row, label in zip(rows, labels):
        record = {
            "row": " ".join(label),
            "model": row["model"],
            "options": ";".join(f"{k}={v}" for k, v in row["options"].items()),
        }
        for column in ("params", "madds"):
            record[f"{column}_m_paper"], record[f"{column}_m_ours"] = row[column]["paper"], row[column]["ours"]
        for column in ("top1", "top5"):
            ours: Stat | None = row[column]["ours"]
            record[f"{column}_paper"] = row[column]["paper"]
            record[f"{column}_mean"] = ours.mean if ours else None
            record[f"{column}_std"] = ours.std if ours else None
            record[f"{column}_n"] = ours.n if ours else 0
        records.append(record)
    return pd.DataFrame(records)


def _value_headers(first: list[str], proxy: bool) -> list[str]:
    """Params/MAdds: paper, ours, Δ, verdict; accuracy the same, or on a proxy (never comparable) paper and ours."""
    headers = list(first)
    for name in ("Params (M)", "MAdds (M)", "Top-1 (%)", "Top-5 (%)"):
        ours = "ours (ceiling, not compared)" if proxy and name.startswith("Top-5") else "ours"
        headers += [f"{name} paper", ours] + ([] if proxy and "%" in name else ["Δ", "✓/✗"])
    return headers


COMPARISON_HEADERS = ["claim", "n", "Δ (pp, ours)", "95% CI (pp)", "raw p", "paper Δ (pp, ImageNet)", "verdict"]
VERDICT_ELSEWHERE = "in summary.md"


def comparison_cells(c: Comparison) -> list[str]:
    """The cells of one comparison: its numbers; the verdict (Holm over the family, the paper's gap on the
    proxy's scale) is the summary's alone, so no two files give two answers."""
    interval = "—" if c.ci is None else f"[{c.ci[0]:+.2f}, {c.ci[1]:+.2f}]"
    paper = "—" if c.paper_gap is None else f"{c.paper_gap:+.1f}"
    verdict = c.verdict if c.descriptive else VERDICT_ELSEWHERE
    return [c.claim, str(c.n), f"{c.mean:+.2f}", interval, format_p(c.p), paper, verdict]


def comparison_bullets(comparisons: list[Comparison]) -> list[str]:
    """What does not fit the compact table: the seeds paired and each comparison's notes."""
    seeds = {c.seeds for c in comparisons}
    lines = (
        [f"- seeds paired: {', '.join(map(str, next(iter(seeds))))} in every comparison"]
        if len(seeds) == 1
        else [f"- {c.claim}: seeds {', '.join(map(str, c.seeds))}" for c in comparisons]
    )
    return lines + [f"- {c.claim}: {note}" for c in comparisons for note in c.notes]


TABLE_VERDICTS = (
    f"These are the comparisons' numbers. A pair with fewer than {MIN_SEEDS} seeds is descriptive (no verdict). "
    "The verdicts of the others (order with Holm-adjusted p over the family of accuracy comparisons, the paper's "
    "gap mapped onto the proxy's scale, equivalence) are in summary.md, the one place they are decided."
)


def comparisons_section(comparisons: list[Comparison], untestable: list[str], pairing: str) -> list[str]:
    lines = [
        "",
        "## Accuracy comparisons (ours, on the proxy)",
        "",
        'Each claim "A beats B" is a comparison of two arms paired by seed (both trained with a seed see the '
        "same data order and the same augmented batches): n pairs, the mean Δ of the Top-1 differences A − B, "
        "its 95% confidence interval and the raw p (paired t-test of Δ = 0). " + pairing,
        "",
    ]
    if comparisons:
        lines += [github([comparison_cells(c) for c in comparisons], COMPARISON_HEADERS), ""]
        lines += comparison_bullets(comparisons)
    else:
        lines.append("No accuracy claim is testable with the runs given.")
    if untestable:
        lines += ["", "Not testable (no runs, or a diverged arm):", ""] + [f"- {text}" for text in untestable]
    return lines + ["", TABLE_VERDICTS]


def _notes_section(notes: list[str], rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    if notes:
        lines += ["", "Known deviations recorded in paper.yaml (they never turn a ✗ into a ✓):", ""]
        lines += [f"{i}. {note}" for i, note in enumerate(notes, start=1)]
    if any(not r[c]["ok"] for r in rows for c in ("params", "madds")):
        lines += ["", f"Every Params/MAdds deviation is analysed in `{AUDIT_FILE}` (`pokernet audit`)."]
    return lines


def model_labels() -> dict[str, str]:
    return {row["model"]: row["label"] for row in table("table2")["rows"]}


def paired_reference(model: str) -> str:
    """GhostNet of the same width, as Table 3 pairs them."""
    return next(r["reference"] for r in table("table3")["rows"] if r["model"] == model)


@dataclass(frozen=True)
class Claim:
    """One "ahead beats behind" of a table, before the runs are looked up."""

    text: str
    ahead: tuple[VariantKey, str]
    behind: tuple[VariantKey, str]
    paper_gap: float
    pair_on_behind: bool = False  # pair on the seeds of ``behind`` only (a one-seed baseline, an ablation)
    margin: float | None = None  # equivalence margin (pp) of a claim the paper words "comparable"


def build_comparisons(claims: list[Claim], runset: RunSet) -> tuple[list[Comparison], list[str]]:
    comparisons, untestable = [], []
    for claim in claims:
        ahead, behind = runset.arm(*claim.ahead), runset.arm(*claim.behind)
        if ahead is None or behind is None:
            diverged = [label for key, label in (claim.ahead, claim.behind) if runset.diverged_seeds(key)]
            untestable.append(claim.text + (f" ({', '.join(diverged)} diverged)" if diverged else ""))
            continue
        seeds = sorted(behind.scores) if claim.pair_on_behind else None
        comparison = compare(claim.text, ahead, behind, claim.paper_gap, seeds, claim.margin)
        independent = independent_seeds([r for k in (claim.ahead[0], claim.behind[0]) for r in runset.groups[k]])
        comparisons.append(comparison if independent else replace(comparison, independent=False))
    return comparisons, untestable


def confound_lines(comparisons: list[Comparison]) -> list[str]:
    """paper.yaml's ``confounds`` whose pair of models is compared here, as the paper words them."""
    labels = model_labels()
    pairs = {frozenset((c.ahead.label, c.behind.label)) for c in comparisons}
    return [
        f"**Confound ({entry['section']}, {labels[entry['comparison'][0]]} vs {labels[entry['comparison'][1]]}).** "
        + " ".join(str(entry["text"]).split())
        for entry in load_paper().get("confounds", {}).values()
        if frozenset(labels.get(m, m) for m in entry["comparison"]) in pairs
    ]


def _assemble(
    title: str,
    command: str,
    tbl: dict[str, Any],
    specs: list[RowSpec],
    first: list[str],
    complexity: Complexity,
    runs: list[Run],
    claims: list[Claim],
    pairing: str,
) -> TableResult:
    runset = RunSet.select(runs, [s.run_key for s in specs])
    body, rows, notes = _compare_rows(tbl, specs, complexity, runset)
    comparisons, untestable = build_comparisons(claims, runset)
    lines = header(title, command, runset)
    proxy = runset.setting is not None and not runset.comparable
    lines += [tolerance_sentence(tbl), "", github(body, _value_headers(first, proxy))]
    lines += _notes_section(notes, rows)
    lines += diverged_section(runset)
    lines += comparisons_section(comparisons, untestable, pairing)
    confounds = confound_lines(comparisons) + [f"**Caveat (the runs).** {t}" for t in caveat_texts(runset.used)]
    lines += [line for confound in confounds for line in ("", confound)]
    lines += inputs_footer(complexity, runset)
    return TableResult(
        "\n".join(lines) + "\n",
        rows,
        comparisons,
        untestable,
        runset.setting,
        runset.used,
        rows_frame(rows, [s.labels for s in specs]),
        confounds,
    )


# --- Table 2 -------------------------------------------------------------------------

TABLE2_PAIRING = (
    "PokerNet and GhostNet of one width are paired on all their seeds (a seed missing from "
    "either is an error); every other competitor is compared on its own seeds only (n = its "
    "number of seeds). The paper's claim (§4.4) is that PokerNet outperforms all the competitors "
    "at every computational cost level, so every comparison has PokerNet ahead; the paper's own "
    "Δ is beside it."
)


def table2_claims() -> list[Claim]:
    """PokerNet vs GhostNet of its width first, then every other competitor of its level."""
    rows = table("table2")["rows"]
    margins = equivalence_margins()
    claims = []
    for poker in (r for r in rows if r["model"].startswith("pokernet")):
        reference = paired_reference(poker["model"])
        others = sorted(
            (r for r in rows if r["level"] == poker["level"] and r is not poker), key=lambda r: r["model"] != reference
        )
        for other in others:
            claims.append(
                Claim(
                    f"{poker['label']} beats {other['label']}",
                    (variant_key(poker["model"], {}), poker["label"]),
                    (variant_key(other["model"], {}), other["label"]),
                    round(poker["top1"] - other["top1"], 6),
                    other["model"] != reference,
                    margins.get((poker["model"], other["model"])),
                )
            )
    return sorted(claims, key=lambda c: c.pair_on_behind)


def table2(complexity: Complexity, runs: list[Run], command: str = "pokernet report table2") -> TableResult:
    tbl = table("table2")
    specs = [RowSpec(row, {}, [row["label"], row["level"]]) for row in tbl["rows"]]
    result = _assemble(
        f"Table 2 — {tbl['caption']}: paper vs ours",
        command,
        tbl,
        specs,
        ["Model", "Level"],
        complexity,
        runs,
        table2_claims(),
        TABLE2_PAIRING,
    )
    keys = {spec.run_key for spec in specs}
    dataset = result.setting.dataset if result.setting else None
    notes = proxy_note_lines(dataset, [r for r in runs if r.key in keys], model_labels())
    if notes:  # before the inputs list
        head, inputs = result.markdown.split("\n## Inputs\n", 1)
        result.markdown = "\n".join([head.rstrip("\n")] + notes) + "\n\n## Inputs\n" + inputs
    return result


# --- Tables 4 and 5 (ablations) ------------------------------------------------------

ABLATION_PAIRING = (
    "An ablation is paired on the seeds of its ablated variant (no SE, ReLU, ReLU6); the default "
    "PokerNet may have more seeds (it also serves Table 2), and a seed it lacks is an error. A default "
    "PokerNet's top-1 in this table is the mean over the seeds listed above; Table 2 averages all of its "
    "seeds, so the two tables can print two top-1 values for one model (each with its n)."
)


def _ablation(
    name: str,
    option: str,
    column: str,
    option_label: Callable[[Any], str],
    command: str,
    complexity: Complexity,
    runs: list[Run],
    winner_value: Any,
) -> TableResult:
    """Tables 4/5: rows differ in one model option; the winning value beats each other value."""
    tbl = table(name)
    labels = model_labels()
    specs = [
        RowSpec(row, {option: row[option]}, [labels[row["model"]], option_label(row[option])]) for row in tbl["rows"]
    ]
    claims = []
    for best in (s for s in specs if s.paper[option] == winner_value):
        for other in (s for s in specs if s.paper["model"] == best.paper["model"] and s is not best):
            model = labels[best.paper["model"]]
            claims.append(
                Claim(
                    f"{model}: {option_label(winner_value)} beats {option_label(other.paper[option])}",
                    (best.run_key, f"{model} {option_label(winner_value)}"),
                    (other.run_key, f"{model} {option_label(other.paper[option])}"),
                    round(best.paper["top1"] - other.paper["top1"], 6),
                    pair_on_behind=True,
                )
            )
    return _assemble(
        f"{name.replace('table', 'Table ')} — {tbl['caption']}: paper vs ours",
        command,
        tbl,
        specs,
        ["Model", column],
        complexity,
        runs,
        claims,
        ABLATION_PAIRING,
    )


def _se_label(value: bool) -> str:
    return "with SE" if value else "no SE"


def _act_label(value: str) -> str:
    return ACT_LABELS.get(value, value)


def table4(complexity: Complexity, runs: list[Run], command: str = "pokernet report table4") -> TableResult:
    return _ablation("table4", "se", "SE", _se_label, command, complexity, runs, winner_value=True)


def table5(complexity: Complexity, runs: list[Run], command: str = "pokernet report table5") -> TableResult:
    return _ablation("table5", "act", "Act", _act_label, command, complexity, runs, winner_value="relu6_hs")
