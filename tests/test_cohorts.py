"""Cohort comparison: pooling against metafor, compatibility, suppression, end to end."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import warehouse as wh
from evaluation.cli import main
from evaluation.cohorts import (
    META_COLUMNS,
    CohortComparison,
    between_groups_q,
    dz_variance,
    pool_effects,
)

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo-workshops"
REF = ROOT / "tests" / "data" / "reference"
SMALL = ("almaty-2012-11", "bishkek-2013-04", "dushanbe-2014-10")
COUNT_COLUMNS = ("n", "n_pairs", "n_pre", "n_post", "n_followup", "matched_pre_post")


def _bcg() -> pd.DataFrame:
    """dat.bcg log risk ratios as metafor's escalc(measure = "RR")."""
    d = pd.read_csv(REF / "dat_bcg.csv")
    yi = np.log(d.tpos / (d.tpos + d.tneg)) - np.log(d.cpos / (d.cpos + d.cneg))
    vi = 1 / d.tpos - 1 / (d.tpos + d.tneg) + 1 / d.cpos - 1 / (d.cpos + d.cneg)
    return pd.DataFrame({"scale_id": "bcg", "group": d["alloc"], "yi": yi, "vi": vi})


def test_pooling_path_matches_metafor_on_dat_bcg():
    meta, tests = pool_effects(_bcg())
    overall = meta[meta["group"] == "overall"].iloc[0]
    # metafor README, rma(yi, vi) on dat.bcg (REML): estimate -0.7145, tau^2 0.3132,
    # I^2 92.22%, Q(df = 12) = 152.2330; rma(yi, vi, test = "knha"): se 0.1808,
    # ci.lb -1.1084, ci.ub -0.3206 (the same values tests/test_stats.py cites).
    assert overall["k"] == 13
    assert overall["estimate"] == pytest.approx(-0.7145, abs=5e-5)
    assert overall["tau2"] == pytest.approx(0.3132, abs=5e-5)
    assert overall["i2"] == pytest.approx(92.22, abs=5e-3)
    assert overall["q"] == pytest.approx(152.2330, abs=5e-5)
    assert overall["se"] == pytest.approx(0.1808, abs=5e-5)
    assert overall["ci_low"] == pytest.approx(-1.1084, abs=5e-5)
    assert overall["ci_high"] == pytest.approx(-0.3206, abs=5e-5)
    assert set(meta["group"]) == {"overall", "alternate", "random", "systematic"}
    assert meta.groupby("group")["k"].first().to_dict() == {
        "overall": 13, "alternate": 2, "random": 7, "systematic": 4}
    assert list(meta.columns) == list(META_COLUMNS)
    assert tests["groups"].iloc[0] == 3 and tests["df"].iloc[0] == 2


def test_pooling_path_matches_metafor_on_dat_raudenbush1985():
    d = pd.read_csv(REF / "dat_raudenbush1985.csv")
    eff = pd.DataFrame({"scale_id": "expectancy", "group": d["tester"], "yi": d["yi"],
                        "vi": d["vi"]})
    meta, _ = pool_effects(eff)
    overall = meta[meta["group"] == "overall"].iloc[0]
    # metafor test_analysis_example_raudenbush1985.r (Raudenbush & Bryk 1985): REML tau2 0.0188,
    # estimate 0.0837, QE 35.8295 (estimate, tau2 and Q do not depend on the knha adjustment).
    assert overall["tau2"] == pytest.approx(0.0188, abs=5e-5)
    assert overall["estimate"] == pytest.approx(0.0837, abs=5e-5)
    assert overall["q"] == pytest.approx(35.8295, abs=5e-5)


def test_between_groups_q_closed_form():
    # Two groups of one study each: Q_between = (y1 - y2)^2 / (v1 + v2), chi-squared on 1 df.
    y1, v1, y2, v2 = 0.30, 0.02, 0.75, 0.05
    q, df, p = between_groups_q([y1, y2], [math.sqrt(v1), math.sqrt(v2)])
    expected = (y1 - y2) ** 2 / (v1 + v2)
    assert q == pytest.approx(expected, rel=1e-12) and df == 1
    assert p == pytest.approx(math.erfc(math.sqrt(expected / 2)), rel=1e-9)
    eff = pd.DataFrame({"scale_id": "s", "group": ["a", "b"], "yi": [y1, y2], "vi": [v1, v2]})
    meta, tests = pool_effects(eff)
    assert tests["q_between"].iloc[0] == pytest.approx(expected, rel=1e-9)
    single = meta[meta["group"] == "a"].iloc[0]  # one workshop: its own normal interval
    assert single["ci_low"] == pytest.approx(y1 - 1.959964 * math.sqrt(v1), abs=1e-6)


def test_dz_variance_formula():
    # v = 1/n + d^2 / (2n) (Borenstein et al. 2009, ch. 4, on the differences; Lakens 2013)
    assert float(dz_variance(0.8, 25)) == pytest.approx(1 / 25 + 0.64 / 50)
    assert float(dz_variance(0.0, 10)) == pytest.approx(0.1)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("cohort") / "warehouse.duckdb"
    for ws in SMALL:
        wh.add_workshop(DEMO / ws, path)
    return path


