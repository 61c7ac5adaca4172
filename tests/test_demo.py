"""Tests of the synthetic demo workshops (evaluation.demo and the committed demo-workshops/)."""

from __future__ import annotations

import csv
import functools
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from evaluation.demo import (
    DEMO_SEED,
    DEMO_WORKSHOPS,
    FLAGSHIP_ID,
    SYNTHETIC_NOTE,
    DemoWorkshop,
    generate_demo,
    write_demo_forms,
)
from evaluation.instrument import find_instrument, load_instrument
from evaluation.workshop import find_workshops, load_workshop

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo-workshops"
KOBO_META = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
             "_submitted_by", "__version__", "_tags", "_index"]
ODK_TAIL = ["KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
            "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]
# Folders that other steps of the toolkit may create inside a workshop folder (not generated).
IGNORED_PARTS = {"processed"}


def _files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*")
        if p.is_file() and not IGNORED_PARTS & set(p.relative_to(root).parts)
    )


def _spec(workshop_id: str) -> DemoWorkshop:
    return next(s for s in DEMO_WORKSHOPS if s.id == workshop_id)


def _read(folder: Path, wave: str) -> tuple[list[str], list[list[object]]]:
    """Header and rows of one export, read with plain csv / openpyxl."""
    export = _spec(folder.name).waves[wave]
    path = folder / f"{wave}-synthetic.{export.extension}"
    if export.extension == "xlsx":
        wb = load_workbook(path, read_only=True)
        ws = wb[wb.sheetnames[0]]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        wb.close()
        return [str(h) for h in rows[0]], rows[1:]
    delimiter = ";" if export.dialect.startswith("kobo") else export.delimiter
    encoding = export.encoding if export.dialect == "generic_csv" else "utf-8"
    text = path.read_bytes().decode(encoding)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo-workshops"
    generate_demo(out, seed=DEMO_SEED)
    return out


def test_committed_demo_is_exactly_what_the_generator_writes(regenerated: Path) -> None:
    assert DEMO.is_dir(), "demo-workshops/ is missing: run `evaluate demo --out demo-workshops`"
    assert _files(DEMO) == _files(regenerated)
    for name in _files(regenerated):
        assert (DEMO / name).read_bytes() == (regenerated / name).read_bytes(), (
            f"demo-workshops/{name} differs from the generator's output; regenerate it with "
            "`evaluate demo --out demo-workshops`"
        )


def test_two_runs_give_identical_bytes(tmp_path: Path, regenerated: Path) -> None:
    folders = generate_demo(tmp_path / "again")
    assert [p.name for p in folders] == [s.id for s in DEMO_WORKSHOPS]
    assert _files(tmp_path / "again") == _files(regenerated)
    for name in _files(regenerated):
        assert (tmp_path / "again" / name).read_bytes() == (regenerated / name).read_bytes()


def test_another_seed_gives_other_answers(tmp_path: Path, regenerated: Path) -> None:
    generate_demo(tmp_path / "other", seed=7)
    name = f"{FLAGSHIP_ID}/post-synthetic.csv"
    assert (tmp_path / "other" / name).read_bytes() != (regenerated / name).read_bytes()


def test_every_workshop_yaml_loads_and_names_an_existing_instrument() -> None:
    folders = find_workshops(DEMO)
    assert [p.name for p in folders] == sorted(s.id for s in DEMO_WORKSHOPS)
    for folder in folders:
        ws = load_workshop(folder)
        assert ws.id == folder.name
        assert ws.synthetic is True
        assert ws.phase in {"I", "II", "III"}
        assert ws.project.startswith("UNOCT-UNCCT / UNRCCA project on the Joint Plan of Action")
        assert ws.evaluator == "Demo evaluator (synthetic)"
        assert ws.languages == ("en", "ru")
        assert ws.privacy.k_min == 5 and ws.privacy.demo_key is True
        assert ws.ingest.encoding == "cp1251" and ws.ingest.unmapped_values == "quarantine"
        assert ws.reviewed_open_items == ("open_most_useful",)
        assert set(ws.title) == {"en", "ru"} and set(ws.location) == {"en", "ru"}
        assert ws.start_date is not None and ws.end_date >= ws.start_date
        assert ws.expected["countries"] == ["KZ", "KG", "TJ", "TM", "UZ"]
        inst = ws.load_instrument()
        assert ws.instrument_ref == f"{inst.id}@{inst.version}"
        for wave, source in ws.waves.items():
            assert source.file.is_file(), f"{folder.name}: {wave} file missing"
            assert source.source in {"kobo", "odk", "generic"}
            assert inst.items_for_wave(wave)


