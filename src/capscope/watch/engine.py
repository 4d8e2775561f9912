"""Events of new bars from saved states: the computation behind ``capscope watch``.

A :class:`GroupState` holds, for a group of symbols, everything the cross-type events need to go from one bar to
the next without looking at history again:

* two :class:`capscope.indicators.stream.CoreState` (SMA 50/200, EMA 50, MACD(12, 26, 9), RSI(14), ATR(14) in
  the first; EMA 200 in the second), advanced with :func:`capscope.indicators.stream.update`, which is bit for bit
  the batch indicator of :mod:`capscope.indicators.api`;
* per cross series the sign of its difference on the last bar where it was finite and non-zero -- exactly the
  state of the cross rule of :mod:`capscope.events.crosses` (a tie or NaN neither fires nor resets);
* per symbol the last bar date folded in (later bars are new; earlier or equal ones are already counted).

Levels and breakouts (:mod:`capscope.events.levels`, :mod:`capscope.events.breakouts`) depend on every pivot of a
symbol's history (a pivot joins the nearest level ever formed), which no bounded state summarises; they are
evaluated by the batch code on a trailing window of :data:`LEVEL_WINDOW` stored bars ending on the new bar, and
only the window's last row is kept. The replay test (``tests/test_watch_replay.py``) shows that this gives the
same events as one batch scan over the sample data; a level whose members reach back beyond the window could in
principle differ (see the README).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from capscope.errors import UsageError
from capscope.events import records as R
from capscope.events.scan import ScanParams, scan_parts
from capscope.indicators.stream import CoreState, update

if TYPE_CHECKING:
    import pandas as pd

    from capscope.data.panel import Panel

#: Trailing bars (panel rows) on which levels and breakouts are evaluated for a new bar: five years of daily
#: bars, far more than a level's ``max_age`` (252) and the ATR's warm-up.
LEVEL_WINDOW: Final[int] = 1260
#: Event kinds evaluated from the saved states.
STATE_GROUPS: Final[tuple[str, ...]] = ("ma_cross", "price_cross", "macd", "macd_zero", "rsi")
#: Event kinds evaluated on the trailing window.
WINDOW_KINDS: Final[tuple[str, ...]] = R.resolve_kinds(("levels", "breakouts"))
_FORMAT: Final = "capscope.watch.group"
_VERSION: Final = 1
#: Number of cross series (see :func:`_series`).
N_SERIES: Final = 8
_EPOCH = np.datetime64("1970-01-01", "D")


#: Hex digits of an alert id (:func:`alert_id`).
ALERT_ID_LENGTH: Final = 20


def check_params(params: ScanParams) -> None:
    """Refuse scan parameters the saved states do not cover (the watch follows the default scan)."""
    if (
        sorted(params.ma_pairs) != [("ema", 50, 200), ("sma", 50, 200)]
        or params.price_ma != "sma"
        or sorted(params.price_windows) != [50, 200]
        or params.macd != (12, 26, 9)
        or params.rsi_window != 14
        or params.levels.atr_window != 14
    ):
        raise UsageError("watch follows the default scan parameters (SMA/EMA 50/200, MACD 12/26/9, RSI 14)")


@dataclass
class GroupState:
    """Saved state of one group of symbols (see the module docstring).

    Attributes
    ----------
    symbols
        The group's symbols, in column order.
    core
        SMA 50/200, EMA 50, MACD(12, 26, 9), RSI(14), ATR(14) (and Bollinger 20, unused).
    slow_ema
        EMA 200 (its other indicators use minimal windows and are not read).
    signs
        ``(N_SERIES, n)`` int8: sign of each cross series on its last finite non-zero bar (0 = none yet).
    last_day
        ``(n,)`` int64: days since 1970-01-01 of the last bar folded in, -1 for none.
    """

    symbols: tuple[str, ...]
    core: CoreState
    slow_ema: CoreState
    signs: np.ndarray
    last_day: np.ndarray

    @classmethod
    def from_history(cls, panel: Panel) -> GroupState:
        """State after every bar of ``panel`` (its symbols become the group): the history, which alerts nothing.

        The cross signs are those the batch cross rule holds after the last bar (computed once here with the
        batch indicators of the same panel).
        """
        from capscope.events.crosses import IndicatorCache

        h, lo, c = panel.high, panel.low, panel.close
        core = CoreState.from_history(h, lo, c, sma_fast=50, sma_slow=200, ema_window=50)
        slow = CoreState.from_history(h, lo, c, sma_fast=2, sma_slow=3, ema_window=200, bb_window=2)
        cache = IndicatorCache(panel)
        macd, signal = cache.macd(12, 26, 9)
        rsi = cache.rsi(14)
        sma50, sma200 = cache.ma("sma", 50), cache.ma("sma", 200)
        pairs: list[tuple[np.ndarray, np.ndarray | float]] = [
            (sma50, sma200),
            (cache.ma("ema", 50), cache.ma("ema", 200)),
            (c, sma50),
            (c, sma200),
            (macd, signal),
            (macd, 0.0),
            (rsi, 70.0),
            (rsi, 30.0),
        ]
        signs = np.zeros((N_SERIES, panel.n_symbols), dtype=np.int8)
        for i, (a, b) in enumerate(pairs):
            signs[i] = _last_sign(a - b)
        valid = ~np.isnan(c)
        has = valid.any(axis=0)
        last_row = np.where(has, c.shape[0] - 1 - np.argmax(valid[::-1], axis=0), 0)
        days = (panel.dates - _EPOCH).astype(np.int64)
        last_day = np.where(has, days[last_row] if len(days) else -1, -1).astype(np.int64)
        return cls(tuple(panel.symbols), core, slow, signs, last_day)

    # -- serialization -------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """One ``.npz`` archive (no pickle): header, both indicator states, signs and last days."""
        header = json.dumps({"format": _FORMAT, "version": _VERSION, "symbols": list(self.symbols)})
        buf = io.BytesIO()
        np.savez(
            buf,
            header=np.frombuffer(header.encode(), dtype=np.uint8),
            core=np.frombuffer(self.core.to_bytes(), dtype=np.uint8),
            slow_ema=np.frombuffer(self.slow_ema.to_bytes(), dtype=np.uint8),
            signs=self.signs,
            last_day=self.last_day,
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> GroupState:
        """Read :meth:`to_bytes` output; a foreign or damaged blob is a :class:`UsageError`."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                header = json.loads(bytes(z["header"]).decode())
                if header.get("format") != _FORMAT or header.get("version") != _VERSION:
                    raise ValueError(f"format {header.get('format')!r} version {header.get('version')!r}")
                symbols = tuple(str(s) for s in header["symbols"])
                state = cls(
                    symbols,
                    CoreState.from_bytes(bytes(z["core"])),
                    CoreState.from_bytes(bytes(z["slow_ema"])),
                    np.array(z["signs"], dtype=np.int8),
                    np.array(z["last_day"], dtype=np.int64),
                )
        except (ValueError, KeyError, OSError) as exc:
            raise UsageError(f"saved watch state is not readable ({exc}); start a new store") from None
        n = len(symbols)
        if state.signs.shape != (N_SERIES, n) or state.last_day.shape != (n,) or state.core.n_symbols != n:
            raise UsageError("saved watch state has inconsistent shapes; start a new store")
        return state

    # -- one bar -------------------------------------------------------------------------------------------
    def advance(self, panel: Panel, new: np.ndarray, *, levels: bool = True) -> list[R.EventParts]:
        """Fold the last row of ``panel`` into the state and return the events of that bar.

        Parameters
        ----------
        panel
            The group's symbols (same columns) over a trailing window ending on the new bar (its last row).
        new
            ``(n,)`` bool: symbols whose bar on that row is new (not yet folded in); the others are treated as
            having no bar (their states do not move, they emit nothing).
        levels
            Also evaluate levels and breakouts on the window (``False``: only the state-based kinds).

        Returns
        -------
        list of EventParts
            Indexed on ``panel`` (row = its last row), ready for :func:`capscope.events.records.assemble`.
        """
        if tuple(panel.symbols) != self.symbols:
            raise ValueError("panel columns differ from the group's symbols")
        t = panel.n_bars - 1
        nan = np.full(len(self.symbols), np.nan)
        h = np.where(new, panel.high[t], nan)
        lo = np.where(new, panel.low[t], nan)
        c = np.where(new, panel.close[t], nan)
        bar = {"high": h, "low": lo, "close": c}
        core = update(self.core, bar)
        ema200 = update(self.slow_ema, bar).ema
        series = [
            (core.sma_fast, core.sma_slow),
            (core.ema, ema200),
            (c, core.sma_fast),
            (c, core.sma_slow),
            (core.macd, core.macd_signal),
            (core.macd, 0.0),
            (core.rsi, 70.0),
            (core.rsi, 30.0),
        ]
        fired = []
        for i, (a, b) in enumerate(series):
            d = a - b
            s = (d > 0.0).astype(np.int8) - (d < 0.0).astype(np.int8)  # NaN and ties -> 0
            cross = (s.astype(np.int16) * self.signs[i]) < 0
            self.signs[i] = np.where(s != 0, s, self.signs[i])
            fired.append((np.nonzero(cross)[0], s))
        day = int((panel.dates[t] - _EPOCH).astype(np.int64))
        self.last_day[new] = day

        parts: list[R.EventParts] = []

        def add(i: int, up: str, down: str, fields: dict[str, Any]) -> None:
            cols, s = fired[i]
            if not len(cols):
                return
            kinds = np.where(s[cols] > 0, R.KIND_CODES[up], R.KIND_CODES[down])
            out = {k: (v[cols] if isinstance(v, np.ndarray) else v) for k, v in fields.items()}
            parts.append(
                R.EventParts(np.full(len(cols), t, dtype=np.int64), cols.astype(np.int64), kinds, out)
            )

        for i, (ma, fast_v, slow_v) in enumerate(
            ((("sma"), core.sma_fast, core.sma_slow), ("ema", core.ema, ema200))
        ):
            fields = {"ma": ma, "fast": 50, "slow": 200, "fast_value": fast_v, "slow_value": slow_v}
            add(i, R.GOLDEN_CROSS, R.DEATH_CROSS, fields)
        add(
            2,
            R.PRICE_CROSS_ABOVE,
            R.PRICE_CROSS_BELOW,
            {"ma": "sma", "window": 50, "ma_value": core.sma_fast},
        )
        add(
            3,
            R.PRICE_CROSS_ABOVE,
            R.PRICE_CROSS_BELOW,
            {"ma": "sma", "window": 200, "ma_value": core.sma_slow},
        )
        macd = {"fast": 12, "slow": 26, "signal": 9, "macd": core.macd, "signal_value": core.macd_signal}
        above = (core.macd > 0.0).astype(np.float64)
        add(4, R.MACD_BULLISH_CROSS, R.MACD_BEARISH_CROSS, {**macd, "above_zero": above})
        add(5, R.MACD_ZERO_CROSS_UP, R.MACD_ZERO_CROSS_DOWN, macd)
        rsi = {"window": 14, "rsi": core.rsi}
        add(6, R.RSI_OVERBOUGHT, R.RSI_OVERBOUGHT_EXIT, {**rsi, "threshold": 70.0})
        add(7, R.RSI_OVERSOLD_EXIT, R.RSI_OVERSOLD, {**rsi, "threshold": 30.0})

        if levels:
            parts += window_events(panel, new)
        return parts


