"""XLSForm export: every wave of every shipped instrument converts with pyxform."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from evaluation.cli import main
from evaluation.instrument import load_instrument, surveys_dir
from evaluation.xlsform import write_xlsform

pyxform = pytest.importorskip("pyxform")
from pyxform.xls2xform import convert  # noqa: E402

CASES = [
    (path, wave)
    for path in sorted(surveys_dir().glob("*.yaml"))
    for wave in ("pre", "post", "followup")
]


@pytest.mark.parametrize("path,wave", CASES, ids=[f"{p.stem}-{w}" for p, w in CASES])
def test_every_wave_converts_with_pyxform(tmp_path: Path, path: Path, wave: str):
    inst = load_instrument(path)
    out = write_xlsform(inst, wave, tmp_path / f"{wave}.xlsx", workshop_id="astana-2018-05")
    warnings: list[str] = []
    result = convert(str(out), warnings=warnings)
    xml = result.xform
    assert "<h:title>" in xml
    # the hidden workshop id is a constant calculate bound in the form
    assert 'calculate="\'astana-2018-05\'"' in xml
    # both languages are translations of the form
    assert 'lang="English (en)"' in xml and 'lang="Russian (ru)"' in xml
    # no warning about missing translations
    assert not [w for w in warnings if "translation" in w.lower()], warnings

    wb = load_workbook(out)
    assert wb.sheetnames == ["survey", "choices", "settings"]
    for sheet in ("survey", "choices"):
        rows = list(wb[sheet].iter_rows(values_only=True))
        header = list(rows[0])
        en = header.index("label::English (en)")
        ru = header.index("label::Russian (ru)")
        for row in rows[1:]:
            if row[en] or row[ru]:
                assert row[en] and row[ru], (sheet, row[:2])
        if sheet == "survey":
            types = header.index("type")
            for row in rows[1:]:
                kind = str(row[types] or "")
                if kind.startswith(("select_", "text", "integer", "begin_group")):
                    assert row[en] and row[ru], row[:2]
    settings = dict(zip(*[list(r) for r in wb["settings"].iter_rows(values_only=True)],
                        strict=True))
    assert settings["version"] == inst.version
    assert settings["form_id"] == f"{inst.id}_{wave}"


def test_post_form_has_retro_items_and_code_constraints(tmp_path: Path):
    inst = load_instrument(surveys_dir() / "pvect-readiness.yaml")
    out = write_xlsform(inst, "post", tmp_path / "post.xlsx", workshop_id="w")
    rows = list(load_workbook(out)["survey"].iter_rows(values_only=True))
    header = rows[0]
    by_name = {r[1]: dict(zip(header, r, strict=True)) for r in rows[1:] if r[1]}
    retro = [it.retro_id for it in inst.items_for_wave("retro")]
    assert retro and all(name in by_name for name in retro)
    assert by_name["code_day"]["constraint"] == ". >= 1 and . <= 31"
    assert by_name["code_month"]["constraint"] == ". >= 1 and . <= 12"
    assert by_name["code_mother"]["constraint"].startswith("regex(., '^[")
    assert by_name["code_mother"]["required"] == "yes"
    assert by_name["country"]["required"] == "yes"
    text_items = [it.id for it in inst.items_for_wave("post") if it.type == "text"]
    assert all(by_name[t]["required"] is None for t in text_items)


def test_xlsform_is_deterministic(tmp_path: Path):
    inst = load_instrument(surveys_dir() / "pvect-readiness.yaml")
    a = write_xlsform(inst, "pre", tmp_path / "a.xlsx", workshop_id="w")
    b = write_xlsform(inst, "pre", tmp_path / "b.xlsx", workshop_id="w")
    assert a.read_bytes() == b.read_bytes()


def test_cli_writes_form_and_checks(tmp_path: Path, capsys):
    out = tmp_path / "pre.xlsx"
    code = main(["instrument", "xlsform", str(surveys_dir() / "pvect-readiness.yaml"),
                 "--wave", "pre", "--out", str(out), "--workshop-id", "ws-9"])
    assert code == 0 and out.is_file()
    assert main(["instrument", "check", str(surveys_dir() / "pvect-readiness-v1.yaml")]) == 0
    assert "No problems found" in capsys.readouterr().out


def test_cli_reports_bad_instrument_in_one_sentence(tmp_path: Path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: '1'\n", encoding="utf-8")
    assert main(["instrument", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evaluate: Instrument bad.yaml has")
    assert "Traceback" not in err
