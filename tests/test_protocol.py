"""The frozen protocol (pokernet/protocol.py, workflow/protocol.yaml): its contract, the config it decides, the
record a confirming run keeps, the report's refusal of a run of another protocol, and the rules' arithmetic."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from pokernet import protocol
from pokernet.cli import main

ROOT = Path(__file__).resolve().parents[1]
CHOICE = {
    "epochs": 16,
    "seeds": [1000, 1001, 1002, 1003, 1004],
    "key_pair_seeds": [1000, 1001, 1002, 1003, 1004, 1005],
    "key_pair_models": ["pokernet_100", "ghostnet_100"],
    "per_epoch_seconds": {"pokernet_100": 10.0, "ghostnet_100": 8.0, "mobilenetv1_050": 3.0},
    "estimated_minutes": 30.0,
    "why": ["a test protocol"],
}


def _protocol_file(folder: Path, choice: dict | None = CHOICE, **rule_changes) -> Path:
    content = yaml.safe_load((ROOT / "workflow" / "protocol.yaml").read_text())
    content["rules"].update(rule_changes)
    content.pop("choice", None)
    if choice is not None:
        content["choice"] = choice
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "protocol.yaml"
    path.write_text(yaml.safe_dump(content))
    return path


def _run(folder: Path, made_under: Path | None, eval_split: str = "test") -> Path:
    run = folder / "pokernet_100" / "seed1000"
    run.mkdir(parents=True)
    metrics = {
        "model": "pokernet_100",
        "model_options": {"num_classes": 10},
        "top1": 80.0,
        "top5": 99.0,
        "epochs": 16,
        "seed": 1000,
        "dataset": "fashion_mnist",
        "resolution": 40,
        "config_hash": "abc",
        "eval_split": eval_split,
        "protocol": protocol.record(made_under) if made_under else None,
    }
    (run / "metrics.json").write_text(json.dumps(metrics))
    return run / "metrics.json"


def test_the_committed_protocol_meets_its_contract():
    rules = protocol.load_protocol(ROOT / "workflow" / "protocol.yaml")["rules"]
    assert rules["exploration"]["eval_split"] == "val"
    exploring, spent = set(rules["exploration"]["seeds"]), set(rules["seeds"]["used_before"])
    assert not exploring & spent and rules["seeds"]["confirming_start"] > max(exploring | spent)


@pytest.mark.parametrize(
    "change, message",
    [({"seeds": {"min_per_arm": 2}}, "seeds"), ({"exploration": {"eval_split": "test"}}, "exploration")],
)
def test_a_protocol_against_its_rules_is_refused(tmp_path, change, message):
    rules = yaml.safe_load((ROOT / "workflow" / "protocol.yaml").read_text())["rules"]
    for section, values in change.items():
        rules[section] = {**rules[section], **values}
    path = _protocol_file(tmp_path, **rules)
    with pytest.raises(ValueError, match=message):
        protocol.load_protocol(path)


def test_the_config_takes_epochs_and_seeds_from_the_protocol(tmp_path):
    path = _protocol_file(tmp_path)
    config = protocol.with_protocol({"protocol": str(path), "recipe": "proxy_fashion_mnist"})
    assert config["epochs"] == 16 and config["table2_paired_seeds"] == CHOICE["key_pair_seeds"]
    assert config["seeds"] == config["table2_seeds"] == CHOICE["seeds"] and config["protocol"] == str(path)
    own = protocol.with_protocol({"protocol": str(path), "epochs": 1})  # e.g. the smoke profile
    assert own["epochs"] == 1 and own["protocol"] is None and own["seeds"] == CHOICE["seeds"]


def test_a_run_of_another_protocol_or_an_edited_one_is_refused(tmp_path):
    path = _protocol_file(tmp_path)
    good = _run(tmp_path / "a", path)
    protocol.check_runs({str(good): json.loads(good.read_text())}, path)
    before = protocol.sha256(path)
    path.write_text(path.read_text() + "# edited\n")
    with pytest.raises(ValueError) as error:
        protocol.check_runs({str(good): json.loads(good.read_text())}, path)
    assert before[:12] in str(error.value) and protocol.sha256(path)[:12] in str(error.value)
    none = _run(tmp_path / "b", None)
    with pytest.raises(ValueError, match="another protocol"):
        protocol.check_runs({str(none): json.loads(none.read_text())}, path)


def test_an_exploration_run_is_never_a_result(tmp_path):
    path = _protocol_file(tmp_path)
    explored = _run(tmp_path, path, eval_split="val")
    with pytest.raises(ValueError, match="validation holdout"):
        protocol.check_runs({str(explored): json.loads(explored.read_text())}, path)


def test_the_report_refuses_a_run_of_another_protocol_in_one_line(tmp_path, capsys):
    made_under = _protocol_file(tmp_path / "old")
    run = _run(tmp_path / "runs", made_under)
    current = _protocol_file(tmp_path, choice={**CHOICE, "epochs": 12})
    complexity = tmp_path / "complexity.json"
    complexity.write_text(
        json.dumps([{"model": "pokernet_100", "params": 1, "madds": 1, "resolution": 40, "options": {}}])
    )
    out = tmp_path / "table2.md"
    argv = ["report", "table2", "--complexity", str(complexity), "--runs", str(run), "--protocol", str(current)]
    assert main([*argv, "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and str(current) in error and protocol.sha256(made_under)[:12] in error
    assert not out.exists()


def test_a_confirming_run_needs_its_protocol_committed(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    path = _protocol_file(tmp_path)
    with pytest.raises(ValueError, match="not committed"):
        protocol.record(path)
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", "protocol.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "protocol"], check=True)
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert protocol.record(path)["commit"] == head
    assert head in protocol.header_line(path)


def test_the_rules_arithmetic():
    history = [{"epoch": e, "val_top1": v} for e, v in ((3, 70.0), (12, 80.0), (15, 80.4), (16, 80.6))]
    assert protocol.last_quarter_gain(history, 16, 0.25) == pytest.approx(0.6)
    assert protocol.last_quarter_gain(history[:1], 16, 0.25) is None
    sd, low, high = protocol.sd_interval([0.1, -0.2, 0.3, 0.0])
    assert sd == pytest.approx(0.2082, abs=1e-4) and low < sd < high
    # t(0.975, 4) = 2.776: 2.776 * 0.2 / sqrt(5) = 0.248 <= 0.25 at n = 5; at sd 0.4, n = 13 (2.179 * 0.4 / 3.606)
    assert protocol.seeds_for_half_width(0.2, 0.25, 5) == 5
    assert protocol.seeds_for_half_width(0.4, 0.25, 5) == 13
    budget = {"other_minutes": 10, "jobs_at_once": 2}
    # 16 epochs x (18 s x 6 key seeds + 3 s x 5 other seeds) / 2 jobs / 60 + 10
    assert protocol.wall_minutes(16, 6, 5, CHOICE, budget) == pytest.approx(16 * (18 * 6 + 3 * 5) / 120 + 10)


def _explored(gains: dict[int, float], sd_pairs: list[float]) -> dict:
    """Runs of the key pair: per length E a curve whose last quarter gains gains[E]; paired differences sd_pairs."""
    runs = {}
    for epochs, gain in gains.items():
        for seed, difference in zip(range(100, 100 + len(sd_pairs)), sd_pairs):
            for model, shift in (("pokernet_100", difference), ("ghostnet_100", 0.0)):
                start = round(0.75 * epochs)
                history = [{"epoch": start, "val_top1": 80.0}, {"epoch": epochs, "val_top1": 80.0 + gain + shift}]
                runs[model, epochs, seed] = {"history": history, "top1": 80.0 + gain + shift}
    return runs


@pytest.mark.parametrize(
    "gains, chosen", [({12: 0.4, 16: 0.1}, 12), ({12: 1.2, 16: 0.3}, 16), ({12: 2.0, 16: 0.9}, 16)]
)
def test_the_length_is_the_smallest_candidate_whose_last_quarter_gains_below_the_threshold(tmp_path, gains, chosen):
    rules = protocol.load_protocol(_protocol_file(tmp_path))
    per_epoch = {k: CHOICE[k] for k in ("key_pair_models", "per_epoch_seconds")}
    pair = ("pokernet_100", "ghostnet_100")
    runs = _explored(gains, [0.1, -0.2, 0.3, 0.0])
    lengths = protocol.length_rows(rules, runs, pair, list(gains))
    choice = protocol.choose(rules, lengths, protocol.difference_rows(runs, pair, list(gains)), per_epoch)
    assert choice["epochs"] == chosen and choice["seeds"] == [1000, 1001, 1002, 1003, 1004]
    assert ("not converged" in choice["why"][0]) == (min(gains.values()) >= 0.5)
    # sd 0.208: n = 5 gives 2.776 x 0.208 / 2.236 = 0.259 > 0.25; n = 6 gives 2.571 x 0.208 / 2.449 = 0.219
    assert choice["key_pair_seeds"] == list(range(1000, 1006))


def test_the_budget_cuts_the_key_pairs_seeds_first(tmp_path):
    rules = protocol.load_protocol(_protocol_file(tmp_path))
    slow = {
        "key_pair_models": ["pokernet_100", "ghostnet_100"],
        "per_epoch_seconds": {"pokernet_100": 60, "ghostnet_100": 40},
    }
    pair = ("pokernet_100", "ghostnet_100")
    runs = _explored({16: 0.1}, [0.5, -0.5, 0.4, -0.4])  # sd ~0.52: 20 seeds wanted
    choice = protocol.choose(
        rules, protocol.length_rows(rules, runs, pair, [16]), protocol.difference_rows(runs, pair, [16]), slow
    )
    # 16 x 100 s x n / 2 / 60 + 11 <= 150 -> n <= 10
    assert len(choice["key_pair_seeds"]) == 10 and any("cut from" in line for line in choice["why"])


def test_a_length_trained_with_one_seed_borrows_sigma_from_the_length_that_has_one(tmp_path):
    rules = protocol.load_protocol(_protocol_file(tmp_path))
    per_epoch = {k: CHOICE[k] for k in ("key_pair_models", "per_epoch_seconds")}
    pair = ("pokernet_100", "ghostnet_100")
    runs = _explored({16: 0.3}, [0.1, -0.2, 0.3, 0.0])
    runs.update({key: run for key, run in _explored({12: 0.2}, [0.1]).items()})  # 12 epochs: seed 100 only
    lengths = protocol.length_rows(rules, runs, pair, [12, 16])
    choice = protocol.choose(rules, lengths, protocol.difference_rows(runs, pair, [12, 16]), per_epoch)
    assert choice["epochs"] == 12 and "no sigma at 12" in choice["why"][1] and len(choice["key_pair_seeds"]) == 6
