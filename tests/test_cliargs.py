"""The one bounded-number argument type (cliargs.number): its messages quote the value as given."""

from __future__ import annotations

import argparse
import re

import pytest

from pokernet import cliargs


@pytest.mark.parametrize(
    "parse, text, message",
    [
        (cliargs.width_multiplier, "0.0999999999", "got 0.0999999999 (below 0.1"),
        (cliargs.width_multiplier, "4.00000000001", "at most 4, got 4.00000000001"),
        (cliargs.positive_float, "1e-400", "must be > 0, got 1e-400"),
        (cliargs.seed, str(2**63), "[0, 2**63)"),
        (cliargs.seed, "-0001", "must be >= 0, got -0001"),
        (cliargs.resolution, "0x10", "'0x10' is not a whole number"),
        (cliargs.number(float, above=0, high=600), "600.0000001", "at most 600, got 600.0000001"),
        (cliargs.positive_int, "nan", "'nan' is not a whole number"),
        (cliargs.positive_float, "-inf", "finite number, got -inf"),
    ],
)
def test_a_refused_number_is_quoted_as_given(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(message)):
        parse(text)


def test_numbers_in_range_pass_as_their_kind():
    assert cliargs.width_multiplier("0.1") == 0.1 and cliargs.resolution("16") == 16
    assert isinstance(cliargs.positive_int("3"), int) and cliargs.number(float, above=0, high=600)("600") == 600.0
