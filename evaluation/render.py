"""Render a report notebook into donor-ready HTML and PDF.

The chain runs in one process (no command-line tools): :func:`execute_notebook` runs a papermill
template with the workshop's parameters, :func:`notebook_to_html` exports the executed notebook
with the toolkit's own nbconvert template (``evaluation/templates/report``) and
:func:`html_to_pdf` lays the HTML out on A4 pages with WeasyPrint. :func:`render_notebook_report`
does all three and writes ``<stem>.ipynb``, ``<stem>.html`` and ``<stem>.pdf`` atomically.

What a rendered report guarantees
---------------------------------
- **Self-contained and script-free.** No input cells, prompts, tracebacks, warnings (stderr),
  scripts or widgets; images are embedded as ``data:`` URIs; a Content-Security-Policy meta tag
  (:data:`CONTENT_SECURITY_POLICY`) forbids every script, frame and remote fetch. Links to web
  pages written in markdown become plain text showing the address; an external image, stylesheet
  or font (something that would be *fetched*) makes rendering fail with
  :class:`~evaluation.errors.ReportError`.
- **Text stays as the notebook produced it.** ``text/html`` outputs are included as they are
  (the library escapes respondent text before it reaches an output); the template never unescapes
  anything. ``<script>`` elements are removed from the final document as a second line of defence.
- **Readable in every language of the region.** UTF-8, ``<html lang>``, and a font stack led by
  DejaVu Sans, which covers Russian, Kazakh, Kyrgyz and Tajik Cyrillic and Uzbek/Turkmen Latin
  (including U+02BB in "Oʻzbekiston").
- **Navigable.** A table of contents is built from the ``h1``–``h3`` headings; in the PDF it sits
  on its own page with page numbers (CSS ``target-counter``). Pages are numbered "n / N".
- **Honest about demo data.** With ``synthetic=True`` a "SYNTHETIC DEMONSTRATION DATA" banner
  stays at the top of the screen and is printed in the header of every PDF page.
"""

from __future__ import annotations

import contextlib
import gc
import html as _html
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from evaluation.errors import ReportError

if TYPE_CHECKING:
    import pandas as pd
    from nbformat import NotebookNode

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "ReportKernel",
    "TEMPLATE_DIR",
    "execute_notebook",
    "column_widths",
    "html_to_pdf",
    "notebook_to_html",
    "render_notebook_report",
    "table_html",
]

#: Folder holding the nbconvert template ``report`` (``index.html.j2``, ``report.css``).
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

#: Content-Security-Policy of every report: no script source at all, images and fonts only as
#: ``data:`` URIs, inline styles only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"
)

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "banner": "SYNTHETIC DEMONSTRATION DATA",
        "note": (
            "This report was produced from synthetic demonstration data. No number in it "
            "describes a real workshop or a real person."
        ),
        "toc": "Contents",
    },
    "ru": {
        "banner": "SYNTHETIC DEMONSTRATION DATA · СИНТЕТИЧЕСКИЕ ДЕМОНСТРАЦИОННЫЕ ДАННЫЕ",
        "note": (
            "Этот отчёт подготовлен на синтетических демонстрационных данных. Ни одна цифра "
            "в нём не описывает реальный семинар или реального человека."
        ),
        "toc": "Содержание",
    },
}

