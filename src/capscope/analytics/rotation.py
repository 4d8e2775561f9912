"""Rotation: period returns, relative-strength lines, leadership regimes and Relative Rotation Graphs.

Everything here is causal: a result "as of" a date D uses only bars dated on or before D, and equals the result
computed on the data truncated at D (tested).

Definitions (all on the series chosen by its :class:`~capscope.analytics.basis.SeriesBasis`: ``close`` or
``adj_close``; bars with no value are dropped, so "bar" means a bar with a value):

* **end bar** ``e`` = the last bar on or before D; every return below is ``value[e] / value[b] - 1`` for a base
  bar ``b`` = the last bar on or before the period's boundary date; NaN when no such bar exists (not enough
  history) or when ``e`` is not after the boundary (the series stopped before the period began: a stale file).
* **YTD**: boundary = 31 December of the year before D's year.
* **N months** (1, 3, 6, 12): boundary = D minus N calendar months (the day is clipped to the month's end:
  31 March minus 1 month is 28/29 February).
* **since S**: boundary = S.
* **from the low**: ``b`` = the bar of the lowest value in the ``low_window`` bars ending at ``e`` (first one on
  ties; fewer bars are used when the series is shorter).

A **relative-strength (RS) line** of a pair ``numerator:denominator`` is ``ratio = numerator / denominator`` on the
dates where both have a value; a pair return is computed on those common dates for both sides, so
``(1 + r_num) / (1 + r_den) - 1 == ratio[e] / ratio[b] - 1`` ("relative return"), and ``r_num - r_den`` is the
"spread" in return points.

**Leadership** over a rolling window of ``w`` bars: the numerator led at bar ``t`` when
``ratio[t] / ratio[t - w] - 1 > 0``; the **streak** is the number of consecutive bars ending at ``e`` over which the
same side led (``since`` = its first bar).

**Turning points** of the RS line are the events of :mod:`capscope.events` run on the ratio series (crosses of
the ratio over its 50/200-bar SMAs, the 50/200 SMA cross, breakouts) — see :func:`rs_turning_points`.

**Relative Rotation Graph** (:func:`rrg`): the JdK RS-Ratio / RS-Momentum of J. de Kempenaer are proprietary. We
use the published z-score approximation of RRGPy (github.com/An0n1mity/RRGPy), documented in the RRG-Lite wiki
("RS ratio and Momentum calculations", github.com/BennyThadikaran/RRG-Lite/wiki), made causal with rolling
statistics, on weekly samples (the last trading day of each Monday-Sunday week; the week containing D is
sampled on D itself):

* ``RS_t = 100 * P_t / B_t``
* ``RS-Ratio_t = 100 + (RS_t - mean_n(RS)_t) / sd_n(RS)_t``
* ``ROC_t = 100 * (RS-Ratio_t / RS-Ratio_{t-1} - 1)``
* ``RS-Momentum_t = 100 + (ROC_t - mean_n(ROC)_t) / sd_n(ROC)_t``

with ``mean_n``/``sd_n`` the mean and sample standard deviation (ddof=1) of the last ``n`` weekly values
(``n = 14`` by default, RRGPy's default); undefined (NaN) while a window is incomplete or its sd is 0.
Quadrants: ``leading`` (RS-Ratio >= 100, RS-Momentum >= 100), ``weakening`` (>= 100, < 100), ``lagging``
(< 100, < 100), ``improving`` (< 100, >= 100).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from capscope.analytics.basis import (
    DEFAULT_CLOSE_KINDS,
    CloseKind,
    Override,
    SeriesBasis,
    resolve_basis,
)
from capscope.data.panel import Panel, to_datetime64
from capscope.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

#: Default pairs (numerator, denominator): small vs large caps (indices and ETFs), small-cap growth vs value,
#: large-cap growth vs value, small caps vs the Nasdaq-100.
DEFAULT_PAIRS: tuple[tuple[str, str], ...] = (
    ("RUT", "GSPC"),
    ("IWM", "SPY"),
    ("IWO", "IWN"),
    ("IWF", "IWD"),
    ("RUT", "NDX"),
)
#: Default RRG universe and benchmark (all dividend-adjusted files, so like is compared with like).
DEFAULT_RRG_SYMBOLS: tuple[str, ...] = ("IWO", "IWN", "IWF", "IWD", "VTWO")
DEFAULT_RRG_BENCHMARK = "IWB"
#: Months of the default N-month returns.
DEFAULT_MONTHS: tuple[int, ...] = (1, 3, 6, 12)
#: Rolling windows (bars) of the leadership regime: about one, three and six months.
DEFAULT_LEADERSHIP_WINDOWS: tuple[int, ...] = (21, 63, 126)
#: Window (bars) of the "from the low" return: 52 weeks.
DEFAULT_LOW_WINDOW = 252
#: Moving-average windows of the RS line.
RS_SMA_FAST, RS_SMA_SLOW = 50, 200
#: A series whose last bar is more than this many calendar days before the as-of date is flagged as stale.
STALE_AFTER_DAYS = 5

QUADRANTS: tuple[str, ...] = ("leading", "weakening", "lagging", "improving")


# ---------------------------------------------------------------------------------------------------------------
# small date helpers
# ---------------------------------------------------------------------------------------------------------------
def months_before(day: np.datetime64, months: int) -> np.datetime64:
    """``day`` minus ``months`` calendar months, the day clipped to the target month's length."""
    d: date = day.astype("datetime64[D]").astype(date)
    total = d.year * 12 + (d.month - 1) - months
    year, month0 = divmod(total, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return np.datetime64(date(year, month0 + 1, min(d.day, last)), "D")


def _iso(day: Any) -> str | None:
    """``YYYY-MM-DD`` of a ``datetime64`` (``None`` stays ``None``)."""
    return None if day is None else str(np.asarray(day).astype("datetime64[D]"))


def _num(x: float) -> float | None:
    """JSON-ready float (NaN -> None)."""
    return None if x is None or not np.isfinite(x) else float(x)


def _last_on_or_before(dates: np.ndarray, day: np.datetime64) -> int:
    """Index of the last date on or before ``day`` (-1 when none)."""
    return int(np.searchsorted(dates, day, side="right")) - 1


# ---------------------------------------------------------------------------------------------------------------
# series and period returns
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Series:
    """One symbol's values on its own bars (NaN-free), with the basis they were read under."""

    basis: SeriesBasis
    dates: np.ndarray
    values: np.ndarray

    @property
    def symbol(self) -> str:
        """The symbol."""
        return self.basis.symbol


def load_series(
    panel: Panel,
    symbol: str,
    *,
    overrides: Mapping[str, Override] | None = None,
    declarations: Mapping[str, CloseKind] = DEFAULT_CLOSE_KINDS,
) -> Series:
    """Read one symbol from a panel under its resolved price basis (see :mod:`capscope.analytics.basis`).

    Raises
    ------
    UsageError
        When the symbol is absent or has no value in the chosen field.
    """
    col = panel.column(symbol)
    adj = panel.fields["adj_close"][:, col] if "adj_close" in panel.fields else None
    basis = resolve_basis(symbol, adj, overrides=overrides, declarations=declarations)
    values = panel[basis.field][:, col]
    keep = np.isfinite(values)
    if not keep.any():
        raise UsageError(f"{symbol}: no {basis.field} values in the data")
    return Series(basis, panel.dates[keep], np.ascontiguousarray(values[keep]))


@dataclass(frozen=True)
class PeriodReturn:
    """Return of one series over one period (see the module docstring for the definitions).

    ``value`` is NaN (``None`` in JSON) when no base bar exists.
    """

    label: str
    start_date: np.datetime64 | None
    start_value: float
    end_date: np.datetime64 | None
    end_value: float
    value: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "label": self.label,
            "start_date": _iso(self.start_date),
            "start_value": _num(self.start_value),
            "end_date": _iso(self.end_date),
            "end_value": _num(self.end_value),
            "value": _num(self.value),
        }


