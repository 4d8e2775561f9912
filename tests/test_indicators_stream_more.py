"""Streaming WMA, ROC, TRANGE, STOCH, ADX/+DI/-DI and OBV equals the batch functions bit for bit; the combined
IndicatorState; one versioned serialization format; the NaN policy of a missing bar."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capscope.errors import UsageError
from capscope.indicators import api as ind
from capscope.indicators import stream
from capscope.indicators import stream_kernels as sk
from capscope.indicators.stream import (
    EXTRA_DEFAULTS,
    CoreState,
    Extra,
    ExtraState,
    Indicators,
    IndicatorState,
    update,
)
from tests.test_indicators_kernels import ragged_panels

#: a non-default parameter set used on the real panels
OTHER = {
    "wma_window": 9,
    "roc_window": 1,
    "stoch_fastk_window": 14,
    "stoch_slowk_window": 1,
    "stoch_slowd_window": 5,
    "adx_window": 7,
}
CORE_SMALL = {"sma_fast": 3, "sma_slow": 7, "ema_window": 4, "macd_fast": 3, "macd_slow": 5, "macd_signal": 2}

extra_params = st.fixed_dictionaries(
    {
        "wma_window": st.integers(2, 8),
        "roc_window": st.integers(1, 6),
        "stoch_fastk_window": st.integers(1, 6),
        "stoch_slowk_window": st.integers(1, 4),
        "stoch_slowd_window": st.integers(1, 4),
        "adx_window": st.integers(2, 6),
    }
)


def extra_batch(h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray, **params: int) -> Extra:
    """The batch API's values of every extra indicator, as panels in the order of :class:`Extra`."""
    p = {**EXTRA_DEFAULTS, **params}
    k, d = ind.stoch(h, lo, c, p["stoch_fastk_window"], p["stoch_slowk_window"], p["stoch_slowd_window"])
    a, plus, minus = ind.adx(h, lo, c, p["adx_window"])
    return Extra(
        ind.wma(c, p["wma_window"]),
        ind.roc(c, p["roc_window"]),
        ind.trange(h, lo, c),
        k,
        d,
        a,
        plus,
        minus,
        ind.obv(c, v),
    )


def stream_panels(state: Any, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray, split: int) -> Any:
    """Feed rows ``split..`` one by one (a serialize round trip every 7th bar); outputs stacked into panels
    (NaN before ``split``), as the state's output tuple."""
    outs: list[np.ndarray] | None = None
    kind = type(state)
    for t in range(split, c.shape[0]):
        if t % 7 == 3:
            state = kind.from_bytes(state.to_bytes())
        row = update(state, {"high": h[t], "low": lo[t], "close": c[t], "volume": v[t]})
        if outs is None:
            outs = [np.full(c.shape, np.nan) for _ in row]
        for o, r in zip(outs, row, strict=True):
            o[t] = r
    if outs is None:
        outs = [
            np.full(c.shape, np.nan) for _ in (Extra._fields if kind is ExtraState else Indicators._fields)
        ]
    return (Extra if kind is ExtraState else Indicators)(*outs), state


def assert_extra_equals_batch(
    h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray, split: int, **params: int
) -> None:
    batch = extra_batch(h, lo, c, v, **params)
    state = ExtraState.from_history(h[:split], lo[:split], c[:split], v[:split], **params)
    got, state = stream_panels(state, h, lo, c, v, split)
    for name, g, w in zip(Extra._fields, got, batch, strict=True):
        np.testing.assert_array_equal(g[split:], w[split:], err_msg=f"{name} (params {params})")
    # the state after streaming equals the state built from the whole history at once
    whole = ExtraState.from_history(h, lo, c, v, **params)
    for name, a in whole._arrays().items():
        np.testing.assert_array_equal(state._arrays()[name], a, err_msg=name)


def with_volume_gaps(panel: tuple[np.ndarray, ...], data: st.DataObject) -> tuple[np.ndarray, ...]:
    """Also drop some volumes alone (close present): only OBV must skip those rows."""
    h, lo, c, v = panel
    v = v.copy()
    if v.size:
        for _ in range(data.draw(st.integers(0, 3))):
            v[data.draw(st.integers(0, v.shape[0] - 1)), data.draw(st.integers(0, v.shape[1] - 1))] = np.nan
    return h, lo, c, v


