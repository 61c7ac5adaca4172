"""Key findings and limitations written from the numbers, in English or Russian.

Wording follows the evidence:

- a change is called an improvement ("improved" / «улучшилась») only when the 95% confidence
  interval of the change lies entirely above zero, a decline only when it lies entirely below
  zero, and "no clear change" («явного изменения не выявлено») otherwise;
- the size of a change is put in plain terms with Cohen's (1988) benchmarks for d_z: below 0.2
  negligible, from 0.2 small, from 0.5 medium, from 0.8 large (Cohen, J. 1988, *Statistical Power
  Analysis for the Behavioral Sciences*, 2nd ed.);
- every sentence gives the n it rests on;
- only published (disclosure-controlled) numbers are used, so no subgroup with fewer than
  ``k_min`` respondents is ever cited; subgroup sentences also skip any group under ``k_min``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from evaluation.analysis import READINESS_INDEX, WorkshopAnalysis

__all__ = ["effect_size_label", "change_direction", "findings", "limitations"]

_SIZES = {
    "en": ("negligible", "small", "medium", "large"),
    "ru": ("пренебрежимо малый", "малый", "средний", "большой"),
}
_DIMENSION_NAMES = {
    "en": {"sector": "sector", "gender": "gender", "country": "country",
           "involvement": "involvement in drafting a strategy"},
    "ru": {"sector": "сектору", "gender": "полу", "country": "стране",
           "involvement": "участию в разработке стратегии"},
}
_GROUP_NAMES = {
    "en": {"government": "government", "civil_society": "civil society",
           "international": "international organizations", "F": "women", "M": "men",
           "Y": "involved", "N": "not involved", "other": "other"},
    "ru": {"government": "государственный сектор", "civil_society": "гражданское общество",
           "international": "международные организации", "F": "женщины", "M": "мужчины",
           "Y": "участвующие", "N": "не участвующие", "other": "прочие"},
}


def _lang(language: str) -> str:
    return "ru" if str(language).lower().startswith("ru") else "en"


def _num(x: float, lang: str, digits: int = 2, sign: bool = False) -> str:
    text = f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"
    text = text.replace("-", "−")
    return text.replace(".", ",") if lang == "ru" else text


def _pct(x: float, lang: str) -> str:
    return f"{x:.0f}%" if lang == "en" else f"{x:.0f}%"


def effect_size_label(d: float, language: str = "en") -> str:
    """Cohen's (1988) label for a standardized mean difference such as d_z.

    Examples
    --------
    >>> [effect_size_label(d) for d in (0.1, 0.3, -0.6, 1.2)]
    ['negligible', 'small', 'medium', 'large']
    >>> effect_size_label(0.9, "ru")
    'большой'
    """
    a = abs(d)
    idx = 0 if a < 0.2 else 1 if a < 0.5 else 2 if a < 0.8 else 3
    return _SIZES[_lang(language)][idx]


def change_direction(ci_low: float, ci_high: float) -> str:
    """``"improved"`` when the CI is above zero, ``"declined"`` below, else ``"unclear"``.

    Examples
    --------
    >>> change_direction(0.2, 0.9), change_direction(-0.1, 0.5), change_direction(-0.8, -0.1)
    ('improved', 'unclear', 'declined')
    """
    if ci_low is None or ci_high is None or pd.isna(ci_low) or pd.isna(ci_high):
        return "unclear"
    if ci_low > 0:
        return "improved"
    if ci_high < 0:
        return "declined"
    return "unclear"


def _row(table: pd.DataFrame, **match: Any) -> pd.Series | None:
    if table is None or table.empty:
        return None
    sel = pd.Series(True, index=table.index)
    for key, value in match.items():
        if key not in table.columns:
            return None
        sel &= table[key] == value
    rows = table[sel]
    return None if rows.empty else rows.iloc[0]


def _ok(row: pd.Series | None, *cols: str) -> bool:
    return row is not None and all(c in row.index and pd.notna(row[c]) for c in cols)


def _scale_label(analysis: WorkshopAnalysis, scale_id: str, lang: str) -> str:
    if scale_id == READINESS_INDEX:
        return "the readiness index" if lang == "en" else "индекс готовности"
    scale = analysis.instrument.scales.get(scale_id)
    label = scale.label(lang) if scale is not None else scale_id
    return label[0].lower() + label[1:] if lang == "en" else label


def _ru_subject(analysis: WorkshopAnalysis, scale_id: str) -> str:
    """Russian subject in the genitive: «индекса готовности» or «по шкале «…»»."""
    if scale_id == READINESS_INDEX:
        return "индекса готовности"
    return f"по шкале «{_scale_label(analysis, scale_id, 'ru')}»"


def _change_sentence(row: pd.Series, analysis: WorkshopAnalysis, lang: str,
                     largest: bool = False) -> str:
    """One sentence on a matched change: direction from the CI, size from d_z, and the n."""
    n = int(row["n_pairs"])
    scale_id = str(row["scale_id"])
    direction = change_direction(row["mean_change_ci_low"], row["mean_change_ci_high"])
    lo, hi = _num(row["mean_change_ci_low"], lang), _num(row["mean_change_ci_high"], lang)
    change = _num(row["mean_change"], lang, sign=True)
    a, b = _num(row["mean_a"], lang), _num(row["mean_b"], lang)
    size = effect_size_label(row["cohen_dz"], lang) if pd.notna(row.get("cohen_dz")) else None
    dz = _num(row["cohen_dz"], lang) if size is not None else ""
    if lang == "en":
        subject = _scale_label(analysis, scale_id, lang)
        verb = {"improved": "improved", "declined": "declined",
                "unclear": "showed no clear change"}[direction]
        levels = f" from {a} to {b} on the 1–5 scale" if direction != "unclear" else ""
        if largest:
            lead = f"The largest change among the scales was in {subject}, which {verb}"
        else:
            lead = (f"Among the {n} participants who answered both surveys, {subject} {verb}")
        text = f"{lead}{levels} (mean change {change}, 95% CI {lo} to {hi}"
        if size is not None and direction != "unclear":
            text += f"; Cohen's d_z = {dz}, a {size} effect by Cohen's 1988 benchmarks"
        if largest:
            text += f"; n = {n}"
        return text + ")."
    subject = _ru_subject(analysis, scale_id)
    if direction == "unclear":
        core = f"явного изменения {subject} не выявлено"
    else:
        word = "улучшение" if direction == "improved" else "снижение"
        core = f"отмечено {word} {subject}: с {a} до {b} по шкале 1–5"
    if largest:
        lead = "Наибольшее изменение среди шкал: " + core
    else:
        lead = f"Среди {n} участников, ответивших на обе анкеты, {core}"
    text = f"{lead} (среднее изменение {change}, 95% ДИ от {lo} до {hi}"
    if size is not None and direction != "unclear":
        text += f"; d_z Коэна = {dz} — {size} эффект по критериям Коэна (1988)"
    if largest:
        text += f"; n = {n}"
    return text + ")."


def findings(analysis: WorkshopAnalysis, indicators: pd.DataFrame | None = None,
             language: str = "en", k_min: int = 5) -> list[str]:
    """Three to six key-finding sentences generated from the published numbers.

    Parameters
    ----------
    analysis : WorkshopAnalysis
        From :func:`evaluation.analysis.analyze_workshop` (disclosure-controlled tables).
    indicators : DataFrame, optional
        From :func:`evaluation.indicators.compute_indicators`.
    language : {"en", "ru"}
    k_min : int
        Groups with fewer respondents are never cited (the stricter of this and the analysis's
        own threshold applies).

    Returns
    -------
    list of str
        Sentences in report order: readiness change, the scale that changed most, knowledge,
        indicators against targets, follow-up application, subgroups. When the primary change
        cannot be published a sentence says so.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.analysis import WorkshopAnalysis
    >>> scales = pd.DataFrame([{"scale_id": "readiness_index", "wave_a": "pre",
    ...     "wave_b": "post", "n_pairs": 24, "mean_a": 2.6, "mean_b": 3.5, "mean_change": 0.9,
    ...     "mean_change_ci_low": 0.6, "mean_change_ci_high": 1.2, "cohen_dz": 1.1}])
    >>> empty = pd.DataFrame()
    >>> res = WorkshopAnalysis(*([empty, scales] + [empty] * 11), k_min=5,
    ...     instrument=load_instrument(default_instrument_path()), waves=("pre", "post"))
    >>> print(findings(res)[0])  # doctest: +NORMALIZE_WHITESPACE
    Among the 24 participants who answered both surveys, the readiness index improved from 2.60
    to 3.50 on the 1–5 scale (mean change +0.90, 95% CI 0.60 to 1.20; Cohen's d_z = 1.10,
    a large effect by Cohen's 1988 benchmarks).
    """
    lang = _lang(language)
    k = max(int(k_min), int(analysis.k_min))
    out: list[str] = []
    scales = analysis.scales
    # 1. Readiness index, pre→post (the primary estimate).
    idx = _row(scales, scale_id=READINESS_INDEX, wave_a="pre", wave_b="post")
    if _ok(idx, "n_pairs", "mean_change", "mean_change_ci_low") and idx["n_pairs"] >= k:
        out.append(_change_sentence(idx, analysis, lang))
    else:
        out.append(
            f"Too few participants could be matched between the pre and post surveys (fewer "
            f"than {k}) to report the change in readiness." if lang == "en" else
            f"Слишком мало участников удалось сопоставить между анкетами до и после семинара "
            f"(менее {k}), чтобы сообщить об изменении готовности.")
    # 2. The scale with the largest published change.
    cand = scales[(scales.get("wave_a") == "pre") & (scales.get("wave_b") == "post")
                  & (scales.get("scale_id") != READINESS_INDEX)] if not scales.empty else scales
    if not cand.empty:
        cand = cand[cand["mean_change"].notna() & (pd.to_numeric(cand["n_pairs"]) >= k)]
    if not cand.empty:
        best = cand.loc[cand["mean_change"].astype(float).idxmax()]
        out.append(_change_sentence(best, analysis, lang, largest=True))
    # 3. Knowledge.
    kn = _row(analysis.knowledge, item_id="knowledge_total")
    if _ok(kn, "n", "mean_score_pre", "mean_score_post", "mean_change_ci_low") and kn["n"] >= k:
        direction = change_direction(kn["mean_change_ci_low"], kn["mean_change_ci_high"])
        gain = (_num(kn["normalized_gain"], lang) if pd.notna(kn["normalized_gain"]) else "–")
        pp = _num(kn["mean_change"], lang, 0, sign=True)
        lo, hi = _num(kn["mean_change_ci_low"], lang, 0), _num(kn["mean_change_ci_high"], lang, 0)
        if lang == "en":
            verb = {"improved": "improved", "declined": "declined",
                    "unclear": "showed no clear change"}[direction]
            out.append(f"Knowledge test scores of the {int(kn['n'])} matched participants {verb}"
                       f" ({_pct(kn['mean_score_pre'], lang)} correct before, "
                       f"{_pct(kn['mean_score_post'], lang)} after; change {pp} percentage points, "
                       f"95% CI {lo} to {hi}; normalized gain {gain}).")
        else:
            verb = {"improved": "улучшились", "declined": "снизились",
                    "unclear": "явно не изменились"}[direction]
            out.append(f"Результаты теста знаний у {int(kn['n'])} сопоставленных участников "
                       f"{verb} ({_pct(kn['mean_score_pre'], lang)} верных ответов до семинара, "
                       f"{_pct(kn['mean_score_post'], lang)} после; изменение {pp} п. п., 95% ДИ "
                       f"от {lo} до {hi}; нормализованный прирост {gain}).")
    # 4. Indicators against targets.
    if indicators is not None and not indicators.empty:
        measured = indicators[indicators["status"] != "not measured"]
        if len(measured):
            met = int((measured["status"] == "met").sum())
            inc = int((measured["status"] == "inconclusive").sum())
            total = len(indicators)
            if lang == "en":
                s = (f"{met} of the {len(measured)} indicators that could be measured met their "
                     f"target")
                if inc:
                    s += (f"; for {inc} the confidence interval includes the target, so "
                          "the result is inconclusive")
                if total > len(measured):
                    s += f" ({total - len(measured)} not measured)"
            else:
                s = (f"Целевые значения достигнуты по {met} из {len(measured)} измеренных "
                     f"показателей")
                if inc:
                    s += (f"; по {inc} доверительный интервал включает целевое значение, "
                          "поэтому результат неопределённый")
                if total > len(measured):
                    s += f" ({total - len(measured)} не измерено)"
            out.append(s + ".")
    # 5. Follow-up application.
    fu = _row(analysis.followup, measure="applied_or_materials")
    if _ok(fu, "n", "pct", "ci_low", "ci_high") and fu["n"] >= k:
        if lang == "en":
            out.append(f"At follow-up, {_pct(fu['pct'], lang)} of the {int(fu['n'])} respondents "
                       f"had applied what they learned or used the materials (95% CI "
                       f"{_pct(fu['ci_low'], lang)} to {_pct(fu['ci_high'], lang)}).")
        else:
            out.append(f"При повторном опросе {_pct(fu['pct'], lang)} из {int(fu['n'])} "
                       f"респондентов сообщили, что применили полученные знания или "
                       f"использовали материалы (95% ДИ от {_pct(fu['ci_low'], lang)} до "
                       f"{_pct(fu['ci_high'], lang)}).")
    # 6. Subgroups: only published groups with at least k participants.
    sub = _subgroup_sentence(analysis, lang, k)
    if sub and len(out) < 6:
        out.append(sub)
    return out[:6]


def _subgroup_sentence(analysis: WorkshopAnalysis, lang: str, k: int) -> str | None:
    dis = analysis.disaggregation
    if dis is None or dis.empty:
        return None
    for dim in ("sector", "gender"):
        rows = dis[(dis["dimension"] == dim) & dis["mean_change"].notna()
                   & (pd.to_numeric(dis["n"], errors="coerce") >= k)]
        rows = rows[rows["group"] != "(missing)"]
        if len(rows) < 2:
            continue
        parts = []
        for r in rows.itertuples():
            name = _GROUP_NAMES[lang].get(str(r.group), str(r.group))
            d = change_direction(r.ci_low, r.ci_high)
            word = {"en": {"improved": "improved", "declined": "declined",
                           "unclear": "no clear change"},
                    "ru": {"improved": "улучшение", "declined": "снижение",
                           "unclear": "нет явного изменения"}}[lang][d]
            parts.append(f"{name}: {_num(r.mean_change, lang, sign=True)}, {word}, n = {int(r.n)}"
                         if lang == "en" else
                         f"{name}: {_num(r.mean_change, lang, sign=True)}, {word}, n = {int(r.n)}")
        if lang == "en":
            return (f"By {_DIMENSION_NAMES['en'][dim]}, the change in the readiness index was: "
                    + "; ".join(parts) + ".")
        return (f"В разбивке по {_DIMENSION_NAMES['ru'][dim]} изменение индекса готовности "
                "составило: " + "; ".join(parts) + ".")
    return None


def limitations(analysis: WorkshopAnalysis, language: str = "en") -> list[str]:
    """The limitations of this evaluation, generated from the data.

    Always: self-report and social desirability, no comparison group, small n; then, when the
    data show them: attrition and matching bias (matched vs unmatched baseline respondents,
    R-ID-07), a disagreement between the matched and all-respondents estimates (R-ID-08),
    response shift (pre vs retrospective ratings), low reliability, a missing follow-up wave, and
    translation when the instrument was given in more than one language.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.analysis import WorkshopAnalysis
    >>> empty = pd.DataFrame()
    >>> res = WorkshopAnalysis(*([empty] * 13), k_min=5,
    ...     instrument=load_instrument(default_instrument_path()), waves=("pre", "post"))
    >>> lim = limitations(res)
    >>> lim[0].startswith("All outcome measures except the knowledge test are self-reported")
    True
    """
    lang = _lang(language)
    en = lang == "en"
    k = analysis.k_min
    out: list[str] = []
    out.append(
        "All outcome measures except the knowledge test are self-reported; ratings may reflect "
        "social desirability, especially among officials answering about government policy."
        if en else
        "Все показатели, кроме теста знаний, основаны на самооценке; ответы могут отражать "
        "социальную желательность, особенно у государственных служащих, оценивающих "
        "государственную политику.")
    out.append(
        "There is no comparison group, so changes cannot be attributed to the workshop alone."
        if en else
        "Контрольной группы нет, поэтому изменения нельзя приписать только семинару.")
    n = analysis.matched.get("pre-post")
    if n is not None:
        shown = str(n) if n >= k else f"<{k}"
        out.append(
            f"The number of matched participants is small (n = {shown}): intervals are wide and "
            "small effects cannot be detected." if en else
            f"Число сопоставленных участников невелико (n = {shown}): доверительные интервалы "
            "широкие, и небольшие эффекты выявить невозможно.")
    part = analysis.participation
    bias = analysis.matching_bias
    rate_row = _row(part, dimension="matched", group="pre-post") if not part.empty else None
    if _ok(rate_row, "attrition") and rate_row["attrition"] > 0:
        att = 100 * float(rate_row["attrition"])
        out.append(
            f"{att:.0f}% of pre-survey respondents could not be matched to a post survey; "
            "matched participants may differ from those lost." if en else
            f"{att:.0f}% респондентов первой анкеты не удалось сопоставить с анкетой после "
            "семинара; сопоставленные участники могут отличаться от выбывших.")
    b = _row(bias, wave_a="pre", wave_b="post") if not bias.empty else None
    if _ok(b, "smd"):
        if bool(b["bias_flag"]):
            out.append(
                f"Matched and unmatched participants differed at baseline (standardized mean "
                f"difference {_num(b['smd'], lang)} on the readiness index, above 0.25): the "
                "matched change may be biased." if en else
                f"Сопоставленные и несопоставленные участники различались до семинара "
                f"(стандартизированная разность средних {_num(b['smd'], lang)} по индексу "
                "готовности, больше 0,25): оценка изменения может быть смещена.")
    elif b is not None and pd.isna(b.get("smd")) and n:
        out.append(
            f"Too few unmatched participants (fewer than {k}) to check whether they differed "
            "from matched ones at baseline." if en else
            f"Несопоставленных участников слишком мало (менее {k}), чтобы проверить, "
            "отличались ли они от сопоставленных до семинара.")
    unp = analysis.unpaired
    if not unp.empty and bool(unp["direction_disagrees"].fillna(False).astype(bool).any()):
        out.append(
            "For some measures the change among all respondents points in the opposite "
            "direction to the matched change, so the result depends on who answered both "
            "surveys." if en else
            "По некоторым показателям изменение среди всех респондентов противоположно по "
            "направлению изменению среди сопоставленных участников, поэтому вывод зависит от "
            "того, кто ответил на обе анкеты.")
    shift = _row(analysis.scales, scale_id=READINESS_INDEX, wave_a="pre", wave_b="retro")
    if _ok(shift, "mean_change_ci_low", "mean_change_ci_high"):
        d = change_direction(shift["mean_change_ci_low"], shift["mean_change_ci_high"])
        if d != "unclear":
            out.append(
                "Participants rated their pre-workshop readiness differently in retrospect than "
                "before the workshop (response shift), so pre/post and retrospective estimates "
                "of change differ." if en else
                "Участники оценили свою готовность до семинара ретроспективно иначе, чем перед "
                "семинаром (сдвиг самооценки), поэтому оценки изменения по схемам "
                "«до/после» и «ретроспективно» различаются.")
    rel = analysis.reliability
    if not rel.empty and (rel["warning"].astype(str) != "").any():
        out.append(
            "Some scales have low internal consistency (Cronbach's alpha below 0.70) in at "
            "least one wave; their scores should be read with caution." if en else
            "У некоторых шкал низкая внутренняя согласованность (альфа Кронбаха ниже 0,70) "
            "хотя бы на одном этапе; их результаты следует интерпретировать с осторожностью.")
    if "followup" not in analysis.waves:
        out.append(
            "There is no follow-up survey, so application on the job was not measured." if en
            else "Повторного опроса не было, поэтому применение знаний на практике не "
                 "измерялось.")
    if len(analysis.instrument.languages) > 1:
        out.append(
            "The questionnaire was administered in more than one language; translated items "
            "may not be fully equivalent." if en else
            "Анкета проводилась на нескольких языках; переведённые вопросы могут быть не "
            "полностью эквивалентны.")
    if math.isfinite(k) and k > 0:
        out.append(
            f"Numbers resting on fewer than {k} respondents are suppressed to protect "
            "participants, so some subgroup results are not shown." if en else
            f"Показатели, основанные на ответах менее {k} респондентов, скрыты для защиты "
            "участников, поэтому часть результатов по подгруппам не приводится.")
    return out
