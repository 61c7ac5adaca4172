"""The evaluation warehouse: one DuckDB file holding every analysed workshop of an evaluator.

The warehouse feeds the cohort comparison (:mod:`evaluation.cohorts`, ``evaluate compare``). It
holds, per workshop,

- ``workshops``: id, titles, dates, place and host country, project, phase, instrument id and
  version, languages, ``k_min``, respondent and matched counts, whether responses are stored;
- ``instrument_scales`` and ``instrument_items``: the definition of every instrument version
  loaded (which items make each scale), so that only compatible versions are compared;
- the **suppressed** result tables exactly as the workshop report publishes them:
  ``participation``, ``item_results``, ``scale_results``, ``indicator_results``,
  ``reaction_results``, ``followup_results`` and ``disaggregation_results``;
- unless the evaluator turns it off (``evaluate warehouse add --no-responses``), ``responses``:
  the pseudonymous answers in long format (``workshop_id, record_id, participant_key, wave,
  item_id, code, score``). Free-text and participant-code items are never stored; raw codes never
  reach ingest's output in the first place. ``participant_key`` is set only for records that
  can be paired (not a pseudonym collision, not twice in a wave), as the workshop analysis pairs
  them. **With responses the warehouse holds personal data** (pseudonymous data is personal
  data): ``evaluate warehouse list`` says so.

Rules the module keeps:

- the file is owner-only (``0o600``; its folder ``0o700`` when the toolkit creates it);
- a path under a folder named ``reports`` is refused (reports are shared; the warehouse is not);
- the default path is ``$EVALUATION_WAREHOUSE``, else
  ``$XDG_DATA_HOME/workshop-evaluation/warehouse.duckdb``, else
  ``~/.local/share/workshop-evaluation/warehouse.duckdb``;
- loading a workshop is one transaction, and loading it again replaces it (never duplicates);
  a process killed mid-load leaves the file as it was before the load;
- DuckDB lets one process at a time open the file: while another process holds it,
  :func:`connect` retries for up to ``wait`` seconds (``evaluate warehouse add --wait``, default
  :data:`DEFAULT_WAIT`), then stops with one sentence saying the file is in use;
- the schema carries a version in ``meta``; :func:`connect` migrates an older file forward with
  the functions in :data:`MIGRATIONS` (one per version) and refuses a file from a newer toolkit.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaluation import __version__
from evaluation.errors import WarehouseError

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

    from evaluation.analysis import WorkshopAnalysis
    from evaluation.ingest import IngestResult
    from evaluation.instrument import Instrument

__all__ = [
    "ENV_VAR",
    "DEFAULT_WAIT",
    "SCHEMA_VERSION",
    "MIGRATIONS",
    "RESULT_TABLES",
    "WorkshopLoad",
    "default_warehouse_path",
    "check_warehouse_path",
    "connect",
    "schema_version",
    "migrate",
    "long_responses",
    "build_load",
    "insert_frame",
    "load_workshop_into",
    "add_workshop",
    "list_workshops",
    "format_workshop_list",
    "describe",
]

#: Environment variable that overrides the default warehouse path.
ENV_VAR = "EVALUATION_WAREHOUSE"
#: Seconds ``warehouse add`` waits for a warehouse another process holds (``--wait``).
DEFAULT_WAIT = 60.0
#: Schema version this toolkit writes.
SCHEMA_VERSION = 1
#: Item types never stored in ``responses`` (free text may identify; codes are pseudonymised).
_NOT_STORED = ("text", "code")
_SEED = 20180521

_V1 = [
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS workshops (
        workshop_id VARCHAR PRIMARY KEY, title_en VARCHAR, title_ru VARCHAR,
        start_date DATE, end_date DATE, place_en VARCHAR, place_ru VARCHAR,
        host_country VARCHAR, project VARCHAR, phase VARCHAR,
        instrument_id VARCHAR, instrument_version VARCHAR, languages VARCHAR,
        synthetic BOOLEAN, k_min INTEGER, expected_participants INTEGER,
        n_pre INTEGER, n_post INTEGER, n_followup INTEGER,
        matched_pre_post INTEGER, matched_pre_followup INTEGER,
        responses_included BOOLEAN, loaded_at TIMESTAMP, toolkit_version VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS instrument_scales (
        instrument_id VARCHAR, instrument_version VARCHAR, scale_id VARCHAR, domain VARCHAR,
        items VARCHAR, n_items INTEGER, pre_post BOOLEAN, label_en VARCHAR, label_ru VARCHAR,
        PRIMARY KEY (instrument_id, instrument_version, scale_id))""",
    """CREATE TABLE IF NOT EXISTS instrument_items (
        instrument_id VARCHAR, instrument_version VARCHAR, item_id VARCHAR, type VARCHAR,
        choices VARCHAR, scale_id VARCHAR, section VARCHAR, role VARCHAR, reverse BOOLEAN,
        waves VARCHAR, PRIMARY KEY (instrument_id, instrument_version, item_id))""",
    """CREATE TABLE IF NOT EXISTS participation (
        workshop_id VARCHAR, dimension VARCHAR, "group" VARCHAR, wave VARCHAR, n INTEGER,
        base INTEGER, rate DOUBLE, attrition DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS item_results (
        workshop_id VARCHAR, item_id VARCHAR, scale_id VARCHAR, wave_a VARCHAR, wave_b VARCHAR,
        n_pairs INTEGER, mean_a DOUBLE, mean_b DOUBLE, mean_change DOUBLE,
        mean_change_ci_low DOUBLE, mean_change_ci_high DOUBLE, wilcoxon_v DOUBLE,
        p_value DOUBLE, p_holm DOUBLE, rank_biserial DOUBLE, rank_biserial_ci_low DOUBLE,
        rank_biserial_ci_high DOUBLE, pct_improved DOUBLE, pct_unchanged DOUBLE,
        pct_declined DOUBLE, suppressed BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS scale_results (
        workshop_id VARCHAR, scale_id VARCHAR, wave_a VARCHAR, wave_b VARCHAR,
        n_items INTEGER, n_pairs INTEGER, alpha_a DOUBLE, alpha_b DOUBLE, mean_a DOUBLE,
        mean_b DOUBLE, mean_change DOUBLE, mean_change_ci_low DOUBLE,
        mean_change_ci_high DOUBLE, t DOUBLE, df DOUBLE, p_value DOUBLE, cohen_dz DOUBLE,
        cohen_dz_ci_low DOUBLE, cohen_dz_ci_high DOUBLE, suppressed BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS indicator_results (
        workshop_id VARCHAR, indicator_id VARCHAR, label VARCHAR, level VARCHAR,
        baseline DOUBLE, target DOUBLE, value DOUBLE, ci_low DOUBLE, ci_high DOUBLE,
        n INTEGER, status VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS reaction_results (
        workshop_id VARCHAR, item_id VARCHAR, part VARCHAR, scale_id VARCHAR, n INTEGER,
        count_1 INTEGER, count_2 INTEGER, count_3 INTEGER, count_4 INTEGER, count_5 INTEGER,
        missing_code VARCHAR, count_missing INTEGER, mean DOUBLE, mean_ci_low DOUBLE,
        mean_ci_high DOUBLE, pct_agree DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS followup_results (
        workshop_id VARCHAR, measure VARCHAR, item_id VARCHAR, n INTEGER, pct DOUBLE,
        ci_low DOUBLE, ci_high DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS disaggregation_results (
        workshop_id VARCHAR, dimension VARCHAR, "group" VARCHAR, n INTEGER, mean_a DOUBLE,
        mean_b DOUBLE, mean_change DOUBLE, ci_low DOUBLE, ci_high DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS responses (
        workshop_id VARCHAR, record_id VARCHAR, participant_key VARCHAR, wave VARCHAR,
        item_id VARCHAR, code VARCHAR, score DOUBLE)""",
]