# -- generated panels --------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(ragged_panels(max_cols=4, max_bars=50), extra_params, st.data())
def test_extra_stream_equals_batch_generated(
    panel: tuple[np.ndarray, ...], params: dict[str, int], data: st.DataObject
) -> None:
    """Short random windows on panels with late listings, halts, delistings and rows missing high/low/volume."""
    h, lo, c, v = with_volume_gaps(panel, data)
    split = data.draw(st.integers(0, c.shape[0]))
    assert_extra_equals_batch(h, lo, c, v, split, **params)


@settings(max_examples=15, deadline=None)
@given(ragged_panels(max_cols=3, max_bars=90), st.data())
def test_extra_stream_equals_batch_generated_defaults(
    panel: tuple[np.ndarray, ...], data: st.DataObject
) -> None:
    h, lo, c, v = with_volume_gaps(panel, data)
    assert_extra_equals_batch(h, lo, c, v, data.draw(st.integers(0, c.shape[0])))


@settings(max_examples=15, deadline=None)
@given(ragged_panels(max_cols=3, max_bars=40), extra_params, st.data())
def test_indicator_state_is_core_plus_extra(
    panel: tuple[np.ndarray, ...], params: dict[str, int], data: st.DataObject
) -> None:
    """The combined state gives the core stream's 11 outputs and the extra stream's 9, bar for bar."""
    h, lo, c, v = with_volume_gaps(panel, data)
    split = data.draw(st.integers(0, c.shape[0]))
    both = IndicatorState.from_history(h[:split], lo[:split], c[:split], v[:split], **CORE_SMALL, **params)
    core = CoreState.from_history(h[:split], lo[:split], c[:split], **CORE_SMALL)
    extra = ExtraState.from_history(h[:split], lo[:split], c[:split], v[:split], **params)
    got, both = stream_panels(both, h, lo, c, v, split)
    for t in range(split, c.shape[0]):
        want = (*update(core, (h[t], lo[t], c[t])), *update(extra, (h[t], lo[t], c[t], v[t])))
        for name, g, w in zip(Indicators._fields, got, want, strict=True):
            np.testing.assert_array_equal(g[t], w, err_msg=f"{name} at bar {t}")
    np.testing.assert_array_equal(both.extra.values, extra.values)
    np.testing.assert_array_equal(both.core.values, core.values)


def test_indicators_fields_are_core_then_extra() -> None:
    assert Indicators._fields == ind.Core._fields + Extra._fields


# -- real data -------------------------------------------------------------------------------------------------


