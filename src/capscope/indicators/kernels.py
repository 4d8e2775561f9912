"""Numba kernels of the indicator engine: time-major loops over whole panels.

Every ``*_kernel`` takes 2-D C-contiguous ``float64`` arrays ``(n_bars, n_symbols)`` and loops over bars in the
outer loop and over symbols in the inner loop (rows are contiguous in memory), with the symbols split into
one block per thread (``prange``). Per-symbol state (running sums, previous EMA, Wilder averages) lives
in small arrays indexed by symbol, so one pass over the inputs produces the outputs. The arithmetic follows the
TA-Lib C source operation by operation (see :mod:`capscope.indicators.reference`, the plain twins).

Fast path and NaN policy. A kernel treats each column as starting at its first finite bar and as *dense* from
there: the value ``window`` bars back is read directly from the input. When it meets a missing bar followed by
a bar again (an interior gap), or inputs with different missing rows, it flags the column in the returned
``irregular`` mask; the ``*_2d`` wrappers then recompute exactly those columns on their compressed bars
(:func:`_recompute_irregular`), which implements the policy of :mod:`capscope.indicators.api`: a column is
computed on its own bars, rows without a bar give NaN and do not advance the indicator. Trailing missing rows
(a delisted symbol) are handled in the fast path.

:func:`core_kernel` fuses the seven core indicators (SMA, SMA, EMA, MACD, RSI, ATR, Bollinger) so that one read
of close/high/low feeds all eleven outputs; it is the engine's bandwidth-bound path.

No signatures are declared, so nothing compiles at import; ``cache=True`` stores the machine code beside this
file after the first call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numba as nb
import numpy as np

from capscope.indicators.recursions import (
    ZERO_EPS,
    adx_step,
    atr_step,
    directional_movement,
    ema_alpha,
    ema_step,
    rsi_smooth,
    rsi_step,
    rsi_value,
    true_range,
    wilder_step,
    zigzag_confirm,
    zigzag_step,
)

__all__ = ["ZERO_EPS", "directional_movement", "true_range"]  # re-exported: one copy in recursions.py
_MIN_BLOCK = 64  # fewest symbols per parallel block
# fewest symbols per block of the fused kernel: each block pays a fixed cost per row (~0.3 us: row views, loop
# set-up), which blocks narrower than this pay more often than a second thread saves (benchmarks/RESULTS.md)
_CORE_MIN_BLOCK = 256


def _prange_only() -> Any:  # (a dict; the numba stubs type `parallel` as a bool only)
    """numba ``parallel`` options: parallelise the explicit ``prange`` loops only. By default numba also turns
    array expressions and allocations (``np.zeros``...) into parallel regions, each of which waits for every
    thread, however little work it holds (tens of ms when another process holds a core). A fresh dict per
    use: numba consumes it."""
    options = dict.fromkeys(
        ("comprehension", "reduction", "inplace_binop", "setitem", "numpy", "stencil"), False
    )
    return options | {"fusion": False, "prange": True}


# numba's reference counting off (numba's own ``_nrt`` flag) for the fused kernel's block and late-column
# functions: they slice ~40 row views per row (and one-element views per late column), each of which would
# otherwise take and drop a reference with atomic operations (~5 % of the kernel's time on the stock panel).
# Safe there: every view is of an array the caller holds for the whole call, and the functions allocate nothing
# (numba refuses to compile an allocation without reference counting).
_NO_REFCOUNTS: dict[str, Any] = {"_nrt": False}


def block_size(m: int) -> int:
    """Symbols per parallel block: one block per numba thread (measured fastest: long contiguous row
    segments keep the hardware prefetchers streaming; see benchmarks/RESULTS.md)."""
    threads = nb.get_num_threads()
    return max(_MIN_BLOCK, (m + threads - 1) // threads)


@nb.njit(cache=True, inline="always")
def _nblocks(m: int, block: int) -> int:
    return (m + block - 1) // block


@nb.njit(cache=True, nogil=True)
def _starts(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """First row where all three inputs are finite, per column (``n_bars`` if none). Each row only looks at
    the columns that have not started yet."""
    n, m = a.shape
    start = np.full(m, n, dtype=np.int64)
    pending = np.arange(m)
    remaining = m
    for t in range(n):
        if remaining == 0:
            break
        left = 0
        for q in range(remaining):
            j = pending[q]
            if a[t, j] == a[t, j] and b[t, j] == b[t, j] and c[t, j] == c[t, j]:
                start[j] = t
            else:
                pending[left] = j
                left += 1
        remaining = left
    return start


# -- single-input kernels ----------------------------------------------------------------------------------


@nb.njit(cache=True, nogil=True, parallel=_prange_only())
def sma_kernel(x: np.ndarray, out: np.ndarray, window: int, block: int) -> np.ndarray:
    """SMA (TA-Lib running total). Returns ``(out, irregular)``."""
    n, m = x.shape
    irregular = np.zeros(m, dtype=np.bool_)
    dead = np.zeros(m, dtype=np.bool_)
    total = np.zeros(m)
    start = _starts(x, x, x)
    for b in nb.prange(_nblocks(m, block)):
        j0 = b * block
        j1 = min(m, j0 + block)
        for t in range(n):
            for j in range(j0, j1):
                v = x[t, j]
                if v != v:
                    if t >= start[j]:
                        dead[j] = True
                    out[t, j] = np.nan
                    continue
                if dead[j]:
                    irregular[j] = True
                k = t - start[j]
                total[j] += v
                if k >= window - 1:
                    out[t, j] = total[j] / window
                    total[j] -= x[t - window + 1, j]
                else:
                    out[t, j] = np.nan
    return irregular


@nb.njit(cache=True, nogil=True, parallel=_prange_only())
def ema_kernel(x: np.ndarray, out: np.ndarray, window: int, block: int) -> np.ndarray:
    """EMA seeded with the SMA of the first ``window`` bars (TA-Lib ``INT_EMA``)."""
    n, m = x.shape
    irregular = np.zeros(m, dtype=np.bool_)
    dead = np.zeros(m, dtype=np.bool_)
    prev = np.zeros(m)
    kf = ema_alpha(window)
    start = _starts(x, x, x)
    for b in nb.prange(_nblocks(m, block)):
        j0 = b * block
        j1 = min(m, j0 + block)
        for t in range(n):
            for j in range(j0, j1):
                v = x[t, j]
                if v != v:
                    if t >= start[j]:
                        dead[j] = True
                    out[t, j] = np.nan
                    continue
                if dead[j]:
                    irregular[j] = True
                k = t - start[j]
                if k >= window:
                    p = ema_step(prev[j], v, kf)
                    prev[j] = p
                    out[t, j] = p
                elif k == window - 1:
                    s = 0.0
                    for i in range(t - window + 1, t + 1):
                        s += x[i, j]
                    prev[j] = s / window
                    out[t, j] = prev[j]
                else:
                    out[t, j] = np.nan
    return irregular


@nb.njit(cache=True, nogil=True, parallel=_prange_only())
def wma_kernel(x: np.ndarray, out: np.ndarray, window: int, block: int) -> np.ndarray:
    """WMA with TA-Lib's running weighted sum (``periodSum``/``periodSub``)."""
    n, m = x.shape
    irregular = np.zeros(m, dtype=np.bool_)
    dead = np.zeros(m, dtype=np.bool_)
    psum = np.zeros(m)
    psub = np.zeros(m)
    divider = window * (window + 1) / 2.0
    start = _starts(x, x, x)
    for b in nb.prange(_nblocks(m, block)):
        j0 = b * block
        j1 = min(m, j0 + block)
        for t in range(n):
            for j in range(j0, j1):
                v = x[t, j]
                if v != v:
                    if t >= start[j]:
                        dead[j] = True
                    out[t, j] = np.nan
                    continue
                if dead[j]:
                    irregular[j] = True
                k = t - start[j]
                psub[j] += v
                if k < window - 1:
                    psum[j] += v * (k + 1)
                    out[t, j] = np.nan
                    continue
                trailing = x[t - window, j] if k >= window else 0.0
                psub[j] -= trailing
                psum[j] += v * window
                out[t, j] = psum[j] / divider
                psum[j] -= psub[j]
    return irregular


