"""Market-wide stages over symbol blocks: plan the blocks, run them on an engine, combine the partial results.

* **scan**: per-block event frames concatenated and sorted (:func:`capscope.events.records.concat_events`);
  pattern records of the blocks sorted by symbol.
* **patterns**: per-block records sorted by symbol (within a symbol, the detector's order: by status date).
* **breadth**: per-block counts summed, then the derived series (percentages, A/D line, McClellan oscillator
  and summation index) computed once from the sums (:func:`capscope.analytics.breadth.breadth_from_counts`).
* **study**: per-block partial event studies (:func:`capscope.analytics.study.study_block`) folded in block
  order as they arrive by :class:`capscope.analytics.study.StudyFold`, which also draws the bootstrap and runs the run-level tests.

Results equal those of the whole-panel functions on the whole universe for any block size and either engine
(``tests/test_scale.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from capscope.errors import UsageError
from capscope.scale.blocks import (
    BLOCK_SIZE,
    BlockSource,
    StoreSource,
    breadth_block,
    patterns_block,
    plan_blocks,
    scan_block,
    study_block,
)
from capscope.scale.engine import check_engine, run_blocks

if TYPE_CHECKING:
    import pandas as pd

    from capscope.analytics.breadth import BreadthResult
    from capscope.analytics.study import StudyParams, StudyResult
    from capscope.analytics.study_signals import Signal
    from capscope.patterns.records import PatternRecord


def _check_source(source: BlockSource, engine: str, scheduler: str | None) -> None:
    check_engine(engine, scheduler)
    if engine == "dask" and not source.distributable:
        if isinstance(source, StoreSource):
            # a damaged store is a store error whatever the engine: the local engine would meet the damage while
            # reading its blocks, so read the store once here (only on this failing path) before the usage error
            source.verify()
        raise UsageError(
            f"--engine dask reads a Parquet dataset, not the {source.description}: write one with "
            "`capscope export parquet --out DIR` and pass --data DIR"
        )


def listed_by(symbols: Sequence[str] | None, end: date | None, firsts: dict[str, date]) -> list[str]:
    """``symbols`` (default: every symbol of ``firsts``, sorted) that have a bar on or before ``end``."""
    chosen = sorted(firsts) if symbols is None else list(symbols)
    if end is None:
        return [s for s in chosen if s in firsts]
    return [s for s in chosen if s in firsts and firsts[s] <= end]


@dataclass(frozen=True, eq=False)
class Universe:
    """The symbols of a market-wide run and their dates, known before any block is read.

    Attributes
    ----------
    source
        Where the bars are read.
    requested
        The symbols asked for (``n_symbols`` of breadth counts them all).
    symbols
        Those with a bar on or before ``end`` (in ``requested`` order).
    dates
        Union of their bar dates up to ``end`` (``datetime64[D]``).
    end
        Last date read (``None``: all).
    firsts
        First bar date per symbol of the source.
    """

    source: BlockSource
    requested: tuple[str, ...]
    symbols: tuple[str, ...]
    dates: np.ndarray
    end: date | None
    firsts: dict[str, date]


def universe(source: BlockSource, symbols: Sequence[str] | None = None, end: date | None = None) -> Universe:
    """The :class:`Universe` of ``symbols`` (default: every symbol of ``source``) up to ``end``."""
    firsts = source.first_dates()
    requested = sorted(firsts) if symbols is None else list(symbols)
    chosen = listed_by(requested, end, firsts)
    dates = source.dates(chosen, end) if chosen else np.array([], dtype="datetime64[D]")
    return Universe(source, tuple(requested), tuple(chosen), dates, end, firsts)


def _by_symbol(items: list[Any]) -> list[Any]:
    """Pattern records sorted by symbol, stable (each symbol keeps the detector's order: by status date)."""

    def key(item: Any) -> str:
        if isinstance(item, dict):
            return str(item["symbol"])
        return str(item[0] if isinstance(item, tuple) else item.symbol)

    return sorted(items, key=key)


def scan(
    uni: Universe,
    *,
    kinds: Sequence[str] | None = None,
    since: date | None = None,
    patterns: bool = False,
    engine: str = "local",
    scheduler: str | None = None,
    block_size: int = BLOCK_SIZE,
    show_progress: bool = False,
    processes: bool = True,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Events (and with ``patterns`` the JSON pattern records) of a universe up to its end, block by block.

    Parameters
    ----------
    uni
        The universe (:func:`universe`; its ``end`` is the as-of date).
    kinds
        Event kinds or groups (default: all).
    since
        Only events dated on or after this date (computed from all history).
    patterns
        Also find chart patterns (:func:`capscope.patterns.api.records_json`).
    engine, scheduler
        :func:`capscope.scale.engine.run_blocks`.
    block_size
        Symbols per block.
    show_progress
        Progress bar on stderr.
    processes
        Dask LocalCluster workers as processes.

    Returns
    -------
    tuple
        Event frame (chronological) and pattern records (by symbol, then status date).
    """
    from capscope.events.records import concat_events

    _check_source(uni.source, engine, scheduler)
    blocks = plan_blocks(
        uni.source, uni.symbols, uni.dates, uni.end, block_size=block_size, firsts=uni.firsts
    )
    parts = run_blocks(
        scan_block,
        blocks,
        {"kinds": None if kinds is None else list(kinds), "since": since, "patterns": patterns},
        engine=engine,
        scheduler=scheduler,
        label="scanning",
        show_progress=show_progress,
        processes=processes,
    )
    events = concat_events(p[0] for p in parts)
    return events, _by_symbol([r for p in parts for r in p[1]])


def patterns(
    uni: Universe,
    *,
    as_of: date | str | None = None,
    kinds: Sequence[str] | None = None,
    mode: str = "chartist",
    min_quality: float = 0.0,
    since: date | None = None,
    statuses: Sequence[str] | None = None,
    convert: Callable[[PatternRecord], Any] | None = None,
    on_result: Callable[[list[Any]], None] | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    block_size: int = BLOCK_SIZE,
    show_progress: bool = False,
    processes: bool = True,
) -> list[Any]:
    """Pattern records of a universe as of ``as_of`` (:func:`capscope.patterns.api.find_patterns`) by blocks.

    ``since`` keeps the records whose status date is on or after it and ``statuses`` those with one of these
    statuses; both are applied inside each block (a market's full record history would not fit in memory).
    ``convert`` maps each kept record inside its block (:func:`~capscope.scale.blocks.patterns_block`); its result
    must be a dict with a ``symbol`` key, an object with a ``symbol`` attribute, or a tuple starting with the symbol.
    With ``on_result`` each block's list (sorted by symbol, then status date) is handed over in block order and
    not kept; the function then returns an empty list.

    ``uni`` is usually read with all its dates (``end=None``): the detector itself stops at ``as_of``, as on a
    whole panel. Returns the records sorted by symbol, then status date (as :func:`~capscope.patterns.api.find_patterns`).
    """
    _check_source(uni.source, engine, scheduler)
    blocks = plan_blocks(
        uni.source, uni.symbols, uni.dates, uni.end, block_size=block_size, firsts=uni.firsts
    )
    parts = run_blocks(
        patterns_block,
        blocks,
        {
            "as_of": as_of,
            "kinds": None if kinds is None else list(kinds),
            "mode": mode,
            "min_quality": min_quality,
            "since": since,
            "statuses": None if statuses is None else list(statuses),
            "convert": convert,
        },
        engine=engine,
        scheduler=scheduler,
        label="finding patterns",
        show_progress=show_progress,
        processes=processes,
        on_result=on_result,
    )
    return _by_symbol([r for p in parts for r in p])


def breadth(
    uni: Universe,
    *,
    windows: tuple[int, int, int] = (50, 200, 252),
    use_high_low: bool = False,
    ratio_adjusted: bool = True,
    engine: str = "local",
    scheduler: str | None = None,
    block_size: int = BLOCK_SIZE,
    show_progress: bool = False,
    processes: bool = True,
) -> BreadthResult:
    """Breadth of a universe up to its end from per-block counts summed over blocks.

    ``n_symbols`` is the number of symbols requested (as for a whole panel of them), including any without a bar
    on or before the end. Every block is read on the universe's full date index (breadth counts are additive only
    on one index).
    """
    from capscope.analytics.breadth import breadth_from_counts

    _check_source(uni.source, engine, scheduler)
    if len(uni.dates) == 0:
        raise UsageError("breadth: no bars on or before the as-of date")
    blocks = plan_blocks(uni.source, uni.symbols, uni.dates, uni.end, block_size=block_size)
    parts = run_blocks(
        breadth_block,
        blocks,
        {"windows": windows, "use_high_low": use_high_low},
        engine=engine,
        scheduler=scheduler,
        label="breadth",
        show_progress=show_progress,
        processes=processes,
    )
    counts = np.zeros((len(uni.dates), 10), dtype=np.int64)
    for part in parts:
        counts += part
    return breadth_from_counts(
        uni.dates,
        len(uni.requested),
        counts,
        windows=windows,
        use_high_low=use_high_low,
        ratio_adjusted=ratio_adjusted,
    )


#: Symbols per block of an event study (its per-block arrays: a forward return per bar and horizon).
STUDY_BLOCK_SIZE = 128


def study(
    uni: Universe,
    signals: Sequence[Signal],
    params: StudyParams,
    *,
    as_of: date | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    block_size: int = STUDY_BLOCK_SIZE,
    show_progress: bool = False,
    processes: bool = True,
) -> StudyResult:
    """Event study of a universe up to its end (:mod:`capscope.analytics.study`), block by block.

    The blocks are the universe's symbols sorted by (first bar date, symbol), ``block_size`` at a time, whatever
    the source (:func:`capscope.scale.blocks.plan_blocks` with ``grouped=False``), and the partial results are
    combined in block order. The per-date sums the study adds up are floating-point numbers, so the same plan
    for every source and engine is what makes their results bit-identical (a different ``block_size`` changes
    only the summation order: results within ~1e-12). No random number depends on the plan: the placebo shifts
    come from ``params.seed`` alone and the bootstrap is drawn after combining.

    Parameters
    ----------
    uni
        The universe (:func:`universe`; its ``end`` is the as-of date).
    signals
        The signals (:func:`capscope.analytics.study.parse_signals`).
    params
        Study parameters.
    as_of
        Date the study is reported as of (default: the universe's end, or its last date when that is ``None``).
    engine, scheduler
        :func:`capscope.scale.engine.run_blocks`.
    block_size
        Symbols per block.
    show_progress
        Progress bar on stderr.
    processes
        Dask LocalCluster workers as processes.

    Returns
    -------
    StudyResult
        The combined study.

    Raises
    ------
    UsageError
        No bars on or before the end, or an engine that cannot read the source.
    """
    from capscope.analytics.study import StudyFold

    _check_source(uni.source, engine, scheduler)
    if len(uni.dates) == 0:
        raise UsageError("study: no bars on or before the as-of date")
    blocks = plan_blocks(
        uni.source,
        uni.symbols,
        uni.dates,
        uni.end,
        block_size=block_size,
        firsts=uni.firsts,
        grouped=False,
    )
    fold = StudyFold()  # each block's partial is folded in as it arrives (in block order) and dropped
    run_blocks(
        study_block,
        blocks,
        {"signals": list(signals), "params": params},
        engine=engine,
        scheduler=scheduler,
        label="studying",
        show_progress=show_progress,
        processes=processes,
        on_result=fold.add,
    )
    if as_of is None:
        as_of = uni.end if uni.end is not None else uni.dates[-1].astype(object)
    return fold.result(as_of=as_of)
