"""Link pre, post and follow-up submissions through self-generated identification codes.

Participants write a self-generated identification code (SGIC) on every form: six elements
such as the first letter of the mother's first name or the day of birth. The privacy step turns
each canonical element into a keyed pseudonym (one column per element), so this module only
ever compares opaque element hashes; it never sees a raw code.

Matching follows R-ID-03 (``privacy-matching-messy-input.md`` §3.2):

* **Tier 1** -- all elements present and equal on both sides.
* **Tier 2** -- exactly one element differs, and the two records are each other's *unique*
  nearest candidate (1:1 between the two waves, among the records not linked in tier 1), and
  they agree on the time-invariant covariates in ``agree_on`` wherever both records give a value.
* **Tier 2b** -- as tier 2 with two differing elements; only when ``max_mismatch=2`` is asked
  for explicitly (off by default: with ~30 people a false link hurts more than a lost pair).
* Anything else stays unmatched. A tie among candidates is never resolved.

Decisions taken here (and tested in ``tests/test_matching.py``):

* **A missing element counts as a differing element**, never as an agreeing one. Tier 1 therefore
  needs complete codes on both sides, and a code with one blank element can be linked at tier 2
  only if every other element agrees exactly -- the same evidence as a one-element typo. Pass
  ``missing_as_mismatch=False`` for the stricter rule under which only complete codes take part
  in matching at all.
* **"no code"** means the code cannot be used under the configured tolerance: every element is
  missing, or more elements are missing than ``max_mismatch`` allows (with
  ``missing_as_mismatch=False``: any element is missing).
* **Collisions** (R-ID-05): two or more submissions of one wave sharing a complete code. Exact
  duplicates are removed by validation before this step, so whatever still shares a code is a
  collision. Such records are kept for unpaired analysis, are never paired, and get the cause
  ``"collision"``. They still count as candidates for the other wave, so a record whose code
  equals a collided code is ``"ambiguous"`` rather than linked to some more distant record.
* Unmatched causes: ``"no code"``, ``"collision"``, ``"ambiguous"`` (the record is part of a tie
  among nearest candidates, on either side) and ``"no counterpart"`` (no candidate within the
  tolerance, the nearest candidate is closer to another record, or the covariates disagree).
* Covariates gate tiers 2 and 2b only, as R-ID-03 states; a tier-1 link is not re-checked.
* Results do not depend on row order: records are processed in ``record_id`` order, ties are
  detected rather than broken, and participant keys are assigned in a fixed order.

Every count produced here is an internal number; publishing it goes through disclosure control
(``compare_matched_unmatched`` applies the k_min rule itself because its cells describe groups of
respondents).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import AnalysisError

__all__ = [
    "DEFAULT_ELEMENTS",
    "DEFAULT_AGREE_ON",
    "WAVES",
    "UNMATCHED_CAUSES",
    "SMD_THRESHOLD",
    "find_collisions",
    "WaveMatch",
    "match_waves",
    "MatchSummary",
    "MatchResult",
    "match_workshop",
    "compare_matched_unmatched",
]

#: Element pseudonym columns written by the privacy step (recipe R-ID-01).
DEFAULT_ELEMENTS: tuple[str, ...] = (
    "pid_code_mother",
    "pid_code_father",
    "pid_code_day",
    "pid_code_month",
    "pid_code_place",
    "pid_code_siblings",
)

#: Time-invariant covariates a tier-2 link must agree on (where both records give a value).
DEFAULT_AGREE_ON: tuple[str, ...] = ("country", "gender", "sector")

#: Waves known to :func:`match_workshop`, in their fixed order.
WAVES: tuple[str, ...] = ("pre", "post", "followup")

#: Causes an unmatched record can carry.
UNMATCHED_CAUSES: tuple[str, ...] = ("no code", "collision", "ambiguous", "no counterpart")

#: |SMD| above which the baseline score of matched and unmatched respondents differs enough
#: to warrant a bias caveat (WWC baseline-equivalence convention, R-ID-07).
SMD_THRESHOLD = 0.25

_TIER_LABELS = ("1", "2", "2b")
_RECORD_ID = "record_id"


# ---------------------------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------------------------


def _norm(value: Any) -> str | None:
    """Return a value as stripped text, or None when it is missing or blank."""
    if value is None:
        return None
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _check_elements(elements: Sequence[str]) -> tuple[str, ...]:
    if isinstance(elements, str):
        raise AnalysisError("elements must be a sequence of column names, not one string.")
    elements = tuple(elements)
    if not elements:
        raise AnalysisError("At least one code element column is needed for matching.")
    if len(set(elements)) != len(elements):
        raise AnalysisError("The code element columns must not repeat.")
    return elements


def _check_tolerance(max_mismatch: int, elements: tuple[str, ...]) -> None:
    if isinstance(max_mismatch, bool) or max_mismatch not in (0, 1, 2):
        raise AnalysisError(f"max_mismatch must be 0, 1 or 2, not {max_mismatch!r}.")
    if max_mismatch >= len(elements):
        raise AnalysisError(
            f"max_mismatch={max_mismatch} leaves no element to agree on with "
            f"{len(elements)} code element(s)."
        )


def _check_frame(frame: pd.DataFrame, wave: str, columns: Sequence[str]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise AnalysisError(f"Wave {wave!r}: expected a pandas DataFrame.")
    missing = [c for c in (_RECORD_ID, *columns) if c not in frame.columns]
    if missing:
        listing = ", ".join(repr(c) for c in missing)
        raise AnalysisError(f"Wave {wave!r}: column(s) {listing} are missing.")
    ids = frame[_RECORD_ID].map(_norm)
    if ids.isna().any():
        raise AnalysisError(f"Wave {wave!r}: {int(ids.isna().sum())} row(s) have no record_id.")
    n_dup = int(ids.duplicated().sum())
    if n_dup:
        raise AnalysisError(
            f"Wave {wave!r}: {n_dup} record_id value(s) occur more than once; "
            "record_id must be unique within a wave."
        )


@dataclass(frozen=True)
class _Wave:
    """One wave, normalised and sorted by record_id."""

    ids: tuple[str, ...]
    codes: tuple[tuple[str | None, ...], ...]
    covariates: tuple[tuple[str | None, ...], ...]


def _prepare(
    frame: pd.DataFrame, wave: str, elements: tuple[str, ...], agree_on: tuple[str, ...]
) -> _Wave:
    _check_frame(frame, wave, (*elements, *agree_on))
    ids = [_norm(v) for v in frame[_RECORD_ID].tolist()]
    codes = [
        tuple(_norm(v) for v in row)
        for row in frame[list(elements)].itertuples(index=False, name=None)
    ]
    if agree_on:
        covs = [
            tuple(_norm(v) for v in row)
            for row in frame[list(agree_on)].itertuples(index=False, name=None)
        ]
    else:
        covs = [() for _ in ids]
    order = sorted(range(len(ids)), key=lambda i: ids[i])
    return _Wave(
        ids=tuple(ids[i] for i in order),  # type: ignore[misc]
        codes=tuple(codes[i] for i in order),
        covariates=tuple(covs[i] for i in order),
    )


def _collision_groups(wave: _Wave) -> list[list[int]]:
    """Positions of records sharing a complete code, grouped, in record_id order."""
    by_code: dict[tuple[str, ...], list[int]] = {}
    for pos, code in enumerate(wave.codes):
        if all(v is not None for v in code):
            by_code.setdefault(code, []).append(pos)  # type: ignore[arg-type]
    groups = [sorted(g) for g in by_code.values() if len(g) >= 2]
    return sorted(groups, key=lambda g: wave.ids[g[0]])


# ---------------------------------------------------------------------------------------------
# Collisions
# ---------------------------------------------------------------------------------------------


def find_collisions(
    wave_frame: pd.DataFrame, elements: Sequence[str] = DEFAULT_ELEMENTS
) -> pd.DataFrame:
    """List submissions of one wave that share a complete code with another submission.

    A code takes part only when every element is present. Identical-answer duplicates are
    removed by validation before matching, so any code still shared here is a collision
    (R-ID-05): those records stay in the unpaired analysis and are excluded from pairing.

    Parameters
    ----------
    wave_frame : DataFrame
        One wave: a unique ``record_id`` column and one pseudonym column per code element.
    elements : sequence of str
        The code element columns.

    Returns
    -------
    DataFrame
        Columns ``record_id``, ``collision_group`` (1, 2, ... numbered by the smallest
        ``record_id`` in the group) and ``group_size``; one row per record in a collision,
        sorted by group then ``record_id``. The shared code itself is never returned.

    Raises
    ------
    AnalysisError
        A column is missing or ``record_id`` is missing or not unique.

    Examples
    --------
    >>> import pandas as pd
    >>> wave = pd.DataFrame({
    ...     "record_id": ["r1", "r2", "r3", "r4"],
    ...     "e1": ["a", "a", "b", None],
    ...     "e2": ["x", "x", "y", "y"],
    ... })
    >>> find_collisions(wave, elements=["e1", "e2"])
      record_id  collision_group  group_size
    0        r1                1           2
    1        r2                1           2
    """
    elements = _check_elements(elements)
    wave = _prepare(wave_frame, "wave", elements, ())
    rows = []
    for number, group in enumerate(_collision_groups(wave), start=1):
        for pos in group:
            rows.append((wave.ids[pos], number, len(group)))
    return pd.DataFrame(
        {
            _RECORD_ID: pd.Series([r[0] for r in rows], dtype=object),
            "collision_group": pd.Series([r[1] for r in rows], dtype="int64"),
            "group_size": pd.Series([r[2] for r in rows], dtype="int64"),
        }
    )


# ---------------------------------------------------------------------------------------------
# Matching two waves
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class WaveMatch:
    """Links between two waves and the cause for every record left unlinked.

    Attributes
    ----------
    wave_a, wave_b : str
        Names of the two waves (``wave_a`` is the earlier one).
    pairs : DataFrame
        ``record_id_a``, ``record_id_b``, ``tier`` (``"1"``, ``"2"`` or ``"2b"``) and
        ``n_mismatch`` (0, 1 or 2 differing elements); sorted by ``record_id_a``.
    unmatched : DataFrame
        ``wave``, ``record_id``, ``cause`` for every record of either wave not in ``pairs``;
        ``cause`` is one of :data:`UNMATCHED_CAUSES`. Rows of ``wave_a`` come first, then
        ``wave_b``, each sorted by ``record_id``.
    n_a, n_b : int
        Number of records in each wave.
    max_mismatch : int
        Tolerance used.
    elements : tuple of str
        Code element columns used.
    """

    wave_a: str
    wave_b: str
    pairs: pd.DataFrame
    unmatched: pd.DataFrame
    n_a: int
    n_b: int
    max_mismatch: int
    elements: tuple[str, ...] = field(default=DEFAULT_ELEMENTS)

    @property
    def unmatched_a(self) -> pd.DataFrame:
        """Unmatched records of ``wave_a`` (``record_id``, ``cause``)."""
        part = self.unmatched[self.unmatched["wave"] == self.wave_a]
        return part[[_RECORD_ID, "cause"]].reset_index(drop=True)

    @property
    def unmatched_b(self) -> pd.DataFrame:
        """Unmatched records of ``wave_b`` (``record_id``, ``cause``)."""
        part = self.unmatched[self.unmatched["wave"] == self.wave_b]
        return part[[_RECORD_ID, "cause"]].reset_index(drop=True)

    def tier_counts(self) -> dict[str, int]:
        """Number of pairs per tier, every tier up to ``max_mismatch`` listed (zeros included).

        Examples
        --------
        >>> import pandas as pd
        >>> a = pd.DataFrame({"record_id": ["a1"], "e1": ["x"], "e2": ["y"]})
        >>> b = pd.DataFrame({"record_id": ["b1"], "e1": ["x"], "e2": ["y"]})
        >>> match_waves(a, b, elements=["e1", "e2"], agree_on=()).tier_counts()
        {'1': 1, '2': 0}
        """
        counts = self.pairs["tier"].value_counts()
        return {t: int(counts.get(t, 0)) for t in _TIER_LABELS[: self.max_mismatch + 1]}

    def cause_counts(self, wave: str) -> dict[str, int]:
        """Number of unmatched records of ``wave`` per cause (zeros included)."""
        if wave not in (self.wave_a, self.wave_b):
            raise AnalysisError(f"Wave {wave!r} is not part of this match.")
        counts = self.unmatched.loc[self.unmatched["wave"] == wave, "cause"].value_counts()
        return {c: int(counts.get(c, 0)) for c in UNMATCHED_CAUSES}


def _encode(
    codes_a: Sequence[tuple[str | None, ...]], codes_b: Sequence[tuple[str | None, ...]], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Integer-encode element values over both waves; -1 marks a missing element."""
    vocab: list[dict[str, int]] = [{} for _ in range(k)]

    def enc(codes: Sequence[tuple[str | None, ...]]) -> np.ndarray:
        out = np.full((len(codes), k), -1, dtype=np.int64)
        for i, code in enumerate(codes):
            for j, value in enumerate(code):
                if value is not None:
                    out[i, j] = vocab[j].setdefault(value, len(vocab[j]))
        return out

    return enc(codes_a), enc(codes_b)


