"""Ingest one workshop folder: read, validate, pseudonymise, redact, match, and account.

:func:`ingest_workshop` runs the first four pipeline steps of DESIGN.md for every wave named in
``workshop.yaml`` and returns an :class:`IngestResult`. :func:`write_ingest_outputs` writes

- ``processed/<wave>.parquet`` and ``processed/participants.parquet`` inside the workshop folder
  (pseudonymous, still personal data; owner-only permissions; never under ``reports/``);
- ``reports/<id>/ingest/report.json`` (file hashes, encoding and dialect with reasons, rows read,
  kept, quarantined and removed per reason, dropped columns by name, unmapped values, match tiers)
  and ``reports/<id>/ingest/quarantine.csv`` (file, row, column, reason; no values).

Raw participant codes are replaced by keyed pseudonyms before anything is stored; free text is
redacted before anything is stored; the pseudonym key never appears in any output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaluation import __version__
from evaluation.errors import WorkshopConfigError
from evaluation.instrument import Instrument
from evaluation.matching import MatchResult, compare_matched_unmatched, match_workshop
from evaluation.outputs import (
    atomic_write_csv,
    atomic_write_json,
    atomic_write_parquet,
    private_dir,
    replace_directory,
)
from evaluation.privacy import (
    CodeElement,
    PseudonymKey,
    Redactor,
    demo_key,
    load_key,
    pid_column,
    pseudonymize_codes,
)
from evaluation.validation import (
    WaveValidation,
    remove_repeat_participants,
    validate_wave,
)
from evaluation.workshop import WorkshopConfig, load_workshop

__all__ = [
    "IngestResult",
    "code_recipe",
    "resolve_key",
    "ingest_workshop",
    "write_ingest_outputs",
    "PROFILE_ROLES",
]

#: Profile roles that identify the same person across waves (and must agree for a tier-2 match).
PROFILE_ROLES = ("country", "gender", "sector")
_KINDS = {
    "letter": ("letter", None, None),
    "day": ("digits2", 1, 31),
    "month": ("digits2", 1, 12),
    "digit": ("digit1", 0, 9),
}


@dataclass
class IngestResult:
    """Everything the later steps need from one workshop's exports.

    ``waves`` holds the clean, pseudonymised, redacted data per wave, indexed by ``record_id``,
    with a ``participant_key`` column ("P001", ...) linking waves (``None`` when unlinked) and a
    ``collision`` flag; ``participants`` has one row per participant; ``match`` is the matching
    result; ``report`` is the ingest report as a dict.
    """

    config: WorkshopConfig
    instrument: Instrument
    waves: dict[str, pd.DataFrame]
    participants: pd.DataFrame
    match: MatchResult
    validations: dict[str, WaveValidation]
    report: dict = field(default_factory=dict)

    @property
    def quarantine(self) -> pd.DataFrame:
        """All quarantined rows of all waves: source_file, row, column, reason."""
        rows = [
            {"wave": v.wave, "source_file": q.source_file, "row": q.row,
             "column": q.column or "", "reason": q.reason}
            for v in self.validations.values() for q in v.quarantine
        ]
        return pd.DataFrame(rows, columns=["wave", "source_file", "row", "column", "reason"])


def code_recipe(instrument: Instrument) -> tuple[CodeElement, ...]:
    """The participant-code recipe of an instrument, for :mod:`evaluation.privacy`.

    Examples
    --------
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.ingest import code_recipe
    >>> [e.kind for e in code_recipe(load_instrument(default_instrument_path()))]
    ['letter', 'letter', 'digits2', 'digits2', 'letter', 'digit1']
    """
    recipe = []
    for item in instrument.code_items():
        kind, low, high = _KINDS[item.element or "letter"]
        recipe.append(CodeElement(item.id, kind, low, high))
    return tuple(recipe)


def resolve_key(config: WorkshopConfig) -> PseudonymKey:
    """The pseudonym key for a workshop.

    The published demo key is used only when ``privacy.demo_key`` is set **and** the workshop
    is marked ``synthetic: true``; real data always needs a key from the environment variable
    or a key file outside the repository and the workshop folder.
    """
    if config.privacy.demo_key:
        if not config.synthetic:
            raise WorkshopConfigError(
                config.folder / "workshop.yaml", "privacy.demo_key",
                "the published demo key may only be used with synthetic data "
                "(synthetic: true); set EVALUATION_PSEUDONYM_KEY instead.",
            )
        return demo_key()
    return load_key(
        env_var=config.privacy.key_env,
        key_file=config.privacy.key_file,
        forbidden_dirs=(config.folder,),
    )


def _roster_names(config: WorkshopConfig) -> list[str]:
    if config.roster is None:
        return []
    if not config.roster.is_file():
        raise WorkshopConfigError(config.folder / "workshop.yaml", "roster",
                                  "names a file that does not exist.")
    from evaluation.readers.decoding import read_table

    table = read_table(config.roster, legacy_encoding=config.ingest.encoding)
    names: list[str] = []
    for col in table.frame.columns:
        names.extend(v for v in table.frame[col].tolist() if isinstance(v, str) and v.strip())
    return names


def ingest_workshop(
    folder: str | Path | WorkshopConfig,
    key: PseudonymKey | None = None,
) -> IngestResult:
    """Read, validate, pseudonymise, redact and match every wave of a workshop.

    Parameters
    ----------
    folder : str or Path or WorkshopConfig
        The workshop folder (holding ``workshop.yaml``) or its loaded configuration.
    key : PseudonymKey, optional
        Overrides the key named by the configuration (tests).

    Returns
    -------
    IngestResult

    Examples
    --------
    >>> from evaluation.ingest import ingest_workshop
    >>> result = ingest_workshop("demo-workshops/astana-2018-05")
    >>> all(f["accounting_holds"] for f in result.report["files"])
    True
    """
    from evaluation.readers import read_wave

    config = folder if isinstance(folder, WorkshopConfig) else load_workshop(folder)
    instrument = config.load_instrument()
    if key is None:
        key = resolve_key(config)
    recipe = code_recipe(instrument)
    redactor = Redactor(_roster_names(config))
    text_items = [it.id for it in instrument.items if it.type == "text"]
    role_columns = {
        role: it.id for role in PROFILE_ROLES if (it := instrument.item_by_role(role)) is not None
    }

    validations: dict[str, WaveValidation] = {}
    files: list[dict] = []
    clean_waves: dict[str, pd.DataFrame] = {}
    redaction_counts: dict[str, dict[str, int]] = {}
    for wave, spec in config.waves.items():
        if spec.file.exists() and not spec.file.is_file():
            raise WorkshopConfigError(config.folder / "workshop.yaml", f"waves.{wave}.file",
                                      f"names {spec.file.name!r}, which is a folder, not a file.")
        if not spec.file.is_file():
            raise WorkshopConfigError(config.folder / "workshop.yaml", f"waves.{wave}.file",
                                      f"names {spec.file.name!r}, which is not in the folder.")
        read = read_wave(
            spec.file,
            instrument,
            wave,
            source=spec.source,
            legacy_encoding=config.ingest.encoding,
            header_map=dict(spec.header_map) or None,
            sheet=spec.sheet,
            max_bytes=int(config.ingest.max_file_mb * 1024 * 1024),
            max_columns=config.ingest.max_columns,
        )
        answer_columns = [c for c in instrument.column_names(wave) if c in read.answers.columns]
        validation = validate_wave(
            read, wave, spec.file, config.id, config.ingest.unmapped_values, answer_columns
        )
        clean = validation.clean
        # privacy at ingest: codes -> keyed pseudonyms (raw codes dropped), free text redacted
        clean = pseudonymize_codes(clean, key, recipe)
        counts: dict[str, int] = {}
        for col in text_items:
            if col in clean.columns:
                redacted = []
                for value in clean[col].tolist():
                    if isinstance(value, str) and value.strip():
                        res = redactor.redact(value)
                        for kind, n in res.counts.items():
                            counts[kind] = counts.get(kind, 0) + n
                        redacted.append(res.text)
                    else:
                        redacted.append(None)
                clean[col] = redacted
        redaction_counts[wave] = counts
        validation.clean = clean
        remove_repeat_participants(
            validation, "participant_pid", list(role_columns.values()), answer_columns
        )
        validations[wave] = validation
        clean_waves[wave] = validation.clean
        files.append(_file_report(read, validation))

    match = match_workshop(
        {w: _matching_frame(df, recipe, role_columns) for w, df in clean_waves.items()},
        elements=[pid_column(e.name) for e in recipe],
        max_mismatch=config.ingest.max_mismatch,
        agree_on=tuple(role_columns),
    )
    participants = match.participants
    waves_out: dict[str, pd.DataFrame] = {}
    for wave, df in clean_waves.items():
        link = participants.set_index(f"record_id_{wave}")["participant_key"] \
            if f"record_id_{wave}" in participants.columns else pd.Series(dtype=object)
        link = link[link.index.notna()]
        out = df.copy()
        out["participant_key"] = [link.get(rid) for rid in out.index]
        colliding = match.collisions.get(wave)
        ids = set(colliding["record_id"]) if colliding is not None and len(colliding) else set()
        out["collision"] = [rid in ids for rid in out.index]
        # Data minimisation: element pseudonyms and submission ids are not needed downstream.
        drop = [pid_column(e.name) for e in recipe] + ["participant_pid", "submission_id"]
        waves_out[wave] = out.drop(columns=[c for c in drop if c in out.columns])

    report = {
        "workshop_id": config.id,
        "synthetic": config.synthetic,
        "instrument": {"id": instrument.id, "version": instrument.version},
        "toolkit_version": __version__,
        "pseudonym_key": {"is_demo": key.is_demo},
        "files": files,
        "matching": {
            **_match_report(match),
            "matched_vs_unmatched": _attrition_comparison(
                clean_waves, match, instrument, role_columns, config.privacy.k_min),
        },
        "redactions": redaction_counts,
        "totals": {
            "rows_read": sum(f["rows_read"] for f in files),
            "kept": sum(f["kept"] for f in files),
            "quarantined": sum(f["quarantined"] for f in files),
            "removed": sum(f["removed"] for f in files),
        },
    }
    return IngestResult(config, instrument, waves_out, participants, match, validations, report)


def _matching_frame(
    df: pd.DataFrame, recipe: tuple[CodeElement, ...], roles: Mapping[str, str]
) -> pd.DataFrame:
    cols = {"record_id": df.index.astype(str)}
    for el in recipe:
        cols[pid_column(el.name)] = df[pid_column(el.name)].to_numpy() \
            if pid_column(el.name) in df.columns else None
    for role, column in roles.items():
        cols[role] = df[column].to_numpy() if column in df.columns else None
    return pd.DataFrame(cols).reset_index(drop=True)


def _attrition_comparison(
    waves: Mapping[str, pd.DataFrame],
    match: MatchResult,
    instrument: Instrument,
    roles: Mapping[str, str],
    k_min: int,
) -> dict:
    """Matched vs unmatched baseline respondents (R-ID-07), suppressed, per later wave."""
    from evaluation.scoring import domain_scores

    pre = waves.get("pre")
    if pre is None or pre.empty:
        return {}
    baseline = pd.DataFrame({"record_id": pre.index.astype(str)})
    for role, column in roles.items():
        baseline[role] = pre[column].to_numpy() if column in pre.columns else None
    baseline["readiness"] = domain_scores(pre, instrument, "pre").to_numpy()
    out = {}
    for wave in ("post", "followup"):
        if wave not in waves:
            continue
        table = compare_matched_unmatched(
            baseline, match.linked_ids("pre", wave), covariates=tuple(roles),
            score_column="readiness", k_min=k_min,
        )
        out[f"pre_{wave}"] = json.loads(table.to_json(orient="records"))
    return out


def _file_report(read, validation: WaveValidation) -> dict:
    dialect = getattr(read, "dialect", None)
    unmapped = []
    redactor = Redactor()
    for col, value, count, *_ in read.unmapped or []:
        # closed-answer values only; redacted anyway in case a respondent typed personal data
        shown = redactor.redact(str(value)).text[:60]
        unmapped.append({"column": col, "value": shown, "count": int(count)})
    warnings = []
    for w in getattr(read, "warnings", []) or []:
        code = getattr(w, "code", None)
        message = getattr(w, "message", None)
        warnings.append({"code": code, "message": message} if code else str(w))
    report = validation.summary()
    report.update(
        {
            "sha256": read.sha256,
            "source": read.source,
            "source_reason": read.source_reason,
            "encoding": getattr(read, "encoding", None),
            "encoding_reason": getattr(read, "encoding_reason", None),
            "dialect": None if dialect is None else {
                "delimiter": getattr(dialect, "delimiter", None),
                "decimal": getattr(dialect, "decimal", None),
                "reason": getattr(dialect, "reason", None),
            },
            "warnings": warnings,
            "columns_dropped": list(read.dropped_columns),
            "columns_missing": list(read.missing_columns),
            "unmapped_values": unmapped,
        }
    )
    return report


def _match_report(match: MatchResult) -> dict:
    summary = match.summary()
    return {
        "n_per_wave": dict(summary.n_per_wave),
        "n_participants": int(summary.n_participants),
        "matched_by_tier": summary.matched.to_dict(orient="records"),
        "unmatched_by_cause": summary.unmatched.to_dict(orient="records"),
        "match_rate_pre_post": summary.match_rate_pre_post,
        "match_rate_pre_followup": summary.match_rate_pre_followup,
        "collisions": dict(summary.collisions),
    }


def write_ingest_outputs(
    result: IngestResult,
    reports_root: str | Path = "reports",
    ingest_dir: str | Path | None = None,
) -> Path:
    """Write processed Parquet files, the ingest report and the quarantine.

    The ingest files go to ``ingest_dir`` (default ``<reports_root>/<id>/ingest``), which is
    returned.

    Each of the two folders is all-or-nothing: it is built under a hidden ``.*.partial`` name
    next to its final place and swapped in with :func:`~evaluation.outputs.replace_directory`,
    so an interrupted run leaves the previous complete folder (or none), never a mix of old and
    new files. ``processed/`` is written first: an ``ingest/report.json`` never describes
    processed data that is not there.
    """
    config = result.config
    frames = {f"{wave}.parquet": _parquet_safe(frame) for wave, frame in result.waves.items()}
    frames["participants.parquet"] = _parquet_safe(result.participants)

    def build_processed(tmp: Path) -> None:
        private_dir(tmp)
        for name, frame in frames.items():
            atomic_write_parquet(tmp / name, frame)

    private_dir(replace_directory(config.processed_dir, build_processed))
    ingest_dir = Path(ingest_dir) if ingest_dir is not None else \
        Path(reports_root) / config.id / "ingest"

    def build_ingest(tmp: Path) -> None:
        atomic_write_json(tmp / "report.json", result.report)
        atomic_write_csv(tmp / "quarantine.csv", result.quarantine)

    return replace_directory(ingest_dir, build_ingest)


def _parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: None if v is None or v != v else str(v)
                                    if not isinstance(v, bool) else v)
    return out
