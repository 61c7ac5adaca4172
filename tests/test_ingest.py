"""Ingest end to end: demo counts, row accounting, privacy at ingest, quarantine, CLI."""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

from evaluation.cli import main
from evaluation.errors import UnmappedValuesError, WorkshopConfigError
from evaluation.ingest import ingest_workshop, write_ingest_outputs
from evaluation.privacy import PseudonymKey
from evaluation.workshop import find_workshops

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo-workshops"
FLAGSHIP = DEMO / "astana-2018-05"
CODE_COLUMNS = ["code_mother", "code_father", "code_day", "code_month", "code_place",
                "code_siblings"]


@pytest.fixture(scope="module")
def flagship():
    return ingest_workshop(FLAGSHIP)


def test_flagship_counts(flagship):
    files = {f["wave"]: f for f in flagship.report["files"]}
    # pre: 29 respondents + one resent duplicate + one test submission marked not approved
    assert (files["pre"]["rows_read"], files["pre"]["kept"]) == (31, 29)
    assert files["pre"]["removed_by_reason"] == {
        "identical answers to an earlier submission (resent)": 1,
        "marked not approved in KoboToolbox": 1,
    }
    # post: 27 respondents + one submission rejected in ODK Central review
    assert (files["post"]["rows_read"], files["post"]["kept"]) == (28, 27)
    assert files["post"]["removed_by_reason"] == {"rejected in ODK Central review": 1}
    assert (files["followup"]["rows_read"], files["followup"]["kept"]) == (16, 16)
    assert [f["source"] for f in flagship.report["files"]] == ["kobo", "odk", "kobo"]
    m = flagship.report["matching"]
    assert m["n_per_wave"] == {"pre": 29, "post": 27, "followup": 16}
    tiers = {(r["wave_a"], r["wave_b"], r["tier"]): r["n"] for r in m["matched_by_tier"]}
    # the generator plants two one-element code differences at post: one is a Latin/Cyrillic
    # look-alike that canonicalisation absorbs (tier 1), the other a real typo (tier 2)
    assert tiers[("pre", "post", "2")] == 1
    assert tiers[("pre", "post", "1")] + tiers[("pre", "post", "2")] == 26
    # one respondent answered only the post survey
    parts = flagship.participants
    both = parts["record_id_pre"].notna() & parts["record_id_post"].notna()
    post_only = parts["record_id_post"].notna() & parts["record_id_pre"].isna()
    assert both.sum() == 26 and post_only.sum() == 1
    assert flagship.waves["post"]["participant_key"].notna().sum() == 27


@pytest.mark.parametrize("folder", find_workshops(DEMO), ids=lambda p: p.name)
def test_every_demo_workshop_accounts_for_every_row(folder):
    result = ingest_workshop(folder)
    for f in result.report["files"]:
        assert f["accounting_holds"], f["file"]
        assert f["rows_read"] == f["kept"] + f["quarantined"] + f["removed"]
        assert f["sha256"] and len(f["sha256"]) == 64
        assert f["encoding"]


def test_processed_data_holds_no_codes_and_is_owner_only(flagship, tmp_path):
    work = tmp_path / "ws"
    shutil.copytree(FLAGSHIP, work, ignore=shutil.ignore_patterns("processed"))
    result = ingest_workshop(work)
    ingest_dir = write_ingest_outputs(result, tmp_path / "reports")
    processed = work / "processed"
    assert oct(processed.stat().st_mode & 0o777) == "0o700"
    for path in processed.glob("*.parquet"):
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        frame = pd.read_parquet(path)
        assert not set(CODE_COLUMNS) & set(frame.columns)
    assert (ingest_dir / "report.json").is_file()
    assert not (tmp_path / "reports" / "astana-2018-05" / "processed").exists()
    quarantine = pd.read_csv(ingest_dir / "quarantine.csv")
    assert list(quarantine.columns) == ["wave", "source_file", "row", "column", "reason"]


# ---- planted personal data -------------------------------------------------------------------

