"""The warehouse under faults and concurrent runs.

1. A ``warehouse add`` killed with SIGKILL leaves the warehouse as it was, or (if the kill came
   after the commit) holding the complete new state: never a partial workshop. Two cases: the
   warehouse holds another workshop and a new one is added; and the warehouse already holds the
   workshop (loaded ``--no-responses``, so old and new copies differ) and it is replaced.
   The kills land at chosen points of the load transaction (a wrapper pauses the process right
   after the n-th DELETE or INSERT, or after the COMMIT, and the test kills it there), and at
   delays spread over a plain ``python -m evaluation warehouse add`` run.
2. Several processes adding workshops to one file at once all succeed (each waits for the
   file), or one fails after ``--wait`` seconds with one clear sentence; the file is never
   corrupted and holds every workshop that reported success exactly once.

The delays only choose where a kill lands; nothing here asserts how long anything takes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from evaluation import warehouse as wh
from evaluation.errors import WarehouseError

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo-workshops"
OTHER = "almaty-2012-11"  # instrument 1.0, generic XLSX
TARGET = "bishkek-2013-04"  # instrument 2.0, generic CSV (cp1251) + XLSX
THIRD = "dushanbe-2014-10"  # instrument 2.0, Kobo CSV
_TABLES = ("workshops", *wh.RESULT_TABLES, "responses")

#: Runs ``python -m evaluation ARGS`` with the warehouse connection wrapped: after the n-th
#: statement of a kind (DELETE, INSERT, INSERT INTO <table>, COMMIT) of the load, it prints
#: PAUSED and sleeps, so that the test kills it exactly there.
_PAUSING = r"""
import sys, time
from contextlib import contextmanager
import evaluation.warehouse as wh
from evaluation.cli import main

kind, nth = sys.argv[1], int(sys.argv[2])
seen = {"n": 0}

class Pausing:
    def __init__(self, con):
        self._con = con
    def __getattr__(self, name):
        return getattr(self._con, name)
    def execute(self, sql, *args):
        result = self._con.execute(sql, *args)
        if sql.lstrip().upper().startswith(kind):
            seen["n"] += 1
            if seen["n"] == nth:
                print("PAUSED", flush=True)
                time.sleep(600)
        return result

original = wh._opened

@contextmanager
def _opened(*args, **kwargs):
    with original(*args, **kwargs) as con:
        yield Pausing(con)

wh._opened = _opened
sys.exit(main(sys.argv[3:]))
"""

#: Announces ANNOUNCE before the warehouse is opened (the analysis is done by then).
_ANNOUNCING = r"""
import sys
import evaluation.warehouse as wh
from evaluation.cli import main

original = wh.connect

def connect(*args, **kwargs):
    print("CONNECTING", flush=True)
    return original(*args, **kwargs)

