"""Indicator engine: TA-Lib-exact kernels over whole panels, and one-bar incremental updates."""