def window_events(panel: Panel, new: np.ndarray) -> list[R.EventParts]:
    """The levels and breakouts of ``panel``'s last row for the symbols ``new``: the batch code on the trailing
    window, its last row kept (they depend on every pivot of the window, which no bounded state summarises).

    Parameters
    ----------
    panel
        A group's trailing window ending on the new bar's day.
    new
        ``(n,)`` bool: symbols with a new bar on that row.

    Returns
    -------
    list of EventParts
        Indexed on ``panel``, as :meth:`GroupState.advance` returns them.
    """
    t = panel.n_bars - 1
    parts: list[R.EventParts] = []
    for p in scan_parts(panel, WINDOW_KINDS, params=ScanParams()):
        keep = (p.row == t) & new[p.col]
        if keep.any():
            fields = {k: v[keep] if np.ndim(v) else v for k, v in p.fields.items()}
            parts.append(R.EventParts(p.row[keep], p.col[keep], p.kind[keep], fields))
    return parts


def _last_sign(d: np.ndarray) -> np.ndarray:
    """Per column, the sign of the last finite non-zero value of ``d`` (0 when there is none)."""
    s = np.sign(np.nan_to_num(d, nan=0.0)).astype(np.int8)
    nz = s != 0
    has = nz.any(axis=0)
    last = (
        d.shape[0] - 1 - np.argmax(nz[::-1], axis=0) if d.shape[0] else np.zeros(d.shape[1], dtype=np.int64)
    )
    out = np.zeros(d.shape[1], dtype=np.int8)
    cols = np.nonzero(has)[0]
    out[cols] = s[last[cols], cols]
    return out


