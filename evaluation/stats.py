"""Statistics of the toolkit: pure functions, no I/O.

Every function takes arrays (or DataFrames) and returns a small frozen dataclass whose field
names are part of the public API (see ``DESIGN.md``, "Public Python API"). The conventions follow
R unless stated otherwise:

* differences are ``b - a`` (post minus pre); a positive difference is an improvement;
* :func:`wilcoxon_signed_rank` is R's ``wilcox.test(b, a, paired=TRUE)`` (exact p when fewer than
  50 non-zero differences without ties or zeros, otherwise the normal approximation with
  continuity correction and tie-corrected variance);
* :func:`paired_t` is R's ``t.test(b, a, paired=TRUE)``; Cohen's d_z with a noncentral-t
  confidence interval as R ``effectsize`` computes it for paired data;
* :func:`cronbach_alpha` is ``psych::alpha`` (raw alpha) with the Feldt confidence interval;
* :func:`p_adjust` is R's ``p.adjust`` (Holm, Benjamini-Hochberg);
* :func:`mcnemar` is R's ``mcnemar.test`` (exact binomial option as ``exact2x2::mcnemar.exact``);
* :func:`random_effects` is ``metafor::rma`` (REML, DL, ML; Wald z or Hartung-Knapp "knha").

Edge cases never crash and never return a silent wrong number: when a quantity is undefined the
field is ``nan`` and the result's ``note`` says why. :class:`~evaluation.errors.AnalysisError` is
raised only for invalid arguments (an unknown method, arrays of different lengths, ...).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as _st

from evaluation.errors import AnalysisError

__all__ = [
    "WilcoxonResult",
    "PairedTResult",
    "AlphaResult",
    "McNemarResult",
    "MannWhitneyResult",
    "KruskalResult",
    "RandomEffectsResult",
    "ProportionCI",
    "BootstrapCI",
    "wilcoxon_signed_rank",
    "paired_t",
    "cronbach_alpha",
    "mcnemar",
    "p_adjust",
    "mann_whitney",
    "kruskal",
    "normalized_gain",
    "random_effects",
    "wilson_ci",
    "bootstrap_ci",
    "paired_item_table",
    "ITEM_TABLE_COLUMNS",
]

_ALTERNATIVES = ("two-sided", "greater", "less")
_NAN = float("nan")

#: Columns of :func:`paired_item_table`, in order.
ITEM_TABLE_COLUMNS = (
    "item_id",
    "n_pairs",
    "mean_a",
    "mean_b",
    "mean_change",
    "mean_change_ci_low",
    "mean_change_ci_high",
    "wilcoxon_v",
    "p_value",
    "rank_biserial",
    "rank_biserial_ci_low",
    "rank_biserial_ci_high",
    "pct_improved",
    "pct_unchanged",
    "pct_declined",
)


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WilcoxonResult:
    """Result of :func:`wilcoxon_signed_rank`.

    ``n`` is the number of complete pairs used (pairs with a missing value are dropped),
    ``n_zero`` how many of them have a zero difference (dropped from the ranking, as in R).
    """

    statistic: float
    pvalue: float
    rank_biserial: float
    rank_biserial_ci_low: float
    rank_biserial_ci_high: float
    n: int
    n_zero: int
    method: str
    note: str = ""


@dataclass(frozen=True)
class PairedTResult:
    """Result of :func:`paired_t`; ``n`` is the number of complete pairs used."""

    t: float
    df: float
    pvalue: float
    mean_diff: float
    ci_low: float
    ci_high: float
    cohen_dz: float
    cohen_dz_ci_low: float
    cohen_dz_ci_high: float
    n: int
    note: str = ""


@dataclass(frozen=True)
class AlphaResult:
    """Result of :func:`cronbach_alpha`; ``note`` explains a ``nan`` alpha or a warning."""

    alpha: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    note: str = ""


@dataclass(frozen=True)
class McNemarResult:
    """Result of :func:`mcnemar`.

    ``n_discordant`` = ``n_improved + n_declined`` (pairs that changed), ``n`` = complete pairs.
    """

    statistic: float
    pvalue: float
    n_discordant: int
    n: int
    n_improved: int
    n_declined: int
    method: str
    note: str = ""


@dataclass(frozen=True)
class MannWhitneyResult:
    """Result of :func:`mann_whitney`; ``statistic`` is U of ``x`` (R's W)."""

    statistic: float
    pvalue: float
    rank_biserial: float
    rank_biserial_ci_low: float
    rank_biserial_ci_high: float
    n_x: int
    n_y: int
    method: str
    note: str = ""


@dataclass(frozen=True)
class KruskalResult:
    """Result of :func:`kruskal`; ``n`` is the number of non-missing observations used."""

    statistic: float
    df: int
    pvalue: float
    n: int
    note: str = ""


@dataclass(frozen=True)
class RandomEffectsResult:
    """Result of :func:`random_effects`; ``i2`` is in percent, as metafor prints it."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pvalue: float
    tau2: float
    i2: float
    q: float
    q_pvalue: float
    k: int
    method: str
    test: str
    note: str = ""


@dataclass(frozen=True)
class ProportionCI:
    """Result of :func:`wilson_ci`."""

    proportion: float
    ci_low: float
    ci_high: float
    n: int


@dataclass(frozen=True)
class BootstrapCI:
    """Result of :func:`bootstrap_ci`: one entry per column of the input."""

    estimate: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n: np.ndarray
    method: str


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _check_alternative(alternative: str) -> None:
    if alternative not in _ALTERNATIVES:
        raise AnalysisError(
            f"alternative must be one of {', '.join(_ALTERNATIVES)}; got {alternative!r}."
        )


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise AnalysisError(f"The confidence level must lie between 0 and 1; got {confidence!r}.")


def _as_float_1d(x: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(pd.to_numeric(pd.Series(np.asarray(x, dtype=object).ravel()),
                                       errors="raise"), dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{name} must contain numbers or missing values only.") from exc
    return arr


def _paired_arrays(b: Any, a: Any) -> tuple[np.ndarray, np.ndarray]:
    bb = _as_float_1d(b, "b")
    aa = _as_float_1d(a, "a")
    if bb.shape != aa.shape:
        raise AnalysisError(
            f"b and a must hold the same number of matched pairs; got {bb.size} and {aa.size}."
        )
    keep = ~(np.isnan(bb) | np.isnan(aa))
    return bb[keep], aa[keep]


@lru_cache(maxsize=64)
def _signrank_counts(n: int) -> np.ndarray:
    """Number of subsets of {1..n} for each rank sum 0..n(n+1)/2 (exact null of V)."""
    top = n * (n + 1) // 2
    counts = np.zeros(top + 1)
    counts[0] = 1.0
    for i in range(1, n + 1):
        counts[i:] = counts[i:] + counts[: top + 1 - i]
    return counts


@lru_cache(maxsize=64)
def _signrank_cdf(n: int) -> np.ndarray:
    counts = _signrank_counts(n)
    return np.cumsum(counts) / counts.sum()


def _psignrank(q: np.ndarray, n: np.ndarray, lower: bool) -> np.ndarray:
    """R's psignrank(q, n, lower.tail) for integer q, vectorised over (q, n)."""
    out = np.empty(np.shape(q), dtype=float)
    for i, (qi, ni) in enumerate(zip(np.ravel(q), np.ravel(n), strict=True)):
        cdf = _signrank_cdf(int(ni))
        qi = int(np.floor(qi + 1e-7))
        below = 0.0 if qi < 0 else (1.0 if qi >= cdf.size else float(cdf[qi]))
        out.flat[i] = below if lower else 1.0 - below
    return out


@lru_cache(maxsize=64)
def _wilcox_counts(m: int, n: int) -> np.ndarray:
    """Number of arrangements for each U = 0..m*n (exact null of the Mann-Whitney U)."""
    # c[i][j] as polynomial in U; recurrence c(k; i, j) = c(k - j; i - 1, j) + c(k; i, j - 1).
    table: list[list[np.ndarray]] = [[np.ones(1) for _ in range(n + 1)] for _ in range(m + 1)]
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            size = i * j + 1
            out = np.zeros(size)
            left = table[i - 1][j]
            out[j : j + left.size] += left
            prev = table[i][j - 1]
            out[: prev.size] += prev
            table[i][j] = out
    return table[m][n]


def _pwilcox(q: float, m: int, n: int, lower: bool) -> float:
    counts = _wilcox_counts(m, n)
    cdf = np.cumsum(counts) / counts.sum()
    qi = int(np.floor(q + 1e-7))
    below = 0.0 if qi < 0 else (1.0 if qi >= cdf.size else float(cdf[qi]))
    return below if lower else 1.0 - below


def _normal_p(z: np.ndarray, alternative: str) -> np.ndarray:
    if alternative == "less":
        return _st.norm.cdf(z)
    if alternative == "greater":
        return _st.norm.sf(z)
    return 2.0 * np.minimum(_st.norm.cdf(z), _st.norm.sf(z))


def _fisher_z_ci(
    r: np.ndarray, se: np.ndarray, confidence: float, alternative: str
) -> tuple[np.ndarray, np.ndarray]:
    """CI of a correlation-type index on Fisher's z scale, as R effectsize does."""
    with np.errstate(divide="ignore", invalid="ignore"):
        zr = np.arctanh(r)
        if alternative == "two-sided":
            q = _st.norm.ppf(1 - (1 - confidence) / 2)
            return np.tanh(zr - q * se), np.tanh(zr + q * se)
        q = _st.norm.ppf(confidence)
        if alternative == "greater":
            return np.tanh(zr - q * se), np.ones_like(zr)
        return -np.ones_like(zr), np.tanh(zr + q * se)


def _signed_rank_core(
    v: np.ndarray,
    nd: np.ndarray,
    tie_term: np.ndarray,
    has_zero: np.ndarray,
    alternative: str,
    method: str,
    correction: bool,
    confidence: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """p-value, rank-biserial r and its CI, and exactness, vectorised over items.

    ``v``: sum of positive ranks; ``nd``: number of non-zero differences; ``tie_term``:
    sum(t^3 - t) over tie groups of |d|; ``has_zero``: whether zero differences were dropped.
    The single-test function and the item table both call this, so they agree exactly.
    """
    v = np.asarray(v, dtype=float)
    nd = np.asarray(nd, dtype=float)
    tie_term = np.asarray(tie_term, dtype=float)
    has_zero = np.asarray(has_zero, dtype=bool)
    pval = np.full(v.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = nd * (nd + 1) / 2.0
        r = np.where(total > 0, (2.0 * v - total) / total, np.nan)
        if method == "exact":
            exact = nd > 0
        elif method == "normal":
            exact = np.zeros(v.shape, dtype=bool)
        else:
            exact = (nd > 0) & (nd < 50) & (tie_term == 0) & ~has_zero
        # normal approximation (vectorised)
        z = v - nd * (nd + 1) / 4.0
        sigma = np.sqrt(nd * (nd + 1) * (2 * nd + 1) / 24.0 - tie_term / 48.0)
        if correction:
            corr = {"two-sided": np.sign(z) * 0.5, "greater": 0.5, "less": -0.5}[alternative]
        else:
            corr = 0.0
        zz = (z - corr) / sigma
        p_norm = np.where(sigma > 0, _normal_p(zz, alternative), np.nan)
        pval = np.where(exact, np.nan, p_norm)
        if np.any(exact):
            idx = np.flatnonzero(exact)
            ve, ne = v[idx], nd[idx]
            if alternative == "greater":
                pe = _psignrank(ve - 1, ne, lower=False)
            elif alternative == "less":
                pe = _psignrank(ve, ne, lower=True)
            else:
                upper = ve > ne * (ne + 1) / 4.0
                pe = np.where(
                    upper,
                    _psignrank(ve - 1, ne, lower=False),
                    _psignrank(ve, ne, lower=True),
                )
                pe = np.minimum(2.0 * pe, 1.0)
            pval[idx] = pe
        se = np.sqrt((2 * nd**3 + 3 * nd**2 + nd) / 6.0) / total
        lo, hi = _fisher_z_ci(r, se, confidence, alternative)
        lo = np.where(np.isnan(r), np.nan, lo)
        hi = np.where(np.isnan(r), np.nan, hi)
    return pval, r, lo, hi, exact


def _tie_term_columns(absd: np.ndarray) -> np.ndarray:
    """sum(t^3 - t) over groups of equal values in each column (NaN ignored)."""
    n, p = absd.shape
    if n == 0:
        return np.zeros(p)
    s = np.sort(absd, axis=0)
    valid = ~np.isnan(s)
    new_group = np.ones_like(valid)
    new_group[1:] = s[1:] != s[:-1]
    group_id = np.cumsum(new_group.T.ravel())  # column-major: groups never span columns
    col_id = np.repeat(np.arange(p), n)
    keep = valid.T.ravel()
    sizes = np.bincount(group_id[keep], minlength=group_id.max() + 1).astype(float)
    group_col = np.zeros(sizes.size, dtype=int)
    group_col[group_id[keep]] = col_id[keep]
    contrib = sizes**3 - sizes
    return np.bincount(group_col, weights=contrib, minlength=p)


def _signed_rank_columns(d: np.ndarray) -> dict[str, np.ndarray]:
    """V, counts and tie terms of each column of a differences matrix (NaN = missing)."""
    d = np.asarray(d, dtype=float)
    valid = ~np.isnan(d)
    nonzero = valid & (d != 0)
    absd = np.where(nonzero, np.abs(d), np.nan)
    ranks = _st.rankdata(absd, axis=0, nan_policy="omit")
    v = np.nansum(np.where(nonzero & (d > 0), ranks, 0.0), axis=0)
    return {
        "n": valid.sum(axis=0),
        "nd": nonzero.sum(axis=0),
        "n_zero": (valid & (d == 0)).sum(axis=0),
        "v": v,
        "tie_term": _tie_term_columns(absd),
        "n_pos": (valid & (d > 0)).sum(axis=0),
        "n_neg": (valid & (d < 0)).sum(axis=0),
    }


# --------------------------------------------------------------------------------------------
# Tests of paired differences
# --------------------------------------------------------------------------------------------


def wilcoxon_signed_rank(
    b: Any,
    a: Any,
    alternative: str = "two-sided",
    method: str = "auto",
    correction: bool = True,
    confidence: float = 0.95,
) -> WilcoxonResult:
    """Wilcoxon signed-rank test of matched pairs, as R ``wilcox.test(b, a, paired=TRUE)``.

    Parameters
    ----------
    b, a : array_like
        Matched values after (``b``) and before (``a``); the difference is ``b - a``. Pairs with
        a missing value in either array are dropped; ``n`` reports the pairs used.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"`` tests whether ``b - a`` tends to be positive.
    method : {"auto", "exact", "normal"}
        ``"auto"`` follows R: exact null distribution when there are fewer than 50 non-zero
        differences and neither ties nor zeros, otherwise the normal approximation.
    correction : bool
        Continuity correction of the normal approximation (R's default).
    confidence : float
        Level of the rank-biserial confidence interval.

    Returns
    -------
    WilcoxonResult
        ``statistic`` is V, the sum of the ranks of the positive differences (zeros dropped,
        average ranks for ties, as R). ``rank_biserial`` is the matched-pairs rank-biserial
        correlation ``(W+ - W-) / (W+ + W-)`` (Kerby 2014), positive when ``b > a``. Its interval
        is the one of R ``effectsize::rank_biserial``: Fisher's z of r plus or minus a normal
        quantile times ``sqrt((2 n^3 + 3 n^2 + n) / 6) / (n (n + 1) / 2)`` with ``n`` the number of
        non-zero differences, back-transformed. When every non-zero difference has the same sign
        (r = +-1) that interval degenerates to a single point, as in effectsize; the ``note`` says
        so.

    Notes
    -----
    Defined results for edge cases: no complete pair, or all differences zero: V = 0 and
    ``pvalue``/``rank_biserial`` are nan (R returns NaN too); fewer than three pairs: computed as
    R does, with a note that the test has no power.

    Examples
    --------
    Depression scores of R's ``?wilcox.test`` (Hollander & Wolfe 1973, p. 29):

    >>> from evaluation.stats import wilcoxon_signed_rank
    >>> x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    >>> y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    >>> res = wilcoxon_signed_rank(x, y)
    >>> res.statistic, round(res.pvalue, 5), res.method
    (40.0, 0.03906, 'exact')
    >>> round(res.rank_biserial, 3)
    0.778
    """
    _check_alternative(alternative)
    _check_confidence(confidence)
    if method not in ("auto", "exact", "normal"):
        raise AnalysisError(f"method must be 'auto', 'exact' or 'normal'; got {method!r}.")
    bb, aa = _paired_arrays(b, a)
    d = (bb - aa).reshape(-1, 1)
    cols = _signed_rank_columns(d)
    n, nd, n_zero = int(cols["n"][0]), int(cols["nd"][0]), int(cols["n_zero"][0])
    pval, r, lo, hi, exact = _signed_rank_core(
        cols["v"], cols["nd"], cols["tie_term"], cols["n_zero"] > 0,
        alternative, method, correction, confidence,
    )
    notes = []
    if n == 0:
        notes.append("No complete pair: the test is undefined.")
    elif nd == 0:
        notes.append("All differences are zero: the test is undefined (R returns NaN).")
    else:
        if n < 3:
            notes.append("Fewer than 3 pairs: the test cannot detect any change.")
        if abs(r[0]) == 1:
            notes.append(
                "All non-zero differences have the same sign (r = +-1); the Fisher-z interval "
                "of effectsize degenerates to a point."
            )
    return WilcoxonResult(
        statistic=float(cols["v"][0]),
        pvalue=float(pval[0]),
        rank_biserial=float(r[0]),
        rank_biserial_ci_low=float(lo[0]),
        rank_biserial_ci_high=float(hi[0]),
        n=n,
        n_zero=n_zero,
        method="exact" if bool(exact[0]) else "normal",
        note=" ".join(notes),
    )


def _nct_ci(t: float, df: float, confidence: float, alternative: str) -> tuple[float, float]:
    """Confidence limits of the noncentrality parameter of a t statistic (inversion)."""
    if not np.isfinite(t) or df <= 0:
        return _NAN, _NAN

    # The limits lie a few standard errors of the noncentrality parameter away from t; search
    # outward in steps of that size so that scipy's nct.cdf is evaluated only where it is
    # finite (far in the tail it returns NaN, e.g. t = 9.3 on 27 df).
    step = math.sqrt(1.0 + t * t / (2.0 * df))

    def limit(prob: float) -> float:
        # find ncp such that P(T <= t | ncp) = prob; the cdf decreases in ncp
        def f(ncp: float) -> float:
            return float(_st.nct.cdf(t, df, ncp)) - prob

        def bracket(direction: int, positive: bool) -> float:
            for k in range(1, 200):
                x = t + direction * k * step
                value = f(x)
                if np.isnan(value):
                    break
                if (value > 0) == positive:
                    return x
            return _NAN

        lo, hi = bracket(-1, True), bracket(1, False)
        if np.isnan(lo) or np.isnan(hi):
            return _NAN
        return float(optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-12, maxiter=500))

    if alternative == "two-sided":
        return limit(1 - (1 - confidence) / 2), limit((1 - confidence) / 2)
    if alternative == "greater":
        return limit(confidence), float("inf")
    return float("-inf"), limit(1 - confidence)


def paired_t(
    b: Any, a: Any, alternative: str = "two-sided", confidence: float = 0.95
) -> PairedTResult:
    """Paired t-test, as R ``t.test(b, a, paired=TRUE)``, with Cohen's d_z.

    Parameters
    ----------
    b, a : array_like
        Matched values after and before; pairs with a missing value are dropped.
    alternative : {"two-sided", "greater", "less"}
        Refers to ``b - a``. One-sided intervals are open on one side (``inf``), as in R.
    confidence : float
        Level of both confidence intervals.

    Returns
    -------
    PairedTResult
        ``t``, ``df``, ``pvalue``, ``mean_diff`` (mean of ``b - a``) with its t interval, and
        ``cohen_dz = mean_diff / sd(b - a)``. The d_z interval inverts the noncentral t
        distribution: the limits are the noncentrality parameters for which the observed t is at
        the upper and lower tail quantiles, divided by ``sqrt(n)`` (Steiger & Fouladi 1997; the
        method R ``effectsize::cohens_d`` uses for one-sample and paired data).

    Notes
    -----
    Fewer than two pairs, or differences that are all equal (standard deviation 0): t, p and d_z
    are nan with a ``note`` (R stops with "data are essentially constant").

    Examples
    --------
    R's ``sleep`` data (``t.test(extra ~ group, data = sleep, paired = TRUE)``):

    >>> from evaluation.stats import paired_t
    >>> g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    >>> g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    >>> res = paired_t(g2, g1)
    >>> round(res.t, 4), res.df, round(res.pvalue, 6)
    (4.0621, 9.0, 0.002833)
    >>> round(res.ci_low, 4), round(res.ci_high, 4)
    (0.7001, 2.4599)
    """
    _check_alternative(alternative)
    _check_confidence(confidence)
    bb, aa = _paired_arrays(b, a)
    d = bb - aa
    n = int(d.size)
    df = float(n - 1)
    mean = float(d.mean()) if n else _NAN
    if n < 2:
        return PairedTResult(_NAN, df if n else _NAN, _NAN, mean, _NAN, _NAN, _NAN, _NAN, _NAN,
                             n, "Fewer than 2 complete pairs: the t-test is undefined.")
    sd = float(d.std(ddof=1))
    if not sd > 0:
        return PairedTResult(_NAN, df, _NAN, mean, _NAN, _NAN, _NAN, _NAN, _NAN, n,
                             "All differences are equal (sd = 0): t and d_z are undefined.")
    se = sd / np.sqrt(n)
    t = mean / se
    if alternative == "two-sided":
        p = 2 * _st.t.sf(abs(t), df)
        q = _st.t.ppf(1 - (1 - confidence) / 2, df)
        lo, hi = mean - q * se, mean + q * se
    elif alternative == "greater":
        p = _st.t.sf(t, df)
        lo, hi = mean - _st.t.ppf(confidence, df) * se, float("inf")
    else:
        p = _st.t.cdf(t, df)
        lo, hi = float("-inf"), mean + _st.t.ppf(confidence, df) * se
    ncp_lo, ncp_hi = _nct_ci(t, df, confidence, alternative)
    root_n = np.sqrt(n)
    return PairedTResult(
        t=float(t),
        df=df,
        pvalue=float(p),
        mean_diff=mean,
        ci_low=float(lo),
        ci_high=float(hi),
        cohen_dz=mean / sd,
        cohen_dz_ci_low=float(ncp_lo / root_n),
        cohen_dz_ci_high=float(ncp_hi / root_n),
        n=n,
        note="Fewer than 3 pairs: estimates are very imprecise." if n < 3 else "",
    )


# --------------------------------------------------------------------------------------------
# Reliability
# --------------------------------------------------------------------------------------------


def cronbach_alpha(
    items: pd.DataFrame | np.ndarray, ci: float = 0.95, nan_policy: str = "pairwise"
) -> AlphaResult:
    """Cronbach's alpha (raw), as ``psych::alpha``, with the Feldt confidence interval.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Respondents in rows, items in columns; NaN marks a missing answer.
    ci : float
        Confidence level of the interval.
    nan_policy : {"pairwise", "listwise"}
        ``"pairwise"`` (psych's default ``use="pairwise"``) builds the item covariance matrix
        from pairwise-complete observations; ``"listwise"`` first drops every respondent with a
        missing answer (psych ``use="complete.obs"``).

    Returns
    -------
    AlphaResult
        ``alpha = k / (k - 1) * (1 - trace(C) / sum(C))`` for the item covariance matrix C.
        The Feldt interval is ``1 - (1 - alpha) * F`` with the upper and lower ``(1 - ci) / 2``
        quantiles of F(n - 1, (n - 1)(k - 1)) (Feldt, Woodruff & Salih 1987). ``n`` is the number of
        respondents used: complete cases (listwise) or respondents with at least one answer
        (pairwise; the CI then treats them as complete, an approximation).

    Notes
    -----
    Alpha is nan, with the reason in ``note``, when fewer than 2 items or 2 respondents remain,
    when two items were never answered together (their covariance is unknown) or when the total
    score has no variance. An item with zero variance (everyone gave the same answer) does not
    make raw alpha undefined; it is computed and the ``note`` names the item.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.stats import cronbach_alpha
    >>> df = pd.DataFrame({"q1": [1, 2, 2, 3, 2, 2, 3, 3, 2, 3],
    ...                    "q2": [1, 1, 1, 2, 3, 3, 2, 3, 3, 3],
    ...                    "q3": [1, 1, 2, 1, 2, 3, 3, 3, 2, 3]})
    >>> res = cronbach_alpha(df)
    >>> round(res.alpha, 4), res.n, res.k
    (0.7734, 10, 3)
    """
    _check_confidence(ci)
    if nan_policy not in ("pairwise", "listwise"):
        raise AnalysisError(f"nan_policy must be 'pairwise' or 'listwise'; got {nan_policy!r}.")
    df = pd.DataFrame(items).copy()
    try:
        if not all(dtype.kind == "f" for dtype in df.dtypes):  # float columns are numbers
            df = df.apply(lambda s: pd.to_numeric(s, errors="raise"))
        df = df.astype(float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError("Item scores must be numbers or missing values.") from exc
    df = df[df.notna().to_numpy().any(axis=1)]  # respondents with at least one answer
    if nan_policy == "listwise":
        df = df.dropna(axis=0, how="any")
    n, k = df.shape

    def undefined(reason: str) -> AlphaResult:
        return AlphaResult(_NAN, _NAN, _NAN, int(n), int(k), reason)

    if k < 2:
        return undefined("Alpha needs at least 2 items.")
    if n < 2:
        return undefined("Alpha needs at least 2 respondents.")
    cov = df.cov(min_periods=2).to_numpy()
    if np.isnan(cov).any():
        return undefined("Some items were never answered together: their covariance is unknown.")
    total = cov.sum()
    if not total > 0:
        return undefined("The total score has no variance: alpha is undefined.")
    alpha = (k / (k - 1)) * (1 - np.trace(cov) / total)
    constant = [str(c) for c, v in zip(df.columns, np.diag(cov), strict=True) if v == 0]
    note = f"Item(s) with zero variance: {', '.join(constant)}." if constant else ""
    df1 = n - 1
    df2 = df1 * (k - 1)
    lo = 1 - (1 - alpha) * _st.f.isf((1 - ci) / 2, df1, df2)
    hi = 1 - (1 - alpha) * _st.f.isf(1 - (1 - ci) / 2, df1, df2)
    return AlphaResult(float(alpha), float(lo), float(hi), int(n), int(k), note)


# --------------------------------------------------------------------------------------------
# Proportions
# --------------------------------------------------------------------------------------------


def _as_bool_1d(x: Any, name: str) -> np.ndarray:
    s = pd.Series(np.asarray(x, dtype=object).ravel())
    out = np.full(s.size, np.nan)
    for i, v in enumerate(s):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            continue
        if isinstance(v, (bool, np.bool_)) or v in (0, 1):
            out[i] = float(bool(v))
        else:
            raise AnalysisError(f"{name} must contain booleans (or 0/1) and missing values only.")
    return out


def mcnemar(a: Any, b: Any, correction: bool = True, exact: bool = False) -> McNemarResult:
    """McNemar test of paired booleans, as R ``mcnemar.test`` (or the exact binomial version).

    Parameters
    ----------
    a, b : array_like of bool
        The same respondents before (``a``) and after (``b``), e.g. "answered correctly".
        Pairs with a missing value are dropped.
    correction : bool
        Continuity correction ``(|n10 - n01| - 1)^2 / (n10 + n01)`` (R's default).
    exact : bool
        Exact two-sided binomial test of the discordant pairs against 1/2 (as
        ``exact2x2::mcnemar.exact`` and ``binom.test``); ``statistic`` is then the number of
        improved pairs (False before, True after).

    Returns
    -------
    McNemarResult
        With no discordant pair the test is undefined: statistic and p are nan (R returns NaN).

    Examples
    --------
    R ``?mcnemar.test`` (Agresti 1990, presidential approval, 150 and 86 discordant pairs):

    >>> from evaluation.stats import mcnemar
    >>> before = [True] * 944 + [False] * 656
    >>> after = [True] * 794 + [False] * 150 + [True] * 86 + [False] * 570
    >>> res = mcnemar(before, after)
    >>> round(res.statistic, 3), res.n_discordant
    (16.818, 236)
    """
    aa = _as_bool_1d(a, "a")
    bb = _as_bool_1d(b, "b")
    if aa.shape != bb.shape:
        raise AnalysisError(
            f"a and b must hold the same number of pairs; got {aa.size} and {bb.size}."
        )
    keep = ~(np.isnan(aa) | np.isnan(bb))
    aa, bb = aa[keep].astype(bool), bb[keep].astype(bool)
    n = int(aa.size)
    improved = int(np.sum(~aa & bb))
    declined = int(np.sum(aa & ~bb))
    nd = improved + declined
    method = "exact" if exact else ("chi2-corrected" if correction else "chi2")
    if nd == 0:
        return McNemarResult(_NAN, _NAN, 0, n, 0, 0, method,
                             "No discordant pair: the test is undefined.")
    if exact:
        p = min(1.0, 2.0 * float(_st.binom.cdf(min(improved, declined), nd, 0.5)))
        stat = float(improved)
    else:
        diff = abs(improved - declined) - (1.0 if correction else 0.0)
        stat = diff**2 / nd
        p = float(_st.chi2.sf(stat, 1))
    return McNemarResult(float(stat), float(p), nd, n, improved, declined, method)


def wilson_ci(successes: int, n: int, confidence: float = 0.95) -> ProportionCI:
    """Wilson score interval of a proportion (Wilson 1927; Newcombe 1998, method 3).

    The same interval as R ``prop.test(x, n, correct = FALSE)$conf.int`` and
    ``binom::binom.confint(method = "wilson")``.

    Parameters
    ----------
    successes : int
        Number of successes, ``0 <= successes <= n``.
    n : int
        Number of trials; ``n = 0`` gives nan.
    confidence : float
        Confidence level.

    Returns
    -------
    ProportionCI

    Examples
    --------
    >>> from evaluation.stats import wilson_ci
    >>> res = wilson_ci(81, 263)
    >>> round(res.ci_low, 4), round(res.ci_high, 4)
    (0.2553, 0.3662)
    """
    _check_confidence(confidence)
    if n < 0 or successes < 0 or successes > n:
        raise AnalysisError(f"Need 0 <= successes <= n; got successes={successes}, n={n}.")
    if n == 0:
        return ProportionCI(_NAN, _NAN, _NAN, 0)
    p = successes / n
    z = _st.norm.ppf(1 - (1 - confidence) / 2)
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return ProportionCI(float(p), float(lo), float(hi), int(n))


def p_adjust(pvalues: Sequence[float] | np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple comparisons, as R ``p.adjust``.

    Parameters
    ----------
    pvalues : array_like
        Raw p-values; NaN entries stay NaN and do not count towards the number of tests
        (R's behaviour).
    method : {"holm", "BH"}
        Holm (1979) step-down, or Benjamini & Hochberg (1995) false discovery rate
        (``"fdr"`` is accepted as an alias of ``"BH"``, as in R).

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input order.

    Examples
    --------
    >>> from evaluation.stats import p_adjust
    >>> p_adjust([0.50, 0.003, 0.32, 0.054, 0.0003], "holm").round(4).tolist()
    [0.64, 0.012, 0.64, 0.162, 0.0015]
    """
    if method == "fdr":
        method = "BH"
    if method not in ("holm", "BH"):
        raise AnalysisError(f"method must be 'holm' or 'BH'; got {method!r}.")
    p = np.asarray(pvalues, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    if method == "holm":
        order = np.argsort(q, kind="mergesort")
        adj = np.maximum.accumulate((m - np.arange(m)) * q[order])
    else:
        order = np.argsort(q, kind="mergesort")[::-1]
        adj = np.minimum.accumulate(m / np.arange(m, 0, -1) * q[order])
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


# --------------------------------------------------------------------------------------------
# Independent groups
# --------------------------------------------------------------------------------------------


def mann_whitney(
    x: Any,
    y: Any,
    alternative: str = "two-sided",
    method: str = "auto",
    correction: bool = True,
    confidence: float = 0.95,
) -> MannWhitneyResult:
    """Mann-Whitney U (Wilcoxon rank-sum) test, as R ``wilcox.test(x, y)``.

    Parameters
    ----------
    x, y : array_like
        Two independent samples; missing values are dropped.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: x tends to be larger than y.
    method : {"auto", "exact", "normal"}
        ``"auto"`` follows R: exact when both samples have fewer than 50 values and there are
        no ties, else the normal approximation (tie-corrected variance).
    correction : bool
        Continuity correction of the normal approximation.
    confidence : float
        Level of the rank-biserial interval.

    Returns
    -------
    MannWhitneyResult
        ``statistic`` is U of x (R's W). ``rank_biserial = 2 U / (n_x n_y) - 1`` (Glass 1965),
        positive when x tends to exceed y, with the interval of R ``effectsize``: Fisher's z plus
        or minus a normal quantile times ``sqrt((n_x + n_y + 1) / (3 n_x n_y))``.

    Examples
    --------
    R ``?wilcox.test`` (Hollander & Wolfe 1973, p. 69):

    >>> from evaluation.stats import mann_whitney
    >>> x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    >>> y = [1.15, 0.88, 0.90, 0.74, 1.21]
    >>> res = mann_whitney(x, y, alternative="greater")
    >>> res.statistic, round(res.pvalue, 4)
    (35.0, 0.1272)
    """
    _check_alternative(alternative)
    _check_confidence(confidence)
    if method not in ("auto", "exact", "normal"):
        raise AnalysisError(f"method must be 'auto', 'exact' or 'normal'; got {method!r}.")
    xx = _as_float_1d(x, "x")
    yy = _as_float_1d(y, "y")
    xx, yy = xx[~np.isnan(xx)], yy[~np.isnan(yy)]
    nx, ny = int(xx.size), int(yy.size)
    if nx == 0 or ny == 0:
        return MannWhitneyResult(_NAN, _NAN, _NAN, _NAN, _NAN, nx, ny, "normal",
                                 "One sample is empty: the test is undefined.")
    ranks = _st.rankdata(np.concatenate([xx, yy]))
    u = float(ranks[:nx].sum() - nx * (nx + 1) / 2)
    _, tcounts = np.unique(ranks, return_counts=True)
    ties = bool(np.any(tcounts > 1))
    use_exact = method == "exact" or (method == "auto" and nx < 50 and ny < 50 and not ties)
    if use_exact:
        if alternative == "greater":
            p = _pwilcox(u - 1, nx, ny, lower=False)
        elif alternative == "less":
            p = _pwilcox(u, nx, ny, lower=True)
        else:
            p = (_pwilcox(u - 1, nx, ny, lower=False) if u > nx * ny / 2
                 else _pwilcox(u, nx, ny, lower=True))
            p = min(2 * p, 1.0)
    else:
        n = nx + ny
        tie_term = float(np.sum(tcounts.astype(float) ** 3 - tcounts))
        z = u - nx * ny / 2
        sigma = np.sqrt((nx * ny / 12) * ((n + 1) - tie_term / (n * (n - 1))))
        corr = 0.0
        if correction:
            corr = {"two-sided": np.sign(z) * 0.5, "greater": 0.5, "less": -0.5}[alternative]
        p = float(_normal_p(np.asarray((z - corr) / sigma), alternative)) if sigma > 0 else _NAN
    r = 2 * u / (nx * ny) - 1
    se = np.sqrt((nx + ny + 1) / (3 * nx * ny))
    lo, hi = _fisher_z_ci(np.asarray(r), np.asarray(se), confidence, alternative)
    note = "All values are equal: the test is undefined." if np.isnan(p) else ""
    return MannWhitneyResult(u, float(p), float(r), float(lo), float(hi), nx, ny,
                             "exact" if use_exact else "normal", note)


def kruskal(*groups: Any) -> KruskalResult:
    """Kruskal-Wallis rank-sum test, as R ``kruskal.test``.

    Parameters
    ----------
    *groups : array_like
        Two or more samples; missing values are dropped and empty groups are ignored.

    Returns
    -------
    KruskalResult
        ``statistic`` is H corrected for ties, ``df`` the number of non-empty groups minus one,
        ``pvalue`` from the chi-squared distribution. Fewer than two non-empty groups, or all
        values equal, give nan with a ``note``.

    Examples
    --------
    R ``?kruskal.test`` (Hollander & Wolfe 1973, p. 116):

    >>> from evaluation.stats import kruskal
    >>> res = kruskal([2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4],
    ...               [2.8, 3.4, 3.7, 2.2, 2.0])
    >>> round(res.statistic, 5), res.df, round(res.pvalue, 2)
    (0.77143, 2, 0.68)
    """
    clean = []
    for i, g in enumerate(groups):
        arr = _as_float_1d(g, f"group {i + 1}")
        arr = arr[~np.isnan(arr)]
        if arr.size:
            clean.append(arr)
    n = int(sum(g.size for g in clean))
    if len(clean) < 2:
        return KruskalResult(_NAN, max(len(clean) - 1, 0), _NAN, n,
                             "Fewer than 2 non-empty groups: the test is undefined.")
    allv = np.concatenate(clean)
    ranks = _st.rankdata(allv)
    sizes = np.array([g.size for g in clean])
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    sums = np.array([ranks[bounds[i]:bounds[i + 1]].sum() for i in range(len(clean))])
    _, tcounts = np.unique(allv, return_counts=True)
    denom = 1 - np.sum(tcounts.astype(float) ** 3 - tcounts) / (n**3 - n)
    df = len(clean) - 1
    if not denom > 0:
        return KruskalResult(_NAN, df, _NAN, n, "All values are equal: the test is undefined.")
    h = (12 / (n * (n + 1)) * np.sum(sums**2 / sizes) - 3 * (n + 1)) / denom
    return KruskalResult(float(h), df, float(_st.chi2.sf(h, df)), n)


def normalized_gain(pre: Any, post: Any, max_score: float) -> float:
    """Hake's class-average normalized gain ``<g> = (<post> - <pre>) / (max - <pre>)``.

    Parameters
    ----------
    pre, post : array_like
        Scores of the class before and after (missing values ignored in each average).
    max_score : float
        The highest possible score (use 100 for percentages).

    Returns
    -------
    float
        The class-average gain (Hake 1998, Am. J. Phys. 66, 64). nan when a wave has no score or
        when the pre-test average already equals the maximum (no room to gain).

    Examples
    --------
    >>> from evaluation.stats import normalized_gain
    >>> normalized_gain([40, 50, 30], [70, 80, 60], max_score=100)
    0.5
    """
    pre_a = _as_float_1d(pre, "pre")
    post_a = _as_float_1d(post, "post")
    if pre_a[~np.isnan(pre_a)].size == 0 or post_a[~np.isnan(post_a)].size == 0:
        return _NAN
    mpre = float(np.nanmean(pre_a))
    mpost = float(np.nanmean(post_a))
    if mpre > max_score or mpost > max_score:
        raise AnalysisError("Scores above max_score: check the maximum of the test.")
    if mpre == max_score:
        return _NAN
    return (mpost - mpre) / (max_score - mpre)


# --------------------------------------------------------------------------------------------
# Meta-analysis
# --------------------------------------------------------------------------------------------


def _tau2_iterative(y: np.ndarray, v: np.ndarray, method: str, start: float) -> float:
    """Fisher scoring for the REML or ML estimate of tau^2 (truncated at 0, as metafor)."""
    tau2 = max(start, 0.0)
    for _ in range(1000):
        w = 1.0 / (v + tau2)
        mu = np.sum(w * y) / np.sum(w)
        resid = y - mu
        if method == "ML":
            score = np.sum(w**2 * resid**2) - np.sum(w)
            info = np.sum(w**2)
        else:  # REML, intercept-only model: P = W - w w' / sum(w), in closed form (no k x k
            # matrix): P y = w * resid, tr(P) = S1 - S2/S1, sum(P*P) = S2 - 2 S3/S1 + S2^2/S1^2
            s1, s2, s3 = np.sum(w), np.sum(w**2), np.sum(w**3)
            py = w * resid
            score = float(py @ py) - (s1 - s2 / s1)
            info = float(s2 - 2.0 * s3 / s1 + (s2 / s1) ** 2)
        step = score / info
        new = max(tau2 + step, 0.0)
        if abs(new - tau2) < 1e-12 * max(1.0, tau2):
            return new
        tau2 = new
    return tau2


def random_effects(
    yi: Any, vi: Any, method: str = "REML", test: str = "z", confidence: float = 0.95
) -> RandomEffectsResult:
    """Random-effects meta-analysis of effect sizes, as ``metafor::rma(yi, vi)``.

    Parameters
    ----------
    yi : array_like
        Effect sizes (e.g. standardized mean changes of several workshops).
    vi : array_like
        Their sampling variances (> 0). Studies with a missing yi or vi are dropped.
    method : {"REML", "DL", "ML"}
        Estimator of the between-study variance tau^2: restricted maximum likelihood (metafor's
        default), DerSimonian-Laird, or maximum likelihood. REML and ML use Fisher scoring
        started at the DL value; tau^2 is truncated at 0.
    test : {"z", "knha"}
        Wald z test and interval, or the Hartung-Knapp(-Sidik-Jonkman) adjustment (t with k - 1
        df, scaled standard error; metafor ``test="knha"``, without truncation of the scale).
    confidence : float
        Level of the interval of the pooled estimate.

    Returns
    -------
    RandomEffectsResult
        ``q`` is Cochran's Q with its chi-squared p-value (k - 1 df); ``i2`` is
        ``100 tau^2 / (tau^2 + s^2)`` with metafor's typical within-study variance
        ``s^2 = (k - 1) sum(w) / ((sum w)^2 - sum(w^2))``, ``w = 1 / vi``.

    Notes
    -----
    A single study (k = 1): tau^2 = 0, the estimate is the study's own, Q, its p-value and I^2
    are nan (no heterogeneity test); with ``test="knha"`` the interval is nan (0 df).

    Examples
    --------
    Teacher expectancy studies (Raudenbush 1984; ``dat.raudenbush1985`` in metadat):

    >>> from evaluation.stats import random_effects
    >>> yi = [0.03, 0.12, -0.14, 1.18, 0.26, -0.06, -0.02, -0.32, 0.27, 0.80, 0.54, 0.18,
    ...       -0.02, 0.23, -0.18, -0.06, 0.30, 0.07, -0.07]
    >>> vi = [0.0156, 0.0216, 0.0279, 0.1391, 0.1362, 0.0106, 0.0106, 0.0484, 0.0269, 0.0630,
    ...       0.0912, 0.0497, 0.0835, 0.0841, 0.0253, 0.0279, 0.0193, 0.0088, 0.0303]
    >>> res = random_effects(yi, vi)
    >>> round(res.tau2, 4), round(res.estimate, 4), round(res.q, 4)
    (0.0188, 0.0837, 35.8295)
    """
    if method not in ("REML", "DL", "ML"):
        raise AnalysisError(f"method must be 'REML', 'DL' or 'ML'; got {method!r}.")
    if test not in ("z", "knha"):
        raise AnalysisError(f"test must be 'z' or 'knha'; got {test!r}.")
    _check_confidence(confidence)
    y = _as_float_1d(yi, "yi")
    v = _as_float_1d(vi, "vi")
    if y.shape != v.shape:
        raise AnalysisError(f"yi and vi must have the same length; got {y.size} and {v.size}.")
    keep = ~(np.isnan(y) | np.isnan(v))
    y, v = y[keep], v[keep]
    k = int(y.size)
    if k == 0:
        raise AnalysisError("No study with both an effect size and a sampling variance.")
    if np.any(v <= 0):
        raise AnalysisError("Sampling variances must be positive.")
    w = 1.0 / v
    notes = []
    if k == 1:
        tau2, q, q_p, i2 = 0.0, _NAN, _NAN, _NAN
        notes.append("Single study: tau^2 = 0 and no heterogeneity test.")
    else:
        mu_fe = np.sum(w * y) / np.sum(w)
        q = float(np.sum(w * (y - mu_fe) ** 2))
        q_p = float(_st.chi2.sf(q, k - 1))
        c = np.sum(w) - np.sum(w**2) / np.sum(w)
        tau2_dl = max(0.0, (q - (k - 1)) / c)
        tau2 = tau2_dl if method == "DL" else _tau2_iterative(y, v, method, tau2_dl)
        s2 = (k - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2))
        i2 = float(100 * tau2 / (tau2 + s2))
    ws = 1.0 / (v + tau2)
    est = float(np.sum(ws * y) / np.sum(ws))
    if test == "z":
        se = float(np.sqrt(1.0 / np.sum(ws)))
        zval = est / se
        p = float(2 * _st.norm.sf(abs(zval)))
        qcrit = _st.norm.ppf(1 - (1 - confidence) / 2)
    elif k > 1:
        s2w = np.sum(ws * (y - est) ** 2) / (k - 1)
        se = float(np.sqrt(s2w / np.sum(ws)))
        tval = est / se if se > 0 else _NAN
        p = float(2 * _st.t.sf(abs(tval), k - 1))
        qcrit = _st.t.ppf(1 - (1 - confidence) / 2, k - 1)
    else:
        se, p, qcrit = _NAN, _NAN, _NAN
        notes.append("Hartung-Knapp needs at least 2 studies (0 df): interval is nan.")
    return RandomEffectsResult(
        estimate=est,
        se=se,
        ci_low=float(est - qcrit * se),
        ci_high=float(est + qcrit * se),
        pvalue=p,
        tau2=float(tau2),
        i2=i2,
        q=q,
        q_pvalue=q_p,
        k=k,
        method=method,
        test=test,
        note=" ".join(notes),
    )


# --------------------------------------------------------------------------------------------
# Bootstrap
# --------------------------------------------------------------------------------------------


def _resample_means(
    compact: np.ndarray, counts_n: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Bootstrap means of each column; column j uses its first counts_n[j] rows.

    Columns sharing a size share one draw of row indices (``rng.integers(0, n, (B, n))``, the
    draw scipy.stats.bootstrap makes), turned into resampling counts and applied to all of them
    with one matrix product.
    """
    p = compact.shape[1]
    out = np.full((n_resamples, p), np.nan)
    for size in sorted(set(int(s) for s in counts_n), key=lambda s: -s):
        cols = np.flatnonzero(counts_n == size)
        if size == 0:
            continue
        idx = rng.integers(0, size, (n_resamples, size))
        offsets = (np.arange(n_resamples) * size)[:, None]
        weights = np.bincount((idx + offsets).ravel(), minlength=n_resamples * size)
        weights = weights.reshape(n_resamples, size).astype(float)
        out[:, cols] = weights @ compact[:size, cols] / size
    return out


def _compact_columns(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move each column's non-missing values to the top (stable); return them and counts."""
    valid = ~np.isnan(data)
    order = np.argsort(~valid, axis=0, kind="stable")
    compact = np.take_along_axis(data, order, axis=0)
    return np.nan_to_num(compact, nan=0.0), valid.sum(axis=0)


def bootstrap_ci(
    data: Any,
    statistic: str | Callable[..., Any] = "mean",
    n_resamples: int = 2000,
    method: str = "percentile",
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = None,
) -> BootstrapCI:
    """Bootstrap confidence intervals of a statistic, vectorised over the columns of ``data``.

    Parameters
    ----------
    data : array_like
        1-D sample or 2-D array (observations x columns). NaN marks a missing value: each column
        is resampled among its own non-missing values (its size ``n`` is reported).
    statistic : "mean" or callable
        ``"mean"`` uses a fast path (resampling counts times data, one matrix product per
        distinct column size). A callable must accept ``(sample, axis=-1)`` and reduce that axis.
    n_resamples : int
        Number of bootstrap resamples.
    method : {"percentile", "bca"}
        Percentile interval, or bias-corrected and accelerated (Efron 1987) with the
        acceleration from the jackknife.
    confidence : float
        Two-sided confidence level.
    seed : int, Generator or None
        Seed of ``numpy.random.default_rng``: the same seed gives the same intervals.

    Returns
    -------
    BootstrapCI
        Arrays with one entry per column (length 1 for a 1-D input). Columns with fewer than 2
        values get nan limits (a bootstrap of one value says nothing about uncertainty).

    Notes
    -----
    The draw of resampling indices is the one of ``scipy.stats.bootstrap`` (one
    ``rng.integers(0, n, (n_resamples, n))`` per sample, linear-interpolation quantiles, the
    same BCa formulas), so for a column without missing values and the same generator seed
    the two give the same interval.

    Examples
    --------
    >>> import numpy as np
    >>> from evaluation.stats import bootstrap_ci
    >>> x = np.array([[1., 2.], [2., 2.], [3., 4.], [4., 5.], [5., 5.]])
    >>> res = bootstrap_ci(x, n_resamples=999, seed=1)
    >>> res.estimate.tolist(), res.n.tolist()
    ([3.0, 3.6], [5, 5])
    """
    _check_confidence(confidence)
    if method not in ("percentile", "bca"):
        raise AnalysisError(f"method must be 'percentile' or 'bca'; got {method!r}.")
    if n_resamples < 1:
        raise AnalysisError("n_resamples must be a positive integer.")
    arr = np.asarray(data, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise AnalysisError("data must be a 1-D or 2-D array.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    compact, counts = _compact_columns(arr)
    p = arr.shape[1]
    if statistic == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            theta = np.where(counts > 0, compact.sum(axis=0) / np.maximum(counts, 1), np.nan)
        boot = _resample_means(compact, counts, n_resamples, rng)

        def jackknife(col: int) -> np.ndarray:
            x = compact[: counts[col], col]
            return (x.sum() - x) / (x.size - 1)
    elif callable(statistic):
        theta = np.full(p, np.nan)
        boot = np.full((n_resamples, p), np.nan)
        for size in sorted(set(int(s) for s in counts), key=lambda s: -s):
            cols = np.flatnonzero(counts == size)
            if size == 0:
                continue
            sample = compact[:size, cols].T  # columns x size
            theta[cols] = statistic(sample, axis=-1)
            idx = rng.integers(0, size, (n_resamples, size))
            boot[:, cols] = np.asarray(statistic(sample[:, idx], axis=-1)).T

        def jackknife(col: int) -> np.ndarray:
            x = compact[: counts[col], col]
            loo = np.array([np.delete(x, i) for i in range(x.size)])
            return np.asarray(statistic(loo, axis=-1), dtype=float)
    else:
        raise AnalysisError("statistic must be 'mean' or a callable.")
    alpha = (1 - confidence) / 2
    lo = np.full(p, np.nan)
    hi = np.full(p, np.nan)
    enough = counts >= 2
    if method == "percentile":
        if enough.any():
            qs = np.quantile(boot[:, enough], [alpha, 1 - alpha], axis=0)
            lo[enough], hi[enough] = qs[0], qs[1]
    else:
        z_a, z_1a = _st.norm.ppf(alpha), _st.norm.ppf(1 - alpha)
        for j in np.flatnonzero(enough):
            b_j = boot[:, j]
            frac = (np.count_nonzero(b_j < theta[j]) + np.count_nonzero(b_j <= theta[j]))
            z0 = _st.norm.ppf(frac / (2 * n_resamples))
            jk = jackknife(j)
            u = jk.mean() - jk
            den = np.sum(u**2) ** 1.5
            a_hat = np.sum(u**3) / (6 * den) if den > 0 else _NAN
            levels = []
            for zq in (z_a, z_1a):
                num = z0 + zq
                levels.append(_st.norm.cdf(z0 + num / (1 - a_hat * num)))
            if np.all(np.isfinite(levels)):
                lo[j], hi[j] = np.quantile(b_j, levels)
    return BootstrapCI(theta, lo, hi, counts.astype(int), method)


# --------------------------------------------------------------------------------------------
# Item table
# --------------------------------------------------------------------------------------------


def _numeric_matrix(frame: pd.DataFrame) -> np.ndarray:
    """The frame as a float matrix (NaN = missing); AnalysisError for non-numeric values."""
    if all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes):
        return frame.to_numpy(dtype=float, na_value=np.nan)
    try:
        return frame.apply(lambda s: pd.to_numeric(s, errors="raise")).to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError("Item scores must be numbers or missing values.") from exc


def paired_item_table(
    b: pd.DataFrame,
    a: pd.DataFrame,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Per-item pre/post change table, vectorised over items.

    Parameters
    ----------
    b, a : DataFrame
        Respondents x items after (``b``) and before (``a``): the same columns and the same row
        order (row i of both is one matched respondent). NaN marks a missing answer; an item
        uses the pairs complete for that item.
    n_resamples : int
        Bootstrap resamples for the percentile interval of the mean change.
    confidence : float
        Level of the mean-change and rank-biserial intervals.
    seed : int or None
        Seed of the bootstrap (``numpy.random.default_rng``).

    Returns
    -------
    DataFrame
        One row per item with the columns of :data:`ITEM_TABLE_COLUMNS`. ``wilcoxon_v``,
        ``p_value`` and the rank-biserial fields are exactly those of
        :func:`wilcoxon_signed_rank` (same code path: exact p where R uses it, otherwise the
        vectorised normal approximation). ``pct_*`` are percentages of ``n_pairs``. No
        multiplicity adjustment: add ``p_holm`` with :func:`p_adjust`.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.stats import paired_item_table
    >>> pre = pd.DataFrame({"q1": [1, 2, 3, 2, 1], "q2": [3, 3, 4, 2, 5]})
    >>> post = pd.DataFrame({"q1": [3, 3, 4, 4, 2], "q2": [3, 4, 4, 2, 4]})
    >>> tab = paired_item_table(post, pre, n_resamples=500)
    >>> tab[["item_id", "n_pairs", "mean_change", "wilcoxon_v", "pct_improved"]]
      item_id  n_pairs  mean_change  wilcoxon_v  pct_improved
    0      q1        5          1.4        15.0         100.0
    1      q2        5          0.0         1.5          20.0
    """
    _check_confidence(confidence)
    if not isinstance(b, pd.DataFrame) or not isinstance(a, pd.DataFrame):
        raise AnalysisError("b and a must be DataFrames (respondents x items).")
    if set(b.columns) != set(a.columns) or len(b.columns) != len(a.columns):
        raise AnalysisError("b and a must have the same item columns.")
    if len(b) != len(a):
        raise AnalysisError(
            f"b and a must have the same matched rows; got {len(b)} and {len(a)} rows."
        )
    a = a[list(b.columns)]
    bb = _numeric_matrix(b)
    aa = _numeric_matrix(a)
    if bb.ndim != 2:
        bb, aa = bb.reshape(len(b), -1), aa.reshape(len(a), -1)
    d = bb - aa  # NaN where either is missing
    valid = ~np.isnan(d)
    cols = _signed_rank_columns(d)
    n = cols["n"].astype(int)
    pval, r, lo, hi, _ = _signed_rank_core(
        cols["v"], cols["nd"], cols["tie_term"], cols["n_zero"] > 0,
        "two-sided", "auto", True, confidence,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        n_f = np.where(n > 0, n, np.nan)
        mean_a = np.where(valid, aa, 0.0).sum(axis=0) / n_f
        mean_b = np.where(valid, bb, 0.0).sum(axis=0) / n_f
    boot = bootstrap_ci(d, "mean", n_resamples=n_resamples, method="percentile",
                        confidence=confidence, seed=seed)
    no_nonzero = cols["nd"] == 0
    v = np.where(n > 0, cols["v"], np.nan)
    return pd.DataFrame(
        {
            "item_id": [str(c) for c in b.columns],
            "n_pairs": n,
            "mean_a": mean_a,
            "mean_b": mean_b,
            "mean_change": boot.estimate,
            "mean_change_ci_low": boot.ci_low,
            "mean_change_ci_high": boot.ci_high,
            "wilcoxon_v": v,
            "p_value": np.where(no_nonzero, np.nan, pval),
            "rank_biserial": r,
            "rank_biserial_ci_low": lo,
            "rank_biserial_ci_high": hi,
            "pct_improved": 100 * cols["n_pos"] / n_f,
            "pct_unchanged": 100 * cols["n_zero"] / n_f,
            "pct_declined": 100 * cols["n_neg"] / n_f,
        },
        columns=list(ITEM_TABLE_COLUMNS),
    )
