"""Validation that loses nothing: every row read ends in exactly one place.

A row of an export ends up

- in the **clean** data, or
- in the **quarantine** (``reports/<id>/ingest/quarantine.csv``: file, row number, column and
  reason; never a value), or
- among the rows **removed** for a stated reason (blank row, not approved in KoboToolbox,
  rejected in ODK Central, incomplete submission, duplicate submission id, identical answers,
  the same participant twice in the wave).

:class:`WaveValidation` checks ``read = kept + quarantined + removed`` before anyone can use it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaluation.errors import EvaluationError, UnmappedValuesError

__all__ = [
    "QuarantineEntry",
    "WaveValidation",
    "validate_wave",
    "remove_repeat_participants",
    "REMOVAL_REASONS",
]

REMOVAL_REASONS = {
    "blank": "blank row",
    "not_approved": "marked not approved in KoboToolbox",
    "rejected": "rejected in ODK Central review",
    "incomplete": "incomplete submission (not finished)",
    "superseded": "superseded by an edited version of the same submission",
    "duplicate_id": "duplicate submission id",
    "identical": "identical answers to an earlier submission (resent)",
    "repeat_participant": "same participant twice in this wave (kept the most complete, "
    "then the latest)",
}


@dataclass(frozen=True)
class QuarantineEntry:
    """One quarantined row: where it is and why. Never the value."""

    source_file: str
    row: int
    column: str | None
    reason: str


@dataclass
class WaveValidation:
    """The outcome of validating one wave's export."""

    wave: str
    source_file: str
    rows_read: int
    clean: pd.DataFrame
    quarantine: list[QuarantineEntry] = field(default_factory=list)
    removed: Counter = field(default_factory=Counter)

    @property
    def kept(self) -> int:
        """Rows in the clean data."""
        return len(self.clean)

    @property
    def quarantined(self) -> int:
        """Rows in the quarantine (a row with several problems counts once)."""
        return len({q.row for q in self.quarantine})

    @property
    def removed_total(self) -> int:
        """Rows removed, over all reasons."""
        return sum(self.removed.values())

    def check_accounting(self) -> None:
        """Raise if ``read = kept + quarantined + removed`` does not hold."""
        total = self.kept + self.quarantined + self.removed_total
        if total != self.rows_read:
            raise EvaluationError(
                f"Row accounting failed for {self.source_file}: read {self.rows_read}, "
                f"but kept {self.kept} + quarantined {self.quarantined} + removed "
                f"{self.removed_total} = {total}."
            )

    def summary(self) -> dict:
        """Counts for the ingest report."""
        return {
            "wave": self.wave,
            "file": self.source_file,
            "rows_read": self.rows_read,
            "kept": self.kept,
            "quarantined": self.quarantined,
            "removed": self.removed_total,
            "removed_by_reason": {REMOVAL_REASONS.get(k, k): v for k, v in
                                  sorted(self.removed.items())},
            "accounting_holds": self.kept + self.quarantined + self.removed_total
            == self.rows_read,
        }


