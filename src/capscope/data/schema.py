"""The bar-table contract (see DESIGN.md, "Bar table").

A validated bar table is a :class:`polars.DataFrame` with exactly the columns of :data:`BAR_COLUMNS`, in that
order, with the dtypes of :data:`BAR_SCHEMA`, sorted by ``(symbol, date)`` and unique on it.
"""

from __future__ import annotations

from typing import Final

import polars as pl

#: Column order of a validated bar table.
BAR_COLUMNS: Final[tuple[str, ...]] = (
    "symbol",
    "date",
    "open",
    "high",
    "low",
    "close",
    "adj_close",
    "volume",
)

#: Price fields of a bar, in the order a panel stores them.
PRICE_FIELDS: Final[tuple[str, ...]] = ("open", "high", "low", "close", "adj_close", "volume")

#: polars dtypes of a validated bar table.
BAR_SCHEMA: Final[dict[str, pl.DataType]] = {
    "symbol": pl.String(),
    "date": pl.Date(),
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "adj_close": pl.Float64(),
    "volume": pl.Float64(),
}


def empty_bars() -> pl.DataFrame:
    """Return an empty bar table with the contract's schema."""
    return pl.DataFrame(schema=BAR_SCHEMA)
