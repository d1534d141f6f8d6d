"""A lean HTTP/1.1 sender for the benchmarks' feeders: POSTs on one keep-alive connection.

The ingest benchmark (``bench/collector_ingest.py``) measures the collector, but on a two-core
machine its feeder shares the CPU with the collector and Elasticsearch. aiohttp's client spent
about 0.25 ms of CPU per request, more than the collector's own handling of a client-stats post,
so the feeder's cost was charged to the collector. This sender writes each request as bytes it
prepared beforehand and reads back only the status line, the headers it needs and the body: the
same requests, in the same order, each waiting for its answer before the next, as Janus's event
handler and the simulator's participants send them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

MAX_HEADER_BYTES = 64 * 1024


class HttpPostError(RuntimeError):
    """The server answered something other than 200, or not HTTP/1.1 as expected."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str

    @classmethod
    def of(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"need http://host:port/path, got {url!r}")
        return cls(parts.hostname, parts.port, parts.path or "/")


def request_bytes(target: Target, authorization: str, body: bytes) -> bytes:
    """One complete ``POST`` with a JSON body, ready to be written as is."""
    head = (
        f"POST {target.path} HTTP/1.1\r\n"
        f"Host: {target.host}:{target.port}\r\n"
        f"Authorization: {authorization}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status, ``Content-Length`` and whether the server closes the connection after it."""
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
        raise HttpPostError(f"not an HTTP/1.x answer: {lines[0]!r}")
    length: int | None = None
    closes = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection":
            closes = value.strip().lower() == "close"
        elif name == "transfer-encoding":
            raise HttpPostError("chunked answers are not supported")
    if length is None:
        raise HttpPostError("answer without Content-Length")
    return int(status_line[1]), length, closes


class HttpPoster:
    """``async with HttpPoster(url) as p: await p.post(request)`` — one request at a time."""

    def __init__(self, url: str) -> None:
        self.target = Target.of(url)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    def request(self, authorization: str, body: bytes) -> bytes:
        return request_bytes(self.target, authorization, body)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                self.target.host, self.target.port, limit=MAX_HEADER_BYTES
            )
        return self._reader, self._writer

    async def post(self, request: bytes) -> bytes:
        """Send one prepared request, return the body of its 200 answer."""
        reader, writer = await self._connect()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status, length, closes = parse_head(head[:-4])
        body = await reader.readexactly(length)
        if closes:
            await self.close()
        if status != 200:
            raise HttpPostError(f"{self.target.path} answered {status}: {body[:300]!r}")
        return body

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()
        self._reader = self._writer = None

    async def __aenter__(self) -> HttpPoster:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
