"""Readers: files -> bar table (see :mod:`capscope.data.schema`).

Supported inputs: the sample layout (``SYMBOL.csv`` with ``date,open,high,low,close,adj_close,volume``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from capscope.data.schema import BAR_COLUMNS, BAR_SCHEMA
from capscope.errors import DataError

BAR_FILE_SUFFIXES = (".csv", ".parquet")


def symbol_from_path(path: Path) -> str:
    """Symbol of a one-symbol file: its name without suffix (``RUT.csv`` -> ``RUT``)."""
    return path.name.split(".")[0]


def iter_bar_files(root: str | Path) -> Iterator[Path]:
    """Yield bar files under ``root`` (a file, or a folder searched recursively), sorted by path."""
    root = Path(root)
    if root.is_file():
        yield root
        return
    if not root.is_dir():
        raise DataError("no such file or directory", path=root)
    yield from sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in BAR_FILE_SUFFIXES)


def read_bars(path: str | Path, *, symbol: str | None = None) -> pl.DataFrame:
    """Read one bar file into a bar table.

    Parameters
    ----------
    path
        A ``SYMBOL.csv`` file in the sample layout.
    symbol
        Symbol to use; defaults to the file name without suffix.

    Returns
    -------
    polars.DataFrame
        Columns :data:`~capscope.data.schema.BAR_COLUMNS`, sorted by date.
    """
    path = Path(path)
    sym = symbol or symbol_from_path(path)
    frame = pl.read_csv(path, infer_schema=False)
    out = frame.select(
        pl.lit(sym).alias("symbol"),
        pl.col("date").str.to_date("%Y-%m-%d").alias("date"),
        *[pl.col(c).cast(pl.Float64, strict=False).alias(c) for c in BAR_COLUMNS[2:]],
    )
    return out.cast(BAR_SCHEMA).sort("date")  # type: ignore[arg-type]


def read_many(paths: list[Path]) -> pl.DataFrame:
    """Read several one-symbol files into one bar table sorted by ``(symbol, date)``."""
    return pl.concat([read_bars(p) for p in paths]).sort(["symbol", "date"])
