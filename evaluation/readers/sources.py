"""Read one survey export in the instrument's terms: :func:`read_wave`.

The export dialect (KoboToolbox, ODK Central, LimeSurvey, Qualtrics or a generic table) is
detected from the header signature or given by the caller, and the reason is recorded. Headers
are mapped to the columns of the wave's form (:mod:`evaluation.readers.mapping`); every column
the instrument does not declare is dropped at read time and listed by name only (allow-list,
R-DP-01). Metadata columns are not answers but are used: submission id and time, review state,
completeness, the hidden ``workshop_id`` and Kobo's ``deprecatedID``.

Answers become choice codes (labels in any instrument language, gendered Russian forms, "don't
know" → the list's missing code), numbers (decimal comma or point) or strings (text and code
elements, kept as found for the privacy step). Nothing is silently lost: a closed answer that
matches no choice is listed in :attr:`WaveRead.unmapped` with its count and rows, and every row
with a problem is listed in :attr:`WaveRead.row_problems` with a reason that never quotes a
value of a free-text, number or code column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaluation.errors import WorkshopConfigError
from evaluation.instrument import FORM_WAVES, Instrument
from evaluation.readers.decoding import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_COLUMNS,
    Dialect,
    ReadWarning,
    normalize_cell,
    parse_number,
    read_table,
)
from evaluation.readers.generic import (
    GenericSource,
    SourceProfile,
    normalize_review_state,
    parse_timestamp,
)
from evaluation.readers.kobo import KoboSource
from evaluation.readers.limesurvey import LimeSurveySource
from evaluation.readers.mapping import ChoiceMapper, HeaderIndex, map_headers, truthy
from evaluation.readers.odk import OdkSource
from evaluation.readers.qualtrics import QualtricsSource

__all__ = [
    "PROFILES",
    "SOURCES",
    "META_COLUMNS",
    "WaveRead",
    "detect_source",
    "read_wave",
]

#: Profiles in detection order (the generic table last).
PROFILES: dict[str, SourceProfile] = {
    "kobo": KoboSource(),
    "odk": OdkSource(),
    "qualtrics": QualtricsSource(),
    "limesurvey": LimeSurveySource(),
    "generic": GenericSource(),
}
#: Accepted values of ``source`` (``auto`` detects).
SOURCES = ("auto", *PROFILES)
#: Columns of :attr:`WaveRead.meta`.
META_COLUMNS = ("source_row", "submission_id", "submitted_at", "review_state", "workshop_id",
                "complete", "deprecated_id", "root_id")
_CHOICE_TYPES = ("likert", "single_choice", "knowledge")
_MAX_SHOWN = 100


@dataclass(frozen=True)
class WaveRead:
    """One export read in the instrument's terms.

    Attributes
    ----------
    answers : pandas.DataFrame
        One row per data row, columns = the wave's instrument columns found, in the order of
        ``instrument.column_names(wave)``;
        values are choice codes (``str``; select-multiple: codes in list order joined by a
        space), ``float`` (numbers), ``str`` (text and code elements) or ``None``.
    meta : pandas.DataFrame
        Aligned with ``answers``: ``source_row`` (1-based file row), ``submission_id``,
        ``submitted_at`` (Timestamp; UTC where the export says so), ``review_state``
        (``approved``, ``not_approved``, ``on_hold``, ``rejected``, ``has_issues`` or
        ``None``), ``workshop_id``, ``complete`` (bool), ``deprecated_id`` (the previous
        version an edit replaces), ``root_id`` (Kobo ``rootUuid``: the original submission).
    source, source_reason : str
        The export dialect and why.
    column_headers : dict of str to list of str
        Instrument column → the header(s) it was read from.
    metadata_columns : dict of str to str
        Metadata role → header used.
    dropped_columns : list of str
        Headers of columns dropped because the instrument does not declare them (names only).
    missing_columns : list of str
        Required columns of the wave that the export lacks (older forms may lack items).
    missing_optional_columns : list of str
        Optional columns of the wave that the export lacks.
    unmapped : list of (str, str, int, list of int)
        Closed-answer values that match no choice: column, value, count, file rows.
    row_problems : list of (int, str, str)
        ``(source_row, column, reason)`` for rows to quarantine; reasons quote no value.
    notes : list of str
        Remarks for the ingest report (no cell values).
    encoding, encoding_reason, dialect, warnings, sha256, header_rows, blank_rows,
    malformed_rows
        As read by :func:`evaluation.readers.decoding.read_table` (``header_rows`` includes the
        extra Qualtrics header rows).
    rows_read : int
        Number of data rows (rows of ``answers``).
    file, wave : Path, str
        What was read.
    """

    answers: pd.DataFrame
    meta: pd.DataFrame
    source: str
    source_reason: str
    file: Path
    wave: str
    column_headers: dict[str, list[str]]
    metadata_columns: dict[str, str]
    dropped_columns: list[str]
    missing_columns: list[str]
    missing_optional_columns: list[str]
    unmapped: list[tuple[str, str, int, list[int]]]
    row_problems: list[tuple[int, str, str]]
    encoding: str
    encoding_reason: str
    dialect: Dialect | None
    warnings: list[ReadWarning]
    sha256: str
    header_rows: int
    blank_rows: int
    malformed_rows: list[tuple[int, str]]
    rows_read: int
    notes: list[str] = field(default_factory=list)

    @property
    def problem_rows(self) -> list[int]:
        """File rows with at least one row problem (quarantine candidates)."""
        return sorted({row for row, _, _ in self.row_problems})


def detect_source(headers: list[str], source: str = "auto") -> tuple[SourceProfile, str]:
    """Choose the export dialect from the header signature, or check a given one.

    Parameters
    ----------
    headers : list of str
        The first header row.
    source : str
        ``auto`` or one of :data:`SOURCES`.

    Returns
    -------
    (SourceProfile, str)
        The profile and the reason.

    Examples
    --------
    >>> p, why = detect_source(["SubmissionDate", "q1", "KEY"])
    >>> p.name, why
    ('odk', 'detected from headers SubmissionDate and KEY (ODK Central export)')
    >>> detect_source(["q1", "q2"])[1]  # doctest: +ELLIPSIS
    'no export signature in the header (...); read as a generic table'
    >>> detect_source(["q1"], "kobo")[1]
    'given as kobo by the caller'
    """
    if source not in SOURCES:
        raise WorkshopConfigError(
            None, "source", f"source {source!r} is not one of {', '.join(SOURCES)}."
        )
    if source != "auto":
        return PROFILES[source], f"given as {source} by the caller"
    for profile in PROFILES.values():
        reason = profile.signature(headers)
        if reason:
            return profile, f"detected from {reason}"
    return PROFILES["generic"], (
        "no export signature in the header (_uuid, SubmissionDate+KEY, ResponseId, "
        "id+submitdate); read as a generic table"
    )


def _shown(value: object) -> str:
    text = normalize_cell(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


#: Marks an empty cell in the per-value results of :func:`_distinct_map`.
_EMPTY = object()


def _distinct_map(values: list[object], convert) -> list[object]:
    """``[convert(v) for v in values]``, calling ``convert`` once per distinct value.

    ``convert`` must be a pure function of the value. Cells are strings or ``None``; any other
    value is converted on its own.
    """
    cache: dict[str | None, object] = {}
    out: list[object] = []
    append = out.append
    for value in values:
        if value is not None and type(value) is not str:
            append(convert(value))  # not cached: 1 and 1.0 (or True) are equal dict keys
            continue
        try:
            append(cache[value])
        except KeyError:
            cache[value] = result = convert(value)
            append(result)
    return out


def _detail_flag(value: object) -> object:
    if not normalize_cell(value):
        return _EMPTY
    return truthy(value)


def _multiple_with(mapper: ChoiceMapper):
    def convert(value: object) -> object:
        if not normalize_cell(value):
            return _EMPTY
        codes = mapper.map_multiple(value)
        return None if codes is None else " ".join(codes)
    return convert


def _single_with(mapper: ChoiceMapper):
    def convert(value: object) -> object:
        if not normalize_cell(value):
            return _EMPTY
        return mapper.map(value)
    return convert


def _number_with(decimal: str):
    def convert(value: object) -> object:
        if not normalize_cell(value):
            return _EMPTY
        return parse_number(value, decimal)
    return convert


def _text(value: object) -> object:
    text = normalize_cell(value) if value is not None else ""
    return text or None


def read_wave(
    path: str | Path,
    instrument: Instrument,
    wave: str,
    source: str = "auto",
    legacy_encoding: str = "cp1251",
    header_map: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    allow_leading_digit: bool = False,
    max_columns: int = DEFAULT_MAX_COLUMNS,
) -> WaveRead:
    """Read one survey export and return it in the instrument's terms.

    Parameters
    ----------
    path : str or Path
        The export (``.csv``, ``.tsv``, ``.txt`` or ``.xlsx``).
    instrument : Instrument
        The instrument the form was built from.
    wave : {"pre", "post", "followup"}
        The form the export belongs to (``post`` includes the ``<id>_retro`` columns).
    source : str
        ``auto`` (detect from the header), ``kobo``, ``odk``, ``limesurvey``, ``qualtrics`` or
        ``generic``.
    legacy_encoding : str
        Code page for text files that are not UTF-8.
    header_map : mapping of str to str, optional
        Explicit ``header → column`` (or ``column/option``) from ``workshop.yaml``.
    sheet : str or int, optional
        Worksheet of a workbook.
    max_bytes : int
        Size limit of the file.
    allow_leading_digit : bool
        Read ``"4 – скорее согласен"`` as code ``4``.
    max_columns : int
        Limit on the number of columns of the file.

    Returns
    -------
    WaveRead

    Raises
    ------
    InputFileError, EncodingProblem, DialectError
        The file cannot be read, or two headers map to the same column.
    WorkshopConfigError
        ``wave``, ``source`` or ``header_map`` is invalid.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> inst = load_instrument(default_instrument_path())
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "pre.csv"
    >>> _ = f.write_text('"profile/country";"readiness/ud_drivers";"email";"_uuid";'
    ...                  '"_submission_time";"_validation_status"\\n'
    ...                  '"KZ";"Скорее согласна";"a@b.kz";"u1";"2018-05-21T09:00:00";'
    ...                  '"validation_status_approved"\\n', encoding="utf-8")
    >>> w = read_wave(f, inst, "pre")
    >>> w.source, w.answers.loc[0, ["country", "ud_drivers"]].tolist(), w.dropped_columns
    ('kobo', ['KZ', '4'], ['email'])
    >>> w.meta.loc[0, ["submission_id", "review_state"]].tolist(), bool(w.meta.loc[0, "complete"])
    (['u1', 'approved'], True)
    >>> str(w.meta.loc[0, "submitted_at"])
    '2018-05-21 09:00:00+00:00'
    """
    path = Path(path)
    if wave not in FORM_WAVES:
        raise WorkshopConfigError(
            None, "wave", f"wave {wave!r} is not one of {', '.join(FORM_WAVES)}."
        )
    if source not in SOURCES:
        raise WorkshopConfigError(
            None, "source", f"source {source!r} is not one of {', '.join(SOURCES)}."
        )
    raw = read_table(
        path,
        legacy_encoding=legacy_encoding,
        languages=instrument.languages,
        header_rows="auto",
        max_bytes=max_bytes,
        max_columns=max_columns,
        sheet=sheet,
    )
    headers = [normalize_cell(h) for h in raw.original_headers]
    names = [str(c) for c in raw.frame.columns]
    profile, reason = detect_source(headers, source)
    notes: list[str] = []
    if source != "auto":
        detected, why = detect_source(headers, "auto")
        if detected.name != profile.name and detected.name != "generic":
            notes.append(f"The source was given as {source}, but the header suggests "
                         f"{detected.title} ({why}).")
    prepared = profile.prepare(raw)
    notes += prepared.notes
    frame = prepared.frame
    rows = prepared.source_rows
    meta_pos = profile.find_meta(headers)
    meta_like = profile.meta_like(headers) - set(meta_pos.values())
    index = HeaderIndex(instrument, wave, positional_options=profile.positional_codes)
    mapping = map_headers(
        headers,
        index,
        skip=set(meta_pos.values()),
        header_map=header_map,
        alt_headers=prepared.alt_headers,
        file=path,
    )
    notes += mapping.notes

    found = set(mapping.summary) | set(mapping.details)
    columns = [c for c in instrument.column_names(wave) if c in found]
    cells = {pos: list(frame.iloc[:, pos]) for pos in mapping.targets}
    n = len(frame)
    answers: dict[str, list[object]] = {}
    unmapped: dict[tuple[str, str], list[int]] = {}
    problems: list[tuple[int, str, str]] = []
    mappers: dict[str, ChoiceMapper] = {}
    decimal = raw.decimal

    def mapper_for(list_id: str) -> ChoiceMapper:
        if list_id not in mappers:
            mappers[list_id] = ChoiceMapper(
                instrument.choice_lists[list_id],
                allow_leading_digit=allow_leading_digit,
                positional_codes=profile.positional_codes,
            )
        return mappers[list_id]

    def bad_value(col: str, i: int, value: object) -> None:
        unmapped.setdefault((col, _shown(value)), []).append(rows[i])
        problems.append((rows[i], col, f"unmapped value in column {col}"))

    def not_a_number(col: str, i: int, value: object) -> None:
        problems.append((rows[i], col, "not a number"))  # the value is never quoted

    def convert(col: str, converter, on_failure) -> list[object]:
        """Convert each distinct cell of ``col`` once; empty stays None, failures are logged."""
        pos = mapping.summary[col]
        mapped = _distinct_map(cells[pos], converter)
        out: list[object] = [None] * n
        for i in range(n):
            value = mapped[i]
            if value is _EMPTY:
                continue
            if value is None:
                on_failure(col, i, cells[pos][i])
            else:
                out[i] = value
        return out

    for col in columns:
        item = index.item_of[col]
        out: list[object] = [None] * n
        if item.type == "multiple_choice" and item.choices:
            mapper = mapper_for(item.choices)
            if col in mapping.details:
                options = mapping.details[col]
                flags = {pos: _distinct_map(cells[pos], _detail_flag) for pos in options.values()}
                for i in range(n):
                    chosen: list[str] = []
                    bad = False
                    for code, pos in options.items():
                        flag = flags[pos][i]
                        if flag is _EMPTY:
                            continue
                        if flag is None:
                            bad_value(col, i, cells[pos][i])
                            bad = True
                        elif flag:
                            chosen.append(code)
                    if chosen and not bad:
                        out[i] = " ".join(mapper.sort_codes(chosen))
            else:
                out = convert(col, _multiple_with(mapper), bad_value)
        elif item.type in _CHOICE_TYPES and item.choices:
            out = convert(col, _single_with(mapper_for(item.choices)), bad_value)
        elif item.type == "number":
            out = convert(col, _number_with(decimal), not_a_number)
        else:
            pos = mapping.summary[col]
            out = _distinct_map(cells[pos], _text)
        answers[col] = out
    for list_id, mapper in mappers.items():
        if mapper.positional_used:
            notes.append(f"Default LimeSurvey codes (A1.., SQ001..) were read by position in "
                         f"list {list_id}.")

    meta, meta_notes = _meta(profile, frame, rows, meta_pos, prepared.time_zones, raw.epoch1904)
    notes += meta_notes
    answers_frame = pd.DataFrame(
        {c: pd.Series(v, dtype=object) for c, v in answers.items()},
        index=pd.RangeIndex(n),
        columns=pd.Index(columns, dtype=object),
    ).astype(object)
    column_headers: dict[str, list[str]] = {}
    for pos, target in mapping.targets.items():
        if target.is_detail and target.column in mapping.details:
            column_headers.setdefault(target.column, []).append(names[pos])
        elif not target.is_detail and target.column not in mapping.details:
            column_headers.setdefault(target.column, []).append(names[pos])
    dropped = [names[p] for p in sorted(set(mapping.dropped) | meta_like)]
    if dropped:
        notes.append(f"{len(dropped)} column(s) not declared by the instrument were dropped at "
                     "read time.")
    required = {c for c, it, _ in index.columns if it.required}
    unmapped_list = sorted(
        ((col, value, len(r), r) for (col, value), r in unmapped.items()),
        key=lambda t: (index.order[t[0]], -t[2], t[1]),
    )
    return WaveRead(
        answers=answers_frame,
        meta=meta,
        source=profile.name,
        source_reason=reason,
        file=path,
        wave=wave,
        column_headers=column_headers,
        metadata_columns={role: names[pos] for role, pos in meta_pos.items()},
        dropped_columns=dropped,
        missing_columns=[c for c in mapping.missing if c in required],
        missing_optional_columns=[c for c in mapping.missing if c not in required],
        unmapped=unmapped_list,
        row_problems=sorted(problems, key=lambda p: (p[0], index.order.get(p[1], 0))),
        encoding=raw.encoding,
        encoding_reason=raw.encoding_reason,
        dialect=raw.dialect,
        warnings=list(raw.warnings),
        sha256=raw.sha256,
        header_rows=raw.header_rows + prepared.extra_header_rows,
        blank_rows=raw.blank_rows,
        malformed_rows=list(raw.malformed_rows),
        rows_read=n,
        notes=notes,
    )


def _meta(
    profile: SourceProfile,
    frame: pd.DataFrame,
    rows: list[int],
    meta_pos: Mapping[str, int],
    time_zones: Mapping[int, str],
    epoch1904: bool,
) -> tuple[pd.DataFrame, list[str]]:
    n = len(frame)
    notes: list[str] = []
    raw_meta = {role: list(frame.iloc[:, pos]) for role, pos in meta_pos.items()}

    def cells(role: str) -> list[str | None]:
        values = raw_meta.get(role, [None] * n)
        return [normalize_cell(v) or None for v in values]

    times: list[pd.Timestamp | None] = []
    bad_times = 0
    zone = time_zones.get(meta_pos["submitted_at"]) if "submitted_at" in meta_pos else None
    parsed: dict[str | None, pd.Timestamp | None] = {}
    for value in cells("submitted_at"):
        if value in parsed:
            ts = parsed[value]
        else:
            ts = parsed[value] = parse_timestamp(value, profile.naive_times_are_utc, zone,
                                                 epoch1904)
        bad_times += value is not None and ts is None
        times.append(ts)
    if bad_times:
        notes.append(f"{bad_times} submission time(s) could not be read and were left empty.")
    aware = [t for t in times if t is not None and t.tzinfo is not None]
    naive = [t for t in times if t is not None and t.tzinfo is None]
    if aware and naive:
        notes.append("Some submission times have a time zone and some do not; all are shown "
                     "without one (UTC where it was known).")
        times = [t.tz_convert("UTC").tz_localize(None) if t is not None and t.tzinfo else t
                 for t in times]
    states: list[str | None] = []
    unknown = 0
    for value in cells("review_state"):
        state, known = normalize_review_state(value)
        unknown += not known
        states.append(state)
    if unknown:
        notes.append(f"{unknown} review state value(s) were not recognised and read as not "
                     "reviewed.")
    present = {role: cells(role) for role in meta_pos}
    complete = [
        bool(profile.complete({role: present[role][i] for role in present})) for i in range(n)
    ]
    if aware and not naive:
        time_col = pd.Series(times, dtype="datetime64[ns, UTC]")
    elif naive or aware:
        time_col = pd.Series(times, dtype="datetime64[ns]")
    else:
        time_col = pd.Series([pd.NaT] * n, dtype="datetime64[ns]")
    meta = pd.DataFrame(
        {
            "source_row": pd.Series(rows, dtype="int64"),
            "submission_id": pd.Series(cells("submission_id"), dtype=object),
            "submitted_at": time_col,
            "review_state": pd.Series(states, dtype=object),
            "workshop_id": pd.Series(cells("workshop_id"), dtype=object),
            "complete": pd.Series(complete, dtype=bool),
            "deprecated_id": pd.Series(cells("deprecated_id"), dtype=object),
            "root_id": pd.Series(cells("root_id"), dtype=object),
        },
        index=pd.RangeIndex(n),
    )
    return meta, notes
