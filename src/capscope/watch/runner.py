"""One watch cycle against the store: new bars -> states, events and outbox in one transaction -> delivery.

Exactly once (DESIGN.md, "Reliability rules"):

1. **Detect.** Every bar in the store later than a symbol's saved last day is new. The advanced states, the
   alerts found (table ``watch_alerts``, which is the outbox; ``seq`` is the delivery order, ``alert_id`` a hash
   of the event that is ``UNIQUE``) and the new last days are written in **one** DuckDB transaction. A kill before
   ``COMMIT`` leaves the previous states: the same bars are new again on restart and give the same alerts, which
   the ``UNIQUE`` id keeps from doubling; a kill after it finds nothing new and only delivers.
2. **Deliver.** After the commit, each sink (``watch_sinks``: its name and the last ``seq`` it received) is sent
   the alerts after its mark, in ``seq`` order, and the mark moves after the sink confirmed them. A kill between
   a delivery and its mark repeats the delivery unless the sink is idempotent: the alerts-file sink is (it looks
   for the ids in the file's tail before appending and cuts a half-written last line), the ``--exec`` sink is
   at-least-once (the command receives ``alert_id`` to drop a repeat), the terminal prints again.

Symbols first seen by the watch are history: their stored bars set the states and alert nothing.

Test hook: the environment variable ``CAPSCOPE_WATCH_PAUSE`` (comma-separated checkpoint names, see
:func:`checkpoint`) makes the process print ``capscope-watch-checkpoint NAME`` on stderr and sleep there, so a test
can kill it at a known point.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import numpy as np

from capscope.store._duck import arrow, run
from capscope.watch.engine import ALERT_ID_LENGTH, LEVEL_WINDOW, GroupState, alert_id, records, window_events
from capscope.watch.patterns import GroupPatterns, tail

if TYPE_CHECKING:
    from capscope.store import Store

logger = logging.getLogger("capscope.watch")

#: Symbols per state group (bounds the memory of the first, history-wide state build).
GROUP_SIZE: Final = 512
#: Environment variable naming the checkpoints to pause at (tests only).
PAUSE_ENV: Final = "CAPSCOPE_WATCH_PAUSE"
_EPOCH = np.datetime64("1970-01-01", "D")
#: How every alert payload starts (``json.dumps`` of a dict whose first key is the id, 20 hex digits).
_OWN_LINE: Final = re.compile(rb'\{"alert_id": "([0-9a-f]{%d})", ' % ALERT_ID_LENGTH)


def checkpoint(name: str) -> None:
    """Pause here when ``name`` is listed in ``$CAPSCOPE_WATCH_PAUSE`` (kill tests); otherwise do nothing.

    Names: ``ingest`` (after the first file of an ingest was read), ``state`` (states, alerts and outbox written,
    before ``COMMIT``), ``commit`` (after it, before delivery), ``file-write`` (half an alert line written to the
    alerts file), ``file-mark`` (alerts file synced, before its mark), ``exec`` (command succeeded, before its
    mark).
    """
    wanted = os.environ.get(PAUSE_ENV)
    if wanted and name in wanted.split(","):
        print(f"capscope-watch-checkpoint {name}", file=sys.stderr, flush=True)
        time.sleep(3600)


@dataclass
class Alert:
    """One alert of the outbox."""

    seq: int
    alert_id: str
    payload: str

    @property
    def record(self) -> dict[str, Any]:
        """The alert as a dict (``alert_id, symbol, date, kind``, the event's fields, ``detected_at``)."""
        out: dict[str, Any] = json.loads(self.payload)
        return out


@dataclass
class CycleReport:
    """What one :func:`process` call did."""

    history_symbols: list[str] = field(default_factory=list)
    new_bars: int = 0
    days: list[str] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


# -- detection ---------------------------------------------------------------------------------------------------
def _groups(store: Store) -> list[tuple[int, GroupState]]:
    rows = run(store.con, "SELECT group_id, state FROM watch_groups ORDER BY group_id")
    return [(int(gid), GroupState.from_bytes(bytes(blob))) for gid, blob in rows]


def _window_start(
    store: Store, symbols: Sequence[str], day: np.datetime64, window: int
) -> np.datetime64 | None:
    """The ``window``-th last bar date of ``symbols`` up to ``day`` (``None``: fewer dates than that)."""
    rows = run(
        store.con,
        "SELECT date FROM (SELECT DISTINCT b.date FROM bars b JOIN symbols s USING (symbol_id) "
        "WHERE list_contains(?, s.symbol) AND b.date <= ?) ORDER BY date DESC LIMIT 1 OFFSET ?",
        [list(symbols), day.astype(object), window - 1],
    )
    return None if not rows else np.datetime64(rows[0][0], "D")


class WindowSource(Protocol):
    """Gives the trailing window panel (high, low, close) of a group's symbols ending on a day."""

    def __call__(self, symbols: Sequence[str], day: np.datetime64) -> Any: ...


def store_window(store: Store, window: int | None = LEVEL_WINDOW) -> WindowSource:
    """A :class:`WindowSource` reading the group's last ``window`` bar dates up to the day from the store
    (``None``: its whole history)."""

    def load(symbols: Sequence[str], day: np.datetime64) -> Any:
        start = None if window is None else _window_start(store, symbols, day, window)
        return store.panel(list(symbols), start=start, end=day, fields=("high", "low", "close"))

    return load


class MemoryWindow:
    """A :class:`WindowSource` for the long-running watch: each group's window stays in memory and only the rows
    after its last day are read from the store (a day at or before it -- a late bar -- reloads the window).

    It gives the same panels as :func:`store_window`: the last ``window`` bar dates of the group's symbols
    (``window=None``: the whole history, which the pattern pass needs; see :mod:`capscope.watch.patterns`).
    The rows live in buffers with room to grow, and each panel is a view of its rows: a new day is written once
    instead of the whole history being copied (the buffer doubles when full). Panels given out earlier keep
    their rows (a buffer's written rows are never changed); consumers must not write into them.
    """

    def __init__(self, store: Store, window: int | None = LEVEL_WINDOW) -> None:
        self.store = store
        self.window = window
        self._load = store_window(store, window)
        self._panels: dict[tuple[str, ...], Any] = {}
        self._buffers: dict[tuple[str, ...], _Rows] = {}

    def cached(self, symbols: Sequence[str]) -> Any:
        """The window held for ``symbols`` (``None`` when there is none)."""
        return self._panels.get(tuple(symbols))

    def __call__(self, symbols: Sequence[str], day: np.datetime64) -> Any:
        key = tuple(symbols)
        old = self._panels.get(key)
        rows = self._buffers.get(key)
        if old is None or rows is None or not old.n_bars or old.dates[-1] >= day:
            panel = self._load(symbols, day)
            rows = self._buffers[key] = _Rows(panel)
        else:
            add = self.store.panel(list(symbols), start=old.dates[-1] + 1, end=day, fields=_FIELDS)
            rows.append(add)
            if self.window is not None:
                rows.start = max(rows.start, rows.end - self.window)
            panel = rows.panel(key)
        self._panels[key] = panel
        return panel


_FIELDS: Final = ("high", "low", "close")


class _Rows:
    """A group's rows in growable buffers: rows ``start:end`` are the window."""

    def __init__(self, panel: Any) -> None:
        n = panel.n_bars
        cap = n + 64
        self.dates = np.empty(cap, dtype=panel.dates.dtype)
        self.dates[:n] = panel.dates
        self.fields = {f: np.empty((cap, panel.n_symbols)) for f in _FIELDS}
        for f in _FIELDS:
            self.fields[f][:n] = panel[f]
        self.start, self.end = 0, n

    def append(self, add: Any) -> None:
        r = add.n_bars
        if self.end + r > len(
            self.dates
        ):  # full: new buffers twice as long (the old ones stay with old panels)
            n = self.end - self.start
            cap = 2 * (n + r) + 64
            dates = np.empty(cap, dtype=self.dates.dtype)
            dates[:n] = self.dates[self.start : self.end]
            fields = {f: np.empty((cap, a.shape[1])) for f, a in self.fields.items()}
            for f, a in fields.items():
                a[:n] = self.fields[f][self.start : self.end]
            self.dates, self.fields, self.start, self.end = dates, fields, 0, n
        self.dates[self.end : self.end + r] = add.dates
        for f, a in self.fields.items():
            a[self.end : self.end + r] = add[f]
        self.end += r

    def panel(self, key: tuple[str, ...]) -> Any:
        from capscope.data.panel import Panel

        rows = slice(self.start, self.end)
        return Panel(self.dates[rows], key, {f: a[rows] for f, a in self.fields.items()})


def _symbol(record: dict[str, Any]) -> str:
    return str(record["symbol"])


def _pattern_alerts(
    history: Any,
    days: Sequence[tuple[np.datetime64, Sequence[int]]],
    threads: int,
    prior: GroupPatterns | None = None,
) -> tuple[GroupPatterns, dict[np.datetime64, list[dict[str, Any]]]]:
    """One group's pattern pass over its whole history and its alerts for each of ``days`` (a day and the
    columns with a new bar on it): the part run in the background.

    The pass is carried on from ``prior`` (the pass of the previous cycle) when the history is that pass's with
    one more row, about one bar per symbol (:meth:`GroupPatterns.advance`, equal to a new pass); otherwise it is
    run over the whole history.
    """
    if prior is not None and prior.follows(history):
        found = prior.advance(history)
    else:
        found = GroupPatterns.detect(history, threads=threads)
    return found, {day: found.alerts(day, cols) for day, cols in days}


def process(
    store: Store,
    *,
    window: WindowSource | None = None,
    now: Callable[[], datetime] | None = None,
    symbols: Iterable[str] | None = None,
    states: StateCache | None = None,
    history: WindowSource | None = None,
    patterns: bool = True,
    threads: int | None = None,
) -> CycleReport:
    """Fold every new bar of the store into the saved states and write the alerts they give, in one transaction.

    Parameters
    ----------
    store
        A writable store.
    window
        Source of the trailing window panels of the levels and breakouts (default: cut from the history when
        ``patterns`` is on, else read from the store, :func:`store_window`).
    now
        Clock for ``detected_at`` (default: UTC now).
    symbols
        Watch only these symbols (default: every stored symbol); symbols already watched stay watched.
    states
        The long-running watch's copy of the committed states (read from the store when empty or absent).
    history
        Source of each group's whole history up to a day (default: read from the store,
        ``store_window(store, None)``; the long-running watch keeps it with ``MemoryWindow(store, None)``).
    patterns
        Also alert chart-pattern status changes (:mod:`capscope.watch.patterns`: each group's pass over its
        history, carried on from the pass ``states`` holds when there is one). A day's signal alerts come first,
        then its pattern alerts by symbol.
    threads
        Threads of the cycle (default: numba's thread count, ``NUMBA_NUM_THREADS``). With more than one, the
        pattern passes and the levels and breakouts of the trailing windows run on two background threads while
        this thread advances the states and builds the alerts (the compiled kernels release the GIL); the alerts
        are the same for any count. 1 runs everything in this thread, one step after the other.

    Returns
    -------
    CycleReport
        Symbols taken as history, new bars folded in, their days and the alerts written.
    """
    import polars as pl

    con = store.con
    read_history = history or store_window(store, None)
    read_window = window or store_window(store)
    stamp = (now or (lambda: datetime.now(UTC)))().replace(microsecond=0)
    report = CycleReport()
    cached = states.take() if states is not None else None
    prior = states.take_patterns() if states is not None else {}
    groups = cached if cached is not None else _groups(store)
    known = {s for _, g in groups for s in g.symbols}
    stored = [r[0] for r in run(con, "SELECT symbol FROM symbols ORDER BY symbol")]
    universe = None if symbols is None else set(symbols)
    fresh = [s for s in stored if s not in known and (universe is None or s in universe)]
    pool: ThreadPoolExecutor | None = None  # the pattern passes
    side: ThreadPoolExecutor | None = None  # the levels and breakouts of the trailing windows
    run(con, "BEGIN TRANSACTION")
    try:
        next_gid = max((gid for gid, _ in groups), default=0) + 1
        for i in range(0, len(fresh), GROUP_SIZE):
            block = fresh[i : i + GROUP_SIZE]
            panel = store.panel(block, fields=("high", "low", "close"))
            g = GroupState.from_history(panel)
            run(
                con,
                "INSERT INTO watch_groups VALUES (?, ?, ?, ?)",
                [next_gid, json.dumps(block), g.to_bytes(), stamp.replace(tzinfo=None)],
            )
            groups.append((next_gid, g))
            next_gid += 1
            report.history_symbols += block
        changed: set[int] = set()
        if groups:
            lasts = np.concatenate([g.last_day for _, g in groups])
            floor = int(lasts.min()) if len(lasts) else -1
            since = (_EPOCH + max(floor, -1)).astype(object) if floor >= 0 else None
            sql = "SELECT s.symbol, b.date FROM bars b JOIN symbols s USING (symbol_id)"
            tab = arrow(con, sql + (" WHERE b.date > ?" if since else ""), [since] if since else None)
            frame = pl.from_arrow(tab)
            assert isinstance(frame, pl.DataFrame)
            where = {s: (k, j) for k, (_, g) in enumerate(groups) for j, s in enumerate(g.symbols)}
            cells: dict[np.datetime64, dict[int, list[int]]] = {}
            days = frame["date"].to_numpy().astype("datetime64[D]")
            for sym, day in zip(frame["symbol"].to_list(), days, strict=True):
                k, j = where.get(sym, (-1, -1))
                if k < 0 or int((day - _EPOCH).astype(np.int64)) <= groups[k][1].last_day[j]:
                    continue
                cells.setdefault(day, {}).setdefault(k, []).append(j)
            seq = int(run(con, "SELECT coalesce(max(seq), 0) FROM watch_alerts")[0][0])
            found: set[str] = set()
            keys: dict[str, tuple[str, str, str]] = {}
            detected = stamp.isoformat().replace("+00:00", "Z")
            passes: dict[int, Future[tuple[GroupPatterns, dict[np.datetime64, list[dict[str, Any]]]]]] = {}
            histories: dict[int, Any] = {}
            from capscope.patterns.chartist import pass_threads

            workers = pass_threads(threads)
            if workers > 1 and cells:
                side = ThreadPoolExecutor(1, thread_name_prefix="capscope-watch-windows")
            if patterns:  # one pass over each group's whole history serves every new day of the cycle
                last = {k: day for day in sorted(cells) for k in cells[day]}
                if workers > 1:  # the passes run while this thread computes the signals below
                    pool = ThreadPoolExecutor(1, thread_name_prefix="capscope-watch-patterns")
                for k, day in sorted(last.items()):
                    histories[k] = read_history(groups[k][1].symbols, day)
                    todo = [(d, cells[d][k]) for d in sorted(cells) if k in cells[d]]
                    before = prior.pop(groups[k][1].symbols, None)
                    if pool is not None:
                        passes[k] = pool.submit(_pattern_alerts, histories[k], todo, workers, before)
                    else:
                        passes[k] = Future()
                        passes[k].set_result(_pattern_alerts(histories[k], todo, 1, before))
            for day in sorted(cells):
                signal_alerts: list[dict[str, Any]] = []
                pattern_alerts: list[dict[str, Any]] = []
                # the levels and breakouts of each group's trailing window (batch code, independent of the states)
                # are computed on another thread while this one advances the states and builds the records
                windows: list[tuple[int, Any, np.ndarray, Future[list[Any]]]] = []
                for k, cols in sorted(cells[day].items()):
                    g = groups[k][1]
                    if window is None and k in histories:
                        panel = tail(histories[k], day, LEVEL_WINDOW)
                    else:
                        panel = read_window(g.symbols, day)
                    if (
                        not panel.n_bars or panel.dates[-1] != day
                    ):  # pragma: no cover - store and query disagree
                        raise RuntimeError(f"window of {day} does not end on it")
                    new = np.zeros(len(g.symbols), dtype=bool)
                    new[cols] = True
                    if side is not None:
                        windows.append((k, panel, new, side.submit(window_events, panel, new)))
                    else:
                        done: Future[list[Any]] = Future()
                        done.set_result(window_events(panel, new))
                        windows.append((k, panel, new, done))
                for k, panel, new, found_parts in windows:
                    from capscope.events.records import assemble

                    parts = groups[k][1].advance(panel, new, levels=False) + found_parts.result()
                    signal_alerts += records(assemble(panel, parts))
                    changed.add(k)
                    report.new_bars += int(new.sum())
                for k in sorted(cells[day]):  # after the signals: the passes had their time
                    if k in passes:
                        pattern_alerts += passes[k].result()[1][day]
                report.days.append(str(day))
                # The batch scan's order: every row has this date, each group's rows are sorted by (symbol, kind,
                # parameters) and groups hold disjoint symbols, so a stable sort by symbol merges them.
                signal_alerts.sort(key=_symbol)
                pattern_alerts.sort(key=_symbol)
                for rec in signal_alerts + pattern_alerts:
                    aid = alert_id(rec)
                    if aid in found:
                        continue
                    found.add(aid)
                    payload = json.dumps({"alert_id": aid, **rec, "detected_at": detected})
                    seq += 1
                    report.alerts.append(Alert(seq, aid, payload))
                    keys[aid] = (str(rec["symbol"]), str(rec["date"]), str(rec["kind"]))
            _insert_alerts(con, report.alerts, stamp.replace(tzinfo=None), keys)
        for k in sorted(changed):
            gid, g = groups[k]
            # DELETE + INSERT rather than UPDATE: DuckDB rewrites a state BLOB (~1.7 MB for 512 symbols) about 3x
            # faster this way (benchmarks/RESULTS.md, "Watch: one new day").
            run(con, "DELETE FROM watch_groups WHERE group_id = ?", [gid])
            run(
                con,
                "INSERT INTO watch_groups VALUES (?, ?, ?, ?)",
                [gid, json.dumps(list(g.symbols)), g.to_bytes(), stamp.replace(tzinfo=None)],
            )
        checkpoint("state")
        run(con, "COMMIT")
    except BaseException:
        run(con, "ROLLBACK")
        raise
    finally:
        for executor in (pool, side):
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)
    if states is not None:
        states.keep(groups)
        # the passes of groups without a new bar stay as they were; the others were carried on or redone
        states.keep_patterns({**prior, **{groups[k][1].symbols: f.result()[0] for k, f in passes.items()}})
    checkpoint("commit")
    return report


