"""Kill test: an ingest killed with SIGKILL at chosen moments leaves the old or the new store, never a mix.

A child process opens a store holding an "old" ingest and ingests a batch of new files (synthetic, generated
here, so the test needs no sample data). The kill moments are chosen from what the child observably does, not
from timings: it prints ``read K N`` after reading file K of N (the progress callback of ``Store.ingest``) and
``committed W`` when the ingest has returned (W = size of the store's write-ahead log then); the parent kills it
(a) right after a random ``read K`` line (reading phase: nothing written yet), (b) after the last file was read,
as soon as the WAL file has grown past its first byte or a log-uniform fraction of W (the write/commit phase,
polled), and (c) right
after ``committed`` (the store is closing and checkpointing). The store must then open and hold exactly the old
content ((a) always), or exactly the new content ((c) always: a returned ingest is durable).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from capscope.store import Store

from .test_store import make_rows, write_csv

CHILD = """
import os
import sys
import polars
import capscope.data.readers
from capscope.store import Store
store = Store(sys.argv[1])
print("ready", flush=True)
store.ingest(sys.argv[2], progress=lambda done, total, path: print(f"read {done} {total}", flush=True))
wal = sys.argv[1] + ".wal"
print(f"committed {os.path.getsize(wal) if os.path.exists(wal) else 0}", flush=True)
store.close()
print("done", flush=True)
"""

N_KILLS = 10


def _content(path: Path) -> tuple[dict[str, tuple[int, int]], int]:
    with Store(path) as st:
        return st.digest(), st.counts()["ingests"]


def _start_child(store: Path, batch: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
    return proc


def _reference_run(store: Path, batch: Path) -> tuple[int, int]:
    """Uninterrupted run: number of files read and the WAL size when the ingest returned."""
    proc = _start_child(store, batch)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    lines = out.split()
    reads = [line for line in out.splitlines() if line.startswith("read ")]
    committed = [line for line in out.splitlines() if line.startswith("committed ")]
    assert reads and committed and lines[-1] == "done", out
    return int(reads[-1].split()[2]), int(committed[0].split()[1])


def _wait_for(proc: subprocess.Popen[str], prefix: str) -> str | None:
    """Read the child's lines until one starts with ``prefix``; ``None`` when the child ended first."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return line.strip()
    return None


def _killed_run(store: Path, batch: Path, moment: tuple[str, float]) -> tuple[bool, str]:
    """Run and SIGKILL at ``moment``: ``("read", k)`` after file k was read, ``("wal", f)`` once the WAL holds
    ``f`` x the reference size, ``("committed", 0)`` after the ingest returned. Returns (killed, what it saw)."""
    proc = _start_child(store, batch)
    kind, value = moment
    seen = ""
    if kind == "read":
        seen = _wait_for(proc, f"read {int(value)} ") or "ended"
    elif kind == "committed":
        seen = _wait_for(proc, "committed") or "ended"
    else:
        total = _wait_for(proc, "read ")
        while total is not None and total.split()[1] != total.split()[2]:
            total = _wait_for(proc, "read ")
        wal = Path(str(store) + ".wal")
        seen = "ended"
        while proc.poll() is None:
            if wal.exists() and wal.stat().st_size >= value:
                seen = f"wal {wal.stat().st_size}"
                break
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=60)
    return killed, seen + ("" if "committed" not in rest else " (then committed)")


@pytest.mark.slow
def test_sigkill_during_ingest_leaves_old_or_new(tmp_path: Path) -> None:
    old_files = tmp_path / "old"
    for k in range(10):
        write_csv(old_files / f"OLD{k:03d}.csv", make_rows(300, seed=k))
    batch = tmp_path / "batch"
    for k in range(10):  # new rows for stored symbols (append path: conflict check + anti-join)
        write_csv(batch / f"OLD{k:03d}.csv", make_rows(400, seed=k))
    for k in range(30):  # new symbols
        write_csv(batch / f"NEW{k:03d}.csv", make_rows(400, start=date(2020, 1, 2), seed=1000 + k))

    base = tmp_path / "base.duckdb"
    with Store(base) as st:
        st.ingest(old_files)
    old = _content(base)

    reference = tmp_path / "reference.duckdb"
    shutil.copy(base, reference)
    n_files, wal_size = _reference_run(reference, batch)
    print(f"uninterrupted: {n_files} files read, WAL {wal_size:,} bytes when the ingest returned")
    new = _content(reference)
    assert new[0]["bars"] != old[0]["bars"]
    assert wal_size > 0

    def data_only(c: tuple[dict[str, tuple[int, int]], int]) -> tuple[object, ...]:
        digest, n_ingests = c
        # the ingest log holds wall-clock times, so compare its row counts, and bars/symbols by content
        return (digest["bars"], digest["symbols"], digest["ingest_files"][0], n_ingests)

    rng = np.random.default_rng(20261126)
    moments: list[tuple[str, float]] = [("read", float(k)) for k in rng.integers(1, n_files + 1, N_KILLS)]
    # WAL thresholds from its first byte to its full size, log-uniform (the first writes matter most: a commit
    # made too early, e.g. of new symbols before their bars, shows up only there)
    moments += [("wal", 1.0)] * 3
    moments += [("wal", float(wal_size * 10**e)) for e in rng.uniform(-4.0, 0.0, N_KILLS - 3)]
    moments += [("committed", 0.0)] * 3
    outcomes: dict[str, dict[str, int]] = {}
    for i, moment in enumerate(moments):
        target = tmp_path / f"kill{i}.duckdb"
        shutil.copy(base, target)
        killed, seen = _killed_run(target, batch, moment)
        got = _content(target)  # must open (DuckDB replays only committed WAL entries)
        state = "old" if data_only(got) == data_only(old) else "new"
        assert data_only(got) == data_only(old if state == "old" else new), (
            f"kill at {moment} ({seen}): mixed store"
        )
        if moment[0] == "read":
            assert killed and state == "old", (moment, seen, state)
        if moment[0] == "committed":
            assert state == "new", (moment, seen)
        outcomes.setdefault(moment[0], {"old": 0, "new": 0})[state] += 1
        # a killed store is still usable: finishing the ingest gives the new content
        if i in (0, N_KILLS):
            with Store(target) as st:
                st.ingest(batch)
            assert data_only(_content(target)) == data_only(new)
    print(f"{len(moments)} kills; store afterwards by moment: {outcomes}")
    assert outcomes["read"]["old"] == N_KILLS
