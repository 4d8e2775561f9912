"""``capscope brief`` end to end: warm wall and CPU time (goal < 3 s), HTML size (budget < 5 MB), and stages.

Usage::

    .venv/bin/python benchmarks/bench_brief.py               # store in a temp dir, ingested once
    .venv/bin/python benchmarks/bench_brief.py --repeat 5 --json out.json

Parts:

``cli``
    ``capscope brief --store S --out D`` as a subprocess, the way a user runs it, after one warm-up run (numba's
    on-disk cache filled, the OS file cache warm). Reports the best and median wall time and the child's CPU time
    (user + sys; on a loaded machine CPU time is the fairer number). The warm-up run's time is reported too.
``stages``
    In one process, best of ``--repeat``: loading from the store, building the facts, rendering JSON/Markdown/HTML.
``files``
    The same CLI reading the CSV files directly (``--data``) instead of the store, for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
CAPSCOPE = [sys.executable, "-m", "capscope.cli.app"]


def _child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run capscope once; return (wall seconds, child CPU seconds)."""
    cpu0, t0 = _child_cpu(), time.perf_counter()
    subprocess.run([*CAPSCOPE, *args], check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - t0, _child_cpu() - cpu0


def bench_cli(args: list[str], env: dict[str, str], repeat: int) -> dict[str, Any]:
    first = run_cli(args, env)
    runs = [run_cli(args, env) for _ in range(repeat)]
    walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
    return {
        "first_wall_s": round(first[0], 3),
        "best_wall_s": round(min(walls), 3),
        "median_wall_s": round(statistics.median(walls), 3),
        "best_cpu_s": round(min(cpus), 3),
        "median_cpu_s": round(statistics.median(cpus), 3),
    }


def bench_stages(store: Path, repeat: int) -> dict[str, Any]:
    from capscope.report.brief import BriefParams, build_brief
    from capscope.report.html import render_html
    from capscope.report.jsonio import dumps
    from capscope.report.loading import load_inputs
    from capscope.report.markdown import render_markdown

    symbols = ["RUT", "GSPC", "IWO", "IWN"]
    best: dict[str, float] = {}
    for _ in range(repeat + 1):  # the first round warms numba's cache
        t0 = time.perf_counter()
        inputs = load_inputs(symbols, store=store)
        t1 = time.perf_counter()
        brief = build_brief(inputs, BriefParams())
        t2 = time.perf_counter()
        dumps(brief), render_markdown(brief)
        html = render_html(brief)
        t3 = time.perf_counter()
        for key, value in (("load_s", t1 - t0), ("facts_s", t2 - t1), ("render_s", t3 - t2)):
            best[key] = min(best.get(key, float("inf")), value)
    return {k: round(v, 3) for k, v in best.items()} | {"html_bytes": len(html.encode("utf-8"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--data", type=Path, default=None, help="data directory (default: resolved as capscope does)"
    )
    ns = parser.parse_args()
    from capscope.data.sources import resolve_data_dir

    data = resolve_data_dir(ns.data, allow_download=False).path
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "load_average": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "bench.duckdb"
        env = dict(os.environ, CAPSCOPE_STORE=str(store))
        subprocess.run([*CAPSCOPE, "ingest", str(data)], check=True, env=env, stdout=subprocess.DEVNULL)
        out = Path(tmp) / "out"
        results["cli_store"] = bench_cli(["brief", "--store", str(store), "--out", str(out)], env, ns.repeat)
        results["html_bytes"] = (out / "brief.html").stat().st_size
        results["stages_store"] = bench_stages(store, ns.repeat)
        results["cli_files"] = bench_cli(["brief", "--data", str(data), "--out", str(out)], env, ns.repeat)
    results["goal_3s_met_cpu"] = results["cli_store"]["best_cpu_s"] < 3.0
    results["goal_3s_met_wall"] = results["cli_store"]["best_wall_s"] < 3.0
    results["html_under_5mb"] = results["html_bytes"] < 5_000_000
    text = json.dumps(results, indent=2)
    print(text)
    if ns.json:
        ns.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