def _covariates_agree(
    cov_a: Sequence[tuple[str | None, ...]], cov_b: Sequence[tuple[str | None, ...]]
) -> np.ndarray:
    """Boolean matrix: no covariate differs where both records give a value."""
    ok = np.ones((len(cov_a), len(cov_b)), dtype=bool)
    n_cov = len(cov_a[0]) if cov_a else 0
    for c in range(n_cov):
        va = np.array([row[c] for row in cov_a], dtype=object)
        vb = np.array([row[c] for row in cov_b], dtype=object)
        present = (va != None)[:, None] & (vb != None)[None, :]  # noqa: E711
        ok &= ~present | (va[:, None] == vb[None, :])
    return ok


def _best(dist: np.ndarray, axis: int, inf: int) -> tuple[np.ndarray, np.ndarray]:
    """Nearest distance along ``axis`` and how many candidates reach it (0 when none)."""
    if dist.shape[axis] == 0:
        n = dist.shape[1 - axis]
        return np.full(n, inf, dtype=np.int64), np.zeros(n, dtype=np.int64)
    best = dist.min(axis=axis)
    expanded = np.expand_dims(best, axis)
    count = ((dist == expanded) & (expanded < inf)).sum(axis=axis)
    return best, count


def match_waves(
    a: pd.DataFrame,
    b: pd.DataFrame,
    wave_a: str = "pre",
    wave_b: str = "post",
    elements: Sequence[str] = DEFAULT_ELEMENTS,
    max_mismatch: int = 1,
    agree_on: Sequence[str] = DEFAULT_AGREE_ON,
    *,
    missing_as_mismatch: bool = True,
) -> WaveMatch:
    """Link the submissions of two waves by their code, tier by tier (R-ID-03).

    Tier *t* (``t`` differing elements, ``t = 0 .. max_mismatch``) runs on the records not
    linked by an earlier tier. A record ``x`` is linked to ``y`` at tier *t* when ``y`` is the
    only record of the other wave at ``x``'s smallest distance, ``x`` is the only record at
    ``y``'s smallest distance, that distance is *t*, neither is in a collision and, for
    ``t >= 1``, their ``agree_on`` covariates do not conflict. The distance is the number of
    elements that differ; a missing element always counts as differing. Ties are never broken.

    Parameters
    ----------
    a, b : DataFrame
        The two waves: ``record_id`` (unique within the wave), the ``elements`` columns
        (pseudonymised element values, missing as None/NaN/blank) and the ``agree_on`` columns.
    wave_a, wave_b : str
        Names of the waves, used in the output.
    elements : sequence of str
        Code element columns, in any order (default :data:`DEFAULT_ELEMENTS`).
    max_mismatch : {0, 1, 2}
        Largest number of differing elements allowed: 0 = exact only, 1 = tiers 1 and 2
        (default), 2 = also tier 2b (explicit opt-in, R-ID-03).
    agree_on : sequence of str
        Covariates a tier-2/2b link must not contradict; compared as text where both present.
    missing_as_mismatch : bool
        True (default): a missing element counts as one differing element. False: only complete
        codes take part; any missing element makes the record "no code".

    Returns
    -------
    WaveMatch

    Raises
    ------
    AnalysisError
        A column is missing, ``record_id`` is not unique, the wave names are equal, or
        ``max_mismatch`` is not 0, 1 or 2 (or not smaller than the number of elements).

    Examples
    --------
    >>> import pandas as pd
    >>> cols = ["e1", "e2", "e3"]
    >>> pre = pd.DataFrame({"record_id": ["a1", "a2", "a3"],
    ...                     "e1": ["x", "p", None], "e2": ["y", "q", None],
    ...                     "e3": ["z", "r", None], "country": ["KZ", "KG", "TJ"]})
    >>> post = pd.DataFrame({"record_id": ["b1", "b2"],
    ...                      "e1": ["x", "p"], "e2": ["y", "q"], "e3": ["z", "TYPO"],
    ...                      "country": ["KZ", "KG"]})
    >>> m = match_waves(pre, post, elements=cols, agree_on=["country"])
    >>> m.pairs
      record_id_a record_id_b tier  n_mismatch
    0          a1          b1    1           0
    1          a2          b2    2           1
    >>> m.unmatched
      wave record_id    cause
    0  pre        a3  no code
    """
    elements = _check_elements(elements)
    if isinstance(agree_on, str):
        raise AnalysisError("agree_on must be a sequence of column names, not one string.")
    agree_on = tuple(agree_on)
    if wave_a == wave_b:
        raise AnalysisError(f"Both waves are called {wave_a!r}; give two different names.")
    _check_tolerance(max_mismatch, elements)
    wa = _prepare(a, wave_a, elements, agree_on)
    wb = _prepare(b, wave_b, elements, agree_on)
    return _match_prepared(wa, wb, wave_a, wave_b, elements, max_mismatch, missing_as_mismatch)


