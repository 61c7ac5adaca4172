"""An interrupted ingest or report never leaves a half-written result that looks complete.

``python -m evaluation ingest`` (and ``report``) runs in a subprocess on a copy of a demo
workshop and is killed with SIGKILL after a delay; the delays are spread over the run so that
the kill lands in different steps. Then every file under ``processed/`` and ``reports/<id>/``
must be complete and valid (Parquet readable, JSON parseable, CSV parseable, HTML closed, PDF
ended, XLSX a sound ZIP). Temporary files and folders may remain, but only under hidden
``.*.partial`` names (or the hidden ``.*.old-<pid>`` name of the folder being replaced), which
no reader takes for a result. After the kills a normal run still succeeds.

The delays only choose where the kill lands; nothing here asserts how long a run takes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo-workshops" / "astana-2018-05"
WAVES = {"pre.parquet", "post.parquet", "followup.parquet", "participants.parquet"}


def _hidden_temp(name: str) -> bool:
    return name.startswith(".") and (name.endswith(".partial") or ".old-" in name)


def _valid(path: Path) -> None:
    """Raise AssertionError if ``path`` is not a complete file of its kind."""
    suffix = path.suffix.lower()
    data = path.read_bytes()
    assert data, f"{path} is empty"
    if suffix == ".parquet":
        pd.read_parquet(path)
    elif suffix in {".json", ".ipynb"}:
        parsed = json.loads(data.decode("utf-8"))
        if suffix == ".ipynb":
            assert "cells" in parsed
    elif suffix == ".csv":
        pd.read_csv(path)
    elif suffix == ".html":
        assert data.rstrip().lower().endswith(b"</html>"), f"{path} is cut"
    elif suffix == ".pdf":
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF"), f"{path} is cut"
    elif suffix == ".xlsx":
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
    elif suffix == ".png":
        assert data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82")
    else:  # pragma: no cover - a new kind of output needs a check here
        raise AssertionError(f"no validity check for {path.name}")


def _check_tree(root: Path) -> list[str]:
    """Validate every result file under ``root``; return the hidden temporary names seen."""
    temps = []
    if not root.exists():
        return temps
    for dirpath, dirnames, filenames in os.walk(root):
        for name in list(dirnames):
            if _hidden_temp(name):
                temps.append(name)
                dirnames.remove(name)  # a temporary folder is not a result
            else:
                assert not name.startswith("."), f"unexpected hidden folder {name}"
        for name in filenames:
            if _hidden_temp(name):
                temps.append(name)
                continue
            assert not name.startswith("."), f"unexpected hidden file {name}"
            _valid(Path(dirpath) / name)
    return temps


def _workshop(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(DEMO, ws, ignore=shutil.ignore_patterns("processed"))
    return ws


def _run(args: list[str], kill_after: float | None, env: dict | None = None) -> int | None:
    """Run ``python -m evaluation ARGS``; SIGKILL its whole process group after a delay."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "evaluation", *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the notebook kernel of a report is killed with it
        env={**os.environ, "MPLBACKEND": "Agg", **(env or {})},
    )
    try:
        if kill_after is None:
            return proc.wait(timeout=300)
        try:
            return proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
            return None
    finally:
        if proc.poll() is None:  # pragma: no cover - only on a failing test
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _check_ingest(ws: Path, reports: Path) -> list[str]:
    temps = _check_tree(ws / "processed") + _check_tree(reports)
    processed = ws / "processed"
    if processed.exists():
        present = {p.name for p in processed.iterdir() if not _hidden_temp(p.name)}
        assert present in (set(), WAVES), f"processed/ is incomplete: {sorted(present)}"
    ingest = reports / "astana-2018-05" / "ingest"
    if ingest.exists():
        present = {p.name for p in ingest.iterdir() if not _hidden_temp(p.name)}
        assert present == {"report.json", "quarantine.csv"}, present
        # the ingest report never describes processed data that is not there
        assert (processed / "participants.parquet").is_file()
    return temps


