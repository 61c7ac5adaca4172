"""Build the corpus of bad inputs by code (nothing large is committed).

Every case starts from a copy of one synthetic demo workshop (``demo-workshops/ashgabat-2015-06``:
two CSV waves exported from KoboToolbox) and breaks one thing: an export, ``workshop.yaml``, an
instrument, or the command line itself. :func:`build` writes one case into a folder and returns
the arguments of ``evaluate`` (``evaluation.cli.main``) that exercise it.

``tests/test_robustness.py`` runs every case and checks its documented outcome; the table in
``tests/data/bad/README.md`` lists them. To write the whole corpus to a folder for a manual look::

    python tests/data/bad/make_cases.py OUT_DIR          # writes OUT_DIR/<case-id>/...
    python tests/data/bad/make_cases.py --table          # prints the README table rows

Outcomes:

- ``clean``: exit 0, every row read is kept, nothing quarantined;
- ``quarantine``: exit 0, the bad rows are in ``ingest/quarantine.csv`` with file, row, reason;
- ``error``: exit 2, one sentence on stderr naming the file (and the row and column when one row
  or column is concerned), no traceback, nothing read outside the workshop folder.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
BASE = REPO / "demo-workshops" / "ashgabat-2015-06"
INSTRUMENT = REPO / "surveys" / "pvect-readiness.yaml"
PRE = "pre-synthetic.csv"
POST = "post-synthetic.csv"

__all__ = ["Case", "CASES", "REPO", "BASE", "copy_workshop", "build", "SECRET"]

#: Content of the file outside the workshop folder that no case may ever read.
SECRET = "SECRET-OUTSIDE-THE-WORKSHOP;names of real participants\n"


@dataclass(frozen=True)
class Case:
    """One bad input.

    ``make(root)`` writes the case under ``root`` and returns the ``evaluate`` arguments;
    ``mentions`` are strings the error sentence must contain (file, row, column, key);
    ``quarantine_reason`` is a string a quarantine reason must contain.
    """

    id: str
    entry: str
    what: str
    outcome: str  # clean | quarantine | error
    make: Callable[[Path], list[str]]
    mentions: tuple[str, ...] = ()
    exit_code: int | None = None
    quarantine_reason: str = ""
    stream: str = "stderr"
    check: Callable[[Path], None] | None = None

    @property
    def expected_exit(self) -> int:
        if self.exit_code is not None:
            return self.exit_code
        return 2 if self.outcome == "error" else 0


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def copy_workshop(dest: Path) -> Path:
    """Copy the base demo workshop (without processed data) to ``dest``."""
    shutil.copytree(BASE, dest, ignore=shutil.ignore_patterns("processed"))
    return dest


def _ingest(ws: Path, root: Path) -> list[str]:
    return ["ingest", str(ws), "--reports", str(root / "reports")]


def _config(ws: Path) -> dict:
    return yaml.safe_load((ws / "workshop.yaml").read_text(encoding="utf-8"))


def _write_config(ws: Path, data: dict) -> None:
    (ws / "workshop.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def _outside(root: Path) -> Path:
    """A file outside the workshop folder that must never be read."""
    secret = root / "outside" / "passwd"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(SECRET, encoding="utf-8")
    return secret


def _lines(ws: Path, name: str = PRE) -> list[str]:
    return (ws / name).read_text(encoding="utf-8").splitlines()


def _set_cell(ws: Path, name: str, row: int, column: str, value: str) -> None:
    """Set one cell (row 1 = header) of a ``;``-separated, fully quoted demo export."""
    lines = _lines(ws, name)
    header = [h.strip('"') for h in lines[0].split(";")]
    fields = lines[row - 1].split(";")
    fields += ['""'] * (len(header) - len(fields))
    fields[header.index(column)] = '"' + value.replace('"', '""') + '"'
    lines[row - 1] = ";".join(fields)
    (ws / name).write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def _export_case(mutate: Callable[[Path], None]) -> Callable[[Path], list[str]]:
    def make(root: Path) -> list[str]:
        ws = copy_workshop(root / "ws")
        _outside(root)
        mutate(ws)
        return _ingest(ws, root)

    return make


def _config_case(mutate: Callable[[dict, Path, Path], dict | None]) -> Callable[[Path], list[str]]:
    def make(root: Path) -> list[str]:
        ws = copy_workshop(root / "ws")
        secret = _outside(root)
        data = _config(ws)
        new = mutate(data, ws, secret)
        _write_config(ws, data if new is None else new)
        return _ingest(ws, root)

    return make


def _raw_config_case(text: str) -> Callable[[Path], list[str]]:
    def make(root: Path) -> list[str]:
        ws = copy_workshop(root / "ws")
        _outside(root)
        (ws / "workshop.yaml").write_text(text, encoding="utf-8")
        return _ingest(ws, root)

    return make


def _instrument_case(mutate: Callable[[dict], dict | str]) -> Callable[[Path], list[str]]:
    def make(root: Path) -> list[str]:
        data = yaml.safe_load(INSTRUMENT.read_text(encoding="utf-8"))
        new = mutate(data)
        path = root / "instrument.yaml"
        if isinstance(new, str):
            path.write_text(new, encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(new, allow_unicode=True, sort_keys=False),
                            encoding="utf-8")
        return ["instrument", "check", str(path)]

    return make


def _cli_case(argv: Callable[[Path], list[str]]) -> Callable[[Path], list[str]]:
    def make(root: Path) -> list[str]:
        ws = copy_workshop(root / "ws")
        _outside(root)
        (root / "file.csv").write_text("a;b\n1;2\n", encoding="utf-8")
        return [a.replace("{ws}", str(ws)).replace("{root}", str(root)) for a in argv(root)]

    return make


# --- export mutations ---------------------------------------------------------------------


def _reencode(codec: str, name: str = PRE) -> Callable[[Path], None]:
    def mutate(ws: Path) -> None:
        text = (ws / name).read_text(encoding="utf-8")
        # the demo has Kazakh letters that legacy code pages lack: they become '?'
        (ws / name).write_bytes(text.encode(codec, errors="replace"))

    return mutate


def _garbage(ws: Path) -> None:
    rng = random.Random(1)
    (ws / PRE).write_bytes(bytes(rng.randrange(256) for _ in range(4096)))


def _truncate_mid_row(ws: Path) -> None:
    data = (ws / PRE).read_bytes()
    last = data.rstrip(b"\r\n").rfind(b"\n")
    # cut the last record in the middle, after its 10th field
    cut = last + 1
    for _ in range(10):
        cut = data.index(b";", cut + 1)
    (ws / PRE).write_bytes(data[:cut])


def _truncate_in_quote(ws: Path) -> None:
    data = (ws / PRE).read_bytes()
    cut = data.index(b'"', data.index(b"\n", data.index(b"\n") + 1) + 1) + 3
    (ws / PRE).write_bytes(data[:cut])


def _fake_xlsx_zip(ws: Path) -> None:
    path = ws / "pre.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "this archive holds no workbook")
        zf.writestr("data/pre.csv", (ws / PRE).read_text(encoding="utf-8"))
    _point_pre(ws, "pre.xlsx")


def _csv_as_xlsx(ws: Path) -> None:
    shutil.copy(ws / PRE, ws / "pre.xlsx")
    _point_pre(ws, "pre.xlsx")


def _broken_xlsx(ws: Path) -> None:
    from evaluation.xlsx import write_workbook

    lines = [line.split(";") for line in _lines(ws)]
    rows = [[c.strip('"') for c in line] for line in lines]
    write_workbook({"pre": rows}, ws / "pre.xlsx")
    data = (ws / "pre.xlsx").read_bytes()
    (ws / "pre.xlsx").write_bytes(data[: len(data) // 2])
    _point_pre(ws, "pre.xlsx")


def _xlsx_bomb(ws: Path) -> None:
    path = ws / "pre.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (3 * 1024 * 1024))
    _point_pre(ws, "pre.xlsx", max_file_mb=1)


def _xlsx_formula_and_dupes(ws: Path) -> None:
    """A real workbook with a cached formula result and a text cell that is a formula."""
    from evaluation.xlsx import write_workbook

    rows = [[c.strip('"') for c in line.split(";")] for line in _lines(ws)]
    write_workbook({"pre": rows}, ws / "pre.xlsx")
    _point_pre(ws, "pre.xlsx")


def _point_pre(ws: Path, name: str, **ingest: object) -> None:
    data = _config(ws)
    data["waves"]["pre"] = {"file": name, "source": "kobo"}
    if ingest:
        data.setdefault("ingest", {}).update(ingest)
    _write_config(ws, data)


def _empty(ws: Path) -> None:
    (ws / PRE).write_bytes(b"")


def _whitespace(ws: Path) -> None:
    (ws / PRE).write_bytes(b"\xef\xbb\xbf \r\n\t\r\n\r\n")


def _header_only(ws: Path) -> None:
    (ws / PRE).write_text(_lines(ws)[0] + "\r\n", encoding="utf-8")


def _wide(ws: Path) -> None:
    header = ";".join(f"c{i}" for i in range(100_000))
    row = ";".join("1" for _ in range(100_000))
    (ws / PRE).write_text(header + "\n" + row + "\n", encoding="utf-8")


def _over_configured_limit(ws: Path) -> None:
    lines = _lines(ws)
    body = "\r\n".join(lines[1:]) + "\r\n"
    with (ws / PRE).open("w", encoding="utf-8", newline="") as fh:
        fh.write(lines[0] + "\r\n")
        while fh.tell() < 2 * 1024 * 1024:
            fh.write(body)
    data = _config(ws)
    data["ingest"]["max_file_mb"] = 1
    _write_config(ws, data)


def write_big_export(path: Path, header: str, block: str, size: int) -> int:
    """Write a header then ``block`` repeated until ``path`` holds at least ``size`` bytes."""
    chunk = (block * max(1, (1 << 20) // max(1, len(block)))).encode("utf-8")
    with path.open("wb") as fh:
        fh.write(header.encode("utf-8"))
        written = len(header)
        while written < size:
            fh.write(chunk)
            written += len(chunk)
    return written


def _over_default_limit(ws: Path) -> None:
    lines = _lines(ws)
    write_big_export(ws / PRE, lines[0] + "\r\n", "\r\n".join(lines[1:]) + "\r\n",
                     201 * 1024 * 1024)


def _duplicate_header(ws: Path) -> None:
    lines = _lines(ws)
    header = lines[0].split(";")
    # the column profile/country appears twice (second copy replaces profile/sector)
    idx = header.index('"profile/sector"')
    header[idx] = '"profile/country"'
    lines[0] = ";".join(header)
    (ws / PRE).write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def _formula_text(ws: Path) -> None:
    _set_cell(ws, POST, 2, "open/open_most_useful", "=cmd|' /C calc'!A0")
    _set_cell(ws, POST, 3, "open/open_improve", "@SUM(1+1)*cmd|' /C calc'!A0")


def _html_text(ws: Path) -> None:
    _set_cell(ws, POST, 2, "open/open_most_useful", "<script>alert(1)</script>")


def _grow(ws: Path, times: int = 5) -> None:
    """Repeat the answers of the pre export ``times`` times (repeats become duplicates)."""
    lines = _lines(ws)
    (ws / PRE).write_text("\r\n".join([lines[0]] + lines[1:] * times) + "\r\n",
                          encoding="utf-8")


def _truncate_large(ws: Path) -> None:
    _grow(ws)
    _truncate_mid_row(ws)


def _ragged_row(ws: Path) -> None:
    _grow(ws)
    lines = _lines(ws)
    lines[3] = lines[3] + ';"extra";"fields";"x"'
    (ws / PRE).write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def _unmapped_likert(ws: Path) -> None:
    _set_cell(ws, PRE, 4, "readiness/ud_drivers", "9")


def _unmapped_stop(ws: Path) -> None:
    _set_cell(ws, PRE, 4, "readiness/ud_drivers", "9")
    data = _config(ws)
    data["ingest"]["unmapped_values"] = "stop"
    _write_config(ws, data)


def _bad_day(ws: Path) -> None:
    _set_cell(ws, PRE, 5, "code/code_day", "45")


def _nul_inside(ws: Path) -> None:
    data = (ws / PRE).read_bytes()
    (ws / PRE).write_bytes(data[:500] + b"\x00" + data[500:])


def _pdf(ws: Path) -> None:
    (ws / PRE).write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")


def _ole(ws: Path) -> None:
    (ws / PRE).write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)


def _zip_as_csv(ws: Path) -> None:
    with zipfile.ZipFile(ws / PRE, "w") as zf:
        zf.writestr("pre.csv", "a;b\n")


def _huge_cell(ws: Path) -> None:
    _set_cell(ws, POST, 2, "open/open_most_useful", "слово " * 400_000)


def _missing_file(ws: Path) -> None:
    (ws / PRE).unlink()


def _dir_as_file(ws: Path) -> None:
    (ws / PRE).unlink()
    (ws / PRE).mkdir()


def _unsupported_suffix(ws: Path) -> None:
    shutil.copy(ws / PRE, ws / "pre.json")
    _point_pre(ws, "pre.json")


def _old_mac_newlines(ws: Path) -> None:
    (ws / PRE).write_text("\r".join(_lines(ws)) + "\r", encoding="utf-8", newline="")


def _utf16_excel_text(ws: Path) -> None:
    rows = [[c.strip('"') for c in line.split(";")] for line in _lines(ws)]
    text = "\r\n".join("\t".join(r) for r in rows) + "\r\n"
    (ws / "pre.txt").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    (ws / PRE).unlink()
    _point_pre(ws, "pre.txt")


def _no_code_columns(ws: Path) -> None:
    lines = [line.split(";") for line in _lines(ws)]
    keep = [i for i, h in enumerate(lines[0]) if not h.startswith('"code/')]
    text = "\r\n".join(";".join(line[i] for i in keep if i < len(line)) for line in lines)
    (ws / PRE).write_text(text + "\r\n", encoding="utf-8")


def _all_duplicates(ws: Path) -> None:
    lines = _lines(ws)
    (ws / PRE).write_text("\r\n".join([lines[0]] + [lines[1]] * 6) + "\r\n", encoding="utf-8")


# --- workshop.yaml mutations ---------------------------------------------------------------


def _drop(key: str) -> Callable[[dict, Path, Path], None]:
    def mutate(data: dict, ws: Path, secret: Path) -> None:
        data.pop(key)

    return mutate


def _set(path: str, value: object) -> Callable[[dict, Path, Path], None]:
    def mutate(data: dict, ws: Path, secret: Path) -> None:
        keys = path.split(".")
        node = data
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value

    return mutate


def _wave_file(value: Callable[[Path, Path], str]) -> Callable[[dict, Path, Path], None]:
    def mutate(data: dict, ws: Path, secret: Path) -> None:
        data["waves"]["pre"]["file"] = value(ws, secret)

    return mutate


def _symlink(data: dict, ws: Path, secret: Path) -> None:
    link = ws / "pre-link.csv"
    os.symlink(secret, link)
    data["waves"]["pre"]["file"] = "pre-link.csv"


def _symlinked_dir(data: dict, ws: Path, secret: Path) -> None:
    os.symlink(secret.parent, ws / "exports")
    data["waves"]["pre"]["file"] = "exports/passwd.csv"
    shutil.copy(secret, secret.parent / "passwd.csv")


def _instrument_outside(data: dict, ws: Path, secret: Path) -> None:
    bad = secret.parent / "evil.yaml"
    bad.write_text("id: [unterminated\n" + SECRET, encoding="utf-8")
    data["instrument"] = os.path.relpath(bad, ws)


def _instrument_absolute(data: dict, ws: Path, secret: Path) -> None:
    bad = secret.parent / "evil.yaml"
    bad.write_text("id: [unterminated\n" + SECRET, encoding="utf-8")
    data["instrument"] = str(bad)


def _roster_outside(data: dict, ws: Path, secret: Path) -> None:
    data["roster"] = os.path.relpath(secret, ws)


_PY_TAG = """\
id: tagged
instrument: pvect-readiness@2.0
waves: {pre: pre-synthetic.csv}
title: !!python/object/apply:os.system ["echo pwned > PWNED"]
"""

_PY_NAME = """\
id: !!python/name:os.getcwd
instrument: pvect-readiness@2.0
waves: {pre: pre-synthetic.csv}
"""

_ALIAS_BOMB = "\n".join(
    ["id: bomb", "instrument: pvect-readiness@2.0", "synthetic: true",
     "waves: {pre: pre-synthetic.csv}", "privacy: {demo_key: true}",
     "organizers:", '  - &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"  - &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    + ["project: *a9", ""]
)

_RECURSIVE = """\
id: loop
instrument: pvect-readiness@2.0
synthetic: true
privacy: {demo_key: true}
waves: &w {pre: {file: pre-synthetic.csv, header_map: *w}}
"""


# --- instrument mutations -------------------------------------------------------------------


def _dup_item(data: dict) -> dict:
    data["items"].append(dict(data["items"][-1]))
    return data


def _no_russian(data: dict) -> dict:
    item = next(it for it in data["items"] if isinstance(it.get("text"), dict))
    item["text"] = {"en": item["text"]["en"]}
    return data


def _unknown_list(data: dict) -> dict:
    item = next(it for it in data["items"] if it.get("choices"))
    item["choices"] = "no_such_list"
    return data


def _recursive_instrument(data: dict) -> str:
    return "id: loop\nversion: '1'\nlanguages: [en]\nitems: &i [*i]\n"


def _instrument_tag(data: dict) -> str:
    return "id: !!python/object/apply:os.system ['echo pwned > PWNED']\nversion: '1'\n"


def _instrument_alias_bomb(data: dict) -> str:
    return "\n".join(
        ["a0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
        + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
        + ["id: bomb", "version: '1'", "languages: [en]", "description: *a9", "items: *a9", ""]
    )


def _instrument_not_utf8(data: dict) -> str:
    return "\udcff"  # replaced below by raw bytes


def _scale_cycle(data: dict) -> dict:
    # a scale whose reverse item is itself a scale id (a definition cycle) and a duplicate scale
    data["scales"] = list(data.get("scales") or []) + list(data.get("scales") or [])[:1]
    return data


# ------------------------------------------------------------------------------------------
# the corpus
# ------------------------------------------------------------------------------------------

E, W, INS, C = "export", "workshop.yaml", "instrument", "command line"

CASES: list[Case] = [
    # exports ---------------------------------------------------------------------------------
    Case("utf16-no-bom", E, "pre export in UTF-16LE without byte-order mark", "error",
         _export_case(_reencode("utf-16-le")), (PRE, "UTF-16")),
    Case("koi8r", E, "post export (Russian open answers) in KOI8-R while workshop.yaml "
         "says cp1251", "error", _export_case(_reencode("koi8-r", POST)), (POST, "implausible")),
    Case("cp1251", E, "post export in the legacy code page cp1251 (as configured)", "clean",
         _export_case(_reencode("cp1251", POST))),
    Case("utf16-excel-text", E, "Excel 'Unicode text' (UTF-16LE with BOM, tab-separated)",
         "clean", _export_case(_utf16_excel_text)),
    Case("binary-garbage", E, "4 KB of random bytes named .csv", "error",
         _export_case(_garbage), (PRE,)),
    Case("nul-inside", E, "one NUL byte inside a UTF-8 export", "error",
         _export_case(_nul_inside), (PRE, "NUL")),
    Case("pdf-as-csv", E, "a PDF document named .csv", "error", _export_case(_pdf), (PRE, "PDF")),
    Case("xls-as-csv", E, "a legacy .xls (OLE) file named .csv", "error", _export_case(_ole),
         (PRE, ".xls")),
    Case("zip-as-csv", E, "a ZIP archive named .csv", "error", _export_case(_zip_as_csv),
         (PRE, "ZIP")),
    Case("xlsx-zip-of-other", E, "an .xlsx that is a ZIP of a text file and a CSV", "error",
         _export_case(_fake_xlsx_zip), ("pre.xlsx", "workbook")),
    Case("csv-named-xlsx", E, "a CSV file named .xlsx", "error", _export_case(_csv_as_xlsx),
         ("pre.xlsx", "not an XLSX")),
    Case("xlsx-truncated", E, "a real workbook cut in half", "error", _export_case(_broken_xlsx),
         ("pre.xlsx", "damaged")),
    Case("xlsx-zip-bomb", E, "a 10 KB ZIP that unpacks to 3 MB, ingest.max_file_mb: 1", "error",
         _export_case(_xlsx_bomb), ("pre.xlsx", "unpacks", "ingest.max_file_mb")),
    Case("xlsx-real", E, "the pre export as a real workbook (control case)", "clean",
         _export_case(_xlsx_formula_and_dupes)),
    Case("empty", E, "a 0-byte export", "error", _export_case(_empty), (PRE, "empty")),
    Case("whitespace-only", E, "BOM, blanks and newlines only", "error",
         _export_case(_whitespace), (PRE, "empty")),
    Case("header-only", E, "the header row and no answers", "clean",
         _export_case(_header_only), check=lambda root: _assert_rows(root, "pre", 0)),
    Case("truncated-mid-row", E, "14 answers, the last record cut after its 10th field "
         "(1 row in 14 is under the 95% consistency rule)", "error",
         _export_case(_truncate_mid_row), (PRE, "row 15", "10")),
    Case("truncated-mid-row-large", E, "70 answers, the last record cut after its 10th field",
         "quarantine", _export_case(_truncate_large), quarantine_reason="fields"),
    Case("truncated-in-quote", E, "the file cut inside a quoted field of row 3", "error",
         _export_case(_truncate_in_quote), (PRE, "row 3")),
    Case("ragged-row", E, "70 answers, row 4 has three fields more than the header",
         "quarantine", _export_case(_ragged_row), quarantine_reason="fields"),
    Case("old-mac-newlines", E, "records separated by bare CR", "clean",
         _export_case(_old_mac_newlines)),
    Case("100k-columns", E, "100,000 columns", "error", _export_case(_wide),
         (PRE, "row 1", "100000 columns", "5000")),
    Case("over-configured-limit", E, "a 2 MB export with ingest.max_file_mb: 1", "error",
         _export_case(_over_configured_limit), (PRE, "ingest.max_file_mb", "1 MB")),
    Case("over-200mb", E, "a real 201 MB export (header + repeated rows), default limit",
         "error", _export_case(_over_default_limit), (PRE, "ingest.max_file_mb", "200 MB")),
    Case("duplicate-header", E, "the column profile/country appears twice", "error",
         _export_case(_duplicate_header), (PRE, "profile/country")),
    Case("formula-in-text", E, "=cmd|' /C calc'!A0 in open answers of the post export",
         "clean", _export_case(_formula_text), check=lambda root: _assert_formulas_safe(root)),
    Case("html-in-text", E, "<script> in an open answer", "clean", _export_case(_html_text)),
    Case("huge-cell", E, "a 2.4 MB open answer in one cell (over the CSV field limit)",
         "error", _export_case(_huge_cell), (POST, "row 2", "field limit")),
    Case("unmapped-likert", E, "Likert answer 9 in row 4 (policy quarantine)", "quarantine",
         _export_case(_unmapped_likert), quarantine_reason="4,ud_drivers,unmapped value"),
    Case("unmapped-stop", E, "Likert answer 9 in row 4 (policy stop)", "error",
         _export_case(_unmapped_stop), (PRE, "row 4", "column 'ud_drivers'", "'9'")),
    Case("impossible-day", E, "day of birth 45 in the participant code of row 5 (the element "
         "counts as missing; the row is still matched on the other five)", "clean",
         _export_case(_bad_day), check=lambda root: _assert_rows(root, "pre", 14)),
    Case("no-code-columns", E, "the participant-code columns are missing (listed in "
         "columns_missing; every pre row unmatched with cause 'no code')", "clean",
         _export_case(_no_code_columns), check=lambda root: _assert_no_code(root)),
    Case("all-duplicates", E, "the same submission six times", "clean",
         _export_case(_all_duplicates)),
    Case("missing-export", E, "the pre export named in workshop.yaml does not exist", "error",
         _export_case(_missing_file), ("waves.pre.file", PRE)),
    Case("export-is-folder", E, "the pre export is a folder", "error",
         _export_case(_dir_as_file), ("waves.pre.file", PRE, "folder")),
    Case("unsupported-suffix", E, "an export named .json", "error",
         _export_case(_unsupported_suffix), ("pre.json", ".json")),
    # workshop.yaml ---------------------------------------------------------------------------
    Case("missing-id", W, "no id", "error", _config_case(_drop("id")), ("workshop.yaml", "'id'")),
    Case("missing-waves", W, "no waves", "error", _config_case(_drop("waves")),
         ("workshop.yaml", "'waves'")),
    Case("missing-instrument", W, "no instrument", "error", _config_case(_drop("instrument")),
         ("workshop.yaml", "'instrument'")),
    Case("kmin-text", W, "privacy.k_min: five", "error",
         _config_case(_set("privacy.k_min", "five")), ("workshop.yaml", "privacy.k_min")),
    Case("kmin-too-small", W, "privacy.k_min: 1", "error",
         _config_case(_set("privacy.k_min", 1)), ("workshop.yaml", "privacy.k_min")),
    Case("waves-list", W, "waves is a list", "error", _config_case(_set("waves", ["pre.csv"])),
         ("workshop.yaml", "'waves'")),
    Case("bad-date", W, "dates.start: 2015-13-45", "error",
         _config_case(_set("dates.start", "2015-13-45")), ("workshop.yaml", "dates.start")),
    Case("max-file-mb-negative", W, "ingest.max_file_mb: -1", "error",
         _config_case(_set("ingest.max_file_mb", -1)), ("workshop.yaml", "ingest.max_file_mb")),
    Case("unknown-key", W, "a misspelt key 'wavess'", "error", _config_case(_set("wavess", {})),
         ("workshop.yaml", "wavess")),
    Case("unknown-instrument", W, "instrument: no-such-survey@9.9", "error",
         _config_case(_set("instrument", "no-such-survey@9.9")),
         ("workshop.yaml", "instrument", "no-such-survey@9.9")),
    Case("unknown-source", W, "waves.pre.source: surveymonkey", "error",
         _config_case(_set("waves.pre.source", "surveymonkey")),
         ("workshop.yaml", "waves.pre.source")),
    Case("wave-dotdot", W, "waves.pre.file: ../../etc/passwd", "error",
         _config_case(_wave_file(lambda ws, s: "../../etc/passwd")),
         ("workshop.yaml", "waves.pre.file")),
    Case("wave-dotdot-real", W, "waves.pre.file: relative path to a real file outside", "error",
         _config_case(_wave_file(lambda ws, s: os.path.relpath(s, ws))),
         ("workshop.yaml", "waves.pre.file")),
    Case("wave-absolute", W, "waves.pre.file: an absolute path", "error",
         _config_case(_wave_file(lambda ws, s: str(s))), ("workshop.yaml", "waves.pre.file")),
    Case("wave-symlink", W, "waves.pre.file: a symlink inside pointing outside", "error",
         _config_case(_symlink), ("workshop.yaml", "waves.pre.file")),
    Case("wave-symlinked-dir", W, "waves.pre.file: a file under a symlinked folder", "error",
         _config_case(_symlinked_dir), ("workshop.yaml", "waves.pre.file")),
    Case("roster-outside", W, "roster: a file outside the folder", "error",
         _config_case(_roster_outside), ("workshop.yaml", "roster")),
    Case("instrument-outside", W, "instrument: ../outside/evil.yaml", "error",
         _config_case(_instrument_outside), ("workshop.yaml", "instrument")),
    Case("instrument-absolute", W, "instrument: an absolute path", "error",
         _config_case(_instrument_absolute), ("workshop.yaml", "instrument")),
    Case("yaml-python-tag", W, "!!python/object/apply:os.system in title", "error",
         _raw_config_case(_PY_TAG), ("workshop.yaml", "not valid YAML")),
    Case("yaml-python-name", W, "!!python/name:os.getcwd as id", "error",
         _raw_config_case(_PY_NAME), ("workshop.yaml", "not valid YAML")),
    Case("yaml-alias-bomb", W, "'billion laughs': 9^10 aliases used as project", "error",
         _raw_config_case(_ALIAS_BOMB), ("workshop.yaml", "aliases")),
    Case("yaml-recursive", W, "a mapping that contains itself (&w ... *w)", "error",
         _raw_config_case(_RECURSIVE), ("workshop.yaml", "contains itself")),
    Case("ingest-unknown-key", W, "ingest.max_bytes (a misspelt size limit)", "error",
         _config_case(_set("ingest.max_bytes", 10)), ("workshop.yaml", "ingest.max_bytes")),
    Case("project-list", W, "project is a list", "error",
         _config_case(_set("project", ["a", "b"])), ("workshop.yaml", "'project'")),
    Case("yaml-not-mapping", W, "workshop.yaml is a list", "error",
         _raw_config_case("- a\n- b\n"), ("workshop.yaml", "mapping")),
    Case("yaml-empty", W, "workshop.yaml is empty", "error", _raw_config_case(""),
         ("workshop.yaml", "mapping")),
    Case("yaml-syntax", W, "workshop.yaml has a syntax error on line 3", "error",
         _raw_config_case("id: x\ninstrument: y\nwaves: [unclosed\n"),
         ("workshop.yaml", "line")),
    # instruments --------------------------------------------------------------------------
    Case("instrument-duplicate-item", INS, "an item id defined twice", "error",
         _instrument_case(_dup_item), ("instrument.yaml", "twice")),
    Case("instrument-missing-translation", INS, "an item without Russian text", "error",
         _instrument_case(_no_russian), ("instrument.yaml", "ru")),
    Case("instrument-unknown-list", INS, "an item that uses an undefined choice list", "error",
         _instrument_case(_unknown_list), ("instrument.yaml", "no_such_list")),
    Case("instrument-duplicate-scale", INS, "a scale defined twice", "error",
         _instrument_case(_scale_cycle), ("instrument.yaml",)),
    Case("instrument-recursive", INS, "items: &i [*i] (a list that contains itself)", "error",
         _instrument_case(_recursive_instrument), ("instrument.yaml", "contains itself")),
    Case("instrument-alias-bomb", INS, "'billion laughs' aliases as items", "error",
         _instrument_case(_instrument_alias_bomb), ("instrument.yaml", "aliases")),
    Case("instrument-python-tag", INS, "!!python/object/apply in the instrument", "error",
         _instrument_case(_instrument_tag), ("instrument.yaml", "YAML")),
    Case("instrument-is-folder", INS, "instrument check on a folder", "error",
         _cli_case(lambda r: ["instrument", "check", "{ws}"]), ("ws", "folder")),
    Case("instrument-missing", INS, "instrument check on a file that does not exist", "error",
         _cli_case(lambda r: ["instrument", "check", "{root}/nope.yaml"]), ("nope.yaml",)),
    # command line -------------------------------------------------------------------------
    Case("cli-unknown-command", C, "evaluate frobnicate", "error",
         _cli_case(lambda r: ["frobnicate"]), ("frobnicate",)),
    Case("cli-missing-argument", C, "evaluate ingest (no folder)", "error",
         _cli_case(lambda r: ["ingest"]), ("workshop_dir",)),
    Case("cli-unknown-option", C, "evaluate ingest --frobnicate", "error",
         _cli_case(lambda r: ["ingest", "{ws}", "--frobnicate"]), ("--frobnicate",)),
    Case("cli-bad-choice", C, "evaluate report --lang fr", "error",
         _cli_case(lambda r: ["report", "{ws}", "--lang", "fr"]), ("'fr'",)),
    Case("cli-bad-int", C, "evaluate batch --jobs many", "error",
         _cli_case(lambda r: ["batch", "{ws}", "--jobs", "many"]), ("many",)),
    Case("cli-no-folder", C, "evaluate ingest on a folder that does not exist", "error",
         _cli_case(lambda r: ["ingest", "{root}/no-such-workshop"]), ("no-such-workshop",)),
    Case("cli-file-not-folder", C, "evaluate ingest on a CSV file", "error",
         _cli_case(lambda r: ["ingest", "{root}/file.csv"]), ("file.csv", "not a workshop folder")),
    Case("cli-report-no-folder", C, "evaluate report on a folder that does not exist", "error",
         _cli_case(lambda r: ["report", "{root}/no-such-workshop"]), ("no-such-workshop",)),
    Case("cli-folder-without-yaml", C, "evaluate ingest on a folder without workshop.yaml",
         "error", _cli_case(lambda r: ["ingest", "{root}/outside"]), ("workshop.yaml",)),
    Case("cli-batch-empty", C, "evaluate batch on a folder without workshops", "error",
         _cli_case(lambda r: ["batch", "{root}/outside", "--no-progress"]), ("outside",)),
    Case("cli-no-command", C, "evaluate with no command (help on stdout)", "error",
         _cli_case(lambda r: []), ("no command",)),
    Case("cli-xlsform-bad-wave", C, "evaluate instrument xlsform --wave retro", "error",
         _cli_case(lambda r: ["instrument", "xlsform", str(INSTRUMENT), "--wave", "retro",
                              "--out", "{root}/x.xlsx"]), ("retro",)),
]


def _report_json(root: Path) -> dict:
    import json

    return json.loads(next(root.glob("reports/*/ingest/report.json")).read_text("utf-8"))


def _assert_rows(root: Path, wave: str, n: int) -> None:
    files = {f["wave"]: f for f in _report_json(root)["files"]}
    assert files[wave]["rows_read"] == n and files[wave]["kept"] == n, files[wave]


def _assert_no_code(root: Path) -> None:
    files = {f["wave"]: f for f in _report_json(root)["files"]}
    assert "code_day" in files["pre"]["columns_missing"]
    causes = _report_json(root)["matching"]["unmatched_by_cause"]
    assert any(c["cause"] == "no code" and c["wave"] == "pre" and c["n"] == 14 for c in causes)


def _assert_formulas_safe(root: Path) -> None:
    """The open answer is kept as text; every CSV/XLSX the toolkit writes neutralises it."""
    import csv

    import pandas as pd

    from evaluation.outputs import atomic_write_csv
    from evaluation.xlsx import FORMULA_PREFIXES, write_workbook

    post = pd.read_parquet(root / "ws" / "processed" / "post.parquet")
    answers = [v for v in post["open_most_useful"].tolist() if isinstance(v, str)]
    assert any(v.startswith("=cmd") for v in answers), "the answer must be kept (as text)"
    for path in root.glob("reports/*/ingest/*.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                assert not any(c.startswith(FORMULA_PREFIXES) for c in row), (path, row)
    out = atomic_write_csv(root / "open.csv", post[["open_most_useful", "open_improve"]])
    with out.open(encoding="utf-8", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert "'=cmd|' /C calc'!A0" in cells
    assert not any(c.startswith(FORMULA_PREFIXES) for c in cells)
    book = write_workbook({"open": [["answer"]] + [[v] for v in answers]}, root / "open.xlsx",
                          escape_formulas=True)
    import openpyxl

    ws = openpyxl.load_workbook(book).active
    values = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert not any(v.startswith(FORMULA_PREFIXES) for v in values)


def _case_by_id() -> dict[str, Case]:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return {c.id: c for c in CASES}


def build(case_id: str, root: Path) -> list[str]:
    """Write case ``case_id`` under ``root`` (created) and return its ``evaluate`` arguments."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    return _case_by_id()[case_id].make(root)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--table"]:
        for c in CASES:
            print(f"| `{c.id}` | {c.entry} | {c.what} | {c.outcome} |")
        return 0
    if len(argv) != 1:
        print("usage: make_cases.py OUT_DIR | --table", file=sys.stderr)
        return 2
    out = Path(argv[0])
    for c in CASES:
        if c.id == "over-200mb":
            continue  # 201 MB: built only inside the test's tmp_path
        args = build(c.id, out / c.id)
        (out / c.id / "ARGS").write_text(" ".join(args) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
