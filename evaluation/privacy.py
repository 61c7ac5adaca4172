"""Privacy at ingest: code canonicalisation, keyed pseudonyms and free-text redaction.

Three safeguards run on every survey export before anything is stored or analysed
(``privacy-matching-messy-input.md`` §2–§4):

1. **Canonicalisation of self-generated codes** (R-ID-01, R-ID-02). Each code element
   (first letter of the mother's name, day of birth, ...) is normalised so that the same
   answer typed on a Russian or a Latin keyboard, with or without zero padding, compares equal.
2. **Keyed pseudonyms** (R-DP-03, R-ID-04). Each canonical element, and the full code, is
   replaced by an HMAC-SHA256 pseudonym under a secret key kept outside the repository and the
   workshop folder. The raw code columns are dropped. Pseudonymised data is still personal data
   (GDPR Recital 26): it must be protected like the raw exports.
3. **Free-text redaction** (R-PII-01, R-PII-02). E-mail addresses, links, messenger handles,
   phone numbers, ID-like numbers and the names of a roster are replaced by typed placeholders.
   Detection is a safety net, not a guarantee (R-PII-04): quoted text still needs human review.

Canonical letter alphabet
-------------------------
Letter elements are mapped to one Latin letter by the fixed table :data:`LETTER_CLASSES`. The
table merges (a) Cyrillic/Latin look-alikes (С/C, Р/P, Н/H, В/B, К/K, М/M, Т/T, О/O/0, Е/E,
А/A, Х/X, as R-ID-02 requires) with (b) the first letter of the usual Latin spelling of a
Cyrillic letter (Uzbek and Kazakh Latin, Russian ICAO), so that a name written ``Шоира`` on one
form and ``Shoira`` on the other gives the same element. Where the two relations meet they are
merged into one class: ``Н``, ``H`` and ``N`` are one class (written ``H``), ``С``, ``C``, ``S``,
``Ш`` and ``Ч`` are one class (``C``), ``Р``, ``P``, ``R`` and ``П`` are one class (``P``) and
``В``, ``B``, ``V`` and ``Б`` are one class (``B``). The merges cost a little discrimination and
gain robustness to keyboard layout and script. A Latin digraph typed for one Uzbek letter
(``Sh``, ``Ch``, ``Zh``, ``Kh``, ``Ts``, ``Ya``, ``Yu``, ``O'``, ``G'``) is accepted as that letter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import phonenumbers

from evaluation.errors import PrivacyError

__all__ = [
    "LETTER_CLASSES",
    "CodeElement",
    "DEFAULT_RECIPE",
    "canonical_code_element",
    "canonical_code",
    "PseudonymKey",
    "load_key",
    "demo_key",
    "PID_HEX_CHARS",
    "PARTICIPANT_PID",
    "pid_column",
    "pseudonymize_element",
    "pseudonymize_codes",
    "PLACEHOLDERS",
    "RedactionResult",
    "Redactor",
]

# =============================================================================================
# 1. Canonicalisation of code elements (R-ID-01, R-ID-02)
# =============================================================================================

#: The fixed letter table: canonical Latin letter -> every character that maps to it.
#: Latin letters with diacritics not listed here lose their diacritic first (``É`` -> ``E``).
#: A letter of another script (e.g. Arabic) is kept as it is, upper-cased.
LETTER_CLASSES: dict[str, str] = {
    "A": "AАӘÄ",  # Kazakh Ә (Latin Ä)
    "B": "BVБВ",  # В looks like B and is spelled V
    "C": "CSÇŞŠČСШЩЧ",  # С looks like C and is spelled S; Ш = Sh, Ч = Ch
    "D": "DД",
    "E": "EЕЁЭЄ",  # Ё -> Е (R-ID-02)
    "F": "FФ",
    "G": "GĞГҒҐ",  # Ғ = Uzbek G', Kazakh Ğ
    "H": "HNÑŇНҢҺҲ",  # Н looks like H and is spelled N; Һ, Ҳ = H
    "I": "IİIИІЇӢЫ",
    "J": "JŽЖҶЏ",  # Uzbek/Kazakh Latin J for Ж, Tajik Ҷ
    "K": "KQКҚҠ",  # Қ = Uzbek/Kazakh Latin Q
    "L": "LЛ",
    "M": "MМ",
    "O": "O0ÖОӨЎ",  # zero looks like O; Ў = Uzbek O'
    "P": "PRРП",  # Р looks like P and is spelled R
    "T": "TТЦ",  # Ц = Ts
    "U": "UÜŪУҮҰӮ",
    "W": "W",
    "X": "XХ",  # Uzbek Latin X for Х
    "Y": "YÝЙЯЮ",  # Я = Ya, Ю = Yu
    "Z": "ZЗ",
}

_LETTER_TABLE: dict[str, str] = {
    char: canonical for canonical, members in LETTER_CLASSES.items() for char in members
}
_DIGRAPHS: dict[str, str] = {
    "SH": "C",
    "CH": "C",
    "ZH": "J",
    "KH": "X",
    "TS": "T",
    "YA": "Y",
    "YU": "Y",
}
_APOSTROPHES = "'’ʻʼ‘`´"
_STRIP_CHARS = ' \t\r\n\u00a0.,;:!?"«»()[]{}<>-_/\\*'
_ZERO_LIKE = str.maketrans({"O": "0", "o": "0", "О": "0", "о": "0"})
_SMALL_INT = re.compile(r"(\d{1,2})(?:[.,]0+)?")

CodeKind = Literal["letter", "digits2", "digit1"]


@dataclass(frozen=True)
class CodeElement:
    """One element of a self-generated identification code.

    Parameters
    ----------
    name : str
        Column name of the element in the survey export, e.g. ``"code_mother"``.
    kind : {"letter", "digits2", "digit1"}
        A single letter, a two-digit number (day or month) or a single digit.
    min_value, max_value : int, optional
        Allowed range of a number element; outside it the element counts as missing.
        Defaults: 1–31 for ``digits2``, 0–9 for ``digit1``.

    Examples
    --------
    >>> CodeElement("code_month", "digits2", 1, 12).max_value
    12
    """

    name: str
    kind: CodeKind
    min_value: int | None = None
    max_value: int | None = None


#: The default six-element recipe of R-ID-01.
DEFAULT_RECIPE: tuple[CodeElement, ...] = (
    CodeElement("code_mother", "letter"),
    CodeElement("code_father", "letter"),
    CodeElement("code_day", "digits2", 1, 31),
    CodeElement("code_month", "digits2", 1, 12),
    CodeElement("code_place", "letter"),
    CodeElement("code_siblings", "digit1", 0, 9),
)


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(float(value))
    return False


def _canonical_letter_char(char: str) -> str | None:
    if char in _LETTER_TABLE:
        return _LETTER_TABLE[char]
    base = "".join(
        c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
    ).upper()
    if len(base) == 1 and base in _LETTER_TABLE:
        return _LETTER_TABLE[base]
    if len(char) == 1 and char.isalpha() and char not in "ЪЬ":
        return char
    return None


def _canonical_letter(value: object) -> str | None:
    text = unicodedata.normalize("NFKC", str(value)).strip(_STRIP_CHARS).upper()
    text = text.rstrip(_APOSTROPHES)  # Uzbek O' and G' -> O, G (same classes as Ў, Ғ)
    if not text:
        return None
    if len(text) == 1:
        return _canonical_letter_char(text)
    return _DIGRAPHS.get(text)


def _small_int(value: object) -> int | None:
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return int(number) if number.is_integer() else None
    text = unicodedata.normalize("NFKC", str(value)).strip().translate(_ZERO_LIKE)
    match = _SMALL_INT.fullmatch(text)
    return int(match.group(1)) if match else None


def canonical_code_element(
    value: object,
    kind: CodeKind,
    *,
    min_value: int | None = None,
    max_value: int | None = None,
) -> str | None:
    """Canonicalise one answer of a self-generated code (R-ID-02).

    Parameters
    ----------
    value : object
        The answer as read from the export: text, a number, ``None`` or ``NaN``.
    kind : {"letter", "digits2", "digit1"}
        ``"letter"``: Unicode NFKC, trimmed (with surrounding punctuation), upper-cased and
        mapped through :data:`LETTER_CLASSES`; a single letter (or one Uzbek Latin digraph) is
        required. ``"digits2"``: a whole number written with one or two digits (``"7"``,
        ``"07"``, ``" 7 "``, ``"7.0"``, ``7``), returned zero-padded to two digits.
        ``"digit1"``: a whole number 0–9, returned as one digit. A letter ``O`` typed in a
        number field is read as zero.
    min_value, max_value : int, optional
        Allowed range of a number element (defaults 1–31 for ``digits2``, 0–9 for ``digit1``).

    Returns
    -------
    str or None
        The canonical element, or ``None`` when the answer is empty or not valid (a missing
        element). This function never raises on a bad answer.

    Examples
    --------
    >>> canonical_code_element("с", "letter"), canonical_code_element("C", "letter")
    ('C', 'C')
    >>> canonical_code_element("Ш", "letter"), canonical_code_element("Sh", "letter")
    ('C', 'C')
    >>> canonical_code_element("Қ", "letter"), canonical_code_element("0", "letter")
    ('K', 'O')
    >>> canonical_code_element(" 7 ", "digits2"), canonical_code_element(7.0, "digits2")
    ('07', '07')
    >>> canonical_code_element("13", "digits2", max_value=12) is None
    True
    >>> canonical_code_element("не знаю", "letter") is None
    True
    """
    if kind not in ("letter", "digits2", "digit1"):
        raise ValueError(f"Unknown code element kind {kind!r}; use letter, digits2 or digit1.")
    if _is_missing(value):
        return None
    try:
        if kind == "letter":
            return _canonical_letter(value)
        number = _small_int(value)
    except (TypeError, ValueError):
        return None
    if number is None:
        return None
    if kind == "digits2":
        low = 1 if min_value is None else min_value
        high = 31 if max_value is None else max_value
        return f"{number:02d}" if low <= number <= high and number <= 99 else None
    low = 0 if min_value is None else min_value
    high = 9 if max_value is None else max_value
    return str(number) if low <= number <= high and number <= 9 else None


def canonical_code(
    elements: Mapping[str, object],
    recipe: Sequence[CodeElement] = DEFAULT_RECIPE,
) -> dict[str, str | None]:
    """Canonicalise every element of one respondent's code.

    Parameters
    ----------
    elements : mapping
        Element name -> raw answer (a dict, or one row of a DataFrame). A name absent from the
        mapping is a missing element.
    recipe : sequence of CodeElement
        The code recipe; :data:`DEFAULT_RECIPE` (R-ID-01) by default.

    Returns
    -------
    dict
        Element name -> canonical value or ``None``, in recipe order.

    Examples
    --------
    >>> canonical_code({"code_mother": "М", "code_father": "a", "code_day": "7",
    ...                 "code_month": 3, "code_place": "Т", "code_siblings": "0"})
    {'code_mother': 'M', 'code_father': 'A', 'code_day': '07', 'code_month': '03', \
'code_place': 'T', 'code_siblings': '0'}
    """
    return {
        el.name: canonical_code_element(
            elements.get(el.name), el.kind, min_value=el.min_value, max_value=el.max_value
        )
        for el in recipe
    }


# =============================================================================================
# 2. Keyed pseudonyms (R-DP-03, R-ID-04)
# =============================================================================================

#: Length of every pseudonym in hex characters (64 bits, R-DP-03).
PID_HEX_CHARS = 16
#: Column holding the pseudonym of the full code.
PARTICIPANT_PID = "participant_pid"
_MIN_KEY_BYTES = 16
_HOW_TO_SET = (
    "Create a secret of at least 128 bits, e.g. with "
    '`python -c "import secrets; print(secrets.token_hex(32))"`, and either put it in the '
    "environment variable {env} or save it in a key file outside the repository and outside "
    "the workshop folder. Keep it safe: the same key is needed to link later survey waves."
)
_DEMO_SECRET = hashlib.sha256(
    b"evaluation toolkit DEMO pseudonym key - synthetic data only - NOT a secret"
).digest()


class PseudonymKey:
    """The secret key of the keyed pseudonyms. Its value is never shown.

    Create it with :func:`load_key` (real data) or :func:`demo_key` (synthetic data only).
    ``repr`` and ``str`` show where the key came from, its length and a short fingerprint
    (an HMAC of a fixed label, useful in provenance records), never the secret. A key refuses
    to be pickled, so it cannot end up in a cache or a saved object by accident.

    Parameters
    ----------
    secret : bytes
        At least 16 bytes (128 bits).
    source : str
        Where the key came from, e.g. ``"environment variable EVALUATION_PSEUDONYM_KEY"``.
    is_demo : bool
        True only for the published demo key.

    Examples
    --------
    >>> key = PseudonymKey(b"0123456789abcdef-not-a-real-key", source="example")
    >>> key
    PseudonymKey(source='example', bits=248, is_demo=False, fingerprint='...')
    >>> PseudonymKey(b"short", source="example")
    Traceback (most recent call last):
    ...
    evaluation.errors.PrivacyError: The pseudonym key from example has 40 bits; at least 128 ...
    """

    __slots__ = ("_secret", "source", "is_demo")

    def __init__(self, secret: bytes, *, source: str = "memory", is_demo: bool = False):
        if not isinstance(secret, bytes | bytearray):
            raise PrivacyError("A pseudonym key must be bytes.")
        if len(secret) < _MIN_KEY_BYTES:
            raise PrivacyError(
                f"The pseudonym key from {source} has {8 * len(secret)} bits; at least "
                f"{8 * _MIN_KEY_BYTES} bits are required. "
                + _HOW_TO_SET.format(env="EVALUATION_PSEUDONYM_KEY")
            )
        self._secret = bytes(secret)
        self.source = source
        self.is_demo = is_demo

    @property
    def bits(self) -> int:
        """Length of the key in bits."""
        return 8 * len(self._secret)

    @property
    def fingerprint(self) -> str:
        """A short, non-secret identifier of the key (8 hex characters)."""
        return hmac.digest(self._secret, b"evaluation key fingerprint", "sha256").hex()[:8]

    def __repr__(self) -> str:
        return (
            f"PseudonymKey(source={self.source!r}, bits={self.bits}, is_demo={self.is_demo}, "
            f"fingerprint={self.fingerprint!r})"
        )

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PseudonymKey):
            return NotImplemented
        return hmac.compare_digest(self._secret, other._secret)

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __reduce__(self):
        raise PrivacyError("A pseudonym key cannot be pickled or copied to storage.")


def demo_key() -> PseudonymKey:
    """Return the fixed, published demo key, for synthetic demo workshops only.

    Its value is in the source code, so pseudonyms made with it protect nothing: never use it
    for real participants. It carries ``is_demo=True`` so reports can say so.

    Examples
    --------
    >>> demo_key().is_demo
    True
    >>> demo_key() == demo_key()
    True
    """
    return PseudonymKey(
        _DEMO_SECRET, source="the built-in DEMO key (synthetic data only)", is_demo=True
    )


def _decode_key_text(text: str) -> bytes:
    """Key text -> bytes: ``hex:``/``base64:`` prefix, else hex, else base64, else raw UTF-8."""
    text = text.strip()
    lowered = text.lower()
    try:
        if lowered.startswith("hex:"):
            return bytes.fromhex(text[4:].strip())
        if lowered.startswith("base64:"):
            return base64.b64decode(text[7:].strip(), validate=True)
    except (ValueError, binascii.Error):
        message = "The pseudonym key is not valid hex or base64 after its prefix."
        raise PrivacyError(message) from None
    if re.fullmatch(r"[0-9a-fA-F]+", text) and len(text) % 2 == 0:
        return bytes.fromhex(text)
    if len(text) % 4 == 0 and re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", text):
        try:
            return base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
        except (ValueError, binascii.Error):
            pass
    return text.encode("utf-8")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _toolkit_root() -> Path:
    return Path(__file__).resolve().parent.parent


def load_key(
    env_var: str = "EVALUATION_PSEUDONYM_KEY",
    key_file: str | os.PathLike[str] | None = None,
    forbidden_dirs: Iterable[str | os.PathLike[str]] = (),
) -> PseudonymKey:
    """Load the pseudonym key from a key file or an environment variable.

    The key is looked for in this order: ``key_file`` if given; else the environment variable
    ``env_var``; else a key file named by the environment variable ``<env_var>_FILE``.

    Key formats (in the variable or the file, surrounding whitespace ignored): ``hex:<hex>`` or
    ``base64:<base64>``; without a prefix, text of hex digits (even length) is read as hex,
    otherwise text that is valid base64 (length a multiple of 4) is read as base64, otherwise
    the UTF-8 bytes of the text are the key. A key file that is not UTF-8 text is used as raw
    bytes. After decoding, the key must have at least 128 bits (16 bytes).

    Parameters
    ----------
    env_var : str
        Environment variable holding the key.
    key_file : path, optional
        File holding the key.
    forbidden_dirs : iterable of path
        Folders a key file must not be in: give the workshop data folder. The toolkit's own
        repository is always forbidden. Symbolic links are resolved on both sides, and a file is
        refused if either its written or its resolved location is inside a forbidden folder.

    Returns
    -------
    PseudonymKey

    Raises
    ------
    PrivacyError
        No key is configured, the key file is missing or inside a forbidden folder, or the key
        is shorter than 128 bits. The message says how to fix it and never contains the key.

    Examples
    --------
    >>> import os
    >>> os.environ["EXAMPLE_KEY"] = "00112233445566778899aabbccddeeff"
    >>> load_key("EXAMPLE_KEY").bits
    128
    >>> del os.environ["EXAMPLE_KEY"]
    >>> load_key("EXAMPLE_KEY")
    Traceback (most recent call last):
    ...
    evaluation.errors.PrivacyError: No pseudonym key is configured: ...
    """
    if key_file is None and not os.environ.get(env_var, "").strip():
        indirect = os.environ.get(f"{env_var}_FILE", "").strip()
        if indirect:
            key_file = indirect
    if key_file is not None:
        return _load_key_file(Path(key_file), forbidden_dirs)
    value = os.environ.get(env_var, "").strip()
    if not value:
        raise PrivacyError(
            f"No pseudonym key is configured: the environment variable {env_var} is not set and "
            "no key file is given. " + _HOW_TO_SET.format(env=env_var)
        )
    return PseudonymKey(_decode_key_text(value), source=f"environment variable {env_var}")


def _load_key_file(path: Path, forbidden_dirs: Iterable[str | os.PathLike[str]]) -> PseudonymKey:
    name = path.name
    written = Path(os.path.abspath(path))
    if not written.is_file():
        raise PrivacyError(f"The pseudonym key file {name} does not exist or is not a file.")
    resolved = written.resolve()
    folders = [_toolkit_root(), *(Path(d) for d in forbidden_dirs)]
    for folder in folders:
        candidates = {Path(os.path.abspath(folder)), Path(folder).resolve()}
        for forbidden in candidates:
            if _inside(written, forbidden) or _inside(resolved, forbidden):
                raise PrivacyError(
                    f"The pseudonym key file {name} is inside {forbidden.name or forbidden} "
                    "(the repository or the workshop data folder), where it could be shared "
                    "with the data. Move it to a private folder outside both and point to it "
                    "again."
                )
    raw = resolved.read_bytes()
    try:
        secret = _decode_key_text(raw.decode("utf-8"))
    except UnicodeDecodeError:
        secret = raw
    return PseudonymKey(secret, source=f"key file {name}")


def pid_column(element_name: str) -> str:
    """Name of the pseudonym column of a code element.

    Examples
    --------
    >>> pid_column("code_day")
    'pid_code_day'
    """
    return f"pid_{element_name}"


def _hmac_hex(key: PseudonymKey, message: str) -> str:
    digest = hmac.digest(key._secret, message.encode("utf-8"), "sha256")
    return digest.hex()[:PID_HEX_CHARS]


def pseudonymize_element(
    key: PseudonymKey, element_name: str, canonical_value: str | None
) -> str | None:
    """Keyed pseudonym of one canonical code element (R-ID-04).

    ``HMAC-SHA256(key, "element" US element_name US value)`` (US = the unit separator
    ``\\x1f``), as hex truncated to :data:`PID_HEX_CHARS` characters (64 bits). The element name
    is part of the message, so equal values of different elements get different pseudonyms,
    and matching can still compare element by element.

    Parameters
    ----------
    key : PseudonymKey
    element_name : str
        E.g. ``"code_day"``.
    canonical_value : str or None
        Output of :func:`canonical_code_element`; ``None`` stays ``None``.

    Examples
    --------
    >>> key = demo_key()
    >>> pid = pseudonymize_element(key, "code_day", "07")
    >>> len(pid), pid == pseudonymize_element(key, "code_day", "07")
    (16, True)
    >>> pid == pseudonymize_element(key, "code_month", "07")
    False
    >>> pseudonymize_element(key, "code_day", None) is None
    True
    """
    if canonical_value is None:
        return None
    return _hmac_hex(key, f"element\x1f{element_name}\x1f{canonical_value}")


def _participant_pid(key: PseudonymKey, names: Sequence[str], values: Sequence[str | None]):
    if any(v is None for v in values):
        return None
    body = "\x1f".join(f"{n}={v}" for n, v in zip(names, values, strict=True))
    return _hmac_hex(key, f"participant\x1f{body}")


def pseudonymize_codes(
    frame: pd.DataFrame,
    key: PseudonymKey,
    recipe: Sequence[CodeElement] = DEFAULT_RECIPE,
) -> pd.DataFrame:
    """Replace the raw code columns by keyed pseudonyms (R-DP-03, R-ID-04).

    Every element is canonicalised (:func:`canonical_code_element`) and pseudonymised
    (:func:`pseudonymize_element`) into a column ``pid_<element>``; ``participant_pid`` is the
    HMAC of the full canonical code, or ``None`` when any element is missing. The raw code
    columns are dropped. The new columns take the place of the first code column. A recipe
    element absent from ``frame`` counts as missing in every row.

    Parameters
    ----------
    frame : DataFrame
        One survey wave, one row per submission.
    key : PseudonymKey
    recipe : sequence of CodeElement
        :data:`DEFAULT_RECIPE` by default.

    Returns
    -------
    DataFrame
        A new frame (the input is not modified); pseudonym columns have dtype ``object`` with
        ``None`` for missing values.

    Examples
    --------
    >>> import pandas as pd
    >>> wave = pd.DataFrame({"code_mother": ["М", "m"], "code_father": ["А", None],
    ...                      "code_day": ["7", "07"], "code_month": [3, "03"],
    ...                      "code_place": ["Т", "t"], "code_siblings": [0, "0"], "q1": [4, 5]})
    >>> out = pseudonymize_codes(wave, demo_key())
    >>> list(out.columns)
    ['participant_pid', 'pid_code_mother', 'pid_code_father', 'pid_code_day', \
'pid_code_month', 'pid_code_place', 'pid_code_siblings', 'q1']
    >>> out["pid_code_day"].nunique(), out["participant_pid"].iloc[1] is None
    (1, True)
    """
    names = [el.name for el in recipe]
    canonical: dict[str, list[str | None]] = {}
    pseudonyms: dict[str, list[str | None]] = {}
    for el in recipe:
        if el.name in frame.columns:
            raw_values = frame[el.name].tolist()
        else:
            raw_values = [None] * len(frame)
        canon_cache: dict[object, str | None] = {}
        canon: list[str | None] = []
        for value in raw_values:
            try:
                result = canon_cache[value]
            except (KeyError, TypeError):
                result = canonical_code_element(
                    value, el.kind, min_value=el.min_value, max_value=el.max_value
                )
                try:
                    canon_cache[value] = result
                except TypeError:
                    pass
            canon.append(result)
        pid_cache = {v: pseudonymize_element(key, el.name, v) for v in set(canon)}
        canonical[el.name] = canon
        pseudonyms[pid_column(el.name)] = [pid_cache[v] for v in canon]

    rows = zip(*(canonical[n] for n in names), strict=True) if names else iter(())
    participant = [_participant_pid(key, names, row) for row in rows]

    code_columns = [c for c in frame.columns if c in set(names)]
    position = list(frame.columns).index(code_columns[0]) if code_columns else len(frame.columns)
    out = frame.drop(columns=code_columns)
    new = {PARTICIPANT_PID: participant, **pseudonyms}
    for offset, (column, values) in enumerate(new.items()):
        out.insert(position + offset, column, pd.Series(values, index=frame.index, dtype=object))
    return out


# =============================================================================================
# 3. Free-text redaction (R-PII-01, R-PII-02)
# =============================================================================================

#: Placeholder per detection type and language.
PLACEHOLDERS: dict[str, dict[str, str]] = {
    "en": {
        "email": "[EMAIL]",
        "url": "[URL]",
        "handle": "[HANDLE]",
        "id": "[ID]",
        "phone": "[PHONE]",
        "org": "[ORG]",
        "name": "[NAME]",
    },
    "ru": {
        "email": "[EMAIL]",
        "url": "[ССЫЛКА]",
        "handle": "[АККАУНТ]",
        "id": "[ID]",
        "phone": "[ТЕЛЕФОН]",
        "org": "[ОРГ]",
        "name": "[ИМЯ]",
    },
}
_TYPES: tuple[str, ...] = ("email", "url", "handle", "id", "phone", "org", "name")
_PLACEHOLDER_WORDS = frozenset(
    re.sub(r"[\[\]]", "", p).lower() for table in PLACEHOLDERS.values() for p in table.values()
)

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+(?:@|\s?[\[(](?:at|собака)[\])]\s?)"
    r"(?:[\w-]+(?:\.|\s?[\[(](?:dot|точка)[\])]\s?))+[\w-]{2,}",
    re.IGNORECASE,
)
_TLDS = (
    "com|org|net|info|biz|io|me|co|ru|su|kz|kg|uz|tj|tm|af|ua|by|az|am|ge|tr|de|uk|fr|ch|eu|int|"
    "gov|edu|app|page|site|online|tv|ly|gl|gg|рф|қаз"
)
_URL = re.compile(
    r"(?<![\w@.])(?:"
    r"(?:https?|ftp|tg)://[^\s<>\"«»]+"
    r"|www\.[^\s<>\"«»]+"
    rf"|(?:[a-z0-9-]+\.)+(?:{_TLDS})\b(?:/[^\s<>\"«»]*)?"
    r")",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,30}[A-Za-z0-9_])?(?![\w@])")
_TRAILING_PUNCT = ".,;:!?)]}'’»\""
_ID_STRICT = re.compile(
    r"(?<![\d+])(?:\d{14}|\d{12})(?!\d)"  # UZ/KG PINFL (14), KZ IIN (12)
    r"|(?<![^\W\d_])[A-Za-zА-Яа-яЁё]{1,2}[ \t№#-]{0,2}\d{7,8}(?!\d)"  # passport: AA1234567
    r"|(?<![\d+])\d{2} ?\d{2} \d{6}(?!\d)"  # Russian internal passport: 45 12 345678
)
_ID_RUN = re.compile(r"(?<![\d+])\d{9,}(?!\d)")
_PHONE_REGIONS = ("KZ", "KG", "TJ", "TM", "UZ", "RU", "AF")
_PHONE_FALLBACK = re.compile(
    r"(?<![\w+])"
    r"(?:\+[ \u00a0]?\d{1,3}|00\d{1,3}|8|0)"  # country code or trunk prefix
    r"[ \u00a0-]?\(?\d{2,5}\)?"  # operator or area code
    r"(?:[ \u00a0-]?\d{2,4}){2,4}"  # subscriber number groups
    r"(?!\w)"
)
_PHONE_LOCAL = re.compile(  # CIS local grouping without prefix: (90) 123-45-67, 701 123 45 67
    r"(?<![\w+])\(?\d{2,4}\)?[ \u00a0-]?\d{3}[ \u00a0-]\d{2}[ \u00a0-]\d{2}(?!\d)"
)
_THOUSANDS = re.compile(r"\d{1,3}(?:[ \u00a0]\d{3})+")
_WORD = re.compile(r"[^\W\d_]+(?:['’ʻʼ‘`][^\W\d_]+)*")
_INITIALS_BEFORE = r"(?<![^\W\d_])(?:[A-ZА-ЯЁ]\.\s?){1,2}"
_INITIALS_AFTER = r"(?:\s[A-ZА-ЯЁ]\.(?:\s?[A-ZА-ЯЁ]\.)?)"


@dataclass(frozen=True)
class RedactionResult:
    """Redacted text and the number of replacements per type.

    ``counts`` always holds every type (``email``, ``url``, ``handle``, ``id``, ``phone``,
    ``org``, ``name``), zero where nothing was found.

    Examples
    --------
    >>> RedactionResult("ok", {"email": 0, "name": 2}).total
    2
    """

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Total number of replacements."""
        return sum(self.counts.values())


