"""``capscope study``: did a signal beat its baseline? Event studies with intervals that respect overlap.

The command resolves its bars and prints; every number comes from :mod:`capscope.analytics.study`. The universe
is studied in blocks of symbols with similar histories (:func:`capscope.scale.run.study`:
:func:`capscope.analytics.study.study_block` per block, then :func:`capscope.analytics.study.combine`), read
one at a time from the store, a Parquet dataset or the data files, so memory depends on the block size; with
``--engine dask`` the blocks run as Dask tasks over a Parquet dataset, with the same result.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capscope.cli.blocks import EngineOption, SchedulerOption
from capscope.cli.common import AsOfOption, DataOption, StoreOption, console, err_console
from capscope.errors import UsageError

if TYPE_CHECKING:
    from capscope.analytics.study import StudyResult
    from capscope.data.panel import Panel

FORMATS = ("table", "json")

STUDY_HELP = """Event study: forward returns after each signal vs a baseline, with intervals that resample
dates (placebo dates keeping clustering; or a stationary block bootstrap), BH q-values, a KS test and
run-level SPA / StepM tests. Method: docs/study.md.

KIND is an event kind (golden_cross, macd_bullish_cross, breakout_above, ...), a chart pattern kind
(inverse_head_and_shoulders, double_bottom, ...; studied on the breakout), a group (ma_cross, macd, rsi, ...),
'all' (every event kind) or 'patterns'. A FILTER selects event fields: golden_cross:ma=sma,
macd_bullish_cross:above_zero=true, symmetric_triangle:direction=up, double_bottom:quality>=0.7.

Example:

    capscope study golden_cross:ma=sma macd_bullish_cross:above_zero=true --symbols RUT,GSPC --horizons 21,63
