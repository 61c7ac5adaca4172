"""Static report figures with alt text, drawn only from suppressed aggregate tables.

Every function takes a table that has already been through disclosure control (one row per
item, scale, indicator or group; suppressed cells are NaN) and returns a :class:`FigureOutput`:
the PNG bytes (150 dpi, byte-identical for the same input), an alt text that states the numbers
shown, a caption, and the matplotlib :class:`~matplotlib.figure.Figure` for further use. In a
notebook, :func:`show` displays it as an HTML ``<figure>`` whose ``<img>`` keeps its ``alt`` text,
so the text survives into the HTML report and the tagged PDF.

Design choices
--------------
- **Never row-level data.** Tables are aggregates. A count or ``n`` between 1 and ``k_min - 1``
  that was *not* suppressed raises :class:`~evaluation.errors.DisclosureError` rather than being
  drawn; suppressed (NaN) cells are left as gaps with the note "suppressed (privacy)". The note
  does not say "<5": a cell hidden by complementary suppression may hold 5 or more.
- **Colour-blind safe, not colour-only.** Categorical colours come from the Okabe–Ito palette
  (:data:`OKABE_ITO`), designed to stay distinct under protanopia, deuteranopia and tritanopia.
  Likert scales use ColorBrewer's diverging ``RdBu`` (listed by ColorBrewer as colour-blind safe)
  with a grey neutral. Waves also differ by marker shape, statuses by marker and a text label,
  so the charts read in greyscale print too.
- **Two languages.** Category, item and group labels come in as strings in the report language;
  the few fixed words of the figures themselves (:data:`WORDS`) exist in English and Russian.
- **Deterministic.** Figures are built without pyplot (no global state, no duplicate inline
  display) under matplotlib's default style with DejaVu Sans (bundled with matplotlib; covers
  Cyrillic, Kazakh, Kyrgyz, Tajik letters and Uzbek ``ʻ``), and saved without a ``Software``
  tag or timestamp.
- **Drawn once.** Each figure is created at the output resolution and drawn a single time, with
  constrained layout running inside that draw; the canvas is encoded as an RGB PNG directly.
  (``savefig`` would lay out and draw twice.) SVG output was measured and rejected: it is faster
  to write but makes WeasyPrint's PDF several times slower.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib as mpl
import matplotlib.colors
import matplotlib.lines
import matplotlib.patches
import matplotlib.style
import matplotlib.transforms
import numpy as np
import pandas as pd
import PIL.Image
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator

from evaluation.errors import DisclosureError

__all__ = [
    "OKABE_ITO",
    "WORDS",
    "FigureOutput",
    "dumbbell",
    "figure_html",
    "indicator_dashboard",
    "knowledge_by_question",
    "likert_diverging",
    "participation_bars",
    "show",
]

#: Okabe & Ito (2008) colour-universal-design palette.
OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
    "grey": "#999999",
}

#: The figures' own fixed words in English and Russian.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "before": "Before",
        "after": "After",
        "target": "Target",
        "suppressed": "suppressed",
        "suppressed_note": "suppressed (privacy)",
        "percent": "Percent of respondents",
        "percent_correct": "Percent correct",
        "mean": "Mean score",
        "change": "Change (95% CI)",
        "participants": "Participants",
        "met": "met",
        "not met": "not met",
        "inconclusive": "inconclusive",
        "not measured": "not measured",
        "value": "value",
        "ci": "95% CI",
        "change_word": "change",
        "to": "to",
    },
    "ru": {
        "before": "До семинара",
        "after": "После семинара",
        "target": "Цель",
        "suppressed": "скрыто",
        "suppressed_note": "скрыто (конфиденциальность)",
        "percent": "Доля респондентов, %",
        "percent_correct": "Доля правильных ответов, %",
        "mean": "Средний балл",
        "change": "Изменение (95% ДИ)",
        "participants": "Участники",
        "met": "достигнут",
        "not met": "не достигнут",
        "inconclusive": "неопределённо",
        "not measured": "не измерено",
        "value": "значение",
        "ci": "95% ДИ",
        "change_word": "изменение",
        "to": "до",
    },
}

_STATUS_STYLE: dict[str, tuple[str, str]] = {  # status -> (colour, marker)
    "met": (OKABE_ITO["bluish_green"], "o"),
    "not met": (OKABE_ITO["vermillion"], "X"),
    "inconclusive": (OKABE_ITO["orange"], "D"),
    "not measured": (OKABE_ITO["grey"], ""),
}
_NEUTRAL_GREY = "#D9D9D9"
_SHARE_UNITS = ("share", "proportion")  # indicator units given as 0-1, drawn in percent
_PERCENT_UNITS = ("percent", "%")  # indicator units already in percent
_DPI = 150
_WIDTH = 7.5  # inches; scaled to the text width of A4 in the report
_RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": _DPI,
    "svg.hashsalt": "evaluation",
    "path.simplify": True,
}
_PT = 1 / 72  # inches per point
_GAP = 3 * _PT  # space around titles, labels and legends (constrained layout's default pad)
_TICK = 7 * _PT  # tick mark (3.5 pt) plus the pad to its label (3.5 pt)
_PNG_COMPRESSION = 3  # zlib level; the default 6 took ~1.7x as long for no smaller files


@dataclass(frozen=True)
class FigureOutput:
    """A rendered figure: PNG bytes, alt text and caption (plus the matplotlib figure).

    Examples
    --------
    >>> from evaluation.figures import FigureOutput
    >>> out = FigureOutput(b"\\x89PNG...", "Bar chart of 3 groups.", "Figure 1. Groups")
    >>> out.alt_text
    'Bar chart of 3 groups.'
    """

    png_bytes: bytes
    alt_text: str
    caption: str
    figure: Figure | None = field(default=None, repr=False, compare=False)

    def _repr_html_(self) -> str:
        return figure_html(self)


def figure_html(output: FigureOutput) -> str:
    """HTML ``<figure>`` with the PNG embedded as a data URI, escaped alt text and caption.

    Examples
    --------
    >>> from evaluation.figures import FigureOutput, figure_html
    >>> print(figure_html(FigureOutput(b"x", 'Alt "<b>"', "A & B")))
    <figure class="report-figure"><img src="data:image/png;base64,eA=="
    alt="Alt &quot;&lt;b&gt;&quot;"><figcaption>A &amp; B</figcaption></figure>
    """
    data = base64.b64encode(output.png_bytes).decode("ascii")
    caption = (
        f"<figcaption>{html.escape(output.caption)}</figcaption>" if output.caption else ""
    )
    return (
        f'<figure class="report-figure"><img src="data:image/png;base64,{data}" '
        f'alt="{html.escape(output.alt_text, quote=True)}">{caption}</figure>'
    )


def show(output: FigureOutput) -> None:
    """Display a figure in a notebook as HTML ``<figure>`` (alt text and caption kept).

    Outside IPython nothing is shown.

    Examples
    --------
    >>> from evaluation.figures import FigureOutput, show
    >>> show(FigureOutput(b"x", "alt", "caption"))  # no output outside a notebook
    """
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    if get_ipython() is None:
        return
    display({"text/html": figure_html(output), "text/plain": output.alt_text}, raw=True)


# --------------------------------------------------------------------------------------------
# helpers


def _words(language: str) -> dict[str, str]:
    return WORDS.get(str(language).split("-")[0].lower(), WORDS["en"])


def _fmt(value: float, language: str, digits: int = 1, sign: bool = False) -> str:
    text = f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
    return text.replace(".", ",") if _words(language) is WORDS["ru"] else text


def _formatter(language: str, absolute: bool = False, percent: bool = False) -> FuncFormatter:
    """Tick labels as short as exact (2.25 stays 2.25), decimal comma in Russian, "%" if asked."""
    comma = _words(language) is WORDS["ru"]

    def fmt(x: float, _pos: int) -> str:
        value = abs(x) if absolute else x
        text = "0" if abs(value) < 1e-12 else f"{value:.6g}"
        return (text.replace(".", ",") if comma else text) + ("%" if percent else "")

    return FuncFormatter(fmt)


def _wrap(label: object, width: int = 34, max_lines: int | None = 2) -> str:
    """``label`` on lines of ``width`` characters; past ``max_lines`` it ends in "…".

    Rows of a chart are one fixed height apart: a longer label would run into the next one
    (the alt text keeps the whole label). Lines break and the label is cut between words
    (" …"); only a single word longer than ``width`` is cut inside, without a space before
    the "…" so that the cut shows.

    Examples
    --------
    >>> from evaluation.figures import _wrap
    >>> print(_wrap("Pillar I of the UN Strategy and the constitution of rights", 20))
    Pillar I of the UN
    Strategy and the …
    >>> _wrap("political science", 10, 1), _wrap("Internationalisation", 10, 1)
    ('political…', 'Internati…')
    """
    text = str(label)
    lines: list[str] = []
    line = ""
    for word in text.split():
        if len(f"{line} {word}" if line else word) <= width:
            line = f"{line} {word}" if line else word
            continue
        if line:
            lines.append(line)
        while len(word) > width:  # a word longer than a line: the only cut inside a word
            lines.append(word[:width])
            word = word[width:]
        line = word
    if line:
        lines.append(line)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        words = lines[-1].split()
        while len(words) > 1 and len(" ".join(words)) + 2 > width:
            words.pop()  # drop whole words until " …" fits
        last = " ".join(words).rstrip(",;:–—-")
        if len(last) + 2 <= width:
            last += " …"
        elif len(last) + 1 <= width:
            last += "…"
        else:
            last = last[: width - 1] + "…"
        lines[-1] = last
    return "\n".join(lines) or text


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} needs a pandas DataFrame, not {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs the column(s) {', '.join(map(repr, missing))}")


def _numeric(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    out = df.copy()
    for col in columns:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out


def _check_counts(values: pd.Series, k_min: int, what: str) -> None:
    small = values[(values > 0) & (values < k_min)]
    if len(small):
        raise DisclosureError(
            f"{what} has {len(small)} unsuppressed count(s) below {k_min}; "
            "draw figures only from suppressed tables."
        )


def _new_figure(height: float, layout: str | None = "constrained") -> Figure:
    # At the output resolution, so that measuring text for the layout and the single draw in
    # _finish share one renderer (and its cache of text sizes). The report's figures pass
    # layout=None and place their axes themselves (see _place); constrained layout measures
    # every artist of the figure and took about a fifth of the drawing time.
    fig = Figure(figsize=(_WIDTH, max(height, 1.6)), dpi=_DPI, facecolor="white",
                 layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _finish(fig: Figure, alt_text: str, caption: str) -> FigureOutput:
    """Draw once and encode as RGB PNG.

    ``savefig`` would lay out and draw twice (a layout pass, then layout and drawing again);
    the PNG holds no metadata but its resolution.
    """
    canvas = fig.canvas
    if fig.get_layout_engine() is None:
        _fit_width(fig)
    canvas.draw()
    image = PIL.Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="png", dpi=(_DPI, _DPI),
                              compress_level=_PNG_COMPRESSION)
    return FigureOutput(buffer.getvalue(), alt_text, caption, fig)


# Layout. Margins are measured on the texts that stick out of the axes (category labels,
# titles, legends) with the figure's own renderer, whose cache of text sizes the draw reuses;
# axis titles and x labels get fixed positions so that drawing does not measure the ticks again.


def _inches(artist: Any, renderer: RendererBase) -> tuple[float, float]:
    box = artist.get_window_extent(renderer)
    return box.width / _DPI, box.height / _DPI


def _line_height(renderer: RendererBase, size: float) -> tuple[float, float]:
    """Height and descent of one line of text at ``size`` points, in inches."""
    _, height, descent = renderer.get_text_width_height_descent("lp", FontProperties(size=size),
                                                                False)
    return height / _DPI, descent / _DPI


def _axes_title(ax: Axes, title: str, renderer: RendererBase) -> float:
    """Title over ``ax``, flush left; returns the height it takes above the axes (inches)."""
    heading = ax.set_title(title, loc="left", y=1.0)  # a fixed y is not re-measured at draw
    size = heading.get_fontsize()
    return _inches(heading, renderer)[1] - _line_height(renderer, size)[1] + 6 * _PT


def _row_labels(ax: Axes, labels: Sequence[str], tick_length: float = 3.5) -> list[Text]:
    """Category labels at y = 0, 1, … left of ``ax``, drawn like y tick labels.

    A matplotlib tick makes two labels, two marks and a grid line, most of them invisible;
    these are only the visible marks (one line) and labels.
    """
    ax.set_yticks([])
    rows = np.arange(len(labels))
    if tick_length:
        ax.add_artist(mpl.lines.Line2D(
            np.zeros(len(rows)), rows, transform=ax.get_yaxis_transform(), linestyle="",
            marker=mpl.lines.TICKLEFT, markersize=tick_length, markeredgewidth=0.8,
            color="black", clip_on=False))
    shift = mpl.transforms.offset_copy(ax.get_yaxis_transform(), fig=ax.figure,
                                       x=-(tick_length + 3.5), units="points")
    return [ax.text(0, row, label, transform=shift, ha="right", va="center_baseline")
            for row, label in zip(rows, labels, strict=True)]


def _fit_width(fig: Figure) -> None:
    """Narrow the axes from the right until no x tick label reaches into the right margin.

    Called right before drawing, under the settings the draw uses: matplotlib chooses the
    ticks there from the axes' length and the tick label size then in effect. The tick labels
    measured here are the ones drawn.
    """
    renderer = fig.canvas.get_renderer()
    width = fig.get_figwidth() * _DPI
    reach = 0.0
    for ax in fig.axes:
        ax.xaxis.get_majorticklabels()  # places the ticks and sets their labels
        low, high = sorted(ax.get_xlim())
        slack = (high - low) * 1e-9  # matplotlib's tolerance for ticks at the ends
        reach = max([reach] + [tick.label1.get_window_extent(renderer).x1
                               for tick in ax.xaxis.get_major_ticks()
                               if low - slack <= tick.get_loc() <= high + slack])
    excess = (reach - width + _GAP * _DPI) / width  # in figure fractions
    if excess <= 0:
        return
    boxes = [ax.get_position() for ax in fig.axes]
    left, right = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
    scale = (right - left - excess) / (right - left)
    for ax, box in zip(fig.axes, boxes, strict=True):
        ax.set_position((left + (box.x0 - left) * scale, box.y0, box.width * scale, box.height))


def _xlabel(ax: Axes, text: str, ticklabel_height: float) -> None:
    """X axis label under the tick labels (its automatic placement would measure them)."""
    ax.set_xlabel(text)
    below = mpl.transforms.offset_copy(ax.transAxes, fig=ax.figure,
                                       y=-(_TICK + ticklabel_height + 4 * _PT), units="inches")
    ax.xaxis.set_label_coords(0.5, 0, transform=below)


def _segments(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Coordinates of separate line segments start[i]–end[i] for one ``plot`` call."""
    return np.column_stack([start, end, np.full(len(start), np.nan)]).ravel()