#: Result tables of a workshop: warehouse table → (analysis attribute or "indicators", columns).
RESULT_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "participation": ("participation", ("dimension", "group", "wave", "n", "base", "rate",
                                        "attrition")),
    "item_results": ("items", (
        "item_id", "scale_id", "wave_a", "wave_b", "n_pairs", "mean_a", "mean_b",
        "mean_change", "mean_change_ci_low", "mean_change_ci_high", "wilcoxon_v", "p_value",
        "p_holm", "rank_biserial", "rank_biserial_ci_low", "rank_biserial_ci_high",
        "pct_improved", "pct_unchanged", "pct_declined", "suppressed")),
    "scale_results": ("scales", (
        "scale_id", "wave_a", "wave_b", "n_items", "n_pairs", "alpha_a", "alpha_b", "mean_a",
        "mean_b", "mean_change", "mean_change_ci_low", "mean_change_ci_high", "t", "df",
        "p_value", "cohen_dz", "cohen_dz_ci_low", "cohen_dz_ci_high", "suppressed")),
    "indicator_results": ("indicators", (
        "indicator_id", "label", "level", "baseline", "target", "value", "ci_low", "ci_high",
        "n", "status")),
    "reaction_results": ("reaction", (
        "item_id", "part", "scale_id", "n", "count_1", "count_2", "count_3", "count_4",
        "count_5", "missing_code", "count_missing", "mean", "mean_ci_low", "mean_ci_high",
        "pct_agree")),
    "followup_results": ("followup", ("measure", "item_id", "n", "pct", "ci_low", "ci_high")),
    "disaggregation_results": ("disaggregation", (
        "dimension", "group", "n", "mean_a", "mean_b", "mean_change", "ci_low", "ci_high")),
}
_WORKSHOP_TABLES = ("workshops", *RESULT_TABLES, "responses")
_RESPONSE_COLUMNS = ("workshop_id", "record_id", "participant_key", "wave", "item_id", "code",
                     "score")


