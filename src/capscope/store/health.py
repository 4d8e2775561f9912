"""What is wrong with a store path, in words a user can act on.

Three kinds of problem get three kinds of message, all :class:`~capscope.errors.StoreError` (exit code 4):

* **missing** (or a directory given where a file is expected): say what was found and how to create the store;
* **permission**: say it is a permission problem and which permission is missing; never call it damage;
* **damage** (checksum mismatch, short read, not a DuckDB file, missing tables, wrong schema version): "the store
  at PATH is damaged: ...; rebuild it with capscope ingest --store NEW_PATH". The damaged file is never deleted or
  modified, and no message advises deleting it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from capscope.errors import StoreError

#: DuckDB error texts that mean the file's bytes are not a sound database (DuckDB 1.x/2.x wording).
_DAMAGE_MARKERS = (
    "corrupt",
    "checksum",
    "could not read enough bytes",
    "not a valid duckdb database",
    "invalid database",
    "serializ",
    "failed to read",
)


def damaged(path: Path, reason: str) -> StoreError:
    """The error for a damaged store (never advises deleting it)."""
    return StoreError(
        f"the store at {path} is damaged: {reason}; rebuild it with capscope ingest --store NEW_PATH"
    )


def missing(path: Path) -> StoreError:
    """The error for a store file that does not exist."""
    return StoreError(f"no store at {path}; run capscope ingest --store {path}")


def _permission(path: Path, what: str) -> StoreError:
    return StoreError(
        f"permission problem: {what} ({path}); change the permissions (chmod/chown) or pass another --store"
    )


def check_path(path: Path, *, read_only: bool) -> None:
    """Fail early, with the right message, when ``path`` cannot be a store to read (or to write).

    Raises
    ------
    StoreError
        ``path`` is a directory; missing (readers only); not readable; not writable (writers only).
    """
    if path.is_dir():
        raise StoreError(
            f"the store path {path} is a directory, not a store file; pass --store FILE "
            f"(e.g. --store {path / 'capscope.duckdb'})"
        )
    if not path.exists():
        if read_only:
            raise missing(path)
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
            raise _permission(path, f"cannot create files in the directory {parent}")
        return
    if not os.access(path, os.R_OK):
        raise _permission(path, "the store file is not readable")
    if not read_only:
        if not os.access(path, os.W_OK):
            raise _permission(path, "the store file is read-only and ingest must write to it")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise _permission(
                path, f"the directory {path.parent} is read-only (ingest writes a .wal file beside the store)"
            )


def _classify(text: str) -> str:
    low = text.lower()
    if "permission denied" in low or "read-only file system" in low:
        return "permission"
    if any(marker in low for marker in _DAMAGE_MARKERS):
        return "damage"
    if re.search(r"\block\b|conflicting lock|could not set lock", low):
        return "lock"
    return "other"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _duckdb_error(path: Path, exc: BaseException, action: str) -> StoreError:
    """The error for a DuckDB failure while ``action``-ing ``path`` (open or read), classified by its message."""
    kind, reason = _classify(str(exc)), _first_line(exc)
    if kind == "permission":
        return _permission(path, reason)
    if kind == "lock":
        return StoreError(
            f"the store at {path} is in use by another process ({reason}); wait for it to finish"
        )
    if kind == "damage":
        return damaged(path, reason)
    return StoreError(f"cannot {action} the store at {path}: {reason}")


def open_error(path: Path, exc: BaseException) -> StoreError:
    """The error for a DuckDB failure while opening ``path``."""
    return _duckdb_error(path, exc, "open")


def read_error(path: Path, exc: BaseException) -> StoreError:
    """The error for a DuckDB failure while reading an open store (damage unless it says otherwise)."""
    return _duckdb_error(path, exc, "read")
