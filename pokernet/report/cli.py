"""``pokernet report ARTIFACT``: render results/table2.md ... table5.md, fig5.png, fig6.png/.svg,
learning_curves.png/.svg, summary.md (table2/4/5 and summary also write their numbers to a .csv
beside the .md) and the report's HTML pages from the JSON the other commands write. Every input is
loaded and checked before anything is written, and every output is written atomically."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from pokernet.fileio import check_outputs, write_all
from pokernet.markdown import wrap_markdown

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
TABLES = ("table2", "table4", "table5")  # each also writes its computed rows (rows.py) to a .json


def _complexity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--complexity",
        nargs="+",
        required=True,
        metavar="FILE",
        help="JSON from `pokernet complexity ... --json` (several files may be given)",
    )


def _runs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs",
        nargs="*",
        default=[],
        metavar="METRICS_JSON",
        help="metrics.json of the training runs (every seed of every variant)",
    )
    parser.add_argument(
        "--protocol",
        metavar="FILE",
        help="the frozen protocol the runs confirm (workflow/protocol.yaml): a run of another one is refused",
    )


def _out(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--out", default=default, help=f"file to write (default {default})")


def configure_report(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="artifact", required=True, metavar="ARTIFACT")
    for name, what in (
        ("table2", "Table 2: Params, MAdds, Top-1/5 of every model"),
        ("table4", "Table 4: SE ablation"),
        ("table5", "Table 5: nonlinearity ablation"),
    ):
        command = sub.add_parser(name, help=what, description=what)
        _complexity(command)
        _runs(command)
        _out(command, f"results/{name}.md")
    command = sub.add_parser("table3", help="Table 3: latency and the ratio to GhostNet")
    command.add_argument("--latency", required=True, metavar="FILE", help="JSON from `pokernet latency ... --json`")
    _out(command, "results/table3.md")
    command = sub.add_parser("fig5", help="Fig. 5: Ghost/Poker module cost over k and m (analytic and counted)")
    _out(command, "results/fig5.png")
    command = sub.add_parser("fig6", help="Fig. 6: MAdds vs Top-1 (also writes the .svg next to the .png)")
    _complexity(command)
    _runs(command)
    _out(command, "results/fig6.png")
    command = sub.add_parser("summary", help="every numbered claim of the paper with its status and evidence")
    _complexity(command)
    command.add_argument(
        "--rows",
        nargs=3,
        required=True,
        metavar=("TABLE2_JSON", "TABLE4_JSON", "TABLE5_JSON"),
        help="the computed rows `pokernet report table2/4/5` write beside each table (table2.json ...)",
    )
    command.add_argument("--latency", metavar="FILE", help="latency JSON (without it the latency claim is —)")
    command.add_argument(
        "--claims", metavar="FILE", help="JSON of `pokernet claims` (without it the three counted claims are —)"
    )
    command.add_argument(
        "--tables",
        nargs="*",
        default=[],
        metavar="FILE",
        help="the rendered artifacts (table2.md ... fig6.png) to link as evidence; default: those names next to --out",
    )
    _out(command, "results/summary.md")
    _configure_figures_and_pages(sub)


def _configure_figures_and_pages(sub: argparse._SubParsersAction) -> None:
    """The artifacts drawn from other artifacts: learning curves, pages, calibration, verdicts, README block."""
    # learning_curves: every arm's per-epoch history (figures.learning_curves).
    command = sub.add_parser(
        "learning_curves", help="every arm's per-epoch history, mean over seeds with spread (also writes the .svg)"
    )
    _runs(command)
    _out(command, "results/learning_curves.png")
    # page: a result or narrative file as the HTML page the Snakemake report shows inline (pages.py).
    command = sub.add_parser("page", help="a .md result or .rst narrative file as one HTML page (the report's)")
    command.add_argument("--source", required=True, metavar="FILE", help="the .md or .rst file")
    _out(command, "results/html/summary.html")
    command = sub.add_parser("calibration", help="proxy vs paper top-1 over Table 2's models, the fit and its band")
    command.add_argument("--rows", required=True, metavar="TABLE2_JSON", help="table2.json of `pokernet report table2`")
    _out(command, "results/calibration.png")
    command = sub.add_parser("verdicts", help="forest plot of every accuracy comparison, the other claims as marks")
    command.add_argument("--summary", required=True, metavar="CSV", help="summary.csv of `pokernet report summary`")
    _out(command, "results/verdicts.png")
    command = sub.add_parser(
        "readme-verdict", help="rewrite the README's verdict block (its top lines) from summary.csv"
    )
    command.add_argument("--summary", default="results/summary.csv", metavar="CSV", help="summary.csv to read")
    command.add_argument("--readme", default="README.md", help="the README whose marked block is rewritten")


def _evidence_links(files: list[str], out: Path) -> dict[str, str]:
    """Artifact stem (table2, fig5, ...) -> its path relative to the summary."""
    from .summary import EVIDENCE

    links = {}
    for name in files:
        path = Path(name)
        if path.stem not in EVIDENCE:
            raise ValueError(f"{path}: not a known artifact (expected one of {', '.join(EVIDENCE.values())})")
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        links[path.stem] = os.path.relpath(path.absolute(), out.parent)
    return links


def _figure_out(out: str, allowed: tuple[str, ...] = FIGURE_SUFFIXES) -> Path:
    path = Path(out)
    if path.suffix not in allowed:
        raise ValueError(f"--out {out}: a figure must end in {' or '.join(allowed)}")
    return path


def _with_csv(out: str, markdown: str, frame: Any, extra: dict[Path, str] | None = None) -> list[Path]:
    """The markdown (long prose lines wrapped) and, beside it (same name, .csv), its numbers; all
    written together with ``extra`` (a table's computed rows), or none of them."""

    csv_path = Path(out).with_suffix(".csv")
    if csv_path == Path(out):
        raise ValueError(f"--out {out}: the markdown must not end in .csv (its numbers go to that name)")
    return write_all({out: wrap_markdown(markdown), csv_path: frame.to_csv(index=False), **(extra or {})})


def _outputs(args: argparse.Namespace) -> list[Path]:
    """The files the artifact writes (checked before any work: writable, none of them an input)."""
    out = Path(args.out)
    if args.artifact in ("fig6", "learning_curves", "calibration", "verdicts"):
        return [out, out.with_suffix(".svg")]
    if args.artifact in ("fig5", "table3", "page"):
        return [out]
    return [out, out.with_suffix(".csv")] + ([out.with_suffix(".json")] if args.artifact in TABLES else [])


def _inputs(args: argparse.Namespace) -> list[str]:
    names = ("complexity", "runs", "rows", "latency", "claims", "tables", "source", "summary")
    return [path for name in names for path in _as_list(getattr(args, name, None))]


def _as_list(value: Any) -> list[str]:
    return [] if value is None else [value] if isinstance(value, (str, Path)) else list(value)


def run_report(args: argparse.Namespace) -> int:
    from . import figures, tables
    from .claims_counted import load_claim_counts
    from .inputs import load_complexity, load_latency, load_runs
    from .pages import page
    from .rows import load_table_rows, table_json
    from .summary import summary
    from .table3 import table3

    command = f"pokernet report {args.artifact}"
    if args.artifact == "readme-verdict":
        return _readme_verdict(args)
    check_outputs(_outputs(args), _inputs(args))
    if args.artifact == "page":
        written = write_all({args.out: page(Path(args.source))})
    elif args.artifact == "learning_curves":
        written = figures.learning_curves(load_runs(args.runs), _figure_out(args.out, (".png",)))
    elif args.artifact == "fig5":
        written = figures.fig5(_figure_out(args.out))
    elif args.artifact == "fig6":
        out = _figure_out(args.out, (".png",))
        written = figures.fig6(load_complexity(args.complexity), load_runs(args.runs, args.protocol), out)
    elif args.artifact in ("calibration", "verdicts"):
        written = _verdict_figure(args)
    elif args.artifact == "table3":
        written = write_all({args.out: wrap_markdown(table3(load_latency(args.latency), command).markdown)})
    elif args.artifact == "summary":
        links = _evidence_links(args.tables, Path(args.out).absolute())
        result = summary(
            load_complexity(args.complexity),
            dict(zip(TABLES, map(load_table_rows, args.rows))),
            load_latency(args.latency) if args.latency else None,
            links,
            command,
            load_claim_counts(args.claims) if args.claims else None,
        )
        written = _with_csv(args.out, result.markdown, result.csv)
    else:
        build = {"table2": tables.table2, "table4": tables.table4, "table5": tables.table5}[args.artifact]
        result = build(load_complexity(args.complexity), load_runs(args.runs, args.protocol), command)
        rows = {Path(args.out).with_suffix(".json"): table_json(result)}
        written = _with_csv(args.out, result.markdown, result.csv, rows)
    for path in written:
        print(f"wrote {path}")
    return 0


def _readme_verdict(args: argparse.Namespace) -> int:
    """The README's verdict block, rewritten from summary.csv (summary.readme_with_verdict)."""
    import pandas as pd

    from .summary import readme_with_verdict

    try:
        frame = pd.read_csv(args.summary)
        text = readme_with_verdict(Path(args.readme).read_text(encoding="utf-8"), frame)
    except (OSError, KeyError, pd.errors.ParserError) as error:
        raise ValueError(f"{args.summary} / {args.readme}: {error}") from None
    for path in write_all({args.readme: text}):
        print(f"wrote {path}")
    return 0


def _verdict_figure(args: argparse.Namespace) -> list[Path]:
    """results/calibration.png or verdicts.png, each with its .svg (report/verdict_figures.py)."""
    from . import verdict_figures
    from .rows import load_table_rows

    out = _figure_out(args.out, (".png",))
    if args.artifact == "calibration":
        return verdict_figures.calibration_plot(load_table_rows(args.rows), out)
    return verdict_figures.verdict_plot(args.summary, out)
