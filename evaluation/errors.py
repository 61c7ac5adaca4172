"""Exceptions of the toolkit.

Every error the toolkit raises on purpose derives from :class:`EvaluationError`. Each carries
the context a user needs to fix the problem (file, row, column, item id, key) and renders as one
clear sentence; the command line prints that sentence and exits with a non-zero code, without a
traceback unless ``--debug`` is given.

No message may contain personal data: never put a cell value from a code, name or free-text
column into an error. Values of closed answer columns (e.g. an unmapped Likert label) may be
quoted, because they come from the instrument's vocabulary, not from the respondent.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "EvaluationError",
    "InstrumentError",
    "WorkshopConfigError",
    "InputFileError",
    "EncodingProblem",
    "DialectError",
    "UnmappedValuesError",
    "PrivacyError",
    "AnalysisError",
    "DisclosureError",
    "ReportError",
    "WarehouseError",
]


class EvaluationError(Exception):
    """Base class of all errors raised by the toolkit on purpose.

    Examples
    --------
    >>> from evaluation.errors import EvaluationError
    >>> str(EvaluationError("The workshop folder does not exist."))
    'The workshop folder does not exist.'
    """


def _where(file: str | Path | None, row: int | None, column: str | None) -> str:
    parts = []
    if file is not None:
        parts.append(f"file {Path(file).name}")
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column {column!r}")
    return ", ".join(parts)


class InstrumentError(EvaluationError):
    """An instrument (survey definition) is invalid.

    Parameters
    ----------
    path : str or Path or None
        The instrument file.
    problems : sequence of str
        One sentence per problem, each naming the item id concerned.

    Examples
    --------
    >>> err = InstrumentError("surveys/x.yaml", ["Item 'q1' has no Russian text."])
    >>> print(err)
    Instrument x.yaml has 1 problem: Item 'q1' has no Russian text.
    """

    def __init__(self, path: str | Path | None, problems: Sequence[str]):
        self.path = Path(path) if path is not None else None
        self.problems = list(problems)
        name = self.path.name if self.path is not None else "(in memory)"
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"Instrument {name} has {count} {noun}: " + " ".join(self.problems))


class WorkshopConfigError(EvaluationError):
    """``workshop.yaml`` is missing, malformed, or names something that does not exist.

    Examples
    --------
    >>> print(WorkshopConfigError("ws/workshop.yaml", "waves.pre.file", "is missing."))
    workshop.yaml, key 'waves.pre.file': is missing.
    """

    def __init__(self, path: str | Path | None, key: str | None, message: str):
        self.path = Path(path) if path is not None else None
        self.key = key
        self.detail = message
        where = self.path.name if self.path is not None else "workshop configuration"
        if key:
            where += f", key {key!r}"
        super().__init__(f"{where}: {message}")


class InputFileError(EvaluationError):
    """A survey export cannot be read as it is.

    Parameters
    ----------
    file : str or Path
        The export file.
    message : str
        What is wrong, as one sentence.
    row : int, optional
        1-based row number in the file (header rows count), when one row is concerned.
    column : str, optional
        The column header, when one column is concerned.

    Examples
    --------
    >>> print(InputFileError("pre.csv", "the file is empty.", row=None, column=None))
    file pre.csv: the file is empty.
    >>> print(InputFileError("pre.csv", "the value is not a number.", row=4, column="q1"))
    file pre.csv, row 4, column 'q1': the value is not a number.
    """

    def __init__(
        self,
        file: str | Path,
        message: str,
        row: int | None = None,
        column: str | None = None,
    ):
        self.file = Path(file)
        self.row = row
        self.column = column
        self.detail = message
        super().__init__(f"{_where(file, row, column)}: {message}")


class EncodingProblem(InputFileError):
    """The bytes of an export cannot be decoded safely with any allowed encoding."""


class DialectError(InputFileError):
    """The delimiter, header or layout of an export cannot be established."""


class UnmappedValuesError(InputFileError):
    """Answer values map to no code of the instrument and the policy is to stop.

    ``unmapped`` holds ``(column, value, count)`` triples, or ``(column, value, count, rows)``
    with the 1-based file rows, for closed-answer columns only. With rows, the message starts
    at the first row concerned and its column.

    Examples
    --------
    >>> print(UnmappedValuesError("pre.csv", [("q1", "9", 2, [7, 4]), ("q2", "x", 1, [5])]))
    file pre.csv, row 4, column 'q1': 2 answer value(s) match no choice of the instrument \
('q1': '9' (2x); 'q2': 'x' (1x)), the first in this row and column; fix the export or set \
ingest.unmapped_values: quarantine.
    """

    def __init__(self, file: str | Path, unmapped: Sequence[tuple]):
        self.unmapped = [tuple(u[:3]) for u in unmapped]
        listing = "; ".join(f"{col!r}: {val!r} ({n}x)" for col, val, n in self.unmapped[:10])
        more = "" if len(self.unmapped) <= 10 else f"; and {len(self.unmapped) - 10} more"
        located = [(min(u[3]), u[0]) for u in unmapped if len(u) > 3 and u[3]]
        row, column = min(located) if located else (None, None)
        first = ", the first in this row and column" if located and (
            len(self.unmapped) > 1 or self.unmapped[0][2] > 1) else ""
        super().__init__(
            file,
            f"{len(self.unmapped)} answer value(s) match no choice of the instrument "
            f"({listing}{more}){first}; fix the export or set ingest.unmapped_values: "
            "quarantine.",
            row=row,
            column=column,
        )


class PrivacyError(EvaluationError):
    """A privacy safeguard cannot be applied (e.g. no pseudonym key is configured)."""


class AnalysisError(EvaluationError):
    """The data do not allow a requested analysis."""


class DisclosureError(EvaluationError):
    """A table would leave the disclosure-control step unprotected."""


class ReportError(EvaluationError):
    """Rendering a report failed."""

    def __init__(self, workshop: str, message: str):
        self.workshop = workshop
        super().__init__(f"Report for workshop {workshop!r}: {message}")


class WarehouseError(EvaluationError):
    """The evaluation warehouse cannot be read or written."""
