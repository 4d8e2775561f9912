"""Kernels against their plain reference twins, the NaN policy, input kinds, invariants and import cost."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capscope.errors import UsageError
from capscope.indicators import api as ind
from capscope.indicators import reference as ref
from tests.strategies import ohlc_arrays

# (name, api call on (h, lo, c, v) panels, reference 1-d function, which inputs it takes, params)
Api = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, ...]]


def _t(x: object) -> tuple[np.ndarray, ...]:
    return tuple(x) if isinstance(x, tuple) else (x,)  # type: ignore[arg-type]


TWINS: list[tuple[str, Api, Callable[..., object], str, tuple[float, ...]]] = [
    ("sma", lambda h, lo, c, v: _t(ind.sma(c, 7)), ref.sma_1d, "c", (7,)),
    ("ema", lambda h, lo, c, v: _t(ind.ema(c, 5)), ref.ema_1d, "c", (5,)),
    ("wma", lambda h, lo, c, v: _t(ind.wma(c, 6)), ref.wma_1d, "c", (6,)),
    ("macd", lambda h, lo, c, v: _t(ind.macd(c, 3, 8, 4)), ref.macd_1d, "c", (3, 8, 4)),
    ("rsi", lambda h, lo, c, v: _t(ind.rsi(c, 5)), ref.rsi_1d, "c", (5,)),
    ("roc", lambda h, lo, c, v: _t(ind.roc(c, 3)), ref.roc_1d, "c", (3,)),
    ("bbands", lambda h, lo, c, v: _t(ind.bbands(c, 5, 2.0, 1.5)), ref.bbands_1d, "c", (5, 2.0, 1.5)),
    ("trange", lambda h, lo, c, v: _t(ind.trange(h, lo, c)), ref.trange_1d, "hlc", ()),
    ("atr", lambda h, lo, c, v: _t(ind.atr(h, lo, c, 4)), ref.atr_1d, "hlc", (4,)),
    ("stoch", lambda h, lo, c, v: _t(ind.stoch(h, lo, c, 5, 3, 2)), ref.stoch_1d, "hlc", (5, 3, 2)),
    ("adx", lambda h, lo, c, v: _t(ind.adx(h, lo, c, 4)), ref.adx_1d, "hlc", (4,)),
    ("obv", lambda h, lo, c, v: _t(ind.obv(c, v)), ref.obv_1d, "cv", ()),
]


@st.composite
def ragged_panels(draw: st.DrawFn, max_cols: int = 4, max_bars: int = 80) -> tuple[np.ndarray, ...]:
    """``(high, low, close, volume)`` panels whose columns start late, stop early, have halts (interior NaN
    rows) and, sometimes, close without high/low."""
    n_cols = draw(st.integers(1, max_cols))
    n = draw(st.integers(0, max_bars))
    cols = [draw(ohlc_arrays(min_size=n, max_size=n)) for _ in range(n_cols)]
    h, lo, c, v = (
        np.ascontiguousarray(np.column_stack([col[i] for col in cols]).reshape(n, n_cols)) for i in range(4)
    )
    for j in range(n_cols):
        lead = draw(st.integers(0, n))
        trail = draw(st.integers(0, n - lead))
        rows = np.zeros(n, dtype=bool)
        rows[:lead] = True
        rows[n - trail :] = True
        for _ in range(draw(st.integers(0, 3))):
            a = draw(st.integers(0, max(n - 1, 0)))
            rows[a : a + draw(st.integers(1, 5))] = True
        for arr in (h, lo, c, v):
            arr[rows, j] = np.nan
        if n and draw(st.booleans()) and draw(st.booleans()):
            k = draw(st.integers(0, n - 1))
            h[k, j] = np.nan  # close present, high missing: only HLC indicators skip this row
    return h, lo, c, v


def _inputs(kind: str, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> list[np.ndarray]:
    return {"c": [c], "hlc": [h, lo, c], "cv": [c, v]}[kind]


@settings(max_examples=30, deadline=None)
@given(ragged_panels())
def test_kernels_equal_reference_twins(panel: tuple[np.ndarray, ...]) -> None:
    h, lo, c, v = panel
    for name, api_call, twin, kind, params in TWINS:
        got = api_call(h, lo, c, v)
        want = ref.apply_columns(twin, _inputs(kind, h, lo, c, v), len(got), *params)
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            np.testing.assert_array_equal(g, w, err_msg=f"{name}[{k}]")


@settings(max_examples=20, deadline=None)
@given(ragged_panels())
def test_core_equals_single_indicators(panel: tuple[np.ndarray, ...]) -> None:
    h, lo, c, _ = panel
    params = {"sma_fast": 3, "sma_slow": 7, "ema_window": 4, "macd_fast": 3, "macd_slow": 6, "macd_signal": 3}
    params |= {"rsi_window": 4, "atr_window": 5, "bb_window": 4, "bb_nbdev_up": 2.5, "bb_nbdev_dn": 1.0}
    got = ind.core(h, lo, c, **params)
    want = (
        ind.sma(c, 3),
        ind.sma(c, 7),
        ind.ema(c, 4),
        *ind.macd(c, 3, 6, 3),
        ind.rsi(c, 4),
        ind.atr(h, lo, c, 5),
        *ind.bbands(c, 4, 2.5, 1.0),
    )
    for name, g, w in zip(got._fields, got, want, strict=True):
        np.testing.assert_array_equal(g, w, err_msg=name)


def _walk_panel(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = 20.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (n, m)), axis=0))
    spread = np.abs(rng.normal(0.0, 0.01, (n, m)))
    return c * (1 + spread), c * (1 - spread), c


def _late_cases(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> None:
    """Columns that start on another bar than most (the kernel's "late" path), in every situation its
    two take-overs must get right: earlier than the others, dying or halting before, on and after the take-over
    of the state (35 bars after the first with the default windows: every indicator but the SMAs is past its
    warm-up) and of the SMAs (199 bars after), coming back after dying, no close at all, high/low before the
    first close, starting on the last bar, regular columns dying on a late column's take-over or death row."""
    n = c.shape[0]

    def gap(j: int, a: int, b: int) -> None:
        for x in (h, lo, c):
            x[a:b, j] = np.nan

    gap(slice(None), 0, 10)  # type: ignore[arg-type]  # most columns start on bar 10
    for j, (a, b) in {0: (10, 10), 1: (0, 50), 2: (0, 50), 5: (0, 60), 6: (0, 60), 8: (0, n)}.items():
        gap(j, a, b)
    for j in (0,):  # column 0 starts on bar 0: earlier than its block (its SMAs are set per element while the
        # block's SMAs warm up)
        for x, base in ((h, 21.0), (lo, 19.0), (c, 20.0)):
            x[:10, j] = base + np.arange(10) * 0.1
    gap(1, 120, n)  # dies after the state take-over (bar 84), while its SMAs are set per element
    gap(20, 84, n)  # a regular column dying on column 1's take-over row
    gap(27, 120, n)  # ... and one on column 1's death row
    gap(2, 262, n)  # dies after both take-overs
    gap(5, 70, 73)  # halted during the warm-up on its own
    gap(6, 290, 292)  # halted after both take-overs
    gap(11, 0, 40)
    gap(11, 150, 249)  # halted between the take-overs (74 and 238), back right after the second
    gap(12, 0, n - 1)  # starts on the last bar
    gap(13, 0, 120)
    gap(14, 0, 30)
    h[20:30, 14] = 30.0  # high before the first close
    gap(15, 0, 45)
    lo[200, 15] = np.nan  # low missing alone between the take-overs
    gap(21, 0, 60)
    gap(21, 94, n)  # dies on its state take-over row (60 + 35 - 1)
    gap(22, 0, 60)
    gap(22, 95, n)  # dies on the row after it
    gap(23, 0, 40)
    gap(23, 238, n)  # dies on its SMA take-over row (40 + 199 - 1)
    gap(24, 0, 40)
    gap(24, 60, 75)  # dies on its own and comes back on the row after its state take-over would have been
    gap(25, 0, 70)
    c[200, 25] = np.nan  # close missing alone between the take-overs


@pytest.mark.parametrize("layout", ["uniform", "uniform_late", "mixed", "halt", "late_cases"])
@pytest.mark.parametrize("threads", [1, 2])
def test_core_row_paths_equal_single_indicators(layout: str, threads: int) -> None:
    """The fused kernel's row paths (all columns past the warm-up; all columns started on the same bar, in
    their warm-up; per element) give what the single-indicator kernels and the plain twins give, on panels
    wide enough for several blocks, with default and short windows. Flat columns make the Bollinger state
    re-anchor during and after the warm-up."""
    import numba

    h, lo, c = _walk_panel(300, 150, seed=len(layout))
    c[:, 3] = 12.5  # flat: zero variance, re-anchoring on every bar
    h[:, 3] = lo[:, 3] = 12.5
    c[150:, 4] = 7.0
    if layout == "uniform_late":
        for a in (h, lo, c):
            a[:17] = np.nan
    elif layout == "mixed":
        for j in range(0, 150, 3):
            for a in (h, lo, c):
                a[: j % 40, j] = np.nan
    elif layout == "halt":
        for a in (h, lo, c):
            a[220:224, 7] = np.nan
            a[280:, 9] = np.nan  # delisted
    elif layout == "late_cases":
        _late_cases(h, lo, c)
    short = {"sma_fast": 3, "sma_slow": 7, "ema_window": 4, "macd_fast": 3, "macd_slow": 6, "macd_signal": 3}
    short |= {"rsi_window": 4, "atr_window": 5, "bb_window": 4, "bb_nbdev_up": 2.5, "bb_nbdev_dn": 1.0}
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        for params in ({}, short):
            p = {"sma_fast": 50, "sma_slow": 200, "ema_window": 20, "macd_fast": 12, "macd_slow": 26}
            p |= {"macd_signal": 9, "rsi_window": 14, "atr_window": 14, "bb_window": 20}
            p |= {"bb_nbdev_up": 2.0, "bb_nbdev_dn": 2.0} | params
            got = ind.core(h, lo, c, **p)
            want = (
                ind.sma(c, p["sma_fast"]),
                ind.sma(c, p["sma_slow"]),
                ind.ema(c, p["ema_window"]),
                *ind.macd(c, p["macd_fast"], p["macd_slow"], p["macd_signal"]),
                ind.rsi(c, p["rsi_window"]),
                ind.atr(h, lo, c, p["atr_window"]),
                *ind.bbands(c, p["bb_window"], p["bb_nbdev_up"], p["bb_nbdev_dn"]),
            )
            twins = (
                *ref.apply_columns(ref.sma_1d, [c], 1, p["sma_fast"]),
                *ref.apply_columns(ref.bbands_1d, [c], 3, p["bb_window"], p["bb_nbdev_up"], p["bb_nbdev_dn"]),
            )
            for name, g, w in zip(got._fields, got, want, strict=True):
                np.testing.assert_array_equal(g, w, err_msg=f"{layout} {params and 'short'} {name}")
            np.testing.assert_array_equal(got.sma_fast, twins[0])
            for g, w in zip(got[8:], twins[1:], strict=True):
                np.testing.assert_array_equal(g, w)
            assert np.isfinite(got.bb_middle[-1]).sum() >= 140  # the panel was really computed
    finally:
        numba.set_num_threads(before)


def test_core_blocks_equal_one_block() -> None:
    """Split into several blocks (each with its own first bar and its own late columns), the fused kernel gives
    the same outputs and the same irregular columns as in one block."""
    from capscope.indicators import kernels

    h, lo, c = _walk_panel(300, 150, seed=3)
    _late_cases(h, lo, c)
    for a in (h, lo, c):
        a[:25, 100:140] = np.nan  # a block where most columns start on bar 25
    params = kernels.CoreParams(50, 200, 20, 12, 26, 9, 14, 14, 20, 2.0, 2.0)
    one = kernels.CoreOut(*kernels._panels(11, c.shape))
    irregular_one = kernels.core_kernel(h, lo, c, one, params, 150)
    for block in (37, 64):
        outs = kernels.CoreOut(*kernels._panels(11, c.shape))
        irregular = kernels.core_kernel(h, lo, c, outs, params, block)
        np.testing.assert_array_equal(irregular, irregular_one)
        regular = ~irregular
        assert regular.sum() >= 140
        for k, (g, w) in enumerate(zip(outs, one, strict=True)):
            np.testing.assert_array_equal(g[:, regular], w[:, regular], err_msg=f"block {block} output {k}")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=30), st.integers(0, 3))
