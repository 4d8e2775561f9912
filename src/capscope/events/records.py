"""The event record layout (DESIGN.md, "Event record"): one pandas DataFrame layout for every signal.

Every event function in :mod:`capscope.events` returns a DataFrame with exactly the columns
:data:`EVENT_COLUMNS`, in that order and with the dtypes of :func:`empty_events`. The first four columns apply
to every kind (``symbol``, ``date`` = the bar on which the event became knowable, ``kind``, ``price`` = close on
``date``); the other columns are *kind fields* that are filled for the kinds listed in :data:`KIND_FIELDS` and
missing (NaN / ``<NA>`` / ``None``) otherwise. :func:`events_to_records` turns a frame into JSON-ready dicts that
carry only the fields of each event's kind.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from capscope.data.panel import Panel

# -- kinds -------------------------------------------------------------------------------------------------
GOLDEN_CROSS = "golden_cross"
DEATH_CROSS = "death_cross"
PRICE_CROSS_ABOVE = "price_cross_above"
PRICE_CROSS_BELOW = "price_cross_below"
MACD_BULLISH_CROSS = "macd_bullish_cross"
MACD_BEARISH_CROSS = "macd_bearish_cross"
MACD_ZERO_CROSS_UP = "macd_zero_cross_up"
MACD_ZERO_CROSS_DOWN = "macd_zero_cross_down"
RSI_OVERBOUGHT = "rsi_overbought"
RSI_OVERBOUGHT_EXIT = "rsi_overbought_exit"
RSI_OVERSOLD = "rsi_oversold"
RSI_OVERSOLD_EXIT = "rsi_oversold_exit"
LEVEL_FORMED = "level_formed"
BREAKOUT_ABOVE = "breakout_above"
BREAKDOWN_BELOW = "breakdown_below"
BREAKOUT_FAILED = "breakout_failed"
BREAKDOWN_FAILED = "breakdown_failed"

#: Level kinds (``level_kind`` field).
RESISTANCE = "resistance"
SUPPORT = "support"
NECKLINE = "neckline"

_MA_FIELDS = ("ma", "fast", "slow", "fast_value", "slow_value")
_PRICE_MA_FIELDS = ("ma", "window", "ma_value")
_MACD_FIELDS = ("fast", "slow", "signal", "macd", "signal_value", "above_zero")
_MACD_ZERO_FIELDS = ("fast", "slow", "signal", "macd", "signal_value")
_RSI_FIELDS = ("window", "rsi", "threshold")
_LEVEL_FIELDS = ("level", "level_kind", "touches", "first_touch", "last_touch", "strength")
_BREAKOUT_FIELDS = ("level", "level_kind", "touches", "first_touch", "last_touch")
_FAILED_FIELDS = ("level", "level_kind", "breakout_date")

#: Kind -> the kind fields that apply to it (in column order).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    GOLDEN_CROSS: _MA_FIELDS,
    DEATH_CROSS: _MA_FIELDS,
    PRICE_CROSS_ABOVE: _PRICE_MA_FIELDS,
    PRICE_CROSS_BELOW: _PRICE_MA_FIELDS,
    MACD_BULLISH_CROSS: _MACD_FIELDS,
    MACD_BEARISH_CROSS: _MACD_FIELDS,
    MACD_ZERO_CROSS_UP: _MACD_ZERO_FIELDS,
    MACD_ZERO_CROSS_DOWN: _MACD_ZERO_FIELDS,
    RSI_OVERBOUGHT: _RSI_FIELDS,
    RSI_OVERBOUGHT_EXIT: _RSI_FIELDS,
    RSI_OVERSOLD: _RSI_FIELDS,
    RSI_OVERSOLD_EXIT: _RSI_FIELDS,
    LEVEL_FORMED: _LEVEL_FIELDS,
    BREAKOUT_ABOVE: _BREAKOUT_FIELDS,
    BREAKDOWN_BELOW: _BREAKOUT_FIELDS,
    BREAKOUT_FAILED: _FAILED_FIELDS,
    BREAKDOWN_FAILED: _FAILED_FIELDS,
}

#: Every event kind this package emits.
EVENT_KINDS: tuple[str, ...] = tuple(KIND_FIELDS)

#: Kind families (names accepted by ``scan --kinds`` besides single kinds).
KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "ma_cross": (GOLDEN_CROSS, DEATH_CROSS),
    "price_cross": (PRICE_CROSS_ABOVE, PRICE_CROSS_BELOW),
    "macd": (MACD_BULLISH_CROSS, MACD_BEARISH_CROSS),
    "macd_zero": (MACD_ZERO_CROSS_UP, MACD_ZERO_CROSS_DOWN),
    "rsi": (RSI_OVERBOUGHT, RSI_OVERBOUGHT_EXIT, RSI_OVERSOLD, RSI_OVERSOLD_EXIT),
    "levels": (LEVEL_FORMED,),
    "breakouts": (BREAKOUT_ABOVE, BREAKDOWN_BELOW, BREAKOUT_FAILED, BREAKDOWN_FAILED),
}

#: Column -> dtype of the event frame. Text is pandas ``category`` (categories: :func:`text_dtype`), integers are
#: nullable (``Int64``), ``above_zero`` is ``boolean``; missing values are NaN / ``<NA>`` / ``NaT``.
EVENT_DTYPES: dict[str, str] = {
    "symbol": "category",
    "date": "datetime64[ns]",
    "kind": "category",
    "price": "float64",
    "ma": "category",
    "fast": "Int64",
    "slow": "Int64",
    "fast_value": "float64",
    "slow_value": "float64",
    "window": "Int64",
    "ma_value": "float64",
    "signal": "Int64",
    "macd": "float64",
    "signal_value": "float64",
    "above_zero": "boolean",
    "rsi": "float64",
    "threshold": "float64",
    "level": "float64",
    "level_kind": "category",
    "touches": "Int64",
    "first_touch": "datetime64[ns]",
    "last_touch": "datetime64[ns]",
    "strength": "float64",
    "breakout_date": "datetime64[ns]",
}

#: Columns of every event frame, in order.
EVENT_COLUMNS: tuple[str, ...] = tuple(EVENT_DTYPES)
_BASE_COLUMNS = ("symbol", "date", "kind", "price")
#: Sort order of event frames: chronological, then by symbol and kind (and level for same-bar level events).
SORT_COLUMNS = ["date", "symbol", "kind", "ma", "fast", "slow", "window", "threshold", "level"]


#: Vocabulary of the text kind fields (sorted, so code order is name order); parts carry codes.
TEXT_VOCAB: dict[str, tuple[str, ...]] = {
    "ma": ("ema", "sma"),
    "level_kind": tuple(sorted((NECKLINE, RESISTANCE, SUPPORT))),
}
_KIND_DTYPE = pd.CategoricalDtype(sorted(EVENT_KINDS))
_TEXT_DTYPES = {name: pd.CategoricalDtype(list(vocab)) for name, vocab in TEXT_VOCAB.items()}


def text_dtype(name: str, symbols: Iterable[str] = ()) -> pd.CategoricalDtype:
    """The categorical dtype of a text column of the event frame.

    ``kind``: every kind of :data:`EVENT_KINDS`, sorted by name; ``ma`` and ``level_kind``: :data:`TEXT_VOCAB`;
    ``symbol``: ``symbols`` (the panel's symbols) sorted by name. Categories are always sorted, so their codes
    order rows as the names do.
    """
    if name == "symbol":
        return pd.CategoricalDtype(sorted(set(symbols)))
    return _KIND_DTYPE if name == "kind" else _TEXT_DTYPES[name]


def empty_events(symbols: Iterable[str] = ()) -> pd.DataFrame:
    """Return an event frame with no rows (all columns, all dtypes; ``symbols``: the symbol categories)."""
    return pd.DataFrame(
        {
            c: pd.Series([], dtype=text_dtype(c, symbols) if t == "category" else t)
            for c, t in EVENT_DTYPES.items()
        }
    )


def make_events(
    kind: np.ndarray | str,
    columns: Mapping[str, Any],
    *,
    symbol: np.ndarray,
    date: np.ndarray,
    symbols: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Build an event frame from column arrays; columns not given are missing.

    Parameters
    ----------
    kind
        One kind for all rows, or an array of kinds.
    columns
        Kind fields (and ``price``): arrays of the same length as ``symbol``, or scalars broadcast to it.
    symbol, date
        The symbol and knowable date of each event (``date`` as ``datetime64``).
    symbols
        Categories of the ``symbol`` column (e.g. the panel's symbols); default: the symbols given.
    """
    unknown = set(columns) - set(EVENT_COLUMNS)
    if unknown:
        raise ValueError(f"unknown event columns {sorted(unknown)}; columns: {', '.join(EVENT_COLUMNS)}")
    n = len(symbol)
    symbol_dtype = text_dtype(
        "symbol", np.asarray(symbol, dtype=object).tolist() if symbols is None else symbols
    )
    data: dict[str, Any] = {}
    for col, dtype in EVENT_DTYPES.items():
        if col == "symbol":
            data[col] = _column(symbol, symbol_dtype, n, col)
        elif col == "date":
            data[col] = np.asarray(date, dtype="datetime64[ns]")
        elif col == "kind":
            data[col] = _column(kind, dtype, n, col)
        elif col in columns:
            data[col] = _column(columns[col], dtype, n, col)
        else:
            data[col] = _missing(dtype, n, col)
    return pd.DataFrame(data, copy=False)


def _column(value: Any, dtype: str | pd.CategoricalDtype, n: int, name: str) -> Any:
    """One column in its event dtype; scalars are broadcast, NaN marks missing integers and booleans.

    Text (``category``) values must be categories of the column (:func:`text_dtype`) or missing.
    """
    if dtype == "category" or isinstance(dtype, pd.CategoricalDtype):
        cat = dtype if isinstance(dtype, pd.CategoricalDtype) else text_dtype(name)
        arr = np.full(n, value, dtype=object) if np.ndim(value) == 0 else np.asarray(value, dtype=object)
        present = pd.notna(arr)
        codes = np.full(n, -1, dtype=np.int64)
        codes[present] = cat.categories.get_indexer(pd.Index(arr[present]))
        lost = present & (codes < 0)
        if lost.any():
            bad = sorted({str(v) for v in arr[lost]})
            raise ValueError(f"{name} values {bad} are not among {', '.join(map(str, cat.categories))}")
        return pd.Categorical.from_codes(codes, dtype=cat)
    if dtype.startswith("datetime"):
        return np.broadcast_to(np.asarray(value, dtype="datetime64[ns]"), (n,)).copy()
    if dtype == "float64":
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
    arr = np.broadcast_to(np.asarray(value), (n,))
    mask = np.isnan(arr) if arr.dtype.kind == "f" else np.zeros(n, dtype=bool)
    if dtype == "boolean":
        return pd.arrays.BooleanArray(np.where(mask, False, arr).astype(bool), mask)
    return pd.arrays.IntegerArray(np.where(mask, 0, arr).astype(np.int64), mask)


def _missing(dtype: str, n: int, name: str) -> Any:
    if dtype == "category":
        return pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), dtype=text_dtype(name))
    if dtype.startswith("datetime"):
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if dtype == "float64":
        return np.full(n, np.nan)
    if dtype == "boolean":
        return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    return pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))


