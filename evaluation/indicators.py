"""Results framework: indicators with baseline and target, computed from the survey waves.

A workshop's ``workshop.yaml`` may carry ``results_framework``: a mapping with an ``indicators:``
list, or the name of a YAML file inside the workshop folder holding such a mapping. Without it,
:func:`default_framework` gives the concept note's defaults. Each indicator has ``id``, ``label``
(``{en, ru}``), ``level`` (outcome, output, reaction, learning, behaviour), ``baseline`` (number or
null), ``target`` and ``measure``, one of :data:`MEASURES`:

``share_readiness_increased``
    Share of matched pre→post participants whose readiness index increased (Wilson CI).
``mean_change_scale``
    Mean matched change of ``scale`` (a scale id or ``readiness_index``) between ``waves``
    (default ``[pre, post]``), t interval.
``share_agree``
    Share answering 4 or 5 to ``item`` among those who answered on the scale (in ``wave``,
    default the last form wave asking it); Wilson CI.
``knowledge_gain``
    Hake's class-average normalized gain of matched pre→post knowledge scores; bootstrap
    percentile CI over participants.
``share_new_contact``
    Share of matched participants reporting more regional contacts (``coop_contacts``) at
    ``waves[1]`` than at ``waves[0]`` (default pre→post); Wilson CI.
``share_followup_applied``
    Share of follow-up respondents who applied what they learned (``fu_applied`` several or once)
    or used the materials (``fu_materials`` yes); Wilson CI.
``participation_vs_plan``
    ``by: country`` (default): share of the planned countries (``expected.countries``) whose
    respondents reach ``expected.per_country``; ``by: total``: respondents divided by
    ``expected.participants``;
    ``by: <role>`` with ``expected.<role>`` mapping codes to planned numbers: share of the planned
    categories reached. Respondents are counted in the larger of the pre and post waves. No CI
    (a count of the whole cohort, not a sample). The plan comes from ``expected`` in
    ``workshop.yaml``, else from the indicator's own ``expected`` (the defaults carry the concept
    note's plan: 30 participants, six from each of the five countries).

Status (:func:`indicator_status`): ``not measured`` when there is no value or fewer than
``k_min`` respondents (the value is then suppressed and a note says so); ``inconclusive`` when the
confidence interval strictly contains the target; otherwise ``met`` when the value reaches the
target (``direction: decrease`` reverses this) and ``not met`` when it does not.

A share of respondents (the ``share_*`` measures) that rests on, or leaves out, fewer than
``k_min`` people (or none, when zeros are disclosive) has its value and interval suppressed,
with a note, by the rule for a percentage in the report's tables: "88% of 26" would tell that 3
did not. Its status is still given: it rests on the whole cohort and says only on which side of
the target the interval lies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from evaluation import stats
from evaluation.analysis import (
    READINESS_INDEX,
    _paired_bootstrap,
    _Scores,
    effective_k_min,
    wave_frame,
)
from evaluation.disclosure import DisclosurePolicy, SdcLog, protect_statistics_table
from evaluation.errors import AnalysisError
from evaluation.instrument import Instrument

__all__ = [
    "INDICATOR_COLUMNS",
    "MEASURES",
    "LEVELS",
    "STATUSES",
    "default_framework",
    "load_framework",
    "indicator_status",
    "compute_indicators",
]

#: Columns of ``results/indicators.csv`` (DESIGN.md); the table adds a ``note`` column after them.
INDICATOR_COLUMNS = ("indicator_id", "label", "level", "baseline", "target", "value", "ci_low",
                     "ci_high", "n", "status")
MEASURES = ("share_readiness_increased", "mean_change_scale", "share_agree", "knowledge_gain",
            "share_new_contact", "share_followup_applied", "participation_vs_plan")
LEVELS = ("outcome", "output", "reaction", "learning", "behaviour")
STATUSES = ("met", "not met", "inconclusive", "not measured")
_APPLIED_YES = ("several", "once")

#: Measures that are a share of respondents: checked like a percentage of a table.
SHARE_MEASURES = ("share_readiness_increased", "share_agree", "share_new_contact",
                  "share_followup_applied")

_NOTES = {
    "suppressed": {"en": "suppressed: fewer than {k} respondents",
                   "ru": "скрыто: менее {k} респондентов"},
    "suppressed_share": {"en": "suppressed: fewer than {k} respondents gave one of the answers",
                         "ru": "скрыто: один из вариантов ответа выбрали менее {k} "
                               "респондентов"},
    "no_data": {"en": "not measured: no data ({what})", "ru": "не измерено: нет данных ({what})"},
    "no_plan": {"en": "not measured: no participation plan in workshop.yaml",
                "ru": "не измерено: в workshop.yaml нет плана участия"},
}


def default_framework() -> dict:
    """The concept note's indicators, with targets (EN and RU labels).

    Examples
    --------
    >>> fw = default_framework()
    >>> [(i["id"], i["target"]) for i in fw["indicators"]][:3]
    [('readiness_increased', 0.7), ('strategy_competence_change', 0.5), ('better_positioned', 0.8)]
    """
    return {"indicators": [
        {"id": "readiness_increased", "level": "outcome", "baseline": None, "target": 0.70,
         "measure": "share_readiness_increased",
         "label": {"en": "Share of participants whose readiness to design PVE/CT strategies "
                         "increased",
                   "ru": "Доля участников, у которых повысилась готовность к разработке "
                         "стратегий по ПНЭ и противодействию терроризму"}},
        {"id": "strategy_competence_change", "level": "learning", "baseline": None,
         "target": 0.5, "measure": "mean_change_scale", "scale": "strategy_competence",
         "label": {"en": "Mean change in competence to prepare, implement and monitor a national "
                         "strategy or action plan (1-5 scale)",
                   "ru": "Среднее изменение компетенций в подготовке, реализации и мониторинге "
                         "национальной стратегии или плана действий (шкала 1–5)"}},
        {"id": "better_positioned", "level": "outcome", "baseline": None, "target": 0.80,
         "measure": "share_agree", "item": "re_better_positioned",
         "label": {"en": "Share of participants who agree they are better positioned to design "
                         "a national strategy or action plan in line with UN standards",
                   "ru": "Доля участников, согласных с тем, что они лучше подготовлены к "
                         "разработке национальной стратегии или плана действий в соответствии "
                         "со стандартами ООН"}},
        {"id": "knowledge_gain", "level": "learning", "baseline": None, "target": 0.3,
         "measure": "knowledge_gain",
         "label": {"en": "Normalized knowledge gain (Hake)",
                   "ru": "Нормализованный прирост знаний (по Хейку)"}},
        {"id": "new_contact", "level": "outcome", "baseline": None, "target": 0.60,
         "measure": "share_new_contact",
         "label": {"en": "Share of participants with at least one new professional contact in "
                         "another Central Asian country",
                   "ru": "Доля участников, у которых появился хотя бы один новый "
                         "профессиональный контакт в другой стране Центральной Азии"}},
        {"id": "followup_applied", "level": "behaviour", "baseline": None, "target": 0.50,
         "measure": "share_followup_applied",
         "label": {"en": "Share of participants who applied what they learned or used the "
                         "materials (follow-up)",
                   "ru": "Доля участников, применивших полученные знания или использовавших "
                         "материалы (последующий опрос)"}},
        {"id": "participation_country", "level": "output", "baseline": None, "target": 1.0,
         "measure": "participation_vs_plan", "by": "country",
         "expected": {"per_country": 6, "countries": ["KZ", "KG", "TJ", "TM", "UZ"]},
         "label": {"en": "Share of countries represented as planned (six participants each)",
                   "ru": "Доля стран, представленных в соответствии с планом (по шесть "
                         "участников)"}},
        {"id": "participation_total", "level": "output", "baseline": None, "target": 1.0,
         "measure": "participation_vs_plan", "by": "total", "expected": {"participants": 30},
         "label": {"en": "Participants against plan", "ru": "Число участников по отношению к "
                                                            "плану"}},
    ]}


def load_framework(source: Any = None, folder: str | Path | None = None) -> dict:
    """Read and check a results framework (mapping, list, YAML path, or None for the default).

    Parameters
    ----------
    source : mapping, list, str, Path or None
        ``config.results_framework``: a mapping with ``indicators``, a bare list of indicators,
        or a YAML file (relative paths are read inside ``folder``).
    folder : str or Path, optional
        The workshop folder.

    Returns
    -------
    dict
        ``{"indicators": [...]}`` with every indicator checked.

    Raises
    ------
    AnalysisError
        One sentence naming the indicator and the key that is wrong.

    Examples
    --------
    >>> fw = load_framework({"indicators": [{"id": "x", "label": {"en": "X"}, "level": "outcome",
    ...                      "target": 0.5, "measure": "share_agree", "item": "re_relevance"}]})
    >>> fw["indicators"][0]["baseline"] is None
    True
    >>> load_framework([{"id": "y", "target": 1, "measure": "magic", "level": "outcome"}])
    Traceback (most recent call last):
    ...
    evaluation.errors.AnalysisError: Indicator 'y': measure must be one of ...
    """
    if source is None:
        return default_framework()
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_absolute() and folder is not None:
            path = Path(folder) / path
        try:
            source = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise AnalysisError(f"The results framework file {path.name!r} cannot be read: "
                                f"{exc.__class__.__name__}.") from None
    if isinstance(source, Mapping):
        indicators = source.get("indicators")
    else:
        indicators = source
    if not isinstance(indicators, list) or not indicators:
        raise AnalysisError("The results framework must give a non-empty list 'indicators'.")
    checked, seen = [], set()
    for raw in indicators:
        if not isinstance(raw, Mapping) or not raw.get("id"):
            raise AnalysisError("Every indicator of the results framework needs an 'id'.")
        ind = dict(raw)
        iid = str(ind["id"])
        if iid in seen:
            raise AnalysisError(f"Indicator {iid!r} is listed twice.")
        seen.add(iid)
        if ind.get("measure") not in MEASURES:
            raise AnalysisError(f"Indicator {iid!r}: measure must be one of "
                                f"{', '.join(MEASURES)}.")
        if ind.get("level", "outcome") not in LEVELS:
            raise AnalysisError(f"Indicator {iid!r}: level must be one of {', '.join(LEVELS)}.")
        for key in ("target", "baseline"):
            value = ind.get(key)
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, int | float)):
                raise AnalysisError(f"Indicator {iid!r}: {key} must be a number.")
        if ind.get("target") is None:
            raise AnalysisError(f"Indicator {iid!r}: target is missing.")
        if ind["measure"] == "mean_change_scale" and not ind.get("scale"):
            raise AnalysisError(f"Indicator {iid!r}: mean_change_scale needs 'scale'.")
        if ind["measure"] == "share_agree" and not ind.get("item"):
            raise AnalysisError(f"Indicator {iid!r}: share_agree needs 'item'.")
        if ind.get("direction", "increase") not in ("increase", "decrease"):
            raise AnalysisError(f"Indicator {iid!r}: direction must be increase or decrease.")
        label = ind.get("label") or {"en": iid}
        ind["label"] = {"en": label} if isinstance(label, str) else dict(label)
        ind.setdefault("level", "outcome")
        ind.setdefault("baseline", None)
        checked.append(ind)
    return {"indicators": checked}


def indicator_status(value: float, ci_low: float, ci_high: float, target: float, n: float,
                     k_min: int = 5, direction: str = "increase") -> str:
    """Status of one indicator against its target.

    Examples
    --------
    >>> indicator_status(0.85, 0.72, 0.93, 0.70, 28)
    'met'
    >>> indicator_status(0.75, 0.55, 0.88, 0.70, 28)
    'inconclusive'
    >>> indicator_status(0.40, 0.25, 0.57, 0.70, 28), indicator_status(0.9, 0.7, 1, 0.7, 4)
    ('not met', 'not measured')
    """
    if value is None or n is None or pd.isna(value) or pd.isna(n) or n < k_min:
        return "not measured"
    if not (pd.isna(ci_low) or pd.isna(ci_high)) and ci_low < target < ci_high:
        return "inconclusive"
    reached = value >= target if direction == "increase" else value <= target
    return "met" if reached else "not met"


# --------------------------------------------------------------------------------------------
# Measures: each returns (value, ci_low, ci_high, n, note_key, note_what)
# --------------------------------------------------------------------------------------------

_NAN = math.nan


def _share(successes: int, n: int) -> tuple[float, float, float, int]:
    ci = stats.wilson_ci(int(successes), int(n))
    return ci.proportion, ci.ci_low, ci.ci_high, int(n)


def _scale(scores: _Scores, wave: str, scale: str) -> pd.Series:
    if scale == READINESS_INDEX:
        return scores.index(wave)
    values = scores.scales(wave)
    if scale not in values:
        return pd.Series(_NAN, index=wave_frame(scores.waves, wave).index)
    return values[scale]


def _paired_values(scores: _Scores, a: str, b: str, getter) -> tuple[np.ndarray, np.ndarray]:
    if wave_frame(scores.waves, a) is None or wave_frame(scores.waves, b) is None:
        return np.array([]), np.array([])
    pr = scores.pairs(a, b)
    xa = getter(a).loc[list(pr["record_a"])].to_numpy(dtype=float)
    xb = getter(b).loc[list(pr["record_b"])].to_numpy(dtype=float)
    ok = ~np.isnan(xa) & ~np.isnan(xb)
    return xa[ok], xb[ok]


def _measure(ind: Mapping, scores: _Scores, config: Any, n_resamples: int, seed: int) -> tuple:
    """``(value, ci_low, ci_high, n, note_key, note_what)`` of one indicator."""
    waves, inst = scores.waves, scores.inst
    m = ind["measure"]
    if m == "share_readiness_increased":
        xa, xb = _paired_values(scores, "pre", "post", scores.index)
        if xa.size == 0:
            return (_NAN, _NAN, _NAN, 0, "no_data", "pre/post readiness")
        return (*_share(int((xb > xa).sum()), xa.size), None, None)
    if m == "mean_change_scale":
        a, b = (list(ind.get("waves") or ["pre", "post"]) + ["post"])[:2]
        scale = str(ind["scale"])
        if scale != READINESS_INDEX and scale not in inst.scales:
            raise AnalysisError(f"Indicator {ind['id']!r}: the instrument has no scale "
                                f"{scale!r}.")
        xa, xb = _paired_values(scores, a, b, lambda w: _scale(scores, w, scale))
        if xa.size == 0:
            return (_NAN, _NAN, _NAN, 0, "no_data", f"{a}/{b} {scale}")
        res = stats.paired_t(xb, xa)
        value = res.mean_diff if xa.size >= 2 else float(np.mean(xb - xa))
        return (value, res.ci_low, res.ci_high, int(xa.size), None, None)
    if m == "share_agree":
        item_id = str(ind["item"])
        if not inst.has_item(item_id):
            raise AnalysisError(f"Indicator {ind['id']!r}: the instrument has no item "
                                f"{item_id!r}.")
        item = inst.item(item_id)
        wave = ind.get("wave") or next((w for w in ("followup", "post", "pre")
                                        if item.asked_in(w)), "post")
        frame = wave_frame(waves, wave)
        if frame is None or item_id not in frame.columns:
            return (_NAN, _NAN, _NAN, 0, "no_data", f"{item_id}, {wave}")
        answers = scores.items(wave)[item_id].dropna()
        points = inst.choice_lists[item.choices].score_range or (1, 5)
        agree_from = points[1] - 1
        return (*_share(int((answers >= agree_from).sum()), int(answers.size)), None, None)
    if m == "knowledge_gain":
        xa, xb = _paired_values(scores, "pre", "post", scores.knowledge)
        if xa.size == 0:
            return (_NAN, _NAN, _NAN, 0, "no_data", "pre/post knowledge")
        gain = stats.normalized_gain(xa, xb, 100)

        def func(idx: np.ndarray) -> np.ndarray:
            mpre, mpost = xa[idx].mean(axis=-1), xb[idx].mean(axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(mpre < 100, (mpost - mpre) / (100 - mpre), np.nan)

        lo, hi = _paired_bootstrap(func, xa.size, n_resamples, seed)
        return (gain, lo, hi, int(xa.size), None, None)
    if m == "share_new_contact":
        a, b = (list(ind.get("waves") or ["pre", "post"]) + ["post"])[:2]

        def contacts(w: str) -> pd.Series:
            frame = waves[w]
            if "coop_contacts" not in frame.columns:
                return pd.Series(_NAN, index=frame.index)
            return pd.to_numeric(frame["coop_contacts"], errors="coerce")

        if a not in waves or b not in waves:
            return (_NAN, _NAN, _NAN, 0, "no_data", f"{a}/{b} coop_contacts")
        xa, xb = _paired_values(scores, a, b, contacts)
        if xa.size == 0:
            return (_NAN, _NAN, _NAN, 0, "no_data", f"{a}/{b} coop_contacts")
        return (*_share(int((xb > xa).sum()), xa.size), None, None)
    if m == "share_followup_applied":
        fu = waves.get("followup")
        if fu is None:
            return (_NAN, _NAN, _NAN, 0, "no_data", "followup")
        applied = fu["fu_applied"].astype("string") if "fu_applied" in fu else pd.Series(
            pd.NA, index=fu.index, dtype="string")
        mats = fu["fu_materials"].astype("string") if "fu_materials" in fu else pd.Series(
            pd.NA, index=fu.index, dtype="string")
        answered = (applied.notna() | mats.notna()).to_numpy()
        yes = (applied.isin(list(_APPLIED_YES)).fillna(False)
               | (mats == "Y").fillna(False)).to_numpy() & answered
        if not answered.any():
            return (_NAN, _NAN, _NAN, 0, "no_data", "fu_applied, fu_materials")
        return (*_share(int(yes.sum()), int(answered.sum())), None, None)
    if m == "participation_vs_plan":
        return _participation(ind, waves, inst, config)
    raise AnalysisError(f"Unknown measure {m!r}.")  # pragma: no cover (checked on load)


def _participation(ind: Mapping, waves, inst: Instrument, config: Any) -> tuple:
    expected = dict(getattr(config, "expected", None) or ind.get("expected") or {})
    by = str(ind.get("by", "country"))
    present = [waves[w] for w in ("pre", "post") if w in waves]
    if not present:
        return (_NAN, _NAN, _NAN, 0, "no_data", "pre/post")
    n_total = max(len(f) for f in present)
    if by == "total":
        plan = expected.get("participants")
        if not plan:
            return (_NAN, _NAN, _NAN, n_total, "no_plan", None)
        return (n_total / float(plan), _NAN, _NAN, n_total, None, None)
    if by == "country":
        per = expected.get("per_country")
        plan = {str(c): per for c in expected.get("countries") or []} if per else {}
    else:
        plan = {str(c): v for c, v in dict(expected.get(by) or {}).items()}
    item = inst.item_by_role(by)
    if not plan or item is None:
        return (_NAN, _NAN, _NAN, n_total, "no_plan", None)
    counts = {}
    for code in plan:
        counts[code] = max(int((f[item.id].astype("string") == code).sum())
                           if item.id in f.columns else 0 for f in present)
    reached = sum(counts[c] >= float(plan[c]) for c in plan)
    return (reached / len(plan), _NAN, _NAN, n_total, None, None)


def _small_share(share: float, n: int, policy: DisclosurePolicy) -> bool:
    """Whether ``share`` of ``n`` rests on, or leaves out, a disclosive number of people.

    The rule of a single percentage column in a table (:mod:`evaluation.disclosure`): between 1
    and ``k_min - 1`` people, or none when zeros are disclosive.

    Examples
    --------
    >>> from evaluation.disclosure import DisclosurePolicy
    >>> policy = DisclosurePolicy(k_min=5)
    >>> _small_share(23 / 26, 26, policy), _small_share(21 / 26, 26, policy)
    (True, False)
    >>> lenient = DisclosurePolicy(k_min=5, zeros_are_disclosive=False)
    >>> _small_share(1.0, 26, policy), _small_share(1.0, 26, lenient)
    (True, False)
    """
    if share != share:
        return False
    yes = round(share * n)
    return policy.is_disclosive(yes) or policy.is_disclosive(n - yes)


def compute_indicators(
    waves: Mapping[str, pd.DataFrame],
    instrument: Instrument,
    config: Any = None,
    framework: Any = None,
    k_min: int = 5,
    language: str = "en",
    n_resamples: int = 2000,
    seed: int = 0,
    log: SdcLog | None = None,
) -> pd.DataFrame:
    """The indicators table: DESIGN.md columns plus ``note``.

    Parameters
    ----------
    waves : mapping of str to DataFrame
        The waves as ingest produces them (see :func:`evaluation.analysis.analyze_workshop`).
    instrument : Instrument
    config : WorkshopConfig, optional
        ``results_framework`` (used when ``framework`` is None), ``expected`` and
        ``privacy.k_min``.
    framework : mapping, list, path or None
        Overrides the configuration's framework; None and no configured framework give
        :func:`default_framework`.
    k_min : int
        Disclosure threshold; the stricter of it and ``config.privacy.k_min`` is used.
    language : {"en", "ru"}
        Language of ``label`` and ``note``.
    n_resamples, seed : int
        Bootstrap settings (knowledge gain).
    log : SdcLog, optional
        Receives the suppressed cells.

    Returns
    -------
    DataFrame
        Shares are proportions (0-1), changes are in scale points. An indicator resting on fewer
        than ``k_min`` respondents has value, interval and n missing and status
        ``not measured``.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> inst = load_instrument(default_instrument_path())
    >>> post = pd.DataFrame({"re_better_positioned": list("5454544" + "23321")})
    >>> fw = [{"id": "bp", "label": {"en": "Better positioned"}, "level": "outcome",
    ...        "target": 0.8, "measure": "share_agree", "item": "re_better_positioned"}]
    >>> tab = compute_indicators({"post": post}, inst, framework=fw)
    >>> tab[["indicator_id", "value", "n", "status"]]
      indicator_id     value   n        status
    0           bp  0.583333  12  inconclusive
    """
    k = effective_k_min(k_min, config)
    lang = "ru" if language == "ru" else "en"
    if framework is None and config is not None:
        framework = getattr(config, "results_framework", None)
    fw = load_framework(framework, getattr(config, "folder", None))
    waves = {w: f for w, f in waves.items() if f is not None}
    scores = _Scores(waves, instrument)
    policy = DisclosurePolicy(k_min=k, reliability_n=max(30, k))
    rows = []
    for ind in fw["indicators"]:
        value, lo, hi, n, note_key, what = _measure(ind, scores, config, n_resamples, seed)
        # the status rests on the whole cohort; it does not reveal the small group
        status = indicator_status(value, lo, hi, ind["target"], n, k,
                                  ind.get("direction", "increase"))
        if note_key is None and ind["measure"] in SHARE_MEASURES and n >= k \
                and _small_share(value, n, policy):
            value, lo, hi, note_key = _NAN, _NAN, _NAN, "suppressed_share"
        note = ""
        if note_key is not None:
            note = _NOTES[note_key][lang].format(k=k, what=what)
        elif n < k:
            note = _NOTES["suppressed"][lang].format(k=k)
        label = ind["label"].get(lang) or ind["label"].get("en") or ind["id"]
        rows.append({"indicator_id": str(ind["id"]), "label": label, "level": ind["level"],
                     "baseline": ind.get("baseline"), "target": float(ind["target"]),
                     "value": value, "ci_low": lo, "ci_high": hi, "n": int(n),
                     "status": status, "note": note})
    table = pd.DataFrame(rows, columns=[*INDICATOR_COLUMNS, "note"])
    table["baseline"] = pd.to_numeric(table["baseline"], errors="coerce").astype(float)
    # Disclosure control: an indicator resting on fewer than k respondents is not published.
    pt = protect_statistics_table(
        table.set_index("indicator_id", drop=False), "n", ["value", "ci_low", "ci_high"],
        policy, log, "indicators",
    )
    out = pt.numeric.reset_index(drop=True)[[*INDICATOR_COLUMNS, "note"]]
    no_data = table["n"].to_numpy() == 0
    out["n"] = pd.to_numeric(out["n"], errors="coerce").astype("Int64")
    out.loc[no_data, "n"] = 0
    for c in ("value", "ci_low", "ci_high"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out
