"""``capscope sources [SYMBOL...]``: the sources of each symbol, how they agree, and how far they extend it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from capscope.cli.common import DataOption, console, err_console
from capscope.errors import UsageError


def sources(
    symbols: Annotated[
        list[str] | None, typer.Argument(help="Symbols (default: every symbol that has alternate sources).")
    ] = None,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Relative tolerance of the cross-check (0.001 = 0.1%).")
    ] = 0.001,
    min_overlap: Annotated[
        int, typer.Option("--min-overlap", help="Agreeing common bars an extension needs.")
    ] = 20,
    basis: Annotated[
        list[str] | None,
        typer.Option("--basis", help="Declare a close kind: SYMBOL=raw|adjusted|price_index (repeatable)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    data: DataOption = None,
) -> None:
    """Sources of a symbol: its primary file SYMBOL.csv and alternates SYMBOL__source.csv anywhere under the data
    directory. Each alternate is cross-checked against the primary on their common dates (a warning names the
    sources and the dates that disagree beyond --tolerance), and the primary is extended past its last bar by the
    agreeing alternate of the same price basis that reaches furthest; raw and adjusted prices are never spliced.

    Example: capscope sources IWO IWN --format json
    """
    import polars as pl

    from capscope.analytics.basis import parse_overrides
    from capscope.analytics.sources import extend_in_panel
    from capscope.data.alternates import index_sources
    from capscope.data.panel import Panel
    from capscope.data.readers import iter_bar_files, read_bars
    from capscope.data.sources import resolve_data_dir

    if fmt not in ("table", "json"):
        raise UsageError(f"--format {fmt!r}: use table or json")
    if not 0 <= tolerance < 1:
        raise UsageError(f"--tolerance {tolerance}: give a relative tolerance in [0, 1), e.g. 0.001")
    if min_overlap < 1:
        raise UsageError(f"--min-overlap {min_overlap}: give at least 1 bar")
    overrides = parse_overrides(basis)
    data_dir = resolve_data_dir(data).path
    index = index_sources(iter_bar_files(data_dir))
    if symbols:
        missing = [s for s in symbols if s not in index]
        if missing:
            from capscope.cli.choices import unknown_symbols

            raise unknown_symbols(missing, sorted(index), f"the data files under {data_dir}")
        chosen = list(dict.fromkeys(symbols))
    else:
        chosen = sorted(s for s, e in index.items() if e.alternates)
        if not chosen:
            raise UsageError(f"no alternate sources (SYMBOL__source files) under {data_dir}")
    out: list[dict[str, Any]] = []
    warnings: list[str] = []
    for sym in chosen:
        entry = index[sym]
        files = ([entry.primary] if entry.primary else []) + list(entry.alternates.values())
        frames = [read_bars(p) for p in files]
        panel = Panel.from_bars(pl.concat(frames, how="vertical_relaxed").sort(["symbol", "date"]))
        record: dict[str, Any] = {
            "symbol": sym,
            "primary": str(entry.primary) if entry.primary else None,
            "alternates": {s: str(p) for s, p in entry.alternates.items()},
        }
        if entry.primary is None:
            record["note"] = "no primary file: the alternates are not counted as a symbol"
            out.append(record)
            continue
        ext = extend_in_panel(
            panel,
            sym,
            [(s, p.stem) for s, p in entry.alternates.items()],
            overrides=overrides,
            tolerance=tolerance,
            min_overlap=min_overlap,
        )
        record.update(ext.to_dict())
        warnings.extend(ext.warnings)
        out.append(record)
    for w in warnings:
        err_console.print(f"[yellow]warning:[/] {w}", highlight=False)
    if fmt == "json":
        typer.echo(json.dumps({"data": str(data_dir), "symbols": out}, indent=2))
        return
    _table(out, data_dir)


def _table(out: list[dict[str, Any]], data_dir: Path) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        title=f"Sources of {len(out)} symbol{'s' if len(out) != 1 else ''} (files under {escape(str(data_dir))})"
    )
    for col in ("symbol", "source", "cross-check on the primary's basis", "series"):
        table.add_column(col)
    for rec in out:
        if rec.get("primary") is None:
            table.add_row(rec["symbol"], ", ".join(rec["alternates"]), escape(rec["note"]), "")
            continue
        checks = {c["source"]: c for c in rec["checks"]}
        refused = {r["source"]: r["reason"] for r in rec["refused"]}
        used = {s["source"]: s for s in rec["segments"]}
        first = True
        for name in ["primary", *rec["alternates"]]:
            if name == "primary":
                check = f"basis {rec['basis']['basis']} ({rec['basis']['field']})"
            else:
                c = checks[name]
                if not c["compared"]:
                    check = c["reason"]
                elif c["common_bars"] == 0:
                    check = "no common dates"
                elif c["disagreements"]:
                    check = (
                        f"[red]{len(c['disagreements'])} of {c['common_bars']} dates differ > "
                        f"{c['tolerance']:.2%}[/] (first {c['disagreements'][0]['date']})"
                    )
                else:
                    check = f"agrees on {c['common_bars']} dates ({c['first_common']} to {c['last_common']})"
            if name in used:
                s = used[name]
                series = f"{s['first']} to {s['last']} ({s['bars']} bars)"
                if name != "primary":
                    series = f"[green]extends[/] {series}"
            else:
                series = escape(refused.get(name, f"not used: ends by {used['primary']['last']}"))
            table.add_row(rec["symbol"] if first else "", escape(name), check, series)
            first = False
    console.print(table)