def _sort_key(col: pd.Series) -> np.ndarray:
    if isinstance(col.dtype, pd.CategoricalDtype):  # by category name, missing (code -1) first
        names = col.dtype.categories.to_numpy(dtype=object)
        rank = np.empty(len(names) + 1, dtype=np.int64)
        rank[np.argsort(names, kind="stable")] = np.arange(len(names))
        rank[-1] = -1
        return rank[col.cat.codes.to_numpy()]
    if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
        return pd.factorize(col.fillna(""), sort=True)[0]
    if isinstance(col.dtype, pd.api.extensions.ExtensionDtype):
        return col.to_numpy(dtype=np.float64, na_value=-np.inf)
    values = col.to_numpy()
    if values.dtype.kind == "M":
        return values.view(np.int64)
    return np.where(np.isnan(values), -np.inf, values)


def _order(primary: np.ndarray, ties: list[np.ndarray]) -> np.ndarray:
    """Stable order by ``primary`` then the ``ties`` keys (used only for rows that tie on ``primary``)."""
    order = np.argsort(primary, kind="stable")
    if ties and len(order) > 1:
        ps = primary[order]
        same = ps[1:] == ps[:-1]
        tied = np.r_[False, same] | np.r_[same, False]
        if tied.any():
            idx = order[tied]
            sub = np.lexsort([*[k[idx] for k in ties][::-1], primary[idx]])
            order[tied] = idx[sub]
    return order


