"""The store as a hive-partitioned Parquet dataset: export, and reading blocks of symbols back.

Layout of a dataset folder ``DIR`` (written by :func:`export_parquet`, ``capscope export parquet``)::

    DIR/_capscope.json                 what the folder holds (format, version, partitioning, symbols, rows)
    DIR/bucket=0000/part-0.parquet     the bars of every symbol whose bucket is 0
    DIR/bucket=0001/part-0.parquet
    ...

**Partitioning.** A symbol's bucket is ``crc32(symbol as UTF-8) mod n_buckets`` (``zlib.crc32``, stable across
machines and Python versions; Python's ``hash()`` is salted per process and would not be). ``n_buckets`` is
``ceil(n_symbols / symbols_per_bucket)`` (default 256 symbols per bucket), so a file holds about 256 symbols: at
5,000 bars a symbol that is ~1.3 M rows, 20-40 MB compressed, whether the market has 700 or 20,000 symbols (80
files). Partitioning by symbol (``symbol=XYZ/``) would give 20,000 files of ~100 KB, which every engine lists and
opens slowly. Buckets by hash need no symbol list to find a symbol's file, and one bucket is one natural block of
work (:mod:`capscope.scale.blocks`).

**Files.** Columns ``symbol`` (string), ``date`` (date32), ``open high low close adj_close volume`` (float64,
null where the store has NULL): the bar table of DESIGN.md. Rows sorted by ``(symbol, date)``; row groups of
at most 131,072 rows so readers filtering one symbol skip the others by their min/max statistics; zstd.

**Readers.** DuckDB: ``read_parquet('DIR/*/*.parquet', hive_partitioning = true)``; polars:
``pl.scan_parquet('DIR/*/*.parquet', hive_partitioning=True)``; Dask: ``dask.dataframe.read_parquet(DIR)``
(``_capscope.json`` starts with ``_`` and is ignored by all three). The ``bucket`` partition column comes back
as an extra column.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from capscope.data.schema import PRICE_FIELDS
from capscope.errors import DataError, UsageError

if TYPE_CHECKING:
    import pyarrow as pa

    from capscope.data.panel import Panel
    from capscope.store import Store

#: Name of the metadata file at the root of a dataset.
META_FILE: Final = "_capscope.json"
#: Value of ``format`` in the metadata file.
FORMAT: Final = "capscope-parquet"
#: Version of the layout described in the module docstring.
VERSION: Final = 1
#: Default number of symbols per bucket (per file).
SYMBOLS_PER_BUCKET: Final = 256
#: Row-group size of the written files.
ROW_GROUP_ROWS: Final = 131_072


def bucket_of(symbol: str, n_buckets: int) -> int:
    """Bucket of ``symbol``: ``crc32(symbol.encode("utf-8")) % n_buckets`` (module docstring)."""
    return zlib.crc32(symbol.encode("utf-8")) % n_buckets


def bucket_dir(bucket: int) -> str:
    """Folder name of a bucket (``bucket=0007``)."""
    return f"bucket={bucket:04d}"


def is_dataset(path: str | Path) -> bool:
    """True when ``path`` is a folder holding a capscope Parquet dataset (its metadata file)."""
    return (Path(path) / META_FILE).is_file()


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_parquet` wrote.

    Attributes
    ----------
    path
        The dataset folder.
    symbols, rows, files
        Symbols, bars and Parquet files written.
    bytes
        Total size of the Parquet files.
    seconds
        Wall time.
    """

    path: Path
    symbols: int
    rows: int
    files: int
    bytes: int
    seconds: float


def _schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [("symbol", pa.string()), ("date", pa.date32())] + [(f, pa.float64()) for f in PRICE_FIELDS]
    )


