"""Cohort comparison across workshops and project phases (``evaluate compare``).

:meth:`CohortComparison.prepare` reads the warehouse (:mod:`evaluation.warehouse`) and builds
every table of the comparison; the notebook ``notebooks/cohort_comparison.ipynb`` shows them
section by section and :func:`run_compare` renders it to HTML and PDF like a workshop report.

Methods (stated in the report's methodology section)
----------------------------------------------------
- **What is comparable.** Workshops are compared on a scale only when their instruments have the
  same id and the scale has the same item ids in their versions (:func:`compatibility`). The
  reference definition of a scale is the one most of the compared workshops use (ties: the newest
  version); every workshop left out of a scale, and why, is listed. Items are compared when the
  instrument id is the same and the item has the same id, type and choice list.
- **Standardized change per workshop.** For each scale asked before and after, each workshop's
  matched pre→post pairs (same pseudonymous ``participant_key``, no collision) give the change
  of the scale score (mean of the answered items, at least two thirds answered, reverse items
  reflected, as :mod:`evaluation.scoring`). The effect is Cohen's ``d_z = mean(diff) /
  sd(diff)`` and its sampling variance is the large-sample variance of a standardized mean of one
  sample of differences, ``v = 1/n + d_z^2 / (2n)`` (Borenstein, Hedges, Higgins & Rothstein
  2009, *Introduction to Meta-Analysis*, ch. 4, applied to the difference scores; Lakens 2013,
  *Front. Psychol.* 4:863, for d_z in paired designs). d_z is chosen because it is what each
  workshop report publishes and needs no pre-post correlation, which the reports do not publish.
  Workshops whose responses are not in the warehouse contribute the d_z and n of their published
  scales table instead.
- **Pooling.** Random-effects meta-analysis with REML estimation of tau^2 and the Hartung-Knapp
  adjustment (:func:`evaluation.stats.random_effects`, as ``metafor::rma(yi, vi,
  test="knha")``), overall and per group. A group of one workshop shows that workshop's own
  estimate with its normal-theory interval.
- **Difference between groups.** ``Q_between = sum_g w_g (theta_g - theta_bar)^2`` over the
  subgroup estimates ``theta_g`` with ``w_g = 1 / se_g^2`` (REML, Wald standard errors,
  tau^2 estimated separately in each group), chi-squared with ``G - 1`` df: the subgroup
  analysis of Borenstein et al. (2009, ch. 19, "separate estimates of tau^2"), without a
  meta-regression.
- **Disclosure control.** A workshop's effect resting on fewer than ``k_min`` matched pairs is
  suppressed and left out of the pooling; counts under ``k_min`` are published as empty cells
  (``"<5"`` on screen); subgroup tables collapse small subgroups and pass through
  :func:`evaluation.disclosure.protect_statistics_table`. Reaction, follow-up and indicator
  summaries combine only the suppressed tables the workshop reports published.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from evaluation import __version__, stats
from evaluation.errors import AnalysisError, WarehouseError

__all__ = [
    "GROUPINGS",
    "TEMPLATE",
    "META_COLUMNS",
    "CohortComparison",
    "dz_variance",
    "compatibility",
    "pool_effects",
    "between_groups_q",
    "forest_plot",
    "run_compare",
]

TEMPLATE = Path(__file__).resolve().parent.parent / "notebooks" / "cohort_comparison.ipynb"
#: How workshops can be grouped: option → SQL expression on ``workshops``.
GROUPINGS = {
    "phase": "coalesce(nullif(phase, ''), 'unknown')",
    "country": "coalesce(nullif(host_country, ''), 'unknown')",
    "year": "coalesce(CAST(year(start_date) AS VARCHAR), 'unknown')",
    "project": "coalesce(nullif(project, ''), 'unknown')",
}
#: Columns of ``results/meta_analysis.csv``.
META_COLUMNS = ("scale_id", "group", "k", "n_pairs", "estimate", "se", "ci_low", "ci_high",
                "pvalue", "tau2", "i2", "q", "q_pvalue")
_LIBRARIES = ("numpy", "pandas", "scipy", "matplotlib", "duckdb", "papermill", "nbconvert",
              "weasyprint", "openpyxl")
_DIMENSIONS = ("country", "sector", "gender")

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Cohort comparison", "by": "Workshops grouped by {by}",
        "phase": "phase", "country": "host country", "year": "year", "project": "project",
        "workshops": "The workshops compared", "excluded": "What was left out, and why",
        "none_excluded": "Nothing was left out.",
        "change": "Change from before to after the workshop (standardized, d_z)",
        "pooled": "Pooled estimates (random effects, REML, Hartung-Knapp)",
        "between": "Difference between groups",
        "indicators": "Indicators against targets, per group over time",
        "reaction": "Reaction to the workshops, per group",
        "post_scales": "Reaction scales, per group",
        "followup": "Application at follow-up, per group",
        "disaggregation": "Readiness change by country, sector and gender, per group",
        "methodology": "Methodology",
        "suppressed": "“–” and “<{k}”: suppressed because fewer than {k} respondents.",
        "forest_caption": "Forest plot: {scale}",
        "workshop": "workshop", "overall": "overall",
        "alt": "Forest plot of the standardized pre→post change d_z in {scale}: ",
        "no_effects": "No scale could be compared across the selected workshops.",
        "no_followup": "No follow-up results were published by the compared workshops.",
    },
    "ru": {
        "title": "Сравнение когорт", "by": "Семинары сгруппированы по признаку: {by}",
        "phase": "этап", "country": "страна проведения", "year": "год", "project": "проект",
        "workshops": "Сравниваемые семинары", "excluded": "Что не вошло в сравнение и почему",
        "none_excluded": "Исключений нет.",
        "change": "Изменение от «до» к «после» семинара (стандартизованное, d_z)",
        "pooled": "Объединённые оценки (случайные эффекты, REML, Хартунг–Кнапп)",
        "between": "Различие между группами",
        "indicators": "Показатели и целевые значения по группам и годам",
        "reaction": "Реакция на семинары по группам",
        "post_scales": "Шкалы реакции по группам",
        "followup": "Применение (последующий опрос) по группам",
        "disaggregation": "Изменение готовности по странам, секторам и полу, по группам",
        "methodology": "Методология",
        "suppressed": "«–» и «<{k}»: скрыто, так как респондентов меньше {k}.",
        "forest_caption": "Лесовидный график: {scale}",
        "workshop": "семинар", "overall": "всего",
        "alt": "Лесовидный график стандартизованного изменения d_z по шкале {scale}: ",
        "no_effects": "Ни одну шкалу нельзя сравнить между выбранными семинарами.",
        "no_followup": "Сравниваемые семинары не публиковали результаты последующего опроса.",
    },
}


def _w(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["en"])


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


def dz_variance(d: Any, n: Any) -> np.ndarray:
    """Sampling variance of Cohen's d_z from ``n`` pairs: ``1/n + d^2 / (2n)``.

    The large-sample variance of a standardized mean of one sample (Borenstein et al. 2009,
    ch. 4), applied to the paired differences (Lakens 2013).

    Examples
    --------
    >>> from evaluation.cohorts import dz_variance
    >>> float(dz_variance(0.5, 20))
    0.05625
    """
    d = np.asarray(d, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 / n + d**2 / (2.0 * n)


def between_groups_q(estimates: Sequence[float], ses: Sequence[float]) -> tuple[float, int,
                                                                                  float]:
    """Q_between of subgroup estimates: ``(Q, df, p)``, chi-squared with ``G - 1`` df.

    Examples
    --------
    Two single-study groups: Q = (y1 - y2)^2 / (v1 + v2) = 0.09 / 0.09 = 1.

    >>> from evaluation.cohorts import between_groups_q
    >>> q, df, p = between_groups_q([0.2, 0.5], [0.06 ** 0.5, 0.03 ** 0.5])
    >>> round(q, 6), df, round(p, 4)
    (1.0, 1, 0.3173)
    """
    est = np.asarray(estimates, dtype=float)
    se = np.asarray(ses, dtype=float)
    ok = ~(np.isnan(est) | np.isnan(se)) & (se > 0)
    est, se = est[ok], se[ok]
    if est.size < 2:
        return math.nan, 0, math.nan
    w = 1.0 / se**2
    mean = float(np.sum(w * est) / np.sum(w))
    q = float(np.sum(w * (est - mean) ** 2))
    df = int(est.size - 1)
    return q, df, float(_st.chi2.sf(q, df))


def _pool_one(yi: np.ndarray, vi: np.ndarray, method: str, test: str) -> dict:
    k = int(yi.size)
    res = stats.random_effects(yi, vi, method=method, test=test if k > 1 else "z")
    # Wald (z) standard error of the same estimate, for Q_between: sqrt(1 / sum(1/(v + tau2)))
    se_z = float(np.sqrt(1.0 / np.sum(1.0 / (vi + res.tau2))))
    return {"k": k, "estimate": res.estimate, "se": res.se, "ci_low": res.ci_low,
            "ci_high": res.ci_high, "pvalue": res.pvalue, "tau2": res.tau2, "i2": res.i2,
            "q": res.q, "q_pvalue": res.q_pvalue, "_se_z": se_z}


def pool_effects(
    effects: pd.DataFrame,
    method: str = "REML",
    test: str = "knha",
    overall_label: str = "overall",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pool effect sizes per scale, overall and per group, and test the group difference.

    Parameters
    ----------
    effects : DataFrame
        One row per study (workshop) and scale: ``scale_id``, ``group``, ``yi``, ``vi`` and
        optionally ``n`` (pairs). Rows with a missing ``yi`` or ``vi`` are ignored.
    method, test : str
        Passed to :func:`evaluation.stats.random_effects` (default REML with Hartung-Knapp).
    overall_label : str
        The ``group`` of the overall rows.

    Returns
    -------
    meta : DataFrame
        :data:`META_COLUMNS`: one row per scale and group and one per scale with the overall
        label (listed first).
    tests : DataFrame
        ``scale_id, groups, q_between, df, q_between_pvalue`` (:func:`between_groups_q`).

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.cohorts import pool_effects
    >>> eff = pd.DataFrame({"scale_id": "s", "group": ["I", "I", "II"],
    ...                     "yi": [0.2, 0.4, 0.5], "vi": [0.05, 0.05, 0.04]})
    >>> meta, tests = pool_effects(eff)
    >>> meta[["group", "k"]].to_dict("list")
    {'group': ['overall', 'I', 'II'], 'k': [3, 2, 1]}
    """
    rows, tests = [], []
    data = effects.dropna(subset=["yi", "vi"])
    if "n" not in data.columns:
        data = data.assign(n=np.nan)
    for scale_id, block in data.groupby("scale_id", sort=False):
        yi = block["yi"].to_numpy(float)
        vi = block["vi"].to_numpy(float)
        overall = _pool_one(yi, vi, method, test)
        rows.append({"scale_id": scale_id, "group": overall_label,
                     "n_pairs": block["n"].sum(min_count=1), **overall})
        ests, ses, names = [], [], []
        for group, gb in block.groupby("group", sort=True):
            res = _pool_one(gb["yi"].to_numpy(float), gb["vi"].to_numpy(float), method, test)
            rows.append({"scale_id": scale_id, "group": str(group),
                         "n_pairs": gb["n"].sum(min_count=1), **res})
            ests.append(res["estimate"])
            ses.append(res["_se_z"])
            names.append(str(group))
        q, df, p = between_groups_q(ests, ses)
        tests.append({"scale_id": scale_id, "groups": len(names), "q_between": q, "df": df,
                      "q_between_pvalue": p})
    meta = pd.DataFrame(rows, columns=[*META_COLUMNS, "_se_z"]).drop(columns="_se_z")
    meta["k"] = meta["k"].astype(int)
    return meta, pd.DataFrame(tests, columns=["scale_id", "groups", "q_between", "df",
                                              "q_between_pvalue"])


