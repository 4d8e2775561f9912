"""Where a reading command takes its bars from: the store the user named, or the data files.

Order (every reading command uses :func:`resolve_source`):

1. ``--data DIR``: the files of that directory.
2. ``--store FILE``, else ``$CAPSCOPE_STORE``: that store, which must exist and be sound. A named store is used
   or the command fails (exit 4, "no store at PATH; run capscope ingest --store PATH"); it is never created by a
   reading command and never silently replaced by the data files.
3. The default store in the user cache, when it exists.
4. The data directory (``$CAPSCOPE_DATA``, ``../shared/data`` beside the checkout, then a download).

Only in case 3 may a command read the files instead when the default store lacks a symbol; its title then says
"files under DIR", so the switch is never silent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from capscope.errors import UsageError


@dataclass(frozen=True)
class Source:
    """The resolved source of bars.

    Attributes
    ----------
    kind
        ``"store"`` or ``"files"``.
    path
        The store file or the data directory.
    named
        The user named this source (``--data``, ``--store`` or ``$CAPSCOPE_STORE``): no fallback allowed.
    """

    kind: Literal["store", "files"]
    path: Path
    named: bool

    @property
    def label(self) -> str:
        """How titles name the source: ``store PATH`` or ``files under DIR``."""
        return f"store {self.path}" if self.kind == "store" else f"files under {self.path}"


def resolve_source(data: Path | None, store: Path | None) -> Source:
    """Resolve where a reading command takes its bars from (module docstring for the order).

    Raises
    ------
    UsageError
        Both ``--data`` and ``--store`` given.
    StoreError
        The named store is missing, a directory, unreadable or damaged.
    """
    from capscope.data.sources import STORE_ENV, resolve_data_dir, resolve_store_path
    from capscope.store.health import check_path

    if data is not None and store is not None:
        raise UsageError("give --data DIR (read the files) or --store FILE (read the store), not both")
    if data is not None:
        return Source("files", resolve_data_dir(data).path, True)
    if store is not None or os.environ.get(STORE_ENV):
        path = resolve_store_path(store)
        check_path(path, read_only=True)
        return Source("store", path, True)
    default = resolve_store_path(None)
    if default.exists():
        return Source("store", default, False)
    return Source("files", resolve_data_dir(None).path, False)


def files_instead(source: Source) -> Source:
    """The data directory to read when the unnamed default store lacks what a command needs."""
    from capscope.data.sources import resolve_data_dir

    return Source("files", resolve_data_dir(None).path, False)
