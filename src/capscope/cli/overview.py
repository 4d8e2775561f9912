"""``capscope overview``: the Russell 2000 against the S&P 500 (or any symbols) at a glance."""

from __future__ import annotations

from typing import Annotated

import typer

from capscope.cli.common import AsOfOption, StoreOption
from capscope.cli.tables import WideOption


def overview(
    symbols: Annotated[
        list[str] | None,
        typer.Option(
            "--symbol", "-s", help="Symbol to show (repeat, or comma-separated). Default: RUT, GSPC."
        ),
    ] = None,
    as_of: AsOfOption = None,
    store: StoreOption = None,
    wide: WideOption = False,
) -> None:
    """Last close, YTD return and 52-week high/low of the Russell 2000 (RUT) and the S&P 500 (GSPC).

    Example: capscope overview --as-of 2025-12-31 -s RUT,GSPC,IWM
    """
    import polars as pl
    from rich.markup import escape

    from capscope.cli.choices import unknown_symbols
    from capscope.cli.dates import bars_extent, parse_date, resolve_for_symbols
    from capscope.cli.source import resolve_source
    from capscope.cli.tables import Col, fmt_pct, fmt_price, render_table
    from capscope.errors import UsageError
    from capscope.store import Store
    from capscope.store.stats import snapshot

    chosen = list(
        dict.fromkeys(
            v.strip() for item in (symbols or ["RUT", "GSPC"]) for v in item.split(",") if v.strip()
        )
    )
    if not chosen:
        raise UsageError("--symbol is empty: give symbols, e.g. -s RUT,GSPC")
    parse_date(as_of, "--as-of")
    source = resolve_source(None, store)
    if source.kind != "store":
        raise unknown_symbols(chosen, [], f"the store (none at {source.path}; run capscope ingest)")
    with Store(source.path, read_only=True) as st:
        known = [r[0] for r in st.symbol_rows()]
        lacking = [s for s in chosen if s not in known]
        if lacking:
            raise unknown_symbols(lacking, known, f"the store at {source.path}")
        everything = st.bars(chosen)
    firsts, lasts = bars_extent(everything)
    day = resolve_for_symbols(as_of, firsts, lasts)
    bars = everything.filter(pl.col("date") <= day.used)
    cols = [
        Col("symbol", "label"),
        Col("date", "date"),
        Col("close", "number"),
        Col("YTD", "number"),
        Col("52w high", "number", 2),
        Col("52w low", "number", 2),
        Col("vs high", "number", 1),
    ]
    rows = []
    for sym in chosen:
        snap = snapshot(bars.filter(pl.col("symbol") == sym))
        rows.append(
            [
                escape(sym),
                snap.date.isoformat(),
                fmt_price(snap.close),
                fmt_pct(snap.ytd_return),
                fmt_price(snap.high_52w),
                fmt_price(snap.low_52w),
                fmt_pct(snap.from_high_52w),
            ]
        )
    render_table(
        cols,
        rows,
        title=f"overview as of {day.label}",
        caption="YTD: vs the previous year's last close; 52w: intraday high/low over the last 365 days",
        wide=wide,
    )
