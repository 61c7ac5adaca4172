"""Batch rendering with one reused kernel per worker: no state crosses between notebooks."""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import pytest

from evaluation.errors import ReportError
from evaluation.render import ReportKernel, execute_notebook

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo-workshops"

pytestmark = pytest.mark.slow

FIRST = """\
import os
import matplotlib.pyplot as plt
secret = workshop_id
plt.figure()
print(os.getpid())
"""

SECOND = """\
import os
import matplotlib.pyplot as plt
print(os.getpid(), 'secret' in globals(), len(plt.get_fignums()), os.getcwd())
"""


def _template(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell('workshop_id = "none"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)
    return path


def _printed(nb: nbformat.NotebookNode) -> list[str]:
    return nb.cells[-1].outputs[0].text.split()


def test_reused_kernel_forgets_names_figures_and_counts(tmp_path):
    first = _template(tmp_path / "first.ipynb", FIRST)
    second = _template(tmp_path / "second.ipynb", SECOND)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with ReportKernel() as kernel:
        a = execute_notebook(first, None, {"workshop_id": "W-ONE"}, kernel=kernel)
        b = execute_notebook(second, tmp_path / "b.ipynb", {"workshop_id": "W-TWO"},
                             kernel=kernel, cwd=elsewhere)
        assert kernel.notebooks_run == 2
    pid_a = _printed(a)[0]
    pid_b, has_secret, figures, cwd = _printed(b)
    assert pid_a == pid_b  # the same kernel process ran both
    assert (has_secret, figures) == ("False", "0")
    assert Path(cwd).resolve() == elsewhere.resolve()
    # papermill's provenance is intact and counts restart at 1
    assert b.metadata.papermill.parameters == {"workshop_id": "W-TWO"}
    assert "injected-parameters" in b.cells[1].metadata.tags
    assert [c.execution_count for c in b.cells] == [1, 2, 3]
    assert "W-ONE" not in (tmp_path / "b.ipynb").read_text(encoding="utf-8")
    assert not kernel.started


def test_kernel_channels_are_owner_only_unix_sockets(tmp_path):
    """The five kernel channels use Unix sockets in a private folder, removed afterwards.

    No kernel channel is a TCP port that another local user could connect to. (ipykernel still
    binds one loopback-only pipe for the output of forked subprocesses; it is authenticated by a
    random token. The test checks that every TCP socket of the kernel is on 127.0.0.1.)
    """
    probe = _template(tmp_path / "probe.ipynb", "import os\nprint(os.getpid())")
    with ReportKernel() as kernel:
        execute_notebook(probe, None, {}, kernel=kernel)
        info = kernel.km.get_connection_info()
        socket_dir = Path(info["ip"]).parent
        assert info["transport"] == "ipc"
        assert oct(socket_dir.stat().st_mode & 0o777) == "0o700"
        assert sum(p.is_socket() for p in socket_dir.iterdir()) == 5
        if Path("/proc/net/tcp").exists():  # Linux: the kernel's TCP sockets and their addresses
            inodes = {os.readlink(f)[len("socket:["):-1]
                      for f in Path(f"/proc/{kernel.pid}/fd").iterdir()
                      if os.readlink(f).startswith("socket:")}
            local = [line.split()[1].split(":")[0]
                     for table in ("/proc/net/tcp", "/proc/net/tcp6") if Path(table).exists()
                     for line in Path(table).read_text().splitlines()[1:]
                     if line.split()[9] in inodes]
            loopback = {"0100007F", "00000000000000000000000001000000"}
            assert len(local) <= 1 and set(local) <= loopback, local
    assert not socket_dir.exists()


def test_failing_notebook_leaves_a_usable_kernel(tmp_path):
    bad = _template(tmp_path / "bad.ipynb", "secret = 1\nraise ValueError('stop')")
    second = _template(tmp_path / "second.ipynb", SECOND)
    with ReportKernel() as kernel:
        with pytest.raises(ReportError, match="ValueError: stop"):
            execute_notebook(bad, None, {}, kernel=kernel)
        assert kernel.started
        b = execute_notebook(second, None, {}, kernel=kernel)
    assert _printed(b)[1] == "False"


def test_dead_kernel_is_replaced_for_the_next_notebook(tmp_path):
    dying = _template(tmp_path / "dying.ipynb", "import os\nprint(os.getpid())\nos._exit(1)")
    second = _template(tmp_path / "second.ipynb", SECOND)
    with ReportKernel() as kernel:
        with pytest.raises(ReportError):
            execute_notebook(dying, None, {}, kernel=kernel)
        b = execute_notebook(second, None, {}, kernel=kernel)
        assert kernel.notebooks_run == 1  # counted in the new kernel only
    assert _printed(b)[1] == "False"


def _worker_kernel_pid(template: str) -> int:
    from evaluation.commands import _worker_kernel

    done = execute_notebook(template, None, {}, kernel=_worker_kernel())
    return int(_printed(done)[0])


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie child of an exited worker counts as gone
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_batch_worker_reuses_its_kernel_and_stops_it_on_exit(tmp_path):
    template = str(_template(tmp_path / "pid.ipynb", SECOND))
    with ProcessPoolExecutor(max_workers=1) as pool:
        pids = list(pool.map(_worker_kernel_pid, [template] * 3))
    assert len(set(pids)) == 1
    for _ in range(100):  # the kernel is asked to shut down when the worker exits
        if _gone(pids[0]):
            break
        time.sleep(0.1)
    assert _gone(pids[0])


def _pid(_: int) -> int:
    return os.getpid()


def test_batch_rounds_replace_the_workers_after_their_share_of_workshops():
    from evaluation.commands import map_in_rounds

    pids = [pid for _, pid in map_in_rounds(_pid, range(4), jobs=1, per_worker=2)]
    assert pids[0] == pids[1] != pids[2] == pids[3]
    assert len({pid for _, pid in map_in_rounds(_pid, range(3), jobs=1, per_worker=None)}) == 1
    assert list(map_in_rounds(_pid, [], jobs=2)) == []


def _copy(name: str, root: Path) -> Path:
    return Path(shutil.copytree(DEMO / name, root / name,
                                ignore=shutil.ignore_patterns("processed")))


def test_second_workshop_in_a_reused_kernel_matches_a_fresh_run(tmp_path):
    from evaluation.report import run_report
    from evaluation.workshop import load_workshop

    first, second = _copy("astana-2018-05", tmp_path), _copy("ashgabat-2015-06", tmp_path)
    with ReportKernel() as kernel:
        run_report(first, tmp_path / "reused" / "first", kernel=kernel)
        reused = run_report(second, tmp_path / "reused" / "second", kernel=kernel)
    fresh = run_report(second, tmp_path / "fresh" / "second")

    config = load_workshop(first)
    page = reused["html"].read_text(encoding="utf-8")
    reused_nb = nbformat.read(reused["ipynb"], as_version=4)
    # every cell but the template's own defaults (which name the flagship workshop)
    executed = json.dumps([c for c in reused_nb.cells
                           if "parameters" not in c.metadata.get("tags", [])],
                          ensure_ascii=False)
    for text in (config.id, config.text("title", "en"), config.text("location", "en")):
        assert text not in page and text not in executed
    assert load_workshop(second).text("title", "en") in page
    # the same published numbers and the same figures as in a fresh kernel
    for csv in sorted(fresh["results"].glob("*.csv")):
        assert (reused["results"] / csv.name).read_bytes() == csv.read_bytes(), csv.name
    fresh_nb = nbformat.read(fresh["ipynb"], as_version=4)
    shown = [[o.get("data", {}).get("text/html") for o in c.get("outputs", [])]
              for c in fresh_nb.cells[3:-1]]
    assert [[o.get("data", {}).get("text/html") for o in c.get("outputs", [])]
            for c in reused_nb.cells[3:-1]] == shown


def test_kernel_over_its_memory_limit_is_recycled(tmp_path):
    second = _template(tmp_path / "second.ipynb", SECOND)
    with ReportKernel(memory_limit_mb=1) as kernel:  # every kernel uses more than 1 MB
        a = execute_notebook(second, None, {}, kernel=kernel)
        b = execute_notebook(second, None, {}, kernel=kernel)
        assert kernel.notebooks_run == 1
    assert _printed(a)[0] != _printed(b)[0]
    with ReportKernel(memory_limit_mb=None) as kernel:
        a = execute_notebook(second, None, {}, kernel=kernel)
        b = execute_notebook(second, None, {}, kernel=kernel)
        assert kernel.memory_mb() > 1
    assert _printed(a)[0] == _printed(b)[0]