def _lex_order(keys: list[np.ndarray]) -> np.ndarray:
    """Stable lexicographic order of ``keys`` (most significant first), fast when later keys rarely decide.

    The first three keys are dense-ranked and combined into one ``int64`` for a single stable argsort; only
    rows that tie on all three are ordered by the remaining keys.
    """
    primary = np.zeros(len(keys[0]), dtype=np.int64)
    for key in keys[:3]:
        uniq, inv = np.unique(key, return_inverse=True)
        primary = primary * len(uniq) + inv.astype(np.int64)
    return _order(primary, keys[3:])


def sort_events(events: pd.DataFrame, *, newest_first: bool = False) -> pd.DataFrame:
    """Sort events chronologically, then by symbol, kind and parameters; ``newest_first`` reverses the dates.

    Missing parameters sort first; the sort is stable, so fully tied rows keep their order.
    """
    if events.empty:
        return events.reset_index(drop=True)
    keys = [_sort_key(events[c]) for c in SORT_COLUMNS]
    if newest_first:
        keys[0] = -keys[0]
    order = _lex_order(keys)
    if np.array_equal(order, np.arange(len(order))):
        return events.reset_index(drop=True)
    return events.take(order).reset_index(drop=True)


def concat_events(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate event frames into one, sorted with :func:`sort_events`; no frames -> :func:`empty_events`.

    The ``symbol`` categories of the result are the union of the frames' categories, sorted (frames of different
    panels); text columns given as plain strings become categoricals (:func:`text_dtype`).
    """
    frames = list(frames)
    symbols: set[str] = set()
    for f in frames:
        col = f["symbol"]
        if isinstance(col.dtype, pd.CategoricalDtype):
            symbols.update(col.dtype.categories)
        else:
            symbols.update(col.dropna().astype(str))
    parts = [f for f in frames if len(f)]
    if not parts:
        return empty_events(symbols)
    dtypes = {c: text_dtype(c, symbols) if t == "category" else t for c, t in EVENT_DTYPES.items()}
    out = pd.concat([_as_event_dtypes(p, dtypes) for p in parts], ignore_index=True)
    return sort_events(out)


def _as_event_dtypes(frame: pd.DataFrame, dtypes: dict[str, Any]) -> pd.DataFrame:
    """``frame`` with exactly ``dtypes`` (categoricals recoded to the given categories, in their order)."""
    if list(frame.columns) != list(dtypes):
        frame = frame.reindex(columns=list(dtypes))
    cols = {}
    for name, dtype in dtypes.items():
        col = frame[name]
        if isinstance(dtype, pd.CategoricalDtype):
            if isinstance(col.dtype, pd.CategoricalDtype):
                if not col.dtype.categories.equals(dtype.categories):
                    # set_categories recodes by value (astype may keep an unordered dtype that differs in order)
                    cols[name] = col.cat.set_categories(dtype.categories)
            else:
                cols[name] = col.astype(object).astype(dtype)
        elif str(col.dtype) != dtype:
            cols[name] = col.astype(dtype)
    return frame.assign(**cols) if cols else frame


@dataclass
class EventParts:
    """Events of one family as raw arrays, before they become a frame (internal to :mod:`capscope.events`).

    ``row`` / ``col`` index the panel (date, symbol), ``kind`` indexes :data:`EVENT_KINDS`; ``fields`` maps kind
    fields to arrays of the same length or scalars. Integer and boolean fields may use NaN for missing.
    """

    row: np.ndarray
    col: np.ndarray
    kind: np.ndarray
    fields: dict[str, Any]

    def __len__(self) -> int:
        return len(self.row)


#: Kind -> code (index in :data:`EVENT_KINDS`).
KIND_CODES: dict[str, int] = {k: i for i, k in enumerate(EVENT_KINDS)}
_KIND_RANK = np.argsort(np.argsort(np.asarray(EVENT_KINDS, dtype=object)))


def kind_codes(names: Iterable[str]) -> np.ndarray:
    """Codes of kind names (for :class:`EventParts`)."""
    return np.array([KIND_CODES[k] for k in names], dtype=np.int64)


def text_codes(name: str, values: Any) -> Any:
    """Codes of a text field's values in :data:`TEXT_VOCAB` (a scalar stays a scalar)."""
    vocab = TEXT_VOCAB[name]
    lookup = {v: float(i) for i, v in enumerate(vocab)}
    try:
        if np.ndim(values) == 0:
            return lookup[values]
        return np.array([lookup[v] for v in values], dtype=np.float64)
    except KeyError as exc:
        raise ValueError(f"{name} must be one of {', '.join(vocab)}, got {exc.args[0]!r}") from None


