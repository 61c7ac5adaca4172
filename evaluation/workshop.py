"""Read and validate ``workshop.yaml``, the description of one workshop folder.

A workshop folder holds ``workshop.yaml`` and the survey exports as received. The configuration
names the instrument, the file and export dialect of each wave, the expected participation, the
privacy settings and, optionally, the results framework (indicators with targets).

Every path in ``workshop.yaml`` must stay inside the workshop folder: absolute paths and paths
that climb out of it (``../``) are refused, so a configuration can never make the toolkit read
another file of the machine.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evaluation.errors import InstrumentError, WorkshopConfigError
from evaluation.instrument import (
    FORM_WAVES,
    Instrument,
    find_instrument,
    load_instrument,
    yaml_structure_problem,
)

__all__ = [
    "SOURCES",
    "WaveSource",
    "PrivacySettings",
    "IngestSettings",
    "WorkshopConfig",
    "load_workshop",
    "find_workshops",
]

#: Export dialects a wave file may come in (``auto`` detects from the header).
SOURCES = ("auto", "kobo", "odk", "limesurvey", "qualtrics", "generic")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_INGEST_KEYS = {"encoding", "unmapped_values", "max_mismatch", "max_file_mb", "max_columns"}
_TOP_KEYS = {
    "id", "title", "synthetic", "dates", "location", "project", "phase", "evaluator",
    "organizers", "donor", "languages", "instrument", "waves", "expected", "privacy", "ingest",
    "roster", "results_framework", "open_answers", "description", "agenda",
}


@dataclass(frozen=True)
class WaveSource:
    """Where one wave's export lives and how it was exported."""

    wave: str
    file: Path
    source: str = "auto"
    sheet: str | None = None
    header_map: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PrivacySettings:
    """Disclosure and pseudonymisation settings of a workshop."""

    k_min: int = 5
    key_env: str = "EVALUATION_PSEUDONYM_KEY"
    key_file: Path | None = None
    demo_key: bool = False
    hide_small_groups: bool = False


@dataclass(frozen=True)
class IngestSettings:
    """How exports are read: legacy code page, unmapped-value policy, matching tolerance."""

    encoding: str = "cp1251"
    unmapped_values: str = "quarantine"
    max_mismatch: int = 1
    max_file_mb: float = 200.0
    max_columns: int = 5_000
    duplicate_policy: str = "most_complete_then_latest"


@dataclass(frozen=True)
class WorkshopConfig:
    """A validated ``workshop.yaml``.

    Examples
    --------
    >>> from pathlib import Path
    >>> from evaluation.workshop import load_workshop
    >>> ws = load_workshop(Path("demo-workshops/astana-2018-05"))
    >>> ws.id, ws.phase, sorted(ws.waves)
    ('astana-2018-05', 'III', ['followup', 'post', 'pre'])
    """

    id: str
    folder: Path
    title: Mapping[str, str]
    instrument_ref: str
    waves: Mapping[str, WaveSource]
    synthetic: bool = False
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    location: Mapping[str, str] = field(default_factory=dict)
    project: str = ""
    phase: str = ""
    evaluator: str = ""
    donor: str = ""
    languages: tuple[str, ...] = ("en", "ru")
    expected: Mapping[str, Any] = field(default_factory=dict)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    roster: Path | None = None
    results_framework: Any = None
    reviewed_open_items: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)

    def load_instrument(self) -> Instrument:
        """Load the instrument this workshop used.

        An instrument that cannot be found is an error of ``workshop.yaml`` (key
        ``instrument``); an instrument file with problems raises :class:`InstrumentError`.
        """
        try:
            path = find_instrument(self.instrument_ref, self.folder)
        except InstrumentError as exc:
            raise WorkshopConfigError(
                self.folder / "workshop.yaml", "instrument",
                f"names {self.instrument_ref!r}, but {' '.join(exc.problems)[:1].lower()}"
                f"{' '.join(exc.problems)[1:]}",
            ) from None
        return load_instrument(path)

    def text(self, field_name: str, language: str) -> str:
        """A bilingual field (``title`` or ``location``) in ``language``."""
        value = getattr(self, field_name)
        return value.get(language) or value.get("en") or next(iter(value.values()), "")

    @property
    def processed_dir(self) -> Path:
        """Where pseudonymised processed data of this workshop is written (never reports/)."""
        return self.folder / "processed"


def _texts(value: Any, key: str, path: Path) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"en": value}
    if isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    raise WorkshopConfigError(path, key, "must be a text or a mapping of language to text.")


def _date(value: Any, key: str, path: Path) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise WorkshopConfigError(path, key, "must be a date written as YYYY-MM-DD.") from None


