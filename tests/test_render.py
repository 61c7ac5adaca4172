"""Tests of evaluation.render: papermill execution, self-contained HTML, A4 PDF with Cyrillic."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

from evaluation.errors import ReportError
from evaluation.render import (
    CONTENT_SECURITY_POLICY,
    execute_notebook,
    html_to_pdf,
    notebook_to_html,
    render_notebook_report,
    table_html,
)

HEADING_RU = "Итоги семинара"
COUNTRIES = "Казахстан, Кыргызстан, Тоҷикистон, Türkmenistan, Oʻzbekiston"

FIGURE_CODE = """\
import pandas as pd
from evaluation.figures import participation_bars, show
counts = pd.DataFrame({"group": ["Country"] * 2, "category": ["Тоҷикистон", "Oʻzbekiston"],
                       "n": [6, None]})
show(participation_bars(counts, title=title))
"""

ESCAPED_CODE = """\
import html
from IPython.display import HTML, display
answer = "<script>alert('x')</script> спасибо"
display(HTML("<p class='answer'>" + html.escape(answer) + "</p>"))
"""


def _code(source: str, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = tags
    return cell


def write_template(path: Path, *extra_cells: nbformat.NotebookNode) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [
        _code('workshop_id = "W-TEST"\ntitle = "Participation"', ["parameters"]),
        nbformat.v4.new_markdown_cell(f"# {HEADING_RU}\n\n{COUNTRIES}\n\n## Участие"),
        _code(FIGURE_CODE),
        nbformat.v4.new_markdown_cell(
            "## Feedback\n\nSee [the strategy](https://www.un.org/counterterrorism/) online."
        ),
        _code(ESCAPED_CODE),
        _code("import sys\nprint('a warning for the evaluator only', file=sys.stderr)"),
        *extra_cells,
    ]
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("render")
    template = write_template(tmp / "template.ipynb")
    return render_notebook_report(
        template,
        tmp / "out",
        {"workshop_id": "W-TEST", "title": "Участие по странам"},
        stem="report.ru",
        language="ru",
        title="Отчёт о семинаре W-TEST",
        synthetic=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


@pytest.fixture(scope="module")
def page(rendered) -> str:
    return rendered["html"].read_text(encoding="utf-8")


class _ImageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def _images(page: str) -> list[dict[str, str | None]]:
    parser = _ImageParser()
    parser.feed(page)
    return parser.images


def _alt_texts(page: str) -> list[str | None]:
    return [image.get("alt") for image in _images(page)]


# ------------------------------------------------------------------------------- HTML


@pytest.mark.slow
def test_outputs_are_written_atomically(rendered):
    assert {k: p.name for k, p in rendered.items()} == {
        "ipynb": "report.ru.ipynb",
        "html": "report.ru.html",
        "pdf": "report.ru.pdf",
    }
    folder = rendered["html"].parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in rendered.values())
    executed = nbformat.read(rendered["ipynb"], as_version=4)
    assert executed.metadata["papermill"]["parameters"]["workshop_id"] == "W-TEST"


@pytest.mark.slow
def test_html_is_self_contained_and_script_free(page):
    assert "<script" not in page.lower()
    external = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert not external
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", page, re.IGNORECASE)
    assert "@import" not in page
    assert f'content="{CONTENT_SECURITY_POLICY}"' in page
    assert 'http-equiv="Content-Security-Policy"' in page
    assert "script-src" not in page
    assert re.search(r'<meta charset="utf-8"\s*/?>', page)
    assert '<html lang="ru">' in page


@pytest.mark.slow
def test_html_has_no_code_prompts_or_stderr(page):
    assert "import pandas" not in page
    assert "In&nbsp;[" not in page and "Out[" not in page
    assert "a warning for the evaluator only" not in page
    assert "anchor-link" not in page.split("</style>")[-1]


@pytest.mark.slow
def test_images_are_data_uris_with_alt_text(page):
    images = _images(page)
    assert images
    for image in images:
        assert re.fullmatch(r"data:image/png;base64,[A-Za-z0-9+/=]+", image["src"] or "")
        assert (image.get("alt") or "").strip()
    assert "Тоҷикистон 6" in page  # the alt text states the numbers shown
    assert "<figcaption>Участие по странам</figcaption>" in page


@pytest.mark.slow
def test_headings_toc_and_language_survive(page):
    assert f">{HEADING_RU}</h1>" in page
    assert COUNTRIES in page
    nav = re.search(r'<nav class="toc".*?</nav>', page, re.DOTALL).group(0)
    targets = re.findall(r'href="#([^"]+)"', nav)
    assert len(targets) == 3  # Итоги семинара, Участие, Feedback; the title is not listed
    for target in targets:
        assert f'id="{target}"' in page
    assert f">{HEADING_RU}</a>" in nav
    assert "Содержание" in nav


@pytest.mark.slow
def test_escaped_respondent_text_stays_escaped(page):
    assert "&lt;script&gt;alert('x')&lt;/script&gt; спасибо" in page


@pytest.mark.slow
def test_external_links_become_text(page):
    assert "the strategy" in page
    assert '<span class="external-link-url">https://www.un.org/counterterrorism/</span>' in page


@pytest.mark.slow
def test_synthetic_banner_on_screen_and_in_print(page):
    assert '<div class="synthetic-banner" role="note">SYNTHETIC DEMONSTRATION DATA' in page
    assert re.search(r'@page \{ @top-center \{ content: "SYNTHETIC DEMONSTRATION DATA', page)


# -------------------------------------------------------------------------------- PDF


@pytest.mark.slow
def test_pdf_is_a4_with_cyrillic_and_page_numbers(rendered):
    reader = PdfReader(rendered["pdf"])
    pages = len(reader.pages)
    assert pages >= 2  # title page with the contents, then the report
    text = ""
    for number, pdf_page in enumerate(reader.pages, start=1):
        width, height = (float(v) for v in pdf_page.mediabox[2:])
        assert width == pytest.approx(595, abs=1) and height == pytest.approx(842, abs=1)
        page_text = pdf_page.extract_text()
        assert f"{number} / {pages}" in page_text
        assert "SYNTHETIC DEMONSTRATION DATA" in page_text
        text += page_text
    for word in (HEADING_RU, "Тоҷикистон", "Oʻzbekiston", "Казахстан", "Türkmenistan"):
        assert word in text
    assert "Отчёт о семинаре W-TEST" in text  # running title
    assert re.search(rf"{HEADING_RU}\s*\.+\s*2", reader.pages[0].extract_text())  # TOC page no.
    assert reader.metadata.title == "Отчёт о семинаре W-TEST"


def _pdf_alt_texts(node, found: list[str]) -> list[str]:
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, dict):
        if "/Alt" in node:
            found.append(str(node["/Alt"]))
        if "/K" in node:
            _pdf_alt_texts(node["/K"], found)
    elif isinstance(node, list):
        for child in node:
            _pdf_alt_texts(child, found)
    return found


@pytest.mark.slow
def test_pdf_is_tagged_and_keeps_alt_text(rendered):
    root = PdfReader(rendered["pdf"]).trailer["/Root"]
    assert root["/Lang"] == "ru"
    alts = _pdf_alt_texts(root["/StructTreeRoot"], [])
    assert any("Тоҷикистон 6" in alt for alt in alts)


def test_pdf_never_fetches_from_outside(tmp_path):
    html = '<html><meta charset="utf-8"><img src="https://example.invalid/logo.png"></html>'
    with pytest.raises(ReportError, match="outside the report"):
        html_to_pdf(html, tmp_path / "x.pdf")
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------- notebook_to_html


def test_external_image_in_markdown_is_refused():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T\n\n![logo](https://example.invalid/l.png)")]
    with pytest.raises(ReportError, match="external resource"):
        notebook_to_html(nb, "T")


def test_html_only_outputs_and_language_validation():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": '<figure><img src="data:image/png;base64,iVBORw0KGgo=" '
                'alt="A &quot;quoted&quot; &lt;b&gt; alt"></figure>',
                "text/plain": "fallback",
            },
        ),
        nbformat.v4.new_output("display_data", data={"application/javascript": "alert(1)"}),
        nbformat.v4.new_output("error", ename="KeyError", evalue="'secret'", traceback=["tb"]),
    ]
    nb.cells = [cell]
    page = notebook_to_html(nb, "T <&>", language="en")
    alts = _alt_texts(page)
    assert alts == ['A "quoted" <b> alt']  # the attribute value, still escaped in the markup
    assert "<b>" not in page
    assert "alert(1)" not in page and "secret" not in page
    assert "<title>T &lt;&amp;&gt;</title>" in page
    assert "SYNTHETIC" not in page
    with pytest.raises(ValueError):
        notebook_to_html(nb, "T", language="en<script>")


# -------------------------------------------------------------------------- execute_notebook


@pytest.mark.slow
def test_failing_cell_gives_one_sentence(tmp_path):
    failing = _code("print('Respondent Aigerim, +996 555 123 456')\n1 / 0")
    template = write_template(tmp_path / "broken.ipynb", failing)
    with pytest.raises(ReportError) as info:
        execute_notebook(template, tmp_path / "out.ipynb", {"workshop_id": "W-9"})
    message = str(info.value)
    assert message == (
        "Report for workshop 'W-9': cell In [6] of broken.ipynb failed with "
        "ZeroDivisionError: division by zero."
    )
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert not (tmp_path / "out.ipynb").exists()


def test_missing_template_gives_report_error(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        execute_notebook(tmp_path / "nope.ipynb", None, {})


# ------------------------------------------------------------------------------ wide tables


def _wide_table_notebook(rows: int = 12) -> nbformat.NotebookNode:
    """An annex-like table: 12 columns, long item texts, two-word wave names."""
    import pandas as pd

    frame = pd.DataFrame({
        "Item": [f"I am familiar with good practices on topic {i} of the joint plan of action."
                 for i in range(rows)],
        "From": ["Then (retrospective)"] * rows, "To": ["Then (retrospective)"] * rows,
        "Pairs": [24] * rows, "Mean before": ["3.04"] * rows, "Mean after": ["3.48"] * rows,
        "Change": ["0.44"] * rows, "CI low": ["-0.04"] * rows, "CI high": ["0.88"] * rows,
        "p (Holm)": ["0.20"] * rows, "Rank-biserial r": ["0.58"] * rows,
        "Improved": ["46% (11 of 24)"] * rows,
    })
    cell = nbformat.v4.new_code_cell("table")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": table_html(frame)})]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Annex"), cell]
    return nb


def test_wide_tables_fit_the_page_width(tmp_path):
    # Before the wide-table rule the narrowest layout of such a table was wider than the A4
    # text width and its last columns were printed beyond the paper's edge.
    pdf = html_to_pdf(notebook_to_html(_wide_table_notebook(), "Wide"), tmp_path / "w.pdf")
    reader = PdfReader(pdf)
    right_edge = float(reader.pages[0].mediabox[2]) - 16 / 25.4 * 72  # the right margin, 16 mm
    starts: dict[str, list[float]] = {}

    def visit(text, cm, tm, font_dict, font_size):
        starts.setdefault(text.strip(), []).append(cm[4] + tm[4] * cm[0])  # x on the page

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    last_column = starts.get("Improved", []) + [
        x for text, xs in starts.items() if text.startswith("46%") for x in xs]
    assert len(last_column) == 1 + 12
    assert max(last_column) < right_edge - 30  # the last column starts inside the text area
    assert len(reader.pages) <= 2  # rows of a few lines, not one word per line


def test_own_kernel_ends_and_leaves_nothing_behind(tmp_path, monkeypatch):
    """A report's own kernel is asked to stop before the layout and is gone afterwards."""
    import evaluation.render as render

    kernels = []
    original = render.ReportKernel.request_shutdown

    def remember(self):
        kernels.append((self.pid, self._socket_dir))
        original(self)

    monkeypatch.setattr(render.ReportKernel, "request_shutdown", remember)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Report"), nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(nb, tmp_path / "t.ipynb")
    paths = render_notebook_report(tmp_path / "t.ipynb", tmp_path / "out", {})
    assert paths["pdf"].is_file()
    [(pid, sockets)] = kernels
    assert sockets is not None and not Path(sockets).exists()
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(
        f"/proc/{pid}/status").read_text()


def test_missing_kernel_is_named_in_one_sentence(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "x", "language": "x"}
    nb.cells = [nbformat.v4.new_code_cell("1")]
    nbformat.write(nb, tmp_path / "t.ipynb")
    for run in (lambda: execute_notebook(tmp_path / "t.ipynb", None, {}),
                lambda: render_notebook_report(tmp_path / "t.ipynb", tmp_path / "out", {})):
        with pytest.raises(ReportError, match="no Jupyter kernel named 'no-such-kernel'"):
            run()
    assert not (tmp_path / "out" / "report.pdf").exists()
