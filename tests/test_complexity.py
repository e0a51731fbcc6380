"""Params/MAdds against Table 2 and the adopted definition's targets (Table 4)."""

import json

import pytest

from pokernet import create_model
from pokernet.complexity.counting import bias_madds, count_madds, count_madds_flop_counter, count_params
from pokernet.models import PokerNet
from pokernet.paper import row_setting, table, within_tolerance

TABLE2 = table("table2")


@pytest.mark.parametrize("row", TABLE2["rows"], ids=lambda r: r["model"])
def test_table2_params_and_madds(row):
    model = create_model(row["model"])
    ours = {"params": count_params(model) / 1e6, "madds": count_madds(model) / 1e6}
    known = set(row.get("known_deviation", {}))
    for column in ("params", "madds"):
        ok = within_tolerance(
            ours[column],
            row[column],
            row_setting(row, TABLE2, "tolerance", column),
            row_setting(row, TABLE2, "precision", column),
        )
        # A recorded deviation must really be one; everything else must match.
        assert ok == (column not in known), (row["model"], column, ours[column], row[column])


@pytest.mark.parametrize("name", [r["model"] for r in TABLE2["rows"]])
def test_two_independent_counters_agree(name):
    model = create_model(name)
    # ptflops counts bias adds; torch.utils.flop_counter does not. Otherwise equal, exactly.
    assert count_madds(model) == count_madds_flop_counter(model) + bias_madds(model)


def test_adopted_definition_reproduces_table4():
    rows = table("table4")
    for row in rows["rows"]:
        width = 0.5 if row["model"] == "pokernet_050" else 1.0
        model = PokerNet(width, se=row["se"])
        ours = {"params": count_params(model) / 1e6, "madds": count_madds(model) / 1e6}
        for column in ("params", "madds"):
            # Everything matches except the 0.5x Params, which no reading reproduces (models.rst,
            # architecture audit): a change that fixes or breaks either must show up here.
            expected_match = width == 1.0 or column == "madds"
            ok = within_tolerance(
                ours[column],
                row[column],
                row_setting(row, rows, "tolerance", column),
                row_setting(row, rows, "precision", column),
            )
            assert ok == expected_match, (row, column, ours[column])


def test_madds_follow_resolution():
    model = create_model("ghostnet_100")
    # convs scale with the number of output pixels (x4); SE, head and classifier do not.
    assert 3.0 < count_madds(model, 224) / count_madds(model, 112) < 4.0


def test_complexity_cli_json(capsys):
    from pokernet.cli import main

    assert main(["complexity", "pokernet_050", "ghostnet_050", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in rows] == ["pokernet_050", "ghostnet_050"]
    assert all(isinstance(r["params"], int) and isinstance(r["madds"], int) for r in rows)
    assert main(["complexity", "pokernet_100", "--width", "0.5", "--no-se", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["options"] == {"width": 0.5, "se": False}
    assert row["params"] == count_params(PokerNet(0.5, se=False))
