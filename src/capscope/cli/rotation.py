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
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return fmt


def check_as_of(panel: Panel, as_of: str | None) -> Any:
    """Validate ``--as-of`` against the panel's dates; returns a ``datetime64[D]`` or ``None``."""
    if as_of is None:
        return None
    from capscope.data.panel import to_datetime64

    day = to_datetime64(as_of)
    if panel.n_bars == 0 or day < panel.dates[0]:
        first = panel.dates[0] if panel.n_bars else "none"
        raise UsageError(f"--as-of {as_of} precedes the data (first date {first})")
    return day


# -- rendering ----------------------------------------------------------------------------------------------------
def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:+.2f}%"


def _stated(x: float | None) -> str:
    return "—" if x is None else f"{x:+.2f}%"


def _render_pair(rs: RelativeStrength, shown: int = 3) -> None:
    from rich.table import Table

    d = rs.to_dict()
    num, den = rs.numerator, rs.denominator
    title = (
        f"{rs.pair}  (ratio {d['ratio']:.6g} on {d['end_date']}; {num.symbol}: {num.basis}, {den.symbol}: {den.basis})"
        if d["ratio"] is not None
        else rs.pair
    )
    table = Table(title=title, title_justify="left")
    for col in ("period", "from", "to", num.symbol, den.symbol, "spread", "relative"):
        table.add_column(col, justify="left" if col in ("period", "from", "to") else "right")
    for r in d["returns"]:
        stated = r["stated"]  # rounded once, as every command and the brief state it
        table.add_row(
            r["label"],
            r["start_date"] or "—",
            r["end_date"] or "—",
            _stated(stated["numerator_pct"]),
            _stated(stated["denominator_pct"]),
            _stated(stated["spread_pp"]),
            _stated(stated["relative_pct"]),
        )
    console.print(table)
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


def _render_rrg(result: RRGResult) -> None:
    from rich.table import Table

    tails = result.tails()
    table = Table(
        title=f"Relative Rotation Graph vs {result.benchmark.symbol} (weekly, n={result.window}; "
        f"tail {result.tail} weeks)",
        title_justify="left",
    )
    for col in ("symbol", "week of", "RS-Ratio", "RS-Momentum", "quadrant", "tail (oldest -> newest)"):
        table.add_column(col, justify="right" if col.startswith("RS") else "left")
    for point in result.latest():
        path: list[str] = []
        for p in tails[point.symbol]:
            q = p.quadrant or "-"
            if not path or path[-1] != q:
                path.append(q)
        table.add_row(
            point.symbol,
            str(point.date),
            f"{point.rs_ratio:.2f}",
            f"{point.rs_momentum:.2f}",
            point.quadrant or "—",
            " -> ".join(path),
        )
    console.print(table)
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
    rrg_window: Annotated[int, typer.Option("--rrg-window", help="RRG rolling window in weeks.")] = 14,
    tail: Annotated[int, typer.Option("--tail", help="RRG tail length in weeks.")] = 8,
    since: Annotated[
        list[str] | None, typer.Option("--since", help="Also report returns since this date (repeatable).")
    ] = None,
    events: Annotated[
        int,
        typer.Option(
            "--events", help="Most recent RS-line turning points per pair in JSON (table: up to 3)."
        ),
    ] = 20,
    basis: Annotated[
        list[str] | None,
        typer.Option("--basis", help="Declare a close column: SYMBOL=raw|adjusted|price_index (repeatable)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    data: DataOption = None,
    store: StoreOption = None,
) -> None:
    """Small vs large caps and growth vs value: period returns, relative strength, leadership, RRG.

    Example: capscope rotation --as-of 2025-12-31 --pairs RUT:GSPC,IWO:IWN --since 2025-04-08
    """
    from capscope.analytics import rotation as rot
    from capscope.analytics.basis import parse_overrides

    check_format(fmt)
    pair_list = parse_pairs(pairs)
    rrg_list = list(rot.DEFAULT_RRG_SYMBOLS) if rrg_symbols is None else parse_symbols(rrg_symbols)
    bench = benchmark or rot.DEFAULT_RRG_BENCHMARK
    overrides = parse_overrides(basis)
    periods = rot.default_periods(since=since or [])
    wanted = list(dict.fromkeys([s for p in pair_list for s in p] + ([*rrg_list, bench] if rrg_list else [])))
    panel, source = load_panel(wanted, data=data, store=store)
    day = check_as_of(panel, as_of)
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
            "as_of": str(day if day is not None else panel.dates[-1]),
            "source": source,
            "pairs": [r.to_dict(last_events=events) for r in results],
            "rrg": graph.to_dict() if graph is not None else None,
            "warnings": list(
                dict.fromkeys([w for r in results for w in r.warnings] + (graph.warnings if graph else []))
            ),
        }
        typer.echo(json.dumps(out, indent=2))
        return
    console.print(
        f"[bold]Rotation as of {day if day is not None else panel.dates[-1]}[/] ({source})", highlight=False
    )
    for r in results:
        _render_pair(r, min(events, 3))
    if graph is not None:
        _render_rrg(graph)
