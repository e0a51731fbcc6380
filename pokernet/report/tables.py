"""results/table2.md ... table5.md: each row of the paper's table, our value beside it,
the difference and a verdict, plus the order claims the table supports.

Every builder returns a :class:`TableResult` (the markdown and the computed checks), so
the summary reuses the same numbers instead of parsing markdown.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from tabulate import tabulate

from pokernet.paper import allowed_deviation, row_setting, table
from pokernet.provenance import provenance_markdown

from .compare import (ACCURACY_TOLERANCE_PP, NOT_COMPARABLE, OrderCheck, Stat, accuracy_ok, gain_ok, mark,
                      stat, value_ok)
from .inputs import (DATA_OPTIONS, Complexity, LatencyReport, Run, Setting, VariantKey, common_setting,
                     describe_variant, variant_key)

ACT_LABELS = {"relu": "ReLU", "relu6": "ReLU6", "relu6_hs": "ReLU6+HS"}
AUDIT_FILE = "architecture_audit.md"


@dataclass
class RunSet:
    """The runs a table uses, grouped by variant, and the one setting they share."""
    groups: dict[VariantKey, list[Run]]
    setting: Setting | None
    given: int

    @classmethod
    def select(cls, runs: list[Run], keys: list[VariantKey]) -> "RunSet":
        groups = {key: [r for r in runs if r.key == key] for key in dict.fromkeys(keys)}
        groups = {key: sorted(found, key=lambda r: r.seed) for key, found in groups.items() if found}
        return cls(groups, common_setting([r for found in groups.values() for r in found]), len(runs))

    @property
    def used(self) -> list[Run]:
        return [r for found in self.groups.values() for r in found]

    @property
    def comparable(self) -> bool:
        return self.setting is not None and self.setting.comparable_with_paper

    def accuracy(self, key: VariantKey, column: str) -> Stat | None:
        found = self.groups.get(key)
        return stat(getattr(r, column) for r in found) if found else None


@dataclass
class TableResult:
    markdown: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    checks: list[OrderCheck] = field(default_factory=list)
    setting: Setting | None = None
    used: list[Run] = field(default_factory=list)


# --- formatting ----------------------------------------------------------------------

def decimals(precision: float) -> int:
    return max(0, -math.floor(math.log10(precision) + 1e-9))


def number(value: float | None, digits: int) -> str:
    return NOT_COMPARABLE if value is None else f"{value:.{digits}f}"


def github(rows: list[list[Any]], headers: list[str]) -> str:
    """A GitHub-flavoured markdown table; a "|" inside a cell is escaped so it cannot split it."""
    escaped = [[str(cell).replace("|", "\\|") for cell in row] for row in rows]
    return tabulate(escaped, headers=headers, tablefmt="github", disable_numparse=True)


def _unique(values) -> str:
    found = sorted({str(v) for v in values if v is not None})
    return ", ".join(f"`{v}`" for v in found) or "unknown"


def _hashes(runs: list[Run], shown: int = 4) -> str:
    """A run's hash covers its seed, so there is one per run: list a few, count the rest."""
    found = sorted({r.config_hash for r in runs})
    if len(found) <= shown:
        return _unique(found)
    return f"{len(found)} distinct (one per run; each listed under *Inputs*)"


def accuracy_header(runset: RunSet) -> list[str]:
    """Provenance fields of the runs and the plain statement of what the accuracy means."""
    if runset.setting is None:
        return ["- accuracy: no training runs given, so the Top-1/Top-5 columns are empty"]
    used = runset.used
    counts = sorted({len(found) for found in runset.groups.values()})
    lines = [
        f"- accuracy measured on: {runset.setting.describe()}",
        f"- seeds: {sorted({r.seed for r in used})}; n per variant: "
        + (str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}")
        + " (mean ± sample std over the seeds)",
        f"- runs used: {len(used)} of {runset.given} given",
        f"- config hash(es) of the runs: {_hashes(used)}",
        f"- runs' git commit(s): {_unique(r.git_commit for r in used)}; device(s): {_unique(r.device for r in used)}; "
        f"torch: {_unique(r.torch_version for r in used)}",
    ]
    if runset.comparable:
        lines.append(f"- accuracy verdict: ✓ when |ours − paper| ≤ {ACCURACY_TOLERANCE_PP} percentage points "
                     "(ACCURACY_TOLERANCE_PP in pokernet/report/compare.py; paper.yaml records no accuracy tolerance)")
    return lines


