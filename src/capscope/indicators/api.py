"""Typed public API of the indicator engine.

Every function accepts a 1-D array (one symbol), a 2-D time-major panel ``(n_bars, n_symbols)``, a pandas
``Series`` or a wide ``DataFrame`` (index = dates, columns = symbols) and returns the same kind of object
(multi-output indicators return a ``NamedTuple`` of them). Each column is independent.

Conventions (TA-Lib 0.6, default "unstable period" 0, SMA moving-average types)
--------------------------------------------------------------------------------
* ``sma``/``wma``/``bbands``: first value at index ``window - 1``; Bollinger uses the population deviation.
* ``ema``: ``k = 2 / (window + 1)``, seeded with the SMA of the first ``window`` values.
* ``macd``: both EMAs emit from index ``slow - 1`` (the fast one seeded with the mean of the ``fast`` values
  ending there); the signal is the EMA of the MACD line, so all outputs start at ``slow + signal - 2``
  (33 for 12/26/9).
* ``rsi``/``atr``: Wilder smoothing, first value at index ``window``; ``adx`` at ``2 * window - 1``, its DIs at
  ``window``; ``roc`` at ``window``; ``stoch`` at ``fastk + slowk + slowd - 3``; ``trange`` at 1; ``obv`` at 0.
* :func:`lookback` returns these indices (equal to TA-Lib's ``TA_*_Lookback``).

NaN policy
----------
A row is a *bar* of a column when every input of the indicator is finite there. Each column is computed on its
own bars only: rows without a bar (before a symbol's listing, after its delisting, or during a halt) give NaN
and do not advance the indicator; the state carries over from the last bar. Hence a column's result equals
TA-Lib's on the column with its missing rows removed, written back to the rows they came from. Why: a halt
produces no trade, so treating it as a price (or restarting the warm-up) would invent data or throw away
history; "bars, not calendar days" is also what TA-Lib and charting tools do with listed-later symbols.

History dependence: SMA, WMA, Bollinger, ROC, STOCH and TRANGE depend only on the last ``lookback + 1`` bars
(up to floating-point rounding of TA-Lib's running sums, ~1e-13 relative). EMA, MACD, RSI, ATR and ADX are
recursive: like TA-Lib's, their values depend on where the series starts (the seed), with an influence that
decays geometrically; comparing numbers needs the same first bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from capscope.errors import UsageError

__all__ = [
    "ADX",
    "MACD",
    "Bands",
    "Core",
    "Stoch",
    "adx",
    "atr",
    "bbands",
    "core",
    "ema",
    "lookback",
    "macd",
    "obv",
    "roc",
    "rsi",
    "sma",
    "stoch",
    "trange",
    "wma",
]


class MACD(NamedTuple):
    """MACD line (fast EMA - slow EMA), its signal EMA, and the histogram (line - signal)."""

    macd: Any
    signal: Any
    hist: Any


class Bands(NamedTuple):
    """Bollinger bands: ``middle`` (SMA) +/- ``nbdev`` population standard deviations."""

    upper: Any
    middle: Any
    lower: Any


class Stoch(NamedTuple):
    """Slow stochastic: slow %K and slow %D (both in percent)."""

    slowk: Any
    slowd: Any


class ADX(NamedTuple):
    """Average directional index and the directional indicators +DI / -DI (percent)."""

    adx: Any
    plus_di: Any
    minus_di: Any


# -- input / output handling -----------------------------------------------------------------------------


def _is_frame(x: object) -> bool:
    return hasattr(x, "columns") and hasattr(x, "index") and hasattr(x, "to_numpy")


def _is_series(x: object) -> bool:
    return not _is_frame(x) and hasattr(x, "index") and hasattr(x, "to_numpy") and hasattr(x, "name")


def _prepare(*inputs: Any) -> tuple[list[np.ndarray], Callable[[np.ndarray], Any]]:
    """Turn the inputs into 2-D C-contiguous float64 arrays and return a function restoring the input kind."""
    first = inputs[0]
    arrays: list[np.ndarray] = []
    for x in inputs:
        if _is_frame(x) or _is_series(x):
            a = np.asarray(x.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
        else:
            a = np.asarray(x, dtype=np.float64)
        if a.ndim == 1:
            a = a.reshape(-1, 1)
        elif a.ndim != 2:
            raise UsageError(f"indicator inputs must be 1-D or 2-D, got an array of shape {a.shape}")
        arrays.append(np.ascontiguousarray(a))
    shape = arrays[0].shape
    for a in arrays[1:]:
        if a.shape != shape:
            raise UsageError(f"indicator inputs differ in shape: {shape} vs {a.shape}")
    if _is_frame(first):
        for x in inputs[1:]:
            if _is_frame(x) and (not x.columns.equals(first.columns) or not x.index.equals(first.index)):
                raise UsageError("indicator input frames must share index and columns")
        frame_type = type(first)

        def wrap(out: np.ndarray) -> Any:
            return frame_type(out, index=first.index, columns=first.columns)

        return arrays, wrap
    if _is_series(first):
        series_type = type(first)

        def wrap(out: np.ndarray) -> Any:
            return series_type(out[:, 0], index=first.index, name=first.name)

        return arrays, wrap
    if np.ndim(first) == 1:
        return arrays, lambda out: out[:, 0]
    return arrays, lambda out: out


def _check_window(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < minimum:
        raise UsageError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _engine() -> Any:
    from capscope.indicators import kernels

    return kernels


# -- indicators ------------------------------------------------------------------------------------------


def sma(x: Any, window: int = 30) -> Any:
    """Simple moving average (TA-Lib ``SMA``), first defined at index ``window - 1``.

    Parameters
    ----------
    x
        Prices: 1-D array, 2-D ``(n_bars, n_symbols)`` array, Series or wide DataFrame.
    window
        Number of bars averaged (>= 2).

    Returns
    -------
    Same kind as ``x``, NaN before the lookback and on rows without a bar.
    """
    w = _check_window("window", window, 2)
    (a,), wrap = _prepare(x)
    return wrap(_engine().sma_2d(a, w))


def ema(x: Any, window: int = 30) -> Any:
    """Exponential moving average (TA-Lib ``EMA``): ``k = 2 / (window + 1)``, seeded with the SMA of the first
    ``window`` bars, first defined at index ``window - 1``."""
    w = _check_window("window", window, 2)
    (a,), wrap = _prepare(x)
    return wrap(_engine().ema_2d(a, w))


def wma(x: Any, window: int = 30) -> Any:
    """Linearly weighted moving average (TA-Lib ``WMA``, weights ``1..window``, newest heaviest)."""
    w = _check_window("window", window, 2)
    (a,), wrap = _prepare(x)
    return wrap(_engine().wma_2d(a, w))


def macd(close: Any, fast: int = 12, slow: int = 26, signal: int = 9) -> MACD:
    """Moving average convergence/divergence (TA-Lib ``MACD``); ``fast`` and ``slow`` are swapped if reversed.

    Returns
    -------
    MACD
        ``(macd, signal, hist)``, all first defined at index ``max(fast, slow) + signal - 2``.
    """
    f = _check_window("fast", fast, 2)
    s = _check_window("slow", slow, 2)
    g = _check_window("signal", signal, 1)
    (a,), wrap = _prepare(close)
    m, sg, h = _engine().macd_2d(a, f, s, g)
    return MACD(wrap(m), wrap(sg), wrap(h))


def rsi(close: Any, window: int = 14) -> Any:
    """Wilder's relative strength index (TA-Lib ``RSI``), first defined at index ``window``."""
    w = _check_window("window", window, 2)
    (a,), wrap = _prepare(close)
    return wrap(_engine().rsi_2d(a, w))