class StateCache:
    """The committed group states kept in memory between cycles of one long-running watch (the only writer).

    :func:`process` takes them out before it changes anything and puts them back only after ``COMMIT``; after a
    failure the cache is empty and the next cycle reads the states from the store.
    """

    def __init__(self) -> None:
        self._groups: list[tuple[int, GroupState]] | None = None
        self._patterns: dict[tuple[str, ...], GroupPatterns] = {}

    def take(self) -> list[tuple[int, GroupState]] | None:
        """Remove and return the cached states (``None`` when there are none)."""
        out, self._groups = self._groups, None
        return out

    def keep(self, groups: list[tuple[int, GroupState]]) -> None:
        """Hold the states just committed."""
        self._groups = groups

    def take_patterns(self) -> dict[tuple[str, ...], GroupPatterns]:
        """Remove and return the pattern passes of the last committed cycle, by group symbols."""
        out, self._patterns = self._patterns, {}
        return out

    def keep_patterns(self, passes: dict[tuple[str, ...], GroupPatterns]) -> None:
        """Hold the pattern passes of the cycle just committed (the next cycle carries them on)."""
        self._patterns = passes

    def warm(self, history: WindowSource, threads: int | None = None) -> int:
        """Run the pattern pass of each cached group that has none (at start-up, a new group, after a failed
        cycle) over its history up to its last folded day, so that its next new day only carries it on by one
        row. The long-running watch calls it after a cycle's delivery; returns the number of passes run."""
        if self._groups is None:
            return 0
        ran = 0
        for _, g in self._groups:
            if g.symbols in self._patterns or not (g.last_day >= 0).any():
                continue
            day = _EPOCH + np.timedelta64(int(g.last_day.max()), "D")
            self._patterns[g.symbols] = GroupPatterns.detect(history(g.symbols, day), threads=threads)
            ran += 1
        return ran