def proxy_sentence(runset: RunSet) -> list[str]:
    if runset.setting is None or runset.comparable:
        return []
    if min(len(found) for found in runset.groups.values()) < 2:
        seeds = " With one seed per variant an order is not statistically meaningful."
    else:
        seeds = ""
    return [f"**Proxy accuracy.** The accuracies are measured on {runset.setting.describe()}, not on "
            "ImageNet at 224×224: they are not comparable in absolute value with the paper's, so their "
            "verdict is —. The claim checked on a proxy is the order (which model or setting wins), in "
            f"the section *Order claims* below.{seeds}", ""]


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
    return ("Verdicts: ✓ reproduces within the recorded tolerance, ✗ does not, — not comparable. Params and "
            "MAdds (paper's convention, 3×224×224) match when |ours − paper| ≤ max(tolerance × paper, half the "
            f"last digit the paper prints), with pokernet/data/paper.yaml's tolerances ({tolerances}). "
            "Δ is (ours − paper) / paper for Params/MAdds and ours − paper (percentage points) for accuracy.")


def inputs_footer(complexity: Complexity | None, runset: RunSet | None,
                  latency: LatencyReport | None = None) -> list[str]:
    lines = ["", "## Inputs", ""]
    if complexity is not None:
        lines += [f"- complexity: {', '.join(f'`{p}`' for p in complexity.files)}"]
    if latency is not None:
        lines += [f"- latency: `{latency.source}`"]
    if runset is not None:
        lines += [f"- run: `{r.source}` ({describe_variant(r.key)}, seed {r.seed}, config `{r.config_hash}`)"
                  for r in runset.used]
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


def _compare_rows(tbl: dict[str, Any], specs: list[RowSpec], complexity: Complexity,
                  runset: RunSet) -> tuple[list[list[str]], list[dict[str, Any]], list[str]]:
    body, computed, notes = [], [], []
    for spec in specs:
        row = spec.paper
        entry = complexity.get(row["model"], spec.options)
        ours_counts = {"params": entry.params_m, "madds": entry.madds_m}
        cells = list(spec.labels)
        result: dict[str, Any] = {"model": row["model"], "options": spec.options, "key": spec.run_key}
        for column in ("params", "madds"):
            rel, precision = row_setting(row, tbl, "tolerance", column), row_setting(row, tbl, "precision", column)
            ours, paper = ours_counts[column], row[column]
            ok = value_ok(ours, paper, rel, precision)
            verdict = mark(ok)
            cause = row.get("known_deviation", {}).get(column)
            if cause and not ok:
                notes.append(f"{' '.join(spec.labels)}, {column}: {cause}")
                verdict += f" (known, note {len(notes)})"
            cells += [number(paper, decimals(precision)), number(ours, decimals(precision) + 1),
                      f"{100 * (ours - paper) / paper:+.1f}%", verdict]
            result[column] = {"ours": ours, "paper": paper, "ok": ok,
                              "allowed": allowed_deviation(paper, rel, precision)}
        for column in ("top1", "top5"):
            paper, ours = row.get(column), runset.accuracy(spec.run_key, column)
            ok = accuracy_ok(ours, paper, runset.comparable)
            diff = f"{ours.mean - paper:+.2f}" if ok is not None else NOT_COMPARABLE
            cells += [number(paper, 1), ours.text() if ours else "— (no runs)", diff, mark(ok)]
            result[column] = {"ours": ours, "paper": paper, "ok": ok}
        body.append(cells)
        computed.append(result)
    return body, computed, notes