def _as_text_codes(name: str, value: Any) -> Any:
    """A text field's value as float codes (NaN = missing); strings and object arrays are looked up."""
    if isinstance(value, str) or (isinstance(value, np.ndarray) and value.dtype == object):
        return text_codes(name, value)
    return value


def _tie_value(name: str, value: Any) -> float | None:
    """The sort key the tie order gives a scalar kind field (``-inf`` when missing, as a column would hold it);
    ``None`` when the field is an array."""
    if isinstance(value, str) or np.ndim(value) != 0:
        return None if not isinstance(value, str) else _tie_value(name, _as_text_codes(name, value))
    f = float(value)
    if math.isnan(f):
        return -math.inf
    if EVENT_DTYPES[name] != "float64":  # stored in an int64 column (integers, text codes)
        f = float(np.int64(f))
    return f


def _tie_column(name: str, value: Any, n: int) -> np.ndarray:
    """:func:`_tie_value` of ``n`` rows of a field (array or scalar), as the column would hold them."""
    if isinstance(value, str) or np.ndim(value) == 0:
        return np.full(n, _tie_value(name, value))
    arr = np.asarray(_as_text_codes(name, value) if EVENT_DTYPES[name] == "category" else value)
    if arr.dtype.kind != "f":
        return arr.astype(np.float64)
    gone = np.isnan(arr)
    if EVENT_DTYPES[name] != "float64":  # stored in an int64 column
        arr = np.where(gone, 0.0, arr).astype(np.int64).astype(np.float64)
    return np.where(gone, -np.inf, arr)


