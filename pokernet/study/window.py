"""One GPU window of the accumulating study (``pokernet study next``, ``scripts/gpu_study.sh``):
the next missing runs of the schedule that fit the budget, trained at the recipe's full epochs.

The runs are chosen before any work from a measured rate (the last window's, in the work dir's
study.json, or ``--img-per-s``) with the recipe's safety margin; then each block of runs (arms
with the same seeds, one fused study) is checked again against its own measured rate right
before training, and a block that no longer fits is not started (its runs stay missing)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pokernet.provenance import git_commit
from pokernet.train.recipe import load_recipe

from .ingest import study_runs_held
from .schedule import (
    Budget,
    Run,
    complete_seeds,
    missing_runs,
    next_runs,
    run_images,
    seed_groups,
    study_schedule,
    windows_left,
)

# Set-up (data, build, capture, measuring) + evaluation when the work dir has no window record.
DEFAULT_OVERHEAD_S = 60.0


@dataclass
class Window:
    recipe: dict[str, Any]
    held: list[Run]
    missing: list[Run]
    budget: Budget
    rate_source: str
    images_per_run: int

    @property
    def chosen(self) -> list[Run]:
        return next_runs(self.missing, self.budget, self.images_per_run)


def study_recipe(name: str) -> dict[str, Any]:
    recipe = load_recipe(name)
    if "study" not in recipe:
        raise ValueError(f"recipe {name} has no study fields (key_seeds, ablation_seeds, safety_margin)")
    return recipe


def last_rate(work_dir: Path) -> tuple[float, float, str] | None:
    """(img/s, overhead s, where) measured by the last window whose study.json the work dir holds."""
    path = work_dir / "study.json"
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    if not record.get("train_img_per_s"):
        return None
    overhead = record.get("overhead_s")
    if overhead is None and "timings" in record:  # a one-block study: set-up before training + evaluation
        timings = record["timings"]
        overhead = timings["measured"] + timings["evaluated"] - timings["trained"]
    where = f"{path} ({record.get('device', 'device unknown')}, {len(record.get('arms', []))} arms)"
    return record["train_img_per_s"], overhead if overhead is not None else DEFAULT_OVERHEAD_S, where


def plan_window(
    work_dir: Path, recipe_name: str, budget_s: float, img_per_s: float | None = None, overhead_s: float | None = None
) -> Window:
    recipe = study_recipe(recipe_name)
    held_paths, _ = study_runs_held(work_dir, recipe)
    schedule = study_schedule(recipe["study"])
    held = [run for run in schedule if (run.arm.name, run.seed) in held_paths]
    measured = last_rate(work_dir)
    if img_per_s is None and measured is None:
        raise ValueError(f"no measured rate: {work_dir}/study.json has none; pass --img-per-s")
    rate, overhead, source = measured or (img_per_s, DEFAULT_OVERHEAD_S, "--img-per-s")
    if img_per_s is not None:
        rate, source = img_per_s, "--img-per-s"
    budget = Budget(budget_s, rate, recipe["study"]["safety_margin"], overhead if overhead_s is None else overhead_s)
    images = run_images(recipe["epochs"], recipe["batch_size"])
    return Window(recipe, held, missing_runs(schedule, held), budget, source, images)


def describe(window: Window) -> list[str]:
    """What the window holds, lacks and would train (``pokernet study plan``)."""
    budget, recipe = window.budget, window.recipe
    per_run = window.images_per_run / budget.img_per_s * (1 + budget.margin)
    lines = [
        f"study: {len(window.held) + len(window.missing)} runs of recipe {recipe['name']} at "
        f"{recipe['epochs']} epochs ({window.images_per_run:,} images each); held {len(window.held)}, "
        f"missing {len(window.missing)}",
        f"rate {budget.img_per_s:,.0f} img/s (from {window.rate_source}): ~{per_run:.0f} s per run with the "
        f"{budget.margin:.0%} margin, + {budget.fixed_s:.0f} s set-up and evaluation per window",
    ]
    chosen = window.chosen
    cost = budget.seconds(max(1, len(chosen)), window.images_per_run)
    if not window.missing:
        lines.append("the study is complete")
    elif not chosen:
        lines.append(f"a {budget.budget_s:.0f} s window fits no run (one needs ~{cost:.0f} s)")
    else:
        lines.append(
            f"a {budget.budget_s:.0f} s window trains {len(chosen)} runs (~{cost:.0f} s): "
            + ", ".join(map(str, chosen))
        )
    paired, ablation = complete_seeds(window.held)
    lines.append(
        f"workflow/config/cifar10.yaml for the runs held: epochs: {recipe['epochs']}, "
        f"table2_paired_seeds: {paired}, seeds: {ablation}"
    )
    left = windows_left(len(window.missing), window.images_per_run, budget)
    lines.append(
        f"windows of {budget.budget_s:.0f} s left at this rate: "
        f"{left if left is not None else 'none (no window fits a run)'}"
    )
    return lines


def fitting_block(config: Any, data: Any) -> dict[str, Any] | str:
    """Train one block, or, when its measured rate says it does not fit, the block without its
    last arm (then its last seed), re-measured, until one fits; the reason when none does."""
    from .run import NotStarted, execute, log

    while True:
        attempt = time.perf_counter()
        try:
            return execute(config, data)
        except NotStarted as error:
            reason = f"{', '.join(a.name for a in config.arms)} seeds {config.seeds}: {error}"
            if len(config.arms) == 1 and len(config.seeds) == 1:
                return reason
            smaller = {"arms": config.arms[:-1]} if len(config.arms) > 1 else {"seeds": config.seeds[:-1]}
            if "seeds" in smaller:  # data: (train, test, classes, one train pool per seed)
                data = (*data[:3], data[3][:-1])
            left = config.budget_s - (time.perf_counter() - attempt)
            config = replace(config, budget_s=left, **smaller)
            log(f"{reason}; trying {', '.join(a.name for a in config.arms)} seeds {config.seeds}")


def train_window(window: Window, template: Any, out: Path) -> dict[str, Any]:
    """Train the window's chosen runs, block by block, into ``out``/block<i>/runs/...; write and
    return ``out``/study.json (the window: what it chose, trained, and the rate it measured).
    ``template``: a StudyConfig whose data, device and dry-run settings the blocks share."""
    from .run import load_cifar10, log, write_summary

    start = time.perf_counter()
    chosen = window.chosen
    summary: dict[str, Any] = {
        "status": "nothing to train",
        "recipe": window.recipe["name"],
        "git_commit": git_commit(),
        "budget_s": window.budget.budget_s,
        "rate_source": window.rate_source,
        "chosen": [str(run) for run in chosen],
        "blocks": [],
    }
    for line in describe(window):
        log(line)
    try:
        all_seeds = sorted({run.seed for run in chosen})
        data = load_cifar10(replace(template, seeds=all_seeds), window.recipe["data"]["resize"]) if chosen else None
        for index, (arms, seeds) in enumerate(seed_groups(chosen)):
            left = window.budget.budget_s - (time.perf_counter() - start)
            config = replace(
                template,
                out_dir=out / f"block{index}",
                arms=arms,
                seeds=list(seeds),
                budget_s=left,
                epochs=window.recipe["epochs"],
                deadline_s=None,
            )
            train, val, classes, pools = data
            block = fitting_block(config, (train, val, classes, [pools[all_seeds.index(s)] for s in seeds]))
            if isinstance(block, str):
                summary["not_started"] = block
                break
            summary["blocks"].append(block)
        trained = [block for block in summary["blocks"] if block["status"] == "complete"]
        images = sum(b["train_img_per_s"] * b["train_seconds"] for b in trained)
        seconds = sum(b["train_seconds"] for b in trained)
        wall = time.perf_counter() - start
        summary.update(
            runs=sum(len(b["runs"]) for b in trained),
            wall_time_s=wall,
            train_seconds=seconds,
            train_img_per_s=images / seconds if seconds else None,
            overhead_s=wall - seconds,
            device=trained[0]["device"] if trained else None,
            arms=sorted({arm for b in trained for arm in b["arms"]}),
        )
        if chosen:
            summary["status"] = "complete" if summary["runs"] == len(chosen) else "incomplete"
    finally:
        write_summary(out / "study.json", summary)
    log(f"window: {summary['status']}, {summary.get('runs', 0)} runs written under {out}")
    return summary