def trange(high: Any, low: Any, close: Any) -> Any:
    """True range (TA-Lib ``TRANGE``): ``max(high - low, |high - prev close|, |low - prev close|)``, from
    index 1."""
    (h, lo, c), wrap = _prepare(high, low, close)
    return wrap(_engine().trange_2d(h, lo, c))


def atr(high: Any, low: Any, close: Any, window: int = 14) -> Any:
    """Wilder's average true range (TA-Lib ``ATR``), first defined at index ``window``."""
    w = _check_window("window", window, 1)
    (h, lo, c), wrap = _prepare(high, low, close)
    return wrap(_engine().atr_2d(h, lo, c, w))


def bbands(close: Any, window: int = 5, nbdev_up: float = 2.0, nbdev_dn: float = 2.0) -> Bands:
    """Bollinger bands (TA-Lib ``BBANDS`` with an SMA middle band and the population standard deviation)."""
    w = _check_window("window", window, 2)
    (a,), wrap = _prepare(close)
    up, mid, lo = _engine().bbands_2d(a, w, float(nbdev_up), float(nbdev_dn))
    return Bands(wrap(up), wrap(mid), wrap(lo))


def roc(close: Any, window: int = 10) -> Any:
    """Rate of change in percent, ``(close / close[-window] - 1) * 100`` (TA-Lib ``ROC``)."""
    w = _check_window("window", window, 1)
    (a,), wrap = _prepare(close)
    return wrap(_engine().roc_2d(a, w))


def stoch(
    high: Any, low: Any, close: Any, fastk_window: int = 5, slowk_window: int = 3, slowd_window: int = 3
) -> Stoch:
    """Slow stochastic oscillator (TA-Lib ``STOCH`` with SMA smoothing of %K and %D)."""
    fk = _check_window("fastk_window", fastk_window, 1)
    sk = _check_window("slowk_window", slowk_window, 1)
    sd = _check_window("slowd_window", slowd_window, 1)
    (h, lo, c), wrap = _prepare(high, low, close)
    k, d = _engine().stoch_2d(h, lo, c, fk, sk, sd)
    return Stoch(wrap(k), wrap(d))


