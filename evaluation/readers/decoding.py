"""Decode survey exports into tables of strings, recording every choice made.

The job of this module ends where the instrument begins: it turns the bytes of an export
(CSV, TSV, Excel "Unicode text" or XLSX) into a :class:`RawTable` whose cells are all strings
or ``None``, together with the encoding, the dialect and the reasons for choosing them, the
warnings raised on the way, and an exact account of every physical row. No statistical
detector decides anything silently (R-IN-02):

1. a byte-order mark decides (UTF-8, UTF-16LE/BE, UTF-32LE/BE);
2. otherwise a strict UTF-8 decode that succeeds decides;
3. otherwise the configured legacy code page (``cp1251`` by default, ``kz1048`` possible) is
   used if the result passes plausibility checks (no control characters, Cyrillic letters where
   non-ASCII letters occur, no mojibake patterns);
4. otherwise :class:`~evaluation.errors.EncodingProblem` is raised with advice.

Letters that a legacy code page cannot hold (Kazakh, Kyrgyz, Tajik, Uzbek, Turkmen) and ``?``
inside Cyrillic words raise the warning ``possible_irrecoverable_encoding_loss`` (R-IN-03).

Row numbers are 1-based record numbers as a spreadsheet shows them, header rows included; a
quoted CSV field that spans several lines is one record. Nothing in a warning or error message
quotes a cell value; header names (question labels) may be quoted.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import functools
import hashlib
import io
import math
import posixpath
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from evaluation.errors import DialectError, EncodingProblem, InputFileError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_COLUMNS",
    "DELIMITER_CANDIDATES",
    "DecodedText",
    "Dialect",
    "RawTable",
    "ReadWarning",
    "decode_bytes",
    "fold_for_matching",
    "normalize_cell",
    "parse_excel_serial_date",
    "parse_number",
    "read_table",
    "sniff_dialect",
]

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
"""Default size limit of an export file (200 MB)."""

DEFAULT_MAX_COLUMNS = 5_000
"""Default limit on the number of columns of an export."""

DELIMITER_CANDIDATES: tuple[str, ...] = (";", ",", "\t", "|")
"""Delimiters considered by :func:`sniff_dialect`, in tie-break order."""

CONSISTENCY_THRESHOLD = 0.95
"""Share of non-empty rows that must have the header's field count (R-IN-04)."""

DELIMITED_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")

# Characters that a legacy code page may be unable to hold, per questionnaire language.
LANGUAGE_LETTERS: dict[str, str] = {
    "kk": "әғқңөұүһі",
    "ky": "ңөү",
    "tg": "ғӣқӯҳҷ",
    "uz": "ўқғҳ",
    "tk": "çäňöşüýž",
}

_CYRILLIC_CODEPAGES = {
    "cp1251",
    "kz1048",
    "koi8_r",
    "koi8_u",
    "cp866",
    "mac_cyrillic",
    "iso8859_5",
    "ptcp154",
}

# Cyrillic letters of Serbian, Macedonian and Ukrainian: rare in Russian and Central Asian text,
# typical of Kazakh kz1048 bytes read as cp1251.
_FOREIGN_CYRILLIC = set("ЂђЃѓЉљЊњЌќЋћЏџЈјЅѕЇїЄєҐґ")

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16BE"),
)

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# A character that neither ``str.strip`` nor the removal of _ZERO_WIDTH takes away.
_VISIBLE = re.compile("[^\\s\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Whitespace other than a single space, control characters and invisible characters.
_NEEDS_WORK = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00a0\u00ad\u1680\u180e\u2000-\u200d\u2028-\u202f"
    "\u205f\u2060\u3000\ufeff]|  "
)
# Control characters that are not whitespace (category Cc minus str.isspace()).
_NON_SPACE_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
# Control characters not allowed in a text export (besides NUL, counted apart).
_BAD_CONTROLS = re.compile("[\x01-\x08\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85\x0b\x0c]")
_CYR = "\u0400-\u052f"
_WORD = re.compile(r"[^\W\d_]+")
_QMARK_IN_WORD = re.compile(rf"(?<=[{_CYR}])\?+(?=[{_CYR}])|(?<![\w?])\?+(?=[{_CYR}]{{2,}})")
_TYPOGRAPHIC = set("«»–—…№„“”‘’•°±§©®™€\u00a0\u202f\u2009\u00b7\u00b6\u00a4\u00a6\u00ac")


@dataclass(frozen=True)
class ReadWarning:
    """A non-blocking problem found while reading, for the ingest report.

    Attributes
    ----------
    code : str
        Stable machine-readable code, e.g. ``"possible_irrecoverable_encoding_loss"``.
    message : str
        One sentence for the evaluator; never contains a cell value.

    Examples
    --------
    >>> ReadWarning("duplicate_headers", "Header 'q1' occurs twice.").code
    'duplicate_headers'
    """

    code: str
    message: str


@dataclass(frozen=True)
class DecodedText:
    """Result of :func:`decode_bytes`.

    Attributes
    ----------
    text : str
        The decoded text, without byte-order mark.
    encoding : str
        Python codec name used (``"utf-8"``, ``"utf-16-le"``, ``"cp1251"`` ...).
    reason : str
        Why this encoding was chosen, for the ingest report.
    warnings : list of ReadWarning
        Non-blocking problems, e.g. possible letters lost before the file reached us.
    """

    text: str
    encoding: str
    reason: str
    warnings: list[ReadWarning] = field(default_factory=list)


@dataclass(frozen=True)
class Dialect:
    """CSV dialect chosen by :func:`sniff_dialect`.

    Attributes
    ----------
    delimiter : str
        One of ``; , \\t |``.
    quotechar : str
        Always ``'"'`` (RFC 4180 and every survey tool we read).
    reason : str
        Why this delimiter was chosen.
    decimal : str
        Decimal separator to use for numbers of this file (``","`` after ``;``).
    """

    delimiter: str
    quotechar: str
    reason: str
    decimal: str


