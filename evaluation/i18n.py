"""Words of the reports in English and Russian, and number and date formatting per language.

Item texts, scale labels and choice labels come from the instrument; everything else a report
says comes from :data:`TEXTS`. Russian uses a decimal comma and day-month-year dates.
"""

from __future__ import annotations

import datetime as dt
import math

__all__ = ["LANGUAGES", "TEXTS", "t", "fmt_number", "fmt_percent", "fmt_date", "fmt_date_range"]

LANGUAGES = ("en", "ru")

TEXTS: dict[str, dict[str, str]] = {
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
    "annex_items": {"en": "Annex A. Item tables", "ru": "Приложение A. Таблицы по вопросам"},
    "annex_instrument": {"en": "Annex B. The instrument", "ru": "Приложение B. Инструмент"},
    "annex_ingest": {"en": "Annex C. Data processing and matching",
                     "ru": "Приложение C. Обработка данных и сопоставление"},
    "annex_provenance": {"en": "Annex D. Provenance", "ru": "Приложение D. Происхождение данных"},
    "pre": {"en": "Before", "ru": "До"},
    "post": {"en": "After", "ru": "После"},
    "followup": {"en": "Follow-up", "ru": "Последующий опрос"},
    "retro_wave": {"en": "Then (retrospective)", "ru": "Тогда (ретроспективно)"},
    "n": {"en": "n", "ru": "n"},
    "suppressed_note": {
        "en": "“–” and “<{k}”: suppressed because fewer than {k} respondents.",
        "ru": "«–» и «<{k}»: скрыто, так как ответивших меньше {k}.",
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
}


def t(key: str, language: str = "en", **values: object) -> str:
    """The text ``key`` in ``language`` (English when missing), formatted with ``values``.

    Examples
    --------
    >>> from evaluation.i18n import t
    >>> t("executive_summary", "ru")
    'Резюме'
    >>> t("suppressed_note", "en", k=5)
    '“–” and “<5”: suppressed because fewer than 5 respondents.'
    """
    entry = TEXTS[key]
    text = entry.get(language) or entry["en"]
    return text.format(**values) if values else text


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
