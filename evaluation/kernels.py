"""Start report kernels as forks of this process, so they begin with the toolkit imported.

A Jupyter kernel is normally a new Python process: it starts (about 0.3 s) and then imports
pandas, SciPy, matplotlib and the toolkit again (about 1.3 s), although the process that renders
the report has imported them already. :class:`ForkingKernelManager` starts the kernel with
``os.fork()`` instead, after importing :data:`PRELOAD` here: the kernel inherits every loaded
module (copy-on-write) and only has to open its sockets. It is still a separate process that
papermill talks to over the usual Jupyter protocol, with its own process group, working folder
and environment, and it is stopped, interrupted and killed exactly like a launched one.

When forking is not safe the kernel is launched the usual way, so the result never depends on
it. The fork is used only when all of these hold:

- the platform is Linux and ``os.fork`` exists;
- the kernelspec runs ``<this Python> -m ipykernel_launcher ...`` (the same interpreter, so the
  kernel would have loaded the same modules);
- this process is not itself an IPython shell or kernel, and runs no thread other than the one
  that starts the kernel (a fork copies only the calling thread, so a lock held by another
  thread would stay locked in the kernel);
- it has not loaded a library that keeps native worker threads and per-file state of its own
  (:data:`FORK_UNSAFE_MODULES`: DuckDB, which the cohort comparison opens before its kernel
  starts; a forked kernel could inherit a database instance whose threads do not exist);
- the environment variable ``EVALUATE_KERNEL_FORK`` is not ``0``.

What the kernel inherits that a launched kernel would not have: modules already imported, the
memory they hold, and this process's open file descriptors (a launched kernel closes all but
0-2). Closing them in the kernel would be unsafe, because objects copied from this process may
close them again by number later; the kernel ends with the report, so they are released then.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
import signal
import sys
import threading
import uuid
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

#: Modules imported in this process before the first fork (what the report notebook imports).
PRELOAD: tuple[str, ...] = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "IPython.core.interactiveshell",
    "evaluation.report",
    "evaluation.figures",
    "matplotlib.backends.backend_agg",
)

#: Loaded modules that make this process launch its kernel instead of forking it.
FORK_UNSAFE_MODULES: tuple[str, ...] = ("duckdb",)

_ENV_SWITCH = "EVALUATE_KERNEL_FORK"


def _same_python(executable: str) -> bool:
    try:
        return os.path.samefile(executable, sys.executable)
    except OSError:
        return False


def can_fork(cmd: list[str]) -> bool:
    """Whether a kernel command line may be replaced by a fork of this process.

    Parameters
    ----------
    cmd : list of str
        The kernel's command line, with the connection file filled in.

    Returns
    -------
    bool
        True only under the conditions listed in the module notes.

    Examples
    --------
    >>> import sys
    >>> from evaluation.kernels import can_fork
    >>> can_fork(["/usr/bin/env", "R", "--slave", "-f", "k.json"])
    False
    >>> can_fork([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"]) in (True, False)
    True
    """
    if os.environ.get(_ENV_SWITCH, "1") == "0":
        return False
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    if len(cmd) < 3 or cmd[1:3] != ["-m", "ipykernel_launcher"] or not _same_python(cmd[0]):
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    if threading.active_count() != 1:
        return False
    if any(name in sys.modules for name in FORK_UNSAFE_MODULES):
        return False
    shell = sys.modules.get("IPython.core.interactiveshell")
    return not (shell is not None and shell.InteractiveShell.initialized())


def preload(modules: tuple[str, ...] = PRELOAD) -> None:
    """Import ``modules`` in this process (once) so that forked kernels start with them loaded.

    A module that cannot be imported is skipped: the kernel then imports (and reports) it itself.

    Examples
    --------
    >>> import sys
    >>> from evaluation.kernels import preload
    >>> preload(("json",))
    >>> "json" in sys.modules
    True
    """
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # the kernel reports a broken import in its own cell
            pass


class ForkedKernelProcess:
    """The handle of a forked kernel, with the parts of :class:`subprocess.Popen` that
    jupyter_client uses (``pid``, ``poll``, ``wait``, ``send_signal``, ``terminate``, ``kill``).
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def _reap(self, flags: int) -> int | None:
        if self.returncode is not None:
            return self.returncode
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:  # reaped elsewhere: it has ended
            self.returncode = 0
            return self.returncode
        if pid == 0:
            return None
        self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        """Exit code, or None while the kernel runs."""
        return self._reap(os.WNOHANG)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the kernel to end and return its exit code."""
        code = self._reap(0)
        return 0 if code is None else code

    def send_signal(self, signum: int) -> None:
        """Send a signal to the kernel unless it has ended."""
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        """Send SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """Send SIGKILL."""
        self.send_signal(signal.SIGKILL)


def _run_forked_kernel(argv: list[str], env: dict[str, str], cwd: str | None) -> int:
    """In the forked child: become a kernel with ``argv`` (ipykernel's own arguments)."""
    os.setsid()  # own process group, as jupyter_client gives a launched kernel
    try:  # `top` and `ps -o comm` show the kernel by name (its command line is the parent's)
        with open("/proc/self/comm", "w", encoding="ascii") as comm:
            comm.write("report-kernel")
    except OSError:
        pass
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # as in a new process
        signal.signal(signum, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.environ.clear()
    os.environ.update(env)
    if cwd is not None:
        os.chdir(cwd)
    # the parent was inside its event loop when it forked; the kernel needs a loop of its own
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(asyncio.new_event_loop())
    sys.argv = [sys.executable, *argv]
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(argv=argv)
    return 0


def fork_kernel(cmd: list[str], env: dict[str, str] | None = None,
                cwd: str | os.PathLike[str] | None = None) -> ForkedKernelProcess:
    """Start the kernel of ``cmd`` (``python -m ipykernel_launcher ARGS``) as a fork.

    Parameters
    ----------
    cmd : list of str
        A command line for which :func:`can_fork` is true.
    env : dict, optional
        The kernel's environment (default: this process's).
    cwd : path, optional
        The kernel's working folder.

    Returns
    -------
    ForkedKernelProcess
    """
    parent = str(os.getpid())
    # the kernel ends if this process dies (ipykernel read JPY_PARENT_PID when it was imported
    # here, before the fork, so it is passed as an argument too)
    argv = [*cmd[3:], f"--IPKernelApp.parent_handle={parent}"]
    env = dict(os.environ if env is None else env)
    env["JPY_PARENT_PID"] = parent
    folder = os.fspath(cwd) if cwd is not None else None
    sys.stdout.flush()
    sys.stderr.flush()
    # Objects that exist now are left out of the kernel's garbage collections: a collection
    # writes to every object it visits, which would copy this process's memory page by page.
    pid = -1
    gc.freeze()
    try:
        pid = os.fork()
    finally:
        if pid != 0:
            gc.unfreeze()
    if pid == 0:  # the kernel
        code = 1
        try:
            code = _run_forked_kernel(argv, env, folder)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # reported on stderr, as a launched kernel would
            import traceback

            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)  # never return into the parent's code, skip its atexit handlers
    return ForkedKernelProcess(pid)


class ForkingProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, forking the kernel when :func:`can_fork` allows."""

    forked = False

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        if not can_fork(cmd):
            return await super().launch_kernel(cmd, **kwargs)
        self.process = fork_kernel(cmd, env=kwargs.get("env"), cwd=kwargs.get("cwd"))
        self.forked = True
        self.pid = self.process.pid
        self.pgid = self.process.pid  # setsid() made it the leader of its own group
        self.cwd = kwargs.get("cwd", os.getcwd())
        return self.connection_info


class ForkingKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernels are forks of this process where that is safe.

    Examples
    --------
    >>> from jupyter_client.manager import AsyncKernelManager
    >>> from evaluation.kernels import ForkingKernelManager
    >>> issubclass(ForkingKernelManager, AsyncKernelManager)
    True
    """

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
        spec = self.kernel_spec
        if (self.provisioner is None and spec is not None
                and not spec.metadata.get("kernel_provisioner")):  # a declared one is kept
            self.provisioner = ForkingProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self,
            )
        return await super()._async_pre_start_kernel(**kw)
