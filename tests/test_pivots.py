"""Causal pivots: golden hand-made series, reference twins, invariants, no look-ahead."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capscope.errors import UsageError
from capscope.indicators.pivots import (
    Pivots,
    fractal_pivots,
    fractal_pivots_panel,
    fractal_pivots_panel_reference,
    fractal_pivots_reference,
    wilder_atr,
    wilder_atr_reference,
    zigzag_pivots,
    zigzag_pivots_atr,
    zigzag_pivots_reference,
)


def _walk(n: int, seed: int, vol: float = 0.02) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, vol, n)))
    spread = np.abs(rng.normal(0, vol / 2, n)) * close
    high = close + spread * rng.uniform(0, 1, n)
    low = close - spread * rng.uniform(0, 1, n)
    return high, low, close


def _equal(a: Pivots, b: Pivots) -> None:
    for name in ("index", "confirm_index", "price", "kind"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


# -- fractal ---------------------------------------------------------------------------------------------


def test_fractal_hand_made() -> None:
    high = np.array([1, 2, 5, 3, 2, 3, 4, 6, 4, 3], float)
    low = high - 0.5
    piv = fractal_pivots(high, low, 2)
    # highs: bar 2 (5 > 1,2 and >= 3,2), bar 7 (6 > 3,4 and >= 4,3); lows: bar 4 (1.5 < 4.5,2.5 ... )
    np.testing.assert_array_equal(piv.index, [2, 4, 7])
    np.testing.assert_array_equal(piv.kind, [1, -1, 1])
    np.testing.assert_array_equal(piv.confirm_index, [4, 6, 9])
    np.testing.assert_array_equal(piv.price, [5, 1.5, 6])


def test_fractal_flat_top_takes_first_bar() -> None:
    high = np.array([1, 2, 5, 5, 2, 1, 0.5], float)
    piv = fractal_pivots(high, high - 0.1, 2).highs()
    np.testing.assert_array_equal(piv.index, [2])


def test_fractal_nan_window_gives_no_pivot() -> None:
    high = np.array([1, 2, 5, np.nan, 2, 1, 0.5], float)
    assert fractal_pivots(high, high - 0.1, 2).highs().size == 0
    control = np.array([1, 2, 5, 3, 2, 1, 0.5], float)  # same series without the hole: one pivot at bar 2
    np.testing.assert_array_equal(fractal_pivots(control, control - 0.1, 2).highs().index, [2])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5), st.integers(5, 200))
def test_fractal_matches_reference(seed: int, k: int, n: int) -> None:
    high, low, _ = _walk(n, seed)
    # rounding creates ties, which exercise the strict / non-strict sides
    high, low = np.round(high), np.round(low)
    _equal(fractal_pivots(high, low, k), fractal_pivots_reference(high, low, k))


def test_fractal_bad_input() -> None:
    with pytest.raises(UsageError, match="k must be"):
        fractal_pivots(np.ones(10), np.ones(10), 0)
    with pytest.raises(UsageError, match="1-D"):
        fractal_pivots(np.ones((10, 2)), np.ones((10, 2)), 2)


# -- fractal pivots of a whole panel ---------------------------------------------------------------------


def _ragged_panel(seed: int, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Time-major panel with leading NaN, interior gaps, rounded prices (flat tops, ties), outside bars and
    columns with fewer bars than a window."""
    rng = np.random.default_rng(seed)
    high = np.full((n, m), np.nan)
    low = np.full((n, m), np.nan)
    for j in range(m):
        h, lo, _ = _walk(n, seed * 1000 + j, vol=0.03)
        h, lo = np.round(h), np.round(lo) - 0.5
        outside = rng.random(n) < 0.1  # outside bars: a higher high and a lower low than the neighbours
        h[outside] += 4
        lo[outside] -= 4
        first = int(rng.integers(0, max(n, 1))) if rng.random() < 0.7 else 0
        if rng.random() < 0.2:
            first = max(n - int(rng.integers(1, 8)), 0)  # only a few bars
        keep = np.arange(n) >= first
        keep &= rng.random(n) > rng.choice([0.0, 0.05, 0.3])  # gaps
        high[keep, j], low[keep, j] = h[keep], lo[keep]
    return high, low


def _per_column(high: np.ndarray, low: np.ndarray, k: int) -> list[np.ndarray]:
    parts = [fractal_pivots(high[:, j], low[:, j], k) for j in range(high.shape[1])]
    ptr = np.zeros(high.shape[1] + 1, np.int64)
    np.cumsum([p.size for p in parts], out=ptr[1:])
    return [ptr] + [
        np.concatenate([getattr(p, a) for p in parts] or [np.empty(0, t)]).astype(t)
        for a, t in (
            ("index", np.int64),
            ("confirm_index", np.int64),
            ("price", np.float64),
            ("kind", np.int8),
        )
    ]


