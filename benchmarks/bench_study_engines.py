"""``capscope study`` on the sample universe: local engine (store, Parquet dataset) vs ``--engine dask`` (issue 17).

The sample data are ingested into a temporary store and exported as a Parquet dataset; then each variant runs as
its own ``capscope study SIGNALS --universe all --format json`` process, the variants interleaved round by round
(so a change in machine load hits all of them alike). Reported per variant: wall time (median and min over the
rounds), CPU time of the process and its children (Dask's worker processes are children of the client), peak
RSS of the client (``os.wait4``; workers not included), and whether the JSON is identical to the local run's.

Usage::

    python benchmarks/bench_study_engines.py [--rounds 2] [--signals all] [--draws 1000] [--work /tmp/bench-study]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable


def _data_dir() -> Path:
    env = os.environ.get("CAPSCOPE_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def _capscope(args: list[str], out: Path | None = None) -> tuple[float, float, float]:
    """Run ``capscope ARGS`` (stdout to ``out``); returns wall s, CPU s (process + children), peak RSS MB."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    start = time.perf_counter()
    with out.open("wb") if out else open(os.devnull, "wb") as sink:
        proc = subprocess.Popen([PY, "-m", "capscope.cli.app", *args], stdout=sink, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"capscope {' '.join(args)} failed")
    # ru_utime/ru_stime of wait4 include the grandchildren the child waited for (Dask's worker processes)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--signals", nargs="+", default=["all"])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-study-engines"))
    args = parser.parse_args()
    data = _data_dir()
    if not (data / "prices").is_dir():
        raise SystemExit(f"no sample data under {data} (set CAPSCOPE_DATA)")
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    store, dataset = args.work / "sample.duckdb", args.work / "dataset"
    try:
        _capscope(["ingest", str(data), "--store", str(store)])
        _capscope(["export", "parquet", "--store", str(store), "--out", str(dataset)])
        base = ["study", *args.signals, "--universe", "all", "--draws", str(args.draws), "--format", "json"]
        variants = {
            "local, store": ["--store", str(store)],
            "local, dataset": ["--data", str(dataset)],
            "dask (LocalCluster, 2 worker processes), dataset": ["--data", str(dataset), "--engine", "dask"],
        }
        runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in variants}
        digests: dict[str, set[str]] = {name: set() for name in variants}
        for _ in range(args.rounds):
            for name, extra in variants.items():
                out = args.work / "out.json"
                runs[name].append(_capscope([*base, *extra], out))
                digests[name].add(hashlib.sha256(out.read_bytes()).hexdigest())
        reference = digests["local, store"]
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        print(f"{when}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, ", end="")
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
        print(f"`capscope {' '.join(base)}`, {args.rounds} rounds\n")
        print(
            "| variant | wall median (s) | wall min (s) | CPU (s) | client peak RSS (MB) | JSON = local store |"
        )
        print("|---|---:|---:|---:|---:|---|")
        for name, rows in runs.items():
            walls = [r[0] for r in rows]
            print(
                f"| {name} | {statistics.median(walls):.1f} | {min(walls):.1f} | "
                f"{statistics.median(r[1] for r in rows):.1f} | {max(r[2] for r in rows):,.0f} | "
                f"{'yes' if digests[name] == reference and len(reference) == 1 else 'NO'} |"
            )
    finally:
        shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