def _tie_keys(parts: list[EventParts], bounds: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Sort parameters (:data:`SORT_COLUMNS` after ``kind``, ``-inf`` for missing) of the rows ``src`` of the
    concatenated parts (``bounds``: part offsets)."""
    keys = np.full((len(src), len(SORT_COLUMNS) - 3), -np.inf)
    part_of = np.searchsorted(bounds, src, side="right") - 1
    for i, p in enumerate(parts):
        sel = np.nonzero(part_of == i)[0]
        if not len(sel):
            continue
        local = src[sel] - bounds[i]
        for c, name in enumerate(SORT_COLUMNS[3:]):
            if name in p.fields:
                v = p.fields[name]
                keys[sel, c] = _tie_column(name, v if np.ndim(v) == 0 else np.asarray(v)[local], len(sel))
    return keys


def _tie_slots(parts: list[EventParts]) -> tuple[list[np.ndarray], np.ndarray]:
    """Each part's kind code -> *slot* table, and the kind code of each slot: slots order the kinds by name and, within a
    kind, the parts by their scalar sort parameters (:data:`SORT_COLUMNS` after ``kind``, missing first).

    Rows that tie on (date, symbol, kind) but come from parts with different parameters then differ in the sort
    key already, and only rows of one part (or of parts with equal parameters) are left for the tie order. A part
    whose sort parameters are arrays (levels) gets one slot per kind; if it shares a kind with another part,
    every part falls back to one slot per kind (the tie order then does all the work, as :func:`sort_events`).
    """
    n_kinds = len(EVENT_KINDS)
    ties: list[tuple[float, ...] | None] = []
    present = []
    for p in parts:
        values = [
            _tie_value(name, p.fields[name]) if name in p.fields else -math.inf for name in SORT_COLUMNS[3:]
        ]
        ties.append(None if any(v is None for v in values) else tuple(values))  # type: ignore[arg-type]
        has = np.zeros(n_kinds, dtype=bool)
        has[p.kind] = True
        present.append(has)
    count = np.sum(present, axis=0)
    shared = any(t is None and (count[has] > 1).any() for t, has in zip(ties, present, strict=True))
    if shared:
        ties = [None] * len(parts)
    # per kind: the distinct parameter tuples of its parts, in order (array parts: one slot, alone)
    per_kind: list[list[tuple[float, ...]]] = [[] for _ in range(n_kinds)]
    for t, has in zip(ties, present, strict=True):
        for k in np.nonzero(has)[0]:
            per_kind[k].append(t if t is not None else ())
    start = np.zeros(n_kinds, dtype=np.int64)
    slot_kind: list[int] = []
    for k in np.argsort(_KIND_RANK):  # kinds in name order
        start[k] = len(slot_kind)
        per_kind[k] = sorted(set(per_kind[k]))
        slot_kind += [int(k)] * max(len(per_kind[k]), 1)
    slots = []
    for t, has in zip(ties, present, strict=True):
        slot = np.zeros(n_kinds, dtype=np.int64)
        for k in np.nonzero(has)[0]:
            slot[k] = start[k] + per_kind[k].index(t if t is not None else ())
        slots.append(slot)
    return slots, np.array(slot_kind, dtype=np.int64)


def assemble(panel: Panel, parts: Iterable[EventParts]) -> pd.DataFrame:
    """Build one sorted event frame from raw parts.

    ``price`` is the close at each event's cell. Rows are ordered as :func:`sort_events` orders them: one stable
    sort (``np.argsort(kind="stable")``) on a packed (date, symbol, kind) key, then the parameters (missing
    first, ``np.lexsort``) only for rows tied on it. Each kind-field column is prefilled with its missing marker,
    then written straight into its sorted positions from the parts that have it; text columns are categoricals
    whose codes are written directly (symbol and kind codes come from the sort key).

    Plain numpy throughout: hand-written numba kernels for the sort, tie order and scatters (issue 17) made the
    end-to-end ``scan_panel`` only 1.20x faster on the sample stocks (benchmarks/RESULTS.md "Scan assembly
    kernels vs numpy"), under the 1.5x that DESIGN.md's "complexity must pay" rule asks, so they were deleted.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_events(panel.symbols)
    sizes = [len(p) for p in parts]
    bounds = np.cumsum([0, *sizes])
    total = int(bounds[-1])
    n_sym = max(panel.n_symbols, 1)
    by_name = np.argsort(np.asarray(panel.symbols, dtype=object), kind="stable")
    symbol_rank = np.empty(len(by_name), dtype=np.int64)
    symbol_rank[by_name] = np.arange(len(by_name))
    slots, slot_kind = _tie_slots(parts)
    n_slots = len(slot_kind)
    key = np.empty(total, dtype=np.int64)
    for p, slot, a, b in zip(parts, slots, bounds[:-1], bounds[1:], strict=True):
        # key = (date row, symbol name rank, kind slot), packed into one int64
        key[a:b] = (np.asarray(p.row, dtype=np.int64) * n_sym + symbol_rank[p.col]) * n_slots + slot[p.kind]
    order = np.argsort(key, kind="stable")
    ks = key[order]
    # rows tied on the key (same date, symbol, kind and parameter slot): order them by the sort parameters,
    # missing first (stable), before any column is written
    same = ks[1:] == ks[:-1]
    if same.any():
        tied = np.nonzero(np.r_[False, same] | np.r_[same, False])[0]
        src = order[tied]
        sub = np.lexsort([*_tie_keys(parts, bounds, src).T[::-1], ks[tied]])
        order[tied] = src[sub]

    pos = np.empty(total, dtype=np.int64)  # each row's sorted position
    pos[order] = np.arange(total)
    where = [pos[a:b] for a, b in itertools.pairwise(bounds)]

    # every column in sorted order: plain arrays (values + missing mask for nullable ones) until the very end; the
    # frame's own arrays are carved from one block (few page faults)
    symbol_dtype = _symbol_dtype(tuple(panel.symbols))
    code_dtypes = {name: _code_dtype(len(text_dtype(name).categories)) for name in TEXT_VOCAB}
    # date, price, symbol codes, kind codes
    specs: list[tuple[int, Any]] = [
        (total, "datetime64[ns]"),
        (total, np.float64),
        (total, _code_dtype(len(symbol_dtype.categories))),
        (total, _code_dtype(len(EVENT_KINDS))),
    ]
    for name, dtype in EVENT_DTYPES.items():
        if name in _BASE_COLUMNS:
            continue
        if dtype == "category":
            specs.append((total, code_dtypes[name]))
        elif dtype in ("Int64", "boolean"):
            specs += [(total, np.int64 if dtype == "Int64" else bool), (total, bool)]
        else:
            specs.append((total, dtype))
    block = iter(_carve(specs))
    date_out, price_out, symbol_codes, kind_codes_out = next(block), next(block), next(block), next(block)
    values: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    for name, dtype in EVENT_DTYPES.items():
        if name not in _BASE_COLUMNS:
            values[name] = next(block)
            if dtype in ("Int64", "boolean"):
                missing[name] = next(block)

    # date row, symbol and kind of each sorted row are in its key (ties share the key, so their order is moot)
    t, rest = np.divmod(ks, n_sym * n_slots)
    rank, slot_of = np.divmod(rest, n_slots)
    date_out.view(np.int64)[:] = panel.dates.astype("datetime64[ns]").view(np.int64)[t]
    price_out[:] = panel.close[t, by_name[rank]]
    symbol_codes[:] = rank
    kind_codes_out[:] = _KIND_RANK[slot_kind][slot_of]  # kind categories are the kinds in name order
    _scatter_fields(parts, where, values, missing)

    data: dict[str, Any] = {
        # the symbol categories are the panel's symbols in name order: a row's name rank is its code
        "symbol": pd.Categorical.from_codes(symbol_codes, dtype=symbol_dtype, validate=False),
        "date": date_out,
        "kind": pd.Categorical.from_codes(kind_codes_out, dtype=_KIND_DTYPE, validate=False),
        "price": price_out,
    }
    for name, dtype in EVENT_DTYPES.items():
        if name in data:
            continue
        if dtype == "category":
            data[name] = pd.Categorical.from_codes(values[name], dtype=text_dtype(name), validate=False)
        elif dtype == "Int64":
            data[name] = pd.arrays.IntegerArray(values[name], missing[name])
        elif dtype == "boolean":
            data[name] = pd.arrays.BooleanArray(values[name], missing[name])
        else:
            data[name] = values[name]
    return pd.DataFrame(data, copy=False)


def _carve(specs: list[tuple[int, Any]]) -> list[np.ndarray]:
    """Uninitialised arrays of the given ``(length, dtype)``, all views of one allocation (64-byte aligned).

    A frame's columns written into one large block take a few page faults instead of one per 4 KB page: numpy
    asks the kernel for transparent huge pages for blocks of 4 MB and more (where the system allows it), and the
    column arrays do not each go through the allocator. The block lives as long as any of its views.
    """
    starts, total = [], 0
    for n, dtype in specs:
        total = -(-total // 64) * 64
        starts.append(total)
        total += int(n) * np.dtype(dtype).itemsize
    block = np.empty(max(total, 1), dtype=np.uint8)
    return [
        block[s : s + int(n) * np.dtype(d).itemsize].view(d) for s, (n, d) in zip(starts, specs, strict=True)
    ]


@functools.lru_cache(maxsize=16)
def _symbol_dtype(symbols: tuple[str, ...]) -> pd.CategoricalDtype:
    """:func:`text_dtype` of ``symbol``, kept for the panels seen last (building it costs ~1 ms for 700 symbols,
    mostly validating the categories; the dtype is immutable, so frames may share it)."""
    return text_dtype("symbol", symbols)


def _scatter_fields(
    parts: list[EventParts],
    where: list[np.ndarray],
    values: dict[str, np.ndarray],
    missing: dict[str, np.ndarray],
) -> None:
    """The kind fields: each column prefilled with its missing marker, then every part's field scattered into its
    rows' sorted positions (``where``) by numpy's fancy setitem."""
    for name, dtype in EVENT_DTYPES.items():
        if name in _BASE_COLUMNS:
            continue
        out = values[name]
        if dtype == "float64":
            out.fill(np.nan)
        elif dtype.startswith("datetime"):
            out.fill(np.datetime64("NaT"))
        elif dtype == "category":  # codes into the sorted vocabulary, -1 = missing
            out.fill(-1)
        else:  # Int64 and boolean: values + missing mask
            gone = missing[name]
            out.fill(0)
            gone.fill(True)
        for p, w in zip(parts, where, strict=True):
            if name not in p.fields:
                continue
            v = p.fields[name]
            if dtype == "category":
                codes = np.asarray(_as_text_codes(name, v), dtype=np.float64)
                v = np.where(np.isnan(codes), -1, codes)
            if name not in missing:
                out[w] = v
                continue
            arr = np.asarray(v)
            if arr.dtype.kind == "f":
                good = ~np.isnan(arr)
                if arr.ndim == 0:
                    if good:
                        out[w], gone[w] = arr, False
                    continue
                if not good.all():
                    w, arr = w[good], arr[good]
            out[w] = arr
            gone[w] = False


def _code_dtype(n_categories: int) -> type:
    """The integer type pandas keeps the codes of ``n_categories`` categories in (the smallest that holds them and
    -1; ``pandas.core.dtypes.cast.coerce_indexer_dtype``), so the codes are adopted without a copy."""
    for t in (np.int8, np.int16, np.int32):
        if n_categories < np.iinfo(t).max:
            return t
    return np.int64


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value.astype("datetime64[D]"))
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if math.isnan(f) else f
    return value


def events_to_records(events: pd.DataFrame) -> list[dict[str, Any]]:
    """Turn an event frame into JSON-ready dicts.

    Each dict has ``symbol``, ``date`` (ISO ``YYYY-MM-DD``), ``kind``, ``price`` and the kind fields of its
    kind (:data:`KIND_FIELDS`; unknown kinds keep every non-missing column). Dates become ISO strings, NaN and
    missing values ``None``, numpy scalars plain Python numbers and booleans.
    """
    out: list[dict[str, Any]] = []
    cols = list(events.columns)
    for row in events.itertuples(index=False, name=None):
        values = dict(zip(cols, row, strict=True))
        kind = values["kind"]
        fields = KIND_FIELDS.get(kind)
        if fields is None:
            fields = tuple(c for c in cols if c not in _BASE_COLUMNS and _json_value(values[c]) is not None)
        rec = {c: _json_value(values[c]) for c in _BASE_COLUMNS}
        rec.update({c: _json_value(values[c]) for c in fields})
        out.append(rec)
    return out


def resolve_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    """Expand kind names and group names (:data:`KIND_GROUPS`) into event kinds; ``None`` means all.

    Raises
    ------
    ValueError
        For an unknown name, listing the valid kinds and groups.
    """
    if kinds is None:
        return EVENT_KINDS
    out: list[str] = []
    for name in kinds:
        name = name.strip()
        if not name:
            continue
        if name == "all":
            return EVENT_KINDS
        if name in KIND_GROUPS:
            out.extend(k for k in KIND_GROUPS[name] if k not in out)
        elif name in KIND_FIELDS:
            if name not in out:
                out.append(name)
        else:
            raise ValueError(
                f"unknown event kind {name!r}; kinds: {', '.join(EVENT_KINDS)}; groups: {', '.join(KIND_GROUPS)}"
            )
    return tuple(out)