@dataclass(frozen=True)
class PeriodSpec:
    """One period: ``kind`` in ``ytd``, ``months``, ``since``, ``low`` and its parameter."""

    kind: str
    months: int = 0
    since: np.datetime64 | None = None
    low_window: int = DEFAULT_LOW_WINDOW

    @property
    def label(self) -> str:
        """Human label: ``YTD``, ``3M``, ``since 2025-04-08``, ``from 252-bar low``."""
        if self.kind == "ytd":
            return "YTD"
        if self.kind == "months":
            return f"{self.months}M"
        if self.kind == "since":
            return f"since {_iso(self.since)}"
        return f"from {self.low_window}-bar low" if self.low_window != DEFAULT_LOW_WINDOW else "from 52w low"


def default_periods(
    *,
    months: Sequence[int] = DEFAULT_MONTHS,
    since: Sequence[date | str | np.datetime64] = (),
    low_window: int | None = DEFAULT_LOW_WINDOW,
) -> list[PeriodSpec]:
    """YTD, the N-month periods, each ``since`` date and the from-the-low period, in that order."""
    specs = [PeriodSpec("ytd")]
    specs += [PeriodSpec("months", months=int(m)) for m in months]
    specs += [PeriodSpec("since", since=to_datetime64(s)) for s in since]
    if low_window is not None:
        if low_window < 1:
            raise UsageError(f"low_window must be >= 1, got {low_window}")
        specs.append(PeriodSpec("low", low_window=int(low_window)))
    return specs


def period_boundary(spec: PeriodSpec, as_of: np.datetime64) -> np.datetime64 | None:
    """The date a period starts after (its base bar is the last bar on or before it); ``None`` for ``low``."""
    if spec.kind == "ytd":
        d: date = as_of.astype(date)
        return np.datetime64(date(d.year - 1, 12, 31), "D")
    if spec.kind == "months":
        return months_before(as_of, spec.months)
    if spec.kind == "since":
        assert spec.since is not None
        return spec.since
    if spec.kind == "low":
        return None
    raise UsageError(f"unknown period kind {spec.kind!r}")


