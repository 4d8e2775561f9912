"""Embedded DuckDB store: transactional ingest, queries, panel loading.

>>> from capscope.store import Store
>>> with Store() as store:  # doctest: +SKIP
...     store.ingest("../shared/data")
...     close = store.panel(["RUT", "GSPC"]).close
"""

from capscope.store.ingest import Conflict, FileResult, IngestConflictError, IngestReport
from capscope.store.store import Store

__all__ = ["Conflict", "FileResult", "IngestConflictError", "IngestReport", "Store"]
