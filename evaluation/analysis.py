"""Analysis of one workshop: every table the report needs, after disclosure control.

:func:`analyze_workshop` takes the cleaned, pseudonymised waves that ingest produces (one
DataFrame per wave, indexed by ``record_id``, answer codes as text, a ``participant_key`` linking
waves and a ``collision`` flag) and returns a :class:`WorkshopAnalysis` holding numeric tables:

- ``items`` and ``scales``: the columns of ``results/items.csv`` and ``results/scales.csv`` in
  DESIGN.md, one row per item (scale) and wave pair: pre→post (matched pairs, the primary
  estimate), retro→post (retrospective pretest, within the post respondents), pre→retro
  (response shift), pre→followup and post→followup where items recur;
- ``unpaired``: the all-respondents comparison beside the matched one (R-ID-08);
- ``matching_bias``: matched versus unmatched baseline respondents (R-ID-07);
- ``reliability``, ``knowledge``, ``reaction``, ``followup``, ``cooperation``,
  ``participation``, ``disaggregation`` and ``distributions``;
- ``sdc_log``: which cells disclosure control suppressed and why (never their values).

Rules (stated in the report's methodology):

- Matched pairs of two waves are the records of both waves with the same non-missing
  ``participant_key`` whose ``collision`` flag is false. Retro→post pairs are the post records
  themselves (both ratings are given on the post form).
- Every table passes through :mod:`evaluation.disclosure` before it leaves this module: a row
  resting on fewer than ``k_min`` respondents (``max(k_min, 10)`` for items of
  ``sensitivity: high``) has every statistic set to NaN and ``suppressed`` true; shares are checked
  as counts (a share whose count, or whose complement, is under ``k_min`` is hidden with a
  complementary cell); subgroup tables collapse small subgroups first (R-SDC-03) and are protected
  together so that their suppressions agree across tables sharing margins (R-SDC-05).
  The numeric tables hold NaN where a cell is suppressed; :attr:`WorkshopAnalysis.display` holds
  the same tables as text (``"<5"``, ``"–"``).
- Holm's adjustment runs across the published items of one scale within one wave pair.
- Absent waves, instruments without retrospective items and zero matched pairs give empty or
  fully suppressed tables (with the DESIGN.md columns), never an exception.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from evaluation import scoring, stats
from evaluation.disclosure import (
    DisclosurePolicy,
    ProtectedTable,
    SdcLog,
    collapse_likert,
    collapse_small_groups,
    protect_related_tables,
    protect_statistics_table,
)
from evaluation.instrument import Instrument

if TYPE_CHECKING:
    from evaluation.ingest import IngestResult

__all__ = [
    "ITEM_COLUMNS",
    "SCALE_COLUMNS",
    "REACTION_COLLAPSED_COLUMNS",
    "ITEM_DISTRIBUTION_COLUMNS",
    "WAVE_PAIRS",
    "READINESS_INDEX",
    "SECTOR_GROUPS",
    "HIGH_SENSITIVITY_K",
    "WorkshopAnalysis",
    "analyze_folder",
    "analyze_workshop",
    "matched_pairs",
    "wave_frame",
    "effective_k_min",
    "welch_interval",
]

#: Columns of ``results/items.csv`` (DESIGN.md), in order.
ITEM_COLUMNS = (
    "item_id", "scale_id", "wave_a", "wave_b", "n_pairs", "mean_a", "mean_b", "mean_change",
    "mean_change_ci_low", "mean_change_ci_high", "wilcoxon_v", "p_value", "p_holm",
    "rank_biserial", "rank_biserial_ci_low", "rank_biserial_ci_high", "pct_improved",
    "pct_unchanged", "pct_declined", "suppressed",
)
#: Columns of ``results/scales.csv`` (DESIGN.md), in order.
SCALE_COLUMNS = (
    "scale_id", "wave_a", "wave_b", "n_items", "n_pairs", "alpha_a", "alpha_b", "mean_a",
    "mean_b", "mean_change", "mean_change_ci_low", "mean_change_ci_high", "t", "df", "p_value",
    "cohen_dz", "cohen_dz_ci_low", "cohen_dz_ci_high", "suppressed",
)
#: Wave pairs compared, ``(a, b)`` with change ``b - a``; the first is the primary estimate.
WAVE_PAIRS = (
    ("pre", "post"),
    ("retro", "post"),
    ("pre", "retro"),
    ("pre", "followup"),
    ("post", "followup"),
)
#: ``scale_id`` of the readiness domain index row of the scales table.
READINESS_INDEX = "readiness_index"
#: Sector codes grouped for disaggregation (government vs civil society), as donors ask.
SECTOR_GROUPS = {"LE": "government", "SOC": "government", "CSO": "civil_society",
                 "INT": "international"}
#: Threshold for items of ``sensitivity: high`` (R-DP-10): ``max(k_min, 10)``.
HIGH_SENSITIVITY_K = 10
#: Disaggregation dimensions: profile role → how codes are grouped.
_DIMENSIONS = ("country", "sector", "gender", "involvement")
#: Likert items without a scale shown by subgroup (collapsed to 3 categories), if present.
_DISTRIBUTION_ITEMS = ("re_better_positioned", "re_relevance", "re_satisfaction")
_UNPAIRED_PAIRS = (("pre", "post"), ("pre", "followup"), ("post", "followup"))
_COLLAPSED = ("disagree", "neutral", "agree")
#: Columns of :attr:`WorkshopAnalysis.reaction_collapsed`.
REACTION_COLLAPSED_COLUMNS = ("item_id", "n", "disagree", "neutral", "agree", "count_missing",
                              "suppressed")
#: Columns of :attr:`WorkshopAnalysis.item_distributions`.
ITEM_DISTRIBUTION_COLUMNS = ("item_id", "wave", "n", "disagree", "neutral", "agree",
                             "suppressed")
_APPLIED_YES = ("several", "once")


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass
class WorkshopAnalysis:
    """All tables of one workshop, after disclosure control.

    Numeric tables hold NaN in suppressed cells; :attr:`display` has the same tables as text.
    ``matched`` maps ``"pre-post"`` (etc.) to the number of matched pairs (internal: use the
    published ``participation`` table in reports). ``notes`` lists defined results of edge
    cases (absent waves, no retrospective items, no matched pairs).
    """

    items: pd.DataFrame
    scales: pd.DataFrame
    unpaired: pd.DataFrame
    matching_bias: pd.DataFrame
    reliability: pd.DataFrame
    knowledge: pd.DataFrame
    reaction: pd.DataFrame
    followup: pd.DataFrame
    cooperation: pd.DataFrame
    participation: pd.DataFrame
    disaggregation: pd.DataFrame
    distributions: pd.DataFrame
    sdc_log: pd.DataFrame
    k_min: int
    instrument: Instrument
    waves: tuple[str, ...]
    matched: dict[str, int] = field(default_factory=dict)
    display: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    protected: dict[str, ProtectedTable] = field(default_factory=dict)
    reaction_collapsed: pd.DataFrame = field(
        default_factory=lambda: _empty(REACTION_COLLAPSED_COLUMNS))
    item_distributions: pd.DataFrame = field(
        default_factory=lambda: _empty(ITEM_DISTRIBUTION_COLUMNS))

    TABLES = ("items", "scales", "unpaired", "matching_bias", "reliability", "knowledge",
              "reaction", "followup", "cooperation", "participation", "disaggregation",
              "distributions", "reaction_collapsed", "item_distributions")

    def tables(self) -> dict[str, pd.DataFrame]:
        """The published numeric tables by name (the SDC log excluded: it is not published)."""
        return {name: getattr(self, name) for name in self.TABLES}


# --------------------------------------------------------------------------------------------
# Pairs and frames
# --------------------------------------------------------------------------------------------


def wave_frame(waves: Mapping[str, pd.DataFrame], wave: str) -> pd.DataFrame | None:
    """The frame holding ``wave``'s answers (``retro`` answers live in the post frame).

    Examples
    --------
    >>> import pandas as pd
    >>> post = pd.DataFrame({"x": [1]})
    >>> wave_frame({"post": post}, "retro") is post, wave_frame({"post": post}, "pre")
    (True, None)
    """
    frame = waves.get("post" if wave == "retro" else wave)
    return frame


def _linkable(frame: pd.DataFrame) -> pd.Series:
    """``participant_key`` of records usable in paired analysis (index = record_id)."""
    if "participant_key" not in frame.columns:
        return pd.Series([], dtype=object)
    keys = frame["participant_key"]
    ok = keys.notna()
    if "collision" in frame.columns:
        ok &= ~frame["collision"].fillna(False).astype(bool)
    keys = keys[ok].astype(str)
    # A key twice in one wave is ambiguous: never pair it.
    return keys[~keys.duplicated(keep=False)]


def matched_pairs(waves: Mapping[str, pd.DataFrame], wave_a: str, wave_b: str) -> pd.DataFrame:
    """Matched records of two waves: columns ``record_a``, ``record_b``; index participant key.

    Pairs are records of both waves with the same non-missing ``participant_key`` and
    ``collision`` false, sorted by key. ``retro`` with ``post`` pairs every post record with
    itself (both ratings are on the post form); ``pre`` with ``retro`` uses the pre→post pairs.

    Examples
    --------
    >>> import pandas as pd
    >>> pre = pd.DataFrame({"participant_key": ["P1", "P2", None], "collision": False},
    ...                    index=pd.Index(["a", "b", "c"], name="record_id"))
    >>> post = pd.DataFrame({"participant_key": ["P2", "P1"], "collision": [False, True]},
    ...                     index=pd.Index(["x", "y"], name="record_id"))
    >>> matched_pairs({"pre": pre, "post": post}, "pre", "post")
                    record_a record_b
    participant_key
    P2                     b        x
    """
    empty = pd.DataFrame({"record_a": pd.Series([], dtype=object),
                          "record_b": pd.Series([], dtype=object)})
    empty.index.name = "participant_key"
    fa, fb = wave_frame(waves, wave_a), wave_frame(waves, wave_b)
    if fa is None or fb is None:
        return empty
    if {wave_a, wave_b} == {"retro", "post"}:
        recs = list(fa.index)
        out = pd.DataFrame({"record_a": recs, "record_b": recs}, dtype=object)
        out.index = pd.Index([str(r) for r in recs], name="participant_key")
        return out
    ka, kb = _linkable(fa), _linkable(fb)
    common = sorted(set(ka) & set(kb))
    if not common:
        return empty
    record_a = dict(zip(ka.to_numpy(), ka.index, strict=True))
    record_b = dict(zip(kb.to_numpy(), kb.index, strict=True))
    out = pd.DataFrame({"record_a": [record_a[key] for key in common],
                        "record_b": [record_b[key] for key in common]}, dtype=object)
    out.index = pd.Index(common, name="participant_key")
    return out


def effective_k_min(k_min: int = 5, config: Any = None) -> int:
    """The threshold in force: the stricter of the argument and ``config.privacy.k_min``.

    Examples
    --------
    >>> effective_k_min(5), effective_k_min(3)
    (5, 3)
    """
    k = int(k_min)
    privacy = getattr(config, "privacy", None)
    if privacy is not None and getattr(privacy, "k_min", None) is not None:
        k = max(k, int(privacy.k_min))
    return k


def welch_interval(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float, float]:
    """Welch difference ``mean(y) - mean(x)``, its confidence interval and the Welch df.

    Same as R ``t.test(y, x)$conf.int`` (unequal variances).

    Examples
    --------
    >>> d, lo, hi, df = welch_interval([1, 2, 3, 4], [2, 3, 5, 6, 7])
    >>> round(d, 3), round(lo, 4), round(hi, 4)
    (2.1, -0.595, 4.7951)
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    xa, ya = xa[~np.isnan(xa)], ya[~np.isnan(ya)]
    if xa.size < 2 or ya.size < 2:
        return math.nan, math.nan, math.nan, math.nan
    diff = float(ya.mean() - xa.mean())
    vx, vy = xa.var(ddof=1) / xa.size, ya.var(ddof=1) / ya.size
    se = math.sqrt(vx + vy)
    if se == 0:
        return diff, math.nan, math.nan, math.nan
    df = (vx + vy) ** 2 / (vx**2 / (xa.size - 1) + vy**2 / (ya.size - 1))
    q = float(_st.t.ppf(1 - (1 - confidence) / 2, df))
    return diff, diff - q * se, diff + q * se, float(df)


