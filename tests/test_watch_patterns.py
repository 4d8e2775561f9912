"""Pattern status changes in ``capscope watch``: day for day equal to per-day batch ``find_patterns`` runs.

A generated universe (random walks with a late listing and a halt) is cut at a date; then one bar per file is
appended per step and ``capscope watch --once`` runs after each step (in-process, a new store connection each
time). For every step's day ``D`` the pattern alerts must equal the records of a batch
``find_patterns(panel, as_of=D)`` whose status date is ``D`` -- same records, same order, none missing, none
doubled. The test also checks the claims :mod:`capscope.watch.patterns` makes about the alternatives: every such
record is absent from the batch as of ``D-1`` (so it is a change seen between ``D-1`` and ``D``), and a single batch
run as of the last day cannot replace the per-day runs (it has lost intermediate statuses).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

N_SYMBOLS = 12
HISTORY = 420
STEPS = 45


def _universe(seed: int = 17) -> tuple[list[str], dict[str, list[str]]]:
    """Weekday dates and, per symbol, its CSV rows (one per bar); one symbol listed late, one halted 4 days."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2022-01-03")
    days = np.arange(start, start + 2 * (HISTORY + STEPS))
    days = [str(d) for d in days[np.is_busday(days)][: HISTORY + STEPS]]
    rows: dict[str, list[str]] = {}
    for j in range(N_SYMBOLS):
        close = 25.0 * np.exp(np.cumsum(rng.normal(0.0, 0.022, len(days))))
        wig = np.abs(rng.normal(0.0, 0.012, (2, len(days)))) * close
        keep = np.ones(len(days), dtype=bool)
        if j == 1:
            keep[: HISTORY // 2] = False  # listed half-way through the history
        if j == 2:
            keep[HISTORY + 10 : HISTORY + 14] = False  # halted during the replay
        rows[f"P{j:02d}"] = [
            f"{d},{c:.4f},{c + u:.4f},{c - lo:.4f},{c:.4f},,1000\n"
            for d, c, u, lo, k in zip(days, close, wig[0], wig[1], keep, strict=True)
            if k
        ]
    return days, rows


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("date,open,high,low,close,adj_close,volume\n" + "".join(lines), encoding="utf-8")


def _per_day_batch(panel, days: list[str]) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """The pattern alerts a per-day batch gives: for each day, the records of ``find_patterns`` as of that day
    whose status date is that day, by symbol."""
    from capscope.patterns.api import find_patterns
    from capscope.watch.patterns import pattern_alert

    expected: list[dict[str, object]] = []
    for day in days:
        row = panel.index_of(day)
        now = [
            pattern_alert(r, float(panel.close[row, panel.column(r.symbol)]))
            for r in find_patterns(panel, as_of=day)
            if r.date.isoformat() == day
        ]
        expected += sorted(now, key=lambda a: str(a["symbol"]))
    return expected


def test_pattern_alerts_equal_per_day_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from capscope.data.panel import Panel
    from capscope.data.readers import read_many
    from capscope.patterns.api import find_patterns
    from capscope.watch.patterns import pattern_alert
    from tests.cli_helpers import run_main

    days, rows = _universe()
    replay = days[HISTORY:]
    data = tmp_path / "data" / "stocks"
    data.mkdir(parents=True)
    for sym, lines in rows.items():
        _write(data / f"{sym}.csv", [x for x in lines if x[:10] < replay[0]])
    alerts = tmp_path / "alerts.jsonl"
    args = ["watch", "--once", "--data", str(tmp_path / "data"), "--store", str(tmp_path / "w.duckdb")]
    args += ["--alerts", str(alerts)]
    code, out, err = run_main(args, monkeypatch, capsys)
    assert code == 0 and f"{N_SYMBOLS} symbols taken as history" in err, err
    assert out == "" and (not alerts.exists() or alerts.read_text() == "")  # history alerts nothing
    for day in replay:
        for sym, lines in rows.items():
            _write(data / f"{sym}.csv", [x for x in lines if x[:10] <= day])
        code, _, err = run_main(args, monkeypatch, capsys)
        assert code == 0, err

    got = [json.loads(line) for line in alerts.read_text(encoding="utf-8").splitlines()]
    assert len({a["alert_id"] for a in got}) == len(got)
    got_patterns = [
        {k: v for k, v in a.items() if k not in ("alert_id", "detected_at")} for a in got if "status" in a
    ]

    panel = Panel.from_bars(read_many(sorted(data.glob("*.csv"))), fields=("high", "low", "close"))
    expected: list[dict[str, object]] = []
    previous = {json.dumps(r.to_dict()) for r in find_patterns(panel, as_of=days[HISTORY - 1])}
    for day in replay:
        batch = find_patterns(panel, as_of=day)
        row = panel.index_of(day)
        now = [
            pattern_alert(r, float(panel.close[row, panel.column(r.symbol)]))
            for r in batch
            if r.date.isoformat() == day
        ]
        expected += sorted(now, key=lambda a: str(a["symbol"]))
        current = [json.dumps(r.to_dict()) for r in batch]
        new_today = [c for c in current if c not in previous]
        # every record dated D is a change between D-1 and D; other differences are older records the dedupe
        # shows again (not status changes)
        dated_today = {json.dumps(r.to_dict()) for r in batch if r.date.isoformat() == day}
        assert dated_today <= set(new_today)
        assert all(json.loads(c)["date"] < day for c in set(new_today) - dated_today)
        previous = set(current)

    # the replay exercises the feature: many changes, several statuses, a halted symbol skipped while halted
    assert len(expected) >= 20, len(expected)
    assert len({a["status"] for a in expected}) >= 3
    assert got_patterns == json.loads(json.dumps(expected))
    halted = {a["date"] for a in got_patterns if a["symbol"] == "P02"}
    assert not halted & set(replay[10:14])

    # a batch run as of the last day only shows each formation's final status: it misses changes
    final = {json.dumps(r.to_dict()) for r in find_patterns(panel)}
    missed = [a for a in expected if json.dumps({k: v for k, v in a.items() if k != "price"}) not in final]
    assert missed, "expected some intermediate statuses that a final-date batch no longer shows"


def test_changed_records_equal_filtered_records() -> None:
    """``changed_records`` builds exactly the records dated on the row, on a ragged generated panel, for every
    row of its last 150 and for a subset of columns."""
    from capscope.data.panel import Panel
    from capscope.patterns.chartist import detect_panel
    from capscope.watch.patterns import changed_records

    rng = np.random.default_rng(3)
    n, m = 500, 16
    close = 40.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (n, m)), axis=0))
    wig = np.abs(rng.normal(0.0, 0.01, (n, m))) * close
    high, low = close + wig, close - wig
    for a in (high, low, close):
        a[:120, 4] = np.nan  # late listing
        a[300:310, 7] = np.nan  # halt
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-01") + n)
    panel = Panel(days, tuple(f"Q{j}" for j in range(m)), {"high": high, "low": low, "close": close})
    found = detect_panel(panel.dates, tuple(panel.symbols), high, low, close)
    subset = np.array([0, 4, 7, 11])
    total = 0
    for row in range(n - 150, n):
        want = [r for recs in found.records(row) for r in recs if r.date == days[row].astype(object)]
        assert [r.to_dict() for r in changed_records(found, row)] == [r.to_dict() for r in want]
        part = [r.to_dict() for r in want if panel.column(r.symbol) in subset]
        assert [r.to_dict() for r in changed_records(found, row, subset)] == part
        total += len(want)
    assert total >= 30


