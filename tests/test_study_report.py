"""The brief's event-study section and chart: numbers from capscope.analytics.study, verdicts, the band."""

from __future__ import annotations

import json
from typing import Any

import pytest

from capscope.analytics.study import StudyParams, study_panel
from capscope.report.brief import BriefInputs, BriefParams, build_brief
from capscope.report.jsonio import dumps
from tests.strategies import make_brief_panels


@pytest.fixture(scope="module")
def brief_and_panel() -> tuple[dict[str, Any], Any]:
    prices, universe = make_brief_panels(23, 900, {}, universe_cut=0)
    brief = build_brief(BriefInputs(prices, universe, "stocks", {}, "generated"), BriefParams(), None)
    return json.loads(dumps(brief)), prices


def test_section_restates_the_study(brief_and_panel: tuple[dict[str, Any], Any]) -> None:
    brief, prices = brief_and_panel
    studies = brief["studies"]
    assert studies, "the generated RUT fired signals in the last year"
    from capscope.analytics.series import series_of
    from capscope.analytics.technical import signal_events

    cut = prices.truncate(brief["as_of"])
    panel = cut.select(["RUT"])
    events = signal_events(series_of(cut, "RUT"), BriefParams().technical())  # the brief's events
    signals = sorted({s["signal"] for s in studies})
    params = StudyParams(horizons=(20, 60), draws=1000, seed=20260101, ks=False)
    res = study_panel(panel, signals, params, events=events)
    for st in studies:
        cell = res.cell(st["signal"], st["horizon"])
        assert st["n_events"] == cell.n_events
        assert st["excess"] == pytest.approx(round(cell.excess * 100, 2), abs=1e-9)
        assert st["ci_low"] == pytest.approx(round(cell.ci_low * 100, 2), abs=1e-9)
        assert st["verdict"] == cell.verdict
    facts = {f["id"]: f for f in brief["facts"] if f["section"] == "studies"}
    for f in facts.values():
        lo, hi = f["inputs"]["ci_low"], f["inputs"]["ci_high"]
        if lo <= 0 <= hi:
            assert "no evidence it beat the baseline" in f["text"]
        assert "95 % interval" in f["text"] and "q = " in f["text"]


def test_chart_has_the_excess_path_and_its_band(brief_and_panel: tuple[dict[str, Any], Any]) -> None:
    import plotly.graph_objects as go

    from capscope.report.charts import figures

    brief, _ = brief_and_panel
    fig = figures(brief)["study"]
    go.Figure(fig)
    paths = brief["series"]["study_paths"]["paths"]
    for key, path in paths.items():
        uids = {t["uid"]: t for t in fig["data"]}
        assert uids[f"study_{key}"]["y"] == path["excess"]
        assert uids[f"study_{key}_low"]["fill"] == "tonexty"
        assert len(path["horizon"]) == 60 and path["horizon"][0] == 1
        ok = [
            (lo, e, hi)
            for lo, e, hi in zip(path["ci_low"], path["excess"], path["ci_high"], strict=True)
            if e is not None
        ]
        assert all(lo <= e <= hi for lo, e, hi in ok)  # the estimate lies inside its band