def _match_prepared(
    wa: _Wave,
    wb: _Wave,
    wave_a: str,
    wave_b: str,
    elements: tuple[str, ...],
    max_mismatch: int,
    missing_as_mismatch: bool,
) -> WaveMatch:
    k = len(elements)
    inf = k + max_mismatch + 10
    ca, cb = _encode(wa.codes, wb.codes, k)
    na, nb = len(wa.ids), len(wb.ids)

    def status(codes: np.ndarray, wave: _Wave) -> tuple[np.ndarray, np.ndarray]:
        n_missing = (codes < 0).sum(axis=1)
        if missing_as_mismatch:
            no_code = (n_missing == k) | (n_missing > max_mismatch)
        else:
            no_code = n_missing > 0
        collided = np.zeros(len(wave.ids), dtype=bool)
        for group in _collision_groups(wave):
            collided[group] = True
        return no_code, collided & ~no_code

    no_code_a, coll_a = status(ca, wa)
    no_code_b, coll_b = status(cb, wb)
    # Active records are candidates (collided ones only block); pairable ones may be linked.
    active_a, active_b = ~no_code_a, ~no_code_b
    pairable_a, pairable_b = active_a & ~coll_a, active_b & ~coll_b

    differ = (ca[:, None, :] != cb[None, :, :]) | (ca[:, None, :] < 0) | (cb[None, :, :] < 0)
    dist = differ.sum(axis=2).astype(np.int64)
    dist = np.where(active_a[:, None] & active_b[None, :], dist, inf)
    cov_ok = _covariates_agree(wa.covariates, wb.covariates)

    partner_a = np.full(na, -1, dtype=np.int64)
    partner_b = np.full(nb, -1, dtype=np.int64)
    tier_a = np.full(na, -1, dtype=np.int64)

    def restricted(t: int) -> np.ndarray:
        avail = (active_a & (partner_a < 0))[:, None] & (active_b & (partner_b < 0))[None, :]
        return np.where(avail & (dist <= t), dist, inf)

    for t in range(max_mismatch + 1):
        d_t = restricted(t)
        best_a, count_a = _best(d_t, 1, inf)
        best_b, count_b = _best(d_t, 0, inf)
        link = (
            (d_t == t)
            & (d_t == best_a[:, None])
            & (count_a == 1)[:, None]
            & (d_t == best_b[None, :])
            & (count_b == 1)[None, :]
            & pairable_a[:, None]
            & pairable_b[None, :]
        )
        if t > 0:
            link &= cov_ok
        for i, j in np.argwhere(link):
            partner_a[i], partner_b[j], tier_a[i] = j, i, t

    # Causes for whatever is left, judged on the final pool.
    d_fin = restricted(max_mismatch)
    best_a, count_a = _best(d_fin, 1, inf)
    best_b, count_b = _best(d_fin, 0, inf)

    def cause(
        pos: int,
        no_code: np.ndarray,
        collided: np.ndarray,
        row: np.ndarray,
        best: int,
        count: int,
        other_best: np.ndarray,
        other_count: np.ndarray,
        col_of: Any,
    ) -> str:
        if no_code[pos]:
            return "no code"
        if collided[pos]:
            return "collision"
        if best >= inf:
            return "no counterpart"
        if count >= 2:
            return "ambiguous"
        j = int(np.flatnonzero(row == best)[0])
        col = col_of(j)
        if other_count[j] >= 2 and col[pos] == other_best[j]:
            return "ambiguous"
        return "no counterpart"

    rows: list[tuple[str, str, str]] = []
    for i in np.flatnonzero(partner_a < 0):
        c = cause(
            int(i),
            no_code_a,
            coll_a,
            d_fin[i],
            int(best_a[i]),
            int(count_a[i]),
            best_b,
            count_b,
            lambda j: d_fin[:, j],
        )
        rows.append((wave_a, wa.ids[i], c))
    for j in np.flatnonzero(partner_b < 0):
        c = cause(
            int(j),
            no_code_b,
            coll_b,
            d_fin[:, j],
            int(best_b[j]),
            int(count_b[j]),
            best_a,
            count_a,
            lambda i: d_fin[i, :],
        )
        rows.append((wave_b, wb.ids[j], c))

    linked = np.flatnonzero(partner_a >= 0)
    pairs = pd.DataFrame(
        {
            "record_id_a": pd.Series([wa.ids[i] for i in linked], dtype=object),
            "record_id_b": pd.Series([wb.ids[partner_a[i]] for i in linked], dtype=object),
            "tier": pd.Series([_TIER_LABELS[tier_a[i]] for i in linked], dtype=object),
            "n_mismatch": pd.Series([int(tier_a[i]) for i in linked], dtype="int64"),
        }
    )
    unmatched = pd.DataFrame(
        {
            "wave": pd.Series([r[0] for r in rows], dtype=object),
            _RECORD_ID: pd.Series([r[1] for r in rows], dtype=object),
            "cause": pd.Series([r[2] for r in rows], dtype=object),
        }
    )
    return WaveMatch(
        wave_a=wave_a,
        wave_b=wave_b,
        pairs=pairs,
        unmatched=unmatched,
        n_a=na,
        n_b=nb,
        max_mismatch=max_mismatch,
        elements=elements,
    )