@nb.njit(cache=True, nogil=True, parallel=_prange_only())
def macd_kernel(
    x: np.ndarray,
    out_m: np.ndarray,
    out_s: np.ndarray,
    out_h: np.ndarray,
    fast: int,
    slow: int,
    signal: int,
    block: int,
) -> np.ndarray:
    """MACD line, signal, histogram (TA-Lib ``INT_MACD``; ``fast <= slow`` expected)."""
    n, m = x.shape
    irregular = np.zeros(m, dtype=np.bool_)
    dead = np.zeros(m, dtype=np.bool_)
    ef = np.zeros(m)
    es = np.zeros(m)
    sig = np.zeros(m)
    kfast = ema_alpha(fast)
    kslow = ema_alpha(slow)
    ksig = ema_alpha(signal)
    first = slow - 1
    look = first + signal - 1
    start = _starts(x, x, x)
    for b in nb.prange(_nblocks(m, block)):
        j0 = b * block
        j1 = min(m, j0 + block)
        for t in range(n):
            for j in range(j0, j1):
                v = x[t, j]
                out_m[t, j] = np.nan
                out_s[t, j] = np.nan
                out_h[t, j] = np.nan
                if v != v:
                    if t >= start[j]:
                        dead[j] = True
                    continue
                if dead[j]:
                    irregular[j] = True
                k = t - start[j]
                if k < first:
                    continue
                if k == first:
                    s = 0.0
                    for i in range(t - slow + 1, t + 1):
                        s += x[i, j]
                    es[j] = s / slow
                    s = 0.0
                    for i in range(t - fast + 1, t + 1):
                        s += x[i, j]
                    ef[j] = s / fast
                else:
                    ef[j] = ema_step(ef[j], v, kfast)
                    es[j] = ema_step(es[j], v, kslow)
                line = ef[j] - es[j]
                if k < look:
                    sig[j] += line  # the signal's seed: sum of the first `signal` MACD values
                    continue
                if k == look:
                    sig[j] = (sig[j] + line) / signal
                else:
                    sig[j] = ema_step(sig[j], line, ksig)
                out_m[t, j] = line
                out_s[t, j] = sig[j]
                out_h[t, j] = line - sig[j]
    return irregular


@nb.njit(cache=True, nogil=True, parallel=_prange_only())
def rsi_kernel(x: np.ndarray, out: np.ndarray, window: int, block: int) -> np.ndarray:
    """Wilder RSI (TA-Lib ``RSI``, unstable period 0)."""
    n, m = x.shape
    irregular = np.zeros(m, dtype=np.bool_)
    dead = np.zeros(m, dtype=np.bool_)
    gain = np.zeros(m)
    loss = np.zeros(m)
    start = _starts(x, x, x)
    for b in nb.prange(_nblocks(m, block)):
        j0 = b * block
        j1 = min(m, j0 + block)
        for t in range(n):
            for j in range(j0, j1):
                v = x[t, j]
                out[t, j] = np.nan
                if v != v:
                    if t >= start[j]:
                        dead[j] = True
                    continue
                if dead[j]:
                    irregular[j] = True
                k = t - start[j]
                if k == 0:
                    continue
                gain[j], loss[j], out[t, j] = rsi_step(gain[j], loss[j], v - x[t - 1, j], k, window)
    return irregular


@nb.njit(cache=True, nogil=True, parallel=_prange_only())
def roc_kernel(x: np.ndarray, out: np.ndarray, window: int, block: int) -> np.ndarray:
    """Rate of change in percent (TA-Lib ``ROC``; 0 when the old value is 0)."""
    n, m = x.shape
    irregular = np.zeros(m, dtype=np.bool_)
    dead = np.zeros(m, dtype=np.bool_)
    start = _starts(x, x, x)
    for b in nb.prange(_nblocks(m, block)):
        j0 = b * block
        j1 = min(m, j0 + block)
        for t in range(n):
            for j in range(j0, j1):
                v = x[t, j]
                out[t, j] = np.nan
                if v != v:
                    if t >= start[j]:
                        dead[j] = True
                    continue
                if dead[j]:
                    irregular[j] = True
                if t - start[j] >= window:
                    old = x[t - window, j]
                    out[t, j] = (v / old - 1.0) * 100.0 if old != 0.0 else 0.0
    return irregular


@nb.njit(cache=True, nogil=True, parallel=_prange_only())
def bbands_kernel(
    x: np.ndarray,
    up: np.ndarray,
    mid: np.ndarray,
    lo: np.ndarray,
    window: int,
    nbdev_up: float,
    nbdev_dn: float,
    block: int,
) -> np.ndarray:
    """Bollinger bands: SMA middle, population deviation from TA-Lib's running ``E[x^2] - E[x]^2``."""
    n, m = x.shape
    irregular = np.zeros(m, dtype=np.bool_)
    dead = np.zeros(m, dtype=np.bool_)
    bb = np.zeros((5, m))
    start = _starts(x, x, x)
    for b in nb.prange(_nblocks(m, block)):
        j0 = b * block
        j1 = min(m, j0 + block)
        for t in range(n):
            for j in range(j0, j1):
                v = x[t, j]
                up[t, j] = np.nan
                mid[t, j] = np.nan
                lo[t, j] = np.nan
                if v != v:
                    if t >= start[j]:
                        dead[j] = True
                    continue
                if dead[j]:
                    irregular[j] = True
                k = t - start[j]
                bb_add(bb, j, v, k, window)
                if k < window - 1:
                    continue
                mean, variance, reseed = bb_emit(bb, j, x[t - window + 1, j], window)
                if reseed:
                    variance = bb_reseed(bb, j, x[t - window + 1 : t + 1, j], window)
                sd = np.sqrt(variance) if variance != 0.0 else 0.0
                mid[t, j] = mean
                up[t, j] = mean + sd * nbdev_up
                lo[t, j] = mean - sd * nbdev_dn
    return irregular


@nb.njit(cache=True, inline="always")
def bb_add(bb: np.ndarray, j: int, v: float, k: int, window: int) -> None:
    """Add bar ``k`` (0-based, of the column's own bars) to the Bollinger state ``bb[:, j]``.

    ``bb`` rows: SMA running total, shift ``K``, sum of ``x - K``, sum of ``(x - K)^2``, bars until the next
    periodic re-anchoring (TA-Lib 0.8's shifted-data variance, see ``reference.bbands_1d``).
    """
    if k == 0:
        bb[1, j] = v
        bb[4, j] = 32 * window
    bb[0, j] += v
    d = v - bb[1, j]
    bb[2, j] += d
    bb[3, j] += d * d


@nb.njit(cache=True, inline="always")
def bb_emit(bb: np.ndarray, j: int, old: float, window: int) -> tuple[float, float, bool]:
    """Mean and variance of the full window, then drop its oldest value ``old``; ``True`` = re-anchor now."""
    inv = 1.0 / window
    mean1 = bb[2, j] * inv
    variance = bb[3, j] * inv - mean1 * mean1
    mid = bb[0, j] / window
    bb[0, j] -= old
    d = old - bb[1, j]
    bb[2, j] -= d
    d2 = d * d
    bb[3, j] -= d2
    bb[4, j] -= 1
    reseed = variance < 1e-6 * (bb[3, j] * inv) or d2 > 1e6 * bb[3, j] or bb[4, j] <= 0
    return mid, variance, reseed


@nb.njit(cache=True, nogil=True)
def bb_reseed(bb: np.ndarray, j: int, win: np.ndarray, window: int) -> float:
    """Re-anchor the shift on the mean of the window ``win`` (oldest first) and return its variance."""
    inv = 1.0 / window
    bb[4, j] = 32 * window
    total = 0.0
    for i in range(win.shape[0]):
        total += win[i]
    shift = total * inv
    vt1 = 0.0
    vt2 = 0.0
    for i in range(win.shape[0]):
        d = win[i] - shift
        vt1 += d
        vt2 += d * d
    mean1 = vt1 * inv
    variance = vt2 * inv - mean1 * mean1
    if variance < 1e-12 * (vt2 * inv):
        variance = 0.0
    d = win[0] - shift
    vt1 -= d
    vt2 -= d * d
    bb[1, j] = shift
    bb[2, j] = vt1
    bb[3, j] = vt2
    return variance


# -- high/low/close kernels --------------------------------------------------------------------------------


@nb.njit(cache=True, nogil=True, parallel=_prange_only())
def trange_kernel(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, out: np.ndarray, block: int
) -> np.ndarray:
    """True range (TA-Lib ``TRANGE``), from a column's second bar."""
    n, m = close.shape
    irregular = np.zeros(m, dtype=np.bool_)
    dead = np.zeros(m, dtype=np.bool_)
    start = _starts(high, low, close)
    for b in nb.prange(_nblocks(m, block)):
        j0 = b * block
        j1 = min(m, j0 + block)
        for t in range(n):
            for j in range(j0, j1):
                h = high[t, j]
                lo = low[t, j]
                c = close[t, j]
                out[t, j] = np.nan
                if h != h or lo != lo or c != c:
                    if t >= start[j]:
                        dead[j] = True
                    continue
                if dead[j]:
                    irregular[j] = True
                if t > start[j]:
                    out[t, j] = true_range(h, lo, close[t - 1, j])
    return irregular


