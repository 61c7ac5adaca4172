"""Tests of evaluation.indicators: status logic on hand-made numbers and measures on waves."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.errors import AnalysisError
from evaluation.indicators import (
    INDICATOR_COLUMNS,
    compute_indicators,
    default_framework,
    indicator_status,
    load_framework,
)
from evaluation.instrument import default_instrument_path, load_instrument
from evaluation.stats import wilson_ci

_spec = importlib.util.spec_from_file_location(
    "_analysis_fixture", Path(__file__).with_name("test_analysis.py"))
_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixture)
make_waves = _fixture.make_waves


@pytest.fixture(scope="module")
def inst():
    return load_instrument(default_instrument_path())


@pytest.mark.parametrize(
    ("value", "lo", "hi", "target", "n", "expected"),
    [
        (0.85, 0.72, 0.93, 0.70, 28, "met"),  # whole CI above the target
        (0.40, 0.25, 0.57, 0.70, 28, "not met"),  # whole CI below
        (0.75, 0.55, 0.88, 0.70, 28, "inconclusive"),  # CI spans the target
        (0.65, 0.45, 0.80, 0.70, 28, "inconclusive"),
        (0.90, math.nan, math.nan, 1.0, 30, "not met"),  # no CI: compare the value
        (1.00, math.nan, math.nan, 1.0, 30, "met"),
        (0.90, 0.70, 1.00, 0.70, 4, "not measured"),  # n < k_min
        (math.nan, math.nan, math.nan, 0.5, 0, "not measured"),
    ],
)
def test_status(value, lo, hi, target, n, expected):
    assert indicator_status(value, lo, hi, target, n, k_min=5) == expected


def test_status_decrease_direction():
    assert indicator_status(0.1, 0.05, 0.15, 0.2, 20, direction="decrease") == "met"
    assert indicator_status(0.3, 0.25, 0.35, 0.2, 20, direction="decrease") == "not met"


def test_default_framework_targets():
    ids = {i["id"]: i for i in default_framework()["indicators"]}
    assert ids["readiness_increased"]["target"] == 0.70
    assert ids["strategy_competence_change"]["scale"] == "strategy_competence"
    assert ids["strategy_competence_change"]["target"] == 0.5
    assert ids["better_positioned"]["item"] == "re_better_positioned"
    assert ids["better_positioned"]["target"] == 0.80
    assert ids["knowledge_gain"]["target"] == 0.3
    assert ids["new_contact"]["target"] == 0.60
    assert ids["followup_applied"]["target"] == 0.50
    assert all(set(i["label"]) == {"en", "ru"} for i in ids.values())


def test_framework_from_yaml_file(tmp_path):
    (tmp_path / "rf.yaml").write_text(
        "indicators:\n  - id: agree\n    label: {en: Agree, ru: Согласны}\n    level: reaction\n"
        "    baseline: 0.5\n    target: 0.8\n    measure: share_agree\n    item: re_relevance\n",
        encoding="utf-8")
    fw = load_framework("rf.yaml", tmp_path)
    assert fw["indicators"][0]["baseline"] == 0.5
    with pytest.raises(AnalysisError, match="needs 'scale'"):
        load_framework({"indicators": [{"id": "x", "target": 1, "level": "outcome",
                                        "measure": "mean_change_scale"}]})


def test_indicators_on_synthetic_workshop(inst):
    w = make_waves(inst)
    tab = compute_indicators(w, inst, n_resamples=200)
    assert list(tab.columns) == [*INDICATOR_COLUMNS, "note"]
    row = tab.set_index("indicator_id")
    # better positioned: share of 4-5 among answered, Wilson interval recomputed here
    # (a share that leaves out fewer than 5 people, or none, is suppressed like a table's)
    x = pd.to_numeric(w["post"]["re_better_positioned"])
    agree, answered = int((x >= 4).sum()), int(x.notna().sum())
    ci = wilson_ci(agree, answered)
    if 5 <= agree <= answered - 5:
        assert row.loc["better_positioned", "value"] == pytest.approx(agree / answered)
        assert row.loc["better_positioned", "ci_low"] == pytest.approx(ci.ci_low)
    else:
        assert np.isnan(row.loc["better_positioned", "value"])
        assert "one of the answers" in row.loc["better_positioned", "note"]
    # follow-up applied or materials, by hand
    fu = w["followup"]
    yes = fu["fu_applied"].isin(["several", "once"]) | (fu["fu_materials"] == "Y")
    assert 5 <= yes.sum() <= len(yes) - 5
    assert row.loc["followup_applied", "value"] == pytest.approx(yes.mean())
    assert row.loc["followup_applied", "n"] == 20
    # participation: 6 of each of five countries in pre (default plan of the concept note)
    assert row.loc["participation_country", "value"] == pytest.approx(1.0)
    assert row.loc["participation_country", "status"] == "met"
    for iid in ("readiness_increased", "knowledge_gain", "new_contact"):
        assert row.loc[iid, "status"] in ("met", "not met", "inconclusive")
    ru = compute_indicators(w, inst, language="ru", n_resamples=50)
    assert ru.label.iloc[0].startswith("Доля участников")


@pytest.mark.parametrize(("agree", "published"), [(21, True), (5, True), (23, False),
                                                   (26, False), (4, False), (0, False)])
def test_share_leaving_out_fewer_than_k_people_is_suppressed(inst, agree, published):
    """"88% of 26" would tell that 3 did not agree: suppressed, like a table's percentage."""
    answers = ["5"] * agree + ["2"] * (26 - agree)
    fw = [{"id": "bp", "label": {"en": "Better positioned"}, "level": "outcome",
           "target": 0.8, "measure": "share_agree", "item": "re_better_positioned"}]
    row = compute_indicators({"post": pd.DataFrame({"re_better_positioned": answers})}, inst,
                             framework=fw, k_min=5).iloc[0]
    assert row.n == 26
    # the status still speaks for the whole cohort (computed by hand from the Wilson interval)
    ci = wilson_ci(agree, 26)
    assert row.status == indicator_status(agree / 26, ci.ci_low, ci.ci_high, 0.8, 26)
    if published:
        assert row.value == pytest.approx(agree / 26) and row.note == ""
    else:
        assert np.isnan(row.value) and np.isnan(row.ci_low) and np.isnan(row.ci_high)
        assert row.note == "suppressed: fewer than 5 respondents gave one of the answers"