def test_workshops_span_phases_sizes_instruments_and_dialects() -> None:
    configs = [load_workshop(p) for p in find_workshops(DEMO)]
    assert len(configs) >= 7
    assert {c.phase for c in configs} == {"I", "II", "III"}
    for c in configs:
        assert 12 <= c.expected["participants"] <= 40, c.id
        assert c.expected["participants"] + c.expected.get("observers", 0) <= 40, c.id
    refs = [c.instrument_ref for c in configs]
    assert "pvect-readiness@1.0" in refs
    assert any(c.phase == "I" and c.instrument_ref.endswith("@1.0") for c in configs)
    assert any("followup" not in c.waves for c in configs)
    assert len({c.text("location", "en") for c in configs}) == len(configs)
    sources = {s.source for c in configs for s in c.waves.values()}
    assert sources == {"kobo", "odk", "generic"}
    gains = [s.gain for s in DEMO_WORKSHOPS]
    assert min(gains) <= 0.25 and max(gains) >= 0.75
    flagship = load_workshop(DEMO / FLAGSHIP_ID)
    assert flagship.expected["participants"] == 30 and flagship.expected["per_country"] == 6
    assert flagship.phase == "III" and flagship.instrument_ref == "pvect-readiness@2.0"
    assert {w: s.source for w, s in flagship.waves.items()} == {
        "pre": "kobo", "post": "odk", "followup": "kobo"}


