"""The toolkit makes no network call at run time, and loads nothing that could run code.

- ``evaluate ingest`` runs with every socket connection refused in the test process.
- ``evaluate report`` runs with a ``sitecustomize`` (on ``PYTHONPATH``, switched on by an
  environment variable) that refuses every IPv4/IPv6 connection in **every** Python process of
  the run, the papermill notebook kernel included (launched, or forked with the block in
  place); the kernel talks to papermill over ZeroMQ, whose sockets are not Python sockets, so
  the report still renders.
- No module of ``evaluation/`` (nor a notebook) loads YAML unsafely, unpickles, or evaluates text.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evaluation.cli import main

REPO = Path(__file__).resolve().parents[1]


class NetworkCall(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Refuse every connection and name lookup in this process; record the attempts."""
    attempts: list[str] = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[1:] if args and isinstance(args[0], socket.socket) else args))
        raise NetworkCall(f"network call attempted: {args!r}")

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)
    return attempts


def test_the_block_works(no_network):
    with pytest.raises(NetworkCall):
        socket.create_connection(("example.org", 80), timeout=1)
    with socket.socket() as s, pytest.raises(NetworkCall):
        s.connect(("192.0.2.1", 80))
    assert len(no_network) == 2
    no_network.clear()


def test_ingest_runs_without_network(no_network, tmp_path, capsys):
    ws = tmp_path / "ws"
    shutil.copytree(REPO / "demo-workshops" / "astana-2018-05", ws,
                    ignore=shutil.ignore_patterns("processed"))
    assert main(["ingest", str(ws), "--reports", str(tmp_path / "reports")]) == 0
    assert main(["instrument", "check", str(REPO / "surveys" / "pvect-readiness.yaml")]) == 0
    assert no_network == []
    assert "Traceback" not in capsys.readouterr().err


SITECUSTOMIZE = '''\
"""Refuse IPv4/IPv6 connections in every Python process when EVALUATION_NO_NETWORK is set."""
import os

if os.environ.get("EVALUATION_NO_NETWORK"):
    import socket

    _log = os.environ["EVALUATION_NO_NETWORK"]

    def _note(line):
        with open(_log, "a", encoding="utf-8") as fh:
            fh.write(line + "\\n")

    _note(f"loaded {os.getpid()}")
    # a kernel forked from a process that has the block inherits it (evaluation.kernels)
    os.register_at_fork(after_in_child=lambda: _note(f"loaded {os.getpid()} by fork"))
    _connect = socket.socket.connect

    def _refuse(self, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _note(f"refused {os.getpid()} {address!r}")
            raise OSError(101, "network disabled for this run")
        return _connect(self, address, *args)

    def _refuse_ex(self, address, *args):
        try:
            _refuse(self, address)
        except OSError as exc:
            return exc.errno
        return 0

    socket.socket.connect = _refuse
    socket.socket.connect_ex = _refuse_ex
'''


@pytest.mark.slow
def test_report_runs_with_network_blocked_in_the_kernel(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / "network.log"
    ws = tmp_path / "ws"
    shutil.copytree(REPO / "demo-workshops" / "ashgabat-2015-06", ws,
                    ignore=shutil.ignore_patterns("processed"))
    env = {**os.environ, "MPLBACKEND": "Agg", "EVALUATION_NO_NETWORK": str(log),
           "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    # first prove the switch works in a child process
    probe = subprocess.run(
        [sys.executable, "-c", textwrap.dedent("""
            import socket
            try:
                socket.create_connection(("192.0.2.1", 80), timeout=1)
            except OSError as exc:
                print(exc.errno)
        """)], env=env, capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip() == "101", probe.stderr
    log.unlink()

    run = subprocess.run(
        [sys.executable, "-m", "evaluation", "report", str(ws), "--out", str(tmp_path / "out")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    lines = log.read_text(encoding="utf-8").splitlines()
    loaded = {line.split()[1] for line in lines if line.startswith("loaded")}
    assert len(loaded) >= 2, "the block must be active in the notebook kernel too"
    refused = [line for line in lines if line.startswith("refused")]
    assert refused == [], refused
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "</html>" in html


# --- nothing that loads code from data -----------------------------------------------------

_SAFE_LOADERS = {"SafeLoader", "CSafeLoader", "_SafeLoader", "BaseLoader", "CBaseLoader"}
_FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "joblib"}
_FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}


def _python_sources() -> list[Path]:
    return sorted((REPO / "evaluation").rglob("*.py"))


def _problems(tree: ast.AST, name: str) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            found += [f"{name}:{node.lineno} imports {m}" for m in modules
                      if m.split(".")[0] in _FORBIDDEN_MODULES]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in _FORBIDDEN_CALLS:
                found.append(f"{name}:{node.lineno} calls {func.id}()")
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                    and func.value.id == "yaml":
                if func.attr in {"unsafe_load", "unsafe_load_all", "full_load", "full_load_all"}:
                    found.append(f"{name}:{node.lineno} calls yaml.{func.attr}")
                if func.attr in {"load", "load_all"}:
                    loader = next((k.value for k in node.keywords if k.arg == "Loader"),
                                  node.args[1] if len(node.args) > 1 else None)
                    loader_name = getattr(loader, "attr", None) or getattr(loader, "id", None)
                    if loader_name not in _SAFE_LOADERS:
                        found.append(f"{name}:{node.lineno} calls yaml.{func.attr} with "
                                     f"Loader={loader_name}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == "yaml" and node.attr in {"Loader", "UnsafeLoader",
                                                              "FullLoader", "CLoader",
                                                              "CUnsafeLoader", "CFullLoader"}:
            found.append(f"{name}:{node.lineno} uses yaml.{node.attr}")
    return found


def test_no_unsafe_loading_in_the_library():
    problems = []
    for path in _python_sources():
        problems += _problems(ast.parse(path.read_text(encoding="utf-8")), path.name)
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"_SafeLoader\s*=", line):
                assert "SafeLoader" in line.split("=", 1)[1], f"{path.name}:{lineno}"
    assert problems == []


def test_no_unsafe_loading_in_the_notebooks():
    problems = []
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                source = "\n".join(line for line in source.splitlines()
                                   if not line.lstrip().startswith(("%", "!")))
                problems += _problems(ast.parse(source), path.name)
    assert problems == []


def test_the_checker_catches_unsafe_code():
    bad = ast.parse("import pickle\nimport yaml\nyaml.load(t, Loader=yaml.Loader)\n"
                    "yaml.unsafe_load(t)\neval('1')\nyaml.load(t)\n")
    found = _problems(bad, "x.py")
    assert len(found) == 6, found
    assert _problems(ast.parse("yaml.safe_load(t)\nyaml.load(t, Loader=yaml.CSafeLoader)"),
                     "y.py") == []
