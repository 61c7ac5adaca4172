"""Embed the report's PNG figures in the PDF as they are, without decoding and re-encoding them.

WeasyPrint (60-70) writes every raster image that is not a JPEG by decoding it with Pillow,
encoding it again as a PNG at zlib's default level and copying that PNG's ``IDAT`` data into the
PDF (a PDF image with ``/FlateDecode`` and the PNG predictor, ISO 32000-1 §7.4.4.4). For a PNG
that is already 8-bit RGB or greyscale, not interlaced and without transparency -- what
:mod:`evaluation.figures` writes -- its own ``IDAT`` data is exactly such a stream, so the
decode and the re-encode (about 0.4 s for a report's figures) can be skipped. The pixels in the
PDF are the same; only the zlib compression differs.

:func:`install` wraps ``weasyprint.images.RasterImage._get_png_data`` once: PNG files that
qualify go through unchanged, everything else (JPEG, palettes, transparency, 16-bit, interlaced,
and any image WeasyPrint has itself converted) takes WeasyPrint's own path. If a WeasyPrint
release no longer has that method, nothing is changed and WeasyPrint's path is used.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3}  # PNG colour type -> samples per pixel (greyscale, truecolour)


def idat_stream(png: bytes) -> bytes | None:
    """The concatenated ``IDAT`` data of a PNG a PDF can use directly, else None.

    Qualifies: bit depth 8, colour type 0 (grey) or 2 (RGB), no interlacing, no ``tRNS``
    (transparency) chunk, intact chunk CRCs, and data that inflates to exactly one filter byte
    plus one row of samples per line.

    Parameters
    ----------
    png : bytes
        A PNG file.

    Returns
    -------
    bytes or None

    Examples
    --------
    >>> import io, zlib
    >>> from PIL import Image
    >>> from evaluation.pdfimages import idat_stream
    >>> buffer = io.BytesIO()
    >>> Image.new("RGB", (3, 2), "white").save(buffer, format="png")
    >>> data = idat_stream(buffer.getvalue())
    >>> len(zlib.decompress(data)) == 2 * (1 + 3 * 3)  # a filter byte and 3 RGB pixels a row
    True
    >>> buffer = io.BytesIO()
    >>> Image.new("RGBA", (3, 2)).save(buffer, format="png")
    >>> idat_stream(buffer.getvalue()) is None
    True
    """
    if not png.startswith(_SIGNATURE):
        return None
    position, parts, header = len(_SIGNATURE), [], None
    while position + 12 <= len(png):
        (length,) = struct.unpack_from(">I", png, position)
        kind = png[position + 4:position + 8]
        end = position + 8 + length
        if end + 4 > len(png):
            return None
        data = png[position + 8:end]
        (crc,) = struct.unpack_from(">I", png, end)
        if zlib.crc32(kind + data) != crc:
            return None
        if kind == b"IHDR":
            header = data
        elif kind == b"tRNS":
            return None
        elif kind == b"IDAT":
            parts.append(data)
        elif kind == b"IEND":
            break
        position = end + 4
    if header is None or len(header) != 13 or not parts:
        return None
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in _CHANNELS or interlace != 0:
        return None
    stream = b"".join(parts)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(stream) + inflater.flush()
    except zlib.error:
        return None
    if not inflater.eof or inflater.unused_data:  # truncated, or data after the zlib stream
        return None
    if len(raw) != height * (1 + width * _CHANNELS[colour]):
        return None
    return stream


def _source_bytes(pillow_image: Any) -> bytes | None:
    """The file a Pillow image was opened from, if it is an untouched in-memory PNG."""
    if getattr(pillow_image, "format", None) != "PNG":
        return None
    source = getattr(pillow_image, "fp", None)
    if isinstance(source, io.BytesIO):
        return source.getvalue()
    return None


def install() -> bool:
    """Let WeasyPrint copy qualifying PNG data into the PDF (idempotent).

    Returns
    -------
    bool
        Whether the pass-through is active.

    Examples
    --------
    >>> from evaluation.pdfimages import install
    >>> install()  # False would mean this WeasyPrint release no longer has the method
    True
    >>> install()  # installing twice wraps once
    True
    """
    try:
        from weasyprint.images import RasterImage
    except ImportError:
        return False
    current = RasterImage.__dict__.get("_get_png_data")
    if current is None or not isinstance(current, staticmethod):
        return False
    original = current.__func__
    if getattr(original, "_evaluation_passthrough", False):
        return True

    def get_png_data(pillow_image: Any) -> bytes:
        png = _source_bytes(pillow_image)
        stream = idat_stream(png) if png is not None else None
        return stream if stream is not None else original(pillow_image)

    get_png_data._evaluation_passthrough = True  # type: ignore[attr-defined]
    get_png_data.__wrapped__ = original  # type: ignore[attr-defined]
    RasterImage._get_png_data = staticmethod(get_png_data)
    return True