def test_flagship_pre_is_a_kobo_label_csv_with_one_duplicate_and_one_test_row() -> None:
    raw = (DEMO / FLAGSHIP_ID / "pre-synthetic.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    first_line = raw.split(b"\r\n", 1)[0].decode("utf-8")
    assert first_line.startswith('"start";"end";') and first_line.endswith('"')
    header, rows = _read(DEMO / FLAGSHIP_ID, "pre")
    assert len(rows) == 31
    assert header[:2] == ["start", "end"]
    assert header[-len(KOBO_META):] == KOBO_META
    assert "О вас/Какую страну или организацию вы представляете?" in header
    col = {h: i for i, h in enumerate(header)}
    assert all(r[col["_notes"]] == SYNTHETIC_NOTE for r in rows)
    assert all(r[col["workshop_id"]] == FLAGSHIP_ID for r in rows)
    assert [r[col["_validation_status"]] for r in rows].count("Not approved") == 1
    assert len({r[col["_uuid"]] for r in rows}) == 31
    answers = [tuple(r[col["workshop_id"]:col["_id"]]) for r in rows]
    repeated = [a for a in set(answers) if answers.count(a) > 1]
    assert len(repeated) == 1 and answers.count(repeated[0]) == 2
    countries = {r[col["О вас/Какую страну или организацию вы представляете?"]] for r in rows}
    assert "Казахстан" in countries and "KZ" not in countries
    cells = [c for r in rows for c in r[col["workshop_id"]:col["_id"]]]
    assert "Затрудняюсь ответить" in cells and "" in cells


@functools.cache
def _code_ids() -> tuple[str, ...]:
    inst = load_instrument(find_instrument("pvect-readiness@2.0"))
    return tuple(it.id for it in inst.code_items())


def _codes(folder: Path, wave: str) -> list[tuple[str, ...]]:
    """The participant codes of the valid rows of a wave (test rows left out)."""
    code_ids = _code_ids()
    header, rows = _read(folder, wave)
    col = {h: i for i, h in enumerate(header)}
    if wave == "pre":
        pre_cols = [col[h] for h in header if h.startswith("Ваш личный код/")]
        ok = [r for r in rows if r[col["_validation_status"]] != "Not approved"]
        return [tuple(str(r[i]) for i in pre_cols) for r in ok]
    prefix = "code-" if wave == "post" else "code/"
    cols = [col[prefix + c] for c in code_ids]
    state = "ReviewState" if wave == "post" else "_validation_status"
    ok = [r for r in rows if r[col[state]] not in ("rejected",)]
    return [tuple(str(r[i]) for i in cols) for r in ok]


def _distance(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    def canon(x: str) -> str:
        return x.upper().translate(str.maketrans("АВЕКМНОРСТХУ", "ABEKMHOPCTXY"))
    return sum(canon(x) != canon(y) for x, y in zip(a, b, strict=True))


def test_flagship_post_is_an_odk_csv_with_a_rejected_row_typos_and_one_post_only() -> None:
    folder = DEMO / FLAGSHIP_ID
    raw = (folder / "post-synthetic.csv").read_bytes()
    assert b"\r\n" not in raw
    header, rows = _read(folder, "post")
    assert len(rows) == 28
    assert header[:2] == ["SubmissionDate", "meta-instanceID"]
    assert header[-len(ODK_TAIL):] == ODK_TAIL
    assert "profile-country" in header and "retro-ud_drivers_retro" in header
    assert "reaction-re_plans" in header and "reaction-re_plans/share" in header
    col = {h: i for i, h in enumerate(header)}
    assert all(r[col["SubmitterName"]] == "synthetic-demo" for r in rows)
    assert all(r[col["workshop_id"]] == FLAGSHIP_ID for r in rows)
    assert [r[col["ReviewState"]] for r in rows].count("rejected") == 1
    assert all(r[col["KEY"]] == r[col["meta-instanceID"]] for r in rows)
    assert {r[col["profile-country"]] for r in rows} <= {"KZ", "KG", "TJ", "TM", "UZ", "OBS",
                                                          "INT"}
    pre, post = _codes(folder, "pre"), _codes(folder, "post")
    assert len(set(pre)) == 29 and len(post) == 27
    best = [min(_distance(p, q) for q in pre) for p in post]
    exact_raw = [p in pre for p in post]
    assert best.count(0) == 25 and best.count(1) == 1
    assert sum(1 for b in best if b >= 2) == 1  # the respondent with only a post survey
    # the Cyrillic/Latin letter: equal after canonicalisation but not as written
    assert sum(1 for b, e in zip(best, exact_raw, strict=True) if b == 0 and not e) == 1


def test_flagship_followup_is_a_kobo_xlsx_with_sixteen_rows() -> None:
    path = DEMO / FLAGSHIP_ID / "followup-synthetic.xlsx"
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == ["pvect-readiness_followup"]
    wb.close()
    header, rows = _read(DEMO / FLAGSHIP_ID, "followup")
    assert len(rows) == 16
    assert header[:2] == ["start", "end"] and header[-len(KOBO_META):] == KOBO_META
    assert "followup/fu_applied" in header and "code/code_day" in header
    col = {h: i for i, h in enumerate(header)}
    assert all(r[col["_notes"]] == SYNTHETIC_NOTE for r in rows)
    assert all(r[col["workshop_id"]] == FLAGSHIP_ID for r in rows)
    assert all(r[col["start"]].startswith("2018-10-") for r in rows)
    applied = [r[col["followup/fu_applied"]] for r in rows]
    assert set(applied) <= {"several", "once", "not_yet", "no", None}
    # every follow-up code belongs to someone who answered before
    pre = _codes(DEMO / FLAGSHIP_ID, "pre")
    assert all(min(_distance(c, p) for p in pre) == 0
               for c in _codes(DEMO / FLAGSHIP_ID, "followup"))


def test_exactly_two_planted_contact_details_in_the_flagship_and_none_elsewhere() -> None:
    found = []
    for folder in find_workshops(DEMO):
        for wave in load_workshop(folder).waves:
            _header, rows = _read(folder, wave)
            for row in rows:
                for cell in row:
                    if isinstance(cell, str) and ("@" in cell or "+7 " in cell):
                        found.append((folder.name, wave, cell))
    assert [(f, w) for f, w, _ in found] == [(FLAGSHIP_ID, "post")] * 2
    texts = " ".join(c for _f, _w, c in found)
    assert "demo.participant@example.org" in texts and "+7 701 000 00 00" in texts


def test_every_file_says_it_is_synthetic() -> None:
    text = (DEMO / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in text and "invented" in text and "evaluate demo" in text
    for folder in find_workshops(DEMO):
        yaml_text = (folder / "workshop.yaml").read_text(encoding="utf-8")
        assert yaml_text.startswith("# SYNTHETIC DEMONSTRATION DATA")
        spec = _spec(folder.name)
        for wave, export in spec.waves.items():
            path = folder / f"{wave}-synthetic.{export.extension}"
            assert "synthetic" in path.name
            header, rows = _read(folder, wave)
            col = {h: i for i, h in enumerate(header)}
            assert all(r[col["workshop_id"]] == folder.name for r in rows)
            if export.source == "kobo":
                assert all(r[col["_notes"]] == SYNTHETIC_NOTE for r in rows)
            elif export.source == "odk":
                assert all(r[col["SubmitterName"]] == "synthetic-demo" for r in rows)
            elif export.extension == "xlsx":
                wb = load_workbook(path, read_only=True)
                assert wb.sheetnames == ["responses", "README"]
                first = next(wb["README"].iter_rows(values_only=True))[0]
                wb.close()
                assert "SYNTHETIC" in first


def test_v1_workshop_uses_only_items_of_the_older_instrument() -> None:
    v1 = next(load_workshop(p) for p in find_workshops(DEMO)
              if load_workshop(p).instrument_ref.endswith("@1.0"))
    inst = v1.load_instrument()
    for wave in v1.waves:
        header, _rows = _read(v1.folder, wave)
        assert header[0] == "workshop_id"
        assert header[1:] == inst.column_names(wave)
        assert not any(h.endswith("_retro") for h in header)


def test_generic_cp1251_export_decodes_as_cp1251_only() -> None:
    spec = next(s for s in DEMO_WORKSHOPS
                if any(w.encoding == "cp1251" for w in s.waves.values()))
    raw = (DEMO / spec.id / "post-synthetic.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("cp1251").startswith("workshop_id;")


def test_forms_dir_gets_every_wave_of_every_instrument(tmp_path: Path) -> None:
    generate_demo(tmp_path / "ws", forms_dir=tmp_path / "forms")
    names = sorted(p.name for p in (tmp_path / "forms").iterdir())
    for wave in ("pre", "post", "followup"):
        assert f"pvect-readiness-2.0-{wave}.xlsx" in names
    assert "pvect-readiness-1.0-pre.xlsx" in names
    assert names == sorted(p.name for p in write_demo_forms(tmp_path / "forms2"))
    wb = load_workbook(tmp_path / "forms" / "pvect-readiness-2.0-pre.xlsx", read_only=True)
    rows = [r for r in wb["survey"].iter_rows(values_only=True) if r[1] == "workshop_id"]
    wb.close()
    assert any("demo" in str(cell) for cell in rows[0])