def test_catch_up_and_no_patterns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Many new days in one cycle (one detector pass read as of each day) give the per-day batch's changes;
    ``--no-patterns`` gives the same signal alerts and no pattern alert; one thread gives the same alerts."""
    from capscope.data.panel import Panel
    from capscope.data.readers import read_many
    from tests.cli_helpers import run_main

    days, rows = _universe(seed=29)
    new_days = days[HISTORY - 25 : HISTORY]
    data = tmp_path / "data" / "stocks"
    data.mkdir(parents=True)
    for sym, lines in rows.items():
        _write(data / f"{sym}.csv", [x for x in lines if x[:10] < new_days[0]])
    runs = {}
    for flag in ("--patterns", "--no-patterns"):
        alerts = tmp_path / f"alerts{flag}.jsonl"
        args = [
            "watch",
            "--once",
            "--data",
            str(tmp_path / "data"),
            "--store",
            str(tmp_path / f"w{flag}.duckdb"),
        ]
        args += ["--alerts", str(alerts), flag]
        assert run_main(args, monkeypatch, capsys)[0] == 0  # history
        runs[flag] = args
    for sym, lines in rows.items():
        _write(data / f"{sym}.csv", [x for x in lines if x[:10] <= new_days[-1]])
    got = {}
    for flag, args in runs.items():
        code, _, err = run_main(args, monkeypatch, capsys)
        assert code == 0 and f"({new_days[0]}..{new_days[-1]})" in err, err
        lines = (tmp_path / f"alerts{flag}.jsonl").read_text(encoding="utf-8").splitlines()
        n_patterns = sum(1 for x in lines if "status" in json.loads(x))
        summary = f"{len(lines)} alerts" + (f" ({n_patterns} pattern status changes)" if n_patterns else "")
        assert summary in " ".join(err.split()), err
        got[flag] = [
            {k: v for k, v in json.loads(x).items() if k not in ("alert_id", "detected_at")} for x in lines
        ]
    # single-threaded (NUMBA_NUM_THREADS=1 / numba.set_num_threads(1)): the pattern pass in the cycle's own
    # thread instead of a background pool -- the same alerts, ids included
    import numba

    alone = tmp_path / "alerts-one-thread.jsonl"
    one_args = [*runs["--patterns"][:-4], str(tmp_path / "w1.duckdb"), "--alerts", str(alone), "--patterns"]
    for sym, lines in rows.items():
        _write(data / f"{sym}.csv", [x for x in lines if x[:10] < new_days[0]])
    assert run_main(one_args, monkeypatch, capsys)[0] == 0  # history
    for sym, lines in rows.items():
        _write(data / f"{sym}.csv", [x for x in lines if x[:10] <= new_days[-1]])
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        assert run_main(one_args, monkeypatch, capsys)[0] == 0
    finally:
        numba.set_num_threads(before)
    single = [
        {k: v for k, v in json.loads(x).items() if k != "detected_at"} for x in alone.read_text().splitlines()
    ]
    pooled = (tmp_path / "alerts--patterns.jsonl").read_text(encoding="utf-8").splitlines()
    assert single == [{k: v for k, v in json.loads(x).items() if k != "detected_at"} for x in pooled]

    panel = Panel.from_bars(read_many(sorted(data.glob("*.csv"))), fields=("high", "low", "close"))
    expected = _per_day_batch(panel, new_days)
    assert len(expected) >= 10
    assert [a for a in got["--patterns"] if "status" in a] == json.loads(json.dumps(expected))
    assert [a for a in got["--patterns"] if "status" not in a] == got["--no-patterns"]
    assert got["--no-patterns"] and not any("status" in a for a in got["--no-patterns"])


def test_universe_typo_suggests_file_in_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelled universe symbol gets a close match from the data directory's files, which the universe kept
    out of the store."""
    from tests.cli_helpers import run_main

    _, rows = _universe(seed=5)
    data = tmp_path / "data" / "stocks"
    data.mkdir(parents=True)
    for sym in ("P00", "P01"):
        _write(data / f"{sym}.csv", rows[sym][:300])
    universe = tmp_path / "u.txt"
    universe.write_text("P00\nP0l\n", encoding="utf-8")
    args = ["watch", "--once", "--data", str(tmp_path / "data"), "--store", str(tmp_path / "w.duckdb")]
    code, _, err = run_main([*args, "--universe", str(universe)], monkeypatch, capsys)
    assert code == 0 and "1 symbol taken as history" in err, err
    assert "P0l has no bars in the store yet (did you mean P01" in " ".join(err.split())


