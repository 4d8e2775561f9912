"""Transactional, idempotent ingest of bar files into the DuckDB store.

The contract (DESIGN.md, "Reliability rules"):

* An ingest of any number of files is **one transaction**. Every file is read and validated
  (:func:`capscope.data.readers.read_bars`) before the store is touched; the writes then run between ``BEGIN``
  and ``COMMIT``. A bad file, a conflict, an exception or a kill leaves the store as it was (DuckDB's write-ahead
  log only replays committed transactions).
* Re-ingesting a file whose bytes (sha256) and name are already recorded is a no-op: it is not even read.
* A changed file may only **add** bars. Rows for ``(symbol, date)`` pairs already in the store must be equal
  (every field, NULL equal to NULL); otherwise the ingest fails with :class:`IngestConflictError` naming the
  symbol, dates, fields and the old and new values, and nothing is merged.
* Rows travel as Arrow tables registered with DuckDB; there is no per-row Python.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
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
    """

    def __init__(self, conflicts: Sequence[Conflict], n_rows: int, *, within_batch: bool = False) -> None:
        self.conflicts = tuple(conflicts)
        self.n_rows = n_rows
        what = (
            "two input files disagree on the same bars"
            if within_batch
            else "the input changes bars that are already in the store"
        )
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


def _symbol_ids(con: duckdb.DuckDBPyConnection, symbols: Iterable[str]) -> tuple[dict[str, int], set[str]]:
    """Ids of ``symbols``, allocating new ones (inside the caller's transaction); also returns the new ones."""
    existing = dict(run(con, "SELECT symbol, symbol_id FROM symbols"))
    next_id = max(existing.values(), default=-1) + 1
    new: set[str] = set()
    for sym in sorted(set(symbols)):
        if sym not in existing:
            existing[sym] = next_id
            new.add(sym)
            next_id += 1
    if new:
        import polars as pl

        order = sorted(new, key=existing.__getitem__)
        table = pl.DataFrame(
            {"symbol_id": [existing[s] for s in order], "symbol": order},
            schema={"symbol_id": pl.Int32, "symbol": pl.String},
        ).to_arrow()
        con.register("new_symbols", table)
        try:
            run(con, "INSERT INTO symbols SELECT symbol_id, symbol FROM new_symbols")
        finally:
            con.unregister("new_symbols")
    return existing, new


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


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | Path],
    *,
    repair: bool = False,
    progress: ProgressCallback | None = None,
    version: str = "",
    fast: bool = True,
) -> IngestReport:
    """Ingest bar files into an open store connection in one transaction (see the module docstring).

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
    import polars as pl

    from capscope.data.readers import symbol_from_path  # imports polars: keep `capscope.store` light

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
    datas = [_read_bytes(p) for p in files]
    digests = [hashlib.sha256(d).hexdigest() for d in datas]
    pending = [i for i, (p, sha) in enumerate(zip(files, digests, strict=True)) if (sha, p.name) not in known]
    pending_set = set(pending)
    results: dict[int, FileResult] = {}
    for i, path in enumerate(files):
        if i not in pending_set:
            results[i] = FileResult(path, digests[i], (), "unchanged", 0, 0)
            tick(path)
    if not pending:
        return IngestReport(tuple(results[i] for i in range(total)), started, time.perf_counter() - t0)

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
    del datas
    bulk_set = set(bulk_files)
    for i in bulk_files:
        tick(files[i])
    careful = [i for i in pending if i not in bulk_set]
    repairs: list[Any] = []  # capscope.data.validate.Repair records (repair=True only)
    frames = dict(zip(careful, _read_files([files[i] for i in careful], repair, tick, repairs), strict=True))

    symbols_of: dict[int, tuple[str, ...]] = {i: (symbol_from_path(files[i]),) for i in bulk_files}
    symbols_of.update(
        {i: tuple(f["symbol"].unique(maintain_order=True).to_list()) for i, f in frames.items()}
    )
    rows_read: dict[int, int] = {i: f.height for i, f in frames.items()}
    if bulk_frame is not None:
        counts = np.bincount(bulk_frame["file_pos"].to_numpy(), minlength=len(bulk_files))
        rows_read.update({i: int(n) for i, n in zip(bulk_files, counts, strict=True)})
    run(con, "BEGIN TRANSACTION")
    try:
        ids, new_symbols = _symbol_ids(con, (s for syms in symbols_of.values() for s in syms))
        id_to_symbol = {v: k for k, v in ids.items()}
        parts = []
        if bulk_frame is not None:
            file_pos = bulk_frame["file_pos"].to_numpy()
            file_idx_of = np.asarray(bulk_files, dtype=np.int32)
            id_of = np.asarray([ids[symbols_of[i][0]] for i in bulk_files], dtype=np.int32)
            parts.append(
                bulk_frame.select(
                    pl.Series("file_idx", file_idx_of[file_pos]),
                    pl.Series("symbol_id", id_of[file_pos]),
                    pl.col("date"),
                    *[pl.col(c) for c in VALUE_COLUMNS],
                )
            )
        for i, frame in frames.items():
            syms = symbols_of[i]
            file_idx = pl.lit(i, dtype=pl.Int32).alias("file_idx")
            if len(syms) == 1:
                sid = pl.lit(ids[syms[0]], dtype=pl.Int32).alias("symbol_id")
            else:
                sid = pl.col("symbol").replace_strict(ids, return_dtype=pl.Int32).alias("symbol_id")
            parts.append(frame.select(file_idx, sid, pl.col("date"), *[pl.col(c) for c in VALUE_COLUMNS]))
        incoming = pl.concat(parts, rechunk=False) if len(parts) > 1 else parts[0]
        con.register("incoming", incoming.to_arrow())
        try:
            incoming_ids = {ids[s] for syms in symbols_of.values() for s in syms}
            touches_old = bool(incoming_ids - {ids[s] for s in new_symbols})
            all_symbols = [s for syms in symbols_of.values() for s in syms]
            shared = len(all_symbols) != len(set(all_symbols))
            read_counts = _read_counts(bulk_files, rows_read, frames, symbols_of, ids)
            rows_new = _write(con, touches_old, shared, read_counts, id_to_symbol, files)
            ingest_id = _log(
                con, started, pending, files, digests, id_to_symbol, read_counts, rows_new, version
            )
        finally:
            con.unregister("incoming")
        run(con, "COMMIT")
    except BaseException:
        run(con, "ROLLBACK")
        raise

    added_per_file: dict[int, int] = {}
    for (fi, _), n in rows_new.items():
        added_per_file[fi] = added_per_file.get(fi, 0) + n
    for i in pending:
        read = rows_read[i]
        added = added_per_file.get(i, 0)
        status = "new" if added == read else ("appended" if added else "no new rows")
        results[i] = FileResult(files[i], digests[i], symbols_of[i], status, read, added)
    return IngestReport(
        tuple(results[i] for i in range(total)),
        started,
        time.perf_counter() - t0,
        ingest_id=ingest_id,
        repairs=tuple(str(r) for r in repairs),
    )


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
    """Check conflicts and insert the new rows of the registered ``incoming`` table.

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
            "SELECT count(*) FROM (SELECT 1 FROM incoming GROUP BY symbol_id, date HAVING count(*) > 1)",
        )[0][0]
    )
    source = "incoming"
    if dup:
        pairs = run(
            con,
            f"""SELECT a.file_idx, a.symbol_id, a.date, {", ".join("a." + c for c in VALUE_COLUMNS)},
                       {", ".join("b." + c for c in VALUE_COLUMNS)}
                FROM incoming a JOIN incoming b ON a.symbol_id = b.symbol_id AND a.date = b.date
                     AND a.file_idx < b.file_idx
                WHERE {_differences_sql("a", "b")}
                ORDER BY a.symbol_id, a.date""",
        )
        if pairs:
            n_rows = len({(r[1], r[2]) for r in pairs})
            raise IngestConflictError(_conflicts(pairs, id_to_symbol, files), n_rows, within_batch=True)
        run(
            con,
            f"""CREATE OR REPLACE TEMP TABLE incoming_unique AS
                SELECT file_idx, symbol_id, date, {cols} FROM incoming
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

    if source == "incoming":
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
    digests: Sequence[str],
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
