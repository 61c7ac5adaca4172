"""Scoring: answer codes to scores, reverse-keyed items, scale scores and knowledge scores.

Rules (documented in the report's methodology):

- A Likert answer's score is its integer code; a reverse-keyed item is reflected
  (``min + max - code``) so that a higher score always means more of the construct.
- "Don't know" answers (the list's missing codes, e.g. ``dk``) and skipped items are missing,
  never the midpoint. They are counted separately (:func:`dont_know_counts`).
- A scale score is the mean of the answered items of the scale when at least two thirds of its
  items are answered; otherwise it is missing.
- A knowledge score is the percentage of the test's questions answered correctly; an unanswered
  question counts as not correct, and a respondent who answered none of them has no score.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from evaluation.instrument import Instrument, Item

__all__ = [
    "MIN_SCALE_FRACTION",
    "wave_columns",
    "item_scores",
    "dont_know_counts",
    "scale_scores",
    "knowledge_correct",
    "knowledge_scores",
    "domain_scores",
]

#: A scale score needs at least this share of its items answered.
MIN_SCALE_FRACTION = 2 / 3


def wave_columns(instrument: Instrument, wave: str, items: list[Item] | None = None) -> dict:
    """Map item id → column name holding its answer in ``wave``'s data.

    The retrospective answers (``wave="retro"``) live in the post data as ``<id>_retro``.

    Examples
    --------
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.scoring import wave_columns
    >>> inst = load_instrument(default_instrument_path())
    >>> cols = wave_columns(inst, "retro")
    >>> next(iter(cols.items()))
    ('ud_drivers', 'ud_drivers_retro')
    """
    chosen = items if items is not None else instrument.items_for_wave(wave)
    if wave == "retro":
        return {it.id: it.retro_id for it in chosen if it.asked_in("retro")}
    return {it.id: it.id for it in chosen if it.asked_in(wave)}


def _likert_items(instrument: Instrument, wave: str) -> list[Item]:
    return [it for it in instrument.items_for_wave(wave) if it.type == "likert"]


def item_scores(frame: pd.DataFrame, instrument: Instrument, wave: str) -> pd.DataFrame:
    """Scores of every Likert item of ``wave`` (reverse items reflected, "don't know" missing).

    Parameters
    ----------
    frame : DataFrame
        One row per respondent; answer codes as text (``"1"`` … ``"5"``, ``"dk"``) or numbers.
    instrument : Instrument
    wave : {"pre", "post", "followup", "retro"}

    Returns
    -------
    DataFrame
        Same index as ``frame``; one float column per Likert item id asked in ``wave``
        (columns absent from ``frame`` are all-missing).

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.scoring import item_scores
    >>> inst = load_instrument(default_instrument_path())
    >>> df = pd.DataFrame({"ud_causes_unclear": ["5", "dk", None, "2"]})
    >>> item_scores(df, inst, "pre")["ud_causes_unclear"].tolist()  # reverse-keyed
    [1.0, nan, nan, 4.0]
    """
    columns = wave_columns(instrument, wave, _likert_items(instrument, wave))
    out = {}
    for item_id, column in columns.items():
        item = instrument.item(item_id)
        clist = instrument.choice_lists[item.choices]
        low, high = clist.score_range or (1, 5)
        if column in frame.columns:
            values = pd.to_numeric(frame[column].astype("string"), errors="coerce")
            values = values.where((values >= low) & (values <= high))
        else:
            values = pd.Series(np.nan, index=frame.index)
        values = values.astype(float)
        if item.reverse:
            values = (low + high) - values
        out[item_id] = values
    return pd.DataFrame(out, index=frame.index)


def dont_know_counts(frame: pd.DataFrame, instrument: Instrument, wave: str) -> pd.Series:
    """Number of "don't know" answers per Likert item of ``wave``.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.scoring import dont_know_counts
    >>> inst = load_instrument(default_instrument_path())
    >>> df = pd.DataFrame({"ud_causes_unclear": ["5", "dk", "dk"]})
    >>> int(dont_know_counts(df, inst, "pre")["ud_causes_unclear"])
    2
    """
    columns = wave_columns(instrument, wave, _likert_items(instrument, wave))
    counts = {}
    for item_id, column in columns.items():
        missing = set(instrument.choice_lists[instrument.item(item_id).choices].missing_codes)
        if column in frame.columns:
            counts[item_id] = int(frame[column].astype("string").isin(missing).sum())
        else:
            counts[item_id] = 0
    return pd.Series(counts, dtype=int)


def scale_scores(
    frame: pd.DataFrame,
    instrument: Instrument,
    wave: str,
    min_fraction: float = MIN_SCALE_FRACTION,
) -> pd.DataFrame:
    """Scale scores: the mean of answered items when at least ``min_fraction`` are answered.

    Only scales whose items are all asked in ``wave`` are scored.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.scoring import scale_scores
    >>> inst = load_instrument(default_instrument_path())
    >>> items = inst.scales["design_confidence"].items
    >>> df = pd.DataFrame({items[0]: ["4", "4"], items[1]: ["5", "dk"], items[2]: ["3", None]})
    >>> scale_scores(df, inst, "pre")["design_confidence"].round(2).tolist()
    [4.0, nan]
    """
    scores = item_scores(frame, instrument, wave)
    out = {}
    for scale_id, scale in instrument.scales.items():
        if not scale.items or not all(i in scores.columns for i in scale.items):
            continue
        block = scores[list(scale.items)]
        needed = math.ceil(min_fraction * len(scale.items) - 1e-9)
        answered = block.notna().sum(axis=1)
        out[scale_id] = block.mean(axis=1).where(answered >= needed)
    return pd.DataFrame(out, index=frame.index)


def knowledge_correct(frame: pd.DataFrame, instrument: Instrument, wave: str) -> pd.DataFrame:
    """1.0 for a correct answer, 0.0 for a wrong or skipped one, per knowledge question.

    Respondents who answered none of the questions get missing values throughout.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.scoring import knowledge_correct
    >>> inst = load_instrument(default_instrument_path())
    >>> q = next(it for it in inst.items if it.type == "knowledge")
    >>> df = pd.DataFrame({q.id: [q.correct, "zz", None]})
    >>> knowledge_correct(df, inst, "pre")[q.id].tolist()
    [1.0, 0.0, nan]
    """
    questions = [it for it in instrument.items_for_wave(wave) if it.type == "knowledge"]
    out = {}
    answered_any = pd.Series(False, index=frame.index)
    for q in questions:
        if q.id in frame.columns:
            col = frame[q.id].astype("string")
            answered_any |= col.notna().to_numpy()
            out[q.id] = (col == q.correct).fillna(False).astype(float)
        else:
            out[q.id] = pd.Series(0.0, index=frame.index)
    result = pd.DataFrame(out, index=frame.index)
    return result.where(answered_any, np.nan)


def knowledge_scores(frame: pd.DataFrame, instrument: Instrument, wave: str) -> pd.Series:
    """Percent of knowledge questions answered correctly (0-100), per respondent.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.scoring import knowledge_scores
    >>> inst = load_instrument(default_instrument_path())
    >>> qs = [it for it in inst.items if it.type == "knowledge"]
    >>> df = pd.DataFrame({q.id: [q.correct] for q in qs[:5]})
    >>> float(knowledge_scores(df, inst, "pre").iloc[0]) == 100 * 5 / len(qs)
    True
    """
    correct = knowledge_correct(frame, instrument, wave)
    if correct.shape[1] == 0:
        return pd.Series(np.nan, index=frame.index, name="knowledge")
    return (100.0 * correct.mean(axis=1)).rename("knowledge")


def domain_scores(
    frame: pd.DataFrame, instrument: Instrument, wave: str, domain: str = "readiness"
) -> pd.Series:
    """Mean of a respondent's scale scores within ``domain`` (e.g. overall readiness).

    Scales of the domain that cannot be scored in this wave are ignored; at least two thirds of
    the domain's scored scales must be present.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.scoring import domain_scores
    >>> inst = load_instrument(default_instrument_path())
    >>> items = [i for s in inst.scales.values() if s.domain == "readiness" for i in s.items]
    >>> df = pd.DataFrame({i: ["4"] for i in items})
    >>> # the reverse item scores 2, so its scale is 3.5: (3.5 + 4 * 4) / 5
    >>> domain_scores(df, inst, "pre").round(3).tolist()
    [3.9]
    """
    scales = scale_scores(frame, instrument, wave)
    ids = [s for s, sc in instrument.scales.items() if sc.domain == domain and s in scales]
    if not ids:
        return pd.Series(np.nan, index=frame.index, name=domain)
    block = scales[ids]
    needed = math.ceil(MIN_SCALE_FRACTION * len(ids) - 1e-9)
    return block.mean(axis=1).where(block.notna().sum(axis=1) >= needed).rename(domain)