def _inside(folder: Path, name: Any, key: str, path: Path) -> Path:
    if not isinstance(name, str) or not name.strip():
        raise WorkshopConfigError(path, key, "must be a file name inside the workshop folder.")
    candidate = Path(name)
    if candidate.is_absolute() or ".." in candidate.parts:
        raise WorkshopConfigError(
            path, key, "must name a file inside the workshop folder, not an absolute path or "
            "a path that leaves the folder."
        )
    resolved = (folder / candidate).resolve()
    if folder.resolve() not in resolved.parents:
        raise WorkshopConfigError(path, key, "points outside the workshop folder.")
    return folder / candidate


def _scalar(value: Any, key: str, path: Path) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float | dt.date) and not isinstance(value, bool):
        return str(value)
    raise WorkshopConfigError(path, key, "must be a single text, not a list or a mapping.")


def _int(value: Any, key: str, path: Path, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WorkshopConfigError(path, key, "must be a whole number.")
    if value < minimum:
        raise WorkshopConfigError(path, key, f"must be at least {minimum}.")
    return value


def load_workshop(folder: str | Path) -> WorkshopConfig:
    """Read ``workshop.yaml`` from a workshop folder and validate it.

    Parameters
    ----------
    folder : str or Path
        The workshop folder (or the path of its ``workshop.yaml``).

    Returns
    -------
    WorkshopConfig

    Raises
    ------
    WorkshopConfigError
        One sentence naming the key that is missing or wrong.

    Examples
    --------
    >>> from evaluation.workshop import load_workshop
    >>> load_workshop("demo-workshops/astana-2018-05").privacy.k_min
    5
    """
    folder = Path(folder)
    if folder.name == "workshop.yaml":
        folder = folder.parent
    path = folder / "workshop.yaml"
    if folder.exists() and not folder.is_dir():
        raise WorkshopConfigError(
            None, None, f"{folder.name!r} is a file, not a workshop folder; give the folder "
            "that holds workshop.yaml."
        )
    if not folder.is_dir():
        raise WorkshopConfigError(
            None, None, f"the workshop folder {folder.name!r} does not exist."
        )
    if not path.is_file():
        raise WorkshopConfigError(path, None, f"the folder {folder.name!r} has no workshop.yaml.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise WorkshopConfigError(path, None, "the file is not UTF-8 text.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise WorkshopConfigError(
            path, None, f"the file is not valid YAML{where}; note that YAML tags that build "
            "Python objects are not allowed."
        ) from None
    if not isinstance(data, Mapping):
        raise WorkshopConfigError(path, None, "the file must be a YAML mapping of keys.")
    problem = yaml_structure_problem(data)
    if problem:
        raise WorkshopConfigError(path, None, f"the file cannot be used: {problem}.")
    unknown = sorted(set(map(str, data)) - _TOP_KEYS)
    if unknown:
        raise WorkshopConfigError(path, unknown[0], "is not a known key of workshop.yaml.")

    ws_id = data.get("id")
    if ws_id is None:
        raise WorkshopConfigError(path, "id", "is missing; give the workshop a short id.")
    if not isinstance(ws_id, str) or not _SLUG.match(ws_id):
        raise WorkshopConfigError(
            path, "id", "must be letters, digits, '-', '_' or '.', at most 80 characters."
        )
    instrument_ref = data.get("instrument")
    if not isinstance(instrument_ref, str) or not instrument_ref.strip():
        raise WorkshopConfigError(
            path, "instrument", "is missing; name an instrument such as pvect-readiness@2.0."
        )
    if Path(instrument_ref.strip()).suffix in {".yaml", ".yml"} or "/" in instrument_ref \
            or "\\" in instrument_ref:
        # a path: like every other file of workshop.yaml, it must stay inside the folder
        _inside(folder, instrument_ref.strip(), "instrument", path)

    raw_waves = data.get("waves")
    if not isinstance(raw_waves, Mapping) or not raw_waves:
        raise WorkshopConfigError(path, "waves", "must map each wave (pre, post, followup) to "
                                  "its export file.")
    waves = {}
    for wave, spec in raw_waves.items():
        key = f"waves.{wave}"
        if wave not in FORM_WAVES:
            raise WorkshopConfigError(path, key, "is not a wave; use pre, post or followup.")
        if isinstance(spec, str):
            spec = {"file": spec}
        if not isinstance(spec, Mapping):
            raise WorkshopConfigError(path, key, "must give at least 'file'.")
        file = _inside(folder, spec.get("file"), f"{key}.file", path)
        source = spec.get("source", "auto")
        if source not in SOURCES:
            raise WorkshopConfigError(path, f"{key}.source",
                                      f"must be one of {', '.join(SOURCES)}.")
        header_map = spec.get("header_map") or {}
        if not isinstance(header_map, Mapping):
            raise WorkshopConfigError(path, f"{key}.header_map",
                                      "must map export headers to item ids.")
        sheet = spec.get("sheet")
        if sheet is not None and not isinstance(sheet, str):
            raise WorkshopConfigError(path, f"{key}.sheet", "must be a sheet name.")
        waves[wave] = WaveSource(wave, file, source, sheet,
                                 {str(k): str(v) for k, v in header_map.items()})

    dates = data.get("dates") or {}
    if not isinstance(dates, Mapping):
        raise WorkshopConfigError(path, "dates", "must give start and end dates.")
    start = _date(dates.get("start"), "dates.start", path)
    end = _date(dates.get("end"), "dates.end", path) or start
    if start and end and end < start:
        raise WorkshopConfigError(path, "dates.end", "is before dates.start.")

    priv = data.get("privacy") or {}
    if not isinstance(priv, Mapping):
        raise WorkshopConfigError(path, "privacy", "must be a mapping.")
    k_min = _int(priv.get("k_min", 5), "privacy.k_min", path, 3)
    key_file = priv.get("key_file")
    privacy = PrivacySettings(
        k_min=k_min,
        key_env=str(priv.get("key_env", "EVALUATION_PSEUDONYM_KEY")),
        key_file=Path(key_file).expanduser() if key_file else None,
        demo_key=bool(priv.get("demo_key", False)),
        hide_small_groups=bool(priv.get("hide_small_groups", False)),
    )
    ing = data.get("ingest") or {}
    if not isinstance(ing, Mapping):
        raise WorkshopConfigError(path, "ingest", "must be a mapping.")
    unknown_ingest = sorted(set(map(str, ing)) - _INGEST_KEYS)
    if unknown_ingest:
        raise WorkshopConfigError(
            path, f"ingest.{unknown_ingest[0]}",
            f"is not a known key of ingest (known: {', '.join(sorted(_INGEST_KEYS))}).",
        )
    policy = ing.get("unmapped_values", "quarantine")
    if policy not in ("quarantine", "stop"):
        raise WorkshopConfigError(path, "ingest.unmapped_values", "must be quarantine or stop.")
    encoding = str(ing.get("encoding", "cp1251"))
    if encoding not in ("cp1251", "kz1048", "utf-8", "cp866", "koi8-r"):
        raise WorkshopConfigError(path, "ingest.encoding",
                                  "must be cp1251, kz1048, cp866, koi8-r or utf-8.")
    max_file_mb = ing.get("max_file_mb", 200)
    if isinstance(max_file_mb, bool) or not isinstance(max_file_mb, int | float) \
            or max_file_mb <= 0:
        raise WorkshopConfigError(path, "ingest.max_file_mb", "must be a positive number.")
    ingest = IngestSettings(
        encoding=encoding,
        unmapped_values=policy,
        max_mismatch=_int(ing.get("max_mismatch", 1), "ingest.max_mismatch", path, 0),
        max_file_mb=float(max_file_mb),
        max_columns=_int(ing.get("max_columns", 5_000), "ingest.max_columns", path, 1),
    )
    if ingest.max_mismatch > 2:
        raise WorkshopConfigError(path, "ingest.max_mismatch", "must be 0, 1 or 2.")

    languages = data.get("languages", ["en", "ru"])
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        raise WorkshopConfigError(path, "languages", "must be a list such as [en, ru].")
    expected = data.get("expected") or {}
    if not isinstance(expected, Mapping):
        raise WorkshopConfigError(path, "expected", "must be a mapping.")
    roster = data.get("roster")
    roster_path = _inside(folder, roster, "roster", path) if roster else None
    open_answers = data.get("open_answers") or {}
    reviewed = open_answers.get("reviewed", []) if isinstance(open_answers, Mapping) else []
    if not isinstance(reviewed, list):
        raise WorkshopConfigError(path, "open_answers.reviewed", "must be a list of item ids.")
    framework = data.get("results_framework")
    if isinstance(framework, str):
        framework = _inside(folder, framework, "results_framework", path)

    return WorkshopConfig(
        id=ws_id,
        folder=folder,
        title=_texts(data.get("title"), "title", path) or {"en": ws_id},
        instrument_ref=instrument_ref.strip(),
        waves=waves,
        synthetic=bool(data.get("synthetic", False)),
        start_date=start,
        end_date=end,
        location=_texts(data.get("location"), "location", path),
        project=_scalar(data.get("project"), "project", path),
        phase=_scalar(data.get("phase"), "phase", path),
        evaluator=_scalar(data.get("evaluator"), "evaluator", path),
        donor=_scalar(data.get("donor"), "donor", path),
        languages=tuple(languages),
        expected=dict(expected),
        privacy=privacy,
        ingest=ingest,
        roster=roster_path,
        results_framework=framework,
        reviewed_open_items=tuple(str(x) for x in reviewed),
        raw=dict(data),
    )


def find_workshops(root: str | Path) -> list[Path]:
    """Workshop folders under ``root``: every folder holding a ``workshop.yaml``, sorted.

    Examples
    --------
    >>> from evaluation.workshop import find_workshops
    >>> len(find_workshops("demo-workshops")) >= 7
    True
    """
    root = Path(root)
    return sorted(p.parent for p in root.rglob("workshop.yaml"))
