"""pokernet report: verdict logic both ways, mean ± std, proxies, Fig. 5 counted == analytic,
the CLI's outputs, and bad input (exit 2, the file named, nothing written).

All inputs are small synthetic files in tmp_path; the expected values come from paper.yaml.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from pokernet.cli import main
from pokernet.paper import load_paper, table
from pokernet.report.compare import ACCURACY_TOLERANCE_PP, stat
from pokernet.report.inputs import load_complexity, load_runs, variant_key
from pokernet.report.stats import NOT_RESOLVED, RESOLVED_AGAINST, RESOLVED_AS_CLAIMED
from pokernet.report.table3 import table3
from pokernet.report.tables import table2, table4, table5

# --- synthetic inputs ----------------------------------------------------------------


def paper_counts() -> dict[tuple, tuple[str, dict, float, float]]:
    """One (model, options, Params M, MAdds M) per variant of Tables 2, 4, 5, at the paper's
    figures (the ablation tables print the default PokerNets more precisely than Table 2)."""
    counts = {}
    for name, option in (("table2", None), ("table4", "se"), ("table5", "act")):
        for r in table(name)["rows"]:
            options = {option: r[option]} if option else {}
            counts[variant_key(r["model"], options)] = (r["model"], options, r["params"], r["madds"])
    return counts


def write_complexity(path: Path, scale: dict[str, float] | None = None) -> Path:
    """Complexity JSON equal to the paper's figures (times ``scale[model]``, to make a ✗)."""
    entries = [
        {
            "model": model,
            "params": round(params * 1e6 * (scale or {}).get(model, 1)),
            "madds": round(madds * 1e6 * (scale or {}).get(model, 1)),
            "resolution": 224,
            "options": options,
        }
        for model, options, params, madds in paper_counts().values()
    ]
    path.write_text(json.dumps(entries))
    return path


def write_run(
    root: Path,
    model: str,
    options: dict,
    seed: int,
    top1: float,
    top5: float = 90.0,
    dataset: str = "imagenet",
    resolution: int = 224,
    epochs: int = 300,
    val_size: int = 10,
    weight_decay: float | None = None,
) -> Path:
    run_dir = root / f"{model}-{'-'.join(f'{k}={v}' for k, v in options.items())}-seed{seed}-{dataset}"
    run_dir.mkdir(parents=True)
    metrics = {
        "model": model,
        "model_options": {**options, "num_classes": 10, "drop_rate": 0.2},
        "top1": top1,
        "top5": top5,
        "loss": 1.0,
        "epochs": epochs,
        "seed": seed,
        "dataset": dataset,
        "subset_per_class": None,
        "train_size": 100,
        "val_size": val_size,
        "resolution": resolution,
        "config_hash": f"hash{seed}",
        "torch_version": "2.x",
        "device": "cpu",
        "recipe": {} if weight_decay is None else {"resolved": {"weight_decay": weight_decay}},
        "wall_time_s": 1.0,
        "git_commit": "abc1234",
    }
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    return run_dir / "metrics.json"


def write_latency(path: Path, ratio_050: float, ratio_100: float, spread: float = 0.01, invocations: int = 5) -> Path:
    """A latency report of ``invocations`` invocations, combined by the real
    :func:`pokernet.latency.invocations.combine`; invocation i's ratios are the given ones
    scaled by 1 + spread·(i − middle)/middle, so ``spread`` is the largest deviation."""
    from pokernet.latency.invocations import combine
    from pokernet.latency.ratios import ratios

    ghost_ms = {"ghostnet_050": 20.0, "ghostnet_100": 30.0}
    poker = {"pokernet_050": ("ghostnet_050", ratio_050), "pokernet_100": ("ghostnet_100", ratio_100)}
    middle = (invocations - 1) / 2 or 1
    reports = []
    for index in range(invocations):
        scale = 1 + spread * (index - (invocations - 1) / 2) / middle if invocations > 1 else 1
        results = [
            {"model": m, "runtime": "eager", "threads": 1, "median_ms": ms, "iqr_ms": 0.5, "runs": 30}
            for m, ms in ghost_ms.items()
        ]
        results += [
            {
                "model": m,
                "runtime": "eager",
                "threads": 1,
                "median_ms": ghost_ms[ref] * ratio * scale,
                "iqr_ms": 0.5,
                "runs": 30,
            }
            for m, (ref, ratio) in poker.items()
        ]
        reports.append(
            {
                "hardware": {"cpu": "Test CPU", "cores": 2, "load_avg_1m_start": 0.1},
                "versions": {"torch": "2.x"},
                "batch": 1,
                "resolution": 224,
                "results": results,
                "ratios": ratios(results, ["eager"]),
            }
        )
    path.write_text(json.dumps(combine(reports)))
    return path


def ablation_runs(root: Path, name: str, option: str, shift: dict, seeds=(0,), **setting) -> list[Path]:
    """One run per seed for every row of Table 4/5, at the paper's top-1 + shift[(model, value)]."""
    paths = []
    for row in table(name)["rows"]:
        for seed in seeds:
            paths.append(
                write_run(
                    root,
                    row["model"],
                    {option: row[option]},
                    seed,
                    row["top1"] + shift.get((row["model"], row[option]), 0.0) + 0.01 * seed,
                    row["top5"],
                    **setting,
                )
            )
    return paths


# --- pure logic ----------------------------------------------------------------------


def test_mean_and_sample_std_over_seeds():
    s = stat([70.0, 71.0, 72.0])
    assert (s.mean, s.std, s.n) == (71.0, 1.0, 3)
    assert s.text() == "71.00 ± 1.00 (n=3)"
    one = stat([70.0])
    assert one.n == 1 and math.isnan(one.std) and one.text() == "70.00 (n=1)"


