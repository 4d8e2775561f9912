"""Symbol blocks: every panel-wide stage run over blocks of symbols, one block in memory at a time.

A :class:`Block` names a few hundred symbols of a :class:`BlockSource` (the DuckDB store, a Parquet dataset, or
an in-memory panel) and the universe's date index. The block's panel is read when the block runs, so peak memory
is that of one block (``n_dates x block_size`` per field plus the stage's working arrays), not of the universe.

Why the universe's date index: every kernel treats each column independently, but "the previous bar", an SMA
window and the 252-bar high/low window count *panel rows*. A block read on its own dates could lack a date on
which only symbols of other blocks traded, and a breadth count on that row would then compare with a different
previous date. Reading every block on the universe's dates makes each column exactly the column it would be in
the whole panel, so per-symbol results (events, patterns) are identical and per-date counts (breadth) are
additive over blocks (:func:`capscope.analytics.breadth.breadth_counts`).

The stage functions (:func:`scan_block`, :func:`patterns_block`, :func:`breadth_block`, :func:`study_block`) are
plain functions of a block and keyword parameters, so the same call runs in this process (local engine) or as a
Dask task (:mod:`capscope.scale.engine`); their partial results are combined by :mod:`capscope.scale.run`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from capscope.data.schema import PRICE_FIELDS

if TYPE_CHECKING:
    import pandas as pd

    from capscope.analytics.study import StudyParams, StudyPartial
    from capscope.analytics.study_signals import Signal
    from capscope.data.panel import Panel
    from capscope.patterns.records import PatternRecord

#: Default symbols per block: ~6 fields x 5,000 bars x 256 symbols x 8 bytes = 61 MB of panel per block.
BLOCK_SIZE = 256


class BlockSource(Protocol):
    """Where blocks are read from (the store, a Parquet dataset, an in-memory panel)."""

    #: Human-readable description (``store PATH``, ``Parquet dataset DIR``, ...).
    description: str
    #: True when the source can be shipped to Dask workers (it is read where the task runs).
    distributable: bool

    def first_dates(self) -> dict[str, date]:
        """First bar date of every symbol of the source."""
        ...

    def extent(self) -> tuple[dict[str, date], dict[str, date]]:
        """First and last bar date of every symbol of the source."""
        ...

    def dates(self, symbols: Sequence[str], end: date | None) -> np.ndarray:
        """Sorted union of the bar dates of ``symbols`` up to ``end`` (``datetime64[D]``)."""
        ...

    def panel(self, symbols: Sequence[str], dates: np.ndarray, end: date | None) -> Panel:
        """Panel of ``symbols`` (in this order) on the row index ``dates``, bars up to ``end``."""
        ...

    def groups(self, symbols: Sequence[str]) -> list[list[str]]:
        """``symbols`` split into groups that are cheap to read together (e.g. one Parquet file each)."""
        ...


def align(panel: Panel, dates: np.ndarray) -> Panel:
    """``panel`` re-indexed onto ``dates`` (a superset of its dates): NaN rows where it has no bar."""
    from capscope.data.panel import Panel

    if len(panel.dates) == len(dates) and np.array_equal(panel.dates, dates):
        return panel
    rows = np.searchsorted(dates, panel.dates)
    if len(rows) and (rows[-1] >= len(dates) or not np.array_equal(dates[rows], panel.dates)):
        raise ValueError("align: the panel has dates outside the row index")
    fields = {}
    for name, arr in panel.fields.items():
        out = np.full((len(dates), arr.shape[1]), np.nan)
        out[rows] = arr
        fields[name] = out
    return Panel(np.asarray(dates, dtype="datetime64[D]"), panel.symbols, fields)


class StoreSource:
    """Blocks read from the DuckDB store (one query per block; a read-only connection opened on first use).

    Parameters
    ----------
    path
        The store file.
    """

    distributable = False

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.description = f"store {self.path}"
        self._store: Any = None
        self._extent: tuple[dict[str, date], dict[str, date]] | None = None

    def _open(self) -> Any:
        if self._store is None:
            from capscope.store import Store

            # opening maps DuckDB errors to StoreError itself and bounds DuckDB's page cache (store.MEMORY_LIMIT)
            self._store = Store(self.path, read_only=True)
        return self._store

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        """The open connection, with DuckDB errors met while reading (a damaged block: checksum mismatch,
        short read) turned into the store's one-line :class:`~capscope.errors.StoreError` (exit 4), as every
        other reader of the store does (:meth:`capscope.store.Store.guard`)."""
        store = self._open()
        with store.guard():
            yield store.con

    def verify(self) -> None:
        """Read every table once (DuckDB checks each block's checksum) and compare row counts with the ingest log.

        Raises
        ------
        StoreError
            The store is damaged or unreadable (the message says so and how to rebuild it).
        """
        from capscope.store.health import damaged

        problems = self._open().check_integrity()
        if problems:
            raise damaged(self.path, "; ".join(problems[:5]))

    def close(self) -> None:
        """Close the connection (it is opened again when needed)."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def first_dates(self) -> dict[str, date]:
        """First bar date of every stored symbol."""
        return self.extent()[0]

    def extent(self) -> tuple[dict[str, date], dict[str, date]]:
        """First and last bar date of every stored symbol (one query, remembered)."""
        if self._extent is None:
            from capscope.store._duck import run

            with self._reading() as con:
                rows = run(
                    con,
                    "SELECT s.symbol, min(b.date), max(b.date) FROM bars b JOIN symbols s USING (symbol_id) "
                    "GROUP BY ALL",
                )
            self._extent = ({str(s): f for s, f, _ in rows}, {str(s): la for s, _, la in rows})
        return self._extent

    def dates(self, symbols: Sequence[str], end: date | None) -> np.ndarray:
        """Union of the symbols' bar dates up to ``end`` (one ``SELECT DISTINCT``)."""
        from capscope.store._duck import arrow
        from capscope.store.query import symbol_ids

        with self._reading() as con:
            ids = [i for i, _ in symbol_ids(con, list(symbols))]
            if not ids:
                return np.array([], dtype="datetime64[D]")
            con.register("block_ids", _ids_table(ids))
            try:
                sql = "SELECT DISTINCT date FROM bars WHERE symbol_id IN (SELECT id FROM block_ids)"
                params: list[Any] = []
                if end is not None:
                    sql += " AND date <= ?"
                    params.append(end)
                table = arrow(con, sql + " ORDER BY date", params or None)
            finally:
                con.unregister("block_ids")
        return table.column("date").to_numpy().astype("datetime64[D]")

    def panel(self, symbols: Sequence[str], dates: np.ndarray, end: date | None) -> Panel:
        """The block's panel from one store query, on ``dates``."""
        from capscope.store.query import panel

        with self._reading() as con:
            block = panel(con, list(symbols), None, end, PRICE_FIELDS)
        return align(block, dates)

    def groups(self, symbols: Sequence[str]) -> list[list[str]]:
        """One group (the store reads any set of symbols with one query)."""
        return [list(symbols)]

    def __reduce__(self) -> tuple[Any, ...]:
        return (StoreSource, (str(self.path),))


def _ids_table(ids: Sequence[int]) -> Any:
    import pyarrow as pa

    return pa.table({"id": pa.array(ids, type=pa.int32())})


class ParquetSource:
    """Blocks read from a capscope Parquet dataset (:mod:`capscope.scale.dataset`); one bucket file per group.

    Parameters
    ----------
    path
        The dataset folder.
    """

    distributable = True

    def __init__(self, path: str | Path) -> None:
        from capscope.scale.dataset import ParquetDataset

        self.dataset = ParquetDataset(path)
        self.path = self.dataset.path
        self.description = f"Parquet dataset {self.path}"

    def first_dates(self) -> dict[str, date]:
        """First bar date of every symbol (from the dataset's metadata)."""
        return {s: i.first for s, i in self.dataset.info.items()}

    def extent(self) -> tuple[dict[str, date], dict[str, date]]:
        """First and last bar date of every symbol (from the dataset's metadata)."""
        return self.first_dates(), {s: i.last for s, i in self.dataset.info.items()}

    def dates(self, symbols: Sequence[str], end: date | None) -> np.ndarray:
        """Union of the symbols' bar dates up to ``end``, read one bucket at a time."""
        return self.dataset.dates(symbols, end)

    def panel(self, symbols: Sequence[str], dates: np.ndarray, end: date | None) -> Panel:
        """The block's panel, read from its bucket files only."""
        return self.dataset.panel(symbols, dates, end)

    def groups(self, symbols: Sequence[str]) -> list[list[str]]:
        """``symbols`` by bucket (bucket order; the given order within a bucket)."""
        out: dict[int, list[str]] = {}
        for s in symbols:
            out.setdefault(self.dataset.info[s].bucket, []).append(s)
        return [out[b] for b in sorted(out)]

    def __reduce__(self) -> tuple[Any, ...]:
        return (ParquetSource, (str(self.path),))


class PanelSource:
    """Blocks cut from a panel already in memory (bar files read the usual way: CSV is for interchange).

    Parameters
    ----------
    panel
        The universe's panel.
    description
        Where it came from.
    """

    distributable = False

    def __init__(self, panel: Panel, description: str) -> None:
        self.whole = panel
        self.description = description

    def first_dates(self) -> dict[str, date]:
        """First bar date of every column with a close."""
        return self.extent()[0]

    def extent(self) -> tuple[dict[str, date], dict[str, date]]:
        """First and last bar date of every column with a close."""
        has = np.isfinite(self.whole.close)
        firsts, lasts = {}, {}
        for j, s in enumerate(self.whole.symbols):
            rows = np.flatnonzero(has[:, j])
            if len(rows):
                firsts[s] = self.whole.dates[rows[0]].astype(object)
                lasts[s] = self.whole.dates[rows[-1]].astype(object)
        return firsts, lasts

    def dates(self, symbols: Sequence[str], end: date | None) -> np.ndarray:
        """Dates on which one of ``symbols`` has a close, up to ``end``."""
        cols = [self.whole.column(s) for s in symbols]
        keep = np.isfinite(self.whole.close[:, cols]).any(axis=1)
        if end is not None:
            keep &= self.whole.dates <= np.datetime64(end, "D")
        dates: np.ndarray = self.whole.dates[keep]
        return dates

    def panel(self, symbols: Sequence[str], dates: np.ndarray, end: date | None) -> Panel:
        """Columns of ``symbols`` on ``dates``."""
        from capscope.data.panel import Panel

        cols = np.asarray([self.whole.column(s) for s in symbols], dtype=np.int64)
        rows = np.searchsorted(self.whole.dates, dates)
        fields = {k: np.ascontiguousarray(v[np.ix_(rows, cols)]) for k, v in self.whole.fields.items()}
        return Panel(np.asarray(dates, dtype="datetime64[D]"), tuple(symbols), fields)

    def groups(self, symbols: Sequence[str]) -> list[list[str]]:
        """One group."""
        return [list(symbols)]


@dataclass(frozen=True, eq=False)
class Block:
    """One block of work: symbols of a source, on the universe's dates, bars up to ``end``.

    Attributes
    ----------
    source
        Where the bars are read.
    symbols
        The block's symbols (panel columns, in this order).
    dates
        The universe's date index (``datetime64[D]``).
    end
        Last date read (``None``: all).
    index
        Position of the block in its plan.
    """

    source: BlockSource
    symbols: tuple[str, ...]
    dates: np.ndarray
    end: date | None
    index: int = 0

    def panel(self) -> Panel:
        """Read the block's panel."""
        return self.source.panel(self.symbols, self.dates, self.end)


def plan_blocks(
    source: BlockSource,
    symbols: Sequence[str],
    dates: np.ndarray,
    end: date | None,
    *,
    block_size: int = BLOCK_SIZE,
    firsts: dict[str, date] | None = None,
    grouped: bool = True,
) -> list[Block]:
    """Split ``symbols`` into blocks of at most ``block_size`` (within the source's groups).

    With ``firsts`` (first bar date per symbol; for per-symbol stages only), symbols with similar histories share
    a block (sorted by first date within a group) and a block's dates start at its earliest first bar: the rows
    cut off are rows on which none of its symbols has a bar yet, which no per-symbol result can depend on.
    Per-date counts (breadth) keep the universe's full date index (no ``firsts``).

    ``grouped=False`` ignores the source's groups (e.g. Parquet buckets): the plan then depends only on the
    symbols, ``firsts`` and ``block_size``, the same for every source and engine. Stages whose partial results
    are floating-point sums (the event study) use it, so that every source and engine adds the same numbers in
    the same order and gives bit-identical results.

    Raises
    ------
    ValueError
        ``block_size`` < 1.
    """
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    out: list[Block] = []
    for group in source.groups(symbols) if grouped else [list(symbols)]:
        if firsts is not None:
            group = sorted(group, key=lambda s: (firsts[s], s))
        for k in range(0, len(group), block_size):
            members = tuple(group[k : k + block_size])
            block_dates = dates
            if firsts is not None and len(dates):
                start = np.datetime64(min(firsts[s] for s in members), "D")
                block_dates = dates[np.searchsorted(dates, start) :]
            out.append(Block(source, members, block_dates, end, len(out)))
    return out


# -- stages: one block in, one partial result out ---------------------------------------------------------------
def scan_block(
    block: Block,
    *,
    kinds: Sequence[str] | None,
    since: date | None,
    patterns: bool = False,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Events (:func:`capscope.events.scan.scan_panel`) and optionally pattern records of one block."""
    from capscope.events.scan import scan_panel
    from capscope.patterns.api import records_json

    panel = block.panel()
    events = scan_panel(panel, kinds, since=since)
    found = records_json(panel, since=since) if patterns else []
    return events, found


def patterns_block(
    block: Block,
    *,
    as_of: date | str | None,
    kinds: Sequence[str] | None,
    mode: str,
    min_quality: float,
    since: date | None = None,
    statuses: Sequence[str] | None = None,
    convert: Callable[[PatternRecord], Any] | None = None,
) -> list[Any]:
    """Pattern records (:func:`capscope.patterns.api.find_patterns`) of one block.

    ``since`` (records whose status date is on or after it) and ``statuses`` filter inside the block, so a
    whole market's history of records is never held at once; ``convert`` (a module-level function, picklable)
    turns each kept record into what the caller needs (a JSON dict, a table row: far lighter than a record's
    objects), still in the block.
    """
    from capscope.patterns.api import find_patterns

    found = find_patterns(block.panel(), as_of=as_of, kinds=kinds, mode=mode, min_quality=min_quality)
    if since is not None:
        start = np.datetime64(since, "D")
        found = [r for r in found if np.datetime64(r.date, "D") >= start]
    if statuses is not None:
        found = [r for r in found if r.status in statuses]
    return found if convert is None else [convert(r) for r in found]


def breadth_block(block: Block, *, windows: tuple[int, int, int], use_high_low: bool) -> np.ndarray:
    """Breadth counts (:func:`capscope.analytics.breadth.breadth_counts`) of one block."""
    from capscope.analytics.breadth import breadth_counts

    return breadth_counts(block.panel(), windows=windows, use_high_low=use_high_low)


def study_block(block: Block, *, signals: Sequence[Signal], params: StudyParams) -> StudyPartial:
    """Partial event study (:func:`capscope.analytics.study.study_block`) of one block.

    The placebo shifts come from ``params.seed`` alone (one shared draw per placebo) and the bootstrap is drawn
    when the partials are combined, so no random number depends on the block or on the order tasks run in.
    """
    from capscope.analytics.study import study_block as partial_study

    return partial_study(block.panel(), signals, params)
