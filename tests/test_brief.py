"""The brief: determinism, as-of invariance, numbers traced to brief.json, staleness, pattern tense, parameters.

Most tests run on generated panels (:func:`tests.strategies.make_brief_panels`); the few marked ``sample`` check
the sample data's own dates (a file that stops in 2025, the 2026 head-and-shoulders).
"""

from __future__ import annotations

import calendar
import csv
import dataclasses
import datetime as dt
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from capscope.analytics.rounding import rnd
from capscope.data.panel import Panel
from capscope.report.brief import BriefInputs, BriefParams, build_brief
from capscope.report.html import render_html
from capscope.report.jsonio import dumps
from capscope.report.loading import load_from_files
from capscope.report.markdown import render_markdown
from tests.strategies import BRIEF_SYMBOLS, brief_panels, make_brief_panels

SYMBOLS = list(BRIEF_SYMBOLS)
N_STOCKS = 40

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: a whole number as printed: not part of a longer number or word ("10.50" is one token, "12M" is none)
_NUM = re.compile(r"(?<![\w.,])[-+]?\d[\d,]*(?:\.\d+)?(?![\w]|\.\d|,\d)")
_LABEL = re.compile(r"^(YTD|\d+M|from 52w low|from \d+-bar low)(?: to (\d{4}-\d{2}-\d{2}))?$")


# -- generated data --------------------------------------------------------------------------------------------
def _inputs(prices: Panel, universe: Panel | None) -> BriefInputs:
    return BriefInputs(prices, universe, "stocks", {}, "generated")


@pytest.fixture(scope="module")
def gen() -> tuple[Panel, Panel]:
    """480 bars; growth/value stop 40 sessions early, the universe 2 sessions early, GSPC reaches the end."""
    return make_brief_panels(11, 480, {"IWO": 40, "IWN": 40}, universe_cut=2)


@pytest.fixture(scope="module")
def gen_brief(gen: tuple[Panel, Panel]) -> dict[str, Any]:
    prices, universe = gen
    return json.loads(dumps(build_brief(_inputs(prices, universe), BriefParams(), str(prices.dates[-1]))))


def _by_id(brief: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in brief["facts"]}


