"""Exception types of capscope, in one place.

Every error a user can cause derives from :class:`CapscopeError`; the CLI turns these into a one-paragraph
message and an exit code instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path


class CapscopeError(Exception):
    """Base class of every error capscope raises on purpose."""

    exit_code: int = 2


class DataError(CapscopeError):
    """Input data breaks the bar-table contract.

    Parameters
    ----------
    message
        What is wrong and what to do about it.
    path
        File the problem was found in, if any.
    line
        1-based line number in that file (the header is line 1), if known.
    column
        Column name, if the problem is in one column.
    """

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class SchemaError(DataError):
    """Columns are missing or of the wrong type."""


class StoreError(CapscopeError):
    """The DuckDB store cannot be opened, or an ingest conflicts with what it holds."""

    exit_code = 4


class DownloadError(CapscopeError):
    """An online download failed (network, HTTP status, or an unexpected response)."""

    exit_code = 5


class UsageError(CapscopeError):
    """The caller asked for something that cannot be done (unknown symbol, bad date, bad option)."""

    exit_code = 2
