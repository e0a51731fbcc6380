"""The counted claims of the text (pokernet.complexity.claims, pokernet.report.claims_counted) and
the paper's own Table 2 checked against its literal accuracy sentence (pokernet.paper)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from pokernet import create_model
from pokernet.complexity import claims
from pokernet.complexity.claims import (
    CostShares,
    SelectionRow,
    WidthFit,
    fit_exponent,
    ghost_module_cost,
    macs_by_kind,
    poker_module_cost,
)
from pokernet.complexity.counting import count_madds_flop_counter
from pokernet.paper import load_paper, paper_order_conflicts
from pokernet.report.claims_counted import (
    ClaimCounts,
    load_claim_counts,
    pointwise_share,
    selection_criterion,
    width_exponent,
)
from pokernet.train.recipe import load_recipe

CLAIMS = {claim["id"]: claim for claim in load_paper()["claims"]}


# --- Eqs. 1-2 by hand ----------------------------------------------------------------------


def test_eq1_eq2_by_hand_block4_and_block7():
    # Block 4 of Table 1: m = 20, k = 120/20 = 6, d = 3 (per pixel).
    # Ghost: 20·(6·20/2) + 20·(6·9/2) = 1200 + 540 = 1740; Poker: 20·20 + 20·6·9 = 400 + 1080 = 1480.
    assert ghost_module_cost(20, 6) == 1740
    assert poker_module_cost(20, 6) == 1480
    # Block 7: m = 80, k = 2. Ghost: 80·80 + 80·9 = 7120; Poker: 80·80 + 80·2·9 = 7840.
    assert ghost_module_cost(80, 2) == 7120
    assert poker_module_cost(80, 2) == 7840
    assert ghost_module_cost(80, 2, h=14, w=14) == 7120 * 196


def test_selection_rows_contradict_table1_exactly_at_blocks_4_and_7():
    rows = claims.selection_rows()
    assert [row.kind for row in rows] == [cfg[0] for cfg in load_paper()["table1"]["blocks"]]
    assert [row.block for row in rows if row.kind != row.cheaper_by_eqs] == [4, 7]
    assert rows[3].cheaper_by_eqs == "P" and rows[6].cheaper_by_eqs == "G"
    # The real bottlenecks differ only in the expansion module (SE pools before its 1×1 convs, so
    # its MACs do not depend on where it sits): their counted difference is Eq. 1 - Eq. 2 at the
    # block's input size, exactly, at every row.
    for row in rows:
        assert row.ghost_counted - row.poker_counted == row.ghost_eq - row.poker_eq, row.block
    assert rows[3].size == 56 and rows[3].ghost_counted - rows[3].poker_counted == 3136 * (1740 - 1480)


def test_printed_eq3_is_the_reciprocal_reading():
    row = SelectionRow(4, "G", 20, 6, 56, 1740.0, 1480.0, 2, 1)
    # 2/6 · (20 + 54) / (20 + 9) = 0.851 < 1: read as C_g/C_p it would call Ghost cheaper.
    assert row.cheaper_by_printed_eq3 == "G" and row.cheaper_by_eqs == "P" and row.cheaper_counted == "P"


# --- MACs by layer kind ----------------------------------------------------------------------


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.pw = nn.Conv2d(8, 16, 1, groups=2, bias=False)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        return self.fc(self.pw(self.dw(self.stem(x))).mean((2, 3)))


def test_macs_by_kind_by_hand():
    # 4×4 map: stem 16·8·27 = 3456, depthwise 16·8·9 = 1152, grouped 1×1 16·16·(8/2) = 1024, fc 160.
    assert macs_by_kind(Tiny(), (3, 4, 4)) == {"pointwise": 1024, "depthwise": 1152, "dense": 3456, "linear": 160}
    shares = CostShares("tiny", {"pointwise": 1024, "depthwise": 1152, "dense": 3456, "linear": 160})
    assert shares.total == 5792 and shares.pointwise_share == pytest.approx(1024 / 5792)


@pytest.mark.parametrize("name", ["pokernet_050", "shufflenetv1_050_g8", "mobilenetv3_small_075"])
def test_kinds_sum_to_the_flop_counter_total(name):
    model = create_model(name)
    on_meta = claims.build_on_meta(lambda: create_model(name))
    assert sum(macs_by_kind(on_meta, (3, 96, 96)).values()) == count_madds_flop_counter(model, 96)


def test_fit_exponent_by_hand():
    assert fit_exponent([1, 2, 4], [3, 12, 48]) == pytest.approx(2.0)
    # Two points: log(119 / 39.4) / log 2 = 1.5947 (the paper's own PokerNet 0.5× -> 1.0×).
    assert fit_exponent([0.5, 1.0], [39.4, 119]) == pytest.approx(1.5947, abs=1e-4)


def test_width_family_matches_the_registered_models():
    fit = claims.width_fits(widths=(0.5, 1.0))
    pokernet = next(f for f in fit if f.family == "pokernet")
    for width, name in ((0.5, "pokernet_050"), (1.0, "pokernet_100")):
        assert pokernet.madds[pokernet.widths.index(width)] == count_madds_flop_counter(create_model(name))


# --- verdicts from counts ----------------------------------------------------------------------


def _counts(shares=(), fits=(), selection=()) -> ClaimCounts:
    return ClaimCounts("test", 224, tuple(shares), tuple(fits), tuple(selection))


def _share(model: str, pointwise: int) -> CostShares:
    return CostShares(model, {"pointwise": pointwise, "depthwise": 100 - pointwise, "dense": 0, "linear": 0})


def test_pointwise_share_needs_more_than_half_of_the_competitors():
    claim = CLAIMS["pointwise_share"]
    two_of_three = [_share("a", 95), _share("b", 91), _share("c", 80), _share("pokernet_100", 10)]
    assert pointwise_share(claim, _counts(two_of_three)).status == "✓ holds"
    one_of_two = [_share("a", 95), _share("c", 90), _share("pokernet_100", 99)]  # 90% is not above 90%
    result = pointwise_share(claim, _counts(one_of_two))
    assert result.status == "✗ does not hold" and "in 1 of the 2 competitors" in result.ours


def test_width_exponent_tolerance():
    claim = CLAIMS["width_exponent"]
    quadratic = WidthFit("pokernet", (0.5, 1.0), (25, 100))
    assert width_exponent(claim, _counts(fits=[quadratic])).status == "✓ holds"
    flat = WidthFit("pokernet", (0.5, 1.0), (1000, 3000))  # e = log2(3) = 1.58
    result = width_exponent(claim, _counts(fits=[flat]))
    assert result.status == "✗ does not hold" and "e = 1.58" in result.ours and "paper's 1.59" in result.ours


def test_selection_criterion_names_the_contradicting_blocks():
    claim = CLAIMS["selection_criterion"]
    agree = SelectionRow(1, "G", 20, 1, 112, 290.0, 580.0, 10, 20)
    breaks = SelectionRow(7, "P", 80, 2, 14, 7120.0, 7840.0, 100, 120)
    assert selection_criterion(claim, _counts(selection=[agree])).status == "✓ holds"
    result = selection_criterion(claim, _counts(selection=[agree, breaks]))
    assert result.status == "✗ does not hold"
    assert "block 7 (P-bneck, m = 80, k = 2, 14²: C_g/C_p = 0.91" in result.ours
    assert "save 0.00M MAdds" in result.ours  # 120 - 100 MACs


def test_counts_file_round_trip_and_a_bad_file(tmp_path, monkeypatch):
    content = {
        "resolution": 224,
        "pointwise_share": [
            {"model": "ghostnet_100", "macs": {"pointwise": 9, "depthwise": 1, "dense": 0, "linear": 0}}
        ],
        "width_exponent": [{"family": "pokernet", "widths": [0.5, 1.0], "madds": [25, 100]}],
        "selection_criterion": [
            {
                "block": 1,
                "kind": "G",
                "m": 20,
                "k": 1,
                "size": 112,
                "ghost_eq": 290,
                "poker_eq": 580,
                "ghost_counted": 10,
                "poker_counted": 20,
            }
        ],
    }
    monkeypatch.setattr(claims, "count_claims", lambda: content)
    from pokernet.cli import main

    out = tmp_path / "counts.json"
    assert main(["claims", "--out", str(out)]) == 0
    loaded = load_claim_counts(out)
    assert loaded.shares[0].pointwise_share == 0.9 and loaded.fits[0].exponent == pytest.approx(2.0)
    content["selection_criterion"][0]["kind"] = "X"
    out.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=r"selection_criterion\[0\]\.kind must be G or P"):
        load_claim_counts(out)


# --- the paper against itself, and the weight-decay confound ----------------------------------------


def test_the_papers_table2_contradicts_its_literal_claim_only_at_1x():
    conflicts = paper_order_conflicts(CLAIMS["accuracy_literal"])
    assert [(c.subject, c.other, c.subject_value, c.other_value) for c in conflicts] == [
        ("pokernet_100", "ghostnet_100", 73.6, 73.9)
    ]
    assert paper_order_conflicts(CLAIMS["accuracy_050"]) == []


def test_weight_decay_confound_is_the_recipes():
    confound = load_paper()["confounds"]["weight_decay_050"]
    decay = load_recipe("imagenet")["weight_decay"]
    assert confound["weight_decay"] == decay["per_model"]
    assert confound["weight_decay"]["pokernet_050"] < decay["default"]
    assert set(confound["comparison"]) <= {row["model"] for row in load_paper()["table2"]["rows"]}


def test_meta_counting_needs_no_data():
    model = claims.build_on_meta(lambda: create_model("ghostnet_050"))
    assert next(model.parameters()).device == torch.device("meta")


def test_summary_prints_the_counted_claims(tmp_path):
    from test_report import write_complexity

    from pokernet.report.inputs import load_complexity
    from pokernet.report.summary import render_summary

    complexity = load_complexity([write_complexity(tmp_path / "complexity.json")])
    counts = _counts(
        [_share("a", 95), _share("b", 91), _share("c", 80)],
        [WidthFit("pokernet", (0.5, 1.0), (25, 100))],
        [SelectionRow(7, "P", 80, 2, 14, 7120.0, 7840.0, 100, 120)],
    )

    def statuses(text):
        return {
            line.split("|")[2].strip(" `"): line.split("|")[3].strip()
            for line in text.splitlines()
            if line.startswith("| ") and not line.startswith("| claim ")
        }

    status = statuses(render_summary(complexity, [], None, counts=counts))
    assert (status["pointwise_share"], status["width_exponent"], status["selection_criterion"]) == (
        "✓ holds",
        "✓ holds",
        "✗ does not hold",
    )
    status = statuses(render_summary(complexity, [], None))
    assert {status[key] for key in ("pointwise_share", "width_exponent", "selection_criterion")} == {
        "— not testable here"
    }


def test_every_claim_carries_the_papers_literal_sentence():
    from pokernet.paper import load_paper

    missing = [c["id"] for c in load_paper()["claims"] if not str(c.get("quote", "")).strip()]
    assert missing == [], f"claims without the paper's sentence (quote:): {missing}"


# ------------------------------------------------------------ claims read off the tables as a whole


def _as_printed(text: str) -> str:
    """LaTeX as the paper prints it (``$0.5\\times$`` -> 0.5×, ``$\\alpha^2$`` -> α²), no footnote
    marks and no whitespace, so a quote is found whatever its line breaks."""
    import re

    text = re.sub(r"\$\s*([\d.]+)\s*\\times\s*\$", r"\1×", text)
    text = text.replace("\\alpha", "α").replace("^{2}", "²").replace("^2", "²").replace("$", "")
    return re.sub(r"<sup>.*?</sup>|\s", "", text)


def _paper_text() -> str:
    return _as_printed((Path(__file__).resolve().parents[1] / "../shared/paper/pokernet.md").read_text())


@pytest.mark.skipif(
    not (Path(__file__).resolve().parents[1] / "../shared/paper/pokernet.md").exists(), reason="the paper's text"
)
def test_every_quote_is_the_papers_own_words():
    from pokernet.paper import load_paper

    text = _paper_text()
    for claim in load_paper()["claims"]:
        for part in str(claim["quote"]).split("[...]"):
            assert _as_printed(part) in text, (claim["id"], part)


def _inputs(table2_rows=(), complexity=None, dataset="fashion_mnist"):
    from pokernet.report.inputs import Setting
    from pokernet.report.rows import TableRows
    from pokernet.report.summary import Inputs

    setting = Setting(dataset, 40, 12, 500)
    rows = TableRows(list(table2_rows), [], [], setting, [])
    empty = TableRows([], [], [], setting, [])
    return Inputs(complexity, rows, empty, empty, None)


def _row(model, madds, top1, top5=99.0):
    from pokernet.report.compare import Stat

    return {"model": model, "madds": {"ours": madds}, "top1": {"ours": Stat(top1, 0.1, 2)},
            "top5": {"ours": Stat(top5, 0.1, 2)}}  # fmt: skip


def _claim(claim_id):
    from pokernet.paper import load_paper

    return next(c for c in load_paper()["claims"] if c["id"] == claim_id)


@pytest.mark.parametrize("order, status", [(1, "✓ holds on the proxy"), (-1, "✗ does not hold on the proxy")])
def test_the_madds_accuracy_rank_is_spearmans_rho_of_both_tables(order, status):
    from scipy import stats

    from pokernet.paper import table
    from pokernet.report.summary import _madds_accuracy_rank

    models = ["pokernet_050", "ghostnet_050", "mobilenetv1_050", "pokernet_100", "ghostnet_100", "mobilenetv2_060"]
    rows = [_row(m, 10.0 * (i + 1), 50 + order * i) for i, m in enumerate(models)]
    result = _madds_accuracy_rank(_claim("madds_accuracy_rank"), _inputs(rows))
    paper = table("table2")["rows"]
    rho = stats.spearmanr([r["madds"] for r in paper], [r["top1"] for r in paper]).statistic
    assert result.status == status
    assert f"this table's models: ρ {order:+.2f} (n 6" in result.ours
    assert f"paper's Table 2: ρ {rho:+.2f} (n {len(paper)}" in result.ours


def test_the_cost_half_of_section_5_compares_each_pokernet_with_its_level():
    from pokernet.paper import table
    from pokernet.report.summary import _cost_and_accuracy

    paper = table("table2")["rows"]
    ours = [_row(r["model"], r["madds"], 60.0) for r in paper]  # our counts = the paper's
    result = _cost_and_accuracy(_claim("cost_and_accuracy"), _inputs(ours))
    # PokerNet 39M < 40-59M; 119M < 140-155M; the accuracy half is refuted by the paper's own Table 2, and shown
    assert result.status == "✗ does not hold: cost ✓ holds; accuracy ✗ (accuracy_literal)", result.ours
    ours = [_row(r["model"], 38.0 if r["model"] == "shufflenetv2_050" else r["madds"], 60.0) for r in paper]
    result = _cost_and_accuracy(_claim("cost_and_accuracy"), _inputs(ours))
    assert "cost partly; accuracy ✗" in result.status and "ShuffleNetV2 0.5× 38.0M" in result.ours


class _Counted:
    def __init__(self, madds):
        self.madds = madds

    def get(self, model, options=None):
        from types import SimpleNamespace

        return SimpleNamespace(madds_m=self.madds[model, (options or {}).get("se", True)])


@pytest.mark.parametrize(
    "madds, status",
    [
        ({("pokernet_050", True): 39.40, ("pokernet_050", False): 39.0, ("pokernet_100", True): 119.3,
          ("pokernet_100", False): 117.0}, "✓ holds"),  # 0.40M and 2.3M: within ±0.05M / ±0.5M
        ({("pokernet_050", True): 39.98, ("pokernet_050", False): 39.40, ("pokernet_100", True): 126.30,
          ("pokernet_100", False): 124.0}, "partly"),  # 0.58M: outside ±0.05M; 1.5% and 1.8%: slight
        ({("pokernet_050", True): 42.0, ("pokernet_050", False): 39.40, ("pokernet_100", True): 126.30,
          ("pokernet_100", False): 124.0}, "✗ does not hold"),  # 2.6M of 42M = 6.2% > 3.5%
    ],
)  # fmt: skip
def test_the_se_cost_is_slight_and_checked_against_the_papers_amounts(madds, status):
    from pokernet.report.summary import _se_cost

    result = _se_cost(_claim("se_cost"), _inputs(complexity=_Counted(madds)))
    assert result.status == status, result.ours


def test_top5_orders_are_untestable_on_a_ten_class_proxy():
    from pokernet.report.summary import _top5_orders

    result = _top5_orders(_claim("top5_orders"), _inputs([_row("pokernet_050", 40, 70, 97.7), _row("x", 50, 71, 99.5)]))
    assert result.status == "— not testable on this proxy"
    assert "10-class proxy" in result.ours and "chance 50%" in result.ours and "97.7–99.5%" in result.ours
