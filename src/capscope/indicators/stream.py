"""Incremental indicator states over many symbols: one bar at a time, bit-identical to batch recomputation.

Three states, one entry point :func:`update`:

* :class:`CoreState`: the seven core indicators of :func:`capscope.indicators.api.core` (SMA, SMA, EMA,
  MACD, RSI, ATR, Bollinger; 11 outputs, :class:`~capscope.indicators.api.Core`).
* :class:`ExtraState`: WMA, ROC, TRANGE, STOCH (slow %K/%D), ADX (+DI, -DI) and OBV (9 outputs,
  :class:`Extra`), equal to :func:`~capscope.indicators.api.wma`, :func:`~capscope.indicators.api.roc`,
  :func:`~capscope.indicators.api.trange`, :func:`~capscope.indicators.api.stoch`,
  :func:`~capscope.indicators.api.adx` and :func:`~capscope.indicators.api.obv`.
* :class:`IndicatorState`: both together (20 outputs, :class:`Indicators`).

Each state holds, per symbol, exactly the quantities the batch kernels carry from bar to bar (running sums,
EMA values, Wilder averages, seeds) plus ring buffers of the old values the kernels read back (closes, the
last ``fastk`` highs/lows, fast-K and slow-K values), so that :func:`update` advances every symbol with the
same floating-point operations in the same order (the kernels are in
:mod:`capscope.indicators.stream_kernels`).

NaN policy (same as the batch API): a symbol has a bar for an indicator when every input of that indicator is
finite in the new row. Without one, that indicator's outputs are NaN and its state does not move. Close-only
indicators (SMA, EMA, MACD, RSI, Bollinger, WMA, ROC) need the close; ATR, TRANGE, STOCH and ADX need high,
low and close; OBV needs close and volume. Streaming therefore equals the batch result on the column's own
bars, including across halts.

Serialization: ``to_bytes`` / ``from_bytes`` on every state write one format, an ``.npz`` archive (exact
float64 and int64 arrays, no pickle) with a JSON header ``{"format": "capscope.stream", "version": 1,
"kind": ..., "params": ...}``; reading checks the kind, the version and every array's shape.

Examples
--------
>>> import numpy as np
>>> close = 100.0 + np.cumsum(np.ones((300, 2)), axis=0)
>>> state = CoreState.from_history(close + 1, close - 1, close)
>>> row = update(state, {"high": close[-1] + 2, "low": close[-1], "close": close[-1] + 1})
>>> round(float(row.sma_fast[0]), 6)
376.0
>>> volume = np.full((300, 2), 1000.0)
>>> both = IndicatorState.from_history(close + 1, close - 1, close, volume, wma_window=10)
>>> bar = {"high": close[-1] + 2, "low": close[-1], "close": close[-1] + 1, "volume": volume[-1]}
>>> out = update(both, bar)
>>> round(float(out.rsi[0]), 6), float(out.obv[0])
(100.0, 301000.0)
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast, overload

import numpy as np

from capscope.errors import UsageError
from capscope.indicators import stream_kernels as sk
from capscope.indicators.api import Core

__all__ = [
    "CORE_DEFAULTS",
    "DEFAULT_PARAMS",
    "EXTRA_DEFAULTS",
    "FORMAT_VERSION",
    "PARAM_NAMES",
    "CoreState",
    "Extra",
    "ExtraState",
    "IndicatorState",
    "Indicators",
    "update",
]

#: Version of the serialization format written by ``to_bytes`` (readers accept this version and older).
FORMAT_VERSION = 1
_FORMAT = "capscope.stream"

#: Integer window parameters of :class:`CoreState` (names as in :func:`capscope.indicators.api.core`).
PARAM_NAMES = (
    "sma_fast",
    "sma_slow",
    "ema_window",
    "macd_fast",
    "macd_slow",
    "macd_signal",
    "rsi_window",
    "atr_window",
    "bb_window",
)
#: Default parameters of :class:`CoreState` (those of :func:`capscope.indicators.api.core`).
CORE_DEFAULTS: dict[str, float] = {
    "sma_fast": 50,
    "sma_slow": 200,
    "ema_window": 20,
    "macd_fast": 12,
    "macd_slow": 26,
    "macd_signal": 9,
    "rsi_window": 14,
    "atr_window": 14,
    "bb_window": 20,
    "bb_nbdev_up": 2.0,
    "bb_nbdev_dn": 2.0,
}
DEFAULT_PARAMS = CORE_DEFAULTS  # the name before ExtraState existed
_CORE_MINIMA = {name: 1 if name == "macd_signal" else 2 for name in PARAM_NAMES}

#: Default parameters of :class:`ExtraState` (those of the single-indicator API functions).
EXTRA_DEFAULTS: dict[str, float] = {
    "wma_window": 30,
    "roc_window": 10,
    "stoch_fastk_window": 5,
    "stoch_slowk_window": 3,
    "stoch_slowd_window": 3,
    "adx_window": 14,
}
_EXTRA_MINIMA = {
    "wma_window": 2,
    "roc_window": 1,
    "stoch_fastk_window": 1,
    "stoch_slowk_window": 1,
    "stoch_slowd_window": 1,
    "adx_window": 2,
}


class Extra(NamedTuple):
    """One bar of the extra indicators, one value per symbol (1-D arrays)."""

    wma: Any
    roc: Any
    trange: Any
    slowk: Any
    slowd: Any
    adx: Any
    plus_di: Any
    minus_di: Any
    obv: Any


class Indicators(NamedTuple):
    """One bar of every streamed indicator: the fields of :class:`Core` followed by those of :class:`Extra`."""

    sma_fast: Any
    sma_slow: Any
    ema: Any
    macd: Any
    macd_signal: Any
    macd_hist: Any
    rsi: Any
    atr: Any
    bb_upper: Any
    bb_middle: Any
    bb_lower: Any
    wma: Any
    roc: Any
    trange: Any
    slowk: Any
    slowd: Any
    adx: Any
    plus_di: Any
    minus_di: Any
    obv: Any


# -- shared helpers: parameters, history input, bar rows, the serialization format --------------------------


def _check_params(
    kind: str, defaults: Mapping[str, float], minima: Mapping[str, int], given: Mapping[str, float]
) -> dict[str, float]:
    unknown = set(given) - set(defaults)
    if unknown:
        raise UsageError(f"unknown {kind} parameters {sorted(unknown)}; known: {', '.join(defaults)}")
    p = {**defaults, **given}
    for name, minimum in minima.items():
        v = p[name]
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            raise UsageError(f"{name} must be an integer >= {minimum}, got {v!r}")
        if int(v) != v or v < minimum:
            raise UsageError(f"{name} must be an integer >= {minimum}, got {v!r}")
        p[name] = int(v)
    return p


def _history(names: Sequence[str], arrays: Sequence[Any]) -> list[np.ndarray]:
    """History panels as 2-D C-contiguous float64 arrays of one shape (1-D = one symbol)."""
    out = [np.ascontiguousarray(np.asarray(a, dtype=np.float64)) for a in arrays]
    out = [a.reshape(-1, 1) if a.ndim == 1 else a for a in out]
    shapes = [a.shape for a in out]
    if len(set(shapes)) != 1 or out[0].ndim != 2:
        listed = ", ".join(f"{n} {s}" for n, s in zip(names, shapes, strict=True))
        raise UsageError(f"history arrays must share one 2-D shape (n_bars, n_symbols), got {listed}")
    return out


def _and(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1]


def _rows(bar: Mapping[str, Any] | Sequence[Any], names: Sequence[str], m: int) -> list[np.ndarray]:
    """The new bar's rows (one value per symbol) for ``names``, from a mapping or a tuple in that order."""
    if isinstance(bar, Mapping):
        missing = [n for n in names if n not in bar]
        if missing:
            raise UsageError(f"bar needs {_and(names)}; missing {missing}, got keys {sorted(bar)}")
        raw = [bar[n] for n in names]
    else:
        if len(bar) != len(names):
            raise UsageError(f"bar tuple must be ({', '.join(names)}), got {len(bar)} items")
        raw = list(bar)
    rows = [np.ascontiguousarray(np.asarray(a, dtype=np.float64).reshape(-1)) for a in raw]
    if any(r.size != m for r in rows):
        sizes = ", ".join(f"{n} {r.size}" for n, r in zip(names, rows, strict=True))
        raise UsageError(f"bar rows must have {m} values (one per symbol), got {sizes}")
    return rows


