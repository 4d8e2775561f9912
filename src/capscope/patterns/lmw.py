"""The ten chart patterns of Lo, Mamaysky and Wang (2000), found causally in rolling 38-bar windows.

Reference: A. W. Lo, H. Mamaysky and J. Wang (2000), "Foundations of Technical Analysis: Computational
Algorithms, Statistical Inference, and Empirical Implementation", *Journal of Finance* 55(4), 1705-1765
("LMW" below; page numbers are those of the journal).

Method (LMW Sections I-II)
--------------------------
1. Each window holds ``l + d = 35 + 3 = 38`` consecutive closes (LMW p. 1718: "we set l = 35 and d = 3").
   The window ending on bar ``D`` uses bars ``D - 37 .. D`` only, so a result for ``D`` never changes when
   bars after ``D`` are added.  Windows containing a missing bar are skipped.
2. Inside the window the closes are smoothed by Nadaraya-Watson kernel regression on the time grid
   ``t = 0 .. 37`` with a Gaussian kernel of bandwidth ``0.3 h*``, where ``h*`` minimises the leave-one-out
   cross-validation score over a grid of candidate bandwidths (LMW p. 1714: "a bandwidth of 0.3 x h*, where
   h* minimizes CV(h)"); see :mod:`capscope.patterns.kernel_regression`.
3. Local extrema of the smoothed curve are the bars ``tau`` where the sign of its slope changes (LMW p. 1719:
   ``Sgn(m'(tau)) = -Sgn(m'(tau + 1))``; a flat stretch is skipped to the next non-zero slope, the extremum
   being placed on the first bar of the flat).  The slope is the first difference ``m(tau) - m(tau - 1)``
   and counts as zero when smaller than ``1e-10`` of the level (rounding noise, e.g. in a window of equal
   closes).  Each extremum is mapped back to the actual close: the highest (for a maximum) or lowest (for a
   minimum) close within ``tau - 1 .. tau + 1`` (LMW p. 1720).
4. A pattern must be completed within the first ``l = 35`` bars and is detected ``d = 3`` bars later, on the
   window's last bar (LMW p. 1719: ``d`` is "the number of days following the completion of a pattern that
   must pass before the pattern is detected").  Only extrema in the first 35 bars count, and -- our reading,
   so that each occurrence is reported exactly once rather than in every later window that still contains
   it -- the extremum that completes the pattern must be on bar ``l - 1 = 34``; a pattern is therefore
   reported on the bar 3 bars after its last extremum.
5. The pattern definitions (LMW Definitions 1-5, pp. 1716-1718), on consecutive extrema ``E1 .. E5`` (the last
   five, ending on bar 34):

   - HS: E1 a maximum, E3 > E1, E3 > E5, E1 and E5 within 1.5 percent of their average, E2 and E4 within
     1.5 percent of their average.  IHS: mirror (E1 a minimum, E3 < E1, E3 < E5, same tolerances).
   - BTOP: E1 a maximum, E1 < E3 < E5, E2 > E4.  BBOT: E1 a minimum, E1 > E3 > E5, E2 < E4.
   - TTOP: E1 a maximum, E1 > E3 > E5, E2 < E4.  TBOT: E1 a minimum, E1 < E3 < E5, E2 > E4.
   - RTOP: E1 a maximum, tops (E1, E3, E5) within 0.75 percent of their average, bottoms (E2, E4) within
     0.75 percent of their average, lowest top > highest bottom.  RBOT: E1 a minimum, tops (E2, E4),
     bottoms (E1, E3, E5), same conditions.
   - DTOP: E1 (the window's first extremum) a maximum, ``E_a = sup`` of the later extrema, E1 and E_a within
     1.5 percent of their average, ``t_a - t_1 > 22`` bars.  DBOT: E1 a minimum, ``E_b = inf`` of the later
     extrema, E1 and E_b within 1.5 percent, ``t_b - t_1 > 22``.  (LMW print ``t_a`` in the DBOT condition;
     we read it as the evident typo for ``t_b``.)  The completing extremum (on bar 34) must be E_a / E_b.

   "Within x percent of their average" means ``|E_i - avg| <= x * avg`` for each member.  Bar distances
   (``t_a - t_1``) are measured between the smoothed extrema.

Fast path
---------
All windows share the grid ``t = 0 .. 37``, so every weight vector depends only on the bandwidth.  With
``z = K y`` (``K`` the unnormalised kernel matrix, diagonal 1):

- the NW fit is ``z_i / r_i`` (``r_i`` the row sums of ``K``),
- the leave-one-out fit is ``(z_i - y_i) / (r_i - 1)``, so the LOO residual is ``a_i y_i - b_i z_i`` with
  ``b_i = 1 / (r_i - 1)`` and ``a_i = 1 + b_i`` -- one ``K y`` per candidate serves CV,
- ``K`` is Toeplitz and windows overlap: when the window slides by one bar, ``z`` at an absolute bar ``p``
  changes only by ``- k(p - s_old) y_old + k(t_new - p) y_new``.  Gaussian weights below ``1e-17`` are
  dropped (their contribution is below double rounding), so only bars within ``~8.9 h`` of either window
  edge change.  Per window and bandwidth this costs ``~3 * 8.9 h`` multiply-adds instead of ``38 * 38``.

The panel kernel loops time-major over blocks of 64 columns (SIMD across symbols; ``prange`` over blocks)
and keeps the running ``z`` of the 8 CV bandwidths in a ring indexed by bar (``p % 38``), with the block's
last 39 closes in a second ring, so the hot loops index with plain counters.  Per window it does: the slide
(``sum_k 3 reach_k + 1 = 617`` multiply-adds for the default grid), the 8 LOO scores (``8 x 38`` residuals),
the argmin, the chosen smoother directly (``38 x (2 reach + 1)`` multiply-adds, 5 taps for the usual
``0.3 x 1`` bar), the slope signs, and -- only when the smoothed curve turns on bar 34 (about half the
windows) -- the extrema scan and the ten tests.  That is about 3,400 flops per window against 25,992 for
nine dense 38 x 38 products.  :func:`lmw_mask_reference` is the plain per-window NumPy twin (explicit weight
matrices); tests check both give the same masks, bandwidth choices and smoothed curves (to 1e-12).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike, NDArray

from capscope.patterns.kernel_regression import (
    CV_NOISE_RTOL,
    DEFAULT_BANDWIDTHS,
    loo_cv_scores_reference,
    noise_floor,
    nw_weight_matrix,
    select_min_index,
)
from capscope.patterns.records import (
    KIND_BROADENING_BOTTOM,
    KIND_BROADENING_TOP,
    KIND_DOUBLE_BOTTOM,
    KIND_DOUBLE_TOP,
    KIND_HEAD_AND_SHOULDERS,
    KIND_INVERSE_HEAD_AND_SHOULDERS,
    KIND_RECTANGLE_BOTTOM,
    KIND_RECTANGLE_TOP,
    KIND_TRIANGLE_BOTTOM,
    KIND_TRIANGLE_TOP,
    MODE_LMW,
    STATUS_CONFIRMED,
    Line,
    PatternRecord,
    Point,
    as_date,
)

__all__ = [
    "BANDWIDTH_FACTOR",
    "CODES",
    "DEFAULT_WINDOW",
    "KIND_OF_CODE",
    "LAG",
    "LmwParams",
    "decode_mask",
    "find_lmw_patterns",
    "lmw_mask",
    "lmw_mask_reference",
    "lmw_patterns",
    "window_detail",
]

#: Window length ``l + d`` (LMW: 35 + 3).
DEFAULT_WINDOW = 38
#: Detection lag ``d``: bars between the completing extremum and the detection date.
LAG = 3
#: LMW smooth with ``0.3 h*``.
BANDWIDTH_FACTOR = 0.3
#: Tolerances of LMW Definitions 1, 4 and 5.
HS_TOL = 0.015
RECT_TOL = 0.0075
DOUBLE_TOL = 0.015
#: Double tops/bottoms: the two extremes more than 22 bars ("a month") apart.
DOUBLE_MIN_SEPARATION = 22
#: Slopes smaller than this fraction of the level count as flat.
FLAT_RTOL = 1e-10
#: Kernel weights below this (relative to the centre weight 1) are dropped in the fast path.
KERNEL_CUTOFF = 1e-17

#: Pattern codes in bit order: bit ``i`` of a mask is ``CODES[i]``.
CODES: tuple[str, ...] = ("HS", "IHS", "BTOP", "BBOT", "TTOP", "TBOT", "RTOP", "RBOT", "DTOP", "DBOT")
KIND_OF_CODE: dict[str, str] = {
    "HS": KIND_HEAD_AND_SHOULDERS,
    "IHS": KIND_INVERSE_HEAD_AND_SHOULDERS,
    "BTOP": KIND_BROADENING_TOP,
    "BBOT": KIND_BROADENING_BOTTOM,
    "TTOP": KIND_TRIANGLE_TOP,
    "TBOT": KIND_TRIANGLE_BOTTOM,
    "RTOP": KIND_RECTANGLE_TOP,
    "RBOT": KIND_RECTANGLE_BOTTOM,
    "DTOP": KIND_DOUBLE_TOP,
    "DBOT": KIND_DOUBLE_BOTTOM,
}
_BIT = {code: 1 << i for i, code in enumerate(CODES)}

_BLOCK = 64  # columns per block of the panel kernel (state: 8 x 38 x 64 doubles = 156 KB, L2-resident)


@dataclass(frozen=True)
class LmwParams:
    """Parameters of the LMW detector (defaults are the paper's).

    Attributes
    ----------
    window : int
        Bars per window, ``l + d`` (38).
    lag : int
        ``d``, bars between the completing extremum and detection (3).
    bandwidths : tuple of float
        Candidate bandwidths (bars) for the leave-one-out choice of ``h*``.
    factor : float
        Smoothing bandwidth is ``factor * h*`` (0.3).
    """

    window: int = DEFAULT_WINDOW
    lag: int = LAG
    bandwidths: tuple[float, ...] = DEFAULT_BANDWIDTHS
    factor: float = BANDWIDTH_FACTOR

    def __post_init__(self) -> None:
        if self.lag < 1:
            raise ValueError(f"lag must be >= 1 bar, got {self.lag}")
        if self.window < self.lag + 6:
            raise ValueError(f"window must be at least lag + 6 = {self.lag + 6} bars, got {self.window}")
        if len(self.bandwidths) == 0:
            raise ValueError("need at least one candidate bandwidth")
        for h in (*self.bandwidths, self.factor):
            if not (math.isfinite(h) and h > 0):
                raise ValueError(f"bandwidths and factor must be positive, got {h!r}")
        # the leave-one-out denominator r_i - 1 must stay representable
        for h in self.bandwidths:
            if math.exp(-1.0 / (2.0 * h * h)) < 1e-12:
                raise ValueError(
                    f"candidate bandwidth {h} is too small for leave-one-out CV (use >= 0.2 bars)"
                )

    @property
    def last_position(self) -> int:
        """Window position of the completing extremum, ``l - 1``."""
        return self.window - self.lag - 1


# ---------------------------------------------------------------------------------------------------------
# shared pieces: extrema of a smoothed window, mapping to closes, the ten definitions
# ---------------------------------------------------------------------------------------------------------


@njit(cache=True)
def _slope_sign(m: NDArray[np.float64], t: int) -> int:
    d = m[t] - m[t - 1]
    if abs(d) <= FLAT_RTOL * (abs(m[t]) + abs(m[t - 1])):
        return 0
    return 1 if d > 0 else -1


@njit(cache=True)
def _has_extremum_at(m: NDArray[np.float64], tau: int) -> bool:
    """True when the smoothed curve has a local extremum on bar ``tau`` (same rule as ``_find_extrema``)."""
    first = _slope_sign(m, tau)
    if first == 0:
        return False
    for t in range(tau + 1, m.size):
        sg = _slope_sign(m, t)
        if sg != 0:
            return sg != first
    return False


@njit(cache=True)
def _scan_extrema(
    sign: NDArray[np.int8],
    col: int,
    ybuf: NDArray[np.float64],
    yrow: NDArray[np.int64],
    last: int,
    pos: NDArray[np.int64],
    kind: NDArray[np.int64],
    price: NDArray[np.float64],
    at: NDArray[np.int64],
) -> int:
    """Extrema on window bars ``<= last`` from the slope signs ``sign[t, col]`` (of ``m[t] - m[t-1]``).

    The close of window bar ``j`` is ``ybuf[yrow[j], col]`` (the panel kernel keeps closes in a ring).
    Fills the smoothed extremum's position, its kind (+1 max, -1 min), the mapped close and the close's bar.
    """
    n = sign.shape[0]
    count = 0
    prev_sign = 0
    prev_pos = -1
    for t in range(1, n):
        sg = sign[t, col]
        if sg == 0:
            continue
        if prev_sign != 0 and sg != prev_sign:
            if prev_pos > last:
                break
            pos[count] = prev_pos
            kind[count] = prev_sign
            # LMW p. 1720: the extremum of the actual closes within tau - 1 .. tau + 1
            lo = max(prev_pos - 1, 0)
            hi = min(prev_pos + 1, n - 1)
            best = lo
            best_y = ybuf[yrow[lo], col]
            for j in range(lo + 1, hi + 1):
                yj = ybuf[yrow[j], col]
                if (prev_sign > 0 and yj > best_y) or (prev_sign < 0 and yj < best_y):
                    best = j
                    best_y = yj
            price[count] = best_y
            at[count] = best
            count += 1
        prev_sign = sg
        prev_pos = t
    return count


@njit(cache=True)
def _find_extrema(
    m: NDArray[np.float64],
    y: NDArray[np.float64],
    last: int,
    pos: NDArray[np.int64],
    kind: NDArray[np.int64],
    price: NDArray[np.float64],
    at: NDArray[np.int64],
) -> int:
    """Extrema of the smoothed curve ``m`` on bars ``<= last`` (see ``_scan_extrema``)."""
    n = m.size
    sign = np.zeros((n, 1), np.int8)
    for t in range(1, n):
        sign[t, 0] = _slope_sign(m, t)
    ybuf = np.empty((n, 1))
    ybuf[:, 0] = y
    return _scan_extrema(sign, 0, ybuf, np.arange(n), last, pos, kind, price, at)


@njit(cache=True)
def _within(a: float, b: float, tol: float) -> bool:
    avg = 0.5 * (a + b)
    return abs(a - avg) <= tol * avg and abs(b - avg) <= tol * avg


@njit(cache=True)
def _within3(a: float, b: float, c: float, tol: float) -> bool:
    avg = (a + b + c) / 3.0
    return abs(a - avg) <= tol * avg and abs(b - avg) <= tol * avg and abs(c - avg) <= tol * avg


@njit(cache=True)
def _classify(
    pos: NDArray[np.int64], kind: NDArray[np.int64], price: NDArray[np.float64], count: int, last: int
) -> int:
    """Bit mask of the LMW patterns completed by the extremum on bar ``last`` (see the module docstring)."""
    if count == 0 or pos[count - 1] != last:
        return 0
    mask = 0
    if count >= 5:
        k = count - 5
        e1 = price[k]
        e2 = price[k + 1]
        e3 = price[k + 2]
        e4 = price[k + 3]
        e5 = price[k + 4]
        if kind[k] > 0:
            if e3 > e1 and e3 > e5 and _within(e1, e5, HS_TOL) and _within(e2, e4, HS_TOL):
                mask |= 1 << 0  # HS
            if e1 < e3 < e5 and e2 > e4:
                mask |= 1 << 2  # BTOP
            if e1 > e3 > e5 and e2 < e4:
                mask |= 1 << 4  # TTOP
            if (
                _within3(e1, e3, e5, RECT_TOL)
                and _within(e2, e4, RECT_TOL)
                and min(e1, min(e3, e5)) > max(e2, e4)
            ):
                mask |= 1 << 6  # RTOP
        else:
            if e3 < e1 and e3 < e5 and _within(e1, e5, HS_TOL) and _within(e2, e4, HS_TOL):
                mask |= 1 << 1  # IHS
            if e1 > e3 > e5 and e2 < e4:
                mask |= 1 << 3  # BBOT
            if e1 < e3 < e5 and e2 > e4:
                mask |= 1 << 5  # TBOT
            if (
                _within3(e1, e3, e5, RECT_TOL)
                and _within(e2, e4, RECT_TOL)
                and min(e2, e4) > max(e1, max(e3, e5))
            ):
                mask |= 1 << 7  # RBOT
    if count >= 2 and pos[count - 1] - pos[0] > DOUBLE_MIN_SEPARATION:
        e1 = price[0]
        e_last = price[count - 1]
        if kind[0] > 0:
            is_sup = True
            for i in range(1, count - 1):
                if price[i] > e_last:
                    is_sup = False
            if is_sup and _within(e1, e_last, DOUBLE_TOL):
                mask |= 1 << 8  # DTOP
        else:
            is_inf = True
            for i in range(1, count - 1):
                if price[i] < e_last:
                    is_inf = False
            if is_inf and _within(e1, e_last, DOUBLE_TOL):
                mask |= 1 << 9  # DBOT
    return mask


# ---------------------------------------------------------------------------------------------------------
# reference twin: one window at a time with explicit weight matrices
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowDetail:
    """What the detector saw in one window (for records and tests)."""

    mask: int
    band_index: int
    bandwidth: float
    smoothed: NDArray[np.float64]
    positions: NDArray[np.int64]
    kinds: NDArray[np.int64]
    prices: NDArray[np.float64]
    price_positions: NDArray[np.int64]


@functools.lru_cache(maxsize=64)
def _smoother(n: int, h: float) -> NDArray[np.float64]:
    weights = nw_weight_matrix(n, h)
    weights.setflags(write=False)
    return weights


def window_detail(
    y: ArrayLike, params: LmwParams | None = None, *, band_index: int | None = None
) -> WindowDetail:
    """Run the LMW detector on one window of closes with plain NumPy (the reference computation).

    Parameters
    ----------
    y : array_like, shape (window,)
        Closes of one window, oldest first, no NaN.
    params : LmwParams, optional
        Detector parameters (paper defaults).
    band_index : int, optional
        Use this candidate instead of the cross-validated one (lets record building reuse the panel
        kernel's choice).

    Returns
    -------
    WindowDetail
        Mask of detected patterns, the chosen candidate, the smoothed curve and the extrema (window positions
        of the smoothed extrema, kinds, mapped closes and their positions).
    """
    p = params or LmwParams()
    values = np.asarray(y, dtype=np.float64)
    if values.shape != (p.window,) or not np.all(np.isfinite(values)):
        raise ValueError(f"need {p.window} finite closes, got shape {values.shape}")
    hs = np.asarray(p.bandwidths, dtype=np.float64)
    if band_index is None:
        band_index = int(select_min_index(loo_cv_scores_reference(values, hs), noise_floor(values)))
    bandwidth = float(hs[band_index]) * p.factor
    smoothed = _smoother(p.window, bandwidth) @ values
    n = p.window
    pos = np.zeros(n, np.int64)
    kind = np.zeros(n, np.int64)
    price = np.zeros(n)
    at = np.zeros(n, np.int64)
    # the extrema rule and the ten definitions are shared with the panel kernel (compiled); the smoothing and
    # the bandwidth choice above are the independent NumPy computation the kernel is tested against
    count = _find_extrema(smoothed, values, p.last_position, pos, kind, price, at)
    mask = _classify(pos, kind, price, count, p.last_position)
    return WindowDetail(
        mask=int(mask),
        band_index=band_index,
        bandwidth=bandwidth,
        smoothed=smoothed,
        positions=pos[:count].copy(),
        kinds=kind[:count].copy(),
        prices=price[:count].copy(),
        price_positions=at[:count].copy(),
    )


def _as_panel(close: ArrayLike) -> tuple[NDArray[np.float64], bool]:
    arr = np.asarray(close, dtype=np.float64)
    if arr.ndim == 1:
        return np.ascontiguousarray(arr[:, None]), True
    if arr.ndim != 2:
        raise ValueError(f"close must be 1-D (one symbol) or 2-D time-major (bars, symbols), got {arr.shape}")
    return np.ascontiguousarray(arr), False


def lmw_mask_reference(
    close: ArrayLike, params: LmwParams | None = None
) -> tuple[NDArray[np.uint16], NDArray[np.int8]]:
    """Plain per-window twin of :func:`lmw_mask` (slow; for tests)."""
    p = params or LmwParams()
    x, one_d = _as_panel(close)
    n_bars, n_cols = x.shape
    mask = np.zeros((n_bars, n_cols), np.uint16)
    band = np.full((n_bars, n_cols), -1, np.int8)
    for col in range(n_cols):
        for t in range(p.window - 1, n_bars):
            y = x[t - p.window + 1 : t + 1, col]
            if not np.all(np.isfinite(y)):
                continue
            detail = window_detail(y, p)
            mask[t, col] = detail.mask
            band[t, col] = detail.band_index
    if one_d:
        return mask[:, 0], band[:, 0]
    return mask, band


# ---------------------------------------------------------------------------------------------------------
# fast panel kernel
# ---------------------------------------------------------------------------------------------------------


def _tables(
    p: LmwParams,
) -> tuple[
    NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]
]:
    """Truncated kernel vectors (CV bandwidths, then smoothing bandwidths), their reach, the CV coefficients
    ``a``/``b`` and the smoothing rows' ``1 / rowsum``."""
    n = p.window
    hs = np.asarray(p.bandwidths, dtype=np.float64)
    all_h = np.concatenate([hs, hs * p.factor])
    lags = np.arange(n, dtype=np.float64)
    kern = np.exp(-(lags[None, :] ** 2) / (2.0 * all_h[:, None] ** 2))
    kern[kern < KERNEL_CUTOFF] = 0.0
    reach = np.array([int(np.flatnonzero(row)[-1]) for row in kern], dtype=np.int64)
    diff = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
    rowsum = kern[:, diff].sum(axis=2)  # (2 * n_cand, n)
    n_cand = hs.size
    cv_b = 1.0 / (rowsum[:n_cand] - 1.0)
    cv_a = 1.0 + cv_b
    inv_final = 1.0 / rowsum[n_cand:]
    return kern, reach, cv_a, cv_b, inv_final


@njit(cache=True)
def _full_state(
    x: NDArray[np.float64],
    col: int,
    s: int,
    t: int,
    kern: NDArray[np.float64],
    reach: NDArray[np.int64],
    z: NDArray[np.float64],
    c: int,
    n_cand: int,
) -> None:
    n = kern.shape[1]
    for b in range(n_cand):
        rb = reach[b]
        for p in range(s, t + 1):
            acc = 0.0
            for q in range(max(s, p - rb), min(t, p + rb) + 1):
                acc += kern[b, abs(p - q)] * x[q, col]
            z[b, p % n, c] = acc


@njit(cache=True)
def _smooth_at(
    y: NDArray[np.float64], i: int, kern: NDArray[np.float64], b: int, reach: int, inv_row: float
) -> float:
    acc = 0.0
    for j in range(max(0, i - reach), min(y.size - 1, i + reach) + 1):
        acc += kern[b, abs(i - j)] * y[j]
    return acc * inv_row


@njit(cache=True)
def _axpy(z: NDArray[np.float64], w: float, x: NDArray[np.float64]) -> None:
    for c in range(z.size):
        z[c] += w * x[c]


@njit(cache=True)
def _lmw_block(
    x: NDArray[np.float64],
    c0: int,
    c1: int,
    kern: NDArray[np.float64],
    reach: NDArray[np.int64],
    cv_a: NDArray[np.float64],
    cv_b: NDArray[np.float64],
    inv_final: NDArray[np.float64],
    last: int,
    mask_out: NDArray[np.uint16],
    band_out: NDArray[np.int8],
    smooth_out: NDArray[np.float64],
) -> None:
    n_bars = x.shape[0]
    n_cand = cv_a.shape[0]
    n = kern.shape[1]
    keep_smooth = smooth_out.shape[0] == n_bars
    width = c1 - c0
    # z[b, slot, c]: the unnormalised kernel sum (K_b y) at the bar whose ring slot is `slot` (bar p: p % n)
    z = np.zeros((n_cand, n, width))
    run = np.zeros(width, np.int64)
    cv = np.empty((n_cand, width))
    best = np.empty(width, np.int64)
    lowest = np.empty(width)
    users = np.zeros(n_cand, np.int64)
    msm = np.empty((n, width))
    sgn = np.zeros((n, width), np.int8)
    turn_to = np.zeros(width, np.int8)
    slot = np.empty(n, np.int64)
    pos = np.empty(n, np.int64)
    kind = np.empty(n, np.int64)
    price = np.empty(n)
    at = np.empty(n, np.int64)
    # the last n + 1 closes of the block in a ring (bar p in row p % (n + 1)): the hot loops then index
    # with plain loop counters, which numba can vectorise (x[., c0 + c] defeats it)
    xb = np.zeros((n + 1, width))
    xrow = np.empty(n + 1, np.int64)  # xrow[i + 1] = ring row of window bar i, i = -1 .. n - 1
    for t in range(n_bars):
        xs = t % (n + 1)
        for c in range(width):
            v = x[t, c0 + c]
            xb[xs, c] = v
            if np.isnan(v):
                run[c] = 0
            else:
                run[c] += 1
        if t < n - 1:
            continue
        s = t - n + 1
        for i in range(n):
            slot[i] = (s + i) % n
        for i in range(-1, n):
            xrow[i + 1] = (s + i) % (n + 1)
        if t >= n:
            # slide every state by one bar: only bars within `reach` of either edge change; the new bar
            # (slot[n - 1], which held the bar that left) gets a full one-sided sum
            out_row = xrow[0]
            in_row = xrow[n]
            for b in range(n_cand):
                rb = reach[b]
                for i in range(min(n - 1, rb)):
                    w = kern[b, i + 1]
                    sl = slot[i]
                    for c in range(width):
                        z[b, sl, c] -= w * xb[out_row, c]
                for i in range(max(0, n - 1 - rb), n - 1):
                    w = kern[b, n - 1 - i]
                    sl = slot[i]
                    for c in range(width):
                        z[b, sl, c] += w * xb[in_row, c]
                sl = slot[n - 1]
                for c in range(width):
                    z[b, sl, c] = xb[in_row, c]  # kern[b, 0] == 1
                for i in range(max(0, n - 1 - rb), n - 1):
                    w = kern[b, n - 1 - i]
                    row = xrow[i + 1]
                    for c in range(width):
                        z[b, sl, c] += w * xb[row, c]
        for c in range(width):
            if run[c] == n:  # first complete window after a gap (or at the start): build from scratch
                _full_state(x, c0 + c, s, t, kern, reach, z, c, n_cand)
        # leave-one-out CV score of every candidate, vectorised across the block; LOO residual a*y - b*z
        for k in range(n_cand):
            for c in range(width):
                cv[k, c] = 0.0
            for i in range(n):
                sl = slot[i]
                row = xrow[i + 1]
                ai = cv_a[k, i]
                bi = cv_b[k, i]
                for c in range(width):
                    r = ai * xb[row, c] - bi * z[k, sl, c]
                    cv[k, c] += r * r
        # argmin with select_min_index's tie rule (scores here are sums, not means: floor scaled by n)
        for c in range(width):
            lowest[c] = cv[0, c]
        for k in range(1, n_cand):
            for c in range(width):
                lowest[c] = min(lowest[c], cv[k, c])
        in_row = xrow[n]
        for c in range(width):
            level = xb[in_row, c]
            lowest[c] += 1e-9 * abs(lowest[c]) + n * CV_NOISE_RTOL * level * level
            best[c] = 0
        for k in range(n_cand - 1, -1, -1):
            for c in range(width):
                if cv[k, c] <= lowest[c]:
                    best[c] = k
        # the chosen smoother (bandwidth factor * h*): one vectorised pass over the whole block with the
        # bandwidth most columns chose (on most series nearly all choose the same), then the columns that
        # chose another one are recomputed one by one
        for k in range(n_cand):
            users[k] = 0
        for c in range(width):
            if run[c] >= n:
                users[best[c]] += 1
        major = 0
        for k in range(1, n_cand):
            if users[k] > users[major]:
                major = k
        fb = n_cand + major
        rb = reach[fb]
        for i in range(n):
            for c in range(width):
                msm[i, c] = 0.0
            for j in range(max(0, i - rb), min(n - 1, i + rb) + 1):
                w = kern[fb, abs(i - j)] * inv_final[major, i]
                row = xrow[j + 1]
                for c in range(width):
                    msm[i, c] += w * xb[row, c]
        for c in range(width):
            k = best[c]
            if run[c] < n or k == major:
                continue
            fb = n_cand + k
            rb = reach[fb]
            for i in range(n):
                a_i = 0.0
                for j in range(max(0, i - rb), min(n - 1, i + rb) + 1):
                    a_i += kern[fb, abs(i - j)] * inv_final[k, i] * xb[xrow[j + 1], c]
                msm[i, c] = a_i
        # slope signs of the smoothed curves (as _slope_sign), vectorised
        for i in range(1, n):
            for c in range(width):
                d = msm[i, c] - msm[i - 1, c]
                thr = FLAT_RTOL * (abs(msm[i, c]) + abs(msm[i - 1, c]))
                sgn[i, c] = 1 if d > thr else (-1 if d < -thr else 0)
        # cheap test first, vectorised: does the curve turn on bar `last`? (same rule as _has_extremum_at)
        for c in range(width):
            turn_to[c] = 0
        for i in range(n - 1, last, -1):
            for c in range(width):
                if sgn[i, c] != 0:
                    turn_to[c] = sgn[i, c]
        for c in range(width):
            if run[c] < n:
                continue
            col = c0 + c
            band_out[t, col] = best[c]
            if keep_smooth:
                for i in range(n):
                    smooth_out[t, col, i] = msm[i, c]
            first = sgn[last, c]
            if first == 0 or turn_to[c] != -first:
                continue
            count = _scan_extrema(sgn, c, xb, xrow[1:], last, pos, kind, price, at)
            mask_out[t, col] = _classify(pos, kind, price, count, last)


@njit(cache=True, parallel=True)
def _lmw_panel_nb(
    x: NDArray[np.float64],
    kern: NDArray[np.float64],
    reach: NDArray[np.int64],
    cv_a: NDArray[np.float64],
    cv_b: NDArray[np.float64],
    inv_final: NDArray[np.float64],
    last: int,
    block: int,
    mask_out: NDArray[np.uint16],
    band_out: NDArray[np.int8],
    smooth_out: NDArray[np.float64],
) -> None:
    n_cols = x.shape[1]
    n_blocks = (n_cols + block - 1) // block
    for blk in prange(n_blocks):
        c0 = blk * block
        _lmw_block(
            x,
            c0,
            min(c0 + block, n_cols),
            kern,
            reach,
            cv_a,
            cv_b,
            inv_final,
            last,
            mask_out,
            band_out,
            smooth_out,
        )


def lmw_mask(
    close: ArrayLike, params: LmwParams | None = None, *, return_smoothed: bool = False
) -> tuple[Any, ...]:
    """LMW pattern bit masks for every window end and column (fast panel kernel).

    Parameters
    ----------
    close : array_like, shape (n_bars,) or (n_bars, n_symbols)
        Closes, time-major; NaN where a symbol has no bar (windows containing NaN are skipped).
    params : LmwParams, optional
        Detector parameters (paper defaults).
    return_smoothed : bool
        Also return the smoothed curve of every window, shape ``(n_bars, n_symbols, window)`` (memory
        heavy; for tests).

    Returns
    -------
    mask : ndarray of uint16, same leading shape as ``close``
        Bit ``i`` set on bar ``D`` when pattern ``CODES[i]`` is detected in the window ending on ``D``.
    band : ndarray of int8
        Index of the cross-validated candidate bandwidth for each window (``-1`` where no window).
    smoothed : ndarray, optional
        Only with ``return_smoothed``.
    """
    p = params or LmwParams()
    x, one_d = _as_panel(close)
    n_bars, n_cols = x.shape
    kern, reach, cv_a, cv_b, inv_final = _tables(p)
    mask = np.zeros((n_bars, n_cols), np.uint16)
    band = np.full((n_bars, n_cols), -1, np.int8)
    smooth = (
        np.full((n_bars, n_cols, p.window), np.nan) if return_smoothed else np.empty((0, 0, 0), np.float64)
    )
    _lmw_panel_nb(x, kern, reach, cv_a, cv_b, inv_final, p.last_position, _BLOCK, mask, band, smooth)
    if one_d:
        mask, band, smooth = mask[:, 0], band[:, 0], smooth[:, 0] if return_smoothed else smooth
    if return_smoothed:
        return mask, band, smooth
    return mask, band


def decode_mask(mask: int) -> list[str]:
    """Pattern codes set in ``mask`` (in :data:`CODES` order)."""
    return [code for code in CODES if int(mask) & _BIT[code]]


# ---------------------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------------------

_FIVE_ROLES = {
    "HS": ("left_shoulder", "neckline_left", "head", "neckline_right", "right_shoulder"),
    "IHS": ("left_shoulder", "neckline_left", "head", "neckline_right", "right_shoulder"),
}
_TOP_ROLES = ("top_1", "bottom_1", "top_2", "bottom_2", "top_3")
_BOTTOM_ROLES = ("bottom_1", "top_1", "bottom_2", "top_2", "bottom_3")


def _rel_dev(values: Sequence[float]) -> float:
    avg = sum(values) / len(values)
    return max(abs(v - avg) for v in values) / avg


def _quality(code: str, e: Sequence[float]) -> float:
    """Quality in [0, 1]: how much room the defining conditions leave (documented in the README).

    Tolerance patterns (HS, IHS, RTOP, RBOT, DTOP, DBOT): ``1 - worst relative deviation / tolerance``, so 1
    means shoulders (tops, bottoms) exactly equal and 0 means at the edge of the tolerance.  Ordering patterns
    (BTOP, BBOT, TTOP, TBOT): the smallest gap of their strict inequalities divided by 1.5 percent of the
    average extreme, capped at 1 (a gap of 1.5 percent or more counts as unambiguous).
    """
    if code in ("HS", "IHS"):
        worst = max(_rel_dev([e[0], e[4]]), _rel_dev([e[1], e[3]])) / HS_TOL
    elif code == "RTOP" or code == "RBOT":
        worst = max(_rel_dev([e[0], e[2], e[4]]), _rel_dev([e[1], e[3]])) / RECT_TOL
    elif code in ("DTOP", "DBOT"):
        worst = _rel_dev([e[0], e[-1]]) / DOUBLE_TOL
    else:
        avg = sum(e) / len(e)
        gaps = [abs(e[2] - e[0]), abs(e[4] - e[2]), abs(e[3] - e[1])]
        return float(min(1.0, min(gaps) / (HS_TOL * avg)))
    return float(min(1.0, max(0.0, 1.0 - worst)))


def _records_for_window(
    symbol: str, dates: NDArray[Any], close: NDArray[np.float64], t: int, detail: WindowDetail, p: LmwParams
) -> list[PatternRecord]:
    s = t - p.window + 1
    out: list[PatternRecord] = []
    end_date = as_date(dates[t])
    for code in decode_mask(detail.mask):
        roles: tuple[str, ...]
        if code in ("DTOP", "DBOT"):
            idx = [0, len(detail.prices) - 1]
            roles = ("top_1", "top_2") if code == "DTOP" else ("bottom_1", "bottom_2")
        else:
            idx = list(range(len(detail.prices) - 5, len(detail.prices)))
            roles = _FIVE_ROLES.get(code, _TOP_ROLES if detail.kinds[idx[0]] > 0 else _BOTTOM_ROLES)
        bars = [s + int(detail.price_positions[i]) for i in idx]
        prices = [float(detail.prices[i]) for i in idx]
        points = tuple(
            Point(role, dates[bar], price, index=bar)
            for role, bar, price in zip(roles, bars, prices, strict=True)
        )
        neckline = None
        target = None
        invalidation: float | None = None
        if code in ("HS", "IHS"):
            neckline = Line(
                dates[bars[1]], prices[1], dates[bars[3]], prices[3], index0=bars[1], index1=bars[3]
            )
            head_gap = prices[2] - neckline.price_at(bars[2])
            target = neckline.price_at(bars[4]) - head_gap
            invalidation = prices[2]
        elif code in ("DTOP", "DBOT"):
            invalidation = max(prices) if code == "DTOP" else min(prices)
        out.append(
            PatternRecord(
                symbol=symbol,
                kind=KIND_OF_CODE[code],
                status=STATUS_CONFIRMED,
                points=points,
                neckline=neckline,
                breakout=None,
                target=target,
                invalidation=invalidation,
                quality=_quality(code, prices),
                date=end_date,
                mode=MODE_LMW,
                scale=float(p.window),
                extra={
                    "code": code,
                    "window_start": as_date(dates[s]),
                    "bandwidth": detail.bandwidth,
                    "cv_bandwidth": float(p.bandwidths[detail.band_index]),
                    "smoothed_positions": [s + int(detail.positions[i]) for i in idx],
                },
            )
        )
    return out


def lmw_patterns(
    close: ArrayLike,
    *,
    dates: ArrayLike,
    symbols: Sequence[str] | str,
    window: int = DEFAULT_WINDOW,
    params: LmwParams | None = None,
) -> list[PatternRecord]:
    """Every LMW pattern detected in ``close`` as :class:`PatternRecord` (``mode="lmw"``, ``confirmed``).

    Parameters
    ----------
    close : array_like, shape (n_bars,) or (n_bars, n_symbols)
        Closes, time-major; NaN where a symbol has no bar.
    dates : array_like of dates, shape (n_bars,)
        Bar dates.
    symbols : str or sequence of str
        Symbol (1-D input) or one symbol per column.
    window : int
        Window length ``l + d`` (38, the paper's); ignored when ``params`` is given.
    params : LmwParams, optional
        Full parameter set.

    Returns
    -------
    list of PatternRecord
        Sorted by (date, symbol, kind).  Each record's ``date`` is the window's last bar (``LAG`` bars after
        the completing extremum); its points are the actual closes the extrema were mapped to.
    """
    p = params or LmwParams(window=window)
    x, _ = _as_panel(close)
    day = np.asarray(dates)
    names = [symbols] if isinstance(symbols, str) else list(symbols)
    if day.shape != (x.shape[0],):
        raise ValueError(f"dates has shape {day.shape}, close has {x.shape[0]} bars")
    if len(names) != x.shape[1]:
        raise ValueError(f"{len(names)} symbols for {x.shape[1]} columns")
    mask, band = lmw_mask(x, p)
    # datetime.date objects once, not one numpy conversion per point
    py_dates = np.array([as_date(d) for d in day], dtype=object) if mask.any() else day
    records: list[PatternRecord] = []
    for t, col in zip(*np.nonzero(mask), strict=True):
        y = x[t - p.window + 1 : t + 1, col]
        detail = window_detail(y, p, band_index=int(band[t, col]))
        if detail.mask == 0:  # a near-tie resolved differently by rounding: keep what the records can show
            continue
        records.extend(_records_for_window(names[col], py_dates, x[:, col], int(t), detail, p))
    records.sort(key=lambda r: (r.date, r.symbol, r.kind))
    return records


def find_lmw_patterns(
    close: ArrayLike, dates: ArrayLike, symbol: str, *, as_of: Any = None, params: LmwParams | None = None
) -> list[PatternRecord]:
    """LMW patterns of one symbol, using only bars on or before ``as_of``.

    Parameters
    ----------
    close : array_like, shape (n_bars,)
        Closes of one symbol, oldest first (NaN = no bar).
    dates : array_like, shape (n_bars,)
        Their dates (``datetime64[D]``, ``datetime.date`` or ISO strings), increasing.
    symbol : str
        Symbol name for the records.
    as_of : date-like, optional
        Last date that may be used; bars after it are dropped before anything is computed.
    params : LmwParams, optional
        Detector parameters (paper defaults).

    Returns
    -------
    list of PatternRecord
        One record per pattern and detection window, status ``confirmed``, ``mode="lmw"``.
    """
    values = np.asarray(close, dtype=np.float64)
    day = np.asarray(dates).astype("datetime64[D]")
    if values.ndim != 1 or values.shape != day.shape:
        raise ValueError(f"close and dates must be 1-D of equal length, got {values.shape} and {day.shape}")
    if as_of is not None:
        keep = day <= np.datetime64(as_date(as_of), "D")
        values, day = values[keep], day[keep]
    return lmw_patterns(values, dates=day, symbols=symbol, params=params)