def _place(ax: Axes, left: float, bottom: float, width: float, height: float) -> None:
    """Position ``ax`` by its lower left corner and size, in inches."""
    fig_width, fig_height = ax.figure.get_size_inches()
    ax.set_position((left / fig_width, bottom / fig_height, width / fig_width,
                     height / fig_height))


def _stack(fig: Figure, panels: Sequence[tuple[int, float, float, float, float]], top: float,
           bottom: float) -> list[tuple[float, float]]:
    """Bottom and height (inches) of axes stacked from the top of ``fig``, every row as high.

    Each panel is ``(rows, above, below, first, last)``: its number of rows, the space its
    title needs above it and its x axis below it, and the heights of its first and last row
    labels, which are centred on their rows and may reach past the axes. ``top`` and
    ``bottom`` are taken by the figure title and legend.
    """
    def margins(pitch: float) -> list[tuple[float, float]]:
        return [(_GAP + max(above, first / 2 - pitch / 2), max(below, last / 2 - pitch / 2) + _GAP)
                for _, above, below, first, last in panels]

    def total(pitch: float) -> float:
        return (top + bottom + pitch * sum(panel[0] for panel in panels)
                + sum(a + b for a, b in margins(pitch)))

    low, high = 0.0, fig.get_figheight()  # bisection for the row height that fills the figure
    for _ in range(30):
        middle = (low + high) / 2
        low, high = (middle, high) if total(middle) <= fig.get_figheight() else (low, middle)
    y, extents = fig.get_figheight() - top, []
    for (rows, *_), (above, below) in zip(panels, margins(low), strict=True):
        y -= above + rows * low
        extents.append((y, rows * low))
        y -= below
    return extents


