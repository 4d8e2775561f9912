"""Event study: what the close did in the ``horizon`` sessions after past signals of one kind.

For event bars ``t_1 < t_2 < ...`` of one series the forward return is ``close[t + h] / close[t] - 1``
(MacKinlay, "Event Studies in Economics and Finance", JEL 1997, with the constant-mean benchmark replaced by the
mean ``h``-session return over the same history, the "any window" baseline). Only events whose horizon ends on
or before the last bar are used, so a study as of a date never peeks past it. Overlapping windows are kept (the
events are few); the count says how many there were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ForwardReturns:
    """Forward returns after events.

    Attributes
    ----------
    n
        Events whose horizon ended within the data.
    mean, median
        Mean and median forward return (fractions).
    hit_rate
        Share of positive forward returns.
    baseline_mean
        Mean ``horizon``-session return over every bar of the same history (same span as the events' windows).
    first
        Bar index of the first event used (``None`` when ``n == 0``).
    returns
        The forward returns, in event order.
    """

    n: int
    mean: float
    median: float
    hit_rate: float
    baseline_mean: float
    first: int | None
    returns: np.ndarray


def forward_returns_after(close: np.ndarray, event_index: np.ndarray, horizon: int) -> ForwardReturns:
    """Forward ``horizon``-bar returns of ``close`` after the bars ``event_index``.

    Parameters
    ----------
    close
        1-D closes (the last element is the last bar that may be used).
    event_index
        Bar positions of the events.
    horizon
        Sessions ahead (> 0).
    """
    if horizon <= 0:
        raise ValueError(f"horizon must be positive, got {horizon}")
    close = np.asarray(close, dtype=np.float64)
    idx = np.asarray(event_index, dtype=np.int64)
    n_bars = len(close)
    idx = idx[(idx >= 0) & (idx + horizon < n_bars)]
    fwd = close[idx + horizon] / close[idx] - 1.0 if len(idx) else np.empty(0)
    ok = np.isfinite(fwd)
    fwd, idx = fwd[ok], idx[ok]
    if n_bars > horizon:
        all_fwd = close[horizon:] / close[:-horizon] - 1.0
        all_fwd = all_fwd[np.isfinite(all_fwd)]
        baseline = float(all_fwd.mean()) if len(all_fwd) else float("nan")
    else:
        baseline = float("nan")
    if len(fwd) == 0:
        return ForwardReturns(0, float("nan"), float("nan"), float("nan"), baseline, None, fwd)
    return ForwardReturns(
        n=len(fwd),
        mean=float(fwd.mean()),
        median=float(np.median(fwd)),
        hit_rate=float(np.mean(fwd > 0.0)),
        baseline_mean=baseline,
        first=int(idx[0]),
        returns=fwd,
    )