def test_block_start_is_the_most_common_first_bar(firsts: list[int], gaps: int) -> None:
    """The fused kernel's first bar of a block is the earliest of the most common first closes (``n_bars`` when
    no column has one); the first bars it reports are exact for the columns started by then and ``n_bars``
    (found later, in the pass) for the others. Columns with a first bar past the last row have no close."""
    from capscope.indicators import kernels

    n, m = 10, len(firsts)
    close = np.full((n, m), np.nan)
    for j, f in enumerate(firsts):
        close[f:, j] = 1.0 + j
        close[f + 1 : f + 1 + (gaps if j % 2 else 0), j] = np.nan  # a gap after the first bar changes nothing
    start = np.full(m + 2, -7, dtype=np.int64)
    s0 = kernels._block_start(close, 0, m, start)
    true = np.array([min(f, n) for f in firsts])
    values, counts = np.unique(true[true < n], return_counts=True)
    assert s0 == (values[np.argmax(counts)] if values.size else n)
    assert np.all((start[:m] == true) | (start[:m] == n))
    assert np.all(start[:m][true <= s0] == true[true <= s0])
    assert np.all(start[m:] == -7)  # only the block's columns are written


def test_nan_policy_hand_computed() -> None:
    """Rows without a bar give NaN and do not advance the state (computed by hand)."""
    x = np.array([np.nan, 1.0, 2.0, np.nan, np.nan, 3.0, 4.0, np.nan])
    np.testing.assert_array_equal(ind.sma(x, 2), [np.nan, np.nan, 1.5, np.nan, np.nan, 2.5, 3.5, np.nan])
    np.testing.assert_allclose(
        ind.roc(x, 1), [np.nan, np.nan, 100.0, np.nan, np.nan, 50.0, 100 / 3, np.nan], rtol=1e-15
    )
    # EMA(2): k = 2/3, seed = (1+2)/2 = 1.5, then 1.5 + (3-1.5)*2/3 = 2.5, then 2.5 + (4-2.5)*2/3 = 3.5
    np.testing.assert_allclose(
        ind.ema(x, 2), [np.nan, np.nan, 1.5, np.nan, np.nan, 2.5, 3.5, np.nan], rtol=1e-15
    )
    # OBV starts at the first bar's volume and skips the halt
    vol = np.array([np.nan, 10.0, 20.0, np.nan, np.nan, 5.0, 1.0, np.nan])
    np.testing.assert_array_equal(ind.obv(x, vol), [np.nan, 10.0, 30.0, np.nan, np.nan, 35.0, 36.0, np.nan])