def _single_panel(ax: Axes, labels: list[Text], xlabel: str, above: float,
                  bottom: float) -> None:
    """Lay out a figure of one axes with row labels, an x label, a title and a legend."""
    renderer = ax.figure.canvas.get_renderer()
    line = _line_height(renderer, 9)[0]
    _xlabel(ax, xlabel, line)
    sizes = [_inches(t, renderer) for t in labels] or [(0.0, 0.0)]
    left = max(w for w, _ in sizes) + _TICK + _GAP
    ((y, height),) = _stack(ax.figure, [(len(labels), above, _TICK + 2 * line + 4 * _PT,
                                         sizes[0][1], sizes[-1][1])], 0.0, bottom)
    _place(ax, left, y, _WIDTH - left - _GAP, height)


def _suptitle(fig: Figure, title: str) -> float:
    """Figure title in the top left corner; returns the height it takes (inches)."""
    if not title:
        return 0.0
    text = fig.suptitle(_wrap(title, 80, None), x=0.02, y=1 - _GAP / fig.get_figheight(),
                        ha="left", va="top", fontsize=11)
    return _inches(text, fig.canvas.get_renderer())[1] + 2 * _GAP


def _bottom_legend(fig: Figure, handles: list[Any], ncol: int, fontsize: float = 9) -> float:
    """Legend centred under the axes; returns the height it takes (inches)."""
    legend = fig.legend(handles=handles, loc="lower center", ncol=ncol, frameon=False,
                        fontsize=fontsize)
    return _inches(legend, fig.canvas.get_renderer())[1] + 2 * _GAP


def _style() -> Any:
    return mpl.rc_context(_RC)


def _default_style() -> Any:
    return mpl.style.context("default")


def _list(parts: Sequence[str], limit: int = 15) -> str:
    shown = list(parts[:limit])
    if len(parts) > limit:
        shown.append(f"… (+{len(parts) - limit})")
    return "; ".join(shown)


def _dashboard_range(points: np.ndarray, percent: bool) -> tuple[float, float]:
    """The span of one dashboard row (before padding): its value, interval and target.

    At least 20 points wide on a percent axis, else a fifth of the largest magnitude (1 around
    zero), so that a lone value next to its target (29 of 30 planned against 100%) is not
    blown up to fill the panel. A percent axis widened so stays within 0-100 when its points do.

    Examples
    --------
    >>> from evaluation.figures import _dashboard_range
    >>> _dashboard_range(np.array([0.967, 1.0]), False)
    (0.8835, 1.0835)
    >>> _dashboard_range(np.array([96.7, 100.0]), True)
    (80.0, 100.0)
    """
    if not len(points):
        return (0.0, 100.0) if percent else (0.0, 1.0)
    lo, hi = float(points.min()), float(points.max())
    span = 20.0 if percent else (0.2 * max(abs(lo), abs(hi)) or 1.0)
    if hi - lo >= span:
        return lo, hi
    low, high = (lo + hi - span) / 2, (lo + hi + span) / 2
    if percent and high > 100.0 >= hi:
        low, high = low - (high - 100.0), 100.0
    elif percent and low < 0.0 <= lo:
        low, high = 0.0, high - low
    return round(low, 10), round(high, 10)


