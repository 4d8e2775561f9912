"""Kernels that turn raw event arrays into the event frame: a stable radix argsort and the tie order.

Both are numba kernels with plain numpy twins that the tests hold equal:

* :func:`stable_argsort` orders non-negative ``int64`` keys like ``np.argsort(kind="stable")``
  (:func:`stable_argsort_reference`), in a few linear passes whatever the input order (numpy's stable sort is a
  merge sort, fast on presorted runs and several times slower on scattered keys);
* :func:`tie_order` orders the short runs of rows tied on that key by their remaining sort parameters
  (:func:`tie_order_reference`).

:func:`carve` hands out the frame's column arrays from one allocation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import njit

_DIGIT_BITS = 12  # 4096 buckets: the counts stay in L1, and two passes cover keys below 2**24


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
    cur_key = key.copy()
    tmp_key = np.empty(n, np.int64)
    tmp_order = np.empty(n, np.int64)
    shift = 0
    while shift < 63 and (kmax >> shift) > 0:
        count = np.zeros(mask + 2, np.int64)
        for i in range(n):
            count[((cur_key[i] >> shift) & mask) + 1] += 1
        for d in range(mask + 1):
            count[d + 1] += count[d]
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
    one scan.
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
