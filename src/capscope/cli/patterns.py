"""``capscope patterns``: chart patterns with their geometry, status and measured targets.

The command loads data and prints; the patterns come from :func:`capscope.patterns.api.find_patterns`. Data
comes from the store when it exists and holds every requested symbol, otherwise from the bar files of the data
directory (any ``SYMBOL.csv`` under it).
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from capscope.cli.blocks import EngineOption, SchedulerOption
from capscope.cli.common import AsOfOption, DataOption, StoreOption, console
from capscope.cli.tables import WideOption
from capscope.errors import UsageError

if TYPE_CHECKING:
    from capscope.patterns.records import PatternRecord

FORMATS = ("table", "json")


#: Table rows shown by default (a market-wide listing can hold hundreds of thousands of records).
TABLE_LIMIT = 200


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    out = [v.strip() for item in values for v in item.split(",") if v.strip()]
    return out or None


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:,.2f}"


def _key_point(rec: PatternRecord) -> str:
    for role in ("head", "second_bottom", "second_top", "third_bottom", "third_top"):
        try:
            p = rec.point(role)
        except KeyError:
            continue
        return f"{role} {p.date} {_fmt(p.price)}"
    p = rec.points[-1]
    return f"{p.role} {p.date} {_fmt(p.price)}"


def _row(r: PatternRecord) -> tuple[str, list[str]]:
    """A record as its symbol and table cells (made inside each block: far lighter than the record)."""
    from rich.markup import escape

    neck = f"{_fmt(r.neckline.price0)} -> {_fmt(r.neckline.price1)}" if r.neckline is not None else ""
    brk = f"{r.breakout.date} {_fmt(r.breakout.price)}" if r.breakout is not None else ""
    return r.symbol, [
        escape(r.symbol),
        r.kind,
        r.status,
        str(r.date),
        _key_point(r),
        neck,
        brk,
        _fmt(r.target),
        _fmt(r.invalidation),
        f"{r.quality:.2f}",
        "" if r.scale is None else f"{r.scale:g}",
    ]


def _as_dict(r: PatternRecord) -> dict[str, Any]:
    """A record as its JSON dict (made inside each block)."""
    return r.to_dict()


def _table(rows: list[list[str]], title: str, wide: bool = False) -> None:
    from capscope.cli.tables import Col, render_table

    cols = [
        Col("symbol", "label"),
        Col("kind", "text"),
        Col("status", "label"),
        Col("date", "date"),
        Col("key point", "text", priority=3),
        Col("neckline", "number", priority=2),
        Col("breakout", "text", priority=3),
        Col("target", "number", priority=1),
        Col("invalid.", "number", priority=2),
        Col("quality", "number", priority=1),
        Col("scale", "number", priority=4),
    ]
    if not rows:
        console.print(f"{title}\n(no patterns)", highlight=False)
        return
    render_table(cols, rows, title=title, wide=wide)


def patterns(
    symbols: Annotated[list[str], typer.Argument(help="Symbols, e.g. RUT IWM.", show_default=False)],
    as_of: AsOfOption = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="Only these statuses (forming, confirmed, failed, target_reached); repeat or comma-separate.",
        ),
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="chartist (multi-scale pivots) or lmw (Lo-Mamaysky-Wang).")
    ] = "chartist",
    kinds: Annotated[
        list[str] | None,
        typer.Option("--kinds", help="Only these kinds, e.g. inverse_head_and_shoulders,double_bottom."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only records whose status date is on or after this date (default: 365 days before the as-of date).",
        ),
    ] = None,
    all_dates: Annotated[
        bool, typer.Option("--all", help="Every record since the first bar (overrides --since).")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help=f"Table rows (default {TABLE_LIMIT}; 0 = all).")
    ] = TABLE_LIMIT,
    min_quality: Annotated[
        float,
        typer.Option(
            "--min-quality", min=0.0, max=1.0, help="Only records with at least this quality (0-1)."
        ),
    ] = 0.0,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    data: DataOption = None,
    store: StoreOption = None,
    wide: WideOption = False,
    engine: EngineOption = "local",
    scheduler: SchedulerOption = None,
) -> None:
    """Chart patterns (head-and-shoulders family, double/triple tops and bottoms, triangles, rectangles,
    broadening) with points, neckline, breakout, measured target, invalidation and status as of a date.

    Example: capscope patterns RUT --as-of 2025-07-31 --kinds inverse_head_and_shoulders
    """
    import numpy as np

    from capscope.cli.choices import check_choice, check_choices
    from capscope.cli.dates import check_since, parse_date, resolve_for_symbols
    from capscope.data.panel import to_datetime64
    from capscope.patterns.api import ALL_KINDS
    from capscope.patterns.records import ALL_STATUSES

    check_choice("--format", fmt, FORMATS)
    check_choice("--mode", mode, ("chartist", "lmw"))
    statuses = _split(status)
    if statuses:
        check_choices("--status", statuses, ALL_STATUSES)
    kind_list = _split(kinds)
    if kind_list:
        check_choices("--kinds", kind_list, ALL_KINDS)
    syms = _split(symbols)
    if not syms:
        raise UsageError("give at least one symbol, e.g. capscope patterns RUT")
    parse_date(as_of, "--as-of")
    since_day = parse_date(since, "--since")
    from capscope.cli.blocks import block_source
    from capscope.cli.loading import load_panel
    from capscope.scale import run as scale_run

    src, chosen = block_source(
        syms, data=data, store=store, load=lambda: load_panel(syms, data=data, store=store)
    )
    source = src.description
    firsts, lasts = src.extent()
    firsts = {s: firsts[s] for s in chosen if s in firsts}
    lasts = {s: lasts[s] for s in chosen if s in lasts}
    day = resolve_for_symbols(as_of, firsts, lasts)
    if not all_dates:
        check_since(since_day, day)
    as_of = day.label
    end = to_datetime64(as_of)
    start = None
    if not all_dates:
        start = since_day if since_day is not None else (end - np.timedelta64(365, "D")).astype(date)
    # the table keeps only its first `limit` rows (by symbol) while blocks arrive, and counts the rest
    shown: list[tuple[str, list[str]]] = []
    total = 0

    def keep(rows: list[tuple[str, list[str]]]) -> None:
        nonlocal shown, total
        total += len(rows)
        shown += rows
        if limit > 0:  # with --limit 0 every row is kept and sorted once, below
            shown = sorted(shown, key=lambda row: row[0])[:limit]

    records = scale_run.patterns(
        scale_run.universe(src, chosen),
        as_of=as_of,
        kinds=kind_list,
        mode=mode,
        min_quality=min_quality,
        since=start,
        statuses=statuses or None,
        convert=_as_dict if fmt == "json" else _row,
        on_result=None if fmt == "json" else keep,
        engine=engine,
        scheduler=scheduler,
        show_progress=True,
    )
    if fmt == "json":
        payload = {
            "as_of": str(end),
            "mode": mode,
            "source": source,
            "patterns": records,
        }
        typer.echo(json.dumps(payload, indent=2, allow_nan=False))
        return
    from rich.markup import escape

    from capscope.cli.tables import plural

    title = f"{plural(total, mode + ' pattern')} as of {end} ({escape(source)})"
    shown = sorted(shown, key=lambda row: row[0])  # stable: a symbol's rows stay in status-date order
    _table([cells for _, cells in shown], title, wide)
    if len(shown) < total:
        console.print(
            f"... {plural(total - len(shown), 'more pattern')} not shown (use --limit 0 or --format json)",
            highlight=False,
        )
