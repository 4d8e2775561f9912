"""Kill test: an ingest killed with SIGKILL at random moments leaves the old or the new store, never a mix.

A child process opens a store holding an "old" ingest and ingests a batch of new files (synthetic, generated
here, so the test needs no sample data); the parent kills it with SIGKILL after a random delay drawn over the
measured duration of an uninterrupted ingest (biased towards the write phase at the end). The store must then
open and hold exactly the old content or exactly the new content (bars, symbols and ingest log).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from capscope.store import Store

from .test_store import make_rows, write_csv

CHILD = """
import sys
import polars
import capscope.data.readers
from capscope.store import Store
store = Store(sys.argv[1])
print("ready", flush=True)
store.ingest(sys.argv[2])
print("committed", flush=True)
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


def _timed_run(store: Path, batch: Path) -> tuple[float, float]:
    """Uninterrupted run: seconds from ready to committed (ingest returned) and to done (store closed)."""
    proc = _start_child(store, batch)
    assert proc.stdout is not None
    t0 = time.perf_counter()
    assert proc.stdout.readline().strip() == "committed"
    committed = time.perf_counter() - t0
    assert proc.stdout.readline().strip() == "done"
    done = time.perf_counter() - t0
    _, err = proc.communicate(timeout=60)  # also closes the pipes
    assert proc.returncode == 0, err
    return committed, done


def _killed_run(store: Path, batch: Path, kill_after: float) -> tuple[bool, bool]:
    """Run and SIGKILL after ``kill_after`` s. Returns (killed before the ingest returned, finished at all)."""
    proc = _start_child(store, batch)
    try:
        proc.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=60)
    return "committed" not in out, "done" in out and proc.returncode == 0


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
    t_commit, t_done = _timed_run(reference, batch)
    print(f"uninterrupted: ingest returned after {t_commit:.2f} s, store closed after {t_done:.2f} s")
    new = _content(reference)
    assert new[0]["bars"] != old[0]["bars"]

    def data_only(c: tuple[dict[str, tuple[int, int]], int]) -> tuple[object, ...]:
        digest, n_ingests = c
        # the ingest log holds wall-clock times, so compare its row counts, and bars/symbols by content
        return (digest["bars"], digest["symbols"], digest["ingest_files"][0], n_ingests)

    rng = np.random.default_rng(20261126)
    outcomes = {"old": 0, "new": 0}
    before_commit = 0
    runs = 0
    # random kill moments: mostly while the ingest runs (read, validate, BEGIN..COMMIT), some around the commit
    # and during close (checkpoint); keep going until N_KILLS kills landed before the ingest returned
    while before_commit < N_KILLS and runs < 3 * N_KILLS:
        target = tmp_path / f"kill{runs}.duckdb"
        shutil.copy(base, target)
        at = rng.uniform(0.0, t_commit) if runs % 4 else rng.uniform(0.8 * t_commit, t_done)
        killed_early, finished = _killed_run(target, batch, at)
        runs += 1
        got = _content(target)  # must open (DuckDB replays only committed WAL entries)
        if data_only(got) == data_only(old):
            outcomes["old"] += 1
            assert not finished
        else:
            assert data_only(got) == data_only(new), f"kill after {at:.2f} s left a mixed store"
            outcomes["new"] += 1
        before_commit += killed_early
        # a killed store is still usable: finishing the ingest gives the new content
        if runs in (1, 2):
            with Store(target) as st:
                st.ingest(batch)
            assert data_only(_content(target)) == data_only(new)
    print(f"{runs} kills, {before_commit} before the ingest returned; store afterwards: {outcomes}")
    assert before_commit >= N_KILLS, (runs, outcomes)
    assert outcomes["old"] >= N_KILLS // 2, outcomes
