"""Replay: the sample cut at a date, one bar appended per file per step, a watch cycle after each step.

The signal alerts must equal the events of one batch ``scan`` over the same days, in the same order, none missing
and none doubled; the pattern alerts are checked against batch ``find_patterns`` runs as of replay days. Crosses come from the saved indicator states, levels and breakouts from the trailing window
(:data:`capscope.watch.engine.LEVEL_WINDOW`), so this also shows that the window gives the batch's events on
the sample data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.sample

STEPS = 60
N_STOCKS = 50


def _split(path: Path) -> tuple[str, list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    return lines[0], lines[1:]


def build_replay(sample_dir: Path, root: Path, steps: int = STEPS, n_stocks: int = N_STOCKS):  # type: ignore[no-untyped-def]
    """Copy the index/ETF files and ``n_stocks`` stocks cut ``steps`` trading days before the end; return the data
    directory, the replay days and, per file, its remaining lines by date."""
    prices = sorted((sample_dir / "prices").glob("*.csv"))
    stocks = sorted((sample_dir / "stocks").glob("*.csv"))
    stride = max(1, len(stocks) // n_stocks)
    chosen = prices + stocks[::stride][:n_stocks]
    days: set[str] = set()
    split = {}
    for path in chosen:
        header, rows = _split(path)
        split[path] = (header, rows)
        days.update(r[:10] for r in rows)
    replay = sorted(days)[-steps:]
    cut = replay[0]
    data = root / "data"
    rest: dict[Path, dict[str, str]] = {}
    for path, (header, rows) in split.items():
        sub = "prices" if path.parent.name == "prices" else "stocks"
        target = data / sub / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(header + "".join(r for r in rows if r[:10] < cut), encoding="utf-8")
        rest[target] = {r[:10]: r for r in rows if r[:10] >= cut}
    return data, replay, rest


def test_replay_equals_batch_scan(sample_dir: Path, tmp_path: Path) -> None:
    from capscope.cli.scan import run_scan
    from capscope.data.readers import read_many
    from capscope.events.records import events_to_records
    from capscope.store import Store
    from capscope.watch.pickup import DirectoryPickup
    from capscope.watch.runner import FileSink, run_cycle

    data, replay, rest = build_replay(sample_dir, tmp_path)
    alerts = tmp_path / "alerts.jsonl"
    store_path = tmp_path / "watch.duckdb"
    with Store(store_path) as store:  # the first look: everything is history
        first = run_cycle(store, [FileSink(alerts)], DirectoryPickup(data))
    assert first.alerts == [] and len(first.history_symbols) == len(rest)
    for day in replay:
        for path, lines in rest.items():
            if day in lines:
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(lines[day])
        with Store(store_path) as store:  # a new process each step (watch --once)
            report = run_cycle(store, [FileSink(alerts)], DirectoryPickup(data))
        assert report.days == [day]

    got = [json.loads(line) for line in alerts.read_text(encoding="utf-8").splitlines()]
    bars = read_many(sorted(rest))
    events, _ = run_scan(bars, None, None)
    expected = [r for r in events_to_records(events) if r["date"] >= replay[0]]
    stripped = [{k: v for k, v in a.items() if k not in ("alert_id", "detected_at")} for a in got]
    signals = [a for a in stripped if "status" not in a]  # pattern alerts carry the pattern's status
    assert len(expected) > 100  # the replay exercises many events
    kinds = {r["kind"] for r in expected}
    assert {"level_formed", "breakout_above", "macd_bullish_cross"} <= kinds
    assert len({a["alert_id"] for a in got}) == len(got)
    assert signals == expected
    _check_pattern_alerts(bars, replay, [a for a in stripped if "status" in a])


def _check_pattern_alerts(bars, replay: list[str], got: list[dict]) -> None:  # type: ignore[no-untyped-def]
    """Pattern alerts on the sample: equal to the per-day batch (records dated D of ``find_patterns`` as of D) on
    every 10th replay day and the last (a batch run over the 65 sample series costs ~2 s); and every record of
    the batch as of the last day whose status date falls in the replay is among the alerts (all days, final
    statuses). ``tests/test_watch_patterns.py`` checks every day on generated data."""
    from capscope.data.panel import Panel
    from capscope.patterns.api import find_patterns
    from capscope.watch.patterns import pattern_alert

    panel = Panel.from_bars(bars, fields=("high", "low", "close"))
    by_day: dict[str, list[dict]] = {}
    for a in got:
        by_day.setdefault(a["date"], []).append(a)
    assert list(by_day) == sorted(by_day)  # alerts come day by day
    for day in [*replay[::10], replay[-1]]:
        row = panel.index_of(day)
        batch = [r for r in find_patterns(panel, as_of=day) if r.date.isoformat() == day]
        want = [pattern_alert(r, float(panel.close[row, panel.column(r.symbol)])) for r in batch]
        assert by_day.get(day, []) == json.loads(json.dumps(sorted(want, key=lambda a: str(a["symbol"]))))
    final = [r.to_dict() for r in find_patterns(panel, as_of=replay[-1]) if r.date.isoformat() >= replay[0]]
    assert len(final) >= 5  # the replay has pattern changes
    alerted = [{k: v for k, v in a.items() if k != "price"} for a in got]
    assert all(json.loads(json.dumps(r)) in alerted for r in final)