# --------------------------------------------------------------------------------------------
# Paths and permissions
# --------------------------------------------------------------------------------------------


def default_warehouse_path(environ: dict[str, str] | None = None) -> Path:
    """The warehouse file used when ``--warehouse`` is not given.

    ``$EVALUATION_WAREHOUSE`` if set, else ``$XDG_DATA_HOME/workshop-evaluation/
    warehouse.duckdb``, else ``~/.local/share/workshop-evaluation/warehouse.duckdb``: inside the
    evaluator's own workspace, never in the repository or under ``reports/``.

    Examples
    --------
    >>> from evaluation.warehouse import default_warehouse_path
    >>> default_warehouse_path({"EVALUATION_WAREHOUSE": "w/my.duckdb"}).as_posix()
    'w/my.duckdb'
    >>> default_warehouse_path({"XDG_DATA_HOME": "data"}).as_posix()
    'data/workshop-evaluation/warehouse.duckdb'
    """
    env = os.environ if environ is None else environ
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR]).expanduser()
    base = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else \
        Path("~/.local/share").expanduser()
    return base / "workshop-evaluation" / "warehouse.duckdb"


def check_warehouse_path(path: str | Path) -> Path:
    """Refuse a warehouse path under a ``reports`` folder; return the path.

    Reports are shared with donors; the warehouse may hold personal data and is never shared.

    Examples
    --------
    >>> from evaluation.warehouse import check_warehouse_path
    >>> check_warehouse_path("work/warehouse.duckdb").name
    'warehouse.duckdb'
    >>> check_warehouse_path("reports/cohorts/warehouse.duckdb")
    Traceback (most recent call last):
    ...
    evaluation.errors.WarehouseError: The warehouse warehouse.duckdb may not be under a reports/ ...
    """
    p = Path(path).expanduser()
    parts = {part.lower() for part in p.absolute().parent.parts}
    if "reports" in parts:
        raise WarehouseError(
            f"The warehouse {p.name} may not be under a reports/ folder (reports are shared; "
            "the warehouse holds personal data): choose a path in your own workspace."
        )
    return p


