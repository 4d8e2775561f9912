"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

#: Console for normal output (tables, summaries).
console = Console()
#: Console for errors and warnings.
err_console = Console(stderr=True)

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
