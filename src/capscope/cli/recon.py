"""``capscope recon``: the Russell reconstitution calendar and the membership simulator.

The numbers come from :mod:`capscope.analytics.reconstitution`; this module parses options and prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from capscope.cli.common import console
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
