"""``capscope recon``: the Russell reconstitution calendar and the membership simulator.

The numbers come from :mod:`capscope.analytics.reconstitution`; this module parses options and prints.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from capscope.cli.common import StoreOption, console, err_console
from capscope.errors import UsageError

app = typer.Typer(
    name="recon",
    help="Russell US reconstitution: the calendar (calendar) and a membership/passive-demand simulator (run).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

FORMATS = ("table", "json")

CalendarOption = Annotated[
    Path | None,
    typer.Option(
        "--calendar",
        help="Calendar file (TOML, JSON or YAML; layout in docs/reconstitution.md) whose dates override the "
        "packaged ones.",
    ),
]
FormatOption = Annotated[str, typer.Option("--format", help="table or json.")]


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return fmt


@app.command("calendar")
def calendar_command(
    years: Annotated[
        str | None,
        typer.Argument(
            help="A year (2026) or a range (2023..2027); default: the current year.", show_default=False
        ),
    ] = None,
    calendar_file: CalendarOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Rank day, preliminary list and effective dates of each reconstitution, each with its status and source.

    Status: published (a source gives the date), rule (computed from a published rule), inferred (computed from
    an assumed rule), user (from --calendar FILE).

    Example: capscope recon calendar 2023..2027
    """
    from capscope.analytics.reconstitution.schedule import RussellCalendar, parse_years

    _check_format(fmt)
    wanted = parse_years(years)
    cal = RussellCalendar.load(calendar_file)
    events = cal.years(wanted)
    if fmt == "json":
        typer.echo(
            json.dumps({"years": list(wanted), "reconstitutions": [r.to_dict() for r in events]}, indent=2)
        )
        return
    from rich.table import Table

    sources: dict[str, int] = {}
    title = f"Russell US reconstitutions {wanted[0]}" + (f"..{wanted[-1]}" if len(wanted) > 1 else "")
    table = Table(title=title, title_justify="left")
    for head in ("year", "recon", "date of", "date", "status", "source"):
        table.add_column(head, no_wrap=True)
    labels = {"rank_day": "rank day", "preliminary_list": "prelim. list", "effective": "effective*"}
    for r in events:
        for d in r.dates:
            n = sources.setdefault(d.source, len(sources) + 1)
            table.add_row(str(r.year), r.name, labels[d.field], d.date.isoformat(), d.status, f"[{n}]")
        if r is not events[-1]:
            table.add_section()
    console.print(table)
    console.print("* the new indexes apply after the close of the effective day", highlight=False)
    for text, n in sources.items():
        console.print(f"[{n}] {text}", highlight=False, markup=False)


def _rank_date_and_kind(
    rank_date: str | None, reconstitution: str | None, calendar_file: Path | None
) -> tuple[dt.date, str]:
    """Resolve ``--rank-date`` and ``--reconstitution`` against the calendar."""
    from capscope.analytics.reconstitution.schedule import RECONSTITUTIONS, RussellCalendar

    if reconstitution is not None and reconstitution not in RECONSTITUTIONS:
        raise UsageError(f"--reconstitution {reconstitution!r}: choose one of {', '.join(RECONSTITUTIONS)}")
    cal = RussellCalendar.load(calendar_file)
    if rank_date is None:
        today = dt.date.today()
        past = [r for r in cal.years(range(today.year - 1, today.year + 1)) if r.rank_day <= today]
        if reconstitution is not None:
            past = [r for r in past if r.name == reconstitution]
        if not past:
            raise UsageError(
                "no rank day has passed yet for that reconstitution; give --rank-date YYYY-MM-DD"
            )
        return past[-1].rank_day, past[-1].name
    try:
        day = dt.date.fromisoformat(rank_date)
    except ValueError:
        raise UsageError(
            f"--rank-date {rank_date!r}: not a date; write YYYY-MM-DD (e.g. 2026-04-30)"
        ) from None
    if reconstitution is None:
        events = [r for r in cal.year(day.year) if r.rank_day <= day]
        reconstitution = events[-1].name if events else "june"
    cal.get(day.year, reconstitution)  # December before 2026 is an error
    return day, reconstitution