def _pack(kind: str, params: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> bytes:
    header = {"format": _FORMAT, "version": FORMAT_VERSION, "kind": kind, "params": params}
    buf = io.BytesIO()
    cast(Any, np.savez)(
        buf,
        header=np.frombuffer(json.dumps(header, sort_keys=True).encode(), dtype=np.uint8),
        **arrays,
    )
    return buf.getvalue()


def _unpack(data: bytes, kind: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            header = json.loads(z["header"].tobytes().decode())
            arrays = {name: z[name].copy() for name in z.files if name != "header"}
    except (ValueError, KeyError, OSError, UnicodeDecodeError, EOFError) as exc:
        raise UsageError(f"not a serialized {kind}: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise UsageError(f"not a serialized {kind}: the header names no {_FORMAT!r} format")
    version = header.get("version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise UsageError(
            f"serialized {kind} has format version {version!r}; this capscope reads versions 1 to "
            f"{FORMAT_VERSION} (upgrade capscope, or rebuild the state with {kind}.from_history)"
        )
    if header.get("kind") != kind:
        raise UsageError(
            f"these bytes hold a {header.get('kind')}, not a {kind}; use {header.get('kind')}.from_bytes"
        )
    return header["params"], arrays


def _take(
    arrays: Mapping[str, np.ndarray], name: str, shape: tuple[int, ...], dtype: Any, kind: str
) -> np.ndarray:
    """An array of a deserialized state, checked: the kernels index it without bounds checks."""
    a = arrays.get(name)
    if a is None:
        raise UsageError(f"not a serialized {kind}: array {name!r} is missing")
    if a.shape != shape or a.dtype != np.dtype(dtype):
        raise UsageError(
            f"serialized {kind} array {name!r} is {a.dtype}{a.shape}, expected {np.dtype(dtype)}{shape}"
        )
    return np.ascontiguousarray(a)


# -- the core state ------------------------------------------------------------------------------------------


@dataclass(eq=False)
class CoreState:
    """State of the core indicators for ``n_symbols`` symbols.

    Attributes
    ----------
    params
        Indicator parameters (names as in :func:`capscope.indicators.api.core`).
    values
        ``(17, n_symbols)`` float64: running sums / averages carried between bars.
    counts
        ``(2, n_symbols)`` int64: bars seen with a close, and bars seen with high, low and close.
    ring
        ``(ring_size, n_symbols)`` float64: the last closes of each symbol (slot ``count % ring_size``).
    """

    params: dict[str, float]
    values: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    ring: np.ndarray = field(repr=False)

    @property
    def n_symbols(self) -> int:
        """Number of symbols tracked."""
        return int(self.values.shape[1])

    @staticmethod
    def _ring_size(p: Mapping[str, float]) -> int:
        return int(max(p["sma_fast"], p["sma_slow"], p["ema_window"], p["macd_slow"], p["bb_window"]))

    @classmethod
    def empty(cls, n_symbols: int, **params: float) -> CoreState:
        """A state that has seen no bar yet (parameters as :func:`capscope.indicators.api.core`)."""
        p = _check_params("core", CORE_DEFAULTS, _CORE_MINIMA, params)
        if p["macd_slow"] < p["macd_fast"]:
            p["macd_fast"], p["macd_slow"] = p["macd_slow"], p["macd_fast"]
        return cls(
            params=p,
            values=np.zeros((sk.CORE_N_VALUES, n_symbols)),
            counts=np.zeros((sk.CORE_N_COUNTS, n_symbols), dtype=np.int64),
            ring=np.full((cls._ring_size(p), n_symbols), np.nan),
        )

    @classmethod
    def from_history(cls, high: Any, low: Any, close: Any, **params: float) -> CoreState:
        """Build the state by feeding a panel's history ``(n_bars, n_symbols)`` bar by bar.

        Parameters
        ----------
        high, low, close
            Time-major panels of one shape (1-D = one symbol), NaN where a symbol has no bar.
        **params
            Core parameters (see :data:`CORE_DEFAULTS`).
        """
        h, lo, c = _history(("high", "low", "close"), (high, low, close))
        state = cls.empty(c.shape[1], **params)
        cast(Any, sk.core_history)(
            state.values, state.counts, state.ring, *state._int_params(), *state._float_params(), h, lo, c
        )
        return state

    def copy(self) -> CoreState:
        """An independent copy."""
        return CoreState(dict(self.params), self.values.copy(), self.counts.copy(), self.ring.copy())

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"values": self.values, "counts": self.counts, "ring": self.ring}

    @classmethod
    def _from_parts(
        cls, params: Mapping[str, float], arrays: Mapping[str, np.ndarray], prefix: str = ""
    ) -> CoreState:
        p = _check_params("core", CORE_DEFAULTS, _CORE_MINIMA, params)
        m = arrays[prefix + "values"].shape[-1] if prefix + "values" in arrays else 0
        kind = cls.__name__
        return cls(
            p,
            _take(arrays, prefix + "values", (sk.CORE_N_VALUES, m), np.float64, kind),
            _take(arrays, prefix + "counts", (sk.CORE_N_COUNTS, m), np.int64, kind),
            _take(arrays, prefix + "ring", (cls._ring_size(p), m), np.float64, kind),
        )

    def to_bytes(self) -> bytes:
        """Serialize exactly (the module's versioned ``.npz`` format)."""
        return _pack("CoreState", self.params, self._arrays())

    @classmethod
    def from_bytes(cls, data: bytes) -> CoreState:
        """Inverse of :meth:`to_bytes`; raises :class:`~capscope.errors.UsageError` on anything else."""
        params, arrays = _unpack(data, "CoreState")
        return cls._from_parts(params, arrays)

    def _int_params(self) -> tuple[int, ...]:
        return tuple(int(self.params[name]) for name in PARAM_NAMES)

    def _float_params(self) -> tuple[float, float]:
        return float(self.params["bb_nbdev_up"]), float(self.params["bb_nbdev_dn"])

    def _step(self, h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> np.ndarray:
        out = np.empty((sk.CORE_N_OUT, self.n_symbols))
        cast(Any, sk.core_step)(
            self.values, self.counts, self.ring, *self._int_params(), *self._float_params(), h, lo, c, out
        )
        return out


# -- the extra state -----------------------------------------------------------------------------------------


@dataclass(eq=False)
class ExtraState:
    """State of WMA, ROC, TRANGE, STOCH, ADX (+DI, -DI) and OBV for ``n_symbols`` symbols.

    Attributes
    ----------
    params
        ``wma_window``, ``roc_window``, ``stoch_fastk_window``, ``stoch_slowk_window``,
        ``stoch_slowd_window``, ``adx_window`` (see :data:`EXTRA_DEFAULTS`).
    values
        ``(14, n_symbols)`` float64: WMA running sums, STOCH %K/%D window sums, ADX Wilder sums, DX seed sum and
        previous ADX, the previous bar's high/low/close, the OBV accumulator and its previous close.
    counts
        ``(3, n_symbols)`` int64: bars seen with a close (WMA, ROC); with high, low and close (TRANGE, STOCH,
        ADX); with close and volume (OBV).
    close_ring
        ``(max(wma_window, roc_window), n_symbols)``: the last closes.
    high_ring, low_ring
        ``(stoch_fastk_window, n_symbols)``: the last highs and lows.
    fastk_ring, slowk_ring
        ``(stoch_slowk_window, n_symbols)`` fast-K and ``(stoch_slowd_window, n_symbols)`` slow-K values.

    Every ring keeps a symbol's value of its ``i``-th bar in slot ``i % ring size``.
    """

    params: dict[str, float]
    values: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    close_ring: np.ndarray = field(repr=False)
    high_ring: np.ndarray = field(repr=False)
    low_ring: np.ndarray = field(repr=False)
    fastk_ring: np.ndarray = field(repr=False)
    slowk_ring: np.ndarray = field(repr=False)

    _RINGS = ("close_ring", "high_ring", "low_ring", "fastk_ring", "slowk_ring")

    @property
    def n_symbols(self) -> int:
        """Number of symbols tracked."""
        return int(self.values.shape[1])

    @staticmethod
    def _ring_sizes(p: Mapping[str, float]) -> tuple[int, ...]:
        fastk = int(p["stoch_fastk_window"])
        return (
            int(max(p["wma_window"], p["roc_window"])),
            fastk,
            fastk,
            int(p["stoch_slowk_window"]),
            int(p["stoch_slowd_window"]),
        )

    @classmethod
    def empty(cls, n_symbols: int, **params: float) -> ExtraState:
        """A state that has seen no bar yet.

        Parameters
        ----------
        n_symbols
            Number of symbols (columns of the panels fed to it).
        **params
            ``wma_window`` (>= 2, default 30), ``roc_window`` (>= 1, 10), ``stoch_fastk_window`` (>= 1, 5),
            ``stoch_slowk_window`` (>= 1, 3), ``stoch_slowd_window`` (>= 1, 3), ``adx_window`` (>= 2, 14):
            the defaults of :func:`~capscope.indicators.api.wma`, :func:`~capscope.indicators.api.roc`,
            :func:`~capscope.indicators.api.stoch` and :func:`~capscope.indicators.api.adx`.
        """
        p = _check_params("extra", EXTRA_DEFAULTS, _EXTRA_MINIMA, params)
        rings = [np.full((size, n_symbols), np.nan) for size in cls._ring_sizes(p)]
        return cls(
            p,
            np.zeros((sk.EXTRA_N_VALUES, n_symbols)),
            np.zeros((sk.EXTRA_N_COUNTS, n_symbols), dtype=np.int64),
            *rings,
        )

    @classmethod
    def from_history(cls, high: Any, low: Any, close: Any, volume: Any, **params: float) -> ExtraState:
        """Build the state by feeding a panel's history ``(n_bars, n_symbols)`` bar by bar.

        Parameters
        ----------
        high, low, close, volume
            Time-major panels of one shape (1-D = one symbol), NaN where a symbol has no bar (a NaN volume
            only skips OBV).
        **params
            See :meth:`empty`.
        """
        h, lo, c, v = _history(("high", "low", "close", "volume"), (high, low, close, volume))
        state = cls.empty(c.shape[1], **params)
        cast(Any, sk.extra_history)(*state._kernel_args(), h, lo, c, v)
        return state

    def copy(self) -> ExtraState:
        """An independent copy."""
        return ExtraState(dict(self.params), *(a.copy() for a in self._arrays().values()))

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"values": self.values, "counts": self.counts, **{r: getattr(self, r) for r in self._RINGS}}

    @classmethod
    def _from_parts(
        cls, params: Mapping[str, float], arrays: Mapping[str, np.ndarray], prefix: str = ""
    ) -> ExtraState:
        p = _check_params("extra", EXTRA_DEFAULTS, _EXTRA_MINIMA, params)
        m = arrays[prefix + "values"].shape[-1] if prefix + "values" in arrays else 0
        kind = cls.__name__
        rings = [
            _take(arrays, prefix + name, (size, m), np.float64, kind)
            for name, size in zip(cls._RINGS, cls._ring_sizes(p), strict=True)
        ]
        return cls(
            p,
            _take(arrays, prefix + "values", (sk.EXTRA_N_VALUES, m), np.float64, kind),
            _take(arrays, prefix + "counts", (sk.EXTRA_N_COUNTS, m), np.int64, kind),
            *rings,
        )

    def to_bytes(self) -> bytes:
        """Serialize exactly (the module's versioned ``.npz`` format)."""
        return _pack("ExtraState", self.params, self._arrays())

    @classmethod
    def from_bytes(cls, data: bytes) -> ExtraState:
        """Inverse of :meth:`to_bytes`; raises :class:`~capscope.errors.UsageError` on anything else."""
        params, arrays = _unpack(data, "ExtraState")
        return cls._from_parts(params, arrays)

    def _kernel_args(self) -> tuple[Any, ...]:
        p = self.params
        return (
            self.values,
            self.counts,
            *(getattr(self, r) for r in self._RINGS),
            int(p["wma_window"]),
            int(p["roc_window"]),
            int(p["stoch_fastk_window"]),
            int(p["stoch_slowk_window"]),
            int(p["stoch_slowd_window"]),
            int(p["adx_window"]),
        )

    def _step(self, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> np.ndarray:
        out = np.empty((sk.EXTRA_N_OUT, self.n_symbols))
        cast(Any, sk.extra_step)(*self._kernel_args(), h, lo, c, v, out)
        return out


# -- both together -------------------------------------------------------------------------------------------


@dataclass(eq=False)
class IndicatorState:
    """Every streamed indicator for ``n_symbols`` symbols: a :class:`CoreState` and an :class:`ExtraState`.

    Parameters are the union of the core ones (:data:`CORE_DEFAULTS`) and the extra ones
    (:data:`EXTRA_DEFAULTS`); :func:`update` returns :class:`Indicators`.
    """

    core: CoreState
    extra: ExtraState

    def __post_init__(self) -> None:
        if self.core.n_symbols != self.extra.n_symbols:
            raise UsageError(
                f"core state has {self.core.n_symbols} symbols, extra state {self.extra.n_symbols}; "
                "build both for the same panel"
            )

    @property
    def n_symbols(self) -> int:
        """Number of symbols tracked."""
        return self.core.n_symbols

    @property
    def params(self) -> dict[str, float]:
        """All parameters (core then extra)."""
        return {**self.core.params, **self.extra.params}

    @staticmethod
    def _split(params: Mapping[str, float]) -> tuple[dict[str, float], dict[str, float]]:
        unknown = set(params) - set(CORE_DEFAULTS) - set(EXTRA_DEFAULTS)
        if unknown:
            known = ", ".join([*CORE_DEFAULTS, *EXTRA_DEFAULTS])
            raise UsageError(f"unknown indicator parameters {sorted(unknown)}; known: {known}")
        core = {k: v for k, v in params.items() if k in CORE_DEFAULTS}
        extra = {k: v for k, v in params.items() if k in EXTRA_DEFAULTS}
        return core, extra

    @classmethod
    def empty(cls, n_symbols: int, **params: float) -> IndicatorState:
        """A state that has seen no bar yet (any core or extra parameter by name)."""
        core, extra = cls._split(params)
        return cls(CoreState.empty(n_symbols, **core), ExtraState.empty(n_symbols, **extra))

    @classmethod
    def from_history(cls, high: Any, low: Any, close: Any, volume: Any, **params: float) -> IndicatorState:
        """Build the state by feeding a panel's history ``(n_bars, n_symbols)`` bar by bar.

        Parameters
        ----------
        high, low, close, volume
            Time-major panels of one shape (1-D = one symbol), NaN where a symbol has no bar.
        **params
            Any parameter of :data:`CORE_DEFAULTS` or :data:`EXTRA_DEFAULTS`.
        """
        h, lo, c, v = _history(("high", "low", "close", "volume"), (high, low, close, volume))
        core, extra = cls._split(params)
        return cls(CoreState.from_history(h, lo, c, **core), ExtraState.from_history(h, lo, c, v, **extra))

    def copy(self) -> IndicatorState:
        """An independent copy."""
        return IndicatorState(self.core.copy(), self.extra.copy())

    def to_bytes(self) -> bytes:
        """Serialize exactly (the module's versioned ``.npz`` format)."""
        arrays = {
            **{f"core.{k}": a for k, a in self.core._arrays().items()},
            **{f"extra.{k}": a for k, a in self.extra._arrays().items()},
        }
        return _pack("IndicatorState", {"core": self.core.params, "extra": self.extra.params}, arrays)

    @classmethod
    def from_bytes(cls, data: bytes) -> IndicatorState:
        """Inverse of :meth:`to_bytes`; raises :class:`~capscope.errors.UsageError` on anything else."""
        params, arrays = _unpack(data, "IndicatorState")
        if not isinstance(params, dict) or set(params) != {"core", "extra"}:
            raise UsageError("not a serialized IndicatorState: parameters need 'core' and 'extra' sections")
        return cls(
            CoreState._from_parts(params["core"], arrays, "core."),
            ExtraState._from_parts(params["extra"], arrays, "extra."),
        )


# -- the one entry point -------------------------------------------------------------------------------------

Bar = Mapping[str, Any] | Sequence[Any]


@overload
def update(state: CoreState, bar: Bar) -> Core: ...
@overload
def update(state: ExtraState, bar: Bar) -> Extra: ...
@overload
def update(state: IndicatorState, bar: Bar) -> Indicators: ...
def update(state: CoreState | ExtraState | IndicatorState, bar: Bar) -> Core | Extra | Indicators:
    """Advance every symbol by one bar and return that bar's outputs (1-D arrays, one value per symbol).

    Parameters
    ----------
    state
        Mutated in place.
    bar
        A mapping ``{"high": ..., "low": ..., "close": ..., "volume": ...}`` (extra keys are ignored) or a
        tuple ``(high, low, close)`` for a :class:`CoreState`, ``(high, low, close, volume)`` for an
        :class:`ExtraState` or :class:`IndicatorState`; each an array of ``n_symbols`` values, NaN where a
        symbol has no bar. A :class:`CoreState` needs no volume.

    Returns
    -------
    Core | Extra | Indicators
        :class:`~capscope.indicators.api.Core` (11 fields) for a :class:`CoreState`, :class:`Extra` (9) for an
        :class:`ExtraState`, :class:`Indicators` (20) for an :class:`IndicatorState`; each value equals the
        batch function's value at this bar, bit for bit.
    """
    if isinstance(state, CoreState):
        h, lo, c = _rows(bar, ("high", "low", "close"), state.n_symbols)
        return Core(*state._step(h, lo, c))
    if isinstance(state, ExtraState):
        h, lo, c, v = _rows(bar, ("high", "low", "close", "volume"), state.n_symbols)
        return Extra(*state._step(h, lo, c, v))
    if isinstance(state, IndicatorState):
        h, lo, c, v = _rows(bar, ("high", "low", "close", "volume"), state.n_symbols)
        return Indicators(*state.core._step(h, lo, c), *state.extra._step(h, lo, c, v))
    raise UsageError(
        f"update needs a CoreState, ExtraState or IndicatorState, got {type(state).__name__}; "
        "build one with <State>.from_history(...) or <State>.empty(n_symbols)"
    )