def export_parquet(
    store: Store,
    out: str | Path,
    *,
    symbols_per_bucket: int = SYMBOLS_PER_BUCKET,
    progress: Callable[[int, int], None] | None = None,
) -> ExportReport:
    """Write every bar of ``store`` to the Parquet dataset ``out`` (layout: module docstring).

    One bucket is queried and written at a time, so memory holds one file's rows. The files are written into a
    temporary sibling folder that is renamed to ``out`` at the end: an interrupted export leaves no half dataset.

    Parameters
    ----------
    store
        An open store.
    out
        The dataset folder; it must not exist, or be empty.
    symbols_per_bucket
        Target symbols per file (``n_buckets = ceil(n_symbols / symbols_per_bucket)``).
    progress
        Called as ``progress(done, total)`` after each bucket.

    Returns
    -------
    ExportReport

    Raises
    ------
    UsageError
        ``out`` exists and is not empty, or the store is empty.
    """
    import pyarrow.parquet as pq

    from capscope.store._duck import arrow, run

    t0 = time.perf_counter()
    out = Path(out)
    if symbols_per_bucket < 1:
        raise UsageError(f"symbols per bucket must be >= 1, got {symbols_per_bucket}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}: exists and is not an empty folder; choose a new folder or delete it")
    rows = run(
        store.con,
        """SELECT s.symbol, s.symbol_id, min(b.date), max(b.date), count(*)
           FROM bars b JOIN symbols s USING (symbol_id) GROUP BY ALL ORDER BY s.symbol""",
    )
    if not rows:
        raise UsageError(f"store {store.path} holds no bars: run `capscope ingest` first")
    n_buckets = max(1, math.ceil(len(rows) / symbols_per_bucket))
    members: dict[int, list[tuple[str, int]]] = {}
    for sym, sid, *_ in rows:
        members.setdefault(bucket_of(sym, n_buckets), []).append((sym, int(sid)))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    fields = ", ".join(f"b.{f}" for f in PRICE_FIELDS)
    n_bytes = n_files = 0
    try:
        for done, bucket in enumerate(sorted(members), start=1):
            ids = [sid for _, sid in members[bucket]]
            table = arrow(
                store.con,
                f"""SELECT s.symbol, b.date, {fields} FROM bars b JOIN symbols s USING (symbol_id)
                    WHERE b.symbol_id IN ({", ".join("?" * len(ids))}) ORDER BY s.symbol, b.date""",
                ids,
            ).cast(_schema())
            folder = tmp / bucket_dir(bucket)
            folder.mkdir()
            target = folder / "part-0.parquet"
            pq.write_table(table, target, row_group_size=ROW_GROUP_ROWS, compression="zstd")
            n_bytes += target.stat().st_size
            n_files += 1
            del table
            if progress is not None:
                progress(done, len(members))
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "created": datetime.now().isoformat(timespec="seconds"),
            "source": str(store.path),
            "partitioning": {
                "column": "bucket",
                "scheme": "crc32(symbol utf-8) mod n_buckets",
                "n_buckets": n_buckets,
                "folder": "bucket=NNNN (4 digits)",
            },
            "columns": ["symbol", "date", *PRICE_FIELDS],
            "rows": int(sum(r[4] for r in rows)),
            # symbol, bucket, first date, last date, rows
            "symbols": [
                [sym, bucket_of(sym, n_buckets), str(first), str(last), int(n)]
                for sym, _, first, last, n in rows
            ],
        }
        (tmp / META_FILE).write_text(json.dumps(meta, indent=0), encoding="utf-8")
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ExportReport(
        out, len(rows), int(sum(r[4] for r in rows)), n_files, n_bytes, time.perf_counter() - t0
    )


@dataclass(frozen=True)
class SymbolInfo:
    """One symbol of a dataset: its bucket, first and last date and number of bars."""

    symbol: str
    bucket: int
    first: date
    last: date
    rows: int


