"""``capscope symbols``: what the store holds, one row per symbol."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from capscope.cli.common import StoreOption, console
from capscope.errors import UsageError

FORMATS = ("table", "json", "csv")


def symbols(
    store: StoreOption = None,
    output: Annotated[
        str, typer.Option("--format", "-f", help="Output format: table, json or csv.")
    ] = "table",
) -> None:
    """List stored symbols with their first and last date, number of bars and source file.

    Example: capscope symbols --format csv > symbols.csv
    """
    from capscope.store import Store

    if output not in FORMATS:
        raise UsageError(f"--format {output!r}: choose one of {', '.join(FORMATS)}")
    with Store(store, read_only=True) as st:
        frame = st.symbols()
    if output == "json":
        records = [
            {**row, "first_date": row["first_date"].isoformat(), "last_date": row["last_date"].isoformat()}
            for row in frame.iter_rows(named=True)
        ]
        typer.echo(json.dumps(records, indent=1))
        return
    if output == "csv":
        typer.echo(frame.write_csv(), nl=False)
        return
    from rich.table import Table

    table = Table(
        title=f"{frame.height:,} symbols, {int(frame['rows'].sum() or 0):,} bars", title_justify="left"
    )
    for name, justify in (("symbol", "left"), ("first", "left"), ("last", "left"), ("rows", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("source", overflow="fold")
    for row in frame.iter_rows(named=True):
        table.add_row(
            row["symbol"],
            row["first_date"].isoformat(),
            row["last_date"].isoformat(),
            f"{row['rows']:,}",
            row["source"] or "",
        )
    console.print(table)
