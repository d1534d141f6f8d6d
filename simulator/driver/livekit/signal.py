"""LiveKit's signalling: protobuf ``SignalRequest``/``SignalResponse`` over one WebSocket.

The client opens ``/rtc?access_token=...`` (protocol v0 query parameters, two peer connections)
and the server answers with a ``JoinResponse`` first. After that the server pushes whatever
happens: subscriber offers, trickled candidates, participant updates, track publications, a
``LeaveRequest`` when it removes us. Requests have no transaction ids; a reply is recognised by
its kind and content (an ``answer`` by the offer's ``id``, a ``track_published`` by the track's
``cid``), so a waiter is registered *before* its request is sent (``expect``), as with Janus.

Pings: the client sends ``ping_req`` every ``JoinResponse.ping_interval`` seconds (5 in
v1.13.5) and the server answers ``pong_resp``; the server also pings at the WebSocket level,
which aiohttp answers by itself. Sources: livekit/protocol ``livekit_rtc.proto``,
livekit-server ``pkg/service/rtcservice.go`` (query parameters) and ``pkg/rtc`` (behaviour).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
from livekit.protocol import rtc as pb

log = logging.getLogger(__name__)

# Protocol 16: what current client SDKs speak. It gives unpublish notices (>6), fast start
# (>7), ``track_subscribed`` and ``request_response`` (>14); 17 would add packet trailers.
PROTOCOL_VERSION = 16
CONNECT_TIMEOUT_S = 15.0
REPLY_TIMEOUT_S = 15.0

Predicate = Callable[[pb.SignalResponse], bool]
OnMessage = Callable[[pb.SignalResponse], None]


class SignalError(RuntimeError):
    """LiveKit refused the connection or a request, or the signalling closed under us."""


@dataclass
class _Waiter:
    kind: str
    predicate: Predicate | None
    future: asyncio.Future[pb.SignalResponse]


def join_url(
    base_url: str,
    token: str,
    *,
    auto_subscribe: bool = False,
    protocol: int = PROTOCOL_VERSION,
    reconnect: bool = False,
) -> str:
    """The ``/rtc`` URL with the query parameters ``rtcservice.go`` reads for protocol v0.

    ``sdk`` is left out on purpose: LiveKit keys behaviour off known SDK names (SCTP zero
    checksum, codec changes, track events by RTP packet for Go); aiortc is none of them.

    ``browser=safari`` is how a client tells LiveKit v1.13.5 not to reuse subscriber
    transceivers (``clientinfo.go``: ``SupportsTransceiverReuse``; it also turns off Opus RED,
    which aiortc lacks, and AV1). aiortc cannot take a reused m-line: its receiver keeps the
    first track's RTX SSRC and one jitter buffer per receiver, so after an unsubscribe and a new
    subscribe the next track's video (a new SSRC on the same m-line) never decodes. Fresh
    m-lines per subscription are what Safari gets too.
    """
    query = {
        "access_token": token,
        "auto_subscribe": "1" if auto_subscribe else "0",
        "protocol": str(protocol),
        "adaptive_stream": "0",
        "os": "linux",
        "browser": "safari",
        "version": "rtcsim",
    }
    if reconnect:
        query["reconnect"] = "1"
    return f"{base_url.rstrip('/')}/rtc?{urlencode(query)}"


def kind_of(response: pb.SignalResponse) -> str:
    """Which field of the ``message`` oneof a response carries (``join``, ``offer``...)."""
    return response.WhichOneof("message") or ""


class SignalConnection:
    """One participant's signalling WebSocket, after LiveKit accepted the join."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        join: pb.JoinResponse,
        on_message: OnMessage,
        *,
        ping_interval_s: float | None = None,
    ) -> None:
        self.ws = ws
        self.join = join
        self.on_message = on_message
        self.closed = asyncio.Event()
        self.close_reason: str | None = None
        self.rtt_ms: int = 0
        self._waiters: list[_Waiter] = []
        self._send_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._pinging = True
        self.ping_interval_s = ping_interval_s or max(1, join.ping_interval or 5)

    @classmethod
    async def connect(
        cls,
        http: aiohttp.ClientSession,
        base_url: str,
        token: str,
        on_message: OnMessage,
        *,
        auto_subscribe: bool = False,
        timeout_s: float = CONNECT_TIMEOUT_S,
        ping_interval_s: float | None = None,
    ) -> SignalConnection:
        """Open the WebSocket and wait for the ``JoinResponse``.

        LiveKit answers a bad token or a refused join with an HTTP error before the upgrade,
        which does not say why; ``/rtc/validate`` with the same query does (e.g. ``invalid
        token``), and that goes into the ``SignalError``.
        ``ping_interval_s``: instead of the server's ``ping_interval`` (for tests).
        """
        url = join_url(base_url, token, auto_subscribe=auto_subscribe)
        try:
            ws = await http.ws_connect(
                url, timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0)
            )
        except aiohttp.WSServerHandshakeError as exc:
            why = await _validate(http, url)
            raise SignalError(
                f"LiveKit refused the join: HTTP {exc.status} {exc.message}"
                + (f": {why}" if why else "")
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise SignalError(f"cannot reach LiveKit at {base_url}: {exc}") from exc
        try:
            async with asyncio.timeout(timeout_s):
                first = await _receive(ws)
        except TimeoutError as exc:
            await ws.close()
            raise SignalError(f"LiveKit sent no JoinResponse within {timeout_s:g} s") from exc
        except SignalError:
            await ws.close()
            raise
        if kind_of(first) != "join":
            await ws.close()
            raise SignalError(f"LiveKit answered the join with {kind_of(first)!r}: {first}")
        conn = cls(ws, first.join, on_message, ping_interval_s=ping_interval_s)
        conn._tasks = [
            asyncio.create_task(conn._read_loop(), name="livekit-signal-read"),
            asyncio.create_task(conn._ping_loop(), name="livekit-signal-ping"),
        ]
        return conn

    # -- sending -------------------------------------------------------------------------------
    async def send(self, request: pb.SignalRequest) -> None:
        if self.closed.is_set():
            raise SignalError(f"signalling is closed ({self.close_reason})")
        async with self._send_lock:
            try:
                await self.ws.send_bytes(request.SerializeToString())
            except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
                raise SignalError(f"cannot send to LiveKit: {exc}") from exc

    def expect(
        self, kind: str, predicate: Predicate | None = None
    ) -> asyncio.Future[pb.SignalResponse]:
        """A future for the next response of ``kind`` that satisfies ``predicate``.

        Register it before sending the request it answers; a matched response is not also
        handed to ``on_message``.
        """
        future: asyncio.Future[pb.SignalResponse] = asyncio.get_running_loop().create_future()
        if self.closed.is_set():
            future.set_exception(SignalError(f"signalling is closed ({self.close_reason})"))
        else:
            self._waiters.append(_Waiter(kind, predicate, future))
        return future

    async def request(
        self,
        request: pb.SignalRequest,
        kind: str,
        predicate: Predicate | None = None,
        *,
        timeout_s: float = REPLY_TIMEOUT_S,
    ) -> pb.SignalResponse:
        """Send ``request`` and wait for the response of ``kind`` that answers it."""
        future = self.expect(kind, predicate)
        try:
            await self.send(request)
            async with asyncio.timeout(timeout_s):
                return await future
        except TimeoutError as exc:
            raise SignalError(
                f"LiveKit sent no {kind} within {timeout_s:g} s for {request.WhichOneof('message')}"
            ) from exc
        finally:
            self._drop(future)

    def stop_pings(self) -> None:
        """Send no more pings (a vanished client, or one about to leave)."""
        self._pinging = False

    async def close(self, reason: str = "closed by client") -> None:
        """Close the WebSocket (a ``LeaveRequest`` should go first) and stop the tasks."""
        self._mark_closed(reason)
        await self._stop_tasks()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5.0):
                await self.ws.close()

    async def abandon(self) -> None:
        """Stop reading and pinging without a goodbye, as a client whose network vanished:
        the socket stays open (no close frame, no FIN) until ``close`` releases it, so the
        server can only learn from its own timers that nobody is there."""
        self._mark_closed("abandoned by client")
        await self._stop_tasks()

    # -- receiving -----------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        try:
            while True:
                response = await _receive(self.ws)
                self._dispatch(response)
        except SignalError as exc:
            self._mark_closed(str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a handler bug must not leave waiters hanging silently
            log.exception("LiveKit signal reader failed")
            self._mark_closed(f"reader failed: {exc}")

    def _dispatch(self, response: pb.SignalResponse) -> None:
        kind = kind_of(response)
        log.debug("LiveKit sent %s", kind)
        if kind == "pong_resp":
            self.rtt_ms = max(0, int(time.time() * 1000) - response.pong_resp.last_ping_timestamp)
            return
        for waiter in list(self._waiters):
            if waiter.kind != kind or waiter.future.done():
                continue
            if waiter.predicate is None or waiter.predicate(response):
                self._waiters.remove(waiter)
                waiter.future.set_result(response)
                return
        try:
            self.on_message(response)
        except Exception:
            log.exception("handling LiveKit %s failed", kind)

    async def _ping_loop(self) -> None:
        while not self.closed.is_set():
            await asyncio.sleep(self.ping_interval_s)
            if not self._pinging or self.closed.is_set():
                continue
            now_ms = int(time.time() * 1000)
            ping = pb.SignalRequest(ping_req=pb.Ping(timestamp=now_ms, rtt=self.rtt_ms))
            try:
                await self.send(ping)
            except SignalError:
                return

    def _mark_closed(self, reason: str) -> None:
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_exception(SignalError(f"signalling closed: {reason}"))
        self._waiters.clear()

    def _drop(self, future: asyncio.Future[pb.SignalResponse]) -> None:
        self._waiters = [w for w in self._waiters if w.future is not future]

    async def _stop_tasks(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _validate(http: aiohttp.ClientSession, join: str) -> str:
    """What ``/rtc/validate`` says of a join URL LiveKit refused (its error text), or ''."""
    url = join.replace("/rtc?", "/rtc/validate?", 1).replace("ws://", "http://", 1)
    url = url.replace("wss://", "https://", 1)
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=5)) as reply:
            return (await reply.text()).strip()[:300]
    except (aiohttp.ClientError, TimeoutError, OSError):
        return ""


async def _receive(ws: aiohttp.ClientWebSocketResponse) -> pb.SignalResponse:
    """The next ``SignalResponse``; LiveKit sends binary protobuf frames (JSON only when asked
    for with ``format=json``, which rtcsim never does)."""
    message = await ws.receive()
    if message.type == aiohttp.WSMsgType.BINARY:
        response = pb.SignalResponse()
        try:
            response.ParseFromString(message.data)
        except Exception as exc:  # protobuf's DecodeError
            raise SignalError(f"LiveKit sent an unreadable message: {exc}") from exc
        return response
    if message.type in (
        aiohttp.WSMsgType.CLOSE,
        aiohttp.WSMsgType.CLOSING,
        aiohttp.WSMsgType.CLOSED,
    ):
        raise SignalError(f"LiveKit closed the signalling (code {ws.close_code})")
    if message.type == aiohttp.WSMsgType.ERROR:
        raise SignalError(f"signalling failed: {ws.exception()}")
    raise SignalError(f"unexpected WebSocket message {message.type!r} from LiveKit")
