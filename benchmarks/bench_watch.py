"""Watch: one new day for 3,000 symbols (ingest, state update, events, alerts) after start-up.

Usage::

    .venv/bin/python benchmarks/bench_watch.py                       # 3,000 symbols x 1,300 bars, 3 new days
    .venv/bin/python benchmarks/bench_watch.py --symbols 3000 --bars 1300 --days 5 --json out.json

Set-up (not timed as "a new day"): random-walk bars (seeded) for ``--symbols`` symbols over ``--bars`` weekdays
written as ONE Parquet file with a ``symbol`` column, ingested into a new store, then the first watch cycle, which
takes every stored bar as history (states built from the whole history; timed and printed as "start-up").

Each new day is one more Parquet file of ``--symbols`` rows dropped into the data directory, then one watch cycle
as the long-running ``capscope watch`` runs it: the changed file ingested (one store transaction), the saved states
read and advanced by that bar, the events of the bar (crosses from the states; levels and breakouts on the
1,260-bar trailing window cut from the history kept in memory; chart-pattern status changes from each group's
pattern pass, which the long-running watch runs over the whole history at start-up and then carries on by the new
row), the states, alerts and outbox written in one transaction, and the alerts appended to an alerts file (fsync)
and marked delivered. Timed per phase; wall and CPU (all threads). Between days the store is checkpointed as the
long-running watch does while it waits (timed apart: DuckDB would otherwise do it inside a commit every ~16 MB of
log, about every other day here). ``--no-patterns`` runs the cycle without
patterns (as before pattern alerts existed); ``--threads 1`` runs the pattern work in the cycle's own thread
(default: numba's thread count, on a background thread while the cycle computes the signals). After each day a
whole new pattern pass over every group's history (what ``watch --once`` does each cycle) and the records of the
day's changes are timed again outside the cycle, for comparison.

Compared with what the watch saves: one batch ``scan_panel`` of the same 1,260-bar window for every symbol, in
memory (indicators and every event kind recomputed), which is what re-running ``capscope scan`` each day costs
before any I/O.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def make_bars(n_symbols: int, n_bars: int, seed: int = 11) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Weekday dates and time-major random-walk ``high, low, close`` (lognormal, 2 % daily volatility)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2019-01-01")
    days = np.arange(start, start + 2 * n_bars)
    days = days[np.is_busday(days)][:n_bars]
    close = 30.0 * np.exp(np.cumsum(rng.normal(0.0002, 0.02, (n_bars, n_symbols)), axis=0))
    wig = np.abs(rng.normal(0, 0.01, (n_bars, n_symbols))) * close
    return days, {"high": close + wig, "low": close - wig, "close": close}


def write_parquet(path: Path, symbols: list[str], days: np.ndarray, fields: dict[str, np.ndarray]) -> None:
    """One Parquet file with a ``symbol`` column (symbol-major rows)."""
    import polars as pl

    n, m = fields["close"].shape
    frame = pl.DataFrame(
        {
            "symbol": np.repeat(np.array(symbols), n),
            "date": np.tile(days.astype("datetime64[D]"), m),
            "open": fields["close"].T.ravel(),
            "high": fields["high"].T.ravel(),
            "low": fields["low"].T.ravel(),
            "close": fields["close"].T.ravel(),
            "volume": np.full(n * m, 1000.0),
        }
    )
    frame.write_parquet(path)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--symbols", type=int, default=3000)
    parser.add_argument("--bars", type=int, default=1300)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-patterns", dest="patterns", action="store_false", help="cycle without patterns")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads of the pattern pass (default: numba's thread count)",
    )
    args = parser.parse_args(argv)

    from capscope.events.scan import scan_panel
    from capscope.store import Store
    from capscope.watch import runner as _runner
    from capscope.watch.engine import LEVEL_WINDOW
    from capscope.watch.patterns import GroupPatterns, tail
    from capscope.watch.pickup import DirectoryPickup
    from capscope.watch.runner import FileSink, MemoryWindow, StateCache, deliver, register_sinks

    process = _runner.process

    days, fields = make_bars(args.symbols, args.bars + args.days)
    symbols = [f"S{j:04d}" for j in range(args.symbols)]
    out: dict[str, Any] = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "symbols": args.symbols,
        "history_bars": args.bars,
        "patterns": args.patterns,
        "threads": args.threads,
        "days": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = root / "data"
        data.mkdir()
        hist = {k: v[: args.bars] for k, v in fields.items()}
        write_parquet(data / "history.parquet", symbols, days[: args.bars], hist)
        t0 = time.perf_counter()
        store = Store(root / "watch.duckdb")
        pickup = DirectoryPickup(data)
        sink = FileSink(root / "alerts.jsonl")
        history = MemoryWindow(store, None)
        window = None if args.patterns else MemoryWindow(store)
        states = StateCache()
        register_sinks(store, [sink])
        pickup.ingest(store)
        t1 = time.perf_counter()
        first = process(
            store, window=window, states=states, history=history, patterns=args.patterns, threads=args.threads
        )
        if (
            args.patterns
        ):  # as run_cycle does after the first look's delivery: each group's first pattern pass
            states.warm(history, args.threads)
        store.checkpoint()  # the long-running watch checkpoints after every cycle, the first look included
        t2 = time.perf_counter()
        out["startup"] = {
            "ingest_history_s": t1 - t0,
            "first_look_s": t2 - t1,
            "history": len(first.history_symbols),
        }
        print(
            f"start-up: ingest of {args.symbols:,} x {args.bars:,} bars {t1 - t0:.2f} s, first look (states from "
            f"history) {t2 - t1:.2f} s",
            flush=True,
        )
        for i in range(args.days):
            row = args.bars + i
            day = {k: v[row : row + 1] for k, v in fields.items()}
            write_parquet(data / f"day-{days[row]}.parquet", symbols, days[row : row + 1], day)
            c0, w0 = time.process_time(), time.perf_counter()
            pickup.ingest(store)
            w1 = time.perf_counter()
            report = process(
                store,
                window=window,
                states=states,
                history=history,
                patterns=args.patterns,
                threads=args.threads,
            )
            w2 = time.perf_counter()
            delivered = deliver(store, sink)
            w3 = time.perf_counter()
            cpu = time.process_time() - c0
            store.checkpoint()  # as the long-running watch does between cycles (not part of the day)
            idle_checkpoint = time.perf_counter() - w3
            assert report.new_bars == args.symbols and delivered == len(report.alerts)
            n_patterns = sum(1 for a in report.alerts if '"status"' in a.payload)
            rec = {
                "day": str(days[row]),
                "ingest_s": w1 - w0,
                "process_s": w2 - w1,
                "deliver_s": w3 - w2,
                "total_s": w3 - w0,
                "cpu_s": cpu,
                "checkpoint_after_s": idle_checkpoint,
                "alerts": len(report.alerts),
                "pattern_alerts": n_patterns,
            }
            if args.patterns:  # the pattern part alone, again, outside the cycle
                c1, p0 = time.process_time(), time.perf_counter()
                found = 0
                for j0 in range(0, args.symbols, 512):
                    key = tuple(symbols[j0 : j0 + 512])
                    group = GroupPatterns.detect(history.cached(key), threads=args.threads)
                    found += len(group.alerts(days[row], range(len(key))))
                rec["patterns_alone_s"] = time.perf_counter() - p0
                rec["patterns_alone_cpu_s"] = time.process_time() - c1
                assert found == n_patterns
            out["days"].append(rec)
            alone = (
                f"; a whole new pattern pass {rec['patterns_alone_s'] * 1000:.0f} ms "
                f"(CPU {rec['patterns_alone_cpu_s'] * 1000:.0f} ms)"
                if args.patterns
                else ""
            )
            print(
                f"{rec['day']}: total {rec['total_s'] * 1000:.0f} ms (CPU {cpu * 1000:.0f} ms) = ingest "
                f"{rec['ingest_s'] * 1000:.0f} + states/events/outbox {rec['process_s'] * 1000:.0f} + delivery "
                f"{rec['deliver_s'] * 1000:.0f} ms; {rec['alerts']} alerts ({n_patterns} patterns){alone}; "
                f"then, between cycles, DuckDB checkpoint {idle_checkpoint * 1000:.0f} ms",
                flush=True,
            )
        panel = (window or history).cached(tuple(symbols[:512]))
        if panel is not None and panel.n_bars > LEVEL_WINDOW:
            panel = tail(panel, panel.dates[-1], LEVEL_WINDOW)
        if panel is not None:
            c0, w0 = time.process_time(), time.perf_counter()
            scan_panel(panel)
            w1 = time.perf_counter()
            per_group = w1 - w0
            groups = -(-args.symbols // 512)
            out["batch_scan_window_s"] = per_group * groups
            print(
                f"for comparison: batch scan_panel of the {panel.n_bars}-bar window, {groups} groups of 512 "
                f"symbols: ~{per_group * groups:.2f} s (one group {per_group * 1000:.0f} ms)",
                flush=True,
            )
        store.close()
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
