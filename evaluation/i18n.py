"""Words of the reports in English and Russian, and number and date formatting per language.

Item texts, scale labels and choice labels come from the instrument; everything else a report
says comes from :data:`TEXTS`. Russian uses a decimal comma and day-month-year dates.
"""

from __future__ import annotations

import datetime as dt
import math
import re

__all__ = ["COLUMNS", "LANGUAGES", "TEXTS", "column_label", "fmt_date", "fmt_date_range",
           "fmt_number", "fmt_percent", "localize_cell", "t"]

LANGUAGES = ("en", "ru")

TEXTS: dict[str, dict[str, str]] = {
    # levels of a results framework (indicators.LEVELS)
    "level_outcome": {"en": "outcome", "ru": "результат"},
    "level_output": {"en": "output", "ru": "продукт"},
    "level_reaction": {"en": "reaction", "ru": "реакция"},
    "level_learning": {"en": "learning", "ru": "обучение"},
    "level_behaviour": {"en": "behaviour", "ru": "поведение"},
    "synthetic_banner": {
        "en": "SYNTHETIC DEMONSTRATION DATA — invented participants and answers; not a real "
        "evaluation.",
        "ru": "СИНТЕТИЧЕСКИЕ ДЕМОНСТРАЦИОННЫЕ ДАННЫЕ — вымышленные участники и ответы; это не "
        "настоящая оценка.",
    },
    "report_title": {"en": "Workshop outcome report", "ru": "Отчёт о результатах семинара"},
    "cohort_title": {"en": "Cohort comparison", "ru": "Сравнение когорт"},
    "dates": {"en": "Dates", "ru": "Даты"},
    "place": {"en": "Place", "ru": "Место"},
    "project": {"en": "Project", "ru": "Проект"},
    "phase": {"en": "Phase", "ru": "Этап"},
    "evaluator": {"en": "Evaluator", "ru": "Оценку провёл(а)"},
    "instrument": {"en": "Instrument", "ru": "Инструмент"},
    "executive_summary": {"en": "Executive summary", "ru": "Резюме"},
    "headline_indicators": {"en": "Headline indicators", "ru": "Основные показатели"},
    "key_findings": {"en": "Key findings", "ru": "Основные выводы"},
    "workshop_and_outcomes": {"en": "The workshop and its expected outcomes",
                              "ru": "Семинар и ожидаемые результаты"},
    "methodology": {"en": "Methodology", "ru": "Методология"},
    "findings": {"en": "Findings", "ru": "Результаты"},
    "reaction": {"en": "Reaction: relevance and usefulness", "ru": "Реакция: актуальность и "
                 "полезность"},
    "learning": {"en": "Learning: readiness to design strategies and action plans",
                 "ru": "Обучение: готовность разрабатывать стратегии и планы действий"},
    "retro": {"en": "Retrospective pretest and response shift",
              "ru": "Ретроспективная оценка и сдвиг самооценки"},
    "knowledge": {"en": "Knowledge test", "ru": "Тест знаний"},
    "cooperation": {"en": "Regional cooperation", "ru": "Региональное сотрудничество"},
    "application": {"en": "Application at follow-up", "ru": "Применение (последующий опрос)"},
    "disaggregation": {"en": "Results by country, sector, gender and involvement",
                       "ru": "Результаты по странам, секторам, полу и участию"},
    "voices": {"en": "Participant voices", "ru": "Мнения участников"},
    "limitations": {"en": "Limitations", "ru": "Ограничения"},
    "annexes": {"en": "Annexes", "ru": "Приложения"},
    "annex_items": {"en": "Annex A. Item tables", "ru": "Приложение А. Таблицы по вопросам"},
    "annex_instrument": {"en": "Annex B. The instrument", "ru": "Приложение Б. Инструмент"},
    "annex_ingest": {"en": "Annex C. Data processing and matching",
                     "ru": "Приложение В. Обработка данных и сопоставление"},
    "annex_provenance": {"en": "Annex D. Provenance", "ru": "Приложение Г. Происхождение данных"},
    "pre": {"en": "Before", "ru": "До"},
    "post": {"en": "After", "ru": "После"},
    "followup": {"en": "Follow-up", "ru": "Последующий опрос"},
    "retro_wave": {"en": "Then (retrospective)", "ru": "Тогда (ретроспективно)"},
    "n": {"en": "n", "ru": "n"},
    "suppressed_note": {
        "en": "“<{k}” and “–”: not shown, to protect respondents: the number rests on fewer "
              "than {k} people, or would let such a number be worked out from the totals.",
        "ru": "«<{k}» и «–»: не показано для защиты респондентов: число основано на ответах "
              "менее чем {k} человек или позволило бы вычислить такое число по итогам.",
    },
    "no_followup": {"en": "No follow-up survey was run for this workshop.",
                    "ru": "Последующий опрос по этому семинару не проводился."},
    "no_reviewed_text": {
        "en": "No open answer has been marked as reviewed for quoting; only counts are shown.",
        "ru": "Ни один открытый ответ не отмечен как проверенный для цитирования; показано "
        "только их число.",
    },
    "status_met": {"en": "met", "ru": "достигнут"},
    "status_not met": {"en": "not met", "ru": "не достигнут"},
    "status_inconclusive": {"en": "inconclusive", "ru": "неопределённо"},
    "status_not measured": {"en": "not measured", "ru": "не измерен"},
    "participation": {"en": "Participation", "ru": "Участие"},
    "participation_figure": {"en": "Respondents to the pre-workshop survey by group",
                             "ru": "Участники опроса до семинара по группам"},
    "reaction_figure": {"en": "Answers to “{scale}” items (percent of respondents)",
                        "ru": "Ответы на вопросы «{scale}» (доля респондентов)"},
    "knowledge_figure": {"en": "Percent correct per question, before and after",
                         "ru": "Доля правильных ответов по вопросам до и после"},
    "indicators_figure": {"en": "Headline indicators against their targets (95% CI)",
                          "ru": "Основные показатели и их целевые значения (95% ДИ)"},
    "dumbbell_figure": {"en": "Readiness scales before and after the workshop (matched pairs)",
                        "ru": "Шкалы готовности до и после семинара (сопоставленные пары)"},
    "figure_unavailable": {"en": "Figure not available ({name}).",
                           "ru": "Рисунок недоступен ({name})."},
    "waves_table": {"en": "Survey waves, response and matching",
                    "ru": "Этапы опроса, отклик и сопоставление"},
    "methods_table": {"en": "Tests and thresholds", "ru": "Критерии и пороги"},
    "files_table": {"en": "Files read", "ru": "Прочитанные файлы"},
    "languages_word": {"en": "Languages", "ru": "Языки"},
    "answers_count": {"en": "{n} answers received (not quoted: not marked as reviewed).",
                      "ru": "Получено ответов: {n} (не цитируются: не отмечены как "
                      "проверенные)."},
    "quotes_note": {"en": "Quoted as written after redaction (names, e-mails, telephone and "
                    "ID-like numbers removed); at most 8 per question.",
                    "ru": "Цитаты приводятся после удаления имён, адресов электронной почты, "
                    "телефонов и номеров документов; не более 8 на вопрос."},
    "items_figure": {"en": "Answers to the items of the scale “{scale}”, before and after",
                     "ru": "Ответы на вопросы шкалы «{scale}» до и после семинара"},
    "cat_disagree": {"en": "Disagree", "ru": "Не согласен(-на)"},
    "cat_neutral": {"en": "Neither", "ru": "Отчасти"},
    "cat_agree": {"en": "Agree", "ru": "Согласен(-на)"},
    "cat_other": {"en": "Other answers", "ru": "Другие ответы"},
    "cat_other_note": {"en": "“Other answers” joins the middle and the two lowest answers of an "
                       "item where showing them apart would reveal answers given by fewer than "
                       "{k} respondents.",
                       "ru": "«Другие ответы» объединяют средний и два нижних варианта там, где "
                       "их раздельный показ раскрыл бы ответы, которые дали менее {k} "
                       "респондентов."},
    "reliability_table": {"en": "Reliability of the scales (Cronbach's alpha)",
                          "ru": "Надёжность шкал (альфа Кронбаха)"},
    # --- cohort comparison (evaluate compare) ---
    "yes": {"en": "yes", "ru": "да"},
    "no": {"en": "no", "ru": "нет"},
    "cohort_overall": {"en": "overall", "ru": "всего"},
    "cohort_unknown": {"en": "unknown", "ru": "не указано"},
    "cohort_kind_scale": {"en": "scale", "ru": "шкала"},
    "cohort_kind_item": {"en": "item", "ru": "вопрос"},
    "subgroup_government": {"en": "government", "ru": "государственный сектор"},
    "subgroup_civil_society": {"en": "civil society", "ru": "гражданское общество"},
    "subgroup_international": {"en": "international", "ru": "международные организации"},
    "subgroup_other": {"en": "other", "ru": "прочие"},
    "subgroup_(missing)": {"en": "(no answer)", "ru": "(нет ответа)"},
    "measure_applied": {"en": "Applied what they learned", "ru": "Применили полученные знания"},
    "measure_used_materials": {"en": "Used the materials", "ru": "Использовали материалы"},
    "measure_drafting": {"en": "Took part in drafting a strategy or action plan",
                         "ru": "Участвовали в разработке стратегии или плана действий"},
    "measure_contacted": {"en": "Contacted a participant from another country",
                          "ru": "Связывались с участником из другой страны"},
    "measure_applied_or_materials": {"en": "Applied what they learned or used the materials",
                                     "ru": "Применили знания или использовали материалы"},
    "forest_xlabel": {"en": "d_z (95% CI)", "ru": "d_z (95% ДИ)"},
    "forest_legend_workshop": {"en": "Workshop (d_z, 95% CI)", "ru": "Семинар (d_z, 95% ДИ)"},
    "forest_legend_group": {"en": "Pooled, group", "ru": "Объединённая оценка группы"},
    "forest_legend_overall": {"en": "Pooled, overall", "ru": "Объединённая оценка, всего"},
    "ci_to": {"en": "to", "ru": "до"},
    "status_on_all": {"en": "the status still rests on all respondents: it says only on which "
                            "side of the target the value lies",
                      "ru": "статус всё же рассчитан по всем респондентам: он показывает лишь, "
                            "по какую сторону от целевого значения находится значение"},
    "other_groups_note": {
        "en": "“Other”: the groups with fewer than {k} participants, combined.",
        "ru": "«Прочие»: группы, в которых меньше {k} участников, вместе.",
    },
    "source_generic": {"en": "spreadsheet", "ru": "таблица"},
    "alpha_low": {"en": "alpha < 0.70", "ru": "альфа < 0,70"},
    "lang_en": {"en": "English", "ru": "английский"},
    "lang_ru": {"en": "Russian", "ru": "русский"},
    "lang_kk": {"en": "Kazakh", "ru": "казахский"},
    "lang_ky": {"en": "Kyrgyz", "ru": "кыргызский"},
    "lang_tg": {"en": "Tajik", "ru": "таджикский"},
    "lang_tk": {"en": "Turkmen", "ru": "туркменский"},
    "lang_uz": {"en": "Uzbek", "ru": "узбекский"},
    "itemtype_likert": {"en": "Rating scale", "ru": "Шкала оценок"},
    "itemtype_knowledge": {"en": "Knowledge question", "ru": "Вопрос на знание"},
    "itemtype_single_choice": {"en": "One answer", "ru": "Один ответ"},
    "itemtype_multiple_choice": {"en": "Several answers", "ru": "Несколько ответов"},
    "itemtype_text": {"en": "Open answer", "ru": "Свободный ответ"},
    "itemtype_number": {"en": "Number", "ru": "Число"},
    "reverse_worded": {"en": "reverse-worded", "ru": "обратная формулировка"},
    "reverse_note": {
        "en": "Items marked “reverse-worded” say the opposite of readiness: their means and "
              "changes are scored in reverse (1 becomes 5), so that higher always means more "
              "ready; their charts show the answers as given.",
        "ru": "Вопросы с пометкой «обратная формулировка» выражают противоположное готовности: "
              "их средние и изменения рассчитаны по обратной шкале (1 становится 5), чтобы "
              "большее значение всегда означало большую готовность; на диаграммах показаны "
              "ответы как есть.",
    },
}

