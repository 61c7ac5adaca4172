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
    note = "скрыто (конфиденциальность)" if language == "ru" else "suppressed (privacy)"
    if name != "dashboard":  # every other fixture has a suppressed cell
        assert note in out.alt_text
    assert "<5" not in out.alt_text.replace("n<5", "")  # hidden cells may hold 5 or more


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
    assert "Country: Kazakhstan 6, Тоҷикистон 6, Türkmenistan suppressed (privacy)" in part
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
    assert "suppressed (privacy)" in F.participation_bars(counts).alt_text


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
    assert "New contact: value suppressed (privacy), target 0.6, met" in alt
    assert "No data: target 0.5, not measured" in alt


def test_suppressed_note_makes_no_claim_about_the_hidden_count():
    """Complementary suppression hides cells of k or more: the note does not say "<k"."""
    for language, note in [("en", "suppressed (privacy)"), ("ru", "скрыто (конфиденциальность)")]:
        assert F.WORDS[language]["suppressed_note"] == note
        out = F.likert_diverging(likert_table(), "N", language=language, k_min=10)
        drawn = [t.get_text() for t in out.figure.axes[0].texts]
        assert note in drawn
        assert "Hidden item: " + note in out.alt_text
        assert "<10" not in out.alt_text and not any("<" in t for t in drawn)


def shares_dashboard() -> pd.DataFrame:
    return pd.DataFrame({
        "label": ["Readiness increased", "Mean change", "Participants against plan"],
        "value": [0.81, 0.4, 29 / 30], "ci_low": [0.62, 0.1, np.nan],
        "ci_high": [0.92, 0.7, np.nan], "target": [0.7, 0.5, 1.0],
        "status": ["inconclusive", "inconclusive", "not met"],
        "unit": ["share", "points", "share"],
    })


def _tick_texts(ax):
    low, high = sorted(ax.get_xlim())
    return [t.get_text() for t, loc in zip(ax.get_xticklabels(), ax.get_xticks(), strict=True)
            if low <= loc <= high]


def test_dashboard_draws_shares_in_percent_and_keeps_other_units():
    out = F.indicator_dashboard(shares_dashboard())
    share, change, plan = out.figure.axes
    assert "Readiness increased: value 81% (95% CI 62% to 92%), target 70%, inconclusive" \
        in out.alt_text
    assert "Mean change: value 0.4 (95% CI 0.1 to 0.7), target 0.5, inconclusive" in out.alt_text
    assert "Participants against plan: value 97%, target 100%, not met" in out.alt_text
    low, high = share.get_xlim()
    assert low < 62 and high > 92 and high < 110  # a percent axis, not 0.6-0.95
    assert "Target 70%" in [t.get_text().strip() for t in share.texts]
    assert all(t.endswith("%") for t in _tick_texts(share)) and _tick_texts(share)
    assert not any(t.endswith("%") for t in _tick_texts(change))
    assert "Target 0.5" in [t.get_text().strip() for t in change.texts]
    ru = F.indicator_dashboard(shares_dashboard(), language="ru").alt_text
    assert "значение 81% (95% ДИ 62% до 92%), цель 70%" in ru


def test_dashboard_single_value_panel_has_a_sensible_range_with_the_target():
    """29 of 30 against a plan of 1.0 was drawn on 0.965-1.005: far too narrow."""
    frame = shares_dashboard()
    for unit, target, span in [("", 1.0, 0.2), ("share", 100.0, 20.0)]:
        frame["unit"] = unit
        ax = F.indicator_dashboard(frame).figure.axes[2]
        low, high = ax.get_xlim()
        assert low < target < high
        assert high - low >= span
        if unit:  # the share's axis does not run past 100% by more than its padding
            assert high <= 104 and low >= 70


def test_wrap_cuts_labels_between_words():
    text = "Pillar I of the UN Strategy and the constitution of political science"
    for width, lines in [(20, 2), (12, 1), (34, 2), (15, 3)]:
        out = F._wrap(text, width, lines)
        assert len(out.split("\n")) <= lines
        assert all(len(line) <= width for line in out.split("\n"))
        assert out.endswith(" …")
        kept = out.removesuffix(" …").split()
        assert kept == text.split()[:len(kept)]  # whole words only, in order
    assert F._wrap("political science", 10, 1) == "political…"  # not just "…"
    # only a word longer than the line is cut inside, and on its own line
    assert F._wrap("the constitutionalisation", 10, 2) == "the\nconstitut…"
    assert F._wrap("short label", 34) == "short label"


def _bars(ax, colour):
    rgba = matplotlib.colors.to_rgba(colour)
    return [(p.get_x(), p.get_x() + p.get_width()) for p in ax.patches
            if p.get_facecolor() == rgba]


def test_likert_other_answers_are_not_centred_on_zero():
    """"Other answers" (middle and disagreeing) before "Agree" lies left of zero, whole."""
    two = pd.DataFrame([[30.0, 70.0]], index=["Useful"], columns=["Other answers", "Agree"])
    ax = F.likert_diverging(two, neutral_column="Other answers").figure.axes[0]
    (grey,) = _bars(ax, "#D9D9D9")
    assert grey == pytest.approx((-30.0, 0.0))
    agree = [p for p in ax.patches if p.get_facecolor() != matplotlib.colors.to_rgba("#D9D9D9")]
    assert (agree[0].get_x(), agree[0].get_width()) == pytest.approx((0.0, 70.0))
    # with more categories the others split in halves; the grey block is at the far end
    three = pd.DataFrame([[20.0, 30.0, 50.0]], index=["Useful"],
                         columns=["Other", "Disagree", "Agree"])
    ax = F.likert_diverging(three, neutral_column="Other").figure.axes[0]
    assert _bars(ax, "#D9D9D9") == [pytest.approx((-50.0, -30.0))]
    last = pd.DataFrame([[40.0, 60.0]], index=["Useful"], columns=["Disagree", "Other"])
    ax = F.likert_diverging(last, neutral_column="Other").figure.axes[0]
    assert _bars(ax, "#D9D9D9") == [pytest.approx((0.0, 60.0))]
    with pytest.raises(ValueError, match="halves"):
        F.likert_diverging(likert_table().drop(columns="N"), "SD")
