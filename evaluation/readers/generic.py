"""Generic tables, and the base of every export dialect (:class:`SourceProfile`).

A *profile* knows what one survey tool writes around the answers: its header signature, its
metadata columns (submission id, submission time, review state, completeness), how it dates
submissions and whether it adds header rows. The answers themselves are mapped by
:mod:`evaluation.readers.mapping`, the same way for every tool.

A generic table is anything else: an Excel sheet typed from paper forms, a Google Forms export,
a file with item ids or question texts as headers (or a ``header_map`` in ``workshop.yaml``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import pandas as pd

from evaluation.readers.decoding import (
    RawTable,
    fold_for_matching,
    normalize_cell,
    parse_excel_serial_date,
)

__all__ = [
    "META_ROLES",
    "REVIEW_STATES",
    "GenericSource",
    "Prepared",
    "SourceProfile",
    "normalize_review_state",
    "parse_timestamp",
]

#: Metadata a profile may find: submission id and time, review state, workshop, superseded id,
#: and a "finished" flag (Qualtrics).
META_ROLES = ("submission_id", "submitted_at", "review_state", "workshop_id", "deprecated_id",
              "root_id", "finished")
#: Normalised review states (``None`` when not reviewed).
REVIEW_STATES = ("approved", "not_approved", "on_hold", "rejected", "has_issues")

_REVIEW = {
    "approved": "approved",
    "validationstatusapproved": "approved",
    "одобрено": "approved",
    "одобрен": "approved",
    "утверждено": "approved",
    "принято": "approved",
    "notapproved": "not_approved",
    "validationstatusnotapproved": "not_approved",
    "неодобрено": "not_approved",
    "неодобрен": "not_approved",
    "неутверждено": "not_approved",
    "onhold": "on_hold",
    "validationstatusonhold": "on_hold",
    "наудержании": "on_hold",
    "вожидании": "on_hold",
    "нарассмотрении": "on_hold",
    "отложено": "on_hold",
    "rejected": "rejected",
    "отклонено": "rejected",
    "hasissues": "has_issues",
    "естьпроблемы": "has_issues",
    "естьвопросы": "has_issues",
}
_REVIEW_NONE = {"", "edited", "received", "none", "null", "notreviewed", "новое", "new"}
_UID = re.compile(r"validation_status_[a-z_]+")
_DAYFIRST = re.compile(r"^\d{1,2}[./]\d{1,2}[./]\d{2,4}\b")
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)


def normalize_review_state(value: object) -> tuple[str | None, bool]:
    """Normalise a review or validation status to one of :data:`REVIEW_STATES` or ``None``.

    Reads Kobo ``_validation_status`` (uid such as ``validation_status_approved``, or the label
    in English or Russian) and ODK Central ``ReviewState`` (``approved``, ``hasIssues``,
    ``rejected``, ``edited``). ``edited`` and empty cells mean "not reviewed" (``None``).

    Returns
    -------
    (str or None, bool)
        The state and whether the value was recognised.

    Examples
    --------
    >>> normalize_review_state("validation_status_not_approved")
    ('not_approved', True)
    >>> normalize_review_state("На удержании"), normalize_review_state("hasIssues")
    (('on_hold', True), ('has_issues', True))
    >>> normalize_review_state("edited"), normalize_review_state("zzz")
    ((None, True), (None, False))
    """
    text = fold_for_matching(value)
    m = _UID.search(text)
    if m:
        text = m.group(0)
    key = re.sub(r"[\W_]+", "", text)
    if key in _REVIEW:
        return _REVIEW[key], True
    if key in _REVIEW_NONE:
        return None, True
    return None, False


def parse_timestamp(
    value: object,
    naive_is_utc: bool = False,
    time_zone: str | None = None,
    epoch1904: bool = False,
) -> pd.Timestamp | None:
    """Parse a submission time; aware results are converted to UTC.

    ISO 8601 (with or without offset), ``YYYY-MM-DD HH:MM:SS``, day-first ``DD.MM.YYYY`` and
    Excel serial numbers are read. A time without offset is taken as UTC when ``naive_is_utc``
    (KoboToolbox ``_submission_time``), in ``time_zone`` when given (Qualtrics), else left
    naive.

    Returns
    -------
    pandas.Timestamp or None
        ``None`` for an empty or unreadable value (never raises).

    Examples
    --------
    >>> parse_timestamp("2018-05-22T10:11:12.000-05:00")
    Timestamp('2018-05-22 15:11:12+0000', tz='UTC')
    >>> parse_timestamp("2018-05-22T10:11:12", naive_is_utc=True)
    Timestamp('2018-05-22 10:11:12+0000', tz='UTC')
    >>> parse_timestamp("22.05.2018 10:11")
    Timestamp('2018-05-22 10:11:00')
    >>> parse_timestamp("43242") , parse_timestamp("soon") is None
    (Timestamp('2018-05-22 00:00:00'), True)
    """
    text = normalize_cell(value)
    if not text:
        return None
    try:
        serial = parse_excel_serial_date(text, epoch1904=epoch1904)
        if serial is not None:
            ts = pd.Timestamp(serial)
        elif _ISO.fullmatch(text):
            try:  # ISO 8601: the parser to_datetime would choose, without guessing a format
                ts = pd.Timestamp(text)
            except Exception:
                ts = pd.Timestamp(pd.to_datetime(text, dayfirst=False))
        elif re.fullmatch(r"[\d.,\s]+", text) and not _DAYFIRST.match(text):
            return None
        else:
            ts = pd.Timestamp(pd.to_datetime(text, dayfirst=bool(_DAYFIRST.match(text))))
        if pd.isna(ts):
            return None
        if ts.tzinfo is not None:
            return ts.tz_convert("UTC")
        if naive_is_utc:
            return ts.tz_localize("UTC")
        if time_zone:
            return ts.tz_localize(time_zone, ambiguous="NaT", nonexistent="NaT").tz_convert("UTC")
        return ts
    except Exception:  # dateutil, zoneinfo and pandas raise many types on junk input
        return None


@dataclass
class Prepared:
    """An export after the profile removed what is not a data row.

    Attributes
    ----------
    frame : pandas.DataFrame
        The data rows (strings or ``None``), columns by position as in the file.
    source_rows : list of int
        1-based file row of each data row.
    headers : list of str
        The header of each column as found.
    alt_headers : list of str or None, optional
        A second header per column (Qualtrics question texts).
    extra_header_rows : int
        Rows after the first header row that are header rows too (Qualtrics: 2).
    time_zones : dict of int to str
        Column position → time zone of its naive times.
    notes : list of str
        Remarks for the ingest report (no cell values).
    """

    frame: pd.DataFrame
    source_rows: list[int]
    headers: list[str]
    alt_headers: list[str | None] | None = None
    extra_header_rows: int = 0
    time_zones: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _segments(header: str) -> list[str]:
    return [s for s in re.split(r"[/-]", fold_for_matching(header)) if s]


class SourceProfile:
    """What one survey tool writes around the answers. Subclass per tool.

    Examples
    --------
    >>> GenericSource().find_meta(["Timestamp", "q1", "workshop_id"])
    {'submitted_at': 0, 'workshop_id': 2}
    """

    #: Name used in ``workshop.yaml`` (``waves.<wave>.source``).
    name: ClassVar[str] = "generic"
    #: Human name for reasons and notes.
    title: ClassVar[str] = "generic table"
    #: Header names per metadata role, best first (matched folded, also by last path segment).
    meta_names: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "submission_id": ("submission_id", "_uuid", "KEY", "instanceID", "ResponseId",
                          "response_id"),
        "submitted_at": ("submitted_at", "_submission_time", "SubmissionDate", "RecordedDate",
                         "submitdate", "Timestamp", "Отметка времени"),
        "review_state": ("review_state", "_validation_status", "ReviewState"),
        "workshop_id": ("workshop_id",),
        "deprecated_id": ("deprecatedID", "deprecated_id"),
        "root_id": ("rootUuid", "root_uuid"),
    }
    #: Naive submission times are UTC (KoboToolbox).
    naive_times_are_utc: ClassVar[bool] = False
    #: Answer codes ``A1``.. and option codes ``SQ001``.. are read by position (LimeSurvey).
    positional_codes: ClassVar[bool] = False

    def signature(self, headers: Sequence[str]) -> str | None:
        """The reason this export comes from the tool, or ``None`` if its headers do not say so."""
        return None

    def prepare(self, raw: RawTable) -> Prepared:
        """Separate data rows from extra header rows (default: nothing to separate)."""
        return Prepared(
            frame=raw.frame,
            source_rows=list(raw.source_rows),
            headers=[normalize_cell(h) for h in raw.original_headers],
        )

    def find_meta(self, headers: Sequence[str]) -> dict[str, int]:
        """Position of the column used for each metadata role found in ``headers``."""
        folded = [fold_for_matching(h) for h in headers]
        last = [(_segments(h) or [""])[-1] for h in headers]
        found: dict[str, int] = {}
        used: set[int] = set()
        for role, names in self.meta_names.items():
            for name in names:
                key = fold_for_matching(name)
                hits = [i for i, f in enumerate(folded) if f == key and i not in used]
                if not hits:
                    hits = [i for i, f in enumerate(last) if f == key and i not in used]
                if hits:
                    found[role] = hits[0]
                    used.add(hits[0])
                    break
        return found

    def meta_like(self, headers: Sequence[str]) -> set[int]:
        """Positions of every header that names metadata (used or not)."""
        names = {fold_for_matching(n) for v in self.meta_names.values() for n in v}
        return {
            i for i, h in enumerate(headers)
            if fold_for_matching(h) in names or (_segments(h) or [""])[-1] in names
        }

    def complete(self, meta: Mapping[str, str | None]) -> bool:
        """Whether a submission is complete, from its metadata cells (default: yes)."""
        return True


class GenericSource(SourceProfile):
    """A plain table: item ids or question texts as headers, any metadata it happens to have."""

    name = "generic"
    title = "generic table"
