"""``capscope show``: the last bars of one symbol up to a date, with a one-line summary."""

from __future__ import annotations

from typing import Annotated

import typer

from capscope.cli.common import AsOfOption, StoreOption, console
from capscope.cli.tables import WideOption


def show(
    symbol: Annotated[str, typer.Argument(help="Symbol as stored (see `capscope symbols`).")],
    as_of: AsOfOption = None,
    rows: Annotated[int, typer.Option("--rows", "-n", min=1, help="Number of bars to print.")] = 10,
    store: StoreOption = None,
    wide: WideOption = False,
) -> None:
    """Print the last bars of SYMBOL on or before --as-of, and its last close, YTD and 52-week range.

    Example: capscope show RUT --as-of 2025-04-08 --rows 5
    """
    from rich.markup import escape

    from capscope.cli.choices import unknown_symbols
    from capscope.cli.dates import bars_extent, parse_date, resolve_for_symbols
    from capscope.cli.source import resolve_source
    from capscope.cli.tables import Col, fmt_pct, fmt_price, fmt_volume, plural, render_table
    from capscope.store import Store
    from capscope.store.stats import snapshot

    parse_date(as_of, "--as-of")
    source = resolve_source(None, store)
    if source.kind != "store":
        raise unknown_symbols([symbol], [], f"the store (none at {source.path}; run capscope ingest)")
    with Store(source.path, read_only=True) as st:
        known = [r[0] for r in st.symbol_rows()]
        if symbol not in known:
            raise unknown_symbols([symbol], known, f"the store at {source.path}")
        everything = st.bars([symbol])
    firsts, lasts = bars_extent(everything)
    day = resolve_for_symbols(as_of, firsts, lasts)
    import polars as pl

    bars = everything.filter(pl.col("date") <= day.used)
    snap = snapshot(bars)
    shown = bars.tail(rows)
    cols = [
        Col("date", "date"),
        Col("open", "number", 2),
        Col("high", "number", 1),
        Col("low", "number", 1),
        Col("close", "number"),
        Col("adj_close", "number", 3),
        Col("volume", "number", 1),
    ]
    table_rows = [
        [
            row["date"].isoformat(),
            *(fmt_price(row[c]) for c in ("open", "high", "low", "close", "adj_close")),
            fmt_volume(row["volume"]),
        ]
        for row in shown.iter_rows(named=True)
    ]
    render_table(
        cols,
        table_rows,
        title=f"{escape(symbol)}: last {plural(shown.height, 'bar')} up to {snap.date}",
        wide=wide,
    )
    first = firsts[symbol]
    console.print(
        f"{escape(symbol)} {snap.date}: close {fmt_price(snap.close)} ({fmt_pct(snap.change_1d)} 1d), "
        f"YTD {fmt_pct(snap.ytd_return)}, 52w range {fmt_price(snap.low_52w)} - {fmt_price(snap.high_52w)} "
        f"({fmt_pct(snap.from_high_52w)} from high); {plural(snap.bars, 'bar')} since {first}",
        highlight=False,
    )
