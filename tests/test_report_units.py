"""Unit tests of the report layer: canonical JSON, safe embedding, formatting, charts, calendar, event study."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from capscope.analytics import reconstitution as rc
from capscope.analytics.rounding import fmt, rnd
from capscope.analytics.study import forward_returns
from capscope.report import jsonio
from capscope.report.markdown import render_markdown


def test_dumps_is_canonical_and_rounds() -> None:
    a = {
        "b": 1.23456789,
        "a": [np.float64(2.0), np.int64(3), float("nan"), -0.0],
        "d": np.datetime64("2025-01-02"),
    }
    b = dict(reversed(list(a.items())))
    assert jsonio.dumps(a) == jsonio.dumps(b)
    parsed = json.loads(jsonio.dumps(a))
    assert parsed == {"a": [2.0, 3, None, 0.0], "b": 1.234568, "d": "2025-01-02"}
    assert jsonio.dumps(a).endswith("\n")


def test_dumps_rejects_unknown_types() -> None:
    with pytest.raises(TypeError, match="cannot write"):
        jsonio.dumps({"x": object()})


@pytest.mark.parametrize("payload", ["</script><script>alert(1)</script>", "<!-- x -->", "a & b", "\u2028"])
def test_script_json_cannot_close_the_element(payload: str) -> None:
    text = jsonio.script_json({"symbol": payload})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"symbol": payload}


def test_rnd_and_fmt() -> None:
    assert rnd(2481.914, "level") == 2481.91
    assert rnd(float("nan"), "level") is None
    assert fmt(2481.91, "level") == "2,481.91"
    assert fmt(-1.5, "percent", sign=True) == "-1.50%"
    assert fmt(3.0, "pp", sign=True) == "+3.00 pp"
    assert fmt(None, "level") == "n/a"


# -- reconstitution calendar: published dates (FTSE Russell schedules) -------------------------------------
@pytest.mark.parametrize(
    ("year", "rank_day", "effective"),
    [
        (
            2024,
            dt.date(2024, 4, 30),
            dt.date(2024, 6, 28),
        ),  # FTSE Russell 2024 schedule: rank Apr 30, final Jun 28
        (2025, dt.date(2025, 4, 30), dt.date(2025, 6, 27)),  # fourth Friday of June 2025
        (2022, dt.date(2022, 4, 29), dt.date(2022, 6, 24)),  # April 30 2022 was a Saturday
    ],
)
def test_june_reconstitution(year: int, rank_day: dt.date, effective: dt.date) -> None:
    r = rc.june_reconstitution(year)
    assert (r.rank_day, r.effective) == (rank_day, effective)
    assert r.effective.weekday() == 4


def test_semi_annual_from_2026_only() -> None:
    assert rc.semi_annual_reconstitution(2025) is None
    second = rc.semi_annual_reconstitution(2026)
    assert second is not None and second.provisional
    # December 2026 (LSEG, 16 Feb 2026), second Friday: inferred
    assert second.effective == dt.date(2026, 12, 11)
    assert [r.kind for r in rc.calendar(2026)] == ["annual", "semi_annual"]


def test_around_splits_past_and_upcoming() -> None:
    last, upcoming = rc.around(dt.date(2026, 8, 21))
    assert last is not None and last.effective == dt.date(2026, 6, 26)
    assert [u.effective for u in upcoming] == [dt.date(2026, 12, 11), dt.date(2027, 6, 25)]
    last, upcoming = rc.around(dt.date(2025, 6, 27))  # effective day itself counts as past
    assert last is not None and last.effective == dt.date(2025, 6, 27)


# -- event study -----------------------------------------------------------------------------------------------
def test_forward_returns_hand_computed() -> None:
    close = np.array([100.0, 110.0, 121.0, 100.0, 90.0, 99.0])
    fwd = forward_returns(close, 2)
    # bar 0: 121/100-1 = 0.21; bar 2: 90/121-1; bar 4 has no bar 2 ahead -> undefined (no look-ahead)
    np.testing.assert_allclose(fwd[[0, 2]], [0.21, 90 / 121 - 1])
    assert np.isnan(fwd[4:]).all()


def test_forward_returns_rejects_a_non_positive_horizon() -> None:
    with pytest.raises(ValueError, match="positive"):
        forward_returns(np.array([1.0, 2.0]), 0)


# -- markdown and charts from a hand-made brief --------------------------------------------------------------
def _tiny_brief() -> dict:
    dates = ["2025-01-02", "2025-01-03", "2025-01-06"]
    return {
        "as_of": "2025-01-06",
        "params": {"symbol": "X|Y"},
        "data": {"origin": "test"},
        "sections": [
            {
                "id": "technical",
                "title": "Technical picture",
                "facts": ["f1"],
                "table": {"columns": ["a"], "rows": [[1.5]]},
            },
            {"id": "breadth", "title": "Breadth", "facts": []},
        ],
        "facts": [
            {
                "id": "f1",
                "section": "technical",
                "text": "X closed at 1.50.",
                "value": 1.5,
                "unit": "level",
                "inputs": {},
            }
        ],
        "series": {
            "price": {
                "symbol": "X",
                "dates": dates,
                "open": [1.0, 1.1, 1.2],
                "high": [1.2, 1.3, 1.4],
                "low": [0.9, 1.0, 1.1],
                "close": [1.1, 1.2, 1.5],
                "sma_fast": [None, None, 1.3],
                "sma_slow": [None, None, None],
                "fast": 50,
                "slow": 200,
                "patterns": [
                    {
                        "kind": "inverse_head_and_shoulders",
                        "points": [{"role": "head", "date": dates[1], "price": 1.0}],
                        "neckline": {"date0": dates[0], "price0": 1.2, "date1": dates[1], "price1": 1.3},
                        "breakout": {"date": dates[2], "price": 1.5},
                        "target": 1.6,
                        "invalidation": 1.0,
                    }
                ],
            },
            "macd": {
                "symbol": "X",
                "dates": dates,
                "macd": [None, 0.1, 0.2],
                "signal": [None, 0.0, 0.1],
                "hist": [None, 0.1, 0.1],
                "params": {"fast": 12, "slow": 26, "signal": 9},
            },
        },
    }


def test_markdown_lists_facts_and_tables() -> None:
    md = render_markdown(_tiny_brief())
    assert md.startswith("# capscope brief: X|Y as of 2025-01-06\n")
    assert "- X closed at 1.50." in md
    assert "| 1.5 |" in md
    assert "## Breadth" in md


def test_figures_are_valid_plotly() -> None:
    import plotly.graph_objects as go

    from capscope.report.charts import figures

    figs = figures(_tiny_brief())
    assert set(figs) == {"price", "macd"}
    for fig in figs.values():
        go.Figure(fig)  # raises on any invalid attribute
    uids = [t["uid"] for t in figs["price"]["data"]]
    assert uids == [
        "candles",
        "sma_fast",
        "sma_slow",
        "pattern_points",
        "neckline",
        "breakout",
        "target",
        "invalidation",
    ]
    assert [t["uid"] for t in figs["macd"]["data"]] == ["macd_hist", "macd", "macd_signal", "zero_line"]


def test_html_escapes_and_inlines(monkeypatch: pytest.MonkeyPatch) -> None:
    from capscope.report.assets import PlotlyBundle
    from capscope.report.html import render_html

    brief = _tiny_brief()
    evil = "<img src=x onerror=alert(1)>"
    brief["facts"][0]["text"] = evil
    brief["series"]["price"]["symbol"] = "</script><script>alert(2)</script>"
    html = render_html(brief, bundle=PlotlyBundle("window.Plotly={newPlot:function(){}};", "stub", None))
    assert evil not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "</script><script>alert(2)" not in html
    assert "http://" not in html and "https://" not in html
    assert "Content-Security-Policy" in html


def _bundle_in(tmp_path, monkeypatch: pytest.MonkeyPatch, content: bytes | None, pinned: bytes) -> object:
    """:func:`plotly_js` with the vendor folder and the pin file in ``tmp_path``."""
    import hashlib

    from capscope.report import assets

    vendor = tmp_path / "vendor"
    vendor.mkdir()
    pin = tmp_path / "vendor.sha256"
    pin.write_text(f"{hashlib.sha256(pinned).hexdigest()}  plotly-finance.min.js\n", encoding="utf-8")
    if content is not None:
        (vendor / "plotly-finance.min.js").write_bytes(content)
    monkeypatch.setattr(assets, "VENDOR_DIR", vendor)
    monkeypatch.setattr(assets, "PIN_FILE", pin)
    return assets.plotly_js()


def test_plotly_bundle_pinned_finance_is_used(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    js = b"/* finance bundle */ window.Plotly = {};"
    bundle = _bundle_in(tmp_path, monkeypatch, js, js)
    assert bundle.name == "plotly.js-finance-dist-min" and bundle.warning is None  # type: ignore[attr-defined]
    assert bundle.source == js.decode()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("content", "reason"), [(None, "is missing"), (b"tampered", "has sha256")])
def test_plotly_bundle_missing_or_altered_falls_back_with_a_warning(
    tmp_path, monkeypatch: pytest.MonkeyPatch, content: bytes | None, reason: str
) -> None:
    bundle = _bundle_in(tmp_path, monkeypatch, content, b"the pinned bytes")
    assert bundle.warning is not None and reason in bundle.warning  # type: ignore[attr-defined]
    assert "full" in bundle.name and "tampered" not in bundle.source  # type: ignore[attr-defined]
    assert len(bundle.source) > 2_000_000  # type: ignore[attr-defined]  # plotly's full bundle


# -- property: any string survives script_json and never closes the element -------------------------------------
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_script_json_roundtrip_any_text(text: str) -> None:
    embedded = jsonio.script_json({"s": text, "k": [text]})
    assert "</" not in embedded and "<!--" not in embedded and "<" not in embedded
    assert json.loads(embedded) == {"k": [text], "s": text}


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_dumps_never_writes_nan(x: float) -> None:
    out = json.loads(jsonio.dumps({"x": x}))
    assert out["x"] is None or abs(out["x"] - round(x, jsonio.FLOAT_DIGITS)) == 0


def test_store_symbol_rows_match_symbols_table(tmp_path):
    """The polars-free summary the brief's loader reads equals ``Store.symbols()`` row for row."""
    from capscope.store import Store

    header = "date,open,high,low,close,adj_close,volume\n"
    (tmp_path / "stocks").mkdir()
    (tmp_path / "stocks" / "AAA.csv").write_text(
        header + "2024-01-02,1,2,0.5,1.5,1.5,100\n2024-01-03,1.5,2,1,1.8,1.8,200\n"
    )
    (tmp_path / "BBB.csv").write_text(header + "2024-01-05,3,4,2,3.5,3.5,50\n")
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest([tmp_path / "stocks" / "AAA.csv", tmp_path / "BBB.csv"])
        rows = store.symbol_rows()
        table = store.symbols()
    assert rows == [tuple(r) for r in table.iter_rows()]
    assert [r[0] for r in rows] == ["AAA", "BBB"]
    assert rows[0][1:4] == (dt.date(2024, 1, 2), dt.date(2024, 1, 3), 2)
    assert rows[1][4].endswith("BBB.csv")


