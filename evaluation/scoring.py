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


def _answer_text(frame: pd.DataFrame, columns: list[str]) -> tuple[list[int], pd.Series]:
    """The answers of the ``columns`` present in ``frame`` as text, one column after another.

    Returns the positions (in ``columns``) of the present columns and their answers as one
    ``string`` Series (missing answers NA), each answer as its column's ``astype("string")``
    would write it.
    """
    present = [j for j, column in enumerate(columns) if column in frame.columns]
    answers = frame[[columns[j] for j in present]]
    if not all(dtype == np.dtype(object) for dtype in answers.dtypes):
        # Numbers (and other typed columns) become text as their own dtype writes them.
        answers = answers.astype("string")
    flat = answers.to_numpy(dtype=object, na_value=None).T.ravel()
    return present, pd.Series(flat, dtype=object).astype("string")


def _answer_numbers(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The answers of ``columns`` as numbers: one row per column, NaN where not a number.

    The answers' text is parsed by :func:`pandas.to_numeric`, all columns in one call; a column
    absent from ``frame`` is all-missing.
    """
    numbers = np.full((len(columns), len(frame)), np.nan)
    present, text = _answer_text(frame, columns)
    if present:
        parsed = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        numbers[present] = parsed.reshape(len(present), len(frame))
    return numbers


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
    likert = _likert_items(instrument, wave)
    columns = wave_columns(instrument, wave, likert)
    items = [it for it in likert if it.id in columns]
    ranges = [instrument.choice_lists[it.choices].score_range or (1, 5) for it in items]
    low = np.array([r[0] for r in ranges], dtype=float)[:, None]
    high = np.array([r[1] for r in ranges], dtype=float)[:, None]
    scores = _answer_numbers(frame, list(columns.values()))
    scores = np.where((scores >= low) & (scores <= high), scores, np.nan)
    reverse = np.array([it.reverse for it in items], dtype=bool)
    scores[reverse] = (low + high)[reverse] - scores[reverse]
    return pd.DataFrame(dict(zip(columns, scores, strict=True)), index=frame.index)


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
    *,
    items: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Scale scores: the mean of answered items when at least ``min_fraction`` are answered.

    Only scales whose items are all asked in ``wave`` are scored.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent, as for :func:`item_scores`.
    instrument : Instrument
    wave : {"pre", "post", "followup", "retro"}
    min_fraction : float
        Share of a scale's items that must be answered.
    items : DataFrame, optional
        ``item_scores(frame, instrument, wave)`` when the caller has it already (it is then
        not computed again).

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> from evaluation.scoring import item_scores, scale_scores
    >>> inst = load_instrument(default_instrument_path())
    >>> items = inst.scales["design_confidence"].items
    >>> df = pd.DataFrame({items[0]: ["4", "4"], items[1]: ["5", "dk"], items[2]: ["3", None]})
    >>> scale_scores(df, inst, "pre")["design_confidence"].round(2).tolist()
    [4.0, nan]
    >>> scores = item_scores(df, inst, "pre")
    >>> scale_scores(df, inst, "pre", items=scores).equals(scale_scores(df, inst, "pre"))
    True
    """
    scores = items if items is not None else item_scores(frame, instrument, wave)
    answered = scores.notna().to_numpy()
    position = {item_id: j for j, item_id in enumerate(scores.columns)}
    out = {}
    for scale_id, scale in instrument.scales.items():
        if not scale.items or not all(i in position for i in scale.items):
            continue
        needed = math.ceil(min_fraction * len(scale.items) - 1e-9)
        columns = [position[i] for i in scale.items]
        n_answered = answered[:, columns].sum(axis=1)
        mean = scores.iloc[:, columns].mean(axis=1).to_numpy()
        out[scale_id] = np.where(n_answered >= needed, mean, np.nan)
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
    correct = np.zeros((len(questions), len(frame)))
    present, text = _answer_text(frame, [q.id for q in questions])
    if present:
        keys = np.repeat([questions[j].correct for j in present], len(frame))
        matches = (text == keys).fillna(False).to_numpy(dtype=bool)
        correct[present] = matches.reshape(len(present), len(frame))
        answered_any = text.notna().to_numpy().reshape(len(present), len(frame)).any(axis=0)
        correct[:, ~answered_any] = np.nan
    else:
        correct[:] = np.nan
    return pd.DataFrame(dict(zip([q.id for q in questions], correct, strict=True)),
                        index=frame.index)


def knowledge_scores(
    frame: pd.DataFrame,
    instrument: Instrument,
    wave: str,
    *,
    correct: pd.DataFrame | None = None,
) -> pd.Series:
    """Percent of knowledge questions answered correctly (0-100), per respondent.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent, as for :func:`knowledge_correct`.
    instrument : Instrument
    wave : {"pre", "post", "followup"}
    correct : DataFrame, optional
        ``knowledge_correct(frame, instrument, wave)`` when the caller has it already (it is
        then not computed again).

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
    if correct is None:
        correct = knowledge_correct(frame, instrument, wave)
    if correct.shape[1] == 0:
        return pd.Series(np.nan, index=frame.index, name="knowledge")
    return (100.0 * correct.mean(axis=1)).rename("knowledge")


def domain_scores(
    frame: pd.DataFrame,
    instrument: Instrument,
    wave: str,
    domain: str = "readiness",
    *,
    scales: pd.DataFrame | None = None,
) -> pd.Series:
    """Mean of a respondent's scale scores within ``domain`` (e.g. overall readiness).

    Scales of the domain that cannot be scored in this wave are ignored; at least two thirds of
    the domain's scored scales must be present.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent, as for :func:`item_scores`.
    instrument : Instrument
    wave : {"pre", "post", "followup", "retro"}
    domain : str
        The scales' ``domain``.
    scales : DataFrame, optional
        ``scale_scores(frame, instrument, wave)`` when the caller has it already (it is then
        not computed again).

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
    if scales is None:
        scales = scale_scores(frame, instrument, wave)
    ids = [s for s, sc in instrument.scales.items() if sc.domain == domain and s in scales]
    if not ids:
        return pd.Series(np.nan, index=frame.index, name=domain)
    block = scales[ids]
    needed = math.ceil(MIN_SCALE_FRACTION * len(ids) - 1e-9)
    return block.mean(axis=1).where(block.notna().sum(axis=1) >= needed).rename(domain)
