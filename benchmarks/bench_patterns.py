"""Chartist patterns: time over the full sample universe, and false-positive rates on GBM random walks.

Usage::

    .venv/bin/python benchmarks/bench_patterns.py            # both parts
    .venv/bin/python benchmarks/bench_patterns.py --part fp  # only the random-walk rates
    .venv/bin/python benchmarks/bench_patterns.py --part sample
    .venv/bin/python benchmarks/bench_patterns.py --part speed   # numba pass vs plain twin, per bar

Part ``sample``: :func:`capscope.patterns.find_patterns` (chartist mode, all kinds, default scales) over every
file in ``prices/`` and ``stocks/`` of the sample data, one symbol at a time (each series is detected once over
all its bars; the as-of view is the last bar). Reports wall time, bars processed and records found.

Part ``speed``: the chartist detector's cost per bar, the numba pass over the panel
(:func:`capscope.patterns.chartist.detect_panel`, the default of ``find_patterns``) against its plain-Python
twin (``find_patterns(..., reference=True)``: :func:`~capscope.patterns.chartist.detect_series` per symbol),
side by side in one run, alternating round by round (minimum and median of ``--rounds``): on the sample stocks
and indices, and on ``--gen-symbols`` generated GBM symbols x ``--gen-bars`` bars (the issue's 100 x 5,000
market-scan case). Both produce the same records (checked here too, and in ``tests/test_patterns_panel.py``).

Part ``fp``: geometric Brownian motion paths (no drift) with daily OHLC bars. Daily log-return volatility 1.2 %
(~19 % a year, index-like) and 2.5 % (~40 % a year, small-cap-like); opens gap by ``N(0, 0.2 sigma)``, highs
and lows extend beyond the open/close by ``|N(0, 0.5 sigma)|``. A random walk holds no pattern, so every record
is a false positive. Rates are per 1,000 bars: ``found`` = formations reported (any status) and ``broke out`` =
those whose close crossed the neckline (status confirmed, target_reached, or failed after a breakout), plus the
share of breakouts that reached the measured target (on a random walk that share is what chance gives).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from capscope.patterns.api import find_patterns  # noqa: E402
from capscope.patterns.records import CHARTIST_KINDS  # noqa: E402

#: Rates are also given for records with at least this quality.
QUALITY_CUT = 0.7


def gbm_ohlc(n_bars: int, sigma: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One GBM path of daily bars (see the module docstring)."""
    gap = rng.normal(0.0, 0.2 * sigma, n_bars)
    body = rng.normal(0.0, sigma, n_bars)
    log_open = np.log(50.0) + np.cumsum(gap + np.r_[0.0, body[:-1]])
    log_close = log_open + body
    top = np.maximum(log_open, log_close) + np.abs(rng.normal(0.0, 0.5 * sigma, n_bars))
    bottom = np.minimum(log_open, log_close) - np.abs(rng.normal(0.0, 0.5 * sigma, n_bars))
    dates = np.busday_offset(np.datetime64("1990-01-01"), np.arange(n_bars), roll="forward")
    return {
        "date": dates,
        "open": np.exp(log_open),
        "high": np.exp(top),
        "low": np.exp(bottom),
        "close": np.exp(log_close),
    }


def false_positive_rates(
    n_paths: int, n_bars: int, sigmas: tuple[float, ...], seed: int
) -> dict[str, dict[str, dict[str, float]]]:
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for sigma in sigmas:
        found: Counter[str] = Counter()
        broke: Counter[str] = Counter()
        reached: Counter[str] = Counter()
        good: Counter[str] = Counter()
        for _ in range(n_paths):
            recs = find_patterns(gbm_ohlc(n_bars, sigma, rng))
            for r in recs:
                found[r.kind] += 1
                good[r.kind] += r.quality >= QUALITY_CUT
                if r.breakout is not None:
                    broke[r.kind] += 1
                    reached[r.kind] += r.status == "target_reached"
        per = 1000.0 / (n_paths * n_bars)
        out[f"{sigma:.3f}"] = {
            k: {
                "found_per_1000": round(found[k] * per, 3),
                "quality_cut_per_1000": round(good[k] * per, 3),
                "broke_out_per_1000": round(broke[k] * per, 3),
                "target_share": round(reached[k] / broke[k], 3) if broke[k] else float("nan"),
            }
            for k in CHARTIST_KINDS
        }
        out[f"{sigma:.3f}"]["all"] = {
            "found_per_1000": round(sum(found.values()) * per, 3),
            "quality_cut_per_1000": round(sum(good.values()) * per, 3),
            "broke_out_per_1000": round(sum(broke.values()) * per, 3),
            "target_share": round(sum(reached.values()) / max(1, sum(broke.values())), 3),
        }
    return out


def sample_universe(data_dir: Path) -> dict[str, float]:
    import polars as pl

    from capscope.data.panel import Panel
    from capscope.data.readers import read_bars

    paths = sorted((data_dir / "prices").glob("*.csv")) + sorted((data_dir / "stocks").glob("*.csv"))
    t0 = time.perf_counter()
    panel = Panel.from_bars(pl.concat([read_bars(p) for p in paths], how="vertical_relaxed"))
    t_load = time.perf_counter() - t0
    find_patterns(panel.select([panel.symbols[0]]))  # compile the numba kernels outside the timing
    t0 = time.perf_counter()
    recs = find_patterns(panel)
    t_run = time.perf_counter() - t0
    bars = int(np.sum(~np.isnan(panel.close)))
    # pivots alone: the numba zig-zag against its plain-Python twin, side by side on the same series
    from capscope.indicators.pivots import zigzag_pivots, zigzag_pivots_reference

    cols = [(panel.high[:, j], panel.low[:, j], panel.close[:, j]) for j in range(panel.n_symbols)]
    zigzag_pivots(*cols[0], 3.0)
    t0 = time.perf_counter()
    for h, lo, c in cols:
        zigzag_pivots(h, lo, c, 3.0)
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    for h, lo, c in cols:
        zigzag_pivots_reference(h, lo, c, 3.0)
    t_ref = time.perf_counter() - t0
    return {
        "zigzag_numba_s": round(t_fast, 3),
        "zigzag_reference_s": round(t_ref, 3),
        "zigzag_speedup": round(t_ref / t_fast, 1),
        "symbols": panel.n_symbols,
        "bars": bars,
        "records": len(recs),
        "load_s": round(t_load, 2),
        "find_patterns_s": round(t_run, 2),
        "us_per_bar": round(1e6 * t_run / bars, 2),
    }