@nb.njit(cache=True, nogil=True, parallel=_prange_only())
def atr_kernel(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    out: np.ndarray,
    window: int,
    block: int,
) -> np.ndarray:
    """Wilder ATR (TA-Lib ``ATR``): SMA of the first ``window`` true ranges, then Wilder smoothing."""
    n, m = close.shape
    irregular = np.zeros(m, dtype=np.bool_)
    dead = np.zeros(m, dtype=np.bool_)
    prev = np.zeros(m)
    start = _starts(high, low, close)
    for b in nb.prange(_nblocks(m, block)):
        j0 = b * block
        j1 = min(m, j0 + block)
        for t in range(n):
            for j in range(j0, j1):
                h = high[t, j]
                lo = low[t, j]
                c = close[t, j]
                out[t, j] = np.nan
                if h != h or lo != lo or c != c:
                    if t >= start[j]:
                        dead[j] = True
                    continue
                if dead[j]:
                    irregular[j] = True
                k = t - start[j]
                if k == 0:
                    continue
                prev[j], out[t, j] = atr_step(prev[j], true_range(h, lo, close[t - 1, j]), k, window)
    return irregular


@nb.njit(cache=True, nogil=True)
def atr_series(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int) -> np.ndarray:
    """ATR of one NaN-free 1-D series (first value at index ``window``): :func:`atr_kernel`'s recursion
    without its panel bookkeeping, for per-series callers (the chartist detector's zig-zag)."""
    n = close.shape[0]
    out = np.full(n, np.nan)
    prev = 0.0
    for t in range(1, n):
        prev, out[t] = atr_step(prev, true_range(high[t], low[t], close[t - 1]), t, window)
    return out


@nb.njit(cache=True, nogil=True)
def zigzag_series(
    high: np.ndarray, low: np.ndarray, thr_scale: np.ndarray, threshold: float, use_atr: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Causal zig-zag over NaN-free bars (:func:`capscope.indicators.recursions.zigzag_step` on each bar,
    :func:`~capscope.indicators.recursions.zigzag_confirm` on each confirmation);
    ``thr_scale`` is the ATR (``use_atr``) or unused.

    Returns the pivots ``(index, confirm, kind, price)`` and the state after the last bar, ``(direction, hi,
    hi_i, lo, lo_i)`` as floats, from which :func:`zigzag_step` carries on with the next bar.
    """
    n = high.shape[0]
    idx = np.empty(n + 1, np.int64)
    conf = np.empty(n + 1, np.int64)
    kind = np.empty(n + 1, np.int64)
    price = np.empty(n + 1, np.float64)
    m = 0
    direction = 0
    hi = -np.inf
    hi_i = -1
    lo = np.inf
    lo_i = -1
    for t in range(n):
        a = thr_scale[t] if use_atr else 0.0
        hi, hi_i, lo, lo_i, code = zigzag_step(
            high[t], low[t], t, a, threshold, use_atr, direction, hi, hi_i, lo, lo_i
        )
        if code != 0:
            direction, hi, hi_i, lo, lo_i, m = zigzag_confirm(
                high, low, t, code, hi, hi_i, lo, lo_i, idx, conf, kind, price, m
            )
    state = np.array([float(direction), hi, float(hi_i), lo, float(lo_i)])
    return idx[:m], conf[:m], kind[:m], price[:m], state


@nb.njit(cache=True, nogil=True, parallel=_prange_only())
def stoch_kernel(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    out_k: np.ndarray,
    out_d: np.ndarray,
    fk_buf: np.ndarray,
    sk_buf: np.ndarray,
    fastk: int,
    slowk: int,
    slowd: int,
    block: int,
) -> np.ndarray:
    """Slow stochastic (TA-Lib ``STOCH``, SMA smoothing); ``fk_buf``/``sk_buf`` are scratch panels."""
    n, m = close.shape
    irregular = np.zeros(m, dtype=np.bool_)
    dead = np.zeros(m, dtype=np.bool_)
    ksum = np.zeros(m)
    dsum = np.zeros(m)
    k0 = fastk - 1
    d0 = k0 + slowk - 1
    look = d0 + slowd - 1
    start = _starts(high, low, close)
    for b in nb.prange(_nblocks(m, block)):
        j0 = b * block
        j1 = min(m, j0 + block)
        for t in range(n):
            for j in range(j0, j1):
                h = high[t, j]
                lo = low[t, j]
                c = close[t, j]
                out_k[t, j] = np.nan
                out_d[t, j] = np.nan
                if h != h or lo != lo or c != c:
                    if t >= start[j]:
                        dead[j] = True
                    continue
                if dead[j]:
                    irregular[j] = True
                k = t - start[j]
                if k < k0:
                    continue
                hh = high[t - k0, j]
                ll = low[t - k0, j]
                for i in range(t - k0 + 1, t + 1):
                    if high[i, j] > hh:
                        hh = high[i, j]
                    if low[i, j] < ll:
                        ll = low[i, j]
                diff = (hh - ll) / 100.0
                flat = abs(hh - ll) <= ZERO_EPS * (abs(hh) + abs(ll))
                f = 0.0 if flat else (c - ll) / diff
                fk_buf[t, j] = f
                ksum[j] += f
                if k < d0:
                    continue
                sk = ksum[j] / slowk
                ksum[j] -= fk_buf[t - slowk + 1, j]
                sk_buf[t, j] = sk
                dsum[j] += sk
                if k < look:
                    continue
                out_k[t, j] = sk
                out_d[t, j] = dsum[j] / slowd
                dsum[j] -= sk_buf[t - slowd + 1, j]
    return irregular


@nb.njit(cache=True, nogil=True, parallel=_prange_only())
def adx_kernel(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    out_a: np.ndarray,
    out_p: np.ndarray,
    out_m: np.ndarray,
    window: int,
    block: int,
) -> np.ndarray:
    """Wilder ADX, +DI, -DI (TA-Lib ``ADX``, ``PLUS_DI``, ``MINUS_DI``)."""
    n, m = close.shape
    irregular = np.zeros(m, dtype=np.bool_)
    dead = np.zeros(m, dtype=np.bool_)
    pdm = np.zeros(m)
    mdm = np.zeros(m)
    trs = np.zeros(m)
    sum_dx = np.zeros(m)
    prev_adx = np.zeros(m)
    start = _starts(high, low, close)
    for b in nb.prange(_nblocks(m, block)):
        j0 = b * block
        j1 = min(m, j0 + block)
        for t in range(n):
            for j in range(j0, j1):
                h = high[t, j]
                lo = low[t, j]
                c = close[t, j]
                out_a[t, j] = np.nan
                out_p[t, j] = np.nan
                out_m[t, j] = np.nan
                if h != h or lo != lo or c != c:
                    if t >= start[j]:
                        dead[j] = True
                    continue
                if dead[j]:
                    irregular[j] = True
                k = t - start[j]
                if k == 0:
                    continue
                p, mm = directional_movement(h, lo, high[t - 1, j], low[t - 1, j])
                tr = true_range(h, lo, close[t - 1, j])
                (pdm[j], mdm[j], trs[j], sum_dx[j], prev_adx[j], out_a[t, j], out_p[t, j], out_m[t, j]) = (
                    adx_step(pdm[j], mdm[j], trs[j], sum_dx[j], prev_adx[j], p, mm, tr, k, window)
                )
    return irregular


@nb.njit(cache=True, nogil=True, parallel=_prange_only())
def obv_kernel(close: np.ndarray, volume: np.ndarray, out: np.ndarray, block: int) -> np.ndarray:
    """On-balance volume (TA-Lib ``OBV``)."""
    n, m = close.shape
    irregular = np.zeros(m, dtype=np.bool_)
    dead = np.zeros(m, dtype=np.bool_)
    acc = np.zeros(m)
    start = _starts(close, volume, volume)
    for b in nb.prange(_nblocks(m, block)):
        j0 = b * block
        j1 = min(m, j0 + block)
        for t in range(n):
            for j in range(j0, j1):
                c = close[t, j]
                v = volume[t, j]
                if c != c or v != v:
                    if t >= start[j]:
                        dead[j] = True
                    out[t, j] = np.nan
                    continue
                if dead[j]:
                    irregular[j] = True
                if t == start[j]:
                    acc[j] = v
                else:
                    prev = close[t - 1, j]
                    if c > prev:
                        acc[j] += v
                    elif c < prev:
                        acc[j] -= v
                out[t, j] = acc[j]
    return irregular


# -- the fused core kernel ---------------------------------------------------------------------------------
#
# The fused kernel's parameters, per-symbol state and row views travel in named tuples (numba compiles a named
# tuple as a plain struct, and the row functions are inlined, so the names cost nothing at run time).


class CoreParams(NamedTuple):
    """Parameters of :func:`core_kernel` (as :func:`core_2d`; ``macd_fast <= macd_slow``)."""

    sma_fast: int
    sma_slow: int
    ema_window: int
    macd_fast: int
    macd_slow: int
    macd_signal: int
    rsi_window: int
    atr_window: int
    bb_window: int
    bb_up: float
    bb_dn: float


class CoreOut(NamedTuple):
    """The eleven outputs of :func:`core_kernel`: panels, or one row's views of them (names as
    :data:`CORE_OUTPUTS`)."""

    sma_fast: np.ndarray
    sma_slow: np.ndarray
    ema: np.ndarray
    macd: np.ndarray
    macd_signal: np.ndarray
    macd_hist: np.ndarray
    rsi: np.ndarray
    atr: np.ndarray
    bb_upper: np.ndarray
    bb_middle: np.ndarray
    bb_lower: np.ndarray


class RowInputs(NamedTuple):
    """One row of a block's inputs and the older closes its recursions read."""

    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    prev_close: np.ndarray  # the row before (RSI, ATR)
    old_fast: np.ndarray  # the close leaving each window: SMA fast, SMA slow, Bollinger
    old_slow: np.ndarray
    old_bb: np.ndarray


