"""Transactional, idempotent ingest of bar files into the DuckDB store.

The contract (DESIGN.md, "Reliability rules"):

* An ingest of any number of files is **one transaction**. Files stream through in batches of about
  :data:`BATCH_BYTES` (input order kept): each batch is hashed, read and validated
  (:func:`capscope.data.readers.read_bars`) and appended to a connection-local temporary staging table that
  DuckDB spills to disk beyond :data:`INGEST_MEMORY_LIMIT`, so peak memory follows the batch, not the input.
  Only when every file has been read and validated do the writes run, between ``BEGIN`` and ``COMMIT``. A bad
  file, a conflict, an exception or a kill leaves the store as it was (the staging table is never persisted;
  DuckDB's write-ahead log only replays committed transactions). Appending many batches inside one DuckDB
  transaction instead would hold every uncommitted row group in memory (measured: ~55 bytes per row beyond the
  memory limit), which is why the batches are staged first.
* Re-ingesting a file whose bytes (sha256) and name are already recorded is a no-op: it is hashed, not parsed.
* A changed file may only **add** bars. Rows for ``(symbol, date)`` pairs already in the store must be equal
  (every field, NULL equal to NULL); otherwise the ingest fails with :class:`IngestConflictError` naming the
  symbol, dates, fields and the old and new values, and nothing is merged.
* Rows travel as Arrow tables registered with DuckDB; there is no per-row Python.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from capscope.errors import DataError, StoreError, UsageError
from capscope.store import bulk
from capscope.store._duck import run
from capscope.store.schema import VALUE_COLUMNS

if TYPE_CHECKING:
    import duckdb
    import polars as pl

#: Progress callback: ``progress(done, total, path)`` after each file has been hashed and read.
ProgressCallback = Callable[[int, int, Path], None]

#: At most this many conflicting cells are listed in an :class:`IngestConflictError` message.
MAX_LISTED_CONFLICTS = 10


@dataclass(frozen=True)
class FileResult:
    """What one ingest did with one file.

    Attributes
    ----------
    path
        The file.
    sha256
        Hex digest of its bytes.
    symbols
        Symbols the file holds (empty when it was skipped unread).
    status
        ``unchanged`` (same bytes already ingested, not read), ``new`` (every row added), ``appended`` (some rows
        added) or ``no new rows`` (read, all rows already stored and equal).
    rows_read, rows_new
        Rows in the file and rows added to the store.
    """

    path: Path
    sha256: str
    symbols: tuple[str, ...]
    status: str
    rows_read: int
    rows_new: int


@dataclass(frozen=True)
class IngestReport:
    """Result of :meth:`capscope.store.Store.ingest`.

    Attributes
    ----------
    files
        One :class:`FileResult` per input file, in input order.
    started
        When the ingest started (local time).
    seconds
        Wall time of the whole ingest.
    ingest_id
        Id of the ``ingests`` row written, or ``None`` when nothing needed writing.
    repairs
        One line per repair applied with ``repair=True`` (file, line, what was done).
    """

    files: tuple[FileResult, ...]
    started: datetime
    seconds: float
    ingest_id: int | None = None
    repairs: tuple[str, ...] = field(default=())

    @property
    def rows_read(self) -> int:
        """Rows read over all files."""
        return sum(f.rows_read for f in self.files)

    @property
    def rows_new(self) -> int:
        """Rows added to the store."""
        return sum(f.rows_new for f in self.files)

    @property
    def files_unchanged(self) -> int:
        """Files skipped because the same bytes were ingested before."""
        return sum(f.status == "unchanged" for f in self.files)

    @property
    def changed(self) -> bool:
        """True when the store was written."""
        return self.ingest_id is not None


@dataclass(frozen=True)
class Conflict:
    """One stored value that a file would change."""

    symbol: str
    date: date
    field: str
    old: float | None
    new: float | None
    path: str


class IngestConflictError(StoreError):
    """A file changes bars that are already stored; nothing was written.

    Attributes
    ----------
    conflicts
        Up to :data:`MAX_LISTED_CONFLICTS` conflicting cells.
    n_rows
        Number of conflicting ``(symbol, date)`` rows in total.
    source
        Where the other side comes from: ``store`` (bars stored before this ingest) or ``batch`` (another input
        file of this ingest).
    """

    def __init__(self, conflicts: Sequence[Conflict], n_rows: int, *, source: str = "store") -> None:
        self.conflicts = tuple(conflicts)
        self.n_rows = n_rows
        what = {
            "batch": "two input files disagree on the same bars",
            "store": "the input changes bars that are already in the store",
        }[source]
        lines = [f"{what} ({n_rows} row(s)); nothing was ingested. First differences:"]
        for c in self.conflicts:
            lines.append(
                f"  {c.symbol} {c.date.isoformat()} {c.field}: stored {c.old!r}, new {c.new!r} ({c.path})"
            )
        lines.append(
            "Stored bars are never overwritten silently: check the file, or start a fresh store "
            "(--store NEW.duckdb) if the new data should replace the old."
        )
        super().__init__("\n".join(lines))


def collect_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into bar files (sorted within a folder, duplicates removed, input order kept)."""
    from capscope.data.readers import iter_bar_files

    seen: set[Path] = set()
    out: list[Path] = []
    for root in paths:
        found = list(iter_bar_files(root))
        if not found:
            raise UsageError(f"{root}: no bar files (*.csv, *.parquet) found")
        for path in found:
            key = Path(os.path.abspath(path))
            if key not in seen:
                seen.add(key)
                out.append(key)
    return out


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the file ({exc.strerror}); check permissions", path=path) from None


def _read_one(path: Path, repair: bool, log: list[Any]) -> pl.DataFrame:
    from capscope.data.readers import read_bars

    return read_bars(path, repair=True, log=log) if repair else read_bars(path)


def _read_files(
    files: Sequence[Path], repair: bool, on_done: Callable[[Path], None], log: list[Any]
) -> list[pl.DataFrame]:
    """Read files on a small thread pool (the CSV parser releases the GIL); results keep input order.

    The first failing file *in input order* raises, so the error does not depend on thread timing.
    """
    if not files:
        return []
    workers = max(1, min(4, os.cpu_count() or 1, len(files)))
    if workers == 1:
        frames = []
        for path in files:
            frames.append(_read_one(path, repair, log))
            on_done(path)
        return frames
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_read_one, path, repair, log) for path in files]
        frames = []
        try:
            for path, future in zip(files, futures, strict=True):
                frames.append(future.result())
                on_done(path)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return frames


def _differences_sql(left: str, right: str) -> str:
    return " OR ".join(f"{left}.{c} IS DISTINCT FROM {right}.{c}" for c in VALUE_COLUMNS)


def _conflicts(
    rows: list[tuple[Any, ...]], id_to_symbol: dict[int, str], files: Sequence[Path]
) -> list[Conflict]:
    """Turn joined rows ``(file_idx, symbol_id, date, old..., new...)`` into per-field conflicts."""
    n = len(VALUE_COLUMNS)
    out: list[Conflict] = []
    for row in rows:
        file_idx, symbol_id, day = row[0], row[1], row[2]
        old, new = row[3 : 3 + n], row[3 + n : 3 + 2 * n]
        for name, a, b in zip(VALUE_COLUMNS, old, new, strict=True):
            if a != b and not (a is None and b is None):
                out.append(Conflict(id_to_symbol[symbol_id], day, name, a, b, str(files[file_idx])))
                if len(out) >= MAX_LISTED_CONFLICTS:
                    return out
    return out


#: Input bytes read, parsed and staged per batch (see :func:`ingest_files`); peak memory follows it, not the
#: size of the whole input.
BATCH_BYTES = 64 << 20

#: DuckDB's buffer limit while ingesting: the staging table and the final insert spill to DuckDB's temporary
#: directory beyond it instead of holding the whole input in memory.
INGEST_MEMORY_LIMIT = "512MB"

#: The temporary (connection-local, never persisted) table the batches are staged in.
STAGING = "capscope_ingest_incoming"


def _batches(files: Sequence[Path], budget: int) -> list[list[int]]:
    """Consecutive runs of file indices, each of at most ``budget`` bytes on disk (a bigger file is alone)."""
    out: list[list[int]] = []
    size = 0
    for i, path in enumerate(files):
        try:
            n = path.stat().st_size
        except OSError:
            n = 0  # the read below gives the precise error
        if out and size + n <= budget:
            out[-1].append(i)
            size += n
        else:
            out.append([i])
            size = n
    return out


