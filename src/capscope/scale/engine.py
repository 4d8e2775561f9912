"""Engines: run one stage function over a list of blocks, here (``local``) or as Dask tasks (``dask``).

``local`` runs the blocks one after another in this process (one block in memory at a time) with a rich progress
bar on stderr. ``dask`` submits one task per block to a Dask cluster: an existing scheduler (``scheduler``,
e.g. ``tcp://10.0.0.5:8786``) or a :class:`distributed.LocalCluster` started for the call (2 worker processes
of one thread each by default) and closed afterwards; the progress bar is distributed's own (written to stderr so
that JSON/CSV on stdout stay clean). Both return the partial results in block order, so the combination, and
hence the result, does not depend on the engine.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, Final, TypeVar

from capscope.errors import CapscopeError, UsageError

ENGINES: Final = ("local", "dask")
#: Workers of the LocalCluster started when no scheduler is given.
LOCAL_WORKERS: Final = 2

T = TypeVar("T")


def check_engine(engine: str, scheduler: str | None) -> None:
    """Validate ``--engine`` / ``--scheduler``.

    Raises
    ------
    UsageError
        Unknown engine, or a scheduler given with the local engine.
    """
    if engine not in ENGINES:
        raise UsageError(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if scheduler is not None and engine != "dask":
        raise UsageError("--scheduler needs --engine dask")


def run_blocks(
    fn: Callable[..., T],
    blocks: Sequence[Any],
    kwargs: dict[str, Any],
    *,
    engine: str = "local",
    scheduler: str | None = None,
    label: str = "blocks",
    show_progress: bool = False,
    processes: bool = True,
    on_result: Callable[[T], None] | None = None,
) -> list[T]:
    """``[fn(block, **kwargs) for block in blocks]`` on the chosen engine.

    Parameters
    ----------
    fn
        A module-level stage function (picklable).
    blocks
        The blocks (:class:`capscope.scale.blocks.Block`).
    kwargs
        Keyword arguments passed to every call.
    engine
        ``local`` or ``dask``.
    scheduler
        Address of a running Dask scheduler (``dask`` only); default: a LocalCluster for this call.
    label
        Progress bar text.
    show_progress
        Show a progress bar on stderr.
    processes
        LocalCluster workers as processes (default) or threads of this process (tests).
    on_result
        Called with each partial result in block order as soon as it and every block before it are done; the
        results are then not kept (a fold whose memory does not grow with the number of blocks).

    Returns
    -------
    list
        The partial results in block order (empty when ``on_result`` is given).
    """
    check_engine(engine, scheduler)
    out: list[T] = []
    deliver = out.append if on_result is None else on_result
    if engine == "local":
        _run_local(fn, blocks, kwargs, label, show_progress, deliver)
    else:
        _run_dask(fn, blocks, kwargs, scheduler, show_progress, processes, deliver)
    return out


def _run_local(
    fn: Callable[..., T],
    blocks: Sequence[Any],
    kwargs: dict[str, Any],
    label: str,
    show_progress: bool,
    deliver: Callable[[T], None],
) -> None:
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    # a bar only on a terminal: redirected stderr (logs, CI) would get the bar's redraws as blank lines
    visible = show_progress and len(blocks) > 1 and console.is_terminal
    with Progress(console=console, transient=True, disable=not visible) as progress:
        task = progress.add_task(label, total=len(blocks))
        for block in blocks:
            deliver(fn(block, **kwargs))
            progress.advance(task)


def _capture(fn: Callable[..., T], block: Any, **kwargs: Any) -> tuple[bool, T | CapscopeError]:
    """Run one block on a worker; a :class:`~capscope.errors.CapscopeError` (a damaged dataset file, ...) is
    returned, not raised: the client then reports it as the local engine does (one line, its exit code) and the
    workers do not log it as a crashed task with a traceback."""
    try:
        return True, fn(block, **kwargs)
    except CapscopeError as exc:
        return False, exc


@contextlib.contextmanager
def _quiet_workers() -> Iterator[None]:
    """Worker processes started meanwhile log only errors (no start-up chatter, no warnings about the tasks
    cancelled after a failed block): they read Dask's logging level from the environment when they start."""
    key = "DASK_LOGGING__DISTRIBUTED"
    before = os.environ.get(key)
    os.environ[key] = "error"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


def _run_dask(
    fn: Callable[..., T],
    blocks: Sequence[Any],
    kwargs: dict[str, Any],
    scheduler: str | None,
    show_progress: bool,
    processes: bool,
    deliver: Callable[[T], None],
) -> None:
    import logging

    from distributed import Client, LocalCluster, as_completed, progress

    with contextlib.ExitStack() as stack:
        if scheduler is None:
            # the cluster's own INFO/WARNING chatter (ports, worker starts) is not the user's business
            logging.getLogger("distributed").setLevel(logging.ERROR)
            # ":0": any free port for the scheduler's HTTP server (a fixed 8787 may be taken by another cluster)
            with _quiet_workers():
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=LOCAL_WORKERS,
                        threads_per_worker=1,
                        processes=processes,
                        dashboard_address=":0",
                    )
                )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout=10))
            except (OSError, TimeoutError, ValueError) as exc:
                raise UsageError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        futures = client.map(partial(_capture, fn), list(blocks), pure=False, **kwargs)
        if show_progress and len(blocks) > 1 and sys.stderr.isatty():
            with contextlib.redirect_stdout(sys.stderr):
                progress(futures)
        position = {future.key: i for i, future in enumerate(futures)}
        waiting: dict[int, Any] = {}  # finished ahead of an earlier block: held until it is their turn
        next_block = 0
        for future, (ok, value) in as_completed(futures, with_results=True):
            if not ok:
                client.cancel(futures)  # the first failed block ends the run, as it does locally
                raise value
            waiting[position[future.key]] = value
            while next_block in waiting:
                deliver(waiting.pop(next_block))
                next_block += 1
