"""Benchmark: Lo-Mamaysky-Wang patterns over a 2,000 x 6,000 generated panel (about 12 million windows).

Compares, in one run:

- ``capscope.patterns.lmw.lmw_mask`` (sliding Toeplitz-state kernel, numba, 1 and 2 threads),
- a plain numba loop (per window: 8 leave-one-out fits with the weights computed in the loop, then the
  0.3 h* smoother; ``prange`` over symbols) -- what the issue's author timed at about 44 s,
- a straightforward per-window NumPy implementation (``lmw_mask_reference``: explicit 38 x 38 weight
  matrices, one window at a time),
- the arithmetic floor: 9 kernel-matrix-vector products of 38 x 38 per window (8 LOO fits + 1 smoother)
  = 9 * 2 * 38^2 = 25,992 flops per window, divided by the measured peak float64 GEMM rate of this machine
  (NumPy/OpenBLAS ``matmul`` of 2,000 x 2,000 matrices on 1 and 2 threads).

The two slow baselines run on a subset of symbols and are scaled to the full panel (their cost is exactly
linear in the number of windows); the fast path runs on the full panel.  Every timing is the minimum of
``--repeats`` runs (the machine is shared).  Usage::

    .venv/bin/python benchmarks/bench_lmw.py [--bars 2000] [--symbols 6000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

FLOPS_PER_WINDOW = 9 * 2 * 38 * 38


def gemm_rate(threads: int, size: int = 2000, repeats: int = 5) -> float:
    """Peak float64 GEMM rate (flop/s) with ``threads`` BLAS threads, measured in a fresh process."""
    code = (
        "import numpy as np, time\n"
        f"n={size}\n"
        "a=np.random.rand(n,n); b=np.random.rand(n,n); a@b\n"
        "best=1e9\n"
        f"for _ in range({repeats}):\n"
        "    t=time.perf_counter(); a@b; best=min(best, time.perf_counter()-t)\n"
        "print(2*n**3/best)\n"
    )
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def make_panel(n_bars: int, n_symbols: int, seed: int = 7) -> np.ndarray:
    """GBM closes: daily log returns N(0, 0.02^2), start 50, time-major C-contiguous."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.02, (n_bars, n_symbols))
    return np.ascontiguousarray(50.0 * np.exp(np.cumsum(steps, axis=0)))


def _plain_numba():  # type: ignore[no-untyped-def]
    from numba import njit, prange

    from capscope.patterns.lmw import _classify, _find_extrema

    @njit(parallel=True)
    def plain(x, bandwidths, factor, last, mask):  # type: ignore[no-untyped-def]
        n_bars, n_cols = x.shape
        n = 38
        for col in prange(n_cols):
            y = np.empty(n)
            m = np.empty(n)
            cv = np.empty(bandwidths.size)
            pos = np.empty(n, np.int64)
            kind = np.empty(n, np.int64)
            price = np.empty(n)
            at = np.empty(n, np.int64)
            for t in range(n - 1, n_bars):
                for i in range(n):
                    y[i] = x[t - n + 1 + i, col]
                for k in range(bandwidths.size):
                    h = bandwidths[k]
                    acc = 0.0
                    for i in range(n):
                        num = 0.0
                        den = 0.0
                        for j in range(n):
                            if j != i:
                                w = np.exp(-((i - j) ** 2) / (2.0 * h * h))
                                num += w * y[j]
                                den += w
                        r = y[i] - num / den
                        acc += r * r
                    cv[k] = acc / n
                best = 0
                for k in range(1, bandwidths.size):
                    if cv[k] < cv[best]:
                        best = k
                h = bandwidths[best] * factor
                for i in range(n):
                    num = 0.0
                    den = 0.0
                    for j in range(n):
                        w = np.exp(-((i - j) ** 2) / (2.0 * h * h))
                        num += w * y[j]
                        den += w
                    m[i] = num / den
                count = _find_extrema(m, y, last, pos, kind, price, at)
                mask[t, col] = _classify(pos, kind, price, count, last)

    return plain


def best_of(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=2000)
    parser.add_argument("--symbols", type=int, default=6000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--numpy-symbols", type=int, default=2, help="subset for the per-window NumPy baseline"
    )
    parser.add_argument("--plain-symbols", type=int, default=200, help="subset for the plain numba loop")
    args = parser.parse_args()

    import numba

    from capscope.patterns.kernel_regression import DEFAULT_BANDWIDTHS
    from capscope.patterns.lmw import LmwParams, lmw_mask, lmw_mask_reference

    x = make_panel(args.bars, args.symbols)
    windows_per_symbol = args.bars - 37
    n_windows = windows_per_symbol * args.symbols
    params = LmwParams()
    results: dict[str, object] = {"bars": args.bars, "symbols": args.symbols, "windows": n_windows}

    rates = {th: gemm_rate(th) for th in (1, 2)}
    for th, rate in rates.items():
        results[f"gemm_gflops_{th}t"] = rate / 1e9
        results[f"floor_s_{th}t"] = FLOPS_PER_WINDOW * n_windows / rate

    lmw_mask(x[:100, :64], params)  # compile / load the cache
    for th in (1, 2):
        numba.set_num_threads(th)
        results[f"fast_s_{th}t"] = best_of(lambda: lmw_mask(x, params), args.repeats)
    mask_fast, _ = lmw_mask(x, params)
    results["detections"] = int(np.count_nonzero(mask_fast))

    plain = _plain_numba()
    hs = np.asarray(DEFAULT_BANDWIDTHS)
    sub = np.ascontiguousarray(x[:, : args.plain_symbols])
    out = np.zeros(sub.shape, np.uint16)
    plain(sub[:60, :2], hs, params.factor, params.last_position, out[:60, :2])
    for th in (1, 2):
        numba.set_num_threads(th)
        sec = best_of(lambda: plain(sub, hs, params.factor, params.last_position, out), args.repeats)
        results[f"plain_numba_s_{th}t"] = sec * args.symbols / args.plain_symbols
    fast_sub, _ = lmw_mask(sub, params)
    results["plain_numba_equal_mask"] = bool(np.array_equal(fast_sub, out))

    sub_np = np.ascontiguousarray(x[:, : args.numpy_symbols])
    sec = best_of(lambda: lmw_mask_reference(sub_np, params), 1)
    results["numpy_per_window_s"] = sec * args.symbols / args.numpy_symbols
    ref_mask, _ = lmw_mask_reference(sub_np, params)
    results["numpy_equal_mask"] = bool(np.array_equal(ref_mask, mask_fast[:, : args.numpy_symbols]))

    for th in (1, 2):
        results[f"fast_vs_floor_{th}t"] = results[f"fast_s_{th}t"] / results[f"floor_s_{th}t"]  # type: ignore[operator]
        results[f"speedup_vs_plain_numba_{th}t"] = results[f"plain_numba_s_{th}t"] / results[f"fast_s_{th}t"]  # type: ignore[operator]
    results["speedup_vs_numpy_2t"] = results["numpy_per_window_s"] / results["fast_s_2t"]  # type: ignore[operator]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
