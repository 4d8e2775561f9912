"""Support and resistance levels from causal pivots, knowable as of every date.

Method
------
1. **Pivots.** Swing highs and lows of each symbol come from
   :func:`capscope.indicators.pivots.fractal_pivots` with ``k = pivot_window`` bars on each side: a swing at
   bar ``i`` is only known on bar ``i + k`` (its ``confirm_index``), and that is the date every level fact
   derived from it carries.
2. **Clustering.** Pivots are processed in confirmation order. Each pivot joins the existing level whose
   price is nearest to it if the distance is at most the tolerance -- ``tolerance * ATR(atr_window)`` on the
   confirmation bar (``tolerance_mode="atr"``) or ``tolerance`` percent of the pivot price
   (``"percent"``) -- and otherwise starts a new level. A level's price is the mean of its member pivot prices;
   its ``touches`` is the number of member pivots, ``first_touch`` / ``last_touch`` the bars of its earliest /
   latest member extreme. (Sequential, greedy clustering as in the "price clustering" treatment of support and
   resistance, e.g. Osler, *Support for Resistance*, FRBNY Economic Policy Review 2000; Murphy (1999) ch. 4.)
   A pivot whose tolerance is undefined (ATR still warming up) is not used.
3. **Qualified levels.** A level counts once it has ``min_touches`` touches and stays *active* while its last
   touch is at most ``max_age`` bars old. Its ``level_kind`` on a date is ``resistance`` if the level is above
   that day's close, else ``support``. ``strength = touches * 0.5 ** (age / half_life)`` where ``age`` is the
   number of bars since the last touch: more touches and more recent touches make a stronger level.

Everything is sequential in confirmation order, so the levels as of date ``D`` use only pivots confirmed by
``D`` and are identical when the data after ``D`` is removed.

Events: ``level_formed`` on the confirmation bar of the pivot that gives a level its ``min_touches``-th touch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from capscope.events import records as R
from capscope.events.crosses import IndicatorCache

if TYPE_CHECKING:
    import pandas as pd

    from capscope.data.panel import Panel

TOLERANCE_MODES = ("atr", "percent")


@dataclass(frozen=True)
class LevelParams:
    """Parameters of level detection (see the module docstring)."""

    pivot_window: int = 5
    atr_window: int = 14
    tolerance: float = 0.5
    tolerance_mode: str = "atr"
    min_touches: int = 2
    max_age: int = 252
    half_life: float = 126.0

    def __post_init__(self) -> None:
        if self.tolerance_mode not in TOLERANCE_MODES:
            raise ValueError(f"tolerance_mode must be one of {TOLERANCE_MODES}, got {self.tolerance_mode!r}")
        if self.pivot_window < 1 or self.min_touches < 1 or self.max_age < 0 or self.half_life <= 0:
            raise ValueError(f"invalid level parameters: {self}")
        if not self.tolerance > 0:
            raise ValueError(f"tolerance must be > 0, got {self.tolerance}")


@dataclass(frozen=True)
class LevelHistory:
    """Every pivot of a panel with the level it joined, flattened over columns.

    Pivots of column ``j`` are ``ptr[j]:ptr[j+1]``, in confirmation order. Level ids are global and those of
    column ``j`` lie in the same range (a column has at most as many levels as pivots). After pivot ``p``
    joined level ``level_id[p]``, that level had price ``level_price[p]``, ``touches[p]`` members and member
    extremes between bars ``first_touch[p]`` and ``last_touch[p]``. ``level_id`` is -1 for unused pivots.
    """

    ptr: np.ndarray
    index: np.ndarray
    confirm: np.ndarray
    price: np.ndarray
    kind: np.ndarray
    level_id: np.ndarray
    level_price: np.ndarray
    touches: np.ndarray
    first_touch: np.ndarray
    last_touch: np.ndarray


# -- pivots of a whole panel ---------------------------------------------------------------------------------
def panel_pivots(panel: Panel, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fractal pivots of every column: ``(ptr, index, confirm, price, kind)``, column ``j`` at ``ptr[j]:ptr[j+1]``.

    One numba pass over the whole panel (:func:`capscope.indicators.pivots.fractal_pivots_panel`), in the order
    :func:`capscope.indicators.pivots.fractal_pivots` gives each column.
    """
    from capscope.indicators.pivots import fractal_pivots_panel

    return fractal_pivots_panel(panel.high, panel.low, k)


