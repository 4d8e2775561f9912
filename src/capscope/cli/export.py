"""``capscope export parquet``: the store as a hive-partitioned Parquet dataset (:mod:`capscope.scale.dataset`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from capscope.cli.common import StoreOption, console, err_console

app = typer.Typer(
    name="export",
    help="Export the store to other formats.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("parquet")
def parquet(
    out: Annotated[
        Path, typer.Option("--out", help="New (or empty) folder for the dataset.", show_default=False)
    ],
    store: StoreOption = None,
    per_file: Annotated[
        int, typer.Option("--symbols-per-file", min=1, help="Symbols per bucket file (about).")
    ] = 256,
) -> None:
    """Write the store as a Parquet dataset: DIR/bucket=NNNN/part-0.parquet, bucket = crc32(symbol) mod n.

    Each file holds the bar table (symbol, date, open, high, low, close, adj_close, volume) of about
    --symbols-per-file symbols, sorted by symbol and date; DIR/_capscope.json lists the symbols and the layout.
    Readable by DuckDB (read_parquet('DIR/*/*.parquet', hive_partitioning=true)), polars and Dask; commands
    read it with --data DIR (scan, patterns and breadth also with --engine dask).

    Example: capscope export parquet --out /tmp/bars-parquet
    """
    from rich.progress import Progress

    from capscope.scale.dataset import export_parquet
    from capscope.store import Store

    with Store(store, read_only=True) as st, Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("exporting buckets", total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        with st.guard():  # a damaged block met while exporting is exit 4, not a traceback
            report = export_parquet(st, out, symbols_per_bucket=per_file, progress=tick)
    console.print(
        f"exported {report.symbols:,} symbols, {report.rows:,} bars to {report.path} "
        f"({report.files} files, {report.bytes / 1e6:,.1f} MB, {report.seconds:.1f} s)",
        highlight=False,
    )
