"""Does the hand-written event assembly pay? End-to-end ``scan_panel`` with the numba radix sort, tie order and
scatter kernels of :mod:`capscope.events.assembly` vs the same work with ``np.argsort(kind="stable")`` and plain
numpy (issue 17 item 5: the kernels stay only if the whole scan is at least 1.5x faster with them).

The "plain" variant is ``capscope.events.records.assemble`` since issue 17 (numpy key packing, inverse permutation,
decoding and field scatters, ``np.argsort(kind="stable")`` and ``np.lexsort`` for ties); the kernel variant is
``_assemble_reference`` (``_assemble(..., kernels=True)``: radix sort, insertion tie order, numba scatters). Both variants run alternately on the
same panels (paired), the frames are checked bit-identical, and the median wall time of each is reported.

Usage::

    python benchmarks/bench_scan_assembly.py [--rounds 5] [--symbols 2000] [--bars 2500]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd


@contextlib.contextmanager
def kernel_assembly() -> Iterator[None]:
    """Use the numba assembly kernels (``_assemble(..., kernels=True)``) inside the block."""
    from capscope.events import records

    saved = records.assemble
    records.assemble = records._assemble_reference  # type: ignore[assignment]  # the kernel twin
    try:
        yield
    finally:
        records.assemble = saved  # type: ignore[assignment]


def generated_panel(n_symbols: int, n_bars: int, seed: int = 7) -> Any:
    """A random-walk panel (ragged starts) of ``n_symbols`` x ``n_bars``."""
    from capscope.data.panel import Panel

    rng = np.random.default_rng(seed)
    close = 20 * np.exp(np.cumsum(rng.normal(0, 0.02, (n_bars, n_symbols)), axis=0))
    starts = rng.integers(0, n_bars // 3, n_symbols)
    close[np.arange(n_bars)[:, None] < starts[None, :]] = np.nan
    spread = 1 + rng.random((n_bars, n_symbols)) * 0.01
    fields = {
        "open": np.ascontiguousarray(close * (1 + rng.normal(0, 0.002, close.shape))),
        "close": close,
    }
    fields["high"] = np.ascontiguousarray(np.fmax(fields["open"], close) * spread)
    fields["low"] = np.ascontiguousarray(np.fmin(fields["open"], close) / spread)
    fields["adj_close"] = close.copy()
    fields["volume"] = np.where(np.isnan(close), np.nan, 1e5)
    dates = np.arange(np.datetime64("2005-01-03"), np.datetime64("2005-01-03") + n_bars).astype(
        "datetime64[D]"
    )
    return Panel(dates, tuple(f"G{j:05d}" for j in range(n_symbols)), fields)


def sample_panel() -> Any | None:
    """The sample stocks as one panel, or ``None`` without the sample data."""
    from capscope.data.panel import Panel
    from capscope.data.readers import read_many
    from capscope.data.sources import resolve_data_dir

    try:
        root = resolve_data_dir(None, allow_download=False).path
    except Exception:
        return None
    files = sorted((root / "stocks").glob("*.csv"))
    return Panel.from_bars(read_many(files)) if files else None


def measure(panel: Any, rounds: int) -> dict[str, float]:
    """Median wall times of scan_panel with kernels and with plain numpy assembly (alternating)."""
    from capscope.events.scan import scan_panel

    plain = scan_panel(panel)
    with kernel_assembly():
        kern = scan_panel(panel)
    pd.testing.assert_frame_equal(kern, plain)  # bit-identical frames (also guarded by tests)
    times: dict[str, list[float]] = {"kernels": [], "plain": []}
    for _ in range(rounds):
        with kernel_assembly():
            t0 = time.perf_counter()
            scan_panel(panel)
            times["kernels"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        scan_panel(panel)
        times["plain"].append(time.perf_counter() - t0)
    out = {k: statistics.median(v) for k, v in times.items()}
    out["events"] = float(len(kern))
    return out


def main() -> None:
    """Run both variants on the sample stocks and on a generated panel; print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--symbols", type=int, default=2000)
    parser.add_argument("--bars", type=int, default=2500)
    args = parser.parse_args()
    panels = []
    sample = sample_panel()
    if sample is not None:
        panels.append((f"sample stocks {sample.n_symbols} x {sample.n_bars}", sample))
    panels.append((f"generated {args.symbols} x {args.bars}", generated_panel(args.symbols, args.bars)))
    print("| panel | events | scan with kernels (s) | scan with np.argsort + numpy (s) | plain / kernels |")
    print("|---|---:|---:|---:|---:|")
    for name, panel in panels:
        r = measure(panel, args.rounds)
        print(
            f"| {name} | {int(r['events']):,} | {r['kernels']:.3f} | {r['plain']:.3f} | "
            f"{r['plain'] / r['kernels']:.2f}x |"
        )


if __name__ == "__main__":
    main()
