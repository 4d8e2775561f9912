"""Crossover events: golden/death crosses, price vs moving average, MACD signal and zero line, RSI zones.

Cross rule (the same for every kind here)
-----------------------------------------
For two series ``a`` and ``b`` (e.g. fast and slow moving average) let ``d = a - b`` (or ``a - threshold``).
Each symbol keeps a *state*: the sign of ``d`` on the last bar on which ``d`` was finite and non-zero.

* A **cross** happens on bar ``t`` when ``d[t]`` is finite and non-zero and its sign differs from the state.
  The event is dated ``t`` (the bar on which both values are first known to be on the other side).
* **Ties**: a bar with ``d == 0`` creates no event and does not change the state, so ``+, 0, -`` is one cross
  (dated on the ``-`` bar) and ``+, 0, +`` is none.
* **NaN**: a bar on which ``a`` or ``b`` is NaN (warm-up, gaps, no bar) is skipped: it creates no event and
  keeps the state, so after a gap the first finite bar is compared with the last valid bar before the gap.
* The first finite, non-zero bar only sets the state: a series that *starts* above never "crossed" above.

Because the state at ``t`` depends only on bars ``<= t`` and the indicators are causal, the events up to a date
are the same whether or not later data exists (no look-ahead).

All detection runs over the whole time-major panel at once in one numba pass (:func:`cross_events` emits only
the crossing cells; :func:`cross_matrix` the full direction matrix), with a plain-Python reference twin
(:func:`cross_matrix_reference`) that the tests hold equal.

Indicator definitions follow TA-Lib through :mod:`capscope.indicators.api` (SMA, EMA seeded with an SMA,
MACD(12, 26, 9), Wilder RSI). The golden cross (50-day above 200-day moving average) and death cross are the
conventional names, e.g. Murphy, *Technical Analysis of the Financial Markets* (1999), ch. 9; MACD after Appel
(1979); RSI overbought/oversold at 70/30 after Wilder, *New Concepts in Technical Trading Systems* (1978).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from capscope.events import records as R

if TYPE_CHECKING:
    import pandas as pd

    from capscope.data.panel import Panel

MA_KINDS = ("sma", "ema")


# -- kernels -----------------------------------------------------------------------------------------------
@njit(cache=True)
def _cross_kernel(a: np.ndarray, b: np.ndarray, level: float, use_b: bool) -> np.ndarray:  # pragma: no cover
    n, m = a.shape
    out = np.zeros((n, m), dtype=np.int8)
    state = np.zeros(m, dtype=np.int64)
    for t in range(n):  # time-major: rows are contiguous
        for j in range(m):
            d = a[t, j] - (b[t, j] if use_b else level)
            s = np.int64(d > 0.0) - np.int64(d < 0.0)  # zero or NaN -> 0: no event, state kept
            st = state[j]
            state[j] = s if s != 0 else st
            if s * st < 0:
                out[t, j] = s
    return out


@njit(cache=True)
def _cross_scan(a, b, level, use_b, c, rows, cols, dirs, va, vb, vc):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Every cross of ``a`` against ``b`` (``use_b``) or the scalar ``level``, in C order, with the values of ``a``,
    ``b`` and ``c`` (when ``c`` has the panel's shape) on each event's cell; returns the number of events, or -1
    when they do not fit the output arrays (the caller retries with larger ones).

    One pass over the values: a row's signs and the symbols' states are updated branch-free (NaN and ties -> sign
    0, state kept) into an ``int8`` row, so the symbol loop vectorises; a row with events is then listed while its
    values are still in the L1 cache. The output arrays are arguments, never rebound here (numba would count
    references on every pass through the loop otherwise).
    """
    n, m = a.shape
    use_c = c.shape[0] == n and c.shape[1] == m
    cap = rows.shape[0]
    state = np.zeros(m, np.int64)
    ev = np.empty(m, np.int8)
    k = 0
    for t in range(n):
        cnt = 0
        if use_b:
            for j in range(m):
                d = a[t, j] - b[t, j]
                s = np.int64(d > 0.0) - np.int64(d < 0.0)
                st = state[j]
                cross = s * st < 0  # both non-zero and opposite
                ev[j] = s if cross else 0
                cnt += cross
                state[j] = s if s != 0 else st
        else:
            for j in range(m):
                d = a[t, j] - level
                s = np.int64(d > 0.0) - np.int64(d < 0.0)
                st = state[j]
                cross = s * st < 0
                ev[j] = s if cross else 0
                cnt += cross
                state[j] = s if s != 0 else st
        if cnt == 0:
            continue
        if k + cnt > cap:
            return -1
        for j in range(m):
            e = ev[j]
            if e != 0:
                rows[k] = t
                cols[k] = j
                dirs[k] = e
                va[k] = a[t, j]
                vb[k] = b[t, j] if use_b else level
                vc[k] = c[t, j] if use_c else np.nan
                k += 1
    return k


