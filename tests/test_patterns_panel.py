"""The chartist numba pass over a panel (``detect_panel``) against its plain-Python twin (``detect_series``).

Every record field is compared, including the bar positions that ``PatternRecord`` equality ignores (point,
line and breakout indices, confirmation dates) and the order of the ``extra`` keys, on generated ragged panels
(late listings, delistings, gaps of missing bars, flat stretches, kinds and parameters varied) and on both
sample panels, as of the last bar and as of earlier dates.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import pytest

from capscope.data.panel import Panel
from capscope.patterns.api import find_patterns
from capscope.patterns.chartist import ChartistParams
from capscope.patterns.records import CHARTIST_KINDS, PatternRecord
from capscope.patterns.shapes import ShapeParams


def _full(r: PatternRecord) -> dict[str, Any]:
    d = r.to_dict()
    d["point_index"] = [(p.index, p.confirm_date) for p in r.points]
    d["extra_keys"] = list(r.extra)
    lines = [r.neckline, r.extra.get("upper"), r.extra.get("lower")]
    d["line_index"] = [(ln.index0, ln.index1) for ln in lines if ln is not None]
    d["breakout_index"] = r.breakout.index if r.breakout is not None else None
    # unrounded floats (to_dict rounds the quality)
    d["raw"] = (
        r.target,
        r.invalidation,
        r.quality,
        r.scale,
        r.extra.get("height"),
        r.extra.get("neckline_at_breakout"),
    )
    return d


def _assert_twins(panel: Panel, **kw: Any) -> int:
    fast = find_patterns(panel, **kw)
    slow = find_patterns(panel, reference=True, **kw)
    assert [_full(r) for r in fast] == [_full(r) for r in slow]
    assert fast == slow
    return len(fast)


def _walk_panel(n: int, m: int, seed: int) -> Panel:
    """Random walks with swings (so that shapes form), ragged starts and ends, gaps and flat stretches."""
    rng = np.random.default_rng(seed)
    sigma = rng.choice([0.01, 0.02, 0.035], m)
    drift = 0.004 * np.sin(np.arange(n)[:, None] / rng.uniform(8, 40, m))  # waves: pivots of several sizes
    close = 30 * np.exp(np.cumsum(drift + rng.normal(0, 1, (n, m)) * sigma, axis=0))
    spread = np.abs(rng.normal(0, 0.5, (n, m))) * sigma
    high, low = close * (1 + spread), close * (1 - spread)
    for j in range(m):
        a, b = int(rng.integers(0, n // 3)), n - int(rng.integers(0, n // 4))
        if j % 3 == 0:
            a, b = 0, n
        for x in (high, low, close):
            x[:a, j] = np.nan
            x[b:, j] = np.nan
        if j % 4 == 1:  # a gap of missing bars
            g = int(rng.integers(a, max(a + 1, b - 20)))
            for x in (high, low, close):
                x[g : g + 5, j] = np.nan
        if j % 5 == 2:  # only the high missing on a few rows (the bar is skipped)
            high[rng.integers(0, n, 4), j] = np.nan
        if j % 7 == 3:  # a flat stretch
            g = int(rng.integers(a, max(a + 1, b - 30)))
            for x in (high, low, close):
                x[g : g + 25, j] = close[g, j]
    dates = np.busday_offset(np.datetime64("2001-01-02"), np.arange(n), roll="forward")
    return Panel(dates, tuple(f"S{j}" for j in range(m)), {"high": high, "low": low, "close": close})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_panel_pass_equals_twin_on_generated_panels(seed: int) -> None:
    panel = _walk_panel(900, 40, seed)
    count = _assert_twins(panel)
    assert count > 100, "the comparison must cover many records"
    for frac in (0.3, 0.77):
        _assert_twins(panel, as_of=panel.dates[int(frac * panel.n_bars)])


def test_panel_pass_equals_twin_with_other_kinds_and_params() -> None:
    panel = _walk_panel(700, 25, 11)
    shapes = ShapeParams(min_bars=6, hs_head_margin=0.0, equal_tol=0.35, flat_tol=0.2, fit_tol=0.25)
    params = ChartistParams(scales=(1.5, 2.5), breakout_atr=0.0, fail_atr=0.5, expiry=2.0, shapes=shapes)
    assert _assert_twins(panel, params=params) > 50
    for kinds in (["double_top", "rectangle"], ["inverse_head_and_shoulders", "triple_top", "broadening"]):
        _assert_twins(panel, kinds=kinds, min_quality=0.3)
    assert set(CHARTIST_KINDS) >= {r.kind for r in find_patterns(panel, params=params)}


def test_panel_pass_on_empty_and_tiny_columns() -> None:
    panel = _walk_panel(300, 6, 5)
    close = panel.close.copy()
    close[:, 0] = np.nan  # a symbol without any bar
    close[:-3, 1] = np.nan  # three bars only
    tiny = Panel(panel.dates, panel.symbols, {"high": panel.high, "low": panel.low, "close": close})
    _assert_twins(tiny)
    _assert_twins(tiny, as_of=tiny.dates[2])


@pytest.mark.sample
def test_panel_pass_equals_twin_on_sample(prices_panel: Panel, stocks_panel: Panel) -> None:
    assert _assert_twins(prices_panel) > 50
    assert _assert_twins(stocks_panel) > 1000
    _assert_twins(stocks_panel, as_of=stocks_panel.dates[-120])


def test_panel_pass_leaves_the_garbage_collector_as_it_found_it() -> None:
    """The record building pauses the cyclic collector; it must come back on, and stay off if it was off."""
    panel = _walk_panel(400, 8, 3)
    assert gc.isenabled()
    assert find_patterns(panel), "the panel must give records, or nothing is built"
    assert gc.isenabled()
    gc.disable()
    try:
        find_patterns(panel)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_blocks_on_threads_equal_blocks_one_after_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    """``detect_blocks`` on a thread pool gives each block's tables exactly as the single-threaded pass, in
    column order, and the blocks are really computed off the calling thread; records equal for any count."""
    import threading

    from capscope.patterns import chartist

    panel = _walk_panel(500, 3 * chartist.PANEL_BLOCK + 11, 21)  # four blocks, the last one short
    args = (panel.dates, panel.symbols, panel.high, panel.low, panel.close)
    single = list(chartist.detect_blocks(*args, threads=1))
    assert len(single) == 4
    workers: set[str] = set()
    detect = chartist.detect_panel

    def spy(*a: Any, **kw: Any) -> chartist.PanelPatterns:
        workers.add(threading.current_thread().name)
        return detect(*a, **kw)

    monkeypatch.setattr(chartist, "detect_panel", spy)
    for threads in (2, 3):
        workers.clear()
        many = list(chartist.detect_blocks(*args, threads=threads))
        assert threading.current_thread().name not in workers and workers
        assert [b.symbols for b in many] == [b.symbols for b in single]
        for a, b in zip(single, many, strict=True):
            for name in ("fi", "ff", "fptr", "valid", "vptr", "close"):
                assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    one = find_patterns(panel, threads=1, as_of=panel.dates[400])
    assert len(one) > 100
    assert [_full(r) for r in find_patterns(panel, threads=3, as_of=panel.dates[400])] == [
        _full(r) for r in one
    ]


def test_blocks_stop_early_and_thread_count() -> None:
    """A consumer that stops after the first block leaves no work behind; the default count is numba's."""
    import numba

    from capscope.patterns import chartist

    panel = _walk_panel(300, 5 * chartist.PANEL_BLOCK, 4)
    gen = chartist.detect_blocks(panel.dates, panel.symbols, panel.high, panel.low, panel.close, threads=2)
    first = next(gen)
    gen.close()
    assert first.symbols == tuple(panel.symbols[: chartist.PANEL_BLOCK])
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert chartist.pass_threads() == 1
    finally:
        numba.set_num_threads(before)
    assert chartist.pass_threads() == before
    assert chartist.pass_threads(0) == 1 and chartist.pass_threads(3) == 3
