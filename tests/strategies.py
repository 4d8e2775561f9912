"""Hypothesis strategies shared by the test suite (add yours here; keep each documented).

``bar_frames``
    Valid one-symbol bar tables (the contract of :mod:`capscope.data.schema`): strictly ascending dates, prices
    > 0, ``low <= min(open, close)``, ``high >= max(open, close)``; optionally close-only (open/high/low/volume
    empty) and with or without ``adj_close``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
from hypothesis import strategies as st

from capscope.data.schema import BAR_SCHEMA

#: Positive prices spanning penny stocks to index levels; finite, no subnormals.
prices = st.floats(
    min_value=1e-4, max_value=1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False
)


@st.composite
def bar_frames(
    draw: st.DrawFn,
    *,
    symbol: str = "SYM",
    min_rows: int = 1,
    max_rows: int = 40,
    close_only: bool | None = None,
    with_adj_close: bool | None = None,
) -> pl.DataFrame:
    """A valid bar table for one symbol.

    Parameters
    ----------
    symbol
        Symbol of every row.
    min_rows, max_rows
        Row count range.
    close_only
        ``True``: open/high/low/volume empty on every row; ``False``: full bars; ``None``: either.
    with_adj_close
        ``True``/``False`` forces ``adj_close`` filled/empty; ``None``: either.
    """
    n = draw(st.integers(min_rows, max_rows))
    if close_only is None:
        close_only = draw(st.booleans())
    if with_adj_close is None:
        with_adj_close = draw(st.booleans())
    start = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)))
    gaps = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    days, day = [], start
    for gap in gaps:
        day = day + timedelta(days=gap)
        days.append(day)
    close = draw(st.lists(prices, min_size=n, max_size=n))
    if close_only:
        open_ = high = low = volume = [None] * n
    else:
        open_ = draw(st.lists(prices, min_size=n, max_size=n))
        ups = draw(st.lists(st.floats(0.0, 0.2), min_size=n, max_size=n))
        downs = draw(st.lists(st.floats(0.0, 0.9), min_size=n, max_size=n))
        # rounding is monotonic, so x * (1 + u) >= x and x * (1 - d) <= x hold exactly in float64
        high = [max(o, c) * (1.0 + u) for o, c, u in zip(open_, close, ups, strict=True)]
        low = [min(o, c) * (1.0 - d) for o, c, d in zip(open_, close, downs, strict=True)]
        volume = [float(v) for v in draw(st.lists(st.integers(0, 10**11), min_size=n, max_size=n))]
    adj = draw(st.lists(prices, min_size=n, max_size=n)) if with_adj_close else [None] * n
    return pl.DataFrame(
        {
            "symbol": [symbol] * n,
            "date": days,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "adj_close": adj,
            "volume": volume,
        },
        schema=BAR_SCHEMA,
    )


# -- indicator series (H2) ---------------------------------------------------------------------------------
# ``ohlc_arrays``: one symbol's OHLCV as float64 numpy arrays built from a bounded random walk, with optional
# flat stretches (to hit TA-Lib's zero-denominator guards), for the indicator tests.


@st.composite
def ohlc_arrays(
    draw: st.DrawFn, *, min_size: int = 0, max_size: int = 300
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(high, low, close, volume)`` of a random-walk price series (levels 0.5 .. 5,000).

    Parameters
    ----------
    min_size, max_size
        Length range of the series.
    """
    n = draw(st.integers(min_size, max_size))
    level = draw(st.floats(0.5, 5000.0))
    steps = draw(
        st.lists(
            st.one_of(st.just(0.0), st.floats(-0.08, 0.08, allow_nan=False, allow_subnormal=False)),
            min_size=n,
            max_size=n,
        )
    )
    close = level * np.exp(np.cumsum(np.asarray(steps, dtype=np.float64)))
    spread = np.asarray(draw(st.lists(st.floats(0.0, 0.05), min_size=n, max_size=n)), dtype=np.float64)
    skew = np.asarray(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)), dtype=np.float64)
    high = close * (1.0 + spread * skew)
    low = close * (1.0 - spread * (1.0 - skew))
    volume = np.asarray(draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)), dtype=np.float64)
    return high, low, close, volume
