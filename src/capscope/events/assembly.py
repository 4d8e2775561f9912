"""Kernels that turn raw event arrays into the event frame: sort keys, a stable radix argsort, the tie order,
and the column writers.

All are numba kernels with plain numpy twins that the tests hold equal:

* :func:`stable_argsort` orders non-negative ``int64`` keys like ``np.argsort(kind="stable")``
  (:func:`stable_argsort_reference`), in a few linear passes whatever the input order (numpy's stable sort is a
  merge sort, fast on presorted runs and several times slower on scattered keys);
* :func:`tie_order` orders the short runs of rows tied on that key by their remaining sort parameters
  (:func:`tie_order_reference`);
* :func:`pack_keys` builds the sort keys, :func:`inverse_permutation` the rows' sorted positions,
  :func:`decode_keys` the base columns from the sorted keys, and :func:`scatter` / :func:`scatter_present` write
  the kind fields into their sorted positions (each with a ``*_reference`` twin).

:func:`carve` hands out the frame's column arrays from one allocation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import njit

_DIGIT_BITS = 12  # 4096 buckets: the counts stay in L1, and two passes cover keys below 2**24


@njit(cache=True)
def _digit_starts(values, shift, mask):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Where each digit ``(v >> shift) & mask`` of ``values`` starts in one counting-sort pass (``count[d]``;
    the pass advances it as it places the values)."""
    count = np.zeros(mask + 2, np.int64)
    for i in range(values.shape[0]):
        count[((values[i] >> shift) & mask) + 1] += 1
    for d in range(mask + 1):
        count[d + 1] += count[d]
    return count


@njit(cache=True)
def _radix_argsort(key):  # type: ignore[no-untyped-def]  # pragma: no cover
    """``(order, key[order])``: the sorted keys come for free from the last pass."""
    n = key.shape[0]
    order = np.arange(n)
    if n < 2:
        return order, key.copy()
    kmax = key.max()
    sorted_already = True
    for i in range(1, n):
        if key[i] < key[i - 1]:
            sorted_already = False
            break
    if sorted_already:
        return order, key.copy()
    mask = (1 << _DIGIT_BITS) - 1
    index_bits = 0
    while (1 << index_bits) < n:
        index_bits += 1
    key_bits = 0
    while key_bits < 63 and (kmax >> key_bits) > 0:
        key_bits += 1
    if key_bits + index_bits <= 63:
        # key and input index packed into one int64 (key above the index): one array to move per pass instead of
        # two, and equal keys stay in input order because their indices do
        cur = np.empty(n, np.int64)
        for i in range(n):
            cur[i] = (key[i] << index_bits) | i
        tmp = np.empty(n, np.int64)
        shift = index_bits
        while shift < index_bits + key_bits:
            count = _digit_starts(cur, shift, mask)
            for i in range(n):
                d = (cur[i] >> shift) & mask
                k = count[d]
                count[d] = k + 1
                tmp[k] = cur[i]
            cur, tmp = tmp, cur
            shift += _DIGIT_BITS
        low = (1 << index_bits) - 1
        sorted_key = np.empty(n, np.int64)
        for i in range(n):
            order[i] = cur[i] & low
            sorted_key[i] = cur[i] >> index_bits
        return order, sorted_key
    cur_key = key.copy()
    tmp_key = np.empty(n, np.int64)
    tmp_order = np.empty(n, np.int64)
    shift = 0
    while shift < 63 and (kmax >> shift) > 0:
        count = _digit_starts(cur_key, shift, mask)
        for i in range(n):
            d = (cur_key[i] >> shift) & mask
            k = count[d]
            count[d] = k + 1
            tmp_key[k] = cur_key[i]
            tmp_order[k] = order[i]
        cur_key, tmp_key = tmp_key, cur_key
        order, tmp_order = tmp_order, order
        shift += _DIGIT_BITS
    return order, cur_key


def stable_argsort(key: np.ndarray) -> np.ndarray:
    """Indices that sort ``key`` (non-negative ``int64``) stably: equal keys keep their input order.

    LSD radix sort in 12-bit digits (as many passes as the largest key needs); an already sorted input costs
    one scan. When the key's bits and the row index's bits fit in 63, each key moves packed with its index in
    one ``int64`` (half the memory traffic per pass).
    """
    return stable_sort(key)[0]