def test_variant_identity_ignores_defaults_and_data_options():
    assert variant_key("pokernet_050", {"se": True, "act": "relu6_hs"}) == ("pokernet_050", ())
    assert variant_key("pokernet_050", {"se": False, "num_classes": 10}, ["num_classes"]) == (
        "pokernet_050",
        (("se", False),),
    )
    with pytest.raises(ValueError, match="unknown model"):
        variant_key("resnet50", {})


# --- tables --------------------------------------------------------------------------


def test_params_and_madds_verdicts_both_ways(tmp_path):
    good = load_complexity([write_complexity(tmp_path / "good.json")])
    bad = load_complexity([write_complexity(tmp_path / "bad.json", scale={"pokernet_100": 1.2})])
    rows_good = {r["model"]: r for r in table2(good, []).rows}
    rows_bad = {r["model"]: r for r in table2(bad, []).rows}
    assert rows_good["pokernet_100"]["params"]["ok"] and rows_good["pokernet_100"]["madds"]["ok"]
    assert not rows_bad["pokernet_100"]["params"]["ok"] and not rows_bad["pokernet_100"]["madds"]["ok"]
    assert rows_bad["ghostnet_100"]["madds"]["ok"]


def test_imagenet_accuracy_verdicts_both_ways(tmp_path):
    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    inside, outside = ACCURACY_TOLERANCE_PP - 0.1, ACCURACY_TOLERANCE_PP + 0.3
    runs = load_runs(
        ablation_runs(tmp_path, "table4", "se", {("pokernet_050", True): inside, ("pokernet_100", False): -outside})
    )
    result = table4(complexity, runs)
    verdicts = {(r["model"], r["options"]["se"]): r["top1"]["ok"] for r in result.rows}
    assert verdicts == {
        ("pokernet_050", True): True,
        ("pokernet_050", False): True,
        ("pokernet_100", True): True,
        ("pokernet_100", False): False,
    }
    assert "not comparable in absolute value" not in result.markdown
    assert f"≤ {ACCURACY_TOLERANCE_PP} percentage points" in result.markdown


SEED_NOISE = (0.0, 0.6, -0.4, 0.3, -0.2)  # shared by both arms of a seed, as data order and augmentation are


def test_proxy_accuracy_is_dash_and_the_order_is_a_paired_comparison_both_ways(tmp_path):
    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    # On the proxy SE wins at 0.5× (by 3.3 ± 0.1) but loses at 1.0× (by 2 ± 0.1).
    shift = {
        ("pokernet_050", True): 20,
        ("pokernet_050", False): 20,
        ("pokernet_100", True): 10,
        ("pokernet_100", False): 15,
    }
    paths = []
    for row in table("table4")["rows"]:
        for seed, noise in enumerate(SEED_NOISE):
            wobble = 0.1 * (seed % 2) * (1 if row["se"] else -1)
            paths.append(
                write_run(
                    tmp_path,
                    row["model"],
                    {"se": row["se"]},
                    seed,
                    row["top1"] + shift[(row["model"], row["se"])] + noise + wobble,
                    dataset="fashion_mnist",
                    resolution=32,
                    epochs=5,
                )
            )
    result = table4(complexity, load_runs(paths))
    assert all(r["top1"]["ok"] is None and r["top5"]["ok"] is None for r in result.rows)
    assert "not comparable in absolute value" in result.markdown
    assert "fashion_mnist at 32×32, 5 epochs" in result.markdown
    verdicts = {c.ahead.label: c.verdict for c in result.comparisons}
    assert verdicts == {"PokerNet 0.5× with SE": RESOLVED_AS_CLAIMED, "PokerNet 1.0× with SE": RESOLVED_AGAINST}
    assert all(c.n == 5 for c in result.comparisons) and "seeds: [0, 1, 2, 3, 4]" in result.markdown


def test_mean_std_and_n_in_the_ablation_table(tmp_path):
    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    paths = [
        write_run(tmp_path, "pokernet_100", {"act": "relu"}, seed, top1) for seed, top1 in enumerate((72.0, 73.0, 74.0))
    ]
    result = table5(complexity, load_runs(paths))
    row = next(r for r in result.rows if r["options"] == {"act": "relu"} and r["model"] == "pokernet_100")
    assert (row["top1"]["ours"].mean, row["top1"]["ours"].std, row["top1"]["ours"].n) == (73.0, 1.0, 3)
    assert "73.00 ± 1.00 (n=3)" in result.markdown
    assert result.csv.loc[result.csv["row"] == "PokerNet 1.0× ReLU", ["top1_mean", "top1_n"]].values.tolist() == [
        [73.0, 3]
    ]


def test_one_seed_is_not_resolved(tmp_path):
    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    runs = load_runs(ablation_runs(tmp_path, "table5", "act", {}, dataset="cifar10", resolution=32, epochs=2))
    result = table5(complexity, runs)
    assert len(result.comparisons) == 4
    assert all(c.verdict == "descriptive, n = 1" for c in result.comparisons)
    assert "✓ holds" not in result.markdown and "| ✓ resolved" not in result.markdown
    assert "| descriptive, n = 1 |" in result.markdown


def test_a_seed_missing_from_one_ablation_arm_is_an_error(tmp_path):
    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    paths = ablation_runs(tmp_path, "table4", "se", {}, seeds=(0, 1), dataset="cifar10", resolution=32, epochs=2)
    paths.append(
        write_run(tmp_path, "pokernet_050", {"se": False}, 2, 70.0, dataset="cifar10", resolution=32, epochs=2)
    )
    with pytest.raises(ValueError, match="arm 'PokerNet 0.5× with SE' has no run with seed 2"):
        table4(complexity, load_runs(paths))


