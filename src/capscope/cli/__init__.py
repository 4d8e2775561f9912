"""The ``capscope`` command line (typer + rich). It orchestrates; it never computes."""
