"""Outcomes of pattern and level breakouts, measured the way Bulkowski measures them.

Definitions follow Thomas Bulkowski's glossary (thepatternsite.com, "Glossary"; *Encyclopedia of Chart
Patterns*, 3rd ed., 2021), for an upward breakout (downward ones are mirrored):

* **breakout price**: the price of the pattern boundary at the breakout (here the neckline / boundary level
  the detector froze on the breakout bar; for a level breakout, the level);
* **ultimate high**: the highest high after the breakout before price drops at least 20 % (from that high to
  a close) or closes below the bottom of the pattern; until one of these happens the trend is *open* and the
  outcome censored (``None``);
* **rise** (the "average rise" statistic): ultimate high / breakout price - 1;
* **failure** (break-even failure): a rise of less than 5 %;
* **busted**: price moves less than 10 % in the breakout direction, then closes beyond the other side of the
  pattern (here the pattern's invalidation price: the head of a head-and-shoulders, the lower bottom of a
  double bottom, the opposite boundary of a triangle);
* **throwback** (upward) / **pullback** (downward): within 30 bars after the breakout price returns to the
  breakout price (a low at or below it; a high at or above it for pullbacks). Bulkowski also asks for "white
  space" between the breakout and the return; no such gap is required here, so the rate is an upper bound
  of his;
* **target reached**: the measured-move target (the detector's ``target``) is touched by a high (low) before
  the trend ends; bars to target count from the breakout bar.

Maximum favourable / adverse excursion (MFE / MAE) are measured from the close on the knowable date (what a
trader could act on) over the following ``horizon`` bars, in the breakout direction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["BreakoutOutcome", "breakout_outcome", "summarize_outcomes"]

FAILURE_MOVE = 0.05
BUSTED_MOVE = 0.10
TREND_END_DROP = 0.20
THROWBACK_BARS = 30


@dataclass(frozen=True)
class BreakoutOutcome:
    """What happened after one breakout (``None``: not yet known on the last bar)."""

    symbol: str
    kind: str
    direction: int
    breakout_date: str
    knowable_date: str
    breakout_price: float
    target: float | None
    bottom: float | None
    move: float | None
    resolved: bool
    failure: bool | None
    busted: bool | None
    throwback: bool | None
    target_reached: bool | None
    bars_to_target: int | None
    mfe: float | None
    mae: float | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)


def breakout_outcome(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    dates: np.ndarray,
    *,
    symbol: str,
    kind: str,
    direction: int,
    breakout_row: int,
    knowable_row: int,
    breakout_price: float,
    target: float | None,
    bottom: float | None,
    horizon: int,
) -> BreakoutOutcome:
    """Measure one breakout on one symbol's bars (1-D arrays ending on the last usable bar).

    Parameters
    ----------
    high, low, close, dates
        The symbol's bars (NaN rows are skipped).
    direction
        +1 upward breakout, -1 downward.
    breakout_row, knowable_row
        Rows of the breakout bar and of the bar on which the breakout became knowable.
    breakout_price
        Boundary price at the breakout.
    target, bottom
        Measured-move target and the far side of the pattern (``None`` when the kind has none).
    horizon
        Bars after the knowable date over which MFE / MAE are measured.
    """
    ok = np.isfinite(close)
    rows = np.flatnonzero(ok)
    h = np.where(np.isfinite(high), high, close)
    lo_ = np.where(np.isfinite(low), low, close)
    s = direction
    # oriented prices: "up" is favourable
    fav = h if s > 0 else -lo_
    adv = lo_ if s > 0 else -h
    c = close * s
    bp = breakout_price * s
    bot = None if bottom is None else bottom * s
    tgt = None if target is None else target * s
    after = rows[rows >= breakout_row]
    best = -np.inf
    resolved = False
    busted: bool | None = None
    reached_at: int | None = None
    for t in after:
        best = max(best, fav[t])
        if tgt is not None and reached_at is None and fav[t] >= tgt:
            reached_at = int(np.searchsorted(rows, t) - np.searchsorted(rows, breakout_row))
        beyond_bottom = bot is not None and c[t] < bot
        if beyond_bottom and busted is None:
            busted = _move(best, bp, s) < BUSTED_MOVE
        if beyond_bottom or _drawdown(c[t], best, s) >= TREND_END_DROP:
            resolved = True
            break
    if busted is None and bot is not None and best > -np.inf and _move(best, bp, s) >= BUSTED_MOVE:
        busted = False
    move = _move(best, bp, s) if best > -np.inf else None
    if move is not None and move >= FAILURE_MOVE:
        failure: bool | None = False
    elif resolved and move is not None:
        failure = True
    else:
        failure = None
    # throwback / pullback: back to the breakout price within 30 bars after the breakout bar
    nxt = after[1 : THROWBACK_BARS + 1]
    if nxt.size and np.any(adv[nxt] <= bp):
        throwback: bool | None = True
    elif nxt.size == THROWBACK_BARS:
        throwback = False
    else:
        throwback = None
    if tgt is None:
        target_reached: bool | None = None
    elif reached_at is not None:
        target_reached = True
    else:
        target_reached = False if resolved else None
    # excursions from the knowable close over `horizon` bars
    k = int(np.searchsorted(rows, knowable_row))
    win = rows[k + 1 : k + 1 + horizon]
    mfe = mae = None
    if k < rows.size and rows[k] == knowable_row and win.size == horizon:
        entry = close[knowable_row]
        if s > 0:
            mfe = float(np.max(h[win]) / entry - 1.0)
            mae = float(np.min(lo_[win]) / entry - 1.0)
        else:
            mfe = float(1.0 - np.min(lo_[win]) / entry)
            mae = float(1.0 - np.max(h[win]) / entry)
    return BreakoutOutcome(
        symbol=symbol,
        kind=kind,
        direction=s,
        breakout_date=str(dates[breakout_row]),
        knowable_date=str(dates[knowable_row]),
        breakout_price=float(breakout_price),
        target=None if target is None else float(target),
        bottom=None if bottom is None else float(bottom),
        move=move,
        resolved=resolved,
        failure=failure,
        busted=busted,
        throwback=throwback,
        target_reached=target_reached,
        bars_to_target=reached_at,
        mfe=mfe,
        mae=mae,
    )


def _move(best: float, bp: float, s: int) -> float:
    """Move from the breakout price to the best oriented price, as a fraction of the breakout price."""
    return float((best - bp) / abs(bp))


def _drawdown(c: float, best: float, s: int) -> float:
    """Drop of the (oriented) close from the best (oriented) extreme, as a fraction of that extreme."""
    if s > 0:
        return float(1.0 - c / best) if best > 0 else 0.0
    # mirrored: best = -lowest low, c = -close; a rise of 20 % from the low ends a downtrend
    low = -best
    return float(-c / low - 1.0) if low > 0 else 0.0


def _share(values: list[bool | None]) -> tuple[float | None, int]:
    known = [v for v in values if v is not None]
    return (float(np.mean(known)) if known else None), len(known)


def summarize_outcomes(outcomes: list[BreakoutOutcome]) -> dict[str, object]:
    """Rates and medians over breakouts (each rate over the breakouts whose outcome is known).

    Returns ``n_breakouts``, ``n_resolved`` (trend ended), ``failure_rate``, ``average_move`` and
    ``median_move`` (resolved only), ``busted_rate``, ``throwback_rate``, ``target_rate``,
    ``median_bars_to_target``, ``mfe_median``, ``mae_median`` and the count behind each rate (``n_*``).
    """
    out: dict[str, object] = {"n_breakouts": len(outcomes)}
    resolved = [o for o in outcomes if o.resolved and o.move is not None]
    out["n_resolved"] = len(resolved)
    moves = [o.move for o in resolved if o.move is not None]
    out["average_move"] = float(np.mean(moves)) if moves else None
    out["median_move"] = float(np.median(moves)) if moves else None
    for name, attr in (
        ("failure", "failure"),
        ("busted", "busted"),
        ("throwback", "throwback"),
        ("target", "target_reached"),
    ):
        rate, n = _share([getattr(o, attr) for o in outcomes])
        out[f"{name}_rate"] = rate
        out[f"n_{name}"] = n
    bars = [o.bars_to_target for o in outcomes if o.bars_to_target is not None]
    out["median_bars_to_target"] = float(np.median(bars)) if bars else None
    mfe = [o.mfe for o in outcomes if o.mfe is not None]
    mae = [o.mae for o in outcomes if o.mae is not None]
    out["mfe_median"] = float(np.median(mfe)) if mfe else None
    out["mae_median"] = float(np.median(mae)) if mae else None
    out["n_excursion"] = len(mfe)
    return out
