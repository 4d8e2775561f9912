"""Read queries over the store: bars, symbol summary, panel loading.

Panel loading is one SQL query that fetches only numbers (``symbol_id`` INTEGER, ``date`` as Arrow date32,
i.e. days since the epoch, the requested DOUBLE fields) as Arrow, followed by a one-pass numba scatter
(:mod:`capscope.store.scatter`) into the time-major arrays of a :class:`~capscope.data.panel.Panel`: no
per-row or per-symbol Python.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from capscope.data.schema import PRICE_FIELDS
from capscope.errors import UsageError
from capscope.store._duck import arrow, run

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from capscope.data.panel import Panel

DateLike = date | str | np.datetime64


def to_date(day: DateLike | None) -> date | None:
    """Convert ``date``/``"YYYY-MM-DD"``/``datetime64`` to :class:`datetime.date` (``None`` stays ``None``)."""
    if day is None:
        return None
    from capscope.data.panel import to_datetime64

    out = to_datetime64(day).astype(object)
    if not isinstance(out, date):  # pragma: no cover - NaT
        raise UsageError(f"not a date: {day!r} (expected YYYY-MM-DD)")
    return out


def symbol_ids(con: duckdb.DuckDBPyConnection, symbols: Sequence[str] | None) -> list[tuple[int, str]]:
    """``(symbol_id, symbol)`` for ``symbols`` in the given order (all symbols, sorted, when ``None``).

    Raises
    ------
    UsageError
        A symbol is not in the store (the message lists close matches).
    """
    known = dict(run(con, "SELECT symbol, symbol_id FROM symbols"))
    if symbols is None:
        return [(known[s], s) for s in sorted(known)]
    if isinstance(symbols, str):
        symbols = [symbols]
    missing = [s for s in symbols if s not in known]
    if missing:
        hints = []
        for sym in missing:
            close = difflib.get_close_matches(sym.upper(), list(known), n=3)
            hints.append(f"{sym} (did you mean {', '.join(close)}?)" if close else sym)
        where = (
            "the store is empty: run `capscope ingest` first" if not known else f"{len(known)} symbols stored"
        )
        raise UsageError(f"not in the store: {'; '.join(hints)} ({where})")
    if len(set(symbols)) != len(symbols):
        raise UsageError(f"symbols listed more than once: {', '.join(symbols)}")
    return [(known[s], s) for s in symbols]


def _where(
    ids: list[int] | None, start: date | None, end: date | None, prefix: str = ""
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if ids is not None:
        clauses.append(f"{prefix}symbol_id IN (SELECT unnest(?::INTEGER[]))")
        params.append(ids)
    if start is not None:
        clauses.append(f"{prefix}date >= ?")
        params.append(start)
    if end is not None:
        clauses.append(f"{prefix}date <= ?")
        params.append(end)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def bars(
    con: duckdb.DuckDBPyConnection,
    symbols: Sequence[str] | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
) -> pl.DataFrame:
    """Bar table (DESIGN.md "Bar table") of ``symbols`` between ``start`` and ``end`` (inclusive).

    Returns a :class:`polars.DataFrame` with the columns and dtypes of
    :data:`~capscope.data.schema.BAR_SCHEMA`, sorted by ``(symbol, date)``.
    """
    import polars as pl

    from capscope.data.schema import BAR_SCHEMA

    ids = None if symbols is None else [i for i, _ in symbol_ids(con, symbols)]
    where, params = _where(ids, to_date(start), to_date(end), prefix="b.")
    cols = ", ".join(f"b.{c}" for c in PRICE_FIELDS)
    table = arrow(
        con,
        f"SELECT s.symbol, b.date, {cols} FROM bars b JOIN symbols s USING (symbol_id){where} "
        "ORDER BY s.symbol, b.date",
        params,
    )
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.cast(BAR_SCHEMA)  # type: ignore[arg-type]


#: One row per stored symbol: ``symbol, first_date, last_date, rows, source``, sorted by symbol.
SYMBOLS_SUMMARY_SQL = """WITH agg AS (
               SELECT symbol_id, min(date) AS first_date, max(date) AS last_date, count(*) AS rows
               FROM bars GROUP BY symbol_id),
           src AS (
               SELECT symbol, arg_max(path, ingest_id) AS source
               FROM ingest_files WHERE rows_new > 0 GROUP BY symbol)
           SELECT s.symbol, a.first_date, a.last_date, a.rows, src.source
           FROM agg a JOIN symbols s USING (symbol_id) LEFT JOIN src USING (symbol)
           ORDER BY s.symbol"""


def symbols_summary_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, date, date, int, str | None]]:
    """:func:`symbols_summary` as plain tuples (no polars import: the light path for ``capscope brief``)."""
    return [(str(s), f, t, int(n), src) for s, f, t, n, src in run(con, SYMBOLS_SUMMARY_SQL)]


def symbols_summary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per stored symbol: ``symbol, first_date, last_date, rows, source`` (sorted by symbol).

    ``source`` is the most recently ingested file that added bars for the symbol.
    """
    import polars as pl

    table = arrow(con, SYMBOLS_SUMMARY_SQL)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.cast({"rows": pl.Int64})


def panel(
    con: duckdb.DuckDBPyConnection,
    symbols: Sequence[str] | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    fields: Sequence[str] = PRICE_FIELDS,
) -> Panel:
    """Load a :class:`~capscope.data.panel.Panel` straight from the store.

    Parameters
    ----------
    symbols
        Columns in this order (a column of NaN if a symbol has no bar in the range); ``None`` means every
        symbol with a bar in the range, sorted (as ``Panel.from_bars`` orders them).
    start, end
        Inclusive date range.
    fields
        Any of ``open, high, low, close, adj_close, volume``.

    Returns
    -------
    Panel
        Dates are the union of the selected symbols' bar dates in the range; NaN where a symbol has no bar or
        a NULL value.
    """
    from capscope.data.panel import Panel

    fields = tuple(fields)
    unknown = [f for f in fields if f not in PRICE_FIELDS]
    if unknown:
        raise UsageError(f"unknown field(s) {', '.join(unknown)}; fields: {', '.join(PRICE_FIELDS)}")
    chosen = symbol_ids(con, symbols)
    ids = [i for i, _ in chosen]
    where, params = _where(None if symbols is None else ids, to_date(start), to_date(end))
    select = ", ".join(("symbol_id", "date", *fields))
    table = arrow(con, f"SELECT {select} FROM bars{where}", params)
    names = tuple(s for _, s in chosen)
    if table.num_rows == 0:
        empty = np.empty((0, len(names)))
        return Panel(np.array([], dtype="datetime64[D]"), names, {f: empty.copy() for f in fields})

    from capscope.store.scatter import scatter

    sid = table.column("symbol_id").to_numpy()
    day = table.column("date").to_numpy().view(np.int64)  # date32 -> datetime64[D] -> days since epoch
    lut = np.full(max(ids) + 1, -1, dtype=np.int64)
    lut[np.asarray(ids)] = np.arange(len(ids))
    days, cols, arrays = scatter(day, sid, lut, len(ids), [table.column(f).to_numpy() for f in fields])
    dates = days.astype("datetime64[D]")
    if symbols is None:
        # like Panel.from_bars: only symbols with a bar in the range get a column
        keep = np.flatnonzero(np.bincount(cols, minlength=len(ids)) > 0)
        if len(keep) < len(ids):
            names = tuple(names[k] for k in keep)
            arrays = [np.ascontiguousarray(arr[:, keep]) for arr in arrays]
    return Panel(dates, names, dict(zip(fields, arrays, strict=True)))
