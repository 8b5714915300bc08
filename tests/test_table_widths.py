from __future__ import annotations

from ui.table_widths import fitted_widths


def test_a_column_is_as_wide_as_its_longest_cell_or_header() -> None:
    rows = [{"Param #": "2,359,808", "#": "1"}, {"Param #": "0", "#": "2"}]
    widths = fitted_widths(rows)
    assert widths["Param #"] > fitted_widths([{"Param #": "0"}])["Param #"]
    assert widths["#"] == fitted_widths([{"#": ""}])["#"]  # the header is the longest


def test_a_very_long_cell_is_capped() -> None:
    assert fitted_widths([{"Note": "x" * 1000}])["Note"] == fitted_widths([{"Note": "x" * 500}])[
        "Note"
    ]