def gbm_panel(n_symbols: int, n_bars: int, seed: int) -> object:
    """A panel of independent GBM symbols (volatilities 1.2 % to 3.5 % a day), as :func:`gbm_ohlc` builds them."""
    from capscope.data.panel import Panel

    rng = np.random.default_rng(seed)
    cols = [gbm_ohlc(n_bars, float(rng.uniform(0.012, 0.035)), rng) for _ in range(n_symbols)]
    fields = {
        k: np.ascontiguousarray(np.stack([c[k] for c in cols], axis=1)) for k in ("high", "low", "close")
    }
    return Panel(cols[0]["date"], tuple(f"G{j:04d}" for j in range(n_symbols)), fields)


def speed(data_dir: Path, gen_symbols: int, gen_bars: int, rounds: int) -> dict[str, dict[str, float]]:
    """Per-bar cost of the numba pass and of the plain twin, alternating round by round."""
    import polars as pl

    from capscope.data.panel import Panel
    from capscope.data.readers import read_bars

    panels = {}
    for part in ("stocks", "prices"):
        paths = sorted((data_dir / part).glob("*.csv"))
        if paths:
            panels[f"sample {part}"] = Panel.from_bars(
                pl.concat([read_bars(p) for p in paths], how="vertical_relaxed")
            )
    panels[f"generated {gen_symbols} x {gen_bars}"] = gbm_panel(gen_symbols, gen_bars, 7)
    out: dict[str, dict[str, float]] = {}
    for label, panel in panels.items():
        bars = int(np.sum(~np.isnan(panel.close)))  # type: ignore[attr-defined]
        fast = find_patterns(panel)  # compile / load the numba cache outside the timing
        slow = find_patterns(panel, reference=True)
        same = [r.to_dict() for r in fast] == [r.to_dict() for r in slow]
        times: dict[str, list[float]] = {"numba": [], "twin": []}
        for _ in range(rounds):
            for name, ref in (("numba", False), ("twin", True)):
                t0 = time.perf_counter()
                find_patterns(panel, reference=ref)
                times[name].append(time.perf_counter() - t0)
        row = {
            "symbols": panel.n_symbols,  # type: ignore[attr-defined]
            "bars": bars,
            "records": len(fast),
            "same_records": same,
        }
        for name, ts in times.items():
            row[f"{name}_us_per_bar_min"] = round(1e6 * min(ts) / bars, 3)
            row[f"{name}_us_per_bar_median"] = round(1e6 * float(np.median(ts)) / bars, 3)
        row["speedup_min"] = round(min(times["twin"]) / min(times["numba"]), 2)
        row["speedup_median"] = round(float(np.median(times["twin"]) / np.median(times["numba"])), 2)
        out[label] = row
        print(json.dumps({label: row}), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=["all", "fp", "sample", "speed"], default="all")
    ap.add_argument("--rounds", type=int, default=5, help="speed: alternating rounds")
    ap.add_argument("--gen-symbols", type=int, default=100, help="speed: generated symbols")
    ap.add_argument("--gen-bars", type=int, default=5000, help="speed: bars per generated symbol")
    ap.add_argument("--paths", type=int, default=100, help="GBM paths per volatility")
    ap.add_argument("--bars", type=int, default=2520, help="bars per GBM path")
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument(
        "--data", type=Path, default=Path(os.environ.get("CAPSCOPE_DATA", REPO.parent / "shared" / "data"))
    )
    args = ap.parse_args()
    result: dict[str, object] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    if args.part in ("all", "sample"):
        result["sample"] = sample_universe(args.data)
        print(json.dumps({"sample": result["sample"]}), flush=True)
    if args.part in ("all", "speed"):
        result["speed"] = speed(args.data, args.gen_symbols, args.gen_bars, args.rounds)
    if args.part in ("all", "fp"):
        t0 = time.perf_counter()
        fp = false_positive_rates(args.paths, args.bars, (0.012, 0.025), args.seed)
        result["false_positives"] = fp
        result["fp_setup"] = {
            "paths": args.paths,
            "bars": args.bars,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(
            "\n| kind | found /1000 bars (σ=1.2%) | broke out | target share | found /1000 bars (σ=2.5%) | broke out | target share |"
        )
        print("|---|---|---|---|---|---|---|")
        for k in (*CHARTIST_KINDS, "all"):
            a, b = fp["0.012"][k], fp["0.025"][k]
            print(
                f"| {k} | {a['found_per_1000']:.2f} | {a['quality_cut_per_1000']:.2f} | {a['broke_out_per_1000']:.2f} "
                f"| {a['target_share']:.2f} | {b['found_per_1000']:.2f} | {b['quality_cut_per_1000']:.2f} "
                f"| {b['broke_out_per_1000']:.2f} | {b['target_share']:.2f} |"
            )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
