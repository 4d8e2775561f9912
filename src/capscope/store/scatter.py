"""Long-to-wide scatter for panel loading: numba kernels and their plain numpy reference twins.

Input: one row per bar as parallel arrays (``symbol_id``, ``day`` = days since the epoch, one array per field).
Output: the panel's sorted unique dates and, per field, a C-contiguous ``(n_dates, n_symbols)`` array with NaN
where there is no bar. The kernels make one pass over the rows per field and need no sort: the date index comes
from a presence bitmap over the day range (dates are days, so the range is small), the column from a lookup
table ``symbol_id -> column``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba as nb
import numpy as np


@nb.njit(cache=True)
def index_kernel(
    day: np.ndarray, sid: np.ndarray, lut: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row index of each bar, column index of each bar and the sorted unique days (one pass + one scan)."""
    n = day.shape[0]
    lo = day[0]
    hi = day[0]
    for i in range(n):
        d = day[i]
        if d < lo:
            lo = d
        if d > hi:
            hi = d
    span = hi - lo + 1
    row_of = np.full(span, -1, np.int64)
    for i in range(n):
        row_of[day[i] - lo] = 0
    k = 0
    for j in range(span):
        if row_of[j] == 0:
            row_of[j] = k
            k += 1
    days = np.empty(k, np.int64)
    for j in range(span):
        if row_of[j] >= 0:
            days[row_of[j]] = lo + j
    rows = np.empty(n, np.int64)
    cols = np.empty(n, np.int64)
    for i in range(n):
        rows[i] = row_of[day[i] - lo]
        cols[i] = lut[sid[i]]
    return rows, cols, days


@nb.njit(cache=True)
def scatter_kernel(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, out: np.ndarray) -> None:
    """``out[rows[i], cols[i]] = values[i]`` for every bar (``out`` pre-filled with NaN)."""
    for i in range(rows.shape[0]):
        out[rows[i], cols[i]] = values[i]


def index_reference(
    day: np.ndarray, sid: np.ndarray, lut: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plain numpy twin of :func:`index_kernel`."""
    days, rows = np.unique(day, return_inverse=True)
    return rows.astype(np.int64), lut[sid].astype(np.int64), days.astype(np.int64)


def scatter(
    day: np.ndarray, sid: np.ndarray, lut: np.ndarray, n_cols: int, values: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Scatter bars into time-major arrays with the kernels.

    Parameters
    ----------
    day
        Days since 1970-01-01 (int64) of each bar; at least one bar.
    sid
        Symbol id of each bar.
    lut
        ``symbol_id -> column`` (every ``sid`` must map to a column in ``[0, n_cols)``).
    n_cols
        Number of columns.
    values
        One float64 array per field, aligned with ``day``.

    Returns
    -------
    days, cols, arrays
        Sorted unique days (int64), each bar's column, and per field a C-contiguous ``(n_days, n_cols)`` array.
    """
    rows, cols, days = index_kernel(
        np.ascontiguousarray(day, dtype=np.int64), np.ascontiguousarray(sid), np.ascontiguousarray(lut)
    )
    block = np.full((len(values), len(days), n_cols), np.nan)
    for k, field_values in enumerate(values):
        scatter_kernel(rows, cols, np.ascontiguousarray(field_values, dtype=np.float64), block[k])
    return days, cols, [block[k] for k in range(len(values))]


def scatter_reference(
    day: np.ndarray, sid: np.ndarray, lut: np.ndarray, n_cols: int, values: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Plain numpy twin of :func:`scatter`."""
    rows, cols, days = index_reference(np.asarray(day, dtype=np.int64), np.asarray(sid), np.asarray(lut))
    arrays = []
    for field_values in values:
        arr = np.full((len(days), n_cols), np.nan)
        arr[rows, cols] = field_values
        arrays.append(arr)
    return days, cols, arrays