_NO_B = np.zeros((1, 1))  # ``b`` / ``c`` when not used (one compiled signature for every call)


def _cross_arrays(
    a2: np.ndarray, b: np.ndarray | float, c: np.ndarray | None = None, capacity: int | None = None
) -> tuple[np.ndarray, ...]:
    """``(rows, cols, dirs, a_values, b_values, c_values)`` of every cross (see :func:`_cross_scan`); ``capacity``
    (tests) sizes the first try."""
    use_b = np.ndim(b) != 0
    if use_b:
        b2 = _as_2d(b)
        if b2.shape != a2.shape:
            raise ValueError(f"shapes differ: {a2.shape} vs {b2.shape}")
    else:
        b2 = _NO_B
    c2 = _NO_B if c is None else _as_2d(c)
    level = 0.0 if use_b else float(b)
    # crosses are rare; more than one cell in eight takes a second, large enough try
    cap = a2.size // 8 + 1024 if capacity is None else capacity
    while True:
        out = (
            np.empty(cap, np.int64),
            np.empty(cap, np.int64),
            np.empty(cap, np.int8),
            np.empty(cap),
            np.empty(cap),
            np.empty(cap),
        )
        k = _cross_scan(a2, b2, level, use_b, c2, *out)
        if k >= 0:
            return tuple(x[:k] for x in out)
        cap = a2.size + 1


