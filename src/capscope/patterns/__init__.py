"""Chart patterns with geometry (chartist mode) and the Lo-Mamaysky-Wang kernel mode.

``find_patterns`` is the entry point (:mod:`capscope.patterns.api`); records are
:class:`capscope.patterns.records.PatternRecord`. Importing this package is cheap (no numba, no pandas).
"""

from __future__ import annotations

from typing import Any

__all__ = ["find_patterns"]


def find_patterns(data: Any, **kwargs: Any) -> list[Any]:
    """Find chart patterns; see :func:`capscope.patterns.api.find_patterns`."""
    from capscope.patterns.api import find_patterns as _find

    return _find(data, **kwargs)