class ParquetDataset:
    """A capscope Parquet dataset opened for reading (layout: module docstring).

    Parameters
    ----------
    path
        The dataset folder (holding ``_capscope.json``).

    Raises
    ------
    DataError
        The folder is not a capscope dataset, or its metadata is of another format or version.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        meta_path = self.path / META_FILE
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(
                f"not a capscope Parquet dataset (no {META_FILE}); write one with `capscope export parquet`",
                path=self.path,
            ) from None
        except (OSError, ValueError) as exc:
            raise DataError(
                f"unreadable dataset metadata ({exc}); export the dataset again", path=meta_path
            ) from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise DataError(
                f"metadata is not a {FORMAT} version {VERSION} file; export the dataset again", path=meta_path
            )
        try:
            self.n_buckets = int(meta["partitioning"]["n_buckets"])
            self.info = {
                s: SymbolInfo(s, int(b), date.fromisoformat(f), date.fromisoformat(la), int(n))
                for s, b, f, la, n in meta["symbols"]
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"damaged dataset metadata ({exc!r}); export the dataset again", path=meta_path
            ) from None

    def __repr__(self) -> str:
        return f"ParquetDataset({str(self.path)!r}, {len(self.info)} symbols, {self.n_buckets} buckets)"

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled as its path (Dask tasks): the metadata is read again where the task runs
        return (ParquetDataset, (str(self.path),))

    def symbols(self) -> list[str]:
        """Every symbol, sorted."""
        return sorted(self.info)

    def file_of(self, bucket: int) -> Path:
        """Parquet file of a bucket."""
        return self.path / bucket_dir(bucket) / "part-0.parquet"

    def read_table(
        self, symbols: Sequence[str], end: date | None = None, columns: Sequence[str] = ()
    ) -> pa.Table:
        """Arrow bar table of ``symbols`` (``date <= end``), read from their buckets' files only.

        Raises
        ------
        DataError
            A bucket file is missing or unreadable.
        """
        import pyarrow as pa
        import pyarrow.dataset as ds

        buckets = sorted({self.info[s].bucket for s in symbols})
        files = [self.file_of(b) for b in buckets]
        for f in files:
            if not f.is_file():
                raise DataError("bucket file missing; export the dataset again", path=f)
        cols = list(columns) or ["symbol", "date", *PRICE_FIELDS]
        try:
            flt = ds.field("symbol").isin(list(symbols))
            if end is not None:
                flt = flt & (ds.field("date") <= pa.scalar(end, type=pa.date32()))
            # one bucket file at a time: a block whose symbols span many buckets (the study's plan by first
            # date) then holds one decoded file plus what it keeps, not every file at once (2,000 symbols in 8
            # buckets: 620 MB above the base for one block read together, see benchmarks/RESULTS.md)
            parts = [
                ds.dataset(str(f), format="parquet", schema=_schema()).to_table(columns=cols, filter=flt)
                for f in files
            ]
            return pa.concat_tables(parts) if parts else _schema().empty_table().select(cols)
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"cannot read the dataset ({exc}); export it again", path=self.path) from None

    def dates(self, symbols: Sequence[str], end: date | None = None) -> np.ndarray:
        """Sorted union of the bar dates of ``symbols`` up to ``end`` (``datetime64[D]``), one bucket at a time."""
        by_bucket: dict[int, list[str]] = {}
        for s in symbols:
            by_bucket.setdefault(self.info[s].bucket, []).append(s)
        days = np.array([], dtype=np.int64)
        for members in by_bucket.values():
            col = self.read_table(members, end, columns=("date",)).column("date")
            days = np.union1d(days, np.unique(col.to_numpy().view(np.int64)))
        return days.astype("datetime64[D]")

    def panel(self, symbols: Sequence[str], dates: np.ndarray, end: date | None = None) -> Panel:
        """Panel of ``symbols`` (columns in this order) on the row index ``dates`` (a superset of their dates)."""
        table = self.read_table(symbols, end)
        return table_panel(table, symbols, dates)


def table_panel(table: pa.Table, symbols: Sequence[str], dates: np.ndarray) -> Panel:
    """Scatter an Arrow bar table into a :class:`Panel` with the given columns and row index.

    Every row's date must be in ``dates`` and its symbol in ``symbols`` (rows of other symbols are an error).
    """
    import pyarrow.compute as pc

    from capscope.data.panel import Panel

    index = {s: j for j, s in enumerate(symbols)}
    n, m = len(dates), len(symbols)
    fields: dict[str, np.ndarray] = {f: np.full((n, m), np.nan) for f in PRICE_FIELDS}
    if table.num_rows:
        sym = table.column("symbol").combine_chunks().dictionary_encode()
        codes = np.asarray(sym.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        lut = np.asarray([index[s] for s in sym.dictionary.to_pylist()], dtype=np.int64)
        col = lut[codes]
        day = table.column("date").to_numpy().astype("datetime64[D]")
        row = np.searchsorted(dates, day)
        if np.any(row >= n) or np.any(dates[np.minimum(row, n - 1)] != day):
            raise ValueError("table_panel: a bar's date is not in the row index")
        for f in PRICE_FIELDS:
            values = pc.fill_null(table.column(f), np.nan).to_numpy()
            fields[f][row, col] = values
    return Panel(np.asarray(dates, dtype="datetime64[D]"), tuple(symbols), fields)
