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


from capscope.cli import doctor as _doctor_cli  # noqa: E402
from capscope.cli import ingest as _ingest_cli  # noqa: E402
from capscope.cli import overview as _overview_cli  # noqa: E402
from capscope.cli import show as _show_cli  # noqa: E402
from capscope.cli import symbols as _symbols_cli  # noqa: E402

app.command("ingest")(_ingest_cli.ingest)
app.command("symbols")(_symbols_cli.symbols)
app.command("show")(_show_cli.show)
app.command("doctor")(_doctor_cli.doctor)
app.command("overview")(_overview_cli.overview)
from capscope.cli import breadth as _breadth_cli  # noqa: E402
from capscope.cli import rotation as _rotation_cli  # noqa: E402

app.command("rotation")(_rotation_cli.rotation)
app.command("breadth")(_breadth_cli.breadth)
from capscope.cli import patterns as _patterns_cli  # noqa: E402

app.command("patterns")(_patterns_cli.patterns)
from capscope.cli import scan as _scan_cli  # noqa: E402

app.command("scan")(_scan_cli.scan)
from capscope.cli import brief as _brief_cli  # noqa: E402
from capscope.cli import verify as _verify_cli  # noqa: E402

app.command("brief")(_brief_cli.brief)
app.command("verify")(_verify_cli.verify)


def main() -> None:
    """Console-script entry point: run the app and turn capscope errors into clean exits."""
    try:
        app()
    except CapscopeError as exc:
        from rich.markup import escape

        from capscope.cli.common import err_console

        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