# ---------------------------------------------------------------------------------------------
# Matching a whole workshop
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MatchSummary:
    """Attrition and match report of one workshop (R-ID-06); internal, unsuppressed counts.

    Attributes
    ----------
    n_per_wave : dict of str to int
        Submissions per wave given.
    n_participants : int
        Rows of the participant table.
    matched : DataFrame
        ``wave_a``, ``wave_b``, ``tier``, ``n``: links per tier and wave pair (zeros listed).
        The post-followup pair covers only respondents without a pre link.
    unmatched : DataFrame
        ``wave_a``, ``wave_b``, ``wave``, ``cause``, ``n``: unmatched records per side and cause.
    match_rate_pre_post, match_rate_pre_followup : float or None
        Pre submissions linked to the later wave divided by all pre submissions; None when
        either wave is absent or the pre wave is empty.
    collisions : dict of str to int
        Records in collisions per wave.
    """

    n_per_wave: dict[str, int]
    n_participants: int
    matched: pd.DataFrame
    unmatched: pd.DataFrame
    match_rate_pre_post: float | None
    match_rate_pre_followup: float | None
    collisions: dict[str, int]

    def to_frame(self) -> pd.DataFrame:
        """All numbers in one long table: ``measure``, ``scope``, ``category``, ``value``.

        Examples
        --------
        >>> import pandas as pd
        >>> pre = pd.DataFrame({"record_id": ["a1"], "e1": ["x"], "e2": ["y"]})
        >>> post = pd.DataFrame({"record_id": ["b1"], "e1": ["x"], "e2": ["y"]})
        >>> s = match_workshop({"pre": pre, "post": post}, elements=["e1", "e2"],
        ...                    agree_on=()).summary()
        >>> s.to_frame().head(3)
           measure     scope category  value
        0        n       pre           1.0
        1        n      post           1.0
        2  matched  pre-post   tier 1    1.0
        """
        rows: list[tuple[str, str, str, float | None]] = []
        for wave, n in self.n_per_wave.items():
            rows.append(("n", wave, "", float(n)))
        for r in self.matched.itertuples(index=False):
            rows.append(("matched", f"{r.wave_a}-{r.wave_b}", f"tier {r.tier}", float(r.n)))
        for r in self.unmatched.itertuples(index=False):
            rows.append(("unmatched", f"{r.wave_a}-{r.wave_b}:{r.wave}", str(r.cause), float(r.n)))
        rows.append(("match_rate", "pre-post", "", self.match_rate_pre_post))
        rows.append(("match_rate", "pre-followup", "", self.match_rate_pre_followup))
        for wave, n in self.collisions.items():
            rows.append(("collisions", wave, "", float(n)))
        rows.append(("participants", "all", "", float(self.n_participants)))
        return pd.DataFrame(rows, columns=["measure", "scope", "category", "value"])