@dataclass
class RawTable:
    """A survey export as a table of strings, with the account of how it was read.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per data row; every value is a ``str`` or ``None`` (empty cell); columns are
        the normalised header strings, made unique (see ``warnings``).
    source_rows : list of int
        1-based row number in the file for each row of ``frame`` (header rows count).
    encoding, encoding_reason : str
        The text encoding and why it was chosen (``"xlsx"`` for workbooks).
    dialect : Dialect or None
        The CSV dialect, or ``None`` for a workbook.
    warnings : list of ReadWarning
        Everything noteworthy, by code.
    sha256 : str
        SHA-256 of the file bytes.
    header_rows : int
        Number of header rows joined into the column names.
    blank_rows : int
        Fully empty rows after the header, dropped but counted.
    malformed_rows : list of (int, str)
        Rows with a wrong field count: row number and reason (no cell values).
    records_after_header : int
        Physical records after the header; always equals
        ``len(frame) + blank_rows + len(malformed_rows)``.
    original_headers : list of str
        Header strings as found (after normalisation, before being made unique).
    file : Path
        The file read.
    sheet : str or None
        The worksheet read, for workbooks.
    epoch1904 : bool
        True when the workbook uses the 1904 date system (matters for serial numbers that are
        not formatted as dates; see :func:`parse_excel_serial_date`).
    """

    frame: pd.DataFrame
    source_rows: list[int]
    encoding: str
    encoding_reason: str
    dialect: Dialect | None
    warnings: list[ReadWarning]
    sha256: str
    header_rows: int
    blank_rows: int
    malformed_rows: list[tuple[int, str]]
    records_after_header: int
    original_headers: list[str]
    file: Path
    sheet: str | None = None
    epoch1904: bool = False

    @property
    def decimal(self) -> str:
        """Decimal separator of numbers in ``frame`` (``"."`` for workbooks)."""
        return self.dialect.decimal if self.dialect is not None else "."

    @property
    def accounting_holds(self) -> bool:
        """True when data rows + blank rows + malformed rows = records after the header."""
        return len(self.frame) + self.blank_rows + len(
            self.malformed_rows
        ) == self.records_after_header and len(self.source_rows) == len(self.frame)


# --------------------------------------------------------------------------------------------
# Value helpers
# --------------------------------------------------------------------------------------------


def normalize_cell(s: object) -> str:
    """Normalise one cell or header string.

    Unicode NFC; zero-width characters, soft hyphens and BOMs removed; whitespace (including
    NBSP and narrow NBSP) stripped at both ends and collapsed to one space inside a line; line
    breaks kept as ``"\\n"``; other control characters removed. ``None`` gives ``""``.

    Parameters
    ----------
    s : object
        The value; non-strings are converted with ``str``.

    Returns
    -------
    str

    Examples
    --------
    >>> normalize_cell("\\ufeff  Полностью\\u00a0\\u00a0согласен\\u200b ")
    'Полностью согласен'
    >>> normalize_cell("e\\u0301")  # combining accent composed (NFC)
    'é'
    >>> normalize_cell(None)
    ''
    """
    if s is None or s == "":
        return ""
    text = str(s)
    if (
        text[0] != " "
        and text[-1] != " "
        and not _NEEDS_WORK.search(text)
        and unicodedata.is_normalized("NFC", text)
    ):
        return text  # fast path: nothing to change
    text = text.translate(_ZERO_WIDTH)
    text = unicodedata.normalize("NFC", text)
    text = _LINE_BREAKS.sub("\n", text)
    text = _NON_SPACE_CONTROLS.sub("", text)
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()


_LAT_TO_CYR = str.maketrans("abcehikmoptxyə", "авсенікмортхуә")
_CYR_TO_LAT = str.maketrans("авсенікмортхуә", "abcehikmoptxyə")
_LOOKALIKE_LAT = set("abcehikmoptxyə")
_LOOKALIKE_CYR = set("авсенікмортхуә")


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u052f"


def _fold_word(match: re.Match[str]) -> str:
    word = match.group(0)
    cyr = sum(1 for ch in word if _is_cyrillic(ch))
    lat = sum(1 for ch in word if ch.isascii() or ch == "ə")
    if not cyr or not lat:
        return word
    cyr_strong = sum(1 for ch in word if _is_cyrillic(ch) and ch not in _LOOKALIKE_CYR)
    lat_strong = sum(1 for ch in word if ch.isascii() and ch not in _LOOKALIKE_LAT)
    if (cyr_strong, cyr) >= (lat_strong, lat):
        return word.translate(_LAT_TO_CYR)
    return word.translate(_CYR_TO_LAT)


def fold_for_matching(s: object) -> str:
    """Fold a string for matching labels and headers; never store the result.

    Applies :func:`normalize_cell`, casefolds, maps ``ё`` to ``е`` and, inside words that mix
    scripts, maps Latin look-alike letters (a, b, c, e, h, i, k, m, o, p, t, x, y, ə) to their
    Cyrillic counterparts in mostly-Cyrillic words, and the reverse in mostly-Latin words.

    Parameters
    ----------
    s : object
        The value to fold.

    Returns
    -------
    str

    Examples
    --------
    >>> fold_for_matching("Cогласен") == fold_for_matching("согласен")  # Latin C
    True
    >>> fold_for_matching("Ещё  раз")
    'еще раз'
    >>> fold_for_matching("Hеllo")  # Cyrillic е inside a Latin word
    'hello'
    """
    if type(s) is str:
        return _fold_text(s)
    return _fold(normalize_cell(s))


def _fold(text: str) -> str:
    text = text.casefold().replace("ё", "е")
    return _WORD.sub(_fold_word, text)


@functools.lru_cache(maxsize=1 << 16)
def _fold_text(s: str) -> str:
    """:func:`fold_for_matching` of a string, memoised (a pure function of ``s``)."""
    return _fold(normalize_cell(s))


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?", re.IGNORECASE)
_GROUPED = re.compile(r"\d{1,3}(?: \d{3})+")
_THOUSANDS_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})


def parse_number(s: object, decimal: str = ",") -> float | None:
    """Parse a number written the way survey respondents and exports write it.

    Spaces, NBSP (U+00A0), narrow NBSP (U+202F) and thin spaces are thousands separators when
    they group digits by three (``"1 234,5"``). With ``decimal=","`` a lone ``"."`` is also read
    as the decimal point (Russian-locale users type both); with ``decimal="."`` a comma is not
    accepted, because it could be a thousands separator. The Unicode minus sign is accepted.

    Parameters
    ----------
    s : object
        A string (or a number, returned as float).
    decimal : {",", "."}
        Decimal separator of the file (see :class:`Dialect`).

    Returns
    -------
    float or None
        ``None`` when the value is empty or not a number; never raises for bad input.

    Examples
    --------
    >>> parse_number("1 234,5")
    1234.5
    >>> parse_number("\\u2212 3,25")
    -3.25
    >>> parse_number("3.5", decimal=".")
    3.5
    >>> parse_number("4 – скорее согласен") is None
    True
    >>> parse_number("12 34") is None  # not grouped by three
    True
    """
    if decimal not in (",", "."):
        raise ValueError("decimal must be ',' or '.'")
    if isinstance(s, bool) or s is None:
        return None
    if isinstance(s, int | float):
        value = float(s)
        return value if math.isfinite(value) else None
    text = normalize_cell(s).translate(_THOUSANDS_SPACES).replace("\u2212", "-")
    if not text:
        return None
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:].lstrip(" ")
    if decimal == ",":
        if text.count(",") > 1 or ("," in text and "." in text):
            return None
        text = text.replace(",", ".")
    if " " in text:
        mantissa, _, rest = text.partition(".")
        if not _GROUPED.fullmatch(mantissa):
            return None
        text = mantissa.replace(" ", "") + ("." + rest if _ else "")
    text = sign + text
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


