"""Tests of evaluation.analysis on a synthetic 30-person workshop built by code.

Expected values are recomputed by a different route from the one the code takes: scipy.stats
(wilcoxon, ttest_rel, ttest_ind) and plain numpy on the same pairs, which the tests rebuild
from the raw answer codes themselves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sst

from evaluation.analysis import (
    ITEM_COLUMNS,
    SCALE_COLUMNS,
    analyze_workshop,
    mean_pins_hidden_counts,
    welch_interval,
)
from evaluation.instrument import default_instrument_path, find_instrument, load_instrument

COUNTRIES = ["KZ", "KG", "TJ", "TM", "UZ"]


def make_waves(inst, n=30, seed=7, followup=True, n_post=28, n_fu=20):
    """Waves in ingest's shape: record_id index, codes as text, participant_key, collision."""
    rng = np.random.default_rng(seed)
    countries = np.repeat(COUNTRIES, -(-n // 5))[:n]
    sectors = np.array(["LE", "SOC", "CSO"])[np.arange(n) % 3]
    genders = np.array(["F", "M"])[(np.arange(n) // 2) % 2]
    involve = np.array(["Y", "N"])[(np.arange(n) // 3) % 2]
    ability = rng.normal(0, 0.8, n)
    keys = [f"P{i + 1:03d}" for i in range(n)]
    likert = [it for it in inst.items if it.type == "likert"]

    def lik(base, shift, it):
        raw = np.clip(np.rint(3 + base + shift + rng.normal(0, 0.7, base.size)), 1, 5)
        raw = raw.astype(int)
        return [str(6 - v if it.reverse else v) for v in raw]

    def frame(wave, rows, shift):
        data = {}
        for role, vals in (("country", countries), ("sector", sectors), ("gender", genders),
                           ("involvement", involve)):
            data[inst.item_by_role(role).id] = list(vals[rows])
        for it in likert:
            if it.asked_in(wave):
                data[it.id] = lik(ability[rows], shift, it)
            if wave == "post" and it.asked_in("retro"):
                data[it.retro_id] = lik(ability[rows], -0.3, it)
        for it in inst.items:
            if it.type == "knowledge" and it.asked_in(wave):
                ok = rng.random(len(rows)) < (0.4 if wave == "pre" else 0.75)
                wrong = next(c for c in inst.choice_lists[it.choices].codes if c != it.correct)
                data[it.id] = [it.correct if o else wrong for o in ok]
        return pd.DataFrame(data)

    pre = frame("pre", np.arange(n), 0.0)
    pre["coop_contacts"] = rng.poisson(3, n).astype(float)
    pre["participant_key"] = keys
    pre["collision"] = False
    if n >= 10:
        pre.loc[n - 1, "participant_key"] = None  # unlinked record
        pre.loc[n - 2, "collision"] = True  # collision: excluded from paired analysis
    pre.index = pd.Index([f"pre-{i}" for i in range(n)], name="record_id")
    rows = np.arange(n_post)
    post = frame("post", rows, 0.9)
    post["coop_contacts"] = pre["coop_contacts"].to_numpy()[rows] + rng.poisson(1, n_post) - 0.0
    post["re_better_positioned"] = [str(v) for v in rng.choice([3, 4, 5], n_post,
                                                                p=[.1, .5, .4])]
    post.loc[0, "ud_drivers"] = "dk"
    post["participant_key"] = [keys[i] for i in rows]
    post["collision"] = False
    post.index = pd.Index([f"post-{i}" for i in range(n_post)], name="record_id")
    waves = {"pre": pre, "post": post}
    if followup:
        rows = np.arange(n_fu)
        fu = frame("followup", rows, 0.7)
        fu["coop_contacts"] = pre["coop_contacts"].to_numpy()[rows] + rng.poisson(1, n_fu)
        fu["fu_applied"] = list(rng.choice(["several", "once", "not_yet", "no"], n_fu))
        fu["fu_materials"] = list(rng.choice(["Y", "N"], n_fu, p=[.5, .5]))
        fu["fu_drafting"] = list(rng.choice(["Y", "N"], n_fu, p=[.3, .7]))
        fu["fu_contacted"] = list(rng.choice(["Y", "N"], n_fu, p=[.6, .4]))
        fu["participant_key"] = [keys[i] for i in rows]
        fu["collision"] = False
        fu.index = pd.Index([f"fu-{i}" for i in range(n_fu)], name="record_id")
        waves["followup"] = fu
    return waves


@pytest.fixture(scope="module")
def inst():
    return load_instrument(default_instrument_path())


@pytest.fixture(scope="module")
def waves(inst):
    return make_waves(inst)


@pytest.fixture(scope="module")
def result(inst, waves):
    return analyze_workshop(waves, inst, n_resamples=300, seed=1)


def _codes(frame, column, reverse=False):
    """Scores from the raw codes by hand: numbers 1-5, anything else missing."""
    x = pd.to_numeric(frame[column], errors="coerce").where(lambda s: s.between(1, 5))
    return 6 - x if reverse else x


def _pairs_by_hand(waves, a="pre", b="post"):
    fa, fb = waves[a], waves[b]
    fa = fa[fa["participant_key"].notna() & ~fa["collision"]]
    fb = fb[fb["participant_key"].notna() & ~fb["collision"]]
    m = fa.reset_index().merge(fb.reset_index(), on="participant_key", suffixes=("_a", "_b"))
    return m.sort_values("participant_key")


def test_columns_are_design_columns(result):
    assert tuple(result.items.columns) == ITEM_COLUMNS
    assert tuple(result.scales.columns) == SCALE_COLUMNS
    assert list(result.sdc_log.columns) == ["table", "row", "column", "rule", "threshold"]


def test_matched_pairs_exclude_unlinked_and_collisions(result):
    # 28 post respondents are the first 28 pre records; records 28 (collision) and 29
    # (unlinked) are not among them, so 28 pairs.
    assert result.matched["pre-post"] == 28
    assert result.matched["pre-followup"] == 20
    assert result.matched["retro-post"] == 28


def test_item_values_recomputed_with_scipy(result, waves, inst):
    m = _pairs_by_hand(waves)
    rows = result.items[(result.items.wave_a == "pre") & (result.items.wave_b == "post")]
    checked = 0
    for item_id in ["ud_exclusion", "ud_causes_unclear", "p1_exclusion", "dc_contribute",
                    "co_share", "ud_drivers"]:
        reverse = inst.item(item_id).reverse
        a = _codes(m.rename(columns={f"{item_id}_a": "x"}), "x", reverse).to_numpy()
        b = _codes(m.rename(columns={f"{item_id}_b": "x"}), "x", reverse).to_numpy()
        ok = ~np.isnan(a) & ~np.isnan(b)
        a, b = a[ok], b[ok]
        row = rows[rows.item_id == item_id].iloc[0]
        assert row.n_pairs == ok.sum()
        assert row.mean_a == pytest.approx(a.mean())
        assert row.mean_b == pytest.approx(b.mean())
        assert row.mean_change == pytest.approx((b - a).mean())
        d = b - a
        nz = d[d != 0]
        # V = sum of ranks of positive differences (zeros dropped), by hand with scipy ranks.
        ranks = sst.rankdata(np.abs(nz))
        assert row.wilcoxon_v == pytest.approx(ranks[nz > 0].sum())
        # Ties are certain on a 5-point scale, so R uses the normal approximation with
        # continuity correction; scipy's "approx" with zero_method="wilcox" and correction
        # is the same test.
        ref = sst.wilcoxon(b, a, zero_method="wilcox", correction=True, method="approx")
        assert row.p_value == pytest.approx(ref.pvalue, rel=1e-6)
        checked += 1
    assert checked == 6


def test_wilcoxon_exact_without_ties_matches_scipy(inst):
    # Differences 4, -3, 2, 1: no ties, no zeros, n < 50 -> R's exact p. k_min=3 so the four
    # pairs are published.
    keys = ["P1", "P2", "P3", "P4"]
    pre = pd.DataFrame({"ud_drivers": ["1", "5", "2", "3"], "participant_key": keys,
                        "collision": False},
                       index=pd.Index([f"a{i}" for i in range(4)], name="record_id"))
    post = pd.DataFrame({"ud_drivers": ["5", "2", "4", "4"], "participant_key": keys,
                         "collision": False},
                        index=pd.Index([f"b{i}" for i in range(4)], name="record_id"))
    res = analyze_workshop({"pre": pre, "post": post}, inst, k_min=3, n_resamples=100)
    row = res.items[(res.items.item_id == "ud_drivers") & (res.items.wave_a == "pre")].iloc[0]
    b, a = np.array([5, 2, 4, 4.0]), np.array([1, 5, 2, 3.0])
    ref = sst.wilcoxon(b, a, method="exact")
    assert row.wilcoxon_v == 7.0  # ranks of |d| = 1..4; positive d have ranks 4, 2, 1
    assert row.p_value == pytest.approx(ref.pvalue)  # 2 * P(V >= 7 | n = 4) = 0.625
    assert row.p_value == pytest.approx(0.625)
    assert row.mean_change == pytest.approx(1.0)


def test_scale_t_recomputed_with_ttest_rel(result, waves, inst):
    m = _pairs_by_hand(waves)
    items = inst.scales["strategy_competence"].items

    def scale(suffix):
        block = pd.DataFrame({i: _codes(m, f"{i}_{suffix}", inst.item(i).reverse)
                              for i in items})
        # scale score: mean of answered items when >= 2/3 are answered
        return block.mean(axis=1).where(block.notna().sum(axis=1) >= np.ceil(2 * len(items) / 3))

    a, b = scale("a").to_numpy(), scale("b").to_numpy()
    ok = ~np.isnan(a) & ~np.isnan(b)
    ref = sst.ttest_rel(b[ok], a[ok])
    ci = ref.confidence_interval()
    row = result.scales[(result.scales.scale_id == "strategy_competence")
                        & (result.scales.wave_a == "pre") & (result.scales.wave_b == "post")]
    row = row.iloc[0]
    assert row.n_pairs == ok.sum()
    assert row.t == pytest.approx(ref.statistic, rel=1e-9)
    assert row.df == ok.sum() - 1
    assert row.p_value == pytest.approx(ref.pvalue, rel=1e-6)
    assert row.mean_change_ci_low == pytest.approx(ci.low)
    assert row.mean_change_ci_high == pytest.approx(ci.high)
    d = b[ok] - a[ok]
    assert row.cohen_dz == pytest.approx(d.mean() / d.std(ddof=1))
    assert row.n_items == len(items)


def test_readiness_index_row_and_large_t_does_not_crash(result):
    idx = result.scales[(result.scales.scale_id == "readiness_index")
                        & (result.scales.wave_a == "pre") & (result.scales.wave_b == "post")]
    assert len(idx) == 1
    row = idx.iloc[0]
    assert row.t > 9  # large t: the noncentral-t interval must still be defined
    assert row.cohen_dz_ci_low < row.cohen_dz < row.cohen_dz_ci_high


def test_holm_within_each_scale_and_wave_pair(result):
    items = result.items[~result.items.suppressed]
    for (_, _, _), grp in items.groupby(["wave_a", "wave_b", "scale_id"]):
        p = grp.p_value.to_numpy()
        m = p.size
        order = np.argsort(p)
        # Holm by hand: running max of (m - i) * p_(i), capped at 1.
        adj = np.minimum(np.maximum.accumulate((m - np.arange(m)) * p[order]), 1)
        expected = np.empty(m)
        expected[order] = adj
        np.testing.assert_allclose(grp.p_holm.to_numpy(), expected)


def test_retro_pairs_are_within_post(result, waves, inst):
    rows = result.items[(result.items.wave_a == "retro") & (result.items.wave_b == "post")]
    assert set(rows.item_id) == {it.id for it in inst.items_for_wave("retro")}
    post = waves["post"]
    a = _codes(post, "dc_contribute_retro").to_numpy()
    b = _codes(post, "dc_contribute").to_numpy()
    row = rows[rows.item_id == "dc_contribute"].iloc[0]
    assert row.n_pairs == 28
    assert row.mean_change == pytest.approx(np.nanmean(b - a))
    shift = result.items[(result.items.wave_a == "pre") & (result.items.wave_b == "retro")]
    assert len(shift) == len(rows)
    fu = result.items[result.items.wave_b == "followup"]
    assert set(fu.item_id) == {"co_share", "co_learn", "co_joint"}


def test_suppression_when_fewer_than_k_pairs(inst):
    w = make_waves(inst, n=4, n_post=4, n_fu=4)
    res = analyze_workshop(w, inst, n_resamples=50)
    assert len(res.items) and res.items.suppressed.all()
    stats_cols = [c for c in ITEM_COLUMNS if c not in
                  ("item_id", "scale_id", "wave_a", "wave_b", "suppressed")]
    assert res.items[stats_cols].isna().all().all()
    assert res.scales.suppressed.all()
    assert res.scales["mean_change"].isna().all()
    assert (res.sdc_log["rule"] == "group_size").any()
    # the same pairs with k_min=3 are published
    res3 = analyze_workshop(w, inst, k_min=3, n_resamples=50)
    assert not res3.items.suppressed.all()


def test_v1_instrument_without_retro_and_no_followup():
    inst1 = load_instrument(find_instrument("pvect-readiness@1.0"))
    w = make_waves(inst1, followup=False)
    res = analyze_workshop(w, inst1, n_resamples=50)
    assert set(zip(res.items.wave_a, res.items.wave_b, strict=True)) == {("pre", "post")}
    assert "retro" not in set(res.scales.wave_a)
    assert res.followup.empty and res.cooperation.wave_b.eq("post").all()
    assert any("retrospective" in n for n in res.notes)
    assert any("followup" in n for n in res.notes)
    assert "ashgabat_themes" not in set(res.scales.scale_id)


def test_zero_matched_pairs_is_defined(inst):
    w = make_waves(inst)
    w = {k: v.copy() for k, v in w.items()}
    w["post"]["participant_key"] = None
    res = analyze_workshop(w, inst, n_resamples=50)
    pp = res.items[(res.items.wave_a == "pre") & (res.items.wave_b == "post")]
    assert pp.suppressed.all() and pp.mean_change.isna().all()
    assert res.disaggregation.empty
    # the unpaired comparison is still there
    unp = res.unpaired[(res.unpaired.wave_a == "pre") & (res.unpaired.wave_b == "post")]
    assert unp.difference.notna().all()
    assert any("No pre and post" in n for n in res.notes)


def test_only_one_wave(inst):
    w = make_waves(inst)
    res = analyze_workshop({"pre": w["pre"]}, inst, n_resamples=50)
    assert res.items.empty and tuple(res.items.columns) == ITEM_COLUMNS
    assert res.scales.empty and tuple(res.scales.columns) == SCALE_COLUMNS
    assert not res.reliability.empty


def test_unpaired_welch_matches_scipy_and_direction_flag(result, waves, inst):
    row = result.unpaired[(result.unpaired.scale_id == "cooperation")
                          & (result.unpaired.wave_a == "pre")
                          & (result.unpaired.wave_b == "post")].iloc[0]

    def scores(frame):
        block = pd.DataFrame({i: _codes(frame, i) for i in inst.scales["cooperation"].items})
        return block.mean(axis=1).where(block.notna().sum(axis=1) >= 2).dropna()

    a, b = scores(waves["pre"]), scores(waves["post"])
    ref = sst.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval()
    assert row.n_a == len(a) == 30 and row.n_b == len(b)
    assert row.difference == pytest.approx(b.mean() - a.mean())
    assert row.ci_low == pytest.approx(ci.low) and row.ci_high == pytest.approx(ci.high)
    assert not result.unpaired.direction_disagrees.any()
    d, lo, hi, _ = welch_interval([1, 2, 3, 4], [2, 3, 5, 6, 7])
    ref = sst.ttest_ind([2, 3, 5, 6, 7], [1, 2, 3, 4], equal_var=False).confidence_interval()
    assert (lo, hi) == pytest.approx((ref.low, ref.high))


def test_direction_disagrees_flag(inst):
    # Matched participants improve, but many extra low... build by hand: matched 6 go 2 -> 3,
    # unmatched pre respondents are low-scoring, unmatched post respondents are very low.
    keys = [f"P{i}" for i in range(6)]
    items = list(inst.scales["cooperation"].items)
    pre = pd.DataFrame({i: ["2"] * 6 + ["4"] * 6 for i in items})
    pre["participant_key"] = keys + [None] * 6
    pre["collision"] = False
    pre.index = pd.Index([f"a{i}" for i in range(12)], name="record_id")
    post = pd.DataFrame({i: ["3", "3", "3", "3", "3", "4"] + ["1"] * 6 for i in items})
    post["participant_key"] = keys + [None] * 6
    post["collision"] = False
    post.index = pd.Index([f"b{i}" for i in range(12)], name="record_id")
    res = analyze_workshop({"pre": pre, "post": post}, inst, n_resamples=50)
    row = res.unpaired[res.unpaired.scale_id == "cooperation"].iloc[0]
    assert row.matched_change > 0 > row.difference
    assert bool(row.direction_disagrees)


def test_knowledge_mcnemar_and_gain(result, waves, inst):
    m = _pairs_by_hand(waves)
    q = inst.item("kn_03")
    a = (m["kn_03_a"] == q.correct).to_numpy()
    b = (m["kn_03_b"] == q.correct).to_numpy()
    row = result.knowledge[result.knowledge.item_id == "kn_03"].iloc[0]
    n01, n10 = int((~a & b).sum()), int((a & ~b).sum())
    # McNemar with continuity correction by hand
    assert row.mcnemar_statistic == pytest.approx((abs(n01 - n10) - 1) ** 2 / (n01 + n10))
    total = result.knowledge[result.knowledge.item_id == "knowledge_total"].iloc[0]
    qs = [it for it in inst.items if it.type == "knowledge"]
    pre = np.mean([(m[f"{it.id}_a"] == it.correct) for it in qs], axis=0) * 100
    post = np.mean([(m[f"{it.id}_b"] == it.correct) for it in qs], axis=0) * 100
    assert total.mean_score_pre == pytest.approx(pre.mean())
    assert total.normalized_gain == pytest.approx((post.mean() - pre.mean())
                                                  / (100 - pre.mean()))
    assert total.normalized_gain_ci_low < total.normalized_gain < total.normalized_gain_ci_high


def test_reaction_followup_cooperation(result, waves):
    rr = result.reaction.set_index("item_id")
    assert rr.loc["re_useful_part1", "part"] == "part1"
    assert rr.loc["re_relevance", "n"] == 28
    x = pd.to_numeric(waves["post"]["re_relevance"])
    assert rr.loc["re_relevance", "mean"] == pytest.approx(x.mean())
    fu = result.followup.set_index("measure")
    assert fu.loc["drafting", "n"] == 20
    pct = 100 * (waves["followup"]["fu_drafting"] == "Y").mean()
    if pd.notna(fu.loc["drafting", "pct"]):
        assert fu.loc["drafting", "pct"] == pytest.approx(pct)
    co = result.cooperation.set_index("wave_b")
    m = _pairs_by_hand(waves)
    d = m["coop_contacts_b"].to_numpy() - m["coop_contacts_a"].to_numpy()
    assert co.loc["post", "mean_change"] == pytest.approx(d.mean())
    assert co.loc["post", "median_change"] == pytest.approx(np.median(d))


def test_every_published_subgroup_has_at_least_k(result):
    k = result.k_min
    dis = result.disaggregation
    assert (dis.loc[dis.mean_change.notna(), "n"] >= k).all()
    part = result.participation
    published = part[part.n.notna() & ~part.dimension.isin(["total", "matched"])]
    assert (published.n >= k).all()
    dist = result.distributions
    for c in ("n", "disagree", "neutral", "agree"):
        vals = dist[c].dropna()
        assert (vals >= k).all()
    # the SDC log never carries values
    assert set(result.sdc_log.columns) == {"table", "row", "column", "rule", "threshold"}


def test_display_tables_show_markers(result):
    disp = result.display["items"]
    assert len(disp) == len(result.items)
    assert any(str(v).startswith("<") or v == "–" for v in disp.to_numpy().ravel())


def test_same_seed_same_tables(inst, waves):
    a = analyze_workshop(waves, inst, n_resamples=100, seed=3)
    b = analyze_workshop(waves, inst, n_resamples=100, seed=3)
    pd.testing.assert_frame_equal(a.items, b.items)
    pd.testing.assert_frame_equal(a.scales, b.scales)


def _display_agrees(res):
    """Every display table says what its numeric table holds (suppressed ⇔ marker, flags)."""
    marker = f"<{res.k_min}"
    for name, num in res.tables().items():
        disp = res.display.get(name)
        if disp is None or num.empty:
            continue
        assert len(disp) == len(num), name
        for col in num.columns:
            if col not in disp.columns or col == "suppressed":
                continue
            values, texts = num[col].tolist(), disp[col].tolist()
            for pos, (v, text) in enumerate(zip(values, texts, strict=True)):
                if isinstance(v, bool | np.bool_):
                    assert text == str(bool(v)), (name, col, pos, v, text)
                elif pd.isna(v) and pd.api.types.is_numeric_dtype(num[col]):
                    assert text in ("", "–", marker), (name, col, pos, text)


def _few_unmatched_waves(inst):
    """Four pre respondents without a post answer, all at the top of every readiness item."""
    w = {k: v.copy() for k, v in make_waves(inst).items()}
    pre = w["pre"]
    pre.loc[pre.index[[26, 27]], "participant_key"] = None  # with rows 28, 29: 4 unmatched
    for it in inst.items:
        if it.type == "likert" and it.id in pre.columns:
            pre.loc[pre.index[26:], it.id] = "1" if it.reverse else "5"
    return w


def test_matching_bias_flag_reset_in_display_when_too_few_unmatched(inst):
    w = _few_unmatched_waves(inst)
    # with k_min=3 the four unmatched respondents are published, and they differ a lot
    open_ = analyze_workshop(w, inst, k_min=3, n_resamples=50)
    row = open_.matching_bias.iloc[0]
    assert row.n_unmatched == 4 and abs(row.smd) > 0.25 and bool(row.bias_flag)
    assert open_.display["matching_bias"].at[0, "bias_flag"] == "True"
    # with k_min=5 they are too few: no SMD, no flag, in the numeric and the display table
    res = analyze_workshop(w, inst, k_min=5, n_resamples=50)
    num, disp = res.matching_bias.iloc[0], res.display["matching_bias"].iloc[0]
    # (a missing flag, not False: False would say that the check found no bias)
    assert pd.isna(num.n_unmatched) and pd.isna(num.smd) and pd.isna(num.bias_flag)
    assert (disp.n_unmatched, disp.smd) == ("<5", "–")
    assert disp.bias_flag == "–"
    _display_agrees(res)


def test_display_agrees_with_numeric_tables(result, inst):
    _display_agrees(result)
    # no pre-post pairs at all: unpaired n_pairs (0) is hidden in both tables
    w = {k: v.copy() for k, v in make_waves(inst).items()}
    w["post"]["participant_key"] = None
    res = analyze_workshop(w, inst, n_resamples=50)
    unp = res.unpaired.reset_index(drop=True)
    pp = (unp.wave_a == "pre") & (unp.wave_b == "post")
    assert pp.any() and unp.loc[pp, "n_pairs"].isna().all()
    assert (res.display["unpaired"].loc[pp, "n_pairs"] == "<5").all()
    _display_agrees(res)


def test_reaction_mean_never_gives_away_a_hidden_answer_count(result):
    """A mean is the answers' sum over n: beside published counts of the other codes it gives
    the hidden ones away (flagship: 27 answers, mean 4.148, seventeen 4s and seven 5s, so the
    three hidden answers were all 3). A row with a hidden count shows none of its per-code
    counts, and its mean only where it leaves every hidden collapsed count open."""
    rr = result.reaction.reset_index(drop=True)
    collapsed = result.reaction_collapsed.set_index("item_id")
    counts = [f"count_{i}" for i in range(1, 6)]
    hidden_rows = 0
    for _, row in rr.iterrows():
        if pd.isna(row["n"]):
            continue
        if row[counts].isna().any():
            hidden_rows += 1
            assert row[counts].isna().all(), row["item_id"]  # no partial per-code counts
            if pd.notna(row["mean"]):
                shown = {c: float(collapsed.loc[row["item_id"], c])
                         if pd.notna(collapsed.loc[row["item_id"], c]) else float("nan")
                         for c in ("disagree", "neutral", "agree")}
                total = round(row["mean"] * row["n"])
                assert not mean_pins_hidden_counts(int(row["n"]), total, 5, shown)
        else:  # every count shown: the mean adds nothing
            values = sum(i * row[f"count_{i}"] for i in range(1, 6))
            assert row["mean"] == pytest.approx(values / row["n"])
    assert hidden_rows > 0  # the synthetic cohort has rows with hidden counts


def test_mean_pins_hidden_counts_by_enumeration():
    nan = float("nan")
    # 5 answers: the four agreeing sum to at most 20, so a sum of 23 leaves 3 for the fifth:
    # a neutral answer, which was hidden
    assert mean_pins_hidden_counts(5, 23, 5, {"disagree": nan, "neutral": nan, "agree": 4})
    # a sum of 19 leaves the fifth answer anywhere from 1 to 3: not pinned
    assert not mean_pins_hidden_counts(5, 19, 5, {"disagree": nan, "neutral": nan,
                                                  "agree": 4})
    # nothing hidden: nothing to pin
    assert not mean_pins_hidden_counts(5, 19, 5, {"disagree": 1, "neutral": 0, "agree": 4})
    # 4-point scale: 3 answers, sum 12, so all are 4s: the hidden "disagree" is pinned at 0
    assert mean_pins_hidden_counts(3, 12, 4, {"disagree": nan, "agree": nan})
    # inconsistent or not enumerable inputs do not publish
    assert mean_pins_hidden_counts(3, 99, 5, {"disagree": nan, "neutral": 0, "agree": 3})
    assert mean_pins_hidden_counts(10, 30, 7, {"disagree": nan, "neutral": 1, "agree": 5})


def test_item_mean_hidden_where_it_pins_a_hidden_count_of_the_distribution(inst):
    """Five pairs, every pre respondent among them: the pre distribution shows 4 agreeing and
    hides the fifth answer. A pre mean of 4.6 (sum 23) leaves 3 for the fifth answer, a hidden
    neutral count of 1: the mean and the change go. A mean of 3.8 (sum 19) leaves 1 to 3 open."""
    from evaluation.analysis import _guard_item_means, _Sdc

    items = pd.DataFrame({
        "item_id": ["ud_drivers", "ud_exclusion"], "scale_id": ["s", "s"],
        "wave_a": ["pre", "pre"], "wave_b": ["post", "post"], "n_pairs": [5, 5],
        "mean_a": [4.6, 3.8], "mean_b": [4.8, 4.0], "mean_change": [0.2, 0.2],
        "mean_change_ci_low": [-0.1, -0.1], "mean_change_ci_high": [0.5, 0.5]})
    nan = float("nan")
    dist = pd.DataFrame({"item_id": ["ud_drivers", "ud_exclusion"], "wave": ["pre", "pre"],
                         "n": [5, 5], "disagree": [nan, nan], "neutral": [nan, nan],
                         "agree": [4, 4], "suppressed": [True, True]})
    sdc = _Sdc(5)
    sdc.display["items"] = items.astype(str)
    _guard_item_means(items, dist, inst, sdc)
    pinned, open_ = items.iloc[0], items.iloc[1]
    assert pd.isna(pinned["mean_a"]) and pd.isna(pinned["mean_change"])
    assert pd.isna(pinned["mean_change_ci_low"]) and pinned["mean_b"] == 4.8  # no post table
    assert sdc.display["items"].iloc[0]["mean_a"] == "–"
    assert open_["mean_a"] == 3.8 and open_["mean_change"] == 0.2
    # a reverse-keyed item is reflected back to its answers before the check: a mean of 1.4
    # is a sum of 7 in scores, 23 in answers
    rev = items.iloc[[0]].assign(item_id="ud_causes_unclear", mean_a=1.4)
    rdist = dist.iloc[[0]].assign(item_id="ud_causes_unclear")
    _guard_item_means(rev, rdist, inst, sdc)
    assert pd.isna(rev.iloc[0]["mean_a"])
