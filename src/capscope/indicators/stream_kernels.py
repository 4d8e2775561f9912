"""Numba per-bar kernels of the incremental indicator states (:mod:`capscope.indicators.stream`).

Each ``*_step`` advances every symbol by one bar with the per-bar body of the matching batch kernel in
:mod:`capscope.indicators.kernels` (same floating-point operations in the same order), reading old values
from ring buffers indexed by the symbol's bar count instead of from the panel; ``*_history`` feeds a panel
bar by bar. The stream kernels are tested equal, bit for bit, to the batch functions, which are themselves
tested against their plain twins in :mod:`capscope.indicators.reference` and against TA-Lib.

A symbol has a bar for an indicator when every input of that indicator is finite in the row; without one its
outputs are NaN and its state for that indicator does not move (the batch NaN policy: each column computed on
its own bars).

No signatures are declared, so nothing compiles at import.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from capscope.indicators.kernels import bb_add, bb_emit, bb_reseed
from capscope.indicators.recursions import (
    ZERO_EPS,
    adx_step,
    atr_step,
    directional_movement,
    ema_alpha,
    ema_step,
    rsi_step,
    true_range,
)

# rows of the core state's ``values``
(C_SA, C_SB, C_E, C_F, C_S, C_G, C_GAIN, C_LOSS, C_ATR, C_PREV_C, C_PREV_A, C_BB0) = range(12)
CORE_N_VALUES = C_BB0 + 5  # the last five rows are the Bollinger state of kernels.bb_add
# rows of the core state's ``counts``: bars with a close; bars with high, low and close
CORE_CNT_C, CORE_CNT_A = 0, 1
CORE_N_COUNTS = 2
CORE_N_OUT = 11

# rows of the extra state's ``values``
(
    X_WSUM,  # WMA running weighted sum (TA-Lib periodSum)
    X_WSUB,  # WMA running plain sum (periodSub)
    X_KSUM,  # STOCH sum of the last slowk fast-K values
    X_DSUM,  # STOCH sum of the last slowd slow-K values
    X_PDM,  # ADX Wilder sums of +DM, -DM and TR
    X_MDM,
    X_TRS,
    X_SUM_DX,  # ADX: sum of the first DX values (the seed)
    X_ADX,  # ADX: previous ADX
    X_PREV_H,  # previous high, low, close of the symbol's last high/low/close bar
    X_PREV_L,
    X_PREV_C,
    X_OBV,  # OBV accumulator
    X_OBV_PREV_C,  # close of the symbol's last close/volume bar
) = range(14)
EXTRA_N_VALUES = 14
# rows of the extra state's ``counts``: bars with a close (WMA, ROC); with high, low and close (TRANGE, STOCH,
# ADX); with close and volume (OBV)
EXTRA_CNT_C, EXTRA_CNT_HLC, EXTRA_CNT_CV = 0, 1, 2
EXTRA_N_COUNTS = 3
EXTRA_N_OUT = 9


@nb.njit(cache=True, nogil=True)
def _ring_sum(ring: np.ndarray, j: int, first: int, last: int) -> float:
    size = ring.shape[0]
    s = 0.0
    for i in range(first, last + 1):
        s += ring[i % size, j]
    return s


@nb.njit(cache=True, nogil=True)
def core_step(
    vals: np.ndarray,
    counts: np.ndarray,
    ring: np.ndarray,
    sma_fast: int,
    sma_slow: int,
    ema_w: int,
    mf: int,
    ms: int,
    mg: int,
    rsi_w: int,
    atr_w: int,
    bb_w: int,
    bb_up: float,
    bb_dn: float,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    out: np.ndarray,
) -> None:
    """One bar for every symbol: the per-bar body of ``core_kernel`` with a ring buffer for old closes."""
    m = close.shape[0]
    size = ring.shape[0]
    k_e = ema_alpha(ema_w)
    k_f = ema_alpha(mf)
    k_s = ema_alpha(ms)
    k_g = ema_alpha(mg)
    m_first = ms - 1
    m_look = m_first + mg - 1
    for j in range(m):
        for q in range(CORE_N_OUT):
            out[q, j] = np.nan
        c = close[j]
        if c != c:
            continue
        k = counts[CORE_CNT_C, j]
        ring[k % size, j] = c
        # SMA fast / slow
        vals[C_SA, j] += c
        if k >= sma_fast - 1:
            out[0, j] = vals[C_SA, j] / sma_fast
            vals[C_SA, j] -= ring[(k - sma_fast + 1) % size, j]
        vals[C_SB, j] += c
        if k >= sma_slow - 1:
            out[1, j] = vals[C_SB, j] / sma_slow
            vals[C_SB, j] -= ring[(k - sma_slow + 1) % size, j]
        # Bollinger
        bb = vals[C_BB0:]
        bb_add(bb, j, c, k, bb_w)
        if k >= bb_w - 1:
            mean, variance, reseed = bb_emit(bb, j, ring[(k - bb_w + 1) % size, j], bb_w)
            if reseed:
                win = np.empty(bb_w)
                for i in range(bb_w):
                    win[i] = ring[(k - bb_w + 1 + i) % size, j]
                variance = bb_reseed(bb, j, win, bb_w)
            sd = np.sqrt(variance) if variance != 0.0 else 0.0
            out[8, j] = mean + sd * bb_up
            out[9, j] = mean
            out[10, j] = mean - sd * bb_dn
        # EMA
        if k >= ema_w:
            vals[C_E, j] = ema_step(vals[C_E, j], c, k_e)
            out[2, j] = vals[C_E, j]
        elif k == ema_w - 1:
            vals[C_E, j] = _ring_sum(ring, j, k - ema_w + 1, k) / ema_w
            out[2, j] = vals[C_E, j]
        # MACD
        if k >= m_first:
            if k == m_first:
                vals[C_S, j] = _ring_sum(ring, j, k - ms + 1, k) / ms
                vals[C_F, j] = _ring_sum(ring, j, k - mf + 1, k) / mf
            else:
                vals[C_F, j] = ema_step(vals[C_F, j], c, k_f)
                vals[C_S, j] = ema_step(vals[C_S, j], c, k_s)
            line = vals[C_F, j] - vals[C_S, j]
            if k < m_look:
                vals[C_G, j] += line
            else:
                if k == m_look:
                    vals[C_G, j] = (vals[C_G, j] + line) / mg
                else:
                    vals[C_G, j] = ema_step(vals[C_G, j], line, k_g)
                out[3, j] = line
                out[4, j] = vals[C_G, j]
                out[5, j] = line - vals[C_G, j]
        # RSI
        if k > 0:
            vals[C_GAIN, j], vals[C_LOSS, j], out[6, j] = rsi_step(
                vals[C_GAIN, j], vals[C_LOSS, j], c - vals[C_PREV_C, j], k, rsi_w
            )
        vals[C_PREV_C, j] = c
        counts[CORE_CNT_C, j] = k + 1
        # ATR (needs high, low and close)
        h = high[j]
        lo = low[j]
        if h != h or lo != lo:
            continue
        ka = counts[CORE_CNT_A, j]
        if ka > 0:
            vals[C_ATR, j], out[7, j] = atr_step(
                vals[C_ATR, j], true_range(h, lo, vals[C_PREV_A, j]), ka, atr_w
            )
        vals[C_PREV_A, j] = c
        counts[CORE_CNT_A, j] = ka + 1


@nb.njit(cache=True, nogil=True)
def core_history(
    vals: np.ndarray,
    counts: np.ndarray,
    ring: np.ndarray,
    sma_fast: int,
    sma_slow: int,
    ema_w: int,
    mf: int,
    ms: int,
    mg: int,
    rsi_w: int,
    atr_w: int,
    bb_w: int,
    bb_up: float,
    bb_dn: float,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
) -> None:
    out = np.empty((CORE_N_OUT, close.shape[1]))
    for t in range(close.shape[0]):
        core_step(
            vals, counts, ring, sma_fast, sma_slow, ema_w, mf, ms, mg, rsi_w, atr_w, bb_w, bb_up, bb_dn,
            high[t], low[t], close[t], out,
        )  # fmt: skip


# -- the extra indicators: WMA, ROC, TRANGE, STOCH, ADX/+DI/-DI, OBV ----------------------------------------


@nb.njit(cache=True, nogil=True)
def extra_step(
    vals: np.ndarray,
    counts: np.ndarray,
    close_ring: np.ndarray,
    high_ring: np.ndarray,
    low_ring: np.ndarray,
    fastk_ring: np.ndarray,
    slowk_ring: np.ndarray,
    wma_w: int,
    roc_w: int,
    fastk: int,
    slowk: int,
    slowd: int,
    adx_w: int,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    out: np.ndarray,
) -> None:
    """One bar for every symbol: the per-bar bodies of ``wma_kernel``, ``roc_kernel``, ``trange_kernel``,
    ``stoch_kernel``, ``adx_kernel`` and ``obv_kernel``.

    Rings hold, per symbol, the last closes (``max(wma_w, roc_w)``, read before the current close is written),
    the last ``fastk`` highs and lows (current bar included), the last ``slowk`` fast-K and ``slowd`` slow-K
    values, each in slot ``bar count % ring size``.
    """
    m = close.shape[0]
    size = close_ring.shape[0]
    divider = wma_w * (wma_w + 1) / 2.0
    k0 = fastk - 1
    d0 = k0 + slowk - 1
    look = d0 + slowd - 1
    for j in range(m):
        for q in range(EXTRA_N_OUT):
            out[q, j] = np.nan
        c = close[j]
        if c != c:
            continue
        # WMA and ROC: bars with a close
        k = counts[EXTRA_CNT_C, j]
        vals[X_WSUB, j] += c
        if k < wma_w - 1:
            vals[X_WSUM, j] += c * (k + 1)
        else:
            trailing = close_ring[(k - wma_w) % size, j] if k >= wma_w else 0.0
            vals[X_WSUB, j] -= trailing
            vals[X_WSUM, j] += c * wma_w
            out[0, j] = vals[X_WSUM, j] / divider
            vals[X_WSUM, j] -= vals[X_WSUB, j]
        if k >= roc_w:
            old = close_ring[(k - roc_w) % size, j]
            out[1, j] = (c / old - 1.0) * 100.0 if old != 0.0 else 0.0
        close_ring[k % size, j] = c
        counts[EXTRA_CNT_C, j] = k + 1
        # OBV: bars with close and volume
        v = volume[j]
        if v == v:
            ko = counts[EXTRA_CNT_CV, j]
            if ko == 0:
                vals[X_OBV, j] = v
            else:
                prev = vals[X_OBV_PREV_C, j]
                if c > prev:
                    vals[X_OBV, j] += v
                elif c < prev:
                    vals[X_OBV, j] -= v
            out[8, j] = vals[X_OBV, j]
            vals[X_OBV_PREV_C, j] = c
            counts[EXTRA_CNT_CV, j] = ko + 1
        # TRANGE, STOCH, ADX: bars with high, low and close
        h = high[j]
        lo = low[j]
        if h != h or lo != lo:
            continue
        k = counts[EXTRA_CNT_HLC, j]
        if k > 0:
            tr = true_range(h, lo, vals[X_PREV_C, j])
            out[2, j] = tr
            _adx_bar(vals, j, k, h, lo, tr, adx_w, out)
        _stoch_bar(vals, j, k, h, lo, c, high_ring, low_ring, fastk_ring, slowk_ring, k0, d0, look, out)
        vals[X_PREV_H, j] = h
        vals[X_PREV_L, j] = lo
        vals[X_PREV_C, j] = c
        counts[EXTRA_CNT_HLC, j] = k + 1


@nb.njit(cache=True, inline="always")
def _stoch_bar(
    vals: np.ndarray,
    j: int,
    k: int,
    h: float,
    lo: float,
    c: float,
    high_ring: np.ndarray,
    low_ring: np.ndarray,
    fastk_ring: np.ndarray,
    slowk_ring: np.ndarray,
    k0: int,
    d0: int,
    look: int,
    out: np.ndarray,
) -> None:
    fastk = high_ring.shape[0]
    slowk = fastk_ring.shape[0]
    slowd = slowk_ring.shape[0]
    high_ring[k % fastk, j] = h
    low_ring[k % fastk, j] = lo
    if k < k0:
        return
    hh = high_ring[(k - k0) % fastk, j]
    ll = low_ring[(k - k0) % fastk, j]
    for i in range(k - k0 + 1, k + 1):
        if high_ring[i % fastk, j] > hh:
            hh = high_ring[i % fastk, j]
        if low_ring[i % fastk, j] < ll:
            ll = low_ring[i % fastk, j]
    diff = (hh - ll) / 100.0
    flat = abs(hh - ll) <= ZERO_EPS * (abs(hh) + abs(ll))
    f = 0.0 if flat else (c - ll) / diff
    fastk_ring[k % slowk, j] = f
    vals[X_KSUM, j] += f
    if k < d0:
        return
    sk = vals[X_KSUM, j] / slowk
    vals[X_KSUM, j] -= fastk_ring[(k - slowk + 1) % slowk, j]
    slowk_ring[k % slowd, j] = sk
    vals[X_DSUM, j] += sk
    if k < look:
        return
    out[3, j] = sk
    out[4, j] = vals[X_DSUM, j] / slowd
    vals[X_DSUM, j] -= slowk_ring[(k - slowd + 1) % slowd, j]


@nb.njit(cache=True, inline="always")
def _adx_bar(
    vals: np.ndarray, j: int, k: int, h: float, lo: float, tr: float, window: int, out: np.ndarray
) -> None:
    p, mm = directional_movement(h, lo, vals[X_PREV_H, j], vals[X_PREV_L, j])
    (vals[X_PDM, j], vals[X_MDM, j], vals[X_TRS, j], vals[X_SUM_DX, j], vals[X_ADX, j], adx, plus, minus) = (
        adx_step(
            vals[X_PDM, j],
            vals[X_MDM, j],
            vals[X_TRS, j],
            vals[X_SUM_DX, j],
            vals[X_ADX, j],
            p,
            mm,
            tr,
            k,
            window,
        )
    )
    out[5, j] = adx
    out[6, j] = plus
    out[7, j] = minus


@nb.njit(cache=True, nogil=True)
def extra_history(
    vals: np.ndarray,
    counts: np.ndarray,
    close_ring: np.ndarray,
    high_ring: np.ndarray,
    low_ring: np.ndarray,
    fastk_ring: np.ndarray,
    slowk_ring: np.ndarray,
    wma_w: int,
    roc_w: int,
    fastk: int,
    slowk: int,
    slowd: int,
    adx_w: int,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
) -> None:
    out = np.empty((EXTRA_N_OUT, close.shape[1]))
    for t in range(close.shape[0]):
        extra_step(
            vals, counts, close_ring, high_ring, low_ring, fastk_ring, slowk_ring,
            wma_w, roc_w, fastk, slowk, slowd, adx_w, high[t], low[t], close[t], volume[t], out,
        )  # fmt: skip
