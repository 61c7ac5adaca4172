"""Subcommands of ``evaluate`` for the pipeline steps after the instruments.

Each ``add_*`` function registers one subcommand on the parser; :data:`REGISTRY` lists them in
the order ``evaluate --help`` shows them. Heavy imports happen inside the command functions.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["REGISTRY", "WORKSHOPS_PER_WORKER", "format_ingest_summary", "map_in_rounds"]


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
    from evaluation.render import ReportKernel
    from evaluation.report import run_report

    languages = args.lang or ["en"]
    with ReportKernel() as kernel:  # one kernel for all the languages asked for
        for language in languages:
            paths = run_report(Path(args.workshop_dir), args.out, language=language,
                               k_min=args.k_min, seed=args.seed, kernel=kernel)
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


_WORKER_KERNEL = None  # the ReportKernel of this (worker) process, made on first use


def _worker_kernel():
    """The one kernel of this process, shut down when the process ends.

    A ``ProcessPoolExecutor`` worker leaves through ``os._exit``, which skips ``atexit``; the
    ``multiprocessing`` finalizer runs there (and ``atexit`` covers a plain process).
    """
    global _WORKER_KERNEL
    if _WORKER_KERNEL is None:
        import atexit
        from multiprocessing import util

        from evaluation.render import ReportKernel

        _WORKER_KERNEL = ReportKernel()
        util.Finalize(None, _WORKER_KERNEL.shutdown, exitpriority=10)
        atexit.register(_WORKER_KERNEL.shutdown)
    return _WORKER_KERNEL


def _render_one(folder: str, languages: list[str], reports: str) -> tuple[str, str | None]:
    """Render one workshop in a worker process; return (folder, error sentence or None).

    Every workshop a worker renders runs in the worker's one kernel (:func:`_worker_kernel`),
    which is reset between notebooks: the scientific stack is imported once per worker.
    """
    import matplotlib

    matplotlib.use("Agg")
    from evaluation.errors import EvaluationError
    from evaluation.report import run_report
    from evaluation.workshop import load_workshop

    try:
        config = load_workshop(folder)
        kernel = _worker_kernel()
        for language in languages:
            run_report(folder, Path(reports) / config.id, language=language, kernel=kernel)
    except EvaluationError as exc:
        return folder, str(exc)
    except Exception as exc:
        return folder, f"internal error ({type(exc).__name__})"
    return folder, None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value


WORKSHOPS_PER_WORKER = 20
"""Workshops a batch worker renders, about, before it is replaced by a fresh one.

A worker's resident memory grows by about 1.5 MB per report (caches of the PDF and figure
libraries that are never emptied); replacing the workers bounds that growth at about 30 MB
whatever the size of the batch, for one worker and kernel start (under 1 s) per 20 reports.
"""


def map_in_rounds(
    func: Callable[[T], R],
    items: Sequence[T],
    jobs: int,
    per_worker: int | None = WORKSHOPS_PER_WORKER,
) -> Iterator[tuple[T, R]]:
    """Run ``func`` on every item in ``jobs`` worker processes that are replaced every
    ``jobs * per_worker`` items; yield ``(item, result)`` as each finishes.

    Each round of ``jobs * per_worker`` items runs in a new process pool, so no worker serves
    more than one round. (``ProcessPoolExecutor(max_tasks_per_child=...)`` would replace
    workers one by one, but on Python 3.11 to 3.13 it can hang once a worker has been
    replaced: CPython issue 115634.)

    Parameters
    ----------
    func : callable
        A function of one item, importable by the workers (a module-level function).
    items : sequence
        The items, in the order they are handed out.
    jobs : int
        Worker processes (at least 1).
    per_worker : int or None
        Items per worker in a round; None runs everything in one pool.

    Yields
    ------
    tuple
        The item and what ``func`` returned for it, in the order they finish. An exception
        raised by ``func`` propagates.

    Examples
    --------
    >>> from evaluation.commands import map_in_rounds
    >>> sorted(map_in_rounds(abs, [-2, 1, -3], jobs=2, per_worker=1))
    [(-3, 3), (-2, 2), (1, 1)]
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed

    jobs = max(1, jobs)
    size = len(items) if per_worker is None else jobs * per_worker
    for start in range(0, len(items), max(size, 1)):
        chunk = items[start:start + size]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(func, item): item for item in chunk}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()