def _panel_equal(got: tuple[np.ndarray, ...], want: list[np.ndarray] | tuple[np.ndarray, ...]) -> None:
    for name, a, b in zip(("ptr", "index", "confirm", "price", "kind"), got, want, strict=True):
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6), st.integers(0, 120), st.integers(0, 40))
def test_fractal_panel_equals_per_column(seed: int, k: int, n: int, m: int) -> None:
    high, low = _ragged_panel(seed, n, m)
    got = fractal_pivots_panel(high, low, k)
    _panel_equal(got, fractal_pivots_panel_reference(high, low, k))
    _panel_equal(got, _per_column(high, low, k))


def test_fractal_panel_cases_covered() -> None:
    """The generated panels hold the cases the equality test is about: outside bars that are both a swing high
    and a swing low, flat tops, NaN windows and columns too short for a window."""
    high, low = _ragged_panel(7, 150, 30)
    ptr, index, _, _, kind = fractal_pivots_panel(high, low, 2)
    col = np.repeat(np.arange(30), np.diff(ptr))
    cell = col * 150 + index  # ascending: columns in order, bars in order within a column
    both = np.intersect1d(cell[kind == 1], cell[kind == -1])
    assert len(both) > 0
    first = np.searchsorted(cell, both)
    assert (kind[first] == 1).all() and (kind[first + 1] == -1).all()  # the high listed first
    assert (high[1:] == high[:-1]).any()
    assert (np.isfinite(high).sum(axis=0) < 5).any()
    assert (np.diff(ptr) == 0).any()


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("which", ["stocks_panel", "prices_panel"])
def test_fractal_panel_equals_per_column_sample(which: str, k: int, request: pytest.FixtureRequest) -> None:
    panel = request.getfixturevalue(which)
    got = fractal_pivots_panel(panel.high, panel.low, k)
    assert len(got[1]) > 1000
    _panel_equal(got, _per_column(panel.high, panel.low, k))


def test_fractal_panel_bad_input() -> None:
    with pytest.raises(UsageError, match="k must be"):
        fractal_pivots_panel(np.ones((10, 2)), np.ones((10, 2)), 0)
    with pytest.raises(UsageError, match="2-D"):
        fractal_pivots_panel(np.ones(10), np.ones(10), 2)
    with pytest.raises(UsageError, match="differ in shape"):
        fractal_pivots_panel(np.ones((10, 2)), np.ones((10, 3)), 2)


# -- ATR ---------------------------------------------------------------------------------------------------


def test_wilder_atr_matches_talib() -> None:
    import talib

    high, low, close = _walk(300, 3)
    np.testing.assert_allclose(wilder_atr(high, low, close, 14), talib.ATR(high, low, close, 14), rtol=1e-10)
    np.testing.assert_allclose(
        wilder_atr_reference(high, low, close, 14), talib.ATR(high, low, close, 14), rtol=1e-10
    )
    np.testing.assert_array_equal(np.isnan(wilder_atr(high[:10], low[:10], close[:10], 14)), True)


def test_zigzag_atr_helper_matches() -> None:
    high, low, close = _walk(500, 9)
    _equal(
        zigzag_pivots_atr(high, low, wilder_atr(high, low, close, 14), 3.0),
        zigzag_pivots(high, low, close, 3.0),
    )


# -- zig-zag ---------------------------------------------------------------------------------------------


def test_zigzag_percent_hand_made() -> None:
    # up to 110 (bar 2), down to 95 (bar 5), up to 120 (bar 8); 10 % threshold
    close = np.array([100, 105, 110, 104, 99, 95, 100, 106, 120, 107], float)
    piv = zigzag_pivots(close, close, close, 10.0, mode="percent")
    # the low at bar 0 (100) is confirmed on bar 2 (110 >= 100 * 1.10)
    np.testing.assert_array_equal(piv.index, [0, 2, 5, 8])
    np.testing.assert_array_equal(piv.kind, [-1, 1, -1, 1])
    # 110 is confirmed when a low <= 99 appears (bar 4); 95 when a high >= 104.5 (bar 7); 120 at <= 108 (bar 9)
    np.testing.assert_array_equal(piv.confirm_index, [2, 4, 7, 9])
    np.testing.assert_array_equal(piv.price, [100, 110, 95, 120])


