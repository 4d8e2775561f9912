"""Running the ``capscope`` console entry point in-process, as a user's shell would (exit code, stdout, stderr)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from capscope.cli.app import main


def run_main(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Run ``capscope ARGS`` through :func:`capscope.cli.app.main`; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["capscope", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


# -- a small generated universe for whole-CLI tests (fuzz, store damage, widths) ---------------------------------
#: Index-like symbols in prices/ and stocks in stocks/ of the generated data directory.
PRICE_SYMBOLS = ("AAA", "BBB", "GRW", "VAL")
STOCK_SYMBOLS = tuple(f"S{k:02d}" for k in range(6))
CLAIMS_YAML = """\
claims:
  - id: aaa-above-bbb
    says: "AAA outperformed BBB."
    kind: outperformance
    symbol: AAA
    versus: BBB
    start: 2024-06-03
    end: 2025-03-31
"""


def build_universe(root: Path) -> tuple[Path, Path]:
    """Write a small data directory (``prices/``, ``stocks/``) and ingest it into a store; returns both paths.

    Random walks of 420-520 bars (volumes up to 10^6, prices ~100), generated, so no sample data is needed.
    """
    from datetime import date

    from capscope.store import Store

    from .test_store import make_rows, write_csv

    data = root / "data"
    for k, sym in enumerate(PRICE_SYMBOLS):
        write_csv(
            data / "prices" / f"{sym}.csv", make_rows(520 - 20 * k, seed=100 + k, base=1000.0 + 900 * k)
        )
    for k, sym in enumerate(STOCK_SYMBOLS):
        write_csv(data / "stocks" / f"{sym}.csv", make_rows(420, start=date(2024, 1, 2), seed=200 + k))
    store = root / "store.duckdb"
    with Store(store) as st:
        st.ingest(data)
    (root / "claims.yaml").write_text(CLAIMS_YAML)
    return data, store


def reading_commands(store: Path, data: Path, root: Path) -> dict[str, list[str]]:
    """One invocation of every reading command against ``store`` (name -> argv)."""
    return {
        "show": ["show", "AAA", "--store", str(store)],
        "overview": ["overview", "-s", "AAA,BBB", "--store", str(store)],
        "symbols": ["symbols", "--store", str(store)],
        "scan": ["scan", "AAA", "--store", str(store)],
        "patterns": ["patterns", "AAA", "--store", str(store)],
        "rotation": ["rotation", "--pairs", "AAA:BBB", "--rrg", "", "--store", str(store)],
        "breadth": ["breadth", "--store", str(store)],
        "brief": [
            "brief",
            "--symbol",
            "AAA",
            "--benchmark",
            "BBB",
            "--growth",
            "GRW",
            "--value",
            "VAL",
            "--out",
            str(root / "brief-out"),
            "--store",
            str(store),
        ],
        "verify": ["verify", str(root / "claims.yaml"), "--store", str(store)],
        "doctor": ["doctor", "--store", str(store), "--data", str(data)],
    }
