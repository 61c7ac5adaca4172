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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from evaluation import __version__, stats
from evaluation.errors import AnalysisError, WarehouseError
from evaluation.outputs import library_versions
from evaluation.render import table_html

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
        "suppressed": "“<{k}” and “–”: not shown, to protect respondents: the number rests on "
                      "fewer than {k} people, or would let such a number be worked out from "
                      "the totals.",
        "forest_caption": "Forest plot: {scale}",
        "workshop": "workshop", "overall": "overall", "from": "",
        "alt": "Forest plot of the standardized pre→post change d_z in {scale}: ",
        "no_effects": "No scale could be compared across the selected workshops.",
        "no_followup": "No follow-up results were published by the compared workshops.",
        "r_other_instrument": "Instrument {instrument} is not the compared instrument {ref}.",
        "r_items_differ": "Instrument {instrument} {version} defines scale {scale} with items "
                          "{items}; the compared version {ref} {ref_version} has {ref_items}.",
        "r_no_scale": "Instrument {instrument} {version} has no scale {scale}.",
        "r_item_differs": "Item {item} of {instrument} {version} differs in instrument, type or "
                          "answer choices from the compared version.",
        "r_too_few": "Fewer than {k} matched pre→post pairs with a score, or no variation in the "
                     "change: the workshop's effect is suppressed.",
        "method": (
            "Workshops are compared on a scale only when their instruments have the same id and "
            "the scale has the same item ids in their versions; everything left out is listed "
            "with its reason. Each workshop's change is Cohen's d_z (mean of the matched "
            "pre→post differences of the scale score divided by their standard deviation) with "
            "sampling variance 1/n + d_z²/(2n) (Borenstein et al. 2009, ch. 4; Lakens 2013). "
            "Workshops are pooled by random-effects meta-analysis (REML, Hartung-Knapp "
            "adjustment, as metafor::rma), overall and per group; the difference between groups "
            "is tested with Q_between over the subgroup estimates (separate tau² per group, "
            "Borenstein et al. 2009, ch. 19). A workshop with fewer than {k} matched pairs is "
            "not shown nor pooled. Reaction, follow-up and indicator summaries combine only "
            "numbers the workshop reports published (n-weighted means). Subgroups smaller than "
            "{k} are merged or suppressed."),
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
        "suppressed": "«<{k}» и «–»: не показано для защиты респондентов: число основано на "
                      "ответах менее чем {k} человек или позволило бы вычислить такое число "
                      "по итогам.",
        "forest_caption": "Лесовидный график: {scale}",
        "workshop": "семинар", "overall": "всего", "from": "от ",
        "alt": "Лесовидный график стандартизованного изменения d_z по шкале {scale}: ",
        "no_effects": "Ни одну шкалу нельзя сравнить между выбранными семинарами.",
        "no_followup": "Сравниваемые семинары не публиковали результаты последующего опроса.",
        "r_other_instrument": "Инструмент {instrument} не совпадает со сравниваемым "
                              "инструментом {ref}.",
        "r_items_differ": "В инструменте {instrument} {version} шкала {scale} состоит из "
                          "вопросов {items}; в сравниваемой версии {ref} {ref_version} — из "
                          "{ref_items}.",
        "r_no_scale": "В инструменте {instrument} {version} нет шкалы {scale}.",
        "r_item_differs": "Вопрос {item} инструмента {instrument} {version} отличается от "
                          "сравниваемой версии инструментом, типом или вариантами ответа.",
        "r_too_few": "Меньше {k} сопоставленных пар «до»→«после» с баллом или нет разброса "
                     "изменений: эффект семинара скрыт.",
        "method": (
            "Семинары сравниваются по шкале, только если у их инструментов один и тот же "
            "идентификатор, а шкала в их версиях состоит из тех же вопросов; всё, что не вошло "
            "в сравнение, перечислено с причиной. Изменение на каждом семинаре — d_z Коэна "
            "(среднее сопоставленных разностей «после» минус «до» балла шкалы, делённое на их "
            "стандартное отклонение) с выборочной дисперсией 1/n + d_z²/(2n) (Borenstein и "
            "др. 2009, гл. 4; Lakens 2013). Семинары объединяются метаанализом со случайными "
            "эффектами (REML, поправка Хартунга–Кнаппа, как metafor::rma) в целом и по "
            "группам; различие между группами проверяется статистикой Q_between по оценкам "
            "подгрупп (отдельная tau² в каждой группе, Borenstein и др. 2009, гл. 19). Семинар, "
            "у которого меньше {k} сопоставленных пар, не показывается и не объединяется. "
            "Сводки реакции, последующего опроса и показателей объединяют только числа, "
            "опубликованные в отчётах семинаров (средние, взвешенные по n). Подгруппы меньше "
            "{k} объединяются или скрываются."),
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
    workshops: pd.DataFrame, scales: pd.DataFrame, items: pd.DataFrame, language: str = "en"
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
    language : {"en", "ru"}
        Language of the reasons.

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
    w = _w(language)
    for r in sc[other].itertuples(index=False):
        excl.append({"kind": "scale", "id": r.scale_id, "workshop_id": r.workshop_id,
                     "reason": w["r_other_instrument"].format(instrument=r.instrument_id,
                                                              ref=r.ref_instrument)})
    for r in sc[differs].itertuples(index=False):
        excl.append({"kind": "scale", "id": r.scale_id, "workshop_id": r.workshop_id,
                     "reason": w["r_items_differ"].format(
                         instrument=r.instrument_id, version=r.instrument_version,
                         scale=r.scale_id, items=r.items.replace(",", ", "),
                         ref=r.ref_instrument, ref_version=r.ref_version,
                         ref_items=r.ref_items.replace(",", ", "))})
    plan = sc.loc[~other & ~differs, ["workshop_id", "scale_id", "domain", "pre_post",
                                      "items"]].copy()
    plan["pre_post"] = plan["pre_post"].fillna(False).astype(bool)
    every = ws.merge(pd.DataFrame({"scale_id": sorted(sc["scale_id"].unique())}),
                     how="cross")
    absent = every.merge(sc[["workshop_id", "scale_id"]], how="left", indicator=True)
    for r in absent[absent["_merge"] == "left_only"].itertuples(index=False):
        excl.append({"kind": "scale", "id": r.scale_id, "workshop_id": r.workshop_id,
                     "reason": w["r_no_scale"].format(instrument=r.instrument_id,
                                                      version=r.instrument_version,
                                                      scale=r.scale_id)})
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
                     "reason": w["r_item_differs"].format(item=r.item_id,
                                                          instrument=r.instrument_id,
                                                          version=r.instrument_version)})
    exclusions = pd.DataFrame(excl, columns=["kind", "id", "workshop_id", "reason"])
    return (plan.sort_values(["scale_id", "workshop_id"]).reset_index(drop=True),
            it.loc[same, ["workshop_id", "item_id"]].reset_index(drop=True),
            exclusions.sort_values(["kind", "id", "workshop_id"], kind="stable").reset_index(
                drop=True))


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


