"""``capscope rotation``: small vs large caps, growth vs value — period returns, RS lines, leadership, RRG.

The command only loads data and prints; the numbers come from :mod:`capscope.analytics.rotation`.
Data comes from the store when it exists and holds every requested symbol, otherwise from the bar files of the
data directory (any ``SYMBOL.csv`` under it, e.g. ``prices/RUT.csv`` or ``prices/alt/IWM__deep-raj17.csv``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from capscope.cli.common import AsOfOption, DataOption, StoreOption, console
from capscope.cli.loading import load_panel
from capscope.cli.tables import WideOption
from capscope.errors import UsageError

if TYPE_CHECKING:
    from capscope.analytics.rotation import RelativeStrength, RRGResult
    from capscope.data.panel import Panel

FORMATS = ("table", "json")


def parse_pairs(spec: str | None) -> list[tuple[str, str]]:
    """``"RUT:GSPC,IWO:IWN"`` -> ``[("RUT", "GSPC"), ("IWO", "IWN")]`` (default pairs when ``None``)."""
    from capscope.analytics.rotation import DEFAULT_PAIRS

    if spec is None:
        return list(DEFAULT_PAIRS)
    pairs = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        num, sep, den = item.partition(":")
        if not sep or not num.strip() or not den.strip() or ":" in den:
            raise UsageError(f"--pairs item {item!r}: expected NUMERATOR:DENOMINATOR, e.g. RUT:GSPC")
        pairs.append((num.strip(), den.strip()))
    if not pairs:
        raise UsageError("--pairs is empty; e.g. --pairs RUT:GSPC,IWO:IWN")
    return pairs


def parse_symbols(spec: str | None) -> list[str]:
    """Comma-separated symbols (empty list for ``None`` or ``""``)."""
    return [s.strip() for s in (spec or "").split(",") if s.strip()]


def check_format(fmt: str) -> str:
    """Validate ``--format``."""
    from capscope.cli.choices import check_choice

    return check_choice("--format", fmt, FORMATS)


def check_as_of(panel: Panel, as_of: str | None, *, every: bool = True) -> Any:
    """Resolve ``--as-of`` against the panel (:func:`capscope.cli.dates.resolve_for_symbols`: a date after the
    last bar becomes the last bar, with one warning); returns the date used as ``datetime64[D]``.

    ``every``: the date may not precede any symbol's first bar (named symbols); ``False``: only the earliest
    (a universe).
    """
    from capscope.cli.dates import panel_extent, resolve_for_symbols
    from capscope.data.panel import to_datetime64

    firsts, lasts = panel_extent(panel)
    return to_datetime64(resolve_for_symbols(as_of, firsts, lasts, every=every).used)


# -- rendering ----------------------------------------------------------------------------------------------------
def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:+.2f}%"


def _stated(x: float | None) -> str:
    return "—" if x is None else f"{x:+.2f}%"


def _render_pair(rs: RelativeStrength, shown: int = 3, wide: bool = False) -> None:
    from rich.markup import escape

    from capscope.cli.tables import Col, render_table

    d = rs.to_dict()
    num, den = rs.numerator, rs.denominator
    title = (
        f"{rs.pair}  (ratio {d['ratio']:.6g} on {d['end_date']}; {num.symbol}: {num.basis}, {den.symbol}: {den.basis})"
        if d["ratio"] is not None
        else rs.pair
    )
    cols = [
        Col("period", "label"),
        Col("from", "date", priority=2),
        Col("to", "date", priority=1),
        Col(num.symbol, "number"),
        Col(den.symbol, "number"),
        Col("spread", "number", priority=3),
        Col("relative", "number"),
    ]
    rows = [
        [
            escape(r["label"]),
            r["start_date"] or "—",
            r["end_date"] or "—",
            _pct(r["numerator"]),
            _pct(r["denominator"]),
            _pct(r["spread"]),
            _pct(r["relative"]),
        ]
        for r in d["returns"]
    ]
    render_table(cols, rows, title=escape(title), wide=wide)
    lead = "; ".join(
        f"{x['window']}d: {num.symbol if x['leader'] == 'numerator' else den.symbol if x['leader'] == 'denominator' else '—'}"
        f" {_pct(x['relative_return'])} ({x['streak_bars']} bar{'' if x['streak_bars'] == 1 else 's'} since {x['since']})"
        for x in d["leadership"]
    )
    console.print(f"  leadership: {lead}", highlight=False)
    fast, slow = d["sma_fast"], d["sma_slow"]
    if d["ratio"] is not None:
        pos = []
        for ma in (fast, slow):
            if ma["value"] is not None:
                pos.append(f"{'above' if d['ratio'] > ma['value'] else 'below'} its {ma['window']}-day SMA")
        if pos:
            console.print(f"  RS line is {' and '.join(pos)}", highlight=False)
    for ev in d["turning_points"][max(0, len(d["turning_points"]) - shown) :] if shown > 0 else []:
        extra = f" {ev.get('window')}-day SMA" if ev.get("window") else ""
        if ev.get("level") is not None:
            extra = f" ({ev.get('level_kind')} {ev['level']:.6g})"
        console.print(f"  turning point {ev['date']}: {ev['kind']}{extra}", highlight=False)
    for w in d["warnings"]:
        console.print(f"  [yellow]warning:[/] {w}", highlight=False)


def _render_rrg(result: RRGResult, wide: bool = False) -> None:
    from rich.markup import escape

    from capscope.cli.tables import Col, plural, render_table

    tails = result.tails()
    cols = [
        Col("symbol", "label"),
        Col("week of", "date", priority=1),
        Col("RS-Ratio", "number"),
        Col("RS-Momentum", "number"),
        Col("quadrant", "label"),
        Col("tail (oldest -> newest)", "text", priority=2),
    ]
    rows = []
    for point in result.latest():
        path: list[str] = []
        for p in tails[point.symbol]:
            q = p.quadrant or "-"
            if not path or path[-1] != q:
                path.append(q)
        rows.append(
            [
                escape(point.symbol),
                str(point.date),
                f"{point.rs_ratio:.2f}",
                f"{point.rs_momentum:.2f}",
                point.quadrant or "—",
                " -> ".join(path),
            ]
        )
    title = (
        f"Relative Rotation Graph vs {escape(result.benchmark.symbol)} (weekly, n={result.window}; "
        f"tail {plural(result.tail, 'week')})"
    )
    render_table(cols, rows, title=title, wide=wide)
    for w in result.warnings:
        console.print(f"  [yellow]warning:[/] {w}", highlight=False)


# -- command ------------------------------------------------------------------------------------------------------
def rotation(
    as_of: AsOfOption = None,
    pairs: Annotated[
        str | None,
        typer.Option(
            "--pairs",
            help="Comma-separated NUM:DEN pairs (default RUT:GSPC,IWM:SPY,IWO:IWN,IWF:IWD,RUT:NDX).",
        ),
    ] = None,
    rrg_symbols: Annotated[
        str | None,
        typer.Option("--rrg", help="Comma-separated RRG symbols (default IWO,IWN,IWF,IWD,VTWO); '' to skip."),
    ] = None,
    benchmark: Annotated[str | None, typer.Option("--benchmark", help="RRG benchmark (default IWB).")] = None,
    rrg_window: Annotated[int, typer.Option("--rrg-window", min=2, help="RRG rolling window in weeks.")] = 14,
    tail: Annotated[int, typer.Option("--tail", min=1, help="RRG tail length in weeks.")] = 8,
    since: Annotated[
        list[str] | None, typer.Option("--since", help="Also report returns since this date (repeatable).")
    ] = None,
    events: Annotated[
        int,
        typer.Option(
            "--events", min=0, help="Most recent RS-line turning points per pair in JSON (table: up to 3)."
        ),
    ] = 20,
    basis: Annotated[
        list[str] | None,
        typer.Option("--basis", help="Declare a close column: SYMBOL=raw|adjusted|price_index (repeatable)."),
    ] = None,
    extend: Annotated[
        bool,
        typer.Option(
            "--extend",
            help="Extend each symbol past its last bar by an agreeing source of the same price basis "
            "(SYMBOL__source files; see capscope sources).",
        ),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    data: DataOption = None,
    store: StoreOption = None,
    wide: WideOption = False,
) -> None:
    """Small vs large caps and growth vs value: period returns, relative strength, leadership, RRG.

    Example: capscope rotation --as-of 2025-12-31 --pairs RUT:GSPC,IWO:IWN --since 2025-04-08
    """
    from rich.markup import escape

    from capscope.analytics import rotation as rot
    from capscope.analytics.basis import parse_overrides
    from capscope.cli.dates import check_since, parse_date, to_day

    check_format(fmt)
    parse_date(as_of, "--as-of")
    since_days = [parse_date(s, "--since") for s in since or []]
    pair_list = parse_pairs(pairs)
    rrg_list = list(rot.DEFAULT_RRG_SYMBOLS) if rrg_symbols is None else parse_symbols(rrg_symbols)
    bench = benchmark or rot.DEFAULT_RRG_BENCHMARK
    overrides = parse_overrides(basis)
    periods = rot.default_periods(since=since or [])
    wanted = list(dict.fromkeys([s for p in pair_list for s in p] + ([*rrg_list, bench] if rrg_list else [])))
    extended: dict[str, Any] = {}
    if extend:
        from capscope.cli.loading import load_panel_extended

        panel, source, extended = load_panel_extended(wanted, data=data, store=store, overrides=overrides)
    else:
        panel, source = load_panel(wanted, data=data, store=store)
    source_notes = [w for e in extended.values() for w in e.warnings]
    day = check_as_of(panel, as_of)
    for since_day in since_days:
        check_since(since_day, to_day(day))
    results = [
        rot.relative_strength(panel, num, den, day, periods=periods, overrides=overrides)
        for num, den in pair_list
    ]
    graph = (
        rot.rrg(panel, rrg_list, bench, day, window=rrg_window, tail=tail, overrides=overrides)
        if rrg_list
        else None
    )
    if fmt == "json":
        out = {
            "as_of": str(day),
            "source": source,
            "pairs": [r.to_dict(last_events=events) for r in results],
            "rrg": graph.to_dict() if graph is not None else None,
            "warnings": list(
                dict.fromkeys(
                    [w for r in results for w in r.warnings]
                    + (graph.warnings if graph else [])
                    + source_notes
                )
            ),
        }
        if extend:
            out["sources"] = {sym: e.to_dict() for sym, e in extended.items()}
        typer.echo(json.dumps(out, indent=2))
        return
    console.print(f"[bold]Rotation as of {day}[/] ({escape(source)})", highlight=False)
    for sym, e in extended.items():
        for seg in e.segments[1:]:
            console.print(
                f"  {escape(sym)}: {seg['first']} to {seg['last']} from source {escape(seg['source'])} "
                f"(spliced after {seg['spliced_after']}, same price basis, agreeing on the overlap)",
                highlight=False,
            )
    for w in source_notes:
        console.print(f"  [yellow]warning:[/] {escape(w)}", highlight=False)
    for r in results:
        _render_pair(r, min(events, 3), wide)
    if graph is not None:
        _render_rrg(graph, wide)
