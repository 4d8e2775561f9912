"""Snapshot statistics of one symbol's bars as of a date (last close, 1-day change, YTD, 52-week range).

Used by ``capscope show`` and ``capscope overview``. Only bars dated on or before ``as_of`` are used.

Definitions (the usual market-data conventions, e.g. the Wall Street Journal's market-data tables):

* **YTD return** = last close / last close of the previous calendar year - 1 (``None`` when the data has no bar
  in the previous year).
* **52-week high / low** = highest ``high`` / lowest ``low`` over the bars dated after ``as_of - 365 days``
  (the intraday range; for close-only data the closes are used).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np

from capscope.errors import UsageError

if TYPE_CHECKING:
    import polars as pl

#: Length of the "52-week" window in calendar days.
WINDOW_52W_DAYS = 365


@dataclass(frozen=True)
class Snapshot:
    """Where one symbol stands on its last bar on or before ``as_of``."""

    symbol: str
    date: dt.date
    close: float
    change_1d: float | None
    ytd_base_date: dt.date | None
    ytd_return: float | None
    high_52w: float
    high_52w_date: dt.date
    low_52w: float
    low_52w_date: dt.date
    bars: int

    @property
    def from_high_52w(self) -> float:
        """Last close relative to the 52-week high, minus one (<= 0)."""
        return self.close / self.high_52w - 1.0


def snapshot(bars: pl.DataFrame, as_of: dt.date | None = None) -> Snapshot:
    """Compute a :class:`Snapshot` from one symbol's bar table.

    Parameters
    ----------
    bars
        Bar table of exactly one symbol (any order).
    as_of
        Last date that may be used; default the last bar.

    Raises
    ------
    UsageError
        No bar on or before ``as_of``, or more than one symbol.
    """
    import polars as pl

    symbols = bars["symbol"].unique().to_list()
    if len(symbols) > 1:
        raise UsageError(f"snapshot needs one symbol, got {', '.join(map(str, symbols))}")
    frame = bars.sort("date")
    if as_of is not None:
        frame = frame.filter(pl.col("date") <= as_of)
    if frame.height == 0:
        what = symbols[0] if symbols else "the selection"
        raise UsageError(f"{what} has no bar on or before {as_of}")
    days = frame["date"].to_numpy().astype("datetime64[D]")
    close = frame["close"].to_numpy()
    high = frame["high"].fill_null(frame["close"]).to_numpy()
    low = frame["low"].fill_null(frame["close"]).to_numpy()
    last_day = days[-1].astype(object)
    last = float(close[-1])
    change = float(close[-1] / close[-2] - 1.0) if len(close) > 1 else None
    year_start = np.datetime64(f"{last_day.year}-01-01", "D")
    prior = int(np.searchsorted(days, year_start, side="left")) - 1
    ytd_base = days[prior].astype(object) if prior >= 0 else None
    ytd = float(last / close[prior] - 1.0) if prior >= 0 else None
    first = int(
        np.searchsorted(days, np.datetime64(last_day - timedelta(days=WINDOW_52W_DAYS), "D"), side="right")
    )
    hi = first + int(np.argmax(high[first:]))
    lo = first + int(np.argmin(low[first:]))
    return Snapshot(
        symbol=str(symbols[0]),
        date=last_day,
        close=last,
        change_1d=change,
        ytd_base_date=ytd_base,
        ytd_return=ytd,
        high_52w=float(high[hi]),
        high_52w_date=days[hi].astype(object),
        low_52w=float(low[lo]),
        low_52w_date=days[lo].astype(object),
        bars=len(close),
    )