def validate_wave(
    read,
    wave: str,
    source_file: str | Path,
    workshop_id: str | None,
    unmapped_policy: str = "quarantine",
    answer_columns: Sequence[str] | None = None,
) -> WaveValidation:
    """Split a read wave into clean rows, quarantined rows and removed rows.

    Parameters
    ----------
    read : WaveRead
        The output of :func:`evaluation.readers.read_wave`: ``answers`` and ``meta`` aligned
        row by row, ``row_problems``, ``malformed_rows``, ``blank_rows``, ``unmapped``.
    wave : str
    source_file : str or Path
        The export; only its name is recorded.
    workshop_id : str or None
        Rows whose hidden ``workshop_id`` names another workshop are quarantined.
    unmapped_policy : {"quarantine", "stop"}
        With ``"stop"``, unmapped answer values raise :class:`UnmappedValuesError` listing each
        distinct value with its count and column.
    answer_columns : sequence of str, optional
        Columns compared to find identical resent submissions (default: all answer columns).

    Returns
    -------
    WaveValidation
        ``clean`` holds the answers plus the meta columns, indexed by ``record_id``
        (``<wave>-<file row>``).
    """
    source = Path(source_file).name
    answers: pd.DataFrame = read.answers.reset_index(drop=True)
    meta: pd.DataFrame = read.meta.reset_index(drop=True)
    rows = meta["source_row"].astype(int).tolist()
    quarantine: list[QuarantineEntry] = []
    removed: Counter = Counter()

    malformed = list(getattr(read, "malformed_rows", []) or [])
    for row, reason in malformed:
        quarantine.append(QuarantineEntry(source, int(row), None, str(reason)))
    blank = int(getattr(read, "blank_rows", 0) or 0)
    if blank:
        removed["blank"] += blank

    if read.unmapped and unmapped_policy == "stop":
        raise UnmappedValuesError(
            source, [(col, val, int(n), *rest) for col, val, n, *rest in read.unmapped]
        )
    problem_rows: dict[int, list[tuple[str | None, str]]] = {}
    for row, column, reason in read.row_problems:
        problem_rows.setdefault(int(row), []).append((column, reason))

    n = len(answers)
    keep_list = [True] * n
    cols = list(answer_columns) if answer_columns is not None else list(answers.columns)
    cols = [c for c in cols if c in answers.columns]
    # one pass over the answer block (boxed as Python objects) and its missing-value mask
    values = answers[cols].astype(object).to_numpy() if cols else None
    missing = pd.isna(values) if values is not None else None
    no_answers = missing.all(axis=1).tolist() if missing is not None else [False] * n

    review = _column(meta, "review_state", None)
    complete = _column(meta, "complete", True)
    wsid = _column(meta, "workshop_id", None)
    for i, row in enumerate(rows):
        state = review[i]
        if state == "not_approved":
            removed["not_approved"] += 1
            keep_list[i] = False
        elif state == "rejected":
            removed["rejected"] += 1
            keep_list[i] = False
        elif complete[i] is False or complete[i] == False:  # noqa: E712
            removed["incomplete"] += 1
            keep_list[i] = False
        elif row in problem_rows:
            for column, reason in problem_rows[row]:
                quarantine.append(QuarantineEntry(source, row, column, reason))
            keep_list[i] = False
        elif workshop_id and isinstance(wsid[i], str) and wsid[i].strip() and \
                wsid[i].strip() not in (workshop_id, "unspecified"):
            quarantine.append(QuarantineEntry(
                source, row, "workshop_id", "the submission belongs to another workshop"))
            keep_list[i] = False
        elif cols and no_answers[i]:
            quarantine.append(QuarantineEntry(source, row, None, "the submission has no answers"))
            keep_list[i] = False

    # duplicates among the rows still kept: same submission id, then identical answers
    sub_ids = [_submission_key(x) for x in _column(meta, "submission_id", None)]
    # An edit supersedes the submission its ``deprecatedID`` names (Kobo, ODK: the previous
    # version) and, in Kobo, the original its ``rootUuid`` names, which finds the original even
    # when an intermediate version is missing from the export.
    roots = [_submission_key(x) for x in _column(meta, "root_id", None)]
    superseded = {key for i, x in enumerate(_column(meta, "deprecated_id", None))
                  if keep_list[i] and (key := _submission_key(x))}
    superseded |= {root for i, root in enumerate(roots)
                   if keep_list[i] and root and root != sub_ids[i]}
    for i in range(n):
        if keep_list[i] and sub_ids[i] and sub_ids[i] in superseded:
            removed["superseded"] += 1
            keep_list[i] = False
    # several kept edits of one original, none naming another (exports joined from different
    # days): the last in the file is the latest export's version
    last_of_root = {root: i for i, root in enumerate(roots) if keep_list[i] and root}
    for i, root in enumerate(roots):
        last = last_of_root.get(root)
        if keep_list[i] and root and last != i and sub_ids[i] != sub_ids[last]:  # not a resend
            removed["superseded"] += 1
            keep_list[i] = False
    seen_ids: set[str] = set()
    seen_answers: set[tuple] = set()
    for i in [j for j in range(n) if keep_list[j]]:
        sid = sub_ids[i]
        if isinstance(sid, str) and sid:
            if sid in seen_ids:
                removed["duplicate_id"] += 1
                keep_list[i] = False
                continue
            seen_ids.add(sid)
        signature: tuple = () if values is None else tuple(
            "\0" if m else str(v) for v, m in zip(values[i], missing[i], strict=True))
        if signature in seen_answers:
            removed["identical"] += 1
            keep_list[i] = False
            continue
        seen_answers.add(signature)

    keep = pd.Series(keep_list, index=answers.index, dtype=bool)
    clean = pd.concat([answers[keep], meta[keep]], axis=1)
    clean.index = [f"{wave}-{r}" for r in meta.loc[keep, "source_row"].astype(int)]
    clean.index.name = "record_id"
    result = WaveValidation(
        wave=wave,
        source_file=source,
        rows_read=len(answers) + len(malformed) + blank,
        clean=clean,
        quarantine=sorted(quarantine, key=lambda q: (q.row, q.column or "")),
        removed=removed,
    )
    result.check_accounting()
    return result