def stable_sort(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(order, key[order])`` of :func:`stable_argsort`, without a gather for the sorted keys."""
    key = np.ascontiguousarray(key, dtype=np.int64)
    if len(key) and key.min() < 0:
        raise ValueError("stable_argsort needs non-negative keys")
    order, sorted_key = _radix_argsort(key)
    return order, sorted_key


def stable_argsort_reference(key: np.ndarray) -> np.ndarray:
    """Plain twin of :func:`stable_argsort`."""
    return np.argsort(np.asarray(key, dtype=np.int64), kind="stable")


def carve(specs: Sequence[tuple[int, Any]]) -> list[np.ndarray]:
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


@njit(cache=True)
def _tie_order(primary, keys):  # type: ignore[no-untyped-def]  # pragma: no cover
    n, k = keys.shape
    order = np.arange(n)
    start = 0
    while start < n:
        stop = start + 1
        while stop < n and primary[stop] == primary[start]:
            stop += 1
        # insertion sort of the run by the key tuple (runs are a few rows; stable: only strictly smaller moves)
        for i in range(start + 1, stop):
            cur = order[i]
            pos = i
            while pos > start:
                prev = order[pos - 1]
                less = False
                for c in range(k):
                    a = keys[cur, c]
                    b = keys[prev, c]
                    if a != b:
                        less = a < b
                        break
                if not less:
                    break
                order[pos] = prev
                pos -= 1
            order[pos] = cur
        start = stop
    return order


def tie_order(primary: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Stable order of rows already sorted by ``primary`` that also sorts each run of equal ``primary`` by the
    rows of ``keys`` (lexicographically, column 0 first; ``-inf`` for missing values sorts them first).

    Equivalent to ``np.lexsort([*keys.T[::-1], primary])`` for sorted ``primary``
    (:func:`tie_order_reference`); runs are short, so each is insertion-sorted.
    """
    keys = np.ascontiguousarray(keys, dtype=np.float64)
    if np.isnan(keys).any():
        raise ValueError("tie keys must not be NaN (use -inf for missing values)")
    return _tie_order(np.ascontiguousarray(primary, dtype=np.int64), keys)


def tie_order_reference(primary: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Plain twin of :func:`tie_order`."""
    keys = np.asarray(keys, dtype=np.float64)
    return np.lexsort([*keys.T[::-1], np.asarray(primary, dtype=np.int64)])


@njit(cache=True)
def _scatter(pos, values, step, out):  # type: ignore[no-untyped-def]  # pragma: no cover
    for i in range(pos.shape[0]):
        out[pos[i]] = values[i * step]


def scatter(pos: np.ndarray, values: np.ndarray, out: np.ndarray) -> None:
    """``out[pos] = values`` for ``values`` of ``out``'s dtype: one per position, or one for all (length 1).

    :func:`scatter_reference` is the plain twin (numpy's fancy setitem, whose per-call and per-element overhead
    this loop saves).
    """
    if values.dtype != out.dtype:
        raise ValueError(f"values ({values.dtype}) must be of the output's dtype ({out.dtype})")
    if len(values) != len(pos) and len(values) != 1:
        raise ValueError(f"{len(values)} values for {len(pos)} positions")
    _scatter(pos, values, 0 if len(values) == 1 else 1, out)


def scatter_reference(pos: np.ndarray, values: np.ndarray, out: np.ndarray) -> None:
    """Plain twin of :func:`scatter`."""
    out[pos] = values


@njit(cache=True)
def _scatter_present(pos, values, out, gone):  # type: ignore[no-untyped-def]  # pragma: no cover
    for i in range(pos.shape[0]):
        v = values[i]
        if v == v:
            j = pos[i]
            out[j] = v
            gone[j] = False


def scatter_present(pos: np.ndarray, values: np.ndarray, out: np.ndarray, gone: np.ndarray) -> None:
    """Scatter the non-NaN ``values`` (``float64``) into a nullable column: ``out[pos[i]] = values[i]`` (cast to
    ``out``'s integer or boolean dtype as numpy casts: truncated, or ``!= 0``) and ``gone[pos[i]] = False``;
    NaN rows keep what ``out`` and ``gone`` hold. :func:`scatter_present_reference` is the plain twin.
    """
    if values.dtype != np.float64 or len(values) != len(pos):
        raise ValueError(f"values must be float64, one per position (got {values.dtype}, {len(values)})")
    _scatter_present(pos, values, out, gone)


def scatter_present_reference(pos: np.ndarray, values: np.ndarray, out: np.ndarray, gone: np.ndarray) -> None:
    """Plain twin of :func:`scatter_present`."""
    good = ~np.isnan(values)
    out[pos[good]] = values[good]
    gone[pos[good]] = False


@njit(inline="always")
def _floordiv(k, d, inv):  # type: ignore[no-untyped-def]  # pragma: no cover
    """``k // d`` for ``k >= 0``, ``d >= 1`` (``inv = 1 / d``): a multiply and a correction instead of a 64-bit
    division (tens of cycles each)."""
    q = np.int64(k * inv)
    while q * d > k:
        q -= 1
    while (q + 1) * d <= k:
        q += 1
    return q


@njit(cache=True)
def _decode_keys(ks, n_sym, n_slots, dates, close, by_name, slot_code, date, price, symbol, kind):  # type: ignore[no-untyped-def]  # pragma: no cover
    per_row = n_sym * n_slots
    inv_row = 1.0 / per_row
    inv_slots = 1.0 / n_slots
    for i in range(ks.shape[0]):
        k = ks[i]
        t = _floordiv(k, per_row, inv_row)
        rest = k - t * per_row
        rank = _floordiv(rest, n_slots, inv_slots)
        date[i] = dates[t]
        price[i] = close[t, by_name[rank]]
        symbol[i] = rank
        kind[i] = slot_code[rest - rank * n_slots]


def decode_keys(
    ks: np.ndarray,
    n_sym: int,
    n_slots: int,
    dates: np.ndarray,
    close: np.ndarray,
    by_name: np.ndarray,
    slot_code: np.ndarray,
    out: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """The base columns of sorted rows from their keys ``(t * n_sym + rank) * n_slots + slot`` (non-negative).

    ``out`` = (date, price, symbol code, kind code): ``dates[t]`` (``int64``), ``close[t, by_name[rank]]``, the
    symbol's name rank and ``slot_code[slot]``. :func:`decode_keys_reference` is the plain twin.
    """
    date, price, symbol, kind = out
    _decode_keys(ks, n_sym, n_slots, dates, close, by_name, slot_code, date, price, symbol, kind)


def decode_keys_reference(
    ks: np.ndarray,
    n_sym: int,
    n_slots: int,
    dates: np.ndarray,
    close: np.ndarray,
    by_name: np.ndarray,
    slot_code: np.ndarray,
    out: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Plain twin of :func:`decode_keys`."""
    date, price, symbol, kind = out
    t, rest = np.divmod(ks, n_sym * n_slots)
    rank, slot = np.divmod(rest, n_slots)
    date[:] = dates[t]
    price[:] = close[t, by_name[rank]]
    symbol[:] = rank
    kind[:] = slot_code[slot]


@njit(cache=True)
def _pack_keys(row, col, kind, symbol_rank, slot, n_sym, n_slots, out):  # type: ignore[no-untyped-def]  # pragma: no cover
    n_cols = symbol_rank.shape[0]
    n_kinds = slot.shape[0]
    for i in range(row.shape[0]):
        c = col[i]
        k = kind[i]
        if c < 0 or c >= n_cols or k < 0 or k >= n_kinds:
            return i
        out[i] = (np.int64(row[i]) * n_sym + symbol_rank[c]) * n_slots + slot[k]
    return -1


def pack_keys(
    row: np.ndarray,
    col: np.ndarray,
    kind: np.ndarray,
    symbol_rank: np.ndarray,
    slot: np.ndarray,
    n_sym: int,
    n_slots: int,
    out: np.ndarray,
) -> None:
    """``out = (row * n_sym + symbol_rank[col]) * n_slots + slot[kind]`` in one pass (numpy takes six).

    :func:`pack_keys_reference` is the plain twin. A ``col`` or ``kind`` outside its table raises
    :class:`IndexError` naming the row (numpy would raise too, or wrap a negative index around).
    """
    row, col, kind = np.asarray(row), np.asarray(col), np.asarray(kind)
    bad = _pack_keys(row, col, kind, symbol_rank, slot, n_sym, n_slots, out)
    if bad >= 0:
        raise IndexError(
            f"event row {bad}: col {col[bad]} or kind {kind[bad]} is outside 0..{len(symbol_rank) - 1} / "
            f"0..{len(slot) - 1}"
        )


def pack_keys_reference(
    row: np.ndarray,
    col: np.ndarray,
    kind: np.ndarray,
    symbol_rank: np.ndarray,
    slot: np.ndarray,
    n_sym: int,
    n_slots: int,
    out: np.ndarray,
) -> None:
    """Plain twin of :func:`pack_keys`."""
    out[:] = (np.asarray(row, dtype=np.int64) * n_sym + symbol_rank[col]) * n_slots + slot[kind]


@njit(cache=True)
def _inverse(order):  # type: ignore[no-untyped-def]  # pragma: no cover
    pos = np.empty(order.shape[0], np.int64)
    for i in range(order.shape[0]):
        pos[order[i]] = i
    return pos


def inverse_permutation(order: np.ndarray) -> np.ndarray:
    """``pos`` with ``pos[order[i]] = i`` (``order``: a permutation of ``0..n-1``, as :func:`stable_sort` returns).

    :func:`inverse_permutation_reference` is the plain twin.
    """
    return _inverse(order)


def inverse_permutation_reference(order: np.ndarray) -> np.ndarray:
    """Plain twin of :func:`inverse_permutation`."""
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order))
    return pos
