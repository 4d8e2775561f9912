"""A notice on the terminal while numba compiles capscope's kernels for the first time on a machine.

The numeric kernels are compiled on their first use and cached on disk (``cache=True``); on a new machine the first
``scan`` or ``brief`` therefore spends ten seconds or more compiling, silently. When standard error is a terminal
and the kernel cache looks cold, :func:`install` registers a listener for numba's compile events
(``numba.core.event``, "numba:compile") that prints one line the first time a compilation starts. Nothing is
printed when the kernels load from the cache (no compile event), nor when standard error is not a terminal.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Final, TextIO

#: Packages whose kernels are compiled with ``cache=True`` (their ``__pycache__`` holds ``*.nbi`` index files).
KERNEL_PACKAGES: Final[tuple[str, ...]] = ("indicators", "events", "patterns", "analytics")
MESSAGE: Final = "capscope: compiling kernels for this machine (first run only; cached after)..."


def cache_looks_cold(root: Path | None = None) -> bool:
    """Whether some kernel package has no numba cache index yet (``root``: the ``capscope`` package folder)."""
    import capscope

    base = Path(capscope.__file__).parent if root is None else root
    return any(not any((base / pkg / "__pycache__").glob("*.nbi")) for pkg in KERNEL_PACKAGES)


def install(stream: TextIO | None = None, *, force: bool = False) -> Any:
    """Print :data:`MESSAGE` to ``stream`` (default standard error) when the first compilation starts.

    Installed only when ``stream`` is a terminal and :func:`cache_looks_cold` (or ``force``), because it imports
    numba (~0.4 s). Returns the registered listener, or ``None``.
    """
    out = sys.stderr if stream is None else stream
    if not force and not (out.isatty() and cache_looks_cold()):
        return None
    from numba.core import event

    class _Notice(event.Listener):
        shown = False

        def on_start(self, ev: Any) -> None:
            if not self.shown:
                self.shown = True
                print(MESSAGE, file=out, flush=True)

        def on_end(self, ev: Any) -> None:
            return None

    listener = _Notice()
    event.register("numba:compile", listener)
    return listener