#: Column headers of the report tables (English and Russian).
COLUMNS: dict[str, dict[str, str]] = {
    "item_id": {"en": "Item", "ru": "Вопрос"},
    "scale_id": {"en": "Scale", "ru": "Шкала"},
    "indicator": {"en": "Indicator", "ru": "Показатель"},
    "label": {"en": "Indicator", "ru": "Показатель"},
    "level": {"en": "Level", "ru": "Уровень"},
    "baseline": {"en": "Baseline", "ru": "Исходное значение"},
    "target": {"en": "Target", "ru": "Цель"},
    "value": {"en": "Value", "ru": "Значение"},
    "ci": {"en": "95% CI", "ru": "95% ДИ"},
    "rank_biserial_ci": {"en": "r 95% CI", "ru": "r 95% ДИ"},
    "cohen_dz_ci": {"en": "d_z 95% CI", "ru": "d_z 95% ДИ"},
    "normalized_gain_ci": {"en": "Gain 95% CI", "ru": "Прирост 95% ДИ"},
    "comparison": {"en": "Comparison", "ru": "Сравнение"},
    "status": {"en": "Status", "ru": "Статус"},
    "wave": {"en": "Wave", "ru": "Этап"},
    "wave_a": {"en": "From", "ru": "С"},
    "wave_b": {"en": "To", "ru": "По"},
    "n": {"en": "n", "ru": "n"},
    "n_pairs": {"en": "Pairs", "ru": "Пар"},
    "n_items": {"en": "Items", "ru": "Вопросов"},
    "n_a": {"en": "n (first)", "ru": "n (первый)"},
    "n_b": {"en": "n (second)", "ru": "n (второй)"},
    "base": {"en": "Expected", "ru": "Ожидалось"},
    "rate": {"en": "Response rate", "ru": "Доля ответивших"},
    "attrition": {"en": "Attrition", "ru": "Выбытие"},
    "mean": {"en": "Mean", "ru": "Среднее"},
    "mean_a": {"en": "Mean before", "ru": "Среднее до"},
    "mean_b": {"en": "Mean after", "ru": "Среднее после"},
    "mean_change": {"en": "Change", "ru": "Изменение"},
    "mean_change_ci_low": {"en": "CI low", "ru": "ДИ от"},
    "mean_change_ci_high": {"en": "CI high", "ru": "ДИ до"},
    "mean_ci_low": {"en": "CI low", "ru": "ДИ от"},
    "mean_ci_high": {"en": "CI high", "ru": "ДИ до"},
    "ci_low": {"en": "CI low", "ru": "ДИ от"},
    "ci_high": {"en": "CI high", "ru": "ДИ до"},
    "difference": {"en": "Difference", "ru": "Разность"},
    "median_change": {"en": "Median change", "ru": "Медиана изменения"},
    "wilcoxon_v": {"en": "Wilcoxon V", "ru": "V Уилкоксона"},
    "p_value": {"en": "p", "ru": "p"},
    "p_holm": {"en": "p (Holm)", "ru": "p (Холм)"},
    "rank_biserial": {"en": "Rank-biserial r", "ru": "Ранг.-бисер. r"},
    "rank_biserial_ci_low": {"en": "r CI low", "ru": "r ДИ от"},
    "rank_biserial_ci_high": {"en": "r CI high", "ru": "r ДИ до"},
    "pct_improved": {"en": "Improved", "ru": "Улучшение"},
    "pct_unchanged": {"en": "Unchanged", "ru": "Без изменений"},
    "pct_declined": {"en": "Declined", "ru": "Ухудшение"},
    "alpha": {"en": "Alpha", "ru": "Альфа"},
    "alpha_a": {"en": "Alpha before", "ru": "Альфа до"},
    "alpha_b": {"en": "Alpha after", "ru": "Альфа после"},
    "t": {"en": "t", "ru": "t"},
    "df": {"en": "df", "ru": "сс"},
    "cohen_dz": {"en": "Cohen's d_z", "ru": "d_z Коэна"},
    "cohen_dz_ci_low": {"en": "d_z CI low", "ru": "d_z ДИ от"},
    "cohen_dz_ci_high": {"en": "d_z CI high", "ru": "d_z ДИ до"},
    "suppressed": {"en": "Suppressed", "ru": "Скрыто"},
    "reliability": {"en": "Note", "ru": "Примечание"},
    "warning": {"en": "Note", "ru": "Примечание"},
    "k": {"en": "Items", "ru": "Вопросов"},
    "part": {"en": "Agenda part", "ru": "Часть программы"},
    "count_missing": {"en": "Don't know / n.a.", "ru": "Не знаю / н. п."},
    "missing_code": {"en": "Missing code", "ru": "Код пропуска"},
    "pct_agree": {"en": "Agree", "ru": "Согласны"},
    "pct_correct_pre": {"en": "Correct before", "ru": "Верно до"},
    "pct_correct_post": {"en": "Correct after", "ru": "Верно после"},
    "mcnemar_statistic": {"en": "McNemar χ²", "ru": "χ² Мак-Немара"},
    "mean_score_pre": {"en": "Score before", "ru": "Балл до"},
    "mean_score_post": {"en": "Score after", "ru": "Балл после"},
    "normalized_gain": {"en": "Normalized gain", "ru": "Нормализованный прирост"},
    "normalized_gain_ci_low": {"en": "Gain CI low", "ru": "Прирост ДИ от"},
    "normalized_gain_ci_high": {"en": "Gain CI high", "ru": "Прирост ДИ до"},
    "pct_new_contact": {"en": "New contact", "ru": "Новый контакт"},
    "pct_new_contact_ci_low": {"en": "CI low", "ru": "ДИ от"},
    "pct_new_contact_ci_high": {"en": "CI high", "ru": "ДИ до"},
    "measure": {"en": "Measure", "ru": "Показатель"},
    "pct": {"en": "Percent", "ru": "Доля"},
    "dimension": {"en": "By", "ru": "Разрез"},
    "group": {"en": "Group", "ru": "Группа"},
    "text": {"en": "Text", "ru": "Текст"},
    "type": {"en": "Type", "ru": "Тип"},
    "file": {"en": "File", "ru": "Файл"},
    "source": {"en": "Source", "ru": "Источник"},
    "encoding": {"en": "Encoding", "ru": "Кодировка"},
    "rows_read": {"en": "Rows read", "ru": "Прочитано строк"},
    "kept": {"en": "Kept", "ru": "Оставлено"},
    "quarantined": {"en": "Quarantined", "ru": "В карантине"},
    "removed": {"en": "Removed", "ru": "Удалено"},
    "matched": {"en": "Matched", "ru": "Сопоставлено"},
    "match_rate": {"en": "Match rate", "ru": "Доля сопоставленных"},
    "what": {"en": "What", "ru": "Что"},
    "how": {"en": "How", "ru": "Как"},
    "country": {"en": "Country", "ru": "Страна"},
    "sector": {"en": "Sector", "ru": "Сектор"},
    "gender": {"en": "Gender", "ru": "Пол"},
    "involvement": {"en": "Involved in a strategy or NAP", "ru": "Участие в разработке "
                    "стратегии или НПД"},
    "total": {"en": "Total", "ru": "Всего"},
    # --- cohort comparison tables ---
    "workshop_id": {"en": "Workshop", "ru": "Семинар"},
    "phase": {"en": "Phase", "ru": "Этап"},
    "start_date": {"en": "Start", "ru": "Начало"},
    "host_country": {"en": "Host country", "ru": "Страна проведения"},
    "instrument": {"en": "Instrument", "ru": "Инструмент"},
    "n_pre": {"en": "n before", "ru": "n до"},
    "n_post": {"en": "n after", "ru": "n после"},
    "n_followup": {"en": "n follow-up", "ru": "n последующий"},
    "matched_pre_post": {"en": "Matched pairs", "ru": "Сопоставленных пар"},
    "response_rate": {"en": "Response rate", "ru": "Доля ответивших"},
    "responses_used": {"en": "Answers used", "ru": "Ответы использованы"},
    "synthetic": {"en": "Synthetic", "ru": "Синтетические"},
    "kind": {"en": "Kind", "ru": "Вид"},
    "id": {"en": "Scale or item", "ru": "Шкала или вопрос"},
    "reason": {"en": "Reason", "ru": "Причина"},
    "k_workshops": {"en": "Workshops", "ru": "Семинаров"},
    "estimate": {"en": "Estimate", "ru": "Оценка"},
    "se": {"en": "SE", "ru": "СО"},
    "pvalue": {"en": "p", "ru": "p"},
    "tau2": {"en": "τ²", "ru": "τ²"},
    "i2": {"en": "I²", "ru": "I²"},
    "q": {"en": "Q", "ru": "Q"},
    "q_pvalue": {"en": "p (Q)", "ru": "p (Q)"},
    "groups": {"en": "Groups", "ru": "Групп"},
    "q_between": {"en": "Q between", "ru": "Q между группами"},
    "q_between_pvalue": {"en": "p (Q between)", "ru": "p (Q между группами)"},
    "year": {"en": "Year", "ru": "Год"},
    "mean_value": {"en": "Mean value", "ru": "Среднее значение"},
    "k_values": {"en": "Workshops in the mean", "ru": "Семинаров в среднем"},
    "met": {"en": "Met", "ru": "Достигнут"},
    "not_met": {"en": "Not met", "ru": "Не достигнут"},
    "inconclusive": {"en": "Inconclusive", "ru": "Неопределённо"},
    "not_measured": {"en": "Not measured", "ru": "Не измерен"},
    "subgroup": {"en": "Subgroup", "ru": "Подгруппа"},
}


