"""The first-run notice while numba compiles: shown once on a terminal, never elsewhere."""

from __future__ import annotations

import io
from pathlib import Path


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_notice_once_on_the_first_compilation() -> None:
    from numba import njit
    from numba.core import event

    from capscope.cli.compile_notice import MESSAGE, install

    out = _Terminal()
    listener = install(out, force=True)
    try:

        @njit  # a fresh function: numba compiles it on its first call
        def twice(x: float) -> float:
            return 2.0 * x

        @njit
        def thrice(x: float) -> float:
            return 3.0 * x

        assert twice(2.0) == 4.0 and thrice(1.0) == 3.0
    finally:
        event.unregister("numba:compile", listener)
    assert out.getvalue() == MESSAGE + "\n"  # two compilations, one line


def test_no_notice_off_a_terminal_or_with_a_warm_cache(tmp_path: Path) -> None:
    from capscope.cli.compile_notice import KERNEL_PACKAGES, cache_looks_cold, install

    assert install(io.StringIO()) is None  # not a terminal: nothing registered, numba not needed
    for pkg in KERNEL_PACKAGES:
        (tmp_path / pkg / "__pycache__").mkdir(parents=True)
    assert cache_looks_cold(tmp_path)
    for pkg in KERNEL_PACKAGES:
        (tmp_path / pkg / "__pycache__" / "k-1.py311.nbi").write_bytes(b"")
    assert not cache_looks_cold(tmp_path)