class RowState(NamedTuple):
    """The per-symbol state of :func:`core_kernel` over a block of columns (views of its ``st`` / ``bb``)."""

    sma_fast: np.ndarray  # running totals of the two SMAs
    sma_slow: np.ndarray
    ema: np.ndarray  # previous EMA (its seed sum during the warm-up)
    macd_fast: np.ndarray  # previous fast / slow EMA of the MACD (seed sums during the warm-up)
    macd_slow: np.ndarray
    macd_signal: np.ndarray  # previous signal EMA (seed sum of the MACD line during the warm-up)
    rsi_gain: np.ndarray  # Wilder averages of gains and losses
    rsi_loss: np.ndarray
    atr: np.ndarray  # previous ATR (sum of true ranges during the warm-up)
    bb_total: (
        np.ndarray
    )  # Bollinger (see bb_add): SMA running total, shift, sums of x - shift and its square,
    bb_shift: np.ndarray  # bars until the next re-anchoring
    bb_vt1: np.ndarray
    bb_vt2: np.ndarray
    bb_bars: np.ndarray


class RowConsts(NamedTuple):
    """Constants of the steady-state row (:func:`_core_row_fast`): windows as floats (``x / 50.0`` is ``x / 50``)
    and the smoothing constants."""

    sma_fast: float
    sma_slow: float
    bb_window: float
    bb_up: float
    bb_dn: float
    k_ema: float
    k_macd_fast: float
    k_macd_slow: float
    k_macd_signal: float
    rsi_w1: float  # rsi_window - 1
    rsi_inv: float  # 1 / rsi_window
    atr_window: float


@nb.njit(cache=True, inline="always")
def _row_state(st: np.ndarray, bb: np.ndarray, cols: slice) -> RowState:
    """The state rows of columns ``cols`` (``st``: the nine scalar quantities, ``bb``: Bollinger's five)."""
    return RowState(
        st[0, cols], st[1, cols], st[2, cols], st[3, cols], st[4, cols], st[5, cols], st[6, cols], st[7, cols],
        st[8, cols], bb[0, cols], bb[1, cols], bb[2, cols], bb[3, cols], bb[4, cols],
    )  # fmt: skip


@nb.njit(cache=True, inline="always")
def _row_inputs(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, t: int, cols: slice, p: CoreParams
) -> RowInputs:
    """Row ``t`` of the inputs of columns ``cols``; rows a warm-up phase has not reached yet are not read
    (clamped to a valid row)."""
    return RowInputs(
        high[t, cols],
        low[t, cols],
        close[t, cols],
        close[max(t - 1, 0), cols],
        close[max(t - p.sma_fast + 1, 0), cols],
        close[max(t - p.sma_slow + 1, 0), cols],
        close[max(t - p.bb_window + 1, 0), cols],
    )


@nb.njit(cache=True, inline="always")
def _row_out(outs: CoreOut, t: int, cols: slice) -> CoreOut:
    """Row ``t`` of the output panels, columns ``cols``."""
    return CoreOut(
        outs.sma_fast[t, cols], outs.sma_slow[t, cols], outs.ema[t, cols], outs.macd[t, cols],
        outs.macd_signal[t, cols], outs.macd_hist[t, cols], outs.rsi[t, cols], outs.atr[t, cols],
        outs.bb_upper[t, cols], outs.bb_middle[t, cols], outs.bb_lower[t, cols],
    )  # fmt: skip


@nb.njit(cache=True, inline="always")
def _row_consts(p: CoreParams) -> RowConsts:
    """The steady-state row's constants for parameters ``p``."""
    return RowConsts(
        float(p.sma_fast), float(p.sma_slow), float(p.bb_window), p.bb_up, p.bb_dn, ema_alpha(p.ema_window),
        ema_alpha(p.macd_fast), ema_alpha(p.macd_slow), ema_alpha(p.macd_signal), float(p.rsi_window - 1),
        1.0 / p.rsi_window, float(p.atr_window),
    )  # fmt: skip


