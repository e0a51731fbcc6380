"""The computed rows of Tables 2, 4 and 5 as JSON (table2.json beside table2.md), so that the
summary reads the numbers the tables printed instead of computing them a second time: one
computation, two readers, never two answers.

``table_record`` turns a :class:`~pokernet.report.tables.TableResult` into plain JSON values;
``table_rows`` reads it back into the objects the summary checks the claims against (the
comparisons are rebuilt from their per-seed scores, so their n, Δ, CI and p are the table's).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .compare import Stat
from .inputs import Setting
from .stats import Arm, Comparison
from .tables import TableResult

ROWS_FORMAT = 1  # bumped when the record's layout changes


@dataclass
class TableRows:
    """What the summary needs of one table: its rows, comparisons and the runs behind them."""

    rows: list[dict[str, Any]]
    comparisons: list[Comparison]
    untestable: list[str]
    setting: Setting | None
    confounds: list[str]
    run_sources: list[str] = field(default_factory=list)
    source: str = ""  # the JSON file read ("" when built in memory)


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _stat_record(stat: Stat | None) -> dict[str, Any] | None:
    return None if stat is None else {"mean": stat.mean, "std": _number(stat.std), "n": stat.n}


def _stat(record: dict[str, Any] | None) -> Stat | None:
    if record is None:
        return None
    return Stat(record["mean"], math.nan if record["std"] is None else record["std"], record["n"])


def _row_record(row: dict[str, Any]) -> dict[str, Any]:
    record = {"model": row["model"], "options": row["options"]}
    record.update({column: dict(row[column]) for column in ("params", "madds")})
    for column in ("top1", "top5"):
        record[column] = {**row[column], "ours": _stat_record(row[column]["ours"])}
    return record


def _row(record: dict[str, Any]) -> dict[str, Any]:
    row = dict(record)
    for column in ("top1", "top5"):
        row[column] = {**record[column], "ours": _stat(record[column]["ours"])}
    return row


def _arm_record(arm: Arm) -> dict[str, Any]:
    return {
        "label": arm.label,
        "scores": {str(seed): score for seed, score in arm.scores.items()},
        "weight_decay": arm.weight_decay,
    }


def _arm(record: dict[str, Any]) -> Arm:
    return Arm(record["label"], {int(seed): score for seed, score in record["scores"].items()}, record["weight_decay"])


def _comparison_record(c: Comparison) -> dict[str, Any]:
    return {
        "claim": c.claim,
        "ahead": _arm_record(c.ahead),
        "behind": _arm_record(c.behind),
        "seeds": list(c.seeds),
        "differences": list(c.differences),
        "paper_gap": c.paper_gap,
        "notes": list(c.notes),
        "margin": c.margin,
        "independent": c.independent,
    }


def _comparison(record: dict[str, Any]) -> Comparison:
    return Comparison(
        record["claim"],
        _arm(record["ahead"]),
        _arm(record["behind"]),
        tuple(record["seeds"]),
        tuple(record["differences"]),
        record["paper_gap"],
        tuple(record["notes"]),
        record["margin"],
        independent=record.get("independent", True),
    )


def table_record(result: TableResult) -> dict[str, Any]:
    """The table's computed rows and comparisons as plain JSON values."""
    setting = result.setting
    return {
        "format": ROWS_FORMAT,
        "rows": [_row_record(row) for row in result.rows],
        "comparisons": [_comparison_record(c) for c in result.comparisons],
        "untestable": list(result.untestable),
        "setting": None if setting is None else asdict(setting),
        "confounds": list(result.confounds),
        "runs": sorted(str(run.source) for run in result.used),
    }


def table_json(result: TableResult) -> str:
    return json.dumps(table_record(result), indent=1, ensure_ascii=False) + "\n"


def table_rows(record: dict[str, Any], source: str = "") -> TableRows:
    """A table's record (``table_record``) as the objects the summary checks claims against."""
    if record.get("format") != ROWS_FORMAT:
        raise ValueError(f"{source or 'table rows'}: format {record.get('format')!r}, expected {ROWS_FORMAT}")
    setting = record["setting"]
    return TableRows(
        [_row(row) for row in record["rows"]],
        [_comparison(c) for c in record["comparisons"]],
        list(record["untestable"]),
        None if setting is None else Setting(**setting),
        list(record["confounds"]),
        list(record["runs"]),
        source,
    )


def in_memory(result: TableResult) -> TableRows:
    """The same objects without a file (through the JSON record, so both paths are one)."""
    return table_rows(json.loads(table_json(result)))


def load_table_rows(path: str | Path) -> TableRows:
    """One table's JSON, written by `pokernet report tableN` beside tableN.md."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        return table_rows(record, str(path))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not the rows of a table written by `pokernet report` ({error})") from None
