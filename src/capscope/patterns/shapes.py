"""Chart-pattern geometry on a sequence of confirmed, alternating swing points (chartist mode).

Every rule here looks only at a window of *consecutive* pivots of one zig-zag scale (see
:mod:`capscope.indicators.pivots`), so a shape is knowable on the confirmation bar of its last pivot. The rules
follow the chartist literature (Edwards & Magee, *Technical Analysis of Stock Trends*; Bulkowski,
*Encyclopedia of Chart Patterns*, 2nd ed. 2005) turned into explicit, documented thresholds expressed as
fractions of the pattern's own height, so they are scale-free (an index at 2,000 and a $5 stock alike).

Bottom shapes (inverse head-and-shoulders, double and triple bottoms) are written once; top shapes are the same
rules applied to the mirrored series (prices negated, highs and lows swapped). Triangles, rectangles and
broadening formations are two-sided and detected directly.

Notation in the docstrings: pivots ``P0 .. Pm`` of one window, ``t`` their bars and ``x`` their prices; ``H`` the
pattern height; ``nl(t)`` the neckline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Candidate", "ShapeParams", "find_bottoms", "find_two_sided"]


@dataclass(frozen=True)
class ShapeParams:
    """Documented geometric thresholds (fractions of the pattern height ``H`` unless noted).

    Attributes
    ----------
    min_bars
        Minimum width of a formation, first to last point, in bars.
    prior_trend
        Reversal shapes need a prior trend: the swing point before the formation (``P0``) must lie beyond the
        neckline by at least ``prior_trend * H`` (above it for bottoms: the market fell into the pattern).
    hs_balance
        Head-and-shoulders: ``min(d_left, d_right) / max(d_left, d_right)`` of the shoulder depths below the
        neckline must be at least this (Bulkowski: shoulders at about the same price).
    hs_shoulder_min
        Each shoulder at least ``hs_shoulder_min * H`` below the neckline.
    hs_head_margin
        The head at least ``hs_head_margin * H`` beyond the deeper shoulder.
    hs_symmetry
        ``min / max`` of the bar counts left shoulder -> head and head -> right shoulder.
    hs_neckline_slope
        ``|x4 - x2| <= hs_neckline_slope * H``: the neckline may slope, but not more than this.
    equal_tol
        Double / triple bottoms: the bottoms within ``equal_tol * H`` of each other.
    flat_tol
        Triangles and rectangles: a boundary is flat when it moves by at most ``flat_tol * H0`` over the
        formation (``H0`` = height at the first point), rising / falling beyond that.
    fit_tol
        Triangles and rectangles: every pivot within ``fit_tol * H0`` of its boundary line, and every close
        inside the boundaries +- ``fit_tol * H0`` between the first and last point.
    min_end_height
        Triangles: the boundaries must still be at least ``min_end_height * H0`` apart at the last point.
    """

    min_bars: int = 10
    prior_trend: float = 0.25
    hs_balance: float = 0.5
    hs_shoulder_min: float = 0.25
    hs_head_margin: float = 0.10
    hs_symmetry: float = 0.4
    hs_neckline_slope: float = 0.6
    equal_tol: float = 0.2
    flat_tol: float = 0.1
    fit_tol: float = 0.15
    min_end_height: float = 0.2


@dataclass
class Candidate:
    """A shape found on one pivot window, before its life-cycle is evaluated.

    Prices are in the window's orientation (negated for mirrored tops); the chartist layer maps them back.
    ``pivots`` are positions into the pivot arrays, in the order of ``roles``. ``neckline`` is
    ``(t0, p0, t1, p1)`` in bars (``None`` for two-sided shapes before a breakout). ``height`` is the measured
    move. ``upper``/``lower`` are the boundaries of two-sided shapes.
    """

    kind: str
    roles: tuple[str, ...]
    pivots: tuple[int, ...]
    neckline: tuple[float, float, float, float] | None
    height: float
    invalidation: float | None
    quality: float
    upper: tuple[float, float, float, float] | None = None
    lower: tuple[float, float, float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _line_at(line: tuple[float, float, float, float], t: float) -> float:
    t0, p0, t1, p1 = line
    if t1 == t0:
        return p0
    return p0 + (p1 - p0) * (t - t0) / (t1 - t0)


def _clip01(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


# ---------------------------------------------------------------------------------------------------------
# bottoms (tops = the same on the mirrored series)


def _inverse_hs(t: np.ndarray, x: np.ndarray, j: int, p: ShapeParams) -> Candidate | None:
    """Inverse head-and-shoulders on ``P0 (high), LS, NL_left, HEAD, NL_right, RS`` = pivots ``j-5 .. j``.

    Rules: head below both shoulders by ``hs_head_margin * H``; neckline through the two reaction highs;
    ``H = nl(t_head) - x_head``; both shoulders ``>= hs_shoulder_min * H`` below the neckline with depth ratio
    ``>= hs_balance``; time symmetry ``>= hs_symmetry``; neckline rise ``<= hs_neckline_slope * H``; prior
    trend: ``x0 >= nl(t0) + prior_trend * H``; width ``>= min_bars``.
    Quality: mean of shoulder balance, time symmetry, neckline flatness ``1 - |x4 - x2| / (slope_max H)`` and
    head prominence ``min(1, margin / (0.5 H))``.
    """
    t0, t1, t2, t3, t4, t5 = (float(v) for v in t[j - 5 : j + 1])
    x0, x1, x2, x3, x4, x5 = (float(v) for v in x[j - 5 : j + 1])
    if t5 - t1 < p.min_bars:
        return None
    neck = (t2, x2, t4, x4)
    height = _line_at(neck, t3) - x3
    if height <= 0:
        return None
    margin = min(x1, x5) - x3
    if margin < p.hs_head_margin * height:
        return None
    d1, d5 = _line_at(neck, t1) - x1, _line_at(neck, t5) - x5
    if min(d1, d5) < p.hs_shoulder_min * height:
        return None
    balance = min(d1, d5) / max(d1, d5)
    if balance < p.hs_balance:
        return None
    s1, s2 = t3 - t1, t5 - t3
    symmetry = min(s1, s2) / max(s1, s2)
    if symmetry < p.hs_symmetry:
        return None
    if abs(x4 - x2) > p.hs_neckline_slope * height:
        return None
    if x0 < _line_at(neck, t0) + p.prior_trend * height:
        return None
    flatness = 1.0 - abs(x4 - x2) / (p.hs_neckline_slope * height)
    quality = (balance + symmetry + _clip01(flatness) + _clip01(margin / (0.5 * height))) / 4.0
    return Candidate(
        kind="inverse_head_and_shoulders",
        roles=("prior_trend", "left_shoulder", "neckline_left", "head", "neckline_right", "right_shoulder"),
        pivots=tuple(range(j - 5, j + 1)),
        neckline=neck,
        height=height,
        invalidation=x3,
        quality=_clip01(quality),
        extra={"shoulder_balance": balance, "time_symmetry": symmetry},
    )


def _double_bottom(t: np.ndarray, x: np.ndarray, j: int, p: ShapeParams) -> Candidate | None:
    """Double bottom on ``P0 (high), BOTTOM1, PEAK, BOTTOM2`` = pivots ``j-3 .. j``.

    Rules: ``H = x_peak - min(bottoms)``; ``|x1 - x3| <= equal_tol * H``; width ``>= min_bars``; prior trend
    ``x0 >= x_peak + prior_trend * H``. Neckline: horizontal through the peak (Bulkowski's confirmation
    line). Quality: mean of bottom equality ``1 - |x1 - x3| / (equal_tol H)`` and prior-trend strength
    ``min(1, (x0 - x_peak) / H)``.
    """
    _, t1, t2, t3 = (float(v) for v in t[j - 3 : j + 1])
    x0, x1, x2, x3 = (float(v) for v in x[j - 3 : j + 1])
    if t3 - t1 < p.min_bars:
        return None
    height = x2 - min(x1, x3)
    if height <= 0 or abs(x1 - x3) > p.equal_tol * height:
        return None
    if x0 < x2 + p.prior_trend * height:
        return None
    equality = 1.0 - abs(x1 - x3) / (p.equal_tol * height)
    quality = (_clip01(equality) + _clip01((x0 - x2) / height)) / 2.0
    return Candidate(
        kind="double_bottom",
        roles=("prior_trend", "first_bottom", "peak", "second_bottom"),
        pivots=tuple(range(j - 3, j + 1)),
        neckline=(t2, x2, t3, x2),
        height=height,
        invalidation=min(x1, x3),
        quality=_clip01(quality),
    )


def _triple_bottom(t: np.ndarray, x: np.ndarray, j: int, p: ShapeParams) -> Candidate | None:
    """Triple bottom on ``P0 (high), B1, PEAK1, B2, PEAK2, B3`` = pivots ``j-5 .. j``.

    Rules: ``H = max(peaks) - min(bottoms)``; the three bottoms within ``equal_tol * H``; not an inverse
    head-and-shoulders (the middle bottom is not ``hs_head_margin * H`` below both others); width
    ``>= min_bars``; prior trend ``x0 >= max(peaks) + prior_trend * H``. Neckline: horizontal through the
    higher peak. Quality as for the double bottom.
    """
    t1, t5 = float(t[j - 4]), float(t[j])
    x0, x1, x2, x3, x4, x5 = (float(v) for v in x[j - 5 : j + 1])
    if t5 - t1 < p.min_bars:
        return None
    top = max(x2, x4)
    lows = (x1, x3, x5)
    height = top - min(lows)
    spread = max(lows) - min(lows)
    if height <= 0 or spread > p.equal_tol * height:
        return None
    if min(x1, x5) - x3 >= p.hs_head_margin * height:
        return None  # that is an inverse head-and-shoulders
    if x0 < top + p.prior_trend * height:
        return None
    t_top = float(t[j - 3]) if x2 >= x4 else float(t[j - 1])
    equality = 1.0 - spread / (p.equal_tol * height)
    quality = (_clip01(equality) + _clip01((x0 - top) / height)) / 2.0
    return Candidate(
        kind="triple_bottom",
        roles=("prior_trend", "first_bottom", "first_peak", "second_bottom", "second_peak", "third_bottom"),
        pivots=tuple(range(j - 5, j + 1)),
        neckline=(t_top, top, t5, top),
        height=height,
        invalidation=min(lows),
        quality=_clip01(quality),
    )


_BOTTOM_RULES = {
    "inverse_head_and_shoulders": (5, _inverse_hs),
    "double_bottom": (3, _double_bottom),
    "triple_bottom": (5, _triple_bottom),
}


def find_bottoms(
    t: np.ndarray, x: np.ndarray, kind: np.ndarray, p: ShapeParams, kinds: frozenset[str]
) -> list[Candidate]:
    """All bottom shapes whose last pivot is a swing low, on one oriented pivot sequence.

    Parameters
    ----------
    t, x, kind
        Pivot bars, prices and kinds (``-1`` = low) in the bottom orientation, alternating.
    p
        Thresholds.
    kinds
        Bottom kinds wanted (``inverse_head_and_shoulders``, ``double_bottom``, ``triple_bottom``).
    """
    out: list[Candidate] = []
    n = len(t)
    for name, (span, rule) in _BOTTOM_RULES.items():
        if name not in kinds or n <= span:
            continue
        # cheap necessary conditions, vectorised over all windows; the rule re-checks everything
        j = np.arange(span, n)
        keep = kind[j] == -1
        if name == "double_bottom":
            height = x[j - 1] - np.minimum(x[j], x[j - 2])
            keep &= np.abs(x[j] - x[j - 2]) <= p.equal_tol * height
        else:
            if name == "inverse_head_and_shoulders":
                keep &= (x[j - 2] < x[j]) & (x[j - 2] < x[j - 4])
            else:
                lows = np.stack([x[j], x[j - 2], x[j - 4]])
                height = np.maximum(x[j - 1], x[j - 3]) - lows.min(axis=0)
                keep &= lows.max(axis=0) - lows.min(axis=0) <= p.equal_tol * height
        for jj in j[keep]:
            cand = rule(t, x, int(jj), p)
            if cand is not None:
                out.append(cand)
    out.sort(key=lambda c: (c.pivots[-1], c.kind))
    return out


# ---------------------------------------------------------------------------------------------------------
# two-sided: triangles, rectangles, broadening formations


#: (upper boundary, lower boundary) direction -> shape; 0 flat, +1 rising, -1 falling.
_SHAPE_BY_SLOPES = {
    (0, 1): "ascending_triangle",
    (-1, 0): "descending_triangle",
    (-1, 1): "symmetric_triangle",
    (0, 0): "rectangle",
    (1, -1): "broadening",
}


def find_two_sided(
    t: np.ndarray,
    x: np.ndarray,
    kind: np.ndarray,
    close: np.ndarray,
    p: ShapeParams,
    kinds: frozenset[str],
) -> list[Candidate]:
    """Triangles, rectangles and broadening formations on windows of five consecutive pivots.

    Rules (pivots ``P1 .. P5``, three on one boundary and two on the other, as in Lo, Mamaysky and Wang
    2000): least-squares boundary lines through the highs (``upper``) and lows (``lower``); ``H0`` =
    ``upper - lower`` at ``t1``; pivots within ``fit_tol * H0`` of their line; closes between ``t1`` and ``t5``
    within the boundaries +- ``fit_tol * H0``; width ``>= min_bars``. Each boundary is *flat*, *rising* or
    *falling* (its move over the formation against ``flat_tol * H0``): flat upper + rising lower = ascending
    triangle; falling upper + flat lower = descending; falling + rising = symmetric; both flat = rectangle;
    rising upper + falling lower = broadening. Triangles must still be ``min_end_height * H0`` wide at ``t5``.
    The measured move is the widest height of the formation.
    Quality: mean of line fit ``1 - max residual / (fit_tol H0)`` and classification clarity (flat lines:
    ``1 - |move| / (flat_tol H0)``; sloped lines: ``min(1, |move| / (2 flat_tol H0))``).
    """
    m = len(t) - 4
    if m <= 0:
        return []
    # windows of five pivots as rows (vectorised over all windows; alternation makes two layouts)
    rows = np.arange(m)[:, None] + np.arange(5)[None, :]
    tt = t[rows].astype(np.float64)
    xx = x[rows]
    starts_high = kind[:m] > 0
    # the side with three pivots (positions 0, 2, 4) and the side with two (1, 3)
    t3, x3 = tt[:, [0, 2, 4]], xx[:, [0, 2, 4]]
    t2, x2 = tt[:, [1, 3]], xx[:, [1, 3]]
    tm3, xm3 = t3.mean(axis=1), x3.mean(axis=1)
    slope3 = ((t3 - tm3[:, None]) * (x3 - xm3[:, None])).sum(axis=1) / ((t3 - tm3[:, None]) ** 2).sum(axis=1)
    icpt3 = xm3 - slope3 * tm3
    resid3 = np.abs(x3 - (slope3[:, None] * t3 + icpt3[:, None])).max(axis=1)
    slope2 = (x2[:, 1] - x2[:, 0]) / (t2[:, 1] - t2[:, 0])
    icpt2 = x2[:, 0] - slope2 * t2[:, 0]
    su = np.where(starts_high, slope3, slope2)
    iu = np.where(starts_high, icpt3, icpt2)
    sl = np.where(starts_high, slope2, slope3)
    il = np.where(starts_high, icpt2, icpt3)
    first, last = tt[:, 0], tt[:, 4]
    h0 = (su * first + iu) - (sl * first + il)
    h1 = (su * last + iu) - (sl * last + il)
    du, dl = su * (last - first), sl * (last - first)
    flat = p.flat_tol * np.where(h0 > 0, h0, np.inf)
    up = np.where(np.abs(du) <= flat, 0, np.sign(du)).astype(np.int64)
    lo = np.where(np.abs(dl) <= flat, 0, np.sign(dl)).astype(np.int64)
    ok = (last - first >= p.min_bars) & (h0 > 0) & (h1 > 0) & (resid3 <= p.fit_tol * h0)
    out: list[Candidate] = []
    for w in np.flatnonzero(ok):
        name = _SHAPE_BY_SLOPES.get((int(up[w]), int(lo[w])))
        if name is None or name not in kinds:
            continue
        a, b = float(h0[w]), float(h1[w])
        if name.endswith("triangle") and b < p.min_end_height * a:
            continue
        f0, f1 = int(first[w]), int(last[w])
        bars = np.arange(f0, f1 + 1)
        tol = p.fit_tol * a
        seg = close[f0 : f1 + 1]
        if np.any(seg > su[w] * bars + iu[w] + tol) or np.any(seg < sl[w] * bars + il[w] - tol):
            continue
        clarity = []
        for move in (float(du[w]), float(dl[w])):
            if abs(move) <= p.flat_tol * a:
                clarity.append(1.0 - abs(move) / (p.flat_tol * a))
            else:
                clarity.append(min(1.0, abs(move) / (2 * p.flat_tol * a)))
        fit = 1.0 - float(resid3[w]) / (p.fit_tol * a)
        kk = kind[w : w + 5]
        out.append(
            Candidate(
                kind=name,
                roles=tuple(
                    f"{'upper' if k > 0 else 'lower'}_{n}"
                    for k, n in zip(kk, _touch_numbers(kk), strict=True)
                ),
                pivots=tuple(range(w, w + 5)),
                neckline=None,
                height=max(a, b),
                invalidation=None,
                quality=_clip01((_clip01(fit) + float(np.mean(clarity))) / 2.0),
                upper=(
                    float(first[w]),
                    float(su[w] * first[w] + iu[w]),
                    float(last[w]),
                    float(su[w] * last[w] + iu[w]),
                ),
                lower=(
                    float(first[w]),
                    float(sl[w] * first[w] + il[w]),
                    float(last[w]),
                    float(sl[w] * last[w] + il[w]),
                ),
            )
        )
    return out


def _touch_numbers(kk: np.ndarray) -> list[int]:
    counts = {1: 0, -1: 0}
    out = []
    for k in kk:
        counts[int(k)] += 1
        out.append(counts[int(k)])
    return out