@dataclass(frozen=True, eq=False)
class MatchResult:
    """Participants linked across the waves of one workshop.

    Attributes
    ----------
    participants : DataFrame
        One row per participant: ``participant_key`` ("P001", ...), ``record_id_pre``,
        ``record_id_post``, ``record_id_followup`` (None where absent), and the tier of each link
        used: ``tier_pre_post``, ``tier_pre_followup``, ``tier_post_followup`` (None where
        absent). Rows start with participants who answered pre (by pre ``record_id``), then
        post-first participants (by post ``record_id``), then follow-up only.
    wave_matches : dict of (str, str) to WaveMatch
        The pairwise results; the ``("post", "followup")`` match covers only records of those
        waves not linked to any pre record.
    n_per_wave : dict of str to int
        Submissions per wave given.
    collisions : dict of str to DataFrame
        :func:`find_collisions` per wave.
    max_mismatch : int
        Tolerance used.
    """

    participants: pd.DataFrame
    wave_matches: dict[tuple[str, str], WaveMatch]
    n_per_wave: dict[str, int]
    collisions: dict[str, pd.DataFrame]
    max_mismatch: int

    def linked_ids(self, wave_from: str = "pre", wave_to: str = "post") -> frozenset[str]:
        """Record ids of ``wave_from`` whose participant also has a ``wave_to`` record.

        Examples
        --------
        >>> import pandas as pd
        >>> pre = pd.DataFrame({"record_id": ["a1", "a2"], "e1": ["x", "u"], "e2": ["y", "v"]})
        >>> post = pd.DataFrame({"record_id": ["b1"], "e1": ["x"], "e2": ["y"]})
        >>> r = match_workshop({"pre": pre, "post": post}, elements=["e1", "e2"], agree_on=())
        >>> sorted(r.linked_ids("pre", "post"))
        ['a1']
        """
        for w in (wave_from, wave_to):
            if w not in WAVES:
                raise AnalysisError(f"Unknown wave {w!r}; expected one of {', '.join(WAVES)}.")
        both = (
            self.participants[f"record_id_{wave_from}"].notna()
            & self.participants[f"record_id_{wave_to}"].notna()
        )
        return frozenset(self.participants.loc[both, f"record_id_{wave_from}"].tolist())

    def summary(self) -> MatchSummary:
        """Counts for the attrition and match report (R-ID-06).

        Examples
        --------
        >>> import pandas as pd
        >>> pre = pd.DataFrame({"record_id": ["a1", "a2"], "e1": ["x", "u"], "e2": ["y", "v"]})
        >>> post = pd.DataFrame({"record_id": ["b1"], "e1": ["x"], "e2": ["y"]})
        >>> s = match_workshop({"pre": pre, "post": post}, elements=["e1", "e2"],
        ...                    agree_on=()).summary()
        >>> s.n_per_wave, s.match_rate_pre_post
        ({'pre': 2, 'post': 1}, 0.5)
        """
        matched_rows = []
        unmatched_rows = []
        for (wa, wb), m in self.wave_matches.items():
            for tier, n in m.tier_counts().items():
                matched_rows.append((wa, wb, tier, n))
            for wave in (wa, wb):
                for c, n in m.cause_counts(wave).items():
                    unmatched_rows.append((wa, wb, wave, c, n))
        matched = pd.DataFrame(matched_rows, columns=["wave_a", "wave_b", "tier", "n"])
        matched = matched.astype({"wave_a": object, "wave_b": object, "tier": object})
        unmatched = pd.DataFrame(
            unmatched_rows, columns=["wave_a", "wave_b", "wave", "cause", "n"]
        ).astype({"wave_a": object, "wave_b": object, "wave": object, "cause": object})

        def rate(later: str) -> float | None:
            n_pre = self.n_per_wave.get("pre", 0)
            if n_pre == 0 or later not in self.n_per_wave:
                return None
            return len(self.linked_ids("pre", later)) / n_pre

        return MatchSummary(
            n_per_wave=dict(self.n_per_wave),
            n_participants=len(self.participants),
            matched=matched,
            unmatched=unmatched,
            match_rate_pre_post=rate("post"),
            match_rate_pre_followup=rate("followup"),
            collisions={w: len(c) for w, c in self.collisions.items()},
        )


