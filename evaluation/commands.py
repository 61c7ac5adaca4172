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


def _cmd_report(args: argparse.Namespace) -> int:
    from evaluation.report import run_report

    languages = args.lang or ["en"]
    for language in languages:
        paths = run_report(Path(args.workshop_dir), args.out, language=language,
                           k_min=args.k_min, seed=args.seed)
        print(f"[{language}] " + ", ".join(f"{k}: {v}" for k, v in paths.items()))
    return 0


def add_report(sub: argparse._SubParsersAction) -> None:
    """Register ``evaluate report WORKSHOP_DIR [--out DIR] [--lang en|ru]``."""
    p = sub.add_parser(
        "report",
        help="render the outcome report of one workshop (HTML, PDF, Excel annex, results/)",
        description="Ingest and analyse WORKSHOP_DIR, execute notebooks/workshop_report.ipynb "
        "with papermill, and write report.html, report.pdf, report.ipynb, annex.xlsx, "
        "results/*.csv and results/provenance.json into --out (default reports/<id>).",
    )
    p.add_argument("workshop_dir", help="the workshop folder (holding workshop.yaml)")
    p.add_argument("--out", default=None, help="output folder (default: reports/<id>)")
    p.add_argument("--lang", action="append", choices=("en", "ru"),
                   help="report language; repeat for several (default: en)")
    p.add_argument("--k-min", type=int, default=None,
                   help="suppression threshold (default: workshop.yaml, never below 3)")
    p.add_argument("--seed", type=int, default=20180521, help="bootstrap seed")
    p.set_defaults(func=_cmd_report)


def _render_one(folder: str, languages: list[str], reports: str) -> tuple[str, str | None]:
    """Render one workshop in a worker process; return (folder, error sentence or None)."""
    import matplotlib

    matplotlib.use("Agg")
    from evaluation.errors import EvaluationError
    from evaluation.report import run_report
    from evaluation.workshop import load_workshop

    try:
        config = load_workshop(folder)
        for language in languages:
            run_report(folder, Path(reports) / config.id, language=language)
    except EvaluationError as exc:
        return folder, str(exc)
    except Exception as exc:
        return folder, f"internal error ({type(exc).__name__})"
    return folder, None


def _cmd_batch(args: argparse.Namespace) -> int:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm import tqdm

    from evaluation.workshop import find_workshops

    folders = [str(p) for p in find_workshops(args.root)]
    if not folders:
        print(f"evaluate: no workshop.yaml under {args.root}.")
        return 2
    languages = args.lang or ["en"]
    failures: list[tuple[str, str]] = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(_render_one, f, languages, args.reports) for f in folders]
        for fut in tqdm(as_completed(futures), total=len(futures), unit="workshop",
                        disable=args.no_progress):
            folder, error = fut.result()
            if error:
                failures.append((folder, error))
    print(f"Rendered {len(folders) - len(failures)} of {len(folders)} workshops into "
          f"{args.reports}.")
    for folder, error in sorted(failures):
        print(f"  FAILED {Path(folder).name}: {error}")
    return 1 if failures else 0


def add_batch(sub: argparse._SubParsersAction) -> None:
    """Register ``evaluate batch ROOT [--jobs N]``."""
    p = sub.add_parser(
        "batch",
        help="render the report of every workshop folder under ROOT",
        description="Find every folder holding a workshop.yaml under ROOT and render its report "
        "into REPORTS/<id>; carries on past a failing workshop and ends with a summary of the "
        "failures (exit code 1 if any failed).",
    )
    p.add_argument("root", help="folder to search for workshop folders")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default: %(default)s)")
    p.add_argument("--lang", action="append", choices=("en", "ru"),
                   help="report language; repeat for several (default: en)")
    p.add_argument("--reports", default="reports", help="reports root (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_batch)


REGISTRY = [add_ingest, add_report, add_batch]
