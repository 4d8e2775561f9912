"""Plain-Python reference twins of the indicator kernels (slow, obviously correct).

Each ``*_1d`` function takes one symbol's *dense* bars (no NaN) as 1-D ``float64`` arrays and returns arrays of
the same length with NaN before the indicator's lookback. The loops mirror the TA-Lib C source
(``ta_SMA.c``, ``ta_EMA.c``, ``ta_MACD.c``, ``ta_RSI.c``, ``ta_ATR.c``, ``ta_TRANGE.c``, ``ta_BBANDS.c``,
``ta_ROC.c``, ``ta_WMA.c``, ``ta_STOCH.c``, ``ta_ADX.c``, ``ta_PLUS_DI.c``, ``ta_MINUS_DI.c``, ``ta_OBV.c`` of
TA-Lib 0.6, https://github.com/TA-Lib/ta-lib) operation by operation, so results agree with TA-Lib to the last
bits, including its small-denominator guards (TA-Lib 0.8: exact ``> 0`` tests on sums of magnitudes,
``TA_IS_ZERO``: ``|v| < 1e-14``, and the scale-relative ``TA_IS_ZERO_SCALED``).

:func:`apply_columns` gives the NaN policy shared with the kernels: every column is computed on its own bars
(the rows where all inputs are finite); rows without a bar get NaN and do not advance the indicator.

These functions exist to test the numba kernels in :mod:`capscope.indicators.kernels`; use
:mod:`capscope.indicators.api` in code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

NAN = math.nan
_ZERO_EPS = 1e-14  # TA-Lib 0.8's TA_EPSILON (TA_IS_ZERO: |v| < TA_EPSILON, ta_utility.h)
_EPS_SCALED = 1e-14  # TA_IS_ZERO_SCALED(v, scale): |v| <= TA_EPSILON * scale


def _is_zero(v: float) -> bool:
    return -_ZERO_EPS < v < _ZERO_EPS


def _nans(n: int) -> np.ndarray:
    return np.full(n, NAN)


def sma_1d(x: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average; TA-Lib's running total (add newest, emit, drop oldest)."""
    n = len(x)
    out = _nans(n)
    total = 0.0
    for i in range(min(window - 1, n)):
        total += x[i]
    for i in range(window - 1, n):
        total += x[i]
        out[i] = total / window
        total -= x[i - window + 1]
    return out


def ema_1d(x: np.ndarray, window: int, start: int | None = None) -> np.ndarray:
    """Exponential moving average, ``k = 2 / (window + 1)``, seeded with the SMA of ``window`` values.

    ``start`` is the index of the first output (default ``window - 1``); the seed is the mean of the
    ``window`` values ending there (TA-Lib's ``INT_EMA`` with ``startIdx``).
    """
    n = len(x)
    out = _nans(n)
    first = window - 1 if start is None else start
    if first >= n:
        return out
    k = 2.0 / (window + 1)
    total = 0.0
    for i in range(first - window + 1, first + 1):
        total += x[i]
    prev = total / window
    out[first] = prev
    for i in range(first + 1, n):
        prev = (x[i] - prev) * k + prev
        out[i] = prev
    return out


def wma_1d(x: np.ndarray, window: int) -> np.ndarray:
    """Linearly weighted moving average (weights 1..window, newest heaviest); TA-Lib's running form."""
    n = len(x)
    out = _nans(n)
    if window == 1:
        out[:] = x
        return out
    if n < window:
        return out
    divider = window * (window + 1) / 2.0
    period_sum = 0.0
    period_sub = 0.0
    for i in range(window - 1):
        period_sub += x[i]
        period_sum += x[i] * (i + 1)
    trailing = 0.0
    for i in range(window - 1, n):
        v = x[i]
        period_sub += v
        period_sub -= trailing
        period_sum += v * window
        trailing = x[i - window + 1]
        out[i] = period_sum / divider
        period_sum -= period_sub
    return out


