"""One copy of each indicator recursion step: small numba functions inlined into every kernel that uses them.

The batch kernels (:mod:`capscope.indicators.kernels`, the fused ``core_kernel`` included), the one-bar stream
kernels (:mod:`capscope.indicators.stream_kernels`), breadth's EMA (:mod:`capscope.analytics.breadth`) and the
chartist detector's ATR (:mod:`capscope.indicators.pivots`) all call these, so a recursion is written once and
every caller does the same floating-point operations in the same order (TA-Lib's C source, see
:mod:`capscope.indicators.reference`, the plain-Python oracle that stays separate on purpose). Each function is
``inline="always"`` (numba inlines it into the caller's IR before optimisation), so the vectorised row loops
of the fused kernel see the same straight-line arithmetic as before.

Windows may be passed as ``int`` or as ``float``: ``x * (window - 1)`` and ``x / window`` give the same double
either way (the integer converts exactly).
"""

from __future__ import annotations

import numba as nb
import numpy as np

ZERO_EPS = 1e-14  # TA-Lib 0.8's TA_EPSILON (TA_IS_ZERO and TA_IS_ZERO_SCALED)


@nb.njit(cache=True, inline="always")
def ema_alpha(window: float) -> float:
    """Smoothing constant of an EMA of ``window`` bars: ``2 / (window + 1)`` (TA-Lib ``PER_TO_K``)."""
    return 2.0 / (window + 1)


@nb.njit(cache=True, inline="always")
def ema_step(prev: float, value: float, alpha: float) -> float:
    """One EMA step, TA-Lib's operation order: ``(value - prev) * alpha + prev``."""
    return (value - prev) * alpha + prev


@nb.njit(cache=True, inline="always")
def wilder_step(prev: float, value: float, window: float) -> float:
    """One step of Wilder smoothing (ATR, ADX): ``(prev * (window - 1) + value) / window``."""
    p = prev * (window - 1)
    p += value
    return p / window


@nb.njit(cache=True, inline="always")
def true_range(h: float, lo: float, prev_close: float) -> float:
    """Wilder's true range of one bar (TA-Lib ``TRANGE``: the same comparisons in the same order)."""
    greatest = h - lo
    v2 = abs(prev_close - h)
    if v2 > greatest:
        greatest = v2
    v3 = abs(lo - prev_close)
    if v3 > greatest:
        greatest = v3
    return greatest


@nb.njit(cache=True, inline="always")
def atr_step(prev: float, tr: float, k: int, window: int) -> tuple[float, float]:
    """Wilder ATR on a symbol's ``k``-th bar (``k >= 1``) with true range ``tr``: ``(state, output)``.

    TA-Lib ``ATR``: the state sums the first ``window`` true ranges, their mean is the first ATR (bar
    ``window``), then :func:`wilder_step`; the output is NaN during the warm-up (``window == 1``: the TR).
    """
    if window == 1:
        return prev, tr
    if k < window:
        return prev + tr, np.nan
    if k == window:
        a = (prev + tr) / window
        return a, a
    a = wilder_step(prev, tr, window)
    return a, a


@nb.njit(cache=True, inline="always")
def rsi_smooth(avg: float, move: float, window_minus_1: float, inv: float) -> float:
    """Wilder's RSI average past its seed, TA-Lib's order: ``(avg * (window - 1) + move) * (1 / window)``."""
    return (avg * window_minus_1 + move) * inv


@nb.njit(cache=True, inline="always")
def rsi_value(gain: float, loss: float) -> float:
    """RSI from the two Wilder averages (0 when both are 0, as TA-Lib)."""
    tot = gain + loss
    return 100.0 * (gain / tot) if tot > 0.0 else 0.0


@nb.njit(cache=True, inline="always")
def rsi_step(gain: float, loss: float, delta: float, k: int, window: int) -> tuple[float, float, float]:
    """Wilder RSI on a symbol's ``k``-th bar (``k >= 1``), close change ``delta``: ``(gain, loss, rsi)``.

    The averages are seeded with the sums of the first ``window`` moves times ``1 / window`` (TA-Lib ``RSI``,
    unstable period 0), then :func:`rsi_smooth`; ``rsi`` is NaN before bar ``window``.
    """
    up = delta if delta > 0.0 else 0.0
    down = up - delta
    inv = 1.0 / window
    if k > window:
        gain = rsi_smooth(gain, up, window - 1, inv)
        loss = rsi_smooth(loss, down, window - 1, inv)
        return gain, loss, rsi_value(gain, loss)
    gain += up
    loss += down
    if k < window:
        return gain, loss, np.nan
    gain *= inv
    loss *= inv
    return gain, loss, rsi_value(gain, loss)


@nb.njit(cache=True, inline="always")
def directional_movement(h: float, lo: float, prev_h: float, prev_lo: float) -> tuple[float, float]:
    """``(+DM, -DM)`` of one bar (TA-Lib ``PLUS_DM``/``MINUS_DM``: only the larger move counts, ties none)."""
    diff_p = h - prev_h
    diff_m = prev_lo - lo
    if diff_m > 0 and diff_p < diff_m:
        return 0.0, diff_m
    if diff_p > 0 and diff_p > diff_m:
        return diff_p, 0.0
    return 0.0, 0.0


