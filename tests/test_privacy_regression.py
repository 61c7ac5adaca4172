"""Privacy regression: planted personal data never reaches a report, a result or the warehouse.

Copies of demo workshops get personal data planted into every wave: into each open-answer
column (found from the export's header, whatever its dialect) and, in every wave, into extra
columns the instrument does not declare ("ФИО", "e-mail", "Телефон", "Паспорт"). The planted
data are roster names in Cyrillic and Latin script and in Russian case forms, e-mail addresses,
phone numbers in the format of each country (KZ, KG, TJ, TM, UZ, RU, AF), a 12-digit IIN, a
14-digit PINFL and a passport number; the roster (``roster.csv``) lists the names. The workshops
use a real (non-demo) pseudonym key from ``EVALUATION_PSEUDONYM_KEY`` (``privacy.demo_key:
false``; they stay ``synthetic: true``).

Then ``evaluate batch --jobs 2``, ``evaluate warehouse add`` and ``evaluate compare`` run as a
user runs them, and every output is scanned for every planted string, the raw participant codes
and the key (as given, in hex and base64), also in normalised forms (phone numbers with their
separators removed, HTML entities decoded, JSON escapes decoded, case folded): every file under
the reports folder and each ``processed/`` folder (HTML, executed notebooks, CSV, JSON, the text
of the PDFs, every cell of every sheet of the XLSX annexes, Parquet), every VARCHAR column of
every table of the DuckDB warehouse, and the commands' own output.

Every demo workshop is rendered (all eight), so every export dialect of the demo set is
covered: generic XLSX and instrument 1.0 (almaty-2012-11), Kobo CSV with Russian label headers,
ODK CSV and Kobo XLSX (astana-2018-05), generic ``;`` CSV in cp1251 (bishkek-2013-04), Kobo CSV
with XML names (dushanbe-2014-10), a UTF-8 CSV with a byte-order mark (samarkand-2019-04) and
ODK as a follow-up wave.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

pypdf = pytest.importorskip("pypdf")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo-workshops"
WORKSHOPS = tuple(sorted(p.parent.name for p in DEMO.glob("*/workshop.yaml")))

#: A real-looking key (not the demo key); given to the toolkit only through the environment.
KEY_HEX = "9f3c2a7be41d0c58a6f2913e7d4b05c1e8a2f6d39b1c7e04a5d8f2b6c3e9a170"
KEY_BYTES = bytes.fromhex(KEY_HEX)

ROSTER = ["Айгерим Нурлановна Сапарова", "Saparova Aigerim", "Бахтиёр Каримов",
          "Bakhtiyor Karimov", "Гульнара Абдуллаева", "Dilnoza Yusupova",
          "Дильноза Юсупова"]

#: Phone numbers as written, one per country format.
PHONES = {
    "KZ": "+7 701 234 56 78",
    "KG": "+996 555 123 456",
    "TJ": "+992 93 123 4567",
    "TM": "+993 65 123456",
    "UZ": "+998 90 123 45 67",
    "RU": "+7 916 123-45-67",
    "AF": "+93 70 123 4567",
}
_CALLING_CODES = {"KZ": "7", "KG": "996", "TJ": "992", "TM": "993", "UZ": "998", "RU": "7",
                  "AF": "93"}
EMAILS = ["a.saparova@mail.kz", "b.karimov@umail.uz", "dilnoza_y@gmail.com"]
IDS = ["870412450318", "31205880120045", "AB1234567"]  # IIN, PINFL, passport

#: Open answers planted in turn into every open-answer cell (names in Russian case forms).
TEXTS = [
    f"Спасибо Айгерим Нурлановне Сапаровой за модуль по НПД! Пишите: {EMAILS[0]}, "
    f"тел. {PHONES['KZ']}",
    f"Aigerim Saparova and Bakhtiyor Karimov explained it well; call {PHONES['KG']} or "
    f"{PHONES['TJ']}, mail {EMAILS[1]}",
    f"Обсудили с Бахтиёром Каримовым и Гульнарой Абдуллаевой: {PHONES['TM']}, "
    f"{PHONES['UZ']}, ИИН {IDS[0]}",
    f"Дильнозе Юсуповой и Dilnoza Yusupova: ПИНФЛ {IDS[1]}, паспорт {IDS[2]}, "
    f"звоните {PHONES['RU']} или {PHONES['AF']}, {EMAILS[2]}",
]
#: Extra columns the instrument does not declare (dropped at read time, named only).
EXTRA = {"ФИО": "Сапарова Айгерим Нурлановна", "e-mail": EMAILS[0],
         "Телефон": PHONES["UZ"], "Паспорт": IDS[2]}

NAME_STEMS = ["Айгерим", "Нурлановн", "Сапаров", "Aigerim", "Saparova", "Бахтиёр", "Bakhtiyor",
              "Каримов", "Karimov", "Гульнар", "Абдуллаев", "Dilnoza", "Yusupov", "Дильноз",
              "Юсупов"]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _needles() -> list[str]:
    """Every planted string, in the forms an intruder would search for."""
    out = list(NAME_STEMS) + EMAILS + [e.split("@")[0] for e in EMAILS] + IDS
    for country, phone in PHONES.items():
        digits = _digits(phone)
        national = digits[len(_CALLING_CODES[country]):]
        out += [phone, digits, "+" + digits, national, phone.split(" ", 1)[1]]
    out += [KEY_HEX, KEY_HEX.upper(), base64.b64encode(KEY_BYTES).decode(),
            base64.urlsafe_b64encode(KEY_BYTES).decode().rstrip("=")]
    return sorted(set(out))


# ---- planting ---------------------------------------------------------------------------------


def _instrument_items(config: dict) -> tuple[dict[str, str], set[str], list[str]]:
    """Header text -> item id (ids and ru/en labels), the text items, the code items in order."""
    from evaluation.instrument import find_instrument, load_instrument

    inst = load_instrument(find_instrument(config["instrument"]))
    names: dict[str, str] = {}
    for it in inst.items:
        names[it.id] = it.id
        for language in ("ru", "en"):
            label = it.text.get(language)
            if label:
                names[label.strip()] = it.id
    texts = {it.id for it in inst.items if it.type == "text"}
    codes = [it.id for it in inst.items if it.type == "code"]
    return names, texts, codes


def _item_of(header: object, names: dict[str, str]) -> str | None:
    """The item a header names: ``item``, ``group/item`` (Kobo), ``group-item`` (ODK), or a
    ``Group label/Question label`` (Kobo with labels)."""
    text = str(header or "").strip().lstrip("\ufeff")
    for candidate in (text, text.rsplit("/", 1)[-1], text.rsplit("-", 1)[-1]):
        if candidate.strip() in names:
            return names[candidate.strip()]
    return None


def _plant_rows(header: list, rows: list[list], names, texts, codes) -> tuple[int, set[str]]:
    """Plant into the rows in place; return (open cells planted, raw codes seen)."""
    items = [_item_of(h, names) for h in header]
    open_cols = [i for i, it in enumerate(items) if it in texts]
    code_cols = [items.index(c) for c in codes if c in items]
    assert len(code_cols) == len(codes), f"code columns not found in {header[:8]}"
    planted, raw_codes, n = 0, set(), 0
    for row in rows:
        if not any(str(v or "").strip() for v in row):
            continue
        row.extend([""] * (len(header) - len(row)))
        raw_codes.add("".join(str(row[i] or "").strip() for i in code_cols))
        for col in open_cols:
            row[col] = TEXTS[n % len(TEXTS)]
            n += 1
            planted += 1
        row.extend(EXTRA.values())
    header.extend(EXTRA)
    return planted, {c for c in raw_codes if len(c) >= 6}


def _plant_csv(path: Path, names, texts, codes) -> tuple[int, set[str]]:
    raw = path.read_bytes()
    try:
        encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        encoding, text = "cp1251", raw.decode("cp1251")
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    newline = "\r\n" if "\r\n" in text[:10000] else "\n"
    quoting = csv.QUOTE_ALL if first.startswith('"') else csv.QUOTE_MINIMAL
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header, body = rows[0], rows[1:]
    result = _plant_rows(header, body, names, texts, codes)
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=newline,
               quoting=quoting).writerows([header, *body])
    path.write_bytes(buf.getvalue().encode(encoding))  # cp1251 stays cp1251
    return result


def _plant_xlsx(path: Path, sheet: str | None, names, texts, codes) -> tuple[int, set[str]]:
    wb = load_workbook(path)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header, body = rows[0], rows[1:]
    result = _plant_rows(header, body, names, texts, codes)
    ws.delete_rows(1, ws.max_row)
    for r, row in enumerate([header, *body], start=1):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=value)
    wb.save(path)
    return result


def _planted_copy(name: str, root: Path) -> tuple[Path, set[str], dict[str, int]]:
    work = root / name
    shutil.copytree(DEMO / name, work, ignore=shutil.ignore_patterns("processed"))
    cfg_path = work / "workshop.yaml"
    config = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    names, texts, codes = _instrument_items(config)
    raw_codes: set[str] = set()
    planted: dict[str, int] = {}
    for wave, spec in config["waves"].items():
        path = work / spec["file"]
        if path.suffix.lower() == ".xlsx":
            n, seen = _plant_xlsx(path, spec.get("sheet"), names, texts, codes)
        else:
            n, seen = _plant_csv(path, names, texts, codes)
        planted[wave] = n
        raw_codes |= seen
    (work / "roster.csv").write_text("name\n" + "\n".join(ROSTER) + "\n", encoding="utf-8")
    text = cfg_path.read_text(encoding="utf-8")
    assert "demo_key: true" in text and "synthetic: true" in text
    cfg_path.write_text(text.replace("demo_key: true", "demo_key: false")
                        + "roster: roster.csv\n", encoding="utf-8")
    return work, raw_codes, planted


# ---- scanning ---------------------------------------------------------------------------------


def _file_texts(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    if suffix == ".png":
        return []  # pixels; every chart is drawn from suppressed tables
    if suffix == ".pdf":
        return ["\n".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)]
    if suffix == ".xlsx":
        wb = load_workbook(path)
        return ["\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows()
                          for c in row if c.value is not None)]
    if suffix == ".parquet":
        return [pd.read_parquet(path).to_csv()]
    text = path.read_bytes().decode("utf-8", errors="replace")
    out = [text]
    if suffix in {".json", ".ipynb"}:
        out.append(json.dumps(json.loads(text), ensure_ascii=False))
    if suffix in {".html", ".ipynb", ".svg"}:
        out.append(html.unescape(text))
    return out


def _warehouse_texts(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' AND data_type = 'VARCHAR'").fetchall()
        assert columns
        out = []
        for table, column in columns:
            values = con.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall()
            out.append("\n".join(str(v[0]) for v in values if v[0] is not None))
        return out
    finally:
        con.close()


_BASE64_RUN = re.compile(r"(?:[A-Za-z0-9+/]{60,}={0,2}(?:\\n|\n)?)+")


def _joined_digits(text: str) -> str:
    """Separators inside digit runs removed (``701 234-56-78`` -> ``7012345678``)."""
    return re.sub(r"(?<=\d)[ \u00a0\-()/.]+(?=\d)", "", text)


def _leaks(texts: dict[str, str], needles: list[str]) -> list[tuple[str, str]]:
    """(where, needle) for every needle found: case-insensitively in the text, and a needle of
    10 or more digits also in the text with the separators of digit runs removed (shorter
    digit runs are too likely to arise by chance once numbers are joined)."""
    found = []
    for where, text in texts.items():
        folded = text.casefold()
        joined = _joined_digits(text)
        for needle in needles:
            if needle.casefold() in folded or (
                    re.fullmatch(r"\+?\d{10,}", needle) and needle in joined):
                found.append((where, needle))
    return found


def _run(*args: str, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "evaluation", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, (args[0], done.stdout[-2000:], done.stderr[-2000:])
    return done


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("privacy")
    root = tmp / "workshops"
    root.mkdir()
    raw_codes: set[str] = set()
    planted = {}
    for name in WORKSHOPS:
        work, codes, counts = _planted_copy(name, root)
        raw_codes |= codes
        planted[name] = counts
    env = {**os.environ, "MPLBACKEND": "Agg", "EVALUATION_PSEUDONYM_KEY": KEY_HEX}
    for var in ("EVALUATION_PSEUDONYM_KEY_FILE", "EVALUATION_WAREHOUSE"):
        env.pop(var, None)
    reports = tmp / "reports"
    warehouse = tmp / "private" / "warehouse.duckdb"
    compare_out = reports / "cohorts"
    logs = [
        _run("batch", str(root), "--jobs", "2", "--no-progress", "--reports", str(reports),
             env=env),
        _run("warehouse", "add", *(str(root / n) for n in WORKSHOPS), "--warehouse",
             str(warehouse), env=env),
        _run("compare", "--warehouse", str(warehouse), "--out", str(compare_out), env=env),
    ]
    return {"root": root, "reports": reports, "warehouse": warehouse, "compare": compare_out,
            "raw_codes": raw_codes, "planted": planted, "logs": logs}


def test_every_wave_was_planted(run):
    """The planting reached every open-answer column and every wave (else the scan proves
    nothing); the planted strings are absent from the original demo exports."""
    for name, counts in run["planted"].items():
        assert set(counts) >= {"pre", "post"}, name
        assert counts["post"] > 0, name  # open_most_useful and open_improve
        if "followup" in counts:
            assert counts["followup"] > 0, name  # open_followup_example
    assert len(run["raw_codes"]) >= 60
    originals = "\n".join(
        "\n".join(_file_texts(p)) for n in WORKSHOPS for p in (DEMO / n).glob("*-synthetic.*"))
    assert not _leaks({"demo exports": originals}, _needles())
    # the scan finds every planted value (and the joined digits of every phone number) in
    # the planted exports of each workshop, CSV or XLSX: it would see them in an output
    values = NAME_STEMS + EMAILS + IDS + list(PHONES.values()) + [
        "+" + _digits(phone) for phone in PHONES.values()]
    for name in WORKSHOPS:
        planted = {p.name: "\n".join(_file_texts(p))
                   for p in (run["root"] / name).glob("*-synthetic.*")}
        assert {needle for _, needle in _leaks(planted, values)} == set(values), name


def test_no_planted_personal_data_in_any_output(run):
    texts: dict[str, str] = {}
    files = list(run["reports"].rglob("*"))
    for name in WORKSHOPS:
        files += list((run["root"] / name / "processed").rglob("*"))
    kinds = set()
    for path in files:
        if path.is_file():
            kinds.add(path.suffix.lower())
            texts[str(path.relative_to(path.parents[3]))] = "\n".join(_file_texts(path))
    # every kind of output was scanned, in every workshop and the comparison
    assert {".html", ".pdf", ".ipynb", ".csv", ".json", ".xlsx", ".parquet"} <= kinds
    for name in WORKSHOPS:
        out = run["reports"] / name
        for f in ("report.html", "report.pdf", "report.ipynb", "annex.xlsx",
                  "results/items.csv", "results/provenance.json", "ingest/report.json"):
            assert (out / f).is_file(), (name, f)
        assert {p.name for p in (run["root"] / name / "processed").glob("*.parquet")} >= {
            "pre.parquet", "post.parquet"}
    assert (run["compare"] / "report.html").is_file()
    assert (run["compare"] / "report.pdf").is_file()
    for i, table in enumerate(_warehouse_texts(run["warehouse"])):
        texts[f"warehouse column {i}"] = table
    for i, done in enumerate(run["logs"]):
        texts[f"command {i} output"] = done.stdout + done.stderr
    leaks = _leaks(texts, _needles())
    assert not leaks, leaks[:20]
    # raw codes exactly as typed (case kept: folded, one could be read in lower-case hex),
    # outside embedded images (a 6-character code can occur in base64 by chance)
    codes = sorted(run["raw_codes"])
    plain = {w: _BASE64_RUN.sub(" ", t) for w, t in texts.items()}
    leaks = [(w, c) for w, t in plain.items() for c in codes if c in t]
    assert not leaks, leaks[:20]


def test_reviewed_open_answers_are_quoted_redacted(run):
    """The reviewed item (open_most_useful) is quoted in the report with typed placeholders."""
    for name in WORKSHOPS:
        page = (run["reports"] / name / "report.html").read_text(encoding="utf-8")
        for placeholder in ("[NAME]", "[EMAIL]", "[PHONE]", "[ID]"):
            assert placeholder in page, (name, placeholder)
        post = pd.read_parquet(run["root"] / name / "processed" / "post.parquet")
        useful = post["open_most_useful"].dropna()
        assert len(useful) and useful.str.contains(r"\[NAME\]").all(), name
        ingest = json.loads((run["reports"] / name / "ingest" / "report.json").read_text())
        dropped = {c for f in ingest["files"] for c in f["columns_dropped"]}
        assert set(EXTRA) <= dropped, name


def test_the_real_key_was_used_and_the_warehouse_holds_no_text_or_code(run):
    """The workshops ran under the key from the environment, not the demo key; the warehouse
    holds no free-text or code item, and its participant keys are the workshop's own
    sequential keys (P001, ...), never a code or a pseudonym."""
    for name in WORKSHOPS:
        ingest = json.loads((run["reports"] / name / "ingest" / "report.json").read_text())
        assert ingest["pseudonym_key"] == {"is_demo": False}, name
    con = duckdb.connect(str(run["warehouse"]), read_only=True)
    try:
        items = {r[0] for r in con.execute("SELECT DISTINCT item_id FROM responses").fetchall()}
        keys = {r[0] for r in con.execute(
            "SELECT DISTINCT participant_key FROM responses WHERE participant_key IS NOT NULL"
        ).fetchall()}
        workshops = {r[0] for r in con.execute("SELECT workshop_id FROM workshops").fetchall()}
    finally:
        con.close()
    assert workshops == set(WORKSHOPS)
    assert items and not {i for i in items if i.startswith(("open_", "code_"))}
    assert keys and all(re.fullmatch(r"P\d{3,}", k) for k in keys)
