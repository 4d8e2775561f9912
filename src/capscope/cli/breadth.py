"""``capscope breadth``: % above the 50/200-day SMA, advance/decline line, new highs/lows, McClellan oscillator.

The numbers come from :mod:`capscope.analytics.breadth`; this module loads the universe and prints.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from capscope.cli.blocks import EngineOption, SchedulerOption
from capscope.cli.common import AsOfOption, DataOption, StoreOption, console
from capscope.cli.loading import load_panel
from capscope.cli.rotation import check_format
from capscope.cli.tables import WideOption
from capscope.errors import UsageError


def read_universe_file(path: Path) -> list[str]:
    """Symbols listed in a text file: separated by newlines, commas or spaces; ``#`` starts a comment."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--universe {path}: cannot read it ({exc})") from None
    symbols: list[str] = []
    for line in text.splitlines():
        symbols += [s for s in re.split(r"[,\s]+", line.split("#", 1)[0]) if s]
    if not symbols:
        raise UsageError(f"--universe {path}: no symbols in the file (one per line, or comma-separated)")
    return list(dict.fromkeys(symbols))


def breadth(
    universe: Annotated[
        str,
        typer.Option(
            "--universe",
            help="'stocks' (the stocks/ folder of the data dir), 'all' (every bar file / stored symbol) or a "
            "FILE listing symbols.",
        ),
    ] = "stocks",
    as_of: AsOfOption = None,
    rows: Annotated[int, typer.Option("--rows", min=1, help="Days shown in the table (table format).")] = 10,
    tail: Annotated[
        int, typer.Option("--tail", min=0, help="Days of daily series included in JSON (0 = none).")
    ] = 0,
    high_low: Annotated[
        bool, typer.Option("--high-low", help="New highs/lows from bar highs/lows instead of closes.")
    ] = False,
    plain: Annotated[
        bool, typer.Option("--plain-net", help="McClellan on plain net advances (default: ratio-adjusted).")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    data: DataOption = None,
    store: StoreOption = None,
    wide: WideOption = False,
    engine: EngineOption = "local",
    scheduler: SchedulerOption = None,
) -> None:
    """Market breadth of a universe (default: the sample small-cap stocks) for every day up to --as-of.

    Example: capscope breadth --universe stocks --as-of 2025-04-08 --format json
    """
    from capscope.cli.blocks import block_source
    from capscope.cli.dates import parse_date, resolve_for_symbols
    from capscope.scale import run as scale_run

    check_format(fmt)
    parse_date(as_of, "--as-of")
    symbols: list[str] | None = None
    subdir: str | None = None
    if universe == "stocks":
        subdir = "stocks"
    elif universe != "all":
        path = Path(universe)
        if not path.is_file():
            from capscope.cli.choices import invalid_choice

            err = invalid_choice("--universe", universe, ("stocks", "all"))
            raise UsageError(f"{err} or an existing file of symbols")
        symbols = read_universe_file(path)
    src, chosen = block_source(
        symbols,
        data=data,
        store=store,
        load=lambda: load_panel(symbols, data=data, store=store, subdir=subdir),
        subdir=subdir,
    )
    source = src.description
    firsts, lasts = src.extent()
    firsts = {s: firsts[s] for s in chosen if s in firsts}
    lasts = {s: lasts[s] for s in chosen if s in lasts}
    day = resolve_for_symbols(as_of, firsts, lasts, every=False)
    result = scale_run.breadth(
        scale_run.universe(src, chosen, day.used),
        use_high_low=high_low,
        ratio_adjusted=not plain,
        engine=engine,
        scheduler=scheduler,
        show_progress=fmt == "table",
    )
    if fmt == "json":
        out = {"universe": universe, "source": source, **result.to_dict(tail=tail)}
        typer.echo(json.dumps(out, indent=2))
        return
    from rich.markup import escape

    from capscope.cli.tables import Col, fmt_int, fmt_level_pct, plural, render_table

    latest = result.latest()
    p = result.params
    cols = [
        Col("date", "date"),
        Col(f">{p['short_window']}d SMA", "number"),
        Col(f">{p['long_window']}d SMA", "number"),
        Col("adv", "number", priority=2),
        Col("dec", "number", priority=2),
        Col("A/D line", "number", priority=3),
        Col(f"{p['hl_window']}-bar highs", "number", priority=1),
        Col("lows", "number", priority=1),
        Col("McClellan", "number"),
        Col("summation", "number", priority=4),
    ]
    frame = result.frame().tail(max(rows, 1))

    def num(x: float, digits: int = 0) -> str:
        return "—" if x != x else f"{x:,.{digits}f}"

    table_rows = [
        [
            str(date.date()),  # type: ignore[attr-defined]
            fmt_level_pct(r["pct_above_short"]),
            fmt_level_pct(r["pct_above_long"]),
            fmt_int(r["advances"]),
            fmt_int(r["declines"]),
            fmt_int(r["ad_line"]),
            fmt_int(r["new_highs"]),
            fmt_int(r["new_lows"]),
            num(r["mcclellan"], 1),
            num(r["summation"], 1),
        ]
        for date, r in frame.iterrows()
    ]
    title = (
        f"[bold]Breadth of {plural(result.n_symbols, 'symbol')} ({escape(universe)}) as of {latest['date']}[/] "
        f"({escape(source)})"
    )
    render_table(cols, table_rows, title=title, wide=wide)
    console.print(
        f"  % above SMA: denominator = symbols with a defined SMA that day; new highs/lows on "
        f"{p['hl_on']}; McClellan = EMA{p['ema_fast']} - EMA{p['ema_slow']} of "
        f"{'ratio-adjusted (x1000)' if p['ratio_adjusted'] else 'plain'} net advances",
        highlight=False,
    )
    for w in result.warnings:
        console.print(f"  [yellow]warning:[/] {escape(w)}", highlight=False)
