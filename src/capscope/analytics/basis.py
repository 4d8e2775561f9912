"""Price basis of a series: does its return include dividends (total return) or not (price return)?

A bar file cannot say whether its OHLC columns were dividend-adjusted by the vendor (Yahoo's
``history(auto_adjust=True)`` output looks exactly like raw bars), so the basis is *declared*: this module holds the
declarations, the analysis code only consumes a resolved :class:`SeriesBasis`.

Resolution order for one symbol (:func:`resolve_basis`):

1. an explicit override passed by the caller (``overrides={"IWM": CloseKind.RAW}`` or a full :class:`SeriesBasis`);
2. the declared :class:`CloseKind` of the symbol in :data:`DEFAULT_CLOSE_KINDS` (looked up by the exact symbol,
   then by its base before ``"__"``, so ``IWO__dsturdy_close_only`` finds ``IWO``), and
3. the data itself: a non-empty ``adj_close`` column.

The outcome:

* ``CloseKind.PRICE_INDEX``: the ``close`` of a price index (no dividends by construction) -> ``price_return``.
  An ``adj_close`` equal to ``close`` (as Yahoo publishes for indices) does not make it a total-return series.
* otherwise, if the symbol has ``adj_close`` values: ``adj_close`` -> ``total_return``.
* ``CloseKind.ADJUSTED``: ``close`` of dividend-adjusted OHLC -> ``total_return``.
* ``CloseKind.RAW`` or undeclared: ``close`` -> ``price_return`` (an undeclared symbol is assumed raw, and the
  :class:`SeriesBasis` says so in its ``source``).

The defaults describe the sample data shipped with the project (see ``shared/data/SOURCES.md``); they are
configuration, not analysis logic, and every public function taking a basis accepts overrides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum

import numpy as np


class CloseKind(StrEnum):
    """How the ``close`` column of a symbol's bars was produced."""

    RAW = "raw"
    """Traded prices, not adjusted for dividends."""
    ADJUSTED = "adjusted"
    """Vendor-adjusted OHLC: dividends (and splits) folded into past prices."""
    PRICE_INDEX = "price_index"
    """Level of a price index: no dividends by construction."""


class PriceBasis(StrEnum):
    """What a return computed from the series measures."""

    TOTAL_RETURN = "total_return"
    PRICE_RETURN = "price_return"


@dataclass(frozen=True)
class SeriesBasis:
    """The resolved basis of one symbol.

    Attributes
    ----------
    symbol
        The symbol.
    field
        Panel field the analysis reads (``close`` or ``adj_close``).
    basis
        ``total_return`` or ``price_return``.
    source
        Why: ``override``, ``declared``, ``adj_close column`` or ``assumed raw (undeclared)``.
    """

    symbol: str
    field: str
    basis: PriceBasis
    source: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready dict."""
        out = asdict(self)
        out["basis"] = str(self.basis)
        return out


#: Declared close kinds of the sample symbols (SOURCES.md): indices are price indices; IWM/SPY/QQQ/DIA are raw
#: traded prices; the iShares style/size and Vanguard Russell files are dividend-adjusted OHLC.
DEFAULT_CLOSE_KINDS: Mapping[str, CloseKind] = {
    "RUT": CloseKind.PRICE_INDEX,
    "GSPC": CloseKind.PRICE_INDEX,
    "NDX": CloseKind.PRICE_INDEX,
    "IWM": CloseKind.RAW,
    "SPY": CloseKind.RAW,
    "QQQ": CloseKind.RAW,
    "DIA": CloseKind.RAW,
    "IWO": CloseKind.ADJUSTED,
    "IWN": CloseKind.ADJUSTED,
    "IWB": CloseKind.ADJUSTED,
    "IWF": CloseKind.ADJUSTED,
    "IWD": CloseKind.ADJUSTED,
    "VTWO": CloseKind.ADJUSTED,
    "VTWG": CloseKind.ADJUSTED,
    "VTWV": CloseKind.ADJUSTED,
}

Override = CloseKind | SeriesBasis


def base_symbol(symbol: str) -> str:
    """Symbol without an alternate-source suffix (``IWM__deep-raj17`` -> ``IWM``)."""
    return symbol.split("__", 1)[0]


def declared_kind(
    symbol: str, declarations: Mapping[str, CloseKind] = DEFAULT_CLOSE_KINDS
) -> CloseKind | None:
    """Declared :class:`CloseKind` of ``symbol`` (exact symbol first, then its base), or ``None``."""
    if symbol in declarations:
        return declarations[symbol]
    return declarations.get(base_symbol(symbol))


def resolve_basis(
    symbol: str,
    adj_close: np.ndarray | None,
    *,
    overrides: Mapping[str, Override] | None = None,
    declarations: Mapping[str, CloseKind] = DEFAULT_CLOSE_KINDS,
) -> SeriesBasis:
    """Resolve the basis of one symbol (see the module docstring for the order).

    Parameters
    ----------
    symbol
        The symbol.
    adj_close
        The symbol's ``adj_close`` values (NaN where absent), or ``None`` when the data has no such field.
    overrides
        Caller's declarations; a :class:`CloseKind` or a complete :class:`SeriesBasis` per symbol.
    declarations
        Default declarations (:data:`DEFAULT_CLOSE_KINDS`).

    Returns
    -------
    SeriesBasis
    """
    has_adj = adj_close is not None and bool(np.any(np.isfinite(adj_close)))
    source = "declared"
    kind: CloseKind | None
    if overrides is not None and symbol in overrides:
        given = overrides[symbol]
        if isinstance(given, SeriesBasis):
            return given
        kind = CloseKind(given)
        source = "override"
    else:
        kind = declared_kind(symbol, declarations)
    if kind is CloseKind.PRICE_INDEX:
        return SeriesBasis(symbol, "close", PriceBasis.PRICE_RETURN, f"{source}: price index")
    if kind is CloseKind.RAW and source == "override":
        return SeriesBasis(symbol, "close", PriceBasis.PRICE_RETURN, "override: raw close")
    if has_adj:
        return SeriesBasis(symbol, "adj_close", PriceBasis.TOTAL_RETURN, "adj_close column")
    if kind is CloseKind.ADJUSTED:
        return SeriesBasis(symbol, "close", PriceBasis.TOTAL_RETURN, f"{source}: dividend-adjusted OHLC")
    if kind is CloseKind.RAW:
        return SeriesBasis(symbol, "close", PriceBasis.PRICE_RETURN, f"{source}: raw close")
    return SeriesBasis(
        symbol, "close", PriceBasis.PRICE_RETURN, "assumed raw close (undeclared, no adj_close)"
    )


def parse_overrides(specs: list[str] | str | None) -> dict[str, CloseKind]:
    """Parse ``SYMBOL=raw|adjusted|price_index`` items (a list, or one comma-separated string).

    Raises
    ------
    UsageError
        On a malformed item or an unknown kind.
    """
    from capscope.errors import UsageError

    if not specs:
        return {}
    items = specs.split(",") if isinstance(specs, str) else [p for s in specs for p in s.split(",")]
    out: dict[str, CloseKind] = {}
    choices = ", ".join(k.value for k in CloseKind)
    for item in items:
        item = item.strip()
        if not item:
            continue
        symbol, sep, kind = item.partition("=")
        if not sep or not symbol.strip():
            raise UsageError(f"--basis {item!r}: expected SYMBOL=KIND with KIND one of {choices}")
        try:
            out[symbol.strip()] = CloseKind(kind.strip().lower())
        except ValueError:
            raise UsageError(f"--basis {item!r}: unknown kind {kind!r}; choose one of {choices}") from None
    return out