# --- name skeletons: one spelling for Cyrillic and Latin forms of a name -----------------------

_CYR_TO_LAT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "j",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya", "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u",
    "һ": "h", "і": "i", "ў": "o", "ҳ": "h", "ҷ": "j", "ӣ": "i", "ӯ": "u", "ї": "i",
    "є": "e", "ґ": "g", "ҡ": "k",
}  # fmt: skip
_LAT_SPECIAL = {
    "ş": "sh", "š": "sh", "ç": "ch", "č": "ch", "ž": "j", "ñ": "n", "ň": "n", "ı": "i",
    "ğ": "g", "ä": "a", "ö": "o", "ü": "u", "ū": "u", "ī": "i", "ý": "y", "ø": "o",
}  # fmt: skip
_SKELETON_TABLE = str.maketrans({**_CYR_TO_LAT, **_LAT_SPECIAL, **dict.fromkeys(_APOSTROPHES)})

#: Endings added to a name stem: Russian case endings (nouns, patronymics, -ов/-ин and
#: adjectival surnames), Kazakh/Uzbek/Kyrgyz suffixes in both scripts, English possessive.
_NAME_ENDINGS_RAW = (
    "", "а", "я", "у", "ю", "ом", "ем", "ём", "ым", "им", "ой", "ей", "ою", "ею", "е", "ы", "и",
    "ов", "ев", "ова", "ева", "ову", "еву", "ове", "еве", "овой", "евой", "овым", "евым",
    "ого", "его", "ому", "ему", "ая", "яя", "ую", "юю", "ий", "ый", "ых", "их", "ыми", "ими",
    "ам", "ям", "ами", "ями", "ах", "ях", "на", "ны", "не", "ну", "ной",
    "га", "ге", "ка", "ке", "қа", "ға", "ни", "ны", "нинг", "нің", "ның", "дан", "ден", "тан",
    "тен", "да", "де", "та", "те", "дин", "дын", "нын", "лар", "лер",
    "ga", "ge", "ka", "ke", "qa", "ni", "ning", "nin", "dan", "den", "tan", "ten", "da", "de",
    "ta", "te", "lar", "ler", "s", "a", "u", "e", "y", "i", "om", "em", "oy", "ey", "oi", "ei",
    "ym", "im", "ov", "ev", "ovoy", "evoy",
)  # fmt: skip
_NAME_STOPWORDS = frozenset(
    {"оглы", "огли", "кызы", "қызы", "кизи", "улы", "ұлы", "уулу", "ogli", "qizi", "kyzy", "uly",
     "uulu", "ibn", "bin", "al", "ad", "ar", "van", "der", "de", "la"}
)  # fmt: skip