# -- clustering kernel ---------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _cluster_kernel(ptr, index, price, tol):  # type: ignore[no-untyped-def]  # pragma: no cover
    n = price.shape[0]
    out_id = np.full(n, -1, np.int64)
    out_price = np.full(n, np.nan)
    out_touches = np.zeros(n, np.int64)
    out_first = np.full(n, -1, np.int64)
    out_last = np.full(n, -1, np.int64)
    lv_sum = np.zeros(n)
    lv_n = np.zeros(n, np.int64)
    lv_price = np.zeros(n)
    lv_first = np.zeros(n, np.int64)
    lv_last = np.zeros(n, np.int64)
    for j in range(ptr.shape[0] - 1):
        lo = ptr[j]
        nlev = 0
        for p in range(ptr[j], ptr[j + 1]):
            tp = tol[p]
            if not tp >= 0.0:
                continue
            # the nearest level (first of equals), then the tolerance: the same choice as the nearest among those
            # within tolerance, but a branch-free loop (selects; a NaN distance compares false and is never taken)
            pp = price[p]
            best = -1
            best_d = np.inf
            for lv in range(lo, lo + nlev):
                d = abs(pp - lv_price[lv])
                nearer = d < best_d
                best_d = d if nearer else best_d
                best = lv if nearer else best
            if not best_d <= tp:
                best = -1
            if best < 0:
                best = lo + nlev
                nlev += 1
                lv_first[best] = index[p]
                lv_last[best] = index[p]
            lv_sum[best] += price[p]
            lv_n[best] += 1
            lv_price[best] = lv_sum[best] / lv_n[best]
            lv_first[best] = min(lv_first[best], index[p])
            lv_last[best] = max(lv_last[best], index[p])
            out_id[p] = best
            out_price[p] = lv_price[best]
            out_touches[p] = lv_n[best]
            out_first[p] = lv_first[best]
            out_last[p] = lv_last[best]
    return out_id, out_price, out_touches, out_first, out_last


