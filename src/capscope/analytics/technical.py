"""The technical state of one symbol as of its last bar: moving averages, MACD, RSI, signal events, the nearest
support/resistance and its chart patterns in the order their status last changed.

This is the one place the brief's technical numbers are computed; :mod:`capscope.report.sections.technical`
only words them. Conventions are those of :mod:`capscope.indicators` (TA-Lib exact) and :mod:`capscope.events`
(the same :func:`capscope.events.scan.scan_panel` that ``capscope scan`` runs), so a number here equals the one
the commands print for the same bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from capscope.analytics.series import Series1
from capscope.data.panel import Panel

if TYPE_CHECKING:
    import pandas as pd

#: RSI zone bounds (Wilder's conventional 70/30).
RSI_UPPER, RSI_LOWER = 70.0, 30.0
#: Pattern statuses that are history: the pattern has finished (its target was met or it failed).
FINISHED_STATUSES = ("target_reached", "failed")


@dataclass(frozen=True)
class TechnicalParams:
    """Windows of the technical picture (recorded in brief.json ``params``)."""

    fast: int = 50
    slow: int = 200
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    rsi_window: int = 14


@dataclass(eq=False)
class TechnicalState:
    """Indicator arrays of one symbol on its own bars (NaN during warm-up).

    Attributes
    ----------
    series
        The symbol's bars.
    params
        Windows used.
    sma_fast, sma_slow, macd, signal, hist, rsi
        Indicator arrays aligned with ``series.dates``.
    """

    series: Series1
    params: TechnicalParams
    sma_fast: np.ndarray
    sma_slow: np.ndarray
    macd: np.ndarray
    signal: np.ndarray
    hist: np.ndarray
    rsi: np.ndarray

    @property
    def last_close(self) -> float:
        """Close of the last bar."""
        return float(self.series.close[-1])

    def sma(self, window: int) -> float:
        """Last value of the fast or slow SMA (NaN during warm-up)."""
        if window == self.params.fast:
            return float(self.sma_fast[-1])
        if window == self.params.slow:
            return float(self.sma_slow[-1])
        raise ValueError(f"window {window} is neither {self.params.fast} nor {self.params.slow}")

    def rsi_zone(self) -> str | None:
        """``overbought`` (> 70), ``oversold`` (< 30), ``neutral`` or ``None`` during warm-up."""
        r = float(self.rsi[-1])
        if not np.isfinite(r):
            return None
        return "overbought" if r > RSI_UPPER else "oversold" if r < RSI_LOWER else "neutral"


def side_of(value: float, reference: float) -> str:
    """``above``, ``below`` or ``at``."""
    return "above" if value > reference else "below" if value < reference else "at"


def percent_from(value: float, reference: float) -> float:
    """``100 * (value / reference - 1)``: how far ``value`` lies from ``reference`` in percent."""
    return (value / reference - 1.0) * 100.0


def technical_state(series: Series1, params: TechnicalParams | None = None) -> TechnicalState:
    """SMAs, MACD and RSI of one symbol (TA-Lib conventions, :mod:`capscope.indicators.api`).

    Parameters
    ----------
    series
        The symbol's bars up to the as-of date.
    params
        Windows (defaults 50/200, MACD(12, 26, 9), RSI(14)).

    Returns
    -------
    TechnicalState
    """
    from capscope.indicators import api as ind

    p = params or TechnicalParams()
    close = series.close
    m = ind.macd(close, fast=p.macd_fast, slow=p.macd_slow, signal=p.macd_signal)
    return TechnicalState(
        series,
        p,
        np.asarray(ind.sma(close, window=p.fast)),
        np.asarray(ind.sma(close, window=p.slow)),
        np.asarray(m.macd),
        np.asarray(m.signal),
        np.asarray(m.hist),
        np.asarray(ind.rsi(close, window=p.rsi_window)),
    )


def signal_events(series: Series1, params: TechnicalParams | None = None) -> pd.DataFrame:
    """Every signal event of one symbol: :func:`capscope.events.scan.scan_panel` with the brief's windows.

    The SMA cross pair, the price/SMA windows, MACD and RSI follow ``params``; levels and breakouts use the
    defaults of :mod:`capscope.events` (as ``capscope scan`` does).
    """
    from capscope.events.scan import ScanParams, scan_panel

    p = params or TechnicalParams()
    scan = ScanParams(
        ma_pairs=(("sma", p.fast, p.slow),),
        price_windows=(p.fast, p.slow),
        macd=(p.macd_fast, p.macd_slow, p.macd_signal),
        rsi_window=p.rsi_window,
        rsi_upper=RSI_UPPER,
        rsi_lower=RSI_LOWER,
    )
    return scan_panel(series.panel(), params=scan)


def last_event(events: pd.DataFrame, kinds: tuple[str, ...], **where: Any) -> pd.Series | None:
    """The most recent event of ``kinds`` (and matching every ``column=value`` of ``where``), or ``None``."""
    if len(events) == 0:
        return None
    sub = events[events["kind"].astype(str).isin(kinds)]
    for column, value in where.items():
        sub = sub[sub[column] == value]
    return None if len(sub) == 0 else sub.iloc[-1]


def sessions_since(dates: np.ndarray, day: Any) -> int:
    """Sessions (bars of ``dates``) after ``day`` up to the last bar."""
    return int(len(dates) - 1 - int(np.searchsorted(dates, np.datetime64(day, "D"))))


@dataclass(frozen=True)
class NearestLevel:
    """The nearest active level on one side of the close."""

    role: str  # resistance (above the close) / support (below)
    level: float
    touches: int
    last_touch: np.datetime64
    distance_percent: float  # percent_from(level, close)


def nearest_levels(series: Series1) -> dict[str, NearestLevel | None]:
    """Nearest active support below and resistance above the last close
    (:func:`capscope.events.levels.levels_as_of`, the levels ``capscope scan`` forms)."""
    from capscope.events import levels

    table = levels.levels_as_of(series.panel())
    close = float(series.close[-1])
    out: dict[str, NearestLevel | None] = {}
    above = table[table["level"] > close].sort_values("level")
    below = table[table["level"] < close].sort_values("level", ascending=False)
    for frame, role in ((above, "resistance"), (below, "support")):
        if len(frame) == 0:
            out[role] = None
            continue
        row = frame.iloc[0]
        out[role] = NearestLevel(
            role,
            float(row["level"]),
            int(row["touches"]),
            np.datetime64(row["last_touch"], "D"),
            percent_from(float(row["level"]), close),
        )
    return out


def chart_patterns(series: Series1, window_bars: int) -> list[dict[str, Any]]:
    """Chart patterns of one symbol as of its last bar, detected on its last ``window_bars`` bars.

    A fixed window ending on the as-of bar makes full and truncated data give the same records. Records are
    :meth:`capscope.patterns.records.PatternRecord.to_dict` dicts (the layout of ``capscope patterns``).
    """
    from capscope.patterns import find_patterns

    sp = series.panel()
    lo = max(0, sp.n_bars - window_bars)
    window = Panel(sp.dates[lo:], sp.symbols, {k: np.ascontiguousarray(v[lo:]) for k, v in sp.fields.items()})
    return [r.to_dict() for r in find_patterns(window)]


def by_latest_change(records: list[dict[str, Any]], since: str) -> list[dict[str, Any]]:
    """Patterns whose status became knowable on or after ``since``, the most recent status change first.

    ``date`` of a pattern record is the bar on which its current status became knowable, so the first record
    is the pattern whose status changed most recently (ties: kind, then the first point's date, for a stable
    order).
    """
    kept = [r for r in records if r["date"] >= since]
    kept.sort(key=lambda r: (r["kind"], r["points"][0]["date"] if r["points"] else ""))
    kept.sort(key=lambda r: r["date"], reverse=True)
    return kept


def is_finished(record: dict[str, Any]) -> bool:
    """True for a pattern whose target was reached or which failed: its levels are history."""
    return str(record["status"]) in FINISHED_STATUSES
