"""Export an instrument wave as an XLSForm for KoboToolbox and ODK.

The form has the three sheets of the XLSForm specification (``survey``, ``choices``,
``settings``); every labelled row carries ``label::English (en)`` and ``label::Russian (ru)``
(one column per language of the instrument); closed items are required; the code elements carry
constraints; and the workshop id is a hidden field (a ``calculate`` row with a constant), so every
submission says which workshop it belongs to.
"""

from __future__ import annotations

from pathlib import Path

from evaluation.instrument import FORM_WAVES, Instrument, Item
from evaluation.xlsx import write_workbook

__all__ = ["LANGUAGE_LABELS", "xlsform_sheets", "write_xlsform"]

#: XLSForm language column suffixes, as the ODK documentation spells them.
LANGUAGE_LABELS = {
    "en": "English (en)",
    "ru": "Russian (ru)",
    "kk": "Kazakh (kk)",
    "ky": "Kyrgyz (ky)",
    "tg": "Tajik (tg)",
    "uz": "Uzbek (uz)",
    "tk": "Turkmen (tk)",
}

_LETTER_CLASS = "A-Za-zА-ЯЁа-яёӘәҒғҚқҢңӨөҰұҮүҺһІіЎўҲҳҶҷӢӣӮӯ"
_CODE_CONSTRAINTS = {
    "letter": (
        "text",
        f"regex(., '^[{_LETTER_CLASS}]$')",
        {"en": "Please write one letter.", "ru": "Пожалуйста, укажите одну букву."},
    ),
    "day": (
        "integer",
        ". >= 1 and . <= 31",
        {"en": "A day of the month, 1 to 31.", "ru": "День месяца, от 1 до 31."},
    ),
    "month": (
        "integer",
        ". >= 1 and . <= 12",
        {"en": "A month, 1 to 12.", "ru": "Месяц, от 1 до 12."},
    ),
    "digit": (
        "integer",
        ". >= 0 and . <= 9",
        {"en": "A number from 0 to 9.", "ru": "Число от 0 до 9."},
    ),
}
_WAVE_TITLES = {
    "pre": {"en": "before the workshop", "ru": "до семинара"},
    "post": {"en": "after the workshop", "ru": "после семинара"},
    "followup": {"en": "follow-up", "ru": "последующий опрос"},
}


def _lang_col(kind: str, lang: str) -> str:
    return f"{kind}::{LANGUAGE_LABELS.get(lang, f'{lang} ({lang})')}"