def _insert_alerts(
    con: Any, alerts: list[Alert], stamp: datetime, keys: dict[str, tuple[str, str, str]]
) -> None:
    """Insert the cycle's alerts with one statement; an id already stored (an event found twice) is dropped.

    ``keys`` gives each alert id's ``(symbol, date, kind)``, the outbox's indexed columns.

    Ids already in the table cannot normally occur (the alerts of a bar are committed with the states that
    consumed it), but the ``UNIQUE`` id is the last guard: such alerts are removed from ``alerts`` and the
    remaining ones renumbered so ``seq`` stays contiguous.
    """
    import pyarrow as pa

    if not alerts:
        return
    ids = pa.table({"alert_id": [a.alert_id for a in alerts]})
    con.register("_watch_new_ids", ids)
    try:  # a join, not a scan of the whole outbox per id
        known = {
            r[0] for r in run(con, "SELECT alert_id FROM watch_alerts JOIN _watch_new_ids USING (alert_id)")
        }
    finally:
        con.unregister("_watch_new_ids")
    if known:
        first = alerts[0].seq
        kept = [a for a in alerts if a.alert_id not in known]
        alerts[:] = [Alert(first + i, a.alert_id, a.payload) for i, a in enumerate(kept)]
        if not alerts:
            return
    rows = [keys[a.alert_id] for a in alerts]
    table = pa.table(
        {
            "seq": pa.array([a.seq for a in alerts], pa.int64()),
            "alert_id": [a.alert_id for a in alerts],
            "symbol": [r[0] for r in rows],
            "date": pa.array([date.fromisoformat(r[1]) for r in rows], pa.date32()),
            "kind": [r[2] for r in rows],
            "payload": [a.payload for a in alerts],
            "detected_at": pa.array([stamp] * len(alerts), pa.timestamp("us")),
        }
    )
    con.register("_watch_new_alerts", table)
    try:
        run(con, "INSERT INTO watch_alerts SELECT * FROM _watch_new_alerts")
    finally:
        con.unregister("_watch_new_alerts")


