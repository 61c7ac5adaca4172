"""Writing output files safely: atomically, with owner-only permissions where data is personal.

Every file is written to a temporary name in the same folder and moved into place with
:func:`os.replace`, so an interrupted run never leaves a half-written file that looks complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

import pandas as pd

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_write_csv",
    "atomic_write_parquet",
    "replace_directory",
    "private_dir",
]


def _atomic(path: Path, write: Callable[[Path], None], mode: int | None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if mode is not None:
            os.chmod(tmp, mode)
        write(tmp)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` atomically (``mode`` e.g. ``0o600`` for personal data).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from evaluation.outputs import atomic_write_bytes
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = atomic_write_bytes(pathlib.Path(d) / "x.bin", b"abc", mode=0o600)
    ...     oct(p.stat().st_mode & 0o777), p.read_bytes()
    ('0o600', b'abc')
    """
    return _atomic(Path(path), lambda tmp: tmp.write_bytes(data), mode)


def atomic_write_text(path: str | Path, text: str, mode: int | None = None) -> Path:
    """Write UTF-8 ``text`` atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from evaluation.outputs import atomic_write_text
    >>> with tempfile.TemporaryDirectory() as d:
    ...     atomic_write_text(pathlib.Path(d) / "a.txt", "привет").read_text(encoding="utf-8")
    'привет'
    """
    return _atomic(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"), mode)


def atomic_write_json(path: str | Path, data: object, mode: int | None = None) -> Path:
    """Write ``data`` as indented UTF-8 JSON atomically (keys sorted for stable output).

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> from evaluation.outputs import atomic_write_json
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = atomic_write_json(pathlib.Path(d) / "r.json", {"b": 1, "a": "ё"})
    ...     json.loads(p.read_text(encoding="utf-8"))
    {'a': 'ё', 'b': 1}
    """
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n"
    return atomic_write_text(path, text, mode)


def atomic_write_csv(path: str | Path, frame: pd.DataFrame, mode: int | None = None) -> Path:
    """Write ``frame`` as UTF-8 CSV (no index) atomically.

    Text cells that a spreadsheet could run as a formula are neutralised first.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> from evaluation.outputs import atomic_write_csv
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = atomic_write_csv(pathlib.Path(d) / "t.csv", pd.DataFrame({"a": ["=1+1"]}))
    ...     p.read_text(encoding="utf-8").splitlines()
    ['a', "'=1+1"]
    """
    from evaluation.xlsx import neutralize_formula

    safe = frame.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(neutralize_formula)
    return _atomic(
        Path(path), lambda tmp: safe.to_csv(tmp, index=False, lineterminator="\n"), mode
    )


def atomic_write_parquet(path: str | Path, frame: pd.DataFrame, mode: int = 0o600) -> Path:
    """Write ``frame`` as Parquet atomically, owner-only by default (personal data).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> from evaluation.outputs import atomic_write_parquet
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = atomic_write_parquet(pathlib.Path(d) / "t.parquet", pd.DataFrame({"a": [1]}))
    ...     oct(p.stat().st_mode & 0o777)
    '0o600'
    """
    return _atomic(Path(path), lambda tmp: frame.to_parquet(tmp, index=True), mode)


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (and parents) and make it owner-only (``0o700``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from evaluation.outputs import private_dir
    >>> with tempfile.TemporaryDirectory() as d:
    ...     oct(private_dir(pathlib.Path(d) / "processed").stat().st_mode & 0o777)
    '0o700'
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def replace_directory(target: str | Path, build: Callable[[Path], None]) -> Path:
    """Build a whole output folder in a temporary sibling, then swap it into place.

    If ``build`` fails or the process is killed, ``target`` keeps its previous content (or does
    not exist) and the temporary folder is removed (or left with a ``.partial`` name that no
    reader mistakes for a result).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from evaluation.outputs import replace_directory
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = replace_directory(pathlib.Path(d) / "r", lambda p: (p / "a.txt").write_text("1"))
    ...     sorted(x.name for x in out.iterdir())
    ['a.txt']
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        build(tmp)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.{os.getpid()}.old.partial")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def library_versions(names: Sequence[str]) -> dict[str, str | None]:
    """Installed version of each library (``None`` when it is not installed), for provenance.

    Examples
    --------
    >>> from evaluation.outputs import library_versions
    >>> versions = library_versions(["pandas", "no-such-library"])
    >>> versions["pandas"] is not None, versions["no-such-library"]
    (True, None)
    """
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions
