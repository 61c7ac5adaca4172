"""Tests of evaluation.figures: PNG output, alt text, suppression, determinism, languages."""

from __future__ import annotations

import warnings

import matplotlib.colors
import numpy as np
import pandas as pd
import pytest

from evaluation import figures as F
from evaluation.errors import DisclosureError

PNG = b"\x89PNG\r\n\x1a\n"


def likert_table() -> pd.DataFrame:
    return pd.DataFrame(
        [[10, 20, 10, 30, 30], [5, 15, 0, 40, 40], [np.nan] * 5],
        index=["Могу разработать НПД", "Тоҷикистон, Oʻzbekiston: қ ә ң ө ү ғ ҳ ҷ", "Hidden item"],
        columns=["SD", "D", "N", "A", "SA"],
    )


def scales_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label": ["Knowledge", "Confidence", "Networking"],
            "mean_a": [2.1, np.nan, 2.5],
            "mean_b": [3.4, np.nan, 2.4],
            "ci_low": [0.8, np.nan, -0.5],
            "ci_high": [1.8, np.nan, 0.3],
            "n": [24, np.nan, 22],
        }
    )


def indicators_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label": ["Share naming 3 NAP elements", "Mean confidence", "Contacts", "Satisfied"],
            "value": [72.0, 3.1, np.nan, 90.0],
            "ci_low": [60.0, 2.8, np.nan, 85.0],
            "ci_high": [84.0, 3.4, np.nan, 95.0],
            "target": [70.0, 3.5, 3.0, 80.0],
            "status": ["inconclusive", "not met", "not measured", "met"],
        }
    )


def counts_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": ["Country"] * 3 + ["Gender"] * 2,
            "category": ["Kazakhstan", "Тоҷикистон", "Türkmenistan", "Women", "Men"],
            "n": [6, 6, np.nan, 14, 16],
        }
    )


def knowledge_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "question": ["Pillar I of the UN Strategy", "What is a NAP?"],
            "pct_pre": [40.0, 55.0],
            "pct_post": [85.0, np.nan],
        }
    )


