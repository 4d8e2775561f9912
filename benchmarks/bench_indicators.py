"""Benchmark: the seven core indicators over whole panels (capscope vs TA-Lib, pandas, pandas-ta-classic, floor).

Core set: SMA 50, SMA 200, EMA 20, MACD 12/26/9 (3 outputs), RSI 14, ATR 14, Bollinger 20/2 (3 outputs) =
11 output arrays from close/high/low.

Run: ``.venv/bin/python benchmarks/bench_indicators.py [--bars 2000 --symbols 6000 --repeat 5]``

Every variant keeps its results in panels (a TA-Lib loop that throws results away looks faster than it is).
Each timing is the minimum over ``--repeat`` runs (the machine may be shared); ratios come from one run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

OUTPUTS = 11


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def generated_panel(n_bars: int, n_symbols: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 30.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (n_bars, n_symbols)), axis=0))
    spread = np.abs(rng.normal(0.0, 0.01, (n_bars, n_symbols)))
    return close * (1 + spread), close * (1 - spread), close


def floor(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
    """Memory-bandwidth floor: read the three inputs once, write the 11 outputs once (fresh arrays)."""
    outs = [np.empty_like(c) for _ in range(OUTPUTS)]
    np.add(h, lo, out=outs[0])
    np.multiply(c, 1.0, out=outs[1])
    for o in outs[2:]:
        o.fill(0.0)
    return outs


def talib_loop(h: np.ndarray, lo: np.ndarray, c: np.ndarray, column_major: bool) -> list[np.ndarray]:
    """TA-Lib called per symbol, results written into output panels of the inputs' layout."""
    import talib

    order = "F" if column_major else "C"
    outs = [np.empty(c.shape, order=order) for _ in range(OUTPUTS)]
    for j in range(c.shape[1]):
        # column-major: contiguous views; time-major: each column must be gathered first
        cj = np.ascontiguousarray(c[:, j])
        hj = np.ascontiguousarray(h[:, j])
        lj = np.ascontiguousarray(lo[:, j])
        outs[0][:, j] = talib.SMA(cj, 50)
        outs[1][:, j] = talib.SMA(cj, 200)
        outs[2][:, j] = talib.EMA(cj, 20)
        m, s, hist = talib.MACD(cj, 12, 26, 9)
        outs[3][:, j], outs[4][:, j], outs[5][:, j] = m, s, hist
        outs[6][:, j] = talib.RSI(cj, 14)
        outs[7][:, j] = talib.ATR(hj, lj, cj, 14)
        u, mid, low = talib.BBANDS(cj, timeperiod=20, nbdevup=2.0, nbdevdn=2.0)
        outs[8][:, j], outs[9][:, j], outs[10][:, j] = u, mid, low
    return outs