def test_incompatible_instrument_version_is_excluded_with_reason(warehouse):
    comp = CohortComparison.prepare(warehouse, write=False)
    ex = comp.exclusions
    row = ex[(ex["id"] == "reaction_quality") & (ex["workshop_id"] == "almaty-2012-11")]
    assert len(row) == 1
    reason = row["reason"].iloc[0]
    assert "pvect-readiness 1.0" in reason and "re_venue" in reason
    assert "re_interpretation" in reason
    rs = comp.post_scales[comp.post_scales["scale_id"] == "reaction_quality"]
    # almaty (phase I) is left out: phase I rests on bishkek alone
    assert rs.set_index("group").loc["I", "k"] == 1
    eff = comp.effects
    assert not (eff["scale_id"] == "reaction_quality").any()  # not a pre/post scale
    assert (eff[eff["workshop_id"] == "almaty-2012-11"]["scale_id"].nunique()) >= 5


def test_indicator_means_say_how_many_values_they_rest_on(warehouse):
    """A group's mean indicator value averages the published values only, and says how many."""
    comp = CohortComparison.prepare(warehouse, write=False)
    with wh.connect(warehouse, read_only=True) as con:
        raw = con.execute("SELECT workshop_id, indicator_id, value FROM indicator_results"
                          ).df()
    groups = comp.workshops.set_index("workshop_id")["group"]
    raw = raw[raw["workshop_id"].isin(groups.index)].assign(
        group=lambda f: f["workshop_id"].map(groups))
    checked = partial = 0
    for row in comp.indicators.itertuples(index=False):
        mine = raw[(raw["group"] == row.group) & (raw["indicator_id"] == row.indicator_id)]
        starts = mine["workshop_id"].map(comp.workshops.set_index("workshop_id")["start_date"])
        years = [str(pd.Timestamp(d).year) if pd.notna(d) else "unknown" for d in starts]
        mine = mine[[y == row.year for y in years]]
        values = pd.to_numeric(mine["value"], errors="coerce").dropna()
        assert row.k_values == len(values) <= row.k
        if len(values):
            assert row.mean_value == pytest.approx(values.mean())
        else:
            assert math.isnan(row.mean_value)
        partial += row.k_values < row.k
        checked += 1
    assert checked and partial  # some values are suppressed: the count is not always k
    assert "Workshops in the mean" in comp.indicators_html()


def test_small_workshops_are_suppressed_and_not_pooled(warehouse):
    comp = CohortComparison.prepare(warehouse, write=False, k_min=17)
    eff = comp.effects
    small = eff[~eff["included"]]
    assert len(small) and small["yi"].isna().all() and small["n"].isna().all()
    assert (comp.exclusions["reason"].str.contains("Fewer than 17 matched")).any()
    assert (comp.meta["n_pairs"].dropna() >= 17).all()
    for name, table in comp.results_tables().items():
        for col in COUNT_COLUMNS:
            if col in table.columns:
                values = pd.to_numeric(table[col], errors="coerce").dropna()
                assert not ((values > 0) & (values < 17)).any(), (name, col)


def test_unknown_grouping_and_workshop(warehouse):
    from evaluation.errors import AnalysisError, WarehouseError

    with pytest.raises(AnalysisError):
        CohortComparison.prepare(warehouse, write=False, by="colour")
    with pytest.raises(WarehouseError, match="not in the warehouse"):
        CohortComparison.prepare(warehouse, write=False, workshops=["nope", SMALL[0]])
    comp = CohortComparison.prepare(warehouse, write=False, by="year",
                                    workshops=" ".join(SMALL[:2]))
    assert set(comp.workshops["group"]) == {"2012", "2013"}


