"""Disclosure control of whole reports: nothing suppressed can be worked out from what is published.

For every demo workshop the analysis is run as the report runs it (default k_min 5), then:

- the LP oracle (:func:`evaluation.disclosure.audit_recoverability`) runs over all of the
  analysis' protected count tables together;
- independent checks read only the published numeric tables (what ``results/*.csv`` holds): no
  count between 1 and k_min - 1, no mean or share resting on fewer than k_min, and no hidden
  subgroup size that is the published total minus the other published sizes.

Then each rule is shown firing on the analysis output of a small constructed cohort.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.analysis import analyze_workshop
from evaluation.disclosure import audit_recoverability
from evaluation.ingest import ingest_workshop
from evaluation.instrument import default_instrument_path, load_instrument

DEMO = Path(__file__).resolve().parent.parent / "demo-workshops"
WORKSHOPS = sorted(p.name for p in DEMO.iterdir() if (p / "workshop.yaml").exists())
K = 5

# Count columns of the published tables, and the n each mean / share column rests on.
COUNTS = {
    "participation": ["n"],
    "disaggregation": ["n"],
    "distributions": ["n", "disagree", "neutral", "agree"],
    "reaction": ["n", "count_1", "count_2", "count_3", "count_4", "count_5", "count_missing"],
    "reaction_collapsed": ["n", "disagree", "neutral", "agree", "count_missing"],
    "item_distributions": ["n", "disagree", "neutral", "agree"],
    "knowledge": ["n"],
    "followup": ["n"],
    "items": ["n_pairs"],
    "scales": ["n_pairs"],
    "reliability": ["n"],
    "cooperation": ["n_pairs"],
}
RESTS_ON = {
    "items": ("n_pairs", ["mean_a", "mean_b", "mean_change", "p_value", "pct_improved"]),
    "scales": ("n_pairs", ["mean_a", "mean_b", "mean_change", "t", "cohen_dz"]),
    "disaggregation": ("n", ["mean_a", "mean_b", "mean_change", "ci_low", "ci_high"]),
    "reaction": ("n", ["mean", "mean_ci_low", "mean_ci_high", "pct_agree"]),
    "knowledge": ("n", ["pct_correct_pre", "pct_correct_post", "mean_change"]),
    "followup": ("n", ["pct", "ci_low", "ci_high"]),
    "cooperation": ("n_pairs", ["mean_change", "pct_new_contact"]),
    "reliability": ("n", ["alpha"]),
}


@pytest.fixture(scope="module", params=WORKSHOPS)
def demo(request):
    ingest = ingest_workshop(DEMO / request.param)
    analysis = analyze_workshop(ingest.waves, ingest.instrument, ingest.config, k_min=K,
                                n_resamples=50, seed=1)
    return request.param, analysis


def test_lp_audit_finds_nothing_over_all_protected_tables(demo):
    name, analysis = demo
    assert analysis.protected, name
    # the report's count tables, all of them: participation, subgroups, reaction, items, ...
    kinds = {t.split(":")[0] for t in analysis.protected}
    assert {"participation", "reaction", "item_distribution"} <= kinds
    problems = audit_recoverability(analysis.protected)
    assert problems == [], [str(p) for p in problems[:5]]


def test_no_small_count_is_published(demo):
    name, analysis = demo
    tables = analysis.tables()
    for table, columns in COUNTS.items():
        frame = tables[table]
        for c in columns:
            if c not in frame.columns:
                continue
            values = pd.to_numeric(frame[c], errors="coerce").dropna()
            bad = values[(values > 0) & (values < K)]
            assert bad.empty, (name, table, c, bad.tolist())
            # zeros are disclosive by default: none is published
            assert not (values == 0).any(), (name, table, c)


def test_no_mean_or_share_rests_on_fewer_than_k(demo):
    name, analysis = demo
    tables = analysis.tables()
    for table, (n_col, value_cols) in RESTS_ON.items():
        frame = tables[table]
        n = pd.to_numeric(frame[n_col], errors="coerce") if len(frame) else pd.Series([])
        for c in value_cols:
            if c not in frame.columns:
                continue
            shown = pd.to_numeric(frame[c], errors="coerce").notna()
            # a published value needs a published n of at least k_min
            assert (n[shown].notna() & (n[shown] >= K)).all(), (name, table, c)


def test_wave_totals_the_report_gives_elsewhere_stay_published(demo):
    """Respondents per wave and matched pairs appear in the indicators, response rates and
    findings; hiding them in the participation table would protect nothing."""
    name, analysis = demo
    ingest = ingest_workshop(DEMO / name)
    part = analysis.participation
    totals = part[part.dimension == "total"].set_index("wave")["n"]
    for wave, frame in ingest.waves.items():
        if wave in totals.index and len(frame) >= K:
            assert totals[wave] == len(frame), (name, wave)


def test_no_hidden_group_size_is_total_minus_the_others(demo):
    """Participation by dimension: one hidden size beside a published total is a leak."""
    name, analysis = demo
    part = analysis.participation
    totals = part[part.dimension == "total"].set_index("wave")["n"]
    checked = 0
    for (wave, dim), rows in part[~part.dimension.isin(["total", "matched"])].groupby(
            ["wave", "dimension"]):
        hidden = rows["n"].isna().sum()
        total = totals.get(wave)
        if pd.notna(total):
            assert hidden != 1, (name, wave, dim)
            checked += 1
            if hidden == 0:
                assert rows["n"].sum() == total
    assert checked > 0
    # the same for the disaggregation n's, whose groups split the matched pre-post pairs
    pairs = part[(part.dimension == "matched") & (part.group == "pre-post")]["n"]
    dis = analysis.disaggregation
    if len(pairs) and pd.notna(pairs.iloc[0]) and len(dis):
        for dim, rows in dis.groupby("dimension"):
            assert rows["n"].isna().sum() != 1, (name, dim)


def test_collapsed_versions_are_consistent_with_the_detail(demo):
    """A published 3-category count and the published 5-category counts never reveal a cell."""
    name, analysis = demo
    react = analysis.reaction.set_index("item_id")
    coll = analysis.reaction_collapsed.set_index("item_id")
    for item_id, row in coll.iterrows():
        c4, c5 = react.loc[item_id, "count_4"], react.loc[item_id, "count_5"]
        if pd.notna(row["agree"]):
            # exactly one of count_4 / count_5 hidden would be agree minus the other
            assert pd.isna(c4) == pd.isna(c5) or (pd.notna(c4) and pd.notna(c5)), item_id
        if pd.notna(react.loc[item_id, "pct_agree"]):
            assert pd.notna(row["agree"]), item_id
    dist = analysis.item_distributions
    assert set(dist.columns) == {"item_id", "wave", "n", "disagree", "neutral", "agree",
                                 "suppressed"}
    assert {"pre", "post"} <= set(dist["wave"])
    full = dist[~dist["suppressed"]]
    assert (full[["disagree", "neutral", "agree"]].sum(axis=1) == full["n"]).all()


# ---------------------------------------------------------------------------------------------
# Each rule firing on the analysis output of a small constructed cohort
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inst():
    return load_instrument(default_instrument_path())


@pytest.fixture(scope="module")
def small(inst):
    """12 people: 7 from KZ, 5 from KG; the KG five all disagree on re_relevance afterwards."""
    n = 12
    countries = ["KZ"] * 7 + ["KG"] * 5
    keys = [f"P{i:03d}" for i in range(n)]
    rng = np.random.default_rng(3)

    def wave(tag, relevance=None):
        data = {inst.item_by_role("country").id: countries,
                inst.item_by_role("gender").id: ["F", "M"] * 6}
        for it in inst.items_for_wave(tag):
            if it.type == "likert" and it.id not in data:
                data[it.id] = [str(v) for v in rng.integers(2, 6, n)]
        if relevance is not None:
            data["re_relevance"] = relevance
        frame = pd.DataFrame(data)
        frame["participant_key"] = keys
        frame["collision"] = False
        frame.index = pd.Index([f"{tag}{i}" for i in range(n)], name="record_id")
        return frame

    relevance = ["5", "5", "4", "5", "4", "4", "5", "1", "2", "1", "2", "2"]
    waves = {"pre": wave("pre"), "post": wave("post", relevance)}
    return analyze_workshop(waves, inst, k_min=K, n_resamples=50, seed=1)


def _rules(res, prefix):
    log = res.sdc_log
    return set(log.loc[log["table"].str.startswith(prefix), "rule"])


def test_primary_rule_fires_on_the_reaction_counts(small):
    react = small.reaction.set_index("item_id")
    # re_relevance: 3 answered 1, 3 answered 2, 0 answered 3 (all under 5): hidden
    assert react.loc["re_relevance", ["count_1", "count_2", "count_3"]].isna().all()
    assert "primary" in _rules(small, "reaction:re_relevance")
    assert small.display["reaction"].set_index("item_id").loc["re_relevance", "count_1"] == "<5"


def test_complementary_rule_fires_on_the_reaction_counts(small):
    log = small.sdc_log
    rows = log[log["table"].str.startswith("reaction:")]
    assert "complementary" in set(rows["rule"])
    assert audit_recoverability(small.protected) == []


def test_class_rule_fires_on_subgroup_distributions(small):
    dist = small.distributions
    kg = dist[(dist.item_id == "re_relevance") & (dist.dimension == "country")
              & (dist.group == "KG")]
    assert len(kg) == 1
    # all 5 KG participants disagreed: their distribution is hidden (class disclosure)
    assert kg[["disagree", "neutral", "agree"]].isna().all(axis=None)
    assert "class" in _rules(small, "distribution:re_relevance:country")


def test_reliability_flag_shows_x_of_n(small):
    react = small.display["reaction"].set_index("item_id")
    shown = [v for v in react["pct_agree"] if "of" in str(v)]
    assert shown, react["pct_agree"].tolist()
    assert all(str(v).endswith("of 12)") for v in shown)
    assert (react.loc[react["pct_agree"].isin(shown), "reliability"] == "n < 30").all()
    assert "reliability" in set(small.sdc_log["rule"])
