"""Recipes: the paper's values (§4.1, §4.2), the proxies' declared changes, validation, resolution."""

from __future__ import annotations

import pytest
import torch

from pokernet.train.core import lr_at, lr_scheduler
from pokernet.train.recipe import (
    DEFAULT_RECIPES,
    METADATA_KEYS,
    config_hash,
    load_recipe,
    packaged_recipes,
    resolve_recipe,
)


def test_imagenet_recipe_is_the_paper():
    recipe = load_recipe("imagenet")
    assert recipe["derives_from"] is None and recipe["changes"] == []
    assert recipe["optimizer"] == {"name": "sgd", "momentum": 0.9, "nesterov": False, "grad_clip_norm": None}
    assert recipe["batch_size"] == 1024
    assert recipe["lr"] == {"base": 0.5, "reference_batch": 1024}
    assert recipe["epochs"] == 300
    assert recipe["lr_schedule"]["milestones"] == [160, 240, 260, 280]
    assert recipe["label_smoothing"] == 0.1 and recipe["dropout"] == 0.2
    assert recipe["weight_decay"]["per_model"] == {"pokernet_050": 1e-5, "pokernet_100": 4e-5}
    data = recipe["data"]
    assert (data["resize"], data["resolution"], data["pad"], data["hflip"]) == (256, 224, 0, True)
    assert all(value > 0 for value in data["color_jitter"].values())
    assert data["std"] == [1.0, 1.0, 1.0]  # mean subtraction only


def _leaves(tree: dict, prefix: str = "") -> dict[str, object]:
    leaves = {}
    for key, value in tree.items():
        if isinstance(value, dict) and key != "per_model":
            leaves.update(_leaves(value, f"{prefix}{key}."))
        else:
            leaves[prefix + key] = value
    return leaves


@pytest.mark.parametrize("name", [n for n in packaged_recipes() if n != "imagenet"])
def test_proxy_recipes_derive_from_the_paper_and_list_every_change(name):
    recipe, parent = load_recipe(name), load_recipe("imagenet")
    assert recipe["derives_from"] == "imagenet" and recipe["name"] == name
    ours, theirs = _leaves(recipe), _leaves(parent)
    changed = [key for key in ours if key.split(".")[0] not in METADATA_KEYS and ours[key] != theirs.get(key)]
    assert changed, "a proxy that changes nothing is the parent"
    listed = " ".join(recipe["changes"])
    for key in changed:
        assert f"{key}:" in listed, f"{name} changes {key} but does not say so in changes:"


def test_every_dataset_has_a_default_recipe():
    assert set(DEFAULT_RECIPES) == {"imagenet", "cifar10", "fashion_mnist"}
    for recipe in DEFAULT_RECIPES.values():
        assert recipe in packaged_recipes()


def test_lr_scales_linearly_with_the_global_batch_and_milestones_with_epochs():
    imagenet = resolve_recipe(load_recipe("imagenet"), "pokernet_100")
    assert imagenet["resolved"]["lr"] == 0.5
    assert imagenet["resolved"]["lr_milestones_epochs"] == [160, 240, 260, 280]
    proxy = resolve_recipe(load_recipe("proxy_fashion_mnist"), "pokernet_100", epochs=30)
    assert proxy["resolved"]["lr"] == pytest.approx(0.5 * proxy["batch_size"] / 1024)
    assert proxy["epochs"] == 30
    assert proxy["resolved"]["lr_milestones_epochs"] == [16, 24, 26, 28]


def test_weight_decay_is_per_model_data():
    recipe = load_recipe("imagenet")
    assert resolve_recipe(recipe, "pokernet_050")["resolved"]["weight_decay"] == 1e-5
    assert resolve_recipe(recipe, "pokernet_100")["resolved"]["weight_decay"] == 4e-5
    assert resolve_recipe(recipe, "ghostnet_100")["resolved"]["weight_decay"] == recipe["weight_decay"]["default"]


def _write(tmp_path, text: str):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        ("derives_from: imagenet\nepochs: -3\n", "epochs must be a whole number >= 1"),
        ("derives_from: imagenet\nepochs: 2.5\n", "epochs must be a whole number"),
        ("derives_from: imagenet\ndata: {colour_jitter: 0.1}\n", "unknown key 'data.colour_jitter'"),
        ("derives_from: imagenet\nwarmup: 5\n", "unknown key 'warmup'"),
        ("derives_from: imagenet\nlabel_smoothing: 1.5\n", "label_smoothing must be in [0, 1)"),
        ("derives_from: imagenet\nweight_decay: {per_model: {pokernet_999: 1.0e-5}}\n", "unknown model 'pokernet_999'"),
        ("derives_from: imagenet\nlr_schedule: {milestones: [240, 160]}\n", "must be increasing"),
        ("derives_from: imagenet\ndata: {mean: [0.5, 0.5]}\n", "data.mean must be a list of 3 numbers"),
        ("name: alone\nepochs: 3\n", "missing key"),
        ("derives_from: no_such_recipe\n", "no_such_recipe"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("epochs: [1\n", "not valid YAML"),
    ],
)
def test_bad_recipes_are_clear_errors_naming_the_file_and_key(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises((ValueError, FileNotFoundError)) as error:
        load_recipe(path)
    assert message in str(error.value)
    assert "no_such_recipe" in message or str(path) in str(error.value)


def test_derives_from_cycle_is_an_error(tmp_path):
    (tmp_path / "a.yaml").write_text("derives_from: b.yaml\n")
    (tmp_path / "b.yaml").write_text("derives_from: a.yaml\n")
    with pytest.raises(ValueError, match="cycle"):
        load_recipe(tmp_path / "a.yaml")


def test_unknown_recipe_name_lists_the_packaged_ones():
    with pytest.raises(FileNotFoundError, match="imagenet"):
        load_recipe("imagenett")


def test_epochs_override_is_validated():
    with pytest.raises(ValueError, match="epochs"):
        resolve_recipe(load_recipe("imagenet"), "pokernet_050", epochs=0)


def test_config_hash_is_canonical():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def test_the_warm_up_rises_linearly_then_the_schedule_decays():
    recipe = resolve_recipe(load_recipe("proxy_fashion_mnist"), "pokernet_100", epochs=4)
    recipe["lr_schedule"]["warmup_epochs"] = 1
    steps, lr = 10, recipe["resolved"]["lr"]
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = lr_scheduler(optimizer, recipe, steps)
    seen = []
    for step in range(4 * steps):
        assert optimizer.param_groups[0]["lr"] == pytest.approx(lr_at(recipe, step, steps), rel=1e-12)
        seen.append(lr_at(recipe, step, steps))
        optimizer.step()
        scheduler.step()
    assert seen[:steps] == pytest.approx([lr * (step + 1) / steps for step in range(steps)])
    first_decay = round(recipe["resolved"]["lr_milestones_epochs"][0] * steps)
    assert seen[steps:first_decay] == pytest.approx([lr] * (first_decay - steps))
    assert seen[first_decay] == pytest.approx(lr * recipe["lr_schedule"]["gamma"])
    assert lr_at(resolve_recipe(load_recipe("imagenet"), "pokernet_100"), 0, steps) == 0.5  # no warm-up