def test_known_values() -> None:
    """Textbook values: RSI of a strictly rising series is 100, of a flat one 0 (TA-Lib's guard); Bollinger
    width of a constant series is 0; TR of a gap up is measured from the previous close."""
    up = np.arange(1.0, 40.0)
    assert np.all(ind.rsi(up, 14)[14:] == 100.0)
    assert np.all(ind.rsi(np.full(30, 5.0), 14)[14:] == 0.0)
    bands = ind.bbands(np.full(30, 7.25), 20)
    for band in bands:
        np.testing.assert_array_equal(band[19:], 7.25)
    assert np.isnan(bands.upper[:19]).all()
    tr = ind.trange(np.array([10.0, 15.0]), np.array([9.0, 14.0]), np.array([9.5, 14.5]))
    np.testing.assert_array_equal(tr, [np.nan, 5.5])
    macd = ind.macd(np.linspace(1, 2, 60))
    assert np.isnan(macd.macd[32]) and not np.isnan(macd.macd[33])


@settings(max_examples=30, deadline=None)
@given(ohlc_arrays(min_size=1, max_size=150), st.data())
def test_no_lookahead(arrays: tuple[np.ndarray, ...], data: st.DataObject) -> None:
    """The value on bar t is the same whether or not bars after t exist (exactly)."""
    h, lo, c, v = arrays
    t = data.draw(st.integers(0, len(c) - 1))
    for name, api_call, _twin, _kind, _params in TWINS:
        full = api_call(h, lo, c, v)
        cut = api_call(h[: t + 1], lo[: t + 1], c[: t + 1], v[: t + 1])
        for k, (f, g) in enumerate(zip(full, cut, strict=True)):
            np.testing.assert_array_equal(f[: t + 1], g, err_msg=f"{name}[{k}]")


