"""``capscope scan``: signals (crossovers, MACD, RSI, levels, breakouts) as typed events.

The command loads bars and prints; the events come from :func:`capscope.events.scan.scan_panel`. Bars come
from the store when it exists and holds every requested symbol (and ``--data`` is not given), otherwise from
the bar files of the data directory (any ``SYMBOL.csv`` under it), or from a Parquet dataset given as ``--data``.
Symbols are scanned in blocks (:mod:`capscope.scale`: one block in memory at a time, locally or as Dask tasks
with ``--engine dask``); each column is independent, so blocks never change an event.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from capscope.cli.blocks import EngineOption, SchedulerOption
from capscope.cli.common import AsOfOption, DataOption, StoreOption, console
from capscope.cli.tables import WideOption
from capscope.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from capscope.data.panel import Panel

FORMATS = ("table", "json", "csv")
#: Symbols per block when scanning many symbols (:mod:`capscope.scale`; bounds memory, results do not depend on
#: it).
BATCH_SIZE = 128
#: Default look-back of the output when ``--since`` is not given (events are still computed on all history).
DEFAULT_SINCE_DAYS = 92
TABLE_LIMIT = 200

SCAN_HELP = """Scan symbols for signals and print them as events (newest first in the table).

Kinds: golden_cross, death_cross, price_cross_above/below, macd_bullish/bearish_cross (with above_zero),
macd_zero_cross_up/down, rsi_overbought/oversold(+_exit), level_formed, breakout_above, breakdown_below,
breakout_failed, breakdown_failed; groups: ma_cross, price_cross, macd, macd_zero, rsi, levels, breakouts.

Example:

    capscope scan RUT IWM --since 2026-01-01 --kinds ma_cross,macd --format json
"""


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _read_universe_file(path: Path) -> list[str]:
    if not path.is_file():
        raise UsageError(f"--universe {path}: no such file (use 'all' or a file with one symbol per line)")
    out: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        out.extend(s.strip() for s in line.replace(",", " ").split() if s.strip())
    if not out:
        raise UsageError(f"--universe {path}: no symbols in the file")
    return out


def load_bars(
    symbols: list[str] | None, *, data: Path | None, store: Path | None, as_of: date | None
) -> tuple[pl.DataFrame, str]:
    """Bar table of ``symbols`` (``None`` = every symbol) up to ``as_of``, from the store or the data files.

    The source is :func:`capscope.cli.source.resolve_source`'s; a named store must hold every symbol.
    """
    import polars as pl

    from capscope.cli.choices import unknown_symbols
    from capscope.cli.source import files_instead, resolve_source
    from capscope.data.alternates import primary_symbols

    source = resolve_source(data, store)
    if source.kind == "store":
        from capscope.store import Store

        with Store(source.path, read_only=True) as st:
            stored = st.symbols()["symbol"].to_list()
            if stored and (symbols is None or set(symbols) <= set(stored)):
                # 'all': each symbol once (alternate sources SYMBOL__source are not symbols of their own)
                chosen = primary_symbols(stored) if symbols is None else symbols
                return st.bars(chosen, end=as_of), source.label
        if source.named:
            if not stored:
                raise UsageError(
                    f"the store at {source.path} is empty; run capscope ingest --store {source.path}"
                )
            missing = [s for s in symbols or [] if s not in set(stored)]
            raise unknown_symbols(missing, stored, f"the store at {source.path}")
        source = files_instead(source)
    from capscope.data.readers import iter_bar_files, read_many, symbol_from_path

    data_dir = source.path
    index: dict[str, Path] = {}
    for path in iter_bar_files(data_dir):
        index.setdefault(symbol_from_path(path), path)
    wanted = primary_symbols(sorted(index)) if symbols is None else symbols
    missing = [s for s in wanted if s not in index]
    if missing:
        raise unknown_symbols(missing, sorted(index), f"the data files under {data_dir}")
    if not wanted:
        raise UsageError(f"no bar files under {data_dir}")
    bars = read_many([index[s] for s in wanted])
    if as_of is not None:
        bars = bars.filter(pl.col("date") <= as_of)
    return bars, source.label


def run_scan(
    bars: pl.DataFrame,
    kinds: list[str] | None,
    since: date | None,
    *,
    show_progress: bool = False,
    patterns: bool = False,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Scan a bar table in blocks of symbols (:func:`capscope.scale.run.scan`): events and pattern records."""
    from capscope.data.panel import Panel
    from capscope.scale import run as scale_run
    from capscope.scale.blocks import PanelSource

    source = PanelSource(Panel.from_bars(bars), "bar table")
    return scale_run.scan(
        scale_run.universe(source),
        kinds=kinds,
        since=since,
        patterns=patterns,
        block_size=BATCH_SIZE,
        show_progress=show_progress,
    )