def events_frame(panel: Panel, parts: Sequence[R.EventParts]) -> pd.DataFrame:
    """The event frame of ``parts`` (sorted as the batch scan sorts)."""
    return R.assemble(panel, parts)


def records(events: pd.DataFrame) -> list[dict[str, Any]]:
    """The JSON-ready records of :func:`capscope.events.records.events_to_records`, converted column by column
    (one conversion per column instead of one per cell: ~5x faster for the thousands of alerts of a big universe;
    the replay test holds the two equal)."""
    import pandas as pd

    columns: dict[str, list[Any]] = {}
    for name in events.columns:
        col = events[name]
        dtype = col.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            values = col.astype(object).where(col.notna(), None).tolist()
        elif dtype.kind == "M":
            arr = col.to_numpy(dtype="datetime64[D]")
            text = np.datetime_as_string(arr, unit="D").astype(object)
            text[np.isnat(arr)] = None
            values = text.tolist()
        elif dtype == "float64":
            arr = col.to_numpy()
            values = arr.tolist()
            if np.isnan(arr).any():
                values = [None if v != v else v for v in values]  # NaN -> None
        else:  # nullable Int64 / boolean
            values = [None if v is pd.NA else v for v in col.astype(object).tolist()]
            values = [
                bool(v) if isinstance(v, np.bool_) else int(v) if isinstance(v, np.integer) else v
                for v in values
            ]
        columns[name] = values
    base = ("symbol", "date", "kind", "price")
    out = []
    for i, kind in enumerate(columns["kind"]):
        rec = {c: columns[c][i] for c in base}
        rec.update({c: columns[c][i] for c in R.KIND_FIELDS[kind]})
        out.append(rec)
    return out


def alert_id(record: dict[str, Any]) -> str:
    """Stable id of an event record: a hash of its canonical JSON (the same event always gets the same id)."""
    import hashlib

    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:ALERT_ID_LENGTH]
