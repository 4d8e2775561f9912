"""brief.html in a real browser: offline, no network, no console errors, every chart and trace, data escaped."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from capscope.report.brief import BriefInputs, BriefParams, build_brief
from capscope.report.html import render_html

from .conftest import synthetic_panel

pytestmark = pytest.mark.browser

EVIL = "<script>alert(1)</script>"


def _open(browser: Any, html_path: Path) -> dict[str, Any]:
    """Load a page from file:// and record requests, console errors, dialogs and the charts' traces."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    url = html_path.resolve().as_uri()
    seen: dict[str, list[Any]] = {"requests": [], "console_errors": [], "page_errors": [], "dialogs": []}

    def on_route(route: Any) -> None:
        if route.request.url == url:
            route.continue_()
        else:  # anything else is a network request the page must not make
            seen["requests"].append(route.request.url)
            route.abort()

    context.route("**/*", on_route)
    page.on("request", lambda r: None if r.url == url else seen["requests"].append(r.url))
    page.on("console", lambda m: seen["console_errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["page_errors"].append(str(e)))

    def on_dialog(d: Any) -> None:
        seen["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url, wait_until="load")
    page.wait_for_selector("body[data-charts-ready]", timeout=30_000)
    seen["charts"] = page.evaluate(
        """() => Array.from(document.querySelectorAll('div[data-figure]')).map(d => ({
            id: d.id,
            traces: (d.data || []).map(t => ({type: t.type, uid: t.uid, n: (t.x || []).length})),
            rendered: d.querySelectorAll('.main-svg').length
        }))"""
    )
    seen["text"] = page.inner_text("body")
    seen["page"] = page
    seen["context"] = context
    return seen


def _artifact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshot is kept: ``$CAPSCOPE_ARTIFACTS``, else ``tests/artifacts/`` (git-ignored)."""
    env = os.environ.get("CAPSCOPE_ARTIFACTS")
    path = Path(env) if env else Path(__file__).resolve().parents[1] / "artifacts"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only checkout: fall back to the test's temp dir
        path = tmp_path_factory.mktemp("artifacts")
    return path


def test_sample_brief_in_browser(
    browser: Any, sample_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from capscope.report.loading import load_from_files

    inputs = load_from_files(sample_dir, ["RUT", "GSPC", "IWO", "IWN"], "2025-12-31")
    brief = build_brief(inputs, BriefParams(), "2025-12-31")
    out = tmp_path_factory.mktemp("brief")
    html_path = out / "brief.html"
    html_path.write_text(render_html(brief), encoding="utf-8")
    seen = _open(browser, html_path)
    try:
        assert seen["requests"] == []
        assert seen["console_errors"] == [] and seen["page_errors"] == []
        charts = {c["id"]: c for c in seen["charts"]}
        assert set(charts) == {
            "chart-price",
            "chart-macd",
            "chart-relative_strength",
            "chart-growth_value",
            "chart-breadth",
            "chart-study",
        }
        for chart in charts.values():
            assert chart["rendered"] >= 1, chart["id"]  # plotly drew an SVG
        uids = {cid: {t["uid"]: t for t in c["traces"]} for cid, c in charts.items()}
        price = uids["chart-price"]
        assert price["candles"]["type"] == "candlestick"
        assert price["candles"]["n"] == len(brief["series"]["price"]["dates"])
        assert {"sma_fast", "sma_slow"} <= set(price)
        # the pattern of the brief is drawn: points, neckline, breakout and target
        patterns = brief["series"]["price"]["patterns"]
        assert patterns, "the 2025 sample brief shows chart patterns"
        for i, pattern in enumerate(patterns):
            suffix = "" if i == 0 else f"_{i + 1}"
            assert price[f"pattern_points{suffix}"]["n"] == len(pattern["points"])
            assert (f"neckline{suffix}" in price) == bool(pattern["neckline"])
            if pattern["breakout"]:
                assert {f"breakout{suffix}", f"target{suffix}"} <= set(price)
        macd = uids["chart-macd"]
        assert macd["macd_hist"]["type"] == "bar"
        assert {"macd", "macd_signal", "zero_line"} <= set(macd)
        assert "rs" in uids["chart-relative_strength"]
        assert "gv_ratio" in uids["chart-growth_value"]
        assert {"breadth_pct_above_short", "breadth_pct_above_long"} <= set(uids["chart-breadth"])
        for key in brief["series"]["study_paths"]["paths"]:  # each signal's excess path and its band
            assert {f"study_{key}", f"study_{key}_low", f"study_{key}_high"} <= set(uids["chart-study"])
        # every fact's sentence is on the page
        for fact in brief["facts"]:
            assert fact["text"] in seen["text"], fact["id"]
        shot = _artifact_dir(tmp_path_factory) / "brief-sample.png"
        seen["page"].screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        assert shot.stat().st_size > 10_000
    finally:
        seen["context"].close()


def test_hostile_symbol_is_text(browser: Any, tmp_path: Path) -> None:
    symbols = [EVIL, "BENCH", "G", "V"]
    panel = synthetic_panel(symbols)
    universe = synthetic_panel([f"S{i:02d}" for i in range(30)], seed=3)
    inputs = BriefInputs(panel, universe, "stocks", {EVIL: {"source": f"/data/{EVIL}.csv"}}, "test")
    brief = build_brief(inputs, BriefParams(symbol=EVIL, benchmark="BENCH", growth="G", value="V"))
    html = render_html(brief)
    assert EVIL not in html  # never raw: escaped as text or \u003c in JSON
    html_path = tmp_path / "brief.html"
    html_path.write_text(html, encoding="utf-8")
    seen = _open(browser, html_path)
    try:
        assert seen["dialogs"] == []
        assert seen["requests"] == []
        assert seen["console_errors"] == [] and seen["page_errors"] == []
        assert EVIL in seen["text"]  # shown as text
        assert seen["page"].evaluate("() => document.querySelectorAll('script:not([type])').length") == 2
        price = next(c for c in seen["charts"] if c["id"] == "chart-price")
        candles = next(t for t in price["traces"] if t["uid"] == "candles")
        assert candles["n"] == len(brief["series"]["price"]["dates"])
    finally:
        seen["context"].close()
