"""PNG figures go into the PDF as their own IDAT data, with the same pixels."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from evaluation.pdfimages import idat_stream, install
from evaluation.render import html_to_pdf


def _png(mode: str = "RGB", size: tuple[int, int] = (40, 30), **save: object) -> bytes:
    rng = np.random.default_rng(7)
    channels = {"RGB": 3, "L": 1, "RGBA": 4}[mode]
    pixels = rng.integers(0, 256, size=(size[1], size[0], channels), dtype=np.uint8)
    image = Image.fromarray(pixels.squeeze() if channels == 1 else pixels, mode)
    buffer = io.BytesIO()
    image.save(buffer, format="png", **save)
    return buffer.getvalue()


def _idat_span(png: bytes) -> tuple[int, int]:
    start = png.index(b"IDAT") + 4
    (length,) = struct.unpack(">I", png[start - 8:start - 4])
    return start, length


def _flip_data_byte(png: bytes) -> bytes:
    """Change one byte inside the IDAT data; the chunk's CRC no longer matches."""
    start, length = _idat_span(png)
    middle = start + length // 2
    return png[:middle] + bytes([png[middle] ^ 0xFF]) + png[middle + 1:]


def _with_trailing_junk(png: bytes) -> bytes:
    """Append bytes after the zlib stream inside IDAT, with a correct CRC."""
    start, length = _idat_span(png)
    data = png[start:start + length] + b"junk"
    chunk = (struct.pack(">I", len(data)) + b"IDAT" + data
             + struct.pack(">I", zlib.crc32(b"IDAT" + data)))
    return png[:start - 8] + chunk + png[start + length + 4:]


def test_rgb_and_grey_qualify():
    for mode in ("RGB", "L"):
        png = _png(mode)
        stream = idat_stream(png)
        assert stream is not None
        width, height, channels = 40, 30, 3 if mode == "RGB" else 1
        assert len(zlib.decompress(stream)) == height * (1 + width * channels)


@pytest.mark.parametrize("png", [
    pytest.param(_png("RGBA"), id="alpha"),
    pytest.param(_png("RGB", transparency=(0, 0, 0)), id="tRNS"),
    pytest.param(_flip_data_byte(_png("RGB")), id="bad-crc"),
    pytest.param(_with_trailing_junk(_png("RGB")), id="junk-after-zlib"),
    pytest.param(b"GIF89a", id="not-png"),
    pytest.param(_png("RGB")[:60], id="truncated"),
])
def test_other_images_take_weasyprints_path(png):
    assert idat_stream(png) is None


def test_palette_and_16_bit_do_not_qualify():
    buffer = io.BytesIO()
    Image.new("P", (4, 4)).save(buffer, format="png")
    assert idat_stream(buffer.getvalue()) is None
    buffer = io.BytesIO()
    Image.new("I;16", (4, 4)).save(buffer, format="png")
    header = buffer.getvalue()[16:29]
    assert struct.unpack(">IIB", header[:9])[2] == 16
    assert idat_stream(buffer.getvalue()) is None


def _image_streams(pdf) -> list:
    reader = PdfReader(pdf)
    found = []
    for page in reader.pages:
        objects = page["/Resources"].get("/XObject", {})
        for name in objects:
            obj = objects[name].get_object()
            if obj.get("/Subtype") == "/Image":
                found.append(obj)
    return reader, found


def test_pdf_holds_the_png_data_unchanged_and_the_same_pixels(tmp_path):
    assert install()
    png = _png("RGB", size=(120, 80), compress_level=1)
    page = ('<!DOCTYPE html><html><meta charset="utf-8"><body>'
            f'<img alt="chart" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
            "</body></html>")
    pdf = html_to_pdf(page, tmp_path / "r.pdf")
    reader, images = _image_streams(pdf)
    [image] = images
    assert image._data == idat_stream(png)  # copied, not encoded again
    assert image["/DecodeParms"]["/Predictor"] == 15
    drawn = np.asarray(reader.pages[0].images[0].image.convert("RGB"))
    assert (drawn == np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))).all()


def test_grey_png_is_copied_with_one_colour_component(tmp_path):
    assert install()
    png = _png("L", size=(30, 20))
    page = ('<!DOCTYPE html><html><body>'
            f'<img alt="grey" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
            "</body></html>")
    reader, images = _image_streams(html_to_pdf(page, tmp_path / "g.pdf"))
    [image] = images
    assert image._data == idat_stream(png)
    assert image["/ColorSpace"] == "/DeviceGray"
    drawn = np.asarray(reader.pages[0].images[0].image.convert("L"))
    assert (drawn == np.asarray(Image.open(io.BytesIO(png)))).all()


def test_transparent_png_still_gets_a_soft_mask(tmp_path):
    install()
    png = _png("RGBA", size=(20, 10))
    page = ('<!DOCTYPE html><html><body>'
            f'<img alt="x" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
            "</body></html>")
    _, images = _image_streams(html_to_pdf(page, tmp_path / "a.pdf"))
    assert "/SMask" in images[0]
