"""Market breadth over a universe panel (e.g. the sample small-cap stocks), computed in one pass.

Definitions (per date ``t`` of the panel; a symbol "has a bar" when its close is a number):

* **% above the 50 / 200-day SMA**: ``100 * above / defined`` where ``defined`` counts the symbols whose SMA of the
  last ``window`` closes is defined on ``t`` (``window`` consecutive bars with closes ending at ``t``) and
  ``above`` those among them with ``close > SMA`` (strictly; a close within a relative 1e-12 of its SMA counts as
  equal, so floating-point rounding of the average cannot decide). NaN when ``defined`` is 0.
* **Advances / declines / unchanged**: symbols with a close on both ``t`` and the previous panel date whose close
  rose / fell / stayed equal. **Net advances** = advances - declines; the **A/D line** is its cumulative sum from
  the first date (0 on the first date).
* **New 52-week highs / lows** (``hl_window = 252`` bars, about 52 weeks): a symbol makes a new high on ``t`` when
  it has bars on all ``hl_window`` dates ending at ``t`` and its value on ``t`` is strictly above the maximum of
  the previous ``hl_window - 1`` values (lows: strictly below the minimum). Values are **closes** by default; with
  ``use_high_low=True`` the bar's high is compared with previous highs and its low with previous lows.
* **McClellan oscillator** (Sherman and Marian McClellan, 1969; StockCharts ChartSchool "McClellan Oscillator"):
  ``EMA_19(N) - EMA_39(N)`` of the daily breadth series ``N``. By default ``N`` is **ratio-adjusted** net
  advances, ``1000 * (advances - declines) / (advances + declines)`` (StockCharts' RANA; 0 when nothing moved),
  which keeps the oscillator comparable when the universe size changes; ``ratio_adjusted=False`` uses plain net
  advances. The EMAs use the smoothing constants ``2 / (n + 1)`` (0.10 and 0.05, the McClellans' "10% and 5%
  trends") seeded TA-Lib style with the SMA of the first ``n`` values, so the oscillator is first defined
  ``39`` values after the first net-advances value (the second panel date).
* **McClellan summation index**: cumulative sum of the oscillator from its first defined value (starting at 0,
  not at the 1,000 base some vendors add).

Everything is causal: each value on ``t`` uses only dates up to ``t`` (tested: breadth of the panel truncated at
D equals the full result up to D). The hot loop is one numba kernel over the time-major panel; a plain
numpy/pandas twin (:func:`breadth_reference`) is tested equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from capscope.data.panel import Panel, to_datetime64
from capscope.errors import UsageError
from capscope.indicators.recursions import ema_alpha, ema_step

if TYPE_CHECKING:
    import pandas as pd

#: Column names of the daily breadth table, in :meth:`BreadthResult.frame` order.
BREADTH_COLUMNS: tuple[str, ...] = (
    "active",
    "above_short",
    "defined_short",
    "pct_above_short",
    "above_long",
    "defined_long",
    "pct_above_long",
    "advances",
    "declines",
    "unchanged",
    "net_advances",
    "ad_line",
    "new_highs",
    "new_lows",
    "mcclellan",
    "summation",
)

#: Relative tolerance of "close > SMA": a close within 1e-12 (relative) of its average counts as equal, so the
#: rounding of the average (e.g. of ten equal closes) cannot turn "equal" into "above".
ABOVE_TOL = 1e-12

_COUNTS = (
    "active",
    "above_short",
    "defined_short",
    "above_long",
    "defined_long",
    "advances",
    "declines",
    "unchanged",
    "new_highs",
    "new_lows",
)


# ---------------------------------------------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True)
def _resum(
    close: np.ndarray, t: int, window: int, total: np.ndarray, count: np.ndarray
) -> None:  # pragma: no cover
    """Exact window sums / counts of the rows ``t - window + 1 .. t`` (row by row: contiguous reads)."""
    total[:] = 0.0
    count[:] = 0
    for k in range(max(0, t - window + 1), t + 1):
        for j in range(close.shape[1]):
            v = close[k, j]
            if np.isfinite(v):
                total[j] += v
                count[j] += 1


@njit(cache=True)
def _counts_nb(
    close: np.ndarray, high: np.ndarray, low: np.ndarray, short: int, long: int, hl: int, tol: float
) -> np.ndarray:  # pragma: no cover - numba
    """One time-major pass: per date, the counts of ``_COUNTS`` (shape ``(n_bars, 10)``, int64).

    Rolling sums are updated in place and re-summed exactly once per window (so rounding cannot accumulate).
    The extremes of the ``hl - 1`` bars before each bar use the van Herk / Gil-Werman block method (van Herk
    1992, Gil and Werman 1993): blocks of ``w = hl - 1`` rows, suffix extremes of the previous block and prefix
    extremes of the current one, O(1) per cell with contiguous row reads. Building a block's suffix extremes
    reads that block's rows before they are counted, but every count on bar ``t`` combines values of bars
    ``<= t`` only (the as-of invariance test checks this).
    """
    n, m = close.shape
    out = np.zeros((n, 10), dtype=np.int64)
    sum_s = np.zeros(m)
    sum_l = np.zeros(m)
    cnt_s = np.zeros(m, dtype=np.int64)
    cnt_l = np.zeros(m, dtype=np.int64)
    cnt_h = np.zeros(m, dtype=np.int64)  # bars with a high and a low among the hl bars ending at t
    w = hl - 1
    suf_h_prev = np.full((w, m), -np.inf)
    suf_h = np.full((w, m), -np.inf)
    suf_l_prev = np.full((w, m), np.inf)
    suf_l = np.full((w, m), np.inf)
    pre_h = np.full(m, -np.inf)
    pre_l = np.full(m, np.inf)
    win_h = np.full(m, -np.inf)  # max of the w bars ending at t - 1, i.e. of the w bars before t
    win_l = np.full(m, np.inf)
    for b0 in range(0, n, w):
        b1 = min(b0 + w, n)
        suf_h_prev, suf_h = suf_h, suf_h_prev
        suf_l_prev, suf_l = suf_l, suf_l_prev
        for t in range(b1 - 1, b0 - 1, -1):
            r = t - b0
            for j in range(m):
                vh = high[t, j] if np.isfinite(high[t, j]) else -np.inf
                vl = low[t, j] if np.isfinite(low[t, j]) else np.inf
                if t + 1 < b1:
                    vh = max(vh, suf_h[r + 1, j])
                    vl = min(vl, suf_l[r + 1, j])
                suf_h[r, j] = vh
                suf_l[r, j] = vl
        for t in range(b0, b1):
            r = t - b0
            resum_s = t % short == 0
            resum_l = t % long == 0
            if resum_s:
                _resum(close, t, short, sum_s, cnt_s)
            if resum_l:
                _resum(close, t, long, sum_l, cnt_l)
            for j in range(m):
                c = close[t, j]
                has = np.isfinite(c)
                if not resum_s:
                    if has:
                        sum_s[j] += c
                        cnt_s[j] += 1
                    if t >= short and np.isfinite(close[t - short, j]):
                        sum_s[j] -= close[t - short, j]
                        cnt_s[j] -= 1
                if not resum_l:
                    if has:
                        sum_l[j] += c
                        cnt_l[j] += 1
                    if t >= long and np.isfinite(close[t - long, j]):
                        sum_l[j] -= close[t - long, j]
                        cnt_l[j] -= 1
                hv, lv = high[t, j], low[t, j]
                if np.isfinite(hv) and np.isfinite(lv):
                    cnt_h[j] += 1
                if t >= hl and np.isfinite(high[t - hl, j]) and np.isfinite(low[t - hl, j]):
                    cnt_h[j] -= 1
                # new high / low against the w bars before t, then the window moves on to end at t
                if has and cnt_h[j] == hl:
                    if hv > win_h[j]:
                        out[t, 8] += 1
                    if lv < win_l[j]:
                        out[t, 9] += 1
                vh = hv if np.isfinite(hv) else -np.inf
                vl = lv if np.isfinite(lv) else np.inf
                pre_h[j] = vh if r == 0 else max(pre_h[j], vh)
                pre_l[j] = vl if r == 0 else min(pre_l[j], vl)
                if r == w - 1:
                    win_h[j] = pre_h[j]
                    win_l[j] = pre_l[j]
                else:
                    win_h[j] = max(suf_h_prev[r + 1, j], pre_h[j])
                    win_l[j] = min(suf_l_prev[r + 1, j], pre_l[j])
                if not has:
                    continue
                out[t, 0] += 1
                if cnt_s[j] == short:
                    out[t, 2] += 1
                    sma = sum_s[j] / short
                    if c > sma + tol * abs(sma):
                        out[t, 1] += 1
                if cnt_l[j] == long:
                    out[t, 4] += 1
                    sma = sum_l[j] / long
                    if c > sma + tol * abs(sma):
                        out[t, 3] += 1
                if t >= 1:
                    p = close[t - 1, j]
                    if np.isfinite(p):
                        if c > p:
                            out[t, 5] += 1
                        elif c < p:
                            out[t, 6] += 1
                        else:
                            out[t, 7] += 1
    return out


@njit(cache=True)
def _ema_nb(x: np.ndarray, window: int) -> np.ndarray:  # pragma: no cover - numba
    """EMA with TA-Lib conventions: skip leading NaN, seed with the SMA of the first ``window`` values."""
    n = len(x)
    out = np.full(n, np.nan)
    start = 0
    while start < n and not np.isfinite(x[start]):
        start += 1
    if n - start < window:
        return out
    alpha = ema_alpha(window)
    s = 0.0
    for k in range(start, start + window):
        s += x[k]
    prev = s / window
    out[start + window - 1] = prev
    for k in range(start + window, n):
        prev = ema_step(prev, x[k], alpha)
        out[k] = prev
    return out


def ema_reference(x: np.ndarray, window: int) -> np.ndarray:
    """Plain Python twin of the EMA kernel (SMA seed, ``alpha = 2 / (window + 1)``)."""
    out = np.full(len(x), np.nan)
    finite = np.nonzero(np.isfinite(x))[0]
    if len(finite) == 0 or len(x) - finite[0] < window:
        return out
    start = int(finite[0])
    alpha = 2.0 / (window + 1.0)
    prev = float(np.sum(x[start : start + window]) / window)
    out[start + window - 1] = prev
    for k in range(start + window, len(x)):
        prev = prev + alpha * (x[k] - prev)
        out[k] = prev
    return out


def _derived(
    counts: np.ndarray, n_first: int, ratio_adjusted: bool, fast: int, slow: int, ema: Any
) -> dict[str, np.ndarray]:
    """Percentages, net advances, A/D line, McClellan oscillator and summation index from the counts."""
    cols = {name: counts[:, k].astype(np.float64) for k, name in enumerate(_COUNTS)}
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_s = np.where(
            cols["defined_short"] > 0, 100.0 * cols["above_short"] / cols["defined_short"], np.nan
        )
        pct_l = np.where(cols["defined_long"] > 0, 100.0 * cols["above_long"] / cols["defined_long"], np.nan)
        net = cols["advances"] - cols["declines"]
        moved = cols["advances"] + cols["declines"]
        breadth_series = np.where(moved > 0, 1000.0 * net / moved, 0.0) if ratio_adjusted else net.copy()
    breadth_series[:n_first] = np.nan  # the first date has no previous close
    osc = ema(breadth_series, fast) - ema(breadth_series, slow)
    summation = np.full_like(osc, np.nan)
    ok = np.isfinite(osc)
    summation[ok] = np.cumsum(osc[ok])
    out = dict(cols)
    out.update(
        pct_above_short=pct_s,
        pct_above_long=pct_l,
        net_advances=net,
        ad_line=np.cumsum(net),
        mcclellan=osc,
        summation=summation,
    )
    return out


# ---------------------------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class BreadthResult:
    """Daily breadth of a universe.

    Attributes
    ----------
    dates
        Panel dates up to the as-of date.
    n_symbols
        Universe size (columns of the panel).
    columns
        :data:`BREADTH_COLUMNS` -> array ``(n_dates,)`` (counts as float64).
    params
        Windows and options used.
    warnings
        Human-readable warnings (e.g. no symbol with enough history for the 200-day SMA).
    """

    dates: np.ndarray
    n_symbols: int
    columns: dict[str, np.ndarray]
    params: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def as_of(self) -> np.datetime64 | None:
        """Last date."""
        return self.dates[-1] if len(self.dates) else None

    def __getitem__(self, name: str) -> np.ndarray:
        """One daily column (e.g. ``result["pct_above_long"]``)."""
        try:
            return self.columns[name]
        except KeyError:
            raise UsageError(f"no breadth column {name!r}; columns: {', '.join(BREADTH_COLUMNS)}") from None

    def frame(self) -> pd.DataFrame:
        """Daily table: index ``date``, columns :data:`BREADTH_COLUMNS`."""
        import pandas as pd

        return pd.DataFrame(
            {name: self.columns[name] for name in BREADTH_COLUMNS},
            index=pd.DatetimeIndex(self.dates, name="date"),
        )

    def latest(self) -> dict[str, Any]:
        """Values on the last date (JSON-ready; counts as int, NaN as None)."""
        if not len(self.dates):
            return {}
        out: dict[str, Any] = {"date": str(self.dates[-1])}
        for name in BREADTH_COLUMNS:
            v = float(self.columns[name][-1])
            if not np.isfinite(v):
                out[name] = None
            elif name in _COUNTS or name in ("net_advances", "ad_line"):
                out[name] = int(v)
            else:
                out[name] = v
        return out

    def to_dict(self, *, tail: int = 0) -> dict[str, Any]:
        """JSON-ready dict: latest values, parameters, warnings; ``tail`` > 0 adds the last ``tail`` rows."""
        out: dict[str, Any] = {
            "as_of": None if self.as_of is None else str(self.as_of),
            "n_symbols": self.n_symbols,
            "params": dict(self.params),
            "latest": self.latest(),
            "warnings": list(self.warnings),
        }
        if tail > 0:
            sl = slice(max(0, len(self.dates) - tail), len(self.dates))
            out["series"] = {
                "dates": [str(d) for d in self.dates[sl]],
                **{
                    name: [None if not np.isfinite(v) else float(v) for v in self.columns[name][sl]]
                    for name in BREADTH_COLUMNS
                },
            }
        return out


# ---------------------------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------------------------
def _check_windows(short: int, long: int, hl: int, fast: int, slow: int) -> None:
    for name, v in (
        ("short_window", short),
        ("long_window", long),
        ("hl_window", hl),
        ("ema_fast", fast),
        ("ema_slow", slow),
    ):
        if v < 1:
            raise UsageError(f"{name} must be >= 1, got {v}")
    if hl < 2:
        raise UsageError(f"hl_window must be >= 2, got {hl}")


def _inputs(panel: Panel, use_high_low: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    close = np.ascontiguousarray(panel.close, dtype=np.float64)
    if not use_high_low:
        return close, close, close
    return close, np.ascontiguousarray(panel.high), np.ascontiguousarray(panel.low)


def breadth(
    panel: Panel,
    as_of: date | str | np.datetime64 | None = None,
    *,
    short_window: int = 50,
    long_window: int = 200,
    hl_window: int = 252,
    use_high_low: bool = False,
    ratio_adjusted: bool = True,
    ema_fast: int = 19,
    ema_slow: int = 39,
) -> BreadthResult:
    """Daily breadth of the universe in ``panel`` (definitions: module docstring).

    Parameters
    ----------
    panel
        The universe (one column per symbol); needs ``close`` (and ``high``/``low`` with ``use_high_low``).
    as_of
        Last date used; defaults to the panel's last date.
    short_window, long_window
        SMA windows of the "% above" measures.
    hl_window
        Window (bars) of the new highs / lows.
    use_high_low
        Compare highs / lows instead of closes for new highs / lows.
    ratio_adjusted
        McClellan oscillator of ratio-adjusted net advances (default) or of plain net advances.
    ema_fast, ema_slow
        McClellan EMA windows.

    Returns
    -------
    BreadthResult
    """
    _check_windows(short_window, long_window, hl_window, ema_fast, ema_slow)
    if as_of is not None:
        panel = panel.truncate(to_datetime64(as_of))
    if panel.n_bars == 0:
        raise UsageError("breadth: the panel has no dates on or before the as-of date")
    windows = (short_window, long_window, hl_window)
    counts = breadth_counts(panel, windows=windows, use_high_low=use_high_low)
    return breadth_from_counts(
        panel.dates,
        panel.n_symbols,
        counts,
        windows=windows,
        use_high_low=use_high_low,
        ratio_adjusted=ratio_adjusted,
        ema_fast=ema_fast,
        ema_slow=ema_slow,
    )


def breadth_counts(
    panel: Panel, *, windows: tuple[int, int, int] = (50, 200, 252), use_high_low: bool = False
) -> np.ndarray:
    """Daily counts of one block of symbols: ``int64`` array ``(n_dates, 10)``, columns ``_COUNTS``.

    Every count is a number of symbols, so the counts of a universe are the sums of the counts of any split of
    its symbols into blocks, provided every block's panel has the universe's date index (the windows and the
    "previous date" are panel rows). The derived series (percentages, A/D line, McClellan) are not additive:
    :func:`breadth_from_counts` computes them from the summed counts.

    Parameters
    ----------
    panel
        The block, on the universe's dates (truncated to the as-of date).
    windows
        ``(short_window, long_window, hl_window)``.
    use_high_low
        New highs / lows from highs and lows instead of closes.
    """
    short_window, long_window, hl_window = windows
    close, high, low = _inputs(panel, use_high_low)
    out: np.ndarray = _counts_nb(close, high, low, short_window, long_window, hl_window, ABOVE_TOL)
    return out


def breadth_from_counts(
    dates: np.ndarray,
    n_symbols: int,
    counts: np.ndarray,
    *,
    windows: tuple[int, int, int] = (50, 200, 252),
    use_high_low: bool = False,
    ratio_adjusted: bool = True,
    ema_fast: int = 19,
    ema_slow: int = 39,
) -> BreadthResult:
    """:class:`BreadthResult` of a universe from its summed block counts (:func:`breadth_counts`).

    Parameters
    ----------
    dates
        The universe's dates (rows of ``counts``).
    n_symbols
        Universe size.
    counts
        Sum over blocks of :func:`breadth_counts`.
    windows, use_high_low, ratio_adjusted, ema_fast, ema_slow
        As in :func:`breadth`.
    """
    short_window, long_window, hl_window = windows
    _check_windows(short_window, long_window, hl_window, ema_fast, ema_slow)
    if len(dates) == 0:
        raise UsageError("breadth: the panel has no dates on or before the as-of date")
    columns = _derived(counts, 1, ratio_adjusted, ema_fast, ema_slow, _ema_nb)
    params = {
        "short_window": short_window,
        "long_window": long_window,
        "hl_window": hl_window,
        "hl_on": "high/low" if use_high_low else "close",
        "ratio_adjusted": ratio_adjusted,
        "ema_fast": ema_fast,
        "ema_slow": ema_slow,
    }
    warnings = []
    for name, window in (("short", short_window), ("long", long_window)):
        if columns[f"defined_{name}"][-1] == 0:
            warnings.append(
                f"% above the {window}-day SMA is undefined on {dates[-1]}: no symbol has {window} bars"
            )
    if counts[:, 0][-1] < n_symbols:
        missing = n_symbols - int(counts[-1, 0])
        warnings.append(f"{missing} of {n_symbols} symbols have no bar on {dates[-1]}")
    return BreadthResult(dates, n_symbols, columns, params, warnings)


def breadth_reference(
    panel: Panel,
    *,
    short_window: int = 50,
    long_window: int = 200,
    hl_window: int = 252,
    use_high_low: bool = False,
    ratio_adjusted: bool = True,
    ema_fast: int = 19,
    ema_slow: int = 39,
) -> dict[str, np.ndarray]:
    """Plain pandas twin of :func:`breadth` (same definitions, written the obvious way; tested equal)."""
    import pandas as pd

    close_a, high_a, low_a = _inputs(panel, use_high_low)
    close, high, low = pd.DataFrame(close_a), pd.DataFrame(high_a), pd.DataFrame(low_a)
    has = close.notna()
    out: dict[str, np.ndarray] = {"active": has.sum(axis=1).to_numpy()}
    for name, window in (("short", short_window), ("long", long_window)):
        sma = close.rolling(window, min_periods=window).mean()
        defined = sma.notna() & has
        out[f"defined_{name}"] = defined.sum(axis=1).to_numpy()
        out[f"above_{name}"] = (defined & (close > sma + ABOVE_TOL * sma.abs())).sum(axis=1).to_numpy()
    prev = close.shift(1)
    both = has & prev.notna()
    out["advances"] = (both & (close > prev)).sum(axis=1).to_numpy()
    out["declines"] = (both & (close < prev)).sum(axis=1).to_numpy()
    out["unchanged"] = (both & (close == prev)).sum(axis=1).to_numpy()
    full = (high.notna() & low.notna()).astype(float).rolling(
        hl_window, min_periods=hl_window
    ).sum() == hl_window
    prev_max = high.shift(1).rolling(hl_window - 1, min_periods=1).max()
    prev_min = low.shift(1).rolling(hl_window - 1, min_periods=1).min()
    out["new_highs"] = (has & full & (high > prev_max)).sum(axis=1).to_numpy()
    out["new_lows"] = (has & full & (low < prev_min)).sum(axis=1).to_numpy()
    counts = np.column_stack([out[name] for name in _COUNTS]).astype(np.int64)
    return _derived(counts, 1, ratio_adjusted, ema_fast, ema_slow, ema_reference)
