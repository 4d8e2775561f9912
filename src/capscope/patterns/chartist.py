"""Chartist mode: multi-scale causal pivots -> shapes -> life-cycle -> :class:`PatternRecord`.

Pipeline for one symbol (bars with a NaN high, low or close are skipped; positions below count real bars):

1. **Pivots at several scales.** :func:`~capscope.indicators.pivots.zigzag_pivots` with each threshold of
   ``ChartistParams.scales`` (multiples of the 14-bar Wilder ATR), so a four-month index formation (large
   swings) and a three-week stock formation (small swings) are both seen as five clean pivots at some scale.
2. **Shapes** on windows of consecutive pivots (:mod:`capscope.patterns.shapes`). Bottoms are detected on the
   series, tops on the mirrored series (prices negated), two-sided shapes directly.
3. **Life-cycle**, bar by bar after the last point, using only bars up to each evaluated bar:

   * ``forming`` from the confirmation bar of the last pivot (all points in, neckline known);
   * ``confirmed`` on the first close beyond the neckline by ``breakout_atr`` x ATR (for bottoms
     ``close > nl(t) + 0.25 ATR``; tops mirrored; two-sided shapes on either boundary);
   * ``failed`` before a breakout when a close crosses the invalidation price (the head, the lowest bottom)
     or when no breakout came within ``expiry`` x the formation width bars after the last point (or, for
     triangles, by the apex); after a breakout when a close falls back through the neckline by
     ``fail_atr`` x ATR (a throwback that only touches the neckline is not a failure);
   * ``target_reached`` when a bar's high (low for bearish breakouts) reaches the measured-move target:
     neckline price at the breakout bar +- the pattern height (head to neckline for head-and-shoulders).

   After the breakout the neckline level is held at its breakout-bar value, so a sloped neckline is not
   extrapolated forever. A status becomes knowable on ``max(bar, confirmation bar of the last pivot)``.
4. **Dedupe** at the as-of date: one formation found at several scales (same kind, every point within
   ``max(1, dedupe_tol x width)`` bars) is kept once, the highest quality (then the smallest scale).

Detection runs once over all bars; the record for an as-of date ``D`` is the state of each formation whose last
pivot was confirmed by ``D``, taken from its status history at ``D``. That history is computed causally, so the
result equals running on data truncated at ``D`` (tested).
"""

from __future__ import annotations

import functools
import gc
import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from capscope.indicators.pivots import wilder_atr, zigzag_pivots_atr
from capscope.patterns.records import (
    CHARTIST_KINDS,
    MODE_CHARTIST,
    STATUS_CONFIRMED,
    STATUS_FAILED,
    STATUS_FORMING,
    STATUS_TARGET_REACHED,
    Breakout,
    Line,
    PatternRecord,
    Point,
    trusted_records,
)
from capscope.patterns.shapes import Candidate, ShapeParams, find_bottoms, find_two_sided

__all__ = [
    "ChartistParams",
    "PanelPatterns",
    "SeriesPatterns",
    "detect_blocks",
    "detect_panel",
    "detect_series",
    "pass_threads",
]

_MIRROR = {
    "inverse_head_and_shoulders": "head_and_shoulders",
    "double_bottom": "double_top",
    "triple_bottom": "triple_top",
}
_MIRROR_ROLES = {"bottom": "top", "peak": "trough"}
_BOTTOM_KINDS = frozenset(_MIRROR)
_TOP_KINDS = frozenset(_MIRROR.values())
_TWO_SIDED = frozenset(
    {"ascending_triangle", "descending_triangle", "symmetric_triangle", "rectangle", "broadening"}
)


@dataclass(frozen=True)
class ChartistParams:
    """Parameters of the chartist mode (defaults documented in ``docs/patterns.md``).

    Attributes
    ----------
    scales
        Zig-zag thresholds in ATR multiples (a geometric ladder, ratio 1.5).
    atr_window
        Wilder ATR window for the zig-zag and the breakout / failure buffers.
    breakout_atr
        A breakout is a close beyond the neckline by at least this many ATRs.
    fail_atr
        After a breakout, a close back through the (frozen) neckline by this many ATRs fails the pattern.
    expiry
        A formation with no breakout within ``max(min_expiry_bars, expiry * width)`` bars after its last
        point has failed (``failure = "expired"``).
    min_expiry_bars
        Lower bound of that horizon.
    dedupe_tol
        Two findings are the same formation when each point is within ``max(1, dedupe_tol * width)`` bars.
    shapes
        Geometric thresholds of the shapes.
    """

    scales: tuple[float, ...] = (2.0, 3.0, 4.5, 6.75)
    atr_window: int = 14
    breakout_atr: float = 0.25
    fail_atr: float = 1.0
    expiry: float = 1.0
    min_expiry_bars: int = 10
    dedupe_tol: float = 0.1
    shapes: ShapeParams = field(default_factory=ShapeParams)


@dataclass
class _State:
    bar: int  # compressed bar on which this status became knowable
    status: str
    breakout: int | None = None  # compressed bar of the breakout close
    direction: int = 0  # +1 up, -1 down (in natural prices)
    level: float | None = None  # neckline level at the breakout (natural prices)
    target: float | None = None
    invalidation: float | None = None
    failure: str | None = None


