"""``capscope overview``: the Russell 2000 against the S&P 500 (or any symbols) at a glance."""

from __future__ import annotations

from typing import Annotated

import typer

from capscope.cli.common import AsOfOption, StoreOption, console
from capscope.errors import UsageError


def overview(
    symbols: Annotated[
        list[str] | None,
        typer.Option(
            "--symbol", "-s", help="Symbol to show (repeat, or comma-separated). Default: RUT, GSPC."
        ),
    ] = None,
    as_of: AsOfOption = None,
    store: StoreOption = None,
) -> None:
    """Last close, YTD return and 52-week high/low of the Russell 2000 (RUT) and the S&P 500 (GSPC).

    Example: capscope overview --as-of 2025-12-31 -s RUT,GSPC,IWM
    """
    from rich.table import Table

    from capscope.store import Store
    from capscope.store.query import to_date
    from capscope.store.stats import snapshot

    chosen = [v.strip() for item in (symbols or ["RUT", "GSPC"]) for v in item.split(",") if v.strip()]
    day = to_date(as_of)
    with Store(store, read_only=True) as st:
        bars = st.bars(chosen, end=day)
    table = Table(
        title=f"overview as of {day or 'the last bar'}",
        title_justify="left",
        caption="YTD: vs the previous year's last close; 52w: intraday high/low over the last 365 days",
        caption_justify="left",
    )
    table.add_column("symbol", no_wrap=True)
    table.add_column("date", no_wrap=True, min_width=10)
    for name, justify in (
        ("close", "right"),
        ("YTD", "right"),
        ("52w high", "right"),
        ("52w low", "right"),
        ("vs high", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for sym in chosen:
        own = bars.filter(bars["symbol"] == sym)
        if own.height == 0:
            raise UsageError(f"{sym} has no bar on or before {day}")
        snap = snapshot(own)
        table.add_row(
            sym,
            snap.date.isoformat(),
            f"{snap.close:,.2f}",
            "n/a" if snap.ytd_return is None else f"{snap.ytd_return:+.2%}",
            f"{snap.high_52w:,.2f}",
            f"{snap.low_52w:,.2f}",
            f"{snap.from_high_52w:+.2%}",
        )
    console.print(table)
