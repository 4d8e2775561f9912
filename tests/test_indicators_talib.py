"""Every indicator against TA-Lib (the external golden values), on all sample series and generated ones.

Agreement means identical NaN positions and ``|ours - talib| <= 1e-9 * max(1, |talib|)``, for the default
parameters and at least three other parameter sets of each indicator.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib  # a declared test dependency: a missing TA-Lib must fail, not skip
from hypothesis import given, settings

from capscope.indicators import api as ind
from tests.strategies import ohlc_arrays

Arrays = tuple[np.ndarray, ...]
Fn = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], Arrays]


def _t(x: object) -> Arrays:
    return tuple(x) if isinstance(x, tuple | list) else (x,)  # type: ignore[arg-type]


# (label, kind, ours, theirs): kind "c" = close only, "hlc" = high/low/close, "cv" = close/volume
CASES: list[tuple[str, str, Fn, Fn]] = []


def _case(label: str, kind: str, ours: Fn, theirs: Fn) -> None:
    CASES.append((label, kind, ours, theirs))


for w in (30, 2, 14, 200):  # 30 is the TA-Lib default
    _case(
        f"sma{w}",
        "c",
        lambda h, lo, c, v, w=w: _t(ind.sma(c, w)),
        lambda h, lo, c, v, w=w: _t(talib.SMA(c, w)),
    )
for w in (30, 2, 20, 100):
    _case(
        f"ema{w}",
        "c",
        lambda h, lo, c, v, w=w: _t(ind.ema(c, w)),
        lambda h, lo, c, v, w=w: _t(talib.EMA(c, w)),
    )
for w in (30, 2, 10, 50):
    _case(
        f"wma{w}",
        "c",
        lambda h, lo, c, v, w=w: _t(ind.wma(c, w)),
        lambda h, lo, c, v, w=w: _t(talib.WMA(c, w)),
    )
for p in ((12, 26, 9), (5, 35, 5), (26, 12, 9), (3, 10, 16), (2, 3, 1)):
    _case(
        f"macd{p}",
        "c",
        lambda h, lo, c, v, p=p: _t(ind.macd(c, *p)),
        lambda h, lo, c, v, p=p: _t(talib.MACD(c, fastperiod=p[0], slowperiod=p[1], signalperiod=p[2])),
    )
for w in (14, 2, 7, 30):
    _case(
        f"rsi{w}",
        "c",
        lambda h, lo, c, v, w=w: _t(ind.rsi(c, w)),
        lambda h, lo, c, v, w=w: _t(talib.RSI(c, w)),
    )
for w in (10, 1, 5, 63):
    _case(
        f"roc{w}",
        "c",
        lambda h, lo, c, v, w=w: _t(ind.roc(c, w)),
        lambda h, lo, c, v, w=w: _t(talib.ROC(c, w)),
    )
for p in ((5, 2.0, 2.0), (20, 2.0, 2.0), (10, 1.0, 1.0), (20, 2.5, 1.5), (30, 1.0, 3.0)):
    _case(
        f"bbands{p}",
        "c",
        lambda h, lo, c, v, p=p: _t(ind.bbands(c, *p)),
        lambda h, lo, c, v, p=p: _t(talib.BBANDS(c, timeperiod=p[0], nbdevup=p[1], nbdevdn=p[2])),
    )
_case(
    "trange",
    "hlc",
    lambda h, lo, c, v: _t(ind.trange(h, lo, c)),
    lambda h, lo, c, v: _t(talib.TRANGE(h, lo, c)),
)
for w in (14, 1, 5, 30):
    _case(
        f"atr{w}",
        "hlc",
        lambda h, lo, c, v, w=w: _t(ind.atr(h, lo, c, w)),
        lambda h, lo, c, v, w=w: _t(talib.ATR(h, lo, c, w)),
    )
for p in ((5, 3, 3), (14, 3, 3), (9, 1, 1), (21, 5, 4)):
    _case(
        f"stoch{p}",
        "hlc",
        lambda h, lo, c, v, p=p: _t(ind.stoch(h, lo, c, *p)),
        lambda h, lo, c, v, p=p: _t(
            talib.STOCH(h, lo, c, fastk_period=p[0], slowk_period=p[1], slowd_period=p[2])
        ),
    )
for w in (14, 2, 7, 30):
    _case(
        f"adx{w}",
        "hlc",
        lambda h, lo, c, v, w=w: _t(ind.adx(h, lo, c, w)),
        lambda h, lo, c, v, w=w: (
            talib.ADX(h, lo, c, w),
            talib.PLUS_DI(h, lo, c, w),
            talib.MINUS_DI(h, lo, c, w),
        ),
    )
_case("obv", "cv", lambda h, lo, c, v: _t(ind.obv(c, v)), lambda h, lo, c, v: _t(talib.OBV(c, v)))

CORE_TALIB: Fn = lambda h, lo, c, v: (  # noqa: E731
    talib.SMA(c, 50),
    talib.SMA(c, 200),
    talib.EMA(c, 20),
    *talib.MACD(c, 12, 26, 9),
    talib.RSI(c, 14),
    talib.ATR(h, lo, c, 14),
    *talib.BBANDS(c, timeperiod=20, nbdevup=2.0, nbdevdn=2.0),
)
_case("core", "hlc", lambda h, lo, c, v: tuple(ind.core(h, lo, c)), CORE_TALIB)


def assert_matches(ours: np.ndarray, theirs: np.ndarray, label: str) -> None:
    """Identical NaN positions and relative agreement 1e-9 (absolute below 1)."""
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, label
    nan_o, nan_t = np.isnan(ours), np.isnan(theirs)
    if not np.array_equal(nan_o, nan_t):
        bad = np.flatnonzero(nan_o != nan_t)
        raise AssertionError(
            f"{label}: NaN positions differ at {bad[:5]} (ours {ours[bad[:5]]}, talib {theirs[bad[:5]]})"
        )
    ok = ~nan_t
    err = np.abs(ours[ok] - theirs[ok]) / np.maximum(1.0, np.abs(theirs[ok]))
    if err.size and err.max() > 1e-9:
        i = int(np.argmax(err))
        raise AssertionError(f"{label}: relative error {err[i]:.3g} at bar {np.flatnonzero(ok)[i]}")


def check_all(
    h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray | None, where: str, close_only: bool
) -> int:
    checked = 0
    for label, kind, ours, theirs in CASES:
        if close_only and kind != "c":
            continue
        if kind == "cv" and v is None:
            continue
        vol = v if v is not None else np.zeros_like(c)
        for k, (a, b) in enumerate(zip(ours(h, lo, c, vol), theirs(h, lo, c, vol), strict=True)):
            assert_matches(a, b, f"{where} {label}[{k}]")
            checked += 1
    return checked


def _sample_files(sample_dir: Path) -> list[Path]:
    return sorted((sample_dir / "prices").glob("*.csv")) + sorted(
        (sample_dir / "prices" / "alt").glob("*.csv")
    )


@pytest.mark.sample
def test_every_prices_file_matches_talib(sample_dir: Path) -> None:
    """Each index/ETF file (primary and alternates; close-only alternates for close-based indicators)."""
    files = _sample_files(sample_dir)
    assert len(files) >= 30
    total = 0
    for path in files:
        df = pd.read_csv(path)
        c = df["close"].to_numpy(np.float64)
        h = df["high"].to_numpy(np.float64)
        lo = df["low"].to_numpy(np.float64)
        close_only = bool(np.isnan(h).all())
        v = df["volume"].to_numpy(np.float64)
        vol = None if np.isnan(v).any() else v
        total += check_all(h, lo, c, vol, path.name, close_only)
    assert total > 30 * 40


@pytest.mark.sample
def test_stock_panel_matches_talib_per_column(stocks_panel) -> None:  # type: ignore[no-untyped-def]
    """All ~700 stocks at once as a 2-D panel; each column == TA-Lib on that symbol's own bars."""
    h, lo, c, v = stocks_panel.high, stocks_panel.low, stocks_panel.close, stocks_panel.volume
    for label, kind, ours, theirs in CASES:
        outs = ours(h, lo, c, v)
        cols = (
            range(c.shape[1])
            if label.startswith(("sma30", "macd(12", "core", "obv", "adx14"))
            else range(0, c.shape[1], 7)
        )
        for j in cols:
            inputs = [h[:, j], lo[:, j], c[:, j], v[:, j]]
            valid = np.isfinite(c[:, j])
            if kind != "c":
                valid &= np.isfinite(h[:, j]) & np.isfinite(lo[:, j])
            if kind == "cv":
                valid &= np.isfinite(v[:, j])
            packed = [np.ascontiguousarray(a[valid]) for a in inputs]
            for k, (o, ref) in enumerate(zip(outs, theirs(*packed), strict=True)):
                expected = np.full(c.shape[0], np.nan)
                expected[valid] = ref
                assert_matches(o[:, j], expected, f"{stocks_panel.symbols[j]} {label}[{k}]")


