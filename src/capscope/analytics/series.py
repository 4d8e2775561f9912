"""One symbol's bars as plain arrays, taken out of a panel on the dates where it has a close."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from capscope.data.panel import Panel


@dataclass
class Series1:
    """One symbol's bars on its own trading dates (NaN-free close)."""

    symbol: str
    dates: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    adj_close: np.ndarray

    @property
    def last(self) -> int:
        """Index of the last bar."""
        return len(self.dates) - 1

    def panel(self) -> Panel:
        """One-column panel (for the event functions)."""
        fields = {
            name: np.ascontiguousarray(getattr(self, name).reshape(-1, 1))
            for name in ("open", "high", "low", "close", "adj_close")
        }
        fields["volume"] = np.full((len(self.dates), 1), np.nan)
        return Panel(self.dates, (self.symbol,), fields)


def series_of(panel: Panel, symbol: str) -> Series1:
    """The bars of ``symbol`` on the dates where it has a close.

    Parameters
    ----------
    panel
        The panel holding ``symbol``.
    symbol
        Column to take.

    Returns
    -------
    Series1
        The symbol's bars; fields missing from the panel are all-NaN.
    """
    col = panel.column(symbol)
    close = panel.close[:, col]
    keep = np.isfinite(close)

    def get(name: str) -> np.ndarray:
        if name not in panel.fields:
            return np.full(int(keep.sum()), np.nan)
        return np.ascontiguousarray(panel[name][keep, col])

    return Series1(
        symbol, panel.dates[keep], get("open"), get("high"), get("low"), close[keep].copy(), get("adj_close")
    )
