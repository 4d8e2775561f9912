"""Data layer: read daily bars from files or online sources and validate them to the bar-table contract."""
