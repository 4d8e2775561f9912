"""Chart-pattern status changes of new bars: the pattern alerts of ``capscope watch``.

What is alerted on a day ``D`` for a symbol: every record of the batch detector as of ``D``
(:func:`capscope.patterns.api.find_patterns` with ``as_of=D``, chartist mode, default parameters) whose ``date`` --
the bar on which the record's current status became knowable -- is ``D``: a formation that became known on ``D``
(status ``forming``, or directly ``confirmed``/``failed`` when its breakout or failure came before its last pivot
was confirmed), or a known formation whose status changed on ``D`` (``confirmed`` breakout, ``failed``,
``target_reached``). The batch detector is causal (a record as of ``D`` uses bars up to ``D`` only, tested in
``tests/test_patterns_lookahead.py``), so this uses no later bar.

Why records dated ``D`` and not "the records as of ``D`` that differ from those as of ``D-1``": the two differ only
through the multi-scale dedupe of the detector. A formation found on ``D`` can outrank (higher quality) a
formation kept until ``D-1`` and hide it, and the one it hid may in turn let an older finding reappear with its
old status and date. Those are not status changes and are not alerted; every record dated ``D`` is new on ``D``
(as of ``D-1`` no record can carry the date ``D``). ``tests/test_watch_patterns.py`` checks both statements
against per-day batch runs. A batch run as of the *last* day is not enough: it shows each formation's final
status only (a formation that was confirmed and then reached its target shows only the target).

Exactness and cost: the life-cycle of a confirmed formation has no end date (its target or a failure can come
any time later) and the Wilder ATR and the zig-zag pivots have unbounded memory, so no trailing window is exact
by construction. A cycle of ``watch --once`` therefore runs the detector's numba pass over each group's whole
stored history (one pass serves every new day of the cycle, read as of each day). The long-running watch runs that
pass once per group at start-up and then carries it on by one row a day (:meth:`GroupPatterns.advance`,
:func:`capscope.patterns.chartist.advance_panel`): each symbol's ATR, zig-zag and formation life-cycles are
stepped by the new bar, and only a symbol on which a pivot is confirmed that day (about one in five) or whose ATR
is still in its seed is detected again; the tables equal a new pass bit for bit (tested on every row). Either way records are built only for the
formations whose status date is the new day -- building every record is what makes ``find_patterns`` slow. The
compiled passes release the GIL, and :func:`capscope.watch.runner.process` runs them in the background while it
computes the day's signals. ``benchmarks/bench_watch.py`` measures it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

if TYPE_CHECKING:
    from capscope.data.panel import Panel
    from capscope.patterns.chartist import ChartistParams, PanelPatterns
    from capscope.patterns.records import PatternRecord

#: Fields of a pattern alert after ``symbol, date, kind, price`` (``PatternRecord.to_dict()`` order).
PATTERN_FIELDS: Final[tuple[str, ...]] = (
    "status",
    "mode",
    "scale",
    "quality",
    "points",
    "neckline",
    "breakout",
    "target",
    "invalidation",
    "extra",
)


def changed_records(found: PanelPatterns, row: int, columns: np.ndarray | None = None) -> list[PatternRecord]:
    """The records of ``found`` as of panel ``row`` whose status became knowable on that row.

    Equal to ``[r for recs in found.records(row) for r in recs if r.date == date of row]`` (restricted to
    ``columns``), without building the records of the other formations.

    Parameters
    ----------
    found
        One block of the chartist numba pass (:func:`capscope.patterns.chartist.detect_panel`).
    row
        Panel row of the day.
    columns
        Columns of the block to report (default: all).

    Returns
    -------
    list of PatternRecord
        Column by column, each column's records in the detector's order.

    Notes
    -----
    Only columns with a formation that has a state dated on ``row`` can have such a record; the formations kept
    as of ``row`` in those columns (state at the row, then the multi-scale dedupe, which works column by column)
    come from :func:`capscope.patterns.chartist_kernels.select_as_of`. Those whose current state is dated ``row``
    are put in a sub-table (in their detection order, with only their columns) whose ``records(row)`` builds
    them: the dedupe of a subset of kept formations keeps all of them, since a formation is dropped only for an
    earlier-ranked *kept* one close to it, and every earlier-ranked formation of the subset was kept in the full
    table without dropping it. Record fields hold dates and prices, not column numbers, so renumbering the
    columns changes nothing in them (tested).
    """
    from capscope.patterns import chartist_kernels as ck

    row = int(row)
    # columns that can have a record dated on the row: some state of one of their formations is dated on it
    # (the dedupe works column by column, so the other columns can be left out before it runs)
    fi, valid = found.fi, found.valid
    col = fi[:, ck.I_COL]
    base = found.vptr[col]
    hit = np.zeros(fi.shape[0], dtype=bool)
    for s in range(ck.MAX_STATES):
        has = fi[:, ck.I_NSTATES] > s
        at = np.where(has, base + fi[:, ck.I_ST + s * ck.ST_I], 0)
        hit |= has & (valid[at] == row)
    candidates = np.unique(col[hit])
    if columns is not None:
        candidates = np.intersect1d(candidates, np.asarray(columns, dtype=np.int64))
    if not len(candidates):
        return []
    part = _columns_table(found, candidates, np.flatnonzero(np.isin(col, candidates)))
    kept, slots = ck.select_as_of(
        part.fi, part.ff, part.fptr, part.valid, part.vptr, row, float(part.params.dedupe_tol)
    )
    cols = part.fi[kept, ck.I_COL]
    bars = part.fi[kept, ck.I_ST + slots * ck.ST_I]
    rows = np.sort(kept[part.valid[part.vptr[cols] + bars] == row])
    if not len(rows):
        return []
    changed = _columns_table(part, np.unique(part.fi[rows, ck.I_COL]), rows)
    return [r for recs in changed.records(row) for r in recs]


def _columns_table(found: PanelPatterns, columns: np.ndarray, rows: np.ndarray) -> PanelPatterns:
    """A copy of ``found`` with only the formation ``rows`` (sorted, all in ``columns``) and only ``columns``
    (sorted), renumbered in order: symbols, closes and valid-bar lists of those columns."""
    from capscope.patterns import chartist_kernels as ck

    fi = found.fi[rows].copy()
    fi[:, ck.I_COL] = np.searchsorted(columns, fi[:, ck.I_COL])
    segments = [found.valid[found.vptr[j] : found.vptr[j + 1]] for j in columns]
    vptr = np.zeros(len(columns) + 1, dtype=found.vptr.dtype)
    vptr[1:] = np.cumsum([len(seg) for seg in segments])
    return dataclasses.replace(
        found,
        symbols=tuple(found.symbols[j] for j in columns),
        close=np.ascontiguousarray(found.close[:, columns]),
        fi=fi,
        ff=np.ascontiguousarray(found.ff[rows]),
        fptr=np.searchsorted(fi[:, ck.I_COL], np.arange(len(columns) + 1)).astype(found.fptr.dtype),
        valid=np.concatenate(segments).astype(found.valid.dtype),
        vptr=vptr,
        state=None,
    )


def pattern_alert(record: PatternRecord, price: float) -> dict[str, Any]:
    """The alert record of a pattern status change: ``symbol, date, kind, price`` (the close on ``date``), then
    :data:`PATTERN_FIELDS` as ``PatternRecord.to_dict()`` gives them (``capscope patterns --format json``)."""
    data = record.to_dict()
    out: dict[str, Any] = {
        "symbol": data["symbol"],
        "date": data["date"],
        "kind": data["kind"],
        "price": float(price),
    }
    out.update((k, data[k]) for k in PATTERN_FIELDS)
    return out


@dataclass
class GroupPatterns:
    """The chartist pass over one group's whole history, read as of each new day.

    Attributes
    ----------
    panel
        The group's high/low/close over its whole stored history (up to the cycle's last new day).
    blocks
        The numba pass per block of :data:`capscope.patterns.chartist.PANEL_BLOCK` columns.
    """

    panel: Panel
    blocks: list[PanelPatterns]

    @classmethod
    def detect(
        cls, panel: Panel, params: ChartistParams | None = None, threads: int | None = None
    ) -> GroupPatterns:
        """Run the chartist numba pass (all chartist kinds) over ``panel``, block by block as ``find_patterns``.

        The blocks run on ``threads`` threads (default: numba's thread count, ``NUMBA_NUM_THREADS``; see
        :func:`capscope.patterns.chartist.detect_blocks`): the same blocks whatever the count.
        """
        from capscope.patterns.chartist import detect_blocks

        days = np.asarray(panel.dates).astype("datetime64[D]").astype(object)
        blocks = detect_blocks(
            panel.dates,
            panel.symbols,
            panel.high,
            panel.low,
            panel.close,
            params=params,
            date_objects=days,
            threads=threads,
        )
        return cls(panel, list(blocks))

    def follows(self, panel: Panel) -> bool:
        """Whether ``panel`` is this pass's history with exactly one more row: same symbols, same dates plus one,
        and each symbol with the same bars before it (counted; the values of stored bars never change, since
        ingest refuses a changed bar, but a bar can be added later on an earlier date). False once the pass has
        been carried on (:meth:`advance` consumes it)."""
        old = self.panel
        n = old.n_bars
        if not (
            self.blocks
            and n > 0
            and panel.n_bars == n + 1
            and tuple(panel.symbols) == tuple(old.symbols)
            and all(b.state is not None for b in self.blocks)
            and np.array_equal(panel.dates[:n], old.dates)
        ):
            return False
        valid = ~(np.isnan(panel.high[:n]) | np.isnan(panel.low[:n]) | np.isnan(panel.close[:n]))
        counts = np.concatenate([np.diff(b.vptr) for b in self.blocks])
        return bool(np.array_equal(valid.sum(axis=0), counts))

    def advance(self, panel: Panel) -> GroupPatterns:
        """The pass over ``panel`` -- this pass's history with one more row (see :meth:`follows`) -- carried on
        from this one, which is consumed (:func:`capscope.patterns.chartist.advance_panel`: about one bar per
        symbol instead of the whole history; equal to :meth:`detect` on ``panel``)."""
        from capscope.patterns.chartist import PANEL_BLOCK, advance_panel

        days = np.asarray(panel.dates).astype("datetime64[D]").astype(object)
        blocks = []
        for b, found in enumerate(self.blocks):
            cols = slice(b * PANEL_BLOCK, b * PANEL_BLOCK + len(found.symbols))
            blocks.append(
                advance_panel(
                    found,
                    panel.dates,
                    panel.high[:, cols],
                    panel.low[:, cols],
                    panel.close[:, cols],
                    date_objects=days,
                )
            )
        self.blocks = []  # consumed: its tables now belong to the new pass
        return GroupPatterns(panel, blocks)

    def alerts(self, day: np.datetime64, columns: Sequence[int]) -> list[dict[str, Any]]:
        """Pattern alerts of ``day`` for the panel ``columns`` (the symbols with a new bar that day).

        Sorted by symbol; a symbol's alerts in the detector's order (kind, then first point).
        """
        row = int(np.searchsorted(self.panel.dates, day))
        if row >= self.panel.n_bars or self.panel.dates[row] != day:
            raise ValueError(f"{day} is not a row of the group's history")
        from capscope.patterns.chartist import PANEL_BLOCK

        wanted = np.asarray(sorted(columns), dtype=np.int64)
        out: list[dict[str, Any]] = []
        close = dict(zip(self.panel.symbols, self.panel.close[row].tolist(), strict=True))
        for b, found in enumerate(self.blocks):
            j0 = b * PANEL_BLOCK
            local = wanted[(wanted >= j0) & (wanted < j0 + len(found.symbols))] - j0
            if not len(local):
                continue
            out += [pattern_alert(rec, close[rec.symbol]) for rec in changed_records(found, row, local)]
        out.sort(key=lambda a: str(a["symbol"]))
        return out


def tail(panel: Panel, day: np.datetime64, window: int) -> Panel:
    """The last ``window`` rows of ``panel`` up to ``day`` (a row of it): the trailing window the levels and
    breakouts are evaluated on, cut from the history instead of read again (same rows as
    :func:`capscope.watch.runner.store_window`, whose rows are the same union of the symbols' bar dates)."""
    from capscope.data.panel import Panel

    row = int(np.searchsorted(panel.dates, day))
    if row >= panel.n_bars or panel.dates[row] != day:
        raise ValueError(f"{day} is not a row of the group's history")
    start = max(0, row + 1 - window)
    rows = slice(start, row + 1)
    names = ("high", "low", "close")
    return Panel(
        panel.dates[rows], tuple(panel.symbols), {f: np.ascontiguousarray(panel[f][rows]) for f in names}
    )
