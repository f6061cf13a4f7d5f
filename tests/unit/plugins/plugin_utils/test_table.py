# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
import pytest

from ansible_collections.research.wizard.plugins.plugin_utils.table import format_cell, format_table

CASES = [
    pytest.param(
        [{"name": "genomics", "price": 2.1168}, {"name": "selftest", "price": 0.5}],
        [("name", "name"), ("price", "$/hour")], {},
        ["name      $/hour",
         "--------  ------",
         "genomics  2.1168",
         "selftest  0.5"],
        id="catalogue: left aligned, a rule under the header, floats without trailing zeros"),
    pytest.param(
        [("h1", "12", "~3s"), ("host-two", "3", "-")],
        [(0, "host"), (1, "total", "right"), (2, "cache saved")], {"rule": False},
        ["host      total  cache saved",
         "h1           12  ~3s",
         "host-two      3  -"],
        id="summary: sequences, right aligned numbers, no rule, trailing blanks stripped"),
    pytest.param(
        [], [("a", "alpha"), ("b", "b")], {},
        ["alpha  b", "-----  -"],
        id="no rows: the header and its rule"),
]


@pytest.mark.parametrize("rows, columns, kwargs, expected", CASES)
def test_format_table(rows, columns, kwargs, expected):
    assert format_table(rows, columns, **kwargs) == expected


@pytest.mark.parametrize("value, expected", [(2.0, "2"), (0.12345, "0.1235"), (3, "3"), (None, "None"),
                                             ("x", "x")])
def test_format_cell(value, expected):
    assert format_cell(value) == expected
