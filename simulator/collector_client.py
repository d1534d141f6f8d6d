"""What the simulator tells the collector: identities and declared media, never outcomes.

The collector derives every outcome (who joined, what flowed, why it ended) from Janus's events.
The simulator only supplies what a media server cannot know: who the user is and what the
browser declared about its media (OpenVidu gets the same from its client SDK).
"""

from __future__ import annotations

from typing import Any

import aiohttp


class CollectorUnavailable(RuntimeError):
    """The collector's API refused or did not answer."""


class CollectorClient:
    def __init__(self, http: aiohttp.ClientSession, base_url: str, token: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}

    async def post(self, path: str, payload: dict[str, Any] | list[dict[str, Any]]) -> None:
        url = f"{self.base_url}{path}"
        try:
            async with self.http.post(
                url, json=payload, headers=self.headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                if response.status >= 300:
                    body = await response.text()
                    raise CollectorUnavailable(
                        f"collector {path} answered {response.status}: {body}"
                    )
        except aiohttp.ClientError as exc:
            raise CollectorUnavailable(f"collector at {self.base_url} unreachable: {exc}") from exc

    async def health(self) -> dict[str, Any]:
        async with self.http.get(
            f"{self.base_url}/health", timeout=aiohttp.ClientTimeout(total=5)
        ) as response:
            body: dict[str, Any] = await response.json()
            return body
