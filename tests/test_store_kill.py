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
store.close()
print("done", flush=True)
"""

N_KILLS = 10


def _content(path: Path) -> tuple[dict[str, tuple[int, int]], int]:
    with Store(path) as st:
        return st.digest(), st.counts()["ingests"]


def _run_child(store: Path, batch: Path, kill_after: float | None) -> tuple[bool, float]:
    """Run the ingest child; kill it ``kill_after`` seconds after it is ready. Returns (finished, seconds)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
    start = time.perf_counter()
    if kill_after is None:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        return True, time.perf_counter() - start
    try:
        proc.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=60)
    finished = "done" in out and proc.returncode == 0
    return finished, time.perf_counter() - start


@pytest.mark.slow
def test_sigkill_during_ingest_leaves_old_or_new(tmp_path: Path) -> None:
    old_files = tmp_path / "old"
    for k in range(10):
        write_csv(old_files / f"OLD{k:03d}.csv", make_rows(300, seed=k))
    batch = tmp_path / "batch"
    for k in range(10):  # new rows for stored symbols (append path: conflict check + anti-join)
        write_csv(batch / f"OLD{k:03d}.csv", make_rows(400, seed=k))
    for k in range(40):  # new symbols
        write_csv(batch / f"NEW{k:03d}.csv", make_rows(600, start=date(2020, 1, 2), seed=1000 + k))

    base = tmp_path / "base.duckdb"
    with Store(base) as st:
        st.ingest(old_files)
    old = _content(base)

    reference = tmp_path / "reference.duckdb"
    shutil.copy(base, reference)
    finished, duration = _run_child(reference, batch, None)
    assert finished
    print(f"uninterrupted ingest: {duration:.2f} s")
    new = _content(reference)
    assert new[0]["bars"] != old[0]["bars"]

    def data_only(c: tuple[dict[str, tuple[int, int]], int]) -> tuple[object, ...]:
        digest, n_ingests = c
        # the ingest log holds wall-clock times, so compare its row counts, and bars/symbols by content
        return (digest["bars"], digest["symbols"], digest["ingest_files"][0], n_ingests)

    rng = np.random.default_rng(20261126)
    outcomes = {"old": 0, "new": 0}
    killed_mid_ingest = 0
    attempts = 0
    # keep killing until N_KILLS kills landed before the child finished (timing varies on a loaded machine)
    while killed_mid_ingest < N_KILLS and attempts < 3 * N_KILLS:
        target = tmp_path / f"kill{attempts}.duckdb"
        shutil.copy(base, target)
        # half the kills anywhere in the run, half in its last part (where the transaction writes and commits)
        frac = rng.uniform(0.0, 1.0) if attempts % 2 == 0 else rng.uniform(0.5, 1.0)
        finished, seconds = _run_child(target, batch, frac * duration)
        attempts += 1
        if finished:
            duration = 0.8 * duration + 0.2 * seconds  # the run was faster than estimated: adapt
        killed_mid_ingest += not finished
        got = _content(target)  # must open (DuckDB replays only committed WAL entries)
        if data_only(got) == data_only(old):
            outcomes["old"] += 1
            assert not finished
        else:
            assert data_only(got) == data_only(new), f"kill at {frac:.2f} of the run left a mixed store"
            outcomes["new"] += 1
        # a killed store is still usable: finishing the ingest gives the new content
        if attempts in (1, 2):
            with Store(target) as st:
                st.ingest(batch)
            assert data_only(_content(target)) == data_only(new)
    assert killed_mid_ingest >= N_KILLS, (attempts, outcomes)
    assert outcomes["old"] >= 1, outcomes