def match_workshop(
    waves: Mapping[str, pd.DataFrame],
    elements: Sequence[str] = DEFAULT_ELEMENTS,
    max_mismatch: int = 1,
    agree_on: Sequence[str] = DEFAULT_AGREE_ON,
    *,
    missing_as_mismatch: bool = True,
) -> MatchResult:
    """Link pre, post and follow-up submissions into one table of participants.

    Links are made pre-post and pre-followup with :func:`match_waves`; then post-followup
    among the records of those two waves that have no pre link (respondents who skipped the
    pre survey, or whose pre code could not be linked). A participant with a pre record never
    gains a follow-up record through the post wave: chains are not followed.

    Parameters
    ----------
    waves : mapping of str to DataFrame
        Any of ``"pre"``, ``"post"``, ``"followup"`` (see :func:`match_waves` for the columns).
    elements, max_mismatch, agree_on, missing_as_mismatch
        As in :func:`match_waves`, used for every wave pair.

    Returns
    -------
    MatchResult
        Participant keys are "P001", "P002", ... (wider when more than 999 participants),
        assigned in a fixed order, independent of row order and of any pseudonym.

    Raises
    ------
    AnalysisError
        No wave, an unknown wave name, or any error of :func:`match_waves`.

    Examples
    --------
    >>> import pandas as pd
    >>> def wave(ids, codes):
    ...     return pd.DataFrame({"record_id": ids, "e1": [c[0] for c in codes],
    ...                          "e2": [c[1] for c in codes], "e3": [c[2] for c in codes]})
    >>> r = match_workshop(
    ...     {"pre": wave(["a1"], ["xyz"]),
    ...      "post": wave(["b1", "b2"], ["xyz", "pqr"]),
    ...      "followup": wave(["c1", "c2"], ["xyz", "pqr"])},
    ...     elements=["e1", "e2", "e3"], agree_on=())
    >>> r.participants[["participant_key", "record_id_pre", "record_id_post",
    ...                 "record_id_followup"]]
      participant_key record_id_pre record_id_post record_id_followup
    0            P001            a1             b1                 c1
    1            P002          None             b2                 c2
    """
    if not isinstance(waves, Mapping) or not waves:
        raise AnalysisError("No survey wave was given for matching.")
    unknown = [w for w in waves if w not in WAVES]
    if unknown:
        raise AnalysisError(
            f"Unknown wave name(s) {', '.join(map(repr, unknown))}; expected {', '.join(WAVES)}."
        )
    elements = _check_elements(elements)
    if isinstance(agree_on, str):
        raise AnalysisError("agree_on must be a sequence of column names, not one string.")
    agree_on = tuple(agree_on)
    _check_tolerance(max_mismatch, elements)
    present = [w for w in WAVES if w in waves]
    prepared = {w: _prepare(waves[w], w, elements, agree_on) for w in present}

    def run(wa: str, wb: str, a: _Wave, b: _Wave) -> WaveMatch:
        return _match_prepared(a, b, wa, wb, elements, max_mismatch, missing_as_mismatch)

    matches: dict[tuple[str, str], WaveMatch] = {}
    pre_post: dict[str, tuple[str, str]] = {}
    pre_fu: dict[str, tuple[str, str]] = {}
    for later, links in (("post", pre_post), ("followup", pre_fu)):
        if "pre" in prepared and later in prepared:
            m = run("pre", later, prepared["pre"], prepared[later])
            matches[("pre", later)] = m
            for r in m.pairs.itertuples(index=False):
                links[r.record_id_a] = (r.record_id_b, r.tier)

    post_fu: dict[str, tuple[str, str]] = {}
    if "post" in prepared and "followup" in prepared:
        taken_post = {v[0] for v in pre_post.values()}
        taken_fu = {v[0] for v in pre_fu.values()}
        m = run(
            "post",
            "followup",
            _subset(prepared["post"], taken_post),
            _subset(prepared["followup"], taken_fu),
        )
        matches[("post", "followup")] = m
        for r in m.pairs.itertuples(index=False):
            post_fu[r.record_id_a] = (r.record_id_b, r.tier)

    rows: list[dict[str, str | None]] = []
    for pid in prepared["pre"].ids if "pre" in prepared else ():
        post, fu = pre_post.get(pid), pre_fu.get(pid)
        rows.append(
            {
                "record_id_pre": pid,
                "record_id_post": post[0] if post else None,
                "record_id_followup": fu[0] if fu else None,
                "tier_pre_post": post[1] if post else None,
                "tier_pre_followup": fu[1] if fu else None,
                "tier_post_followup": None,
            }
        )
    linked_post = {v[0] for v in pre_post.values()}
    for qid in prepared["post"].ids if "post" in prepared else ():
        if qid in linked_post:
            continue
        fu = post_fu.get(qid)
        rows.append(
            {
                "record_id_pre": None,
                "record_id_post": qid,
                "record_id_followup": fu[0] if fu else None,
                "tier_pre_post": None,
                "tier_pre_followup": None,
                "tier_post_followup": fu[1] if fu else None,
            }
        )
    linked_fu = {v[0] for v in pre_fu.values()} | {v[0] for v in post_fu.values()}
    for fid in prepared["followup"].ids if "followup" in prepared else ():
        if fid in linked_fu:
            continue
        rows.append(
            {
                "record_id_pre": None,
                "record_id_post": None,
                "record_id_followup": fid,
                "tier_pre_post": None,
                "tier_pre_followup": None,
                "tier_post_followup": None,
            }
        )

    width = max(3, len(str(len(rows))))
    columns = [
        "record_id_pre",
        "record_id_post",
        "record_id_followup",
        "tier_pre_post",
        "tier_pre_followup",
        "tier_post_followup",
    ]
    participants = pd.DataFrame(
        {
            "participant_key": pd.Series(
                [f"P{i:0{width}d}" for i in range(1, len(rows) + 1)], dtype=object
            ),
            **{c: pd.Series([r[c] for r in rows], dtype=object) for c in columns},
        }
    )
    return MatchResult(
        participants=participants,
        wave_matches=matches,
        n_per_wave={w: len(prepared[w].ids) for w in present},
        collisions={w: find_collisions(waves[w], elements) for w in present},
        max_mismatch=max_mismatch,
    )


