"""The workshop outcome report: prepare every published table, then show it section by section.

The notebook ``notebooks/workshop_report.ipynb`` is thin: it calls :meth:`WorkshopReport.prepare`
and then one ``show_*`` method per section. :func:`run_report` executes that notebook with
papermill and renders HTML and an A4 PDF (``evaluate report``).

Everything shown comes from tables that passed disclosure control; respondent text is escaped
before it is put into HTML.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import platform
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation import __version__
from evaluation.analysis import WorkshopAnalysis, analyze_folder
from evaluation.findings import findings, limitations
from evaluation.i18n import (
    COLUMNS,
    column_label,
    fmt_date_range,
    fmt_number,
    fmt_percent,
    localize_cell,
    t,
    t_code,
)
from evaluation.indicators import load_framework
from evaluation.ingest import IngestResult, write_ingest_outputs
from evaluation.outputs import (
    atomic_write_csv,
    atomic_write_json,
    library_versions,
    replace_directory,
)
from evaluation.render import table_html
from evaluation.xlsx import round_floats, write_tables

__all__ = ["DESIGN_COLUMNS", "TEMPLATE", "WorkshopReport", "group_label", "id_labels",
           "knowledge_frame", "localize_table", "methods_table", "participation_counts",
           "reaction_shares", "item_shares", "run_report", "wave_summary"]

TEMPLATE = Path(__file__).resolve().parent.parent / "notebooks" / "workshop_report.ipynb"

DESIGN_COLUMNS = {
    "items": ["item_id", "scale_id", "wave_a", "wave_b", "n_pairs", "mean_a", "mean_b",
              "mean_change", "mean_change_ci_low", "mean_change_ci_high", "wilcoxon_v",
              "p_value", "p_holm", "rank_biserial", "rank_biserial_ci_low",
              "rank_biserial_ci_high", "pct_improved", "pct_unchanged", "pct_declined",
              "suppressed"],
    "scales": ["scale_id", "wave_a", "wave_b", "n_items", "n_pairs", "alpha_a", "alpha_b",
               "mean_a", "mean_b", "mean_change", "mean_change_ci_low", "mean_change_ci_high",
               "t", "df", "p_value", "cohen_dz", "cohen_dz_ci_low", "cohen_dz_ci_high",
               "suppressed"],
    "indicators": ["indicator_id", "label", "level", "baseline", "target", "value", "ci_low",
                   "ci_high", "n", "status"],
}
_LIBRARIES = ("numpy", "pandas", "scipy", "matplotlib", "papermill", "nbconvert", "weasyprint",
              "openpyxl", "pyarrow")


def _display_html(fragment: str) -> None:
    from IPython.display import HTML, display

    display(HTML(fragment))


@dataclass
class WorkshopReport:
    """All published numbers of one workshop report, and their presentation.

    Use :meth:`prepare`; every ``show_*`` method displays one section in the notebook.
    """

    ingest: IngestResult
    analysis: WorkshopAnalysis
    indicators: pd.DataFrame
    language: str
    output_dir: Path
    k_min: int
    seed: int
    findings: list[str] = field(default_factory=list)
    limitations: list[str] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def prepare(
        cls,
        workshop_dir: str | Path,
        output_dir: str | Path,
        language: str = "en",
        k_min: int | None = None,
        seed: int = 20180521,
        n_resamples: int = 2000,
        write: bool = True,
    ) -> WorkshopReport:
        """Ingest, analyse and write ``results/``, ``annex.xlsx`` and ``provenance.json``.

        Parameters
        ----------
        workshop_dir : str or Path
            The workshop folder holding ``workshop.yaml``.
        output_dir : str or Path
            ``reports/<workshop-id>``.
        language : {"en", "ru"}
        k_min : int, optional
            Suppression threshold; default from ``workshop.yaml`` (never below 3).
        seed, n_resamples : int
            Bootstrap settings (results are identical for the same inputs and seed).
        write : bool
            Write the result files (False for a dry look in a notebook).
        """
        started = time.time()
        ingest, analysis, indicators, k = analyze_folder(workshop_dir, k_min, n_resamples, seed,
                                                         language)
        report = cls(
            ingest=ingest,
            analysis=analysis,
            indicators=indicators,
            language=language,
            output_dir=Path(output_dir),
            k_min=k,
            seed=seed,
            findings=findings(analysis, indicators, language=language, k_min=k),
            limitations=limitations(analysis, language=language),
        )
        report.provenance = report._provenance(n_resamples, started)
        if write:
            report.write_results()
        return report

    def _provenance(self, n_resamples: int, started: float) -> dict:
        cfg = self.ingest.config
        return {
            "workshop_id": cfg.id,
            "synthetic": cfg.synthetic,
            "inputs": [{"wave": f["wave"], "file": f["file"], "sha256": f["sha256"]}
                       for f in self.ingest.report["files"]],
            "instrument": {"id": self.ingest.instrument.id,
                           "version": self.ingest.instrument.version},
            "toolkit_version": __version__,
            "parameters": {"language": self.language, "k_min": self.k_min, "seed": self.seed,
                           "n_resamples": n_resamples},
            "random_seed": self.seed,
            "python": platform.python_version(),
            "libraries": library_versions(_LIBRARIES),
            "time_of_run": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(
                timespec="seconds"),
            "pseudonym_key": "demo key (synthetic data)" if cfg.privacy.demo_key else
            f"from {cfg.privacy.key_env} or a key file (never stored)",
        }

    def _indicators_in_english(self) -> pd.DataFrame:
        """The indicators with English labels: ``results/`` does not depend on the language."""
        cfg = self.ingest.config
        framework = load_framework(cfg.results_framework, cfg.folder)
        english = {str(ind["id"]): ind["label"].get("en") or str(ind["id"])
                   for ind in framework["indicators"]}
        out = self.indicators.copy()
        out["label"] = [english.get(i, label) for i, label in
                        zip(out["indicator_id"], out["label"], strict=True)]
        return out

    def results_tables(self) -> dict[str, pd.DataFrame]:
        """The tables written to ``results/`` (suppressed values empty)."""
        a = self.analysis
        tables = {
            "items": a.items[DESIGN_COLUMNS["items"]],
            "scales": a.scales[DESIGN_COLUMNS["scales"]],
            "indicators": self._indicators_in_english()[DESIGN_COLUMNS["indicators"]],
            "participation": a.participation,
        }
        for name in ("unpaired", "reliability", "knowledge", "reaction", "followup",
                     "cooperation", "disaggregation", "distributions", "matching_bias"):
            tables[name] = getattr(a, name)
        return tables

    def write_results(self) -> None:
        """Write ``results/*.csv``, ``results/provenance.json``, ``annex.xlsx`` and ingest files."""
        out = self.output_dir
        tables = self.results_tables()

        def build(folder: Path) -> None:
            for name, frame in tables.items():
                atomic_write_csv(folder / f"{name}.csv", round_floats(frame))
            atomic_write_json(folder / "provenance.json", self.provenance)

        # all of results/ is swapped in at once: a reader sees the old set or the new one
        replace_directory(out / "results", build)
        write_ingest_outputs(self.ingest, ingest_dir=out / "ingest")
        shown = {}
        for name, frame in tables.items():
            display = self.analysis.display.get(name)
            shown[name] = exact_where_shown(display, round_floats(frame)) \
                if display is not None and len(display) == len(frame) else frame
        write_tables(shown, out / "annex.xlsx")

    # ---- presentation ------------------------------------------------------------------------
    def _h(self, key: str, level: int = 1) -> str:
        return f"<h{level}>{html.escape(t(key, self.language))}</h{level}>"

    def _note(self) -> str:
        note = t("suppressed_note", self.language, k=self.k_min)
        return f"<p class='note'>{html.escape(note)}</p>"

    def _table(self, frame: pd.DataFrame, caption: str | None = None,
               digits: int = 2) -> str:
        return table_html(localize_table(frame, self.language,
                                          labels=self._labels(), digits=digits), caption)

    def _shown(self, name: str) -> pd.DataFrame:
        """The display table ``name`` (suppressed), with exact p-values and intervals."""
        numbers = getattr(self.analysis, name)
        shown = self.analysis.display.get(name, numbers)
        return exact_where_shown(shown, numbers,
                                 lambda col: _formatted_here(col, list(shown.columns)))

    def _reverse_note(self) -> str:
        """How reverse-worded items are scored, when the instrument has any."""
        if not any(reverse_mark(it) for it in self.ingest.instrument.items):
            return ""
        return f"<p class='note'>{html.escape(t('reverse_note', self.language))}</p>"

    def _labels(self) -> dict[str, str]:
        if not hasattr(self, "_label_cache"):
            self._label_cache = id_labels(self.ingest.instrument, self.language)
        return self._label_cache

    def show_cover(self) -> None:
        """Title page: workshop, dates, place, project and phase, evaluator; synthetic banner."""
        cfg, lg = self.ingest.config, self.language
        rows = [
            (t("dates", lg), fmt_date_range(cfg.start_date, cfg.end_date, lg)),
            (t("place", lg), cfg.text("location", lg)),
            (t("project", lg), cfg.project),
            (t("phase", lg), cfg.phase),
            (t("evaluator", lg), cfg.evaluator),
            (t("instrument", lg), self.ingest.instrument.label),
        ]
        items = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                        for k, v in rows)
        banner = (f'<p class="synthetic-notice"><strong>{html.escape(t("synthetic_banner", lg))}'
                  "</strong></p>" if cfg.synthetic else "")
        # a section of its own: the HTML export puts it on the first page, before the contents
        # (where the page's own title and synthetic-data banner stand in for these two)
        _display_html(
            "<section class='report-cover'><h1 class='no-toc cover-title'>"
            f"{html.escape(t('report_title', lg))}: {html.escape(cfg.text('title', lg))}</h1>"
            f"{banner}<table class='cover'>{items}</table></section>"
        )

    def show_executive_summary(self) -> None:
        """Headline indicators with status, 3-6 findings with n, response and match rates."""
        lg = self.language
        parts = [self._h("executive_summary"), self._h("headline_indicators", 2),
                 table_html(self._indicator_display()), self._indicator_notes()]
        parts.append(self._h("key_findings", 2))
        parts.append("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in self.findings[:6])
                     + "</ul>")
        m = self.ingest.report["matching"]
        parts.append(f"<p>{html.escape(_response_sentence(m, lg))}</p>")
        _display_html("".join(parts))
        self._show_figure("indicators")

    def _indicator_notes(self) -> str:
        """Why an indicator has no value (suppressed, no data, no plan), under the table."""
        ind = self.indicators
        if "note" not in ind.columns:
            return ""
        notes = []
        for label, note, status in zip(ind["label"], ind["note"], ind["status"], strict=True):
            if not isinstance(note, str) or not note:
                continue
            if status in ("met", "not met", "inconclusive"):
                note = f"{note}; {t('status_on_all', self.language)}"
            notes.append(f"<li>{html.escape(str(label))}: {html.escape(note)}.</li>")
        return f"<ul class='note'>{''.join(notes)}</ul>" if notes else ""

    def _indicator_display(self) -> pd.DataFrame:
        lg = self.language
        ind = self.indicators
        columns = {"indicator": ind["label"]}
        if ind["baseline"].notna().any():  # the framework gives baselines: show them
            columns["baseline"] = _fmt_ind_column(ind, "baseline", lg)
        out = pd.DataFrame({
            **columns,
            "target": _fmt_ind_column(ind, "target", lg),
            "value": _fmt_ind_column(ind, "value", lg),
            "ci": [f"{_fmt_ind(lo, i, lg)}\u00a0–\u00a0{_fmt_ind(hi, i, lg)}" if lo == lo else "–"
                   for lo, hi, i in zip(ind["ci_low"], ind["ci_high"], ind["indicator_id"],
                                        strict=True)],
            "n": [f"<{self.k_min}" if (n != n or n < self.k_min) else str(int(n))
                  for n in ind["n"]],
            "status": [t(f"status_{s}", lg) for s in ind["status"]],
        })
        out.columns = [column_label(c, lg) for c in out.columns]
        return out

    def show_workshop(self) -> None:
        """The workshop and its expected outcomes (the results-framework rows, as labels)."""
        lg = self.language
        ind = self.indicators
        frame = pd.DataFrame({
            "label": ind["label"],
            "level": [t(f"level_{level}", lg) for level in ind["level"]],
            "baseline": _fmt_ind_column(ind, "baseline", lg),
            "target": _fmt_ind_column(ind, "target", lg),
        })
        cfg = self.ingest.config
        intro = cfg.raw.get("description") if isinstance(cfg.raw, Mapping) else None
        if isinstance(intro, Mapping):
            intro = intro.get(lg) or intro.get("en")
        _display_html(self._h("workshop_and_outcomes")
                      + (f"<p>{html.escape(str(intro))}</p>" if intro else "")
                      + self._table(frame))

    def show_methodology(self) -> None:
        """Instruments, languages, waves, response and match rates, tests, thresholds, SDC."""
        lg = self.language
        cfg = self.ingest.config
        languages = ", ".join(t_code("lang", x, lg)
                              for x in (getattr(cfg, "languages", None) or ("en",)))
        text = {
            "en": (
                f"Instrument {self.ingest.instrument.label}; {t('languages_word', lg).lower()} "
                f"of administration: {languages}. Changes are matched pairs (post minus pre) of "
                "participants linked by a self-generated code turned into a keyed pseudonym; "
                "raw codes are never stored."
            ),
            "ru": (
                f"Инструмент {self.ingest.instrument.label}; языки проведения опроса: "
                f"{languages}. Изменения рассчитаны по сопоставленным парам (после минус до) "
                "участников, связанных самостоятельно составленным кодом, заменённым ключевым "
                "псевдонимом; исходные коды не хранятся."
            ),
        }[lg if lg in ("en", "ru") else "en"]
        _display_html(
            self._h("methodology") + f"<p>{html.escape(text)}</p>"
            + self._table(wave_summary(self.analysis.participation, self.ingest.report, lg),
                          caption=t("waves_table", lg), digits=0)
            + table_html(methods_table(self.seed, self.k_min, lg),
                          caption=t("methods_table", lg))
        )

    def show_reaction(self) -> None:
        """Reaction per agenda part: diverging Likert charts and the reaction table."""
        lg = self.language
        a = self.analysis
        _display_html(self._h("findings") + self._h("reaction", 2))
        inst = self.ingest.instrument
        collapsed = getattr(a, "reaction_collapsed", None)
        two_categories = False
        published = dict(zip(a.reaction["item_id"], a.reaction["pct_agree"], strict=True)) \
            if "pct_agree" in a.reaction.columns else {}
        for list_id, shares in reaction_shares(collapsed, inst, lg, published).items():
            title = t("reaction_figure", lg, scale=_list_title(inst, list_id, lg))
            self._show_figure("likert", data=shares, title=title)
            two_categories |= shares.shape[1] == 2
        if two_categories:
            _display_html(f"<p class='note'>{html.escape(t('cat_other_note', lg, k=self.k_min))}"
                          "</p>")
        table = a.display.get("reaction", a.reaction)
        cols = [c for c in ("item_id", "n", "mean", "mean_ci_low", "mean_ci_high", "pct_agree")
                if c in table.columns]
        _display_html(self._table(table[cols]) + self._note())

    def show_learning(self) -> None:
        """Readiness scales before and after, with CIs; retrospective pretest and shift."""
        lg = self.language
        scales = self.analysis.display.get("scales", self.analysis.scales)
        pre_post = scales[(scales["wave_a"] == "pre") & (scales["wave_b"] == "post")]
        cols = ["scale_id", "n_pairs", "mean_a", "mean_b", "mean_change", "mean_change_ci_low",
                "mean_change_ci_high", "cohen_dz", "alpha_a", "alpha_b"]
        _display_html(self._h("learning", 2) + self._table(pre_post[cols]) + self._note())
        inst = self.ingest.instrument
        _display_html(self._reverse_note())
        self._show_figure("dumbbell")
        item_dist = getattr(self.analysis, "item_distributions", None)
        for scale_id, shares in item_shares(item_dist, inst, lg).items():
            title = t("items_figure", lg, scale=_short_labels([inst.scales[scale_id].label(lg)],
                                                              60)[0])
            self._show_figure("likert", data=shares, title=title)
        retro = scales[scales["wave_a"].isin(["retro"]) | scales["wave_b"].isin(["retro"])]
        if len(retro):
            _display_html(self._h("retro", 2) + self._table(
                retro[["scale_id", "wave_a", "wave_b", "n_pairs", "mean_a", "mean_b",
                       "mean_change", "mean_change_ci_low", "mean_change_ci_high"]]))

    def show_knowledge(self) -> None:
        """Knowledge test: percent correct per question (chart), McNemar, normalized gain."""
        _display_html(self._h("knowledge", 2))
        self._show_figure("knowledge")
        table = self._shown("knowledge").copy()
        numbers = self.analysis.knowledge.reset_index(drop=True)
        total = (table["item_id"] == "knowledge_total").to_numpy()
        for wave in ("pre", "post"):  # the total's "correct" is its mean score, in percent
            column = f"mean_score_{wave}"
            if column not in table.columns or len(numbers) != len(table):
                continue
            correct = table[f"pct_correct_{wave}"].to_numpy(dtype=object, copy=True)
            for pos in np.flatnonzero(total):
                shown = table[column].iloc[pos]
                if isinstance(shown, str) and shown not in ("–", "") and \
                        pd.notna(numbers[column].iloc[pos]):
                    score = float(numbers[column].iloc[pos])
                    correct[pos] = fmt_number(score, 0, self.language) + "%"
            table[f"pct_correct_{wave}"] = correct
        # the change of the total score and its gain are in the key findings and indicators;
        # per question they are not computed, so their columns would only hold dashes
        cols = [c for c in ("item_id", "n", "pct_correct_pre", "pct_correct_post",
                            "mcnemar_statistic", "p_value") if c in table.columns]
        _display_html(self._table(table[cols]) + self._note())

    def show_cooperation_and_application(self) -> None:
        """Regional cooperation and application at follow-up."""
        coop = self._shown("cooperation")
        parts = [self._h("cooperation", 2),
                 self._table(coop.drop(columns=[c for c in ("reliability",)
                                                if c in coop.columns]))]
        parts.append(self._h("application", 2))
        if "followup" in self.ingest.waves:
            fu = self._shown("followup").copy()
            if "measure" in fu.columns:  # a measure may join two items ("applied or used")
                fu["item_id"] = [t_code("measure", m, self.language) for m in fu["measure"]]
            parts.append(self._table(fu.drop(columns=[c for c in ("measure", "reliability")
                                                      if c in fu.columns])))
        else:
            parts.append(f"<p>{html.escape(t('no_followup', self.language))}</p>")
        _display_html("".join(parts) + self._note())

    def show_disaggregation(self) -> None:
        """Results by country, sector, gender and involvement (suppressed); participation."""
        a = self.analysis
        lg = self.language
        dis = a.display.get("disaggregation", a.disaggregation).copy()
        other = bool((dis["group"].astype(str) == "other").any())  # small groups, merged
        dis["group"] = [group_label(self.ingest.instrument, d, g, lg)
                        for d, g in zip(dis["dimension"], dis["group"], strict=True)]
        dis["dimension"] = [column_label(d, lg) for d in dis["dimension"]]
        other_note = (f"<p class='note'>{html.escape(t('other_groups_note', lg, k=self.k_min))}"
                      "</p>" if other else "")
        _display_html(self._h("disaggregation") + self._table(dis) + self._note() + other_note
                      + self._h("participation", 2))
        self._show_figure("participation")

    def show_voices(self) -> None:
        """Redacted open answers, only from items in ``open_answers.reviewed``; else counts."""
        lg = self.language
        cfg = self.ingest.config
        inst = self.ingest.instrument
        parts = [self._h("voices")]
        reviewed = {i for i in cfg.reviewed_open_items if inst.has_item(i)}
        quoted = 0
        for item in inst.items:
            if getattr(item, "type", None) != "text":
                continue
            answers = []
            for frame in self.ingest.waves.values():
                if item.id in frame.columns:
                    answers += [v for v in frame[item.id].tolist() if isinstance(v, str) and v]
            if not answers:
                continue
            parts.append(f"<h3>{html.escape(item.label(lg))}</h3>")
            if item.id in reviewed and len(answers) >= self.k_min:
                parts.append("<ul class='quotes'>" + "".join(
                    f"<li>{html.escape(v)}</li>" for v in answers[:8]) + "</ul>")
                quoted += 1
            else:
                n = len(answers) if len(answers) >= self.k_min else f"<{self.k_min}"
                parts.append(f"<p>{html.escape(t('answers_count', lg, n=n))}</p>")
        if quoted:
            parts.append(f"<p class='note'>{html.escape(t('quotes_note', lg))}</p>")
        else:
            parts.append(f"<p>{html.escape(t('no_reviewed_text', lg))}</p>")
        _display_html("".join(parts))

    def show_limitations(self) -> None:
        """Limitations generated from the data."""
        _display_html(self._h("limitations") + "<ul>" + "".join(
            f"<li>{html.escape(s)}</li>" for s in self.limitations) + "</ul>")

    def show_annexes(self) -> None:
        """Item tables (item text), instrument texts, ingest and matching, provenance."""
        lg = self.language
        a = self.analysis
        items = self._shown("items")
        cols = ["item_id", "wave_a", "wave_b", "n_pairs", "mean_a", "mean_b", "mean_change",
                "mean_change_ci_low", "mean_change_ci_high", "p_holm", "rank_biserial",
                "pct_improved"]
        inst = self.ingest.instrument
        shown = [it for it in inst.items if it.type != "code"]
        texts = pd.DataFrame({
            "scale_id": [it.scale or "" for it in shown],
            "type": [t_code("itemtype", it.type, lg) for it in shown],
            "text": [it.label(lg) + reverse_mark(it, lg) for it in shown],
        })
        ingest = pd.DataFrame(self.ingest.report["files"])[
            ["wave", "file", "source", "encoding", "rows_read", "kept", "quarantined",
             "removed"]]
        ingest["wave"] = [t(w, lg) if w in ("pre", "post", "followup") else w
                          for w in ingest["wave"]]
        ingest["source"] = [source_name(x, lg) for x in ingest["source"]]
        # a workbook has no text encoding (the reader names the format there)
        ingest["encoding"] = ["–" if str(e).lower() in ("xlsx", "xls") else e
                              for e in ingest["encoding"]]
        prov = {k: v for k, v in self.provenance.items() if k not in ("libraries",)}
        rel = a.display.get("reliability", a.reliability).copy()
        if "warning" in rel.columns:  # the one warning the analysis gives, in the report language
            rel["warning"] = [t("alpha_low", lg) if w == "alpha < 0.70" else w
                              for w in rel["warning"]]
        _display_html(
            self._h("annexes") + self._h("annex_items", 2)
            + self._table(items[[c for c in cols if c in items.columns]]) + self._note()
            + self._reverse_note()
            + self._table(rel, caption=t("reliability_table", lg))
            + self._h("annex_instrument", 2)
            + self._table(texts)
            + self._h("annex_ingest", 2) + self._table(ingest, digits=0)
            + self._h("annex_provenance", 2)
            + f"<pre>{html.escape(json.dumps(prov, ensure_ascii=False, indent=1))}</pre>"
        )

    def _show_figure(self, which: str, data: pd.DataFrame | None = None,
                     title: str = "") -> None:
        from evaluation import figures

        lg = self.language
        try:
            if which == "indicators":
                ind = self.indicators.copy()
                ind["unit"] = [_ind_unit(i) for i in ind["indicator_id"]]  # as in the table
                fig = figures.indicator_dashboard(
                    ind[["label", "value", "ci_low", "ci_high", "target", "status", "unit"]],
                    title=t("indicators_figure", lg), language=lg, k_min=self.k_min)
            elif which == "dumbbell":
                sc = self.analysis.scales
                sc = sc[(sc["wave_a"] == "pre") & (sc["wave_b"] == "post")]
                names = id_labels(self.ingest.instrument, lg)
                labels = [names.get(s, s) for s in sc["scale_id"]]
                frame = pd.DataFrame({"label": labels, "mean_a": sc["mean_a"].to_numpy(),
                                      "mean_b": sc["mean_b"].to_numpy(),
                                      "ci_low": sc["mean_change_ci_low"].to_numpy(),
                                      "ci_high": sc["mean_change_ci_high"].to_numpy(),
                                      "n": sc["n_pairs"].to_numpy()})
                fig = figures.dumbbell(frame, title=t("dumbbell_figure", lg), language=lg,
                                       k_min=self.k_min)
            elif which == "likert" and data is not None:
                neutral = data.attrs.get("neutral_column") or (
                    data.columns[len(data.columns) // 2] if len(data.columns) % 2 else None)
                fig = figures.likert_diverging(data, neutral_column=neutral, title=title,
                                               language=lg, k_min=self.k_min,
                                               alt_labels=data.attrs.get("full_labels"))
            elif which == "knowledge":
                frame = knowledge_frame(self.analysis.knowledge, self.ingest.instrument, lg)
                if frame.empty:
                    return
                fig = figures.knowledge_by_question(frame, title=t("knowledge_figure", lg),
                                                    language=lg, k_min=self.k_min)
            elif which == "participation":
                frame = participation_counts(self.analysis.participation,
                                             self.ingest.instrument, lg)
                if frame.empty:
                    return
                fig = figures.participation_bars(frame, title=t("participation_figure", lg),
                                                 language=lg, k_min=self.k_min)
            else:
                return
        except Exception as exc:
            name = html.escape(type(exc).__name__)
            _display_html(f"<p class='note'>{html.escape(t('figure_unavailable', lg, name=name))}"
                          "</p>")
            return
        figures.show(fig)


# ---- presentation helpers (pure; tested in tests/test_report.py) ----------------------------

_WAVE_WORDS = {"pre": "pre", "post": "post", "followup": "followup", "retro": "retro_wave"}
_ID_COLUMNS = ("item_id", "scale_id", "id")
#: p-value columns: three decimals, and "<0.001" below that (APA style)
_P_COLUMNS = ("p_value", "p_holm", "mann_whitney_p")
#: statistics that are whole or half numbers (a signed-rank sum): no trailing zeros
_RANK_SUM_COLUMNS = ("wilcoxon_v",)


def _fmt_p(value: float, language: str) -> str:
    """A p-value for a report: ``<0.001`` below 0.001, else three decimals.

    Examples
    --------
    >>> from evaluation.report import _fmt_p
    >>> _fmt_p(0.0004, "en"), _fmt_p(0.04554, "ru"), _fmt_p(1.0, "en")
    ('<0.001', '0,046', '1.000')
    """
    if value < 0.001:
        return "<" + fmt_number(0.001, 3, language)
    return fmt_number(value, 3, language)


def _percent_interval(column: str, columns: Sequence[str]) -> bool:
    """Whether ``column`` is an end of a confidence interval of a percentage."""
    base = column.removesuffix("_ci_low").removesuffix("_ci_high")
    if base != column:
        return base.startswith("pct")
    return column in ("ci_low", "ci_high") and "pct" in columns and "mean_a" not in columns


_SHOWN_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")


def exact_where_shown(shown: pd.DataFrame, numbers: pd.DataFrame,
                      columns: Callable[[str], bool] | None = None) -> pd.DataFrame:
    """``shown`` (a display table) with its plain numbers replaced by ``numbers``' exact values.

    A cell the display shows as a plain number (``"0.00"``, a p-value of 0.0026 rounded) takes
    the value of the same row and column of ``numbers``; every other cell (``"<5"``, ``"–"``,
    ``"58% (7 of 12)"``, an interval) stays as shown, so suppression is kept. The spreadsheet
    annex holds all of them (numbers to compute with, as exact as ``results/*.csv``); the
    report's tables take only the ``columns`` it formats itself (p-values, rank sums and
    intervals of percentages, see :func:`localize_table`).

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.report import exact_where_shown
    >>> shown = pd.DataFrame({"n": ["26", "<5"], "p_value": ["0.00", "–"]})
    >>> numbers = pd.DataFrame({"n": [26, 3], "p_value": [0.0026, 0.5]})
    >>> exact_where_shown(shown, numbers).to_dict("list")
    {'n': [26, '<5'], 'p_value': [0.0026, '–']}
    >>> exact_where_shown(shown, numbers, lambda c: c == "p_value")["n"].tolist()
    ['26', '<5']
    """
    if shown is numbers or len(shown) != len(numbers):
        return shown
    out = shown.copy()
    for col in shown.columns:
        if col not in numbers.columns or numbers[col].dtype == bool or \
                (columns is not None and not columns(col)):
            continue
        exact = pd.to_numeric(numbers[col], errors="coerce").tolist()
        out[col] = [
            (int(v) if float(v).is_integer() and "." not in text else float(v))
            if isinstance(text, str) and _SHOWN_NUMBER_RE.fullmatch(text.strip()) and v == v
            else text
            for text, v in zip(shown[col].tolist(), exact, strict=True)]
    return out


def _formatted_here(column: str, columns: Sequence[str]) -> bool:
    """Whether :func:`localize_table` formats ``column`` from exact values."""
    return column in _P_COLUMNS or column in _RANK_SUM_COLUMNS or \
        _percent_interval(column, columns)


def reverse_mark(item: Any, language: str = "en") -> str:
    """``" (reverse-worded)"`` after the text of a reverse-keyed item, else ``""``.

    Examples
    --------
    >>> from evaluation.instrument import default_instrument_path, load_instrument
    >>> from evaluation.report import reverse_mark
    >>> inst = load_instrument(default_instrument_path())
    >>> reverse_mark(inst.item("ud_causes_unclear"), "ru"), reverse_mark(inst.item("ud_drivers"))
    (' (обратная формулировка)', '')
    """
    return f" ({t('reverse_worded', language)})" if getattr(item, "reverse", False) else ""


def id_labels(instrument: Any, language: str = "en") -> dict[str, str]:
    """Human labels of the instrument's item and scale ids in ``language``.

    Examples
    --------
    >>> from evaluation.instrument import default_instrument_path, load_instrument
    >>> from evaluation.report import id_labels
    >>> labels = id_labels(load_instrument(default_instrument_path()), "ru")
    >>> labels["knowledge_total"]
    'Тест знаний: общий балл'
    >>> labels["ud_drivers"] != "ud_drivers"
    True
    >>> labels["readiness_index"]
    'Индекс готовности (5 шкал готовности вместе)'
    """
    labels: dict[str, str] = {}
    for sid, scale in instrument.scales.items():
        labels[sid] = scale.label(language)
    for item in instrument.items:
        labels[item.id] = item.label(language) + reverse_mark(item, language)
    labels["knowledge_total"] = {"ru": "Тест знаний: общий балл"}.get(
        language, "Knowledge test: total score")
    count = sum(1 for scale in instrument.scales.values()
                if getattr(scale, "domain", None) == "readiness")
    labels.setdefault("readiness_index", (
        f"Индекс готовности ({count} {_ru_plural(count, 'шкала', 'шкалы', 'шкал')} готовности "
        "вместе)" if language == "ru" else f"Readiness index ({count} readiness scales "
        "combined)"))
    return labels


def _ru_plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian noun form for ``n`` (1 шкала, 2 шкалы, 5 шкал, 21 шкала).

    Examples
    --------
    >>> from evaluation.report import _ru_plural
    >>> [_ru_plural(n, "шкала", "шкалы", "шкал") for n in (1, 3, 5, 11, 21, 24)]
    ['шкала', 'шкалы', 'шкал', 'шкал', 'шкала', 'шкалы']
    """
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def localize_table(frame: pd.DataFrame, language: str = "en",
                   labels: Mapping[str, str] | None = None, digits: int = 2) -> pd.DataFrame:
    """A copy of ``frame`` for a report: ids as labels, waves named, headers and numbers localized.

    Id columns (``item_id``, ``scale_id``) show the label in ``labels`` (ids without one stay);
    wave codes show the wave's name; numbers get ``digits`` decimals and, in Russian, a decimal
    comma (:func:`evaluation.i18n.localize_cell`); headers come from
    :data:`evaluation.i18n.COLUMNS`. Text is not escaped here (``to_html`` escapes it).

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.report import localize_table
    >>> frame = pd.DataFrame({"scale_id": ["s1"], "wave_a": ["pre"], "mean_change": [0.456]})
    >>> localize_table(frame, "ru", labels={"s1": "Готовность"}).iloc[0].tolist()
    ['Готовность', 'До', '0,46']
    >>> list(localize_table(frame, "ru").columns)
    ['Шкала', 'С', 'Изменение']

    A pair of waves, and the two ends of an interval, each share one column:

    >>> pairs = pd.DataFrame({"wave_a": ["pre"], "wave_b": ["post"], "mean_change": [0.4],
    ...                       "mean_change_ci_low": [0.1], "mean_change_ci_high": [0.7]})
    >>> localize_table(pairs).iloc[0].to_dict()
    {'Comparison': 'Before → After', 'Change': '0.40', '95% CI': '0.10\xa0–\xa00.70'}
    """
    labels = labels or {}
    out = pd.DataFrame(index=range(len(frame)))
    columns = list(frame.columns)
    for col in columns:
        if col == "wave_b" and "wave_a" in columns or col.endswith("ci_high") and \
                col.replace("ci_high", "ci_low") in columns:
            continue  # shown together with its partner (see below)
        values = frame[col].tolist()
        if col in _ID_COLUMNS:
            shown = [labels.get(str(v), str(v)) if isinstance(v, str) else localize_cell(v)
                     for v in values]
        elif col in _P_COLUMNS:
            shown = [_fmt_p(v, language) if isinstance(v, float) and v == v
                     else localize_cell(v, language, 3) for v in values]
        elif col in _RANK_SUM_COLUMNS:
            shown = [localize_cell(v, language, 0 if float(v).is_integer() else 1)
                     if isinstance(v, float) and v == v else localize_cell(v, language)
                     for v in values]
        elif _percent_interval(col, columns):
            shown = [localize_cell(v, language, 0) + "%" if isinstance(v, float) and v == v
                     else localize_cell(v, language) for v in values]
        elif col in ("wave", "wave_a", "wave_b"):
            shown = [_wave_name(v, language) for v in values]
        elif col in ("n", "n_pairs", "n_items", "n_a", "n_b", "k", "rows_read", "kept",
                     "quarantined", "removed", "base", "df"):
            shown = [localize_cell(v, language, 0) for v in values]
        else:
            shown = [localize_cell(v, language, digits) for v in values]
        label = column_label(col, language)
        if col == "wave_a" and "wave_b" in columns:  # one "Before → After" column
            ends = [_wave_name(v, language) for v in frame["wave_b"]]
            shown = [f"{a} → {b}" for a, b in zip(shown, ends, strict=True)]
            col = "comparison"
            label = column_label(col, language)
        elif col.endswith("ci_low") and col.replace("ci_low", "ci_high") in columns:
            # one "low – high" interval column instead of two (narrower tables on A4)
            partner = col.replace("ci_low", "ci_high")
            highs = [localize_cell(v, language, 0) + "%"
                     if _percent_interval(partner, columns) and isinstance(v, float) and v == v
                     else localize_cell(v, language, digits) for v in frame[partner]]
            shown = [f"{lo}\u00a0–\u00a0{hi}" if "–" not in (lo, hi) else "–"  # no break
                     for lo, hi in zip(shown, highs, strict=True)]
            col = col.replace("ci_low", "ci")
            label = column_label(col if col in COLUMNS else "ci", language)
        if label in out.columns:  # two columns with one header: keep both, told apart
            base = col.removesuffix("_ci")  # the interval of "New contact" is "95% CI (New ...)"
            label = f"{label} ({column_label(base, language) if base != col else col})"
        out[label] = shown
    return out


_SOURCE_NAMES = {"kobo": "KoboToolbox", "odk": "ODK", "qualtrics": "Qualtrics",
                 "limesurvey": "LimeSurvey"}


def source_name(source: object, language: str = "en") -> str:
    """The name of a survey tool as readers know it (``kobo`` → "KoboToolbox").

    Examples
    --------
    >>> from evaluation.report import source_name
    >>> source_name("kobo"), source_name("generic", "ru"), source_name("odk")
    ('KoboToolbox', 'таблица', 'ODK')
    """
    if source == "generic":
        return t("source_generic", language)
    return _SOURCE_NAMES.get(str(source), str(source))


def _wave_name(wave: object, language: str) -> str:
    return t(_WAVE_WORDS[wave], language) if wave in _WAVE_WORDS else localize_cell(wave)


def group_label(instrument: Any, dimension: str, code: object, language: str = "en") -> str:
    """Label of a subgroup code (``KZ`` → "Kazakhstan") from the instrument's choice lists.

    Examples
    --------
    >>> from evaluation.instrument import default_instrument_path, load_instrument
    >>> from evaluation.report import group_label
    >>> inst = load_instrument(default_instrument_path())
    >>> group_label(inst, "country", "KZ", "ru"), group_label(inst, "sector", "other", "ru")
    ('Казахстан', 'Прочие')
    """
    item = instrument.item_by_role(dimension) if hasattr(instrument, "item_by_role") else None
    if item is None and instrument.has_item(dimension):
        item = instrument.item(dimension)
    clist = instrument.choice_list_of(item) if item is not None else None
    if clist is not None:
        for choice in clist.all_choices:
            if choice.code == str(code):
                return choice.label(language)
    if str(code) == "all":
        return column_label("total", language)
    word = t_code("subgroup", code, language, None)  # the toolkit's own ("other", "(missing)")
    if word is not None:
        return word[:1].upper() + word[1:]
    return str(code)


def reaction_shares(collapsed: pd.DataFrame, instrument: Any, language: str = "en",
                    published_agree: Mapping[str, float] | None = None,
                    ) -> dict[str, pd.DataFrame]:
    """Percent of answers per collapsed category for the reaction items, one frame per choice list.

    Built only from published numbers. The five answers are collapsed to three categories
    (1-2, 3, 4-5; :attr:`evaluation.analysis.WorkshopAnalysis.reaction_collapsed`, counts
    after disclosure control), so far fewer cells fall below the threshold than with five. A
    chart shows the three categories when every item with a published ``n`` has all three.
    Otherwise it shows two, the top category and "other answers", and for each item only the
    share the reaction table itself publishes (``published_agree``: item id → ``pct_agree``
    after suppression). That share is suppressed when fewer than ``k`` people gave the other
    answers, so the chart never shows a smaller group than the table does. An item without a
    published value is all NaN (drawn as "suppressed"). Rows are the (shortened) item labels
    in instrument order; column labels name the answers of the list they stand for;
    ``frame.attrs["neutral_column"]`` names the column drawn grey around zero.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from evaluation.instrument import default_instrument_path, load_instrument
    >>> from evaluation.report import reaction_shares
    >>> inst = load_instrument(default_instrument_path())
    >>> table = pd.DataFrame({"item_id": ["re_relevance", "re_better_positioned"],
    ...     "n": [20.0, 20.0], "disagree": [5.0, 5.0], "neutral": [5.0, 5.0],
    ...     "agree": [10.0, 10.0]})
    >>> shares = reaction_shares(table, inst)["agree5"]
    >>> shares.columns.tolist()
    ['Strongly disagree / Somewhat disagree', 'Neither agree nor disagree', \
'Somewhat agree / Strongly agree']
    >>> shares.iloc[0].tolist()
    [25.0, 25.0, 50.0]

    With the lower categories suppressed, two remain, drawn from the published share only:

    >>> table.loc[1, ["disagree", "neutral"]] = np.nan
    >>> two = reaction_shares(table, inst,
    ...                       published_agree={"re_relevance": 50.0, "re_better_positioned": 50.0})
    >>> two["agree5"].iloc[1].tolist()
    [50.0, 50.0]
    >>> hidden = reaction_shares(table, inst, published_agree={"re_relevance": np.nan})
    >>> bool(hidden["agree5"].isna().all(axis=None))  # the table hides the share: so does the chart
    True
    """
    groups: dict[str, list[tuple[str, str, list[float | None]]]] = {}
    labels: dict[str, list[str]] = {}
    if collapsed is None or len(collapsed) == 0:
        return {}
    published_agree = published_agree or {}
    for row in collapsed.itertuples(index=False):
        if not instrument.has_item(row.item_id):
            continue
        item = instrument.item(row.item_id)
        clist = instrument.choice_list_of(item)
        if clist is None or len(clist.choices) != 5:
            continue
        counts = [_float(getattr(row, c, None)) for c in ("n", "disagree", "neutral", "agree")]
        counts = [None if c is None or c != c else c for c in counts]
        groups.setdefault(clist.id, []).append((item.id, item.label(language), counts))
        names = [c.label(language) for c in clist.choices]
        labels[clist.id] = [f"{names[0]} / {names[1]}", names[2], f"{names[3]} / {names[4]}"]
    frames = {}
    for list_id, rows in groups.items():
        three = all(c[1] is not None and c[2] is not None
                    for _, _, c in rows if c[0] and c[3] is not None)
        data = []
        for item_id, _, (n, low, middle, high) in rows:
            if three and n and high is not None:
                data.append([100.0 * low / n, 100.0 * middle / n, 100.0 * high / n])
                continue
            share = _float(published_agree.get(item_id))
            if three or share is None or share != share:
                data.append([float("nan")] * (3 if three else 2))
            else:
                data.append([100.0 - share, share])
        columns = labels[list_id] if three else [t("cat_other", language), labels[list_id][2]]
        texts = [label for _, label, _ in rows]
        frame = pd.DataFrame(data, index=_short_labels(texts), columns=columns)
        # for the alt text (the chart shows short labels); ": 70% agree" follows each text
        frame.attrs["full_labels"] = [x.rstrip(".") for x in texts]
        # drawn grey: the middle category centred on zero, "other answers" (which include
        # disagreement) whole on the left of zero
        frame.attrs["neutral_column"] = columns[1] if three else columns[0]
        frames[list_id] = frame
    return frames


def item_shares(distributions: pd.DataFrame | None, instrument: Any,
                language: str = "en") -> dict[str, pd.DataFrame]:
    """Percent disagree / neutral / agree per readiness item before and after, per scale.

    Built only from the published (suppressed) 3-category item distributions of the analysis
    (``WorkshopAnalysis.item_distributions``); a row with a suppressed cell is all NaN and is
    drawn as "suppressed". Rows are "<item text> — <wave>", columns the fixed category order.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import default_instrument_path, load_instrument
    >>> from evaluation.report import item_shares
    >>> inst = load_instrument(default_instrument_path())
    >>> dist = pd.DataFrame({"item_id": ["dc_contribute", "dc_contribute"],
    ...     "wave": ["pre", "post"], "n": [20, 20], "disagree": [10, None],
    ...     "neutral": [5, None], "agree": [5, 16]})
    >>> shares = item_shares(dist, inst)["design_confidence"]
    >>> shares.iloc[0].tolist(), bool(shares.iloc[1].isna().all())
    ([50.0, 25.0, 25.0], True)
    """
    if distributions is None or len(distributions) == 0:
        return {}
    categories = [t("cat_disagree", language), t("cat_neutral", language),
                  t("cat_agree", language)]
    out: dict[str, list[tuple[str, list[float]]]] = {}
    for row in distributions.itertuples(index=False):
        if row.wave not in ("pre", "post") or not instrument.has_item(row.item_id):
            continue
        item = instrument.item(row.item_id)
        if not item.scale:
            continue
        counts = [_float(getattr(row, c, None)) for c in ("disagree", "neutral", "agree")]
        total = sum(c for c in counts if c is not None and c == c)
        if any(c is None or c != c for c in counts) or total <= 0:
            shares = [float("nan")] * 3
        else:
            shares = [100.0 * c / total for c in counts]
        out.setdefault(item.scale, []).append((item.id, row.wave, shares))
    frames = {}
    order = {"pre": 0, "post": 1}
    for sid, rows in out.items():
        rows.sort(key=lambda r: (instrument.scales[sid].items.index(r[0])
                                 if r[0] in instrument.scales[sid].items else 99, order[r[1]]))
        texts = [instrument.item(r[0]).label(language) for r in rows]
        # a reverse-worded item's mark stays whole after the label is shortened
        marks = [reverse_mark(instrument.item(r[0]), language) for r in rows]
        waves = [t(r[1], language) for r in rows]
        index = [f"{lab}{mark} — {w}" for lab, mark, w
                 in zip(_short_labels(texts), marks, waves, strict=True)]
        frame = pd.DataFrame([r[2] for r in rows], index=index, columns=categories)
        frame.attrs["full_labels"] = [f"{x.rstrip('.')}{mark} — {w}"
                                      for x, mark, w in zip(texts, marks, waves, strict=True)]
        frames[sid] = frame
    return frames


def _short_labels(texts: list[str], width: int = 44) -> list[str]:
    """Item texts without the words they all start with, cut to ``width`` characters."""
    words = [x.split() for x in texts]
    common = 0
    if len(words) > 1:
        while all(len(w) > common + 1 for w in words) and \
                len({w[common] for w in words}) == 1:
            common += 1
    out = []
    for w in words:
        text = " ".join(w[common:]).rstrip(".")
        if common:
            text = "… " + text
        out.append(text if len(text) <= width else _cut_at_word(text, width))
    return out


def _cut_at_word(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` characters with an ellipsis, between words if it can.

    Examples
    --------
    >>> from evaluation.report import _cut_at_word
    >>> _cut_at_word("Understanding of the drivers of violent extremism", 30)
    'Understanding of the drivers…'
    >>> _cut_at_word("Antidisestablishmentarianism", 10)
    'Antidises…'
    """
    head = text[: width - 1]
    if " " in head.lstrip("… ") and not text[width - 1].isspace():
        head = head[: head.rindex(" ")]
    return head.rstrip(" ,;:—–-") + "…"


def knowledge_frame(knowledge: pd.DataFrame, instrument: Any,
                    language: str = "en") -> pd.DataFrame:
    """Input of :func:`evaluation.figures.knowledge_by_question` from the knowledge table.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import default_instrument_path, load_instrument
    >>> from evaluation.report import knowledge_frame
    >>> table = pd.DataFrame({"item_id": ["kn_01", "knowledge_total"], "n": [26, 26],
    ...     "pct_correct_pre": [42.3, None], "pct_correct_post": [61.5, None]})
    >>> knowledge_frame(table, load_instrument(default_instrument_path()))["pct_post"].tolist()
    [61.5]
    """
    rows = knowledge[[instrument.has_item(i) for i in knowledge["item_id"]]]
    return pd.DataFrame({
        "question": [instrument.item(i).label(language) for i in rows["item_id"]],
        "pct_pre": pd.to_numeric(rows["pct_correct_pre"], errors="coerce").to_numpy(),
        "pct_post": pd.to_numeric(rows["pct_correct_post"], errors="coerce").to_numpy(),
        "n": pd.to_numeric(rows["n"], errors="coerce").to_numpy(),
    })


def participation_counts(participation: pd.DataFrame, instrument: Any, language: str = "en",
                         wave: str = "pre") -> pd.DataFrame:
    """Input of :func:`evaluation.figures.participation_bars` from the suppressed table.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.instrument import default_instrument_path, load_instrument
    >>> from evaluation.report import participation_counts
    >>> table = pd.DataFrame({"dimension": ["total", "country", "country"],
    ...     "group": ["all", "KZ", "KG"], "wave": ["pre"] * 3, "n": [29, 6, None]})
    >>> participation_counts(table, load_instrument(default_instrument_path())).values.tolist()
    [['Country', 'Kazakhstan', 6.0], ['Country', 'Kyrgyzstan', nan]]
    """
    part = participation[(participation["wave"] == wave)
                         & (participation["dimension"].isin(("country", "sector", "gender")))]
    return pd.DataFrame({
        "group": [column_label(d, language) for d in part["dimension"]],
        "category": [group_label(instrument, d, g, language)
                     for d, g in zip(part["dimension"], part["group"], strict=True)],
        "n": pd.to_numeric(part["n"], errors="coerce").to_numpy(dtype=float),
    })


def wave_summary(participation: pd.DataFrame, ingest_report: Mapping[str, Any],
                 language: str = "en") -> pd.DataFrame:
    """Waves with respondents, expected participants, response rate and pairs matched to pre.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.report import wave_summary
    >>> part = pd.DataFrame({"dimension": ["total", "total"], "group": ["all", "all"],
    ...     "wave": ["pre", "post"], "n": [29, 27], "base": [30, 30], "rate": [0.967, 0.9]})
    >>> rep = {"matching": {"match_rate_pre_post": 0.8966},
    ...        "files": [{"wave": "pre", "source": "kobo"}, {"wave": "post", "source": "odk"}]}
    >>> [str(v) for v in wave_summary(part, rep).iloc[1]]
    ['post', 'ODK', '27', '30', '90%', '90%']
    """
    total = participation[participation["dimension"] == "total"]
    sources = {f["wave"]: source_name(f.get("source", ""), language)
               for f in ingest_report.get("files", [])}
    matching = ingest_report.get("matching", {})
    rows = []
    for r in total.itertuples(index=False):
        rate = matching.get(f"match_rate_pre_{r.wave}") if r.wave != "pre" else None
        rows.append({"wave": r.wave, "source": sources.get(r.wave, ""), "n": r.n,
                     "base": r.base,
                     "rate": fmt_percent(_float(r.rate), 0, language),
                     "match_rate": fmt_percent(rate, 0, language) if rate is not None else "–"})
    return pd.DataFrame(rows, columns=["wave", "source", "n", "base", "rate", "match_rate"])


def methods_table(seed: int, k_min: int, language: str = "en") -> pd.DataFrame:
    """The tests, intervals, thresholds and disclosure rules of the report, as a table.

    Examples
    --------
    >>> from evaluation.report import methods_table
    >>> methods_table(7, 5, "ru").shape
    (6, 2)
    """
    en = [
        ("Item change", "Wilcoxon signed-rank test (as R wilcox.test, paired), rank-biserial "
         "correlation with 95% CI, Holm adjustment within each scale; bootstrap 95% CI of the "
         f"mean change (seed {seed})."),
        ("Scale change", "Paired t-test (as R t.test, paired) with 95% CI and Cohen's d_z "
         "with 95% CI."),
        ("Reliability", "Cronbach's alpha (raw, as psych::alpha) with Feldt 95% CI."),
        ("Knowledge", "Percent correct before and after, McNemar test, normalized gain (Hake)."),
        ("Indicators", "Met when the 95% CI lies at or above the target, not met when below, "
         "inconclusive when the CI spans the target."),
        ("Disclosure control", f"Any number resting on fewer than {k_min} respondents is "
         f"suppressed (counts “<{k_min}”, means and percentages “–”), with complementary "
         "suppression so totals cannot reveal it (so a “<{k_min}” may also stand for a larger "
         "number); charts use suppressed tables only.".format(k_min=k_min)),
    ]
    ru = [
        ("Изменение по вопросу", "Критерий знаковых рангов Уилкоксона (как wilcox.test в R, "
         "парный), ранговая бисериальная корреляция с 95% ДИ, поправка Холма внутри шкалы; "
         f"бутстреп-ДИ среднего изменения (начальное число генератора {seed})."),
        ("Изменение по шкале", "Парный t-критерий (как t.test в R) с 95% ДИ и d_z Коэна с "
         "95% ДИ."),
        ("Надёжность", "Альфа Кронбаха (как psych::alpha) с 95% ДИ по Фельдту."),
        ("Знания", "Доля правильных ответов до и после, критерий Мак-Немара, нормализованный "
         "прирост (по Хейку)."),
        ("Показатели", "Достигнут, если 95% ДИ не ниже цели; не достигнут, если ниже; "
         "неопределённо, если ДИ включает цель."),
        ("Контроль раскрытия", f"Любое число, основанное менее чем на {k_min} ответах, "
         f"скрыто (число «<{k_min}», средние и доли «–»), с дополнительным скрытием, чтобы "
         "его нельзя было вычислить из итогов (поэтому «<{k_min}» может стоять и на месте "
         "большего числа); рисунки строятся только по скрытым таблицам.".format(k_min=k_min)),
    ]
    rows = ru if language == "ru" else en
    return pd.DataFrame(rows, columns=[column_label("what", language),
                                       column_label("how", language)])


def _float(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def _list_title(instrument: Any, list_id: str, language: str) -> str:
    names = {"agree5": ("relevance and agreement", "актуальность и согласие"),
             "useful5": ("usefulness of each agenda part", "полезность частей программы"),
             "quality5": ("quality of delivery", "качество проведения"),
             "satisfied5": ("satisfaction", "удовлетворённость")}
    en, ru = names.get(list_id, (list_id, list_id))
    return ru if language == "ru" else en


def _fmt_ind_column(indicators: pd.DataFrame, column: str, language: str) -> list[str]:
    """One column of the indicator table (baseline, target, value) formatted per indicator."""
    return [_fmt_ind(v, i, language)
            for v, i in zip(indicators[column], indicators["indicator_id"], strict=True)]


def _ind_unit(indicator_id: str) -> str:
    """``"number"`` for a change or gain on its own scale, else ``"share"`` (0-1)."""
    return "number" if "change" in indicator_id or "gain" in indicator_id else "share"


def _fmt_ind(value: float, indicator_id: str, language: str) -> str:
    if value is None or value != value:
        return "–"
    if _ind_unit(indicator_id) == "number":
        return fmt_number(value, 2, language)
    return fmt_percent(value, 0, language)


def _response_sentence(matching: dict, language: str) -> str:
    n = matching.get("n_per_wave", {})
    expected = matching.get("n_participants")
    parts = []
    for wave, count in n.items():
        word = t(_WAVE_WORDS.get(wave, wave), language) if wave in _WAVE_WORDS else wave
        rate = (f" ({fmt_percent(count / expected, 0, language)})"
                if expected else "")
        parts.append(f"{word}: {count}{rate}")
    lead = "Респонденты" if language == "ru" else "Respondents"
    of = f" из {expected}" if language == "ru" else f" of {expected}"
    return f"{lead}{of if expected else ''}: " + ", ".join(parts) + "; " + \
        _rate_sentence(matching, language) + "."


def _rate_sentence(matching: dict, language: str) -> str:
    pp = matching.get("match_rate_pre_post")
    pf = matching.get("match_rate_pre_followup")
    if language == "ru":
        s = f"сопоставлено до→после: {fmt_percent(pp, 0, 'ru')}"
        if pf is not None:
            s += f", до→последующий опрос: {fmt_percent(pf, 0, 'ru')}"
        return s
    s = f"matched pre→post: {fmt_percent(pp)}"
    if pf is not None:
        s += f", pre→follow-up: {fmt_percent(pf)}"
    return s


def run_report(
    workshop_dir: str | Path,
    out_dir: str | Path | None = None,
    language: str = "en",
    k_min: int | None = None,
    seed: int = 20180521,
    kernel: Any = None,
) -> dict[str, Path]:
    """Execute the report notebook and render HTML and PDF (``evaluate report``).

    Returns the paths written: ``ipynb``, ``html``, ``pdf`` (``report.<lang>.*`` for a language
    other than English), plus the ``results`` folder and ``annex.xlsx``. ``kernel`` (an
    :class:`evaluation.render.ReportKernel`) runs the notebook in a reused kernel, reset first;
    by default a fresh kernel is started and stopped.
    """
    from evaluation.render import render_notebook_report
    from evaluation.workshop import load_workshop

    config = load_workshop(workshop_dir)
    out = Path(out_dir) if out_dir is not None else Path("reports") / config.id
    stem = "report" if language == "en" else f"report.{language}"
    params = {"workshop_dir": str(Path(workshop_dir).resolve()),
              "output_dir": str(out.resolve()), "language": language,
              "k_min": int(k_min or 0), "seed": int(seed)}
    paths = render_notebook_report(
        TEMPLATE, out, params, stem=stem, language=language,
        title=f"{t('report_title', language)}: {config.text('title', language)}",
        synthetic=config.synthetic, cwd=str(Path.cwd()), kernel=kernel,
    )
    paths = dict(paths)
    paths["results"] = out / "results"
    paths["annex"] = out / "annex.xlsx"
    return paths
