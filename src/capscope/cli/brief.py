"""``capscope brief``: write brief.json, brief.md and brief.html for a date."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from capscope.cli.common import AsOfOption, DataOption, StoreOption, console, err_console

if TYPE_CHECKING:
    from capscope.report.context import BriefParams


def brief(
    as_of: AsOfOption = None,
    symbol: Annotated[
        str, typer.Option("--symbol", help="Small-cap index or ETF the brief is about.")
    ] = "RUT",
    benchmark: Annotated[str, typer.Option("--benchmark", help="Large-cap benchmark.")] = "GSPC",
    growth: Annotated[str, typer.Option("--growth", help="Small-cap growth series.")] = "IWO",
    value: Annotated[str, typer.Option("--value", help="Small-cap value series.")] = "IWN",
    out: Annotated[Path, typer.Option("--out", help="Output directory (created if missing).")] = Path(
        "brief-out"
    ),
    data: DataOption = None,
    store: StoreOption = None,
) -> None:
    """Write a checkable small-cap brief: brief.json (facts with inputs), brief.md and a self-contained brief.html.

    Data comes from the store filled by `capscope ingest` when it exists, else from the data directory.

    Example: capscope brief --as-of 2025-12-31 --symbol RUT --benchmark GSPC --out brief-out
    """
    # The ~10^6 objects created by importing pandas/numba/polars live until exit, so the cyclic collector
    # only rescans them: pause it during the work (~0.5 s CPU less, results unchanged) and re-enable it
    # afterwards for in-process callers such as tests. The console script's main() also freezes what is
    # alive before the interpreter exits, so exit-time collections skip it too.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        from capscope.report.context import BriefParams

        params = BriefParams(symbol=symbol, benchmark=benchmark, growth=growth, value=value)
        _run(params, as_of, out, data, store)
    finally:
        if gc_was_enabled:
            gc.enable()


def _run(params: BriefParams, as_of: str | None, out: Path, data: Path | None, store: Path | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    from capscope.report.assets import plotly_js
    from capscope.report.brief import build_brief
    from capscope.report.html import render_html
    from capscope.report.jsonio import dumps
    from capscope.report.loading import load_inputs
    from capscope.report.markdown import render_markdown

    symbol = params.symbol
    data, store = _source_options(data, store, as_of)
    with console.status("loading data ...") as status:
        inputs = load_inputs(
            [symbol, params.benchmark, params.growth, params.value], data=data, store=store, as_of=as_of
        )
        as_of = _checked_as_of(inputs.prices, symbol, as_of)
        status.update("computing facts ...")
        result = build_brief(inputs, params, as_of)
        status.update("rendering ...")
        bundle = plotly_js()
        text_json = dumps(result)
        text_md = render_markdown(result)
        text_html = render_html(result, bundle=bundle)
    if bundle.warning:
        err_console.print(f"[yellow]warning:[/] {escape(bundle.warning)}", highlight=False)
    out.mkdir(parents=True, exist_ok=True)
    (out / "brief.json").write_text(text_json, encoding="utf-8")
    (out / "brief.md").write_text(text_md, encoding="utf-8")
    html_path = out / "brief.html"
    html_path.write_text(text_html, encoding="utf-8")

    by_id = {f["id"]: f for f in result["facts"]}
    console.rule(f"capscope brief: {escape(symbol)} as of {result['as_of']}")
    for section in result["sections"]:
        if section["id"] == "headline":
            for fid in section["facts"]:
                console.print(f"[bold]{escape(by_id[fid]['text'])}[/]", highlight=False)
    table = Table(show_header=True, box=None, pad_edge=False)
    table.add_column("section")
    table.add_column("facts", justify="right")
    table.add_column("not available", justify="right")
    for section in result["sections"][1:]:
        missing = sum(by_id[f]["unit"] == "not_available" for f in section["facts"])
        table.add_row(escape(section["title"]), str(len(section["facts"])), str(missing) if missing else "")
    console.print(table)
    console.print(
        f"{len(result['facts'])} facts from {escape(inputs.origin)}; "
        f"wrote {escape(str(out / 'brief.json'))}, {escape(str(out / 'brief.md'))}",
        highlight=False,
    )
    console.print(f"HTML: {escape(str(html_path.resolve()))}", highlight=False, soft_wrap=True)


def _source_options(
    data: Path | None, store: Path | None, as_of: str | None
) -> tuple[Path | None, Path | None]:
    """Check ``--as-of`` and resolve the source (a named store must exist): ``(data, store)`` for load_inputs."""
    from capscope.cli.dates import parse_date
    from capscope.cli.source import resolve_source

    parse_date(as_of, "--as-of")
    source = resolve_source(data, store)
    return (source.path, None) if source.kind == "files" else (None, source.path)


def _checked_as_of(prices: Any, symbol: str, as_of: str | None) -> str | None:
    """The as-of date to use: one warning and the last bar when ``as_of`` is after the data (issue 15)."""
    from capscope.cli.dates import check_not_before_first, panel_extent, print_warning, resolve_as_of

    firsts, lasts = panel_extent(prices)
    if as_of is None or not lasts:
        return as_of
    day = resolve_as_of(as_of, lasts)
    check_not_before_first(day, {k: v for k, v in firsts.items() if k == symbol})
    print_warning(day)
    return day.label
