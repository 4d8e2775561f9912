"""Fixtures for the browser tests: Debian's chromium driven by Playwright, and briefs to load in it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from capscope.data.panel import Panel

CHROMIUM = os.environ.get("CAPSCOPE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Debian chromium (skips, or fails under CI=true, when it is not installed)."""
    if not Path(CHROMIUM).exists():
        msg = f"chromium not found at {CHROMIUM}: run `make chromium` (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def synthetic_panel(symbols: list[str], n_bars: int = 700, seed: int = 7) -> Panel:
    """Random-walk daily bars (business days from 2022-01-03) for ``symbols``."""
    rng = np.random.default_rng(seed)
    dates = np.busday_offset("2022-01-03", np.arange(n_bars), roll="forward").astype("datetime64[D]")
    k = len(symbols)
    rets = rng.normal(0.0003, 0.012, size=(n_bars, k))
    close = 100.0 * np.exp(np.cumsum(rets, axis=0))
    open_ = close * np.exp(rng.normal(0, 0.003, size=(n_bars, k)))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.004, size=(n_bars, k))))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.004, size=(n_bars, k))))
    fields = {
        "open": np.ascontiguousarray(open_),
        "high": np.ascontiguousarray(high),
        "low": np.ascontiguousarray(low),
        "close": np.ascontiguousarray(close),
        "adj_close": np.full((n_bars, k), np.nan),
        "volume": np.full((n_bars, k), 1e6),
    }
    return Panel(dates, tuple(symbols), fields)