def pandas_frame(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> list[object]:
    """pandas rolling/ewm on the whole wide frame (not TA-Lib-exact: ewm is not SMA-seeded)."""
    import pandas as pd

    close, high, low = pd.DataFrame(c), pd.DataFrame(h), pd.DataFrame(lo)
    sma50 = close.rolling(50).mean()
    sma200 = close.rolling(200).mean()
    ema20 = close.ewm(span=20, adjust=False).mean()
    macd = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
    signal = macd.ewm(span=9, adjust=False).mean()
    hist = macd - signal
    delta = close.diff()
    gain = delta.clip(lower=0).ewm(alpha=1 / 14, adjust=False).mean()
    loss = (-delta.clip(upper=0)).ewm(alpha=1 / 14, adjust=False).mean()
    rsi = 100 * gain / (gain + loss)
    prev = close.shift(1)
    tr = pd.concat([high - low, (high - prev).abs(), (low - prev).abs()]).T.groupby(level=0).max().T
    atr = tr.ewm(alpha=1 / 14, adjust=False).mean()
    mid = close.rolling(20).mean()
    sd = close.rolling(20).std(ddof=0)
    return [sma50, sma200, ema20, macd, signal, hist, rsi, atr, mid + 2 * sd, mid, mid - 2 * sd]


def pandas_ta_loop(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
    """pandas-ta-classic called per symbol (its functions take Series), results kept in panels."""
    import pandas as pd
    import pandas_ta_classic as pta

    outs = [np.empty_like(c) for _ in range(OUTPUTS)]
    for j in range(c.shape[1]):
        close, high, low = pd.Series(c[:, j]), pd.Series(h[:, j]), pd.Series(lo[:, j])
        outs[0][:, j] = pta.sma(close, 50).to_numpy()
        outs[1][:, j] = pta.sma(close, 200).to_numpy()
        outs[2][:, j] = pta.ema(close, 20).to_numpy()
        m = pta.macd(close, 12, 26, 9).to_numpy()
        outs[3][:, j], outs[4][:, j], outs[5][:, j] = m[:, 0], m[:, 2], m[:, 1]
        outs[6][:, j] = pta.rsi(close, 14).to_numpy()
        outs[7][:, j] = pta.atr(high, low, close, 14).to_numpy()
        b = pta.bbands(close, 20, 2.0).to_numpy()
        outs[8][:, j], outs[9][:, j], outs[10][:, j] = b[:, 2], b[:, 1], b[:, 0]
    return outs


def startup_times() -> dict[str, float]:
    """``import capscope``, first call with an empty numba cache (compile), first call with a warm cache."""
    code = (
        "import time; t0 = time.perf_counter(); import numpy as np; "
        "from capscope.indicators import api; from capscope.indicators.stream import CoreState, update; "
        "x = np.linspace(1, 2, 400).reshape(200, 2); api.core(x + 0.1, x - 0.1, x); "
        "s = CoreState.from_history(x + 0.1, x - 0.1, x); update(s, (x[-1] + 0.1, x[-1] - 0.1, x[-1])); "
        "print(time.perf_counter() - t0)"
    )
    imp = "import time; t0 = time.perf_counter(); import capscope; print(time.perf_counter() - t0)"
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        run = lambda c: float(  # noqa: E731
            subprocess.run(
                [sys.executable, "-c", c], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        out["import_capscope_s"] = min(run(imp) for _ in range(3))
        out["first_call_cold_cache_s"] = run(code)
        out["first_call_warm_cache_s"] = min(run(code) for _ in range(2))
    return out


def stock_panel() -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    from capscope.data.panel import Panel
    from capscope.data.readers import read_many

    root = Path(os.environ.get("CAPSCOPE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    files = sorted((root / "stocks").glob("*.csv"))
    if not files:
        return None
    p = Panel.from_bars(read_many(files))
    return p.high, p.low, p.close


def bench_panel(
    label: str, h: np.ndarray, lo: np.ndarray, c: np.ndarray, repeat: int, pta_symbols: int
) -> None:
    """Time every variant, interleaved round by round (so machine load hits all alike); min per variant."""
    import numba

    from capscope.indicators import kernels

    kernels.core_2d(h[:300, :4].copy(), lo[:300, :4].copy(), c[:300, :4].copy())  # compile / load cache
    n, m = c.shape
    hf, lf, cf = (np.asfortranarray(a) for a in (h, lo, c))

    def fused(threads: int) -> Callable[[], object]:
        def run() -> object:
            numba.set_num_threads(threads)
            return kernels.core_2d(h, lo, c)

        return run

    variants: dict[str, Callable[[], object]] = {
        "floor_numpy": lambda: floor(h, lo, c),
        "capscope_fused_1t": fused(1),
        "capscope_fused_2t": fused(2),
        "talib_column_major": lambda: talib_loop(hf, lf, cf, True),
        "talib_time_major": lambda: talib_loop(h, lo, c, False),
        "pandas_frame": lambda: pandas_frame(h, lo, c),
    }
    wall: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(repeat):
        for name, fn in variants.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    numba.set_num_threads(2)
    k = min(pta_symbols, m)
    t0, c0 = time.perf_counter(), time.process_time()
    pandas_ta_loop(h[:, :k], lo[:, :k], c[:, :k])
    wall["pandas_ta_classic"] = [(time.perf_counter() - t0) * m / k]
    cpu["pandas_ta_classic"] = [(time.process_time() - c0) * m / k]
    w = {name: min(v) for name, v in wall.items()}
    cp = {name: min(v) for name, v in cpu.items()}
    # the median too: on a shared machine the minimum of a short memory-bound step (the floor) is the luckiest
    # round, so min/min ratios swing with the number of rounds; median/median ones much less
    med = {name: float(np.median(v)) for name, v in wall.items()}
    print(f"\n### {label}: {n} bars x {m} symbols (min and median of {repeat} interleaved rounds)\n")
    print(
        "| variant | wall s (min) | CPU s (min) | wall vs floor (min) | median vs floor | time-major TA-Lib / this |"
    )
    print("|---|---|---|---|---|---|")
    for name in w:
        note = f" (extrapolated from {k} symbols)" if name == "pandas_ta_classic" and k < m else ""
        print(
            f"| {name}{note} | {w[name]:.4f} | {cp[name]:.4f} | {w[name] / w['floor_numpy']:.2f}x"
            f" | {med[name] / med['floor_numpy']:.2f}x | {w['talib_time_major'] / w[name]:.2f}x |"
        )


def bench_update(repeat: int) -> None:
    import numba

    from capscope.indicators.stream import CoreState, ExtraState, IndicatorState, update

    h, lo, c = generated_panel(400, 3000, seed=1)
    state = CoreState.from_history(h[:-1], lo[:-1], c[:-1])
    row = (h[-1], lo[-1], c[-1])
    print("\n### one-bar incremental update, 3,000 symbols, all 7 core indicators\n")
    for threads in (1, 2):
        numba.set_num_threads(threads)
        times = []
        for _ in range(max(repeat, 20)):
            s = state.copy()
            t0 = time.perf_counter()
            update(s, row)
            times.append(time.perf_counter() - t0)
        print(f"- {threads} thread(s): min {min(times) * 1e3:.3f} ms, median {np.median(times) * 1e3:.3f} ms")
    v = np.random.default_rng(2).integers(0, 10**6, c.shape).astype(np.float64)
    extra = ExtraState.from_history(h[:-1], lo[:-1], c[:-1], v[:-1])
    both = IndicatorState.from_history(h[:-1], lo[:-1], c[:-1], v[:-1])
    bar = (h[-1], lo[-1], c[-1], v[-1])
    for label, st in (("WMA, ROC, TRANGE, STOCH, ADX, OBV", extra), ("all 13 (core + extra)", both)):
        print(f"\n### one-bar incremental update, 3,000 symbols, {label}\n")
        times = []
        for _ in range(max(repeat, 20)):
            s2 = st.copy()
            t0 = time.perf_counter()
            update(s2, bar)
            times.append(time.perf_counter() - t0)
        print(f"- 1 thread: min {min(times) * 1e3:.3f} ms, median {np.median(times) * 1e3:.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=2000)
    parser.add_argument("--symbols", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pta-symbols", type=int, default=200, help="symbols for the slow pandas-ta loop")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs; numpy {np.__version__}")
    print("\n### start-up\n")
    for k, v in startup_times().items():
        print(f"- {k}: {v:.3f}")
    bench_panel("generated", *generated_panel(args.bars, args.symbols), args.repeat, args.pta_symbols)
    real = stock_panel()
    if real is not None:
        bench_panel("real stock panel (stocks/*.csv)", *real, args.repeat, args.pta_symbols)
    bench_update(args.repeat)


if __name__ == "__main__":
    main()
