"""Rotation and breadth: time over the sample data, side by side with plain pandas.

Usage::

    .venv/bin/python benchmarks/bench_analytics.py            # all parts
    .venv/bin/python benchmarks/bench_analytics.py --repeat 7 --json out.json

Parts (each timed as the best of ``--repeat`` runs after one warm-up run, so numba compilation is excluded;
the first-call time including compilation / cache load is reported too):

``breadth``
    :func:`capscope.analytics.breadth.breadth` over the whole sample small-cap universe (``stocks/``, ~700
    symbols x 501 days): every day of its history, all measures (% above 50/200-day SMA, advances/declines, A/D
    line, 52-week highs/lows, McClellan oscillator and summation index). Compared with
    :func:`~capscope.analytics.breadth.breadth_reference`, the same definitions written with pandas rolling
    windows (the tool users would pick), checked equal.
``breadth-large``
    The same on a synthetic random-walk universe of 3,000 symbols x 5,000 days (15 M cells), to show scaling.
``rrg``
    :func:`capscope.analytics.rotation.rrg` for 20 symbols (every file in ``prices/`` and ``prices/alt/`` but
    the benchmark GSPC) against GSPC, weekly, window 14, on the full history (GSPC from 1927): loading excluded,
    everything else (basis resolution, weekly sampling, RS-Ratio / RS-Momentum for every week) included.
    Compared with a plain pandas version of the same formula (per-symbol ``rolling().mean()/std()``), checked
    equal to 1e-9.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from capscope.analytics import breadth as br  # noqa: E402
from capscope.analytics import rotation as rot  # noqa: E402
from capscope.data.panel import Panel  # noqa: E402
from capscope.data.readers import read_many  # noqa: E402
from capscope.data.sources import resolve_data_dir  # noqa: E402


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(first-call seconds, best of ``repeat`` later calls, last result)."""
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return first, min(times), out


def check_breadth(fast: br.BreadthResult, ref: dict[str, np.ndarray]) -> None:
    for name in br.BREADTH_COLUMNS:
        np.testing.assert_allclose(fast[name], ref[name], rtol=1e-12, atol=1e-9, equal_nan=True, err_msg=name)


def bench_breadth(panel: Panel, repeat: int, label: str) -> dict[str, Any]:
    first, fast_t, fast = best_of(lambda: br.breadth(panel), repeat)
    _, ref_t, ref = best_of(lambda: br.breadth_reference(panel), max(1, repeat // 2))
    check_breadth(fast, ref)
    cells = panel.n_bars * panel.n_symbols
    return {
        "part": label,
        "shape": f"{panel.n_bars} days x {panel.n_symbols} symbols",
        "first_call_s": round(first, 4),
        "capscope_s": round(fast_t, 5),
        "pandas_s": round(ref_t, 4),
        "speedup": round(ref_t / fast_t, 1),
        "cells_per_s_M": round(cells / fast_t / 1e6, 1),
    }


def random_universe(n_bars: int, n_symbols: int, seed: int = 1) -> Panel:
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, size=(n_bars, n_symbols)), axis=0))
    for j in range(0, n_symbols, 10):  # late listings
        close[: rng.integers(0, n_bars // 2), j] = np.nan
    close = np.ascontiguousarray(close)
    dates = np.busday_offset(np.datetime64("2000-01-03"), np.arange(n_bars), roll="forward")
    syms = tuple(f"S{j}" for j in range(n_symbols))
    return Panel(dates, syms, {"close": close, "high": close, "low": close})


def rrg_pandas(
    panel: Panel, symbols: list[str], benchmark: str, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """The same RRG formula with pandas, one symbol at a time (what a user would write)."""

    closes = panel.frame("close")
    adj = panel.frame("adj_close")
    bench = closes[benchmark].dropna()
    week = (bench.index.to_numpy().astype("datetime64[D]").astype(np.int64) + 3) // 7
    last = np.append(np.nonzero(np.diff(week))[0], len(week) - 1)
    sample = bench.index[last]
    out_r, out_m = [], []
    for s in symbols:
        basis = rot.load_series(panel, s).basis
        px = (adj if basis.field == "adj_close" else closes)[s]
        rs = 100 * px.reindex(sample) / bench.reindex(sample)
        ratio = 100 + (rs - rs.rolling(window).mean()) / rs.rolling(window).std()
        roc = 100 * (ratio / ratio.shift(1) - 1)
        mom = 100 + (roc - roc.rolling(window).mean()) / roc.rolling(window).std()
        out_r.append(ratio.to_numpy())
        out_m.append(mom.to_numpy())
    return np.column_stack(out_r), np.column_stack(out_m)


def bench_rrg(panel: Panel, repeat: int) -> dict[str, Any]:
    symbols = [s for s in panel.symbols if s != "GSPC"][:20]
    first, fast_t, res = best_of(lambda: rot.rrg(panel, symbols, "GSPC", window=14), repeat)
    _, ref_t, (ratio, mom) = best_of(lambda: rrg_pandas(panel, symbols, "GSPC", 14), max(1, repeat // 2))
    # pandas' online rolling std differs from the two-pass kernel by ~1e-10 on long series
    np.testing.assert_allclose(res.rs_ratio, ratio, rtol=1e-9, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(res.rs_momentum, mom, rtol=1e-6, atol=1e-6, equal_nan=True)
    return {
        "part": "rrg",
        "shape": f"{len(symbols)} symbols x {len(res.dates)} weeks (benchmark GSPC, {panel.n_bars} days)",
        "first_call_s": round(first, 4),
        "capscope_s": round(fast_t, 5),
        "pandas_s": round(ref_t, 4),
        "speedup": round(ref_t / fast_t, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--part", choices=["all", "breadth", "breadth-large", "rrg"], default="all")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    data = resolve_data_dir(None, allow_download=False).path
    rows = []
    if args.part in ("all", "breadth"):
        t0 = time.perf_counter()
        stocks = Panel.from_bars(read_many(sorted((data / "stocks").glob("*.csv"))))
        load = time.perf_counter() - t0
        row = bench_breadth(stocks, args.repeat, "breadth (sample stocks)")
        row["load_csv_s"] = round(load, 2)
        rows.append(row)
    if args.part in ("all", "breadth-large"):
        rows.append(
            bench_breadth(random_universe(5000, 3000), max(1, args.repeat // 2), "breadth (synthetic)")
        )
    if args.part in ("all", "rrg"):
        files = sorted((data / "prices").glob("*.csv")) + sorted((data / "prices" / "alt").glob("*.csv"))
        prices = Panel.from_bars(read_many(files))
        rows.append(bench_rrg(prices, args.repeat))
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "repeat": args.repeat,
    }
    for row in rows:
        print(json.dumps(row))
    print(json.dumps(meta))
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