# -- delivery ------------------------------------------------------------------------------------------------------
class Sink(Protocol):
    """A delivery target: ``name`` identifies its mark in ``watch_sinks``."""

    name: str

    def deliver(self, alerts: Sequence[Alert], done: Callable[[int], None]) -> None:
        """Deliver ``alerts`` in order, calling ``done(seq)`` after each one (or after a batch) is confirmed."""


def register_sinks(store: Store, sinks: Iterable[Sink]) -> None:
    """Record sinks seen for the first time: they receive the alerts found from now on, not older ones."""
    con = store.con
    for sink in sinks:
        run(
            con,
            "INSERT OR IGNORE INTO watch_sinks "
            "SELECT ?, coalesce(max(seq), 0), current_timestamp::TIMESTAMP FROM watch_alerts",
            [sink.name],
        )


def pending(store: Store, sink_name: str) -> list[Alert]:
    """Alerts after the sink's mark, in delivery order."""
    rows = run(
        store.con,
        "SELECT a.seq, a.alert_id, a.payload FROM watch_alerts a, watch_sinks s "
        "WHERE s.sink = ? AND a.seq > s.delivered_through ORDER BY a.seq",
        [sink_name],
    )
    return [Alert(int(seq), str(aid), str(payload)) for seq, aid, payload in rows]


