"""The rendered report opens in a real browser: headless Chromium draws a non-blank first screen.

Skips (with the reason) when Debian's ``chromium`` is not installed; CI installs it when it can.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from evaluation.report import run_report

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "demo-workshops" / "astana-2018-05"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                       "(apt-get install -y chromium)"),
]


def _screenshot(page: Path, png: Path, profile: Path) -> None:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", f"--user-data-dir={profile}", f"--screenshot={png}",
           "--window-size=1280,900", page.resolve().as_uri()]
    env = {**os.environ, "HOME": str(profile)}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert png.is_file(), f"no screenshot (exit {done.returncode}): {done.stderr[-1500:]}"


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    work = tmp / "astana-2018-05"
    shutil.copytree(FLAGSHIP, work, ignore=shutil.ignore_patterns("processed"))
    paths = run_report(work, tmp / "out", language="ru")
    return paths["html"]


def test_first_screen_is_drawn(report_html, tmp_path):
    from matplotlib.image import imread

    png = tmp_path / "screen.png"
    _screenshot(report_html, png, tmp_path / "profile")
    pixels = imread(png)
    assert pixels.shape[:2] == (900, 1280)
    rgb = (pixels[..., :3] * 255).round().astype(np.uint8).reshape(-1, 3)
    colours = np.unique(rgb, axis=0)
    white = np.all(rgb >= 250, axis=1).mean()
    # text (anti-aliased), the yellow synthetic banner and the blue headings
    assert len(colours) > 50, len(colours)
    assert white < 0.97, white
    banner = np.all(np.abs(rgb.astype(int) - [0xFF, 0xF1, 0xC2]) <= 3, axis=1).mean()
    assert banner > 0.005, "the synthetic-data banner is not on the first screen"


def test_blank_page_would_fail_the_check(tmp_path):
    """The non-blank check is honest: an empty page gives a white screenshot."""
    from matplotlib.image import imread

    page = tmp_path / "blank.html"
    page.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    png = tmp_path / "blank.png"
    _screenshot(page, png, tmp_path / "profile")
    rgb = (imread(png)[..., :3] * 255).round().astype(np.uint8).reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) <= 2
