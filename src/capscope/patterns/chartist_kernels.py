"""Numba pass of the chartist detector over a whole panel: pivots -> shapes -> life-cycle -> as-of selection.

The same rules as the plain-Python path of :mod:`capscope.patterns.chartist` and :mod:`capscope.patterns.shapes`
(which stays as the reference twin; the tests hold the two equal record for record), written as loops over
each column's zig-zag pivots: the same floating-point operations in the same order (NumPy's three-term sums
and means reduce left to right, ``x ** 2`` is ``x * x``, Python's ``round`` is round-half-even as
``np.rint``, Python's ``min``/``max`` keep the first argument on ties). Only the records of the formations kept
at the as-of bar are built in Python.

Formations are rows of two tables (integers ``fi``, floats ``ff``; column indices ``I_*``/``F_*`` below),
grouped by symbol; each holds its points (positions into the column's valid bars, not panel rows) and up to
three states of its life-cycle (``forming``, then ``confirmed`` or ``failed``, then ``target_reached`` or
``failed``). Encodings: missing floats are NaN, a missing breakout is -1.

:func:`advance_panel_kernel` carries a pass over one more panel row (``capscope watch``): the life-cycle rules are
written once, per bar (``_one_sided_bar``, ``_two_sided_bar``, ``_after_bar``), and used both by the whole-history
loops and by that one-bar step, as the ATR and zig-zag steps of :mod:`capscope.indicators.recursions` are.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from capscope.indicators.kernels import atr_series, zigzag_series
from capscope.indicators.recursions import atr_step, true_range, zigzag_step

# kind codes: bottoms 0-2 (their mirrored tops 3-5), two-sided 6-10
K_IHS, K_DOUBLE_BOTTOM, K_TRIPLE_BOTTOM = 0, 1, 2
K_HS, K_DOUBLE_TOP, K_TRIPLE_TOP = 3, 4, 5
K_ASC, K_DESC, K_SYM, K_RECT, K_BROAD = 6, 7, 8, 9, 10
KIND_NAMES = (
    "inverse_head_and_shoulders",
    "double_bottom",
    "triple_bottom",
    "head_and_shoulders",
    "double_top",
    "triple_top",
    "ascending_triangle",
    "descending_triangle",
    "symmetric_triangle",
    "rectangle",
    "broadening",
)
N_KINDS = 11
# status and failure codes
S_FORMING, S_CONFIRMED, S_FAILED, S_TARGET = 0, 1, 2, 3
FAIL_NONE, FAIL_INVALIDATION, FAIL_EXPIRED, FAIL_NECKLINE = 0, 1, 2, 3
MAX_POINTS = 6
MAX_STATES = 3

# integer columns
I_COL, I_SCALE, I_SIGN, I_KIND, I_NPTS, I_NSTATES, I_WIDTH = 0, 1, 2, 3, 4, 5, 6
I_BARS = 7  # 6 point bars
I_CONF = I_BARS + MAX_POINTS  # 6 confirmation bars
I_PKIND = I_CONF + MAX_POINTS  # 6 pivot kinds (+1 high, -1 low)
I_ST = I_PKIND + MAX_POINTS  # per state: bar, status, breakout, direction, failure
ST_I = 5
NI = I_ST + MAX_STATES * ST_I
# float columns
F_PRICES = 0  # 6 natural prices
F_NECK = F_PRICES + MAX_POINTS  # neckline t0, p0, t1, p1 (oriented prices; NaN: none)
F_HEIGHT = F_NECK + 4
F_INV = F_HEIGHT + 1  # the shape's invalidation (oriented; NaN: none)
F_QUALITY = F_INV + 1
F_UPPER = F_QUALITY + 1  # two-sided boundaries t0, p0, t1, p1
F_LOWER = F_UPPER + 4
F_BALANCE = F_LOWER + 4  # head-and-shoulders extras
F_SYMMETRY = F_BALANCE + 1
F_SCALE = F_SYMMETRY + 1
F_ST = F_SCALE + 1  # per state: level, target, invalidation
ST_F = 3
NF = F_ST + MAX_STATES * ST_F

# float parameters
(
    P_BREAKOUT_ATR,
    P_FAIL_ATR,
    P_EXPIRY,
    P_DEDUPE_TOL,
    P_MIN_BARS,
    P_PRIOR_TREND,
    P_HS_BALANCE,
    P_HS_SHOULDER_MIN,
    P_HS_HEAD_MARGIN,
    P_HS_SYMMETRY,
    P_HS_NECKLINE_SLOPE,
    P_EQUAL_TOL,
    P_FLAT_TOL,
    P_FIT_TOL,
    P_MIN_END_HEIGHT,
    P_MIN_EXPIRY_BARS,
    P_ATR_WINDOW,
) = range(17)
N_PARAMS = 17


@nb.njit(cache=True, inline="always")
def _pmin(a: float, b: float) -> float:
    """Python's ``min(a, b)``: ``a`` unless ``b < a``."""
    return b if b < a else a


@nb.njit(cache=True, inline="always")
def _pmax(a: float, b: float) -> float:
    """Python's ``max(a, b)``: ``a`` unless ``b > a``."""
    return b if b > a else a


@nb.njit(cache=True, inline="always")
def _clip01(x: float) -> float:
    return _pmin(1.0, _pmax(0.0, x))


