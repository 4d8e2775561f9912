"""Incremental updates equal batch recomputation bit for bit; states serialize exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capscope.errors import UsageError
from capscope.indicators import api as ind
from capscope.indicators.stream import CoreState, update
from tests.test_indicators_kernels import ragged_panels

SMALL = {
    "sma_fast": 3,
    "sma_slow": 9,
    "ema_window": 4,
    "macd_fast": 6,
    "macd_slow": 4,  # reversed on purpose: swapped as TA-Lib does
    "macd_signal": 3,
    "rsi_window": 5,
    "atr_window": 4,
    "bb_window": 5,
    "bb_nbdev_up": 1.5,
    "bb_nbdev_dn": 2.5,
}


def _stream_equals_batch(h: np.ndarray, lo: np.ndarray, c: np.ndarray, split: int, **params: float) -> None:
    batch = ind.core(h, lo, c, **params)
    state = CoreState.from_history(h[:split], lo[:split], c[:split], **params)
    for t in range(split, c.shape[0]):
        state = CoreState.from_bytes(state.to_bytes()) if t % 7 == 0 else state
        row = update(state, {"high": h[t], "low": lo[t], "close": c[t]})
        for name, got, want in zip(batch._fields, row, batch, strict=True):
            np.testing.assert_array_equal(got, want[t], err_msg=f"{name} at bar {t}")


@settings(max_examples=20, deadline=None)
@given(ragged_panels(max_cols=4, max_bars=60), st.data())
def test_stream_equals_batch_generated(panel: tuple[np.ndarray, ...], data: st.DataObject) -> None:
    h, lo, c, _ = panel
    split = data.draw(st.integers(0, c.shape[0]))
    _stream_equals_batch(h, lo, c, split, **SMALL)


@pytest.mark.sample
def test_stream_equals_batch_on_stock_panel(stocks_panel) -> None:  # type: ignore[no-untyped-def]
    """Default parameters (SMA 50/200, EMA 20, MACD 12/26/9, RSI 14, ATR 14, BB 20/2) on all stocks."""
    h, lo, c = stocks_panel.high, stocks_panel.low, stocks_panel.close
    _stream_equals_batch(h, lo, c, split=c.shape[0] - 60)


@pytest.mark.sample
def test_stream_equals_batch_on_index_panel(prices_panel) -> None:  # type: ignore[no-untyped-def]
    """Index/ETF panel: symbols start decades apart (leading NaN) and trade on different calendars."""
    h, lo, c = prices_panel.high, prices_panel.low, prices_panel.close
    _stream_equals_batch(h[-3000:], lo[-3000:], c[-3000:], split=2900)


def test_history_then_updates_equals_history_of_everything() -> None:
    rng = np.random.default_rng(7)
    c = 20 * np.exp(np.cumsum(rng.normal(0, 0.03, (300, 5)), axis=0))
    h, lo = c * 1.02, c * 0.97
    a = CoreState.from_history(h, lo, c)
    b = CoreState.from_history(h[:100], lo[:100], c[:100])
    for t in range(100, 300):
        update(b, (h[t], lo[t], c[t]))
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.ring, b.ring)


def test_serialization_round_trip_is_exact() -> None:
    rng = np.random.default_rng(11)
    c = 5 + np.abs(np.cumsum(rng.normal(size=(80, 3)), axis=0))
    state = CoreState.from_history(c + 0.1, c - 0.1, c, **SMALL)
    again = CoreState.from_bytes(state.to_bytes())
    assert again.params == state.params
    for field in ("values", "counts", "ring"):
        got, want = getattr(again, field), getattr(state, field)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    with pytest.raises(UsageError, match="not a serialized CoreState"):
        CoreState.from_bytes(b"garbage")


def test_update_rejects_bad_rows() -> None:
    state = CoreState.empty(3)
    with pytest.raises(UsageError, match="3 values"):
        update(state, (np.ones(2), np.ones(2), np.ones(2)))
    with pytest.raises(UsageError, match="high, low and close"):
        update(state, {"close": np.ones(3)})
    with pytest.raises(UsageError, match="unknown core parameters"):
        CoreState.empty(3, sma=5)
    with pytest.raises(UsageError, match="rsi_window"):
        CoreState.empty(3, rsi_window=1)


def test_missing_bar_leaves_state_untouched() -> None:
    rng = np.random.default_rng(5)
    c = 10 + np.abs(np.cumsum(rng.normal(size=(60, 2)), axis=0))
    state = CoreState.from_history(c + 0.5, c - 0.5, c, **SMALL)
    before = state.copy()
    row = np.array([np.nan, np.nan])
    out = update(state, (row, row, row))
    assert all(np.isnan(o).all() for o in out)
    np.testing.assert_array_equal(state.values, before.values)
    np.testing.assert_array_equal(state.counts, before.counts)