def cross_events(a: np.ndarray, b: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cells of :func:`cross_matrix` that hold a cross, without building the matrix.

    Returns
    -------
    tuple of numpy.ndarray
        ``(rows, cols, directions)`` in C order (by date, then symbol); ``directions`` is ``+1`` / ``-1``.
    """
    rows, cols, dirs = _cross_arrays(_as_2d(a), b)[:3]
    return rows, cols, dirs


def _as_2d(x: Any) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"expected a 1-D or 2-D time-major array, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def cross_matrix(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """Cross directions of ``a`` against ``b`` under the module's cross rule (fast numba kernel).

    Parameters
    ----------
    a
        1-D ``(n_bars,)`` or 2-D time-major ``(n_bars, n_symbols)`` array.
    b
        Array of the same shape, or a scalar threshold.

    Returns
    -------
    numpy.ndarray
        ``int8`` array shaped like ``a``: ``+1`` where ``a`` crosses above ``b``, ``-1`` where it crosses
        below, ``0`` elsewhere.
    """
    a2 = _as_2d(a)
    if np.ndim(b) == 0:
        out = _cross_kernel(a2, _NO_B, float(b), False)  # same compiled signature as below
    else:
        b2 = _as_2d(b)
        if b2.shape != a2.shape:
            raise ValueError(f"shapes differ: {a2.shape} vs {b2.shape}")
        out = _cross_kernel(a2, b2, 0.0, True)
    return out[:, 0] if np.ndim(a) == 1 else out


def cross_matrix_reference(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """Plain-Python twin of :func:`cross_matrix` (one symbol at a time, obviously correct, slow)."""
    a2 = _as_2d(a)
    b2 = np.full_like(a2, float(b)) if np.ndim(b) == 0 else _as_2d(b)
    out = np.zeros(a2.shape, dtype=np.int8)
    for j in range(a2.shape[1]):
        state = 0
        for t in range(a2.shape[0]):
            d = a2[t, j] - b2[t, j]
            if not d > 0 and not d < 0:  # zero or NaN
                continue
            s = 1 if d > 0 else -1
            if state and s != state:
                out[t, j] = s
            state = s
    return out[:, 0] if np.ndim(a) == 1 else out


# -- indicator cache -----------------------------------------------------------------------------------------
class IndicatorCache:
    """Indicators of one panel, each computed once (through :mod:`capscope.indicators.api`).

    The scan shares one cache between event families (the 50-day SMA feeds both the golden cross and the
    price cross), and the benchmark fills it first to time indicator work apart from event extraction.
    """

    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        self._values: dict[tuple[Any, ...], Any] = {}

    def _get(self, key: tuple[Any, ...], compute: Any) -> Any:
        if key not in self._values:
            self._values[key] = compute()
        return self._values[key]

    def ma(self, ma: str, window: int) -> np.ndarray:
        """Simple (``sma``) or exponential (``ema``) moving average of the close."""
        from capscope.indicators import api as ind

        if ma not in MA_KINDS:
            raise ValueError(f"unknown moving average {ma!r}; use one of {', '.join(MA_KINDS)}")
        func = ind.sma if ma == "sma" else ind.ema
        return self._get(
            ("ma", ma, int(window)), lambda: np.asarray(func(self.panel.close, window=int(window)))
        )

    def macd(self, fast: int, slow: int, signal: int) -> tuple[np.ndarray, np.ndarray]:
        """MACD line and signal line of the close."""
        from capscope.indicators import api as ind

        def compute() -> tuple[np.ndarray, np.ndarray]:
            res = ind.macd(self.panel.close, fast=fast, slow=slow, signal=signal)
            return np.asarray(res.macd), np.asarray(res.signal)

        return self._get(("macd", fast, slow, signal), compute)

    def rsi(self, window: int) -> np.ndarray:
        """Wilder RSI of the close."""
        from capscope.indicators import api as ind

        return self._get(("rsi", window), lambda: np.asarray(ind.rsi(self.panel.close, window=window)))

    def atr(self, window: int) -> np.ndarray:
        """Wilder average true range."""
        from capscope.indicators import api as ind

        p = self.panel
        return self._get(("atr", window), lambda: np.asarray(ind.atr(p.high, p.low, p.close, window=window)))

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        """Store a precomputed value (e.g. pivots) under ``key``."""
        self._values[key] = value

    def get(self, key: tuple[Any, ...], compute: Any) -> Any:
        """Return the value under ``key``, computing it with ``compute()`` the first time."""
        return self._get(key, compute)


# -- events ----------------------------------------------------------------------------------------------------
def cross_parts(
    a: np.ndarray, b: np.ndarray | float, up_kind: str, down_kind: str, fields: Mapping[str, np.ndarray | Any]
) -> R.EventParts:
    """Crosses of ``a`` against ``b`` as raw event parts (:class:`capscope.events.records.EventParts`).

    Parameters
    ----------
    a, b
        Time-major 2-D arrays (``b`` may be a scalar threshold), see :func:`cross_events`.
    up_kind, down_kind
        Event kinds of crosses above and below.
    fields
        Kind fields: 2-D arrays (sampled at each event's cell) or scalars.
    """
    # the values of a, b and one other field array come out of the scan itself (read while the row is in cache)
    a2 = _as_2d(a)
    arrays = [v for v in fields.values() if isinstance(v, np.ndarray) and v.shape == a2.shape]
    other = next((v for v in arrays if v is not a and v is not b), None)
    rows, cols, dirs, va, vb, vc = _cross_arrays(a2, b, other)
    kinds = np.where(dirs > 0, R.KIND_CODES[up_kind], R.KIND_CODES[down_kind])
    columns: dict[str, Any] = {}
    for name, value in fields.items():
        if not (isinstance(value, np.ndarray) and value.ndim == 2):
            columns[name] = value
        elif value is a:
            columns[name] = va
        elif value is b:
            columns[name] = vb
        elif value is other:
            columns[name] = vc
        else:
            columns[name] = value[rows, cols]
    return R.EventParts(rows, cols, kinds, columns)


def _cache(panel: Panel, cache: IndicatorCache | None) -> IndicatorCache:
    return cache if cache is not None else IndicatorCache(panel)


def ma_cross_parts(
    panel: Panel, pairs: Iterable[tuple[str, int, int]], cache: IndicatorCache
) -> list[R.EventParts]:
    """Raw parts of :func:`ma_crosses`."""
    out = []
    for ma, fast, slow in pairs:
        if not 0 < fast < slow:
            raise ValueError(f"moving-average pair needs 0 < fast < slow, got {fast}/{slow}")
        fast_v, slow_v = cache.ma(ma, fast), cache.ma(ma, slow)
        fields = {"ma": ma, "fast": fast, "slow": slow, "fast_value": fast_v, "slow_value": slow_v}
        out.append(cross_parts(fast_v, slow_v, R.GOLDEN_CROSS, R.DEATH_CROSS, fields))
    return out


def ma_crosses(
    panel: Panel,
    pairs: Iterable[tuple[str, int, int]] = (("sma", 50, 200),),
    *,
    cache: IndicatorCache | None = None,
) -> pd.DataFrame:
    """Golden crosses (fast MA crosses above slow MA) and death crosses (below).

    Parameters
    ----------
    panel
        Daily bars; the close is used.
    pairs
        ``(ma, fast, slow)`` triples, ``ma`` in ``{"sma", "ema"}``, ``fast < slow`` windows.
    cache
        Indicator cache to share with other event families.

    Returns
    -------
    pandas.DataFrame
        Event frame (:mod:`capscope.events.records`) of kinds ``golden_cross`` / ``death_cross`` with fields
        ``ma, fast, slow, fast_value, slow_value``.
    """
    return R.assemble(panel, ma_cross_parts(panel, pairs, _cache(panel, cache)))


def price_cross_parts(
    panel: Panel, windows: Iterable[int], ma: str, cache: IndicatorCache
) -> list[R.EventParts]:
    """Raw parts of :func:`price_crosses`."""
    out = []
    for window in windows:
        ma_v = cache.ma(ma, window)
        fields = {"ma": ma, "window": int(window), "ma_value": ma_v}
        out.append(cross_parts(panel.close, ma_v, R.PRICE_CROSS_ABOVE, R.PRICE_CROSS_BELOW, fields))
    return out


def price_crosses(
    panel: Panel,
    windows: Iterable[int] = (50, 200),
    *,
    ma: str = "sma",
    cache: IndicatorCache | None = None,
) -> pd.DataFrame:
    """Close crosses above / below a moving average (``price_cross_above`` / ``price_cross_below``).

    Fields: ``ma``, ``window``, ``ma_value`` (the average on the event bar).
    """
    return R.assemble(panel, price_cross_parts(panel, windows, ma, _cache(panel, cache)))


def macd_parts(
    panel: Panel,
    fast: int,
    slow: int,
    signal: int,
    cache: IndicatorCache,
    *,
    signal_line: bool,
    zero_line: bool,
) -> list[R.EventParts]:
    """Raw parts of :func:`macd_crosses`."""
    macd_v, signal_v = cache.macd(fast, slow, signal)
    base = {"fast": fast, "slow": slow, "signal": signal, "macd": macd_v, "signal_value": signal_v}
    out = []
    if signal_line:
        parts = cross_parts(macd_v, signal_v, R.MACD_BULLISH_CROSS, R.MACD_BEARISH_CROSS, base)
        parts.fields["above_zero"] = (parts.fields["macd"] > 0.0).astype(np.float64)
        out.append(parts)
    if zero_line:
        out.append(cross_parts(macd_v, 0.0, R.MACD_ZERO_CROSS_UP, R.MACD_ZERO_CROSS_DOWN, base))
    return out


def macd_crosses(
    panel: Panel,
    fast: int = 12,
    slow: int = 26,
    signal: int = 9,
    *,
    zero_line: bool = True,
    cache: IndicatorCache | None = None,
) -> pd.DataFrame:
    """MACD signal-line crosses and (with ``zero_line``) zero-line crosses.

    * ``macd_bullish_cross`` / ``macd_bearish_cross``: the MACD line crosses above / below its signal line.
      ``above_zero`` is ``True`` when the MACD value on the cross bar is strictly greater than 0 (a bullish
      cross "while staying above zero"), ``False`` otherwise (including exactly 0).
    * ``macd_zero_cross_up`` / ``macd_zero_cross_down``: the MACD line crosses above / below 0.

    Fields: ``fast, slow, signal`` (windows), ``macd``, ``signal_value`` (values on the event bar).
    """
    parts = macd_parts(panel, fast, slow, signal, _cache(panel, cache), signal_line=True, zero_line=zero_line)
    return R.assemble(panel, parts)


def rsi_parts(
    panel: Panel, window: int, upper: float, lower: float, cache: IndicatorCache
) -> list[R.EventParts]:
    """Raw parts of :func:`rsi_crosses`."""
    if not lower < upper:
        raise ValueError(f"RSI thresholds need lower < upper, got {lower}/{upper}")
    rsi_v = cache.rsi(window)
    return [
        cross_parts(
            rsi_v,
            upper,
            R.RSI_OVERBOUGHT,
            R.RSI_OVERBOUGHT_EXIT,
            {"window": window, "rsi": rsi_v, "threshold": upper},
        ),
        cross_parts(
            rsi_v,
            lower,
            R.RSI_OVERSOLD_EXIT,
            R.RSI_OVERSOLD,
            {"window": window, "rsi": rsi_v, "threshold": lower},
        ),
    ]


def rsi_crosses(
    panel: Panel,
    window: int = 14,
    upper: float = 70.0,
    lower: float = 30.0,
    *,
    cache: IndicatorCache | None = None,
) -> pd.DataFrame:
    """RSI zone entries and exits.

    * ``rsi_overbought``: RSI crosses above ``upper`` (enters the overbought zone);
      ``rsi_overbought_exit``: crosses back below ``upper``.
    * ``rsi_oversold``: RSI crosses below ``lower``; ``rsi_oversold_exit``: crosses back above ``lower``.

    A bar exactly on the threshold is a tie (see the module docstring). Fields: ``window``, ``rsi``,
    ``threshold``.
    """
    return R.assemble(panel, rsi_parts(panel, window, upper, lower, _cache(panel, cache)))