def test_not_measured_when_n_below_k_and_when_wave_absent(inst):
    w = make_waves(inst, n=4, n_post=4, n_fu=4)
    tab = compute_indicators(w, inst, n_resamples=50).set_index("indicator_id")
    r = tab.loc["readiness_increased"]
    assert r.status == "not measured" and np.isnan(r.value) and pd.isna(r.n)
    assert "suppressed" in r.note
    w2 = make_waves(inst, followup=False)
    tab2 = compute_indicators(w2, inst, n_resamples=50).set_index("indicator_id")
    assert tab2.loc["followup_applied", "status"] == "not measured"
    assert tab2.loc["followup_applied", "n"] == 0
    assert "followup" in tab2.loc["followup_applied", "note"]


def test_mean_change_scale_status_hand_made(inst):
    # Six matched people, strategy_competence items all move 2 -> 3 except one 2 -> 2:
    # mean change 5/6 = 0.833, t interval above 0.5? d = [1,1,1,1,1,0], sd 0.408,
    # se 0.167, t(0.975, 5) = 2.571 -> CI 0.405 to 1.262: spans 0.5 -> inconclusive.
    items = list(inst.scales["strategy_competence"].items)
    keys = [f"P{i}" for i in range(6)]
    pre = pd.DataFrame({i: ["2"] * 6 for i in items})
    post = pd.DataFrame({i: ["3"] * 5 + ["2"] for i in items})
    for f, p in ((pre, "a"), (post, "b")):
        f["participant_key"] = keys
        f["collision"] = False
        f.index = pd.Index([f"{p}{i}" for i in range(6)], name="record_id")
    fw = [{"id": "sc", "label": {"en": "SC"}, "level": "learning", "target": 0.5,
           "measure": "mean_change_scale", "scale": "strategy_competence"}]
    row = compute_indicators({"pre": pre, "post": post}, inst, framework=fw).iloc[0]
    assert row.value == pytest.approx(5 / 6)
    assert row.ci_low == pytest.approx(5 / 6 - 2.570582 * np.sqrt(1 / 6) / np.sqrt(6), abs=1e-5)
    assert row.status == "inconclusive"
    fw[0]["target"] = 0.3
    assert compute_indicators({"pre": pre, "post": post}, inst,
                              framework=fw).iloc[0].status == "met"
    fw[0]["target"] = 1.5
    assert compute_indicators({"pre": pre, "post": post}, inst,
                              framework=fw).iloc[0].status == "not met"