_EXCEL_ORIGIN = _dt.datetime(1899, 12, 30)
_EXCEL_ORIGIN_1904 = _dt.datetime(1904, 1, 1)


def parse_excel_serial_date(x: object, epoch1904: bool = False) -> _dt.date | _dt.datetime | None:
    """Convert an Excel serial day number to a date (R-IN-09).

    The 1900 system counts from 1899-12-30, which absorbs Excel's fictitious 29 February 1900;
    the 1904 system (some Mac workbooks) counts from 1904-01-01. Only serials between 20000 and
    80000 (1954 to 2119 in the 1900 system) are converted, so that scores and counts are never
    mistaken for dates.

    Parameters
    ----------
    x : object
        A number or a numeric string (decimal comma or point).
    epoch1904 : bool
        True for workbooks in the 1904 date system (see :attr:`RawTable.epoch1904`).

    Returns
    -------
    datetime.date or datetime.datetime or None
        A ``date`` for whole serials, a ``datetime`` when there is a time part, ``None`` when
        ``x`` is not a number in the accepted range.

    Examples
    --------
    >>> parse_excel_serial_date(45366)
    datetime.date(2024, 3, 15)
    >>> parse_excel_serial_date("45366,5")
    datetime.datetime(2024, 3, 15, 12, 0)
    >>> parse_excel_serial_date(43904, epoch1904=True)
    datetime.date(2024, 3, 15)
    >>> parse_excel_serial_date(5) is None
    True
    """
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, int | float):
        value: float | None = float(x)
    else:
        text = normalize_cell(x)
        value = parse_number(text, decimal=",") if "," in text else parse_number(text, ".")
    if value is None or not math.isfinite(value) or not 20000 <= value <= 80000:
        return None
    origin = _EXCEL_ORIGIN_1904 if epoch1904 else _EXCEL_ORIGIN
    days = math.floor(value)
    seconds = round((value - days) * 86400)
    moment = origin + _dt.timedelta(days=days, seconds=seconds)
    if seconds == 0:
        return moment.date()
    return moment


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


def _control_count(text: str) -> tuple[int, int]:
    """Return (NUL count, count of other disallowed control characters)."""
    return text.count("\x00"), len(_BAD_CONTROLS.findall(text))