def _cmd_batch(args: argparse.Namespace) -> int:
    from functools import partial

    from tqdm import tqdm

    from evaluation.workshop import find_workshops

    folders = [str(p) for p in find_workshops(args.root)]
    if not folders:
        print(f"evaluate: no workshop.yaml under {args.root}.", file=sys.stderr)
        return 2
    languages = args.lang or ["en"]
    failures: list[tuple[str, str]] = []
    render = partial(_render_one, languages=languages, reports=args.reports)
    results = map_in_rounds(render, folders, args.jobs, args.workshops_per_worker)
    for _, (folder, error) in tqdm(results, total=len(folders), unit="workshop",
                                   disable=args.no_progress):
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
    p.add_argument("--workshops-per-worker", type=_positive_int, default=WORKSHOPS_PER_WORKER,
                   metavar="N", help="replace the workers (and their kernels) after about N "
                   "workshops each, which bounds their memory (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_batch)


REGISTRY = [add_ingest, add_report, add_batch]


def _cmd_warehouse_add(args: argparse.Namespace) -> int:
    from evaluation.warehouse import add_workshop, check_warehouse_path, default_warehouse_path

    path = check_warehouse_path(args.warehouse or default_warehouse_path())
    for folder in args.workshop_dir:
        load = add_workshop(Path(folder), path, responses=not args.no_responses,
                            wait=args.wait)
        what = (f"{len(load.responses)} pseudonymous answers (personal data)"
                if load.holds_personal_data else "results only, no responses")
        print(f"Loaded {load.workshop_id} into {path.name}: {what}.")
    return 0


def _cmd_warehouse_list(args: argparse.Namespace) -> int:
    from evaluation.warehouse import describe

    print(describe(args.warehouse))
    return 0


def add_warehouse(sub: argparse._SubParsersAction) -> None:
    """Register ``evaluate warehouse add|list``."""
    p = sub.add_parser(
        "warehouse",
        help="load analysed workshops into the DuckDB warehouse, or list them",
        description="The warehouse is one DuckDB file (owner-only) holding every analysed "
        "workshop for cohort comparisons. Default file: $EVALUATION_WAREHOUSE, else "
        "~/.local/share/workshop-evaluation/warehouse.duckdb; never under reports/. "
        "With pseudonymous responses (the default) it holds personal data.",
    )
    ws = p.add_subparsers(dest="warehouse_command", metavar="ACTION", required=True)
    add = ws.add_parser(
        "add", help="ingest, analyse and load workshop folders (replacing earlier copies)",
        description="Ingest and analyse each WORKSHOP_DIR and load it in one transaction: "
        "workshop facts, the suppressed result tables and, unless --no-responses, the "
        "pseudonymous answers (no free text). A workshop already in the warehouse is replaced.")
    add.add_argument("workshop_dir", nargs="+", help="workshop folder(s) holding workshop.yaml")
    add.add_argument("--warehouse", default=None, metavar="FILE",
                     help="warehouse file (default: $EVALUATION_WAREHOUSE or your data folder)")
    add.add_argument("--no-responses", action="store_true",
                     help="store results tables only, no pseudonymous responses")
    add.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                     help="while another process is writing to the warehouse, wait up to "
                     "SECONDS for it before giving up (default: %(default)g)")
    add.set_defaults(func=_cmd_warehouse_add)
    lst = ws.add_parser("list", help="one line per workshop in the warehouse",
                        description="Print id, phase, dates, instrument and respondent counts "
                        "of every workshop, and whether the file holds personal data.")
    lst.add_argument("--warehouse", default=None, metavar="FILE",
                     help="warehouse file (default: $EVALUATION_WAREHOUSE or your data folder)")
    lst.set_defaults(func=_cmd_warehouse_list)


def _cmd_compare(args: argparse.Namespace) -> int:
    from evaluation.cohorts import run_compare

    out = args.out or str(Path("reports") / "cohorts" / f"by-{args.by}")
    for language in args.lang or ["en"]:
        paths = run_compare(args.warehouse, out, by=args.by, workshops=args.workshops,
                            language=language, k_min=args.k_min, wait=args.wait)
        print(f"[{language}] " + ", ".join(f"{k}: {v}" for k, v in paths.items()))
    return 0


def add_compare(sub: argparse._SubParsersAction) -> None:
    """Register ``evaluate compare --warehouse FILE [--by ...] [--workshops ...] --out DIR``."""
    p = sub.add_parser(
        "compare",
        help="compare cohorts across workshops and phases (HTML, PDF, Excel annex, results/)",
        description="Compare the workshops in the warehouse: standardized pre/post change per "
        "scale pooled by random-effects meta-analysis overall and per group, indicators, "
        "reaction, follow-up and disaggregation per group, all suppressed. Executes "
        "notebooks/cohort_comparison.ipynb and writes report.html, report.pdf, annex.xlsx and "
        "results/ (meta_analysis.csv, ...) into --out.",
    )
    p.add_argument("--warehouse", default=None, metavar="FILE",
                   help="warehouse file (default: $EVALUATION_WAREHOUSE or your data folder)")
    p.add_argument("--by", default="phase", choices=("phase", "country", "year", "project"),
                   help="how workshops are grouped (default: %(default)s)")
    p.add_argument("--workshops", nargs="+", default=None, metavar="ID",
                   help="workshop ids to compare (default: all)")
    p.add_argument("--lang", action="append", choices=("en", "ru"),
                   help="report language; repeat for several (default: en)")
    p.add_argument("--k-min", type=int, default=None,
                   help="suppression threshold (default: the strictest of the workshops)")
    p.add_argument("--out", default=None,
                   help="output folder (default: reports/cohorts/by-<by>)")
    p.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                   help="while another process is writing to the warehouse, wait up to "
                   "SECONDS for it before giving up (default: %(default)g)")
    p.set_defaults(func=_cmd_compare)


REGISTRY.extend([add_warehouse, add_compare])
