"""``capscope doctor``: where data and store are, what they hold, and the versions in use."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from capscope.cli.common import DataOption, StoreOption, console

#: Packages whose versions ``doctor`` reports.
PACKAGES = (
    "numpy",
    "pandas",
    "polars",
    "pyarrow",
    "duckdb",
    "numba",
    "scipy",
    "typer",
    "rich",
    "plotly",
    "ta-lib",
)

_HOW = {
    "option": "--data option",
    "env": "CAPSCOPE_DATA environment variable",
    "checkout": "../shared/data beside the checkout",
    "download": "online download into the user cache",
}


def _size(path: Path) -> str:
    size = float(path.stat().st_size)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return ""  # pragma: no cover


def numba_cache_dir() -> str:
    """Where numba writes its on-disk cache (``NUMBA_CACHE_DIR``, else ``__pycache__`` beside each module)."""
    env = os.environ.get("NUMBA_CACHE_DIR")
    return env if env else "__pycache__ beside each module (NUMBA_CACHE_DIR not set)"


def doctor(data: DataOption = None, store: StoreOption = None) -> None:
    """Check the setup: data directory (and how it was found), store, package versions, numba cache, chromium.

    Never downloads anything and never writes to the store.

    Example: capscope doctor --store /tmp/bars.duckdb
    """
    from importlib.metadata import PackageNotFoundError, version

    from rich.markup import escape
    from rich.table import Table

    from capscope import __version__
    from capscope.cli.tables import plural
    from capscope.data.sources import resolve_data_dir, resolve_store_path
    from capscope.errors import CapscopeError, StoreError

    table = Table(show_header=False, title=f"capscope {__version__}", title_justify="left")
    table.add_column("item", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("python", f"{sys.version.split()[0]} ({sys.executable})")
    try:
        found = resolve_data_dir(data, allow_download=False)
        n_files = sum(1 for p in found.path.rglob("*") if p.suffix.lower() in (".csv", ".parquet"))
        table.add_row(
            "data dir", f"{found.path} (from the {_HOW.get(found.how, found.how)}; {n_files:,} bar files)"
        )
    except CapscopeError as exc:
        table.add_row("data dir", f"[red]not found[/]: {exc}")

    store_path = resolve_store_path(store)
    how = (
        "--store option"
        if store
        else ("CAPSCOPE_STORE" if os.environ.get("CAPSCOPE_STORE") else "user cache")
    )
    table.add_row("store", f"{store_path} (from the {how})")
    failure: CapscopeError | None = None
    if store_path.exists():
        from capscope.store import Store
        from capscope.store.health import damaged

        try:
            with Store(store_path, read_only=True) as st:
                counts = st.counts()
                log = st.ingests()
                problems = st.check_integrity()
            last = f"; last ingest {log['finished'][-1]:%Y-%m-%d %H:%M:%S}" if log.height else ""
            table.add_row(
                "store content",
                f"{_size(store_path)}; {plural(counts['symbols'], 'symbol')}, {plural(counts['bars'], 'bar')}, "
                f"{plural(counts['ingests'], 'ingest')}{last}",
            )
            if problems:
                failure = damaged(store_path, "; ".join(problems[:5]))
                table.add_row("store integrity", f"[red]damaged[/]: {escape('; '.join(problems[:5]))}")
            else:
                table.add_row(
                    "store integrity",
                    "ok: every table read in full (block checksums verified), per-symbol rows agree with the "
                    "ingest log",
                )
        except CapscopeError as exc:
            failure = exc
            table.add_row("store content", f"[red]cannot use it[/]: {escape(str(exc))}")
    elif store_path.is_dir():
        failure = StoreError(f"the store path {store_path} is a directory, not a store file")
        table.add_row("store content", f"[red]{escape(str(failure))}[/]")
    else:
        table.add_row("store content", "[yellow]no store yet[/]: run `capscope ingest`")

    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            versions.append(f"{name} [yellow]missing[/]")
    table.add_row("packages", ", ".join(versions))
    table.add_row("numba cache", numba_cache_dir())
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    table.add_row("chromium", chromium or "[yellow]not found[/] (browser tests need it: `make chromium`)")
    console.print(table)
    if failure is not None:
        raise failure