@dataclass
class _Formation:
    cand: Candidate
    sign: int  # +1 natural, -1 found on the mirrored series
    kind: str
    scale: float
    bars: np.ndarray  # compressed bars of the points
    confirms: np.ndarray  # compressed confirmation bars of the points
    prices: np.ndarray  # natural prices of the points
    states: list[_State]

    @property
    def known(self) -> int:
        return int(self.confirms.max())

    def state_at(self, bar: int) -> _State | None:
        last = None
        for st in self.states:
            if st.bar <= bar:
                last = st
            else:
                break
        return last


def _first(mask: np.ndarray) -> int:
    """Position of the first True, or -1."""
    if mask.size == 0:
        return -1
    k = int(np.argmax(mask))
    return k if mask[k] else -1


def _after_breakout(
    t_b: int,
    level: float,
    target: float,
    high_o: np.ndarray,
    close_o: np.ndarray,
    atr: np.ndarray,
    p: ChartistParams,
) -> tuple[int, str] | None:
    """First bar from ``t_b`` on where the target is reached or the breakout fails (oriented prices)."""
    hit = high_o[t_b:] >= target
    with np.errstate(invalid="ignore"):
        back = close_o[t_b:] < level - p.fail_atr * atr[t_b:]
    k_hit, k_back = _first(hit), _first(back)
    if k_hit < 0 and k_back < 0:
        return None
    if k_back < 0 or (0 <= k_hit <= k_back):
        return t_b + k_hit, STATUS_TARGET_REACHED
    return t_b + k_back, STATUS_FAILED


def _life_one_sided(
    f: _Formation, close: np.ndarray, high: np.ndarray, low: np.ndarray, atr: np.ndarray, p: ChartistParams
) -> list[_State]:
    """Status history of a bottom (``sign=+1``) or top (``sign=-1``) formation."""
    c = f.cand
    s = f.sign
    close_o = close * s
    high_o = high if s > 0 else -low
    known = f.known
    t_first, t_last = int(f.bars[1]), int(f.bars[-1])  # bars[0] is the prior-trend pivot
    assert c.neckline is not None
    n0, p0, n1, p1 = c.neckline
    slope = 0.0 if n1 == n0 else (p1 - p0) / (n1 - n0)
    inv = float(c.invalidation) if c.invalidation is not None else -np.inf
    horizon = t_last + max(p.min_expiry_bars, round(p.expiry * (t_last - t_first)))
    provisional = (p0 + slope * (t_last - n0) + c.height) * s
    states = [_State(known, STATUS_FORMING, target=provisional, invalidation=inv * s)]
    n = close.shape[0]
    stop = min(n, horizon + 2)
    bars = np.arange(t_last + 1, stop)
    if bars.size == 0:
        return states
    neck = p0 + slope * (bars - n0)
    with np.errstate(invalid="ignore"):
        brk = close_o[t_last + 1 : stop] > neck + p.breakout_atr * atr[t_last + 1 : stop]
    broke_inv = close_o[t_last + 1 : stop] < inv
    expired = bars > horizon
    k = _first(brk | broke_inv | expired)
    if k < 0:
        return states
    t = int(bars[k])
    if not brk[k]:
        reason = "invalidation" if broke_inv[k] else "expired"
        states.append(
            _State(max(t, known), STATUS_FAILED, target=provisional, invalidation=inv * s, failure=reason)
        )
        return states
    level = float(neck[k])
    target = level + c.height
    states.append(
        _State(
            max(t, known),
            STATUS_CONFIRMED,
            breakout=t,
            direction=s,
            level=level * s,
            target=target * s,
            invalidation=inv * s,
        )
    )
    end = _after_breakout(t, level, target, high_o, close_o, atr, p)
    if end is not None:
        last = states[-1]
        states.append(
            _State(
                max(end[0], known),
                end[1],
                breakout=t,
                direction=s,
                level=last.level,
                target=last.target,
                invalidation=last.invalidation,
                failure="neckline" if end[1] == STATUS_FAILED else None,
            )
        )
    return states


def _life_two_sided(
    f: _Formation, close: np.ndarray, high: np.ndarray, low: np.ndarray, atr: np.ndarray, p: ChartistParams
) -> list[_State]:
    """Status history of a triangle, rectangle or broadening formation (breakout either way)."""
    c = f.cand
    assert c.upper is not None and c.lower is not None
    known = f.known
    t_first, t_last = int(f.bars[0]), int(f.bars[-1])
    u0, up0, u1, up1 = c.upper
    l0, lp0, l1, lp1 = c.lower
    su = (up1 - up0) / (u1 - u0)
    sl = (lp1 - lp0) / (l1 - l0)
    horizon = t_last + max(p.min_expiry_bars, round(p.expiry * (t_last - t_first)))
    if su < sl:  # converging lines: the apex ends the formation
        apex = u0 + (lp0 - up0) / (su - sl)
        horizon = min(horizon, int(np.floor(apex)))
    states = [_State(known, STATUS_FORMING)]
    n = close.shape[0]
    stop = min(n, horizon + 2)
    bars = np.arange(t_last + 1, stop)
    if bars.size == 0:
        return states
    upper = up0 + su * (bars - u0)
    lower = lp0 + sl * (bars - l0)
    buf = p.breakout_atr * atr[t_last + 1 : stop]
    seg = close[t_last + 1 : stop]
    with np.errstate(invalid="ignore"):
        brk_up = seg > upper + buf
        brk_dn = seg < lower - buf
    expired = bars > horizon
    k = _first(brk_up | brk_dn | expired)
    if k < 0:
        return states
    t = int(bars[k])
    if not (brk_up[k] or brk_dn[k]):
        states.append(_State(max(t, known), STATUS_FAILED, failure="expired"))
        return states
    s = 1 if brk_up[k] else -1
    level = float(upper[k] if s > 0 else lower[k])
    opposite = float(lower[k] if s > 0 else upper[k])
    target = level + s * c.height
    states.append(
        _State(
            max(t, known),
            STATUS_CONFIRMED,
            breakout=t,
            direction=s,
            level=level,
            target=target,
            invalidation=opposite,
        )
    )
    high_o = high if s > 0 else -low
    end = _after_breakout(t, level * s, target * s, high_o, close * s, atr, p)
    if end is not None:
        states.append(
            _State(
                max(end[0], known),
                end[1],
                breakout=t,
                direction=s,
                level=level,
                target=target,
                invalidation=opposite,
                failure="neckline" if end[1] == STATUS_FAILED else None,
            )
        )
    return states


