"""Events on the real sample data: TA-Lib cross-check of every sign change, and no look-ahead.

* Every sign change of (fast - slow), (close - MA), (MACD - signal), MACD, (RSI - 70) and (RSI - 30), with the
  indicators computed by TA-Lib itself on each symbol's bars, is exactly one event: none missing, none doubled.
* For 50 random (symbol, date) pairs, the events (and levels) computed on the full data and cut at the date
  equal those computed on data truncated at the date, event for event.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from capscope.events import records as R
from capscope.events.crosses import IndicatorCache
from capscope.events.levels import levels_as_of
from capscope.events.scan import ScanParams, scan_panel

pytestmark = pytest.mark.sample

CROSS_KINDS = ["ma_cross", "price_cross", "macd", "macd_zero", "rsi"]


def _sign_changes(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions and new signs where the sign of d changes between consecutive finite non-zero entries."""
    idx = np.nonzero(np.isfinite(d) & (d != 0))[0]
    s = np.sign(d[idx])
    change = np.nonzero(s[1:] != s[:-1])[0] + 1
    return idx[change], s[change]


def _expected_events(panel) -> Counter:  # type: ignore[no-untyped-def]
    """(symbol, date, kind, parameter) of every sign change, indicators from TA-Lib on each symbol's bars."""
    import talib

    out: Counter = Counter()
    p = ScanParams()
    for j, symbol in enumerate(panel.symbols):
        close_all = panel.close[:, j]
        rows = np.nonzero(np.isfinite(close_all))[0]
        close = np.ascontiguousarray(close_all[rows])
        dates = panel.dates[rows]

        def add(d: np.ndarray, up: str, down: str, tag: object, dates=dates, symbol=symbol) -> None:  # type: ignore[no-untyped-def]
            pos, sign = _sign_changes(d)
            for t, s in zip(pos, sign, strict=True):
                out[(symbol, dates[t], up if s > 0 else down, tag)] += 1

        ma = {"sma": talib.SMA, "ema": talib.EMA}
        for kind, fast, slow in p.ma_pairs:
            add(
                ma[kind](close, fast) - ma[kind](close, slow),
                R.GOLDEN_CROSS,
                R.DEATH_CROSS,
                (kind, fast, slow),
            )
        for w in p.price_windows:
            add(close - talib.SMA(close, w), R.PRICE_CROSS_ABOVE, R.PRICE_CROSS_BELOW, ("sma", w))
        macd, signal, _ = talib.MACD(close, *p.macd)
        add(macd - signal, R.MACD_BULLISH_CROSS, R.MACD_BEARISH_CROSS, None)
        add(macd, R.MACD_ZERO_CROSS_UP, R.MACD_ZERO_CROSS_DOWN, None)
        rsi = talib.RSI(close, p.rsi_window)
        add(rsi - p.rsi_upper, R.RSI_OVERBOUGHT, R.RSI_OVERBOUGHT_EXIT, p.rsi_upper)
        add(rsi - p.rsi_lower, R.RSI_OVERSOLD_EXIT, R.RSI_OVERSOLD, p.rsi_lower)
    return out


def _actual_events(ev: pd.DataFrame) -> Counter:
    out: Counter = Counter()
    for rec in ev.itertuples(index=False):
        kind = rec.kind
        if kind in (R.GOLDEN_CROSS, R.DEATH_CROSS):
            tag: object = (rec.ma, int(rec.fast), int(rec.slow))
        elif kind in (R.PRICE_CROSS_ABOVE, R.PRICE_CROSS_BELOW):
            tag = (rec.ma, int(rec.window))
        elif kind.startswith("rsi"):
            tag = float(rec.threshold)
        else:
            tag = None
        out[(rec.symbol, np.datetime64(rec.date, "D"), kind, tag)] += 1
    return out


