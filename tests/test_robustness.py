"""Bad inputs at every entry point end in a documented outcome (tests/data/bad/README.md).

Each case of ``tests/data/bad/make_cases.py`` is built by code in ``tmp_path`` and run through
the command line in-process (``evaluation.cli.main``). Whatever the case, the run ends in time
and without a traceback, in one of three outcomes:

- ``clean``: exit 0, every row read is kept, nothing quarantined;
- ``quarantine``: exit 0, the bad rows are listed in ``ingest/quarantine.csv`` with file, row
  and reason;
- ``error``: exit 2 and exactly one line on stderr that names the file (and the row, column or
  key concerned).

In every case no file outside the workshop folder is opened (checked with an audit hook on
``open``), the content of that file never appears in any output, and no YAML tag runs code.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import re
import signal
import sys
from pathlib import Path

import pytest

from evaluation.cli import main

_HERE = Path(__file__).parent / "data" / "bad"
_spec = importlib.util.spec_from_file_location("bad_cases", _HERE / "make_cases.py")
bad = importlib.util.module_from_spec(_spec)
sys.modules["bad_cases"] = bad
_spec.loader.exec_module(bad)

TIMEOUT_S = 120  # a hang fails the test instead of blocking the suite

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _OPENED is not None and event == "open" and args and isinstance(args[0], str | Path):
        _OPENED.append(str(args[0]))


sys.addaudithook(_audit)


@contextlib.contextmanager
def _recording_opens():
    global _OPENED
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


@contextlib.contextmanager
def _deadline(seconds: int):
    def _raise(signum, frame):
        raise TimeoutError(f"the case did not finish within {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


@pytest.mark.parametrize("case", bad.CASES, ids=[c.id for c in bad.CASES])
def test_bad_input_ends_in_documented_outcome(case, tmp_path, capsys, monkeypatch):
    root = tmp_path / "case"
    argv = bad.build(case.id, root)
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)  # a YAML tag that ran code would write PWNED here
    with _recording_opens() as opened, _deadline(TIMEOUT_S):
        code = main(argv)
    out, err = capsys.readouterr()

    # never a traceback, never the file outside the folder
    assert "Traceback" not in out + err
    outside = (root / "outside").resolve()
    read_outside = [p for p in opened if outside in Path(p).resolve().parents]
    assert not read_outside, f"opened outside the workshop folder: {read_outside}"
    assert bad.SECRET.strip() not in out + err
    assert not list(tmp_path.rglob("PWNED"))
    for path in _files_under(root / "reports") + _files_under(root / "ws" / "processed"):
        if path.suffix in {".json", ".csv"}:
            text = path.read_text(encoding="utf-8")
            assert "SECRET-OUTSIDE" not in text
            assert "NaN" not in text, f"{path.name} holds a NaN"

    assert code == case.expected_exit, (out, err)
    if case.outcome == "error":
        message = out if case.stream == "stdout" else err
        lines = message.strip().splitlines()
        assert len(lines) == 1, f"expected one sentence, got: {message!r}"
        assert lines[0].startswith("evaluate")
        for fragment in case.mentions:
            assert fragment in lines[0], f"{fragment!r} missing from: {lines[0]}"
        assert not (root / "reports").exists() or not list((root / "reports").rglob("*.json"))
    else:
        assert err == ""
        report = json.loads(next(root.glob("reports/*/ingest/report.json")).read_text("utf-8"))
        assert all(f["accounting_holds"] for f in report["files"])
        quarantine = next(root.glob("reports/*/ingest/quarantine.csv")).read_text("utf-8")
        rows = quarantine.strip().splitlines()[1:]
        if case.outcome == "clean":
            assert report["totals"]["quarantined"] == 0 and rows == []
        else:
            assert report["totals"]["quarantined"] >= 1 and rows
            assert all(r.split(",")[1] and r.split(",")[2].isdigit() for r in rows)
            assert any(case.quarantine_reason in r for r in rows), rows
    if case.check is not None:
        case.check(root)
    big = root / "ws" / bad.PRE
    if big.is_file() and big.stat().st_size > 50 * 1024 * 1024:
        big.unlink()  # do not keep 200 MB in pytest's basetemp


def test_corpus_covers_every_entry_point():
    ids = [c.id for c in bad.CASES]
    assert len(ids) == len(set(ids)) >= 40
    entries = {c.entry for c in bad.CASES}
    assert entries == {"export", "workshop.yaml", "instrument", "command line"}
    assert {c.outcome for c in bad.CASES} == {"clean", "quarantine", "error"}


def test_readme_table_lists_every_case():
    readme = (_HERE / "README.md").read_text(encoding="utf-8")
    for case in bad.CASES:
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{case.id}` |")),
                   None)
        assert row is not None, f"{case.id} is not in tests/data/bad/README.md"
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row.strip("|"))]
        assert cells[3] == case.outcome, f"{case.id}: README says {cells[3]}"


def test_debug_shows_the_traceback(tmp_path):
    from evaluation.errors import WorkshopConfigError

    with pytest.raises(WorkshopConfigError):
        main(["--debug", "ingest", str(tmp_path / "missing")])


def test_unexpected_exception_is_an_internal_error(tmp_path, capsys, monkeypatch):
    import evaluation.ingest

    def boom(*args, **kwargs):
        raise RuntimeError("a secret value that must not be printed")

    monkeypatch.setattr(evaluation.ingest, "ingest_workshop", boom)
    ws = bad.copy_workshop(tmp_path / "ws")
    assert main(["ingest", str(ws), "--reports", str(tmp_path / "r")]) == 3
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "internal error (RuntimeError)" in err
    assert "secret value" not in err and "Traceback" not in err


def test_help_and_version_exit_zero(capsys):
    assert main(["--help"]) == 0
    assert main(["ingest", "--help"]) == 0
    assert main(["--version"]) == 0
    out, err = capsys.readouterr()
    assert "workshop_dir" in out and err == ""


def test_max_columns_is_configurable(tmp_path, capsys):
    """The column limit named in the error message can be raised in workshop.yaml."""
    ws = bad.copy_workshop(tmp_path / "ws")
    data = bad._config(ws)
    data["ingest"]["max_columns"] = 10
    bad._write_config(ws, data)
    assert main(["ingest", str(ws), "--reports", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "more than the limit of 10" in err and "ingest.max_columns" in err
    data["ingest"]["max_columns"] = 200
    bad._write_config(ws, data)
    assert main(["ingest", str(ws), "--reports", str(tmp_path / "r")]) == 0


def test_size_limit_accepts_a_file_just_under_it(tmp_path):
    """max_file_mb is a real limit, not an off-by-one: a file under it is read."""
    ws = bad.copy_workshop(tmp_path / "ws")
    data = bad._config(ws)
    size = max((ws / bad.PRE).stat().st_size, (ws / bad.POST).stat().st_size)
    data["ingest"]["max_file_mb"] = (size + 1) / (1024 * 1024)
    bad._write_config(ws, data)
    assert main(["ingest", str(ws), "--reports", str(tmp_path / "r")]) == 0
