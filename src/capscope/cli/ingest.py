"""``capscope ingest``: load bar files into the DuckDB store in one transaction."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capscope.cli.common import DataOption, StoreOption, console, err_console

if TYPE_CHECKING:
    from capscope.store import IngestReport


def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Bar files or folders (default: the data directory).", show_default=False),
    ] = None,
    data: DataOption = None,
    store: StoreOption = None,
    repair: Annotated[
        bool,
        typer.Option("--repair", help="Sort rows and drop exact duplicate rows, logging every repair."),
    ] = False,
) -> None:
    """Ingest bar files (CSV or Parquet) into the store, all or nothing.

    The whole run is one transaction. A bad file (exit code 3; the message names file, line and column) or a conflict with stored bars (exit code 4) leaves the store as it was.

    Files ingested before are skipped; a file with new dates appends only those.

    Example: capscope ingest ../shared/data/prices --store /tmp/bars.duckdb
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from capscope.data.sources import resolve_data_dir
    from capscope.store import Store

    if not paths:
        paths = [resolve_data_dir(data).path]
    columns = (
        TextColumn("ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[name]}"),
    )
    with Store(store) as st:
        with Progress(*columns, console=err_console, transient=True) as progress:
            task = progress.add_task("ingest", total=None, name="")

            def tick(done: int, total: int, path: Path) -> None:
                progress.update(task, completed=done, total=total, name=path.name)

            report = st.ingest(paths, repair=repair, progress=tick)
        _print_report(report, st.path)


def _print_report(report: IngestReport, store_path: Path) -> None:
    from rich.markup import escape

    from capscope.cli.tables import Col, fmt_int, plural, render_table

    by_status: dict[str, list[int]] = {}
    for f in report.files:
        row = by_status.setdefault(f.status, [0, 0, 0])
        row[0] += 1
        row[1] += f.rows_read
        row[2] += f.rows_new
    cols = [Col("files"), Col("count", "number"), Col("rows read", "number"), Col("rows added", "number")]
    rows = [
        [status, fmt_int(by_status[status][0]), fmt_int(by_status[status][1]), fmt_int(by_status[status][2])]
        for status in ("new", "appended", "no new rows", "unchanged")
        if status in by_status
    ]
    rows.append(
        ["[bold]total[/]", fmt_int(len(report.files)), fmt_int(report.rows_read), fmt_int(report.rows_new)]
    )
    render_table(cols, rows, title=f"ingest into {escape(str(store_path))}")
    appended = [f for f in report.files if f.status == "appended"]
    for f in appended[:10]:
        console.print(
            f"  appended {plural(f.rows_new, 'row')} to {escape(', '.join(f.symbols))} from {escape(str(f.path))}",
            highlight=False,
        )
    if len(appended) > 10:
        console.print(f"  ... and {plural(len(appended) - 10, 'more appended file')}", highlight=False)
    verdict = (
        "store unchanged (nothing new)" if not report.changed else f"ingest #{report.ingest_id} committed"
    )
    console.print(f"{verdict} in {report.seconds:.2f} s", highlight=False)
