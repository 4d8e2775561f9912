"""``find_patterns``: one entry point for both pattern modes over a panel or one symbol's arrays."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from capscope.errors import UsageError
from capscope.patterns.records import (
    ALL_KINDS,
    CHARTIST_KINDS,
    MODE_CHARTIST,
    MODE_LMW,
    PatternRecord,
)

if TYPE_CHECKING:
    from capscope.data.panel import Panel
    from capscope.patterns.chartist import ChartistParams

__all__ = ["find_patterns", "records_json", "series_panel"]


def series_panel(data: Any, symbol: str | None = None) -> Panel:
    """Turn one symbol's bars into a one-column :class:`Panel`.

    ``data`` is a mapping of 1-D arrays with ``date`` (or ``dates``), ``high``, ``low``, ``close`` (``open``,
    ``volume`` optional), or a pandas DataFrame with those columns or a DatetimeIndex.
    """
    from capscope.data.panel import Panel

    if hasattr(data, "columns") and hasattr(data, "index"):  # pandas DataFrame
        frame = data
        cols = {str(c).lower(): c for c in frame.columns}
        if "date" in cols:
            dates = np.asarray(frame[cols["date"]].to_numpy(), dtype="datetime64[D]")
        else:
            dates = np.asarray(frame.index.to_numpy(), dtype="datetime64[D]")
        arrays = {
            k: frame[cols[k]].to_numpy(dtype=np.float64)
            for k in ("open", "high", "low", "close", "volume")
            if k in cols
        }
    elif isinstance(data, Mapping):
        key = "date" if "date" in data else "dates"
        if key not in data:
            raise UsageError(f"series needs a 'date' array; got keys {', '.join(map(str, data))}")
        dates = np.asarray(data[key], dtype="datetime64[D]")
        arrays = {
            k: np.asarray(data[k], dtype=np.float64)
            for k in ("open", "high", "low", "close", "volume")
            if k in data
        }
    else:
        raise UsageError(
            f"find_patterns needs a Panel, a DataFrame or a mapping of arrays, not {type(data).__name__}"
        )
    missing = [k for k in ("high", "low", "close") if k not in arrays]
    if missing:
        raise UsageError(
            f"series lacks {', '.join(missing)}; it has {', '.join(arrays) or 'no price fields'}"
        )
    fields: dict[str, np.ndarray] = {k: np.ascontiguousarray(v.reshape(-1, 1)) for k, v in arrays.items()}
    return Panel(
        dates, (symbol or str(data.get("symbol", "")) if isinstance(data, Mapping) else symbol or "",), fields
    )


def _check_kinds(kinds: Iterable[str] | None, allowed: Sequence[str], mode: str) -> tuple[str, ...] | None:
    if kinds is None:
        return None
    chosen = tuple(kinds)
    bad = [k for k in chosen if k not in allowed]
    if bad:
        raise UsageError(f"unknown {mode} pattern kind(s) {', '.join(bad)}; choose from {', '.join(allowed)}")
    return chosen


def find_patterns(
    data: Any,
    *,
    as_of: date | str | np.datetime64 | None = None,
    kinds: Iterable[str] | None = None,
    mode: str = MODE_CHARTIST,
    symbols: Sequence[str] | None = None,
    params: ChartistParams | None = None,
    min_quality: float = 0.0,
    progress: Callable[[str], None] | None = None,
    reference: bool = False,
    threads: int | None = None,
) -> list[PatternRecord]:
    """Find chart patterns as of a date.

    Parameters
    ----------
    data
        A :class:`~capscope.data.panel.Panel`, or one symbol's bars (see :func:`series_panel`).
    as_of
        Last date that may be used (default: the last date of ``data``). Every record is the pattern's state
        on that date, computed from bars up to it only.
    kinds
        Pattern kinds to report (default: all of the mode's kinds).
    mode
        ``"chartist"`` (multi-scale pivots, :mod:`capscope.patterns.chartist`) or ``"lmw"`` (Lo, Mamaysky and
        Wang 2000 kernel-regression mode, :mod:`capscope.patterns.lmw`).
    symbols
        Restrict to these symbols of the panel.
    params
        Chartist thresholds (:class:`~capscope.patterns.chartist.ChartistParams`).
    min_quality
        Drop records whose ``quality`` is below this (chartist mode; on random walks about 40 % of the
        formations have quality >= 0.7, see ``docs/patterns.md``).
    progress
        Called with each symbol once it is done (for progress bars).
    reference
        Chartist mode: run the plain-Python twin (:func:`~capscope.patterns.chartist.detect_series` symbol by
        symbol) instead of the numba pass over the panel (:func:`~capscope.patterns.chartist.detect_panel`);
        the records are the same (tested), the twin is several times slower.
    threads
        Chartist mode: threads of the numba pass (default: numba's thread count, ``NUMBA_NUM_THREADS``); the
        blocks of 64 symbols run on them while this thread builds the records of the finished ones
        (:func:`~capscope.patterns.chartist.detect_blocks`). The records are the same for any count.

    Returns
    -------
    list[PatternRecord]
        Sorted by symbol, then status date.
    """
    from capscope.data.panel import Panel, to_datetime64

    panel = data if isinstance(data, Panel) else series_panel(data)
    if symbols is not None:
        panel = panel.select(list(symbols))
    if mode == MODE_LMW:
        lmw_found = _lmw(panel, as_of=as_of, kinds=_check_kinds(kinds, ALL_KINDS, mode))
        return [r for r in lmw_found if r.quality >= min_quality]
    if mode != MODE_CHARTIST:
        raise UsageError(f"mode must be 'chartist' or 'lmw', got {mode!r}")
    chosen = _check_kinds(kinds, CHARTIST_KINDS, mode)
    from capscope.patterns.chartist import detect_blocks, detect_series

    as_of_pos = None
    if as_of is not None:
        as_of_pos = int(np.searchsorted(panel.dates, to_datetime64(as_of), side="right")) - 1
        if as_of_pos < 0:
            return []
    out: list[PatternRecord] = []
    if not reference:
        blocks = detect_blocks(
            panel.dates,
            panel.symbols,
            panel.high,
            panel.low,
            panel.close,
            kinds=chosen,
            params=params,
            threads=threads,
        )
        # the next blocks' compiled passes run on other threads while these records are built
        for block in blocks:
            for symbol, recs in zip(block.symbols, block.records(as_of_pos, min_quality), strict=True):
                out.extend(recs)
                if progress is not None:
                    progress(symbol)
        return out
    for j, symbol in enumerate(panel.symbols):
        found = detect_series(
            panel.dates,
            panel.high[:, j],
            panel.low[:, j],
            panel.close[:, j],
            symbol=symbol,
            kinds=chosen,
            params=params,
        )
        out.extend(r for r in found.records(as_of_pos) if r.quality >= min_quality)
        if progress is not None:
            progress(symbol)
    return out


def _lmw(panel: Panel, *, as_of: Any, kinds: tuple[str, ...] | None) -> list[PatternRecord]:
    try:
        from capscope.patterns import lmw
    except ImportError as exc:  # the LMW module is built separately
        raise UsageError(f"the lmw mode is not available in this build ({exc})") from None
    if as_of is not None:
        panel = panel.truncate(as_of)
    if panel.n_bars == 0:
        return []
    fn = getattr(lmw, "lmw_patterns", None)
    if fn is None:
        raise UsageError("the lmw mode is not available in this build (capscope.patterns.lmw.lmw_patterns)")
    records: list[PatternRecord] = fn(panel.close, dates=panel.dates, symbols=list(panel.symbols))
    if kinds is not None:
        records = [r for r in records if r.kind in kinds]
    records.sort(key=lambda r: (r.symbol, r.date, r.kind))
    return records


def records_json(
    panel: Panel,
    *,
    as_of: date | str | np.datetime64 | None = None,
    since: date | str | np.datetime64 | None = None,
    kinds: Iterable[str] | None = None,
    mode: str = MODE_CHARTIST,
    min_quality: float = 0.0,
) -> list[dict[str, Any]]:
    """JSON-ready pattern records (``PatternRecord.to_dict()``) for ``capscope scan`` and ``brief.json``.

    Same as :func:`find_patterns`, keeping the records whose status ``date`` is on or after ``since``.
    """
    from capscope.patterns.records import as_date

    records = find_patterns(panel, as_of=as_of, kinds=kinds, mode=mode, min_quality=min_quality)
    if since is not None:
        start = as_date(since)
        records = [r for r in records if r.date >= start]
    return [r.to_dict() for r in records]
