"""Readers: turn survey export files into tables of strings, recording every choice made.

:mod:`evaluation.readers.decoding` decodes bytes (encoding cascade, no silent guess), sniffs the
CSV dialect and reads CSV/TSV/TXT and XLSX exports into a :class:`RawTable` of strings.
Further reader modules (header-to-item mapping, source-specific exports) live next to it.
"""

from __future__ import annotations

from evaluation.readers.decoding import (
    DecodedText,
    Dialect,
    RawTable,
    ReadWarning,
    decode_bytes,
    fold_for_matching,
    normalize_cell,
    parse_excel_serial_date,
    parse_number,
    read_table,
    sniff_dialect,
)
from evaluation.readers.sources import WaveRead, detect_source, read_wave

__all__ = [
    "DecodedText",
    "Dialect",
    "RawTable",
    "ReadWarning",
    "decode_bytes",
    "fold_for_matching",
    "normalize_cell",
    "parse_excel_serial_date",
    "parse_number",
    "read_table",
    "sniff_dialect",
    "WaveRead",
    "detect_source",
    "read_wave",
]
