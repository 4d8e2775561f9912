"""``capscope symbols``: what the store holds, one row per symbol."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from capscope.cli.common import StoreOption
from capscope.cli.tables import WideOption
from capscope.data.sources import resolve_store_path
from capscope.store.health import missing

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("table", "json", "csv")


def symbols(
    store: StoreOption = None,
    output: Annotated[
        str, typer.Option("--format", "-f", help="Output format: table, json or csv.")
    ] = "table",
    wide: WideOption = False,
) -> None:
    """List stored symbols with their first and last date, number of bars, alternate sources and source file.

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
    from capscope.data.alternates import split_source

    split = [split_source(name) for name in frame["symbol"].to_list()]
    if output == "json":
        records = [
            {
                **row,
                "first_date": row["first_date"].isoformat(),
                "last_date": row["last_date"].isoformat(),
                "alternate_of": primary if alt else None,
            }
            for row, (primary, alt) in zip(frame.iter_rows(named=True), split, strict=True)
        ]
        typer.echo(json.dumps(records, indent=1))
        return
    if output == "csv":
        import polars as pl

        alt_of = pl.Series(
            "alternate_of", [primary if alt else None for primary, alt in split], dtype=pl.String
        )
        typer.echo(frame.with_columns(alt_of).write_csv(), nl=False)
        return
    _table(frame, split, wide)


def _table(frame: pl.DataFrame, split: list[tuple[str, str | None]], wide: bool) -> None:
    """One row per symbol; alternate sources (``SYMBOL__source``) named in their primary's row, not as rows."""
    import os

    from rich.markup import escape

    from capscope.cli.tables import Col, fmt_int, plural, render_table

    names = set(frame["symbol"].to_list())
    alternates: dict[str, list[str]] = {}  # primary -> its alternate sources (a primary stored itself)
    for primary, alt in split:
        if alt is not None and primary in names:
            alternates.setdefault(primary, []).append(alt)
    sources = [s for s in frame["source"].to_list() if s]
    root = os.path.commonpath(sources) if len(sources) > 1 else ""
    root = root if root and not any(s == root for s in sources) else ""
    cols = [
        Col("symbol", "label"),
        Col("first", "date"),
        Col("last", "date"),
        Col("rows", "number"),
        Col("also from", "text", priority=2),
        Col("source", "label", priority=1),
    ]
    rows = []
    for row, (primary, alt) in zip(frame.iter_rows(named=True), split, strict=True):
        if alt is not None and primary in names:
            continue  # shown in its primary's row
        src = row["source"] or ""
        rows.append(
            [
                escape(row["symbol"]),
                row["first_date"].isoformat(),
                row["last_date"].isoformat(),
                fmt_int(row["rows"]),
                escape(", ".join(alternates.get(row["symbol"], []))),
                escape(os.path.relpath(src, root) if root and src else src),
            ]
        )
    n_alt = sum(len(v) for v in alternates.values())
    title = f"{plural(len(rows), 'symbol')}, {plural(int(frame['rows'].sum() or 0), 'bar')}"
    if n_alt:
        title += f" (with {plural(n_alt, 'alternate source')})"
    caption = f"sources under {escape(root)}" if root else None
    render_table(cols, rows, title=title, wide=wide, caption=caption)
