"""LimeSurvey response exports (CSV or Excel, from the admin screen or RemoteControl).

Headings are question codes (``code``, ``code[SQ001]`` for array rows and multiple-choice
options), or full question texts (``"Question [Subquestion]"``). Responses are answer codes
(``A1``, ``A2``, ... by default, ``Y``/empty for multiple choice) or full answer texts.
Metadata: ``id``, ``submitdate`` (empty for an incomplete response), ``lastpage``,
``startlanguage``, ``seed``, ``token``, ``startdate``, ``datestamp``, ``ipaddr``, ``refurl``; in
full headings ``Response ID``, ``Date submitted``, ``Last page`` and so on. Times carry no
offset (server time).

Default answer codes ``A1``, ``A2``, ... and subquestion codes ``SQ001``, ... that are not
codes of the instrument are read as the first, second, ... option of the instrument's list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from evaluation.readers.decoding import fold_for_matching, normalize_cell
from evaluation.readers.generic import SourceProfile

__all__ = ["LimeSurveySource"]


class LimeSurveySource(SourceProfile):
    """LimeSurvey response export.

    Examples
    --------
    >>> LimeSurveySource().signature(["id", "submitdate", "lastpage", "token", "q1"])
    'headers id, submitdate and token (LimeSurvey export)'
    >>> LimeSurveySource().complete({"submitted_at": None})
    False
    """

    name = "limesurvey"
    title = "LimeSurvey"
    positional_codes = True
    meta_names = {
        "submission_id": ("id", "Response ID", "ID ответа"),
        "submitted_at": ("submitdate", "Date submitted", "Дата отправки"),
        "workshop_id": ("workshop_id", "workshopid"),
    }

    def signature(self, headers: Sequence[str]) -> str | None:
        folded = {fold_for_matching(h) for h in headers}
        if {"id", "submitdate"} <= folded:
            extra = " and token" if "token" in folded else ""
            return f"headers id, submitdate{extra} (LimeSurvey export)".replace(
                "id, submitdate (", "id and submitdate ("
            )
        if {"response id", "date submitted"} <= folded:
            return "headers Response ID and Date submitted (LimeSurvey export, full headings)"
        return None

    def complete(self, meta: Mapping[str, str | None]) -> bool:
        """A LimeSurvey response is complete when it has a submission date."""
        if "submitted_at" not in meta:
            return True
        return bool(normalize_cell(meta.get("submitted_at")))
