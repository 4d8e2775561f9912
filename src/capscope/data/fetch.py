"""HTTP GET with polite rate limiting and retries with backoff (tenacity), for the downloads.

:class:`RetryingFetch` is a :data:`capscope.data.download.Fetch`: ``fetch(url, timeout) -> (status, body)``.

* **Transient** failures are retried: no answer in time, a refused or reset connection, a connection dropped in
  the middle of the body (``http.client.IncompleteRead``), HTTP 429 and 5xx, and a 200 answer whose body is not
  complete JSON. The wait before attempt ``n + 1`` is exponential with jitter (``initial * 2**(n-1)`` plus up to
  ``jitter`` seconds, capped at ``max_wait``; tenacity's ``wait_exponential_jitter``), and never shorter than a
  ``Retry-After`` header (seconds or an HTTP date, RFC 9110 section 10.2.3) when the server sends one.
* **Permanent** answers (any other 4xx, e.g. 404 for an unknown symbol) are returned at once.
* When the attempts are used up, the last HTTP answer is returned, or the last network error raised (a dropped
  body as :class:`ConnectionError`), so the caller reports it.
* **Rate limit**: consecutive requests (retries included) are at least ``min_interval`` seconds apart.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Final

logger = logging.getLogger("capscope.data")

#: Statuses worth another attempt (RFC 9110: 429 Too Many Requests, 5xx server errors).
RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
_HEADERS: Final = {"User-Agent": "Mozilla/5.0 (capscope)", "Accept": "application/json"}


class _Transient(Exception):
    """One failed attempt worth retrying."""

    def __init__(
        self, reason: str, *, status: int | None = None, body: bytes = b"", retry_after: float | None = None
    ):
        super().__init__(reason)
        self.status = status
        self.body = body
        self.retry_after = retry_after
        self.error: BaseException | None = None


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date; ``None`` when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:  # pragma: no cover - older Python versions
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class RateLimiter:
    """At least ``min_interval`` seconds between the starts of consecutive requests."""

    min_interval: float = 0.5
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _last: float | None = field(default=None, repr=False)

    def wait(self) -> None:
        """Sleep until the next request may start, then record its start."""
        if self._last is not None:
            gap = self._last + self.min_interval - self.clock()
            if gap > 0:
                self.sleep(gap)
        self._last = self.clock()


def _get(url: str, timeout: float) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=_HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), dict(exc.headers.items()) if exc.headers else {}, exc.read()


@dataclass
class RetryingFetch:
    """``fetch(url, timeout) -> (status, body)`` with retries and rate limiting (see the module docstring).

    Parameters
    ----------
    attempts
        Attempts per URL (first one included).
    initial, max_wait, jitter
        Backoff: ``initial * 2**(n-1)`` seconds plus up to ``jitter``, at most ``max_wait`` (a ``Retry-After``
        may ask for longer, up to ``max_retry_after``).
    min_interval
        Seconds between request starts (politeness towards the server).
    sleep
        Sleep function (tests pass a recorder).
    """

    attempts: int = 5
    initial: float = 1.0
    max_wait: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 120.0
    min_interval: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    get: Callable[[str, float], tuple[int, dict[str, str], bytes]] = _get
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.min_interval, sleep=self.sleep)

    def _once(self, url: str, timeout: float) -> tuple[int, bytes]:
        self.limiter.wait()
        try:
            status, headers, body = self.get(url, timeout)
        except http.client.IncompleteRead as exc:
            err = _Transient(f"connection dropped after {len(exc.partial)} bytes of the answer")
            err.error = ConnectionError(str(err))
            raise err from None
        except (OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            err = _Transient(f"{type(exc).__name__}: {reason}")
            err.error = exc if isinstance(exc, OSError) else ConnectionError(str(reason))
            raise err from None
        if status in RETRY_STATUSES:
            lower = {k.lower(): v for k, v in headers.items()}
            raise _Transient(
                f"HTTP {status}",
                status=status,
                body=body,
                retry_after=retry_after_seconds(lower.get("retry-after")),
            )
        if status == 200:
            try:
                json.loads(body)
            except ValueError:
                raise _Transient(
                    f"incomplete answer ({len(body)} bytes, not JSON)", status=status, body=body
                ) from None
        return status, body

    def _wait(self, state: Any) -> float:
        from tenacity import wait_exponential_jitter

        backoff = float(
            wait_exponential_jitter(multiplier=self.initial, max=self.max_wait, jitter=self.jitter)(state)
        )
        exc = state.outcome.exception() if state.outcome is not None else None
        after = getattr(exc, "retry_after", None)
        if after is not None:
            return min(max(backoff, after), self.max_retry_after)
        return backoff

    def __call__(self, url: str, timeout: float) -> tuple[int, bytes]:
        """GET ``url``: the final ``(status, body)``, or the last network error raised."""
        from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt

        def log(state: Any) -> None:
            exc = state.outcome.exception()
            logger.warning(
                "download: %s (attempt %d of %d); retrying %s", exc, state.attempt_number, self.attempts, url
            )

        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=log,
        )
        try:
            return retrying(self._once, url, timeout)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            assert isinstance(last, _Transient)
            if last.status is not None:
                return last.status, last.body
            assert last.error is not None
            raise last.error from None