def cluster_reference(
    ptr: np.ndarray, index: np.ndarray, price: np.ndarray, tol: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Plain-Python twin of the clustering kernel (lists of dicts, one column at a time)."""
    n = len(price)
    out_id = np.full(n, -1, np.int64)
    out_price = np.full(n, np.nan)
    out_touches = np.zeros(n, np.int64)
    out_first = np.full(n, -1, np.int64)
    out_last = np.full(n, -1, np.int64)
    for j in range(len(ptr) - 1):
        levels: list[dict[str, float]] = []
        for p in range(int(ptr[j]), int(ptr[j + 1])):
            if not tol[p] >= 0:
                continue
            dists = [abs(price[p] - lv["price"]) for lv in levels]
            cands = [i for i, d in enumerate(dists) if d <= tol[p]]
            if cands:
                i = min(cands, key=lambda c: (dists[c], c))
            else:
                levels.append({"members": 0, "sum": 0.0, "price": 0.0, "first": index[p], "last": index[p]})
                i = len(levels) - 1
            lv = levels[i]
            lv["members"] += 1
            lv["sum"] += price[p]
            lv["price"] = lv["sum"] / lv["members"]
            lv["first"] = min(lv["first"], index[p])
            lv["last"] = max(lv["last"], index[p])
            out_id[p] = ptr[j] + i
            out_price[p], out_touches[p] = lv["price"], lv["members"]
            out_first[p], out_last[p] = lv["first"], lv["last"]
    return out_id, out_price, out_touches, out_first, out_last


def level_history(
    panel: Panel, params: LevelParams = LevelParams(), *, cache: IndicatorCache | None = None
) -> LevelHistory:
    """Cluster every column's pivots into levels (see the module docstring); the pivots and ATR are cached."""
    c = cache if cache is not None else IndicatorCache(panel)
    k = params.pivot_window
    ptr, index, confirm, price, kind = c.get(("pivots", k), lambda: panel_pivots(panel, k))
    cols = np.repeat(np.arange(panel.n_symbols), np.diff(ptr))
    if params.tolerance_mode == "atr":
        tol = params.tolerance * c.atr(params.atr_window)[confirm, cols]
    else:
        tol = params.tolerance / 100.0 * price
    level_id, level_price, touches, first, last = _cluster_kernel(
        ptr, index, price, np.ascontiguousarray(tol)
    )
    return LevelHistory(ptr, index, confirm, price, kind, level_id, level_price, touches, first, last)


def _strength(touches: np.ndarray, age: np.ndarray, half_life: float) -> np.ndarray:
    return touches * np.power(0.5, age / half_life)


def _last_valid_close(panel: Panel, row: int) -> np.ndarray:
    """Each column's last finite close on or before ``row``."""
    close = panel.close[: row + 1]
    valid = ~np.isnan(close)
    last = np.where(valid.any(axis=0), close.shape[0] - 1 - np.argmax(valid[::-1], axis=0), -1)
    out = np.full(panel.n_symbols, np.nan)
    ok = last >= 0
    out[ok] = close[last[ok], np.nonzero(ok)[0]]
    return out


def level_parts(
    panel: Panel, params: LevelParams, cache: IndicatorCache | None, history: LevelHistory | None = None
) -> list[R.EventParts]:
    """Raw parts of :func:`level_events` (``history``: a :func:`level_history` already computed with ``params``)."""
    h = history if history is not None else level_history(panel, params, cache=cache)
    sel = np.nonzero(h.touches == params.min_touches)[0]
    cols = np.repeat(np.arange(panel.n_symbols), np.diff(h.ptr))[sel]
    rows = h.confirm[sel]
    close = panel.close[rows, cols]
    level = h.level_price[sel]
    dates = panel.dates.astype("datetime64[ns]")  # the frame's unit: converted once per bar, not per event
    columns = {
        "level": level,
        "level_kind": np.where(level > close, *R.text_codes("level_kind", [R.RESISTANCE, R.SUPPORT])),
        "touches": h.touches[sel],
        "first_touch": dates[h.first_touch[sel]],
        "last_touch": dates[h.last_touch[sel]],
        "strength": _strength(h.touches[sel], rows - h.last_touch[sel], params.half_life),
    }
    kinds = np.full(len(sel), R.KIND_CODES[R.LEVEL_FORMED])
    return [R.EventParts(rows, cols, kinds, columns)]


def level_events(
    panel: Panel, params: LevelParams = LevelParams(), *, cache: IndicatorCache | None = None
) -> pd.DataFrame:
    """``level_formed`` events: a level reaches ``min_touches`` touches (dated on that pivot's confirmation bar).

    Fields: ``level``, ``level_kind`` (vs that day's close), ``touches``, ``first_touch``, ``last_touch``,
    ``strength``.
    """
    return R.assemble(panel, level_parts(panel, params, cache))


def levels_as_of(
    panel: Panel,
    as_of: str | np.datetime64 | None = None,
    params: LevelParams = LevelParams(),
    *,
    cache: IndicatorCache | None = None,
    include_inactive: bool = False,
) -> pd.DataFrame:
    """The qualified levels of every symbol as of a date (only pivots confirmed by then are used).

    Parameters
    ----------
    panel
        Daily bars.
    as_of
        Last date that may be used (default: the panel's last date).
    params
        Level parameters.
    cache
        Indicator cache of ``panel`` (pivots and ATR are reused across dates).
    include_inactive
        Also return levels whose last touch is older than ``max_age`` bars.

    Returns
    -------
    pandas.DataFrame
        Columns ``symbol, as_of, level, level_kind, touches, first_touch, last_touch, age, strength``, sorted by
        symbol and descending strength. ``level_kind`` compares the level with each symbol's last close on or
        before ``as_of``; ``age`` is in bars.
    """
    import pandas as pd

    cols_out = [
        "symbol",
        "as_of",
        "level",
        "level_kind",
        "touches",
        "first_touch",
        "last_touch",
        "age",
        "strength",
    ]
    row = panel.n_bars - 1 if as_of is None else panel.index_of(as_of)
    if panel.n_bars == 0:
        return pd.DataFrame({c: [] for c in cols_out})
    # the history of the whole panel, cut at the as-of bar: only pivots confirmed by then (no truncation
    # needed, and the same answer as on truncated data because clustering runs in confirmation order)
    h = level_history(panel, params, cache=cache)
    used = np.nonzero((h.level_id >= 0) & (h.confirm <= row))[0]
    # the last record of each level id is its state as of the panel's end (records are in confirmation order)
    ids = h.level_id[used]
    order = np.argsort(ids, kind="stable")
    ids_sorted = ids[order]
    last_of_id = np.r_[ids_sorted[1:] != ids_sorted[:-1], True] if len(ids_sorted) else np.array([], bool)
    rec = used[order][last_of_id]
    cols = np.repeat(np.arange(panel.n_symbols), np.diff(h.ptr))[rec]
    age = row - h.last_touch[rec]
    keep = h.touches[rec] >= params.min_touches
    if not include_inactive:
        keep &= age <= params.max_age
    rec, cols, age = rec[keep], cols[keep], age[keep]
    close = _last_valid_close(panel, max(row, 0))[cols]
    level = h.level_price[rec]
    frame = pd.DataFrame(
        {
            "symbol": pd.array(np.asarray((*panel.symbols, ""), dtype=object)[cols], dtype="str"),
            "as_of": np.full(len(rec), panel.dates[max(row, 0)]).astype("datetime64[ns]"),
            "level": level,
            "level_kind": pd.array(
                np.where(level > close, R.RESISTANCE, R.SUPPORT).astype(object), dtype="str"
            ),
            "touches": h.touches[rec],
            "first_touch": panel.dates[h.first_touch[rec]].astype("datetime64[ns]"),
            "last_touch": panel.dates[h.last_touch[rec]].astype("datetime64[ns]"),
            "age": age,
            "strength": _strength(h.touches[rec], age, params.half_life),
        }
    )
    return frame.sort_values(["symbol", "strength", "level"], ascending=[True, False, True]).reset_index(
        drop=True
    )
