"""Numbers the report's narrative (workflow/report/*.rst) quotes from a result file are checked against
that file (issue 26: latency.rst kept an older run's ratios and fastest runtime after Table 3 changed).
A block between ``.. numbers-from: FILE ...`` and ``.. end-numbers`` (rst comments, invisible in the
report) may quote only decimals the cited files hold, and its "N of M" counts of stable settings are,
in order, those of the cited files' "in N of M stable settings" lines."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NARRATIVE = sorted((ROOT / "workflow" / "report").glob("*.rst"))
BLOCK = re.compile(r"^\.\. numbers-from: (.+?)\n(.*?)^\.\. end-numbers$", re.M | re.S)
DECIMAL = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.×])")  # not a width label (0.5×)
COUNT = re.compile(r"\b(\d+ of \d+)\b")
HELD_COUNT = re.compile(r"in (\d+ of \d+) stable settings")


def blocks() -> list[tuple[str, list[Path], str]]:
    found = []
    for path in NARRATIVE:
        for match in BLOCK.finditer(path.read_text(encoding="utf-8")):
            found.append((path.name, [ROOT / name for name in match.group(1).split()], match.group(2)))
    return found


def test_the_quoted_latency_verdicts_are_in_number_blocks():
    cited = {(name, tuple(p.name for p in files)) for name, files, _ in blocks()}
    assert ("latency.rst", ("table3.md",)) in cited
    assert ("gpu_study.rst", ("table3.md", "table3.md")) in cited


def test_every_quoted_number_is_in_the_file_it_cites():
    for name, files, text in blocks():
        held = "\n".join(path.read_text(encoding="utf-8") for path in files)
        missing = sorted(set(DECIMAL.findall(text)) - set(DECIMAL.findall(held)))
        assert not missing, f"{name}: {missing} are in no file the block cites ({', '.join(map(str, files))})"
        counts = [count for path in files for count in HELD_COUNT.findall(path.read_text(encoding="utf-8"))]
        assert COUNT.findall(text) == counts, f"{name}: the counts of stable settings differ from {files}"
