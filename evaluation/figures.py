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
  drawn; suppressed (NaN) cells are left as gaps with the note "suppressed (<5)".
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
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib as mpl
import matplotlib.colors
import matplotlib.lines
import matplotlib.patches
import matplotlib.style
import numpy as np
import pandas as pd
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
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
        "suppressed_note": "suppressed (<{k})",
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
        "suppressed_note": "скрыто (<{k})",
        "percent": "Доля респондентов, %",
        "percent_correct": "Доля правильных ответов, %",
        "mean": "Средний балл",
        "change": "Изменение (95% ДИ)",
        "participants": "Участники",
        "met": "достигнут",
        "not met": "не достигнут",
        "inconclusive": "не определено",
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
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
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


def _formatter(language: str, absolute: bool = False) -> FuncFormatter:
    """Tick labels as short as exact (2.25 stays 2.25), decimal comma in Russian."""
    comma = _words(language) is WORDS["ru"]

    def fmt(x: float, _pos: int) -> str:
        value = abs(x) if absolute else x
        text = "0" if abs(value) < 1e-12 else f"{value:.6g}"
        return text.replace(".", ",") if comma else text

    return FuncFormatter(fmt)


def _wrap(label: object, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


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


def _new_figure(height: float) -> Figure:
    # At the output resolution, so the single draw in _finish lays out and renders with one
    # renderer (and one cache of text sizes).
    fig = Figure(figsize=(_WIDTH, max(height, 1.6)), dpi=_DPI, facecolor="white",
                 layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finish(fig: Figure, alt_text: str, caption: str) -> FigureOutput:
    """Draw once (constrained layout runs inside the draw) and encode as RGB PNG.

    ``savefig`` would lay out and draw twice (a layout pass, then layout and drawing again);
    the PNG holds no metadata but its resolution.
    """
    canvas = fig.canvas
    canvas.draw()
    image = PIL.Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="png", dpi=(_DPI, _DPI),
                              compress_level=_PNG_COMPRESSION)
    return FigureOutput(buffer.getvalue(), alt_text, caption, fig)


def _style() -> Any:
    return mpl.rc_context(_RC)


def _default_style() -> Any:
    return mpl.style.context("default")


def _list(parts: Sequence[str], limit: int = 15) -> str:
    shown = list(parts[:limit])
    if len(parts) > limit:
        shown.append(f"… (+{len(parts) - limit})")
    return "; ".join(shown)


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
) -> FigureOutput:
    """Diverging stacked bars of Likert answer shares, one bar per item.

    Parameters
    ----------
    dist : DataFrame
        Index: item labels (report language). Columns: the answer categories in their fixed
        order from most negative to most positive. Values: percent of respondents. A row with
        any NaN is a suppressed item and is drawn as a gap with a note.
    neutral_column : str, optional
        The middle category, split half left and half right of zero. Without one the
        categories split in halves (an even number is then required).
    title : str, default ""
        Figure title and caption.
    language : {"en", "ru"}, default "en"
        Language of the figure's fixed words; legend entries are the column names.
    k_min : int, default 5
        Threshold quoted in the "suppressed (<k)" note.

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
    >>> "suppressed (<5)" in out.alt_text
    True
    >>> two = pd.DataFrame([[30.0, 70.0]], index=["Useful"], columns=["Other answers", "Agree"])
    >>> likert_diverging(two, neutral_column="Other answers").alt_text.split(". ")[-1]
    'Useful: 70.0% Agree, 30.0% Other answers.'
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
    if neutral_column is not None:
        if str(neutral_column) not in categories:
            raise ValueError(f"neutral_column {neutral_column!r} is not one of the columns")
        mid = categories.index(str(neutral_column))
        negative, positive = categories[:mid], categories[mid + 1 :]
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
    with _default_style(), _style():
        fig = _new_figure(1.3 + 0.42 * n_items)
        ax = fig.add_subplot()
        labels, extent, summary = [], 0.0, []
        for row, (item, shares) in enumerate(values.iterrows()):
            labels.append(_wrap(item))
            if shares.isna().any():
                ax.text(0, row, suppressed_note, ha="center", va="center", color="#555555",
                        fontstyle="italic")
                summary.append(f"{item}: {suppressed_note}")
                continue
            neutral = shares[str(neutral_column)] if neutral_column is not None else 0.0
            left = -(shares[negative].sum() + neutral / 2)
            extent = max(extent, -left, left + shares.sum())
            for cat in categories:
                width = shares[cat]
                if width > 0:
                    ax.barh(row, width, left=left, color=colours[cat], height=0.7,
                            edgecolor="white", linewidth=0.5)
                    if width >= 7:
                        ax.text(left + width / 2, row, f"{width:.0f}", ha="center", va="center",
                                fontsize=7.5, color=_text_colour(colours[cat]))
                left += width
            groups = [(shares[positive].sum(), joiner.join(positive))] if positive else []
            if neutral_column is not None:
                groups.append((neutral, str(neutral_column)))
            if negative:
                groups.append((shares[negative].sum(), joiner.join(negative)))
            summary.append(f"{item}: " + ", ".join(f"{_fmt(share, language)}% {name}"
                                                   for share, name in groups))
        # legend entries in the fixed category order, even if some were empty
        handles = [mpl.patches.Patch(color=colours[c], label=c) for c in categories]
        long = sum(len(c) for c in categories) > 60
        ncol = math.ceil(len(categories) / 2) if long else len(categories)
        # matplotlib fills legend columns first; reorder so rows read in category order
        handles = [handles[i] for c in range(ncol) for i in range(c, len(handles), ncol)]
        fig.legend(handles=handles, loc="outside lower center", ncol=ncol, frameon=False,
                   fontsize=8)
        limit = max(50.0, math.ceil(extent / 10) * 10) if extent else 50.0
        ax.set_xlim(-limit, limit)
        ax.axvline(0, color="#333333", linewidth=0.8)
        ax.set_yticks(range(n_items), labels)
        ax.set_ylim(n_items - 0.5, -0.5)
        ax.xaxis.set_major_formatter(_formatter(language, absolute=True))
        ax.set_xlabel(words["percent"])
        if title:
            ax.set_title(textwrap.fill(title, 48), loc="left")
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
    summary = []
    with _default_style(), _style():
        fig = _new_figure(1.4 + 0.45 * rows)
        ax, axc = fig.subplots(1, 2, sharey=True, width_ratios=[3, 2])
        labels = []
        for i, r in data.iterrows():
            n_text = f"n={int(r['n'])}" if not math.isnan(r["n"]) else f"n<{k_min}"
            labels.append(f"{_wrap(r['label'], 28)}\n({n_text})")
            if math.isnan(r["mean_a"]) or math.isnan(r["mean_b"]):
                ax.text(0.5, i, note, transform=ax.get_yaxis_transform(), ha="center",
                        va="center", color="#555555", fontstyle="italic")
                summary.append(f"{r['label']}: {note}")
                continue
            ax.plot([r["mean_a"], r["mean_b"]], [i, i], color="#AAAAAA", linewidth=2, zorder=1)
            ax.scatter(r["mean_a"], i, color=OKABE_ITO["orange"], marker="o", s=45, zorder=2)
            ax.scatter(r["mean_b"], i, color=OKABE_ITO["blue"], marker="s", s=45, zorder=2)
            change = r["mean_b"] - r["mean_a"]
            part = (f"{r['label']}: {before} {_fmt(r['mean_a'], language)}, "
                    f"{after} {_fmt(r['mean_b'], language)}, "
                    f"{words['change_word']} "
                    f"{_fmt(change, language, sign=True)}")
            if not (math.isnan(r["ci_low"]) or math.isnan(r["ci_high"])):
                axc.plot([r["ci_low"], r["ci_high"]], [i, i], color=OKABE_ITO["blue"],
                         linewidth=1.6)
                part += (f" ({words['ci']} {_fmt(r['ci_low'], language)} "
                         f"{words['to']} {_fmt(r['ci_high'], language)})")
            axc.scatter(change, i, color=OKABE_ITO["blue"], marker="s", s=30, zorder=2)
            part += f", {n_text}"
            summary.append(part)
        ax.set_yticks(range(rows), labels)
        ax.set_ylim(rows - 0.5, -0.5)
        ax.set_xlabel(words["mean"])
        axc.axvline(0, color="#333333", linewidth=0.8)
        axc.set_xlabel(words["change"])
        ax.xaxis.set_major_formatter(_formatter(language))
        axc.xaxis.set_major_formatter(_formatter(language))
        handles = [
            mpl.lines.Line2D([], [], color=OKABE_ITO["orange"], marker="o", linestyle="",
                             label=before),
            mpl.lines.Line2D([], [], color=OKABE_ITO["blue"], marker="s", linestyle="",
                             label=after),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
        if title:
            fig.suptitle(textwrap.fill(title, 80), x=0.02, ha="left", fontsize=11)
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
        ``k_min``. Each row gets its own scale, because indicators have different units.
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
    with _default_style(), _style():
        fig = _new_figure(0.9 + 0.62 * rows)
        axes = fig.subplots(rows, 1, squeeze=False)[:, 0]
        for i, r in data.iterrows():
            ax = axes[i]
            status = statuses[i]
            colour, marker = _STATUS_STYLE[status]
            measured = status != "not measured" and not math.isnan(r["value"])
            points = [v for v in (r["value"], r["ci_low"], r["ci_high"], r["target"])
                      if not math.isnan(v)]
            lo, hi = (min(points), max(points)) if points else (0.0, 1.0)
            pad = (hi - lo) * 0.15 or max(abs(hi) * 0.1, 1.0)
            ax.set_xlim(lo - pad, hi + pad)
            ax.set_ylim(-0.6, 0.6)
            ax.set_yticks([0], [_wrap(r["label"], 30)])
            ax.spines["left"].set_visible(False)
            ax.tick_params(axis="y", length=0)
            ax.xaxis.set_major_formatter(_formatter(language))
            ax.tick_params(axis="x", labelsize=7)
            part = f"{r['label']}: "
            if measured:
                if not (math.isnan(r["ci_low"]) or math.isnan(r["ci_high"])):
                    ax.plot([r["ci_low"], r["ci_high"]], [0, 0], color=colour, linewidth=2.5,
                            solid_capstyle="butt")
                    ci = (f" ({words['ci']} {_fmt(r['ci_low'], language)} {to} "
                          f"{_fmt(r['ci_high'], language)})")
                else:
                    ci = ""
                ax.scatter(r["value"], 0, color=colour, marker=marker or "o", s=60, zorder=3,
                           edgecolor="black", linewidth=0.5)
                part += f"{words['value']} {_fmt(r['value'], language)}{ci}, "
            if not math.isnan(r["target"]):
                ax.axvline(r["target"], color="black", linestyle="--", linewidth=1)
                ax.text(r["target"], 0.45, f" {words['target']} {_fmt(r['target'], language)}",
                        fontsize=7, va="center", ha="left")
                part += f"{words['target'].lower()} {_fmt(r['target'], language)}, "
            ax.text(1.01, 0.5, words[status], transform=ax.transAxes, va="center", ha="left",
                    color="black", fontweight="bold", fontsize=8.5,
                    bbox={"boxstyle": "round,pad=0.25", "facecolor": colour, "alpha": 0.35,
                          "edgecolor": colour})
            summary.append(part + words[status])
        if title:
            fig.suptitle(textwrap.fill(title, 80), x=0.02, ha="left", fontsize=11)
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
    Country: Kazakhstan 6, Тоҷикистон 6, Oʻzbekiston suppressed (<5); Gender: Women 14, Men 16.
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
        fig = _new_figure(0.8 + 0.32 * sum(sizes) + 0.45 * len(groups))
        axes = fig.subplots(len(groups), 1, squeeze=False, height_ratios=sizes)[:, 0]
        top = np.nanmax(data["n"].to_numpy()) if data["n"].notna().any() else float(k_min)
        for ax, group in zip(axes, groups, strict=True):
            part = data[data["group"].astype(str) == group].reset_index(drop=True)
            items = []
            for j, r in part.iterrows():
                if math.isnan(r["n"]):
                    ax.text(0, j, " " + note, va="center", ha="left", color="#555555",
                            fontstyle="italic", fontsize=8)
                    items.append(f"{r['category']} {note}")
                else:
                    ax.barh(j, r["n"], color=OKABE_ITO["blue"], height=0.65)
                    ax.text(r["n"], j, f" {int(r['n'])}", va="center", ha="left", fontsize=8)
                    items.append(f"{r['category']} {int(r['n'])}")
            ax.set_yticks(range(len(part)), [_wrap(c, 30) for c in part["category"]])
            ax.set_ylim(len(part) - 0.5, -0.5)
            ax.set_xlim(0, top * 1.15)
            ax.set_title(group, loc="left", fontsize=9.5, fontweight="bold")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.xaxis.set_major_formatter(_formatter(language))
            summary.append(f"{group}: " + ", ".join(items))
        axes[-1].set_xlabel(words["participants"])
        if title:
            fig.suptitle(textwrap.fill(title, 80), x=0.02, ha="left", fontsize=11)
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
    What is a NAP?: До семинара 55,0%, После семинара скрыто (<5).
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
    summary = []
    with _default_style(), _style():
        fig = _new_figure(1.3 + 0.55 * rows)
        ax = fig.add_subplot()
        for i, r in data.iterrows():
            parts = []
            for value, offset, colour, hatch, wave in (
                (r["pct_pre"], -0.19, OKABE_ITO["orange"], "///", before),
                (r["pct_post"], 0.19, OKABE_ITO["blue"], "", after),
            ):
                if math.isnan(value):
                    ax.text(0, i + offset, " " + note, va="center", ha="left", fontsize=7.5,
                            color="#555555", fontstyle="italic")
                    parts.append(f"{wave} {note}")
                else:
                    ax.barh(i + offset, value, height=0.36, color=colour, hatch=hatch,
                            edgecolor="white", linewidth=0)
                    ax.text(value, i + offset, f" {value:.0f}%", va="center", ha="left",
                            fontsize=7.5)
                    parts.append(f"{wave} {_fmt(value, language)}%")
            summary.append(f"{r['question']}: " + ", ".join(parts))
        ax.set_yticks(range(rows), [_wrap(q, 34) for q in data["question"]])
        ax.set_ylim(rows - 0.5, -0.5)
        ax.set_xlim(0, 110)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel(words["percent_correct"])
        handles = [
            mpl.patches.Patch(facecolor=OKABE_ITO["orange"], hatch="///", edgecolor="white",
                              label=before),
            mpl.patches.Patch(facecolor=OKABE_ITO["blue"], label=after),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
        if title:
            ax.set_title(textwrap.fill(title, 48), loc="left")
    if words is WORDS["ru"]:
        alt = f"Доля правильных ответов по {rows} вопросам{': ' + title if title else ''}. "
    else:
        alt = f"Percent correct for {rows} knowledge questions{': ' + title if title else ''}. "
    alt += _list(summary) + "."
    return _finish(fig, alt, title)
