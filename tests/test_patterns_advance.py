"""The chartist pass carried on one row at a time (``advance_panel``) against a whole new pass on every row.

``advance_panel`` steps each column's ATR, zig-zag and formation life-cycles by the new bar and detects a column
again only when a pivot is confirmed on it; the tables it gives (formations, status histories, valid bars) and
the recursion states must equal those of ``detect_panel`` over the longer panel, bit for bit, on every row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from capscope.data.panel import Panel
from capscope.patterns import chartist as C
from capscope.patterns import chartist_kernels as ck
from capscope.patterns.chartist import ChartistParams, PanelPatterns, advance_panel, detect_panel
from capscope.patterns.shapes import ShapeParams
from tests.test_patterns_panel import _walk_panel


def _tables_equal(a: PanelPatterns, b: PanelPatterns) -> None:
    for name in ("fi", "fptr", "valid", "vptr"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.ff, b.ff, equal_nan=True)
    assert a.state is not None and b.state is not None
    assert np.array_equal(a.state.zigzag, b.state.zigzag, equal_nan=True)
    assert np.array_equal(a.state.atr_last, b.state.atr_last, equal_nan=True)
    assert np.array_equal(a.dates, b.dates) and a.symbols == b.symbols


def _ragged(seed: int) -> Panel:
    """A generated ragged panel, plus a row without any bar and a symbol listed late in the replay."""
    panel = _walk_panel(560, 18, seed)
    high, low, close = (panel[f].copy() for f in ("high", "low", "close"))
    for x in (high, low, close):
        x[420, :] = np.nan  # a day on which no symbol has a bar
        x[:480, 5] = np.nan  # listed during the replay: its ATR seed completes on the way
    return Panel(panel.dates, panel.symbols, {"high": high, "low": low, "close": close})


def _replay(panel: Panel, start: int, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> dict[str, int]:
    redone = {"columns": 0, "rows": 0}
    original = C._replace_columns

    def spy(ck: Any, fi: Any, ff: Any, fptr: Any, redo: Any, *rest: Any) -> Any:
        redone["columns"] += len(redo)
        return original(ck, fi, ff, fptr, redo, *rest)

    monkeypatch.setattr(C, "_replace_columns", spy)

    def cut(t: int) -> tuple[Any, ...]:
        return panel.dates[: t + 1], panel.high[: t + 1], panel.low[: t + 1], panel.close[: t + 1]

    found = detect_panel(cut(start - 1)[0], panel.symbols, *cut(start - 1)[1:], **kw)
    stepped = 0
    for t in range(start, panel.n_bars):
        n_states = int(found.fi[:, ck.I_NSTATES].sum())
        found = advance_panel(found, *cut(t))
        full = detect_panel(cut(t)[0], panel.symbols, *cut(t)[1:], **kw)
        _tables_equal(found, full)
        stepped += int(found.fi[:, ck.I_NSTATES].sum()) > n_states
        redone["rows"] += 1
    redone["stepped"] = stepped
    assert [r for recs in found.records() for r in recs] == [r for recs in full.records() for r in recs]
    return redone


@pytest.mark.parametrize("seed", [0, 1])
def test_advance_equals_a_new_pass_on_every_row(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = _replay(_ragged(seed), 330, monkeypatch)
    # both paths are exercised: columns detected again (a pivot confirmed) and life-cycles stepped in place
    assert counts["columns"] >= 100
    assert counts["stepped"] >= 20


def test_advance_with_other_kinds_and_params(monkeypatch: pytest.MonkeyPatch) -> None:
    shapes = ShapeParams(min_bars=6, equal_tol=0.35, flat_tol=0.2, fit_tol=0.25)
    params = ChartistParams(scales=(1.5, 2.5), breakout_atr=0.0, fail_atr=0.5, expiry=2.0, shapes=shapes)
    kinds = ["double_top", "rectangle", "inverse_head_and_shoulders"]
    counts = _replay(_ragged(3), 400, monkeypatch, params=params, kinds=kinds)
    assert counts["columns"] >= 50


def test_advance_refuses_other_panels() -> None:
    panel = _walk_panel(200, 3, 4)
    found = detect_panel(
        panel.dates[:150], panel.symbols, panel.high[:150], panel.low[:150], panel.close[:150]
    )
    with pytest.raises(ValueError, match="one more row"):
        advance_panel(found, panel.dates[:152], panel.high[:152], panel.low[:152], panel.close[:152])
    shifted = panel.dates[1:152]
    with pytest.raises(ValueError, match="one more row"):
        advance_panel(found, shifted, panel.high[1:152], panel.low[1:152], panel.close[1:152])
    partial = PanelPatterns(**{**found.__dict__, "state": None})
    with pytest.raises(ValueError, match="cannot be carried on"):
        advance_panel(partial, panel.dates[:151], panel.high[:151], panel.low[:151], panel.close[:151])