def _likert_colours(n_neg: int, n_pos: int) -> tuple[list[Any], list[Any]]:
    cmap = mpl.colormaps["RdBu"]
    neg = [cmap(x) for x in np.linspace(0.05, 0.35, n_neg)] if n_neg > 1 else [cmap(0.2)] * n_neg
    pos = [cmap(x) for x in np.linspace(0.65, 0.95, n_pos)] if n_pos > 1 else [cmap(0.8)] * n_pos
    return neg, pos


def _text_colour(rgba: Any) -> str:
    r, g, b = mpl.colors.to_rgb(rgba)
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 else "black"


# --------------------------------------------------------------------------------------------
# figures


def likert_diverging(
    dist: pd.DataFrame,
    neutral_column: str | None = None,
    title: str = "",
    language: str = "en",
    k_min: int = 5,
    alt_labels: Sequence[str] | None = None,
) -> FigureOutput:
    """Diverging stacked bars of Likert answer shares, one bar per item.

    Parameters
    ----------
    dist : DataFrame
        Index: item labels (report language). Columns: the answer categories in their fixed
        order from most negative to most positive. Values: percent of respondents. A row with
        any NaN is a suppressed item and is drawn as a gap with a note.
    neutral_column : str, optional
        The grey category. A true midpoint (categories on both sides of it, e.g. "Neither") is
        split half left and half right of zero. One at an end of the order is not a midpoint
        (e.g. "Other answers", first, which joins the middle and the disagreeing answers): it is
        drawn whole at its end of the bar, left of zero when it is the first column (right of
        zero when it is the last), and the other categories split in halves. Without
        ``neutral_column`` the categories split in halves (an even number is then required).
    title : str, default ""
        Figure title and caption.
    language : {"en", "ru"}, default "en"
        Language of the figure's fixed words; legend entries are the column names.
    k_min : int, default 5
        Disclosure threshold. Figures with counts (``n``) refuse an unsuppressed count between 1
        and ``k_min - 1``. The note on a suppressed cell does not quote it ("suppressed
        (privacy)"): complementary suppression also hides cells of ``k_min`` or more. A
        ``{k}`` in :data:`WORDS` ``["suppressed_note"]`` is still filled in with it.
    alt_labels : sequence of str, optional
        The items' full texts, one per row, for the alt text when the index holds shortened
        labels for the chart (default: the index).

    Returns
    -------
    FigureOutput

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evaluation.figures import likert_diverging
    >>> dist = pd.DataFrame(
    ...     [[10, 20, 30, 40], [5, 15, 40, 40], [np.nan] * 4],
    ...     index=["I can design a NAP", "I know UN standards", "Suppressed item"],
    ...     columns=["Disagree", "Somewhat disagree", "Somewhat agree", "Agree"],
    ... )
    >>> out = likert_diverging(dist, title="Confidence after the workshop")
    >>> out.png_bytes[:4]
    b'\\x89PNG'
    >>> "I know UN standards: 80.0% Somewhat agree or Agree" in out.alt_text
    True
    >>> "Suppressed item: suppressed (privacy)" in out.alt_text
    True
    >>> two = pd.DataFrame([[30.0, 70.0]], index=["Useful"], columns=["Other answers", "Agree"])
    >>> likert_diverging(two, neutral_column="Other answers").alt_text.split(". ")[-1]
    'Useful: 70.0% Agree, 30.0% Other answers.'
    >>> full = likert_diverging(two, neutral_column="Other answers",
    ...                         alt_labels=["The session on national action plans was useful"])
    >>> full.alt_text.split(". ")[-1]
    'The session on national action plans was useful: 70.0% Agree, 30.0% Other answers.'
    """
    if not isinstance(dist, pd.DataFrame) or dist.shape[1] < 2:
        raise ValueError("likert_diverging needs a DataFrame with at least two category columns")
    words = _words(language)
    categories = [str(c) for c in dist.columns]
    values = dist.apply(pd.to_numeric, errors="coerce").astype(float)
    values.columns = categories
    finite = values.to_numpy()[~np.isnan(values.to_numpy())]
    if (finite < 0).any() or (finite > 100.5).any():
        raise ValueError("likert_diverging expects percentages between 0 and 100")
    midpoint = False  # whether the neutral category is centred on zero
    if neutral_column is not None:
        if str(neutral_column) not in categories:
            raise ValueError(f"neutral_column {neutral_column!r} is not one of the columns")
        mid = categories.index(str(neutral_column))
        negative, positive = categories[:mid], categories[mid + 1 :]
        # only a category with answers on both sides is a midpoint; one at an end of the
        # order ("other answers" before "agree") is stacked at that end, away from zero
        midpoint = bool(negative and positive)
        if not midpoint:
            rest = negative or positive
            if len(rest) > 1 and len(rest) % 2:
                raise ValueError("with neutral_column at an end, the other categories must "
                                 "split in halves (an even number, or a single one)")
            half = len(rest) // 2 if mid == 0 else (len(rest) + 1) // 2
            negative, positive = rest[:half], rest[half:]
    else:
        if len(categories) % 2:
            raise ValueError("an odd number of categories needs neutral_column")
        negative, positive = categories[: len(categories) // 2], categories[len(categories) // 2 :]
    neg_colours, pos_colours = _likert_colours(len(negative), len(positive))
    colours = dict(zip(negative, neg_colours, strict=True))
    colours.update(zip(positive, pos_colours, strict=True))
    if neutral_column is not None:
        colours[str(neutral_column)] = _NEUTRAL_GREY

    suppressed_note = words["suppressed_note"].format(k=k_min)
    joiner = " или " if words is WORDS["ru"] else " or "
    n_items = len(values)
    shares = values.to_numpy()
    hidden = np.isnan(shares).any(axis=1)
    neutral = (values[str(neutral_column)].to_numpy() if neutral_column is not None
               else np.zeros(n_items))
    neg_sum = values[negative].to_numpy().sum(axis=1)
    pos_sum = values[positive].to_numpy().sum(axis=1)
    # left end of each bar: a midpoint is split half left and half right of zero; a neutral
    # category first in the order lies wholly left of zero, one last wholly right of it
    if neutral_column is None or (not midpoint and categories[-1] == str(neutral_column)):
        starts = -neg_sum
    else:
        starts = -(neg_sum + (neutral / 2 if midpoint else neutral))
    lefts = starts[:, None] + np.cumsum(shares, axis=1) - shares
    shown = ~hidden
    extent = float(np.max(np.maximum(-starts, starts + shares.sum(axis=1))[shown],
                          initial=0.0))
    rows = np.arange(n_items)
    described = list(values.index) if alt_labels is None else [str(x) for x in alt_labels]
    if len(described) != n_items:
        raise ValueError("alt_labels needs one text per row of dist")
    summary = []
    for row, item in enumerate(described):
        if hidden[row]:
            summary.append(f"{item}: {suppressed_note}")
            continue
        groups = [(pos_sum[row], joiner.join(positive))] if positive else []
        if neutral_column is not None:
            groups.append((neutral[row], str(neutral_column)))
        if negative:
            groups.append((neg_sum[row], joiner.join(negative)))
        summary.append(f"{item}: " + ", ".join(f"{_fmt(share, language)}% {name}"
                                               for share, name in groups))
    with _default_style(), _style():
        fig = _new_figure(1.3 + 0.42 * n_items, layout=None)
        renderer = fig.canvas.get_renderer()
        ax = fig.add_subplot()
        for row in rows[hidden]:
            ax.text(0, row, suppressed_note, ha="center", va="center", color="#555555",
                    fontstyle="italic")
        for col, cat in enumerate(categories):
            width, left = shares[:, col], lefts[:, col]
            drawn = shown & (width > 0)
            ax.barh(rows[drawn], width[drawn], left=left[drawn], color=colours[cat],
                    height=0.7, edgecolor="white", linewidth=0.5)
            text_colour = _text_colour(colours[cat])
            for row in rows[drawn & (width >= 7)]:
                ax.text(left[row] + width[row] / 2, row, f"{width[row]:.0f}", ha="center",
                        va="center", fontsize=7.5, color=text_colour)
        # legend entries in the fixed category order, even if some were empty
        handles = [mpl.patches.Patch(color=colours[c], label=c) for c in categories]
        long = sum(len(c) for c in categories) > 60
        ncol = math.ceil(len(categories) / 2) if long else len(categories)
        # matplotlib fills legend columns first; reorder so rows read in category order
        handles = [handles[i] for c in range(ncol) for i in range(c, len(handles), ncol)]
        bottom = _bottom_legend(fig, handles, ncol, fontsize=8)
        limit = max(50.0, math.ceil(extent / 10) * 10) if extent else 50.0
        ax.set_xlim(-limit, limit)
        ax.axvline(0, color="#333333", linewidth=0.8)
        labels = _row_labels(ax, [_wrap(item) for item in values.index])
        ax.set_ylim(n_items - 0.5, -0.5)
        ax.xaxis.set_major_formatter(_formatter(language, absolute=True))
        _single_panel(ax, labels, words["percent"],
                      _axes_title(ax, _wrap(title, 48, None), renderer) if title else 0.0,
                      bottom)
    if words is WORDS["ru"]:
        alt = (f"Расходящаяся столбчатая диаграмма{': ' + title if title else ''}. "
               f"Доли ответов по {n_items} пунктам, категории слева направо: "
               f"{', '.join(categories)}. ")
    else:
        alt = (f"Diverging stacked bar chart{': ' + title if title else ''}. "
               f"Answer shares for {n_items} items, categories from left to right: "
               f"{', '.join(categories)}. ")
    alt += _list(summary) + "."
    return _finish(fig, alt, title)


def dumbbell(
    scales: pd.DataFrame,
    wave_labels: Sequence[str] | None = None,
    title: str = "",
    language: str = "en",
    k_min: int = 5,
) -> FigureOutput:
    """Mean scale scores before and after, with the change and its confidence interval.

    Parameters
    ----------
    scales : DataFrame
        Columns ``label``, ``mean_a``, ``mean_b``, ``ci_low``, ``ci_high`` (95% CI of the change
        ``mean_b - mean_a``) and ``n`` (matched pairs). Suppressed rows hold NaN.
    wave_labels : pair of str, optional
        Names of the two waves; default "Before"/"After" (Russian: "До семинара"/"После
        семинара").
    title, language, k_min
        As in :func:`likert_diverging`.

    Returns
    -------
    FigureOutput

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.figures import dumbbell
    >>> scales = pd.DataFrame({"label": ["Knowledge", "Confidence"], "mean_a": [2.1, 3.0],
    ...     "mean_b": [3.4, float("nan")], "ci_low": [0.8, float("nan")],
    ...     "ci_high": [1.8, float("nan")], "n": [24, float("nan")]})
    >>> out = dumbbell(scales)
    >>> "Knowledge: Before 2.1, After 3.4, change +1.3" in out.alt_text
    True
    """
    _require(scales, ["label", "mean_a", "mean_b", "ci_low", "ci_high", "n"], "dumbbell")
    words = _words(language)
    before, after = wave_labels if wave_labels is not None else (words["before"], words["after"])
    data = _numeric(scales, ["mean_a", "mean_b", "ci_low", "ci_high", "n"]).reset_index(drop=True)
    _check_counts(data["n"], k_min, "dumbbell")
    note = words["suppressed_note"].format(k=k_min)
    rows = len(data)
    mean_a, mean_b = data["mean_a"].to_numpy(), data["mean_b"].to_numpy()
    ci_low, ci_high, n = data["ci_low"].to_numpy(), data["ci_high"].to_numpy(), data["n"].to_numpy()
    hidden = np.isnan(mean_a) | np.isnan(mean_b)
    with_ci = ~hidden & ~(np.isnan(ci_low) | np.isnan(ci_high))
    change = mean_b - mean_a
    summary, labels = [], []
    for i, label in enumerate(data["label"]):
        n_text = f"n={int(n[i])}" if not math.isnan(n[i]) else f"n<{k_min}"
        labels.append(f"{_wrap(label, 28)}\n({n_text})")
        if hidden[i]:
            summary.append(f"{label}: {note}")
            continue
        part = (f"{label}: {before} {_fmt(mean_a[i], language)}, "
                f"{after} {_fmt(mean_b[i], language)}, "
                f"{words['change_word']} "
                f"{_fmt(change[i], language, sign=True)}")
        if with_ci[i]:
            part += (f" ({words['ci']} {_fmt(ci_low[i], language)} "
                     f"{words['to']} {_fmt(ci_high[i], language)})")
        summary.append(part + f", {n_text}")
    ys = np.arange(rows, dtype=float)
    with _default_style(), _style():
        fig = _new_figure(1.4 + 0.45 * rows, layout=None)
        renderer = fig.canvas.get_renderer()
        ax, axc = fig.add_subplot(), fig.add_subplot()
        for row in ys[hidden]:
            ax.text(0.5, row, note, transform=ax.get_yaxis_transform(), ha="center",
                    va="center", color="#555555", fontstyle="italic")
        shown = ~hidden
        ax.plot(_segments(mean_a[shown], mean_b[shown]), _segments(ys[shown], ys[shown]),
                color="#AAAAAA", linewidth=2, zorder=1)
        ax.scatter(mean_a[shown], ys[shown], color=OKABE_ITO["orange"], marker="o", s=45,
                   zorder=2)
        ax.scatter(mean_b[shown], ys[shown], color=OKABE_ITO["blue"], marker="s", s=45,
                   zorder=2)
        axc.plot(_segments(ci_low[with_ci], ci_high[with_ci]), _segments(ys[with_ci], ys[with_ci]),
                 color=OKABE_ITO["blue"], linewidth=1.6)
        axc.scatter(change[shown], ys[shown], color=OKABE_ITO["blue"], marker="s", s=30,
                    zorder=2)
        axc.axvline(0, color="#333333", linewidth=0.8)
        row_labels = _row_labels(ax, labels)
        _row_labels(axc, [""] * rows)
        for axis in (ax, axc):
            axis.set_ylim(rows - 0.5, -0.5)
            axis.xaxis.set_major_formatter(_formatter(language))
        line = _line_height(renderer, 9)[0]
        _xlabel(ax, words["mean"], line)
        _xlabel(axc, words["change"], line)
        handles = [
            mpl.lines.Line2D([], [], color=OKABE_ITO["orange"], marker="o", linestyle="",
                             label=before),
            mpl.lines.Line2D([], [], color=OKABE_ITO["blue"], marker="s", linestyle="",
                             label=after),
        ]
        sizes = [_inches(t, renderer) for t in row_labels] or [(0.0, 0.0)]
        ((y, height),) = _stack(fig, [(rows, 0.0, _TICK + 2 * line + 4 * _PT, sizes[0][1],
                                       sizes[-1][1])],
                                _suptitle(fig, title), _bottom_legend(fig, handles, 2))
        left = max(w for w, _ in sizes) + _TICK + _GAP
        gap = 11 * _PT  # the right axes' tick marks and padding
        space = _WIDTH - left - gap - _GAP
        _place(ax, left, y, space * 0.6, height)
        _place(axc, left + space * 0.6 + gap, y, space * 0.4, height)
    if words is WORDS["ru"]:
        alt = (f"Точечная диаграмма средних баллов «{before}» и «{after}» по {rows} шкалам"
               f"{': ' + title if title else ''}. ")
    else:
        alt = (f"Dot plot of mean scores {before} and {after} for {rows} scales"
               f"{': ' + title if title else ''}. ")
    alt += _list(summary) + "."
    return _finish(fig, alt, title)


def indicator_dashboard(
    indicators: pd.DataFrame,
    title: str = "",
    language: str = "en",
    k_min: int = 5,
) -> FigureOutput:
    """One row per indicator: value with its CI against the target, status in words and colour.

    Parameters
    ----------
    indicators : DataFrame
        Columns ``label``, ``value``, ``ci_low``, ``ci_high``, ``target``, ``status`` (``met``,
        ``not met``, ``inconclusive`` or ``not measured``); an optional ``n`` is checked against
        ``k_min``. Each row gets its own scale, because indicators have different units. An
        optional ``unit`` column says which: ``"share"`` (or ``"proportion"``) is a proportion
        0-1 and ``"percent"`` (or ``"%"``) is already 0-100; both are drawn on a percent axis
        (value, interval, target and ticks in %, as the report's tables show shares). Any other
        unit, or none, is drawn as given: the frame alone does not tell a share of 0.7 from a
        gain of 0.7 (:func:`evaluation.indicators.compute_indicators` gives no unit column).
        A row spans at least 20 percentage points, or a fifth of its largest number, so that
        a value next to its target does not fill the panel.
    title, language, k_min
        As in :func:`likert_diverging`.

    Returns
    -------
    FigureOutput

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.figures import indicator_dashboard
    >>> ind = pd.DataFrame({"label": ["Share able to name 3 NAP elements", "Network contacts"],
    ...     "value": [72.0, None], "ci_low": [60.0, None], "ci_high": [84.0, None],
    ...     "target": [70.0, 3.0], "status": ["inconclusive", "not measured"]})
    >>> out = indicator_dashboard(ind)
    >>> print(out.alt_text.split(". ", 1)[1])
    Share able to name 3 NAP elements: value 72.0 (95% CI 60.0 to 84.0), target 70.0,
    inconclusive; Network contacts: target 3.0, not measured.

    Shares (0-1) marked by ``unit`` are drawn and described in percent:

    >>> ind["unit"] = ["share", "contacts"]
    >>> ind.loc[0, ["value", "ci_low", "ci_high", "target"]] = [0.72, 0.6, 0.84, 0.7]
    >>> print(indicator_dashboard(ind).alt_text.split(". ", 1)[1])
    Share able to name 3 NAP elements: value 72% (95% CI 60% to 84%), target 70%, inconclusive;
    Network contacts: target 3.0, not measured.
    """
    _require(indicators, ["label", "value", "ci_low", "ci_high", "target", "status"],
             "indicator_dashboard")
    words = _words(language)
    cols = ["value", "ci_low", "ci_high", "target"] + (["n"] if "n" in indicators else [])
    data = _numeric(indicators, cols).reset_index(drop=True)
    if "n" in data:
        _check_counts(data["n"], k_min, "indicator_dashboard")
    statuses = data["status"].fillna("not measured").astype(str).str.strip().str.lower()
    unknown = sorted(set(statuses) - set(_STATUS_STYLE))
    if unknown:
        raise ValueError(f"unknown indicator status(es): {', '.join(map(repr, unknown))}")
    to = words["to"]
    rows = max(len(data), 1)
    summary = []
    units = (data["unit"].fillna("").astype(str).str.strip().str.lower() if "unit" in data
             else pd.Series([""] * len(data), dtype=str))
    is_share = units.isin(_SHARE_UNITS).to_numpy()
    percent = is_share | units.isin(_PERCENT_UNITS).to_numpy()
    values = data[["value", "ci_low", "ci_high", "target"]].to_numpy()
    values = values * np.where(is_share, 100.0, 1.0)[:, None]

    def number(i: int, x: float) -> str:
        return f"{_fmt(x, language, 0)}%" if percent[i] else _fmt(x, language)
    with _default_style(), _style():
        fig = _new_figure(0.9 + 0.62 * rows, layout=None)
        renderer = fig.canvas.get_renderer()
        axes = [fig.add_subplot() for _ in range(len(data))]
        label_sizes, badge_width = [], 0.0
        for i, label in enumerate(data["label"]):
            ax = axes[i]
            value, low, high, target = values[i]
            status = statuses[i]
            colour, marker = _STATUS_STYLE[status]
            measured = status != "not measured" and not math.isnan(value)
            points = values[i][~np.isnan(values[i])]
            if math.isnan(value):  # nothing to place but the target: a 0-1 scale around it
                points = np.array([0.0, 100.0 if percent[i] else 1.0, *points])
            lo, hi = _dashboard_range(points, percent[i])
            pad = (hi - lo) * 0.15
            ax.set_xlim(lo - pad, hi + pad)
            ax.set_ylim(-0.6, 0.6)
            label_sizes.append(_inches(_row_labels(ax, [_wrap(label, 30, None)], 0)[0],
                                       renderer))
            ax.spines["left"].set_visible(False)
            ax.xaxis.set_major_formatter(_formatter(language, percent=percent[i]))
            ax.tick_params(axis="x", labelsize=7)
            part = f"{label}: "
            if measured:
                if not (math.isnan(low) or math.isnan(high)):
                    ax.plot([low, high], [0, 0], color=colour, linewidth=2.5,
                            solid_capstyle="butt")
                    ci = f" ({words['ci']} {number(i, low)} {to} {number(i, high)})"
                else:
                    ci = ""
                ax.scatter(value, 0, color=colour, marker=marker or "o", s=60, zorder=3,
                           edgecolor="black", linewidth=0.5)
                part += f"{words['value']} {number(i, value)}{ci}, "
            elif status != "not measured":  # measured, but the value rests on a small group
                hidden = words["suppressed_note"].format(k=k_min)
                left = math.isnan(target) or target > (lo + hi) / 2  # away from the target
                ax.text(lo if left else hi, 0, hidden, ha="left" if left else "right",
                        va="center", fontsize=8, color="#555555", fontstyle="italic")
                part += f"{words['value']} {hidden}, "
            if not math.isnan(target):
                ax.axvline(target, color="black", linestyle="--", linewidth=1)
                marked = f"{words['target']} {number(i, target)}"
                if target > hi + pad - 0.2 * (hi - lo + 2 * pad):  # at the right end: leftwards
                    ax.text(target, 0.45, marked + " ", fontsize=7, va="center", ha="right")
                else:
                    ax.text(target, 0.45, " " + marked, fontsize=7, va="center", ha="left")
                part += f"{words['target'].lower()} {number(i, target)}, "
            badge = ax.text(1.01, 0.5, words[status], transform=ax.transAxes, va="center",
                            ha="left", color="black", fontweight="bold", fontsize=8.5,
                            bbox={"boxstyle": "round,pad=0.25", "facecolor": colour,
                                  "alpha": 0.35, "edgecolor": colour})
            badge_width = max(badge_width, _inches(badge, renderer)[0])
            summary.append(part + words[status])
        left = max((w for w, _ in label_sizes), default=0.0) + 3.5 * _PT + _GAP
        # the badge starts 1% of the axes width right of it and has a 0.25 em pad each side
        width = (_WIDTH - left - badge_width - 0.5 * 8.5 * _PT - _GAP) / 1.01
        below = _TICK + _line_height(renderer, 7)[0]
        extents = _stack(fig, [(1, 0.0, below, h, h) for _, h in label_sizes],
                         _suptitle(fig, title), 0.0)
        for ax, (y, height) in zip(axes, extents, strict=True):
            _place(ax, left, y, width, height)
    if words is WORDS["ru"]:
        alt = f"Показатели и целевые значения{': ' + title if title else ''}. "
    else:
        alt = f"Indicators against their targets{': ' + title if title else ''}. "
    alt += _list(summary) + "."
    return _finish(fig, alt, title)


def participation_bars(
    counts: pd.DataFrame,
    title: str = "",
    language: str = "en",
    k_min: int = 5,
) -> FigureOutput:
    """Counts of participants by group (country, sector, gender …), one panel per group.

    Parameters
    ----------
    counts : DataFrame
        Columns ``group`` (panel, e.g. "Country"), ``category`` (e.g. "Tajikistan") and ``n``
        (NaN where suppressed). Rows keep their order within a group.
    title, language, k_min
        As in :func:`likert_diverging`.

    Returns
    -------
    FigureOutput

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.figures import participation_bars
    >>> counts = pd.DataFrame({"group": ["Country"] * 3 + ["Gender"] * 2,
    ...     "category": ["Kazakhstan", "Тоҷикистон", "Oʻzbekiston", "Women", "Men"],
    ...     "n": [6, 6, None, 14, 16]})
    >>> out = participation_bars(counts)
    >>> print(out.alt_text.split(". ", 1)[1])
    Country: Kazakhstan 6, Тоҷикистон 6, Oʻzbekiston suppressed (privacy); Gender: Women 14,
    Men 16.
    """
    _require(counts, ["group", "category", "n"], "participation_bars")
    words = _words(language)
    data = _numeric(counts, ["n"]).reset_index(drop=True)
    _check_counts(data["n"], k_min, "participation_bars")
    note = words["suppressed_note"].format(k=k_min)
    groups = list(dict.fromkeys(data["group"].astype(str)))
    sizes = [int((data["group"].astype(str) == g).sum()) for g in groups]
    summary = []
    with _default_style(), _style():
        fig = _new_figure(0.8 + 0.32 * sum(sizes) + 0.45 * len(groups), layout=None)
        renderer = fig.canvas.get_renderer()
        top_n = np.nanmax(data["n"].to_numpy()) if data["n"].notna().any() else float(k_min)
        line = _line_height(renderer, 9)[0]
        panels = []  # (axes, rows, title height, first and last label height)
        label_width = 0.0
        for group in groups:
            ax = fig.add_subplot()
            part = data[data["group"].astype(str) == group]
            n, categories = part["n"].to_numpy(), [str(c) for c in part["category"]]
            rows = np.arange(len(n))
            hidden = np.isnan(n)
            for j in rows[hidden]:
                ax.text(0, j, " " + note, va="center", ha="left", color="#555555",
                        fontstyle="italic", fontsize=8)
            ax.barh(rows[~hidden], n[~hidden], color=OKABE_ITO["blue"], height=0.65)
            for j in rows[~hidden]:
                ax.text(n[j], j, f" {int(n[j])}", va="center", ha="left", fontsize=8)
            items = [f"{c} {note}" if math.isnan(v) else f"{c} {int(v)}"
                     for c, v in zip(categories, n, strict=True)]
            labels = _row_labels(ax, [_wrap(c, 30) for c in categories])
            sizes_in = [_inches(t, renderer) for t in labels]
            label_width = max([label_width] + [w for w, _ in sizes_in])
            ax.set_ylim(len(n) - 0.5, -0.5)
            ax.set_xlim(0, top_n * 1.15)
            heading = ax.set_title(group, loc="left", fontsize=9.5, fontweight="bold", y=1.0)
            title_height = (_inches(heading, renderer)[1]
                            - _line_height(renderer, 9.5)[1] + 6 * _PT)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.xaxis.set_major_formatter(_formatter(language))
            panels.append((ax, len(n), title_height, sizes_in[0][1], sizes_in[-1][1]))
            summary.append(f"{group}: " + ", ".join(items))
        _xlabel(panels[-1][0], words["participants"], line)
        below = [_TICK + line] * (len(panels) - 1) + [_TICK + 2 * line + 4 * _PT]
        extents = _stack(fig, [(n_rows, title_h, below_h, first, last) for
                               (_, n_rows, title_h, first, last), below_h in
                               zip(panels, below, strict=True)], _suptitle(fig, title), 0.0)
        left = label_width + _TICK + _GAP
        for (ax, *_), (y, height) in zip(panels, extents, strict=True):
            _place(ax, left, y, _WIDTH - left - _GAP, height)
    if words is WORDS["ru"]:
        alt = f"Столбчатая диаграмма числа участников по группам{': ' + title if title else ''}. "
    else:
        alt = f"Bar chart of participant counts by group{': ' + title if title else ''}. "
    alt += _list(summary, limit=8) + "."
    return _finish(fig, alt, title)


def knowledge_by_question(
    df: pd.DataFrame,
    wave_labels: Sequence[str] | None = None,
    title: str = "",
    language: str = "en",
    k_min: int = 5,
) -> FigureOutput:
    """Percent correct per knowledge question, before and after, as paired bars.

    Parameters
    ----------
    df : DataFrame
        Columns ``question``, ``pct_pre``, ``pct_post`` (percent correct; NaN where
        suppressed); an optional ``n`` is checked against ``k_min``.
    wave_labels : pair of str, optional
        Default "Before"/"After" in the report language.
    title, language, k_min
        As in :func:`likert_diverging`.

    Returns
    -------
    FigureOutput

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.figures import knowledge_by_question
    >>> df = pd.DataFrame({"question": ["Pillar I of the UN Strategy", "What is a NAP?"],
    ...     "pct_pre": [40.0, 55.0], "pct_post": [85.0, None]})
    >>> out = knowledge_by_question(df, language="ru")
    >>> print(out.alt_text.split(". ", 1)[1])
    Pillar I of the UN Strategy: До семинара 40,0%, После семинара 85,0%;
    What is a NAP?: До семинара 55,0%, После семинара скрыто (конфиденциальность).
    """
    _require(df, ["question", "pct_pre", "pct_post"], "knowledge_by_question")
    words = _words(language)
    before, after = wave_labels if wave_labels is not None else (words["before"], words["after"])
    cols = ["pct_pre", "pct_post"] + (["n"] if "n" in df else [])
    data = _numeric(df, cols).reset_index(drop=True)
    if "n" in data:
        _check_counts(data["n"], k_min, "knowledge_by_question")
    note = words["suppressed_note"].format(k=k_min)
    rows = len(data)
    waves = ((data["pct_pre"].to_numpy(), -0.19, OKABE_ITO["orange"], "///", before),
             (data["pct_post"].to_numpy(), 0.19, OKABE_ITO["blue"], "", after))
    summary = []
    for i, question in enumerate(data["question"]):
        parts = [f"{wave} {note}" if math.isnan(values[i]) else
                 f"{wave} {_fmt(values[i], language)}%" for values, _, _, _, wave in waves]
        summary.append(f"{question}: " + ", ".join(parts))
    with _default_style(), _style():
        fig = _new_figure(1.3 + 0.55 * rows, layout=None)
        renderer = fig.canvas.get_renderer()
        ax = fig.add_subplot()
        ys = np.arange(rows)
        for values, offset, colour, hatch, _ in waves:
            hidden = np.isnan(values)
            for i in ys[hidden]:
                ax.text(0, i + offset, " " + note, va="center", ha="left", fontsize=7.5,
                        color="#555555", fontstyle="italic")
            ax.barh(ys[~hidden] + offset, values[~hidden], height=0.36, color=colour,
                    hatch=hatch, edgecolor="white", linewidth=0)
            for i in ys[~hidden]:
                ax.text(values[i], i + offset, f" {values[i]:.0f}%", va="center", ha="left",
                        fontsize=7.5)
        labels = _row_labels(ax, [_wrap(q, 34) for q in data["question"]])
        ax.set_ylim(rows - 0.5, -0.5)
        ax.set_xlim(0, 110)
        ax.set_xticks([0, 25, 50, 75, 100])
        handles = [
            mpl.patches.Patch(facecolor=OKABE_ITO["orange"], hatch="///", edgecolor="white",
                              label=before),
            mpl.patches.Patch(facecolor=OKABE_ITO["blue"], label=after),
        ]
        _single_panel(ax, labels, words["percent_correct"],
                      _axes_title(ax, _wrap(title, 48, None), renderer) if title else 0.0,
                      _bottom_legend(fig, handles, 2))
    if words is WORDS["ru"]:
        alt = f"Доля правильных ответов по {rows} вопросам{': ' + title if title else ''}. "
    else:
        alt = f"Percent correct for {rows} knowledge questions{': ' + title if title else ''}. "
    alt += _list(summary) + "."
    return _finish(fig, alt, title)
