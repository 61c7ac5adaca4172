"""Tests of evaluation.disclosure: small-cell suppression of every published table.

The recoverability oracle used here (``_intruder_bounds``) is written independently of the
module: it reads only the *display* strings of the protected tables and computes, by integer
programming, the range of values an intruder can give each suppressed cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from evaluation import disclosure
from evaluation.disclosure import (
    RULES,
    DisclosurePolicy,
    ProtectedTable,
    SdcLog,
    audit_recoverability,
    collapse_likert,
    collapse_likert_counts,
    collapse_small_groups,
    display_count,
    display_value,
    protect_frequency_table,
    protect_related_tables,
    protect_statistics_table,
    suppression_footnote,
)
from evaluation.errors import DisclosureError

TOTAL = "Total"


# ----------------------------------------------------------------------------------------------
# Helpers: an independent intruder, and invariants of every protected table
# ----------------------------------------------------------------------------------------------


def _intruder_bounds(
    displays: dict[str, pd.DataFrame], marker: str, linked_rows: bool = False, big: int = 10_000
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """Integer min/max of every suppressed cell given all published numbers.

    ``displays`` are the display frames (with margins). With ``linked_rows`` the intruder knows
    that tables share their row totals (same label) and their grand total.
    """
    var: dict[tuple[str, str, str], int] = {}
    shared: dict[tuple[str, ...], int] = {}
    known: dict[int, int] = {}
    n = 0

    def ident(table: str, r: str, c: str) -> int:
        nonlocal n
        key: tuple[str, ...] = (table, r, c)
        if linked_rows and c == TOTAL:
            key = ("row-total", r)
        if key in shared:
            return shared[key]
        shared[key] = n
        n += 1
        return shared[key]

    grids = {}
    for name, disp in displays.items():
        ids = np.empty(disp.shape, dtype=int)
        for i, r in enumerate(disp.index):
            for j, c in enumerate(disp.columns):
                ids[i, j] = ident(name, str(r), str(c))
                text = disp.iat[i, j]
                if text == marker:
                    var[(name, str(r), str(c))] = int(ids[i, j])
                else:
                    known[int(ids[i, j])] = int(text)
        grids[name] = ids
    rows = []
    for ids in grids.values():
        nr, nc = ids.shape
        for i in range(nr):
            coef = np.zeros(n)
            coef[ids[i, : nc - 1]] += 1
            coef[ids[i, nc - 1]] -= 1
            rows.append(coef)
        for j in range(nc):
            coef = np.zeros(n)
            coef[ids[: nr - 1, j]] += 1
            coef[ids[nr - 1, j]] -= 1
            rows.append(coef)
    lower = np.zeros(n)
    upper = np.full(n, float(big))
    for q, value in known.items():
        lower[q] = upper[q] = value
    constraint = LinearConstraint(np.array(rows), 0, 0)
    out = {}
    for cell, q in var.items():
        c = np.zeros(n)
        c[q] = 1
        lo = milp(c, constraints=constraint, integrality=np.ones(n), bounds=Bounds(lower, upper))
        hi = milp(-c, constraints=constraint, integrality=np.ones(n), bounds=Bounds(lower, upper))
        assert lo.status == 0 and hi.status == 0, "published numbers are inconsistent"
        out[cell] = (round(lo.fun), round(-hi.fun))
    return out


def _check_invariants(
    protected: ProtectedTable,
    counts: pd.DataFrame,
    policy: DisclosurePolicy,
    structural: set[tuple] = frozenset(),
) -> None:
    """Published counts are true and safe; suppressed cells show the marker and are NaN."""
    full = counts.copy()
    full[TOTAL] = full.sum(axis=1)
    full.loc[TOTAL] = full.sum(axis=0)
    k = policy.k_min
    assert list(protected.display.index) == list(full.index)
    assert list(protected.display.columns) == list(full.columns)
    for r in full.index:
        for c in full.columns:
            text = protected.display.loc[r, c]
            if protected.suppressed.loc[r, c]:
                assert text == policy.count_marker
                assert np.isnan(protected.numeric.loc[r, c])
            else:
                value = int(full.loc[r, c])
                assert text == str(value)
                assert protected.numeric.loc[r, c] == value
                zero_ok = (
                    not policy.zeros_are_disclosive
                    or (r, c) in structural
                    or (value == 0 and _all_structural(r, c, counts, structural))
                )
                assert value >= k or (value == 0 and zero_ok), (r, c)


def _all_structural(r, c, counts: pd.DataFrame, structural: set[tuple]) -> bool:
    if r == TOTAL and c == TOTAL:
        cells = [(a, b) for a in counts.index for b in counts.columns]
    elif r == TOTAL:
        cells = [(a, c) for a in counts.index]
    elif c == TOTAL:
        cells = [(r, b) for b in counts.columns]
    else:
        cells = [(r, c)]
    return all(cell in structural for cell in cells)


def _lines_ok(protected: ProtectedTable) -> None:
    """No row or column (margins included) holds exactly one suppressed cell."""
    mask = protected.suppressed.to_numpy()
    assert not (mask.sum(axis=1) == 1).any()
    assert not (mask.sum(axis=0) == 1).any()


def _frame(data: dict, index: list[str], name: str = "country") -> pd.DataFrame:
    return pd.DataFrame(data, index=pd.Index(index, name=name))


# ----------------------------------------------------------------------------------------------
# Policy, display helpers, log
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, 1, 2, -5])
def test_k_min_below_three_is_refused(k):
    with pytest.raises(DisclosureError, match="at least 3"):
        DisclosurePolicy(k_min=k)
    with pytest.raises(DisclosureError):
        display_count(1, k)


def test_policy_rejects_other_bad_settings():
    with pytest.raises(DisclosureError):
        DisclosurePolicy(k_min=True)
    with pytest.raises(DisclosureError):
        DisclosurePolicy(k_min=10, reliability_n=5)
    with pytest.raises(DisclosureError):
        DisclosurePolicy(other_label="Total")


def test_k_min_is_configurable_and_marker_follows():
    counts = _frame({"a": [12, 7], "b": [9, 11], "c": [10, 8]}, ["KZ", "KG"])
    log5, log10 = SdcLog(), SdcLog()
    t5 = protect_frequency_table(counts, DisclosurePolicy(k_min=5), log5, "q")
    t10 = protect_frequency_table(counts, DisclosurePolicy(k_min=10), log10, "q")
    assert t5.n_suppressed == 0 and len(log5) == 0
    assert t10.display.loc["KZ", "b"] == "<10"
    assert set(log10.to_frame()["threshold"]) == {10}
    assert t10.n_suppressed > 0
    _check_invariants(t10, counts, DisclosurePolicy(k_min=10))
    t3 = protect_frequency_table(counts.replace(7, 3), DisclosurePolicy(k_min=3), name="q")
    assert t3.display.loc["KG", "a"] == "3"


def test_display_helpers():
    assert display_count(5) == "5"
    assert display_count(4) == "<5"
    assert display_count(0) == "<5"
    assert display_count(0, zeros_are_disclosive=False) == "0"
    assert display_count(9, 10) == "<10"
    assert display_count(None) == "–"
    assert display_value(2.345, 5) == "2.35"
    assert display_value(2.345, 4) == "–"
    assert display_value(None, 20) == "–"
    assert display_value(66.666, 30, fmt="{:.0f}%") == "67%"
    assert "<5" in suppression_footnote() and "–" in suppression_footnote()
    assert suppression_footnote(DisclosurePolicy(k_min=10)).startswith("<10:")


def test_log_holds_rule_and_threshold_but_never_values():
    counts = _frame(
        {"disagree": [3, 12, 7], "neutral": [11, 2, 9], "agree": [14, 10, 13]},
        ["Kyrgyzstan", "Kazakhstan", "Uzbekistan"],
    )
    log = SdcLog()
    table = protect_frequency_table(counts, log=log, name="usefulness")
    frame = log.to_frame()
    assert list(frame.columns) == ["table", "row", "column", "rule", "threshold"]
    assert not {"value", "count", "n"} & set(frame.columns)
    assert set(frame["rule"]) <= set(RULES)
    assert (frame["threshold"] == 5).all()
    assert len(frame) == table.n_suppressed
    # Every suppressed cell is logged once, under its own coordinates.
    logged = set(zip(frame["row"], frame["column"], strict=True))
    mask = table.suppressed
    expected = {(str(r), str(c)) for r in mask.index for c in mask.columns if mask.loc[r, c]}
    assert logged == expected
    # None of the hidden numbers appears anywhere in the log's text fields.
    full = counts.copy()
    full[TOTAL] = full.sum(axis=1)
    full.loc[TOTAL] = full.sum(axis=0)
    hidden = {str(int(full.loc[r, c])) for r, c in expected}
    text = frame[["table", "row", "column", "rule"]].to_numpy().ravel().tolist()
    assert not hidden & set(text)
    assert not any(h in cell for h in hidden for cell in text)
    with pytest.raises(DisclosureError):
        log.add("t", "r", "c", "made-up", 5)


# ----------------------------------------------------------------------------------------------
# Collapse before suppress
# ----------------------------------------------------------------------------------------------


def test_collapse_likert_five_to_three():
    s = pd.Series([1, 2, 3, 4, 5, None, "4"], index=list("abcdefg"), name="q1")
    out = collapse_likert(s)
    assert list(out.cat.categories) == ["disagree", "neutral", "agree"]
    assert out.cat.ordered
    assert out.index.tolist() == list("abcdefg") and out.name == "q1"
    assert out.tolist()[:5] == ["disagree", "disagree", "neutral", "agree", "agree"]
    assert pd.isna(out["f"]) and out["g"] == "agree"
    assert collapse_likert([1, 2, 3, 4], points=4).tolist() == [
        "disagree",
        "disagree",
        "agree",
        "agree",
    ]
    assert collapse_likert([3, 4, 5], points=7).tolist() == ["disagree", "neutral", "agree"]


@pytest.mark.parametrize("bad", [[0], [6], [2.5], ["often"]])
def test_collapse_likert_rejects_codes_off_the_scale(bad):
    with pytest.raises(DisclosureError, match="1 to 5"):
        collapse_likert(bad)


def test_collapse_likert_counts_then_protect_needs_less_suppression():
    five = _frame(
        {1: [1, 2, 0], 2: [3, 3, 2], 3: [5, 4, 3], 4: [4, 3, 5], 5: [3, 4, 6]}, ["KZ", "KG", "UZ"]
    )
    three = collapse_likert_counts(five)
    assert list(three.columns) == ["disagree", "neutral", "agree"]
    assert three.loc["KZ"].tolist() == [4, 5, 7]
    assert (three.sum(axis=1) == five.sum(axis=1)).all()
    wide = protect_frequency_table(five, name="five")
    narrow = protect_frequency_table(three, name="three")
    inner = slice(None, -1)
    assert narrow.suppressed.iloc[inner, inner].to_numpy().mean() < (
        wide.suppressed.iloc[inner, inner].to_numpy().mean()
    )
    with pytest.raises(DisclosureError):
        collapse_likert_counts(_frame({"x": [1]}, ["KZ"]))


def test_collapse_small_groups_merges_into_other():
    sizes = {"KZ": 9, "KG": 8, "TJ": 7, "TM": 3, "UZ": 3}
    mapping = collapse_small_groups(list(sizes), list(sizes.values()), 5, "Central Asia (other)")
    assert mapping == {
        "KZ": "KZ",
        "KG": "KG",
        "TJ": "TJ",
        "TM": "Central Asia (other)",
        "UZ": "Central Asia (other)",
    }
    # A lone small group would be recognisable, so the next-smallest group joins it.
    mapping = collapse_small_groups(["KZ", "KG", "TJ", "TM"], [10, 9, 6, 2], 5)
    assert mapping == {"KZ": "KZ", "KG": "KG", "TJ": "other", "TM": "other"}
    # Without absorbing, the too-small "other" remains and is suppressed later.
    mapping = collapse_small_groups(["KZ", "TM"], [10, 2], 5, absorb=False)
    counts = _frame({"agree": [6, 1], "disagree": [4, 1]}, ["KZ", "TM"])
    counts.index = counts.index.map(mapping)
    table = protect_frequency_table(counts.groupby(level=0).sum())
    assert table.display.loc["other", TOTAL] == "<5"
    assert collapse_small_groups(["KZ"], [12], 5) == {"KZ": "KZ"}
    with pytest.raises(DisclosureError):
        collapse_small_groups(["KZ", "KG"], [3], 5)


# ----------------------------------------------------------------------------------------------
# Each rule firing
# ----------------------------------------------------------------------------------------------


def test_primary_and_complementary_suppression():
    counts = _frame(
        {"disagree": [6, 7, 8], "neutral": [3, 12, 9], "agree": [10, 11, 13]},
        ["Kazakhstan", "Kyrgyzstan", "Uzbekistan"],
    )
    log = SdcLog()
    table = protect_frequency_table(counts, log=log, name="q")
    frame = log.to_frame()
    rules = dict(zip(zip(frame["row"], frame["column"], strict=True), frame["rule"], strict=True))
    assert rules[("Kazakhstan", "neutral")] == "primary"
    assert "complementary" in rules.values()
    assert table.display.loc["Kazakhstan", "neutral"] == "<5"
    # The lone small cell cannot be worked out from its row or column.
    _lines_ok(table)
    assert audit_recoverability([table]) == []
    bounds = _intruder_bounds({"q": table.display}, "<5")
    assert all(lo < hi for lo, hi in bounds.values())
    # Margins and grand total are computed from the unsuppressed data and stay published.
    assert table.display.loc[TOTAL, TOTAL] == str(counts.to_numpy().sum())
    assert table.display.loc["Kazakhstan", TOTAL] == "19"
    _check_invariants(table, counts, DisclosurePolicy())


def test_complementary_picks_small_cells_not_margins():
    counts = _frame({"a": [20, 30, 25], "b": [2, 40, 35], "c": [15, 6, 45]}, ["KZ", "KG", "UZ"])
    table = protect_frequency_table(counts)
    assert table.display.loc["KZ", "b"] == "<5"
    # The complements are the next-smallest interior cells of its row (15) and column (35),
    # then the fourth corner (45) that closes the rectangle; margins stay published.
    assert table.suppressed.loc["KZ", "c"] and table.suppressed.loc["UZ", "b"]
    assert table.n_suppressed == 4
    assert not table.suppressed[TOTAL].any() and not table.suppressed.loc[TOTAL].any()
    _lines_ok(table)
    assert audit_recoverability([table]) == []


def test_cells_published_elsewhere_are_never_complements():
    """A number the report gives elsewhere is kept; the complement is found among the others."""
    counts = _frame({"n": [20, 3]}, ["A", "B"])
    plain = protect_related_tables({"t": counts})["t"]
    # the cheapest complement of the small B is the interior cell A, and the total stays
    assert plain.suppressed.loc["A", "n"] and not plain.suppressed.loc[TOTAL, "n"]
    kept = protect_related_tables({"t": counts}, published={"t": [("A", "n")]})["t"]
    assert not kept.suppressed.loc["A", "n"] and kept.display.loc["A", "n"] == "20"
    assert kept.suppressed.loc["B", "n"] and kept.suppressed.loc[TOTAL, "n"]
    _lines_ok(kept)
    assert audit_recoverability([kept]) == []


def test_published_cells_must_exist_and_not_be_small():
    counts = _frame({"n": [20, 3]}, ["A", "B"])
    with pytest.raises(DisclosureError, match="fewer than 5"):
        protect_related_tables({"t": counts}, published={"t": [("B", "n")]})
    with pytest.raises(DisclosureError, match="not a cell or margin"):
        protect_related_tables({"t": counts}, published={"t": [("C", "n")]})
    with pytest.raises(DisclosureError, match="unknown table"):
        protect_related_tables({"t": counts}, published={"u": [("A", "n")]})


def test_zeros_are_disclosive_unless_structural_or_switched_off():
    counts = _frame({"a": [0, 8, 9], "b": [10, 12, 7], "c": [9, 6, 11]}, ["KZ", "KG", "UZ"])
    default = protect_frequency_table(counts)
    assert default.display.loc["KZ", "a"] == "<5"
    structural = protect_frequency_table(counts, structural_zeros=[("KZ", "a")])
    assert structural.display.loc["KZ", "a"] == "0"
    assert structural.structural.loc["KZ", "a"]
    assert structural.n_suppressed == 0
    relaxed = protect_frequency_table(counts, DisclosurePolicy(zeros_are_disclosive=False))
    assert relaxed.display.loc["KZ", "a"] == "0"
    with pytest.raises(DisclosureError, match="not zero"):
        protect_frequency_table(counts, structural_zeros=[("KG", "a")])
    with pytest.raises(DisclosureError, match="not a cell"):
        protect_frequency_table(counts, structural_zeros=[("TM", "a")])


def test_class_disclosure_suppresses_the_subgroup_distribution():
    # All 9 Tajik participants disagreed: each cell is fine in size, but together they say
    # what every Tajik participant answered.
    counts = _frame(
        {"disagree": [9, 6, 7], "neutral": [0, 8, 5], "agree": [0, 9, 10]}, ["TJ", "KZ", "KG"]
    )
    log = SdcLog()
    table = protect_frequency_table(counts, log=log, name="q")
    assert table.display.loc["TJ", "disagree"] == "<5"
    assert table.display.loc["TJ", TOTAL] == "9"  # the subgroup size is still shown
    frame = log.to_frame().set_index(["row", "column"])
    assert frame.loc[("TJ", "disagree"), "rule"] == "class"
    assert audit_recoverability([table]) == []
    # An intruder cannot prove that all but fewer than 5 Tajik participants disagreed.
    bounds = _intruder_bounds({"q": table.display}, "<5")
    assert 9 - bounds[("q", "TJ", "disagree")][0] >= 5
    # All but fewer than k_min in one category also counts (11 of 14, k_min 5).
    counts = _frame({"agree": [11, 8], "neutral": [2, 7], "disagree": [1, 6]}, ["KZ", "KG"])
    table = protect_frequency_table(counts, log=(log := SdcLog()))
    assert "class" in set(log.to_frame()["rule"])
    assert table.display.loc["KZ", "agree"] == "<5"
    # ... but the class rule can be switched off, e.g. for a table of the whole cohort.
    off = protect_frequency_table(counts, class_rule=False)
    assert off.display.loc["KZ", "agree"] == "11"


def test_small_subgroup_whole_row_suppressed_and_size_shown_as_marker():
    counts = _frame(
        {"disagree": [6, 7, 1], "neutral": [8, 12, 2], "agree": [10, 11, 0]}, ["KZ", "KG", "TM"]
    )
    log = SdcLog()
    table = protect_frequency_table(counts, log=log, name="q")
    assert table.display.loc["TM"].tolist() == ["<5"] * 4
    frame = log.to_frame()
    tm = frame[frame["row"] == "TM"]
    assert set(tm["rule"]) == {"group_size"} and len(tm) == 4
    # The size cannot be worked out from the published grand total and other sizes.
    assert table.suppressed[TOTAL].sum() >= 2
    assert audit_recoverability([table]) == []
    _check_invariants(table, counts, DisclosurePolicy())


def test_tiny_table_is_fully_suppressed():
    counts = _frame({"yes": [1, 2], "no": [1, 0]}, ["KZ", "KG"])
    table = protect_frequency_table(counts)
    assert table.suppressed.to_numpy().all()


@pytest.mark.parametrize(
    "bad",
    [
        _frame({"a": [-1, 5]}, ["x", "y"]),
        _frame({"a": [1.5, 5]}, ["x", "y"]),
        _frame({"a": [np.nan, 5]}, ["x", "y"]),
        _frame({"a": [5, 5], TOTAL: [5, 5]}, ["x", "y"]),
        _frame({"a": ["many", 5]}, ["x", "y"]),
        pd.DataFrame(),
    ],
)
def test_bad_count_tables_are_refused(bad):
    with pytest.raises(DisclosureError):
        protect_frequency_table(bad)


# ----------------------------------------------------------------------------------------------
# Statistics tables and the reliability flag
# ----------------------------------------------------------------------------------------------


def test_statistics_table_suppresses_small_rows_and_flags_reliability():
    stats = pd.DataFrame(
        {
            "label": ["Kazakhstan", "Turkmenistan", "All", "Kyrgyzstan", "Uzbekistan"],
            "n": [12, 3, 30, 8, 20],
            "mean_change": [0.75, 1.5, 0.52, -0.25, 0.1],
            "pct_improved": [50.0, 100.0, 60.0, 37.5, 55.0],
            "pct_unchanged": [25.0, 0.0, 20.0, 25.0, 40.0],
            "pct_declined": [25.0, 0.0, 20.0, 37.5, 5.0],
        },
        index=["KZ", "TM", "all", "KG", "UZ"],
    )
    pcts = ["pct_improved", "pct_unchanged", "pct_declined"]
    log = SdcLog()
    t = protect_statistics_table(
        stats, "n", ["mean_change"], log=log, name="items", percent_groups=[pcts]
    )
    d = t.display
    # n < k_min: every value "–", n shown as "<5".
    assert d.loc["TM", "n"] == "<5"
    assert (d.loc["TM", ["mean_change", *pcts]] == "–").all()
    assert t.numeric.loc["TM", ["n", "mean_change", *pcts]].isna().all()
    # Reliability: denominator < 30 -> "x of n", no decimals, flag column.
    assert d.loc["KZ", "pct_improved"] == "50% (6 of 12)"
    assert d.loc["KZ", "reliability"] == "n < 30"
    assert bool(t.numeric.loc["KZ", "reliability"])
    # 25% of 12 is 3 people: suppressed, and its partner too (a group never has one hole).
    assert d.loc["KZ", "pct_unchanged"] == "–" and d.loc["KZ", "pct_declined"] == "–"
    # n = 30 is reliable: a plain percentage, no flag.
    assert d.loc["all", "pct_improved"] == "60.0%" and d.loc["all", "reliability"] == ""
    assert d.loc["all", "mean_change"] == "0.52"
    # 8 Kyrgyz: 3/2/3 -> every share rests on fewer than 5 people.
    assert (d.loc["KG", pcts] == "–").all() and d.loc["KG", "mean_change"] == "-0.25"
    # 20 Uzbek: 11/8/1 -> the 1 is primary, the 8 complementary, the 11 published.
    assert d.loc["UZ", pcts].tolist() == ["55% (11 of 20)", "–", "–"]
    assert d.loc["KZ", "label"] == "Kazakhstan"
    frame = log.to_frame()
    by_cell = frame.set_index(["row", "column"])["rule"]
    assert by_cell[("UZ", "pct_declined")] == "primary"
    assert by_cell[("UZ", "pct_unchanged")] == "complementary"
    assert {"group_size", "primary", "complementary", "reliability"} <= set(frame["rule"])
    assert set(frame.loc[frame["rule"] == "reliability", "threshold"]) == {30}
    # No published "x of n" ever shows an x below k_min.
    for text in d[pcts].to_numpy().ravel():
        if " of " in text:
            x = int(text.split("(")[1].split(" of ")[0])
            assert x >= 5


def test_statistics_table_binary_share_and_class_rule():
    stats = pd.DataFrame({"n": [14, 14, 20], "pct_yes": [85.7, 50.0, 100.0]}, index=list("abc"))
    t = protect_statistics_table(stats, "n", [], percent_groups=[["pct_yes"]])
    assert t.display.loc["a", "pct_yes"] == "–"  # 2 of 14 said no
    assert t.display.loc["b", "pct_yes"] == "50% (7 of 14)"
    assert t.display.loc["c", "pct_yes"] == "–"  # nobody said no: a disclosive zero
    group = pd.DataFrame(
        {"n": [12], "agree": [75.0], "neutral": [8.3], "disagree": [16.7]}, index=["x"]
    )
    cols = [["agree", "neutral", "disagree"]]
    assert (
        protect_statistics_table(group, "n", [], percent_groups=cols).display.loc["x", cols[0]]
        == "–"
    ).all()
    with pytest.raises(DisclosureError):
        protect_statistics_table(stats, "n", ["missing"])
    with pytest.raises(DisclosureError):
        protect_statistics_table(stats.assign(pct_yes=150.0), "n", [], percent_groups=[["pct_yes"]])


# ----------------------------------------------------------------------------------------------
# The small_cells_country_gender fixture (privacy-matching-messy-input.md section 6)
# ----------------------------------------------------------------------------------------------


@pytest.fixture
def small_cells_country_gender() -> pd.DataFrame:
    """A synthetic 30-person cohort: country, gender, pre and post answer (5-point)."""
    spec = [  # country, gender, pre, post, how many
        ("KZ", "F", 2, 1, 1),
        ("KZ", "F", 3, 2, 1),
        ("KZ", "F", 3, 3, 1),
        ("KZ", "F", 4, 4, 2),
        ("KZ", "M", 2, 3, 2),
        ("KZ", "M", 3, 5, 1),
        ("KZ", "M", 4, 4, 2),
        ("KG", "F", 3, 3, 2),
        ("KG", "F", 4, 5, 2),
        ("KG", "M", 3, 3, 3),
        ("KG", "M", 4, 4, 3),
        ("TJ", "M", 1, 1, 2),
        ("TJ", "M", 2, 2, 2),
        ("TJ", "M", 2, 1, 2),
        ("TM", "M", 3, 4, 2),
        ("UZ", "F", 4, 4, 1),
        ("UZ", "M", 3, 2, 1),
    ]
    rows = [
        {"country": c, "gender": g, "pre": pre, "post": post}
        for c, g, pre, post, n in spec
        for _ in range(n)
    ]
    frame = pd.DataFrame(rows)
    assert len(frame) == 30
    return frame


def _report_tables(cohort: pd.DataFrame) -> dict[str, pd.DataFrame]:
    cohort = cohort.assign(
        pre3=collapse_likert(cohort["pre"]), post3=collapse_likert(cohort["post"])
    )

    def cross(col: str) -> pd.DataFrame:
        return pd.crosstab(cohort["country"], cohort[col])

    return {
        "participants": cohort.groupby("country").size().to_frame("participants"),
        "country_gender": cross("gender"),
        "country_pre": cross("pre3"),
        "country_post": cross("post3"),
    }


def test_small_cells_fixture_triggers_every_rule_consistently(small_cells_country_gender):
    tables = _report_tables(small_cells_country_gender)
    policy = DisclosurePolicy()
    log = SdcLog()
    out = protect_related_tables(tables, policy, log)
    frame = log.to_frame()
    assert {"primary", "complementary", "class", "group_size"} <= set(frame["rule"])
    # Tajikistan: all 6 disagreed before and all 6 are men -> class disclosure.
    tj = frame[(frame["row"] == "TJ")]
    assert "class" in set(tj["rule"])
    assert out["country_pre"].display.loc["TJ", TOTAL] == "6"
    # Turkmenistan and Uzbekistan (2 participants each): suppressed in every table, size too.
    for name, table in out.items():
        for small in ("TM", "UZ"):
            assert table.suppressed.loc[small].all(), (name, small)
            assert table.display.loc[small, TOTAL] == "<5"
        _check_invariants(table, tables[name], policy)
        _lines_ok(table)
    # A subgroup size is published in all tables or in none.
    for country in tables["participants"].index:
        states = {t.suppressed.loc[country, TOTAL] for t in out.values()}
        assert len(states) == 1, country
    # Nothing can be recovered, within or across tables.
    assert audit_recoverability(out) == []
    bounds = _intruder_bounds({n: t.display for n, t in out.items()}, "<5", linked_rows=True)
    assert bounds and all(lo < hi for lo, hi in bounds.values())
    # Charts get shares of published cells only.
    shares = out["country_post"].row_percentages()
    assert shares.loc["TJ"].isna().all() and shares.loc["KZ", "agree"] == 50.0
    with pytest.raises(DisclosureError):
        protect_statistics_table(pd.DataFrame({"n": [9]}), "n", []).row_percentages()
    # The SDC log names cells and rules only.
    assert list(frame.columns) == ["table", "row", "column", "rule", "threshold"]


def test_small_cells_fixture_after_collapsing_countries(small_cells_country_gender):
    cohort = small_cells_country_gender
    sizes = cohort["country"].value_counts()
    mapping = collapse_small_groups(list(sizes.index), list(sizes.to_numpy()), 5, "other")
    assert mapping["TM"] == mapping["UZ"] == mapping["TJ"] == "other"
    collapsed = cohort.assign(country=cohort["country"].map(mapping))
    log = SdcLog()
    out = protect_related_tables(_report_tables(collapsed), log=log)
    assert "group_size" not in set(log.to_frame()["rule"])
    assert out["participants"].display["participants"].tolist() == ["10", "10", "10", "30"]
    assert audit_recoverability(out) == []


def test_small_subgroup_in_one_table_is_suppressed_in_all():
    # TM has 5 pre respondents but only 4 post respondents: suppressed in both tables.
    idx = ["KZ", "KG", "TM"]
    pre = _frame({"disagree": [5, 6, 0], "neutral": [6, 5, 0], "agree": [7, 8, 5]}, idx)
    post = _frame({"disagree": [6, 5, 0], "neutral": [5, 7, 0], "agree": [7, 7, 4]}, idx)
    alone = protect_frequency_table(pre)
    assert not alone.suppressed.loc["TM", TOTAL]
    out = protect_related_tables({"pre": pre, "post": post})
    assert out["pre"].suppressed.loc["TM"].all() and out["post"].suppressed.loc["TM"].all()
    assert audit_recoverability(out) == []


def test_audit_links_shared_margins_across_tables():
    # Hand-made publication. Table a publishes KZ's size and hides UZ's and TM's; table b
    # publishes UZ's size and hides KZ's and TM's. Each table alone is safe; together they give
    # TM's size away (27 - 12 - 11).
    idx = pd.Index(["KZ", "UZ", "TM", TOTAL], name="country")
    nan = np.nan
    a = pd.DataFrame({"n": [12, nan, nan, 27], TOTAL: [12, nan, nan, 27]}, index=idx)
    b = pd.DataFrame(
        {"w": [nan, nan, nan, 14], "m": [nan, nan, nan, 13], TOTAL: [nan, 11, nan, 27]},
        index=idx,
    )
    keys = {(r, TOTAL): f"row|country|{r}" for r in idx[:-1]}
    keys.update({(TOTAL, c): f"col|{c}" for c in ["n", "w", "m"]})
    keys[(TOTAL, TOTAL)] = "grand"

    def published(name: str, frame: pd.DataFrame) -> ProtectedTable:
        return ProtectedTable(
            name, frame.astype(str), frame.isna(), frame, "frequency", 5, margin_keys=keys
        )

    ta, tb = published("a", a), published("b", b)
    assert audit_recoverability([ta]) == []
    problems = audit_recoverability([ta, tb])
    assert ("a", "TM", TOTAL) in {(p.table, p.row, p.column) for p in problems}
    assert all(p.kind in {"recovered", "class"} for p in problems)
    assert "worked out" in str(problems[0]) and "11" not in str(problems[0])


def test_audit_finds_what_primary_suppression_alone_leaves_open():
    counts = _frame({"a": [3, 10, 12], "b": [9, 11, 8]}, ["KZ", "KG", "UZ"])
    full = counts.assign(**{TOTAL: counts.sum(axis=1)})
    full.loc[TOTAL] = full.sum()
    naive = full.astype(float).where(full >= 5)  # primary only
    table = ProtectedTable("naive", naive.astype(str), naive.isna(), naive, "frequency", 5)
    problems = audit_recoverability([table])
    assert [(p.row, p.column, p.kind) for p in problems][0] == ("KZ", "a", "recovered")
    assert problems[0].low == problems[0].high == 3


# ----------------------------------------------------------------------------------------------
# Property test: nothing suppressed can be recovered, nothing small is published
# ----------------------------------------------------------------------------------------------


@st.composite
def related_count_tables(draw):
    k = draw(st.sampled_from([3, 5]))
    zeros_disclosive = draw(st.booleans())
    n_rows = draw(st.integers(2, 4))
    rows = [f"g{i}" for i in range(n_rows)]
    cell = st.integers(0, 14)
    n_a = draw(st.integers(1, 3))
    a = pd.DataFrame(
        [[draw(cell) for _ in range(n_a)] for _ in rows],
        index=pd.Index(rows, name="group"),
        columns=[f"a{j}" for j in range(n_a)],
    )
    tables = {"A": a}
    if draw(st.booleans()):
        # A second table on the same people: same row totals, another breakdown.
        n_b = draw(st.integers(2, 3))
        data = []
        for total in a.sum(axis=1):
            cuts = sorted(draw(st.integers(0, int(total))) for _ in range(n_b - 1))
            data.append(np.diff([0, *cuts, int(total)]).tolist())
        tables["B"] = pd.DataFrame(data, index=a.index, columns=[f"b{j}" for j in range(n_b)])
    structural = {}
    if not zeros_disclosive or draw(st.booleans()):
        zero_cells = [(r, c) for r in a.index for c in a.columns if a.loc[r, c] == 0]
        structural["A"] = zero_cells[: draw(st.integers(0, 2))]
    return DisclosurePolicy(k_min=k, zeros_are_disclosive=zeros_disclosive), tables, structural


@settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(related_count_tables())
def test_property_no_suppressed_cell_is_recoverable(case):
    policy, tables, structural = case
    log = SdcLog()
    out = protect_related_tables(tables, policy, log, structural_zeros=structural)
    for name, table in out.items():
        _check_invariants(table, tables[name], policy, set(structural.get(name, [])))
        _lines_ok(table)
    assert audit_recoverability(out) == []
    bounds = _intruder_bounds(
        {n: t.display for n, t in out.items()}, policy.count_marker, linked_rows=True
    )
    for cell, (lo, hi) in bounds.items():
        assert lo < hi, cell
    # Linked subgroup sizes are published everywhere or nowhere.
    if "B" in out:
        assert out["A"].suppressed[TOTAL].equals(out["B"].suppressed[TOTAL])
    assert len(log) == sum(t.n_suppressed for t in out.values())
    event("rules: " + ",".join(sorted(set(log.to_frame()["rule"]))))
    event(f"tables: {len(out)}")


# ----------------------------------------------------------------------------------------------
# Property test: the audit's bounds are those of a plain LP over the whole publication
# ----------------------------------------------------------------------------------------------


def _plain_lp_audit(
    tables: list[ProtectedTable], width: int
) -> list[tuple[str, str, str, str, float, float]]:
    """The audit's findings, by one min and one max LP per suppressed cell over everything.

    No decomposition, no shortcuts: the reference the audit's faster machinery must match.
    """
    values: list[float] = []
    labels: list[tuple[str, str, str]] = []
    by_key: dict[str, int] = {}
    grids = []
    for table in tables:
        num = table.numeric.to_numpy(dtype=float)
        ids = np.empty(num.shape, dtype=int)
        for i, r in enumerate(table.numeric.index):
            for j, c in enumerate(table.numeric.columns):
                key = table.margin_keys.get((r, c))
                if key in by_key:
                    ids[i, j] = by_key[key]
                    if np.isnan(values[ids[i, j]]):
                        values[ids[i, j]] = num[i, j]
                    continue
                values.append(num[i, j])
                labels.append((table.name, str(r), str(c)))
                ids[i, j] = len(values) - 1
                if key is not None:
                    by_key[key] = ids[i, j]
        grids.append((table, ids))
    n = len(values)
    rows = []
    for _table, ids in grids:
        lines = [(ids[i, :-1], ids[i, -1]) for i in range(ids.shape[0])]
        lines += [(ids[:-1, j], ids[-1, j]) for j in range(ids.shape[1])]
        for parts, total in lines:
            coef = np.zeros(n)
            np.add.at(coef, parts, 1.0)
            coef[total] -= 1.0
            rows.append(coef)
    bounds = [(v, v) if not np.isnan(v) else (0, None) for v in values]

    def extreme(q: int, sense: float) -> float:
        c = np.zeros(n)
        c[q] = sense
        res = linprog(c, A_eq=np.array(rows), b_eq=np.zeros(len(rows)), bounds=bounds)
        assert res.status in (0, 3), res.message
        if res.status == 3:
            return np.inf
        return float(np.ceil(res.fun - 1e-6)) if sense > 0 else float(np.floor(-res.fun + 1e-6))

    found = []
    for q in range(n):
        if np.isnan(values[q]):
            low, high = extreme(q, 1.0), extreme(q, -1.0)
            if high - low < width:
                found.append((*labels[q], "recovered", low, high))
    flagged = {f[:3] for f in found}
    for table, ids in grids:
        if not table.class_rule or ids.shape[1] < 3:
            continue
        for i in range(ids.shape[0] - 1):
            total = values[ids[i, -1]]
            if np.isnan(total) or total < table.k_min:
                continue
            for q in ids[i, :-1]:
                if labels[q] in flagged:
                    continue
                low = extreme(q, 1.0) if np.isnan(values[q]) else values[q]
                if total - low < table.k_min:
                    high = extreme(q, -1.0) if np.isnan(values[q]) else values[q]
                    found.append((*labels[q], "class", low, high))
                    flagged.add(labels[q])
    return found


@st.composite
def published_tables(draw):
    """Linked count tables (shared row totals and grand total) with cells hidden at random."""
    n_rows = draw(st.integers(2, 5))
    rows = [f"g{i}" for i in range(n_rows)]
    cell = st.integers(0, 12)
    tables = []
    sizes = None
    for t in range(draw(st.integers(1, 3))):
        n_cols = draw(st.integers(1, 4))
        if sizes is None:
            counts = np.array([[draw(cell) for _ in range(n_cols)] for _ in rows])
            sizes = counts.sum(axis=1)
        else:
            counts = np.array(
                [np.diff([0, *sorted(draw(st.integers(0, int(s))) for _ in range(n_cols - 1)),
                          int(s)]) for s in sizes]
            )
        full = np.zeros((n_rows + 1, n_cols + 1))
        full[:-1, :-1] = counts
        full[:-1, -1] = counts.sum(axis=1)
        full[-1] = full[:-1].sum(axis=0)
        hidden = np.array(draw(st.lists(st.booleans(), min_size=full.size, max_size=full.size)))
        num = np.where(hidden.reshape(full.shape), np.nan, full)
        index = pd.Index([*rows, TOTAL])
        columns = pd.Index([*(f"t{t}c{j}" for j in range(n_cols)), TOTAL])
        frame = pd.DataFrame(num, index=index, columns=columns)
        keys = {(r, TOTAL): f"row|{r}" for r in rows}
        keys[(TOTAL, TOTAL)] = "grand"
        tables.append(
            ProtectedTable(f"t{t}", frame.astype(str), frame.isna(), frame, "frequency", 5,
                           margin_keys=keys, class_rule=draw(st.booleans()))
        )
    return tables, draw(st.sampled_from([1, 1, 2, 3]))


@pytest.mark.parametrize("explore_rounds", [0, disclosure._EXPLORE_ROUNDS])
@settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(case=published_tables())
def test_property_audit_bounds_are_exact(explore_rounds, case):
    # Without exploring, the exact bounds come from the stacked LPs; with it, mostly from
    # feasible points meeting the propagated bounds. Both must give the plain LP's answers.
    tables, width = case
    saved = disclosure._EXPLORE_ROUNDS
    disclosure._EXPLORE_ROUNDS = explore_rounds
    disclosure._COMPONENTS.clear()
    try:
        got = [
            (p.table, p.row, p.column, p.kind, p.low, p.high)
            for p in audit_recoverability(tables, width)
        ]
    finally:
        disclosure._EXPLORE_ROUNDS = saved
    assert got == _plain_lp_audit(tables, width)
    event(f"problems: {min(len(got), 3)}")
