"""Qualtrics CSV exports (Data & Analysis → Export → CSV, "use choice text" or numeric values).

Three header rows: the column ids (``StartDate, EndDate, Status, IPAddress, Progress,
Duration (in seconds), Finished, RecordedDate, ResponseId, Recipient..., ExternalReference,
Location..., DistributionChannel, UserLanguage`` then ``Q1``, ``Q2_1``, ... or renamed question
ids, then embedded data), the question texts (``"Matrix question - Statement"``, ``"... -
Selected Choice"``), and ``{"ImportId":"QID1"}`` JSON, which also gives the time zone of the
date columns (``{"ImportId":"recordedDate","timeZone":"America/Denver"}``). Rows 2 and 3 are
dropped from the data and counted as header rows. ``Finished`` is ``1``/``0`` (or
``True``/``False``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from evaluation.readers.decoding import RawTable, fold_for_matching, normalize_cell
from evaluation.readers.generic import Prepared, SourceProfile

__all__ = ["QualtricsSource"]


def _import_id(cell: object) -> dict | None:
    text = normalize_cell(cell)
    if not text.startswith("{") or "importid" not in text.casefold():
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class QualtricsSource(SourceProfile):
    """Qualtrics CSV export with its three header rows.

    Examples
    --------
    >>> QualtricsSource().signature(["StartDate", "Finished", "ResponseId", "Q1"])
    'header ResponseId (Qualtrics export)'
    >>> QualtricsSource().complete({"finished": "0"}), QualtricsSource().complete({})
    (False, True)
    """

    name = "qualtrics"
    title = "Qualtrics"
    meta_names = {
        "submission_id": ("ResponseId", "ResponseID", "Response ID"),
        "submitted_at": ("RecordedDate", "EndDate", "Recorded Date", "End Date"),
        "finished": ("Finished",),
        "workshop_id": ("workshop_id",),
    }

    def signature(self, headers: Sequence[str]) -> str | None:
        folded = {fold_for_matching(h) for h in headers}
        if "responseid" in folded:
            return "header ResponseId (Qualtrics export)"
        return None

    def prepare(self, raw: RawTable) -> Prepared:
        """Take the question-text and ImportId rows out of the data."""
        base = super().prepare(raw)
        frame = raw.frame
        n = len(frame)
        json_row = None
        for r in range(min(2, n)):
            row = list(frame.iloc[r])
            if sum(_import_id(c) is not None for c in row) >= max(1, len(row) // 2):
                json_row = r
                break
        if json_row is None:
            base.notes.append(
                "The Qualtrics export has no ImportId header row; only the first row was taken "
                "as the header."
            )
            return base
        alt = list(frame.iloc[0]) if json_row == 1 else None
        zones: dict[int, str] = {}
        for pos, cell in enumerate(frame.iloc[json_row]):
            data = _import_id(cell) or {}
            zone = data.get("timeZone")
            if isinstance(zone, str) and zone:
                zones[pos] = "UTC" if zone in ("Z", "GMT") else zone
        keep = json_row + 1
        return Prepared(
            frame=frame.iloc[keep:].reset_index(drop=True),
            source_rows=list(raw.source_rows[keep:]),
            headers=base.headers,
            alt_headers=[normalize_cell(a) or None for a in alt] if alt is not None else None,
            extra_header_rows=keep,
            time_zones=zones,
            notes=[],
        )

    def complete(self, meta: Mapping[str, str | None]) -> bool:
        """Qualtrics marks finished responses with ``Finished`` = 1 (or True)."""
        if "finished" not in meta:
            return True
        return fold_for_matching(meta.get("finished")) in ("1", "true", "1.0", "да", "yes")
