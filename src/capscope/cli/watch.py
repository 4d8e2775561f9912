"""``capscope watch``: pick up new bars, alert each new signal once (logic in :mod:`capscope.watch`)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from capscope.cli.common import DataOption, StoreOption, console, err_console
from capscope.errors import UsageError

if TYPE_CHECKING:
    from capscope.watch.runner import CycleReport

# The help's paragraphs are single lines: typer keeps the line breaks of paragraphs after the first, so a
# hard-wrapped paragraph came out ragged at 80 columns.
WATCH_HELP = "\n\n".join(
    [
        "Watch for new bars and alert every new signal exactly once.",
        "Each cycle ingests the bar files of the data directory that changed (rows appended) or, with "
        "--download, downloads the universe's new bars; advances the saved indicator states by the new bars "
        "only; and emits every new event (crosses, MACD with above_zero, RSI, levels, breakouts, chart-pattern "
        "status changes) once: on the terminal, as one JSON object per line to --alerts, and to --exec COMMAND "
        "(the alert as JSON on stdin). Bars already in the store when a symbol is first watched are history: "
        "they set the states and alert nothing.",
        "Example: capscope watch --data ~/bars --alerts alerts.jsonl --interval 300",
    ]
)


class _ErrHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        from rich.markup import escape

        err_console.print(f"[yellow]warning:[/] {escape(record.getMessage())}", highlight=False)


def describe_pattern(rec: dict[str, Any]) -> str:
    """One-line description of a pattern alert: the new status, the neckline (its level at the breakout once
    there is one), the measured target and the invalidation price."""
    from capscope.cli.tables import fmt_price

    extra = rec.get("extra") or {}
    parts = [str(rec["status"]).replace("_", " ")]
    level = extra.get("neckline_at_breakout")
    if level is None and rec.get("neckline"):
        level = rec["neckline"]["price1"]
    if level is not None:
        parts.append(f"neckline {fmt_price(level)}")
    if rec.get("breakout"):
        parts.append(f"breakout {rec['breakout']['date']}")
    if rec.get("target") is not None:
        parts.append(f"target {fmt_price(rec['target'])}")
    if rec.get("invalidation") is not None:
        parts.append(f"invalidation {fmt_price(rec['invalidation'])}")
    if extra.get("failure"):
        parts.append(f"failure: {extra['failure']}")
    return ", ".join(parts)


def _print_alert(rec: dict[str, Any]) -> None:
    from rich.markup import escape

    from capscope.cli.scan import describe

    fields = {k: v for k, v in rec.items() if k not in ("alert_id", "detected_at")}
    text = describe_pattern(fields) if "status" in fields else describe(fields)
    console.print(
        f"[bold]{rec['date']}[/] {escape(str(rec['symbol']))} [cyan]{rec['kind']}[/] "
        f"close {float(rec['price']):,.2f}  {escape(text)}",
        highlight=False,
    )


def _warn_missing(wanted: list[str], stored: list[str]) -> None:
    """Warn about universe symbols with no bars (a typo, or a file not there yet); they are watched once they appear."""
    import difflib

    from rich.markup import escape

    known = set(stored)
    for sym in dict.fromkeys(s for s in wanted if s not in known):
        close = difflib.get_close_matches(sym.upper(), sorted(known), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        err_console.print(
            f"[yellow]warning:[/] {escape(sym)} has no bars in the store yet{escape(hint)}; "
            "it is watched once it has bars",
            highlight=False,
        )


def _file_symbols(pickup: Any) -> list[str]:
    """Symbols of the bar files in a directory pickup's data directory (close matches for a misspelled universe
    symbol: the universe limits what is ingested, so the store alone does not hold them)."""
    from capscope.data.readers import iter_bar_files, symbol_from_path
    from capscope.watch.pickup import DirectoryPickup

    if not isinstance(pickup, DirectoryPickup):
        return []
    names = {symbol_from_path(path) for path in iter_bar_files(pickup.root)}
    return sorted(name for name in names if "__" not in name)  # SYMBOL__source files are sources, not symbols


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _summary(report: CycleReport) -> str:
    from capscope.cli.tables import plural

    parts = []
    if report.history_symbols:
        n = len(report.history_symbols)
        parts.append(f"{plural(n, 'symbol')} taken as history (their bars alert nothing)")
    if report.days:
        span = report.days[0] if len(report.days) == 1 else f"{report.days[0]}..{report.days[-1]}"
        n_patterns = sum(1 for a in report.alerts if "status" in a.record)  # pattern alerts carry a status
        of_which = f" ({plural(n_patterns, 'pattern status change')})" if n_patterns else ""
        bars, alerts = plural(report.new_bars, "new bar"), plural(len(report.alerts), "alert")
        parts.append(f"{bars} ({span}), {alerts}{of_which}")
    return "; ".join(parts) or "no new bars"


def watch(
    data: DataOption = None,
    download: Annotated[
        bool, typer.Option("--download", help="Download the universe's new bars instead of reading --data.")
    ] = False,
    universe: Annotated[
        Path | None, typer.Option("--universe", help="File with one symbol per line (default: every symbol).")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Run one cycle and exit.")] = False,
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between cycles (default 300).", min=0.0)
    ] = 300.0,
    alerts: Annotated[
        Path | None, typer.Option("--alerts", help="Append each alert as one JSON line to this file.")
    ] = None,
    exec_command: Annotated[
        str | None,
        typer.Option("--exec", help="Shell command run per alert with the alert's JSON on stdin (retried)."),
    ] = None,
    patterns: Annotated[
        bool,
        typer.Option(
            "--patterns/--no-patterns",
            help="Alert chart-pattern status changes (default; the detector runs over each symbol's history, "
            "then the long-running watch carries it on day by day). Days watched with --no-patterns never get "
            "pattern alerts later.",
        ),
    ] = True,
    store: StoreOption = None,
) -> None:
    """Watch for new bars and alert every new signal exactly once."""
    from capscope.cli.scan import _read_universe_file
    from capscope.data.sources import resolve_data_dir, user_cache_dir
    from capscope.store import Store
    from capscope.watch.pickup import DirectoryPickup
    from capscope.watch.runner import (
        CallbackSink,
        ExecSink,
        FileSink,
        MemoryWindow,
        Sink,
        StateCache,
        run_cycle,
    )

    if download and data is not None:
        raise UsageError("give --data DIR or --download, not both")
    if universe is not None and not universe.is_file():
        raise UsageError(f"--universe {universe}: no such file (give a file with one symbol per line)")
    symbols = _read_universe_file(universe) if universe is not None else None
    if download and symbols is None:
        raise UsageError("--download needs --universe FILE (the symbols to download)")
    pickup: Any
    if download:
        from capscope.watch.pickup import DownloadPickup

        assert symbols is not None
        pickup = DownloadPickup(user_cache_dir() / "data", symbols, progress_console=err_console)
    else:
        root = resolve_data_dir(data, allow_download=False).path
        pickup = DirectoryPickup(root, None if symbols is None else frozenset(symbols))
    handler = _ErrHandler(logging.WARNING)
    logging.getLogger("capscope.watch").addHandler(handler)
    sinks: list[Sink] = [CallbackSink("terminal", _print_alert)]
    if alerts is not None:
        sinks.append(FileSink(alerts))
    if exec_command:
        sinks.append(ExecSink(exec_command))
    previous = None
    if not once and threading.current_thread() is threading.main_thread():
        # a service manager's stop (SIGTERM) ends the watch as Ctrl-C does: a cycle under way is rolled back
        previous = signal.signal(signal.SIGTERM, _stop)
    try:
        with Store(store) as st:
            st.ensure_sound()  # once: damage is not read by the cycles, which touch only the newest rows
            # the states and pattern passes stay in memory between cycles (not worth building for one cycle)
            history, states = MemoryWindow(st, None), (None if once else StateCache())
            warned = False
            while True:
                with st.guard():
                    report = run_cycle(
                        st, sinks, pickup, symbols=symbols, history=history, states=states, patterns=patterns
                    )
                err_console.print(f"watch: {_summary(report)}", highlight=False)
                if symbols is not None and not warned:
                    _warn_missing(symbols, [r[0] for r in st.symbol_rows()] + _file_symbols(pickup))
                    warned = True
                if once:
                    break
                with st.guard():
                    st.checkpoint()  # DuckDB's log into the file now, not in the next cycle's commits
                time.sleep(interval)
    except KeyboardInterrupt:
        err_console.print("watch: stopped", highlight=False)
        raise typer.Exit(130) from None
    finally:
        logging.getLogger("capscope.watch").removeHandler(handler)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


watch.__doc__ = WATCH_HELP
