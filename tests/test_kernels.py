"""Report kernels forked from this process: what they inherit, and that they stop like others."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest

from evaluation.errors import ReportError
from evaluation.kernels import can_fork
from evaluation.render import ReportKernel, execute_notebook

ROOT = Path(__file__).resolve().parent.parent
LINUX = sys.platform.startswith("linux")

pytestmark = pytest.mark.slow

PROBE = """\
import os, sys
print(os.getpid(), os.getppid(), os.getpgid(0), 'evaluation.report' in sys.modules,
      os.getcwd(), os.environ.get('JPY_PARENT_PID'), os.environ.get('EVALUATE_PROBE'))
"""

LAUNCH = [sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"]


@pytest.fixture(autouse=True)
def _as_in_a_report_process(monkeypatch):
    """Test the fork as `evaluate report` meets it, even after other tests loaded DuckDB here.

    (A loaded ``duckdb`` makes the kernel launch instead; see ``test_fork_conditions``.)
    """
    monkeypatch.delitem(sys.modules, "duckdb", raising=False)
    monkeypatch.delenv("EVALUATE_KERNEL_FORK", raising=False)


def _probe(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(PROBE)]
    nbformat.write(nb, tmp_path / "probe.ipynb")
    return tmp_path / "probe.ipynb"


def _run_probe(tmp_path: Path, kernel: ReportKernel) -> list[str]:
    done = execute_notebook(_probe(tmp_path), None, {}, kernel=kernel, cwd=tmp_path)
    return done.cells[-1].outputs[0].text.split()


@pytest.mark.skipif(not LINUX, reason="kernels are forked on Linux only")
def test_kernel_is_a_fork_with_the_toolkit_loaded_and_its_own_group(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALUATE_PROBE", "seen")
    with ReportKernel() as kernel:
        pid, ppid, pgid, preloaded, cwd, parent, probe = _run_probe(tmp_path, kernel)
        assert kernel.km.provisioner.forked
    assert int(ppid) == os.getpid() == int(parent)
    assert int(pgid) == int(pid)  # its own process group, as a launched kernel has
    assert preloaded == "True"  # imported here before the fork, not by the notebook
    assert Path(cwd).resolve() == tmp_path.resolve()
    assert probe == "seen"  # the environment jupyter_client prepared
    with pytest.raises(ChildProcessError):  # stopped and reaped: no zombie left
        os.waitpid(int(pid), os.WNOHANG)


@pytest.mark.skipif(not LINUX, reason="kernels are forked on Linux only")
def test_kernel_drops_this_processs_signal_handlers_and_exit_handlers(tmp_path, monkeypatch):
    import atexit

    marker = tmp_path / "exit-handler-ran"

    def parent_only(*_):  # pragma: no cover - must never run in the kernel
        marker.write_text(str(os.getpid()))

    previous = signal.signal(signal.SIGUSR1, parent_only)
    atexit.register(parent_only)
    try:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(
            "import signal\nprint(signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL,"
            " signal.getsignal(signal.SIGINT) is signal.default_int_handler)")]
        nbformat.write(nb, tmp_path / "sig.ipynb")
        with ReportKernel() as kernel:
            done = execute_notebook(tmp_path / "sig.ipynb", None, {}, kernel=kernel)
            assert kernel.km.provisioner.forked
        assert done.cells[-1].outputs[0].text.split() == ["True", "True"]
        assert not marker.exists()  # the kernel ended without running the parent's handler
    finally:
        atexit.unregister(parent_only)
        signal.signal(signal.SIGUSR1, previous)


def test_switch_off_launches_a_fresh_interpreter(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALUATE_KERNEL_FORK", "0")
    with ReportKernel() as kernel:
        preloaded = _run_probe(tmp_path, kernel)[3]
        assert not kernel.km.provisioner.forked
    assert preloaded == "False"


def test_fork_conditions(monkeypatch):
    assert not can_fork(["/usr/bin/env", "R", "-f", "k.json"])
    assert not can_fork(["/no/such/python", "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not can_fork([sys.executable, "-m", "other_kernel", "-f", "k.json"])
    if LINUX:
        assert can_fork(LAUNCH)
    if LINUX:
        monkeypatch.setitem(sys.modules, "duckdb", object())
        assert not can_fork(LAUNCH)  # its threads and database instances would be copied
        monkeypatch.delitem(sys.modules, "duckdb")
        assert can_fork(LAUNCH)
    seen = []
    helper = threading.Thread(target=lambda: seen.append(can_fork(LAUNCH)))
    helper.start()
    helper.join()
    assert seen == [False]  # never from a thread other than the main one
    gate = threading.Event()
    busy = threading.Thread(target=gate.wait)
    busy.start()
    try:
        assert not can_fork(LAUNCH)  # another thread could hold a lock the fork would copy
    finally:
        gate.set()
        busy.join()


@pytest.mark.skipif(not LINUX, reason="kernels are forked on Linux only")
def test_killed_forked_kernel_is_reported_and_replaced(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")]
    nbformat.write(nb, tmp_path / "die.ipynb")
    with ReportKernel() as kernel:
        kernel.start(tmp_path)
        first = kernel.pid
        with pytest.raises(ReportError):
            execute_notebook(tmp_path / "die.ipynb", None, {}, kernel=kernel)
        second = int(_run_probe(tmp_path, kernel)[0])
        assert second != first and kernel.km.provisioner.forked
    with pytest.raises(ChildProcessError):
        os.waitpid(first, os.WNOHANG)


@pytest.mark.skipif(not LINUX, reason="kernels are forked on Linux only")
def test_forked_kernel_ends_when_its_parent_dies(tmp_path):
    """A forked kernel watches the process that started it, as a launched kernel does."""
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from evaluation.render import ReportKernel
        kernel = ReportKernel()
        kernel.start()
        print(kernel.pid, kernel.km.provisioner.forked, flush=True)
        os._exit(0)  # die without stopping the kernel
    """)
    env = {k: v for k, v in os.environ.items() if k != "EVALUATE_KERNEL_FORK"}
    # the kernel keeps copies of the pipes, so read the first line rather than wait for EOF
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, env=env)
    pid = None
    try:
        pid, forked = parent.stdout.readline().split()[:2]
        pid = int(pid)
        assert forked == "True"
        parent.wait(timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the orphaned kernel kept running")
    finally:
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        parent.kill()
        parent.stdout.close()
