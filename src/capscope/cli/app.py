"""The ``capscope`` typer application. Each command lives in its own module and is registered here.

Commands import their heavy dependencies inside the command function so that ``capscope --help`` is fast.
User errors (:class:`capscope.errors.CapscopeError`) become a one-line message and an exit code, never a
traceback.
"""

from __future__ import annotations

import sys

import typer

from capscope.errors import CapscopeError

app = typer.Typer(
    name="capscope",
    help="Small-cap market analysis: ingest daily bars, compute indicators and signals, write a checkable brief.",
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
from capscope.cli import ingest as _ingest  # noqa: E402
from capscope.cli import overview as _overview  # noqa: E402
from capscope.cli import patterns as _patterns  # noqa: E402
from capscope.cli import recon as _recon  # noqa: E402
from capscope.cli import rotation as _rotation  # noqa: E402
from capscope.cli import scan as _scan  # noqa: E402
from capscope.cli import show as _show  # noqa: E402
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
app.command("download")(_download.download)
app.command("watch")(_watch.watch)
app.add_typer(_recon.app, name="recon")


def main() -> None:
    """Console-script entry point: run the app and turn capscope errors into clean exits."""
    import gc

    try:
        app()
    except CapscopeError as exc:
        from rich.markup import escape

        from capscope.cli.common import err_console

        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
    finally:
        # The process ends here: move every live object out of the collected generations so the
        # interpreter's exit-time collections do not rescan the ~10^6 objects numpy/pandas/numba created.
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
