"""The evaluation warehouse: loading, replacing, listing, privacy, permissions, migrations."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import duckdb
import pytest

from evaluation import warehouse as wh
from evaluation.cli import main
from evaluation.errors import WarehouseError

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo-workshops"
SMALL = ("almaty-2012-11", "bishkek-2013-04", "dushanbe-2014-10")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    path = tmp_path_factory.mktemp("wh") / "private" / "warehouse.duckdb"
    for ws in SMALL:
        wh.add_workshop(DEMO / ws, path)
    return path


def _count(path: Path, sql: str, params=()) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return int(con.execute(sql, list(params)).fetchone()[0])
    finally:
        con.close()


def test_default_path_and_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv(wh.ENV_VAR, str(tmp_path / "mine.duckdb"))
    assert wh.default_warehouse_path() == tmp_path / "mine.duckdb"
    monkeypatch.delenv(wh.ENV_VAR)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    default = wh.default_warehouse_path()
    assert default.parts[-3:] == ("share", "workshop-evaluation", "warehouse.duckdb")
    assert "reports" not in default.parts


def test_refuses_a_path_under_reports(tmp_path, capsys):
    target = tmp_path / "reports" / "cohorts" / "w.duckdb"
    with pytest.raises(WarehouseError, match="may not be under a reports/ folder"):
        wh.connect(target)
    assert not target.exists()
    code = main(["warehouse", "add", str(DEMO / SMALL[0]), "--warehouse", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not target.exists()
    assert main(["compare", "--warehouse", str(target), "--out", str(tmp_path / "o")]) == 2


def test_owner_only_permissions(loaded):
    assert stat.S_IMODE(loaded.stat().st_mode) == 0o600
    assert stat.S_IMODE(loaded.parent.stat().st_mode) == 0o700


def test_adding_twice_keeps_one_copy(loaded):
    tables = ("workshops", "scale_results", "item_results", "indicator_results",
              "participation", "responses")
    before = {t: _count(loaded, f"SELECT count(*) FROM {t}") for t in tables}
    wh.add_workshop(DEMO / SMALL[0], loaded)
    after = {t: _count(loaded, f"SELECT count(*) FROM {t}") for t in tables}
    assert after == before
    assert before["workshops"] == 3
    assert _count(loaded, "SELECT count(*) FROM workshops WHERE workshop_id = ?",
                  [SMALL[0]]) == 1
    assert _count(loaded, "SELECT count(*) FROM instrument_scales WHERE scale_id = "
                  "'reaction_quality'") == 2  # one definition per instrument version


def test_failed_load_leaves_the_warehouse_unchanged(loaded, tmp_path):
    import shutil

    copy = tmp_path / "copy.duckdb"
    shutil.copy(loaded, copy)
    con = wh.connect(copy)
    before = con.execute("SELECT count(*) FROM responses").fetchone()[0]
    bad = wh.WorkshopLoad(SMALL[0], con.execute(
        "SELECT * FROM workshops WHERE workshop_id = ?", [SMALL[0]]).df(),
        con.execute("SELECT * FROM instrument_scales LIMIT 0").df(),
        con.execute("SELECT * FROM instrument_items LIMIT 0").df(),
        {"scale_results": con.execute("SELECT 1 AS no_such_column").df()}, None)
    with pytest.raises(duckdb.Error):
        wh.load_workshop_into(con, bad)
    assert con.execute("SELECT count(*) FROM responses").fetchone()[0] == before
    assert con.execute("SELECT count(*) FROM workshops").fetchone()[0] == 3
    con.close()


def test_responses_are_pseudonymous_and_hold_no_free_text(loaded):
    con = duckdb.connect(str(loaded), read_only=True)
    try:
        cols = [r[0] for r in con.execute("DESCRIBE responses").fetchall()]
        assert cols == ["workshop_id", "record_id", "participant_key", "wave", "item_id",
                        "code", "score"]
        types = dict(con.execute(
            "SELECT DISTINCT r.item_id, i.type FROM responses r JOIN workshops w USING "
            "(workshop_id) JOIN instrument_items i ON i.item_id = r.item_id AND "
            "i.instrument_id = w.instrument_id AND i.instrument_version = "
            "w.instrument_version").fetchall())
        assert types and not {"text", "code"} & set(types.values())
        assert not [i for i in types if i.startswith(("open_", "code_"))]
        keys = [r[0] for r in con.execute(
            "SELECT DISTINCT participant_key FROM responses WHERE participant_key IS NOT NULL"
        ).fetchall()]
        assert keys and all(re.fullmatch(r"P\d{3}", k) for k in keys)
        waves = {r[0] for r in con.execute("SELECT DISTINCT wave FROM responses").fetchall()}
        assert waves == {"pre", "post", "retro", "followup"}
    finally:
        con.close()


def test_result_tables_are_the_suppressed_ones(loaded):
    con = duckdb.connect(str(loaded), read_only=True)
    try:
        for table, column in (("scale_results", "n_pairs"), ("item_results", "n_pairs"),
                              ("participation", "n"), ("reaction_results", "n"),
                              ("followup_results", "n"), ("disaggregation_results", "n")):
            small = con.execute(f"SELECT count(*) FROM {table} WHERE {column} > 0 AND "
                                f"{column} < 5").fetchone()[0]
            assert small == 0, table
        # suppressed rows keep no statistics
        leaked = con.execute("SELECT count(*) FROM scale_results WHERE suppressed AND "
                             "cohen_dz IS NOT NULL").fetchone()[0]
        assert leaked == 0
        assert con.execute("SELECT count(*) FROM participation WHERE n IS NULL"
                           ).fetchone()[0] > 0  # small cells of the demo were suppressed
    finally:
        con.close()


def test_warehouse_list_output(loaded, capsys):
    assert main(["warehouse", "list", "--warehouse", str(loaded)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "PERSONAL DATA" in out[0] and "3 workshops" in out[0]
    assert len(out) == 4
    line = next(x for x in out if x.startswith("almaty-2012-11"))
    assert "phase I" in line and "2012-11-14..2012-11-15" in line
    assert "pvect-readiness 1.0" in line and re.search(r"pre \d+, post \d+", line)


def test_no_responses_option(tmp_path, capsys):
    path = tmp_path / "w.duckdb"
    assert main(["warehouse", "add", str(DEMO / SMALL[1]), "--warehouse", str(path),
                 "--no-responses"]) == 0
    assert "results only" in capsys.readouterr().out
    assert _count(path, "SELECT count(*) FROM responses") == 0
    assert _count(path, "SELECT count(*) FROM scale_results") > 0
    assert main(["warehouse", "list", "--warehouse", str(path)]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert "no participant responses stored" in head and "PERSONAL" not in head


def test_missing_warehouse_is_one_sentence(tmp_path, capsys):
    assert main(["warehouse", "list", "--warehouse", str(tmp_path / "none.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and len(err.strip().splitlines()) == 1


def test_migration_from_version_0_and_to_a_later_version(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))  # an empty file: version 0 (no meta table)
    con.execute("CREATE TABLE unrelated (x INTEGER)")
    con.close()
    con = wh.connect(path)
    assert wh.schema_version(con) == wh.SCHEMA_VERSION == 1
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert {"meta", "workshops", "responses", "scale_results", "unrelated"} <= tables
    con.execute("INSERT INTO workshops (workshop_id, phase) VALUES ('w1', 'II')")
    con.close()

    def to_2(c):
        c.execute("ALTER TABLE workshops ADD COLUMN donor VARCHAR")
        c.execute("UPDATE workshops SET donor = 'unknown'")

    monkeypatch.setitem(wh.MIGRATIONS, 2, to_2)
    monkeypatch.setattr(wh, "SCHEMA_VERSION", 2)
    con = wh.connect(path)
    assert wh.schema_version(con) == 2
    assert con.execute("SELECT workshop_id, phase, donor FROM workshops").fetchall() == [
        ("w1", "II", "unknown")]
    con.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    monkeypatch.setattr(wh, "SCHEMA_VERSION", 1)  # an older toolkit meets the newer file
    with pytest.raises(WarehouseError, match="newer than this toolkit"):
        wh.connect(path)


def test_failing_migration_keeps_the_old_version(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    wh.connect(path).close()

    def broken(c):
        c.execute("ALTER TABLE workshops ADD COLUMN x INTEGER")
        raise RuntimeError("boom")

    monkeypatch.setitem(wh.MIGRATIONS, 2, broken)
    monkeypatch.setattr(wh, "SCHEMA_VERSION", 2)
    with pytest.raises(RuntimeError):
        wh.connect(path)
    con = duckdb.connect(str(path), read_only=True)
    assert wh.schema_version(con) == 1
    assert "x" not in [r[0] for r in con.execute("DESCRIBE workshops").fetchall()]
    con.close()


def test_dz_from_responses_matches_the_workshop_report(loaded):
    """Two independent paths to d_z: SQL over the warehouse and the workshop analysis."""
    from evaluation.cohorts import CohortComparison

    comp = CohortComparison.prepare(loaded, write=False, k_min=5)
    con = duckdb.connect(str(loaded), read_only=True)
    published = con.execute("SELECT workshop_id, scale_id, n_pairs, cohen_dz FROM "
                            "scale_results WHERE wave_a = 'pre' AND wave_b = 'post' AND "
                            "NOT suppressed").df()
    con.close()
    merged = comp.effects.dropna(subset=["yi"]).merge(published,
                                                      on=["workshop_id", "scale_id"])
    assert len(merged) >= 12
    assert (merged["n"].astype(int) == merged["n_pairs"].astype(int)).all()
    assert (merged["yi"] - merged["cohen_dz"]).abs().max() < 1e-9