_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_HEADING_RE = re.compile(r"<h([1-3])(\s[^>]*)?>(.*?)</h\1\s*>", re.IGNORECASE | re.DOTALL)
_ID_ATTR_RE = re.compile(r"""\sid\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]*>")
_SCRIPT_RE = re.compile(r"<script\b.*?(</script\s*>|$)", re.IGNORECASE | re.DOTALL)
_EXTERNAL = r"(?:[A-Za-z][A-Za-z0-9+.-]*:)?//"  # http://, https://, ftp://, //host
_EXTERNAL_LINK_RE = re.compile(
    r"<a\b[^>]*?\shref\s*=\s*([\"'])\s*(?P<url>(?:https?:|ftp:)?//[^\"']*)\1[^>]*>(?P<inner>.*?)</a\s*>",
    re.IGNORECASE | re.DOTALL,
)
_OPEN_TAG_RE = re.compile(r"<[A-Za-z][^>]*>")
_STYLE_ELEMENT_RE = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)
_EXTERNAL_ATTR_RE = re.compile(
    r"\s(?:src|srcset|href|data|action|formaction|poster|background|xlink:href)\s*=\s*"
    r"([\"'])\s*" + _EXTERNAL,
    re.IGNORECASE,
)
_EXTERNAL_CSS_RE = re.compile(
    r"(?:url\(\s*[\"']?\s*" + _EXTERNAL + r"|@import\s+[\"']?\s*" + _EXTERNAL + ")",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------------------------
# helpers


def _words(language: str) -> dict[str, str]:
    return _WORDS.get(language.split("-")[0].lower(), _WORDS["en"])


def _workshop_label(parameters: Mapping[str, Any] | None, fallback: str) -> str:
    parameters = parameters or {}
    for key in ("workshop_id", "workshop"):
        value = parameters.get(key)
        if value:
            return str(value)
    if parameters.get("workshop_dir"):
        return Path(str(parameters["workshop_dir"])).name
    return fallback


def _one_line(text: object, limit: int = 200) -> str:
    """First line of ``text``, without ANSI colour codes, shortened to ``limit`` characters."""
    line = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(text)).strip().splitlines()
    first = line[0].strip() if line else ""
    if len(first) > limit:
        first = first[: limit - 1].rstrip() + "…"
    return first.rstrip(".")


def _atomic_write(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _css_string(text: str) -> str:
    """Quote-safe content for a CSS string literal inside a ``<style>`` element."""
    out = []
    for char in text:
        if char in '"\\<>' or ord(char) < 0x20:
            out.append(f"\\{ord(char):x} ")
        else:
            out.append(char)
    return "".join(out)


_COVER_RE = re.compile(r"<section class=['\"]report-cover['\"]>.*?</section>", re.DOTALL)


def _plain_text(fragment: str) -> str:
    return " ".join(_html.unescape(_TAG_RE.sub("", fragment)).split())


def _number_headings(body: str) -> tuple[str, list[tuple[int, str, str]]]:
    """Give every h1–h3 an ASCII id ``sec-N`` and return the TOC entries.

    Internal links to the old ids (``href="#old"``) are redirected to the new ones.
    """
    entries: list[tuple[int, str, str]] = []
    renamed: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        level, attrs, inner = int(match[1]), match[2] or "", match[3]
        text = _plain_text(inner)
        if not text or "no-toc" in attrs:
            return match[0]
        new_id = f"sec-{len(entries) + 1}"
        old = _ID_ATTR_RE.search(attrs)
        if old:
            renamed[old[1].strip("\"'")] = new_id
        # the id nbconvert would have given the heading: keeps markdown links like (#Итоги)
        renamed.setdefault(quote(text.replace(" ", "-"), safe="?/:@!$&'()*+,;="), new_id)
        attrs = _ID_ATTR_RE.sub("", attrs)
        entries.append((level, new_id, _html.escape(text)))
        return f'<h{level} id="{new_id}"{attrs}>{inner}</h{level}>'

    body = _HEADING_RE.sub(replace, body)
    for old_id, new_id in renamed.items():
        for spelled in {old_id, _html.escape(old_id, quote=False)}:
            body = body.replace(f'href="#{spelled}"', f'href="#{new_id}"')
    return body, entries


def _toc_html(entries: list[tuple[int, str, str]], label: str, after_cover: bool = False) -> str:
    if not entries:
        return ""
    top = min(level for level, _, _ in entries)
    items = "\n".join(
        f'<li class="toc-{level - top + 1}"><a href="#{anchor}">{text}</a></li>'
        for level, anchor, text in entries
    )
    return (
        f'<nav class="toc{" after-cover" if after_cover else ""}" aria-labelledby="toc-title">\n'
        f'<h2 id="toc-title">{_html.escape(label)}'
        f"</h2>\n<ol>\n{items}\n</ol>\n</nav>"
    )


def _unlink_external(match: re.Match[str]) -> str:
    url = _html.unescape(match["url"]).strip()
    inner = match["inner"]
    shown = f'<span class="external-link-url">{_html.escape(url)}</span>'
    if _plain_text(inner) in {url, url.rstrip("/")}:
        return shown
    return f'<span class="external-link">{inner}</span> ({shown})'


def _external_references(document: str) -> int:
    """Count references inside tags and style sheets that a viewer would fetch from elsewhere."""
    count = sum(len(_EXTERNAL_ATTR_RE.findall(tag)) for tag in _OPEN_TAG_RE.findall(document))
    count += sum(len(_EXTERNAL_CSS_RE.findall(tag)) for tag in _OPEN_TAG_RE.findall(document))
    count += sum(len(_EXTERNAL_CSS_RE.findall(css)) for css in _STYLE_ELEMENT_RE.findall(document))
    return count


#: Average DejaVu Sans characters across the A4 text width at 8.5 pt (7.5 pt for tables of 9
#: columns or more), the cell padding in characters, and the room a long text column keeps.
_LINE_CHARS = {False: 92.0, True: 104.0}
_PADDING = {False: 1.8, True: 1.2}
_TEXT_MIN = {False: 26.0, True: 22.0}
#: Bold header letters are wider than body text.
_BOLD = 1.1
#: Where a line may break: ordinary spaces (not no-break spaces) and after a letter's hyphen.
_SPACE_RE = re.compile(r"[ \t\r\n]+")
_HYPHEN_RE = re.compile(r"(?<=[^\W\d_])-")


#: Cyrillic letters of DejaVu Sans are about 13% wider than Latin ones (measured on pangrams).
_CYRILLIC_WIDTH = 1.13
_CYRILLIC_RE = re.compile("[\u0400-\u04ff]")


def _width(text: str) -> float:
    """Width of ``text`` in average Latin characters."""
    return len(text) + (_CYRILLIC_WIDTH - 1) * len(_CYRILLIC_RE.findall(text))


def _longest_piece(text: str) -> float:
    """Width of the longest piece of ``text`` that a line cannot break inside."""
    return max((_width(piece) + 1 if i < len(parts) - 1 else _width(piece)
                for word in _SPACE_RE.split(text)
                for parts in [_HYPHEN_RE.split(word)] for i, piece in enumerate(parts)),
               default=0)


def _header_piece(text: str) -> float:
    """Like :func:`_longest_piece` for a header: long Russian words may be hyphenated (CSS)."""
    longest = _longest_piece(text)
    if longest <= 10 or not _CYRILLIC_RE.search(text):
        return longest
    return max(10.0, longest / 2 + 1.5)


def column_widths(frame: pd.DataFrame, na_rep: str = "–") -> list[float]:
    """Column widths in percent of the text width, from the length of what each column shows.

    Each column gets at least its longest unbreakable piece of text (a header word counts a
    little wider, being bold); a column of long texts keeps room for about 22-26 characters.
    The rest of the line is shared in proportion to how much more each column's longest text
    needs. Print lays tables out with these widths (``table-layout: fixed``), which spares
    WeasyPrint measuring every cell twice (most of its time on a long annex).

    Parameters
    ----------
    frame : DataFrame
        The table as shown (headers and cells as text after formatting).
    na_rep : str, default "–"
        What an empty cell shows.

    Returns
    -------
    list of float
        One width per column, in percent, summing to 100.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.render import column_widths
    >>> frame = pd.DataFrame({"Item": ["I can design a national action plan on PVE/CT."],
    ...                       "n": [24], "Mean": ["3.48"]})
    >>> widths = column_widths(frame)
    >>> [round(w) for w in widths], round(sum(widths))  # 47.8, 3.8 and 6.2 characters
    ([83, 7, 11], 100)
    """
    wide = frame.shape[1] >= 9
    pad = _PADDING[wide]
    shortest, longest = [], []
    for name in frame.columns:
        cells = [na_rep if _missing(v) else str(v) for v in frame[name]]
        header = _BOLD * max(_header_piece(str(name)), 1)
        piece = max((_longest_piece(text) for text in cells), default=1)
        full = max((_width(text) for text in cells), default=1)
        low = max(header, piece)
        if full > 30:  # a column of sentences: keep room for a few words per line
            low = max(low, min(full, _TEXT_MIN[wide]))
        shortest.append(low + pad)
        longest.append(max(low, full) + pad)
    budget = max(_LINE_CHARS[wide], sum(shortest))
    if sum(longest) <= budget:
        chars = longest
    else:
        spare = budget - sum(shortest)
        extra = [lo - sh for lo, sh in zip(longest, shortest, strict=True)]
        chars = [sh + spare * e / sum(extra) for sh, e in zip(shortest, extra, strict=True)]
    total = sum(chars)
    return [100.0 * c / total for c in chars]


def _missing(value: object) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def table_html(frame: pd.DataFrame, caption: str | None = None) -> str:
    """A report table: escaped cells, "–" for empty ones, an optional caption, column widths.

    Parameters
    ----------
    frame : DataFrame
        The table as shown (already localized); the index is not shown.
    caption : str, optional
        The table's caption (escaped).

    Returns
    -------
    str
        ``<table class="dataframe report-table">`` with a ``<colgroup>`` from
        :func:`column_widths`.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.render import table_html
    >>> frame = pd.DataFrame({"Answer": ["<script>x</script>"], "n": [float("nan")]})
    >>> page = table_html(frame, "A & B")
    >>> "&lt;script&gt;" in page, "<caption>A &amp; B</caption>" in page, "<td>–</td>" in page
    (True, True, True)
    >>> page.count("<col style=")
    2
    """
    body = frame.to_html(index=False, escape=True, na_rep="–", border=0,
                         classes="report-table")
    cols = "".join(f'<col style="width: {w:.1f}%">' for w in column_widths(frame))
    head = f"<caption>{_html.escape(caption)}</caption>\n" if caption else ""
    return body.replace(">\n  <thead>", f">\n{head}<colgroup>{cols}</colgroup>\n  <thead>", 1)


def _read_notebook(nb: NotebookNode | str | os.PathLike[str]) -> NotebookNode:
    import nbformat

    if isinstance(nb, (str, os.PathLike)):
        return nbformat.read(os.fspath(nb), as_version=4)
    return nb


# --------------------------------------------------------------------------------------------
# one kernel for several notebooks (batch workers)

_ENGINE_NAME = "evaluation-reused-kernel"


class ReportKernel:
    """One Jupyter kernel that executes several report notebooks, one after the other.

    The kernel starts on first use. Where it is safe (Linux, the same interpreter, one thread;
    see :mod:`evaluation.kernels`) it is a fork of this process made after importing the
    toolkit and the scientific stack here, so it does not import them again (a launched kernel
    spends about 1.5 s on its start and those imports). A batch worker makes one
    ``ReportKernel`` and passes it to :func:`execute_notebook` (or
    :func:`render_notebook_report`) for each workshop, so that even the fork happens once.

    **No state crosses from one notebook to the next.** Before every notebook but the first, the
    kernel runs, silently: close every pyplot figure, change to the notebook's working folder,
    ``get_ipython().reset(new_session=True)`` (what ``%reset -f`` does: every user variable, the
    output cache and ``_``/``Out`` are dropped; and the execution counter starts at 1 again), then
    ``gc.collect()``. Imported *modules* stay loaded -- that is the saving -- so library code
    must not keep per-workshop state at module level (caches keyed by their inputs are fine).
    If a notebook times out or the kernel dies, the kernel is shut down and the next notebook
    gets a new one; so it is when the kernel's resident memory has grown past ``memory_limit_mb``
    (checked before each notebook, on Linux), which bounds what a long batch can accumulate.

    Parameters
    ----------
    kernel_name : str, default "python3"
        The Jupyter kernel (the template's kernelspec is not consulted).
    startup_timeout : int, default 60
        Seconds the kernel may take to start.
    memory_limit_mb : int or None, default 450
        Start a new kernel before the next notebook once the kernel uses more than this much
        resident memory (a fresh kernel that has run one report uses about 300 MB); ``None``
        never recycles it.

    Examples
    --------
    >>> import tempfile, nbformat
    >>> from pathlib import Path
    >>> from evaluation.render import ReportKernel, execute_notebook
    >>> tmp = Path(tempfile.mkdtemp())
    >>> nb = nbformat.v4.new_notebook()
    >>> cell = nbformat.v4.new_code_cell("n = 1")
    >>> cell.metadata["tags"] = ["parameters"]
    >>> nb.cells = [cell, nbformat.v4.new_code_cell("print(n * 2, 'seen' in dir())\\nseen = 1")]
    >>> nbformat.write(nb, tmp / "t.ipynb")
    >>> with ReportKernel() as kernel:
    ...     first = execute_notebook(tmp / "t.ipynb", None, {"n": 21}, kernel=kernel)
    ...     second = execute_notebook(tmp / "t.ipynb", None, {"n": 2}, kernel=kernel)
    ...     kernel.notebooks_run
    2
    >>> first.cells[-1].outputs[0].text, second.cells[-1].outputs[0].text
    ('42 False\\n', '4 False\\n')
    >>> second.cells[0].execution_count
    1
    """

    def __init__(self, kernel_name: str = "python3", startup_timeout: int = 60,
                 memory_limit_mb: int | None = 450) -> None:
        self.kernel_name = kernel_name
        self._socket_dir: str | None = None
        self._stop_requested = False
        self.startup_timeout = startup_timeout
        self.memory_limit_mb = memory_limit_mb
        self.km: Any = None
        self.kc: Any = None
        self.notebooks_run = 0  # notebooks executed in the current kernel process
        self._cwd: str | None = None

    # -- life cycle ---------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        """Whether a kernel process is running."""
        return self.km is not None

    @property
    def pid(self) -> int | None:
        """Process id of the running kernel (``None`` when none runs)."""
        provisioner = getattr(self.km, "provisioner", None)
        return getattr(provisioner, "pid", None)

    def memory_mb(self) -> float | None:
        """Resident memory of the kernel process in MB (Linux ``/proc``), else ``None``.

        For a forked kernel this counts the pages it still shares with this process, as a
        launched kernel counts its own copy of the same libraries: the limit means the same.
        """
        try:
            status = Path(f"/proc/{self.pid}/status").read_text(encoding="ascii")
        except (OSError, TypeError):
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return None

    def start(self, cwd: str | os.PathLike[str] | None = None) -> None:
        """Start the kernel (in ``cwd``) unless it runs already."""
        if self.km is not None:
            return
        import nbformat
        from nbclient import NotebookClient

        from evaluation.kernels import ForkingKernelManager, fork_possible, preload

        if fork_possible():
            preload()  # a forked kernel starts with what this process has imported

        # Unix sockets in a fresh owner-only folder instead of TCP ports on localhost: no other
        # local user can connect to the kernel, and nothing listens on the network.
        self._socket_dir = tempfile.mkdtemp(prefix="evaluate-kernel-")
        self._cwd = os.fspath(cwd) if cwd is not None else os.getcwd()
        km = None
        try:
            km = ForkingKernelManager(kernel_name=self.kernel_name, transport="ipc",
                                      ip=os.path.join(self._socket_dir, "k"))
            starter = NotebookClient(nbformat.v4.new_notebook(), km=km,
                                     kernel_name=self.kernel_name,
                                     startup_timeout=self.startup_timeout)
            starter.start_new_kernel(cwd=self._cwd)  # launches the process, does not wait
            _import_renderers()  # this process has nothing else to do while the kernel boots
            self.kc = starter.start_new_kernel_client()  # waits until the kernel answers
        except Exception:
            from jupyter_core.utils import run_sync

            self.km = None
            if km is not None:
                try:  # a kernel that started but never answered must not outlive us
                    run_sync(km.shutdown_kernel)(now=True)
                except Exception:
                    pass
            self._remove_sockets()
            raise
        self.km = km
        self.notebooks_run = 0

    def request_shutdown(self) -> None:
        """Ask the kernel to stop and return at once; :meth:`shutdown` then waits for it.

        A kernel takes a moment to end; meanwhile this process can lay out the report.
        """
        if self.km is None or self._stop_requested:
            return
        from jupyter_core.utils import run_sync

        try:
            if self.kc is not None:
                self.kc.stop_channels()
                self.kc = None
            run_sync(self.km.request_shutdown)()
            self._stop_requested = True
        except Exception:  # shutdown() stops it the hard way
            pass

    def shutdown(self) -> None:
        """Stop the kernel process (idempotent); a later notebook starts a new one."""
        km, kc = self.km, self.kc
        requested, self._stop_requested = self._stop_requested, False
        self.km = self.kc = None
        self.notebooks_run = 0
        if km is None:
            return
        from jupyter_core.utils import run_sync

        try:
            if kc is not None:
                kc.stop_channels()
            if requested:  # wait for it to end (it is killed if it takes too long)
                run_sync(km.finish_shutdown)()
            else:
                run_sync(km.shutdown_kernel)(now=False)
        except Exception:  # already dead: make sure nothing is left
            try:
                run_sync(km.shutdown_kernel)(now=True)
            except Exception:
                pass
        finally:
            try:
                run_sync(km.cleanup_resources)()
            except Exception:
                pass
            self._remove_sockets()

    def _remove_sockets(self) -> None:
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    def __enter__(self) -> ReportKernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- between notebooks --------------------------------------------------------------------
    def reset(self, cwd: str | os.PathLike[str] | None = None) -> None:
        """Empty the namespace (see the class notes) and move to ``cwd``."""
        if self.km is None:
            return
        from jupyter_core.utils import run_sync

        target = os.fspath(cwd) if cwd is not None else self._cwd
        code = (
            "import gc as _gc, os as _os, sys as _sys\n"
            "if 'matplotlib.pyplot' in _sys.modules:\n"
            "    _sys.modules['matplotlib.pyplot'].close('all')\n"
            f"_os.chdir({target!r})\n"
            "get_ipython().reset(new_session=True)\n"
            "__import__('gc').collect()\n"
        )
        reply = run_sync(self.kc.execute_interactive)(
            code, silent=True, store_history=False, timeout=self.startup_timeout,
            output_hook=lambda msg: None,
        )
        if reply["content"].get("status") != "ok":
            raise RuntimeError("the kernel could not be reset between two notebooks")

    def _prepare(self, cwd: str | os.PathLike[str] | None) -> None:
        if self.km is not None:
            from jupyter_core.utils import run_sync

            if not run_sync(self.km.is_alive)():
                self.shutdown()
            elif self.memory_limit_mb is not None and self.notebooks_run:
                used = self.memory_mb()
                if used is not None and used > self.memory_limit_mb:
                    self.shutdown()  # recycle: the next notebook gets a fresh kernel
        if self.km is None:
            self.start(cwd)
        if self.notebooks_run or (cwd is not None and os.fspath(cwd) != self._cwd):
            self.reset(cwd)


def _register_engine() -> str:
    """Register (once) the papermill engine that runs a notebook in a :class:`ReportKernel`.

    It is papermill's own nbclient engine with a kernel manager and client passed in, so the
    executed notebook carries papermill's injected-parameters cell and metadata as usual.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    if _ENGINE_NAME in papermill_engines._engines:
        return _ENGINE_NAME

    class ReusedKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, report_kernel=None, **kwargs):
            for unused in ("input_path", "timeout", "startup_timeout"):
                kwargs.pop(unused, None)
            client = PapermillNotebookClient(
                nb_man, km=report_kernel.km, timeout=execution_timeout,
                startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                **kwargs,
            )
            client.kc = report_kernel.kc  # the same client: no new channels per notebook
            return client.execute()

    papermill_engines.register(_ENGINE_NAME, ReusedKernelEngine)
    return _ENGINE_NAME


# --------------------------------------------------------------------------------------------
# public API


def execute_notebook(
    template: str | os.PathLike[str],
    output: str | os.PathLike[str] | None,
    parameters: Mapping[str, Any] | None = None,
    kernel_name: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: int | None = 300,
    kernel: ReportKernel | None = None,
) -> NotebookNode:
    """Run a papermill template notebook in this process and return the executed notebook.

    Parameters
    ----------
    template : path
        The template notebook (outputs-free, one cell tagged ``parameters``).
    output : path or None
        Where the executed notebook is written (atomically); ``None`` writes nothing.
    parameters : mapping, optional
        Values injected after the ``parameters`` cell (papermill semantics).
    kernel_name : str, optional
        Jupyter kernel to use. ``None`` takes the notebook's kernelspec, or ``"python3"`` when it
        names none; ``python3`` runs on this interpreter (jupyter_client swaps a bare
        ``python`` in the kernel command for ``sys.executable``).
    cwd : path, optional
        Working directory of the kernel; ``None`` keeps the current one.
    timeout : int or None, default 300
        Seconds one cell may run.
    kernel : ReportKernel, optional
        Run in this (reused) kernel instead of a new one; its namespace is reset first.
        ``kernel_name`` is then ignored. Without it, a :class:`ReportKernel` is started for
        this notebook (Unix sockets, no TCP port) and stopped afterwards.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook, with papermill's provenance metadata (parameters, timings).

    Raises
    ------
    ReportError
        One sentence naming the failing cell and its exception name and message. Cell outputs
        and tracebacks are never quoted, because they may hold data.

    Examples
    --------
    >>> import tempfile, nbformat
    >>> from pathlib import Path
    >>> from evaluation.render import execute_notebook
    >>> tmp = Path(tempfile.mkdtemp())
    >>> nb = nbformat.v4.new_notebook()
    >>> cell = nbformat.v4.new_code_cell("n = 1")
    >>> cell.metadata["tags"] = ["parameters"]
    >>> nb.cells = [cell, nbformat.v4.new_code_cell("print(n * 2)")]
    >>> nbformat.write(nb, tmp / "t.ipynb")
    >>> done = execute_notebook(tmp / "t.ipynb", tmp / "out.ipynb", {"n": 21})
    >>> done.cells[-1].outputs[0].text
    '42\\n'
    >>> (tmp / "out.ipynb").exists()
    True
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    template = Path(template)
    label = _workshop_label(parameters, template.stem)
    try:
        nb = nbformat.read(template, as_version=4)
    except FileNotFoundError:
        raise ReportError(label, f"the template notebook {template.name} does not exist.") from None
    except Exception as exc:  # malformed JSON, wrong nbformat, …
        raise ReportError(
            label, f"the template notebook {template.name} cannot be read ({type(exc).__name__})."
        ) from None
    kernelspec = nb.metadata.get("kernelspec", {})
    if kernel_name is None:
        kernel_name = _kernel_named(nb.metadata)
    language = None
    if not (kernelspec.get("language") or nb.metadata.get("language_info", {}).get("name")):
        language = "python"  # papermill needs it to write the parameters cell
    if kernel is None:  # a kernel of our own on Unix sockets (see ReportKernel), then stopped
        with ReportKernel(kernel_name) as own:
            return execute_notebook(template, output, parameters, kernel_name=own.kernel_name,
                                    cwd=cwd, timeout=timeout, kernel=own)
    engine: dict[str, Any] = {}
    try:
        if kernel is not None:
            kernel._prepare(cwd)
            kernel_name = kernel.kernel_name
            engine = {"engine_name": _register_engine(), "report_kernel": kernel}
            cwd = None  # the kernel already runs there
        executed = papermill.execute_notebook(
            nb,
            None,
            parameters=dict(parameters or {}),
            kernel_name=kernel_name,
            language=language,
            cwd=os.fspath(cwd) if cwd is not None else None,
            execution_timeout=timeout,
            request_save_on_cell_execute=False,
            progress_bar=False,
            log_output=False,
            **engine,
        )
        if kernel is not None:
            kernel.notebooks_run += 1
    except PapermillExecutionError as exc:
        if kernel is not None:
            kernel.notebooks_run += 1  # the kernel is fine; the next notebook resets it
        cell = exc.exec_count if exc.exec_count is not None else exc.cell_index + 1
        message = _one_line(exc.evalue)
        detail = f"{exc.ename}: {message}" if message else exc.ename
        error = ReportError(label, f"cell In [{cell}] of {template.name} failed with {detail}.")
        error.cell_index, error.ename = exc.cell_index, exc.ename
        raise error from None
    except TimeoutError:
        if kernel is not None:
            kernel.shutdown()  # the cell may still be running
        raise ReportError(
            label, f"a cell of {template.name} ran for more than {timeout} seconds."
        ) from None
    except Exception as exc:
        if kernel is not None:
            kernel.shutdown()
        name = type(exc).__name__
        if name == "NoSuchKernel":
            reason = f"no Jupyter kernel named {kernel_name!r} is installed"
        elif name == "DeadKernelError":
            reason = "the kernel died while it was running"
        else:
            reason = f"running it failed with {name}: {_one_line(exc)}"
        raise ReportError(label, f"{template.name}: {reason}.") from None
    if output is not None:
        _atomic_write(Path(output), nbformat.writes(executed))
    return executed


def notebook_to_html(
    nb: NotebookNode | str | os.PathLike[str],
    title: str,
    language: str = "en",
    synthetic: bool = False,
) -> str:
    """Export an executed notebook as one self-contained, script-free HTML document.

    Parameters
    ----------
    nb : NotebookNode or path
        The executed notebook.
    title : str
        Report title (``<title>``, title block, running footer of the PDF).
    language : str, default "en"
        BCP 47 language code for ``<html lang>``; ``"ru"`` also switches the fixed words
        (table of contents, synthetic-data notice) to Russian.
    synthetic : bool, default False
        Mark every screen and page as "SYNTHETIC DEMONSTRATION DATA".

    Returns
    -------
    str
        The HTML document (UTF-8, CSP meta tag, table of contents, embedded images).

    Raises
    ------
    ValueError
        If ``language`` is not a language code.
    ReportError
        If the document would still refer to an external image, style sheet or font.

    Notes
    -----
    Cells tagged ``remove_cell`` (or ``remove-cell``) are dropped; cells tagged
    ``remove_output`` keep nothing. Headings with the class ``no-toc`` stay out of the table of
    contents. A ``<section class="report-cover">`` in an output moves before the table of
    contents (the page title and the synthetic-data banner stand in for its heading and notice).

    Examples
    --------
    >>> import nbformat
    >>> from evaluation.render import notebook_to_html
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells = [nbformat.v4.new_markdown_cell("# Итоги семинара\\n\\nТоҷикистон, Oʻzbekiston")]
    >>> page = notebook_to_html(nb, "Demo", language="ru", synthetic=True)
    >>> '<html lang="ru">' in page, "<script" in page, "SYNTHETIC DEMONSTRATION DATA" in page
    (True, False, True)
    >>> '<a href="#sec-1">Итоги семинара</a>' in page
    True
    """
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    if not isinstance(language, str) or not _LANG_RE.match(language):
        raise ValueError(f"language must be a language code such as 'en' or 'ru', not {language!r}")
    notebook = _read_notebook(nb)
    words = _words(language)
    placeholder = f"<!--toc-{uuid.uuid4().hex}-->"

    exporter = HTMLExporter(
        template_name="report",
        extra_template_basedirs=[os.fspath(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        embed_images=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(
            remove_cell_tags=("remove_cell", "remove-cell"),
            remove_all_outputs_tags=("remove_output", "remove-output"),
            enabled=True,
        ),
        enabled=True,
    )
    resources = {
        "report": {
            "title": str(title),
            "language": language,
            "synthetic": bool(synthetic),
            "banner": words["banner"],
            "banner_css": _css_string(words["banner"]),
            "synthetic_note": words["note"],
            "csp": CONTENT_SECURITY_POLICY,
            "toc_placeholder": placeholder,
        }
    }
    document, _ = exporter.from_notebook_node(notebook, resources=resources)

    # Only the notebook's own content (between <main> and </main>) feeds the contents list.
    start = document.index("<main>", document.index(placeholder))
    end = document.rindex("</main>")
    main, toc = _number_headings(document[start:end])
    cover = _COVER_RE.search(main)  # a notebook's cover goes on the first page, before the list
    if cover:
        main = main[:cover.start()] + main[cover.end():]
    document = document[:start] + main + document[end:]
    # after a cover the contents start a page of their own (the class sets the page break)
    contents = _toc_html(toc, words["toc"], after_cover=cover is not None)
    document = document.replace(placeholder, (cover[0] if cover else "") + contents, 1)

    document = _SCRIPT_RE.sub("", document)
    document = _EXTERNAL_LINK_RE.sub(_unlink_external, document)
    external = _external_references(document)
    if external:
        label = _workshop_label(notebook.metadata.get("papermill", {}).get("parameters"), title)
        raise ReportError(
            label,
            f"the report refers to {external} external resource(s) (image, style sheet or "
            "font on the web); embed them or remove them so the report is self-contained.",
        )
    return document


def _make_fetcher(base_url: str | None) -> tuple[Any, list[str]]:
    """A WeasyPrint URL fetcher that serves ``data:`` URIs (and files under ``base_url``)."""
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    refused: list[str] = []
    base_dir: Path | None = None
    if base_url:
        parsed = urlparse(base_url)
        if parsed.scheme in ("", "file"):
            raw = url2pathname(parsed.path) if parsed.scheme == "file" else base_url
            base_dir = Path(raw).resolve()
            if not base_dir.is_dir():
                base_dir = base_dir.parent

    def allowed(url: str) -> bool:
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return True
        if scheme == "file" and base_dir is not None:
            path = Path(url2pathname(urlparse(url).path)).resolve()
            return path == base_dir or base_dir in path.parents
        return False

    try:
        from weasyprint.urls import URLFetcher
    except ImportError:  # WeasyPrint < 66: fetchers are plain functions
        from weasyprint import default_url_fetcher

        def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
            if not allowed(url):
                refused.append(url.split(":", 1)[0])
                raise ValueError("refused: the report may not fetch anything from outside")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch, refused

    class _LocalFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not allowed(url):
                refused.append(url.split(":", 1)[0])
                raise ValueError("refused: the report may not fetch anything from outside")
            return super().fetch(url, headers)

    return _LocalFetcher(allowed_protocols=("data", "file")), refused


def html_to_pdf(
    html: str,
    out: str | os.PathLike[str],
    base_url: str | os.PathLike[str] | None = None,
) -> Path:
    """Lay out report HTML on A4 pages with WeasyPrint and write the PDF atomically.

    Parameters
    ----------
    html : str
        A document from :func:`notebook_to_html` (its stylesheet sets A4, margins, the running
        title, "n / N" page numbers and the page numbers of the table of contents).
    out : path
        The PDF file to write.
    base_url : str or path, optional
        Folder against which relative references resolve. Only ``data:`` URIs and files under
        this folder are ever read; nothing is fetched from the network.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ReportError
        If the document asks for a resource outside ``data:`` URIs and ``base_url``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from pypdf import PdfReader
    >>> from evaluation.render import html_to_pdf
    >>> page = '<!DOCTYPE html><html lang="ru"><meta charset="utf-8"><h1>Итоги</h1></html>'
    >>> pdf = html_to_pdf(page, Path(tempfile.mkdtemp()) / "r.pdf")
    >>> reader = PdfReader(pdf)
    >>> [round(float(v)) for v in reader.pages[0].mediabox[2:]]
    [595, 842]
    >>> "Итоги" in reader.pages[0].extract_text()
    True
    """
    import weasyprint

    from evaluation import pdfimages

    pdfimages.install()  # figures go into the PDF as they are, not decoded and encoded again
    out = Path(out)
    base = os.fspath(base_url) if base_url is not None else None
    fetcher, refused = _make_fetcher(base)
    document = weasyprint.HTML(string=html, base_url=base, url_fetcher=fetcher, media_type="print")
    with _fewer_collections():
        pdf = document.write_pdf(pdf_tags=True)
    if refused:
        schemes = ", ".join(sorted(set(refused)))
        title = re.search(r"<title>(.*?)</title>", html, re.IGNORECASE | re.DOTALL)
        raise ReportError(
            _html.unescape(title[1]).strip() if title else out.stem,
            f"the PDF would need {len(refused)} resource(s) from outside the report "
            f"({schemes}); embed them as data URIs.",
        )
    return _atomic_write(out, pdf)


@contextlib.contextmanager
def _fewer_collections(threshold: int = 100_000) -> Iterator[None]:
    """Run the cyclic garbage collector less often while WeasyPrint lays out a report.

    Layout allocates millions of small objects, so with Python's default threshold (700) the
    collector ran about 600 times per report. With 100,000 and one full collection when the PDF
    is written, a batch worker spent about 0.34 s less CPU per demo report (2.87 s instead of
    3.21 s over 24 reports) with the same memory (peak 390 MB against 391 MB); without that
    last collection its memory grew by about 3 MB per report.
    """
    old = gc.get_threshold()
    gc.set_threshold(threshold, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.collect()  # the layout's cycles now, not piled up over a batch


def _default_title(nb: NotebookNode, fallback: str) -> str:
    if nb.metadata.get("title"):
        return str(nb.metadata["title"])
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*#*\s*$", cell.source, re.MULTILINE)
            if match:
                return match[1]
    return fallback


def _import_renderers() -> None:
    """Import nbconvert's HTML exporter and WeasyPrint, which the steps after the notebook use."""
    try:
        import nbconvert.exporters.html  # noqa: F401
        import weasyprint  # noqa: F401
    except Exception:  # the render step itself reports a broken install, in one sentence
        pass


def render_notebook_report(
    template: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    stem: str = "report",
    language: str = "en",
    title: str | None = None,
    synthetic: bool = False,
    kernel_name: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: int | None = 300,
    kernel: ReportKernel | None = None,
) -> dict[str, Path]:
    """Execute a report template and write the notebook, HTML and PDF next to each other.

    Parameters
    ----------
    template : path
        The papermill template notebook.
    out_dir : path
        Output folder (created if needed), e.g. ``reports/<workshop-id>``.
    parameters : mapping, optional
        Papermill parameters of the template.
    stem : str, default "report"
        File name stem; pass e.g. ``"report.ru"`` for a report in a second language.
    language : str, default "en"
        Language code of the report (see :func:`notebook_to_html`).
    title : str, optional
        Report title; by default the notebook's ``metadata.title`` or its first ``# heading``.
    synthetic : bool, default False
        Mark every page as synthetic demonstration data.
    kernel_name, cwd, timeout, kernel
        Passed to :func:`execute_notebook` (``kernel``: a reused :class:`ReportKernel`).

    Returns
    -------
    dict of str to Path
        ``{"ipynb": ..., "html": ..., "pdf": ...}``. The three files of an earlier run with the
        same ``stem`` are removed first; then each file is written through a temporary file and
        ``os.replace``, the PDF last. So a reader never sees a half-written file, nor an old PDF
        beside a new HTML: if a run fails or is killed, the PDF is missing.

    Examples
    --------
    >>> import tempfile, nbformat
    >>> from pathlib import Path
    >>> from evaluation.render import render_notebook_report
    >>> tmp = Path(tempfile.mkdtemp())
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells = [nbformat.v4.new_markdown_cell("# Отчёт"), nbformat.v4.new_code_cell("1 + 1")]
    >>> nbformat.write(nb, tmp / "t.ipynb")
    >>> paths = render_notebook_report(tmp / "t.ipynb", tmp / "out", {}, language="ru")
    >>> sorted(p.name for p in paths.values())
    ['report.html', 'report.ipynb', 'report.pdf']
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {kind: out_dir / f"{stem}.{kind}" for kind in ("ipynb", "html", "pdf")}
    for path in (paths["pdf"], paths["html"], paths["ipynb"]):  # the PDF marks a whole report
        path.unlink(missing_ok=True)
    own = kernel is None
    if own:
        if kernel_name is None:
            kernel_name = _read_notebook_kernel(template)
        kernel = ReportKernel(kernel_name)
    try:
        executed = execute_notebook(
            template, paths["ipynb"], parameters, kernel_name=kernel_name, cwd=cwd,
            timeout=timeout, kernel=kernel,
        )
        if own:
            kernel.request_shutdown()  # it ends while the report is laid out
        if title is None:
            title = _default_title(executed, Path(template).stem)
        document = notebook_to_html(executed, title, language=language, synthetic=synthetic)
        _atomic_write(paths["html"], document)
        html_to_pdf(document, paths["pdf"], base_url=out_dir)
    finally:
        if own:
            kernel.shutdown()
    return paths


def _kernel_named(metadata: Any) -> str:
    """The kernel a notebook's metadata names: its kernelspec's name, else ``python3``."""
    spec = metadata.get("kernelspec") if isinstance(metadata, Mapping) else None
    name = spec.get("name") if isinstance(spec, Mapping) else None
    return str(name) if name else "python3"


def _read_notebook_kernel(template: str | os.PathLike[str]) -> str:
    """The kernel a template names (see :func:`_kernel_named`), read before it runs."""
    try:
        with open(template, encoding="utf-8") as handle:
            metadata = json.load(handle).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return "python3"  # execute_notebook reports an unreadable template in one sentence
    return _kernel_named(metadata)
