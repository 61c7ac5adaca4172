"""Start report kernels as forks of this process, so they begin with the toolkit imported.

A Jupyter kernel is normally a new Python process: it starts (about 0.3 s) and then imports
pandas, SciPy, matplotlib and the toolkit again (about 1.3 s), although the process that renders
the report has imported them already. :class:`ForkingKernelManager` starts the kernel with
``os.fork()`` instead, after importing :data:`PRELOAD` here: the kernel inherits every loaded
module (copy-on-write) and only has to open its sockets. It is still a separate process that
papermill talks to over the usual Jupyter protocol, with its own process group, working folder
and environment; it is stopped, interrupted and killed through the same jupyter_client calls
as a launched one, and runs its own exit handlers (not this process's) when it ends.

When forking is not safe the kernel is launched the usual way, so the result never depends on
it. The fork is used only when all of these hold:

- the platform is Linux and ``os.fork`` exists;
- the kernelspec runs ``<this Python> -m ipykernel_launcher ...``: the same interpreter path
  (not another interpreter that a symbolic link resolves to, such as a virtual environment's
  base Python), so the kernel would have loaded the same modules;
- this process is not itself an IPython shell or kernel, and runs no Python thread other than
  the one that starts the kernel (a fork copies only the calling thread, so a lock held by
  another thread would stay locked in the kernel). Native threads are not counted: OpenBLAS
  (numpy) and jemalloc (pyarrow, loaded by pandas) run some, and rely on their own fork
  handlers, as in any forking server that preloads numpy;
- it has not loaded a library that keeps native worker threads and per-file state of its own
  (:data:`FORK_UNSAFE_MODULES`: DuckDB, which the cohort comparison opens before its kernel
  starts; a forked kernel could inherit a database instance whose threads do not exist);
- the environment variable ``EVALUATE_KERNEL_FORK`` is not ``0``.

What the kernel inherits that a launched kernel would not have: modules already imported, the
memory of this process (the rendering process reads only ``workshop.yaml`` before the kernel
starts, never the exports, so no respondent data is in it), and its open file descriptors (a
launched kernel closes all but 0-2). Closing them in the kernel would be unsafe, because objects
copied from this process may close them again by number later; the kernel ends with the report,
so they are released then. Python-level signal handlers and the signal wake-up descriptor are
reset to those of a new interpreter, and this process's exit handlers are dropped.
"""

from __future__ import annotations

import asyncio
import atexit
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
    # the path itself, not what symbolic links resolve to: a virtual environment's python is a
    # link to its base interpreter, whose site-packages differ
    return os.path.abspath(executable) == os.path.abspath(sys.executable)


def fork_possible() -> bool:
    """Whether this process may fork kernels at all (all conditions but the kernel's command).

    Examples
    --------
    >>> import os
    >>> from evaluation.kernels import fork_possible
    >>> saved = os.environ.get("EVALUATE_KERNEL_FORK")
    >>> os.environ["EVALUATE_KERNEL_FORK"] = "0"
    >>> fork_possible()
    False
    >>> _ = os.environ.pop("EVALUATE_KERNEL_FORK")
    >>> if saved is not None:
    ...     os.environ["EVALUATE_KERNEL_FORK"] = saved
    """
    if os.environ.get(_ENV_SWITCH, "1") == "0":
        return False
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    if threading.active_count() != 1:
        return False
    if any(name in sys.modules for name in FORK_UNSAFE_MODULES):
        return False
    shell = sys.modules.get("IPython.core.interactiveshell")
    return not (shell is not None and shell.InteractiveShell.initialized())


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
    >>> can_fork(["/opt/other/bin/python", "-m", "ipykernel_launcher", "-f", "k.json"])
    False
    """
    if len(cmd) < 3 or cmd[1:3] != ["-m", "ipykernel_launcher"] or not _same_python(cmd[0]):
        return False
    return fork_possible()


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
        """Wait for the kernel to end and return its exit code.

        ``timeout`` is accepted for :class:`subprocess.Popen` compatibility and not used:
        jupyter_client waits only after :meth:`poll` has seen the kernel end.
        """
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


def _reset_signals() -> None:
    """Signal handling as in a new interpreter: Python handlers back to the defaults."""
    signal.set_wakeup_fd(-1)  # the parent's event loop may have set one
    for signum in signal.valid_signals():
        try:
            handler = signal.getsignal(signum)
        except (OSError, ValueError):
            continue
        if callable(handler) and handler is not signal.default_int_handler:
            try:
                signal.signal(signum, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _run_forked_kernel(argv: list[str], env: dict[str, str], cwd: str | None) -> int:
    """In the forked child: become a kernel with ``argv`` (ipykernel's own arguments)."""
    atexit._clear()  # this process's exit handlers are not the kernel's
    os.setsid()  # own process group, as jupyter_client gives a launched kernel
    try:  # `top` and `ps -o comm` show the kernel by name (its command line is the parent's)
        with open("/proc/self/comm", "w", encoding="ascii") as comm:
            comm.write("report-kernel")
    except OSError:
        pass
    _reset_signals()
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
    # The objects alive now (mostly the imported libraries) are left out of later garbage
    # collections, in the kernel and here: in the kernel a collection would write to every
    # object it visits and so copy this process's memory page by page; here they would be
    # visited again and again while the report is laid out. Garbage is collected first, so
    # nothing collectable is kept; objects freed by their reference count are still freed.
    gc.collect()
    gc.freeze()
    pid = os.fork()
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
                atexit._run_exitfuncs()  # the kernel's own (ipykernel, IPython history)
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)  # never return into the parent's code
    return ForkedKernelProcess(pid)


class ForkingProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, forking the kernel when :func:`can_fork` allows."""

    forked = False

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        if not can_fork(cmd):
            return await super().launch_kernel(cmd, **kwargs)
        try:
            self.process = fork_kernel(cmd, env=kwargs.get("env"), cwd=kwargs.get("cwd"))
        except OSError:  # no fork possible now (EAGAIN, ENOMEM): launch it instead
            return await super().launch_kernel(cmd, **kwargs)
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
