"""Subcommands of ``evaluate`` for the pipeline steps after the instruments.

Each ``add_*`` function registers one subcommand on the parser; :data:`REGISTRY` lists them in
the order ``evaluate --help`` shows them. Heavy imports happen inside the command functions.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["REGISTRY", "format_ingest_summary"]


def format_ingest_summary(report: dict) -> str:
    """A short, personal-data-free summary of an ingest report.

    Examples
    --------
    >>> from evaluation.commands import format_ingest_summary
    >>> rep = {"workshop_id": "w", "files": [{"wave": "pre", "file": "pre.csv",
    ...        "rows_read": 3, "kept": 2, "quarantined": 1, "removed": 0}],
    ...        "matching": {"match_rate_pre_post": None, "match_rate_pre_followup": None}}
    >>> print(format_ingest_summary(rep))
    Workshop w
      pre       pre.csv: read 3, kept 2, quarantined 1, removed 0
    """
    lines = [f"Workshop {report['workshop_id']}"]
    for f in report["files"]:
        lines.append(
            f"  {f['wave']:<9} {f['file']}: read {f['rows_read']}, kept {f['kept']}, "
            f"quarantined {f['quarantined']}, removed {f['removed']}"
        )
    m = report.get("matching", {})
    rates = []
    for key, label in (("match_rate_pre_post", "pre→post"),
                       ("match_rate_pre_followup", "pre→follow-up")):
        if m.get(key) is not None:
            rates.append(f"{label} {100 * m[key]:.0f}%")
    if rates:
        lines.append("  matched " + ", ".join(rates))
    return "\n".join(lines)


def _cmd_ingest(args: argparse.Namespace) -> int:
    from evaluation.ingest import ingest_workshop, write_ingest_outputs

    result = ingest_workshop(Path(args.workshop_dir))
    out = write_ingest_outputs(result, args.reports)
    print(format_ingest_summary(result.report))
    print(f"Ingest report and quarantine: {out}; processed data: {result.config.processed_dir}")
    return 0


def add_ingest(sub: argparse._SubParsersAction) -> None:
    """Register ``evaluate ingest WORKSHOP_DIR``."""
    p = sub.add_parser(
        "ingest",
        help="read, validate, pseudonymise and match a workshop's exports",
        description="Read every wave named in WORKSHOP_DIR/workshop.yaml, validate it "
        "(clean rows, quarantine, removed duplicates), replace participant codes by keyed "
        "pseudonyms, redact free text, match participants across waves, and write the ingest "
        "report and quarantine under REPORTS/<id>/ingest/ and the processed data under "
        "WORKSHOP_DIR/processed/.",
    )
    p.add_argument("workshop_dir", help="the workshop folder (holding workshop.yaml)")
    p.add_argument("--reports", default="reports", help="reports root (default: %(default)s)")
    p.set_defaults(func=_cmd_ingest)


REGISTRY = [add_ingest]