@pytest.mark.sample
@pytest.mark.parametrize("params", [{}, OTHER], ids=["defaults", "other"])
def test_extra_stream_equals_batch_on_stock_panel(stocks_panel, params: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    """All stocks (listed on different days, some delisted, with halts): the last 400 bars streamed."""
    p = stocks_panel
    c = p.close
    assert_extra_equals_batch(p.high, p.low, c, p.volume, c.shape[0] - 400, **params)


@pytest.mark.sample
@pytest.mark.parametrize("params", [{}, OTHER], ids=["defaults", "other"])
def test_extra_stream_equals_batch_on_index_panel(prices_panel, params: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    """Index/ETF panel (symbols starting decades apart, different calendars, missing volumes): the last 3,000
    bars, of which the last 1,000 streamed."""
    p = prices_panel
    h, lo, c, v = (a[-3000:] for a in (p.high, p.low, p.close, p.volume))
    assert_extra_equals_batch(h, lo, c, v, c.shape[0] - 1000, **params)


@pytest.mark.sample
def test_extra_stream_from_the_first_bar_on_stock_panel(stocks_panel) -> None:  # type: ignore[no-untyped-def]
    """Every bar of every stock streamed from an empty state (warm-ups included), non-default windows."""
    p = stocks_panel
    h, lo, c, v = (a[-1500:] for a in (p.high, p.low, p.close, p.volume))
    assert_extra_equals_batch(h, lo, c, v, 0, **OTHER)


# -- NaN policy --------------------------------------------------------------------------------------------------


def _walk(n: int, m: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    c = 10 * np.exp(np.cumsum(rng.normal(0, 0.03, (n, m)), axis=0))
    v = rng.integers(0, 10**6, (n, m)).astype(np.float64)
    return c * 1.02, c * 0.97, c, v


def test_missing_bar_leaves_extra_state_untouched() -> None:
    h, lo, c, v = _walk(60, 3, 5)
    state = ExtraState.from_history(h, lo, c, v, **OTHER)
    before = state.copy()
    nan = np.full(3, np.nan)
    out = update(state, (nan, nan, nan, nan))
    assert all(np.isnan(o).all() for o in out)
    for name, a in before._arrays().items():
        np.testing.assert_array_equal(state._arrays()[name], a, err_msg=name)


def test_partial_bar_moves_only_the_indicators_it_feeds() -> None:
    """Close without high/low: WMA/ROC/OBV move, TRANGE/STOCH/ADX do not; close without volume: OBV does not."""
    h, lo, c, v = _walk(60, 2, 6)
    state = ExtraState.from_history(h, lo, c, v)
    before = state.copy()
    row_c = np.array([11.0, 12.0])
    out = update(
        state, (np.array([np.nan, 12.5]), np.array([np.nan, 11.5]), row_c, np.array([500.0, np.nan]))
    )
    # symbol 0: close and volume only
    assert not np.isnan(out.wma[0]) and not np.isnan(out.roc[0]) and not np.isnan(out.obv[0])
    assert np.isnan([out.trange[0], out.slowk[0], out.slowd[0], out.adx[0], out.plus_di[0]]).all()
    assert state.counts[:, 0].tolist() == [
        before.counts[0, 0] + 1,
        before.counts[1, 0],
        before.counts[2, 0] + 1,
    ]
    np.testing.assert_array_equal(state.high_ring[:, 0], before.high_ring[:, 0])
    # symbol 1: high, low and close, no volume
    assert np.isnan(out.obv[1]) and not np.isnan(out.adx[1])
    assert state.counts[:, 1].tolist() == [
        before.counts[0, 1] + 1,
        before.counts[1, 1] + 1,
        before.counts[2, 1],
    ]
    assert state.values[sk.X_OBV, 1] == before.values[sk.X_OBV, 1]


# -- serialization -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [ExtraState, IndicatorState, CoreState])
def test_serialization_round_trip_is_exact(kind: Any) -> None:
    h, lo, c, v = _walk(80, 4, 11)
    c[30:35, 1] = np.nan  # a halt
    args = (h, lo, c) if kind is CoreState else (h, lo, c, v)
    params = {} if kind is CoreState else OTHER
    state = kind.from_history(*args, **params)
    again = kind.from_bytes(state.to_bytes())
    assert again.params == state.params
    parts = (state,) if kind is not IndicatorState else (state.core, state.extra)
    parts_again = (again,) if kind is not IndicatorState else (again.core, again.extra)
    for p, q in zip(parts, parts_again, strict=True):
        for name, a in p._arrays().items():
            b = q._arrays()[name]
            assert b.dtype == a.dtype and b.flags.c_contiguous
            np.testing.assert_array_equal(b, a, err_msg=name)
    # and the restored state continues exactly like the original
    row = tuple(a[-1] * 1.01 for a in args)
    for x, y in zip(update(state, row), update(again, row), strict=True):
        np.testing.assert_array_equal(x, y)


def test_from_bytes_rejects_other_kinds_versions_and_tampering() -> None:
    h, lo, c, v = _walk(40, 2, 3)
    extra = ExtraState.from_history(h, lo, c, v)
    core_bytes = CoreState.from_history(h, lo, c).to_bytes()
    with pytest.raises(UsageError, match=r"hold a CoreState, not a ExtraState; use CoreState\.from_bytes"):
        ExtraState.from_bytes(core_bytes)
    with pytest.raises(UsageError, match="not a serialized IndicatorState"):
        IndicatorState.from_bytes(b"garbage")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(stream, "FORMAT_VERSION", 9)
        newer = stream._pack("ExtraState", extra.params, extra._arrays())
    with pytest.raises(UsageError, match="format version 9"):
        ExtraState.from_bytes(newer)
    short_ring = {**extra._arrays(), "high_ring": extra.high_ring[:-1]}
    with pytest.raises(UsageError, match="'high_ring' is float64"):
        ExtraState.from_bytes(stream._pack("ExtraState", extra.params, short_ring))
    no_counts = {k: a for k, a in extra._arrays().items() if k != "counts"}
    with pytest.raises(UsageError, match="'counts' is missing"):
        ExtraState.from_bytes(stream._pack("ExtraState", extra.params, no_counts))
    with pytest.raises(UsageError, match="unknown extra parameters"):
        ExtraState.from_bytes(stream._pack("ExtraState", {**extra.params, "x": 1}, extra._arrays()))


# -- bad input ---------------------------------------------------------------------------------------------------


def test_bad_input_gets_clear_errors() -> None:
    state = ExtraState.empty(3)
    one = np.ones(3)
    with pytest.raises(UsageError, match="3 values"):
        update(state, (one, one, one, np.ones(2)))
    with pytest.raises(UsageError, match=r"high, low, close and volume; missing \['volume'\]"):
        update(state, {"high": one, "low": one, "close": one})
    with pytest.raises(UsageError, match=r"\(high, low, close, volume\), got 3 items"):
        update(state, (one, one, one))
    with pytest.raises(UsageError, match="unknown extra parameters"):
        ExtraState.empty(3, wma=5)
    with pytest.raises(UsageError, match="adx_window must be an integer >= 2"):
        ExtraState.empty(3, adx_window=1)
    with pytest.raises(UsageError, match="stoch_fastk_window must be an integer >= 1"):
        ExtraState.empty(3, stoch_fastk_window=2.5)
    with pytest.raises(UsageError, match="unknown indicator parameters"):
        IndicatorState.empty(3, window=5)
    with pytest.raises(UsageError, match="share one 2-D shape"):
        ExtraState.from_history(np.ones((5, 2)), np.ones((5, 2)), np.ones((5, 2)), np.ones((4, 2)))
    with pytest.raises(UsageError, match="core state has 3 symbols, extra state 2"):
        IndicatorState(CoreState.empty(3), ExtraState.empty(2))
    with pytest.raises(UsageError, match="needs a CoreState, ExtraState or IndicatorState"):
        update(object(), (one, one, one))  # type: ignore[call-overload]


def test_core_state_accepts_the_full_bar_mapping() -> None:
    """One bar mapping (with volume) serves every state; CoreState ignores the volume."""
    h, lo, c, v = _walk(50, 2, 8)
    core = CoreState.from_history(h[:-1], lo[:-1], c[:-1])
    both = IndicatorState.from_history(h[:-1], lo[:-1], c[:-1], v[:-1])
    bar = {"high": h[-1], "low": lo[-1], "close": c[-1], "volume": v[-1]}
    got_core, got_both = update(core, bar), update(both, bar)
    for name in ind.Core._fields:
        np.testing.assert_array_equal(getattr(got_core, name), getattr(got_both, name))


def test_counts_are_the_bars_of_each_input_group() -> None:
    """Bar counts per group: close (WMA, ROC), high/low/close (TRANGE, STOCH, ADX), close/volume (OBV)."""
    h, lo, c, v = _walk(40, 3, 9)
    v[0, 0] = v[5:9, 1] = np.nan  # the first bar of symbol 0 has no volume
    h[3, 2] = c[7, 1] = np.nan
    state = ExtraState.from_history(h, lo, c, v)
    fin = np.isfinite
    np.testing.assert_array_equal(state.counts[0], fin(c).sum(axis=0))
    np.testing.assert_array_equal(state.counts[1], (fin(h) & fin(lo) & fin(c)).sum(axis=0))
    np.testing.assert_array_equal(state.counts[2], (fin(c) & fin(v)).sum(axis=0))