PLANTED_NAMES = ["Айгерим Нурлановна Сапарова", "Saparova Aigerim", "Бахтиёр Каримов"]
PLANTED_TEXT = (
    "Спасибо Айгерим Нурлановне и Бахтиёру Каримову! Пишите: a.saparova@mail.kz, "
    "тел. +7 701 234 56 78, +998 90 123 45 67, ИИН 850101300123"
)
PLANTED_STRINGS = ["Айгерим", "Нурлановн", "Сапаров", "Saparova", "Бахтиёр", "Каримов",
                   "a.saparova@mail.kz", "701 234 56 78", "90 123 45 67", "850101300123",
                   "secret-colleague@un.org", "Иванов Иван Иванович"]


def _plant(folder: Path) -> None:
    """Plant names, contacts and unknown PII columns into the ODK post export."""
    path = folder / "post-synthetic.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    header += ["email", "ФИО"]
    text_col = next(i for i, h in enumerate(header) if h.endswith("open_most_useful"))
    for row in rows[1:]:
        row[text_col] = PLANTED_TEXT
        row += ["secret-colleague@un.org", "Иванов Иван Иванович"]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    (folder / "roster.csv").write_text("name\n" + "\n".join(PLANTED_NAMES) + "\n",
                                       encoding="utf-8")
    yaml_path = folder / "workshop.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8") + "roster: roster.csv\n",
                         encoding="utf-8")


def _raw_codes(folder: Path) -> set[str]:
    """The raw six-element codes of the post export, joined, as an intruder would search."""
    frame = pd.read_csv(folder / "post-synthetic.csv", dtype=str)
    cols = [c for c in frame.columns if c.split("-")[-1] in CODE_COLUMNS]
    return {"".join(r) for r in frame[cols].fillna("").to_numpy()}


def test_planted_personal_data_reaches_no_output(tmp_path, caplog, capsys):
    work = tmp_path / "planted"
    shutil.copytree(FLAGSHIP, work, ignore=shutil.ignore_patterns("processed"))
    _plant(work)
    caplog.set_level(logging.DEBUG)
    reports = tmp_path / "reports"
    assert main(["ingest", str(work), "--reports", str(reports)]) == 0
    outputs = list((work / "processed").glob("*")) + list(reports.rglob("*"))
    texts = [capsys.readouterr().out, caplog.text]
    for path in outputs:
        if path.suffix == ".parquet":
            texts.append(pd.read_parquet(path).to_csv())
        elif path.is_file():
            texts.append(path.read_text(encoding="utf-8"))
    blob = "\n".join(texts)
    for planted in PLANTED_STRINGS:
        assert planted not in blob, planted
    for code in _raw_codes(work):
        assert code not in blob
    report = json.loads((reports / "astana-2018-05" / "ingest" / "report.json").read_text())
    post = next(f for f in report["files"] if f["wave"] == "post")
    assert {"email", "ФИО"} <= set(post["columns_dropped"])
    assert report["redactions"]["post"]["name"] >= 2
    # the redacted text is kept, with typed placeholders
    processed = pd.read_parquet(work / "processed" / "post.parquet")
    assert processed["open_most_useful"].str.contains(r"\[NAME\]").all()
    assert processed["open_most_useful"].str.contains(r"\[EMAIL\]").all()


def test_unmapped_values_are_quarantined_or_stop_the_load(tmp_path):
    work = tmp_path / "unmapped"
    shutil.copytree(FLAGSHIP, work, ignore=shutil.ignore_patterns("processed"))
    path = work / "post-synthetic.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    col = rows[0].index("readiness-ud_drivers")
    rows[3][col] = "очень даже"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    result = ingest_workshop(work)
    post = next(f for f in result.report["files"] if f["wave"] == "post")
    assert post["quarantined"] == 1 and post["accounting_holds"]
    assert post["unmapped_values"] == [{"column": "ud_drivers", "value": "очень даже",
                                        "count": 1}]
    q = result.quarantine
    assert q.loc[0, "row"] == 4 and "ud_drivers" in q.loc[0, "reason"]
    cfg = work / "workshop.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "unmapped_values: quarantine", "unmapped_values: stop"), encoding="utf-8")
    with pytest.raises(UnmappedValuesError, match="post-synthetic.csv.*'очень даже'"):
        ingest_workshop(work)


