"""Signals as typed event records: crosses, zero-line qualification, levels, breakouts."""