@settings(max_examples=30, deadline=None)
@given(ohlc_arrays(min_size=60, max_size=200), st.integers(1, 40))
def test_history_length_independence(arrays: tuple[np.ndarray, ...], drop: int) -> None:
    """Window indicators depend only on their window: dropping older bars changes nothing after the warm-up
    (ROC/TRANGE exactly; running-sum ones up to rounding, ~1e-12). EMA-family values do depend on the start
    (TA-Lib's seed), with a difference bounded by ``(1 - k)^bars * range``."""
    h, lo, c, _v = arrays
    cases: list[tuple[Callable[..., tuple[np.ndarray, ...]], int, float]] = [
        (lambda h, lo, c: (ind.roc(c, 10),), 10, 0.0),
        (lambda h, lo, c: (ind.trange(h, lo, c),), 1, 0.0),
        (lambda h, lo, c: (ind.sma(c, 20),), 19, 1e-12),
        (lambda h, lo, c: (ind.wma(c, 20),), 19, 1e-12),
        (lambda h, lo, c: tuple(ind.bbands(c, 20)), 19, 1e-10),
        (lambda h, lo, c: tuple(ind.stoch(h, lo, c)), 8, 1e-10),
    ]
    for fn, look, tol in cases:
        full = fn(h, lo, c)
        part = fn(h[drop:], lo[drop:], c[drop:])
        for f, p in zip(full, part, strict=True):
            a, b = f[drop + look :], p[look:]
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * np.nanmax(np.abs(c)))
    w = 10
    kf = 2.0 / (w + 1)
    full, part = ind.ema(c, w)[drop:], ind.ema(c[drop:], w)
    steps = np.arange(len(part)) - (w - 1)
    bound = (1 - kf) ** np.maximum(steps, 0) * (c.max() - c.min()) + 1e-9 * c.max()
    assert np.all(np.abs(full - part)[w - 1 :] <= bound[w - 1 :])


