"""Chartist shapes on generated series: every shape clean / noisy / stretched (and sloped necklines) is found
with the right points (within one bar), neckline, breakout and target; near-misses are rejected; the
life-cycle moves forming -> confirmed -> target_reached / failed on the documented rules.

Expected values are computed here from the generating geometry (anchor points, bar spread) and TA-Lib's ATR,
independently of the detector.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest
import talib  # a declared test dependency: a missing TA-Lib must fail, not skip
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from capscope.patterns.api import find_patterns
from capscope.patterns.records import PatternRecord

SPREAD = 0.004  # high = close * (1 + SPREAD), low = close * (1 - SPREAD)
BREAKOUT_ATR = 0.25


@dataclass
class Series:
    dates: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    anchors: list[tuple[int, float]]

    def as_input(self, end: int | None = None) -> dict[str, np.ndarray]:
        sl = slice(None) if end is None else slice(0, end + 1)
        return {"date": self.dates[sl], "high": self.high[sl], "low": self.low[sl], "close": self.close[sl]}

    @property
    def atr(self) -> np.ndarray:
        return talib.ATR(self.high, self.low, self.close, 14)


def make_series(
    anchors: list[tuple[int, float]], *, stretch: int = 1, noise: float = 0.0, seed: int = 0
) -> Series:
    """Piecewise-linear closes through ``anchors`` (bar, price); bars scaled by ``stretch``; iid noise."""
    pts = [(b * stretch, p) for b, p in anchors]
    n = pts[-1][0] + 1
    close = np.interp(np.arange(n), [b for b, _ in pts], [p for _, p in pts])
    if noise:
        rng = np.random.default_rng(seed)
        jitter = rng.normal(0.0, noise, n)
        jitter[[b for b, _ in pts]] = 0.0  # the anchors stay the extremes
        close = close * np.exp(jitter)
    dates = np.busday_offset(np.datetime64("2020-01-01"), np.arange(n), roll="forward")
    return Series(dates, close * (1 + SPREAD), close * (1 - SPREAD), close, pts)


def mirror(anchors: list[tuple[int, float]], around: float = 220.0) -> list[tuple[int, float]]:
    return [(b, around - p) for b, p in anchors]


def hi(p: float) -> float:
    return p * (1 + SPREAD)


def lo(p: float) -> float:
    return p * (1 - SPREAD)


def matching(records: list[PatternRecord], kind: str, bars: dict[str, int], tol: int = 1) -> PatternRecord:
    """The record of ``kind`` whose points with these roles are within ``tol`` bars of ``bars``."""
    for rec in records:
        if rec.kind != kind:
            continue
        roles = {p.role: p.index for p in rec.points}
        if all(r in roles and abs(int(roles[r]) - b) <= tol for r, b in bars.items()):  # type: ignore[operator]
            return rec
    found = [(r.kind, [(p.role, p.index) for p in r.points]) for r in records]
    raise AssertionError(f"no {kind} with points {bars}; found {found}")


def expected_breakout(s: Series, start: int, neck, up: bool = True) -> int:  # type: ignore[no-untyped-def]
    atr = s.atr
    for t in range(start + 1, len(s.close)):
        level = neck(t)
        if up and s.close[t] > level + BREAKOUT_ATR * atr[t]:
            return t
        if not up and s.close[t] < level - BREAKOUT_ATR * atr[t]:
            return t
    raise AssertionError("the generated series never breaks out")


# -- head-and-shoulders family ---------------------------------------------------------------------------

IHS = [(0, 118), (15, 122), (30, 100), (40, 110), (55, 90), (70, 110), (82, 100), (120, 140)]
IHS_SLOPED = [(0, 118), (15, 124), (30, 98), (40, 110), (55, 90), (70, 116), (82, 106), (125, 150)]
IHS_ROLES = ("prior_trend", "left_shoulder", "neckline_left", "head", "neckline_right", "right_shoulder")


@pytest.mark.parametrize(
    ("anchors", "stretch", "noise"),
    [
        (IHS, 1, 0.0),
        (IHS, 1, 0.0015),
        (IHS, 3, 0.0),
        (IHS, 3, 0.0015),
        (IHS_SLOPED, 1, 0.0),
        (IHS_SLOPED, 2, 0.0015),
    ],
    ids=["clean", "noisy", "stretched", "stretched-noisy", "sloped", "sloped-stretched-noisy"],
)
@pytest.mark.parametrize("top", [False, True], ids=["inverse", "regular"])
def test_head_and_shoulders(anchors, stretch: int, noise: float, top: bool) -> None:  # type: ignore[no-untyped-def]
    s = make_series(mirror(anchors) if top else anchors, stretch=stretch, noise=noise, seed=7)
    kind = "head_and_shoulders" if top else "inverse_head_and_shoulders"
    bars = {role: b for role, (b, _) in zip(IHS_ROLES, s.anchors[1:], strict=False)}
    recs = find_patterns(s.as_input(), kinds=[kind])
    rec = matching(recs, kind, {r: b for r, b in bars.items() if r != "prior_trend"})
    # the neckline runs through the two reaction extremes (highs for the inverse, lows for the top)
    ext, opp = (lo, hi) if top else (hi, lo)
    (t2, x2), (t3, x3), (t4, x4) = s.anchors[3], s.anchors[4], s.anchors[5]
    n2, n4, head = ext(x2), ext(x4), opp(x3)
    rtol = 0.0 if noise == 0 else 0.01
    assert rec.neckline is not None
    assert rec.neckline.price0 == pytest.approx(n2, rel=max(rtol, 1e-12))
    assert rec.neckline.price1 == pytest.approx(n4, rel=max(rtol, 1e-12))

    def neck(t: float) -> float:
        return n2 + (n4 - n2) * (t - t2) / (t4 - t2)

    height = abs(neck(t3) - head)
    assert rec.extra["height"] == pytest.approx(height, rel=max(rtol, 1e-9))
    t_b = expected_breakout(s, s.anchors[6][0], neck, up=not top)
    assert rec.breakout is not None
    assert abs(int(rec.breakout.index) - t_b) <= (0 if noise == 0 else 1)  # type: ignore[arg-type]
    target = neck(rec.breakout.index) + (-height if top else height)
    assert rec.target == pytest.approx(target, rel=max(rtol, 1e-9))
    assert rec.invalidation == pytest.approx(head, rel=max(rtol, 1e-12))
    assert rec.status == "target_reached"
    assert 0.0 <= rec.quality <= 1.0
    for p in rec.points:
        assert rec.date >= p.date and p.confirm_date is not None and rec.date >= p.confirm_date


@pytest.mark.parametrize(
    ("anchors", "why"),
    [
        # right shoulder barely below the neckline: shoulders unbalanced
        ([(0, 118), (15, 122), (30, 100), (40, 110), (55, 90), (70, 110), (82, 107), (120, 140)], "balance"),
        # left shoulder far deeper than the right one
        ([(0, 118), (15, 122), (30, 93), (40, 110), (55, 90), (70, 110), (82, 104), (120, 140)], "balance"),
        # no prior decline: the market rose into the left shoulder from below the neckline
        ([(0, 80), (25, 104), (33, 98), (43, 110), (58, 88), (73, 110), (85, 98), (120, 140)], "trend"),
        # head not below the shoulders
        ([(0, 118), (15, 122), (30, 95), (40, 110), (55, 94), (70, 110), (82, 96), (120, 140)], "head"),
        # shoulders badly out of time symmetry (left half 5x the right half)
        ([(0, 118), (15, 122), (20, 100), (45, 110), (70, 90), (73, 110), (76, 100), (120, 140)], "time"),
    ],
    ids=["rs-too-shallow", "ls-too-deep", "no-prior-trend", "no-head", "asymmetric"],
)
def test_head_and_shoulders_near_misses(anchors, why: str) -> None:  # type: ignore[no-untyped-def]
    s = make_series(anchors)
    assert find_patterns(s.as_input(), kinds=["inverse_head_and_shoulders"]) == [], why
    m = make_series(mirror(anchors))
    assert find_patterns(m.as_input(), kinds=["head_and_shoulders"]) == [], why


# -- double and triple bottoms / tops -----------------------------------------------------------------------

DOUBLE = [(0, 118), (15, 122), (30, 100), (45, 112), (60, 100.5), (95, 135)]
TRIPLE = [(0, 118), (15, 122), (30, 100), (42, 111), (55, 100.5), (68, 110.5), (80, 99.8), (115, 135)]


@pytest.mark.parametrize(("stretch", "noise"), [(1, 0.0), (1, 0.0015), (3, 0.0), (3, 0.0015)])
@pytest.mark.parametrize("top", [False, True], ids=["bottom", "top"])
def test_double(stretch: int, noise: float, top: bool) -> None:
    s = make_series(mirror(DOUBLE) if top else DOUBLE, stretch=stretch, noise=noise, seed=3)
    kind = "double_top" if top else "double_bottom"
    first, second, peak = (
        ("first_top", "second_top", "trough") if top else ("first_bottom", "second_bottom", "peak")
    )
    (t1, x1), (t2, x2), (t3, x3) = s.anchors[2:5]
    rec = matching(find_patterns(s.as_input(), kinds=[kind]), kind, {first: t1, peak: t2, second: t3})
    ext, opp = (lo, hi) if top else (hi, lo)
    level = ext(x2)
    rtol = 0.0 if noise == 0 else 0.01
    assert rec.neckline is not None
    assert rec.neckline.price0 == pytest.approx(level, rel=max(rtol, 1e-12)) == rec.neckline.price1
    extreme = max(opp(x1), opp(x3)) if top else min(opp(x1), opp(x3))
    height = abs(level - extreme)
    t_b = expected_breakout(s, t3, lambda _t: level, up=not top)
    assert rec.breakout is not None and abs(int(rec.breakout.index) - t_b) <= (0 if noise == 0 else 1)  # type: ignore[arg-type]
    assert rec.target == pytest.approx(level + (-height if top else height), rel=max(rtol, 1e-9))
    assert rec.status == "target_reached"


@pytest.mark.parametrize(("stretch", "noise"), [(1, 0.0), (1, 0.0015), (2, 0.0), (2, 0.0015)])
@pytest.mark.parametrize("top", [False, True], ids=["bottom", "top"])
def test_triple(stretch: int, noise: float, top: bool) -> None:
    s = make_series(mirror(TRIPLE) if top else TRIPLE, stretch=stretch, noise=noise, seed=5)
    kind = "triple_top" if top else "triple_bottom"
    names = (
        ("first_top", "second_top", "third_top") if top else ("first_bottom", "second_bottom", "third_bottom")
    )
    bars = dict(zip(names, (s.anchors[2][0], s.anchors[4][0], s.anchors[6][0]), strict=True))
    rec = matching(find_patterns(s.as_input(), kinds=[kind]), kind, bars)
    ext = lo if top else hi
    level = (
        min(ext(s.anchors[3][1]), ext(s.anchors[5][1]))
        if top
        else max(ext(s.anchors[3][1]), ext(s.anchors[5][1]))
    )
    assert rec.neckline is not None and rec.neckline.price0 == pytest.approx(
        level, rel=0.01 if noise else 1e-12
    )
    t_b = expected_breakout(s, s.anchors[6][0], lambda _t: level, up=not top)
    assert rec.breakout is not None and abs(int(rec.breakout.index) - t_b) <= (0 if noise == 0 else 1)  # type: ignore[arg-type]
    assert rec.status == "target_reached"
    # the triple bottom is not reported as an inverse head-and-shoulders
    hs = "head_and_shoulders" if top else "inverse_head_and_shoulders"
    assert find_patterns(s.as_input(), kinds=[hs]) == []


def test_double_bottom_near_misses() -> None:
    unequal = [(0, 118), (15, 122), (30, 100), (45, 112), (60, 106), (95, 135)]
    assert find_patterns(make_series(unequal).as_input(), kinds=["double_bottom"]) == []
    no_trend = [(0, 96), (15, 108), (30, 100), (45, 112), (60, 100.5), (95, 135)]
    assert find_patterns(make_series(no_trend).as_input(), kinds=["double_bottom"]) == []


# -- triangles, rectangles, broadening -------------------------------------------------------------------

TWO_SIDED = {
    "ascending_triangle": (
        [(0, 92), (20, 110), (30, 96), (40, 110), (50, 101), (60, 110), (64, 106), (95, 130)],
        True,
    ),
    "symmetric_triangle": (
        [(0, 95), (20, 115), (30, 100), (40, 112), (50, 103), (60, 109), (66, 105), (95, 130)],
        True,
    ),
    "rectangle": (
        [(0, 95), (20, 110), (30, 100), (40, 110.3), (50, 100.2), (60, 109.8), (66, 104), (95, 85)],
        False,
    ),
    "broadening": ([(0, 95), (20, 108), (30, 100), (40, 110), (50, 97), (60, 112), (85, 85)], False),
    "descending_triangle": (
        mirror([(0, 92), (20, 110), (30, 96), (40, 110), (50, 101), (60, 110), (64, 106), (95, 130)]),
        False,
    ),
}


def _ls(points: list[tuple[int, float]]) -> tuple[float, float]:
    t = np.array([p[0] for p in points], float)
    x = np.array([p[1] for p in points], float)
    slope, intercept = np.polyfit(t, x, 1)
    return float(slope), float(intercept)


@pytest.mark.parametrize("kind", sorted(TWO_SIDED))
@pytest.mark.parametrize(("stretch", "noise"), [(1, 0.0), (1, 0.001), (2, 0.0)])
def test_two_sided(kind: str, stretch: int, noise: float) -> None:
    anchors, up = TWO_SIDED[kind]
    s = make_series(anchors, stretch=stretch, noise=noise, seed=11)
    pivots = s.anchors[1:6]  # five alternating pivots, the first a high
    recs = find_patterns(s.as_input(), kinds=[kind])
    first_high = anchors[1][1] > anchors[2][1]
    roles = (
        ["upper_1", "lower_1", "upper_2", "lower_2", "upper_3"]
        if first_high
        else ["lower_1", "upper_1", "lower_2", "upper_2", "lower_3"]
    )
    rec = matching(recs, kind, dict(zip(roles, (b for b, _ in pivots), strict=True)))
    highs = [(b, hi(p)) for (b, p), r in zip(pivots, roles, strict=True) if r.startswith("upper")]
    lows = [(b, lo(p)) for (b, p), r in zip(pivots, roles, strict=True) if r.startswith("lower")]
    su, iu = _ls(highs)
    sl, il = _ls(lows)
    t_first, t_last = pivots[0][0], pivots[-1][0]
    rtol = 1e-9 if noise == 0 else 0.01
    upper, lower = rec.extra["upper"], rec.extra["lower"]
    assert upper.price0 == pytest.approx(su * t_first + iu, rel=rtol)
    assert lower.price1 == pytest.approx(sl * t_last + il, rel=rtol)
    t_b = expected_breakout(s, t_last, (lambda t: su * t + iu) if up else (lambda t: sl * t + il), up=up)
    assert rec.breakout is not None and abs(int(rec.breakout.index) - t_b) <= (0 if noise == 0 else 1)  # type: ignore[arg-type]
    assert rec.extra["direction"] == ("up" if up else "down")
    height = max(
        (su * t_first + iu) - (sl * t_first + il),
        (su * t_last + iu) - (sl * t_last + il),
    )
    level = (su if up else sl) * rec.breakout.index + (iu if up else il)  # type: ignore[operator]
    assert rec.target == pytest.approx(level + (height if up else -height), rel=rtol if noise == 0 else 0.02)
    assert rec.neckline == (upper if up else lower)


def test_rising_channel_is_not_a_triangle() -> None:
    channel = [(0, 90), (20, 104), (30, 98), (40, 110), (50, 104), (60, 116), (66, 111), (95, 140)]
    recs = find_patterns(
        make_series(channel).as_input(),
        kinds=["ascending_triangle", "symmetric_triangle", "rectangle", "broadening", "descending_triangle"],
    )
    assert recs == []


# -- life-cycle ----------------------------------------------------------------------------------------------


def _ihs_with_tail(tail: list[tuple[int, float]]) -> Series:
    return make_series(IHS[:-1] + tail)


def test_life_cycle_as_of_progression() -> None:
    s = make_series(IHS)
    full = find_patterns(s.as_input(), kinds=["inverse_head_and_shoulders"])
    rec = matching(full, "inverse_head_and_shoulders", {"head": 55, "right_shoulder": 82})
    rs_confirm = int(np.searchsorted(s.dates, np.datetime64(rec.point("right_shoulder").confirm_date)))
    t_b = int(rec.breakout.index)  # type: ignore[union-attr, arg-type]
    assert rs_confirm <= t_b
    # before the right shoulder is confirmed the pattern is not knowable
    assert (
        find_patterns(s.as_input(), as_of=s.dates[rs_confirm - 1], kinds=["inverse_head_and_shoulders"]) == []
    )
    steps = []
    for day in range(rs_confirm, len(s.close)):
        recs = find_patterns(s.as_input(), as_of=s.dates[day], kinds=["inverse_head_and_shoulders"])
        assert len(recs) == 1
        steps.append((recs[0].status, recs[0].date))
    statuses = [st for st, _ in steps]
    assert statuses[0] == ("forming" if rs_confirm < t_b else "confirmed")
    assert "confirmed" in statuses and statuses[-1] == "target_reached"
    # monotone: forming* confirmed+ target_reached+
    order = {"forming": 0, "confirmed": 1, "target_reached": 2}
    assert all(order[a] <= order[b] for a, b in itertools.pairwise(statuses))
    # each status is dated on the bar it became knowable
    first_target = statuses.index("target_reached")
    t_hit = int(np.flatnonzero(s.high >= rec.target)[0])  # type: ignore[operator]
    assert steps[first_target][1] == s.dates[t_hit].astype(object) and rs_confirm + first_target == t_hit


def test_failed_by_invalidation_before_breakout() -> None:
    s = _ihs_with_tail([(95, 104), (115, 85)])  # right shoulder, a rally short of the neckline, then collapse
    rec = matching(
        find_patterns(s.as_input(), kinds=["inverse_head_and_shoulders"]),
        "inverse_head_and_shoulders",
        {"head": 55},
    )
    assert rec.status == "failed" and rec.extra["failure"] == "invalidation" and rec.breakout is None
    t_fail = int(np.flatnonzero((np.arange(len(s.close)) > 82) & (s.close < lo(90)))[0])
    assert rec.date == s.dates[t_fail].astype(object)


def test_failed_back_through_neckline() -> None:
    s = _ihs_with_tail([(88, 114), (100, 100), (110, 95)])  # breaks out, then falls back well below
    rec = matching(
        find_patterns(s.as_input(), kinds=["inverse_head_and_shoulders"]),
        "inverse_head_and_shoulders",
        {"head": 55},
    )
    assert rec.status == "failed" and rec.extra["failure"] == "neckline" and rec.breakout is not None
    level = rec.extra["neckline_at_breakout"]
    atr = s.atr
    after = np.arange(len(s.close)) >= rec.breakout.index  # type: ignore[operator]
    t_fail = int(np.flatnonzero(after & (s.close < level - 1.0 * atr))[0])
    assert rec.date == s.dates[t_fail].astype(object)


def test_forming_and_expired() -> None:
    s = _ihs_with_tail([(90, 107), (92, 105), (170, 106)])  # drifts under the neckline
    recs = find_patterns(s.as_input(), kinds=["inverse_head_and_shoulders"])
    rec = matching(recs, "inverse_head_and_shoulders", {"head": 55})
    assert rec.status == "failed" and rec.extra["failure"] == "expired"
    # width 52 bars (left shoulder 30 -> right shoulder 82): expired on the first bar after 82 + 52
    assert rec.date == s.dates[82 + 52 + 1].astype(object)
    early = find_patterns(s.as_input(), as_of=s.dates[120], kinds=["inverse_head_and_shoulders"])
    rec_early = matching(early, "inverse_head_and_shoulders", {"head": 55})
    assert rec_early.status == "forming" and rec_early.breakout is None
    assert rec_early.date == rec_early.point("right_shoulder").confirm_date


# -- generated geometry (hypothesis) and edge cases ------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    ls_depth=st.floats(0.45, 0.8),
    rs_ratio=st.floats(0.8, 1.25),
    slope=st.floats(-0.4, 0.4),
    left=st.integers(24, 50),
    right_ratio=st.floats(0.6, 1.6),
    stretch=st.integers(1, 3),
)
def test_inverse_hs_random_geometry(
    ls_depth: float, rs_ratio: float, slope: float, left: int, right_ratio: float, stretch: int
) -> None:
    """Any geometry well inside the documented rules is found with its points within one bar.

    Legs are long enough (>= 12 bars) for every swing to exceed the smallest zig-zag scale (2 ATR); shapes
    outside the rules with a margin are skipped with ``assume``.
    """
    height = 20.0
    neck_left = 110.0
    neck_right = neck_left + slope * height
    d1 = ls_depth * height
    d5 = min(0.85 * height, d1 * rs_ratio)
    right = max(6, round(left * right_ratio))
    t_ls, t_n1 = 30, 30 + left // 2
    t_head = 30 + left
    t_n2 = t_head + right // 2
    t_rs = t_head + right

    def neck(t: float) -> float:
        return neck_left + (neck_right - neck_left) * (t - t_n1) / (t_n2 - t_n1)

    head = neck(t_head) - height
    x_ls, x_rs = neck(t_ls) - d1, neck(t_rs) - d5
    assume(min(x_ls, x_rs) - head >= 0.2 * height)  # head clearly the lowest (rule: 0.10 H)
    assume(min(d1, d5) / max(d1, d5) >= 0.6)  # balance (rule: 0.5)
    assume(min(d1, d5) >= 0.35 * height)  # shoulders deep enough (rule: 0.25 H)
    anchors = [
        (0, neck(0) + 0.6 * height),
        (15, neck(15) + 0.9 * height),
        (t_ls, neck(t_ls) - d1),
        (t_n1, neck_left),
        (t_head, head),
        (t_n2, neck_right),
        (t_rs, neck(t_rs) - d5),
        (t_rs + 60, neck(t_rs) + 2 * height),
    ]
    s = make_series(anchors, stretch=stretch)
    recs = find_patterns(s.as_input(), kinds=["inverse_head_and_shoulders"])
    bars = {
        "left_shoulder": t_ls,
        "neckline_left": t_n1,
        "head": t_head,
        "neckline_right": t_n2,
        "right_shoulder": t_rs,
    }
    rec = matching(recs, "inverse_head_and_shoulders", {k: v * stretch for k, v in bars.items()})
    assert rec.neckline is not None
    assert rec.neckline.price0 == pytest.approx(hi(neck_left), rel=1e-9)
    assert rec.neckline.price1 == pytest.approx(hi(neck_right), rel=1e-9)


@pytest.mark.parametrize("n", [0, 1, 5, 14, 15, 40])
def test_short_and_empty_series(n: int) -> None:
    s = make_series(IHS)
    data = {k: v[:n] for k, v in s.as_input().items()}
    assert find_patterns(data) == []


def test_gaps_do_not_change_the_geometry() -> None:
    s = make_series(IHS)
    data = s.as_input()
    holes = np.array([3, 4, 5, 33, 61, 100])
    for key in ("high", "low", "close"):
        data[key] = data[key].copy()
        data[key][holes] = np.nan
    recs = find_patterns(data, kinds=["inverse_head_and_shoulders"])
    rec = matching(
        recs, "inverse_head_and_shoulders", {"left_shoulder": 30, "head": 55, "right_shoulder": 82}
    )
    assert rec.neckline is not None and rec.neckline.price0 == pytest.approx(hi(110))