def _owner_only(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        if p.exists():
            os.chmod(p, 0o600)


# --------------------------------------------------------------------------------------------
# Connection and schema
# --------------------------------------------------------------------------------------------


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version of an open warehouse (0 for a file without a ``meta`` table).

    Examples
    --------
    >>> import duckdb
    >>> from evaluation.warehouse import schema_version, migrate
    >>> con = duckdb.connect()
    >>> schema_version(con)
    0
    >>> migrate(con), schema_version(con)
    ([1], 1)
    """
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()}
    if "meta" not in tables:
        return 0
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def _migrate_to_1(con: duckdb.DuckDBPyConnection) -> None:
    """Version 1: every table of the first release."""
    for ddl in _V1:
        con.execute(ddl)


#: Forward migrations: ``MIGRATIONS[v]`` upgrades a version ``v - 1`` file to version ``v``.
#: A later schema adds ``MIGRATIONS[2] = _migrate_to_2`` and raises :data:`SCHEMA_VERSION`.
MIGRATIONS: dict[int, Callable[[Any], None]] = {1: _migrate_to_1}


def migrate(con: duckdb.DuckDBPyConnection, target: int | None = None) -> list[int]:
    """Bring an open warehouse forward to ``target`` (default :data:`SCHEMA_VERSION`).

    Each step runs in its own transaction and records the new version in ``meta``; a failing
    step leaves the file at the previous version. Returns the versions applied.

    Raises
    ------
    WarehouseError
        The file is newer than this toolkit, or a migration step is missing.
    """
    target = SCHEMA_VERSION if target is None else int(target)
    current = schema_version(con)
    if current > target:
        raise WarehouseError(
            f"The warehouse has schema version {current}, newer than this toolkit's {target}: "
            "update the toolkit."
        )
    applied = []
    for version in range(current + 1, target + 1):
        step = MIGRATIONS.get(version)
        if step is None:
            raise WarehouseError(f"No migration to warehouse schema version {version} exists.")
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            step(con)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                        [str(version)])
            con.execute("INSERT OR REPLACE INTO meta VALUES ('migrated_by', ?)",
                        [f"workshop-evaluation {__version__}"])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def _lock_conflict(exc: BaseException, path: Path) -> bool:
    """Whether a DuckDB error says another process holds the lock of the file at ``path``."""
    import duckdb

    if not isinstance(exc, duckdb.IOException):
        return False
    text = str(exc).replace(str(path), "").lower()  # the file's own name may say "lock"
    return "could not set lock" in text or "conflicting lock" in text


def connect(path: str | Path | None = None, read_only: bool = False,
            create: bool = True, wait: float = 0.0,
            busy_hint: str = "try again when it has finished") -> duckdb.DuckDBPyConnection:
    """Open (and create or migrate) the warehouse at ``path``; owner-only permissions.

    Parameters
    ----------
    path : str or Path, optional
        The DuckDB file; default :func:`default_warehouse_path`. Refused under ``reports/``.
    read_only : bool
        Open for reading only (comparisons). A read-only file must exist and be current.
    create : bool
        Create the file when it does not exist (else :class:`WarehouseError`).
    wait : float
        Seconds to keep retrying while another process holds the file (DuckDB allows one
        process at a time); then :class:`WarehouseError` ("... is in use by another process").
    busy_hint : str
        What that message tells the user to do.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from evaluation.warehouse import connect, schema_version
    >>> with tempfile.TemporaryDirectory() as d:
    ...     con = connect(pathlib.Path(d) / "w.duckdb")
    ...     v = schema_version(con); con.close()
    ...     oct((pathlib.Path(d) / "w.duckdb").stat().st_mode & 0o777), v
    ('0o600', 1)
    """
    import duckdb

    p = check_warehouse_path(default_warehouse_path() if path is None else path)
    exists = p.is_file()
    if not exists and (read_only or not create):
        raise WarehouseError(f"The warehouse {p.name} does not exist: load workshops first "
                             "with `evaluate warehouse add`.")
    if not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(p.parent, 0o700)
    deadline = time.monotonic() + max(0.0, float(wait))
    pause = 0.05
    while True:
        old_umask = os.umask(0o077)
        try:
            con = duckdb.connect(str(p), read_only=read_only)
            break
        except duckdb.Error as exc:
            if not _lock_conflict(exc, p):
                raise WarehouseError(f"The warehouse {p.name} cannot be opened "
                                     f"({type(exc).__name__}).") from None
            left = deadline - time.monotonic()
            if left <= 0:
                raise WarehouseError(f"The warehouse {p.name} is in use by another process; "
                                     f"{busy_hint}.") from None
        finally:
            os.umask(old_umask)
        time.sleep(min(pause, left))  # another process holds the file: wait for it
        pause = min(2 * pause, 0.5)
    _owner_only(p)
    if read_only:
        version = schema_version(con)
        if version != SCHEMA_VERSION:
            con.close()
            raise WarehouseError(
                f"The warehouse {p.name} has schema version {version}, not "
                f"{SCHEMA_VERSION}: open it once with `evaluate warehouse list` to migrate it.")
        return con
    try:
        migrate(con)
    except Exception:
        con.close()
        raise
    _owner_only(p)
    return con


@contextmanager
def _opened(path: str | Path | None, read_only: bool = False, wait: float = 0.0,
            busy_hint: str = "try again when it has finished") -> Iterator[Any]:
    con = connect(path, read_only=read_only, wait=wait, busy_hint=busy_hint)
    try:
        yield con
    finally:
        con.close()
        if not read_only:
            _owner_only(check_warehouse_path(default_warehouse_path() if path is None
                                             else path))


# --------------------------------------------------------------------------------------------
# What one workshop puts into the warehouse
# --------------------------------------------------------------------------------------------


def _linkable_keys(frame: pd.DataFrame) -> pd.Series:
    """``participant_key`` where the record can be paired (as the analysis pairs), else None."""
    if "participant_key" not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    keys = frame["participant_key"].astype(object)
    ok = keys.notna()
    if "collision" in frame.columns:
        ok &= ~frame["collision"].fillna(False).astype(bool)
    dup = keys.where(ok).duplicated(keep=False) & ok
    ok &= ~dup
    return keys.where(ok, None).map(lambda v: None if v is None or v != v else str(v))


def long_responses(
    waves: dict[str, pd.DataFrame], instrument: Instrument, workshop_id: str
) -> pd.DataFrame:
    """The pseudonymous answers of a workshop in long format (one row per answer given).

    Columns ``workshop_id, record_id, participant_key, wave, item_id, code, score``. ``code`` is
    the answer code (``"4"``, ``"dk"``, ``"KZ"``); ``score`` the Likert score with reverse items
    reflected, 1/0 for a knowledge question, the number of a number item, else missing.
    Retrospective answers are wave ``retro``. Free-text and participant-code items are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.warehouse import long_responses
    >>> inst = load_instrument(default_instrument_path())
    >>> pre = pd.DataFrame({"ud_causes_unclear": ["5", "dk"], "open_improve": ["x", "y"],
    ...                     "participant_key": ["P1", None], "collision": False},
    ...                    index=pd.Index(["pre-2", "pre-3"], name="record_id"))
    >>> long_responses({"pre": pre}, inst, "w")[["participant_key", "item_id", "code", "score"]]
      participant_key            item_id code  score
    0              P1  ud_causes_unclear    5    1.0
    1             NaN  ud_causes_unclear   dk    NaN
    """
    from evaluation import scoring

    parts = []
    stored = {it.id: it for it in instrument.items if it.type not in _NOT_STORED}
    for wave, frame in waves.items():
        if frame is None or not len(frame):
            continue
        keys = _linkable_keys(frame)
        sources = [(wave, {i: i for i in stored if stored[i].asked_in(wave)})]
        if wave == "post":
            sources.append(("retro", {i: it.retro_id for i, it in stored.items()
                                      if it.asked_in("retro")}))
        for wv, columns in sources:
            columns = {i: c for i, c in columns.items() if c in frame.columns}
            if not columns:
                continue
            likert = scoring.item_scores(frame, instrument, wv)
            knowledge = scoring.knowledge_correct(frame, instrument, wv) \
                if wv != "retro" else pd.DataFrame(index=frame.index)
            for item_id, column in columns.items():
                raw = frame[column]
                it = stored[item_id]
                if it.type == "number":
                    code = pd.to_numeric(raw, errors="coerce")
                    score = code.astype(float)
                    code = code.map(lambda v: None if v != v else f"{v:g}")
                else:
                    code = raw.astype(object).map(
                        lambda v: None if v is None or v != v or v == "" else str(v))
                    if item_id in likert.columns:
                        score = likert[item_id]
                    elif item_id in knowledge.columns:
                        score = knowledge[item_id].where(code.notna())
                    else:
                        score = pd.Series(np.nan, index=frame.index)
                keep = code.notna().to_numpy()
                if not keep.any():
                    continue
                parts.append(pd.DataFrame({
                    "record_id": frame.index.astype(str)[keep],
                    "participant_key": keys.to_numpy()[keep],
                    "wave": wv,
                    "item_id": item_id,
                    "code": code.to_numpy()[keep],
                    "score": pd.to_numeric(score, errors="coerce").to_numpy(float)[keep],
                }))
    if not parts:
        out = pd.DataFrame({c: pd.Series([], dtype=object) for c in _RESPONSE_COLUMNS})
        out["score"] = out["score"].astype(float)
        return out
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "workshop_id", workshop_id)
    out["participant_key"] = out["participant_key"].astype(object)
    return out[list(_RESPONSE_COLUMNS)]


@dataclass
class WorkshopLoad:
    """Everything one workshop puts into the warehouse (built before any write)."""

    workshop_id: str
    workshop: pd.DataFrame
    scales: pd.DataFrame
    items: pd.DataFrame
    results: dict[str, pd.DataFrame]
    responses: pd.DataFrame | None

    @property
    def holds_personal_data(self) -> bool:
        """Whether the load contains pseudonymous responses (personal data)."""
        return self.responses is not None and len(self.responses) > 0


def _host_country(location: dict | Any) -> str:
    text = (location or {}).get("en") or next(iter((location or {}).values()), "") or ""
    return text.rsplit(",", 1)[-1].strip() if text else ""


def _instrument_frames(instrument: Instrument) -> tuple[pd.DataFrame, pd.DataFrame]:
    scales = []
    for sid, sc in instrument.scales.items():
        items = [instrument.item(i) for i in sc.items if instrument.has_item(i)]
        pre_post = bool(items) and all(it.asked_in("pre") and it.asked_in("post")
                                       for it in items)
        scales.append({"instrument_id": instrument.id,
                       "instrument_version": instrument.version, "scale_id": sid,
                       "domain": sc.domain, "items": ",".join(sc.items),
                       "n_items": len(sc.items), "pre_post": pre_post,
                       "label_en": sc.label("en"), "label_ru": sc.label("ru")})
    items = [{"instrument_id": instrument.id, "instrument_version": instrument.version,
              "item_id": it.id, "type": it.type, "choices": it.choices, "scale_id": it.scale,
              "section": it.section, "role": it.role, "reverse": bool(it.reverse),
              "waves": ",".join(it.waves)} for it in instrument.items]
    return pd.DataFrame(scales), pd.DataFrame(items)


def build_load(
    ingest: IngestResult,
    analysis: WorkshopAnalysis,
    indicators: pd.DataFrame,
    responses: bool = True,
) -> WorkshopLoad:
    """Assemble the rows of one workshop from its ingest, analysis and indicators.

    Only the suppressed (published) result tables are taken; responses only when asked for.
    """
    cfg, inst = ingest.config, ingest.instrument
    n = {w: len(f) for w, f in ingest.waves.items()}
    expected = (cfg.expected or {}).get("participants")
    workshop = pd.DataFrame([{
        "workshop_id": cfg.id,
        "title_en": cfg.text("title", "en"), "title_ru": cfg.text("title", "ru"),
        "start_date": cfg.start_date, "end_date": cfg.end_date,
        "place_en": cfg.text("location", "en"), "place_ru": cfg.text("location", "ru"),
        "host_country": _host_country(dict(cfg.location)),
        "project": cfg.project, "phase": str(cfg.phase),
        "instrument_id": inst.id, "instrument_version": inst.version,
        "languages": ",".join(cfg.languages), "synthetic": bool(cfg.synthetic),
        "k_min": int(analysis.k_min),
        "expected_participants": int(expected) if expected else None,
        "n_pre": n.get("pre"), "n_post": n.get("post"), "n_followup": n.get("followup"),
        "matched_pre_post": analysis.matched.get("pre-post"),
        "matched_pre_followup": analysis.matched.get("pre-followup"),
        "responses_included": bool(responses),
        "loaded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
        "toolkit_version": __version__,
    }])
    results = {}
    for table, (attr, columns) in RESULT_TABLES.items():
        frame = indicators if attr == "indicators" else getattr(analysis, attr)
        frame = frame.reindex(columns=list(columns)).copy()
        frame.insert(0, "workshop_id", cfg.id)
        results[table] = frame
    scales, items = _instrument_frames(inst)
    resp = long_responses(ingest.waves, inst, cfg.id) if responses else None
    return WorkshopLoad(cfg.id, workshop, scales, items, results, resp)


def insert_frame(con: Any, table: str, frame: Any) -> None:
    """Bulk-insert a pandas DataFrame or a pyarrow Table into ``table`` (columns by name).

    Runs inside the caller's transaction, if any.
    """
    import pyarrow as pa

    if frame is None or not len(frame):
        return
    if isinstance(frame, pa.Table):
        con.register("_load_frame", frame)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _load_frame")
        finally:
            con.unregister("_load_frame")
        return
    data = frame.copy()
    for col in data.columns:
        if data[col].dtype == object or str(data[col].dtype) in ("str", "string"):
            data[col] = data[col].astype(object).where(data[col].notna(), None)
    arrow = pa.Table.from_pandas(data, preserve_index=False)
    con.register("_load_frame", arrow)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _load_frame")
    finally:
        con.unregister("_load_frame")


def load_workshop_into(con: Any, load: WorkshopLoad) -> None:
    """Write one workshop in ONE transaction, replacing any earlier copy of it."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table in _WORKSHOP_TABLES:
            con.execute(f"DELETE FROM {table} WHERE workshop_id = ?", [load.workshop_id])
        for _, row in load.scales.iterrows():
            con.execute("DELETE FROM instrument_scales WHERE instrument_id = ? AND "
                        "instrument_version = ? AND scale_id = ?",
                        [row["instrument_id"], row["instrument_version"], row["scale_id"]])
        if len(load.items):
            con.execute("DELETE FROM instrument_items WHERE instrument_id = ? AND "
                        "instrument_version = ?", [load.items["instrument_id"].iloc[0],
                                                   load.items["instrument_version"].iloc[0]])
        insert_frame(con, "workshops", load.workshop)
        insert_frame(con, "instrument_scales", load.scales)
        insert_frame(con, "instrument_items", load.items)
        for table, frame in load.results.items():
            insert_frame(con, table, frame)
        if load.responses is not None:
            insert_frame(con, "responses", load.responses)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def add_workshop(
    workshop_dir: str | Path,
    warehouse: str | Path | None = None,
    responses: bool = True,
    k_min: int | None = None,
    n_resamples: int = 2000,
    seed: int = _SEED,
    wait: float = DEFAULT_WAIT,
) -> WorkshopLoad:
    """Ingest, analyse and load one workshop folder (``evaluate warehouse add``).

    The result tables are the ones the workshop report publishes (same ``k_min`` and seed);
    loading a workshop that is already there replaces it. The file is opened only for the load
    itself (after the analysis); if another process holds it, the load waits up to ``wait``
    seconds for it, then raises :class:`WarehouseError`.
    """
    from evaluation.analysis import analyze_folder

    check_warehouse_path(default_warehouse_path() if warehouse is None else warehouse)
    ingest, analysis, indicators, _ = analyze_folder(workshop_dir, k_min, n_resamples, seed)
    load = build_load(ingest, analysis, indicators, responses=responses)
    with _opened(warehouse, wait=wait, busy_hint="try again or raise --wait") as con:
        load_workshop_into(con, load)
    return load


# --------------------------------------------------------------------------------------------
# Listing
# --------------------------------------------------------------------------------------------


def list_workshops(con: Any) -> pd.DataFrame:
    """One row per workshop: id, phase, dates, instrument, counts, whether responses are kept."""
    return con.execute(
        """SELECT w.workshop_id, w.phase, w.start_date, w.end_date, w.host_country, w.project,
                  w.instrument_id, w.instrument_version, w.k_min, w.n_pre, w.n_post,
                  w.n_followup, w.matched_pre_post, w.responses_included, w.synthetic,
                  (SELECT count(*) FROM responses r WHERE r.workshop_id = w.workshop_id)
                      AS n_answers
           FROM workshops w ORDER BY w.start_date, w.workshop_id"""
    ).df()


def _count(value: Any, k: int) -> str:
    if value is None or pd.isna(value):
        return "–"
    v = int(value)
    return f"<{k}" if 0 < v < k or v == 0 else str(v)


def format_workshop_list(frame: pd.DataFrame, name: str = "warehouse") -> str:
    """The text of ``evaluate warehouse list`` (counts under ``k_min`` shown as ``<k``).

    Examples
    --------
    >>> import pandas as pd, datetime as dt
    >>> from evaluation.warehouse import format_workshop_list
    >>> f = pd.DataFrame([{"workshop_id": "w1", "phase": "I", "start_date": dt.date(2012, 11, 5),
    ...     "end_date": dt.date(2012, 11, 6), "instrument_id": "x", "instrument_version": "1.0",
    ...     "k_min": 5, "n_pre": 20, "n_post": 3, "n_followup": None, "matched_pre_post": 12,
    ...     "responses_included": False, "synthetic": False}])
    >>> print(format_workshop_list(f, "w.duckdb"))
    w.duckdb: 1 workshop; no participant responses stored (results tables only).
    w1  phase I  2012-11-05..2012-11-06  x 1.0  pre 20, post <5, follow-up –, matched 12
    """
    n = len(frame)
    with_resp = int(frame["responses_included"].fillna(False).astype(bool).sum()) if n else 0
    noun = "workshop" if n == 1 else "workshops"
    if with_resp:
        head = (f"{name}: {n} {noun}; PERSONAL DATA: pseudonymous responses of {with_resp} "
                f"{'workshop' if with_resp == 1 else 'workshops'} are stored. Keep the file "
                "owner-only, never share it, delete it when the evaluation ends.")
    else:
        head = f"{name}: {n} {noun}; no participant responses stored (results tables only)."
    lines = [head]
    for r in frame.itertuples(index=False):
        k = int(r.k_min or 5)

        def day(d: Any) -> str:
            return "?" if d is None or pd.isna(d) else pd.Timestamp(d).date().isoformat()

        tags = []
        if bool(r.responses_included):
            tags.append("responses")
        if bool(r.synthetic):
            tags.append("synthetic")
        tag = f"  [{', '.join(tags)}]" if tags else ""
        lines.append(
            f"{r.workshop_id}  phase {r.phase or '?'}  {day(r.start_date)}..{day(r.end_date)}  "
            f"{r.instrument_id} {r.instrument_version}  pre {_count(r.n_pre, k)}, "
            f"post {_count(r.n_post, k)}, follow-up {_count(r.n_followup, k)}, "
            f"matched {_count(r.matched_pre_post, k)}{tag}"
        )
    return "\n".join(lines)


def describe(path: str | Path | None = None, wait: float = DEFAULT_WAIT) -> str:
    """The ``evaluate warehouse list`` text of the warehouse at ``path`` (migrates it).

    Waits up to ``wait`` seconds while another process (a ``warehouse add``) holds the file.
    """
    p = check_warehouse_path(default_warehouse_path() if path is None else path)
    if not p.is_file():
        raise WarehouseError(f"The warehouse {p.name} does not exist: load workshops first "
                             "with `evaluate warehouse add`.")
    with _opened(p, wait=wait) as con:
        frame = list_workshops(con)
    return format_workshop_list(frame, p.name)