@pytest.mark.parametrize("which", ["prices_panel", "stocks_panel"])
def test_every_sign_change_is_one_event(which: str, request: pytest.FixtureRequest) -> None:
    panel = request.getfixturevalue(which)
    ev = scan_panel(panel, CROSS_KINDS)
    actual = _actual_events(ev)
    expected = _expected_events(panel)
    assert max(actual.values()) == 1, "an event is doubled"
    missing = expected - actual
    extra = actual - expected
    assert not missing and not extra, (sorted(missing)[:5], sorted(extra)[:5])
    assert len(ev) == sum(expected.values()) > 1000
    # values carried by the events are the indicator values on the event bar
    assert (
        ev.loc[ev.kind == R.GOLDEN_CROSS, "fast_value"] > ev.loc[ev.kind == R.GOLDEN_CROSS, "slow_value"]
    ).all()
    bull = ev[ev.kind == R.MACD_BULLISH_CROSS]
    assert (bull["above_zero"].astype(bool) == (bull["macd"] > 0)).all()


def _pairs(panel, n: int, seed: int) -> list[tuple[str, np.datetime64]]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        j = int(rng.integers(panel.n_symbols))
        rows = np.nonzero(np.isfinite(panel.close[:, j]))[0]
        t = int(rng.integers(rows[0] + min(60, len(rows) - 1), rows[-1] + 1))
        out.append((panel.symbols[j], panel.dates[t]))
    return out


@pytest.mark.parametrize(("which", "seed"), [("prices_panel", 7), ("stocks_panel", 8)])
def test_no_look_ahead_random_pairs(which: str, seed: int, request: pytest.FixtureRequest) -> None:
    """25 + 25 random (symbol, date) pairs: full-data events cut at D == events of data truncated at D."""
    panel = request.getfixturevalue(which)
    pairs = _pairs(panel, 25, seed)
    symbols = sorted({s for s, _ in pairs})
    full_panel = panel.select(symbols)
    cache = IndicatorCache(full_panel)
    full = scan_panel(full_panel, cache=cache)  # all kinds, all history, several symbols side by side
    checked = 0
    for i, (symbol, day) in enumerate(pairs):
        trunc_panel = panel.select([symbol]).truncate(day)
        trunc = scan_panel(trunc_panel)
        cut = full[(full.symbol == symbol) & (full.date <= pd.Timestamp(day))].reset_index(drop=True)
        # the symbol categories are the scanned panel's symbols: one here, several in the full scan
        cut["symbol"] = cut["symbol"].cat.set_categories([symbol])
        pd.testing.assert_frame_equal(trunc, cut)
        if i < 3:  # "scan --as-of D" on the full data is the same again
            pd.testing.assert_frame_equal(scan_panel(panel.select([symbol]), as_of=day), trunc)
        # the level snapshot as of D from the full history equals the one from the truncated data
        snap = levels_as_of(full_panel, day, cache=cache)
        pd.testing.assert_frame_equal(
            snap[snap.symbol == symbol].reset_index(drop=True), levels_as_of(trunc_panel)
        )
        checked += len(trunc)
    assert checked > 500  # the pairs are not trivially empty


def test_sample_has_every_kind(prices_panel) -> None:  # type: ignore[no-untyped-def]
    ev = scan_panel(prices_panel.select(["RUT", "GSPC", "IWM"]))
    assert set(ev.kind) == set(R.EVENT_KINDS)
    # failed breakouts point back at an earlier breakout of the same symbol on the same level
    fails = ev[ev.kind == R.BREAKOUT_FAILED]
    ups = ev[ev.kind == R.BREAKOUT_ABOVE]
    merged = fails.merge(
        ups, left_on=["symbol", "breakout_date", "level"], right_on=["symbol", "date", "level"]
    )
    assert len(merged) == len(fails)
    assert (fails["date"] > fails["breakout_date"]).all()
    assert ((fails["date"] - fails["breakout_date"]).dt.days <= 30).all()  # 10 bars
