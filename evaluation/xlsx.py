"""Write XLSX workbooks that are safe and reproducible.

Every workbook the toolkit writes goes through :func:`write_workbook`:

- string cells are always stored as text, never as formulas; with ``escape_formulas=True``
  (the default) a text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is
  prefixed with an apostrophe, so that no spreadsheet program would run it even after a
  copy-paste or a CSV round trip (OWASP "CSV injection");
- no hidden sheets, no pivot caches, no macros;
- timestamps inside the file are fixed, so the same content gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

__all__ = ["FORMULA_PREFIXES", "neutralize_formula", "write_workbook", "normalize_xlsx_bytes"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FIXED_TIME = "2000-01-01T00:00:00Z"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def neutralize_formula(value: object) -> object:
    """Prefix text that a spreadsheet could run as a formula with an apostrophe.

    Numbers are left alone (``-3`` stays a number); only text is changed.

    Examples
    --------
    >>> from evaluation.xlsx import neutralize_formula
    >>> neutralize_formula("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralize_formula(-3), neutralize_formula("ok")
    (-3, 'ok')
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_workbook(
    sheets: Mapping[str, Sequence[Sequence[object]]],
    path: str | Path,
    *,
    escape_formulas: bool = False,
    bold_header: bool = True,
    column_widths: Mapping[str, Sequence[float]] | None = None,
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
    for name, rows in sheets.items():
        ws = wb.create_sheet(title=str(name)[:31])
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
                if bold_header and r == 1:
                    cell.font = Font(bold=True)
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
