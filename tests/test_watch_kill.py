"""Kill test: ``capscope watch --once`` killed with SIGKILL at named moments, then restarted, delivers every alert
to the alerts file exactly once, in order.

The moments come from observable progress: with ``CAPSCOPE_WATCH_PAUSE=NAME`` the watch prints
``capscope-watch-checkpoint NAME`` on stderr and sleeps there (:func:`capscope.watch.runner.checkpoint`), and the
test kills it as soon as the line appears: during the ingest of the new rows, with states/alerts/outbox written but
not committed, after the commit before delivery, with half an alert line written to the file, and with the file
synced but the delivery not yet marked. The expected alerts come from an uninterrupted in-process run over the
same steps (synthetic data, so the test needs no sample).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import capscope

pytestmark = pytest.mark.slow

POINTS = ("ingest", "state", "file-write", "commit", "file-mark")
N_SYMBOLS = 30
HISTORY = 260
STEPS = 6


def make_days(n: int, seed: int = 7) -> tuple[list[str], dict[str, list[str]]]:
    """Random-walk bars for ``N_SYMBOLS`` symbols over ``n`` weekdays, as sample-layout CSV rows."""
    rng = np.random.default_rng(seed)
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-01-01") + 2 * n)
    days = days[np.is_busday(days)][:n]
    rows: dict[str, list[str]] = {}
    for j in range(N_SYMBOLS):
        close = 40.0 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
        wig = np.abs(rng.normal(0, 0.01, n)) * close
        rows[f"S{j:02d}"] = [
            f"{d},{c:.4f},{c + w:.4f},{c - w:.4f},{c:.4f},,{1000 + i}\n"
            for i, (d, c, w) in enumerate(zip(days, close, wig, strict=True))
        ]
    return [str(d) for d in days], rows


def write_history(root: Path, rows: dict[str, list[str]], upto: int) -> Path:
    data = root / "data" / "stocks"
    data.mkdir(parents=True)
    for sym, lines in rows.items():
        (data / f"{sym}.csv").write_text(
            "date,open,high,low,close,adj_close,volume\n" + "".join(lines[:upto])
        )
    return root / "data"


def append_day(data: Path, rows: dict[str, list[str]], i: int) -> None:
    for sym, lines in rows.items():
        with open(data / "stocks" / f"{sym}.csv", "a") as fh:
            fh.write(lines[i])


def expected_ids(root: Path, rows: dict[str, list[str]], steps: int = STEPS) -> list[str]:
    from capscope.store import Store
    from capscope.watch.pickup import DirectoryPickup
    from capscope.watch.runner import FileSink, run_cycle

    data = write_history(root, rows, HISTORY)
    alerts = root / "alerts.jsonl"
    for i in range(HISTORY - 1, HISTORY + steps):
        if i >= HISTORY:
            append_day(data, rows, i)
        with Store(root / "s.duckdb") as st:
            run_cycle(st, [FileSink(alerts)], DirectoryPickup(data))
    return [json.loads(x)["alert_id"] for x in alerts.read_text().splitlines()]


def _watch(data: Path, store: Path, alerts: Path, pause: str | None) -> tuple[bool, str]:
    """Run ``watch --once``; with ``pause``, kill it at that checkpoint. Returns (killed, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(Path(capscope.__file__).parents[1]), "PYTHONUNBUFFERED": "1"}
    env.pop("CAPSCOPE_WATCH_PAUSE", None)
    if pause:
        env["CAPSCOPE_WATCH_PAUSE"] = pause
    args = [sys.executable, "-m", "capscope.cli.app", "watch", "--once"]
    args += ["--data", str(data), "--store", str(store), "--alerts", str(alerts)]
    with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stderr is not None
        err = b""
        fd = proc.stderr.fileno()
        while True:
            ready, _, _ = select.select([fd], [], [], 300)
            assert ready, f"no progress from watch: {err.decode()}"
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            err += chunk
            if pause and f"capscope-watch-checkpoint {pause}".encode() in err:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return True, err.decode()
        code = proc.wait()
    assert code == 0, err.decode()
    return False, err.decode()


def test_sigkill_at_checkpoints_loses_and_repeats_nothing(tmp_path: Path) -> None:
    _, rows = make_days(HISTORY + STEPS)
    want = expected_ids(tmp_path / "reference", rows)
    assert len(want) >= 2 * STEPS and len(set(want)) == len(want)

    root = tmp_path / "killed"
    data = write_history(root, rows, HISTORY)
    store, alerts = root / "s.duckdb", root / "alerts.jsonl"
    killed, _ = _watch(data, store, alerts, None)  # the first look: history
    assert not killed
    kills: dict[str, int] = {}
    turn = 0
    for i in range(HISTORY, HISTORY + STEPS):
        append_day(data, rows, i)
        for _ in range(2):  # two kills in a row at different moments, then a clean restart
            point = POINTS[turn % len(POINTS)]
            turn += 1
            hit, _ = _watch(data, store, alerts, point)
            kills[point] = kills.get(point, 0) + hit
        _watch(data, store, alerts, None)
    assert sum(kills.values()) >= 10, kills
    assert all(kills[p] >= 1 for p in POINTS), kills
    got = [json.loads(x)["alert_id"] for x in alerts.read_text().splitlines()]
    assert got == want


def test_sigterm_stops_the_long_running_watch_cleanly(tmp_path: Path) -> None:
    """SIGTERM (a service manager's stop) in the middle of a cycle of the long-running watch rolls the cycle
    back and exits 130 with "watch: stopped"; a restart then delivers that day's alerts exactly once."""
    _, rows = make_days(HISTORY + 2)
    want = expected_ids(tmp_path / "reference", rows, steps=2)
    root = tmp_path / "termed"
    data = write_history(root, rows, HISTORY)
    store, alerts = root / "s.duckdb", root / "alerts.jsonl"
    assert not _watch(data, store, alerts, None)[0]  # the first look: history
    append_day(data, rows, HISTORY)
    env = {**os.environ, "PYTHONPATH": str(Path(capscope.__file__).parents[1]), "PYTHONUNBUFFERED": "1"}
    env["CAPSCOPE_WATCH_PAUSE"] = "state"  # states, alerts and outbox written, not committed
    args = [sys.executable, "-m", "capscope.cli.app", "watch", "--interval", "30"]
    args += ["--data", str(data), "--store", str(store), "--alerts", str(alerts)]
    with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stderr is not None
        err = b""
        while b"capscope-watch-checkpoint state" not in err:
            ready, _, _ = select.select([proc.stderr.fileno()], [], [], 300)
            assert ready, err.decode()
            chunk = os.read(proc.stderr.fileno(), 4096)
            assert chunk, err.decode()
            err += chunk
        os.kill(proc.pid, signal.SIGTERM)
        rest = proc.stderr.read()
        code = proc.wait()
    assert code == 130 and b"watch: stopped" in rest, (code, (err + rest).decode())
    assert not alerts.exists() or alerts.read_text() == ""  # rolled back: nothing delivered
    append_day(data, rows, HISTORY + 1)
    assert not _watch(data, store, alerts, None)[0]
    got = [json.loads(x)["alert_id"] for x in alerts.read_text().splitlines()]
    assert got == want and len(got) >= 2