@nb.njit(cache=True, nogil=True, parallel=_prange_only())
def core_kernel(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    outs: CoreOut,
    p: CoreParams,
    block: int,
) -> np.ndarray:
    """The seven core indicators in one pass.

    Writes the :class:`CoreOut` panels ``outs`` for the :class:`CoreParams` ``p`` and returns the ``irregular``
    mask. A column is irregular (recompute it per indicator) when it
    has an interior gap or when close and high/low are missing on different rows. ``macd_fast <= macd_slow``
    and all windows >= 2 are expected.

    Each block of columns runs whole rows through branch-free loops: :func:`_core_row_warm` while the block's
    columns are in their warm-up (the phase depends only on the bars since the block's first bar ``s0``, the
    first bar most of its columns share), then :func:`_core_row_fast`. Columns whose first bar is another one
    ("late", e.g. listed later) advance on their own in the same pass, one element per row while that row is
    in cache (:func:`_late_step`, the row functions on one-element views), until they and the block are past
    the warm-up of every indicator but the SMAs (a few dozen bars); then the block takes over their state and
    carries them on the row path, and only their SMAs are set right per element (:func:`_late_sma`) until
    those are past their warm-up too. A column missing on a row gets NaN outputs there; once it has lost its
    bars its state is no longer used (it stays NaN, or comes back and is marked irregular).
    """
    m = close.shape[1]
    irregular = np.zeros(m, dtype=np.bool_)
    nb_blocks = _nblocks(m, block)
    s0 = np.empty(nb_blocks, dtype=np.int64)
    start = np.empty(m, dtype=np.int64)
    count = 0
    for b in range(nb_blocks):
        j0, j1 = b * block, min(m, b * block + block)
        s0[b] = _block_start(close, j0, j1, start)
        for j in range(j0, j1):
            count += start[j] != s0[b]
    # the late columns (ascending), their first bars (n: not found yet, the pass finds them), the last row each
    # advances on its own (the take-over) and the last row its SMAs are set right per element
    late = np.empty(count, dtype=np.int64)
    e = 0
    for j in range(m):
        if start[j] != s0[j // block]:
            late[e] = j
            e += 1
    first = start[late]
    take = np.empty((2, count), dtype=np.int64)
    for e in range(count):
        _late_take(take, e, first[e], s0[late[e] // block], p)
    # per-symbol state, one row per quantity: keeps the state of a block of symbols together; the late columns
    # keep theirs apart (the row loops write over their columns of st / bb until the take-over)
    st = np.zeros((9, m))
    bb = np.zeros((5, m))
    late_st = np.zeros((11, count))  # the 9 quantities of st, then the two SMA totals saved before a row
    late_bb = np.zeros((5, count))
    # scratch of the block function (which allocates nothing): per column skip / row-loop flags / late flag,
    # the dead list, and each late column's phase (0 on its own, 1 taken over with its SMAs set per element,
    # 2 done: on the row path, or dead)
    flags = np.zeros((3, m), dtype=np.bool_)
    dead = np.empty(m, dtype=np.int64)
    phase = np.zeros(count, dtype=np.int8)
    if nb_blocks == 1:  # no parallel region: it would wait for threads that have nothing to do
        _core_block(
            0, m, s0[0], high, low, close, outs, st, bb, irregular, late, first, take, late_st, late_bb, phase,
            flags, dead, p,
        )  # fmt: skip
        return irregular
    for b in nb.prange(nb_blocks):
        j0, j1 = b * block, min(m, b * block + block)
        e0, e1 = int(np.searchsorted(late, j0)), int(np.searchsorted(late, j1))
        _core_block(
            j0, j1, s0[b], high, low, close, outs, st, bb, irregular, late[e0:e1], first[e0:e1], take[:, e0:e1],
            late_st[:, e0:e1], late_bb[:, e0:e1], phase[e0:e1], flags[:, j0:j1], dead[j0:j1], p,
        )  # fmt: skip
    return irregular


@nb.njit(cache=True, inline="always")
def _core_warm(p: CoreParams) -> int:
    """Bars after which every indicator of ``core_kernel`` is past its warm-up (parameters ``p``)."""
    return max(p.sma_fast - 1, p.sma_slow - 1, _core_warm_rest(p))


@nb.njit(cache=True, inline="always")
def _core_warm_rest(p: CoreParams) -> int:
    """Bars after which every indicator of ``core_kernel`` but the two SMAs is past its warm-up."""
    m_look = p.macd_slow - 1 + p.macd_signal - 1
    return max(p.bb_window - 1, p.ema_window, m_look + 1, p.rsi_window + 1, p.atr_window + 1)


@nb.njit(cache=True, nogil=True)
def _block_start(close: np.ndarray, j0: int, j1: int, start: np.ndarray) -> int:
    """The first bar ``s0`` of columns ``j0:j1`` for :func:`core_kernel`: the row on which most of them get their
    first close (``n_bars`` if none has any). Reads rows from the top only until no later row can start more
    columns; ``start[j]`` is set to the first bar of the columns started by then, to ``n_bars`` for the others
    (late listings, whose first bars the pass finds as it goes: no read ahead of it)."""
    n = close.shape[0]
    start[j0:j1] = n
    left = j1 - j0
    best, s0 = 0, n
    for t in range(n):
        if left <= best:
            break  # no later row can start more columns than s0 did
        new = 0
        for j in range(j0, j1):
            if start[j] == n and close[t, j] == close[t, j]:
                start[j] = t
                new += 1
        left -= new
        if new > best:
            best, s0 = new, t
    return s0


@nb.njit(cache=True, inline="always")
def _late_take(take: np.ndarray, e: int, first: int, s0: int, p: CoreParams) -> None:
    """The two take-over rows of late column ``e`` (first bar ``first``, block's first bar ``s0``): its state
    (every indicator but the SMAs past the warm-up, for the column and for the block), then its SMAs."""
    base = max(first, s0)
    take[0, e] = base + _core_warm_rest(p) - 1
    take[1, e] = base + max(p.sma_fast, p.sma_slow) - 2


@nb.njit(cache=True, **_NO_REFCOUNTS)
def _core_block(
    j0: int,
    j1: int,
    s0: int,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    outs: CoreOut,
    st: np.ndarray,
    bb: np.ndarray,
    irregular: np.ndarray,
    late: np.ndarray,
    first: np.ndarray,
    take: np.ndarray,
    late_st: np.ndarray,
    late_bb: np.ndarray,
    phase: np.ndarray,
    flags3: np.ndarray,
    dead: np.ndarray,
    p: CoreParams,
) -> None:
    """Columns ``j0:j1`` of :func:`core_kernel`, all starting on row ``s0`` except ``late`` (first bars
    ``first``; they advance on their own, with state ``late_st`` / ``late_bb``, up to and including row
    ``take[0]``, and their SMAs are set per element up to row ``take[1]``; ``phase`` as in :func:`core_kernel`).
    ``flags3`` (3 x block, False) and ``dead`` (block) are scratch space. One parallel task; a function of its own so that numba's parallel transformation does not
    analyse the row loop's bookkeeping."""
    bb_window, bb_up, bb_dn = p.bb_window, p.bb_up, p.bb_dn
    n = close.shape[0]
    consts = _row_consts(p)
    warm = _core_warm(p)
    bk = slice(j0, j1)
    state = _row_state(st, bb, bk)
    skip = flags3[0]  # not checked by the row scan: late (until taken over) or dead
    flags = flags3[1]
    late_flag = flags3[2, :1]
    for j in late:
        skip[j - j0] = True
    n_late = late.size
    # columns that lost their bars: NaN outputs from then on (or irregular if they return)
    n_dead = 0
    for t in range(n):
        if t < s0:  # before the block's first bar: no close on the row path
            for j in range(j0, j1):
                if not skip[j - j0]:
                    if high[t, j] == high[t, j] or low[t, j] == low[t, j]:
                        irregular[j] = True  # close and high/low missing on different rows
                    _nan_outputs(outs, t, j)
            missing = 0
        else:
            k = t - s0
            for e in range(n_late):  # SMA totals of the late columns the row loops would get wrong
                if phase[e] == 1:
                    late_st[9, e] = st[0, late[e]]
                    late_st[10, e] = st[1, late[e]]
            rows = _row_inputs(high, low, close, t, bk, p)
            o = _row_out(outs, t, bk)
            if k >= warm:
                missing, flagged = _core_row_fast(rows, state, flags, consts, o)
            else:
                missing, flagged = _core_row_warm(k, rows, state, flags, p, o)
            for q in range(j1 - j0 if flagged else 0):
                if flags[q] and not skip[q]:
                    j = j0 + q
                    variance = bb_reseed(bb, j, close[t - bb_window + 1 : t + 1, j], bb_window)
                    sd = np.sqrt(variance) if variance != 0.0 else 0.0
                    outs.bb_upper[t, j] = outs.bb_middle[t, j] + sd * bb_up
                    outs.bb_lower[t, j] = outs.bb_middle[t, j] - sd * bb_dn
        # Missing bars of the dead columns are checked here (before a late column that dies on this row joins
        # them: its bar on this row is counted below), those of the late ones below; only a column losing its
        # bar on this very row needs a scan of the block.
        for d in range(n_dead):
            j = dead[d]
            c = close[t, j]
            h = high[t, j]
            lo = low[t, j]
            if c != c or h != h or lo != lo:
                missing -= 1
                if c == c or h == h or lo == lo:
                    irregular[j] = True  # close and high/low missing on different rows
                _nan_outputs(outs, t, j)
            else:
                irregular[j] = True  # a bar after a gap
        # The late columns on their own: after the row loops (which wrote over their outputs on this row), while
        # the row is in cache; their missing bars are not the row scan's business until the take-over.
        for e in range(n_late):
            if phase[e] != 0:
                if phase[e] == 1:
                    j = late[e]
                    if skip[j - j0]:  # died since the take-over
                        phase[e] = 2
                        continue
                    _late_sma(t, t - first[e], j, close, st, late_st[9:, e], outs, p)
                    if t == take[1, e]:
                        phase[e] = 2
                continue
            j = late[e]
            c = close[t, j]
            h = high[t, j]
            lo = low[t, j]
            if t < first[e]:
                if c == c:  # its first bar: found here (not read ahead of the pass)
                    first[e] = t
                    _late_take(take, e, t, s0, p)
                else:
                    if h == h or lo == lo:
                        irregular[j] = True  # close and high/low missing on different rows
                    if t >= s0:
                        missing -= 1
                    _nan_outputs(outs, t, j)
                    continue
            if c != c or h != h or lo != lo:  # lost its bars during its warm-up
                if t >= s0:
                    missing -= 1
                if c == c or h == h or lo == lo:
                    irregular[j] = True
                _nan_outputs(outs, t, j)
                phase[e] = 2
                dead[n_dead] = j
                n_dead += 1
                continue
            _late_step(t, t - first[e], e, j, high, low, close, outs, late_st, late_bb, late_flag, p)
            if t == take[0, e]:
                for q in range(9):
                    st[q, j] = late_st[q, e]
                for q in range(5):
                    bb[q, j] = late_bb[q, e]
                skip[j - j0] = False
                phase[e] = 1 if t < take[1, e] else 2
        if missing > 0:
            for j in range(j0, j1):
                if skip[j - j0]:
                    continue
                c = close[t, j]
                h = high[t, j]
                lo = low[t, j]
                if c != c or h != h or lo != lo:
                    skip[j - j0] = True
                    dead[n_dead] = j
                    n_dead += 1
                    if c == c or h == h or lo == lo:
                        irregular[j] = True
                    _nan_outputs(outs, t, j)


@nb.njit(cache=True, inline="always")
def _late_sma(
    t: int,
    k: int,
    j: int,
    close: np.ndarray,
    st: np.ndarray,
    saved: np.ndarray,
    outs: CoreOut,
    p: CoreParams,
) -> None:
    """Both SMAs of late column ``j`` on bar ``t`` (its ``k``-th), from their totals ``saved`` before the row
    loops ran (which used the block's phase, not the column's): :func:`_sma_row`'s arithmetic per element."""
    st[0, j] = _sma_element(t, j, k, p.sma_fast, close, saved[0], outs.sma_fast)
    st[1, j] = _sma_element(t, j, k, p.sma_slow, close, saved[1], outs.sma_slow)


@nb.njit(cache=True, inline="always")
def _sma_element(
    t: int, j: int, k: int, window: int, close: np.ndarray, total: float, out: np.ndarray
) -> float:
    """One SMA of column ``j`` on bar ``t`` (its ``k``-th) from its running ``total``: writes the output and
    returns the new total (:func:`_sma_row` for one element)."""
    a = total + close[t, j]
    if k >= window - 1:
        out[t, j] = a / window
        return a - close[t - window + 1, j]
    out[t, j] = np.nan
    return a


@nb.njit(cache=True, **_NO_REFCOUNTS)
def _late_step(
    t: int,
    k: int,
    e: int,
    j: int,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    outs: CoreOut,
    late_st: np.ndarray,
    late_bb: np.ndarray,
    flag: np.ndarray,
    p: CoreParams,
) -> None:
    """Bar ``t`` (the column's ``k``-th) of late column ``j`` (state column ``e`` of ``late_st`` / ``late_bb``):
    :func:`_core_row_warm` on one-element views, so it is exactly the block's arithmetic; Bollinger
    re-anchoring as the block does it. A call, not inlined: the block function stays one copy of the row
    code."""
    js = slice(j, j + 1)
    flag[0] = False
    _, flagged = _core_row_warm(
        k, _row_inputs(high, low, close, t, js, p), _row_state(late_st, late_bb, slice(e, e + 1)), flag, p,
        _row_out(outs, t, js),
    )  # fmt: skip
    if flagged:
        variance = bb_reseed(late_bb, e, close[t - p.bb_window + 1 : t + 1, j], p.bb_window)
        sd = np.sqrt(variance) if variance != 0.0 else 0.0
        outs.bb_upper[t, j] = outs.bb_middle[t, j] + sd * p.bb_up
        outs.bb_lower[t, j] = outs.bb_middle[t, j] - sd * p.bb_dn


@nb.njit(cache=True, inline="always")
def _nan_outputs(outs: CoreOut, t: int, j: int) -> None:
    """NaN in every output of ``core_kernel`` for bar ``t`` of column ``j`` (unpacked: a loop over the tuple
    would copy it for every element)."""
    o_sa, o_sb, o_e, o_m, o_s, o_h, o_r, o_a, o_bu, o_bm, o_bl = outs
    nan = np.nan
    o_sa[t, j], o_sb[t, j], o_e[t, j], o_m[t, j], o_s[t, j], o_h[t, j] = nan, nan, nan, nan, nan, nan
    o_r[t, j], o_a[t, j], o_bu[t, j], o_bm[t, j], o_bl[t, j] = nan, nan, nan, nan, nan


@nb.njit(cache=True, error_model="numpy", forceinline=True)
def _core_row_fast(x: RowInputs, s: RowState, flags: np.ndarray, c: RowConsts, o: CoreOut) -> tuple[int, int]:
    """One row of ``core_kernel`` for a block whose columns all have a bar and are past every warm-up.

    The same operations as the general loop, on 1-D row views and without per-element branches, so the
    compiler vectorises each loop across symbols. Indicators that read the same inputs share a loop (fewer
    passes over the row), few enough arrays per loop that the vectoriser's aliasing checks stay cheap. A
    Bollinger re-anchoring is only flagged in ``flags``; the caller applies it. Returns the number of columns
    missing a value on the row (:func:`_row_missing`) and the number of flags set.
    """
    _sma_pair_row(
        x.close,
        x.old_fast,
        x.old_slow,
        s.sma_fast,
        s.sma_slow,
        c.sma_fast,
        c.sma_slow,
        o.sma_fast,
        o.sma_slow,
    )
    _ema_macd_row(
        x.close, s.ema, s.macd_fast, s.macd_slow, s.macd_signal, c.k_ema, c.k_macd_fast, c.k_macd_slow,
        c.k_macd_signal, o.ema, o.macd, o.macd_signal, o.macd_hist,
    )  # fmt: skip
    missing = _rsi_atr_row(
        x.high, x.low, x.close, x.prev_close, s.rsi_gain, s.rsi_loss, s.atr, c.rsi_w1, c.rsi_inv, c.atr_window,
        o.rsi, o.atr,
    )  # fmt: skip
    return missing, _bb_row(
        x.close, x.old_bb, s.bb_total, s.bb_shift, s.bb_vt1, s.bb_vt2, s.bb_bars, flags, c.bb_window, c.bb_up,
        c.bb_dn, o.bb_upper, o.bb_middle, o.bb_lower,
    )  # fmt: skip


@nb.njit(cache=True, error_model="numpy", forceinline=True)
def _core_row_warm(
    k: int, x: RowInputs, s: RowState, flags: np.ndarray, p: CoreParams, o: CoreOut
) -> tuple[int, int]:
    """One complete row of ``core_kernel`` for a block whose columns all started ``k`` bars ago.

    The per-element loop's operations, with each indicator's warm-up phase chosen once for the row (it depends
    on ``k`` only), so the loops over symbols have no branches. ``x.old_*``/``x.prev_close`` are only read once
    the phase needs them. Bollinger re-anchorings are flagged as in :func:`_core_row_fast`; returns the row's
    missing count and the flags' count, as it does.
    """
    c_row = x.close
    nn = c_row.shape[0]
    nan = np.nan
    # each group of indicators on the steady-state loop of _core_row_fast once its phase allows
    if k >= max(p.sma_fast, p.sma_slow) - 1:
        _sma_pair_row(
            c_row, x.old_fast, x.old_slow, s.sma_fast, s.sma_slow, float(p.sma_fast), float(p.sma_slow),
            o.sma_fast, o.sma_slow,
        )  # fmt: skip
    else:
        _sma_row(k, p.sma_fast, c_row, x.old_fast, s.sma_fast, o.sma_fast)
        _sma_row(k, p.sma_slow, c_row, x.old_slow, s.sma_slow, o.sma_slow)
    m_look = p.macd_slow - 1 + p.macd_signal - 1
    if k >= p.ema_window and k > m_look:
        _ema_macd_row(
            c_row, s.ema, s.macd_fast, s.macd_slow, s.macd_signal, ema_alpha(p.ema_window), ema_alpha(p.macd_fast),
            ema_alpha(p.macd_slow), ema_alpha(p.macd_signal), o.ema, o.macd, o.macd_signal, o.macd_hist,
        )  # fmt: skip
    else:
        _ema_macd_warm(
            k, c_row, s.ema, s.macd_fast, s.macd_slow, s.macd_signal, p.ema_window, p.macd_fast, p.macd_slow,
            p.macd_signal, o.ema, o.macd, o.macd_signal, o.macd_hist,
        )  # fmt: skip
    if k > p.rsi_window and k > p.atr_window:
        missing = _rsi_atr_row(
            x.high, x.low, c_row, x.prev_close, s.rsi_gain, s.rsi_loss, s.atr, float(p.rsi_window - 1),
            1.0 / p.rsi_window, float(p.atr_window), o.rsi, o.atr,
        )  # fmt: skip
    else:
        _rsi_atr_warm(
            k, x.high, x.low, c_row, x.prev_close, s.rsi_gain, s.rsi_loss, s.atr, p.rsi_window, p.atr_window,
            o.rsi, o.atr,
        )  # fmt: skip
        missing = _row_missing(x.high, x.low, c_row)
    # Bollinger (same state as bb_add / bb_emit)
    bb_window = p.bb_window
    if k == 0:
        for i in range(nn):
            s.bb_shift[i] = c_row[i]
            s.bb_bars[i] = 32 * bb_window
    if k >= bb_window - 1:
        return missing, _bb_row(
            c_row, x.old_bb, s.bb_total, s.bb_shift, s.bb_vt1, s.bb_vt2, s.bb_bars, flags, float(bb_window), p.bb_up,
            p.bb_dn, o.bb_upper, o.bb_middle, o.bb_lower,
        )  # fmt: skip
    for i in range(nn):
        c = c_row[i]
        s.bb_total[i] += c
        d = c - s.bb_shift[i]
        s.bb_vt1[i] += d
        s.bb_vt2[i] += d * d
    o.bb_upper[:] = nan
    o.bb_middle[:] = nan
    o.bb_lower[:] = nan
    return missing, 0


@nb.njit(cache=True, error_model="numpy")
def _ema_macd_warm(
    k: int,
    c_row: np.ndarray,
    s_e: np.ndarray,
    s_f: np.ndarray,
    s_s: np.ndarray,
    s_g: np.ndarray,
    ema_window: int,
    macd_fast: int,
    macd_slow: int,
    macd_signal: int,
    o_e: np.ndarray,
    o_m: np.ndarray,
    o_s: np.ndarray,
    o_h: np.ndarray,
) -> None:
    """EMA and MACD of ``core_kernel`` across a row of columns that started ``k`` bars ago, in any phase: the
    seeds (SMA of the first bars) are summed as the bars arrive, in TA-Lib's order."""
    nn = c_row.shape[0]
    nan = np.nan
    if k >= ema_window:
        k_e = ema_alpha(ema_window)
        for i in range(nn):
            e = ema_step(s_e[i], c_row[i], k_e)
            s_e[i] = e
            o_e[i] = e
    else:
        for i in range(nn):
            s_e[i] += c_row[i]
        if k == ema_window - 1:
            for i in range(nn):
                s_e[i] = s_e[i] / ema_window
                o_e[i] = s_e[i]
        else:
            o_e[:] = nan
    m_first = macd_slow - 1
    m_look = m_first + macd_signal - 1
    if k <= m_first:
        for i in range(nn):
            s_s[i] += c_row[i]
        if k >= macd_slow - macd_fast:
            for i in range(nn):
                s_f[i] += c_row[i]
    if k < m_first:
        o_m[:] = nan
        o_s[:] = nan
        o_h[:] = nan
    else:
        if k == m_first:
            for i in range(nn):
                s_s[i] = s_s[i] / macd_slow
                s_f[i] = s_f[i] / macd_fast
        else:
            k_f = ema_alpha(macd_fast)
            k_s = ema_alpha(macd_slow)
            for i in range(nn):
                c = c_row[i]
                s_f[i] = ema_step(s_f[i], c, k_f)
                s_s[i] = ema_step(s_s[i], c, k_s)
        if k < m_look:
            for i in range(nn):
                s_g[i] += s_f[i] - s_s[i]
            o_m[:] = nan
            o_s[:] = nan
            o_h[:] = nan
        else:
            k_g = ema_alpha(macd_signal)
            for i in range(nn):
                line = s_f[i] - s_s[i]
                g = (s_g[i] + line) / macd_signal if k == m_look else ema_step(s_g[i], line, k_g)
                s_g[i] = g
                o_m[i] = line
                o_s[i] = g
                o_h[i] = line - g


@nb.njit(cache=True, error_model="numpy")
def _rsi_atr_warm(
    k: int,
    h_row: np.ndarray,
    lo_row: np.ndarray,
    c_row: np.ndarray,
    prev_row: np.ndarray,
    s_gain: np.ndarray,
    s_loss: np.ndarray,
    s_atr: np.ndarray,
    rsi_window: int,
    atr_window: int,
    o_r: np.ndarray,
    o_a: np.ndarray,
) -> None:
    """RSI and ATR of ``core_kernel`` across a row of columns that started ``k`` bars ago, in any phase."""
    nn = c_row.shape[0]
    nan = np.nan
    if k == 0:
        o_r[:] = nan
        o_a[:] = nan
    else:
        for i in range(nn):
            s_gain[i], s_loss[i], o_r[i] = rsi_step(
                s_gain[i], s_loss[i], c_row[i] - prev_row[i], k, rsi_window
            )
        for i in range(nn):
            s_atr[i], o_a[i] = atr_step(s_atr[i], true_range(h_row[i], lo_row[i], prev_row[i]), k, atr_window)


@nb.njit(cache=True, error_model="numpy", inline="always")
def _sma_pair_row(
    c_row: np.ndarray,
    old_fast: np.ndarray,
    old_slow: np.ndarray,
    s_sa: np.ndarray,
    s_sb: np.ndarray,
    sma_fast: float,
    sma_slow: float,
    o_sa: np.ndarray,
    o_sb: np.ndarray,
) -> None:
    """Both SMAs of ``core_kernel`` past their warm-up, across a row (windows as floats: ``x / 50.0`` is
    ``x / 50``). The row functions take the block's slices: indices from 0 let the compiler drop
    negative-index handling and vectorise across symbols."""
    for i in range(c_row.shape[0]):
        c = c_row[i]
        a = s_sa[i] + c
        o_sa[i] = a / sma_fast
        s_sa[i] = a - old_fast[i]
        a = s_sb[i] + c
        o_sb[i] = a / sma_slow
        s_sb[i] = a - old_slow[i]


@nb.njit(cache=True, error_model="numpy", inline="always")
def _ema_macd_row(
    c_row: np.ndarray,
    s_e: np.ndarray,
    s_f: np.ndarray,
    s_s: np.ndarray,
    s_g: np.ndarray,
    k_e: float,
    k_f: float,
    k_s: float,
    k_g: float,
    o_e: np.ndarray,
    o_m: np.ndarray,
    o_s: np.ndarray,
    o_h: np.ndarray,
) -> None:
    """EMA and MACD of ``core_kernel`` past their warm-up, across a row."""
    for i in range(c_row.shape[0]):
        c = c_row[i]
        e = ema_step(s_e[i], c, k_e)
        s_e[i] = e
        o_e[i] = e
        f = ema_step(s_f[i], c, k_f)
        sl = ema_step(s_s[i], c, k_s)
        s_f[i] = f
        s_s[i] = sl
        line = f - sl
        g = ema_step(s_g[i], line, k_g)
        s_g[i] = g
        o_m[i] = line
        o_s[i] = g
        o_h[i] = line - g


@nb.njit(cache=True, error_model="numpy", inline="always")
def _rsi_atr_row(
    h_row: np.ndarray,
    lo_row: np.ndarray,
    c_row: np.ndarray,
    prev_row: np.ndarray,
    s_gain: np.ndarray,
    s_loss: np.ndarray,
    s_atr: np.ndarray,
    rsi_w1: float,
    rsi_inv: float,
    atr_window: float,
    o_r: np.ndarray,
    o_a: np.ndarray,
) -> int:
    """RSI and ATR of ``core_kernel`` past their warm-up (Wilder smoothing), across a row. Returns how many
    columns miss a value on the row (:func:`_row_missing`, counted here: the loop reads all three inputs)."""
    missing = 0
    for i in range(c_row.shape[0]):
        pc = prev_row[i]
        c = c_row[i]
        h = h_row[i]
        lo = lo_row[i]
        missing += (h != h) | (lo != lo) | (c != c)
        dlt = c - pc
        gd = dlt if dlt > 0.0 else 0.0
        gain = rsi_smooth(s_gain[i], gd, rsi_w1, rsi_inv)
        loss = rsi_smooth(s_loss[i], gd - dlt, rsi_w1, rsi_inv)
        s_gain[i] = gain
        s_loss[i] = loss
        o_r[i] = rsi_value(gain, loss)
        pa = wilder_step(s_atr[i], true_range(h, lo, pc), atr_window)
        o_a[i] = pa
        s_atr[i] = pa
    return missing


@nb.njit(cache=True, error_model="numpy", inline="always")
def _bb_row(
    c_row: np.ndarray,
    old_bb: np.ndarray,
    b_total: np.ndarray,
    b_shift: np.ndarray,
    b_vt1: np.ndarray,
    b_vt2: np.ndarray,
    b_bars: np.ndarray,
    flags: np.ndarray,
    bb_window: float,
    bb_up: float,
    bb_dn: float,
    o_bu: np.ndarray,
    o_bm: np.ndarray,
    o_bl: np.ndarray,
) -> int:
    """Bollinger bands for one row of columns whose window is full: :func:`bb_add` then :func:`bb_emit`
    (TA-Lib 0.8's shifted-data variance) across the row. A re-anchoring is flagged in ``flags`` for the caller
    (:func:`bb_reseed`); returns how many."""
    bb_inv = 1.0 / bb_window
    nflag = 0
    for i in range(c_row.shape[0]):
        c = c_row[i]
        shift = b_shift[i]
        total = b_total[i] + c
        d = c - shift
        vt1 = b_vt1[i] + d
        vt2 = b_vt2[i] + d * d
        mean1 = vt1 * bb_inv
        variance = vt2 * bb_inv - mean1 * mean1
        mid = total / bb_window
        old = old_bb[i]
        b_total[i] = total - old
        d = old - shift
        b_vt1[i] = vt1 - d
        d2 = d * d
        vt2 -= d2
        b_vt2[i] = vt2
        bars = b_bars[i] - 1
        b_bars[i] = bars
        fl = variance < 1e-6 * (vt2 * bb_inv) or d2 > 1e6 * vt2 or bars <= 0
        flags[i] = fl
        nflag += fl
        sd = np.sqrt(variance) if variance > 0.0 else 0.0
        o_bm[i] = mid
        o_bu[i] = mid + sd * bb_up
        o_bl[i] = mid - sd * bb_dn
    return nflag


@nb.njit(cache=True, error_model="numpy", inline="always")
def _sma_row(
    k: int, window: int, c_row: np.ndarray, old: np.ndarray, total: np.ndarray, out: np.ndarray
) -> None:
    """SMA running total for one row of columns that all started ``k`` bars ago (``core_kernel``)."""
    if k >= window - 1:
        for i in range(c_row.shape[0]):
            a = total[i] + c_row[i]
            out[i] = a / window
            total[i] = a - old[i]
    else:
        for i in range(c_row.shape[0]):
            total[i] += c_row[i]
        out[:] = np.nan


@nb.njit(cache=True, error_model="numpy", forceinline=True)
def _row_missing(h_row: np.ndarray, lo_row: np.ndarray, c_row: np.ndarray) -> int:
    """How many columns miss a value on these rows (a branch-free count the compiler vectorises)."""
    missing = 0
    for i in range(c_row.shape[0]):
        missing += (h_row[i] != h_row[i]) | (lo_row[i] != lo_row[i]) | (c_row[i] != c_row[i])
    return missing


# -- wrappers: fast path + exact recomputation of irregular columns ----------------------------------------


def _panels(count: int, shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Output panels for a kernel, allocated by NumPy rather than inside the kernel.

    NumPy asks the kernel for transparent huge pages on large arrays (``madvise``); memory that numba's
    allocator returns is faulted in 4 KiB pages, which cost more than the whole indicator pass on a large
    panel (measured: 80 ms against 20 ms to fault in and fill one 2,000 x 6,000 panel).
    """
    return tuple(np.empty(shape) for _ in range(count))


def _recompute_irregular(
    kernel: Callable[..., np.ndarray],
    inputs: list[np.ndarray],
    params: tuple[float, ...],
    outs: tuple[np.ndarray, ...],
    irregular: np.ndarray,
    n_scratch: int = 0,
) -> None:
    """Recompute the flagged columns on their own bars (rows where every input is finite) and write the
    results back in place; other rows of those columns become NaN."""
    cols = np.flatnonzero(irregular)
    if cols.size == 0:
        return
    subs = [a[:, cols] for a in inputs]
    valid = np.ones(subs[0].shape, dtype=bool)
    for s in subs:
        valid &= np.isfinite(s)
    counts = valid.sum(axis=0)
    length = max(int(counts.max()), 1)
    packed = [np.full((length, cols.size), np.nan) for _ in subs]
    for q in range(cols.size):
        rows = np.flatnonzero(valid[:, q])
        for p, s in zip(packed, subs, strict=True):
            p[: rows.size, q] = s[rows, q]
    res = _panels(len(outs) + n_scratch, packed[0].shape)
    kernel(*packed, *res, *params, block_size(cols.size))
    for o, r in zip(outs, res, strict=False):
        for q, j in enumerate(cols):
            rows = np.flatnonzero(valid[:, q])
            col = np.full(o.shape[0], np.nan)
            col[rows] = r[: rows.size, q]
            o[:, j] = col


def _run(
    kernel: Callable[..., np.ndarray],
    n_out: int,
    inputs: list[np.ndarray],
    *params: float,
    n_scratch: int = 0,
) -> tuple[np.ndarray, ...]:
    """Run ``kernel`` into fresh output panels (plus ``n_scratch`` scratch panels), then fix irregular columns."""
    res = _panels(n_out + n_scratch, inputs[0].shape)
    irregular = kernel(*inputs, *res, *params, block_size(inputs[0].shape[1]))
    outs = res[:n_out]
    _recompute_irregular(kernel, inputs, params, outs, irregular, n_scratch)
    return outs


def sma_2d(x: np.ndarray, window: int) -> np.ndarray:
    """SMA of every column of ``x`` under the NaN policy."""
    return _run(sma_kernel, 1, [x], window)[0]


def ema_2d(x: np.ndarray, window: int) -> np.ndarray:
    """EMA of every column of ``x`` under the NaN policy."""
    return _run(ema_kernel, 1, [x], window)[0]


def wma_2d(x: np.ndarray, window: int) -> np.ndarray:
    """WMA of every column of ``x`` under the NaN policy."""
    return _run(wma_kernel, 1, [x], window)[0]


def macd_2d(x: np.ndarray, fast: int, slow: int, signal: int) -> tuple[np.ndarray, ...]:
    """MACD ``(line, signal, hist)`` of every column (``fast``/``slow`` swapped if reversed, as TA-Lib)."""
    if slow < fast:
        fast, slow = slow, fast
    return _run(macd_kernel, 3, [x], fast, slow, signal)


def rsi_2d(x: np.ndarray, window: int) -> np.ndarray:
    """RSI of every column under the NaN policy."""
    return _run(rsi_kernel, 1, [x], window)[0]


def roc_2d(x: np.ndarray, window: int) -> np.ndarray:
    """ROC of every column under the NaN policy."""
    return _run(roc_kernel, 1, [x], window)[0]


def bbands_2d(x: np.ndarray, window: int, nbdev_up: float, nbdev_dn: float) -> tuple[np.ndarray, ...]:
    """Bollinger ``(upper, middle, lower)`` of every column under the NaN policy."""
    return _run(bbands_kernel, 3, [x], window, nbdev_up, nbdev_dn)


def trange_2d(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """True range of every column under the NaN policy."""
    return _run(trange_kernel, 1, [high, low, close])[0]


def atr_2d(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int) -> np.ndarray:
    """ATR of every column under the NaN policy."""
    return _run(atr_kernel, 1, [high, low, close], window)[0]


def stoch_2d(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, fastk: int, slowk: int, slowd: int
) -> tuple[np.ndarray, ...]:
    """Slow stochastic ``(slowk, slowd)`` of every column under the NaN policy."""
    return _run(stoch_kernel, 2, [high, low, close], fastk, slowk, slowd, n_scratch=2)


def adx_2d(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int) -> tuple[np.ndarray, ...]:
    """``(adx, plus_di, minus_di)`` of every column under the NaN policy."""
    return _run(adx_kernel, 3, [high, low, close], window)


def obv_2d(close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """OBV of every column under the NaN policy."""
    return _run(obv_kernel, 1, [close, volume])[0]


CORE_OUTPUTS = (
    "sma_fast",
    "sma_slow",
    "ema",
    "macd",
    "macd_signal",
    "macd_hist",
    "rsi",
    "atr",
    "bb_upper",
    "bb_middle",
    "bb_lower",
)


def core_2d(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    sma_fast: int = 50,
    sma_slow: int = 200,
    ema_window: int = 20,
    macd_fast: int = 12,
    macd_slow: int = 26,
    macd_signal: int = 9,
    rsi_window: int = 14,
    atr_window: int = 14,
    bb_window: int = 20,
    bb_up: float = 2.0,
    bb_dn: float = 2.0,
) -> tuple[np.ndarray, ...]:
    """The seven core indicators of every column (outputs named in :data:`CORE_OUTPUTS`).

    Regular columns come from the fused :func:`core_kernel`; irregular ones (interior gaps, close present
    without high/low) are recomputed per indicator, so each output equals its single-indicator function.
    """
    if macd_slow < macd_fast:
        macd_fast, macd_slow = macd_slow, macd_fast
    params = CoreParams(
        int(sma_fast), int(sma_slow), int(ema_window), int(macd_fast), int(macd_slow), int(macd_signal),
        int(rsi_window), int(atr_window), int(bb_window), float(bb_up), float(bb_dn),
    )  # fmt: skip
    outs = CoreOut(*_panels(len(CORE_OUTPUTS), close.shape))
    irregular = core_kernel(high, low, close, outs, params, max(_CORE_MIN_BLOCK, block_size(close.shape[1])))
    cols = np.flatnonzero(irregular)
    if cols.size:
        h, lo, c = high[:, cols], low[:, cols], close[:, cols]
        again = (
            sma_2d(c, sma_fast),
            sma_2d(c, sma_slow),
            ema_2d(c, ema_window),
            *macd_2d(c, macd_fast, macd_slow, macd_signal),
            rsi_2d(c, rsi_window),
            atr_2d(h, lo, c, atr_window),
            *bbands_2d(c, bb_window, bb_up, bb_dn),
        )
        for o, r in zip(outs, again, strict=True):
            o[:, cols] = r
    return outs