# --------------------------------------------------------------------------------------------
# Compatibility of instrument versions
# --------------------------------------------------------------------------------------------


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in str(version).split("."))


def compatibility(
    workshops: pd.DataFrame, scales: pd.DataFrame, items: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Which workshops are compared on which scale and item, and why others are left out.

    Parameters
    ----------
    workshops : DataFrame
        ``workshop_id, instrument_id, instrument_version``.
    scales : DataFrame
        ``instrument_scales`` rows: ``instrument_id, instrument_version, scale_id, domain,
        items`` (comma-separated), ``pre_post``.
    items : DataFrame
        ``instrument_items`` rows: ``instrument_id, instrument_version, item_id, type,
        choices``.

    Returns
    -------
    scale_plan : DataFrame
        ``workshop_id, scale_id, domain, pre_post, items`` for every compatible pair.
    item_plan : DataFrame
        ``workshop_id, item_id`` for every compatible pair.
    exclusions : DataFrame
        ``kind`` (``scale`` or ``item``), ``id``, ``workshop_id``, ``reason`` (one sentence).

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.cohorts import compatibility
    >>> ws = pd.DataFrame({"workshop_id": ["a", "b", "c"], "instrument_id": "x",
    ...                    "instrument_version": ["1.0", "2.0", "2.0"]})
    >>> sc = pd.DataFrame({"instrument_id": "x", "instrument_version": ["1.0", "2.0"],
    ...                    "scale_id": "q", "domain": "reaction", "items": ["i1,i2", "i1,i3"],
    ...                    "pre_post": False})
    >>> it = pd.DataFrame({"instrument_id": "x", "instrument_version": ["1.0", "2.0"],
    ...                    "item_id": "i1", "type": "likert", "choices": "agree5"})
    >>> plan, items, excl = compatibility(ws, sc, it)
    >>> sorted(plan["workshop_id"])
    ['b', 'c']
    >>> print(excl["reason"].iloc[0])
    Instrument x 1.0 defines scale q with items i1, i2; the compared version x 2.0 has i1, ...
    """
    ws = workshops[["workshop_id", "instrument_id", "instrument_version"]]
    key = ["instrument_id", "instrument_version"]
    excl: list[dict] = []
    sc = scales.merge(ws, on=key)
    main_instrument = ws["instrument_id"].value_counts().sort_index().idxmax() if len(ws) \
        else None
    defs = sc.groupby(["scale_id", "instrument_id", "items"]).agg(
        n=("workshop_id", "size"),
        newest=("instrument_version", lambda v: max(v, key=_version_key))).reset_index()
    defs["main"] = defs["instrument_id"] == main_instrument
    defs["rank"] = defs["newest"].map(_version_key)
    defs = defs.sort_values(["scale_id", "main", "n", "rank"],
                            ascending=[True, False, False, False])
    ref = defs.drop_duplicates("scale_id").rename(columns={
        "instrument_id": "ref_instrument", "items": "ref_items", "newest": "ref_version"})
    sc = sc.merge(ref[["scale_id", "ref_instrument", "ref_items", "ref_version"]],
                  on="scale_id")
    other = sc["instrument_id"] != sc["ref_instrument"]
    differs = ~other & (sc["items"] != sc["ref_items"])
    for r in sc[other].itertuples(index=False):
        excl.append({"kind": "scale", "id": r.scale_id, "workshop_id": r.workshop_id,
                     "reason": f"Instrument {r.instrument_id} is not the compared "
                               f"instrument {r.ref_instrument}."})
    for r in sc[differs].itertuples(index=False):
        excl.append({"kind": "scale", "id": r.scale_id, "workshop_id": r.workshop_id,
                     "reason": f"Instrument {r.instrument_id} {r.instrument_version} "
                               f"defines scale {r.scale_id} with items "
                               f"{r.items.replace(',', ', ')}; the compared version "
                               f"{r.ref_instrument} {r.ref_version} has "
                               f"{r.ref_items.replace(',', ', ')}."})
    plan = sc.loc[~other & ~differs, ["workshop_id", "scale_id", "domain", "pre_post",
                                      "items"]].copy()
    plan["pre_post"] = plan["pre_post"].fillna(False).astype(bool)
    every = ws.merge(pd.DataFrame({"scale_id": sorted(sc["scale_id"].unique())}),
                     how="cross")
    absent = every.merge(sc[["workshop_id", "scale_id"]], how="left", indicator=True)
    for r in absent[absent["_merge"] == "left_only"].itertuples(index=False):
        excl.append({"kind": "scale", "id": r.scale_id, "workshop_id": r.workshop_id,
                     "reason": f"Instrument {r.instrument_id} {r.instrument_version} "
                               f"has no scale {r.scale_id}."})
    it = items.merge(ws, on=key)
    it["sig"] = (it["instrument_id"].astype(str) + "|" + it["type"].fillna("").astype(str)
                 + "|" + it["choices"].fillna("").astype(str))
    counts = it.groupby(["item_id", "sig"]).size().reset_index(name="c")
    counts = counts.sort_values(["item_id", "c", "sig"], ascending=[True, False, True])
    it = it.merge(counts.drop_duplicates("item_id")[["item_id", "sig"]].rename(
        columns={"sig": "ref_sig"}), on="item_id")
    same = it["sig"] == it["ref_sig"]
    for r in it[~same].itertuples(index=False):
        excl.append({"kind": "item", "id": r.item_id, "workshop_id": r.workshop_id,
                     "reason": f"Item {r.item_id} of {r.instrument_id} "
                               f"{r.instrument_version} differs in instrument, type or "
                               "answer choices from the compared version."})
    exclusions = pd.DataFrame(excl, columns=["kind", "id", "workshop_id", "reason"])
    return (plan.sort_values(["scale_id", "workshop_id"]).reset_index(drop=True),
            it.loc[same, ["workshop_id", "item_id"]].reset_index(drop=True),
            exclusions.sort_values(["kind", "id", "workshop_id"]).reset_index(drop=True))


# --------------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------------


def _scale_items_frame(plan: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in plan.itertuples(index=False):
        items = r.items.split(",")
        needed = math.ceil(2 / 3 * len(items) - 1e-9)
        rows.extend({"workshop_id": r.workshop_id, "scale_id": r.scale_id, "item_id": i,
                     "needed": needed} for i in items)
    return pd.DataFrame(rows, columns=["workshop_id", "scale_id", "item_id", "needed"])


def _paired_scale_diffs(con: Any, plan: pd.DataFrame) -> pd.DataFrame:
    """Participant-level pre→post changes of every compatible pre/post scale (pseudonymous).

    One pass over the answers: per participant and scale, the pre and post scale scores
    (mean of the answered items, at least two thirds answered) by conditional aggregation.
    """
    pairs = plan.loc[plan["pre_post"], ["workshop_id", "scale_id"]]
    if not len(pairs):
        return pd.DataFrame(columns=["workshop_id", "participant_key", "scale_id", "diff"])
    con.register("_plan", pairs)
    try:
        return con.execute(
            """WITH si AS (
                 SELECT instrument_id, instrument_version, scale_id,
                        unnest(string_split(items, ',')) AS item_id,
                        CAST(ceil(2.0 / 3.0 * n_items - 1e-9) AS INTEGER) AS needed
                 FROM instrument_scales WHERE pre_post),
               ps AS (
                 SELECT r.workshop_id, r.participant_key, si.scale_id,
                        avg(r.score) FILTER (WHERE r.wave = 'pre') AS s_pre,
                        count(r.score) FILTER (WHERE r.wave = 'pre') AS n_pre,
                        avg(r.score) FILTER (WHERE r.wave = 'post') AS s_post,
                        count(r.score) FILTER (WHERE r.wave = 'post') AS n_post,
                        any_value(si.needed) AS needed
                 FROM responses r
                 JOIN workshops w ON r.workshop_id = w.workshop_id
                 JOIN si ON si.instrument_id = w.instrument_id
                        AND si.instrument_version = w.instrument_version
                        AND si.item_id = r.item_id
                 WHERE r.wave IN ('pre', 'post') AND r.participant_key IS NOT NULL
                   AND r.score IS NOT NULL
                   AND r.workshop_id IN (SELECT DISTINCT workshop_id FROM _plan)
                 GROUP BY r.workshop_id, r.participant_key, si.scale_id)
               SELECT ps.workshop_id, ps.participant_key, ps.scale_id,
                      ps.s_post - ps.s_pre AS diff
               FROM ps SEMI JOIN _plan p
                 ON p.workshop_id = ps.workshop_id AND p.scale_id = ps.scale_id
               WHERE ps.n_pre >= ps.needed AND ps.n_post >= ps.needed"""
        ).df()
    finally:
        con.unregister("_plan")


def _effects(con: Any, workshops: pd.DataFrame, plan: pd.DataFrame, diffs: pd.DataFrame,
             k_min: int) -> pd.DataFrame:
    """Per workshop and pre/post scale: n pairs, d_z, its variance and 95% interval."""
    cols = ["scale_id", "workshop_id", "group", "n", "yi", "vi", "ci_low", "ci_high",
            "included", "source"]
    agg = diffs.groupby(["workshop_id", "scale_id"])["diff"].agg(["size", "mean", "std"])
    agg = agg.reset_index().rename(columns={"size": "n_resp"})
    published = con.execute(
        "SELECT workshop_id, scale_id, n_pairs AS n_pub, cohen_dz AS d_pub FROM scale_results "
        "WHERE wave_a = 'pre' AND wave_b = 'post'").df()
    m = plan.loc[plan["pre_post"], ["scale_id", "workshop_id"]].merge(
        agg, on=["workshop_id", "scale_id"], how="left").merge(
        published, on=["workshop_id", "scale_id"], how="left")
    with_resp = set(workshops.loc[workshops["responses_included"].fillna(False).astype(bool),
                                  "workshop_id"])
    resp = m["workshop_id"].isin(with_resp).to_numpy()
    sd = m["std"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        d_resp = np.where(sd > 0, m["mean"].to_numpy(float) / sd, np.nan)
    n = np.where(resp, pd.to_numeric(m["n_resp"], errors="coerce").fillna(0).to_numpy(float),
                 pd.to_numeric(m["n_pub"], errors="coerce").fillna(0).to_numpy(float))
    d = np.where(resp, d_resp, pd.to_numeric(m["d_pub"], errors="coerce").to_numpy(float))
    ok = (n >= k_min) & ~np.isnan(d)
    v = np.where(ok, dz_variance(np.where(ok, d, 0.0), np.where(ok, n, 1.0)), np.nan)
    half = 1.959963984540054 * np.sqrt(v)
    out = pd.DataFrame({
        "scale_id": m["scale_id"], "workshop_id": m["workshop_id"],
        "group": m["workshop_id"].map(workshops.set_index("workshop_id")["group"]),
        "n": pd.array(np.where(ok | (n >= k_min), n, np.nan), dtype="Float64").astype(
            "Int64"),
        "yi": np.where(ok, d, np.nan), "vi": v, "ci_low": np.where(ok, d - half, np.nan),
        "ci_high": np.where(ok, d + half, np.nan), "included": ok,
        "source": np.where(resp, "responses", "published scales table"),
    }, columns=cols)
    return out.sort_values(["scale_id", "group", "workshop_id"], kind="stable").reset_index(
        drop=True)


def _weighted(frame: pd.DataFrame, keys: list[str], value_cols: list[str],
              k_min: int) -> pd.DataFrame:
    """n-weighted means of published (unsuppressed) rows; n summed; k = workshops."""
    rows = []
    for key, block in frame.groupby(keys, sort=True, dropna=False):
        block = block[pd.to_numeric(block["n"], errors="coerce").notna()]
        n = pd.to_numeric(block["n"], errors="coerce").astype(float)
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        row["k"] = int(block["workshop_id"].nunique())
        row["n"] = float(n.sum()) if len(block) else math.nan
        for c in value_cols:
            v = pd.to_numeric(block[c], errors="coerce").astype(float)
            ok = v.notna()
            row[c] = float((v[ok] * n[ok]).sum() / n[ok].sum()) if ok.any() and \
                n[ok].sum() >= k_min else math.nan
        if not (row["n"] >= k_min):
            row["n"] = math.nan
            for c in value_cols:
                row[c] = math.nan
        rows.append(row)
    out = pd.DataFrame(rows, columns=[*keys, "k", "n", *value_cols])
    out["n"] = out["n"].astype("Int64") if len(out) else out["n"]
    return out


# --------------------------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{float(value):.{digits}f}"


def _display_count(value: Any, k: int) -> str:
    if value is None or pd.isna(value):
        return f"<{k}"
    return str(int(value))


def _display_html(fragment: str) -> None:
    from IPython.display import HTML, display

    display(HTML(fragment))


def _table_html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, na_rep="–", border=0,
                         classes="report-table")


@dataclass
class CohortComparison:
    """Every published table of a cohort comparison, and its presentation.

    Use :meth:`prepare`; each ``show_*`` method displays one section in the notebook.
    """

    by: str
    language: str
    k_min: int
    workshops: pd.DataFrame
    exclusions: pd.DataFrame
    effects: pd.DataFrame
    meta: pd.DataFrame
    between: pd.DataFrame
    indicators: pd.DataFrame
    reaction: pd.DataFrame
    post_scales: pd.DataFrame
    followup: pd.DataFrame
    disaggregation: pd.DataFrame
    source_workshops: pd.DataFrame | None = field(default=None, repr=False)
    scale_labels: dict[str, str] = field(default_factory=dict)
    display: dict[str, pd.DataFrame] = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    output_dir: Path | None = None

    @property
    def synthetic(self) -> bool:
        """Whether any compared workshop is synthetic demonstration data."""
        return bool(self.workshops["synthetic"].fillna(False).astype(bool).any())

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def prepare(
        cls,
        warehouse: str | Path | None,
        output_dir: str | Path | None = None,
        by: str = "phase",
        workshops: Sequence[str] | str | None = None,
        language: str = "en",
        k_min: int | None = None,
        write: bool = True,
        con: Any = None,
    ) -> CohortComparison:
        """Query the warehouse and build every table (and write them when ``write``).

        Parameters
        ----------
        warehouse : str or Path or None
            The warehouse file (default :func:`evaluation.warehouse.default_warehouse_path`).
        output_dir : str or Path, optional
            Where ``results/``, ``annex.xlsx`` and ``provenance.json`` go (needed to write).
        by : {"phase", "country", "year", "project"}
            How workshops are grouped (country: the host country of the workshop).
        workshops : sequence of str or str, optional
            Workshop ids to compare (a string may list them separated by spaces or commas);
            default every workshop in the warehouse.
        language : {"en", "ru"}
        k_min : int, optional
            Suppression threshold; default the strictest ``k_min`` of the compared workshops
            (never below 3).
        write : bool
            Write the result files.
        con : DuckDB connection, optional
            An open connection (benchmarks, tests); otherwise the file is opened read-only.
        """
        from evaluation.warehouse import connect

        if by not in GROUPINGS:
            raise AnalysisError(f"--by must be one of {', '.join(GROUPINGS)}; got {by!r}.")
        started = time.time()
        if isinstance(workshops, str):
            workshops = [w for w in workshops.replace(",", " ").split() if w]
        own = con is None
        if own:
            con = connect(warehouse, read_only=True)
        try:
            comp = cls._build(con, by, list(workshops or []), language, k_min)
        finally:
            if own:
                con.close()
        comp.provenance = comp._provenance(warehouse, started)
        if write:
            if output_dir is None:
                raise AnalysisError("An output folder is needed to write the comparison.")
            comp.output_dir = Path(output_dir)
            comp.write_results()
        return comp

    @classmethod
    def _build(cls, con: Any, by: str, ids: list[str], language: str,
               k_min: int | None) -> CohortComparison:
        ws = con.execute(f"SELECT *, {GROUPINGS[by]} AS \"group\" FROM workshops "
                         "ORDER BY start_date, workshop_id").df()
        if ids:
            missing = sorted(set(ids) - set(ws["workshop_id"]))
            if missing:
                raise WarehouseError(f"Workshop {missing[0]} is not in the warehouse: add it "
                                     "with `evaluate warehouse add`.")
            ws = ws[ws["workshop_id"].isin(ids)].reset_index(drop=True)
        if len(ws) < 2:
            raise AnalysisError("A comparison needs at least two workshops in the warehouse; "
                                f"found {len(ws)}.")
        k = max(int(k_min or ws["k_min"].fillna(5).max()), 3)
        scales = con.execute("SELECT * FROM instrument_scales").df()
        items = con.execute("SELECT * FROM instrument_items").df()
        plan, item_plan, excl = compatibility(ws, scales, items)
        con.register("_ids", pd.DataFrame({"workshop_id": ws["workshop_id"]}))
        try:
            diffs = _paired_scale_diffs(con, plan)
            effects = _effects(con, ws, plan, diffs, k)
            ind = con.execute("SELECT i.* FROM indicator_results i JOIN _ids USING "
                              "(workshop_id)").df()
            react = con.execute("SELECT r.* FROM reaction_results r JOIN _ids USING "
                                "(workshop_id)").df()
            fu = con.execute("SELECT f.* FROM followup_results f JOIN _ids USING "
                             "(workshop_id)").df()
            post_scores = _post_scale_scores(con, plan)
            profiles = _profiles(con, ws)
        finally:
            con.unregister("_ids")
        # Left out for too few pairs (stated with the other reasons).
        small = effects[~effects["included"]]
        extra = [{"kind": "scale", "id": r.scale_id, "workshop_id": r.workshop_id,
                  "reason": f"Fewer than {k} matched pre→post pairs with a score, or no "
                            "variation in the change: the workshop's effect is suppressed."}
                 for r in small.itertuples(index=False)]
        excl = pd.concat([excl, pd.DataFrame(extra, columns=excl.columns)],
                         ignore_index=True) if extra else excl
        eff_in = effects[effects["included"]].rename(columns={"n": "n_"})
        eff_in = eff_in.assign(n=eff_in["n_"].astype(float))
        if len(eff_in):
            meta, between = pool_effects(eff_in[["scale_id", "group", "yi", "vi", "n"]])
        else:
            meta = pd.DataFrame(columns=list(META_COLUMNS))
            between = pd.DataFrame(columns=["scale_id", "groups", "q_between", "df",
                                            "q_between_pvalue"])
        meta["n_pairs"] = pd.to_numeric(meta["n_pairs"], errors="coerce").astype("Int64")
        # Indicators over time per group.
        group_of = ws.set_index("workshop_id")["group"]
        year_of = ws.set_index("workshop_id")["start_date"].map(
            lambda d: str(pd.Timestamp(d).year) if pd.notna(d) else "unknown")
        ind = ind.assign(group=ind["workshop_id"].map(group_of),
                         year=ind["workshop_id"].map(year_of))
        ind_rows = []
        for (g, y, iid), b in ind.groupby(["group", "year", "indicator_id"], sort=True):
            status = b["status"].value_counts()
            vals = pd.to_numeric(b["value"], errors="coerce")
            ind_rows.append({"group": g, "year": y, "indicator_id": iid,
                             "label": b["label"].iloc[0], "target": b["target"].iloc[0],
                             "k": int(b["workshop_id"].nunique()),
                             "mean_value": float(vals.mean()) if vals.notna().any() else np.nan,
                             "met": int(status.get("met", 0)),
                             "not_met": int(status.get("not met", 0)),
                             "inconclusive": int(status.get("inconclusive", 0)),
                             "not_measured": int(status.get("not measured", 0))})
        indicators = pd.DataFrame(ind_rows, columns=[
            "group", "year", "indicator_id", "label", "target", "k", "mean_value", "met",
            "not_met", "inconclusive", "not_measured"])
        # Reaction and follow-up: published tables, compatible items only.
        ok_items = set(zip(item_plan["workshop_id"], item_plan["item_id"], strict=True))
        react = react.loc[np.array([(w, i) in ok_items for w, i in zip(
            react["workshop_id"], react["item_id"], strict=True)], dtype=bool)]
        react = react.assign(group=react["workshop_id"].map(group_of))
        reaction = _weighted(react, ["item_id", "group"], ["mean", "pct_agree"], k)
        fu = fu.assign(group=fu["workshop_id"].map(group_of))
        followup = _weighted(fu, ["measure", "group"], ["pct"], k)
        post_scales = _post_scale_table(post_scores, group_of, k)
        disaggregation, dis_display = _disaggregation(diffs, plan, profiles, group_of, k)
        comp = cls(by=by, language=language, k_min=k, workshops=_workshop_table(ws, k),
                   exclusions=excl, effects=effects.drop(columns=["included"]).assign(
                       included=effects["included"]),
                   meta=meta[list(META_COLUMNS)], between=between, indicators=indicators,
                   reaction=reaction, post_scales=post_scales, followup=followup,
                   disaggregation=disaggregation, source_workshops=ws,
                   scale_labels=_labels(scales, language))
        comp.display["disaggregation"] = dis_display
        return comp

    def _provenance(self, warehouse: Any, started: float) -> dict:
        versions = {}
        for lib in _LIBRARIES:
            try:
                versions[lib] = metadata.version(lib)
            except metadata.PackageNotFoundError:
                versions[lib] = None
        ws = self.source_workshops
        return {
            "comparison": f"by {self.by}",
            "warehouse": Path(str(warehouse)).name if warehouse else "default",
            "workshops": [{"workshop_id": r.workshop_id,
                           "instrument": f"{r.instrument_id} {r.instrument_version}",
                           "loaded_at": str(r.loaded_at), "loaded_with": r.toolkit_version,
                           "responses_used": bool(r.responses_included)}
                          for r in ws.itertuples(index=False)],
            "synthetic": self.synthetic,
            "toolkit_version": __version__,
            "parameters": {"by": self.by, "language": self.language, "k_min": self.k_min,
                           "method": "REML", "test": "knha"},
            "python": platform.python_version(),
            "libraries": versions,
            "time_of_run": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(
                timespec="seconds"),
        }

    def results_tables(self) -> dict[str, pd.DataFrame]:
        """The tables written to ``results/`` (suppressed values empty)."""
        return {"workshops": self.workshops, "excluded": self.exclusions,
                "effects": self.effects, "meta_analysis": self.meta,
                "subgroup_tests": self.between, "indicators": self.indicators,
                "reaction": self.reaction, "reaction_scales": self.post_scales,
                "followup": self.followup, "disaggregation": self.disaggregation}

    def write_results(self) -> None:
        """Write ``results/*.csv``, ``results/provenance.json`` and ``annex.xlsx``."""
        from evaluation.outputs import atomic_write_csv, atomic_write_json
        from evaluation.xlsx import write_workbook

        out = Path(self.output_dir)
        tables = self.results_tables()
        for name, frame in tables.items():
            atomic_write_csv(out / "results" / f"{name}.csv", _rounded(frame))
        atomic_write_json(out / "results" / "provenance.json", self.provenance)
        sheets = {}
        for name, frame in tables.items():
            shown = self.display.get(name, frame)
            rows = [list(map(str, shown.columns))]
            for rec in _rounded(shown).itertuples(index=False):
                rows.append([_cell(v) for v in rec])
            sheets[name[:31]] = rows
        write_workbook(sheets, out / "annex.xlsx", escape_formulas=True)

    # ---- presentation ----------------------------------------------------------------------
    def _h(self, text: str, level: int = 1) -> str:
        return f"<h{level}>{html.escape(text)}</h{level}>"

    def _note(self) -> str:
        note = _w(self.language)["suppressed"].format(k=self.k_min)
        return f"<p class='note'>{html.escape(note)}</p>"

    def show_cover(self) -> None:
        """Title, grouping and the list of workshops compared."""
        w = _w(self.language)
        banner = ""
        if self.synthetic:
            from evaluation.i18n import t

            banner = (f'<p class="synthetic-notice"><strong>'
                      f'{html.escape(t("synthetic_banner", self.language))}</strong></p>')
        _display_html(f"<h1>{html.escape(w['title'])}</h1>{banner}<p>"
                      + html.escape(w["by"].format(by=w[self.by])) + "</p>")

    def show_workshops(self) -> None:
        """The workshops compared: n per wave, response and match rates, instrument version."""
        w = _w(self.language)
        t = self.workshops.copy()
        for c in ("n_pre", "n_post", "n_followup", "matched_pre_post"):
            t[c] = [_display_count(v, self.k_min) if pd.notna(o) else "–"
                    for v, o in zip(t[c], self.source_workshops[c], strict=True)]
        for c in ("response_rate", "match_rate"):
            t[c] = [f"{100 * v:.0f}%" if pd.notna(v) else "–" for v in t[c]]
        _display_html(self._h(w["workshops"]) + _table_html(t) + self._note())

    def show_exclusions(self) -> None:
        """What was left out of the comparison and why."""
        w = _w(self.language)
        body = _table_html(self.exclusions) if len(self.exclusions) else \
            f"<p>{html.escape(w['none_excluded'])}</p>"
        _display_html(self._h(w["excluded"], 2) + body)

    def show_meta_analysis(self) -> None:
        """Per scale: each workshop's d_z, pooled estimates per group and overall, forest plot."""
        from evaluation.figures import show

        w = _w(self.language)
        parts = [self._h(w["change"])]
        if not len(self.meta):
            parts.append(f"<p>{html.escape(w['no_effects'])}</p>")
            _display_html("".join(parts))
            return
        shown = self.meta.copy()
        for c in ("estimate", "se", "ci_low", "ci_high", "tau2", "q"):
            shown[c] = shown[c].map(_fmt)
        shown["i2"] = self.meta["i2"].map(lambda v: "–" if pd.isna(v) else f"{v:.1f}%")
        for c in ("pvalue", "q_pvalue"):
            shown[c] = self.meta[c].map(lambda v: _fmt(v, 3))
        parts += [self._h(w["pooled"], 2), _table_html(shown)]
        bt = self.between.copy()
        for c in ("q_between", "q_between_pvalue"):
            bt[c] = bt[c].map(lambda v: _fmt(v, 3))
        parts += [self._h(w["between"], 2), _table_html(bt), self._note()]
        _display_html("".join(parts))
        for scale_id in self.meta["scale_id"].unique():
            show(forest_plot(self.effects, self.meta, scale_id, language=self.language,
                             k_min=self.k_min,
                             title=self.scale_labels.get(scale_id, scale_id)))

    def show_indicators(self) -> None:
        """Indicators against targets per group and year."""
        w = _w(self.language)
        t = self.indicators.copy()
        t["mean_value"] = t["mean_value"].map(_fmt)
        _display_html(self._h(w["indicators"]) + _table_html(t))

    def show_reaction_and_application(self) -> None:
        """Reaction items and scales, and application at follow-up, per group."""
        w = _w(self.language)
        parts = [self._h(w["reaction"]), _table_html(self._shown(self.reaction))]
        parts += [self._h(w["post_scales"], 2), _table_html(self._shown(self.post_scales))]
        parts.append(self._h(w["followup"], 2))
        parts.append(_table_html(self._shown(self.followup)) if len(self.followup) else
                     f"<p>{html.escape(w['no_followup'])}</p>")
        _display_html("".join(parts) + self._note())

    def show_disaggregation(self) -> None:
        """Readiness change by country, sector and gender within each group (suppressed)."""
        w = _w(self.language)
        _display_html(self._h(w["disaggregation"])
                      + _table_html(self.display.get("disaggregation", self.disaggregation))
                      + self._note())

    def show_methodology(self) -> None:
        """The methods of the comparison in plain language."""
        w = _w(self.language)
        text = (
            "Workshops are compared on a scale only when their instruments have the same id and "
            "the scale has the same item ids in their versions; everything left out is listed "
            "with its reason. Each workshop's change is Cohen's d_z (mean of the matched "
            "pre→post differences of the scale score divided by their standard deviation) with "
            "sampling variance 1/n + d_z²/(2n) (Borenstein et al. 2009, ch. 4; Lakens 2013). "
            "Workshops are pooled by random-effects meta-analysis (REML, Hartung-Knapp "
            "adjustment, as metafor::rma), overall and per group; the difference between groups "
            "is tested with Q_between over the subgroup estimates (separate tau² per group, "
            "Borenstein et al. 2009, ch. 19). A workshop with fewer than "
            f"{self.k_min} matched pairs is not shown nor pooled. Reaction, follow-up and "
            "indicator summaries combine only numbers the workshop reports published "
            "(n-weighted means). Subgroups smaller than "
            f"{self.k_min} are merged or suppressed."
        )
        _display_html(self._h(w["methodology"]) + f"<p>{html.escape(text)}</p>")

    def _shown(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        if "n" in out.columns:
            out["n"] = [_display_count(v, self.k_min) for v in frame["n"]]
        for c in out.columns:
            if c in ("mean", "pct_agree", "pct", "mean_change", "ci_low", "ci_high"):
                digits = 1 if c.startswith("pct") else 2
                out[c] = frame[c].map(lambda v, d=digits: _fmt(v, d))
        return out


def _labels(scales: pd.DataFrame, language: str) -> dict[str, str]:
    column = "label_ru" if language == "ru" else "label_en"
    out: dict[str, str] = {}
    if column not in scales.columns:
        return out
    order = sorted(range(len(scales)),
                   key=lambda i: _version_key(scales["instrument_version"].iloc[i]))
    for i in order:  # the newest version's label wins
        label = scales[column].iloc[i]
        if isinstance(label, str) and label:
            out[str(scales["scale_id"].iloc[i])] = label
    return out


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(6)
    return out


def _cell(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _workshop_table(ws: pd.DataFrame, k: int) -> pd.DataFrame:
    def count(v: Any) -> Any:
        return np.nan if pd.isna(v) or int(v) < k else int(v)

    out = pd.DataFrame({
        "workshop_id": ws["workshop_id"], "group": ws["group"], "phase": ws["phase"],
        "start_date": ws["start_date"].map(lambda d: pd.Timestamp(d).date().isoformat()
                                           if pd.notna(d) else ""),
        "host_country": ws["host_country"],
        "instrument": ws["instrument_id"] + " " + ws["instrument_version"],
        "n_pre": ws["n_pre"].map(count), "n_post": ws["n_post"].map(count),
        "n_followup": ws["n_followup"].map(count),
        "matched_pre_post": ws["matched_pre_post"].map(count),
    })
    exp = pd.to_numeric(ws["expected_participants"], errors="coerce")
    pre = pd.to_numeric(out["n_pre"], errors="coerce")
    out["response_rate"] = (pre / exp).where(exp > 0)
    out["match_rate"] = pd.to_numeric(out["matched_pre_post"], errors="coerce") / pre
    for c in ("n_pre", "n_post", "n_followup", "matched_pre_post"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("Int64")
    out["responses_used"] = ws["responses_included"].fillna(False).astype(bool)
    out["synthetic"] = ws["synthetic"].fillna(False).astype(bool)
    return out


def _post_scale_scores(con: Any, plan: pd.DataFrame) -> pd.DataFrame:
    """Per respondent score of post-only scales (reaction), compatible workshops only."""
    si = _scale_items_frame(plan[~plan["pre_post"]])
    if not len(si):
        return pd.DataFrame(columns=["workshop_id", "record_id", "scale_id", "s"])
    con.register("_post_items", si)
    try:
        return con.execute(
            """SELECT r.workshop_id, r.record_id, si.scale_id, avg(r.score) AS s
               FROM responses r JOIN _post_items si
                 ON r.workshop_id = si.workshop_id AND r.item_id = si.item_id
               WHERE r.wave = 'post' AND r.score IS NOT NULL
               GROUP BY r.workshop_id, r.record_id, si.scale_id
               HAVING count(*) >= any_value(si.needed)""").df()
    finally:
        con.unregister("_post_items")


def _post_scale_table(scores: pd.DataFrame, group_of: pd.Series, k: int) -> pd.DataFrame:
    cols = ["scale_id", "group", "k", "n", "mean", "ci_low", "ci_high"]
    rows = []
    scores = scores.assign(group=scores["workshop_id"].map(group_of))
    for (sid, g), b in scores.groupby(["scale_id", "group"], sort=True):
        x = b["s"].to_numpy(float)
        n = x.size
        if n >= k:
            m = float(x.mean())
            half = float(_st.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n)) if n > 1 \
                else math.nan
            rows.append({"scale_id": sid, "group": g, "k": b["workshop_id"].nunique(), "n": n,
                         "mean": m, "ci_low": m - half, "ci_high": m + half})
        else:
            rows.append({"scale_id": sid, "group": g, "k": b["workshop_id"].nunique(),
                         "n": np.nan, "mean": np.nan, "ci_low": np.nan, "ci_high": np.nan})
    out = pd.DataFrame(rows, columns=cols)
    out["n"] = pd.to_numeric(out["n"], errors="coerce").astype("Int64")
    return out


def _profiles(con: Any, ws: pd.DataFrame) -> pd.DataFrame:
    """Country, sector and gender codes of linkable participants (pre answer, else post)."""
    return con.execute(
        """SELECT r.workshop_id, r.participant_key, ii.role,
                  arg_min(r.code, CASE r.wave WHEN 'pre' THEN 0 ELSE 1 END) AS code
           FROM responses r
           JOIN workshops w ON r.workshop_id = w.workshop_id
           JOIN instrument_items ii ON ii.instrument_id = w.instrument_id
                AND ii.instrument_version = w.instrument_version AND ii.item_id = r.item_id
           JOIN _ids ON r.workshop_id = _ids.workshop_id
           WHERE ii.role IN ('country', 'sector', 'gender') AND r.participant_key IS NOT NULL
             AND r.wave IN ('pre', 'post')
           GROUP BY r.workshop_id, r.participant_key, ii.role""").df()


def _disaggregation(diffs: pd.DataFrame, plan: pd.DataFrame, profiles: pd.DataFrame,
                    group_of: pd.Series, k: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Readiness change (mean over compatible readiness scales) by subgroup within each group."""
    from evaluation.analysis import SECTOR_GROUPS
    from evaluation.disclosure import (
        DisclosurePolicy,
        SdcLog,
        collapse_small_groups,
        protect_statistics_table,
    )

    cols = ["group", "dimension", "subgroup", "n", "mean_change", "ci_low", "ci_high"]
    ready = plan[(plan["domain"] == "readiness") & plan["pre_post"]]
    counts = ready.groupby("workshop_id")["scale_id"].nunique()
    d = diffs.merge(ready[["workshop_id", "scale_id"]], on=["workshop_id", "scale_id"])
    if not len(d) or not len(profiles):
        empty = pd.DataFrame(columns=cols)
        return empty, empty.astype(object)
    per = d.groupby(["workshop_id", "participant_key"])["diff"].agg(["mean", "size"])
    per = per.reset_index()
    needed = per["workshop_id"].map(counts).map(lambda c: math.ceil(2 / 3 * c - 1e-9))
    per = per[per["size"] >= needed]
    per["group"] = per["workshop_id"].map(group_of)
    rows = []
    for dim in _DIMENSIONS:
        prof = profiles[profiles["role"] == dim][["workshop_id", "participant_key", "code"]]
        m = per.merge(prof, on=["workshop_id", "participant_key"], how="left")
        m["code"] = m["code"].fillna("(missing)").astype(str)
        if dim == "sector":
            m["code"] = m["code"].map(lambda v: SECTOR_GROUPS.get(v, v))
        for g, b in m.groupby("group", sort=True):
            sizes = b["code"].value_counts()
            mapping = collapse_small_groups(list(sizes.index), list(sizes.to_numpy()), k,
                                            other_label="other")
            sub = b["code"].map(mapping)
            for s in sorted(sub.unique(), key=lambda x: (x == "other", str(x))):
                x = b.loc[sub == s, "mean"].to_numpy(float)
                res = stats.paired_t(x, np.zeros_like(x)) if x.size > 1 else None
                rows.append({"group": g, "dimension": dim, "subgroup": s, "n": x.size,
                             "mean_change": float(x.mean()) if x.size else np.nan,
                             "ci_low": res.ci_low if res else np.nan,
                             "ci_high": res.ci_high if res else np.nan})
    table = pd.DataFrame(rows, columns=cols)
    pt = protect_statistics_table(table, "n", ["mean_change", "ci_low", "ci_high"],
                                  DisclosurePolicy(k_min=k), SdcLog(), "cohort_disaggregation",
                                  formats={"n": "{:.0f}"})
    numeric = pt.numeric[cols].copy()
    numeric["n"] = pd.to_numeric(numeric["n"], errors="coerce").astype("Int64")
    return numeric.reset_index(drop=True), pt.display[cols].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Forest plot
# --------------------------------------------------------------------------------------------


def forest_plot(effects: pd.DataFrame, meta: pd.DataFrame, scale_id: str,
                language: str = "en", k_min: int = 5, title: str | None = None) -> Any:
    """Forest plot of one scale: each workshop's d_z with its 95% CI, group and overall diamonds.

    Built only from published rows (suppressed workshops are not drawn). Returns a
    :class:`evaluation.figures.FigureOutput` (PNG bytes, alt text, caption).

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.cohorts import forest_plot, pool_effects
    >>> eff = pd.DataFrame({"scale_id": "s", "workshop_id": ["a", "b", "c"],
    ...                     "group": ["I", "I", "II"], "n": [20, 25, 18],
    ...                     "yi": [0.2, 0.4, 0.5], "vi": [0.05, 0.04, 0.06]})
    >>> eff["ci_low"], eff["ci_high"] = eff.yi - 0.4, eff.yi + 0.4
    >>> meta, _ = pool_effects(eff)
    >>> out = forest_plot(eff, meta, "s")
    >>> out.png_bytes[:4], out.alt_text.startswith("Forest plot")
    (b'\\x89PNG', True)
    """
    import matplotlib as mpl

    from evaluation.figures import OKABE_ITO, _default_style, _finish, _new_figure, _style

    w = _w(language)
    eff = effects[(effects["scale_id"] == scale_id) & effects["yi"].notna()]
    if "n" in eff.columns:
        n = pd.to_numeric(eff["n"], errors="coerce")
        if ((n > 0) & (n < k_min)).any():
            from evaluation.errors import DisclosureError

            raise DisclosureError("The forest plot would show a workshop resting on fewer "
                                  f"than {k_min} pairs.")
    mt = meta[meta["scale_id"] == scale_id]
    rows: list[tuple[str, float, float, float, str]] = []  # label, est, lo, hi, kind
    for g in sorted(eff["group"].astype(str).unique()):
        for r in eff[eff["group"].astype(str) == g].itertuples(index=False):
            rows.append((f"{r.workshop_id} (n={int(r.n)})", r.yi, r.ci_low, r.ci_high, "study"))
        m = mt[mt["group"] == g]
        if len(m):
            m = m.iloc[0]
            rows.append((f"{g}: k={int(m['k'])}", m["estimate"], m["ci_low"], m["ci_high"],
                         "group"))
    over = mt[mt["group"] == "overall"]
    if len(over):
        o = over.iloc[0]
        rows.append((f"{w['overall']}: k={int(o['k'])}", o["estimate"], o["ci_low"],
                     o["ci_high"], "overall"))
    summary = []
    with _default_style(), _style():
        fig = _new_figure(1.2 + 0.32 * len(rows))
        ax = fig.subplots()
        for i, (label, est, lo, hi, kind) in enumerate(rows):
            if kind == "study":
                ax.plot([lo, hi], [i, i], color="#333333", linewidth=1.2)
                ax.scatter(est, i, marker="s", color=OKABE_ITO["blue"], s=30, zorder=3)
            else:
                colour = OKABE_ITO["vermillion"] if kind == "overall" else OKABE_ITO["orange"]
                if pd.notna(lo) and pd.notna(hi):
                    ax.add_patch(mpl.patches.Polygon(
                        [(lo, i), (est, i - 0.3), (hi, i), (est, i + 0.3)], closed=True,
                        color=colour, zorder=3))
                else:
                    ax.scatter(est, i, marker="D", color=colour, s=40, zorder=3)
                summary.append(f"{label.split(':')[0]} {est:.2f} "
                               f"({_fmt(lo)} to {_fmt(hi)})")
        ax.axvline(0, color="#777777", linewidth=0.8, linestyle="--")
        ax.set_yticks(range(len(rows)), [r[0] for r in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlabel("d_z (95% CI)")
        fig.suptitle(title or scale_id, x=0.02, ha="left", fontsize=11)
    alt = w["alt"].format(scale=title or scale_id) + "; ".join(summary) + "."
    return _finish(fig, alt, w["forest_caption"].format(scale=title or scale_id))


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def run_compare(
    warehouse: str | Path | None,
    out_dir: str | Path,
    by: str = "phase",
    workshops: Sequence[str] | None = None,
    language: str = "en",
    k_min: int | None = None,
) -> dict[str, Path]:
    """Execute the comparison notebook and render HTML and PDF (``evaluate compare``).

    Returns the paths written: ``ipynb``, ``html``, ``pdf`` (``report.<lang>.*`` for a language
    other than English), ``results`` and ``annex``.
    """
    from evaluation.render import render_notebook_report
    from evaluation.warehouse import check_warehouse_path, default_warehouse_path

    wh = check_warehouse_path(default_warehouse_path() if warehouse is None else warehouse)
    if not wh.is_file():
        raise WarehouseError(f"The warehouse {wh.name} does not exist: load workshops first "
                             "with `evaluate warehouse add`.")
    out = Path(out_dir)
    # Fail early (one sentence) rather than inside the notebook.
    probe = CohortComparison.prepare(wh, None, by=by, workshops=workshops, language=language,
                                     k_min=k_min, write=False)
    stem = "report" if language == "en" else f"report.{language}"
    params = {"warehouse": str(wh.resolve()), "output_dir": str(out.resolve()), "by": by,
              "workshops": " ".join(workshops or []), "language": language,
              "k_min": int(k_min or 0)}
    w = _w(language)
    paths = dict(render_notebook_report(
        TEMPLATE, out, params, stem=stem, language=language,
        title=f"{w['title']}: {w['by'].format(by=w[by])}", synthetic=probe.synthetic,
        cwd=str(Path.cwd())))
    paths["results"] = out / "results"
    paths["annex"] = out / "annex.xlsx"
    return paths