@dataclass
class SeriesPatterns:
    """All chartist formations of one symbol with their status histories (detection over all bars).

    Use :meth:`records` to read the patterns as of any bar.
    """

    symbol: str
    dates: np.ndarray  # datetime.date objects of the valid (non-NaN) bars
    positions: np.ndarray  # position of each valid bar in the input series
    close: np.ndarray
    formations: list[_Formation]
    params: ChartistParams

    def records(self, as_of_position: int | None = None) -> list[PatternRecord]:
        """Pattern records as of a position of the input series (default: its last bar), deduplicated."""
        if self.dates.size == 0:
            return []
        if as_of_position is None:
            bar = self.dates.size - 1
        else:
            bar = int(np.searchsorted(self.positions, as_of_position, side="right")) - 1
        if bar < 0:
            return []
        visible = [(f, st) for f in self.formations if (st := f.state_at(bar)) is not None]
        kept = _dedupe(visible, self.params.dedupe_tol)
        out = [self._record(f, st) for f, st in kept]
        out.sort(key=lambda r: (r.date, r.kind, r.points[0].date))
        return out

    def _record(self, f: _Formation, st: _State) -> PatternRecord:
        c = f.cand
        dates = self.dates
        roles = [_role(r, f.sign) for r in c.roles]
        points = tuple(
            Point(
                role,
                dates[int(b)],
                float(pr),
                index=int(self.positions[int(b)]),
                confirm_date=dates[int(cf)],
            )
            for role, b, pr, cf in zip(roles, f.bars, f.prices, f.confirms, strict=True)
        )
        start = 0 if f.kind in _TWO_SIDED else 1  # bars[0] of a reversal shape is the prior-trend pivot
        extra: dict[str, Any] = {"height": c.height, "width_bars": int(f.bars[-1] - f.bars[start])}
        extra.update(c.extra)
        neckline: Line | None = None
        if c.neckline is not None:
            neckline = self._line(c.neckline, f.sign)
        if c.upper is not None and c.lower is not None:
            upper, lower = self._line(c.upper, 1), self._line(c.lower, 1)
            extra["upper"], extra["lower"] = upper, lower
            if st.breakout is not None:
                neckline = upper if st.direction > 0 else lower
        breakout = None
        if st.breakout is not None:
            breakout = Breakout(
                dates[st.breakout], float(self.close[st.breakout]), index=int(self.positions[st.breakout])
            )
            extra["direction"] = "up" if st.direction > 0 else "down"
            extra["neckline_at_breakout"] = st.level
        if st.failure is not None:
            extra["failure"] = st.failure
        return PatternRecord(
            symbol=self.symbol,
            kind=f.kind,
            status=st.status,
            points=points,
            neckline=neckline,
            breakout=breakout,
            target=st.target,
            invalidation=st.invalidation,
            quality=c.quality,
            date=dates[st.bar],
            mode=MODE_CHARTIST,
            scale=f.scale,
            extra=extra,
        )

    def _line(self, line: tuple[float, float, float, float], sign: int) -> Line:
        t0, p0, t1, p1 = line
        return Line(
            self.dates[int(t0)],
            p0 * sign,
            self.dates[int(t1)],
            p1 * sign,
            index0=int(self.positions[int(t0)]),
            index1=int(self.positions[int(t1)]),
        )


def _role(role: str, sign: int) -> str:
    if sign > 0:
        return role
    for a, b in _MIRROR_ROLES.items():
        role = role.replace(a, b)
    return role


def _dedupe(visible: list[tuple[_Formation, _State]], tol: float) -> list[tuple[_Formation, _State]]:
    """Keep one finding per formation seen at several scales: best quality, then smallest scale."""
    order = sorted(visible, key=lambda fs: (-fs[0].cand.quality, fs[0].scale, int(fs[0].bars[0])))
    kept: list[tuple[_Formation, _State]] = []
    by_kind: dict[tuple[str, int], list[np.ndarray]] = {}
    for f, st in order:
        core = f.bars[1:] if f.kind not in _TWO_SIDED else f.bars
        slack = max(1.0, tol * float(core[-1] - core[0]))
        same = by_kind.setdefault((f.kind, len(core)), [])
        if any(np.all(np.abs(g - core) <= slack) for g in same if abs(int(g[0]) - int(core[0])) <= slack):
            continue
        same.append(core)
        kept.append((f, st))
    return kept


