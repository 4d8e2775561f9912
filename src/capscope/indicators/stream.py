"""Incremental state of the seven core indicators over many symbols.

:class:`CoreState` holds, per symbol, exactly the quantities the batch kernel
(:func:`capscope.indicators.kernels.core_kernel`) carries from bar to bar (running sums, EMA values, Wilder
averages, the signal seed) plus a ring buffer of the last closes (the longest window), so that
:func:`update` advances every symbol by one bar with the same floating-point operations in the same order:
streaming results are bit-identical to batch recomputation.

NaN policy (same as the batch API): a symbol whose close is NaN in the new row has no bar: its close-based
outputs are NaN and its close-based state does not move; ATR needs high, low and close, and skips the bar
when any of them is missing.

Serialization: :meth:`CoreState.to_bytes` / :meth:`CoreState.from_bytes` (an ``.npz`` archive, exact float64),
for the store and a watch mode.

Examples
--------
>>> import numpy as np
>>> close = 100.0 + np.cumsum(np.ones((300, 2)), axis=0)
>>> state = CoreState.from_history(close + 1, close - 1, close)
>>> row = update(state, {"high": close[-1] + 2, "low": close[-1], "close": close[-1] + 1})
>>> round(float(row.sma_fast[0]), 6)
376.0
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numba as nb
import numpy as np

from capscope.errors import UsageError
from capscope.indicators.api import Core
from capscope.indicators.kernels import bb_add, bb_emit, bb_reseed

# rows of CoreState.values
_SA, _SB, _E, _F, _S, _G, _GAIN, _LOSS, _ATR, _PREV_C, _PREV_A, _BB0 = range(12)
_N_VALUES = _BB0 + 5  # the last five rows are the Bollinger state of kernels.bb_add
# rows of CoreState.counts
_CNT_C, _CNT_A = 0, 1

PARAM_NAMES = (
    "sma_fast",
    "sma_slow",
    "ema_window",
    "macd_fast",
    "macd_slow",
    "macd_signal",
    "rsi_window",
    "atr_window",
    "bb_window",
)
DEFAULT_PARAMS: dict[str, float] = {
    "sma_fast": 50,
    "sma_slow": 200,
    "ema_window": 20,
    "macd_fast": 12,
    "macd_slow": 26,
    "macd_signal": 9,
    "rsi_window": 14,
    "atr_window": 14,
    "bb_window": 20,
    "bb_nbdev_up": 2.0,
    "bb_nbdev_dn": 2.0,
}


@dataclass(eq=False)
class CoreState:
    """State of the core indicators for ``n_symbols`` symbols.

    Attributes
    ----------
    params
        Indicator parameters (names as in :func:`capscope.indicators.api.core`).
    values
        ``(17, n_symbols)`` float64: running sums / averages carried between bars.
    counts
        ``(2, n_symbols)`` int64: bars seen with a close, and bars seen with high, low and close.
    ring
        ``(ring_size, n_symbols)`` float64: the last closes of each symbol (slot ``count % ring_size``).
    """

    params: dict[str, float]
    values: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    ring: np.ndarray = field(repr=False)

    @property
    def n_symbols(self) -> int:
        """Number of symbols tracked."""
        return int(self.values.shape[1])

    @classmethod
    def empty(cls, n_symbols: int, **params: float) -> CoreState:
        """A state that has seen no bar yet."""
        unknown = set(params) - set(DEFAULT_PARAMS)
        if unknown:
            raise UsageError(f"unknown core parameters {sorted(unknown)}; known: {', '.join(DEFAULT_PARAMS)}")
        p = {**DEFAULT_PARAMS, **params}
        for name in PARAM_NAMES:
            v = p[name]
            minimum = 1 if name == "macd_signal" else 2
            if int(v) != v or v < minimum:
                raise UsageError(f"{name} must be an integer >= {minimum}, got {v!r}")
            p[name] = int(v)
        if p["macd_slow"] < p["macd_fast"]:
            p["macd_fast"], p["macd_slow"] = p["macd_slow"], p["macd_fast"]
        size = int(max(p["sma_fast"], p["sma_slow"], p["ema_window"], p["macd_slow"], p["bb_window"]))
        return cls(
            params=p,
            values=np.zeros((_N_VALUES, n_symbols)),
            counts=np.zeros((2, n_symbols), dtype=np.int64),
            ring=np.full((size, n_symbols), np.nan),
        )

    @classmethod
    def from_history(cls, high: Any, low: Any, close: Any, **params: float) -> CoreState:
        """Build the state by feeding a panel's history ``(n_bars, n_symbols)`` bar by bar."""
        h, lo, c = (np.ascontiguousarray(np.asarray(a, dtype=np.float64)) for a in (high, low, close))
        if c.ndim == 1:
            h, lo, c = (a.reshape(-1, 1) for a in (h, lo, c))
        if not (h.shape == lo.shape == c.shape) or c.ndim != 2:
            raise UsageError(f"history arrays must share one 2-D shape, got {h.shape}, {lo.shape}, {c.shape}")
        state = cls.empty(c.shape[1], **params)
        cast(Any, _run_history)(
            state.values, state.counts, state.ring, *_int_params(state), *_float_params(state), h, lo, c
        )
        return state

    def copy(self) -> CoreState:
        """An independent copy."""
        return CoreState(dict(self.params), self.values.copy(), self.counts.copy(), self.ring.copy())

    def to_bytes(self) -> bytes:
        """Serialize exactly (an ``.npz`` archive with the parameters as JSON)."""
        buf = io.BytesIO()
        np.savez(
            buf,
            params=np.frombuffer(json.dumps(self.params, sort_keys=True).encode(), dtype=np.uint8),
            values=self.values,
            counts=self.counts,
            ring=self.ring,
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> CoreState:
        """Inverse of :meth:`to_bytes`."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                params = json.loads(z["params"].tobytes().decode())
                return cls(params, z["values"].copy(), z["counts"].copy(), z["ring"].copy())
        except (ValueError, KeyError, OSError) as exc:
            raise UsageError(f"not a serialized CoreState: {exc}") from exc


def _int_params(state: CoreState) -> tuple[int, ...]:
    return tuple(int(state.params[name]) for name in PARAM_NAMES)


def _float_params(state: CoreState) -> tuple[float, float]:
    return float(state.params["bb_nbdev_up"]), float(state.params["bb_nbdev_dn"])


def update(state: CoreState, bar: Mapping[str, Any] | tuple[Any, Any, Any]) -> Core:
    """Advance every symbol by one bar and return that bar's 11 core outputs (1-D arrays, one per symbol).

    Parameters
    ----------
    state
        Mutated in place.
    bar
        ``{"high": ..., "low": ..., "close": ...}`` or ``(high, low, close)``: arrays of ``n_symbols``
        values (NaN = no bar for that symbol).
    """
    if isinstance(bar, Mapping):
        try:
            rows = (bar["high"], bar["low"], bar["close"])
        except KeyError as exc:
            raise UsageError(f"bar needs high, low and close; got keys {sorted(bar)}") from exc
    else:
        rows = bar
    h, lo, c = (np.asarray(a, dtype=np.float64).reshape(-1) for a in rows)
    m = state.n_symbols
    if not (h.size == lo.size == c.size == m):
        raise UsageError(f"bar rows must have {m} values (one per symbol), got {h.size}, {lo.size}, {c.size}")
    out = np.empty((11, m))
    cast(Any, _step)(
        state.values, state.counts, state.ring, *_int_params(state), *_float_params(state), h, lo, c, out
    )
    return Core(*out)


@nb.njit(cache=True, inline="always")
def _true_range(h: float, lo: float, prev_close: float) -> float:
    greatest = h - lo
    v2 = abs(prev_close - h)
    if v2 > greatest:
        greatest = v2
    v3 = abs(lo - prev_close)
    if v3 > greatest:
        greatest = v3
    return greatest


@nb.njit(cache=True)
def _ring_sum(ring: np.ndarray, j: int, first: int, last: int) -> float:
    size = ring.shape[0]
    s = 0.0
    for i in range(first, last + 1):
        s += ring[i % size, j]
    return s


@nb.njit(cache=True)
def _step(
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
    k_e = 2.0 / (ema_w + 1)
    k_f = 2.0 / (mf + 1)
    k_s = 2.0 / (ms + 1)
    k_g = 2.0 / (mg + 1)
    m_first = ms - 1
    m_look = m_first + mg - 1
    rsi_inv = 1.0 / rsi_w
    for j in range(m):
        for q in range(11):
            out[q, j] = np.nan
        c = close[j]
        if c != c:
            continue
        k = counts[_CNT_C, j]
        ring[k % size, j] = c
        # SMA fast / slow
        vals[_SA, j] += c
        if k >= sma_fast - 1:
            out[0, j] = vals[_SA, j] / sma_fast
            vals[_SA, j] -= ring[(k - sma_fast + 1) % size, j]
        vals[_SB, j] += c
        if k >= sma_slow - 1:
            out[1, j] = vals[_SB, j] / sma_slow
            vals[_SB, j] -= ring[(k - sma_slow + 1) % size, j]
        # Bollinger
        bb = vals[_BB0:]
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
            vals[_E, j] = (c - vals[_E, j]) * k_e + vals[_E, j]
            out[2, j] = vals[_E, j]
        elif k == ema_w - 1:
            vals[_E, j] = _ring_sum(ring, j, k - ema_w + 1, k) / ema_w
            out[2, j] = vals[_E, j]
        # MACD
        if k >= m_first:
            if k == m_first:
                vals[_S, j] = _ring_sum(ring, j, k - ms + 1, k) / ms
                vals[_F, j] = _ring_sum(ring, j, k - mf + 1, k) / mf
            else:
                vals[_F, j] = (c - vals[_F, j]) * k_f + vals[_F, j]
                vals[_S, j] = (c - vals[_S, j]) * k_s + vals[_S, j]
            line = vals[_F, j] - vals[_S, j]
            if k < m_look:
                vals[_G, j] += line
            else:
                if k == m_look:
                    vals[_G, j] = (vals[_G, j] + line) / mg
                else:
                    vals[_G, j] = (line - vals[_G, j]) * k_g + vals[_G, j]
                out[3, j] = line
                out[4, j] = vals[_G, j]
                out[5, j] = line - vals[_G, j]
        # RSI
        if k > 0:
            dlt = c - vals[_PREV_C, j]
            if k > rsi_w:
                vals[_LOSS, j] *= rsi_w - 1
                vals[_GAIN, j] *= rsi_w - 1
            gd = dlt if dlt > 0.0 else 0.0
            vals[_GAIN, j] += gd
            vals[_LOSS, j] += gd - dlt
            if k >= rsi_w:
                vals[_LOSS, j] *= rsi_inv
                vals[_GAIN, j] *= rsi_inv
                tot = vals[_GAIN, j] + vals[_LOSS, j]
                out[6, j] = 100.0 * (vals[_GAIN, j] / tot) if tot > 0.0 else 0.0
        vals[_PREV_C, j] = c
        counts[_CNT_C, j] = k + 1
        # ATR (needs high, low and close)
        h = high[j]
        lo = low[j]
        if h != h or lo != lo:
            continue
        ka = counts[_CNT_A, j]
        if ka > 0:
            tr = _true_range(h, lo, vals[_PREV_A, j])
            if ka < atr_w:
                vals[_ATR, j] += tr
            elif ka == atr_w:
                vals[_ATR, j] = (vals[_ATR, j] + tr) / atr_w
                out[7, j] = vals[_ATR, j]
            else:
                pa = vals[_ATR, j] * (atr_w - 1)
                pa += tr
                pa /= atr_w
                vals[_ATR, j] = pa
                out[7, j] = pa
        vals[_PREV_A, j] = c
        counts[_CNT_A, j] = ka + 1


@nb.njit(cache=True)
def _run_history(
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
    out = np.empty((11, close.shape[1]))
    for t in range(close.shape[0]):
        _step(
            vals, counts, ring, sma_fast, sma_slow, ema_w, mf, ms, mg, rsi_w, atr_w, bb_w, bb_up, bb_dn,
            high[t], low[t], close[t], out,
        )  # fmt: skip