def base_index(
    dates: np.ndarray, values: np.ndarray, end: int, as_of: np.datetime64, spec: PeriodSpec
) -> int:
    """Index of the base bar of ``spec`` for the end bar ``end`` (-1 when the period is undefined).

    ``dates`` / ``values`` must be NaN-free and sorted; ``as_of`` is D (the period boundaries are relative to D,
    not to the end bar). A period is undefined when no bar lies on or before its boundary (too little history)
    or when the end bar is not after the boundary (the series has no bar inside the period: it stopped
    before it began, e.g. a file ending months before D).
    """
    if end < 0:
        return -1
    if spec.kind == "low":
        start = max(0, end - spec.low_window + 1)
        return start + int(np.argmin(values[start : end + 1]))
    boundary = period_boundary(spec, as_of)
    assert boundary is not None
    if dates[end] <= boundary:
        return -1
    return _last_on_or_before(dates[: end + 1], boundary)


def period_returns(
    dates: np.ndarray,
    values: np.ndarray,
    as_of: date | str | np.datetime64 | None = None,
    periods: Sequence[PeriodSpec] | None = None,
) -> list[PeriodReturn]:
    """Period returns of one series as of D (module docstring: YTD, N months, since, from the low).

    Parameters
    ----------
    dates
        ``datetime64[D]`` dates, increasing.
    values
        Values on those dates; NaN entries are ignored.
    as_of
        D; defaults to the last date. Only bars on or before D are used.
    periods
        Periods to compute; :func:`default_periods` when omitted.

    Returns
    -------
    list of PeriodReturn

    Raises
    ------
    UsageError
        When the series has no values.
    """
    dates = np.asarray(dates, dtype="datetime64[D]")
    values = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(values)
    dates, values = dates[keep], values[keep]
    if len(dates) == 0:
        raise UsageError("period_returns: the series has no values")
    day = dates[-1] if as_of is None else to_datetime64(as_of)
    end = _last_on_or_before(dates, day)
    out = []
    for spec in periods if periods is not None else default_periods():
        b = base_index(dates, values, end, day, spec)
        if b < 0:
            end_date, end_value = (dates[end], values[end]) if end >= 0 else (None, np.nan)
            out.append(PeriodReturn(spec.label, None, np.nan, end_date, end_value, np.nan))
            continue
        out.append(
            PeriodReturn(
                spec.label, dates[b], values[b], dates[end], values[end], values[end] / values[b] - 1.0
            )
        )
    return out


@dataclass(frozen=True)
class SymbolReturns:
    """Period returns of one symbol under its price basis."""

    basis: SeriesBasis
    as_of: np.datetime64
    returns: list[PeriodReturn]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "symbol": self.basis.symbol,
            "basis": self.basis.to_dict(),
            "as_of": _iso(self.as_of),
            "returns": [r.to_dict() for r in self.returns],
        }


def symbol_returns(
    panel: Panel,
    symbol: str,
    as_of: date | str | np.datetime64 | None = None,
    *,
    periods: Sequence[PeriodSpec] | None = None,
    overrides: Mapping[str, Override] | None = None,
    declarations: Mapping[str, CloseKind] = DEFAULT_CLOSE_KINDS,
) -> SymbolReturns:
    """Period returns of one symbol of a panel as of D (default: the panel's last date), on its price basis."""
    day = panel.dates[-1] if as_of is None else to_datetime64(as_of)
    s = load_series(panel, symbol, overrides=overrides, declarations=declarations)
    return SymbolReturns(s.basis, day, period_returns(s.dates, s.values, day, periods))


# ---------------------------------------------------------------------------------------------------------------
# relative strength of a pair
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PairReturn:
    """Both sides' returns over one period, measured on the pair's common dates."""

    label: str
    start_date: np.datetime64 | None
    end_date: np.datetime64 | None
    numerator: float
    denominator: float

    @property
    def spread(self) -> float:
        """``r_num - r_den`` (return points)."""
        return self.numerator - self.denominator

    @property
    def relative(self) -> float:
        """``(1 + r_num) / (1 + r_den) - 1`` = change of the RS line over the period."""
        return (1.0 + self.numerator) / (1.0 + self.denominator) - 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "label": self.label,
            "start_date": _iso(self.start_date),
            "end_date": _iso(self.end_date),
            "numerator": _num(self.numerator),
            "denominator": _num(self.denominator),
            "spread": _num(self.spread),
            "relative": _num(self.relative),
            "stated": pair_return_percent(self).to_dict(),
        }


@dataclass(frozen=True)
class Leadership:
    """Which side led over a rolling window of ``window`` bars, and for how long it has."""

    window: int
    leader: str | None
    relative_return: float
    streak_bars: int
    since: np.datetime64 | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "window": self.window,
            "leader": self.leader,
            "relative_return": _num(self.relative_return),
            "streak_bars": self.streak_bars,
            "since": _iso(self.since),
        }


