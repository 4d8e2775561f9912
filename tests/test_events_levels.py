"""Levels and breakouts: a hand-built resistance, breakout and failure; kernels vs reference twins; causality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capscope.data.panel import Panel
from capscope.events import records as R
from capscope.events.breakouts import BreakoutParams, _breakout_kernel, breakout_events, breakout_reference
from capscope.events.crosses import IndicatorCache
from capscope.events.levels import (
    LevelParams,
    _cluster_kernel,
    cluster_reference,
    level_events,
    level_history,
    levels_as_of,
)
from capscope.events.scan import scan_panel
from tests.test_events_crosses import make_panel

# closes; high = close + 0.5, low = close - 0.5
#   swing highs (k=2) at bars 4 and 10 (high 100.5, confirmed on bars 6 and 12) -> one resistance, 2 touches
#   swing lows at 7 (96.5), 13 (97.0), 20 (97.5): more than 0.25 % apart, so three one-touch levels
#   bar 16 closes at 103 > 100.5 + 0.5 * ATR -> breakout_above; bar 19 closes at 99 < 100.5 -> breakout_failed
HAND = [
    96,
    97,
    98,
    99,
    100,
    99,
    98,
    97,
    98,
    99,
    100,
    99,
    98,
    97.5,
    98.5,
    99.5,
    103,
    102,
    101,
    99,
    98,
    98.5,
    99,
]
HAND_LEVELS = LevelParams(
    pivot_window=2, atr_window=3, tolerance=0.25, tolerance_mode="percent", min_touches=2
)


def test_hand_built_resistance_breakout_and_failure() -> None:
    import talib

    panel = make_panel({"H": HAND})
    close = np.array(HAND, float)
    atr = talib.ATR(close + 0.5, close - 0.5, close, 3)
    assert close[16] > 100.5 + 0.5 * atr[16]  # the confirmation rule holds on bar 16 ...
    assert all(close[t] <= 100.5 for t in range(13, 16))  # ... and on no earlier bar after the level formed

    lv = level_events(panel, HAND_LEVELS)
    assert len(lv) == 1
    row = lv.iloc[0]
    assert row["kind"] == R.LEVEL_FORMED and row["date"] == pd.Timestamp(panel.dates[12])
    assert row["level"] == pytest.approx(100.5) and row["touches"] == 2 and row["level_kind"] == R.RESISTANCE
    assert row["first_touch"] == pd.Timestamp(panel.dates[4]) and row["last_touch"] == pd.Timestamp(
        panel.dates[10]
    )
    assert row["strength"] == pytest.approx(2 * 0.5 ** (2 / 126))

    br = breakout_events(panel, BreakoutParams(buffer=0.5, fail_window=10), HAND_LEVELS)
    assert br["kind"].tolist() == [R.BREAKOUT_ABOVE, R.BREAKOUT_FAILED]
    up, failed = br.iloc[0], br.iloc[1]
    assert up["date"] == pd.Timestamp(panel.dates[16]) and up["price"] == 103
    assert up["level"] == pytest.approx(100.5) and up["level_kind"] == R.RESISTANCE and up["touches"] == 2
    assert failed["date"] == pd.Timestamp(panel.dates[19]) and failed["price"] == 99
    assert failed["breakout_date"] == pd.Timestamp(panel.dates[16]) and pd.isna(failed["touches"])
    rec = R.events_to_records(br)[1]
    assert rec == {
        "symbol": "H",
        "date": str(panel.dates[19]),
        "kind": R.BREAKOUT_FAILED,
        "price": 99.0,
        "level": pytest.approx(100.5),
        "level_kind": R.RESISTANCE,
        "breakout_date": str(panel.dates[16]),
    }


def test_failure_window_and_buffer() -> None:
    panel = make_panel({"H": HAND})
    import talib

    close = np.array(HAND, float)
    atr = talib.ATR(close + 0.5, close - 0.5, close, 3)
    # failure only counts within fail_window bars: 19 - 16 = 3 > 2, so the breakout stands and the drop on
    # bar 19 is a breakdown through the same level (its side was "above") once it clears the ATR buffer
    assert close[19] < 100.5 - 0.5 * atr[19] and close[18] >= 100.5 - 0.5 * atr[18]
    br = breakout_events(panel, BreakoutParams(buffer=0.5, fail_window=2), HAND_LEVELS)
    assert br["kind"].tolist() == [R.BREAKOUT_ABOVE, R.BREAKDOWN_BELOW]
    assert br.iloc[1]["date"] == pd.Timestamp(panel.dates[19]) and br.iloc[1]["level_kind"] == R.SUPPORT
    # a buffer too large for the move: no breakout at all
    assert breakout_events(panel, BreakoutParams(buffer=5.0), HAND_LEVELS).empty


def test_hand_built_no_look_ahead_every_bar() -> None:
    panel = make_panel({"H": HAND})
    full = scan_panel(panel, ["levels", "breakouts"], params=_params())
    for t in range(len(HAND)):
        day = panel.dates[t]
        trunc = scan_panel(panel.truncate(day), ["levels", "breakouts"], params=_params())
        pd.testing.assert_frame_equal(trunc, full[full.date <= pd.Timestamp(day)].reset_index(drop=True))
        # before bar 19 the breakout stands unlabelled; the failure is a new event, not an edit
        if 16 <= t < 19:
            assert trunc["kind"].tolist()[-1] == R.BREAKOUT_ABOVE


def _params():  # type: ignore[no-untyped-def]
    from capscope.events.scan import ScanParams

    return ScanParams(levels=HAND_LEVELS)


def test_levels_as_of_hand_built() -> None:
    panel = make_panel({"H": HAND})
    early = levels_as_of(panel, panel.dates[11], HAND_LEVELS)
    assert early.empty  # second touch confirmed on bar 12 only
    lv = levels_as_of(panel, panel.dates[12], HAND_LEVELS)
    assert len(lv) == 1 and lv.iloc[0]["level"] == pytest.approx(100.5) and lv.iloc[0]["touches"] == 2
    assert lv.iloc[0]["level_kind"] == R.RESISTANCE
    after = levels_as_of(panel, None, HAND_LEVELS)
    assert after.iloc[0]["level_kind"] == R.RESISTANCE


def test_params_validation() -> None:
    with pytest.raises(ValueError, match="tolerance_mode"):
        LevelParams(tolerance_mode="ticks")
    with pytest.raises(ValueError):
        BreakoutParams(buffer=-1)


# -- kernels vs reference twins -------------------------------------------------------------------------------
def _random_panel(seed: int, n: int = 400, m: int = 5):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    closes = {}
    for j in range(m):
        c = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
        start = int(rng.integers(0, 60))
        c[:start] = np.nan
        closes[f"S{j}"] = c.tolist()
    return make_panel(closes)


@pytest.mark.parametrize("mode", ["atr", "percent"])
def test_cluster_kernel_equals_reference(mode: str) -> None:
    panel = _random_panel(1)
    params = LevelParams(tolerance_mode=mode, tolerance=0.8 if mode == "atr" else 2.0, pivot_window=3)
    h = level_history(panel, params)
    cols = np.repeat(np.arange(panel.n_symbols), np.diff(h.ptr))
    tol = (
        params.tolerance * IndicatorCache(panel).atr(params.atr_window)[h.confirm, cols]
        if mode == "atr"
        else params.tolerance / 100 * h.price
    )
    ref = cluster_reference(h.ptr, h.index, h.price, tol)
    fast = _cluster_kernel(h.ptr, h.index, h.price, np.ascontiguousarray(tol))
    for a, b in zip(fast, ref, strict=True):
        np.testing.assert_array_equal(a, b)
    assert (h.touches >= 2).sum() > 5  # the data really has multi-touch levels


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 8), st.sampled_from([0.0, 1.0, 2.0, 0.5, np.nan])), max_size=25),
        min_size=1,
        max_size=3,
    )
)
def test_cluster_kernel_equals_reference_ties(columns: list[list[tuple[int, float]]]) -> None:
    # pivot prices on an integer grid and tolerances of whole or half steps: pivots equally far from two levels
    # (the first level wins) and exactly at the tolerance (it joins) are common here
    ptr = np.cumsum([0, *[len(c) for c in columns]]).astype(np.int64)
    pivots = [p for c in columns for p in c]
    price = np.array([p[0] for p in pivots], dtype=np.float64)
    tol = np.array([p[1] for p in pivots], dtype=np.float64)
    index = np.arange(len(pivots), dtype=np.int64)
    fast = _cluster_kernel(ptr, index, price, tol)
    ref = cluster_reference(ptr, index, price, tol)
    for a, b in zip(fast, ref, strict=True):
        np.testing.assert_array_equal(a, b)


def _breakouts_both(panel, params: LevelParams, bp: BreakoutParams, capacity=None):  # type: ignore[no-untyped-def]
    cache = IndicatorCache(panel)
    h = level_history(panel, params, cache=cache)
    atr = np.ascontiguousarray(cache.atr(params.atr_window))
    args = (panel.close, atr, h)
    ref = breakout_reference(*args, bp.buffer, bp.fail_window, params.min_touches, params.max_age)
    out = _breakout_kernel(
        panel.close,
        atr,
        h.ptr,
        h.confirm,
        h.level_id,
        h.level_price,
        h.touches,
        h.first_touch,
        h.last_touch,
        bp.buffer,
        bp.fail_window,
        params.min_touches,
        params.max_age,
        capacity,
    )
    # the kernel walks level by level (symbol, level id, bar); the reference bar by bar: compare as sorted lists
    return sorted(zip(*[a.tolist() for a in out], strict=True)), sorted(ref)


@pytest.mark.parametrize("seed", [2, 5])
def test_breakout_kernel_equals_reference_random(seed: int) -> None:
    panel = _random_panel(seed, n=600, m=4)
    params = LevelParams(pivot_window=3, max_age=80, min_touches=2)
    fast, ref = _breakouts_both(panel, params, BreakoutParams(buffer=0.25, fail_window=5))
    assert fast == ref
    codes = {e[2] for e in fast}
    assert {0, 1, 2, 3} <= codes  # every event type is exercised


@pytest.mark.parametrize("capacity", [1, 3])
def test_breakout_kernel_buffers_that_overflow(capacity: int) -> None:
    # event buffers far too small: symbols that overflow them are redone after they grow, nothing lost or doubled
    panel = _random_panel(5, n=600, m=4)
    params = LevelParams(pivot_window=3, max_age=80, min_touches=2)
    fast, ref = _breakouts_both(panel, params, BreakoutParams(buffer=0.25, fail_window=5), capacity=capacity)
    assert fast == ref and len(ref) > 20


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_breakout_kernel_equals_reference_long_quiet_stretches(seed: int) -> None:
    # long series with calm stretches, trends and NaN gaps: the scans skip whole blocks of bars between events
    rng = np.random.default_rng(seed)
    n, closes = 1500, {}
    for j in range(3):
        vol = np.repeat(rng.choice([0.002, 0.01, 0.03], n // 50), 50)
        c = 50 * np.exp(np.cumsum(rng.normal(0, 1, n) * vol))
        c[rng.random(n) < 0.02] = np.nan
        c[: int(rng.integers(0, 40))] = np.nan
        closes[f"S{j}"] = c.tolist()
    panel = make_panel(closes)
    for bp in (BreakoutParams(buffer=0.0, fail_window=3), BreakoutParams(buffer=1.0, fail_window=10)):
        fast, ref = _breakouts_both(panel, LevelParams(pivot_window=4, max_age=300), bp)
        assert fast == ref and len(ref) > 20


def test_breakout_kernel_equals_reference_sample(stocks_panel) -> None:  # type: ignore[no-untyped-def]
    panel = stocks_panel.select(list(stocks_panel.symbols[:40]))
    fast, ref = _breakouts_both(panel, LevelParams(), BreakoutParams())
    assert fast == ref and len(fast) > 100


def _stress_case(seed: int, style: str) -> tuple[Panel, LevelParams, BreakoutParams]:
    """A small random panel and random level / breakout parameters that reach the rare branches of the breakout
    rule: closes on a coarse grid (``int``: +-1 steps) so closes land exactly on level prices, high = low = close
    on some symbols, NaN gaps, levels that go stale within a few bars, breakouts pending while their level moves."""
    rng = np.random.default_rng(seed + (0 if style == "int" else 10**6))
    n, m = int(rng.integers(20, 260)), int(rng.integers(1, 4))
    close, spread = np.empty((n, m)), np.empty((n, m))
    for j in range(m):
        if style == "int":
            c = np.maximum(20 + np.cumsum(rng.integers(-1, 2, n)).astype(float), 1)
        else:
            c = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
            grid = rng.choice([0.0, 0.25, 1.0])
            if grid:
                c = np.round(c / grid) * grid
        c[: int(rng.integers(0, 10))] = np.nan
        if rng.random() < 0.5:
            c[rng.random(n) < 0.05] = np.nan
        close[:, j] = c
        spread[:, j] = rng.choice([0.0, 0.5, 1.0])
    dates = np.array(pd.bdate_range("2024-01-01", periods=n).values.astype("datetime64[D]"))
    fields = {
        "open": close,
        "high": close + spread,
        "low": close - spread,
        "close": close,
        "volume": close * 0 + 1,
    }
    panel = Panel(
        dates, tuple(f"S{j}" for j in range(m)), {k: np.ascontiguousarray(v) for k, v in fields.items()}
    )
    mode = str(rng.choice(["atr", "percent"]))
    max_age = int(rng.integers(0, 12)) if rng.random() < 0.5 else int(rng.integers(12, 80))
    params = LevelParams(
        pivot_window=int(rng.integers(1, 5)),
        tolerance=float(rng.choice([0.3, 1.0, 3.0])),
        tolerance_mode=mode,
        min_touches=int(rng.integers(1, 4)),
        max_age=max_age,
    )
    bp = BreakoutParams(buffer=float(rng.choice([0.0, 0.1, 0.5, 2.0])), fail_window=int(rng.integers(0, 13)))
    return panel, params, bp


# seeds found by searching _stress_case for cases that tell apart deliberately broken kernels: a breakdown
# through a moved level on the very bar it goes stale while a breakout is pending (walk 567, 769, 2364), and a
# close exactly on a pending breakout's level, which is no failure (int 274, 550)
@pytest.mark.parametrize(
    ("seed", "style"),
    [(567, "walk"), (769, "walk"), (2364, "walk"), (274, "int"), (550, "int"), (0, "int"), (1, "walk")],
)
def test_breakout_kernel_equals_reference_rare_branches(seed: int, style: str) -> None:
    fast, ref = _breakouts_both(*_stress_case(seed, style))
    assert fast == ref and len(ref) > 0


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), style=st.sampled_from(["int", "walk"]))
def test_breakout_kernel_equals_reference_hypothesis(seed: int, style: str) -> None:
    """Random small panels and parameters (:func:`_stress_case`): the level-by-level kernel equals the
    bar-by-bar reference."""
    fast, ref = _breakouts_both(*_stress_case(seed, style))
    assert fast == ref


def test_no_look_ahead_random_panels_with_gaps() -> None:
    """Random walks with late listings and halts (NaN gaps): events up to t never depend on bars after t."""
    from capscope.events.scan import ScanParams

    params = ScanParams(
        ma_pairs=(("sma", 5, 20), ("ema", 5, 20)),
        price_windows=(10,),
        macd=(5, 10, 4),
        levels=LevelParams(pivot_window=3, max_age=60),
        breakouts=BreakoutParams(buffer=0.25, fail_window=5),
    )
    rng = np.random.default_rng(42)
    for seed in range(3):
        panel = _random_panel(100 + seed, n=300, m=4)
        close = panel.close
        for j in range(panel.n_symbols):  # a few halts: whole bars missing
            for start in rng.integers(80, 280, size=2):
                for name in ("open", "high", "low", "close", "volume"):
                    panel.fields[name][start : start + int(rng.integers(1, 4)), j] = np.nan
        assert np.isnan(close).any()
        full = scan_panel(panel, params=params)
        assert len(full) > 100 and full["kind"].nunique() >= 12
        for t in rng.integers(30, panel.n_bars, size=6):
            day = panel.dates[t]
            trunc = scan_panel(panel.truncate(day), params=params)
            pd.testing.assert_frame_equal(trunc, full[full.date <= pd.Timestamp(day)].reset_index(drop=True))