def test_zigzag_atr_hand_made() -> None:
    # constant true range 2 -> ATR 2 from bar 3 (window 3); threshold 2 ATR = 4 points
    mid = np.array([10, 11, 12, 13, 14, 15, 14, 13, 12, 11, 10, 11, 12, 13, 14, 15], float)
    high, low = mid + 1, mid - 1
    close = mid.copy()
    atr = wilder_atr(high, low, close, 3)
    assert np.isnan(atr[:3]).all()
    np.testing.assert_allclose(atr[3:], 2.0)
    piv = zigzag_pivots(high, low, close, 2.0, mode="atr", atr_window=3)
    # low 9 at bar 0 confirmed at bar 3 (high 14 >= 9 + 4); high 16 at bar 5 confirmed when low <= 12 (bar 7);
    # low 9 at bar 10 confirmed when high >= 13 (bar 12)
    np.testing.assert_array_equal(piv.index, [0, 5, 10])
    np.testing.assert_array_equal(piv.confirm_index, [3, 7, 12])
    np.testing.assert_array_equal(piv.kind, [-1, 1, -1])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["atr", "percent"]), st.floats(0.5, 6.0), st.integers(20, 400))
def test_zigzag_matches_reference(seed: int, mode: str, threshold: float, n: int) -> None:
    high, low, close = _walk(n, seed)
    if mode == "percent":
        threshold *= 2
    fast = zigzag_pivots(high, low, close, threshold, mode=mode)  # type: ignore[arg-type]
    ref = zigzag_pivots_reference(high, low, close, threshold, mode=mode)  # type: ignore[arg-type]
    _equal(fast, ref)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(1.0, 5.0))
def test_zigzag_invariants(seed: int, threshold: float) -> None:
    high, low, close = _walk(600, seed)
    piv = zigzag_pivots(high, low, close, threshold)
    atr = wilder_atr(high, low, close, 14)
    assert np.all(np.diff(piv.kind) != 0), "kinds alternate"
    assert np.all(piv.confirm_index > piv.index)
    assert np.all(np.diff(piv.index) > 0)
    assert np.all(np.diff(piv.confirm_index) >= 0)
    for j in range(piv.size):
        i, c, p, k = piv.index[j], piv.confirm_index[j], piv.price[j], piv.kind[j]
        if k > 0:
            assert p == high[i]
            assert low[c] <= p - threshold * atr[c] + 1e-9, "confirmed by a reversal of >= threshold ATR"
        else:
            assert p == low[i]
            assert high[c] >= p + threshold * atr[c] - 1e-9
        if j > 0:
            # the pivot is the extreme of the bars after the previous pivot up to its confirmation bar
            # (a wide bar may later undercut it: a published pivot is never revised)
            seg = slice(piv.index[j - 1] + 1, c + 1)
            assert (high[seg].max() if k > 0 else low[seg].min()) == p


@pytest.mark.parametrize("func", [fractal_pivots, zigzag_pivots])
def test_pivots_no_look_ahead(func) -> None:  # type: ignore[no-untyped-def]
    high, low, close = _walk(800, 11)
    full = (
        func(high, low, 3) if func is fractal_pivots else func(high, low, close, 2.5)  # type: ignore[operator]
    )
    for cut in (60, 123, 400, 657, 799):
        sub = (
            func(high[: cut + 1], low[: cut + 1], 3)
            if func is fractal_pivots
            else func(high[: cut + 1], low[: cut + 1], close[: cut + 1], 2.5)
        )
        _equal(full.known_at(cut), sub)


def test_zigzag_skips_nan_bars() -> None:
    high, low, close = _walk(300, 5)
    gap_h, gap_l, gap_c = high.copy(), low.copy(), close.copy()
    holes = np.r_[0:10, 100:103, 290:300]
    gap_h[holes] = gap_l[holes] = gap_c[holes] = np.nan
    keep = np.setdiff1d(np.arange(300), holes)
    with_gaps = zigzag_pivots(gap_h, gap_l, gap_c, 2.0)
    compact = zigzag_pivots(high[keep], low[keep], close[keep], 2.0)
    np.testing.assert_array_equal(with_gaps.index, keep[compact.index])
    np.testing.assert_array_equal(with_gaps.confirm_index, keep[compact.confirm_index])
    np.testing.assert_array_equal(with_gaps.price, compact.price)


def test_zigzag_bad_input() -> None:
    with pytest.raises(UsageError, match="mode"):
        zigzag_pivots(np.ones(5), np.ones(5), np.ones(5), 1.0, mode="points")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="threshold"):
        zigzag_pivots(np.ones(5), np.ones(5), np.ones(5), 0.0)
    with pytest.raises(UsageError, match="length"):
        zigzag_pivots(np.ones(5), np.ones(4), np.ones(5), 1.0)
    assert zigzag_pivots(np.full(5, np.nan), np.full(5, np.nan), np.full(5, np.nan), 1.0).size == 0