@dataclass(eq=False)
class RelativeStrength:
    """Relative strength of ``numerator`` against ``denominator`` as of a date.

    Attributes
    ----------
    numerator, denominator
        Resolved bases of the two sides.
    as_of
        D (requested, or the last date of the data).
    dates, ratio
        The RS line on the common dates up to D (``numerator / denominator``).
    sma_fast, sma_slow
        Its 50- and 200-bar simple moving averages (NaN during warm-up).
    returns
        Pair returns per period.
    leadership
        One :class:`Leadership` per rolling window.
    turning_points
        Events on the ratio series (list of JSON-ready dicts, oldest first).
    warnings
        Human-readable warnings (mixed price bases, stale data, short history).
    """

    numerator: SeriesBasis
    denominator: SeriesBasis
    as_of: np.datetime64
    dates: np.ndarray
    ratio: np.ndarray
    sma_fast: np.ndarray
    sma_slow: np.ndarray
    returns: list[PairReturn]
    leadership: list[Leadership]
    turning_points: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    sma_windows: tuple[int, int] = (RS_SMA_FAST, RS_SMA_SLOW)

    @property
    def pair(self) -> str:
        """``NUM:DEN``."""
        return f"{self.numerator.symbol}:{self.denominator.symbol}"

    @property
    def end_date(self) -> np.datetime64 | None:
        """Last common date used."""
        return self.dates[-1] if len(self.dates) else None

    def to_dict(self, *, include_series: bool = False, last_events: int | None = 20) -> dict[str, Any]:
        """JSON-ready dict.

        ``include_series`` adds the RS line and its averages; ``last_events`` keeps only the most recent turning
        points (``None``: all of them; ``turning_points_total`` always counts them all).
        """
        last = len(self.ratio) - 1
        events = self.turning_points if last_events is None else self.turning_points[-last_events:]
        if last_events == 0:
            events = []
        out: dict[str, Any] = {
            "pair": self.pair,
            "numerator": self.numerator.to_dict(),
            "denominator": self.denominator.to_dict(),
            "as_of": _iso(self.as_of),
            "end_date": _iso(self.end_date),
            "ratio": _num(self.ratio[last]) if last >= 0 else None,
            "sma_fast": {
                "window": self.sma_windows[0],
                "value": _num(self.sma_fast[last]) if last >= 0 else None,
            },
            "sma_slow": {
                "window": self.sma_windows[1],
                "value": _num(self.sma_slow[last]) if last >= 0 else None,
            },
            "returns": [r.to_dict() for r in self.returns],
            "leadership": [x.to_dict() for x in self.leadership],
            "turning_points": events,
            "turning_points_total": len(self.turning_points),
            "warnings": list(self.warnings),
        }
        if include_series:
            out["series"] = {
                "dates": [str(d) for d in self.dates],
                "ratio": [_num(v) for v in self.ratio],
                "sma_fast": [_num(v) for v in self.sma_fast],
                "sma_slow": [_num(v) for v in self.sma_slow],
            }
        return out


def basis_warnings(a: SeriesBasis, b: SeriesBasis) -> list[str]:
    """A warning when two series are on different price bases (empty list when they match)."""
    if a.basis == b.basis:
        return []
    return [
        f"mixed price basis: {a.symbol} is {a.basis} ({a.source}) but {b.symbol} is {b.basis} ({b.source}); "
        f"the ratio drifts by the total-return side's dividend yield — compare like with like "
        f"(e.g. files with adj_close for both, or declare the basis with --basis SYMBOL=raw|adjusted|price_index)"
    ]


def _stale_warning(series: Series, as_of: np.datetime64, stale_after_days: int) -> list[str]:
    last = _last_on_or_before(series.dates, as_of)
    if last < 0:
        return [f"{series.symbol}: no bar on or before {_iso(as_of)}"]
    lag = int((as_of - series.dates[last]).astype(int))
    if lag > stale_after_days:
        return [
            f"{series.symbol}: last bar {_iso(series.dates[last])} is {lag} days before the as-of date "
            f"{_iso(as_of)}; its numbers stop there"
        ]
    return []


