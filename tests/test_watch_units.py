"""Units of the watch: store migration, state serialization, stream-vs-batch crosses, sinks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


def _panel(n_bars: int, n_symbols: int, seed: int = 0):  # type: ignore[no-untyped-def]
    from capscope.data.panel import Panel

    rng = np.random.default_rng(seed)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0, 0.02, (n_bars, n_symbols)), axis=0))
    spread = np.abs(rng.normal(0, 0.01, (n_bars, n_symbols))) * close
    high = np.ascontiguousarray(close + spread)
    low = np.ascontiguousarray(close - spread)
    close[:40, 0] = np.nan  # a late listing
    high[:40, 0] = np.nan
    low[:40, 0] = np.nan
    close[300:305, 1] = np.nan  # a halt
    high[300:305, 1] = np.nan
    low[300:305, 1] = np.nan
    dates = np.datetime64("2020-01-01") + np.arange(n_bars)
    symbols = tuple(f"S{j:02d}" for j in range(n_symbols))
    return Panel(dates, symbols, {"high": high, "low": low, "close": np.ascontiguousarray(close)})


def test_store_migrates_version_1(tmp_path: Path) -> None:
    from capscope.store import Store
    from capscope.store.schema import SCHEMA_VERSION

    path = tmp_path / "old.duckdb"
    with Store(path) as st:  # make it look like a version-1 store
        for table in ("watch_groups", "watch_alerts", "watch_sinks"):
            st.con.execute(f"DROP TABLE {table}").fetchall()
        st.con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'").fetchall()
    with Store(path, read_only=True) as st:  # readers accept it unchanged
        assert not st.con.execute(
            "SELECT * FROM duckdb_tables() WHERE table_name = 'watch_alerts'"
        ).fetchall()
    with Store(path) as st:
        version = st.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()[0][0]
        assert int(version) == SCHEMA_VERSION == 2
        assert st.con.execute("SELECT count(*) FROM watch_alerts").fetchall()[0][0] == 0


def test_stream_crosses_equal_batch() -> None:
    """Folding bars one by one into a GroupState gives the batch crosses on every bar, bit for bit."""
    from capscope.events.records import assemble, events_to_records
    from capscope.events.scan import scan_panel
    from capscope.watch.engine import STATE_GROUPS, GroupState

    panel = _panel(700, 6)
    cut = 400
    state = GroupState.from_history(panel.truncate(panel.dates[cut - 1]))
    got = []
    for t in range(cut, panel.n_bars):
        window = panel.truncate(panel.dates[t])
        new = ~np.isnan(window.close[-1])
        state = GroupState.from_bytes(state.to_bytes())  # a restart on every bar
        parts = [p for p in state.advance(window, new, levels=False)]
        got += events_to_records(assemble(window, parts))
    batch = scan_panel(panel, STATE_GROUPS, since=panel.dates[cut])
    assert len(got) > 20
    assert got == events_to_records(batch)


def test_state_rejects_foreign_bytes() -> None:
    from capscope.errors import UsageError
    from capscope.watch.engine import GroupState

    with pytest.raises(UsageError, match="not readable"):
        GroupState.from_bytes(b"not an archive")


def test_file_sink_is_idempotent(tmp_path: Path) -> None:
    """A half-written line is cut and alerts already in the tail are not written again."""
    from capscope.watch.runner import Alert, FileSink

    path = tmp_path / "a.jsonl"
    alerts = [Alert(i, f"id{i}", json.dumps({"alert_id": f"id{i}", "n": i})) for i in range(1, 5)]
    marks: list[int] = []
    path.write_text(
        alerts[0].payload + "\n" + alerts[1].payload + "\n" + alerts[2].payload[:7], encoding="utf-8"
    )
    FileSink(path).deliver(alerts[1:], marks.append)  # alert 1 was marked; 2 written, 3 half-written
    lines = [json.loads(x)["alert_id"] for x in path.read_text(encoding="utf-8").splitlines()]
    assert lines == ["id1", "id2", "id3", "id4"]
    assert marks == [4]


def test_file_sink_reads_its_own_ids_and_skips_other_lines(tmp_path: Path) -> None:
    """The tail's ids are read from the sink's own lines; a line that is not text or not one of its alerts
    (another writer's, or a damaged one) is skipped, not fatal, and never taken for an alert."""
    from capscope.watch.engine import alert_id
    from capscope.watch.runner import Alert, FileSink

    recs = [{"symbol": "A", "date": f"2024-01-0{i}", "kind": "k"} for i in range(1, 5)]
    alerts = [
        Alert(i + 1, alert_id(r), json.dumps({"alert_id": alert_id(r), **r, "detected_at": "z"}))
        for i, r in enumerate(recs)
    ]
    path = tmp_path / "a.jsonl"
    foreign = b'{"alert_id": "' + alerts[2].alert_id.encode() + b'", garbage'  # damaged: not a whole object
    path.write_bytes(
        alerts[0].payload.encode()
        + b"\n\xff\xfe not text\n"
        + foreign
        + b"\n"
        + alerts[1].payload.encode()
        + b"\n"
    )
    marks: list[int] = []
    FileSink(path).deliver(alerts, marks.append)
    lines = path.read_bytes().splitlines()
    assert lines[:4] == [
        alerts[0].payload.encode(),
        b"\xff\xfe not text",
        foreign,
        alerts[1].payload.encode(),
    ]
    assert [json.loads(x)["alert_id"] for x in lines[4:]] == [alerts[2].alert_id, alerts[3].alert_id]
    assert marks == [4]


def test_exec_sink_retries_then_leaves_pending(tmp_path: Path) -> None:
    """A failing command is retried, the alert stays pending, the other sinks still get it."""
    from capscope.store import Store
    from capscope.watch.runner import Alert, ExecSink, FileSink, deliver, register_sinks

    counter = tmp_path / "tries"
    bad = ExecSink(f"echo x >> {counter}; exit 3", attempts=3, wait_max=0.01)
    good = FileSink(tmp_path / "alerts.jsonl")
    with Store(tmp_path / "s.duckdb") as st:
        register_sinks(st, [bad, good])
        payload = json.dumps({"alert_id": "a1"})
        st.con.execute(
            "INSERT INTO watch_alerts VALUES (1, 'a1', 'X', DATE '2026-01-02', 'golden_cross', ?, now()::TIMESTAMP)",
            [payload],
        ).fetchall()
        assert deliver(st, bad) == 0
        assert deliver(st, good) == 1
        assert len(counter.read_text().splitlines()) == 3
        ok = ExecSink(f"cat >> {tmp_path / 'got'}")
        ok.name = bad.name  # the same sink, its command fixed
        assert deliver(st, ok) == 1
        assert json.loads((tmp_path / "got").read_text())["alert_id"] == "a1"
        assert deliver(st, ok) == 0
    assert Alert(1, "a1", payload).record == {"alert_id": "a1"}


def _write_csv(path: Path, dates: list[str], close: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        f"{d},{c:.4f},{c * 1.01:.4f},{c * 0.99:.4f},{c:.4f},,1000\n"
        for d, c in zip(dates, close, strict=True)
    ]
    path.write_text("date,open,high,low,close,adj_close,volume\n" + "".join(rows), encoding="utf-8")


def test_memory_window_equals_store_window(tmp_path: Path) -> None:
    """The in-memory window of the long-running watch is the panel a fresh read of the store gives."""
    from capscope.data.panel import panel_equal
    from capscope.store import Store
    from capscope.watch.runner import MemoryWindow, store_window

    rng = np.random.default_rng(3)
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-12-31"))
    days = [str(d) for d in days[np.is_busday(days)]]
    data = tmp_path / "data"
    for j, skip in enumerate((0, 30, 0)):  # a late listing and a halt make the calendars ragged
        keep = [d for i, d in enumerate(days) if i >= skip and not (j == 2 and 100 <= i < 104)]
        _write_csv(data / f"X{j}.csv", keep, 20 * np.exp(np.cumsum(rng.normal(0, 0.02, len(keep)))))
    with Store(tmp_path / "s.duckdb") as st:
        st.ingest(data)
        mem = MemoryWindow(st, window=60)
        fresh = store_window(st, window=60)
        symbols = ("X0", "X1", "X2")
        for d in [days[150], days[151], days[152], days[160], days[155], days[156]]:
            day = np.datetime64(d, "D")
            a, b = mem(symbols, day), fresh(symbols, day)
            assert panel_equal(a, b) and a.n_bars == 60 and a.dates[-1] == day


def test_memory_window_grows_in_place_and_keeps_earlier_panels(tmp_path: Path) -> None:
    """Day after day the rows are appended to buffers that grow (past their first capacity here); every panel
    given out, kept until the end, still equals a fresh read of its day (whole history and trailing window)."""
    from capscope.data.panel import panel_equal
    from capscope.store import Store
    from capscope.watch.runner import MemoryWindow, store_window

    rng = np.random.default_rng(8)
    days = np.arange(np.datetime64("2023-01-02"), np.datetime64("2024-06-28"))
    days = [str(d) for d in days[np.is_busday(days)]]
    data = tmp_path / "data"
    for j, skip in enumerate((0, 160)):
        keep = days[skip:]
        _write_csv(data / f"W{j}.csv", keep, 20 * np.exp(np.cumsum(rng.normal(0, 0.02, len(keep)))))
    with Store(tmp_path / "s.duckdb") as st:
        st.ingest(data)
        for window in (None, 60):
            mem, fresh = MemoryWindow(st, window), store_window(st, window)
            given = [(d, mem(("W0", "W1"), np.datetime64(d, "D"))) for d in days[100:260]]
            for d, panel in given:
                assert panel_equal(panel, fresh(("W0", "W1"), np.datetime64(d, "D"))), (window, d)
            assert given[-1][1].n_bars == (260 if window is None else 60)


def test_cli_watch_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """History alerts nothing; appended rows alert once on the terminal and in the file; rerun repeats nothing."""
    from tests.cli_helpers import run_main

    rng = np.random.default_rng(5)
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2025-06-30"))
    days = [str(d) for d in days[np.is_busday(days)]]
    closes = {f"Y{j}": 30 * np.exp(np.cumsum(rng.normal(0, 0.025, len(days)))) for j in range(8)}
    data = tmp_path / "data"
    for sym, c in closes.items():
        _write_csv(data / f"{sym}.csv", days[:-15], c[:-15])
    args = ["watch", "--once", "--data", str(data), "--store", str(tmp_path / "w.duckdb")]
    args += ["--alerts", str(tmp_path / "alerts.jsonl")]
    code, out, err = run_main(args, monkeypatch, capsys)
    assert code == 0 and "8 symbols taken as history" in err and out == ""
    for sym, c in closes.items():
        _write_csv(data / f"{sym}.csv", days, c)
    code, out, err = run_main(args, monkeypatch, capsys)
    lines = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert code == 0 and "120 new bars" in err and f"{len(lines)} alerts" in err
    assert len(lines) >= 5 and all(json.loads(x)["date"] >= days[-15] for x in lines)
    assert len(out.strip().splitlines()) >= len(lines)
    code, out, err = run_main(args, monkeypatch, capsys)
    assert code == 0 and "no new bars" in err and out == ""
    assert (tmp_path / "alerts.jsonl").read_text().splitlines() == lines
    code, out, err = run_main(["watch", "--download", "--data", str(data)], monkeypatch, capsys)
    assert code == 2 and "not both" in err


def test_records_equal_events_to_records() -> None:
    """The watch's column-wise record conversion gives exactly the scan's records (same values, same types)."""
    from capscope.events.records import events_to_records
    from capscope.events.scan import scan_panel
    from capscope.watch.engine import records

    events = scan_panel(_panel(700, 8, seed=2))
    assert len(events) > 100 and events["kind"].nunique() >= 10
    assert json.dumps(records(events)) == json.dumps(events_to_records(events))


def test_alerts_of_interleaved_groups_come_in_scan_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Groups of 3 symbols, the second half of the universe added a cycle later (new groups whose symbols sort
    between the first groups'): the signal alerts of every day still equal one batch scan, in its order."""
    from capscope.data.panel import Panel
    from capscope.data.readers import read_many
    from capscope.events.records import events_to_records
    from capscope.events.scan import scan_panel
    from capscope.store import Store
    from capscope.watch import runner
    from capscope.watch.pickup import DirectoryPickup

    monkeypatch.setattr(runner, "GROUP_SIZE", 3)
    rng = np.random.default_rng(23)
    days = np.arange(np.datetime64("2023-01-02"), np.datetime64("2024-12-31"))
    days = [str(d) for d in days[np.is_busday(days)]][:420]
    steps = 30
    closes = {f"Z{j:02d}": 30 * np.exp(np.cumsum(rng.normal(0, 0.03, len(days)))) for j in range(10)}
    first, second = sorted(closes)[::2], sorted(closes)[1::2]
    data = tmp_path / "data"
    cut = len(days) - steps
    for sym in first:
        _write_csv(data / f"{sym}.csv", days[:cut], closes[sym][:cut])
    sink = runner.FileSink(tmp_path / "alerts.jsonl")
    with Store(tmp_path / "w.duckdb") as store:
        assert runner.run_cycle(store, [sink], DirectoryPickup(data)).history_symbols == first
        for sym in second:
            _write_csv(data / f"{sym}.csv", days[:cut], closes[sym][:cut])
        assert runner.run_cycle(store, [sink], DirectoryPickup(data)).history_symbols == second
        assert [len(g.symbols) for _, g in runner._groups(store)] == [3, 2, 3, 2]
        for t in range(cut, len(days)):
            for sym, c in closes.items():
                _write_csv(data / f"{sym}.csv", days[: t + 1], c[: t + 1])
            assert runner.run_cycle(store, [sink], DirectoryPickup(data)).days == [days[t]]
    got = [json.loads(x) for x in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    signals = [
        {k: v for k, v in a.items() if k not in ("alert_id", "detected_at")} for a in got if "status" not in a
    ]
    panel = Panel.from_bars(read_many(sorted(data.glob("*.csv"))), fields=("high", "low", "close"))
    expected = events_to_records(scan_panel(panel, since=days[cut]))
    assert len(expected) >= 30 and len({r["symbol"] for r in expected if r["date"] == days[-1]}) >= 1
    mixed = [d for d in days[cut:] if len({r["symbol"] for r in expected if r["date"] == d}) >= 3]
    assert mixed  # days on which several groups alert, so the merge order matters
    assert signals == expected


def test_store_checkpoint_empties_the_log(tmp_path: Path) -> None:
    """``Store.checkpoint`` (run by the long-running watch between cycles) moves DuckDB's log into the file."""
    from capscope.store import Store

    rng = np.random.default_rng(1)
    days = [str(d) for d in np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-03-01"))]
    _write_csv(tmp_path / "data" / "C0.csv", days, 20 * np.exp(np.cumsum(rng.normal(0, 0.02, len(days)))))
    wal = tmp_path / "s.duckdb.wal"
    with Store(tmp_path / "s.duckdb") as st:
        st.ingest(tmp_path / "data")
        assert wal.exists() and wal.stat().st_size > 0
        st.checkpoint()
        assert not wal.exists() or wal.stat().st_size == 0
        assert st.counts()["bars"] == len(days)
