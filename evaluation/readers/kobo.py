"""KoboToolbox exports (kpi/formpack): CSV (``;``, every field quoted) and XLSX.

Headers are XML names (``"XML values and headers"``) or labels in a form language, with group
paths joined by ``/`` when "include groups in headers" is set. Select-multiple questions come
as a summary column (space-separated codes or labels) followed by 0/1 detail columns
``<path>/<option>``. Metadata follow the questions: ``_id, _uuid, _submission_time,
_validation_status, _notes, _status, _submitted_by, __version__, _tags, _index``;
``_submission_time`` is UTC without an offset, ``_validation_status`` is a uid
(``validation_status_approved``) or its label. Edited submissions may carry ``deprecatedID``
(the previous version) and ``rootUuid`` (the original).
"""

from __future__ import annotations

from collections.abc import Sequence

from evaluation.readers.decoding import fold_for_matching
from evaluation.readers.generic import SourceProfile

__all__ = ["KoboSource"]


class KoboSource(SourceProfile):
    """KoboToolbox CSV or XLSX export.

    Examples
    --------
    >>> KoboSource().signature(["q1", "_id", "_uuid", "_submission_time"])
    'headers _uuid and _submission_time (KoboToolbox export)'
    >>> KoboSource().signature(["q1", "KEY"]) is None
    True
    """

    name = "kobo"
    title = "KoboToolbox"
    naive_times_are_utc = True
    meta_names = {
        "submission_id": ("_uuid", "instanceID"),
        "submitted_at": ("_submission_time",),
        "review_state": ("_validation_status",),
        "workshop_id": ("workshop_id",),
        "deprecated_id": ("deprecatedID",),
        "root_id": ("rootUuid",),
    }

    def signature(self, headers: Sequence[str]) -> str | None:
        folded = {fold_for_matching(h) for h in headers}
        if {"_uuid", "_submission_time"} <= folded:
            return "headers _uuid and _submission_time (KoboToolbox export)"
        return None
