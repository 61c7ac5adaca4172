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
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd

from evaluation import __version__
from evaluation.analysis import WorkshopAnalysis, analyze_workshop
from evaluation.findings import findings, limitations
from evaluation.i18n import fmt_date_range, fmt_number, fmt_percent, t
from evaluation.indicators import compute_indicators
from evaluation.ingest import IngestResult, ingest_workshop, write_ingest_outputs
from evaluation.outputs import atomic_write_csv, atomic_write_json
from evaluation.xlsx import write_workbook

__all__ = ["WorkshopReport", "run_report", "TEMPLATE", "DESIGN_COLUMNS"]

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


def _table_html(frame: pd.DataFrame, caption: str | None = None) -> str:
    body = frame.to_html(index=False, escape=True, na_rep="–", border=0,
                         classes="report-table")
    if caption:
        body = body.replace(">\n  <thead>", f">\n<caption>{html.escape(caption)}</caption>\n"
                            "  <thead>", 1)
    return body


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
        ingest = ingest_workshop(Path(workshop_dir))
        config = ingest.config
        k = max(int(k_min or config.privacy.k_min), 3)
        analysis = analyze_workshop(ingest.waves, ingest.instrument, config, k_min=k,
                                    n_resamples=n_resamples, seed=seed)
        indicators = compute_indicators(ingest.waves, ingest.instrument, config, k_min=k,
                                        language=language, n_resamples=n_resamples, seed=seed)
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
        versions = {}
        for lib in _LIBRARIES:
            try:
                versions[lib] = metadata.version(lib)
            except metadata.PackageNotFoundError:
                versions[lib] = None
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
            "libraries": versions,
            "time_of_run": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(
                timespec="seconds"),
            "pseudonym_key": "demo key (synthetic data)" if cfg.privacy.demo_key else
            f"from {cfg.privacy.key_env} or a key file (never stored)",
        }

    def results_tables(self) -> dict[str, pd.DataFrame]:
        """The tables written to ``results/`` (suppressed values empty)."""
        a = self.analysis
        tables = {
            "items": a.items[DESIGN_COLUMNS["items"]],
            "scales": a.scales[DESIGN_COLUMNS["scales"]],
            "indicators": self.indicators[DESIGN_COLUMNS["indicators"]],
            "participation": a.participation,
        }
        for name in ("unpaired", "reliability", "knowledge", "reaction", "followup",
                     "cooperation", "disaggregation", "distributions", "matching_bias"):
            tables[name] = getattr(a, name)
        return tables

    def write_results(self) -> None:
        """Write ``results/*.csv``, ``results/provenance.json``, ``annex.xlsx`` and ingest files."""
        out = self.output_dir
        results = out / "results"
        tables = self.results_tables()
        for name, frame in tables.items():
            atomic_write_csv(results / f"{name}.csv", _rounded(frame))
        atomic_write_json(results / "provenance.json", self.provenance)
        write_ingest_outputs(self.ingest, ingest_dir=out / "ingest")
        sheets = {}
        for name, frame in tables.items():
            display = self.analysis.display.get(name)
            shown = display if display is not None and len(display) == len(frame) else frame
            rows = [list(map(str, shown.columns))]
            for rec in _rounded(shown).itertuples(index=False):
                rows.append([_cell(v) for v in rec])
            sheets[name[:31]] = rows
        write_workbook(sheets, out / "annex.xlsx", escape_formulas=True)

    # ---- presentation ------------------------------------------------------------------------
    def _h(self, key: str, level: int = 1) -> str:
        return f"<h{level}>{html.escape(t(key, self.language))}</h{level}>"

    def _note(self) -> str:
        note = t("suppressed_note", self.language, k=self.k_min)
        return f"<p class='note'>{html.escape(note)}</p>"

    def show_cover(self) -> None:
        """Title page: workshop, dates, place, project and phase, evaluator."""
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
        _display_html(
            f"<h1>{html.escape(t('report_title', lg))}: {html.escape(cfg.text('title', lg))}</h1>"
            f"{banner}<table class='cover'>{items}</table>"
        )

    def show_executive_summary(self) -> None:
        """Headline indicators with status, findings in plain language, response and match."""
        lg = self.language
        parts = [self._h("executive_summary"), self._h("headline_indicators", 2),
                 _table_html(self._indicator_display())]
        parts.append(self._h("key_findings", 2))
        parts.append("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in self.findings)
                     + "</ul>")
        m = self.ingest.report["matching"]
        n = m["n_per_wave"]
        waves = ", ".join(f"{t(w, lg)}: {v}" for w, v in n.items())
        parts.append(f"<p>{html.escape(waves)}; "
                     f"{html.escape(_rate_sentence(m, lg))}</p>")
        _display_html("".join(parts))
        self._show_figure("indicators")

    def _indicator_display(self) -> pd.DataFrame:
        lg = self.language
        ind = self.indicators
        out = pd.DataFrame({
            "indicator": ind["label"],
            "target": [_fmt_ind(v, i, lg) for v, i in zip(ind["target"], ind["indicator_id"],
                                                            strict=True)],
            "value": [_fmt_ind(v, i, lg) for v, i in zip(ind["value"], ind["indicator_id"],
                                                           strict=True)],
            "95% CI": [f"{_fmt_ind(lo, i, lg)} – {_fmt_ind(hi, i, lg)}" if lo == lo else "–"
                       for lo, hi, i in zip(ind["ci_low"], ind["ci_high"], ind["indicator_id"],
                                            strict=True)],
            "n": [f"<{self.k_min}" if (n != n or n < self.k_min) else str(int(n))
                  for n in ind["n"]],
            "status": [t(f"status_{s}", lg) for s in ind["status"]],
        })
        if lg == "ru":
            out.columns = ["Показатель", "Цель", "Значение", "95% ДИ", "n", "Статус"]
        return out

    def show_workshop(self) -> None:
        """The workshop and its expected outcomes (the results-framework rows)."""
        ind = self.indicators
        frame = ind[["label", "level", "baseline", "target"]].copy()
        _display_html(self._h("workshop_and_outcomes") + _table_html(frame))

    def show_methodology(self) -> None:
        """Instruments, languages, waves, response and match rates, tests and thresholds."""
        lg = self.language
        files = pd.DataFrame(self.ingest.report["files"])[
            ["wave", "source", "rows_read", "kept", "quarantined", "removed"]]
        text = {
            "en": (
                f"Instrument {self.ingest.instrument.label}, in English and Russian. Changes "
                "are matched pairs (post minus pre) of participants linked by a self-generated "
                "code turned into a keyed pseudonym. Item changes: Wilcoxon signed-rank test "
                "with rank-biserial correlation and Holm adjustment within each scale; scale "
                "changes: paired t-test with Cohen's d_z; 95% confidence intervals throughout "
                f"(bootstrap for item means, seed {self.seed}). Reliability: Cronbach's alpha "
                f"with Feldt intervals. Any number resting on fewer than {self.k_min} "
                "respondents is suppressed, with complementary suppression so totals cannot "
                "reveal it."
            ),
            "ru": (
                f"Инструмент {self.ingest.instrument.label}, на английском и русском языках. "
                "Изменения рассчитаны по сопоставленным парам (после минус до) участников, "
                "связанных самостоятельно составленным кодом, заменённым ключевым псевдонимом. "
                "Вопросы: критерий Уилкоксона с ранговой бисериальной корреляцией и поправкой "
                "Холма внутри шкалы; шкалы: парный t-критерий и d_z Коэна; везде 95% "
                f"доверительные интервалы (бутстреп для средних, seed {self.seed}). "
                "Надёжность: альфа Кронбаха с интервалами Фельдта. Любое число, основанное "
                f"менее чем на {self.k_min} ответах, скрыто, с дополнительным скрытием, чтобы "
                "его нельзя было вычислить из итогов."
            ),
        }[lg if lg in ("en", "ru") else "en"]
        _display_html(self._h("methodology") + f"<p>{html.escape(text)}</p>"
                      + _table_html(files))

    def show_learning(self) -> None:
        """Readiness scales before and after, with confidence intervals."""
        scales = self.analysis.display.get("scales", self.analysis.scales)
        pre_post = scales[(scales["wave_a"] == "pre") & (scales["wave_b"] == "post")]
        cols = ["scale_id", "n_pairs", "mean_a", "mean_b", "mean_change", "mean_change_ci_low",
                "mean_change_ci_high", "cohen_dz", "alpha_a", "alpha_b"]
        _display_html(self._h("findings") + self._h("learning", 2) + _table_html(pre_post[cols])
                      + self._note())
        self._show_figure("dumbbell")
        retro = scales[scales["wave_a"].isin(["retro"]) | scales["wave_b"].isin(["retro"])]
        if len(retro):
            _display_html(self._h("retro", 2) + _table_html(retro[["scale_id", "wave_a",
                                                                   "wave_b", "n_pairs",
                                                                   "mean_change",
                                                                   "mean_change_ci_low",
                                                                   "mean_change_ci_high"]]))

    def show_reaction(self) -> None:
        """Reaction per agenda part and item."""
        table = self.analysis.display.get("reaction", self.analysis.reaction)
        _display_html(self._h("reaction", 2) + _table_html(table))

    def show_knowledge(self) -> None:
        """Knowledge test: percent correct per question, McNemar, normalized gain."""
        table = self.analysis.display.get("knowledge", self.analysis.knowledge)
        _display_html(self._h("knowledge", 2) + _table_html(table))

    def show_cooperation_and_application(self) -> None:
        """Regional cooperation and application at follow-up."""
        a = self.analysis
        parts = [self._h("cooperation", 2),
                 _table_html(a.display.get("cooperation", a.cooperation))]
        parts.append(self._h("application", 2))
        if "followup" in self.ingest.waves:
            parts.append(_table_html(a.display.get("followup", a.followup)))
        else:
            parts.append(f"<p>{html.escape(t('no_followup', self.language))}</p>")
        _display_html("".join(parts))

    def show_disaggregation(self) -> None:
        """Results by country, sector, gender and involvement (suppressed)."""
        a = self.analysis
        _display_html(self._h("disaggregation") + _table_html(
            a.display.get("disaggregation", a.disaggregation))
            + self._note())

    def show_voices(self) -> None:
        """Redacted open answers, only from items the evaluator marked as reviewed."""
        lg = self.language
        cfg = self.ingest.config
        parts = [self._h("voices")]
        reviewed = [i for i in cfg.reviewed_open_items if self.ingest.instrument.has_item(i)]
        shown = 0
        for item_id in reviewed:
            item = self.ingest.instrument.item(item_id)
            if item.sensitivity == "high" and not reviewed:
                continue
            answers = []
            for frame in self.ingest.waves.values():
                if item_id in frame.columns:
                    answers += [v for v in frame[item_id].tolist() if isinstance(v, str) and v]
            if len(answers) < self.k_min:
                continue
            parts.append(f"<h3>{html.escape(item.label(lg))}</h3><ul>"
                         + "".join(f"<li>{html.escape(v)}</li>" for v in answers[:8]) + "</ul>")
            shown += 1
        if not shown:
            parts.append(f"<p>{html.escape(t('no_reviewed_text', lg))}</p>")
        _display_html("".join(parts))

    def show_limitations(self) -> None:
        """Limitations generated from the data."""
        _display_html(self._h("limitations") + "<ul>" + "".join(
            f"<li>{html.escape(s)}</li>" for s in self.limitations) + "</ul>")

    def show_annexes(self) -> None:
        """Item tables, instrument texts, ingest and matching summary, provenance."""
        lg = self.language
        a = self.analysis
        items = a.display.get("items", a.items)
        inst = self.ingest.instrument
        texts = pd.DataFrame({"id": [it.id for it in inst.items],
                              "text": [it.label(lg) for it in inst.items]})
        ingest = pd.DataFrame(self.ingest.report["files"])[
            ["wave", "file", "source", "encoding", "rows_read", "kept", "quarantined",
             "removed"]]
        prov = {k: v for k, v in self.provenance.items() if k not in ("libraries",)}
        _display_html(
            self._h("annexes") + self._h("annex_items", 2) + _table_html(items)
            + self._h("annex_instrument", 2) + _table_html(texts)
            + self._h("annex_ingest", 2) + _table_html(ingest)
            + self._h("annex_provenance", 2)
            + f"<pre>{html.escape(json.dumps(prov, ensure_ascii=False, indent=1))}</pre>"
        )

    def _show_figure(self, which: str) -> None:
        from evaluation import figures

        lg = self.language
        try:
            if which == "indicators":
                ind = self.indicators.copy()
                fig = figures.indicator_dashboard(
                    ind[["label", "value", "ci_low", "ci_high", "target", "status"]],
                    title=t("headline_indicators", lg), language=lg, k_min=self.k_min)
            elif which == "dumbbell":
                sc = self.analysis.scales
                sc = sc[(sc["wave_a"] == "pre") & (sc["wave_b"] == "post")]
                labels = [self.ingest.instrument.scales[s].label(lg)
                          if s in self.ingest.instrument.scales else s for s in sc["scale_id"]]
                frame = pd.DataFrame({"label": labels, "mean_a": sc["mean_a"].to_numpy(),
                                      "mean_b": sc["mean_b"].to_numpy(),
                                      "ci_low": sc["mean_change_ci_low"].to_numpy(),
                                      "ci_high": sc["mean_change_ci_high"].to_numpy(),
                                      "n": sc["n_pairs"].to_numpy()})
                fig = figures.dumbbell(frame, title=t("learning", lg), language=lg,
                                       k_min=self.k_min)
            else:
                return
        except Exception as exc:
            name = html.escape(type(exc).__name__)
            _display_html(f"<p class='note'>Figure not available ({name}).</p>")
            return
        figures.show(fig)


def _fmt_ind(value: float, indicator_id: str, language: str) -> str:
    if value is None or value != value:
        return "–"
    if "change" in indicator_id or "gain" in indicator_id:
        return fmt_number(value, 2, language)
    return fmt_percent(value, 0, language)


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


def _cell(value: object) -> object:
    """A value openpyxl can store: missing → empty, numpy scalars → Python, else text."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(6)
    return out


def run_report(
    workshop_dir: str | Path,
    out_dir: str | Path | None = None,
    language: str = "en",
    k_min: int | None = None,
    seed: int = 20180521,
) -> dict[str, Path]:
    """Execute the report notebook and render HTML and PDF (``evaluate report``).

    Returns the paths written: ``ipynb``, ``html``, ``pdf`` (``report.<lang>.*`` for a language
    other than English), plus the ``results`` folder and ``annex.xlsx``.
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
        synthetic=config.synthetic, cwd=str(Path.cwd()),
    )
    paths = dict(paths)
    paths["results"] = out / "results"
    paths["annex"] = out / "annex.xlsx"
    return paths
