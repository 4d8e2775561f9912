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
from capscope.cli.tables import WideOption
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
    from capscope.cli.choices import check_choice

    return check_choice("--format", fmt, FORMATS)


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
    from capscope.cli.tables import Col, render_table

    sources: dict[str, int] = {}
    title = f"Russell US reconstitutions {wanted[0]}" + (f"..{wanted[-1]}" if len(wanted) > 1 else "")
    labels = {"rank_day": "rank day", "preliminary_list": "prelim.", "effective": "effective*"}
    cells = []
    for r in events:
        for d in r.dates:
            n = sources.setdefault(d.source, len(sources) + 1)
            recon = f"{'June' if r.name == 'june' else 'Dec.'} {r.year}"
            cells.append([recon, labels[d.field], d.date.isoformat(), d.status, f"\\[{n}]"])
    cols = [
        Col("recon", "label"),
        Col("date of", "label"),
        Col("date", "date"),
        Col("status", "label"),
        Col("src", "label"),
    ]
    render_table(cols, cells, title=title)
    console.print(
        "* the new indexes apply after the close of the effective day; prelim. = preliminary lists",
        highlight=False,
    )
    for text, n in sources.items():
        console.print(f"[{n}] {text}", highlight=False, markup=False)


def _rank_date_and_kind(
    rank_date: str | None, reconstitution: str | None, calendar_file: Path | None
) -> tuple[dt.date, str]:
    """Resolve ``--rank-date`` and ``--reconstitution`` against the calendar."""
    from capscope.analytics.reconstitution.schedule import RECONSTITUTIONS, RussellCalendar
    from capscope.cli.choices import check_choice
    from capscope.cli.dates import parse_date

    if reconstitution is not None:
        check_choice("--reconstitution", reconstitution, RECONSTITUTIONS)
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
    day = parse_date(rank_date, "--rank-date")
    assert day is not None
    if reconstitution is None:
        events = [r for r in cal.year(day.year) if r.rank_day <= day]
        reconstitution = events[-1].name if events else "june"
    cal.get(day.year, reconstitution)  # December before 2026 is an error
    return day, reconstitution


def _adv_store(store: Path | None) -> Path | None:
    """The store to take volume from: a named one (``--store``, ``$CAPSCOPE_STORE``) must exist; else the default
    store when there is one, else none."""
    import os

    from capscope.data.sources import STORE_ENV, resolve_store_path
    from capscope.store.health import check_path

    if store is not None or os.environ.get(STORE_ENV):
        path = resolve_store_path(store)
        check_path(path, read_only=True)
        return path
    default = resolve_store_path(None)
    return default if default.is_file() else None


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
    wide: WideOption = False,
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
    if adv_window < 1:
        raise UsageError(f"--adv-window {adv_window}: must be >= 1 (bars averaged for volume)")
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
        path = _adv_store(store)
        if path is not None:
            from capscope.store import Store

            start = day - dt.timedelta(days=3 * adv_window + 30)
            with Store(path, read_only=True) as s:
                stored = {row[0] for row in s.symbol_rows()}
                known = [sym for sym in no_adv if sym in stored]
                if known:
                    adv = adv_from_bars(s.bars(known, start=start, end=day), day, adv_window)
        missing = [sym for sym in no_adv if sym not in adv]
        if missing:
            where = f"the store {path}" if path is not None else "no store (give --store FILE)"
            adv_note = (
                f"{len(missing)} securities have no adv in the table and no volume before {day} in {where} "
                f"(e.g. {', '.join(missing[:3])}): their days of volume are not computed"
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
    _print_run(result, rows=rows, assets=assets, wide=wide)


def _print_run(result: Any, *, rows: int, assets: Any, wide: bool) -> None:
    from rich.markup import escape

    from capscope.cli.tables import Col, fmt_int, render_table

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
    sym, idx = Col("symbol", "label"), Col("index", "label")
    lists: list[tuple[str, list[dict[str, Any]], list[tuple[Col, str]]]] = [
        (
            "Adds",
            result.adds(),
            [
                (sym, "symbol"),
                (idx, "index"),
                (Col("rank", "number"), "rank"),
                (Col("total cap", "number"), "total_cap"),
            ],
        ),
        (
            "Deletes",
            result.deletes(),
            [
                (sym, "symbol"),
                (Col("from", "label"), "from"),
                (Col("total cap", "number"), "total_cap"),
                (Col("reason", "text", 1), "reason"),
            ],
        ),
        (
            "Migrations (with banding)",
            mig["with_banding"],
            [
                (sym, "symbol"),
                (Col("from", "label"), "from"),
                (Col("to", "label"), "to"),
                (Col("rank", "number"), "rank"),
                (Col("cum %", "number", 1), "cum_pct"),
            ],
        ),
        (
            "Held by the band",
            mig["held_by_band"],
            [
                (sym, "symbol"),
                (idx, "index"),
                (Col("rank", "number"), "rank"),
                (Col("cum %", "number", 1), "cum_pct"),
                (Col("by rank", "label", 1), "without_band"),
            ],
        ),
        (
            "Style moves (value probability)",
            result.style_moves(),
            [
                (sym, "symbol"),
                (idx, "index"),
                (Col("from", "number"), "from_value_probability"),
                (Col("to", "number"), "to_value_probability"),
                (Col("reason", "text", 1), "reason"),
            ],
        ),
    ]
    for title, items, cols in lists:
        if not items:
            console.print(f"{title}: none", highlight=False)
            continue
        head = f"{title}: {len(items):,}" + (f" (first {rows})" if len(items) > rows else "")
        cells = [[escape(_cell(key, it[key])) for _, key in cols] for it in items[:rows]]
        render_table([col for col, _ in cols], cells, title=head, wide=wide)
    demand = result.demand()
    if assets is None:
        console.print(
            "Passive trade: pass --indexed-assets USD for shares and days of volume.", highlight=False
        )
        return
    head = f"Passive trade, largest first: {len(demand):,} securities" + (
        f" (first {rows})" if len(demand) > rows else ""
    )
    cells = [
        [
            escape(d["symbol"]),
            f"{d['index_before'] or '—'}→{d['index_after'] or '—'}",
            fmt_int(d["shares"]),
            _money(d["value"]),
            _num(d["days_of_adv"], 1),
        ]
        for d in demand[:rows]
    ]
    render_table(
        [
            Col("symbol", "label"),
            Col("move", "label"),
            Col("shares", "number"),
            Col("value", "number"),
            Col("days of adv", "number", 1),
        ],
        cells,
        title=head,
        wide=wide,
    )


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
