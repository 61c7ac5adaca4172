"""Scoring rules: reverse keying, don't-know as missing, the two-thirds rule, knowledge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.instrument import default_instrument_path, load_instrument
from evaluation.scoring import (
    domain_scores,
    dont_know_counts,
    item_scores,
    knowledge_correct,
    knowledge_scores,
    scale_scores,
)


@pytest.fixture(scope="module")
def inst():
    return load_instrument(default_instrument_path())


def test_reverse_item_is_reflected_and_dk_is_missing_not_midpoint(inst):
    rev = next(it for it in inst.items if it.reverse)
    normal = next(it for it in inst.items_of_scale(rev.scale) if not it.reverse)
    df = pd.DataFrame({rev.id: ["1", "2", "3", "4", "5", "dk", None, "7"],
                       normal.id: ["1", "2", "3", "4", "5", "dk", None, "0"]})
    scores = item_scores(df, inst, "pre")
    assert scores[rev.id].tolist()[:5] == [5.0, 4.0, 3.0, 2.0, 1.0]
    assert scores[normal.id].tolist()[:5] == [1.0, 2.0, 3.0, 4.0, 5.0]
    # don't know, skipped and out-of-range codes are missing, never 3
    assert scores[[rev.id, normal.id]].iloc[5:].isna().all().all()
    assert dont_know_counts(df, inst, "pre")[rev.id] == 1


def test_scale_needs_two_thirds_of_items(inst):
    items = list(inst.scales["pillar1_practices"].items)  # 6 items: 4 needed
    assert len(items) == 6
    rows = [
        ["4"] * 6,                              # all answered -> 4
        ["2", "4", "dk", "dk", "4", "4"],       # 4 of 6 answered -> mean 3.5
        ["2", "4", "dk", None, "4", None],      # 3 of 6 answered -> missing
    ]
    df = pd.DataFrame(rows, columns=items)
    got = scale_scores(df, inst, "pre")["pillar1_practices"].tolist()
    assert got[0] == 4.0 and got[1] == 3.5 and np.isnan(got[2])


def test_retro_scores_come_from_retro_columns(inst):
    item = inst.items_for_wave("retro")[0]
    df = pd.DataFrame({item.id: ["5"], item.retro_id: ["2"]})
    assert item_scores(df, inst, "retro")[item.id].iloc[0] == 2.0
    assert item_scores(df, inst, "post")[item.id].iloc[0] == 5.0


def test_knowledge_percent_correct(inst):
    qs = [it for it in inst.items_for_wave("pre") if it.type == "knowledge"]
    wrong = {q.id: next(c for c in inst.choice_list_of(q).codes if c != q.correct) for q in qs}
    row_all = {q.id: q.correct for q in qs}
    row_half = {q.id: (q.correct if i % 2 == 0 else wrong[q.id]) for i, q in enumerate(qs)}
    row_skip = {q.id: (q.correct if i == 0 else None) for i, q in enumerate(qs)}
    row_none = {q.id: None for q in qs}
    df = pd.DataFrame([row_all, row_half, row_skip, row_none])
    pct = knowledge_scores(df, inst, "pre").tolist()
    assert pct[0] == 100.0
    assert pct[1] == pytest.approx(100 * len(qs[::2]) / len(qs))
    assert pct[2] == pytest.approx(100 / len(qs))  # skipped questions count as not correct
    assert np.isnan(pct[3])
    assert knowledge_correct(df, inst, "pre").iloc[3].isna().all()


def test_typed_columns_and_precomputed_scores_give_the_same_scores(inst):
    rev = next(it for it in inst.items if it.reverse)
    normal = next(it for it in inst.items_of_scale(rev.scale) if not it.reverse)
    text = pd.DataFrame({rev.id: ["1", "5", None, "dk"], normal.id: ["2", "4", "3", None]})
    typed = pd.DataFrame({rev.id: pd.array(["1", "5", None, "dk"], dtype="string"),
                          normal.id: [2.0, 4.0, 3.0, np.nan]})
    pd.testing.assert_frame_equal(item_scores(text, inst, "pre"), item_scores(typed, inst, "pre"))
    scores = item_scores(text, inst, "pre")
    pd.testing.assert_frame_equal(scale_scores(text, inst, "pre", items=scores),
                                  scale_scores(text, inst, "pre"))
    scales = scale_scores(text, inst, "pre")
    pd.testing.assert_series_equal(domain_scores(text, inst, "pre", scales=scales),
                                   domain_scores(text, inst, "pre"))
    q = next(it for it in inst.items if it.type == "knowledge")
    answers = pd.DataFrame({q.id: [q.correct, "zz", None]})
    correct = knowledge_correct(answers, inst, "pre")
    pd.testing.assert_series_equal(knowledge_scores(answers, inst, "pre", correct=correct),
                                   knowledge_scores(answers, inst, "pre"))