@nb.njit(cache=True, inline="always")
def _line_at(t0: float, p0: float, t1: float, p1: float, t: float) -> float:
    if t1 == t0:
        return p0
    return p0 + (p1 - p0) * (t - t0) / (t1 - t0)


@nb.njit(cache=True)
def _grow(fi: np.ndarray, ff: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Room for at least one more row after ``n``."""
    if n < fi.shape[0]:
        return fi, ff
    cap = 2 * fi.shape[0] + 16
    fi2 = np.zeros((cap, NI), np.int64)
    ff2 = np.full((cap, NF), np.nan)
    fi2[:n] = fi[:n]
    ff2[:n] = ff[:n]
    return fi2, ff2


@nb.njit(cache=True, inline="always")
def _set_state(
    fi: np.ndarray,
    ff: np.ndarray,
    r: int,
    bar: int,
    status: int,
    breakout: int,
    direction: int,
    failure: int,
    level: float,
    target: float,
    inval: float,
) -> None:
    s = fi[r, I_NSTATES]
    fi[r, I_ST + s * ST_I] = bar
    fi[r, I_ST + s * ST_I + 1] = status
    fi[r, I_ST + s * ST_I + 2] = breakout
    fi[r, I_ST + s * ST_I + 3] = direction
    fi[r, I_ST + s * ST_I + 4] = failure
    ff[r, F_ST + s * ST_F] = level
    ff[r, F_ST + s * ST_F + 1] = target
    ff[r, F_ST + s * ST_F + 2] = inval
    fi[r, I_NSTATES] = s + 1


@nb.njit(cache=True, inline="always")
def _after_bar(
    h: float, lo: float, c: float, a: float, level: float, target: float, s: int, fail_atr: float
) -> int:
    """One bar (high, low, close, ATR) after a breakout in the orientation ``s`` (prices times ``s``, the high
    of a bearish breakout is minus the low): ``S_TARGET`` when the target is reached (first on ties),
    ``S_FAILED`` when the breakout fails, -1 otherwise."""
    x = h if s > 0 else -lo
    if x >= target:
        return S_TARGET
    if c * s < level - fail_atr * a:
        return S_FAILED
    return -1


@nb.njit(cache=True)
def _after_breakout(
    t_b: int,
    level: float,
    target: float,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    atr: np.ndarray,
    s: int,
    fail_atr: float,
) -> tuple[int, int]:
    """First bar from ``t_b`` on where :func:`_after_bar` ends the breakout: ``(bar, status)``, ``(-1, -1)`` if
    none did."""
    n = close.shape[0]
    for t in range(t_b, n):
        status = _after_bar(high[t], low[t], close[t], atr[t], level, target, s, fail_atr)
        if status >= 0:
            return t, status
    return -1, -1


@nb.njit(cache=True, inline="always")
def _end_state(fi: np.ndarray, ff: np.ndarray, r: int, bar: int, status: int) -> None:
    """The state after a confirmed breakout (``status``: target reached or failed at ``bar``): the breakout,
    direction, level, target and invalidation of the confirmed state, carried over."""
    last = fi[r, I_NSTATES] - 1
    failure = FAIL_NECKLINE if status == S_FAILED else FAIL_NONE
    _set_state(
        fi,
        ff,
        r,
        bar,
        status,
        fi[r, I_ST + last * ST_I + 2],
        fi[r, I_ST + last * ST_I + 3],
        failure,
        ff[r, F_ST + last * ST_F],
        ff[r, F_ST + last * ST_F + 1],
        ff[r, F_ST + last * ST_F + 2],
    )


@nb.njit(cache=True, inline="always")
def _known_bar(fi: np.ndarray, r: int, npts: int) -> int:
    """Bar on which formation ``r`` became knowable: the last confirmation bar of its ``npts`` points."""
    known = fi[r, I_CONF]
    for q in range(1, npts):
        known = max(known, fi[r, I_CONF + q])
    return known


@nb.njit(cache=True, inline="always")
def _one_sided_frame(
    fi: np.ndarray, ff: np.ndarray, r: int, fp: np.ndarray
) -> tuple[int, int, int, float, float, float, float, float, int, float]:
    """The fixed terms of one-sided formation ``r``'s life-cycle: ``(sign, known bar, last point's bar,
    neckline bar, neckline price, slope, height, invalidation, horizon, provisional target)``."""
    s = fi[r, I_SIGN]
    npts = fi[r, I_NPTS]
    known = _known_bar(fi, r, npts)
    t_first, t_last = fi[r, I_BARS + 1], fi[r, I_BARS + npts - 1]
    n0, p0, n1, p1 = ff[r, F_NECK], ff[r, F_NECK + 1], ff[r, F_NECK + 2], ff[r, F_NECK + 3]
    height = ff[r, F_HEIGHT]
    slope = 0.0 if n1 == n0 else (p1 - p0) / (n1 - n0)
    inv = ff[r, F_INV]
    if inv != inv:
        inv = -np.inf
    horizon = t_last + max(int(fp[P_MIN_EXPIRY_BARS]), int(np.rint(fp[P_EXPIRY] * (t_last - t_first))))
    provisional = (p0 + slope * (t_last - n0) + height) * s
    return s, known, t_last, n0, p0, slope, height, inv, horizon, provisional


@nb.njit(cache=True, inline="always")
def _one_sided_bar(
    fi: np.ndarray,
    ff: np.ndarray,
    r: int,
    t: int,
    c: float,
    a: float,
    frame: tuple[int, int, int, float, float, float, float, float, int, float],
    b_atr: float,
) -> bool:
    """Bar ``t`` (close ``c``, ATR ``a``) of forming one-sided formation ``r``: its breakout (``confirmed``), its
    invalidation or its expiry (``failed``) is recorded; returns whether the forming phase ended."""
    s, known, _, n0, p0, slope, height, inv, horizon, provisional = frame
    neck = p0 + slope * (t - n0)
    c = c * s
    brk = c > neck + b_atr * a
    broke_inv = c < inv
    if not (brk or broke_inv or t > horizon):
        return False
    if not brk:
        reason = FAIL_INVALIDATION if broke_inv else FAIL_EXPIRED
        _set_state(fi, ff, r, max(t, known), S_FAILED, -1, 0, reason, np.nan, provisional, inv * s)
        return True
    level = neck
    target = level + height
    _set_state(fi, ff, r, max(t, known), S_CONFIRMED, t, s, FAIL_NONE, level * s, target * s, inv * s)
    return True


@nb.njit(cache=True)
def _life_one_sided(
    fi: np.ndarray,
    ff: np.ndarray,
    r: int,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    atr: np.ndarray,
    fp: np.ndarray,
) -> None:
    """Status history of bottom (sign +1) or top (-1) formation ``r``: ``chartist._life_one_sided``."""
    frame = _one_sided_frame(fi, ff, r, fp)
    s, known, t_last, _, _, _, _, inv, horizon, provisional = frame
    _set_state(fi, ff, r, known, S_FORMING, -1, 0, FAIL_NONE, np.nan, provisional, inv * s)
    n = close.shape[0]
    stop = min(n, horizon + 2)
    b_atr = fp[P_BREAKOUT_ATR]
    for t in range(t_last + 1, stop):
        if _one_sided_bar(fi, ff, r, t, close[t], atr[t], frame, b_atr):
            _after_confirmed(fi, ff, r, t, known, high, low, close, atr, fp)
            return


@nb.njit(cache=True, inline="always")
def _two_sided_frame(
    fi: np.ndarray, ff: np.ndarray, r: int, fp: np.ndarray
) -> tuple[int, int, float, float, float, float, float, float, float, int]:
    """The fixed terms of two-sided formation ``r``'s life-cycle: ``(known bar, last point's bar, upper line
    bar, price and slope, lower line bar, price and slope, height, horizon)``."""
    npts = fi[r, I_NPTS]
    known = _known_bar(fi, r, npts)
    t_first, t_last = fi[r, I_BARS], fi[r, I_BARS + npts - 1]
    u0, up0, u1, up1 = ff[r, F_UPPER], ff[r, F_UPPER + 1], ff[r, F_UPPER + 2], ff[r, F_UPPER + 3]
    l0, lp0, l1, lp1 = ff[r, F_LOWER], ff[r, F_LOWER + 1], ff[r, F_LOWER + 2], ff[r, F_LOWER + 3]
    height = ff[r, F_HEIGHT]
    su = (up1 - up0) / (u1 - u0)
    sl = (lp1 - lp0) / (l1 - l0)
    horizon = t_last + max(int(fp[P_MIN_EXPIRY_BARS]), int(np.rint(fp[P_EXPIRY] * (t_last - t_first))))
    if su < sl:  # converging lines: the apex ends the formation
        apex = u0 + (lp0 - up0) / (su - sl)
        horizon = min(horizon, int(np.floor(apex)))
    return known, t_last, u0, up0, su, l0, lp0, sl, height, horizon


@nb.njit(cache=True, inline="always")
def _two_sided_bar(
    fi: np.ndarray,
    ff: np.ndarray,
    r: int,
    t: int,
    c: float,
    a: float,
    frame: tuple[int, int, float, float, float, float, float, float, float, int],
    b_atr: float,
) -> bool:
    """Bar ``t`` (close ``c``, ATR ``a``) of forming two-sided formation ``r``: a breakout either way
    (``confirmed``) or its expiry (``failed``) is recorded; returns whether the forming phase ended."""
    known, _, u0, up0, su, l0, lp0, sl, height, horizon = frame
    nan = np.nan
    upper = up0 + su * (t - u0)
    lower = lp0 + sl * (t - l0)
    buf = b_atr * a
    brk_up = c > upper + buf
    brk_dn = c < lower - buf
    if not (brk_up or brk_dn or t > horizon):
        return False
    if not (brk_up or brk_dn):
        _set_state(fi, ff, r, max(t, known), S_FAILED, -1, 0, FAIL_EXPIRED, nan, nan, nan)
        return True
    s = 1 if brk_up else -1
    level = upper if s > 0 else lower
    opposite = lower if s > 0 else upper
    target = level + s * height
    _set_state(fi, ff, r, max(t, known), S_CONFIRMED, t, s, FAIL_NONE, level, target, opposite)
    return True


@nb.njit(cache=True, inline="always")
def _oriented(fi: np.ndarray, ff: np.ndarray, r: int) -> tuple[int, float, float]:
    """Direction, level and target of formation ``r``'s last (confirmed) state, times the direction: the terms
    :func:`_after_bar` compares with (one-sided formations store their oriented prices times their sign,
    two-sided ones natural prices; either way the stored price times the direction)."""
    last = fi[r, I_NSTATES] - 1
    s = fi[r, I_ST + last * ST_I + 3]
    return s, ff[r, F_ST + last * ST_F] * s, ff[r, F_ST + last * ST_F + 1] * s


@nb.njit(cache=True)
def _after_confirmed(
    fi: np.ndarray,
    ff: np.ndarray,
    r: int,
    t: int,
    known: int,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    atr: np.ndarray,
    fp: np.ndarray,
) -> None:
    """After the forming phase of ``r`` ended on bar ``t``: when it ended in a breakout, the bar from ``t`` on
    where the target is reached or the breakout fails, if any."""
    if fi[r, I_ST + (fi[r, I_NSTATES] - 1) * ST_I + 1] != S_CONFIRMED:
        return
    s, level, target = _oriented(fi, ff, r)
    end, status = _after_breakout(t, level, target, high, low, close, atr, s, fp[P_FAIL_ATR])
    if end >= 0:
        _end_state(fi, ff, r, max(end, known), status)


@nb.njit(cache=True)
def _life_two_sided(
    fi: np.ndarray,
    ff: np.ndarray,
    r: int,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    atr: np.ndarray,
    fp: np.ndarray,
) -> None:
    """Status history of two-sided formation ``r``: ``chartist._life_two_sided``."""
    frame = _two_sided_frame(fi, ff, r, fp)
    known, t_last, horizon = frame[0], frame[1], frame[9]
    nan = np.nan
    _set_state(fi, ff, r, known, S_FORMING, -1, 0, FAIL_NONE, nan, nan, nan)
    n = close.shape[0]
    stop = min(n, horizon + 2)
    b_atr = fp[P_BREAKOUT_ATR]
    for t in range(t_last + 1, stop):
        if _two_sided_bar(fi, ff, r, t, close[t], atr[t], frame, b_atr):
            _after_confirmed(fi, ff, r, t, known, high, low, close, atr, fp)
            return


@nb.njit(cache=True, inline="always")
def _new_row(
    fi: np.ndarray,
    ff: np.ndarray,
    r: int,
    col: int,
    scale_i: int,
    scale: float,
    sign: int,
    kind: int,
    first: int,
    npts: int,
    t: np.ndarray,
    conf: np.ndarray,
    price: np.ndarray,
    pkind: np.ndarray,
) -> None:
    """Row ``r``: the formation's identity and its points (pivots ``first .. first + npts - 1``)."""
    fi[r, :] = 0
    ff[r, :] = np.nan
    fi[r, I_COL] = col
    fi[r, I_SCALE] = scale_i
    fi[r, I_SIGN] = sign
    fi[r, I_KIND] = kind
    fi[r, I_NPTS] = npts
    for q in range(npts):
        fi[r, I_BARS + q] = t[first + q]
        fi[r, I_CONF + q] = conf[first + q]
        fi[r, I_PKIND + q] = pkind[first + q]
        ff[r, F_PRICES + q] = price[first + q]
    ff[r, F_SCALE] = scale
    start = 0 if kind >= K_ASC else 1  # the prior-trend pivot is not part of a reversal's width
    fi[r, I_WIDTH] = t[first + npts - 1] - t[first + start]