def _write_csv(panel: Panel, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for j, sym in enumerate(panel.symbols):
        rows = np.flatnonzero(np.isfinite(panel.close[:, j]))
        with open(folder / f"{sym}.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["date", "open", "high", "low", "close", "adj_close", "volume"])
            for i in rows:
                w.writerow(
                    [str(panel.dates[i])]
                    + [repr(float(panel[f][i, j])) for f in ("open", "high", "low", "close")]
                    + ["", repr(float(panel["volume"][i, j]))]
                )


@pytest.fixture(scope="module")
def gen_dir(gen: tuple[Panel, Panel], tmp_path_factory: pytest.TempPathFactory) -> Path:
    prices, universe = gen
    root = tmp_path_factory.mktemp("gen")
    _write_csv(prices, root / "prices")
    _write_csv(universe, root / "stocks")
    return root


# -- independent re-implementations for the checks ---------------------------------------------------------------
def _months_before(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 - months
    year, month0 = divmod(total, 12)
    return dt.date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def _dates_of(panel: Panel, symbol: str, as_of: str) -> np.ndarray:
    d = panel.dates[np.isfinite(panel.close[:, panel.column(symbol)])]
    return d[d <= np.datetime64(as_of)]


def _sessions(calendar_dates: np.ndarray, last: str, as_of: str) -> int:
    d = calendar_dates
    return int(np.sum((d > np.datetime64(last)) & (d <= np.datetime64(as_of))))


def check_true_on_its_date(brief: dict[str, Any], prices: Panel, universe: Panel | None) -> None:
    """Period labels name the window they measure; the headline holds only fresh facts; stale sections open
    with the date their data ends; every fact records its last bar, never after the brief date."""
    as_of = brief["as_of"]
    fresh = brief["params"]["fresh_sessions"]
    main = _dates_of(prices, brief["params"]["symbol"], as_of)
    assert str(main[-1]) == as_of
    by_id = _by_id(brief)
    for fact in brief["facts"]:
        last = fact["inputs"]["last_bar"]
        assert last is None or last <= as_of, fact["id"]
    pair_ends: dict[str, str] = {}
    for fact in brief["facts"]:
        i = fact["inputs"]
        if "period" not in i:
            continue
        m = _LABEL.match(i["label"])
        assert m, i["label"]
        assert fact["text"].startswith(f"{i['label']} ({i['start']} to {i['end']})"), fact["text"]
        num, den = (s.split(".")[0] for s in i["series"])
        common = np.intersect1d(_dates_of(prices, num, as_of), _dates_of(prices, den, as_of))
        end = str(common[-1])
        assert i["end"] == end, fact["id"]
        pair_ends[fact["section"]] = end
        # measured to the pair's own last bar; "12M to 2025-12-24" when that is before the brief date
        assert m.group(2) == (end if end < as_of else None), (fact["id"], end, as_of)
        anchor = dt.date.fromisoformat(end)
        base = m.group(1)
        if base == "YTD":
            boundary = dt.date(anchor.year - 1, 12, 31)
        elif base.endswith("M"):
            boundary = _months_before(anchor, int(base[:-1]))
        else:
            continue
        on_or_before = common[common <= np.datetime64(boundary)]
        assert i["start"] == str(on_or_before[-1]), (fact["id"], boundary)
        assert end > boundary.isoformat(), fact["id"]  # the window lies inside the data
    for section, end in pair_ends.items():
        first = next(s for s in brief["sections"] if s["id"] == section)["facts"][0]
        if _sessions(main, end, as_of) > fresh:
            assert first == f"{section}.data_ends" and end in by_id[first]["text"]
        else:
            assert f"{section}.data_ends" not in by_id
    if universe is not None and "breadth.advance_decline" in by_id:
        u = universe.truncate(np.datetime64(as_of)).drop_empty_dates()
        end = str(u.dates[-1])
        first = next(s for s in brief["sections"] if s["id"] == "breadth")["facts"][0]
        assert (first == "breadth.data_ends") == (_sessions(main, end, as_of) > fresh)
    for fid in next(s for s in brief["sections"] if s["id"] == "headline")["facts"]:
        fact = by_id[fid]
        for ref in fact["inputs"].get("facts", []):
            last = by_id[ref]["inputs"]["last_bar"]
            assert last is not None and _sessions(main, last, as_of) <= fresh, (fid, ref, last)
        if fact["inputs"]["last_bar"] is not None:
            assert _sessions(main, fact["inputs"]["last_bar"], as_of) <= fresh, fid


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(brief_panels())
def test_every_sentence_true_on_its_date(case: tuple[Panel, Panel, str]) -> None:
    prices, universe, as_of = case
    params = BriefParams(pattern_bars=260, chart_bars=200, horizons=(10,))
    brief = build_brief(_inputs(prices, universe), params, as_of)
    check_true_on_its_date(brief, prices, universe)


def test_stale_pair_is_labelled_to_its_end(gen_brief: dict[str, Any], gen: tuple[Panel, Panel]) -> None:
    """Growth/value stop 40 sessions early: every period says 'to <end>', none enters the headline."""
    by_id = _by_id(gen_brief)
    end = str(_dates_of(gen[0], "IWO", gen_brief["as_of"])[-1])
    labels = [
        f["inputs"]["label"]
        for f in gen_brief["facts"]
        if f["section"] == "growth_value" and "label" in f["inputs"]
    ]
    assert labels and all(label.endswith(f" to {end}") for label in labels)
    assert "growth_value.12M" in by_id and by_id["growth_value.12M"]["text"].startswith(f"12M to {end} (")
    assert "headline.growth_value" not in by_id
    assert by_id["headline.breadth"]["inputs"]["facts"] == ["breadth.pct_above_200"]  # 2 sessions: fresh
    check_true_on_its_date(gen_brief, *gen)


# -- guarantees on generated data ----------------------------------------------------------------------------
def test_as_of_invariance(gen: tuple[Panel, Panel]) -> None:
    prices, universe = gen
    for day in (prices.dates[300], prices.dates[-10]):
        full = build_brief(_inputs(prices, universe), BriefParams(), str(day))
        cut = build_brief(
            _inputs(prices.truncate(day), universe.truncate(day).drop_empty_dates()), BriefParams(), str(day)
        )
        assert dumps({k: v for k, v in full.items() if k != "data"}) == dumps(
            {k: v for k, v in cut.items() if k != "data"}
        )


def test_deterministic_bytes(gen: tuple[Panel, Panel], gen_brief: dict[str, Any]) -> None:
    prices, universe = gen
    again = build_brief(_inputs(prices, universe), BriefParams(), str(prices.dates[-1]))
    assert dumps(again) == dumps(gen_brief)
    assert render_markdown(json.loads(dumps(again))) == render_markdown(gen_brief)


def test_layout_and_sections(gen_brief: dict[str, Any], gen: tuple[Panel, Panel]) -> None:
    b = gen_brief
    for key in (
        "as_of",
        "data",
        "facts",
        "events",
        "patterns",
        "rotation",
        "breadth",
        "reconstitution",
        "studies",
    ):
        assert key in b
    ids = [f["id"] for f in b["facts"]]
    assert len(ids) == len(set(ids))
    for fact in b["facts"]:
        assert set(fact) == {"id", "section", "text", "value", "unit", "inputs"}
        assert "last_bar" in fact["inputs"] and fact["text"].strip()
    for section in b["sections"]:
        assert section["facts"], section["id"]
    by_id = _by_id(b)
    prices = gen[0]
    assert by_id["technical.close"]["value"] == rnd(prices.close[-1, prices.column("RUT")], "level")


def test_before_the_data_sections_say_not_available(gen: tuple[Panel, Panel]) -> None:
    universe = gen[1]
    late = make_brief_panels(5, 480, {"IWO": 0}, first_date="2023-01-02")[0]
    # growth/value only from the last 30 bars: before that they have no bars
    fields = {k: v.copy() for k, v in late.fields.items()}
    for sym in ("IWO", "IWN"):
        for arr in fields.values():
            arr[:-30, late.column(sym)] = np.nan
    panel = Panel(late.dates, late.symbols, fields)
    brief = build_brief(
        _inputs(panel, universe.truncate(universe.dates[0])), BriefParams(), str(panel.dates[100])
    )
    by_id = _by_id(brief)
    fact = by_id["growth_value.not_available"]
    assert fact["value"] is None and str(panel.dates[100]) in fact["text"]
    assert "technical.close" in by_id
    assert "is not available" in render_markdown(brief)


def _numbers(x: Any, out: list[float], strings: list[str]) -> None:
    if isinstance(x, dict):
        for k, v in x.items():
            if k not in ("text", "title"):
                _numbers(v, out, strings)
    elif isinstance(x, list):
        for v in x:
            _numbers(v, out, strings)
    elif isinstance(x, bool) or x is None:
        return
    elif isinstance(x, int | float):
        out.append(float(x))
    elif isinstance(x, str):
        strings.append(x)


def _fact_pool(
    fact: dict[str, Any], by_id: dict[str, dict[str, Any]], params: dict[str, Any]
) -> tuple[set[float], set[str]]:
    """Numbers and strings a fact's sentence may print: its value and inputs (a headline fact: those of the
    facts it restates)."""
    nums: list[float] = []
    strings: list[str] = []
    _numbers({"value": fact["value"], "inputs": fact["inputs"]}, nums, strings)
    for ref in fact["inputs"].get("facts", []):
        sub_nums, sub_strings = _fact_pool(by_id[ref], by_id, params)
        nums += list(sub_nums)
        strings += list(sub_strings)
    for s in list(strings):  # numbers inside non-sentence strings: a period label "12M", a symbol
        nums += [float(n) for n in re.findall(r"\d+(?:\.\d+)?", _DATE.sub(" ", s))]
    return set(nums), set(strings)


def check_markdown_numbers(brief: dict[str, Any]) -> list[str]:
    """Every number of a bullet is a number of its own fact (value or inputs); every date a string of it; every
    number of a table row a value of that section's table. Whole tokens only."""
    md = render_markdown(brief)
    by_id = _by_id(brief)
    order = [fid for s in brief["sections"] for fid in s["facts"]]
    bullets = [ln[2:] for ln in md.splitlines() if ln.startswith("- ")]
    assert len(bullets) == len(order)
    missing = []
    for fid, text in zip(order, bullets, strict=True):
        nums, strings = _fact_pool(by_id[fid], by_id, brief["params"])
        dates = {d for s in strings for d in _DATE.findall(s)} | {brief["as_of"]}
        for d in _DATE.findall(text):
            if d not in dates:
                missing.append(f"{fid}: {d}")
        for token in _NUM.findall(_DATE.sub(" ", text)):
            value = abs(float(token.replace(",", "").lstrip("+-")))
            if not any(abs(abs(x) - value) < 1e-9 for x in nums):
                missing.append(f"{fid}: {token}")
    cells: dict[str, set[str]] = {}
    for s in brief["sections"]:
        if s.get("table"):
            cells[s["id"]] = {str(c) for row in s["table"]["rows"] for c in row if c is not None}
    # the provenance section also shows brief.json "data" (each file's own range)
    cells.setdefault("provenance", set()).update(
        str(v) for d in brief.get("data", {}).get("symbols", []) for v in d.values()
    )
    section = None
    for ln in md.splitlines():
        if ln.startswith("## "):
            section = next(s["id"] for s in brief["sections"] if s["title"] == ln[3:])
        elif ln.startswith("| ") and section in cells:
            for cell in (c.strip() for c in ln.strip("|").split("|")):
                if _NUM.fullmatch(cell) and cell not in cells[section]:
                    missing.append(f"table {section}: {cell}")
    return missing


def test_every_markdown_number_is_a_number_of_its_fact(gen_brief: dict[str, Any]) -> None:
    assert check_markdown_numbers(gen_brief) == []


def test_fact_values_are_the_printed_numbers(gen_brief: dict[str, Any]) -> None:
    """A numeric fact value is printed in its own sentence as a whole number (not inside another one)."""
    checked = 0
    for fact in gen_brief["facts"]:
        v = fact["value"]
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        tokens = [
            abs(float(t.replace(",", "").lstrip("+-"))) for t in _NUM.findall(_DATE.sub(" ", fact["text"]))
        ]
        assert any(abs(t - abs(v)) < 1e-9 for t in tokens), (fact["id"], v, fact["text"])
        checked += 1
    assert checked > 20


def test_every_markdown_sentence_is_a_fact(gen_brief: dict[str, Any]) -> None:
    md = render_markdown(gen_brief)
    bullets = [ln[2:] for ln in md.splitlines() if ln.startswith("- ")]
    other = [ln for ln in md.splitlines() if ln and not ln.startswith(("- ", "#", "|"))]
    assert other == []
    order = [fid for s in gen_brief["sections"] for fid in s["facts"]]
    by_id = _by_id(gen_brief)
    assert bullets == [by_id[fid]["text"] for fid in order]
    assert sorted(order) == sorted(by_id)


def test_html_budget_and_offline(gen_brief: dict[str, Any]) -> None:
    from capscope.report.assets import plotly_js

    html = render_html(gen_brief)
    assert len(html.encode("utf-8")) < 5_000_000
    ours = html.replace(plotly_js().source, "")
    assert len(ours) < len(html)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", ours)
    assert "<link" not in ours and "@import" not in ours and "url(" not in ours


# -- pattern life-cycle --------------------------------------------------------------------------------------
def _record(
    kind: str, status: str, day: str, *, target: float, invalidation: float, failure: str | None = None
) -> dict[str, Any]:
    return {
        "symbol": "RUT",
        "kind": kind,
        "status": status,
        "date": day,
        "points": [{"role": "head", "date": "2024-01-10", "price": 90.0}],
        "neckline": {"date0": "2024-01-05", "price0": 100.0, "date1": "2024-01-15", "price1": 101.0},
        "breakout": None if status == "forming" else {"date": "2024-02-01", "price": 102.5},
        "target": target,
        "invalidation": invalidation,
        "quality": 0.5,
        "extra": {"failure": failure} if failure else {},
    }


def test_pattern_tense(gen: tuple[Panel, Panel], monkeypatch: pytest.MonkeyPatch) -> None:
    prices, universe = gen
    as_of = str(prices.dates[-1])
    recent = str(prices.dates[-30])
    records = [
        _record(
            "head_and_shoulders", "target_reached", str(prices.dates[-60]), target=80.0, invalidation=120.0
        ),
        _record(
            "double_bottom",
            "failed",
            str(prices.dates[-45]),
            target=130.0,
            invalidation=70.0,
            failure="invalidation",
        ),
        _record("inverse_head_and_shoulders", "confirmed", recent, target=150.0, invalidation=85.0),
        _record("double_top", "forming", str(prices.dates[-90]), target=60.0, invalidation=140.0),
    ]
    from capscope.report.sections import patterns as section

    monkeypatch.setattr(section, "chart_patterns", lambda series, bars: [dict(r) for r in records])
    brief = build_brief(_inputs(prices, universe), BriefParams(max_patterns=4), as_of)
    by_id = _by_id(brief)
    # most recent status change first: confirmed (-30), failed (-45), target reached (-60), forming (-90)
    assert [
        by_id[k]["inputs"]["status"]
        for k in ("technical.pattern", "technical.pattern_2", "technical.pattern_3", "technical.pattern_4")
    ] == ["confirmed", "failed", "target_reached", "forming"]
    for suffix, status in (("", "confirmed"), ("_4", "forming")):
        for part in ("target", "invalidation"):
            text = by_id[f"technical.pattern{suffix}_{part}"]["text"]
            assert f"from the close on {as_of}" in text, (status, text)
    for suffix, status in (("_2", "failed"), ("_3", "target_reached")):
        day = by_id[f"technical.pattern{suffix}"]["inputs"]["date"]
        assert (
            f"{'failed' if status == 'failed' else 'reached its target'} on {day}"
            in by_id[f"technical.pattern{suffix}"]["text"]
        )
        assert (
            f"technical.pattern{suffix}_invalidation" not in by_id
        )  # a finished pattern is not "invalidated by"
        target = by_id[f"technical.pattern{suffix}_target"]["text"]
        assert "from the close" not in target and "%" not in target and day in target
    headline = by_id["headline.pattern"]
    assert headline["text"].startswith(
        f"Most recent chart-pattern change: the inverse head and shoulders was confirmed on {recent}"
    )
    # the headline's pattern is the latest change even when it is history
    records[2]["date"] = str(prices.dates[-100])
    brief = build_brief(_inputs(prices, universe), BriefParams(max_patterns=4), as_of)
    text = _by_id(brief)["headline.pattern"]["text"]
    assert text.startswith(
        f"Most recent chart-pattern change: the double bottom failed on {prices.dates[-45]}"
    )
    assert "target" not in text and "from the close" not in text  # a failed pattern: no target to head for


# -- recorded parameters are used ----------------------------------------------------------------------------
_CHANGES: dict[str, dict[str, Any]] = {
    "symbol": {"symbol": "IWO", "growth": "RUT"},
    "benchmark": {"benchmark": "IWN", "value": "GSPC"},
    "growth": {"growth": "GSPC"},
    "value": {"value": "RUT"},
    "sma_fast": {"fast": 40},
    "sma_slow": {"slow": 150},
    "macd.fast": {"macd_fast": 10},
    "macd.slow": {"macd_slow": 30},
    "macd.signal": {"macd_signal": 7},
    "rsi_window": {"rsi_window": 10},
    "rs_window": {"rs_window": 30},
    "periods.ytd": {"ytd": False},
    "periods.months": {"period_months": (1, 2)},
    "periods.low_window": {"low_window": 100},
    "leadership_windows": {"leadership_windows": (21,)},
    "fresh_sessions": {"fresh_sessions": 60},
    "chart_bars": {"chart_bars": 150},
    "pattern_bars": {"pattern_bars": 250},
    "max_patterns": {"max_patterns": 1},
    "event_bars": {"event_bars": 60},
    "horizons": {"horizons": (10,)},
}


def _leaf_keys(d: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k, v in d.items():
        out += _leaf_keys(v, f"{prefix}{k}.") if isinstance(v, dict) else [prefix + k]
    return out


def test_every_recorded_parameter_changes_a_fact(gen: tuple[Panel, Panel]) -> None:
    prices, universe = gen
    base_params = BriefParams()
    assert sorted(_leaf_keys(base_params.to_dict())) == sorted(_CHANGES)  # a new parameter needs a case here
    as_of = str(prices.dates[-1])
    base = build_brief(_inputs(prices, universe), base_params, as_of)
    assert base["params"]["periods"] == {"ytd": True, "months": [1, 3, 6, 12], "low_window": 252}

    def facts(brief: dict[str, Any]) -> str:
        return dumps([(f["id"], f["text"], f["value"], f["inputs"]) for f in brief["facts"]])

    unchanged = []
    for key, change in _CHANGES.items():
        params = dataclasses.replace(base_params, **change)
        brief = build_brief(_inputs(prices, universe), params, as_of)
        leaf: Any = brief["params"]
        for part in key.split("."):
            leaf = leaf[part]
        assert leaf != _leaf(base["params"], key), key  # recorded as given
        if facts(brief) == facts(base):
            unchanged.append(key)
    assert unchanged == []


def _leaf(d: dict[str, Any], key: str) -> Any:
    for part in key.split("."):
        d = d[part]
    return d


# -- one number, one function: brief.json against the commands' JSON -----------------------------------------------
def _cli_json(args: list[str]) -> Any:
    from typer.testing import CliRunner

    from capscope.cli.app import app

    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    # floats as brief.json stores them (jsonio: 6 decimals unless rounded for display before)
    return json.loads(dumps(json.loads(res.stdout)))


def check_consistent_with_commands(brief: dict[str, Any], data_dir: Path) -> int:
    """Every number brief.json shares with ``capscope rotation / breadth / patterns / scan --format json`` for the
    same date is equal (percentages compared after the one rounding rule). Returns how many were compared."""
    as_of = brief["as_of"]
    p = brief["params"]
    n = 0
    pairs = {"small_vs_large": (p["symbol"], p["benchmark"]), "growth_value": (p["growth"], p["value"])}
    for section, (num, den) in pairs.items():
        summary = brief["rotation"].get(section)
        if not summary:
            continue
        day = summary["end"]  # a pair is measured to its own last common bar
        rot = _cli_json(
            [
                "rotation",
                "--as-of",
                day,
                "--pairs",
                f"{num}:{den}",
                "--rrg",
                "",
                "--format",
                "json",
                "--data",
                str(data_dir),
            ]
        )
        pair = rot["pairs"][0]
        returns = {r["label"]: r for r in pair["returns"]}
        for period in summary["periods"]:
            r = returns[period["label"].split(" to ")[0]]
            stated = r["stated"]
            assert (period["start"], period["end"]) == (r["start_date"], r["end_date"])
            assert period["numerator_return"] == stated["numerator_pct"]
            assert period["denominator_return"] == stated["denominator_pct"]
            assert period["gap"] == stated["spread_pp"], (section, period)
            assert period["return_ratio"] == stated["return_ratio"]
            n += 5
        lead = {x["window"]: x for x in pair["leadership"]}
        for x in summary["leadership"]:
            cli = lead[x["window"]]
            assert (x["streak"], x["since"]) == (cli["streak_bars"], cli["since"])
            assert x["relative_return"] == rnd(cli["relative_return"] * 100, "percent")
            n += 3
    if brief["breadth"]:
        br = _cli_json(["breadth", "--as-of", as_of, "--format", "json", "--data", str(data_dir)])
        for key, value in brief["breadth"]["latest"].items():
            cli = br["latest"][key]
            assert value == (rnd(cli, "percent") if isinstance(cli, float) else cli), key
            n += 1
    sym = p["symbol"]
    pats = _cli_json(
        ["patterns", sym, "--as-of", as_of, "--all", "--format", "json", "--data", str(data_dir)]
    )
    cli_pats = {(r["kind"], json.dumps(r["points"], sort_keys=True)): r for r in pats["patterns"]}
    for rec in brief["patterns"]:
        cli = cli_pats[(rec["kind"], json.dumps(rec["points"], sort_keys=True))]
        for key in ("status", "date", "target", "invalidation", "breakout", "neckline"):
            assert rec[key] == cli[key], key
            n += 1
    scan = _cli_json(
        ["scan", sym, "--as-of", as_of, "--since", "all", "--format", "json", "--data", str(data_dir)]
    )
    event_key = ("date", "kind", "ma", "window", "fast", "level")
    cli_events = {tuple(e.get(k) for k in event_key): e for e in scan["events"]}
    for ev in brief["events"]:
        cli = cli_events[tuple(ev.get(k) for k in event_key)]
        for key, value in ev.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                assert value == cli[key], (ev["kind"], key)
                n += 1
    return n


def test_brief_numbers_equal_the_commands(gen_dir: Path) -> None:
    inputs = load_from_files(gen_dir, SYMBOLS, None)
    brief = json.loads(dumps(build_brief(inputs, BriefParams(), None)))
    assert brief["rotation"]["growth_value"]["stale"] and not brief["rotation"]["small_vs_large"]["stale"]
    assert check_consistent_with_commands(brief, gen_dir) > 50


# -- CLI on generated files ---------------------------------------------------------------------------------------
def test_cli_brief_writes_three_files(gen_dir: Path, tmp_path: Path, gen: tuple[Panel, Panel]) -> None:
    from typer.testing import CliRunner

    from capscope.cli.app import app

    day = str(gen[0].dates[-20])
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["brief", "--data", str(gen_dir), "--as-of", day, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "brief.html" in res.output
    brief = json.loads((out / "brief.json").read_text())
    assert brief["as_of"] == day
    assert (out / "brief.md").read_text().startswith(f"# capscope brief: RUT as of {day}")
    assert (out / "brief.html").stat().st_size < 5_000_000


def test_cli_brief_unknown_symbol_is_a_clean_error(gen_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from capscope.cli.app import app

    res = CliRunner().invoke(
        app, ["brief", "--data", str(gen_dir), "--symbol", "NOPE", "--out", str(tmp_path)]
    )
    assert res.exit_code != 0
    assert isinstance(res.exception, Exception) and "NOPE" in str(res.exception)
    assert not isinstance(res.exception, (KeyError, IndexError, AttributeError))


def test_store_and_files_give_the_same_brief(gen_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from capscope.cli.app import app

    store = tmp_path / "s.duckdb"
    runner = CliRunner()
    res = runner.invoke(app, ["ingest", str(gen_dir), "--store", str(store)])
    assert res.exit_code == 0, res.output
    outs = {}
    for how, args in (("store", ["--store", str(store)]), ("files", ["--data", str(gen_dir)])):
        out = tmp_path / how
        res = runner.invoke(app, ["brief", "--out", str(out), *args])
        assert res.exit_code == 0, res.output
        outs[how] = json.loads((out / "brief.json").read_text())
    assert outs["store"]["data"]["origin"].startswith("store")
    assert _without_provenance(outs["store"]) == _without_provenance(outs["files"])
    assert _by_id(outs["store"])["provenance.universe"]["value"] == 6


def _without_provenance(brief: dict[str, Any]) -> str:
    return dumps({k: v for k, v in brief.items() if k != "data"})


# -- the sample data (its own dates) -----------------------------------------------------------------------------
def _copy_data(sample: Path, dest: Path, as_of: str | None) -> Path:
    """Copy the brief's price files and a few stocks, keeping only rows dated on or before ``as_of``."""
    for sub, names in (("prices", [f"{s}.csv" for s in SYMBOLS]), ("stocks", None)):
        src = sample / sub
        files = [src / n for n in names] if names else sorted(src.glob("*.csv"))[:N_STOCKS]
        (dest / sub).mkdir(parents=True, exist_ok=True)
        for f in files:
            if as_of is None:
                shutil.copyfile(f, dest / sub / f.name)
                continue
            lines = f.read_text().splitlines()
            kept = [lines[0]] + [ln for ln in lines[1:] if ln[:10] <= as_of]
            (dest / sub / f.name).write_text("\n".join(kept) + "\n")
    return dest


@pytest.fixture(scope="module")
def full_dir(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_data(sample_dir, tmp_path_factory.mktemp("full"), None)


@pytest.mark.sample
def test_sample_as_of_invariance(full_dir: Path, sample_dir: Path, tmp_path: Path) -> None:
    as_of = "2025-06-06"
    cut = _copy_data(sample_dir, tmp_path / "cut", as_of)
    full = build_brief(load_from_files(full_dir, SYMBOLS, None), BriefParams(), as_of)
    trunc = build_brief(load_from_files(cut, SYMBOLS, None), BriefParams(), as_of)
    assert full["as_of"] == trunc["as_of"] <= as_of
    assert _without_provenance(full) == _without_provenance(trunc)
    assert {d["symbol"]: d["last_date"] for d in full["data"]["symbols"]}["RUT"] > as_of


@pytest.mark.sample
def test_sample_2025_close_is_the_file_row_and_matches_the_commands(full_dir: Path) -> None:
    """The close is the RUT.csv row of the brief date (read here with the csv module); the growth/value gap is
    the number `capscope rotation` prints (+1.56 pp, where the brief once said +1.55)."""
    brief = json.loads(
        dumps(build_brief(load_from_files(full_dir, SYMBOLS, None), BriefParams(), "2025-12-31"))
    )
    with open(full_dir / "prices" / "RUT.csv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["date"] == "2025-12-31")
    by_id = _by_id(brief)
    assert by_id["technical.close"]["value"] == round(float(row["close"]), 2)
    assert check_consistent_with_commands(brief, full_dir) > 50
    assert check_markdown_numbers(brief) == []
    check_true_on_its_date(brief, load_from_files(full_dir, SYMBOLS, None).prices, None)


@pytest.mark.sample
def test_sample_2026_states_staleness_and_history(full_dir: Path) -> None:
    """As of 2026-08-21 the growth/value files ended on 2025-12-24 and the stocks on 2025-07-08: their sections
    say so, their periods are labelled 'to <end>', the headline leaves them out; the 2026 head-and-shoulders
    is told in the past tense."""
    inputs = load_from_files(full_dir, SYMBOLS, None)
    brief = json.loads(dumps(build_brief(inputs, BriefParams(), "2026-08-21")))
    by_id = _by_id(brief)
    assert by_id["growth_value.data_ends"]["value"] == "2025-12-24"
    assert by_id["growth_value.12M"]["inputs"]["label"] == "12M to 2025-12-24"
    assert by_id["growth_value.12M"]["inputs"]["start"] == "2024-12-24"
    assert by_id["breadth.data_ends"]["value"] == "2025-07-08"
    assert not {"headline.growth_value", "headline.breadth"} & set(by_id)
    hs = [
        f
        for f in brief["facts"]
        if f["id"].startswith("technical.pattern") and f["value"] == "head_and_shoulders"
    ]
    assert hs and hs[0]["inputs"]["status"] == "target_reached"
    assert "reached its target on" in hs[0]["text"]
    text = render_markdown(brief)
    assert "invalidated by a close beyond 2,735.10" not in text
    check_true_on_its_date(brief, inputs.prices, inputs.universe)
