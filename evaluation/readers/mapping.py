"""Map export headers to instrument columns and answer values to choice codes.

Two jobs, both driven by the instrument (never by guesses about a particular file):

* :class:`HeaderIndex` resolves one export header to an instrument column of a wave: by item
  id (``rd_1``), by XLSForm name with a group path (Kobo ``readiness/rd_1``, ODK
  ``readiness-rd_1``), by question text in any instrument language, optionally prefixed by the
  section label (``"Thinking back.../I can explain..."`` resolves to ``rd_1_retro``), by
  LimeSurvey code (``rd1``, ``grid[rd1]``), and select-multiple detail columns
  (``plans/share``, ``ODK g-plans/share``, ``"Question/Option label"``, ``plans[SQ002]``).
  :func:`map_headers` applies it to a whole header row, honours an explicit ``header_map``
  and refuses two headers for the same column (:class:`~evaluation.errors.DialectError`).
* :class:`ChoiceMapper` maps an answer to a choice code: codes, labels in any language, folded
  for case, ``ё``/``е``, spacing, punctuation and Latin look-alike letters; gendered Russian
  forms (``согласен(-на)`` in the instrument matches ``согласен`` and ``согласна``); "don't know"
  answers to the list's missing code; optionally a leading digit (``"4 – скорее согласен"``).

Folding is for matching only: values are never rewritten except into codes.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.errors import DialectError, WorkshopConfigError
from evaluation.instrument import ChoiceList, Instrument, Item
from evaluation.readers.decoding import fold_for_matching, normalize_cell

__all__ = [
    "DK_SYNONYMS",
    "ChoiceMapper",
    "HeaderIndex",
    "HeaderMapping",
    "HeaderTarget",
    "form_columns",
    "gender_variants",
    "label_key",
    "map_headers",
    "truthy",
]

#: Answers read as "don't know" in any list that has a "don't know" missing code.
DK_SYNONYMS: tuple[str, ...] = (
    "Затрудняюсь ответить",
    "Затрудняюсь",
    "Не знаю",
    "Трудно сказать",
    "Не могу сказать",
    "Don't know",
    "Do not know",
    "Dont know",
    "DK",
    "Not sure",
)

_APOSTROPHES = re.compile(r"['’ʼ`´]")
_NON_WORD = re.compile(r"[\W_]+")
_GENDER = re.compile(r"(\w+)\s*\(\s*[-‐–]?\s*(\w+)\s*\)")
_SLASH_WORDS = re.compile(r"\b(\w+)/(\w+)\b")
_LEADING_DIGIT = re.compile(r"^\s*(\d{1,3})\s*(?:[-‐–—.:)]\s*|\s+|$)(.*)$", re.S)
_POSITIONAL = re.compile(r"^a(\d{1,3})$")
_SQ = re.compile(r"^sq0*(\d{1,3})$")
_BRACKETS = re.compile(r"^(.*?)\s*\[([^\[\]]+)\]\s*$", re.S)
_MAX_TOKENS = 200
_MAX_SEGMENT = 40


def label_key(value: object) -> str:
    """Fold a label for matching: case, ``ё``, look-alikes, apostrophes, punctuation, spaces.

    Parameters
    ----------
    value : object
        A label, header or answer.

    Returns
    -------
    str
        Lower-case words separated by single spaces (never stored, never shown).

    Examples
    --------
    >>> label_key("  Don’t   know! ")
    'dont know'
    >>> label_key("Полностью  согласен(-на)") == label_key("полностью СОГЛАСЕН (на)")
    True
    >>> label_key("Cогласен") == label_key("согласен")  # Latin C
    True
    """
    if type(value) is str:
        return _label_key_text(value)
    return _label_key(value)


def _label_key(value: object) -> str:
    text = _APOSTROPHES.sub("", fold_for_matching(value))
    return " ".join(_NON_WORD.sub(" ", text).split())


@functools.lru_cache(maxsize=1 << 16)
def _label_key_text(value: str) -> str:
    """:func:`label_key` of a string, memoised (a pure function of ``value``)."""
    return _label_key(value)


def gender_variants(label: str, limit: int = 64) -> list[str]:
    """Masculine and feminine readings of a label written with a gendered suffix.

    ``согласен(-на)`` gives ``согласен`` and ``согласна`` (among harmless non-words);
    ``присутствовал(-а)`` gives ``присутствовал`` and ``присутствовала``; ``согласен/согласна``
    gives both words.

    Parameters
    ----------
    label : str
        A label from the instrument.
    limit : int
        Upper bound on the number of variants returned.

    Returns
    -------
    list of str
        The variants, without ``label`` itself; empty when it has no gendered part.

    Examples
    --------
    >>> v = gender_variants("Полностью согласен(-на)")
    >>> "Полностью согласен" in v and "Полностью согласна" in v
    True
    >>> "Не пользовалась" in gender_variants("Не пользовался(-ась)")
    True
    >>> gender_variants("Да")
    []
    """
    parts: list[list[str]] = []
    pieces: list[str] = []
    pos = 0
    matches = list(_GENDER.finditer(label)) + list(_SLASH_WORDS.finditer(label))
    matches.sort(key=lambda m: m.start())
    for m in matches:
        if m.start() < pos:
            continue
        pieces.append(label[pos : m.start()])
        if m.re is _GENDER:
            stem, suffix = m.group(1), m.group(2)
            forms = [stem] + [
                stem[: len(stem) - k] + suffix for k in range(0, min(len(suffix), len(stem)) + 1)
            ]
        else:
            forms = [m.group(1), m.group(2)]
        parts.append(list(dict.fromkeys(forms)))
        pos = m.end()
    if not parts:
        return []
    tail = label[pos:]
    out: list[str] = []
    for combo in itertools.product(*parts):
        text = "".join(p + c for p, c in zip(pieces, combo, strict=True)) + tail
        if text != label:
            out.append(text)
        if len(out) >= limit:
            break
    return out


_DK_KEYS = frozenset(label_key(s) for s in DK_SYNONYMS)
_TRUE_KEYS = frozenset({"1", "1 0", "true", "y", "yes", "да", "x", "selected"})
_FALSE_KEYS = frozenset({"0", "0 0", "false", "n", "no", "нет", "not selected"})


class ChoiceMapper:
    """Map answers of one choice list to its codes.

    Parameters
    ----------
    choice_list : ChoiceList
        The list from the instrument.
    allow_leading_digit : bool
        Accept ``"4 – скорее согласен"`` as code ``4`` (when ``4`` is a code and the rest does
        not name another choice).
    positional_codes : bool
        Read LimeSurvey default answer codes ``A1``, ``A2``, ... as the first, second, ...
        choice of the list (scale choices, then missing ones) when no code is spelled so.

    Examples
    --------
    >>> from evaluation.instrument import ChoiceList, Choice
    >>> agree = ChoiceList("agree", (
    ...     Choice("1", {"en": "Disagree", "ru": "Не согласен(-на)"}),
    ...     Choice("2", {"en": "Agree", "ru": "Согласен(-на)"})),
    ...     missing=(Choice("dk", {"en": "Don't know", "ru": "Затрудняюсь ответить"}),),
    ...     ordered=True)
    >>> m = ChoiceMapper(agree)
    >>> [m.map(v) for v in ["2", "agree", "Не согласна", "СОГЛАСЕН", "Не знаю", "DK", "maybe"]]
    ['2', '2', '1', '2', 'dk', 'dk', None]
    >>> lead = ChoiceMapper(agree, allow_leading_digit=True)
    >>> m.map("2 – согласен") is None, lead.map("2 – согласен")
    (True, '2')
    >>> m.map_multiple("1 dk")
    ['1', 'dk']
    """

    def __init__(
        self,
        choice_list: ChoiceList,
        allow_leading_digit: bool = False,
        positional_codes: bool = False,
    ):
        self.choice_list = choice_list
        self.allow_leading_digit = allow_leading_digit
        self.positional_codes = positional_codes
        self.order = {c.code: i for i, c in enumerate(choice_list.all_choices)}
        self._codes: dict[str, str] = {}
        self._code_keys: dict[str, str] = {}
        self._labels: dict[str, str] = {}
        self._variants: dict[str, str] = {}
        self._dk: str | None = None
        self.positional_used = False
        self._memo: dict[str, str | None] = {}
        labels_amb: set[str] = set()
        variants_amb: set[str] = set()
        for choice in choice_list.all_choices:
            self._codes.setdefault(fold_for_matching(choice.code), choice.code)
            self._code_keys.setdefault(label_key(choice.code), choice.code)
            for text in choice.labels.values():
                _add(self._labels, labels_amb, label_key(text), choice.code)
                for variant in gender_variants(text):
                    _add(self._variants, variants_amb, label_key(variant), choice.code)
        for key in labels_amb:
            self._labels.pop(key, None)
        for key in variants_amb:
            self._variants.pop(key, None)
        for choice in choice_list.missing:
            keys = {label_key(t) for t in choice.labels.values()} | {label_key(choice.code)}
            if keys & _DK_KEYS:
                self._dk = choice.code
                break

    @property
    def dk_code(self) -> str | None:
        """The missing code that "don't know" answers become (``None`` if the list has none)."""
        return self._dk

    def _by_key(self, key: str) -> str | None:
        if not key:
            return None
        for table in (self._code_keys, self._labels, self._variants):
            if key in table:
                return table[key]
        if self._dk is not None and key in _DK_KEYS:
            return self._dk
        return None

    def map(self, value: object) -> str | None:
        """Return the code ``value`` stands for, or ``None`` when it matches no choice.

        Parameters
        ----------
        value : object
            One answer (an empty answer is the caller's business; it maps to ``None``).

        Returns
        -------
        str or None
        """
        if type(value) is not str:
            return self._map(value)
        try:
            return self._memo[value]
        except KeyError:
            code = self._memo[value] = self._map(value)
            return code

    def _map(self, value: object) -> str | None:
        folded = fold_for_matching(value)
        if not folded:
            return None
        if folded in self._codes:
            return self._codes[folded]
        code = self._by_key(label_key(folded))
        if code is not None:
            return code
        if self.allow_leading_digit:
            m = _LEADING_DIGIT.match(folded)
            if m and m.group(1) in self._codes:
                digit_code = self._codes[m.group(1)]
                rest = m.group(2).strip()
                rest_code = self._by_key(label_key(rest)) if rest else None
                if rest_code is None or rest_code == digit_code:
                    return digit_code
        if self.positional_codes:
            m = _POSITIONAL.match(folded)
            choices = self.choice_list.all_choices
            if m and 1 <= int(m.group(1)) <= len(choices):
                self.positional_used = True
                return choices[int(m.group(1)) - 1].code
        return None

    def map_multiple(self, value: object) -> list[str] | None:
        """Map a select-multiple summary cell (codes or labels separated by spaces).

        Codes are tried first; labels (which may contain spaces) are then segmented along the
        words of the cell. Returns the codes in list order, or ``None`` if any part is unknown.

        Parameters
        ----------
        value : object
            The summary cell.

        Returns
        -------
        list of str or None
        """
        folded = fold_for_matching(value)
        if not folded:
            return None
        tokens = [t for t in re.split(r"[\s,;]+", folded) if t]
        codes = [self.map(t) for t in tokens]
        if tokens and all(c is not None for c in codes):
            return self.sort_codes(c for c in codes if c is not None)
        whole = self.map(folded)
        if whole is not None:
            return [whole]
        words = label_key(folded).split()
        if not words or len(words) > _MAX_TOKENS:
            return None
        n = len(words)
        best: list[list[str] | None] = [None] * (n + 1)
        best[0] = []
        for i in range(n):
            if best[i] is None:
                continue
            for j in range(i + 1, min(n, i + _MAX_SEGMENT) + 1):
                code = self._by_key(" ".join(words[i:j]))
                if code is None:
                    continue
                candidate = best[i] + [code]  # type: ignore[operator]
                if best[j] is None or len(candidate) < len(best[j]):  # type: ignore[arg-type]
                    best[j] = candidate
        found = best[n]
        return None if found is None else self.sort_codes(found)

    def option(self, value: object) -> str | None:
        """Code of the option that a select-multiple detail header names (code or label).

        LimeSurvey's default subquestion codes ``SQ001``, ``SQ002``, ... name the first,
        second, ... option when no code is spelled so.
        """
        code = self.map(value)
        if code is not None:
            return code
        m = _SQ.match(fold_for_matching(value))
        choices = self.choice_list.all_choices
        if m and 1 <= int(m.group(1)) <= len(choices):
            self.positional_used = True
            return choices[int(m.group(1)) - 1].code
        return None

    def sort_codes(self, codes: Iterable[str]) -> list[str]:
        """Distinct codes in list order."""
        return sorted(set(codes), key=lambda c: self.order.get(c, len(self.order)))


def _add(table: dict[str, str], ambiguous: set[str], key: str, code: str) -> None:
    if not key:
        return
    if key in table and table[key] != code:
        ambiguous.add(key)
    table.setdefault(key, code)


def truthy(value: object) -> bool | None:
    """Read a select-multiple detail cell: ``True`` (selected), ``False``, or ``None`` (unknown).

    Examples
    --------
    >>> [truthy(v) for v in ["1", "0", "True", "Y", "Да", "maybe"]]
    [True, False, True, True, True, None]
    """
    key = label_key(value)
    if key in _TRUE_KEYS:
        return True
    if key in _FALSE_KEYS:
        return False
    return None


# ---- headers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeaderTarget:
    """Where a header's values go: an instrument column, or one option of a select-multiple."""

    column: str
    option: str | None = None

    @property
    def is_detail(self) -> bool:
        """True for a select-multiple detail (0/1) column."""
        return self.option is not None


def form_columns(instrument: Instrument, wave: str) -> list[tuple[str, Item, str]]:
    """``(column, item, section id)`` of every column of the ``wave`` form, in form order.

    The retrospective columns sit in the ``retro`` section (or at the end of the post form
    when the instrument has no such section), as the XLSForm export places them.

    Examples
    --------
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> cols = form_columns(load_instrument(default_instrument_path()), "post")
    >>> any(c.endswith("_retro") and s == "retro" for c, _, s in cols)
    True
    """
    section_ids = [s.id for s in instrument.sections]
    retro = instrument.items_for_wave("retro") if wave == "post" else []
    out: list[tuple[str, Item, str]] = []
    for sid in section_ids:
        if sid == "retro":
            out += [(it.retro_id, it, "retro") for it in retro]
            continue
        out += [(it.id, it, sid) for it in instrument.items_for_wave(wave) if it.section == sid]
    if retro and "retro" not in section_ids:
        out += [(it.retro_id, it, "retro") for it in retro]
    return out


def _alnum(value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.casefold())


class HeaderIndex:
    """Resolve export headers to the columns of one wave of an instrument.

    Parameters
    ----------
    instrument : Instrument
        The instrument.
    wave : str
        ``pre``, ``post`` or ``followup``.
    positional_options : bool
        Allow LimeSurvey ``SQ001``-style option codes (by position).

    Examples
    --------
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> idx = HeaderIndex(load_instrument(default_instrument_path()), "post")
    >>> idx.resolve("readiness/ud_drivers"), idx.resolve("profile-country")
    (HeaderTarget(column='ud_drivers', option=None), HeaderTarget(column='country', option=None))
    >>> idx.resolve("retro/ud_drivers_retro").column
    'ud_drivers_retro'
    >>> idx.resolve("no such column") is None
    True
    """

    def __init__(self, instrument: Instrument, wave: str, positional_options: bool = False):
        self.instrument = instrument
        self.wave = wave
        self.columns = form_columns(instrument, wave)
        self.order = {c: i for i, (c, _, _) in enumerate(self.columns)}
        self.item_of = {c: it for c, it, _ in self.columns}
        self.section_of = {c: s for c, _, s in self.columns}
        self.by_id = {fold_for_matching(c): c for c in self.order}
        alnum: dict[str, list[str]] = {}
        for c in self.order:
            alnum.setdefault(_alnum(c), []).append(c)
        self.by_alnum = {k: v[0] for k, v in alnum.items() if len(v) == 1 and k}
        self.by_text: dict[str, list[str]] = {}
        for c, it, _ in self.columns:
            for text in it.text.values():
                cols = self.by_text.setdefault(label_key(text), [])
                if c not in cols:
                    cols.append(c)
        self.sections: dict[str, str] = {}
        for sec in instrument.sections:
            self.sections[label_key(sec.id)] = sec.id
            for text in sec.labels.values():
                self.sections.setdefault(label_key(text), sec.id)
        self.option_mappers: dict[str, ChoiceMapper] = {}
        for c, it, _ in self.columns:
            clist = instrument.choice_list_of(it)
            if it.type == "multiple_choice" and clist is not None:
                self.option_mappers[c] = ChoiceMapper(clist, positional_codes=positional_options)

    def column_item(self, column: str) -> Item:
        """The item behind ``column`` (``<id>_retro`` gives the item ``<id>``)."""
        return self.item_of[column]

    # -- single header
    def resolve(self, header: str) -> HeaderTarget | list[str] | None:
        """Resolve one header.

        Returns
        -------
        HeaderTarget or list of str or None
            The target; a list of candidate columns when the header matches several (a
            question text shared by an item and its retrospective version); ``None`` when the
            header is not a column of the wave.
        """
        h = normalize_cell(header)
        if not h:
            return None
        found = self._by_name(h)
        if found is not None:
            return found
        found = self._by_brackets(h)
        if found is not None:
            return found
        found = self._by_label(h)
        if found is not None:
            return found
        return self._detail_by_label(h)

    def _id_column(self, name: str) -> str | None:
        key = fold_for_matching(name)
        if key in self.by_id:
            return self.by_id[key]
        segs = [s for s in re.split(r"[/-]", key) if s]
        if segs and segs[-1] in self.by_id:
            return self.by_id[segs[-1]]
        return None

    def _by_name(self, h: str) -> HeaderTarget | None:
        col = self._id_column(h)
        if col is not None:
            return HeaderTarget(col)
        if "/" in h:
            base, opt = h.rsplit("/", 1)
            col = self._id_column(base)
            if col is not None and col in self.option_mappers:
                code = self.option_mappers[col].option(opt)
                if code is not None:
                    return HeaderTarget(col, code)
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", h):
            col = self.by_alnum.get(_alnum(h))
            if col is not None:
                return HeaderTarget(col)
        return None

    def _by_brackets(self, h: str) -> HeaderTarget | list[str] | None:
        m = _BRACKETS.match(h)
        if not m:
            return None
        outer, inner = m.group(1).strip(), m.group(2).strip()
        inner_hit = self._by_name(inner) or self._by_label(inner)
        if isinstance(inner_hit, HeaderTarget) and not inner_hit.is_detail:
            return inner_hit
        if isinstance(inner_hit, list):
            section = self._section(outer)
            narrowed = [c for c in inner_hit if section and self.section_of[c] == section]
            return HeaderTarget(narrowed[0]) if len(narrowed) == 1 else inner_hit
        outer_hit = self._by_name(outer) or self._by_label(outer)
        if isinstance(outer_hit, HeaderTarget) and outer_hit.column in self.option_mappers:
            code = self.option_mappers[outer_hit.column].option(inner)
            if code is not None:
                return HeaderTarget(outer_hit.column, code)
        return None

    def _section(self, prefix: str) -> str | None:
        found = None
        for seg in prefix.split("/"):
            sid = self.sections.get(label_key(seg))
            if sid is not None:
                found = sid
        if found is None:
            found = self.sections.get(label_key(prefix))
        return found

    def _by_label(self, h: str) -> HeaderTarget | list[str] | None:
        cands = self.by_text.get(label_key(h))
        if cands:
            return HeaderTarget(cands[0]) if len(cands) == 1 else list(cands)
        for m in re.finditer(r"/| - ", h):
            prefix, suffix = h[: m.start()], h[m.end() :]
            cands = self.by_text.get(label_key(suffix))
            if not cands:
                continue
            if len(cands) == 1:
                return HeaderTarget(cands[0])
            section = self._section(prefix)
            narrowed = [c for c in cands if section and self.section_of[c] == section]
            return HeaderTarget(narrowed[0]) if len(narrowed) == 1 else list(cands)
        return None

    def _detail_by_label(self, h: str) -> HeaderTarget | None:
        for m in reversed(list(re.finditer(r"/| - ", h))):
            base, opt = h[: m.start()].strip(), h[m.end() :].strip()
            hit = self._by_name(base) or self._by_label(base)
            if isinstance(hit, HeaderTarget) and not hit.is_detail:
                mapper = self.option_mappers.get(hit.column)
                code = mapper.option(opt) if mapper is not None else None
                if code is not None:
                    return HeaderTarget(hit.column, code)
        return None


@dataclass
class HeaderMapping:
    """The result of :func:`map_headers`.

    Attributes
    ----------
    targets : dict of int to HeaderTarget
        Column position in the export → where its values go.
    summary : dict of str to int
        Select-multiple column → position of its summary column.
    details : dict of str to dict of str to int
        Select-multiple column → option code → position of its 0/1 detail column.
    dropped : list of int
        Positions of columns the instrument does not declare (and that are not metadata).
    missing : list of str
        Instrument columns of the wave that no header provides, in form order.
    notes : list of str
        Remarks for the ingest report (header names only).
    """

    targets: dict[int, HeaderTarget] = field(default_factory=dict)
    summary: dict[str, int] = field(default_factory=dict)
    details: dict[str, dict[str, int]] = field(default_factory=dict)
    dropped: list[int] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _short(header: str) -> str:
    return header if len(header) <= 80 else header[:77] + "..."


def map_headers(
    headers: Sequence[str],
    index: HeaderIndex,
    *,
    skip: Iterable[int] = (),
    header_map: Mapping[str, str] | None = None,
    alt_headers: Sequence[str | None] | None = None,
    file: str | Path = "export",
) -> HeaderMapping:
    """Map a header row to the instrument columns of one wave.

    Parameters
    ----------
    headers : sequence of str
        The headers as found, by position.
    index : HeaderIndex
        The index of the instrument and wave.
    skip : iterable of int
        Positions already used (metadata columns).
    header_map : mapping of str to str, optional
        Explicit ``header → column`` (or ``column/option code`` for a detail column), as given
        in ``workshop.yaml``; it wins over automatic mapping.
    alt_headers : sequence of str or None, optional
        A second header per position (the question texts of a Qualtrics export), tried when the
        first does not resolve.
    file : str or Path
        The export, for messages.

    Returns
    -------
    HeaderMapping

    Raises
    ------
    DialectError
        Two headers map to the same column (or option), or a question text matches several
        columns and the export gives no way to tell them apart.
    WorkshopConfigError
        ``header_map`` names a column that the wave does not have.

    Examples
    --------
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> idx = HeaderIndex(load_instrument(default_instrument_path()), "pre")
    >>> m = map_headers(["_uuid", "profile/country", "email"], idx, skip=[0])
    >>> m.targets, m.dropped
    ({1: HeaderTarget(column='country', option=None)}, [2])
    """
    skip_set = set(skip)
    explicit = _explicit_map(header_map or {}, index)
    targets: dict[int, HeaderTarget] = {}
    ambiguous: dict[int, list[str]] = {}
    result = HeaderMapping()
    for pos, header in enumerate(headers):
        if pos in skip_set:
            continue
        key = normalize_cell(header)
        hit: HeaderTarget | list[str] | None
        if key in explicit or fold_for_matching(key) in explicit:
            hit = explicit.get(key) or explicit[fold_for_matching(key)]
        else:
            hit = index.resolve(header)
            if hit is None and alt_headers is not None and pos < len(alt_headers):
                alt = alt_headers[pos]
                if alt:
                    alt = re.sub(r"\s+-\s+Selected Choice$", "", normalize_cell(alt))
                    hit = index.resolve(alt)
        if isinstance(hit, HeaderTarget):
            targets[pos] = hit
        elif isinstance(hit, list):
            ambiguous[pos] = hit
        else:
            result.dropped.append(pos)
    present_keys = {normalize_cell(h) for h in headers} | {fold_for_matching(h) for h in headers}
    for header in header_map or {}:
        if normalize_cell(header) not in present_keys:
            result.notes.append(f"header_map entry {_short(str(header))!r} matches no header.")
    taken = {t.column for t in targets.values() if not t.is_detail}
    groups: dict[tuple[str, ...], list[int]] = {}
    for pos, cands in ambiguous.items():
        left = [c for c in cands if c not in taken]
        if len(left) == 1:
            targets[pos] = HeaderTarget(left[0])
            taken.add(left[0])
            continue
        groups.setdefault(tuple(sorted(left, key=index.order.__getitem__)), []).append(pos)
    for cands, positions in groups.items():
        if len(cands) != len(positions):
            names = ", ".join(repr(c) for c in cands) or "columns already mapped"
            raise DialectError(
                file,
                f"the header matches several columns of the instrument ({names}) and the export "
                "has no group path to tell them apart; export with groups in headers or map it "
                "in header_map.",
                column=_short(normalize_cell(headers[positions[0]])),
            )
        for pos, col in zip(sorted(positions), cands, strict=True):
            targets[pos] = HeaderTarget(col)
        result.notes.append(
            f"Columns {', '.join(cands)} share one question text; they were assigned in form order."
        )
    seen: dict[HeaderTarget, int] = {}
    for pos in sorted(targets):
        target = targets[pos]
        if target in seen:
            first = normalize_cell(headers[seen[target]])
            what = target.column + (f" (option {target.option!r})" if target.option else "")
            raise DialectError(
                file,
                f"headers {_short(first)!r} and {_short(normalize_cell(headers[pos]))!r} both "
                f"map to {what}; remove one or say which one to use in header_map.",
            )
        seen[target] = pos
        if target.is_detail:
            result.details.setdefault(target.column, {})[target.option or ""] = pos
        else:
            result.summary[target.column] = pos
    result.targets = dict(sorted(targets.items()))
    present = set(result.summary) | set(result.details)
    result.missing = [c for c in index.order if c not in present]
    for col in result.details:
        if col in result.summary:
            result.notes.append(
                f"Column {col}: the 0/1 option columns were used; its summary column was ignored."
            )
    return result


def _explicit_map(header_map: Mapping[str, str], index: HeaderIndex) -> dict[str, HeaderTarget]:
    out: dict[str, HeaderTarget] = {}
    for header, target in header_map.items():
        name = str(target).strip()
        column, _, option = name.partition("/")
        if column not in index.order:
            raise WorkshopConfigError(
                None,
                "header_map",
                f"header {_short(str(header))!r} is mapped to {name!r}, which is not a column of "
                f"the {index.wave} form.",
            )
        code = None
        if option:
            mapper = index.option_mappers.get(column)
            code = mapper.option(option) if mapper is not None else None
            if code is None:
                raise WorkshopConfigError(
                    None,
                    "header_map",
                    f"header {_short(str(header))!r} is mapped to {name!r}, but {option!r} is "
                    f"not an option of {column}.",
                )
        hit = HeaderTarget(column, code)
        out[normalize_cell(header)] = hit
        out[fold_for_matching(header)] = hit
    return out
