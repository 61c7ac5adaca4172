"""ODK Central CSV exports (``,``, RFC 4180 quoting).

Group paths are joined with ``-`` (``home-address-street``) unless exported with
``groupPaths=false``; ``splitSelectMultiples=true`` adds 0/1 columns ``<path>/<option>`` after
the space-separated summary column. Values only, never labels. Metadata: ``SubmissionDate``
(UTC, ``Z``), ``meta-instanceID``, ``KEY`` (the instance id), ``SubmitterID``,
``SubmitterName``, ``AttachmentsPresent``, ``AttachmentsExpected``, ``Status``,
``ReviewState`` (``approved``, ``hasIssues``, ``rejected``, ``edited`` or empty), ``DeviceID``,
``Edits``, ``FormVersion``.
"""

from __future__ import annotations

from collections.abc import Sequence

from evaluation.readers.decoding import fold_for_matching
from evaluation.readers.generic import SourceProfile

__all__ = ["OdkSource"]


class OdkSource(SourceProfile):
    """ODK Central CSV export.

    Examples
    --------
    >>> OdkSource().signature(["SubmissionDate", "meta-instanceID", "q1", "KEY"])
    'headers SubmissionDate and KEY (ODK Central export)'
    """

    name = "odk"
    title = "ODK Central"
    meta_names = {
        "submission_id": ("KEY", "meta-instanceID", "instanceID"),
        "submitted_at": ("SubmissionDate",),
        "review_state": ("ReviewState",),
        "workshop_id": ("workshop_id",),
        "deprecated_id": ("deprecatedID",),
    }

    def signature(self, headers: Sequence[str]) -> str | None:
        folded = {fold_for_matching(h) for h in headers}
        if "submissiondate" in folded and "key" in folded:
            return "headers SubmissionDate and KEY (ODK Central export)"
        if "submissiondate" in folded and "meta-instanceid" in folded:
            return "headers SubmissionDate and meta-instanceID (ODK Central export)"
        return None
