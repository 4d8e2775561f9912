"""The panel: aligned, time-major ``float64`` arrays over many symbols (DESIGN.md, "Panel").

Every field is a C-contiguous array of shape ``(n_bars, n_symbols)`` sharing one date index and one symbol
list; a cell is NaN where the symbol has no bar on that date (before its first bar, after its last, in gaps).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from capscope.data.schema import PRICE_FIELDS
from capscope.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl


def to_datetime64(day: date | str | np.datetime64) -> np.datetime64:
    """Convert a date-like value (``date``, ``"YYYY-MM-DD"``, ``datetime64``) to ``datetime64[D]``."""
    try:
        return np.datetime64(day, "D")  # type: ignore[call-overload]
    except ValueError as exc:
        raise UsageError(f"not a date: {day!r} (expected YYYY-MM-DD)") from exc


@dataclass(frozen=True, eq=False)
class Panel:
    """Aligned daily bars of many symbols.

    Attributes
    ----------
    dates
        ``datetime64[D]`` array of shape ``(n_bars,)``, strictly increasing.
    symbols
        Symbol of each column.
    fields
        Field name (``open``, ``high``, ``low``, ``close``, ``adj_close``, ``volume``) -> array
        ``(n_bars, n_symbols)`` of ``float64``, C-contiguous, NaN where there is no bar.
    """

    dates: np.ndarray
    symbols: tuple[str, ...]
    fields: dict[str, np.ndarray] = field(repr=False)

    def __post_init__(self) -> None:
        n_bars, n_symbols = len(self.dates), len(self.symbols)
        for name, arr in self.fields.items():
            if arr.shape != (n_bars, n_symbols):
                raise ValueError(f"field {name!r} has shape {arr.shape}, expected {(n_bars, n_symbols)}")
            if arr.dtype != np.float64 or not arr.flags.c_contiguous:
                raise ValueError(f"field {name!r} must be C-contiguous float64")
        if len(set(self.symbols)) != n_symbols:
            raise ValueError("symbols must be unique")

    # -- shape -----------------------------------------------------------------------------------------
    @property
    def n_bars(self) -> int:
        """Number of dates."""
        return len(self.dates)

    @property
    def n_symbols(self) -> int:
        """Number of symbols."""
        return len(self.symbols)

    def __getitem__(self, name: str) -> np.ndarray:
        """Return the array of one field (``panel["close"]``)."""
        try:
            return self.fields[name]
        except KeyError:
            raise UsageError(f"panel has no field {name!r}; fields: {', '.join(self.fields)}") from None

    @property
    def open(self) -> np.ndarray:
        """Open prices ``(n_bars, n_symbols)``."""
        return self["open"]

    @property
    def high(self) -> np.ndarray:
        """High prices ``(n_bars, n_symbols)``."""
        return self["high"]

    @property
    def low(self) -> np.ndarray:
        """Low prices ``(n_bars, n_symbols)``."""
        return self["low"]

    @property
    def close(self) -> np.ndarray:
        """Close prices ``(n_bars, n_symbols)``."""
        return self["close"]

    @property
    def volume(self) -> np.ndarray:
        """Volumes ``(n_bars, n_symbols)``."""
        return self["volume"]

    def column(self, symbol: str) -> int:
        """Index of ``symbol``'s column; a clear error lists close matches when it is absent."""
        try:
            return self.symbols.index(symbol)
        except ValueError:
            import difflib

            close = difflib.get_close_matches(symbol, self.symbols, n=5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(
                f"symbol {symbol!r} is not in the panel ({self.n_symbols} symbols){hint}"
            ) from None

    def series(self, symbol: str, name: str = "close") -> np.ndarray:
        """One symbol's values of one field, shape ``(n_bars,)`` (a view)."""
        return self[name][:, self.column(symbol)]

    # -- selection -------------------------------------------------------------------------------------
    def select(self, symbols: Sequence[str]) -> Panel:
        """Panel with only ``symbols`` (in that order); dates where none of them has a bar are dropped."""
        idx = [self.column(s) for s in symbols]
        fields = {k: np.ascontiguousarray(v[:, idx]) for k, v in self.fields.items()}
        sub = Panel(self.dates, tuple(symbols), fields)
        return sub.drop_empty_dates()

    def drop_empty_dates(self) -> Panel:
        """Drop dates on which no symbol has a close."""
        if self.n_symbols == 0 or "close" not in self.fields:
            return self
        keep = ~np.all(np.isnan(self.fields["close"]), axis=1)
        if keep.all():
            return self
        return Panel(
            self.dates[keep], self.symbols, {k: np.ascontiguousarray(v[keep]) for k, v in self.fields.items()}
        )

    def truncate(self, as_of: date | str | np.datetime64) -> Panel:
        """Panel holding only the bars dated on or before ``as_of`` (for as-of / no-look-ahead work)."""
        end = int(np.searchsorted(self.dates, to_datetime64(as_of), side="right"))
        return Panel(
            self.dates[:end], self.symbols, {k: np.ascontiguousarray(v[:end]) for k, v in self.fields.items()}
        )

    def index_of(self, day: date | str | np.datetime64) -> int:
        """Index of the last date on or before ``day`` (-1 if ``day`` precedes the panel)."""
        return int(np.searchsorted(self.dates, to_datetime64(day), side="right")) - 1

    # -- conversion ------------------------------------------------------------------------------------
    def frame(self, name: str = "close") -> pd.DataFrame:
        """Wide pandas DataFrame of one field: index dates, columns symbols (no copy of the values)."""
        import pandas as pd

        return pd.DataFrame(
            self[name], index=pd.DatetimeIndex(self.dates, name="date"), columns=list(self.symbols)
        )

    @classmethod
    def from_bars(cls, bars: pl.DataFrame | pd.DataFrame, fields: Iterable[str] = PRICE_FIELDS) -> Panel:
        """Build a panel from a bar table (long format: ``symbol``, ``date`` and the price fields).

        Vectorized: one sort, one ``searchsorted`` for the dates and one scatter per field.
        """
        import polars as pl

        frame = bars if isinstance(bars, pl.DataFrame) else pl.from_pandas(bars)
        if frame.height == 0:
            return cls(np.array([], dtype="datetime64[D]"), (), {f: np.empty((0, 0)) for f in fields})
        # dense ranks give each symbol / date its column / row without a Python loop
        codes = frame.select(
            (pl.col("symbol").rank("dense") - 1).cast(pl.Int64).alias("col"),
            (pl.col("date").rank("dense") - 1).cast(pl.Int64).alias("row"),
        )
        col = codes["col"].to_numpy()
        row = codes["row"].to_numpy()
        symbols = tuple(frame["symbol"].unique().sort().to_list())
        dates = frame["date"].unique().sort().to_numpy().astype("datetime64[D]")
        out: dict[str, np.ndarray] = {}
        for name in fields:
            arr = np.full((len(dates), len(symbols)), np.nan)
            if name in frame.columns:
                arr[row, col] = frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
            out[name] = arr
        return cls(dates, symbols, out)

    def __repr__(self) -> str:
        span = f"{self.dates[0]}..{self.dates[-1]}" if self.n_bars else "empty"
        return f"Panel({self.n_bars} bars x {self.n_symbols} symbols, {span}, fields={list(self.fields)})"


def panel_equal(a: Panel, b: Panel) -> bool:
    """True when two panels hold the same dates, symbols and values (NaN equal to NaN)."""
    if a.symbols != b.symbols or not np.array_equal(a.dates, b.dates) or set(a.fields) != set(b.fields):
        return False
    return all(np.array_equal(a.fields[k], b.fields[k], equal_nan=True) for k in a.fields)