@nb.njit(cache=True)
def _bottom_rule(rule: int, t: np.ndarray, x: np.ndarray, j: int, fp: np.ndarray, res: np.ndarray) -> bool:
    """Rule ``rule`` (``K_IHS``, ``K_DOUBLE_BOTTOM``, ``K_TRIPLE_BOTTOM``) on the window ending at pivot ``j``
    (``shapes._inverse_hs`` / ``_double_bottom`` / ``_triple_bottom``). On success ``res`` holds the neckline
    (4), height, invalidation, quality, balance, symmetry."""
    min_bars = fp[P_MIN_BARS]
    if rule == K_IHS:
        t0, t1, t2, t3, t4, t5 = (
            float(t[j - 5]), float(t[j - 4]), float(t[j - 3]), float(t[j - 2]), float(t[j - 1]), float(t[j]),
        )  # fmt: skip
        x0, x1, x2, x3, x4, x5 = x[j - 5], x[j - 4], x[j - 3], x[j - 2], x[j - 1], x[j]
        if t5 - t1 < min_bars:
            return False
        height = _line_at(t2, x2, t4, x4, t3) - x3
        if height <= 0:
            return False
        margin = _pmin(x1, x5) - x3
        if margin < fp[P_HS_HEAD_MARGIN] * height:
            return False
        d1 = _line_at(t2, x2, t4, x4, t1) - x1
        d5 = _line_at(t2, x2, t4, x4, t5) - x5
        if _pmin(d1, d5) < fp[P_HS_SHOULDER_MIN] * height:
            return False
        balance = _pmin(d1, d5) / _pmax(d1, d5)
        if balance < fp[P_HS_BALANCE]:
            return False
        s1, s2 = t3 - t1, t5 - t3
        symmetry = _pmin(s1, s2) / _pmax(s1, s2)
        if symmetry < fp[P_HS_SYMMETRY]:
            return False
        slope_max = fp[P_HS_NECKLINE_SLOPE]
        if abs(x4 - x2) > slope_max * height:
            return False
        if x0 < _line_at(t2, x2, t4, x4, t0) + fp[P_PRIOR_TREND] * height:
            return False
        flatness = 1.0 - abs(x4 - x2) / (slope_max * height)
        quality = (balance + symmetry + _clip01(flatness) + _clip01(margin / (0.5 * height))) / 4.0
        res[0], res[1], res[2], res[3] = t2, x2, t4, x4
        res[4], res[5], res[6], res[7], res[8] = height, x3, _clip01(quality), balance, symmetry
        return True
    if rule == K_DOUBLE_BOTTOM:
        t1, t2, t3 = float(t[j - 2]), float(t[j - 1]), float(t[j])
        x0, x1, x2, x3 = x[j - 3], x[j - 2], x[j - 1], x[j]
        if t3 - t1 < min_bars:
            return False
        height = x2 - _pmin(x1, x3)
        equal_tol = fp[P_EQUAL_TOL]
        if height <= 0 or abs(x1 - x3) > equal_tol * height:
            return False
        if x0 < x2 + fp[P_PRIOR_TREND] * height:
            return False
        equality = 1.0 - abs(x1 - x3) / (equal_tol * height)
        quality = (_clip01(equality) + _clip01((x0 - x2) / height)) / 2.0
        res[0], res[1], res[2], res[3] = t2, x2, t3, x2
        res[4], res[5], res[6], res[7], res[8] = height, _pmin(x1, x3), _clip01(quality), np.nan, np.nan
        return True
    # triple bottom
    t1, t5 = float(t[j - 4]), float(t[j])
    x0, x1, x2, x3, x4, x5 = x[j - 5], x[j - 4], x[j - 3], x[j - 2], x[j - 1], x[j]
    if t5 - t1 < min_bars:
        return False
    top = _pmax(x2, x4)
    low3 = _pmin(_pmin(x1, x3), x5)
    height = top - low3
    spread = _pmax(_pmax(x1, x3), x5) - low3
    equal_tol = fp[P_EQUAL_TOL]
    if height <= 0 or spread > equal_tol * height:
        return False
    if _pmin(x1, x5) - x3 >= fp[P_HS_HEAD_MARGIN] * height:
        return False  # that is an inverse head-and-shoulders
    if x0 < top + fp[P_PRIOR_TREND] * height:
        return False
    t_top = float(t[j - 3]) if x2 >= x4 else float(t[j - 1])
    equality = 1.0 - spread / (equal_tol * height)
    quality = (_clip01(equality) + _clip01((x0 - top) / height)) / 2.0
    res[0], res[1], res[2], res[3] = t_top, top, t5, top
    res[4], res[5], res[6], res[7], res[8] = height, low3, _clip01(quality), np.nan, np.nan
    return True