"""


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _parse_horizons(text: str) -> tuple[int, ...]:
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            h = int(part)
        except ValueError:
            raise UsageError(
                f"--horizons {text!r}: {part!r} is not a whole number of bars (e.g. 5,21,63)"
            ) from None
        if h < 1:
            raise UsageError(f"--horizons {text!r}: horizons must be at least 1 bar")
        out.append(h)
    if not out:
        raise UsageError("--horizons: give at least one horizon, e.g. 5,21,63")
    return tuple(out)


def _pct(x: float | None, sign: bool = True) -> str:
    if x is None:
        return "-"
    return f"{x * 100:+.1f}" if sign else f"{x * 100:.1f}"


def _q(x: float | None) -> str:
    if x is None:
        return "-"
    return "<.001" if x < 0.001 else f"{x:.3f}"


def _print(result: StudyResult, title: str) -> None:
    from rich.markup import escape

    from capscope.cli.tables import Col, render_table

    cols = [
        Col("signal", "text"),
        Col("h", "number"),
        Col("events", "number", priority=2),
        Col("indep", "number", priority=3),
        Col("mean%", "number", priority=1),
        Col("base%", "number", priority=1),
        Col("excess% [95% CI]", "number"),
        Col("q", "number"),
    ]
    rows = []
    for r in result.results:
        excess = "-" if r.excess is None else f"{_pct(r.excess)} [{_pct(r.ci_low)},{_pct(r.ci_high)}]"
        style = "" if r.verdict.startswith("no ") else ("green" if r.verdict.startswith("above") else "red")
        rows.append(
            [
                escape(r.signal),
                str(r.horizon),
                str(r.n_events),
                str(r.n_independent),
                _pct(r.mean),
                _pct(r.baseline_mean),
                f"[{style}]{excess}[/]" if style else excess,
                _q(r.q_value),
            ]
        )
    render_table(cols, rows, title=title, header_style="bold")
    rt = result.run_tests
    if rt.get("spa"):
        console.print(
            f"Whole run ({rt['cells']} cells with a direction): {rt['answer']} "
            f"(Hansen SPA p = {rt['spa']['p_value']:.3f}; Romano-Wolf StepM superior: "
            + (
                ", ".join(
                    f"{s['kind']}{':' + s['filter'] if s['filter'] else ''} @{s['horizon']}"
                    for s in rt["stepm"]["superior"]
                )
                or "none"
            )
            + ").",
            highlight=False,
        )
    if result.outcomes:
        heads = ("pattern", "n", "fail%", "move%", "throwb%", "target%", "busted%", "MFE%", "MAE%")
        out_cols = [Col("pattern", "text")] + [
            Col(h, "number", priority=0 if h in ("n", "fail%", "move%") else 1) for h in heads[1:]
        ]
        out_rows = []
        for o in result.outcomes:
            label = f"{o['kind']}:{o['filter']}" if o["filter"] else o["kind"]
            out_rows.append(
                [
                    escape(label),
                    str(o["n_breakouts"]),
                    _pct(o["failure_rate"], False),
                    _pct(o["average_move"], False),
                    _pct(o["throwback_rate"], False),
                    _pct(o["target_rate"], False),
                    _pct(o["busted_rate"], False),
                    _pct(o["mfe_median"], False),
                    _pct(o["mae_median"]),
                ]
            )
        render_table(
            out_cols,
            out_rows,
            title="Breakout outcomes (Bulkowski's definitions, thepatternsite.com glossary)",
            header_style="bold",
        )
    p = result.params
    console.print(
        f"Returns from the {'close' if p['entry'] == 'close' else 'next open'} of the knowable date; baseline: "
        f"{'every bar of the same symbols' if p['baseline'] == 'all' else 'bars in the regime where the signal can fire'}; "
        + (
            f"{p['draws']} placebo dates (shared shifts), seed {p['seed']}"
            if p["inference"] == "placebo"
            else f"stationary bootstrap over {p['dates']} dates, {p['draws']} draws, seed {p['seed']}, mean block "
            + ", ".join(f"{v:.0f} (h={h})" for h, v in p["block_length"].items())
        )
        + ". q = Benjamini-Hochberg over all cells.",
        highlight=False,
        style="dim",
    )
    for note in result.notes:
        err_console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


def study(
    signals: Annotated[
        list[str] | None, typer.Argument(help="KIND[:FILTER] ... (see above).", show_default=False)
    ] = None,
    symbols: Annotated[
        list[str] | None, typer.Option("--symbols", "-s", help="Symbols, comma-separated or repeated.")
    ] = None,
    universe: Annotated[
        str | None,
        typer.Option("--universe", help="'all' (every symbol) or a file with one symbol per line."),
    ] = None,
    horizons: Annotated[
        str, typer.Option("--horizons", help="Forward horizons in bars, e.g. 5,21,63.")
    ] = "5,21,63",
    since: Annotated[
        str | None, typer.Option("--since", help="First event date studied (default: all history).")
    ] = None,
    as_of: AsOfOption = None,
    entry: Annotated[
        str, typer.Option("--entry", help="close (knowable bar's close) or next_open.")
    ] = "close",
    baseline: Annotated[
        str,
        typer.Option(
            "--baseline", help="all (every bar of the same symbols) or regime (bars where it can fire)."
        ),
    ] = "all",
    inference: Annotated[
        str,
        typer.Option("--inference", help="placebo (placebo dates, default) or bootstrap (stationary block)."),
    ] = "placebo",
    draws: Annotated[int, typer.Option("--draws", help="Placebo draws or bootstrap resamples.")] = 1000,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the resampling (a run repeats exactly).")
    ] = 20260101,
    block_length: Annotated[
        float | None, typer.Option("--block-length", help="Mean bootstrap block length (default: automatic).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    data: DataOption = None,
    store: StoreOption = None,
    engine: EngineOption = "local",
    scheduler: SchedulerOption = None,
) -> None:
    """Event study (see the help text above)."""
    from capscope.analytics.study import BASELINES, ENTRIES, INFERENCES, StudyParams, parse_signals
    from capscope.cli.choices import check_choice
    from capscope.cli.dates import check_since, parse_date, print_warning, resolve_as_of
    from capscope.cli.scan import _read_universe_file, load_bars
    from capscope.scale.engine import check_engine

    check_choice("--format", fmt, FORMATS)
    check_choice("--entry", entry, ENTRIES)
    check_choice("--baseline", baseline, BASELINES)
    check_choice("--inference", inference, INFERENCES)
    check_engine(engine, scheduler)
    sigs = parse_signals(_split(signals) if signals else [])
    hs = _parse_horizons(horizons)
    since_day = parse_date(since, "--since")
    as_of_day = parse_date(as_of, "--as-of")
    if since_day and as_of_day and since_day > as_of_day:
        raise UsageError(f"--since {since_day} is after --as-of {as_of_day}: the window would be empty")
    import numpy as np

    params = StudyParams(
        horizons=hs,
        entry=entry,
        baseline=baseline,
        since=None if since_day is None else np.datetime64(since_day, "D"),
        draws=draws,
        seed=seed,
        inference=inference,
        block_length=block_length,
    )
    names = _split(symbols)
    if universe is not None:
        if universe == "all":
            if names:
                raise UsageError("give --symbols or --universe all, not both")
            wanted: list[str] | None = None
        else:
            wanted = names + [s for s in _read_universe_file(Path(universe)) if s not in names]
    else:
        if not names:
            raise UsageError(
                "no symbols: give --symbols RUT,GSPC or --universe all|FILE (see capscope study --help)"
            )
        wanted = names
    if wanted is not None and len(set(wanted)) != len(wanted):
        raise UsageError(f"symbols listed more than once: {', '.join(wanted)}")
    from capscope.cli.blocks import block_source
    from capscope.scale import run as scale_run

    def load_files() -> tuple[Panel, str]:
        from capscope.data.panel import Panel

        bars, where = load_bars(wanted, data=data, store=store, as_of=None)
        return Panel.from_bars(bars), where

    src, chosen = block_source(wanted, data=data, store=store, load=load_files)
    source = src.description
    uni = scale_run.universe(src, chosen, as_of_day)
    if len(uni.dates) == 0:
        raise UsageError(
            f"no bars on or before {as_of_day} for the requested symbols ({source})"
            if as_of_day
            else f"no bars for the requested symbols ({source})"
        )
    # each symbol's last bar on or before the as-of date (the universe's last date bounds them all)
    latest: date = uni.dates[-1].astype(object)
    lasts = src.extent()[1]
    asof = resolve_as_of(as_of_day, {s: min(lasts[s], latest) for s in uni.symbols})
    check_since(since_day, asof)
    report_day = asof.used
    print_warning(asof)
    result = scale_run.study(
        uni,
        sigs,
        params,
        as_of=report_day,
        engine=engine,
        scheduler=scheduler,
        show_progress=fmt == "table",
    )
    if fmt == "json":
        typer.echo(json.dumps(result.to_dict(), indent=1, allow_nan=False))
        return
    n_sym = len(uni.symbols)
    first_day = min(uni.firsts[s] for s in uni.symbols)
    title = (
        f"capscope study: {len(sigs)} signal{'s' if len(sigs) != 1 else ''}, {n_sym} symbol"
        f"{'s' if n_sym != 1 else ''}, {since_day or first_day}..{report_day} ({source})"
    )
    _print(result, title)


study.__doc__ = STUDY_HELP
