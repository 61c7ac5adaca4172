"""Tests of evaluation.stats against published reference results.

Every expected number below comes from a published source cited next to it (R help-page
examples, R package test suites or documentation, JASP, textbooks). None is computed with the
code under test. Reference data files live in tests/data/reference (see its README.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from evaluation.errors import AnalysisError
from evaluation.stats import (
    ITEM_TABLE_COLUMNS,
    bootstrap_ci,
    cronbach_alpha,
    kruskal,
    mann_whitney,
    mcnemar,
    normalized_gain,
    p_adjust,
    paired_item_table,
    paired_t,
    random_effects,
    wilcoxon_signed_rank,
    wilson_ci,
)

REF = Path(__file__).parent / "data" / "reference"

# R ?wilcox.test: depression scores (Hollander & Wolfe 1973, p. 29), x = first, y = second visit
DEPR_X = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
DEPR_Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
# R datasets::sleep (Cushny & Peebles), extra hours of sleep for drug 1 and drug 2, same patients
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


# ---------------------------------------------------------------- Wilcoxon signed rank


def test_wilcoxon_depression_exact():
    res = wilcoxon_signed_rank(DEPR_X, DEPR_Y)
    assert res.statistic == 40  # R ?wilcox.test: V = 40
    assert res.pvalue == pytest.approx(0.03906, abs=5e-6)  # R: two-sided p = 2 * 0.01953
    assert res.method == "exact" and res.n == 9 and res.n_zero == 0
    greater = wilcoxon_signed_rank(DEPR_X, DEPR_Y, alternative="greater")
    assert greater.pvalue == pytest.approx(0.01953, abs=5e-6)  # R ?wilcox.test: p-value = 0.01953


def test_wilcoxon_depression_rank_biserial_matches_effectsize():
    res = wilcoxon_signed_rank(DEPR_X, DEPR_Y)
    # effectsize tests/testthat/test-rankES.R: r = 0.777, CI 0.2953631 .. 0.9441559
    assert res.rank_biserial == pytest.approx(0.777, abs=0.001)
    assert res.rank_biserial_ci_low == pytest.approx(0.2953631, abs=1e-6)
    assert res.rank_biserial_ci_high == pytest.approx(0.9441559, abs=1e-6)


def test_wilcoxon_sleep_ties_and_zero_normal_approximation():
    res = wilcoxon_signed_rank(SLEEP_1, SLEEP_2)
    # wilcox.test(extra[1:10], extra[11:20], paired = TRUE): V = 0, p-value = 0.009091
    # ("Wilcoxon signed rank test with continuity correction", ties and one zero)
    assert res.statistic == 0
    assert res.pvalue == pytest.approx(0.009091, abs=5e-7)
    assert res.method == "normal" and res.n_zero == 1 and res.n == 10
    assert res.rank_biserial == -1.0 and "same sign" in res.note


def test_wilcoxon_missing_pairs_dropped():
    x = DEPR_X + [np.nan, 2.0]
    y = DEPR_Y + [1.0, np.nan]
    res = wilcoxon_signed_rank(x, y)
    assert res.n == 9 and res.statistic == 40  # same as R on the 9 complete pairs
    assert res.pvalue == pytest.approx(0.03906, abs=5e-6)


def test_wilcoxon_all_zero_and_empty_are_defined():
    res = wilcoxon_signed_rank([3, 4, 5], [3, 4, 5])
    assert res.statistic == 0 and np.isnan(res.pvalue) and np.isnan(res.rank_biserial)
    assert res.n == 3 and res.n_zero == 3 and "zero" in res.note
    empty = wilcoxon_signed_rank([np.nan], [1.0])
    assert empty.n == 0 and np.isnan(empty.pvalue) and "No complete pair" in empty.note


def test_wilcoxon_two_pairs_defined():
    res = wilcoxon_signed_rank([2, 3], [1, 1])
    # exact null of V with n = 2: the 4 sign patterns are equally likely, P(V >= 3) = 1/4,
    # two-sided p = 1/2 (R psignrank(2, 2, lower.tail = FALSE) = 0.25)
    assert res.pvalue == pytest.approx(0.5) and "Fewer than 3" in res.note


def test_wilcoxon_heavy_ties_equal_normal_formula_of_r():
    # Likert changes: 12 x +1, 3 x -1, 5 x 0 -> R uses the normal approximation (ties, zeros).
    d_b = [2] * 12 + [1] * 3 + [3] * 5
    d_a = [1] * 12 + [2] * 3 + [3] * 5
    res = wilcoxon_signed_rank(d_b, d_a)
    assert res.method == "normal"
    # 15 tied |d| get rank 8; V = 12 * 8 = 96, W- = 24 (definition of V in R ?wilcox.test)
    assert res.statistic == 96
    assert res.rank_biserial == pytest.approx((96 - 24) / 120)


def test_wilcoxon_bad_arguments():
    with pytest.raises(AnalysisError):
        wilcoxon_signed_rank([1, 2], [1, 2, 3])
    with pytest.raises(AnalysisError):
        wilcoxon_signed_rank([1, 2], [1, 2], alternative="bigger")


# ---------------------------------------------------------------- paired t


def test_paired_t_sleep_matches_r():
    res = paired_t(SLEEP_2, SLEEP_1)
    # R ?t.test / t.test(extra ~ group, data = sleep, paired = TRUE):
    # t = -4.0621, df = 9, p-value = 0.002833, 95% CI -2.4598858 -0.7001142, mean diff -1.58
    # (group1 - group2; here b - a = group2 - group1, so the signs flip)
    assert res.t == pytest.approx(4.0621, abs=5e-5)
    assert res.df == 9
    assert res.pvalue == pytest.approx(0.002833, abs=5e-7)
    assert res.ci_low == pytest.approx(0.7001142, abs=1e-7)
    assert res.ci_high == pytest.approx(2.4598858, abs=1e-7)
    assert res.mean_diff == pytest.approx(1.58)


def test_cohen_dz_noncentral_ci_matches_mote():
    # MOTE tests/testthat/test-d_dep_t_diff_t.R: t = 1.43, n = 7 ->
    # d_z = 0.5404892, CI -0.2770679 .. 1.320576 (noncentral t). Data prepared with t = 1.43.
    z = np.array([-1.2, 0.3, 0.8, -0.5, 1.1, -0.9, 0.4])
    z = (z - z.mean()) / z.std(ddof=1)
    res = paired_t(z + 1.43 / np.sqrt(7), np.zeros(7))
    assert res.t == pytest.approx(1.43)
    assert res.cohen_dz == pytest.approx(0.5404892, abs=1e-6)
    assert res.cohen_dz_ci_low == pytest.approx(-0.2770679, abs=1e-6)
    assert res.cohen_dz_ci_high == pytest.approx(1.320576, abs=1e-6)


def test_cohen_dz_rouder2016():
    data = pd.read_csv(REF / "rouder2016.csv")
    wide = data.groupby(["id", "cond"])["rt"].mean().unstack()
    res = paired_t(wide[2], wide[1])
    # effectsize test-rm_d.R (Westfall 2016 blog): d_z = -1.353713 for cond1 - cond2
    assert res.cohen_dz == pytest.approx(1.353713, abs=1e-4)
    assert res.n == 25


def test_paired_t_edge_cases():
    constant = paired_t([2, 3, 4], [1, 2, 3])
    assert np.isnan(constant.t) and constant.mean_diff == 1 and "sd = 0" in constant.note
    one = paired_t([2.0, np.nan], [1.0, 1.0])
    assert one.n == 1 and np.isnan(one.pvalue) and "Fewer than 2" in one.note
    greater = paired_t(SLEEP_2, SLEEP_1, alternative="greater")
    assert greater.ci_high == np.inf and greater.cohen_dz_ci_high == np.inf
    # one-sided p is half the two-sided one when t > 0 (R t.test, alternative = "greater")
    assert greater.pvalue == pytest.approx(0.002833 / 2, abs=5e-7)


# ---------------------------------------------------------------- Cronbach's alpha


def test_alpha_long_format_pingouin_psych():
    long = pd.read_csv(REF / "cronbach_alpha_long.csv")
    wide = long.pivot(index="Subj", columns="Items", values="Scores")
    res = cronbach_alpha(wide)
    # pingouin tests/test_reliability.py (checked against psych): alpha 0.592, CI 0.195 .. 0.840
    assert res.alpha == pytest.approx(0.592, abs=5e-4)
    assert res.ci_low == pytest.approx(0.195, abs=5e-4)
    assert res.ci_high == pytest.approx(0.840, abs=5e-4)
    assert (res.n, res.k) == (15, 10)


def test_alpha_missing_pairwise_and_listwise():
    data = pd.read_csv(REF / "cronbach_wide_missing.csv")
    # pingouin docs: psych::alpha(data, use = "pairwise") -> 0.732660835214447, CI .435 .. .909
    res = cronbach_alpha(data)
    assert res.alpha == pytest.approx(0.732660835214447, abs=1e-9)
    assert res.ci_low == pytest.approx(0.435, abs=5e-4)
    assert res.ci_high == pytest.approx(0.909, abs=5e-4)
    # pingouin docs: psych::alpha(data, use = "complete.obs") -> 0.8016949152542373
    lw = cronbach_alpha(data, nan_policy="listwise")
    assert lw.alpha == pytest.approx(0.8016949152542373, abs=1e-9)
    assert lw.n == 9  # complete cases only


def test_alpha_jasp_asrm_and_saq():
    asrm = pd.read_csv(REF / "asrm.csv")
    # jaspReliability test-unidimensionalReliabilityFrequentist.R: alpha = 0.789985434486178
    assert cronbach_alpha(asrm).alpha == pytest.approx(0.789985434486178, abs=1e-9)
    # same test, alpha if item asrm_1 dropped = 0.722847443345244
    dropped = cronbach_alpha(asrm.drop(columns="asrm_1")).alpha
    assert dropped == pytest.approx(0.722847443345244, abs=1e-9)
    saq = pd.read_csv(REF / "saq_7items.csv")
    # jaspReliability test-verified-...: alpha 0.757381263545318 ("match R, SPSS, SAS, MiniTab")
    assert cronbach_alpha(saq).alpha == pytest.approx(0.757381263545318, abs=1e-9)


def test_alpha_edge_cases():
    all_constant = pd.DataFrame({"a": [3, 3, 3], "b": [2, 2, 2]})
    res = cronbach_alpha(all_constant)
    assert np.isnan(res.alpha) and "no variance" in res.note
    one_constant = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 3, 3, 5], "c": [4, 4, 4, 4]})
    res = cronbach_alpha(one_constant)
    assert np.isfinite(res.alpha) and "c" in res.note
    assert np.isnan(cronbach_alpha(pd.DataFrame({"a": [1, 2, 3]})).alpha)
    never_together = pd.DataFrame({"a": [1, 2, np.nan, np.nan], "b": [np.nan, np.nan, 3, 4]})
    assert "never answered together" in cronbach_alpha(never_together).note


# ---------------------------------------------------------------- McNemar, Wilson, p.adjust


def _pairs_from_table(n11, n10, n01, n00):
    """Expand a 2x2 table (rows: before yes/no, columns: after yes/no) into paired booleans."""
    before = [True] * (n11 + n10) + [False] * (n01 + n00)
    after = [True] * n11 + [False] * n10 + [True] * n01 + [False] * n00
    return before, after


def test_mcnemar_r_performance():
    # R ?mcnemar.test, Performance <- matrix(c(794, 86, 150, 570), nrow = 2):
    # McNemar's chi-squared = 16.818, df = 1, p-value = 4.115e-05 (continuity correction)
    before, after = _pairs_from_table(794, 150, 86, 570)
    res = mcnemar(before, after)
    assert res.statistic == pytest.approx(16.818, abs=5e-4)
    assert res.pvalue == pytest.approx(4.115e-05, abs=5e-9)
    assert res.n_discordant == 236 and res.n == 1600
    # correct = FALSE: McNemar's chi-squared = 17.356, p-value = 3.099e-05
    raw = mcnemar(before, after, correction=False)
    assert raw.statistic == pytest.approx(17.356, abs=5e-4)
    assert raw.pvalue == pytest.approx(3.099e-05, abs=5e-9)


def test_mcnemar_statology_and_exact():
    # Statology "McNemar's Test in R": matrix(c(30, 12, 40, 18), nrow = 2) ->
    # McNemar's chi-squared = 14.019, df = 1, p-value = 0.000181
    before, after = _pairs_from_table(30, 40, 12, 18)
    res = mcnemar(before, after)
    assert res.statistic == pytest.approx(14.019, abs=5e-4)
    assert res.pvalue == pytest.approx(0.000181, abs=5e-7)
    # exact: binom.test(1, 10, 0.5) -> p-value = 0.02148 (1 improvement, 9 declines)
    before, after = _pairs_from_table(0, 9, 1, 0)
    ex = mcnemar(before, after, exact=True)
    assert ex.pvalue == pytest.approx(0.02148, abs=5e-6) and ex.n_improved == 1


def test_mcnemar_no_discordant_and_missing():
    res = mcnemar([True, False, None], [True, False, True])
    assert res.n == 2 and np.isnan(res.pvalue) and "No discordant" in res.note


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [  # Newcombe (1998) Stat Med 17:857, Table I, method 3 (Wilson score, no correction)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0),
    ],
)
def test_wilson_newcombe(x, n, low, high):
    res = wilson_ci(x, n)
    assert res.ci_low == pytest.approx(low, abs=5e-5)
    assert res.ci_high == pytest.approx(high, abs=5e-5)


def test_wilson_edge():
    assert np.isnan(wilson_ci(0, 0).ci_low)
    with pytest.raises(AnalysisError):
        wilson_ci(5, 3)


def test_p_adjust_holm_and_bh():
    p = [0.50, 0.003, 0.32, 0.054, 0.0003]
    # pingouin multicomp docs (as R p.adjust): holm [0.64 0.012 0.64 0.162 0.0015]
    np.testing.assert_allclose(p_adjust(p, "holm"), [0.64, 0.012, 0.64, 0.162, 0.0015])
    # fdr_bh [0.5 0.0075 0.4 0.09 0.0015]
    np.testing.assert_allclose(p_adjust(p, "BH"), [0.5, 0.0075, 0.4, 0.09, 0.0015])
    # pingouin tests/test_multicomp.py ("Compare to the p.adjust R function")
    np.testing.assert_allclose(p_adjust([0.52, 0.12, 0.0001, 0.03, 0.14]),
                               [0.52, 0.36, 0.0005, 0.12, 0.36])
    with_nan = p_adjust([0.52, np.nan, 0.10, 0.30, 0.14], "holm")
    np.testing.assert_allclose(with_nan, [0.6, np.nan, 0.4, 0.6, 0.42])
    assert p_adjust([], "BH").size == 0


# ---------------------------------------------------------------- independent groups


def test_mann_whitney_r_example():
    x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y = [1.15, 0.88, 0.90, 0.74, 1.21]
    res = mann_whitney(x, y, alternative="greater")
    # R ?wilcox.test (Hollander & Wolfe p. 69): W = 35, p-value = 0.1272
    assert res.statistic == 35 and res.method == "exact"
    assert res.pvalue == pytest.approx(0.1272, abs=5e-5)


def test_mann_whitney_rank_biserial_effectsize():
    # effectsize test-rankES.R: rank_biserial(A, B) = 0.6071429 (ties -> normal approximation)
    res = mann_whitney([48, 48, 77, 86, 85, 85, 16], [14, 34, 34, 77])
    assert res.rank_biserial == pytest.approx(0.6071429, abs=1e-7)
    assert res.method == "normal"
    assert np.isnan(mann_whitney([], [1, 2]).pvalue)


def test_kruskal_r_example_and_pingouin():
    # R ?kruskal.test: Kruskal-Wallis chi-squared = 0.77143, df = 2, p-value = 0.68
    res = kruskal([2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4], [2.8, 3.4, 3.7, 2.2, 2.0])
    assert res.statistic == pytest.approx(0.77143, abs=5e-6) and res.df == 2
    assert res.pvalue == pytest.approx(0.68, abs=5e-3)
    data = pd.read_csv(REF / "anova.csv")
    groups = [g["Pain threshold"] for _, g in data.groupby("Hair color")]
    res = kruskal(*groups)
    # pingouin docs (kruskal, dataset "anova"): H = 10.58863, p-unc = 0.014172, ddof1 = 3
    assert res.statistic == pytest.approx(10.58863, abs=5e-6) and res.df == 3
    assert res.pvalue == pytest.approx(0.014172, abs=5e-7)


def test_kruskal_edge_cases():
    assert np.isnan(kruskal([1, 2, 3]).statistic)
    assert np.isnan(kruskal([2, 2], [2, 2]).pvalue)
    res = kruskal([1, 2, np.nan], [], [3, 4])
    assert res.df == 1 and res.n == 4


def test_normalized_gain_hake():
    # Hake (1998) Am J Phys 66:64: <g> = (%<post> - %<pre>) / (100 - %<pre>);
    # e.g. class averages 40% -> 70% give <g> = 30 / 60 = 0.5
    assert normalized_gain([40, 50, 30], [70, 80, 60], 100) == pytest.approx(0.5)
    assert normalized_gain([2, 3], [4, 5], 5) == pytest.approx(2 / 2.5)
    assert np.isnan(normalized_gain([5, 5], [5, 5], 5))
    assert np.isnan(normalized_gain([np.nan], [3], 5))


# ---------------------------------------------------------------- meta-analysis


def _bcg_log_rr():
    """escalc(measure = "RR") data preparation: log risk ratios and their variances."""
    d = pd.read_csv(REF / "dat_bcg.csv")
    yi = np.log(d.tpos / (d.tpos + d.tneg)) - np.log(d.cpos / (d.cpos + d.cneg))
    vi = 1 / d.tpos - 1 / (d.tpos + d.tneg) + 1 / d.cpos - 1 / (d.cpos + d.cneg)
    return yi.to_numpy(), vi.to_numpy()


def test_random_effects_bcg_reml_metafor():
    res = random_effects(*_bcg_log_rr())
    # metafor README / rma(yi, vi) on dat.bcg: tau^2 0.3132, I^2 92.22%, Q(df = 12) = 152.2330,
    # estimate -0.7145, se 0.1798, ci.lb -1.0669, ci.ub -0.3622, zval -3.9744
    assert res.tau2 == pytest.approx(0.3132, abs=5e-5)
    assert res.i2 == pytest.approx(92.22, abs=5e-3)
    assert res.q == pytest.approx(152.2330, abs=5e-5)
    assert res.estimate == pytest.approx(-0.7145, abs=5e-5)
    assert res.se == pytest.approx(0.1798, abs=5e-5)
    assert res.ci_low == pytest.approx(-1.0669, abs=5e-5)
    assert res.ci_high == pytest.approx(-0.3622, abs=5e-5)
    assert res.k == 13 and res.q_pvalue < 1e-4


def test_random_effects_bcg_knha_and_dl():
    yi, vi = _bcg_log_rr()
    kn = random_effects(yi, vi, test="knha")
    # metafor README, rma(yi, vi, test = "knha"): se 0.1808, tval -3.9522, df 12, p 0.0019,
    # ci.lb -1.1084, ci.ub -0.3206
    assert kn.se == pytest.approx(0.1808, abs=5e-5)
    assert kn.pvalue == pytest.approx(0.0019, abs=5e-5)
    assert kn.ci_low == pytest.approx(-1.1084, abs=5e-5)
    assert kn.ci_high == pytest.approx(-0.3206, abs=5e-5)
    dl = random_effects(yi, vi, method="DL")
    # metafor test_misc_metan_vs_rma.uni_with_dat.bcg.r (Stata metan): -0.7141, CI -1.0644 ..
    # -0.3638, tau2 0.3088, I2 92.1173
    assert dl.estimate == pytest.approx(-0.7141, abs=5e-5)
    assert dl.ci_low == pytest.approx(-1.0644, abs=5e-5)
    assert dl.ci_high == pytest.approx(-0.3638, abs=5e-5)
    assert dl.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert dl.i2 == pytest.approx(92.1173, abs=5e-4)


def test_random_effects_raudenbush1985():
    d = pd.read_csv(REF / "dat_raudenbush1985.csv")
    res = random_effects(d.yi, d.vi)
    # metafor test_analysis_example_raudenbush1985.r (Raudenbush & Bryk 1985, pp. 83-86):
    # tau2 0.0188, estimate 0.0837, QE 35.8295, zval 1.6208
    assert res.tau2 == pytest.approx(0.0188, abs=5e-5)
    assert res.estimate == pytest.approx(0.0837, abs=5e-5)
    assert res.q == pytest.approx(35.8295, abs=5e-5)
    assert res.estimate / res.se == pytest.approx(1.6208, abs=5e-4)


def test_random_effects_ml_solves_likelihood_equation():
    # No published ML value at hand: check the defining ML estimating equation
    # sum w^2 ((y - mu)^2 - (v + tau2)) = 0 at tau2 > 0 (ML score equation, Viechtbauer 2005,
    # J Educ Behav Stat 30:261), and ML <= REML.
    yi, vi = _bcg_log_rr()
    ml = random_effects(yi, vi, method="ML")
    w = 1 / (vi + ml.tau2)
    assert np.sum(w**2 * ((yi - ml.estimate) ** 2 - vi - ml.tau2)) == pytest.approx(0, abs=1e-8)
    assert 0 < ml.tau2 < random_effects(yi, vi).tau2


def test_random_effects_single_study_and_errors():
    one = random_effects([0.4], [0.04])
    assert one.tau2 == 0 and np.isnan(one.q) and np.isnan(one.i2) and np.isnan(one.q_pvalue)
    assert one.estimate == pytest.approx(0.4) and one.se == pytest.approx(0.2)
    assert np.isnan(random_effects([0.4], [0.04], test="knha").ci_low)
    with pytest.raises(AnalysisError):
        random_effects([], [])
    with pytest.raises(AnalysisError):
        random_effects([0.1, 0.2], [0.01, -0.01])
    with pytest.raises(AnalysisError):
        random_effects([0.1, 0.2], [0.01, 0.02], method="PM")


# ---------------------------------------------------------------- bootstrap


@pytest.mark.parametrize(("ours", "scipy_method"), [("percentile", "percentile"), ("bca", "BCa")])
def test_bootstrap_matches_scipy(ours, scipy_method):
    # scipy.stats.bootstrap is an independent implementation; same data, same generator seed.
    rng = np.random.default_rng(7)
    data = rng.integers(1, 6, size=(40, 4)).astype(float)
    mine = bootstrap_ci(data, n_resamples=2000, method=ours, seed=123)
    ref = sps.bootstrap((data,), np.mean, axis=0, n_resamples=2000, method=scipy_method,
                        rng=np.random.default_rng(123))
    np.testing.assert_allclose(mine.ci_low, ref.confidence_interval.low, rtol=1e-12)
    np.testing.assert_allclose(mine.ci_high, ref.confidence_interval.high, rtol=1e-12)
    np.testing.assert_allclose(mine.estimate, data.mean(axis=0))


def test_bootstrap_callable_and_missing():
    rng = np.random.default_rng(3)
    x = rng.normal(size=30)
    mine = bootstrap_ci(x, statistic=np.median, n_resamples=999, seed=11)
    ref = sps.bootstrap((x,), np.median, n_resamples=999, method="percentile",
                        rng=np.random.default_rng(11))
    assert mine.ci_low[0] == pytest.approx(ref.confidence_interval.low)
    data = np.column_stack([x, np.r_[x[:20], [np.nan] * 10]])
    res = bootstrap_ci(data, seed=1)
    assert res.n.tolist() == [30, 20]
    assert res.estimate[1] == pytest.approx(x[:20].mean())
    assert bootstrap_ci(data, seed=1).ci_low.tolist() == res.ci_low.tolist()  # seeded
    short = bootstrap_ci(np.array([1.0, np.nan]), seed=1)
    assert np.isnan(short.ci_low[0]) and short.n[0] == 1


# ---------------------------------------------------------------- item table


def _likert_pairs(n=45, items=6, seed=2):
    rng = np.random.default_rng(seed)
    pre = rng.integers(1, 6, size=(n, items)).astype(float)
    post = np.clip(pre + rng.integers(-1, 3, size=(n, items)), 1, 5)
    cols = [f"q{i}" for i in range(items)]
    pre_df, post_df = pd.DataFrame(pre, columns=cols), pd.DataFrame(post, columns=cols)
    pre_df.iloc[3, 1] = np.nan
    post_df.iloc[7, 1] = np.nan
    post_df.iloc[:40, 2] = np.nan  # only 5 pairs left
    # item q3: few pairs, no ties, no zeros -> exact p; item q4: all unchanged
    pre_df["q3"] = [1.0, 2.0, 3.0, 4.0, 5.0] + [np.nan] * (n - 5)
    post_df["q3"] = [2.0, 4.0, 6.0, 8.0, 0.0] + [np.nan] * (n - 5)
    post_df["q4"] = pre_df["q4"]
    return post_df, pre_df


def test_item_table_agrees_with_single_function():
    post, pre = _likert_pairs()
    tab = paired_item_table(post, pre, n_resamples=500, seed=4)
    assert list(tab.columns) == list(ITEM_TABLE_COLUMNS)
    for i, col in enumerate(post.columns):
        one = wilcoxon_signed_rank(post[col], pre[col])
        row = tab.iloc[i]
        assert row.n_pairs == one.n
        assert row.wilcoxon_v == one.statistic
        np.testing.assert_equal(row.p_value, one.pvalue)
        np.testing.assert_equal(row.rank_biserial, one.rank_biserial)
        np.testing.assert_equal(row.rank_biserial_ci_low, one.rank_biserial_ci_low)
        np.testing.assert_equal(row.rank_biserial_ci_high, one.rank_biserial_ci_high)
    assert wilcoxon_signed_rank(post["q3"], pre["q3"]).method == "exact"
    assert wilcoxon_signed_rank(post["q0"], pre["q0"]).method == "normal"
    q4 = tab.set_index("item_id").loc["q4"]
    assert q4.pct_unchanged == 100 and np.isnan(q4.p_value)


def test_item_table_descriptives_and_bootstrap():
    post, pre = _likert_pairs()
    tab = paired_item_table(post, pre, n_resamples=500, seed=4).set_index("item_id")
    d = post["q1"] - pre["q1"]
    assert tab.loc["q1", "n_pairs"] == d.notna().sum() == 43
    assert tab.loc["q1", "mean_change"] == pytest.approx(d.mean())
    keep = d.notna()
    assert tab.loc["q1", "mean_a"] == pytest.approx(pre["q1"][keep].mean())
    assert tab.loc["q1", "mean_b"] == pytest.approx(post["q1"][keep].mean())
    pct = tab.loc["q1", ["pct_improved", "pct_unchanged", "pct_declined"]]
    assert pct.sum() == pytest.approx(100)
    assert tab.loc["q1", "pct_improved"] == pytest.approx(100 * (d > 0).sum() / 43)
    ci = bootstrap_ci((post - pre).to_numpy(), n_resamples=500, seed=4)
    np.testing.assert_allclose(tab["mean_change_ci_low"], ci.ci_low)
    # reproducible with the same seed
    again = paired_item_table(post, pre, n_resamples=500, seed=4).set_index("item_id")
    pd.testing.assert_frame_equal(tab, again)


def test_item_table_errors_and_empty_item():
    post, pre = _likert_pairs()
    with pytest.raises(AnalysisError):
        paired_item_table(post, pre.iloc[:10])
    with pytest.raises(AnalysisError):
        paired_item_table(post, pre.rename(columns={"q0": "other"}))
    post2 = post.copy()
    post2["q0"] = np.nan
    row = paired_item_table(post2, pre, n_resamples=100).set_index("item_id").loc["q0"]
    assert row.n_pairs == 0 and np.isnan(row.mean_change) and np.isnan(row.p_value)


def test_paired_t_large_effect_gives_a_finite_dz_interval():
    # Edge case: scipy's nct.cdf returns NaN far in the tail (t = 11.3 on 29 df); the
    # interval must still be found, contain d_z, and match the t-based quantities of R t.test.
    d = np.array([1.08, 0.33, 1.67, 1.0, 0.67, 1.33, 2.0, 0.33, 1.0, 1.33] * 3)
    res = paired_t(d, np.zeros(d.size))
    assert res.t == pytest.approx(d.mean() / (d.std(ddof=1) / np.sqrt(d.size)))
    assert np.isfinite(res.cohen_dz_ci_low) and np.isfinite(res.cohen_dz_ci_high)
    assert res.cohen_dz_ci_low < res.cohen_dz < res.cohen_dz_ci_high
