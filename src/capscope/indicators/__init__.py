"""Indicator engine: TA-Lib-exact kernels over whole panels, and one-bar incremental updates.

``from capscope.indicators import sma, macd, ...`` (or ``from capscope.indicators import api as ind``). Importing
this package does not import numba; the kernels compile (or load from numba's cache) on first use.
"""

from capscope.indicators.api import (
    ADX,
    MACD,
    Bands,
    Core,
    Stoch,
    adx,
    atr,
    bbands,
    core,
    ema,
    lookback,
    macd,
    obv,
    roc,
    rsi,
    sma,
    stoch,
    trange,
    wma,
)

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