def deliver(store: Store, sink: Sink) -> int:
    """Send a sink its pending alerts and move its mark; returns the number confirmed (errors are logged)."""
    todo = pending(store, sink.name)
    if not todo:
        return 0
    confirmed = 0

    def done(seq: int) -> None:
        nonlocal confirmed
        run(store.con, "UPDATE watch_sinks SET delivered_through = ? WHERE sink = ?", [seq, sink.name])
        confirmed = sum(1 for a in todo if a.seq <= seq)

    try:
        sink.deliver(todo, done)
    except Exception as exc:  # one failing sink never blocks the others
        logger.warning(
            "watch: sink %s failed after %d of %d alerts: %s", sink.name, confirmed, len(todo), exc
        )
    return confirmed


class FileSink:
    """Appends one JSON object per line to a file, idempotently (see the module docstring).

    Before appending, a half-written last line (no trailing newline: a crash during the write) is cut, and the
    ids in the last ``len(alerts)`` lines are read: an alert already there was written before a crash that came
    before its mark and is not written again. Only this process writes the file (one watcher per alerts file).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = f"file:{self.path.resolve()}"

    def _tail_ids(self, n: int) -> set[str]:
        if not self.path.exists():
            return set()
        with open(self.path, "rb+") as fh:
            size = fh.seek(0, os.SEEK_END)
            block = 1 << 16
            data = b""
            pos = size
            while pos > 0 and data.count(b"\n") <= n + 1:
                step = min(block, pos)
                pos -= step
                fh.seek(pos)
                data = fh.read(step) + data
            if data and not data.endswith(b"\n"):  # a crash mid-line: cut the partial line
                cut = data.rfind(b"\n")
                keep = pos + cut + 1 if cut >= 0 else 0
                fh.truncate(keep)
                data = data[: cut + 1] if cut >= 0 else b""
        ids = set()
        for line in data.splitlines()[-n:] if n else []:
            fast = _OWN_LINE.match(line)  # the lines this sink writes: the id first, a whole object
            if fast is not None and line.endswith(b"}"):
                ids.add(fast.group(1).decode("ascii"))
                continue
            try:
                ids.add(str(json.loads(line)["alert_id"]))
            except (ValueError, KeyError, TypeError):
                continue
        return ids

    def deliver(self, alerts: Sequence[Alert], done: Callable[[int], None]) -> None:
        """Append the alerts not yet in the file's tail, fsync, then confirm them all."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        present = self._tail_ids(len(alerts))
        with open(self.path, "ab") as fh:
            for a in alerts:
                if a.alert_id in present:
                    continue
                line = a.payload.encode() + b"\n"
                if os.environ.get(PAUSE_ENV):
                    fh.write(line[: len(line) // 2])
                    fh.flush()
                    checkpoint("file-write")
                    fh.write(line[len(line) // 2 :])
                else:
                    fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        checkpoint("file-mark")
        done(alerts[-1].seq)


class ExecSink:
    """Runs a shell command per alert with the alert's JSON on stdin; exit status 0 confirms it.

    A failure is retried with exponential backoff (tenacity); when the retries are used up the remaining alerts stay
    in the outbox for the next cycle (delivery order is kept) and the failure is logged.
    """

    def __init__(
        self, command: str, *, attempts: int = 4, wait_max: float = 8.0, timeout: float = 60.0
    ) -> None:
        self.command = command
        self.name = f"exec:{command}"
        self.attempts = attempts
        self.wait_max = wait_max
        self.timeout = timeout

    def _run(self, alert: Alert) -> None:
        import subprocess

        result = subprocess.run(
            self.command,
            shell=True,
            input=(alert.payload + "\n").encode(),
            capture_output=True,
            timeout=self.timeout,
            check=False,
        )
        if result.returncode != 0:
            err = result.stderr.decode(errors="replace").strip()[-200:]
            raise RuntimeError(f"exit status {result.returncode}" + (f": {err}" if err else ""))

    def deliver(self, alerts: Sequence[Alert], done: Callable[[int], None]) -> None:
        """Run the command for each alert in order (retrying), confirming each success."""
        from tenacity import Retrying, before_sleep_log, stop_after_attempt, wait_exponential

        for a in alerts:
            retrying = Retrying(
                stop=stop_after_attempt(self.attempts),
                wait=wait_exponential(multiplier=0.25, max=self.wait_max),
                before_sleep=before_sleep_log(logger, logging.WARNING),
                reraise=True,
            )
            retrying(self._run, a)
            checkpoint("exec")
            done(a.seq)


class CallbackSink:
    """Hands each alert to a Python callable (the terminal sink of the CLI); confirmed when it returns."""

    def __init__(self, name: str, func: Callable[[dict[str, Any]], None]) -> None:
        self.name = name
        self.func = func

    def deliver(self, alerts: Sequence[Alert], done: Callable[[int], None]) -> None:
        """Call the function for each alert in order."""
        for a in alerts:
            self.func(a.record)
            done(a.seq)


class Pickup(Protocol):
    """Brings new bars into the store (e.g. :class:`capscope.watch.pickup.DirectoryPickup`)."""

    def ingest(self, store: Store) -> Any:
        """Ingest what is new; the store commits it on its own."""


def run_cycle(
    store: Store,
    sinks: Sequence[Sink],
    pickup: Pickup | None = None,
    *,
    symbols: Iterable[str] | None = None,
    window: WindowSource | None = None,
    states: StateCache | None = None,
    history: WindowSource | None = None,
    patterns: bool = True,
) -> CycleReport:
    """One watch cycle: register the sinks, pick up new bars, :func:`process` them, deliver every pending alert.

    Delivery covers alerts left pending by an earlier crash or a failing sink as well as the new ones.
    """
    register_sinks(store, sinks)
    if pickup is not None:
        pickup.ingest(store)
    report = process(store, symbols=symbols, window=window, states=states, history=history, patterns=patterns)
    for sink in sinks:
        deliver(store, sink)
    if (
        states is not None and patterns
    ):  # after delivery: the next cycle's pattern passes, carried on from these
        states.warm(history or store_window(store, None))
    return report
