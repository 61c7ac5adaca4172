"""End-to-end report tests on the flagship demo workshop (slow: they execute notebooks)."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from evaluation import figures
from evaluation.i18n import fmt_percent
from evaluation.report import DESIGN_COLUMNS, TEMPLATE, WorkshopReport, run_report

pypdf = pytest.importorskip("pypdf")

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "demo-workshops" / "astana-2018-05"
PLANTED = ["Айгерим Нурлановна Сапарова", "a.saparova@mail.kz", "+7 701 234 56 78",
           "<script>alert('x')</script>", "=HYPERLINK(\"http://evil.example\")"]

pytestmark = pytest.mark.slow


def _planted_copy(tmp: Path) -> Path:
    work = tmp / "astana-2018-05"
    shutil.copytree(FLAGSHIP, work, ignore=shutil.ignore_patterns("processed"))
    path = work / "post-synthetic.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    col = next(i for i, h in enumerate(rows[0]) if h.endswith("open_most_useful"))
    for n, row in enumerate(rows[1:]):
        row[col] = (f"Part 2 was useful {PLANTED[3]} спасибо Айгерим Нурлановне, "
                    f"a.saparova@mail.kz, {PLANTED[2]}" if n % 2 else PLANTED[4])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    (work / "roster.csv").write_text("name\n" + PLANTED[0] + "\n", encoding="utf-8")
    cfg = work / "workshop.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "roster: roster.csv\n", encoding="utf-8")
    return work


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    work = _planted_copy(tmp)
    out = tmp / "reports" / "astana-2018-05"
    en = run_report(work, out, language="en")
    ru = run_report(work, out, language="ru")
    return {"work": work, "out": out, "en": en, "ru": ru}


def test_outputs_exist(rendered):
    out = rendered["out"]
    for name in ("report.html", "report.pdf", "report.ipynb", "report.ru.html", "report.ru.pdf",
                 "annex.xlsx", "results/items.csv", "results/scales.csv",
                 "results/indicators.csv", "results/participation.csv",
                 "results/provenance.json", "ingest/report.json", "ingest/quarantine.csv"):
        assert (out / name).is_file(), name
    for name, cols in DESIGN_COLUMNS.items():
        assert list(pd.read_csv(out / "results" / f"{name}.csv").columns) == cols


def test_html_is_self_contained_and_shows_no_code(rendered):
    page = (rendered["out"] / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", page)
    assert "url(http" not in page
    assert "Content-Security-Policy" in page
    assert "SYNTHETIC DEMONSTRATION DATA" in page
    assert "WorkshopReport.prepare" not in page and "import " not in page
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)


def test_headline_numbers_equal_results_csv(rendered):
    page = (rendered["out"] / "report.html").read_text(encoding="utf-8")
    indicators = pd.read_csv(rendered["out"] / "results" / "indicators.csv")
    shown = 0
    for row in indicators.itertuples():
        if row.value == row.value and "change" not in row.indicator_id \
                and "gain" not in row.indicator_id:
            assert fmt_percent(row.value) in page, row.indicator_id
            shown += 1
    assert shown >= 3


def test_russian_pdf_has_cyrillic_headings(rendered):
    reader = pypdf.PdfReader(rendered["out"] / "report.ru.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)
    for heading in ("Резюме", "Методология", "Ограничения", "Приложения"):
        assert heading in text, heading
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 2 and abs(float(box.height) - 841.9) < 2


def test_annex_has_no_hidden_sheet_and_no_formula(rendered):
    wb = load_workbook(rendered["out"] / "annex.xlsx")
    assert all(ws.sheet_state == "visible" for ws in wb.worksheets)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)


def test_annex_numbers_are_the_exact_published_values(rendered):
    """A p-value of 0.0026 is shown as "<0.001"-style text in the report but must not become a
    0 in the spreadsheet: the annex holds the values of results/*.csv where a cell is shown."""
    out = rendered["out"]
    ws = load_workbook(out / "annex.xlsx")["knowledge"]
    header = [c.value for c in ws[1]]
    annex = {row[0]: dict(zip(header, row, strict=False))
             for row in ws.iter_rows(min_row=2, values_only=True)}
    results = pd.read_csv(out / "results" / "knowledge.csv").set_index("item_id")
    compared = 0
    for item, row in results.iterrows():
        for col in ("p_value", "mcnemar_statistic"):
            shown = annex[item][col]
            if isinstance(shown, (int, float)) and row[col] == row[col]:
                assert shown == pytest.approx(row[col], abs=1e-6), (item, col)
                compared += 1
    assert compared >= 10
    assert min(v["p_value"] for v in annex.values() if isinstance(v["p_value"], float)) > 0


def test_planted_personal_data_and_script_never_reach_outputs(rendered):
    out, work = rendered["out"], rendered["work"]
    texts = []
    for path in list(out.rglob("*")) + list((work / "processed").glob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".pdf":
            texts.append("\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages))
        elif path.suffix == ".xlsx":
            wb = load_workbook(path)
            texts.append("\n".join(str(c.value) for ws in wb.worksheets
                                   for row in ws.iter_rows() for c in row if c.value))
        elif path.suffix == ".parquet":
            texts.append(pd.read_parquet(path).to_csv())
        else:
            texts.append(path.read_text(encoding="utf-8", errors="ignore"))
    blob = "\n".join(texts)
    for planted in ("Айгерим", "Нурлановн", "Сапаров", "a.saparova@mail.kz", "701 234 56 78"):
        assert planted not in blob, planted
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page
    # the reviewed open answers are quoted, redacted and escaped: the tag shows as text
    assert "&lt;script&gt;" in page


def test_same_inputs_and_seed_give_identical_results(tmp_path):
    a = WorkshopReport.prepare(FLAGSHIP, tmp_path / "a", n_resamples=500, seed=7)
    b = WorkshopReport.prepare(FLAGSHIP, tmp_path / "b", n_resamples=500, seed=7)
    assert a.k_min == b.k_min == 5
    for path in sorted((tmp_path / "a" / "results").glob("*.csv")):
        assert path.read_bytes() == (tmp_path / "b" / "results" / path.name).read_bytes()
    prov = json.loads((tmp_path / "a" / "results" / "provenance.json").read_text())
    assert prov["instrument"] == {"id": "pvect-readiness", "version": "2.0"}
    assert prov["random_seed"] == 7 and len(prov["inputs"]) == 3


def test_plain_papermill_command_runs_the_template(tmp_path):
    out_nb = tmp_path / "out.ipynb"
    cmd = [sys.executable, "-m", "papermill", str(TEMPLATE), str(out_nb),
           "-p", "workshop_dir", str(FLAGSHIP), "-p", "output_dir", str(tmp_path / "r"),
           "-p", "n_resamples", "200", "--no-progress-bar"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "r" / "results" / "items.csv").is_file()


def test_batch_carries_on_past_a_failing_workshop(tmp_path, capsys, monkeypatch):
    from evaluation import commands
    from evaluation.cli import main

    rounds = []

    def spy(func, items, jobs, per_worker):
        rounds.append((list(items), jobs, per_worker))
        return real_map(func, items, jobs, per_worker)

    real_map = commands.map_in_rounds
    monkeypatch.setattr(commands, "map_in_rounds", spy)
    root = tmp_path / "root"
    shutil.copytree(ROOT / "demo-workshops" / "ashgabat-2015-06", root / "b-ashgabat",
                    ignore=shutil.ignore_patterns("processed"))
    broken = root / "a-broken"  # found first: the good workshop runs after a failure
    broken.mkdir()
    (broken / "workshop.yaml").write_text("id: broken\ninstrument: pvect-readiness\n",
                                          encoding="utf-8")
    # one workshop per worker: the second workshop runs in a fresh worker with a fresh kernel
    code = main(["batch", str(root), "--jobs", "1", "--no-progress", "--workshops-per-worker",
                 "1", "--reports", str(tmp_path / "reports")])
    out = capsys.readouterr().out
    assert code == 1
    assert [(len(items), jobs, n) for items, jobs, n in rounds] == [(2, 1, 1)]
    assert "Rendered 1 of 2 workshops" in out
    assert "FAILED a-broken: workshop.yaml, key 'waves'" in out
    assert (tmp_path / "reports" / "ashgabat-2015-06" / "report.pdf").is_file()


def test_report_sections_show_labels_figures_and_russian_numbers(rendered):
    out = rendered["out"]
    en = (out / "report.html").read_text(encoding="utf-8")
    ru = (out / "report.ru.html").read_text(encoding="utf-8")
    # figures: indicators, dumbbell, reaction (diverging), knowledge, participation; each has alt
    for page in (en, ru):
        imgs = re.findall(r"<img[^>]*>", page)
        assert len(imgs) >= 5, len(imgs)
        assert all(re.search(r'alt="[^"]{20,}"', img) for img in imgs)
        assert "Figure not available" not in page and "Рисунок недоступен" not in page
        assert page.count("<figcaption>") >= 5
        assert "readiness_index" not in page  # the index is named, in charts and alt text too
    # human labels, not raw ids, in the findings and the annex
    assert "understanding_drivers" not in en and "ud_drivers" not in en
    assert "Kazakhstan" in en and "Казахстан" in ru
    # Russian headers and decimal commas
    assert "<th>Шкала</th>" in ru and "<th>Изменение</th>" in ru
    # the results framework's levels and the workshop's description in the report language
    assert "<td>результат</td>" in ru and "<td>outcome</td>" not in ru
    assert "<td>outcome</td>" in en
    assert "СИНТЕТИЧЕСКИЙ демонстрационный семинар" in ru
    assert re.search(r"<td>\d,\d\d</td>", ru) and not re.search(r"<td>\d\.\d\d</td>", ru)
    assert re.search(r"<td>\d\.\d\d</td>", en)
    # the order of sections
    order = [en.index(h) for h in ("Executive summary", "The workshop and its expected",
                                   "Methodology", "Reaction:", "Learning:", "Knowledge test",
                                   "Regional cooperation", "Application at follow-up",
                                   "Results by country", "Participant voices", "Limitations",
                                   "Annex A", "Annex B", "Annex C", "Annex D")]
    assert order == sorted(order)


@pytest.mark.parametrize(("workshop", "at_least"), [("astana-2018-05", 5), ("ashgabat-2015-06", 1)])
def test_reaction_chart_shows_only_what_the_tables_publish(tmp_path, workshop, at_least):
    """Reaction charts never show a share (or a smaller group) that a published table hides."""
    from evaluation.report import reaction_shares

    a = WorkshopReport.prepare(FLAGSHIP.parent / workshop, tmp_path / "a", n_resamples=200,
                               write=False)
    collapsed = a.analysis.reaction_collapsed.set_index("item_id")
    published = a.analysis.reaction.set_index("item_id")["pct_agree"]
    shares = reaction_shares(a.analysis.reaction_collapsed, a.ingest.instrument,
                             published_agree=published.to_dict())
    assert shares, "no reaction chart"
    inst = a.ingest.instrument
    drawn = 0
    for list_id, frame in shares.items():
        ids = [i for i in collapsed.index if inst.item(i).choices == list_id]
        assert len(ids) == len(frame), list_id
        for item_id, (_, row) in zip(ids, frame.iterrows(), strict=True):
            if row.isna().all():
                continue
            drawn += 1
            assert abs(row.sum() - 100) < 1e-9
            counts = collapsed.loc[item_id]
            if frame.shape[1] == 3:  # every category is a published count of k or more (or 0)
                for cat in ("disagree", "neutral", "agree"):
                    assert not pd.isna(counts[cat]) and not 0 < counts[cat] < a.k_min
            else:  # two categories: exactly the share the reaction table publishes
                assert not pd.isna(published[item_id]), item_id
                assert row.iloc[-1] == pytest.approx(published[item_id])
    assert drawn >= at_least


def test_likert_alt_texts_quote_the_full_item_texts(tmp_path, rendered):
    """The charts show shortened item labels; their alt texts give each item's whole text."""
    import html as html_module

    from evaluation.report import item_shares, reaction_shares

    a = WorkshopReport.prepare(FLAGSHIP, tmp_path / "a", n_resamples=200, write=False)
    inst = a.ingest.instrument
    page = (rendered["out"] / "report.html").read_text(encoding="utf-8")
    alts = " ".join(html_module.unescape(x) for x in re.findall(r'alt="([^"]*)"', page))
    for item_id in a.analysis.reaction_collapsed["item_id"]:  # in the report as rendered
        assert f"{inst.item(item_id).label('en').rstrip('.')}:" in alts, item_id
    frames = [*reaction_shares(a.analysis.reaction_collapsed, inst).values(),
              *item_shares(a.analysis.item_distributions, inst).values()]
    assert frames
    shortened = 0
    for frame in frames:
        full = frame.attrs["full_labels"]
        shortened += sum(short != text for short, text in zip(frame.index, full, strict=True))
        neutral = frame.attrs.get("neutral_column") or frame.columns[1]
        alt = figures.likert_diverging(frame, neutral_column=neutral,
                                       alt_labels=full).alt_text
        for text in full:
            assert f"{text}:" in alt
    assert shortened  # the charts' own labels are shortened, so the test means something


def test_headline_table_shows_baselines_when_the_framework_has_them(tmp_path):
    import yaml

    from evaluation.indicators import default_framework

    plain = WorkshopReport.prepare(FLAGSHIP, tmp_path / "a", n_resamples=200, write=False)
    assert "Baseline" not in plain._indicator_display().columns  # the defaults have none
    work = tmp_path / "ws"
    shutil.copytree(FLAGSHIP, work, ignore=shutil.ignore_patterns("processed"))
    framework = default_framework()
    framework["indicators"][0]["baseline"] = 0.4
    (work / "framework.yaml").write_text(yaml.safe_dump(framework, allow_unicode=True),
                                         encoding="utf-8")
    cfg = work / "workshop.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "results_framework: framework.yaml\n",
                   encoding="utf-8")
    for language, header in (("en", "Baseline"), ("ru", "Исходное значение")):
        table = WorkshopReport.prepare(work, tmp_path / language, language=language,
                                       n_resamples=200, write=False)._indicator_display()
        assert list(table.columns[:3]) == [table.columns[0], header, table.columns[2]]
        assert table.iloc[0, 1] == fmt_percent(0.4, 0, language)
        assert table.iloc[1, 1] == "–"  # no baseline for the second indicator


def test_unreviewed_open_items_show_counts_only(rendered):
    page = (rendered["out"] / "report.html").read_text(encoding="utf-8")
    assert "not quoted: not marked as reviewed" in page


def test_results_do_not_depend_on_the_report_language(tmp_path):
    en = WorkshopReport.prepare(FLAGSHIP, tmp_path / "en", language="en", n_resamples=200)
    ru = WorkshopReport.prepare(FLAGSHIP, tmp_path / "ru", language="ru", n_resamples=200)
    assert en.indicators["label"].tolist() != ru.indicators["label"].tolist()
    for name in ("indicators", "items", "scales"):
        a = (tmp_path / "en" / "results" / f"{name}.csv").read_bytes()
        assert a == (tmp_path / "ru" / "results" / f"{name}.csv").read_bytes(), name


def _text_of(page_html: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page_html)).split())


def test_report_reads_as_prose_not_as_codes(rendered):
    """What a reviewer of the rendered flagship found: codes, English and misleading notes."""
    out = rendered["out"]
    en = (out / "report.html").read_text(encoding="utf-8")
    ru = (out / "report.ru.html").read_text(encoding="utf-8")
    en_text, ru_text = _text_of(en), _text_of(ru)
    # the cover (dates, place) comes before the contents, which do not list the title again
    for page in (en, ru):
        cover = re.search(r"class=[\"']report-cover", page)
        assert cover and cover.start() < page.index('class="toc after-cover"')
        toc = page[page.index('class="toc'):page.index("</nav>")]
        assert "report-cover" not in toc and "Towards a comprehensive" not in toc
        assert "На пути к всестороннему" not in toc
    # a measure that joins two items is named, not shown as its ids
    assert "fu_applied+fu_materials" not in en + ru
    assert "Applied what they learned or used the materials" in en_text
    assert "Применили знания или использовали материалы" in ru_text
    # groups the analysis adds ("other") and sector codes are words of the report language
    disaggregation = ru_text[ru_text.index("Результаты по странам"):]
    assert "Прочие" in disaggregation and " other " not in f" {disaggregation} "
    # the suppression note does not claim that every hidden number is below the threshold
    assert "suppressed because fewer than" not in en_text
    assert "or would let such a number be worked out from the totals" in en_text
    # p-values: none rounded to a misleading 0.00
    assert re.search(r"<0\.001", en_text) and re.search(r"<0,001", ru_text)
    assert not re.search(r"\b0[.,]00\b(?!\d)", " ".join(
        re.findall(r"p \(Holm\)[^A-Z]*", en_text)))
    # Russian annexes are lettered in Cyrillic; item types are words
    assert "Приложение А." in ru_text and "Приложение Б." in ru_text
    assert "Приложение A." not in ru_text and "Приложение B." not in ru_text
    for code in ("single_choice", "multiple_choice", "likert"):
        assert f">{code}<" not in en and f">{code}<" not in ru
    # the reverse-worded item says so, and the note explains how it is scored
    assert "unclear to me. (reverse-worded)" in en_text
    assert any("(reverse-worded)" in img for img in re.findall(r"<img[^>]*>", en))  # its chart
    assert "scored in reverse" in en_text and "обратной шкале" in ru_text
    # an indicator whose value is withheld says why, beside its status
    assert "the status still rests on all respondents" in en_text
    # the merged small groups are explained; the knowledge total shows its percent correct
    assert "“Other”: the groups with fewer than 5 participants, combined." in en_text
    knowledge = en_text[en_text.index("Knowledge test: total score"):][:80]
    assert re.search(r"Knowledge test: total score \d+ \d+% \d+%", knowledge), knowledge