@nb.njit(cache=True, inline="always")
def _prefilter(rule: int, x: np.ndarray, kind_s: np.ndarray, j: int, s: int, equal_tol: float) -> bool:
    """``shapes.find_bottoms``' vectorised necessary conditions for pivot ``j`` (kinds oriented by ``s``)."""
    if kind_s[j] * s != -1:
        return False
    if rule == K_DOUBLE_BOTTOM:
        height = x[j - 1] - _npmin(x[j], x[j - 2])
        return abs(x[j] - x[j - 2]) <= equal_tol * height
    if rule == K_IHS:
        return x[j - 2] < x[j] and x[j - 2] < x[j - 4]
    lo = _npmin(_npmin(x[j], x[j - 2]), x[j - 4])
    hi = _npmax(_npmax(x[j], x[j - 2]), x[j - 4])
    height = _npmax(x[j - 1], x[j - 3]) - lo
    return hi - lo <= equal_tol * height


@nb.njit(cache=True, inline="always")
def _npmin(a: float, b: float) -> float:
    return a if a < b else b


@nb.njit(cache=True, inline="always")
def _npmax(a: float, b: float) -> float:
    return a if a > b else b


@nb.njit(cache=True)
def _find_bottoms(
    fi: np.ndarray,
    ff: np.ndarray,
    n_rows: int,
    col: int,
    scale_i: int,
    scale: float,
    s: int,
    t: np.ndarray,
    conf: np.ndarray,
    price: np.ndarray,
    pkind: np.ndarray,
    x: np.ndarray,
    wanted: np.ndarray,
    fp: np.ndarray,
    res: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Bottom shapes on one pivot sequence oriented by ``s`` (``x`` = prices times ``s``), in the order of
    ``shapes.find_bottoms`` (by last pivot, then kind name: double, inverse head-and-shoulders, triple)."""
    n = t.shape[0]
    base = 0 if s > 0 else 3
    order = (K_DOUBLE_BOTTOM, K_IHS, K_TRIPLE_BOTTOM)
    for j in range(3, n):
        for rule in order:
            span = 3 if rule == K_DOUBLE_BOTTOM else 5
            if not wanted[base + rule] or n <= span or j < span:
                continue
            if not _prefilter(rule, x, pkind, j, s, fp[P_EQUAL_TOL]):
                continue
            if not _bottom_rule(rule, t, x, j, fp, res):
                continue
            fi, ff = _grow(fi, ff, n_rows)
            r = n_rows
            _new_row(
                fi, ff, r, col, scale_i, scale, s, base + rule, j - span, span + 1, t, conf, price, pkind
            )
            for q in range(4):
                ff[r, F_NECK + q] = res[q]
            ff[r, F_HEIGHT] = res[4]
            ff[r, F_INV] = res[5]
            ff[r, F_QUALITY] = res[6]
            ff[r, F_BALANCE] = res[7]
            ff[r, F_SYMMETRY] = res[8]
            n_rows += 1
    return fi, ff, n_rows


@nb.njit(cache=True)
def _find_two_sided(
    fi: np.ndarray,
    ff: np.ndarray,
    n_rows: int,
    col: int,
    scale_i: int,
    scale: float,
    t: np.ndarray,
    conf: np.ndarray,
    x: np.ndarray,
    pkind: np.ndarray,
    close: np.ndarray,
    wanted: np.ndarray,
    fp: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Triangles, rectangles and broadening formations on windows of five pivots: ``shapes.find_two_sided``."""
    m = t.shape[0] - 4
    flat_tol, fit_tol = fp[P_FLAT_TOL], fp[P_FIT_TOL]
    for w in range(m):
        ta, tb, tc, td, te = float(t[w]), float(t[w + 1]), float(t[w + 2]), float(t[w + 3]), float(t[w + 4])
        xa, xb, xc, xd, xe = x[w], x[w + 1], x[w + 2], x[w + 3], x[w + 4]
        # least squares through the three pivots of one side (NumPy: sums left to right, mean = sum / 3)
        tm3 = (ta + tc + te) / 3
        xm3 = (xa + xc + xe) / 3
        da, dc, de = ta - tm3, tc - tm3, te - tm3
        slope3 = (da * (xa - xm3) + dc * (xc - xm3) + de * (xe - xm3)) / (da * da + dc * dc + de * de)
        icpt3 = xm3 - slope3 * tm3
        r1 = abs(xa - (slope3 * ta + icpt3))
        r2 = abs(xc - (slope3 * tc + icpt3))
        r3 = abs(xe - (slope3 * te + icpt3))
        resid3 = _npmax(_npmax(r1, r2), r3)
        slope2 = (xd - xb) / (td - tb)
        icpt2 = xb - slope2 * tb
        if pkind[w] > 0:
            su, iu, sl, il = slope3, icpt3, slope2, icpt2
        else:
            su, iu, sl, il = slope2, icpt2, slope3, icpt3
        first, last = ta, te
        h0 = (su * first + iu) - (sl * first + il)
        h1 = (su * last + iu) - (sl * last + il)
        du, dl = su * (last - first), sl * (last - first)
        if not ((last - first >= fp[P_MIN_BARS]) and (h0 > 0) and (h1 > 0) and (resid3 <= fit_tol * h0)):
            continue
        flat = flat_tol * h0
        up = 0 if abs(du) <= flat else (1 if du > 0 else -1)
        lo = 0 if abs(dl) <= flat else (1 if dl > 0 else -1)
        if up == 0 and lo == 1:
            kind = K_ASC
        elif up == -1 and lo == 0:
            kind = K_DESC
        elif up == -1 and lo == 1:
            kind = K_SYM
        elif up == 0 and lo == 0:
            kind = K_RECT
        elif up == 1 and lo == -1:
            kind = K_BROAD
        else:
            continue
        if not wanted[kind]:
            continue
        a, b = h0, h1
        if kind <= K_SYM and b < fp[P_MIN_END_HEIGHT] * a:
            continue
        f0, f1 = int(first), int(last)
        tol = fit_tol * a
        inside = True
        for bar in range(f0, f1 + 1):
            if close[bar] > su * bar + iu + tol or close[bar] < sl * bar + il - tol:
                inside = False
                break
        if not inside:
            continue
        clarity = 0.0
        for q in range(2):
            move = du if q == 0 else dl
            if abs(move) <= flat_tol * a:
                cl = 1.0 - abs(move) / (flat_tol * a)
            else:
                cl = _pmin(1.0, abs(move) / (2 * flat_tol * a))
            clarity = cl if q == 0 else clarity + cl
        fit = 1.0 - resid3 / (fit_tol * a)
        fi, ff = _grow(fi, ff, n_rows)
        r = n_rows
        _new_row(fi, ff, r, col, scale_i, scale, 1, kind, w, 5, t, conf, x, pkind)
        ff[r, F_HEIGHT] = _pmax(a, b)
        ff[r, F_QUALITY] = _clip01((_clip01(fit) + clarity / 2) / 2.0)
        ff[r, F_UPPER], ff[r, F_UPPER + 1], ff[r, F_UPPER + 2], ff[r, F_UPPER + 3] = (
            first, su * first + iu, last, su * last + iu,
        )  # fmt: skip
        ff[r, F_LOWER], ff[r, F_LOWER + 1], ff[r, F_LOWER + 2], ff[r, F_LOWER + 3] = (
            first, sl * first + il, last, sl * last + il,
        )  # fmt: skip
        n_rows += 1
    return fi, ff, n_rows


@nb.njit(cache=True, nogil=True)
def detect_panel_kernel(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    scales: np.ndarray,
    wanted: np.ndarray,
    fp: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every formation of every column with its status history.

    ``high``/``low``/``close`` are time-major ``(n_bars, n_symbols)`` panels (NaN: no bar). Returns ``(fi,
    ff, fptr, valid, vptr, zigzag, atr_last)``: the formation tables (rows ``fptr[j]:fptr[j+1]`` are column
    ``j``'s, in the order of ``chartist.detect_series``), each column's valid bars (panel rows
    ``valid[vptr[j]:vptr[j+1]]``) and where its recursions stand after its last bar, for
    :func:`advance_panel_kernel`: the zig-zag state of each scale ``(m, n_scales, 5)`` and the ATR ``(m,)``.
    """
    n, m = close.shape
    fi = np.zeros((64, NI), np.int64)
    ff = np.full((64, NF), np.nan)
    fptr = np.zeros(m + 1, np.int64)
    vptr = np.zeros(m + 1, np.int64)
    total = 0
    for t in range(n):
        for j in range(m):
            total += high[t, j] == high[t, j] and low[t, j] == low[t, j] and close[t, j] == close[t, j]
    valid = np.empty(total, np.int64)
    res = np.empty(9)
    n_rows = 0
    nv = 0
    atr_window = int(fp[P_ATR_WINDOW])
    any_bottom = wanted[K_IHS] or wanted[K_DOUBLE_BOTTOM] or wanted[K_TRIPLE_BOTTOM]
    any_top = wanted[K_HS] or wanted[K_DOUBLE_TOP] or wanted[K_TRIPLE_TOP]
    any_two = False
    for q in range(K_ASC, N_KINDS):
        any_two = any_two or wanted[q]
    hv = np.empty(n)
    lv = np.empty(n)
    cv = np.empty(n)
    zz = np.full((m, scales.shape[0], 5), np.nan)
    atr_last = np.full(m, np.nan)
    for j in range(m):
        k = 0
        for t in range(n):
            h, lo, c = high[t, j], low[t, j], close[t, j]
            if h == h and lo == lo and c == c:
                hv[k], lv[k], cv[k] = h, lo, c
                valid[nv + k] = t
                k += 1
        nv += k
        vptr[j + 1] = nv
        hj, lj, cj = hv[:k], lv[:k], cv[:k]
        atr = atr_series(hj, lj, cj, atr_window)
        if k > 0:
            atr_last[j] = atr[k - 1]
        for si in range(scales.shape[0]):
            if k == 0:
                break
            idx, conf, kind, price, state = zigzag_series(hj, lj, atr, scales[si], True)
            zz[j, si, :] = state
            if idx.shape[0] < 4:
                continue
            r0 = n_rows
            if any_bottom:
                fi, ff, n_rows = _find_bottoms(
                    fi, ff, n_rows, j, si, scales[si], 1, idx, conf, price, kind, price, wanted, fp, res
                )
            if any_top:
                fi, ff, n_rows = _find_bottoms(
                    fi, ff, n_rows, j, si, scales[si], -1, idx, conf, price, kind, -price, wanted, fp, res
                )
            if any_two:
                fi, ff, n_rows = _find_two_sided(
                    fi, ff, n_rows, j, si, scales[si], idx, conf, price, kind, cj, wanted, fp
                )
            for r in range(r0, n_rows):
                if fi[r, I_KIND] >= K_ASC:
                    _life_two_sided(fi, ff, r, hj, lj, cj, atr, fp)
                else:
                    _life_one_sided(fi, ff, r, hj, lj, cj, atr, fp)
        fptr[j + 1] = n_rows
    return fi[:n_rows], ff[:n_rows], fptr, valid[:nv], vptr, zz, atr_last


@nb.njit(cache=True, inline="always")
def _life_step(
    fi: np.ndarray, ff: np.ndarray, r: int, t: int, h: float, lo: float, c: float, a: float, fp: np.ndarray
) -> None:
    """Formation ``r``'s life-cycle on its column's next valid bar ``t`` (high, low, close, ATR): what
    ``_life_one_sided``/``_life_two_sided`` record on ``t`` when run over the bars up to ``t``, given the states
    they recorded up to ``t - 1``."""
    status = fi[r, I_ST + (fi[r, I_NSTATES] - 1) * ST_I + 1]
    if status == S_FORMING:
        b_atr = fp[P_BREAKOUT_ATR]
        if fi[r, I_KIND] >= K_ASC:
            frame2 = _two_sided_frame(fi, ff, r, fp)
            known, t_last, horizon = frame2[0], frame2[1], frame2[9]
            if not (t_last < t < horizon + 2 and _two_sided_bar(fi, ff, r, t, c, a, frame2, b_atr)):
                return
        else:
            frame1 = _one_sided_frame(fi, ff, r, fp)
            known, t_last, horizon = frame1[1], frame1[2], frame1[8]
            if not (t_last < t < horizon + 2 and _one_sided_bar(fi, ff, r, t, c, a, frame1, b_atr)):
                return
        if fi[r, I_ST + (fi[r, I_NSTATES] - 1) * ST_I + 1] != S_CONFIRMED:
            return
    elif status == S_CONFIRMED:
        known = _known_bar(fi, r, fi[r, I_NPTS])
    else:
        return  # failed or target reached: final
    s, level, target = _oriented(fi, ff, r)
    end = _after_bar(h, lo, c, a, level, target, s, fp[P_FAIL_ATR])
    if end >= 0:
        _end_state(fi, ff, r, max(t, known), end)


@nb.njit(cache=True, nogil=True)
def advance_panel_kernel(
    fi: np.ndarray,
    ff: np.ndarray,
    fptr: np.ndarray,
    vptr: np.ndarray,
    zz: np.ndarray,
    atr_last: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    prev_close: np.ndarray,
    scales: np.ndarray,
    fp: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Carry :func:`detect_panel_kernel`'s output over one more panel row, in place, where that is exact.

    ``high``/``low``/``close`` are the new row (one value per column, NaN: no bar) and ``prev_close`` each
    column's close on its last bar before it; the tables, ``zz`` and ``atr_last`` are those of the panel without
    the row. For each column with a bar on the new row (its next valid bar ``k``): the ATR and each scale's
    zig-zag are stepped; if a pivot is confirmed on ``k`` (new formations may start) or the ATR was not defined on
    ``k - 1`` the column is left to be detected again (``dirty``); otherwise no formation can appear, and each
    formation's life-cycle is stepped (:func:`_life_step`), giving exactly the tables the whole pass gives.
    Returns ``(has_bar, dirty)`` per column; the caller appends the new row to ``valid``/``vptr`` and replaces
    the dirty columns.
    """
    m = close.shape[0]
    window = int(fp[P_ATR_WINDOW])
    has_bar = np.zeros(m, np.bool_)
    dirty = np.zeros(m, np.bool_)
    for j in range(m):
        h, lo, c = high[j], low[j], close[j]
        if not (h == h and lo == lo and c == c):
            continue
        has_bar[j] = True
        k = vptr[j + 1] - vptr[j]
        if k <= window:  # the ATR's seed is not complete on bar k - 1: not a plain step
            dirty[j] = True
            continue
        _, a = atr_step(atr_last[j], true_range(h, lo, prev_close[j]), k, window)
        for si in range(scales.shape[0]):
            st = zz[j, si]
            hi_, hi_i, lo_, lo_i, code = zigzag_step(
                h, lo, k, a, scales[si], True, int(st[0]), st[1], int(st[2]), st[3], int(st[4])
            )
            if code != 0:  # a pivot is confirmed on k: new formations may start
                dirty[j] = True
                break
            st[1], st[2], st[3], st[4] = hi_, float(hi_i), lo_, float(lo_i)
        if dirty[j]:
            continue
        atr_last[j] = a
        for r in range(fptr[j], fptr[j + 1]):
            _life_step(fi, ff, r, k, h, lo, c, a, fp)
    return has_bar, dirty


@nb.njit(cache=True, nogil=True)
def select_as_of(
    fi: np.ndarray,
    ff: np.ndarray,
    fptr: np.ndarray,
    valid: np.ndarray,
    vptr: np.ndarray,
    as_of_row: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The formations reported as of panel row ``as_of_row`` (``SeriesPatterns.records`` before the records are
    built): each formation's state at that bar, then one finding per formation seen at several scales
    (``chartist._dedupe``). Returns the kept rows and their state slots, column by column in the dedupe's
    order (best quality, then smallest scale, then first bar; ties in detection order)."""
    m = fptr.shape[0] - 1
    kept = np.empty(fi.shape[0], np.int64)
    slots = np.empty(fi.shape[0], np.int64)
    n_kept = 0
    for j in range(m):
        v0, v1 = vptr[j], vptr[j + 1]
        if v1 == v0:
            continue
        # the last valid bar at or before the as-of row (compressed position)
        bar = np.searchsorted(valid[v0:v1], as_of_row, side="right") - 1
        if bar < 0:
            continue
        r0, r1 = fptr[j], fptr[j + 1]
        vis = np.empty(r1 - r0, np.int64)
        vslot = np.empty(r1 - r0, np.int64)
        nvis = 0
        for r in range(r0, r1):
            last = -1
            for s in range(fi[r, I_NSTATES]):
                if fi[r, I_ST + s * ST_I] <= bar:
                    last = s
                else:
                    break
            if last >= 0:
                vis[nvis] = r
                vslot[nvis] = last
                nvis += 1
        vis = vis[:nvis]
        vslot = vslot[:nvis]
        # stable sort by (-quality, scale, first bar): three stable passes, least significant key first
        order = np.arange(nvis)
        key = np.empty(nvis)
        for q in range(nvis):
            key[q] = fi[vis[q], I_BARS]
        order = order[np.argsort(key[order], kind="mergesort")]
        for q in range(nvis):
            key[q] = ff[vis[q], F_SCALE]
        order = order[np.argsort(key[order], kind="mergesort")]
        for q in range(nvis):
            key[q] = -ff[vis[q], F_QUALITY]
        order = order[np.argsort(key[order], kind="mergesort")]
        start_kept = n_kept
        for o in order:
            r = vis[o]
            kind = fi[r, I_KIND]
            npts = fi[r, I_NPTS]
            c0 = 0 if kind >= K_ASC else 1
            slack = _pmax(1.0, tol * float(fi[r, I_BARS + npts - 1] - fi[r, I_BARS + c0]))
            dup = False
            for e in range(start_kept, n_kept):
                g = kept[e]
                if fi[g, I_KIND] != kind or fi[g, I_NPTS] != npts:
                    continue
                if abs(fi[g, I_BARS + c0] - fi[r, I_BARS + c0]) > slack:
                    continue
                same = True
                for p in range(c0, npts):
                    if not abs(fi[g, I_BARS + p] - fi[r, I_BARS + p]) <= slack:
                        same = False
                        break
                if same:
                    dup = True
                    break
            if dup:
                continue
            kept[n_kept] = r
            slots[n_kept] = vslot[o]
            n_kept += 1
    return kept[:n_kept], slots[:n_kept]
