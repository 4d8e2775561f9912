"""The bar-table contract (see DESIGN.md, "Bar table").

A validated bar table is a :class:`polars.DataFrame` with exactly the columns of :data:`BAR_COLUMNS`, in that
order, with the dtypes of :data:`BAR_SCHEMA`, sorted by ``(symbol, date)`` and unique on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
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

if TYPE_CHECKING:
    #: polars dtypes of a validated bar table.
    BAR_SCHEMA: dict[str, pl.DataType]


def _bar_schema() -> dict[str, pl.DataType]:
    import polars as pl

    return {
        "symbol": pl.String(),
        "date": pl.Date(),
        "open": pl.Float64(),
        "high": pl.Float64(),
        "low": pl.Float64(),
        "close": pl.Float64(),
        "adj_close": pl.Float64(),
        "volume": pl.Float64(),
    }


def __getattr__(name: str) -> Any:
    """Build :data:`BAR_SCHEMA` on first use (PEP 562), so that importing this module (e.g. for
    :data:`PRICE_FIELDS`) does not import polars; ``capscope brief`` never needs it."""
    if name == "BAR_SCHEMA":
        value = _bar_schema()
        globals()["BAR_SCHEMA"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def empty_bars() -> pl.DataFrame:
    """Return an empty bar table with the contract's schema."""
    import polars as pl

    return pl.DataFrame(schema=_bar_schema())