# --------------------------------------------------------------------------------------------
# Disclosure helpers
# --------------------------------------------------------------------------------------------


class _Sdc:
    """Collects the SDC log and display tables of one analysis run."""

    def __init__(self, k_min: int):
        self.k_min = k_min
        self.log = SdcLog()
        self.display: dict[str, pd.DataFrame] = {}
        # Frequency tables of the whole report, protected together by protect_counts().
        self.freq: dict[str, pd.DataFrame] = {}
        self.freq_opts: dict[str, dict] = {}
        self.protected: dict[str, ProtectedTable] = {}

    def add_counts(self, name: str, counts: pd.DataFrame, *, k: int | None = None,
                   class_rule: bool = True, group_rows: bool = True,
                   structural: Sequence[tuple[Hashable, Hashable]] = (),
                   published: Sequence[tuple[Hashable, Hashable]] = ()) -> None:
        """Register a count table; every registered table is protected in one pass.

        ``published``: cells the report gives elsewhere (never complementary suppressions).
        """
        self.freq[name] = counts.astype(int)
        self.freq_opts[name] = {"k": int(k or self.k_min), "class_rule": class_rule,
                                "group_rows": group_rows, "structural": list(structural),
                                "published": list(published)}

    def protect_counts(self) -> None:
        """Protect all registered count tables together (one call per threshold).

        Tables that share a margin (a wave's respondent count, a subgroup's size, an item's
        number of answers) are linked by :func:`protect_related_tables`, so the suppression
        pattern holds across the whole report (R-SDC-05).
        """
        for k in sorted({o["k"] for o in self.freq_opts.values()}):
            names = [n for n, o in self.freq_opts.items() if o["k"] == k]
            out = protect_related_tables(
                {n: self.freq[n] for n in names}, self.policy(k), self.log,
                structural_zeros={n: self.freq_opts[n]["structural"] for n in names},
                class_rule={n: self.freq_opts[n]["class_rule"] for n in names},
                group_rows={n: self.freq_opts[n]["group_rows"] for n in names},
                link_grand=False,
                published={n: self.freq_opts[n]["published"] for n in names
                           if self.freq_opts[n]["published"]},
            )
            for name, pt in out.items():
                self.protected[name] = pt
                self.display[name] = pt.display

    def published(self, name: str, row: Hashable, column: Hashable) -> float:
        """A protected count as published (NaN when suppressed or not registered)."""
        pt = self.protected.get(name)
        if pt is None:
            return np.nan
        value = pt.numeric.at[row, column]
        return float(value) if pd.notna(value) else np.nan

    def restate(self, name: str, column: str, texts: Sequence[str]) -> None:
        """Replace a column of the display table ``name`` (one text per row).

        A table function that changes a column of the numeric table after :meth:`protect`
        (a flag reset, a count hidden) restates that column here, so that the annex and the
        report show what ``results/*.csv`` holds.
        """
        disp = self.display[name]
        disp[column] = _text_column(np.array(list(texts), dtype=object), disp.index)

    def policy(self, k: int | None = None) -> DisclosurePolicy:
        k = int(k or self.k_min)
        return DisclosurePolicy(k_min=k, reliability_n=max(30, k))

    def protect(
        self,
        frame: pd.DataFrame,
        name: str,
        labels: Sequence[Hashable],
        count_columns: Sequence[str],
        value_columns: Sequence[str],
        *,
        percent_groups: Sequence[Sequence[str]] = (),
        linked: Mapping[str, Sequence[str]] | None = None,
        row_k: Sequence[int] | None = None,
        suppressed_column: str | None = None,
    ) -> pd.DataFrame:
        """Protect a statistics table; returns the published numeric table (NaN = suppressed).

        ``count_columns`` are the n's a row rests on (the smallest decides); ``linked`` maps a
        percentage column to columns that must be hidden with it (its confidence limits);
        ``row_k`` gives a per-row threshold (high-sensitivity items).
        """
        if frame.empty:
            out = frame.copy()
            self.display[name] = out.astype(object)
            return out
        work = frame.copy()
        work.index = pd.Index([str(x) for x in labels])
        counts = np.column_stack([
            pd.to_numeric(work[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            for c in count_columns])
        work["__n"] = np.nan_to_num(counts, nan=0.0).min(axis=1).astype(int)
        ks = np.array(list(row_k) if row_k is not None else [self.k_min] * len(work), dtype=int)
        pct_cols = [c for g in percent_groups for c in g]
        formats = {c: "{:.0f}" for c in count_columns}
        numeric_parts, display_parts = [], []
        for k in np.unique(ks).tolist():
            part = work if (ks == k).all() else work[ks == k]
            tmp_log = SdcLog()
            pt = protect_statistics_table(
                part, "__n", [*count_columns, *value_columns], self.policy(k), tmp_log, name,
                percent_groups=percent_groups, class_rule=False, formats=formats,
            )
            for e in tmp_log.entries:
                if e.column != "__n":
                    self.log.add(e.table, e.row, e.column, e.rule, e.threshold)
            num, disp, sup = pt.numeric.copy(), pt.display.copy(), pt.suppressed.copy()
            small = part["__n"].to_numpy(dtype=int) < k
            for c in count_columns:
                _publish_counts(num, disp, sup, c, small, k,
                                pd.to_numeric(part[c], errors="coerce").to_numpy(dtype=float))
            for pos, row in enumerate(part.index if linked else ()):
                for pct, deps in linked.items():
                    if bool(sup[pct].iat[pos]) and not small[pos]:
                        for dep in deps:
                            if not bool(sup[dep].iat[pos]):
                                _hide_cell(num, disp, sup, pos, dep)
                                self.log.add(name, row, dep, "complementary", k)
            if suppressed_column is not None:
                num[suppressed_column] = small
                disp[suppressed_column] = _text_column(np.where(small, "yes", ""), disp.index)
            numeric_parts.append(num)
            display_parts.append(disp)
        num = _in_row_order(numeric_parts, work.index)
        disp = _in_row_order(display_parts, work.index).drop(columns="__n")
        self.display[name] = disp.reset_index(drop=True)
        result = num[list(frame.columns)].reset_index(drop=True)
        for c in count_columns:
            result[c] = pd.to_numeric(result[c], errors="coerce").astype("Int64")
        if suppressed_column is not None:
            result[suppressed_column] = result[suppressed_column].astype(bool)
        for c in pct_cols + list(value_columns):
            if result[c].dtype != np.float64:
                result[c] = pd.to_numeric(result[c], errors="coerce").astype(float)
        result.index = frame.index
        return result


def _in_row_order(parts: list[pd.DataFrame], index: pd.Index) -> pd.DataFrame:
    """The row blocks of a table (protected one threshold at a time) put back in order."""
    return parts[0] if len(parts) == 1 else pd.concat(parts).loc[index]


def _publish_counts(num: pd.DataFrame, disp: pd.DataFrame, sup: pd.DataFrame, column: str,
                    small: np.ndarray, k: int, values: np.ndarray) -> None:
    """Show the ``n``'s of the small rows (``small``) of a protected statistics table.

    A count under ``k`` (zero included) reads ``"<k"``; a count of ``k`` or more, in a row that
    another, small ``n`` suppressed, is published. ``values`` are the counts before protection.
    """
    known = small & ~np.isnan(values)
    if not known.any():
        return
    hidden = known & (((values > 0) & (values < k)) | (values == 0))
    shown = known & ~hidden
    num[column] = np.where(hidden, np.nan, np.where(shown, values, num[column].to_numpy()))
    text = disp[column].to_numpy(dtype=object, copy=True)
    text[hidden] = f"<{k}"
    text[shown] = [f"{int(v)}" for v in values[shown]]
    disp[column] = _text_column(text, disp.index)
    if shown.any():
        sup[column] = sup[column].to_numpy(copy=True) & ~shown


def _text_column(values: np.ndarray, index: pd.Index) -> pd.Series:
    """A display column as text objects (pandas would otherwise infer its ``str`` dtype)."""
    return pd.Series(values, index=index, dtype=object)


def _hide_cell(num: pd.DataFrame, disp: pd.DataFrame, sup: pd.DataFrame, pos: int,
               column: str) -> None:
    """Suppress one cell (row position ``pos``) of a protected statistics table."""
    sup.iloc[pos, sup.columns.get_loc(column)] = True
    num.iloc[pos, num.columns.get_loc(column)] = np.nan
    disp.iloc[pos, disp.columns.get_loc(column)] = "–"


def _answer_position_sum(score_sum: float, n: int, clist: Any, reverse: bool) -> int | None:
    """Sum of the answers' positions (1 to m in the list's order) behind a sum of ``n`` scores.

    Scores are the integer codes, reflected for a reverse-keyed item (:mod:`evaluation.scoring`).
    ``None`` when the list's codes are not the consecutive integers of its score range in
    ascending order, or the sum is not one of whole answers: the positions are then unknown.
    """
    codes = [str(c) for c in clist.codes]
    low, high = clist.score_range or (1, len(codes))
    if codes != [str(v) for v in range(low, high + 1)]:
        return None
    code_sum = n * (low + high) - score_sum if reverse else score_sum
    position_sum = code_sum - n * (low - 1)
    return round(position_sum) if abs(position_sum - round(position_sum)) < 1e-6 else None


def mean_pins_hidden_counts(n: int, total: int, points: int,
                            collapsed: Mapping[str, float], min_width: int = 1) -> bool:
    """Whether the sum of the answers (mean times n) pins down a hidden collapsed count.

    The answers of an item on a ``points``-point scale (scored 1 to ``points``) are counted in
    three collapsed categories (:func:`_likert_categories`); ``collapsed`` gives each one's
    published count, NaN where it is hidden. Every way of answering that fits ``n``, the sum
    ``total`` and the published counts is enumerated; a hidden count is pinned when the values
    it takes over them span less than ``min_width`` (one value, for the default 1). Scales with
    more than 5 points, or more than 125 answers, are not enumerated and count as pinned (the
    caller then hides the mean).

    Parameters
    ----------
    n : int
        Respondents who answered on the scale.
    total : int
        Sum of their answers.
    points : int
        Points of the scale.
    collapsed : mapping
        ``"disagree"``, ``"neutral"`` (odd scales), ``"agree"`` → published count or NaN.
    min_width : int, default 1
        Narrowest span of values a hidden count may be narrowed to.

    Returns
    -------
    bool

    Examples
    --------
    Twenty-seven answers summing to 112, 24 of them agreeing: the three others could be 1s, 2s
    or 3s (the sum leaves the 4s and 5s open), so the mean may be shown. With the 4s and 5s
    known (17 and 7) the rest would be three 3s, but those are not in ``collapsed``:

    >>> from evaluation.analysis import mean_pins_hidden_counts
    >>> nan = float("nan")
    >>> mean_pins_hidden_counts(27, 112, 5, {"disagree": nan, "neutral": nan, "agree": 24})
    False

    Three non-agreeing answers and the highest possible sum leave only one way: all 3s, all
    others 5s.

    >>> mean_pins_hidden_counts(27, 24 * 5 + 3 * 3, 5, {"disagree": nan, "neutral": nan,
    ...                                                 "agree": 24})
    True
    """
    hidden = [c for c, v in collapsed.items() if v != v]
    if not hidden:
        return False
    if points > 5 or points < 2 or n < 0 or (n + 1) ** max(points - 2, 0) > 2_000_000:
        return True  # not enumerated here (a scale of 6+ points, or over 125 answers)
    cats = _likert_categories(points)
    # free counts: all but the two middle codes, which the count and the sum then determine
    j = points // 2 - 1 if points > 2 else 0
    free = [i for i in range(points) if i not in (j, j + 1)]
    grids = np.meshgrid(*[np.arange(n + 1)] * len(free), indexing="ij") if free else []
    counts = np.zeros((points, *(grids[0].shape if free else ())), dtype=np.int64)
    for i, g in zip(free, grids, strict=True):
        counts[i] = g
    rest = n - counts.sum(axis=0)
    weighted = total - sum((i + 1) * counts[i] for i in range(points))
    counts[j + 1] = weighted - (j + 1) * rest  # c_j + c_{j+1} = rest; sum = weighted
    counts[j] = rest - counts[j + 1]
    ok = (counts >= 0).all(axis=0)
    for category, value in collapsed.items():
        if value == value:
            members = [i for i in range(points) if cats[i] == category]
            ok &= counts[members].sum(axis=0) == int(value)
    if not ok.any():
        return True  # inconsistent inputs: do not publish
    for category in hidden:
        members = [i for i in range(points) if cats[i] == category]
        values = counts[members].sum(axis=0)[ok]
        if values.max() - values.min() < min_width:
            return True
    return False


def _likert_categories(points: int) -> list[str]:
    """Collapsed category of each position of a ``points``-point scale (as collapse_likert)."""
    half = points // 2
    return ["disagree" if i < half else "neutral" if points % 2 and i == half else "agree"
            for i in range(points)]


def _count_display(frame: pd.DataFrame, marker: str,
                   count_columns: Sequence[str]) -> pd.DataFrame:
    """Text version of a published table: hidden counts as the marker, other gaps as "–"."""
    out = frame.astype(object)
    for c in frame.columns:
        if c in count_columns:
            out[c] = [marker if pd.isna(v) else str(int(v)) for v in frame[c]]
        elif frame[c].dtype == bool:
            out[c] = ["yes" if v else "" for v in frame[c]]
    return out.where(out.notna(), "–")


def _apply_count_pattern(sdc: _Sdc, out: pd.DataFrame, table: str, labels: Sequence[str],
                         links: Sequence[tuple[int, str, Hashable, Sequence[str]]],
                         n_column: str, row_columns: Sequence[str]) -> None:
    """Hide what a statistics table shows of counts that the joint count protection hid.

    ``links`` holds ``(position, count table, its row, share columns)``: when a cell of that
    row is hidden, the shares go; when the row's total (the ``n``) is hidden, ``n_column`` and
    every column of ``row_columns`` go (a "<5" beside a published mean would tell that the
    size is not small).
    """
    if not len(out):
        return
    disp = sdc.display[table]
    policy = sdc.policy()
    tot = policy.total_label
    shown: dict[str, np.ndarray] = {}
    hidden_rows: dict[str, list[int]] = {}
    for pos, name, row, shares in links:
        pt = sdc.protected.get(name)
        if pt is None:
            continue
        hidden = pt.suppressed.loc[row]
        if bool(hidden[tot]):
            cols = [n_column, *row_columns]
        elif bool(hidden.drop(tot).any()):
            cols = list(shares)
        else:
            continue
        for c in cols:
            if c not in shown:
                shown[c] = out[c].notna().to_numpy(copy=True)
            if shown[c][pos]:
                shown[c][pos] = False
                hidden_rows.setdefault(c, []).append(pos)
                sdc.log.add(table, labels[pos], c, "complementary", pt.k_min)
    for c, rows in hidden_rows.items():
        out.iloc[rows, out.columns.get_loc(c)] = np.nan
        text = disp[c].to_numpy(dtype=object, copy=True)
        text[rows] = policy.count_marker if c == n_column else "–"
        disp[c] = _text_column(text, disp.index)


# --------------------------------------------------------------------------------------------
# Scores per wave
# --------------------------------------------------------------------------------------------


class _Scores:
    """Cached scores of every wave (``retro`` from the post frame), each computed once."""

    def __init__(self, waves: Mapping[str, pd.DataFrame], instrument: Instrument):
        self.waves = waves
        self.inst = instrument
        self._items: dict[str, pd.DataFrame] = {}
        self._scales: dict[str, pd.DataFrame] = {}
        self._index: dict[str, pd.Series] = {}
        self._values: dict[str, pd.DataFrame] = {}
        self._blocks: dict[str, dict[str, pd.DataFrame]] = {}
        self._alpha: dict[tuple[str, str], stats.AlphaResult] = {}
        self._pairs: dict[tuple[str, str], pd.DataFrame] = {}
        self._correct: dict[str, pd.DataFrame] = {}
        self._knowledge: dict[str, pd.Series] = {}

    def present(self, wave: str) -> bool:
        frame = wave_frame(self.waves, wave)
        if frame is None:
            return False
        if wave == "retro":
            return bool(scoring.wave_columns(self.inst, "retro"))
        return True

    def items(self, wave: str) -> pd.DataFrame:
        if wave not in self._items:
            frame = wave_frame(self.waves, wave)
            self._items[wave] = scoring.item_scores(frame, self.inst, wave)
        return self._items[wave]

    def scales(self, wave: str) -> pd.DataFrame:
        if wave not in self._scales:
            frame = wave_frame(self.waves, wave)
            self._scales[wave] = scoring.scale_scores(frame, self.inst, wave,
                                                      items=self.items(wave))
        return self._scales[wave]

    def index(self, wave: str) -> pd.Series:
        if wave not in self._index:
            frame = wave_frame(self.waves, wave)
            self._index[wave] = scoring.domain_scores(frame, self.inst, wave, "readiness",
                                                      scales=self.scales(wave))
        return self._index[wave]

    def values(self, wave: str) -> pd.DataFrame:
        """Scale scores of ``wave`` and, when its readiness scales are scored, the index."""
        if wave not in self._values:
            values = self.scales(wave).copy()
            if _readiness_scales(self.inst, values):
                values[READINESS_INDEX] = self.index(wave)
            self._values[wave] = values
        return self._values[wave]

    def blocks(self, wave: str) -> dict[str, pd.DataFrame]:
        """Item blocks (all respondents of ``wave``) of every scale scored in that wave.

        The readiness index's block holds the readiness scale scores.
        """
        if wave not in self._blocks:
            scales = self.scales(wave)
            items = self.items(wave)
            blocks = {s: items[list(self.inst.scales[s].items)] for s in scales.columns}
            ready = _readiness_scales(self.inst, scales)
            if ready:
                blocks[READINESS_INDEX] = scales[ready]
            self._blocks[wave] = blocks
        return self._blocks[wave]

    def alpha(self, wave: str, scale_id: str) -> stats.AlphaResult:
        """Cronbach's alpha of a block of :meth:`blocks` (respondents with an answer)."""
        if (wave, scale_id) not in self._alpha:
            self._alpha[(wave, scale_id)] = stats.cronbach_alpha(self.blocks(wave)[scale_id])
        return self._alpha[(wave, scale_id)]

    def pairs(self, wave_a: str, wave_b: str) -> pd.DataFrame:
        """:func:`matched_pairs` of two waves."""
        if (wave_a, wave_b) not in self._pairs:
            self._pairs[(wave_a, wave_b)] = matched_pairs(self.waves, wave_a, wave_b)
        return self._pairs[(wave_a, wave_b)]

    def knowledge_correct(self, wave: str) -> pd.DataFrame:
        """:func:`scoring.knowledge_correct` of ``wave``."""
        if wave not in self._correct:
            self._correct[wave] = scoring.knowledge_correct(self.waves[wave], self.inst, wave)
        return self._correct[wave]

    def knowledge(self, wave: str) -> pd.Series:
        """:func:`scoring.knowledge_scores` of ``wave``."""
        if wave not in self._knowledge:
            self._knowledge[wave] = scoring.knowledge_scores(
                self.waves[wave], self.inst, wave, correct=self.knowledge_correct(wave))
        return self._knowledge[wave]


def _readiness_scales(inst: Instrument, scales: pd.DataFrame) -> list[str]:
    return [s for s, sc in inst.scales.items() if sc.domain == "readiness" and s in scales]


def _pair_key(a: str, b: str) -> str:
    return f"{a}-{b}"


# --------------------------------------------------------------------------------------------
# Items and scales
# --------------------------------------------------------------------------------------------


def _items_table(sc: _Scores, pairs: dict, inst: Instrument, n_resamples: int,
                 seed: int, k_min: int, sdc: _Sdc) -> pd.DataFrame:
    frames = []
    row_k: list[int] = []
    for (a, b), pr in pairs.items():
        if not (sc.present(a) and sc.present(b)):
            continue
        ia, ib = sc.items(a), sc.items(b)
        common = [c for c in ib.columns if c in ia.columns]
        if not common:
            continue
        xa = ia.loc[list(pr["record_a"]), common].reset_index(drop=True)
        xb = ib.loc[list(pr["record_b"]), common].reset_index(drop=True)
        tab = stats.paired_item_table(xb, xa, n_resamples=n_resamples, seed=seed)
        tab.insert(1, "scale_id", [inst.item(i).scale for i in common])
        tab.insert(2, "wave_a", a)
        tab.insert(3, "wave_b", b)
        ks = [max(k_min, HIGH_SENSITIVITY_K) if inst.item(i).sensitivity == "high" else k_min
              for i in common]
        suppressed = tab["n_pairs"].to_numpy() < np.array(ks)
        tab["suppressed"] = suppressed
        p_values = tab["p_value"].to_numpy()
        p_holm = np.full(len(tab), np.nan)
        groups = tab["scale_id"].fillna("").to_numpy()
        for g in np.unique(groups):
            sel = (groups == g) & ~suppressed
            if sel.any():
                p_holm[sel] = stats.p_adjust(p_values[sel], "holm")
        tab["p_holm"] = p_holm
        stat_cols = [c for c in ITEM_COLUMNS if c not in
                     ("item_id", "scale_id", "wave_a", "wave_b", "n_pairs", "suppressed")]
        for c in stat_cols:
            tab[c] = np.where(suppressed, np.nan, tab[c].to_numpy(dtype=float))
        frames.append(tab[list(ITEM_COLUMNS)])
        row_k += ks
    if not frames:
        return _empty(ITEM_COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    labels = [f"{r.wave_a}-{r.wave_b}:{r.item_id}" for r in table.itertuples()]
    values = [c for c in ITEM_COLUMNS if c not in ("item_id", "scale_id", "wave_a", "wave_b",
                                                   "n_pairs", "suppressed")
              and not c.startswith("pct_")]
    return sdc.protect(table, "items", labels, ["n_pairs"], values,
                       percent_groups=[["pct_improved", "pct_unchanged", "pct_declined"]],
                       row_k=row_k, suppressed_column="suppressed")


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def _n_items(inst: Instrument, scale_id: str, scales: pd.Index) -> int:
    if scale_id == READINESS_INDEX:
        return sum(len(inst.scales[s].items) for s in _readiness_scales(inst, scales))
    return len(inst.scales[scale_id].items)


def _scales_table(sc: _Scores, pairs: dict, inst: Instrument, k_min: int,
                  sdc: _Sdc) -> pd.DataFrame:
    rows = []
    for (a, b), pr in pairs.items():
        if not (sc.present(a) and sc.present(b)):
            continue
        va, vb = sc.values(a), sc.values(b)
        common = [c for c in vb.columns if c in va.columns]
        if not common:
            continue
        paired_a = va.loc[list(pr["record_a"]), common].to_numpy(dtype=float)
        paired_b = vb.loc[list(pr["record_b"]), common].to_numpy(dtype=float)
        for j, s in enumerate(common):
            xa, xb = paired_a[:, j], paired_b[:, j]
            ok = ~np.isnan(xa) & ~np.isnan(xb)
            xa, xb = xa[ok], xb[ok]
            res = stats.paired_t(xb, xa)
            al_a, al_b = sc.alpha(a, s), sc.alpha(b, s)
            rows.append({
                "scale_id": s, "wave_a": a, "wave_b": b,
                "n_items": _n_items(inst, s, sc.scales(a).columns),
                "n_pairs": int(ok.sum()),
                "alpha_a": al_a.alpha if al_a.n >= k_min else np.nan,
                "alpha_b": al_b.alpha if al_b.n >= k_min else np.nan,
                "mean_a": float(xa.mean()) if xa.size else np.nan,
                "mean_b": float(xb.mean()) if xb.size else np.nan,
                "mean_change": res.mean_diff, "mean_change_ci_low": res.ci_low,
                "mean_change_ci_high": res.ci_high, "t": res.t, "df": res.df,
                "p_value": res.pvalue, "cohen_dz": res.cohen_dz,
                "cohen_dz_ci_low": res.cohen_dz_ci_low,
                "cohen_dz_ci_high": res.cohen_dz_ci_high,
                "suppressed": int(ok.sum()) < k_min,
            })
    if not rows:
        return _empty(SCALE_COLUMNS)
    table = pd.DataFrame(rows, columns=list(SCALE_COLUMNS))
    labels = [f"{r.wave_a}-{r.wave_b}:{r.scale_id}" for r in table.itertuples()]
    values = [c for c in SCALE_COLUMNS
              if c not in ("scale_id", "wave_a", "wave_b", "n_items", "n_pairs", "suppressed")]
    return sdc.protect(table, "scales", labels, ["n_pairs"], values,
                       suppressed_column="suppressed")


def _reliability_table(sc: _Scores, inst: Instrument, sdc: _Sdc) -> pd.DataFrame:
    cols = ["scale_id", "wave", "alpha", "ci_low", "ci_high", "n", "k", "warning"]
    rows = []
    for wave in ("pre", "post", "retro", "followup"):
        if not sc.present(wave):
            continue
        for s, block in sc.blocks(wave).items():
            if block.shape[1] < 2:
                continue
            res = sc.alpha(wave, s)
            low = bool(np.isfinite(res.alpha) and res.alpha < 0.7)
            rows.append({"scale_id": s, "wave": wave, "alpha": res.alpha, "ci_low": res.ci_low,
                         "ci_high": res.ci_high, "n": res.n, "k": res.k,
                         "warning": "alpha < 0.70" if low else ""})
    if not rows:
        return _empty(cols)
    table = pd.DataFrame(rows, columns=cols)
    out = sdc.protect(table, "reliability", [f"{r.wave}:{r.scale_id}" for r in
                                             table.itertuples()],
                      ["n"], ["alpha", "ci_low", "ci_high"])
    out.loc[out["alpha"].isna(), "warning"] = ""
    # a warning beside a suppressed alpha would tell that alpha is under 0.70
    sdc.restate("reliability", "warning", ["" if pd.isna(w) else str(w) for w in out["warning"]])
    return out


def _unpaired_table(sc: _Scores, inst: Instrument, scales_tab: pd.DataFrame,
                    pairs: dict, sdc: _Sdc) -> pd.DataFrame:
    cols = ["scale_id", "wave_a", "wave_b", "n_a", "n_b", "mean_a", "mean_b", "difference",
            "ci_low", "ci_high", "mann_whitney_p", "rank_biserial", "n_pairs",
            "matched_change", "direction_disagrees"]
    rows = []
    for a, b in _UNPAIRED_PAIRS:
        if not (sc.present(a) and sc.present(b)):
            continue
        va, vb = sc.values(a), sc.values(b)
        for s in [c for c in vb.columns if c in va.columns]:
            xa = va[s].dropna().to_numpy(dtype=float)
            xb = vb[s].dropna().to_numpy(dtype=float)
            diff, lo, hi, _ = welch_interval(xa, xb)
            mw = stats.mann_whitney(xb, xa)
            # The matched estimate as published (NaN when suppressed).
            m = scales_tab[(scales_tab["scale_id"] == s) & (scales_tab["wave_a"] == a)
                           & (scales_tab["wave_b"] == b)]
            mc = float(m["mean_change"].iloc[0]) if len(m) else np.nan
            npairs = len(pairs.get((a, b), []))
            disagree = bool(np.isfinite(mc) and np.isfinite(diff) and mc != 0 and diff != 0
                            and np.sign(mc) != np.sign(diff))
            rows.append({"scale_id": s, "wave_a": a, "wave_b": b, "n_a": xa.size,
                         "n_b": xb.size,
                         "mean_a": xa.mean() if xa.size else np.nan,
                         "mean_b": xb.mean() if xb.size else np.nan, "difference": diff,
                         "ci_low": lo, "ci_high": hi, "mann_whitney_p": mw.pvalue,
                         "rank_biserial": mw.rank_biserial, "n_pairs": npairs,
                         "matched_change": mc, "direction_disagrees": disagree})
    if not rows:
        return _empty(cols)
    table = pd.DataFrame(rows, columns=cols)
    labels = [f"{r.wave_a}-{r.wave_b}:{r.scale_id}" for r in table.itertuples()]
    out = sdc.protect(table, "unpaired", labels, ["n_a", "n_b"],
                      ["mean_a", "mean_b", "difference", "ci_low", "ci_high", "mann_whitney_p",
                       "rank_biserial", "matched_change"])
    out["n_pairs"] = pd.to_numeric(out["n_pairs"]).astype("Int64")
    small = out["n_pairs"].fillna(0) < sdc.k_min
    out.loc[small, "n_pairs"] = pd.NA
    out["direction_disagrees"] = out["direction_disagrees"].astype(bool) & out[
        "difference"].notna()
    marker = sdc.policy().count_marker
    sdc.restate("unpaired", "n_pairs",
                [marker if pd.isna(v) else str(int(v)) for v in out["n_pairs"]])
    sdc.restate("unpaired", "direction_disagrees",
                [str(bool(v)) for v in out["direction_disagrees"]])
    return out


def _matching_bias(sc: _Scores, sdc: _Sdc) -> pd.DataFrame:
    """R-ID-07: pre respondents matched to post vs not, on the pre readiness index."""
    cols = ["wave_a", "wave_b", "n_matched", "n_unmatched", "mean_matched", "mean_unmatched",
            "smd", "bias_flag"]
    if not (sc.present("pre") and sc.present("post")):
        return _empty(cols)
    values = sc.values("pre")
    if READINESS_INDEX not in values:
        return _empty(cols)
    pr = sc.pairs("pre", "post")
    idx = values[READINESS_INDEX]
    is_matched = idx.index.isin(list(pr["record_a"]))
    xm = idx[is_matched].dropna().to_numpy(dtype=float)
    xu = idx[~is_matched].dropna().to_numpy(dtype=float)
    smd = np.nan
    if xm.size >= 2 and xu.size >= 2:
        pooled = math.sqrt(((xm.size - 1) * xm.var(ddof=1) + (xu.size - 1) * xu.var(ddof=1))
                           / (xm.size + xu.size - 2))
        smd = (xm.mean() - xu.mean()) / pooled if pooled > 0 else np.nan
    table = pd.DataFrame([{
        "wave_a": "pre", "wave_b": "post", "n_matched": xm.size, "n_unmatched": xu.size,
        "mean_matched": xm.mean() if xm.size else np.nan,
        "mean_unmatched": xu.mean() if xu.size else np.nan, "smd": smd,
        "bias_flag": bool(np.isfinite(smd) and abs(smd) > 0.25),
    }], columns=cols)
    out = sdc.protect(table, "matching_bias", ["pre-post"], ["n_matched", "n_unmatched"],
                      ["mean_matched", "mean_unmatched", "smd"])
    # Without a published SMD (too few unmatched respondents) there was no check: the flag is
    # missing, not False (which would say that no bias was found), in every output.
    checked = out["smd"].notna().tolist()
    out["bias_flag"] = pd.array([bool(f) if c else pd.NA
                                 for f, c in zip(out["bias_flag"], checked, strict=True)],
                                dtype="boolean")
    sdc.restate("matching_bias", "bias_flag",
                [str(bool(f)) if c else "–" for f, c in zip(out["bias_flag"], checked,
                                                           strict=True)])
    return out


# --------------------------------------------------------------------------------------------
# Knowledge, reaction, follow-up, cooperation
# --------------------------------------------------------------------------------------------


def _paired_bootstrap(func, n: int, n_resamples: int, seed: int) -> tuple[float, float]:
    """Percentile interval of ``func(indices)`` over resampled pairs (stats.bootstrap_ci)."""
    if n < 2:
        return np.nan, np.nan

    def statistic(sample: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = np.moveaxis(np.asarray(sample), axis, -1).astype(int)
        return func(idx)

    res = stats.bootstrap_ci(np.arange(n, dtype=float), statistic, n_resamples=n_resamples,
                             seed=seed)
    return float(res.ci_low[0]), float(res.ci_high[0])


def _gain(pre: np.ndarray, post: np.ndarray):
    def func(idx: np.ndarray) -> np.ndarray:
        mpre = pre[idx].mean(axis=-1)
        mpost = post[idx].mean(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(mpre < 100, (mpost - mpre) / (100 - mpre), np.nan)
    return func


def _knowledge_table(waves, inst: Instrument, sc: _Scores, pairs: dict, n_resamples: int,
                     seed: int, sdc: _Sdc) -> pd.DataFrame:
    cols = ["item_id", "n", "pct_correct_pre", "pct_correct_post", "mcnemar_statistic",
            "p_value", "mean_score_pre", "mean_score_post", "mean_change",
            "mean_change_ci_low", "mean_change_ci_high", "normalized_gain",
            "normalized_gain_ci_low", "normalized_gain_ci_high"]
    questions = [it.id for it in inst.items_for_wave("pre")
                 if it.type == "knowledge" and it.asked_in("post")]
    pr = pairs.get(("pre", "post"))
    if not questions or pr is None or "pre" not in waves or "post" not in waves:
        return lambda: _empty(cols)
    ca = sc.knowledge_correct("pre").loc[list(pr["record_a"])]
    cb = sc.knowledge_correct("post").loc[list(pr["record_b"])]
    ca, cb = ca.reset_index(drop=True), cb.reset_index(drop=True)
    rows = []
    for q in questions:
        ok = ca[q].notna() & cb[q].notna()
        a, b = ca.loc[ok, q].to_numpy() > 0, cb.loc[ok, q].to_numpy() > 0
        res = stats.mcnemar(a, b)
        n = int(ok.sum())
        for w, x in (("pre", a), ("post", b)):
            if n:
                sdc.add_counts(f"knowledge:{q}:{w}",
                               pd.DataFrame({"correct": [int(x.sum())],
                                             "incorrect": [n - int(x.sum())]},
                                            index=pd.Index([q], name=f"knowledge_{w}")),
                               class_rule=False, group_rows=False)
        rows.append({"item_id": q, "n": n,
                     "pct_correct_pre": 100 * a.mean() if n else np.nan,
                     "pct_correct_post": 100 * b.mean() if n else np.nan,
                     "mcnemar_statistic": res.statistic, "p_value": res.pvalue})
    sa = sc.knowledge("pre").loc[list(pr["record_a"])]
    sb = sc.knowledge("post").loc[list(pr["record_b"])]
    xa, xb = sa.to_numpy(dtype=float), sb.to_numpy(dtype=float)
    ok = ~np.isnan(xa) & ~np.isnan(xb)
    xa, xb = xa[ok], xb[ok]
    t = stats.paired_t(xb, xa)
    gain = stats.normalized_gain(xa, xb, 100) if xa.size else np.nan
    g_lo, g_hi = _paired_bootstrap(_gain(xa, xb), xa.size, n_resamples, seed)
    rows.append({"item_id": "knowledge_total", "n": int(ok.sum()),
                 "mean_score_pre": xa.mean() if xa.size else np.nan,
                 "mean_score_post": xb.mean() if xb.size else np.nan,
                 "mean_change": t.mean_diff, "mean_change_ci_low": t.ci_low,
                 "mean_change_ci_high": t.ci_high, "normalized_gain": gain,
                 "normalized_gain_ci_low": g_lo, "normalized_gain_ci_high": g_hi})
    table = pd.DataFrame(rows, columns=cols)
    values = [c for c in cols if c not in ("item_id", "n", "pct_correct_pre",
                                           "pct_correct_post")]
    out = sdc.protect(table, "knowledge", list(table["item_id"]), ["n"], values,
                      percent_groups=[["pct_correct_pre"], ["pct_correct_post"]])

    def finish() -> pd.DataFrame:
        links = [(pos, f"knowledge:{q}:{w}", q, [f"pct_correct_{w}"])
                 for pos, q in enumerate(out["item_id"]) for w in ("pre", "post")]
        _apply_count_pattern(sdc, out, "knowledge", list(out["item_id"]), links, "n",
                             [c for c in cols if c not in ("item_id", "n")])
        return out

    return finish


def _reaction_table(waves, inst: Instrument, sc: _Scores, n_resamples: int, seed: int,
                    sdc: _Sdc):
    """Register the reaction count tables; returns a function building the published tables.

    Each item's answers are one count table with the collapsed categories (disagree / neutral /
    agree) as rows and the answer codes as columns (every code sits in one row, the other cells
    are structural zeros): its column totals are the 5-category counts, its row totals the
    3-category counts, and protecting it as one table keeps the two versions consistent (a
    published "agree" and a published 5 cannot give away a hidden 4). "Don't know" answers are a
    separate count. ``n`` is the number of substantive answers, the base of the mean and of
    ``pct_agree``.
    """
    cols = ["item_id", "part", "scale_id", "n", "count_1", "count_2", "count_3", "count_4",
            "count_5", "missing_code", "count_missing", "mean", "mean_ci_low", "mean_ci_high",
            "pct_agree"]
    post = waves.get("post")
    items = [it for it in inst.items_for_wave("post")
             if it.section == "reaction" and it.type == "likert"]
    if post is None or not items:
        return lambda: (_empty(cols), _empty(REACTION_COLLAPSED_COLUMNS))
    rows, row_k, meta = [], [], {}
    answer_sums: dict[str, int | None] = {}
    for it in items:
        clist = inst.choice_lists[it.choices]
        raw = post[it.id].astype("string") if it.id in post.columns else pd.Series(
            pd.NA, index=post.index, dtype="string")
        codes = list(clist.codes)
        tally = _tally(raw)
        counts = {c: tally[c] for c in codes}
        miss = list(clist.missing_codes)
        n_missing = sum(tally[c] for c in set(miss))
        x = sc.items("post")[it.id].dropna().to_numpy(dtype=float)
        if x.size:
            answer_sums[it.id] = _answer_position_sum(float(x.sum()), x.size, clist, it.reverse)
        boot = stats.bootstrap_ci(x, n_resamples=n_resamples, seed=seed) if x.size else None
        k = max(sdc.k_min, HIGH_SENSITIVITY_K) if it.sensitivity == "high" else sdc.k_min
        row = {"item_id": it.id, "part": it.part, "scale_id": it.scale,
               "n": int(sum(counts.values())),
               "missing_code": miss[0] if miss else None,
               "count_missing": n_missing if miss else np.nan,
               "mean": x.mean() if x.size else np.nan,
               "mean_ci_low": float(boot.ci_low[0]) if boot is not None else np.nan,
               "mean_ci_high": float(boot.ci_high[0]) if boot is not None else np.nan,
               "pct_agree": 100 * float((x >= 4).mean()) if x.size else np.nan}
        for i, c in enumerate(codes[:5], start=1):
            row[f"count_{i}"] = counts[c]
        rows.append(row)
        row_k.append(k)
        cat_of = {c: _likert_categories(len(codes))[i] for i, c in enumerate(codes)}
        cats = [c for c in _COLLAPSED if c in cat_of.values()]
        cells = np.zeros((len(cats), len(codes)), dtype=np.int64)
        structural = []
        for j, c in enumerate(codes):
            cells[cats.index(cat_of[c]), j] = counts[c]
            structural += [(r, c) for r in cats if r != cat_of[c]]
        tab = pd.DataFrame(cells, index=pd.Index(cats, name=f"{it.id}:collapsed"),
                           columns=pd.Index(codes, name=it.id))
        if sum(counts.values()) > 0:
            sdc.add_counts(f"reaction:{it.id}", tab, k=k, class_rule=False, group_rows=False,
                           structural=structural)
        if miss and n_missing + sum(counts.values()) > 0:
            sdc.add_counts(f"reaction_missing:{it.id}",
                           pd.DataFrame({miss[0]: [n_missing]},
                                        index=pd.Index([it.id], name="reaction_missing")),
                           k=k, class_rule=False, group_rows=False)
        meta[it.id] = (codes, miss, cats, k)
    table = pd.DataFrame(rows, columns=cols)

    def finish() -> tuple[pd.DataFrame, pd.DataFrame]:
        tot = sdc.policy().total_label
        count_cols = [f"count_{i}" for i in range(1, 6)]
        published = {c: table[c].to_numpy(dtype=float, copy=True)
                     for c in [*count_cols, "count_missing"]}
        count_disp: dict[str, dict[int, str]] = {c: {} for c in published}
        hidden_n, hidden_pct = [], []
        collapsed = []
        for pos, item_id in enumerate(table["item_id"]):
            codes, miss, cats, k = meta[item_id]
            name = f"reaction:{item_id}"
            pt = sdc.protected.get(name)
            for col, c in zip(count_cols, codes[:5], strict=False):
                published[col][pos] = sdc.published(name, tot, c) if pt is not None else np.nan
                if pt is not None:
                    count_disp[col][pos] = pt.display.at[tot, c]
            if miss:
                mname = f"reaction_missing:{item_id}"
                published["count_missing"][pos] = sdc.published(mname, item_id, miss[0])
                if mname in sdc.protected:
                    count_disp["count_missing"][pos] = \
                        sdc.protected[mname].display.at[item_id, miss[0]]
            n_pub = sdc.published(name, tot, tot)
            agree = sdc.published(name, "agree", tot) if "agree" in cats else np.nan
            if pt is not None and np.isnan(n_pub):
                hidden_n.append(pos)
            elif np.isnan(agree):
                hidden_pct.append(pos)
            crow = {"item_id": item_id, "n": n_pub,
                    **{c: (sdc.published(name, c, tot) if c in cats else np.nan)
                       for c in _COLLAPSED},
                    "count_missing": published["count_missing"][pos] if miss else np.nan}
            crow["suppressed"] = bool(any(pd.isna(crow[c]) for c in ("n", *cats)))
            collapsed.append(crow)
        for c, values in published.items():
            table[c] = values
        out = sdc.protect(table, "reaction", list(table["item_id"]), ["n"],
                          ["mean", "mean_ci_low", "mean_ci_high"],
                          percent_groups=[["pct_agree"]], row_k=row_k)
        disp = sdc.display["reaction"]
        small = out["n"].isna().to_numpy()
        for col, texts in count_disp.items():
            if not texts:
                continue
            rows = np.array(list(texts))
            shown = disp[col].to_numpy(dtype=object, copy=True)
            shown[rows] = ["–" if small[pos] else text for pos, text in texts.items()]
            disp[col] = _text_column(shown, disp.index)
            values = out[col].to_numpy(dtype=float, copy=True)
            values[rows[small[rows]]] = np.nan
            out[col] = values
        # The count tables decide: a hidden total hides the row, a hidden "agree" the share.
        for pos in hidden_n:
            label = str(out.loc[pos, "item_id"])
            for c in ("n", "mean", "mean_ci_low", "mean_ci_high", "pct_agree"):
                if pd.notna(out.loc[pos, c]):
                    out.loc[pos, c] = np.nan
                    disp.loc[pos, c] = sdc.policy().count_marker if c == "n" else "–"
                    sdc.log.add("reaction", label, c, "complementary", meta[label][3])
        # A mean is the sum of the answers over n. Beside published counts of the other answer
        # codes it gives hidden ones away (27 answers, mean 4.148, seventeen 4s and seven 5s:
        # the other three all answered 3). So a row with a hidden count publishes none of its
        # per-code counts (the collapsed counts stay), and keeps its mean only if the mean
        # with the published collapsed counts still leaves every hidden one open.
        policy = sdc.policy()
        for pos in range(len(out)):
            if pos in hidden_n:
                continue
            label = str(out.loc[pos, "item_id"])
            codes, _, cats, k = meta[label]
            shown_codes = count_cols[:len(codes[:5])]
            if not any(np.isnan(published[c][pos]) for c in shown_codes):
                continue
            for c in shown_codes:
                if pd.notna(out.loc[pos, c]):
                    out.loc[pos, c] = np.nan
                    disp.loc[pos, c] = policy.count_marker
                    sdc.log.add("reaction", label, c, "complementary", k)
            total = answer_sums.get(label)
            shown = {c: sdc.published(f"reaction:{label}", c, tot) for c in cats}
            if total is not None and pd.notna(out.loc[pos, "mean"]) and not \
                    mean_pins_hidden_counts(int(out.loc[pos, "n"]), total, len(codes), shown,
                                            policy.min_interval_width):
                continue
            for c in ("mean", "mean_ci_low", "mean_ci_high"):
                if pd.notna(out.loc[pos, c]):
                    out.loc[pos, c] = np.nan
                    disp.loc[pos, c] = "–"
                    sdc.log.add("reaction", label, c, "complementary", k)
        for pos in hidden_pct:
            if pd.notna(out.loc[pos, "pct_agree"]):
                out.loc[pos, "pct_agree"] = np.nan
                disp.loc[pos, "pct_agree"] = "–"
                label = str(out.loc[pos, "item_id"])
                sdc.log.add("reaction", label, "pct_agree", "complementary", meta[label][3])
        for c in [*count_cols, "count_missing"]:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("Int64")
        coll = pd.DataFrame(collapsed, columns=list(REACTION_COLLAPSED_COLUMNS))
        for c in ("n", *_COLLAPSED, "count_missing"):
            coll[c] = pd.to_numeric(coll[c], errors="coerce").astype("Int64")
        coll["suppressed"] = coll["suppressed"].astype(bool)
        sdc.display["reaction_collapsed"] = _count_display(coll, sdc.policy().count_marker,
                                                          ["n", *_COLLAPSED, "count_missing"])
        return out, coll

    return finish


def _tally(answers: pd.Series) -> Counter:
    """How often each (non-missing) answer occurs."""
    return Counter(answers.dropna().tolist())


def _guard_item_means(items: pd.DataFrame, distributions: pd.DataFrame, inst: Instrument,
                      sdc: _Sdc) -> None:
    """Hide an item's mean where it would give away a hidden count of its distribution.

    When every respondent of a wave who answered an item is in the item's pairs (the pairs'
    count equals the distribution's ``n``), the wave's mean over the pairs is the sum of the
    same answers whose collapsed counts the distribution publishes: a hidden count could then
    be worked out (see :func:`mean_pins_hidden_counts`). That mean, the change and its
    interval (from which the mean follows with the other wave's mean) are hidden in place.
    """
    if items.empty or distributions.empty:
        return
    dist = {(r.item_id, r.wave): r for r in distributions.itertuples(index=False)}
    disp = sdc.display.get("items")
    min_width = sdc.policy().min_interval_width
    hide_cols = {"a": ("mean_a", "mean_change", "mean_change_ci_low", "mean_change_ci_high"),
                 "b": ("mean_b", "mean_change", "mean_change_ci_low", "mean_change_ci_high")}
    for pos in range(len(items)):
        row = items.iloc[pos]
        item_id = str(row["item_id"])
        if pd.isna(row["n_pairs"]) or not inst.has_item(item_id):
            continue
        item = inst.item(item_id)
        clist = inst.choice_lists.get(item.choices) if item.choices else None
        if clist is None:
            continue
        points = len(list(clist.codes))
        n = int(row["n_pairs"])
        for side in ("a", "b"):
            d = dist.get((item_id, row[f"wave_{side}"]))
            mean = row[f"mean_{side}"]
            if d is None or pd.isna(d.n) or int(d.n) != n or pd.isna(mean):
                continue
            shown = {c: float(getattr(d, c)) if pd.notna(getattr(d, c)) else np.nan
                     for c in _COLLAPSED if c in _likert_categories(points)}
            if not any(v != v for v in shown.values()):
                continue
            total = _answer_position_sum(float(mean) * n, n, clist, item.reverse)
            if total is not None and not mean_pins_hidden_counts(n, total, points, shown,
                                                                 min_width):
                continue
            for c in hide_cols[side]:
                if c in items.columns and pd.notna(items.iat[pos, items.columns.get_loc(c)]):
                    items.iat[pos, items.columns.get_loc(c)] = np.nan
                    if disp is not None and c in disp.columns:
                        disp.iat[pos, disp.columns.get_loc(c)] = "–"
                    sdc.log.add("items", f"{item_id}:{row['wave_a']}-{row['wave_b']}", c,
                                "complementary", sdc.k_min)


def _item_distributions(waves, inst: Instrument, sdc: _Sdc):
    """Register the 3-category answer counts of the readiness items per wave.

    One count table per item and wave (all respondents of the wave, answers as given, so a
    reverse-keyed item's "agree" is the low-readiness answer; "don't know" and skipped answers
    left out). Returns a function building :attr:`WorkshopAnalysis.item_distributions` after
    the joint protection.
    """
    cols = list(ITEM_DISTRIBUTION_COLUMNS)
    meta = []
    for w in ("pre", "post", "followup"):
        frame = waves.get(w)
        if frame is None:
            continue
        for it in inst.items_for_wave(w):
            scale = inst.scales.get(it.scale) if it.scale else None
            if it.type != "likert" or scale is None or scale.domain != "readiness":
                continue
            codes = list(inst.choice_lists[it.choices].codes)
            raw = frame[it.id].astype("string") if it.id in frame.columns else pd.Series(
                pd.NA, index=frame.index, dtype="string")
            cats = _likert_categories(len(codes))
            counts = dict.fromkeys(_COLLAPSED, 0)
            tally = _tally(raw)
            for c, cat in zip(codes, cats, strict=True):
                counts[cat] += tally[c]
            present = [c for c in _COLLAPSED if c in cats]
            name = f"item_distribution:{w}:{it.id}"
            if sum(counts.values()) > 0:
                tab = pd.DataFrame({c: [counts[c]] for c in present},
                                   index=pd.Index([it.id], name=f"item_distribution_{w}"))
                sdc.add_counts(name, tab, class_rule=False, group_rows=False)
            meta.append((it.id, w, name, present))

    def finish() -> pd.DataFrame:
        tot = sdc.policy().total_label
        rows = []
        for item_id, w, name, present in meta:
            row = {"item_id": item_id, "wave": w,
                   "n": sdc.published(name, item_id, tot),
                   **{c: sdc.published(name, item_id, c) if c in present else np.nan
                      for c in _COLLAPSED}}
            row["suppressed"] = bool(any(pd.isna(row[c]) for c in ("n", *present)))
            rows.append(row)
        out = pd.DataFrame(rows, columns=cols)
        for c in ("n", *_COLLAPSED):
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("Int64")
        out["suppressed"] = out["suppressed"].astype(bool)
        sdc.display["item_distributions"] = _count_display(
            out, sdc.policy().count_marker, ["n", *_COLLAPSED])
        return out

    return finish


def _followup_table(waves, inst: Instrument, sdc: _Sdc) -> pd.DataFrame:
    cols = ["measure", "item_id", "n", "pct", "ci_low", "ci_high"]
    fu = waves.get("followup")
    if fu is None:
        return lambda: _empty(cols)

    def col(item_id: str) -> pd.Series:
        if item_id in fu.columns and inst.has_item(item_id):
            return fu[item_id].astype("string")
        return pd.Series(pd.NA, index=fu.index, dtype="string")

    applied, materials = col("fu_applied"), col("fu_materials")
    specs = [
        ("applied", "fu_applied", applied.notna(), applied.isin(list(_APPLIED_YES))),
        ("used_materials", "fu_materials", materials.notna(), materials == "Y"),
        ("drafting", "fu_drafting", col("fu_drafting").notna(), col("fu_drafting") == "Y"),
        ("contacted", "fu_contacted", col("fu_contacted").notna(),
         col("fu_contacted") == "Y"),
        ("applied_or_materials", "fu_applied+fu_materials",
         applied.notna() | materials.notna(),
         applied.isin(list(_APPLIED_YES)) | (materials == "Y")),
    ]
    rows = []
    for measure, item_id, answered, yes in specs:
        answered = answered.fillna(False).astype(bool)
        yes = yes.fillna(False).astype(bool) & answered
        n, x = int(answered.sum()), int(yes.sum())
        if n:
            sdc.add_counts(f"followup:{measure}",
                           pd.DataFrame({"yes": [x], "no": [n - x]},
                                        index=pd.Index([measure], name="followup")),
                           class_rule=False, group_rows=False)
        ci = stats.wilson_ci(x, n)
        rows.append({"measure": measure, "item_id": item_id, "n": n,
                     "pct": 100 * ci.proportion if n else np.nan,
                     "ci_low": 100 * ci.ci_low if n else np.nan,
                     "ci_high": 100 * ci.ci_high if n else np.nan})
    table = pd.DataFrame(rows, columns=cols)
    out = sdc.protect(table, "followup", list(table["measure"]), ["n"], ["ci_low", "ci_high"],
                      percent_groups=[["pct"]], linked={"pct": ["ci_low", "ci_high"]})

    def finish() -> pd.DataFrame:
        links = [(pos, f"followup:{m}", m, ["pct", "ci_low", "ci_high"])
                 for pos, m in enumerate(out["measure"])]
        _apply_count_pattern(sdc, out, "followup", list(out["measure"]), links, "n",
                             ["pct", "ci_low", "ci_high"])
        return out

    return finish


def _cooperation_table(waves, inst: Instrument, pairs: dict, n_resamples: int, seed: int,
                       sdc: _Sdc) -> pd.DataFrame:
    cols = ["wave_a", "wave_b", "n_pairs", "mean_a", "mean_b", "mean_change",
            "mean_change_ci_low", "mean_change_ci_high", "median_change", "pct_new_contact",
            "pct_new_contact_ci_low", "pct_new_contact_ci_high", "wilcoxon_v", "p_value"]
    if not inst.has_item("coop_contacts"):
        return _empty(cols)
    rows = []
    for a, b in (("pre", "post"), ("pre", "followup")):
        if a not in waves or b not in waves or not inst.item("coop_contacts").asked_in(b):
            continue
        pr = pairs.get((a, b))
        if pr is None:
            continue

        def values(wave: str, records: list) -> np.ndarray:
            frame = waves[wave]
            if "coop_contacts" not in frame.columns:
                return np.full(len(records), np.nan)
            return pd.to_numeric(frame.loc[records, "coop_contacts"],
                                 errors="coerce").to_numpy(dtype=float)

        xa, xb = values(a, list(pr["record_a"])), values(b, list(pr["record_b"]))
        ok = ~np.isnan(xa) & ~np.isnan(xb)
        xa, xb = xa[ok], xb[ok]
        d = xb - xa
        n = int(d.size)
        w = stats.wilcoxon_signed_rank(xb, xa) if n else None
        boot = stats.bootstrap_ci(d, n_resamples=n_resamples, seed=seed) if n else None
        ci = stats.wilson_ci(int((d > 0).sum()), n)
        rows.append({
            "wave_a": a, "wave_b": b, "n_pairs": n,
            "mean_a": xa.mean() if n else np.nan, "mean_b": xb.mean() if n else np.nan,
            "mean_change": d.mean() if n else np.nan,
            "mean_change_ci_low": float(boot.ci_low[0]) if boot else np.nan,
            "mean_change_ci_high": float(boot.ci_high[0]) if boot else np.nan,
            "median_change": float(np.median(d)) if n else np.nan,
            "pct_new_contact": 100 * ci.proportion if n else np.nan,
            "pct_new_contact_ci_low": 100 * ci.ci_low if n else np.nan,
            "pct_new_contact_ci_high": 100 * ci.ci_high if n else np.nan,
            "wilcoxon_v": w.statistic if w else np.nan, "p_value": w.pvalue if w else np.nan,
        })
    if not rows:
        return _empty(cols)
    table = pd.DataFrame(rows, columns=cols)
    values_cols = [c for c in cols if c not in ("wave_a", "wave_b", "n_pairs",
                                                "pct_new_contact")]
    return sdc.protect(table, "cooperation", [f"{r.wave_a}-{r.wave_b}" for r in
                                              table.itertuples()],
                       ["n_pairs"], values_cols, percent_groups=[["pct_new_contact"]],
                       linked={"pct_new_contact": ["pct_new_contact_ci_low",
                                                   "pct_new_contact_ci_high"]})


# --------------------------------------------------------------------------------------------
# Participation and disaggregation (subgroup tables protected together)
# --------------------------------------------------------------------------------------------


def _profile(frame: pd.DataFrame, inst: Instrument, role: str) -> pd.Series:
    item = inst.item_by_role(role)
    if item is None or item.id not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    values = frame[item.id].astype("string")
    if role == "sector":
        values = values.map(lambda v: SECTOR_GROUPS.get(v, v) if pd.notna(v) else v)
        values = values.astype("string")
    return values


def _crosstab(groups: np.ndarray, answers: np.ndarray, categories: list[str],
              group_name: str, answer_name: str) -> pd.DataFrame:
    """Counts of each group (rows, sorted as text) by answer category (columns, as given).

    Answers outside ``categories`` are not counted (their group still gets a row).

    Examples
    --------
    >>> import numpy as np
    >>> _crosstab(np.array(["KZ", "KG", "KZ"]), np.array(["agree", "agree", "neutral"]),
    ...           ["disagree", "neutral", "agree"], "country", "re_relevance")
    re_relevance  disagree  neutral  agree
    country
    KG                   0        0      1
    KZ                   0        1      1
    """
    labels = sorted({str(g) for g in groups})
    row_of = {g: i for i, g in enumerate(labels)}
    column_of = {c: j for j, c in enumerate(categories)}
    counts = np.zeros((len(labels), len(categories)), dtype=np.int64)
    for group, answer in zip(groups, answers, strict=True):
        if answer in column_of:
            counts[row_of[str(group)], column_of[answer]] += 1
    return pd.DataFrame(counts, index=pd.Index(labels, name=group_name),
                        columns=pd.Index(categories, name=answer_name))


def _dimensions(inst: Instrument) -> list[str]:
    return [d for d in _DIMENSIONS if inst.item_by_role(d) is not None]


def analyze_workshop(
    waves: Mapping[str, pd.DataFrame],
    instrument: Instrument,
    config: Any = None,
    k_min: int = 5,
    n_resamples: int = 2000,
    seed: int = 0,
) -> WorkshopAnalysis:
    """Compute every table of one workshop, each passed through disclosure control.

    Parameters
    ----------
    waves : mapping of str to DataFrame
        ``"pre"``, ``"post"``, ``"followup"`` (any may be absent), as ingest produces them:
        indexed by ``record_id``, answer codes as text, ``participant_key`` and ``collision``.
    instrument : Instrument
        The instrument the waves were collected with.
    config : WorkshopConfig, optional
        Gives ``privacy.k_min`` (the stricter of it and ``k_min`` is used),
        ``privacy.hide_small_groups`` and ``expected`` participation (``participants``,
        ``per_country``, ``countries``).
    k_min : int
        Disclosure threshold (at least 3).
    n_resamples : int
        Bootstrap resamples for the intervals of mean changes and the normalized gain.
    seed : int
        Seed of every bootstrap: the same inputs and seed give the same tables.

    Returns
    -------
    WorkshopAnalysis

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> inst = load_instrument(default_instrument_path())
    >>> rng = np.random.default_rng(1)
    >>> keys = [f"P{i:03d}" for i in range(12)]
    >>> def wave(shift):
    ...     data = {i: [str(min(5, int(v) + shift)) for v in rng.integers(1, 4, 12)]
    ...             for i in ["ud_drivers", "ud_exclusion", "ud_conditions"]}
    ...     return pd.DataFrame({**data, "participant_key": keys, "collision": False},
    ...                         index=pd.Index([f"r{shift}{i}" for i in range(12)],
    ...                                        name="record_id"))
    >>> res = analyze_workshop({"pre": wave(0), "post": wave(1)}, inst, n_resamples=200)
    >>> res.items[["item_id", "wave_a", "wave_b", "n_pairs"]].head(2)
            item_id wave_a wave_b  n_pairs
    0    ud_drivers    pre   post       12
    1  ud_exclusion    pre   post       12
    >>> res.matched["pre-post"], "followup" in res.waves
    (12, False)
    """
    k = effective_k_min(k_min, config)
    DisclosurePolicy(k_min=k)  # validates k (at least 3)
    waves = {w: f for w, f in waves.items() if f is not None}
    inst = instrument
    sdc = _Sdc(k)
    sc = _Scores(waves, inst)
    notes: list[str] = []
    for w in ("pre", "post", "followup"):
        if w not in waves:
            notes.append(f"The {w} wave is absent: comparisons with it are not computed.")
    if "post" in waves and not scoring.wave_columns(inst, "retro"):
        notes.append("The instrument has no retrospective (then-test) items: retro→post and "
                     "pre→retro are not computed.")
    pairs = {}
    for a, b in WAVE_PAIRS:
        if sc.present(a) and sc.present(b):
            pairs[(a, b)] = sc.pairs(a, b)
    matched = {_pair_key(a, b): len(p) for (a, b), p in pairs.items()}
    if ("pre", "post") in pairs and matched["pre-post"] == 0:
        notes.append("No pre and post records could be matched: paired tables are empty "
                     "(all rows suppressed); the unpaired comparison is the only estimate.")

    items = _items_table(sc, pairs, inst, n_resamples, seed, k, sdc)
    scales = _scales_table(sc, pairs, inst, k, sdc)
    unpaired = _unpaired_table(sc, inst, scales, pairs, sdc)
    bias = _matching_bias(sc, sdc)
    reliability = _reliability_table(sc, inst, sdc)
    knowledge_done = _knowledge_table(waves, inst, sc, pairs, n_resamples, seed, sdc)
    reaction_done = _reaction_table(waves, inst, sc, n_resamples, seed, sdc)
    followup_done = _followup_table(waves, inst, sdc)
    cooperation = _cooperation_table(waves, inst, pairs, n_resamples, seed, sdc)
    subgroups_done = _subgroup_tables(waves, inst, sc, pairs, config, sdc)
    item_dist_done = _item_distributions(waves, inst, sdc)
    # Every count table of the report, protected together (R-SDC-05), then the published
    # tables that show those counts follow the joint pattern.
    sdc.protect_counts()
    knowledge = knowledge_done()
    reaction, reaction_collapsed = reaction_done()
    followup = followup_done()
    participation, disaggregation, distributions = subgroups_done()
    item_distributions = item_dist_done()
    _guard_item_means(items, item_distributions, inst, sdc)
    return WorkshopAnalysis(
        items=items, scales=scales, unpaired=unpaired, matching_bias=bias,
        reliability=reliability, knowledge=knowledge, reaction=reaction, followup=followup,
        cooperation=cooperation, participation=participation, disaggregation=disaggregation,
        distributions=distributions, reaction_collapsed=reaction_collapsed,
        item_distributions=item_distributions, sdc_log=sdc.log.to_frame(), k_min=k,
        instrument=inst,
        waves=tuple(w for w in ("pre", "post", "followup") if w in waves), matched=matched,
        display=sdc.display, notes=notes, protected=sdc.protected,
    )


def _subgroup_tables(waves, inst: Instrument, sc: _Scores, pairs: dict, config: Any,
                     sdc: _Sdc) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    k = sdc.k_min
    expected = dict(getattr(config, "expected", None) or {})
    privacy = getattr(config, "privacy", None)
    hide = bool(getattr(privacy, "hide_small_groups", False))
    dims = _dimensions(inst)
    freq: dict[str, pd.DataFrame] = {}
    # -- participation counts by subgroup: one single-column table per wave and dimension.
    for w in ("pre", "post", "followup"):
        if w not in waves:
            continue
        for d in dims:
            item = inst.item_by_role(d)
            raw = waves[w][item.id].astype("string") if item.id in waves[w].columns else \
                pd.Series(pd.NA, index=waves[w].index, dtype="string")
            counts = raw.fillna("(missing)").value_counts()
            codes = [c for c in inst.choice_lists[item.choices].codes if c in counts.index]
            codes += [c for c in counts.index if c not in codes]
            if not codes:
                continue
            tab = pd.DataFrame({"respondents": [int(counts[c]) for c in codes]},
                               index=pd.Index(codes, name=f"{d}_code"))
            tab.columns.name = f"respondents_{w}"
            freq[f"participation:{w}:{d}"] = tab
    # -- disaggregation: groups from the pre profile of matched pre→post pairs, collapsed.
    pr = pairs.get(("pre", "post"))
    mapping: dict[str, dict] = {}
    group_of: dict[str, pd.Series] = {}
    if pr is not None and len(pr):
        for d in dims:
            ga = _profile(waves["pre"], inst, d).loc[list(pr["record_a"])].to_numpy()
            gb = _profile(waves["post"], inst, d).loc[list(pr["record_b"])].to_numpy()
            g = pd.Series([a if pd.notna(a) else b for a, b in zip(ga, gb, strict=True)],
                          index=pr.index, dtype="string").fillna("(missing)")
            sizes = g.value_counts()
            mapping[d] = collapse_small_groups(list(sizes.index), list(sizes.to_numpy()), k,
                                               other_label="other")
            group_of[d] = g.map(mapping[d])
    # Readiness index change by subgroup (statistics table).
    dis_cols = ["dimension", "group", "n", "mean_a", "mean_b", "mean_change", "ci_low",
                "ci_high"]
    dis_rows = []
    if pr is not None and len(pr) and sc.present("pre") and sc.present("post"):
        ia = sc.values("pre")
        ib = sc.values("post")
        if READINESS_INDEX in ia and READINESS_INDEX in ib:
            xa = pd.Series(ia.loc[list(pr["record_a"]), READINESS_INDEX].to_numpy(),
                           index=pr.index)
            xb = pd.Series(ib.loc[list(pr["record_b"]), READINESS_INDEX].to_numpy(),
                           index=pr.index)
            for d, g in group_of.items():
                for grp in sorted(g.unique(), key=lambda x: (x == "other", str(x))):
                    sel = (g == grp).to_numpy()
                    a_, b_ = xa[sel].to_numpy(float), xb[sel].to_numpy(float)
                    ok = ~np.isnan(a_) & ~np.isnan(b_)
                    res = stats.paired_t(b_[ok], a_[ok])
                    dis_rows.append({"dimension": d, "group": grp, "n": int(ok.sum()),
                                     "mean_a": a_[ok].mean() if ok.any() else np.nan,
                                     "mean_b": b_[ok].mean() if ok.any() else np.nan,
                                     "mean_change": res.mean_diff, "ci_low": res.ci_low,
                                     "ci_high": res.ci_high})
    dis = pd.DataFrame(dis_rows, columns=dis_cols)
    dis_labels = [f"{r.dimension}:{r.group}" for r in dis.itertuples()]
    disaggregation = sdc.protect(dis, "disaggregation", dis_labels,
                                 ["n"], ["mean_a", "mean_b", "mean_change", "ci_low",
                                         "ci_high"]) if len(dis) else _empty(dis_cols)
    # The subgroup sizes of each dimension add up to the same pairs: one count table each,
    # sharing the column total ("pairs_pre_post") with each other and with the matched count.
    for d in dict.fromkeys(dis["dimension"]):
        sub = dis[dis["dimension"] == d]
        tab = pd.DataFrame({"n": sub["n"].astype(int).to_numpy()},
                           index=pd.Index([str(g) for g in sub["group"]], name=d))
        tab.columns.name = "pairs_pre_post"
        sdc.add_counts(f"disaggregation:{d}", tab)
    # Likert distributions (3 categories) of post respondents by the same collapsed groups.
    dist_meta = []
    post = waves.get("post")
    if post is not None and mapping:
        post_groups = {d: _profile(post, inst, d).fillna("(missing)").map(
                           lambda v, m=mapping[d]: m.get(v, "other")).to_numpy()
                       for d in mapping}
        for item_id in _DISTRIBUTION_ITEMS:
            if not inst.has_item(item_id) or item_id not in post.columns:
                continue
            item = inst.item(item_id)
            clist = inst.choice_lists[item.choices]
            points = len(clist.codes)
            answers = pd.to_numeric(post[item_id].astype("string"), errors="coerce")
            answers = answers.where(answers.between(1, points))
            cats = collapse_likert(answers, points)
            ok = cats.notna().to_numpy()
            if not ok.any():
                continue
            answered = cats[ok].astype(str).to_numpy()
            for d, groups in post_groups.items():
                name = f"distribution:{item_id}:{d}"
                freq[name] = _crosstab(groups[ok], answered, list(_COLLAPSED), d, item_id)
                dist_meta.append((name, item_id, d))
    for name, tab in freq.items():
        sdc.add_counts(name, tab)
    # Respondents per wave and matched pairs: the totals the subgroup tables add up to. The
    # report gives them elsewhere (headline indicators, response and match rates, findings), so
    # when they are not small they are published here too, and never hidden to protect a
    # subgroup: hiding a number the reader knows would protect nothing.
    tot = sdc.policy().total_label

    def whole(tab: pd.DataFrame) -> list[tuple[str, str]]:
        if sdc.policy().is_disclosive(int(tab.iloc[0, 0])):
            return []
        column = str(tab.columns[0])
        return [("all", column), ("all", tot), (tot, column), (tot, tot)]

    for w in ("pre", "post", "followup"):
        if w in waves:
            tab = pd.DataFrame({"respondents": [len(waves[w])]},
                               index=pd.Index(["all"], name=f"wave_{w}"))
            tab.columns.name = f"respondents_{w}"
            sdc.add_counts(f"participation:{w}:total", tab, published=whole(tab))
    for (a, b), p in pairs.items():
        if "retro" not in (a, b):
            tab = pd.DataFrame({"n": [len(p)]}, index=pd.Index(["all"], name=f"matched_{a}_{b}"))
            tab.columns.name = f"pairs_{a}_{b}"
            sdc.add_counts(f"participation:matched:{a}-{b}", tab, published=whole(tab))

    def finish() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        return _subgroup_finish(waves, inst, pairs, expected, hide, dims, freq, dist_meta,
                                disaggregation, dis_labels, sdc)

    return finish


def _subgroup_finish(waves, inst: Instrument, pairs: dict, expected: dict, hide: bool,
                     dims: list[str], freq: dict, dist_meta: list, disaggregation: pd.DataFrame,
                     dis_labels: list[str], sdc: _Sdc
                     ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    protected = sdc.protected
    tot = sdc.policy().total_label
    if len(disaggregation):
        links = [(pos, f"disaggregation:{r.dimension}", str(r.group), [])
                 for pos, r in enumerate(disaggregation.itertuples())]
        _apply_count_pattern(sdc, disaggregation, "disaggregation", dis_labels, links, "n",
                             ["mean_a", "mean_b", "mean_change", "ci_low", "ci_high"])
        disaggregation["n"] = pd.to_numeric(disaggregation["n"], errors="coerce").astype("Int64")
    # -- participation long table
    part_rows = []
    per_country = expected.get("per_country")
    countries = [str(c) for c in expected.get("countries") or []]
    total_plan = expected.get("participants")
    for w in ("pre", "post", "followup"):
        if w not in waves:
            continue
        n = sdc.published(f"participation:{w}:total", "all", "respondents")
        part_rows.append({"dimension": "total", "group": "all", "wave": w, "n": n,
                          "base": total_plan,
                          "rate": n / total_plan if total_plan and pd.notna(n) else np.nan,
                          "attrition": np.nan})
        for d in dims:
            name = f"participation:{w}:{d}"
            if name not in protected:
                continue
            num = protected[name].numeric
            for code in freq[name].index:
                value = num.loc[code, "respondents"]
                if hide and pd.isna(value):
                    continue
                base = per_country if (d == "country" and code in countries) else None
                part_rows.append({"dimension": d, "group": code, "wave": w, "n": value,
                                  "base": base,
                                  "rate": value / base if base and pd.notna(value) else np.nan,
                                  "attrition": np.nan})
    for a, b in pairs:
        if "retro" in (a, b):
            continue
        base = sdc.published(f"participation:{a}:total", "all", "respondents")
        n = sdc.published(f"participation:matched:{a}-{b}", "all", "n")
        rate = n / base if pd.notna(base) and base and pd.notna(n) else np.nan
        part_rows.append({"dimension": "matched", "group": _pair_key(a, b), "wave": b,
                          "n": n, "base": base, "rate": rate,
                          "attrition": 1 - rate if pd.notna(rate) else np.nan})
    part = pd.DataFrame(part_rows, columns=["dimension", "group", "wave", "n", "base", "rate",
                                            "attrition"])
    if len(part):
        part["base"] = pd.to_numeric(part["base"], errors="coerce")
        part["n"] = pd.to_numeric(part["n"], errors="coerce").astype("Int64")
        part["base"] = part["base"].astype("Int64")
    sdc.display["participation"] = _count_display(part, sdc.policy().count_marker, ["n"])
    # -- distributions long-to-wide numeric table
    dist_rows = []
    for name, item_id, d in dist_meta:
        num = protected[name].numeric
        for grp in freq[name].index:
            if hide and pd.isna(num.loc[grp, tot]):
                continue
            dist_rows.append({"item_id": item_id, "dimension": d, "group": grp,
                              "n": num.loc[grp, tot],
                              **{c: num.loc[grp, c] for c in ("disagree", "neutral", "agree")}})
    dist = pd.DataFrame(dist_rows, columns=["item_id", "dimension", "group", "n", "disagree",
                                            "neutral", "agree"])
    for c in ("n", "disagree", "neutral", "agree"):
        dist[c] = pd.to_numeric(dist[c], errors="coerce").astype("Int64")
    if hide and len(disaggregation):
        disaggregation = disaggregation[disaggregation["n"].notna()].reset_index(drop=True)
    return part, disaggregation, dist


def analyze_folder(
    workshop_dir: str | Path,
    k_min: int | None = None,
    n_resamples: int = 2000,
    seed: int = 20180521,
    language: str = "en",
) -> tuple[IngestResult, WorkshopAnalysis, pd.DataFrame, int]:
    """Ingest a workshop folder, then analyse it and compute its indicators.

    What a report (:meth:`evaluation.report.WorkshopReport.prepare`) and a warehouse load
    (:func:`evaluation.warehouse.add_workshop`) both start from. Nothing is written.

    Parameters
    ----------
    workshop_dir : str or Path
        The folder holding ``workshop.yaml``.
    k_min : int, optional
        Suppression threshold; default ``privacy.k_min`` of ``workshop.yaml``; never below 3.
    n_resamples, seed : int
        Bootstrap settings.
    language : {"en", "ru"}
        Language of the indicator labels.

    Returns
    -------
    tuple
        ``(ingest, analysis, indicators, k)``: the :class:`~evaluation.ingest.IngestResult`, the
        :class:`WorkshopAnalysis`, the indicator table and the threshold used.

    Examples
    --------
    >>> from evaluation.analysis import analyze_folder
    >>> ingest, analysis, indicators, k = analyze_folder("demo-workshops/astana-2018-05",
    ...                                                  n_resamples=200)
    >>> ingest.config.id, k, len(indicators)
    ('astana-2018-05', 5, 8)
    """
    from evaluation.indicators import compute_indicators
    from evaluation.ingest import ingest_workshop

    ingest = ingest_workshop(Path(workshop_dir))
    config = ingest.config
    k = max(int(k_min or config.privacy.k_min), 3)
    analysis = analyze_workshop(ingest.waves, ingest.instrument, config, k_min=k,
                                n_resamples=n_resamples, seed=seed)
    indicators = compute_indicators(ingest.waves, ingest.instrument, config, k_min=k,
                                    language=language, n_resamples=n_resamples, seed=seed)
    return ingest, analysis, indicators, k