def test_table2_comparisons_pair_pokernet_with_ghostnet_and_name_the_confound(tmp_path):
    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    common = dict(dataset="cifar10", resolution=40, val_size=10_000)
    paths = []
    for seed, noise in enumerate(SEED_NOISE):
        paths += [
            write_run(tmp_path, "pokernet_050", {}, seed, 50.0 + noise, weight_decay=1e-5, **common),
            write_run(tmp_path, "ghostnet_050", {}, seed, 51.0 + noise + 0.1 * seed, weight_decay=4e-5, **common),
            write_run(tmp_path, "pokernet_100", {}, seed, 60.0 + noise + 0.3 * (seed == 1), **common),
            write_run(tmp_path, "ghostnet_100", {}, seed, 60.0 + noise, **common),
        ]
    paths.append(write_run(tmp_path, "mobilenetv3_small_075", {}, 0, 40.0, **common))
    result = table2(complexity, load_runs(paths))
    found = {(c.ahead.label, c.behind.label): c for c in result.comparisons}
    assert [(c.ahead.label, c.behind.label) for c in result.comparisons][:2] == [
        ("PokerNet 0.5×", "GhostNet 0.5×"),
        ("PokerNet 1.0×", "GhostNet 1.0×"),
    ]
    assert found[("PokerNet 0.5×", "GhostNet 0.5×")].verdict == RESOLVED_AGAINST
    assert "confound: weight decay 1e-05" in " ".join(found[("PokerNet 0.5×", "GhostNet 0.5×")].notes)
    assert found[("PokerNet 1.0×", "GhostNet 1.0×")].verdict == NOT_RESOLVED
    assert found[("PokerNet 1.0×", "GhostNet 1.0×")].paper_gap == pytest.approx(-0.3)
    one_seed = found[("PokerNet 0.5×", "MobileNetV3 Small 0.75×")]  # paired on the baseline's only seed
    assert one_seed.n == 1 and one_seed.seeds == (0,) and one_seed.verdict == "descriptive, n = 1"
    assert "PokerNet 0.5× beats ShuffleNetV2 0.5×" in result.untestable
    assert "10,000 images per evaluation" in result.markdown
    assert "stage 4 (blocks 7–12: P G G P P P) 3×3→2×2, stage 5 (blocks 13–16: P P P P) 2×2" in result.markdown
    assert "## Notes on this proxy" not in result.markdown  # proxy_notes.yaml speaks of Fashion-MNIST only


def test_comparable_claim_is_tested_for_equivalence_and_the_vocabulary_is_printed_once(tmp_path):
    from pokernet.report.stats import VOCABULARY

    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    paths = []
    for seed, noise in enumerate(SEED_NOISE):
        paths += [
            write_run(tmp_path, "pokernet_100", {}, seed, 60.0 + noise + 0.1 * (seed % 2), dataset="cifar10"),
            write_run(tmp_path, "ghostnet_100", {}, seed, 60.0 + noise, dataset="cifar10"),
        ]
    result = table2(complexity, load_runs(paths))
    (comparison,) = result.comparisons
    margin = next(c for c in load_paper()["claims"] if c["id"] == "accuracy_100")["equivalence_margin_pp"]
    assert comparison.margin == margin and comparison.equivalence is not None
    # the table prints the numbers; the verdicts (and their vocabulary) are the summary's alone
    assert VOCABULARY not in result.markdown and "| in summary.md |" in result.markdown