def test_killed_ingest_leaves_only_complete_results(tmp_path):
    ws = _workshop(tmp_path)
    reports = tmp_path / "reports"
    args = ["ingest", str(ws), "--reports", str(reports)]
    outcomes = []
    for i, delay in enumerate([0.2, 0.35, 0.45, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.0, 1.2]):
        if i == 6:  # from now on an earlier complete result exists and is being replaced
            assert _run(args, None) == 0
        outcomes.append(_run(args, delay))
        _check_ingest(ws, reports)
    # a run after all the kills succeeds and leaves a complete, consistent result
    assert _run(args, None) == 0
    _check_ingest(ws, reports)
    assert {p.name for p in (ws / "processed").iterdir() if not _hidden_temp(p.name)} == WAVES
    report = json.loads((reports / "astana-2018-05" / "ingest" / "report.json").read_text())
    assert all(f["accounting_holds"] for f in report["files"])
    assert oct((ws / "processed").stat().st_mode & 0o777) == "0o700"


def test_failed_write_keeps_the_previous_ingest(tmp_path, monkeypatch):
    """An exception while writing the ingest folder leaves the previous one untouched."""
    import evaluation.ingest as ingest_module
    from evaluation.ingest import ingest_workshop, write_ingest_outputs

    ws = _workshop(tmp_path)
    result = ingest_workshop(ws)
    out = write_ingest_outputs(result, tmp_path / "reports")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    processed_before = {p.name: p.read_bytes() for p in (ws / "processed").iterdir()}

    def broken_csv(path, frame, mode=None):
        Path(path).write_text("half a ro", encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingest_module, "atomic_write_csv", broken_csv)
    with pytest.raises(OSError):
        write_ingest_outputs(result, tmp_path / "reports")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert {p.name: p.read_bytes() for p in (ws / "processed").iterdir()} == processed_before
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".partial")]


RESULT_FILES = {"items.csv", "scales.csv", "indicators.csv", "participation.csv", "unpaired.csv",
                "reliability.csv", "knowledge.csv", "reaction.csv", "followup.csv",
                "cooperation.csv", "disaggregation.csv", "distributions.csv",
                "matching_bias.csv", "provenance.json"}


def _check_results(out: Path) -> None:
    """``results/`` is absent or whole; a PDF is there only with everything of its run."""
    results = out / "results"
    if results.exists():
        present = {p.name for p in results.iterdir() if not _hidden_temp(p.name)}
        assert present == RESULT_FILES, sorted(present ^ RESULT_FILES)
    pdf = out / "report.pdf"
    if pdf.exists():  # written last: the HTML, the notebook and the tables are of this run
        for part in ("report.html", "report.ipynb", "annex.xlsx", "results/provenance.json"):
            assert (out / part).is_file(), part
            assert (out / part).stat().st_mtime <= pdf.stat().st_mtime, part


def test_failed_write_keeps_the_previous_results(tmp_path, monkeypatch):
    """An error while ``results/`` is written leaves the previous folder whole and untouched."""
    import evaluation.report as report_module
    from evaluation.report import WorkshopReport

    ws = _workshop(tmp_path)
    out = tmp_path / "out"
    report = WorkshopReport.prepare(ws, out, n_resamples=200)
    before = {p.name: p.read_bytes() for p in (out / "results").iterdir()}
    assert set(before) == RESULT_FILES
    written = []

    def full_disk_after_three(path, frame, mode=None):
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(Path(path).name)
        Path(path).write_text("new", encoding="utf-8")

    monkeypatch.setattr(report_module, "atomic_write_csv", full_disk_after_three)
    with pytest.raises(OSError):
        report.write_results()
    assert {p.name: p.read_bytes() for p in (out / "results").iterdir()} == before
    assert not [p for p in out.iterdir() if p.name.endswith(".partial")]


@pytest.mark.slow
def test_killed_report_leaves_only_complete_results(tmp_path):
    ws = _workshop(tmp_path)
    out = tmp_path / "out"
    args = ["report", str(ws), "--out", str(out)]
    for delay in (3.0, 6.0, 9.0):
        _run(args, delay)
        _check_tree(out)
        _check_results(out)
        _check_tree(ws / "processed")
    assert _run(args, None) == 0
    _check_tree(out)
    _check_results(out)
    assert (out / "report.html").is_file() and (out / "results" / "items.csv").is_file()