def _fmt(x: Any, digits: int = 2) -> str:
    try:
        return f"{float(x):,.{digits}f}"
    except (TypeError, ValueError):
        return "-"


def describe(rec: dict[str, Any]) -> str:
    """One-line human description of an event record's kind fields."""
    kind = rec["kind"]
    if kind in ("golden_cross", "death_cross"):
        rel = ">" if kind == "golden_cross" else "<"
        return (
            f"{rec['ma'].upper()} {rec['fast']} {_fmt(rec['fast_value'])} {rel} "
            f"{rec['ma'].upper()} {rec['slow']} {_fmt(rec['slow_value'])}"
        )
    if kind.startswith("price_cross"):
        rel = "above" if kind.endswith("above") else "below"
        return f"close {rel} {rec['ma'].upper()} {rec['window']} ({_fmt(rec['ma_value'])})"
    if kind.startswith("macd_zero"):
        return f"MACD {rec['fast']}/{rec['slow']}/{rec['signal']} = {_fmt(rec['macd'], 3)}"
    if kind.startswith("macd"):
        zone = "above zero" if rec["above_zero"] else "below zero"
        return f"MACD {_fmt(rec['macd'], 3)} vs signal {_fmt(rec['signal_value'], 3)}, {zone}"
    if kind.startswith("rsi"):
        return f"RSI {rec['window']} = {_fmt(rec['rsi'], 1)} (threshold {_fmt(rec['threshold'], 0)})"
    if kind == "level_formed":
        return (
            f"{rec['level_kind']} {_fmt(rec['level'])}, {rec['touches']} touches "
            f"{rec['first_touch']}..{rec['last_touch']}, strength {_fmt(rec['strength'])}"
        )
    if kind in ("breakout_above", "breakdown_below"):
        return (
            f"{rec['level_kind']} {_fmt(rec['level'])} ({rec['touches']} touches since {rec['first_touch']})"
        )
    if kind.endswith("_failed"):
        what = "breakout" if kind == "breakout_failed" else "breakdown"
        return f"back through {rec['level_kind']} {_fmt(rec['level'])}, {what} of {rec['breakout_date']}"
    return ", ".join(f"{k}={v}" for k, v in rec.items() if k not in ("symbol", "date", "kind", "price"))


_STYLE = {
    "golden_cross": "green",
    "price_cross_above": "green",
    "macd_bullish_cross": "green",
    "macd_zero_cross_up": "green",
    "rsi_oversold_exit": "green",
    "breakout_above": "bold green",
    "breakdown_failed": "green",
    "death_cross": "red",
    "price_cross_below": "red",
    "macd_bearish_cross": "red",
    "macd_zero_cross_down": "red",
    "rsi_overbought_exit": "red",
    "breakdown_below": "bold red",
    "breakout_failed": "red",
}


def _print_table(shown: list[dict[str, Any]], total: int, title: str, wide: bool = False) -> None:
    """The newest events as a table; ``total`` counts every event, shown or not."""
    from rich.markup import escape

    from capscope.cli.tables import Col, fmt_price, plural, render_table

    if not shown:
        console.print(f"{title}\n(no events)", highlight=False)
        return
    cols = [
        Col("date", "date"),
        Col("symbol", "label", style="bold"),
        Col("signal", "label"),
        Col("close", "number", priority=2),
        Col("details", "text", priority=1),
    ]
    rows = []
    for rec in shown:
        style = _STYLE.get(rec["kind"], "")
        kind = f"[{style}]{rec['kind']}[/]" if style else rec["kind"]
        rows.append(
            [rec["date"], escape(rec["symbol"]), kind, fmt_price(rec["price"]), escape(describe(rec))]
        )
    render_table(cols, rows, title=title, wide=wide, header_style="bold")
    if len(shown) < total:
        console.print(
            f"... {plural(total - len(shown), 'older event')} not shown (use --limit 0 or --format json)",
            highlight=False,
        )


def _parse_day(value: str, option: str) -> date:
    from capscope.cli.dates import parse_date

    day = parse_date(value, option)
    assert day is not None
    return day