def _skeletons(word: str) -> tuple[str, ...]:
    """Spelling-neutral skeletons of one word (Cyrillic or any Latin romanisation)."""
    s = unicodedata.normalize("NFKC", word).lower().translate(_SKELETON_TABLE)
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    s = s.replace("shch", "sh")
    s = re.sub("dzh|zh|dj", "j", s)
    s = s.replace("kh", "h").replace("q", "k").replace("w", "v")
    s = re.sub("c(?!h)", "k", s)
    s = re.sub("i+", "i", s.replace("y", "i"))
    s = re.sub("^ie", "e", s)
    if "x" in s:  # Uzbek Latin x = Cyrillic х; English x = кс
        return (s.replace("x", "h"), s.replace("x", "ks"))
    return (s,)


_NAME_ENDINGS = frozenset(sk for e in _NAME_ENDINGS_RAW for sk in _skeletons(e))
_MAX_ENDING = max(len(e) for e in _NAME_ENDINGS)


def _name_stems(skeleton: str) -> tuple[set[str], set[str]]:
    """Stems of a name skeleton: (stems, stems that need a capital letter).

    The nominative, plus the nominative without a final vowel group (``saparova`` ->
    ``saparov``) when at least 4 letters remain; a 3-letter stem (``anna`` -> ``ann``,
    ``mira`` -> ``mir``) only matches a word written with a capital, so that ``мир`` (peace)
    is not taken for ``Мира``.
    """
    stems, capital = {skeleton}, set()
    for k in (1, 2, 3):
        head, tail = skeleton[:-k], skeleton[-k:]
        if len(tail) == k and all(c in "aeiou" for c in tail):
            if len(head) >= 4:
                stems.add(head)
            elif k == 1 and len(head) == 3:
                capital.add(head)
    return stems, capital


