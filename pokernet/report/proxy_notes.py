"""The notes under Table 2 on models that misbehave on a proxy data set (pokernet/data/proxy_notes.yaml).

A note is typed prose without numbers: every number under it comes from the runs the table uses
(:func:`run_facts`: epoch-1 train loss, final train and test top-1, clipping, divergence), or from a
separate committed measurement cited by file, commit and command. The loader refuses a note that
types a number, names an unknown placeholder or cites an unknown measurement.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from .inputs import Run

SOURCE = "pokernet/data/proxy_notes.yaml"
RUN_PLACEHOLDERS = ("num_classes", "chance_loss")  # filled from the runs
TYPED_NUMBER = re.compile(r"(?<![A-Za-z])\d")  # a digit not part of a name such as MobileNetV3


@dataclass(frozen=True)
class Evidence:
    """A measurement made apart from the runs: the committed file that holds it and how it was made."""

    name: str
    file: str
    commit: str
    command: str

    def line(self) -> str:
        return f"- {self.name}: `{self.file}` (committed in {self.commit}), written by `{self.command}`"


@dataclass(frozen=True)
class ProxyNote:
    models: tuple[str, ...]  # the models the note explains (those sharing one note are named together)
    cause: str
    template: str  # prose with {placeholders}


@dataclass(frozen=True)
class ProxyNotes:
    dataset: str
    evidence: dict[str, Evidence]
    notes: tuple[ProxyNote, ...]


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def _check_note(model: str, template: str, evidence: dict[str, Evidence]) -> None:
    prose = re.sub(r"\{[^}]*\}", "", template)
    typed = TYPED_NUMBER.search(prose)
    if typed:
        raise ValueError(
            f"{SOURCE}: the note of {model} types a number ({prose[max(0, typed.start() - 20) : typed.end() + 10]!r}); "
            "numbers come from the runs ({num_classes}, {chance_loss}) or from a cited measurement ({name})"
        )
    unknown = _placeholders(template) - set(RUN_PLACEHOLDERS) - set(evidence)
    if unknown:
        raise ValueError(
            f"{SOURCE}: the note of {model} names unknown placeholder(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(RUN_PLACEHOLDERS + tuple(evidence))}"
        )


def parse_proxy_notes(content: Any) -> ProxyNotes:
    """The file's content, checked: one clear ValueError naming the file and the entry otherwise."""
    try:
        evidence = {name: Evidence(name, **fields) for name, fields in content["evidence"].items()}
        grouped: dict[tuple[str, str], list[str]] = {}
        for model, entry in content["notes"].items():
            template = " ".join(str(entry["note"]).split())
            _check_note(model, template, evidence)
            grouped.setdefault((str(entry["cause"]), template), []).append(model)
        notes = tuple(ProxyNote(tuple(models), cause, template) for (cause, template), models in grouped.items())
        return ProxyNotes(str(content["dataset"]), evidence, notes)
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(
            f"{SOURCE}: expected dataset, evidence (name: file, commit, command) and notes (model: cause, note); "
            f"{type(error).__name__}: {error}"
        ) from None


@cache
def proxy_notes() -> ProxyNotes:
    text = resources.files("pokernet").joinpath("data/proxy_notes.yaml").read_text("utf-8")
    return parse_proxy_notes(yaml.safe_load(text))


def run_facts(label: str, run: Run) -> str:
    """One run's training as the table's runs record it (the note's numbers)."""
    trace = run.trace
    if trace is None:
        return f"{label} seed {run.seed}: no training history recorded"
    clip = "not clipped" if trace.grad_clip_norm is None else f"clipped to {trace.grad_clip_norm:g}"
    train = "" if trace.train_top1 is None else f", final train top-1 {trace.train_top1:.2f}%"
    test = "diverged (not a result)" if run.diverged else f"{run.top1:.2f}%"
    return (
        f"{label} seed {run.seed}: epoch-1 train loss {trace.first_loss:.2f}{train}, test top-1 {test}, gradient {clip}"
    )


def _fill(note: ProxyNote, runs: list[Run]) -> str:
    classes = sorted({r.trace.num_classes for r in runs if r.trace})
    values: dict[str, str] = {name: f"*{name}*" for name in proxy_notes().evidence}
    if len(classes) == 1:
        values |= {"num_classes": str(classes[0]), "chance_loss": f"{math.log(classes[0]):.2f}"}
    else:  # no run of these models (or runs that disagree): the note still reads, without a number
        values |= {"num_classes": "C", "chance_loss": "the uniform guess's loss"}
    return note.template.format(**values)


def proxy_note_lines(dataset: str | None, runs: list[Run], labels: dict[str, str]) -> list[str]:
    """The section under Table 2: each note with the numbers of the table's own runs of its models."""
    notes = proxy_notes()
    if dataset != notes.dataset:
        return []
    lines = [
        "",
        "## Notes on this proxy",
        "",
        "Measured causes of the rows that misbehave on this proxy; every number after a note is computed from "
        "this table's runs of its models, and a measurement made apart from them is cited by name (listed below).",
        "",
    ]
    cited: set[str] = set()
    for note in notes.notes:
        mine = [r for r in runs if r.key[0] in note.models]
        facts = "; ".join(run_facts(labels.get(r.key[0], r.key[0]), r) for r in mine) or "no runs of these models"
        names = ", ".join(labels.get(m, m) for m in note.models)
        lines.append(f"- **{names}** ({note.cause}): {_fill(note, mine)} This table's runs: {facts}.")
        cited |= _placeholders(note.template) & set(notes.evidence)
    lines += ["", "Measurements cited:", ""] + [notes.evidence[name].line() for name in sorted(cited)]
    return lines
