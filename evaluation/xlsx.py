"""Write XLSX workbooks that are safe and reproducible.

Every workbook the toolkit writes goes through :func:`write_workbook`:

- string cells are always stored as text, never as formulas; with ``escape_formulas=True``
  a text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with an
  apostrophe, so that no spreadsheet program would run it even after a copy-paste or a CSV
  round trip (OWASP "CSV injection"); a plain number such as ``-0.05`` is not such a text;
- :func:`write_tables` (the annexes) stores numbers as numeric cells, also when a display
  table gives them as text (``"0.80"``, ``"-0.05"``), with the number of decimals shown;
- no hidden sheets, no pivot caches, no macros;
- timestamps inside the file are fixed, so the same content gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

__all__ = [
    "FORMULA_PREFIXES",
    "neutralize_formula",
    "write_workbook",
    "write_tables",
    "round_floats",
    "normalize_xlsx_bytes",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A number as the display tables write it: optional minus, no leading zero, optional decimals.
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.([0-9]+))?")
_FIXED_TIME = "2000-01-01T00:00:00Z"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def neutralize_formula(value: object) -> object:
    """Prefix text that a spreadsheet could run as a formula with an apostrophe.

    Numbers are left alone (``-3`` stays a number), and so is text that is nothing but a plain
    number (``"-0.05"``: a spreadsheet reads it as that number, it runs nothing); only other
    text starting with ``= + - @``, tab or carriage return is changed.

    Examples
    --------
    >>> from evaluation.xlsx import neutralize_formula
    >>> neutralize_formula("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralize_formula(-3), neutralize_formula("ok"), neutralize_formula("-0.05")
    (-3, 'ok', '-0.05')
    >>> neutralize_formula("-0.05 – 0.80"), neutralize_formula("-1+2")
    ("'-0.05 – 0.80", "'-1+2")
    """
    if (isinstance(value, str) and value.startswith(FORMULA_PREFIXES)
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def write_workbook(
    sheets: Mapping[str, Sequence[Sequence[object]]],
    path: str | Path,
    *,
    escape_formulas: bool = False,
    bold_header: bool = True,
    column_widths: Mapping[str, Sequence[float]] | None = None,
    number_formats: Mapping[str, Mapping[tuple[int, int], str]] | None = None,
) -> Path:
    """Write ``sheets`` (name → rows, first row = header) to an XLSX file at ``path``.

    Parameters
    ----------
    sheets : mapping
        Sheet name (at most 31 characters) → list of rows.
    path : str or Path
        Output file; written to a temporary name first and moved into place.
    escape_formulas : bool
        Prefix text starting with ``= + - @`` with an apostrophe (see
        :func:`neutralize_formula`). Text cells are never stored as formulas either way.
    bold_header : bool
        Make the first row bold and freeze it.
    column_widths : mapping, optional
        Sheet name → widths of its columns.
    number_formats : mapping, optional
        Sheet name → ``{(row, column): Excel number format}`` (1-based, as openpyxl counts)
        for numeric cells, e.g. ``"0.00"`` to show two decimals.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from openpyxl import load_workbook
    >>> from evaluation.xlsx import write_workbook
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = write_workbook({"t": [["a"], ["=1+1"]]}, pathlib.Path(tmp) / "x.xlsx")
    ...     load_workbook(p)["t"]["A2"].data_type
    's'
    """
    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for name, rows in sheets.items():
        ws = wb.create_sheet(title=str(name)[:31])
        formats = (number_formats or {}).get(name, {})
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values, start=1):
                if value is None:
                    continue
                if escape_formulas:
                    value = neutralize_formula(value)
                cell = ws.cell(row=r, column=c)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"
                elif (r, c) in formats:
                    cell.number_format = formats[r, c]
                if bold_header and r == 1:
                    cell.font = bold
        if bold_header and rows:
            ws.freeze_panes = "A2"
        widths = (column_widths or {}).get(name)
        if widths:
            from openpyxl.utils import get_column_letter

            for i, width in enumerate(widths, start=1):
                ws.column_dimensions[get_column_letter(i)].width = width
    buffer = io.BytesIO()
    wb.save(buffer)
    data = normalize_xlsx_bytes(buffer.getvalue())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def round_floats(frame: pd.DataFrame, digits: int = 6) -> pd.DataFrame:
    """A copy of ``frame`` with float columns rounded (stable CSV and XLSX output).

    Values are rounded to ``digits`` decimals, except those below ``10**(3 - digits)`` in size
    (0.001 for 6 digits), which keep three significant digits: a p-value of 2.3e-8 must not
    become 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.xlsx import round_floats
    >>> round_floats(pd.DataFrame({"x": [1 / 3, 2.345678e-8, 0.0], "n": [3, 4, 5]}))["x"].tolist()
    [0.333333, 2.35e-08, 0.0]
    """
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            values = out[col]
            small = values.notna() & (values != 0) & (values.abs() < 10.0 ** (3 - digits))
            rounded = values.round(digits)
            if small.any():
                rounded[small] = [float(f"{v:.3g}") for v in values[small]]
            out[col] = rounded
    return out


def _cell(value: object) -> tuple[object, str | None]:
    """A value openpyxl can store, and the number format that shows it as the table does.

    Missing or empty → no cell; numpy scalars → Python; a text that is a plain number (a
    display table's ``"0.80"``, ``"-0.05"``, ``"26"``) → that number, shown with as many
    decimals; ``"True"``/``"False"`` → a boolean; any other text stays text.

    Examples
    --------
    >>> from evaluation.xlsx import _cell
    >>> _cell("-0.05"), _cell("0.80"), _cell("26"), _cell("False")
    ((-0.05, '0.00'), (0.8, '0.00'), (26, None), (False, None))
    >>> _cell("<5"), _cell("-0.05 – 0.80"), _cell("007"), _cell(""), _cell(float("nan"))
    (('<5', None), ('-0.05 – 0.80', None), ('007', None), (None, None), (None, None))
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None, None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool | int | float):
        return value, None
    if not isinstance(value, str):
        return str(value), None
    if value == "":
        return None, None
    if value in ("True", "False"):
        return value == "True", None
    match = _PLAIN_NUMBER.fullmatch(value)
    if match is None:
        return value, None
    decimals = match.group(1)
    if decimals is None:
        return int(value), None
    number = float(value)
    return (number if number != 0 else 0.0), "0." + "0" * len(decimals)


def write_tables(tables: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write each table as a sheet (header row = column names), formulas neutralised.

    This is how every ``annex.xlsx`` is written: published tables only, no index, no hidden
    sheet, no pivot cache. Numbers are numeric cells, also those a display table holds as text
    (see :func:`_cell`): a reader can compute with them. Only the remaining text is checked for
    a leading formula character.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> from openpyxl import load_workbook
    >>> from evaluation.xlsx import write_tables
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = write_tables({"items": pd.DataFrame({"a": [1.5, None], "b": ["=x", "y"],
    ...                                              "c": ["-0.05", "-0.05 – 0.80"]})},
    ...                      pathlib.Path(tmp) / "annex.xlsx")
    ...     for row in load_workbook(p)["items"].iter_rows():
    ...         print([(c.value, c.data_type) for c in row])
    [('a', 's'), ('b', 's'), ('c', 's')]
    [(1.5, 'n'), ("'=x", 's'), (-0.05, 'n')]
    [(None, 'n'), ('y', 's'), ("'-0.05 – 0.80", 's')]
    """
    sheets: dict[str, list[list[object]]] = {}
    formats: dict[str, dict[tuple[int, int], str]] = {}
    for name, frame in tables.items():
        sheet = str(name)[:31]
        rows: list[list[object]] = [list(map(str, frame.columns))]
        fmt = formats.setdefault(sheet, {})
        for r, rec in enumerate(round_floats(frame).itertuples(index=False), start=2):
            row = []
            for c, v in enumerate(rec, start=1):
                value, number_format = _cell(v)
                if number_format is not None:
                    fmt[r, c] = number_format
                row.append(value)
            rows.append(row)
        sheets[sheet] = rows
    return write_workbook(sheets, path, escape_formulas=True, number_formats=formats)


def normalize_xlsx_bytes(data: bytes) -> bytes:
    """Rewrite an XLSX archive with fixed timestamps so equal content gives equal bytes.

    Examples
    --------
    >>> import io, zipfile
    >>> from evaluation.xlsx import normalize_xlsx_bytes
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as zf:
    ...     zf.writestr("a.txt", "x")
    >>> normalize_xlsx_bytes(buf.getvalue()) == normalize_xlsx_bytes(buf.getvalue())
    True
    """
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                text = re.sub(
                    r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    lambda m: m.group(1) + _FIXED_TIME + m.group(3),
                    text,
                )
                content = text.encode("utf-8")
            zinfo = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            zinfo.compress_type = zipfile.ZIP_DEFLATED
            zinfo.external_attr = 0o600 << 16
            dst.writestr(zinfo, content)
    return out.getvalue()