def _value_headers(first: list[str]) -> list[str]:
    headers = list(first)
    for name in ("Params (M)", "MAdds (M)", "Top-1 (%)", "Top-5 (%)"):
        headers += [f"{name} paper", "ours", "Δ", "✓/✗"]
    return headers


def _checks_section(checks: list[OrderCheck], comparable: bool) -> list[str]:
    lines = ["", "## Order claims", "",
             "A plain ✓/✗ on the means (Top-1); the mean ± std and n behind it are given. "
             + ("On ImageNet the gain is also compared with the paper's (✓ when within "
                f"{ACCURACY_TOLERANCE_PP} pp)." if comparable else
                "On a proxy only the order is checked, not the size of the gain."), ""]
    testable = [c for c in checks if c.holds is not None]
    rows = []
    for check in testable:
        rows.append([check.claim, f"{check.winner}: {check.ours_winner.text()}",
                     f"{check.loser}: {check.ours_loser.text()}", f"{check.gap:+.2f}",
                     number(check.paper_gap, 1), mark(check.holds), mark(gain_ok(check, comparable)), check.note or ""])
    if rows:
        lines.append(github(rows, ["claim", "ours (Top-1)", "vs (Top-1)", "gap (ours, pp)", "gap (paper, pp)",
                                   "order ✓/✗", "gain ✓/✗", "note"]))
    else:
        lines.append("No order claim is testable with the runs given.")
    untestable = [c for c in checks if c.holds is None]
    if untestable:
        lines += ["", "Not testable (no runs): " + "; ".join(c.claim for c in untestable) + "."]
    return lines


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


# --- Table 2 -------------------------------------------------------------------------

def table2_checks(runset: RunSet) -> list[OrderCheck]:
    """Per level, PokerNet against every other model: "beats" where the paper has it ahead,
    "comparable" (not behind by more than the paper's gap + the accuracy tolerance) where not."""
    rows = table("table2")["rows"]
    checks = []
    for poker in (r for r in rows if r["model"].startswith("pokernet")):
        poker_stat = runset.accuracy(variant_key(poker["model"], {}), "top1")
        for other in (r for r in rows if r["level"] == poker["level"] and r is not poker):
            paper_gap = poker["top1"] - other["top1"]
            other_stat = runset.accuracy(variant_key(other["model"], {}), "top1")
            if paper_gap > 0:
                checks.append(OrderCheck(f"{poker['label']} beats {other['label']}", poker["model"], poker["label"],
                                         other["label"], poker_stat, other_stat, paper_gap))
            else:
                checks.append(OrderCheck(
                    f"{poker['label']} comparable to {other['label']} (behind by < {-paper_gap:.1f} + "
                    f"{ACCURACY_TOLERANCE_PP} pp)", poker["model"], poker["label"], other["label"], poker_stat,
                    other_stat, paper_gap, margin=-paper_gap + ACCURACY_TOLERANCE_PP))
    return checks


def table2(complexity: Complexity, runs: list[Run], command: str = "pokernet report table2") -> TableResult:
    tbl = table("table2")
    specs = [RowSpec(row, {}, [row["label"], row["level"]]) for row in tbl["rows"]]
    runset = RunSet.select(runs, [s.run_key for s in specs])
    body, rows, notes = _compare_rows(tbl, specs, complexity, runset)
    checks = table2_checks(runset)
    lines = header(f"Table 2 — {tbl['caption']}: paper vs ours", command, runset)
    lines += [tolerance_sentence(tbl), "", github(body, _value_headers(["Model", "Level"]))]
    lines += _notes_section(notes, rows)
    lines += _checks_section(checks, runset.comparable)
    lines += inputs_footer(complexity, runset)
    return TableResult("\n".join(lines) + "\n", rows, checks, runset.setting, runset.used)


# --- Tables 4 and 5 (ablations) ------------------------------------------------------

def _ablation(name: str, option: str, column: str, option_label: Callable[[Any], str], command: str,
              complexity: Complexity, runs: list[Run], winner_value: Any) -> TableResult:
    """Tables 4/5: rows differ in one model option; the winning value beats each other value."""
    tbl = table(name)
    labels = model_labels()
    specs = [RowSpec(row, {option: row[option]}, [labels[row["model"]], option_label(row[option])])
             for row in tbl["rows"]]
    runset = RunSet.select(runs, [s.run_key for s in specs])
    body, rows, notes = _compare_rows(tbl, specs, complexity, runset)
    checks = []
    for spec in specs:
        if spec.paper[option] != winner_value:
            continue
        best = spec
        for other in (s for s in specs if s.paper["model"] == best.paper["model"] and s is not best):
            model = labels[best.paper["model"]]
            checks.append(OrderCheck(
                f"{model}: {option_label(winner_value)} beats {option_label(other.paper[option])}",
                best.paper["model"], option_label(winner_value), option_label(other.paper[option]),
                runset.accuracy(best.run_key, "top1"), runset.accuracy(other.run_key, "top1"),
                best.paper["top1"] - other.paper["top1"]))
    lines = header(f"{name.replace('table', 'Table ')} — {tbl['caption']}: paper vs ours", command, runset)
    lines += [tolerance_sentence(tbl), "",
              github(body, _value_headers(["Model", column]))]
    lines += _notes_section(notes, rows)
    lines += _checks_section(checks, runset.comparable)
    lines += inputs_footer(complexity, runset)
    return TableResult("\n".join(lines) + "\n", rows, checks, runset.setting, runset.used)


def _se_label(value: bool) -> str:
    return "with SE" if value else "no SE"


def _act_label(value: str) -> str:
    return ACT_LABELS.get(value, value)


def table4(complexity: Complexity, runs: list[Run], command: str = "pokernet report table4") -> TableResult:
    return _ablation("table4", "se", "SE", _se_label, command, complexity, runs, winner_value=True)


def table5(complexity: Complexity, runs: list[Run], command: str = "pokernet report table5") -> TableResult:
    return _ablation("table5", "act", "Act", _act_label, command, complexity, runs, winner_value="relu6_hs")


# --- Table 3 (latency) ---------------------------------------------------------------

@dataclass(frozen=True)
class SpeedCheck:
    """Is PokerNet faster than GhostNet of the same width, in one runtime/thread setting?"""
    model: str
    reference: str
    runtime: str
    threads: int
    ratio: float
    paper_ratio: float
    ratio_ok: bool | None

    @property
    def faster(self) -> bool:
        return self.ratio < 1


@dataclass
class LatencyResult(TableResult):
    speed: list[SpeedCheck] = field(default_factory=list)


