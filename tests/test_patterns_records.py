"""Pattern record layout and JSON form."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from capscope.patterns.records import (
    STATUS_CONFIRMED,
    Breakout,
    Line,
    PatternRecord,
    Point,
)


def _record(**kw) -> PatternRecord:  # type: ignore[no-untyped-def]
    base = dict(
        symbol="RUT",
        kind="inverse_head_and_shoulders",
        status=STATUS_CONFIRMED,
        points=[
            Point("left_shoulder", date(2025, 4, 1), 1800.0),
            Point("head", np.datetime64("2025-04-08"), 1730),
        ],
        neckline=Line("2025-03-25", 2100.0, date(2025, 4, 25), 2120.0, index0=0, index1=20),
        breakout=Breakout(date(2025, 5, 1), 2130.5),
        target=2480.0,
        invalidation=float("nan"),
        quality=0.75,
        date=date(2025, 5, 1),
        scale=3.0,
        extra={"height": np.float64(370.0), "bars": np.int64(30), "when": np.datetime64("2025-05-01")},
    )
    base.update(kw)
    return PatternRecord(**base)  # type: ignore[arg-type]


def test_to_dict_is_json_ready() -> None:
    d = _record().to_dict()
    text = json.dumps(d, allow_nan=False)  # NaN must have become None
    back = json.loads(text)
    assert back["neckline"] == {
        "date0": "2025-03-25",
        "price0": 2100.0,
        "date1": "2025-04-25",
        "price1": 2120.0,
    }
    assert back["points"][1] == {"role": "head", "date": "2025-04-08", "price": 1730.0}
    assert back["breakout"] == {"date": "2025-05-01", "price": 2130.5}
    assert back["invalidation"] is None
    assert back["extra"] == {"height": 370.0, "bars": 30, "when": "2025-05-01"}
    assert back["mode"] == "chartist" and back["status"] == "confirmed" and back["date"] == "2025-05-01"


def test_line_price_at() -> None:
    line = Line("2025-01-01", 100.0, "2025-01-11", 110.0, index0=5, index1=10)
    assert line.price_at(5) == 100.0
    assert line.price_at(15) == pytest.approx(120.0)  # bars: 2 per bar
    assert line.price_at(date(2025, 1, 6)) == pytest.approx(105.0)  # calendar days: 1 per day
    assert line.slope_per_bar == pytest.approx(2.0)
    with pytest.raises(ValueError, match="bar positions"):
        Line("2025-01-01", 1.0, "2025-01-02", 2.0).price_at(3)


def test_record_validation() -> None:
    with pytest.raises(ValueError, match="status"):
        _record(status="broken")
    with pytest.raises(ValueError, match="quality"):
        _record(quality=1.5)
    rec = _record()
    assert rec.point("head").price == 1730.0
    assert rec.last_point_date == date(2025, 4, 8)
    with pytest.raises(KeyError, match="roles"):
        rec.point("right_shoulder")


def test_records_json_since_filter() -> None:
    from capscope.patterns.api import find_patterns, records_json, series_panel

    anchors = [(0, 118), (15, 122), (30, 100), (40, 110), (55, 90), (70, 110), (82, 100), (120, 140)]
    n = anchors[-1][0] + 1
    close = np.interp(np.arange(n), [a for a, _ in anchors], [p for _, p in anchors])
    dates = np.busday_offset(np.datetime64("2024-01-01"), np.arange(n), roll="forward")
    panel = series_panel({"date": dates, "high": close * 1.004, "low": close * 0.996, "close": close}, "XYZ")
    everything = [r.to_dict() for r in find_patterns(panel)]
    assert everything and everything == records_json(panel)
    since = everything[-1]["date"]
    assert records_json(panel, since=since) == [r for r in everything if r["date"] >= since]
    assert all(r["symbol"] == "XYZ" for r in everything)
    json.dumps(everything, allow_nan=False)
