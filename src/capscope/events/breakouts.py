"""Breakouts above resistance, breakdowns below support, and failed breakouts.

Levels come from :mod:`capscope.events.levels`. A level takes part from the bar *after* the pivot that
created it was confirmed, while it is qualified (``touches >= min_touches``) and active (last touch at most
``max_age`` bars old). Each level carries a *side*: ``-1`` while price is below it, ``+1`` while above; it is set
from the close on the bar a pivot joins (or creates) the level and then only changes through the events below.

Confirmation rule (a volatility-scaled filter, as in ATR-band breakout systems; Wilder 1978 for ATR):

* ``breakout_above`` on bar ``t`` when the level's side is ``-1`` and ``close[t] > level + buffer * ATR[t]``;
  the side becomes ``+1``. ``breakdown_below`` mirrors it: side ``+1`` and ``close[t] < level - buffer * ATR[t]``.
  The event's ``level_kind`` is ``resistance`` (breakout) or ``support`` (breakdown).
* ``breakout_failed`` on the first bar ``t`` with ``b < t <= b + fail_window`` (``b`` = breakout bar) whose
  close is back below the level price recorded at the breakout (``close[t] < level``): the event is dated
  ``t``, the bar on which the failure became knowable, and carries ``breakout_date = b``. The side returns to
  ``-1`` so a later push through the level is a new breakout. ``breakdown_failed`` mirrors it
  (``close[t] > level``). The original breakout event is never changed: events are only ever appended in
  time order, so the events up to ``D`` equal those computed on data truncated at ``D``.
* When a new pivot joins a level, its price (the mean of its members) moves and the side is re-read from
  that bar's close; a pending failure check for that level is then dropped.

Bars with a NaN close are skipped (they neither break nor fail anything); ``fail_window`` counts panel rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from capscope.events import records as R
from capscope.events.crosses import IndicatorCache
from capscope.events.levels import LevelHistory, LevelParams, level_history

if TYPE_CHECKING:
    import pandas as pd

    from capscope.data.panel import Panel

#: Event codes of the kernels.
_CODES = (R.BREAKOUT_ABOVE, R.BREAKDOWN_BELOW, R.BREAKOUT_FAILED, R.BREAKDOWN_FAILED)
_LEVEL_KINDS = (R.RESISTANCE, R.SUPPORT, R.RESISTANCE, R.SUPPORT)
_KIND_CODES = R.kind_codes(_CODES)


@dataclass(frozen=True)
class BreakoutParams:
    """Breakout confirmation: close beyond the level by ``buffer`` x ATR; failure within ``fail_window`` bars."""

    buffer: float = 0.5
    fail_window: int = 10

    def __post_init__(self) -> None:
        if self.buffer < 0 or self.fail_window < 0:
            raise ValueError(f"invalid breakout parameters: {self}")


@njit(inline="always")
def _put(buf, fbuf, ne, t, j, code, level, touch, first, last, ref):  # type: ignore[no-untyped-def]  # pragma: no cover
    buf[0, ne] = t
    buf[1, ne] = j
    buf[2, ne] = code
    buf[3, ne] = touch
    buf[4, ne] = first
    buf[5, ne] = last
    buf[6, ne] = ref
    fbuf[ne] = level


_BLOCK_SHIFT = 4
_BLOCK = 1 << _BLOCK_SHIFT  # bars per block of the scans' skip bounds


@njit(cache=True, nogil=True)
def _breakout_pass(  # type: ignore[no-untyped-def]  # pragma: no cover
    close,
    atr,
    ptr,
    confirm,
    level_id,
    level_price,
    touches,
    first,
    last,
    buffer,
    fail_window,
    min_touches,
    max_age,
    buf,
    fbuf,
    ne,
    j0,
):
    """Level by level, in scans over contiguous bars.

    A level's state changes only through its own events and its own pivots, so each level's bars can be walked
    on their own. Between two of its pivots the price, touches and last touch are fixed, and the next event is
    the first bar that closes beyond a fixed threshold: with nothing pending, beyond ``price -/+ buffer * ATR``
    (until the level goes stale); while a breakout is pending (``side == pdir`` then), back across the
    breakout's level or beyond the opposite threshold (within ``fail_window`` bars). Each of these is a tight
    scan; work = the bars on which each level is live, without per-bar bookkeeping of an active set.

    ``close`` and ``atr`` are the time-major panel arrays ``(n_bars, n_symbols)``; each symbol's column is copied
    once into a contiguous scratch row (no transposed copy of the panel). Events come out ordered by symbol,
    level id, then bar (the event frame sorts them; same-bar events of one symbol keep level-id order).
    """
    n, m = close.shape
    npiv = level_id.shape[0]
    cj = np.empty(n)  # this symbol's closes and buffer * ATR, contiguous
    ba = np.empty(n)
    nblk = (n >> _BLOCK_SHIFT) + 1
    bhi = np.empty(nblk)  # per block of bars: largest and smallest finite close, smallest finite buffer * ATR
    blo = np.empty(nblk)
    bmin = np.empty(nblk)
    head = np.full(npiv, -1, np.int64)  # first pivot record of each level
    tail = np.full(npiv, -1, np.int64)
    nxt = np.full(npiv, -1, np.int64)  # next pivot record of the same level
    apply_bar = np.empty(npiv, np.int64)  # the bar after whose checks a record takes effect
    cap = buf.shape[1]
    for j in range(j0, m):
        start = ne  # a symbol whose events do not fit is redone from here after the buffers have grown
        lo, hi = ptr[j], ptr[j + 1]
        seen = -1
        qualified = False
        for p in range(lo, hi):
            seen = max(seen, confirm[p])
            apply_bar[p] = seen
            lv = level_id[p]
            if lv < 0:
                continue
            qualified |= touches[p] >= min_touches
            if head[lv] < 0:
                head[lv] = p
            else:
                nxt[tail[lv]] = p
            tail[lv] = p
        if not qualified:
            continue  # no level of this symbol can fire
        for t in range(n):
            cj[t] = close[t, j]
            ba[t] = buffer * atr[t, j]
        for blk in range(nblk):
            h, low, b = -np.inf, np.inf, np.inf
            for t in range(blk << _BLOCK_SHIFT, min(n, (blk + 1) << _BLOCK_SHIFT)):
                c = cj[t]
                a = ba[t]
                # branch-free selects; a NaN compares false, so NaN closes and NaN ATR (which never trigger)
                # are left out of the bounds
                h = c if c > h else h
                low = c if c < low else low
                b = a if a < b else b
            bhi[blk], blo[blk], bmin[blk] = h, low, b
        for lv in range(lo, hi):
            p = head[lv]
            side = 0  # -1: price below the level, +1: above, 0: not known yet
            pdir = 0  # direction of a pending breakout (then side == pdir), 0 if none
            pbar = 0
            plevel = 0.0
            while p >= 0:
                tc = apply_bar[p]
                if tc >= n:
                    break
                price = level_price[p]
                touch = touches[p]
                ft = first[p]
                lt = last[p]
                c = cj[tc]
                if c == c and c != price:
                    s = 1 if c > price else -1
                    if s != side:
                        pdir = 0
                    side = s
                p = nxt[p]
                t1 = n - 1 if p < 0 else min(apply_bar[p], n - 1)  # bars tc + 1 .. t1 see this state
                if touch < min_touches:
                    continue
                stale = lt + max_age  # the last bar on which the level is active
                t = tc + 1
                while t <= t1:
                    if pdir != 0 and t - pbar <= fail_window:
                        wend = min(t1, pbar + fail_window)
                        if pdir > 0:  # back below the breakout level, or a breakdown through the new price
                            while t <= wend and not (
                                cj[t] < plevel or (t <= stale and cj[t] < price - ba[t])
                            ):
                                t += 1
                        else:
                            while t <= wend and not (
                                cj[t] > plevel or (t <= stale and cj[t] > price + ba[t])
                            ):
                                t += 1
                        if t > wend:
                            continue  # window over (or the segment: the pending breakout carries on)
                        if ne == cap:
                            return start, j
                        c = cj[t]
                        if (pdir > 0 and c < plevel) or (pdir < 0 and c > plevel):
                            _put(buf, fbuf, ne, t, j, 2 if pdir > 0 else 3, plevel, touch, ft, lt, pbar)
                            side = -pdir
                            pdir = 0
                        else:
                            _put(buf, fbuf, ne, t, j, 1 if pdir > 0 else 0, price, touch, ft, lt, -1)
                            side = -pdir
                            pdir = side
                            pbar = t
                            plevel = price
                        ne += 1
                        t += 1
                        continue
                    pdir = 0  # nothing pending (or the window has passed)
                    end = min(t1, stale)
                    if t > end:
                        break  # stale until the level's next pivot
                    if side == 0:  # the next finite close sets it
                        c = cj[t]
                        if c == c:
                            side = 1 if c > price else (-1 if c < price else 0)
                        t += 1
                        continue
                    # the first bar t..end beyond the threshold (end + 1 if none), skipping whole blocks of bars
                    # that cannot hold one. Written out here, not as helper functions: numba counts references
                    # of array arguments on every call (atomic operations that cost more than a short scan).
                    # Upward: fl(price + ba[u]) >= fl(price + bmin) for every bar u of a block (rounding is
                    # monotone), so bhi <= price + bmin rules the block out exactly as the bar-by-bar test would;
                    # NaN closes or NaN ATR never trigger and are left out of the bounds. Downward mirrors it.
                    if side < 0:
                        while t <= end:
                            blk = t >> _BLOCK_SHIFT
                            if (t & (_BLOCK - 1)) == 0 and bhi[blk] <= price + bmin[blk]:
                                t += _BLOCK
                                continue
                            if cj[t] > price + ba[t]:
                                break
                            t += 1
                    else:
                        while t <= end:
                            blk = t >> _BLOCK_SHIFT
                            if (t & (_BLOCK - 1)) == 0 and blo[blk] >= price - bmin[blk]:
                                t += _BLOCK
                                continue
                            if cj[t] < price - ba[t]:
                                break
                            t += 1
                    if t > end:
                        break
                    if ne == cap:
                        return start, j
                    _put(buf, fbuf, ne, t, j, 0 if side < 0 else 1, price, touch, ft, lt, -1)
                    ne += 1
                    side = -side
                    pdir = side
                    pbar = t
                    plevel = price
                    t += 1
    return ne, m


def _breakout_kernel(  # type: ignore[no-untyped-def]
    close,
    atr,
    ptr,
    confirm,
    level_id,
    level_price,
    touches,
    first,
    last,
    buffer,
    fail_window,
    min_touches,
    max_age,
    capacity=None,
):
    """Breakout events of every symbol: ``(t, j, code, level, touches, first, last, ref)`` arrays.

    Runs :func:`_breakout_pass` on event buffers (rows: t, j, code, touches, first, last, ref; and the level
    prices) sized for about two events per pivot (or ``capacity``); a symbol that overflows them is redone after
    they have doubled. The buffers are never replaced inside the compiled loops: a buffer variable that may be rebound
    there makes numba count references on every pass through the loop (atomic operations, a quarter of the
    kernel's time).
    """
    m = close.shape[1]
    cap = 2 * level_id.shape[0] + 1024 if capacity is None else max(int(capacity), 1)
    buf = np.empty((7, cap), np.int64)
    fbuf = np.empty(cap)
    ne, j = 0, 0
    while True:
        ne, j = _breakout_pass(
            close,
            atr,
            ptr,
            confirm,
            level_id,
            level_price,
            touches,
            first,
            last,
            float(buffer),
            int(fail_window),
            int(min_touches),
            int(max_age),
            buf,
            fbuf,
            ne,
            j,
        )
        if j == m:
            break
        grown = np.empty((7, 2 * buf.shape[1]), np.int64)
        grown[:, :ne] = buf[:, :ne]
        fgrown = np.empty(2 * buf.shape[1])
        fgrown[:ne] = fbuf[:ne]
        buf, fbuf = grown, fgrown
    return (
        buf[0, :ne],
        buf[1, :ne],
        buf[2, :ne],
        fbuf[:ne],
        buf[3, :ne],
        buf[4, :ne],
        buf[5, :ne],
        buf[6, :ne],
    )


def breakout_reference(
    close: np.ndarray,
    atr: np.ndarray,
    h: LevelHistory,
    buffer: float,
    fail_window: int,
    min_touches: int,
    max_age: int,
) -> list[tuple[int, int, int, float, int, int, int, int]]:
    """Plain-Python twin of the breakout kernel: one symbol at a time, levels as dicts.

    Returns ``(t, j, code, level, touches, first, last, ref)`` tuples sorted by ``(t, j, level id)``.
    """
    out: list[tuple[int, int, int, int, float, int, int, int, int]] = []
    n, m = close.shape
    for j in range(m):
        levels: dict[int, dict[str, float]] = {}
        piv = list(range(int(h.ptr[j]), int(h.ptr[j + 1])))
        k = 0
        for t in range(n):
            c = close[t, j]
            if not np.isnan(c):
                for lid in sorted(levels):
                    lv = levels[lid]
                    code = -1
                    if lv["pdir"]:
                        if t - lv["pbar"] > fail_window:
                            lv["pdir"] = 0
                        elif (lv["pdir"] > 0 and c < lv["plevel"]) or (lv["pdir"] < 0 and c > lv["plevel"]):
                            code = 2 if lv["pdir"] > 0 else 3
                            lv["side"] = -1 if code == 2 else 1
                    if code < 0:
                        if lv["touches"] < min_touches or t - lv["last"] > max_age:
                            continue
                        if lv["side"] == 0:
                            lv["side"] = float(np.sign(c - lv["price"]))
                            continue
                        if lv["side"] < 0 and c > lv["price"] + buffer * atr[t, j]:
                            code, lv["side"] = 0, 1
                        elif lv["side"] > 0 and c < lv["price"] - buffer * atr[t, j]:
                            code, lv["side"] = 1, -1
                        else:
                            continue
                    if code >= 2:
                        out.append(
                            (
                                t,
                                j,
                                lid,
                                code,
                                lv["plevel"],
                                int(lv["touches"]),
                                int(lv["first"]),
                                int(lv["last"]),
                                int(lv["pbar"]),
                            )
                        )
                        lv["pdir"] = 0
                    else:
                        out.append(
                            (
                                t,
                                j,
                                lid,
                                code,
                                lv["price"],
                                int(lv["touches"]),
                                int(lv["first"]),
                                int(lv["last"]),
                                -1,
                            )
                        )
                        lv["pdir"], lv["pbar"], lv["plevel"] = (1 if code == 0 else -1), t, lv["price"]
            while k < len(piv) and h.confirm[piv[k]] <= t:
                p = piv[k]
                k += 1
                lid = int(h.level_id[p])
                if lid < 0:
                    continue
                lv = levels.setdefault(lid, {"side": 0, "pdir": 0, "pbar": 0, "plevel": 0.0})
                lv.update(
                    price=h.level_price[p], touches=h.touches[p], first=h.first_touch[p], last=h.last_touch[p]
                )
                if not np.isnan(c) and c != h.level_price[p]:
                    side = 1 if c > h.level_price[p] else -1
                    if side != lv["side"]:
                        lv["pdir"] = 0
                    lv["side"] = side
    out.sort(key=lambda e: (e[0], e[1], e[2]))
    return [(e[0], e[1], e[3], e[4], e[5], e[6], e[7], e[8]) for e in out]


def breakout_arrays(
    panel: Panel,
    params: BreakoutParams | None = None,
    level_params: LevelParams | None = None,
    *,
    cache: IndicatorCache | None = None,
    history: LevelHistory | None = None,
) -> tuple[np.ndarray, ...]:
    """Raw kernel output ``(t, j, code, level, touches, first, last, ref)`` for the whole panel."""
    params = params or BreakoutParams()
    level_params = level_params or LevelParams()
    c = cache if cache is not None else IndicatorCache(panel)
    h = history if history is not None else level_history(panel, level_params, cache=c)
    atr = c.atr(level_params.atr_window)
    return _breakout_kernel(
        panel.close,
        np.ascontiguousarray(atr),
        h.ptr,
        h.confirm,
        h.level_id,
        h.level_price,
        h.touches,
        h.first_touch,
        h.last_touch,
        float(params.buffer),
        int(params.fail_window),
        int(level_params.min_touches),
        int(level_params.max_age),
    )


def breakout_parts(
    panel: Panel,
    params: BreakoutParams,
    level_params: LevelParams,
    cache: IndicatorCache | None,
    history: LevelHistory | None = None,
) -> list[R.EventParts]:
    """Raw parts of :func:`breakout_events` (``history``: a :func:`level_history` with ``level_params``)."""
    t, j, code, level, touch, first, last, ref = breakout_arrays(
        panel, params, level_params, cache=cache, history=history
    )
    dates = panel.dates.astype("datetime64[ns]")  # the frame's unit: converted once per bar, not per event
    is_break = code < 2
    nat = np.datetime64("NaT", "ns")
    columns = {
        "level": level,
        "level_kind": R.text_codes("level_kind", _LEVEL_KINDS)[code],
        "touches": np.where(is_break, touch, np.nan),
        "first_touch": np.where(is_break, dates[first], nat),
        "last_touch": np.where(is_break, dates[last], nat),
        "breakout_date": np.where(is_break, nat, dates[np.maximum(ref, 0)]),
    }
    return [R.EventParts(t, j, _KIND_CODES[code], columns)]


def breakout_events(
    panel: Panel,
    params: BreakoutParams | None = None,
    level_params: LevelParams | None = None,
    *,
    cache: IndicatorCache | None = None,
) -> pd.DataFrame:
    """Breakout, breakdown and failed-breakout events of every symbol (see the module docstring).

    Fields: ``level`` (level price at the breakout), ``level_kind``, and ``touches``, ``first_touch``,
    ``last_touch`` (breakouts) or ``breakout_date`` (failures).
    """
    parts = breakout_parts(panel, params or BreakoutParams(), level_params or LevelParams(), cache)
    return R.assemble(panel, parts)
