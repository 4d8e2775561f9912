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


@njit(cache=True)
def _grow(a, cap):  # type: ignore[no-untyped-def]  # pragma: no cover
    b = np.empty(cap, a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True)
def _breakout_kernel(  # type: ignore[no-untyped-def]  # pragma: no cover
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
):
    m, n = close.shape  # symbol-major copies: one symbol's bars are contiguous
    npiv = level_id.shape[0]
    lv_price = np.zeros(npiv)
    lv_touches = np.zeros(npiv, np.int64)
    lv_first = np.zeros(npiv, np.int64)
    lv_last = np.zeros(npiv, np.int64)
    lv_side = np.zeros(npiv, np.int8)
    lv_pdir = np.zeros(npiv, np.int8)
    lv_pbar = np.zeros(npiv, np.int64)
    lv_plevel = np.zeros(npiv)
    cur = ptr[:-1].copy()
    # active levels of column j: act[ptr[j] : ptr[j] + nact[j]] (qualified, and recently touched or pending)
    act = np.zeros(npiv, np.int64)
    nact = np.zeros(m, np.int64)
    is_act = np.zeros(npiv, np.bool_)
    cap = 1024
    e_t = np.empty(cap, np.int64)
    e_j = np.empty(cap, np.int64)
    e_code = np.empty(cap, np.int64)
    e_level = np.empty(cap)
    e_touch = np.empty(cap, np.int64)
    e_first = np.empty(cap, np.int64)
    e_last = np.empty(cap, np.int64)
    e_ref = np.empty(cap, np.int64)
    ne = 0
    # symbol by symbol over symbol-major copies of close and ATR (the caller transposes once): each symbol's bars
    # stream contiguously and its levels stay in cache; a time-major walk here would stride across symbols on
    # every bar (columns are independent, so the order changes nothing but speed)
    for j in range(m):
        for t in range(n):
            c = close[j, t]
            lo = ptr[j]
            if c == c:
                a = atr[j, t]
                keep = 0
                for q in range(lo, lo + nact[j]):
                    lv = act[q]
                    # drop levels that can no longer fire (stale, nothing pending); a new touch re-activates them
                    if t - lv_last[lv] > max_age and lv_pdir[lv] == 0:
                        is_act[lv] = False
                        continue
                    act[lo + keep] = lv
                    keep += 1
                    code = -1
                    if lv_pdir[lv] != 0:
                        if t - lv_pbar[lv] > fail_window:
                            lv_pdir[lv] = 0
                        elif lv_pdir[lv] > 0 and c < lv_plevel[lv]:
                            code = 2
                            lv_side[lv] = -1
                        elif lv_pdir[lv] < 0 and c > lv_plevel[lv]:
                            code = 3
                            lv_side[lv] = 1
                    if code < 0:
                        if lv_touches[lv] < min_touches or t - lv_last[lv] > max_age:
                            continue
                        p = lv_price[lv]
                        if lv_side[lv] == 0:
                            lv_side[lv] = 1 if c > p else (-1 if c < p else 0)
                            continue
                        if lv_side[lv] < 0 and c > p + buffer * a:
                            code = 0
                            lv_side[lv] = 1
                        elif lv_side[lv] > 0 and c < p - buffer * a:
                            code = 1
                            lv_side[lv] = -1
                        else:
                            continue
                    if ne == cap:
                        cap *= 2
                        e_t = _grow(e_t, cap)
                        e_j = _grow(e_j, cap)
                        e_code = _grow(e_code, cap)
                        e_level = _grow(e_level, cap)
                        e_touch = _grow(e_touch, cap)
                        e_first = _grow(e_first, cap)
                        e_last = _grow(e_last, cap)
                        e_ref = _grow(e_ref, cap)
                    e_t[ne] = t
                    e_j[ne] = j
                    e_code[ne] = code
                    e_touch[ne] = lv_touches[lv]
                    e_first[ne] = lv_first[lv]
                    e_last[ne] = lv_last[lv]
                    if code >= 2:
                        e_level[ne] = lv_plevel[lv]
                        e_ref[ne] = lv_pbar[lv]
                        lv_pdir[lv] = 0
                    else:
                        e_level[ne] = lv_price[lv]
                        e_ref[ne] = -1
                        lv_pdir[lv] = 1 if code == 0 else -1
                        lv_pbar[lv] = t
                        lv_plevel[lv] = lv_price[lv]
                    ne += 1
                nact[j] = keep
            # pivots confirmed on this bar update their levels after the checks (known from the next bar on)
            while cur[j] < ptr[j + 1] and confirm[cur[j]] <= t:
                p = cur[j]
                cur[j] += 1
                lv = level_id[p]
                if lv < 0:
                    continue
                if not is_act[lv] and touches[p] >= min_touches:  # only qualified levels can fire
                    is_act[lv] = True
                    act[lo + nact[j]] = lv
                    nact[j] += 1
                lv_price[lv] = level_price[p]
                lv_touches[lv] = touches[p]
                lv_first[lv] = first[p]
                lv_last[lv] = last[p]
                if c == c and c != level_price[p]:
                    side = 1 if c > level_price[p] else -1
                    if side != lv_side[lv]:
                        lv_pdir[lv] = 0
                    lv_side[lv] = side
    return e_t[:ne], e_j[:ne], e_code[:ne], e_level[:ne], e_touch[:ne], e_first[:ne], e_last[:ne], e_ref[:ne]


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
        np.ascontiguousarray(panel.close.T),
        np.ascontiguousarray(atr.T),
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
    dates = panel.dates
    is_break = code < 2
    nat = np.datetime64("NaT", "D")
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
