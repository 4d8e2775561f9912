"""The :class:`Store`: one DuckDB file holding the bars and the log of every ingest."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from capscope.data.schema import PRICE_FIELDS
from capscope.errors import StoreError
from capscope.store import query
from capscope.store._duck import run
from capscope.store.health import check_path, damaged, open_error, read_error
from capscope.store.ingest import INGEST_MEMORY_LIMIT, IngestReport, ProgressCallback, ingest_files
from capscope.store.schema import DDL, MIGRATIONS, SCHEMA_VERSION, TABLE_COLUMNS, WATCH_DDL

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from capscope.data.panel import Panel


#: DuckDB's memory limit on every store connection (the ingest uses the same; see :mod:`capscope.store.ingest`).
MEMORY_LIMIT = INGEST_MEMORY_LIMIT


class Store:
    """An embedded DuckDB store of daily bars.

    Parameters
    ----------
    path
        The DuckDB file. ``None`` resolves it with :func:`capscope.data.sources.resolve_store_path`
        (``CAPSCOPE_STORE``, then the user cache). A missing file is created (unless ``read_only``).
    read_only
        Open without write access (several readers may share a file). The file must exist.

    Examples
    --------
    >>> with Store("bars.duckdb") as store:  # doctest: +SKIP
    ...     report = store.ingest(["data/prices"])
    ...     panel = store.panel(["RUT", "GSPC"], start="2024-01-01")
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        import duckdb

        from capscope.data.sources import resolve_store_path

        self.path = resolve_store_path(path)
        self.read_only = read_only
        self._con: duckdb.DuckDBPyConnection | None = None
        check_path(self.path, read_only=read_only)
        if not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the folder of the store {self.path}: {exc.strerror or exc}"
                ) from None
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise open_error(self.path, exc) from None
        try:
            with self.guard():
                # DuckDB caches the pages it reads up to its memory limit (80 % of RAM by default), so reading a
                # large store block by block (scan, export) would grow towards the store's size; queries that
                # need more spill to DuckDB's temporary folder instead
                run(self._con, f"SET memory_limit = '{MEMORY_LIMIT}'")
                self._init_schema()
        except BaseException:
            self.close()
            raise

    # -- lifecycle -------------------------------------------------------------------------------------
    def _init_schema(self) -> None:
        con = self.con
        tables = {r[0] for r in run(con, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")}
        if "meta" not in tables:
            if self.read_only or tables:
                what = f"tables {', '.join(sorted(tables))}" if tables else "no tables"
                raise StoreError(
                    f"{self.path} is a DuckDB database but not a capscope store ({what}, no meta table); "
                    "pass another --store, or create a new store with capscope ingest --store NEW_PATH"
                )
            run(con, "BEGIN TRANSACTION")
            try:
                for statement in (*DDL, *WATCH_DDL):
                    run(con, statement)
                run(con, "INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
                run(con, "COMMIT")
            except BaseException:
                run(con, "ROLLBACK")
                raise
            tables = set(TABLE_COLUMNS)
        missing = [t for t in TABLE_COLUMNS if t not in tables]
        if missing:
            raise damaged(self.path, f"missing table{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        found = run(con, "SELECT value FROM meta WHERE key = 'schema_version'")
        try:
            version: int | None = int(found[0][0]) if found else None
        except ValueError:
            version = None
        if version is not None and version < SCHEMA_VERSION and not self.read_only:
            # a migration writes: never into a damaged store (the file stays as it was)
            problems = self.check_integrity()
            if problems:
                raise damaged(self.path, "; ".join(problems[:5]))
            version = self._migrate(version)
        if version != SCHEMA_VERSION and not (self.read_only and version in MIGRATIONS):
            raise damaged(
                self.path,
                f"schema version {found[0][0] if found else 'missing'}, this capscope reads version "
                f"{SCHEMA_VERSION}",
            )
        columns: dict[str, list[str]] = {}
        for table, column in run(
            con,
            "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' "
            "ORDER BY table_name, column_index",
        ):
            columns.setdefault(table, []).append(column)
        for table, expected in TABLE_COLUMNS.items():
            if columns.get(table) != list(expected):
                raise damaged(
                    self.path,
                    f"table {table} has columns {', '.join(columns.get(table, []))}, "
                    f"expected {', '.join(expected)}",
                )

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn a DuckDB error met while reading (checksum mismatch, short read) into a :class:`StoreError`."""
        import duckdb

        try:
            yield
        except duckdb.Error as exc:
            raise read_error(self.path, exc) from None

    def ensure_sound(self) -> None:
        """Raise the damaged-store :class:`StoreError` (exit 4, rebuild advice) if :meth:`check_integrity`
        finds a problem; a long-running writer (``watch``) calls it once at start-up, ``ingest`` every time."""
        problems = self.check_integrity()
        if problems:
            raise damaged(self.path, "; ".join(problems[:5]))

    def check_integrity(self) -> list[str]:
        """Read every row and column of every table (DuckDB verifies each block's checksum on reading) and
        compare each symbol's row count with what the ingest log says was added.

        Returns
        -------
        list of str
            Problems found (empty when the store is sound). Unreadable blocks raise :class:`StoreError`.
        """
        problems: list[str] = []
        with self.guard():
            every = run(self.con, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
            for (table,) in every:
                run(self.con, f'SELECT count(*), sum(hash(COLUMNS(*))) FROM "{table}"')
            rows = run(
                self.con,
                """
                WITH stored AS (
                    SELECT s.symbol, count(b.date) AS n FROM symbols s LEFT JOIN bars b USING (symbol_id)
                    GROUP BY s.symbol
                ), logged AS (
                    SELECT symbol, sum(rows_new) AS n FROM ingest_files GROUP BY symbol
                )
                SELECT coalesce(stored.symbol, logged.symbol), coalesce(stored.n, 0), coalesce(logged.n, 0)
                FROM stored FULL OUTER JOIN logged USING (symbol)
                WHERE coalesce(stored.n, 0) <> coalesce(logged.n, 0)
                ORDER BY 1
                """,
            )
            for symbol, stored, logged in rows:
                problems.append(
                    f"{symbol}: {stored:,} bars stored, the ingest log says {logged:,} were added"
                )
            dup = run(
                self.con,
                "SELECT count(*) FROM (SELECT 1 FROM bars GROUP BY symbol_id, date HAVING count(*) > 1)",
            )
            if dup[0][0]:
                problems.append(f"{dup[0][0]:,} (symbol, date) pairs stored more than once")
            totals = run(
                self.con,
                "SELECT (SELECT coalesce(sum(rows_new), 0) FROM ingests), "
                "(SELECT coalesce(sum(rows_new), 0) FROM ingest_files)",
            )[0]
            if totals[0] != totals[1]:
                problems.append(
                    f"the ingest log adds up to {totals[0]:,} rows per ingest but {totals[1]:,} per file"
                )
        return problems

    def _migrate(self, version: int) -> int:
        """Apply the additive migrations from ``version`` up to :data:`SCHEMA_VERSION` in one transaction."""
        con = self.con
        if any(v not in MIGRATIONS for v in range(version, SCHEMA_VERSION)):
            return version  # no path: the version check reports it
        run(con, "BEGIN TRANSACTION")
        try:
            for v in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[v]:
                    run(con, statement)
            run(con, "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
            run(con, "COMMIT")
        except BaseException:
            run(con, "ROLLBACK")
            raise
        return SCHEMA_VERSION

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The open DuckDB connection (for advanced queries; do not write through it)."""
        if self._con is None:
            raise StoreError(f"store {self.path} is closed")
        return self._con

    def checkpoint(self) -> None:
        """Write DuckDB's write-ahead log into the database file now.

        DuckDB does this by itself when a commit takes the log past 16 MB, inside that commit; the long-running
        watch calls it between cycles so that the work is done while it waits rather than while a day's alerts
        wait.
        """
        run(self.con, "CHECKPOINT")

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._con is None else ("read-only" if self.read_only else "open")
        return f"Store({str(self.path)!r}, {state})"

    # -- writing ---------------------------------------------------------------------------------------
    def ingest(
        self,
        paths: str | Path | Iterable[str | Path],
        *,
        repair: bool = False,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Ingest bar files and/or folders in one transaction.

        See :mod:`capscope.store.ingest` for the guarantees (atomic, idempotent, append-only, conflicts
        reported). ``progress(done, total, path)`` is called after each file.

        Raises
        ------
        DataError
            A file breaks the bar-table contract; the store is unchanged.
        IngestConflictError
            The input changes stored bars; the store is unchanged.
        """
        from capscope import __version__

        if self.read_only:
            raise StoreError(f"store {self.path} is open read-only; cannot ingest")
        if isinstance(paths, str | Path):
            paths = [paths]
        self.ensure_sound()  # never write into a damaged store
        with self.guard():
            return ingest_files(self.con, paths, repair=repair, progress=progress, version=__version__)

    # -- reading ---------------------------------------------------------------------------------------
    def bars(
        self,
        symbols: Sequence[str] | None = None,
        start: query.DateLike | None = None,
        end: query.DateLike | None = None,
    ) -> pl.DataFrame:
        """Bar table of ``symbols`` (all when ``None``) with ``start <= date <= end``, sorted by symbol, date."""
        with self.guard():
            return query.bars(self.con, symbols, start, end)

    def symbols(self) -> pl.DataFrame:
        """Stored symbols: ``symbol, first_date, last_date, rows, source``, sorted by symbol."""
        with self.guard():
            return query.symbols_summary(self.con)

    def symbol_rows(self) -> list[tuple[str, date, date, int, str | None]]:
        """:meth:`symbols` as plain ``(symbol, first_date, last_date, rows, source)`` tuples, without polars."""
        with self.guard():
            return query.symbols_summary_rows(self.con)

    def panel(
        self,
        symbols: Sequence[str] | None = None,
        start: query.DateLike | None = None,
        end: query.DateLike | None = None,
        fields: Sequence[str] = PRICE_FIELDS,
    ) -> Panel:
        """Time-major panel of ``fields`` for ``symbols`` (see :func:`capscope.store.query.panel`)."""
        with self.guard():
            return query.panel(self.con, symbols, start, end, fields)

    def ingests(self) -> pl.DataFrame:
        """The ingest log: one row per ingest that changed the store, newest last."""
        import polars as pl

        with self.guard():
            frame = pl.from_arrow(self.con.sql("SELECT * FROM ingests ORDER BY ingest_id").to_arrow_table())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def counts(self) -> dict[str, int]:
        """Row counts of the store's tables (``symbols``, ``bars``, ``ingests``, ``ingest_files``)."""
        out: dict[str, int] = {}
        with self.guard():
            for table in ("symbols", "bars", "ingests", "ingest_files"):
                out[table] = int(run(self.con, f"SELECT count(*) FROM {table}")[0][0])
        return out

    def digest(self) -> dict[str, tuple[int, int]]:
        """Content fingerprint: per table ``(rows, sum of DuckDB row hashes)``.

        Two stores with the same digest hold the same rows (up to hash collisions). Bars are hashed with their
        symbol name, not the internal id. Timestamps in the ingest log are included, so the digest changes on
        every ingest that writes.
        """
        cols = "s.symbol, b.date, " + ", ".join(f"b.{c}" for c in PRICE_FIELDS)
        queries: dict[str, str] = {
            "bars": f"SELECT count(*), sum(hash({cols})) FROM bars b JOIN symbols s USING (symbol_id)",
            "symbols": "SELECT count(*), sum(hash(symbol_id, symbol)) FROM symbols",
            "ingests": "SELECT count(*), sum(hash(COLUMNS(*))) FROM ingests",
            "ingest_files": "SELECT count(*), sum(hash(COLUMNS(*))) FROM ingest_files",
        }
        out: dict[str, tuple[int, int]] = {}
        with self.guard():
            for table, sql in queries.items():
                rows: Any = run(self.con, sql)[0]
                out[table] = (int(rows[0]), int(rows[1] or 0))
        return out
