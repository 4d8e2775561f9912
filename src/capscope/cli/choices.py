"""One wording for a value that is not one of the allowed choices (options, kinds, symbols).

Every command checks ``--format``, ``--mode``, ``--status``, kinds and symbols with these helpers so that the
user always reads the same sentence: what was given, the valid choices, and the closest one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from capscope.errors import UsageError

#: At most this many choices are listed in a message (the rest are counted).
MAX_LISTED = 12


def close_matches(value: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` choices close to ``value`` (difflib ratio >= 0.6), trying it as given and upper-cased."""
    pool = list(dict.fromkeys(choices))
    found = difflib.get_close_matches(value, pool, n=n)
    if not found and value != value.upper():
        found = difflib.get_close_matches(value.upper(), pool, n=n)
    if not found and value != value.lower():
        found = difflib.get_close_matches(value.lower(), pool, n=n)
    return found


def _listing(choices: Sequence[str]) -> str:
    shown = ", ".join(choices[:MAX_LISTED])
    more = len(choices) - MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def invalid_choice(option: str, value: str, choices: Iterable[str]) -> UsageError:
    """The error for ``option value`` not being one of ``choices``.

    Wording: ``--format 'tabel' is not one of: table, json, csv (did you mean 'table'?)``.

    Parameters
    ----------
    option
        What was given, e.g. ``"--format"`` or ``"kind"``.
    value
        The value given.
    choices
        The valid values, in the order to list them.
    """
    pool = list(dict.fromkeys(choices))
    near = close_matches(value, pool, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return UsageError(f"{option} {value!r} is not one of: {_listing(pool)}{hint}")


def check_choice(option: str, value: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise :func:`invalid_choice`'s error."""
    pool = list(choices)
    if value not in pool:
        raise invalid_choice(option, value, pool)
    return value


def check_choices(option: str, values: Iterable[str], choices: Iterable[str]) -> list[str]:
    """Every value of ``values`` must be one of ``choices`` (the first bad one is reported)."""
    pool = list(choices)
    out = list(values)
    for value in out:
        check_choice(option, value, pool)
    return out


def unknown_symbols(missing: Sequence[str], known: Iterable[str], where: str) -> UsageError:
    """The error for symbols that ``where`` (a store or a data directory) does not hold.

    Wording: ``unknown symbol 'RTU' in store /x.duckdb (did you mean 'RUT'?); 15 symbols there``; alternate
    sources (``SYMBOL__source``, see :mod:`capscope.data.alternates`) are counted apart and never suggested.
    """
    from capscope.data.alternates import is_alternate

    everything = set(known)
    pool = sorted(n for n in everything if not is_alternate(n))  # alternates SYMBOL__source are sources
    n_alt = len(everything) - len(pool)
    parts = []
    for sym in missing[:10]:
        near = close_matches(sym, pool)
        parts.append(f"{sym!r}" + (f" (did you mean {', '.join(repr(n) for n in near)}?)" if near else ""))
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    noun = "symbol" if len(missing) == 1 else "symbols"
    count = f"{len(pool):,} symbol{'' if len(pool) == 1 else 's'} there"
    if n_alt:
        count += f" (and {n_alt:,} alternate source{'' if n_alt == 1 else 's'})"
    return UsageError(f"unknown {noun} {', '.join(parts)}{more} in {where}; {count}")
