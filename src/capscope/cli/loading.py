"""Loading a panel for a command: from the store when it holds the symbols, else from the data directory's files.

Shared by ``capscope patterns``, ``rotation`` and ``breadth`` so that every command resolves symbols, reports
missing ones (with close matches) and describes where its data came from the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capscope.cli.common import err_console
from capscope.data.alternates import primary_symbols
from capscope.errors import UsageError

if TYPE_CHECKING:
    from capscope.data.panel import Panel


def bar_file_index(data_dir: Path) -> dict[str, Path]:
    """Name -> bar file for every bar file under ``data_dir`` (first one wins on a duplicate name).

    Alternate-source files (``SYMBOL__source``, :mod:`capscope.data.alternates`) are listed under their own name so
    they can be asked for explicitly; universes take :func:`~capscope.data.alternates.primary_symbols` of it.
    """
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

    The source is :func:`capscope.cli.source.resolve_source`'s: a named store (``--store``/``CAPSCOPE_STORE``)
    must hold every symbol; the unnamed default store is used when it holds them all, else the data files are
    read (and the returned description says so). Returns the panel and a description of where it came from.
    """
    from capscope.cli.choices import unknown_symbols
    from capscope.cli.source import files_instead, resolve_source

    source = resolve_source(data, store)
    if source.kind == "store":
        from capscope.store import Store

        with Store(source.path, read_only=True) as st:
            rows = st.symbol_rows()
            stored = {sym: src for sym, _, _, _, src in rows}
            if symbols is None:
                # each symbol once: alternate sources (SYMBOL__source) are not symbols of their own
                wanted = primary_symbols(
                    sorted(
                        s
                        for s, src in stored.items()
                        if subdir is None or (src and Path(str(src)).parent.name == subdir)
                    )
                )
            else:
                wanted = list(symbols)
            lacking = [s for s in wanted if s not in stored]
            if wanted and not lacking:
                return st.panel(wanted), source.label
        if source.named:
            if not wanted:
                where = f" from a {subdir}/ folder" if subdir else ""
                raise UsageError(
                    f"the store at {source.path} holds no symbols{where}; "
                    f"run capscope ingest --store {source.path} DIR"
                )
            raise unknown_symbols(lacking, stored, f"the store at {source.path}")
        source = files_instead(source)
    data_dir = source.path
    if symbols is None:
        root = data_dir / subdir if subdir else data_dir
        if not root.is_dir():
            raise UsageError(
                f"{root}: no such directory (the universe 'stocks' reads {subdir}/ of the data dir)"
            )
        symbols = primary_symbols(sorted(bar_file_index(root)))  # each symbol once, from its primary file
        if not symbols:
            raise UsageError(f"no bar files under {root}")
    index = bar_file_index(data_dir)
    missing = [s for s in symbols if s not in index]
    if missing:
        raise unknown_symbols(missing, index, f"the data files under {data_dir}")
    return _read_files([index[s] for s in symbols]), source.label


def load_panel_extended(
    symbols: list[str],
    *,
    data: Path | None,
    store: Path | None,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[Panel, str, dict[str, Any]]:
    """:func:`load_panel` of ``symbols`` with each one extended by its alternate sources (``SYMBOL__source``).

    The alternates are looked up where the symbols are read from (stored names in the store, file names in the
    data directory); :func:`capscope.analytics.sources.extend_panel` cross-checks and splices them. Returns the
    panel (``symbols`` only), the source label and symbol -> :class:`~capscope.analytics.sources.Extended`.
    """
    from capscope.analytics.sources import extend_panel
    from capscope.cli.source import files_instead, resolve_source
    from capscope.data.alternates import split_source

    source = resolve_source(data, store)
    names: list[str] = []
    if source.kind == "store":
        from capscope.store import Store

        with Store(source.path, read_only=True) as st:
            stored = st.symbols()["symbol"].to_list()
        if set(symbols) <= set(stored) or source.named:
            names = stored
        else:
            source = files_instead(source)
    if source.kind == "files":
        names = list(bar_file_index(source.path))
    wanted = set(symbols)
    alternates: dict[str, list[tuple[str, str]]] = {}
    for name in names:
        sym, src = split_source(name)
        if src is not None and sym in wanted:
            alternates.setdefault(sym, []).append((src, name))
    extra = [n for alts in alternates.values() for _, n in alts]
    panel, label = load_panel(
        list(symbols) + extra,
        data=source.path if source.kind == "files" else None,
        store=source.path if source.kind == "store" else None,
    )
    extended, records = extend_panel(panel, symbols, alternates, overrides=overrides)
    return extended, label, records