def detect_series(
    dates: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    *,
    symbol: str = "",
    kinds: Iterable[str] | None = None,
    params: ChartistParams | None = None,
) -> SeriesPatterns:
    """Detect chartist formations in one series over all its bars (status histories included).

    Parameters
    ----------
    dates
        ``datetime64[D]`` dates of the bars.
    high, low, close
        1-D price arrays (NaN where there is no bar).
    symbol
        Symbol written into the records.
    kinds
        Kinds to look for (default: all chartist kinds).
    params
        Thresholds (default :class:`ChartistParams`).

    Returns
    -------
    SeriesPatterns
        Call ``.records(as_of_position)`` for the records as of a bar.
    """
    p = params or ChartistParams()
    wanted = frozenset(CHARTIST_KINDS if kinds is None else kinds)
    h, lo, c = (np.asarray(a, dtype=np.float64) for a in (high, low, close))
    valid = np.flatnonzero(~(np.isnan(h) | np.isnan(lo) | np.isnan(c)))
    hv, lv, cv = h[valid], lo[valid], c[valid]
    dv = np.asarray(dates).astype("datetime64[D]")[valid].astype(object)  # datetime.date objects
    atr = wilder_atr(hv, lv, cv, p.atr_window)
    formations: list[_Formation] = []
    bottoms = wanted & _BOTTOM_KINDS
    tops = frozenset(k for k, v in _MIRROR.items() if v in wanted)
    two = wanted & _TWO_SIDED
    for scale in p.scales:
        piv = zigzag_pivots_atr(hv, lv, atr, scale)
        if piv.size < 4:
            continue
        t, x, k, conf = piv.index, piv.price, piv.kind.astype(np.int64), piv.confirm_index
        found: list[tuple[Candidate, int]] = []
        if bottoms:
            found += [(cd, 1) for cd in find_bottoms(t, x, k, p.shapes, bottoms)]
        if tops:
            found += [(cd, -1) for cd in find_bottoms(t, -x, -k, p.shapes, tops)]
        if two:
            found += [(cd, 1) for cd in find_two_sided(t, x, k, cv, p.shapes, two)]
        for cand, sign in found:
            idx = np.array(cand.pivots)
            kind = _MIRROR[cand.kind] if sign < 0 else cand.kind
            f = _Formation(cand, sign, kind, scale, t[idx], conf[idx], x[idx], [])
            if kind in _TWO_SIDED:
                f.states = _life_two_sided(f, cv, hv, lv, atr, p)
            else:
                f.states = _life_one_sided(f, cv, hv, lv, atr, p)
            formations.append(f)
    return SeriesPatterns(symbol, dv, valid, cv, formations, p)


# ---------------------------------------------------------------------------------------------------------
# the numba pass over a whole panel (the functions above are its plain-Python twin)

_FAILURES = (None, "invalidation", "expired", "neckline")
_STATUSES = (STATUS_FORMING, STATUS_CONFIRMED, STATUS_FAILED, STATUS_TARGET_REACHED)
#: columns of a panel handed to the numba pass at once (progress is reported per block)
PANEL_BLOCK = 64


def _kernel_params(p: ChartistParams) -> np.ndarray:
    from capscope.patterns import chartist_kernels as ck

    fp = np.zeros(ck.N_PARAMS)
    s = p.shapes
    fp[ck.P_BREAKOUT_ATR], fp[ck.P_FAIL_ATR], fp[ck.P_EXPIRY], fp[ck.P_DEDUPE_TOL] = (
        p.breakout_atr,
        p.fail_atr,
        p.expiry,
        p.dedupe_tol,
    )
    fp[ck.P_MIN_BARS], fp[ck.P_PRIOR_TREND] = s.min_bars, s.prior_trend
    fp[ck.P_HS_BALANCE], fp[ck.P_HS_SHOULDER_MIN], fp[ck.P_HS_HEAD_MARGIN] = (
        s.hs_balance,
        s.hs_shoulder_min,
        s.hs_head_margin,
    )
    fp[ck.P_HS_SYMMETRY], fp[ck.P_HS_NECKLINE_SLOPE], fp[ck.P_EQUAL_TOL] = (
        s.hs_symmetry,
        s.hs_neckline_slope,
        s.equal_tol,
    )
    fp[ck.P_FLAT_TOL], fp[ck.P_FIT_TOL], fp[ck.P_MIN_END_HEIGHT] = s.flat_tol, s.fit_tol, s.min_end_height
    fp[ck.P_MIN_EXPIRY_BARS], fp[ck.P_ATR_WINDOW] = p.min_expiry_bars, p.atr_window
    return fp


@dataclass
class PassState:
    """Where the pass's recursions stand after the last panel row, so :func:`advance_panel` can carry it on.

    Attributes
    ----------
    zigzag
        ``(n_symbols, n_scales, 5)``: each column's zig-zag state per scale after its last bar.
    atr_last
        ``(n_symbols,)``: each column's ATR on its last bar (NaN while undefined).
    wanted
        The kinds looked for (a flag per kernel kind code).
    """

    zigzag: np.ndarray
    atr_last: np.ndarray
    wanted: np.ndarray


