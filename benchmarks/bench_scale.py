"""Peak memory and throughput of the market-wide commands as the universe grows (issue 17).

For each size N it generates N symbols x ``--bars`` bars of random-walk OHLCV as a partitioned Parquet input
(``bucket=NNNN/part-0.parquet``, a ``symbol`` column inside; written one bucket at a time), then runs each stage
as its own ``capscope`` process and reads that process's peak RSS from ``os.wait4`` (the child's own rusage):

* ``ingest`` of the Parquet files into a new store, and DuckDB's own read of the same files
  (``CREATE TABLE AS SELECT * FROM read_parquet(...)`` into a new DuckDB file, the floor of any ingest);
* ``export parquet`` of the store (the dataset the other stages read with ``--data``);
* ``scan --universe all`` (all event kinds) from the store, from the dataset, and from the dataset with
  ``--engine dask`` (LocalCluster of 2 worker processes: their peak is reported separately by Dask, the RSS here is
  the client's);
* ``breadth --universe all`` from the dataset;
* ``patterns`` of every symbol (or the first ``--pattern-symbols``), named on the command line, from the dataset;
* ``study --universe all`` of ``--study-signals`` (placebo inference, 1,000 draws, horizons 5/21/63) from the
  dataset: its blocks are folded as they arrive, so the client's peak should not grow with the universe.

Throughput is symbol-bars per second of wall time. Generated data are deleted at the end.

Usage::

    python benchmarks/bench_scale.py --sizes 2000 20000 [--bars 5000] [--work /tmp/bench-scale]
        [--only ingest DuckDB] [--keep]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PY = sys.executable


def generate(
    root: Path, n_symbols: int, n_bars: int, symbols_per_file: int = 256, seed: int = 1
) -> list[int]:
    """Write the Parquet input; returns the number of rows of each symbol."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2006-01-02", periods=n_bars).values.astype("datetime64[D]")
    rows: list[int] = []
    for b in range(math.ceil(n_symbols / symbols_per_file)):
        syms = range(b * symbols_per_file, min(n_symbols, (b + 1) * symbols_per_file))
        parts = []
        for k in syms:
            start = int(rng.integers(0, n_bars // 4)) if k % 4 == 0 else 0
            n = n_bars - start
            close = 20 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
            opn = close * np.exp(rng.normal(0, 0.004, n))
            high = np.maximum(opn, close) * (1 + rng.random(n) * 0.01)
            low = np.minimum(opn, close) * (1 - rng.random(n) * 0.01)
            parts.append(
                pa.table(
                    {
                        "symbol": pa.array([f"Z{k:05d}"] * n),
                        "date": pa.array(dates[start:], type=pa.date32()),
                        "open": opn,
                        "high": high,
                        "low": low,
                        "close": close,
                        "adj_close": close,
                        "volume": rng.integers(1_000, 1_000_000, n).astype(np.float64),
                    }
                )
            )
            rows.append(n)
        folder = root / f"bucket={b:04d}"
        folder.mkdir(parents=True)
        pq.write_table(pa.concat_tables(parts), folder / "part-0.parquet", compression="zstd")
    return rows


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Run ``cmd``; returns (wall seconds, peak RSS in MB of that process, exit code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(f"  ! {' '.join(cmd[:6])} ... exit {code}: {err.strip()[-400:]}", file=sys.stderr)
    return wall, usage.ru_maxrss / 1024, code


def run_size(
    work: Path,
    n_symbols: int,
    n_bars: int,
    pattern_symbols: int,
    dask: bool,
    only: set[str] | None = None,
    keep: bool = False,
    study_signals: tuple[str, ...] = (),
) -> list[tuple[str, ...]]:
    """All stages at one size (or those whose name starts with a word in ``only``); returns table rows.

    With ``keep`` the generated input (and store, dataset) stay in ``work`` and are reused by the next run with
    the same size and bar count.
    """
    env = dict(os.environ)
    root = work / f"n{n_symbols}x{n_bars}"
    marker = root / "input" / "rows.npy"
    t0 = time.perf_counter()
    if keep and marker.exists():
        per_symbol = np.load(marker).tolist()
    else:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        per_symbol = generate(root / "input", n_symbols, n_bars)
        np.save(marker, np.asarray(per_symbol))
    rows = sum(per_symbol)
    gen = time.perf_counter() - t0
    store, ds = root / "bars.duckdb", root / "dataset"
    cap = [PY, "-m", "capscope.cli.app"]
    stages: list[tuple[str, list[str], int]] = [
        ("ingest (Parquet -> store)", [*cap, "ingest", str(root / "input"), "--store", str(store)], rows),
        (
            "DuckDB read_parquet -> table",
            [
                PY,
                "-c",
                "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                "c.execute(f\"CREATE TABLE t AS SELECT * FROM read_parquet('{sys.argv[2]}/*/*.parquet')\")",
                str(root / "duck.duckdb"),
                str(root / "input"),
            ],
            rows,
        ),
        ("export parquet", [*cap, "export", "parquet", "--out", str(ds), "--store", str(store)], rows),
        ("scan --universe all (store)", [*cap, "scan", "--universe", "all", "--store", str(store)], rows),
        ("scan --universe all (dataset)", [*cap, "scan", "--universe", "all", "--data", str(ds)], rows),
        ("breadth --universe all (dataset)", [*cap, "breadth", "--universe", "all", "--data", str(ds)], rows),
    ]
    if dask:
        stages.append(
            (
                "scan --universe all --engine dask (2 workers)",
                [*cap, "scan", "--universe", "all", "--data", str(ds), "--engine", "dask"],
                rows,
            )
        )
    if study_signals:
        stages.append(
            (
                f"study {' '.join(study_signals)} --universe all (dataset)",
                [*cap, "study", *study_signals, "--universe", "all", "--data", str(ds), "--format", "json"],
                rows,
            )
        )
    n_pat = n_symbols if pattern_symbols <= 0 else min(pattern_symbols, n_symbols)
    psyms = [f"Z{k:05d}" for k in range(n_pat)]
    prow = sum(per_symbol[: len(psyms)])
    stages.append(
        (f"patterns ({len(psyms)} symbols, dataset)", [*cap, "patterns", *psyms, "--data", str(ds)], prow)
    )
    out = [(f"generate {n_symbols} x {n_bars}", f"{gen:.1f}", "", f"{rows:,}", "")]
    for name, cmd, n in stages:
        if only and not any(name.startswith(w) for w in only):
            continue
        if name.startswith("ingest") or name.startswith("DuckDB"):  # each writes a new database file
            stale = store if name.startswith("ingest") else root / "duck.duckdb"
            for path in (stale, stale.with_name(stale.name + ".wal")):
                path.unlink(missing_ok=True)
        if name.startswith("export"):
            shutil.rmtree(ds, ignore_errors=True)
        wall, peak, code = measure(cmd, env)
        rate = f"{n / wall / 1e6:.2f} M" if code == 0 else "failed"
        out.append((name, f"{wall:.1f}", f"{peak:,.0f}", f"{n:,}", rate))
        print(f"  N={n_symbols}: {name}: {wall:.1f} s, {peak:,.0f} MB", file=sys.stderr, flush=True)
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return out


def main() -> None:
    """Run every size and print one Markdown table per size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--bars", type=int, default=5000)
    parser.add_argument(
        "--pattern-symbols", type=int, default=0, help="symbols for the patterns stage (0: all of them)"
    )
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--work", type=Path, default=Path("/tmp/capscope-bench-scale"))
    parser.add_argument(
        "--only", nargs="+", help="run only the stages whose name starts with one of these words, e.g. ingest"
    )
    parser.add_argument(
        "--study-signals",
        nargs="*",
        default=["golden_cross", "macd_bullish_cross", "rsi_oversold"],
        help="signals of the study stage (none: no study stage)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep (and reuse) the generated input and outputs"
    )
    args = parser.parse_args()
    for n in args.sizes:
        rows = run_size(
            args.work,
            n,
            args.bars,
            args.pattern_symbols,
            not args.no_dask,
            set(args.only) if args.only else None,
            args.keep,
            tuple(args.study_signals),
        )
        print(f"\n### {n} symbols x {args.bars} bars\n")
        print("| stage | wall (s) | peak RSS (MB) | symbol-bars | symbol-bars/s |")
        print("|---|---:|---:|---:|---:|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    if not args.keep:
        shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