@settings(max_examples=30, deadline=None)
@given(ohlc_arrays(min_size=0, max_size=260))
def test_generated_series_match_talib(arrays: tuple[np.ndarray, ...]) -> None:
    h, lo, c, v = arrays
    check_all(h, lo, c, v, "generated", close_only=False)


@settings(max_examples=15, deadline=None)
@given(ohlc_arrays(min_size=1, max_size=120), ohlc_arrays(min_size=0, max_size=60))
def test_leading_nan_column_equals_talib_shifted(
    a: tuple[np.ndarray, ...], pad: tuple[np.ndarray, ...]
) -> None:
    """A symbol listed later: its column equals TA-Lib on its own bars, shifted; TA-Lib agrees on the padded
    column too (it skips leading NaN)."""
    h, lo, c, v = a
    k = len(pad[0])
    padded = [np.concatenate([np.full(k, np.nan), x]) for x in (h, lo, c, v)]
    for label, _kind, ours, theirs in CASES:
        got = ours(*padded)
        for i, (g, ref, ref_padded) in enumerate(zip(got, theirs(h, lo, c, v), theirs(*padded), strict=True)):
            assert_matches(g, np.concatenate([np.full(k, np.nan), ref]), f"{label}[{i}] shifted")
            assert_matches(g, ref_padded, f"{label}[{i}] talib padded")


