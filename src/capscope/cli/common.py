"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console


def _follow_environment(con: Console) -> Console:
    """Let ``con`` take its width from ``$COLUMNS`` / the terminal at print time, not at import time.

    rich fixes a console's width when it is constructed if ``$COLUMNS`` is set then; these consoles are
    created once at import, so a later change (a resized terminal, a test runner's environment) would be
    ignored. With the fixed width cleared rich measures again on every print.
    """
    con._width = None
    return con


#: Console for normal output (tables, summaries).
console = _follow_environment(Console())
#: Console for errors and warnings; messages are not hard-wrapped so paths stay intact and copyable.
err_console = _follow_environment(Console(stderr=True, soft_wrap=True))

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data", help="Data directory (default: $CAPSCOPE_DATA, then ../shared/data beside the checkout)."
    ),
]
StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="DuckDB store file (default: $CAPSCOPE_STORE, then the user cache)."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Last date that may be used, YYYY-MM-DD (default: latest in the data)."),
]
