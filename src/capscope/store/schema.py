"""Tables of the DuckDB store and its schema version.

Layout
------
``meta``
    ``key``/``value`` pairs; ``schema_version`` is checked on every open.
``symbols``
    ``symbol_id`` (INTEGER) <-> ``symbol`` (VARCHAR). Bars reference the integer id so that panel loading moves
    only numbers (no string column is fetched or hashed per bar).
``bars``
    One row per ``(symbol_id, date)`` with the bar-table price fields (DESIGN.md, "Bar table"). ``open``,
    ``high``, ``low``, ``adj_close`` and ``volume`` may be NULL (close-only files); ``close`` may not.
``ingests``
    One row per ingest that changed the store: start/finish time, files, rows read and rows added.
``ingest_files``
    One row per (ingest, file, symbol): source path, sha256 of the file's bytes, rows read, rows added.
    A file whose (sha256, file name) is already recorded is skipped by later ingests (idempotence).
``watch_groups``, ``watch_alerts``, ``watch_sinks`` (schema version 2, used by :mod:`capscope.watch`)
    The saved indicator states of ``capscope watch``, the alerts it found (its outbox) and, per delivery sink,
    the last alert delivered. Added in version 2; a version-1 store is migrated on its first writable open.
"""

from __future__ import annotations

from typing import Final

#: Version of the table layout below; bump it when the layout changes.
SCHEMA_VERSION: Final[int] = 2

#: Statements creating an empty store (idempotent).
DDL: Final[tuple[str, ...]] = (
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    "CREATE TABLE IF NOT EXISTS symbols (symbol_id INTEGER PRIMARY KEY, symbol VARCHAR NOT NULL UNIQUE)",
    """CREATE TABLE IF NOT EXISTS bars (
        symbol_id INTEGER NOT NULL,
        date DATE NOT NULL,
        open DOUBLE,
        high DOUBLE,
        low DOUBLE,
        close DOUBLE NOT NULL,
        adj_close DOUBLE,
        volume DOUBLE
    )""",
    """CREATE TABLE IF NOT EXISTS ingests (
        ingest_id INTEGER PRIMARY KEY,
        started TIMESTAMP NOT NULL,
        finished TIMESTAMP NOT NULL,
        files INTEGER NOT NULL,
        rows_read BIGINT NOT NULL,
        rows_new BIGINT NOT NULL,
        capscope_version VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS ingest_files (
        ingest_id INTEGER NOT NULL,
        path VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        symbol VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL,
        rows_new BIGINT NOT NULL
    )""",
)

#: Tables of ``capscope watch`` (version 2): saved states per symbol group (an ``.npz`` blob), the alerts found
#: (the outbox; ``seq`` is the delivery order) and per sink the last ``seq`` delivered.
WATCH_DDL: Final[tuple[str, ...]] = (
    """CREATE TABLE IF NOT EXISTS watch_groups (
        group_id INTEGER PRIMARY KEY,
        symbols VARCHAR NOT NULL,
        state BLOB NOT NULL,
        updated TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS watch_alerts (
        seq BIGINT PRIMARY KEY,
        alert_id VARCHAR NOT NULL UNIQUE,
        symbol VARCHAR NOT NULL,
        date DATE NOT NULL,
        kind VARCHAR NOT NULL,
        payload VARCHAR NOT NULL,
        detected_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS watch_sinks (
        sink VARCHAR PRIMARY KEY,
        delivered_through BIGINT NOT NULL,
        added TIMESTAMP NOT NULL
    )""",
)

#: Statements that bring a store of the key's version to the next version (additive only).
MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {1: WATCH_DDL}

#: Value columns of ``bars`` in bar-table order.
VALUE_COLUMNS: Final[tuple[str, ...]] = ("open", "high", "low", "close", "adj_close", "volume")

#: Columns of every table, in order (checked on every open: a store with other columns is damaged).
TABLE_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "meta": ("key", "value"),
    "symbols": ("symbol_id", "symbol"),
    "bars": ("symbol_id", "date", *VALUE_COLUMNS),
    "ingests": ("ingest_id", "started", "finished", "files", "rows_read", "rows_new", "capscope_version"),
    "ingest_files": ("ingest_id", "path", "file_name", "sha256", "symbol", "rows_read", "rows_new"),
}