def adx(high: Any, low: Any, close: Any, window: int = 14) -> ADX:
    """Wilder's ADX with +DI and -DI (TA-Lib ``ADX``, ``PLUS_DI``, ``MINUS_DI``).

    The DIs are first defined at index ``window``, the ADX at ``2 * window - 1``.
    """
    w = _check_window("window", window, 2)
    (h, lo, c), wrap = _prepare(high, low, close)
    a, p, m = _engine().adx_2d(h, lo, c, w)
    return ADX(wrap(a), wrap(p), wrap(m))


def obv(close: Any, volume: Any) -> Any:
    """On-balance volume (TA-Lib ``OBV``), starting from the first bar's volume."""
    (c, v), wrap = _prepare(close, volume)
    return wrap(_engine().obv_2d(c, v))


class Core(NamedTuple):
    """The seven core indicators computed together by :func:`core`."""

    sma_fast: Any
    sma_slow: Any
    ema: Any
    macd: Any
    macd_signal: Any
    macd_hist: Any
    rsi: Any
    atr: Any
    bb_upper: Any
    bb_middle: Any
    bb_lower: Any


def core(
    high: Any,
    low: Any,
    close: Any,
    *,
    sma_fast: int = 50,
    sma_slow: int = 200,
    ema_window: int = 20,
    macd_fast: int = 12,
    macd_slow: int = 26,
    macd_signal: int = 9,
    rsi_window: int = 14,
    atr_window: int = 14,
    bb_window: int = 20,
    bb_nbdev_up: float = 2.0,
    bb_nbdev_dn: float = 2.0,
) -> Core:
    """SMA 50, SMA 200, EMA 20, MACD 12/26/9, RSI 14, ATR 14 and Bollinger 20/2 in one fused pass.

    Each output equals the corresponding single-indicator function (same conventions and NaN policy); the
    fused kernel reads close/high/low once for all eleven outputs, which is what makes a whole-market panel
    fast.

    Examples
    --------
    >>> import numpy as np
    >>> close = np.linspace(10.0, 20.0, 300)
    >>> out = core(close + 0.5, close - 0.5, close)
    >>> bool(np.isnan(out.sma_slow[198])), round(float(out.sma_slow[299]), 6)
    (True, 16.672241)
    """
    params = (
        _check_window("sma_fast", sma_fast, 2),
        _check_window("sma_slow", sma_slow, 2),
        _check_window("ema_window", ema_window, 2),
        _check_window("macd_fast", macd_fast, 2),
        _check_window("macd_slow", macd_slow, 2),
        _check_window("macd_signal", macd_signal, 1),
        _check_window("rsi_window", rsi_window, 2),
        _check_window("atr_window", atr_window, 2),
        _check_window("bb_window", bb_window, 2),
    )
    (h, lo, c), wrap = _prepare(high, low, close)
    outs = _engine().core_2d(h, lo, c, *params, float(bb_nbdev_up), float(bb_nbdev_dn))
    return Core(*(wrap(o) for o in outs))


_LOOKBACKS: dict[str, Callable[..., int]] = {
    "sma": lambda window=30: window - 1,
    "ema": lambda window=30: window - 1,
    "wma": lambda window=30: window - 1,
    "bbands": lambda window=5, nbdev_up=2.0, nbdev_dn=2.0: window - 1,
    "macd": lambda fast=12, slow=26, signal=9: max(fast, slow) - 1 + signal - 1,
    "rsi": lambda window=14: window,
    "atr": lambda window=14: window,
    "trange": lambda: 1,
    "roc": lambda window=10: window,
    "stoch": lambda fastk_window=5, slowk_window=3, slowd_window=3: (
        fastk_window - 1 + slowk_window - 1 + slowd_window - 1
    ),
    "adx": lambda window=14: 2 * window - 1,
    "plus_di": lambda window=14: window,
    "minus_di": lambda window=14: window,
    "obv": lambda: 0,
}


def lookback(name: str, **params: Any) -> int:
    """Index of the first defined value of indicator ``name`` (TA-Lib's ``TA_<NAME>_Lookback``).

    Examples
    --------
    >>> lookback("macd")
    33
    >>> lookback("sma", window=200)
    199
    """
    try:
        func = _LOOKBACKS[name]
    except KeyError:
        raise UsageError(f"unknown indicator {name!r}; known: {', '.join(sorted(_LOOKBACKS))}") from None
    try:
        return int(func(**params))
    except TypeError as exc:
        raise UsageError(f"bad parameters for {name!r}: {exc}") from None