def _money(x: float | None) -> str:
    if x is None:
        return "—"
    sign = "-" if x < 0 else ""
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(x) >= scale:
            return f"{sign}${abs(x) / scale:,.2f} {unit}"
    return f"{sign}${abs(x):,.0f}"


def _num(x: float | None, digits: int = 0) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


@app.command("run")
def run_command(
    universe: Annotated[
        Path,
        typer.Argument(
            help="Universe table (CSV or Parquet; columns in docs/reconstitution.md).", show_default=False
        ),
    ],
    rank_date: Annotated[
        str | None,
        typer.Option(
            "--rank-date",
            help="Rank day YYYY-MM-DD (default: the latest rank day that has passed).",
        ),
    ] = None,
    indexed_assets: Annotated[
        float | None,
        typer.Option(
            "--indexed-assets",
            help="USD passively indexed to the Russell 2000 (gives shares, value and days of volume).",
        ),
    ] = None,
    indexed_assets_r1000: Annotated[
        float,
        typer.Option("--indexed-assets-r1000", help="USD passively indexed to the Russell 1000."),
    ] = 0.0,
    reconstitution: Annotated[
        str | None,
        typer.Option(
            "--reconstitution",
            help="june or december (default: the one whose rank day is the latest on or before --rank-date).",
        ),
    ] = None,
    no_banding: Annotated[bool, typer.Option("--no-banding", help="Assign by rank alone.")] = False,
    adv_window: Annotated[
        int,
        typer.Option("--adv-window", help="Bars before the rank day averaged when a row has no adv (store)."),
    ] = 20,
    rows: Annotated[int, typer.Option("--rows", help="Rows per list (table format).")] = 10,
    calendar_file: CalendarOption = None,
    store: StoreOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Simulate a reconstitution from a universe table: eligibility, ranks, breakpoints with banding, adds,
    deletes, R1000/R2000 migrations, growth/value moves, weights and the passive trade (largest first).

    Example: capscope recon run universe.csv --rank-date 2026-04-30 --indexed-assets 2e11
    """
    from capscope.analytics.reconstitution.simulate import IndexedAssets, ReconParams, adv_from_bars, simulate
    from capscope.data.universe import read_universe

    _check_format(fmt)
    if rows < 1:
        raise UsageError(f"--rows {rows}: must be >= 1")
    for name, value in (
        ("--indexed-assets", indexed_assets),
        ("--indexed-assets-r1000", indexed_assets_r1000),
    ):
        if value is not None and not (value >= 0 and value != float("inf")):
            raise UsageError(f"{name} {value}: give a non-negative amount in USD (e.g. 2e11)")
    day, kind = _rank_date_and_kind(rank_date, reconstitution, calendar_file)
    table = read_universe(universe)
    adv: dict[str, float] = {}
    no_adv = table.filter(table["adv"].is_null())["symbol"].to_list()
    adv_note = ""
    if no_adv:
        from capscope.data.sources import resolve_store_path

        path = resolve_store_path(store)
        if path.is_file():
            from capscope.store import Store

            start = day - dt.timedelta(days=3 * adv_window + 30)
            with Store(path) as s:
                stored = {row[0] for row in s.symbol_rows()}
                known = [sym for sym in no_adv if sym in stored]
                if known:
                    adv = adv_from_bars(s.bars(known, start=start, end=day), day, adv_window)
        missing = [s for s in no_adv if s not in adv]
        if missing:
            adv_note = (
                f"{len(missing)} securities have no adv in the table and no volume before {day} in the store "
                f"{path} (e.g. {', '.join(missing[:3])}): their days of volume are not computed"
            )
    assets = None
    if indexed_assets is not None or indexed_assets_r1000:
        assets = IndexedAssets(r1000=indexed_assets_r1000, r2000=indexed_assets or 0.0)
    result = simulate(
        table, day, params=ReconParams(reconstitution=kind, banding=not no_banding), assets=assets, adv=adv
    )
    if adv_note:
        err_console.print(f"[yellow]warning:[/] {adv_note}", highlight=False)
    if fmt == "json":
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    _print_run(result, rows=rows, assets=assets)


def _print_run(result: Any, *, rows: int, assets: Any) -> None:
    from rich.table import Table

    b = result.breakpoints
    c = b["counts"]
    bp = b["r1000_r2000"]
    console.print(
        f"[bold]Russell {b['reconstitution']} reconstitution simulated, rank day {result.rank_date}[/]",
        highlight=False,
    )
    band = (
        f"band {bp['band_low_pct']:.2f}-{bp['band_high_pct']:.2f} % cum. cap"
        if bp["banding"] and bp["cum_pct"] is not None
        else "no banding"
    )
    console.print(
        f"R1000/R2000 breakpoint {_money(bp['total_cap'])} (rank {bp['rank']}, {_num(bp['cum_pct'], 2)} % of "
        f"R3000E cap; {band}); smallest R3000 {_money(b['smallest_r3000_cap'])}; R3000 total "
        f"{_money(b['r3000_total_cap'])}",
        highlight=False,
    )
    console.print(
        f"Eligible {c['eligible']:,} of {c['securities']:,}; R1000 {c['R1000']:,} ({c['R1000_without_banding']:,} "
        f"by rank alone), R2000 {c['R2000']:,} ({c['R2000_without_banding']:,}); before: R1000 "
        f"{c['R1000_before']:,}, R2000 {c['R2000_before']:,}",
        highlight=False,
    )
    mig = result.migrations()
    lists = [
        ("Adds", result.adds(), ("symbol", "index", "rank", "total_cap")),
        ("Deletes", result.deletes(), ("symbol", "from", "total_cap", "reason")),
        ("Migrations (with banding)", mig["with_banding"], ("symbol", "from", "to", "rank", "cum_pct")),
        ("Held by the band", mig["held_by_band"], ("symbol", "index", "rank", "cum_pct", "without_band")),
        (
            "Style moves (value probability)",
            result.style_moves(),
            ("symbol", "index", "from_value_probability", "to_value_probability", "reason"),
        ),
    ]
    heads = {"from_value_probability": "from", "to_value_probability": "to", "cum_pct": "cum %"}
    for title, items, cols in lists:
        if not items:
            console.print(f"{title}: none", highlight=False)
            continue
        t = Table(
            title=f"{title}: {len(items):,}" + (f" (first {rows})" if len(items) > rows else ""),
            title_justify="left",
        )
        for col in cols:
            t.add_column(
                heads.get(col, col),
                justify="left" if col in ("symbol", "reason", "index", "from", "to") else "right",
            )
        for it in items[:rows]:
            t.add_row(*[_cell(col, it[col]) for col in cols])
        console.print(t)
    demand = result.demand()
    if assets is None:
        console.print(
            "Passive trade: pass --indexed-assets USD for shares and days of volume.", highlight=False
        )
        return
    t = Table(
        title=f"Passive trade, largest first: {len(demand):,} securities"
        + (f" (first {rows})" if len(demand) > rows else ""),
        title_justify="left",
    )
    for col in ("symbol", "move", "shares", "value", "days of adv"):
        t.add_column(col, justify="left" if col in ("symbol", "move") else "right")
    for d in demand[:rows]:
        move = f"{d['index_before'] or '—'}→{d['index_after'] or '—'}"
        t.add_row(d["symbol"], move, _num(d["shares"]), _money(d["value"]), _num(d["days_of_adv"], 1))
    console.print(t)


def _cell(col: str, value: Any) -> str:
    if value is None:
        return "—"
    if col == "total_cap":
        return _money(value)
    if col == "cum_pct":
        return f"{value:.2f}"
    if col.endswith("probability"):
        return f"{value:.3f}"
    if col == "rank":
        return f"{value:,}"
    return str(value)
