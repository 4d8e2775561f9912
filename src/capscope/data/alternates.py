"""One symbol, many sources: the ``SYMBOL__source`` file-name convention.

A bar file named ``SYMBOL.csv`` (or ``.parquet``) is the **primary source** of ``SYMBOL``. A file named
``SYMBOL__SOURCE.csv`` holds the same series from another source (``RUT__alitalbi.csv``,
``IWO__dsturdy_close_only.csv``): it is an **alternate source** of ``SYMBOL``, never a symbol of its own. The
separator is a double underscore; ``SOURCE`` is any non-empty text after the first ``__`` (a symbol itself never
contains ``__``). Alternate files may sit anywhere under the data directory (the sample keeps them in
``prices/alt/``).

Consequences (docs: README "Several sources of one symbol"):

* universes (``--universe all``, ``stocks``), breadth and ``scan --universe all`` count each symbol once, from
  its primary file; a symbol that has only alternate files is not in a universe (there is no primary to count);
* alternates are cross-checked and may extend the primary (:mod:`capscope.analytics.sources`,
  ``capscope sources``);
* in the store an alternate is kept under its file name (``RUT__alitalbi``), so the ``bars`` table and its readers
  are unchanged; listings of a store's symbols for a universe drop such names (:func:`primary_symbols`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

#: Separator between a symbol and its source name in a file name.
SOURCE_SEPARATOR = "__"


def split_source(name: str) -> tuple[str, str | None]:
    """Split a file stem or stored symbol into ``(symbol, source)``.

    Parameters
    ----------
    name
        ``RUT`` or ``RUT__alitalbi``.

    Returns
    -------
    (str, str or None)
        ``("RUT", None)`` for a primary name, ``("RUT", "alitalbi")`` for an alternate one. A name that starts
        with the separator or ends with it is treated as a primary name (nothing to split).
    """
    symbol, sep, source = name.partition(SOURCE_SEPARATOR)
    if not sep or not symbol or not source:
        return name, None
    return symbol, source


def is_alternate(name: str) -> bool:
    """True when ``name`` (file stem or stored symbol) names an alternate source (``SYMBOL__source``)."""
    return split_source(name)[1] is not None


def primary_symbols(names: Iterable[str]) -> list[str]:
    """The names that are symbols of their own (alternate-source names dropped), order kept.

    Parameters
    ----------
    names
        File stems or stored symbols.

    Returns
    -------
    list of str
    """
    return [n for n in names if not is_alternate(n)]


@dataclass
class SymbolFiles:
    """The files of one symbol: its primary file (if any) and its alternates by source name."""

    symbol: str
    primary: Path | None = None
    alternates: dict[str, Path] = field(default_factory=dict)


def index_sources(paths: Iterable[Path]) -> dict[str, SymbolFiles]:
    """Group bar files by symbol under the ``SYMBOL__source`` convention.

    Parameters
    ----------
    paths
        Bar files (as :func:`capscope.data.readers.iter_bar_files` yields them, sorted).

    Returns
    -------
    dict
        Symbol -> :class:`SymbolFiles`; the first file wins when two share a name.
    """
    from capscope.data.readers import symbol_from_path

    out: dict[str, SymbolFiles] = {}
    for path in paths:
        symbol, source = split_source(symbol_from_path(path))
        entry = out.setdefault(symbol, SymbolFiles(symbol))
        if source is None:
            if entry.primary is None:
                entry.primary = path
        else:
            entry.alternates.setdefault(source, path)
    return out