BUILDERS = {
    "likert": lambda lang: F.likert_diverging(likert_table(), "N", title="Conf.", language=lang),
    "dumbbell": lambda lang: F.dumbbell(scales_table(), title="Scales", language=lang),
    "dashboard": lambda lang: F.indicator_dashboard(indicators_table(), language=lang),
    "participation": lambda lang: F.participation_bars(counts_table(), language=lang),
    "knowledge": lambda lang: F.knowledge_by_question(knowledge_table(), language=lang),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("language", ["en", "ru"])
def test_png_alt_text_and_suppression_note(name, language):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph (e.g. Tajik ҷ) would warn
        out = BUILDERS[name](language)
    assert isinstance(out, F.FigureOutput)
    assert out.png_bytes.startswith(PNG)
    assert out.figure is not None
    assert out.alt_text.strip()
    note = "скрыто (<5)" if language == "ru" else "suppressed (<5)"
    if name != "dashboard":  # every other fixture has a suppressed cell
        assert note in out.alt_text


def test_alt_text_mentions_the_data():
    likert = BUILDERS["likert"]("en").alt_text
    assert "Могу разработать НПД: 60.0% A or SA, 10.0% N, 30.0% SD or D" in likert
    # "other answers" drawn as the neutral first column: no empty negative group in the text
    two = F.likert_diverging(pd.DataFrame([[30.0, 70.0]], index=["Useful"],
                                          columns=["Other answers", "Agree"]),
                             neutral_column="Other answers")
    assert two.alt_text.endswith("Useful: 70.0% Agree, 30.0% Other answers.")
    dumb = BUILDERS["dumbbell"]("en").alt_text
    assert "Knowledge: Before 2.1, After 3.4, change +1.3 (95% CI 0.8 to 1.8), n=24" in dumb
    dash = BUILDERS["dashboard"]("en").alt_text
    assert "Mean confidence: value 3.1 (95% CI 2.8 to 3.4), target 3.5, not met" in dash
    assert "Contacts: target 3.0, not measured" in dash
    part = BUILDERS["participation"]("en").alt_text
    assert "Country: Kazakhstan 6, Тоҷикистон 6, Türkmenistan suppressed (<5)" in part
    know = BUILDERS["knowledge"]("ru").alt_text
    assert "Pillar I of the UN Strategy: До семинара 40,0%, После семинара 85,0%" in know


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_png_bytes_are_deterministic(name):
    assert BUILDERS[name]("en").png_bytes == BUILDERS[name]("en").png_bytes


def test_png_has_no_software_or_time_metadata():
    png = BUILDERS["likert"]("en").png_bytes
    assert b"Software" not in png and b"tIME" not in png and b"matplotlib" not in png.lower()


def test_likert_neutral_is_centred_and_order_is_fixed():
    out = F.likert_diverging(likert_table(), "N")
    ax = out.figure.axes[0]
    grey = matplotlib.colors.to_rgba("#D9D9D9")
    neutral = [p for p in ax.patches if p.get_facecolor() == grey]
    assert neutral, "the neutral category is drawn"
    for bar in neutral:
        assert bar.get_x() + bar.get_width() / 2 == pytest.approx(0.0)
    legend = [t.get_text() for t in out.figure.legends[0].get_texts()]
    assert legend == ["SD", "D", "N", "A", "SA"]


def test_likert_even_scale_without_neutral_and_odd_scale_needs_one():
    even = likert_table().drop(columns="N")
    assert F.likert_diverging(even).png_bytes.startswith(PNG)
    with pytest.raises(ValueError, match="neutral_column"):
        F.likert_diverging(likert_table())
    with pytest.raises(ValueError, match="percent"):
        F.likert_diverging(likert_table() * 10, "N")


def test_unsuppressed_small_counts_are_refused():
    counts = counts_table()
    counts.loc[2, "n"] = 3
    with pytest.raises(DisclosureError):
        F.participation_bars(counts)
    scales = scales_table()
    scales.loc[1, ["mean_a", "mean_b", "n"]] = [2.0, 3.0, 2]
    with pytest.raises(DisclosureError):
        F.dumbbell(scales)


def test_missing_columns_and_unknown_status_are_errors():
    with pytest.raises(ValueError, match="ci_high"):
        F.dumbbell(scales_table().drop(columns="ci_high"))
    bad = indicators_table()
    bad.loc[0, "status"] = "almost"
    with pytest.raises(ValueError, match="almost"):
        F.indicator_dashboard(bad)


def test_all_suppressed_tables_do_not_crash():
    empty = knowledge_table().assign(pct_pre=np.nan, pct_post=np.nan)
    assert F.knowledge_by_question(empty).png_bytes.startswith(PNG)
    counts = counts_table().assign(n=np.nan)
    assert "suppressed (<5)" in F.participation_bars(counts).alt_text


def test_figure_html_escapes_alt_and_caption():
    out = F.FigureOutput(PNG, 'Share "<script>alert(1)</script>" & more', "<b>caption</b>")
    html = F.figure_html(out)
    assert "<script" not in html and "<b>" not in html
    assert 'alt="Share &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; &amp; more"' in html
    assert html.startswith('<figure class="report-figure"><img src="data:image/png;base64,')
    assert out._repr_html_() == html


def test_show_displays_html_with_alt_in_ipython(monkeypatch):
    shown = []
    import IPython
    import IPython.display

    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw: shown.append((obj, raw)))
    F.show(F.FigureOutput(PNG, "Bar chart of 3 groups", "Caption"))
    (bundle, raw), = shown
    assert raw is True
    assert 'alt="Bar chart of 3 groups"' in bundle["text/html"]
    assert bundle["text/plain"] == "Bar chart of 3 groups"


def test_each_figure_is_laid_out_and_drawn_once(monkeypatch):
    import matplotlib.figure

    draws = []
    draw = matplotlib.figure.Figure.draw
    monkeypatch.setattr(matplotlib.figure.Figure, "draw",
                        lambda self, renderer: draws.append(self) or draw(self, renderer))
    out = BUILDERS["likert"]("en")
    assert draws == [out.figure]


def test_png_is_rgb_at_150_dpi_and_fills_the_figure():
    import io

    from PIL import Image

    out = BUILDERS["dumbbell"]("en")
    image = Image.open(io.BytesIO(out.png_bytes))
    assert image.mode == "RGB"
    assert image.info["dpi"] == pytest.approx((150, 150), abs=0.05)
    width, height = out.figure.get_size_inches()
    assert image.size == (round(width * 150), round(height * 150))


def test_dashboard_marks_a_measured_but_suppressed_value():
    """A share whose value is hidden (small group) keeps its status and says it is suppressed."""
    frame = pd.DataFrame({"label": ["New contact", "No data"], "value": [np.nan, np.nan],
                          "ci_low": [np.nan, np.nan], "ci_high": [np.nan, np.nan],
                          "target": [0.6, 0.5], "status": ["met", "not measured"]})
    alt = F.indicator_dashboard(frame, k_min=5).alt_text
    assert "New contact: value suppressed (<5), target 0.6, met" in alt
    assert "No data: target 0.5, not measured" in alt
