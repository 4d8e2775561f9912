"""What an event study studies: signal specifications ``KIND[:FILTER]``, their events and their regimes.

A signal is an event kind of :mod:`capscope.events` (``golden_cross``, ``macd_bullish_cross``, ...) or a chart
pattern kind of :mod:`capscope.patterns` (studied on its breakout), optionally narrowed by a filter on the
event's fields: ``golden_cross:ma=sma``, ``macd_bullish_cross:above_zero=true``,
``symmetric_triangle:direction=up``, ``double_bottom:quality>=0.7``; several conditions are joined with ``,``.
Filters are validated against the event record layout (DESIGN.md, "Event record"): an unknown field or value
is an error that lists the valid ones.

The *regime* of a signal is the state in which it can fire (for a golden cross: the fast moving average below
the slow one). ``--baseline regime`` compares the signal's forward returns with those of every bar in that
state, so the signal is not credited with the drift of the market it fires in.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from capscope.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from capscope.data.panel import Panel
    from capscope.events.scan import ScanParams
    from capscope.patterns.records import PatternRecord

__all__ = [
    "PATTERN_FIELDS",
    "Condition",
    "Signal",
    "expected_direction",
    "parse_signals",
    "regime_mask",
    "select_events",
]

#: Fields a pattern signal can be filtered on (its breakout event): type and allowed values.
PATTERN_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "direction": ("text", ("down", "up")),
    "quality": ("float", ()),
    "scale": ("float", ()),
}
_OPS = (">=", "<=", "!=", ">", "<", "=")

#: Direction in which a trader reads each event kind (+1 bullish, -1 bearish); the run-level tests ask
#: whether a signal beat its baseline *in that direction*. RSI follows Wilder's reading (overbought = sell,
#: oversold = buy). ``level_formed`` has none and is left out of the run-level tests.
_EVENT_DIRECTION: dict[str, int] = {
    "golden_cross": 1,
    "death_cross": -1,
    "price_cross_above": 1,
    "price_cross_below": -1,
    "macd_bullish_cross": 1,
    "macd_bearish_cross": -1,
    "macd_zero_cross_up": 1,
    "macd_zero_cross_down": -1,
    "rsi_overbought": -1,
    "rsi_overbought_exit": -1,
    "rsi_oversold": 1,
    "rsi_oversold_exit": 1,
    "breakout_above": 1,
    "breakdown_below": -1,
    "breakout_failed": -1,
    "breakdown_failed": 1,
}


@dataclass(frozen=True)
class Condition:
    """One filter condition ``field op value`` (``value`` already parsed to the field's type)."""

    field: str
    op: str
    value: Any

    def text(self) -> str:
        """Canonical text, e.g. ``ma=sma`` or ``quality>=0.7``."""
        v = self.value
        shown = ("true" if v else "false") if isinstance(v, bool) else str(v)
        return f"{self.field}{self.op}{shown}"


@dataclass(frozen=True)
class Signal:
    """One studied signal: a kind, its filter conditions and where its events come from."""

    kind: str
    conditions: tuple[Condition, ...] = ()
    source: str = "event"  # "event" or "pattern"

    @property
    def filter(self) -> str:
        """The filter as text (``""`` when none)."""
        return ",".join(c.text() for c in self.conditions)

    @property
    def label(self) -> str:
        """``KIND`` or ``KIND:FILTER``."""
        return f"{self.kind}:{self.filter}" if self.conditions else self.kind

    def value_of(self, field: str) -> Any:
        """The value an ``=`` condition fixes for ``field`` (``None`` when not fixed)."""
        for c in self.conditions:
            if c.field == field and c.op == "=":
                return c.value
        return None


def _event_field_types() -> dict[str, tuple[str, tuple[str, ...]]]:
    from capscope.events.records import EVENT_DTYPES, TEXT_VOCAB

    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for name, dtype in EVENT_DTYPES.items():
        if name in ("symbol", "date", "kind"):
            continue
        if dtype == "category":
            out[name] = ("text", TEXT_VOCAB.get(name, ()))
        elif dtype == "Int64":
            out[name] = ("int", ())
        elif dtype == "boolean":
            out[name] = ("bool", ("true", "false"))
        elif dtype.startswith("datetime"):
            out[name] = ("date", ())
        else:
            out[name] = ("float", ())
    return out


def _suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _parse_value(kind: str, field: str, op: str, raw: str, ftype: str, choices: tuple[str, ...]) -> Any:
    where = f"{kind}:{field}{op}{raw}"
    if ftype in ("text", "bool") and op not in ("=", "!="):
        raise UsageError(f"{where}: {field} is {ftype}; use = or != (values: {', '.join(choices)})")
    if ftype == "text":
        if choices and raw not in choices:
            raise UsageError(
                f"{where}: unknown value {raw!r} for {field}; values: {', '.join(choices)}{_suggest(raw, choices)}"
            )
        return raw
    if ftype == "bool":
        low = raw.lower()
        if low not in ("true", "false"):
            raise UsageError(f"{where}: {field} is true or false, not {raw!r}")
        return low == "true"
    if ftype == "int":
        try:
            return int(raw)
        except ValueError:
            raise UsageError(f"{where}: {field} is a whole number, not {raw!r}") from None
    if ftype == "date":
        try:
            return np.datetime64(raw, "D")
        except ValueError:
            raise UsageError(f"{where}: {field} is a date (YYYY-MM-DD), not {raw!r}") from None
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{where}: {field} is a number, not {raw!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"{where}: {field} must be a finite number")
    return value


def _kinds() -> tuple[tuple[str, ...], tuple[str, ...], dict[str, tuple[str, ...]]]:
    from capscope.events.records import EVENT_KINDS, KIND_GROUPS
    from capscope.patterns.records import CHARTIST_KINDS

    return EVENT_KINDS, CHARTIST_KINDS, KIND_GROUPS


def parse_signals(specs: Sequence[str]) -> list[Signal]:
    """Parse ``KIND[:FILTER]`` specifications into signals.

    ``KIND`` is an event kind, a chart pattern kind, an event group (``ma_cross``, ``macd``, ... expands to its
    kinds, each with the filter), ``all`` (every event kind) or ``patterns`` (every chart pattern kind).
    ``FILTER`` is ``field OP value`` conditions joined by ``,`` with ``OP`` one of ``= != >= <= > <``.

    Raises
    ------
    UsageError
        For an unknown kind, field or value, with the valid choices in the message.
    """
    event_kinds, pattern_kinds, groups = _kinds()
    out: list[Signal] = []
    if not specs:
        raise UsageError("no signal: give at least one KIND[:FILTER] (e.g. golden_cross:ma=sma) or 'all'")
    for spec in specs:
        spec = spec.strip()
        head, _, filt = spec.partition(":")
        head = head.strip()
        if head == "all":
            kinds = list(event_kinds)
        elif head == "patterns":
            kinds = list(pattern_kinds)
        elif head in groups:
            kinds = list(groups[head])
        elif head in event_kinds or head in pattern_kinds:
            kinds = [head]
        else:
            every = [*event_kinds, *pattern_kinds, *groups, "all", "patterns"]
            raise UsageError(
                f"unknown signal kind {head!r}{_suggest(head, every)}; event kinds: {', '.join(event_kinds)}; "
                f"pattern kinds: {', '.join(pattern_kinds)}; groups: {', '.join(groups)}, all, patterns"
            )
        for kind in kinds:
            sig = _signal(kind, filt, kind in pattern_kinds)
            if sig.label not in {s.label for s in out}:
                out.append(sig)
    return out


def _signal(kind: str, filt: str, is_pattern: bool) -> Signal:
    from capscope.events.records import KIND_FIELDS

    types = PATTERN_FIELDS if is_pattern else _event_field_types()
    valid = tuple(PATTERN_FIELDS) if is_pattern else KIND_FIELDS[kind]
    conds: list[Condition] = []
    for part in (p.strip() for p in filt.split(",")):
        if not part:
            continue
        op = next((o for o in _OPS if o in part), None)
        if op is None:
            raise UsageError(
                f"{kind}:{part}: a filter is FIELD=VALUE (or !=, >=, <=, >, <); fields of {kind}: {', '.join(valid)}"
            )
        field, _, raw = part.partition(op)
        field, raw = field.strip(), raw.strip()
        if field not in valid:
            raise UsageError(
                f"{kind}: unknown field {field!r}{_suggest(field, valid)}; fields of {kind}: {', '.join(valid)}"
            )
        if not raw:
            raise UsageError(f"{kind}:{part}: no value after {op!r}")
        ftype, choices = types[field]
        conds.append(Condition(field, op, _parse_value(kind, field, op, raw, ftype, choices)))
    return Signal(kind, tuple(conds), "pattern" if is_pattern else "event")


def expected_direction(signal: Signal) -> int | None:
    """+1 when traders read the signal as bullish, -1 bearish, ``None`` when it has no direction."""
    if signal.source == "pattern":
        from capscope.patterns.records import BEARISH_KINDS, BULLISH_KINDS

        if signal.kind in BULLISH_KINDS:
            return 1
        if signal.kind in BEARISH_KINDS:
            return -1
        d = signal.value_of("direction")
        return None if d is None else (1 if d == "up" else -1)
    return _EVENT_DIRECTION.get(signal.kind)


def _compare(values: np.ndarray, op: str, value: Any) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if op == "=":
            return np.asarray(values == value)
        if op == "!=":
            return np.asarray(values != value)
        if op == ">=":
            return np.asarray(values >= value)
        if op == "<=":
            return np.asarray(values <= value)
        if op == ">":
            return np.asarray(values > value)
        return np.asarray(values < value)


def select_events(events: pd.DataFrame, signal: Signal) -> np.ndarray:
    """Boolean mask of the rows of an event frame that are events of ``signal``.

    A missing field value never satisfies a condition.
    """
    kinds = events["kind"].astype(str).to_numpy()
    keep = kinds == signal.kind
    for c in signal.conditions:
        col = events[c.field]
        if str(col.dtype) == "category":
            vals = col.astype(object).to_numpy()
            present = ~col.isna().to_numpy()
        elif str(col.dtype) == "boolean":
            present = ~col.isna().to_numpy()
            vals = col.fillna(False).to_numpy(dtype=bool)
        elif str(col.dtype).startswith("datetime"):
            present = ~col.isna().to_numpy()
            vals = col.to_numpy().astype("datetime64[D]")
        else:
            present = ~col.isna().to_numpy()
            vals = col.to_numpy(dtype=np.float64, na_value=np.nan)
        keep &= present & _compare(vals, c.op, c.value)
    return keep


def pattern_matches(record: PatternRecord, signal: Signal) -> bool:
    """True when a pattern record is of ``signal``'s kind and satisfies its filter."""
    if record.kind != signal.kind:
        return False
    values = {
        "direction": record.extra.get("direction"),
        "quality": record.quality,
        "scale": record.scale,
    }
    for c in signal.conditions:
        v = values[c.field]
        if v is None or not bool(_compare(np.asarray(v, dtype=object), c.op, c.value)):
            return False
    return True


def regime_key(signal: Signal) -> tuple[Any, ...] | None:
    """Hashable key of the regime of ``signal`` (signals with the same key share a regime mask)."""
    kind = signal.kind
    if signal.source != "event":
        return None
    if kind in ("golden_cross", "death_cross"):
        return (kind, signal.value_of("ma"), signal.value_of("fast"), signal.value_of("slow"))
    if kind in ("price_cross_above", "price_cross_below"):
        return (kind, signal.value_of("window"))
    if kind in ("macd_bullish_cross", "macd_bearish_cross"):
        return (kind, signal.value_of("above_zero"))
    if kind in ("macd_zero_cross_up", "macd_zero_cross_down"):
        return (kind,)
    if kind.startswith("rsi_"):
        return (kind,)
    return None


def regime_mask(panel: Panel, signal: Signal, params: ScanParams) -> np.ndarray | None:
    """Bars ``(n_bars, n_symbols)`` in the regime where ``signal`` can fire; ``None`` when it has none.

    Crosses: the state before the cross (golden cross: fast MA < slow MA for any pair of
    ``params.ma_pairs`` allowed by the filter; price crosses: close below / above the MA; MACD signal-line
    crosses: MACD below / above its signal line, and on the filter's side of zero when ``above_zero`` is
    fixed; zero-line crosses: MACD below / above zero; RSI entering overbought/oversold: RSI on the near side
    of the threshold; RSI leaving: RSI beyond it). Levels, breakouts and patterns have no regime here.
    """
    from capscope.indicators import api as ind

    kind = signal.kind
    close = panel.close
    if signal.source != "event":
        return None
    with np.errstate(invalid="ignore"):
        if kind in ("golden_cross", "death_cross"):
            ma, fast, slow = signal.value_of("ma"), signal.value_of("fast"), signal.value_of("slow")
            mask = np.zeros(close.shape, dtype=bool)
            for m, f, s in params.ma_pairs:
                if (
                    (ma is not None and m != ma)
                    or (fast is not None and f != fast)
                    or (slow is not None and s != slow)
                ):
                    continue
                fn = ind.sma if m == "sma" else ind.ema
                a, b = np.asarray(fn(close, f)), np.asarray(fn(close, s))
                mask |= (a < b) if kind == "golden_cross" else (a > b)
            return mask
        if kind in ("price_cross_above", "price_cross_below"):
            window = signal.value_of("window")
            mask = np.zeros(close.shape, dtype=bool)
            for w in params.price_windows:
                if window is not None and w != window:
                    continue
                fn = ind.sma if params.price_ma == "sma" else ind.ema
                m_ = np.asarray(fn(close, w))
                mask |= (close < m_) if kind == "price_cross_above" else (close > m_)
            return mask
        if kind.startswith("macd"):
            res = ind.macd(close, *params.macd)
            macd, signal_line = np.asarray(res.macd), np.asarray(res.signal)
            if kind == "macd_zero_cross_up":
                return macd < 0
            if kind == "macd_zero_cross_down":
                return macd > 0
            mask = (macd < signal_line) if kind == "macd_bullish_cross" else (macd > signal_line)
            above = signal.value_of("above_zero")
            if above is not None:
                mask &= (macd > 0) if above else (macd <= 0)
            return np.asarray(mask)
        if kind.startswith("rsi_"):
            rsi = np.asarray(ind.rsi(close, params.rsi_window))
            up, lo = params.rsi_upper, params.rsi_lower
            return {
                "rsi_overbought": rsi <= up,
                "rsi_overbought_exit": rsi > up,
                "rsi_oversold": rsi >= lo,
                "rsi_oversold_exit": rsi < lo,
            }[kind]
    return None