def _subset(wave: _Wave, drop: set[str]) -> _Wave:
    keep = [i for i, rid in enumerate(wave.ids) if rid not in drop]
    return _Wave(
        ids=tuple(wave.ids[i] for i in keep),
        codes=tuple(wave.codes[i] for i in keep),
        covariates=tuple(wave.covariates[i] for i in keep),
    )


# ---------------------------------------------------------------------------------------------
# Matched vs unmatched baseline respondents (R-ID-07)
# ---------------------------------------------------------------------------------------------

_MISSING_CATEGORY = "(missing)"


def _suppress_cells(counts: np.ndarray, k_min: int) -> np.ndarray:
    """Primary plus complementary suppression for a categories x groups count table.

    Primary: a cell under ``k_min`` (zero included). Row rule: a category's total over the
    pre wave is published elsewhere, so when one group's cell of a category is hidden the other
    is hidden too. Column rule: each group's total is shown, so a group never has exactly one
    hidden category; the smallest shown one is hidden as well. Repeated until stable.
    """
    mask = counts < k_min
    n_cat = counts.shape[0]
    while True:
        before = mask.copy()
        mask[mask.any(axis=1), :] = True
        for g in range(counts.shape[1]):
            if mask[:, g].sum() == 1 and n_cat > 1:
                shown = np.flatnonzero(~mask[:, g])
                smallest = shown[np.argmin(counts[shown, g])]
                mask[smallest, g] = True
        if (mask == before).all():
            return mask


