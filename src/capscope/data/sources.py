"""Where data and the store live.

Data directory resolution (DESIGN.md, "Data"): the ``--data`` option, then the ``CAPSCOPE_DATA`` environment
variable, then ``../shared/data`` beside the checkout if it exists, then an online download into the user's
cache (:mod:`capscope.data.download`). Store location: ``--store``, then ``CAPSCOPE_STORE``, then
``<user cache>/capscope/capscope.duckdb``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from capscope.errors import UsageError

#: Environment variable naming the data directory.
DATA_ENV = "CAPSCOPE_DATA"
#: Environment variable naming the DuckDB store file.
STORE_ENV = "CAPSCOPE_STORE"


@dataclass(frozen=True)
class DataDir:
    """A resolved data directory and how it was found (``option``, ``env``, ``checkout``, ``download``)."""

    path: Path
    how: str


def checkout_root() -> Path:
    """Return the root of the source checkout this package runs from (``src/capscope/..``)."""
    return Path(__file__).resolve().parents[3]


def shared_data_beside_checkout() -> Path:
    """Return ``../shared/data`` relative to the checkout root (it may not exist)."""
    return checkout_root().parent / "shared" / "data"


def user_cache_dir() -> Path:
    """Return capscope's directory in the user cache (``$XDG_CACHE_HOME/capscope`` or the platform's)."""
    from platformdirs import user_cache_dir as _ucd

    return Path(_ucd("capscope", appauthor=False))


def resolve_data_dir(option: str | Path | None = None, *, allow_download: bool = True) -> DataDir:
    """Resolve the data directory.

    Parameters
    ----------
    option
        The ``--data`` option; wins when given.
    allow_download
        When nothing local is found, download the default symbols into the user cache.

    Returns
    -------
    DataDir
        The directory and how it was found.

    Raises
    ------
    UsageError
        When ``option`` or ``CAPSCOPE_DATA`` names a directory that does not exist, or nothing is found and
        downloading is not allowed.
    """
    if option is not None:
        path = Path(option).expanduser()
        if not path.exists():
            raise UsageError(f"--data {path}: no such file or directory")
        return DataDir(path, "option")
    env = os.environ.get(DATA_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.exists():
            raise UsageError(f"{DATA_ENV}={env}: no such directory; unset it or point it at a data directory")
        return DataDir(path, "env")
    beside = shared_data_beside_checkout()
    if beside.is_dir():
        return DataDir(beside, "checkout")
    if not allow_download:
        raise UsageError(
            "no data directory: pass --data DIR, set CAPSCOPE_DATA, or allow the online download"
        )
    from capscope.data.download import ensure_downloaded  # optional path, imported only when needed

    return DataDir(ensure_downloaded(user_cache_dir() / "data"), "download")


def resolve_store_path(option: str | Path | None = None) -> Path:
    """Resolve the DuckDB store file: ``--store``, then ``CAPSCOPE_STORE``, then the user cache."""
    if option is not None:
        return Path(option).expanduser()
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env).expanduser()
    return user_cache_dir() / "capscope.duckdb"
