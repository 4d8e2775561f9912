"""``capscope download``: daily bars of any symbols into a data directory (logic in :mod:`capscope.data.download`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from capscope.cli.common import console, err_console
from capscope.errors import DownloadError, UsageError


def download(
    symbols: Annotated[list[str] | None, typer.Argument(help="Symbols (e.g. IWM AAPL ^RUT).")] = None,
    universe: Annotated[
        Path | None, typer.Option("--universe", help="File with one symbol per line ('#' starts a comment).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="First date for symbols without a file, YYYY-MM-DD (default 1985-01-01)."
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="Data directory to write into (default: the user cache's capscope/data)."
        ),
    ] = None,
    delay: Annotated[
        float, typer.Option("--delay", help="Seconds between requests (politeness; default 0.5).", min=0.0)
    ] = 0.5,
    attempts: Annotated[int, typer.Option("--attempts", help="Attempts per request (default 5).", min=1)] = 5,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds per request (default 30).", min=0.1)
    ] = 30.0,
) -> None:
    """Download daily bars of any symbols into the data directory, resumably.

    Files go to DIR/prices/SYMBOL.csv (indices and the default ETFs) or DIR/stocks/SYMBOL.csv in the sample layout. A symbol whose file exists gets only the bars after its last row. Transient failures (timeouts, dropped connections, HTTP 429 with Retry-After, 5xx) are retried with backoff; a symbol that still fails is reported and the others continue (exit code 5 when any failed).

    Yahoo's terms restrict redistribution: keep downloaded files for your own analysis.

    Example: capscope download IWM SPY AAPL --since 2020-01-01 --data ~/bars
    """
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from capscope.cli.dates import parse_date
    from capscope.cli.scan import _read_universe_file
    from capscope.cli.tables import MISSING, Col, fmt_int, render_table
    from capscope.data import download as dl
    from capscope.data.fetch import RetryingFetch
    from capscope.data.sources import user_cache_dir

    names = [s.strip() for item in symbols or [] for s in item.split(",") if s.strip()]
    if universe is not None:
        if names:
            raise UsageError("give SYMBOL... or --universe FILE, not both")
        if not universe.is_file():
            raise UsageError(f"--universe {universe}: no such file (give a file with one symbol per line)")
        names = _read_universe_file(universe)
    if not names:
        raise UsageError("no symbols: give SYMBOL... or --universe FILE (see capscope download --help)")
    dupes = sorted({s for s in names if names.count(s) > 1})
    if dupes:
        raise UsageError(f"symbols listed more than once: {', '.join(dupes)}")
    start = parse_date(since, "--since") or dl.DEFAULT_START
    if start >= date.today():
        raise UsageError(f"--since {since}: the date is not in the past; give an earlier first date")
    target = (data or user_cache_dir() / "data").expanduser()
    if target.exists() and not target.is_dir():
        raise UsageError(f"--data {target}: not a directory")
    fetch = RetryingFetch(attempts=attempts, min_interval=delay)
    columns = (
        TextColumn("download"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[name]}"),
    )
    results = []
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("download", total=len(names), name=names[0])
        for i, name in enumerate(names):
            progress.update(task, name=name)
            results.append(dl.download_to_file(name, target, since=start, fetch=fetch, timeout=timeout))
            progress.update(task, completed=i + 1)
    cols = [Col("symbol"), Col("status"), Col("rows added", "number"), Col("last bar", "date")]
    rows = [
        [
            escape(r.symbol),
            "[red]failed[/]" if r.status == "failed" else r.status,
            fmt_int(r.rows_added),
            str(r.last_date) if r.last_date else MISSING,
        ]
        for r in results
    ]
    render_table(cols, rows, title=f"download into {escape(str(target))}")
    failed = [r for r in results if r.status == "failed"]
    for r in failed:
        err_console.print(f"[red]failed:[/] {escape(r.symbol)}: {escape(str(r.error))}", highlight=False)
    counts = {
        s: sum(1 for r in results if r.status == s) for s in ("new", "appended", "up to date", "failed")
    }
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if failed:
        raise DownloadError(
            f"{len(failed)} of {len(results)} symbols failed ({', '.join(r.symbol for r in failed)}); {summary}; "
            "rerun the same command to retry them (finished files are kept)"
        )
    console.print(f"{summary}; {sum(r.rows_added for r in results):,} rows added", highlight=False)