@pytest.mark.slow
def test_end_to_end_compare_by_phase(warehouse, tmp_path, capsys):
    out = tmp_path / "cohorts" / "by-phase"
    assert main(["compare", "--warehouse", str(warehouse), "--by", "phase",
                 "--out", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "SYNTHETIC DEMONSTRATION DATA" in page
    assert "Forest plot of the standardized" in page
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)
    assert "re_venue" in page  # the reason for leaving reaction_quality out is stated
    for name in ("report.pdf", "annex.xlsx", "results/provenance.json",
                 "results/effects.csv", "results/excluded.csv"):
        assert (out / name).is_file(), name
    meta = pd.read_csv(out / "results" / "meta_analysis.csv")
    required = ["scale_id", "group", "k", "estimate", "ci_low", "ci_high", "tau2", "i2", "q",
                "q_pvalue"]
    assert set(required) <= set(meta.columns)
    scales = set(meta["scale_id"])
    assert {"strategy_competence", "design_confidence"} <= scales
    for scale in scales:
        groups = set(meta.loc[meta["scale_id"] == scale, "group"])
        assert "overall" in groups and groups - {"overall"} <= {"I", "II"}
    assert not meta.duplicated(["scale_id", "group"]).any()
    # no published count under k_min anywhere in the outputs
    for csv in (out / "results").glob("*.csv"):
        table = pd.read_csv(csv)
        for col in COUNT_COLUMNS:
            if col in table.columns:
                values = pd.to_numeric(table[col], errors="coerce").dropna()
                assert not ((values > 0) & (values < 5)).any(), (csv.name, col)
    prov = (out / "results" / "provenance.json").read_text(encoding="utf-8")
    assert str(warehouse.parent) not in prov


def test_dz_from_responses_matches_published_scales_table(warehouse):
    # The pairing and the mean / sd of the differences run inside DuckDB; d_z must equal what
    # each workshop report published (results/scales.csv) wherever the pairs are the same.
    comp = CohortComparison.prepare(warehouse, write=False)
    con = wh.connect(warehouse, read_only=True)
    try:
        pub = con.execute("SELECT workshop_id, scale_id, n_pairs, cohen_dz FROM scale_results "
                          "WHERE wave_a = 'pre' AND wave_b = 'post' AND cohen_dz IS NOT NULL"
                          ).df()
    finally:
        con.close()
    eff = comp.effects[comp.effects["included"] & (comp.effects["source"] == "responses")]
    m = eff.merge(pub, on=["workshop_id", "scale_id"])
    m = m[m["n"].astype(float) == m["n_pairs"].astype(float)]
    assert len(m) >= 10
    assert np.max(np.abs(m["yi"].to_numpy(float) - m["cohen_dz"].to_numpy(float))) < 1e-9


def _texts(pattern: str, page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", x).strip() for x in re.findall(pattern, page, flags=re.S)]


def test_russian_comparison_is_russian_throughout(warehouse):
    comp = CohortComparison.prepare(warehouse, write=False, language="ru")
    page = comp.html_sections()
    headers = _texts(r"<th[^>]*>(.*?)</th>", page)
    assert {"Семинар", "Шкала", "Группа", "Причина", "Семинаров", "Оценка", "ДИ от",
            "Страна проведения", "Подгруппа"} <= set(headers)
    # no column id of any table leaks into a Russian header ("n" is the same in both)
    ids = {str(c) for table in comp.results_tables().values() for c in table.columns}
    assert not (set(headers) & ids) - {"n"}
    symbols = {"n", "p", "τ²", "I²", "Q", "p (Q)"}
    assert all(re.search("[А-Яа-яЁё]", h) or h in symbols for h in headers), headers
    # decimal commas: every non-integer number in a cell has a comma, none a point
    cells = _texts(r"<td[^>]*>(.*?)</td>", page)
    numbers = [c for c in cells if re.fullmatch(r"-?\d+[.,]\d+%?", c)]
    assert len(numbers) > 50 and all("," in c for c in numbers)
    assert "0,5" in page or "0,4" in page
    # dates, host countries, group and subgroup labels, scale labels from the instrument
    assert "14 ноября 2012 г." in page and "Казахстан" in page
    assert "всего" in cells and "государственный сектор" in cells
    label = comp.scale_labels["strategy_competence"]
    assert re.search("[А-Яа-я]", label) and label in page
    # the excluded-items reasons in Russian on screen, in English in results/
    assert "состоит из вопросов re_materials, re_facilitation, re_venue" in page
    assert "defines scale" not in page and "Instrument " not in page
    assert comp.exclusions["reason"].str.contains("Instrument").all()
    assert "Методология" in page and "Семинары сравниваются" in page
    # forest plot: axis label, legend, ticks, alt text and caption in Russian
    fig = comp.forest_plots()[0]
    ax = fig.figure.axes[0]
    assert ax.get_xlabel() == "d_z (95% ДИ)"
    legend = [t.get_text() for t in fig.figure.legends[0].get_texts()]
    assert legend[0] == "Семинар (d_z, 95% ДИ)" and "Объединённая оценка, всего" in legend
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and not any("." in t for t in ticks)
    assert any("всего: k=" in t.get_text() for t in ax.get_yticklabels())
    assert fig.alt_text.startswith("Лесовидный график") and "всего " in fig.alt_text
    assert not re.search(r"\d\.\d", fig.alt_text) and " до " in fig.alt_text
    assert fig.caption.startswith("Лесовидный график")


def test_english_comparison_headers_and_words(warehouse):
    comp = CohortComparison.prepare(warehouse, write=False, by="country")
    page = comp.html_sections()
    headers = set(_texts(r"<th[^>]*>(.*?)</th>", page))
    assert {"Workshop", "Scale", "Reason", "Workshops", "Estimate"} <= headers
    assert not re.search("[А-Яа-я]", page)
    assert "14 November 2012" in page and "Kazakhstan" in page
    fig = comp.forest_plots()[0]
    assert fig.figure.axes[0].get_xlabel() == "d_z (95% CI)"
    assert "overall" in fig.alt_text
