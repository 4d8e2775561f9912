"""Small helpers around the DuckDB Python API (2.x) used by the store.

DuckDB 2 refuses new work on a connection while an ``execute()`` result is unread, and warns when Arrow output
is taken from a DB-API result; these helpers always drain statements and take Arrow from relations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa


def run(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Execute one statement and return all its rows (an empty list for statements without a result)."""
    return con.execute(sql, params).fetchall() if params else con.execute(sql).fetchall()


def arrow(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> pa.Table:
    """Run a query and return its result as one Arrow table."""
    rel = con.sql(sql, params=params) if params else con.sql(sql)
    if rel is None:  # pragma: no cover - only for statements without a result
        raise ValueError(f"statement returned no relation: {sql}")
    return rel.to_arrow_table()
