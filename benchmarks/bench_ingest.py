"""Store: ingest of the whole sample data and panel loading, side by side with DuckDB's own bulk read.

Usage::

    .venv/bin/python benchmarks/bench_ingest.py              # sample data dir resolved as by the CLI
    .venv/bin/python benchmarks/bench_ingest.py --repeat 5 --data ../shared/data --json out.json

Parts (each timed as the best of ``--repeat`` runs; the runs of the compared tools alternate, so they see the
same machine load):

``ingest``
    ``Store(fresh file).ingest(data_dir)``: every file hashed (sha256), read and validated, conflicts checked,
    inserted in one transaction and committed to a new DuckDB file, store closed. Compared with ONE DuckDB
    statement, ``CREATE TABLE bars AS SELECT * FROM read_csv([...all files...], columns={...}, filename=true)``
    into a new DuckDB file (no validation, no hashing, no log), which is the floor for "loading these files into
    DuckDB". Also shown: the careful path alone (``fast=False``: every file through ``read_bars``).
``panel``
    ``store.panel(<the ~700 stocks>)``: all six fields, ~700 symbols x 501 bars, from an open store. Compared
    with the raw DuckDB fetch of the same rows as Arrow (the floor: the query alone, no scatter) and with
    ``Panel.from_bars(store.bars(...))`` (the generic long-to-wide path), checked equal.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

COLUMNS = {
    "date": "DATE",
    "open": "DOUBLE",
    "high": "DOUBLE",
    "low": "DOUBLE",
    "close": "DOUBLE",
    "adj_close": "DOUBLE",
    "volume": "DOUBLE",
}


def best_of(
    fns: dict[str, Callable[[], Any]], repeat: int, cpu: dict[str, float] | None = None
) -> dict[str, float]:
    """Run each function ``repeat`` times, interleaved; return the best wall time of each.

    When ``cpu`` is given it receives the best CPU time (all threads of this process) of each: less sensitive
    than wall time to other processes loading the machine.
    """
    best = {name: float("inf") for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
            if cpu is not None:
                cpu[name] = min(cpu.get(name, float("inf")), time.process_time() - c0)
    return best


def bench_ingest(data_dir: Path, workdir: Path, repeat: int) -> dict[str, Any]:
    import duckdb

    from capscope.data.readers import iter_bar_files
    from capscope.store import Store
    from capscope.store.ingest import ingest_files

    files = [str(p) for p in iter_bar_files(data_dir)]
    counter = iter(range(10**6))

    def fresh(name: str) -> Path:
        path = workdir / f"{name}{next(counter)}.duckdb"
        return path

    def capscope_fast() -> None:
        with Store(fresh("fast")) as st:
            st.ingest(data_dir)

    def capscope_careful() -> None:
        with Store(fresh("careful")) as st:
            ingest_files(st.con, [data_dir], fast=False)

    def duckdb_read_csv() -> None:
        con = duckdb.connect(str(fresh("duck")))
        con.execute(
            "CREATE TABLE bars AS SELECT * FROM read_csv(?, header = true, columns = ?, filename = true)",
            [files, COLUMNS],
        ).fetchall()
        con.close()

    capscope_fast()  # warm-up: imports, page cache
    duckdb_read_csv()
    cpu: dict[str, float] = {}
    times = best_of(
        {
            "capscope ingest": capscope_fast,
            "duckdb read_csv": duckdb_read_csv,
            "capscope careful": capscope_careful,
        },
        repeat,
        cpu,
    )
    with Store(fresh("check"), read_only=False) as st:
        st.ingest(data_dir)
        rows = st.counts()["bars"]
    con = duckdb.connect()
    duck_rows = con.execute(
        "SELECT count(*) FROM read_csv(?, header = true, columns = ?)", [files, COLUMNS]
    ).fetchall()[0][0]
    con.close()
    assert rows == duck_rows, (rows, duck_rows)
    return {"files": len(files), "rows": rows, "seconds": times, "cpu_seconds": cpu}


def bench_panel(data_dir: Path, workdir: Path, repeat: int) -> dict[str, Any]:
    from capscope.data.panel import Panel, panel_equal
    from capscope.data.readers import iter_bar_files, symbol_from_path
    from capscope.store import Store
    from capscope.store.query import symbol_ids

    path = workdir / "panel.duckdb"
    with Store(path) as st:
        st.ingest(data_dir / "stocks")
    symbols = [symbol_from_path(p) for p in iter_bar_files(data_dir / "stocks")]
    with Store(path, read_only=True) as st:
        ids = [i for i, _ in symbol_ids(st.con, symbols)]
        fetch_sql = (
            "SELECT symbol_id, date, open, high, low, close, adj_close, volume FROM bars "
            "WHERE symbol_id IN (SELECT unnest(?::INTEGER[]))"
        )
        fns: dict[str, Callable[[], Any]] = {
            "store.panel": lambda: st.panel(symbols),
            "duckdb fetch only": lambda: st.con.sql(fetch_sql, params=[ids]).to_arrow_table(),
            "Panel.from_bars(store.bars)": lambda: Panel.from_bars(st.bars(symbols)),
        }
        for fn in fns.values():
            fn()  # warm-up
        cpu: dict[str, float] = {}
        times = best_of(fns, max(repeat, 5), cpu)
        panel = st.panel(symbols)
        assert panel_equal(panel, Panel.from_bars(st.bars(symbols)))
    return {"symbols": panel.n_symbols, "bars": panel.n_bars, "seconds": times, "cpu_seconds": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="sample data directory")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    parser.add_argument("--only", choices=("ingest", "panel"), default=None, help="run one part")
    args = parser.parse_args()

    from capscope.data.sources import resolve_data_dir

    data_dir = resolve_data_dir(args.data, allow_download=False).path
    workdir = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    try:
        ingest = bench_ingest(data_dir, workdir, args.repeat) if args.only != "panel" else None
        panel = bench_panel(data_dir, workdir, args.repeat) if args.only != "ingest" else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {sys.version.split()[0]}")
    if ingest is not None:
        t, cpu = ingest["seconds"], ingest["cpu_seconds"]
        print(f"ingest: {ingest['files']} files, {ingest['rows']:,} rows (best of {args.repeat})")
        for name, sec in t.items():
            print(
                f"  {name:28s} wall {sec:7.3f} s {sec / t['duckdb read_csv']:5.2f}x   "
                f"cpu {cpu[name]:7.3f} s {cpu[name] / cpu['duckdb read_csv']:5.2f}x   (vs duckdb read_csv)"
            )
    if panel is not None:
        p, cpu = panel["seconds"], panel["cpu_seconds"]
        print(f"panel: {panel['symbols']} symbols x {panel['bars']} bars, 6 fields")
        for name, sec in p.items():
            print(
                f"  {name:28s} wall {sec * 1000:7.1f} ms {sec / p['duckdb fetch only']:5.2f}x   "
                f"cpu {cpu[name] * 1000:7.1f} ms {cpu[name] / cpu['duckdb fetch only']:5.2f}x   (vs fetch only)"
            )
    if args.json:
        args.json.write_text(json.dumps({"ingest": ingest, "panel": panel}, indent=1))


if __name__ == "__main__":
    main()
