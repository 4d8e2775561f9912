"""Event study of every event kind x 3 horizons over the full sample universe, step by step.

Usage::

    .venv/bin/python benchmarks/bench_study.py [--draws 1000] [--inference placebo|bootstrap|both] [--arch-spa]

Universe: every bar file under the data directory (``prices/``, ``prices/alt/``, ``stocks/``: ~735 series),
studied the way ``capscope study all --universe all`` does: symbols in blocks of 128 with similar first dates
(one block in memory at a time), then one combine. Steps timed (wall and process CPU):

* ``read``: the bar files into one bar table (:func:`capscope.data.readers.read_many`);
* ``panels``: one :class:`~capscope.data.panel.Panel` per block;
* ``events``: :func:`capscope.events.scan_panel` per block (all 17 event kinds);
* ``study_blocks``: :func:`capscope.analytics.study.study_block` per block with those events (forward returns,
  baselines, KS baseline values, placebo sums);
* ``combine``: :func:`capscope.analytics.study.combine` (point statistics, KS, intervals, BH, SPA, StepM).

``--arch-spa`` also times ``arch.bootstrap.SPA`` on the per-date excess series of the run's cells (what the
run-level test would cost with arch's index-based resampling; 77 s for 24,700 dates x 51 cells measured once).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import polars as pl  # noqa: E402

from capscope.analytics.study import StudyParams, combine, parse_signals, study_block  # noqa: E402
from capscope.data.panel import Panel  # noqa: E402
from capscope.data.readers import iter_bar_files, read_many  # noqa: E402
from capscope.events.scan import scan_panel  # noqa: E402

BLOCK = 128


def _data_dir() -> Path:
    env = os.environ.get("CAPSCOPE_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


class Timer:
    """Accumulates wall and CPU seconds per step."""

    def __init__(self) -> None:
        self.steps: dict[str, list[float]] = {}

    def __call__(self, name: str):  # type: ignore[no-untyped-def]
        timer = self

        class _Ctx:
            def __enter__(self) -> None:
                self.w, self.c = time.perf_counter(), time.process_time()

            def __exit__(self, *exc: object) -> None:
                acc = timer.steps.setdefault(name, [0.0, 0.0])
                acc[0] += time.perf_counter() - self.w
                acc[1] += time.process_time() - self.c

        return _Ctx()


def run(draws: int, inference: str, arch_spa: bool) -> None:
    """Run the benchmark once (after a small warm-up that compiles the numba kernels) and print the steps."""
    data = _data_dir()
    files = sorted(iter_bar_files(data))
    signals = parse_signals(["all"])
    params = StudyParams(horizons=(5, 21, 63), draws=draws, inference=inference)
    # warm-up: compile every kernel on a small panel (not timed)
    warm = Panel.from_bars(read_many(files[:3]))
    combine([study_block(warm, signals, StudyParams(horizons=(5,), draws=99, inference=inference))])

    t = Timer()
    total_w, total_c = time.perf_counter(), time.process_time()
    with t("read"):
        bars = read_many(files)
    firsts = bars.group_by("symbol").agg(pl.col("date").min().alias("first")).sort(["first", "symbol"])
    syms = firsts["symbol"].to_list()
    blocks = [syms[i : i + BLOCK] for i in range(0, len(syms), BLOCK)]
    parts = []
    n_events = 0
    for block in blocks:
        with t("panels"):
            panel = Panel.from_bars(bars.filter(pl.col("symbol").is_in(block)))
        with t("events"):
            events = scan_panel(panel, params=params.scan)
        n_events += len(events)
        with t("study_blocks"):
            parts.append(study_block(panel, signals, params, events=events))
    with t("combine"):
        res = combine(parts)
    total = (time.perf_counter() - total_w, time.process_time() - total_c)
    print(
        f"bench_study: {len(files)} series, {bars.height:,} bars, {len(blocks)} blocks, {n_events:,} events, "
        f"{len(res.results)} cells, draws {draws}, inference {inference}; {platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    print("| step | wall s | CPU s |\n|---|---|---|")
    for name, (w, c) in t.steps.items():
        print(f"| {name} | {w:.2f} | {c:.2f} |")
    print(f"| total | {total[0]:.2f} | {total[1]:.2f} |")
    rt = res.run_tests
    print(
        f"run tests: SPA p = {rt['spa']['p_value'] if rt.get('spa') else None}; StepM superior {len(rt['stepm']['superior']) if rt.get('stepm') else 0}"
    )
    if arch_spa:
        import numpy as np
        from arch.bootstrap import SPA

        keys = [(r.signal, r.horizon) for r in res.results if r.n_events]
        # per-date excess contributions of every cell on the run calendar (the loss matrix arch would need)
        cols = []
        for p in parts[:1]:
            for key, cell in p.cells.items():
                if (key[0], key[1]) in keys:
                    cols.append(cell.e - cell.n * 0.0)
        loss = -np.stack(cols, axis=1)
        w = time.perf_counter()
        spa = SPA(np.zeros(loss.shape[0]), loss, block_size=60, reps=draws, seed=1)
        spa.compute()
        print(
            f"arch SPA on {loss.shape[0]} dates x {loss.shape[1]} cells: {time.perf_counter() - w:.1f} s wall"
        )


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--inference", choices=("placebo", "bootstrap", "both"), default="placebo")
    ap.add_argument("--arch-spa", action="store_true")
    args = ap.parse_args()
    for inf in ("placebo", "bootstrap") if args.inference == "both" else (args.inference,):
        run(args.draws, inf, args.arch_spa)


if __name__ == "__main__":
    main()