@dataclass
class _Totals:
    """What the batches of one ingest accumulate (small: per file and symbol, never per row)."""

    ids: dict[str, int]  # every symbol's id, stored ones and those allocated by this ingest
    digests: dict[int, str] = field(default_factory=dict)
    symbols_of: dict[int, tuple[str, ...]] = field(default_factory=dict)
    rows_read: dict[int, int] = field(default_factory=dict)
    read_counts: dict[tuple[int, int], int] = field(default_factory=dict)
    pending: list[int] = field(default_factory=list)
    new_symbols: list[str] = field(default_factory=list)  # in id order

    def allocate(self, symbols: Iterable[str]) -> None:
        """Give new symbols the next free ids (written to ``symbols`` only in the final transaction)."""
        next_id = max(self.ids.values(), default=-1) + 1
        for sym in sorted(set(symbols) - self.ids.keys()):
            self.ids[sym] = next_id
            self.new_symbols.append(sym)
            next_id += 1


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | Path],
    *,
    repair: bool = False,
    progress: ProgressCallback | None = None,
    version: str = "",
    fast: bool = True,
    batch_bytes: int = BATCH_BYTES,
) -> IngestReport:
    """Ingest bar files into an open store connection in one transaction (see the module docstring).

    Files stream through in batches of about ``batch_bytes`` bytes, in input order: each batch is hashed, read,
    validated and appended to a temporary staging table (connection-local, spilled to disk by DuckDB beyond
    :data:`INGEST_MEMORY_LIMIT`); then one transaction checks conflicts and writes symbols, bars and the log. Memory
    is bounded by the batch, not by the input; a bad file in any batch or a conflict writes nothing.

    Parameters
    ----------
    con
        Read-write connection to an initialised store.
    paths
        Files and/or folders (searched recursively for ``*.csv`` / ``*.parquet``).
    repair
        Passed to the reader: sort and de-duplicate identical rows, logging each repair.
    progress
        Called as ``progress(done, total, path)`` after each file.
    version
        capscope version recorded with the ingest.
    fast
        Use the bulk fast path (:mod:`capscope.store.bulk`) for plain sample-layout CSV files; ``False`` reads
        every file with :func:`~capscope.data.readers.read_bars` (same result, for benchmarks and tests).
    batch_bytes
        Input bytes per batch (a larger file forms its own batch); the result does not depend on it.

    Returns
    -------
    IngestReport

    Raises
    ------
    DataError
        A file breaks the bar-table contract (nothing written).
    IngestConflictError
        A file changes stored bars, or two files disagree (nothing written).
    """
    started = datetime.now()
    t0 = time.perf_counter()
    files = collect_files(paths)
    total = len(files)
    done = 0

    def tick(path: Path) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, path)

    known = {(sha, name) for sha, name in run(con, "SELECT DISTINCT sha256, file_name FROM ingest_files")}
    stored = dict(run(con, "SELECT symbol, symbol_id FROM symbols"))
    acc = _Totals(ids=dict(stored))
    repairs: list[Any] = []  # capscope.data.validate.Repair records (repair=True only)
    limit = run(con, "SELECT current_setting('memory_limit')")[0][0]
    run(con, f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
    run(con, f"DROP TABLE IF EXISTS temp.{STAGING}")
    ingest_id = None
    try:
        for batch in _batches(files, batch_bytes):
            datas = {i: _read_bytes(files[i]) for i in batch}
            pending: list[int] = []
            for i in batch:
                acc.digests[i] = hashlib.sha256(datas[i]).hexdigest()
                if (acc.digests[i], files[i].name) in known:
                    del datas[i]
                    tick(files[i])
                else:
                    pending.append(i)
            if pending:
                first = not acc.pending
                _stage(con, _read_batch(files, pending, datas, acc, repair, fast, tick, repairs), first)
            del datas
        if acc.pending:
            ingest_id, rows_new = _commit(con, acc, stored, files, started, version)
    finally:
        run(con, f"DROP TABLE IF EXISTS temp.{STAGING}")
        run(con, f"SET memory_limit = '{limit}'")

    added_per_file: dict[int, int] = {}
    if ingest_id is not None:
        for (fi, _), n in rows_new.items():
            added_per_file[fi] = added_per_file.get(fi, 0) + n
    results: list[FileResult] = []
    pending_set = set(acc.pending)
    for i, path in enumerate(files):
        if i not in pending_set:
            results.append(FileResult(path, acc.digests[i], (), "unchanged", 0, 0))
            continue
        read = acc.rows_read[i]
        added = added_per_file.get(i, 0)
        status = "new" if added == read else ("appended" if added else "no new rows")
        results.append(FileResult(path, acc.digests[i], acc.symbols_of[i], status, read, added))
    return IngestReport(
        tuple(results),
        started,
        time.perf_counter() - t0,
        ingest_id=ingest_id,
        repairs=tuple(str(r) for r in repairs),
    )


def _read_batch(
    files: Sequence[Path],
    pending: list[int],
    datas: dict[int, bytes],
    acc: _Totals,
    repair: bool,
    fast: bool,
    tick: Callable[[Path], None],
    repairs: list[Any],
) -> pl.DataFrame:
    """Read and validate one batch's pending files: one frame ``file_idx, symbol_id, date, values...``."""
    import polars as pl

    from capscope.data.readers import symbol_from_path  # imports polars: keep `capscope.store` light

    # fast path: plain sample-layout CSV files parsed and checked together (see capscope.store.bulk)
    bulk_files: list[int] = []
    bulk_frame = None
    if fast and not repair:
        bulk_files = [
            i
            for i in pending
            if files[i].suffix.lower() == ".csv"
            and symbol_from_path(files[i]).strip()
            and bulk.eligible(datas[i])
        ]
        bulk_frame = bulk.read_bulk([datas[i] for i in bulk_files])
        if bulk_frame is None:
            bulk_files = []
    for i in pending:
        datas.pop(i, None)  # the careful reader reads the file itself
    bulk_set = set(bulk_files)
    for i in bulk_files:
        tick(files[i])
    careful = [i for i in pending if i not in bulk_set]
    frames = dict(zip(careful, _read_files([files[i] for i in careful], repair, tick, repairs), strict=True))

    acc.symbols_of.update({i: (symbol_from_path(files[i]),) for i in bulk_files})
    acc.symbols_of.update(
        {i: tuple(f["symbol"].unique(maintain_order=True).to_list()) for i, f in frames.items()}
    )
    acc.rows_read.update({i: f.height for i, f in frames.items()})
    if bulk_frame is not None:
        counts = np.bincount(bulk_frame["file_pos"].to_numpy(), minlength=len(bulk_files))
        acc.rows_read.update({i: int(n) for i, n in zip(bulk_files, counts, strict=True)})
    acc.pending.extend(pending)
    acc.allocate(s for i in pending for s in acc.symbols_of[i])
    ids = acc.ids
    acc.read_counts.update(_read_counts(bulk_files, acc.rows_read, frames, acc.symbols_of, ids))

    parts = []
    if bulk_frame is not None:
        file_pos = bulk_frame["file_pos"].to_numpy()
        file_idx_of = np.asarray(bulk_files, dtype=np.int32)
        id_of = np.asarray([ids[acc.symbols_of[i][0]] for i in bulk_files], dtype=np.int32)
        parts.append(
            bulk_frame.select(
                pl.Series("file_idx", file_idx_of[file_pos]),
                pl.Series("symbol_id", id_of[file_pos]),
                pl.col("date"),
                *[pl.col(c) for c in VALUE_COLUMNS],
            )
        )
    for i, frame in frames.items():
        syms = acc.symbols_of[i]
        file_idx = pl.lit(i, dtype=pl.Int32).alias("file_idx")
        if len(syms) == 1:
            sid = pl.lit(ids[syms[0]], dtype=pl.Int32).alias("symbol_id")
        else:
            sid = pl.col("symbol").replace_strict(ids, return_dtype=pl.Int32).alias("symbol_id")
        parts.append(frame.select(file_idx, sid, pl.col("date"), *[pl.col(c) for c in VALUE_COLUMNS]))
    return pl.concat(parts, rechunk=False) if len(parts) > 1 else parts[0]


def _stage(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, first: bool) -> None:
    """Append one batch to the temporary staging table (``first``: create it)."""
    con.register("capscope_batch", frame.to_arrow())
    try:
        if first:
            run(con, f"CREATE TEMP TABLE {STAGING} AS SELECT * FROM capscope_batch")
        else:
            run(con, f"INSERT INTO temp.{STAGING} SELECT * FROM capscope_batch")
    finally:
        con.unregister("capscope_batch")


def _commit(
    con: duckdb.DuckDBPyConnection,
    acc: _Totals,
    stored: dict[str, int],
    files: Sequence[Path],
    started: datetime,
    version: str,
) -> tuple[int, dict[tuple[int, int], int]]:
    """The one transaction: new symbols, conflict checks, new bars and the log; returns the ingest id and rows
    added per ``(file_idx, symbol_id)``."""
    import polars as pl

    id_to_symbol = {v: k for k, v in acc.ids.items()}
    all_symbols = [s for i in acc.pending for s in acc.symbols_of[i]]
    run(con, "BEGIN TRANSACTION")
    try:
        if acc.new_symbols:
            table = pl.DataFrame(
                {"symbol_id": [acc.ids[s] for s in acc.new_symbols], "symbol": acc.new_symbols},
                schema={"symbol_id": pl.Int32, "symbol": pl.String},
            ).to_arrow()
            con.register("new_symbols", table)
            try:
                run(con, "INSERT INTO symbols SELECT symbol_id, symbol FROM new_symbols")
            finally:
                con.unregister("new_symbols")
        rows_new = _write(
            con,
            touches_old=any(s in stored for s in all_symbols),
            shared_symbols=len(all_symbols) != len(set(all_symbols)),
            read_counts=acc.read_counts,
            id_to_symbol=id_to_symbol,
            files=files,
        )
        ingest_id = _log(
            con, started, acc.pending, files, acc.digests, id_to_symbol, acc.read_counts, rows_new, version
        )
        run(con, "COMMIT")
    except BaseException:
        run(con, "ROLLBACK")
        raise
    return ingest_id, rows_new


def _read_counts(
    bulk_files: Sequence[int],
    rows_read: dict[int, int],
    frames: dict[int, pl.DataFrame],
    symbols_of: dict[int, tuple[str, ...]],
    ids: dict[str, int],
) -> dict[tuple[int, int], int]:
    """Incoming rows per ``(file_idx, symbol_id)``, without a query (one-symbol files: the file's row count)."""
    out = {(i, ids[symbols_of[i][0]]): rows_read[i] for i in bulk_files}
    for i, frame in frames.items():
        if len(symbols_of[i]) == 1:
            out[(i, ids[symbols_of[i][0]])] = frame.height
        else:
            for sym, n in frame.group_by("symbol").len().iter_rows():
                out[(i, ids[sym])] = int(n)
    return out


def _write(
    con: duckdb.DuckDBPyConnection,
    touches_old: bool,
    shared_symbols: bool,
    read_counts: dict[tuple[int, int], int],
    id_to_symbol: dict[int, str],
    files: Sequence[Path],
) -> dict[tuple[int, int], int]:
    """Check conflicts and insert the new rows of the staging table (:data:`STAGING`).

    ``touches_old`` says whether any incoming symbol already had bars (otherwise no row can collide and the
    join against ``bars`` is skipped); ``shared_symbols`` whether a symbol comes from more than one input file
    (otherwise one file's dates are unique, checked by the reader). ``read_counts`` are the incoming rows per
    ``(file_idx, symbol_id)``. Returns rows added per ``(file_idx, symbol_id)``.
    """
    cols = ", ".join(VALUE_COLUMNS)
    # 1. the same (symbol, date) from two input files: identical rows collapse, different ones are a conflict
    dup = (
        shared_symbols
        and run(
            con,
            f"SELECT count(*) FROM (SELECT 1 FROM {STAGING} GROUP BY symbol_id, date HAVING count(*) > 1)",
        )[0][0]
    )
    source = STAGING
    if dup:
        pairs = run(
            con,
            f"""SELECT a.file_idx, a.symbol_id, a.date, {", ".join("a." + c for c in VALUE_COLUMNS)},
                       {", ".join("b." + c for c in VALUE_COLUMNS)}
                FROM {STAGING} a JOIN {STAGING} b ON a.symbol_id = b.symbol_id AND a.date = b.date
                     AND a.file_idx < b.file_idx
                WHERE {_differences_sql("a", "b")}
                ORDER BY a.symbol_id, a.date""",
        )
        if pairs:
            n_rows = len({(r[1], r[2]) for r in pairs})
            raise IngestConflictError(_conflicts(pairs, id_to_symbol, files), n_rows, source="batch")
        run(
            con,
            f"""CREATE OR REPLACE TEMP TABLE incoming_unique AS
                SELECT file_idx, symbol_id, date, {cols} FROM {STAGING}
                QUALIFY row_number() OVER (PARTITION BY symbol_id, date ORDER BY file_idx) = 1""",
        )
        source = "incoming_unique"

    # 2. rows already stored must be equal; only symbols that existed before can collide
    if touches_old:
        diff = f"""FROM {source} i JOIN bars b ON b.symbol_id = i.symbol_id AND b.date = i.date
                   WHERE {_differences_sql("b", "i")}"""
        n_rows = run(con, f"SELECT count(*) {diff}")[0][0]
        if n_rows:
            rows = run(
                con,
                f"""SELECT i.file_idx, i.symbol_id, i.date, {", ".join("b." + c for c in VALUE_COLUMNS)},
                           {", ".join("i." + c for c in VALUE_COLUMNS)}
                    {diff} ORDER BY i.symbol_id, i.date LIMIT {MAX_LISTED_CONFLICTS}""",
            )
            raise IngestConflictError(_conflicts(rows, id_to_symbol, files), n_rows)
        run(
            con,
            f"""CREATE OR REPLACE TEMP TABLE incoming_new AS
                SELECT i.* FROM {source} i ANTI JOIN bars b ON b.symbol_id = i.symbol_id AND b.date = i.date""",
        )
        source = "incoming_new"

    if source == STAGING:
        added = dict(read_counts)
    else:
        counts = run(con, f"SELECT file_idx, symbol_id, count(*) FROM {source} GROUP BY ALL")
        added = {(int(f), int(s)): int(n) for f, s, n in counts}
    run(con, f"INSERT INTO bars SELECT symbol_id, date, {cols} FROM {source}")
    for temp in ("incoming_unique", "incoming_new"):
        run(con, f"DROP TABLE IF EXISTS {temp}")
    return added


def _log(
    con: duckdb.DuckDBPyConnection,
    started: datetime,
    pending: Sequence[int],
    files: Sequence[Path],
    digests: Mapping[int, str],
    id_to_symbol: dict[int, str],
    read_counts: dict[tuple[int, int], int],
    rows_new: dict[tuple[int, int], int],
    version: str,
) -> int:
    """Record the ingest and its files; returns the new ``ingest_id``."""
    ingest_id = int(run(con, "SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests")[0][0])
    read = sorted((f, s, n) for (f, s), n in read_counts.items())
    rows = [
        (
            ingest_id,
            str(files[f]),
            files[f].name,
            digests[f],
            id_to_symbol[s],
            int(n),
            rows_new.get((int(f), int(s)), 0),
        )
        for f, s, n in read
    ]
    import polars as pl

    log = pl.DataFrame(
        rows,
        schema={
            "ingest_id": pl.Int32,
            "path": pl.String,
            "file_name": pl.String,
            "sha256": pl.String,
            "symbol": pl.String,
            "rows_read": pl.Int64,
            "rows_new": pl.Int64,
        },
        orient="row",
    )
    con.register("files_log", log.to_arrow())
    try:
        run(con, "INSERT INTO ingest_files SELECT * FROM files_log")
    finally:
        con.unregister("files_log")
    run(
        con,
        "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            ingest_id,
            started,
            datetime.now(),
            len(pending),
            sum(r[5] for r in rows),
            sum(r[6] for r in rows),
            version,
        ],
    )
    return ingest_id
