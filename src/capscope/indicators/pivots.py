"""Causal swing points (pivots) of one price series.

Two definitions, both causal: every pivot carries the bar on which it became knowable (``confirm_index``),
and nothing about a pivot changes when bars after its ``confirm_index`` are added or removed.

* :func:`fractal_pivots` -- Bill Williams' "fractal" swing points generalised to ``k`` bars: bar ``i`` is a
  swing high when its high is strictly above the highs of the ``k`` bars before it and at least the highs of
  the ``k`` bars after it (the ``>=`` on the right picks the *first* bar of a flat top). It is knowable at
  ``i + k``. Swing lows mirror this on the lows.
* :func:`zigzag_pivots` -- the classic zig-zag filter (e.g. Merrill, *Filtered Waves*, 1977; the "ZigZag"
  indicator of charting packages) made causal: the running extreme since the last pivot becomes a pivot on
  the first later bar whose opposite extreme has reversed by at least ``threshold`` (a multiple of ATR, or a
  percentage of the extreme). The pivot's ``confirm_index`` is that reversal bar. Pivots alternate high/low.

Both return a :class:`Pivots` record of NumPy arrays for a 1-D series. Bars whose high or low is NaN (before
the first bar, in gaps) are skipped. The numba kernels have plain-Python twins (``*_reference``) that the
tests hold equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from capscope.errors import UsageError

__all__ = [
    "Pivots",
    "fractal_pivots",
    "fractal_pivots_panel",
    "fractal_pivots_panel_reference",
    "fractal_pivots_reference",
    "wilder_atr",
    "wilder_atr_reference",
    "zigzag_pivots",
    "zigzag_pivots_atr",
    "zigzag_pivots_reference",
]


@dataclass(frozen=True)
class Pivots:
    """Swing points of one series, ordered by ``confirm_index`` then ``index``.

    Attributes
    ----------
    index
        ``int64`` bar of the extreme.
    confirm_index
        ``int64`` bar on which the pivot became knowable (``>= index``).
    price
        ``float64`` the extreme: the bar's high for a swing high, its low for a swing low.
    kind
        ``int8``: ``+1`` swing high, ``-1`` swing low.
    """

    index: np.ndarray
    confirm_index: np.ndarray
    price: np.ndarray
    kind: np.ndarray

    @property
    def size(self) -> int:
        """Number of pivots."""
        return len(self.index)

    def __iter__(self) -> Iterator[np.ndarray]:
        """Unpack as ``index, confirm_index, price, kind``."""
        return iter((self.index, self.confirm_index, self.price, self.kind))

    def known_at(self, bar: int) -> Pivots:
        """The pivots knowable on bar ``bar`` (``confirm_index <= bar``)."""
        keep = self.confirm_index <= bar
        return Pivots(self.index[keep], self.confirm_index[keep], self.price[keep], self.kind[keep])

    def highs(self) -> Pivots:
        """Only the swing highs."""
        keep = self.kind > 0
        return Pivots(self.index[keep], self.confirm_index[keep], self.price[keep], self.kind[keep])

    def lows(self) -> Pivots:
        """Only the swing lows."""
        keep = self.kind < 0
        return Pivots(self.index[keep], self.confirm_index[keep], self.price[keep], self.kind[keep])


def _empty() -> Pivots:
    return Pivots(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.int8))


def _as_1d(x: object, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise UsageError(f"{name} must be a 1-D series (one symbol); got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def _pack(idx: np.ndarray, conf: np.ndarray, price: np.ndarray, kind: np.ndarray) -> Pivots:
    return Pivots(idx.astype(np.int64), conf.astype(np.int64), price.astype(np.float64), kind.astype(np.int8))


# ---------------------------------------------------------------------------------------------------------
# numba kernels (compiled lazily on first call; cache=True keeps the machine code between runs)


def _njit(func):  # type: ignore[no-untyped-def]
    from numba import njit

    return njit(cache=True, nogil=True)(func)


_KERNELS: dict[str, object] = {}


def _kernel(name: str):  # type: ignore[no-untyped-def]
    """Compile (once) and return the numba kernel ``name``; numba is imported only here."""
    fn = _KERNELS.get(name)
    if fn is None:
        if name in (
            "atr",
            "zigzag",
        ):  # the engine's ATR and zig-zag steps (one copy: indicators/recursions.py)
            from capscope.indicators.kernels import atr_series, zigzag_series

            fn = atr_series if name == "atr" else zigzag_series
        else:
            fn = _njit({"fractal": _fractal_loop, "fractal_panel": _fractal_panel_loop}[name])
        _KERNELS[name] = fn
    return fn


def _fractal_loop(high, low, k):  # type: ignore[no-untyped-def]
    n = high.shape[0]
    idx = np.empty(2 * n, np.int64)
    kind = np.empty(2 * n, np.int64)
    price = np.empty(2 * n, np.float64)
    m = 0
    for i in range(k, n - k):
        h = high[i]
        if h == h:
            ok = True
            for j in range(i - k, i):
                if not high[j] < h:  # NaN neighbours fail the comparison
                    ok = False
                    break
            if ok:
                for j in range(i + 1, i + k + 1):
                    if not high[j] <= h:
                        ok = False
                        break
            if ok:
                idx[m] = i
                kind[m] = 1
                price[m] = h
                m += 1
        lo = low[i]
        if lo == lo:
            ok = True
            for j in range(i - k, i):
                if not low[j] > lo:
                    ok = False
                    break
            if ok:
                for j in range(i + 1, i + k + 1):
                    if not low[j] >= lo:
                        ok = False
                        break
            if ok:
                idx[m] = i
                kind[m] = -1
                price[m] = lo
                m += 1
    return idx[:m], kind[:m], price[:m]


def fractal_pivots(high: object, low: object, k: int = 2) -> Pivots:
    """Fractal swing points: extremes of ``2k + 1``-bar windows, knowable ``k`` bars later.

    Parameters
    ----------
    high, low
        1-D arrays (or Series) of one symbol's highs and lows.
    k
        Bars on each side (``k = 2`` is Williams' five-bar fractal).

    Returns
    -------
    Pivots
        Swing highs (``high[i] > high[j]`` for the ``k`` bars before, ``>=`` for the ``k`` bars after) and
        swing lows (mirrored), with ``confirm_index = index + k``; a bar can be both (an outside bar), then the
        high is listed first. Windows that touch a NaN produce no pivot.
    """
    h, lo = _as_1d(high, "high"), _as_1d(low, "low")
    if h.shape != lo.shape:
        raise UsageError(f"high and low differ in length: {h.shape[0]} vs {lo.shape[0]}")
    if int(k) < 1:
        raise UsageError(f"k must be >= 1, got {k}")
    k = int(k)
    if h.shape[0] < 2 * k + 1:
        return _empty()
    idx, kind, price = _kernel("fractal")(h, lo, k)
    return _pack(idx, idx + k, price, kind)


def fractal_pivots_reference(high: object, low: object, k: int = 2) -> Pivots:
    """Plain NumPy twin of :func:`fractal_pivots` (sliding windows, no numba); same results."""
    h, lo = _as_1d(high, "high"), _as_1d(low, "low")
    n = h.shape[0]
    rows: list[tuple[int, int, float]] = []
    for i in range(k, n - k):
        before_h, after_h = h[i - k : i], h[i + 1 : i + k + 1]
        if not np.isnan(h[i]) and np.all(before_h < h[i]) and np.all(after_h <= h[i]):
            rows.append((i, 1, float(h[i])))
        before_l, after_l = lo[i - k : i], lo[i + 1 : i + k + 1]
        if not np.isnan(lo[i]) and np.all(before_l > lo[i]) and np.all(after_l >= lo[i]):
            rows.append((i, -1, float(lo[i])))
    if not rows:
        return _empty()
    idx = np.array([r[0] for r in rows])
    return _pack(idx, idx + k, np.array([r[2] for r in rows]), np.array([r[1] for r in rows]))


# ---------------------------------------------------------------------------------------------------------
# fractal pivots of a whole time-major panel


_PANEL_CHUNK = (
    2048  # cells tested together: the chunk's flags stay in L1 while the k neighbour rows stream by
)


def _fractal_panel_loop(high, low, k):  # type: ignore[no-untyped-def]
    """Fractal pivots of every column of time-major ``(n, m)`` panels in one pass over the cells.

    In the flat row-major layout cell ``p = i * m + j`` has its ``d``-th neighbour before at ``p - d * m`` and
    after at ``p + d * m``, so one contiguous loop over ``p`` tests every column at once, whatever the panel's
    width. Pass 1 runs over chunks of cells, one neighbour distance ``d`` at a time without early exits (the
    compiler vectorises it), with one flag byte per cell (1: swing high, 2: swing low); it counts each column's
    pivots and lists the flagged cells in row-major order (branch-free: every cell is written, the cursor only
    moves past flagged ones). Pass 2 lays the listed pivots out column by column (``ptr``), each column in bar
    order, a high before a low on the same bar: the order of :func:`fractal_pivots` on each column. The tests are
    those of :func:`_fractal_loop`: a NaN centre or neighbour fails a comparison (``k >= 1``: at least one).
    """
    n, m = high.shape
    hf = high.reshape(-1)
    lf = low.reshape(-1)
    start = k * m
    stop = max(n - k, k) * m
    cells = np.empty(stop - start, np.int64)
    cell_flags = np.empty(stop - start, np.uint8)
    counts = np.zeros(m, np.int64)
    ok = np.empty(_PANEL_CHUNK, np.uint8)
    n_cells = 0
    j = 0  # column of the cell p0 + q
    for p0 in range(start, stop, _PANEL_CHUNK):
        size = min(_PANEL_CHUNK, stop - p0)
        ok[:size] = 3
        hc = hf[p0 : p0 + size]
        lc = lf[p0 : p0 + size]
        for d in range(1, k + 1):
            off = d * m
            # slices, not p - off indices: the loop index stays non-negative and the loop vectorises
            hb = hf[p0 - off : p0 - off + size]
            ha = hf[p0 + off : p0 + off + size]
            lb = lf[p0 - off : p0 - off + size]
            la = lf[p0 + off : p0 + off + size]
            for q in range(size):
                is_high = np.uint8((hb[q] < hc[q]) & (ha[q] <= hc[q]))
                is_low = np.uint8((lb[q] > lc[q]) & (la[q] >= lc[q]))
                ok[q] &= is_high | (is_low << np.uint8(1))
        for q in range(size):
            f = ok[q]
            cells[n_cells] = p0 + q
            cell_flags[n_cells] = f
            n_cells += f != 0
            counts[j] += (f & 1) + (f >> 1)
            j += 1
            if j == m:
                j = 0
    ptr = np.zeros(m + 1, np.int64)
    for c in range(m):
        ptr[c + 1] = ptr[c] + counts[c]
    total = ptr[m]
    index = np.empty(total, np.int64)
    confirm = np.empty(total, np.int64)
    price = np.empty(total, np.float64)
    kind = np.empty(total, np.int8)
    cur = ptr[:m].copy()
    for t in range(n_cells):
        p = cells[t]
        f = cell_flags[t]
        i = p // m
        col = p - i * m
        c = cur[col]
        if f & 1:
            index[c] = i
            confirm[c] = i + k
            price[c] = hf[p]
            kind[c] = 1
            c += 1
        if f & 2:
            index[c] = i
            confirm[c] = i + k
            price[c] = lf[p]
            kind[c] = -1
            c += 1
        cur[col] = c
    return ptr, index, confirm, price, kind


PanelPivots = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _as_panel(x: object, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise UsageError(f"{name} must be a 2-D time-major panel (bars, symbols); got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def fractal_pivots_panel(high: object, low: object, k: int = 2) -> PanelPivots:
    """:func:`fractal_pivots` of every column of a time-major panel, flattened over columns.

    Parameters
    ----------
    high, low
        2-D ``(n_bars, n_symbols)`` arrays, NaN where a symbol has no bar.
    k
        Bars on each side.

    Returns
    -------
    tuple of numpy.ndarray
        ``(ptr, index, confirm, price, kind)``: the pivots of column ``j`` are ``ptr[j]:ptr[j+1]``, in the
        order :func:`fractal_pivots` gives them for that column (``int64`` index and confirm, ``float64``
        price, ``int8`` kind). One numba pass over the panel (:func:`_fractal_panel_loop`) instead of one
        call per column; :func:`fractal_pivots_panel_reference` is its twin.
    """
    h, lo = _as_panel(high, "high"), _as_panel(low, "low")
    if h.shape != lo.shape:
        raise UsageError(f"high and low differ in shape: {h.shape} vs {lo.shape}")
    if int(k) < 1:
        raise UsageError(f"k must be >= 1, got {k}")
    out: PanelPivots = _kernel("fractal_panel")(h, lo, int(k))
    return out


def fractal_pivots_panel_reference(high: object, low: object, k: int = 2) -> PanelPivots:
    """Plain twin of :func:`fractal_pivots_panel`: :func:`fractal_pivots_reference` column by column."""
    h, lo = _as_panel(high, "high"), _as_panel(low, "low")
    m = h.shape[1]
    parts = [fractal_pivots_reference(h[:, j], lo[:, j], k) for j in range(m)]
    ptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum([p.size for p in parts], out=ptr[1:])

    def cat(name: str, dtype: type) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts] or [np.empty(0)]).astype(dtype)

    return (
        ptr,
        cat("index", np.int64),
        cat("confirm_index", np.int64),
        cat("price", np.float64),
        cat("kind", np.int8),
    )


# ---------------------------------------------------------------------------------------------------------
# ATR (Wilder), TA-Lib conventions


def wilder_atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int = 14) -> np.ndarray:
    """Average true range with Wilder smoothing, TA-Lib conventions (first value at index ``window``).

    True range ``TR[t] = max(high - low, |high - close[t-1]|, |low - close[t-1]|)`` for ``t >= 1``; the first
    ATR is the mean of ``TR[1..window]``, then ``ATR[t] = (ATR[t-1] * (window - 1) + TR[t]) / window``
    (Wilder, *New Concepts in Technical Trading Systems*, 1978). Inputs must be free of NaN (numba kernel
    :func:`capscope.indicators.kernels.atr_series`, the engine's ATR step; :func:`wilder_atr_reference` is its
    NumPy twin).
    """
    h, lo, c = (np.ascontiguousarray(a, dtype=np.float64) for a in (high, low, close))
    out: np.ndarray = _kernel("atr")(h, lo, c, int(window))
    return out


def wilder_atr_reference(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int = 14
) -> np.ndarray:
    """NumPy/Python twin of :func:`wilder_atr`."""
    n = high.shape[0]
    out = np.full(n, np.nan)
    if n <= window:
        return out
    prev = close[:-1]
    tr = np.maximum(high[1:] - low[1:], np.maximum(np.abs(high[1:] - prev), np.abs(low[1:] - prev)))
    value = float(np.mean(tr[:window]))
    out[window] = value
    for t in range(window + 1, n):
        value = (value * (window - 1) + tr[t - 1]) / window
        out[t] = value
    return out


# ---------------------------------------------------------------------------------------------------------
# zig-zag


def _zigzag_inputs(
    high: object,
    low: object,
    close: object,
    threshold: float,
    mode: str,
    atr_window: int,
    atr_fn: Callable[..., np.ndarray] = wilder_atr,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, bool]:
    h, lo, c = _as_1d(high, "high"), _as_1d(low, "low"), _as_1d(close, "close")
    if not (h.shape == lo.shape == c.shape):
        raise UsageError(f"high, low, close differ in length: {h.shape[0]}, {lo.shape[0]}, {c.shape[0]}")
    if mode not in ("atr", "percent"):
        raise UsageError(f"mode must be 'atr' or 'percent', got {mode!r}")
    if not threshold > 0:
        raise UsageError(f"threshold must be > 0, got {threshold}")
    valid = np.flatnonzero(~(np.isnan(h) | np.isnan(lo) | np.isnan(c)))
    hv, lv, cv = h[valid], lo[valid], c[valid]
    if mode == "atr":
        scale = atr_fn(hv, lv, cv, atr_window)
        return valid, hv, lv, scale, float(threshold), True
    return valid, hv, lv, np.empty(0), float(threshold) / 100.0, False


def zigzag_pivots(
    high: object,
    low: object,
    close: object,
    threshold: float,
    *,
    mode: Literal["atr", "percent"] = "atr",
    atr_window: int = 14,
) -> Pivots:
    """Causal zig-zag swing points.

    Parameters
    ----------
    high, low, close
        1-D arrays of one symbol (NaN bars are skipped).
    threshold
        Reversal needed to confirm a swing: in ``mode="atr"`` a multiple of the Wilder ATR on the reversal bar;
        in ``mode="percent"`` a percentage of the extreme (``5.0`` = 5 %).
    mode
        ``"atr"`` or ``"percent"``.
    atr_window
        ATR window for ``mode="atr"`` (no pivot is confirmed before the ATR is defined, bar ``atr_window``).

    Returns
    -------
    Pivots
        Alternating swing highs and lows. A swing high is the highest high since the previous swing low
        (first bar on ties); it is confirmed (``confirm_index``) on the first later bar whose low is at least
        ``threshold`` below it. Swing lows mirror this. The last, still running extreme is not a pivot.
    """
    valid, hv, lv, scale, thr, use_atr = _zigzag_inputs(high, low, close, threshold, mode, atr_window)
    if hv.shape[0] == 0:
        return _empty()
    idx, conf, kind, price, _ = _kernel("zigzag")(hv, lv, scale if use_atr else np.empty(1), thr, use_atr)
    return _pack(valid[idx], valid[conf], price, kind)


def zigzag_pivots_atr(high: np.ndarray, low: np.ndarray, atr: np.ndarray, threshold: float) -> Pivots:
    """:func:`zigzag_pivots` in ATR mode on NaN-free bars with a precomputed ATR (for multi-scale callers)."""
    h, lo, a = (np.ascontiguousarray(v, dtype=np.float64) for v in (high, low, atr))
    if h.shape[0] == 0:
        return _empty()
    idx, conf, kind, price, _ = _kernel("zigzag")(h, lo, a, float(threshold), True)
    return _pack(idx, conf, price, kind)


def zigzag_pivots_reference(
    high: object,
    low: object,
    close: object,
    threshold: float,
    *,
    mode: Literal["atr", "percent"] = "atr",
    atr_window: int = 14,
) -> Pivots:
    """Plain-Python twin of :func:`zigzag_pivots`: a state machine written for reading, not speed."""
    valid, hv, lv, scale, thr, use_atr = _zigzag_inputs(
        high, low, close, threshold, mode, atr_window, wilder_atr_reference
    )
    rows: list[tuple[int, int, int, float]] = []  # (index, confirm, kind, price)
    state = 0
    ext_hi: tuple[float, int] = (-np.inf, -1)
    ext_lo: tuple[float, int] = (np.inf, -1)
    for t in range(hv.shape[0]):
        if state >= 0 and hv[t] > ext_hi[0]:
            ext_hi = (float(hv[t]), t)
        if state <= 0 and lv[t] < ext_lo[0]:
            ext_lo = (float(lv[t]), t)
        if use_atr:
            if np.isnan(scale[t]):
                continue
            need_down = need_up = thr * scale[t]
        else:
            need_down, need_up = ext_hi[0] * thr, ext_lo[0] * thr
        fell = ext_hi[1] < t and lv[t] <= ext_hi[0] - need_down
        rose = ext_lo[1] < t and hv[t] >= ext_lo[0] + need_up
        confirm_high = (state == 1 and fell) or (state == 0 and fell)
        confirm_low = (state == -1 and rose) or (state == 0 and rose)
        if state == 0 and confirm_high and confirm_low:
            if ext_lo[1] < ext_hi[1]:
                rows.append((ext_lo[1], t, -1, ext_lo[0]))
                confirm_low = False
            else:
                rows.append((ext_hi[1], t, 1, ext_hi[0]))
                confirm_high = False
        if confirm_high:
            rows.append((ext_hi[1], t, 1, ext_hi[0]))
            state = -1
            seg = lv[ext_hi[1] + 1 : t + 1]
            j = int(np.argmin(seg))
            ext_lo = (float(seg[j]), ext_hi[1] + 1 + j)
        elif confirm_low:
            rows.append((ext_lo[1], t, -1, ext_lo[0]))
            state = 1
            seg = hv[ext_lo[1] + 1 : t + 1]
            j = int(np.argmax(seg))
            ext_hi = (float(seg[j]), ext_lo[1] + 1 + j)
    if not rows:
        return _empty()
    arr = np.array([(r[0], r[1], r[2]) for r in rows], dtype=np.int64)
    return _pack(valid[arr[:, 0]], valid[arr[:, 1]], np.array([r[3] for r in rows]), arr[:, 2])