def align(
    a: Series, b: Series, as_of: np.datetime64 | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Common dates (on or before ``as_of``) and both sides' values on them."""
    dates, ia, ib = np.intersect1d(a.dates, b.dates, assume_unique=True, return_indices=True)
    if as_of is not None:
        n = int(np.searchsorted(dates, as_of, side="right"))
        dates, ia, ib = dates[:n], ia[:n], ib[:n]
    return dates, a.values[ia], b.values[ib]


def _sma(x: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average with TA-Lib conventions (first defined at ``window - 1``)."""
    from capscope.indicators import api as ind

    return np.asarray(ind.sma(np.ascontiguousarray(x, dtype=np.float64), window=window), dtype=np.float64)


def leadership(ratio: np.ndarray, dates: np.ndarray, window: int) -> Leadership:
    """Leader over the last ``window`` bars of an RS line, and its streak (module docstring)."""
    n = len(ratio)
    if n <= window:
        return Leadership(window, None, np.nan, 0, None)
    rel = ratio[window:] / ratio[:-window] - 1.0  # rel[k] is the window return ending at bar k + window
    sign = np.sign(rel)
    current = sign[-1]
    leader = {1.0: "numerator", -1.0: "denominator"}.get(float(current), "tie")
    differs = np.nonzero(sign != current)[0]
    streak = len(sign) - (int(differs[-1]) + 1 if len(differs) else 0)
    return Leadership(window, leader, float(rel[-1]), streak, dates[n - streak])


def relative_strength(
    panel: Panel,
    numerator: str,
    denominator: str,
    as_of: date | str | np.datetime64 | None = None,
    *,
    periods: Sequence[PeriodSpec] | None = None,
    windows: Sequence[int] = DEFAULT_LEADERSHIP_WINDOWS,
    overrides: Mapping[str, Override] | None = None,
    declarations: Mapping[str, CloseKind] = DEFAULT_CLOSE_KINDS,
    stale_after_days: int = STALE_AFTER_DAYS,
    turning_points: bool = True,
    breakouts: bool = True,
    sma_windows: tuple[int, int] = (RS_SMA_FAST, RS_SMA_SLOW),
) -> RelativeStrength:
    """Relative strength of a pair as of D: pair returns, leadership regime, RS-line turning points.

    Parameters
    ----------
    panel
        Bars holding both symbols (``close``, and ``adj_close`` when available).
    numerator, denominator
        The pair, e.g. ``"RUT"``, ``"GSPC"``.
    as_of
        D; defaults to the panel's last date. Nothing after D is used.
    periods
        Periods of the pair returns (:func:`default_periods` when omitted). The "from the low" period takes the
        numerator's low and measures both sides from that date.
    windows
        Rolling windows (bars) of the leadership regime.
    overrides, declarations
        Price-basis overrides and declarations (:func:`capscope.analytics.basis.resolve_basis`).
    stale_after_days
        A side whose last bar is older than this (calendar days before D) gets a warning.
    turning_points
        Detect the RS line's turning points (:func:`rs_turning_points`); ``False`` leaves the list empty (the
        costliest part when only returns and leadership are needed).
    breakouts
        Include breakouts of the RS line through its support/resistance levels (:func:`rs_turning_points`).
    sma_windows
        Windows of the RS line's fast and slow simple moving averages (and of its turning points).

    Returns
    -------
    RelativeStrength
    """
    day = panel.dates[-1] if as_of is None else to_datetime64(as_of)
    num = load_series(panel, numerator, overrides=overrides, declarations=declarations)
    den = load_series(panel, denominator, overrides=overrides, declarations=declarations)
    warnings = basis_warnings(num.basis, den.basis)
    warnings += _stale_warning(num, day, stale_after_days) + _stale_warning(den, day, stale_after_days)
    dates, a, b = align(num, den, day)
    if len(dates) == 0:
        raise UsageError(f"{numerator} and {denominator} have no common dates on or before {_iso(day)}")
    ratio = a / b
    fast_w, slow_w = sma_windows
    sma_fast, sma_slow = _sma(ratio, fast_w), _sma(ratio, slow_w)
    if len(ratio) < slow_w:
        warnings.append(
            f"{numerator}:{denominator}: only {len(ratio)} common bars; the {slow_w}-bar average of the "
            f"RS line is undefined"
        )
    end = len(dates) - 1
    returns = []
    for spec in periods if periods is not None else default_periods():
        bi = base_index(dates, a, end, day, spec)  # "from the low": the numerator's low
        if bi < 0:
            returns.append(PairReturn(spec.label, None, dates[end], np.nan, np.nan))
        else:
            returns.append(
                PairReturn(spec.label, dates[bi], dates[end], a[end] / a[bi] - 1.0, b[end] / b[bi] - 1.0)
            )
    regime = [leadership(ratio, dates, int(w)) for w in windows]
    label = f"{numerator}:{denominator}"
    turning = (
        rs_turning_points(dates, ratio, label, fast=fast_w, slow=slow_w, breakouts=breakouts)
        if turning_points
        else []
    )
    return RelativeStrength(
        num.basis,
        den.basis,
        day,
        dates,
        ratio,
        sma_fast,
        sma_slow,
        returns,
        regime,
        turning,
        warnings,
        (fast_w, slow_w),
    )


def common_end(
    panel: Panel,
    numerator: str,
    denominator: str,
    as_of: date | str | np.datetime64,
    *,
    overrides: Mapping[str, Override] | None = None,
    declarations: Mapping[str, CloseKind] = DEFAULT_CLOSE_KINDS,
) -> np.datetime64 | None:
    """Last date on or before ``as_of`` on which both sides of a pair have a value (``None``: none)."""
    num = load_series(panel, numerator, overrides=overrides, declarations=declarations)
    den = load_series(panel, denominator, overrides=overrides, declarations=declarations)
    dates, _, _ = align(num, den, to_datetime64(as_of))
    return dates[-1] if len(dates) else None


@dataclass(frozen=True)
class PairReturnPercent:
    """A pair return as stated: percentages rounded once by :func:`capscope.analytics.rounding.rnd`.

    ``spread`` is the rounded difference of the unrounded returns (so it is the same number wherever it is
    printed: ``capscope rotation``, the brief, the verifier), not the difference of the rounded sides.
    """

    label: str
    start_date: np.datetime64 | None
    end_date: np.datetime64 | None
    numerator: float | None
    denominator: float | None
    spread: float | None
    relative: float | None
    return_ratio: float | None

    def to_dict(self) -> dict[str, Any]:
        """The rounded numbers as stated (percent, percentage points, ratio)."""
        return {
            "numerator_pct": self.numerator,
            "denominator_pct": self.denominator,
            "spread_pp": self.spread,
            "relative_pct": self.relative,
            "return_ratio": self.return_ratio,
        }


def pair_return_percent(r: PairReturn) -> PairReturnPercent:
    """Round one :class:`PairReturn` for statement (percent / percentage points, 2 decimals; ratio 4).

    ``return_ratio`` is ``r_num / r_den`` when both returns are positive ("growth's gain is 1.3 times
    value's"), else ``None``.
    """
    from capscope.analytics.rounding import rnd

    ratio = None
    if np.isfinite(r.numerator) and np.isfinite(r.denominator) and r.numerator > 0 and r.denominator > 0:
        ratio = rnd(r.numerator / r.denominator, "ratio")
    return PairReturnPercent(
        r.label,
        r.start_date,
        r.end_date,
        rnd(r.numerator * 100.0, "percent"),
        rnd(r.denominator * 100.0, "percent"),
        rnd(r.spread * 100.0, "pp"),
        rnd(r.relative * 100.0, "percent"),
        ratio,
    )


@dataclass(frozen=True)
class LaggingSessions:
    """Sessions of one year on which the numerator's year-to-date return was below the denominator's."""

    base: np.datetime64
    behind: int
    sessions: int

    @property
    def share_percent(self) -> float:
        """``100 * behind / sessions``."""
        return 100.0 * self.behind / self.sessions


def ytd_lagging_sessions(dates: np.ndarray, ratio: np.ndarray) -> LaggingSessions | None:
    """On how many sessions of the last bar's year the numerator's year-to-date return was below the
    denominator's (the RS line below its value on the last bar of the previous year).

    Returns
    -------
    LaggingSessions or None
        ``None`` without a bar in the previous year or after it.
    """
    if len(dates) == 0:
        return None
    year = dates[-1].astype("datetime64[Y]").astype("datetime64[D]")
    base = int(np.searchsorted(dates, year, side="left")) - 1
    if base < 0 or base >= len(ratio) - 1:
        return None
    rel = ratio[base + 1 :] / ratio[base]
    return LaggingSessions(dates[base], int(np.sum(rel < 1.0)), len(rel))


def ratio_panel(dates: np.ndarray, ratio: np.ndarray, label: str) -> Panel:
    """A one-column panel whose open, high, low and close are the RS line (for the event detectors)."""
    col = np.ascontiguousarray(np.asarray(ratio, dtype=np.float64).reshape(-1, 1))
    fields = {name: col.copy() for name in ("open", "high", "low", "close")}
    fields["volume"] = np.full_like(col, np.nan)
    return Panel(np.asarray(dates, dtype="datetime64[D]"), (label,), fields)


def rs_turning_points(
    dates: np.ndarray,
    ratio: np.ndarray,
    label: str,
    *,
    fast: int = RS_SMA_FAST,
    slow: int = RS_SMA_SLOW,
    breakouts: bool = True,
) -> list[dict[str, Any]]:
    """Turning points of an RS line: the one place that runs :mod:`capscope.events` on the ratio series.

    The ratio becomes a one-column panel (open = high = low = close = ratio, so its ATR is the mean absolute
    daily change of the ratio) and the signal detectors of :mod:`capscope.events` run on it unchanged:

    * ``price_cross_above`` / ``price_cross_below`` of the ratio over its ``fast`` and ``slow`` SMAs,
    * ``golden_cross`` / ``death_cross`` of those two SMAs,
    * with ``breakouts``: ``breakout_above`` / ``breakdown_below`` (and failed ones) of the ratio through its own
      support/resistance levels (causal pivots, :mod:`capscope.events.breakouts` defaults).

    Each event is dated on the bar it became knowable; ``price`` is the ratio on that bar.

    Returns
    -------
    list of dict
        JSON-ready event records (:func:`capscope.events.records.events_to_records`), oldest first,
        ``symbol`` = ``label``.
    """
    from capscope.events import records as R
    from capscope.events.breakouts import breakout_events
    from capscope.events.crosses import IndicatorCache, ma_crosses, price_crosses

    if len(ratio) == 0:
        return []
    panel = ratio_panel(dates, ratio, label)
    cache = IndicatorCache(panel)
    frames = [
        price_crosses(panel, (fast, slow), cache=cache),
        ma_crosses(panel, (("sma", fast, slow),), cache=cache),
    ]
    if breakouts:
        frames.append(breakout_events(panel, cache=cache))
    return R.events_to_records(R.concat_events(frames))


# ---------------------------------------------------------------------------------------------------------------
# Relative Rotation Graph
# ---------------------------------------------------------------------------------------------------------------
def week_end_rows(dates: np.ndarray) -> np.ndarray:
    """Rows of the last date of each Monday-Sunday week (the last row always included: causal sampling)."""
    days = dates.astype("datetime64[D]").astype(np.int64)
    week = (days + 3) // 7  # 1970-01-01 was a Thursday: +3 makes weeks start on Monday
    if len(week) == 0:
        return np.zeros(0, dtype=np.int64)
    last = np.nonzero(np.diff(week) != 0)[0]
    return np.append(last, len(week) - 1).astype(np.int64)


@njit(cache=True)
def _rolling_mean_sd_nb(
    x: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - numba
    n, m = x.shape
    mean = np.full((n, m), np.nan)
    sd = np.full((n, m), np.nan)
    for t in range(window - 1, n):
        for j in range(m):
            s = 0.0
            ok = True
            for k in range(t - window + 1, t + 1):
                v = x[k, j]
                if not np.isfinite(v):
                    ok = False
                    break
                s += v
            if not ok:
                continue
            mu = s / window
            ss = 0.0
            for k in range(t - window + 1, t + 1):
                d = x[k, j] - mu
                ss += d * d
            mean[t, j] = mu
            sd[t, j] = np.sqrt(ss / (window - 1))
    return mean, sd


def rolling_mean_sd_reference(x: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain numpy twin of the rolling mean / sample-sd kernel (tested equal)."""
    n = x.shape[0]
    mean = np.full(x.shape, np.nan)
    sd = np.full(x.shape, np.nan)
    if n >= window:
        view = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)  # (n - w + 1, m, w)
        mu = view.mean(axis=-1)
        dev = np.sqrt(((view - mu[..., None]) ** 2).sum(axis=-1) / (window - 1))
        full = np.isfinite(view).all(axis=-1)
        mean[window - 1 :] = np.where(full, mu, np.nan)
        sd[window - 1 :] = np.where(full, dev, np.nan)
    return mean, sd


def _rolling_mean_sd(x: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Rolling mean and sample sd (ddof=1) of each column of a 2-D array; NaN unless the window is full."""
    return _rolling_mean_sd_nb(np.ascontiguousarray(x, dtype=np.float64), window)


def rrg_arrays(rs: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """RS-Ratio and RS-Momentum of a 2-D array of RS values (``100 * price / benchmark``), time-major.

    See the module docstring for the formula. Pure numpy/numba, no I/O.
    """
    mean, sd = _rolling_mean_sd(rs, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = 100.0 + (rs - mean) / np.where(sd > 0, sd, np.nan)
        roc = np.full_like(ratio, np.nan)
        roc[1:] = 100.0 * (ratio[1:] / ratio[:-1] - 1.0)
        mmean, msd = _rolling_mean_sd(roc, window)
        momentum = 100.0 + (roc - mmean) / np.where(msd > 0, msd, np.nan)
    return ratio, momentum


def quadrant_codes(rs_ratio: np.ndarray, rs_momentum: np.ndarray) -> np.ndarray:
    """Quadrant index into :data:`QUADRANTS` (0 leading, 1 weakening, 2 lagging, 3 improving; -1 undefined)."""
    strong = rs_ratio >= 100.0
    rising = rs_momentum >= 100.0
    code = np.where(strong, np.where(rising, 0, 1), np.where(rising, 3, 2))
    return np.where(np.isfinite(rs_ratio) & np.isfinite(rs_momentum), code, -1).astype(np.int8)


def quadrant(rs_ratio: float, rs_momentum: float) -> str | None:
    """Quadrant name of one point (``None`` when undefined)."""
    code = int(quadrant_codes(np.array([rs_ratio]), np.array([rs_momentum]))[0])
    return QUADRANTS[code] if code >= 0 else None


@dataclass(frozen=True)
class RRGPoint:
    """One weekly point of one symbol."""

    symbol: str
    date: np.datetime64
    rs_ratio: float
    rs_momentum: float

    @property
    def quadrant(self) -> str | None:
        """``leading``, ``weakening``, ``lagging``, ``improving`` or ``None``."""
        return quadrant(self.rs_ratio, self.rs_momentum)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "symbol": self.symbol,
            "date": _iso(self.date),
            "rs_ratio": _num(self.rs_ratio),
            "rs_momentum": _num(self.rs_momentum),
            "quadrant": self.quadrant,
        }


@dataclass(eq=False)
class RRGResult:
    """A Relative Rotation Graph: weekly RS-Ratio / RS-Momentum per symbol and week.

    Attributes
    ----------
    benchmark
        Basis of the benchmark.
    bases
        Basis of each symbol (same order as ``symbols``).
    as_of
        D.
    window
        ``n`` of the formula (weeks).
    tail
        Weeks of tail in :meth:`tails` / :meth:`to_dict`.
    dates
        Weekly sample dates (last trading day of each week; the last one is D's week's last bar <= D).
    rs_ratio, rs_momentum
        ``(n_weeks, n_symbols)``.
    warnings
        Mixed bases, stale symbols.
    """

    benchmark: SeriesBasis
    bases: list[SeriesBasis]
    as_of: np.datetime64
    window: int
    tail: int
    dates: np.ndarray
    rs_ratio: np.ndarray
    rs_momentum: np.ndarray
    warnings: list[str] = field(default_factory=list)

    @property
    def symbols(self) -> tuple[str, ...]:
        """Symbols, in column order."""
        return tuple(b.symbol for b in self.bases)

    @property
    def quadrants(self) -> np.ndarray:
        """Quadrant code per week and symbol (:func:`quadrant_codes`)."""
        return quadrant_codes(self.rs_ratio, self.rs_momentum)

    def tails(self, weeks: int | None = None) -> dict[str, list[RRGPoint]]:
        """Last ``weeks`` (default ``tail``) defined points of each symbol, oldest first."""
        n = self.tail if weeks is None else weeks
        out: dict[str, list[RRGPoint]] = {}
        for j, symbol in enumerate(self.symbols):
            ok = np.nonzero(np.isfinite(self.rs_ratio[:, j]) & np.isfinite(self.rs_momentum[:, j]))[0][-n:]
            out[symbol] = [
                RRGPoint(symbol, self.dates[i], float(self.rs_ratio[i, j]), float(self.rs_momentum[i, j]))
                for i in ok
            ]
        return out

    def latest(self) -> list[RRGPoint]:
        """Each symbol's last defined point (symbols without one are left out)."""
        return [pts[-1] for pts in self.tails(1).values() if pts]

    def frame(self) -> pd.DataFrame:
        """Long DataFrame: ``date, symbol, rs_ratio, rs_momentum, quadrant`` (undefined points dropped)."""
        import pandas as pd

        n_weeks, n_sym = self.rs_ratio.shape
        codes = self.quadrants.ravel()
        names = np.array([*QUADRANTS, ""], dtype=object)[codes]
        df = pd.DataFrame(
            {
                "date": np.repeat(self.dates, n_sym),
                "symbol": np.tile(np.array(self.symbols, dtype=object), n_weeks),
                "rs_ratio": self.rs_ratio.ravel(),
                "rs_momentum": self.rs_momentum.ravel(),
                "quadrant": names,
            }
        )
        return df[codes >= 0].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: parameters, the formula, each symbol's latest point and tail, warnings."""
        return {
            "benchmark": self.benchmark.to_dict(),
            "symbols": [b.to_dict() for b in self.bases],
            "as_of": _iso(self.as_of),
            "window_weeks": self.window,
            "tail_weeks": self.tail,
            "method": "RRGPy z-score approximation of JdK RS-Ratio/RS-Momentum on weekly closes (causal, rolling)",
            "latest": [p.to_dict() for p in self.latest()],
            "tails": {s: [p.to_dict() for p in pts] for s, pts in self.tails().items()},
            "warnings": list(self.warnings),
        }


def rrg(
    panel: Panel,
    symbols: Sequence[str],
    benchmark: str,
    as_of: date | str | np.datetime64 | None = None,
    *,
    window: int = 14,
    tail: int = 8,
    overrides: Mapping[str, Override] | None = None,
    declarations: Mapping[str, CloseKind] = DEFAULT_CLOSE_KINDS,
    stale_after_days: int = STALE_AFTER_DAYS,
) -> RRGResult:
    """Relative Rotation Graph of ``symbols`` against ``benchmark`` as of D (formula: module docstring).

    Weekly samples are taken on the benchmark's bars: the last benchmark bar of each week up to D. A symbol's
    value on a sample date is its value on that bar (NaN when it has none, which leaves its windows undefined).

    Parameters
    ----------
    panel
        Bars holding the symbols and the benchmark.
    symbols
        Symbols to place on the graph.
    benchmark
        The benchmark symbol.
    as_of
        D; defaults to the panel's last date.
    window
        ``n`` (weeks) of the rolling mean / sd.
    tail
        Weeks of tail reported.
    overrides, declarations
        Price-basis overrides / declarations.
    stale_after_days
        Symbols whose last bar is older than this before D get a warning.

    Returns
    -------
    RRGResult
    """
    if window < 2:
        raise UsageError(f"window must be >= 2 (a standard deviation needs two values), got {window}")
    if not symbols:
        raise UsageError("rrg needs at least one symbol")
    day = panel.dates[-1] if as_of is None else to_datetime64(as_of)
    bench = load_series(panel, benchmark, overrides=overrides, declarations=declarations)
    n_end = int(np.searchsorted(bench.dates, day, side="right"))
    if n_end == 0:
        raise UsageError(f"benchmark {benchmark} has no bar on or before {_iso(day)}")
    rows_all = np.searchsorted(panel.dates, bench.dates[:n_end])  # benchmark bars -> panel rows
    weekly = week_end_rows(bench.dates[:n_end])
    rows = rows_all[weekly]
    bvals = bench.values[:n_end][weekly]
    warnings = _stale_warning(bench, day, stale_after_days)
    bases = []
    prices = np.empty((len(rows), len(symbols)))
    for j, symbol in enumerate(symbols):
        s = load_series(panel, symbol, overrides=overrides, declarations=declarations)
        bases.append(s.basis)
        warnings += basis_warnings(s.basis, bench.basis) + _stale_warning(s, day, stale_after_days)
        prices[:, j] = panel[s.basis.field][rows, panel.column(symbol)]
    rs = 100.0 * prices / bvals[:, None]
    ratio, momentum = rrg_arrays(rs, window)
    return RRGResult(
        bench.basis, bases, day, window, tail, bench.dates[:n_end][weekly], ratio, momentum, warnings
    )