def _scale_changes(con: Any, plan: pd.DataFrame,
                   per_participant: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pre→post changes of every compatible pre/post scale, summarized inside DuckDB.

    One pass over the answers: per participant and scale, the pre and post scale scores (mean
    of the answered items, at least two thirds answered) by conditional aggregation, their
    difference ``post - pre``, then in the same query, per workshop and scale, the number of
    pairs, the mean and the sample standard deviation of the differences (the inputs of d_z).
    Only these summaries leave the database, not the participant-level differences.

    Returns
    -------
    changes : DataFrame
        ``workshop_id, scale_id, n_resp, mean, std``.
    per_participant : DataFrame
        When asked for: ``workshop_id, participant_key, mean, size``, the mean change over the
        compatible *readiness* scales of each participant and how many scales it rests on
        (pseudonymous; for the disaggregation); otherwise empty.
    """
    ccols = ["workshop_id", "scale_id", "n_resp", "mean", "std"]
    pcols = ["workshop_id", "participant_key", "mean", "size"]
    pairs = plan.loc[plan["pre_post"], ["workshop_id", "scale_id", "domain"]].copy()
    pairs["ready"] = pairs["domain"].eq("readiness").fillna(False).astype(bool)
    pairs = pairs[["workshop_id", "scale_id", "ready"]]
    if not len(pairs):
        return pd.DataFrame(columns=ccols), pd.DataFrame(columns=pcols)
    per_participant = per_participant and bool(pairs["ready"].any())
    # Grouping sets: per workshop x scale always; per workshop x participant over the
    # readiness scales only when the disaggregation needs it (one scan either way).
    if per_participant:
        sets = "GROUPING SETS ((d.workshop_id, d.scale_id), (d.workshop_id, d.participant_key))"
        keys = "d.participant_key, grouping(d.participant_key) AS by_scale"
    else:
        sets, keys = "d.workshop_id, d.scale_id", "NULL AS participant_key, 1 AS by_scale"
    con.register("_plan", pairs)
    try:
        out = con.execute(
            f"""WITH si AS (
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
                 GROUP BY r.workshop_id, r.participant_key, si.scale_id),
               d AS (
                 SELECT ps.workshop_id, ps.participant_key, ps.scale_id, p.ready,
                        ps.s_post - ps.s_pre AS diff
                 FROM ps JOIN _plan p
                   ON p.workshop_id = ps.workshop_id AND p.scale_id = ps.scale_id
                 WHERE ps.n_pre >= ps.needed AND ps.n_post >= ps.needed)
               SELECT d.workshop_id, d.scale_id, {keys},
                      count(*) AS n_resp, avg(d.diff) AS mean, stddev_samp(d.diff) AS std,
                      count(*) FILTER (WHERE d.ready) AS size,
                      avg(d.diff) FILTER (WHERE d.ready) AS ready_mean
               FROM d GROUP BY {sets}"""
        ).df()
    finally:
        con.unregister("_plan")
    scale_rows = out[out["by_scale"] == 1] if per_participant else out
    changes = scale_rows[ccols].reset_index(drop=True)
    if not per_participant:
        return changes, pd.DataFrame(columns=pcols)
    per = out[(out["by_scale"] == 0) & (out["size"] > 0)]
    per = per[["workshop_id", "participant_key", "ready_mean", "size"]].rename(
        columns={"ready_mean": "mean"}).sort_values(["workshop_id", "participant_key"])
    return changes, per.reset_index(drop=True)


def _effects(con: Any, workshops: pd.DataFrame, plan: pd.DataFrame, changes: pd.DataFrame,
             k_min: int) -> pd.DataFrame:
    """Per workshop and pre/post scale: n pairs, d_z, its variance and 95% interval."""
    cols = ["scale_id", "workshop_id", "group", "n", "yi", "vi", "ci_low", "ci_high",
            "included", "source"]
    agg = changes
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
    #: Report-language labels (from the instruments in ``surveys/`` and the results framework).
    item_labels: dict[str, str] = field(default_factory=dict, repr=False)
    choice_labels: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    indicator_labels: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    #: :attr:`exclusions` with the reasons in the report language (shown, not written).
    exclusions_shown: pd.DataFrame | None = field(default=None, repr=False)
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
        wait: float = 60.0,
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
        wait : float, default 60
            While another process writes to the warehouse (``evaluate warehouse add``), wait up
            to this many seconds for it, then fail with one sentence.
        """
        from evaluation.warehouse import connect

        if by not in GROUPINGS:
            raise AnalysisError(f"--by must be one of {', '.join(GROUPINGS)}; got {by!r}.")
        started = time.time()
        if isinstance(workshops, str):
            workshops = [w for w in workshops.replace(",", " ").split() if w]
        own = con is None
        if own:
            con = connect(warehouse, read_only=True, wait=wait,
                          busy_hint="try again or raise --wait")
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
        # The reasons in the report language (results/ stays in English).
        excl_local = excl if language == "en" else compatibility(ws, scales, items, language)[2]
        con.register("_ids", pd.DataFrame({"workshop_id": ws["workshop_id"]}))
        try:
            profiles = _profiles(con, ws)
            changes, per_participant = _scale_changes(con, plan,
                                                      per_participant=bool(len(profiles)))
            effects = _effects(con, ws, plan, changes, k)
            ind = con.execute("SELECT i.* FROM indicator_results i JOIN _ids USING "
                              "(workshop_id)").df()
            react = con.execute("SELECT r.* FROM reaction_results r JOIN _ids USING "
                                "(workshop_id)").df()
            fu = con.execute("SELECT f.* FROM followup_results f JOIN _ids USING "
                             "(workshop_id)").df()
            post_scores = _post_scale_scores(con, plan)
        finally:
            con.unregister("_ids")
        # Left out for too few pairs (stated with the other reasons).
        small = effects[~effects["included"]]

        def with_small(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
            extra = [{"kind": "scale", "id": r.scale_id, "workshop_id": r.workshop_id,
                      "reason": _w(lang)["r_too_few"].format(k=k)}
                     for r in small.itertuples(index=False)]
            return pd.concat([frame, pd.DataFrame(extra, columns=frame.columns)],
                             ignore_index=True) if extra else frame

        excl, excl_local = with_small(excl, "en"), with_small(excl_local, language)
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
                             # the mean rests on the published values only (some are
                             # suppressed or not measured); say on how many
                             "k_values": int(vals.notna().sum()),
                             "met": int(status.get("met", 0)),
                             "not_met": int(status.get("not met", 0)),
                             "inconclusive": int(status.get("inconclusive", 0)),
                             "not_measured": int(status.get("not measured", 0))})
        indicators = pd.DataFrame(ind_rows, columns=[
            "group", "year", "indicator_id", "label", "target", "k", "mean_value", "k_values",
            "met", "not_met", "inconclusive", "not_measured"])
        # Reaction and follow-up: published tables, compatible items only.
        ok_items = set(zip(item_plan["workshop_id"], item_plan["item_id"], strict=True))
        react = react.loc[np.array([(w, i) in ok_items for w, i in zip(
            react["workshop_id"], react["item_id"], strict=True)], dtype=bool)]
        react = react.assign(group=react["workshop_id"].map(group_of))
        reaction = _weighted(react, ["item_id", "group"], ["mean", "pct_agree"], k)
        fu = fu.assign(group=fu["workshop_id"].map(group_of))
        followup = _weighted(fu, ["measure", "group"], ["pct"], k)
        post_scales = _post_scale_table(post_scores, group_of, k)
        disaggregation, dis_display = _disaggregation(per_participant, plan, profiles, group_of, k)
        comp = cls(by=by, language=language, k_min=k, workshops=_workshop_table(ws, k),
                   exclusions=excl, effects=effects.drop(columns=["included"]).assign(
                       included=effects["included"]),
                   meta=meta[list(META_COLUMNS)], between=between, indicators=indicators,
                   reaction=reaction, post_scales=post_scales, followup=followup,
                   disaggregation=disaggregation, source_workshops=ws,
                   scale_labels=_labels(scales, language))
        comp.display["disaggregation"] = dis_display
        comp.exclusions_shown = excl_local
        comp.item_labels, comp.choice_labels = _instrument_labels(ws, language)
        comp.indicator_labels = _indicator_labels(language)
        return comp

    def _provenance(self, warehouse: Any, started: float) -> dict:
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
            "libraries": library_versions(_LIBRARIES),
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
        from evaluation.xlsx import round_floats, write_tables

        out = Path(self.output_dir)
        tables = self.results_tables()
        for name, frame in tables.items():
            atomic_write_csv(out / "results" / f"{name}.csv", round_floats(frame))
        atomic_write_json(out / "results" / "provenance.json", self.provenance)
        write_tables({name: self.display.get(name, frame) for name, frame in tables.items()},
                     out / "annex.xlsx")

    # ---- presentation ----------------------------------------------------------------------
    # Every table is shown through :meth:`_table`: ids become labels in the report language,
    # numbers get a decimal comma in Russian, dates are written out, and the headers come from
    # :data:`evaluation.i18n.COLUMNS`. Each ``show_*`` displays the HTML of its ``*_html``.

    def _h(self, text: str, level: int = 1) -> str:
        return f"<h{level}>{html.escape(text)}</h{level}>"

    def _note(self) -> str:
        note = _w(self.language)["suppressed"].format(k=self.k_min)
        return f"<p class='note'>{html.escape(note)}</p>"

    def _num(self, value: Any, digits: int = 2) -> str:
        from evaluation.i18n import fmt_number

        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return "–"
        if isinstance(value, str):
            from evaluation.i18n import localize_cell

            return localize_cell(value, self.language)
        return fmt_number(float(value), digits, self.language)

    def group_label(self, group: Any) -> str:
        """A group (phase, host country, year, project, ``overall``) in the report language."""
        from evaluation.i18n import t

        g = str(group)
        if g == "overall":
            return t("cohort_overall", self.language)
        if g == "unknown":
            return t("cohort_unknown", self.language)
        if self.by == "country":
            return self.choice_labels.get(("host_country", g), g)
        return g

    def _subgroup_label(self, dimension: str, code: Any) -> str:
        from evaluation.i18n import t_code

        c = str(code)
        word = t_code("subgroup", c, self.language, None)
        return word if word is not None else self.choice_labels.get((dimension, c), c)

    def _table(self, frame: pd.DataFrame, formats: dict[str, Any] | None = None,
               headers: dict[str, str] | None = None) -> str:
        """HTML of ``frame`` localized: ``formats`` maps a column to a kind or a function."""
        from evaluation.i18n import column_label, fmt_date, localize_cell, t

        formats = formats or {}
        headers = {"k": "k_workshops", **(headers or {})}
        lg = self.language
        kinds = {
            "count": lambda v: _display_count(v, self.k_min),
            "int": lambda v: "–" if pd.isna(v) else str(int(v)),
            "num2": lambda v: self._num(v, 2),
            "num3": lambda v: self._num(v, 3),
            "num1": lambda v: self._num(v, 1),
            "pct1": lambda v: "–" if pd.isna(v) else self._num(v, 1) + "%",
            "share": lambda v: "–" if pd.isna(v) else self._num(100 * float(v), 0) + "%",
            "date": lambda v: "–" if pd.isna(v) or v == "" else fmt_date(
                pd.Timestamp(v).date(), lg),
            "bool": lambda v: t("yes" if bool(v) else "no", lg),
            "group": self.group_label,
            "scale": lambda v: self.scale_labels.get(str(v), str(v)),
            "item": lambda v: self.item_labels.get(str(v), str(v)),
            "text": lambda v: "–" if v is None or (not isinstance(v, str) and pd.isna(v))
            else str(v),
        }
        out = pd.DataFrame(index=range(len(frame)))
        for col in frame.columns:
            kind = formats.get(col, "cell")
            fn = kind if callable(kind) else kinds.get(kind, lambda v: localize_cell(v, lg))
            out[column_label(headers.get(col, col), lg)] = [fn(v) for v in frame[col]]
        return table_html(out)

    def cover_html(self) -> str:
        """Title, grouping and the synthetic-data notice."""
        w = _w(self.language)
        banner = ""
        if self.synthetic:
            from evaluation.i18n import t

            banner = (f'<p class="synthetic-notice"><strong>'
                      f'{html.escape(t("synthetic_banner", self.language))}</strong></p>')
        return (f"<h1>{html.escape(w['title'])}</h1>{banner}<p>"
                + html.escape(w["by"].format(by=w[self.by])) + "</p>")

    def show_cover(self) -> None:
        """Title, grouping and the list of workshops compared."""
        _display_html(self.cover_html())

    def workshops_html(self) -> str:
        """The workshops compared: n per wave, response and match rates, instrument version."""
        w = _w(self.language)
        t = self.workshops.copy()
        for c in ("n_pre", "n_post", "n_followup", "matched_pre_post"):
            t[c] = [_display_count(v, self.k_min) if pd.notna(o) else "–"
                    for v, o in zip(t[c], self.source_workshops[c], strict=True)]
        formats = {"group": "group", "start_date": "date", "response_rate": "share",
                   "match_rate": "share", "responses_used": "bool", "synthetic": "bool",
                   "host_country": lambda v: self.choice_labels.get(("host_country", str(v)),
                                                                    str(v)),
                   "workshop_id": "text", "phase": "text", "instrument": "text"}
        return self._h(w["workshops"]) + self._table(t, formats) + self._note()

    def show_workshops(self) -> None:
        """The workshops compared: n per wave, response and match rates, instrument version."""
        _display_html(self.workshops_html())

    def exclusions_html(self) -> str:
        """What was left out of the comparison and why (reasons in the report language)."""
        from evaluation.i18n import t

        w = _w(self.language)
        ex = self.exclusions_shown if self.exclusions_shown is not None else self.exclusions
        if not len(ex):
            return self._h(w["excluded"], 2) + f"<p>{html.escape(w['none_excluded'])}</p>"
        ex = ex.copy()
        ex["id"] = [self.scale_labels.get(str(i), str(i)) if k == "scale"
                    else self.item_labels.get(str(i), str(i))
                    for k, i in zip(ex["kind"], ex["id"], strict=True)]
        ex["kind"] = [t(f"cohort_kind_{k}", self.language) for k in ex["kind"]]
        return self._h(w["excluded"], 2) + self._table(
            ex, {"id": "text", "reason": "text", "workshop_id": "text", "kind": "text"})

    def show_exclusions(self) -> None:
        """What was left out of the comparison and why."""
        _display_html(self.exclusions_html())

    def meta_analysis_html(self) -> str:
        """Pooled estimates per scale (overall and per group) and the group differences."""
        w = _w(self.language)
        parts = [self._h(w["change"])]
        if not len(self.meta):
            parts.append(f"<p>{html.escape(w['no_effects'])}</p>")
            return "".join(parts)
        formats = {"scale_id": "scale", "group": "group", "k": "int", "n_pairs": "count",
                   "estimate": "num2", "se": "num2", "ci_low": "num2", "ci_high": "num2",
                   "tau2": "num2", "q": "num2", "i2": "pct1", "pvalue": "num3",
                   "q_pvalue": "num3"}
        parts += [self._h(w["pooled"], 2), self._table(self.meta, formats)]
        parts += [self._h(w["between"], 2), self._table(self.between, {
            "scale_id": "scale", "groups": "int", "df": "int", "q_between": "num3",
            "q_between_pvalue": "num3"}), self._note()]
        return "".join(parts)

    def forest_plots(self) -> list[Any]:
        """One forest plot per pooled scale, in the report language."""
        return [forest_plot(self.effects, self.meta, scale_id, language=self.language,
                            k_min=self.k_min, title=self.scale_labels.get(scale_id, scale_id),
                            group_labels=self.group_label)
                for scale_id in self.meta["scale_id"].unique()]

    def show_meta_analysis(self) -> None:
        """Per scale: each workshop's d_z, pooled estimates per group and overall, forest plot."""
        from evaluation.figures import show

        _display_html(self.meta_analysis_html())
        for figure in self.forest_plots():
            show(figure)

    def indicators_html(self) -> str:
        """Indicators against targets per group and year."""
        w = _w(self.language)
        t = self.indicators.copy()
        t["label"] = [self.indicator_labels.get((str(i), str(lab)), lab)
                      for i, lab in zip(t["indicator_id"], t["label"], strict=True)]
        t = t.drop(columns=["indicator_id"])
        formats = {"group": "group", "year": "text", "label": "text", "target": "num2",
                   "k": "int", "mean_value": "num2", "k_values": "int", "met": "int",
                   "not_met": "int", "inconclusive": "int", "not_measured": "int"}
        return self._h(w["indicators"]) + self._table(t, formats)

    def show_indicators(self) -> None:
        """Indicators against targets per group and year."""
        _display_html(self.indicators_html())

    def reaction_html(self) -> str:
        """Reaction items and scales, and application at follow-up, per group."""
        from evaluation.i18n import t_code

        w = _w(self.language)
        lg = self.language
        common = {"group": "group", "k": "int", "n": "count", "mean": "num2",
                  "ci_low": "num2", "ci_high": "num2"}
        parts = [self._h(w["reaction"]), self._table(self.reaction, {
            **common, "item_id": "item", "pct_agree": "pct1"})]
        parts += [self._h(w["post_scales"], 2),
                  self._table(self.post_scales, {**common, "scale_id": "scale"})]
        parts.append(self._h(w["followup"], 2))

        def measure(v: Any) -> str:
            return t_code("measure", v, lg)

        parts.append(self._table(self.followup, {**common, "measure": measure, "pct": "pct1"})
                     if len(self.followup) else f"<p>{html.escape(w['no_followup'])}</p>")
        return "".join(parts) + self._note()

    def show_reaction_and_application(self) -> None:
        """Reaction items and scales, and application at follow-up, per group."""
        _display_html(self.reaction_html())

    def disaggregation_html(self) -> str:
        """Readiness change by country, sector and gender within each group (suppressed)."""
        from evaluation.i18n import column_label

        w = _w(self.language)
        t = self.display.get("disaggregation", self.disaggregation).copy()
        t["subgroup"] = [self._subgroup_label(d, g)
                         for d, g in zip(t["dimension"], t["subgroup"], strict=True)]
        t["dimension"] = [column_label(d, self.language) for d in t["dimension"]]
        formats = {"group": "group", "dimension": "text", "subgroup": "text", "n": "text"}
        return self._h(w["disaggregation"]) + self._table(t, formats) + self._note()

    def show_disaggregation(self) -> None:
        """Readiness change by country, sector and gender within each group (suppressed)."""
        _display_html(self.disaggregation_html())

    def methodology_html(self) -> str:
        """The methods of the comparison in plain language."""
        w = _w(self.language)
        return self._h(w["methodology"]) + \
            f"<p>{html.escape(w['method'].format(k=self.k_min))}</p>"

    def show_methodology(self) -> None:
        """The methods of the comparison in plain language."""
        _display_html(self.methodology_html())

    def html_sections(self) -> str:
        """Every section's HTML (without the figures), in report order."""
        return "".join([self.cover_html(), self.workshops_html(), self.exclusions_html(),
                        self.meta_analysis_html(), self.indicators_html(),
                        self.reaction_html(), self.disaggregation_html(),
                        self.methodology_html()])


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


