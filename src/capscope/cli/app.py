"""The ``capscope`` typer application. Each command lives in its own module and is registered here.

Commands import their heavy dependencies inside the command function so that ``capscope --help`` is fast.
User errors (:class:`capscope.errors.CapscopeError`) become a one-line message and an exit code, never a
traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from capscope.errors import CapscopeError

app = typer.Typer(
    name="capscope",
    help="Small-cap market analysis: ingest daily bars, compute indicators and signals, write a checkable brief. "
    "Exit codes: 0 ok, 2 usage, 3 data, 4 store, 5 download, 70 unexpected (add --debug for its traceback).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("version")
def version() -> None:
    """Print the capscope version."""
    from capscope import __version__

    typer.echo(__version__)


# One module per command. Each module imports only typer/rich at top level and its heavy dependencies
# inside the command, so `capscope --help` stays fast.
from capscope.cli import breadth as _breadth  # noqa: E402
from capscope.cli import brief as _brief  # noqa: E402
from capscope.cli import doctor as _doctor  # noqa: E402
from capscope.cli import download as _download  # noqa: E402
from capscope.cli import export as _export  # noqa: E402
from capscope.cli import ingest as _ingest  # noqa: E402
from capscope.cli import overview as _overview  # noqa: E402
from capscope.cli import patterns as _patterns  # noqa: E402
from capscope.cli import recon as _recon  # noqa: E402
from capscope.cli import rotation as _rotation  # noqa: E402
from capscope.cli import scan as _scan  # noqa: E402
from capscope.cli import show as _show  # noqa: E402
from capscope.cli import sources as _sources  # noqa: E402
from capscope.cli import study as _study  # noqa: E402
from capscope.cli import symbols as _symbols  # noqa: E402
from capscope.cli import verify as _verify  # noqa: E402
from capscope.cli import watch as _watch  # noqa: E402

app.command("ingest")(_ingest.ingest)
app.command("symbols")(_symbols.symbols)
app.command("show")(_show.show)
app.command("doctor")(_doctor.doctor)
app.command("overview")(_overview.overview)
app.command("scan")(_scan.scan)
app.command("patterns")(_patterns.patterns)
app.command("rotation")(_rotation.rotation)
app.command("breadth")(_breadth.breadth)
app.command("brief")(_brief.brief)
app.command("verify")(_verify.verify)
app.command("sources")(_sources.sources)
app.command("download")(_download.download)
app.command("watch")(_watch.watch)
app.command("study")(_study.study)
app.add_typer(_recon.app, name="recon")


#: Exit codes a command can end with (documented in README "Commands").
EXIT_CODES = {
    0: "success",
    1: "verify --strict found an unsupported claim; an interrupted pipe",
    2: "usage error (bad option, value, date or symbol)",
    3: "data error (a bar file breaks the contract)",
    4: "store error (missing, damaged, locked or unreadable store; ingest conflict)",
    5: "download error",
    70: "unexpected error (a bug: please report it)",
    130: "interrupted (Ctrl-C)",
}
#: Exit code of an unexpected exception (EX_SOFTWARE of sysexits.h).
UNEXPECTED_EXIT = 70
#: Where unexpected errors should be reported.
REPORT_TO = "the capscope issue tracker"
DEBUG_ENV = "CAPSCOPE_DEBUG"


def _debug_requested(args: list[str]) -> tuple[bool, list[str]]:
    """Remove ``--debug`` (before a ``--``) from ``args``; also honour ``CAPSCOPE_DEBUG=1``."""
    import os

    end = args.index("--") if "--" in args else len(args)
    flag = "--debug" in args[:end]
    rest = [a for a in args[:end] if a != "--debug"] + args[end:]
    env = os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")
    return flag or env, rest


_COMMAND: list[Any] = []


def _click_command() -> Any:
    """The click command typer builds from ``app`` (built once per process: typer rebuilds it on every call,
    ~0.2-0.4 s of inspecting signatures, which in-process callers such as the fuzz tests would pay per run)."""
    if not _COMMAND or _COMMAND[1] != len(app.registered_commands):
        _COMMAND[:] = [typer.main.get_command(app), len(app.registered_commands)]
    return _COMMAND[0]


def run(args: list[str] | None = None) -> int:
    """Run ``capscope ARGS`` and return the exit code; nothing but ``--debug`` prints a traceback.

    A :class:`~capscope.errors.CapscopeError` prints one message and exits with its code; a usage error found
    by typer/click exits 2 with click's message; any other exception prints one line asking for a report and
    exits 70 (the traceback only with ``--debug`` or ``CAPSCOPE_DEBUG=1``).
    """
    from rich.markup import escape

    from capscope.cli.common import err_console

    debug, argv = _debug_requested(list(sys.argv[1:] if args is None else args))
    try:
        _click_command().main(args=argv, prog_name="capscope")
    except SystemExit as exc:  # typer/click end every run with SystemExit (0, 2 for usage errors, ...)
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except CapscopeError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        return exc.exit_code
    except KeyboardInterrupt:
        err_console.print("interrupted", highlight=False)
        return 130
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()
        what = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
        err_console.print(
            f"[bold red]unexpected error:[/] {escape(what)}; please report it to {REPORT_TO} with the "
            f"command you ran{'' if debug else ' (add --debug for the traceback)'}",
            highlight=False,
        )
        return UNEXPECTED_EXIT
    return 0


app.add_typer(_export.app, name="export")


def main() -> None:
    """Console-script entry point: :func:`run` with ``sys.argv``, then exit with its code."""
    import gc

    from capscope.cli.compile_notice import install

    install()  # on a terminal, say so while the kernels compile on a new machine
    try:
        code = run()
    finally:
        # The process ends here: move every live object out of the collected generations so the
        # interpreter's exit-time collections do not rescan the ~10^6 objects numpy/pandas/numba created.
        gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
