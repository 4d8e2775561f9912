"""Loading a panel for a command: from the store when it holds the symbols, else from the data directory's files.

Shared by ``capscope patterns``, ``rotation`` and ``breadth`` so that every command resolves symbols, reports
missing ones (with close matches) and describes where its data came from the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from capscope.cli.common import err_console
from capscope.errors import UsageError

if TYPE_CHECKING:
    from capscope.data.panel import Panel


def bar_file_index(data_dir: Path) -> dict[str, Path]:
    """Symbol -> bar file for every bar file under ``data_dir`` (first one wins on a duplicate name)."""
    from capscope.data.readers import iter_bar_files, symbol_from_path

    index: dict[str, Path] = {}
    for path in iter_bar_files(data_dir):
        index.setdefault(symbol_from_path(path), path)
    return index


def _read_files(paths: list[Path]) -> Panel:
    import polars as pl
    from rich.progress import Progress

    from capscope.data.panel import Panel
    from capscope.data.readers import read_bars

    frames = []
    with Progress(console=err_console, transient=True, disable=len(paths) < 50) as progress:
        task = progress.add_task("reading bar files", total=len(paths))
        for path in paths:
            frames.append(read_bars(path))
            progress.advance(task)
    return Panel.from_bars(pl.concat(frames, how="vertical_relaxed").sort(["symbol", "date"]))


def load_panel(
    symbols: list[str] | None, *, data: Path | None, store: Path | None, subdir: str | None = None
) -> tuple[Panel, str]:
    """Load ``symbols`` (or every symbol under ``subdir`` of the data directory when ``None``).

    The store is used when ``--data`` is not given, the store file exists and it holds every symbol; otherwise
    the files of the data directory are read. Returns the panel and a description of where it came from.
    """
    from capscope.data.sources import resolve_data_dir, resolve_store_path

    data_dir = None
    if symbols is None:
        data_dir = resolve_data_dir(data).path
        root = data_dir / subdir if subdir else data_dir
        if not root.is_dir():
            raise UsageError(
                f"{root}: no such directory (the universe 'stocks' reads {subdir}/ of the data dir)"
            )
        symbols = sorted(bar_file_index(root))
        if not symbols:
            raise UsageError(f"no bar files under {root}")
    store_path = resolve_store_path(store)
    if data is None and store_path.exists():
        from capscope.store import Store

        with Store(store_path, read_only=True) as st:
            stored = set(st.symbols()["symbol"].to_list())
            if set(symbols) <= stored:
                return st.panel(symbols), f"store {store_path}"
        if store is not None:
            missing = sorted(set(symbols) - stored)
            raise UsageError(
                f"store {store_path} lacks {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}; "
                f"run `capscope ingest` or pass --data DIR"
            )
    data_dir = data_dir or resolve_data_dir(data).path
    index = bar_file_index(data_dir)
    missing = [s for s in symbols if s not in index]
    if missing:
        import difflib

        hints = {m: difflib.get_close_matches(m, list(index), n=3) for m in missing[:5]}
        hint = "; ".join(f"{m}: did you mean {', '.join(h)}?" for m, h in hints.items() if h)
        raise UsageError(
            f"no bar file for {', '.join(missing)} under {data_dir}" + (f" ({hint})" if hint else "")
        )
    return _read_files([index[s] for s in symbols]), f"files under {data_dir}"