def test_output_kind_follows_input() -> None:
    rng = np.random.default_rng(3)
    close = 100 + np.cumsum(rng.normal(size=(60, 3)), axis=0)
    idx = pd.date_range("2024-01-01", periods=60, freq="B")
    frame = pd.DataFrame(close, index=idx, columns=["AAA", "BBB", "CCC"])
    out = ind.sma(frame, 5)
    assert isinstance(out, pd.DataFrame)
    assert out.index.equals(idx) and list(out.columns) == ["AAA", "BBB", "CCC"]
    np.testing.assert_array_equal(out.to_numpy(), ind.sma(close, 5))
    series = frame["BBB"]
    s_out = ind.macd(series)
    assert isinstance(s_out.macd, pd.Series) and s_out.signal.name == "BBB" and s_out.hist.index.equals(idx)
    one = ind.rsi(close[:, 1])
    assert one.shape == (60,)
    np.testing.assert_array_equal(one, ind.rsi(close)[:, 1])
    np.testing.assert_array_equal(ind.ema(list(close[:, 0]), 4), ind.ema(close[:, 0], 4))
    adx = ind.adx(frame + 1, frame - 1, frame)
    assert isinstance(adx.plus_di, pd.DataFrame)
    core = ind.core(frame + 1, frame - 1, frame)
    assert isinstance(core.atr, pd.DataFrame)


def test_bad_input_is_a_usage_error() -> None:
    x = np.arange(10.0)
    with pytest.raises(UsageError, match="window must be an integer >= 2"):
        ind.sma(x, 1)
    with pytest.raises(UsageError, match="window"):
        ind.rsi(x, 2.5)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="differ in shape"):
        ind.atr(x, x[:5], x)
    with pytest.raises(UsageError, match="1-D or 2-D"):
        ind.ema(np.zeros((2, 2, 2)))
    with pytest.raises(UsageError, match="known: adx"):
        ind.lookback("smma")
    with pytest.raises(UsageError, match="bad parameters"):
        ind.lookback("sma", length=3)


@settings(max_examples=20, deadline=None)
@given(ohlc_arrays(min_size=100, max_size=100))
def test_lookback_is_first_defined_index(arrays: tuple[np.ndarray, ...]) -> None:
    h, lo, c, v = arrays
    checks = [
        ("sma", {"window": 9}, ind.sma(c, 9)),
        ("ema", {"window": 9}, ind.ema(c, 9)),
        ("wma", {"window": 9}, ind.wma(c, 9)),
        ("macd", {"fast": 5, "slow": 11, "signal": 4}, ind.macd(c, 5, 11, 4).signal),
        ("rsi", {"window": 9}, ind.rsi(c, 9)),
        ("atr", {"window": 9}, ind.atr(h, lo, c, 9)),
        ("trange", {}, ind.trange(h, lo, c)),
        ("bbands", {"window": 9}, ind.bbands(c, 9).upper),
        ("roc", {"window": 9}, ind.roc(c, 9)),
        (
            "stoch",
            {"fastk_window": 6, "slowk_window": 2, "slowd_window": 4},
            ind.stoch(h, lo, c, 6, 2, 4).slowd,
        ),
        ("adx", {"window": 9}, ind.adx(h, lo, c, 9).adx),
        ("plus_di", {"window": 9}, ind.adx(h, lo, c, 9).plus_di),
        ("obv", {}, ind.obv(c, v)),
    ]
    for name, params, out in checks:
        first = int(np.flatnonzero(~np.isnan(out))[0])
        assert ind.lookback(name, **params) == first, name


def test_import_capscope_does_not_import_numba_or_pandas() -> None:
    code = (
        "import sys, capscope, capscope.indicators; "
        "bad = [m for m in ('numba', 'pandas', 'llvmlite') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