@dataclass
class PanelPatterns:
    """All chartist formations of a block of symbols with their status histories (the numba pass).

    The tables are those of :func:`capscope.patterns.chartist_kernels.detect_panel_kernel`; use
    :meth:`records` to read the patterns as of a panel row. ``state`` (absent on partial copies) lets
    :func:`advance_panel` extend the pass by one row.
    """

    symbols: tuple[str, ...]
    dates: np.ndarray  # datetime64[D] of each panel row
    date_objects: np.ndarray  # the same dates as datetime.date objects (object array)
    close: np.ndarray  # (n_bars, n_symbols) of this block
    fi: np.ndarray
    ff: np.ndarray
    fptr: np.ndarray
    valid: np.ndarray
    vptr: np.ndarray
    params: ChartistParams
    state: PassState | None = None

    def records(
        self, as_of_position: int | None = None, min_quality: float = 0.0
    ) -> list[list[PatternRecord]]:
        """Per symbol, the pattern records as of a panel row, deduplicated and sorted as
        :meth:`SeriesPatterns.records` sorts them.

        Every field is gathered for all records at once from the formation tables (NumPy indexing), then
        each record part becomes one Python object: the twin's values, field for field.

        Parameters
        ----------
        as_of_position
            Panel row of the as-of date (default: the last row).
        min_quality
            Records of lower quality are left out (before they are built).

        Returns
        -------
        list[list[PatternRecord]]
            One list per symbol of the block, in the order of :attr:`symbols`.
        """
        from capscope.patterns import chartist_kernels as ck

        row = len(self.dates) - 1 if as_of_position is None else int(as_of_position)
        kept, slots = ck.select_as_of(
            self.fi, self.ff, self.fptr, self.valid, self.vptr, row, float(self.params.dedupe_tol)
        )
        good = self.ff[kept, ck.F_QUALITY] >= min_quality
        kept, slots = kept[good], slots[good]
        fi, ff = self.fi[kept], self.ff[kept]
        # the state at the as-of bar: its integer and float columns, one row per formation
        at = np.arange(kept.shape[0])
        fi_st = fi[at[:, None], ck.I_ST + slots[:, None] * ck.ST_I + np.arange(ck.ST_I)]
        ff_st = ff[at[:, None], ck.F_ST + slots[:, None] * ck.ST_F + np.arange(ck.ST_F)]
        # SeriesPatterns.records' order within a symbol, (status date, kind, first point's date), stable;
        # symbols in panel order
        col = fi[:, ck.I_COL]
        day = self.dates.astype("datetime64[D]").view(np.int64)
        status_day = day[self.valid[self.vptr[col] + fi_st[:, 0]]]
        first_day = day[self.valid[self.vptr[col] + fi[:, ck.I_BARS]]]
        order = np.lexsort((first_day, _names().kind_rank[fi[:, ck.I_KIND]], status_day, col))
        with _collector_paused():
            built = self._build(ck, fi[order], ff[order], fi_st[order], ff_st[order])
        ends = np.cumsum(np.bincount(col, minlength=len(self.symbols))).tolist()
        return [built[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]

    def _build(
        self, ck: Any, fi: np.ndarray, ff: np.ndarray, fi_st: np.ndarray, ff_st: np.ndarray
    ) -> list[PatternRecord]:
        """The records of formation rows ``fi``/``ff`` in the states ``fi_st``/``ff_st`` (``ck``: the kernel
        module, for its column indices); values as :meth:`SeriesPatterns._record` makes them."""
        n = fi.shape[0]
        col = fi[:, ck.I_COL]
        base = self.vptr[col]  # where each formation's column starts in `valid`
        code, sign = fi[:, ck.I_KIND], fi[:, ck.I_SIGN]
        two = code >= ck.K_ASC
        st_bar, status, brk, direction, failure = fi_st.T
        broke = brk >= 0
        # points: one flat list, record by record
        npts = fi[:, ck.I_NPTS]
        has = np.arange(ck.MAX_POINTS) < npts[:, None]
        rows = self.valid[(base[:, None] + fi[:, ck.I_BARS : ck.I_BARS + ck.MAX_POINTS])[has]]
        confirms = self.valid[(base[:, None] + fi[:, ck.I_CONF : ck.I_CONF + ck.MAX_POINTS])[has]]
        names = _names()
        role_set = np.where(two, ck.N_KINDS + (fi[:, ck.I_PKIND] > 0), code)
        points = trusted_records(
            Point,
            [
                {"role": role, "date": day, "price": price, "index": index, "confirm_date": confirm}
                for role, day, price, index, confirm in zip(
                    names.roles[role_set][has].tolist(),
                    self.date_objects[rows].tolist(),
                    ff[:, ck.F_PRICES : ck.F_PRICES + ck.MAX_POINTS][has].tolist(),
                    rows.tolist(),
                    self.date_objects[confirms].tolist(),
                    strict=True,
                )
            ],
        )
        ends = np.cumsum(npts)
        point_sets = [tuple(points[a:b]) for a, b in zip((ends - npts).tolist(), ends.tolist(), strict=True)]
        # lines: the neckline of one-sided kinds, the upper and lower boundaries of two-sided ones
        one_at, two_at = np.flatnonzero(~two), np.flatnonzero(two)
        necklines: list[Line | None] = [None] * n
        uppers: list[Line | None] = [None] * n
        lowers: list[Line | None] = [None] * n
        for into, where, first, signs in (
            (necklines, one_at, ck.F_NECK, sign[one_at]),
            (uppers, two_at, ck.F_UPPER, 1),
            (lowers, two_at, ck.F_LOWER, 1),
        ):
            for i, line in zip(
                where.tolist(), self._lines(ff[where], base[where], first, signs), strict=True
            ):
                into[i] = line
        # breakouts
        breakouts: list[Breakout | None] = [None] * n
        b_at = np.flatnonzero(broke)
        b_rows = self.valid[base[b_at] + brk[b_at]]
        b_made = trusted_records(
            Breakout,
            [
                {"date": day, "price": price, "index": index}
                for day, price, index in zip(
                    self.date_objects[b_rows].tolist(),
                    self.close[b_rows, col[b_at]].tolist(),
                    b_rows.tolist(),
                    strict=True,
                )
            ],
        )
        for i, made in zip(b_at.tolist(), b_made, strict=True):
            breakouts[i] = made
        level, target, invalidation = (x.astype(object) for x in ff_st.T)
        target[np.isnan(ff_st[:, 1])] = None
        invalidation[np.isnan(ff_st[:, 2])] = None
        is_hs = (code == ck.K_IHS) | (code == ck.K_HS)
        symbols = np.asarray(self.symbols, dtype=object)
        scales = np.asarray(self.params.scales, dtype=object)
        fields = []
        for (
            symbol,
            kind,
            state,
            pts,
            neckline,
            upper,
            lower,
            breakout,
            tgt,
            inv,
            quality,
            day,
            scale,
            height,
            width,
            hs,
            balance,
            symmetry,
            up,
            lvl,
            fail,
        ) in zip(
            symbols[col].tolist(),
            names.kinds[code].tolist(),
            names.statuses[status].tolist(),
            point_sets,
            necklines,
            uppers,
            lowers,
            breakouts,
            target.tolist(),
            invalidation.tolist(),
            ff[:, ck.F_QUALITY].tolist(),
            self.date_objects[self.valid[base + st_bar]].tolist(),
            scales[fi[:, ck.I_SCALE]].tolist(),
            ff[:, ck.F_HEIGHT].tolist(),
            fi[:, ck.I_WIDTH].tolist(),
            is_hs.tolist(),
            ff[:, ck.F_BALANCE].tolist(),
            ff[:, ck.F_SYMMETRY].tolist(),
            (direction > 0).tolist(),
            level.tolist(),
            failure.tolist(),
            strict=True,
        ):
            # the twin's key order: height, width_bars, the shape's own extras, boundaries, breakout, failure
            extra: dict[str, Any] = {"height": height, "width_bars": width}
            if hs:
                extra["shoulder_balance"] = balance
                extra["time_symmetry"] = symmetry
            if upper is not None:
                extra["upper"], extra["lower"] = upper, lower
                if breakout is not None:
                    neckline = upper if up else lower
            if breakout is not None:
                extra["direction"] = "up" if up else "down"
                extra["neckline_at_breakout"] = lvl
            if fail:
                extra["failure"] = _FAILURES[fail]
            fields.append(
                {
                    "symbol": symbol,
                    "kind": kind,
                    "status": state,
                    "points": pts,
                    "neckline": neckline,
                    "breakout": breakout,
                    "target": tgt,
                    "invalidation": inv,
                    "quality": quality,
                    "date": day,
                    "mode": MODE_CHARTIST,
                    "scale": scale,
                    "extra": extra,
                }
            )
        built: list[PatternRecord] = trusted_records(PatternRecord, fields)
        return built

    def _lines(self, ff: np.ndarray, base: np.ndarray, first: int, sign: np.ndarray | int) -> list[Line]:
        """Lines from the float columns ``first .. first + 3`` (bar, price, bar, price; prices times
        ``sign``) of formation rows ``ff`` whose columns start at ``base`` in ``valid``."""
        t0, p0, t1, p1 = ff[:, first : first + 4].T
        r0 = self.valid[base + t0.astype(np.int64)]
        r1 = self.valid[base + t1.astype(np.int64)]
        made: list[Line] = trusted_records(
            Line,
            [
                {"date0": d0, "price0": q0, "date1": d1, "price1": q1, "index0": i0, "index1": i1}
                for d0, q0, d1, q1, i0, i1 in zip(
                    self.date_objects[r0].tolist(),
                    (p0 * sign).tolist(),
                    self.date_objects[r1].tolist(),
                    (p1 * sign).tolist(),
                    r0.tolist(),
                    r1.tolist(),
                    strict=True,
                )
            ],
        )
        return made


def _two_sided_roles(kinds: list[int]) -> tuple[str, ...]:
    counts = {1: 0, -1: 0}
    roles = []
    for k in kinds:
        counts[k] += 1
        roles.append(f"{'upper' if k > 0 else 'lower'}_{counts[k]}")
    return tuple(roles)


def _bottom_roles() -> dict[int, tuple[str, ...]]:
    ihs = ("prior_trend", "left_shoulder", "neckline_left", "head", "neckline_right", "right_shoulder")
    double = ("prior_trend", "first_bottom", "peak", "second_bottom")
    triple = ("prior_trend", "first_bottom", "first_peak", "second_bottom", "second_peak", "third_bottom")
    out = {0: ihs, 1: double, 2: triple}
    for code in range(3):
        out[code + 3] = tuple(_role(r, -1) for r in out[code])
    return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the records are built.

    The records are long-lived objects created by the ten thousand; with the collector on, each block's
    records set off a few full collections that re-scan every live object (about 30 % of ``find_patterns``'s
    time, measured). Records hold no reference cycles, so nothing is left for the collector to find; its
    allocation counts carry on once it is back on. Left off if the caller had turned it off.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


class _Names(NamedTuple):
    """The names behind the kernel's codes, as object arrays to gather them for many records at once."""

    kinds: np.ndarray  # kind name by kind code
    kind_rank: np.ndarray  # position of each kind code's name in sorted order (records sort by name)
    statuses: np.ndarray  # status name by status code
    roles: np.ndarray  # (role set, point) -> role; role sets: kind codes, then two-sided by first pivot


@functools.cache
def _names() -> _Names:
    from capscope.patterns import chartist_kernels as ck

    kinds = np.asarray(ck.KIND_NAMES, dtype=object)
    rank = np.argsort(np.argsort(np.asarray(ck.KIND_NAMES), kind="stable"), kind="stable")
    roles = np.full((ck.N_KINDS + 2, ck.MAX_POINTS), "", dtype=object)
    for code, names in _bottom_roles().items():
        roles[code, : len(names)] = names
    for first, row in ((-1, ck.N_KINDS), (1, ck.N_KINDS + 1)):  # first pivot a low / a high
        names = _two_sided_roles([first, -first, first, -first, first])
        roles[row, : len(names)] = names
    return _Names(kinds, rank, np.asarray(_STATUSES, dtype=object), roles)


def detect_panel(
    dates: np.ndarray,
    symbols: tuple[str, ...],
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    *,
    kinds: Iterable[str] | None = None,
    params: ChartistParams | None = None,
    date_objects: np.ndarray | Sequence[Any] | None = None,
) -> PanelPatterns:
    """Detect chartist formations in every column of a time-major panel in one numba pass.

    The same formations, status histories and records as :func:`detect_series` column by column (its
    plain-Python twin; tested equal), at kernel speed.

    Parameters
    ----------
    dates
        ``datetime64[D]`` dates of the panel rows.
    symbols
        One symbol per column.
    high, low, close
        ``(n_bars, n_symbols)`` panels, NaN where a symbol has no bar.
    kinds
        Kinds to look for (default: all chartist kinds).
    params
        Thresholds (default :class:`ChartistParams`).
    date_objects
        ``datetime.date`` of each row when the caller has them already (several blocks of one panel): an
        object array (used as it is) or a sequence.

    Returns
    -------
    PanelPatterns
        Call ``.records(as_of_position)`` for each symbol's records as of a panel row.
    """
    from capscope.patterns import chartist_kernels as ck

    p = params or ChartistParams()
    wanted_names = frozenset(CHARTIST_KINDS if kinds is None else kinds)
    wanted = np.array([name in wanted_names for name in ck.KIND_NAMES], dtype=np.bool_)
    h, lo, c = (np.ascontiguousarray(a, dtype=np.float64) for a in (high, low, close))
    fi, ff, fptr, valid, vptr, zigzag, atr_last = ck.detect_panel_kernel(
        h, lo, c, np.asarray(p.scales, dtype=np.float64), wanted, _kernel_params(p)
    )
    days = np.asarray(dates).astype("datetime64[D]")
    state = PassState(zigzag, atr_last, wanted)
    return PanelPatterns(
        tuple(symbols), days, _date_objects(days, date_objects), c, fi, ff, fptr, valid, vptr, p, state
    )


def _date_objects(days: np.ndarray, date_objects: np.ndarray | Sequence[Any] | None) -> np.ndarray:
    if date_objects is None:
        return days.astype(object)
    if isinstance(date_objects, np.ndarray):
        return date_objects
    objects = np.empty(len(date_objects), dtype=object)
    objects[:] = date_objects
    return objects


def advance_panel(
    found: PanelPatterns,
    dates: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    *,
    date_objects: np.ndarray | Sequence[Any] | None = None,
) -> PanelPatterns:
    """The pass of :func:`detect_panel` over a panel one row longer than ``found``'s, from ``found``'s tables.

    ``found`` is consumed: its tables are updated in place and belong to the result. Each column with a bar on
    the new row is carried over by one bar (:func:`capscope.patterns.chartist_kernels.advance_panel_kernel`:
    ATR, zig-zag and every formation's life-cycle stepped); a column on which a pivot is confirmed that day, or
    whose ATR was still in its seed, is detected again over its whole history. The result equals
    ``detect_panel`` on the longer panel table for table (tested on every row of ragged generated panels), at
    a cost of about one bar per column instead of the whole history.

    Parameters
    ----------
    found
        The pass over the panel without its last row (from :func:`detect_panel` or this function).
    dates, high, low, close
        The longer panel: ``found``'s rows, unchanged, and one more row.
    date_objects
        ``datetime.date`` of each row when the caller has them.

    Returns
    -------
    PanelPatterns
        The pass over the longer panel.
    """
    from capscope.patterns import chartist_kernels as ck

    days = np.asarray(dates).astype("datetime64[D]")
    if found.state is None:
        raise ValueError("this pass cannot be carried on (a partial copy)")
    n = len(found.dates)
    if len(days) != n + 1 or not np.array_equal(days[:n], found.dates):
        raise ValueError("the panel must be the pass's panel with one more row")
    p, st = found.params, found.state
    h, lo, c = (np.asarray(a, dtype=np.float64) for a in (high, low, close))  # views: not copied
    scales = np.asarray(p.scales, dtype=np.float64)
    fp = _kernel_params(p)
    fi, ff, fptr, valid, vptr = found.fi, found.ff, found.fptr, found.valid, found.vptr
    # the kernel reads the new row and each column's close on its last bar (contiguous copies: one compiled
    # variant whatever the layout of the panel given)
    m = c.shape[1]
    has = np.diff(vptr) > 0
    last_rows = valid[np.where(has, vptr[1:] - 1, 0)] if len(valid) else np.zeros(m, dtype=np.int64)
    prev_close = np.where(has, c[last_rows, np.arange(m)], np.nan)
    h_row, lo_row, c_row = (np.ascontiguousarray(a[n]) for a in (h, lo, c))
    has_bar, dirty = ck.advance_panel_kernel(
        fi, ff, fptr, vptr, st.zigzag, st.atr_last, h_row, lo_row, c_row, prev_close, scales, fp
    )
    # the new row joins each column's valid bars
    at = vptr[1:][has_bar]
    valid = np.insert(valid, at, n)
    vptr = vptr + np.concatenate([[0], np.cumsum(has_bar)])
    redo = np.flatnonzero(dirty)
    if len(redo):
        fi, ff, fptr = _replace_columns(ck, fi, ff, fptr, redo, h, lo, c, scales, st, fp)
    state = PassState(st.zigzag, st.atr_last, st.wanted)
    return PanelPatterns(
        found.symbols, days, _date_objects(days, date_objects), c, fi, ff, fptr, valid, vptr, p, state
    )


def _replace_columns(
    ck: Any,
    fi: np.ndarray,
    ff: np.ndarray,
    fptr: np.ndarray,
    redo: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    scales: np.ndarray,
    st: PassState,
    fp: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tables with the formations of columns ``redo`` detected again (whole pass over those columns)."""
    sub = [np.ascontiguousarray(a[:, redo]) for a in (h, lo, c)]
    nfi, nff, nfptr, _, _, zigzag, atr_last = ck.detect_panel_kernel(*sub, scales, st.wanted, fp)
    st.zigzag[redo] = zigzag
    st.atr_last[redo] = atr_last
    nfi[:, ck.I_COL] = redo[nfi[:, ck.I_COL]]
    counts = np.diff(fptr)
    counts[redo] = np.diff(nfptr)
    parts_i: list[np.ndarray] = []
    parts_f: list[np.ndarray] = []
    start = 0
    for q, j in enumerate(redo.tolist()):
        parts_i += [fi[start : fptr[j]], nfi[nfptr[q] : nfptr[q + 1]]]
        parts_f += [ff[start : fptr[j]], nff[nfptr[q] : nfptr[q + 1]]]
        start = fptr[j + 1]
    parts_i.append(fi[start:])
    parts_f.append(ff[start:])
    new_ptr = np.zeros_like(fptr)
    np.cumsum(counts, out=new_ptr[1:])
    return np.concatenate(parts_i), np.concatenate(parts_f), new_ptr


def pass_threads(threads: int | None = None) -> int:
    """Threads the chartist panel pass may use: ``threads``, or by default numba's thread count.

    Parameters
    ----------
    threads
        Explicit count (at least 1); ``None``: :func:`numba.get_num_threads` (the cores, or
        ``NUMBA_NUM_THREADS`` / :func:`numba.set_num_threads`; ``NUMBA_NUM_THREADS=1`` runs single-threaded).

    Returns
    -------
    int
        The count, at least 1.
    """
    if threads is None:
        import numba

        threads = int(numba.get_num_threads())
    return max(1, int(threads))


def detect_blocks(
    dates: np.ndarray,
    symbols: Sequence[str],
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    *,
    kinds: Iterable[str] | None = None,
    params: ChartistParams | None = None,
    date_objects: np.ndarray | Sequence[Any] | None = None,
    threads: int | None = None,
) -> Iterator[PanelPatterns]:
    """:func:`detect_panel` over blocks of :data:`PANEL_BLOCK` columns, in column order, on several threads.

    The compiled pass (:func:`capscope.patterns.chartist_kernels.detect_panel_kernel`) releases the GIL, so the
    blocks run side by side on a thread pool while the caller consumes the finished ones (e.g. builds their
    records). Each block is the same single-threaded pass over the same columns whatever the thread count, so
    the blocks are identical to running them one after the other (by construction; tested).

    Parameters
    ----------
    dates, symbols, high, low, close, kinds, params
        As :func:`detect_panel`, for the whole panel.
    date_objects
        ``datetime.date`` of each row when the caller has them (else made once for all blocks).
    threads
        Threads computing blocks (default :func:`pass_threads`: numba's thread count); 1 computes each block in
        the calling thread when it is asked for.

    Yields
    ------
    PanelPatterns
        One per block of columns, in order. At most ``threads + 1`` blocks are computed ahead of the consumer.
    """
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    n = len(symbols)
    if date_objects is None:
        objects = np.asarray(dates).astype("datetime64[D]").astype(object)
    elif isinstance(date_objects, np.ndarray):
        objects = date_objects
    else:
        objects = np.empty(len(date_objects), dtype=object)
        objects[:] = date_objects
    names = tuple(symbols)

    def block(j0: int) -> PanelPatterns:
        cols = slice(j0, min(n, j0 + PANEL_BLOCK))
        return detect_panel(
            dates,
            names[cols],
            high[:, cols],
            low[:, cols],
            close[:, cols],
            kinds=kinds,
            params=params,
            date_objects=objects,
        )

    starts = iter(range(0, n, PANEL_BLOCK))
    workers = min(pass_threads(threads), -(-n // PANEL_BLOCK))
    if workers <= 1:
        for j0 in starts:
            yield block(j0)
        return
    pool = ThreadPoolExecutor(workers, thread_name_prefix="capscope-chartist")
    try:
        ahead: deque[Future[PanelPatterns]] = deque(
            pool.submit(block, j0) for j0 in itertools.islice(starts, workers + 1)
        )
        while ahead:
            found = ahead.popleft().result()
            nxt = next(starts, None)
            if nxt is not None:
                ahead.append(pool.submit(block, nxt))
            yield found
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
