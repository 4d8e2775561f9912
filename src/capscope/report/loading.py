"""Load what a brief needs: the index/ETF panel, the breadth universe and their provenance.

Sources, in order: the DuckDB store (:class:`capscope.store.Store`, filled by ``capscope ingest``) when it
exists and holds the brief's symbol, else the data directory read directly (``prices/SYMBOL.csv`` for the
named symbols, ``stocks/*.csv`` for the breadth universe). ``--data`` forces the files, ``--store`` the store.
Only bars dated on or before ``as_of`` are loaded when it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from capscope.data.panel import Panel, to_datetime64
from capscope.errors import UsageError
from capscope.report.context import BriefInputs

#: Folder (under the data directory, or the parent folder of a stored file) holding the breadth universe.
UNIVERSE_DIR = "stocks"
PRICES_DIR = "prices"


def _iso(day: Any) -> str:
    return str(np.datetime64(day, "D"))


def _truncate(panel: Panel, as_of: str | None) -> Panel:
    return panel.truncate(to_datetime64(as_of)) if as_of is not None else panel


def _provenance_of(panel: Panel, sources: dict[str, str]) -> dict[str, dict[str, Any]]:
    out = {}
    for j, sym in enumerate(panel.symbols):
        rows = np.flatnonzero(np.isfinite(panel.close[:, j]))
        if len(rows) == 0:
            continue
        out[sym] = {
            "first_date": _iso(panel.dates[rows[0]]),
            "last_date": _iso(panel.dates[rows[-1]]),
            "rows": len(rows),
            "source": sources.get(sym, ""),
        }
    return out


def read_universe(folder: Path) -> Panel | None:
    """Read every ``*.csv`` bar file of ``folder`` in one polars scan (symbol = file name)."""
    import polars as pl

    from capscope.data.alternates import is_alternate
    from capscope.data.schema import BAR_COLUMNS

    # each symbol once: SYMBOL__source files are alternate sources, not symbols (capscope.data.alternates)
    files = sorted(f for f in folder.glob("*.csv") if not is_alternate(f.stem))
    if not files:
        return None
    num = {c: pl.Float64 for c in BAR_COLUMNS[2:]}
    frame = (
        pl.scan_csv(
            [str(f) for f in files], schema_overrides={"date": pl.String, **num}, include_file_paths="path"
        )
        .select(
            pl.col("path").str.extract(r"([^/\\]+)\.csv$", 1).alias("symbol"),
            pl.col("date").str.to_date("%Y-%m-%d"),
            *[pl.col(c) for c in BAR_COLUMNS[2:]],
        )
        .collect()
    )
    return Panel.from_bars(frame)


def load_from_files(
    data_dir: Path, symbols: Sequence[str], as_of: str | None = None, *, universe: bool = True
) -> BriefInputs:
    """Read ``prices/<symbol>.csv`` for ``symbols`` and the ``stocks/`` universe from a data directory."""
    from capscope.data.readers import read_many

    prices_dir = data_dir / PRICES_DIR
    paths, sources = [], {}
    for sym in dict.fromkeys(symbols):
        path = prices_dir / f"{sym}.csv"
        if path.is_file():
            paths.append(path)
            sources[sym] = str(path)
    if not paths:
        raise UsageError(f"none of {', '.join(symbols)} found under {prices_dir}; pass --data DIR")
    full = Panel.from_bars(read_many(paths))
    provenance = _provenance_of(full, sources)  # the files' own ranges, before the as-of cut
    prices = _truncate(full, as_of)
    uni = read_universe(data_dir / UNIVERSE_DIR) if universe and (data_dir / UNIVERSE_DIR).is_dir() else None
    if uni is not None:
        uni = _truncate(uni, as_of).drop_empty_dates()
    return BriefInputs(prices, uni, UNIVERSE_DIR, provenance, f"files in {data_dir}")


def load_from_store(
    path: Path, symbols: Sequence[str], as_of: str | None = None, *, universe: bool = True
) -> BriefInputs:
    """Read ``symbols`` and the universe (symbols whose source file sits in a ``stocks`` folder) from a store."""
    from capscope.store import Store

    with Store(path, read_only=True) as store:
        table = store.symbol_rows()  # plain tuples: the brief never needs polars
        stored = {sym: source for sym, _, _, _, source in table}
        provenance = {
            sym: {
                "first_date": _iso(first),
                "last_date": _iso(last),
                "rows": int(rows),
                "source": str(source),
            }
            for sym, first, last, rows, source in table
            if sym in symbols
        }
        wanted = [s for s in dict.fromkeys(symbols) if s in stored]
        if not wanted:
            raise UsageError(
                f"none of {', '.join(symbols)} is in the store {path}; run `capscope ingest` first"
            )
        prices = store.panel(wanted, end=as_of)
        from capscope.data.alternates import is_alternate

        uni_syms = [
            s
            for s, src in stored.items()
            if src and Path(str(src)).parent.name == UNIVERSE_DIR and not is_alternate(s)
        ]
        uni = store.panel(uni_syms, end=as_of).drop_empty_dates() if uni_syms and universe else None
    return BriefInputs(prices, uni, UNIVERSE_DIR, provenance, f"store {path}")


def load_inputs(
    symbols: Sequence[str],
    *,
    data: str | Path | None = None,
    store: str | Path | None = None,
    as_of: str | None = None,
    universe: bool = True,
) -> BriefInputs:
    """Load a brief's inputs (module docstring for the order of sources).

    Parameters
    ----------
    symbols
        Index/ETF symbols needed (the brief's symbol first).
    data
        Data directory (forces reading files).
    store
        Store file (forces the store).
    as_of
        Last date loaded.
    universe
        Also load the breadth universe.
    """
    from capscope.data.sources import resolve_data_dir, resolve_store_path

    if data is None:
        store_path = resolve_store_path(store)
        if store is not None or store_path.exists():
            if not store_path.exists():
                raise UsageError(f"no store at {store_path}: run `capscope ingest` first")
            return load_from_store(store_path, symbols, as_of, universe=universe)
    return load_from_files(resolve_data_dir(data).path, symbols, as_of, universe=universe)
