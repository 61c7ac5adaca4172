"""Benchmark of report rendering against the issue's bars (prints ratios, asserts nothing).

Measured in one run, on this machine:

1. the pipeline floor: an empty notebook through the same chain (papermill in-process, HTML
   export, WeasyPrint PDF), the best of three runs;
2. one flagship report (``run_report``: HTML, PDF, XLSX, results/), in-process, with its ratio
   to the floor (bar: at most 4 s and at most 1.5 times the floor);
3. a batch of demo workshops (``--copies`` copies of each of the 8) through the pool and the
   worker of ``evaluate batch`` with 2 processes, each reusing one kernel and replaced after
   ``--workshops-per-worker`` workshops: reports per minute (bar: 40 or more) and peak memory
   per worker (``resource.getrusage``) and per kernel (``VmHWM`` of the running kernel) (bar:
   under 600 MB);
4. that the flagship's ``results/*.csv`` equal a reference folder when ``--reference`` is given.

Kernels are forked from the benchmark process where :mod:`evaluation.kernels` allows it; run
with ``EVALUATE_KERNEL_FORK=0`` to measure launched kernels instead. Wall times on a shared
machine vary by up to 2x between runs, so the CPU seconds of this process and of the kernels
are printed too.

Usage::

    python benchmarks/bench_report.py [--copies 5] [--jobs 2] [--workshops-per-worker 20]
                                     [--reference DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEMO = ROOT / "demo-workshops"

from evaluation.commands import WORKSHOPS_PER_WORKER  # noqa: E402 (after the path)


def _floor(tmp: Path) -> float:
    import nbformat

    from evaluation.render import render_notebook_report

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Empty"), nbformat.v4.new_code_cell("1")]
    path = tmp / "empty.ipynb"
    nbformat.write(nb, path)
    start = time.perf_counter()
    render_notebook_report(path, tmp / "empty-out", {}, synthetic=True)
    return time.perf_counter() - start


def _timed_steps() -> dict[str, float]:
    """Wall seconds of the rendering steps of this process (wrapped for the benchmark only)."""
    import evaluation.render as render

    seconds: dict[str, float] = {}
    for name in ("execute_notebook", "notebook_to_html", "html_to_pdf"):
        original = getattr(render, name)

        def timed(*args, _original=original, _name=name, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                seconds[_name] = seconds.get(_name, 0.0) + time.perf_counter() - start

        setattr(render, name, timed)
    return seconds


def _cell_seconds(notebook: Path) -> tuple[float, float]:
    """Seconds papermill recorded for the template's first call (prepare) and for the rest."""
    import nbformat

    cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    durations = [float(c.metadata.get("papermill", {}).get("duration") or 0) for c in cells]
    first = next(i for i, c in enumerate(cells) if "prepare(" in c.source)
    return durations[first], sum(durations[first + 1:])


def _flagship(tmp: Path) -> tuple[float, Path]:
    from evaluation.report import run_report

    work = tmp / "astana-2018-05"
    shutil.copytree(DEMO / "astana-2018-05", work, ignore=shutil.ignore_patterns("processed"))
    out = tmp / "flagship"
    steps = _timed_steps()
    start, own, kids = time.perf_counter(), _own_cpu(), _children_cpu()
    run_report(work, out, language="en")
    wall = time.perf_counter() - start
    print(f"flagship CPU: {_own_cpu() - own:5.2f} s in this process, "
          f"{_children_cpu() - kids:5.2f} s in the kernel")
    prepare, sections = _cell_seconds(out / "report.ipynb")
    print(f"flagship steps (wall): notebook {steps['execute_notebook']:4.2f} s (prepare "
          f"{prepare:4.2f}, sections and figures {sections:4.2f}), HTML "
          f"{steps['notebook_to_html']:4.2f} s, PDF {steps['html_to_pdf']:4.2f} s")
    return wall, out


def _peak_kib(pid: int | None) -> int:
    """Peak resident memory (VmHWM, KiB) of a running process; 0 if unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except (OSError, TypeError):
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _worker(folder: str, reports: str) -> tuple[str, str | None, int, int]:
    from evaluation.commands import _render_one, _worker_kernel

    name, error = _render_one(folder, ["en"], reports)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # the worker's kernel is reused, so it is still running: read its peak from /proc
    # (RUSAGE_CHILDREN would only count kernels that have already ended)
    kernel = _worker_kernel()
    kids = max(_peak_kib(kernel.pid), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return name, error, own, kids


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _batch(tmp: Path, copies: int, jobs: int, per_worker: int | None
           ) -> tuple[int, float, int, int, list[str], float]:
    from evaluation.commands import map_in_rounds

    root = tmp / "batch"
    folders = []
    for src in sorted(p.parent for p in DEMO.glob("*/workshop.yaml")):
        for i in range(copies):
            dst = root / f"{src.name}-{i}"
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("processed"))
            folders.append(str(dst))
    start, cpu = time.perf_counter(), _children_cpu()
    work = partial(_worker, reports=str(tmp / "batch-reports"))
    results = [result for _, result in map_in_rounds(work, folders, jobs, per_worker)]
    wall = time.perf_counter() - start
    # CPU of the workers and of the kernels they stopped and reaped (every round's workers end)
    cpu = _children_cpu() - cpu
    errors = [f"{Path(f).name}: {e}" for f, e, *_ in results if e]
    return (len(folders), wall, max(r[2] for r in results), max(r[3] for r in results), errors,
            cpu)


def _compare(out: Path, reference: Path) -> list[str]:
    diffs = []
    for ref in sorted(reference.glob("*.csv")):
        mine = out / "results" / ref.name
        if not mine.is_file() or mine.read_bytes() != ref.read_bytes():
            diffs.append(ref.name)
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=5,
                        help="copies of each of the 8 demo workshops in the batch (5 → 40)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--workshops-per-worker", type=int, default=WORKSHOPS_PER_WORKER,
                        help="as in `evaluate batch`; 0: never replace a worker")
    parser.add_argument("--reference", type=Path, default=None,
                        help="folder of results/*.csv to compare the flagship against")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        _floor(tmp)  # warm-up: imports and first kernel
        floor = min(_floor(tmp) for _ in range(3))  # the floor is short: one stall doubles it
        flagship, out = _flagship(tmp)
        print(f"empty-notebook pipeline : {floor:6.2f} s")
        print(f"flagship report         : {flagship:6.2f} s  ratio {flagship / floor:4.2f} "
              f"(bars: <= 4 s, <= 1.5)")
        if args.reference is not None:
            diffs = _compare(out, args.reference)
            print("results/*.csv vs reference: " + ("identical" if not diffs
                                                    else "DIFFER: " + ", ".join(diffs)))
        if args.copies > 0:
            n, wall, own, kids, errors, cpu = _batch(tmp, args.copies, args.jobs,
                                                     args.workshops_per_worker or None)
            print(f"batch of {n} with {args.jobs} workers: {wall:6.1f} s, "
                  f"{60 * n / wall:5.1f} reports/min (bar: >= 40)")
            print(f"CPU per report (workers + kernels): {cpu / n:5.1f} s; with {args.jobs} idle "
                  f"cores at most {60 * n * args.jobs / cpu:5.1f} reports/min")
            print(f"peak RSS: worker {own / 1024:6.0f} MB, kernel {kids / 1024:6.0f} MB "
                  "(bar: < 600 MB)")
            for error in errors:
                print(f"  FAILED {error}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