def table3(latency: LatencyReport, command: str = "pokernet report table3") -> LatencyResult:
    tbl = table("table3")
    labels = model_labels()
    paper_ms = {row["model"]: row["latency_ms"] for row in tbl["rows"]}
    same_protocol = latency.batch == tbl["batch"] and latency.resolution == tbl["resolution"]
    settings = latency.settings()
    for row in tbl["rows"]:
        if not any(latency.find(row["model"], rt, th) for rt, th in settings):
            raise ValueError(f"{latency.source}: no latency of {row['model']} (Table 3 needs it)")
    body, speed = [], []
    for runtime, threads in settings:
        for row in tbl["rows"]:
            ours = latency.find(row["model"], runtime, threads)
            if ours is None:
                body.append([row["label"], runtime, threads, "— (not measured)", f"{row['latency_ms']:g}",
                             NOT_COMPARABLE, "—", "—", "—", NOT_COMPARABLE])
                continue
            reference = row["reference"]
            paper_ratio = row["latency_ms"] / paper_ms[reference]
            ratio = latency.ratio(row["model"], reference, runtime, threads)
            ok = None
            if ratio is not None and reference != row["model"] and same_protocol:
                ok = value_ok(ratio, paper_ratio, row_setting(row, tbl, "tolerance", "ratio"),
                              row_setting(row, tbl, "precision", "ratio"))
            if ratio is not None and reference != row["model"]:
                speed.append(SpeedCheck(row["model"], reference, runtime, threads, ratio, paper_ratio, ok))
            body.append([row["label"], runtime, threads, f"{ours.median_ms:.1f} ± {ours.iqr_ms:.1f}",
                         f"{row['latency_ms']:g}", NOT_COMPARABLE, number(ratio, 3), f"{paper_ratio:.3f}",
                         "—" if ratio is None or reference == row["model"] else f"{ratio - paper_ratio:+.3f}",
                         mark(ok)])
    measured_runtimes = {runtime for runtime, _ in settings}
    paper_rows = {row["model"]: row for row in tbl["rows"]}
    for (model, reference, runtime, threads), ratio in latency.ratios.items():
        row = paper_rows.get(model)
        if runtime in measured_runtimes or row is None or row["reference"] != reference or model == reference:
            continue
        # A pseudo-runtime (e.g. "best": each model in its own fastest runtime): only a ratio.
        paper_ratio = row["latency_ms"] / paper_ms[reference]
        ok = value_ok(ratio, paper_ratio, row_setting(row, tbl, "tolerance", "ratio"),
                      row_setting(row, tbl, "precision", "ratio")) if same_protocol else None
        speed.append(SpeedCheck(model, reference, runtime, threads, ratio, paper_ratio, ok))
        which = latency.ratio_runtimes.get((model, reference, runtime, threads))
        body.append([row["label"], f"{runtime} ({which})" if which else runtime, threads, "—",
                     f"{row['latency_ms']:g}", NOT_COMPARABLE, f"{ratio:.3f}", f"{paper_ratio:.3f}",
                     f"{ratio - paper_ratio:+.3f}", mark(ok)])
    hardware = latency.hardware
    extra = [f"- latency measured on: {hardware.get('cpu', 'unknown CPU')} ({hardware.get('cores', '?')} cores); "
             f"batch {latency.batch}, {latency.resolution}×{latency.resolution}",
             "- latency versions: " + (", ".join(f"{k} {v}" for k, v in latency.versions.items()) or "not recorded"),
             f"- paper's hardware: {tbl['hardware']}; batch {tbl['batch']}, {tbl['resolution']}×{tbl['resolution']}"]
    extra += [f"- latency {key}: {value}" for key, value in latency.protocol.items()]
    lines = header(f"Table 3 — {tbl['caption']}: paper vs ours", command, None, extra)
    lines += [
        "Absolute milliseconds are not comparable (a different CPU): their verdict is —. What is compared is "
        "the ratio to GhostNet at the same width, measured in the same run (ours) and computed from the "
        "paper's milliseconds (paper). ✓ when |ours − paper| ≤ max(tolerance × paper, half the last printed "
        f"digit), with paper.yaml's ratio tolerance ({100 * tbl['tolerance']['ratio']:g}%). Ours: median ± IQR "
        "over the timed runs." + ("" if same_protocol else
                                  " **Our batch/resolution differ from the paper's, so the ratio verdict is —.**"),
        "",
        github(body, ["Model", "runtime", "threads", "ours (ms)", "paper (ms)", "ms ✓/✗",
                      "ratio to GhostNet (ours)", "paper ratio", "Δ ratio", "ratio ✓/✗"]),
        "", "## PokerNet faster than GhostNet here?", ""]
    for model in dict.fromkeys(s.model for s in speed):
        checks = [s for s in speed if s.model == model]
        faster = [s for s in checks if s.faster]
        if len(faster) == len(checks):
            answer = "yes"
        else:
            answer = "no" if not faster else f"in {len(faster)} of {len(checks)} settings"
        detail = ", ".join(f"{s.runtime}/{s.threads} thread{'s' if s.threads > 1 else ''}: {s.ratio:.3f}"
                           for s in checks)
        lines.append(f"- {labels[model]} vs {labels[checks[0].reference]}: PokerNet faster than GhostNet here: "
                     f"**{answer}** (ratio {detail}; paper {checks[0].paper_ratio:.3f})")
    lines += inputs_footer(None, None, latency)
    return LatencyResult("\n".join(lines) + "\n", speed=speed)
