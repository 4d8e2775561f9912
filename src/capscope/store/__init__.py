"""Embedded DuckDB store: transactional ingest, queries, panel loading."""
