"""Tests of evaluation.findings: wording follows the evidence, in English and Russian."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from evaluation.analysis import WorkshopAnalysis, analyze_workshop
from evaluation.findings import change_direction, effect_size_label, findings, limitations
from evaluation.indicators import compute_indicators
from evaluation.instrument import default_instrument_path, load_instrument

_spec = importlib.util.spec_from_file_location(
    "_analysis_fixture_f", Path(__file__).with_name("test_analysis.py"))
_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixture)
make_waves = _fixture.make_waves

EMPTY = pd.DataFrame()


@pytest.fixture(scope="module")
def inst():
    return load_instrument(default_instrument_path())


def _analysis(inst, scales=EMPTY, disaggregation=EMPTY, k_min=5):
    tables = dict.fromkeys(WorkshopAnalysis.TABLES, EMPTY)
    tables.update(scales=scales, disaggregation=disaggregation)
    return WorkshopAnalysis(**tables, sdc_log=EMPTY, k_min=k_min, instrument=inst,
                            waves=("pre", "post"), matched={"pre-post": 24})


def _index_row(lo, hi, change=0.5, dz=0.9, n=24):
    return pd.DataFrame([{"scale_id": "readiness_index", "wave_a": "pre", "wave_b": "post",
                          "n_pairs": n, "mean_a": 3.0, "mean_b": 3.0 + change,
                          "mean_change": change, "mean_change_ci_low": lo,
                          "mean_change_ci_high": hi, "cohen_dz": dz}])


def test_cohen_labels_and_direction():
    # Cohen (1988): 0.2 small, 0.5 medium, 0.8 large
    assert [effect_size_label(d) for d in (0.19, 0.2, 0.49, 0.5, 0.79, 0.8)] == [
        "negligible", "small", "small", "medium", "medium", "large"]
    assert effect_size_label(0.5, "ru") == "средний"
    assert change_direction(0.01, 0.3) == "improved"
    assert change_direction(-0.01, 0.3) == "unclear"


def test_improved_only_when_ci_excludes_zero(inst):
    a = _analysis(inst, _index_row(0.2, 0.8, dz=0.9))
    en, ru = findings(a)[0], findings(a, language="ru")[0]
    assert "improved" in en and "large effect" in en and "24 participants" in en
    assert "Cohen's 1988" in en
    assert "отмечено улучшение индекса готовности" in ru and "большой эффект" in ru
    assert "0,20" in ru  # Russian decimal comma
    b = _analysis(inst, _index_row(-0.1, 0.6, change=0.25, dz=0.3))
    en, ru = findings(b)[0], findings(b, language="ru")[0]
    assert "no clear change" in en and "improved" not in en and "effect" not in en
    assert "явного изменения индекса готовности не выявлено" in ru
    assert "улучшение" not in ru
    c = _analysis(inst, _index_row(-0.9, -0.2, change=-0.5, dz=-0.6))
    assert "declined" in findings(c)[0] and "medium effect" in findings(c)[0]


def test_too_few_matched(inst):
    a = _analysis(inst, _index_row(float("nan"), float("nan"), n=3))
    assert "Too few participants" in findings(a)[0]
    assert "Слишком мало участников" in findings(a, language="ru")[0]


def test_no_subgroup_under_k_in_findings(inst):
    dis = pd.DataFrame([
        {"dimension": "sector", "group": "government", "n": 18, "mean_change": 0.9,
         "ci_low": 0.5, "ci_high": 1.3},
        {"dimension": "sector", "group": "civil_society", "n": 9, "mean_change": 0.1,
         "ci_low": -0.3, "ci_high": 0.5},
        {"dimension": "sector", "group": "international", "n": 3, "mean_change": 2.0,
         "ci_low": 1.0, "ci_high": 3.0},
    ])
    a = _analysis(inst, _index_row(0.2, 0.8), dis)
    text = " ".join(findings(a))
    assert "government: +0.90, improved, n = 18" in text
    assert "civil society: +0.10, no clear change, n = 9" in text
    assert "international" not in text and "n = 3" not in text
    ru = " ".join(findings(a, language="ru"))
    assert "государственный сектор" in ru and "международные" not in ru
    # with k_min = 10 the civil-society group (n = 9) is no longer cited either, and
    # a single remaining group makes no comparison sentence
    text10 = " ".join(findings(a, k_min=10))
    assert "civil society" not in text10 and "n = 9" not in text10


def test_findings_and_limitations_on_synthetic_workshop(inst):
    w = make_waves(inst)
    res = analyze_workshop(w, inst, n_resamples=200)
    ind = compute_indicators(w, inst, n_resamples=200)
    for lang in ("en", "ru"):
        sent = findings(res, ind, language=lang)
        assert 3 <= len(sent) <= 6
        assert all(s.endswith(".") for s in sent)
        lim = limitations(res, lang)
        assert len(lim) >= 4
    en = " ".join(findings(res, ind))
    assert "n = " in en or "participants" in en
    lim = " ".join(limitations(res))
    assert "self-reported" in lim and "comparison group" in lim and "language" in lim
    lim_ru = " ".join(limitations(res, "ru"))
    assert "самооценке" in lim_ru and "Контрольной группы нет" in lim_ru
    # every subgroup cited has n >= k_min
    dis = res.disaggregation
    for r in dis[dis.n.isna() | (dis.n < res.k_min)].itertuples():
        assert f"{r.group}:" not in en


def test_limitations_without_followup(inst):
    w = make_waves(inst, followup=False)
    res = analyze_workshop(w, inst, n_resamples=50)
    assert any("no follow-up" in s for s in limitations(res))
    assert any("Повторного опроса не было" in s for s in limitations(res, "ru"))
