"""The panel contract: alignment, NaN where no bar, truncation, selection."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from capscope.data.panel import Panel, panel_equal
from capscope.data.schema import BAR_SCHEMA
from capscope.errors import UsageError


def _bars() -> pl.DataFrame:
    rows = [
        ("B", "2024-01-02", 10.0),
        ("B", "2024-01-04", 11.0),
        ("A", "2024-01-03", 1.0),
        ("A", "2024-01-04", 2.0),
        ("A", "2024-01-05", 3.0),
    ]
    frame = pl.DataFrame(
        {
            "symbol": [r[0] for r in rows],
            "date": [r[1] for r in rows],
            "open": [r[2] for r in rows],
            "high": [r[2] for r in rows],
            "low": [r[2] for r in rows],
            "close": [r[2] for r in rows],
            "adj_close": [None] * len(rows),
            "volume": [100.0] * len(rows),
        }
    ).with_columns(pl.col("date").str.to_date())
    return frame.cast(BAR_SCHEMA)  # type: ignore[arg-type]


def test_from_bars_aligns_symbols_and_dates() -> None:
    panel = Panel.from_bars(_bars())
    assert panel.symbols == ("A", "B")
    assert [str(d) for d in panel.dates] == ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    expected = np.array([[np.nan, 10.0], [1.0, np.nan], [2.0, 11.0], [3.0, np.nan]])
    np.testing.assert_array_equal(panel.close, expected)
    assert panel.close.flags.c_contiguous and panel.close.dtype == np.float64
    assert np.isnan(panel["adj_close"]).all()


def test_truncate_and_select() -> None:
    panel = Panel.from_bars(_bars())
    cut = panel.truncate("2024-01-03")
    assert cut.n_bars == 2
    only_b = panel.select(["B"])
    assert [str(d) for d in only_b.dates] == ["2024-01-02", "2024-01-04"]
    assert panel_equal(panel.truncate("2030-01-01"), panel)
    assert not panel_equal(cut, panel)


def test_unknown_symbol_and_field_errors_are_clear() -> None:
    panel = Panel.from_bars(_bars())
    with pytest.raises(UsageError, match="did you mean A"):
        panel.column("AA")
    with pytest.raises(UsageError, match="fields: open"):
        panel["nope"]


def test_sample_prices_panel_has_rut(prices_panel: Panel) -> None:
    rut = prices_panel.series("RUT")
    assert int(np.isfinite(rut).sum()) == 9811