def test_lookback_equals_talib() -> None:
    import talib.abstract as abstract

    def tl(name: str, **params: float) -> int:
        f = abstract.Function(name)
        f.set_parameters(**params)
        return int(f.lookback)

    for w in (2, 14, 30, 200):
        assert ind.lookback("sma", window=w) == tl("SMA", timeperiod=w)
        assert ind.lookback("ema", window=w) == tl("EMA", timeperiod=w)
        assert ind.lookback("wma", window=w) == tl("WMA", timeperiod=w)
        assert ind.lookback("rsi", window=w) == tl("RSI", timeperiod=w)
        assert ind.lookback("atr", window=w) == tl("ATR", timeperiod=w)
        assert ind.lookback("roc", window=w) == tl("ROC", timeperiod=w)
        assert ind.lookback("bbands", window=w) == tl("BBANDS", timeperiod=w)
        assert ind.lookback("adx", window=w) == tl("ADX", timeperiod=w)
        assert ind.lookback("plus_di", window=w) == tl("PLUS_DI", timeperiod=w)
        assert ind.lookback("minus_di", window=w) == tl("MINUS_DI", timeperiod=w)
    for p in ((12, 26, 9), (5, 35, 5), (26, 12, 9), (3, 10, 16)):
        assert ind.lookback("macd", fast=p[0], slow=p[1], signal=p[2]) == tl(
            "MACD", fastperiod=p[0], slowperiod=p[1], signalperiod=p[2]
        )
    for p in ((5, 3, 3), (14, 3, 3), (9, 1, 1), (21, 5, 4)):
        assert ind.lookback("stoch", fastk_window=p[0], slowk_window=p[1], slowd_window=p[2]) == tl(
            "STOCH", fastk_period=p[0], slowk_period=p[1], slowd_period=p[2]
        )
    assert ind.lookback("macd") == 33 == tl("MACD")
    assert ind.lookback("trange") == tl("TRANGE")
    assert ind.lookback("obv") == tl("OBV")
    assert ind.lookback("stoch") == tl("STOCH")