def _instrument_labels(ws: pd.DataFrame, language: str) -> tuple[dict[str, str],
                                                                   dict[tuple[str, str], str]]:
    """Item texts and choice labels in ``language`` from the compared instruments' YAML.

    The warehouse keeps ids only; the instruments in ``surveys/`` give the words. An instrument
    that cannot be found leaves its ids as they are (older versions first, newest wins).
    Choice labels are keyed ``(role or list, code)`` for the roles ``country``, ``sector``,
    ``gender``, and ``("host_country", English country name)`` for the host country.
    """
    from evaluation.instrument import find_instrument, load_instrument

    items: dict[str, str] = {}
    choices: dict[tuple[str, str], str] = {}
    refs = ws[["instrument_id", "instrument_version"]].drop_duplicates()
    refs = sorted(zip(refs["instrument_id"], refs["instrument_version"], strict=True),
                  key=lambda r: _version_key(r[1]))
    for iid, version in refs:
        try:
            inst = load_instrument(find_instrument(f"{iid}@{version}"))
        except Exception:  # labels are a courtesy: the ids stay when it cannot be read
            continue
        for item in inst.items:
            items[item.id] = item.label(language)
        for role in _DIMENSIONS:
            item = inst.item_by_role(role)
            clist = inst.choice_list_of(item) if item is not None else None
            for choice in clist.all_choices if clist is not None else ():
                choices[(role, choice.code)] = choice.label(language)
                if role == "country":
                    choices[("host_country", choice.label("en"))] = choice.label(language)
    return items, choices


