"""Disclosure control: the step every published table and chart passes through.

A workshop cohort is a whole population of about 30 people, and the people most likely to read a
report (trainers, organisers, donors, other participants) know who attended. A critical answer
traced back to a participant can put that person at risk. This module therefore applies, by
default, the strict end of the official-statistics rules (reference notes R-SDC-01 to R-SDC-11):

- **collapse before suppress** (R-SDC-03): :func:`collapse_likert`, :func:`collapse_likert_counts`
  and :func:`collapse_small_groups` merge categories and small subgroups first;
- **subgroup size** (R-SDC-04): a subgroup with fewer than ``k_min`` members shows none of its
  numbers, and its size shows as ``"<5"``;
- **primary suppression** (R-SDC-01/02): counts ``0 < n < k_min`` (and zeros, unless declared
  structural) show as ``"<5"``; means and percentages resting on fewer than ``k_min`` people show
  as ``"–"``;
- **class disclosure** (R-SDC-06): when all of a subgroup, or all but fewer than ``k_min`` of it,
  fall in one category, that subgroup's distribution is suppressed;
- **complementary suppression** (R-SDC-05), within a table and across the tables of one report
  that share margins, checked by linear programming (:func:`audit_recoverability`) until no
  suppressed cell can be worked out from the published numbers;
- **reliability flag** (R-SDC-08): percentages whose denominator is below ``reliability_n`` show
  as ``"x of n"`` with no decimals and carry a flag;
- an **audit trail** (R-SDC-11): :class:`SdcLog` records the cell, the rule and the threshold,
  never the underlying value.

Every suppressed count in a frequency table carries the same marker (``"<5"`` by default), whether
it was suppressed because it is small or to protect another cell: a reader who could tell the two
apart would learn that the complementary cells are at least ``k_min`` and could bound the small
ones. :func:`suppression_footnote` gives the footnote that explains the marker.

The :class:`SdcLog` says which rule suppressed each cell. It is an audit trail for the evaluator
and must not be published with the report: telling primary from complementary cells weakens the
protection.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from evaluation.errors import DisclosureError

__all__ = [
    "RULES",
    "DisclosurePolicy",
    "SdcLogEntry",
    "SdcLog",
    "ProtectedTable",
    "RecoveryProblem",
    "collapse_likert",
    "collapse_likert_counts",
    "collapse_small_groups",
    "protect_frequency_table",
    "protect_related_tables",
    "protect_statistics_table",
    "audit_recoverability",
    "display_count",
    "display_value",
    "suppression_footnote",
]

#: The rules an :class:`SdcLog` entry can name.
RULES = ("primary", "complementary", "class", "reliability", "group_size")

_DASH = "–"
_LIKERT_LABELS = ("disagree", "neutral", "agree")


# --------------------------------------------------------------------------------------------
# Policy and log
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisclosurePolicy:
    """Thresholds and choices of the disclosure-control step.

    Parameters
    ----------
    k_min : int
        Minimum number of respondents behind any published number (R-SDC-01). Default 5 (reports
        to the donor or partners); use 10 for anything released publicly. Never below 3.
    reliability_n : int
        Percentages whose denominator is below this get a reliability flag and an ``"x of n"``
        display (R-SDC-08). Default 30 (NCHS 2017).
    zeros_are_disclosive : bool
        Treat zero counts as disclosive (R-SDC-06, ACRO's default): "nobody from country X
        agreed" says something about everyone from X. Declared structural zeros are exempt.
    collapse_likert : bool
        Whether callers should collapse 5-point answers to 3 categories before tabulating
        (R-SDC-03). Read by the analysis step; this module's functions do not collapse on their own.
    other_label : str
        Label of the group that small subgroups are merged into.
    total_label : str
        Label of the margin row and column added to frequency tables.
    marker : str or None
        What a suppressed count shows. ``None`` means ``f"<{k_min}"``.
    min_interval_width : int
        A suppressed cell counts as recovered when the published numbers pin it to an interval
        narrower than this (1: only an exact value counts as recovered).

    Examples
    --------
    >>> DisclosurePolicy().count_marker
    '<5'
    >>> DisclosurePolicy(k_min=10).count_marker
    '<10'
    >>> DisclosurePolicy(k_min=2)
    Traceback (most recent call last):
    ...
    evaluation.errors.DisclosureError: k_min must be an integer of at least 3, not 2.
    """

    k_min: int = 5
    reliability_n: int = 30
    zeros_are_disclosive: bool = True
    collapse_likert: bool = True
    other_label: str = "other"
    total_label: str = "Total"
    marker: str | None = None
    min_interval_width: int = 1

    def __post_init__(self) -> None:
        if (
            isinstance(self.k_min, bool)
            or not isinstance(self.k_min, (int, np.integer))
            or (self.k_min < 3)
        ):
            raise DisclosureError(f"k_min must be an integer of at least 3, not {self.k_min!r}.")
        if (
            isinstance(self.reliability_n, bool)
            or not isinstance(self.reliability_n, (int, np.integer))
            or self.reliability_n < self.k_min
        ):
            raise DisclosureError(
                f"reliability_n must be an integer of at least k_min ({self.k_min}), "
                f"not {self.reliability_n!r}."
            )
        width = self.min_interval_width
        if not isinstance(width, (int, np.integer)) or width < 1:
            raise DisclosureError("min_interval_width must be an integer of at least 1.")
        if self.other_label == self.total_label:
            raise DisclosureError("other_label and total_label must differ.")

    @property
    def count_marker(self) -> str:
        """The text shown in place of a suppressed count."""
        return self.marker if self.marker is not None else f"<{self.k_min}"

    def is_disclosive(self, count: int, structural: bool = False) -> bool:
        """Whether ``count`` people may not be published: 1 to ``k_min - 1``, or none.

        A zero is disclosive when ``zeros_are_disclosive``, unless it is structural.

        Examples
        --------
        >>> policy = DisclosurePolicy(k_min=5)
        >>> [policy.is_disclosive(c) for c in (0, 3, 5)], policy.is_disclosive(0, structural=True)
        ([True, True, False], False)
        """
        return 0 < count < self.k_min or (count == 0 and self.zeros_are_disclosive
                                          and not structural)


@dataclass(frozen=True)
class SdcLogEntry:
    """One suppressed or flagged cell: where it is, which rule fired, which threshold applied.

    There is deliberately no field for the cell's value.
    """

    table: str
    row: str
    column: str
    rule: str
    threshold: int


@dataclass
class SdcLog:
    """Audit trail of disclosure control (R-SDC-11): one entry per suppressed or flagged cell.

    Entries name the table, row, column, rule and threshold, never the underlying value. The log
    is for the evaluator's records; do not publish it with the report (it tells primary from
    complementary suppressions apart).

    Examples
    --------
    >>> log = SdcLog()
    >>> log.add("by_country", "TJ", "agree", "primary", 5)
    >>> log.to_frame()
            table row  column     rule  threshold
    0  by_country  TJ   agree  primary          5
    >>> log.add("by_country", "TJ", "agree", "secret", 5)
    Traceback (most recent call last):
    ...
    evaluation.errors.DisclosureError: Unknown disclosure rule 'secret'.
    """

    entries: list[SdcLogEntry] = field(default_factory=list)

    COLUMNS = ("table", "row", "column", "rule", "threshold")

    def add(self, table: str, row: Hashable, column: Hashable, rule: str, threshold: int) -> None:
        """Record one cell (labels are stored as text)."""
        if rule not in RULES:
            raise DisclosureError(f"Unknown disclosure rule {rule!r}.")
        self.entries.append(SdcLogEntry(str(table), str(row), str(column), rule, int(threshold)))

    def __len__(self) -> int:
        return len(self.entries)

    def to_frame(self) -> pd.DataFrame:
        """The log as a DataFrame with columns ``table, row, column, rule, threshold``."""
        frame = pd.DataFrame(
            [[e.table, e.row, e.column, e.rule, e.threshold] for e in self.entries],
            columns=list(self.COLUMNS),
        )
        return frame.astype({"threshold": "int64"})


def suppression_footnote(policy: DisclosurePolicy | None = None) -> str:
    """The footnote explaining the suppression markers of a report.

    Examples
    --------
    >>> print(suppression_footnote())
    <5: suppressed (fewer than 5 respondents, or hidden so that such a cell cannot be worked out
    from the totals). –: suppressed, fewer than 5 respondents.
    """
    policy = policy or DisclosurePolicy()
    k = policy.k_min
    return (
        f"{policy.count_marker}: suppressed (fewer than {k} respondents, or hidden so that such a "
        f"cell cannot be worked out\nfrom the totals). {_DASH}: suppressed, fewer than {k} "
        "respondents."
    )


# --------------------------------------------------------------------------------------------
# Display helpers
# --------------------------------------------------------------------------------------------


def _is_missing(x: object) -> bool:
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def display_count(n: float | None, k_min: int = 5, zeros_are_disclosive: bool = True) -> str:
    """Show a respondent count, or ``"<k_min"`` when it is too small to publish.

    Parameters
    ----------
    n : int or None
        The count. Missing shows as ``"–"``.
    k_min : int
        Threshold (at least 3).
    zeros_are_disclosive : bool
        Whether a zero shows as ``"<k_min"`` too.

    Examples
    --------
    >>> display_count(12), display_count(3), display_count(0), display_count(0, 5, False)
    ('12', '<5', '<5', '0')
    """
    if k_min < 3:
        raise DisclosureError(f"k_min must be at least 3, not {k_min}.")
    if n is None or _is_missing(n):
        return _DASH
    n = int(n)
    if 0 < n < k_min or (n == 0 and zeros_are_disclosive):
        return f"<{k_min}"
    return str(n)


def display_value(x: float | None, n: float | None, k_min: int = 5, fmt: str = "{:.2f}") -> str:
    """Show a mean, percentage or change that rests on ``n`` respondents, or ``"–"``.

    Parameters
    ----------
    x : float or None
        The value.
    n : int or None
        The number of respondents it rests on.
    k_min : int
        Threshold (at least 3).
    fmt : str
        A :meth:`str.format` pattern for the value.

    Examples
    --------
    >>> display_value(3.456, 12), display_value(3.456, 4), display_value(float("nan"), 12)
    ('3.46', '–', '–')
    >>> display_value(41.7, 12, fmt="{:.0f}%")
    '42%'
    """
    if k_min < 3:
        raise DisclosureError(f"k_min must be at least 3, not {k_min}.")
    if x is None or n is None or _is_missing(x) or _is_missing(n) or int(n) < k_min:
        return _DASH
    return fmt.format(x)


# --------------------------------------------------------------------------------------------
# Collapse before suppress (R-SDC-03)
# --------------------------------------------------------------------------------------------


def _likert_map(points: int) -> dict[int, str]:
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
        raise DisclosureError(f"A Likert scale needs at least 2 points, not {points!r}.")
    half = points // 2
    mapping = {}
    for code in range(1, points + 1):
        if code <= half:
            mapping[code] = "disagree"
        elif points % 2 == 1 and code == half + 1:
            mapping[code] = "neutral"
        else:
            mapping[code] = "agree"
    return mapping


def collapse_likert(codes: Iterable[float] | pd.Series, points: int = 5) -> pd.Series:
    """Collapse Likert codes ``1..points`` to disagree / neutral / agree (R-SDC-03).

    The lower half of the scale is "disagree", the middle point (odd scales only) "neutral", the
    upper half "agree". Missing answers stay missing.

    Parameters
    ----------
    codes : Series or array-like
        Answer codes ``1..points`` (numbers or numeric text), or missing.
    points : int
        Number of scale points.

    Returns
    -------
    Series
        Ordered categorical with categories ``disagree, neutral, agree`` (index kept).

    Raises
    ------
    DisclosureError
        If a code is outside ``1..points``.

    Examples
    --------
    >>> collapse_likert([1, 2, 3, 4, 5, None]).tolist()
    ['disagree', 'disagree', 'neutral', 'agree', 'agree', nan]
    >>> collapse_likert([1, 4, 7], points=7).tolist()
    ['disagree', 'neutral', 'agree']
    """
    mapping = _likert_map(points)
    series = codes.copy() if isinstance(codes, pd.Series) else pd.Series(list(codes), dtype=object)
    numeric = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & (numeric.isna() | ~numeric.isin(list(mapping)))
    if bad.any():
        values = sorted({str(v) for v in series[bad]})[:5]
        raise DisclosureError(
            f"Likert codes must be whole numbers from 1 to {points}; found {', '.join(values)}."
        )
    labels = numeric.map(lambda v: mapping.get(int(v)) if pd.notna(v) else np.nan)
    return pd.Series(
        pd.Categorical(labels, categories=list(_LIKERT_LABELS), ordered=True),
        index=series.index,
        name=series.name,
    )


def collapse_likert_counts(counts: pd.DataFrame, points: int = 5) -> pd.DataFrame:
    """Collapse a count table whose columns are Likert codes to disagree / neutral / agree.

    Examples
    --------
    >>> t = pd.DataFrame({1: [1, 0], 2: [2, 1], 3: [0, 3], 4: [4, 2], 5: [1, 6]},
    ...                  index=["KZ", "KG"])
    >>> collapse_likert_counts(t)
        disagree  neutral  agree
    KZ         3        0      5
    KG         1        3      8
    """
    mapping = _likert_map(points)
    columns = {}
    for col in counts.columns:
        try:
            code = int(col)
        except (TypeError, ValueError):
            code = None
        if code is None or code not in mapping or code != col and str(code) != str(col):
            raise DisclosureError(f"Column {col!r} is not a Likert code from 1 to {points}.")
        columns[col] = mapping[code]
    out = counts.T.groupby(pd.Series(columns)).sum().T
    wanted = [c for c in _LIKERT_LABELS if c in out.columns]
    out = out[wanted]
    out.columns.name = counts.columns.name
    return out


def collapse_small_groups(
    labels: Sequence[Hashable],
    counts: Sequence[int],
    k_min: int = 5,
    other_label: str = "other",
    absorb: bool = True,
) -> dict[Hashable, Hashable]:
    """Map subgroup labels so that groups under ``k_min`` are merged into ``other_label``.

    R-SDC-03: merge categories before suppressing cells. Every group with fewer than ``k_min``
    members (zero-member groups included) goes to ``other_label``. If that leaves "other" still
    under ``k_min`` and ``absorb`` is true, the next-smallest groups are merged in as well until it
    reaches ``k_min``: an "other" group made of one known country is no protection at all, since
    readers know which countries attended. A group that stays under ``k_min`` (the whole cohort is
    that small) is suppressed later by :func:`protect_frequency_table`.

    Parameters
    ----------
    labels : sequence
        Subgroup labels (e.g. countries).
    counts : sequence of int
        Their sizes, in the same order.
    k_min : int
        Threshold (at least 3).
    other_label : str
        The label of the merged group. If it is already one of ``labels``, that group takes the
        new members.
    absorb : bool
        Whether to merge further groups into a too-small "other" group.

    Returns
    -------
    dict
        Every input label mapped to itself or to ``other_label``.

    Examples
    --------
    >>> collapse_small_groups(["KZ", "KG", "TJ", "TM", "UZ"], [9, 8, 7, 3, 3])
    {'KZ': 'KZ', 'KG': 'KG', 'TJ': 'TJ', 'TM': 'other', 'UZ': 'other'}
    >>> collapse_small_groups(["KZ", "KG", "TJ", "TM"], [10, 8, 6, 2])
    {'KZ': 'KZ', 'KG': 'KG', 'TJ': 'other', 'TM': 'other'}
    >>> collapse_small_groups(["KZ", "TM"], [10, 2], absorb=False)
    {'KZ': 'KZ', 'TM': 'other'}
    """
    if k_min < 3:
        raise DisclosureError(f"k_min must be at least 3, not {k_min}.")
    labels = list(labels)
    counts = [int(c) for c in counts]
    if len(labels) != len(counts):
        raise DisclosureError("labels and counts must have the same length.")
    if len(set(labels)) != len(labels):
        raise DisclosureError("Subgroup labels must be unique.")
    if any(c < 0 for c in counts):
        raise DisclosureError("Subgroup sizes cannot be negative.")
    size = dict(zip(labels, counts, strict=True))
    mapping: dict[Hashable, Hashable] = {lab: lab for lab in labels}
    merged = [lab for lab in labels if size[lab] < k_min or lab == other_label]
    if not merged:
        return mapping
    for lab in merged:
        mapping[lab] = other_label
    if absorb:
        total = sum(size[lab] for lab in merged)
        rest = sorted((lab for lab in labels if mapping[lab] != other_label), key=lambda x: size[x])
        while total < k_min and rest:
            lab = rest.pop(0)
            mapping[lab] = other_label
            total += size[lab]
    return mapping


# --------------------------------------------------------------------------------------------
# Protected tables
# --------------------------------------------------------------------------------------------


@dataclass
class ProtectedTable:
    """A table after disclosure control, ready for a report, an annex or a chart.

    Attributes
    ----------
    name : str
        Table name (as used in the log).
    display : DataFrame
        Strings to print: published numbers as text, suppressed counts as the policy's marker
        (``"<5"``), suppressed means and percentages as ``"–"``. Frequency tables include the
        margins (row and column ``total_label``).
    suppressed : DataFrame
        Boolean mask of suppressed cells, same shape as ``display``.
    numeric : DataFrame
        Published numbers with suppressed cells as NaN (build charts from this, R-SDC-10).
    kind : str
        ``"frequency"`` or ``"statistics"``.
    k_min : int
        Threshold used.
    structural : DataFrame or None
        Frequency tables: boolean mask of declared structural zeros.
    margin_keys : dict
        Frequency tables: ``(row, column) -> key`` for every margin cell. Margins with the same key
        in tables of one report are the same published quantity (e.g. a country's size), which
        :func:`audit_recoverability` links across tables.
    class_rule : bool
        Whether rows are subgroups whose distribution is checked for class disclosure.
    """

    name: str
    display: pd.DataFrame
    suppressed: pd.DataFrame
    numeric: pd.DataFrame
    kind: str
    k_min: int
    structural: pd.DataFrame | None = None
    margin_keys: dict[tuple[Hashable, Hashable], str] = field(default_factory=dict)
    class_rule: bool = True

    @property
    def n_suppressed(self) -> int:
        """Number of suppressed cells."""
        return int(self.suppressed.to_numpy().sum())

    def row_percentages(self) -> pd.DataFrame:
        """Percentages of each row total, from published numbers only (for charts).

        A share is NaN when its count or its row total is suppressed, so a chart built from it
        shows nothing that the table hides (R-SDC-10). Frequency tables only.

        Examples
        --------
        >>> counts = pd.DataFrame({"no": [6, 2, 7], "yes": [9, 12, 8]}, index=["KZ", "KG", "UZ"])
        >>> protect_frequency_table(counts).row_percentages().round(1)
                 no   yes
        KZ      NaN   NaN
        KG      NaN   NaN
        UZ     46.7  53.3
        Total  34.1  65.9
        """
        if self.kind != "frequency":
            raise DisclosureError(f"Table {self.name!r} is not a frequency table.")
        inner = self.numeric.iloc[:, :-1]
        return inner.div(self.numeric.iloc[:, -1], axis=0) * 100


@dataclass(frozen=True)
class RecoveryProblem:
    """A suppressed cell that the published numbers reveal.

    ``kind`` is ``"recovered"`` (the published numbers pin the cell to fewer than
    ``min_interval_width + 1`` values) or ``"class"`` (they prove that all but fewer than ``k_min``
    of a subgroup fall in one category). ``low`` and ``high`` are the bounds an intruder can
    derive; they are kept for tests and never put in the message.
    """

    table: str
    row: str
    column: str
    kind: str
    low: float = field(repr=False, default=math.nan)
    high: float = field(repr=False, default=math.nan)

    def __str__(self) -> str:
        where = f"table {self.table!r}, row {self.row!r}, column {self.column!r}"
        if self.kind == "class":
            return (
                f"In {where}, the published numbers show that all but a few of the subgroup fall "
                "in this category (class disclosure)."
            )
        return f"In {where}, the suppressed cell can be worked out from the published numbers."


# --------------------------------------------------------------------------------------------
# The suppression engine
# --------------------------------------------------------------------------------------------

_PRECEDENCE = {"group_size": 0, "primary": 1, "class": 2, "complementary": 3}


@dataclass
class _Quantity:
    value: int
    margin: bool
    structural: bool
    places: list[tuple[str, Hashable, Hashable]]
    rule: str | None = None
    public: bool = False  # published elsewhere in the report: never a complementary choice

    @property
    def suppressed(self) -> bool:
        return self.rule is not None


@dataclass
class _TableSpec:
    name: str
    counts: pd.DataFrame
    qid: np.ndarray  # (R+1, C+1) quantity ids; last row/column are margins
    row_eqs: list[int]
    class_rule: bool
    group_rows: bool = True


def _validate_counts(name: str, counts: pd.DataFrame, policy: DisclosurePolicy) -> pd.DataFrame:
    if not isinstance(counts, pd.DataFrame):
        raise DisclosureError(f"Table {name!r} must be a DataFrame of respondent counts.")
    if counts.shape[0] == 0 or counts.shape[1] == 0:
        raise DisclosureError(f"Table {name!r} is empty.")
    if not counts.index.is_unique or not counts.columns.is_unique:
        raise DisclosureError(f"Table {name!r} has duplicate row or column labels.")
    if policy.total_label in counts.index or policy.total_label in counts.columns:
        raise DisclosureError(
            f"Table {name!r} already has a {policy.total_label!r} row or column; pass counts "
            "without margins (they are computed here)."
        )
    try:
        values = counts.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise DisclosureError(f"Table {name!r} must hold numbers only.") from exc
    if np.isnan(values).any():
        raise DisclosureError(f"Table {name!r} has missing counts; use 0 for empty cells.")
    if (values < 0).any() or (values != np.round(values)).any():
        raise DisclosureError(f"Table {name!r} must hold non-negative whole counts.")
    return pd.DataFrame(values.astype(np.int64), index=counts.index, columns=counts.columns)


class _Engine:
    """Suppression state over one or more related count tables."""

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        policy: DisclosurePolicy,
        structural_zeros: Mapping[str, Iterable[tuple[Hashable, Hashable]]],
        class_rule: Mapping[str, bool],
        group_rows: Mapping[str, bool] | None = None,
        link_grand: Mapping[str, bool] | None = None,
        published: Mapping[str, Iterable[tuple[Hashable, Hashable]]] | None = None,
    ):
        self.policy = policy
        self.q: list[_Quantity] = []
        self.eqs: list[tuple[list[int], int]] = []
        self.eqs_of: list[list[int]] = []
        self.tables: dict[str, _TableSpec] = {}
        self.keys: dict[int, str] = {}
        registry: dict[tuple, list[int]] = {}

        def new(value: int, margin: bool, structural: bool, place, key=None) -> int:
            if key is not None:
                for qi in registry.get(key, []):
                    if self.q[qi].value == value:
                        self.q[qi].places.append(place)
                        return qi
            self.q.append(_Quantity(int(value), margin, structural, [place]))
            qi = len(self.q) - 1
            if key is not None:
                registry.setdefault(key, []).append(qi)
                self.keys[qi] = "|".join(map(str, key)) + f"|#{len(registry[key]) - 1}"
            return qi

        for name, raw in tables.items():
            counts = _validate_counts(name, raw, policy)
            zeros = set()
            for cell in structural_zeros.get(name, ()):
                r, c = cell
                if r not in counts.index or c not in counts.columns:
                    raise DisclosureError(
                        f"Table {name!r}: structural zero ({r!r}, {c!r}) is not a cell of the "
                        "table."
                    )
                if counts.loc[r, c] != 0:
                    raise DisclosureError(
                        f"Table {name!r}: cell ({r!r}, {c!r}) is declared a structural zero but "
                        "is not zero."
                    )
                zeros.add((r, c))
            n_rows, n_cols = counts.shape
            values = counts.to_numpy()
            qid = np.empty((n_rows + 1, n_cols + 1), dtype=np.int64)
            tot = policy.total_label
            rname, cname = counts.index.name, counts.columns.name
            for i, r in enumerate(counts.index):
                for j, c in enumerate(counts.columns):
                    qid[i, j] = new(values[i, j], False, (r, c) in zeros, (name, r, c))
            for i, r in enumerate(counts.index):
                struct = all((r, c) in zeros for c in counts.columns)
                qid[i, n_cols] = new(
                    values[i].sum(), True, struct, (name, r, tot), ("row", rname, r)
                )
            for j, c in enumerate(counts.columns):
                struct = all((r, c) in zeros for r in counts.index)
                # Column totals are shared only between tables whose columns axis has the same
                # name (e.g. "gender"): equal totals of unnamed answer columns in different
                # questions are not one quantity.
                key = ("col", cname, c) if cname is not None else None
                qid[n_rows, j] = new(values[:, j].sum(), True, struct, (name, tot, c), key)
            # In a one-row table the grand total is the row total, in a one-column table with
            # a named columns axis the column total: one quantity, linked by that key (not by
            # the value-based grand-total link, which would chain unrelated tables).
            if n_rows == 1 or (n_cols == 1 and cname is not None):
                same = qid[0, n_cols] if n_rows == 1 else qid[n_rows, 0]
                qid[n_rows, n_cols] = same
                self.q[int(same)].places.append((name, tot, tot))
            else:
                link = (link_grand or {}).get(name, True)
                qid[n_rows, n_cols] = new(
                    values.sum(), True, len(zeros) == values.size, (name, tot, tot),
                    ("grand",) if link else None,
                )
            row_eqs = []
            for i in range(n_rows + 1):
                row_eqs.append(self._add_eq(list(qid[i, :n_cols]), int(qid[i, n_cols])))
            for j in range(n_cols + 1):
                self._add_eq(list(qid[:n_rows, j]), int(qid[n_rows, j]))
            self.tables[name] = _TableSpec(
                name, counts, qid, row_eqs[:-1], class_rule.get(name, True) and n_cols >= 2,
                (group_rows or {}).get(name, True),
            )
        for name, cells in (published or {}).items():
            if name not in self.tables:
                raise DisclosureError(f"Published cells are declared for an unknown table "
                                      f"{name!r}.")
            for r, c in cells:
                try:
                    qi = self.locate(name, str(r), str(c))
                except ValueError:
                    raise DisclosureError(
                        f"Table {name!r}: published cell ({r!r}, {c!r}) is not a cell or margin "
                        "of the table.") from None
                if self.policy.is_disclosive(self.q[qi].value, self.q[qi].structural):
                    raise DisclosureError(
                        f"Table {name!r}: cell ({r!r}, {c!r}) is declared published elsewhere "
                        f"but counts fewer than {policy.k_min}; it cannot be published.")
                self.q[qi].public = True

    def _add_eq(self, parts: list[int], total: int) -> int:
        parts = [int(p) for p in parts]
        self.eqs.append((parts, total))
        idx = len(self.eqs) - 1
        while len(self.eqs_of) < len(self.q):
            self.eqs_of.append([])
        for m in [*parts, total]:
            if idx not in self.eqs_of[m]:
                self.eqs_of[m].append(idx)
        return idx

    # -- rules ---------------------------------------------------------------------------------

    def suppress(self, qi: int, rule: str) -> None:
        quantity = self.q[qi]
        if quantity.rule is None or _PRECEDENCE[rule] < _PRECEDENCE[quantity.rule]:
            quantity.rule = rule

    def apply_group_size(self) -> None:
        small: set[tuple] = set()
        for spec in self.tables.values():
            if not spec.group_rows:
                continue
            n_cols = spec.counts.shape[1]
            for i, r in enumerate(spec.counts.index):
                total = self.q[spec.qid[i, n_cols]]
                if self.policy.is_disclosive(total.value, total.structural):
                    small.add((spec.counts.index.name, r))
        for spec in self.tables.values():
            if not spec.group_rows:
                continue
            for i, r in enumerate(spec.counts.index):
                if (spec.counts.index.name, r) in small:
                    for qi in spec.qid[i, :]:
                        self.suppress(int(qi), "group_size")

    def apply_primary(self) -> None:
        for qi, quantity in enumerate(self.q):
            if self.policy.is_disclosive(quantity.value, quantity.structural):
                self.suppress(qi, "primary")

    def apply_class(self) -> None:
        k = self.policy.k_min
        for spec in self.tables.values():
            if not spec.class_rule:
                continue
            n_cols = spec.counts.shape[1]
            for i in range(spec.counts.shape[0]):
                total = self.q[spec.qid[i, n_cols]]
                if total.suppressed or total.value < k:
                    continue
                cells = [int(x) for x in spec.qid[i, :n_cols]]
                largest = max(self.q[c].value for c in cells)
                if total.value - largest < k:
                    for c in cells:
                        if not self.q[c].structural:
                            self.suppress(c, "class")

    # -- complementary suppression -------------------------------------------------------------

    def _cost(self, qi: int) -> tuple:
        quantity = self.q[qi]
        lonely = sum(
            1
            for e in self.eqs_of[qi]
            if sum(self.q[m].suppressed for m in [*self.eqs[e][0], self.eqs[e][1]]) == 1
        )
        return (quantity.margin, -lonely, quantity.value, qi)

    def _candidates(self, eq: int) -> list[int]:
        parts, total = self.eqs[eq]
        return [m for m in [*parts, total]
                if not self.q[m].suppressed and not self.q[m].structural and not self.q[m].public]

    def complete_lines(self) -> None:
        """Every equation (row, column, margin) holds 0 or at least 2 suppressed quantities."""
        changed = True
        while changed:
            changed = False
            for e, (parts, total) in enumerate(self.eqs):
                members = [*parts, total]
                if sum(self.q[m].suppressed for m in members) != 1:
                    continue
                candidates = self._candidates(e)
                if candidates:
                    self.suppress(min(candidates, key=self._cost), "complementary")
                    changed = True

    def widen(self, qi: int, avoid: set[int]) -> bool:
        """Suppress one more quantity next to ``qi``; False when nothing is left to suppress."""
        eqs = sorted(
            (e for e in self.eqs_of[qi] if e not in avoid),
            key=lambda e: sum(self.q[m].suppressed for m in [*self.eqs[e][0], self.eqs[e][1]]),
        ) + [e for e in self.eqs_of[qi] if e in avoid]
        for e in eqs:
            candidates = self._candidates(e)
            if candidates:
                self.suppress(min(candidates, key=self._cost), "complementary")
                return True
        rest = [m for m, q in enumerate(self.q)
                if not q.suppressed and not q.structural and not q.public]
        if rest:
            self.suppress(min(rest, key=self._cost), "complementary")
            return True
        return False

    def locate(self, table: str, row: str, column: str) -> int:
        spec = self.tables[table]
        n_rows, n_cols = spec.counts.shape
        rows = [str(r) for r in spec.counts.index] + [self.policy.total_label]
        cols = [str(c) for c in spec.counts.columns] + [self.policy.total_label]
        return int(spec.qid[rows.index(row), cols.index(column)])

    def run(self) -> None:
        self.apply_group_size()
        self.apply_primary()
        self.apply_class()
        for _ in range(10 * len(self.q) + 10):
            self.complete_lines()
            problems = _audit(self.published(), self.policy.min_interval_width, False)
            if not problems:
                return
            touched: set[int] = set()
            progress = False
            for problem in problems:
                qi = self.locate(problem.table, problem.row, problem.column)
                if touched & set(self.eqs_of[qi]):
                    continue
                avoid = set()
                if problem.kind == "class":
                    spec = self.tables[problem.table]
                    avoid = set(spec.row_eqs)
                progress |= self.widen(qi, avoid)
                touched.update(self.eqs_of[qi])
            if not progress:
                break
        raise DisclosureError(
            "Complementary suppression did not reach a safe pattern; collapse categories or "
            "subgroups (R-SDC-03) before publishing these tables."
        )

    # -- output --------------------------------------------------------------------------------

    def _state(self) -> tuple[np.ndarray, np.ndarray]:
        """Value and suppression flag of every quantity, as arrays indexed by quantity id."""
        value = np.array([quantity.value for quantity in self.q], dtype=np.int64)
        suppressed = np.array([quantity.suppressed for quantity in self.q], dtype=bool)
        return value, suppressed

    def _margin_keys(self, spec: _TableSpec) -> dict[tuple[int, int], str]:
        """``(i, j) -> key`` of the margin cells of a table that show a linked quantity."""
        n_rows, n_cols = spec.qid.shape
        cells = [(i, n_cols - 1) for i in range(n_rows - 1)]
        cells += [(n_rows - 1, j) for j in range(n_cols)]
        keys = {}
        for i, j in cells:
            qi = int(spec.qid[i, j])
            if qi in self.keys:
                keys[(i, j)] = self.keys[qi]
        return keys

    def published(self) -> list[_Published]:
        """What the current pattern publishes, with the true values, for :func:`_audit`."""
        value, suppressed = self._state()
        tot = str(self.policy.total_label)
        out = []
        for name, spec in self.tables.items():
            truth = value[spec.qid].astype(float)
            out.append(
                _Published(
                    name,
                    [*map(str, spec.counts.index), tot],
                    [*map(str, spec.counts.columns), tot],
                    np.where(suppressed[spec.qid], np.nan, truth),
                    self._margin_keys(spec),
                    spec.class_rule,
                    self.policy.k_min,
                    truth,
                )
            )
        return out

    def build(self) -> dict[str, ProtectedTable]:
        out = {}
        tot = self.policy.total_label
        value, suppressed = self._state()
        structural = np.array(
            [quantity.structural and not quantity.margin for quantity in self.q], dtype=bool
        )
        text = np.array(
            [self.policy.count_marker if quantity.suppressed else str(quantity.value)
             for quantity in self.q],
            dtype=object,
        )
        for name, spec in self.tables.items():
            counts = spec.counts
            index = pd.Index([*counts.index, tot], name=counts.index.name)
            columns = pd.Index([*counts.columns, tot], name=counts.columns.name)
            sup = suppressed[spec.qid]
            keys = {
                (index[i], columns[j]): key for (i, j), key in self._margin_keys(spec).items()
            }
            out[name] = ProtectedTable(
                name=name,
                display=pd.DataFrame(text[spec.qid], index=index, columns=columns),
                suppressed=pd.DataFrame(sup, index=index, columns=columns),
                numeric=pd.DataFrame(
                    np.where(sup, np.nan, value[spec.qid]), index=index, columns=columns
                ),
                kind="frequency",
                k_min=self.policy.k_min,
                structural=pd.DataFrame(structural[spec.qid], index=index, columns=columns),
                margin_keys=keys,
                class_rule=spec.class_rule,
            )
        return out

    def log_to(self, log: SdcLog) -> None:
        seen = set()
        for spec in self.tables.values():
            for qi in spec.qid.ravel():
                qi = int(qi)
                quantity = self.q[qi]
                if quantity.suppressed:
                    for place in quantity.places:
                        if place[0] == spec.name and (qi, place) not in seen:
                            seen.add((qi, place))
                            log.add(*place, quantity.rule, self.policy.k_min)


def protect_related_tables(
    tables: Mapping[str, pd.DataFrame],
    policy: DisclosurePolicy | None = None,
    log: SdcLog | None = None,
    *,
    structural_zeros: Mapping[str, Iterable[tuple[Hashable, Hashable]]] | None = None,
    class_rule: bool | Mapping[str, bool] = True,
    group_rows: bool | Mapping[str, bool] = True,
    link_grand: bool | Mapping[str, bool] = True,
    published: Mapping[str, Iterable[tuple[Hashable, Hashable]]] | None = None,
) -> dict[str, ProtectedTable]:
    """Protect the count tables of one report together, so their suppressions agree (R-SDC-05).

    Each table is a contingency table of respondent counts without margins: rows are subgroups
    (e.g. countries), columns are categories (answers, genders). Margins are computed here from
    the unsuppressed counts. Tables are linked through shared margins: a row total is shared by
    tables whose index has the same name and label and whose totals are equal (a country's size
    in the country × gender table and the country × answer table); a column total likewise, when
    the columns axis is named (e.g. ``"gender"`` in country × gender and sector × gender); grand
    totals when equal. A shared margin is published in every table or in none. The rules, in
    order:

    1. **group size** (R-SDC-04): a subgroup with fewer than ``k_min`` members (or none, when
       zeros are disclosive) has its whole row, size included, suppressed, in every table with the
       same row axis (tables whose rows are not subgroups, ``group_rows`` false, are left to the
       primary rule);
    2. **primary** (R-SDC-01): every count, margin included, with ``0 < n < k_min``, and zeros
       unless structural or ``zeros_are_disclosive`` is false;
    3. **class** (R-SDC-06): a row whose size ``N`` is published and where ``N - max < k_min``
       (all, or all but fewer than ``k_min``, in one category) has all its cells suppressed. The
       margin row (the whole cohort) is exempt: it is not a subgroup;
    4. **complementary** (R-SDC-05): every row, column and margin line holds no suppressed cell or
       at least two (the next-smallest cell is added, interior cells before margins), then
       :func:`audit_recoverability` runs over all tables and, for every cell it can still work
       out, one more neighbouring cell is suppressed; repeated until the audit is clean.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Table name → counts.
    policy : DisclosurePolicy, optional
        Defaults to ``DisclosurePolicy()``.
    log : SdcLog, optional
        Receives one entry per suppressed cell.
    structural_zeros : mapping of str to iterable of (row, column), optional
        Cells that are zero by construction (published as 0 and never suppressed).
    class_rule : bool or mapping of str to bool
        Apply the class rule (to every table, or per table name). Tables with one column never
        get it.
    group_rows : bool or mapping of str to bool
        Whether the rows of a table (every table, or per table name) are subgroups, to which the
        group-size rule applies. Turn it off for tables whose rows are answer categories or
        whole-cohort items (e.g. a Likert distribution with its collapsed categories as rows).
    link_grand : bool or mapping of str to bool
        Whether a table's grand total is linked to equal grand totals of the other tables. Turn
        it off when the tables' shared margins are all named (row and column axis names): the
        value-based link then only chains unrelated tables.
    published : mapping of str to iterable of (row, column), optional
        Cells or margins (``total_label`` names a margin) that the report publishes elsewhere,
        such as a wave's number of respondents, which a headline indicator and the response
        rate give. They are never chosen as complementary suppressions: hiding them would
        protect nothing, since a reader knows them. The audit takes them as known, like every
        published number. Declaring one that counts fewer than ``k_min`` is an error.

    Returns
    -------
    dict of str to ProtectedTable

    Raises
    ------
    DisclosureError
        If a table is not a table of non-negative whole counts, or no safe pattern exists.

    Examples
    --------
    >>> by_gender = pd.DataFrame({"women": [5, 3, 6], "men": [6, 9, 1]},
    ...                          index=pd.Index(["KZ", "KG", "TJ"], name="country"))
    >>> participants = pd.DataFrame({"participants": [11, 12, 7]}, index=by_gender.index)
    >>> log = SdcLog()
    >>> out = protect_related_tables({"gender": by_gender, "participants": participants},
    ...                              log=log)
    >>> out["gender"].display
                women men Total
    country
    KZ              5   6    11
    KG             <5  <5    12
    TJ             <5  <5     7
    Total          14  16    30
    >>> sorted(set(log.to_frame()["rule"]))
    ['class', 'primary']
    >>> audit_recoverability(out)
    []
    """
    policy = policy or DisclosurePolicy()
    if not tables:
        raise DisclosureError("No tables to protect.")
    names = list(tables)
    if len(set(names)) != len(names):
        raise DisclosureError("Table names must be unique.")
    rules = (
        {name: bool(class_rule) for name in names}
        if isinstance(class_rule, bool)
        else {name: bool(class_rule.get(name, True)) for name in names}
    )
    groups = (
        {name: bool(group_rows) for name in names}
        if isinstance(group_rows, bool)
        else {name: bool(group_rows.get(name, True)) for name in names}
    )
    links = (
        {name: bool(link_grand) for name in names}
        if isinstance(link_grand, bool)
        else {name: bool(link_grand.get(name, True)) for name in names}
    )
    engine = _Engine(tables, policy, structural_zeros or {}, rules, groups, links, published)
    engine.run()
    if log is not None:
        engine.log_to(log)
    return engine.build()


def protect_frequency_table(
    counts: pd.DataFrame,
    policy: DisclosurePolicy | None = None,
    log: SdcLog | None = None,
    name: str = "table",
    *,
    structural_zeros: Iterable[tuple[Hashable, Hashable]] = (),
    class_rule: bool = True,
) -> ProtectedTable:
    """Protect one contingency table of respondent counts (see :func:`protect_related_tables`).

    Parameters
    ----------
    counts : DataFrame
        Rows = subgroups (e.g. country), columns = categories (e.g. collapsed answers); whole
        counts, no margins (they are added here).
    policy : DisclosurePolicy, optional
        Defaults to ``DisclosurePolicy()``.
    log : SdcLog, optional
        Receives one entry per suppressed cell.
    name : str
        Table name for the log.
    structural_zeros : iterable of (row, column)
        Cells that are zero by construction.
    class_rule : bool
        Whether to apply the class-disclosure rule to the rows.

    Returns
    -------
    ProtectedTable

    Examples
    --------
    >>> counts = pd.DataFrame(
    ...     {"disagree": [2, 5, 1], "neutral": [5, 6, 0], "agree": [8, 7, 5]},
    ...     index=pd.Index(["KZ", "KG", "other"], name="country"))
    >>> table = protect_frequency_table(counts, name="q1")
    >>> table.display
            disagree neutral agree Total
    country
    KZ            <5      <5     8    15
    KG            <5       6    <5    18
    other         <5      <5    <5     6
    Total          8      11    20    39
    >>> table.numeric.loc["KZ", "agree"], table.suppressed.loc["KZ", "disagree"]
    (np.float64(8.0), np.True_)
    """
    name = str(name)
    return protect_related_tables(
        {name: counts},
        policy,
        log,
        structural_zeros={name: list(structural_zeros)},
        class_rule=class_rule,
    )[name]


# --------------------------------------------------------------------------------------------
# Statistics tables (means, percentages, changes)
# --------------------------------------------------------------------------------------------


def _protect_shares(
    row: Hashable,
    group: list[str],
    pcts: list[float],
    n_row: int,
    policy: DisclosurePolicy,
    class_rule: bool,
    unreliable: bool,
    shown: dict[str, str],
    hidden: set[str],
    entries: list[tuple[Hashable, str, str, int]],
    formats: Mapping[str, str],
) -> bool:
    """Apply the count rules to the shares of one distribution in one row; True if flagged.

    Writes the text of each share to ``shown`` and adds suppressed shares to ``hidden``.
    """
    k = policy.k_min
    disclosive = policy.is_disclosive
    flagged = False
    xs = [int(round(float(p) * n_row / 100)) for p in pcts]
    rule: dict[str, str] = {}
    for c, x in zip(group, xs, strict=True):
        if disclosive(x) or (len(group) == 1 and disclosive(n_row - x)):
            rule[c] = "primary"
    if class_rule and len(group) >= 2 and n_row - max(xs) < k:
        for c in group:
            rule.setdefault(c, "class")
    if len(group) >= 2 and len(rule) == 1:
        rest = sorted((x, c) for c, x in zip(group, xs, strict=True) if c not in rule)
        rule[rest[0][1]] = "complementary"
    for c, x, p in zip(group, xs, pcts, strict=True):
        if c in rule:
            shown[c] = _DASH
            hidden.add(c)
            entries.append((row, c, rule[c], k))
        elif unreliable:
            shown[c] = f"{float(p):.0f}% ({x} of {n_row})"
            entries.append((row, c, "reliability", policy.reliability_n))
            flagged = True
        else:
            shown[c] = formats.get(c, "{:.1f}%").format(float(p))
    return flagged


def protect_statistics_table(
    frame: pd.DataFrame,
    n_column: str,
    value_columns: Sequence[str],
    policy: DisclosurePolicy | None = None,
    log: SdcLog | None = None,
    name: str = "table",
    *,
    percent_groups: Sequence[Sequence[str]] = (),
    class_rule: bool = True,
    formats: Mapping[str, str] | None = None,
    flag_column: str = "reliability",
) -> ProtectedTable:
    """Protect a table of means, changes or percentages that carries an ``n`` per row.

    - A row whose ``n`` is below ``k_min`` shows ``"–"`` in every value and percentage column,
      and its ``n`` as ``"<5"`` (R-SDC-01/02, rule ``group_size``).
    - Percentages are checked as counts: each group in ``percent_groups`` lists percentage columns
      (0–100) of one distribution over the row's ``n`` (a single column is a yes/no share). The
      counts behind them, ``round(p * n / 100)``, get the frequency-table rules within the row:
      primary (a count, or for a single column the count or its complement, under ``k_min``),
      class (all but fewer than ``k_min`` in one category, if ``class_rule``) and complementary
      (a group never has exactly one suppressed share). Otherwise "67% of 6" would give away the
      4 that a frequency table hides.
    - A published percentage whose ``n`` is below ``reliability_n`` shows as ``"67% (4 of 6)"``
      without decimals, and the row's ``flag_column`` reads ``"n < 30"`` (R-SDC-08).

    Means at the very end of a scale reveal every answer (a mean of 1.0 means everyone chose 1);
    such class disclosure through means is not detected here.

    Parameters
    ----------
    frame : DataFrame
        One row per item, scale or subgroup.
    n_column : str
        Column with the number of respondents each row rests on.
    value_columns : sequence of str
        Means, changes, test statistics, confidence limits: shown as ``"–"`` when ``n < k_min``.
    policy : DisclosurePolicy, optional
        Defaults to ``DisclosurePolicy()``.
    log : SdcLog, optional
        Receives suppressed cells and reliability flags.
    name : str
        Table name for the log.
    percent_groups : sequence of sequence of str
        Percentage columns, grouped by distribution.
    class_rule : bool
        Apply the class rule to percentage groups. Turn it off for whole-cohort rows, where it
        would hide the headline result.
    formats : mapping of str to str, optional
        :meth:`str.format` patterns per value column (default ``"{:.2f}"``; percentages
        ``"{:.1f}%"``).
    flag_column : str
        Name of the reliability flag column added when any percentage columns are given.

    Returns
    -------
    ProtectedTable
        ``display`` holds text (the flag column included), ``numeric`` the published numbers
        with NaN for suppressed cells (the flag column as booleans), ``suppressed`` the mask.

    Examples
    --------
    >>> stats = pd.DataFrame({"n": [12, 3, 40, 14], "mean_change": [0.8, 1.5, 0.4, 0.1],
    ...                       "pct_agree": [58.3, 100.0, 60.0, 85.7]},
    ...                      index=["KZ", "TM", "all", "KG"])
    >>> t = protect_statistics_table(stats, "n", ["mean_change"],
    ...                              percent_groups=[["pct_agree"]])
    >>> t.display
          n mean_change      pct_agree reliability
    KZ   12        0.80  58% (7 of 12)      n < 30
    TM   <5           –              –
    all  40        0.40          60.0%
    KG   14        0.10              –

    Here 86% of 14 would show that 2 of the 14 did not agree, so it is suppressed.
    """
    policy = policy or DisclosurePolicy()
    k = policy.k_min
    formats = dict(formats or {})
    pct_cols = [c for group in percent_groups for c in group]
    for col in [n_column, *value_columns, *pct_cols]:
        if col not in frame.columns:
            raise DisclosureError(f"Table {name!r} has no column {col!r}.")
    if len(set(pct_cols)) != len(pct_cols) or set(pct_cols) & set(value_columns):
        raise DisclosureError(f"Table {name!r}: a percentage column is listed twice.")
    if not frame.index.is_unique:
        raise DisclosureError(f"Table {name!r} has duplicate row labels.")
    n = pd.to_numeric(frame[n_column], errors="coerce")
    numeric_cols = [n_column, *value_columns, *pct_cols]
    if n.isna().any() or (n < 0).any() or (n != n.round()).any():
        raise DisclosureError(f"Table {name!r}: column {n_column!r} must hold whole counts.")
    numbers = {
        col: pd.to_numeric(frame[col], errors="coerce").astype(float).to_numpy()
        for col in numeric_cols
    }
    for col in pct_cols:
        p = numbers[col]
        if ((p < 0) | (p > 100)).any():
            raise DisclosureError(f"Table {name!r}: column {col!r} must hold percentages 0-100.")

    columns = [c for c in frame.columns]
    if pct_cols:
        if flag_column in frame.columns:
            raise DisclosureError(f"Table {name!r} already has a column {flag_column!r}.")
        columns.append(flag_column)
    text_columns = [c for c in frame.columns if c not in numeric_cols]
    # Cells as frame.loc reads them (the scalars of the column's array), read once per column.
    raw = {col: list(frame[col].array) for col in [*text_columns, *value_columns]}
    shown_rows: list[list[str]] = []
    hidden_rows: list[list[bool]] = []
    flags: list[bool] = []
    entries: list[tuple[Hashable, str, str, int]] = []

    for i, row in enumerate(frame.index):
        n_row = int(n.iat[i])
        shown: dict[str, str] = {}
        hidden: set[str] = set()
        for col in text_columns:
            x = raw[col][i]
            shown[col] = "" if _is_missing(x) else str(x)
        flagged = False
        if n_row < k:
            shown[n_column] = display_count(n_row, k, policy.zeros_are_disclosive)
            if shown[n_column] != str(n_row):
                hidden.add(n_column)
                entries.append((row, n_column, "group_size", k))
            for col in [*value_columns, *pct_cols]:
                shown[col] = _DASH
                hidden.add(col)
                entries.append((row, col, "group_size", k))
        else:
            shown[n_column] = str(n_row)
            for col in value_columns:
                shown[col] = display_value(raw[col][i], n_row, k, formats.get(col, "{:.2f}"))
            unreliable = n_row < policy.reliability_n
            for group in percent_groups:
                group = list(group)
                pcts = [numbers[c][i] for c in group]
                missing = [c for c, p in zip(group, pcts, strict=True) if _is_missing(p)]
                for c in missing:
                    shown[c] = _DASH
                if missing:
                    # A share that was not computed hides nothing; check the others one by one.
                    keep = [(c, p) for c, p in zip(group, pcts, strict=True) if c not in missing]
                    singles = [[c] for c, _ in keep]
                    pairs = [[(c, p)] for c, p in keep]
                else:
                    singles = [group]
                    pairs = [list(zip(group, pcts, strict=True))]
                for sub, subpairs in zip(singles, pairs, strict=True):
                    flagged |= _protect_shares(
                        row,
                        sub,
                        [p for _, p in subpairs],
                        n_row,
                        policy,
                        class_rule,
                        unreliable,
                        shown,
                        hidden,
                        entries,
                        formats,
                    )
            flagged = bool(pct_cols) and flagged
            if flagged:
                shown[flag_column] = f"n < {policy.reliability_n}"
        shown_rows.append([shown.get(c, "") for c in columns])
        hidden_rows.append([c in hidden for c in columns])
        flags.append(flagged)
    if log is not None:
        for row, col, rule_name, threshold in entries:
            log.add(name, row, col, rule_name, threshold)
    display = pd.DataFrame(
        np.array(shown_rows, dtype=object).reshape(len(frame), len(columns)),
        index=frame.index,
        columns=columns,
        dtype=object,
    )
    hidden_mask = np.array(hidden_rows, dtype=bool).reshape(len(frame), len(columns))
    suppressed = pd.DataFrame(hidden_mask, index=frame.index, columns=columns)
    numeric = frame.copy()
    for col in numeric_cols:
        numeric[col] = np.where(hidden_mask[:, columns.index(col)], np.nan, numbers[col])
    if pct_cols:
        numeric[flag_column] = np.array(flags, dtype=bool)
    return ProtectedTable(
        name=str(name),
        display=display,
        suppressed=suppressed,
        numeric=numeric,
        kind="statistics",
        k_min=k,
        class_rule=class_rule,
    )


# --------------------------------------------------------------------------------------------
# Audit: can a suppressed cell be worked out from what is published?
# --------------------------------------------------------------------------------------------

#: Tolerance of the rounding of LP bounds to whole numbers.
_EPS = 1e-6
#: How many times :func:`_audit` moves the seen ranges towards the open bounds before it solves
#: the bounds still open exactly.
_EXPLORE_ROUNDS = 3


def _propagate(a: np.ndarray, b: np.ndarray, rounds: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Outer bounds of every variable over ``{x >= 0, a x = b}``, by interval propagation.

    Each equation bounds each of its variables by what its other terms can add up to; passes
    repeat until nothing tightens (at most ``rounds``). The true minimum and maximum of every
    variable lie within the returned ``(low, high)``; ``high`` is ``inf`` where nothing bounds
    the variable.

    Examples
    --------
    >>> a = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    >>> low, high = _propagate(a, np.array([5.0, 7.0]))
    >>> low.tolist(), high.tolist()
    ([0.0, 0.0, 2.0], [5.0, 5.0, 7.0])
    """
    n = a.shape[1]
    low, high = np.zeros(n), np.full(n, np.inf)
    pos, neg = a > 0, a < 0
    divisor = np.where(pos | neg, a, 1.0)
    for _ in range(rounds):
        unbounded = np.isinf(high)
        finite_high = np.where(unbounded, 0.0, high)
        # Smallest and largest value of each term; terms that can grow without bound are
        # counted instead of summed.
        term_min = np.where(pos, a * low, a * finite_high)
        term_max = np.where(pos, a * finite_high, a * low)
        inf_min, inf_max = neg & unbounded, pos & unbounded
        n_inf_min = inf_min.sum(axis=1, keepdims=True) - inf_min
        n_inf_max = inf_max.sum(axis=1, keepdims=True) - inf_max
        rest_min = np.where(n_inf_min > 0, -np.inf, term_min.sum(axis=1, keepdims=True) - term_min)
        rest_max = np.where(n_inf_max > 0, np.inf, term_max.sum(axis=1, keepdims=True) - term_max)
        # a_ij x_j = b_i - (the other terms)
        least, most = b[:, None] - rest_max, b[:, None] - rest_min
        cand_low = np.where(pos, least / divisor, np.where(neg, most / divisor, -np.inf))
        cand_high = np.where(pos, most / divisor, np.where(neg, least / divisor, np.inf))
        new_low = np.maximum(low, cand_low.max(axis=0, initial=-np.inf))
        new_high = np.minimum(high, cand_high.min(axis=0, initial=np.inf))
        if np.array_equal(new_low, low) and np.array_equal(new_high, high):
            break
        low, high = new_low, new_high
    return low, high


class _Component:
    """Bounds of the variables of one connected block ``{x >= 0, a x = b}``, computed lazily.

    Two cheap kinds of knowledge bracket the exact bounds: every feasible point seen (a point
    given at the start, LP solutions) proves a sub-interval of ``[low, high]`` (``seen_low`` to
    ``seen_high``), and interval propagation (:func:`_propagate`) an interval that contains it
    (``outer_low`` to ``outer_high``). Where the two meet after rounding, the exact bound is
    known without an LP; otherwise it is solved (see :func:`_solve_bounds`) and kept.
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, point: np.ndarray | None = None):
        self.a, self.b = a, b
        m = a.shape[1]
        self.seen_low = np.full(m, np.inf)
        self.seen_high = np.full(m, -np.inf)
        self.low_: dict[int, float] = {}
        self.high_: dict[int, float] = {}
        self.feasible = True
        self.outer_low, self.outer_high = _propagate(a, b)
        if a.shape[0] == 0:  # unconstrained: anything from 0 up
            for j in range(m):
                self.low_[j], self.high_[j] = 0.0, np.inf
            return
        if point is not None:
            self.see(point)
        elif self._solve(np.random.default_rng(0).standard_normal(m))[0] == 2:
            self.feasible = False

    def see(self, x: np.ndarray) -> None:
        """Widen the seen ranges by the feasible point ``x``."""
        self.seen_low = np.minimum(self.seen_low, x)
        self.seen_high = np.maximum(self.seen_high, x)

    def _solve(self, c: np.ndarray) -> tuple[int, float]:
        res = linprog(c, A_eq=self.a, b_eq=self.b, bounds=(0, None), method="highs")
        if res.status == 0 and res.x is not None:
            self.see(res.x)
        return res.status, (res.fun if res.status == 0 else math.nan)

    def settled(self, j: int, sense: int) -> bool:
        """Whether the lower (``sense`` 1) or upper (-1) bound of ``j`` is known without an LP."""
        known = self.low_ if sense > 0 else self.high_
        if j in known:
            return True
        if sense > 0:
            inner = float(np.ceil(self.seen_low[j] - _EPS))
            outer = float(np.ceil(self.outer_low[j] - _EPS))
        else:
            inner = float(np.floor(self.seen_high[j] + _EPS))
            outer = float(np.floor(self.outer_high[j] + _EPS))
        if inner != outer:
            return False
        known[j] = inner
        return True

    def solve_alone(self, j: int, sense: int) -> None:
        """Solve one bound of ``j`` (``sense`` 1: lower, -1: upper) by its own LP."""
        c = np.zeros(self.a.shape[1])
        c[j] = sense
        status, fun = self._solve(c)
        if sense > 0:
            self.low_[j] = float(np.ceil((fun if status == 0 else 0.0) - _EPS))
        else:
            self.high_[j] = float(np.floor(-fun + _EPS)) if status == 0 else np.inf

    def low(self, j: int) -> float:
        if not self.settled(j, 1):
            self.solve_alone(j, 1)
        return self.low_[j]

    def high(self, j: int) -> float:
        if not self.settled(j, -1):
            self.solve_alone(j, -1)
        return self.high_[j]

    def low_at_most(self, j: int) -> float:
        return self.low_[j] if j in self.low_ else float(np.ceil(self.seen_low[j] - _EPS))

    def high_at_least(self, j: int) -> float:
        return self.high_[j] if j in self.high_ else float(np.floor(self.seen_high[j] + _EPS))


def _solve_blocks(blocks: Sequence[tuple[_Component, np.ndarray]]) -> list[np.ndarray] | None:
    """Minimise ``c @ x`` over each component ``(component, c)``, as one LP.

    The blocks share no variable, so the optimum of the block-diagonal LP puts every block at
    its own optimum; one solver call replaces many small ones. Returns the optimal point of each
    block (the components have seen them), or None when the LP has no optimum (a block is
    unbounded or infeasible).
    """
    rows, cols, data, rhs = [], [], [], []
    n_rows = n_cols = 0
    for comp, _c in blocks:
        r, c = np.nonzero(comp.a)
        rows.append(r + n_rows)
        cols.append(c + n_cols)
        data.append(comp.a[r, c])
        rhs.append(comp.b)
        n_rows += comp.a.shape[0]
        n_cols += comp.a.shape[1]
    a_eq = sparse.csr_array(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, n_cols),
    )
    res = linprog(
        np.concatenate([c for _comp, c in blocks]), A_eq=a_eq, b_eq=np.concatenate(rhs),
        bounds=(0, None), method="highs-ds",
    )
    if res.status != 0 or res.x is None:
        return None
    points = np.split(res.x, np.cumsum([comp.a.shape[1] for comp, _c in blocks])[:-1])
    for (comp, _c), x in zip(blocks, points, strict=True):
        comp.see(x)
    return points


def _explore(requests: Iterable[tuple[_Component, int, int]], seed: int) -> None:
    """Widen the seen ranges towards the bounds asked for, with one LP for all of them.

    Per component, the lower bounds asked for (``sense`` 1) are pushed down together, by one
    block minimising their randomly weighted sum, and the upper bounds (-1) up together; each
    optimum is a feasible point, and often reaches many of the bounds at once. Upper bounds
    that propagation leaves infinite are left out (their block could be unbounded).
    """
    weights: dict[tuple[int, int], tuple[_Component, np.ndarray]] = {}
    rng = np.random.default_rng(seed)
    for comp, j, sense in requests:
        if sense < 0 and np.isinf(comp.outer_high[j]):
            continue
        key = (id(comp), sense)
        if key not in weights:
            weights[key] = (comp, np.zeros(comp.a.shape[1]))
        weights[key][1][j] = sense * rng.uniform(1.0, 2.0)
    if weights:
        _solve_blocks(list(weights.values()))


def _solve_bounds(requests: Iterable[tuple[_Component, int, int]]) -> None:
    """Solve the exact bounds asked for, as one LP, and keep them in their components.

    A request ``(component, j, sense)`` asks for the lower (``sense`` 1) or upper (-1) bound of
    variable ``j``. Bounds already known are skipped. The others become the blocks of one
    block-diagonal LP (:func:`_solve_blocks`), a copy of the component per bound with that
    bound's objective. An upper bound that propagation leaves infinite may be unbounded, which
    would make the whole LP unbounded: it is solved on its own.
    """
    todo: dict[tuple[int, int, int], tuple[_Component, int, int]] = {}
    for comp, j, sense in requests:
        if comp.settled(j, sense):
            continue
        if sense < 0 and np.isinf(comp.outer_high[j]):
            comp.solve_alone(j, sense)
            continue
        todo[(id(comp), j, sense)] = (comp, j, sense)
    if len(todo) <= 1:
        for comp, j, sense in todo.values():
            comp.solve_alone(j, sense)
        return
    blocks = []
    for comp, j, sense in todo.values():
        c = np.zeros(comp.a.shape[1])
        c[j] = sense
        blocks.append((comp, c))
    points = _solve_blocks(blocks)
    if points is None:
        for comp, j, sense in todo.values():
            comp.solve_alone(j, sense)
        return
    for (comp, j, sense), x in zip(todo.values(), points, strict=True):
        if sense > 0:
            comp.low_[j] = float(np.ceil(x[j] - _EPS))
        else:
            comp.high_[j] = float(np.floor(x[j] + _EPS))


#: Components already solved, by their equations: the suppression engine audits a pattern that
#: changes a few cells at a time, so most blocks recur unchanged from one audit to the next.
_COMPONENTS: dict[bytes, _Component] = {}
_COMPONENTS_MAX = 20000


class _Bounds:
    """Smallest and largest value of each variable over ``{x >= 0, a_eq x = b_eq}``, lazily.

    The system splits into connected components (variables linked by an equation); each
    component is solved on its own, and a component seen before (same equations) reuses its
    results. Exact bounds are computed only where a caller asks for them (:meth:`solve` asks
    for many in one LP), and are the same numbers a direct min / max LP over the whole system
    gives (rounded to integers: the constraint matrices of linked count tables are (near)
    totally unimodular, so the bounds are integers up to rounding noise); a cell whose seen
    range is already wide enough needs no LP of its own.

    ``point``, when given, is a candidate feasible point (e.g. the true values behind a
    suppression pattern); it seeds the seen ranges of every component it satisfies, and the
    others get a feasible point from an LP.
    """

    def __init__(self, a_eq: sparse.csr_array, b_eq: np.ndarray, point: np.ndarray | None):
        n_rows, n_vars = a_eq.shape
        incidence = (a_eq != 0).astype(np.int8)
        graph = sparse.block_array([[None, incidence], [incidence.T, None]], format="csr")
        _, label = connected_components(graph, directed=False)
        row_label, var_label = label[:n_rows], label[n_rows:]
        rows_of: dict[int, list[int]] = {}
        for i, lab in enumerate(row_label.tolist()):
            rows_of.setdefault(lab, []).append(i)
        cols_of: dict[int, list[int]] = {}
        for j, lab in enumerate(var_label.tolist()):
            cols_of.setdefault(lab, []).append(j)
        self.comp_of: list[_Component | None] = [None] * n_vars
        self.local_of = np.zeros(n_vars, dtype=np.int64)
        self.feasible = True
        for lab, cols in cols_of.items():
            rows = rows_of.get(lab, [])
            a = np.ascontiguousarray(a_eq[rows][:, cols].toarray(), dtype=float)
            b = np.ascontiguousarray(b_eq[rows], dtype=float)
            key = np.array(a.shape, dtype=np.int64).tobytes() + a.tobytes() + b.tobytes()
            comp = _COMPONENTS.get(key)
            if comp is None:
                start = None if point is None else point[cols]
                if start is not None and not (
                    np.all(start >= 0) and np.allclose(a @ start, b, rtol=0.0, atol=1e-9)
                ):
                    start = None
                comp = _Component(a, b, start)
                if len(_COMPONENTS) >= _COMPONENTS_MAX:
                    _COMPONENTS.clear()
                _COMPONENTS[key] = comp
            if not comp.feasible:
                self.feasible = False
            for local, j in enumerate(cols):
                self.comp_of[j] = comp
                self.local_of[j] = local

    def _where(self, j: int) -> tuple[_Component, int]:
        comp = self.comp_of[j]
        assert comp is not None
        return comp, int(self.local_of[j])

    def solve(self, requests: Iterable[tuple[int, int]]) -> None:
        """Solve the bounds ``(j, sense)`` asked for (1: lower, -1: upper) in one LP."""
        _solve_bounds((*self._where(j), sense) for j, sense in requests)

    def settled(self, j: int, sense: int) -> bool:
        """Whether the lower (``sense`` 1) or upper (-1) bound of ``j`` is known without an LP."""
        comp, local = self._where(j)
        return comp.settled(local, sense)

    def explore(self, requests: Iterable[tuple[int, int]], seed: int = 0) -> None:
        """Move the seen ranges towards the bounds ``(j, sense)`` asked for (one LP)."""
        _explore(((*self._where(j), sense) for j, sense in requests), seed)

    def low(self, j: int) -> float:
        """Exact (integer-rounded) lower bound of variable ``j``."""
        comp, local = self._where(j)
        return comp.low(local)

    def high(self, j: int) -> float:
        """Exact (integer-rounded) upper bound of variable ``j`` (inf when unbounded)."""
        comp, local = self._where(j)
        return comp.high(local)

    def proven_low_at_most(self, j: int) -> float:
        """A value the lower bound is known not to exceed (integer), without a new LP."""
        comp, local = self._where(j)
        return comp.low_at_most(local)

    def seen_width(self, j: int) -> float:
        """A width the interval of ``j`` is known to reach (integer), without a new LP."""
        comp, local = self._where(j)
        return comp.high_at_least(local) - comp.low_at_most(local)

    def narrower_than(self, j: int, width: int) -> bool:
        """Whether ``high - low < width`` (exact LPs only when the seen range cannot tell)."""
        if self.seen_width(j) >= width:
            return False
        return self.high(j) - self.low(j) < width


@dataclass
class _Published:
    """What a reader sees of one frequency table, as arrays: the input of :func:`_audit`."""

    name: str
    rows: list[str]
    columns: list[str]
    values: np.ndarray  # published numbers, NaN where suppressed; margins last
    keys: dict[tuple[int, int], str]  # margin cell (i, j) -> key of the quantity it shows
    class_rule: bool
    k_min: int
    truth: np.ndarray | None = None  # the values behind the table, when the caller knows them

    @classmethod
    def of(cls, table: ProtectedTable) -> _Published:
        """The published numbers of a protected frequency table."""
        index, columns = list(table.numeric.index), list(table.numeric.columns)
        n_rows, n_cols = len(index), len(columns)
        margins = [(i, n_cols - 1) for i in range(n_rows - 1)]
        margins += [(n_rows - 1, j) for j in range(n_cols)]
        keys = {}
        for i, j in margins:
            key = table.margin_keys.get((index[i], columns[j]))
            if key is not None:
                keys[(i, j)] = key
        return cls(
            table.name,
            [str(r) for r in index],
            [str(c) for c in columns],
            table.numeric.to_numpy(dtype=float),
            keys,
            table.class_rule,
            table.k_min,
        )


def audit_recoverability(
    tables: Mapping[str, ProtectedTable] | Iterable[ProtectedTable],
    min_interval_width: int = 1,
    *,
    check_consistency: bool = True,
) -> list[RecoveryProblem]:
    """Try to work out every suppressed cell from the published numbers of a report.

    An independent check of frequency tables after protection, used as the test oracle and as a
    last gate before publishing. It takes only what a reader sees: the published counts and
    margins of every table (margins with the same ``margin_keys`` key are one quantity across
    tables), plus non-negativity. For each suppressed cell it computes, by linear programming, the
    smallest and largest value consistent with all of that, and reports:

    - ``"recovered"``: the interval is narrower than ``min_interval_width`` (exact recovery for
      the default 1);
    - ``"class"``: in a subgroup row of published size ``N`` (tables with the class rule), some
      category provably holds more than ``N - k_min`` people.

    Statistics tables are skipped (they have no margins to combine).

    Parameters
    ----------
    tables : mapping or iterable of ProtectedTable
        All published frequency tables of one report.
    min_interval_width : int
        See above.
    check_consistency : bool
        Also report published margins that do not add up (kind ``"inconsistent"``).

    Returns
    -------
    list of RecoveryProblem
        Empty when nothing can be recovered.

    Examples
    --------
    >>> published = pd.DataFrame({"yes": [7.0, np.nan, 12.0], "no": [6.0, 8.0, 14.0],
    ...                           "Total": [13.0, 13.0, 26.0]}, index=["A", "B", "Total"])
    >>> table = ProtectedTable("t", published.astype(str), published.isna(), published,
    ...                        "frequency", 5)
    >>> [str(p) for p in audit_recoverability([table])]
    ["In table 't', row 'B', column 'yes', the suppressed cell can be worked out from the published numbers."]
    """  # noqa: E501
    if isinstance(tables, Mapping):
        tables = list(tables.values())
    published = [_Published.of(t) for t in tables if t.kind == "frequency"]
    return _audit(published, min_interval_width, check_consistency)


def _audit(
    tables: list[_Published], min_interval_width: int, check_consistency: bool
) -> list[RecoveryProblem]:
    """:func:`audit_recoverability` on the published numbers of frequency tables."""
    values: list[float] = []  # NaN = unknown
    truth: list[float] = []
    labels: list[tuple[str, str, str]] = []
    by_key: dict[str, int] = {}
    grids: list[tuple[_Published, np.ndarray]] = []
    for table in tables:
        num = table.values
        true = table.truth if table.truth is not None else np.full(num.shape, np.nan)
        n_rows, n_cols = num.shape
        ids = np.empty((n_rows, n_cols), dtype=np.int64)
        for i in range(n_rows):
            for j in range(n_cols):
                key = table.keys.get((i, j))
                if key is not None and key in by_key:
                    q = ids[i, j] = by_key[key]
                    if not math.isnan(num[i, j]) and math.isnan(values[q]):
                        values[q] = num[i, j]
                    continue
                values.append(num[i, j])
                truth.append(float(true[i, j]))
                labels.append((table.name, table.rows[i], table.columns[j]))
                ids[i, j] = len(values) - 1
                if key is not None:
                    by_key[key] = len(values) - 1
        grids.append((table, ids))

    if not grids:
        return []
    # One equation per row and column (margins included): parts - total = 0, in table order.
    eq_parts, var_parts, totals = [], [], []
    n_eqs = 0
    for _table, ids in grids:
        n_rows, n_cols = ids.shape
        for parts, total in ((ids[:, : n_cols - 1], ids[:, -1]), (ids[:-1, :].T, ids[-1, :])):
            eq = n_eqs + np.arange(len(total))
            eq_parts += [np.repeat(eq, parts.shape[1]), eq]
            var_parts += [parts.ravel(), total]
            totals.append(total)
            n_eqs += len(total)
    signs = np.concatenate([np.full(len(v), 1.0 if k % 2 == 0 else -1.0)
                            for k, v in enumerate(var_parts)])
    system = sparse.csr_array(
        (signs, (np.concatenate(eq_parts), np.concatenate(var_parts))),
        shape=(n_eqs, len(values)),
    )
    all_values = np.array(values)
    unknown = np.flatnonzero(np.isnan(all_values))
    known = np.flatnonzero(~np.isnan(all_values))
    col_of = {int(q): j for j, q in enumerate(unknown)}
    a_all = system[:, unknown]
    a_all.eliminate_zeros()
    b_all = -(system[:, known] @ all_values[known])
    constrains = np.diff(a_all.indptr) > 0
    problems: list[RecoveryProblem] = []
    if check_consistency:
        total_of = np.concatenate(totals)
        for e in np.flatnonzero(~constrains & (np.abs(b_all) > 1e-6)):
            problems.append(RecoveryProblem(*labels[total_of[e]], "inconsistent"))
    point = np.array(truth)[unknown]
    bounds = _Bounds(a_all[constrains], b_all[constrains], point)
    if not bounds.feasible:
        if check_consistency:
            problems.append(RecoveryProblem(tables[0].name, "", "", "inconsistent"))
        return problems
    # Every bound the checks below may need, solved together; then the checks in order.
    width = min_interval_width
    narrow = [j for j in range(len(unknown)) if bounds.seen_width(j) < width]
    n_open = math.inf
    for attempt in range(_EXPLORE_ROUNDS):
        open_bounds = [(j, s) for j in narrow for s in (1, -1) if not bounds.settled(j, s)]
        if not open_bounds or len(open_bounds) == n_open:
            break
        n_open = len(open_bounds)
        bounds.explore(open_bounds, attempt)
        narrow = [j for j in narrow if bounds.seen_width(j) < width]
    bounds.solve((j, sense) for j in narrow for sense in (1, -1))
    for j, q in enumerate(unknown):
        if bounds.narrower_than(j, width):
            problems.append(
                RecoveryProblem(*labels[q], "recovered", bounds.low(j), bounds.high(j))
            )

    flagged = {(p.table, p.row, p.column) for p in problems}
    class_cells: list[tuple[int, float, int]] = []  # (cell, published row total, k_min)
    for table, ids in grids:
        if not table.class_rule or ids.shape[1] < 3:
            continue
        n_rows, n_cols = ids.shape
        for i in range(n_rows - 1):
            total = values[ids[i, n_cols - 1]]
            if math.isnan(total) or total < table.k_min:
                continue
            class_cells += [(int(q), total, table.k_min) for q in ids[i, : n_cols - 1]]
    # Only an exact lower bound can show a class disclosure; skip the LP when a feasible point
    # already puts the cell low enough.
    bounds.solve(
        (col_of[q], 1)
        for q, total, k in class_cells
        if q in col_of and total - bounds.proven_low_at_most(col_of[q]) < k
    )
    found: list[tuple[int, float]] = []
    for q, total, k in class_cells:
        if labels[q] in flagged:
            continue
        if q in col_of:
            if total - bounds.proven_low_at_most(col_of[q]) >= k:
                continue
            low = bounds.low(col_of[q])
        else:
            low = values[q]
        if total - low < k:
            found.append((q, low))
            flagged.add(labels[q])
    bounds.solve((col_of[q], -1) for q, _ in found if q in col_of)
    for q, low in found:
        high = bounds.high(col_of[q]) if q in col_of else values[q]
        problems.append(RecoveryProblem(*labels[q], "class", low, high))
    return problems