def _check_binary(text: str, file: str | Path, encoding_label: str) -> list[ReadWarning]:
    nul, other = _control_count(text)
    if nul or other > max(10, len(text) // 100):
        raise EncodingProblem(
            file,
            f"the file decoded as {encoding_label} contains {nul + other} control characters "
            "(NUL or similar), so it is binary data rather than a text export; export the "
            "survey again as XLSX or CSV UTF-8.",
        )
    if other:
        return [
            ReadWarning(
                "control_characters",
                f"The file contains {other} control character(s); they are removed from cells.",
            )
        ]
    return []


def _qmark_in_words(text: str) -> int:
    if "?" not in text:
        return 0
    return len(_QMARK_IN_WORD.findall(text))


def _lost_letter_warnings(
    text: str, encoding: str, languages: Sequence[str], legacy_used: bool
) -> list[ReadWarning]:
    warnings: list[ReadWarning] = []
    if legacy_used:
        missing: list[str] = []
        for lang in languages:
            base = lang.lower().split("-")[0].split("_")[0]
            letters = LANGUAGE_LETTERS.get(base, "")
            lost = []
            for ch in letters:
                try:
                    ch.encode(encoding)
                except UnicodeEncodeError:
                    lost.append(ch)
            if lost:
                missing.append(f"{base} ({' '.join(lost)})")
        if missing:
            warnings.append(
                ReadWarning(
                    "possible_irrecoverable_encoding_loss",
                    f"The file is in {encoding}, which cannot hold letters of "
                    f"{', '.join(missing)}, so answers may have lost letters before export; "
                    "re-export the survey as XLSX (or CSV UTF-8).",
                )
            )
    count = _qmark_in_words(text)
    if count:
        warnings.append(
            ReadWarning(
                "possible_irrecoverable_encoding_loss",
                f"'?' appears inside Cyrillic words {count} time(s), the mark of letters lost "
                "when the file was saved in a code page that lacks them; re-export the survey "
                "as XLSX (or CSV UTF-8).",
            )
        )
    return warnings


_CYR_CHAR = re.compile(f"[{_CYR}]")
_OTHER_NON_ASCII = re.compile(f"[^\x00-\x7f{_CYR}]")
_FOREIGN_RE = re.compile("[" + "".join(sorted(_FOREIGN_CYRILLIC)) + "]")
_CYR_WORD = re.compile(rf"[^\W\d_]*[{_CYR}][^\W\d_]*")
_ASCII_LETTER = re.compile("[A-Za-z]")
_FLIP = re.compile("[a-zа-яё][A-ZА-ЯЁ]")
_INVERTED = re.compile("[а-яё][А-ЯЁ]{2,}$")


def _implausible_cyrillic(text: str) -> str | None:
    """Return why ``text`` does not look like correctly decoded Cyrillic text, or None."""
    n_cyr = len(_CYR_CHAR.findall(text))
    n_other = sum(1 for ch in _OTHER_NON_ASCII.findall(text) if ch.isalpha())
    if n_cyr + n_other:
        share = n_cyr / (n_cyr + n_other)
        if share < 0.9:
            return f"only {share:.0%} of non-ASCII letters are Cyrillic"
    foreign = len(_FOREIGN_RE.findall(text))
    if foreign >= 3 and foreign > 0.02 * n_cyr:
        return (
            f"{foreign} letters of Serbian, Macedonian or Ukrainian appear, typical of Kazakh "
            "kz1048 text read with another code page"
        )
    words = _CYR_WORD.findall(text)
    if words:
        latin_led = sum(
            1
            for w in words
            if _ASCII_LETTER.search(w) and len(_ASCII_LETTER.findall(w)) > len(_CYR_CHAR.findall(w))
        )
        if latin_led / len(words) >= 0.5:
            return "Cyrillic letters appear mostly inside Latin words (a Western code page?)"
        long_words = [w for w in words if len(w) >= 3]
        flips = sum(1 for w in long_words if _FLIP.search(w))
        if flips >= 2 and flips > 0.25 * len(long_words):
            return "many words switch from lower to upper case inside (KOI8-R or Mac Cyrillic?)"
        # KOI8-R read as cp1251 swaps the case of every letter: lower-case text turns into
        # capitals and capitalised words into "пРИМЕР"; genuine text has almost no such words.
        inverted = sum(1 for w in long_words if _INVERTED.match(w))
        capitals = sum(1 for w in long_words if w.isupper())
        if inverted >= 3 and inverted + capitals >= 0.6 * len(long_words):
            return "most words are in capitals and several start with a small letter "\
                "(KOI8-R read as another code page?)"
    return None


def decode_bytes(
    data: bytes,
    file: str | Path,
    legacy_encoding: str = "cp1251",
    languages: Sequence[str] = ("ru",),
    encoding: str | None = None,
) -> DecodedText:
    """Decode the bytes of a text export with a deterministic cascade (R-IN-02, R-IN-03).

    Parameters
    ----------
    data : bytes
        The file content.
    file : str or Path
        The file name, for messages.
    legacy_encoding : str
        Code page tried when the bytes are not UTF-8 (``"cp1251"`` or ``"kz1048"``).
    languages : sequence of str
        Questionnaire languages (``"ru"``, ``"kk"``, ``"ky"``, ``"tg"``, ``"uz"``, ``"tk"``,
        ``"en"``); used to warn about letters a legacy code page cannot hold.
    encoding : str, optional
        User override: decode strictly with this codec and skip the cascade.

    Returns
    -------
    DecodedText

    Raises
    ------
    EncodingProblem
        When no step of the cascade gives plausible text, or the bytes are binary.

    Examples
    --------
    >>> d = decode_bytes("ID;Ответ\\n1;Да\\n".encode("utf-8"), "pre.csv")
    >>> d.encoding, d.text.splitlines()[0]
    ('utf-8', 'ID;Ответ')
    >>> d = decode_bytes("ID;Ответ\\n1;Да\\n".encode("cp1251"), "pre.csv")
    >>> d.encoding, [w.code for w in d.warnings]
    ('cp1251', ['legacy_encoding_used'])
    """
    data = bytes(data)
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise EncodingProblem(
                file, f"the encoding {encoding!r} set in the configuration is unknown."
            ) from None
        if codec == "utf-8":
            codec = "utf-8-sig"
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            raise EncodingProblem(
                file,
                f"the bytes are not valid {encoding} (first invalid byte at offset "
                f"{exc.start}), although the configuration says so; remove the encoding "
                "override or re-export the survey as XLSX or CSV UTF-8.",
            ) from None
        text = text.removeprefix("\ufeff")
        warnings = _check_binary(text, file, encoding)
        legacy = not codec.startswith("utf")
        warnings += _lost_letter_warnings(text, codec, languages, legacy)
        return DecodedText(text, codec, "set by the user in the configuration", warnings)

    try:
        legacy_codec = codecs.lookup(legacy_encoding).name
    except LookupError:
        raise EncodingProblem(
            file, f"the legacy encoding {legacy_encoding!r} set in the configuration is unknown."
        ) from None

    # 1. Byte-order mark.
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise EncodingProblem(
                    file,
                    f"the file starts with a {label} byte-order mark but byte "
                    f"{exc.start + len(bom)} is not valid {label}; the file is damaged or "
                    "mislabelled, so export the survey again as XLSX or CSV UTF-8.",
                ) from None
            warnings = _check_binary(text, file, label)
            warnings += _lost_letter_warnings(text, codec, languages, legacy_used=False)
            return DecodedText(text, codec, f"{label} byte-order mark", warnings)

    # Binary signatures that are not text at all.
    if b"\x00" in data:
        half = len(data) // 2
        odd_nul = data[1::2].count(0)
        hint = (
            " (it looks like UTF-16 without a byte-order mark; save it again as CSV UTF-8)"
            if half and odd_nul > 0.3 * half and data[0::2].count(0) < 0.05 * half
            else ""
        )
        raise EncodingProblem(
            file,
            f"the file contains NUL bytes and no byte-order mark, so it is not a text export"
            f"{hint}; export the survey again as XLSX or CSV UTF-8.",
        )

    # 2. Strict UTF-8.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    else:
        warnings = _check_binary(text, file, "UTF-8")
        warnings += _lost_letter_warnings(text, "utf-8", languages, legacy_used=False)
        reason = (
            "no byte-order mark; the bytes are plain ASCII (valid UTF-8)"
            if text.isascii()
            else "no byte-order mark; strict UTF-8 decoding succeeded"
        )
        return DecodedText(text, "utf-8", reason, warnings)

    # 3. The configured legacy code page, validated.
    advice = (
        "re-export the survey as XLSX or CSV UTF-8, or set the legacy encoding (for example "
        "kz1048) in workshop.yaml."
    )
    try:
        text = data.decode(legacy_codec)
    except UnicodeDecodeError as exc:
        raise EncodingProblem(
            file,
            f"the bytes are not valid UTF-8 (offset {first_bad}) and not valid {legacy_codec} "
            f"either (offset {exc.start}); {advice}",
        ) from None
    nul, other = _control_count(text)
    if nul or other:
        raise EncodingProblem(
            file,
            f"the bytes are not valid UTF-8 (offset {first_bad}) and decoding them as "
            f"{legacy_codec} gives {nul + other} control characters, so the file is binary or "
            f"in another encoding; {advice}",
        )
    checks = "no control characters"
    if legacy_codec in _CYRILLIC_CODEPAGES:
        problem = _implausible_cyrillic(text)
        if problem is not None:
            raise EncodingProblem(
                file,
                f"the bytes are not valid UTF-8 (offset {first_bad}) and decoding them as "
                f"{legacy_codec} gives implausible text ({problem}); {advice}",
            )
        checks += ", Cyrillic letters plausible, no mojibake patterns"
    warnings = [
        ReadWarning(
            "legacy_encoding_used",
            f"The file is in the legacy code page {legacy_codec}; prefer XLSX or CSV UTF-8 "
            "exports, which keep every letter.",
        )
    ]
    warnings += _lost_letter_warnings(text, legacy_codec, languages, legacy_used=True)
    reason = (
        f"not valid UTF-8 (first invalid byte at offset {first_bad}); decoded with the "
        f"configured legacy code page {legacy_codec} and validated ({checks})"
    )
    return DecodedText(text, legacy_codec, reason, warnings)


# --------------------------------------------------------------------------------------------
# Dialect
# --------------------------------------------------------------------------------------------

_DELIM_LABEL = {";": "';'", ",": "','", "\t": "tab", "|": "'|'"}
_SNIFF_CHARS = 2_000_000


def _parse_records(text: str, delimiter: str, file: str | Path) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
    except csv.Error:
        raise DialectError(
            file,
            "a quoted field is not closed or is longer than the CSV field limit, so the rows "
            "cannot be separated; check the quotes in that row or export as XLSX.",
            row=len(records) + 1,
        ) from None
    return records


def _is_blank(record: Sequence[str]) -> bool:
    for value in record:
        if normalize_cell(value):
            return False
    return True


def _row_fits(record: Sequence[str], n: int) -> tuple[bool, bool]:
    """Return (fits, padded): padded means extra trailing fields are all empty."""
    if len(record) == n:
        return True, False
    if len(record) > n and all(not normalize_cell(v) for v in record[n:]):
        return True, True
    return False, False


@dataclass
class _Candidate:
    delimiter: str
    header_fields: int
    rows: int
    fitting: int
    first_bad: tuple[int, int] | None  # (row number, field count)

    @property
    def share(self) -> float:
        return self.fitting / self.rows if self.rows else 1.0


def _score(records: list[list[str]], delimiter: str, header_rows: int = 1) -> _Candidate | None:
    start = next((i for i, r in enumerate(records) if not _is_blank(r)), None)
    if start is None:
        return None
    header = records[start : start + header_rows]
    n = max(len(r) for r in header)
    rows = fitting = 0
    first_bad = None
    for i in range(start + header_rows, len(records)):
        rec = records[i]
        if _is_blank(rec):
            continue
        rows += 1
        if _row_fits(rec, n)[0]:
            fitting += 1
        elif first_bad is None:
            first_bad = (i + 1, len(rec))
    return _Candidate(delimiter, n, rows, fitting, first_bad)


def _sample(text: str) -> tuple[str, bool]:
    if len(text) <= _SNIFF_CHARS:
        return text, False
    cut = text.rfind("\n", 0, _SNIFF_CHARS)
    return text[: cut if cut > 0 else _SNIFF_CHARS], True


_COMMA_DEC = re.compile(r"[+-]?\d+,\d+")
_POINT_DEC = re.compile(r"[+-]?\d+\.\d+")


def _decimal_for(delimiter: str, records: list[list[str]]) -> tuple[str, str]:
    if delimiter == ";":
        return ",", "decimal comma assumed after ';' (R-IN-04)"
    if delimiter == ",":
        return ".", "decimal point assumed after ','"
    comma = point = 0
    for rec in records[1:]:
        for value in rec:
            value = value.strip()
            if _COMMA_DEC.fullmatch(value):
                comma += 1
            elif _POINT_DEC.fullmatch(value):
                point += 1
    if comma > point:
        return ",", f"decimal comma: {comma} values like 3,5 against {point} like 3.5"
    return ".", f"decimal point: {point} values like 3.5 against {comma} like 3,5"


def _sniffer_choice(sample: str, tied: list[str]) -> str | None:
    try:
        found = csv.Sniffer().sniff(sample[:65536], delimiters="".join(tied)).delimiter
    except (csv.Error, ValueError, TypeError):
        return None
    return found if found in tied else None


def sniff_dialect(text: str, file: str | Path, header_rows: int = 1) -> Dialect:
    """Choose the delimiter of a delimited text export, deterministically (R-IN-04).

    Each candidate of ``; , \\t |`` splits the text (with ``"`` quoting); a candidate is
    consistent when at least 95% of the non-empty rows after the header have the header's
    field count (extra trailing empty fields are tolerated). A candidate that leaves the
    header in one piece is dropped when another splits it. Among consistent candidates the
    one giving the most header fields wins; ties go to the share of fitting rows, then to
    ``csv.Sniffer`` restricted to the tied candidates, then to the order ``; , \\t |``.

    Parameters
    ----------
    text : str
        Decoded text (see :func:`decode_bytes`); the first 2 million characters are examined.
    file : str or Path
        File name for messages.
    header_rows : int
        Number of header rows.

    Returns
    -------
    Dialect

    Raises
    ------
    DialectError
        When the text is empty or no candidate is consistent (names the first row that does
        not fit under the most consistent candidate).

    Examples
    --------
    >>> d = sniff_dialect("ID;Балл;Страна\\n1;3,5;KZ\\n2;4,0;UZ\\n", "pre.csv")
    >>> d.delimiter, d.decimal
    (';', ',')
    >>> sniff_dialect("id,score\\n1,3.5\\n", "post.csv").delimiter
    ','
    """
    sample, truncated = _sample(text)
    candidates: list[_Candidate] = []
    for delim in DELIMITER_CANDIDATES:
        try:
            records = _parse_records(sample, delim, file)
        except DialectError:
            continue
        if truncated and len(records) > 1:
            records = records[:-1]
        cand = _score(records, delim, header_rows)
        if cand is not None:
            candidates.append(cand)
    if not candidates:
        raise DialectError(file, "the file has no non-empty row, so there is no header to read.")
    if any(c.header_fields > 1 for c in candidates):
        # The header splits into fields: reading the file as one column is not an option.
        candidates = [c for c in candidates if c.header_fields > 1]
    consistent = [c for c in candidates if c.share >= CONSISTENCY_THRESHOLD]
    if not consistent:
        best = max(candidates, key=lambda c: (c.share, c.header_fields))
        assert best.first_bad is not None
        row, got = best.first_bad
        raise DialectError(
            file,
            f"no delimiter among ';', ',', tab and '|' gives the header's field count in at "
            f"least 95% of rows; with {_DELIM_LABEL[best.delimiter]} the header has "
            f"{best.header_fields} fields but this row has {got} (only {best.share:.0%} of rows "
            "fit), so fix the rows or re-export the file.",
            row=row,
        )
    top = max(c.header_fields for c in consistent)
    tied = [c for c in consistent if c.header_fields == top]
    top_share = max(c.share for c in tied)
    tied = [c for c in tied if c.share == top_share]
    chosen = tied[0]
    how = "the only consistent candidate with that many fields"
    if len(tied) > 1:
        pick = _sniffer_choice(sample, [c.delimiter for c in tied])
        if pick is not None:
            chosen = next(c for c in tied if c.delimiter == pick)
            how = "tie broken by csv.Sniffer"
        else:
            how = "tie broken by the fixed order ; , tab |"
    label = _DELIM_LABEL[chosen.delimiter]
    others = ", ".join(
        f"{_DELIM_LABEL[c.delimiter]} {c.header_fields} field(s) in {c.share:.0%} of rows"
        for c in candidates
        if c is not chosen
    )
    if top == 1:
        reason = f"every candidate gives one field per row; {label} used ({how})"
    else:
        reason = (
            f"{label} gives {chosen.header_fields} header fields and fits {chosen.fitting} of "
            f"{chosen.rows} non-empty rows ({how})"
        )
    if others:
        reason += f"; others: {others}"
    records = _parse_records(sample, chosen.delimiter, file)
    decimal, why = _decimal_for(chosen.delimiter, records)
    return Dialect(chosen.delimiter, '"', f"{reason}; {why}", decimal)


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def _unique_headers(headers: list[str]) -> tuple[list[str], list[ReadWarning]]:
    warnings: list[ReadWarning] = []
    named = []
    empty_cols = []
    for j, h in enumerate(headers, start=1):
        if h:
            named.append(h)
        else:
            named.append(f"unnamed_{j}")
            empty_cols.append(j)
    if empty_cols:
        shown = ", ".join(map(str, empty_cols[:20])) + (" ..." if len(empty_cols) > 20 else "")
        warnings.append(
            ReadWarning(
                "empty_headers",
                f"{len(empty_cols)} column(s) have no header (positions {shown}) and are named "
                "unnamed_<position>.",
            )
        )
    used = set(named)
    seen: Counter[str] = Counter()
    result = []
    dupes: dict[str, list[int]] = {}
    for j, h in enumerate(named, start=1):
        seen[h] += 1
        if seen[h] == 1:
            result.append(h)
            continue
        dupes.setdefault(h, [named.index(h) + 1]).append(j)
        k = seen[h]
        new = f"{h}__{k}"
        while new in used:
            k += 1
            new = f"{h}__{k}"
        used.add(new)
        result.append(new)
    for h, cols in dupes.items():
        shown_h = h if len(h) <= 60 else h[:57] + "..."
        warnings.append(
            ReadWarning(
                "duplicate_headers",
                f"Header {shown_h!r} occurs {len(cols)} times (columns "
                f"{', '.join(map(str, cols))}); later ones are renamed with __2, __3 ...",
            )
        )
    return result, warnings


def _join_header(rows: list[list[str | None]], width: int) -> list[str]:
    headers = []
    for j in range(width):
        parts: list[str] = []
        for row in rows:
            value = normalize_cell(row[j]) if j < len(row) and row[j] is not None else ""
            if value and (not parts or parts[-1] != value):
                parts.append(value)
        headers.append(" / ".join(parts))
    return headers


def _frame(columns: list[str], rows: list[list[str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=pd.Index(columns, dtype=object), dtype=object)


def _mb(n: int) -> str:
    """A byte count for messages: ``1 MB``, ``2.5 MB``, ``7.3 KB``."""
    if n < 1024 * 1024:
        return f"{n / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{n / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


def _too_large(path: Path, what: str, limit: int) -> InputFileError:
    return InputFileError(
        path,
        f"{what}, more than the limit of {_mb(limit)} (max_bytes={limit}); raise "
        "ingest.max_file_mb in workshop.yaml if this is expected.",
    )


def _too_many_columns(file: Path, count: int, limit: int, row: int | None) -> InputFileError:
    return InputFileError(
        file,
        f"the file has {count} columns, more than the limit of {limit}; raise max_columns "
        "(ingest.max_columns in workshop.yaml) if this is expected.",
        row=row,
    )


def _cell(value: str) -> str | None:
    out = normalize_cell(value)
    return out or None


def _cell_memo():
    """:func:`_cell` with a cache per distinct string (answers repeat a lot within a file)."""
    cache: dict[str, str | None] = {}

    def cell(value: str) -> str | None:
        try:
            return cache[value]
        except KeyError:
            out = cache[value] = _cell(value)
            return out

    return cell


def _read_delimited(
    path: Path,
    data: bytes,
    digest: str,
    legacy_encoding: str,
    languages: Sequence[str],
    header_rows: int | Literal["auto"],
    max_columns: int,
    encoding: str | None,
) -> RawTable:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        raise InputFileError(
            path,
            "the file is a ZIP archive (an XLSX workbook or a zipped export) although its name "
            "ends in a text suffix; rename it to .xlsx if it is a workbook, or unzip it.",
        )
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise InputFileError(
            path,
            "the file is a legacy Excel .xls (OLE) file although its name ends in a text "
            "suffix; save it as .xlsx or CSV UTF-8.",
        )
    if data.startswith(b"%PDF"):
        raise InputFileError(path, "the file is a PDF document, not a survey export.")
    decoded = decode_bytes(data, path, legacy_encoding, languages, encoding=encoding)
    text = decoded.text
    if not _VISIBLE.search(text):  # only whitespace and zero-width characters
        raise InputFileError(path, "the file is empty (it contains only whitespace).")
    n_header = 1 if header_rows == "auto" else int(header_rows)
    dialect = sniff_dialect(text, path, header_rows=n_header)
    records = _parse_records(text, dialect.delimiter, path)
    warnings = list(decoded.warnings)

    start = next(i for i, r in enumerate(records) if not _is_blank(r))
    if start:
        warnings.append(
            ReadWarning(
                "leading_blank_rows",
                f"{start} empty row(s) before the header were skipped.",
            )
        )
    header_block = records[start : start + n_header]
    width = max(len(r) for r in header_block)
    longest = max((len(r) for r in records), default=0)
    if width > max_columns:
        raise _too_many_columns(path, width, max_columns, row=start + 1)
    if longest > max_columns:
        row = next(i for i, r in enumerate(records) if len(r) > max_columns) + 1
        raise _too_many_columns(path, longest, max_columns, row=row)
    headers = _join_header([list(r) for r in header_block], width)
    columns, header_warnings = _unique_headers(headers)
    warnings += header_warnings

    data_rows: list[list[str | None]] = []
    source_rows: list[int] = []
    malformed: list[tuple[int, str]] = []
    blank = padded = 0
    cell = _cell_memo()
    body_start = start + len(header_block)
    for i in range(body_start, len(records)):
        rec = records[i]
        row_number = i + 1
        if _is_blank(rec):
            blank += 1
            continue
        fits, was_padded = _row_fits(rec, width)
        if not fits:
            malformed.append((row_number, f"row has {len(rec)} fields but the header has {width}"))
            continue
        padded += was_padded
        data_rows.append([cell(v) for v in rec[:width]])
        source_rows.append(row_number)
    if padded:
        warnings.append(
            ReadWarning(
                "trailing_empty_fields",
                f"{padded} row(s) had extra empty fields after the last column; they were ignored.",
            )
        )
    if malformed:
        warnings.append(
            ReadWarning(
                "malformed_rows",
                f"{len(malformed)} row(s) have a wrong number of fields (first: row "
                f"{malformed[0][0]}); they are kept aside for quarantine.",
            )
        )
    if blank:
        warnings.append(ReadWarning("blank_rows", f"{blank} empty row(s) were dropped."))
    return RawTable(
        frame=_frame(columns, data_rows),
        source_rows=source_rows,
        encoding=decoded.encoding,
        encoding_reason=decoded.reason,
        dialect=dialect,
        warnings=warnings,
        sha256=digest,
        header_rows=len(header_block),
        blank_rows=blank,
        malformed_rows=malformed,
        records_after_header=len(records) - body_start,
        original_headers=headers,
        file=path,
    )


def _xlsx_value(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds" if not value.microsecond else "auto")
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return str(value)
    return _cell(str(value))


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _resolve(base_dir: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base_dir, target))


def _merged_ranges(zf: zipfile.ZipFile, sheet_title: str) -> list[tuple[int, int, int, int]]:
    """Merged ranges (min_col, min_row, max_col, max_row) of a sheet, read from the package.

    openpyxl's read-only worksheets do not expose merged cells, so they are read from the
    worksheet XML (``<mergeCell ref="A1:B1"/>``) with a streaming parser.
    """
    from openpyxl.utils.cell import range_boundaries

    workbook_part = "xl/workbook.xml"
    try:
        root_rels = ET.fromstring(zf.read("_rels/.rels"))
        for rel in root_rels.iter(f"{_PKG_REL_NS}Relationship"):
            if rel.get("Type", "").endswith("/officeDocument"):
                workbook_part = _resolve("", rel.get("Target", workbook_part))
    except KeyError:
        pass
    base = posixpath.dirname(workbook_part)
    workbook = ET.fromstring(zf.read(workbook_part))
    rel_id = None
    for sheet in workbook.iter(f"{_MAIN_NS}sheet"):
        if sheet.get("name") == sheet_title:
            rel_id = sheet.get(f"{_REL_NS}id")
    rels_part = posixpath.join(base, "_rels", posixpath.basename(workbook_part) + ".rels")
    rels = ET.fromstring(zf.read(rels_part))
    target = None
    for rel in rels.iter(f"{_PKG_REL_NS}Relationship"):
        if rel.get("Id") == rel_id:
            target = _resolve(base, rel.get("Target", ""))
    if target is None:
        raise KeyError(sheet_title)
    ranges = []
    with zf.open(target) as fh:
        for _event, elem in ET.iterparse(fh):
            if elem.tag == f"{_MAIN_NS}mergeCell":
                ref = elem.get("ref")
                if ref:
                    ranges.append(range_boundaries(ref))
            if elem.tag == f"{_MAIN_NS}row":
                elem.clear()
    return ranges  # type: ignore[return-value]


def _read_xlsx(
    path: Path,
    data: bytes,
    digest: str,
    header_rows: int | Literal["auto"],
    sheet: str | int | None,
    max_bytes: int,
    max_columns: int,
) -> RawTable:
    import openpyxl

    if not data.startswith(b"PK\x03\x04"):
        raise InputFileError(
            path,
            "the file is not an XLSX workbook (no ZIP signature); if it is a CSV or an old "
            ".xls file, give it the matching suffix or save it again as .xlsx.",
        )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputFileError(
            path, "the workbook is damaged (not a readable ZIP package)."
        ) from None
    if unpacked > max_bytes:
        raise _too_large(path, f"the workbook unpacks to {_mb(unpacked)} ({unpacked} bytes)",
                         max_bytes)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on damaged packages
        raise InputFileError(
            path,
            f"the workbook cannot be opened ({type(exc).__name__}); open it in Excel and save "
            "it again as .xlsx.",
        ) from None
    warnings: list[ReadWarning] = []
    try:
        names = wb.sheetnames
        if sheet is None:
            title = names[0]
            if len(names) > 1:
                warnings.append(
                    ReadWarning(
                        "first_sheet_used",
                        f"The workbook has {len(names)} sheets; the first, {title!r}, was read.",
                    )
                )
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise InputFileError(
                    path,
                    f"the workbook has {len(names)} sheet(s), so sheet index {sheet} does not "
                    "exist.",
                )
            title = names[sheet]
        else:
            if sheet not in names:
                raise InputFileError(
                    path,
                    f"the workbook has no sheet named {sheet!r} (sheets: "
                    f"{', '.join(map(repr, names))}).",
                )
            title = sheet
        epoch1904 = wb.epoch == _dt.datetime(1904, 1, 1)
        ws = wb[title]
        ws.reset_dimensions()
        rows: list[list[str | None]] = []
        for r_index, raw in enumerate(ws.iter_rows(min_row=1, min_col=1, values_only=True), 1):
            values = [_xlsx_value(v) for v in raw]
            while values and values[-1] is None:
                values.pop()
            if len(values) > max_columns:
                raise _too_many_columns(path, len(values), max_columns, row=r_index)
            rows.append(values)
    finally:
        wb.close()
    while rows and not rows[-1]:
        rows.pop()
    if not rows:
        raise InputFileError(path, f"the sheet {title!r} is empty.")

    try:
        merged = _merged_ranges(zf, title)
    except (KeyError, ET.ParseError, ValueError, zipfile.BadZipFile):
        merged = []
        warnings.append(
            ReadWarning(
                "merged_cells_unreadable",
                "Merged cells of the sheet could not be read; headers are taken as found.",
            )
        )

    start = next(i for i, r in enumerate(rows) if r)
    if start:
        warnings.append(
            ReadWarning(
                "leading_blank_rows", f"{start} empty row(s) before the header were skipped."
            )
        )
    first = start + 1  # 1-based row of the first header row
    if header_rows == "auto":
        n_header = 1
        for min_col, min_row, max_col, max_row in merged:
            if min_row == first:
                span = max_row - first + 1
                n_header = max(n_header, span, 2 if max_col > min_col else 1)
        n_header = min(n_header, len(rows) - start)
        if n_header > 1:
            warnings.append(
                ReadWarning(
                    "multi_row_header",
                    f"Merged cells in row {first} mark a {n_header}-row header; merged values "
                    "were copied across their range and the rows joined with ' / '.",
                )
            )
    else:
        n_header = int(header_rows)
    header_block = [list(r) for r in rows[start : start + n_header]]
    width = max((len(r) for r in rows), default=0)
    for block_row in header_block:
        block_row.extend([None] * (width - len(block_row)))
    header_end = start + n_header  # 0-based index of first data row
    data_merges = 0
    for min_col, min_row, max_col, max_row in merged:
        if min_row - 1 >= header_end:
            data_merges += 1
            continue
        top_left = rows[min_row - 1][min_col - 1] if min_col - 1 < len(rows[min_row - 1]) else None
        for r in range(max(min_row - 1, start), min(max_row, header_end)):
            for c in range(min_col - 1, min(max_col, width)):
                header_block[r - start][c] = top_left
    if data_merges:
        warnings.append(
            ReadWarning(
                "merged_cells_in_data",
                f"{data_merges} merged range(s) lie below the header; only their top-left cell "
                "holds a value.",
            )
        )
    headers = _join_header(header_block, width)
    columns, header_warnings = _unique_headers(headers)
    warnings += header_warnings

    data_rows: list[list[str | None]] = []
    source_rows: list[int] = []
    blank = 0
    for i in range(header_end, len(rows)):
        values = rows[i]
        if not values:
            blank += 1
            continue
        data_rows.append(values + [None] * (width - len(values)))
        source_rows.append(i + 1)
    if blank:
        warnings.append(ReadWarning("blank_rows", f"{blank} empty row(s) were dropped."))
    return RawTable(
        frame=_frame(columns, data_rows),
        source_rows=source_rows,
        encoding="xlsx",
        encoding_reason="XLSX workbook (text stored as Unicode)",
        dialect=None,
        warnings=warnings,
        sha256=digest,
        header_rows=n_header,
        blank_rows=blank,
        malformed_rows=[],
        records_after_header=max(0, len(rows) - header_end),
        original_headers=headers,
        file=path,
        sheet=title,
        epoch1904=epoch1904,
    )


def read_table(
    path: str | Path,
    legacy_encoding: str = "cp1251",
    languages: Sequence[str] = ("ru",),
    header_rows: int | Literal["auto"] = "auto",
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    sheet: str | int | None = None,
    encoding: str | None = None,
) -> RawTable:
    """Read a survey export (.csv, .txt, .tsv, .xlsx) into a :class:`RawTable` of strings.

    Text files go through :func:`decode_bytes` and :func:`sniff_dialect`; Excel "Unicode
    text" (UTF-16LE with BOM, tab-separated) is a text file like any other. Workbooks are read
    with openpyxl in read-only mode (cached formula values); dates in date-formatted cells
    become ISO strings (the workbook's 1900 or 1904 date system is respected); merged cells in
    the header are copied across their range and header rows joined with ``" / "`` (R-IN-05).

    Every physical row after the header is accounted for: it is a data row, a blank row
    (dropped, counted in ``blank_rows``) or a malformed row (wrong field count, listed in
    ``malformed_rows`` for quarantine). For workbooks, empty rows after the last non-empty row
    are not records.

    Parameters
    ----------
    path : str or Path
        The export file.
    legacy_encoding : str
        Code page for text files that are not UTF-8 (``"cp1251"``, ``"kz1048"``).
    languages : sequence of str
        Questionnaire languages, for the lost-letter check.
    header_rows : int or "auto"
        Number of header rows; ``"auto"`` is 1 for text files and, for workbooks, 2 (or more)
        when merged cells start in the first header row.
    max_bytes : int
        Size limit of the file (and of an unpacked workbook); default 200 MB.
    max_columns : int
        Limit on the number of columns; default 5,000.
    sheet : str or int, optional
        Worksheet name or 0-based index; default the first sheet.
    encoding : str, optional
        Override the encoding cascade for text files.

    Returns
    -------
    RawTable

    Raises
    ------
    InputFileError
        Missing, empty, oversized or unsupported file, or a damaged workbook.
    EncodingProblem
        The bytes cannot be decoded safely.
    DialectError
        The rows cannot be split consistently.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "pre.csv").write_bytes("ID;Балл\\n1;3,5\\n\\n2;4\\n".encode("cp1251"))
    >>> t = read_table(folder / "pre.csv")
    >>> t.encoding, t.dialect.delimiter, t.dialect.decimal, list(t.frame.columns)
    ('cp1251', ';', ',', ['ID', 'Балл'])
    >>> t.source_rows, t.blank_rows, t.accounting_holds
    ([2, 4], 1, True)
    """
    path = Path(path)
    if header_rows != "auto" and (not isinstance(header_rows, int) or header_rows < 1):
        raise InputFileError(path, "header_rows must be a positive integer or 'auto'.")
    if not path.exists():
        raise InputFileError(path, "the file does not exist.")
    if not path.is_file():
        raise InputFileError(path, "the path is not a regular file.")
    suffix = path.suffix.lower()
    if suffix not in DELIMITED_SUFFIXES + XLSX_SUFFIXES:
        raise InputFileError(
            path,
            f"files ending in {suffix or '(no suffix)'!r} are not supported; export the survey "
            "as .xlsx or CSV UTF-8 (.csv, .tsv or .txt).",
        )
    size = path.stat().st_size
    if size > max_bytes:
        raise _too_large(path, f"the file has {_mb(size)} ({size} bytes)", max_bytes)
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputFileError(path, f"the file cannot be read ({exc.strerror}).") from None
    if len(data) > max_bytes:
        raise _too_large(path, f"the file has more than {max_bytes} bytes", max_bytes)
    if not data:
        raise InputFileError(path, "the file is empty.")
    digest = hashlib.sha256(data).hexdigest()
    if suffix in XLSX_SUFFIXES:
        return _read_xlsx(path, data, digest, header_rows, sheet, max_bytes, max_columns)
    return _read_delimited(
        path, data, digest, legacy_encoding, languages, header_rows, max_columns, encoding
    )
