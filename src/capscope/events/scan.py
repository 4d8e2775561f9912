"""Run every event family over a panel: ``scan_panel`` (DataFrame) and ``scan_json`` (JSON-ready dict)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from capscope.events import records as R
from capscope.events.breakouts import BreakoutParams, breakout_parts
from capscope.events.crosses import IndicatorCache, ma_cross_parts, macd_parts, price_cross_parts, rsi_parts
from capscope.events.levels import LevelParams, level_history, level_parts

if TYPE_CHECKING:
    import pandas as pd

    from capscope.data.panel import Panel


@dataclass(frozen=True)
class ScanParams:
    """Parameters of every event family (defaults are the conventional ones)."""

    ma_pairs: tuple[tuple[str, int, int], ...] = (("sma", 50, 200), ("ema", 50, 200))
    price_ma: str = "sma"
    price_windows: tuple[int, ...] = (50, 200)
    macd: tuple[int, int, int] = (12, 26, 9)
    rsi_window: int = 14
    rsi_upper: float = 70.0
    rsi_lower: float = 30.0
    levels: LevelParams = field(default_factory=LevelParams)
    breakouts: BreakoutParams = field(default_factory=BreakoutParams)


def _families(kinds: tuple[str, ...]) -> set[str]:
    return {g for g, members in R.KIND_GROUPS.items() if set(members) & set(kinds)}


def precompute_indicators(
    panel: Panel, kinds: Iterable[str] | None = None, params: ScanParams | None = None
) -> IndicatorCache:
    """Compute every indicator (and pivots) the requested kinds need into a fresh :class:`IndicatorCache`.

    The benchmark times this apart from :func:`scan_panel` (which then only extracts events).
    """
    from capscope.events.levels import panel_pivots

    params = params or ScanParams()
    fam = _families(R.resolve_kinds(kinds))
    cache = IndicatorCache(panel)
    if "ma_cross" in fam:
        for ma, fast, slow in params.ma_pairs:
            cache.ma(ma, fast)
            cache.ma(ma, slow)
    if "price_cross" in fam:
        for w in params.price_windows:
            cache.ma(params.price_ma, w)
    if fam & {"macd", "macd_zero"}:
        cache.macd(*params.macd)
    if "rsi" in fam:
        cache.rsi(params.rsi_window)
    if fam & {"levels", "breakouts"}:
        k = params.levels.pivot_window
        cache.get(("pivots", k), lambda: panel_pivots(panel, k))
        cache.atr(params.levels.atr_window)
    return cache


def scan_panel(
    panel: Panel,
    kinds: Iterable[str] | None = None,
    *,
    as_of: str | date | np.datetime64 | None = None,
    since: str | date | np.datetime64 | None = None,
    params: ScanParams | None = None,
    cache: IndicatorCache | None = None,
) -> pd.DataFrame:
    """All events of the requested kinds over a panel.

    Parameters
    ----------
    panel
        Daily bars of any number of symbols.
    kinds
        Event kinds and/or groups (:data:`capscope.events.records.KIND_GROUPS`); default all.
    as_of
        Last date that may be used: the panel is truncated there first, so nothing after it is seen.
    since
        Only return events dated on or after this date (they are still computed from all history).
    params
        Family parameters (:class:`ScanParams`).
    cache
        Precomputed indicators of ``panel`` (ignored when ``as_of`` truncates the panel).

    Returns
    -------
    pandas.DataFrame
        Event frame (:mod:`capscope.events.records`), chronological.
    """
    params = params or ScanParams()
    wanted = R.resolve_kinds(kinds)
    if as_of is not None:
        from capscope.data.panel import to_datetime64

        day = to_datetime64(as_of)
        if panel.n_bars and day < panel.dates[-1]:
            panel = panel.truncate(day)
            cache = None
    if cache is None or cache.panel is not panel:
        cache = IndicatorCache(panel)
    return R.assemble(panel, scan_parts(panel, wanted, since=since, params=params, cache=cache))


def scan_parts(
    panel: Panel,
    kinds: Iterable[str] | None = None,
    *,
    since: str | date | np.datetime64 | None = None,
    params: ScanParams | None = None,
    cache: IndicatorCache | None = None,
) -> list[R.EventParts]:
    """The events of :func:`scan_panel` as raw arrays (:class:`capscope.events.records.EventParts`), before the
    DataFrame is built; :func:`capscope.events.records.assemble` turns them into the event frame."""
    params = params or ScanParams()
    wanted = R.resolve_kinds(kinds)
    if cache is None or cache.panel is not panel:
        cache = IndicatorCache(panel)
    fam = _families(wanted)
    parts: list[R.EventParts] = []
    if panel.n_bars:
        if "ma_cross" in fam:
            parts += ma_cross_parts(panel, params.ma_pairs, cache)
        if "price_cross" in fam:
            parts += price_cross_parts(panel, params.price_windows, params.price_ma, cache)
        if fam & {"macd", "macd_zero"}:
            parts += macd_parts(
                panel, *params.macd, cache, signal_line="macd" in fam, zero_line="macd_zero" in fam
            )
        if "rsi" in fam:
            parts += rsi_parts(panel, params.rsi_window, params.rsi_upper, params.rsi_lower, cache)
        history = level_history(panel, params.levels, cache=cache) if fam & {"levels", "breakouts"} else None
        if "levels" in fam:
            parts += level_parts(panel, params.levels, cache, history)
        if "breakouts" in fam:
            parts += breakout_parts(panel, params.breakouts, params.levels, cache, history)
    wanted_kind = np.zeros(len(R.EVENT_KINDS), dtype=bool)  # kind code -> wanted (a lookup, not np.isin)
    wanted_kind[R.kind_codes(wanted)] = True
    for i, p in enumerate(parts):
        if since is None and wanted_kind.all():
            break  # every kind, all dates: nothing to drop
        keep = wanted_kind[p.kind]
        if since is not None:
            from capscope.data.panel import to_datetime64

            keep &= panel.dates[p.row] >= to_datetime64(since)
        if not keep.all():
            parts[i] = R.EventParts(
                p.row[keep],
                p.col[keep],
                p.kind[keep],
                {k: v[keep] if np.ndim(v) else v for k, v in p.fields.items()},
            )
    return parts


def scan_json(
    panel: Panel,
    kinds: Iterable[str] | None = None,
    *,
    as_of: str | date | np.datetime64 | None = None,
    since: str | date | np.datetime64 | None = None,
    params: ScanParams | None = None,
) -> dict[str, Any]:
    """The scan as a JSON-ready dict: ``{"as_of": "YYYY-MM-DD", "events": [...]}``.

    ``as_of`` is the last date used (the requested date, or the panel's last date when none is given).
    Chart patterns live in a later stage (:mod:`capscope.patterns`); ``capscope scan`` adds them under a
    ``"patterns"`` key.
    """
    from capscope.data.panel import to_datetime64

    if as_of is not None:
        day = to_datetime64(as_of)
        panel = panel.truncate(day)
    elif panel.n_bars:
        day = panel.dates[-1]
    else:
        day = None
    events = scan_panel(panel, kinds, since=since, params=params)
    return {
        "as_of": None if day is None else str(day),
        "events": R.events_to_records(events),
    }
