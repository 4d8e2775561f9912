"""Shared fixtures.

* Every test runs with ``HOME`` and ``XDG_CACHE_HOME`` pointing into a temporary directory and without
  ``CAPSCOPE_STORE`` (so the default store is in that temporary cache): no test can touch the user's real cache or
  store. A store named by ``CAPSCOPE_STORE`` must exist for reading commands, so a test that sets it creates it.
* ``sample_dir`` resolves the shared sample data (``CAPSCOPE_DATA`` or ``../shared/data`` beside the checkout).
  Without it a test skips with the reason, except under CI (``CI=true``) where its absence is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _sample_dir() -> Path | None:
    env = os.environ.get("CAPSCOPE_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(REPO_ROOT.parent / "shared" / "data")
    for cand in candidates:
        if (cand / "prices").is_dir():
            return cand.resolve()
    return None


SAMPLE_DIR = _sample_dir()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("CAPSCOPE_STORE", raising=False)
    if SAMPLE_DIR is not None:
        monkeypatch.setenv("CAPSCOPE_DATA", str(SAMPLE_DIR))
    else:
        monkeypatch.delenv("CAPSCOPE_DATA", raising=False)


def require_sample() -> Path:
    """Return the sample data directory, or skip (fail under CI) when it is absent."""
    if SAMPLE_DIR is None:
        msg = "sample data not found: set CAPSCOPE_DATA or place it in ../shared/data beside the checkout"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The shared sample data directory (skips, or fails under CI, when absent)."""
    return require_sample()


@pytest.fixture(scope="session")
def prices_panel(sample_dir: Path):  # type: ignore[no-untyped-def]
    """Panel of the index and ETF files in ``prices/`` (not ``alt/``)."""
    from capscope.data.panel import Panel
    from capscope.data.readers import read_many

    return Panel.from_bars(read_many(sorted((sample_dir / "prices").glob("*.csv"))))


@pytest.fixture(scope="session")
def stocks_panel(sample_dir: Path):  # type: ignore[no-untyped-def]
    """Panel of the ~700 small-cap stock files in ``stocks/``."""
    from capscope.data.panel import Panel
    from capscope.data.readers import read_many

    return Panel.from_bars(read_many(sorted((sample_dir / "stocks").glob("*.csv"))))
