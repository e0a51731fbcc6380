"""The notes under Table 2 (pokernet/data/proxy_notes.yaml, pokernet/report/proxy_notes.py): every number
they print is one of the runs' (issue 17 item 4), and a note that types a number is refused."""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from test_report import write_complexity, write_run

from pokernet.cli import main
from pokernet.paper import table
from pokernet.report.inputs import load_complexity, load_runs
from pokernet.report.proxy_notes import SOURCE, parse_proxy_notes, proxy_notes
from pokernet.report.tables import table2

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"(?<![A-Za-z\d.])\d+(?:\.\d+)?")


def write_traced_run(root: Path, model: str, seed: int, top1: float, first_loss: float, train_top1: float) -> Path:
    """A 40×40 Fashion-MNIST run of two epochs whose history starts at ``first_loss``."""
    path = write_run(root, model, {}, seed, top1, dataset="fashion_mnist", resolution=40, epochs=2)
    data = json.loads(path.read_text())
    data["train_top1"], data["model_options"] = train_top1, {"num_classes": 10}
    data["recipe"] = {"optimizer": {"grad_clip_norm": 1.0}}
    epoch = {
        "train_top1": train_top1,
        "val_loss": None,
        "val_top1": None,
        "val_top5": None,
        "lr": 0.1,
        "img_per_s": 1.0,
    }
    data["history"] = [
        {**epoch, "epoch": 1, "train_loss": first_loss},
        {**epoch, "epoch": 2, "train_loss": 1.5, "val_loss": 1.0, "val_top1": top1, "val_top5": data["top5"]},
    ]
    path.write_text(json.dumps(data))
    return path


def notes_section(markdown: str) -> str:
    return markdown[markdown.index("## Notes on this proxy") : markdown.index("Measurements cited:")]


def test_every_number_in_the_notes_is_one_of_the_runs(tmp_path):
    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    noted = sorted({m for note in proxy_notes().notes for m in note.models})
    figures = {model: (60.0 + i + 0.25, 2.0 + i / 7, 50.0 + i / 3) for i, model in enumerate(noted)}
    paths = [write_traced_run(tmp_path, m, 0, *figures[m]) for m in noted]
    paths.append(write_traced_run(tmp_path, "pokernet_050", 0, 80.0, 2.1, 70.0))
    result = table2(complexity, load_runs(paths))
    section = notes_section(result.markdown)
    labels = {row["model"]: row["label"] for row in table("table2")["rows"]}
    derived = {"10", f"{math.log(10):.2f}", "1", "0"}  # classes, ln 10, the clip norm, the seed
    for top1, first_loss, train_top1 in figures.values():
        derived |= {f"{top1:.2f}", f"{first_loss:.2f}", f"{train_top1:.2f}"}
    prose = section
    for label in sorted(labels.values(), key=len, reverse=True):
        prose = prose.replace(label, "")
    prose = prose.replace("epoch-1", "").replace("top-1", "")
    assert set(NUMBER.findall(prose)) <= derived
    rows = {row["model"]: row for row in result.rows}
    for model in noted:  # each model's test top-1 in its note is the table's
        assert f"{labels[model]} seed 0: epoch-1 train loss {figures[model][1]:.2f}" in " ".join(section.split())
        assert f"test top-1 {rows[model]['top1']['ours'].mean:.2f}%" in " ".join(section.split())


def test_the_notes_cite_committed_measurements():
    for evidence in proxy_notes().evidence.values():
        assert (ROOT / evidence.file).is_file()
        committed = subprocess.run(
            ["git", "cat-file", "-e", f"{evidence.commit}:{evidence.file}"], cwd=ROOT, capture_output=True
        )
        assert committed.returncode == 0, f"{evidence.file} is not in commit {evidence.commit}"


def test_the_notes_name_table2_models():
    table2_models = {row["model"] for row in table("table2")["rows"]}
    named = {m for note in proxy_notes().notes for m in note.models}
    assert {"shufflenetv1_050_g8", "shufflenetv1_100_g3", "mobilenetv3_large_075"} <= named <= table2_models


def content_with(note: str) -> dict:
    content = yaml.safe_load((ROOT / SOURCE).read_text())
    content["notes"]["shufflenetv1_050_g8"] = {"cause": "x", "note": note}
    return content


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("reaches 59.02% on the proxy", "types a number"),
        ("loss above ln 10", "types a number"),
        ("see {nowhere}", "unknown placeholder(s) nowhere"),
    ],
)
def test_a_note_that_types_a_number_is_refused(note, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_proxy_notes(content_with(note))
    assert parse_proxy_notes(content_with("the loss exceeds ln {num_classes} in MobileNetV3 ({stability})"))


def test_a_malformed_notes_file_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("pokernet.report.proxy_notes.proxy_notes", lambda: parse_proxy_notes({"notes": {}}))
    complexity = write_complexity(tmp_path / "c.json")
    run = write_traced_run(tmp_path, "pokernet_050", 0, 80.0, 2.1, 70.0)
    out = tmp_path / "t2.md"
    code = main(["report", "table2", "--complexity", str(complexity), "--runs", str(run), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and SOURCE in err and not out.exists()
