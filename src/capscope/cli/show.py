"""``capscope show``: the last bars of one symbol up to a date, with a one-line summary."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from capscope.cli.common import AsOfOption, StoreOption, console
from capscope.errors import UsageError


def _num(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:,.0f}" if abs(value) >= 1e6 else f"{value:,.2f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2%}"


def show(
    symbol: Annotated[str, typer.Argument(help="Symbol as stored (see `capscope symbols`).")],
    as_of: AsOfOption = None,
    rows: Annotated[int, typer.Option("--rows", "-n", min=1, help="Number of bars to print.")] = 10,
    store: StoreOption = None,
) -> None:
    """Print the last bars of SYMBOL on or before --as-of, and its last close, YTD and 52-week range.

    Example: capscope show RUT --as-of 2025-04-08 --rows 5
    """
    import polars as pl
    from rich.table import Table

    from capscope.store import Store
    from capscope.store.query import to_date
    from capscope.store.stats import snapshot

    day = to_date(as_of)
    with Store(store, read_only=True) as st:
        bars = st.bars([symbol], end=day)
    if bars.height == 0:
        raise UsageError(f"{symbol} has no bar on or before {day}")
    snap = snapshot(bars)
    table = Table(
        title=f"{symbol}: last {min(rows, bars.height)} bar(s) up to {snap.date}", title_justify="left"
    )
    table.add_column("date", no_wrap=True, min_width=10)
    for name in ("open", "high", "low", "close", "adj_close", "volume"):
        table.add_column(name, justify="right")
    for row in bars.tail(rows).iter_rows(named=True):
        table.add_row(
            row["date"].isoformat(),
            *(_num(row[c]) for c in ("open", "high", "low", "close", "adj_close", "volume")),
        )
    console.print(table)
    first = bars.select(pl.col("date").min()).item()
    console.print(
        f"{symbol} {snap.date}: close {_num(snap.close)} ({_pct(snap.change_1d)} 1d), "
        f"YTD {_pct(snap.ytd_return)}, 52w range {_num(snap.low_52w)} - {_num(snap.high_52w)} "
        f"({_pct(snap.from_high_52w)} from high); {snap.bars:,} bars since {first}",
        highlight=False,
    )