def _submission_key(value: object) -> str | None:
    """A submission id as compared across columns: Kobo writes ``_uuid`` without the OpenRosa
    ``uuid:`` prefix that ``deprecatedID`` and ``rootUuid`` carry.

    Examples
    --------
    >>> from evaluation.validation import _submission_key
    >>> _submission_key("uuid:5b1e-77"), _submission_key(" 5b1e-77 "), _submission_key("")
    ('5b1e-77', '5b1e-77', None)
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text[:5].lower() == "uuid:":
        text = text[5:].strip()
    return text or None


def _column(frame: pd.DataFrame, name: str, default: object) -> list:
    """The values of ``frame[name]`` as a list (``default`` per row when the column is absent)."""
    if name in frame.columns:
        return frame[name].tolist()
    return [default] * len(frame)


def remove_repeat_participants(
    validation: WaveValidation,
    participant_column: str,
    profile_columns: Iterable[str],
    answer_columns: Sequence[str],
) -> pd.Index:
    """Resolve the same participant appearing twice in one wave.

    Two submissions with the same pseudonymous participant code **and** the same profile
    (country, gender, sector) are one person answering twice: the most complete submission is
    kept, then the latest; the other is removed and counted. Submissions that share a code but
    differ in profile are two people whose codes collide; both stay (the matching step keeps
    them out of paired analysis).

    Returns the index of the removed records; ``validation`` is updated in place.
    """
    clean = validation.clean
    if participant_column not in clean.columns or clean.empty:
        return pd.Index([])
    profile = [c for c in profile_columns if c in clean.columns]
    answered = clean[[c for c in answer_columns if c in clean.columns]].notna().sum(axis=1)
    when = pd.to_datetime(clean.get("submitted_at"), errors="coerce", utc=True) \
        if "submitted_at" in clean.columns else pd.Series(pd.NaT, index=clean.index)
    order = pd.DataFrame({"answered": answered, "when": when,
                          "row": range(len(clean))}, index=clean.index)
    drop: list[str] = []
    keyed = clean[clean[participant_column].notna()]
    # group numbers follow the sorted group order; only groups of two or more need ranking
    group_of = keyed.groupby([participant_column, *profile], dropna=False, sort=True).ngroup()
    members: dict[int, list] = {}
    for label, number in zip(group_of.index, group_of.tolist(), strict=True):
        members.setdefault(number, []).append(label)
    for number in sorted(members):
        labels = members[number]
        if len(labels) < 2:
            continue
        ranked = order.loc[labels].sort_values(
            ["answered", "when", "row"], ascending=[False, False, False], na_position="last"
        )
        drop.extend(ranked.index[1:])
    if drop:
        validation.clean = clean.drop(index=drop)
        validation.removed["repeat_participant"] += len(drop)
        validation.check_accounting()
    return pd.Index(drop)
