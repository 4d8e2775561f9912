"""``capscope symbols``: what the store holds, one row per symbol."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from capscope.cli.common import StoreOption
from capscope.cli.tables import WideOption
from capscope.data.sources import resolve_store_path
from capscope.store.health import missing

FORMATS = ("table", "json", "csv")


def symbols(
    store: StoreOption = None,
    output: Annotated[
        str, typer.Option("--format", "-f", help="Output format: table, json or csv.")
    ] = "table",
    wide: WideOption = False,
) -> None:
    """List stored symbols with their first and last date, number of bars and source file.

    Example: capscope symbols --format csv > symbols.csv
    """
    from capscope.cli.choices import check_choice
    from capscope.cli.source import resolve_source
    from capscope.store import Store

    check_choice("--format", output, FORMATS)
    source = resolve_source(None, store)
    if source.kind != "store":
        raise missing(resolve_store_path(store))
    with Store(source.path, read_only=True) as st:
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
    from rich.markup import escape

    from capscope.cli.tables import Col, fmt_int, plural, render_table

    cols = [
        Col("symbol", "label"),
        Col("first", "date"),
        Col("last", "date"),
        Col("rows", "number"),
        Col("source", "text", priority=1),
    ]
    rows = [
        [
            escape(row["symbol"]),
            row["first_date"].isoformat(),
            row["last_date"].isoformat(),
            fmt_int(row["rows"]),
            escape(row["source"] or ""),
        ]
        for row in frame.iter_rows(named=True)
    ]
    title = f"{plural(frame.height, 'symbol')}, {plural(int(frame['rows'].sum() or 0), 'bar')}"
    render_table(cols, rows, title=title, wide=wide)
