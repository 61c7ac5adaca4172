"""Tests of evaluation.xlsx: annex cells keep numbers numeric and text safe."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from openpyxl import load_workbook
from test_analysis import make_waves

from evaluation.analysis import analyze_workshop
from evaluation.instrument import default_instrument_path, load_instrument
from evaluation.xlsx import FORMULA_PREFIXES, neutralize_formula, write_tables

# A number written as text, with or without the guard's apostrophe.
NUMBER_AS_TEXT = re.compile(r"'?-?[0-9]+(\.[0-9]+)?")


def _cells(path):
    wb = load_workbook(path)
    return {(ws.title, cell.coordinate): cell for ws in wb.worksheets
            for row in ws.iter_rows() for cell in row if cell.value is not None}


def test_display_numbers_are_numeric_cells_and_text_is_neutralised(tmp_path):
    display = pd.DataFrame({
        "n": ["26", "<5", "0"],
        "mean_change": ["0.80", "–", "-0.05"],
        "ci": ["-0.05 – 0.80", "–", "0.10 – 0.20"],
        "pct": ["58% (7 of 12)", "–", "60.0%"],
        "label": ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "@SUM(A1)"],
        "other": ["\tx", "\rx", "-x"],
        "code": ["007", "1.10", ""],
        "flag": ["True", "False", "False"],
    }, dtype=object)
    cells = _cells(write_tables({"t": display}, tmp_path / "annex.xlsx"))
    by = {coord: c for (_, coord), c in cells.items()}
    # numbers: numeric cells, with the decimals the report shows
    assert (by["A2"].value, by["A2"].data_type) == (26, "n")
    assert (by["A4"].value, by["A4"].data_type) == (0, "n")
    assert (by["B2"].value, by["B2"].data_type, by["B2"].number_format) == (0.8, "n", "0.00")
    assert (by["B4"].value, by["B4"].data_type) == (-0.05, "n")
    assert (by["G3"].value, by["G3"].number_format) == (1.1, "0.00")  # still reads "1.10"
    assert (by["H2"].value, by["H3"].value) == (True, False)
    # text stays text; text starting with a formula character gets the apostrophe
    assert by["A3"].value == "<5" and by["B3"].value == "–"
    assert by["C2"].value == "'-0.05 – 0.80" and by["C4"].value == "0.10 – 0.20"
    assert by["D2"].value == "58% (7 of 12)" and by["G2"].value == "007"
    for coord in ("E2", "E3", "E4", "F2", "F3", "F4"):
        assert by[coord].data_type == "s" and by[coord].value.startswith("'"), coord
    assert "G4" not in by  # an empty string is an empty cell
    for cell in cells.values():
        assert cell.data_type != "f"
        if isinstance(cell.value, str):
            assert not cell.value.startswith(FORMULA_PREFIXES), cell.coordinate


def test_neutralize_formula_leaves_plain_numbers():
    assert neutralize_formula("-0.05") == "-0.05"
    assert neutralize_formula("-3") == "-3"
    for text in ("-0.05 – 0.80", "-1+2", "+1", "=1", "@A1", "-", "-.5", "- 1"):
        assert neutralize_formula(text) == "'" + text


@pytest.fixture(scope="module")
def analysis():
    inst = load_instrument(default_instrument_path())
    return analyze_workshop(make_waves(inst), inst, n_resamples=50, seed=1)


def test_annex_of_an_analysis_has_numeric_numbers(analysis, tmp_path):
    # as WorkshopReport.write_results chooses: the display table when it has every row
    tables = analysis.tables()
    shown = {name: analysis.display[name]
             if name in analysis.display and len(analysis.display[name]) == len(frame) else frame
             for name, frame in tables.items()}
    cells = _cells(write_tables(shown, tmp_path / "annex.xlsx"))
    numeric = [c for c in cells.values() if c.data_type == "n"]
    assert len(numeric) > 100
    for (sheet, coord), cell in cells.items():
        assert cell.data_type != "f", (sheet, coord)
        if isinstance(cell.value, str):
            assert not NUMBER_AS_TEXT.fullmatch(cell.value), (sheet, coord, cell.value)
            assert not cell.value.startswith("="), (sheet, coord, cell.value)
    # the matching-bias flag of the annex is the one of results/matching_bias.csv
    wb = load_workbook(tmp_path / "annex.xlsx")
    header = [c.value for c in wb["matching_bias"][1]]
    flag = wb["matching_bias"].cell(row=2, column=header.index("bias_flag") + 1).value
    published = analysis.matching_bias["bias_flag"].iloc[0]
    assert flag == "–" if pd.isna(published) else flag is bool(published)