def compare_matched_unmatched(
    baseline: pd.DataFrame,
    matched_ids: Iterable[str],
    covariates: Sequence[str] = ("country", "sector", "gender"),
    score_column: str | None = "readiness",
    k_min: int = 5,
    *,
    small_sample_correction: bool = False,
) -> pd.DataFrame:
    """Compare baseline respondents who were matched with those who were not (R-ID-07).

    Unmatched respondents are rarely a random subset (Eval Program Plann 2020, PMID 32109784),
    so the report compares the two groups on the covariates and the baseline score.

    For each covariate category: the share of each group in the category and the difference
    (matched minus unmatched). For the score: the group means and the standardised mean
    difference with pooled standard deviation (Cohen's *d*; Cohen 1988; Lakens 2013, eq. 1)::

        SMD = (mean_m - mean_u) / s_p,
        s_p = sqrt(((n_m - 1) s_m^2 + (n_u - 1) s_u^2) / (n_m + n_u - 2))

    with sample standard deviations. With ``small_sample_correction=True`` it is multiplied by
    ``1 - 3 / (4 (n_m + n_u) - 9)`` (Hedges' *g*, as the What Works Clearinghouse handbook
    computes baseline differences). ``imbalance`` is True when ``|SMD| > 0.25``, the WWC
    baseline-equivalence threshold used as the bias-caveat trigger.

    Disclosure control (R-SDC-01/02/05): every count under ``k_min`` (zero included) is shown as
    ``"<k_min"`` and its proportion as None; when one group's cell of a category is hidden the
    other group's is hidden too (the category total is published with the wave), and a group
    never has exactly one hidden category (its total is shown). Means and the SMD are shown only
    when both groups have at least ``k_min`` scores. ``suppressed`` marks every row with hidden
    values. No count under ``k_min`` is ever returned.

    Parameters
    ----------
    baseline : DataFrame
        The pre wave: ``record_id``, the covariates and (unless None) ``score_column``.
    matched_ids : iterable of str
        ``record_id`` values of the pre records that were matched (e.g.
        ``MatchResult.linked_ids("pre", "post")``); all others count as unmatched.
    covariates : sequence of str
        Categorical columns to compare. Missing values form the category ``"(missing)"``.
    score_column : str or None
        Numeric baseline score; None skips the score row.
    k_min : int
        Smallest number of respondents a published number may rest on (at least 3).
    small_sample_correction : bool
        Apply Hedges' correction to the SMD.

    Returns
    -------
    DataFrame
        Columns ``variable``, ``category``, ``n_matched``, ``n_unmatched`` (int, or the string
        ``"<k_min"``), ``prop_matched``, ``prop_unmatched``, ``difference``, ``mean_matched``,
        ``mean_unmatched``, ``smd``, ``imbalance``, ``suppressed``; hidden or undefined
        numbers are missing (NaN, or None in the object columns). ``difference`` is the
        proportion difference in category rows and the mean difference in the score row,
        both matched minus unmatched. The first row
        (``variable="(all)"``) gives the group sizes; then one row per covariate category
        (categories sorted); last, the score row (``variable=score_column``).

    Raises
    ------
    AnalysisError
        A column is missing, ``record_id`` is not unique, a matched id is not in
        ``baseline``, the score is not numeric, or ``k_min < 3``.

    Examples
    --------
    >>> import pandas as pd
    >>> base = pd.DataFrame({
    ...     "record_id": [f"r{i}" for i in range(12)],
    ...     "gender": ["f"] * 6 + ["m"] * 6,
    ...     "readiness": [3, 4, 5, 3, 4, 5, 2, 3, 4, 2, 3, 4],
    ... })
    >>> matched = ["r0", "r1", "r2", "r6", "r7", "r8"]
    >>> t = compare_matched_unmatched(base, matched, covariates=["gender"])
    >>> t[["variable", "category", "n_matched", "n_unmatched", "smd", "suppressed"]]
        variable category n_matched n_unmatched  smd  suppressed
    0      (all)     None         6           6  NaN       False
    1     gender        f        <5          <5  NaN        True
    2     gender        m        <5          <5  NaN        True
    3  readiness     None         6           6  0.0       False
    """
    if isinstance(k_min, bool) or not isinstance(k_min, (int, np.integer)) or k_min < 3:
        raise AnalysisError(f"k_min must be an integer of at least 3, not {k_min!r}.")
    if isinstance(covariates, str):
        raise AnalysisError("covariates must be a sequence of column names, not one string.")
    covariates = tuple(covariates)
    needed = (*covariates, *(() if score_column is None else (score_column,)))
    _check_frame(baseline, "baseline", needed)
    ids = baseline[_RECORD_ID].map(_norm)
    matched_set = {_norm(v) for v in matched_ids}
    unknown = matched_set - set(ids)
    if unknown:
        raise AnalysisError(f"{len(unknown)} matched record id(s) are not in the baseline wave.")
    is_m = ids.isin(matched_set).to_numpy()
    hidden = f"<{k_min}"

    def show(n: int, masked: bool) -> int | str:
        return hidden if masked or n < k_min else int(n)

    rows: list[dict[str, Any]] = []

    def add(**values: Any) -> None:
        row: dict[str, Any] = {
            "variable": None,
            "category": None,
            "n_matched": None,
            "n_unmatched": None,
            "prop_matched": None,
            "prop_unmatched": None,
            "difference": None,
            "mean_matched": None,
            "mean_unmatched": None,
            "smd": None,
            "imbalance": None,
            "suppressed": False,
        }
        row.update(values)
        rows.append(row)

    group_n = np.array([is_m.sum(), (~is_m).sum()])
    all_mask = _suppress_cells(group_n[None, :], k_min)[0]
    add(
        variable="(all)",
        n_matched=show(group_n[0], all_mask[0]),
        n_unmatched=show(group_n[1], all_mask[1]),
        suppressed=bool(all_mask.any()),
    )

    for cov in covariates:
        values = baseline[cov].map(_norm).fillna(_MISSING_CATEGORY).to_numpy(dtype=object)
        cats = sorted(set(values.tolist()))
        counts = np.array(
            [[np.sum((values == c) & is_m), np.sum((values == c) & ~is_m)] for c in cats],
            dtype=np.int64,
        ).reshape(len(cats), 2)
        mask = _suppress_cells(counts, k_min)
        if all_mask.any():
            mask[:] = True
        for ci, cat in enumerate(cats):
            prop = [
                None if mask[ci, g] or group_n[g] == 0 else counts[ci, g] / group_n[g]
                for g in (0, 1)
            ]
            diff = None if None in prop else prop[0] - prop[1]
            add(
                variable=cov,
                category=cat,
                n_matched=show(counts[ci, 0], mask[ci, 0]),
                n_unmatched=show(counts[ci, 1], mask[ci, 1]),
                prop_matched=prop[0],
                prop_unmatched=prop[1],
                difference=diff,
                suppressed=bool(mask[ci].any()),
            )

    if score_column is not None:
        raw = baseline[score_column]
        try:
            scores = pd.to_numeric(raw, errors="raise").astype("float64").to_numpy()
        except (TypeError, ValueError) as exc:
            raise AnalysisError(f"Baseline column {score_column!r} is not numeric.") from exc
        s_m = scores[is_m & ~np.isnan(scores)]
        s_u = scores[~is_m & ~np.isnan(scores)]
        n_s = np.array([len(s_m), len(s_u)])
        masked = bool((n_s < k_min).any())
        mean_m = mean_u = smd = imbalance = None
        if not masked:
            mean_m, mean_u = float(s_m.mean()), float(s_u.mean())
            smd = _pooled_smd(s_m, s_u, small_sample_correction)
            imbalance = None if smd is None else bool(abs(smd) > SMD_THRESHOLD)
        add(
            variable=score_column,
            n_matched=show(n_s[0], masked),
            n_unmatched=show(n_s[1], masked),
            mean_matched=mean_m,
            mean_unmatched=mean_u,
            difference=None if masked else mean_m - mean_u,  # type: ignore[operator]
            smd=smd,
            imbalance=imbalance,
            suppressed=masked,
        )

    out = pd.DataFrame(rows)
    for col in ("variable", "category", "n_matched", "n_unmatched", "imbalance"):
        out[col] = pd.Series([r[col] for r in rows], dtype=object)
    for col in (
        "prop_matched",
        "prop_unmatched",
        "difference",
        "mean_matched",
        "mean_unmatched",
        "smd",
    ):
        out[col] = pd.Series([r[col] for r in rows], dtype="float64")
    out["suppressed"] = out["suppressed"].astype(bool)
    return out


def _pooled_smd(x: np.ndarray, y: np.ndarray, correction: bool) -> float | None:
    """Cohen's d of x minus y with pooled SD; None when it is undefined (SD 0 or too few)."""
    n1, n2 = len(x), len(y)
    if n1 < 2 or n2 < 2:
        return None
    pooled = ((n1 - 1) * x.var(ddof=1) + (n2 - 1) * y.var(ddof=1)) / (n1 + n2 - 2)
    if not pooled > 0:
        return None
    d = float((x.mean() - y.mean()) / math.sqrt(pooled))
    if correction:
        d *= 1 - 3 / (4 * (n1 + n2) - 9)
    return d
