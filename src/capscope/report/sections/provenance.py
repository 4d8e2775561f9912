"""Data provenance and caveats: which bars each symbol contributed, the chart window, no look-ahead."""

from __future__ import annotations

from capscope.analytics.series import series_of
from capscope.report.context import SectionContext, SectionResult, iso

SECTION = "provenance"


def build(ctx: SectionContext) -> SectionResult:
    """Facts of the provenance section."""
    out = SectionResult(SECTION)
    p = ctx.params
    rows = []
    for sym in dict.fromkeys([p.symbol, p.benchmark, p.growth, p.value]):
        if sym not in ctx.prices.symbols:
            continue
        s = series_of(ctx.prices, sym)
        if len(s.dates) == 0:
            continue
        first, last = iso(s.dates[0]), iso(s.dates[-1])
        out.add(
            f"{sym}",
            f"{sym}: {len(s.dates)} daily bars used, {first} to {last}.",
            len(s.dates),
            "bars",
            {"symbol": sym, "first_date": first, "last_date": last},
            last,
        )
        rows.append([sym, first, last, len(s.dates)])
    if ctx.universe is not None and ctx.universe.n_symbols:
        u = ctx.universe.drop_empty_dates()
        if u.n_bars:
            first, last = iso(u.dates[0]), iso(u.dates[-1])
            out.add(
                "universe",
                f"Breadth universe ({ctx.universe_name}): {u.n_symbols} symbols, {first} to {last}.",
                u.n_symbols,
                "symbols",
                {"first_date": first, "last_date": last},
                last,
            )
    out.table = {"columns": ["symbol", "first bar used", "last bar used", "bars"], "rows": rows}
    s = ctx.main
    lo = max(0, s.last - p.chart_bars + 1)
    shown = s.last - lo + 1
    out.add(
        "charts",
        f"The charts show the last {shown} sessions of {s.symbol} ({iso(s.dates[lo])} to {iso(s.dates[-1])}; at most "
        f"{p.chart_bars}).",
        shown,
        "sessions",
        {"symbol": s.symbol, "chart_bars": p.chart_bars, "first_date": iso(s.dates[lo])},
        s.dates[-1],
    )
    out.add(
        "no_lookahead",
        f"Everything above uses only bars dated on or before {iso(ctx.as_of)}; each event is dated on the bar on "
        "which it became knowable.",
        iso(ctx.as_of),
        "date",
        {"as_of": iso(ctx.as_of)},
        ctx.as_of,
    )
    return out
