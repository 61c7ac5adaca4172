"""The ``evaluate`` command line (also ``python -m evaluation``).

Errors the toolkit expects (bad input, bad configuration) are printed as one sentence with a
non-zero exit code and no traceback; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from evaluation import __version__
from evaluation.errors import EvaluationError

__all__ = ["main", "build_parser"]

EXIT_ERROR = 2
EXIT_INTERNAL = 3


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit code 2).

    argparse prints the usage block and then the error; the toolkit prints one sentence that
    names the offending argument and points to ``--help`` instead. Subparsers inherit this
    class, so ``evaluate ingest`` without a folder behaves the same way.
    """

    def error(self, message: str) -> None:  # type: ignore[override]
        message = " ".join(message.split())
        self.exit(EXIT_ERROR, f"{self.prog}: {message}; see {self.prog} --help.\n")


def _cmd_instrument_check(args: argparse.Namespace) -> int:
    from evaluation.instrument import load_instrument

    inst = load_instrument(args.instrument)
    waves = {w: len(inst.column_names(w)) for w in ("pre", "post", "followup")}
    print(
        f"{inst.label}: {len(inst.items)} items, {len(inst.scales)} scales, "
        f"languages {', '.join(inst.languages)}; columns per form: "
        + ", ".join(f"{w} {n}" for w, n in waves.items())
        + ". No problems found."
    )
    return 0


def _cmd_instrument_xlsform(args: argparse.Namespace) -> int:
    from evaluation.instrument import load_instrument
    from evaluation.xlsform import write_xlsform

    inst = load_instrument(args.instrument)
    out = write_xlsform(inst, args.wave, args.out, workshop_id=args.workshop_id)
    print(f"Wrote the {args.wave} form of {inst.label} to {out}.")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from evaluation.demo import generate_demo

    written = generate_demo(Path(args.out), seed=args.seed, forms_dir=args.forms)
    print(f"Wrote {len(written)} synthetic demo workshops to {args.out}: "
          + ", ".join(p.name for p in written) + ".")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``evaluate``.

    Examples
    --------
    >>> from evaluation.cli import build_parser
    >>> args = build_parser().parse_args(["instrument", "check", "surveys/pvect-readiness.yaml"])
    >>> args.instrument
    'surveys/pvect-readiness.yaml'
    """
    parser = _Parser(
        prog="evaluate",
        description="Evaluate capacity-building workshops from pre/post/follow-up surveys.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="write the synthetic demo workshops (seeded)")
    demo.add_argument("--out", default="demo-workshops",
                      help="folder to write (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=20180521,
                      help="random seed (default: %(default)s)")
    demo.add_argument("--forms", default=None, metavar="DIR",
                      help="also write the XLSForm of every wave of every instrument into DIR")
    demo.set_defaults(func=_cmd_demo)

    inst = sub.add_parser("instrument", help="check an instrument or export it as XLSForm")
    inst_sub = inst.add_subparsers(dest="instrument_command", metavar="ACTION", required=True)
    check = inst_sub.add_parser("check", help="validate an instrument YAML file")
    check.add_argument("instrument", help="path of the instrument YAML")
    check.set_defaults(func=_cmd_instrument_check)
    xls = inst_sub.add_parser("xlsform", help="write the XLSForm of one wave")
    xls.add_argument("instrument", help="path of the instrument YAML")
    xls.add_argument("--wave", required=True, choices=("pre", "post", "followup"))
    xls.add_argument("--out", required=True, help="the .xlsx file to write")
    xls.add_argument("--workshop-id", default=None,
                     help="workshop id stored in the form's hidden workshop_id field")
    xls.set_defaults(func=_cmd_instrument_xlsform)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


#: Later pipeline steps register their subcommands here (ingest, report, batch, ...).
_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Examples
    --------
    >>> from evaluation.cli import main
    >>> main(["instrument", "check", "surveys/pvect-readiness.yaml"])
    pvect-readiness 2.0: ... No problems found.
    0
    """
    _register_optional_commands()
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # accepted before or after the subcommand
    try:
        args = parser.parse_args([a for a in argv if a != "--debug"])
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    args.debug = debug
    if not getattr(args, "func", None):
        parser.print_help()
        print("evaluate: no command given; see evaluate --help.", file=sys.stderr)
        return EXIT_ERROR
    try:
        return int(args.func(args) or 0)
    except EvaluationError as exc:
        if args.debug:
            raise
        # one line, whatever a quoted header or file name contains
        print("evaluate: " + " ".join(str(exc).split()), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("evaluate: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"evaluate: internal error ({type(exc).__name__}); run again with --debug and "
            "report the traceback (it contains no survey data).",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _register_optional_commands() -> None:
    """Import modules that add subcommands (kept lazy so ``--help`` stays fast)."""
    if _EXTRA_COMMANDS:
        return
    try:
        from evaluation import commands
    except ImportError:  # pragma: no cover - the module exists once later steps land
        return
    _EXTRA_COMMANDS.extend(commands.REGISTRY)
