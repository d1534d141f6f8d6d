"""Janus core API over HTTP: sessions, handles, transactions, long-poll and keepalive.

Janus answers a plugin ``message`` with an ``ack`` and delivers the plugin's reply later on the
session's long-poll; that event can even overtake the ``ack``. So every request registers its
transaction *before* it is posted, and one long-poll task per session routes what comes back:
replies to their waiting request, everything else (webrtcup, media, hangup, plugin
notifications) to the handle's event queue. See Janus docs, "RESTful, HTTP API".
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

LONG_POLL_TIMEOUT_S = 40.0  # Janus holds a long-poll about 30 s before it answers a keepalive
JANUS_SESSION_NOT_FOUND = 458  # janus.h: JANUS_ERROR_SESSION_NOT_FOUND
KEEPALIVE_INTERVAL_S = 4.0  # well below Janus's session_timeout (60 s)


class JanusError(RuntimeError):
    """Janus (or one of its plugins) refused a request."""

    def __init__(self, code: int, reason: str, request: str) -> None:
        super().__init__(f"Janus refused {request}: {reason} (code {code})")
        self.code = code
        self.reason = reason


def _transaction() -> str:
    return secrets.token_hex(8)


@dataclass
class PluginReply:
    """What a plugin answered: its ``plugindata.data`` and, for SDP exchanges, a JSEP."""

    data: JsonObject
    jsep: JsonObject | None = None


@dataclass
class JanusHandle:
    """One plugin handle; receives the asynchronous events Janus pushes for it."""

    session: JanusSession
    handle_id: int
    events: asyncio.Queue[JsonObject] = field(default_factory=asyncio.Queue)
    listeners: list[Callable[[JsonObject], None]] = field(default_factory=list)
    """Called with each pushed event (VideoRoom notifications: layer switches, talking)."""

    async def message(
        self, body: JsonObject, jsep: JsonObject | None = None, *, timeout_s: float = 20.0
    ) -> PluginReply:
        """Send a plugin request and wait for its reply, synchronous or not."""
        payload: JsonObject = {"janus": "message", "body": body}
        if jsep is not None:
            payload["jsep"] = jsep
        reply = await self.session.request(payload, handle_id=self.handle_id, timeout_s=timeout_s)
        plugindata = reply.get("plugindata", {})
        data: JsonObject = plugindata.get("data", {})
        if "error_code" in data:
            raise JanusError(
                int(data["error_code"]), str(data.get("error")), str(body.get("request"))
            )
        return PluginReply(data=data, jsep=reply.get("jsep"))

    async def wait_for(self, janus_kind: str, *, timeout_s: float = 20.0) -> JsonObject:
        """Wait for the next pushed event of one kind (e.g. ``webrtcup``), keeping others."""
        kept: list[JsonObject] = []
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    event = await self.events.get()
                    if event.get("janus") == janus_kind:
                        return event
                    kept.append(event)
        finally:
            for event in kept:
                self.events.put_nowait(event)

    async def detach(self) -> None:
        await self.session.request({"janus": "detach"}, handle_id=self.handle_id)
        self.session.handles.pop(self.handle_id, None)


class JanusSession:
    """One Janus session: in OpenVidu terms, one participant's connection."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, session_id: int) -> None:
        self.http = http
        self.base_url = base_url
        self.session_id = session_id
        self.handles: dict[int, JanusHandle] = {}
        self._pending: dict[str, asyncio.Future[JsonObject]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.closed = False

    @classmethod
    async def create(cls, http: aiohttp.ClientSession, base_url: str) -> JanusSession:
        reply = await _post(http, base_url, {"janus": "create", "transaction": _transaction()})
        session = cls(http, base_url, int(reply["data"]["id"]))
        session._tasks = [
            asyncio.create_task(session._long_poll(), name=f"janus-poll-{session.session_id}"),
            asyncio.create_task(session._keepalive(), name=f"janus-keepalive-{session.session_id}"),
        ]
        return session

    @property
    def url(self) -> str:
        return f"{self.base_url}/{self.session_id}"

    async def attach(self, plugin: str, opaque_id: str | None = None) -> JanusHandle:
        payload: JsonObject = {"janus": "attach", "plugin": plugin}
        if opaque_id is not None:
            payload["opaque_id"] = opaque_id
        reply = await self.request(payload)
        handle = JanusHandle(self, int(reply["data"]["id"]))
        self.handles[handle.handle_id] = handle
        return handle

    async def request(
        self,
        payload: JsonObject,
        *,
        handle_id: int | None = None,
        timeout_s: float = 20.0,
        ack_is_reply: bool = False,
    ) -> JsonObject:
        """POST a request; when Janus only acks it, wait for the reply on the long-poll
        (except for requests whose whole answer is the ack, such as ``keepalive``)."""
        transaction = _transaction()
        payload = {**payload, "transaction": transaction}
        url = self.url if handle_id is None else f"{self.url}/{handle_id}"
        waiter: asyncio.Future[JsonObject] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = waiter
        try:
            reply = await _post(self.http, url, payload)
            if reply.get("janus") != "ack" or ack_is_reply:
                return reply
            async with asyncio.timeout(timeout_s):
                event = await waiter
            if event.get("janus") == "error":
                error = event.get("error", {})
                raise JanusError(
                    int(error.get("code", 0)), str(error.get("reason")), payload["janus"]
                )
            return event
        finally:
            self._pending.pop(transaction, None)

    async def destroy(self) -> None:
        """End the session politely: Janus then tears down every handle it still has."""
        if self.closed:
            return
        try:
            await self.request({"janus": "destroy"})
        finally:
            await self.abandon()

    async def abandon(self) -> None:
        """Stop talking to Janus without a goodbye (an abrupt drop): no destroy, no keepalive."""
        self.closed = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception as exc:  # a poll that broke while we left must not fail the leave
                log.warning(
                    "janus session %s: %s ended with %r", self.session_id, task.get_name(), exc
                )

    async def _long_poll(self) -> None:
        timeout = aiohttp.ClientTimeout(total=LONG_POLL_TIMEOUT_S)
        while not self.closed:
            try:
                async with self.http.get(f"{self.url}?maxev=10", timeout=timeout) as response:
                    body = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("janus long-poll for session %s failed: %s", self.session_id, exc)
                await asyncio.sleep(0.5)
                continue
            if isinstance(body, dict) and body.get("janus") == "error":
                # 458: the session is gone (timed out or destroyed). Asking again at once
                # would hammer Janus with thousands of requests a second.
                log.warning("janus long-poll for session %s: %s", self.session_id, body)
                if (body.get("error") or {}).get("code") == JANUS_SESSION_NOT_FOUND:
                    self.closed = True
                    return
                await asyncio.sleep(0.5)
                continue
            # After a destroy Janus may answer a pending long-poll with an empty body.
            for event in body if isinstance(body, list) else [body]:
                if isinstance(event, dict):
                    self._route(event)

    def _route(self, event: JsonObject) -> None:
        if event.get("janus") == "keepalive":
            return
        waiter = self._pending.get(str(event.get("transaction")))
        if waiter is not None and not waiter.done() and event.get("janus") != "ack":
            waiter.set_result(event)
            return
        handle = self.handles.get(int(event.get("sender", 0) or 0))
        if handle is not None:
            for listener in handle.listeners:
                try:
                    listener(event)
                except Exception:  # a listener's bug must not stop the long-poll
                    log.exception("janus session %s: event listener failed", self.session_id)
            handle.events.put_nowait(event)
        elif event.get("janus") == "timeout":
            log.warning("janus session %s timed out", self.session_id)
            self.closed = True

    async def _keepalive(self) -> None:
        while not self.closed:
            await asyncio.sleep(KEEPALIVE_INTERVAL_S)
            try:
                await self.request({"janus": "keepalive"}, ack_is_reply=True)
            except (aiohttp.ClientError, TimeoutError, JanusError) as exc:
                log.warning("janus keepalive for session %s failed: %s", self.session_id, exc)


async def _post(http: aiohttp.ClientSession, url: str, payload: JsonObject) -> JsonObject:
    async with http.post(url, json=payload, timeout=aiohttp.ClientTimeout(total=20)) as response:
        reply: JsonObject = await response.json(content_type=None)
    if reply.get("janus") == "error":
        error = reply.get("error", {})
        raise JanusError(int(error.get("code", 0)), str(error.get("reason")), str(payload["janus"]))
    return reply


async def server_info(http: aiohttp.ClientSession, base_url: str) -> JsonObject:
    """Janus's ``/info``: used as the health check."""
    async with http.get(f"{base_url}/info", timeout=aiohttp.ClientTimeout(total=5)) as response:
        info: JsonObject = await response.json(content_type=None)
    return info