@nb.njit(cache=True, inline="always")
def adx_step(
    pdm: float,
    mdm: float,
    trs: float,
    sum_dx: float,
    adx: float,
    plus_move: float,
    minus_move: float,
    tr: float,
    k: int,
    window: int,
) -> tuple[float, float, float, float, float, float, float, float]:
    """Wilder ADX, +DI, -DI on a symbol's ``k``-th bar (``k >= 1``; TA-Lib ``ADX``/``PLUS_DI``/``MINUS_DI``).

    State: Wilder sums of +DM, -DM and TR, the sum of the first ``window`` DX values (the ADX seed) and the
    previous ADX. Returns the new state ``(pdm, mdm, trs, sum_dx, adx)`` and the bar's ``(adx, +DI, -DI)``
    outputs (NaN while undefined; both DI are 0 when the TR sum is not positive, and that bar's DX is skipped).
    """
    nan = np.nan
    if k < window:
        return pdm + plus_move, mdm + minus_move, trs + tr, sum_dx, adx, nan, nan, nan
    mdm -= mdm / window
    pdm -= pdm / window
    mdm += minus_move
    pdm += plus_move
    trs = trs - (trs / window) + tr
    dx = nan
    if not trs > 0.0:
        plus = 0.0
        minus = 0.0
    else:
        minus = 100.0 * (mdm / trs)
        plus = 100.0 * (pdm / trs)
        s = minus + plus
        if not (-ZERO_EPS < s < ZERO_EPS):
            dx = 100.0 * (abs(minus - plus) / s)
    out = nan
    q = k - window
    if q < window:
        if dx == dx:
            sum_dx += dx
        if q == window - 1:
            adx = sum_dx / window
            out = adx
    else:
        if dx == dx:
            adx = wilder_step(adx, dx, window)
        out = adx
    return pdm, mdm, trs, sum_dx, adx, out, plus, minus


@nb.njit(cache=True, inline="always")
def zigzag_step(
    h: float,
    lw: float,
    t: int,
    a: float,
    threshold: float,
    use_atr: bool,
    direction: int,
    hi: float,
    hi_i: int,
    lo: float,
    lo_i: int,
) -> tuple[float, int, float, int, int]:
    """The causal zig-zag (:func:`capscope.indicators.pivots.zigzag_pivots`) on NaN-free bar ``t`` (high ``h``,
    low ``lw``).

    State: ``direction`` (0: nothing confirmed yet; +1: the last pivot is a low and the highs are tracked; -1:
    the reverse) and the running extremes ``hi``/``lo`` with their bars. ``a`` is the bar's ATR in ATR mode
    (NaN: not defined yet, nothing is confirmed) and unused in percent mode. Returns the running extremes
    ``(hi, hi_i, lo, lo_i)`` after the bar and what it confirms: 0 nothing, +1 the running high (a swing high),
    -1 the running low, +2 both (before any pivot: the low is older, so it comes first), -2 both (the high
    first); :func:`zigzag_confirm` records them.
    """
    if direction >= 0 and h > hi:
        hi = h
        hi_i = t
    if direction <= 0 and lw < lo:
        lo = lw
        lo_i = t
    if use_atr:
        if a != a:  # NaN: ATR not defined yet
            return hi, hi_i, lo, lo_i, 0
        thr_down = threshold * a
        thr_up = threshold * a
    else:
        thr_down = hi * threshold
        thr_up = lo * threshold
    if direction == 0:
        down = hi_i < t and lw <= hi - thr_down
        up = lo_i < t and h >= lo + thr_up
        if down and up:  # both extremes confirmed on this bar: the older one first so kinds alternate
            return hi, hi_i, lo, lo_i, 2 if lo_i < hi_i else -2
        return hi, hi_i, lo, lo_i, 1 if down else (-1 if up else 0)
    if direction == 1:
        return hi, hi_i, lo, lo_i, 1 if hi_i < t and lw <= hi - thr_down else 0
    return hi, hi_i, lo, lo_i, -1 if lo_i < t and h >= lo + thr_up else 0


@nb.njit(cache=True)
def zigzag_confirm(
    high: np.ndarray,
    low: np.ndarray,
    t: int,
    code: int,
    hi: float,
    hi_i: int,
    lo: float,
    lo_i: int,
    idx: np.ndarray,
    conf: np.ndarray,
    kind: np.ndarray,
    price: np.ndarray,
    m: int,
) -> tuple[int, float, int, float, int, int]:
    """Record the pivots :func:`zigzag_step` confirmed on bar ``t`` (``code``) at ``m`` of ``idx``/``conf``/
    ``kind``/``price`` and turn: the new running extreme is found again over bars ``pivot + 1 .. t`` of
    ``high``/``low``. Returns ``(direction, hi, hi_i, lo, lo_i, m)``."""
    if code == 2 or code == -2:  # the older extreme first
        first_high = code == -2
        idx[m] = hi_i if first_high else lo_i
        conf[m] = t
        kind[m] = 1 if first_high else -1
        price[m] = hi if first_high else lo
        m += 1
        code = -1 if first_high else 1
    idx[m] = hi_i if code > 0 else lo_i
    conf[m] = t
    kind[m] = 1 if code > 0 else -1
    price[m] = hi if code > 0 else lo
    m += 1
    if code > 0:  # a swing high: track the lows after it
        lo = np.inf
        for j in range(hi_i + 1, t + 1):
            if low[j] < lo:
                lo = low[j]
                lo_i = j
        return -1, hi, hi_i, lo, lo_i, m
    hi = -np.inf
    for j in range(lo_i + 1, t + 1):
        if high[j] > hi:
            hi = high[j]
            hi_i = j
    return 1, hi, hi_i, lo, lo_i, m
