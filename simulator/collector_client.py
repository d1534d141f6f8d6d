"""What the simulator tells the collector: identities and declared media, never outcomes.

The collector derives every outcome (who joined, what flowed, why it ended) from Janus's events.
The simulator only supplies what a media server cannot know: who the user is and what the
browser declared about its media (OpenVidu gets the same from its client SDK).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aiohttp

# A collector restarted by a supervisor (or killed and restarted by a fault test) refuses
# connections for a second or two; without retries one unlucky registration would fail the whole
# run. 0.2+0.4+0.8+1.6+3.2 s ~ 6 s of waiting, the same window Janus's event handler retries for
# (``rtcsim/services/janus_config.py``), so both halves of the collector's input survive the
# same outage.
RETRY_DELAYS_S: tuple[float, ...] = (0.2, 0.4, 0.8, 1.6, 3.2)
# Answers that mean "not now" (a proxy or a server starting), not "this request is wrong".
RETRY_STATUSES = frozenset({502, 503, 504})


class CollectorUnavailable(RuntimeError):
    """The collector's API refused or did not answer."""


class _Retryable(Exception):
    """One failed attempt worth repeating; ``message`` is what the caller sees if all fail."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CollectorClient:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        base_url: str,
        token: str,
        *,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.retry_delays_s = tuple(retry_delays_s)
        self.retries = 0
        """Attempts repeated so far (for the run's log and for tests)."""

    async def post(self, path: str, payload: dict[str, Any] | list[dict[str, Any]]) -> None:
        """POST ``payload``; retry while the collector is unreachable, raise once it stays so
        (:meth:`answer`)."""
        await self.answer(path, payload)

    async def answer(
        self, path: str, payload: dict[str, Any] | list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """POST ``payload`` and return the collector's answer (its JSON object); retry while
        the collector is unreachable, raise once it stays so.

        Only failures that say nothing about the request are retried (no connection, a dropped
        connection, a timeout, 502/503/504). A 4xx is the request's fault and fails at once. A
        request that reached the collector before the connection dropped may be applied twice;
        that is harmless because the collector's documents have deterministic ids and its
        registrations are keyed by session and user.
        """
        for delay in (*self.retry_delays_s, None):
            try:
                return await self._post_once(path, payload)
            except _Retryable as exc:
                if delay is None:
                    raise CollectorUnavailable(exc.message) from exc
                self.retries += 1
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def monitoring_sample(self) -> int:
        """Ask the collector for a ``monitoringStats`` now; the sample's timestamp (ms).
        ``CollectorUnavailable`` when it cannot (monitoring off: 409)."""
        answer = await self.answer("/monitoring-sample")
        timestamp = answer.get("timestamp")
        if isinstance(timestamp, bool) or not isinstance(timestamp, int):
            raise CollectorUnavailable(f"collector /monitoring-sample answered {answer!r}")
        return timestamp

    async def _post_once(
        self, path: str, payload: dict[str, Any] | list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        try:
            async with self.http.post(
                url, json=payload, headers=self.headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                if response.status >= 300:
                    body = await response.text()
                    message = f"collector {path} answered {response.status}: {body}"
                    if response.status in RETRY_STATUSES:
                        raise _Retryable(message)
                    raise CollectorUnavailable(message)
                try:
                    answer = await response.json(content_type=None)
                except ValueError:  # an answer that is no JSON (a stand-in collector)
                    return {}
                return answer if isinstance(answer, dict) else {}
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise _Retryable(f"collector at {self.base_url} unreachable: {exc!r}") from exc
        except aiohttp.ClientError as exc:
            raise CollectorUnavailable(f"collector at {self.base_url} unreachable: {exc}") from exc

    async def health(self) -> dict[str, Any]:
        async with self.http.get(
            f"{self.base_url}/health", timeout=aiohttp.ClientTimeout(total=5)
        ) as response:
            body: dict[str, Any] = await response.json()
            return body