def test_demo_key_refused_for_real_data(tmp_path):
    work = tmp_path / "real"
    shutil.copytree(FLAGSHIP, work, ignore=shutil.ignore_patterns("processed"))
    cfg = work / "workshop.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("synthetic: true", "synthetic: false"),
                   encoding="utf-8")
    with pytest.raises(WorkshopConfigError, match="demo key may only be used with synthetic"):
        ingest_workshop(work)


def test_same_key_gives_same_links_and_key_is_never_written(tmp_path):
    work = tmp_path / "keyed"
    shutil.copytree(FLAGSHIP, work, ignore=shutil.ignore_patterns("processed"))
    secret = bytes(range(32))
    key = PseudonymKey(secret, source="test")
    result = ingest_workshop(work, key=key)
    write_ingest_outputs(result, tmp_path / "reports")
    blob = (tmp_path / "reports" / "astana-2018-05" / "ingest" / "report.json").read_text()
    assert secret.hex() not in blob
    assert result.report["matching"]["n_per_wave"]["pre"] == 29


def test_cli_ingest_prints_summary_and_errors_in_one_sentence(tmp_path, capsys):
    work = tmp_path / "cli"
    shutil.copytree(FLAGSHIP, work, ignore=shutil.ignore_patterns("processed"))
    assert main(["ingest", str(work), "--reports", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "pre       pre-synthetic.csv: read 31, kept 29, quarantined 0, removed 2" in out
    assert "matched pre→post" in out
    assert main(["ingest", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err and "Traceback" not in err


def test_match_summary_compares_matched_and_unmatched_baseline(flagship):
    comparison = flagship.report["matching"]["matched_vs_unmatched"]
    assert set(comparison) == {"pre_post", "pre_followup"}
    for rows in comparison.values():
        variables = {r["variable"] for r in rows}
        assert {"(all)", "country", "sector", "gender", "readiness"} <= variables
        for row in rows:
            for key in ("n_matched", "n_unmatched"):
                value = row[key]
                # a published count never rests on fewer than k_min = 5 respondents
                assert value == "<5" or (isinstance(value, int) and value >= 5), row
    followup = {r["variable"]: r for r in comparison["pre_followup"]}
    # 16 of 29 baseline respondents answered the follow-up: both groups are large enough
    assert (followup["(all)"]["n_matched"], followup["(all)"]["n_unmatched"]) == (16, 13)
    score = followup["readiness"]
    assert score["smd"] is not None and score["imbalance"] == (abs(score["smd"]) > 0.25)


def _edited_pre(tmp_path: Path, build, columns: tuple[str, str] = (
        "meta/deprecatedID", "meta/rootUuid")) -> tuple[dict, object, list, int]:
    """Flagship copy whose pre export gains Kobo's ``meta/deprecatedID`` and ``meta/rootUuid``
    columns and the rows ``build(rows, header, j)`` returns (j: an approved row)."""
    work = tmp_path / "edited"
    shutil.copytree(FLAGSHIP, work, ignore=shutil.ignore_patterns("processed"))
    path = work / "pre-synthetic.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter=";"))
    header = rows[0]
    status = header.index("_validation_status")
    j = next(k for k, row in enumerate(rows) if k and not row[status])
    header += list(columns)
    for row in rows[1:]:
        row += ["", ""]
    rows += build(rows, header, j)
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    result = ingest_workshop(work)
    pre = next(f for f in result.report["files"] if f["wave"] == "pre")
    return pre, result.waves["pre"], rows, j


def _version(rows: list, header: list, j: int, new_id: str, deprecated: str, root: str,
             extra_contacts: int) -> list:
    edit = list(rows[j])
    edit[header.index("_uuid")] = new_id  # Kobo's _uuid has no "uuid:" prefix
    edit[-2], edit[-1] = deprecated, root  # OpenRosa ids in meta/ columns do
    contacts = next(i for i, h in enumerate(header) if h.startswith(
        "Региональное сотрудничество/") and rows[j][i].isdigit())
    edit[contacts] = str(int(rows[j][contacts]) + extra_contacts)
    return edit


def test_kobo_edit_with_uuid_prefix_supersedes_the_original(tmp_path):
    """``meta/deprecatedID`` is ``uuid:<id>`` while ``_uuid`` is ``<id>``: still one person."""
    def build(rows, header, j):
        original = rows[j][header.index("_uuid")]
        return [_version(rows, header, j, "5f0c-edit-1", f"uuid:{original}",
                         f"uuid:{original}", 7)]

    pre, kept, rows, j = _edited_pre(tmp_path, build)
    assert pre["accounting_holds"] and pre["kept"] == 29
    assert pre["removed_by_reason"][
        "superseded by an edited version of the same submission"] == 1
    assert f"pre-{j + 1}" not in kept.index and "pre-33" in kept.index


def test_root_uuid_finds_the_original_when_the_previous_version_is_missing(tmp_path):
    """Second edit present, first edit absent: rootUuid still retires the original."""
    def build(rows, header, j):
        original = rows[j][header.index("_uuid")]
        return [_version(rows, header, j, "5f0c-edit-2", "uuid:5f0c-edit-1-not-exported",
                         f"uuid:{original}", 9)]

    pre, kept, rows, j = _edited_pre(tmp_path, build)
    assert pre["accounting_holds"] and pre["kept"] == 29
    assert pre["removed_by_reason"][  # as an edit, not as a repeated participant
        "superseded by an edited version of the same submission"] == 1
    assert f"pre-{j + 1}" not in kept.index
    contacts = next(i for i, h in enumerate(rows[0]) if h.startswith(
        "Региональное сотрудничество/") and rows[j][i].isdigit())
    assert kept.loc["pre-33", "coop_contacts"] == float(int(rows[j][contacts]) + 9)


def test_two_unlinked_versions_of_one_submission_keep_the_last(tmp_path):
    """Exports joined from two days hold two edits of one original, neither naming the other."""
    def build(rows, header, j):
        original = rows[j][header.index("_uuid")]
        return [_version(rows, header, j, "5f0c-edit-a", "", f"uuid:{original}", 3),
                _version(rows, header, j, "5f0c-edit-b", "", f"uuid:{original}", 5)]

    pre, kept, rows, j = _edited_pre(tmp_path, build)
    assert pre["rows_read"] == 33 and pre["accounting_holds"] and pre["kept"] == 29
    assert pre["removed_by_reason"][
        "superseded by an edited version of the same submission"] == 2  # original and edit a
    assert "pre-34" in kept.index and "pre-33" not in kept.index


def test_an_edit_supersedes_the_submission_it_names(tmp_path):
    def build(rows, header, j):  # a bare deprecatedID header naming the original as it is
        return [_version(rows, header, j, "uuid:edited-0001", rows[j][header.index("_uuid")],
                         "", 7)]

    pre, kept, rows, j = _edited_pre(tmp_path, build, ("deprecatedID", "rootUuid"))
    assert pre["rows_read"] == 32 and pre["kept"] == 29 and pre["accounting_holds"]
    assert pre["removed_by_reason"][
        "superseded by an edited version of the same submission"] == 1
    assert "pre-33" in kept.index and f"pre-{j + 1}" not in kept.index
    contacts = next(i for i, h in enumerate(rows[0]) if h.startswith(
        "Региональное сотрудничество/") and rows[j][i].isdigit())
    assert kept.loc["pre-33", "coop_contacts"] == float(int(rows[j][contacts]) + 7)
