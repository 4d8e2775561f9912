"""How the signals that fired recently did before: forward returns after each earlier event of the same kind.

MACD signal-line crosses are studied apart above and below the zero line (:func:`qualify_macd_zero`), the
qualification traders use ("a bullish cross above zero"). Forward returns come from
:func:`capscope.analytics.event_study.forward_returns_after` (no bar after the last one is used).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from capscope.analytics.event_study import forward_returns_after

if TYPE_CHECKING:
    import pandas as pd

MACD_SIGNAL_KINDS = ("macd_bullish_cross", "macd_bearish_cross")


def qualify_macd_zero(events: pd.DataFrame) -> np.ndarray:
    """Event kinds with MACD signal-line crosses split by the zero line.

    ``macd_bullish_cross`` with ``above_zero`` becomes ``macd_bullish_cross_above_zero``, otherwise
    ``macd_bullish_cross_below_zero`` (likewise bearish); other kinds are unchanged.

    Returns
    -------
    numpy.ndarray
        Object array of kind names, one per event row.
    """
    kinds = events["kind"].astype(str).to_numpy(dtype=object)
    is_macd = np.isin(kinds, list(MACD_SIGNAL_KINDS))
    if is_macd.any():
        above = events["above_zero"].to_numpy(dtype=object)
        kinds[is_macd] = [
            f"{k}_{'above' if bool(a) else 'below'}_zero"
            for k, a in zip(kinds[is_macd], above[is_macd], strict=True)
        ]
    return kinds


@dataclass(frozen=True)
class SignalStudy:
    """Forward returns after the earlier events of one (qualified) kind."""

    kind: str
    horizon: int
    n: int
    mean: float
    median: float
    hit_rate: float
    baseline_mean: float
    first: np.datetime64 | None


def study_recent_signals(
    dates: np.ndarray,
    close: np.ndarray,
    events: pd.DataFrame,
    recent_from: np.datetime64,
    horizons: tuple[int, ...],
) -> list[SignalStudy]:
    """For every qualified kind that fired on or after ``recent_from``: forward returns after all its events.

    Parameters
    ----------
    dates, close
        The symbol's bars up to the as-of date.
    events
        Its event frame (:func:`capscope.analytics.technical.signal_events`).
    recent_from
        First date of the "recent" window.
    horizons
        Forward horizons in sessions.

    Returns
    -------
    list of SignalStudy
        Sorted by kind, then horizon; horizons without a complete event window are left out.
    """
    if len(events) == 0:
        return []
    kinds = qualify_macd_zero(events)
    event_dates = events["date"].to_numpy().astype("datetime64[D]")
    fired = sorted(set(kinds[event_dates >= recent_from]))
    out = []
    for kind in fired:
        idx = np.searchsorted(dates, event_dates[kinds == kind])
        for h in horizons:
            res = forward_returns_after(close, idx, h)
            if res.n == 0:
                continue
            first = dates[res.first] if res.first is not None else None
            out.append(
                SignalStudy(kind, h, res.n, res.mean, res.median, res.hit_rate, res.baseline_mean, first)
            )
    return out