def _looks_like_amount(text: str, start: int, end: int) -> bool:
    """A round amount in thousands grouping (``120 000 000``), or the tail of one."""
    candidate = text[start:end]
    if candidate.startswith("+") or re.match(r"00[1-9]", candidate):
        return False
    if not _THOUSANDS.fullmatch(candidate):
        return False
    before = text[:start].rstrip(" \u00a0")
    return candidate.endswith("000") or before[-1:].isdigit()


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _replace_spans(text: str, spans: list[tuple[int, int]], placeholder: str) -> str:
    for start, end in reversed(spans):
        text = text[:start] + placeholder + text[end:]
    return text


class Redactor:
    """Replace personal data in free-text answers by typed placeholders (R-PII-01, R-PII-02).

    Layers, in this order (each works on the output of the previous one, and placeholders
    contain no digit, ``@`` or dot, so no later layer can match part of an earlier one):

    1. e-mail addresses (also ``name [at] host [dot] kz``) -> ``[EMAIL]``;
    2. links (``https://``, ``www.``, bare domains such as ``t.me/...``, ``wa.me/...``) ->
       ``[URL]``; messenger handles ``@name`` -> ``[HANDLE]``;
    3. ID numbers: runs of exactly 12 (KZ IIN) or 14 (UZ/KG PINFL) digits, passport-like
       numbers (1–2 Latin or Cyrillic letters + 7–8 digits, Russian ``45 12 345678``) -> ``[ID]``;
    4. phone numbers: ``phonenumbers.PhoneNumberMatcher`` (leniency VALID) for each region
       KZ, KG, TJ, TM, UZ, RU, AF, plus a fallback pattern for numbers that start with ``+``,
       ``00``, ``8`` or ``0`` and have 9 or more digits, and for the local grouping
       ``(90) 123-45-67`` / ``701 123 45 67`` (round amounts such as ``120 000 000``
       excepted) -> ``[PHONE]``; then any remaining run of 9
       or more digits -> ``[ID]``;
    5. ``extra_terms`` (agencies, units, places): case-insensitive phrase; every word of five
       letters or more may lose its last one (two from seven letters) and take up to four
       others, to cover Russian case endings (``Министерство`` -> ``Министерстве``) -> ``[ORG]``;
    6. roster names -> ``[NAME]``.

    Roster names are matched word by word. Every part of a roster entry (first name,
    patronymic, surname) is a name on its own, so full names in any order are covered;
    adjacent name words and initials (``А.Н.``) become a single placeholder. A word matches a
    part when, after both are reduced to a *skeleton* (Cyrillic transliterated to Latin with
    one fixed table covering Russian, Kazakh, Uzbek, Kyrgyz and Tajik letters; Latin
    ``sh/ş/š``, ``zh/j/ž``, ``kh/h/x``, ``q/k``, ``y/i`` and apostrophes folded), the word
    equals a *stem* of the part followed by one of a fixed list of endings. Stems are the
    nominative and the nominative without its final vowel(s) (``Сапарова`` -> ``Сапаров``),
    kept when at least 4 letters remain; a 3-letter stem (``Анна`` -> ``Анн``, ``Мира`` ->
    ``Мир``) only matches a word written with a capital. Endings are the
    Russian case endings of nouns, patronymics and surnames (``а, я, у, ю, ом, ем, ым, им,
    ой, ей, е, ы, и, ов, ев, ову, овой, ого, ому, ...``) and Kazakh/Uzbek/Kyrgyz suffixes
    (``-га, -ни, -нинг, -дан, -ga, -ning, ...``). Parts of three letters or fewer (``Ли``,
    ``Ким``) only match the exact word written with a capital letter. Matching is otherwise
    case-insensitive, so a name that is also a common word (``Вера``, ``Надежда``) is redacted
    everywhere: privacy wins over readability. Not covered: vowel changes inside a name
    (``Павел`` -> ``Павла``), nicknames and spellings outside the folding rules.

    The roster is kept only in memory in this derived form; it never appears in ``repr``,
    logs or error messages, and a Redactor refuses to be pickled.

    Parameters
    ----------
    roster_names : iterable of str
        Participant, trainer and organiser names, in Cyrillic or Latin script. Missing values
        (``None``, ``NaN``) are skipped.
    extra_terms : iterable of str
        Other terms to hide (agency or unit names, small villages) -> ``[ORG]``.
    placeholder_language : {"en", "ru"}
        ``"ru"`` gives ``[ИМЯ]``, ``[ТЕЛЕФОН]``, ``[EMAIL]``, ``[ID]``, ``[ССЫЛКА]``,
        ``[АККАУНТ]`` and ``[ОРГ]``.

    Examples
    --------
    >>> r = Redactor(["Айгерим Нурлановна Сапарова"])
    >>> r
    Redactor(roster_names=<1 entries>, extra_terms=<0 entries>, placeholder_language='en')
    >>> r.redact("Спасибо Айгерим Нурлановне! Пишите: a.saparova@mail.kz").text
    'Спасибо [NAME]! Пишите: [EMAIL]'
    >>> r.redact("Saparova Aigerim, tel. +998 90 123 45 67").text
    '[NAME], tel. [PHONE]'
    >>> Redactor(placeholder_language="ru").redact("звоните 8 (701) 123-45-67").text
    'звоните [ТЕЛЕФОН]'
    """

    def __init__(
        self,
        roster_names: Iterable[str] = (),
        extra_terms: Iterable[str] = (),
        *,
        placeholder_language: Literal["en", "ru"] = "en",
    ):
        if placeholder_language not in PLACEHOLDERS:
            raise ValueError("placeholder_language must be 'en' or 'ru'.")
        self.placeholder_language = placeholder_language
        self._placeholders = PLACEHOLDERS[placeholder_language]
        self._stems: set[str] = set()
        self._capital_stems: set[str] = set()
        self._short: set[str] = set()
        self._cache: dict[str, tuple[str, ...]] = {}
        self._n_names = 0
        for index, entry in enumerate(roster_names):
            if _is_missing(entry):
                continue
            if not isinstance(entry, str):
                raise PrivacyError(f"Roster entry number {index + 1} is not text.")
            self._n_names += 1
            self._add_name(entry)
        self._terms: list[re.Pattern[str]] = []
        for index, term in enumerate(extra_terms):
            if _is_missing(term):
                continue
            if not isinstance(term, str):
                raise PrivacyError(f"Extra term number {index + 1} is not text.")
            pattern = self._term_pattern(term)
            if pattern is not None:
                self._terms.append(pattern)

    def _add_name(self, entry: str) -> None:
        for part in _WORD.findall(entry):
            letters = "".join(c for c in part if c.isalpha())
            if len(letters) < 2 or part.lower() in _NAME_STOPWORDS:
                continue
            variants = {part}
            if "ё" in part.lower():
                variants.add(part.replace("ё", "е").replace("Ё", "Е"))
            for variant in variants:
                for skeleton in _skeletons(variant):
                    if len(letters) <= 3 or len(skeleton) <= 3:
                        self._short.add(skeleton)
                    else:
                        stems, capital = _name_stems(skeleton)
                        self._stems.update(stems)
                        self._capital_stems.update(capital)

    @staticmethod
    def _term_pattern(term: str) -> re.Pattern[str] | None:
        words = _WORD.findall(term) or [w for w in term.split() if w]
        if not words:
            return None
        parts = []
        for word in words:
            cut = 2 if len(word) >= 7 else 1 if len(word) >= 5 else 0
            stem = word[: len(word) - cut]
            parts.append(re.escape(stem) + (r"\w{0,4}" if cut else r"\w{0,3}"))
        body = r"[\s\-]+".join(parts)
        return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)

    def __repr__(self) -> str:
        return (
            f"Redactor(roster_names=<{self._n_names} entries>, "
            f"extra_terms=<{len(self._terms)} entries>, "
            f"placeholder_language={self.placeholder_language!r})"
        )

    __str__ = __repr__

    def __reduce__(self):
        raise PrivacyError("A Redactor holds roster names and cannot be pickled.")

    # --- layers ---------------------------------------------------------------------------

    def _sub(
        self,
        text: str,
        pattern: re.Pattern[str],
        kind: str,
        counts: dict[str, int],
        trim: bool = False,
    ) -> str:
        spans = []
        for match in pattern.finditer(text):
            start, end = match.span()
            if trim:
                while end > start and text[end - 1] in _TRAILING_PUNCT:
                    end -= 1
            if end > start:
                spans.append((start, end))
        counts[kind] += len(spans)
        return _replace_spans(text, spans, self._placeholders[kind])

    def _phones(self, text: str, counts: dict[str, int]) -> str:
        if sum(c.isdigit() for c in text) < 7:
            return text
        spans: list[tuple[int, int]] = []
        for region in _PHONE_REGIONS:
            try:
                for match in phonenumbers.PhoneNumberMatcher(text, region):
                    if not _looks_like_amount(text, match.start, match.end):
                        spans.append((match.start, match.end))
            except Exception:  # the fallback pattern below still runs
                continue
        for pattern in (_PHONE_FALLBACK, _PHONE_LOCAL):
            for match in pattern.finditer(text):
                digits = sum(c.isdigit() for c in match.group())
                if digits >= 9 and not _looks_like_amount(text, *match.span()):
                    spans.append(match.span())
        merged = _merge_spans(spans)
        counts["phone"] += len(merged)
        return _replace_spans(text, merged, self._placeholders["phone"])

    def _is_name(self, token: str) -> bool:
        skeletons = self._cache.get(token)
        if skeletons is None:
            if len(self._cache) > 100_000:
                self._cache.clear()
            skeletons = self._cache[token] = _skeletons(token)
        capitalised = token[:1].isupper()
        for skeleton in skeletons:
            if skeleton in self._short:
                if capitalised:
                    return True
                continue
            size = len(skeleton)
            for k in range(0, min(size, _MAX_ENDING) + 1):
                if skeleton[size - k :] not in _NAME_ENDINGS:
                    continue
                stem = skeleton[: size - k]
                if stem in self._stems or (capitalised and stem in self._capital_stems):
                    return True
        return False

    def _names(self, text: str, counts: dict[str, int]) -> str:
        spans: list[tuple[int, int]] = []
        for match in _WORD.finditer(text):
            start, end = match.span()
            token = match.group()
            if (
                token.lower() in _PLACEHOLDER_WORDS
                and text[start - 1 : start] == "["
                and text[end : end + 1] == "]"
            ):
                continue
            if self._is_name(token):
                spans.append((start, end))
        if not spans:
            return text
        grouped: list[tuple[int, int]] = [spans[0]]
        for start, end in spans[1:]:
            gap = text[grouped[-1][1] : start]
            if gap.strip(" \t\u00a0-") == "" and "\n" not in gap:
                grouped[-1] = (grouped[-1][0], end)
            else:
                grouped.append((start, end))
        counts["name"] += len(grouped)
        placeholder = self._placeholders["name"]
        text = _replace_spans(text, grouped, placeholder)
        escaped = re.escape(placeholder)
        text = re.sub(_INITIALS_BEFORE + escaped, placeholder, text)
        return re.sub(escaped + _INITIALS_AFTER, placeholder, text)

    # --- public ---------------------------------------------------------------------------

    def redact(self, text: str) -> RedactionResult:
        """Redact one free-text answer.

        Parameters
        ----------
        text : str
            The answer. ``None`` or ``NaN`` gives an empty text; another non-text value is
            converted with ``str`` first. Never raises on any text.

        Returns
        -------
        RedactionResult
            The redacted text and the number of replacements per type.

        Examples
        --------
        >>> result = Redactor().redact("Write to @ivan_k or ivan@example.org")
        >>> result.text, result.counts["handle"], result.counts["email"]
        ('Write to [HANDLE] or [EMAIL]', 1, 1)
        >>> Redactor().redact("Part 2 on 22 May 2018 was useful, 10 of 12 sessions").total
        0
        """
        counts = dict.fromkeys(_TYPES, 0)
        if _is_missing(text):
            return RedactionResult("", counts)
        text = str(text)
        text = self._sub(text, _EMAIL, "email", counts)
        text = self._sub(text, _URL, "url", counts, trim=True)
        text = self._sub(text, _HANDLE, "handle", counts)
        text = self._sub(text, _ID_STRICT, "id", counts)
        text = self._phones(text, counts)
        text = self._sub(text, _ID_RUN, "id", counts)
        for pattern in self._terms:
            text = self._sub(text, pattern, "org", counts)
        if self._stems or self._short:
            text = self._names(text, counts)
        return RedactionResult(text, counts)

    def redact_series(
        self, series: pd.Series, *, return_counts: bool = False
    ) -> pd.Series | tuple[pd.Series, pd.DataFrame]:
        """Redact every cell of a free-text column; missing cells stay missing.

        Parameters
        ----------
        series : Series
        return_counts : bool
            Also return a DataFrame of replacement counts per cell (same index, one column per
            type), e.g. to build the human review queue (R-PII-04).

        Returns
        -------
        Series, or (Series, DataFrame)
            Redacted text with the same index and name, dtype ``object``.

        Examples
        --------
        >>> import pandas as pd
        >>> s = pd.Series(["call +7 701 123 45 67", None, "fine"], dtype=object)
        >>> Redactor().redact_series(s).tolist()
        ['call [PHONE]', None, 'fine']
        """
        texts: list[object] = []
        rows: list[dict[str, int]] = []
        for value in series.tolist():
            if _is_missing(value):
                texts.append(value)
                rows.append(dict.fromkeys(_TYPES, 0))
                continue
            result = self.redact(value)
            texts.append(result.text)
            rows.append(result.counts)
        out = pd.Series(texts, index=series.index, name=series.name, dtype=object)
        if not return_counts:
            return out
        counts = pd.DataFrame(rows, index=series.index, columns=list(_TYPES), dtype="int64")
        return out, counts