def test_long_running_watch_carries_the_pass_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The long-running watch (one store, the history in memory, the states cached) runs the pattern pass once
    per group at start-up and then carries it on by one row a day: the alerts still equal the per-day batch."""
    from capscope.data.panel import Panel
    from capscope.data.readers import read_many
    from capscope.store import Store
    from capscope.watch import runner
    from capscope.watch.patterns import GroupPatterns
    from capscope.watch.pickup import DirectoryPickup

    monkeypatch.setattr(runner, "GROUP_SIZE", 5)  # three groups of the 12 symbols
    calls = {"detect": 0, "advance": 0}
    detect, advance = GroupPatterns.detect.__func__, GroupPatterns.advance  # type: ignore[attr-defined]

    def counted_detect(cls: type, *args: object, **kw: object) -> GroupPatterns:
        calls["detect"] += 1
        return detect(cls, *args, **kw)  # type: ignore[no-any-return]

    def counted_advance(self: GroupPatterns, panel: Panel) -> GroupPatterns:
        calls["advance"] += 1
        return advance(self, panel)

    monkeypatch.setattr(GroupPatterns, "detect", classmethod(counted_detect))
    monkeypatch.setattr(GroupPatterns, "advance", counted_advance)
    days, rows = _universe(seed=41)
    replay = days[HISTORY:]
    data = tmp_path / "data" / "stocks"
    data.mkdir(parents=True)
    for sym, lines in rows.items():
        _write(data / f"{sym}.csv", [x for x in lines if x[:10] < replay[0]])
    sink = runner.FileSink(tmp_path / "alerts.jsonl")
    with Store(tmp_path / "w.duckdb") as store:
        history, states = runner.MemoryWindow(store, None), runner.StateCache()
        pickup = DirectoryPickup(tmp_path / "data")
        first = runner.run_cycle(store, [sink], pickup, history=history, states=states)
        assert len(first.history_symbols) == N_SYMBOLS and first.alerts == []
        assert calls == {"detect": 3, "advance": 0}  # start-up: one pass per group, for the first new day
        for day in replay:
            for sym, lines in rows.items():
                _write(data / f"{sym}.csv", [x for x in lines if x[:10] <= day])
            report = runner.run_cycle(store, [sink], pickup, history=history, states=states)
            assert report.days == [day]
    assert calls == {"detect": 3, "advance": 3 * len(replay)}  # every new day carried on, none redone

    got = [json.loads(x) for x in (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    got_patterns = [
        {k: v for k, v in a.items() if k not in ("alert_id", "detected_at")} for a in got if "status" in a
    ]
    panel = Panel.from_bars(read_many(sorted(data.glob("*.csv"))), fields=("high", "low", "close"))
    expected = _per_day_batch(panel, replay)
    assert len(expected) >= 20 and len({a["status"] for a in expected}) >= 3
    assert got_patterns == json.loads(json.dumps(expected))


def test_once_runs_no_pattern_pass_without_new_bars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``watch --once`` keeps nothing for a next cycle: a cycle without new bars runs no pattern pass."""
    from capscope.watch.patterns import GroupPatterns
    from tests.cli_helpers import run_main

    _, rows = _universe(seed=5)
    data = tmp_path / "data" / "stocks"
    data.mkdir(parents=True)
    for sym, lines in rows.items():
        _write(data / f"{sym}.csv", lines[:300])
    args = ["watch", "--once", "--data", str(tmp_path / "data"), "--store", str(tmp_path / "w.duckdb")]
    assert run_main(args, monkeypatch, capsys)[0] == 0  # history
    calls = []
    detect = GroupPatterns.detect.__func__  # type: ignore[attr-defined]

    def counted(cls: type, *a: object, **kw: object) -> GroupPatterns:
        calls.append(1)
        return detect(cls, *a, **kw)  # type: ignore[no-any-return]

    monkeypatch.setattr(GroupPatterns, "detect", classmethod(counted))
    code, _, err = run_main(args, monkeypatch, capsys)
    assert code == 0 and "no new bars" in err and calls == []
    for sym, lines in rows.items():
        _write(data / f"{sym}.csv", lines[:301])
    code, _, err = run_main(args, monkeypatch, capsys)
    # the one group has new bars: one pass over its whole history
    assert code == 0 and "new bars" in err and len(calls) == 1
