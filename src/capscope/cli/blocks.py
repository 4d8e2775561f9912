"""Where a market-wide command reads its blocks: a Parquet dataset (``--data DIR``), the store, or files.

Used by ``scan``, ``patterns`` and ``breadth`` (:mod:`capscope.scale`). A ``--data`` folder holding a capscope
Parquet dataset (``_capscope.json``) is read block by block from its bucket files; otherwise the source is
:func:`capscope.cli.source.resolve_source`'s: its store, read block by block, when it holds every requested
symbol; anything else (the data files, or a named store that lacks symbols, whose error the command's usual
loader raises) goes through the command's own loading and is then cut into blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capscope.errors import UsageError

if TYPE_CHECKING:
    from capscope.data.panel import Panel
    from capscope.scale.blocks import BlockSource


def dataset_source(data: Path | None, symbols: list[str] | None) -> BlockSource | None:
    """A :class:`~capscope.scale.blocks.ParquetSource` when ``--data`` is a Parquet dataset, else ``None``.

    Raises
    ------
    UsageError
        A requested symbol is not in the dataset (with close matches).
    """
    from capscope.scale.dataset import is_dataset

    if data is None or not is_dataset(data):
        return None
    from capscope.cli.choices import unknown_symbols
    from capscope.scale.blocks import ParquetSource

    source = ParquetSource(data)
    missing = [s for s in symbols or [] if s not in source.dataset.info]
    if missing:
        raise unknown_symbols(missing, source.dataset.info, f"the Parquet dataset {data}")
    return source


def block_source(
    symbols: list[str] | None,
    *,
    data: Path | None,
    store: Path | None,
    load: Callable[[], tuple[Panel, str]],
    subdir: str | None = None,
) -> tuple[BlockSource, list[str]]:
    """The source of a market-wide command and its symbols (``None``: every symbol, or those of ``subdir``).

    A Parquet dataset given as ``--data``; else :func:`capscope.cli.source.resolve_source`'s store when it holds
    every symbol (``subdir``: the stored symbols whose source file lies in a folder of that name, as
    :func:`capscope.cli.loading.load_panel` selects them); anything else goes through ``load()`` (the command's
    usual loading, which also raises its errors for a named store that lacks symbols).
    """
    from capscope.scale.blocks import PanelSource, StoreSource

    dataset = dataset_source(data, symbols)
    if dataset is not None:
        if subdir is not None:
            raise UsageError(
                f"the universe '{subdir}' reads the {subdir}/ folder of a data directory; with a Parquet "
                "dataset use --universe all or --universe FILE"
            )
        if symbols is not None:
            return dataset, list(symbols)
        from capscope.data.alternates import primary_symbols

        # each symbol once, as from the store: alternate sources (SYMBOL__source) are not symbols of their own
        return dataset, primary_symbols(sorted(dataset.first_dates()))
    from capscope.cli.source import resolve_source

    source = resolve_source(data, store)
    if source.kind == "store":
        from capscope.store import Store

        with Store(source.path, read_only=True) as st:
            stored = {sym: src for sym, _, _, _, src in st.symbol_rows()}
        if symbols is None:
            from capscope.data.alternates import primary_symbols

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
        if wanted and all(s in stored for s in wanted):
            return StoreSource(source.path), wanted
    panel, description = load()
    return PanelSource(panel, description), list(panel.symbols)


EngineOption = Annotated[
    str,
    typer.Option(
        "--engine",
        help="local (blocks of symbols one after another) or dask (blocks as Dask tasks over a Parquet dataset "
        "given with --data; see capscope export parquet).",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default with --engine dask: a local cluster "
        "of 2 worker processes).",
    ),
]