def test_a_comparable_claim_without_margin_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    import pokernet.paper

    paper = json.loads(json.dumps(load_paper()))
    claim = next(c for c in paper["claims"] if c["id"] == "accuracy_100")
    del claim["equivalence_margin_pp"]
    monkeypatch.setattr(pokernet.paper, "load_paper", lambda: paper)
    complexity = write_complexity(tmp_path / "c.json")
    run = write_run(tmp_path, "pokernet_100", {}, 0, 60.0, dataset="cifar10")
    out = tmp_path / "t2.md"
    assert main(["report", "table2", "--complexity", str(complexity), "--runs", str(run), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "accuracy_100" in err and "equivalence_margin_pp" in err
    assert not out.exists()


def _mark(path: Path, **fields) -> Path:
    metrics = json.loads(path.read_text())
    metrics["model_options"] = {"num_classes": 10}  # some baselines take no drop_rate
    path.write_text(json.dumps({**metrics, **fields}))
    return path


def _history(first_loss: float, top1: float) -> list[dict]:
    """Two epochs ending at the run's top1/top5 (write_run's top5 90.0), as runcheck requires."""
    return [
        {"epoch": 1, "train_loss": first_loss, "val_loss": 2.5, "val_top1": 12.0, "val_top5": 50.0},
        {"epoch": 2, "train_loss": 2.3, "val_loss": 2.13, "val_top1": top1, "val_top5": 90.0},
    ]


def test_a_diverged_run_is_shown_with_its_reason_and_never_scored(tmp_path):
    from pokernet.report.figures import fig6

    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    common = dict(dataset="fashion_mnist", resolution=40, epochs=2)
    paths = [
        write_run(tmp_path, "pokernet_050", {}, 0, 74.0, **common),
        _mark(write_run(tmp_path, "shufflenetv1_050_g8", {}, 0, 19.33, **common), history=_history(21.12, 19.33)),
        _mark(write_run(tmp_path, "mobilenetv2_035", {}, 0, 59.3, **common), diverged="marked by its writer"),
        _mark(write_run(tmp_path, "shufflenetv2_050", {}, 0, 72.5, **common), history=_history(2.1, 72.5)),
    ]
    runs = load_runs(paths)
    result = table2(complexity, runs)
    beaten = {c.behind.label for c in result.comparisons}
    assert beaten == {"ShuffleNetV2 0.5×"}  # trained: its history has no blow-up
    assert "PokerNet 0.5× beats ShuffleNetV1 0.5× (g=8) (ShuffleNetV1 0.5× (g=8) diverged)" in result.untestable
    section = result.markdown[result.markdown.index("## Diverged runs") :]
    assert "epoch-1 train loss 21.12 > 3 x ln(10)" in section and "marked by its writer" in section
    row = next(line for line in result.markdown.splitlines() if line.startswith("| ShuffleNetV1 0.5×"))
    assert "diverged (seed 0)" in row and "19.33" not in row
    assert {r.source for r in result.used} == {paths[0], paths[3]}
    import matplotlib.pyplot as plt

    from pokernet.report.figures import _our_points, diverged_line
    from pokernet.report.tables import RunSet

    runset = RunSet.select(runs, [r.key for r in runs])
    points, _ = _our_points(plt.figure().gca(), complexity, runset, beside_paper=False)
    assert sorted(label.split(" n=")[0] for *_, label, _err in points) == ["PokerNet 0.5×", "ShuffleNetV2 0.5×"]
    assert diverged_line(runset) == "left out (diverged): MobileNetV2 0.35×, ShuffleNetV1 0.5× (g=8)"
    plt.close("all")
    fig6(complexity, runs, tmp_path / "fig6.png")


@pytest.mark.parametrize("bad", [True, "", 3])
def test_a_run_marked_diverged_in_a_forbidden_form_is_one_line_exit_2(tmp_path, capsys, bad):
    run = _mark(write_run(tmp_path, "pokernet_050", {}, 0, 74.0), diverged=bad)
    out = tmp_path / "t2.md"
    assert (
        main(
            [
                "report",
                "table2",
                "--complexity",
                str(write_complexity(tmp_path / "c.json")),
                "--runs",
                str(run),
                "--out",
                str(out),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "diverged must be null" in err and str(run) in err
    assert not out.exists()


def test_stages_are_table1s():
    """At 224 the stages' measured input sizes are Table 1's Size column: 112, 56, 28, 14, 7 (the paper's
    stage 4 is blocks 7-12, stage 5 blocks 13-16, the hard-swish ones)."""
    from pokernet.report.feature_maps import pokernet_stages

    stages = pokernet_stages(224)
    assert [(s.first, s.last, s.size[0]) for s in stages] == [
        (1, 2, 112),
        (3, 4, 56),
        (5, 6, 28),
        (7, 12, 14),
        (13, 16, 7),
    ]
    assert stages[-1].kinds == "PPPP" and stages[3].kinds == "PGGPPP"


def test_the_same_claim_prints_the_same_numbers_in_table_and_summary(tmp_path):
    from pokernet.report.summary import render_summary

    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    paths = []
    for seed, noise in enumerate(SEED_NOISE):
        paths += [
            write_run(tmp_path, "pokernet_050", {}, seed, 66.8 + noise + 0.2 * seed, dataset="cifar10"),
            write_run(tmp_path, "ghostnet_050", {}, seed, 66.2 + noise, dataset="cifar10"),
        ]
    ablation = ablation_runs(
        tmp_path / "ablation", "table4", "se", {("pokernet_100", False): 2.0}, seeds=(0, 1, 2), dataset="cifar10"
    )
    paths += [p for p in ablation if "pokernet_050-se=True" not in str(p)]  # trained above already
    runs = load_runs(paths)
    summary = render_summary(complexity, runs, None)
    tables = {"table2": table2(complexity, runs), "table4": table4(complexity, runs)}
    checked = 0
    for result in tables.values():
        for c in result.comparisons:
            table_line = next(line for line in result.markdown.splitlines() if line.startswith(f"| {c.claim} "))
            cells = [cell.strip() for cell in table_line.strip("|").split("|")]
            # the table's n, mean, interval and p are the numbers the summary's sentence prints
            start = f"  - {c.claim}: n={cells[1]}, Δ {cells[2]} pp (ours)"
            line = next(line for line in summary.splitlines() if line.startswith(start))
            following = summary[summary.index(line) :].split("\n  - ")[0]
            assert cells[3] == "—" or f"95% CI {cells[3]}, p {cells[4]}" in " ".join(following.split())
            assert cells[6] == "in summary.md" or f"→ order {cells[6]}" in following
            checked += 1
    assert checked >= 3


def test_the_literal_claim_names_where_the_papers_own_table_contradicts_it(tmp_path):
    from pokernet.report.summary import render_summary

    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    text = render_summary(complexity, [], None)
    section = text[text.index("(`accuracy_literal`)\n") :]
    section = section[: section.index("\n### ")]
    assert "the paper's own Table 2 contradicts this claim: PokerNet 1.0× 73.6 ≤ GhostNet 1.0× 73.9" in section
    assert "**Status:** ✗ on the paper's own Table 2; " in section


def test_runs_of_different_settings_are_not_compared(tmp_path):
    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    runs = load_runs(
        [
            write_run(tmp_path, "pokernet_050", {}, 0, 60.0),
            write_run(tmp_path, "pokernet_050", {"se": False}, 0, 60.0, dataset="cifar10"),
        ]
    )
    with pytest.raises(ValueError, match="must share dataset"):
        table4(complexity, runs)


def test_a_missing_complexity_entry_is_named(tmp_path):
    path = tmp_path / "c.json"
    write_complexity(path)
    entries = [e for e in json.loads(path.read_text()) if e["options"] != {"se": False}]
    path.write_text(json.dumps(entries))
    with pytest.raises(ValueError, match=r"pokernet_050 \(se=False\) at resolution 224 in .*c\.json"):
        table4(load_complexity([path]), [])


def test_table3_ratio_verdicts_both_ways_and_the_faster_line(tmp_path):
    from pokernet.report.inputs import load_latency

    rows = {r["model"]: r["latency_ms"] for r in table("table3")["rows"]}
    paper_ratio = rows["pokernet_050"] / rows["ghostnet_050"]
    result = table3(load_latency(write_latency(tmp_path / "lat.json", paper_ratio + 0.01, 1.10)))
    verdicts = {s.model: (s.ratio_ok, s.faster) for s in result.speed}
    assert verdicts == {"pokernet_050": (True, True), "pokernet_100": (False, False)}
    assert "PokerNet faster than GhostNet here: **yes, in every stable setting**" in result.markdown
    assert "PokerNet faster than GhostNet here: **in 0 of 1 stable settings**" in result.markdown
    assert "[0.897–0.915]" in result.markdown and "Test CPU" in result.markdown


@pytest.mark.parametrize(
    "spread, invocations, counted, faster, verdict",
    [
        (0.05, 5, False, None, "— (unstable)"),  # ±5% > ±3%: left out of the count
        (0.01, 1, False, None, "— (1 invocation, not counted)"),
        (0.02, 5, True, None, "tie (its spread spans 1)"),  # 0.99 ± 2% spans 1
    ],
)
def test_table3_counts_only_stable_settings_outside_their_noise(
    tmp_path, spread, invocations, counted, faster, verdict
):
    from pokernet.report.inputs import load_latency

    result = table3(load_latency(write_latency(tmp_path / "lat.json", 0.99, 0.99, spread, invocations)))
    check = next(s for s in result.speed if s.model == "pokernet_050")
    assert (check.counted, check.faster, check.verdict()) == (counted, faster, verdict)
    assert verdict in result.markdown
    if not counted and invocations > 1:
        assert "(invocations on both sides of 1)" in result.markdown  # said, though not counted
    if not counted:
        assert check.ratio_ok is None and "no stable setting" in result.markdown


def test_table3_reads_each_setting_once_and_no_best_row(tmp_path):
    from pokernet.report.inputs import load_latency

    path = write_latency(tmp_path / "lat.json", 1.10, 1.10)
    data = json.loads(path.read_text())  # a report of an earlier version, with a "best" pseudo-runtime
    data["ratios"].append(
        {
            "model": "pokernet_100",
            "reference": "ghostnet_100",
            "runtime": "best",
            "threads": 1,
            "ratio": 0.95,
            "model_runtime": "onnxruntime",
            "reference_runtime": "eager",
        }
    )
    path.write_text(json.dumps(data))
    result = table3(load_latency(path))
    assert [(s.model, s.runtime) for s in result.speed] == [("pokernet_050", "eager"), ("pokernet_100", "eager")]
    assert "best" not in result.markdown


def test_table3_ratio_is_unresolved_when_its_spread_straddles_the_tolerance(tmp_path):
    from pokernet.report.inputs import load_latency

    rows = {r["model"]: r["latency_ms"] for r in table("table3")["rows"]}
    paper_ratio = rows["pokernet_050"] / rows["ghostnet_050"]
    # median 4% above the paper (outside its 3%), the spread (±2.5%) reaching into the band
    result = table3(load_latency(write_latency(tmp_path / "lat.json", paper_ratio * 1.04, 1.2, spread=0.025)))
    assert {s.model: s.ratio_ok for s in result.speed} == {"pokernet_050": None, "pokernet_100": False}


def test_an_imagenet_subset_is_a_proxy(tmp_path):
    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    path = write_run(tmp_path, "pokernet_050", {}, 0, 66.8)
    path.write_text(json.dumps({**json.loads(path.read_text()), "subset_per_class": 50}))
    result = table4(complexity, load_runs([path]))
    assert all(r["top1"]["ok"] is None for r in result.rows)
    assert "not comparable in absolute value" in result.markdown


def test_a_declared_imagenet_subset_gets_no_verdict_and_says_so(tmp_path):
    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    path = write_run(tmp_path, "pokernet_050", {}, 0, 66.8)
    subset = "ImageNet subset: 10 classes, 500 images"
    path.write_text(json.dumps({**json.loads(path.read_text()), "imagenet_subset": subset}))
    result = table4(complexity, load_runs([path]))
    assert all(r["top1"]["ok"] is None for r in result.rows)
    assert "accuracy measured on: ImageNet subset: 10 classes, 500 images at 224×224" in result.markdown
    assert "the declared ImageNet subset's val/" in result.markdown and "whole official" not in result.markdown


# --- figures -------------------------------------------------------------------------


def test_fig5_counted_modules_equal_eqs_1_2_and_eq3_is_their_reciprocal():
    from timm.models.ghostnet import GhostModule

    from pokernet.complexity.claims import eq3_as_printed
    from pokernet.complexity.claims import ghost_module_cost as ghost_cost
    from pokernet.complexity.claims import poker_module_cost as poker_cost
    from pokernet.complexity.counting import count_madds
    from pokernet.models.layers import PokerModule
    from pokernet.report.figures import (
        FEATURE_SIZE,
        ghost_to_poker_ratio,
        measured_points,
    )

    points = measured_points()
    assert len(points) >= 25
    for m, k, ratio in points:
        assert ratio == pytest.approx(ghost_to_poker_ratio(m, k), rel=1e-12)
        assert eq3_as_printed(m, k) == pytest.approx(1 / ratio, rel=1e-12)
    m, k = 32, 3
    assert count_madds(GhostModule(m, k * m), FEATURE_SIZE, m) == ghost_cost(m, k, h=FEATURE_SIZE, w=FEATURE_SIZE)
    assert count_madds(PokerModule(m, k * m, use_se=False), FEATURE_SIZE, m) == poker_cost(
        m, k, h=FEATURE_SIZE, w=FEATURE_SIZE
    )


def test_fig6_keeps_markers_apart_and_labels_inside_their_panel(tmp_path):
    """Every Table 2 model on the proxy, PokerNet and GhostNet 0.5× at nearly the same Top-1 (as the
    default profile's runs): no two markers of one axes within 10 px, no label over another (across
    panels too), every label inside its own axes."""
    import itertools

    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from pokernet.report.figures import fig6_figure

    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    common = dict(dataset="fashion_mnist", resolution=40, epochs=2)
    rows = table("table2")["rows"]
    top1 = {"pokernet_050": 74.5, "ghostnet_050": 75.2, "pokernet_100": 76.07, "ghostnet_100": 76.03}
    paths = [
        write_run(tmp_path, r["model"], {}, 0, top1.get(r["model"], 60.0 + i), **common) for i, r in enumerate(rows)
    ]
    for path in paths:  # the baselines take no drop_rate option
        path.write_text(json.dumps({**json.loads(path.read_text()), "model_options": {"num_classes": 10}}))
    fig = fig6_figure(complexity, load_runs(paths))
    renderer = fig.canvas.get_renderer()
    boxes = []
    for ax in fig.get_axes():
        centres = [ax.transData.transform(xy) for c in ax.collections for xy in c.get_offsets()]
        centres += [
            ax.transData.transform(line.get_xydata()[0])
            for line in ax.lines
            if line.get_marker() not in ("None", "", "_")
        ]
        assert all(math.hypot(*(a - b)) >= 10 for a, b in itertools.combinations(centres, 2))
        frame = ax.get_window_extent()
        for text in ax.texts:
            text.update_positions(renderer)
            box = Text.get_window_extent(text, renderer)
            assert frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1), (
                text.get_text(),
                frame.bounds,
                box.bounds,
            )
            boxes.append(box)
    plt.close(fig)
    assert len(boxes) == 2 * len(rows)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))


def test_fig6_labels_of_coinciding_points_do_not_overlap():
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from pokernet.report.figures import _place_labels

    fig, ax = plt.subplots()
    ax.scatter([40, 40.5, 42, 120], [81.5, 81.4, 81.5, 82.0])
    ax.set_xlim(0, 160)
    fig.canvas.draw()
    _place_labels(
        ax,
        [
            (40, 81.5, "PokerNet 0.5× n=5", 0.3),
            (40.5, 81.4, "GhostNet 0.5× n=5", 0.3),
            (42, 81.5, "ShuffleNetV2 0.5× n=1", 0.0),
            (120, 82.0, "PokerNet 1.0× n=5", 0.2),
        ],
    )
    renderer = fig.canvas.get_renderer()
    for text in ax.texts:
        text.update_positions(renderer)
    boxes = [Text.get_window_extent(text, renderer) for text in ax.texts]
    plt.close(fig)
    assert len(boxes) == 4
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


# --- CLI -----------------------------------------------------------------------------


@pytest.fixture
def inputs(tmp_path):
    complexity = write_complexity(tmp_path / "complexity.json")
    runs = (
        ablation_runs(
            tmp_path / "runs", "table4", "se", {}, seeds=range(5), dataset="fashion_mnist", resolution=32, epochs=3
        )
        + ablation_runs(
            tmp_path / "runs5", "table5", "act", {}, seeds=range(5), dataset="fashion_mnist", resolution=32, epochs=3
        )[:2]
        + [
            write_run(tmp_path / "runs", "ghostnet_050", {}, s, 40.0, dataset="fashion_mnist", resolution=32, epochs=3)
            for s in range(5)
        ]
    )
    latency = write_latency(tmp_path / "latency.json", 0.9, 0.9)
    return {"complexity": str(complexity), "runs": [str(p) for p in runs], "latency": str(latency)}


def test_every_artifact_is_written(tmp_path, inputs, capsys):
    out = tmp_path / "results"
    cx, runs = ["--complexity", inputs["complexity"]], ["--runs", *inputs["runs"]]
    for name in ("table2", "table4", "table5"):
        assert main(["report", name, *cx, *runs, "--out", str(out / f"{name}.md")]) == 0
    assert main(["report", "table3", "--latency", inputs["latency"], "--out", str(out / "table3.md")]) == 0
    assert main(["report", "fig5", "--out", str(out / "fig5.png")]) == 0
    assert main(["report", "fig6", *cx, *runs, "--out", str(out / "fig6.png")]) == 0
    tables = [str(out / f"table{i}.md") for i in (2, 3, 4, 5)] + [str(out / "fig5.png"), str(out / "fig6.png")]
    assert (
        main(
            [
                "report",
                "summary",
                *cx,
                "--rows",
                *[str(out / f"table{i}.json") for i in (2, 4, 5)],
                "--latency",
                inputs["latency"],
                "--tables",
                *tables,
                "--out",
                str(out / "summary.md"),
            ]
        )
        == 0
    )
    for name in ("table2", "table4", "table5", "summary"):
        assert (out / f"{name}.csv").read_text().count("\n") >= 2  # the numbers beside the markdown
    for name in ("table2.md", "table3.md", "table4.md", "table5.md", "summary.md"):
        text = (out / name).read_text()
        lines = text.splitlines()
        long = [
            line
            for i, line in enumerate(lines)
            if len(line.encode()) > 160  # awk's length: bytes
            and not (line.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"))
        ]
        assert long == [], f"{name}: lines over 160 bytes that are not a table's header row"
        assert "- git commit:" in text and "- date:" in text and "- versions:" in text and "- hardware:" in text
    for name in ("fig5.png", "fig6.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "fig6.svg").read_text().lstrip().startswith("<?xml")
    assert not list(out.glob(".*.tmp")) and not list(out.glob(".fig*"))
    summary = (out / "summary.md").read_text()
    for claim in load_paper()["claims"]:
        assert f"| `{claim['id']}` |" in summary and f"(`{claim['id']}`)\n\n**Status:** " in summary
    assert "[table4.md](table4.md)" in summary
    assert "fashion_mnist" in (out / "table4.md").read_text()


def test_summary_statuses(tmp_path, inputs):
    from pokernet.report.inputs import load_latency
    from pokernet.report.summary import render_summary

    text = render_summary(load_complexity([inputs["complexity"]]), load_runs(inputs["runs"]), None)
    status = {
        line.split("|")[2].strip(" `"): line.split("|")[3].strip()
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| claim ")
    }
    assert status["latency"] == "— not testable here"
    assert status["madds_reduction_050"] == "✓ holds"  # the paper's own counts
    assert status["module_cost_ratio"] == "partly"  # exact Eqs. 1-2, but not every Table 1 module in 1.5-3x
    assert status["se_gain"] == "✓ holds on the proxy"  # the paper's gaps, the same on every seed
    # only GhostNet-0.5× trained: one of five parts tested
    assert status["accuracy_050"] == "open on the proxy (1 ✓, 4 untestable of 5)"

    def latency_status(ratio):
        latency = load_latency(write_latency(tmp_path / f"latency-{ratio}.json", ratio, ratio))
        text = render_summary(load_complexity([inputs["complexity"]]), [], latency)
        return next(line.split("|")[3].strip() for line in text.splitlines() if "| `latency` |" in line)

    assert latency_status(0.9) == "✓ holds"  # the paper's ratio at both widths
    assert latency_status(1.1) == "✗ does not hold"  # PokerNet slower at both widths


@pytest.mark.parametrize(
    "case", ["missing_complexity", "bad_json", "run_missing_key", "unknown_model", "missing_latency", "missing_rows"]
)
def test_bad_input_exits_2_names_the_file_and_writes_nothing(tmp_path, inputs, capsys, case):
    broken = tmp_path / "broken.json"
    cx, runs = ["--complexity", inputs["complexity"]], ["--runs", *inputs["runs"]]
    if case == "missing_complexity":
        argv = ["table4", "--complexity", str(broken), *runs]
    elif case == "bad_json":
        broken.write_text("{not json")
        argv = ["table2", "--complexity", str(broken)]
    elif case == "run_missing_key":
        data = json.loads(Path(inputs["runs"][0]).read_text())
        del data["top1"]
        broken.write_text(json.dumps(data))
        argv = ["table5", *cx, "--runs", str(broken)]
    elif case == "unknown_model":
        data = json.loads(Path(inputs["runs"][0]).read_text())
        broken.write_text(json.dumps({**data, "model": "resnet50"}))
        argv = ["fig6", *cx, "--runs", str(broken)]
    elif case == "missing_latency":
        argv = ["table3", "--latency", str(broken)]
    else:
        argv = ["summary", *cx, "--rows", str(broken), str(broken), str(broken)]
    out = tmp_path / "results" / ("fig6.png" if argv[0] == "fig6" else "out.md")
    assert main(["report", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(broken) in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not out.with_suffix(".svg").exists()
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


def test_the_installed_command_exits_2_on_bad_input(tmp_path):
    missing = tmp_path / "nope.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pokernet",
            "report",
            "table3",
            "--latency",
            str(missing),
            "--out",
            str(tmp_path / "t3.md"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert str(missing) in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "t3.md").exists()


def test_wrap_markdown_keeps_tables_and_indents_continuations():
    from pokernet.markdown import wrap_markdown

    table = "| " + " | ".join(["cell"] * 60) + " |"
    text = "\n".join([table, "- " + "word " * 60, "> " + "quote " * 40, "12. " + "item " * 50, "# " + "h " * 90])
    wrapped = wrap_markdown(text, 80).splitlines()
    assert wrapped[0] == table and wrapped[-1] == "# " + "h " * 90
    assert all(len(line) <= 80 for line in wrapped[1:-1])
    assert wrapped[2].startswith("  word") and any(line.startswith("> quote") for line in wrapped[3:])
    assert any(line.startswith("    item") for line in wrapped)
    words = [w for w in " ".join(wrapped[1:-1]).split() if w != ">"]  # a quote's continuation keeps its ">"
    assert words == [w for w in " ".join(text.splitlines()[1:-1]).split() if w != ">"]


def test_comparable_or_higher_follows_its_rule():
    from pokernet.report.stats import Arm, compare
    from pokernet.report.summary import comparable_or_higher

    def case(differences, margin=0.5):
        ahead = Arm("P", {s: 70 + d for s, d in enumerate(differences)})
        return compare("P vs G", ahead, Arm("G", dict.fromkeys(range(len(differences)), 70.0)), margin=margin)

    assert comparable_or_higher([case([1.0, 1.2, 1.1, 1.0, 1.1])], True) == "✓ holds on the proxy (ahead)"
    # equivalent but the order open: no ✓ (issue 29: never a ✓ beside an open order)
    assert comparable_or_higher([case([0.05, -0.05, 0.0, 0.02, -0.01])], True) == "equivalent on the proxy (order open)"
    assert comparable_or_higher([case([-1.0, -1.2, -1.1, -1.0, -1.1])], True).startswith("✗ does not hold on the proxy")
    assert comparable_or_higher([case([0.9, -0.9, 0.1, 0.5, -0.5])], True).startswith(NOT_RESOLVED)
    assert comparable_or_higher([case([0.9, -0.9, 0.1])], True) == "descriptive on the proxy, n = 3 (no verdict)"
    assert comparable_or_higher([case([1.0, 1.2, 1.1])], False) == "✗ does not hold (more MAdds)"


def test_the_summary_reads_the_tables_rows_so_both_give_one_answer(tmp_path, inputs):
    """summary.csv's comparisons are table2/4.json's, and an edit of a table's JSON reaches the summary."""
    import pandas as pd

    out = tmp_path / "results"
    cx = ["--complexity", inputs["complexity"]]
    for name in ("table2", "table4", "table5"):
        assert main(["report", name, *cx, "--runs", *inputs["runs"], "--out", str(out / f"{name}.md")]) == 0
    rows = [str(out / f"table{i}.json") for i in (2, 4, 5)]

    def summary_csv() -> pd.DataFrame:
        assert main(["report", "summary", *cx, "--rows", *rows, "--out", str(out / "summary.md")]) == 0
        return pd.read_csv(out / "summary.csv")

    table4 = json.loads((out / "table4.json").read_text())
    frame = summary_csv().dropna(subset=["comparison"]).set_index("comparison")
    assert table4["comparisons"], "the fixture's Table 4 has comparisons"
    for record in table4["comparisons"]:
        differences = record["differences"]
        assert frame.loc[record["claim"], "n"] == len(differences)
        assert frame.loc[record["claim"], "mean_difference"] == pytest.approx(sum(differences) / len(differences))
    record = table4["comparisons"][0]
    record["differences"] = [d + 1.0 for d in record["differences"]]
    (out / "table4.json").write_text(json.dumps(table4))
    moved = summary_csv().dropna(subset=["comparison"]).set_index("comparison")
    assert moved.loc[record["claim"], "mean_difference"] == pytest.approx(
        frame.loc[record["claim"], "mean_difference"] + 1.0
    )


def test_the_readme_opens_with_the_verdict_of_summary_csv(tmp_path, capsys):
    """README's top block is summary.csv's verdict (issue 26): `pokernet report readme-verdict` writes it."""
    import pandas as pd

    from pokernet.report.summary import README_END, README_START, readme_lines

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = readme.split(README_START, 1)[1].split(README_END, 1)[0].strip("\n").splitlines()
    assert block == readme_lines(pd.read_csv(root / "results" / "summary.csv")), "run `pokernet report readme-verdict`"
    assert 0 < len(block) <= 8 and readme.splitlines().index(README_END) < 20  # `head -20 README.md` shows it
    copy = tmp_path / "README.md"
    copy.write_text("# x\n\n" + README_START + "\nold\n" + README_END + "\n\nrest\n", encoding="utf-8")
    summary = str(root / "results" / "summary.csv")
    assert main(["report", "readme-verdict", "--summary", summary, "--readme", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8").splitlines()[3:-3] == block
    copy.write_text("# no block\n", encoding="utf-8")
    assert main(["report", "readme-verdict", "--summary", summary, "--readme", str(copy)]) == 2
    assert "no verdict block" in capsys.readouterr().err and copy.read_text(encoding="utf-8") == "# no block\n"


def test_the_calibration_and_verdict_figures_are_written_and_a_rerender_changes_no_byte(tmp_path, capsys):
    root = Path(__file__).resolve().parents[1] / "results"
    digests = []
    for attempt in ("a", "b"):
        out = tmp_path / attempt
        assert main(["report", "calibration", "--rows", str(root / "table2.json"), "--out", str(out / "cal.png")]) == 0
        assert main(["report", "verdicts", "--summary", str(root / "summary.csv"), "--out", str(out / "v.png")]) == 0
        digests.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert sorted(digests[0]) == ["cal.png", "cal.svg", "v.png", "v.svg"] and digests[0] == digests[1]
    assert digests[0]["v.png"][:8] == b"\x89PNG\r\n\x1a\n"
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["report", "verdicts", "--summary", str(bad), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.csv" in err and not (tmp_path / "x.png").exists()


def test_runs_with_a_known_caveat_say_so_and_get_no_verdict(tmp_path):
    """run_caveats.yaml: the CIFAR-10 runs of 17d8ce9-dirty share data orders; their tables say it, no verdict."""
    complexity = load_complexity([write_complexity(tmp_path / "c.json")])
    paths = ablation_runs(tmp_path, "table4", "se", {("pokernet_100", False): -2.0}, seeds=range(5), dataset="cifar10")
    for path in paths:
        record = json.loads(path.read_text())
        path.write_text(json.dumps({**record, "git_commit": "17d8ce9-dirty"}))
    result = table4(complexity, load_runs(paths))
    assert "share" in result.markdown and "17d8ce9-dirty" in result.markdown
    assert all(c.verdict == "descriptive, n = 5 (seeds share data orders)" for c in result.comparisons)
    assert any("17d8ce9-dirty" in confound for confound in result.confounds)