def macd_1d(x: np.ndarray, fast: int, slow: int, signal: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD line, signal and histogram as TA-Lib's ``INT_MACD``.

    Both EMAs first emit at index ``slow - 1`` (the fast EMA is seeded with the mean of the ``fast`` values
    ending there); the signal EMA runs over the MACD line from that index, so all three are first defined at
    ``slow - 1 + signal - 1``.
    """
    if slow < fast:
        fast, slow = slow, fast
    n = len(x)
    first = slow - 1
    out_m, out_s, out_h = _nans(n), _nans(n), _nans(n)
    look = first + signal - 1
    if look >= n:
        return out_m, out_s, out_h
    e_slow = ema_1d(x, slow, first)
    e_fast = ema_1d(x, fast, first)
    line = e_fast - e_slow
    sig = _nans(n)
    sig[first:] = ema_1d(line[first:], signal)
    out_m[look:] = line[look:]
    out_s[look:] = sig[look:]
    out_h[look:] = line[look:] - sig[look:]
    return out_m, out_s, out_h


def rsi_1d(x: np.ndarray, window: int) -> np.ndarray:
    """Wilder's RSI as TA-Lib 0.8 ``rsi.c``: first value at index ``window``; the averages are scaled by a
    hoisted ``1 / window`` (issue #410); 0 when the average gain + loss is exactly 0 (issue #253)."""
    n = len(x)
    out = _nans(n)
    if n <= window:
        return out
    inv = 1.0 / window
    gain = 0.0
    loss = 0.0
    for i in range(1, window + 1):
        d = x[i] - x[i - 1]
        gd = d if d > 0.0 else 0.0
        gain += gd
        loss += gd - d
    gain *= inv
    loss *= inv
    s = gain + loss
    out[window] = 100.0 * (gain / s) if s > 0.0 else 0.0
    for i in range(window + 1, n):
        d = x[i] - x[i - 1]
        loss *= window - 1
        gain *= window - 1
        gd = d if d > 0.0 else 0.0
        gain += gd
        loss += gd - d
        loss *= inv
        gain *= inv
        s = gain + loss
        out[i] = 100.0 * (gain / s) if s > 0.0 else 0.0
    return out


def _true_range(h: float, lo: float, prev_close: float) -> float:
    greatest = h - lo
    v2 = abs(prev_close - h)
    if v2 > greatest:
        greatest = v2
    v3 = abs(lo - prev_close)
    if v3 > greatest:
        greatest = v3
    return greatest


def trange_1d(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """True range ``max(high - low, |high - prev close|, |low - prev close|)``, first at index 1."""
    n = len(close)
    out = _nans(n)
    for i in range(1, n):
        out[i] = _true_range(high[i], low[i], close[i - 1])
    return out


def atr_1d(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int) -> np.ndarray:
    """Wilder's average true range: mean of the first ``window`` true ranges at index ``window``, then
    ``(prev * (window - 1) + tr) / window``. ``window == 1`` is the true range itself."""
    n = len(close)
    tr = trange_1d(high, low, close)
    if window == 1:
        return tr
    out = _nans(n)
    if n <= window:
        return out
    total = 0.0
    for i in range(1, window + 1):
        total += tr[i]
    prev = total / window
    out[window] = prev
    for i in range(window + 1, n):
        prev *= window - 1
        prev += tr[i]
        prev /= window
        out[i] = prev
    return out


def bbands_1d(
    x: np.ndarray, window: int, nbdev_up: float, nbdev_dn: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bollinger bands around the SMA with the *population* standard deviation (TA-Lib ``BBANDS``, SMA).

    TA-Lib 0.8 (``ta_codegen/input/bbands/bbands.c``, issues #118 and #243) computes the variance from running
    sums of deviations from a shift ``K`` (first the window's first value), ``E[(x-K)^2] - E[x-K]^2``, and
    re-anchors ``K`` on the window mean with a fresh two-pass sum when the running sums go stale (variance
    below 1e-6 of ``E[(x-K)^2]``, a dropped squared deviation above 1e6 times the sum, or every
    ``32 * window`` bars); a re-anchored variance below 1e-12 of ``E[(x-K)^2]`` is 0.
    """
    n = len(x)
    up, mid, lo = _nans(n), _nans(n), _nans(n)
    if n < window:
        return up, mid, lo
    inv = 1.0 / window
    shift = x[0]
    ma_total = vt1 = vt2 = 0.0
    for i in range(window - 1):
        ma_total += x[i]
        d = x[i] - shift
        vt1 += d
        vt2 += d * d
    bars = 32 * window
    for i in range(window - 1, n):
        ma_total += x[i]
        d = x[i] - shift
        vt1 += d
        vt2 += d * d
        mean1 = vt1 * inv
        variance = vt2 * inv - mean1 * mean1
        mid[i] = ma_total / window
        old = x[i - window + 1]
        ma_total -= old
        d = old - shift
        vt1 -= d
        d2 = d * d
        vt2 -= d2
        bars -= 1
        if variance < 1e-6 * (vt2 * inv) or d2 > 1e6 * vt2 or bars <= 0:
            bars = 32 * window
            win = x[i - window + 1 : i + 1]
            total = 0.0
            for v in win:
                total += v
            shift = total * inv
            vt1 = vt2 = 0.0
            for v in win:
                d = v - shift
                vt1 += d
                vt2 += d * d
            mean1 = vt1 * inv
            variance = vt2 * inv - mean1 * mean1
            if variance < 1e-12 * (vt2 * inv):
                variance = 0.0
            d = win[0] - shift
            vt1 -= d
            vt2 -= d * d
        sd = math.sqrt(variance) if variance != 0.0 else 0.0
        up[i] = mid[i] + sd * nbdev_up
        lo[i] = mid[i] - sd * nbdev_dn
    return up, mid, lo


def roc_1d(x: np.ndarray, window: int) -> np.ndarray:
    """Rate of change in percent, ``(x / x[-window] - 1) * 100`` (0 when the old value is 0), as TA-Lib."""
    n = len(x)
    out = _nans(n)
    for i in range(window, n):
        old = x[i - window]
        out[i] = (x[i] / old - 1.0) * 100.0 if old != 0.0 else 0.0
    return out


def stoch_1d(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    fastk_window: int,
    slowk_window: int,
    slowd_window: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Slow stochastic (TA-Lib ``STOCH`` with SMA smoothing): fast %K over ``fastk_window`` bars, slow %K =
    SMA(fast %K, ``slowk_window``), slow %D = SMA(slow %K, ``slowd_window``). Fast %K is 0 when the range is 0."""
    n = len(close)
    fastk = _nans(n)
    for i in range(fastk_window - 1, n):
        hh = high[i - fastk_window + 1]
        ll = low[i - fastk_window + 1]
        for j in range(i - fastk_window + 2, i + 1):
            if high[j] > hh:
                hh = high[j]
            if low[j] < ll:
                ll = low[j]
        diff = (hh - ll) / 100.0
        # TA-Lib 0.8 TA_IS_ZERO_SCALED: a range within 1e-14 of the extremes' magnitude is flat
        flat = abs(hh - ll) <= _EPS_SCALED * (abs(hh) + abs(ll))
        fastk[i] = 0.0 if flat else (close[i] - ll) / diff
    k0 = fastk_window - 1
    slowk = _nans(n)
    if k0 < n:
        slowk[k0:] = sma_1d(fastk[k0:], slowk_window)
    d0 = k0 + slowk_window - 1
    slowd = _nans(n)
    if d0 < n:
        slowd[d0:] = sma_1d(slowk[d0:], slowd_window)
    look = d0 + slowd_window - 1
    slowk[: min(look, n)] = NAN
    return slowk, slowd


def _dm(h: float, lo: float, prev_h: float, prev_lo: float) -> tuple[float, float]:
    diff_p = h - prev_h
    diff_m = prev_lo - lo
    if diff_m > 0 and diff_p < diff_m:
        return 0.0, diff_m
    if diff_p > 0 and diff_p > diff_m:
        return diff_p, 0.0
    return 0.0, 0.0


def adx_1d(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wilder's ADX, +DI and -DI as TA-Lib ``ADX``/``PLUS_DI``/``MINUS_DI``.

    +DM/-DM and TR are summed over the first ``window - 1`` moves and then smoothed with
    ``prev - prev / window + new``; the DIs are first defined at index ``window``, the ADX (mean of the first
    ``window`` DX values, then Wilder-smoothed) at ``2 * window - 1``. DI is 0 and DX is skipped when TR is 0.
    """
    n = len(close)
    adx, pdi, mdi = _nans(n), _nans(n), _nans(n)
    if n <= window:
        return adx, pdi, mdi
    pdm = mdm = tr = 0.0
    for i in range(1, window):
        p, m = _dm(high[i], low[i], high[i - 1], low[i - 1])
        pdm += p
        mdm += m
        tr += _true_range(high[i], low[i], close[i - 1])
    sum_dx = 0.0
    prev_adx = 0.0
    for i in range(window, n):
        p, m = _dm(high[i], low[i], high[i - 1], low[i - 1])
        mdm -= mdm / window
        pdm -= pdm / window
        mdm += m
        pdm += p
        tr = tr - (tr / window) + _true_range(high[i], low[i], close[i - 1])
        dx = NAN
        if tr > 0.0:
            minus = 100.0 * (mdm / tr)
            plus = 100.0 * (pdm / tr)
            pdi[i] = plus
            mdi[i] = minus
            s = minus + plus
            if not _is_zero(s):
                dx = 100.0 * (abs(minus - plus) / s)
        else:
            pdi[i] = 0.0
            mdi[i] = 0.0
        k = i - window  # 0-based count of DX values
        if k < window:
            if dx == dx:
                sum_dx += dx
            if k == window - 1:
                prev_adx = sum_dx / window
                adx[i] = prev_adx
        else:
            if dx == dx:
                prev_adx = ((prev_adx * (window - 1)) + dx) / window
            adx[i] = prev_adx
    return adx, pdi, mdi


def obv_1d(close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """On-balance volume starting at the first bar's volume (TA-Lib ``OBV``)."""
    n = len(close)
    out = _nans(n)
    if n == 0:
        return out
    prev_obv = volume[0]
    prev = close[0]
    out[0] = prev_obv
    for i in range(1, n):
        if close[i] > prev:
            prev_obv += volume[i]
        elif close[i] < prev:
            prev_obv -= volume[i]
        out[i] = prev_obv
        prev = close[i]
    return out


def apply_columns(
    func: Callable[..., np.ndarray | tuple[np.ndarray, ...]],
    inputs: Sequence[np.ndarray],
    n_outputs: int,
    *params: float,
) -> list[np.ndarray]:
    """Apply a ``*_1d`` function to each column of 2-D time-major inputs under the NaN policy.

    A row is a bar of the column when every input is finite there; the function sees only those bars and its
    results are written back to their rows; other rows are NaN.
    """
    n, m = inputs[0].shape
    outs = [np.full((n, m), NAN) for _ in range(n_outputs)]
    for j in range(m):
        cols = [a[:, j] for a in inputs]
        valid = np.ones(n, dtype=bool)
        for c in cols:
            valid &= np.isfinite(c)
        res = func(*[np.ascontiguousarray(c[valid]) for c in cols], *params)
        res_t = res if isinstance(res, tuple) else (res,)
        for o, r in zip(outs, res_t, strict=True):
            o[valid, j] = r
    return outs