def xlsform_sheets(
    instrument: Instrument, wave: str, workshop_id: str | None = None
) -> dict[str, list[list[object]]]:
    """Build the rows of the ``survey``, ``choices`` and ``settings`` sheets for one wave.

    Parameters
    ----------
    instrument : Instrument
        A validated instrument.
    wave : {"pre", "post", "followup"}
        The form to build. The post form also holds the retrospective ("thinking back")
        items as ``<id>_retro``.
    workshop_id : str, optional
        Written into the hidden ``workshop_id`` field; ``"unspecified"`` when not given.

    Returns
    -------
    dict
        Sheet name → list of rows, the first row being the header.

    Examples
    --------
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.xlsform import xlsform_sheets
    >>> sheets = xlsform_sheets(load_instrument(default_instrument_path()), "pre", "ws-1")
    >>> sheets["survey"][0][:4]
    ['type', 'name', 'label::English (en)', 'label::Russian (ru)']
    >>> [row[:2] for row in sheets["survey"] if row[1] == "workshop_id"]
    [['calculate', 'workshop_id']]
    """
    if wave not in FORM_WAVES:
        raise ValueError(f"wave must be one of {', '.join(FORM_WAVES)}, not {wave!r}")
    langs = instrument.languages
    header = (
        ["type", "name"]
        + [_lang_col("label", lg) for lg in langs]
        + [_lang_col("hint", lg) for lg in langs]
        + ["required", "constraint"]
        + [_lang_col("constraint_message", lg) for lg in langs]
        + ["calculation", "appearance"]
    )
    col = {name: i for i, name in enumerate(header)}

    def row(**values: object) -> list[object]:
        out: list[object] = [None] * len(header)
        for key, value in values.items():
            out[col[key]] = value
        return out

    def labelled(kind: str, texts: dict[str, str] | object) -> dict[str, object]:
        texts = dict(texts) if isinstance(texts, dict) or hasattr(texts, "items") else {}
        return {_lang_col(kind, lg): texts.get(lg) for lg in langs if texts.get(lg)}

    survey: list[list[object]] = [header]
    survey.append(row(type="start", name="start"))
    survey.append(row(type="end", name="end"))
    wid = workshop_id or "unspecified"
    survey.append(
        row(type="calculate", name="workshop_id", calculation=f"'{_xpath_quote(wid)}'")
    )
    survey.append(
        row(type="calculate", name="instrument_version",
            calculation=f"'{_xpath_quote(instrument.version)}'")
    )

    used_lists: list[str] = []
    for section in instrument.sections:
        if section.id == "retro":
            items = instrument.items_for_wave("retro") if wave == "post" else []
            names = {it.id: it.retro_id for it in items}
        else:
            items = [it for it in instrument.items_for_wave(wave) if it.section == section.id]
            names = {it.id: it.id for it in items}
        if not items:
            continue
        survey.append(
            _fill(row(type="begin_group", name=section.id), col, labelled("label", section.labels))
        )
        for item in items:
            survey.append(_item_row(item, names[item.id], row, col, labelled, instrument))
            if item.choices and item.choices not in used_lists:
                used_lists.append(item.choices)
        survey.append(row(type="end_group"))

    choices: list[list[object]] = [["list_name", "name"] + [_lang_col("label", lg) for lg in langs]]
    for list_id in used_lists:
        clist = instrument.choice_lists[list_id]
        for choice in clist.all_choices:
            choices.append([list_id, choice.code] + [choice.labels.get(lg) for lg in langs])

    title = " / ".join(
        f"{instrument.title.get(lg, instrument.id)} ({_WAVE_TITLES[wave].get(lg, wave)})"
        for lg in langs[:1]
    )
    settings = [
        ["form_title", "form_id", "version", "default_language"],
        [
            title,
            f"{instrument.id}_{wave}".replace(".", "_"),
            instrument.version,
            LANGUAGE_LABELS.get(instrument.default_language, instrument.default_language),
        ],
    ]
    return {"survey": survey, "choices": choices, "settings": settings}


def _fill(values: list[object], col: dict[str, int], extra: dict[str, object]) -> list[object]:
    for key, value in extra.items():
        values[col[key]] = value
    return values


def _xpath_quote(value: str) -> str:
    return value.replace("'", "")


def _item_row(item: Item, name: str, row, col, labelled, instrument: Instrument) -> list[object]:
    required = "yes" if item.required else None
    constraint = None
    messages: dict[str, str] = {}
    if item.type in ("likert", "single_choice", "knowledge"):
        xls_type = f"select_one {item.choices}"
    elif item.type == "multiple_choice":
        xls_type = f"select_multiple {item.choices}"
    elif item.type == "number":
        xls_type = "integer"
        parts = []
        if item.min is not None:
            parts.append(f". >= {item.min:g}")
        if item.max is not None:
            parts.append(f". <= {item.max:g}")
        constraint = " and ".join(parts) or None
        if constraint:
            lo = f"{item.min:g}" if item.min is not None else "…"
            hi = f"{item.max:g}" if item.max is not None else "…"
            messages = {"en": f"A number from {lo} to {hi}.", "ru": f"Число от {lo} до {hi}."}
    elif item.type == "code":
        xls_type, constraint, messages = _CODE_CONSTRAINTS[item.element or "letter"]
    else:
        xls_type = "text"
    values = row(type=xls_type, name=name, required=required, constraint=constraint)
    _fill(values, col, labelled("label", item.text))
    _fill(values, col, labelled("hint", item.hint))
    if constraint:
        _fill(values, col, labelled("constraint_message", messages))
    if item.type == "likert" and instrument.choice_lists[item.choices].ordered:
        values[col["appearance"]] = "likert"
    return values


def write_xlsform(
    instrument: Instrument, wave: str, out: str | Path, workshop_id: str | None = None
) -> Path:
    """Write the XLSForm of one wave to ``out`` (``.xlsx``).

    The file is written deterministically (fixed timestamps), so the same instrument and
    workshop id always give the same bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.xlsform import write_xlsform
    >>> inst = load_instrument(default_instrument_path())
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_xlsform(inst, "post", pathlib.Path(tmp) / "post.xlsx", "ws-1")
    ...     path.stat().st_size > 0
    True
    """
    sheets = xlsform_sheets(instrument, wave, workshop_id)
    return write_workbook(sheets, Path(out))