wh.connect = connect
sys.exit(main(sys.argv[1:]))
"""

#: Holds the warehouse open (DuckDB's one-process lock) until a line arrives on stdin.
_HOLDING = r"""
import sys
from evaluation.warehouse import connect
con = connect(sys.argv[1])
print("HOLDING", flush=True)
sys.stdin.readline()
con.close()
"""


def _env() -> dict:
    return {**os.environ, "MPLBACKEND": "Agg"}


def _popen(argv: list[str], **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *argv], cwd=REPO, env=_env(), text=True,
                            start_new_session=True, **kw)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def _copy(name: str, root: Path) -> Path:
    dest = root / name
    if not dest.exists():
        shutil.copytree(DEMO / name, dest, ignore=shutil.ignore_patterns("processed"))
    return dest


def _clone(src: Path, dest: Path) -> Path:
    """Copy a (closed) warehouse file, with its write-ahead log if there is one."""
    for suffix in ("", ".wal"):
        s, d = Path(str(src) + suffix), Path(str(dest) + suffix)
        if d.exists():
            d.unlink()
        if s.exists():
            shutil.copy2(s, d)
    return dest


def snapshot(path: Path) -> dict:
    """Open the file read-only and describe it: schema version and row counts per workshop.

    Reads every row of every table (a damaged file fails here). The snapshot holds, per table,
    the row count of each workshop, the rows per instrument version of the instrument tables,
    and whether each workshop's responses are included.
    """
    con = duckdb.connect(str(path), read_only=True)
    try:
        state: dict = {"schema_version": con.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()}
        for table in _TABLES:
            con.execute(f"SELECT * FROM {table}").fetchall()
            state[table] = dict(con.execute(
                f"SELECT workshop_id, count(*) FROM {table} GROUP BY ALL ORDER BY ALL"
            ).fetchall())
        for table in ("instrument_scales", "instrument_items"):
            state[table] = {f"{i} {v}": n for i, v, n in con.execute(
                f"SELECT instrument_id, instrument_version, count(*) FROM {table} "
                "GROUP BY ALL ORDER BY ALL").fetchall()}
        state["responses_included"] = dict(con.execute(
            "SELECT workshop_id, responses_included FROM workshops ORDER BY 1").fetchall())
        return state
    finally:
        con.close()


def _workshop_rows(state: dict, workshop_id: str) -> dict:
    return {t: state[t].get(workshop_id, 0) for t in _TABLES}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evaluation", *args], cwd=REPO, env=_env(),
                          capture_output=True, text=True, timeout=600)


def _paused_kill(kind: str, nth: int, args: list[str]) -> bool:
    """Run the pausing wrapper; kill it where it pauses. Whether it paused (else it ended)."""
    proc = _popen(["-c", _PAUSING, kind, str(nth), *args], stdout=subprocess.PIPE,
                  stderr=subprocess.DEVNULL)
    try:
        paused = False
        for line in proc.stdout:
            if line.startswith("PAUSED"):
                paused = True
                break
        return paused
    finally:
        _kill(proc)
        proc.stdout.close()


def _timed_kill(delay: float, args: list[str]) -> None:
    proc = _popen(["-m", "evaluation", *args], stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        pass
    finally:
        _kill(proc)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """Warehouses before the kills, and the complete state each add should end in."""
    root = tmp_path_factory.mktemp("whfaults")
    other, target = _copy(OTHER, root), _copy(TARGET, root)
    (root / "private").mkdir(mode=0o700)
    new_case = root / "private" / "other.duckdb"  # holds OTHER; TARGET gets added
    wh.add_workshop(other, new_case, n_resamples=200)
    replace_case = _clone(new_case, root / "private" / "both.duckdb")  # TARGET gets replaced
    wh.add_workshop(target, replace_case, responses=False, n_resamples=200)
    # the complete new state of each case, by a plain CLI run (its duration spreads the
    # timed kills over a run; it is measured, never asserted)
    states = {}
    for name, path in (("new", new_case), ("replace", replace_case)):
        ref = _clone(path, root / "private" / f"{name}-ref.duckdb")
        started = time.monotonic()
        done = _cli("warehouse", "add", str(target), "--warehouse", str(ref))
        duration = time.monotonic() - started
        assert done.returncode == 0, done.stderr
        states[name] = {"file": path, "before": snapshot(path), "after": snapshot(ref),
                        "duration": duration}
    return {"root": root, "target": target, "states": states}


# kill points inside the load transaction: (statement kind, n-th such statement)
_POINTS = [("DELETE", 1), ("INSERT", 3), ("INSERT INTO RESPONSES", 1)]


@pytest.mark.parametrize("case", ["new", "replace"])
def test_killed_load_leaves_the_warehouse_as_it_was_or_complete(base, case, tmp_path):
    target, st = base["target"], base["states"][case]
    before, after = st["before"], st["after"]
    # the two states differ in the target workshop (else the test could not tell them apart)
    assert _workshop_rows(before, TARGET) != _workshop_rows(after, TARGET)
    assert before["schema_version"] == after["schema_version"] == (str(wh.SCHEMA_VERSION),)
    if case == "new":
        assert _workshop_rows(before, TARGET) == dict.fromkeys(_TABLES, 0)
        assert set(before["workshops"]) == {OTHER}
    else:
        assert before["responses_included"] == {OTHER: True, TARGET: False}
        assert after["responses_included"] == {OTHER: True, TARGET: True}
    # every rows count of the other workshop is the same in both states
    assert _workshop_rows(before, OTHER) == _workshop_rows(after, OTHER)

    # 1. kills inside the transaction: the warehouse is exactly as it was
    for kind, nth in _POINTS:
        path = _clone(st["file"], tmp_path / f"{kind}-{nth}.duckdb".replace(" ", "_"))
        args = ["warehouse", "add", str(target), "--warehouse", str(path)]
        assert _paused_kill(kind, nth, args), f"the load never reached {kind} #{nth}"
        assert snapshot(path) == before, f"killed after {kind} #{nth}"

    # 2. killed after the commit, before the file was closed: the complete new state
    path = _clone(st["file"], tmp_path / "commit.duckdb")
    args = ["warehouse", "add", str(target), "--warehouse", str(path)]
    assert _paused_kill("COMMIT", 1, args)
    assert snapshot(path) == after

    # 3. plain CLI runs killed at delays spread over a run: either state, never a mix
    path = _clone(st["file"], tmp_path / "timed.duckdb")
    args = ["warehouse", "add", str(target), "--warehouse", str(path)]
    outcomes = []
    for fraction in (0.6, 0.9, 1.0):
        _timed_kill(fraction * st["duration"], args)
        state = snapshot(path)
        assert state in (before, after), f"partial state after a kill at {fraction:.2f}"
        outcomes.append("after" if state == after else "before")
        _clone(st["file"], path)  # every kill starts from the state before
    # a normal run succeeds on a file whose last load was killed mid-transaction
    assert _paused_kill("INSERT INTO RESPONSES", 1, args)
    done = _cli(*args)
    assert done.returncode == 0, done.stderr
    assert snapshot(path) == after
    listed = _cli("warehouse", "list", "--warehouse", str(path))
    assert listed.returncode == 0 and f"{TARGET}  phase" in listed.stdout


def _assert_each_once(path: Path, workshop_ids: set[str]) -> None:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT workshop_id, count(*) FROM workshops GROUP BY ALL").fetchall()
        assert dict(rows) == dict.fromkeys(workshop_ids, 1)
        for table, key in (("responses", "record_id, wave, item_id"),
                           ("item_results", "item_id, wave_a, wave_b"),
                           ("scale_results", "scale_id, wave_a, wave_b")):
            dup = con.execute(f"SELECT count(*) FROM (SELECT workshop_id, {key}, count(*) AS c "
                              f"FROM {table} GROUP BY ALL HAVING c > 1)").fetchone()[0]
            assert dup == 0, f"duplicate rows in {table}"
            held = {r[0] for r in con.execute(f"SELECT DISTINCT workshop_id FROM {table}")
                    .fetchall()}
            assert held == workshop_ids, table
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() \
            == (str(wh.SCHEMA_VERSION),)
    finally:
        con.close()


def test_concurrent_adds_to_one_new_file_all_succeed(tmp_path):
    """Three plain ``warehouse add`` processes started at once on a file that does not exist."""
    names = (OTHER, TARGET, THIRD)
    folders = [_copy(n, tmp_path) for n in names]
    path = tmp_path / "private" / "w.duckdb"
    procs = [_popen(["-m", "evaluation", "warehouse", "add", str(f), "--warehouse", str(path)],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE) for f in folders]
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=600)
            results.append((proc.returncode, out, err))
    finally:
        for proc in procs:
            _kill(proc)
    for (code, out, err), name in zip(results, names, strict=True):
        assert code == 0, err
        assert f"Loaded {name} into w.duckdb" in out
    _assert_each_once(path, set(names))
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_adds_wait_for_a_process_holding_the_file(tmp_path):
    """While another process holds the file, three adds wait for it, then all succeed."""
    names = (OTHER, TARGET, THIRD)
    folders = [_copy(n, tmp_path) for n in names]
    path = tmp_path / "private" / "w.duckdb"
    holder = _popen(["-c", _HOLDING, str(path)], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    procs = []
    try:
        assert holder.stdout.readline().startswith("HOLDING")
        procs = [_popen(["-c", _ANNOUNCING, "warehouse", "add", str(f), "--warehouse",
                         str(path), "--wait", "300"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for f in folders]
        # every add has finished its analysis and is trying to open the held file
        for proc in procs:
            assert proc.stdout.readline().startswith("CONNECTING")
        for proc in procs:
            assert proc.poll() is None  # still waiting: the file is held
        holder.stdin.write("release\n")
        holder.stdin.flush()
        assert holder.wait(timeout=60) == 0
        outputs = [p.communicate(timeout=600) for p in procs]
        results = [(p.returncode, *o) for p, o in zip(procs, outputs, strict=True)]
    finally:
        for proc in (holder, *procs):
            _kill(proc)
    for (code, out, err), name in zip(results, names, strict=True):
        assert code == 0, err
        assert f"Loaded {name} into w.duckdb" in out
    _assert_each_once(path, set(names))


def test_add_gives_up_after_wait_with_one_sentence(tmp_path):
    """With the file held longer than ``--wait``, add exits 2 with one sentence; no damage."""
    folder = _copy(TARGET, tmp_path)
    path = tmp_path / "private" / "w.duckdb"
    wh.add_workshop(_copy(OTHER, tmp_path), path, n_resamples=200)
    before = snapshot(path)
    holder = _popen(["-c", _HOLDING, str(path)], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert holder.stdout.readline().startswith("HOLDING")
        done = _cli("warehouse", "add", str(folder), "--warehouse", str(path), "--wait", "0.5")
    finally:
        holder.stdin.close()
        _kill(holder)
    assert done.returncode == 2
    assert done.stderr.strip() == ("evaluate: The warehouse w.duckdb is in use by another "
                                   "process; try again or raise --wait.")
    assert "Traceback" not in done.stderr and not done.stdout
    assert snapshot(path) == before
    # once the other process is gone the same command succeeds
    assert _cli("warehouse", "add", str(folder), "--warehouse", str(path)).returncode == 0
    _assert_each_once(path, {OTHER, TARGET})


def test_connect_retries_only_lock_conflicts(tmp_path):
    """A damaged file is refused at once (no waiting), naming the file, without a traceback."""
    path = tmp_path / "private" / "broken.duckdb"
    path.parent.mkdir()
    path.write_bytes(b"not a duckdb file" * 1000)
    with pytest.raises(WarehouseError, match=r"^The warehouse broken.duckdb cannot be "):
        wh.connect(path, wait=3600)


def test_compare_waits_for_a_writer_then_gives_up_with_one_sentence(tmp_path):
    """``evaluate compare`` waits for a process writing to the warehouse (``--wait``)."""
    path = tmp_path / "private" / "w.duckdb"
    for name in (OTHER, TARGET):
        wh.add_workshop(_copy(name, tmp_path), path, n_resamples=200)
    out = tmp_path / "cohorts"
    holder = _popen(["-c", _HOLDING, str(path)], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    waiting = None
    try:
        assert holder.stdout.readline().startswith("HOLDING")
        refused = _cli("compare", "--warehouse", str(path), "--out", str(out), "--wait", "0.5")
        waiting = _popen(["-c", _ANNOUNCING, "compare", "--warehouse", str(path), "--out",
                          str(out), "--wait", "300"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
        assert waiting.stdout.readline().startswith("CONNECTING")
        assert waiting.poll() is None  # still waiting: the file is held
        holder.stdin.write("release\n")
        holder.stdin.flush()
        assert holder.wait(timeout=60) == 0
        _, err = waiting.communicate(timeout=600)
    finally:
        for proc in (holder, waiting):
            if proc is not None:
                _kill(proc)
    assert refused.returncode == 2
    assert refused.stderr.strip() == ("evaluate: The warehouse w.duckdb is in use by another "
                                      "process; try again or raise --wait.")
    assert "Traceback" not in refused.stderr
    assert waiting.returncode == 0, err
    assert (out / "report.html").is_file() and (out / "results").is_dir()