def _indicator_labels(language: str) -> dict[tuple[str, str], str]:
    """Indicator labels in ``language`` from the default results framework.

    Keyed by ``(indicator_id, English label)``: a workshop's own framework that reuses an id
    with other words keeps its stored (English) label.
    """
    from evaluation.indicators import default_framework

    out = {}
    for ind in default_framework()["indicators"]:
        label = ind.get("label") or {}
        text = label.get(language) or label.get("en")
        if text and label.get("en"):
            out[(str(ind["id"]), str(label["en"]))] = str(text)
    return out


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


def _disaggregation(per: pd.DataFrame, plan: pd.DataFrame, profiles: pd.DataFrame,
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
    if not len(per) or not len(profiles):
        empty = pd.DataFrame(columns=cols)
        return empty, empty.astype(object)
    needed = per["workshop_id"].map(counts).map(lambda c: math.ceil(2 / 3 * c - 1e-9))
    per = per[(per["size"] >= needed).to_numpy()]
    per = per.assign(group=per["workshop_id"].map(group_of))
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
                language: str = "en", k_min: int = 5, title: str | None = None,
                group_labels: Any = None) -> Any:
    """Forest plot of one scale: each workshop's d_z with its 95% CI, group and overall diamonds.

    Built only from published rows (suppressed workshops are not drawn). Axis label, legend,
    tick labels (decimal comma in Russian), alt text and caption are in ``language``;
    ``group_labels`` (a callable or mapping) names the groups. Returns a
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
    >>> forest_plot(eff, meta, "s", language="ru").alt_text.split(": ")[1][:14]
    'I 0,31 (от -0,'
    """
    import matplotlib as mpl

    from evaluation.figures import OKABE_ITO, _default_style, _finish, _new_figure, _style
    from evaluation.figures import _formatter as tick_formatter
    from evaluation.i18n import fmt_number
    from evaluation.i18n import t as text

    w = _w(language)
    if group_labels is None:
        def name(g: Any) -> str:
            return w["overall"] if str(g) == "overall" else str(g)
    elif callable(group_labels):
        name = group_labels
    else:
        def name(g: Any) -> str:
            return str(group_labels.get(str(g), g))

    def num(v: Any) -> str:
        return fmt_number(None if pd.isna(v) else float(v), 2, language)

    eff = effects[(effects["scale_id"] == scale_id) & effects["yi"].notna()]
    if "n" in eff.columns:
        n = pd.to_numeric(eff["n"], errors="coerce")
        if ((n > 0) & (n < k_min)).any():
            from evaluation.errors import DisclosureError

            raise DisclosureError("The forest plot would show a workshop resting on fewer "
                                  f"than {k_min} pairs.")
    mt = meta[meta["scale_id"] == scale_id]
    # label, est, lo, hi, kind, summary name
    rows: list[tuple[str, float, float, float, str, str]] = []
    for g in sorted(eff["group"].astype(str).unique()):
        for r in eff[eff["group"].astype(str) == g].itertuples(index=False):
            rows.append((f"{r.workshop_id} (n={int(r.n)})", r.yi, r.ci_low, r.ci_high, "study",
                         ""))
        m = mt[mt["group"] == g]
        if len(m):
            m = m.iloc[0]
            rows.append((f"{name(g)}: k={int(m['k'])}", m["estimate"], m["ci_low"],
                         m["ci_high"], "group", name(g)))
    over = mt[mt["group"] == "overall"]
    if len(over):
        o = over.iloc[0]
        rows.append((f"{name('overall')}: k={int(o['k'])}", o["estimate"], o["ci_low"],
                     o["ci_high"], "overall", name("overall")))
    summary = []
    colours = {"group": OKABE_ITO["orange"], "overall": OKABE_ITO["vermillion"]}
    with _default_style(), _style():
        fig = _new_figure(1.6 + 0.32 * len(rows))
        ax = fig.subplots()
        for i, (_label, est, lo, hi, kind, who) in enumerate(rows):
            if kind == "study":
                ax.plot([lo, hi], [i, i], color="#333333", linewidth=1.2)
                ax.scatter(est, i, marker="s", color=OKABE_ITO["blue"], s=30, zorder=3)
            else:
                if pd.notna(lo) and pd.notna(hi):
                    ax.add_patch(mpl.patches.Polygon(
                        [(lo, i), (est, i - 0.3), (hi, i), (est, i + 0.3)], closed=True,
                        color=colours[kind], zorder=3))
                else:
                    ax.scatter(est, i, marker="D", color=colours[kind], s=40, zorder=3)
                summary.append(f"{who} {num(est)} ({w['from']}{num(lo)} "
                               f"{text('ci_to', language)} {num(hi)})")
        ax.axvline(0, color="#777777", linewidth=0.8, linestyle="--")
        ax.set_yticks(range(len(rows)), [r[0] for r in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlabel(text("forest_xlabel", language))
        ax.xaxis.set_major_formatter(tick_formatter(language))
        kinds = {r[4] for r in rows}
        handles = [mpl.lines.Line2D([], [], color=OKABE_ITO["blue"], marker="s",
                                    linestyle="-", markeredgecolor=OKABE_ITO["blue"],
                                    label=text("forest_legend_workshop", language))]
        for kind in ("group", "overall"):
            if kind in kinds:
                handles.append(mpl.lines.Line2D(
                    [], [], color=colours[kind], marker="D", linestyle="",
                    label=text(f"forest_legend_{kind}", language)))
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles),
                   frameon=False, fontsize=8)
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
    wait: float = 60.0,
) -> dict[str, Path]:
    """Execute the comparison notebook and render HTML and PDF (``evaluate compare``).

    ``wait``: seconds to wait for a process that is writing to the warehouse.

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
                                     k_min=k_min, write=False, wait=wait)
    stem = "report" if language == "en" else f"report.{language}"
    params = {"warehouse": str(wh.resolve()), "output_dir": str(out.resolve()), "by": by,
              "workshops": " ".join(workshops or []), "language": language,
              "k_min": int(k_min or 0), "wait": float(wait)}
    w = _w(language)
    paths = dict(render_notebook_report(
        TEMPLATE, out, params, stem=stem, language=language,
        title=f"{w['title']}: {w['by'].format(by=w[by])}", synthetic=probe.synthetic,
        cwd=str(Path.cwd()), timeout=300 + max(0, int(wait))))  # a cell may wait for a writer
    paths["results"] = out / "results"
    paths["annex"] = out / "annex.xlsx"
    return paths