def t(key: str, language: str = "en", **values: object) -> str:
    """The text ``key`` in ``language`` (English when missing), formatted with ``values``.

    Examples
    --------
    >>> from evaluation.i18n import t
    >>> t("executive_summary", "ru")
    'Резюме'
    >>> print(t("suppressed_note", "en", k=5)[:52])
    “<5” and “–”: not shown, to protect respondents: the
    """
    entry = TEXTS[key]
    text = entry.get(language) or entry["en"]
    return text.format(**values) if values else text


def t_code(prefix: str, code: object, language: str = "en",
           default: str | None = "") -> str | None:
    """The word for a code (the text ``<prefix>_<code>``) in ``language``.

    Without such a text: ``default``, or the code itself when ``default`` is ``""``.

    Examples
    --------
    >>> from evaluation.i18n import t_code
    >>> t_code("lang", "ru", "ru"), t_code("lang", "xx", "ru"), t_code("lang", "xx", "ru", None)
    ('русский', 'xx', None)
    """
    key = f"{prefix}_{code}"
    if key in TEXTS:
        return t(key, language)
    return str(code) if default == "" else default


def fmt_number(value: float | None, digits: int = 2, language: str = "en") -> str:
    """Format a number; missing values as "–"; Russian with a decimal comma.

    Examples
    --------
    >>> from evaluation.i18n import fmt_number
    >>> fmt_number(0.456, 2, "ru"), fmt_number(-1.5, 1), fmt_number(None)
    ('0,46', '-1.5', '–')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:.{digits}f}"
    if language == "ru":
        text = text.replace(".", ",")
    return text


def fmt_percent(share: float | None, digits: int = 0, language: str = "en") -> str:
    """Format a share (0-1) as a percentage.

    Examples
    --------
    >>> from evaluation.i18n import fmt_percent
    >>> fmt_percent(0.705), fmt_percent(0.5, 1, "ru"), fmt_percent(float("nan"))
    ('70%', '50,0%', '–')
    """
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return fmt_number(100 * share, digits, language) + "%"


_MONTHS_RU = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
              "сентября", "октября", "ноября", "декабря"]


def fmt_date(day: dt.date | None, language: str = "en") -> str:
    """Format a date: ``21 May 2018`` or ``21 мая 2018 г.``.

    Examples
    --------
    >>> import datetime as dt
    >>> from evaluation.i18n import fmt_date
    >>> fmt_date(dt.date(2018, 5, 21)), fmt_date(dt.date(2018, 5, 21), "ru")
    ('21 May 2018', '21 мая 2018 г.')
    """
    if day is None:
        return "–"
    if language == "ru":
        return f"{day.day} {_MONTHS_RU[day.month - 1]} {day.year} г."
    return f"{day.day} {day.strftime('%B')} {day.year}"


def fmt_date_range(start: dt.date | None, end: dt.date | None, language: str = "en") -> str:
    """Format a date range compactly.

    Examples
    --------
    >>> import datetime as dt
    >>> from evaluation.i18n import fmt_date_range
    >>> fmt_date_range(dt.date(2018, 5, 21), dt.date(2018, 5, 22))
    '21–22 May 2018'
    >>> fmt_date_range(dt.date(2018, 5, 21), dt.date(2018, 5, 22), "ru")
    '21–22 мая 2018 г.'
    """
    if start is None:
        return "–"
    if end is None or end == start:
        return fmt_date(start, language)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{fmt_date(end, language)}"
    return f"{fmt_date(start, language)} – {fmt_date(end, language)}"


def column_label(column: str, language: str = "en") -> str:
    """The header of a report table column in ``language`` (the column id when unknown).

    Examples
    --------
    >>> from evaluation.i18n import column_label
    >>> column_label("mean_change", "ru"), column_label("n_pairs"), column_label("xyz", "ru")
    ('Изменение', 'Pairs', 'xyz')
    """
    entry = COLUMNS.get(str(column))
    if entry is None:
        return str(column)
    return entry.get(language) or entry["en"]


_PLAIN_NUMBER = re.compile(r"-?\d+\.\d+")


def localize_cell(value: object, language: str = "en", digits: int = 2) -> str:
    """A table cell as report text: numbers with ``digits`` decimals, decimal comma in Russian.

    Missing values become "–"; text is kept, except that in Russian decimal points inside
    numbers become commas and the English "of" in "65% (17 of 26)" becomes "из". Integers stay
    integers.

    Examples
    --------
    >>> from evaluation.i18n import localize_cell
    >>> localize_cell(3.456, "ru"), localize_cell("65% (17 of 26)", "ru"), localize_cell(None)
    ('3,46', '65% (17 из 26)', '–')
    >>> localize_cell("-0.05", "ru"), localize_cell(12), localize_cell("<5", "ru")
    ('-0,05', '12', '<5')
    """
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (hasattr(value, "dtype") and "int" in str(value.dtype)):
        return str(int(value))  # type: ignore[call-overload]
    if isinstance(value, float) or hasattr(value, "dtype"):
        number = float(value)  # type: ignore[arg-type]
        if math.isnan(number):
            return "–"
        if number.is_integer() and digits == 0:
            return str(int(number))
        return fmt_number(number, digits, language)
    text = str(value)
    if language == "ru":
        text = _PLAIN_NUMBER.sub(lambda m: m[0].replace(".", ","), text)
        text = re.sub(r"(\d) of (\d)", r"\1 из \2", text)
    return text