# -- analytics the brief states (hand-computed) ---------------------------------------------------------------
def test_sessions_behind_counts_calendar_sessions() -> None:
    from capscope.analytics.staleness import is_fresh, sessions_behind

    cal = np.array(
        ["2025-12-22", "2025-12-23", "2025-12-24", "2025-12-26", "2025-12-29", "2025-12-30", "2025-12-31"],
        dtype="datetime64[D]",
    )
    day = np.datetime64("2025-12-31")
    assert sessions_behind(cal, np.datetime64("2025-12-31"), day) == 0
    assert sessions_behind(cal, np.datetime64("2025-12-24"), day) == 4  # 26, 29, 30, 31
    assert sessions_behind(cal, np.datetime64("2025-12-25"), day) == 4  # a holiday is not a session
    assert sessions_behind(cal, np.datetime64("2025-12-22"), day) == 6
    assert is_fresh(cal, np.datetime64("2025-12-23"), day) and not is_fresh(
        cal, np.datetime64("2025-12-22"), day
    )


def test_ytd_lagging_sessions_hand_computed() -> None:
    from capscope.analytics.rotation import PairReturn, pair_return_percent, ytd_lagging_sessions

    dates = np.array(
        ["2024-12-30", "2024-12-31", "2025-01-02", "2025-01-03", "2025-01-06"], dtype="datetime64[D]"
    )
    ratio = np.array([1.0, 2.0, 1.9, 2.1, 1.99])
    lag = ytd_lagging_sessions(dates, ratio)
    assert lag is not None and (str(lag.base), lag.behind, lag.sessions) == ("2024-12-31", 2, 3)
    assert lag.share_percent == pytest.approx(200 / 3)
    assert ytd_lagging_sessions(dates[2:], ratio[2:]) is None  # no bar of the previous year
    # one rounding rule: the gap is the rounded difference of the unrounded returns (0.0155 -> +1.56 pp)
    r = PairReturn("YTD", dates[0], dates[-1], 0.163894, 0.148394)
    pr = pair_return_percent(r)
    assert (pr.numerator, pr.denominator, pr.spread) == (16.39, 14.84, 1.55)
    r = PairReturn("YTD", dates[0], dates[-1], 0.163944, 0.148389)  # sides round to a 1.55 difference
    assert pair_return_percent(r).spread == 1.56 and round(16.39 - 14.84, 2) == 1.55