def scan(
    symbols: Annotated[list[str] | None, typer.Argument(help="Symbols to scan (e.g. RUT IWM).")] = None,
    universe: Annotated[
        str | None,
        typer.Option("--universe", help="'all' (every symbol) or a file with one symbol per line."),
    ] = None,
    as_of: AsOfOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help=f"Show events on or after this date (default: {DEFAULT_SINCE_DAYS} days before the as-of "
            "date; 'all' for the whole history).",
        ),
    ] = None,
    kinds: Annotated[
        list[str] | None,
        typer.Option("--kinds", help="Event kinds or groups, comma-separated (default: all)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    limit: Annotated[
        int, typer.Option("--limit", min=0, help=f"Table rows (default {TABLE_LIMIT}; 0 = all).")
    ] = TABLE_LIMIT,
    data: DataOption = None,
    store: StoreOption = None,
    wide: WideOption = False,
    engine: EngineOption = "local",
    scheduler: SchedulerOption = None,
) -> None:
    """Scan symbols for signals and print them as events (newest first in the table)."""
    from capscope.cli.choices import check_choice
    from capscope.cli.dates import check_since, parse_date, resolve_for_symbols
    from capscope.events.records import events_to_records, resolve_kinds

    check_choice("--format", fmt, FORMATS)
    try:
        kind_list = list(resolve_kinds(_split(kinds))) if kinds else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    names = _split(symbols)
    if universe is not None:
        if universe == "all":
            if names:
                raise UsageError("give symbols or --universe all, not both")
            wanted: list[str] | None = None
        else:
            wanted = names + [s for s in _read_universe_file(Path(universe)) if s not in names]
    else:
        if not names:
            raise UsageError("no symbols: give SYMBOL... or --universe all|FILE (see capscope scan --help)")
        wanted = names
    if wanted is not None and len(set(wanted)) != len(wanted):
        raise UsageError(f"symbols listed more than once: {', '.join(wanted)}")
    parse_date(as_of, "--as-of")
    since_day: date | None = None
    if since is not None and since != "all":
        since_day = _parse_day(since, "--since")
    from capscope.cli.blocks import block_source
    from capscope.scale import run as scale_run

    def load_files() -> tuple[Panel, str]:
        from capscope.data.panel import Panel

        bars, where = load_bars(wanted, data=data, store=store, as_of=None)
        return Panel.from_bars(bars), where

    src, chosen = block_source(wanted, data=data, store=store, load=load_files)
    source = src.description
    firsts, lasts = src.extent()
    firsts = {s: firsts[s] for s in chosen if s in firsts}
    lasts = {s: lasts[s] for s in chosen if s in lasts}
    if not firsts:
        raise UsageError(f"no bars for the requested symbols ({source})")
    day = resolve_for_symbols(as_of, firsts, lasts, every=wanted is not None)
    report_day = day.used
    check_since(since_day, day)
    if since is None:
        since_day = report_day - timedelta(days=DEFAULT_SINCE_DAYS)
    universe_ = scale_run.universe(src, chosen, report_day)
    events, patterns = scale_run.scan(
        universe_,
        kinds=kind_list,
        since=since_day,
        patterns=fmt == "json",
        engine=engine,
        scheduler=scheduler,
        block_size=BATCH_SIZE,
        show_progress=fmt == "table",
    )
    if fmt == "csv":
        out = events.copy()
        for col in ("date", "first_touch", "last_touch", "breakout_date"):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
        typer.echo(out.to_csv(index=False), nl=False)
        return
    if fmt == "json":
        payload = {"as_of": report_day.isoformat(), "events": events_to_records(events), "patterns": patterns}
        typer.echo(json.dumps(payload, indent=1))
        return
    from capscope.events.records import sort_events

    newest = sort_events(events, newest_first=True)
    # only the rows the table shows become dicts: a market's events since a date are O(symbols)
    records = events_to_records(newest.head(limit) if limit > 0 else newest)
    from rich.markup import escape

    from capscope.cli.tables import plural

    n_sym = len(universe_.symbols)
    span = f"since {since_day}" if since_day else "all history"
    title = (
        f"capscope scan: {plural(len(newest), 'event')}, {plural(n_sym, 'symbol')}, {span}, "
        f"as of {report_day} ({escape(source)})"
    )
    _print_table(records, len(newest), title, wide)


scan.__doc__ = SCAN_HELP
