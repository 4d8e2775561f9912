"""The plotly.js bundle inlined into brief.html.

Choice (see the README): plotly's *finance* partial bundle (``plotly.js-finance-dist-min`` from the npm
registry, about 1.3 MB: scatter, bar, candlestick, OHLC ...) is fetched at install time by ``make vendor`` into
``src/capscope/report/vendor/`` (git-ignored) and verified against the SHA-256 pinned in
``src/capscope/report/vendor.sha256``. When it is absent or does not match, the full bundle shipped inside the
Python ``plotly`` package (about 4.7 MB) is used instead and :func:`plotly_js` says so, because the full bundle
leaves little room for data within the 5 MB page budget.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

REPORT_DIR = Path(__file__).resolve().parent
VENDOR_DIR = REPORT_DIR / "vendor"
PIN_FILE = REPORT_DIR / "vendor.sha256"


@dataclass(frozen=True)
class PlotlyBundle:
    """The JavaScript source to inline and where it came from."""

    source: str
    name: str
    warning: str | None


def pinned() -> tuple[str, str]:
    """Return ``(sha256, file name)`` of the pinned finance bundle."""
    digest, name = PIN_FILE.read_text(encoding="utf-8").split()
    return digest, name


def _finance_bundle() -> PlotlyBundle | str:
    digest, name = pinned()
    path = VENDOR_DIR / name
    if not path.is_file():
        return f"{path} is missing (run `make vendor`)"
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        return f"{path} has sha256 {actual}, expected {digest} (run `make vendor` again)"
    return PlotlyBundle(data.decode("utf-8"), "plotly.js-finance-dist-min", None)


def plotly_js() -> PlotlyBundle:
    """Return the plotly.js source to inline: the pinned finance bundle, else plotly's full bundle.

    Returns
    -------
    PlotlyBundle
        ``warning`` is set when the full bundle had to be used.
    """
    found = _finance_bundle()
    if isinstance(found, PlotlyBundle):
        return found
    from plotly.offline import get_plotlyjs

    return PlotlyBundle(
        get_plotlyjs(),
        "plotly.js (full bundle from the plotly package)",
        f"plotly finance bundle not used: {found}; inlining the full plotly.js bundle (~4.7 MB)",
    )
