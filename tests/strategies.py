"""Hypothesis strategies shared by the test suite (add yours here; keep each documented).

``bar_frames``
    Valid one-symbol bar tables (the contract of :mod:`capscope.data.schema`): strictly ascending dates, prices
    > 0, ``low <= min(open, close)``, ``high >= max(open, close)``; optionally close-only (open/high/low/volume
    empty) and with or without ``adj_close``.
``recon_universes``
    Universe tables for the reconstitution simulator: ties in cap, ineligible rows, random current members/styles.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

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


# -- brief panels (issue 14) ---------------------------------------------------------------------------------
# ``brief_panels``: the four series of a brief (RUT, GSPC, IWO, IWN) and a small stock universe as random walks on
# business days, each series ending on its own random date (a file that stopped earlier), for the brief's
# staleness and period-label properties. ``make_brief_panels`` builds one deterministically from its arguments.

BRIEF_SYMBOLS = ("RUT", "GSPC", "IWO", "IWN")


def _walk_fields(rng: np.random.Generator, n_bars: int, k: int) -> dict[str, np.ndarray]:
    rets = rng.normal(0.0003, 0.012, size=(n_bars, k))
    close = 100.0 * np.exp(np.cumsum(rets, axis=0))
    open_ = close * np.exp(rng.normal(0.0, 0.003, size=(n_bars, k)))
    high = np.maximum(open_, close) * (1.0 + np.abs(rng.normal(0.0, 0.004, size=(n_bars, k))))
    low = np.minimum(open_, close) * (1.0 - np.abs(rng.normal(0.0, 0.004, size=(n_bars, k))))
    volume = rng.integers(1_000, 1_000_000, size=(n_bars, k)).astype(np.float64)
    return {
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "adj_close": np.full((n_bars, k), np.nan),
        "volume": volume,
    }


def make_brief_panels(
    seed: int,
    n_bars: int,
    cuts: dict[str, int] | None = None,
    *,
    n_stocks: int = 6,
    universe_cut: int = 0,
    first_date: str = "2023-01-02",
) -> tuple[Any, Any]:
    """``(prices, universe)`` panels: random walks on business days from ``first_date``.

    ``cuts`` maps a symbol to the number of bars removed from its end (its file stopped that many sessions
    early); ``universe_cut`` does the same for every stock of the universe.
    """
    from capscope.data.panel import Panel

    rng = np.random.default_rng(seed)
    dates = np.busday_offset(first_date, np.arange(n_bars), roll="forward").astype("datetime64[D]")
    prices = _walk_fields(rng, n_bars, len(BRIEF_SYMBOLS))
    for j, symbol in enumerate(BRIEF_SYMBOLS):
        cut = (cuts or {}).get(symbol, 0)
        if cut:
            for arr in prices.values():
                arr[n_bars - cut :, j] = np.nan
    stocks = _walk_fields(rng, n_bars, n_stocks)
    if universe_cut:
        for arr in stocks.values():
            arr[n_bars - universe_cut :, :] = np.nan
    names = tuple(f"S{i:02d}" for i in range(n_stocks))
    as_panel = {k: np.ascontiguousarray(v) for k, v in prices.items()}
    universe = Panel(dates, names, {k: np.ascontiguousarray(v) for k, v in stocks.items()})
    return Panel(dates, BRIEF_SYMBOLS, as_panel), universe.drop_empty_dates()


@st.composite
def brief_panels(draw: st.DrawFn, *, min_bars: int = 300, max_bars: int = 420) -> tuple[Any, Any, str]:
    """``(prices, universe, as_of)``: :func:`make_brief_panels` with random series ends and a random as-of date.

    The main symbol (RUT) reaches the last bar or stops a few bars early; every other series (and the universe)
    either reaches it, stops within a few sessions, or stops up to ~8 months early. ``as_of`` is a business
    day in the last third of the data (on or after some ends, before others).
    """
    n = draw(st.integers(min_bars, max_bars))
    seed = draw(st.integers(0, 2**31 - 1))
    early = st.one_of(st.just(0), st.integers(1, 8), st.integers(9, 170))
    cuts = {"RUT": draw(st.integers(0, 3))}
    for symbol in BRIEF_SYMBOLS[1:]:
        cuts[symbol] = draw(early)
    if draw(st.booleans()):
        cuts["IWN"] = cuts["IWO"]  # growth and value files usually stop together
    universe_cut = draw(early)
    prices, universe = make_brief_panels(seed, n, cuts, universe_cut=universe_cut)
    as_of_row = draw(st.integers(2 * n // 3, n - 1))
    return prices, universe, str(prices.dates[as_of_row])


# -- reconstitution universes ------------------------------------------------------------------------------------
#: Security types the reconstitution rules treat as eligible and a few excluded ones.
_RECON_TYPES = ("common", "common", "common", "reit", "adr", "mlp")


@st.composite
def recon_universes(draw: st.DrawFn, *, max_rows: int = 60, members: bool = True) -> pl.DataFrame:
    """A valid universe table (:func:`capscope.data.universe.read_universe` columns) of up to ``max_rows`` rows.

    Caps come from a small set of values part of the time, so ties occur; some rows break an eligibility rule
    (excluded type, non-US, price < $1, tiny cap, low float or votes). With ``members`` the rows carry random
    current indexes and styles, else none.
    """
    n = draw(st.integers(min_value=1, max_value=max_rows))
    caps = draw(
        st.lists(
            st.one_of(
                st.floats(min_value=1e6, max_value=3e12, allow_nan=False, allow_infinity=False),
                st.sampled_from([5e8, 5e9]),  # ties
            ),
            min_size=n,
            max_size=n,
        )
    )
    # the other columns from a drawn seed: per-value draws make generation slow on a loaded machine
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**32 - 1)))
    prices = rng.choice([0.5, 2.0, 10.0, 55.0, 300.0], n)
    growth_forecast = rng.uniform(-0.2, 0.6, n)
    growth_forecast[rng.random(n) < 0.3] = np.nan
    current = rng.choice(np.array([None, "R1000", "R2000"], dtype=object), n) if members else [None] * n
    style = rng.choice([0.0, 1.0, np.nan, 0.5], n) if members else np.full(n, np.nan)
    if members:
        split = rng.random(n) < 0.3
        style[split] = rng.uniform(0.0, 1.0, int(split.sum()))
    adv = rng.uniform(0.0, 1e7, n)
    adv[rng.random(n) < 0.3] = np.nan
    rows = []
    for i in range(n):
        rows.append(
            {
                "symbol": f"S{i:03d}",
                "price": float(prices[i]),
                "shares_total": caps[i] / float(prices[i]),
                "float_fraction": float(rng.choice([0.02, 0.3, 0.9, 1.0])),
                "voting_fraction": float(rng.choice([0.03, 0.5, 1.0])),
                "country": str(rng.choice(["US", "US", "US", "CA"])),
                "security_type": str(rng.choice(_RECON_TYPES)),
                "book_to_price": float(rng.uniform(-0.5, 3.0)),
                "sales_growth_5y": float(rng.uniform(-0.3, 0.5)),
                "growth_forecast": None if np.isnan(growth_forecast[i]) else float(growth_forecast[i]),
                "current_index": current[i],
                "current_style": None if np.isnan(style[i]) else float(style[i]),
                "adv": None if np.isnan(adv[i]) else float(adv[i]),
            }
        )
    schema = {
        "symbol": pl.String,
        "price": pl.Float64,
        "shares_total": pl.Float64,
        "float_fraction": pl.Float64,
        "voting_fraction": pl.Float64,
        "country": pl.String,
        "security_type": pl.String,
        "book_to_price": pl.Float64,
        "sales_growth_5y": pl.Float64,
        "growth_forecast": pl.Float64,
        "current_index": pl.String,
        "current_style": pl.Float64,
        "adv": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)
