"""Tables and numbers for the terminal: readable at any width, never a cut date or number.

* Number formats by unit: :func:`fmt_price`, :func:`fmt_volume` (integers with thousands separators, or K/M/B),
  :func:`fmt_pct` (signed, for changes and returns), :func:`fmt_level_pct` (unsigned shares), :func:`fmt_int`,
  :func:`plural` ("1 session", "2 sessions").
* :func:`render_table`: columns declared with :class:`Col` (``kind`` text/date/number, ``priority``). Dates and
  numbers are never wrapped or cut (``no_wrap`` and a minimum width equal to the widest cell); text folds onto
  more lines. When the table does not fit the terminal, the columns with the highest ``priority`` number are
  left out (named under the table) until it fits; ``--wide`` shows every column even if the table is wider
  than the terminal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

if TYPE_CHECKING:
    from rich.console import Console

#: Placeholder for a missing value in a table cell.
MISSING = "—"

WideOption = Annotated[
    bool,
    typer.Option("--wide", help="Show every column of the table, even if it is wider than the terminal."),
]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_price(value: float | None, digits: int = 2) -> str:
    """A price or index level: thousands separators and ``digits`` decimals (``3,031.12``)."""
    return MISSING if _missing(value) else f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def fmt_int(value: float | None) -> str:
    """A count: an integer with thousands separators (``1,234``)."""
    return MISSING if _missing(value) else f"{round(float(value)):,d}"  # type: ignore[arg-type]


def fmt_volume(value: float | None, *, compact: bool = False) -> str:
    """A volume (shares): an integer with thousands separators (``637,700``), or ``compact`` K/M/B (``1.24B``)."""
    if _missing(value):
        return MISSING
    v = float(value)  # type: ignore[arg-type]
    if compact:
        for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if abs(v) >= limit:
                return f"{v / limit:,.2f}{suffix}"
    return f"{round(v):,d}"


def fmt_pct(fraction: float | None, digits: int = 2) -> str:
    """A change or return given as a fraction, signed: ``0.0123`` -> ``+1.23%``."""
    return MISSING if _missing(fraction) else f"{100 * float(fraction):+.{digits}f}%"  # type: ignore[arg-type]


def fmt_level_pct(percent: float | None, digits: int = 1) -> str:
    """A share already in percent (a level, not a change), unsigned: ``45.25`` -> ``45.3%``."""
    return MISSING if _missing(percent) else f"{float(percent):.{digits}f}%"  # type: ignore[arg-type]


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and the noun in the right number: ``plural(1, "session")`` -> ``1 session``; 2 -> ``2 sessions``."""
    noun = word if n == 1 else (many or word + "s")
    return f"{n:,d} {noun}"


@dataclass(frozen=True)
class Col:
    """A table column.

    Attributes
    ----------
    header
        Column title (never cut: the column is at least this wide).
    kind
        ``"date"``, ``"number"`` and ``"label"`` (a short identifier: symbol, status) cells are never wrapped or
        cut; ``"text"`` cells wrap (and fold long words) onto more lines.
    priority
        0: always shown. Higher numbers are left out first when the table is too wide for the terminal.
    justify
        ``None``: right for numbers, left otherwise.
    style
        Rich style of the column's cells.
    """

    header: str
    kind: Literal["text", "label", "date", "number"] = "text"
    priority: int = 0
    justify: Literal["left", "right", "center"] | None = None
    style: str | None = None


#: Narrowest a folding text column is made before columns are left out instead.
MIN_TEXT_WIDTH = 12


def _cell_width(cell: str) -> int:
    from rich.text import Text

    text = Text.from_markup(cell) if "[" in cell else Text(cell)
    return max((Text(line).cell_len for line in text.plain.splitlines()), default=0)


def _overhead(n: int) -> int:
    """Characters a boxed rich table adds around ``n`` columns: 2 of padding each, ``n + 1`` rules."""
    return 3 * n + 1


def plan_columns(
    cols: Sequence[Col], rows: Sequence[Sequence[str]], width: int
) -> tuple[list[int], list[int]]:
    """Which columns to show at ``width`` and how wide a text column may be.

    Returns the indices of the shown columns (in table order) and, per column, its natural width.
    """
    natural = []
    for j, col in enumerate(cols):
        widest = max((_cell_width(str(r[j])) for r in rows), default=0)
        natural.append(max(widest, _cell_width(col.header)))

    def need(index: list[int]) -> int:
        total = _overhead(len(index))
        for j in index:
            total += natural[j] if cols[j].kind != "text" else min(natural[j], MIN_TEXT_WIDTH)
        return total

    shown = sorted(range(len(cols)), key=lambda j: (cols[j].priority, j))
    while len(shown) > 1 and need(shown) > width and cols[shown[-1]].priority > 0:
        shown.pop()
    return sorted(shown), natural


def render_table(
    cols: Sequence[Col],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    caption: str | None = None,
    wide: bool = False,
    con: Console | None = None,
    **table_options: Any,
) -> list[str]:
    """Print a table that fits the terminal without cutting a date or a number.

    Parameters
    ----------
    cols
        Column declarations.
    rows
        Cells as strings (rich markup allowed; escape text from data).
    title, caption
        Table title and caption.
    wide
        Show every column; the table is then printed at its full width even beyond the terminal's.
    con
        Console to print to (default: the normal output console).
    table_options
        Passed to :class:`rich.table.Table` (e.g. ``show_lines``).

    Returns
    -------
    list of str
        Headers of the columns left out (empty when every column is shown).
    """
    from rich.table import Table

    from capscope.cli.common import console

    con = con or console
    width = con.width
    if wide:
        shown, natural = list(range(len(cols))), plan_columns(cols, rows, 10**6)[1]
    else:
        shown, natural = plan_columns(cols, rows, width)
    fixed = sum(natural[j] for j in shown if cols[j].kind != "text")
    texts = [j for j in shown if cols[j].kind == "text"]
    room = width - _overhead(len(shown)) - fixed
    allowed: dict[int, int] = {}
    if texts and sum(natural[j] for j in texts) > room:
        # water-filling: narrow text columns keep their width, the others share what is left
        left, pending = room, sorted(texts, key=lambda j: natural[j])
        while pending:
            share = max(MIN_TEXT_WIDTH, left // len(pending))
            j = pending.pop(0)
            allowed[j] = min(natural[j], share)
            left -= allowed[j]
    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left", **table_options)
    for j in shown:
        col = cols[j]
        justify = col.justify or ("right" if col.kind == "number" else "left")
        if col.kind == "text":
            table.add_column(
                col.header,
                justify=justify,
                style=col.style,
                overflow="fold",
                min_width=min(
                    natural[j], max(MIN_TEXT_WIDTH, _cell_width(col.header)), allowed.get(j, 10**6)
                ),
                max_width=allowed.get(j),
            )
        else:
            table.add_column(col.header, justify=justify, style=col.style, no_wrap=True, min_width=natural[j])
    for row in rows:
        table.add_row(*(str(row[j]) for j in shown))
    need = fixed + _overhead(len(shown)) + sum(allowed.get(j, natural[j]) for j in texts)
    if need > width:  # --wide (or required columns alone too wide): print at full width, nothing cut
        saved = con._width
        con.width = need
        try:
            con.print(table, crop=False)
        finally:
            con._width = saved
    else:
        con.print(table)
    hidden = [cols[j].header for j in range(len(cols)) if j not in shown]
    if hidden:
        con.print(
            f"[dim](hidden at this width: {', '.join(hidden)}; --wide shows all)[/]",
            highlight=False,
        )
    return hidden
